"""Heron side of the artifact benchmark (stdlib only; run with any python3 >= 3.8):
`heron artifact put` / `heron artifact get` against a release `heron server` on 127.0.0.1.

    python3 bench/artifacts_heron.py --heron target/release/heron --data bench/work/artifacts-data \
        --work bench/work/artifacts/heron --out bench/work/artifacts/heron.jsonl
    python3 bench/artifacts_heron.py --heron target/release/heron --work /tmp/h --out /tmp/h.jsonl --check-server
        (only starts and stops the server: a test of that logic, no artifact command needed)

Each repeat starts its own server the way bench/run.sh's start_server does (`heron server --host 127.0.0.1
--port 0 --data DIR`, HERON_BOOTSTRAP_API_KEY, the URL read from its "listening on" line, 2 s to settle),
with a fresh data folder, and stops it by PID (SIGTERM; SIGKILL after 30 s). Every CLI call gets
HERON_BASE_URL and HERON_API_KEY, and XDG_CONFIG_HOME / XDG_CACHE_HOME / XDG_DATA_HOME under the repeat's
folder (no credentials file of the user is read or written). Timed, as the wall time of one CLI process each:
    small_upload    heron artifact put small/ --name small-files --type dataset --project bench-artifacts  (v0)
    small_reupload  the same again, unchanged: every file is hashed, the server already holds every blob, and
                    no version is made (the answer names v0 again)
    small_changed   small-changed/ (one file of 1,000 differs) under the same name: v1, one blob uploaded
    small_download  heron artifact get ENTITY/bench-artifacts/small-files:v0 --root FRESH with a fresh
                    HERON_CACHE_DIR (so nothing comes from the cache)
    big_upload      heron artifact put big.bin --name big-file ...  (only in the first --big-repeats repeats)
    big_download    heron artifact get ...big-file:v0 --root FRESH, fresh HERON_CACHE_DIR
The uploads share one HERON_CACHE_DIR per repeat (one user's machine: whatever the CLI keeps there, such as
hashes of files it has seen, counts). After each upload the bytes under the server's data folder are recorded
(the blob store: a deduplicated re-upload adds none). Downloads are checked after the clock stops (file
count, bytes, the changed file; the 1 GiB file's sha256).
"""
import json
import os
import re
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import artifacts_common as C  # noqa: E402

REF = re.compile(r"([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+):(v\d+)")
PROJECT = "bench-artifacts"


def vm_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def start_server(heron, d, api_key):
    """(Server, base URL); raises with the server's last stderr line if it does not come up in 30 s."""
    data = os.path.join(d, "data")
    env = {k: v for k, v in os.environ.items() if k not in ("HERON_BASE_URL", "HERON_API_KEY")}
    env.update(HERON_BOOTSTRAP_API_KEY=api_key, HERON_LOG="warn", XDG_CONFIG_HOME=C.fresh(os.path.join(d, "xdg-server")))
    stdout_log = os.path.join(os.path.dirname(d), "logs", os.path.basename(d) + "-server.log")
    srv = C.Server([heron, "server", "--host", "127.0.0.1", "--port", "0", "--data", data], stdout_log, env=env)
    url = None
    for _ in range(300):
        try:
            with open(stdout_log) as f:
                m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", f.read())
            if m:
                url = m.group(1)
                break
        except OSError:
            pass
        if not srv.alive():
            break
        time.sleep(0.1)
    if url is None:
        srv.stop()
        with open(stdout_log) as f:
            last = (f.read().strip().splitlines() or ["(no output)"])[-1]
        raise RuntimeError(f"heron server did not start: {last[:200]}")
    with urllib.request.urlopen(f"{url}/api/v1/health", timeout=10) as r:
        health = json.loads(r.read())
    srv.startup_s = time.perf_counter() - srv.t0
    srv.version = health.get("version")
    time.sleep(2)  # idle before the first measurement, as run.sh's start_server does
    return srv, url, data


def cli_available(heron):
    """(True, "") when `heron artifact` exists in this binary, else (False, why)."""
    if not os.access(heron, os.X_OK):
        return False, f"{heron} is not built (`cargo build --release -p heron-cli`)"
    r = subprocess.run([heron, "artifact", "--help"], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        why = (r.stderr.strip().splitlines() or ["?"])[0]
        return False, f"`heron artifact` is not in this build ({why[:160]})"
    return True, ""


def check_server(a):
    """Start and stop the server once; one JSON line saying how it went."""
    out = C.Out(a.out, "heron")
    d = C.fresh(os.path.join(a.work, "check"))
    t = time.perf_counter()
    srv, url, data = start_server(a.heron, d, a.api_key)
    pid = srv.pid
    start_s = time.perf_counter() - t
    alive_before = srv.alive()
    t = time.perf_counter()
    srv.stop()
    stop_s = time.perf_counter() - t
    gone = not os.path.exists(f"/proc/{pid}") or C._gone(pid)
    out.write({"case": "server_check", "url": url, "version": srv.version, "pid": pid, "start_s": start_s,
               "stop_s": stop_s, "alive_before_stop": alive_before, "exited": gone, "exit_code": srv.proc.returncode,
               "data_files": C.tree_stats(data)[0]})
    return 0 if alive_before and gone else 1


def one_repeat(a, p, rep, out):
    d = C.fresh(os.path.join(a.work, f"rep{rep}"))
    srv, url, data = start_server(a.heron, d, a.api_key)
    try:
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("HERON_")}
        base_env.update(HERON_BASE_URL=url, HERON_API_KEY=a.api_key, HERON_LOG="warn",
                        HERON_DIR=os.path.join(d, "heron-dir"),
                        XDG_CONFIG_HOME=C.fresh(os.path.join(d, "xdg-config")),
                        XDG_CACHE_HOME=C.fresh(os.path.join(d, "xdg-cache")),
                        XDG_DATA_HOME=C.fresh(os.path.join(d, "xdg-data")))
        put_cache = C.fresh(os.path.join(d, "cache-put"))
        small, changed, big = (os.path.join(a.data, x) for x in ("small", "small-changed", "big.bin"))

        def cli(args, cache, log_name):
            env = dict(base_env, HERON_CACHE_DIR=cache)
            t = time.perf_counter()
            r = subprocess.run([a.heron, "artifact", *args], env=env, capture_output=True, text=True, timeout=1800)
            secs = time.perf_counter() - t
            with open(os.path.join(a.work, "logs", f"rep{rep}-{log_name}.log"), "w") as f:
                f.write(f"$ heron artifact {' '.join(args)}\nexit {r.returncode} in {secs:.3f} s\n"
                        f"--- stdout\n{r.stdout}\n--- stderr\n{r.stderr}\n")
            return secs, r

        def put(case, path, name, nbytes, files, expect_version):
            before = C.tree_stats(data)
            secs, r = cli(["put", path, "--name", name, "--type", "dataset", "--project", PROJECT], put_cache, case)
            after = C.tree_stats(data)
            m = REF.search(r.stdout)
            ref = f"{m.group(1)}:{m.group(2)}" if m else None
            ok, why = r.returncode == 0 and m is not None, ""
            if r.returncode != 0:
                why = f"exit {r.returncode}: {(r.stderr.strip().splitlines() or [''])[-1][:200]}"
            elif m is None:
                why = f"no entity/project/name:vN in its output: {r.stdout.strip()[:200]!r}"
            elif m.group(2) != expect_version:
                ok, why = False, f"answered {ref}, expected {expect_version}"
            out.case(case, rep, secs, nbytes, files, ok=ok, why=why, ref=ref,
                     store_bytes_added=after[1] - before[1], store_files_added=after[0] - before[0],
                     server_start_s=srv.startup_s)
            return ref

        def get(case, ref, check, nbytes, files):
            root = C.fresh(os.path.join(d, "get-" + case))
            cache = C.fresh(os.path.join(d, "cache-" + case))
            if ref is None:
                out.write({"case": "error", "rep": rep, "why": f"{case}: nothing to download (its upload failed)"})
                return
            secs, r = cli(["get", ref, "--root", root], cache, case)
            ok, why = (r.returncode == 0, f"exit {r.returncode}: {(r.stderr.strip().splitlines() or [''])[-1][:200]}")
            if ok:
                ok, why = check(root)
            out.case(case, rep, secs, nbytes, files, ok=ok, why=why, ref=ref)
            C.fresh(root)
            C.fresh(cache)

        def small_root_check(root):
            f0 = C.find_file(root, p["changed_path"])
            return C.check_small(os.path.dirname(f0), p) if f0 else (False, f"no {p['changed_path']} under {root}")

        v0 = put("small_upload", small, "small-files", p["small_bytes"], p["small_n"], "v0")
        put("small_reupload", small, "small-files", p["small_bytes"], p["small_n"], "v0")
        put("small_changed", changed, "small-files", p["small_bytes"], p["small_n"], "v1")
        get("small_download", v0, small_root_check, p["small_bytes"], p["small_n"])
        if rep <= a.big_repeats:
            b0 = put("big_upload", big, "big-file", p["big_bytes"], 1, "v0")
            get("big_download", b0, lambda root: C.check_big(C.find_file(root, "big.bin") or "", p), p["big_bytes"], 1)
        out.write({"case": "server_memory", "rep": rep, "rss_kb": vm_kb(srv.pid, "VmRSS"), "hwm_kb": vm_kb(srv.pid, "VmHWM")})
    finally:
        srv.stop()
        C.fresh(d)  # the store holds 1 GiB and more per repeat: not kept (the logs are in WORK/logs)
        os.rmdir(d)


def main():
    ap = C.args(__doc__.split("\n")[0])
    ap.add_argument("--heron", default="target/release/heron")
    ap.add_argument("--api-key", default="heron_bench_key_0123456789abcdef")
    ap.add_argument("--check-server", action="store_true", help="only start and stop the server once")
    a = ap.parse_args()
    a.data, a.work, a.out = (os.path.abspath(x) for x in (a.data, a.work, a.out))
    C.exit_on_sigterm()
    a.heron = os.path.abspath(a.heron)
    C.fresh(a.work)
    os.makedirs(os.path.join(a.work, "logs"))
    if a.check_server:
        sys.exit(check_server(a))
    p = C.params(a.data)
    out = C.Out(a.out, "heron")
    ok, why = cli_available(a.heron)
    if not ok:
        out.write({"case": "unavailable", "why": why})
        # the server start / stop is still exercised, so that part of this script stays tested
        check_server(a)
        sys.exit(3)
    v = subprocess.run([a.heron, "--version"], capture_output=True, text=True, timeout=30)
    out.write({"case": "meta", "version": v.stdout.strip() if v.returncode == 0 else None, "repeats": a.repeats, "big_repeats": min(a.big_repeats, a.repeats),
               "params": p, "how": "release heron server on 127.0.0.1, fresh per repeat; wall time of each "
                                   "`heron artifact put|get` process"})
    failed = 0
    for rep in range(1, a.repeats + 1):
        try:
            one_repeat(a, p, rep, out)
        except Exception as e:  # noqa: BLE001 - record it and go on with the next repeat
            failed += 1
            out.write({"case": "error", "rep": rep, "why": repr(e)[:500]})
        print(f"heron repeat {rep} done", file=sys.stderr, flush=True)
    sys.exit(1 if failed == a.repeats else 0)


if __name__ == "__main__":
    main()
