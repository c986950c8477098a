-- embed + insert, the statement the service runs for POST /insert, with the
-- text the load test inserts (one item's title, another's description)
\set i random(1, 7600)
\set j random(1, 7600)
INSERT INTO :table (id, description, metadata, embedding)
SELECT 'pgbench-' || nextval('pgbench_ids'), t, '{"source": "pgbench"}', vsim.embed(':model', t)
FROM (SELECT a.title || '. ' || b.description AS t FROM ag a, ag b WHERE a.id = :i AND b.id = :j) s;
