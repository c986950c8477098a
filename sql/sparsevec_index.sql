-- hnsw indexes on sparsevec (issue 10): variable-size elements; every
-- operator class returns what exact search returns, with exact distances
SET client_min_messages = notice;
SET hnsw.level_seed = 10;
CREATE FUNCTION sv(i int, nnz int) RETURNS sparsevec LANGUAGE sql IMMUTABLE AS $$
  SELECT ('{' || coalesce(string_agg(((i * 7 + j * 13) % 2000 + 1) || ':' ||
          (((i + j) % 9 + 1) * CASE WHEN (i + 2 * j) % 3 = 0 THEN -0.25 ELSE 0.25 END
           + (i % 5) * 0.1), ','), '') || '}/2000')::sparsevec
  FROM generate_series(1, nnz) j $$;
CREATE TABLE si (id int PRIMARY KEY, s sparsevec(2000));
-- 300 rows of 1 to 60 non-zero elements, every 50th of 1000 (the limit),
-- one zero vector, one NULL
INSERT INTO si SELECT i, sv(i, CASE WHEN i % 50 = 0 THEN 1000 ELSE 1 + (i * 37) % 60 END)
  FROM generate_series(1, 300) i;
INSERT INTO si VALUES (301, '{}/2000'), (302, NULL);
ANALYZE si;
SELECT min(vsim_nnz), max(vsim_nnz), count(*) FILTER (WHERE vsim_nnz = 1000) AS at_limit
  FROM (SELECT length(s::text) - length(replace(s::text, ':', '')) AS vsim_nnz FROM si WHERE id <= 300) t;
CREATE TEMP TABLE q AS SELECT sv(7, 400) AS q;

-- same_top10: the index's top 10 has the exact top 10's distances;
-- exact: every row the scan returns carries its exact distance, in order
CREATE FUNCTION check_sparse_index(op text) RETURNS TABLE (same_top10 boolean, rows bigint, exact boolean, ordered boolean)
LANGUAGE plpgsql AS $$
DECLARE
  ix float8[]; ex float8[];
BEGIN
  SET LOCAL enable_seqscan = off;
  EXECUTE format('SELECT array_agg(d) FROM (SELECT s %s (SELECT q FROM q) AS d FROM si ORDER BY s %s (SELECT q FROM q) LIMIT 10) t', op, op) INTO ix;
  SET LOCAL enable_indexscan = off;
  SET LOCAL enable_seqscan = on;
  EXECUTE format('SELECT array_agg(d) FROM (SELECT s %s (SELECT q FROM q) AS d FROM si WHERE s IS NOT NULL ORDER BY 1 LIMIT 10) t', op) INTO ex;
  RESET enable_indexscan;
  SET LOCAL enable_seqscan = off;
  RETURN QUERY EXECUTE format($q$
    SELECT %L::float8[] = %L::float8[], count(*), bool_and(d = s %s (SELECT q FROM q)),
           bool_and(d >= coalesce(prev, '-Infinity'))
    FROM (SELECT s, d, lag(d) OVER () AS prev FROM (
          SELECT s, s %s (SELECT q FROM q) AS d FROM si ORDER BY s %s (SELECT q FROM q) LIMIT 1000) t) u$q$,
    ix, ex, op, op, op);
END $$;

SET hnsw.ef_search = 500;
CREATE INDEX si_l2 ON si USING hnsw (s sparsevec_l2_ops) WITH (m = 8, ef_construction = 64);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM si ORDER BY s <-> (SELECT q FROM q) LIMIT 10;
RESET enable_seqscan;
SELECT * FROM check_sparse_index('<->');
SELECT vsim.index_check('si_l2', true);
DROP INDEX si_l2;

CREATE INDEX si_ip ON si USING hnsw (s sparsevec_ip_ops) WITH (m = 8, ef_construction = 64);
SELECT * FROM check_sparse_index('<#>');
SELECT vsim.index_check('si_ip', true);
DROP INDEX si_ip;

CREATE INDEX si_l1 ON si USING hnsw (s sparsevec_l1_ops) WITH (m = 8, ef_construction = 64);
SELECT * FROM check_sparse_index('<+>');
SELECT vsim.index_check('si_l1', true);
DROP INDEX si_l1;

-- cosine: the zero vector (row 301) is not indexed, as for vector
CREATE INDEX si_cos ON si USING hnsw (s sparsevec_cosine_ops) WITH (m = 8, ef_construction = 64);
SELECT * FROM check_sparse_index('<=>');
SELECT vsim.index_check('si_cos', true);
SELECT heap_tids FROM vsim.hnsw_index_stats('si_cos');

-- inserts after the build, of every size up to the limit, and a query
-- larger than the limit (a query is not stored)
INSERT INTO si SELECT i, sv(i, CASE WHEN i % 10 = 0 THEN 1000 ELSE (i * 53) % 900 + 1 END)
  FROM generate_series(303, 400) i;
SELECT * FROM check_sparse_index('<=>');
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM si ORDER BY s <=> sv(3, 1500) LIMIT 5) t;
RESET enable_seqscan;
SELECT vsim.index_check('si_cos', true);

-- more than 1000 non-zero elements: 54000 at insert and at build
INSERT INTO si VALUES (500, sv(500, 1001));
CREATE TABLE big (s sparsevec(2000));
INSERT INTO big SELECT sv(i, 10) FROM generate_series(1, 5) i;
INSERT INTO big VALUES (sv(6, 1200));
CREATE INDEX ON big USING hnsw (s sparsevec_l2_ops);
DROP TABLE big;

-- VACUUM frees the deleted rows' elements; inserts reuse the slots
-- that fit them, and the index stays sound
DELETE FROM si WHERE id % 3 = 0;
VACUUM si;
SELECT elements, dead_elements, free_slots, heap_tids, pages AS pages_before
  FROM vsim.hnsw_index_stats('si_cos') \gset
SELECT :elements, :dead_elements, :free_slots, :heap_tids;
SELECT vsim.index_check('si_cos', true);
INSERT INTO si SELECT i, sv(i, (i * 17) % 40 + 1) FROM generate_series(600, 700) i;
-- fewer free slots: small elements went into them
SELECT free_slots < :free_slots AS reused, pages = :pages_before AS no_growth
  FROM vsim.hnsw_index_stats('si_cos');
SELECT elements, dead_elements, free_slots FROM vsim.hnsw_index_stats('si_cos');
SELECT vsim.index_check('si_cos', true);
SELECT * FROM check_sparse_index('<=>');
-- same values share an element: the size counts in the comparison
INSERT INTO si VALUES (800, sv(601, 10)), (801, sv(601, 11));
SELECT * FROM check_sparse_index('<=>');
SELECT vsim.index_check('si_cos', true);

-- no filter columns, no ivfflat on sparsevec
CREATE INDEX ON si USING hnsw (s sparsevec_l2_ops, id);
CREATE INDEX ON si USING ivfflat (s);
-- nor with an operator class made by hand: k-means needs floats
CREATE OPERATOR CLASS sv_ivf_ops FOR TYPE sparsevec USING ivfflat AS
  OPERATOR 1 <-> (sparsevec, sparsevec) FOR ORDER BY float_ops, FUNCTION 1 vsim_metric_l2(internal);
CREATE INDEX ON si USING ivfflat (s sv_ivf_ops);
DROP OPERATOR CLASS sv_ivf_ops USING ivfflat;

-- the build keeps each value at its own size in memory: 3,000 values of 1
-- to 100 elements outgrow 1 MB after some 1,800 rows (at the largest size,
-- 8 kB each, 120 would fit), and the rest of the build goes on on disk
CREATE TABLE sm (id int, s sparsevec(2000));
INSERT INTO sm SELECT i, sv(i, i % 100 + 1) FROM generate_series(1, 3000) i;
SET maintenance_work_mem = '1MB';
CREATE INDEX sm_l2 ON sm USING hnsw (s sparsevec_l2_ops) WITH (m = 8, ef_construction = 32);
RESET maintenance_work_mem;
SELECT heap_tids FROM vsim.hnsw_index_stats('sm_l2');
SELECT vsim.index_check('sm_l2', true);
SET enable_seqscan = off;
-- (the graph of these vectors, most of which share no index, is poor for
-- HNSW whatever the type: a vector(2000) index of them reaches as few)
SELECT count(*) >= 10 AS found, bool_and(d = s <-> sv(5, 50)) AS exact,
       bool_and(d >= coalesce(prev, '-Infinity')) AS ordered
  FROM (SELECT s, d, lag(d) OVER () AS prev FROM (
        SELECT s, s <-> sv(5, 50) AS d FROM sm ORDER BY s <-> sv(5, 50) LIMIT 100) t) u;
RESET enable_seqscan;
DROP TABLE sm;

DROP TABLE si, q;
DROP FUNCTION check_sparse_index(text), sv(int, int);
