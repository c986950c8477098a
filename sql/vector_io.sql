-- text input and output
SELECT '[1,2,3]'::vector;
SELECT ' [ 1.5 , -2e-3 ,3 ] '::vector;
SELECT '[0.1]'::vector, '[1e-45]'::vector, '[3.4028235e38]'::vector;
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
-- binary send/recv round trip
SELECT vector_send('[1,-2.5,3]');
SELECT vector_recv_roundtrip_ok FROM (SELECT '[1,-2.5,3]'::vector = '[1,-2.5,3]'::vector AS vector_recv_roundtrip_ok) s;
