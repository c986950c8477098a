-- text input and output
SELECT '[1,2,3]'::vector;
SELECT ' [ 1.5 , -2e-3 ,3 ] '::vector;
SELECT '[0.1]'::vector, '[1e-45]'::vector, '[3.4028235e38]'::vector;
-- a value too small for float4 reads as its rounding, zero (pgvector 0.8)
SELECT '[1e-46,-1e-46,1e-50]'::vector, vector_send('[1e-46,-1e-46]'::vector);
SELECT '[1,2,3]'::vector(3);
-- malformed text
SELECT '[1,,2]'::vector;
SELECT '[1,2'::vector;
SELECT '1,2]'::vector;
SELECT '[a]'::vector;
SELECT '[]'::vector;
SELECT '[1,2] x'::vector;
SELECT '[1 2]'::vector;
SELECT '[1,2,]'::vector;
SELECT ''::vector;
-- non-finite values
SELECT '[NaN]'::vector;
SELECT '[1,Infinity]'::vector;
SELECT '[-inf]'::vector;
SELECT '[1e39]'::vector;
-- dimension limits and type modifiers
SELECT array_fill(0, ARRAY[16000])::vector IS NOT NULL AS max_dims_ok;
SELECT array_fill(0, ARRAY[16001])::vector;
SELECT '[1,2]'::vector(3);
SELECT '[1,2]'::vector(0);
SELECT '[1,2]'::vector(16001);
SELECT '[1,2]'::vector(2, 3);
CREATE TABLE t_typmod (v vector(3));
INSERT INTO t_typmod VALUES ('[1,2,3]');
INSERT INTO t_typmod VALUES ('[1,2]');
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 't_typmod'::regclass AND attname = 'v';
DROP TABLE t_typmod;
-- output is the shortest text that reads back to the same float4
SELECT '[0.1,0.2,0.3,1e-7,123456.79,-0,3.1415927]'::vector;
SELECT v::text::vector = v AS text_round_trip
FROM (SELECT '[0.1,1.0000001,3.4028235e38,1.1754944e-38,-7.006492e-45]'::vector AS v) s;
-- binary form: int16 dim, int16 reserved, float4 elements, network order
SELECT vector_send('[1,-2.5,3]');
-- text and binary COPY both round-trip exactly
\getenv abs_builddir PG_ABS_BUILDDIR
\set binfile :abs_builddir '/results/vector_io.bin'
\set txtfile :abs_builddir '/results/vector_io.txt'
CREATE TABLE t_copy (id int, v vector);
INSERT INTO t_copy SELECT i, array_fill(i * 0.1, ARRAY[i])::vector FROM generate_series(1, 40) i;
INSERT INTO t_copy VALUES (41, NULL);
COPY t_copy TO :'binfile' WITH (FORMAT binary);
COPY t_copy TO :'txtfile';
CREATE TABLE t_copy_bin (LIKE t_copy);
CREATE TABLE t_copy_txt (LIKE t_copy);
COPY t_copy_bin FROM :'binfile' WITH (FORMAT binary);
COPY t_copy_txt FROM :'txtfile';
SELECT count(*) AS rows, count(*) FILTER (WHERE a.v IS NOT DISTINCT FROM b.v AND a.v IS NOT DISTINCT FROM c.v) AS equal
FROM t_copy a JOIN t_copy_bin b USING (id) JOIN t_copy_txt c USING (id);
DROP TABLE t_copy, t_copy_bin, t_copy_txt;
-- random strings over the input alphabet: every one is either rejected with
-- an error or accepted and round-trips through text exactly (and none crash)
SELECT setseed(0.42);
DO $$
DECLARE
  alphabet text := '[],.0123456789eE+- naifINF';
  s text; v vector; accepted int := 0; rejected int := 0;
BEGIN
  FOR i IN 1..20000 LOOP
    s := '[' || (SELECT string_agg(substr(alphabet, 1 + floor(random() * length(alphabet))::int, 1), '')
                 FROM generate_series(1, 1 + (random() * 12)::int) WHERE i > 0);
    IF random() < 0.7 THEN s := s || ']'; END IF;
    BEGIN
      v := s::vector;
      IF v::text::vector <> v THEN RAISE EXCEPTION 'round trip failed for %', s; END IF;
      accepted := accepted + 1;
    EXCEPTION WHEN data_exception OR invalid_text_representation
                   OR numeric_value_out_of_range OR program_limit_exceeded THEN
      rejected := rejected + 1;
    END;
  END LOOP;
  RAISE NOTICE 'accepted: %, rejected: %', accepted > 100, rejected > 1000;
END $$;
