-- vsim 0.1.0 -> 0.2.0 (ALTER EXTENSION vsim UPDATE).  Brings a 0.1.0
-- catalog to what vsim--0.2.0.sql creates; test/t/013_upgrade.pl compares
-- the two object by object.
\echo Use "ALTER EXTENSION vsim UPDATE" to load this file. \quit

-- The hnsw handler takes pgvector's name.  Renaming and then replacing the
-- function keeps its OID, which the access method refers to.
ALTER FUNCTION hnsw_handler(internal) RENAME TO hnswhandler;
CREATE OR REPLACE FUNCTION hnswhandler(internal) RETURNS index_am_handler
	AS 'MODULE_PATHNAME', 'hnswhandler' LANGUAGE C;

-- Both statistics functions: one privilege rule (checked in C: SELECT on
-- the table or pg_stat_scan_tables), VOLATILE (they read live pages).
-- hnsw's also gains the column free_slots (slots VACUUM freed for reuse),
-- so it is created anew.
DROP FUNCTION vsim.hnsw_index_stats(regclass);
CREATE FUNCTION vsim.hnsw_index_stats(index regclass,
	OUT elements bigint, OUT dead_elements bigint, OUT free_slots bigint, OUT heap_tids bigint,
	OUT levels integer, OUT entry_point text, OUT entry_level integer,
	OUT pages bigint, OUT avg_level0_neighbours double precision,
	OUT m integer, OUT ef_construction integer, OUT dimensions integer)
	AS 'MODULE_PATHNAME', 'hnsw_index_stats' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vsim.hnsw_index_stats(regclass) IS
	'statistics of an hnsw index: elements, dead elements, free slots, heap TIDs, levels, entry point (block,offset) and level, pages, average level-0 neighbours, m, ef_construction, dimensions; read from the live pages; allowed to roles with SELECT on the index''s table or the privileges of pg_stat_scan_tables';
ALTER FUNCTION vsim.ivfflat_index_stats(regclass) VOLATILE;
COMMENT ON FUNCTION vsim.ivfflat_index_stats(regclass) IS
	'shape of an ivfflat index: lists, rows per list (min, max, mean, imbalance factor, 1.0 = even) now and at build time, pages; read from the live pages; allowed to roles with SELECT on the index''s table or the privileges of pg_stat_scan_tables';

-- New in 0.2.0: structure checks of both index methods.
CREATE FUNCTION vsim.index_check(index regclass, heapallindexed boolean DEFAULT false)
	RETURNS void
	AS 'MODULE_PATHNAME', 'vsim_index_check' LANGUAGE C STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION vsim.index_check(regclass, boolean) IS
	'verify the structure of an hnsw or ivfflat index (page kinds, bounds, references, chains) and, with heapallindexed, that every visible row of its table is in it; raises XX002 for damage; superuser only unless granted';
REVOKE ALL ON FUNCTION vsim.index_check(regclass, boolean) FROM PUBLIC;

-- 0.2.0 keeps model and tokenizer paths relative to vsim.model_directory
-- (vsim.models shows them so); 0.1.0 stored absolute ones.  Those under the
-- directory as set in this session become relative; any other keeps working
-- as long as it stays inside the directory.
UPDATE vsim.model_registry r SET
	model_path = CASE WHEN starts_with(r.model_path, d.dir || '/')
		THEN substr(r.model_path, length(d.dir) + 2) ELSE r.model_path END,
	tokenizer_path = CASE WHEN starts_with(r.tokenizer_path, d.dir || '/')
		THEN substr(r.tokenizer_path, length(d.dir) + 2) ELSE r.tokenizer_path END
FROM (SELECT rtrim(current_setting('vsim.model_directory', true), '/') AS dir) d
WHERE d.dir <> '';

-- New in 0.2.0: model-free text vectorizers (src/text/text.sql).

CREATE FUNCTION vsim.text_tokens(document text) RETURNS text[]
	AS 'MODULE_PATHNAME', 'vsim_text_tokens'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vsim.text_tokens(text) IS
'tokens of a text in order, as scikit-learn''s CountVectorizer().build_analyzer() gives them: lowercased as Python''s str.lower(), runs of 2 or more word characters (Python''s \w: letters, numbers, _)';

CREATE FUNCTION vsim.hash_vector(tokens text[], dims integer) RETURNS vector
	AS 'MODULE_PATHNAME', 'vsim_hash_vector_tokens'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vsim.hash_vector(text[], integer) IS
'signed feature hashing of tokens into a vector of dims (1 to 16000) elements, repeats adding up: scikit-learn''s FeatureHasher(n_features=dims, input_type=''string'') (MurmurHash3 x86 32-bit, seed 0, of the UTF-8 bytes)';

CREATE FUNCTION vsim.hash_vector(document text, dims integer) RETURNS vector
	AS 'MODULE_PATHNAME', 'vsim_hash_vector_text'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vsim.hash_vector(text, integer) IS
'signed feature hashing of the tokens of a text (vsim.text_tokens): scikit-learn''s HashingVectorizer(n_features=dims, norm=None)';

-- Runs the query with the caller's privileges and creates a table: VOLATILE.
CREATE FUNCTION vsim.tfidf_fit(vocabulary text, documents text,
							   max_features integer DEFAULT NULL)
	RETURNS integer
	AS 'MODULE_PATHNAME', 'vsim_tfidf_fit'
	LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION vsim.tfidf_fit(text, text, integer) IS
'learn a TF-IDF vocabulary from the query documents (one text column) into the new table vocabulary (term, position, df, occurrences, idf), as scikit-learn''s TfidfVectorizer(max_features=...).fit does; returns the number of terms (at most 16000)';

-- Reads a table (STABLE); PARALLEL RESTRICTED, since a temporary
-- vocabulary table cannot be read by parallel workers.
CREATE FUNCTION vsim.tfidf_vector(document text, vocabulary regclass) RETURNS vector
	AS 'MODULE_PATHNAME', 'vsim_tfidf_vector'
	LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION vsim.tfidf_vector(text, regclass) IS
'TF-IDF vector of a text under a vocabulary table made by vsim.tfidf_fit: term counts times idf, L2-normalised, one element per term in term order, as scikit-learn''s TfidfVectorizer.transform';
