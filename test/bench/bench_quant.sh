#!/usr/bin/env bash
# test/bench/bench_quant.sh (run by scripts/bench.sh, e.g.
# "scripts/bench.sh bash test/bench/bench_quant.sh"): the quantization
# codecs of src/quant outside any index, through the test-only extension
# test/modules/vsim_quant_test (staged with the server by scripts/lib.sh).
#  1. ns per distance of float32 (the vector kernels), sq8 (l2, l1) and
#     rabitq (l2) over 20,000 random stored vectors at 256 and 784 dims, per
#     kernel set this CPU runs, and the bytes per stored vector.
#  2. recall@10 against brute force of the top 10 * rerank by codec distance
#     re-ranked exactly, rerank = 1, 2, 4, 10, 20, with the mean relative
#     distance error: sq8, sq8pv (the per-vector min/max alternative) and
#     rabitq (one centroid: the mean), on 10,000 Fashion-MNIST pixels (l2)
#     and their CNN-256 embeddings (l2 and cosine; skipped without the data
#     directory), 100 queries from the test split.
# One JSON line per measurement.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../scripts/lib.sh"
. "$here/lib.sh"
q() { psql -X -q -At -v ON_ERROR_STOP=1 -c "LOAD 'vsim'" -c "$1"; }
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION IF NOT EXISTS vsim" \
  -c "LOAD 'vsim'" -c "DROP EXTENSION IF EXISTS vsim_quant_test" -c "CREATE EXTENSION vsim_quant_test"

for spec in 256:20000:20 784:20000:8; do
  IFS=: read -r dim n reps <<<"$spec"
  q "SELECT format('{\"benchmark\": \"quant_ns_per_distance\", \"dims\": %s, \"vectors\": %s, \"kernels\": \"%s\", \"codec\": \"%s\", \"metric\": \"%s\", \"ns\": %s, \"bytes_per_vector\": %s}',
       $dim, $n, kernels, codec, metric, round(ns_per_distance::numeric, 1), bytes_per_vector)
     FROM quant_bench($dim, $n, $reps)"
done

py=/usr/bin/python3
psql -X -q -v ON_ERROR_STOP=1 -c "DROP TABLE IF EXISTS bq_train, bq_test, bq_etrain, bq_etest" \
  -c "CREATE TABLE bq_train (id int, label int, v vector(784))" \
  -c "CREATE TABLE bq_test (id int, label int, v vector(784))"
$py "$here/../lib/fmnist.py" copy train 10000 | psql -X -q -c "COPY bq_train FROM STDIN WITH (FORMAT binary)"
$py "$here/../lib/fmnist.py" copy test 100 | psql -X -q -c "COPY bq_test FROM STDIN WITH (FORMAT binary)"

sets="fmnist784:bq_train:bq_test:l2"
if cnn_model_dir bench_quant; then
  q "SELECT vsim.create_model('bq_embed', 'fashion_mnist_embed256.onnx',
       options => '{\"output\": \"embedding\", \"input_scale\": 0.00392156862745098}', replace => true)" >/dev/null
  q "CREATE TABLE bq_etrain AS SELECT id, vsim.embed('bq_embed', v::real[]) AS v FROM bq_train;
     CREATE TABLE bq_etest AS SELECT id, vsim.embed('bq_embed', v::real[]) AS v FROM bq_test"
  sets="$sets cnn256:bq_etrain:bq_etest:l2 cnn256:bq_etrain:bq_etest:cosine"
fi
for s in $sets; do
  IFS=: read -r name base queries metric <<<"$s"
  for codec in sq8 sq8pv rabitq; do
    for rerank in 1 2 4 10 20; do
      q "SELECT format('{\"benchmark\": \"quant_recall\", \"data\": \"%s\", \"metric\": \"%s\", \"codec\": \"%s\", \"rerank\": %s, \"candidates\": %s, \"recall_at_10\": %s, \"mean_rel_err\": %s, \"p99_rel_err\": %s}',
           '$name', '$metric', '$codec', $rerank, 10 * $rerank, round(recall::numeric, 4),
           to_char(mean_err, '9.99EEEE'), to_char(p99_err, '9.99EEEE'))
         FROM quant_eval('$codec', '$metric', 'SELECT v FROM $base ORDER BY id',
                         'SELECT v FROM $queries ORDER BY id', 10, $rerank)"
    done
  done
done
psql -X -q -c "DROP TABLE IF EXISTS bq_train, bq_test, bq_etrain, bq_etest"
