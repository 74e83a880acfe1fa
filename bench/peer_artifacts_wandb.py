"""wandb (offline) peer of the artifact benchmark: what logging an artifact costs without a server.

Run it with the wandb venv's python (bench/run.sh artifacts does):
    bench/work/venv-wandb/bin/python bench/peer_artifacts_wandb.py --data bench/work/artifacts-data \
        --work bench/work/artifacts/wandb --out bench/work/artifacts/wandb.jsonl

Each repeat is one child process with its own fresh WANDB_DIR, WANDB_CACHE_DIR, WANDB_CONFIG_DIR and
WANDB_DATA_DIR under --work (HOME is left alone). In it, one offline run per case:
    wandb.init(mode="offline") -> wandb.Artifact(name, type) -> add_dir(folder) / add_file(file)
    -> run.log_artifact(art) -> run.finish()
and the clock runs from wandb.Artifact(...) until finish() returns (init is timed apart and not counted):
the offline cost is hashing every file (MD5) and copying it into the staging folder
(WANDB_DATA_DIR/artifacts/staging, add_* with the default policy "mutable"), then writing the manifest to
the run's .wandb log. Cases: small_upload (the 1,000 files), small_reupload (the same unchanged folder
again, a new run, same artifact name), small_changed (one file of 1,000 differs), big_upload (the 1 GiB
file; only in the first --big-repeats repeats). Nothing is sent anywhere: an offline run cannot
download (no server), so the download cases are recorded as not measurable.
"""
import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import artifacts_common as C  # noqa: E402


def one_repeat(a, rep):
    """The child: every case of one repeat, in this process."""
    p = C.params(a.data)
    out = C.Out(a.out, "wandb")
    t = time.perf_counter()
    import wandb
    import_s = time.perf_counter() - t
    staging = os.path.join(os.environ["WANDB_DATA_DIR"], "artifacts", "staging")
    small, changed, big = (os.path.join(a.data, x) for x in ("small", "small-changed", "big.bin"))

    cases = [("small_upload", "small-files", small, p["small_bytes"], p["small_n"]),
             ("small_reupload", "small-files", small, p["small_bytes"], p["small_n"]),
             ("small_changed", "small-files", changed, p["small_bytes"], p["small_n"])]
    if rep <= a.big_repeats:
        cases.append(("big_upload", "big-file", big, p["big_bytes"], 1))
    for case, name, path, nbytes, files in cases:
        t0 = time.perf_counter()
        run = wandb.init(project="bench-artifacts", name=f"{case}-{rep}", dir=os.environ["WANDB_DIR"], mode="offline",
                         settings=wandb.Settings(x_disable_stats=True))
        t1 = time.perf_counter()
        staged0 = C.tree_stats(staging)
        art = wandb.Artifact(name, type="dataset")
        if os.path.isdir(path):
            art.add_dir(path)
        else:
            art.add_file(path)
        t2 = time.perf_counter()
        run.log_artifact(art)
        t3 = time.perf_counter()
        run.finish()
        t4 = time.perf_counter()
        staged1 = C.tree_stats(staging)
        entries = len(art.manifest.entries)
        out.case(case, rep, t4 - t1, nbytes, files, ok=entries == files,
                 add_s=t2 - t1, log_artifact_s=t3 - t2, finish_s=t4 - t3, init_s=t1 - t0, import_s=import_s,
                 manifest_entries=entries,
                 staged_files=staged1[0] - staged0[0], staged_bytes=staged1[1] - staged0[1])


def main():
    ap = C.args(__doc__.split("\n")[0])
    ap.add_argument("--rep", type=int, default=0, help=argparse.SUPPRESS)
    a = ap.parse_args()
    a.data, a.work, a.out = (os.path.abspath(x) for x in (a.data, a.work, a.out))
    C.exit_on_sigterm()
    if a.rep:
        one_repeat(a, a.rep)
        return
    p = C.params(a.data)
    C.fresh(a.work)
    import importlib.metadata as md
    out = C.Out(a.out, "wandb")
    out.write({"case": "meta", "version": md.version("wandb"), "python": sys.version.split()[0],
               "repeats": a.repeats, "big_repeats": min(a.big_repeats, a.repeats), "params": p,
               "how": "offline run; clock from wandb.Artifact() to run.finish() returning; init not counted"})
    failed = 0
    for rep in range(1, a.repeats + 1):
        d = C.fresh(os.path.join(a.work, f"rep{rep}"))
        env = dict(os.environ, WANDB_MODE="offline", WANDB_SILENT="true", WANDB_DISABLE_GIT="true",
                   WANDB_DIR=C.fresh(os.path.join(d, "dir")), WANDB_CACHE_DIR=C.fresh(os.path.join(d, "cache")),
                   WANDB_CONFIG_DIR=C.fresh(os.path.join(d, "config")), WANDB_DATA_DIR=C.fresh(os.path.join(d, "data")),
                   WANDB_ARTIFACT_DIR=C.fresh(os.path.join(d, "artifacts")))
        cmd = [sys.executable, os.path.abspath(__file__), "--data", a.data, "--work", a.work, "--out", a.out,
               "--repeats", str(a.repeats), "--big-repeats", str(a.big_repeats), "--rep", str(rep)]
        with open(os.path.join(a.work, f"rep{rep}.log"), "w") as log:
            rc = subprocess.run(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=1800).returncode
        print(f"wandb repeat {rep}: exit {rc}", file=sys.stderr, flush=True)
        if rc != 0:
            failed += 1
            out.write({"case": "error", "rep": rep, "why": f"repeat {rep} exited {rc}; see {a.work}/rep{rep}.log"})
        # the staged copies (1 GiB and more) are not kept
        C.fresh(d)
        os.rmdir(d)
    for case in ("small_download", "big_download"):
        out.unmeasurable(case, "offline runs have no server to download from (`use_artifact().download()` and "
                               "`wandb.Api().artifact()` need one); the files stay staged locally until `wandb sync`")
    sys.exit(1 if failed == a.repeats else 0)


if __name__ == "__main__":
    main()
