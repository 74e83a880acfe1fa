"""MLflow peer figures for P3, P4, P6 and P7 (DESIGN §5), measured against an `mlflow server` on a
SQLite backend that this script starts on 127.0.0.1 and stops by PID.

Run it with the MLflow venv's python:
    bench/work/venv-mlflow/bin/python bench/peer_mlflow.py --work bench/work/mlflow --out bench/work/mlflow.json

P3  MlflowClient.log_batch, 1000 metrics (100 steps x 10 keys) per call, one client, for --p3-secs.
P4  the UI's bulk read GET /ajax-api/2.0/mlflow/metrics/get-history-bulk-interval over --p4-runs runs
    x --p4-steps steps of one key (max_results=1000 per run, MLflow's own sampling), after loading
    that data with log_batch; one planted spike is checked for in the answer.
P6  idle memory of the server's whole process tree (RSS summed, PSS summed), and the tree's peak
    RSS sampled every 100 ms during P3.
P7  MlflowClient.search_runs(filter, order_by=["metrics.val_loss DESC"], max_results=100) over the
    runs it can create in --p7-secs. MLflow params only compare with =, !=, LIKE, ILIKE, so `lr` is
    logged both as a param and as a metric and the numeric filter is on metrics.lr.
Every loop is bounded in count and time. Prints one JSON object (also written to --out).
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

os.environ["MLFLOW_ENABLE_ASYNC_LOGGING"] = "false"
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "300")

SPIKE = 1e9


# ---------------------------------------------------------------------------------------------
# /proc helpers


def status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(pid):
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, stack = [], [pid]
    while stack:
        for c in children.get(stack.pop(), []):
            out.append(c)
            stack.append(c)
    return out


def tree_mem(pid, with_pss=True):
    procs = [pid] + descendants(pid)
    rss = sum(status_kb(p, "VmRSS") for p in procs)
    pss = sum(pss_kb(p) for p in procs) if with_pss else None
    return {"procs": len(procs), "rss_kb": rss, "pss_kb": pss}


class TreeSampler:
    """Samples the summed RSS of a process tree every 100 ms on a thread."""

    def __init__(self, pid):
        self.pid, self.peak_kb, self.samples = pid, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set() and self.samples < 36000:
            self.peak_kb = max(self.peak_kb, tree_mem(self.pid, with_pss=False)["rss_kb"])
            self.samples += 1
            self._stop.wait(0.1)

    def finish(self):
        self._stop.set()
        self._thread.join(5)
        return self.peak_kb, self.samples


def machine_busy_ticks():
    """Busy CPU time of the whole machine in clock ticks (/proc/stat `cpu` line without idle, iowait)."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
        return sum(v) - v[3] - v[4]
    except (OSError, ValueError, IndexError):
        return 0


def tree_cpu_s(pid):
    """CPU time (user+system, with reaped children) of a process and its live descendants, in s."""
    total = 0
    for p in [pid] + descendants(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                v = f.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in v[11:15])
        except (OSError, ValueError, IndexError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def own_cpu_s():
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def pctl(sorted_ms, p):
    if not sorted_ms:
        return None
    k = max(1, min(len(sorted_ms), -(-len(sorted_ms) * p // 100)))
    return sorted_ms[int(k) - 1]


def latency(ms):
    ms = sorted(ms)
    return {"n": len(ms), "p50_ms": pctl(ms, 50), "p95_ms": pctl(ms, 95),
            "min_ms": ms[0] if ms else None, "max_ms": ms[-1] if ms else None,
            "mean_ms": statistics.fmean(ms) if ms else None}


# ---------------------------------------------------------------------------------------------
# the server


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MlflowServer:
    def __init__(self, work, port):
        self.work, self.port = work, port
        self.url = f"http://127.0.0.1:{port}"
        mlflow_bin = os.path.join(os.path.dirname(sys.executable), "mlflow")
        self.log = open(os.path.join(work, "mlflow-server.log"), "w")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            [mlflow_bin, "server", "--backend-store-uri", f"sqlite:///{work}/mlflow.db",
             "--default-artifact-root", f"{work}/artifacts", "--host", "127.0.0.1", "--port", str(port)],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.pid = self.proc.pid
        deadline = time.time() + 180
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mlflow server exited with {self.proc.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                self.stop()
                raise RuntimeError("mlflow server did not answer /health within 180 s")
            time.sleep(0.25)
        self.startup_s = time.perf_counter() - t0

    def stop(self):
        """SIGTERM the server's PID, wait; then SIGTERM (later SIGKILL) any of its own
        descendants, by PID, that outlived it."""
        kids = descendants(self.pid)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            alive = [k for k in kids if os.path.exists(f"/proc/{k}") and not _is_zombie(k)]
            if not alive:
                break
            for k in alive:
                try:
                    os.kill(k, sig)
                except OSError:
                    pass
            time.sleep(3)
        self.log.close()


def _is_zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


# ---------------------------------------------------------------------------------------------
# benchmarks


def p3(client, exp, srv, secs):
    from mlflow.entities import Metric
    rid = client.create_run(exp, run_name="p3").info.run_id
    keys = [f"k{j}" for j in range(10)]
    sampler = TreeSampler(srv.pid)
    metrics, calls, step, lat = 0, 0, 0, []
    t0 = time.perf_counter()
    end = t0 + secs
    while time.perf_counter() < end and calls < 100000:
        ts = int(time.time() * 1000)
        batch = [Metric(k, 0.001 * (step + i) + j, ts, step + i) for i in range(100) for j, k in enumerate(keys)]
        t = time.perf_counter()
        client.log_batch(rid, metrics=batch)
        lat.append((time.perf_counter() - t) * 1e3)
        metrics += len(batch)
        step += 100
        calls += 1
    elapsed = time.perf_counter() - t0
    peak, samples = sampler.finish()
    return {"metrics": metrics, "calls": calls, "secs": elapsed, "metrics_per_s": metrics / elapsed,
            "per_call": latency(lat), "tree_peak_rss_kb_sampled": peak, "rss_samples": samples}


def p4(client, exp, srv, runs, steps, warmup, reads, read_secs):
    from mlflow.entities import Metric
    spike_run, spike_step = runs * 37 // 100, steps * 54321 // 100000
    ids = []
    t0 = time.perf_counter()
    for r in range(runs):
        rid = client.create_run(exp, run_name=f"c{r:03d}").info.run_id
        ids.append(rid)
        ts = int(time.time() * 1000)
        for b in range(0, steps, 1000):
            batch = [Metric("k0", SPIKE if (r, s) == (spike_run, spike_step) else 1.0 / (1.0 + s / 5000.0) + 0.001 * r,
                            ts, s) for s in range(b, min(b + 1000, steps))]
            client.log_batch(rid, metrics=batch)
    load_s = time.perf_counter() - t0
    q = urllib.parse.urlencode([("run_ids", x) for x in ids] + [("metric_key", "k0"), ("max_results", "1000")])
    url = f"{srv.url}/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval?{q}"
    lat, size, first = [], None, None
    deadline = time.perf_counter() + read_secs
    for i in range(warmup + reads):
        if time.perf_counter() > deadline:
            break
        t = time.perf_counter()
        with urllib.request.urlopen(url, timeout=300) as resp:
            body = resp.read()
        ms = (time.perf_counter() - t) * 1e3
        size = len(body)
        if first is None:
            first = json.loads(body)
        if i >= warmup:
            lat.append(ms)
    pts = first.get("metrics", []) if first else []
    spike_seen = any(m.get("value") == SPIKE for m in pts)
    per_run = {}
    for m in pts:
        per_run[m["run_id"]] = per_run.get(m["run_id"], 0) + 1
    return {"runs": runs, "steps": steps, "points_loaded": runs * steps, "load_secs": load_s,
            "load_metrics_per_s": runs * steps / load_s, "max_results_per_run": 1000, "warmup": warmup,
            "timed": latency(lat), "response_bytes": size, "points_returned": len(pts),
            "points_per_run_max": max(per_run.values()) if per_run else 0,
            "spike": {"run": spike_run, "step": spike_step, "value": SPIKE, "seen": spike_seen}}


def p7(client, exp_name, srv, secs, max_runs, threads, reads, read_secs):
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param
    exp = client.create_experiment(exp_name)
    counter = {"next": 0, "errors": 0, "first_error": None}
    lock = threading.Lock()
    end = time.perf_counter() + secs

    def worker():
        c = MlflowClient(srv.url)
        while time.perf_counter() < end:
            with lock:
                i = counter["next"]
                if i >= max_runs:
                    return
                counter["next"] += 1
            # same distributions as heron-bench's P7 (lr log-uniform 1e-5..1e-1, val_loss 0.1..2.1)
            h = (i * 2654435761) % 4294967296 / 4294967296.0
            h2 = (i * 40503 + 12345) % 65536 / 65536.0
            lr = 10 ** (-5 + 4 * h)
            val_loss = 0.1 + 2.0 * h2
            try:
                rid = c.create_run(exp, run_name=f"r{i:05d}").info.run_id
                ts = int(time.time() * 1000)
                c.log_batch(rid,
                            metrics=[Metric("val_loss", val_loss, ts, 0), Metric("acc", max(0.0, 1 - val_loss / 2.5), ts, 0),
                                     Metric("lr", lr, ts, 0)],
                            params=[Param("lr", f"{lr:.8f}"), Param("batch_size", str([16, 32, 64, 128, 256][i % 5])),
                                    Param("optimizer", ["adam", "sgd", "adamw"][i % 3])])
            except Exception as e:  # noqa: BLE001 - count and go on; reported
                with lock:
                    counter["errors"] += 1
                    counter["first_error"] = counter["first_error"] or repr(e)[:300]

    t0 = time.perf_counter()
    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(secs + 400)
    create_s = time.perf_counter() - t0
    created = client.search_runs([exp], max_results=50000, run_view_type=1)
    n_runs = len(created)
    flt = "metrics.lr > 0.001 and metrics.val_loss < 0.5"
    order = ["metrics.val_loss DESC"]
    lat, matched, page = [], None, None
    deadline = time.perf_counter() + read_secs
    for i in range(3 + reads):
        if time.perf_counter() > deadline:
            break
        t = time.perf_counter()
        res = client.search_runs([exp], filter_string=flt, order_by=order, max_results=100)
        ms = (time.perf_counter() - t) * 1e3
        if i == 0:
            page = len(res)
        if i >= 3:
            lat.append(ms)
    # how many runs match in all (MLflow has no total: page through with a big max_results)
    matched = len(client.search_runs([exp], filter_string=flt, max_results=50000))
    return {"runs_created": n_runs, "create_secs": create_s, "create_threads": threads,
            "create_errors": counter["errors"], "first_error": counter["first_error"],
            "filter": flt, "order_by": order, "max_results": 100, "warmup": 3,
            "timed": latency(lat), "page_runs": page, "matched": matched}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", default="")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--settle-secs", type=float, default=25.0)
    ap.add_argument("--p3-secs", type=float, default=20.0)
    ap.add_argument("--p4-runs", type=int, default=10)
    ap.add_argument("--p4-steps", type=int, default=10000)
    ap.add_argument("--p4-reads", type=int, default=30)
    ap.add_argument("--p4-read-secs", type=float, default=90.0)
    ap.add_argument("--p7-secs", type=float, default=60.0)
    ap.add_argument("--p7-max-runs", type=int, default=10000)
    ap.add_argument("--p7-threads", type=int, default=4)
    ap.add_argument("--p7-reads", type=int, default=30)
    ap.add_argument("--p7-read-secs", type=float, default=90.0)
    a = ap.parse_args()
    # a SIGTERM (e.g. from `timeout`) unwinds through `finally`, which stops the server
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    busy0, own0, wall0 = machine_busy_ticks(), own_cpu_s(), time.perf_counter()
    work = os.path.abspath(a.work)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    t_import = time.perf_counter()
    import mlflow
    from mlflow import MlflowClient
    import_s = time.perf_counter() - t_import
    out = {"peer": "mlflow", "version": mlflow.__version__, "backend": "sqlite (mlflow server, defaults)",
           "import_s": import_s}
    srv = MlflowServer(work, a.port or free_port())
    try:
        out["startup_s"] = srv.startup_s
        time.sleep(a.settle_secs)
        out["idle"] = dict(tree_mem(srv.pid), settle_secs=a.settle_secs)
        print(f"mlflow idle: {out['idle']}", file=sys.stderr, flush=True)
        client = MlflowClient(srv.url)
        exp = client.create_experiment("bench")
        steps = [("p3", lambda: p3(client, exp, srv, a.p3_secs)),
                 ("p4", lambda: p4(client, exp, srv, a.p4_runs, a.p4_steps, 3, a.p4_reads, a.p4_read_secs)),
                 ("p7", lambda: p7(client, "runs10k", srv, a.p7_secs, a.p7_max_runs, a.p7_threads, a.p7_reads,
                                   a.p7_read_secs))]
        for name, fn in steps:
            t = time.perf_counter()
            try:
                out[name] = fn()
            except Exception as e:  # noqa: BLE001 - record and go on with the next figure
                out[name] = {"error": repr(e)[:500]}
            out[name]["wall_secs"] = time.perf_counter() - t
            print(f"mlflow {name}: {json.dumps(out[name])[:600]}", file=sys.stderr, flush=True)
        out["after"] = tree_mem(srv.pid)
        # CPU accounting before the stop (the server's workers are not all reaped by us)
        tick = os.sysconf("SC_CLK_TCK")
        busy = (machine_busy_ticks() - busy0) / tick
        own = own_cpu_s() - own0 + tree_cpu_s(srv.pid)
        wall = time.perf_counter() - wall0
        out["cpu"] = {"wall_s": wall, "machine_busy_cpu_s": busy, "peer_cpu_s": own, "server_tree_cpu_s": tree_cpu_s(srv.pid),
                      "other_processes_cpu_s": max(0.0, busy - own), "other_processes_cpus": max(0.0, busy - own) / wall}
    finally:
        srv.stop()
    out["db_bytes"] = os.path.getsize(os.path.join(work, "mlflow.db")) if os.path.exists(os.path.join(work, "mlflow.db")) else None
    text = json.dumps(out, indent=2)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    print(text)


if __name__ == "__main__":
    main()
