-- After the crash and restart: every index sound, every committed row
-- there and found through its index.  Each line prints one figure, name
-- then value; scripts/soak.sh decides which must be 0.
SELECT vsim.index_check('soak_hnsw_v', true), vsim.index_check('soak_ivf_v', true);
SET enable_seqscan = off;
WITH expected AS (
  SELECT tbl, id FROM soak_ledger GROUP BY tbl, id HAVING bool_or(NOT inserted) = false
), actual AS (
  SELECT 'soak_hnsw' AS tbl, id FROM soak_hnsw UNION ALL SELECT 'soak_ivf', id FROM soak_ivf
)
SELECT 'rows_expected', count(*) FROM expected
UNION ALL SELECT 'rows_present', count(*) FROM actual
UNION ALL SELECT 'rows_lost', count(*) FROM (SELECT * FROM expected EXCEPT SELECT * FROM actual) s
UNION ALL SELECT 'rows_resurrected', count(*) FROM (SELECT * FROM actual EXCEPT SELECT * FROM expected) s;

-- Rows the index lost.  An HNSW row is lost when no search can reach its
-- element: over the whole table, the committed rows whose elements a
-- search from the entry point, with unbounded ef, does not reach
-- (hnsw_unreachable_rows, asserted 0; vsim.hnsw_index_unreachable names
-- the heap TIDs of all such elements, hnsw_unreachable counts them, also
-- those of rows not committed, such as inserts the crash cut short, whose
-- back-links may be missing).  And, end to end through the scan, for a
-- 10% sample of the rows: each must be returned by an index scan ordered
-- by the distance to its own vector that runs on until it returns it, an
-- iterative scan without a tuple or memory limit, which returns every
-- element the search reaches (hnsw_unfindable, asserted 0).  OFFSET 0
-- keeps the id filter out of the scan, which the planner would otherwise
-- turn into a primary key lookup.  IVF: probes = lists reads every list,
-- so its 5 nearest include the row itself (distance 0) unless the index
-- lost it (ivf_unfindable, asserted 0).
CREATE TEMP TABLE sample_hnsw AS SELECT id, v FROM soak_hnsw TABLESAMPLE BERNOULLI (10) REPEATABLE (1);
CREATE TEMP TABLE sample_ivf AS SELECT id, v FROM soak_ivf TABLESAMPLE BERNOULLI (10) REPEATABLE (1);
SELECT 'hnsw_sampled', count(*) FROM sample_hnsw;
SELECT 'hnsw_unreachable', unreachable_elements FROM vsim.hnsw_index_reachability('soak_hnsw_v');
SELECT 'hnsw_unlinked', unlinked_elements FROM vsim.hnsw_index_reachability('soak_hnsw_v');
SELECT 'hnsw_unreachable_rows', count(*) FROM soak_hnsw
  WHERE ctid IN (SELECT unnest(vsim.hnsw_index_unreachable('soak_hnsw_v')));
BEGIN;
SET LOCAL hnsw.iterative_scan = relaxed_order;
SET LOCAL hnsw.max_scan_tuples = 2147483647;
SET LOCAL hnsw.scan_mem_multiplier = 1000;
SET LOCAL work_mem = '64MB';
SELECT 'hnsw_unfindable', count(*) FROM sample_hnsw t
  WHERE NOT EXISTS (SELECT 1 FROM (SELECT id FROM soak_hnsw ORDER BY v <-> t.v OFFSET 0) n WHERE n.id = t.id);
COMMIT;
SET ivfflat.probes = 40;
SELECT 'ivf_sampled', count(*) FROM sample_ivf;
SELECT 'ivf_unfindable', count(*) FROM sample_ivf t
  WHERE NOT EXISTS (SELECT 1 FROM (SELECT id FROM soak_ivf ORDER BY v <-> t.v LIMIT 5) n WHERE n.id = t.id);

-- Search quality, a figure (not asserted): the share of the sampled rows
-- that a default scan (hnsw.ef_search 40, no iterative scan) returns as
-- their own nearest neighbour, through the churned index and through a
-- fresh build of the same rows with the same parameters.  Random 32-d
-- vectors with m = 8 are hard: a fresh build misses a few percent too.
SET hnsw.ef_search = 40;
SELECT 'hnsw_self_top1_ef40', round(avg(((SELECT id FROM soak_hnsw ORDER BY v <-> t.v LIMIT 1) = t.id)::int), 4)
  FROM sample_hnsw t;
SET max_parallel_maintenance_workers = 0;
CREATE TABLE soak_fresh AS SELECT * FROM soak_hnsw;
CREATE INDEX soak_fresh_v ON soak_fresh USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32);
SELECT 'fresh_self_top1_ef40', round(avg(((SELECT id FROM soak_fresh ORDER BY v <-> t.v LIMIT 1) = t.id)::int), 4)
  FROM sample_hnsw t;
SELECT 'fresh_unreachable', unreachable_elements FROM vsim.hnsw_index_reachability('soak_fresh_v');
