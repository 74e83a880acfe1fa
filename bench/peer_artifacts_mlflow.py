"""MLflow peer of the artifact benchmark: its artifact proxy (`mlflow server --serve-artifacts`) on 127.0.0.1.

Run it with the MLflow venv's python (bench/run.sh artifacts does):
    bench/work/venv-mlflow/bin/python bench/peer_artifacts_mlflow.py --data bench/work/artifacts-data \
        --work bench/work/artifacts/mlflow --out bench/work/artifacts/mlflow.jsonl

Each repeat starts its own `mlflow server --serve-artifacts --artifacts-destination DIR` (SQLite backend
store, fresh folders, free port on 127.0.0.1), stops it by PID at the end, and times, in the client:
    small_upload    mlflow.log_artifacts(the 1,000-file folder, artifact_path="small") into a new run
    small_reupload  the same unchanged folder again, into a second run: MLflow has no content addressing, every
                    byte goes again (what was written to the destination folder is recorded to show it)
    small_changed   the folder with one file of 1,000 changed, into a third run (again everything)
    small_download  mlflow.artifacts.download_artifacts(run_id=<first run>, artifact_path="small", dst_path=fresh)
    big_upload      mlflow.log_artifact(the 1 GiB file, artifact_path="big") into a fourth run
    big_download    download_artifacts of it to a fresh folder
(the 1 GiB cases only in the first --big-repeats repeats). Run creation is not counted. Before the first case
as many other small files go up and down once (recorded as "warmup"): a fresh server is 2-3x slower for its
first ~1,000 artifact requests, and "first upload" is meant to measure the files, not a cold server. Downloads are checked
(file count and bytes; the 1 GiB file's sha256) after the clock stops.
"""
import os
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import artifacts_common as C  # noqa: E402

os.environ["MLFLOW_ENABLE_ASYNC_LOGGING"] = "false"
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "900")


def start_server(d):
    port = C.free_port()
    url = f"http://127.0.0.1:{port}"
    mlflow_bin = os.path.join(os.path.dirname(sys.executable), "mlflow")
    srv = C.Server([mlflow_bin, "server", "--backend-store-uri", f"sqlite:///{d}/mlflow.db",
                    "--serve-artifacts", "--artifacts-destination", f"{d}/destination",
                    "--host", "127.0.0.1", "--port", str(port)],
                   os.path.join(os.path.dirname(d), f"{os.path.basename(d)}-server.log"))
    deadline = time.time() + 180
    while True:
        if not srv.alive():
            srv.stop()
            raise RuntimeError(f"mlflow server exited; see {d}-server.log")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if time.time() > deadline:
            srv.stop()
            raise RuntimeError("mlflow server did not answer /health within 180 s")
        time.sleep(0.25)
    srv.startup_s = time.perf_counter() - srv.t0
    return srv, url


def one_repeat(a, p, rep, out):
    import mlflow
    d = C.fresh(os.path.join(a.work, f"rep{rep}"))
    srv, url = start_server(d)
    try:
        time.sleep(5)  # the workers and job runner finish starting: not inside the first measurement
        mlflow.set_tracking_uri(url)
        exp = mlflow.create_experiment(f"artifacts-{rep}")
        dest = os.path.join(d, "destination")
        small, changed, big = (os.path.join(a.data, x) for x in ("small", "small-changed", "big.bin"))
        runs = {}
        # warm-up, apart from the cases: as many other small files (fresh random bytes) up and down. A fresh
        # `mlflow server` serves its first ~1,000 artifact requests 2-3x slower than the next (its workers warming
        # up); without this the first case would measure that, not the files. Timed and recorded as "warmup".
        warm = C.fresh(os.path.join(d, "warm-up-files"))
        for i in range(p["small_n"]):
            with open(os.path.join(warm, f"w{i:04d}.bin"), "wb") as f:
                f.write(os.urandom(p["small_kib"] * 1024))
        with mlflow.start_run(experiment_id=exp, run_name="warm-up") as run:
            up_s, _ = C.timed(lambda: mlflow.log_artifacts(warm, artifact_path="warm-up"))
        down_s, _ = C.timed(lambda: mlflow.artifacts.download_artifacts(
            run_id=run.info.run_id, artifact_path="warm-up", dst_path=C.fresh(os.path.join(d, "warm-up"))))
        out.write({"case": "warmup", "rep": rep, "files": p["small_n"], "upload_s": up_s, "download_s": down_s,
                   "server_start_s": srv.startup_s})

        def upload(case, fn, nbytes, files):
            run = mlflow.start_run(experiment_id=exp, run_name=case)
            before = C.tree_stats(dest)
            try:
                secs, _ = C.timed(fn)
            finally:
                mlflow.end_run()
            after = C.tree_stats(dest)
            runs[case] = run.info.run_id
            written = (after[0] - before[0], after[1] - before[1])
            # a first upload must have written everything; a later one's figure is recorded (MLflow does not deduplicate)
            out.case(case, rep, secs, nbytes, files, ok=case not in ("small_upload", "big_upload") or written == (files, nbytes),
                     written_files=written[0], written_bytes=written[1], server_start_s=srv.startup_s)

        def download(case, run_case, path, check, nbytes, files):
            dst = C.fresh(os.path.join(d, "download-" + case))
            secs, local = C.timed(lambda: mlflow.artifacts.download_artifacts(
                run_id=runs[run_case], artifact_path=path, dst_path=dst))
            ok, why = check(local)
            out.case(case, rep, secs, nbytes, files, ok=ok, why=why)
            C.fresh(dst)

        upload("small_upload", lambda: mlflow.log_artifacts(small, artifact_path="small"), p["small_bytes"], p["small_n"])
        upload("small_reupload", lambda: mlflow.log_artifacts(small, artifact_path="small"), p["small_bytes"], p["small_n"])
        upload("small_changed", lambda: mlflow.log_artifacts(changed, artifact_path="small"), p["small_bytes"], p["small_n"])
        download("small_download", "small_upload", "small", lambda local: C.check_small(local, p), p["small_bytes"], p["small_n"])
        if rep <= a.big_repeats:
            upload("big_upload", lambda: mlflow.log_artifact(big, artifact_path="big"), p["big_bytes"], 1)
            download("big_download", "big_upload", "big",
                     lambda local: C.check_big(C.find_file(local, "big.bin") or "", p), p["big_bytes"], 1)
    finally:
        srv.stop()
        C.fresh(d)  # the destination holds 1 GiB and more per repeat: not kept
        os.rmdir(d)


def main():
    a = C.args(__doc__.split("\n")[0]).parse_args()
    a.data, a.work, a.out = (os.path.abspath(x) for x in (a.data, a.work, a.out))
    C.exit_on_sigterm()
    p = C.params(a.data)
    C.fresh(a.work)
    import importlib.metadata as md
    out = C.Out(a.out, "mlflow")
    out.write({"case": "meta", "version": md.version("mlflow"), "python": sys.version.split()[0],
               "repeats": a.repeats, "big_repeats": min(a.big_repeats, a.repeats), "params": p,
               "how": "mlflow server --serve-artifacts (SQLite backend store), fresh per repeat; client "
                      "log_artifacts / log_artifact / download_artifacts; run creation not counted"})
    failed = 0
    for rep in range(1, a.repeats + 1):
        try:
            one_repeat(a, p, rep, out)
        except Exception as e:  # noqa: BLE001 - record it and go on with the next repeat
            failed += 1
            out.write({"case": "error", "rep": rep, "why": repr(e)[:500]})
        print(f"mlflow repeat {rep} done", file=sys.stderr, flush=True)
    sys.exit(1 if failed == a.repeats else 0)


if __name__ == "__main__":
    main()
