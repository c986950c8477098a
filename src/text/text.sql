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
