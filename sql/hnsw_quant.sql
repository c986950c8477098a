-- hnsw quantization (issue 9): 'none' is the default and the format of
-- every index built before the option; 'sq8' stores one byte a dimension,
-- 'rabitq' one bit (RaBitQ), and both re-rank from the heap.  The option
-- and its errors, every class with sq8 and rabitq against exact search,
-- rows in exact distance order, stats, index_check, inserts and VACUUM,
-- iterative scans, filter columns, 8,000-d.
SET client_min_messages = notice;
CREATE TABLE hq (id int PRIMARY KEY, v vector(64), h halfvec(64), s sparsevec(8), b bit(64));
-- 2,000 deterministic vectors in 20 loose clusters (sines of id)
INSERT INTO hq SELECT i, a::vector(64), a::halfvec(64),
  ARRAY(SELECT CASE WHEN (i + j) % 3 = 0 THEN j ELSE 0 END FROM generate_series(1, 8) j)::vector(8)::sparsevec(8),
  (i * 2654435761)::bit(64)
  FROM (SELECT i, ARRAY(SELECT sin((i % 20) * j * 0.7) * 3 + sin(i * j * 0.37) FROM generate_series(1, 64) j) AS a
        FROM generate_series(1, 2000) i) s;
ANALYZE hq;
CREATE TABLE hq_q (qid int, v vector(64));
INSERT INTO hq_q SELECT k, ARRAY(SELECT sin((k % 20) * j * 0.7) * 3 + cos(k * j * 1.3) FROM generate_series(1, 64) j)::vector(64)
  FROM generate_series(1, 5) k;

-- the option's errors, with their messages, then their SQLSTATEs
CREATE INDEX ON hq USING hnsw (v vector_l2_ops) WITH (quantization = 'pq');
CREATE INDEX ON hq USING hnsw (v vector_l2_ops) WITH (quantization = '');
CREATE INDEX ON hq USING hnsw (v vector_l1_ops) WITH (quantization = 'rabitq');
CREATE INDEX ON hq USING hnsw (h halfvec_l1_ops) WITH (quantization = 'rabitq');
CREATE INDEX ON hq USING hnsw (b bit_hamming_ops) WITH (quantization = 'sq8');
CREATE INDEX ON hq USING hnsw (b bit_hamming_ops) WITH (quantization = 'rabitq');
CREATE INDEX ON hq USING hnsw (s sparsevec_l2_ops) WITH (quantization = 'sq8');
CREATE INDEX ON hq USING hnsw (s sparsevec_l2_ops) WITH (quantization = 'rabitq');
\set VERBOSITY sqlstate
CREATE INDEX ON hq USING hnsw (v vector_l2_ops) WITH (quantization = 'pq');
CREATE INDEX ON hq USING hnsw (v vector_l1_ops) WITH (quantization = 'rabitq');
CREATE INDEX ON hq USING hnsw (b bit_hamming_ops) WITH (quantization = 'rabitq');
CREATE INDEX ON hq USING hnsw (s sparsevec_l2_ops) WITH (quantization = 'sq8');
CREATE INDEX ON hq USING hnsw (s sparsevec_cosine_ops) WITH (quantization = 'rabitq');
\set VERBOSITY default

-- 'none', in any case, builds the unquantized index, the same as without
-- the option (same levels: same size)
SET hnsw.level_seed = 1;
CREATE INDEX hq_none ON hq USING hnsw (v vector_l2_ops) WITH (quantization = 'NONE');
SET hnsw.level_seed = 1;
CREATE INDEX hq_plain ON hq USING hnsw (v vector_l2_ops);
SELECT pg_relation_size('hq_none') = pg_relation_size('hq_plain') AS same_size;
SELECT quantization, bytes_per_vector, dimensions FROM vsim.hnsw_index_stats('hq_none');
DROP INDEX hq_none, hq_plain;
RESET hnsw.level_seed;

-- check_index(col, op): over the 5 queries, whether the index's top 10 are
-- the exact top 10 (same ids, same distances: the ORDER BY value is the
-- exact one), the share of the exact top 10 found (recall), and whether
-- the first 300 rows come in non-decreasing exact distance
CREATE FUNCTION check_index(col text, op text)
RETURNS TABLE (same_top10 boolean, recall numeric, ordered boolean) LANGUAGE plpgsql AS $$
DECLARE
  qq record; ix float8[]; ex float8[]; ixid int[]; exid int[];
  same boolean := true; found int := 0; ord boolean := true; o boolean;
  typ text := CASE col WHEN 'h' THEN 'halfvec' ELSE 'vector' END;
BEGIN
  FOR qq IN SELECT * FROM hq_q ORDER BY qid LOOP
    SET LOCAL enable_seqscan = off;
    EXECUTE format('SELECT array_agg(d), array_agg(id) FROM (SELECT id, %I %s $1::%s AS d FROM hq ORDER BY %I %s $1::%s LIMIT 10) s',
                   col, op, typ, col, op, typ)
      INTO ix, ixid USING qq.v;
    EXECUTE format($q$SELECT bool_and(d >= coalesce(prev, '-Infinity')) FROM (
                     SELECT d, lag(d) OVER () AS prev FROM (
                       SELECT %I %s $1::%s AS d FROM hq ORDER BY %I %s $1::%s LIMIT 300) s) t$q$,
                   col, op, typ, col, op, typ)
      INTO o USING qq.v;
    ord := ord AND o;
    SET LOCAL enable_indexscan = off;
    SET LOCAL enable_seqscan = on;
    EXECUTE format('SELECT array_agg(d), array_agg(id) FROM (SELECT id, %I %s $1::%s AS d FROM hq ORDER BY 2, 1 LIMIT 10) s',
                   col, op, typ)
      INTO ex, exid USING qq.v;
    RESET enable_indexscan;
    same := same AND ix = ex;
    found := found + (SELECT count(*) FROM unnest(ixid) x WHERE x = ANY (exid));
  END LOOP;
  RETURN QUERY SELECT same, round(found / 50.0, 2), ord;
END $$;

-- every class with sq8 and rabitq: with a wide search and every
-- candidate re-ranked the top 10 are exact search's; at the default
-- settings (ef_search 40, rerank_candidates 20) recall and order; the
-- index checks clean; the stats give the mode and its bytes (sq8 4 + 64,
-- rabitq 16 + 64 / 8).  rabitq at 64-d: one bit a dimension errs by about
-- |r| |v| / sqrt(64) (quant.h), as much as the distances within one of
-- these clusters differ, so at the defaults (a rabitq scan keeps 80
-- candidates and re-ranks 80) it finds about 0.88 of the top 10; it gets
-- ef_search 80 and rerank_candidates 40 (160 and 160: all of it; the 038
-- TAP test asserts recall at the defaults on 784-d and 256-d real data)
CREATE FUNCTION check_all(col text, cls text, op text, mode text)
RETURNS TABLE (class text, exact_top10 boolean, exact_ordered boolean,
               default_recall_ok boolean, default_ordered boolean, check_ok boolean,
               quantization text, bytes_per_vector int) LANGUAGE plpgsql AS $$
DECLARE r1 record; r2 record; chk boolean; st record;
BEGIN
  EXECUTE format('CREATE INDEX hq_ix ON hq USING hnsw (%I %s) WITH (quantization = %s)', col, cls, mode);
  SET LOCAL hnsw.ef_search = 400;
  SET LOCAL hnsw.rerank_candidates = 400;
  SELECT * INTO r1 FROM check_index(col, op);
  RESET hnsw.ef_search;
  RESET hnsw.rerank_candidates;
  IF mode = 'rabitq' THEN
    SET LOCAL hnsw.ef_search = 80;
    SET LOCAL hnsw.rerank_candidates = 40;
  END IF;
  SELECT * INTO r2 FROM check_index(col, op);
  RESET hnsw.ef_search;
  RESET hnsw.rerank_candidates;
  SELECT vsim.index_check('hq_ix', true) IS NOT NULL INTO chk;
  SELECT * INTO st FROM vsim.hnsw_index_stats('hq_ix');
  DROP INDEX hq_ix;
  RETURN QUERY SELECT cls || ' ' || mode, r1.same_top10, r1.ordered, r2.recall >= 0.9, r2.ordered, chk,
    st.quantization, st.bytes_per_vector;
END $$;
SELECT c.* FROM (VALUES ('v', 'vector_l2_ops', '<->', 'sq8'), ('v', 'vector_ip_ops', '<#>', 'sq8'),
                        ('v', 'vector_cosine_ops', '<=>', 'sq8'), ('v', 'vector_l1_ops', '<+>', 'sq8'),
                        ('h', 'halfvec_l2_ops', '<->', 'sq8'), ('h', 'halfvec_cosine_ops', '<=>', 'sq8'),
                        ('v', 'vector_l2_ops', '<->', 'rabitq'), ('v', 'vector_ip_ops', '<#>', 'rabitq'),
                        ('v', 'vector_cosine_ops', '<=>', 'rabitq'),
                        ('h', 'halfvec_l2_ops', '<->', 'rabitq'), ('h', 'halfvec_ip_ops', '<#>', 'rabitq'),
                        ('h', 'halfvec_cosine_ops', '<=>', 'rabitq')) k(col, cls, op, mode),
     LATERAL check_all(col, cls, op, mode) c;

-- the index holds 68 bytes a vector against 256, plus the same neighbour
-- lists (260 bytes an element at m = 16): under 70% of the unquantized size
CREATE INDEX hq_sq8 ON hq USING hnsw (v vector_l2_ops) WITH (quantization = sq8);
CREATE INDEX hq_full ON hq USING hnsw (v vector_l2_ops);
SELECT pg_relation_size('hq_sq8') < 0.7 * pg_relation_size('hq_full') AS smaller,
       (SELECT elements FROM vsim.hnsw_index_stats('hq_sq8')) AS elements;
-- rabitq: 24 bytes a vector, under 60% (the lists dominate at 64-d)
CREATE INDEX hq_rq ON hq USING hnsw (v vector_l2_ops) WITH (quantization = rabitq);
SELECT pg_relation_size('hq_rq') < 0.6 * pg_relation_size('hq_full') AS smaller,
       pg_relation_size('hq_rq') < pg_relation_size('hq_sq8') AS smaller_than_sq8,
       (SELECT elements FROM vsim.hnsw_index_stats('hq_rq')) AS elements;
DROP INDEX hq_full, hq_rq;
CREATE INDEX hq_rqh ON hq USING hnsw (h halfvec_l2_ops) WITH (quantization = rabitq);

-- the value ORDER BY sees is the exact distance, not the code's
SET enable_seqscan = off;
SELECT bool_and(d = v <-> (SELECT v FROM hq_q WHERE qid = 3)) AS exact_values FROM (
  SELECT v, v <-> (SELECT v FROM hq_q WHERE qid = 3) AS d FROM hq
  ORDER BY v <-> (SELECT v FROM hq_q WHERE qid = 3) LIMIT 20) s;
-- ORDER BY distance to NULL: rows, in no particular order, as for none
SELECT count(*) FROM (SELECT id FROM hq ORDER BY v <-> NULL LIMIT 5) s;

-- iterative scans: later rounds re-rank their own candidates; a filter
-- keeping 1 row in 20 gets its 60 rows, in exact distance order (strict)
SET hnsw.iterative_scan = strict_order;
SELECT count(*) AS n, bool_and(d >= coalesce(prev, '-Infinity')) AS ordered FROM (
  SELECT d, lag(d) OVER () AS prev FROM (
    SELECT v <-> (SELECT v FROM hq_q WHERE qid = 1) AS d FROM hq WHERE id % 20 = 0
    ORDER BY v <-> (SELECT v FROM hq_q WHERE qid = 1) LIMIT 60) s) t;
SET hnsw.iterative_scan = relaxed_order;
SELECT count(*) AS n FROM (
    SELECT id FROM hq WHERE id % 20 = 0
    ORDER BY v <-> (SELECT v FROM hq_q WHERE qid = 1) LIMIT 60) s;
RESET hnsw.iterative_scan;
-- the same with a rabitq index (on the halfvec column, beside hq_sq8;
-- ef_search 80 and rerank_candidates 40 as above)
SET hnsw.ef_search = 80;
SET hnsw.rerank_candidates = 40;
SELECT bool_and(d = h <-> (SELECT v FROM hq_q WHERE qid = 3)::halfvec) AS exact_values FROM (
  SELECT h, h <-> (SELECT v FROM hq_q WHERE qid = 3)::halfvec AS d FROM hq
  ORDER BY h <-> (SELECT v FROM hq_q WHERE qid = 3)::halfvec LIMIT 20) s;
SET hnsw.iterative_scan = strict_order;
SELECT count(*) AS n, bool_and(d >= coalesce(prev, '-Infinity')) AS ordered FROM (
  SELECT d, lag(d) OVER () AS prev FROM (
    SELECT h <-> (SELECT v FROM hq_q WHERE qid = 1)::halfvec AS d FROM hq WHERE id % 20 = 0
    ORDER BY h <-> (SELECT v FROM hq_q WHERE qid = 1)::halfvec LIMIT 60) s) t;
SET hnsw.iterative_scan = relaxed_order;
SELECT count(*) AS n FROM (
    SELECT id FROM hq WHERE id % 20 = 0
    ORDER BY h <-> (SELECT v FROM hq_q WHERE qid = 1)::halfvec LIMIT 60) s;
RESET hnsw.iterative_scan;
RESET hnsw.ef_search;
RESET hnsw.rerank_candidates;

-- inserts after the build are encoded with the stored parameters; deleted
-- rows never come back, VACUUM removes them, the index stays exact
INSERT INTO hq SELECT id + 2000, v, h, s, b FROM hq WHERE id <= 300;
DELETE FROM hq WHERE id % 7 = 0;
SET hnsw.ef_search = 400;
SET hnsw.rerank_candidates = 400;
SELECT * FROM check_index('v', '<->');
SELECT * FROM check_index('h', '<->');
SELECT count(*) AS deleted_returned FROM (
  SELECT id FROM hq ORDER BY v <-> (SELECT v FROM hq_q WHERE qid = 2) LIMIT 300) s WHERE id % 7 = 0;
SELECT count(*) AS deleted_returned FROM (
  SELECT id FROM hq ORDER BY h <-> (SELECT v FROM hq_q WHERE qid = 2)::halfvec LIMIT 300) s WHERE id % 7 = 0;
VACUUM hq;
SELECT dead_elements, heap_tids = (SELECT count(*) FROM hq) AS all_rows FROM vsim.hnsw_index_stats('hq_sq8');
SELECT dead_elements, heap_tids = (SELECT count(*) FROM hq) AS all_rows FROM vsim.hnsw_index_stats('hq_rqh');
INSERT INTO hq SELECT id + 4000, v, h, s, b FROM hq WHERE id <= 100;
SELECT * FROM check_index('v', '<->');
SELECT * FROM check_index('h', '<->');
SELECT vsim.index_check('hq_sq8', true);
SELECT vsim.index_check('hq_rqh', true);
-- the reachability functions walk the codes too (rows sharing a vector share a node)
SELECT live_elements > 1500 AS counted, unreachable_elements < 20 AS few_unreachable FROM vsim.hnsw_index_reachability('hq_sq8');
SELECT live_elements > 1500 AS counted, unreachable_elements < 20 AS few_unreachable FROM vsim.hnsw_index_reachability('hq_rqh');
RESET hnsw.ef_search;
RESET hnsw.rerank_candidates;
DROP INDEX hq_rqh;

-- ALTER INDEX SET (quantization) takes effect at REINDEX: the stats say
-- what the index stores
ALTER INDEX hq_sq8 SET (quantization = none);
SELECT quantization, bytes_per_vector FROM vsim.hnsw_index_stats('hq_sq8');
REINDEX INDEX hq_sq8;
SELECT quantization, bytes_per_vector FROM vsim.hnsw_index_stats('hq_sq8');
ALTER INDEX hq_sq8 SET (quantization = sq8);
REINDEX INDEX hq_sq8;
SELECT quantization, bytes_per_vector FROM vsim.hnsw_index_stats('hq_sq8');
ALTER INDEX hq_sq8 SET (quantization = rabitq);
SELECT quantization, bytes_per_vector FROM vsim.hnsw_index_stats('hq_sq8');
REINDEX INDEX hq_sq8;
SELECT quantization, bytes_per_vector FROM vsim.hnsw_index_stats('hq_sq8');
SELECT vsim.index_check('hq_sq8', true);
DROP INDEX hq_sq8;
RESET enable_seqscan;

-- filter columns: the filter area follows the code
CREATE INDEX hq_filt ON hq USING hnsw (v vector_l2_ops, id) WITH (quantization = sq8);
SET enable_seqscan = off;
SET hnsw.ef_search = 400;
SET hnsw.rerank_candidates = 400;
SELECT array_agg(id) = ARRAY(SELECT id FROM hq WHERE id < 500 ORDER BY v <-> (SELECT v FROM hq_q WHERE qid = 4), id LIMIT 10)
  AS filtered_exact
  FROM (SELECT id FROM hq WHERE id < 500 ORDER BY v <-> (SELECT v FROM hq_q WHERE qid = 4) LIMIT 10) s;
SELECT vsim.index_check('hq_filt', true);
-- the filter directory of a quantized index: it starts after the
-- parameter pages; its exhaustive pass (forced: filter_walk_limit 0) is
-- exact and re-ranked, also after DELETE, VACUUM and inserts reusing slots
SELECT quantization, filter_columns, filter_dir_pages >= 1 AS has_directory,
       filter_dir_entries = elements AS one_entry_each
  FROM vsim.hnsw_index_stats('hq_filt');
SET hnsw.filter_walk_limit = 0;
SET enable_sort = off;		-- else the primary key and a sort
EXPLAIN (COSTS OFF) SELECT q.qid, s.id FROM hq_q q CROSS JOIN LATERAL
  (SELECT id FROM hq WHERE id BETWEEN 100 AND 400 ORDER BY v <-> q.v LIMIT 10) s;
-- per query 1-3: the index's top 10 with id BETWEEN 100 AND 400 are the exact ones
CREATE FUNCTION pg_temp.directory_exact() RETURNS TABLE (qid int, directory_exact bool)
LANGUAGE sql AS $$
SELECT qid, array_agg(id ORDER BY d, id) = ARRAY(SELECT id FROM hq WHERE id BETWEEN 100 AND 400
         ORDER BY (v <-> (SELECT v FROM hq_q q2 WHERE q2.qid = q.qid)) + 0, id LIMIT 10)
  FROM hq_q q CROSS JOIN LATERAL (SELECT id, v <-> q.v AS d FROM hq WHERE id BETWEEN 100 AND 400
         ORDER BY v <-> q.v LIMIT 10) s
  WHERE qid <= 3 GROUP BY qid ORDER BY qid
$$;
SELECT * FROM pg_temp.directory_exact();
DELETE FROM hq WHERE id % 2 = 0 AND id < 600;
VACUUM hq;
-- the deleted even ids again, with new vectors
INSERT INTO hq SELECT g, ARRAY(SELECT sin((g % 20) * j * 0.7) * 3 + sin((g + 5000) * j * 0.37)
                               FROM generate_series(1, 64) j)::vector(64)
  FROM generate_series(100, 400, 2) g WHERE NOT EXISTS (SELECT FROM hq WHERE id = g);
SELECT filter_dir_entries = elements - dead_elements AS one_entry_each
  FROM vsim.hnsw_index_stats('hq_filt');
SELECT * FROM pg_temp.directory_exact();
SELECT vsim.index_check('hq_filt', true);
RESET hnsw.filter_walk_limit;
RESET enable_sort;
RESET hnsw.ef_search;
RESET hnsw.rerank_candidates;
RESET enable_seqscan;
DROP INDEX hq_filt;

-- the same with rabitq (the rows the block above deleted and inserted are
-- the table's now)
CREATE INDEX hq_filt_rq ON hq USING hnsw (v vector_l2_ops, id) WITH (quantization = rabitq);
SET enable_seqscan = off;
SET hnsw.ef_search = 400;
SET hnsw.rerank_candidates = 400;
SELECT array_agg(id) = ARRAY(SELECT id FROM hq WHERE id < 500 ORDER BY v <-> (SELECT v FROM hq_q WHERE qid = 4), id LIMIT 10)
  AS filtered_exact
  FROM (SELECT id FROM hq WHERE id < 500 ORDER BY v <-> (SELECT v FROM hq_q WHERE qid = 4) LIMIT 10) s;
SELECT vsim.index_check('hq_filt_rq', true);
-- the filter directory of a quantized index: it starts after the
-- parameter pages; its exhaustive pass (forced: filter_walk_limit 0) is
-- exact and re-ranked, also after DELETE, VACUUM and inserts reusing slots
SELECT quantization, filter_columns, filter_dir_pages >= 1 AS has_directory,
       filter_dir_entries = elements AS one_entry_each
  FROM vsim.hnsw_index_stats('hq_filt_rq');
SET hnsw.filter_walk_limit = 0;
SET enable_sort = off;		-- else the primary key and a sort
EXPLAIN (COSTS OFF) SELECT q.qid, s.id FROM hq_q q CROSS JOIN LATERAL
  (SELECT id FROM hq WHERE id BETWEEN 100 AND 400 ORDER BY v <-> q.v LIMIT 10) s;
-- per query 1-3: the index's top 10 with id BETWEEN 100 AND 400 are the
-- exact ones (pg_temp.directory_exact above names no index)
SELECT * FROM pg_temp.directory_exact();
DELETE FROM hq WHERE id % 2 = 0 AND id < 600;
VACUUM hq;
-- the deleted even ids again, with new vectors
INSERT INTO hq SELECT g, ARRAY(SELECT sin((g % 20) * j * 0.7) * 3 + sin((g + 5000) * j * 0.37)
                               FROM generate_series(1, 64) j)::vector(64)
  FROM generate_series(100, 400, 2) g WHERE NOT EXISTS (SELECT FROM hq WHERE id = g);
SELECT filter_dir_entries = elements - dead_elements AS one_entry_each
  FROM vsim.hnsw_index_stats('hq_filt_rq');
SELECT * FROM pg_temp.directory_exact();
SELECT vsim.index_check('hq_filt_rq', true);
RESET hnsw.filter_walk_limit;
RESET enable_sort;
RESET hnsw.ef_search;
RESET hnsw.rerank_candidates;
RESET enable_seqscan;
DROP INDEX hq_filt_rq;

-- 8,000 dimensions: 8,004 bytes of code an element, 64,008 bytes of
-- parameters over 8 pages
CREATE TABLE hq_wide (id int PRIMARY KEY, v vector(8000));
ALTER TABLE hq_wide ALTER v SET STORAGE EXTERNAL;
INSERT INTO hq_wide SELECT i, ARRAY(SELECT sin(i * j * 0.001) + (i % 3) FROM generate_series(1, 8000) j)
  FROM generate_series(1, 12) i;
CREATE INDEX hq_wide_sq8 ON hq_wide USING hnsw (v vector_l2_ops) WITH (quantization = sq8);
SELECT quantization, bytes_per_vector, dimensions, elements FROM vsim.hnsw_index_stats('hq_wide_sq8');
INSERT INTO hq_wide SELECT i, ARRAY(SELECT cos(i * j * 0.001) + (i % 3) FROM generate_series(1, 8000) j)
  FROM generate_series(13, 16) i;
SET enable_seqscan = off;
SELECT array_agg(id) = ARRAY(SELECT id FROM hq_wide ORDER BY v <-> (SELECT v FROM hq_wide WHERE id = 7), id LIMIT 5)
  AS wide_exact
  FROM (SELECT id FROM hq_wide ORDER BY v <-> (SELECT v FROM hq_wide WHERE id = 7) LIMIT 5) s;
RESET enable_seqscan;
SELECT vsim.index_check('hq_wide_sq8', true);
DROP INDEX hq_wide_sq8;
-- rabitq: 16 + 8,000 / 8 = 1,016 bytes a code, so an element (with its
-- lists) fits in a page and never spans two (hnsw_place): 19 elements of
-- level 0 (1,276 bytes each, 6 a page) take 4 data pages, where elements
-- spanning pages would take 3 (24,244 bytes); plus 5 parameter pages
-- (36,024 bytes: the rotation and the centroid) and the metapage
INSERT INTO hq_wide SELECT i, ARRAY(SELECT sin(i * j * 0.002) + (i % 3) FROM generate_series(1, 8000) j)
  FROM generate_series(17, 19) i;
SET hnsw.level_seed = 3;
CREATE INDEX hq_wide_rq ON hq_wide USING hnsw (v vector_l2_ops) WITH (quantization = rabitq);
RESET hnsw.level_seed;
SELECT quantization, bytes_per_vector, dimensions, elements, levels, pages FROM vsim.hnsw_index_stats('hq_wide_rq');
SET enable_seqscan = off;
SELECT array_agg(id) = ARRAY(SELECT id FROM hq_wide ORDER BY v <-> (SELECT v FROM hq_wide WHERE id = 7), id LIMIT 5)
  AS wide_exact
  FROM (SELECT id FROM hq_wide ORDER BY v <-> (SELECT v FROM hq_wide WHERE id = 7) LIMIT 5) s;
SELECT array_agg(id) = ARRAY(SELECT id FROM hq_wide ORDER BY v <-> (SELECT v FROM hq_wide WHERE id = 14), id LIMIT 19)
  AS wide_exact_all
  FROM (SELECT id FROM hq_wide ORDER BY v <-> (SELECT v FROM hq_wide WHERE id = 14) LIMIT 19) s;
RESET enable_seqscan;
SELECT vsim.index_check('hq_wide_rq', true);
DROP TABLE hq_wide;

-- an empty table: the ranges of one zero row (REINDEX once loaded), then
-- inserts still answer exactly through the re-ranking
CREATE TABLE hq_empty (v vector(4));
CREATE INDEX hq_empty_sq8 ON hq_empty USING hnsw (v vector_l2_ops) WITH (quantization = sq8);
INSERT INTO hq_empty SELECT ARRAY[i, -i, i * 0.5, 1]::vector FROM generate_series(1, 30) i;
SET enable_seqscan = off;
SELECT v FROM hq_empty ORDER BY v <-> '[3,-3,1.5,1]' LIMIT 3;
RESET enable_seqscan;
SELECT vsim.index_check('hq_empty_sq8', true);
REINDEX INDEX hq_empty_sq8;
SELECT vsim.index_check('hq_empty_sq8', true);
DROP TABLE hq_empty;
-- rabitq on an empty table: the origin as the centroid
CREATE TABLE hq_empty (v vector(4));
CREATE INDEX hq_empty_rq ON hq_empty USING hnsw (v vector_cosine_ops) WITH (quantization = rabitq);
INSERT INTO hq_empty SELECT ARRAY[i, -i, i * 0.5, 1]::vector FROM generate_series(1, 30) i;
SET enable_seqscan = off;
SELECT v FROM hq_empty ORDER BY v <=> '[3,-3,1.5,1]' LIMIT 3;
RESET enable_seqscan;
SELECT vsim.index_check('hq_empty_rq', true);
DROP TABLE hq_empty;
-- an unlogged table: the init fork holds the metapage and the parameters
CREATE UNLOGGED TABLE hq_unlogged (v vector(4));
INSERT INTO hq_unlogged SELECT ARRAY[i, -i, i * 0.5, 1]::vector FROM generate_series(1, 30) i;
CREATE INDEX hq_unlogged_sq8 ON hq_unlogged USING hnsw (v vector_l2_ops) WITH (quantization = sq8);
SET enable_seqscan = off;
SELECT v FROM hq_unlogged ORDER BY v <-> '[3,-3,1.5,1]' LIMIT 3;
RESET enable_seqscan;
SELECT pg_relation_size('hq_unlogged_sq8', 'init') / current_setting('block_size')::int AS init_pages;
CREATE INDEX hq_unlogged_rq ON hq_unlogged USING hnsw (v vector_l2_ops) WITH (quantization = rabitq);
SELECT pg_relation_size('hq_unlogged_rq', 'init') / current_setting('block_size')::int AS init_pages;
DROP TABLE hq_unlogged;
DROP FUNCTION check_all(text, text, text, text);
DROP FUNCTION check_index(text, text);
DROP TABLE hq, hq_q;
