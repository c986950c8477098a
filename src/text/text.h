/*-------------------------------------------------------------------------
 *
 * text.h
 *	  Interface between the files of vsim's model-free text vectorizers:
 *	  a word tokenizer that gives the tokens scikit-learn's text vectorizers
 *	  give by default, signed feature hashing (MurmurHash3) and TF-IDF with
 *	  a vocabulary stored in a table.  The rest of vsim calls none of it;
 *	  only the byte-keyed table (BytesKey, bytes_table.h) is shared, with
 *	  the WordPiece tokenizer of src/embed/.
 *
 * Files, in dependency order: each calls functions of files above it only.
 *	  text.c		what the others share: text to UTF-8, the check of
 *					a dimensions argument
 *	  tokenize.c	the tokenizer and vsim.text_tokens
 *	  hashing.c		MurmurHash3 and vsim.hash_vector (signed feature
 *					hashing, as scikit-learn's FeatureHasher)
 *	  tfidf.c		vsim.tfidf_fit (a vocabulary with idf weights, as a
 *					table) and vsim.tfidf_vector (as scikit-learn's
 *					TfidfVectorizer), with a per-call-site cache of the
 *					vocabulary
 *
 * Every function works on UTF-8: text in another server encoding is
 * converted first (text_to_utf8), tokens are converted back where they
 * leave as SQL text.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSIM_TEXT_H
#define VSIM_TEXT_H

#include "postgres.h"

/* ---------------------------------------------------------------------
 * Shared helpers (text.c)
 * ---------------------------------------------------------------------
 */

/*
 * text_to_utf8: the bytes of `t` (server encoding) as UTF-8; *len gets
 * their number.  Returns VARDATA_ANY(t) itself (not NUL-terminated) when
 * no conversion is needed, else a palloc'd string.  Raises the conversion
 * errors of pg_server_to_any (22021, 22P05) for characters UTF-8 lacks.
 */
extern const char *text_to_utf8(const text *t, int *len);

/*
 * text_check_dims: raise 22023 (invalid_parameter_value) when `value`,
 * the argument called `name`, is below 1, and 54000
 * (program_limit_exceeded) when it is above VECTOR_MAX_DIM (16,000): the
 * dimensions of the vectors a function will return.
 */
extern void text_check_dims(int value, const char *name);

/*
 * BytesKey: the key of the tables of bytes_table.h (a token looked up in
 * place inside a longer text).
 */
typedef struct BytesKey
{
	const char *str;			/* not NUL-terminated */
	int			len;			/* bytes at str */
} BytesKey;

/* ---------------------------------------------------------------------
 * Tokenizer (tokenize.c)
 * ---------------------------------------------------------------------
 */

/* Called once per token: `len` bytes of UTF-8 at `token` (not terminated). */
typedef void (*TextTokenCallback) (const char *token, int len, void *arg);

/*
 * text_tokenize: split `len` bytes of UTF-8 at `utf8` into the tokens
 * scikit-learn's CountVectorizer, TfidfVectorizer and HashingVectorizer
 * produce with their default analyzer (lowercase=True, token_pattern
 * r"(?u)\b\w\w+\b", no accent stripping, unigrams), calling `callback` for
 * each in text order (repeats included).  That is:
 *
 *	1. the text is lowercased as Python's str.lower() does: the simple
 *	   lowercase mapping of each character (libutf8proc), except U+0130
 *	   (capital I with dot above), which becomes "i" + U+0307, and capital
 *	   sigma, which becomes final sigma (U+03C2) when the characters before
 *	   it, skipping case-ignorable ones, end in a cased letter and those
 *	   after it do not begin with one (the Final_Sigma casing context of
 *	   The Unicode Standard 15.0, section 3.13, with "cased" and
 *	   "case-ignorable" as its definitions D135 and D136 give them);
 *	2. a token is every maximal run of two or more word characters of the
 *	   lowercased text.  A word character is what Python's \w matches in a
 *	   str pattern: a letter (categories Lu, Ll, Lt, Lm, Lo), a number (Nd,
 *	   Nl, No), or "_".  Marks (Mn, Mc, Me) are not word characters.
 *
 * Categories and mappings are libutf8proc's (Unicode 15.0 in Debian 12's
 * 2.8.0): characters assigned after the Unicode version of the Python that
 * runs scikit-learn are word characters here and not there.  Bytes that
 * are not UTF-8 (possible only in a SQL_ASCII database) separate tokens.
 * Runs in time linear in `len`; raises nothing but out-of-memory.
 */
extern void text_tokenize(const char *utf8, int len,
						  TextTokenCallback callback, void *arg);

#endif							/* VSIM_TEXT_H */
