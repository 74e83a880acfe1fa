"""heron workload in the peers' shape (../shared/bench/peers/bench_<peer>.py, same arguments, same
common.py timing): heron.init -> N x run.log(dict of K floats) -> finish; read-back through heron.Api().

--backend ''|offline   mode="offline", run folders under --dir (no server)
--backend http://127.0.0.1:PORT   online against that server; the API key comes from HERON_API_KEY
--call run|module      run.log (bound once, like bench_wandb.py) or the wandb-style module function heron.log
read: times heron.Api().run(path).series("m0") (full resolution, columnar) and
      run.history(keys=["m0"], samples=None, pandas=False) of the run the last online `log` wrote in --dir;
      the first read in the process, then --reads warm reads (medians reported).
The peers' common.py is imported from $BENCH_PEERS_DIR (default ../shared/bench/peers next to the repo).
"""
import os
import statistics
import sys
import time

PEERS = os.environ.get("BENCH_PEERS_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "bench", "peers")
if not os.path.exists(os.path.join(PEERS, "common.py")):
    sys.exit(f"sdk_heron.py: no common.py in {PEERS}; set BENCH_PEERS_DIR to the peers' benchmark folder")
sys.path.insert(0, PEERS)
import common as C  # noqa: E402


def extra(p):
    p.add_argument("--call", choices=["run", "module"], default="run")
    p.add_argument("--reads", type=int, default=10, help="warm reads after the first one (read mode)")


a = C.args(extra)
os.makedirs(a.dir, exist_ok=True)
D = os.path.abspath(a.dir)
ONLINE = a.backend.startswith("http")
if ONLINE:
    os.environ["HERON_BASE_URL"] = a.backend
os.environ["HERON_DIR"] = D
RID = os.path.join(D, "run_path.txt")
t_imp0 = time.perf_counter()
import heron  # noqa: E402
t_imp1 = time.perf_counter()
P0 = C.process_start_wall()


def median(xs):
    return statistics.median(xs) if xs else None


if a.mode in ("log", "init"):
    t_init0 = time.perf_counter()
    # system metrics off (same for every peer); everything else default (console capture, git and
    # host metadata, the requirements.txt thread)
    run = heron.init(project="bench", name="run0", mode="online" if ONLINE else "offline", dir=D,
                     settings=heron.Settings(x_disable_stats=True))
    t_ready = time.perf_counter(); ready_wall = time.time()
    res = {"import_s": t_imp1 - t_imp0, "init_call_s": t_ready - t_init0, "start_to_ready_s": ready_wall - P0,
           "call": a.call, "online": ONLINE, "heron_version": heron.__version__, "run_mode": run.mode}
    if a.mode == "log":
        nm = C.names(a.metrics)
        if a.call == "run":
            log = run.log
            t0 = time.perf_counter()
            for i in range(a.steps):
                x = i * 1e-3
                log({m: x + j for j, m in enumerate(nm)})
            t1 = time.perf_counter()
        else:
            t0 = time.perf_counter()
            for i in range(a.steps):
                x = i * 1e-3
                heron.log({m: x + j for j, m in enumerate(nm)})
            t1 = time.perf_counter()
        mem = C.mem_snapshot()
        path = run.path
        run_dir = run.dir
        run.finish()
        t2 = time.perf_counter()
        with open(RID, "w") as f:
            f.write(path)
        base = C.baseline_loop(a.steps, a.metrics)
        disk, files = C.du(run_dir)
        res.update(loop_s=t1 - t0, us_per_call=(t1 - t0) / a.steps * 1e6, baseline_us=base / a.steps * 1e6,
                   finish_s=t2 - t1, mem=mem, disk_bytes=disk, files=files, path=path)
        if ONLINE:
            # what the server has after finish() returned: every row, and the last value intact
            try:
                steps, values, _ = heron.Api(base_url=a.backend).run(path).series("m0")
                want_last = (a.steps - 1) * 1e-3
                res.update(rows_m0=len(steps), last_ok=bool(len(values) and abs(values[-1] - want_last) < 1e-9))
            except Exception as e:  # noqa: BLE001 - the log figures stand; the check is reported as failed
                res.update(rows_m0=None, check_error=f"{type(e).__name__}: {e}"[:300])
    else:
        run.finish()
        res["finish_s"] = time.perf_counter() - t_ready
    C.emit(a, "heron", res)
elif a.mode == "read":
    if not ONLINE:
        C.emit(a, "heron", {"read_s": None, "note": "read needs --backend http://...: heron.Api reads from a server"})
        sys.exit(0)
    path = open(RID).read().strip()

    def series_read():
        t0 = time.perf_counter()
        r = heron.Api(base_url=a.backend).run(path)
        t1 = time.perf_counter()
        steps, values, _ = r.series("m0")
        t2 = time.perf_counter()
        return t2 - t0, t2 - t1, len(steps), r

    def history_read(r):
        t0 = time.perf_counter()
        rows = r.history(keys=["m0"], samples=None, pandas=False)
        return time.perf_counter() - t0, len(rows)

    res = {"path": path}
    full, only = [], []
    try:
        first_s, _, points, _ = series_read()
        for _ in range(max(1, a.reads)):
            s_full, s_only, _, _ = series_read()
            full.append(s_full); only.append(s_only)
        res.update(read_s=median(full), read_first_s=first_s, read_series_only_s=median(only), read_min_s=min(full),
                   read_max_s=max(full), reads=len(full), points=points)
    except Exception as e:  # noqa: BLE001 - e.g. a server without the /history/series route: still time history()
        res.update(read_s=None, series_error=f"{type(e).__name__}: {e}"[:300])
    r = heron.Api(base_url=a.backend).run(path)
    h_first_s, h_rows = history_read(r)
    hist = [history_read(r)[0] for _ in range(max(1, min(a.reads, 3)))]
    res.update(history_s=median(hist), history_first_s=h_first_s, history_reads=len(hist), history_rows=h_rows)
    C.emit(a, "heron", res)
