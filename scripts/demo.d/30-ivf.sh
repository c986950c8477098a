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
for probes in 1 5 10; do
  knn_run "ivfflat, probes = $probes" "SET ivfflat.probes = $probes;"
done
show "SELECT * FROM demo_recall WHERE method = 'exact' OR method LIKE 'ivfflat%' ORDER BY speedup;"
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
