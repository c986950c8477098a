#!/usr/bin/env bash
# IVFFlat benchmark (run by scripts/bench.sh, which sets PG* to a tuned
# throwaway cluster): build seconds with 1 and 2 processes, index bytes,
# recall@10 and queries/s per ivfflat.probes, timed inside the server.
#   Fashion-MNIST, 60,000 x 784-d raw pixels, L2, lists = 245 (as pgvector's
#   reference figures); then the 256-d CNN embeddings with cosine, which need
#   the embedding subsystem (vsim.embed) and are skipped without it.
set -euo pipefail
here=$(dirname "$0")
py=/usr/bin/python3

$py "$here/annbench.py" --dataset fmnist --metric l2 \
  --index "ivfflat (v vector_l2_ops) WITH (lists = 245)" \
  --workers 0,1 --sweep ivfflat.probes=1,2,5,10

if [ "$(psql -X -At -c "SELECT to_regproc('vsim.embed') IS NOT NULL")" = t ]; then
  $py "$here/annbench.py" --dataset cnn256 --metric cosine \
    --index "ivfflat (v vector_cosine_ops) WITH (lists = 245)" \
    --workers 0,1 --sweep ivfflat.probes=1,2,5,10
else
  echo "bench_ivf: skipping the cnn256 data set: vsim.embed is not available (embedding subsystem not built)" >&2
fi
