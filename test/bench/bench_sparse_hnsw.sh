#!/usr/bin/env bash
# test/bench/bench_sparse_hnsw.sh (run by scripts/bench.sh): hnsw on
# sparsevec, variable-size elements: the TF-IDF vectors (vsim.tfidf_vector,
# vocabulary of at most 16,000 terms) of the 7,600 AG News items, under
# sparsevec_cosine_ops and sparsevec_l2_ops.  One JSON line per index and
# hnsw.ef_search: build time, index size (and the mean stored value size,
# for comparison), the mean time of a top-10 index scan over 200 queries
# (execution time from EXPLAIN ANALYZE, median of 3 runs; enable_seqscan
# off, the plan checked), queries per second of one process (1000 / that),
# and recall@10 against exact search (ties count as hits).  Skips without
# the AG News corpus.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
if ! vsim_data_dir || [ ! -f "$VSIM_DATA_DIR/corpus/ag_news_test.csv" ]; then
  echo "bench_sparse_hnsw: skipping: no AG News corpus (data directory corpus/ag_news_test.csv)" >&2
  exit 0
fi
psql -X -q -v ON_ERROR_STOP=1 <<SQL
CREATE EXTENSION IF NOT EXISTS vsim;
DROP TABLE IF EXISTS bench_sag, bench_sv, bench_sv_vocab;
CREATE TABLE bench_sag (label int, title text, description text);
COPY bench_sag FROM '$VSIM_DATA_DIR/corpus/ag_news_test.csv' WITH (FORMAT csv, HEADER true);
SELECT vsim.tfidf_fit('bench_sv_vocab', 'SELECT title || '' '' || description FROM bench_sag', 16000) AS dims \gset
CREATE TABLE bench_sv AS
  SELECT row_number() OVER () AS id,
         vsim.tfidf_vector(title || ' ' || description, 'bench_sv_vocab')::sparsevec(:dims) AS s
  FROM bench_sag;
DELETE FROM bench_sv WHERE s = ('{}/' || :dims)::sparsevec;
VACUUM ANALYZE bench_sv;
SQL
rows=$(psql -X -At -c "SELECT count(*) FROM bench_sv")
value_bytes=$(psql -X -At -c "SELECT round(avg(pg_column_size(s))) FROM bench_sv")
for rep in "sparsevec_cosine_ops:<=>" "sparsevec_l2_ops:<->"; do
  IFS=: read -r opclass op <<<"$rep"
  t0=$(now)
  psql -X -q -v ON_ERROR_STOP=1 -c "CREATE INDEX bench_sv_idx ON bench_sv USING hnsw (s $opclass)"
  build_ms=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
  size=$(psql -X -At -c "SELECT pg_relation_size('bench_sv_idx')")
  plan=$(psql -X -q -At -c "SET enable_seqscan = off" -c "EXPLAIN SELECT id FROM bench_sv d ORDER BY d.s $op (SELECT s FROM bench_sv WHERE id = 1) LIMIT 10" | grep -c "Index Scan using bench_sv_idx")
  [ "$plan" = 1 ] || { echo "bench_sparse_hnsw: the $opclass query does not use the index" >&2; exit 1; }
  for ef in 40 100; do
    times=()
    for run in 1 2 3; do
      times+=("$(psql -X -q -At -c "SET hnsw.ef_search = $ef" -c "SET enable_seqscan = off" -c "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON)
        SELECT count(*) FROM bench_sv q CROSS JOIN LATERAL
          (SELECT id FROM bench_sv d ORDER BY d.s $op q.s LIMIT 10) n WHERE q.id <= 200" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Execution Time"] / 200)')")
    done
    per_query=$(printf '%s\n' "${times[@]}" | sort -g | sed -n 2p)
    recall=$(psql -X -q -At -c "SET hnsw.ef_search = $ef" -c "SET enable_seqscan = off" -c "SELECT round(avg(hits) / 10, 3) FROM (
        SELECT (SELECT count(*) FROM
          (SELECT d.s $op q.s AS dist FROM bench_sv d ORDER BY d.s $op q.s LIMIT 10) i
          WHERE i.dist <= (SELECT dist FROM (SELECT d.s $op q.s AS dist FROM bench_sv d OFFSET 0) e
                           ORDER BY dist OFFSET 9 LIMIT 1) + 1e-9) AS hits
        FROM bench_sv q WHERE q.id <= 200) r" | tail -1)
    printf '{"benchmark": "hnsw_sparsevec_tfidf", "rows": %s, "opclass": "%s", "build_ms": %s, "index_bytes": %s, "mean_value_bytes": %s, "ef_search": %s, "query_ms": %.3f, "qps_one_process": %.0f, "recall_at_10": %s}\n' \
      "$rows" "$opclass" "$build_ms" "$size" "$value_bytes" "$ef" "$per_query" "$(awk -v q="$per_query" 'BEGIN { print 1000 / q }')" "$recall"
  done
  psql -X -q -c "DROP INDEX bench_sv_idx"
done
psql -X -q -c "DROP TABLE bench_sag, bench_sv, bench_sv_vocab"
