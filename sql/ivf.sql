-- ivfflat index access method: options, errors, operator classes, NULLs,
-- ordering, EXPLAIN, iterative scan, space reuse, vsim.index_check(),
-- monitoring.
SET client_min_messages = notice;

CREATE TABLE ivf_items (id int PRIMARY KEY, cat int, v vector(3));
-- deterministic points on a lattice: 2,000 rows, 40 categories
INSERT INTO ivf_items
SELECT i, i % 40, ARRAY[i % 17, (i * 7) % 23, (i * 13) % 29]::vector
FROM generate_series(1, 2000) i;

-- options ---------------------------------------------------------------------
CREATE INDEX ON ivf_items USING ivfflat (v) WITH (lists = 0);
CREATE INDEX ON ivf_items USING ivfflat (v) WITH (lists = 32769);
CREATE INDEX ON ivf_items USING ivfflat (v) WITH (lists = 'many');
CREATE INDEX ON ivf_items USING ivfflat (v) WITH (probes = 3);
CREATE INDEX ON ivf_items USING ivfflat (v vector_l1_ops);
CREATE INDEX ON ivf_items USING ivfflat (id);
CREATE INDEX ON ivf_items USING ivfflat (v vector_l2_ops) INCLUDE (id);
SET ivfflat.probes = 0;
SET ivfflat.max_probes = 32769;
SET ivfflat.iterative_scan = strict_order;
SET ivfflat.no_such_setting = 1;

-- errors at build ----------------------------------------------------------------
CREATE TABLE ivf_nodims (v vector);
CREATE INDEX ON ivf_nodims USING ivfflat (v);
CREATE TABLE ivf_wide (v vector(3000));
CREATE INDEX ON ivf_wide USING ivfflat (v);
CREATE TABLE ivf_big (v vector(1000));
SET maintenance_work_mem = '1MB';
CREATE INDEX ON ivf_big USING ivfflat (v) WITH (lists = 1000);
-- a smaller sample fits: NOTICE, then the build goes on
INSERT INTO ivf_big SELECT array_fill((i % 50)::real, ARRAY[1000]) FROM generate_series(1, 300) i;
CREATE INDEX ivf_big_idx ON ivf_big USING ivfflat (v) WITH (lists = 10);
RESET maintenance_work_mem;
SELECT lists, rows, empty_lists FROM vsim.ivfflat_index_stats('ivf_big_idx');
DROP TABLE ivf_nodims, ivf_wide, ivf_big;

-- an empty table gives one list and a NOTICE; inserts then work
CREATE TABLE ivf_empty (id int, v vector(2));
CREATE INDEX ivf_empty_idx ON ivf_empty USING ivfflat (v vector_l2_ops) WITH (lists = 4);
CREATE INDEX ivf_empty_cos ON ivf_empty USING ivfflat (v vector_cosine_ops) WITH (lists = 2);
SELECT vsim.index_check('ivf_empty_idx', true), vsim.index_check('ivf_empty_cos', true);
INSERT INTO ivf_empty VALUES (1, '[1,1]'), (2, '[2,2]'), (3, '[0,0]'), (4, NULL);
SET enable_seqscan = off;
SELECT id, v <-> '[0,0]' AS d FROM ivf_empty ORDER BY v <-> '[0,0]' LIMIT 10;
SELECT lists, requested_lists, rows, rows_at_build FROM vsim.ivfflat_index_stats('ivf_empty_idx');
-- the index is sound after the inserts; so is a cosine index built on the
-- empty table (one list whose centre is the origin), before and after
SELECT vsim.index_check('ivf_empty_idx', true), vsim.index_check('ivf_empty_cos', true);
DROP INDEX ivf_empty_cos;
-- a tiny table: fewer lists than asked, with a NOTICE
REINDEX INDEX ivf_empty_idx;
SELECT lists, requested_lists, rows, rows_at_build FROM vsim.ivfflat_index_stats('ivf_empty_idx');
DROP TABLE ivf_empty;
RESET enable_seqscan;

-- each operator class: with probes = lists the index is exact ------------------
INSERT INTO ivf_items VALUES (2001, 1, NULL), (2002, 2, NULL), (2003, 3, '[0,0,0]');
CREATE INDEX ivf_l2 ON ivf_items USING ivfflat (v vector_l2_ops) WITH (lists = 8);
CREATE INDEX ivf_ip ON ivf_items USING ivfflat (v vector_ip_ops) WITH (lists = 8);
CREATE INDEX ivf_cos ON ivf_items USING ivfflat (v vector_cosine_ops) WITH (lists = 8);
SELECT amvalidate(oid) FROM pg_opclass
WHERE opcmethod = (SELECT oid FROM pg_am WHERE amname = 'ivfflat') ORDER BY opcname;
-- the same validation as hnsw: classes with bad members, without a metric
CREATE OPERATOR CLASS ivf_bad_ops FOR TYPE vector USING ivfflat AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY integer_ops,
	OPERATOR 2 = (vector, vector),
	FUNCTION 1 vector_dims(vector);
CREATE OPERATOR CLASS ivf_nometric_ops FOR TYPE vector USING ivfflat AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops;
SELECT amvalidate(oid) FROM pg_opclass WHERE opcname = 'ivf_bad_ops';
SELECT amvalidate(oid) FROM pg_opclass WHERE opcname = 'ivf_nometric_ops';
DROP OPERATOR FAMILY ivf_bad_ops USING ivfflat;
DROP OPERATOR FAMILY ivf_nometric_ops USING ivfflat;
SELECT indexrelid::regclass, lists, dims, metric, rows, min_list_rows > 0 AS no_empty_list,
       imbalance BETWEEN 1 AND 3 AS imbalance_ok, list_pages >= lists AS pages_ok
FROM pg_index, vsim.ivfflat_index_stats(indexrelid)
WHERE indrelid = 'ivf_items'::regclass AND indexrelid <> 'ivf_items_pkey'::regclass
ORDER BY 1;

SET enable_seqscan = off;
SET ivfflat.probes = 8;
-- index answers, compared with the exact ones (seq scan + sort)
CREATE TEMP TABLE q (qv vector(3));
INSERT INTO q VALUES ('[3,5,7]'), ('[16,0,28]'), ('[-1,2,-3]');
-- ties make id order differ, so compare the distance sequences instead
CREATE FUNCTION ivf_dists(op text, qv vector, k int, use_index bool) RETURNS float8[]
LANGUAGE plpgsql AS $$
DECLARE r float8[];
BEGIN
	EXECUTE format('SET LOCAL enable_indexscan = %s', use_index);
	EXECUTE format('SET LOCAL enable_seqscan = %s', NOT use_index);
	EXECUTE format('SELECT array_agg(d) FROM (SELECT v %s $1 AS d FROM ivf_items
	                WHERE v IS NOT NULL ORDER BY v %s $1 LIMIT $2) s', op, op) INTO r USING qv, k;
	RETURN r;
END $$;
SELECT op, qv, ivf_dists(op, qv, 20, true) = ivf_dists(op, qv, 20, false) AS same
FROM q, unnest(ARRAY['<->', '<#>', '<=>']) op ORDER BY op, qv::text;

EXPLAIN (COSTS OFF) SELECT id FROM ivf_items ORDER BY v <-> '[1,2,3]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM ivf_items ORDER BY v <#> '[1,2,3]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM ivf_items ORDER BY v <=> '[1,2,3]' LIMIT 5;
-- no distance ordering: no ivfflat scan
EXPLAIN (COSTS OFF) SELECT id FROM ivf_items WHERE v = '[1,2,3]';
RESET enable_seqscan;

-- results come nearest first, with the operator's own values
SELECT id, v, round((v <-> '[3,5,7]')::numeric, 6) AS d
FROM ivf_items ORDER BY v <-> '[3,5,7]', id LIMIT 6;
SELECT bool_and(d >= lag_d) AS ordered, count(*) FROM (
	SELECT d, lag(d, 1, 0::float8) OVER () AS lag_d FROM (
		SELECT v <-> '[8,8,8]' AS d FROM ivf_items ORDER BY v <-> '[8,8,8]') s) t;

-- NULLs are not indexed; zero vectors are not indexed for cosine
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM ivf_items ORDER BY v <-> '[1,1,1]') s;
SELECT count(*) FROM (SELECT id FROM ivf_items ORDER BY v <#> '[1,1,1]') s;
SELECT count(*) FROM (SELECT id FROM ivf_items ORDER BY v <=> '[1,1,1]') s;
-- a NULL query vector returns rows with NULL distances
SELECT count(*), count(d) FROM (SELECT v <-> NULL AS d FROM ivf_items ORDER BY v <-> NULL LIMIT 3) s;
-- a query of other dimensions is an error
SELECT id FROM ivf_items ORDER BY v <-> '[1,2]' LIMIT 1;

-- more probes than lists is fine
SET ivfflat.probes = 100;
SELECT count(*) FROM (SELECT id FROM ivf_items ORDER BY v <-> '[1,1,1]') s;
-- probes: one list holds only part of the rows -----------------------------
SET ivfflat.probes = 1;
SELECT count(*) < 2000 AS partial FROM (SELECT id FROM ivf_items ORDER BY v <-> '[3,5,7]') s;

-- iterative scan: a selective filter still gets its LIMIT rows -------------
SELECT count(*) AS off_rows FROM (
	SELECT id FROM ivf_items WHERE cat = 7 ORDER BY v <-> '[3,5,7]' LIMIT 30) s;
SET ivfflat.iterative_scan = relaxed_order;
SELECT count(*) AS relaxed_rows, bool_and(cat = 7) AS filtered FROM (
	SELECT id, cat FROM ivf_items WHERE cat = 7 ORDER BY v <-> '[3,5,7]' LIMIT 30) s;
SET ivfflat.max_probes = 2;
SELECT count(*) AS two_probes_rows FROM (
	SELECT id FROM ivf_items WHERE cat = 7 ORDER BY v <-> '[3,5,7]' LIMIT 30) s;
RESET ivfflat.max_probes;
RESET ivfflat.iterative_scan;
RESET ivfflat.probes;
RESET enable_seqscan;

-- inserts, deletes and VACUUM -----------------------------------------------
INSERT INTO ivf_items SELECT i, i % 40, ARRAY[i % 5, i % 7, i % 11]::vector
FROM generate_series(2004, 3000) i;
SELECT rows, rows_at_build FROM vsim.ivfflat_index_stats('ivf_l2');
DELETE FROM ivf_items WHERE id % 2 = 0;
VACUUM ivf_items;
SELECT rows FROM vsim.ivfflat_index_stats('ivf_l2');
SET enable_seqscan = off;
SET ivfflat.probes = 8;
SELECT count(*) FROM (SELECT id FROM ivf_items ORDER BY v <-> '[1,1,1]') s;
RESET ivfflat.probes;
RESET enable_seqscan;
-- every index is sound after inserts, deletes and VACUUM, with every row
SELECT vsim.index_check(i, true) FROM unnest(ARRAY['ivf_l2', 'ivf_ip', 'ivf_cos']::regclass[]) i;

-- REINDEX, CONCURRENTLY, partial and expression indexes, UNLOGGED -------------
REINDEX INDEX ivf_l2;
SELECT rows, rows_at_build FROM vsim.ivfflat_index_stats('ivf_l2');
CREATE INDEX CONCURRENTLY ivf_cc ON ivf_items USING ivfflat (v) WITH (lists = 4);
REINDEX INDEX CONCURRENTLY ivf_cc;
SELECT lists, rows FROM vsim.ivfflat_index_stats('ivf_cc');
CREATE INDEX ivf_part ON ivf_items USING ivfflat (v) WITH (lists = 2) WHERE cat < 10;
CREATE INDEX ivf_expr ON ivf_items USING ivfflat ((subvector(v, 1, 2)::vector(2))) WITH (lists = 2);
SELECT indexrelid::regclass, rows, dims FROM pg_index, vsim.ivfflat_index_stats(indexrelid)
WHERE indexrelid IN ('ivf_part'::regclass, 'ivf_expr'::regclass) ORDER BY 1;
-- a partial and an expression index hold exactly their rows
SELECT vsim.index_check('ivf_part', true), vsim.index_check('ivf_expr', true),
       vsim.index_check('ivf_cc', true);
DROP INDEX ivf_l2, ivf_cc;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM ivf_items WHERE cat < 10 ORDER BY v <-> '[1,2,3]' LIMIT 3;
-- without ORDER BY the partial index is never chosen, even against a disabled seq scan
EXPLAIN (COSTS OFF) SELECT count(*) FROM ivf_items WHERE cat < 10;
SELECT count(*) FROM ivf_items WHERE cat < 10;
RESET enable_seqscan;
CREATE UNLOGGED TABLE ivf_unlogged (v vector(2));
INSERT INTO ivf_unlogged SELECT ARRAY[i, i % 7] FROM generate_series(1, 100) i;
CREATE INDEX ivf_unlogged_idx ON ivf_unlogged USING ivfflat (v) WITH (lists = 3);
SELECT lists, rows FROM vsim.ivfflat_index_stats('ivf_unlogged_idx');
SELECT vsim.index_check('ivf_unlogged_idx', true);
DROP TABLE ivf_unlogged;

-- space reuse: rows inserted after a VACUUM fill the space it freed ---------
CREATE TABLE ivf_reuse (id int, v vector(16));
INSERT INTO ivf_reuse SELECT i, array_fill((i % 4)::real, ARRAY[16]) FROM generate_series(1, 3000) i;
CREATE INDEX ivf_reuse_idx ON ivf_reuse USING ivfflat (v) WITH (lists = 4);
SELECT total_pages AS fresh_pages FROM vsim.ivfflat_index_stats('ivf_reuse_idx') \gset
DELETE FROM ivf_reuse WHERE id % 2 = 0;
VACUUM ivf_reuse;
INSERT INTO ivf_reuse SELECT i, array_fill((i % 4)::real, ARRAY[16]) FROM generate_series(3002, 6000, 2) i;
SELECT rows, total_pages = :fresh_pages AS same_pages FROM vsim.ivfflat_index_stats('ivf_reuse_idx');
SELECT vsim.index_check('ivf_reuse_idx', true);
DROP TABLE ivf_reuse;

-- monitoring: scans count in pg_stat_user_indexes.idx_scan, once per scan
-- or rescan (here one query, then a LATERAL join rescanning three times) --
CREATE TABLE ivf_scans (id int, v vector(2));
INSERT INTO ivf_scans SELECT i, ARRAY[i, i % 3] FROM generate_series(1, 50) i;
CREATE INDEX ivf_scans_idx ON ivf_scans USING ivfflat (v) WITH (lists = 2);
SET enable_seqscan = off;
SELECT id FROM ivf_scans ORDER BY v <-> '[1,1]' LIMIT 1;
SELECT count(*) FROM (VALUES ('[1,1]'::vector), ('[5,0]'), ('[9,2]')) q(qv)
CROSS JOIN LATERAL (SELECT id FROM ivf_scans ORDER BY v <-> q.qv LIMIT 2) n;
RESET enable_seqscan;
SELECT pg_stat_force_next_flush();
SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 'ivf_scans_idx';
DROP TABLE ivf_scans;
-- the build's phases in pg_stat_progress_create_index
SELECT n, pg_indexam_progress_phasename(oid, n) FROM pg_am, generate_series(1, 6) n
WHERE amname = 'ivfflat' ORDER BY n;

-- monitoring function errors -------------------------------------------------
SELECT * FROM vsim.ivfflat_index_stats('ivf_items_pkey');
SELECT * FROM vsim.ivfflat_index_stats('ivf_items');
\echo :LAST_ERROR_SQLSTATE
-- VOLATILE (it reads live pages), EXECUTE for everyone; it needs SELECT on
-- the table or pg_stat_scan_tables (which pg_monitor has)
SELECT p.oid::regprocedure, provolatile, proparallel, proisstrict,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute
  FROM pg_proc p WHERE p.oid = 'vsim.ivfflat_index_stats'::regproc;
CREATE ROLE ivf_nobody;
CREATE ROLE ivf_reader;
CREATE ROLE ivf_scanner IN ROLE pg_stat_scan_tables;
CREATE ROLE ivf_monitor IN ROLE pg_monitor;
GRANT SELECT ON ivf_items TO ivf_reader;
SET ROLE ivf_nobody;
SELECT lists, rows FROM vsim.ivfflat_index_stats('ivf_part');
\echo :LAST_ERROR_SQLSTATE
SET ROLE ivf_reader;
SELECT lists, rows FROM vsim.ivfflat_index_stats('ivf_part');
SET ROLE ivf_scanner;
SELECT lists, rows FROM vsim.ivfflat_index_stats('ivf_part');
SET ROLE ivf_monitor;
SELECT lists, rows FROM vsim.ivfflat_index_stats('ivf_part');
RESET ROLE;
REVOKE SELECT ON ivf_items FROM ivf_reader;
DROP ROLE ivf_nobody, ivf_reader, ivf_scanner, ivf_monitor;

DROP TABLE ivf_items;

-- SQLSTATEs of the errors above ------------------------------------------------
CREATE TABLE ivf_err (v vector(2), w vector, x vector(3000), y vector(1000));
INSERT INTO ivf_err VALUES ('[1,2]', '[1]', NULL, NULL);
CREATE INDEX ivf_err_idx ON ivf_err USING ivfflat (v) WITH (lists = 1);
\set VERBOSITY sqlstate
CREATE INDEX ON ivf_err USING ivfflat (v) WITH (lists = 0);
CREATE INDEX ON ivf_err USING ivfflat (w);
CREATE INDEX ON ivf_err USING ivfflat (x);
SET maintenance_work_mem = '1MB';
CREATE INDEX ON ivf_err USING ivfflat (y) WITH (lists = 1000);
RESET maintenance_work_mem;
SET enable_seqscan = off;
SELECT v FROM ivf_err ORDER BY v <-> '[1,2,3]' LIMIT 1;
RESET enable_seqscan;
SELECT * FROM vsim.ivfflat_index_stats('ivf_err');
\set VERBOSITY default
DROP TABLE ivf_err;
