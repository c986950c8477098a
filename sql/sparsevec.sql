-- sparsevec: text and binary forms, typmod, limits, casts, distances
-- against a dense reference, norm, normalisation, order; every error with
-- its SQLSTATE.
\set VERBOSITY sqlstate
SELECT '{1:1.5,3:2}/5'::sparsevec, '{}/1'::sparsevec, ' { 3 : 2 , 1 : 1.5 } / 5 '::sparsevec;
-- zeros dropped, unsorted input sorted, shortest exact floats
SELECT '{1:0,2:1,3:-0}/3'::sparsevec, '{5:1,2:2,4:-3}/5'::sparsevec,
       '{1:0.1,2:1.0000001,3:3.4028235e38,4:-1e-45}/4'::sparsevec;
-- text round trip of extreme values
SELECT s::text::sparsevec = s AS round_trip
FROM (SELECT '{1:0.1,2:1.0000001,3:3.4028235e38,4:1.1754944e-38,5:-7.006492e-45}/1000000000'::sparsevec AS s) t;
-- typmod
SELECT '{1:1}/3'::sparsevec(3);
CREATE TABLE t_sv (id int, s sparsevec(4));
INSERT INTO t_sv VALUES (1, '{1:1,4:2}/4');
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 't_sv'::regclass AND attname = 's';
-- errors: syntax (22P02)
\set VERBOSITY default
SELECT ''::sparsevec;
SELECT '{1:1}'::sparsevec;
SELECT '{1:1}/'::sparsevec;
SELECT '{1:1}/3x'::sparsevec;
SELECT '{1:1,}/3'::sparsevec;
SELECT '{,}/3'::sparsevec;
SELECT '{1}/3'::sparsevec;
SELECT '{1:}/3'::sparsevec;
SELECT '{:1}/3'::sparsevec;
SELECT '{1a:1}/3'::sparsevec;
SELECT '{1:1a}/3'::sparsevec;
SELECT '{1:1 2:2}/3'::sparsevec;
\set VERBOSITY sqlstate
-- errors: values (22000 NaN, 22003 infinity and out of range)
SELECT '{1:NaN}/3'::sparsevec;
SELECT '{1:Infinity}/3'::sparsevec;
SELECT '{1:-inf}/3'::sparsevec;
SELECT '{1:4e38}/3'::sparsevec;
\set VERBOSITY default
-- a value too small for float4 reads as 0 (pgvector 0.8) and is dropped
SELECT '{1:1e-46,2:-1e-46,3:1e-40}/3'::sparsevec;
-- errors: indices and dimensions (22000, 54000)
SELECT '{0:1}/3'::sparsevec;
SELECT '{4:1}/3'::sparsevec;
SELECT '{4:0}/3'::sparsevec;
SELECT '{-9223372036854775809:1}/3'::sparsevec;
SELECT '{2:1,2:3}/3'::sparsevec;
SELECT '{}/0'::sparsevec;
SELECT '{}/-1'::sparsevec;
SELECT '{}/1000000001'::sparsevec;
SELECT '{}/99999999999999999999'::sparsevec;
SELECT '{1:1}/3'::sparsevec(2);
SELECT '{1:1}/3'::sparsevec(3, 2);
SELECT '{1:1}/3'::sparsevec(0);
SELECT '{1:1}/3'::sparsevec(1000000001);
INSERT INTO t_sv VALUES (2, '{1:1}/5');
\set VERBOSITY sqlstate
SELECT '{1:1}/3'::sparsevec(2);
SELECT '{2:1,2:3}/3'::sparsevec;
SELECT '{}/1000000001'::sparsevec;
SELECT '{0:1}/3'::sparsevec;
-- at most 16000 non-zero elements (54000)
SELECT l2_norm(('{' || string_agg(i || ':1', ',') || '}/20000')::sparsevec)
FROM generate_series(1, 16000) i;
SELECT ('{' || string_agg(i || ':1', ',') || '}/20000')::sparsevec
FROM generate_series(1, 16001) i;
SELECT array_fill(1, ARRAY[16001])::sparsevec;

-- binary form: int32 dim, int32 nnz, int32 0, int32 0-based indices, float4 values
SELECT sparsevec_send('{1:1.5,3:-2}/5');
SELECT sparsevec_send('{}/1000000000');
-- round trips through send/recv (COPY BINARY exercises recv)
CREATE TABLE t_bin (s sparsevec);
INSERT INTO t_bin VALUES ('{1:1.5,3:-2}/5'), ('{}/7'), ('{1000000000:3.4028235e38,1:-1e-45}/1000000000');
SELECT current_setting('data_directory') || '/vsim_sparsevec.bin' AS binfile \gset
COPY t_bin TO :'binfile' WITH (FORMAT binary);
CREATE TABLE t_bin2 (s sparsevec);
COPY t_bin2 FROM :'binfile' WITH (FORMAT binary);
SELECT s FROM t_bin2 ORDER BY l2_norm(s);
SELECT count(*) FROM t_bin JOIN t_bin2 USING (s);

-- casts: vector <-> sparsevec (vector to sparsevec is implicit), arrays
SELECT '[1,0,-2,0]'::vector::sparsevec, '{1:1,3:-2}/4'::sparsevec::vector,
       '{1:1,3:-2}/4'::sparsevec::vector(4), '[0,0]'::vector::sparsevec;
SELECT '[1,0,3]'::vector::sparsevec(3), '[1,2]'::vector <-> '{1:1}/2'::sparsevec;
SELECT ARRAY[1,0,3]::sparsevec, ARRAY[1.5,0,3]::real[]::sparsevec,
       ARRAY[0,2.5]::float8[]::sparsevec, ARRAY[0.5,0]::numeric[]::sparsevec(2);
CREATE TABLE t_cast (s sparsevec, v vector);
INSERT INTO t_cast VALUES (ARRAY[1,0,2], '{2:5}/3'::sparsevec);
SELECT * FROM t_cast;
SELECT '[1,2,3]'::vector::sparsevec(2);
SELECT '{20000:1}/20000'::sparsevec::vector;
SELECT ARRAY[1,NULL]::sparsevec;
SELECT ARRAY[[1,2],[3,4]]::sparsevec;
SELECT ARRAY[]::int[]::sparsevec;
SELECT ARRAY['NaN']::real[]::sparsevec;
SELECT ARRAY[1e300]::float8[]::sparsevec;

-- distances: equal to the dense vector's, by a merge over the indices
CREATE TABLE t_d AS
SELECT i, ('{' || string_agg(j || ':' || round(sin(i * 31 + j)::numeric, 3), ',') || '}/40')::sparsevec AS s
FROM generate_series(1, 12) i, generate_series(1, 40) j
WHERE (i * j) % 5 IN (0, i % 5) GROUP BY i;
INSERT INTO t_d VALUES (13, '{}/40'), (14, '{40:2}/40');
-- (relative to 1 + the dense value: the dense kernels sum in float)
SELECT count(*) AS pairs,
       max(abs((a.s <-> b.s) - (a.s::vector <-> b.s::vector)) / (1 + (a.s::vector <-> b.s::vector))) < 1e-6 AS l2,
       max(abs(sparsevec_l2_squared_distance(a.s, b.s) - vector_l2_squared_distance(a.s::vector, b.s::vector))
           / (1 + vector_l2_squared_distance(a.s::vector, b.s::vector))) < 1e-6 AS l2sq,
       max(abs(inner_product(a.s, b.s) - inner_product(a.s::vector, b.s::vector))) < 1e-5 AS ip,
       bool_and((a.s <#> b.s) = -inner_product(a.s, b.s)) AS neg_ip,
       max(abs((a.s <=> b.s) - (a.s::vector <=> b.s::vector))) < 1e-6 AS cos,
       max(abs((a.s <+> b.s) - (a.s::vector <+> b.s::vector)) / (1 + (a.s::vector <+> b.s::vector))) < 1e-6 AS l1,
       max(abs(l2_norm(a.s) - vector_norm(a.s::vector))) < 1e-6 AS norm
FROM t_d a, t_d b;
-- against a float8 computation over the dense arrays: the merge sums in double
SELECT max(abs((a.s <+> b.s) - (SELECT sum(abs(x::float8 - y::float8))
                                FROM unnest(a.s::vector::real[], b.s::vector::real[]) u(x, y)))) < 1e-12 AS l1_exact,
       max(abs(sparsevec_l2_squared_distance(a.s, b.s) - (SELECT sum((x::float8 - y::float8) ^ 2)
                                FROM unnest(a.s::vector::real[], b.s::vector::real[]) u(x, y)))) < 1e-12 AS l2sq_exact
FROM t_d a, t_d b;
SELECT '{1:3,2:4}/3'::sparsevec <-> '{3:1}/3', '{1:3,2:4}/3'::sparsevec <#> '{2:2,3:1}/3',
       '{1:3,2:4}/3'::sparsevec <=> '{1:-3,2:-4}/3', '{1:3,2:4}/3'::sparsevec <+> '{2:-1,3:1}/3',
       '{}/3'::sparsevec <=> '{1:1}/3' AS zero_cos, inner_product('{1:2}/3'::sparsevec, '{2:2}/3');
SELECT inner_product('{1:2}/3', '{2:2}/3');
SELECT '{1:1}/3'::sparsevec <-> '{1:1}/4';
SELECT inner_product('{1:1}/3'::sparsevec, '{1:1}/4');
-- operators commute
SELECT bool_and((a.s <-> b.s) = (b.s <-> a.s) AND (a.s <=> b.s) = (b.s <=> a.s)
                AND (a.s <#> b.s) = (b.s <#> a.s) AND (a.s <+> b.s) = (b.s <+> a.s))
FROM t_d a, t_d b;

-- norm and normalisation
SELECT l2_norm('{1:3,5:4}/5'::sparsevec), l2_norm('{}/5'::sparsevec),
       l2_normalize('{1:3,5:4}/5'::sparsevec), l2_normalize('{}/5'::sparsevec);
-- an element that underflows is dropped, never stored as zero
SELECT l2_normalize('{1:1e-45,2:1e38,3:-1e-45}/3'::sparsevec) AS s,
       sparsevec_send(l2_normalize('{1:1e-45,2:1e38,3:-1e-45}/3'::sparsevec)) AS b;
SELECT max(abs(l2_norm(l2_normalize(s)) - 1)) < 1e-6 FROM t_d WHERE l2_norm(s) > 0;

-- order: that of the dense vectors, then fewer dimensions first
SELECT s FROM (VALUES ('{2:1}/3'::sparsevec), ('{1:1}/3'), ('{1:-1}/3'), ('{}/3'), ('{}/2'),
  ('{1:1}/2'), ('{3:-1}/3'), ('{1:1,2:1}/3')) v(s) ORDER BY s;
SELECT bool_and(sparsevec_cmp(a.s, b.s) = vector_cmp(a.s::vector, b.s::vector))
FROM t_d a, t_d b;
SELECT '{1:1}/3'::sparsevec = '{1:1}/3', '{1:1}/3'::sparsevec = '{1:1}/4',
       '{1:1}/3'::sparsevec <> '{1:2}/3', '{1:1}/3'::sparsevec < '{1:2}/3',
       '{1:1}/3'::sparsevec <= '{1:1}/3', '{1:2}/3'::sparsevec > '{1:1}/3', '{}/3'::sparsevec >= '{}/3';
CREATE INDEX ON t_d (s);
SET enable_seqscan = off;
SELECT i FROM t_d WHERE s = (SELECT s FROM t_d WHERE i = 14);
RESET enable_seqscan;
-- catalog: every object commented
SELECT p.oid::regprocedure FROM pg_proc p
WHERE (pg_get_function_identity_arguments(p.oid) LIKE '%sparsevec%' OR p.prorettype = 'sparsevec'::regtype)
  AND obj_description(p.oid, 'pg_proc') IS NULL;
DROP TABLE t_sv, t_bin, t_bin2, t_cast, t_d;
