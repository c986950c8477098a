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
# against the tables' (none lost, none resurrected), no committed row whose
# HNSW element no search reaches, and a 10% sample of rows each returned
# by an index scan that runs until it returns it (the index lost none);
# it reports, without asserting, the share of the sample a default scan
# returns as its own nearest neighbour, for the churned index and for a
# fresh build of the same rows.  Prints the figures as one JSON line and exits
# non-zero on any error, lost row or damage.
# With VSIM_SOAK_KEEP=1 the cluster is left running afterwards (its
# directory is printed; stop it with pg_ctl -D DIR/data stop), to study it.
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
if [ "${VSIM_SOAK_KEEP:-0}" = 1 ]; then
  trap 'log "soak: cluster left running in $dir (PGHOST=$dir)"' EXIT
else
  trap 'stop_cluster "$dir" "$STAGE_BINDIR"' EXIT
fi
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
fields="rows_expected rows_present rows_lost rows_resurrected hnsw_sampled hnsw_unreachable_rows
  hnsw_unreachable hnsw_unlinked hnsw_unfindable ivf_sampled ivf_unfindable hnsw_self_top1_ef40
  fresh_self_top1_ef40 fresh_unreachable"
json=$(printf '"seconds": %s, "clients": %s, "rows": %s, "tps": %s, "transactions": %s, "errors": %s' \
  "$seconds" "$clients" "$rows" "${tps:-0}" "${txns:-0}" "$errors")
for f in $fields; do json="$json, \"$f\": $(get "$f")"; done
echo "{$json, \"server_crashes\": $crashes}"
# Asserted: no error, no committed row lost or resurrected, none the index
# lost (hnsw_unreachable_rows: every committed row; the *_unfindable: the
# sample, through index scans that run until they return the row; see
# check.sql).  The self_top1 figures are search quality, reported only.
[ "$bench_rc" -eq 0 ] && [ "$errors" -eq 0 ] && [ "$(get rows_lost)" = 0 ] && [ "$(get rows_resurrected)" = 0 ] \
  && [ "$(get hnsw_unreachable_rows)" = 0 ] && [ "$(get hnsw_unfindable)" = 0 ] && [ "$(get ivf_unfindable)" = 0 ] \
  && [ "$crashes" -eq 0 ] \
  || die "soak found a problem (logs in $dir)"
