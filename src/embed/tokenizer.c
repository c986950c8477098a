/*-------------------------------------------------------------------------
 *
 * tokenizer.c
 *	  BERT WordPiece tokenizer: vocabulary loading from tokenizer.json (with
 *	  PostgreSQL's JSON parser) or vocab.txt, normalisation (libutf8proc),
 *	  pre-tokenisation and greedy longest-match WordPiece.
 *
 * The steps, as BERT's uncased tokenizers define them:
 *	1. clean: drop NUL, U+FFFD and "other" characters (categories C*,
 *	   except tab, newline and carriage return); whitespace (categories Zs,
 *	   Zl, Zp, tab, newline, CR) becomes a space;
 *	2. CJK ideographs become words of their own (spaces around them);
 *	3. for uncased models: canonical decomposition (NFD), nonspacing marks
 *	   (Mn) dropped, then lower-casing;
 *	4. words split on spaces, and every punctuation character (categories
 *	   P*, and ASCII symbols) is a word of its own;
 *	5. each word is split greedily into the longest vocabulary entries,
 *	   continuations carrying the "##" prefix; a word that does not split
 *	   completely, or has more than 100 characters, becomes [UNK];
 *	6. [CLS] tokens... [SEP], truncated to the maximum length.
 *
 * The steps run one code point at a time, only until the ids are
 * complete (see "Tokenizing" below), so a text costs memory for one word
 * whatever its length or script.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <utf8proc.h>

#include "common/hashfn.h"
#include "common/jsonapi.h"
#include "embed/embed.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "text/text.h"

/* Largest max_input_chars_per_word a tokenizer.json may declare: every
 * call keeps that many code points of a word (BERT's is 100). */
#define TOKENIZE_MAX_WORD_CHARS 1000

/*
 * Vocabulary: token -> id, simplehash tables keyed by (bytes, length), so
 * that parts of a word are looked up in place.  `vocab` holds every token;
 * `pieces` holds the continuation tokens ("##ing") without their prefix.
 */
typedef struct VocabEntry
{
	BytesKey	key;
	int32		id;
	uint32		hash;			/* compared before the bytes */
	char		status;
} VocabEntry;

#define SH_PREFIX vocab
#define SH_ELEMENT_TYPE VocabEntry
#include "text/bytes_table.h"

struct EmbedTokenizer
{
	vocab_hash *vocab;
	vocab_hash *pieces;
	MemoryContext cxt;
	int32		cls_id;
	int32		sep_id;
	int32		unk_id;
	char	   *unk_token;
	char	   *prefix;			/* continuation prefix, "##" */
	int			max_word_chars; /* longer words are [UNK] */
	bool		lowercase;
	bool		strip_accents;
	bool		clean_text;
	bool		cjk_words;
	int			max_length;		/* from tokenizer.json's truncation, or 0 */
};

/* Add `token` (copied) with `id` to `table`; a later duplicate wins. */
static void
vocab_add_to(EmbedTokenizer *tok, vocab_hash *table, const char *token,
			 int len, int32 id)
{
	char	   *copy = MemoryContextAlloc(tok->cxt, len + 1);
	BytesKey	key = {copy, len};
	bool		found;

	memcpy(copy, token, len);
	copy[len] = '\0';
	vocab_insert(table, key, &found)->id = id;
}

static void
vocab_add(EmbedTokenizer *tok, const char *token, int len, int32 id)
{
	vocab_add_to(tok, tok->vocab, token, len, id);
}

/* Id of the `len` bytes at `str` in `table`, or -1. */
static int32
vocab_find(vocab_hash *table, const char *str, int len)
{
	BytesKey	key = {str, len};
	VocabEntry *e = vocab_lookup(table, key);

	return e ? e->id : -1;
}

static int32
vocab_id(const EmbedTokenizer *tok, const char *token)
{
	return vocab_find(tok->vocab, token, strlen(token));
}

/* Fill tok->pieces from the tokens that carry the continuation prefix. */
static void
index_pieces(EmbedTokenizer *tok)
{
	int			plen = strlen(tok->prefix);
	vocab_iterator it;
	VocabEntry *e;

	tok->pieces = vocab_create(tok->cxt, 8192, NULL);
	vocab_start_iterate(tok->vocab, &it);
	while ((e = vocab_iterate(tok->vocab, &it)) != NULL)
		if (e->key.len > plen && memcmp(e->key.str, tok->prefix, plen) == 0)
			vocab_add_to(tok, tok->pieces, e->key.str + plen, e->key.len - plen, e->id);
}

/* ---------------------------------------------------------------------
 * tokenizer.json
 * ---------------------------------------------------------------------
 */

/* Callback return type and value differ from PostgreSQL 16 on. */
#if PG_VERSION_NUM >= 160000
#define JSON_CB_TYPE JsonParseErrorType
#define JSON_CB_DONE return JSON_SUCCESS
#else
#define JSON_CB_TYPE void
#define JSON_CB_DONE return
#endif

#define JSON_MAX_DEPTH 8

/* Parser state: the field name at each nesting depth (NULL in arrays). */
typedef struct JsonState
{
	EmbedTokenizer *tok;
	int			depth;
	char	   *path[JSON_MAX_DEPTH + 1];
	bool		has_model;
	bool		is_wordpiece;
	int			strip_accents;	/* -1: null or absent, "same as lowercase" */
} JsonState;

static bool
at_path(JsonState *st, const char *a, const char *b)
{
	return st->depth == 2 &&
		st->path[1] && strcmp(st->path[1], a) == 0 &&
		st->path[2] && strcmp(st->path[2], b) == 0;
}

static JSON_CB_TYPE
json_nest(void *state)
{
	JsonState  *st = state;

	st->depth++;
	if (st->depth <= JSON_MAX_DEPTH)
		st->path[st->depth] = NULL;
	JSON_CB_DONE;
}

static JSON_CB_TYPE
json_unnest(void *state)
{
	((JsonState *) state)->depth--;
	JSON_CB_DONE;
}

static JSON_CB_TYPE
json_field(void *state, char *fname, bool isnull)
{
	JsonState  *st = state;

	if (st->depth <= JSON_MAX_DEPTH)
		st->path[st->depth] = fname;
	JSON_CB_DONE;
}

/* Parse an integer token of the vocabulary; raises 22P02 when it is not. */
static int32
json_int(const char *token, const char *what)
{
	char	   *end;
	long		v = strtol(token, &end, 10);

	if (*end != '\0' || v < 0 || v > PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid %s \"%s\" in tokenizer.json", what, token)));
	return (int32) v;
}

/* The fields vsim reads: model.{type,vocab,unk_token,...},
 * normalizer.{lowercase,strip_accents,...}, truncation.max_length. */
static JSON_CB_TYPE
json_scalar(void *state, char *token, JsonTokenType type)
{
	JsonState  *st = state;
	EmbedTokenizer *tok = st->tok;
	bool		is_true = type == JSON_TOKEN_TRUE;

	if (st->depth == 3 && st->path[1] && st->path[2] && st->path[3] &&
		strcmp(st->path[1], "model") == 0 && strcmp(st->path[2], "vocab") == 0)
		vocab_add(tok, st->path[3], strlen(st->path[3]),
				  json_int(token, "token id"));
	else if (at_path(st, "model", "type"))
	{
		st->has_model = true;
		st->is_wordpiece = strcmp(token, "WordPiece") == 0;
	}
	else if (at_path(st, "model", "unk_token"))
		tok->unk_token = MemoryContextStrdup(tok->cxt, token);
	else if (at_path(st, "model", "continuing_subword_prefix"))
		tok->prefix = MemoryContextStrdup(tok->cxt, token);
	else if (at_path(st, "model", "max_input_chars_per_word"))
		tok->max_word_chars = json_int(token, "max_input_chars_per_word");
	else if (at_path(st, "normalizer", "lowercase"))
		tok->lowercase = is_true;
	else if (at_path(st, "normalizer", "strip_accents"))
		st->strip_accents = type == JSON_TOKEN_NULL ? -1 : is_true;
	else if (at_path(st, "normalizer", "clean_text"))
		tok->clean_text = is_true;
	else if (at_path(st, "normalizer", "handle_chinese_chars"))
		tok->cjk_words = is_true;
	else if (at_path(st, "truncation", "max_length"))
		tok->max_length = json_int(token, "truncation max_length");
	JSON_CB_DONE;
}

static void
load_tokenizer_json(EmbedTokenizer *tok, const char *path,
					const char *data, size_t len)
{
	JsonState	st = {0};
	JsonSemAction sem = {0};
	JsonLexContext *lex;
	JsonParseErrorType rc;
	char	   *copy = pnstrdup(data, len);

	st.tok = tok;
	st.strip_accents = -1;
	sem.semstate = &st;
	sem.object_start = json_nest;
	sem.object_end = json_unnest;
	sem.array_start = json_nest;
	sem.array_end = json_unnest;
	sem.object_field_start = json_field;
	sem.scalar = json_scalar;
#if PG_VERSION_NUM >= 170000
	lex = makeJsonLexContextCstringLen(NULL, copy, len, PG_UTF8, true);
#else
	lex = makeJsonLexContextCstringLen(copy, len, PG_UTF8, true);
#endif
	rc = pg_parse_json(lex, &sem);
	if (rc != JSON_SUCCESS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("could not parse tokenizer file \"%s\"", path),
				 errdetail("%s", json_errdetail(rc, lex))));
	if (!st.has_model || !st.is_wordpiece)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("tokenizer file \"%s\" is not a WordPiece tokenizer", path),
				 errdetail("vsim reads tokenizer.json files whose \"model\" has \"type\": \"WordPiece\" (BERT tokenizers).")));
	/* lowercase may come after strip_accents, so resolve the default now */
	tok->strip_accents = st.strip_accents < 0 ? tok->lowercase : st.strip_accents;
}

/* ---------------------------------------------------------------------
 * vocab.txt
 * ---------------------------------------------------------------------
 */
static void
load_vocab_txt(EmbedTokenizer *tok, const char *data, size_t len)
{
	const char *p = data;
	const char *end = data + len;
	int32		id = 0;

	while (p < end)
	{
		const char *nl = memchr(p, '\n', end - p);
		const char *eol = nl ? nl : end;
		int			n = eol - p;

		if (n > 0 && p[n - 1] == '\r')
			n--;
		vocab_add(tok, p, n, id++);
		p = nl ? nl + 1 : end;
	}
}

/* ---------------------------------------------------------------------
 * Loading
 * ---------------------------------------------------------------------
 */

/* Id of a special token that must exist; raises 22023 when it does not. */
static int32
special_id(EmbedTokenizer *tok, const char *path, const char *token)
{
	int32		id = vocab_id(tok, token);

	if (id < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tokenizer file \"%s\" has no token \"%s\"", path, token)));
	return id;
}

static bool
has_suffix(const char *s, const char *suffix)
{
	size_t		n = strlen(s);
	size_t		m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

EmbedTokenizer *
embed_tokenizer_load(const char *path, const char *data, size_t len,
					 bool lowercase, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	EmbedTokenizer *tok = palloc0(sizeof(EmbedTokenizer));

	tok->cxt = cxt;
	tok->vocab = vocab_create(cxt, 32768, NULL);
	tok->unk_token = "[UNK]";
	tok->prefix = "##";
	tok->max_word_chars = 100;
	tok->lowercase = lowercase;
	tok->strip_accents = lowercase;
	tok->clean_text = true;
	tok->cjk_words = true;
	MemoryContextSwitchTo(old);

	if (has_suffix(path, ".json"))
		load_tokenizer_json(tok, path, data, len);
	else
		load_vocab_txt(tok, data, len);

	if (tok->max_word_chars > TOKENIZE_MAX_WORD_CHARS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tokenizer file \"%s\" declares max_input_chars_per_word %d, more than %d",
						path, tok->max_word_chars, TOKENIZE_MAX_WORD_CHARS)));
	index_pieces(tok);
	tok->cls_id = special_id(tok, path, "[CLS]");
	tok->sep_id = special_id(tok, path, "[SEP]");
	tok->unk_id = special_id(tok, path, tok->unk_token);
	return tok;
}

int
embed_tokenizer_max_length(const EmbedTokenizer *tok)
{
	return tok->max_length;
}

/* ---------------------------------------------------------------------
 * Normalisation
 * ---------------------------------------------------------------------
 */

/* BERT's "other" characters, removed by cleaning (tab, LF, CR are kept). */
static bool
is_other(int32 c, utf8proc_category_t cat)
{
	if (c == '\t' || c == '\n' || c == '\r')
		return false;
	return cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF ||
		cat == UTF8PROC_CATEGORY_CN || cat == UTF8PROC_CATEGORY_CO ||
		cat == UTF8PROC_CATEGORY_CS;
}

static bool
is_space(int32 c, utf8proc_category_t cat)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL ||
		cat == UTF8PROC_CATEGORY_ZP;
}

/* Punctuation: categories P*, and all ASCII non-alphanumeric symbols. */
static bool
is_punct(int32 c)
{
	utf8proc_category_t cat;

	if (c < 128)
		return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) ||
			(c >= 91 && c <= 96) || (c >= 123 && c <= 126);
	cat = utf8proc_category(c);
	return cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO;
}

/* CJK Unified Ideographs blocks and their extensions and compatibility
 * blocks, the ranges BERT treats as one-character words. */
static bool
is_cjk(int32 c)
{
	return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
		(c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
		(c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
		(c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/* ---------------------------------------------------------------------
 * Tokenizing
 * ---------------------------------------------------------------------
 */

/*
 * A text is tokenized in one pass over its bytes, and only until the ids
 * are complete: each code point is decoded, decomposed (uncased models),
 * normalised and added to the word being read, and each word ends in
 * WordPiece ids as soon as a space or punctuation mark ends it.  Memory is
 * one word's worth (max_word_chars code points), whatever the length and
 * the script of the text: a text without spaces, as Chinese or Thai is
 * written, costs no more than any other.  A word longer than
 * max_word_chars becomes [UNK] whatever its characters, so only its length
 * is counted past that point.
 */

/* State of tokenizing one text. */
typedef struct TokenizeState
{
	const EmbedTokenizer *tok;
	int64	   *ids;			/* the ids so far */
	int			n;
	int			limit;			/* room kept for [SEP] */
	int32	   *word;			/* the word being read: its first
								 * max_word_chars + 1 code points */
	int			word_len;		/* its length in code points */
	int32	   *marks;			/* non-starters waiting for canonical
								 * ordering (at most max_word_chars + 1) */
	int			n_marks;
	int		   *offset;			/* wordpiece(): byte offset of each character */
	char	   *utf8;			/* wordpiece(): the word in UTF-8 */
} TokenizeState;

/* Append `id` unless the ids are complete. */
static void
push_id(TokenizeState *st, int32 id)
{
	if (st->n < st->limit)
		st->ids[st->n++] = id;
}

/*
 * Step 5: split the word `cps[0..len)` greedily into vocabulary entries
 * (the first from tok->vocab, the continuations from tok->pieces) and
 * append their ids; the whole word becomes [UNK] when it does not split or
 * is longer than max_word_chars (cps is then not read).
 */
static void
wordpiece(TokenizeState *st, const int32 *cps, int len)
{
	const EmbedTokenizer *tok = st->tok;
	int		   *offset = st->offset;
	char	   *utf8 = st->utf8;
	int			start = 0;
	int			first = st->n;

	if (len > tok->max_word_chars)
	{
		push_id(st, tok->unk_id);
		return;
	}

	/* UTF-8 of the word, with the byte offset of every character. */
	offset[0] = 0;
	for (int i = 0; i < len; i++)
		offset[i + 1] = offset[i] +
			utf8proc_encode_char(cps[i], (utf8proc_uint8_t *) utf8 + offset[i]);

	while (start < len)
	{
		vocab_hash *table = start > 0 ? tok->pieces : tok->vocab;
		int			end;
		int32		id = -1;

		/* each piece is a longest-match search: quadratic in the word */
		CHECK_FOR_INTERRUPTS();
		for (end = len; end > start; end--)
			if ((id = vocab_find(table, utf8 + offset[start],
								 offset[end] - offset[start])) >= 0)
				break;
		if (id < 0)
		{
			/* no split: the word's pieces so far are replaced by [UNK] */
			st->n = first;
			id = tok->unk_id;
			end = len;
		}
		push_id(st, id);
		start = end;
	}
}

/* The word being read is complete: append its ids and start the next. */
static void
end_word(TokenizeState *st)
{
	if (st->word_len > 0)
		wordpiece(st, st->word, st->word_len);
	st->word_len = 0;
}

/* Step 4: one normalised code point, where a space separates words. */
static void
split_char(TokenizeState *st, int32 c)
{
	if (c == ' ')
		end_word(st);
	else if (is_punct(c))
	{
		end_word(st);
		wordpiece(st, &c, 1);
	}
	else
	{
		if (st->word_len <= st->tok->max_word_chars)
			st->word[st->word_len] = c;
		st->word_len++;
	}
}

/* Steps 1 to 3 for one code point (already decomposed for NFD). */
static void
normalize_char(TokenizeState *st, int32 c)
{
	const EmbedTokenizer *tok = st->tok;
	utf8proc_category_t cat;

	/* ASCII letters and digits, the common case, need no tables */
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
	{
		split_char(st, c);
		return;
	}
	if (c >= 'A' && c <= 'Z')
	{
		split_char(st, tok->lowercase ? c + ('a' - 'A') : c);
		return;
	}
	cat = utf8proc_category(c);

	if (tok->clean_text && (c == 0 || c == 0xFFFD || is_other(c, cat)))
		return;
	if (is_space(c, cat))
		split_char(st, ' ');
	else if (tok->strip_accents && cat == UTF8PROC_CATEGORY_MN)
		return;
	else if (tok->cjk_words && is_cjk(c))
	{
		split_char(st, ' ');
		split_char(st, c);
		split_char(st, ' ');
	}
	else if (tok->lowercase && c == 0x130)
	{
		/* the one character whose lower case is two: i + dot above */
		split_char(st, 'i');
		split_char(st, 0x307);
	}
	else
		split_char(st, tok->lowercase ? utf8proc_tolower(c) : c);
}

static int
combining_class(int32 c)
{
	return utf8proc_get_property(c)->combining_class;
}

/* Canonical ordering: normalise the waiting non-starters, stably sorted
 * by combining class. */
static void
flush_marks(TokenizeState *st)
{
	int32	   *m = st->marks;

	for (int i = 1; i < st->n_marks; i++)
	{
		int32		c = m[i];
		int			ccc = combining_class(c);
		int			j = i;

		for (; j > 0 && combining_class(m[j - 1]) > ccc; j--)
			m[j] = m[j - 1];
		m[j] = c;
	}
	for (int i = 0; i < st->n_marks; i++)
		normalize_char(st, m[i]);
	st->n_marks = 0;
}

/*
 * Step 3's NFD for one code point of the text: its canonical
 * decomposition, each run of non-starters (combining class > 0) put in
 * canonical order before it is normalised.  Such characters are never
 * spaces, punctuation or CJK, so a run always lies inside one word.
 * Nonspacing marks (Mn) are dropped here rather than in normalize_char:
 * NFD is only done when accents are stripped, and dropping some elements
 * leaves the sorted order of the others as it was.  A run longer than
 * max_word_chars makes its word [UNK], so past that its order is moot and
 * it need not be kept.
 */
static void
decompose_char(TokenizeState *st, int32 c)
{
	utf8proc_int32_t d[8];		/* canonical decompositions have <= 4 */
	utf8proc_ssize_t n;
	int			boundclass = 0;

	if (c < 0x80)
	{
		/* ASCII is a starter and its own decomposition */
		flush_marks(st);
		normalize_char(st, c);
		return;
	}
	n = utf8proc_decompose_char(c, d, lengthof(d), UTF8PROC_DECOMPOSE,
								&boundclass);
	if (n < 0 || n > lengthof(d))
		elog(ERROR, "could not decompose code point U+%04X", (unsigned int) c);
	for (int i = 0; i < n; i++)
	{
		if (combining_class(d[i]) == 0)
		{
			flush_marks(st);
			normalize_char(st, d[i]);
		}
		else if (utf8proc_category(d[i]) == UTF8PROC_CATEGORY_MN)
			continue;
		else if (st->n_marks > st->tok->max_word_chars)
			normalize_char(st, d[i]);
		else
			st->marks[st->n_marks++] = d[i];
	}
}

int
embed_tokenize(const EmbedTokenizer *tok, const char *text, int len,
			   int max_length, int64 *ids)
{
	int			room = tok->max_word_chars + 1;
	TokenizeState st = {tok, ids, 0, max_length - 1};

	Assert(max_length >= 2);
	st.word = palloc(sizeof(int32) * room);
	st.marks = palloc(sizeof(int32) * room);
	st.offset = palloc(sizeof(int) * (room + 1));
	st.utf8 = palloc(4 * room);

	st.ids[st.n++] = tok->cls_id;
	for (int i = 0, count = 0; i < len && st.n < st.limit; count++)
	{
		utf8proc_int32_t c;

		if (!IS_HIGHBIT_SET(text[i]))
			c = (unsigned char) text[i++];
		else
		{
			utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *) text + i,
												  len - i, &c);

			/* invalid UTF-8 is skipped byte by byte */
			i += k > 0 ? k : 1;
			if (k <= 0)
				continue;
		}
		if (tok->strip_accents)
			decompose_char(&st, c);
		else
			normalize_char(&st, c);
		if ((count & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	flush_marks(&st);
	end_word(&st);
	st.ids[st.n++] = tok->sep_id;

	pfree(st.word);
	pfree(st.marks);
	pfree(st.offset);
	pfree(st.utf8);
	return st.n;
}
