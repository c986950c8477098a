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

# vsim.embed is overloaded, so look it up in pg_proc (to_regproc() gives
# NULL for an ambiguous name).
if [ "$(psql -X -At -c "SELECT count(*) > 0 FROM pg_proc WHERE oid::regprocedure::text LIKE 'vsim.embed(%'")" = t ]; then
  # the embedding subsystem reads models only from vsim.model_directory (a
  # setting of the library, so load it before ALTER SYSTEM knows the name)
  models=$(cd "$here/../../../shared/data/models/fashion-mnist-cnn" && pwd)
  psql -X -q -v ON_ERROR_STOP=1 -c "LOAD 'vsim'" \
    -c "ALTER SYSTEM SET vsim.model_directory = '$models'" -c "SELECT pg_reload_conf()" >/dev/null
  $py "$here/annbench.py" --dataset cnn256 --metric cosine --model-dir "$models" \
    --index "ivfflat (v vector_cosine_ops) WITH (lists = 245)" \
    --workers 0,1 --sweep ivfflat.probes=1,2,5,10
else
  echo "bench_ivf: skipping the cnn256 data set: vsim.embed is not available (embedding subsystem not built)" >&2
fi
