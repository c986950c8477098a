/*-------------------------------------------------------------------------
 *
 * metric.c
 *	  How vsim's index access methods learn and compute their metric.
 *
 * An operator class names its metric with support function 1, one of the
 * vsim_metric_*(internal) functions below.  The function's result is the
 * VectorMetric code; vector_index_metric() calls it once per index so the
 * hot loops call the SIMD kernels directly instead of going through fmgr.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/genam.h"
#include "utils/rel.h"
#include "vector/vector.h"

#define METRIC_SUPPORT_FUNC(fname, metric) \
PG_FUNCTION_INFO_V1(fname); \
Datum \
fname(PG_FUNCTION_ARGS) \
{ \
	PG_RETURN_INT32(metric); \
}

/* vsim_metric_*(internal) -> internal: operator class support function 1 */
METRIC_SUPPORT_FUNC(vsim_metric_l2, VECTOR_METRIC_L2)
METRIC_SUPPORT_FUNC(vsim_metric_ip, VECTOR_METRIC_IP)
METRIC_SUPPORT_FUNC(vsim_metric_cosine, VECTOR_METRIC_COSINE)
METRIC_SUPPORT_FUNC(vsim_metric_l1, VECTOR_METRIC_L1)
METRIC_SUPPORT_FUNC(vsim_metric_hamming, VECTOR_METRIC_HAMMING)
METRIC_SUPPORT_FUNC(vsim_metric_jaccard, VECTOR_METRIC_JACCARD)

VectorMetric
vector_index_metric(Relation index, AttrNumber attno)
{
	FmgrInfo   *proc = index_getprocinfo(index, attno, VECTOR_METRIC_SUPPORT_PROC);
	int32		metric = DatumGetInt32(FunctionCall1(proc, (Datum) 0));

	if (metric < VECTOR_METRIC_L2 || metric > VECTOR_METRIC_MAX)
		elog(ERROR, "operator class support function 1 of index \"%s\" returned unknown metric %d",
			 RelationGetRelationName(index), metric);
	return (VectorMetric) metric;
}

/*
 * Double-precision distance, for the rare finite inputs whose float-lane
 * accumulation overflows (|x| near FLT_MAX) or, under cosine, underflows
 * (norms below about 1e-19).  Same values as the kernels otherwise.
 */
static double
metric_distance_wide(VectorMetric metric, const float *a, const float *b, int dim)
{
	double		s = 0,
				aa = 0,
				bb = 0;

	for (int i = 0; i < dim; i++)
	{
		double		x = a[i],
					y = b[i];

		switch (metric)
		{
			case VECTOR_METRIC_L2:
				s += (x - y) * (x - y);
				break;
			case VECTOR_METRIC_IP:
				s -= x * y;
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
				elog(ERROR, "metric %d is not a metric of float vectors", (int) metric);
		}
	}
	if (metric == VECTOR_METRIC_COSINE)
	{
		double		denom = sqrt(aa) * sqrt(bb);

		return denom == 0 ? 1.0 : 1.0 - Max(-1.0, Min(1.0, s / denom));
	}
	return s;
}

double
vector_metric_distance(VectorMetric metric, const float *a, const float *b, int dim)
{
	double		d;

	switch (metric)
	{
		case VECTOR_METRIC_L2:
			d = vector_kernels->l2_squared(a, b, dim);
			break;
		case VECTOR_METRIC_IP:
			d = -(double) vector_kernels->inner_product(a, b, dim);
			break;
		case VECTOR_METRIC_COSINE:
			{
				float		dot,
							aa,
							bb;

				vector_kernels->cosine_parts(a, b, dim, &dot, &aa, &bb);

				/*
				 * A sum of squares below FLT_MIN has underflowed (fully or
				 * into subnormals) and lost the vector's direction; double
				 * holds the squares of every finite float4 exactly enough.
				 */
				if (!isfinite(dot) || !isfinite(aa) || !isfinite(bb) ||
					aa < FLT_MIN || bb < FLT_MIN)
					return metric_distance_wide(metric, a, b, dim);
				return vector_cosine_distance_from_parts(dot, aa, bb);
			}
		case VECTOR_METRIC_L1:
			d = vector_kernels->l1(a, b, dim);
			break;
		default:
			elog(ERROR, "metric %d is not a metric of float vectors", (int) metric);
			return 0;			/* keep compilers quiet */
	}
	return isfinite(d) ? d : metric_distance_wide(metric, a, b, dim);
}

double
vector_l2_below(const float *a, const float *b, int dim, double bound)
{
	float		fb;
	float		d;

	/* near FLT_MAX a float partial sum can overflow where the double one would not */
	if (!(bound <= FLT_MAX / 2))
		return vector_metric_distance(VECTOR_METRIC_L2, a, b, dim);
	/* the least float >= bound: a float sum below it is below bound */
	fb = (float) bound;
	if ((double) fb < bound)
		fb = nextafterf(fb, FLT_MAX);
	d = vector_kernels->l2_squared_below(a, b, dim, fb);
	return isfinite(d) ? d : metric_distance_wide(VECTOR_METRIC_L2, a, b, dim);
}

double
vector_metric_to_sql(VectorMetric metric, double distance)
{
	return metric == VECTOR_METRIC_L2 ? sqrt(distance) : distance;
}

bool
vector_metric_indexable(VectorMetric metric, const float *x, int dim)
{
	if (metric != VECTOR_METRIC_COSINE)
		return true;
	for (int i = 0; i < dim; i++)
		if (x[i] != 0)
			return true;
	return false;
}

const char *
vector_metric_name(VectorMetric metric)
{
	switch (metric)
	{
		case VECTOR_METRIC_L2:
			return "l2";
		case VECTOR_METRIC_IP:
			return "ip";
		case VECTOR_METRIC_COSINE:
			return "cosine";
		case VECTOR_METRIC_L1:
			return "l1";
		case VECTOR_METRIC_HAMMING:
			return "hamming";
		case VECTOR_METRIC_JACCARD:
			return "jaccard";
	}
	return "unknown";
}
