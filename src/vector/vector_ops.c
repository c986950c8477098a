/*-------------------------------------------------------------------------
 *
 * vector_ops.c
 *	  SQL functions and operators on `vector`: the four distances, norms,
 *	  subvector, element-wise arithmetic, concatenation, and the total
 *	  order behind the default btree operator class.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/detoast.h"
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif
#include "vector/vector.h"

/*
 * Per-call-site cache of out-of-line (TOASTed) distance arguments.  In
 * `ORDER BY t.v <-> q.v` inside a LATERAL join, q.v is the same TOAST
 * pointer for every row of the inner scan; without the cache each of those
 * rows would fetch it from the TOAST table again (3.5-4x slower for 784-d
 * query vectors).  TOAST values never change once written, so the pointer
 * (value id and TOAST relation) identifies the value.
 */
typedef struct DistanceArgCache
{
	struct varatt_external ptr[2];	/* pointer of the cached value, per arg */
	struct varlena *value[2];	/* detoasted copy in fn_mcxt, or NULL */
} DistanceArgCache;

struct varlena *
vector_cached_distance_arg(FunctionCallInfo fcinfo, int argno)
{
	struct varlena *raw = (struct varlena *) DatumGetPointer(PG_GETARG_DATUM(argno));
	DistanceArgCache *cache;
	struct varatt_external ptr;

	if (!VARATT_IS_EXTERNAL_ONDISK(raw) || fcinfo->flinfo == NULL)
		return PG_DETOAST_DATUM(PG_GETARG_DATUM(argno));

	if (fcinfo->flinfo->fn_extra == NULL)
		fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt,
														  sizeof(DistanceArgCache));
	cache = (DistanceArgCache *) fcinfo->flinfo->fn_extra;
	VARATT_EXTERNAL_GET_POINTER(ptr, raw);
	if (cache->value[argno] == NULL ||
		ptr.va_valueid != cache->ptr[argno].va_valueid ||
		ptr.va_toastrelid != cache->ptr[argno].va_toastrelid)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		struct varlena *v = detoast_attr(raw);

		MemoryContextSwitchTo(old);
		if (cache->value[argno] != NULL)
			pfree(cache->value[argno]);
		cache->value[argno] = v;
		cache->ptr[argno] = ptr;
	}
	return cache->value[argno];
}

/* Argument `argno` (0 or 1) as a Vector, detoasting through the cache. */
static Vector *
cached_vector_arg(FunctionCallInfo fcinfo, int argno)
{
	return (Vector *) vector_cached_distance_arg(fcinfo, argno);
}

/*
 * The index-order distance (see VectorMetric) between the two vector
 * arguments: checked to have the same dimensions (22000 otherwise) and
 * computed by vector_metric_distance, the one implementation the indexes
 * use too.
 */
static double
args_distance(FunctionCallInfo fcinfo, VectorMetric metric)
{
	Vector	   *a = cached_vector_arg(fcinfo, 0);
	Vector	   *b = cached_vector_arg(fcinfo, 1);

	vector_check_same_dims(a, b);
	return vector_metric_distance(metric, a->x, b->x, a->dim);
}

VECTOR_DISTANCE_SQL_FUNCTIONS(vector, args_distance);

/* vector_dims(vector) -> int4 */
PG_FUNCTION_INFO_V1(vector_dims);
Datum
vector_dims(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);

	PG_RETURN_INT32(v->dim);
}

/* vector_norm(vector) -> float8, the Euclidean norm, summed in double */
PG_FUNCTION_INFO_V1(vector_norm);
Datum
vector_norm(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	double		s = 0;

	for (int i = 0; i < v->dim; i++)
		s += (double) v->x[i] * v->x[i];
	PG_RETURN_FLOAT8(sqrt(s));
}

bool
vector_l2_normalize_into(const float *x, int n, float *out)
{
	double		s = 0;
	double		inv;

	for (int i = 0; i < n; i++)
		s += (double) x[i] * x[i];
	if (s == 0)
	{
		if (out != x)
			memcpy(out, x, sizeof(float) * n);
		return false;
	}
	inv = 1.0 / sqrt(s);
	for (int i = 0; i < n; i++)
		out[i] = (float) (x[i] * inv);
	return true;
}

/* l2_normalize(vector) -> vector of norm 1; a zero vector stays zero */
PG_FUNCTION_INFO_V1(vector_l2_normalize);
Datum
vector_l2_normalize(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	Vector	   *r = new_vector(v->dim);

	vector_l2_normalize_into(v->x, v->dim, r->x);
	PG_RETURN_VECTOR_P(r);
}

/*
 * subvector(vector, start int4, count int4) -> vector: elements
 * start .. start + count - 1 (1-based), clipped to the vector like
 * substring().  Raises 22000 when the result would be empty.
 */
PG_FUNCTION_INFO_V1(vector_subvector);
Datum
vector_subvector(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	int64		start = PG_GETARG_INT32(1);
	int64		count = PG_GETARG_INT32(2);
	int64		end = start + count;	/* exclusive; int64 so no overflow */
	Vector	   *r;

	if (count < 0)
		ereport(ERROR,
				(errcode(ERRCODE_SUBSTRING_ERROR),
				 errmsg("negative subvector length not allowed")));
	if (start < 1)
		start = 1;
	if (end > (int64) v->dim + 1)
		end = (int64) v->dim + 1;
	if (end <= start)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("vector must have at least 1 dimension"),
				 errdetail("The requested range selects no elements of a %d-dimensional vector.",
						   v->dim)));
	r = new_vector((int) (end - start));
	memcpy(r->x, v->x + (start - 1), sizeof(float) * r->dim);
	PG_RETURN_VECTOR_P(r);
}

/*
 * Element-wise arithmetic.  Overflow to infinity is an error (22003), so
 * a stored vector is always finite.
 */
static Vector *
elementwise(const Vector *a, const Vector *b, char op)
{
	Vector	   *r;

	vector_check_same_dims(a, b);
	r = new_vector(a->dim);
	for (int i = 0; i < a->dim; i++)
	{
		switch (op)
		{
			case '+':
				r->x[i] = a->x[i] + b->x[i];
				break;
			case '-':
				r->x[i] = a->x[i] - b->x[i];
				break;
			default:
				r->x[i] = a->x[i] * b->x[i];
				break;
		}
	}
	for (int i = 0; i < r->dim; i++)
		if (isinf(r->x[i]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("value out of range: overflow"),
					 errdetail("Element %d of the result is outside the range of real.", i + 1)));
	return r;
}

PG_FUNCTION_INFO_V1(vector_add);
Datum
vector_add(PG_FUNCTION_ARGS)
{
	PG_RETURN_VECTOR_P(elementwise(PG_GETARG_VECTOR_P(0), PG_GETARG_VECTOR_P(1), '+'));
}

PG_FUNCTION_INFO_V1(vector_sub);
Datum
vector_sub(PG_FUNCTION_ARGS)
{
	PG_RETURN_VECTOR_P(elementwise(PG_GETARG_VECTOR_P(0), PG_GETARG_VECTOR_P(1), '-'));
}

PG_FUNCTION_INFO_V1(vector_mul);
Datum
vector_mul(PG_FUNCTION_ARGS)
{
	PG_RETURN_VECTOR_P(elementwise(PG_GETARG_VECTOR_P(0), PG_GETARG_VECTOR_P(1), '*'));
}

/* vector || vector: concatenation; raises 54000 past VECTOR_MAX_DIM */
PG_FUNCTION_INFO_V1(vector_concat);
Datum
vector_concat(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *r = new_vector(a->dim + b->dim);

	memcpy(r->x, a->x, sizeof(float) * a->dim);
	memcpy(r->x + a->dim, b->x, sizeof(float) * b->dim);
	PG_RETURN_VECTOR_P(r);
}

/*
 * Total order for btree: element by element, then the shorter vector
 * first when one is a prefix of the other.
 */
static int
vector_compare(const Vector *a, const Vector *b)
{
	int			n = Min(a->dim, b->dim);

	for (int i = 0; i < n; i++)
	{
		if (a->x[i] < b->x[i])
			return -1;
		if (a->x[i] > b->x[i])
			return 1;
	}
	return (a->dim > b->dim) - (a->dim < b->dim);
}

#define VECTOR_CMP_FUNC(name, expr) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	int			c = vector_compare(PG_GETARG_VECTOR_P(0), PG_GETARG_VECTOR_P(1)); \
	PG_RETURN_BOOL(expr); \
}

VECTOR_CMP_FUNC(vector_lt, c < 0)
VECTOR_CMP_FUNC(vector_le, c <= 0)
VECTOR_CMP_FUNC(vector_eq, c == 0)
VECTOR_CMP_FUNC(vector_ne, c != 0)
VECTOR_CMP_FUNC(vector_ge, c >= 0)
VECTOR_CMP_FUNC(vector_gt, c > 0)

/* vector_cmp(vector, vector) -> int4: btree support function 1 */
PG_FUNCTION_INFO_V1(vector_cmp);
Datum
vector_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(vector_compare(PG_GETARG_VECTOR_P(0), PG_GETARG_VECTOR_P(1)));
}
