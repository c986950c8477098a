#!/usr/bin/env bash
# HNSW benchmark (run by scripts/bench.sh, which sets PG* to a tuned
# throwaway cluster): build seconds with 1 and 2 processes, index bytes,
# recall@10 and queries/s per hnsw.ef_search, timed inside the server.
#   Fashion-MNIST, 60,000 x 784-d raw pixels, L2, m = 16, ef_construction = 64
#   (pgvector's reference figures use the same); then the 256-d CNN
#   embeddings with cosine, which need the embedding subsystem (vsim.embed)
#   and the model in the data directory ($VSIM_DATA/models/fashion-mnist-cnn,
#   default ../shared/data beside the checkout) and are skipped without them.
set -euo pipefail
here=$(dirname "$0")
. "$here/../../scripts/lib.sh"
. "$here/lib.sh"
py=/usr/bin/python3
vsim_data_dir || true    # sets VSIM_DATA_DIR; stops here if VSIM_DATA names no directory

$py "$here/annbench.py" --dataset fmnist --metric l2 \
  --index "hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 64)" \
  --workers 0,1 --sweep hnsw.ef_search=10,20,40,80,160

if cnn_model_dir bench_hnsw; then
  $py "$here/annbench.py" --dataset cnn256 --metric cosine --model-dir "$CNN_MODEL_DIR" \
    --index "hnsw (v vector_cosine_ops) WITH (m = 16, ef_construction = 64)" \
    --workers 0,1 --sweep hnsw.ef_search=10,20,40,80,160
fi
