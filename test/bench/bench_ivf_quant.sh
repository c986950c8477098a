#!/usr/bin/env bash
# IVFFlat quantization benchmark (issue 9; run by scripts/bench.sh, which
# sets PG* to a tuned throwaway cluster): for quantization none, sq8 and
# rabitq side by side, build seconds with 1 and 2 processes, index bytes,
# and recall@10 and queries/s per ivfflat.probes at the default re-rank
# depth (ivfflat.rerank_candidates = 40), timed inside the server
# (annbench.py); then recall and q/s per ivfflat.rerank_candidates at a
# fixed probes, the measurement behind its default; then sq8 and rabitq on
# a copy of the table whose vectors are kept in the row (STORAGE plain).
#   Fashion-MNIST, 60,000 x 784-d raw pixels, L2, lists = 245 (as the
#   issue's reference figures); then the 256-d CNN embeddings with cosine
#   when the model is in the data directory ($VSIM_DATA/models/fashion-mnist-cnn).
#   The JSON lines also go to $BENCH_IVF_QUANT_OUT.json (default
#   build/bench_ivf_quant.json), and test/bench/plot_ann.py draws recall against
#   q/s per index and mode from them into $BENCH_IVF_QUANT_OUT.png.
#   ./scripts/bench.sh bash test/bench/bench_ivf_quant.sh
set -euo pipefail
here=$(dirname "$0")
. "$here/../../scripts/lib.sh"
. "$here/lib.sh"
py=/usr/bin/python3
vsim_data_dir || true    # sets VSIM_DATA_DIR; stops here if VSIM_DATA names no directory

runs() {
  probes=${IVF_QUANT_PROBES:-1,2,3,4,5,6,8,10,13,16}
  for mode in none sq8 rabitq; do
    $py "$here/annbench.py" --dataset fmnist --metric l2 \
      --index "ivfflat (v vector_l2_ops) WITH (lists = 245, quantization = $mode)" \
      --workers 0,1 --sweep ivfflat.probes=$probes
  done
  for mode in sq8 rabitq; do
    $py "$here/annbench.py" --dataset fmnist --metric l2 \
      --index "ivfflat (v vector_l2_ops) WITH (lists = 245, quantization = $mode)" \
      --extra-sql "SET ivfflat.probes = 8" --sweep ivfflat.rerank_candidates=10,20,40,80
  done
  # the re-rank reads each candidate's vector from the table: 784-d rows are
  # TOASTed by default (STORAGE external); with STORAGE plain they stay in the row
  for mode in sq8 rabitq; do
    $py "$here/annbench.py" --dataset fmnist --metric l2 --storage plain \
      --index "ivfflat (v vector_l2_ops) WITH (lists = 245, quantization = $mode)" \
      --sweep ivfflat.probes=$probes
  done

  if cnn_model_dir bench_ivf_quant; then
    for mode in none sq8 rabitq; do
      $py "$here/annbench.py" --dataset cnn256 --metric cosine --model-dir "$CNN_MODEL_DIR" \
        --index "ivfflat (v vector_cosine_ops) WITH (lists = 245, quantization = $mode)" \
        --sweep ivfflat.probes=1,2,3,5,8,13
    done
    $py "$here/annbench.py" --dataset cnn256 --metric cosine --model-dir "$CNN_MODEL_DIR" \
      --index "ivfflat (v vector_cosine_ops) WITH (lists = 245, quantization = rabitq)" \
      --extra-sql "SET ivfflat.probes = 8" --sweep ivfflat.rerank_candidates=10,20,40,80
  fi
}

out=${BENCH_IVF_QUANT_OUT:-$VSIM_ROOT/build/bench_ivf_quant}
mkdir -p "$(dirname "$out")"
runs | tee "$out.json"
bench_plot plot_ann.py "$out.json" "$out.png" --title "IVFFlat quantization: recall@10 against queries/s"
