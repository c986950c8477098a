/*-------------------------------------------------------------------------
 *
 * sparsevec.c
 *	  The `sparsevec` type (layout in sparsevec.h): text and binary
 *	  input/output, the sparsevec(n) type modifier, casts from and to
 *	  vector and arrays, the four distances by a merge over the sorted
 *	  indices, norm and normalisation, and the total order behind the
 *	  default btree operator class.
 *
 * Behaviour follows pgvector 0.8's sparsevec: text input accepts elements
 * in any order and sorts them, rejects a repeated index, drops zero
 * values; binary input must already be canonical (indices 0-based and
 * strictly ascending, no zero values).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <limits.h>
#include <math.h>

#include "common/shortest_dec.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "vector/sparsevec.h"

#define PG_RETURN_SPARSEVEC_P(s) PG_RETURN_POINTER(s)

/* Raise 22000 / 54000 unless 1 <= dim <= SPARSEVEC_MAX_DIM. */
static void
sparsevec_check_dim(int64 dim)
{
	if (dim < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("sparsevec must have at least 1 dimension")));
	if (dim > SPARSEVEC_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("sparsevec cannot have more than %d dimensions",
						SPARSEVEC_MAX_DIM)));
}

static void
sparsevec_check_nnz(int64 nnz)
{
	if (nnz > SPARSEVEC_MAX_NNZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("sparsevec cannot have more than %d non-zero elements",
						SPARSEVEC_MAX_NNZ)));
}

SparseVector *
new_sparsevec(int64 dim, int nnz)
{
	SparseVector *s;

	sparsevec_check_dim(dim);
	sparsevec_check_nnz(nnz);
	s = (SparseVector *) palloc0(SPARSEVEC_SIZE(nnz));
	SET_VARSIZE(s, SPARSEVEC_SIZE(nnz));
	s->dim = (int32) dim;
	s->nnz = nnz;
	return s;
}

static void
sparsevec_check_typmod(int32 dim, int32 typmod)
{
	if (typmod != -1 && dim != typmod)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", typmod, dim)));
}

static void
sparsevec_check_same_dims(const SparseVector *a, const SparseVector *b)
{
	if (a->dim != b->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different sparsevec dimensions %d and %d",
						a->dim, b->dim)));
}

/* 22000 for NaN, 22003 for +/-Infinity, as vector_check_finite */
static void
sparsevec_check_finite(float x)
{
	if (isnan(x))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("NaN not allowed in sparsevec")));
	if (isinf(x))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("infinite value not allowed in sparsevec")));
}

/*
 * A sparse vector of `dim` dimensions from the dense float array x[0..dim),
 * keeping its non-zero elements.  Checks finiteness (for array input).
 */
static SparseVector *
sparsevec_from_dense(const float *x, int64 dim)
{
	SparseVector *s;
	float	   *values;
	int			nnz = 0;

	sparsevec_check_dim(dim);
	for (int64 i = 0; i < dim; i++)
	{
		sparsevec_check_finite(x[i]);
		nnz += (x[i] != 0);
	}
	s = new_sparsevec(dim, nnz);
	values = SPARSEVEC_VALUES(s);
	nnz = 0;
	for (int64 i = 0; i < dim; i++)
		if (x[i] != 0)
		{
			s->indices[nnz] = (int32) i;
			values[nnz++] = x[i];
		}
	return s;
}

/* ---------------------------------------------------------------------
 * Text form
 * ---------------------------------------------------------------------
 */
typedef struct TextElement
{
	int64		index;			/* 1-based, as written */
	float		value;
} TextElement;

static inline bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static const char *
skip_spaces(const char *p)
{
	while (is_space(*p))
		p++;
	return p;
}

static void
syntax_error(const char *input, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type sparsevec: \"%s\"", input),
			 errdetail("%s", detail)));
}

/*
 * An integer at p (optional sign, then digits), saturated to the int64
 * range; *end is set past it.  Raises a syntax error when there is none.
 */
static int64
parse_integer(const char *input, const char *p, const char **end, const char *what)
{
	char	   *e;
	long long	v;

	if (!(isdigit((unsigned char) *p) ||
		  ((*p == '-' || *p == '+') && isdigit((unsigned char) p[1]))))
		syntax_error(input, what);
	errno = 0;
	v = strtoll(p, &e, 10);
	/* on ERANGE strtoll saturates to LLONG_MIN / LLONG_MAX: out of range below */
	*end = e;
	return (int64) v;
}

static int
compare_text_elements(const void *a, const void *b)
{
	int64		x = ((const TextElement *) a)->index;
	int64		y = ((const TextElement *) b)->index;

	return (x > y) - (x < y);
}

/* Raise 22000 unless 1 <= index <= dim. */
static void
check_text_index(int64 index, int64 dim)
{
	if (index < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("sparsevec index %lld is out of range", (long long) index),
				 errdetail("Indices start at 1.")));
	if (index > dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("sparsevec index %lld is out of range", (long long) index),
				 errdetail("The sparsevec has %lld dimensions.", (long long) dim)));
}

/*
 * sparsevec_in: text "{i1:x1,i2:x2,...}/dim" -> sparsevec.  Indices are
 * 1-based integers in any order (sorted here), each at most once;
 * elements are float4 literals (not NaN or infinite; zeros are dropped).
 * Whitespace is allowed around every token.
 */
PG_FUNCTION_INFO_V1(sparsevec_in);
Datum
sparsevec_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	const char *p = skip_spaces(str);
	int			cap = 16,
				n = 0;
	TextElement *elems = palloc(sizeof(TextElement) * cap);
	int64		zero_min = INT64_MAX,
				zero_max = INT64_MIN;
	int64		dim;
	SparseVector *s;
	float	   *values;

	if (*p != '{')
		syntax_error(str, "Sparse vector contents must start with \"{\".");
	p = skip_spaces(p + 1);
	while (*p != '}')
	{
		int64		index;
		char	   *end;
		float		val;

		index = parse_integer(str, p, &p, "Expected an index.");
		p = skip_spaces(p);
		if (*p != ':')
			syntax_error(str, "Expected \":\" after an index.");
		p = skip_spaces(p + 1);
		if (*p == ',' || *p == '}' || *p == '\0')
			syntax_error(str, "Expected a number after \":\".");
		errno = 0;
		val = strtof(p, &end);
		if (end == p)
			syntax_error(str, "Expected a number after \":\".");
		/* overflow is an error; underflow reads as its rounding (pgvector) */
		if (errno == ERANGE && isinf(val))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("\"%.*s\" is out of range for type sparsevec",
							(int) (end - p), p)));
		sparsevec_check_finite(val);
		if (val == 0)
		{
			/* not stored, but its index must still be valid */
			zero_min = Min(zero_min, index);
			zero_max = Max(zero_max, index);
		}
		else
		{
			sparsevec_check_nnz(n + 1);
			if (n == cap)
			{
				cap *= 2;
				elems = repalloc(elems, sizeof(TextElement) * cap);
			}
			elems[n].index = index;
			elems[n++].value = val;
		}
		p = skip_spaces(end);
		if (*p == '}')
			break;
		if (*p != ',')
			syntax_error(str, "Expected \",\" or \"}\" after an element.");
		p = skip_spaces(p + 1);
		if (*p == '}')
			syntax_error(str, "Expected an index after \",\".");
	}
	p = skip_spaces(p + 1);
	if (*p != '/')
		syntax_error(str, "Expected \"/\" and the number of dimensions after \"}\".");
	p = skip_spaces(p + 1);
	dim = parse_integer(str, p, &p, "Expected the number of dimensions after \"/\".");
	if (*skip_spaces(p) != '\0')
		syntax_error(str, "Junk after the number of dimensions.");

	sparsevec_check_dim(dim);
	sparsevec_check_typmod((int32) dim, typmod);
	if (zero_min <= zero_max)
	{
		check_text_index(zero_min, dim);
		check_text_index(zero_max, dim);
	}
	qsort(elems, n, sizeof(TextElement), compare_text_elements);
	s = new_sparsevec(dim, n);
	values = SPARSEVEC_VALUES(s);
	for (int i = 0; i < n; i++)
	{
		check_text_index(elems[i].index, dim);
		if (i > 0 && elems[i].index == elems[i - 1].index)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("sparsevec index %lld appears more than once",
							(long long) elems[i].index)));
		s->indices[i] = (int32) (elems[i].index - 1);
		values[i] = elems[i].value;
	}
	pfree(elems);
	PG_RETURN_SPARSEVEC_P(s);
}

/* sparsevec_out: "{i:x,...}/dim", 1-based indices, shortest exact floats */
PG_FUNCTION_INFO_V1(sparsevec_out);
Datum
sparsevec_out(PG_FUNCTION_ARGS)
{
	SparseVector *s = PG_GETARG_SPARSEVEC_P(0);
	float	   *values = SPARSEVEC_VALUES(s);
	StringInfoData buf;
	char		num[FLOAT_SHORTEST_DECIMAL_LEN];

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (int i = 0; i < s->nnz; i++)
	{
		float_to_shortest_decimal_buf(values[i], num);
		appendStringInfo(&buf, "%s%d:%s", i > 0 ? "," : "", s->indices[i] + 1, num);
	}
	appendStringInfo(&buf, "}/%d", s->dim);
	PG_FREE_IF_COPY(s, 0);
	PG_RETURN_CSTRING(buf.data);
}

/* sparsevec_typmod_in: sparsevec(n) with 1 <= n <= SPARSEVEC_MAX_DIM */
PG_FUNCTION_INFO_V1(sparsevec_typmod_in);
Datum
sparsevec_typmod_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(vector_typmod_parse(PG_GETARG_ARRAYTYPE_P(0), "sparsevec",
										SPARSEVEC_MAX_DIM));
}

/* ---------------------------------------------------------------------
 * Binary form
 * ---------------------------------------------------------------------
 */
static void
binary_error(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid binary data for type sparsevec"),
			 errdetail("%s", detail)));
}

/*
 * sparsevec_recv: int32 dim, int32 nnz, int32 reserved (0), int32
 * indices[nnz] (0-based, strictly ascending, < dim), float4 values[nnz]
 * (finite, non-zero); network byte order, nothing after.
 */
PG_FUNCTION_INFO_V1(sparsevec_recv);
Datum
sparsevec_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		typmod = PG_GETARG_INT32(2);
	int32		dim = pq_getmsgint(buf, sizeof(int32));
	int32		nnz = pq_getmsgint(buf, sizeof(int32));
	int32		reserved = pq_getmsgint(buf, sizeof(int32));
	SparseVector *s;
	float	   *values;

	if (reserved != 0)
		binary_error(psprintf("The reserved field must be 0, not %d.", reserved));
	sparsevec_check_dim(dim);
	if (nnz < 0 || nnz > dim)
		binary_error(psprintf("The number of non-zero elements is %d, for %d dimensions.",
							  nnz, dim));
	sparsevec_check_nnz(nnz);
	if ((int64) (buf->len - buf->cursor) != (int64) nnz * 8)
		binary_error(psprintf("%d elements need %d bytes of indices and values, got %d.",
							  nnz, nnz * 8, buf->len - buf->cursor));
	sparsevec_check_typmod(dim, typmod);
	s = new_sparsevec(dim, nnz);
	values = SPARSEVEC_VALUES(s);
	for (int i = 0; i < nnz; i++)
	{
		s->indices[i] = pq_getmsgint(buf, sizeof(int32));
		if (s->indices[i] < 0 || s->indices[i] >= dim)
			binary_error(psprintf("Index %d is out of range for %d dimensions (indices are 0-based).",
								  s->indices[i], dim));
		if (i > 0 && s->indices[i] <= s->indices[i - 1])
			binary_error("Indices must be strictly ascending.");
	}
	for (int i = 0; i < nnz; i++)
	{
		values[i] = pq_getmsgfloat4(buf);
		sparsevec_check_finite(values[i]);
		if (values[i] == 0)
			binary_error("Zero values must not be stored.");
	}
	PG_RETURN_SPARSEVEC_P(s);
}

PG_FUNCTION_INFO_V1(sparsevec_send);
Datum
sparsevec_send(PG_FUNCTION_ARGS)
{
	SparseVector *s = PG_GETARG_SPARSEVEC_P(0);
	float	   *values = SPARSEVEC_VALUES(s);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, s->dim);
	pq_sendint32(&buf, s->nnz);
	pq_sendint32(&buf, 0);
	for (int i = 0; i < s->nnz; i++)
		pq_sendint32(&buf, s->indices[i]);
	for (int i = 0; i < s->nnz; i++)
		pq_sendfloat4(&buf, values[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* ---------------------------------------------------------------------
 * Casts
 * ---------------------------------------------------------------------
 */

/* sparsevec(sparsevec, typmod, explicit): length coercion for sparsevec(n) */
PG_FUNCTION_INFO_V1(sparsevec_coerce);
Datum
sparsevec_coerce(PG_FUNCTION_ARGS)
{
	SparseVector *s = PG_GETARG_SPARSEVEC_P(0);

	sparsevec_check_typmod(s->dim, PG_GETARG_INT32(1));
	PG_RETURN_SPARSEVEC_P(s);
}

/* vector_to_sparsevec(vector, typmod, explicit): keeps the non-zero elements */
PG_FUNCTION_INFO_V1(vector_to_sparsevec);
Datum
vector_to_sparsevec(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);

	sparsevec_check_typmod(v->dim, PG_GETARG_INT32(1));
	PG_RETURN_SPARSEVEC_P(sparsevec_from_dense(v->x, v->dim));
}

/*
 * sparsevec_to_vector(sparsevec, typmod, explicit): the dense vector;
 * 54000 past vector's 16000 dimensions.
 */
PG_FUNCTION_INFO_V1(sparsevec_to_vector);
Datum
sparsevec_to_vector(PG_FUNCTION_ARGS)
{
	SparseVector *s = PG_GETARG_SPARSEVEC_P(0);
	float	   *values = SPARSEVEC_VALUES(s);
	Vector	   *v;

	v = new_vector(s->dim);
	for (int i = 0; i < s->nnz; i++)
		v->x[s->indices[i]] = values[i];
	vector_check_typmod(v, PG_GETARG_INT32(1));
	PG_RETURN_VECTOR_P(v);
}

/*
 * array_to_sparsevec(integer[] | real[] | double precision[] | numeric[],
 * typmod, explicit): a dense one-dimensional array without NULLs.
 */
PG_FUNCTION_INFO_V1(array_to_sparsevec);
Datum
array_to_sparsevec(PG_FUNCTION_ARGS)
{
	int			n;
	float	   *x = vector_array_to_floats(PG_GETARG_ARRAYTYPE_P(0), "sparsevec", FLT_MAX,
											&n);
	SparseVector *s = sparsevec_from_dense(x, n);

	pfree(x);
	sparsevec_check_typmod(s->dim, PG_GETARG_INT32(1));
	PG_RETURN_SPARSEVEC_P(s);
}

/* ---------------------------------------------------------------------
 * Distances, norm
 * ---------------------------------------------------------------------
 */
double
sparsevec_metric_distance(VectorMetric metric, const SparseVector *a,
						  const SparseVector *b)
{
	const float *av = SPARSEVEC_VALUES(a);
	const float *bv = SPARSEVEC_VALUES(b);
	double		s = 0,
				aa = 0,
				bb = 0;
	int			i = 0,
				j = 0;

	sparsevec_check_same_dims(a, b);
	/* the union of the two index lists in ascending order */
	while (i < a->nnz || j < b->nnz)
	{
		double		x = 0,
					y = 0;

		if (j >= b->nnz || (i < a->nnz && a->indices[i] < b->indices[j]))
			x = av[i++];
		else if (i >= a->nnz || b->indices[j] < a->indices[i])
			y = bv[j++];
		else
		{
			x = av[i++];
			y = bv[j++];
		}
		switch (metric)
		{
			case VECTOR_METRIC_L2:
				s += (x - y) * (x - y);
				break;
			case VECTOR_METRIC_IP:
				s += x * y;
				break;
			case VECTOR_METRIC_COSINE:
				s += x * y;
				aa += x * x;
				bb += y * y;
				break;
			case VECTOR_METRIC_L1:
				s += fabs(x - y);
				break;
			default:
				elog(ERROR, "metric %d is not a metric of sparse vectors", (int) metric);
		}
	}
	if (metric == VECTOR_METRIC_IP)
		return -s;
	if (metric == VECTOR_METRIC_COSINE)
		return vector_cosine_distance_from_parts(s, aa, bb);
	return s;
}

static double
args_distance(FunctionCallInfo fcinfo, VectorMetric metric)
{
	return sparsevec_metric_distance(metric, PG_GETARG_SPARSEVEC_P(0),
									 PG_GETARG_SPARSEVEC_P(1));
}

VECTOR_DISTANCE_SQL_FUNCTIONS(sparsevec, args_distance);

/* sum of squares of the stored values, in double */
static double
sum_squares(const SparseVector *s)
{
	const float *values = SPARSEVEC_VALUES(s);
	double		sum = 0;

	for (int i = 0; i < s->nnz; i++)
		sum += (double) values[i] * values[i];
	return sum;
}

/* l2_norm(sparsevec) -> float8, the Euclidean norm */
PG_FUNCTION_INFO_V1(sparsevec_l2_norm);
Datum
sparsevec_l2_norm(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(sqrt(sum_squares(PG_GETARG_SPARSEVEC_P(0))));
}

/*
 * l2_normalize(sparsevec) -> sparsevec of norm 1 (a zero vector stays
 * zero).  An element that underflows to 0 in float4 is dropped, so no
 * zero is ever stored.
 */
PG_FUNCTION_INFO_V1(sparsevec_l2_normalize);
Datum
sparsevec_l2_normalize(PG_FUNCTION_ARGS)
{
	SparseVector *s = PG_GETARG_SPARSEVEC_P(0);
	const float *values = SPARSEVEC_VALUES(s);
	double		norm = sqrt(sum_squares(s));
	SparseVector *r = new_sparsevec(s->dim, s->nnz);
	float	   *rv = SPARSEVEC_VALUES(r);
	int			n = 0;

	if (norm == 0)
		PG_RETURN_SPARSEVEC_P(r);
	for (int i = 0; i < s->nnz; i++)
	{
		float		x = (float) (values[i] / norm);

		if (x != 0)
		{
			r->indices[n] = s->indices[i];
			rv[n++] = x;
		}
	}
	if (n < s->nnz)
	{
		/* values follow the indices: move them to their place for n */
		memmove(r->indices + n, rv, sizeof(float) * n);
		r->nnz = n;
		SET_VARSIZE(r, SPARSEVEC_SIZE(n));
	}
	PG_RETURN_SPARSEVEC_P(r);
}

/* ---------------------------------------------------------------------
 * Total order for btree: the order of the dense vectors (vector_cmp):
 * element by element over the common dimensions, absent elements being
 * zeros, then the fewer dimensions first.
 * ---------------------------------------------------------------------
 */
static int
sparsevec_compare(const SparseVector *a, const SparseVector *b)
{
	const float *av = SPARSEVEC_VALUES(a);
	const float *bv = SPARSEVEC_VALUES(b);
	int32		common = Min(a->dim, b->dim);
	int			i = 0,
				j = 0;

	for (;;)
	{
		int32		ai = i < a->nnz ? a->indices[i] : INT_MAX;
		int32		bj = j < b->nnz ? b->indices[j] : INT_MAX;
		int32		pos = Min(ai, bj);
		float		x = (ai == pos) ? av[i] : 0;
		float		y = (bj == pos) ? bv[j] : 0;

		if (pos >= common)
			break;
		if (x < y)
			return -1;
		if (x > y)
			return 1;
		i += (ai == pos);
		j += (bj == pos);
	}
	return (a->dim > b->dim) - (a->dim < b->dim);
}

#define SPARSEVEC_CMP_FUNC(name, expr) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	int			c = sparsevec_compare(PG_GETARG_SPARSEVEC_P(0), PG_GETARG_SPARSEVEC_P(1)); \
	PG_RETURN_BOOL(expr); \
}

SPARSEVEC_CMP_FUNC(sparsevec_lt, c < 0)
SPARSEVEC_CMP_FUNC(sparsevec_le, c <= 0)
SPARSEVEC_CMP_FUNC(sparsevec_eq, c == 0)
SPARSEVEC_CMP_FUNC(sparsevec_ne, c != 0)
SPARSEVEC_CMP_FUNC(sparsevec_ge, c >= 0)
SPARSEVEC_CMP_FUNC(sparsevec_gt, c > 0)

/* sparsevec_cmp(sparsevec, sparsevec) -> int4: btree support function 1 */
PG_FUNCTION_INFO_V1(sparsevec_cmp);
Datum
sparsevec_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(sparsevec_compare(PG_GETARG_SPARSEVEC_P(0),
									  PG_GETARG_SPARSEVEC_P(1)));
}
