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

VectorMetric
vector_index_metric(Relation index, AttrNumber attno)
{
	FmgrInfo   *proc = index_getprocinfo(index, attno, VECTOR_METRIC_SUPPORT_PROC);
	int32		metric = DatumGetInt32(FunctionCall1(proc, (Datum) 0));

	if (metric < VECTOR_METRIC_L2 || metric > VECTOR_METRIC_L1)
		elog(ERROR, "operator class support function 1 of index \"%s\" returned unknown metric %d",
			 RelationGetRelationName(index), metric);
	return (VectorMetric) metric;
}

double
vector_metric_distance(VectorMetric metric, const float *a, const float *b, int dim)
{
	switch (metric)
	{
		case VECTOR_METRIC_L2:
			return vector_kernels->l2_squared(a, b, dim);
		case VECTOR_METRIC_IP:
			return -(double) vector_kernels->inner_product(a, b, dim);
		case VECTOR_METRIC_COSINE:
			{
				float		dot,
							aa,
							bb;

				vector_kernels->cosine_parts(a, b, dim, &dot, &aa, &bb);
				return vector_cosine_distance_from_parts(dot, aa, bb);
			}
		case VECTOR_METRIC_L1:
			return vector_kernels->l1(a, b, dim);
	}
	pg_unreachable();
}

double
vector_metric_to_sql(VectorMetric metric, double distance)
{
	return metric == VECTOR_METRIC_L2 ? sqrt(distance) : distance;
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
	}
	return "unknown";
}
