/*-------------------------------------------------------------------------
 *
 * target_tokenize.c
 *	  Target "tokenize": vsim.tokenize on random and mutated text.
 *
 * Three text models share test/embed/models.py's tiny_bert.onnx and its
 * 90-token vocab.txt: fz_u (vocab.txt, uncased: NFD and accents
 * stripped, max_length 8192), fz_s (the same with max_length 10) and fz_c
 * (a cased tokenizer.json written here from the same vocabulary, max_length
 * 8192 from its truncation section).  Each case is two texts A and B, and
 * one statement tokenizes A and B with fz_u, "A B" with fz_u, A with fz_s
 * and A with fz_c.  The oracle:
 *	- invalid UTF-8 is refused (22021) and nothing else is;
 *	- every result is [CLS] ids... [SEP], no longer than max_length, its
 *	  ids those of vocabulary entries other than the special tokens
 *	  ([UNK] aside);
 *	- "A B" gives A's tokens then B's (words never span a space), and fz_s
 *	  gives the first tokens of fz_u (truncation keeps a prefix);
 *	- for ASCII text, fz_u and fz_c give exactly what a reference
 *	  WordPiece written here gives (drop controls, split on white space
 *	  and punctuation, greedy longest match, words over 100 characters
 *	  are [UNK]).
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#define LONG_MAX_LENGTH 8192
#define SHORT_MAX_LENGTH 10
#define MAX_WORD_CHARS 100
#define MAX_VOCAB 4096

/* The vocabulary, id = line number of vocab.txt. */
static char *vocab[MAX_VOCAB];
static int	vocab_n;
static int	vocab_longest;
static int	cls_id,
			sep_id,
			unk_id,
			pad_id,
			mask_id;

/* Token ids of one result or of the reference (MAX_IDS: a long fz_u
 * result, or a reference tokenization before truncation). */
#define MAX_IDS (LONG_MAX_LENGTH * 2)
typedef struct Ids
{
	int			n;
	int			id[MAX_IDS];
} Ids;

static Ids	got[5];
static Ids	want;

/* ---------------------------------------------------------------------
 * Vocabulary and models
 * ---------------------------------------------------------------------
 */

static int
vocab_find(const char *s, size_t len)
{
	for (int i = vocab_n - 1; i >= 0; i--)	/* a later duplicate wins */
		if (strlen(vocab[i]) == len && memcmp(vocab[i], s, len) == 0)
			return i;
	return -1;
}

static int
special(const char *token)
{
	int			id = vocab_find(token, strlen(token));

	if (id < 0)
	{
		fprintf(stderr, "vsim_fuzz: vocab.txt has no %s\n", token);
		exit(2);
	}
	return id;
}

static void
load_vocab(const char *dir)
{
	char		path[4096];
	Buf			b = {0};
	char	   *line;
	char	   *save = NULL;

	snprintf(path, sizeof(path), "%s/vocab.txt", dir);
	buf_read_file(&b, path);
	for (line = strtok_r(b.data, "\n", &save); line && vocab_n < MAX_VOCAB;
		 line = strtok_r(NULL, "\n", &save))
	{
		vocab[vocab_n++] = strdup(line);
		if ((int) strlen(line) > vocab_longest)
			vocab_longest = (int) strlen(line);
	}
	buf_free(&b);
	cls_id = special("[CLS]");
	sep_id = special("[SEP]");
	unk_id = special("[UNK]");
	pad_id = special("[PAD]");
	mask_id = special("[MASK]");
}

/* A JSON string literal of s. */
static void
put_json_string(Buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s; s++)
	{
		if (*s == '"' || *s == '\\')
			buf_putc(b, '\\');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

/* Also the seed of the model target's tokenizer.json mutations. */
void
tokenizer_json(Buf *b, const char *model_dir)
{
	if (vocab_n == 0)
		load_vocab(model_dir);
	buf_reset(b);
	buf_printf(b, "{\"version\": \"1.0\", \"truncation\": {\"max_length\": %d},\n"
			   "\"normalizer\": {\"type\": \"BertNormalizer\", \"clean_text\": true, "
			   "\"handle_chinese_chars\": true, \"strip_accents\": false, \"lowercase\": false},\n"
			   "\"model\": {\"type\": \"WordPiece\", \"unk_token\": \"[UNK]\", "
			   "\"continuing_subword_prefix\": \"##\", \"max_input_chars_per_word\": %d,\n"
			   "\"vocab\": {", LONG_MAX_LENGTH, MAX_WORD_CHARS);
	for (int i = 0; i < vocab_n; i++)
	{
		if (i > 0)
			buf_puts(b, ", ");
		put_json_string(b, vocab[i]);
		buf_printf(b, ": %d", i);
	}
	buf_puts(b, "}}}\n");
}

static void
setup_tokenize(PGconn *conn, const FuzzConfig *cfg)
{
	static const unsigned int text_types[2] = {25, 25};	/* text */
	char		path[4096];
	Buf			json = {0};

	tokenizer_json(&json, cfg->model_dir);
	snprintf(path, sizeof(path), "%s/fuzz_cased.json", cfg->model_dir);
	buf_write_file(&json, path);
	buf_free(&json);
	exec_or_die(conn, "SELECT vsim.create_model('fz_u', 'tiny_bert.onnx', 'vocab.txt', "
				"'{\"max_length\": 8192}', true)");
	exec_or_die(conn, "SELECT vsim.create_model('fz_s', 'tiny_bert.onnx', 'vocab.txt', "
				"'{\"max_length\": 10}', true)");
	exec_or_die(conn, "SELECT vsim.create_model('fz_c', 'tiny_bert.onnx', "
				"'fuzz_cased.json', NULL, true)");
	prepare_or_die(conn, "tok",
				   "SELECT vsim.tokenize('fz_u', $1), vsim.tokenize('fz_u', $2), "
				   "vsim.tokenize('fz_u', $1 || ' ' || $2), vsim.tokenize('fz_s', $1), "
				   "vsim.tokenize('fz_c', $1)", 2, text_types);
}

/* ---------------------------------------------------------------------
 * Texts
 * ---------------------------------------------------------------------
 */

/* ASCII text: words, punctuation, controls, case, long words and runs. */
static void
ascii_text(Rng *r, Buf *b, size_t bytes)
{
	static const char *const words[] = {"the", "cat", "sat", "on", "mat",
		"dog", "dogs", "run", "running", "hello", "world", "vsim", "checks",
		"this", "model", "cafe", "caf", "HELLO", "The", "xyzzy", "q", "##s",
	"[CLS]", "[UNK]", "[SEP]", "a1", "tests", "nose", "rain"};

	while (b->len < bytes)
	{
		int			p = (int) rng_below(r, 100);

		if (p < 50)
			buf_puts(b, rng_pick(r, words, sizeof(words) / sizeof(words[0])));
		else if (p < 65)
			buf_putc(b, (char) rng_range(r, 0x21, 0x7E));
		else if (p < 72)
			buf_putc(b, (char) (rng_percent(r, 90) ? rng_range(r, 1, 0x1F) : 0x7F));
		else if (p < 75)		/* near 100 letters, mostly splittable */
			for (int n = rng_range(r, 95, 105); n > 0; n--)
				buf_putc(b, rng_percent(r, 97) ? "aeinorst"[rng_below(r, 8)] :
						 (char) ('a' + rng_below(r, 26)));
		else
			buf_putc(b, " \t\n\r\v\f"[rng_below(r, 6)]);
		if (rng_percent(r, 40))
			buf_putc(b, ' ');
	}
}

/* Size of text A: mostly short, sometimes long enough that the server
 * cuts it into pieces (64 kB). */
static size_t
text_size(Rng *r)
{
	int			p = (int) rng_below(r, 1000);

	if (p < 700)
		return (size_t) rng_range(r, 0, 60);
	if (p < 900)
		return (size_t) rng_range(r, 60, 600);
	if (p < 980)
		return (size_t) rng_range(r, 600, 5000);
	if (p < 995)
		return (size_t) rng_range(r, 5000, 20000);
	return (size_t) rng_range(r, 65000, 140000);
}

static void
make_text(Rng *r, Buf *b, size_t bytes, bool ascii)
{
	buf_reset(b);
	if (ascii)
		ascii_text(r, b, bytes);
	else
		utf8_random_text(r, b, bytes);
	if (rng_percent(r, 6))
	{
		mutate_bytes(r, b, NULL, 0, 4);
		buf_no_nul(b);
	}
}

static void
generate_tokenize(Rng *r, Case *c)
{
	bool		ascii = rng_percent(r, 35);

	c->stmt = "tok";
	c->n_params = 2;
	c->binary[0] = c->binary[1] = false;
	c->binary_result = false;
	make_text(r, &c->param[0], text_size(r), ascii);
	make_text(r, &c->param[1], (size_t) rng_range(r, 0, 80), ascii);
}

/* ---------------------------------------------------------------------
 * Reference WordPiece for ASCII
 * ---------------------------------------------------------------------
 */

static bool
ascii_punct(int c)
{
	return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) ||
		(c >= 91 && c <= 96) || (c >= 123 && c <= 126);
}

static void
push_id(Ids *ids, int id)
{
	if (ids->n < MAX_IDS)
		ids->id[ids->n++] = id;
}

/* Greedy longest-match split of one word. */
static void
ref_word(const char *w, int len, Ids *out)
{
	int			first = out->n;
	char		piece[MAX_WORD_CHARS + 3] = "##";

	if (len > MAX_WORD_CHARS)
	{
		push_id(out, unk_id);
		return;
	}
	for (int start = 0; start < len;)
	{
		int			end = len < start + vocab_longest ? len : start + vocab_longest;
		int			id = -1;

		for (; end > start; end--)
		{
			memcpy(piece + 2, w + start, end - start);
			id = start == 0 ? vocab_find(piece + 2, end - start) :
				vocab_find(piece, end - start + 2);
			if (id >= 0)
				break;
		}
		if (id < 0)
		{
			out->n = first;
			push_id(out, unk_id);
			return;
		}
		push_id(out, id);
		start = end;
	}
}

/* The ids between [CLS] and [SEP] the reference gives for ASCII s. */
static void
ref_tokenize(const char *s, size_t len, bool lowercase, Ids *out)
{
	char		word[MAX_WORD_CHARS + 1];
	int			wlen = 0;
	bool		overlong = false;

	out->n = 0;
	for (size_t i = 0; i <= len; i++)
	{
		int			c = i < len ? (unsigned char) s[i] : ' ';

		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F)
			continue;			/* controls are dropped */
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || ascii_punct(c))
		{
			if (wlen > 0 || overlong)
				ref_word(word, overlong ? MAX_WORD_CHARS + 1 : wlen, out);
			wlen = 0;
			overlong = false;
			if (ascii_punct(c))
			{
				char		p = (char) c;

				ref_word(&p, 1, out);
			}
			continue;
		}
		if (lowercase && c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (wlen == MAX_WORD_CHARS)
			overlong = true;
		else
			word[wlen++] = (char) c;
	}
}

/* ---------------------------------------------------------------------
 * Oracle
 * ---------------------------------------------------------------------
 */

/* Parse an int[] text "{1,2,3}" into ids; false when malformed. */
static bool
parse_ids(const char *s, Ids *ids)
{
	const char *p = s;

	ids->n = 0;
	if (*p++ != '{')
		return false;
	while (*p && *p != '}')
	{
		char	   *end;
		long		v = strtol(p, &end, 10);

		if (end == p || ids->n == MAX_IDS)
			return false;
		ids->id[ids->n++] = (int) v;
		p = *end == ',' ? end + 1 : end;
	}
	return *p == '}' && p[1] == '\0';
}

/* [CLS] ids [SEP], at most max ids, the inner ones ordinary tokens. */
static bool
well_formed(const Ids *ids, int max, Buf *why)
{
	if (ids->n < 2 || ids->n > max || ids->id[0] != cls_id ||
		ids->id[ids->n - 1] != sep_id)
	{
		buf_printf(why, "not [CLS] ... [SEP] of at most %d ids (%d ids)", max, ids->n);
		return false;
	}
	for (int i = 1; i < ids->n - 1; i++)
	{
		int			id = ids->id[i];

		if (id < 0 || id >= vocab_n || id == cls_id || id == sep_id ||
			id == pad_id || id == mask_id)
		{
			buf_printf(why, "id %d at %d is not an ordinary token", id, i);
			return false;
		}
	}
	return true;
}

/* True when the inner ids of `ids` are the first ones of `expected`, all
 * of them or as many as max_length leaves room for. */
static bool
inner_matches(const Ids *ids, const Ids *expected, int max_length)
{
	int			n = expected->n < max_length - 2 ? expected->n : max_length - 2;

	if (ids->n - 2 != n)
		return false;
	return memcmp(ids->id + 1, expected->id, sizeof(int) * n) == 0;
}

/* The inner ids of a and then of b (may be NULL) into out. */
static void
concat_inner(const Ids *a, const Ids *b, Ids *out)
{
	out->n = 0;
	for (int i = 1; i < a->n - 1; i++)
		push_id(out, a->id[i]);
	for (int i = 1; b && i < b->n - 1; i++)
		push_id(out, b->id[i]);
}

static bool
is_ascii(const Buf *b)
{
	for (size_t i = 0; i < b->len; i++)
		if ((unsigned char) b->data[i] >= 0x80)
			return false;
	return true;
}

/* The relations between the five results of a case. */
static Outcome
check_relations(const Case *c, Buf *why)
{
	const char *failed = NULL;

	concat_inner(&got[0], &got[1], &want);
	if (!inner_matches(&got[2], &want, LONG_MAX_LENGTH))
		failed = "tokens of \"A B\" are not those of A then B";
	concat_inner(&got[0], NULL, &want);
	if (!failed && !inner_matches(&got[3], &want, SHORT_MAX_LENGTH))
		failed = "max_length 10 does not give the first tokens of max_length 8192";
	if (!failed && is_ascii(&c->param[0]))
	{
		ref_tokenize(c->param[0].data, c->param[0].len, true, &want);
		if (!inner_matches(&got[0], &want, LONG_MAX_LENGTH))
			failed = "uncased tokens of ASCII text differ from the reference";
		ref_tokenize(c->param[0].data, c->param[0].len, false, &want);
		if (!failed && !inner_matches(&got[4], &want, LONG_MAX_LENGTH))
			failed = "cased tokens of ASCII text differ from the reference";
	}
	if (failed == NULL)
		return OUTCOME_ACCEPTED;
	buf_puts(why, failed);
	return OUTCOME_FAILED;
}

static Outcome
check_tokenize(const Case *c, const PGresult *res, Buf *why)
{
	static const int max[5] = {LONG_MAX_LENGTH, LONG_MAX_LENGTH,
	LONG_MAX_LENGTH, SHORT_MAX_LENGTH, LONG_MAX_LENGTH};
	static const char *const invalid[] = {"22021"};
	bool		valid = utf8_valid(c->param[0].data, c->param[0].len) &&
		utf8_valid(c->param[1].data, c->param[1].len);

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		if (valid)
			return judge_error(res, NULL, 0, why);
		return judge_error(res, invalid, 1, why);
	}
	if (!valid)
	{
		buf_puts(why, "accepted invalid UTF-8");
		return OUTCOME_FAILED;
	}
	for (int i = 0; i < 5; i++)
	{
		if (!parse_ids(PQgetvalue(res, 0, i), &got[i]))
		{
			buf_printf(why, "result %d is not an int[]: %.100s", i + 1, PQgetvalue(res, 0, i));
			return OUTCOME_FAILED;
		}
		if (!well_formed(&got[i], max[i], why))
		{
			buf_printf(why, " in result %d", i + 1);
			return OUTCOME_FAILED;
		}
	}
	return check_relations(c, why);
}

const Target target_tokenize = {"tokenize", setup_tokenize, generate_tokenize, check_tokenize, NULL};
