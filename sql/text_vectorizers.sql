-- Model-free text vectorizers (src/text): tokens, feature hashing, TF-IDF.
-- Expected values are scikit-learn 1.2.1's; test/t/065_text_vectorizers.pl
-- compares with scikit-learn itself on the TMDB and IMDB corpora.
\set VERBOSITY default
SELECT proname, oid::regprocedure AS function, provolatile, proisstrict, proparallel
FROM pg_proc WHERE pronamespace = 'vsim'::regnamespace
  AND proname IN ('text_tokens', 'hash_vector', 'tfidf_fit', 'tfidf_vector')
ORDER BY proname, oid::regprocedure::text;

-- tokens: CountVectorizer().build_analyzer() -------------------------------
SELECT vsim.text_tokens('The cat-sat on a mat: "I", O_o, x2 don''t 3.14 __ a_');
SELECT vsim.text_tokens('');
SELECT vsim.text_tokens('a b c 1 2 , .');
-- Unicode word characters are letters and numbers (Python's \w); marks,
-- the soft hyphen and punctuation separate tokens
SELECT vsim.text_tokens('Straße ﬁlm Café x² ½x ʼs co­op हिन्दी 最的者 ＡＢＣ');
-- str.lower(): U+0130 becomes i + U+0307 (a mark), capital sigma is final
-- at the end of a word
SELECT vsim.text_tokens('İstanbul KAİ');
SELECT t, convert_to(t, 'UTF8') FROM unnest(vsim.text_tokens('ΟΔΥΣΣΕΥΣ ΣΑΣ Σ. ΑΣ''Α ΑΣ'' ΑΣ-Β')) t;
SELECT vsim.text_tokens(NULL) IS NULL AS strict;

-- feature hashing: FeatureHasher(n_features=dims, input_type='string') -----
SELECT vsim.hash_vector(ARRAY['a', 'b', 'a'], 8);
SELECT vsim.hash_vector(ARRAY['cat', 'dog', 'cat', 'the'], 4);
SELECT vsim.hash_vector(ARRAY['', 'é', 'naïve', '最'], 5);
SELECT vsim.hash_vector('{}'::text[], 3);
SELECT vsim.hash_vector(ARRAY['a'], 1), vsim.hash_vector(ARRAY['b'], 1);
-- 'aivlts3m' hashes to -2^31: index 2^31 mod dims, sign -1
SELECT vsim.hash_vector(ARRAY['aivlts3m'], 10), vsim.hash_vector(ARRAY['aivlts3m'], 7);
SELECT i - 1 AS index, x FROM unnest(vsim.hash_vector(ARRAY['aivlts3m'], 16000)::real[])
  WITH ORDINALITY u(x, i) WHERE x <> 0;
-- the text form hashes its tokens: HashingVectorizer(n_features=dims, norm=None)
SELECT vsim.hash_vector('The cat and the hat.', 6),
       vsim.hash_vector('The cat and the hat.', 6) = vsim.hash_vector(vsim.text_tokens('The cat and the hat.'), 6) AS same;
SELECT vector_dims(vsim.hash_vector('x', 16000)) AS max_dims;
SELECT vsim.hash_vector(NULL::text[], 4) IS NULL AS strict, vsim.hash_vector('a', NULL) IS NULL AS strict;

-- TF-IDF: TfidfVectorizer() ---------------------------------------------------
CREATE TABLE docs (id int, body text);
INSERT INTO docs VALUES (1, 'the cat sat on the mat'), (2, 'the dog sat'), (3, NULL),
  (4, 'cats and dogs');
-- NULL rows are skipped: 3 documents
SELECT vsim.tfidf_fit('vocab', 'SELECT body FROM docs');
SELECT * FROM vocab ORDER BY position;
SELECT obj_description('vocab'::regclass, 'pg_class');
SELECT id, vsim.tfidf_vector(body, 'vocab') FROM docs ORDER BY id;
-- unknown terms are ignored; a text without known terms gives zeros
SELECT vsim.tfidf_vector('The cat, the cat and a bird', 'vocab'),
       vsim.tfidf_vector('nothing known here', 'vocab');
-- max_features: the most frequent terms; ties at the cut go to the first in
-- term order, as scikit-learn gives them here
CREATE TABLE docs2 (body varchar);
INSERT INTO docs2 VALUES ('dd cc bb aa ee'), ('ee dd');
SELECT vsim.tfidf_fit('vocab2', 'SELECT body FROM docs2', max_features => 3);
SELECT term, position, df, occurrences, round(idf::numeric, 8) AS idf FROM vocab2 ORDER BY position;
SELECT vsim.tfidf_vector('aa dd ee ee zz', 'vocab2');
SELECT vsim.tfidf_fit('vocab3', $$VALUES ('zz aa'), ('yy bb')$$, 2);
SELECT term FROM vocab3 ORDER BY position;
-- qualified and quoted names
CREATE SCHEMA text_test;
SELECT vsim.tfidf_fit('text_test."My Vocab"', 'SELECT body FROM docs', 4);
SELECT term, position FROM text_test."My Vocab" ORDER BY position;
SELECT vsim.tfidf_vector('dog sat', 'text_test."My Vocab"');
-- the cached vocabulary follows changes: within one transaction, and
-- across the iterations of a PL/pgSQL loop (one call site)
BEGIN;
SELECT vsim.tfidf_vector('and cat', 'vocab');
UPDATE vocab SET idf = 3 * idf WHERE term = 'cat';
SELECT vsim.tfidf_vector('and cat', 'vocab');
ROLLBACK;
DO $$
BEGIN
	FOR i IN 1 .. 3 LOOP
		RAISE NOTICE '%', vsim.tfidf_vector('and cat', 'vocab');
		UPDATE vocab SET idf = 3 * idf WHERE term = 'cat';
	END LOOP;
END
$$;
-- a vocabulary made by hand works the same
CREATE TEMP TABLE hand_vocab (term text, position integer, idf double precision);
INSERT INTO hand_vocab VALUES ('b', 2, 1), ('ab', 1, 2);
SELECT vsim.tfidf_vector('ab ab cd', 'hand_vocab'), vsim.tfidf_vector('', 'hand_vocab');

-- errors and their SQLSTATEs --------------------------------------------------
CREATE FUNCTION pg_temp.error_of(statement text, OUT code text, OUT message text)
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE statement;
	code := 'none';
EXCEPTION WHEN OTHERS THEN
	code := SQLSTATE;
	message := SQLERRM;
END
$$;
CREATE TABLE not_vocab (term text, position bigint, idf double precision);
CREATE TABLE empty_vocab (term text, position integer, idf double precision);
CREATE TABLE bad_vocab (term text, position integer, idf double precision);
INSERT INTO bad_vocab VALUES ('aa', 1, 1), ('bb', 1, 1);
CREATE TABLE dup_vocab (term text, position integer, idf double precision);
INSERT INTO dup_vocab VALUES ('aa', 1, 1), ('aa', 2, 1);
CREATE TABLE null_vocab (term text, position integer, idf double precision);
INSERT INTO null_vocab VALUES ('aa', 1, NULL);
CREATE TABLE many_words AS SELECT string_agg('w' || i, ' ') AS body FROM generate_series(1, 16001) i;
SELECT e.code AS sqlstate, e.message, s AS statement
FROM unnest(ARRAY[
	$$SELECT vsim.hash_vector(ARRAY['a'], 0)$$,
	$$SELECT vsim.hash_vector(ARRAY['a'], -5)$$,
	$$SELECT vsim.hash_vector(ARRAY['a'], 16001)$$,
	$$SELECT vsim.hash_vector('a', 0)$$,
	$$SELECT vsim.hash_vector('a', 16001)$$,
	$$SELECT vsim.hash_vector(ARRAY['a', NULL], 4)$$,
	$$SELECT vsim.hash_vector(ARRAY[['a'], ['b']], 4)$$,
	$$SELECT vsim.tfidf_fit('vocab', 'SELECT body FROM docs')$$,
	$$SELECT vsim.tfidf_fit(NULL, 'SELECT body FROM docs')$$,
	$$SELECT vsim.tfidf_fit('v', NULL)$$,
	$$SELECT vsim.tfidf_fit('a.b.c.d', 'SELECT body FROM docs')$$,
	$$SELECT vsim.tfidf_fit('v', 'SELECT body FROM docs', 0)$$,
	$$SELECT vsim.tfidf_fit('v', 'SELECT body FROM docs', 16001)$$,
	$$SELECT vsim.tfidf_fit('v', 'SELECT id, body FROM docs')$$,
	$$SELECT vsim.tfidf_fit('v', 'SELECT id FROM docs')$$,
	$$SELECT vsim.tfidf_fit('v', 'SELECT body FROM no_such_table')$$,
	$$SELECT vsim.tfidf_fit('v', 'SELECT ''a b c'' WHERE false')$$,
	$$SELECT vsim.tfidf_fit('v', 'SELECT ''a - b'' ')$$,
	$$SELECT vsim.tfidf_fit('v', 'SELECT body FROM many_words')$$,
	$$SELECT vsim.tfidf_vector('a', 'no_such_vocab')$$,
	$$SELECT vsim.tfidf_vector('a', 4294967295::oid::regclass)$$,
	$$SELECT vsim.tfidf_vector('a', 'docs')$$,
	$$SELECT vsim.tfidf_vector('a', 'not_vocab')$$,
	$$SELECT vsim.tfidf_vector('a', 'empty_vocab')$$,
	$$SELECT vsim.tfidf_vector('a', 'bad_vocab')$$,
	$$SELECT vsim.tfidf_vector('a', 'dup_vocab')$$,
	$$SELECT vsim.tfidf_vector('a', 'null_vocab')$$
]) WITH ORDINALITY t(s, i), pg_temp.error_of(s) e ORDER BY i;
-- the messages' details and hints
\set SHOW_CONTEXT never
SELECT vsim.hash_vector('a', 16001);
SELECT vsim.tfidf_fit('v', 'SELECT body FROM many_words');
SELECT vsim.tfidf_fit('v', 'SELECT id, body FROM docs');
SELECT vsim.tfidf_fit('v', 'SELECT 1.5');
SELECT vsim.tfidf_fit('v', 'SELECT ''a - b'' ');
SELECT vsim.tfidf_vector('a', 'not_vocab');
SELECT vsim.tfidf_vector('a', 'bad_vocab');
-- reading a vocabulary needs SELECT on it
CREATE ROLE regress_text_reader;
SET ROLE regress_text_reader;
SELECT vsim.tfidf_vector('cat', 'vocab');
RESET ROLE;
DROP ROLE regress_text_reader;
-- the failed fits created nothing
SELECT to_regclass('v') IS NULL AS no_table;
DROP TABLE docs, docs2, vocab, vocab2, vocab3, not_vocab, empty_vocab, bad_vocab, dup_vocab,
  null_vocab, many_words;
DROP SCHEMA text_test CASCADE;
