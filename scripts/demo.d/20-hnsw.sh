# demo part 20: an HNSW index on the training images, the plan that uses it,
# and its recall and speed against exact search.  Sourced by scripts/demo.sh
# after part 10 (table fashion_mnist).

step "Building an HNSW index on the 60,000 training images (m = 16, ef_construction = 64)"
sql <<'SQL'
DROP INDEX IF EXISTS fashion_mnist_hnsw;
SET maintenance_work_mem = '1GB';
CREATE INDEX fashion_mnist_hnsw ON fashion_mnist USING hnsw (v vector_l2_ops)
  WITH (m = 16, ef_construction = 64) WHERE split = 'train';
SQL
show "SELECT elements, levels, entry_level, avg_level0_neighbours::numeric(5,1) AS avg_neighbours,
       pg_size_pretty(pg_relation_size('fashion_mnist_hnsw')) AS index_size
FROM vsim.hnsw_index_stats('fashion_mnist_hnsw');"
step_done

step "The planner uses the index for ORDER BY distance LIMIT k"
show "EXPLAIN (COSTS OFF) SELECT t.id FROM fashion_mnist t
WHERE t.split = 'train' ORDER BY t.v <-> (SELECT v FROM fashion_mnist WHERE id = 60001) LIMIT 10;"
show "SELECT t.id, c.name AS label, round((t.v <-> q.v)::numeric, 1) AS l2_distance
FROM fashion_mnist q, fashion_mnist t JOIN fashion_mnist_class c USING (label)
WHERE q.id = 60001 AND t.split = 'train'
ORDER BY t.v <-> q.v LIMIT 10;"
step_done

step "Recall@10 and speed for 1,000 test images: exact search vs HNSW at three ef_search settings"
# Each method runs one LATERAL join over the 1,000 test images inside the
# server; recall counts a returned row when it is within the exact 10th
# distance (ties at the boundary are not held against the index).
sql <<'SQL'
CREATE OR REPLACE FUNCTION pg_temp.timed(query text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN EXECUTE query; RETURN extract(epoch FROM clock_timestamp() - t0); END $$;
DROP TABLE IF EXISTS demo_speed, demo_result;
CREATE TABLE demo_speed (method text, ef_search int, seconds float8);
CREATE TABLE demo_result (ef_search int, qid int, d float8);
SET enable_indexscan = off;
INSERT INTO demo_speed SELECT 'exact', NULL, pg_temp.timed($q$
  INSERT INTO demo_result SELECT NULL, q.id, n.d FROM fashion_mnist q CROSS JOIN LATERAL (
    SELECT t.v <-> q.v AS d FROM fashion_mnist t WHERE t.split = 'train'
    ORDER BY t.v <-> q.v LIMIT 10) n
  WHERE q.split = 'test' AND q.id <= 61000$q$);
RESET enable_indexscan;
DO $$
DECLARE ef int;
BEGIN
  FOREACH ef IN ARRAY ARRAY[10, 40, 100] LOOP
    EXECUTE format('SET hnsw.ef_search = %s', ef);
    INSERT INTO demo_speed SELECT 'hnsw', ef, pg_temp.timed(format($q$
      INSERT INTO demo_result SELECT %s, q.id, n.d FROM fashion_mnist q CROSS JOIN LATERAL (
        SELECT t.v <-> q.v AS d FROM fashion_mnist t WHERE t.split = 'train'
        ORDER BY t.v <-> q.v LIMIT 10) n
      WHERE q.split = 'test' AND q.id <= 61000$q$, ef));
  END LOOP;
END $$;
SQL
show "WITH kth AS (SELECT qid, max(d) AS d FROM demo_result WHERE ef_search IS NULL GROUP BY qid)
SELECT s.method, s.ef_search,
       (SELECT avg((r.d <= k.d + 1e-6 * (1 + k.d))::int) FROM demo_result r JOIN kth k USING (qid)
        WHERE r.ef_search IS NOT DISTINCT FROM s.ef_search)::numeric(5,3) AS recall_at_10,
       round(1000 / s.seconds) AS queries_per_s,
       round(((SELECT seconds FROM demo_speed WHERE method = 'exact') / s.seconds)::numeric, 1) AS speedup
FROM demo_speed s ORDER BY s.method, s.ef_search;"
sql -c "DROP TABLE demo_speed, demo_result"
step_done

step "A filtered query with an iterative index scan: 5 sandals nearest to test image 60001"
show "SET hnsw.iterative_scan = relaxed_order;
SELECT t.id, c.name AS label, round((t.v <-> q.v)::numeric, 1) AS l2_distance
FROM fashion_mnist q, fashion_mnist t JOIN fashion_mnist_class c USING (label)
WHERE q.id = 60001 AND t.split = 'train' AND t.label = 5
ORDER BY t.v <-> q.v LIMIT 5;"
step_done
