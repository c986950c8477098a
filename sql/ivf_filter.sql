-- IVFFlat filter columns (issue 14): operator classes, every operator,
-- NULLs, errors, results equal to exact search with the same WHERE (every
-- list probed) in each quantization mode, probing beyond ivfflat.probes for
-- a selective filter, plan choice.
CREATE TABLE vf (id int PRIMARY KEY, v vector(3), c int4, s int2, g int8,
	b bool, d date, ts timestamptz, tx text);
INSERT INTO vf
SELECT i, ARRAY[sin(i), cos(i * 1.3), sin(i * 0.7)]::vector,
	i % 10, (i % 7)::int2, (i % 13)::int8 * 1000000000000,
	i % 3 = 0, date '2024-01-01' + i % 30,
	timestamptz '2024-01-01 00:00:00+00' + (i % 50) * interval '1 hour',
	'cat' || (i % 5)
FROM generate_series(1, 3000) i;
-- NULL filter values (and a NULL vector, which is not indexed)
UPDATE vf SET c = NULL, s = NULL, b = NULL, tx = NULL WHERE id % 97 = 0;
UPDATE vf SET v = NULL WHERE id = 5;
ANALYZE vf;
-- the filter columns take their default operator classes
CREATE INDEX vf_idx ON vf USING ivfflat (v vector_l2_ops, c, s, g, b) WITH (lists = 8);
CREATE INDEX vf_idx2 ON vf USING ivfflat (v vector_cosine_ops, d, ts, tx) WITH (lists = 8);
SELECT a.attname, opc.opcname, opf.opfname
FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indexrelid
	JOIN pg_opclass opc ON opc.oid = i.indclass[a.attnum - 1]
	JOIN pg_opfamily opf ON opf.oid = opc.opcfamily
WHERE i.indexrelid IN ('vf_idx'::regclass, 'vf_idx2'::regclass)
ORDER BY i.indexrelid::regclass::text, a.attnum;
-- every ivfflat filter operator class passes amvalidate
SELECT opcname, amvalidate(opc.oid)
FROM pg_opclass opc JOIN pg_am am ON am.oid = opc.opcmethod
WHERE amname = 'ivfflat' AND opcname ~ '^(int|bool|date|timestamptz|text)'
ORDER BY opcname;
SELECT vsim.index_check('vf_idx', true), vsim.index_check('vf_idx2', true);
SELECT lists, rows, bytes_per_vector, filter_columns FROM vsim.ivfflat_index_stats('vf_idx');

-- ivf_fcheck(where, order, k): whether the index answered (Index Scan with the
-- condition as Index Cond), the rows it returned, and whether they are
-- those of an exact search (sequential scan and sort) in the same order.
CREATE FUNCTION ivf_fcheck(cond text, ord text, k int)
RETURNS TABLE (index_cond boolean, n int, exact boolean)
LANGUAGE plpgsql AS $$
DECLARE
	q text := format('SELECT id FROM vf WHERE %s ORDER BY %s LIMIT %s', cond, ord, k);
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
	index_cond := plan ~ 'Index Scan using vf_' AND plan ~ 'Index Cond';
	n := coalesce(cardinality(a), 0);
	exact := a IS NOT DISTINCT FROM b;
	RETURN NEXT;
END $$;

-- every list probed: each operator, on each type, exact
SET ivfflat.probes = 8;
SELECT w, (ivf_fcheck(w, 'v <-> ''[0.3,-0.2,0.9]''', 20)).* FROM (VALUES
	('c = 3'), ('c < 2'), ('c <= 1'), ('c > 8'), ('c >= 8'),
	('c BETWEEN 3 AND 4'), ('c <> 3 AND c = 4'), ('c = 3 AND b < true'),
	('c = 3::int8'), ('c < 3::int2'),
	('s = 3'), ('s >= 5::int2'),
	('g = 5000000000000'), ('g > 11000000000000'), ('g < 2000000000000::int8'),
	('b < true'), ('b >= true AND s = 0'),
	('c = 3 AND s = 3 AND b > false')) t(w);
SELECT w, (ivf_fcheck(w, 'v <=> ''[0.3,-0.2,0.9]''', 20)).* FROM (VALUES
	('d = ''2024-01-07'''), ('d < ''2024-01-03'''), ('d BETWEEN ''2024-01-10'' AND ''2024-01-12'''),
	('d > ''2024-01-28'''), ('ts >= ''2024-01-03 00:00:00+00'''),
	('ts < ''2024-01-01 03:00:00+00'''), ('ts = ''2024-01-01 07:00:00+00'''),
	('tx = ''cat3'''), ('tx = ''cat3'' AND d > ''2024-01-20''')) t(w);
-- a text key is lossy (64-bit hashes): the executor rechecks it
EXPLAIN (COSTS OFF) SELECT id FROM vf WHERE tx = 'cat3' ORDER BY v <=> '[0.3,-0.2,0.9]' LIMIT 5;
-- no row matches: a NULL argument, an empty range, a value nobody has
SELECT w, (ivf_fcheck(w, 'v <-> ''[0.3,-0.2,0.9]''', 20)).* FROM (VALUES
	('c = NULL'), ('c > 5 AND c < 3'), ('c = 42')) t(w);
-- NULL filter values never match
SELECT count(*) FILTER (WHERE c IS NULL) AS null_rows_returned, count(*)
FROM (SELECT c FROM vf WHERE c >= 0 ORDER BY v <-> '[0.3,-0.2,0.9]' LIMIT 3000) s;
SELECT count(*) AS indexed_rows_with_c FROM vf WHERE c IS NOT NULL AND v IS NOT NULL;

-- one list probed: a selective filter still fills its LIMIT, reading
-- further lists in centre order until ivfflat.filter_candidates rows match
SET ivfflat.probes = 1;
SET ivfflat.filter_candidates = 3000;
SELECT w, (ivf_fcheck(w, 'v <-> ''[0.3,-0.2,0.9]''', 30)).* FROM (VALUES
	('c = 3 AND s = 3'), ('g = 4000000000000 AND b > false'), ('c = 3')) t(w);
-- with the default, the scan gathers 40 matching rows (and lists as rich
-- in them as `probes` lists), returns them in order, and reads on when
-- they run out: the 40 rows of the LIMIT, ascending
RESET ivfflat.filter_candidates;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT w, (ivf_fcheck(w, 'v <-> ''[0.3,-0.2,0.9]''', 30)).index_cond FROM (VALUES
	('c = 3 AND s = 3'), ('c = 3')) t(w);
CREATE TEMP TABLE ord AS
SELECT row_number() OVER () AS r, d FROM (SELECT v <-> '[0.3,-0.2,0.9]' AS d
	FROM vf WHERE c = 3 AND s = 3 ORDER BY v <-> '[0.3,-0.2,0.9]' LIMIT 40) s;
SELECT count(*) + 1 AS rows, bool_and(a.d <= b.d) AS ascending
FROM ord a JOIN ord b ON b.r = a.r + 1;
-- a LIMIT past what the first lists hold (200 of the 297 rows of c = 3):
-- rows of later lists nearer than one returned are skipped, so fewer come
-- back, still ascending; with relaxed_order all 200, not all in order
CREATE TEMP TABLE ord3 AS
SELECT row_number() OVER () AS r, d FROM (SELECT v <-> '[0.3,-0.2,0.9]' AS d
	FROM vf WHERE c = 3 ORDER BY v <-> '[0.3,-0.2,0.9]' LIMIT 200) s;
SELECT count(*) + 1 AS rows, bool_and(a.d <= b.d) AS ascending
FROM ord3 a JOIN ord3 b ON b.r = a.r + 1;
SET ivfflat.iterative_scan = relaxed_order;
SELECT count(*) AS relaxed_rows FROM (SELECT id FROM vf WHERE c = 3
	ORDER BY v <-> '[0.3,-0.2,0.9]' LIMIT 200) s;
RESET ivfflat.iterative_scan;
-- ivfflat.max_probes bounds the lists a filtered scan reads (2 of 8 lists:
-- about a quarter of the 43 matching rows)
SET ivfflat.max_probes = 2;
SELECT count(*) BETWEEN 1 AND 30 AS bounded
FROM (SELECT id FROM vf WHERE c = 3 AND s = 3 ORDER BY v <-> '[0.3,-0.2,0.9]' LIMIT 3000) s;
RESET enable_seqscan;
RESET enable_bitmapscan;
RESET ivfflat.max_probes;
RESET ivfflat.probes;

-- inserts after the build, VACUUM and the structure check
SET ivfflat.probes = 8;
INSERT INTO vf
SELECT i, ARRAY[sin(i), cos(i * 1.3), sin(i * 0.7)]::vector, 11, 11, 11, true,
	date '2025-01-01', timestamptz '2025-01-01 00:00:00+00', 'new'
FROM generate_series(3001, 3100) i;
SELECT (ivf_fcheck('c = 11', 'v <-> ''[0.3,-0.2,0.9]''', 200)).*;
DELETE FROM vf WHERE id % 4 = 0;
VACUUM vf;
SELECT vsim.index_check('vf_idx', true), vsim.index_check('vf_idx2', true);
SELECT w, (ivf_fcheck(w, 'v <-> ''[0.3,-0.2,0.9]''', 20)).* FROM (VALUES
	('c = 11'), ('c BETWEEN 2 AND 3'), ('s < 2 AND b < true')) t(w);
SELECT (ivf_fcheck('tx = ''new''', 'v <=> ''[0.3,-0.2,0.9]''', 100)).*;

-- quantization: the same answers as exact search (every list probed, a
-- re-rank batch larger than the matching rows)
DROP INDEX vf_idx, vf_idx2;
SET ivfflat.rerank_candidates = 4000;
CREATE INDEX vf_sq8 ON vf USING ivfflat (v vector_l2_ops, c, d, tx) WITH (lists = 8, quantization = sq8);
SELECT w, (ivf_fcheck(w, 'v <-> ''[0.3,-0.2,0.9]''', 20)).* FROM (VALUES
	('c = 3'), ('c BETWEEN 2 AND 3'), ('d < ''2024-01-05'''), ('tx = ''cat1'''), ('c = 11')) t(w);
SELECT vsim.index_check('vf_sq8', true);
DROP INDEX vf_sq8;
CREATE INDEX vf_rq ON vf USING ivfflat (v vector_cosine_ops, c, d, tx) WITH (lists = 8, quantization = rabitq);
SELECT w, (ivf_fcheck(w, 'v <=> ''[0.3,-0.2,0.9]''', 20)).* FROM (VALUES
	('c = 3'), ('c BETWEEN 2 AND 3'), ('d < ''2024-01-05'''), ('tx = ''cat1'''), ('c = 11')) t(w);
SELECT vsim.index_check('vf_rq', true);
-- one list probed, small re-rank batches: still the full LIMIT, in order
SET ivfflat.probes = 1;
SET ivfflat.rerank_candidates = 10;
SELECT (ivf_fcheck('c = 3 AND d < ''2024-01-10''', 'v <=> ''[0.3,-0.2,0.9]''', 25)).index_cond;
SET enable_seqscan = off;
CREATE TEMP TABLE ordq AS
SELECT row_number() OVER () AS r, d FROM (SELECT v <=> '[0.3,-0.2,0.9]' AS d
	FROM vf WHERE c = 3 AND d < '2024-01-10' ORDER BY v <=> '[0.3,-0.2,0.9]' LIMIT 25) s;
RESET enable_seqscan;
SELECT count(*) + 1 AS rows, bool_and(a.d <= b.d) AS ascending
FROM ordq a JOIN ordq b ON b.r = a.r + 1;
RESET ivfflat.rerank_candidates;
RESET ivfflat.probes;
DROP INDEX vf_rq;

-- errors
\set VERBOSITY sqlstate
-- 42804: the vector column must come first
CREATE INDEX ON vf USING ivfflat (c, v vector_l2_ops);
-- 42704: no operator class for a filter column of another type
CREATE INDEX ON vf USING ivfflat (v vector_l2_ops, (c::float8));
-- 0A000: a second vector column
CREATE INDEX ON vf USING ivfflat (v vector_l2_ops, v vector_l2_ops);
-- 54011: at most 4 filter columns
CREATE INDEX ON vf USING ivfflat (v vector_l2_ops, c, s, g, b, d);
\set VERBOSITY default
CREATE INDEX ON vf USING ivfflat (c, v vector_l2_ops);
CREATE INDEX ON vf USING ivfflat (v vector_l2_ops, c, s, g, b, d);
-- arrays (labels, tags): &&, @> and <@ on Bloom signatures of the
-- elements, lossy (the executor rechecks); empty arrays, NULL elements and
-- NULL arrays as in SQL
ALTER TABLE vf ADD COLUMN tags int4[], ADD COLUMN big int8[], ADD COLUMN labels text[];
UPDATE vf SET tags = ARRAY[id % 11, id % 17], big = ARRAY[(id % 5)::int8 * 10000000000],
	labels = ARRAY['a' || id % 4, 'b' || id % 9];
UPDATE vf SET tags = '{}' WHERE id % 101 = 0;
UPDATE vf SET tags = ARRAY[NULL, id % 11] WHERE id % 103 = 0;
UPDATE vf SET labels = NULL WHERE id % 89 = 0;
CREATE INDEX vf_idx3 ON vf USING ivfflat (v vector_l2_ops, tags, big, labels) WITH (lists = 8);
SELECT a.attname, opc.opcname FROM pg_index i
	JOIN pg_attribute a ON a.attrelid = i.indexrelid
	JOIN pg_opclass opc ON opc.oid = i.indclass[a.attnum - 1]
WHERE i.indexrelid = 'vf_idx3'::regclass ORDER BY a.attnum;
SELECT vsim.index_check('vf_idx3', true);
SET ivfflat.probes = 8;
SELECT w, (ivf_fcheck(w, 'v <-> ''[0.3,-0.2,0.9]''', 20)).* FROM (VALUES
	('tags && ''{3,5}'''), ('tags @> ''{3}'''), ('tags @> ''{3,14}'''),
	('tags <@ ''{1,2,3,4,5,6,7,8}'''), ('tags && ''{}'''), ('tags @> ''{}'''),
	('tags <@ ''{}'''), ('tags && ''{NULL,4}'''), ('tags @> ''{NULL}'''),
	('big && ''{20000000000}'''), ('big @> ''{0}'''),
	('labels && ''{a1,b3}'''), ('labels @> ''{a2,b4}'''),
	('labels <@ ''{a0,a1,b0,b1,b2}'''), ('tags && ''{3}'' AND labels @> ''{a3}''')) t(w);
RESET ivfflat.probes;
-- only integer, bigint and text arrays (0A000)
\set VERBOSITY sqlstate
CREATE INDEX ON vf USING ivfflat (v vector_l2_ops, (ARRAY[c::float8]));
\set VERBOSITY default
CREATE INDEX ON vf USING ivfflat (v vector_l2_ops, (ARRAY[c::float8]));
DROP INDEX vf_idx3;

DROP TABLE vf;

-- plan choice: a selective filter with a btree on its column gets the
-- btree and an exact sort, a broad one the ivfflat index
CREATE TABLE pc (id int, v vector(16), cat int, grp int);
INSERT INTO pc
SELECT i, (SELECT array_agg(sin(i * j + j))::vector FROM generate_series(1, 16) j),
	i % 1000, i % 2
FROM generate_series(1, 20000) i;
CREATE INDEX pc_cat ON pc (cat);
CREATE INDEX pc_ivf ON pc USING ivfflat (v vector_l2_ops, cat, grp) WITH (lists = 50);
ANALYZE pc;
SET ivfflat.probes = 5;
EXPLAIN (COSTS OFF) SELECT id FROM pc WHERE cat = 7
ORDER BY v <-> (SELECT v FROM pc WHERE id = 1) LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM pc WHERE grp = 1
ORDER BY v <-> (SELECT v FROM pc WHERE id = 1) LIMIT 10;
-- and both give the same rows (every list probed)
SET ivfflat.probes = 50;
CREATE TEMP TABLE pc_ans AS
SELECT array_agg(id) AS ids FROM (SELECT id FROM pc WHERE grp = 1
	ORDER BY v <-> (SELECT v FROM pc WHERE id = 1) LIMIT 10) s;
SET enable_indexscan = off;
SELECT ids = (SELECT array_agg(id) FROM (SELECT id FROM pc WHERE grp = 1
	ORDER BY v <-> (SELECT v FROM pc WHERE id = 1) LIMIT 10) s) AS same_as_exact
FROM pc_ans;
RESET enable_indexscan;
RESET ivfflat.probes;
DROP TABLE pc;
DROP FUNCTION ivf_fcheck(text, text, int);
