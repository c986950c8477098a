-- After the crash and restart: every index sound, every committed row
-- there and found through its index.  Each line prints one check.
SELECT vsim.index_check('soak_hnsw_v', true), vsim.index_check('soak_ivf_v', true);
SET enable_seqscan = off;
SET hnsw.ef_search = 200;
SET ivfflat.probes = 40;
WITH expected AS (
  SELECT tbl, id FROM soak_ledger GROUP BY tbl, id HAVING bool_or(NOT inserted) = false
), actual AS (
  SELECT 'soak_hnsw' AS tbl, id FROM soak_hnsw UNION ALL SELECT 'soak_ivf', id FROM soak_ivf
)
SELECT 'rows_expected', count(*) FROM expected
UNION ALL SELECT 'rows_present', count(*) FROM actual
UNION ALL SELECT 'rows_lost', count(*) FROM (SELECT * FROM expected EXCEPT SELECT * FROM actual) s
UNION ALL SELECT 'rows_resurrected', count(*) FROM (SELECT * FROM actual EXCEPT SELECT * FROM expected) s;
-- findability: each of a sample of rows is its own nearest neighbour
SELECT 'hnsw_unfindable', count(*) FROM (SELECT id, v FROM soak_hnsw TABLESAMPLE BERNOULLI (10) REPEATABLE (1)) t
  WHERE NOT EXISTS (SELECT 1 FROM (SELECT id FROM soak_hnsw ORDER BY v <-> t.v LIMIT 5) n WHERE n.id = t.id);
SELECT 'ivf_unfindable', count(*) FROM (SELECT id, v FROM soak_ivf TABLESAMPLE BERNOULLI (10) REPEATABLE (1)) t
  WHERE NOT EXISTS (SELECT 1 FROM (SELECT id FROM soak_ivf ORDER BY v <-> t.v LIMIT 5) n WHERE n.id = t.id);
-- the graph's reachability (figures only; unfindable rows above are the check)
SELECT 'hnsw_unlinked', unlinked_elements FROM vsim.hnsw_index_reachability('soak_hnsw_v');
SELECT 'hnsw_unreachable', unreachable_elements FROM vsim.hnsw_index_reachability('soak_hnsw_v');
