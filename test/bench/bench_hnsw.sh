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
py=/usr/bin/python3
vsim_data_dir || true    # sets VSIM_DATA_DIR; stops here if VSIM_DATA names no directory

$py "$here/annbench.py" --dataset fmnist --metric l2 \
  --index "hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 64)" \
  --workers 0,1 --sweep hnsw.ef_search=10,20,40,80,160

# vsim.embed is overloaded, so look it up in pg_proc (to_regproc() gives
# NULL for an ambiguous name).
if [ "$(psql -X -At -c "SELECT count(*) > 0 FROM pg_proc WHERE oid::regprocedure::text LIKE 'vsim.embed(%'")" != t ]; then
  echo "bench_hnsw: skipping the cnn256 data set: vsim.embed is not available (embedding subsystem not built)" >&2
elif [ -z "$VSIM_DATA_DIR" ]; then
  echo "bench_hnsw: skipping the cnn256 data set: no data directory (VSIM_DATA is not set, ../shared/data does not exist)" >&2
elif [ ! -f "$VSIM_DATA_DIR/models/fashion-mnist-cnn/fashion_mnist_embed256.onnx" ]; then
  echo "bench_hnsw: skipping the cnn256 data set: no $VSIM_DATA_DIR/models/fashion-mnist-cnn/fashion_mnist_embed256.onnx" >&2
else
  # the embedding subsystem reads models only from vsim.model_directory (a
  # setting of the library, so load it before ALTER SYSTEM knows the name)
  models=$VSIM_DATA_DIR/models/fashion-mnist-cnn
  psql -X -q -v ON_ERROR_STOP=1 -c "LOAD 'vsim'" \
    -c "ALTER SYSTEM SET vsim.model_directory = '$models'" -c "SELECT pg_reload_conf()" >/dev/null
  $py "$here/annbench.py" --dataset cnn256 --metric cosine --model-dir "$models" \
    --index "hnsw (v vector_cosine_ops) WITH (m = 16, ef_construction = 64)" \
    --workers 0,1 --sweep hnsw.ef_search=10,20,40,80,160
fi
