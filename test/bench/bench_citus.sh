#!/usr/bin/env bash
# Scale-out benchmark (run by scripts/bench.sh):
#
#   ./scripts/bench.sh bash test/bench/bench_citus.sh
#   VSIM_CITUS_ROWS=1000000 ./scripts/bench.sh bash test/bench/bench_citus.sh
#
# The cnn256x data set (256-d CNN embeddings of shifted Fashion-MNIST
# training images, computed once by vsim.embed in the cluster bench.sh
# starts; VSIM_CITUS_ROWS rows, default 250000, up to 1500000) on one
# machine: the plain single node, then a Citus coordinator and two workers
# (three more clusters of the staged build, each on its own private socket
# and port) with the same rows in VSIM_CITUS_SHARDS shards (default 2,4;
# 1 for a one-shard distributed table), filled by COPY from the single node.
# HNSW m = 16, ef_construction = 64, cosine: build seconds, index bytes,
# recall@10, queries/s and latency over hnsw.ef_search 40 (the default),
# 20, 80, 160, and the per-shard search time measured on the workers
# against the coordinator's total (test/bench/bench_citus.py).  Needs
# Citus (scripts/citus.sh, which this runs; it needs the Citus source in
# ../shared/vendor) and the CNN model in the data directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../scripts/lib.sh"
. "$here/lib.sh"
py=/usr/bin/python3
[ -n "${PGHOST:-}" ] || die "run it through scripts/bench.sh: ./scripts/bench.sh bash test/bench/bench_citus.sh"
psql -X -q -c "CREATE EXTENSION IF NOT EXISTS vsim"
cnn_model_dir bench_citus || exit 0

"$VSIM_ROOT/scripts/citus.sh" >&2
stage_install
if [ ! -f "$STAGE_PKGLIBDIR/citus.so" ]; then
  echo "bench_citus: skipping: Citus is not installed in the staged PostgreSQL (scripts/citus.sh)" >&2
  exit 0
fi

# start_node DIR PORT: a Citus node of the staged build on a private socket
# in DIR, listening on PORT (every node its own, as Citus names nodes by
# host and port).
CITUS_DIRS=()
start_node() {
  local dir=$1 port=$2
  as_pg "$STAGE_BINDIR/initdb" -D "$dir/data" -A trust -U postgres --no-sync >/dev/null
  cat <<EOF | as_pg tee -a "$dir/data/postgresql.conf" >/dev/null
listen_addresses = ''
unix_socket_directories = '$dir'
port = $port
shared_preload_libraries = 'citus'
citus.node_conninfo = 'sslmode=disable'
max_connections = 100
shared_buffers = 2GB
maintenance_work_mem = 2GB
max_wal_size = 8GB
max_parallel_workers_per_gather = 0
max_parallel_maintenance_workers = 0
jit = off
synchronous_commit = off
EOF
  as_pg "$STAGE_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null \
    || { cat "$dir/server.log" >&2; die "could not start the Citus node in $dir"; }
  CITUS_DIRS+=("$dir")
  psql -X -q -h "$dir" -p "$port" -d postgres -U postgres -c "CREATE EXTENSION citus"
}
cleanup() {
  local d
  for d in "${CITUS_DIRS[@]}"; do
    stop_cluster "$d" "$STAGE_BINDIR"
    rm -rf "$d"
  done
}
trap cleanup EXIT

coord=$(pg_tempdir citus-coord)
start_node "$coord" 5433
workers=()
for i in 1 2; do
  d=$(pg_tempdir "citus-worker$i")
  start_node "$d" $((5433 + i))
  workers+=("host=$d port=$((5433 + i)) dbname=postgres user=postgres")
done
cq() { psql -X -q -At -v ON_ERROR_STOP=1 -h "$coord" -p 5433 -d postgres -U postgres -c "$1"; }
cq "SELECT citus_set_coordinator_host('$coord', 5433)" >/dev/null
for i in 1 2; do
  cq "SELECT citus_add_node('${CITUS_DIRS[$i]}', $((5433 + i)))" >/dev/null
done
cq "CREATE EXTENSION vsim"
log "bench_citus: coordinator and $(cq 'SELECT count(*) FROM citus_get_active_worker_nodes()') workers"

$py "$here/bench_citus.py" --model-dir "$CNN_MODEL_DIR" --train "${VSIM_CITUS_ROWS:-250000}" \
  --shards "${VSIM_CITUS_SHARDS:-2,4}" --single-workers "${VSIM_CITUS_SINGLE_WORKERS:-0,1}" \
  --sweep "${VSIM_CITUS_SWEEP:-40,20,80,160}" \
  --coordinator "host=$coord port=5433 dbname=postgres user=postgres" \
  --workers "$(IFS=,; echo "${workers[*]}")"
