-- halfvec: text and binary forms, rounding, typmod, limits, casts,
-- distances against the vector of the widened values and a float8
-- reference, arithmetic, order, aggregates; every error with its SQLSTATE.
SELECT '[1,2,3]'::halfvec, ' [ 1.5 , -2e-3 ,3 ] '::halfvec;
-- rounding to nearest binary16 (ties to even), printed as the float4 value
SELECT '[0.1,1.0004883,1.0014648,2049,2051,-0.33333]'::halfvec;
-- extremes: largest finite, smallest normal and subnormal, their negatives
SELECT '[65504,-65504,6.1035156e-05,5.9604645e-08,-5.9604645e-08]'::halfvec;
-- below half the smallest subnormal rounds to (signed) zero, as does float4
-- underflow; exactly half of it is a tie and goes to even (zero)
SELECT '[2.9802322e-08,-2.9802322e-08,2.9802326e-08,1e-46,-1e-46]'::halfvec;
SELECT halfvec_send('[2.9802322e-08,-2.9802322e-08,2.9802326e-08,1e-46,-1e-46]'::halfvec);
-- binary form: int16 dim, int16 0, big-endian binary16
SELECT halfvec_send('[1,-2,0.5,65504,-0]'::halfvec);
-- text round trip of every finite half exactly
SELECT count(*) AS halves, count(*) FILTER (WHERE h::text::halfvec = h) AS round_trip
FROM (SELECT ('[' || x || ']')::halfvec AS h
      FROM (SELECT ((CASE WHEN s THEN -1 ELSE 1 END) * m * 2.0 ^ e)::float4 AS x
            FROM generate_series(0, 2047) m, generate_series(-24, 5) e, (VALUES (true), (false)) v(s)
            WHERE m * 2.0 ^ e <= 65504) t) u;
-- typmod
SELECT '[1,2,3]'::halfvec(3);
CREATE TABLE t_hv (id int, h halfvec(3));
INSERT INTO t_hv VALUES (1, '[1,2,3]'), (2, '[0.5,-1,2]'), (3, '[1,2,3.001]'), (4, '[-1,0,0]');
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 't_hv'::regclass AND attname = 'h';
SELECT id, h FROM t_hv ORDER BY id;
-- errors: syntax (22P02), with vector's messages naming halfvec
SELECT ''::halfvec;
SELECT '[1,,2]'::halfvec;
SELECT '[1,2'::halfvec;
SELECT '1,2]'::halfvec;
SELECT '[1,2]x'::halfvec;
SELECT '[1 2]'::halfvec;
SELECT '[a]'::halfvec;
-- errors: values, dimensions and typmod
SELECT '[]'::halfvec;
SELECT '[65505]'::halfvec;
SELECT '[-70000]'::halfvec;
SELECT '[1e39]'::halfvec;
SELECT '[NaN]'::halfvec;
SELECT '[Infinity]'::halfvec;
SELECT '[-inf]'::halfvec;
SELECT '[1,2]'::halfvec(3);
SELECT '[1,2]'::halfvec(3, 2);
SELECT '[1]'::halfvec(0);
SELECT '[1]'::halfvec(16001);
INSERT INTO t_hv VALUES (5, '[1,2]');
SELECT vector_dims(array_fill(1, ARRAY[16000])::halfvec);
\set VERBOSITY sqlstate
SELECT ''::halfvec;
SELECT '[1,2'::halfvec;
SELECT '[]'::halfvec;
SELECT '[65505]'::halfvec;
SELECT '[1e39]'::halfvec;
SELECT '[NaN]'::halfvec;
SELECT '[Infinity]'::halfvec;
SELECT '[1,2]'::halfvec(3);
SELECT '[1]'::halfvec(0);
SELECT '[1]'::halfvec(16001);
SELECT ('[' || array_to_string(array_fill(1, ARRAY[16001]), ',') || ']')::halfvec;
SELECT array_fill(1, ARRAY[16001])::halfvec;
\set VERBOSITY default
-- distances: the vector distance of the widened values, bit for bit
SELECT '[1,2,3]'::halfvec <-> '[4,5,6]'::halfvec AS l2,
       l2_distance('[1,2,3]'::halfvec, '[4,5,6]'::halfvec) AS l2_fn,
       halfvec_l2_squared_distance('[1,2,3]'::halfvec, '[4,5,6]'::halfvec) AS l2_squared,
       '[1,2,3]'::halfvec <#> '[4,5,6]'::halfvec AS neg_ip,
       halfvec_negative_inner_product('[1,2,3]'::halfvec, '[4,5,6]'::halfvec) AS neg_ip_fn,
       inner_product('[1,2,3]'::halfvec, '[4,5,6]'::halfvec) AS ip,
       '[1,2,3]'::halfvec <=> '[4,5,6]'::halfvec AS cos,
       cosine_distance('[1,2,3]'::halfvec, '[4,5,6]'::halfvec) AS cos_fn,
       '[1,2,3]'::halfvec <+> '[4,5,6]'::halfvec AS l1,
       l1_distance('[1,2,3]'::halfvec, '[4,5,6]'::halfvec) AS l1_fn;
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE a <-> b = a::vector <-> b::vector
                          AND a <#> b = a::vector <#> b::vector
                          AND a <=> b = a::vector <=> b::vector
                          AND a <+> b = a::vector <+> b::vector
                          AND halfvec_l2_squared_distance(a, b) = vector_l2_squared_distance(a::vector, b::vector)) AS same_as_vector
FROM (SELECT array_agg(sin(n * 3 + i) * 100 ORDER BY i)::halfvec AS a,
             array_agg(cos(n + i * 2) * 0.01 ORDER BY i)::halfvec AS b
      FROM generate_series(1, 40) n, generate_series(1, n * 7) i GROUP BY n) t;
-- cosine of a zero vector is 1; of opposite vectors 2; commutators
SELECT '[0,0]'::halfvec <=> '[1,2]'::halfvec AS zero, '[1,2]'::halfvec <=> '[-1,-2]'::halfvec AS opposite,
       '[1,2]'::halfvec <=> '[2,4]'::halfvec AS same_direction;
SELECT oprname, oprcom::regoperator FROM pg_operator
WHERE oprleft = 'halfvec'::regtype AND oprname IN ('<->', '<#>', '<=>', '<+>') ORDER BY oprname;
-- the largest magnitudes: float lanes do not overflow
SELECT array_fill(65504, ARRAY[16000])::halfvec <-> array_fill(-65504, ARRAY[16000])::halfvec AS l2_max,
       inner_product(array_fill(65504, ARRAY[16000])::halfvec, array_fill(65504, ARRAY[16000])::halfvec) AS ip_max;
-- distance errors: dimensions (22000)
SELECT '[1,2]'::halfvec <-> '[1,2,3]'::halfvec;
SELECT '[1,2]'::halfvec <#> '[1,2,3]'::halfvec;
SELECT '[1,2]'::halfvec <=> '[1,2,3]'::halfvec;
SELECT '[1,2]'::halfvec <+> '[1,2,3]'::halfvec;
SELECT inner_product('[1,2]'::halfvec, '[1,2,3]'::halfvec);
SELECT halfvec_l2_squared_distance('[1,2]'::halfvec, '[1,2,3]'::halfvec);
-- distances on out-of-line (TOASTed) values, through the argument cache
CREATE TABLE t_hv_toast (id int, h halfvec);
ALTER TABLE t_hv_toast ALTER h SET STORAGE EXTERNAL;
INSERT INTO t_hv_toast SELECT i, array_fill(i::float8 / 8, ARRAY[4000])::halfvec FROM generate_series(1, 4) i;
SELECT a.id, b.id, round((a.h <-> b.h)::numeric, 3) AS l2,
       (a.h <-> b.h) = (a.h::vector <-> b.h::vector) AS same_as_vector
FROM t_hv_toast a, LATERAL (SELECT * FROM t_hv_toast b ORDER BY a.h <-> b.h, b.id LIMIT 2) b
ORDER BY a.id, b.id;
-- functions
SELECT vector_dims('[1,2,3]'::halfvec), l2_norm('[3,4]'::halfvec), l2_norm('[65504,65504]'::halfvec),
       l2_normalize('[3,4]'::halfvec), l2_normalize('[0,0]'::halfvec),
       l2_normalize('[5.9604645e-08,0]'::halfvec) AS tiny;
SELECT subvector('[1,2,3,4,5]'::halfvec, 2, 3), subvector('[1,2,3,4,5]'::halfvec, 4, 10),
       subvector('[1,2,3,4,5]'::halfvec, -1, 3);
SELECT subvector('[1,2,3]'::halfvec, 4, 1);
SELECT subvector('[1,2,3]'::halfvec, 1, -1);
SELECT binary_quantize('[1,-1,0,2,-0,5.9604645e-08,-5.9604645e-08,3,4]'::halfvec),
       binary_quantize('[1,0,1]'::halfvec) <~> binary_quantize('[1,1,0]'::halfvec),
       binary_quantize(array_fill(1, ARRAY[16000])::halfvec) = binary_quantize(array_fill(1, ARRAY[16000])::vector) AS as_vector;
-- arithmetic: in float, rounded to half; overflow is 22003
SELECT '[1,2,3]'::halfvec + '[0.5,0.25,-3]'::halfvec AS add,
       '[1,2,3]'::halfvec - '[0.5,0.25,-3]'::halfvec AS sub,
       '[1,2,3]'::halfvec * '[0.5,0.25,-3]'::halfvec AS mul,
       '[1,2]'::halfvec || '[3]'::halfvec AS concat,
       '[2048]'::halfvec + '[1]'::halfvec AS rounded,
       '[1e-4]'::halfvec * '[1e-4]'::halfvec AS underflow;
SELECT '[60000]'::halfvec + '[10000]'::halfvec;
SELECT '[-60000]'::halfvec - '[10000]'::halfvec;
SELECT '[1,300]'::halfvec * '[1,300]'::halfvec;
SELECT '[1,2]'::halfvec + '[1,2,3]'::halfvec;
SELECT '[1,2]'::halfvec - '[1,2,3]'::halfvec;
SELECT '[1,2]'::halfvec * '[1,2,3]'::halfvec;
SELECT array_fill(1, ARRAY[8000])::halfvec || array_fill(1, ARRAY[8001])::halfvec;
\set VERBOSITY sqlstate
SELECT '[60000]'::halfvec + '[10000]'::halfvec;
SELECT '[1,2]'::halfvec + '[1,2,3]'::halfvec;
SELECT '[1,2]'::halfvec <-> '[1,2,3]'::halfvec;
SELECT subvector('[1,2,3]'::halfvec, 4, 1);
SELECT subvector('[1,2,3]'::halfvec, 1, -1);
SELECT array_fill(1, ARRAY[8000])::halfvec || array_fill(1, ARRAY[8001])::halfvec;
\set VERBOSITY default
-- order: element by element, then fewer dimensions first; -0 = 0
SELECT '[1,2]'::halfvec < '[1,3]'::halfvec AS lt, '[1,2]'::halfvec <= '[1,2]'::halfvec AS le,
       '[1,2]'::halfvec = '[1,2]'::halfvec AS eq, '[0]'::halfvec = '[-0]'::halfvec AS zeros_eq,
       '[1,2]'::halfvec <> '[1,2,0]'::halfvec AS ne, '[1,2,0]'::halfvec > '[1,2]'::halfvec AS gt,
       '[2]'::halfvec >= '[1,5]'::halfvec AS ge, halfvec_cmp('[1]', '[2]') AS cmp_lt,
       halfvec_cmp('[2]', '[1]') AS cmp_gt, halfvec_cmp('[0.1]', '[0.1]') AS cmp_eq;
-- two inputs rounding to the same half are equal
SELECT '[1.0001]'::halfvec = '[1]'::halfvec AS rounded_equal;
CREATE INDEX t_hv_btree ON t_hv (h);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM t_hv WHERE h = '[1,2,3]';
SELECT id FROM t_hv WHERE h = '[1,2,3]' ORDER BY id;
SELECT id, h FROM t_hv ORDER BY h, id;
RESET enable_seqscan;
SELECT opcname, opcdefault FROM pg_opclass WHERE opcintype = 'halfvec'::regtype ORDER BY 1;
-- aggregates (parallel-safe, sharing vector_combine)
SELECT avg(h), sum(h) FROM t_hv;
SELECT avg(h) IS NULL AS empty_avg, sum(h) IS NULL AS empty_sum FROM t_hv WHERE false;
SELECT avg(h) FROM (VALUES ('[65504]'::halfvec), ('[65504]')) t(h);
SELECT sum(h) FROM (VALUES ('[65504]'::halfvec), ('[65504]')) t(h);
SELECT avg(h) FROM (VALUES ('[1,2]'::halfvec), ('[1,2,3]')) t(h);
SELECT halfvec_avg('{1,NaN}');
SELECT halfvec_avg('{1,1e39}');
\set VERBOSITY sqlstate
SELECT sum(h) FROM (VALUES ('[65504]'::halfvec), ('[65504]')) t(h);
SELECT avg(h) FROM (VALUES ('[1,2]'::halfvec), ('[1,2,3]')) t(h);
SELECT halfvec_avg('{1,NaN}');
\set VERBOSITY default
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
CREATE TABLE t_hv_agg AS SELECT array_fill((i % 7)::float8, ARRAY[3])::halfvec AS h FROM generate_series(1, 3000) i;
ANALYZE t_hv_agg;
EXPLAIN (COSTS OFF) SELECT avg(h) FROM t_hv_agg;
-- sums in double: 8998 and 2.9993333, each rounded to half once
SELECT avg(h), sum(h) FROM t_hv_agg;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
-- casts: vector <-> halfvec
SELECT '[1,0.1,-65504]'::vector::halfvec, '[0.1]'::halfvec::vector, '[1,2]'::vector::halfvec(2);
SELECT '[65505]'::vector::halfvec;
SELECT '[1e38]'::vector::halfvec;
SELECT '[1,2]'::vector::halfvec(3);
SELECT '[1,2]'::halfvec::vector(3);
\set VERBOSITY sqlstate
SELECT '[65505]'::vector::halfvec;
SELECT '[1,2]'::vector::halfvec(3);
\set VERBOSITY default
-- assignment and implicit casts
CREATE TABLE t_hv_cast (h halfvec, v vector);
INSERT INTO t_hv_cast VALUES ('[1,2]'::vector, '[3,4]'::halfvec);
INSERT INTO t_hv_cast (h) VALUES (ARRAY[1,2]), (ARRAY[1.5,2]::real[]), (ARRAY[0.1,2]::float8[]), (ARRAY[0.1,2]::numeric[]);
SELECT * FROM t_hv_cast;
SELECT castsource::regtype, casttarget::regtype, castcontext FROM pg_cast
WHERE castsource = 'halfvec'::regtype OR casttarget = 'halfvec'::regtype ORDER BY 1::text, 2::text;
-- casts: arrays -> halfvec, halfvec -> real[]
SELECT ARRAY[1,2,3]::halfvec, ARRAY[1.5,-2]::real[]::halfvec, ARRAY[0.1,65504]::float8[]::halfvec,
       ARRAY[0.1,-3]::numeric[]::halfvec, ARRAY[1e-46]::float8[]::halfvec;
SELECT '[0.1,2,-65504]'::halfvec::real[], ('[0.1,2]'::halfvec::real[])[1] = 0.099975586::real AS exact;
SELECT ARRAY[1,2]::halfvec(3);
SELECT ARRAY[[1,2],[3,4]]::halfvec;
SELECT ARRAY[1,NULL]::halfvec;
SELECT '{}'::real[]::halfvec;
SELECT ARRAY[65505]::halfvec;
SELECT ARRAY[70000]::real[]::halfvec;
SELECT ARRAY[1e300]::float8[]::halfvec;
SELECT ARRAY[1e39]::numeric[]::halfvec;
SELECT ARRAY['NaN']::real[]::halfvec;
SELECT ARRAY['-Infinity']::float8[]::halfvec;
SELECT array_fill(1, ARRAY[16001])::halfvec;
\set VERBOSITY sqlstate
SELECT ARRAY[1,2]::halfvec(3);
SELECT ARRAY[[1,2],[3,4]]::halfvec;
SELECT ARRAY[1,NULL]::halfvec;
SELECT '{}'::real[]::halfvec;
SELECT ARRAY[65505]::halfvec;
SELECT ARRAY[1e300]::float8[]::halfvec;
SELECT ARRAY['NaN']::real[]::halfvec;
SELECT ARRAY['-Infinity']::float8[]::halfvec;
\set VERBOSITY default
-- casts: halfvec <-> sparsevec
SELECT '[1,0,-0,2.5]'::halfvec::sparsevec, '{2:0.1,4:-3}/4'::sparsevec::halfvec,
       '[0.1,0,3]'::halfvec::sparsevec::halfvec = '[0.1,0,3]'::halfvec AS round_trip;
SELECT '{1:70000}/3'::sparsevec::halfvec;
SELECT '{1:1}/16001'::sparsevec::halfvec;
SELECT '[1,2]'::halfvec::sparsevec(3);
SELECT '{1:1}/2'::sparsevec::halfvec(3);
\set VERBOSITY sqlstate
SELECT '{1:70000}/3'::sparsevec::halfvec;
SELECT '{1:1}/16001'::sparsevec::halfvec;
SELECT '[1,2]'::halfvec::sparsevec(3);
\set VERBOSITY default
-- binary input (halfvec_recv) through COPY BINARY round trip
CREATE TABLE t_hv_bin (h halfvec);
INSERT INTO t_hv_bin VALUES ('[1,-2,0.1]'), ('[65504,-65504,5.9604645e-08,-0]'), (array_fill(0.5, ARRAY[16000])::halfvec);
SELECT current_setting('data_directory') || '/vsim_halfvec.bin' AS binfile \gset
COPY t_hv_bin TO :'binfile' WITH (FORMAT binary);
CREATE TABLE t_hv_bin2 (h halfvec);
COPY t_hv_bin2 FROM :'binfile' WITH (FORMAT binary);
SELECT count(*) AS rows, count(*) FILTER (WHERE halfvec_send(a.h) = halfvec_send(b.h)) AS same_bytes
FROM t_hv_bin a JOIN t_hv_bin2 b ON a.h = b.h;
-- an operator class of another type is refused (indexes of halfvec:
-- sql/halfvec_index.sql); an expression index on the cast to vector works
CREATE TABLE t_hv_idx (h halfvec(3));
CREATE INDEX ON t_hv_idx USING hnsw (h vector_l2_ops);
CREATE INDEX t_hv_idx_expr ON t_hv_idx USING hnsw ((h::vector(3)) vector_l2_ops);
INSERT INTO t_hv_idx SELECT array_fill(i / 2.0, ARRAY[3])::halfvec FROM generate_series(1, 100) i;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT h FROM t_hv_idx ORDER BY h::vector(3) <-> '[5.2,5.2,5.2]' LIMIT 2;
SELECT h FROM t_hv_idx ORDER BY h::vector(3) <-> '[5.2,5.2,5.2]' LIMIT 2;
RESET enable_seqscan;
DROP TABLE t_hv_idx;
-- every function and operator on halfvec has a comment
SELECT p.oid::regprocedure FROM pg_proc p
WHERE (p.proargtypes::oid[] && ARRAY['halfvec'::regtype::oid] OR p.prorettype = 'halfvec'::regtype)
  AND obj_description(p.oid, 'pg_proc') IS NULL;
SELECT o.oid::regoperator FROM pg_operator o
WHERE (o.oprleft = 'halfvec'::regtype OR o.oprright = 'halfvec'::regtype)
  AND obj_description(o.oid, 'pg_operator') IS NULL;
DROP TABLE t_hv, t_hv_toast, t_hv_agg, t_hv_cast, t_hv_bin, t_hv_bin2;
