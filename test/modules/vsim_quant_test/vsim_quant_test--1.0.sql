/* test/modules/vsim_quant_test/vsim_quant_test--1.0.sql */
\echo Use "CREATE EXTENSION vsim_quant_test" to load this file. \quit

CREATE FUNCTION quant_kernels_agree() RETURNS text
AS 'MODULE_PATHNAME' LANGUAGE C STRICT;
COMMENT ON FUNCTION quant_kernels_agree() IS
'compare every quantization kernel set this CPU runs with the portable one (lengths 1..70 and 784, extremes up to 16,000); returns the sets compared, raises on any difference';

CREATE FUNCTION quant_kernels_current() RETURNS text
AS 'MODULE_PATHNAME' LANGUAGE C STRICT;
COMMENT ON FUNCTION quant_kernels_current() IS
'name of the quantization kernel set quant_kernels() picks under the current vsim.distance_kernel';

CREATE FUNCTION quant_sq8_roundtrip(train_sql text, data_sql text,
	OUT in_range_ratio float8, OUT out_of_range_ratio float8, OUT n_out_of_range bigint)
AS 'MODULE_PATHNAME' LANGUAGE C STRICT;
COMMENT ON FUNCTION quant_sq8_roundtrip(text, text) IS
'sq8 trained on the vectors of train_sql, applied to those of data_sql: max |x - decode(encode(x))| / (step / 2) over elements inside the trained range, and max |clamp(x) - decode(encode(x))| / (step / 2) outside it';

CREATE FUNCTION quant_rotation_check(dim int, seed bigint) RETURNS float8
AS 'MODULE_PATHNAME' LANGUAGE C STRICT;
COMMENT ON FUNCTION quant_rotation_check(int, bigint) IS
'max relative error of norms and inner products after the RaBitQ rotation of random vectors; raises unless the rotation is reproducible from its seed and differs between seeds';

CREATE FUNCTION quant_eval(codec text, metric text, base_sql text, query_sql text,
	k int, rerank int,
	OUT recall float8, OUT mean_err float8, OUT p99_err float8,
	OUT mean_signed_err float8, OUT mean_abs_err float8, OUT in_bound float8,
	OUT in_bound_3 float8)
AS 'MODULE_PATHNAME' LANGUAGE C STRICT;
COMMENT ON FUNCTION quant_eval(text, text, text, text, int, int) IS
'codec sq8 or rabitq under metric l2, ip, cosine or l1 on the vectors of base_sql (also the training sample; rabitq: one centroid, their mean) for the queries of query_sql: recall@k of the top k * rerank by codec distance re-ranked exactly, the mean and 99th percentile of the relative distance error, the mean signed and mean absolute distance error, and (rabitq) the share of exact distances inside estimate +/- bound at eps0 = 1.9 and scaled to eps0 = 3; codec sq8pv is the per-vector min/max alternative to sq8, measured with exact distances to its decoded vectors';

CREATE FUNCTION quant_bench(dim int, n int, reps int,
	OUT kernels text, OUT codec text, OUT metric text,
	OUT ns_per_distance float8, OUT bytes_per_vector int)
RETURNS SETOF record
AS 'MODULE_PATHNAME' LANGUAGE C STRICT;
COMMENT ON FUNCTION quant_bench(int, int, int) IS
'ns per distance of float32, sq8 and rabitq over n random stored vectors of dim dimensions, reps passes, for every kernel set this CPU runs';

CREATE FUNCTION quant_rabitq_bias(metric text, base_sql text, query_sql text, nseeds int,
	code_queries boolean DEFAULT false,
	OUT mean_signed_err float8, OUT stderr float8, OUT mean_abs_err float8)
AS 'MODULE_PATHNAME' LANGUAGE C STRICT;
COMMENT ON FUNCTION quant_rabitq_bias(text, text, text, int, boolean) IS
'RaBitQ signed distance error over every (query, base) pair under nseeds independent rotations (centroid: the origin): its mean, the standard error of that mean (from the per-rotation means) and the mean absolute error; with code_queries the queries are encoded too and prepared from their codes (rabitq_prepare_code), as an hnsw insert compares two stored elements';
