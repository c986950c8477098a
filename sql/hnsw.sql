-- hnsw index access method
SET client_min_messages = notice;
CREATE TABLE hp (id int PRIMARY KEY, cat int, v vector(2));
INSERT INTO hp SELECT i, i % 10, ARRAY[i % 20 - 10, i / 20 - 10]::real[]
  FROM generate_series(1, 400) i;
INSERT INTO hp VALUES (401, 0, NULL), (402, 0, '[0,0]'), (403, 0, '[0,0]');
ANALYZE hp;

-- options and their errors
CREATE INDEX ON hp USING hnsw (v vector_l2_ops) WITH (m = 1);
CREATE INDEX ON hp USING hnsw (v vector_l2_ops) WITH (m = 101);
CREATE INDEX ON hp USING hnsw (v vector_l2_ops) WITH (ef_construction = 3);
CREATE INDEX ON hp USING hnsw (v vector_l2_ops) WITH (ef_construction = 1001);
CREATE INDEX ON hp USING hnsw (v vector_l2_ops) WITH (m = 40, ef_construction = 64);
CREATE INDEX ON hp USING hnsw (v vector_l2_ops) WITH (lists = 4);
CREATE INDEX ON hp USING hnsw (v);
CREATE INDEX ON hp USING hnsw (v vector_l2_ops) INCLUDE (cat);
CREATE TABLE hp_nodim (v vector);
CREATE INDEX ON hp_nodim USING hnsw (v vector_l2_ops);
DROP TABLE hp_nodim;
SET hnsw.ef_search = 0;
SET hnsw.ef_search = 1001;
SET hnsw.iterative_scan = sideways;
SET hnsw.max_scan_tuples = 0;
SET hnsw.scan_mem_multiplier = 0.5;
SHOW hnsw.ef_search;
SHOW hnsw.iterative_scan;
SHOW hnsw.max_scan_tuples;
SHOW hnsw.scan_mem_multiplier;

-- every operator class returns exactly what a sequential scan returns,
-- in distance order, without NULLs (and without zero vectors for cosine)
CREATE FUNCTION hp_check(op text, q text, k int) RETURNS TABLE (same boolean, ordered boolean, n int)
LANGUAGE plpgsql AS $$
DECLARE
  idx float8[];
  seq float8[];
BEGIN
  SET LOCAL enable_seqscan = off;
  EXECUTE format('SELECT array_agg(d ORDER BY r) FROM (SELECT v %s %L AS d, row_number() OVER () AS r FROM (SELECT v FROM hp ORDER BY v %s %L LIMIT %s) s) t', op, q, op, q, k) INTO idx;
  SET LOCAL enable_seqscan = on;
  SET LOCAL enable_indexscan = off;
  EXECUTE format('SELECT array_agg(d ORDER BY d) FROM (SELECT v %s %L AS d FROM hp WHERE v IS NOT NULL ORDER BY v %s %L LIMIT %s) s', op, q, op, q, k) INTO seq;
  RETURN QUERY SELECT idx = seq, idx = (SELECT array_agg(x ORDER BY x) FROM unnest(idx) x), cardinality(idx);
END $$;
SET hnsw.ef_search = 100;
CREATE INDEX hp_l2 ON hp USING hnsw (v vector_l2_ops);
SELECT * FROM hp_check('<->', '[3,-7]', 10);
SELECT * FROM hp_check('<->', '[0,0]', 25);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM hp ORDER BY v <-> '[3,-7]' LIMIT 5;
-- without iterative scan at most ef_search rows come back, with it all
SELECT count(*) AS ef_search_rows FROM (SELECT id FROM hp ORDER BY v <-> '[3,-7]') s;
SET hnsw.iterative_scan = relaxed_order;
SELECT count(*) AS rows_with_vectors FROM (SELECT id FROM hp ORDER BY v <-> '[3,-7]') s;
RESET hnsw.iterative_scan;
DROP INDEX hp_l2;
CREATE INDEX hp_ip ON hp USING hnsw (v vector_ip_ops);
SELECT * FROM hp_check('<#>', '[3,-7]', 10);
DROP INDEX hp_ip;
CREATE INDEX hp_cos ON hp USING hnsw (v vector_cosine_ops) WITH (m = 8, ef_construction = 32);
SELECT * FROM hp_check('<=>', '[3,-7]', 10);
-- zero vectors are not indexed under cosine, and the check knows it
SELECT vsim.index_check('hp_cos', true);
SET hnsw.iterative_scan = relaxed_order;
SELECT count(*) AS nonzero_vectors FROM (SELECT id FROM hp ORDER BY v <=> '[3,-7]') s;
RESET hnsw.iterative_scan;
DROP INDEX hp_cos;
CREATE INDEX hp_l1 ON hp USING hnsw (v vector_l1_ops) WITH (m = 2, ef_construction = 4);
SELECT * FROM hp_check('<+>', '[3,-7]', 10);
DROP INDEX hp_l1;

-- the planner: the index serves ORDER BY distance LIMIT k, nothing else
RESET enable_seqscan;
CREATE INDEX hp_l2 ON hp USING hnsw (v vector_l2_ops);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM hp ORDER BY v <-> '[1,1]' LIMIT 3;
EXPLAIN (COSTS OFF) SELECT id FROM hp ORDER BY v <#> '[1,1]' LIMIT 3;
EXPLAIN (COSTS OFF) SELECT id FROM hp WHERE v = '[1,1]';
EXPLAIN (COSTS OFF) SELECT q.id, n.id FROM hp q CROSS JOIN LATERAL (
  SELECT t.id FROM hp t ORDER BY t.v <-> q.v LIMIT 2) n WHERE q.id < 3;
RESET enable_seqscan;
-- a small table is cheaper to scan; a big one goes through the index
EXPLAIN (COSTS OFF) SELECT id FROM hp ORDER BY v <-> '[1,1]' LIMIT 3;
SET enable_seqscan = off;

-- query vectors: wrong dimensions, NULL
SELECT id FROM hp ORDER BY v <-> '[1,2,3]' LIMIT 1;
SELECT count(*) FROM (SELECT id FROM hp ORDER BY v <-> NULL LIMIT 5) s;

-- iterative scans: a selective filter still gets its rows
SET hnsw.ef_search = 10;
SET hnsw.iterative_scan = relaxed_order;
SELECT count(*) FROM (SELECT id FROM hp WHERE cat = 3 ORDER BY v <-> '[3,-7]' LIMIT 15) s;
SET hnsw.iterative_scan = strict_order;
SELECT count(*), bool_and(d >= prev) AS ordered FROM (
  SELECT d, lag(d, 1, 0::float8) OVER (ORDER BY r) AS prev FROM (
    SELECT v <-> '[3,-7]' AS d, row_number() OVER () AS r FROM (
      SELECT v FROM hp WHERE cat = 3 ORDER BY v <-> '[3,-7]' LIMIT 15) a) b) c;
-- max_scan_tuples stops the search early
SET hnsw.max_scan_tuples = 1;
SELECT count(*) < 15 AS stopped_early FROM (SELECT id FROM hp WHERE cat = 3 ORDER BY v <-> '[3,-7]' LIMIT 15) s;
RESET hnsw.max_scan_tuples;
RESET hnsw.iterative_scan;
SET hnsw.ef_search = 100;

-- inserts: rows of other dimensions are refused, duplicates share elements
INSERT INTO hp VALUES (500, 0, '[1,2,3]');
INSERT INTO hp SELECT 1000 + i, 0, '[7,7]' FROM generate_series(1, 25) i;
SELECT count(*) AS copies_found FROM (SELECT v FROM hp ORDER BY v <-> '[7,7]' LIMIT 30) s WHERE v = '[7,7]';
SELECT elements, heap_tids, dead_elements, m, ef_construction, dimensions,
       levels >= 1 AS has_levels, entry_point IS NOT NULL AS has_entry, pages > 1 AS has_pages
  FROM vsim.hnsw_index_stats('hp_l2');

-- the statistics function: VOLATILE (it reads live pages), EXECUTE for
-- everyone; it needs SELECT on the table or pg_stat_scan_tables
SELECT p.oid::regprocedure, provolatile, proparallel, proisstrict,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute
  FROM pg_proc p WHERE p.oid = 'vsim.hnsw_index_stats'::regproc;
CREATE ROLE hp_nobody;
CREATE ROLE hp_reader;
CREATE ROLE hp_scanner IN ROLE pg_stat_scan_tables;
GRANT SELECT ON hp TO hp_reader;
SET ROLE hp_nobody;
SELECT elements FROM vsim.hnsw_index_stats('hp_l2');
\echo :LAST_ERROR_SQLSTATE
SET ROLE hp_reader;
SELECT elements FROM vsim.hnsw_index_stats('hp_l2');
SET ROLE hp_scanner;
SELECT elements FROM vsim.hnsw_index_stats('hp_l2');
RESET ROLE;
REVOKE SELECT ON hp FROM hp_reader;
DROP ROLE hp_nobody, hp_reader, hp_scanner;

-- vsim.index_check() passes a sound index (heapallindexed: every row is in it)
SELECT vsim.index_check('hp_l2', true);

-- VACUUM removes deleted rows from the index and frees their elements'
-- slots, which inserts reuse before the index grows
DELETE FROM hp WHERE id > 1000 OR id % 2 = 0;
VACUUM hp;
SELECT elements, heap_tids, dead_elements, free_slots FROM vsim.hnsw_index_stats('hp_l2');
SELECT vsim.index_check('hp_l2', true);
SELECT count(*) AS deleted_returned FROM (SELECT id FROM hp ORDER BY v <-> '[7,7]' LIMIT 50) s WHERE id > 1000 OR id % 2 = 0;
SELECT * FROM hp_check('<->', '[7,7]', 20);
SELECT free_slots AS free_before FROM vsim.hnsw_index_stats('hp_l2') \gset
INSERT INTO hp SELECT 2000 + i, i % 10, ARRAY[i % 20 - 9.5, i / 20 - 9.5]::real[]
  FROM generate_series(1, 100) i;
SELECT elements, heap_tids, :free_before - free_slots > 50 AS slots_reused
  FROM vsim.hnsw_index_stats('hp_l2');
SELECT vsim.index_check('hp_l2', true);
SELECT * FROM hp_check('<->', '[7,7]', 20);
SELECT * FROM hp_check('<->', '[-3.5,2.5]', 20);
SELECT vsim.hnsw_index_stats('hp_pkey');
SELECT vsim.hnsw_index_stats('hp');
\echo :LAST_ERROR_SQLSTATE
REINDEX INDEX hp_l2;
SELECT elements, heap_tids, dead_elements FROM vsim.hnsw_index_stats('hp_l2');
SELECT * FROM hp_check('<->', '[7,7]', 20);
DROP INDEX hp_l2;

-- vsim.index_check() on partial and expression indexes: heapallindexed
-- expects only the rows the predicate admits, under the expression
CREATE INDEX hp_part ON hp USING hnsw (v vector_l2_ops) WHERE cat = 3;
CREATE INDEX hp_expr ON hp USING hnsw ((l2_normalize(v)::vector(2)) vector_l2_ops);
DELETE FROM hp WHERE id % 7 = 0;
VACUUM hp;
SELECT vsim.index_check('hp_part', true), vsim.index_check('hp_expr', true);
SELECT heap_tids = (SELECT count(*) FROM hp WHERE cat = 3 AND v IS NOT NULL) AS partial_rows
  FROM vsim.hnsw_index_stats('hp_part');
DROP INDEX hp_part, hp_expr;

-- an empty index, then inserts through the concurrent insert path
CREATE TABLE hp_empty (id int, v vector(3));
CREATE INDEX hp_empty_idx ON hp_empty USING hnsw (v vector_l2_ops);
SELECT count(*) FROM (SELECT id FROM hp_empty ORDER BY v <-> '[1,1,1]' LIMIT 5) s;
INSERT INTO hp_empty SELECT i, ARRAY[i % 7, i % 11, i % 13]::real[] FROM generate_series(1, 300) i;
SELECT v <-> '[1,1,1]' AS d FROM hp_empty ORDER BY v <-> '[1,1,1]' LIMIT 4;
DROP TABLE hp_empty;

-- a graph larger than maintenance_work_mem continues on disk
CREATE TABLE hp_big (id int, v vector(64));
INSERT INTO hp_big SELECT i, array_agg(CASE WHEN j = 1 THEN i ELSE (i * j * 7919) % 1009 END::real ORDER BY j)
  FROM generate_series(1, 3000) i, generate_series(1, 64) j GROUP BY i;
SET maintenance_work_mem = '1MB';
\set VERBOSITY terse
CREATE INDEX hp_big_idx ON hp_big USING hnsw (v vector_l2_ops);
\set VERBOSITY default
RESET maintenance_work_mem;
SELECT elements, heap_tids FROM vsim.hnsw_index_stats('hp_big_idx');
SELECT (SELECT array_agg(id) FROM (SELECT id FROM hp_big ORDER BY v <-> (SELECT v FROM hp_big WHERE id = 77) LIMIT 5) a)
     = (SELECT array_agg(id) FROM (SELECT id FROM hp_big ORDER BY (v <-> (SELECT v FROM hp_big WHERE id = 77)) + 0 LIMIT 5) b) AS same_as_exact;
DROP TABLE hp_big;

-- vectors of the maximum dimensions span several pages
CREATE TABLE hp_wide (id int, v vector(16000));
INSERT INTO hp_wide SELECT i, array_fill(i::real, ARRAY[16000]) FROM generate_series(1, 6) i;
CREATE INDEX hp_wide_idx ON hp_wide USING hnsw (v vector_l1_ops);
INSERT INTO hp_wide SELECT i, array_fill(i::real, ARRAY[16000]) FROM generate_series(7, 9) i;
SELECT id, v <+> array_fill(4.25::real, ARRAY[16000])::vector AS d FROM hp_wide
  ORDER BY v <+> array_fill(4.25::real, ARRAY[16000])::vector LIMIT 3;
SELECT elements, pages >= 9 * 8 AS spans_pages FROM vsim.hnsw_index_stats('hp_wide_idx');
DROP TABLE hp_wide;

-- UNLOGGED tables and CREATE INDEX CONCURRENTLY
CREATE UNLOGGED TABLE hp_unlogged (id int, v vector(2));
INSERT INTO hp_unlogged SELECT i, ARRAY[i, -i]::real[] FROM generate_series(1, 50) i;
CREATE INDEX CONCURRENTLY hp_unlogged_idx ON hp_unlogged USING hnsw (v vector_l2_ops);
SELECT id FROM hp_unlogged ORDER BY v <-> '[10.2,-10]' LIMIT 3;
DROP TABLE hp_unlogged;

-- SQLSTATEs of hnsw's errors
CREATE TABLE hp_err (v vector(2), w vector);
INSERT INTO hp_err VALUES ('[1,2]', '[1]');
CREATE INDEX hp_err_idx ON hp_err USING hnsw (v vector_l2_ops);
\set VERBOSITY sqlstate
CREATE INDEX ON hp_err USING hnsw (v vector_l2_ops) WITH (m = 1);
CREATE INDEX ON hp_err USING hnsw (v vector_l2_ops) WITH (m = 40, ef_construction = 64);
CREATE INDEX ON hp_err USING hnsw (w vector_l2_ops);
SET enable_seqscan = off;
SELECT v FROM hp_err ORDER BY v <-> '[1,2,3]' LIMIT 1;
RESET enable_seqscan;
SELECT * FROM vsim.hnsw_index_stats('hp_err');
\set VERBOSITY default
DROP TABLE hp_err;

-- every scan counts in pg_stat_user_indexes.idx_scan, also each rescan of
-- a LATERAL join (stats reach the view when the backend flushes them)
CREATE TABLE hp_stat (id int, v vector(2));
INSERT INTO hp_stat SELECT i, ARRAY[i, i % 7]::real[] FROM generate_series(1, 100) i;
CREATE INDEX hp_stat_idx ON hp_stat USING hnsw (v vector_l2_ops);
SET enable_seqscan = off;
SELECT id FROM hp_stat ORDER BY v <-> '[3,3]' LIMIT 1;
SELECT count(*) FROM generate_series(1, 3) g CROSS JOIN LATERAL (
  SELECT id FROM hp_stat ORDER BY v <-> ARRAY[g, g]::real[]::vector LIMIT 1) s;
RESET enable_seqscan;
SELECT pg_stat_force_next_flush();
SELECT idx_scan, idx_tup_read > 0 AS tuples_read FROM pg_stat_user_indexes
  WHERE indexrelid = 'hp_stat_idx'::regclass;
DROP TABLE hp_stat;

-- operator class validation
SELECT amvalidate(oid) FROM pg_opclass WHERE opcmethod = (SELECT oid FROM pg_am WHERE amname = 'hnsw') ORDER BY opcname;
-- a support function of another signature, a search operator, an ORDER BY
-- operator of a sort family for integers; a class without its metric
CREATE OPERATOR CLASS hp_bad_ops FOR TYPE vector USING hnsw AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY integer_ops,
	OPERATOR 2 = (vector, vector),
	FUNCTION 1 vector_dims(vector);
CREATE OPERATOR CLASS hp_nometric_ops FOR TYPE vector USING hnsw AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops;
SELECT amvalidate(oid) FROM pg_opclass WHERE opcname = 'hp_bad_ops';
SELECT amvalidate(oid) FROM pg_opclass WHERE opcname = 'hp_nometric_ops';
DROP OPERATOR FAMILY hp_bad_ops USING hnsw;
DROP OPERATOR FAMILY hp_nometric_ops USING hnsw;
DROP FUNCTION hp_check;
DROP TABLE hp;
