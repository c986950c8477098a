#!/usr/bin/env bash
# test/bench/bench_sparse_bit.sh (run by scripts/bench.sh): exact top-10 scans
# of the 7,600 AG News items hashed to 16,000 dimensions, as dense vector,
# as sparsevec, and binary-quantized (1,024 bits), cosine / Hamming, one
# process.  One JSON line per representation: median of 5 runs in ms, and
# the mean stored bytes per row (times are of a whole psql call, connection
# included).  Skips without the AG News corpus.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
if ! vsim_data_dir || [ ! -f "$VSIM_DATA_DIR/corpus/ag_news_test.csv" ]; then
  echo "bench_sparse_bit: skipping: no AG News corpus (data directory corpus/ag_news_test.csv)" >&2
  exit 0
fi
psql -X -q -v ON_ERROR_STOP=1 <<SQL
CREATE EXTENSION IF NOT EXISTS vsim;
DROP TABLE IF EXISTS bench_ag, bench_hs;
CREATE TABLE bench_ag (label int, title text, description text);
COPY bench_ag FROM '$VSIM_DATA_DIR/corpus/ag_news_test.csv' WITH (FORMAT csv, HEADER true);
CREATE TABLE bench_hs AS
  SELECT row_number() OVER () AS id, h AS v, h::sparsevec AS s, binary_quantize(vsim.hash_vector(d, 1024)) AS b
  FROM (SELECT title || ' ' || description AS d, vsim.hash_vector(title || ' ' || description, 16000) AS h
        FROM bench_ag) t;
VACUUM ANALYZE bench_hs;
SQL
for rep in "v <=>:vector" "s <=>:sparsevec" "b <~>:bit"; do
  expr=${rep%%:*} name=${rep##*:} col=${expr%% *}
  times=()
  for run in 1 2 3 4 5; do
    t0=$(now)
    psql -X -q -At -c "SELECT count(*) FROM (SELECT id FROM bench_hs,
      (SELECT $col AS q FROM bench_hs WHERE id = $run) x ORDER BY $expr q LIMIT 10) t" >/dev/null
    times+=("$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print (b - a) * 1000 }')")
  done
  median=$(printf '%s\n' "${times[@]}" | sort -g | sed -n 3p)
  bytes=$(psql -X -At -c "SELECT round(avg(pg_column_size($col))) FROM bench_hs")
  printf '{"benchmark": "sparse_bit_exact_top10", "rows": 7600, "representation": "%s", "median_ms": %.1f, "bytes_per_row": %s}\n' \
    "$name" "$median" "$bytes"
done
