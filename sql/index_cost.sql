-- Plan choice of the vector indexes (src/index/index_cost.c): tiny tables
-- and selective filters get an exact plan, broad ones the index, and a scan
-- that cannot return LIMIT rows is never chosen while an exact plan is
-- allowed.  Deterministic data (hashes of the row number), ANALYZEd.
SET max_parallel_workers_per_gather = 0;
CREATE TABLE cost_items AS
  SELECT i AS id,
    (hashint4(i) & 1023) % 100 AS cat1,		-- about 1% per value
    (hashint4(i + 3) & 1023) % 10 AS cat10,	-- about 10% per value
    hashint4(i + 7) & 1 AS cat50,			-- 50%
    (SELECT array_agg((hashint4(i * 16 + j) % 1000) / 1000.0)
       FROM generate_series(1, 16) j)::vector(16) AS v
  FROM generate_series(1, 20000) i;
CREATE INDEX cost_items_cat1 ON cost_items (cat1);
CREATE INDEX cost_items_hnsw ON cost_items USING hnsw (v vector_l2_ops);
ANALYZE cost_items;
CREATE TABLE cost_tiny AS SELECT * FROM cost_items WHERE id <= 50;
CREATE INDEX ON cost_tiny USING hnsw (v vector_l2_ops);
ANALYZE cost_tiny;
\set q '''[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,0.1,0.2,0.3,0.4,0.5,0.6,0.7]'''

-- a tiny table: sequential scan and sort, the index only when forced
EXPLAIN (COSTS OFF) SELECT id FROM cost_tiny ORDER BY v <-> :q LIMIT 10;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM cost_tiny ORDER BY v <-> :q LIMIT 10;
RESET enable_seqscan;

-- no filter: the index
EXPLAIN (COSTS OFF) SELECT id FROM cost_items ORDER BY v <-> :q LIMIT 10;
-- without LIMIT the scan would return only hnsw.ef_search rows: exact plan
EXPLAIN (COSTS OFF) SELECT id FROM cost_items ORDER BY v <-> :q;
-- a partial index answers a query with its predicate: the predicate is
-- no filter of the scan's rows, so pool = LIMIT = ef_search is enough
CREATE INDEX cost_items_part ON cost_items USING hnsw (v vector_l2_ops) WHERE cat50 = 1;
SET hnsw.ef_search = 10;
EXPLAIN (COSTS OFF) SELECT id FROM cost_items WHERE cat50 = 1 ORDER BY v <-> :q LIMIT 10;
SELECT count(*) FROM (SELECT id FROM cost_items WHERE cat50 = 1 ORDER BY v <-> :q LIMIT 10) s;
-- a further filter is one: the scan could return fewer rows than LIMIT
EXPLAIN (COSTS OFF) SELECT id FROM cost_items WHERE cat50 = 1 AND cat10 = 3 ORDER BY v <-> :q LIMIT 10;
RESET hnsw.ef_search;
DROP INDEX cost_items_part;
-- a selective filter (1%) with a btree: the btree and a sort, LIMIT rows
EXPLAIN (COSTS OFF) SELECT id FROM cost_items WHERE cat1 = 7 ORDER BY v <-> :q LIMIT 10;
SELECT count(*) FROM (SELECT id FROM cost_items WHERE cat1 = 7 ORDER BY v <-> :q LIMIT 10) s;
-- 10% without a btree: ef_search = 40 rows would keep about 4: sequential scan
EXPLAIN (COSTS OFF) SELECT id FROM cost_items WHERE cat10 = 3 ORDER BY v <-> :q LIMIT 10;
SELECT count(*) FROM (SELECT id FROM cost_items WHERE cat10 = 3 ORDER BY v <-> :q LIMIT 10) s;
-- ... unless ef_search is large enough
SET hnsw.ef_search = 400;
EXPLAIN (COSTS OFF) SELECT id FROM cost_items WHERE cat10 = 3 ORDER BY v <-> :q LIMIT 10;
RESET hnsw.ef_search;
-- ... or the scan is iterative
SET hnsw.iterative_scan = relaxed_order;
EXPLAIN (COSTS OFF) SELECT id FROM cost_items WHERE cat10 = 3 ORDER BY v <-> :q LIMIT 10;
SELECT count(*) FROM (SELECT id FROM cost_items WHERE cat10 = 3 ORDER BY v <-> :q LIMIT 10) s;
RESET hnsw.iterative_scan;
-- a broad filter (50%): the index
EXPLAIN (COSTS OFF) SELECT id FROM cost_items WHERE cat50 = 1 ORDER BY v <-> :q LIMIT 10;
SELECT count(*) FROM (SELECT id FROM cost_items WHERE cat50 = 1 ORDER BY v <-> :q LIMIT 10) s;
-- a distance condition keeps the nearest rows, the ones the scan returns: the index
EXPLAIN (COSTS OFF) SELECT id FROM cost_items WHERE v <-> :q < 1.2 ORDER BY v <-> :q LIMIT 10;
-- the index is still usable when the exact plans are disabled
SET enable_seqscan = off; SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM cost_items WHERE cat10 = 3 ORDER BY v <-> :q LIMIT 10;
RESET enable_seqscan; RESET enable_bitmapscan;

-- ivfflat: probes / lists * rows candidates
DROP INDEX cost_items_hnsw;
CREATE INDEX cost_items_ivf ON cost_items USING ivfflat (v vector_l2_ops) WITH (lists = 50);
ANALYZE cost_items;
EXPLAIN (COSTS OFF) SELECT id FROM cost_items ORDER BY v <-> :q LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM cost_items WHERE cat50 = 1 ORDER BY v <-> :q LIMIT 10;
-- 1%: one list of about 400 rows keeps about 4
EXPLAIN (COSTS OFF) SELECT id FROM cost_items WHERE cat1 = 7 ORDER BY v <-> :q LIMIT 10;
-- no btree on cat10 and 10% of 400: the index
EXPLAIN (COSTS OFF) SELECT id FROM cost_items WHERE cat10 = 3 ORDER BY v <-> :q LIMIT 10;
SET ivfflat.iterative_scan = relaxed_order;
EXPLAIN (COSTS OFF) SELECT id FROM cost_items WHERE cat1 = 7 ORDER BY v <-> :q LIMIT 10;
RESET ivfflat.iterative_scan;

-- the distance functions cost by dimensions: per row, a 784-d distance
-- costs more than ten times a 16-d one, whatever the metric
CREATE FUNCTION pg_temp.cost_per_row(tab text, expr text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE plan json; base json;
BEGIN
  EXECUTE format('EXPLAIN (FORMAT JSON) SELECT %s FROM %s', expr, tab) INTO plan;
  EXECUTE format('EXPLAIN (FORMAT JSON) SELECT v FROM %s', tab) INTO base;
  RETURN ((plan -> 0 -> 'Plan' ->> 'Total Cost')::float8 -
          (base -> 0 -> 'Plan' ->> 'Total Cost')::float8) /
         (plan -> 0 -> 'Plan' ->> 'Plan Rows')::float8;
END $$;
CREATE TABLE cost_wide (v vector(784));
CREATE TABLE cost_narrow (v vector(16));
SELECT op, pg_temp.cost_per_row('cost_wide', format('v %s v', op)) >
       10 * pg_temp.cost_per_row('cost_narrow', format('v %s v', op)) AS wide_costs_more
  FROM unnest(array['<->', '<=>', '<#>', '<+>']) op;

-- and so do halfvec's
CREATE TABLE cost_hwide (v halfvec(784));
CREATE TABLE cost_hnarrow (v halfvec(16));
SELECT op, pg_temp.cost_per_row('cost_hwide', format('v %s v', op)) >
       10 * pg_temp.cost_per_row('cost_hnarrow', format('v %s v', op)) AS wide_costs_more
  FROM unnest(array['<->', '<=>', '<#>', '<+>']) op;

-- bit strings cost by their length
CREATE TABLE cost_bwide (v bit(8192));
CREATE TABLE cost_bnarrow (v bit(64));
SELECT op, pg_temp.cost_per_row('cost_bwide', format('v %s v', op)) >
       5 * pg_temp.cost_per_row('cost_bnarrow', format('v %s v', op)) AS wide_costs_more
  FROM unnest(array['<~>', '<%>']) op;

-- sparse vectors by their stored elements (not their dimensions), as
-- ANALYZE measures them or a constant has them
CREATE TABLE cost_sfull AS
  SELECT (SELECT '{' || string_agg(j || ':1', ',') || '}/100000'
            FROM generate_series(1, 200) j)::sparsevec AS v
  FROM generate_series(1, 100);
CREATE TABLE cost_sfew AS SELECT '{7:1,9000:2}/100000'::sparsevec AS v FROM generate_series(1, 100);
ANALYZE cost_sfull, cost_sfew;
SELECT op, pg_temp.cost_per_row('cost_sfull', format('v %s v', op)) >
       10 * pg_temp.cost_per_row('cost_sfew', format('v %s v', op)) AS full_costs_more
  FROM unnest(array['<->', '<=>', '<#>', '<+>']) op;
SELECT pg_temp.cost_per_row('cost_sfew', format('v <-> %L::sparsevec', (SELECT v FROM cost_sfull LIMIT 1))) >
       10 * pg_temp.cost_per_row('cost_sfew', 'v <-> ''{1:1}/100000''::sparsevec') AS constant_sized;

DROP TABLE cost_items, cost_tiny, cost_wide, cost_narrow, cost_hwide, cost_hnarrow,
  cost_bwide, cost_bnarrow, cost_sfull, cost_sfew;
