-- HNSW filter columns (issue 14): operator classes, every operator, = ANY,
-- NULLs, errors, results equal to exact search with the same WHERE, plan
-- choice.
CREATE TABLE hf (id int PRIMARY KEY, v vector(3), c int4, s int2, g int8,
	b bool, d date, ts timestamptz, tx text);
INSERT INTO hf
SELECT i, ARRAY[sin(i), cos(i * 1.3), sin(i * 0.7)]::vector,
	i % 10, (i % 7)::int2, (i % 13)::int8 * 1000000000000,
	i % 3 = 0, date '2024-01-01' + i % 30,
	timestamptz '2024-01-01 00:00:00+00' + (i % 50) * interval '1 hour',
	'cat' || (i % 5)
FROM generate_series(1, 3000) i;
-- NULL filter values (and a NULL vector, which is not indexed)
UPDATE hf SET c = NULL, s = NULL, b = NULL, tx = NULL WHERE id % 97 = 0;
UPDATE hf SET v = NULL WHERE id = 5;
ANALYZE hf;
-- the filter columns take their default operator classes
CREATE INDEX hf_idx ON hf USING hnsw (v vector_l2_ops, c, s, g, b);
CREATE INDEX hf_idx2 ON hf USING hnsw (v vector_cosine_ops, d, ts, tx);
SELECT a.attname, opc.opcname, opf.opfname
FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indexrelid
	JOIN pg_opclass opc ON opc.oid = i.indclass[a.attnum - 1]
	JOIN pg_opfamily opf ON opf.oid = opc.opcfamily
WHERE i.indexrelid IN ('hf_idx'::regclass, 'hf_idx2'::regclass)
ORDER BY i.indexrelid::regclass::text, a.attnum;
-- every hnsw operator class passes amvalidate
SELECT opcname, amvalidate(opc.oid)
FROM pg_opclass opc JOIN pg_am am ON am.oid = opc.opcmethod
WHERE amname = 'hnsw' AND opcname ~ '^(int|bool|date|timestamptz|text)'
ORDER BY opcname;
SELECT vsim.index_check('hf_idx', true), vsim.index_check('hf_idx2', true);
SELECT elements, heap_tids FROM vsim.hnsw_index_stats('hf_idx');

-- fcheck(where, order, k): whether the index answered (Index Scan with the
-- condition as Index Cond), the rows it returned, and whether they are
-- those of an exact search (sequential scan and sort) in the same order.
CREATE FUNCTION fcheck(cond text, ord text, k int)
RETURNS TABLE (index_cond boolean, n int, exact boolean)
LANGUAGE plpgsql AS $$
DECLARE
	q text := format('SELECT id FROM hf WHERE %s ORDER BY %s LIMIT %s', cond, ord, k);
	plan text := '';
	line text;
	a int[];
	b int[];
BEGIN
	SET LOCAL enable_seqscan = off;
	SET LOCAL enable_bitmapscan = off;
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
		plan := plan || line || E'\n';
	END LOOP;
	EXECUTE format('SELECT array_agg(id) FROM (%s) s', q) INTO a;
	SET LOCAL enable_seqscan = on;
	SET LOCAL enable_indexscan = off;
	EXECUTE format('SELECT array_agg(id) FROM (%s) s', q) INTO b;
	index_cond := plan ~ 'Index Scan using hf_idx' AND plan ~ 'Index Cond';
	n := coalesce(cardinality(a), 0);
	exact := a IS NOT DISTINCT FROM b;
	RETURN NEXT;
END $$;

SET hnsw.ef_search = 1000;
-- each operator, on each type, by the graph walk alone
SET hnsw.filter_walk_limit = 1;
SELECT w, (fcheck(w, 'v <-> ''[0.3,-0.2,0.9]''', 20)).* FROM (VALUES
	('c = 3'), ('c < 2'), ('c <= 1'), ('c > 8'), ('c >= 8'),
	('c BETWEEN 3 AND 4'), ('c IN (1, 5)'), ('c = ANY(''{2,7,NULL}'')'),
	('c <> 3 AND c = 4'), ('c = 3 AND b = true'), ('c < ANY(''{1,2}'')'),
	('c > ALL(''{1,8}'')'), ('c = 3::int8'), ('c < 3::int2'),
	('s = 3'), ('s >= 5::int2'), ('s = ANY(''{1,2}''::int8[])'),
	('g = 5000000000000'), ('g > 11000000000000'), ('g < 2000000000000::int8'),
	('b = false'), ('b = true AND s = 0'), ('b <> true'),
	('c = 3 AND s = 3 AND b = true')) t(w);
SELECT w, (fcheck(w, 'v <=> ''[0.3,-0.2,0.9]''', 20)).* FROM (VALUES
	('d = ''2024-01-07'''), ('d < ''2024-01-03'''), ('d BETWEEN ''2024-01-10'' AND ''2024-01-12'''),
	('d > ''2024-01-28'''), ('ts >= ''2024-01-03 00:00:00+00'''),
	('ts < ''2024-01-01 03:00:00+00'''), ('ts = ''2024-01-01 07:00:00+00'''),
	('tx = ''cat3'''), ('tx IN (''cat1'', ''cat4'')'), ('tx = ''cat3'' AND d > ''2024-01-20''')) t(w);
-- and by the exhaustive pass (hnsw.filter_walk_limit 0: at once), with a
-- small ef_search: the pass returns every passing row, nearest first
SET hnsw.filter_walk_limit = 0;
SET hnsw.ef_search = 10;
SELECT w, (fcheck(w, 'v <-> ''[0.3,-0.2,0.9]''', 30)).* FROM (VALUES
	('c = 3'), ('c BETWEEN 3 AND 4'), ('s >= 5::int2'), ('g > 11000000000000'),
	('c = 3 AND s = 3 AND b < true')) t(w);
SELECT w, (fcheck(w, 'v <=> ''[0.3,-0.2,0.9]''', 30)).* FROM (VALUES
	('d < ''2024-01-03'''), ('ts = ''2024-01-01 07:00:00+00'''), ('tx = ''cat3''')) t(w);
-- the walk switching to the pass on its way (the default limit, 0.1 of
-- the elements: reached at 0.5% selectivity)
RESET hnsw.filter_walk_limit;
SELECT (fcheck('c = 3 AND s = 3 AND g = 4000000000000', 'v <-> ''[0.3,-0.2,0.9]''', 30)).*;
SET hnsw.ef_search = 1000;
SET hnsw.filter_walk_limit = 1;
-- no row matches: a NULL argument, an empty range, a value nobody has (for
-- tx = 'dog', which the statistics say no row has, the planner prefers an
-- exact plan)
SELECT w, (fcheck(w, 'v <-> ''[0.3,-0.2,0.9]''', 20)).* FROM (VALUES
	('c = NULL'), ('c = ANY(''{NULL}'')'), ('c > 5 AND c < 3'), ('c = 42'),
	('tx = ''dog''')) t(w);
-- NULL filter values never match; IS NULL is a table filter, not an
-- index condition (the index answers the ORDER BY only)
SELECT count(*) FILTER (WHERE c IS NULL) AS null_rows_returned
FROM (SELECT c FROM hf WHERE c >= 0 ORDER BY v <-> '[0.3,-0.2,0.9]' LIMIT 3000) s;
EXPLAIN (COSTS OFF) SELECT id FROM hf WHERE c IS NULL ORDER BY v <-> '[0.3,-0.2,0.9]' LIMIT 10;
-- booleans: PostgreSQL rewrites b = true into b and b = false into NOT b,
-- which only btree's own boolean families match, so they are table
-- filters; comparisons that stay operators are index conditions
EXPLAIN (COSTS OFF) SELECT id FROM hf WHERE b = false ORDER BY v <-> '[0.3,-0.2,0.9]' LIMIT 10;
SELECT (fcheck('b < true', 'v <-> ''[0.3,-0.2,0.9]''', 20)).*;
-- IN and = ANY on a filter column: PostgreSQL 15 keeps array conditions
-- on later index columns out of ordered index scans, so they are table
-- filters here (the index would take them as keys)
EXPLAIN (COSTS OFF) SELECT id FROM hf WHERE c IN (1, 5) ORDER BY v <-> '[0.3,-0.2,0.9]' LIMIT 10;
-- rows that fill the LIMIT exist: the scan returns all of them
SELECT (fcheck('c = 3', 'v <-> ''[1,1,1]''', 250)).*;

-- inserts after the build, VACUUM and the structure check
INSERT INTO hf
SELECT i, ARRAY[sin(i), cos(i * 1.3), sin(i * 0.7)]::vector, 11, 11, 11, true,
	date '2025-01-01', timestamptz '2025-01-01 00:00:00+00', 'new'
FROM generate_series(3001, 3100) i;
SELECT (fcheck('c = 11', 'v <-> ''[0.3,-0.2,0.9]''', 200)).*;
DELETE FROM hf WHERE id % 4 = 0;
VACUUM hf;
SELECT vsim.index_check('hf_idx', true), vsim.index_check('hf_idx2', true);
SELECT w, (fcheck(w, 'v <-> ''[0.3,-0.2,0.9]''', 20)).* FROM (VALUES
	('c = 11'), ('c IN (2, 6)'), ('s < 2 AND b = false')) t(w);
SELECT (fcheck('tx = ''new''', 'v <=> ''[0.3,-0.2,0.9]''', 100)).*;

-- the iterative scan with a filter: all 75 rows of c = 11, in order
SET hnsw.ef_search = 10;
SET hnsw.iterative_scan = strict_order;
SELECT (fcheck('c = 11', 'v <-> ''[0.3,-0.2,0.9]''', 100)).*;
RESET hnsw.iterative_scan;
RESET hnsw.ef_search;
RESET hnsw.filter_walk_limit;

-- errors
\set VERBOSITY sqlstate
-- 42804: the vector column must come first
CREATE INDEX ON hf USING hnsw (c, v vector_l2_ops);
-- 42704: no operator class for a filter column of another type
CREATE INDEX ON hf USING hnsw (v vector_l2_ops, (c::float8));
-- 0A000: a second vector column
CREATE INDEX ON hf USING hnsw (v vector_l2_ops, v vector_l2_ops);
-- 54011: at most 4 filter columns
CREATE INDEX ON hf USING hnsw (v vector_l2_ops, c, s, g, b, d);
\set VERBOSITY default
CREATE INDEX ON hf USING hnsw (c, v vector_l2_ops);
CREATE INDEX ON hf USING hnsw (v vector_l2_ops, v vector_l2_ops);
CREATE INDEX ON hf USING hnsw (v vector_l2_ops, c, s, g, b, d);
-- an operator class made by hand that breaks the rules of filter columns
CREATE OPERATOR CLASS bad_int4_ops FOR TYPE int4 USING hnsw AS
	OPERATOR 1 <> (int4, int4), FUNCTION 1 vsim_metric_l2(internal);
SELECT amvalidate(oid) FROM pg_opclass WHERE opcname = 'bad_int4_ops';
DROP OPERATOR CLASS bad_int4_ops USING hnsw;
-- a scan with a filter but no ORDER BY never uses the index
EXPLAIN (COSTS OFF) SELECT id FROM hf WHERE c = 3;

-- arrays (labels, tags): &&, @> and <@ on Bloom signatures of the
-- elements, lossy (the executor rechecks); empty arrays, NULL elements and
-- NULL arrays as in SQL
ALTER TABLE hf ADD COLUMN tags int4[], ADD COLUMN big int8[], ADD COLUMN labels text[];
UPDATE hf SET tags = ARRAY[id % 11, id % 17], big = ARRAY[(id % 5)::int8 * 10000000000],
	labels = ARRAY['a' || id % 4, 'b' || id % 9];
UPDATE hf SET tags = '{}' WHERE id % 101 = 0;
UPDATE hf SET tags = ARRAY[NULL, id % 11] WHERE id % 103 = 0;
UPDATE hf SET labels = NULL WHERE id % 89 = 0;
CREATE INDEX hf_idx3 ON hf USING hnsw (v vector_l2_ops, tags, big, labels);
SELECT a.attname, opc.opcname FROM pg_index i
	JOIN pg_attribute a ON a.attrelid = i.indexrelid
	JOIN pg_opclass opc ON opc.oid = i.indclass[a.attnum - 1]
WHERE i.indexrelid = 'hf_idx3'::regclass ORDER BY a.attnum;
SELECT vsim.index_check('hf_idx3', true);
SET hnsw.filter_walk_limit = 1;
SELECT w, (fcheck(w, 'v <-> ''[0.3,-0.2,0.9]''', 20)).* FROM (VALUES
	('tags && ''{3,5}'''), ('tags @> ''{3}'''), ('tags @> ''{3,14}'''),
	('tags <@ ''{1,2,3,4,5,6,7,8}'''), ('tags && ''{}'''), ('tags @> ''{}'''),
	('tags <@ ''{}'''), ('tags && ''{NULL,4}'''), ('tags @> ''{NULL}'''),
	('big && ''{20000000000}'''), ('big @> ''{0}'''),
	('labels && ''{a1,b3}'''), ('labels @> ''{a2,b4}'''),
	('labels <@ ''{a0,a1,b0,b1,b2}'''), ('tags && ''{3}'' AND labels @> ''{a3}''')) t(w);
RESET hnsw.filter_walk_limit;
-- only integer, bigint and text arrays (0A000)
\set VERBOSITY sqlstate
CREATE INDEX ON hf USING hnsw (v vector_l2_ops, (ARRAY[c::float8]));
\set VERBOSITY default
CREATE INDEX ON hf USING hnsw (v vector_l2_ops, (ARRAY[c::float8]));
DROP INDEX hf_idx3;

DROP TABLE hf;

-- plan choice: a selective filter with a btree on its column gets the
-- btree and an exact sort, a broad one the hnsw index
CREATE TABLE pc (id int, v vector(16), cat int, grp int);
INSERT INTO pc
SELECT i, (SELECT array_agg(sin(i * j + j))::vector FROM generate_series(1, 16) j),
	i % 1000, i % 2
FROM generate_series(1, 20000) i;
CREATE INDEX pc_cat ON pc (cat);
CREATE INDEX pc_hnsw ON pc USING hnsw (v vector_l2_ops, cat, grp);
ANALYZE pc;
EXPLAIN (COSTS OFF) SELECT id FROM pc WHERE cat = 7
ORDER BY v <-> (SELECT v FROM pc WHERE id = 1) LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM pc WHERE grp = 1
ORDER BY v <-> (SELECT v FROM pc WHERE id = 1) LIMIT 10;
-- and both give the same rows (the hnsw scan with a generous ef_search)
SET hnsw.ef_search = 400;
CREATE TEMP TABLE pc_ans AS
SELECT array_agg(id) AS ids FROM (SELECT id FROM pc WHERE grp = 1
	ORDER BY v <-> (SELECT v FROM pc WHERE id = 1) LIMIT 10) s;
SET enable_indexscan = off;
SELECT ids = (SELECT array_agg(id) FROM (SELECT id FROM pc WHERE grp = 1
	ORDER BY v <-> (SELECT v FROM pc WHERE id = 1) LIMIT 10) s) AS same_as_exact
FROM pc_ans;
RESET enable_indexscan;
RESET hnsw.ef_search;
DROP TABLE pc;

-- the filter directory (hnsw.h, "Filter directory"): with four filter
-- columns an entry takes 44 bytes, 185 to a page, so 1,000 rows fill six
-- pages; the exhaustive pass (forced by a tiny hnsw.filter_walk_limit)
-- reads it and returns what an exact scan does, before and after DELETE,
-- VACUUM and inserts into the freed slots
CREATE TABLE fd (id int, v vector(2), a int, b int, c int, d bool);
INSERT INTO fd SELECT i, ARRAY[sin(i), cos(i * 3)]::vector, i % 50, i % 7, i % 3, i % 2 = 0
FROM generate_series(1, 1000) i;
CREATE INDEX fd_hnsw ON fd USING hnsw (v vector_l2_ops, a, b, c, d);
SELECT elements, filter_columns, filter_dir_pages, filter_dir_entries
FROM vsim.hnsw_index_stats('fd_hnsw');
CREATE FUNCTION fd_same(cond text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
	q text := format('SELECT array_agg(id) FROM (SELECT id FROM fd WHERE %s
		ORDER BY v <-> %L, id LIMIT 15) s', cond, '[0.3,0.2]');
	got int[];
	want int[];
BEGIN
	SET LOCAL enable_seqscan = off;
	SET LOCAL hnsw.filter_walk_limit = 0.00001;
	EXECUTE q INTO got;
	SET LOCAL enable_seqscan = on;
	SET LOCAL enable_indexscan = off;
	EXECUTE q INTO want;
	RETURN got = want;
END $$;
SELECT fd_same('a = 7') AS eq, fd_same('b = 3 AND d') AS two, fd_same('a BETWEEN 10 AND 12') AS range;
DELETE FROM fd WHERE id % 4 = 0;
VACUUM fd;
SELECT elements - dead_elements AS live, free_slots > 0 AS has_free, filter_dir_pages,
	filter_dir_entries FROM vsim.hnsw_index_stats('fd_hnsw');
INSERT INTO fd SELECT i, ARRAY[sin(i), cos(i * 3)]::vector, i % 50, i % 7, i % 3, i % 2 = 0
FROM generate_series(2001, 2200) i;
SELECT elements - dead_elements AS live, filter_dir_pages, filter_dir_entries
FROM vsim.hnsw_index_stats('fd_hnsw');
SELECT fd_same('a = 7') AS eq, fd_same('b = 3 AND d') AS two, fd_same('a BETWEEN 10 AND 12') AS range;
SELECT vsim.index_check('fd_hnsw', true);
-- an index without filter columns has no directory
CREATE INDEX fd_plain ON fd USING hnsw (v vector_l2_ops);
SELECT filter_columns, filter_dir_pages, filter_dir_entries FROM vsim.hnsw_index_stats('fd_plain');
-- an index built on an empty table starts with one empty directory page
CREATE TABLE fd2 (v vector(2), a int);
CREATE INDEX fd2_hnsw ON fd2 USING hnsw (v vector_l2_ops, a);
SELECT filter_dir_pages, filter_dir_entries FROM vsim.hnsw_index_stats('fd2_hnsw');
INSERT INTO fd2 SELECT ARRAY[i, -i]::vector, i % 5 FROM generate_series(1, 30) i;
SELECT elements, filter_dir_pages, filter_dir_entries FROM vsim.hnsw_index_stats('fd2_hnsw');
SELECT vsim.index_check('fd2_hnsw', true);
DROP TABLE fd, fd2;
DROP FUNCTION fd_same(text);
