#!/usr/bin/env bash
# The benchmarks of DESIGN §5 that need a server (P3, P4, P6, P7), Heron and the MLflow peer, one
# after the other on this machine; writes bench/RESULTS.md. `make bench` builds and then calls this.
#
# env: HERON_BIN (target/release/heron)  HERON_BENCH_BIN (target/release/heron-bench)
#      HERON_BENCH_ARGS  extra flags for heron-bench (see `heron-bench --help`), e.g. "--p3-repeats 1"
#      PEER=0            skip the MLflow peer        PEER_ARGS  extra flags for bench/peer_mlflow.py
# scratch data, logs and the raw JSON go to bench/work/ (git-ignored).
set -uo pipefail
cd "$(dirname "$0")/.."
WORK=bench/work
HERON_BIN=${HERON_BIN:-target/release/heron}
HERON_BENCH_BIN=${HERON_BENCH_BIN:-target/release/heron-bench}
MLFLOW_VERSION=3.17.2
VENV=$WORK/venv-mlflow
mkdir -p "$WORK"
rm -f "$WORK/heron.json" "$WORK/mlflow.json" "$WORK/peer-status.txt" "$WORK/git-state.txt"
T0=$(date +%s)
# what is being measured: the commit, uncommitted changes, and the server binary itself
{ git rev-parse HEAD; git status --porcelain --untracked-files=no; echo "binary $(sha256sum "$HERON_BIN" | cut -c1-64)"; } \
  > "$WORK/git-state.txt" 2>/dev/null
export MLFLOW_ENABLE_ASYNC_LOGGING=false

echo "== heron-bench ($HERON_BIN): P3, P4, P6, P7" >&2
# shellcheck disable=SC2086
timeout 1500 "$HERON_BENCH_BIN" --heron "$HERON_BIN" --work "$WORK" --out "$WORK/heron.json" ${HERON_BENCH_ARGS:-} \
  > /dev/null 2> >(tee "$WORK/heron-bench.log" >&2)
rc=$?
[ $rc -ne 0 ] && echo "heron-bench failed (exit $rc); see $WORK/heron-bench.log" >&2

if [ "${PEER:-1}" = 0 ]; then
  echo "skipped (PEER=0)" > "$WORK/peer-status.txt"
else
  echo "== MLflow $MLFLOW_VERSION peer (mlflow server, SQLite)" >&2
  if ! "$VENV/bin/python" -c "import mlflow, sys; sys.exit(mlflow.__version__ != '$MLFLOW_VERSION')" 2>/dev/null; then
    echo "creating $VENV (pip install mlflow==$MLFLOW_VERSION; a few minutes)" >&2
    rm -rf "$VENV"
    if ! { python3 -m venv "$VENV" && "$VENV/bin/pip" install -q "mlflow==$MLFLOW_VERSION"; } > "$WORK/pip.log" 2>&1; then
      echo "could not install mlflow==$MLFLOW_VERSION: $(grep -m1 -iE 'error' "$WORK/pip.log" | cut -c1-200)" > "$WORK/peer-status.txt"
    fi
  fi
  if [ ! -f "$WORK/peer-status.txt" ]; then
    # shellcheck disable=SC2086
    timeout 900 "$VENV/bin/python" bench/peer_mlflow.py --work "$WORK/mlflow" --out "$WORK/mlflow.json" ${PEER_ARGS:-} \
      > /dev/null 2> >(tee "$WORK/peer-mlflow.log" >&2)
    prc=$?
    if [ $prc -ne 0 ] || [ ! -s "$WORK/mlflow.json" ]; then
      echo "bench/peer_mlflow.py failed (exit $prc): $(tail -n 1 "$WORK/peer-mlflow.log" | cut -c1-200)" > "$WORK/peer-status.txt"
    fi
  fi
fi

python3 bench/write_results.py --heron "$WORK/heron.json" --peer "$WORK/mlflow.json" \
  --peer-status "$WORK/peer-status.txt" --git-state "$WORK/git-state.txt" --wall $(( $(date +%s) - T0 )) --out bench/RESULTS.md
echo "wrote bench/RESULTS.md ($(( $(date +%s) - T0 )) s)" >&2
