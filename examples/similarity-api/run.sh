#!/usr/bin/env bash
# examples/similarity-api/run.sh: the similarity API example, end to end.
#
# As root, from a checkout: installs what is missing from Debian (the
# project's packages plus Locust and pgbouncer), builds vsim and stages it
# (build/tmp_install, as the tests do), starts a throwaway cluster on a
# private Unix socket, registers the models, and for each model:
#   1. embeds the 7,600 AG News items in the database (vsim.embed) and writes
#      the backfill file: those embeddings plus perturbed copies
#      (backfill_data.py), 106,400 rows by default;
#   2. starts the service (uvicorn on 127.0.0.1), backfills it with
#      POST /backfill (COPY, then the HNSW index is built);
#   3. load-tests it with Locust (80 users, 90% queries, 10% inserts) and
#      checks that every id inserted is in the table and found by an index
#      search for its own embedding;
#   4. runs the same statements with pgbench, 80 clients through pgbouncer
#      (transaction pooling) for each server pool size, measuring the
#      backends' memory mid-run, and 80 direct connections for comparison;
#   5. times single-row inserts (1 pgbench client, embedding included).
# Prints Markdown tables at the end; they and every log stay in $SIMAPI_RESULTS.
#
# Needs the data directory ($VSIM_DATA, default ../shared/data): the corpus
# corpus/ag_news_test.csv, models/text-word64 and, for the MiniLM-sized
# encoder (random weights, test/embed/models.py gen-minilm),
# models/bert-uncased-tokenizer.
#
# Environment (defaults in brackets):
#   SIMAPI_MODELS [word64 minilm]   SIMAPI_RUN_TIME seconds per Locust run [60]
#   SIMAPI_USERS [80]               SIMAPI_WAIT think time "MIN MAX" s [0.2 0.5]
#   SIMAPI_WORKERS uvicorn processes [1]     SIMAPI_POOL_SIZE connections each [4]
#   SIMAPI_EF_SEARCH [40]           SIMAPI_PREPARE_THRESHOLD [5]
#   SIMAPI_TUNE  more Locust runs on the first model, ';'-separated, each a
#                list of the settings above in lower case without the prefix,
#                e.g. "workers=2; pool=8; ef_search=100; wait='0 0' RUN_TIME=30" [none]
#   SIMAPI_COPIES copies of the corpus in the table [14]
#   SIMAPI_PGBENCH_POOLS pgbouncer server pool sizes [2 4 8]
#   SIMAPI_PGBENCH_TIME seconds per pgbench run [30]
#   SIMAPI_PORT [8765]   SIMAPI_RESULTS [build/simapi-results]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../../scripts/lib.sh"
cd "$VSIM_ROOT"

MODELS=${SIMAPI_MODELS:-word64 minilm}
RUN_TIME=${SIMAPI_RUN_TIME:-60}
USERS=${SIMAPI_USERS:-80}
COPIES=${SIMAPI_COPIES:-14}
PGB_POOLS=${SIMAPI_PGBENCH_POOLS:-2 4 8}
PGB_TIME=${SIMAPI_PGBENCH_TIME:-30}
PORT=${SIMAPI_PORT:-8765}
RESULTS=${SIMAPI_RESULTS:-$VSIM_ROOT/build/simapi-results}
# the service's settings; a SIMAPI_TUNE entry overrides some of them
workers=${SIMAPI_WORKERS:-1} pool=${SIMAPI_POOL_SIZE:-4} ef_search=${SIMAPI_EF_SEARCH:-40}
prepare=${SIMAPI_PREPARE_THRESHOLD:-5} wait=${SIMAPI_WAIT:-0.2 0.5}

vsim_data_dir || die "needs the data directory: VSIM_DATA is not set and ../shared/data does not exist"
DATA=$VSIM_DATA_DIR
CORPUS=$DATA/corpus/ag_news_test.csv
[ -f "$CORPUS" ] || die "no $CORPUS"

VSIM_APT_PACKAGES="$VSIM_APT_PACKAGES python3-locust pgbouncer python3-httptools python3-uvloop" install_packages
"$VSIM_ROOT/scripts/setup.sh"
stage_install
PGBIN=$STAGE_BINDIR
mkdir -p "$RESULTS"
rm -f "$RESULTS"/*
work=$(pg_tempdir simapi)
cleanup() {
  stop_service
  [ ! -f "$work/pgbouncer.pid" ] || kill "$(cat "$work/pgbouncer.pid")" 2>/dev/null || true
  stop_cluster "$work" "$PGBIN"
  rm -rf "$work"
}
trap cleanup EXIT
sql() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }
note() { echo "$*" | tee -a "$RESULTS/notes.txt"; }

# --- models and database ----------------------------------------------------------
model_files() {
  case $1 in
    word64) echo "text-word64/model.onnx text-word64/tokenizer.json" ;;
    minilm) echo "minilm_random.onnx tokenizer.json" ;;
    *) die "unknown model $1 (word64 or minilm)" ;;
  esac
}
prepare_models() {
  mkdir -p "$work/models"
  cp -r "$DATA/models/text-word64" "$work/models/"
  if [[ " $MODELS " == *" minilm "* ]]; then
    log "generating the MiniLM-sized encoder (random weights)"
    /usr/bin/python3 test/embed/models.py gen-minilm "$work/models"
    cp "$DATA/models/bert-uncased-tokenizer/tokenizer.json" "$work/models/"
  fi
  chown -R postgres: "$work/models" 2>/dev/null || true
}

start_database() {
  log "starting a throwaway PostgreSQL $PG_MAJOR cluster in $work"
  start_cluster "$work" "$PGBIN" "vsim.model_directory = '$work/models'" \
    "shared_buffers = 1GB" "maintenance_work_mem = 1GB" "max_wal_size = 4GB" \
    "max_connections = 200" "max_parallel_maintenance_workers = 1" \
    "shared_preload_libraries = 'pg_stat_statements'" "pg_stat_statements.track_planning = on"
  sql -c "CREATE EXTENSION vsim" -c "CREATE EXTENSION pg_stat_statements" \
    -c "CREATE TABLE ag (label int, title text, description text)" \
    -c "\\copy ag FROM '$CORPUS' WITH (FORMAT csv, HEADER true)" \
    -c "ALTER TABLE ag ADD id serial PRIMARY KEY" -c "CREATE SEQUENCE pgbench_ids"
  local m
  for m in $MODELS; do
    # shellcheck disable=SC2046
    set -- $(model_files "$m")
    sql -c "SELECT vsim.create_model('$m', '$1', '$2')" >/dev/null
  done
}

# The corpus embedded by the database, two sessions at once (one per core),
# then the backfill file.
backfill_file() {
  local m=$1 t0 r
  log "$m: embedding the 7,600 AG News items in the database"
  t0=$(now)
  for r in 0 1; do
    sql -c "\\copy (SELECT id - 1, label, title || '. ' || description, vsim.embed('$m', title || '. ' || description)
      FROM ag WHERE id % 2 = $r) TO '$work/$m-base-$r.csv' WITH (FORMAT csv)" &
  done
  wait
  note "$m: 7,600 items embedded in the database in $(elapsed "$t0") s (2 sessions)"
  cat "$work/$m-base-0.csv" "$work/$m-base-1.csv" > "$work/$m-base.csv"
  /usr/bin/python3 "$HERE/backfill_data.py" "$work/$m-base.csv" "$COPIES" 0.3 > "$work/$m.jsonl"
}

# --- the service ------------------------------------------------------------------
start_service() {
  local m=$1
  as_pg mkdir -p "$work/metrics-$m"
  as_pg env SIMAPI_MODEL="$m" SIMAPI_TABLE="items_$m" SIMAPI_POOL_SIZE="$pool" \
    SIMAPI_EF_SEARCH="$ef_search" SIMAPI_PREPARE_THRESHOLD="$prepare" \
    SIMAPI_METRICS_DIR="$work/metrics-$m" SIMAPI_DSN="host=$PGHOST port=$PGPORT dbname=postgres" \
    sh -c 'echo $$ > "$0"; exec /usr/bin/python3 -m uvicorn --app-dir "$1" app:app \
      --host 127.0.0.1 --port "$2" --workers "$3" --no-access-log' \
    "$work/service.pid" "$HERE" "$PORT" "$workers" >> "$RESULTS/service-$m.log" 2>&1 &
  local i
  for i in $(seq 120); do
    curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
    sleep 0.5
  done
  curl -sf "http://127.0.0.1:$PORT/health" >/dev/null || die "the service did not start: $RESULTS/service-$m.log"
  # every server connection loads the model at its first embedding: do that
  # before measuring (the pool hands its connections out in turn)
  for i in $(seq $((workers * pool * 4))); do
    curl -sf -H 'content-type: application/json' -d '{"description": "warm up", "k": 10}' \
      "http://127.0.0.1:$PORT/query" >/dev/null
  done
}
stop_service() {
  [ -f "$work/service.pid" ] || return 0
  local pid i
  pid=$(cat "$work/service.pid")
  kill "$pid" 2>/dev/null || true
  for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$work/service.pid"
}

# CPU seconds used so far by the server's processes and by the service's.
cpu_seconds() {
  local pids
  case $1 in
    postgres) pids="$(head -n 1 "$work/data/postmaster.pid") $(pgrep -P "$(head -n 1 "$work/data/postmaster.pid")" | tr '\n' ' ')" ;;
    service) pids="$(cat "$work/service.pid") $(pgrep -P "$(cat "$work/service.pid")" | tr '\n' ' ')" ;;
  esac
  # shellcheck disable=SC2086
  for p in $pids; do cat "/proc/$p/stat" 2>/dev/null; done |
    awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); t += $12 + $13 } END { printf "%.2f", t / hz }'
}
metric() { curl -sf "http://127.0.0.1:$PORT/metrics" | awk -v n="$1" '$1 == n { print $2 }'; }

# One Locust run against the running service; appends its rows to the tables.
locust_run() {
  local m=$1 label=$2 tag=$3 pg0 sv0 cpu queries
  sql -c "SELECT pg_stat_statements_reset()" >/dev/null
  local q0 qs0
  q0=$(metric 'simapi_request_duration_seconds_count{endpoint="query"}')
  qs0=$(metric 'simapi_request_duration_seconds_sum{endpoint="query"}')
  pg0=$(cpu_seconds postgres) sv0=$(cpu_seconds service)
  rm -f "$work/inserted-$tag".*
  log "$label: Locust, $USERS users, ${RUN_TIME} s (load before: $(cut -d' ' -f1-3 /proc/loadavg))"
  TIMEFORMAT='%U %S'
  { time SIMAPI_CORPUS="$CORPUS" SIMAPI_INSERTED="$work/inserted-$tag" SIMAPI_WAIT="$wait" \
      SIMAPI_STATS="$RESULTS/locust-$tag.csv" \
      locust -f "$HERE/locustfile.py" --headless -u "$USERS" -r "$USERS" --run-time "${RUN_TIME}s" \
      --stop-timeout 10 --host "http://127.0.0.1:$PORT" --only-summary \
      > "$RESULTS/locust-$tag.log" 2>&1 || true; } 2> "$work/locust-cpu"
  local load
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  /usr/bin/python3 "$HERE/report.py" locust "$label" "$RESULTS/locust-$tag.csv" >> "$RESULTS/locust.md"
  queries=$(awk -F, '$2 == "Aggregated" { print $3 }' "$RESULTS/locust-$tag.csv")
  cpu=$(awk -v q="$queries" -v pg="$(awk -v a="$pg0" -v b="$(cpu_seconds postgres)" 'BEGIN { print b - a }')" \
    -v sv="$(awk -v a="$sv0" -v b="$(cpu_seconds service)" 'BEGIN { print b - a }')" \
    '{ printf "%.2f | %.2f | %.2f", 1000 * ($1 + $2) / q, 1000 * sv / q, 1000 * pg / q }' "$work/locust-cpu")
  local server db
  server=$(awk -v c0="$q0" -v s0="$qs0" -v c="$(metric 'simapi_request_duration_seconds_count{endpoint="query"}')" \
    -v s="$(metric 'simapi_request_duration_seconds_sum{endpoint="query"}')" 'BEGIN { printf "%.2f", 1000 * (s - s0) / (c - c0) }')
  # planning too: with a custom plan, the query's embedding is computed while planning
  db=$(sql -c "SELECT round(sum(total_plan_time + total_exec_time)::numeric / sum(calls), 2) FROM pg_stat_statements WHERE query LIKE '%json_agg%'")
  echo "| $label | $server | $db | $cpu | $load |" >> "$RESULTS/where.md"
  check_inserted "$m" "$label" "$tag"
}

# Every id whose insert succeeded during the run must be in the table and
# among the 10 nearest rows an HNSW index scan finds for its own embedding.
check_inserted() {
  local m=$1 label=$2 tag=$3 out plan n in_table found
  cat "$work/inserted-$tag".* > "$work/inserted-$tag"
  out=$(sql <<SQL
CREATE TEMP TABLE inserted (id text PRIMARY KEY);
\\copy inserted FROM '$work/inserted-$tag'
ANALYZE inserted;
SET enable_seqscan = off;    -- the search is to go through the HNSW index, whatever the planner thinks
\\set check 'FROM inserted i LEFT JOIN items_$m t ON t.id = i.id LEFT JOIN LATERAL (SELECT bool_or(n.id = t.id) AS found FROM (SELECT o.id FROM items_$m o ORDER BY o.embedding <=> t.embedding LIMIT 10) n) f ON true'
\\set counts 'SELECT \\'counts\\', count(*), count(t.id), count(*) FILTER (WHERE f.found)'
EXPLAIN (COSTS OFF) :counts :check;
:counts :check;
SQL
)
  echo "$out" > "$RESULTS/check-$tag.txt"
  plan=$(grep -c "Index Scan using items_${m}_embedding_idx" <<< "$out" || true)
  IFS='|' read -r _ n in_table found <<< "$(grep '^counts|' <<< "$out")"
  echo "| $label | $n | $in_table | $found | $([ "$plan" -ge 1 ] && echo "HNSW index scan" || echo "NOT the index") |" >> "$RESULTS/inserted.md"
  [ "$n" = "$in_table" ] && [ "$n" = "$found" ] || note "$label: $((n - found)) inserted rows NOT found"
}

# Locust runs of model $1 with the default settings, then those of SIMAPI_TUNE.
load_test() {
  local m=$1 t0 rows
  start_service "$m"
  log "$m: backfilling $(wc -l < "$work/$m.jsonl") rows through POST /backfill"
  t0=$(now)
  curl -sS --fail-with-body -H 'content-type: application/x-ndjson' --data-binary "@$work/$m.jsonl" \
    "http://127.0.0.1:$PORT/backfill" > "$work/backfill.json"
  note "$m: backfill of $(wc -l < "$work/$m.jsonl") rows (COPY, HNSW build, ANALYZE) in $(elapsed "$t0") s: $(cat "$work/backfill.json")"
  stop_service; start_service "$m"     # warm connections, as in production
  locust_run "$m" "$m, $(settings)" "$m"
  stop_service
  if [ -n "${SIMAPI_TUNE:-}" ] && [ "$m" = "${MODELS%% *}" ]; then
    local entries entry i=0
    IFS=';' read -ra entries <<< "$SIMAPI_TUNE"
    for entry in "${entries[@]}"; do
      i=$((i + 1))
      (
        eval "$entry"
        start_service "$m"
        locust_run "$m" "$m, $(settings)" "$m-tune$i"
        stop_service
      )
    done
  fi
  rows=$(sql -c "SELECT count(*) FROM items_$m")
  note "$m: $rows rows in items_$m after the load tests"
}
settings() { echo "workers $workers, pool $pool, ef_search $ef_search, prepare $prepare, wait $wait s, $RUN_TIME s"; }

# --- pgbench ----------------------------------------------------------------------
start_pgbouncer() {
  local size=$1
  as_pg mkdir -p "$work/bouncer"
  as_pg tee "$work/pgbouncer.ini" > /dev/null <<INI
[databases]
postgres = host=$PGHOST port=$PGPORT dbname=postgres
[pgbouncer]
listen_addr =
listen_port = 6432
unix_socket_dir = $work/bouncer
auth_type = trust
auth_file = $work/userlist.txt
pool_mode = transaction
default_pool_size = $size
max_client_conn = 200
logfile = $work/pgbouncer.log
pidfile = $work/pgbouncer.pid
INI
  echo '"postgres" ""' | as_pg tee "$work/userlist.txt" > /dev/null
  as_pg pgbouncer -d "$work/pgbouncer.ini"
  local i
  for i in $(seq 50); do [ -S "$work/bouncer/.s.PGSQL.6432" ] && break; sleep 0.1; done
}
stop_pgbouncer() {
  kill "$(cat "$work/pgbouncer.pid")"
  local i
  for i in $(seq 50); do [ -f "$work/pgbouncer.pid" ] || break; sleep 0.1; done
  # the server connections end with it
  sleep 1
}

# The memory row of a backend that has loaded no model, for comparison.
fresh_backend_memory() {
  local pid
  sql -c "SELECT pg_sleep(3)" >/dev/null &
  sleep 1.5
  pid=$(ps -o pid=,args= --ppid "$(head -n 1 "$work/data/postmaster.pid")" | awk '/postgres: postgres postgres .* SELECT/ { print $1; exit }')
  read -r n rss pss private total <<< "$(/usr/bin/python3 "$HERE/report.py" memory "$pid")"
  echo "| a fresh backend, no model loaded | $n | $rss | $pss | $private | $total |" >> "$RESULTS/memory.md"
  wait
}

# pgbench with the service's statements, 90% queries and 10% inserts.  $2 is
# the pgbouncer pool size, or "direct" for 80 connections to the server.
pgbench_run() {
  local m=$1 size=$2 label host port tag
  tag="$m-$size" host=$PGHOST port=$PGPORT
  label="$m, 80 clients, $([ "$size" = direct ] && echo "80 direct connections" || echo "pgbouncer pool $size")"
  if [ "$size" != direct ]; then
    start_pgbouncer "$size"
    host=$work/bouncer port=6432
  fi
  local args=(-n -c 80 -j 2 -h "$host" -p "$port" -D model="$m" -D table="items_$m"
    -f "$HERE/pgbench/query.sql@9" -f "$HERE/pgbench/insert.sql@1")
  # warm-up: the server connections load the model
  "$PGBIN/pgbench" "${args[@]}" -T 5 postgres > /dev/null 2>&1
  log "$label: pgbench ${PGB_TIME} s (load before: $(cut -d' ' -f1-3 /proc/loadavg))"
  # the client backends, from ps: a new connection can take seconds to be
  # served while 80 clients keep both cores busy.  Reading 80 backends'
  # smaps_rollup under that load takes seconds too: start early, and a row
  # counts the backends read before the run ended.
  ( sleep $((PGB_TIME / 3))
    pids=$(ps -o pid=,args= --ppid "$(head -n 1 "$work/data/postmaster.pid")" | awk '/postgres: postgres postgres/ { print $1 }')
    # shellcheck disable=SC2086
    /usr/bin/python3 "$HERE/report.py" memory $pids > "$work/mem-$tag" ) &
  local sampler=$!
  rm -f "$work/pgb-$tag".*
  "$PGBIN/pgbench" "${args[@]}" -T "$PGB_TIME" --log --log-prefix="$work/pgb-$tag" postgres \
    > "$RESULTS/pgbench-$tag.log" 2>&1
  wait "$sampler"
  local load tps
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$RESULTS/pgbench-$tag.log")
  /usr/bin/python3 "$HERE/report.py" pgbench "$label" "$PGB_TIME" "$work/pgb-$tag".* |
    sed "s/| 0 |/| query |/; s/| 1 |/| insert |/" | awk -v tps="$tps" -v load="$load" '
      { print $0 (/\| all \|/ ? " " tps " | " load " |" : " | |") }' >> "$RESULTS/pgbench.md"
  read -r n rss pss private total < "$work/mem-$tag"
  echo "| $label | $n | $rss | $pss | $private | $total |" >> "$RESULTS/memory.md"
  [ "$size" = direct ] || stop_pgbouncer
}

insert_latency() {
  local m=$1 rows
  rows=$(sql -c "SELECT count(*) FROM items_$m")
  rm -f "$work/ins-$m".*
  log "$m: single-row insert latency, 1 client, 20 s, $rows rows"
  "$PGBIN/pgbench" -n -c 1 -T 20 -D model="$m" -D table="items_$m" -f "$HERE/pgbench/insert.sql" \
    --log --log-prefix="$work/ins-$m" postgres > "$RESULTS/insert-$m.log" 2>&1
  /usr/bin/python3 "$HERE/report.py" pgbench "$m, into $rows rows" 20 "$work/ins-$m".* |
    grep '| all |' | sed 's/| all |/|/' >> "$RESULTS/insert.md"
}

# --- the run ----------------------------------------------------------------------
note "machine: $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GB; load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
prepare_models
start_database
for m in $MODELS; do
  backfill_file "$m"
  load_test "$m"
done
for m in $MODELS; do
  pools=$PGB_POOLS
  [ "$m" = minilm ] && pools=${PGB_POOLS%% *}    # 75 embeddings/s per core: one pool size says it
  for size in $pools; do pgbench_run "$m" "$size"; done
  [ "$m" = word64 ] && pgbench_run "$m" direct
  insert_latency "$m"
done
fresh_backend_memory
note "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

{
  echo "## Locust (${RUN_TIME} s, $USERS users, 90% /query k=10, 10% /insert)"
  echo "| run | endpoint | requests | requests/s | mean ms | p50 ms | p95 ms | p99 ms | failures |"
  echo "|---|---|---|---|---|---|---|---|---|"
  cat "$RESULTS/locust.md"
  echo
  echo "## Where a query's time goes (per Locust request: CPU ms of Locust, the service, PostgreSQL)"
  echo "| run | service ms (its histogram) | database ms (pg_stat_statements) | Locust CPU | service CPU | PostgreSQL CPU | load average after |"
  echo "|---|---|---|---|---|---|---|"
  cat "$RESULTS/where.md"
  echo
  echo "## Rows inserted during the Locust runs"
  echo "| run | inserted | in the table | among the 10 nearest of their own embedding | search |"
  echo "|---|---|---|---|---|"
  cat "$RESULTS/inserted.md"
  echo
  echo "## pgbench (${PGB_TIME} s, 90% query.sql, 10% insert.sql)"
  echo "| run | script | transactions | per second | mean ms | p50 ms | p95 ms | p99 ms | tps (pgbench) | load average after |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  cat "$RESULTS/pgbench.md"
  echo
  echo "## Server backends' memory in the middle of each pgbench run (MB; private: Private_Clean + Private_Dirty)"
  echo "| run | backends | resident (mean) | proportional (mean) | private (mean) | private (total) |"
  echo "|---|---|---|---|---|---|"
  cat "$RESULTS/memory.md"
  echo
  echo "## Single-row insert, embedding included (1 client, 20 s)"
  echo "| table | inserts | per second | mean ms | p50 ms | p95 ms | p99 ms |"
  echo "|---|---|---|---|---|---|---|"
  cat "$RESULTS/insert.md"
  echo
  cat "$RESULTS/notes.txt"
} > "$RESULTS/summary.md"
cat "$RESULTS/summary.md"
log "results and logs in $RESULTS"
