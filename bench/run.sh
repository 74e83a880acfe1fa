#!/usr/bin/env bash
# The benchmarks of DESIGN §5, Heron and its peers one after the other on this machine; writes
# bench/RESULTS.md. `make bench` builds and then calls this.
#
# usage: bench/run.sh [PART...]   PART: server    (P3, P4, P6, P7, P8 with the MLflow server peer)
#                                       sdk       (P1, P2, P5, P9 with wandb, trackio, MLflow, Aim)
#                                       artifacts (artifact upload / download throughput: Heron's `heron artifact`,
#                                                  the MLflow artifact proxy, wandb offline)
#                                       all       (default: server, then sdk, then artifacts)
# A part not run keeps its section of RESULTS.md from its last run (each section has its own date).
#
# env: HERON_BIN (target/release/heron)  HERON_BENCH_BIN (target/release/heron-bench)
#      HERON_BENCH_ARGS  extra flags for heron-bench (see `heron-bench --help`), e.g. "--p3-repeats 1"
#      PEER=0            Heron only (no MLflow server peer, no SDK peers)   PEER_ARGS  extra flags for bench/peer_mlflow.py
#  sdk part:
#      HERON_SDK_BENCH_BIN (target/release/heron-sdk-bench)   SDK_P2_ARGS  extra flags for it (see --help)
#      SDK_PEERS="trackio wandb mlflow aim"   which peers       BENCH_PEERS_DIR (../shared/bench/peers): their scripts
#      SDK_R=3 runs per peer workload   SDK_HR=5 runs per Heron workload   NF=100000 steps   NS=10000 steps for slow peers
#      SDK_REUSE=1  reuse the 100k-step aim / mlflow-sqlite stores kept in bench/work/sdk-keep for the read-back
#                   (they take ~5 min to write; 0 writes them again)
#      The Heron package is built in release mode (maturin) into its own venv, bench/work/venv-heron; each peer
#      gets bench/work/venv-<peer> (created on first use with pip, pinned versions below).
#  artifacts part: 1,000 files of 4 KiB in a folder, and one 1 GiB file (random bytes, made once in
#      bench/work/artifacts-data), uploaded and downloaded over 127.0.0.1; medians of the repeats.
#      ART_R=3 repeats (1,000-file cases)   ART_BIG_R=3 repeats of the 1 GiB cases (at most ART_R; 0: none)
#      ART_N=1000 files   ART_KIB=4 KiB each   ART_BIG_MIB=1024 (other sizes make the data again)
#      ART_PEERS="mlflow wandb"   which peers (PEER=0: none)   ART_HERON=0  skip the Heron side
#      Heron needs `heron artifact` in $HERON_BIN (without it the Heron column says so and only the server's
#      start / stop is exercised); each peer runs from bench/work/venv-<peer> as above.
#      Raw JSON lines: bench/work/artifacts/{heron,mlflow,wandb}.jsonl, logs in bench/work/artifacts/logs.
# scratch data, logs and the raw JSON go to bench/work/ (git-ignored).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=bench/work
HERON_BIN=${HERON_BIN:-target/release/heron}
HERON_BENCH_BIN=${HERON_BENCH_BIN:-target/release/heron-bench}
HERON_SDK_BENCH_BIN=${HERON_SDK_BENCH_BIN:-target/release/heron-sdk-bench}
MLFLOW_VERSION=3.17.2
# the peers' versions, as in ../shared/bench/peers/run_all.sh
declare -A PEER_VERSION=([wandb]=0.31.0 [trackio]=0.43.0 [mlflow]=$MLFLOW_VERSION [aim]=3.29.1)
VENV=$WORK/venv-mlflow
BENCH_API_KEY=heron_bench_key_0123456789abcdef
mkdir -p "$WORK"
T0=$(date +%s)
export MLFLOW_ENABLE_ASYNC_LOGGING=false

# ensure_venv PEER: bench/work/venv-PEER with PEER==its pinned version; 1 if it cannot be made
ensure_venv() {
  local p=$1 v=${PEER_VERSION[$1]} dir=$WORK/venv-$1
  "$dir/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('$p') != '$v')" 2>/dev/null && return 0
  echo "creating $dir (pip install $p==$v; a few minutes)" >&2
  rm -rf "$dir"
  { python3 -m venv "$dir" && "$dir/bin/pip" install -q "$p==$v"; } > "$WORK/pip-$p.log" 2>&1 && return 0
  echo "could not install $p==$v: $(grep -m1 -iE 'error' "$WORK/pip-$p.log" | cut -c1-200)" >&2
  return 1
}

server_part() {
  rm -f "$WORK/heron.json" "$WORK/mlflow.json" "$WORK/peer-status.txt" "$WORK/git-state.txt"
  # what is being measured: the commit, uncommitted changes, and the server binary itself
  { git rev-parse HEAD; git status --porcelain --untracked-files=no; echo "binary $(sha256sum "$HERON_BIN" | cut -c1-64)"; } \
    > "$WORK/git-state.txt" 2>/dev/null
  local t0
  t0=$(date +%s)
  echo "== heron-bench ($HERON_BIN): P3, P4, P6, P7, P8" >&2
  # shellcheck disable=SC2086
  timeout 1500 "$HERON_BENCH_BIN" --heron "$HERON_BIN" --work "$WORK" --out "$WORK/heron.json" --p8-script bench/p8_dashboard.mjs ${HERON_BENCH_ARGS:-} \
    > /dev/null 2> >(tee "$WORK/heron-bench.log" >&2)
  local rc=$?
  [ $rc -ne 0 ] && echo "heron-bench failed (exit $rc); see $WORK/heron-bench.log" >&2

  if [ "${PEER:-1}" = 0 ]; then
    echo "skipped (PEER=0)" > "$WORK/peer-status.txt"
  else
    echo "== MLflow $MLFLOW_VERSION peer (mlflow server, SQLite)" >&2
    if ! ensure_venv mlflow; then
      echo "could not install mlflow==$MLFLOW_VERSION: $(grep -m1 -iE 'error' "$WORK/pip-mlflow.log" | cut -c1-200)" > "$WORK/peer-status.txt"
    fi
    if [ ! -f "$WORK/peer-status.txt" ]; then
      # shellcheck disable=SC2086
      timeout 900 "$VENV/bin/python" bench/peer_mlflow.py --work "$WORK/mlflow" --out "$WORK/mlflow.json" ${PEER_ARGS:-} \
        > /dev/null 2> >(tee "$WORK/peer-mlflow.log" >&2)
      local prc=$?
      if [ $prc -ne 0 ] || [ ! -s "$WORK/mlflow.json" ]; then
        echo "bench/peer_mlflow.py failed (exit $prc): $(tail -n 1 "$WORK/peer-mlflow.log" | cut -c1-200)" > "$WORK/peer-status.txt"
      fi
    fi
  fi
  echo $(( $(date +%s) - t0 )) > "$WORK/server-wall.txt"
}

# ---------------------------------------------------------------------------------------------
# SDK part: P1, P2, P5, P9. Every workload is one process per run, started like the peers'
# run_all.sh does (BENCH_T0_NS set by the shell right before `exec python`), strictly one at a time.
SDK=$WORK/sdk
KEEP=$WORK/sdk-keep

sdk_note() {  # a line for RESULTS.md's SDK section (failures, skipped parts)
  echo "$*" | tee -a "$SDK/notes.txt" >&2
}

# sdk_wl NAME PYTHON SCRIPT N R TIMEOUT [args]: R runs, each in a fresh folder under $SDK/runs/NAME
# (or, with DIR=path in the environment, in that folder); results to $SDK/jsonl/NAME.jsonl, whole-process
# wall / cpu / peak RSS (/usr/bin/time) to $SDK/time.txt
sdk_wl() {
  local name=$1 py=$2 script=$3 n=$4 r=$5 to=$6; shift 6
  local i d rc
  mkdir -p "$SDK/runs/$name"
  echo "-- $name: N=$n x$r" >&2
  for i in $(seq "$r"); do
    d=${DIR:-$(mktemp -d -p "$SDK/runs/$name")}
    mkdir -p "$d"
    /usr/bin/time -f "TIME name=$name wall=%e user=%U sys=%S maxrss_kib=%M" -a -o "$SDK/time.txt" \
      timeout "$to" sh -c 'export BENCH_T0_NS=$(date +%s%N); exec "$@"' sh \
      "$py" "$script" -N "$n" -K 10 --dir "$d" --out "$SDK/jsonl/$name.jsonl" "$@" >> "$SDK/logs/$name.log" 2>&1
    rc=$?
    [ $rc -ne 0 ] && sdk_note "$name run $i failed (exit $rc): $(grep -v '^RESULT' "$SDK/logs/$name.log" | tail -n 1 | cut -c1-200)"
  done
}

# sdk_one NAME PYTHON SCRIPT R DIR [args]: R runs of a non-log mode (init / read) on an existing DIR
sdk_one() {
  local name=$1 py=$2 script=$3 r=$4 d=$5; shift 5
  local i rc
  echo "-- $name x$r" >&2
  for i in $(seq "$r"); do
    timeout 600 sh -c 'export BENCH_T0_NS=$(date +%s%N); exec "$@"' sh \
      "$py" "$script" --dir "$d" --out "$SDK/jsonl/$name.jsonl" "$@" >> "$SDK/logs/$name.log" 2>&1
    rc=$?
    [ $rc -ne 0 ] && sdk_note "$name run $i failed (exit $rc): $(grep -v '^RESULT' "$SDK/logs/$name.log" | tail -n 1 | cut -c1-200)"
  done
}

latest() { ls -td "$SDK/runs/$1"/tmp.* 2>/dev/null | head -1; }

build_heron_python() {  # release wheel of python/ into bench/work/venv-heron
  local v=$ROOT/$WORK/venv-heron
  if [ ! -x "$v/bin/maturin" ]; then
    rm -rf "$v"
    { python3 -m venv "$v" && "$v/bin/pip" install -q 'maturin>=1.9.4,<2'; } > "$WORK/pip-heron.log" 2>&1 \
      || { sdk_note "could not create $v: $(grep -m1 -iE 'error' "$WORK/pip-heron.log" | cut -c1-200)"; return 1; }
  fi
  rm -rf "$SDK/wheel"
  echo "-- maturin build --release (heron Python package)" >&2
  if ! (cd python && CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target} VIRTUAL_ENV=$v PATH="$v/bin:$PATH" \
        maturin build --release --locked -i "$v/bin/python" -o "$ROOT/$SDK/wheel") > "$SDK/logs/maturin.log" 2>&1; then
    sdk_note "maturin build --release failed: $(grep -m1 -E '^error' "$SDK/logs/maturin.log" | cut -c1-200) (see $SDK/logs/maturin.log)"
    return 1
  fi
  "$v/bin/pip" install -q --force-reinstall --no-deps "$SDK"/wheel/heron-*.whl > "$SDK/logs/pip-heron-wheel.log" 2>&1 \
    || { sdk_note "pip install of the heron wheel failed (see $SDK/logs/pip-heron-wheel.log)"; return 1; }
  sha256sum "$SDK"/wheel/heron-*.whl | cut -c1-64 > "$SDK/wheel-sha256.txt"
}

SERVER_PID=""
start_server() {  # a release `heron server` on 127.0.0.1, free port, fresh data folder; sets HERON_URL
  local d=$SDK/server
  rm -rf "$d"; mkdir -p "$d"
  env -u HERON_BASE_URL -u HERON_API_KEY HERON_BOOTSTRAP_API_KEY=$BENCH_API_KEY HERON_LOG=warn \
    "$HERON_BIN" server --host 127.0.0.1 --port 0 --data "$d/data" > "$d/stdout.log" 2> "$d/stderr.log" &
  SERVER_PID=$!
  local i
  HERON_URL=""
  for i in $(seq 300); do
    HERON_URL=$(grep -o 'listening on http://127\.0\.0\.1:[0-9]*' "$d/stdout.log" 2>/dev/null | cut -d' ' -f3)
    [ -n "$HERON_URL" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$HERON_URL" ]; then
    sdk_note "heron server did not start: $(tail -n 1 "$d/stderr.log" | cut -c1-200)"
    stop_server
    return 1
  fi
  sleep 2   # let it settle: idle before the first measurement
}

stop_server() {
  [ -z "$SERVER_PID" ] && return 0
  kill -TERM "$SERVER_PID" 2>/dev/null
  local i
  for i in $(seq 300); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$SERVER_PID" 2>/dev/null && { echo "heron server $SERVER_PID still running 30 s after SIGTERM; killing it" >&2; kill -KILL "$SERVER_PID"; }
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=""
}
trap stop_server EXIT

sdk_part() {
  local t0 hr=${SDK_HR:-5} r=${SDK_R:-3} nf=${NF:-100000} ns=${NS:-10000} peers=${SDK_PEERS:-trackio wandb mlflow aim}
  local pdir=${BENCH_PEERS_DIR:-$ROOT/../shared/bench/peers}
  t0=$(date +%s)
  rm -rf "$SDK"
  mkdir -p "$SDK/jsonl" "$SDK/logs" "$SDK/runs" "$KEEP"
  export BENCH_PEERS_DIR=$pdir
  { git rev-parse HEAD; git status --porcelain --untracked-files=no; echo "binary $(sha256sum "$HERON_BIN" | cut -c1-64)"; } \
    > "$SDK/git-state.txt" 2>/dev/null
  [ "${PEER:-1}" = 0 ] && peers=""
  echo "$nf $ns $r $hr $peers" > "$SDK/params.txt"
  # CPU time of other processes = the machine's busy time minus this shell's children (reaped), start to end
  { head -n 1 /proc/stat; times; date +%s.%N; } > "$SDK/cpu-start.txt"

  echo "== Heron SDK: P2 (Rust SDK, $HERON_SDK_BENCH_BIN)" >&2
  # shellcheck disable=SC2086
  if ! timeout 600 "$HERON_SDK_BENCH_BIN" --dir "$SDK/rust" --out "$SDK/p2.json" ${SDK_P2_ARGS:-} > /dev/null 2> "$SDK/logs/p2.log"; then
    sdk_note "heron-sdk-bench failed: $(tail -n 1 "$SDK/logs/p2.log" | cut -c1-200)"
  fi
  cat "$SDK/logs/p2.log" >&2

  echo "== Heron SDK: P1, P5, P9 (Python, release build)" >&2
  local hpy=$ROOT/$WORK/venv-heron/bin/python hs=bench/sdk_heron.py
  if build_heron_python; then
    # P1: offline (no server: like wandb offline and the local peers), run.log and the module-level heron.log
    sdk_wl heron "$hpy" $hs "$nf" "$hr" 300
    sdk_wl heron-module "$hpy" $hs "$nf" 3 300 --call module
    sdk_one heron-init-offline "$hpy" $hs "$hr" "$(latest heron)" --mode init
    # online against a release server on loopback: P1 online, P5 (start->ready, finish after 1M points), P9
    if start_server; then
      export HERON_API_KEY=$BENCH_API_KEY
      sdk_wl heron-online "$hpy" $hs "$nf" 3 300 --backend "$HERON_URL"
      sdk_one heron-read "$hpy" $hs 3 "$(latest heron-online)" --mode read --backend "$HERON_URL" --reads 10
      sdk_one heron-init "$hpy" $hs "$hr" "$(latest heron-online)" --mode init --backend "$HERON_URL"
      unset HERON_API_KEY
      grep -E '"level":"(WARN|ERROR)"|WARN|ERROR' "$SDK/server/stderr.log" | head -n 3 | while read -r l; do sdk_note "server: ${l:0:200}"; done
      stop_server
    fi
  fi

  local p py
  for p in $peers; do
    py=$ROOT/$WORK/venv-$p/bin/python
    ensure_venv "$p" || { sdk_note "$p skipped: could not install $p==${PEER_VERSION[$p]} (see $WORK/pip-$p.log)"; continue; }
    "$py" -c "import importlib.metadata as m; print(m.version('$p'))" > "$SDK/version-$p.txt" 2>/dev/null
    echo "== peer $p ${PEER_VERSION[$p]}" >&2
    case $p in
      trackio)
        sdk_wl trackio "$py" "$pdir/bench_trackio.py" "$nf" "$r" 600
        sdk_one trackio-read "$py" "$pdir/bench_trackio.py" "$r" "$(latest trackio)" --mode read
        sdk_one trackio-init "$py" "$pdir/bench_trackio.py" "$r" "$(latest trackio)" --mode init ;;
      wandb)
        sdk_wl wandb "$py" "$pdir/bench_wandb.py" "$nf" "$r" 900
        sdk_one wandb-read "$py" "$pdir/bench_wandb.py" 1 "$(latest wandb)" --mode read
        sdk_one wandb-init "$py" "$pdir/bench_wandb.py" "$r" "$(latest wandb)" --mode init ;;
      mlflow)
        # file store: ~0.9 ms/call, flat in N: one full-size run (also the read-back store)
        sdk_wl mlflow-file "$py" "$pdir/bench_mlflow.py" "$nf" 1 900 --backend file
        sdk_wl mlflow-sqlite "$py" "$pdir/bench_mlflow.py" "$ns" 1 600 --backend sqlite   # ~6 ms/call: N cut
        sdk_one mlflow-file-read "$py" "$pdir/bench_mlflow.py" "$r" "$(latest mlflow-file)" --mode read --backend file
        sdk_one mlflow-file-init "$py" "$pdir/bench_mlflow.py" "$r" "$(latest mlflow-file)" --mode init --backend file
        sdk_one mlflow-sqlite-init "$py" "$pdir/bench_mlflow.py" "$r" "$(latest mlflow-sqlite)" --mode init --backend sqlite
        local k=$KEEP/mlflow-sqlite-b1k
        if [ "${SDK_REUSE:-1}" = 0 ] || [ "$(cat "$k/.complete" 2>/dev/null)" != "mlflow ${PEER_VERSION[mlflow]} N=$nf" ]; then
          rm -rf "$k"
          DIR=$k sdk_wl mlflow-sqlite-b1k "$py" "$pdir/bench_mlflow.py" "$nf" 1 900 --backend sqlite --batch 1000
          [ -s "$SDK/jsonl/mlflow-sqlite-b1k.jsonl" ] && echo "mlflow ${PEER_VERSION[mlflow]} N=$nf" > "$k/.complete"
        fi
        sdk_one mlflow-sqlite-read "$py" "$pdir/bench_mlflow.py" "$r" "$k" --mode read --backend sqlite ;;
      aim)
        sdk_wl aim "$py" "$pdir/bench_aim.py" "$ns" "$r" 600   # ~1-1.7 ms/call, growing with N: N cut
        sdk_one aim-init "$py" "$pdir/bench_aim.py" "$r" "$(latest aim)" --mode init
        local k=$KEEP/aim-100k
        if [ "${SDK_REUSE:-1}" = 0 ] || [ "$(cat "$k/.complete" 2>/dev/null)" != "aim ${PEER_VERSION[aim]} N=$nf" ]; then
          rm -rf "$k"
          DIR=$k sdk_wl aim-100k "$py" "$pdir/bench_aim.py" "$nf" 1 900
          [ -s "$SDK/jsonl/aim-100k.jsonl" ] && echo "aim ${PEER_VERSION[aim]} N=$nf" > "$k/.complete"
        fi
        sdk_one aim-read "$py" "$pdir/bench_aim.py" "$r" "$k" --mode read ;;
      *) sdk_note "unknown peer $p (SDK_PEERS: trackio wandb mlflow aim)" ;;
    esac
  done
  # the bulky run folders (wandb/trackio ~60 MB per 100k-step run) are not kept
  rm -rf "$SDK/runs" "$SDK/rust"
  { head -n 1 /proc/stat; times; date +%s.%N; } > "$SDK/cpu-end.txt"
  echo $(( $(date +%s) - t0 )) > "$SDK/wall.txt"
}

# ---------------------------------------------------------------------------------------------
# Artifacts part: bench/artifacts_heron.py (Heron CLI against a release server), bench/peer_artifacts_mlflow.py,
# bench/peer_artifacts_wandb.py, one after another, each appending JSON lines to $ART/<tool>.jsonl.
ART=$WORK/artifacts

art_note() {  # a line for RESULTS.md's Artifacts section
  echo "$*" | tee -a "$ART/notes.txt" >&2
}

artifacts_part() {
  local t0 r=${ART_R:-3} br=${ART_BIG_R:-3} peers=${ART_PEERS:-mlflow wandb} data=$WORK/artifacts-data p rc py
  t0=$(date +%s)
  rm -rf "$ART"
  mkdir -p "$ART/logs"
  [ "$br" -gt "$r" ] && br=$r
  [ "${PEER:-1}" = 0 ] && peers=""
  { git rev-parse HEAD; git status --porcelain --untracked-files=no; echo "binary $(sha256sum "$HERON_BIN" 2>/dev/null | cut -c1-64)"; } \
    > "$ART/git-state.txt" 2>/dev/null
  echo "$r $br $peers" > "$ART/params.txt"
  echo "== artifacts: input files ($data)" >&2
  if ! python3 bench/artifacts_data.py --dir "$data" --small-n "${ART_N:-1000}" --small-kib "${ART_KIB:-4}" \
       --big-mib "${ART_BIG_MIB:-1024}" > "$ART/data.json" 2> "$ART/logs/data.log"; then
    art_note "could not make the input files: $(tail -n 1 "$ART/logs/data.log" | cut -c1-200)"
    return 1
  fi
  { head -n 1 /proc/stat; times; date +%s.%N; } > "$ART/cpu-start.txt"
  if [ "${ART_HERON:-1}" != 0 ]; then
    echo "== artifacts: Heron ($HERON_BIN artifact put / get)" >&2
    timeout 3600 python3 bench/artifacts_heron.py --heron "$HERON_BIN" --api-key "$BENCH_API_KEY" --data "$data" \
      --work "$ART/heron" --out "$ART/heron.jsonl" -R "$r" --big-repeats "$br" > /dev/null 2> "$ART/logs/heron.log"
    rc=$?
    case $rc in
      0) ;;
      3) echo "Heron not measured: $(python3 -c 'import json, sys; print(next(json.loads(l)["why"] for l in open(sys.argv[1]) if "\"unavailable\"" in l))' "$ART/heron.jsonl" 2>&1 | cut -c1-200)" >&2 ;;
      *) art_note "bench/artifacts_heron.py failed (exit $rc): $(tail -n 1 "$ART/logs/heron.log" | cut -c1-200)" ;;
    esac
  fi
  for p in $peers; do
    case $p in mlflow|wandb) ;; *) art_note "unknown peer $p (ART_PEERS: mlflow wandb)"; continue ;; esac
    ensure_venv "$p" || { art_note "$p skipped: could not install $p==${PEER_VERSION[$p]} (see $WORK/pip-$p.log)"; continue; }
    py=$ROOT/$WORK/venv-$p/bin/python
    echo "== artifacts: peer $p ${PEER_VERSION[$p]}" >&2
    timeout 3600 "$py" "bench/peer_artifacts_$p.py" --data "$data" --work "$ART/$p" --out "$ART/$p.jsonl" \
      -R "$r" --big-repeats "$br" > /dev/null 2> "$ART/logs/$p.log"
    rc=$?
    [ $rc -ne 0 ] && art_note "bench/peer_artifacts_$p.py failed (exit $rc): $(tail -n 1 "$ART/logs/$p.log" | cut -c1-200)"
  done
  { head -n 1 /proc/stat; times; date +%s.%N; } > "$ART/cpu-end.txt"
  echo $(( $(date +%s) - t0 )) > "$ART/wall.txt"
}

[ $# -eq 0 ] && set -- all
for part in "$@"; do
  case $part in
    all) server_part; sdk_part; artifacts_part ;;
    server) server_part ;;
    sdk) sdk_part ;;
    artifacts) artifacts_part ;;
    *) echo "usage: bench/run.sh [all|server|sdk|artifacts]..." >&2; exit 2 ;;
  esac
done

python3 bench/write_results.py --heron "$WORK/heron.json" --peer "$WORK/mlflow.json" \
  --peer-status "$WORK/peer-status.txt" --git-state "$WORK/git-state.txt" --wall "$(cat "$WORK/server-wall.txt" 2>/dev/null || echo 0)" \
  --sdk "$SDK" --artifacts "$ART" --out bench/RESULTS.md
echo "wrote bench/RESULTS.md ($(( $(date +%s) - T0 )) s)" >&2
