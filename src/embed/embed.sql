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
