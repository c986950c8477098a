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
for ef in 10 40 100; do
  knn_run "hnsw, ef_search = $ef" "SET hnsw.ef_search = $ef;"
done
show "SELECT * FROM demo_recall WHERE method = 'exact' OR method LIKE 'hnsw%' ORDER BY speedup;"
step_done

step "A filtered query with an iterative index scan: 5 sandals nearest to test image 60001"
show "SET hnsw.iterative_scan = relaxed_order;
SELECT t.id, c.name AS label, round((t.v <-> q.v)::numeric, 1) AS l2_distance
FROM fashion_mnist q, fashion_mnist t JOIN fashion_mnist_class c USING (label)
WHERE q.id = 60001 AND t.split = 'train' AND t.label = 5
ORDER BY t.v <-> q.v LIMIT 5;"
step_done

# Later parts compare other methods with exact search: leave the table as
# part 10 made it.
sql -c "DROP INDEX fashion_mnist_hnsw"
