/*-------------------------------------------------------------------------
 *
 * vector_io.c
 *	  The `vector` type's input/output: text and binary forms, the
 *	  vector(n) type modifier, the dimension and finiteness checks every
 *	  constructor shares, and casts to and from arrays.  The text parser
 *	  (vector_parse_text) and the array reader (vector_array_to_floats)
 *	  are shared with halfvec, the array reader also with sparsevec.
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
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "vector/vector.h"

void
vector_check_dim(int dim)
{
	vector_check_dim_of("vector", dim, VECTOR_MAX_DIM);
}

void
vector_check_dim_of(const char *typname, int dim, int max_dim)
{
	if (dim < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s must have at least 1 dimension", typname)));
	if (dim > max_dim)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s cannot have more than %d dimensions",
						typname, max_dim)));
}

Vector *
new_vector(int dim)
{
	Vector	   *v;

	vector_check_dim(dim);
	v = (Vector *) palloc0(VECTOR_SIZE(dim));
	SET_VARSIZE(v, VECTOR_SIZE(dim));
	v->dim = dim;
	return v;
}

void
vector_check_same_dims(const Vector *a, const Vector *b)
{
	if (a->dim != b->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different vector dimensions %d and %d",
						a->dim, b->dim)));
}

/* 22000 for NaN, 22003 for +/-Infinity, naming type `typname` */
void
vector_check_finite_named(const float *x, int dim, const char *typname)
{
	for (int i = 0; i < dim; i++)
	{
		if (isnan(x[i]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("NaN not allowed in %s", typname)));
		if (isinf(x[i]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("infinite value not allowed in %s", typname)));
	}
}

void
vector_check_finite(const float *x, int dim)
{
	vector_check_finite_named(x, dim, "vector");
}

void
vector_check_typmod(const Vector *v, int32 typmod)
{
	if (typmod != -1 && v->dim != typmod)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", typmod, v->dim)));
}

static inline bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static void
syntax_error(const char *typname, const char *input, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"", typname, input),
			 errdetail("%s", detail)));
}

float *
vector_parse_text(const char *str, const char *typname, int max_dim, int *count)
{
	const char *p = str;
	int			cap = 16,
				n = 0;
	float	   *x = palloc(sizeof(float) * cap);

	while (is_space(*p))
		p++;
	if (*p != '[')
		syntax_error(typname, str, "Vector contents must start with \"[\".");
	p++;
	while (is_space(*p))
		p++;
	if (*p == ']')
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s must have at least 1 dimension", typname)));

	for (;;)
	{
		char	   *end;
		float		val;

		while (is_space(*p))
			p++;
		if (*p == ',' || *p == ']' || *p == '\0')
			syntax_error(typname, str, "Expected a number.");
		if (n >= max_dim)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("%s cannot have more than %d dimensions",
							typname, max_dim)));
		errno = 0;
		val = strtof(p, &end);
		if (end == p)
			syntax_error(typname, str, "Expected a number.");
		/* overflow is an error; underflow reads as the (signed) zero or subnormal */
		if (errno == ERANGE && isinf(val))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("\"%.*s\" is out of range for type %s",
							(int) (end - p), p, typname)));
		vector_check_finite_named(&val, 1, typname);
		if (n == cap)
		{
			cap *= 2;
			x = repalloc(x, sizeof(float) * cap);
		}
		x[n++] = val;
		p = end;
		while (is_space(*p))
			p++;
		if (*p == ',')
		{
			p++;
			continue;
		}
		if (*p == ']')
			break;
		syntax_error(typname, str, "Expected \",\" or \"]\" after a number.");
	}
	p++;
	while (is_space(*p))
		p++;
	if (*p != '\0')
		syntax_error(typname, str, "Junk after closing right bracket.");
	*count = n;
	return x;
}

/*
 * vector_in: text "[x1,x2,...]" -> vector, parsed by vector_parse_text.
 */
PG_FUNCTION_INFO_V1(vector_in);
Datum
vector_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	int			n;
	float	   *x = vector_parse_text(str, "vector", VECTOR_MAX_DIM, &n);
	Vector	   *v;

	v = new_vector(n);
	memcpy(v->x, x, sizeof(float) * n);
	pfree(x);
	vector_check_typmod(v, typmod);
	PG_RETURN_VECTOR_P(v);
}

/* vector_out: the shortest text of each element that reads back exactly */
PG_FUNCTION_INFO_V1(vector_out);
Datum
vector_out(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	/* each float4 needs at most FLOAT_SHORTEST_DECIMAL_LEN - 1 chars + ',' */
	char	   *buf = palloc(v->dim * FLOAT_SHORTEST_DECIMAL_LEN + 3);
	char	   *p = buf;

	*p++ = '[';
	for (int i = 0; i < v->dim; i++)
	{
		if (i > 0)
			*p++ = ',';
		p += float_to_shortest_decimal_bufn(v->x[i], p);
	}
	*p++ = ']';
	*p = '\0';
	PG_FREE_IF_COPY(v, 0);
	PG_RETURN_CSTRING(buf);
}

/* vector_typmod_in: vector(n) with 1 <= n <= VECTOR_MAX_DIM */
PG_FUNCTION_INFO_V1(vector_typmod_in);
Datum
vector_typmod_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(vector_typmod_parse(PG_GETARG_ARRAYTYPE_P(0), "vector",
										VECTOR_MAX_DIM));
}

int
vector_typmod_parse(ArrayType *ta, const char *typname, int max_dim)
{
	int32	   *mods;
	int			n;

	mods = ArrayGetIntegerTypmods(ta, &n);
	if (n != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid type modifier"),
				 errdetail("Type %s takes exactly one modifier, its number of dimensions.",
						   typname)));
	if (mods[0] < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type %s must be at least 1", typname)));
	if (mods[0] > max_dim)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type %s cannot exceed %d",
						typname, max_dim)));
	return mods[0];
}

PG_FUNCTION_INFO_V1(vector_typmod_out);
Datum
vector_typmod_out(PG_FUNCTION_ARGS)
{
	int32		typmod = PG_GETARG_INT32(0);

	if (typmod < 0)
		PG_RETURN_CSTRING(pstrdup(""));
	PG_RETURN_CSTRING(psprintf("(%d)", typmod));
}

/*
 * vector_recv: binary form int16 dim, int16 reserved (must be 0),
 * float4[dim], network byte order.  The message must hold exactly that.
 */
PG_FUNCTION_INFO_V1(vector_recv);
Datum
vector_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		typmod = PG_GETARG_INT32(2);
	int			dim = vector_recv_header(buf, "vector", VECTOR_MAX_DIM,
										 sizeof(float));
	Vector	   *v = new_vector(dim);

	for (int i = 0; i < dim; i++)
		v->x[i] = pq_getmsgfloat4(buf);
	vector_check_finite(v->x, dim);
	vector_check_typmod(v, typmod);
	PG_RETURN_VECTOR_P(v);
}

int
vector_recv_header(StringInfo buf, const char *typname, int max_dim, int elem_size)
{
	int16		dim,
				reserved;

	dim = pq_getmsgint(buf, sizeof(int16));
	reserved = pq_getmsgint(buf, sizeof(int16));
	if (reserved != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary data for type %s", typname),
				 errdetail("The reserved field must be 0, not %d.", reserved)));
	vector_check_dim_of(typname, dim, max_dim);
	if (buf->len - buf->cursor != elem_size * dim)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary data for type %s", typname),
				 errdetail("A %s of %d dimensions needs %d bytes of elements, got %d.",
						   typname, dim, elem_size * dim, buf->len - buf->cursor)));
	return dim;
}

PG_FUNCTION_INFO_V1(vector_send);
Datum
vector_send(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint16(&buf, v->dim);
	pq_sendint16(&buf, 0);
	for (int i = 0; i < v->dim; i++)
		pq_sendfloat4(&buf, v->x[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* vector(vector, typmod, explicit): length coercion for vector(n) */
PG_FUNCTION_INFO_V1(vector_coerce);
Datum
vector_coerce(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);

	vector_check_typmod(v, PG_GETARG_INT32(1));
	PG_RETURN_VECTOR_P(v);
}

/*
 * A double as float4; 22003 when a finite value is beyond float4's range
 * or, after rounding to float4, beyond max_abs in magnitude.
 */
static float
narrow_to_float(double d, const char *typname, float max_abs)
{
	float		f = (float) d;

	if (max_abs < FLT_MAX && isfinite(d) && !(fabsf(f) <= max_abs))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value %g is out of range for type %s", d, typname),
				 errdetail("%c%s elements are at most %g in magnitude.",
						   pg_toupper((unsigned char) typname[0]), typname + 1,
						   (double) max_abs)));
	if (isinf(f) && !isinf(d))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value %g is out of range for type %s", d, typname),
				 errdetail("%c%s elements are of type real.",
						   pg_toupper((unsigned char) typname[0]), typname + 1)));
	return f;
}

float *
vector_array_to_floats(ArrayType *arr, const char *typname, float max_abs, int *n)
{
	Oid			elemtype = ARR_ELEMTYPE(arr);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	bool	   *nulls;
	float	   *x;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("array must be one-dimensional to convert to %s", typname),
				 errdetail("The array has %d dimensions.", ARR_NDIM(arr))));
	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(arr, elemtype, typlen, typbyval, typalign,
					  &elems, &nulls, n);
	x = palloc(sizeof(float) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("array must not contain nulls to convert to %s", typname),
					 errdetail("Element %d is null.", i + 1)));
		switch (elemtype)
		{
			case FLOAT4OID:
				x[i] = narrow_to_float(DatumGetFloat4(elems[i]), typname, max_abs);
				break;
			case FLOAT8OID:
				x[i] = narrow_to_float(DatumGetFloat8(elems[i]), typname, max_abs);
				break;
			case INT4OID:
				x[i] = narrow_to_float((double) DatumGetInt32(elems[i]), typname, max_abs);
				break;
			case NUMERICOID:
				x[i] = narrow_to_float(DatumGetFloat8(DirectFunctionCall1(numeric_float8,
																		  elems[i])),
									   typname, max_abs);
				break;
			default:
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("cannot convert an array of %s to %s",
								format_type_be(elemtype), typname)));
		}
	}
	pfree(elems);
	pfree(nulls);
	return x;
}

/*
 * array_to_vector(real[] | double precision[] | integer[] | numeric[],
 * typmod, explicit): a one-dimensional array without NULLs -> vector.
 */
PG_FUNCTION_INFO_V1(array_to_vector);
Datum
array_to_vector(PG_FUNCTION_ARGS)
{
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(0);
	int32		typmod = PG_GETARG_INT32(1);
	int			n;
	float	   *x = vector_array_to_floats(arr, "vector", FLT_MAX, &n);
	Vector	   *v = new_vector(n);

	memcpy(v->x, x, sizeof(float) * n);
	pfree(x);
	/* a double like 1e300 becomes +Inf in float4: reject it here */
	vector_check_finite(v->x, n);
	vector_check_typmod(v, typmod);
	PG_RETURN_VECTOR_P(v);
}

/* vector_to_float4(vector, typmod, explicit) -> real[] */
PG_FUNCTION_INFO_V1(vector_to_float4);
Datum
vector_to_float4(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	Datum	   *d = palloc(sizeof(Datum) * v->dim);

	for (int i = 0; i < v->dim; i++)
		d[i] = Float4GetDatum(v->x[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(d, v->dim, FLOAT4OID,
										  sizeof(float4), true, TYPALIGN_INT));
}
