-- hnsw and ivfflat indexes on halfvec (issue 10): every operator class
-- returns what exact search returns, with the exact distances
SET client_min_messages = notice;
CREATE TABLE hi (id int PRIMARY KEY, h halfvec(8));
-- 400 deterministic vectors (sines of id), one zero vector, one NULL
INSERT INTO hi SELECT i, ARRAY(SELECT sin(i * j * 0.37) * 10 FROM generate_series(1, 8) j)::halfvec(8)
  FROM generate_series(1, 400) i;
INSERT INTO hi VALUES (401, array_fill(0, ARRAY[8])::halfvec(8)), (402, NULL);
ANALYZE hi;
CREATE TEMP TABLE q AS SELECT ARRAY(SELECT cos(j * 1.3) * 7 FROM generate_series(1, 8) j)::halfvec(8) AS q;

-- same_top10: the index's top 10 has the exact top 10's distances;
-- exact: every row the scan returns carries its exact distance, in order
CREATE FUNCTION check_index(op text) RETURNS TABLE (same_top10 boolean, rows bigint, exact boolean, ordered boolean)
LANGUAGE plpgsql AS $$
DECLARE
  ix float8[]; ex float8[];
BEGIN
  SET LOCAL enable_seqscan = off;
  EXECUTE format('SELECT array_agg(d) FROM (SELECT h %s (SELECT q FROM q) AS d FROM hi ORDER BY h %s (SELECT q FROM q) LIMIT 10) s', op, op) INTO ix;
  SET LOCAL enable_indexscan = off;
  SET LOCAL enable_seqscan = on;
  EXECUTE format('SELECT array_agg(d) FROM (SELECT h %s (SELECT q FROM q) AS d FROM hi WHERE h IS NOT NULL ORDER BY 1 LIMIT 10) s', op) INTO ex;
  RESET enable_indexscan;
  SET LOCAL enable_seqscan = off;
  RETURN QUERY EXECUTE format($q$
    SELECT %L::float8[] = %L::float8[], count(*), bool_and(d = h %s (SELECT q FROM q)),
           bool_and(d >= coalesce(prev, '-Infinity'))
    FROM (SELECT h, d, lag(d) OVER () AS prev FROM (
          SELECT h, h %s (SELECT q FROM q) AS d FROM hi ORDER BY h %s (SELECT q FROM q) LIMIT 1000) s) t$q$,
    ix, ex, op, op, op);
END $$;

SET hnsw.ef_search = 500;
CREATE INDEX hi_l2 ON hi USING hnsw (h halfvec_l2_ops) WITH (m = 8, ef_construction = 64);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM hi ORDER BY h <-> (SELECT q FROM q) LIMIT 10;
RESET enable_seqscan;
SELECT * FROM check_index('<->');
SELECT vsim.index_check('hi_l2', true);
SELECT elements, dimensions FROM vsim.hnsw_index_stats('hi_l2');
DROP INDEX hi_l2;
CREATE INDEX hi_ip ON hi USING hnsw (h halfvec_ip_ops);
SELECT * FROM check_index('<#>');
DROP INDEX hi_ip;
CREATE INDEX hi_cos ON hi USING hnsw (h halfvec_cosine_ops);
SELECT * FROM check_index('<=>');
-- the zero vector is not indexed under cosine: 400 elements
SELECT elements FROM vsim.hnsw_index_stats('hi_cos');
DROP INDEX hi_cos;
CREATE INDEX hi_l1 ON hi USING hnsw (h halfvec_l1_ops);
SELECT * FROM check_index('<+>');
-- inserts, deletes and VACUUM keep it sound and exact
INSERT INTO hi SELECT i, ARRAY(SELECT sin(i * j * 0.11) FROM generate_series(1, 8) j)::halfvec(8)
  FROM generate_series(403, 500) i;
DELETE FROM hi WHERE id % 3 = 0;
VACUUM hi;
SELECT * FROM check_index('<+>');
SELECT vsim.index_check('hi_l1', true);
DROP INDEX hi_l1;

SET ivfflat.probes = 10;
CREATE INDEX hi_ivf ON hi USING ivfflat (h) WITH (lists = 10);   -- halfvec_l2_ops is the default
SELECT opcname FROM pg_index i JOIN pg_opclass c ON c.oid = i.indclass[0]
  WHERE i.indexrelid = 'hi_ivf'::regclass;
SELECT * FROM check_index('<->');
SELECT vsim.index_check('hi_ivf', true);
DROP INDEX hi_ivf;
CREATE INDEX hi_ivf ON hi USING ivfflat (h halfvec_ip_ops) WITH (lists = 10);
SELECT * FROM check_index('<#>');
DROP INDEX hi_ivf;
CREATE INDEX hi_ivf ON hi USING ivfflat (h halfvec_cosine_ops) WITH (lists = 10);
SELECT * FROM check_index('<=>');
DROP INDEX hi_ivf;

-- errors
CREATE INDEX ON hi USING ivfflat (h halfvec_l1_ops);
CREATE TABLE hnodim (h halfvec);
CREATE INDEX ON hnodim USING hnsw (h halfvec_l2_ops);
CREATE TABLE hbig (h halfvec(4100));
CREATE INDEX ON hbig USING ivfflat (h halfvec_l2_ops);
CREATE INDEX hbig_hnsw ON hbig USING hnsw (h halfvec_l2_ops);
CREATE INDEX hi_l2 ON hi USING hnsw (h halfvec_l2_ops);
SET enable_seqscan = off;
SELECT id FROM hi ORDER BY h <-> '[1,2,3]' LIMIT 1;
SELECT id FROM hi ORDER BY h <-> '[1,2,3,4,5,6,7,8,9]'::halfvec LIMIT 1;
RESET enable_seqscan;
DROP TABLE hi, hnodim, hbig;
DROP FUNCTION check_index(text);
