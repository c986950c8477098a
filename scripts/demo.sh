#!/usr/bin/env bash
# scripts/demo.sh: vsim's main job, similarity search on real data.
#
# Installs what is missing (as root), builds and installs vsim, starts a
# throwaway PostgreSQL cluster on a private Unix socket (or uses the server
# named by PGHOST/PGPORT/PGDATABASE when one of them is set), then runs the
# demo parts in scripts/demo.d/ in name order.  Each part is a bash
# fragment that uses the functions below.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$VSIM_ROOT"
vsim_data_dir || true    # a VSIM_DATA naming no directory stops here, before the build

"$VSIM_ROOT/scripts/setup.sh"
if [ "$(id -u)" -eq 0 ]; then
  log "installing vsim into PostgreSQL $PG_MAJOR"
  make -s install PG_CONFIG="$PG_CONFIG" >/dev/null
else
  log "not root: assuming vsim is installed (run 'sudo make install' otherwise)"
fi

if [ -n "${PGHOST:-}${PGPORT:-}${PGDATABASE:-}" ]; then
  log "using the existing server (PGHOST=${PGHOST:-} PGPORT=${PGPORT:-} PGDATABASE=${PGDATABASE:-})"
else
  DEMO_DIR=$(pg_tempdir demo)
  trap 'stop_cluster "$DEMO_DIR" "$("$PG_CONFIG" --bindir)"; rm -rf "$DEMO_DIR"' EXIT
  log "starting a throwaway PostgreSQL $PG_MAJOR cluster in $DEMO_DIR"
  start_cluster "$DEMO_DIR" "$("$PG_CONFIG" --bindir)" \
    "shared_buffers = 1GB" "maintenance_work_mem = 1GB" "max_wal_size = 4GB" \
    "max_parallel_workers_per_gather = 2" "max_parallel_maintenance_workers = 1"
fi

# --- functions for the parts ----------------------------------------------------
# psql with the demo's conventions: stop on error, no pager, no psqlrc.
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
sql() { psql -X -q -v ON_ERROR_STOP=1 -P pager=off "$@"; }
# Print a step title and start its clock; step_done prints the time taken.
step() { STEP_T0=$(now); printf '\n\033[1;34m### %s\033[0m\n' "$*"; }
step_done() { printf '\033[2m(%s s)\033[0m\n' "$(elapsed "$STEP_T0")"; }
# Show a query, then its result.
show() { printf '\033[2m%s\033[0m\n' "$1"; sql -c "$1"; }
# knn_run METHOD [SQL [COLUMN]]: the 10 nearest training images of test
# images 60001..61000 in one LATERAL join inside the server, by L2 distance
# on COLUMN (default v), after SQL (settings) in the same session.  Rows go to demo_knn, the time to demo_timing; the
# view demo_recall compares every method with 'exact' (all made in part 10).
knn_run() {
  sql -v method="$1" <<SQL
${2:-}
SELECT clock_timestamp() AS t0 \gset
INSERT INTO demo_knn SELECT :'method', q.id, n.id, n.label, n.d FROM fashion_mnist q CROSS JOIN LATERAL (
  SELECT t.id, t.label, t.${3:-v} <-> q.${3:-v} AS d FROM fashion_mnist t WHERE t.split = 'train'
  ORDER BY t.${3:-v} <-> q.${3:-v} LIMIT 10) n
WHERE q.id BETWEEN 60001 AND 61000;
INSERT INTO demo_timing SELECT :'method', extract(epoch FROM clock_timestamp() - :'t0'::timestamptz);
SQL
}

sql -c "CREATE EXTENSION IF NOT EXISTS vsim"
for part in scripts/demo.d/*.sh; do
  . "$part"
done
log "demo finished"
