-- The halfvec kernels of every kernel set against a double-precision
-- reference, on lengths 1..70 (every tail length of 8- and 16-lane
-- registers), and bit for bit against the portable set and against the
-- float kernels on the widened values.
CREATE TABLE t_hkern AS
SELECT n, array_agg(sin(n * 7 + i) * 10 ORDER BY i)::float8[]::halfvec AS ha,
          array_agg(cos(n * 3 + i * 1.7) * 10 ORDER BY i)::float8[]::halfvec AS hb
FROM generate_series(1, 70) n, generate_series(1, n) i GROUP BY n;
-- references from the half values (exact in float8); float accumulation
-- error is bounded relative to the sum of the terms' magnitudes (ip_abs)
CREATE TABLE t_href AS
SELECT n, ha, hb,
       sqrt(sum((x - y) ^ 2)) AS l2,
       sum(x * y) AS ip,
       sum(abs(x * y)) AS ip_abs,
       sum(abs(x - y)) AS l1,
       1 - sum(x * y) / sqrt(sum(x ^ 2) * sum(y ^ 2)) AS cos
FROM t_hkern, unnest(ha::real[]::float8[], hb::real[]::float8[]) u(x, y) GROUP BY n, ha, hb;
CREATE FUNCTION hkernel_errors() RETURNS TABLE (metric text, max_rel_error_below_1e5 bool, checked bigint)
LANGUAGE sql AS $$
  SELECT 'l2', max(abs((ha <-> hb) - l2) / (1 + abs(l2))) < 1e-5, count(*) FROM t_href
  UNION ALL SELECT 'ip', max(abs(inner_product(ha, hb) - ip) / (1 + ip_abs)) < 1e-6, count(*) FROM t_href
  UNION ALL SELECT 'l1', max(abs((ha <+> hb) - l1) / (1 + abs(l1))) < 1e-5, count(*) FROM t_href
  UNION ALL SELECT 'cosine', max(abs((ha <=> hb) - cos)) < 1e-5, count(*) FROM t_href
$$;
-- pairs whose halfvec distances differ from those of the widened vectors
CREATE FUNCTION hkernel_vs_vector() RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM t_href
  WHERE (ha <-> hb) <> (ha::vector <-> hb::vector) OR inner_product(ha, hb) <> inner_product(ha::vector, hb::vector)
     OR (ha <+> hb) <> (ha::vector <+> hb::vector) OR (ha <=> hb) <> (ha::vector <=> hb::vector)
$$;
SET vsim.distance_kernel = portable;
CREATE TABLE t_hbits AS
SELECT n, ha <-> hb AS b_l2, inner_product(ha, hb) AS b_ip, ha <+> hb AS b_l1, ha <=> hb AS b_cos
FROM t_href;
CREATE FUNCTION hkernel_differences() RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM t_href JOIN t_hbits USING (n)
  WHERE (ha <-> hb) <> b_l2 OR inner_product(ha, hb) <> b_ip OR (ha <+> hb) <> b_l1
     OR (ha <=> hb) <> b_cos
$$;
SHOW vsim.distance_kernel;
SELECT * FROM hkernel_errors();
SELECT hkernel_vs_vector() AS differing_from_vector;
SET vsim.distance_kernel = avx2;
SHOW vsim.distance_kernel;
SELECT * FROM hkernel_errors();
SELECT hkernel_differences() AS differing_from_portable, hkernel_vs_vector() AS differing_from_vector;
SET vsim.distance_kernel = avx512;
SHOW vsim.distance_kernel;
SELECT * FROM hkernel_errors();
SELECT hkernel_differences() AS differing_from_portable, hkernel_vs_vector() AS differing_from_vector;
RESET vsim.distance_kernel;
DROP FUNCTION hkernel_errors(), hkernel_differences(), hkernel_vs_vector();
DROP TABLE t_hkern, t_href, t_hbits;
