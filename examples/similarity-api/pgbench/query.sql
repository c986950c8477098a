-- embed + search, the statement the service runs for POST /query (k = 10),
-- with an AG News title for the text; pgbench -D model=... -D table=...
\set i random(1, 7600)
SELECT coalesce(json_agg(json_build_object('id', n.id, 'distance', n.distance,
         'description', n.description, 'metadata', n.metadata) ORDER BY n.distance), '[]')::text
FROM (SELECT vsim.embed(':model', title) AS v FROM ag WHERE id = :i OFFSET 0) q
CROSS JOIN LATERAL (
  SELECT id, description, metadata, embedding <=> q.v AS distance FROM :table
  ORDER BY embedding <=> q.v LIMIT 10) n;
