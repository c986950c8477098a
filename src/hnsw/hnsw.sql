-- HNSW index access method ------------------------------------------------------

CREATE FUNCTION hnswhandler(internal) RETURNS index_am_handler
	AS 'MODULE_PATHNAME' LANGUAGE C;
COMMENT ON FUNCTION hnswhandler(internal) IS 'handler of the hnsw index access method';

CREATE ACCESS METHOD hnsw TYPE INDEX HANDLER hnswhandler;
COMMENT ON ACCESS METHOD hnsw IS 'hierarchical navigable small world graph for approximate nearest-neighbour search';

CREATE OPERATOR CLASS vector_l2_ops
	FOR TYPE vector USING hnsw AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_l2(internal);
CREATE OPERATOR CLASS vector_ip_ops
	FOR TYPE vector USING hnsw AS
	OPERATOR 1 <#> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_ip(internal);
CREATE OPERATOR CLASS vector_cosine_ops
	FOR TYPE vector USING hnsw AS
	OPERATOR 1 <=> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_cosine(internal);
CREATE OPERATOR CLASS vector_l1_ops
	FOR TYPE vector USING hnsw AS
	OPERATOR 1 <+> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_l1(internal);

CREATE FUNCTION vsim.hnsw_index_stats(index regclass,
	OUT elements bigint, OUT dead_elements bigint, OUT free_slots bigint, OUT heap_tids bigint,
	OUT levels integer, OUT entry_point text, OUT entry_level integer,
	OUT pages bigint, OUT avg_level0_neighbours double precision,
	OUT m integer, OUT ef_construction integer, OUT dimensions integer,
	OUT quantization text, OUT bytes_per_vector integer,
	OUT filter_columns integer, OUT filter_dir_pages bigint, OUT filter_dir_entries bigint)
	AS 'MODULE_PATHNAME', 'hnsw_index_stats' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vsim.hnsw_index_stats(regclass) IS
	'statistics of an hnsw index: elements, dead elements, free slots, heap TIDs, levels, entry point (block,offset) and level, pages, average level-0 neighbours, m, ef_construction, dimensions, quantization mode, bytes stored per vector (NULL for sparsevec), filter columns, and the filter directory''s pages and entries (NULL without one); read from the live pages; allowed to roles with SELECT on the index''s table or the privileges of pg_stat_scan_tables';

CREATE FUNCTION vsim.hnsw_index_reachability(index regclass,
	OUT live_elements bigint, OUT unlinked_elements bigint, OUT unreachable_elements bigint)
	AS 'MODULE_PATHNAME', 'hnsw_index_reachability' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vsim.hnsw_index_reachability(regclass) IS
	'reachability in an hnsw index''s graph: live elements, live elements no live element''s level-0 neighbour list names (but the entry point), live elements a search from the entry point cannot reach; not damage (vsim.index_check does not report them); reads every element; allowed to roles with SELECT on the index''s table or the privileges of pg_stat_scan_tables';
CREATE FUNCTION vsim.hnsw_index_unreachable(index regclass) RETURNS tid[]
	AS 'MODULE_PATHNAME', 'hnsw_index_unreachable' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vsim.hnsw_index_unreachable(regclass) IS
	'heap TIDs of the live elements of an hnsw index that a search from the entry point cannot reach (the unreachable_elements of vsim.hnsw_index_reachability): no index scan returns these rows; includes rows not visible to you (aborted, or deleted and not yet vacuumed), so join with the table; same privileges as vsim.hnsw_index_reachability';

-- bit (issue 10)
CREATE OPERATOR CLASS bit_hamming_ops
	FOR TYPE bit USING hnsw AS
	OPERATOR 1 <~> (bit, bit) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_hamming(internal);
COMMENT ON OPERATOR CLASS bit_hamming_ops USING hnsw IS 'hnsw search of bit(n) by Hamming distance (<~>)';
CREATE OPERATOR CLASS bit_jaccard_ops
	FOR TYPE bit USING hnsw AS
	OPERATOR 1 <%> (bit, bit) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_jaccard(internal);
COMMENT ON OPERATOR CLASS bit_jaccard_ops USING hnsw IS 'hnsw search of bit(n) by Jaccard distance (<%>)';

-- halfvec (issue 10)
CREATE OPERATOR CLASS halfvec_l2_ops
	FOR TYPE halfvec USING hnsw AS
	OPERATOR 1 <-> (halfvec, halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_l2(internal);
COMMENT ON OPERATOR CLASS halfvec_l2_ops USING hnsw IS 'hnsw search of halfvec by Euclidean distance (<->)';
CREATE OPERATOR CLASS halfvec_ip_ops
	FOR TYPE halfvec USING hnsw AS
	OPERATOR 1 <#> (halfvec, halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_ip(internal);
COMMENT ON OPERATOR CLASS halfvec_ip_ops USING hnsw IS 'hnsw search of halfvec by negative inner product (<#>)';
CREATE OPERATOR CLASS halfvec_cosine_ops
	FOR TYPE halfvec USING hnsw AS
	OPERATOR 1 <=> (halfvec, halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_cosine(internal);
COMMENT ON OPERATOR CLASS halfvec_cosine_ops USING hnsw IS 'hnsw search of halfvec by cosine distance (<=>); zero vectors are not indexed';
CREATE OPERATOR CLASS halfvec_l1_ops
	FOR TYPE halfvec USING hnsw AS
	OPERATOR 1 <+> (halfvec, halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_l1(internal);
COMMENT ON OPERATOR CLASS halfvec_l1_ops USING hnsw IS 'hnsw search of halfvec by taxicab distance (<+>)';

-- sparsevec (issue 10): variable-size elements, at most 1000 non-zero
-- elements per value (VINDEX_SPARSEVEC_MAX_NNZ, src/index/index.h)
CREATE OPERATOR CLASS sparsevec_l2_ops
	FOR TYPE sparsevec USING hnsw AS
	OPERATOR 1 <-> (sparsevec, sparsevec) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_l2(internal);
COMMENT ON OPERATOR CLASS sparsevec_l2_ops USING hnsw IS 'hnsw search of sparsevec by Euclidean distance (<->); at most 1000 non-zero elements per value';
CREATE OPERATOR CLASS sparsevec_ip_ops
	FOR TYPE sparsevec USING hnsw AS
	OPERATOR 1 <#> (sparsevec, sparsevec) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_ip(internal);
COMMENT ON OPERATOR CLASS sparsevec_ip_ops USING hnsw IS 'hnsw search of sparsevec by negative inner product (<#>); at most 1000 non-zero elements per value';
CREATE OPERATOR CLASS sparsevec_cosine_ops
	FOR TYPE sparsevec USING hnsw AS
	OPERATOR 1 <=> (sparsevec, sparsevec) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_cosine(internal);
COMMENT ON OPERATOR CLASS sparsevec_cosine_ops USING hnsw IS 'hnsw search of sparsevec by cosine distance (<=>); zero vectors are not indexed; at most 1000 non-zero elements per value';
CREATE OPERATOR CLASS sparsevec_l1_ops
	FOR TYPE sparsevec USING hnsw AS
	OPERATOR 1 <+> (sparsevec, sparsevec) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_l1(internal);
COMMENT ON OPERATOR CLASS sparsevec_l1_ops USING hnsw IS 'hnsw search of sparsevec by taxicab distance (<+>); at most 1000 non-zero elements per value';
