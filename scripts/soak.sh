#!/usr/bin/env bash
# scripts/soak.sh: soak test of both index methods under concurrent load,
# then a crash.
#
#   ./scripts/soak.sh [SECONDS [CLIENTS [ROWS]]]     (defaults 600, 8, 20000)
#
# Starts a throwaway cluster of the staged build, loads ROWS random 32-d
# vectors into an HNSW- and an IVFFlat-indexed table (test/soak/setup.sql),
# then runs pgbench with CLIENTS clients for SECONDS seconds mixing inserts,
# deletes, top-10 searches through both indexes and VACUUMs
# (test/soak/*.sql; every insert and delete also writes a ledger row in its
# transaction).  Then it kills the postmaster with SIGKILL, restarts it
# (crash recovery replays the WAL) and runs test/soak/check.sql:
# vsim.index_check(..., heapallindexed) on both indexes, the ledger's rows
# against the tables' (none lost, none resurrected), and a sample of rows
# each found as its own neighbour through its index.  Prints the figures as
# one JSON line and exits non-zero on any error, lost row or damage.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$VSIM_ROOT"

seconds=${1:-600}
clients=${2:-8}
rows=${3:-20000}
soak=$VSIM_ROOT/test/soak

"$VSIM_ROOT/scripts/setup.sh" >&2
stage_install
dir=$(pg_tempdir soak)
trap 'stop_cluster "$dir" "$STAGE_BINDIR"' EXIT
start_cluster "$dir" "$STAGE_BINDIR" "shared_buffers = 256MB" "max_connections = 50" \
  "log_min_messages = warning"
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }

log "soak: loading $rows rows per table"
psql -v rows="$rows" -f "$soak/setup.sql" >/dev/null

log "soak: pgbench, $clients clients, $seconds s"
set +e
as_pg env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" "$STAGE_BINDIR/pgbench" \
  -n -c "$clients" -j 2 -T "$seconds" \
  -f "$soak/insert.sql@4" -f "$soak/delete.sql@2" -f "$soak/query.sql@10" -f "$soak/vacuum.sql@1" \
  postgres >"$dir/pgbench.log" 2>&1
bench_rc=$?
set -e
cat "$dir/pgbench.log" >&2
tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$dir/pgbench.log" | head -1)
txns=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$dir/pgbench.log")
errors=$(grep -c 'ERROR' "$dir/pgbench.log" || true)

log "soak: SIGKILL to the postmaster, then crash recovery"
# the postmaster and all its children at once, as a power loss would
pm=$(head -1 "$dir/data/postmaster.pid")
kill -9 "$pm" $(pgrep -P "$pm") 2>/dev/null || true
# the new postmaster refuses to start while the old PID exists (even as a
# zombie not yet reaped)
for _ in $(seq 150); do kill -0 "$pm" 2>/dev/null || break; sleep 0.2; done
kill -0 "$pm" 2>/dev/null && die "the killed postmaster $pm does not go away"
as_pg "$STAGE_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null

psql -At -F ' ' -f "$soak/check.sql" >"$dir/check.log" 2>&1 || { cat "$dir/check.log" >&2; die "checks failed"; }
get() { awk -v k="$1" '$1 == k { print $2 }' "$dir/check.log"; }
crashes=$(grep -cE 'terminated by signal|PANIC|TRAP' "$dir/server.log" || true)
printf '{"seconds": %s, "clients": %s, "rows": %s, "tps": %s, "transactions": %s, "errors": %s, "rows_expected": %s, "rows_present": %s, "rows_lost": %s, "rows_resurrected": %s, "hnsw_unfindable": %s, "ivf_unfindable": %s, "server_crashes": %s}\n' \
  "$seconds" "$clients" "$rows" "${tps:-0}" "${txns:-0}" "$errors" "$(get rows_expected)" "$(get rows_present)" \
  "$(get rows_lost)" "$(get rows_resurrected)" "$(get hnsw_unfindable)" "$(get ivf_unfindable)" "$crashes"
[ "$bench_rc" -eq 0 ] && [ "$errors" -eq 0 ] && [ "$(get rows_lost)" = 0 ] && [ "$(get rows_resurrected)" = 0 ] \
  && [ "$(get hnsw_unfindable)" = 0 ] && [ "$(get ivf_unfindable)" = 0 ] && [ "$crashes" -eq 0 ] \
  || die "soak found a problem (logs in $dir)"
