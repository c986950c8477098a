/*-------------------------------------------------------------------------
 *
 * sq8.c
 *	  sq8 scalar quantization: per-dimension min/max trained from a sample,
 *	  one byte per dimension, and the distances between a prepared float
 *	  query and codes (layouts and formulas in quant.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "miscadmin.h"
#include "quant/quant.h"

/* largest |u16| of a prepared query */
#define SQ8_QUERY_MAX 32767

Sq8Params *
sq8_train(const float *sample, int n, int dim)
{
	Sq8Params  *p;
	float	   *step;
	float	   *hi;

	vector_check_dim(dim);
	if (n < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sq8 training needs at least one sample vector")));
	p = palloc0(SQ8_PARAMS_SIZE(dim));
	p->dim = dim;
	step = SQ8_STEP(p);
	hi = palloc(sizeof(float) * dim);
	for (int i = 0; i < dim; i++)
		p->lo[i] = hi[i] = sample[i];
	for (int r = 0; r < n; r++)
	{
		const float *x = sample + (Size) r * dim;

		CHECK_FOR_INTERRUPTS();
		vector_check_finite(x, dim);
		for (int i = 0; i < dim; i++)
		{
			if (x[i] < p->lo[i])
				p->lo[i] = x[i];
			if (x[i] > hi[i])
				hi[i] = x[i];
		}
	}
	for (int i = 0; i < dim; i++)
	{
		/* in double: hi - lo can overflow float for elements near FLT_MAX */
		double		s = ((double) hi[i] - (double) p->lo[i]) / 255.0;

		step[i] = (float) Min(s, (double) FLT_MAX);
	}
	pfree(hi);
	return p;
}

void
sq8_encode(const Sq8Params *p, const float *x, Sq8Element *out)
{
	const float *step = SQ8_STEP(p);
	double		norm2 = 0.0;

	for (int i = 0; i < p->dim; i++)
	{
		int			c = 0;
		double		y;

		if (step[i] > 0.0f)
		{
			double		t = ((double) x[i] - p->lo[i]) / step[i];

			/* the comparisons also send a NaN to 0 */
			c = t > 0.0 ? (t < 255.0 ? (int) rint(t) : 255) : 0;
		}
		out->codes[i] = (uint8) c;
		y = (double) p->lo[i] + (double) step[i] * c;
		norm2 += y * y;
	}
	out->norm2 = (float) Min(norm2, (double) FLT_MAX);
}

void
sq8_decode(const Sq8Params *p, const Sq8Element *e, float *out)
{
	const float *step = SQ8_STEP(p);

	for (int i = 0; i < p->dim; i++)
		out[i] = (float) ((double) p->lo[i] + (double) step[i] * e->codes[i]);
}

Sq8Query *
sq8_prepare_query(const Sq8Params *p, VectorMetric metric, const float *q)
{
	const float *step = SQ8_STEP(p);
	Sq8Query   *sq = palloc0(sizeof(Sq8Query));
	double		umax = 0.0;
	double		qq = 0.0,
				qlo = 0.0;

	sq->metric = metric;
	sq->dim = p->dim;
	sq->kernels = quant_kernels();
	sq->u16 = palloc(sizeof(int16) * p->dim);
	for (int i = 0; i < p->dim; i++)
	{
		double		u = (double) q[i] * step[i];

		umax = Max(umax, fabs(u));
		qq += (double) q[i] * q[i];
		qlo += (double) q[i] * p->lo[i];
	}
	sq->qq = qq;
	sq->qlo = qlo;
	sq->scale = umax > 0.0 ? umax / SQ8_QUERY_MAX : 1.0;
	for (int i = 0; i < p->dim; i++)
		sq->u16[i] = (int16) rint((double) q[i] * step[i] / sq->scale);

	if (metric == VECTOR_METRIC_L1)
	{
		sq->p = palloc(sizeof(float) * p->dim);
		sq->w = palloc(sizeof(float) * p->dim);
		for (int i = 0; i < p->dim; i++)
		{
			if (step[i] > 0.0f)
			{
				sq->p[i] = (float) (((double) q[i] - p->lo[i]) / step[i]);
				sq->w[i] = step[i];
			}
			else
			{
				/* a constant dimension adds the same |q - lo| to every code */
				sq->l1_const += fabs((double) q[i] - p->lo[i]);
				sq->p[i] = 0.0f;
				sq->w[i] = 0.0f;
			}
		}
	}
	return sq;
}

double
sq8_distance(const Sq8Query *q, const Sq8Element *e)
{
	double		dot;

	if (q->metric == VECTOR_METRIC_L1)
		return q->l1_const + q->kernels->sq8_l1(q->p, q->w, e->codes, q->dim);

	dot = q->qlo + q->scale * (double) q->kernels->sq8_dot(q->u16, e->codes, q->dim);
	switch (q->metric)
	{
		case VECTOR_METRIC_L2:
			return Max(0.0, q->qq - 2.0 * dot + e->norm2);
		case VECTOR_METRIC_IP:
			return -dot;
		case VECTOR_METRIC_COSINE:
			return vector_cosine_distance_from_parts(dot, q->qq, e->norm2);
		default:
			elog(ERROR, "unknown metric %d", (int) q->metric);
	}
	return 0.0;					/* keep the compiler quiet */
}
