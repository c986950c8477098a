/*-------------------------------------------------------------------------
 *
 * vector_agg.c
 *	  avg(vector), sum(vector), avg(halfvec) and sum(halfvec).
 *
 * The transition state is a float8[] of 1 + dim elements: the row count,
 * then the running sums in double precision.  Being an ordinary array it
 * needs no serialisation, so the aggregates run in parallel with
 * vector_combine merging the workers' states.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "vector/halfvec.h"
#include "vector/vector.h"

static float8 *
state_values(ArrayType *state, int *n)
{
	if (ARR_NDIM(state) != 1 || ARR_HASNULL(state) ||
		ARR_ELEMTYPE(state) != FLOAT8OID)
		elog(ERROR, "vector aggregate state must be a one-dimensional float8 array");
	*n = ARR_DIMS(state)[0];
	return (float8 *) ARR_DATA_PTR(state);
}

static ArrayType *
new_state(int dim)
{
	Datum	   *d = palloc(sizeof(Datum) * (dim + 1));

	for (int i = 0; i <= dim; i++)
		d[i] = Float8GetDatum(0.0);
	return construct_array(d, dim + 1, FLOAT8OID, sizeof(float8),
						   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

/*
 * Add one row of `dim` elements, x (floats) or else h (halves), to the
 * state.  Rows of other dimensions than the first raise 22000.  The state
 * is modified in place when called as an aggregate (it belongs to the
 * aggregate's context).
 */
static ArrayType *
accum(FunctionCallInfo fcinfo, int dim, const float *x, const uint16 *h)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	float8	   *s;
	int			n;

	s = state_values(state, &n);
	if (n == 1)
	{
		state = new_state(dim);
		s = state_values(state, &n);
	}
	else if (!AggCheckCallContext(fcinfo, NULL))
	{
		state = DatumGetArrayTypePCopy(PointerGetDatum(state));
		s = state_values(state, &n);
	}
	if (n - 1 != dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different %s dimensions %d and %d",
						x ? "vector" : "halfvec", n - 1, dim)));
	s[0] += 1;
	if (x)
		for (int i = 0; i < dim; i++)
			s[i + 1] += x[i];
	else
		for (int i = 0; i < dim; i++)
			s[i + 1] += half_to_float(h[i]);
	return state;
}

/* vector_accum(float8[], vector) -> float8[]: transition of avg/sum(vector) */
PG_FUNCTION_INFO_V1(vector_accum);
Datum
vector_accum(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(1);

	PG_RETURN_ARRAYTYPE_P(accum(fcinfo, v->dim, v->x, NULL));
}

/* halfvec_accum(float8[], halfvec) -> float8[]: transition of avg/sum(halfvec) */
PG_FUNCTION_INFO_V1(halfvec_accum);
Datum
halfvec_accum(PG_FUNCTION_ARGS)
{
	HalfVector *h = PG_GETARG_HALFVEC_P(1);

	PG_RETURN_ARRAYTYPE_P(accum(fcinfo, h->dim, NULL, h->x));
}

/* vector_combine(float8[], float8[]) -> float8[]: merge two partial states */
PG_FUNCTION_INFO_V1(vector_combine);
Datum
vector_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *a = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *b = PG_GETARG_ARRAYTYPE_P(1);
	int			na,
				nb;
	float8	   *sa = state_values(a, &na);
	float8	   *sb = state_values(b, &nb);
	ArrayType  *r;
	float8	   *sr;
	int			nr;

	if (nb == 1 || sb[0] == 0)
		PG_RETURN_ARRAYTYPE_P(a);
	if (na == 1 || sa[0] == 0)
		PG_RETURN_ARRAYTYPE_P(b);
	if (na != nb)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different vector dimensions %d and %d", na - 1, nb - 1)));
	r = new_state(na - 1);
	sr = state_values(r, &nr);
	for (int i = 0; i < na; i++)
		sr[i] = sa[i] + sb[i];
	PG_RETURN_ARRAYTYPE_P(r);
}

/*
 * Finish sum or avg as a vector or (half) a halfvec; NULL for no rows;
 * 22003 if a result overflows real (vector) or 65504 (halfvec).  The final
 * functions are callable with any float8[], so a state holding NaN or
 * Infinity gets the input functions' errors (vector_check_finite,
 * halfvec_floats_to_halves) instead of becoming a value no btree, index or
 * dump could handle.
 */
static Datum
finish(FunctionCallInfo fcinfo, bool average, bool half)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	int			n;
	float8	   *s = state_values(state, &n);
	Vector	   *r;

	if (n == 1 || s[0] == 0)
		PG_RETURN_NULL();
	r = new_vector(n - 1);
	for (int i = 0; i < r->dim; i++)
	{
		double		val = average ? s[i + 1] / s[0] : s[i + 1];

		r->x[i] = (float) val;
		if (isinf(r->x[i]) && isfinite(val))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("value out of range: overflow"),
					 errdetail("Element %d of the aggregate is outside the range of %s.",
							   i + 1, half ? "halfvec" : "real")));
	}
	if (half)
	{
		HalfVector *h = new_halfvec(r->dim);

		halfvec_floats_to_halves(r->x, h->x, r->dim);
		pfree(r);
		PG_RETURN_HALFVEC_P(h);
	}
	vector_check_finite(r->x, r->dim);
	PG_RETURN_VECTOR_P(r);
}

/* vector_avg(float8[]) -> vector: final function of avg(vector) */
PG_FUNCTION_INFO_V1(vector_avg);
Datum
vector_avg(PG_FUNCTION_ARGS)
{
	return finish(fcinfo, true, false);
}

/* vector_sum(float8[]) -> vector: final function of sum(vector) */
PG_FUNCTION_INFO_V1(vector_sum);
Datum
vector_sum(PG_FUNCTION_ARGS)
{
	return finish(fcinfo, false, false);
}

/* halfvec_avg(float8[]) -> halfvec: final function of avg(halfvec) */
PG_FUNCTION_INFO_V1(halfvec_avg);
Datum
halfvec_avg(PG_FUNCTION_ARGS)
{
	return finish(fcinfo, true, true);
}

/* halfvec_sum(float8[]) -> halfvec: final function of sum(halfvec) */
PG_FUNCTION_INFO_V1(halfvec_sum);
Datum
halfvec_sum(PG_FUNCTION_ARGS)
{
	return finish(fcinfo, false, true);
}
