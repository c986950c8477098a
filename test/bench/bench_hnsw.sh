#!/usr/bin/env bash
# HNSW benchmark (run by scripts/bench.sh, which sets PG* to a tuned
# throwaway cluster): build seconds with 1 and 2 processes, index bytes,
# recall@10 and queries/s per hnsw.ef_search, timed inside the server.
#   Fashion-MNIST, 60,000 x 784-d raw pixels, L2, m = 16, ef_construction = 64
#   (pgvector's reference figures use the same); then the 256-d CNN
#   embeddings with cosine, which need the embedding subsystem (vsim.embed)
#   and are skipped without it.
set -euo pipefail
here=$(dirname "$0")
py=/usr/bin/python3

$py "$here/annbench.py" --dataset fmnist --metric l2 \
  --index "hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 64)" \
  --workers 0,1 --sweep hnsw.ef_search=10,20,40,80,160

if [ "$(psql -X -At -c "SELECT to_regproc('vsim.embed') IS NOT NULL")" = t ]; then
  $py "$here/annbench.py" --dataset cnn256 --metric cosine \
    --index "hnsw (v vector_cosine_ops) WITH (m = 16, ef_construction = 64)" \
    --workers 0,1 --sweep hnsw.ef_search=10,20,40,80,160
else
  echo "bench_hnsw: skipping the cnn256 data set: vsim.embed is not available (embedding subsystem not built)" >&2
fi
