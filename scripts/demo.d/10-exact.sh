# demo part 10: Fashion-MNIST as vectors, exact k-NN search, a k-NN classifier.
# Sourced by scripts/demo.sh.  Leaves table fashion_mnist for later parts.

step "Loading Fashion-MNIST (60,000 training + 10,000 test images, 784-d) with binary COPY"
sql <<'SQL'
DROP TABLE IF EXISTS fashion_mnist CASCADE;
DROP TABLE IF EXISTS fashion_mnist_class;
CREATE TABLE fashion_mnist_class (label int PRIMARY KEY, name text NOT NULL);
INSERT INTO fashion_mnist_class VALUES
  (0, 'T-shirt/top'), (1, 'Trouser'), (2, 'Pullover'), (3, 'Dress'), (4, 'Coat'),
  (5, 'Sandal'), (6, 'Shirt'), (7, 'Sneaker'), (8, 'Bag'), (9, 'Ankle boot');
-- 784 float4 = 3 kB: PLAIN keeps each vector inline in its heap row, so a scan
-- neither fetches TOAST chunks nor decompresses (see test/bench/exact_scan.py).
CREATE TABLE fashion_mnist (
  id int PRIMARY KEY,
  split text NOT NULL,
  label int NOT NULL REFERENCES fashion_mnist_class,
  v vector(784)
);
ALTER TABLE fashion_mnist ALTER v SET STORAGE PLAIN;
SQL
/usr/bin/python3 test/lib/fmnist.py copy train | sql -c "ALTER TABLE fashion_mnist ALTER split SET DEFAULT 'train'" \
  -c "\copy fashion_mnist (id, label, v) FROM STDIN WITH (FORMAT binary)"
/usr/bin/python3 test/lib/fmnist.py copy test 10000 60001 | sql -c "ALTER TABLE fashion_mnist ALTER split SET DEFAULT 'test'" \
  -c "\copy fashion_mnist (id, label, v) FROM STDIN WITH (FORMAT binary)"
sql -c "ALTER TABLE fashion_mnist ALTER split DROP DEFAULT" -c "VACUUM ANALYZE fashion_mnist"
show "SELECT split, count(*), max(vector_dims(v)) AS dims, pg_size_pretty(pg_table_size('fashion_mnist')) AS table_size FROM fashion_mnist GROUP BY split ORDER BY split;"
step_done

step "The 10 nearest training images to test image 60001 (exact search)"
show "SELECT t.id, c.name AS label, round((t.v <-> q.v)::numeric, 1) AS l2_distance
FROM fashion_mnist q, fashion_mnist t JOIN fashion_mnist_class c USING (label)
WHERE q.id = 60001 AND t.split = 'train'
ORDER BY t.v <-> q.v LIMIT 10;"
step_done

step "Nearest neighbours' labels for a few more test images, one line each"
show "SELECT q.id AS test_image, qc.name AS true_label,
       string_agg(nc.name, ', ' ORDER BY n.d) AS labels_of_5_nearest
FROM fashion_mnist q JOIN fashion_mnist_class qc USING (label)
CROSS JOIN LATERAL (SELECT t.label, t.v <-> q.v AS d FROM fashion_mnist t
                    WHERE t.split = 'train' ORDER BY t.v <-> q.v LIMIT 5) n
JOIN fashion_mnist_class nc ON nc.label = n.label
WHERE q.id BETWEEN 60002 AND 60006 GROUP BY q.id, qc.name ORDER BY q.id;"
step_done

step "Metadata-filtered search: the 5 footwear images (Sandal, Sneaker, Ankle boot) nearest to test image 60001"
show "SELECT t.id, c.name AS label, round((t.v <-> q.v)::numeric, 1) AS l2_distance
FROM fashion_mnist q, fashion_mnist t JOIN fashion_mnist_class c USING (label)
WHERE q.id = 60001 AND t.split = 'train' AND t.label IN (5, 7, 9)
ORDER BY t.v <-> q.v LIMIT 5;"
step_done

step "Similarity join: a 10-NN classifier for 1,000 test images (exact, LATERAL join over 60,000 images)"
echo "1,000 exact scans of 60,000 vectors: this takes about a minute on 2 cores..."
# The exact neighbours are kept: later parts measure the indexes' recall
# and speed against them.
sql <<'SQL'
DROP VIEW IF EXISTS demo_recall;
DROP TABLE IF EXISTS demo_knn, demo_timing;
CREATE TABLE demo_knn (method text, qid int, id int, label int, d float8);
CREATE TABLE demo_timing (method text PRIMARY KEY, seconds float8);
-- recall@10: a returned image counts when it is within the exact 10th
-- distance, so ties at the boundary are not held against an index
CREATE VIEW demo_recall AS
WITH kth AS (SELECT qid, max(d) AS d FROM demo_knn WHERE method = 'exact' GROUP BY qid)
SELECT r.method, count(DISTINCT r.qid) AS queries,
       round(avg((r.d <= k.d + 1e-6 * (1 + k.d))::int), 3) AS recall_at_10,
       round((count(DISTINCT r.qid) / t.seconds)::numeric) AS queries_per_s,
       round(((SELECT seconds FROM demo_timing WHERE method = 'exact') / t.seconds)::numeric, 1) AS speedup
FROM demo_knn r JOIN kth k USING (qid) JOIN demo_timing t USING (method)
GROUP BY r.method, t.seconds;
SQL
knn_run exact
show "WITH votes AS (
  SELECT k.qid, q.label AS truth, k.label AS vote, count(*) AS n
  FROM demo_knn k JOIN fashion_mnist q ON q.id = k.qid
  WHERE k.method = 'exact' GROUP BY k.qid, q.label, k.label),
prediction AS (
  SELECT DISTINCT ON (qid) qid, truth, vote FROM votes ORDER BY qid, n DESC, vote)
SELECT count(*) AS test_images,
       round(100.0 * avg((truth = vote)::int), 1) AS knn_accuracy_percent,
       round((SELECT seconds FROM demo_timing WHERE method = 'exact')::numeric, 1) AS search_seconds
FROM prediction;"
step_done
