/*-------------------------------------------------------------------------
 *
 * target_vector.c
 *	  Targets "text" and "binary": the vector type's input functions.
 *
 *	  text:   the text form as a text parameter, read by vector_in through
 *			  $1::vector, $1::vector(n), or vector_in($1, 0, typmod) called
 *			  directly with any type modifier;
 *	  binary: the binary form as a binary parameter of type vector, read
 *			  by vector_recv, through $1 or $1::vector(n).
 *
 * Inputs start as valid vectors (1 to 16000 dimensions; integers,
 * decimals, any finite bit pattern, subnormals, +-0, values near FLT_MAX)
 * rendered in many spellings, and most are then mutated.  Each statement
 * returns the value's text output and, in binary, its send output.  The
 * oracle (vector_ref.c) says what the server must do with the input; an
 * accepted value must also come back bit for bit (send output = canonical
 * encoding of what the input says) and its text output must be canonical
 * and read back to the same bits.
 *
 *-------------------------------------------------------------------------
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* Statement kinds (Case.kind) */
#define KIND_PLAIN	0			/* $1::vector */
#define KIND_MOD	1			/* $1::vector(n), n in cast_dims */
#define KIND_IN		2			/* vector_in($1, 0, $2): text only */

static const int cast_dims[] = {1, 3, 16, 16000};
#define N_CAST_DIMS ((int) (sizeof(cast_dims) / sizeof(cast_dims[0])))

static const char *const mod_text_stmts[] = {"t_mod0", "t_mod1", "t_mod2", "t_mod3"};
static const char *const mod_binary_stmts[] = {"b_mod0", "b_mod1", "b_mod2", "b_mod3"};

/* Oracle scratch (a VecRef holds 16000 elements). */
static VecRef ref;

/* ---------------------------------------------------------------------
 * Valid vectors
 * ---------------------------------------------------------------------
 */

/* Dimensions: mostly small, sometimes up to the limit and just past it. */
static int
random_dim(Rng *r)
{
	int			p = (int) rng_below(r, 1000);

	if (p < 2)
		return VEC_MAX_DIM;
	if (p < 4)
		return VEC_MAX_DIM + 1;
	if (p < 720)
		return rng_range(r, 1, 16);
	if (p < 945)
		return rng_range(r, 17, 256);
	if (p < 995)
		return rng_range(r, 257, 2048);
	return rng_range(r, 2049, VEC_MAX_DIM);
}

static uint32_t
bits_of(float f)
{
	uint32_t	u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

/* Bits of a finite float of one of several families. */
static uint32_t
random_float_bits(Rng *r)
{
	static const float special[] = {0.0f, -0.0f, FLT_MAX, -FLT_MAX, FLT_MIN,
		-FLT_MIN, 1.0f, -1.0f, 0.1f, 1.0f / 3.0f, 1e-45f, 3.4028233e38f,
	16777215.0f, 16777216.0f};
	uint32_t	sign = rng_percent(r, 30) ? 0x80000000u : 0;

	switch (rng_below(r, 8))
	{
		case 0:
		case 1:
			return bits_of((float) rng_range(r, -1000, 1000));
		case 2:
			return bits_of((float) rng_range(r, -1000000, 1000000) /
						   powf(10.0f, (float) rng_range(r, 0, 8)));
		case 3:					/* any finite pattern */
			return sign | ((uint32_t) rng_range(r, 0, 254) << 23) |
				(uint32_t) (rng_next(r) & 0x7fffff);
		case 4:					/* subnormal */
			return sign | (uint32_t) (rng_next(r) & 0x7fffff);
		case 5:
			return bits_of(special[rng_below(r, sizeof(special) / sizeof(special[0]))]);
		case 6:					/* a power of two */
			return bits_of(ldexpf(sign ? -1.0f : 1.0f, rng_range(r, -149, 127)));
		default:				/* within a few ulps of FLT_MAX */
			return sign | (0x7f7fffffu - rng_below(r, 16));
	}
}

/* ---------------------------------------------------------------------
 * Text renderings
 * ---------------------------------------------------------------------
 */

static void
put_white(Rng *r, Buf *b)
{
	static const char white[] = " \t\n\r\v\f";

	if (rng_percent(r, 85))
		return;
	for (int n = rng_range(r, 1, 3); n > 0; n--)
		buf_putc(b, white[rng_below(r, sizeof(white) - 1)]);
}

/* An element that reads back as exactly `bits`. */
static void
put_exact(Buf *b, uint32_t bits)
{
	float		f;

	memcpy(&f, &bits, sizeof(f));
	buf_printf(b, "%.9g", (double) f);
}

/* One element in one of many spellings (not all of them exact). */
static void
put_float(Rng *r, Buf *b, uint32_t bits)
{
	float		f;
	double		d;

	memcpy(&f, &bits, sizeof(f));
	d = f;
	switch (rng_below(r, 10))
	{
		case 0:
			buf_printf(b, "%.9g", d);
			break;
		case 1:
			buf_printf(b, "%.*g", rng_range(r, 1, 12), d);
			break;
		case 2:
			buf_printf(b, "%.*e", rng_range(r, 0, 10), d);
			break;
		case 3:
			buf_printf(b, "%a", d);
			break;
		case 4:
			buf_printf(b, "%.17g", d);
			break;
		case 5:
			buf_printf(b, "%+.9E", d);
			break;
		case 6:					/* fixed point, for moderate values */
			if (fabs(d) < 1e12 && fabs(d) > 1e-12)
				buf_printf(b, "%.*f", rng_range(r, 0, 20), d);
			else
				buf_printf(b, "%.9g", d);
			break;
		case 7:					/* leading zeros */
			buf_printf(b, "%s%0*.9g", f < 0 ? "-" : "", rng_range(r, 1, 30),
					   fabs(d));
			break;
		default:
			buf_printf(b, "%.8g", d);
			break;
	}
}

/* A random decimal literal (digits, point, exponent), much cheaper to
 * make than printf's rendering of a float. */
static void
put_decimal(Rng *r, Buf *b)
{
	int			whole = rng_range(r, 0, 10);
	int			frac = rng_percent(r, 60) ? rng_range(r, 0, 10) : -1;

	if (rng_percent(r, 25))
		buf_putc(b, rng_percent(r, 80) ? '-' : '+');
	if (whole == 0 && frac <= 0)
		whole = 1;
	for (int i = 0; i < whole; i++)
		buf_putc(b, (char) ('0' + rng_below(r, 10)));
	if (frac >= 0)
		buf_putc(b, '.');
	for (int i = 0; i < frac; i++)
		buf_putc(b, (char) ('0' + rng_below(r, 10)));
	if (rng_percent(r, 30))		/* in range whatever the digits */
		buf_printf(b, "%c%d", rng_percent(r, 80) ? 'e' : 'E', rng_range(r, -25, 25));
}

/* Elements rendered from float bits in all spellings in small vectors;
 * in large ones (whose every element must be right for the vector to be
 * accepted) a tenth rendered exactly, the rest random decimals. */
static void
render_text(Rng *r, Buf *b, int dim)
{
	buf_reset(b);
	put_white(r, b);
	buf_putc(b, '[');
	for (int i = 0; i < dim; i++)
	{
		if (i > 0)
			buf_putc(b, ',');
		put_white(r, b);
		if (dim <= 32)
			put_float(r, b, random_float_bits(r));
		else if (rng_percent(r, 10))
			put_exact(b, random_float_bits(r));
		else
			put_decimal(r, b);
		put_white(r, b);
	}
	buf_putc(b, ']');
	put_white(r, b);
}

/* ---------------------------------------------------------------------
 * Text mutations
 * ---------------------------------------------------------------------
 */

static const char *const text_dict[] = {
	"nan", "NaN", "-nan", "nan(0x1234)", "inf", "-inf", "Infinity",
	"-Infinity", "INF", "infinit", "1e39", "-1e39", "3.4028236e38",
	"3.4028235e38", "1e-46", "-1e-50", "1.4e-45", "7e-46", "1e-40",
	"1e99999999999999999999", "1e-99999999999999999999", "0x1p128",
	"0x1p-150", "0x1.fffffep127", "0x", "0x1p", "1e", "1e+", ".", "-",
	"+", "-.", ".e1", "0", "-0", "+0", ",", ",,", "[", "]", "[[", "]]",
	"[]", " ", "\t", "\v", "\f", "\r\n", "1,2", "e5", "E-5", "\xef\xbc\x91",
	"\xd9\xa1", "\xc2\xa0", "\xe2\x80\x8b", "\xff", "\xc0\x80", "\xed\xa0\x80",
};
#define N_TEXT_DICT ((int) (sizeof(text_dict) / sizeof(text_dict[0])))

/* A long digit string: huge, tiny or merely long numbers. */
static void
put_long_number(Rng *r, Buf *b)
{
	int			n = rng_range(r, 40, 5000);

	switch (rng_below(r, 3))
	{
		case 0:					/* 10^n: out of range */
			buf_putc(b, '1');
			break;
		case 1:					/* 10^-n: underflows */
			buf_puts(b, "0.");
			break;
		default:				/* 1.000...1: in range */
			buf_puts(b, "1.");
			break;
	}
	for (int i = 0; i < n; i++)
		buf_putc(b, '0');
	buf_putc(b, '1');
}

/* Inputs built to be odd from the start. */
static void
odd_text(Rng *r, Buf *b)
{
	static const char *const shapes[] = {
		"", " ", "[", "]", "[]", "[ ]", "[,]", "[1,]", "[,1]", "[1,,2]",
		"[1 2]", "1,2,3", "[1,2]]", "[[1,2]]", "[1,[2]]", "[1,2", "[1;2]",
		"(1,2)", "{1,2}", "[1,2] x", " [1] ", "[\v1\f]", "[0x10,0X1P-2]",
	"[-0,+0]", "[1e38,-1e38]", "[nan]", "[1,inf]"};

	buf_reset(b);
	if (rng_percent(r, 60))
	{
		buf_puts(b, rng_pick(r, shapes, sizeof(shapes) / sizeof(shapes[0])));
		return;
	}
	buf_putc(b, '[');
	for (int i = rng_range(r, 1, 4); i > 0; i--)
	{
		put_long_number(r, b);
		if (i > 1)
			buf_putc(b, ',');
	}
	buf_putc(b, ']');
}

/* Byte mutations mostly make invalid UTF-8, which never reaches the type:
 * usually fold such an input back to ASCII. */
static void
mostly_valid_utf8(Rng *r, Buf *b)
{
	if (utf8_valid(b->data, b->len) || rng_percent(r, 15))
		return;
	for (size_t i = 0; i < b->len; i++)
		b->data[i] &= 0x7f;
}

static void
make_text_input(Rng *r, Buf *b, int dim)
{
	if (rng_percent(r, 8))
		odd_text(r, b);
	else
		render_text(r, b, dim);
	if (rng_percent(r, 60))
		mutate_bytes(r, b, text_dict, N_TEXT_DICT, 8);
	mostly_valid_utf8(r, b);
	buf_no_nul(b);
}

/* ---------------------------------------------------------------------
 * Binary inputs
 * ---------------------------------------------------------------------
 */

static void
put_be(Buf *b, uint32_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--)
		buf_putc(b, (char) (v >> (8 * i)));
}

static void
set_be(Buf *b, size_t pos, uint32_t v, int bytes)
{
	for (int i = 0; i < bytes && pos + i < b->len; i++)
		b->data[pos + i] = (char) (v >> (8 * (bytes - 1 - i)));
}

/* Overwrite one element (if any) with NaN, infinity or any bit pattern. */
static void
poison_element(Rng *r, Buf *b, int dim)
{
	static const uint32_t odd[] = {0x7fc00000u, 0xffc00000u, 0x7f800001u,
	0x7fffffffu, 0xff800001u, 0x7f800000u, 0xff800000u};

	if (dim < 1 || b->len < 8)
		return;
	set_be(b, 4 + 4 * (size_t) rng_below(r, (uint32_t) dim),
		   rng_percent(r, 70) ? odd[rng_below(r, 7)] : (uint32_t) rng_next(r), 4);
}

static void
mutate_binary(Rng *r, Buf *b, int dim)
{
	static const int dims[] = {-32768, -1, 0, 1, 16000, 16001, 32767};

	switch (rng_below(r, 7))
	{
		case 0:					/* the dimension field */
			set_be(b, 0, rng_percent(r, 50) ? (uint32_t) dims[rng_below(r, 7)] :
				   rng_percent(r, 50) ? (uint32_t) (dim + rng_range(r, -2, 2)) :
				   (uint32_t) rng_next(r), 2);
			break;
		case 1:					/* the reserved field */
			set_be(b, 2, (uint32_t) rng_range(r, 1, 65535), 2);
			break;
		case 2:
			poison_element(r, b, dim);
			break;
		case 3:					/* truncate */
			b->len = rng_percent(r, 30) ? rng_below(r, 5) : rng_next(r) % (b->len + 1);
			break;
		case 4:					/* trailing bytes */
			for (int n = rng_range(r, 1, 8); n > 0; n--)
				buf_putc(b, (char) rng_below(r, 256));
			break;
		case 5:					/* something short and random */
			buf_reset(b);
			for (int n = rng_range(r, 0, 12); n > 0; n--)
				buf_putc(b, (char) rng_below(r, 256));
			break;
		default:
			mutate_bytes(r, b, NULL, 0, 4);
			break;
	}
}

static void
make_binary_input(Rng *r, Buf *b, int dim)
{
	buf_reset(b);
	put_be(b, (uint32_t) dim, 2);
	put_be(b, 0, 2);
	for (int i = 0; i < dim; i++)
		put_be(b, random_float_bits(r), 4);
	if (rng_percent(r, 65))
		for (int n = rng_range(r, 1, 3); n > 0; n--)
			mutate_binary(r, b, dim);
}

/* ---------------------------------------------------------------------
 * Statements and cases
 * ---------------------------------------------------------------------
 */

/* The statements $1::vector(n) for every n of cast_dims. */
static void
prepare_casts(PGconn *conn, const char *const *names, const unsigned int *types)
{
	char		sql[256];

	for (int i = 0; i < N_CAST_DIMS; i++)
	{
		snprintf(sql, sizeof(sql), "SELECT $1::vector(%d)::text, $1::vector(%d)",
				 cast_dims[i], cast_dims[i]);
		prepare_or_die(conn, names[i], sql, 1, types);
	}
}

static void
setup_text(PGconn *conn, const FuzzConfig *cfg)
{
	prepare_or_die(conn, "t_plain", "SELECT $1::vector::text, $1::vector", 1, NULL);
	prepare_or_die(conn, "t_in",
				   "SELECT v::text, v FROM (SELECT vector_in($1::cstring, 0, $2::int) AS v) s",
				   2, NULL);
	prepare_casts(conn, mod_text_stmts, NULL);
}

static void
setup_binary(PGconn *conn, const FuzzConfig *cfg)
{
	PGresult   *res = PQexec(conn, "SELECT 'vector'::regtype::oid");
	unsigned int oid;

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		fprintf(stderr, "vsim_fuzz: no type vector: %s", PQerrorMessage(conn));
		exit(2);
	}
	oid = (unsigned int) strtoul(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	prepare_or_die(conn, "b_plain", "SELECT $1::text, $1", 1, &oid);
	prepare_casts(conn, mod_binary_stmts, &oid);
}

/* A type modifier for vector_in: none, the dimensions, or anything. */
static int
random_typmod(Rng *r, int dim)
{
	switch (rng_below(r, 6))
	{
		case 0:
		case 1:
			return -1;
		case 2:
		case 3:
			return dim;
		case 4:
			return dim + rng_range(r, -2, 2);
		default:
			return (int) (uint32_t) rng_next(r);
	}
}

/* Choose the statement of case c and the dimensions of its vector. */
static int
choose_statement(Rng *r, Case *c, bool text)
{
	int			dim = random_dim(r);
	int			p = (int) rng_below(r, 100);

	c->typmod = -1;
	c->kind = KIND_PLAIN;
	c->stmt = text ? "t_plain" : "b_plain";
	if (p < 15)
	{
		int			i = (int) rng_below(r, N_CAST_DIMS);

		c->kind = KIND_MOD;
		c->typmod = cast_dims[i];
		c->stmt = text ? mod_text_stmts[i] : mod_binary_stmts[i];
		if (rng_percent(r, 60))
			dim = cast_dims[i];
	}
	else if (p < 30 && text)
	{
		c->kind = KIND_IN;
		c->typmod = random_typmod(r, dim);
		c->stmt = "t_in";
	}
	return dim;
}

static void
generate_text(Rng *r, Case *c)
{
	int			dim = choose_statement(r, c, true);

	c->n_params = c->kind == KIND_IN ? 2 : 1;
	c->binary[0] = false;
	c->binary[1] = false;
	c->binary_result = true;
	make_text_input(r, &c->param[0], dim);
	buf_reset(&c->param[1]);
	buf_printf(&c->param[1], "%d", c->typmod);
}

static void
generate_binary(Rng *r, Case *c)
{
	int			dim = choose_statement(r, c, false);

	c->n_params = 1;
	c->binary[0] = true;
	c->binary_result = true;
	make_binary_input(r, &c->param[0], dim);
}

/* ---------------------------------------------------------------------
 * Oracle
 * ---------------------------------------------------------------------
 */

/* An accepted value: send output = encoding of ref, text output the
 * canonical form of ref. */
static Outcome
check_value(const PGresult *res, Buf *why)
{
	Buf			enc = {0};
	const char *text = PQgetvalue(res, 0, 0);
	bool		same;

	vecref_encode(&ref, &enc);
	same = (size_t) PQgetlength(res, 0, 1) == enc.len &&
		memcmp(PQgetvalue(res, 0, 1), enc.data, enc.len) == 0;
	buf_free(&enc);
	if (!same)
	{
		buf_printf(why, "binary output differs from the value of the input (%d dimensions)", ref.dim);
		return OUTCOME_FAILED;
	}
	if (!vecref_canonical_text(text, &ref))
	{
		buf_printf(why, "text output is not the canonical form of the value: %.200s", text);
		return OUTCOME_FAILED;
	}
	return OUTCOME_ACCEPTED;
}

/* Compare the server's result with the reference in `ref`. */
static Outcome
check_against_ref(const PGresult *res, Buf *why)
{
	const char *state;

	if (PQresultStatus(res) == PGRES_TUPLES_OK)
	{
		if (ref.sqlstate)
		{
			buf_printf(why, "accepted an input that must raise %s", ref.sqlstate);
			return OUTCOME_FAILED;
		}
		if (PQntuples(res) != 1 || PQnfields(res) != 2)
		{
			buf_printf(why, "result has %d rows of %d columns", PQntuples(res), PQnfields(res));
			return OUTCOME_FAILED;
		}
		return check_value(res, why);
	}
	state = result_sqlstate(res);
	if (state == NULL || ref.sqlstate == NULL || strcmp(state, ref.sqlstate) != 0)
	{
		buf_printf(why, "raised %s (%s) where the reference %s%s",
				   state ? state : "no SQLSTATE", PQresultErrorMessage(res),
				   ref.sqlstate ? "raises " : "accepts",
				   ref.sqlstate ? ref.sqlstate : "");
		return OUTCOME_FAILED;
	}
	buf_puts(why, state);
	return OUTCOME_REJECTED;
}

static Outcome
check_text(const Case *c, const PGresult *res, Buf *why)
{
	vecref_text(c->param[0].data, c->param[0].len, c->typmod, &ref);
	return check_against_ref(res, why);
}

static Outcome
check_binary(const Case *c, const PGresult *res, Buf *why)
{
	vecref_binary((const unsigned char *) c->param[0].data, c->param[0].len,
				  c->typmod, &ref);
	return check_against_ref(res, why);
}

const Target target_text = {"text", setup_text, generate_text, check_text, NULL};
const Target target_binary = {"binary", setup_binary, generate_binary, check_binary, NULL};
