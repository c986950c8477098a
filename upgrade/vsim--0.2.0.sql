-- vsim install script, part 1: the vector type (src/vector/vector.sql).
-- The Makefile concatenates this with the other subsystems' fragments.

\echo Use "CREATE EXTENSION vsim" to load this file. \quit

CREATE SCHEMA IF NOT EXISTS vsim;
COMMENT ON SCHEMA vsim IS 'vsim: embedding functions, model registry and index statistics';

-- type ------------------------------------------------------------------

CREATE TYPE vector;

CREATE FUNCTION vector_in(cstring, oid, integer) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_out(vector) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_typmod_in(cstring[]) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_typmod_out(integer) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_recv(internal, oid, integer) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_send(vector) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- EXTERNAL: large vectors go out of line but are never compressed, so a
-- scan never pays for decompression (float data barely compresses).
CREATE TYPE vector (
	INPUT = vector_in,
	OUTPUT = vector_out,
	TYPMOD_IN = vector_typmod_in,
	TYPMOD_OUT = vector_typmod_out,
	RECEIVE = vector_recv,
	SEND = vector_send,
	STORAGE = external
);
COMMENT ON TYPE vector IS 'vector of float4 elements, 1 to 16000 dimensions; vector(n) fixes the dimensions';

COMMENT ON FUNCTION vector_in(cstring, oid, integer) IS 'text input of vector: [x1,x2,...]';
COMMENT ON FUNCTION vector_out(vector) IS 'text output of vector, shortest exact form of each element';
COMMENT ON FUNCTION vector_typmod_in(cstring[]) IS 'type modifier input of vector(n)';
COMMENT ON FUNCTION vector_typmod_out(integer) IS 'type modifier output of vector(n)';
COMMENT ON FUNCTION vector_recv(internal, oid, integer) IS 'binary input of vector: int16 dim, int16 0, float4[dim]';
COMMENT ON FUNCTION vector_send(vector) IS 'binary output of vector: int16 dim, int16 0, float4[dim]';

-- functions ---------------------------------------------------------------

CREATE FUNCTION l2_distance(vector, vector) RETURNS float8
	AS 'MODULE_PATHNAME', 'vector_l2_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION l2_distance(vector, vector) IS 'Euclidean distance';

CREATE FUNCTION vector_l2_squared_distance(vector, vector) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vector_l2_squared_distance(vector, vector) IS 'squared Euclidean distance';

CREATE FUNCTION inner_product(vector, vector) RETURNS float8
	AS 'MODULE_PATHNAME', 'vector_inner_product' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inner_product(vector, vector) IS 'inner (dot) product';

CREATE FUNCTION vector_negative_inner_product(vector, vector) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vector_negative_inner_product(vector, vector) IS 'negative inner product (smaller is more similar)';

CREATE FUNCTION cosine_distance(vector, vector) RETURNS float8
	AS 'MODULE_PATHNAME', 'vector_cosine_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cosine_distance(vector, vector) IS 'cosine distance 1 - cos(a, b), in [0, 2]; 1 when either vector is zero';

CREATE FUNCTION l1_distance(vector, vector) RETURNS float8
	AS 'MODULE_PATHNAME', 'vector_l1_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION l1_distance(vector, vector) IS 'L1 (taxicab) distance';

CREATE FUNCTION vector_dims(vector) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vector_dims(vector) IS 'number of dimensions';

CREATE FUNCTION vector_norm(vector) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vector_norm(vector) IS 'Euclidean norm';

CREATE FUNCTION l2_normalize(vector) RETURNS vector
	AS 'MODULE_PATHNAME', 'vector_l2_normalize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION l2_normalize(vector) IS 'the vector scaled to Euclidean norm 1 (a zero vector stays zero)';

CREATE FUNCTION subvector(vector, integer, integer) RETURNS vector
	AS 'MODULE_PATHNAME', 'vector_subvector' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION subvector(vector, integer, integer) IS 'subvector(v, start, count): count elements from 1-based position start';

CREATE FUNCTION vector_add(vector, vector) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vector_add(vector, vector) IS 'element-wise sum';
CREATE FUNCTION vector_sub(vector, vector) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vector_sub(vector, vector) IS 'element-wise difference';
CREATE FUNCTION vector_mul(vector, vector) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vector_mul(vector, vector) IS 'element-wise product';
CREATE FUNCTION vector_concat(vector, vector) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vector_concat(vector, vector) IS 'concatenation';

CREATE FUNCTION vector_lt(vector, vector) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_le(vector, vector) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_eq(vector, vector) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_ne(vector, vector) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_ge(vector, vector) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_gt(vector, vector) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_cmp(vector, vector) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vector_lt(vector, vector) IS 'less than, in element-wise lexicographic order';
COMMENT ON FUNCTION vector_le(vector, vector) IS 'less than or equal, in element-wise lexicographic order';
COMMENT ON FUNCTION vector_eq(vector, vector) IS 'equal: same dimensions and elements';
COMMENT ON FUNCTION vector_ne(vector, vector) IS 'not equal';
COMMENT ON FUNCTION vector_ge(vector, vector) IS 'greater than or equal, in element-wise lexicographic order';
COMMENT ON FUNCTION vector_gt(vector, vector) IS 'greater than, in element-wise lexicographic order';
COMMENT ON FUNCTION vector_cmp(vector, vector) IS 'btree comparison: -1, 0 or 1';

-- aggregates ----------------------------------------------------------------

CREATE FUNCTION vector_accum(float8[], vector) RETURNS float8[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vector_accum(float8[], vector) IS 'transition function of avg(vector) and sum(vector)';
CREATE FUNCTION vector_combine(float8[], float8[]) RETURNS float8[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vector_combine(float8[], float8[]) IS 'combine function of avg(vector) and sum(vector)';
CREATE FUNCTION vector_avg(float8[]) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vector_avg(float8[]) IS 'final function of avg(vector)';
CREATE FUNCTION vector_sum(float8[]) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vector_sum(float8[]) IS 'final function of sum(vector)';

CREATE AGGREGATE avg(vector) (
	SFUNC = vector_accum,
	STYPE = float8[],
	FINALFUNC = vector_avg,
	COMBINEFUNC = vector_combine,
	INITCOND = '{0}',
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE avg(vector) IS 'element-wise mean of vectors';

CREATE AGGREGATE sum(vector) (
	SFUNC = vector_accum,
	STYPE = float8[],
	FINALFUNC = vector_sum,
	COMBINEFUNC = vector_combine,
	INITCOND = '{0}',
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE sum(vector) IS 'element-wise sum of vectors';

-- casts -----------------------------------------------------------------------

CREATE FUNCTION vector(vector, integer, boolean) RETURNS vector
	AS 'MODULE_PATHNAME', 'vector_coerce' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vector(vector, integer, boolean) IS 'vector(n) length coercion: checks the dimensions';

CREATE FUNCTION array_to_vector(integer[], integer, boolean) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_vector(real[], integer, boolean) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_vector(double precision[], integer, boolean) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_vector(numeric[], integer, boolean) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION array_to_vector(integer[], integer, boolean) IS 'cast integer[] to vector';
COMMENT ON FUNCTION array_to_vector(real[], integer, boolean) IS 'cast real[] to vector';
COMMENT ON FUNCTION array_to_vector(double precision[], integer, boolean) IS 'cast double precision[] to vector';
COMMENT ON FUNCTION array_to_vector(numeric[], integer, boolean) IS 'cast numeric[] to vector';

CREATE FUNCTION vector_to_float4(vector, integer, boolean) RETURNS real[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vector_to_float4(vector, integer, boolean) IS 'cast vector to real[]';

CREATE CAST (vector AS vector) WITH FUNCTION vector(vector, integer, boolean) AS IMPLICIT;
CREATE CAST (vector AS real[]) WITH FUNCTION vector_to_float4(vector, integer, boolean) AS IMPLICIT;
CREATE CAST (integer[] AS vector) WITH FUNCTION array_to_vector(integer[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (real[] AS vector) WITH FUNCTION array_to_vector(real[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (double precision[] AS vector) WITH FUNCTION array_to_vector(double precision[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (numeric[] AS vector) WITH FUNCTION array_to_vector(numeric[], integer, boolean) AS ASSIGNMENT;

-- operators -------------------------------------------------------------------

CREATE OPERATOR <-> (LEFTARG = vector, RIGHTARG = vector, PROCEDURE = l2_distance, COMMUTATOR = '<->');
CREATE OPERATOR <#> (LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_negative_inner_product, COMMUTATOR = '<#>');
CREATE OPERATOR <=> (LEFTARG = vector, RIGHTARG = vector, PROCEDURE = cosine_distance, COMMUTATOR = '<=>');
CREATE OPERATOR <+> (LEFTARG = vector, RIGHTARG = vector, PROCEDURE = l1_distance, COMMUTATOR = '<+>');
COMMENT ON OPERATOR <->(vector, vector) IS 'Euclidean distance';
COMMENT ON OPERATOR <#>(vector, vector) IS 'negative inner product';
COMMENT ON OPERATOR <=>(vector, vector) IS 'cosine distance';
COMMENT ON OPERATOR <+>(vector, vector) IS 'L1 (taxicab) distance';

CREATE OPERATOR + (LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_add, COMMUTATOR = +);
CREATE OPERATOR - (LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_sub);
CREATE OPERATOR * (LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_mul, COMMUTATOR = *);
CREATE OPERATOR || (LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_concat);

CREATE OPERATOR < (LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_lt,
	COMMUTATOR = >, NEGATOR = >=, RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR <= (LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_le,
	COMMUTATOR = >=, NEGATOR = >, RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR = (LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_eq,
	COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel, MERGES);
CREATE OPERATOR <> (LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_ne,
	COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR >= (LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_ge,
	COMMUTATOR = <=, NEGATOR = <, RESTRICT = scalargesel, JOIN = scalargejoinsel);
CREATE OPERATOR > (LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_gt,
	COMMUTATOR = <, NEGATOR = <=, RESTRICT = scalargtsel, JOIN = scalargtjoinsel);

CREATE OPERATOR CLASS vector_ops
	DEFAULT FOR TYPE vector USING btree AS
	OPERATOR 1 <,
	OPERATOR 2 <=,
	OPERATOR 3 =,
	OPERATOR 4 >=,
	OPERATOR 5 >,
	FUNCTION 1 vector_cmp(vector, vector);

-- index metric support (used by the hnsw and ivfflat operator classes) -------

CREATE FUNCTION vsim_metric_l2(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vsim_metric_ip(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vsim_metric_cosine(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vsim_metric_l1(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vsim_metric_l2(internal) IS 'index operator class support: Euclidean metric';
COMMENT ON FUNCTION vsim_metric_ip(internal) IS 'index operator class support: inner product metric';
COMMENT ON FUNCTION vsim_metric_cosine(internal) IS 'index operator class support: cosine metric';
COMMENT ON FUNCTION vsim_metric_l1(internal) IS 'index operator class support: L1 metric';
-- vsim install script, part: in-database embedding (src/embed/embed.sql).
-- Models run inside the server with ONNX Runtime, loaded on first use.

-- vsim.embed needs only EXECUTE, which PUBLIC has; the schema must be usable.
GRANT USAGE ON SCHEMA vsim TO PUBLIC;

-- registry ----------------------------------------------------------------

-- Written only by vsim.create_model / vsim.drop_model (SECURITY DEFINER);
-- read by everybody through the view vsim.models.  model_path and
-- tokenizer_path are relative to vsim.model_directory.
CREATE TABLE vsim.model_registry (
	id bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
	name text PRIMARY KEY,
	input_kind text NOT NULL CHECK (input_kind IN ('text', 'tensor')),
	model_path text NOT NULL,
	model_sha256 text NOT NULL,
	tokenizer_path text,
	tokenizer_sha256 text,
	input_names text[] NOT NULL,
	input_shape bigint[],
	input_scale real CHECK (input_scale <> 0),
	output_name text NOT NULL,
	pooling text NOT NULL CHECK (pooling IN ('mean', 'cls', 'none')),
	normalize boolean NOT NULL,
	lowercase boolean NOT NULL,
	max_length integer,
	dimensions integer NOT NULL,
	options jsonb NOT NULL,
	registered_by name NOT NULL DEFAULT session_user,
	registered_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE vsim.model_registry IS 'registered embedding models; change only through vsim.create_model and vsim.drop_model';
-- pg_dump keeps registered models (and the id sequence, so ids stay unique)
SELECT pg_catalog.pg_extension_config_dump('vsim.model_registry', '');
SELECT pg_catalog.pg_extension_config_dump('vsim.model_registry_id_seq', '');

CREATE VIEW vsim.models AS
	SELECT name, input_kind, dimensions, output_name, pooling, normalize,
		   max_length, input_names, input_shape, input_scale, lowercase,
		   model_path, model_sha256, tokenizer_path, tokenizer_sha256,
		   options, registered_by, registered_at, id
	FROM vsim.model_registry;
COMMENT ON VIEW vsim.models IS 'embedding models registered with vsim.create_model';
GRANT SELECT ON vsim.models TO PUBLIC;

CREATE FUNCTION vsim.create_model(name text, model_path text,
								  tokenizer_path text DEFAULT NULL,
								  options jsonb DEFAULT '{}',
								  replace boolean DEFAULT false)
	RETURNS integer
	AS 'MODULE_PATHNAME', 'vsim_create_model'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION vsim.create_model(text, text, text, jsonb, boolean) IS
'register an ONNX model (and for text models its tokenizer.json or vocab.txt) from vsim.model_directory; returns the embedding dimensions. Options: input (text|tensor), input_ids, attention_mask, token_type_ids, input_name, input_shape, input_scale, output, pooling (mean|cls|none), normalize, lowercase, max_length, dimensions. Superusers, or roles granted EXECUTE.';
REVOKE EXECUTE ON FUNCTION vsim.create_model(text, text, text, jsonb, boolean) FROM PUBLIC;

CREATE FUNCTION vsim.drop_model(name text, if_exists boolean DEFAULT false)
	RETURNS boolean
	AS 'MODULE_PATHNAME', 'vsim_drop_model'
	LANGUAGE C VOLATILE STRICT SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION vsim.drop_model(text, boolean) IS
'remove a registered model; returns whether one was removed. Superusers, or roles granted EXECUTE.';
REVOKE EXECUTE ON FUNCTION vsim.drop_model(text, boolean) FROM PUBLIC;

-- embedding -----------------------------------------------------------------

-- IMMUTABLE so that generated columns and index expressions can use it:
-- a registered model's files are checked against their SHA-256, so the
-- same input gives the same vector until the model is registered again.
CREATE FUNCTION vsim.embed(model text, input text) RETURNS vector
	AS 'MODULE_PATHNAME', 'vsim_embed_text'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 10000;
COMMENT ON FUNCTION vsim.embed(text, text) IS
'embedding of a text with a registered text model';

CREATE FUNCTION vsim.embed(model text, inputs text[]) RETURNS vector[]
	AS 'MODULE_PATHNAME', 'vsim_embed_texts'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 10000;
COMMENT ON FUNCTION vsim.embed(text, text[]) IS
'embeddings of many texts in input order, run in length-sorted batches of vsim.embed_batch_size';

CREATE FUNCTION vsim.embed(model text, input real[]) RETURNS vector
	AS 'MODULE_PATHNAME', 'vsim_embed_tensor'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 10000;
COMMENT ON FUNCTION vsim.embed(text, real[]) IS
'embedding of one input of a tensor model (the array fills the registered input shape)';

CREATE FUNCTION vsim.embed_output(model text, input real[], output text) RETURNS real[]
	AS 'MODULE_PATHNAME', 'vsim_embed_output_tensor'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 10000;
COMMENT ON FUNCTION vsim.embed_output(text, real[], text) IS
'a named output of a tensor model, flattened (for example class scores)';

CREATE FUNCTION vsim.embed_output(model text, input text, output text) RETURNS real[]
	AS 'MODULE_PATHNAME', 'vsim_embed_output_text'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 10000;
COMMENT ON FUNCTION vsim.embed_output(text, text, text) IS
'a named output of a text model for one text, flattened and not pooled';

CREATE FUNCTION vsim.tokenize(model text, input text) RETURNS integer[]
	AS 'MODULE_PATHNAME', 'vsim_tokenize'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vsim.tokenize(text, text) IS
'token ids a text model feeds for a text: [CLS], WordPiece ids, [SEP]';

CREATE FUNCTION vsim.onnxruntime_version() RETURNS text
	AS 'MODULE_PATHNAME', 'vsim_onnxruntime_version'
	LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION vsim.onnxruntime_version() IS
'version of the ONNX Runtime library named by vsim.onnxruntime_library (loads it)';
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
	OUT m integer, OUT ef_construction integer, OUT dimensions integer)
	AS 'MODULE_PATHNAME', 'hnsw_index_stats' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vsim.hnsw_index_stats(regclass) IS
	'statistics of an hnsw index: elements, dead elements, free slots, heap TIDs, levels, entry point (block,offset) and level, pages, average level-0 neighbours, m, ef_construction, dimensions; read from the live pages; allowed to roles with SELECT on the index''s table or the privileges of pg_stat_scan_tables';
-- vsim install script: what the vector index methods share (src/index/index.sql).

CREATE FUNCTION vsim.index_check(index regclass, heapallindexed boolean DEFAULT false)
	RETURNS void
	AS 'MODULE_PATHNAME', 'vsim_index_check' LANGUAGE C STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION vsim.index_check(regclass, boolean) IS
	'verify the structure of an hnsw or ivfflat index (page kinds, bounds, references, chains) and, with heapallindexed, that every visible row of its table is in it; raises XX002 for damage; superuser only unless granted';
REVOKE ALL ON FUNCTION vsim.index_check(regclass, boolean) FROM PUBLIC;
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
	OUT empty_lists bigint, OUT list_pages bigint, OUT total_pages bigint)
	AS 'MODULE_PATHNAME', 'ivfflat_index_stats' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vsim.ivfflat_index_stats(regclass) IS
	'shape of an ivfflat index: lists, rows per list (min, max, mean, imbalance factor, 1.0 = even) now and at build time, pages; read from the live pages; allowed to roles with SELECT on the index''s table or the privileges of pg_stat_scan_tables';
-- vsim install script, part: model-free text vectorizers (src/text/text.sql).
-- Tokens, feature hashing and TF-IDF as scikit-learn's default text
-- vectorizers compute them, in SQL.

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
