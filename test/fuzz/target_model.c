/*-------------------------------------------------------------------------
 *
 * target_model.c
 *	  Target "model": vsim.create_model with mutated files and arguments.
 *
 * Each case writes files into the model directory and registers them as
 * model "fz_reg" (replace => true):
 *	- a mutated tiny_bert.onnx (protobuf-aware or byte-level: bit flips,
 *	  truncation, junk) with the valid vocab.txt;
 *	- a mutated tensor model (mlp.onnx, dyn.onnx, dyn4.onnx);
 *	- the valid tiny_bert.onnx with a mutated vocab.txt or tokenizer.json;
 *	- a valid model with generated options (any keys, values of any JSON
 *	  type and range, invalid JSON);
 *	- odd names and paths (empty, too long, "..", outside the directory,
 *	  a symbolic link out of it, a directory, missing files).
 * The oracle: registration returns dimensions in 1..16000 or raises one
 * of the SQLSTATEs of a clean refusal.  A registered text model must then
 * tokenize a sample text (short, random, or one long word the vocabulary
 * splits) under statement_timeout 1s, answering or being cancelled within
 * 5 s; every registered model must embed a sample, giving a vector of the
 * registered dimensions or a clean error, and drop.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

#define KIND_BERT		0		/* mutated text model */
#define KIND_TENSOR		1		/* mutated tensor model */
#define KIND_VOCAB		2		/* mutated vocab.txt */
#define KIND_JSON		3		/* mutated tokenizer.json */
#define KIND_OPTIONS	4		/* generated options */
#define KIND_PATHS		5		/* odd names and paths */

#define N_TENSOR 3
static const char *const tensor_files[N_TENSOR] = {"mlp.onnx", "dyn.onnx", "dyn4.onnx"};
static const char *const tensor_options[N_TENSOR] = {"{}", "{\"input_shape\": [1, 7]}",
"{\"input_shape\": [1, 2, 3, 4]}"};

static Buf	seed_bert;
static Buf	seed_vocab;
static Buf	seed_json;
static Buf	seed_tensor[N_TENSOR];
static const char *dir;

/* SQLSTATEs of a clean refusal to register, and of a clean failure to
 * run a registered model. */
static const char *const register_errors[] = {
	"22023", "22P02", "0A000", "22000", "22003", "42804", "54000", "54001",
	"53200", "38000", "42501", "58P01", "42809", "42622", "22004", "22021",
};
static const char *const use_errors[] = {"38000", "22000", "22003", "53200", "54000", "22023"};

/* A registered tokenizer must let vsim.tokenize be cancelled: with this
 * statement_timeout, within CANCEL_SLACK seconds. */
#define CANCEL_TIMEOUT "1s"
#define CANCEL_SLACK 5.0

#define N_REGISTER_ERRORS ((int) (sizeof(register_errors) / sizeof(register_errors[0])))
#define N_USE_ERRORS ((int) (sizeof(use_errors) / sizeof(use_errors[0])))

/* Names in ONNX models, for protobuf string mutations. */
static const char *const onnx_dict[] = {
	"input_ids", "attention_mask", "token_type_ids", "last_hidden_state",
	"sentence_embedding", "pixels", "embedding", "scores", "x", "y", "",
	"MatMul", "Gather", "Reshape", "Transpose", "Softmax", "Add", "Mul",
	"Cast", "Shape", "Range", "Unsqueeze", "ReduceMean", "ReduceSum", "Erf",
	"Flatten", "Relu", "Expand", "Loop", "If", "Identity", "Concat", "Slice",
	"ConstantOfShape", "NonZero", "Einsum", "Where", "TopK", "com.microsoft",
	"ai.onnx.ml", "batch", "seq", "axis", "axes", "perm", "to", "keepdims",
};
#define N_ONNX_DICT ((int) (sizeof(onnx_dict) / sizeof(onnx_dict[0])))

static const char *const json_dict[] = {
	"{", "}", "[", "]", ",", ":", "\"", "\\", "\\u0000", "\\ud800", "\\u00e9",
	"null", "true", "false", "-1", "1e5", "2147483648", "\"WordPiece\"",
	"\"vocab\"", "\"model\"", "\"type\"", "\"truncation\"", "\"max_length\"",
};
#define N_JSON_DICT ((int) (sizeof(json_dict) / sizeof(json_dict[0])))

/* ---------------------------------------------------------------------
 * Setup
 * ---------------------------------------------------------------------
 */

static void
read_seed(Buf *b, const char *name)
{
	char		path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	buf_read_file(b, path);
}

static void
setup_model(PGconn *conn, const FuzzConfig *cfg)
{
	static const unsigned int text4[4] = {25, 25, 25, 25};
	char		path[4096];
	char		link[4096];

	dir = cfg->model_dir;
	read_seed(&seed_bert, "tiny_bert.onnx");
	read_seed(&seed_vocab, "vocab.txt");
	for (int i = 0; i < N_TENSOR; i++)
		read_seed(&seed_tensor[i], tensor_files[i]);
	tokenizer_json(&seed_json, dir);
	snprintf(path, sizeof(path), "%s/fz_dir", dir);
	mkdir(path, 0755);
	snprintf(link, sizeof(link), "%s/fz_link.onnx", dir);
	unlink(link);
	if (symlink("/etc/hostname", link) != 0)
		perror(link);
	prepare_or_die(conn, "reg", "SELECT vsim.create_model($1, $2, $3, $4::jsonb, true)",
				   4, text4);
	prepare_or_die(conn, "use_tok", "SELECT vsim.tokenize($1, $2)", 2, text4);
	prepare_or_die(conn, "use_text",
				   "SELECT vector_dims(vsim.embed($1, 'the cat sat on the mat'))", 1, text4);
	prepare_or_die(conn, "shape",
				   "SELECT (SELECT coalesce(round(exp(sum(ln(d)))), 1) FROM unnest(input_shape) d) "
				   "FROM vsim.models WHERE name = $1", 1, text4);
	prepare_or_die(conn, "use_tensor",
				   "SELECT vector_dims(vsim.embed($1, array_fill(0.5::real, ARRAY[$2::int])))",
				   2, text4);
	prepare_or_die(conn, "drop", "SELECT vsim.drop_model($1)", 1, text4);
}

/* ---------------------------------------------------------------------
 * File mutations
 * ---------------------------------------------------------------------
 */

static void
mutate_onnx(Rng *r, Buf *b)
{
	if (rng_percent(r, 65) && protobuf_mutate(r, b, onnx_dict, N_ONNX_DICT, 4))
		return;
	mutate_bytes(r, b, onnx_dict, N_ONNX_DICT, 6);
}

/* Start offsets of the lines of b (at most max), returns their number. */
static int
line_starts(const Buf *b, size_t *starts, int max)
{
	int			n = 0;

	for (size_t i = 0; i < b->len && n < max; i++)
		if (i == 0 || b->data[i - 1] == '\n')
			starts[n++] = i;
	return n;
}

static void
put_odd_line(Rng *r, Buf *line)
{
	static const char *const lines[] = {"[CLS]", "[SEP]", "[UNK]", "", "##",
	"#", "##a", " ", "\r", "the", "\xc3\xa9", "\xff\xfe"};

	if (rng_percent(r, 10))
		for (int n = rng_range(r, 100, 100000); n > 0; n--)
			buf_putc(line, 'a');
	else if (rng_percent(r, 20))
		utf8_random_text(r, line, (size_t) rng_range(r, 1, 40));
	else
		buf_puts(line, rng_pick(r, lines, sizeof(lines) / sizeof(lines[0])));
	buf_putc(line, '\n');
}

/* Line-level mutations of vocab.txt, then maybe byte-level ones. */
static void
mutate_vocab(Rng *r, Buf *b)
{
	size_t		starts[4096];
	int			n = line_starts(b, starts, 4096);
	size_t		at = n ? starts[rng_below(r, (uint32_t) n)] : 0;
	Buf			line = {0};

	switch (rng_below(r, 4))
	{
		case 0:					/* delete a line */
			{
				const char *nl = memchr(b->data + at, '\n', b->len - at);

				buf_erase(b, at, nl ? (size_t) (nl - (b->data + at)) + 1 : b->len - at);
			}
			break;
		case 1:					/* insert a line */
			put_odd_line(r, &line);
			buf_insert(b, at, line.data, line.len);
			break;
		case 2:					/* CRLF line ends */
			for (size_t i = 0; i < b->len; i++)
				if (b->data[i] == '\n')
					buf_insert(b, i++, "\r", 1);
			break;
		default:
			mutate_bytes(r, b, NULL, 0, 6);
			break;
	}
	buf_free(&line);
}

/* A scalar token of a JSON text: its span, and whether it is a key. */
typedef struct JsonToken
{
	size_t		start;
	size_t		len;
	bool		key;
} JsonToken;

/* The number, string and literal tokens of b (at most max). */
static int
json_tokens(const Buf *b, JsonToken *tokens, int max)
{
	int			n = 0;

	for (size_t i = 0; i < b->len && n < max; i++)
	{
		size_t		j = i + 1;
		size_t		after;

		if (b->data[i] == '"')
		{
			while (j < b->len && b->data[j] != '"')
				j += b->data[j] == '\\' ? 2 : 1;
			j = j < b->len ? j + 1 : b->len;
		}
		else if (strchr("-0123456789tfn", b->data[i]))
			while (j < b->len && strchr("+-.eE0123456789truefalsn", b->data[j]))
				j++;
		else
			continue;
		for (after = j; after < b->len && strchr(" \t\r\n", b->data[after]); after++)
			;
		tokens[n].start = i;
		tokens[n].len = j - i;
		tokens[n++].key = after < b->len && b->data[after] == ':';
		i = j - 1;
	}
	return n;
}

/* A value of any type, sometimes nested deeply, to replace a token. */
static void
put_json_replacement(Rng *r, Buf *b, bool key)
{
	static const char *const keys[] = {"\"model\"", "\"vocab\"", "\"type\"",
		"\"truncation\"", "\"normalizer\"", "\"max_length\"", "\"lowercase\"",
		"\"strip_accents\"", "\"unk_token\"", "\"continuing_subword_prefix\"",
		"\"max_input_chars_per_word\"", "\"[CLS]\"", "\"[SEP]\"", "\"[UNK]\"",
	"\"x\"", "\"\"", "\"\\u0000\"", "\"\\ud800\"", "\"##\""};
	static const char *const values[] = {"-1", "0", "1", "2147483647",
		"2147483648", "1e5", "1.5", "-0", "8193", "99999999999999999999",
		"\"\"", "\"WordPiece\"", "\"BPE\"", "\"[UNK]\"", "\"##\"", "\"\\u0000\"",
		"\"\\ud800\"", "\"\\u00e9\"", "true", "false", "null", "{}", "[]",
	"\"model\"", "\"[CLS]\"", "{\"a\": [1, {\"b\": 2}]}", "[[\"a\", 1.0]]"};
	int			depth = rng_percent(r, 50) ? rng_range(r, 5, 50) : rng_range(r, 1000, 200000);

	if (key)
		buf_puts(b, rng_pick(r, keys, sizeof(keys) / sizeof(keys[0])));
	else if (rng_percent(r, 95))
		buf_puts(b, rng_pick(r, values, sizeof(values) / sizeof(values[0])));
	else
	{
		for (int i = 0; i < depth; i++)
			buf_putc(b, '[');
		for (int i = 0; i < depth; i++)
			buf_putc(b, ']');
	}
}

/* Replace one token of tokenizer.json (a key by another key, a value by
 * a value of any type), or mutate bytes. */
static void
mutate_json(Rng *r, Buf *b)
{
	static JsonToken tokens[65536];
	int			n = json_tokens(b, tokens, 65536);
	JsonToken  *t = n ? &tokens[rng_below(r, (uint32_t) n)] : NULL;
	Buf			v = {0};

	if (t == NULL || rng_percent(r, 5))
	{
		mutate_bytes(r, b, json_dict, N_JSON_DICT, 6);
		return;
	}
	put_json_replacement(r, &v, t->key);
	buf_erase(b, t->start, t->len);
	buf_insert(b, t->start, v.data, v.len);
	buf_free(&v);
}

/* ---------------------------------------------------------------------
 * Options
 * ---------------------------------------------------------------------
 */

static void put_json_value(Rng *r, Buf *b, int depth);

static void
put_shape(Rng *r, Buf *b)
{
	static const char *const dims[] = {"1", "2", "3", "4", "6", "7", "0", "-1",
	"2147483647", "2147483648", "65536", "1.5", "\"1\"", "null", "[1]"};
	int			rank = rng_range(r, 0, 9);

	buf_putc(b, '[');
	for (int i = 0; i < rank; i++)
		buf_printf(b, "%s%s", i ? ", " : "", rng_pick(r, dims, sizeof(dims) / sizeof(dims[0])));
	buf_putc(b, ']');
}

static void
put_json_value(Rng *r, Buf *b, int depth)
{
	static const char *const scalars[] = {"null", "true", "false", "0", "1",
		"-1", "2", "10", "512", "8192", "8193", "16000", "16001", "1.5",
		"1e400", "-0", "2147483648", "9223372036854775808", "1e-400",
		"\"text\"", "\"tensor\"", "\"mean\"", "\"cls\"", "\"none\"", "\"auto\"",
		"\"\"", "\"input_ids\"", "\"attention_mask\"", "\"token_type_ids\"",
		"\"last_hidden_state\"", "\"pixels\"", "\"embedding\"", "\"scores\"",
	"\"x\"", "\"y\"", "\"\\u00e9\"", "0.0000001", "-3.4e38"};

	switch (depth < 3 ? rng_below(r, 8) : 0)
	{
		case 6:
			put_shape(r, b);
			break;
		case 7:
			buf_puts(b, "{\"k\": ");
			put_json_value(r, b, depth + 1);
			buf_putc(b, '}');
			break;
		default:
			buf_puts(b, rng_pick(r, scalars, sizeof(scalars) / sizeof(scalars[0])));
			break;
	}
}

/* A value of the type option `key` takes (any range, any name). */
static void
put_fitting_value(Rng *r, Buf *b, const char *key)
{
	static const char *const names[] = {"\"input_ids\"", "\"attention_mask\"",
		"\"token_type_ids\"", "\"last_hidden_state\"", "\"pixels\"",
	"\"embedding\"", "\"scores\"", "\"x\"", "\"y\"", "\"\"", "\"nope\""};
	static const char *const numbers[] = {"0", "1", "2", "3", "4", "5", "6",
	"10", "512", "8192", "8193", "16000", "16001", "-1", "1.5", "1e10"};

	if (strcmp(key, "input_shape") == 0)
		put_shape(r, b);
	else if (strcmp(key, "input") == 0)
		buf_puts(b, rng_percent(r, 50) ? "\"text\"" : "\"tensor\"");
	else if (strcmp(key, "pooling") == 0)
		buf_puts(b, rng_pick(r, (const char *const[]) {"\"mean\"", "\"cls\"", "\"none\"", "\"auto\""}, 4));
	else if (strcmp(key, "normalize") == 0 || strcmp(key, "lowercase") == 0)
		buf_puts(b, rng_percent(r, 50) ? "true" : "false");
	else if (strcmp(key, "max_length") == 0 || strcmp(key, "dimensions") == 0 ||
			 strcmp(key, "input_scale") == 0)
		buf_puts(b, rng_pick(r, numbers, sizeof(numbers) / sizeof(numbers[0])));
	else
		buf_puts(b, rng_pick(r, names, sizeof(names) / sizeof(names[0])));
}

static void
put_options(Rng *r, Buf *b)
{
	static const char *const keys[] = {"input", "input_ids", "attention_mask",
		"token_type_ids", "input_name", "input_shape", "input_scale", "output",
		"pooling", "normalize", "lowercase", "max_length", "dimensions",
	"Input", "max_length ", "", "extra"};
	int			n = rng_range(r, 0, 5);

	if (rng_percent(r, 5))
	{
		put_json_value(r, b, 0);	/* not an object */
		return;
	}
	buf_putc(b, '{');
	for (int i = 0; i < n; i++)
	{
		const char *key = rng_pick(r, keys, sizeof(keys) / sizeof(keys[0]));

		buf_printf(b, "%s\"%s\": ", i ? ", " : "", key);
		if (rng_percent(r, 60))
			put_fitting_value(r, b, key);
		else
			put_json_value(r, b, 0);
	}
	buf_putc(b, '}');
	if (rng_percent(r, 5))
		mutate_bytes(r, b, json_dict, N_JSON_DICT, 3);
}

/* ---------------------------------------------------------------------
 * Cases
 * ---------------------------------------------------------------------
 */

static void
write_file(const char *name, const Buf *b)
{
	char		path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	buf_write_file(b, path);
}

/* Registration arguments: name, model path, tokenizer path (NULL for
 * tensor models), options. */
static void
set_args(Case *c, const char *model, const char *tokenizer, const char *options)
{
	c->stmt = "reg";
	c->n_params = 4;
	buf_puts(&c->param[0], "fz_reg");
	buf_puts(&c->param[1], model);
	if (tokenizer)
		buf_puts(&c->param[2], tokenizer);
	c->null[2] = tokenizer == NULL;
	if (options)
		buf_puts(&c->param[3], options);
	c->null[3] = options == NULL;
}

static void
odd_paths(Rng *r, Case *c)
{
	static const char *const names[] = {"", "m", "fz model", "\xc3\xbc",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
	static const char *const paths[] = {"", ".", "..", "../tiny_bert.onnx",
		"fz_dir", "fz_dir/../tiny_bert.onnx", "fz_link.onnx", "/etc/hostname",
		"/", "tiny_bert.onnx/", "./tiny_bert.onnx", "missing.onnx", "vocab.txt",
	"tiny_bert.onnx", "tiny_bert.onnx\x01", "tiny_bert.onnx ", "~/x", "mlp.onnx"};
	const char *tok = rng_percent(r, 50) ? rng_pick(r, paths, sizeof(paths) / sizeof(paths[0])) : NULL;
	Buf			model = {0};

	if (rng_percent(r, 10))
		for (int n = rng_range(r, 1000, 5000); n > 0; n--)
			buf_puts(&model, "a/");
	else if (rng_percent(r, 10))
		buf_printf(&model, "%s/tiny_bert.onnx", dir);
	else
		buf_puts(&model, rng_pick(r, paths, sizeof(paths) / sizeof(paths[0])));
	set_args(c, model.data, tok, rng_percent(r, 20) ? NULL : "{}");
	buf_reset(&c->param[0]);
	buf_puts(&c->param[0], rng_pick(r, names, sizeof(names) / sizeof(names[0])));
	buf_free(&model);
}

static void
generate_model(Rng *r, Case *c)
{
	static const int weights[] = {30, 20, 15, 15, 15, 5};
	int			p = (int) rng_below(r, 100);
	int			t = (int) rng_below(r, N_TENSOR);
	Buf			file = {0};
	Buf			options = {0};

	for (c->kind = 0; p >= weights[c->kind]; c->kind++)
		p -= weights[c->kind];
	switch (c->kind)
	{
		case KIND_BERT:
			buf_copy(&file, &seed_bert);
			mutate_onnx(r, &file);
			write_file("fz_model.onnx", &file);
			set_args(c, "fz_model.onnx", "vocab.txt", rng_percent(r, 50) ? "{}" : "{\"max_length\": 16}");
			break;
		case KIND_TENSOR:
			buf_copy(&file, &seed_tensor[t]);
			mutate_onnx(r, &file);
			write_file("fz_model.onnx", &file);
			set_args(c, "fz_model.onnx", NULL, tensor_options[t]);
			break;
		case KIND_VOCAB:
			buf_copy(&file, &seed_vocab);
			for (int n = rng_range(r, 1, 3); n > 0; n--)
				mutate_vocab(r, &file);
			write_file("fz_vocab.txt", &file);
			set_args(c, "tiny_bert.onnx", "fz_vocab.txt", "{}");
			break;
		case KIND_JSON:
			buf_copy(&file, &seed_json);
			for (int n = rng_range(r, 1, 3); n > 0; n--)
				mutate_json(r, &file);
			write_file("fz_tok.json", &file);
			set_args(c, "tiny_bert.onnx", "fz_tok.json", rng_percent(r, 50) ? NULL : "{\"max_length\": 32}");
			break;
		case KIND_OPTIONS:
			put_options(r, &options);
			if (rng_percent(r, 50))
				set_args(c, "tiny_bert.onnx", "vocab.txt", options.data);
			else
				set_args(c, tensor_files[t], NULL, options.data);
			break;
		default:
			odd_paths(r, c);
			break;
	}
	buf_free(&file);
	buf_free(&options);
}

/* ---------------------------------------------------------------------
 * Oracle
 * ---------------------------------------------------------------------
 */

/* Run statement `stmt` on the model case c registered (and `arg`);
 * returns the first value (malloc'd) or NULL after a clean error; sets
 * *failed and `why` on any other. */
static char *
use_model(PGconn *conn, const Case *c, const char *stmt, const char *arg,
		  bool *failed, Buf *why)
{
	const char *values[2] = {c->param[0].data, arg};
	PGresult   *res = PQexecPrepared(conn, stmt, arg ? 2 : 1, values, NULL, NULL, 0);
	char	   *value = NULL;

	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		value = strdup(PQgetvalue(res, 0, 0));
	else if (PQresultStatus(res) == PGRES_TUPLES_OK ||
			 judge_error(res, use_errors, N_USE_ERRORS, why) == OUTCOME_FAILED)
	{
		buf_printf(why, " (after registration, in %s)", stmt);
		*failed = true;
	}
	PQclear(res);
	return value;
}

/* A text to tokenize with a registered tokenizer: short, random, or one
 * long word the test vocabulary splits into one-letter pieces (the most
 * work for a tokenizer whose file allows long words). */
static void
sample_text(Rng *r, Buf *b)
{
	int			p = (int) rng_below(r, 10);

	if (p < 4)
		buf_puts(b, "hello world, the cat");
	else if (p < 7)
		utf8_random_text(r, b, (size_t) rng_range(r, 1, 3000));
	else
	{
		buf_putc(b, 'a');
		for (int n = rng_range(r, 1000, 5000); n > 0; n--)
			buf_putc(b, "aeinorst"[rng_below(r, 8)]);
	}
}

/*
 * Tokenize a sample text with the registered text model under a short
 * statement_timeout: it must give an int[], or a clean error, or be
 * cancelled soon after the timeout (a long loop without interrupt checks
 * cannot be cancelled or terminated).
 */
static void
check_tokenize(PGconn *conn, Rng *r, const Case *c, bool *failed, Buf *why)
{
	Buf			text = {0};
	const char *values[2] = {c->param[0].data, NULL};
	PGresult   *res;
	double		start;
	double		took;

	sample_text(r, &text);
	values[1] = text.data;
	PQclear(PQexec(conn, "SET statement_timeout = '" CANCEL_TIMEOUT "'"));
	start = now_seconds();
	res = PQexecPrepared(conn, "use_tok", 2, values, NULL, NULL, 0);
	took = now_seconds() - start;
	PQclear(PQexec(conn, "SET statement_timeout = '" STATEMENT_TIMEOUT "'"));
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQgetvalue(res, 0, 0)[0] != '{')
		buf_printf(why, "tokenize gave %.100s", PQgetvalue(res, 0, 0));
	else if (PQresultStatus(res) == PGRES_TUPLES_OK)
		buf_reset(why);
	else if (result_sqlstate(res) && strcmp(result_sqlstate(res), "57014") == 0)
	{
		if (took > CANCEL_SLACK)
			buf_printf(why, "with statement_timeout = " CANCEL_TIMEOUT ", vsim.tokenize was cancelled only after %.1f s", took);
	}
	else if (judge_error(res, use_errors, N_USE_ERRORS, why) == OUTCOME_REJECTED)
		buf_reset(why);
	if (why->len > 0)
	{
		buf_printf(why, " (after registration; the text: %zu bytes, %.60s...)", text.len, text.data);
		*failed = true;
	}
	PQclear(res);
	buf_free(&text);
}

/* An embedding of the registered model, which must have `dims`. */
static void
check_embedding(PGconn *conn, Rng *r, const Case *c, int dims, bool *failed,
				Buf *why)
{
	char	   *got = NULL;

	if (c->null[2])
	{
		char	   *n = use_model(conn, c, "shape", NULL, failed, why);

		if (n && atof(n) >= 1 && atof(n) <= 1e6)
			got = use_model(conn, c, "use_tensor", n, failed, why);
		free(n);
	}
	else
	{
		check_tokenize(conn, r, c, failed, why);
		if (!*failed)
			got = use_model(conn, c, "use_text", NULL, failed, why);
	}
	if (got && atoi(got) != dims)
	{
		buf_printf(why, "embedding has %s dimensions, the model was registered with %d", got, dims);
		*failed = true;
	}
	free(got);
}

static Outcome
run_model(PGconn *conn, Rng *r, Case *c, Buf *why)
{
	PGresult   *res;
	int			dims;
	bool		failed = false;
	char	   *dropped;

	generate_model(r, c);
	res = exec_case(conn, c);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		Outcome		outcome = judge_error(res, register_errors, N_REGISTER_ERRORS, why);

		PQclear(res);
		return outcome;
	}
	dims = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (dims < 1 || dims > VEC_MAX_DIM)
	{
		buf_printf(why, "registered with %d dimensions", dims);
		return OUTCOME_FAILED;
	}
	check_embedding(conn, r, c, dims, &failed, why);
	dropped = use_model(conn, c, "drop", NULL, &failed, why);
	if (!failed && (dropped == NULL || strcmp(dropped, "t") != 0))
	{
		buf_puts(why, " drop_model did not drop the model");
		failed = true;
	}
	free(dropped);
	if (!failed)
		buf_reset(why);
	return failed ? OUTCOME_FAILED : OUTCOME_ACCEPTED;
}

const Target target_model = {"model", setup_model, NULL, NULL, run_model};
