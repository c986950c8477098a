#!/usr/bin/env bash
# Planner cost model check (run by scripts/bench.sh, or with PG* pointing at
# a cluster with vsim installed): for tables of N rows x D dimensions with an
# HNSW index and a btree on a 1% column, the estimated total cost and the
# measured time (best of 3 EXPLAIN ANALYZE runs) of ORDER BY v <-> q LIMIT 10
# with no filter, a 10% filter (no btree) and a 1% filter (btree), under
# three plans: the planner's choice, exact (index scans off) and the HNSW
# index (sequential scans, bitmap scans and sorts off).  One line per case:
#   rows dims filter plan est_cost ms rows_returned top_plan_nodes
# Sizes: BENCH_COST_SIZES (default "1000x32 10000x32 100000x32 1000x784 10000x784").
set -euo pipefail
sizes=${BENCH_COST_SIZES:-"1000x32 10000x32 100000x32 1000x784 10000x784"}
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION IF NOT EXISTS vsim;
CREATE OR REPLACE FUNCTION bench_cost_run(q text, settings text,
    OUT est float8, OUT ms float8, OUT nrows int, OUT nodes text) LANGUAGE plpgsql AS $$
DECLARE plan json; t float8;
BEGIN
  EXECUTE settings;
  ms := 'Infinity';
  FOR i IN 1..3 LOOP
    EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON) ' || q INTO plan;
    t := (plan -> 0 ->> 'Execution Time')::float8;
    ms := least(ms, t);
  END LOOP;
  est := (plan -> 0 -> 'Plan' ->> 'Total Cost')::float8;
  nrows := (plan -> 0 -> 'Plan' ->> 'Actual Rows')::int;
  nodes := (SELECT string_agg(m[1], '>') FROM regexp_matches(plan::text,
            '"Node Type": "([^"]*)"', 'g') m);
  RESET ALL;
END $$;
SQL
printf '%8s %5s %6s %7s %12s %10s %5s  %s\n' rows dims filter plan est_cost ms rows nodes
for size in $sizes; do
  n=${size%x*} d=${size#*x}
  psql -X -q -v ON_ERROR_STOP=1 <<SQL >/dev/null
DROP TABLE IF EXISTS bench_cost;
CREATE TABLE bench_cost AS SELECT i AS id,
    (hashint4(i) & 1023) % 100 AS cat1, (hashint4(i + 3) & 1023) % 10 AS cat10,
    (SELECT array_agg((hashint4(i * 1024 + j) % 1000) / 1000.0) FROM generate_series(1, $d) j)::vector($d) AS v
  FROM generate_series(1, $n) i;
CREATE INDEX ON bench_cost (cat1);
CREATE INDEX ON bench_cost USING hnsw (v vector_l2_ops);
VACUUM ANALYZE bench_cost;
SQL
  q=$(psql -X -At -c "SELECT v FROM bench_cost WHERE id = 1")
  for filter in none 10% 1%; do
    case $filter in
      none) where= ;;
      10%) where="WHERE cat10 = 3" ;;
      1%) where="WHERE cat1 = 7" ;;
    esac
    for plan in chosen exact index; do
      case $plan in
        chosen) set= ;;
        exact) set="SET enable_indexscan = off" ;;
        index) set="SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off" ;;
      esac
      psql -X -At -F ' ' -v ON_ERROR_STOP=1 -c "SELECT * FROM bench_cost_run(\$q\$SELECT id FROM bench_cost $where ORDER BY v <-> '$q' LIMIT 10\$q\$, \$s\$SELECT 1; $set\$s\$)" |
        awk -v n="$n" -v d="$d" -v f="$filter" -v p="$plan" '{ printf "%8s %5s %6s %7s %12.1f %10.3f %5s  %s\n", n, d, f, p, $1, $2, $3, $4 }'
    done
  done
done
psql -X -q -c "DROP TABLE bench_cost" -c "DROP FUNCTION bench_cost_run"
