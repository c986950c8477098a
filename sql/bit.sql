-- bit: Hamming and Jaccard distances on PostgreSQL's bit(n), their
-- kernels against a reference built from bit_count(), binary_quantize.
SELECT B'111' <~> B'111', B'111' <~> B'110', B'111' <~> B'000', hamming_distance(B'10101', B'01010');
SELECT B'1111' <%> B'1111', B'1111' <%> B'1110', B'1100' <%> B'1000', B'1111' <%> B'0000',
       jaccard_distance(B'0000', B'0000') AS both_zero, jaccard_distance(B'1010', B'0101');
SELECT B'' <~> B'', B'' <%> B'';
-- varbit arguments work through PostgreSQL's implicit cast
SELECT '1011'::varbit <~> '0011'::varbit;
-- different lengths: 22000
SELECT B'111' <~> B'11';
SELECT jaccard_distance(B'1111', B'000');
\set VERBOSITY sqlstate
SELECT hamming_distance(B'1', B'10');
SELECT B'1' <%> B'10';
\set VERBOSITY default

-- binary_quantize: 1 for positive elements, first element the high bit
SELECT binary_quantize('[1,-1,0,2,3,4,5,6,7,-1e-45,1e-45]'::vector);
SELECT binary_quantize('[-1]'::vector), binary_quantize('[0.5]'::vector), length(binary_quantize(array_fill(1, ARRAY[16000])::vector));
SELECT binary_quantize('[1,0,1]'::vector) <~> binary_quantize('[1,1,0]'::vector);

-- every kernel set (portable, POPCNT, VPOPCNTDQ: whichever this CPU runs)
-- against bit_count() of xor / and / or, on lengths 0..300 bits (every
-- tail of 8- and 64-byte blocks)
CREATE TABLE t_bits AS
SELECT n, (SELECT coalesce(string_agg(CASE WHEN sin(n * 13 + i * 7) > 0.2 THEN '1' ELSE '0' END, '' ORDER BY i), '')
           FROM generate_series(1, n) i)::varbit AS a,
          (SELECT coalesce(string_agg(CASE WHEN cos(n * 5 + i * 3) > -0.3 THEN '1' ELSE '0' END, '' ORDER BY i), '')
           FROM generate_series(1, n) i)::varbit AS b
FROM generate_series(0, 300) n;
INSERT INTO t_bits SELECT 1000 + n, repeat('1', n)::varbit, repeat('1', n)::varbit FROM generate_series(0, 130) n;
CREATE FUNCTION bit_kernel_mismatches() RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM t_bits
  WHERE (a <~> b) <> bit_count(a # b)
     OR (a <%> b) <> CASE WHEN bit_count(a | b) = 0 THEN 1
                          ELSE 1 - bit_count(a & b)::float8 / bit_count(a | b) END
$$;
DO $$
DECLARE
  k text;
  checked int := 0;
BEGIN
  FOREACH k IN ARRAY ARRAY['portable', 'avx2', 'avx512'] LOOP
    BEGIN
      PERFORM set_config('vsim.distance_kernel', k, true);
    EXCEPTION WHEN invalid_parameter_value THEN
      CONTINUE;				-- this CPU lacks the set
    END;
    IF bit_kernel_mismatches() <> 0 THEN
      RAISE EXCEPTION 'kernel set % disagrees with bit_count() on % rows', k, bit_kernel_mismatches();
    END IF;
    checked := checked + 1;
  END LOOP;
  RAISE NOTICE 'kernel sets agreeing with bit_count(): at least portable: %', checked >= 1;
END $$;
RESET vsim.distance_kernel;
SELECT count(*), bit_kernel_mismatches() FROM t_bits;
-- binary_quantize against a SQL reference
SELECT bool_and(binary_quantize(v)::text = (SELECT string_agg(CASE WHEN x > 0 THEN '1' ELSE '0' END, '' ORDER BY o)
                                      FROM unnest(v::real[]) WITH ORDINALITY u(x, o)))
FROM (SELECT array_agg(sin(n * 3 + i) ORDER BY i)::vector AS v
      FROM generate_series(1, 70) n, generate_series(1, n) i GROUP BY n) t;
-- catalog: every object commented
SELECT p.oid::regprocedure FROM pg_proc p
WHERE p.proname IN ('hamming_distance', 'jaccard_distance', 'binary_quantize')
  AND obj_description(p.oid, 'pg_proc') IS NULL;
SELECT o.oid::regoperator FROM pg_operator o
WHERE o.oprname IN ('<~>', '<%>') AND obj_description(o.oid, 'pg_operator') IS NULL;
DROP TABLE t_bits;
DROP FUNCTION bit_kernel_mismatches();
