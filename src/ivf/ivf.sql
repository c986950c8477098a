-- vsim install script: the ivfflat index access method (src/ivf/ivf.sql).

CREATE FUNCTION ivfflathandler(internal) RETURNS index_am_handler
	AS 'MODULE_PATHNAME' LANGUAGE C;
COMMENT ON FUNCTION ivfflathandler(internal) IS 'index access method handler of ivfflat';

CREATE ACCESS METHOD ivfflat TYPE INDEX HANDLER ivfflathandler;
COMMENT ON ACCESS METHOD ivfflat IS 'IVFFlat: inverted-file approximate nearest-neighbour index for vector';

CREATE OPERATOR CLASS vector_l2_ops
	DEFAULT FOR TYPE vector USING ivfflat AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_l2(internal);
COMMENT ON OPERATOR CLASS vector_l2_ops USING ivfflat IS 'ivfflat search by Euclidean distance (<->)';

CREATE OPERATOR CLASS vector_ip_ops
	FOR TYPE vector USING ivfflat AS
	OPERATOR 1 <#> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_ip(internal);
COMMENT ON OPERATOR CLASS vector_ip_ops USING ivfflat IS 'ivfflat search by negative inner product (<#>)';

CREATE OPERATOR CLASS vector_cosine_ops
	FOR TYPE vector USING ivfflat AS
	OPERATOR 1 <=> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_cosine(internal);
COMMENT ON OPERATOR CLASS vector_cosine_ops USING ivfflat IS 'ivfflat search by cosine distance (<=>); zero vectors are not indexed';

CREATE FUNCTION vsim.ivfflat_index_stats(index regclass,
	OUT lists integer, OUT requested_lists integer, OUT dims integer, OUT metric text,
	OUT rows bigint, OUT rows_at_build bigint,
	OUT min_list_rows bigint, OUT max_list_rows bigint, OUT mean_list_rows double precision,
	OUT imbalance double precision, OUT imbalance_at_build double precision,
	OUT empty_lists bigint, OUT list_pages bigint, OUT total_pages bigint,
	OUT quantization text, OUT bytes_per_vector integer, OUT param_pages integer,
	OUT filter_columns integer)
	AS 'MODULE_PATHNAME', 'ivfflat_index_stats' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vsim.ivfflat_index_stats(regclass) IS
	'shape of an ivfflat index: lists, rows per list (min, max, mean, imbalance factor, 1.0 = even) now and at build time, pages, quantization mode, bytes stored per vector, quantization parameter pages and filter columns; read from the live pages; allowed to roles with SELECT on the index''s table or the privileges of pg_stat_scan_tables';

-- bit (issue 10)
CREATE OPERATOR CLASS bit_hamming_ops
	FOR TYPE bit USING ivfflat AS
	OPERATOR 1 <~> (bit, bit) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_hamming(internal);
COMMENT ON OPERATOR CLASS bit_hamming_ops USING ivfflat IS 'ivfflat search of bit(n) by Hamming distance (<~>); centres are the lists'' bitwise majorities';

-- halfvec (issue 10)
CREATE OPERATOR CLASS halfvec_l2_ops
	DEFAULT FOR TYPE halfvec USING ivfflat AS
	OPERATOR 1 <-> (halfvec, halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_l2(internal);
COMMENT ON OPERATOR CLASS halfvec_l2_ops USING ivfflat IS 'ivfflat search of halfvec by Euclidean distance (<->)';
CREATE OPERATOR CLASS halfvec_ip_ops
	FOR TYPE halfvec USING ivfflat AS
	OPERATOR 1 <#> (halfvec, halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_ip(internal);
COMMENT ON OPERATOR CLASS halfvec_ip_ops USING ivfflat IS 'ivfflat search of halfvec by negative inner product (<#>)';
CREATE OPERATOR CLASS halfvec_cosine_ops
	FOR TYPE halfvec USING ivfflat AS
	OPERATOR 1 <=> (halfvec, halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_cosine(internal);
COMMENT ON OPERATOR CLASS halfvec_cosine_ops USING ivfflat IS 'ivfflat search of halfvec by cosine distance (<=>); zero vectors are not indexed';
