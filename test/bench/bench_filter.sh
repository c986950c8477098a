#!/usr/bin/env bash
# Filtered vector search (run by scripts/bench.sh): recall@10 and q/s of the
# hnsw index with filter columns, the plain hnsw index with the iterative
# scan, the ivfflat index with filter columns (plain and sq8), and exact
# search with a btree, at 10%, 1% and 0.1% selectivity and
# for a correlated filter (another class), on the 256-d CNN embeddings of
# Fashion-MNIST (60,000 rows, 200 queries; test/bench/bench_filter.py).
# Needs the embedding subsystem and the model; skipped without them.
# The JSON lines also go to $BENCH_FILTER_OUT.json (default
# build/bench_filter.json), and test/bench/plot_filter.py draws them into
# $BENCH_FILTER_OUT.png (Debian's python3-matplotlib, installed as root when
# missing): the plot in the README is docs/img/filter_bench.png, drawn so.
set -euo pipefail
here=$(dirname "$0")
. "$here/../../scripts/lib.sh"
. "$here/lib.sh"
vsim_data_dir || true
psql -X -q -c "CREATE EXTENSION IF NOT EXISTS vsim"
if cnn_model_dir bench_filter; then
  out=${BENCH_FILTER_OUT:-$VSIM_ROOT/build/bench_filter}
  mkdir -p "$(dirname "$out")"
  /usr/bin/python3 "$here/bench_filter.py" --model-dir "$CNN_MODEL_DIR" "$@" | tee "$out.json"
  bench_plot plot_filter.py "$out.json" "$out.png"
fi
