-- hnsw quantization option (issue 9): 'none' is the default and today's
-- format; the codec modes are not built for hnsw yet and raise 0A000 at
-- CREATE INDEX and REINDEX, type errors first (as ivfflat's).
SET client_min_messages = notice;
CREATE TABLE hq (id int PRIMARY KEY, v vector(8), s sparsevec(8), b bit(64));
INSERT INTO hq SELECT i, ARRAY(SELECT sin(i * j * 0.37) FROM generate_series(1, 8) j)::vector(8),
  ARRAY(SELECT CASE WHEN (i + j) % 3 = 0 THEN j ELSE 0 END FROM generate_series(1, 8) j)::vector(8)::sparsevec(8),
  (i * 2654435761)::bit(64)
  FROM generate_series(1, 200) i;

-- the option's errors, with their messages, then their SQLSTATEs
CREATE INDEX ON hq USING hnsw (v vector_l2_ops) WITH (quantization = 'pq');
CREATE INDEX ON hq USING hnsw (v vector_l2_ops) WITH (quantization = '');
CREATE INDEX ON hq USING hnsw (v vector_l2_ops) WITH (quantization = 'sq8');
CREATE INDEX ON hq USING hnsw (v vector_cosine_ops) WITH (quantization = 'rabitq');
CREATE INDEX ON hq USING hnsw (b bit_hamming_ops) WITH (quantization = 'sq8');
CREATE INDEX ON hq USING hnsw (s sparsevec_l2_ops) WITH (quantization = 'sq8');
\set VERBOSITY sqlstate
CREATE INDEX ON hq USING hnsw (v vector_l2_ops) WITH (quantization = 'pq');
CREATE INDEX ON hq USING hnsw (v vector_l2_ops) WITH (quantization = 'sq8');
CREATE INDEX ON hq USING hnsw (v vector_cosine_ops) WITH (quantization = 'rabitq');
CREATE INDEX ON hq USING hnsw (b bit_hamming_ops) WITH (quantization = 'rabitq');
CREATE INDEX ON hq USING hnsw (s sparsevec_l2_ops) WITH (quantization = 'sq8');
\set VERBOSITY default
-- an empty table refuses as well (the build of an empty index)
CREATE TABLE hq_empty (v vector(8));
CREATE INDEX ON hq_empty USING hnsw (v vector_l2_ops) WITH (quantization = 'sq8');
DROP TABLE hq_empty;

-- 'none', in any case, builds the unquantized index and answers exactly
SET hnsw.level_seed = 1;
CREATE INDEX hq_none ON hq USING hnsw (v vector_l2_ops) WITH (quantization = 'NONE');
SELECT reloptions FROM pg_class WHERE relname = 'hq_none';
SET enable_seqscan = off;
SET hnsw.ef_search = 200;
SELECT array_agg(id) = (SELECT array_agg(id) FROM (SELECT id FROM hq ORDER BY v <-> (SELECT v FROM hq WHERE id = 7), id LIMIT 10) e) AS exact_top10
  FROM (SELECT id FROM hq ORDER BY v <-> (SELECT v FROM hq WHERE id = 7) LIMIT 10) i;
-- the same levels as an index without the option: the same size
SET hnsw.level_seed = 1;
CREATE INDEX hq_plain ON hq USING hnsw (v vector_l2_ops);
SELECT pg_relation_size('hq_none') = pg_relation_size('hq_plain') AS same_size;
-- ALTER INDEX to a codec mode is refused at the next REINDEX, not silently used
ALTER INDEX hq_plain SET (quantization = 'sq8');
REINDEX INDEX hq_plain;
ALTER INDEX hq_plain SET (quantization = 'rabit');
ALTER INDEX hq_plain RESET (quantization);
REINDEX INDEX hq_plain;
SELECT vsim.index_check('hq_plain', true);
-- stats: the mode comes from the format (none), not from the option; a
-- vector(8) element stores 32 bytes, a bit(64) one 8, sparsevec varies
SELECT quantization, bytes_per_vector, dimensions FROM vsim.hnsw_index_stats('hq_none');
ALTER INDEX hq_none SET (quantization = 'sq8');
SELECT quantization, bytes_per_vector FROM vsim.hnsw_index_stats('hq_none');
CREATE INDEX hq_bit ON hq USING hnsw (b bit_hamming_ops);
SELECT quantization, bytes_per_vector, dimensions FROM vsim.hnsw_index_stats('hq_bit');
CREATE INDEX hq_sparse ON hq USING hnsw (s sparsevec_l2_ops);
SELECT quantization, bytes_per_vector IS NULL AS varies FROM vsim.hnsw_index_stats('hq_sparse');
RESET enable_seqscan;
RESET hnsw.ef_search;
RESET hnsw.level_seed;
DROP TABLE hq;
