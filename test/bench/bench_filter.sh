#!/usr/bin/env bash
# Filtered vector search (run by scripts/bench.sh): recall@10 and q/s of the
# hnsw index with filter columns, the plain hnsw index with the iterative
# scan, the ivfflat index with filter columns (plain and sq8), and exact
# search with a btree, at 10%, 1% and 0.1% selectivity and
# for a correlated filter (another class), on the 256-d CNN embeddings of
# Fashion-MNIST (60,000 rows, 200 queries; test/bench/bench_filter.py).
# Needs the embedding subsystem and the model; skipped without them.
set -euo pipefail
here=$(dirname "$0")
. "$here/../../scripts/lib.sh"
. "$here/lib.sh"
vsim_data_dir || true
psql -X -q -c "CREATE EXTENSION IF NOT EXISTS vsim"
if cnn_model_dir bench_filter; then
  /usr/bin/python3 "$here/bench_filter.py" --model-dir "$CNN_MODEL_DIR" "$@"
fi
