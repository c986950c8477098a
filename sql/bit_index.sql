-- hnsw and ivfflat indexes on bit(n) (issue 10): results equal exact search
SET client_min_messages = notice;
SET enable_seqscan = off;
CREATE TABLE bi (id int PRIMARY KEY, b bit(40));
-- 300 pseudo-random 40-bit strings (a multiplicative hash of id), one all zeros
INSERT INTO bi SELECT i, ((i::bigint * 2654435761) % 1099511627776)::bit(40)
  FROM generate_series(1, 300) i;
INSERT INTO bi VALUES (301, B'0000000000000000000000000000000000000000'), (302, NULL);
ANALYZE bi;

CREATE INDEX bi_ham ON bi USING hnsw (b bit_hamming_ops) WITH (m = 8, ef_construction = 64);
SET hnsw.ef_search = 400;
-- exact top 10 by Hamming distance, ties by id, against what the index returns
CREATE TEMP TABLE q AS SELECT ((77::bigint * 2654435761 + 12345) % 1099511627776)::bit(40) AS q;
EXPLAIN (COSTS OFF) SELECT id FROM bi ORDER BY b <~> (SELECT q FROM q) LIMIT 10;
WITH ix AS (SELECT id, b <~> (SELECT q FROM q) AS d FROM bi ORDER BY b <~> (SELECT q FROM q) LIMIT 10),
     ex AS (SELECT id, hamming_distance(b, (SELECT q FROM q)) AS d FROM bi WHERE b IS NOT NULL
            ORDER BY 2, 1 LIMIT 10)
SELECT (SELECT array_agg(d ORDER BY d) FROM ix) = (SELECT array_agg(d ORDER BY d) FROM ex) AS same_distances,
       (SELECT count(*) FROM ix) AS n;
-- every row comes back, nearest first, with its exact distance
SELECT count(*) AS rows, bool_and(d = hamming_distance(b, (SELECT q FROM q))) AS exact
  FROM (SELECT b, b <~> (SELECT q FROM q) AS d FROM bi ORDER BY b <~> (SELECT q FROM q) LIMIT 1000) s;
SELECT vsim.index_check('bi_ham', true);
SELECT elements, dimensions FROM vsim.hnsw_index_stats('bi_ham');

CREATE INDEX bi_jac ON bi USING hnsw (b bit_jaccard_ops);
WITH ix AS (SELECT id, b <%> (SELECT q FROM q) AS d FROM bi ORDER BY b <%> (SELECT q FROM q) LIMIT 10),
     ex AS (SELECT id, jaccard_distance(b, (SELECT q FROM q)) AS d FROM bi WHERE b IS NOT NULL
            ORDER BY 2, 1 LIMIT 10)
SELECT (SELECT array_agg(d ORDER BY d) FROM ix) = (SELECT array_agg(d ORDER BY d) FROM ex) AS same_distances;
-- the all-zero string is indexed under jaccard: distance 1 to everything
SELECT id, b <%> (SELECT q FROM q) AS d FROM bi WHERE id = 301;
SELECT count(*) FROM (SELECT id FROM bi ORDER BY b <%> (SELECT q FROM q) LIMIT 1000) s;
SELECT vsim.index_check('bi_jac', true);

-- inserts after the build, deletes and VACUUM
INSERT INTO bi SELECT i, ((i::bigint * 40503) % 1099511627776)::bit(40) FROM generate_series(303, 400) i;
DELETE FROM bi WHERE id % 3 = 0;
VACUUM bi;
SELECT vsim.index_check('bi_ham', true);
SELECT vsim.index_check('bi_jac', true);
WITH ix AS (SELECT id, b <~> (SELECT q FROM q) AS d FROM bi ORDER BY b <~> (SELECT q FROM q) LIMIT 10),
     ex AS (SELECT id, hamming_distance(b, (SELECT q FROM q)) AS d FROM bi WHERE b IS NOT NULL
            ORDER BY 2, 1 LIMIT 10)
SELECT (SELECT array_agg(d ORDER BY d) FROM ix) = (SELECT array_agg(d ORDER BY d) FROM ex) AS same_distances;
SELECT count(*) FROM (SELECT id FROM bi ORDER BY b <~> (SELECT q FROM q) LIMIT 1000) s;

-- ivfflat by Hamming distance: with every list probed, exact
CREATE INDEX bi_ivf ON bi USING ivfflat (b bit_hamming_ops) WITH (lists = 8);
DROP INDEX bi_ham, bi_jac;
SET ivfflat.probes = 8;
EXPLAIN (COSTS OFF) SELECT id FROM bi ORDER BY b <~> (SELECT q FROM q) LIMIT 10;
WITH ix AS (SELECT id, b <~> (SELECT q FROM q) AS d FROM bi ORDER BY b <~> (SELECT q FROM q) LIMIT 10),
     ex AS (SELECT id, hamming_distance(b, (SELECT q FROM q)) AS d FROM bi WHERE b IS NOT NULL
            ORDER BY 2, 1 LIMIT 10)
SELECT (SELECT array_agg(d ORDER BY d) FROM ix) = (SELECT array_agg(d ORDER BY d) FROM ex) AS same_distances;
SELECT count(*) AS rows, bool_and(d = hamming_distance(b, (SELECT q FROM q))) AS exact
  FROM (SELECT b, b <~> (SELECT q FROM q) AS d FROM bi ORDER BY b <~> (SELECT q FROM q) LIMIT 1000) s;
SELECT lists, dims, metric, rows FROM vsim.ivfflat_index_stats('bi_ivf');
INSERT INTO bi VALUES (500, B'1111111111111111111111111111111111111111');
SELECT id, b <~> B'1111111111111111111111111111111111111111' AS d FROM bi
  ORDER BY b <~> B'1111111111111111111111111111111111111111' LIMIT 1;
DELETE FROM bi WHERE id % 5 = 0;
VACUUM bi;
SELECT vsim.index_check('bi_ivf', true);
SELECT count(*) = (SELECT count(*) FROM bi WHERE b IS NOT NULL) AS all_rows
  FROM (SELECT id FROM bi ORDER BY b <~> (SELECT q FROM q) LIMIT 1000) s;
SELECT opcname, amvalidate(oid) FROM pg_opclass WHERE opcname LIKE 'bit\_%' AND opcmethod IN (SELECT oid FROM pg_am WHERE amname IN ('hnsw', 'ivfflat')) ORDER BY opcname, opcmethod;
SELECT id FROM bi ORDER BY b <~> B'10' LIMIT 1;
DROP INDEX bi_ivf;

-- long bit strings: hnsw elements of 8,000 bytes span pages
CREATE TABLE bbig (id int, b bit(64000));
INSERT INTO bbig SELECT i, repeat(((i::bigint * 2654435761) % 65536)::bit(16)::text, 4000)::bit(64000)
  FROM generate_series(1, 30) i;
CREATE INDEX bbig_ham ON bbig USING hnsw (b bit_hamming_ops);
SELECT id, b <~> (SELECT b FROM bbig WHERE id = 7) AS d FROM bbig
  ORDER BY b <~> (SELECT b FROM bbig WHERE id = 7) LIMIT 1;
SELECT vsim.index_check('bbig_ham', true);
CREATE INDEX ON bbig USING ivfflat (b bit_hamming_ops) WITH (lists = 2);
DROP TABLE bbig;
-- the limits: 512,000 bits in hnsw, 65,152 in ivfflat
CREATE TABLE bhuge (b bit(512001), c bit(65153), d bit(65152));
CREATE INDEX ON bhuge USING hnsw (b bit_hamming_ops);
CREATE INDEX ON bhuge USING ivfflat (c bit_hamming_ops);
INSERT INTO bhuge (d) SELECT repeat(B'10'::text, 32576)::bit(65152);
CREATE INDEX ON bhuge USING ivfflat (d bit_hamming_ops) WITH (lists = 1);
SELECT vsim.index_check('bhuge_d_idx', true);
DROP TABLE bhuge;

-- errors
SELECT id FROM bi ORDER BY b <~> B'101' LIMIT 1;
SELECT id FROM bi ORDER BY b <%> B'101' LIMIT 1;
INSERT INTO bi VALUES (1000, B'1');
CREATE TABLE bi_nolen (b bit varying(8));
CREATE INDEX ON bi_nolen USING hnsw (b bit_hamming_ops);
CREATE TABLE bi_vec (v vector(3));
CREATE INDEX ON bi_vec USING hnsw (v bit_hamming_ops);
CREATE INDEX ON bi USING hnsw (b vector_l2_ops);
CREATE INDEX ON bi USING ivfflat (b bit_jaccard_ops);
-- an operator class made by hand that pairs bit with a float metric
CREATE OPERATOR CLASS bit_l2_bad FOR TYPE bit USING hnsw AS
  OPERATOR 1 <~> (bit, bit) FOR ORDER BY float_ops, FUNCTION 1 vsim_metric_l2(internal);
CREATE INDEX ON bi USING hnsw (b bit_l2_bad);
DROP OPERATOR CLASS bit_l2_bad USING hnsw;
-- a type no element type covers
CREATE TABLE bi_int (x int4);
CREATE OPERATOR CLASS int_bad FOR TYPE int4 USING hnsw AS
  OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops, FUNCTION 1 vsim_metric_l2(internal);
CREATE INDEX ON bi_int USING hnsw (x int_bad);
DROP OPERATOR CLASS int_bad USING hnsw;
DROP TABLE bi_nolen, bi_vec, bi_int;
DROP TABLE bi;
