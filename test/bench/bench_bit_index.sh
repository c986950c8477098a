#!/usr/bin/env bash
# test/bench/bench_bit_index.sh (run by scripts/bench.sh): hnsw on the same
# rows as vector(1024) (cosine) and as bit(1024) (their binary_quantize,
# Hamming): the 7,600 AG News items hashed to 1,024 dimensions.  One JSON
# line per index: build time, index size, and the mean time of a top-10
# index scan over 200 queries (execution time from EXPLAIN ANALYZE, median
# of 3 runs; enable_seqscan off, and the plan checked, so the index is what
# is timed), with hnsw.ef_search 40, and recall@10 of each index against
# exact search on its own column (ties count as hits).  Skips without the AG News corpus.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
if ! vsim_data_dir || [ ! -f "$VSIM_DATA_DIR/corpus/ag_news_test.csv" ]; then
  echo "bench_bit_index: skipping: no AG News corpus (data directory corpus/ag_news_test.csv)" >&2
  exit 0
fi
psql -X -q -v ON_ERROR_STOP=1 <<SQL
CREATE EXTENSION IF NOT EXISTS vsim;
DROP TABLE IF EXISTS bench_bag, bench_bi;
CREATE TABLE bench_bag (label int, title text, description text);
COPY bench_bag FROM '$VSIM_DATA_DIR/corpus/ag_news_test.csv' WITH (FORMAT csv, HEADER true);
CREATE TABLE bench_bi AS
  SELECT row_number() OVER () AS id, h::vector(1024) AS v, binary_quantize(h)::bit(1024) AS b
  FROM (SELECT vsim.hash_vector(title || ' ' || description, 1024) AS h FROM bench_bag) t;
ALTER TABLE bench_bi ALTER v SET STORAGE PLAIN;
VACUUM ANALYZE bench_bi;
SQL
for rep in "v:vector_cosine_ops:<=>:vector(1024)" "b:bit_hamming_ops:<~>:bit(1024)"; do
  IFS=: read -r col opclass op name <<<"$rep"
  t0=$(now)
  psql -X -q -v ON_ERROR_STOP=1 -c "CREATE INDEX bench_bi_idx ON bench_bi USING hnsw ($col $opclass)"
  build_ms=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
  size=$(psql -X -At -c "SELECT pg_relation_size('bench_bi_idx')")
  times=()
  for run in 1 2 3; do
    times+=("$(psql -X -q -At -c "SET hnsw.ef_search = 40" -c "SET enable_seqscan = off" -c "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON)
      SELECT count(*) FROM bench_bi q CROSS JOIN LATERAL
        (SELECT id FROM bench_bi d ORDER BY d.$col $op q.$col LIMIT 10) n WHERE q.id <= 200" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Execution Time"] / 200)')")
  done
  plan=$(psql -X -q -At -c "SET enable_seqscan = off" -c "EXPLAIN SELECT id FROM bench_bi d ORDER BY d.$col $op (SELECT $col FROM bench_bi WHERE id = 1) LIMIT 10" | grep -c "Index Scan using bench_bi_idx")
  [ "$plan" = 1 ] || { echo "bench_bit_index: the $name query does not use the index" >&2; exit 1; }
  per_query=$(printf '%s\n' "${times[@]}" | sort -g | sed -n 2p)
  # recall@10, ties counted as hits: index results within the 10th exact distance
  recall=$(psql -X -q -At -c "SET hnsw.ef_search = 40" -c "SET enable_seqscan = off" -c "SELECT round(avg(hits) / 10, 3) FROM (
      SELECT (SELECT count(*) FROM
        (SELECT d.$col $op q.$col AS dist FROM bench_bi d ORDER BY d.$col $op q.$col LIMIT 10) i
        WHERE i.dist <= (SELECT dist FROM (SELECT d.$col $op q.$col AS dist FROM bench_bi d OFFSET 0) e
                         ORDER BY dist OFFSET 9 LIMIT 1)) AS hits
      FROM bench_bi q WHERE q.id <= 200) r" | tail -1)
  psql -X -q -c "DROP INDEX bench_bi_idx"
  printf '{"benchmark": "hnsw_bit_vs_vector", "rows": 7600, "column": "%s", "opclass": "%s", "build_ms": %s, "index_bytes": %s, "query_ms": %.3f, "recall_at_10_own_exact": %s}\n' \
    "$name" "$opclass" "$build_ms" "$size" "$per_query" "$recall"
done
psql -X -q -c "DROP TABLE bench_bag, bench_bi"
