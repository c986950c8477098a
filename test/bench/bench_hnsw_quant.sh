#!/usr/bin/env bash
# HNSW quantization benchmark (issue 9; run by scripts/bench.sh, which sets
# PG* to a tuned throwaway cluster): quantization none, sq8 and rabitq
# side by side, build seconds with 1 and 2 processes, index bytes, and
# recall@10 and queries/s per hnsw.ef_search at the default re-rank depth
# (hnsw.rerank_candidates = 20; rabitq re-ranks twice that), timed inside
# the server (annbench.py); then sq8's and rabitq's recall and q/s per
# hnsw.rerank_candidates at ef_search 40, the measurement behind the
# default and rabitq's factor; then the modes on a copy of the table
# whose vectors are kept in the row (STORAGE plain).  HNSW_QUANT_MODES
# limits the modes (default "none sq8 rabitq").
#   Fashion-MNIST, 60,000 x 784-d raw pixels, L2, m = 16, ef_construction
#   = 64 (as the issue's reference figures); then the 256-d CNN embeddings
#   with cosine when the model is in the data directory
#   ($VSIM_DATA/models/fashion-mnist-cnn).  HNSW_QUANT_CNN=0 skips them.
#   The JSON lines also go to $BENCH_HNSW_QUANT_OUT.json (default
#   build/bench_hnsw_quant.json), and test/bench/plot_ann.py draws recall against
#   q/s per index and mode from them into $BENCH_HNSW_QUANT_OUT.png.
#   ./scripts/bench.sh bash test/bench/bench_hnsw_quant.sh
set -euo pipefail
here=$(dirname "$0")
. "$here/../../scripts/lib.sh"
. "$here/lib.sh"
py=/usr/bin/python3
vsim_data_dir || true    # sets VSIM_DATA_DIR; stops here if VSIM_DATA names no directory

runs() {
  ef=${HNSW_QUANT_EF:-10,20,40,80,160}
  modes=${HNSW_QUANT_MODES:-none sq8 rabitq}
  for mode in $modes; do
    $py "$here/annbench.py" --dataset fmnist --metric l2 \
      --index "hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 64, quantization = $mode)" \
      --workers 0,1 --sweep hnsw.ef_search=$ef
  done
  for mode in $modes; do
    [ "$mode" != none ] || continue
    $py "$here/annbench.py" --dataset fmnist --metric l2 \
      --index "hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 64, quantization = $mode)" \
      --extra-sql "SET hnsw.ef_search = 40" --sweep hnsw.rerank_candidates=10,20,40
  done
  # the re-rank reads each candidate's vector from the table: 784-d rows are
  # TOASTed by default (STORAGE external); with STORAGE plain they stay in the row
  for mode in $modes; do
    $py "$here/annbench.py" --dataset fmnist --metric l2 --storage plain \
      --index "hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 64, quantization = $mode)" \
      --sweep hnsw.ef_search=$ef
  done

  if [ "${HNSW_QUANT_CNN:-1}" != 0 ] && cnn_model_dir bench_hnsw_quant; then
    for mode in $modes; do
      $py "$here/annbench.py" --dataset cnn256 --metric cosine --model-dir "$CNN_MODEL_DIR" \
        --index "hnsw (v vector_cosine_ops) WITH (m = 16, ef_construction = 64, quantization = $mode)" \
        --sweep hnsw.ef_search=$ef
    done
    for mode in $modes; do
      [ "$mode" != none ] || continue
      $py "$here/annbench.py" --dataset cnn256 --metric cosine --model-dir "$CNN_MODEL_DIR" \
        --index "hnsw (v vector_cosine_ops) WITH (m = 16, ef_construction = 64, quantization = $mode)" \
        --extra-sql "SET hnsw.ef_search = 40" --sweep hnsw.rerank_candidates=10,20,40
    done
  fi
}

out=${BENCH_HNSW_QUANT_OUT:-$VSIM_ROOT/build/bench_hnsw_quant}
mkdir -p "$(dirname "$out")"
runs | tee "$out.json"
bench_plot plot_ann.py "$out.json" "$out.png" --title "HNSW quantization: recall@10 against queries/s"
