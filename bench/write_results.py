"""Writes bench/RESULTS.md (stdlib only): the SDK part from bench/run.sh sdk's folder (bench/work/sdk: one JSON
line per workload process from bench/sdk_heron.py and the peers' scripts, heron-sdk-bench's p2.json), the
server part from heron-bench's JSON and bench/peer_mlflow.py's JSON, and the artifacts part from bench/run.sh
artifacts' folder (bench/work/artifacts: JSON lines from bench/artifacts_heron.py and bench/peer_artifacts_*.py).

usage: python3 bench/write_results.py --heron H.json --peer M.json [--peer-status S.txt] [--wall SECS]
                                      [--sdk bench/work/sdk] [--artifacts bench/work/artifacts] --out bench/RESULTS.md
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess

MB = 1_000_000  # budgets are read strictly: 30 MB = 30e6 bytes (28.6 MiB)


SPIKE_TEXT = "1e9 at one step of one run"


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def md_table(w, header, rows):
    """A Markdown table and the blank line after it."""
    w("|" + "|".join(f" {h} " if h else " " for h in header) + "|")
    w("|" + "---|" * len(header))
    for row in rows:
        w("| " + " | ".join(str(c) for c in row) + " |")
    w("")


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


def server_section(a, w):
    """The server part (P3, P4, P6, P7, P8) from heron-bench's and peer_mlflow.py's JSON."""
    if not os.path.exists(a.heron):
        w("## Server: P3, P4, P6, P7, P8\n")
        w("Not measured yet: run `bench/run.sh server` (or `make bench`).\n")
        return
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
                              f"({c['other_processes_cpus']:.2f} CPUs)"
                              + (" (without the P8 browser run on the same server)" if c.get("excludes_p8") else ""))
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
        ("P8", f"dashboard: first chart of {p4.get('runs', '?')} runs × {num(p4.get('steps'))} points, headless Chromium, fresh context",
         "≤ 800 ms", f"**median {num(g(p4, 'p8', 'median_ms'), 0)} ms** ({g(p4, 'p8', 'repeats')} loads)",
         mark(le(g(p4, 'p8', 'median_ms'), 800.0)), peer("–")),
        ("P8", "chart payload per panel", "–",
         f"{', '.join(num(b) for b in (g(p4, 'p8', 'payload', 'bytes_per_request') or []))} bytes of JSON, "
         f"{', '.join(num(b) for b in (g(p4, 'p8', 'payload', 'transferred_bytes_per_request') or []))} bytes on the wire "
         f"({g(p4, 'p8', 'payload', 'requests')} request(s), buckets {g(p4, 'p8', 'payload', 'buckets')})", "–", peer("–")),
        ("P7", f"runs list, filter + sort, limit 100, over {num(p7.get('runs'))} runs", "≤ 100 ms p95",
         f"**p95 {num(p7_p95, 1)} ms**, p50 {num(p7_p50, 1)} ms ({g(p7, 'timed', 'n')} requests; {p7.get('matched')} runs matched)",
         mark(le(p7_p95, 100.0)),
         peer(f"p95 {num(g(mp7, 'timed', 'p95_ms'), 1)} ms, p50 {num(g(mp7, 'timed', 'p50_ms'), 1)} ms over only "
              f"{num(mp7.get('runs_created'))} runs ({mp7.get('matched')} matched; `search_runs`)")),
    ]

    w("## Server: P3, P4, P6, P7, P8\n")
    w(f"Figures taken {now} (`bench/run.sh server`); this part took {a.wall // 60} min {a.wall % 60} s.\n")
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
        w("### Warnings\n")
        for x in warnings:
            w(f"- {x}")
        w("")
    # a benchmark that failed says so instead of showing empty figures
    failed = {name for name, part in (("P3", p3), ("P4", p4), ("P7", p7)) if part.get("error")}
    rows = [(r[0], r[1], r[2], "**failed** (see Warnings)", "**failed**", r[5]) if r[0] in failed and r[2] != "–" else r
            for r in rows]
    w("### Results\n")
    md_table(w, ["id", "what", "budget", "Heron (this run)", "", "MLflow 3.17.2 server (this run)"], rows)
    w("MLflow figures are not the same workload size where marked \"only\": it cannot load 100 × 100k points "
      "or 10k runs in the time this benchmark allows (see below); nothing is extrapolated.\n")

    w("### Details\n")
    w("#### P3 ingest\n")
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

    w("#### P4 chart read\n")
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
    p8 = p4.get("p8") or {}
    w("#### P8 dashboard, first chart\n")
    if not p8:
        w("Not measured in this run (heron-bench ran without `--p8-script`).\n")
    elif p8.get("error"):
        w(f"**P8 failed**: {p8['error']}\n")
    else:
        pl = p8.get("payload") or {}
        w(f"On the same P4 server: headless Debian Chromium (playwright-core), a fresh browser context per load (no cache), "
          f"signed in by cookie, opens `/projects/admin/bench`; the clock runs from navigation start (`performance.now()` in the "
          f"page) until the first panel has drawn a line for each of the {p8.get('runs')} runs, read from what the panel "
          f"publishes on `window.__heronCharts`. Loads: {', '.join(num(x, 0) for x in p8.get('first_chart_ms') or [])} ms; "
          f"**median {num(p8.get('median_ms'), 0)} ms**. Chart payload: {pl.get('requests')} request(s) of "
          f"{', '.join(num(b) for b in pl.get('bytes_per_request') or [])} bytes of JSON, "
          f"{', '.join(num(b) for b in pl.get('transferred_bytes_per_request') or [])} bytes on the wire (zstd) (buckets {pl.get('buckets')}, "
          f"{pl.get('runs_per_request')} runs each); {num(pl.get('points_drawn'))} points drawn in all. "
          f"The planted spike ({SPIKE_TEXT}) is drawn: **{'yes' if p8.get('spike_drawn') else 'NO'}**.\n")
        w("![The workspace of the P8 benchmark](p8-workspace.png)\n")
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

    w("#### P6 memory\n")
    w(f"VmRSS and VmHWM from `/proc/PID/status` of the `heron server` process (one process). Idle: {num(h.get('settle_secs'))} s after the "
      "listening line, before any request. Peak: the largest VmRSS sampled every 100 ms during a P3 "
      "repetition, and VmHWM read at its end (the kernel's exact peak).")
    if midle:
        w(f"MLflow: `mlflow server` is {midle.get('procs')} processes (server, uvicorn workers, job runner, huey consumers); "
          f"idle {mib(midle.get('rss_kb'))} RSS / {mib(midle.get('pss_kb'))} PSS summed over the tree "
          f"{num(midle.get('settle_secs'))} s after `/health` answered (it takes that long for the workers to start); "
          f"after its benchmarks {mib(g(m, 'after', 'rss_kb'))} RSS / {mib(g(m, 'after', 'pss_kb'))} PSS.")
    w("")

    w("#### P7 runs list\n")
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

    w("### What was scaled\n")
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


# ---------------------------------------------------------------------------------------------
# The SDK part (P1, P2, P5, P9): bench/run.sh sdk writes, under --sdk, one JSON line per workload
# process in jsonl/NAME.jsonl (bench/sdk_heron.py and the peers' bench_<peer>.py, same fields),
# /usr/bin/time lines in time.txt, heron-sdk-bench's p2.json, notes.txt, version-PEER.txt.

SDK_BUDGET = {"p1_us": 2.0, "p1_vs_wandb": 100.0, "p1_vs_trackio": 20.0, "p2_ns": 300.0, "p5_ready_s": 0.100,
              "p5_finish_s": 1.0, "p9_s": 0.030}


def jsonl(sdk, name):
    rows = []
    try:
        with open(os.path.join(sdk, "jsonl", name + ".jsonl")) as f:
            for line in f:
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    pass
    except OSError:
        pass
    return rows


def proc_times(sdk):
    out = {}
    try:
        with open(os.path.join(sdk, "time.txt")) as f:
            for line in f:
                if line.startswith("TIME "):
                    d = dict(x.split("=", 1) for x in line.split()[1:])
                    out.setdefault(d["name"], []).append(
                        {"wall": float(d["wall"]), "cpu": float(d["user"]) + float(d["sys"]), "rss_mib": int(d["maxrss_kib"]) / 1024})
    except (OSError, ValueError, KeyError):
        pass
    return out


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def vals(rows, name):
    return [r[name] for r in rows if r.get(name) is not None]


def spread(xs, scale=1.0, digits=1, unit=""):
    """'median (min–max)' of xs × scale, or the single value."""
    xs = [x * scale for x in xs if x is not None]
    if not xs:
        return "–"
    if len(xs) == 1:
        return f"{xs[0]:,.{digits}f}{unit}"
    return f"{statistics.median(xs):,.{digits}f}{unit} ({min(xs):,.{digits}f}–{max(xs):,.{digits}f})"


def rng(xs, scale=1.0, digits=2):
    """'median of n, min–max' for the headline cells."""
    xs = [x * scale for x in xs if x is not None]
    if len(xs) < 2:
        return f"n={len(xs)}"
    return f"median of {len(xs)}, {min(xs):,.{digits}f}–{max(xs):,.{digits}f}"


def other_cpu(sdk):
    """CPU-seconds used by processes other than the SDK part's own (busy time from /proc/stat minus the
    children of bench/run.sh, from `times`), and the wall time, between cpu-start.txt and cpu-end.txt."""
    def parse(name):
        lines = read_text(os.path.join(sdk, name)).splitlines()   # /proc/stat cpu, `times` (self, children), date
        if len(lines) < 4:
            return None
        f = [int(x) for x in lines[0].split()[1:]]
        busy = (sum(f[:8]) - f[3] - f[4]) / os.sysconf("SC_CLK_TCK")   # all but idle and iowait
        kids = 0.0
        for t in lines[1].split() + lines[2].split():
            m, _, sec = t.rstrip("s").partition("m")
            kids += int(m) * 60 + float(sec)
        return busy, kids, float(lines[3])
    a, b = parse("cpu-start.txt"), parse("cpu-end.txt")
    if a is None or b is None or b[2] <= a[2]:
        return None
    other = max(0.0, (b[0] - a[0]) - (b[1] - a[1]))
    return other, b[2] - a[2]


def ratio(peer, heron):
    return None if not peer or not heron else peer / heron


def times_text(x, digits=0):
    return "–" if x is None else f"{x:,.{digits}f}×"


def read_text(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


def sdk_section(a, w):
    """The SDK part (P1, P2, P5, P9), Heron next to the peers measured in the same run."""
    sdk = a.sdk
    w("## SDK: P1, P2, P5, P9\n")
    if not sdk or not os.path.exists(os.path.join(sdk, "params.txt")):
        w("Not measured yet: run `bench/run.sh sdk` (or `make bench`).\n")
        return
    params = read_text(os.path.join(sdk, "params.txt")).split()
    nf, ns, r_peer, r_heron = (int(x) for x in params[:4])
    peers = params[4:]
    stamp = os.path.getmtime(os.path.join(sdk, "wall.txt")) if os.path.exists(os.path.join(sdk, "wall.txt")) \
        else os.path.getmtime(os.path.join(sdk, "params.txt"))
    when = datetime.datetime.fromtimestamp(stamp, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    wall = int(read_text(os.path.join(sdk, "wall.txt")) or 0)
    mc = machine(os.path.join(sdk, "git-state.txt"))
    ver = {p: read_text(os.path.join(sdk, f"version-{p}.txt")) or "?" for p in peers}
    wheel = read_text(os.path.join(sdk, "wheel-sha256.txt"))
    notes = [l for l in read_text(os.path.join(sdk, "notes.txt")).splitlines() if l.strip()]
    T = proc_times(sdk)
    J = {n: jsonl(sdk, n) for n in (
        "heron", "heron-module", "heron-online", "heron-init", "heron-init-offline", "heron-read",
        "trackio", "trackio-init", "trackio-read", "wandb", "wandb-init", "wandb-read",
        "mlflow-file", "mlflow-file-init", "mlflow-file-read", "mlflow-sqlite", "mlflow-sqlite-init",
        "mlflow-sqlite-b1k", "mlflow-sqlite-read", "aim", "aim-init", "aim-100k", "aim-read")}
    p2 = (load(os.path.join(sdk, "p2.json")) or {}).get("p2") or {}
    heron_ver = next((r.get("heron_version") for r in J["heron"] + J["heron-online"] if r.get("heron_version")), "?")

    def us(name):
        return med(vals(J[name], "us_per_call"))

    def net(name):
        return med([r["us_per_call"] - r["baseline_us"] for r in J[name]
                    if r.get("us_per_call") is not None and r.get("baseline_us") is not None])

    def ready(name):
        return med(vals(J[name], "start_to_ready_s"))

    def read_s(name):
        return med(vals(J[name], "read_s"))

    def have(p):
        return p in peers

    w(f"Figures taken {when} (`bench/run.sh sdk`); this part took {wall // 60} min {wall % 60} s.\n")
    w(f"- machine: {mc['nproc']} CPUs ({mc['cpu']}), {mc['mem']} RAM, Linux {mc['kernel']}; load average at the end "
      f"{' '.join(mc['load'])}; shared and noisy: compare the ratios (peers measured minutes apart in the same run) "
      "more than the absolute figures")
    w(f"- code: commit {mc['commit']}; {mc['rustc']}; Python {mc['python']}")
    w(f"- Heron {heron_ver}: the Python package built with `maturin build --release` into its own venv "
      f"(`bench/work/venv-heron`{', wheel sha256 ' + wheel[:16] if wheel else ''}); the Rust SDK in "
      f"`target/release/heron-sdk-bench`; the server `target/release/heron`{' (sha256 ' + mc['binary'][:16] + ')' if mc['binary'] else ''}")
    w("- peers: " + (", ".join(f"{p} {ver[p]}" for p in peers) if peers else "none (PEER=0)")
      + " — each in its own venv (`bench/work/venv-<peer>`), run with the unchanged scripts of `../shared/bench/peers/`")
    w(f"- workload (the peers' `bench_<peer>.py`; Heron's is `bench/sdk_heron.py`): one process per run, start the run, "
      f"N steps each logging a dict of K=10 Python floats in one call, finish. System metrics off everywhere, everything "
      f"else each SDK's default (Heron: console capture, git and host metadata, requirements.txt thread on). N={nf:,} "
      f"unless marked; {r_heron} runs per Heron workload, {r_peer} per peer workload unless marked (n=1). µs/call = loop "
      "wall time / N as in common.py, building the dict included; \"net\" subtracts the dict-building loop timed in the same "
      "process. \"start→ready\" = process start (`BENCH_T0_NS`, set right before `exec python`) to the run object ready.")
    oc = other_cpu(sdk)
    if oc:
        w(f"- CPU time used by processes other than the benchmark and its servers (/proc/stat busy time minus our own): "
          f"{oc[0]:.1f} CPU-s over {oc[1]:.0f} s ({oc[0] / oc[1]:.2f} CPUs)"
          + (" — **the machine was busy: treat the figures with care**" if oc[0] / oc[1] > 0.10 else ""))
    for n in notes:
        w(f"- **note:** {n}")
    w("")

    # -- the table --------------------------------------------------------------------------
    h_us, h_net, h_base = us("heron"), net("heron"), med(vals(J["heron"], "baseline_us"))
    wb, tr = us("wandb"), us("trackio")
    peer_p1 = []
    if have("wandb"):
        peer_p1.append(f"wandb offline {num(wb)} µs")
    if have("trackio"):
        peer_p1.append(f"trackio {num(tr, 1)} µs")
    if have("mlflow"):
        peer_p1.append(f"MLflow file store {num(us('mlflow-file'))} µs (n=1), SQLite {num(us('mlflow-sqlite'))} µs (N={ns:,}, n=1)")
    if have("aim"):
        peer_p1.append(f"Aim {num(us('aim'))} µs (N={ns:,})")

    def p1_mark(gross, netto):
        if gross is None:
            return "–"
        if gross <= SDK_BUDGET["p1_us"]:
            return "pass"
        if netto is not None and netto <= SDK_BUDGET["p1_us"]:
            return "**MISS** (pass net of the dict)"
        return "**MISS**"

    def p1_ratios(gross, netto):
        out = []
        rw, rt = ratio(wb, gross), ratio(tr, gross)
        if rw is not None:
            out.append(f"wandb / Heron **{times_text(rw)}** ({'pass' if rw >= SDK_BUDGET['p1_vs_wandb'] else '**MISS**'} ≥ 100×; "
                       f"net / net {times_text(ratio(net('wandb'), netto))})")
        if rt is not None:
            out.append(f"trackio / Heron **{times_text(rt)}** ({'pass' if rt >= SDK_BUDGET['p1_vs_trackio'] else '**MISS**'} ≥ 20×; "
                       f"net / net {times_text(ratio(net('trackio'), netto))})")
        return "; ".join(out) or "–"

    o_us, o_net = us("heron-online"), net("heron-online")
    m_us, m_net = us("heron-module"), net("heron-module")
    p2_ns = p2.get("median_ns_per_call")
    p5 = ready("heron-init")
    p5_off = ready("heron-init-offline")
    peer_ready = []
    for name, label in (("wandb-init", "wandb"), ("trackio-init", "trackio"), ("mlflow-file-init", "MLflow file"),
                        ("mlflow-sqlite-init", "MLflow SQLite"), ("aim-init", "Aim")):
        if J[name]:
            peer_ready.append(f"{label} {num(ready(name), 2)} s")
    fin = vals(J["heron-online"], "finish_s")
    rows_ok = [r.get("rows_m0") == r.get("N") and r.get("last_ok") for r in J["heron-online"]]
    peer_fin = []
    for name, label in (("wandb", "wandb"), ("trackio", "trackio"), ("mlflow-file", "MLflow file"), ("aim", f"Aim (N={ns:,})")):
        if J[name]:
            peer_fin.append(f"{label} {num(med(vals(J[name], 'finish_s')), 3)} s")
    hr = J["heron-read"]
    p9 = med(vals(hr, "read_s"))
    p9_first = med(vals(hr, "read_first_s"))
    p9_only = med(vals(hr, "read_series_only_s"))
    hist = med(vals(hr, "history_s"))
    warm_n = sum(r.get("reads") or 0 for r in hr)
    peer_read = []
    for name, label in (("aim-read", "Aim"), ("mlflow-file-read", "MLflow file"), ("mlflow-sqlite-read", "MLflow SQLite"),
                        ("trackio-read", "trackio")):
        if J[name]:
            peer_read.append(f"{label} {num(read_s(name), 3)} s")
    if J["wandb-read"]:
        peer_read.append("wandb offline: no read API")
    aim_r, mlf_r = read_s("aim-read"), read_s("mlflow-file-read")

    def le(v, budget):
        return None if v is None else v <= budget

    rows = [
        ("P1", f"Python `run.log({{10 floats}})`, {nf:,} calls, offline (no server)",
         "≤ 2 µs; ≥ 100× less than wandb offline, ≥ 20× less than trackio",
         f"**{num(h_us, 2)} µs** ({rng(vals(J['heron'], 'us_per_call'))}); net of the dict "
         f"{num(h_net, 2)} µs (the dict alone {num(h_base, 2)} µs)",
         p1_mark(h_us, h_net), "; ".join(peer_p1) or "–", p1_ratios(h_us, h_net)),
        ("P1", f"same, online: release `heron server` on 127.0.0.1 sharing the 2 CPUs, uploader streaming while logging",
         "≤ 2 µs", f"**{num(o_us, 2)} µs** ({rng(vals(J['heron-online'], 'us_per_call'))}); net {num(o_net, 2)} µs",
         p1_mark(o_us, o_net), "(peers: the offline/local figures above)", p1_ratios(o_us, o_net)),
        ("P1", "same through the module function `heron.log(d)` (wandb style), offline", "(no budget of its own)",
         f"{num(m_us, 2)} µs ({rng(vals(J['heron-module'], 'us_per_call'))}); net {num(m_net, 2)} µs", "–",
         f"trackio logs this way (`trackio.log(d)`): {num(tr, 1)} µs" if tr else "–",
         f"trackio / Heron {times_text(ratio(tr, m_us))}" if tr else "–"),
        ("P2", f"Rust `Run::log`, {num(p2.get('rows'))} rows × {p2.get('keys', 10)} floats, offline, one call per row",
         "≤ 300 ns", f"**{num(p2_ns)} ns** (median of {p2.get('repeats', 0)}: "
         f"{', '.join(num(x.get('ns_per_call')) for x in p2.get('reps', []))}); per block of 1000 calls: p50 "
         f"{num(p2.get('median_block_p50_ns'))} ns, p99 {num(p2.get('median_block_p99_ns'))} ns",
         mark(le(p2_ns, SDK_BUDGET["p2_ns"])), "– (no peer has a Rust SDK)", "–"),
        ("P2", f"Rust `finish()` after {num(p2.get('rows'))} rows (offline: the local run log closed)", "(no budget)",
         f"{num(p2.get('median_finish_s'), 3)} s", "–", "–", "–"),
        ("P5", "`import heron` + `heron.init()` → ready, online, server on loopback (process start → run ready)", "≤ 100 ms",
         f"**{num(p5 * 1000 if p5 else None, 1)} ms** ({rng(vals(J['heron-init'], 'start_to_ready_s'), 1000, 1)}; "
         f"import {num((med(vals(J['heron-init'], 'import_s')) or 0) * 1000, 1)} ms, init() {num((med(vals(J['heron-init'], 'init_call_s')) or 0) * 1000, 1)} ms)",
         mark(le(p5, SDK_BUDGET["p5_ready_s"])), "; ".join(peer_ready) + " (init against an existing store, median of "
         f"{r_peer})" if peer_ready else "–",
         f"wandb / Heron **{times_text(ratio(ready('wandb-init'), p5))}**" if J["wandb-init"] and p5 else "–"),
        ("P5", "same, offline", "(no budget)", f"{num(p5_off * 1000 if p5_off else None, 1)} ms "
         f"({rng(vals(J['heron-init-offline'], 'start_to_ready_s'), 1000, 1)})", "–", "–",
         f"trackio / Heron {times_text(ratio(ready('trackio-init'), p5_off))}" if J["trackio-init"] and p5_off else "–"),
        ("P5", f"`finish()` after {nf * 10:,} points ({nf:,} rows × 10 floats), online", "≤ 1 s",
         f"**{num(med(fin), 3)} s** ({rng(fin, 1, 3)}); after it returned the server had "
         + ("every row and the last value" if rows_ok and all(rows_ok) else f"**not every row**: {[r.get('rows_m0') for r in J['heron-online']]}"),
         mark(le(med(fin), SDK_BUDGET["p5_finish_s"])), "; ".join(peer_fin) + " (all local: nothing to upload)" if peer_fin else "–", "–"),
        ("P9", f"`heron.Api().run(path).series(\"m0\")`: one key, {num(med(vals(hr, 'points')))} points, full resolution (Api + run lookup + read), warm",
         "≤ 30 ms", f"**{num(p9 * 1000 if p9 else None, 1)} ms** (median of {len(hr)} processes × {warm_n // max(len(hr), 1)} warm reads; "
         f"`series()` alone {num(p9_only * 1000 if p9_only else None, 1)} ms; first read in a fresh process "
         f"{num(p9_first * 1000 if p9_first else None, 1)} ms)",
         mark(le(p9, SDK_BUDGET["p9_s"])), "; ".join(peer_read) + f" (one read per fresh process, median of {r_peer})" if peer_read else "–",
         "; ".join(x for x in (f"Aim / Heron **{times_text(ratio(aim_r, p9))}**" if aim_r and p9 else "",
                              f"MLflow file / Heron **{times_text(ratio(mlf_r, p9))}**" if mlf_r and p9 else "") if x) or "–"),
        ("P9", "`run.history(keys=[\"m0\"], samples=None, pandas=False)`: the same points as row dicts", "(no budget)",
         f"{num(hist * 1000 if hist else None)} ms", "–", "(as above)",
         f"Aim / Heron {times_text(ratio(aim_r, hist), 1)}" if aim_r and hist else "–"),
    ]
    w("### Results\n")
    md_table(w, ["id", "what", "budget", "Heron (this run)", "", "peers (this run)", "ratio"], rows)
    w("Verdicts on P1 use the peers' method (loop time / N, the dict built inside the loop); \"net\" is that minus the "
      "same dict-building loop without the call. Ratios compare medians from this run, gross with gross.\n")

    # -- details ----------------------------------------------------------------------------
    w("### Logging runs\n")
    w("| workload | N | runs | µs per log call, median (min–max) | dict alone (µs) | finish (s) | start→ready (s) | "
      "whole process: wall / cpu (s), peak RSS (MiB) |")
    w("|---|---|---|---|---|---|---|---|")
    for name, label in (("heron", f"Heron {heron_ver} offline, `run.log`"), ("heron-module", "Heron offline, `heron.log`"),
                        ("heron-online", "Heron online (server on 127.0.0.1)"), ("trackio", "trackio"),
                        ("wandb", "wandb offline"), ("mlflow-file", "MLflow file store"),
                        ("mlflow-sqlite", "MLflow SQLite, `log_metrics` per step"),
                        ("mlflow-sqlite-b1k", "MLflow SQLite, `log_batch` of 1000 (read-back store)"),
                        ("aim", "Aim"), ("aim-100k", "Aim (read-back store)")):
        rs = J[name]
        if not rs:
            continue
        per = "us_per_step" if name == "mlflow-sqlite-b1k" else "us_per_call"
        t = T.get(name, [])
        w(f"| {label} | {num(rs[0].get('N'))} | {len(rs)} | {spread(vals(rs, per), 1, 2 if name.startswith('heron') else 1)} | "
          f"{spread(vals(rs, 'baseline_us'), 1, 2)} | {spread(vals(rs, 'finish_s'), 1, 3)} | "
          f"{spread(vals(rs, 'start_to_ready_s'), 1, 3)} | "
          + (f"{num(med([x['wall'] for x in t]), 2)} / {num(med([x['cpu'] for x in t]), 2)}, {num(med([x['rss_mib'] for x in t]), 1)}" if t else "–")
          + " |")
    w("")
    w("### Start → ready (a new run in an existing store)\n")
    w("| workload | runs | start→ready (s) | import (s) | init call (s) |")
    w("|---|---|---|---|---|")
    for name, label in (("heron-init", "Heron online (server on 127.0.0.1)"), ("heron-init-offline", "Heron offline"),
                        ("trackio-init", "trackio"), ("wandb-init", "wandb offline"), ("mlflow-file-init", "MLflow file store"),
                        ("mlflow-sqlite-init", "MLflow SQLite"), ("aim-init", "Aim")):
        rs = J[name]
        if rs:
            w(f"| {label} | {len(rs)} | {spread(vals(rs, 'start_to_ready_s'), 1, 3)} | {spread(vals(rs, 'import_s'), 1, 3)} | "
              f"{spread(vals(rs, 'init_call_s'), 1, 3)} |")
    w("")
    w(f"### Read back one key ({nf:,} points)\n")
    w("| workload | how | read (s) | points |")
    w("|---|---|---|---|")
    if hr:
        w(f"| Heron | `heron.Api().run(path).series(\"m0\")`, warm, median per process (each 1 first + {warm_n // max(len(hr), 1)} timed) | "
          f"{spread(vals(hr, 'read_s'), 1, 4)} (min {num(min(vals(hr, 'read_min_s') or [0]), 4)}, max {num(max(vals(hr, 'read_max_s') or [0]), 4)}) | "
          f"{num(med(vals(hr, 'points')))} |")
        w(f"| Heron | the same, first read in a fresh process | {spread(vals(hr, 'read_first_s'), 1, 4)} | |")
        w(f"| Heron | `run.history(keys=[\"m0\"], samples=None, pandas=False)` | {spread(vals(hr, 'history_s'), 1, 3)} | "
          f"{num(med(vals(hr, 'history_rows')))} rows |")
        for r in hr:
            if r.get("series_error"):
                w(f"| Heron | series failed: `{r['series_error']}` | | |")
                break
    for name, how in (("aim-read", "`Repo.get_run(h).get_metric(\"m0\").values.sparse_numpy()` (after indexing the run)"),
                      ("mlflow-file-read", "`MlflowClient.get_metric_history`, file store"),
                      ("mlflow-sqlite-read", "`MlflowClient.get_metric_history`, SQLite"),
                      ("trackio-read", "`SQLiteStorage.get_metric_values`")):
        rs = J[name]
        if rs:
            w(f"| {name.rsplit('-read', 1)[0]} | {how} | {spread(vals(rs, 'read_s'), 1, 3)} | {num(med(vals(rs, 'points')))} |")
    if J["wandb-read"]:
        w("| wandb | offline runs have no read API (`wandb.Api` needs a server) | – | – |")
    kept = []
    for name, store in (("aim-100k", "aim-100k"), ("mlflow-sqlite-b1k", "mlflow-sqlite-b1k")):
        if not J[name] and any(J.get(x) for x in (("aim-read",) if name.startswith("aim") else ("mlflow-sqlite-read",))):
            complete = os.path.join(os.path.dirname(os.path.abspath(sdk)), "sdk-keep", store, ".complete")
            if os.path.exists(complete):
                kept.append(f"{store} (written {datetime.datetime.fromtimestamp(os.path.getmtime(complete), datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')})")
    w("")
    if kept:
        w(f"The Aim and MLflow SQLite read-back stores were written by an earlier run and kept (`SDK_REUSE=1`): "
          f"{', '.join(kept)}; the reads themselves are from this run.\n")
    if p2.get("reps"):
        w("### P2 repetitions (Rust SDK, offline)\n")
        w("| rep | ns per call | blocks of 1000: p50 / p99 / max (ns) | init (ms) | finish (s) | run log on disk |")
        w("|---|---|---|---|---|---|")
        for x in p2["reps"]:
            w(f"| {x['rep']} | {num(x['ns_per_call'])} | {num(x['block_p50_ns'])} / {num(x['block_p99_ns'])} / {num(x['block_max_ns'])} | "
              f"{num(x['init_s'] * 1000, 2)} | {num(x['finish_s'], 3)} | {num(x['disk_bytes'] / MB, 1)} MB |")
        w("")


# ---------------------------------------------------------------------------------------------
# The artifacts part: bench/run.sh artifacts writes, under --artifacts, one JSON line per measurement in
# heron.jsonl (bench/artifacts_heron.py), mlflow.jsonl and wandb.jsonl (bench/peer_artifacts_<peer>.py),
# the input sizes in data.json, notes.txt, params.txt ("R BIG_R PEERS..."), git-state.txt, cpu-*.txt, wall.txt.

ART_TOOLS = (("heron", "Heron"), ("mlflow", "MLflow artifact proxy"), ("wandb", "wandb offline"))


def art_jsonl(d, tool):
    rows = []
    try:
        with open(os.path.join(d, tool + ".jsonl")) as f:
            for line in f:
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    pass
    except OSError:
        pass
    return rows


def artifacts_section(a, w):
    """Artifact upload / download throughput: Heron's CLI next to the MLflow artifact proxy and wandb offline."""
    d = a.artifacts
    w("## Artifacts: upload and download throughput\n")
    if not d or not os.path.exists(os.path.join(d, "params.txt")):
        w("Not measured yet: run `bench/run.sh artifacts` (or `make bench`).\n")
        return
    params = read_text(os.path.join(d, "params.txt")).split()
    r_small, r_big = int(params[0]), int(params[1])
    peers = params[2:]
    data = load(os.path.join(d, "data.json")) or {}
    n, kib, big_mib = data.get("small_n", 1000), data.get("small_kib", 4), data.get("big_mib", 1024)
    stamp_file = os.path.join(d, "wall.txt") if os.path.exists(os.path.join(d, "wall.txt")) else os.path.join(d, "params.txt")
    when = datetime.datetime.fromtimestamp(os.path.getmtime(stamp_file), datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    wall = int(read_text(os.path.join(d, "wall.txt")) or 0)
    mc = machine(os.path.join(d, "git-state.txt"))
    notes = [l for l in read_text(os.path.join(d, "notes.txt")).splitlines() if l.strip()]
    J = {t: art_jsonl(d, t) for t, _ in ART_TOOLS}
    meta = {t: next((r for r in J[t] if r.get("case") == "meta"), {}) for t, _ in ART_TOOLS}
    warm_up = [r["upload_s"] for r in J["mlflow"] if r.get("case") == "warmup" and r.get("upload_s") is not None]
    warm_down = [r["download_s"] for r in J["mlflow"] if r.get("case") == "warmup" and r.get("download_s") is not None]
    big_label = f"{big_mib / 1024:g} GiB" if big_mib % 1024 == 0 else f"{big_mib} MiB"

    def recs(tool, case):
        return [r for r in J[tool] if r.get("case") == case and r.get("secs") is not None]

    def unmeasurable(tool, case):
        return next((r.get("why") for r in J[tool] if r.get("case") == "unmeasurable" and r.get("what") == case), None)

    def missing(tool):
        """Why a tool has no figures at all, or None."""
        if tool != "heron" and tool not in peers:
            return "not run (PEER=0 or ART_PEERS)"
        un = next((r.get("why") for r in J[tool] if r.get("case") == "unavailable"), None)
        if un:
            return un
        if not J[tool]:
            return "no results (see the notes)"
        return None

    def cell(tool, case, many_files):
        why = unmeasurable(tool, case)
        if why:
            return "not measurable: " + why.split(" (")[0] + " (see below)"
        rs = recs(tool, case)
        if not rs:
            return "–" if tool != "heron" or missing(tool) is None else "not measured"
        secs = med([r["secs"] for r in rs])
        mbs = med([r["mb_per_s"] for r in rs])
        text = f"**{num(mbs, 1)} MB/s**, {num(secs, 3 if secs < 10 else 1)} s"
        if many_files:
            text += f", {num(med([r['files_per_s'] for r in rs]))} files/s"
        text += f" ({'median of ' + str(len(rs)) if len(rs) > 1 else 'n=1'})"
        extra = []
        if tool == "heron" and case.endswith(("upload", "changed")):
            added = med(vals(rs, "store_bytes_added"))
            if added is not None:
                extra.append(f"server data folder grew {num(added / MB, 2)} MB")
            refs = sorted({r.get("ref") for r in rs if r.get("ref")})
            if refs and case == "small_reupload":
                extra.append("answered " + ", ".join(x.split("/")[-1] for x in refs))
        if tool == "mlflow" and case.endswith(("upload", "changed")):
            wb = med(vals(rs, "written_bytes"))
            if wb is not None:
                extra.append(f"wrote {num(wb / MB, 2)} MB to the destination")
        if tool == "wandb":
            sb = med(vals(rs, "staged_bytes"))
            if sb is not None:
                extra.append(f"copied {num(sb / MB, 2)} MB into staging; add {num(med(vals(rs, 'add_s')), 2)} s, "
                             f"log_artifact {num(med(vals(rs, 'log_artifact_s')), 3)} s, finish {num(med(vals(rs, 'finish_s')), 3)} s")
        if extra:
            text += "; " + "; ".join(extra)
        bad = [r for r in rs if not r.get("ok")]
        if bad:
            text += f" — **{len(bad)} of {len(rs)} failed their check**: {bad[0].get('why') or '?'}"
        return text

    cases = [
        ("small_upload", f"{n:,} × {kib} KiB: upload (first)", True),
        ("small_reupload", f"{n:,} × {kib} KiB: re-upload unchanged", True),
        ("small_changed", f"{n:,} × {kib} KiB: upload with one file of {n:,} changed", True),
        ("small_download", f"{n:,} × {kib} KiB: download", True),
        ("big_upload", f"{big_label} file: upload", False),
        ("big_download", f"{big_label} file: download", False),
    ]
    w(f"Figures taken {when} (`bench/run.sh artifacts`); this part took {wall // 60} min {wall % 60} s.\n")
    w(f"- machine: {mc['nproc']} CPUs ({mc['cpu']}), {mc['mem']} RAM, Linux {mc['kernel']}; load average at the end "
      f"{' '.join(mc['load'])}; client and server share the CPUs and the disk; everything over 127.0.0.1")
    w(f"- code: commit {mc['commit']}; the server and CLI `target/release/heron`"
      f"{' (sha256 ' + mc['binary'][:16] + ')' if mc['binary'] else ''}")
    w(f"- workload: {n:,} files of {kib} KiB of random bytes in one folder ({num(n * kib * 1024 / MB, 2)} MB), and one "
      f"{big_label} file of random bytes, made once in `bench/work/artifacts-data` (so they are in the page cache when "
      f"read; downloads are written without an fsync by the peers). Medians of {r_small} repeats for the {n:,}-file "
      f"cases and {min(r_big, r_small)} for the {big_label} ones"
      + (" (fewer: `ART_BIG_R`)" if r_big < r_small else "") + "; each repeat on a fresh server and store. "
      "MB = 10^6 bytes; MB/s and files/s are the input's size and file count over the time, for every case (so "
      "for a deduplicated re-upload they are an effective rate, not bytes sent).")
    w(f"- Heron: {meta['heron'].get('version') or '`heron`'} — the wall time of one `heron artifact put PATH --name N "
      "--type dataset --project P` or `heron artifact get ENTITY/P/N:vN --root DIR` process (process start included), "
      "against a release `heron server` started for the repeat; every download with a fresh `HERON_CACHE_DIR` and root")
    w(f"- MLflow {meta['mlflow'].get('version') or '3.17.2'}: `mlflow server --serve-artifacts --artifacts-destination DIR` "
      "(SQLite backend store, its default workers), the client's `mlflow.log_artifacts(dir)` / `log_artifact(file)` "
      "into a new run per upload and `mlflow.artifacts.download_artifacts(run_id=..., artifact_path=..., dst_path=fresh)`; "
      "the time of that call in a warm client process (import and run creation not counted)"
      + (f"; each fresh server first gets an untimed warm-up of {n:,} other small files up and down, because its first "
         f"~1,000 artifact requests are slower (the warm-up's own upload took {num(med(warm_up), 1)} s, its download "
         f"{num(med(warm_down), 1)} s, medians)" if warm_up else ""))
    w(f"- wandb {meta['wandb'].get('version') or '0.31.0'}: offline (`wandb.init(mode=\"offline\")`), one run per upload: "
      "`wandb.Artifact` → `add_dir` / `add_file` → `run.log_artifact` → `run.finish()`, timed from `wandb.Artifact()` until "
      "`finish()` returns (init not counted): hashing (MD5) and copying every file into its staging folder; nothing is "
      "sent anywhere until a later `wandb sync`, so its figures are a lower bound of what an upload costs")
    oc = other_cpu(d)
    if oc:
        w(f"- CPU time used by processes other than the benchmark (/proc/stat busy time minus what bench/run.sh reaped; "
          f"servers' worker processes stopped by PID count as other): {oc[0]:.1f} CPU-s over {oc[1]:.0f} s "
          f"({oc[0] / oc[1]:.2f} CPUs)"
          + (" — **the machine was busy: treat the figures with care**" if oc[0] / oc[1] > 0.10 else ""))
    for x in notes:
        w(f"- **note:** {x}")
    for t, label in ART_TOOLS:
        why = missing(t)
        if why and (t == "heron" or t in peers):
            w(f"- **{label}: not measured** — {why}")
            chk = next((r for r in J[t] if r.get("case") == "server_check"), None)
            if chk:
                w(f"  (the script's server start / stop was exercised: `heron server` {chk.get('version')} answered on "
                  f"{chk.get('url')} {num(chk.get('start_s'), 1)} s after start, including the 2 s settle, and "
                  + ("exited on SIGTERM in " + num(chk.get("stop_s"), 2) + " s" if chk.get("exited") else "**did not exit**")
                  + ")")
        for r in J[t]:
            if r.get("case") == "error":
                w(f"- **{label}, repeat {r.get('rep')}: error** — `{str(r.get('why'))[:300]}`")
    w("")
    md_table(w, ["case"] + [label for _, label in ART_TOOLS],
             [(label,) + tuple(cell(t, case, many) for t, _ in ART_TOOLS) for case, label, many in cases])

    w("What each could not do, or does differently:\n")
    w("- **re-upload unchanged / one changed**: Heron names stored files by sha256 and asks the server which blobs it "
      "lacks (`POST .../blobs/missing`), so an unchanged folder should upload no bytes and make no new version (the answer is "
      "the existing `v0`), and one changed file should upload that file alone (`v1`): how much the server's data folder "
      "(blob store and SQLite database) grew shows what happened; the client still reads and hashes every file (docs/http-api.md, \"Artifacts\"). MLflow has no content addressing: every upload sends and stores every byte again (see the bytes written to "
      "its destination). wandb offline hashes and copies every file into its staging folder each time; whether the "
      "server would deduplicate can only be seen at `wandb sync`, which needs a server.")
    w("- **download**: wandb offline cannot download at all (no server; `use_artifact().download()` and "
      "`wandb.Api().artifact()` need one). MLflow downloads through the proxy with the client's thread pool; Heron's "
      "client checks each file's sha256 as it writes it. Every download is checked after the clock stops (file count "
      f"and bytes; the {big_label} file's sha256).")
    w("- the clocks differ: Heron's is a whole CLI process, MLflow's and wandb's a call inside an already warm Python "
      "process (their import, about 1–3 s, and run creation are not counted).\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--heron", required=True)
    ap.add_argument("--peer", required=True)
    ap.add_argument("--peer-status", default="")
    ap.add_argument("--wall", type=int, default=0)
    ap.add_argument("--git-state", default="")
    ap.add_argument("--sdk", default="", help="the SDK part's folder (bench/work/sdk)")
    ap.add_argument("--artifacts", default="", help="the artifacts part's folder (bench/work/artifacts)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    L = []
    w = L.append
    w("# Heron benchmarks (DESIGN §5)\n")
    w("Written by `make bench` (`bench/run.sh`): the SDK part (P1, P2, P5, P9, with wandb, trackio, MLflow and Aim), "
      "the server part (P3, P4, P6, P7, P8, with an MLflow server), and the artifacts part (upload / download throughput, "
      "with the MLflow artifact proxy and wandb offline). `bench/run.sh sdk`, `bench/run.sh server` or `bench/run.sh artifacts` reruns one "
      "part; the others keep their figures from their last run, so each part states when it was measured.\n")
    sdk_section(a, w)
    server_section(a, w)
    artifacts_section(a, w)
    w("## How to rerun\n")
    w("```sh")
    w("make bench                                   # release build, then bench/run.sh: all three parts (about 15 min on 2 CPUs, plus 5-8 min for the artifacts part)")
    w("./bench/run.sh                               # again, without rebuilding the server (the SDK wheel is always rebuilt)")
    w("./bench/run.sh sdk                           # the SDK part only (P1, P2, P5, P9 and the SDK peers)")
    w("./bench/run.sh server                        # the server part only (P3, P4, P6, P7, P8 and the MLflow server)")
    w("./bench/run.sh artifacts                     # the artifacts part only (heron artifact, MLflow proxy, wandb offline)")
    w("ART_BIG_R=1 ./bench/run.sh artifacts         # the 1 GiB cases once (see the header of bench/run.sh)")
    w("PEER=0 ./bench/run.sh                        # Heron only")
    w("SDK_PEERS='wandb trackio' SDK_R=1 ./bench/run.sh sdk   # fewer peers / runs (see the header of bench/run.sh)")
    w("HERON_BENCH_ARGS='--only p4 --p4-reads 100' PEER=0 ./bench/run.sh server   # one benchmark; see --help")
    w("target/release/heron-bench --help           # every size and count")
    w("target/release/heron-sdk-bench --help       # P2")
    w("bench/work/venv-mlflow/bin/python bench/peer_mlflow.py --work bench/work/mlflow --out bench/work/mlflow.json")
    w("BENCH_T0_NS=$(date +%s%N) bench/work/venv-heron/bin/python bench/sdk_heron.py -N 100000 --dir /tmp/h   # P1 by hand")
    w("```")
    w("Raw figures: `bench/work/heron.json`, `bench/work/mlflow.json`, `bench/work/sdk/` (`jsonl/*.jsonl`, one line per "
      "process, `p2.json`, `time.txt`, `logs/`), `bench/work/artifacts/` (`heron.jsonl`, `mlflow.jsonl`, `wandb.jsonl`, "
      "one line per measurement, `logs/`); server logs in `bench/work/` (all git-ignored). "
      "Run it on an otherwise idle machine: the figures include whatever else competes for the CPUs.")
    with open(a.out, "w") as f:
        f.write("\n".join(L) + "\n")


if __name__ == "__main__":
    main()
