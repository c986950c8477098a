-- The SQLSTATE of every vector error, one per line.
\set VERBOSITY sqlstate
-- 22P02 invalid_text_representation
SELECT '[1,,2]'::vector;
SELECT '[1,2'::vector;
SELECT '1,2]'::vector;
SELECT '[a]'::vector;
SELECT '[1,2] x'::vector;
-- 22000 data_exception: empty vector, NaN, wrong dimensions
SELECT '[]'::vector;
SELECT '[NaN]'::vector;
SELECT '[1,2]'::vector(3);
SELECT '[1,2]'::vector <-> '[1,2,3]';
SELECT avg(v) FROM (VALUES ('[1,2]'::vector), ('[1,2,3]')) t(v);
SELECT subvector('[1,2,3]'::vector, 4, 1);
-- 22003 numeric_value_out_of_range: infinities and overflow
SELECT '[Infinity]'::vector;
SELECT '[1e39]'::vector;
SELECT '[3e38]'::vector + '[3e38]';
SELECT sum(v) FROM (VALUES ('[3e38]'::vector), ('[3e38]')) t(v);
SELECT ARRAY[1e300]::float8[]::vector;
-- 54000 program_limit_exceeded
SELECT array_fill(0, ARRAY[16001])::vector;
SELECT array_fill(1, ARRAY[16000])::vector || '[1]';
-- 22023 invalid_parameter_value: type modifiers
SELECT '[1]'::vector(0);
SELECT '[1]'::vector(16001);
SELECT '[1]'::vector(1, 2);
-- arrays: 2202E array_subscript_error, 22004 null_value_not_allowed
SELECT ARRAY[[1,2],[3,4]]::vector;
SELECT ARRAY[1,NULL]::vector;
-- 22011 substring_error
SELECT subvector('[1,2,3]'::vector, 1, -1);
