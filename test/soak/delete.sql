-- delete about one random row from each table, with its ledger entries
SELECT last_value AS maxid FROM soak_ids \gset
\set id random(1, :maxid)
BEGIN;
WITH r AS (DELETE FROM soak_hnsw WHERE id = (SELECT id FROM soak_hnsw WHERE id >= :id ORDER BY id LIMIT 1) RETURNING id)
  INSERT INTO soak_ledger SELECT 'soak_hnsw', id, false FROM r;
WITH r AS (DELETE FROM soak_ivf WHERE id = (SELECT id FROM soak_ivf WHERE id >= :id ORDER BY id LIMIT 1) RETURNING id)
  INSERT INTO soak_ledger SELECT 'soak_ivf', id, false FROM r;
COMMIT;
