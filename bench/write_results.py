"""Writes bench/RESULTS.md from heron-bench's JSON and bench/peer_mlflow.py's JSON (stdlib only).

usage: python3 bench/write_results.py --heron H.json --peer M.json [--peer-status S.txt] [--wall SECS] --out bench/RESULTS.md
"""
import argparse
import datetime
import json
import os
import platform
import subprocess

MB = 1_000_000  # budgets are read strictly: 30 MB = 30e6 bytes (28.6 MiB)


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine(git_state=""):
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            kb = next(int(l.split()[1]) for l in f if l.startswith("MemTotal:"))
            mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        pass
    # the git state run.sh recorded when it started (right after the build), else the current one
    state = ""
    if git_state and os.path.exists(git_state):
        state = open(git_state).read()
    else:
        state = sh("git", "rev-parse", "HEAD") + "\n" + subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout
    lines = state.splitlines()
    commit = (lines[0].strip()[:12] if lines else "") or "?"
    binary = next((l.split(" ", 1)[1] for l in lines if l.startswith("binary ")), "")
    changed = [l[3:] for l in lines[1:] if len(l) > 3 and l[2] == " " and not l.startswith("binary ")
               and not l[3:].startswith("bench/") and l[3:] not in ("Cargo.toml", "Cargo.lock")]
    dirty = ("; the server was built from a working tree with uncommitted changes to " + ", ".join(changed)) if changed else ""
    return {"nproc": sh("nproc") or str(os.cpu_count()), "cpu": cpu, "mem": mem,
            "kernel": platform.release(), "commit": commit + dirty, "binary": binary,
            "rustc": sh("rustc", "--version"), "python": platform.python_version(),
            "load": open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else []}


def g(d, *path):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d


def num(x, digits=0):
    if x is None:
        return "–"
    return f"{x:,.{digits}f}"


def mib(kb):
    return "–" if kb is None else f"{kb / 1024:.1f} MiB"


def mark(ok):
    return "–" if ok is None else ("pass" if ok else "**MISS**")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--heron", required=True)
    ap.add_argument("--peer", required=True)
    ap.add_argument("--peer-status", default="")
    ap.add_argument("--wall", type=int, default=0)
    ap.add_argument("--git-state", default="")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    h = load(a.heron) or {}
    m = load(a.peer)
    status = ""
    if a.peer_status and os.path.exists(a.peer_status):
        status = open(a.peer_status).read().strip()
    if m is None and not status:
        status = "no result file from bench/peer_mlflow.py"
    mc = machine(a.git_state)
    # when the figures were taken: the time heron-bench wrote its JSON (now, if it wrote none)
    stamp = os.path.getmtime(a.heron) if os.path.exists(a.heron) else datetime.datetime.now().timestamp()
    now = datetime.datetime.fromtimestamp(stamp, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

    p3 = h.get("p3") or {}
    full = g(p3, "modes", "full") or {}
    normal = g(p3, "modes", "normal") or {}
    p4 = h.get("p4") or {}
    p7 = h.get("p7") or {}
    mp3, mp4, mp7 = (m or {}).get("p3") or {}, (m or {}).get("p4") or {}, (m or {}).get("p7") or {}
    midle = (m or {}).get("idle") or {}
    notmeasured = f"peer not measured: {status}" if m is None else None

    def peer(text):
        return notmeasured or text

    warnings = []
    for name, part in (("P3", p3), ("P4", p4), ("P7", p7)):
        if part.get("error"):
            warnings.append(f"heron-bench {name} failed: `{part['error']}`")
    if p4 and not p4.get("error") and not g(p4, "spike", "ok"):
        warnings.append(f"**WARNING: the P4 chart answer does not show the planted spike** ({json.dumps(p4.get('spike'))})")
    if p7 and not p7.get("error") and p7.get("matched") != p7.get("expected_matches"):
        warnings.append(f"WARNING: P7 matched {p7.get('matched')} runs, the client expected {p7.get('expected_matches')}")
    if p7 and not p7.get("error") and not p7.get("page_order_ok"):
        warnings.append("WARNING: P7's first page is not the expected 100 runs in val_loss-descending order")
    contention = []
    for name, part in (("P3", p3), ("P4", p4), ("P7", p7), ("MLflow peer", m or {})):
        c = part.get("cpu") or {}
        if c.get("other_processes_cpu_s") is not None:
            contention.append(f"{name}: {c['other_processes_cpu_s']:.1f} CPU-s over {c['wall_s']:.0f} s "
                              f"({c['other_processes_cpus']:.2f} CPUs)")
            if c["other_processes_cpus"] > 0.10:
                warnings.append(f"Other processes used {c['other_processes_cpus']:.2f} CPUs on average during {name} "
                                f"({c['other_processes_cpu_s']:.1f} CPU-s): that part was measured on a busy machine.")
    if full and not full.get("all_complete"):
        warnings.append("P3: a repetition hit its time cap before sending all points; its rate is over the points it sent")

    p3_rate = full.get("median_points_per_s")
    p3n_rate = normal.get("median_points_per_s")
    p3_reps = ", ".join(num(r.get("points_per_s")) for r in full.get("reps", []))
    p3n_reps = ", ".join(num(r.get("points_per_s")) for r in normal.get("reps", []))
    p4_p95, p4_p50 = g(p4, "timed", "p95_ms"), g(p4, "timed", "p50_ms")
    p7_p95, p7_p50 = g(p7, "timed", "p95_ms"), g(p7, "timed", "p50_ms")
    idle_empty = full.get("median_idle_rss_kb")
    idle_p4 = p4.get("idle_rss_kb")
    peak = full.get("max_peak_rss_kb_sampled")
    hwm = full.get("max_hwm_kb")
    peak_n = normal.get("max_peak_rss_kb_sampled")

    def le(v, budget):
        return None if v is None else v <= budget

    rows = [
        ("P3", "ingest over HTTP, durable (`--durability full`, fsync per batch)", "≥ 1,000,000 points/s",
         f"**{num(p3_rate)} points/s** (median of {len(full.get('reps', []))}: {p3_reps})",
         mark(None if p3_rate is None else p3_rate >= 1e6),
         peer(f"{num(mp3.get('metrics_per_s'))} metrics/s (`log_batch`, 1000/call, 1 client, {num(mp3.get('secs'), 0)} s)")),
        ("P3", "same, `--durability normal` (no fsync per batch)", "(no budget)",
         f"{num(p3n_rate)} points/s (median of {len(normal.get('reps', []))}: {p3n_reps})", "–",
         peer("(SQLite default: fsync per commit)")),
        ("P4", f"chart read, {p4.get('runs', '?')} runs × {num(p4.get('steps'))} steps, 1 key, {p4.get('buckets', '?')} buckets, warm",
         "≤ 50 ms p95",
         f"**p95 {num(p4_p95, 1)} ms**, p50 {num(p4_p50, 1)} ms ({g(p4, 'timed', 'n')} reads)",
         mark(le(p4_p95, 50.0)),
         peer(f"p95 {num(g(mp4, 'timed', 'p95_ms'), 1)} ms, p50 {num(g(mp4, 'timed', 'p50_ms'), 1)} ms for only "
              f"{mp4.get('runs')} runs × {num(mp4.get('steps'))} steps (`get-history-bulk-interval`, max_results=1000, sampled)")),
        ("P4", "chart response size", "–",
         f"{num((p4.get('response_bytes') or [None])[0])} bytes",
         "–", peer(f"{num(mp4.get('response_bytes'))} bytes ({num(mp4.get('points_returned'))} points)")),
        ("P6", f"server RSS idle, empty store ({num(h.get('settle_secs'))} s after start)", "≤ 30 MB",
         f"**{mib(idle_empty)}** (median of the {len(full.get('reps', []))} durable P3 starts)", mark(le(None if idle_empty is None else idle_empty * 1024, 30 * MB)),
         peer(f"{mib(midle.get('rss_kb'))} RSS summed over {midle.get('procs')} processes "
              f"({mib(midle.get('pss_kb'))} PSS), {num(midle.get('settle_secs'))} s after /health")),
        ("P6", f"server RSS idle, P4 store ({num(g(p4, 'load', 'points'))} points), after restart", "≤ 30 MB",
         f"**{mib(idle_p4)}**", mark(le(None if idle_p4 is None else idle_p4 * 1024, 30 * MB)), peer("–")),
        ("P6", "server RSS peak under P3 (durable), sampled every 100 ms", "≤ 300 MB",
         f"**{mib(peak)}** (VmHWM {mib(hwm)})", mark(le(None if hwm is None else max(peak or 0, hwm) * 1024, 300 * MB)),
         peer(f"{mib(mp3.get('tree_peak_rss_kb_sampled'))} tree RSS during its P3")),
        ("P6", "same under P3 with `--durability normal`", "≤ 300 MB", f"{mib(peak_n)} (VmHWM {mib(normal.get('max_hwm_kb'))})",
         mark(le(None if normal.get('max_hwm_kb') is None else max(peak_n or 0, normal['max_hwm_kb']) * 1024, 300 * MB)), "–"),
        ("P6", "server RSS after the P4 chart reads (for reference)", "(no budget)",
         f"{mib(p4.get('rss_kb_after_reads'))} (VmHWM {mib(p4.get('hwm_kb_after_reads'))})", "–", peer("–")),
        ("P7", f"runs list, filter + sort, limit 100, over {num(p7.get('runs'))} runs", "≤ 100 ms p95",
         f"**p95 {num(p7_p95, 1)} ms**, p50 {num(p7_p50, 1)} ms ({g(p7, 'timed', 'n')} requests; {p7.get('matched')} runs matched)",
         mark(le(p7_p95, 100.0)),
         peer(f"p95 {num(g(mp7, 'timed', 'p95_ms'), 1)} ms, p50 {num(g(mp7, 'timed', 'p50_ms'), 1)} ms over only "
              f"{num(mp7.get('runs_created'))} runs ({mp7.get('matched')} matched; `search_runs`)")),
    ]

    L = []
    w = L.append
    w("# Heron server benchmarks (DESIGN §5: P3, P4, P6, P7)\n")
    w(f"Written by `make bench` (`bench/run.sh`); figures taken {now}; whole run {a.wall // 60} min {a.wall % 60} s.\n")
    w(f"- machine: {mc['nproc']} CPUs ({mc['cpu']}), {mc['mem']} RAM, Linux {mc['kernel']}; load average at the end "
      f"{' '.join(mc['load'])}")
    w(f"- code: commit {mc['commit']}; {mc['rustc']}; release build (`target/release/heron`{', sha256 ' + mc['binary'][:16] if mc['binary'] else ''})")
    w(f"- peer: MLflow {(m or {}).get('version', '3.17.2')} `mlflow server` on SQLite (defaults), Python {mc['python']}, "
      "measured in the same run right after Heron" + (f" — **{notmeasured}**" if notmeasured else ""))
    if contention:
        w("- CPU time used by processes other than the benchmark and its servers (/proc/stat busy time minus our own): "
          + "; ".join(contention))
    w("- client and server share the same CPUs: the load generator's cost is inside every figure. "
      "All traffic is HTTP/1.1 on 127.0.0.1, no TLS, no compression.\n")
    if warnings:
        w("## Warnings\n")
        for x in warnings:
            w(f"- {x}")
        w("")
    w("## Results\n")
    w("| id | what | budget | Heron (this run) | | MLflow 3.17.2 server (this run) |")
    w("|---|---|---|---|---|---|")
    for r in rows:
        w("| " + " | ".join(str(c) for c in r) + " |")
    w("")
    w("MLflow figures are not the same workload size where marked \"only\": it cannot load 100 × 100k points "
      "or 10k runs in the time this benchmark allows (see below); nothing is extrapolated.\n")

    w("## Details\n")
    w("### P3 ingest\n")
    w(f"Workload: {p3.get('clients')} concurrent client connections, one run each; each POST "
      f"`/api/v1/projects/admin/bench/runs/{{run}}/history` carries {p3.get('rows_per_batch')} rows × "
      f"{p3.get('keys_per_row')} float keys = {num((p3.get('rows_per_batch') or 0) * (p3.get('keys_per_row') or 0))} points "
      f"as JSON (`{{\"seq\", \"rows\": [{{\"step\", \"time\", \"scalars\"}}]}}`); {num(p3.get('points_per_rep_target'))} points "
      f"per repetition ({p3.get('batches_per_rep')} requests, {num((p3.get('request_bytes_per_rep') or 0) / MB, 0)} MB of JSON, "
      "serialised before the clock starts), each repetition on a fresh server and data folder. The clock runs from the "
      "first POST to the last acknowledgement. Every ack is checked (no duplicates, no dropped points).\n")
    w("| durability | rep | points | s | points/s | batch p50 / p95 (ms) | idle RSS | peak RSS (sampled) | VmHWM | on disk |")
    w("|---|---|---|---|---|---|---|---|---|---|")
    for mode in (p3.get("modes") or {}).values():
        for r in mode.get("reps", []):
            w(f"| {r['durability']} | {r['rep']} | {num(r['points'])} | {num(r['secs'], 2)} | {num(r['points_per_s'])} | "
              f"{num(g(r, 'batch_latency', 'p50_ms'), 1)} / {num(g(r, 'batch_latency', 'p95_ms'), 1)} | {mib(r['idle_rss_kb'])} | "
              f"{mib(r['peak_rss_kb_sampled'])} | {mib(r['hwm_kb_after'])} | {num(r['disk_bytes'] / MB, 1)} MB "
              f"({num(r['disk_bytes'] / max(r['points'], 1), 1)} B/point) |")
    w("")
    if mp3:
        w(f"MLflow: one client, `MlflowClient.log_batch` with 1000 `Metric`s (100 steps × 10 keys) per call against the "
          f"server, for {num(mp3.get('secs'), 1)} s: {num(mp3.get('metrics'))} metrics in {mp3.get('calls')} calls, "
          f"per call p50 {num(g(mp3, 'per_call', 'p50_ms'))} ms, p95 {num(g(mp3, 'per_call', 'p95_ms'))} ms.\n")

    w("### P4 chart read\n")
    ld = p4.get("load") or {}
    w(f"Data: {p4.get('runs')} runs × {num(p4.get('steps'))} steps of one key `k0`, loaded over HTTP with "
      f"{num(ld.get('batch_rows'))}-row batches from {ld.get('clients')} connections (durable): "
      f"**{num(ld.get('points'))} points in {num(ld.get('secs'), 1)} s ({num(ld.get('points_per_s'))} points/s)**, "
      f"{num((p4.get('disk_bytes') or 0) / MB, 1)} MB on disk. The server is then restarted on that store; idle RSS is read after "
      f"{num(h.get('settle_secs', 5))} s; the first chart read after the restart took {num(p4.get('first_read_after_restart_ms'), 1)} ms "
      f"(not counted), then {p4.get('warmup')} warm-up reads and {g(p4, 'timed', 'n')} timed reads of POST "
      f"`/api/v1/projects/admin/bench/chart` `{{\"runs\": [{p4.get('runs')} ids], \"keys\": [\"k0\"], \"buckets\": {p4.get('buckets')}}}`, "
      "one after another on one connection; the time is request sent → whole body received (client-side JSON parsing "
      "not included).\n")
    t = p4.get("timed") or {}
    w(f"- latency: p50 {num(t.get('p50_ms'), 1)} ms, p95 {num(t.get('p95_ms'), 1)} ms, min {num(t.get('min_ms'), 1)}, "
      f"max {num(t.get('max_ms'), 1)}, mean {num(t.get('mean_ms'), 1)} ms")
    w(f"- response: {', '.join(num(x) for x in p4.get('response_bytes') or [])} bytes; "
      f"{g(p4, 'spike', 'series')} series, {g(p4, 'spike', 'buckets_per_series_min')}–{g(p4, 'spike', 'buckets_per_series_max')} buckets each")
    sp = p4.get("spike") or {}
    w(f"- spike check: value {sp.get('value'):g} planted at step {sp.get('step')} of run `{sp.get('run')}`: "
      + ("**found** in that series' `max_y`, and in no other series" if sp.get("ok") else f"**NOT FOUND as expected**: {json.dumps(sp)}"))
    w(f"- server RSS after the reads: {mib(p4.get('rss_kb_after_reads'))} (VmHWM {mib(p4.get('hwm_kb_after_reads'))})\n")
    if mp4 and not mp4.get("error"):
        mt = mp4.get("timed") or {}
        w(f"MLflow: {mp4.get('runs')} runs × {num(mp4.get('steps'))} steps of one key ({num(mp4.get('points_loaded'))} points, "
          f"loaded with `log_batch` of 1000 in {num(mp4.get('load_secs'), 1)} s = {num(mp4.get('load_metrics_per_s'))} metrics/s), "
          f"then {mp4.get('warmup')} warm-up and {mt.get('n')} timed GET `/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval` "
          f"with all {mp4.get('runs')} run ids, `max_results=1000` (the UI's chart read; MLflow samples rows evenly, no min/max): "
          f"p50 {num(mt.get('p50_ms'), 1)} ms, p95 {num(mt.get('p95_ms'), 1)} ms, {num(mp4.get('response_bytes'))} bytes, "
          f"{num(mp4.get('points_returned'))} points. Planted spike (1e9 at step {g(mp4, 'spike', 'step')}) "
          + ("shows in the answer." if g(mp4, "spike", "seen") else "**does not show** in the answer (sampled away).") + "\n")
    elif mp4.get("error"):
        w(f"MLflow P4 failed: `{mp4['error']}`\n")

    w("### P6 memory\n")
    w(f"VmRSS and VmHWM from `/proc/PID/status` of the `heron server` process (one process). Idle: {num(h.get('settle_secs'))} s after the "
      "listening line, before any request. Peak: the largest VmRSS sampled every 100 ms during a P3 "
      "repetition, and VmHWM read at its end (the kernel's exact peak).")
    if midle:
        w(f"MLflow: `mlflow server` is {midle.get('procs')} processes (server, uvicorn workers, job runner, huey consumers); "
          f"idle {mib(midle.get('rss_kb'))} RSS / {mib(midle.get('pss_kb'))} PSS summed over the tree "
          f"{num(midle.get('settle_secs'))} s after `/health` answered (it takes that long for the workers to start); "
          f"after its benchmarks {mib(g(m, 'after', 'rss_kb'))} RSS / {mib(g(m, 'after', 'pss_kb'))} PSS.")
    w("")

    w("### P7 runs list\n")
    w(f"Set-up: {num(p7.get('runs'))} runs created with POST `/api/v1/projects/admin/runs10k/runs` (config `lr` log-uniform "
      f"1e-5..1e-1, `batch_size`, `optimizer`) and PATCH `.../summary` (`val_loss` uniform 0.1..2.1, `acc`), "
      f"{p7.get('setup_concurrency')} concurrent requests: {num(p7.get('setup_secs'), 1)} s (durable writes). "
      f"Query: GET `.../runs?filter={p7.get('filter')}&sort={p7.get('sort')}&limit=100` (URL-encoded), "
      f"{p7.get('warmup')} warm-up + {g(p7, 'timed', 'n')} timed, one after another.\n")
    t = p7.get("timed") or {}
    w(f"- latency: p50 {num(t.get('p50_ms'), 1)} ms, p95 {num(t.get('p95_ms'), 1)} ms, min {num(t.get('min_ms'), 1)}, "
      f"max {num(t.get('max_ms'), 1)} ms; response {num(p7.get('response_bytes'))} bytes")
    w(f"- matched: {p7.get('matched')} runs (client-side expectation {p7.get('expected_matches')}); first page "
      f"{p7.get('page_runs')} runs, order " + ("as expected" if p7.get("page_order_ok") else "**not as expected**") + "\n")
    if mp7 and not mp7.get("error"):
        mt = mp7.get("timed") or {}
        w(f"MLflow: {num(mp7.get('runs_created'))} runs created in {num(mp7.get('create_secs'), 1)} s "
          f"({mp7.get('create_threads')} threads; `create_run` + `log_batch` of 3 metrics and 3 params each; "
          f"{mp7.get('create_errors')} errors), then `search_runs(filter_string=\"{mp7.get('filter')}\", "
          f"order_by={mp7.get('order_by')}, max_results=100)`: p50 {num(mt.get('p50_ms'), 1)} ms, "
          f"p95 {num(mt.get('p95_ms'), 1)} ms ({mt.get('n')} timed after {mp7.get('warmup')} warm-up), {mp7.get('matched')} "
          "runs match. MLflow params compare only with `=`, `!=`, `LIKE`, `ILIKE`, so `lr` is also logged as a metric "
          "and the numeric filter is `metrics.lr`.\n")
    elif mp7.get("error"):
        w(f"MLflow P7 failed: `{mp7['error']}`\n")

    w("## What was scaled\n")
    scaled = []
    if p3.get("points_per_rep_target") and p3["points_per_rep_target"] < 10_000_000:
        scaled.append(f"P3: {num(p3['points_per_rep_target'])} points per repetition instead of 10M")
    if p4.get("runs") and (p4["runs"] != 100 or p4.get("steps") != 100_000):
        scaled.append(f"P4: {p4['runs']} runs × {p4['steps']} steps instead of 100 × 100k")
    if p7.get("runs") and p7["runs"] != 10_000:
        scaled.append(f"P7: {p7['runs']} runs instead of 10k")
    for x in scaled:
        w(f"- Heron {x}.")
    if not scaled:
        w("- Heron: nothing; P3 is 10M points per repetition, P4 and P7 are at the DESIGN sizes.")
    if m is not None:
        w(f"- MLflow P3: a fixed {num(mp3.get('secs'), 0)} s time budget, one client (not 10M points).")
        w(f"- MLflow P4: {mp4.get('runs')} runs × {num(mp4.get('steps'))} steps (loading 10M points at its "
          f"{num(mp4.get('load_metrics_per_s'))} metrics/s would take about "
          f"{num(10_000_000 / max(mp4.get('load_metrics_per_s') or 1, 1) / 60)} min); its read figure is for that "
          "smaller set only.")
        w(f"- MLflow P7: the runs it could create in {num(mp7.get('create_secs'))} s ({num(mp7.get('runs_created'))}), not 10k.")
    w("")
    w("## How to rerun\n")
    w("```sh")
    w("make bench                                   # release build, then bench/run.sh (about 5 min on 2 CPUs, plus the build)")
    w("./bench/run.sh                               # again, without rebuilding")
    w("PEER=0 ./bench/run.sh                        # Heron only")
    w("HERON_BENCH_ARGS='--only p4 --p4-reads 100' PEER=0 ./bench/run.sh   # one benchmark; see --help")
    w("target/release/heron-bench --help           # every size and count")
    w("bench/work/venv-mlflow/bin/python bench/peer_mlflow.py --work bench/work/mlflow --out bench/work/mlflow.json")
    w("```")
    w("Raw figures: `bench/work/heron.json`, `bench/work/mlflow.json`; server logs in `bench/work/` (all git-ignored). "
      "Run it on an otherwise idle machine: the figures include whatever else competes for the CPUs.")
    with open(a.out, "w") as f:
        f.write("\n".join(L) + "\n")


if __name__ == "__main__":
    main()
