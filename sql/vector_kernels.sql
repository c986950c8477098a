-- Every kernel set against a double-precision reference, on lengths 1..70
-- (covering every tail length of 8- and 16-lane registers).
CREATE TABLE t_kern AS
SELECT n, array_agg(sin(n * 7 + i) * 10 ORDER BY i)::float8[] AS a,
          array_agg(cos(n * 3 + i * 1.7) * 10 ORDER BY i)::float8[] AS b
FROM generate_series(1, 70) n, generate_series(1, n) i GROUP BY n;
-- references computed from the float4 values, in float8; float accumulation
-- error is bounded relative to the sum of the terms' magnitudes (ip_abs), as
-- an inner product can cancel to near zero
CREATE TABLE t_ref AS
SELECT n, a::vector AS va, b::vector AS vb,
       sqrt(sum((x::real::float8 - y::real::float8) ^ 2)) AS l2,
       sum(x::real::float8 * y::real::float8) AS ip,
       sum(abs(x::real::float8 * y::real::float8)) AS ip_abs,
       sum(abs(x::real::float8 - y::real::float8)) AS l1,
       1 - sum(x::real::float8 * y::real::float8)
           / sqrt(sum(x::real::float8 ^ 2) * sum(y::real::float8 ^ 2)) AS cos
FROM t_kern, unnest(a, b) u(x, y) GROUP BY n, a, b;
CREATE FUNCTION kernel_errors() RETURNS TABLE (metric text, max_rel_error_below_1e5 bool, checked bigint)
LANGUAGE sql AS $$
  SELECT 'l2', max(abs((va <-> vb) - l2) / (1 + abs(l2))) < 1e-5, count(*) FROM t_ref
  UNION ALL SELECT 'ip', max(abs(inner_product(va, vb) - ip) / (1 + ip_abs)) < 1e-6, count(*) FROM t_ref
  UNION ALL SELECT 'l1', max(abs((va <+> vb) - l1) / (1 + abs(l1))) < 1e-5, count(*) FROM t_ref
  UNION ALL SELECT 'cosine', max(abs((va <=> vb) - cos)) < 1e-5, count(*) FROM t_ref
$$;
-- every kernel set returns the same bits as the portable one (one
-- canonical summation order, vector.h)
SET vsim.distance_kernel = portable;
CREATE TABLE t_bits AS
SELECT n, va <-> vb AS b_l2, inner_product(va, vb) AS b_ip, va <+> vb AS b_l1, va <=> vb AS b_cos
FROM t_ref;
CREATE FUNCTION kernel_differences() RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM t_ref JOIN t_bits USING (n)
  WHERE (va <-> vb) <> b_l2 OR inner_product(va, vb) <> b_ip OR (va <+> vb) <> b_l1
     OR (va <=> vb) <> b_cos
$$;
SHOW vsim.distance_kernel;
SELECT * FROM kernel_errors();
SET vsim.distance_kernel = avx2;
SHOW vsim.distance_kernel;
SELECT * FROM kernel_errors();
SELECT kernel_differences() AS differing_from_portable;
SET vsim.distance_kernel = avx512;
SHOW vsim.distance_kernel;
SELECT * FROM kernel_errors();
SELECT kernel_differences() AS differing_from_portable;
SET vsim.distance_kernel = sse9;
RESET vsim.distance_kernel;
SELECT current_setting('vsim.distance_kernel') LIKE 'auto (%)' AS auto_names_its_choice;
DROP FUNCTION kernel_errors(), kernel_differences();
DROP TABLE t_kern, t_ref, t_bits;
-- only superusers choose the kernels: the low bits of distances, which are
-- IMMUTABLE, depend on them
CREATE ROLE vsim_kernel_user;
SET ROLE vsim_kernel_user;
SET vsim.distance_kernel = portable;
RESET ROLE;
DROP ROLE vsim_kernel_user;
