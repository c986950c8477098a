#!/usr/bin/env bash
# Growth benchmark (run by scripts/bench.sh): how build time, index size and
# search speed grow with the row count, on the cnn256x data set (256-d CNN
# embeddings of Fashion-MNIST training images shifted by up to 2 pixels,
# computed in the server by vsim.embed; needs the model in the data
# directory).  For each size in VSIM_SCALE_ROWS (default 60000 250000
# 1000000): HNSW (m = 16, ef_construction = 64, cosine) and IVFFlat
# (lists = rows / 1000, cosine), each in the quantization modes of
# VSIM_SCALE_HNSW_MODES and VSIM_SCALE_IVF_MODES (default "none sq8
# rabitq" for both): build seconds with 1 and 2 processes (and the leader's
# CPU seconds), bytes, peak build memory, recall@10 and queries/s over a
# sweep.  One run of the largest size in every mode takes about two hours
# on 2 cores.  The JSON lines also go to $BENCH_SCALE_OUT.json (default
# build/bench_scale.json) and test/bench/plot_ann.py draws recall against
# q/s per index and mode from them into $BENCH_SCALE_OUT.png.
set -euo pipefail
here=$(dirname "$0")
. "$here/../../scripts/lib.sh"
. "$here/lib.sh"
py=/usr/bin/python3
vsim_data_dir || true
psql -X -q -c "CREATE EXTENSION IF NOT EXISTS vsim"
cnn_model_dir bench_scale || exit 0

runs() {
for rows in ${VSIM_SCALE_ROWS:-60000 250000 1000000}; do
  lists=$((rows / 1000))
  for mode in ${VSIM_SCALE_HNSW_MODES:-none sq8 rabitq}; do
    $py "$here/annbench.py" --dataset cnn256x --metric cosine --model-dir "$CNN_MODEL_DIR" \
      --train "$rows" --queries 1000 --maintenance-work-mem 8GB \
      --index "hnsw (v vector_cosine_ops) WITH (m = 16, ef_construction = 64, quantization = $mode)" \
      --workers 0,1 --sweep hnsw.ef_search=20,40,80,160
  done
  for mode in ${VSIM_SCALE_IVF_MODES:-none sq8 rabitq}; do
    $py "$here/annbench.py" --dataset cnn256x --metric cosine --model-dir "$CNN_MODEL_DIR" \
      --train "$rows" --queries 1000 --maintenance-work-mem 8GB \
      --index "ivfflat (v vector_cosine_ops) WITH (lists = $lists, quantization = $mode)" \
      --workers 0,1 --sweep ivfflat.probes=1,2,4,8,16,32
    if [ "$mode" = rabitq ]; then
      # where rabitq's recall levels off: the re-rank depth at the widest probes
      $py "$here/annbench.py" --dataset cnn256x --metric cosine --model-dir "$CNN_MODEL_DIR" \
        --train "$rows" --queries 1000 --maintenance-work-mem 8GB \
        --index "ivfflat (v vector_cosine_ops) WITH (lists = $lists, quantization = $mode)" \
        --extra-sql "SET ivfflat.probes = 32" --sweep ivfflat.rerank_candidates=40,80,160
    fi
  done
done
}

# the plot's curves are one per index and mode (run one size for a clean plot)
out=${BENCH_SCALE_OUT:-$VSIM_ROOT/build/bench_scale}
mkdir -p "$(dirname "$out")"
runs | tee "$out.json"
bench_plot plot_ann.py "$out.json" "$out.png" --title "Every mode at ${VSIM_SCALE_ROWS:-60000 250000 1000000} rows: recall@10 against queries/s"
