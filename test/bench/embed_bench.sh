#!/usr/bin/env bash
# test/bench/embed_bench.sh: throughput of vsim.embed against a standalone
# C driver (test/bench/embed_driver.c) using the same ONNX Runtime library,
# model, thread count and batching, in the same run; plus first-call
# latency and backend memory.  A benchmark, not a test: it prints figures.
#
# Models: a MiniLM-sized encoder with random weights (6 layers, hidden 384,
# 12 heads, bert-base-uncased vocabulary; test/embed/models.py gen-minilm),
# which costs what all-MiniLM-L6-v2 costs, and the text-word64 model.
# Needs the data directory ($VSIM_DATA, default ../shared/data beside the
# checkout; see vsim_data_dir in scripts/lib.sh) for the text-word64 model,
# the bert-base-uncased tokenizer and the sentences, TMDB movie overviews.
#
# Environment: EMBED_BENCH_N sentences (default 500), EMBED_BENCH_THREADS
# intra-op threads (default 1), EMBED_BENCH_BATCH (default 32),
# EMBED_BENCH_REPS (default 3: database and driver runs alternate, best counts).
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
cd "$VSIM_ROOT"

N=${EMBED_BENCH_N:-500}
THREADS=${EMBED_BENCH_THREADS:-1}
BATCH=${EMBED_BENCH_BATCH:-32}
REPS=${EMBED_BENCH_REPS:-3}
vsim_data_dir ||
  die "needs the data directory: VSIM_DATA is not set and ../shared/data does not exist"
DATA=$VSIM_DATA_DIR
[ -f "$DATA/models/bert-uncased-tokenizer/tokenizer.json" ] ||
  die "needs $DATA/models/bert-uncased-tokenizer (set VSIM_DATA)"

"$VSIM_ROOT/scripts/setup.sh"
stage_install
work=$(pg_tempdir embed-bench)
trap 'stop_cluster "$work" "$STAGE_BINDIR"; rm -rf "$work"' EXIT
models=$work/models
mkdir -p "$models"

log "generating a MiniLM-sized model with random weights"
/usr/bin/python3 test/embed/models.py gen-minilm "$models"
cp "$DATA/models/bert-uncased-tokenizer/tokenizer.json" "$models/"
cp -r "$DATA/models/text-word64" "$models/"
/usr/bin/python3 - "$DATA/corpus/tmdb_5000_movies.csv" "$N" > "$models/sentences.copy" <<'PY'
import csv, sys
rows = [r["overview"] for r in csv.DictReader(open(sys.argv[1], encoding="utf-8")) if r["overview"]]
for i, t in enumerate(rows[:int(sys.argv[2])]):
    print(f"{i}\t" + t.replace("\\", "\\\\").replace("\t", " ").replace("\n", " ").replace("\r", " "))
PY
gcc -O2 -I src -I "$("$PG_CONFIG" --includedir-server)" -o "$work/embed_driver" \
  test/bench/embed_driver.c -L"$("$PG_CONFIG" --pkglibdir)" -lpgcommon -lpgport -ldl -lm
chown -R postgres: "$models" 2>/dev/null || true
chmod -R a+rX "$work"

start_cluster "$work" "$STAGE_BINDIR" "vsim.model_directory = '$models'" \
  "vsim.intra_op_threads = $THREADS" "vsim.embed_batch_size = $BATCH"
q() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }
CLK_TCK=$(getconf CLK_TCK)

q -c "CREATE EXTENSION vsim" \
  -c "CREATE TABLE s (id int, t text)" \
  -c "\\copy s FROM '$models/sentences.copy'" >/dev/null
q -c "SELECT vsim.create_model('minilm', 'minilm_random.onnx', 'tokenizer.json')" \
  -c "SELECT vsim.create_model('word64', 'text-word64/model.onnx', 'text-word64/tokenizer.json')" >/dev/null
lib=$STAGE_PKGLIBDIR/vsim/libonnxruntime.so.1
tokens=$(q -c "SELECT round(avg(cardinality(vsim.tokenize('minilm', t))), 1) FROM s")

# Memory of a backend (kB): resident and private (anonymous) after the call.
backend_memory() {
  q -c "SELECT vsim.embed('$1', 'warm up') IS NOT NULL" \
    -c "SELECT (regexp_match(s, 'VmRSS:\s+(\d+)'))[1] || ' ' || (regexp_match(s, 'RssAnon:\s+(\d+)'))[1]
        FROM pg_read_file('/proc/' || pg_backend_pid() || '/status') s" | tail -n 1
}

# Run $2 (a query over a table of sentences) with model $1 warm in one backend; prints
# "wall_ms cpu_ms": elapsed time, and the backend's CPU time (all threads,
# from /proc) during the query.
db_run() {
  local cpu="SELECT (sum(x::bigint) * 1000 / $CLK_TCK)::bigint AS ms FROM unnest((regexp_match(
      pg_read_file('/proc/' || pg_backend_pid() || '/stat'), '\) \S+ (?:\S+ ){10}(\d+) (\d+)'))) x"
  q <<SQL |
SELECT vsim.embed('$1', 'warm up') IS NOT NULL;
$cpu \gset c0_
\timing on
$2;
\timing off
SELECT :c0_ms;
$cpu;
SQL
    awk '/^Time:/ { wall = $2 } /^[0-9]+$/ { v[++n] = $1 } END { print wall, v[n] - v[n - 1] }'
}

# Best (largest) sentences/s of the wall and CPU figures of $1 runs so far.
best() { awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ");
  printf "%.1f %.1f\n", (x[1] > y[1] ? x[1] : y[1]), (x[2] > y[2] ? x[2] : y[2]) }'; }
# "wall_ms cpu_ms" of a database run -> "sentences/s sentences/cpu-s".
# (CPU time comes in 10 ms ticks: under 0.2 s it is too coarse, reported as 0.)
rate() { awk -v n="$N" -v r="$1" 'BEGIN { split(r, x, " ");
  printf "%.1f %.1f\n", n / (x[1] / 1000), (x[2] >= 200 ? n / (x[2] / 1000) : 0) }'; }
# The driver's output -> "sentences/s sentences/cpu-s".
drate() { sed 's/.*per_second=\([0-9.]*\) per_cpu_second=\([0-9.]*\)/\1 \2/'; }

bench_model() {
  local model=$1 table=$2 N=$3 first single batched tok d1 dn mem0 mem model_file
  first=$(q -c '\timing on' -c "SELECT vsim.embed('$model', 'first call') IS NOT NULL" \
            -c "SELECT vsim.embed('$model', 'second call') IS NOT NULL" | ms_pair)
  q -c "COPY (SELECT array_to_string(vsim.tokenize('$model', t), ' ') FROM $table ORDER BY id) TO STDOUT" \
    > "$work/ids.txt"
  model_file=$models/minilm_random.onnx
  [ "$model" = word64 ] && model_file=$models/text-word64/model.onnx
  # Database and driver runs alternate, REPS times; the best of each counts
  # (the machine is shared, so the fastest run is the least disturbed one).
  single="0 0" batched="0 0" tok="0 0" d1="0 0" dn="0 0"
  for _ in $(seq "$REPS"); do
    single=$(best "$single" "$(rate "$(db_run "$model" "SELECT count(vsim.embed('$model', t)) FROM $table")")")
    d1=$(best "$d1" "$("$work/embed_driver" "$lib" "$model_file" "$work/ids.txt" 1 "$THREADS" | drate)")
    batched=$(best "$batched" "$(rate "$(db_run "$model" "SELECT cardinality(vsim.embed('$model', array_agg(t))) FROM $table")")")
    dn=$(best "$dn" "$("$work/embed_driver" "$lib" "$model_file" "$work/ids.txt" "$BATCH" "$THREADS" | drate)")
    tok=$(best "$tok" "$(rate "$(db_run "$model" "SELECT count(vsim.tokenize('$model', t)) FROM $table")")")
  done
  mem0=$(q -c "SELECT (regexp_match(s, 'RssAnon:\s+(\d+)'))[1]
               FROM pg_read_file('/proc/' || pg_backend_pid() || '/status') s")
  mem=$(backend_memory "$model")
  awk -v m="$model" -v n="$N" -v s="$single" -v b="$batched" -v d1="$d1" -v dn="$dn" \
      -v f="$first" -v tok="$tok" -v mem="$mem" -v mem0="$mem0" -v bs="$BATCH" -v th="$THREADS" '
  function r(x) { return x > 0 ? sprintf("%8.1f", x) : "       -" }
  function pct(a, b) { return a > 0 && b > 0 ? sprintf("%5.1f%%", 100 * a / b) : "     -" }
  BEGIN {
    split(f, fp, " "); split(mem, mp, " "); split(s, S, " "); split(b, B, " ");
    split(d1, D1, " "); split(dn, DN, " "); split(tok, T, " ");
    printf "%s (threads %d, %d sentences; sentences per second of wall time | of CPU time):\n", m, th, n;
    printf "  one at a time   database %s | %s   standalone %s | %s   ratio %s | %s\n",
      r(S[1]), r(S[2]), r(D1[1]), r(D1[2]), pct(S[1], D1[1]), pct(S[2], D1[2]);
    printf "  batches of %-3d  database %s | %s   standalone %s | %s   ratio %s | %s\n",
      bs, r(B[1]), r(B[2]), r(DN[1]), r(DN[2]), pct(B[1], DN[1]), pct(B[2], DN[2]);
    printf "  tokenizing alone in the database %s | %s (the driver reads token ids)\n", r(T[1]), r(T[2]);
    printf "  first call in a new backend %.1f ms (read, SHA-256, session, inference), second call %.1f ms\n", fp[1], fp[2];
    printf "  backend memory after loading: resident %.0f MB, private %.0f MB (%.0f MB before loading)\n", mp[1] / 1024, mp[2] / 1024, mem0 / 1024;
  }'
}
ms_pair() { sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tr '\n' ' '; }

log "ONNX Runtime $(q -c 'SELECT vsim.onnxruntime_version()'); mean tokens per sentence: $tokens"
bench_model minilm s "$N"
# the small model runs 20 times as many sentences, or its CPU time would be
# too short to measure
q -c "CREATE TABLE s20 AS SELECT row_number() OVER () AS id, t FROM s, generate_series(1, 20)"
bench_model word64 s20 $((N * 20))
