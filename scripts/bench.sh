#!/usr/bin/env bash
# scripts/bench.sh: run benchmarks against a throwaway cluster of the staged
# build.  With no arguments runs every test/bench/bench_*.sh in name order;
# otherwise runs the given command (e.g. test/bench/annbench.py ...) with
# PGHOST/PGPORT/PGDATABASE pointing at the cluster.  Results are JSON lines.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$VSIM_ROOT"
vsim_data_dir || true    # a VSIM_DATA naming no directory stops here, before the build

"$VSIM_ROOT/scripts/setup.sh" >&2
stage_install
BENCH_DIR=$(pg_tempdir bench)
trap 'stop_cluster "$BENCH_DIR" "$STAGE_BINDIR"; rm -rf "$BENCH_DIR"' EXIT
start_cluster "$BENCH_DIR" "$STAGE_BINDIR" \
  "shared_buffers = 4GB" "maintenance_work_mem = 4GB" "max_wal_size = 8GB" \
  "max_parallel_workers_per_gather = 0" "max_parallel_maintenance_workers = 2" \
  "jit = off" "synchronous_commit = off"
if [ $# -gt 0 ]; then
  "$@"
else
  for b in test/bench/bench_*.sh; do
    log "benchmark $b"
    bash "$b"
  done
fi
