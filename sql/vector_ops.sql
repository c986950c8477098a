-- distances
SELECT '[1,2,3]'::vector <-> '[4,6,3]' AS l2, l2_distance('[1,2,3]'::vector, '[4,6,3]');
SELECT vector_l2_squared_distance('[1,2,3]', '[4,6,3]');
SELECT '[1,2,3]'::vector <#> '[4,5,6]' AS neg_ip, inner_product('[1,2,3]'::vector, '[4,5,6]');
SELECT '[1,0]'::vector <=> '[0,1]' AS orthogonal, '[1,1]'::vector <=> '[2,2]' AS same_direction,
       '[1,1]'::vector <=> '[-1,-1]' AS opposite, cosine_distance('[3,4]'::vector, '[4,3]');
-- cosine distance with a zero vector is defined as 1, never NaN
SELECT '[0,0]'::vector <=> '[1,2]' AS zero_left, '[1,2]'::vector <=> '[0,0]' AS zero_right,
       '[0,0]'::vector <=> '[0,0]' AS both_zero;
-- tiny vectors whose squares underflow float4 still have a direction
SELECT '[1e-30,1e-30]'::vector <=> '[1e-30,1e-30]' AS same_tiny,
       '[1e-30,0]'::vector <=> '[0,1e-30]' AS orthogonal_tiny,
       '[1e-40,1e-40]'::vector <=> '[-1e-40,-1e-40]' AS opposite_subnormal,
       '[1e-30,1e-30]'::vector <=> '[1,1]' AS tiny_and_unit;
SELECT '[1,2,3]'::vector <+> '[4,0,3]' AS l1, l1_distance('[1,2,3]'::vector, '[4,0,3]');
-- large but finite values do not overflow the double-precision results
SELECT '[3e38]'::vector <-> '[-3e38]' AS l2_huge;
-- operands of different dimensions
SELECT '[1,2]'::vector <-> '[1,2,3]';
SELECT '[1,2]'::vector <#> '[1,2,3]';
SELECT '[1,2]'::vector <=> '[1,2,3]';
SELECT '[1,2]'::vector <+> '[1,2,3]';
SELECT '[1,2]'::vector + '[1,2,3]';
-- functions
SELECT vector_dims('[1,2,3]'::vector), vector_norm('[3,4]'), l2_normalize('[3,4]'::vector), l2_normalize('[0,0]'::vector);
SELECT vector_norm(l2_normalize('[1,2,3,4,5,6,7]'::vector))::numeric(10,6);
SELECT subvector('[1,2,3,4,5]'::vector, 2, 3), subvector('[1,2,3,4,5]'::vector, 4, 10), subvector('[1,2,3,4,5]'::vector, -1, 3);
SELECT subvector('[1,2,3]'::vector, 4, 1);
SELECT subvector('[1,2,3]'::vector, 1, 0);
SELECT subvector('[1,2,3]'::vector, 1, -1);
SELECT subvector('[1,2,3]'::vector, 2147483647, 2147483647);
-- element-wise arithmetic and concatenation
SELECT '[1,2,3]'::vector + '[4,5,6]', '[1,2,3]'::vector - '[4,5,6]', '[1,2,3]'::vector * '[4,5,6]';
SELECT '[1,2]'::vector || '[3]';
SELECT '[3e38]'::vector + '[3e38]';
SELECT '[-3e38]'::vector - '[3e38]';
SELECT '[1e30,1]'::vector * '[1e30,1]';
SELECT array_fill(1, ARRAY[16000])::vector || '[1]';
-- comparisons: element-wise lexicographic, a prefix sorts first
SELECT '[1,2]'::vector < '[1,3]', '[1,2]'::vector < '[1,2,0]', '[2]'::vector > '[1,9]',
       '[1,2]'::vector = '[1,2]', '[1,2]'::vector <> '[1,2,0]', '[1,2]'::vector <= '[1,2]',
       '[1,2]'::vector >= '[1,2]', vector_cmp('[1,2]', '[1,1]');
-- the default btree operator class: ORDER BY, DISTINCT, GROUP BY, UNIQUE, merge join
CREATE TABLE t_btree (id int, v vector);
INSERT INTO t_btree VALUES (1, '[3,1]'), (2, '[1,2]'), (3, '[1,2]'), (4, '[1,2,0]'), (5, '[0,9]');
SELECT v FROM t_btree ORDER BY v, id;
SELECT DISTINCT v FROM t_btree ORDER BY v;
SELECT v, count(*) FROM t_btree GROUP BY v ORDER BY v;
CREATE UNIQUE INDEX ON t_btree (v);
DELETE FROM t_btree WHERE id = 3;
CREATE UNIQUE INDEX t_btree_v ON t_btree (v);
SELECT id FROM t_btree WHERE v = '[1,2]';
SET enable_hashjoin = off; SET enable_nestloop = off;
EXPLAIN (COSTS OFF) SELECT a.id, b.id FROM t_btree a JOIN t_btree b ON a.v = b.v;
SELECT a.id, b.id FROM t_btree a JOIN t_btree b ON a.v = b.v ORDER BY a.id;
RESET enable_hashjoin; RESET enable_nestloop;
DROP TABLE t_btree;
-- TOASTed arguments (600-d vectors go out of line): the distance functions
-- cache a detoasted argument per call site, and must follow each outer row
CREATE TABLE t_toast_q (id int, v vector);
CREATE TABLE t_toast_d (id int, v vector);
INSERT INTO t_toast_q SELECT i, array_fill(i::real, ARRAY[600]) FROM generate_series(1, 3) i;
INSERT INTO t_toast_d SELECT j, array_fill((j * 0.5)::real, ARRAY[600]) FROM generate_series(1, 8) j;
SELECT pg_relation_size(reltoastrelid) > 0 AS query_vectors_are_toasted FROM pg_class WHERE relname = 't_toast_q';
SELECT q.id AS query, n.id, round(n.d::numeric, 3) AS d FROM t_toast_q q CROSS JOIN LATERAL (
  SELECT d.id, d.v <-> q.v AS d FROM t_toast_d d ORDER BY d.v <-> q.v, d.id LIMIT 2) n ORDER BY 1, 3, 2;
SELECT q.id AS query, round(sum(d.v <=> q.v)::numeric, 6) AS cos, round(sum(q.v <+> d.v)::numeric, 1) AS l1
FROM t_toast_q q, t_toast_d d GROUP BY q.id ORDER BY 1;
DROP TABLE t_toast_q, t_toast_d;
