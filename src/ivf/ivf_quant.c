/*-------------------------------------------------------------------------
 *
 * ivf_quant.c
 *	  The quantization codecs of src/quant/ (sq8, RaBitQ) as ivfflat uses
 *	  them: the checks of CREATE INDEX, training the parameters, encoding a
 *	  row for its list, preparing a query and validating a stored code.
 *
 * Everything goes through the column's element type (index.h): a row or
 * a query is a stored element, turned into floats by elem->to_floats (for
 * halfvec the widened values), so the codecs see exactly the values the
 * unquantized index would compare.  sq8 prepares a query once per scan;
 * RaBitQ encodes each row against its list's centre (Gao & Long, SIGMOD
 * 2024, section 3.1: the residual to the centroid), so a query is
 * prepared once per probed list.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "ivf/ivf.h"
#include "utils/memutils.h"

void
ivf_quant_check(IvfQuantization q, const VindexElemType *elem, VectorMetric metric)
{
	if (q == IVF_QUANT_NONE)
		return;
	/* the codecs quantize floats: vector and halfvec have them, bit not */
	if (elem == &vindex_elem_bit)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ivfflat quantization %s does not support type %s",
						ivf_quantization_name(q), elem->name),
				 errhint("Use quantization none for %s columns.", elem->name)));
	if (q == IVF_QUANT_RABITQ)
		rabitq_check_metric(metric);
}

Size
ivf_code_size(IvfQuantization q, const VindexElemType *elem, int dims)
{
	return vindex_quant_code_size((VindexQuantization) q, elem->stored_size(dims), dims);
}

Size
ivf_params_size(IvfQuantization q, int dims)
{
	switch (q)
	{
		case IVF_QUANT_SQ8:
			return SQ8_PARAMS_SIZE(dims);
		case IVF_QUANT_RABITQ:
			return RABITQ_ROTATION_SIZE(dims);
		default:
			return 0;
	}
}

void *
ivf_quant_train(IvfQuantization q, const float *sample, int n, int dims)
{
	if (q == IVF_QUANT_SQ8)
	{
		if (n > 0)
			return sq8_train(sample, n, dims);
		else
		{
			/* an empty table: the ranges of one zero row (README: REINDEX) */
			float	   *zero = palloc0(sizeof(float) * dims);
			Sq8Params  *p = sq8_train(zero, 1, dims);

			pfree(zero);
			return p;
		}
	}
	Assert(q == IVF_QUANT_RABITQ);
	return rabitq_rotation_init(dims, IVF_RABITQ_SEED);
}

void
ivf_codec_init(IvfCodec *c, IvfQuantization q, VectorMetric metric,
			   const VindexElemType *elem, int dims, const void *params)
{
	c->quant = q;
	c->metric = metric;
	c->dims = dims;
	c->elem = elem;
	c->params = params;
	c->xf = palloc(sizeof(float) * dims);
	c->cf = palloc(sizeof(float) * dims);
	c->rquery = NULL;
	c->nlists = 0;
	c->rcentres = NULL;
	c->rdone = NULL;
}

void
ivf_codec_encode(IvfCodec *c, const char *x, const char *centre, char *out)
{
	c->elem->to_floats(x, c->dims, c->xf);
	if (c->quant == IVF_QUANT_SQ8)
		sq8_encode((const Sq8Params *) c->params, c->xf, (Sq8Element *) out);
	else
	{
		c->elem->to_floats(centre, c->dims, c->cf);
		rabitq_encode((const RabitqRotation *) c->params, c->metric, c->xf, c->cf,
					  (RabitqElement *) out);
	}
}

void *
ivf_codec_prepare(IvfCodec *c, const char *query, const char *centre)
{
	c->elem->to_floats(query, c->dims, c->xf);
	if (c->quant == IVF_QUANT_SQ8)
		return sq8_prepare_query((const Sq8Params *) c->params, c->metric, c->xf);
	c->elem->to_floats(centre, c->dims, c->cf);
	return rabitq_prepare_query((const RabitqRotation *) c->params, c->metric,
								c->xf, c->cf);
}

void
ivf_codec_set_query(IvfCodec *c, const char *query)
{
	const RabitqRotation *rot = (const RabitqRotation *) c->params;

	Assert(c->quant == IVF_QUANT_RABITQ);
	if (c->rquery == NULL)
		c->rquery = MemoryContextAlloc(GetMemoryChunkContext(c->xf),
									   sizeof(float) * rot->pdim);
	c->elem->to_floats(query, c->dims, c->xf);
	rabitq_rotate_query(rot, c->metric, c->xf, c->rquery);
}

void *
ivf_codec_prepare_list(IvfCodec *c, int list, int nlists, const char *centre)
{
	const RabitqRotation *rot = (const RabitqRotation *) c->params;
	float	   *rc;

	Assert(c->quant == IVF_QUANT_RABITQ && c->rquery != NULL);
	if (c->nlists == 0)
	{
		c->rcentres = MemoryContextAllocHuge(GetMemoryChunkContext(c->xf),
											 sizeof(float) * rot->pdim * (Size) nlists);
		c->rdone = MemoryContextAllocZero(GetMemoryChunkContext(c->xf),
										  sizeof(bool) * nlists);
		c->nlists = nlists;
	}
	Assert(list >= 0 && list < c->nlists);
	rc = c->rcentres + (Size) list * rot->pdim;
	if (!c->rdone[list])
	{
		c->elem->to_floats(centre, c->dims, c->cf);
		rabitq_rotate(rot, c->cf, rc);
		c->rdone[list] = true;
	}
	return rabitq_prepare_rotated(rot, c->metric, c->rquery, rc);
}

bool
ivf_codec_valid(const IvfCodec *c, const char *code)
{
	if (c->quant == IVF_QUANT_SQ8)
	{
		const Sq8Element *e = (const Sq8Element *) code;
		double		n2 = 0;

		if (!isfinite(e->norm2) || e->norm2 < 0)
			return false;
		/* norm2 is |decode(codes)|^2, up to float rounding */
		sq8_decode((const Sq8Params *) c->params, e, c->xf);
		for (int i = 0; i < c->dims; i++)
			n2 += (double) c->xf[i] * c->xf[i];
		return fabs(n2 - e->norm2) <= 1e-4 * Max(n2, 1e-30) + 1e-30;
	}
	return rabitq_code_valid((const RabitqElement *) code, c->dims);
}
