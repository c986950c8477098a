# demo part 30: an IVFFlat index on the Fashion-MNIST training images, its
# plan and shape, and its recall and speed against exact search.
# Sourced by scripts/demo.sh after part 10 (table fashion_mnist).

step "Building an IVFFlat index (k-means into 245 lists) on the 60,000 training images"
show "CREATE INDEX fashion_mnist_ivf ON fashion_mnist
  USING ivfflat (v vector_l2_ops) WITH (lists = 245) WHERE split = 'train';"
step_done

step "The index's shape: rows per list and the imbalance factor (1.0 = even lists)"
show "SELECT lists, rows, min_list_rows, max_list_rows, round(mean_list_rows) AS mean_list_rows,
       round(imbalance::numeric, 2) AS imbalance, pg_size_pretty(total_pages * 8192::bigint) AS size
FROM vsim.ivfflat_index_stats('fashion_mnist_ivf');"
step_done

step "A top-10 query uses the index (it scans the ivfflat.probes lists nearest to the query)"
show "EXPLAIN (COSTS OFF)
SELECT t.id FROM fashion_mnist t
WHERE t.split = 'train'
ORDER BY t.v <-> (SELECT v FROM fashion_mnist WHERE id = 60001) LIMIT 10;"
show "SET ivfflat.probes = 5;
SELECT t.id, c.name AS label,
       round((t.v <-> (SELECT v FROM fashion_mnist WHERE id = 60001))::numeric, 1) AS l2_distance
FROM fashion_mnist t JOIN fashion_mnist_class c USING (label)
WHERE t.split = 'train'
ORDER BY t.v <-> (SELECT v FROM fashion_mnist WHERE id = 60001) LIMIT 10;"
step_done

step "Recall@10 and speed for 1,000 test images: exact search vs IVFFlat at 1, 5 and 10 probes"
# One session: other approximate indexes on the table (from other demo
# parts) are set aside inside a transaction that is rolled back, so each
# search below runs on the plan it names.
sql <<'SQL'
\pset footer off
BEGIN;
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT i.indexrelid::regclass AS idx FROM pg_index i
           JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
           WHERE i.indrelid = 'fashion_mnist'::regclass AND a.amname NOT IN ('btree', 'ivfflat')
  LOOP
    EXECUTE format('DROP INDEX %s', r.idx);
  END LOOP;
END $$;
CREATE TEMP TABLE knn (method text, qid int, id int, d float8);
CREATE TEMP TABLE timing (method text, seconds float8);

SET enable_indexscan = off; SET enable_bitmapscan = off;
SELECT clock_timestamp() AS t0 \gset
INSERT INTO knn SELECT 'exact', q.id, n.id, n.d FROM fashion_mnist q CROSS JOIN LATERAL (
  SELECT t.id, t.v <-> q.v AS d FROM fashion_mnist t WHERE t.split = 'train'
  ORDER BY t.v <-> q.v LIMIT 10) n
WHERE q.split = 'test' AND q.id <= 61000;
INSERT INTO timing SELECT 'exact', extract(epoch FROM clock_timestamp() - :'t0');
RESET enable_indexscan; RESET enable_bitmapscan;

SET ivfflat.probes = 1;
SELECT clock_timestamp() AS t0 \gset
INSERT INTO knn SELECT 'ivfflat, probes = 1', q.id, n.id, n.d FROM fashion_mnist q CROSS JOIN LATERAL (
  SELECT t.id, t.v <-> q.v AS d FROM fashion_mnist t WHERE t.split = 'train'
  ORDER BY t.v <-> q.v LIMIT 10) n
WHERE q.split = 'test' AND q.id <= 61000;
INSERT INTO timing SELECT 'ivfflat, probes = 1', extract(epoch FROM clock_timestamp() - :'t0');

SET ivfflat.probes = 5;
SELECT clock_timestamp() AS t0 \gset
INSERT INTO knn SELECT 'ivfflat, probes = 5', q.id, n.id, n.d FROM fashion_mnist q CROSS JOIN LATERAL (
  SELECT t.id, t.v <-> q.v AS d FROM fashion_mnist t WHERE t.split = 'train'
  ORDER BY t.v <-> q.v LIMIT 10) n
WHERE q.split = 'test' AND q.id <= 61000;
INSERT INTO timing SELECT 'ivfflat, probes = 5', extract(epoch FROM clock_timestamp() - :'t0');

SET ivfflat.probes = 10;
SELECT clock_timestamp() AS t0 \gset
INSERT INTO knn SELECT 'ivfflat, probes = 10', q.id, n.id, n.d FROM fashion_mnist q CROSS JOIN LATERAL (
  SELECT t.id, t.v <-> q.v AS d FROM fashion_mnist t WHERE t.split = 'train'
  ORDER BY t.v <-> q.v LIMIT 10) n
WHERE q.split = 'test' AND q.id <= 61000;
INSERT INTO timing SELECT 'ivfflat, probes = 10', extract(epoch FROM clock_timestamp() - :'t0');

-- recall@10: a returned image counts when it is within the exact 10th distance
WITH kth AS (SELECT qid, max(d) AS d FROM knn WHERE method = 'exact' GROUP BY qid)
SELECT k.method, count(DISTINCT k.qid) AS queries,
       round(avg((k.d <= kth.d + 1e-9)::int), 3) AS recall_at_10,
       round(t.seconds::numeric, 2) AS seconds,
       round((count(DISTINCT k.qid) / t.seconds)::numeric) AS queries_per_second
FROM knn k JOIN kth USING (qid) JOIN timing t USING (method)
GROUP BY k.method, t.seconds ORDER BY t.seconds DESC;
ROLLBACK;
SQL
step_done

step "Filtered search: the 5 dresses nearest to test image 60001 (an ankle boot), one probe; iterative scan probes on (relaxed order)"
show "SET ivfflat.probes = 1;
SELECT count(*) AS dresses_found_without_iterative_scan FROM (
  SELECT t.id FROM fashion_mnist t WHERE t.split = 'train' AND t.label = 3
  ORDER BY t.v <-> (SELECT v FROM fashion_mnist WHERE id = 60001) LIMIT 5) s;"
show "SET ivfflat.probes = 1; SET ivfflat.iterative_scan = relaxed_order;
SELECT t.id, c.name AS label, round((t.v <-> (SELECT v FROM fashion_mnist WHERE id = 60001))::numeric, 1) AS l2_distance
FROM fashion_mnist t JOIN fashion_mnist_class c USING (label)
WHERE t.split = 'train' AND t.label = 3
ORDER BY t.v <-> (SELECT v FROM fashion_mnist WHERE id = 60001) LIMIT 5;"
step_done
