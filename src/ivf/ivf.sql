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

-- Filter columns (issue 14): key columns after the vector, tested on each
-- list item before its distance (src/index/index_filter.c).  Btree strategy
-- numbers; the integer types share one family with the cross-type
-- operators, so that smallint_col = 5 (an int2 = int4 operator) is an index
-- condition.
CREATE OPERATOR FAMILY integer_ops USING ivfflat;
COMMENT ON OPERATOR FAMILY integer_ops USING ivfflat IS 'ivfflat filter columns of smallint, integer and bigint: =, <, <=, >, >=, = ANY, across the three types';
CREATE OPERATOR CLASS int2_ops
	DEFAULT FOR TYPE int2 USING ivfflat FAMILY integer_ops AS
	OPERATOR 1 <,
	OPERATOR 2 <=,
	OPERATOR 3 =,
	OPERATOR 4 >=,
	OPERATOR 5 >;
COMMENT ON OPERATOR CLASS int2_ops USING ivfflat IS 'ivfflat filter column of type smallint: =, <, <=, >, >=, = ANY';
CREATE OPERATOR CLASS int4_ops
	DEFAULT FOR TYPE int4 USING ivfflat FAMILY integer_ops AS
	OPERATOR 1 <,
	OPERATOR 2 <=,
	OPERATOR 3 =,
	OPERATOR 4 >=,
	OPERATOR 5 >;
COMMENT ON OPERATOR CLASS int4_ops USING ivfflat IS 'ivfflat filter column of type integer: =, <, <=, >, >=, = ANY';
CREATE OPERATOR CLASS int8_ops
	DEFAULT FOR TYPE int8 USING ivfflat FAMILY integer_ops AS
	OPERATOR 1 <,
	OPERATOR 2 <=,
	OPERATOR 3 =,
	OPERATOR 4 >=,
	OPERATOR 5 >;
COMMENT ON OPERATOR CLASS int8_ops USING ivfflat IS 'ivfflat filter column of type bigint: =, <, <=, >, >=, = ANY';
ALTER OPERATOR FAMILY integer_ops USING ivfflat ADD
	OPERATOR 1 < (int2, int4),
	OPERATOR 2 <= (int2, int4),
	OPERATOR 3 = (int2, int4),
	OPERATOR 4 >= (int2, int4),
	OPERATOR 5 > (int2, int4),
	OPERATOR 1 < (int2, int8),
	OPERATOR 2 <= (int2, int8),
	OPERATOR 3 = (int2, int8),
	OPERATOR 4 >= (int2, int8),
	OPERATOR 5 > (int2, int8),
	OPERATOR 1 < (int4, int2),
	OPERATOR 2 <= (int4, int2),
	OPERATOR 3 = (int4, int2),
	OPERATOR 4 >= (int4, int2),
	OPERATOR 5 > (int4, int2),
	OPERATOR 1 < (int4, int8),
	OPERATOR 2 <= (int4, int8),
	OPERATOR 3 = (int4, int8),
	OPERATOR 4 >= (int4, int8),
	OPERATOR 5 > (int4, int8),
	OPERATOR 1 < (int8, int2),
	OPERATOR 2 <= (int8, int2),
	OPERATOR 3 = (int8, int2),
	OPERATOR 4 >= (int8, int2),
	OPERATOR 5 > (int8, int2),
	OPERATOR 1 < (int8, int4),
	OPERATOR 2 <= (int8, int4),
	OPERATOR 3 = (int8, int4),
	OPERATOR 4 >= (int8, int4),
	OPERATOR 5 > (int8, int4);
CREATE OPERATOR CLASS bool_ops
	DEFAULT FOR TYPE bool USING ivfflat AS
	OPERATOR 1 <,
	OPERATOR 2 <=,
	OPERATOR 3 =,
	OPERATOR 4 >=,
	OPERATOR 5 >;
COMMENT ON OPERATOR CLASS bool_ops USING ivfflat IS 'ivfflat filter column of type boolean: =, <, <=, >, >=, = ANY';
CREATE OPERATOR CLASS date_ops
	DEFAULT FOR TYPE date USING ivfflat AS
	OPERATOR 1 <,
	OPERATOR 2 <=,
	OPERATOR 3 =,
	OPERATOR 4 >=,
	OPERATOR 5 >;
COMMENT ON OPERATOR CLASS date_ops USING ivfflat IS 'ivfflat filter column of type date: =, <, <=, >, >=, = ANY';
CREATE OPERATOR CLASS timestamptz_ops
	DEFAULT FOR TYPE timestamptz USING ivfflat AS
	OPERATOR 1 <,
	OPERATOR 2 <=,
	OPERATOR 3 =,
	OPERATOR 4 >=,
	OPERATOR 5 >;
COMMENT ON OPERATOR CLASS timestamptz_ops USING ivfflat IS 'ivfflat filter column of type timestamp with time zone: =, <, <=, >, >=, = ANY';
CREATE OPERATOR CLASS text_ops
	DEFAULT FOR TYPE text USING ivfflat AS
	OPERATOR 3 =;
COMMENT ON OPERATOR CLASS text_ops USING ivfflat IS 'ivfflat filter column of type text or varchar: = and = ANY, on 64-bit hashes of the strings (lossy, rechecked); deterministic collations only';
CREATE OPERATOR CLASS array_ops
	DEFAULT FOR TYPE anyarray USING ivfflat AS
	OPERATOR 1 && (anyarray, anyarray),
	OPERATOR 2 @> (anyarray, anyarray),
	OPERATOR 3 <@ (anyarray, anyarray);
COMMENT ON OPERATOR CLASS array_ops USING ivfflat IS 'ivfflat filter column of type integer[], bigint[] or text[] (labels, tags): &&, @> and <@, on 64-bit Bloom signatures of the elements (lossy, rechecked)';
