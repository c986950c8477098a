-- vsim install script: what the vector index methods share (src/index/index.sql).

CREATE FUNCTION vsim.index_check(index regclass, heapallindexed boolean DEFAULT false)
	RETURNS void
	AS 'MODULE_PATHNAME', 'vsim_index_check' LANGUAGE C STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION vsim.index_check(regclass, boolean) IS
	'verify the structure of an hnsw or ivfflat index (page kinds, bounds, references, chains) and, with heapallindexed, that every visible row of its table is in it; raises XX002 for damage; superuser only unless granted';
REVOKE ALL ON FUNCTION vsim.index_check(regclass, boolean) FROM PUBLIC;
