-- insert one row into each table, with its ledger entries
BEGIN;
WITH r AS (INSERT INTO soak_hnsw VALUES (nextval('soak_ids'), soak_vector()) RETURNING id)
  INSERT INTO soak_ledger SELECT 'soak_hnsw', id, true FROM r;
WITH r AS (INSERT INTO soak_ivf VALUES (nextval('soak_ids'), soak_vector()) RETURNING id)
  INSERT INTO soak_ledger SELECT 'soak_ivf', id, true FROM r;
COMMIT;
