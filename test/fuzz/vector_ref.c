/*-------------------------------------------------------------------------
 *
 * vector_ref.c
 *	  vsim_fuzz's model of the vector type's input formats: for any input,
 *	  the value the server must accept (bit for bit) or the SQLSTATE it
 *	  must raise.  Written from the format's definition, not from
 *	  src/vector/vector_io.c:
 *
 *	  text:   optional white space (space, \t, \n, \r, \v, \f), "[", one or
 *			  more elements separated by ",", "]", optional white space.
 *			  An element is what strtof reads (white space allowed around
 *			  it).  The input is checked from left to right and the first
 *			  fault decides: bad syntax 22P02, "[]" 22000, a 16001st
 *			  element 54000, a literal out of float4's range 22003 (a
 *			  subnormal result is fine), NaN 22000, infinity 22003; then
 *			  a type modifier that differs from the dimensions 22000.
 *			  Invalid UTF-8 is refused before the type sees it (22021).
 *	  binary: int16 dim, int16 reserved, float4[dim], big-endian.  Fewer
 *			  than 4 bytes 08P01; reserved != 0 22P03; dim < 1 22000,
 *			  dim > 16000 54000; other than 4 * dim bytes of elements
 *			  22P03; then the first NaN 22000 or infinity 22003; then the
 *			  type modifier 22000.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static uint32_t
float_bits(float f)
{
	uint32_t	u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

static float
bits_float(uint32_t u)
{
	float		f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

static bool
is_white(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
		c == '\f';
}

static const char *
skip_white(const char *p)
{
	while (is_white(*p))
		p++;
	return p;
}

/*
 * The SQLSTATE for element value f read by strtof, or NULL when fine:
 * overflow is 22003, underflow reads as its rounding (0, -0 or a
 * subnormal), as in pgvector.
 */
static const char *
element_fault(float f, int err)
{
	if (err == ERANGE && isinf(f))
		return "22003";
	if (isnan(f))
		return "22000";
	if (isinf(f))
		return "22003";
	return NULL;
}

/* Parse the elements after "["; returns the SQLSTATE of the first fault
 * or NULL, leaving *pp after the closing "]". */
static const char *
parse_elements(const char **pp, VecRef *out)
{
	const char *p = *pp;

	for (;;)
	{
		char	   *end;
		float		f;
		const char *fault;

		p = skip_white(p);
		if (*p == ',' || *p == ']' || *p == '\0')
			return "22P02";
		if (out->dim == VEC_MAX_DIM)
			return "54000";
		errno = 0;
		f = strtof(p, &end);
		if (end == p)
			return "22P02";
		if ((fault = element_fault(f, errno)) != NULL)
			return fault;
		out->bits[out->dim++] = float_bits(f);
		p = skip_white(end);
		if (*p == ']')
			break;
		if (*p != ',')
			return "22P02";
		p++;
	}
	*pp = p + 1;
	return NULL;
}

static const char *
parse_text(const char *s, VecRef *out)
{
	const char *p = skip_white(s);
	const char *fault;

	if (*p != '[')
		return "22P02";
	if (*skip_white(p + 1) == ']')
		return "22000";
	p++;
	if ((fault = parse_elements(&p, out)) != NULL)
		return fault;
	if (*skip_white(p) != '\0')
		return "22P02";
	return NULL;
}

void
vecref_text(const char *s, size_t len, int typmod, VecRef *out)
{
	out->dim = 0;
	if (!utf8_valid(s, len))
		out->sqlstate = "22021";
	else if ((out->sqlstate = parse_text(s, out)) == NULL &&
			 typmod != -1 && out->dim != typmod)
		out->sqlstate = "22000";
}

static uint32_t
read_be(const unsigned char *p, int bytes)
{
	uint32_t	v = 0;

	for (int i = 0; i < bytes; i++)
		v = (v << 8) | p[i];
	return v;
}

static const char *
decode_binary(const unsigned char *p, size_t len, VecRef *out)
{
	int			dim;

	if (len < 4)
		return "08P01";
	dim = (int16_t) read_be(p, 2);
	if ((int16_t) read_be(p + 2, 2) != 0)
		return "22P03";
	if (dim < 1)
		return "22000";
	if (dim > VEC_MAX_DIM)
		return "54000";
	if (len - 4 != (size_t) dim * 4)
		return "22P03";
	for (int i = 0; i < dim; i++)
	{
		float		f = bits_float(read_be(p + 4 + 4 * i, 4));

		if (isnan(f))
			return "22000";
		if (isinf(f))
			return "22003";
		out->bits[i] = float_bits(f);
	}
	out->dim = dim;
	return NULL;
}

void
vecref_binary(const unsigned char *p, size_t len, int typmod, VecRef *out)
{
	out->dim = 0;
	if ((out->sqlstate = decode_binary(p, len, out)) == NULL &&
		typmod != -1 && out->dim != typmod)
		out->sqlstate = "22000";
}

void
vecref_encode(const VecRef *v, Buf *b)
{
	unsigned char head[4] = {(unsigned char) (v->dim >> 8), (unsigned char) v->dim, 0, 0};

	buf_reset(b);
	buf_put(b, head, 4);
	for (int i = 0; i < v->dim; i++)
	{
		unsigned char e[4] = {v->bits[i] >> 24, v->bits[i] >> 16,
		v->bits[i] >> 8, v->bits[i]};

		buf_put(b, e, 4);
	}
}

/* Significant digits of a decimal literal: the digits of its mantissa
 * without leading and trailing zeros (at least 1). */
static int
significant_digits(const char *s, size_t len)
{
	char		digits[32];
	int			n = 0;
	int			first = 0;

	for (size_t i = 0; i < len && s[i] != 'e' && n < 31; i++)
		if (s[i] >= '0' && s[i] <= '9')
			digits[n++] = s[i];
	while (first < n && digits[first] == '0')
		first++;
	while (n > first && digits[n - 1] == '0')
		n--;
	return n > first ? n - first : 1;
}

/* True when the decimal s lies exactly halfway between f and a neighbour
 * (it reads back as f only by the ties-to-even rule).  long double holds
 * such a midpoint exactly, and a short decimal off the midpoint is far
 * from it in long double precision. */
static bool
is_tie(const char *s, float f)
{
	long double d = strtold(s, NULL);
	long double up = ((long double) nextafterf(f, INFINITY) + f) / 2;
	long double down = ((long double) nextafterf(f, -INFINITY) + f) / 2;

	return d == up || d == down;
}

/*
 * True when f reads back from its %.Ng form with `digits` significant
 * digits, not counting a decimal that reads back only by breaking a tie:
 * Ryu, which PostgreSQL's float output uses, does not produce those.  If
 * some number of digits reads back, every larger number does too.
 */
static bool
reads_back(float f, int digits)
{
	char		tmp[64];

	snprintf(tmp, sizeof(tmp), "%.*g", digits, (double) f);
	return float_bits(strtof(tmp, NULL)) == float_bits(f) && !is_tie(tmp, f);
}

/* One output element s[0, len): a float literal without white space, at
 * most 15 characters, with no more digits than it takes to read back, that
 * reads back as `bits`. */
static bool
canonical_element(const char *s, size_t len, uint32_t bits)
{
	char		tmp[16];
	char	   *end;
	float		f;
	int			digits;

	if (len == 0 || len > 15)
		return false;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	f = strtof(tmp, &end);
	if (*end != '\0' || is_white(tmp[0]) || float_bits(f) != bits)
		return false;
	digits = significant_digits(tmp, len);
	return digits <= 9 && (digits == 1 || !reads_back(f, digits - 1));
}

bool
vecref_canonical_text(const char *s, const VecRef *v)
{
	size_t		len = strlen(s);
	size_t		start = 1;
	int			n = 0;

	if (len < 3 || s[0] != '[' || s[len - 1] != ']')
		return false;
	for (size_t i = 1; i < len; i++)
	{
		if (s[i] != ',' && s[i] != ']')
			continue;
		if (n == v->dim || !canonical_element(s + start, i - start, v->bits[n++]))
			return false;
		start = i + 1;
	}
	return n == v->dim;
}
