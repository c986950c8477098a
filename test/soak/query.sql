-- one top-10 search through each index (the query vector in a scalar
-- subquery: computed once, a parameter of the index scan)
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM soak_hnsw ORDER BY v <-> (SELECT soak_vector()) LIMIT 10) s;
SELECT count(*) FROM (SELECT id FROM soak_ivf ORDER BY v <-> (SELECT soak_vector()) LIMIT 10) s;
