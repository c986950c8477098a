/*-------------------------------------------------------------------------
 *
 * halfvec.c
 *	  The `halfvec` type (layout in halfvec.h): float <-> binary16
 *	  conversion, text and binary input/output, the halfvec(n) type
 *	  modifier, casts from and to vector, sparsevec and arrays, the four
 *	  distances, norm, normalisation, subvector, element-wise arithmetic,
 *	  concatenation, binary quantization and the total order behind the
 *	  default btree operator class.  avg(halfvec) and sum(halfvec) are in
 *	  vector_agg.c with vector's.
 *
 * Behaviour follows pgvector 0.8's halfvec; arithmetic is done in float
 * on the widened elements and rounded back to half, an out-of-range
 * result being an error (22003), so a stored halfvec is always finite.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/varbit.h"
#include "vector/halfvec.h"
#include "vector/sparsevec.h"

/* ---------------------------------------------------------------------
 * Conversions
 * ---------------------------------------------------------------------
 */
uint16
float_to_half_unchecked(float f)
{
	union
	{
		float		f;
		uint32		u;
	}			in;
	uint32		sign,
				abs;

	in.f = f;
	sign = (in.u >> 16) & 0x8000;
	abs = in.u & 0x7fffffff;

	if (abs > 0x7f800000)		/* NaN: a quiet NaN */
		return (uint16) (sign | 0x7e00);
	if (abs >= 0x477ff000)		/* >= 65520 rounds to Infinity */
		return (uint16) (sign | 0x7c00);
	if (abs < 0x38800000)		/* below 2^-14: a half subnormal or zero */
	{
		uint32		exponent = abs >> 23;
		uint32		mantissa,
					shift,
					rest,
					halfway,
					r;

		if (abs <= 0x33000000)	/* at most 2^-25: ties to even 0 */
			return (uint16) sign;
		/* value = mantissa * 2^(exponent - 150); the half unit is 2^-24 */
		mantissa = (abs & 0x7fffff) | 0x800000;
		shift = 126 - exponent;
		r = mantissa >> shift;
		rest = mantissa & ((1u << shift) - 1);
		halfway = 1u << (shift - 1);
		if (rest > halfway || (rest == halfway && (r & 1)))
			r++;
		return (uint16) (sign | r);
	}
	else
	{
		/* rebias the exponent (127 -> 15) and round the 13 dropped bits */
		uint32		r = (abs - 0x38000000) >> 13;
		uint32		rest = abs & 0x1fff;

		if (rest > 0x1000 || (rest == 0x1000 && (r & 1)))
			r++;				/* a carry into the exponent is right */
		return (uint16) (sign | r);
	}
}

void
halfvec_floats_to_halves(const float *x, uint16 *out, int n)
{
	vector_check_finite_named(x, n, "halfvec");
	for (int i = 0; i < n; i++)
	{
		if (fabsf(x[i]) > HALFVEC_MAX_VALUE)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("value %g is out of range for type halfvec", (double) x[i]),
					 errdetail("Halfvec elements are at most %g in magnitude.",
							   (double) HALFVEC_MAX_VALUE)));
		out[i] = float_to_half_unchecked(x[i]);
	}
}

void
halfvec_halves_to_floats(const uint16 *h, float *out, int n)
{
	for (int i = 0; i < n; i++)
		out[i] = half_to_float(h[i]);
}

/* The elements of h widened to a palloc'd float array */
static float *
widen(const HalfVector *h)
{
	float	   *x = palloc(sizeof(float) * h->dim);

	halfvec_halves_to_floats(h->x, x, h->dim);
	return x;
}

/* A new halfvec of the n floats at x (checked: 22000/22003 as above) */
static HalfVector *
halfvec_from_floats(const float *x, int n)
{
	HalfVector *h = new_halfvec(n);

	halfvec_floats_to_halves(x, h->x, n);
	return h;
}

/* ---------------------------------------------------------------------
 * Construction and checks
 * ---------------------------------------------------------------------
 */
static void
halfvec_check_dim(int dim)
{
	vector_check_dim_of("halfvec", dim, HALFVEC_MAX_DIM);
}

HalfVector *
new_halfvec(int dim)
{
	HalfVector *h;

	halfvec_check_dim(dim);
	h = (HalfVector *) palloc0(HALFVEC_SIZE(dim));
	SET_VARSIZE(h, HALFVEC_SIZE(dim));
	h->dim = dim;
	return h;
}

static void
halfvec_check_typmod(int dim, int32 typmod)
{
	if (typmod != -1 && dim != typmod)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", typmod, dim)));
}

static void
halfvec_check_same_dims(const HalfVector *a, const HalfVector *b)
{
	if (a->dim != b->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different halfvec dimensions %d and %d",
						a->dim, b->dim)));
}

/* ---------------------------------------------------------------------
 * Text and binary forms
 * ---------------------------------------------------------------------
 */

/*
 * halfvec_in: text "[x1,x2,...]" -> halfvec, parsed as vector's text
 * (vector_parse_text), each float4 then rounded to the nearest half.
 * Beyond +/-65504 is 22003.
 */
PG_FUNCTION_INFO_V1(halfvec_in);
Datum
halfvec_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	int			n;
	float	   *x = vector_parse_text(str, "halfvec", HALFVEC_MAX_DIM, &n);
	HalfVector *h = halfvec_from_floats(x, n);

	pfree(x);
	halfvec_check_typmod(h->dim, typmod);
	PG_RETURN_HALFVEC_P(h);
}

/* halfvec_out: each element as the shortest text of its float4 value */
PG_FUNCTION_INFO_V1(halfvec_out);
Datum
halfvec_out(PG_FUNCTION_ARGS)
{
	HalfVector *h = PG_GETARG_HALFVEC_P(0);
	char	   *buf = palloc(h->dim * FLOAT_SHORTEST_DECIMAL_LEN + 3);
	char	   *p = buf;

	*p++ = '[';
	for (int i = 0; i < h->dim; i++)
	{
		if (i > 0)
			*p++ = ',';
		p += float_to_shortest_decimal_bufn(half_to_float(h->x[i]), p);
	}
	*p++ = ']';
	*p = '\0';
	PG_FREE_IF_COPY(h, 0);
	PG_RETURN_CSTRING(buf);
}

/* halfvec_typmod_in: halfvec(n) with 1 <= n <= HALFVEC_MAX_DIM */
PG_FUNCTION_INFO_V1(halfvec_typmod_in);
Datum
halfvec_typmod_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(vector_typmod_parse(PG_GETARG_ARRAYTYPE_P(0), "halfvec",
										HALFVEC_MAX_DIM));
}

/*
 * halfvec_recv: binary form int16 dim, int16 reserved (must be 0), then
 * dim binary16 values, network byte order, nothing after.  NaN and
 * infinities are rejected (22000, 22003).
 */
PG_FUNCTION_INFO_V1(halfvec_recv);
Datum
halfvec_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		typmod = PG_GETARG_INT32(2);
	int			dim = vector_recv_header(buf, "halfvec", HALFVEC_MAX_DIM,
										 sizeof(uint16));
	HalfVector *h = new_halfvec(dim);

	for (int i = 0; i < dim; i++)
	{
		float		f;

		h->x[i] = (uint16) pq_getmsgint(buf, sizeof(uint16));
		f = half_to_float(h->x[i]);
		vector_check_finite_named(&f, 1, "halfvec");
	}
	halfvec_check_typmod(h->dim, typmod);
	PG_RETURN_HALFVEC_P(h);
}

PG_FUNCTION_INFO_V1(halfvec_send);
Datum
halfvec_send(PG_FUNCTION_ARGS)
{
	HalfVector *h = PG_GETARG_HALFVEC_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint16(&buf, h->dim);
	pq_sendint16(&buf, 0);
	for (int i = 0; i < h->dim; i++)
		pq_sendint16(&buf, h->x[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* ---------------------------------------------------------------------
 * Casts
 * ---------------------------------------------------------------------
 */

/* halfvec(halfvec, typmod, explicit): length coercion for halfvec(n) */
PG_FUNCTION_INFO_V1(halfvec_coerce);
Datum
halfvec_coerce(PG_FUNCTION_ARGS)
{
	HalfVector *h = PG_GETARG_HALFVEC_P(0);

	halfvec_check_typmod(h->dim, PG_GETARG_INT32(1));
	PG_RETURN_HALFVEC_P(h);
}

/* vector_to_halfvec(vector, typmod, explicit): rounded; beyond 65504 is 22003 */
PG_FUNCTION_INFO_V1(vector_to_halfvec);
Datum
vector_to_halfvec(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);

	halfvec_check_typmod(v->dim, PG_GETARG_INT32(1));
	PG_RETURN_HALFVEC_P(halfvec_from_floats(v->x, v->dim));
}

/* halfvec_to_vector(halfvec, typmod, explicit): exact */
PG_FUNCTION_INFO_V1(halfvec_to_vector);
Datum
halfvec_to_vector(PG_FUNCTION_ARGS)
{
	HalfVector *h = PG_GETARG_HALFVEC_P(0);
	Vector	   *v = new_vector(h->dim);

	halfvec_halves_to_floats(h->x, v->x, h->dim);
	vector_check_typmod(v, PG_GETARG_INT32(1));
	PG_RETURN_VECTOR_P(v);
}

/*
 * array_to_halfvec(integer[] | real[] | double precision[] | numeric[],
 * typmod, explicit): a one-dimensional array without NULLs, through
 * vector_array_to_floats (its errors naming halfvec), then rounded.
 */
PG_FUNCTION_INFO_V1(array_to_halfvec);
Datum
array_to_halfvec(PG_FUNCTION_ARGS)
{
	int			n;
	float	   *x = vector_array_to_floats(PG_GETARG_ARRAYTYPE_P(0), "halfvec",
										   HALFVEC_MAX_VALUE, &n);
	HalfVector *h = halfvec_from_floats(x, n);

	pfree(x);
	halfvec_check_typmod(h->dim, PG_GETARG_INT32(1));
	PG_RETURN_HALFVEC_P(h);
}

/* halfvec_to_float4(halfvec, typmod, explicit) -> real[] (exact) */
PG_FUNCTION_INFO_V1(halfvec_to_float4);
Datum
halfvec_to_float4(PG_FUNCTION_ARGS)
{
	HalfVector *h = PG_GETARG_HALFVEC_P(0);
	Datum	   *d = palloc(sizeof(Datum) * h->dim);

	for (int i = 0; i < h->dim; i++)
		d[i] = Float4GetDatum(half_to_float(h->x[i]));
	PG_RETURN_ARRAYTYPE_P(construct_array(d, h->dim, FLOAT4OID,
										  sizeof(float4), true, TYPALIGN_INT));
}

/* halfvec_to_sparsevec(halfvec, typmod, explicit): the non-zero elements */
PG_FUNCTION_INFO_V1(halfvec_to_sparsevec);
Datum
halfvec_to_sparsevec(PG_FUNCTION_ARGS)
{
	HalfVector *h = PG_GETARG_HALFVEC_P(0);
	int32		typmod = PG_GETARG_INT32(1);
	SparseVector *s;
	float	   *values;
	int			nnz = 0;

	if (typmod != -1 && h->dim != typmod)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", typmod, h->dim)));
	/* +0 and -0 are the patterns 0x0000 and 0x8000 */
	for (int i = 0; i < h->dim; i++)
		nnz += (h->x[i] & 0x7fff) != 0;
	s = new_sparsevec(h->dim, nnz);
	values = SPARSEVEC_VALUES(s);
	nnz = 0;
	for (int i = 0; i < h->dim; i++)
		if ((h->x[i] & 0x7fff) != 0)
		{
			s->indices[nnz] = i;
			values[nnz++] = half_to_float(h->x[i]);
		}
	PG_RETURN_POINTER(s);
}

/*
 * sparsevec_to_halfvec(sparsevec, typmod, explicit): the dense halfvec;
 * 54000 past 16000 dimensions, 22003 for a value beyond 65504.
 */
PG_FUNCTION_INFO_V1(sparsevec_to_halfvec);
Datum
sparsevec_to_halfvec(PG_FUNCTION_ARGS)
{
	SparseVector *s = PG_GETARG_SPARSEVEC_P(0);
	float	   *values = SPARSEVEC_VALUES(s);
	HalfVector *h = new_halfvec(s->dim);

	for (int i = 0; i < s->nnz; i++)
		halfvec_floats_to_halves(&values[i], &h->x[s->indices[i]], 1);
	halfvec_check_typmod(h->dim, PG_GETARG_INT32(1));
	PG_RETURN_HALFVEC_P(h);
}

/* ---------------------------------------------------------------------
 * Distances
 * ---------------------------------------------------------------------
 */
double
halfvec_metric_distance(VectorMetric metric, const uint16 *a, const uint16 *b, int dim)
{
	switch (metric)
	{
		case VECTOR_METRIC_L2:
			return vector_kernels->l2_squared_half(a, b, dim);
		case VECTOR_METRIC_IP:
			return -(double) vector_kernels->inner_product_half(a, b, dim);
		case VECTOR_METRIC_COSINE:
			{
				float		dot,
							aa,
							bb;

				vector_kernels->cosine_parts_half(a, b, dim, &dot, &aa, &bb);
				return vector_cosine_distance_from_parts(dot, aa, bb);
			}
		case VECTOR_METRIC_L1:
			return vector_kernels->l1_half(a, b, dim);
		default:
			elog(ERROR, "metric %d is not a metric of float vectors", (int) metric);
	}
	return 0;					/* keep compilers quiet */
}

/* the two halfvec arguments (through the TOAST cache), same dims checked */
static double
args_distance(FunctionCallInfo fcinfo, VectorMetric metric)
{
	HalfVector *a = (HalfVector *) vector_cached_distance_arg(fcinfo, 0);
	HalfVector *b = (HalfVector *) vector_cached_distance_arg(fcinfo, 1);

	halfvec_check_same_dims(a, b);
	return halfvec_metric_distance(metric, a->x, b->x, a->dim);
}

VECTOR_DISTANCE_SQL_FUNCTIONS(halfvec, args_distance);

/* ---------------------------------------------------------------------
 * Functions
 * ---------------------------------------------------------------------
 */

/* vector_dims(halfvec) -> int4 */
PG_FUNCTION_INFO_V1(halfvec_vector_dims);
Datum
halfvec_vector_dims(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(PG_GETARG_HALFVEC_P(0)->dim);
}

/* l2_norm(halfvec) -> float8, the Euclidean norm, summed in double */
PG_FUNCTION_INFO_V1(halfvec_l2_norm);
Datum
halfvec_l2_norm(PG_FUNCTION_ARGS)
{
	HalfVector *h = PG_GETARG_HALFVEC_P(0);
	double		s = 0;

	for (int i = 0; i < h->dim; i++)
	{
		double		x = half_to_float(h->x[i]);

		s += x * x;
	}
	PG_RETURN_FLOAT8(sqrt(s));
}

/*
 * l2_normalize(halfvec) -> halfvec of norm 1 (up to half rounding), by
 * vector_l2_normalize_into on the widened elements; a zero vector stays
 * zero.
 */
PG_FUNCTION_INFO_V1(halfvec_l2_normalize);
Datum
halfvec_l2_normalize(PG_FUNCTION_ARGS)
{
	HalfVector *h = PG_GETARG_HALFVEC_P(0);
	float	   *x = widen(h);
	HalfVector *r;

	vector_l2_normalize_into(x, h->dim, x);
	r = halfvec_from_floats(x, h->dim);
	pfree(x);
	PG_RETURN_HALFVEC_P(r);
}

/*
 * subvector(halfvec, start int4, count int4) -> halfvec: elements
 * start .. start + count - 1 (1-based), clipped like substring().
 * Raises 22011 for a negative count, 22000 when nothing is selected.
 */
PG_FUNCTION_INFO_V1(halfvec_subvector);
Datum
halfvec_subvector(PG_FUNCTION_ARGS)
{
	HalfVector *h = PG_GETARG_HALFVEC_P(0);
	int64		start = PG_GETARG_INT32(1);
	int64		count = PG_GETARG_INT32(2);
	int64		end = start + count;
	HalfVector *r;

	if (count < 0)
		ereport(ERROR,
				(errcode(ERRCODE_SUBSTRING_ERROR),
				 errmsg("negative subvector length not allowed")));
	if (start < 1)
		start = 1;
	if (end > (int64) h->dim + 1)
		end = (int64) h->dim + 1;
	if (end <= start)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("halfvec must have at least 1 dimension"),
				 errdetail("The requested range selects no elements of a %d-dimensional halfvec.",
						   h->dim)));
	r = new_halfvec((int) (end - start));
	memcpy(r->x, h->x + (start - 1), sizeof(uint16) * r->dim);
	PG_RETURN_HALFVEC_P(r);
}

/*
 * Element-wise arithmetic in float on the widened elements, rounded to
 * half; a result beyond +/-65504 is 22003.
 */
static HalfVector *
elementwise(const HalfVector *a, const HalfVector *b, char op)
{
	HalfVector *r;

	halfvec_check_same_dims(a, b);
	r = new_halfvec(a->dim);
	for (int i = 0; i < a->dim; i++)
	{
		float		x = half_to_float(a->x[i]),
					y = half_to_float(b->x[i]),
					z;

		switch (op)
		{
			case '+':
				z = x + y;
				break;
			case '-':
				z = x - y;
				break;
			default:
				z = x * y;
				break;
		}
		/* beyond +/-65504, including float overflow to infinity */
		if (!(fabsf(z) <= HALFVEC_MAX_VALUE))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("value out of range: overflow"),
					 errdetail("Element %d of the result is outside the range of halfvec.", i + 1)));
		r->x[i] = float_to_half_unchecked(z);
	}
	return r;
}

PG_FUNCTION_INFO_V1(halfvec_add);
Datum
halfvec_add(PG_FUNCTION_ARGS)
{
	PG_RETURN_HALFVEC_P(elementwise(PG_GETARG_HALFVEC_P(0), PG_GETARG_HALFVEC_P(1), '+'));
}

PG_FUNCTION_INFO_V1(halfvec_sub);
Datum
halfvec_sub(PG_FUNCTION_ARGS)
{
	PG_RETURN_HALFVEC_P(elementwise(PG_GETARG_HALFVEC_P(0), PG_GETARG_HALFVEC_P(1), '-'));
}

PG_FUNCTION_INFO_V1(halfvec_mul);
Datum
halfvec_mul(PG_FUNCTION_ARGS)
{
	PG_RETURN_HALFVEC_P(elementwise(PG_GETARG_HALFVEC_P(0), PG_GETARG_HALFVEC_P(1), '*'));
}

/* halfvec || halfvec: concatenation; raises 54000 past HALFVEC_MAX_DIM */
PG_FUNCTION_INFO_V1(halfvec_concat);
Datum
halfvec_concat(PG_FUNCTION_ARGS)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);
	HalfVector *r = new_halfvec(a->dim + b->dim);

	memcpy(r->x, a->x, sizeof(uint16) * a->dim);
	memcpy(r->x + a->dim, b->x, sizeof(uint16) * b->dim);
	PG_RETURN_HALFVEC_P(r);
}

/*
 * binary_quantize(halfvec) -> bit(dim): bit i is 1 where element i is
 * positive, as binary_quantize(vector).
 */
PG_FUNCTION_INFO_V1(halfvec_binary_quantize);
Datum
halfvec_binary_quantize(PG_FUNCTION_ARGS)
{
	HalfVector *h = PG_GETARG_HALFVEC_P(0);
	Size		len = VARBITTOTALLEN(h->dim);
	VarBit	   *r = (VarBit *) palloc0(len);
	bits8	   *bits = VARBITS(r);

	SET_VARSIZE(r, len);
	VARBITLEN(r) = h->dim;
	for (int i = 0; i < h->dim; i++)
		if (half_to_float(h->x[i]) > 0)
			bits[i / BITS_PER_BYTE] |= (bits8) (0x80 >> (i % BITS_PER_BYTE));
	PG_RETURN_VARBIT_P(r);
}

/* ---------------------------------------------------------------------
 * Total order for btree: that of vector (element by element, then the
 * fewer dimensions first); -0 equals +0.
 * ---------------------------------------------------------------------
 */
static int
halfvec_compare(const HalfVector *a, const HalfVector *b)
{
	int			n = Min(a->dim, b->dim);

	for (int i = 0; i < n; i++)
	{
		float		x = half_to_float(a->x[i]),
					y = half_to_float(b->x[i]);

		if (x < y)
			return -1;
		if (x > y)
			return 1;
	}
	return (a->dim > b->dim) - (a->dim < b->dim);
}

#define HALFVEC_CMP_FUNC(name, expr) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	int			c = halfvec_compare(PG_GETARG_HALFVEC_P(0), PG_GETARG_HALFVEC_P(1)); \
	PG_RETURN_BOOL(expr); \
}

HALFVEC_CMP_FUNC(halfvec_lt, c < 0)
HALFVEC_CMP_FUNC(halfvec_le, c <= 0)
HALFVEC_CMP_FUNC(halfvec_eq, c == 0)
HALFVEC_CMP_FUNC(halfvec_ne, c != 0)
HALFVEC_CMP_FUNC(halfvec_ge, c >= 0)
HALFVEC_CMP_FUNC(halfvec_gt, c > 0)

/* halfvec_cmp(halfvec, halfvec) -> int4: btree support function 1 */
PG_FUNCTION_INFO_V1(halfvec_cmp);
Datum
halfvec_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(halfvec_compare(PG_GETARG_HALFVEC_P(0), PG_GETARG_HALFVEC_P(1)));
}
