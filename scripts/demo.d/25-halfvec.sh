# demo part 25: the same images as halfvec (binary16: half the bytes, and
# exact for pixel values 0..255) with an HNSW index half the size, then a
# binary-quantized index (one bit per pixel) whose shortlist is re-ranked
# by exact distance.  Sourced by scripts/demo.sh after part 20.

step "The images as halfvec(784): an HNSW index of half the size, the same recall"
sql <<'SQL'
ALTER TABLE fashion_mnist ADD COLUMN IF NOT EXISTS h halfvec(784);
UPDATE fashion_mnist SET h = v::halfvec(784) WHERE h IS NULL;
SET maintenance_work_mem = '1GB';
DROP INDEX IF EXISTS fashion_mnist_hnsw_h;
CREATE INDEX fashion_mnist_hnsw_h ON fashion_mnist USING hnsw (h halfvec_l2_ops)
  WITH (m = 16, ef_construction = 64) WHERE split = 'train';
SQL
show "SELECT pg_size_pretty(pg_relation_size('fashion_mnist_hnsw_h')) AS halfvec_index,
       pg_size_pretty(sum(pg_column_size(h))) AS halfvec_column, pg_size_pretty(sum(pg_column_size(v))) AS vector_column
FROM fashion_mnist;"
knn_run "hnsw on halfvec, ef_search = 40" "SET hnsw.ef_search = 40;" h
show "SELECT * FROM demo_recall WHERE method IN ('exact', 'hnsw, ef_search = 40', 'hnsw on halfvec, ef_search = 40') ORDER BY speedup;"
sql -c "DROP INDEX fashion_mnist_hnsw_h"
step_done

step "Binary quantization with re-ranking: 784 bits per image, the 100 nearest in Hamming distance re-ranked by L2"
sql <<'SQL'
SET maintenance_work_mem = '1GB';
DROP INDEX IF EXISTS fashion_mnist_bq;
CREATE INDEX fashion_mnist_bq ON fashion_mnist USING hnsw ((binary_quantize(v)::bit(784)) bit_hamming_ops)
  WHERE split = 'train';
SQL
show "SELECT pg_size_pretty(pg_relation_size('fashion_mnist_bq')) AS bit_index;"
sql <<'SQL'
SET hnsw.ef_search = 200;
SELECT clock_timestamp() AS t0 \gset
INSERT INTO demo_knn SELECT 'binary quantized, top 100 re-ranked', q.id, n.id, n.label, n.d
FROM fashion_mnist q CROSS JOIN LATERAL (
  SELECT s.id, s.label, s.v <-> q.v AS d FROM (
    SELECT t.id, t.label, t.v FROM fashion_mnist t WHERE t.split = 'train'
    ORDER BY binary_quantize(t.v)::bit(784) <~> binary_quantize(q.v) LIMIT 100) s
  ORDER BY s.v <-> q.v LIMIT 10) n
WHERE q.id BETWEEN 60001 AND 61000;
INSERT INTO demo_timing SELECT 'binary quantized, top 100 re-ranked',
  extract(epoch FROM clock_timestamp() - :'t0'::timestamptz);
SQL
show "SELECT * FROM demo_recall WHERE method IN ('exact', 'binary quantized, top 100 re-ranked') ORDER BY speedup;"
echo "(Pixels are never negative, so binary_quantize keeps only 'ink or no ink': a coarse code for"
echo " these images, and recall shows it; embeddings centred on zero quantize far better.)"
sql -c "DROP INDEX fashion_mnist_bq"
step_done
sql -c "ALTER TABLE fashion_mnist DROP COLUMN h"
