#!/usr/bin/env bash
# test/bench/embed_bench.sh: throughput of vsim.embed against a standalone
# C driver (test/bench/embed_driver.c) using the same ONNX Runtime library,
# model, thread count and batching, in the same run; plus first-call
# latency and backend memory.  A benchmark, not a test: it prints figures.
#
# Models: a MiniLM-sized encoder with random weights (6 layers, hidden 384,
# 12 heads, bert-base-uncased vocabulary; test/embed/models.py gen-minilm),
# which costs what all-MiniLM-L6-v2 costs, and the shared text-word64 model
# when ../shared/data is there.  Sentences: TMDB movie overviews.
#
# Environment: EMBED_BENCH_N sentences (default 500), EMBED_BENCH_THREADS
# intra-op threads (default 1), EMBED_BENCH_BATCH (default 32).
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
cd "$VSIM_ROOT"

N=${EMBED_BENCH_N:-500}
THREADS=${EMBED_BENCH_THREADS:-1}
BATCH=${EMBED_BENCH_BATCH:-32}
DATA=${VSIM_DATA:-$VSIM_ROOT/../shared/data}
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
# Milliseconds of the last "Time:" line that psql's \timing printed.
ms() { sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n 1; }

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
    -c "SELECT (regexp_match(s, 'VmRSS:\\s+(\\d+)'))[1] || ' ' || (regexp_match(s, 'RssAnon:\\s+(\\d+)'))[1]
        FROM pg_read_file('/proc/' || pg_backend_pid() || '/status') s" | tail -n 1
}

bench_model() {
  local model=$1 first single batched tok d1 dn mem0 mem
  first=$(q -c '\timing on' -c "SELECT vsim.embed('$model', 'first call') IS NOT NULL" \
            -c "SELECT vsim.embed('$model', 'second call') IS NOT NULL" | ms_pair)
  single=$(q -c "SELECT vsim.embed('$model', 'warm up') IS NOT NULL" -c '\timing on' \
             -c "SELECT count(vsim.embed('$model', t)) FROM s" | ms)
  batched=$(q -c "SELECT vsim.embed('$model', 'warm up') IS NOT NULL" -c '\timing on' \
              -c "SELECT cardinality(vsim.embed('$model', array_agg(t))) FROM s" | ms)
  tok=$(q -c "SELECT vsim.embed('$model', 'warm up') IS NOT NULL" -c '\timing on' \
          -c "SELECT count(vsim.tokenize('$model', t)) FROM s" | ms)
  q -c "COPY (SELECT array_to_string(vsim.tokenize('$model', t), ' ') FROM s ORDER BY id) TO STDOUT" \
    > "$work/ids.txt"
  local model_file=$models/minilm_random.onnx
  [ "$model" = word64 ] && model_file=$models/text-word64/model.onnx
  d1=$("$work/embed_driver" "$lib" "$model_file" "$work/ids.txt" 1 "$THREADS" | sed 's/.*per_second=//')
  dn=$("$work/embed_driver" "$lib" "$model_file" "$work/ids.txt" "$BATCH" "$THREADS" | sed 's/.*per_second=//')
  mem0=$(q -c "SELECT (regexp_match(s, 'RssAnon:\\s+(\\d+)'))[1]
               FROM pg_read_file('/proc/' || pg_backend_pid() || '/status') s")
  mem=$(backend_memory "$model")
  awk -v m="$model" -v n="$N" -v s="$single" -v b="$batched" -v d1="$d1" -v dn="$dn" \
      -v f="$first" -v tok="$tok" -v mem="$mem" -v mem0="$mem0" -v bs="$BATCH" -v th="$THREADS" 'BEGIN {
    split(f, fp, " "); split(mem, mp, " ");
    s1 = n / (s / 1000); sb = n / (b / 1000);
    printf "%s (threads %d, %d sentences):\n", m, th, n;
    printf "  one at a time   in database %8.1f sentences/s   standalone %8.1f   ratio %5.1f%%\n", s1, d1, 100 * s1 / d1;
    printf "  batches of %-3d  in database %8.1f sentences/s   standalone %8.1f   ratio %5.1f%%\n", bs, sb, dn, 100 * sb / dn;
    printf "  tokenizing alone in database %8.1f sentences/s (the driver reads token ids)\n", n / (tok / 1000);
    printf "  first call in a new backend %.1f ms (load + inference), second call %.1f ms\n", fp[1], fp[2];
    printf "  backend memory after loading: resident %.0f MB, private %.0f MB (%.0f MB before loading)\n", mp[1] / 1024, mp[2] / 1024, mem0 / 1024;
  }'
}
ms_pair() { sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tr '\n' ' '; }

log "ONNX Runtime $(q -c 'SELECT vsim.onnxruntime_version()'); mean tokens per sentence: $tokens"
bench_model minilm
bench_model word64
