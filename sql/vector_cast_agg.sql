-- casts from arrays (assignment) and to real[] (implicit)
SELECT ARRAY[1,2,3]::vector, ARRAY[1.5,2.5]::real[]::vector, ARRAY[1.25,2]::float8[]::vector,
       ARRAY[1.5,2]::numeric[]::vector;
CREATE TABLE t_cast (v vector(3));
INSERT INTO t_cast VALUES (ARRAY[1,2,3]), (ARRAY[1.5,2,3]::float8[]), (ARRAY[1,2,3]::numeric[]);
SELECT v FROM t_cast;
SELECT v::real[], array_length(v::real[], 1) FROM t_cast LIMIT 1;
SELECT '[1,2,3]'::vector || '[4]'::vector = ARRAY[1,2,3,4]::vector AS concat_matches_array;
SELECT unnest('[1,2,3]'::vector::real[]);
INSERT INTO t_cast VALUES (ARRAY[1,2]);
DROP TABLE t_cast;
-- vector(n) to vector(m) checks the dimensions
SELECT '[1,2,3]'::vector(3)::vector(3), '[1,2,3]'::vector::vector(3);
SELECT '[1,2,3]'::vector(3)::vector(2);
-- rejected arrays
SELECT ARRAY[1,NULL,3]::vector;
SELECT ARRAY[[1,2],[3,4]]::vector;
SELECT '{}'::real[]::vector;
SELECT ARRAY['NaN']::float8[]::vector;
SELECT ARRAY['Infinity']::real[]::vector;
SELECT ARRAY[1e300]::float8[]::vector;
SELECT ARRAY[1e300]::numeric[]::vector;
SELECT array_fill(1, ARRAY[16001])::real[]::vector;
-- aggregates
CREATE TABLE t_agg (g int, v vector);
INSERT INTO t_agg VALUES (1, '[1,2,3]'), (1, '[3,4,5]'), (2, '[10,20,30]'), (3, NULL);
SELECT g, avg(v), sum(v) FROM t_agg GROUP BY g ORDER BY g;
SELECT avg(v), sum(v) FROM t_agg;
SELECT avg(v), sum(v) FROM t_agg WHERE false;
SELECT avg(v) FROM (VALUES ('[1,2]'::vector), ('[1,2,3]')) t(v);
SELECT sum(v) FROM (VALUES ('[3e38]'::vector), ('[3e38]')) t(v);
SELECT avg(v) FROM (VALUES ('[3e38]'::vector), ('[3e38]')) t(v);
-- the support functions are callable directly: a state holding NaN or
-- Infinity never becomes a vector
\set VERBOSITY sqlstate
SELECT vector_avg('{1,NaN}'::float8[]);
SELECT vector_sum('{1,NaN}'::float8[]);
SELECT vector_avg('{1,Infinity}'::float8[]);
SELECT vector_avg(vector_combine('{1,NaN}'::float8[], '{1,2}'::float8[]));
SELECT vector_avg(vector_accum('{1,NaN}'::float8[], '[1]'));
SELECT vector_avg('{NaN,1}'::float8[]);
\set VERBOSITY default
SELECT vector_avg('{2,3,-4}'::float8[]), vector_sum('{2,3,-4}'::float8[]);
-- partial aggregation runs the combine function
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2; SET parallel_leader_participation = off;
CREATE TABLE t_agg_big AS SELECT i, ARRAY[i, 1, -i]::vector AS v FROM generate_series(1, 20000) i;
ANALYZE t_agg_big;
EXPLAIN (COSTS OFF) SELECT avg(v), sum(v) FROM t_agg_big;
SELECT avg(v), sum(v) FROM t_agg_big;
RESET ALL;
DROP TABLE t_agg, t_agg_big;
