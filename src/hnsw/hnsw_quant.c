/*-------------------------------------------------------------------------
 *
 * hnsw_quant.c
 *	  The sq8 codec of src/quant/ as the hnsw index uses it: the checks of
 *	  CREATE INDEX, training and storing the parameters, encoding a row,
 *	  distances on the codes for the graph on disk, and the re-ranking of a
 *	  scan's candidates by their exact distance from the heap.
 *
 * See "Quantization" in hnsw.h for the layout.  The in-memory build keeps
 * the unquantized values (the graph is built from exact distances) and
 * encodes them as it writes the graph; everything on disk works on codes:
 * a scan prepares its query once (sq8_prepare_query), an insert or VACUUM
 * comparing two stored elements decodes one (sq8_decode) and prepares it
 * as the query, once per run of distances from it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/generic_xlog.h"
#include "access/xloginsert.h"
#include "hnsw/hnsw.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* Most bytes of floats the build's training sample takes */
#define HNSW_QUANT_SAMPLE_BYTES ((Size) 64 * 1024 * 1024)

/* Distance state of a disk graph over a quantized index */
typedef struct HnswQuantGraph
{
	const char *fixed;			/* the scan's query, or NULL */
	Sq8Query   *fixed_prep;
	char	   *key;			/* the stored element last prepared */
	bool		has_key;
	Sq8Query   *prep;
	float	   *xf;				/* dims floats */
	MemoryContext ctx;			/* prep, reset when key changes */
} HnswQuantGraph;

void
hnsw_quant_check(VindexQuantization q, const VindexElemType *elem)
{
	if (q == VINDEX_QUANT_NONE)
		return;
	/* the codec quantizes floats: vector and halfvec have them */
	if (elem == &vindex_elem_bit || elem == &vindex_elem_sparsevec)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("hnsw quantization %s does not support type %s",
						vindex_quantization_name(q), elem->name),
				 errhint("Use quantization none for %s columns.", elem->name)));
	if (q != VINDEX_QUANT_SQ8)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("hnsw indexes do not support quantization %s",
						vindex_quantization_name(q)),
				 errdetail("hnsw indexes support quantization none and sq8."),
				 errhint("Use quantization sq8 or none for hnsw, or an ivfflat index WITH (quantization = '%s').",
						 vindex_quantization_name(q))));
}

Size
hnsw_quant_params_size(VindexQuantization q, int dims)
{
	return q == VINDEX_QUANT_SQ8 ? SQ8_PARAMS_SIZE(dims) : 0;
}

uint64
hnsw_quant_first(VindexQuantization q, int dims)
{
	Size		size = hnsw_quant_params_size(q, dims);

	return (uint64) ((size + HNSW_PAGE_DATA - 1) / HNSW_PAGE_DATA) * HNSW_PAGE_DATA;
}

Sq8Params *
hnsw_quant_train(const HnswShape *shape, const char *base, Size stride, uint32 n)
{
	Size		row = sizeof(float) * shape->dims;
	uint32		want = (uint32) Min((Size) n, Max(HNSW_QUANT_SAMPLE_BYTES / row, 1));
	float	   *sample;
	Sq8Params  *p;

	Assert(!shape->varsize && shape->quant == VINDEX_QUANT_NONE);
	if (n == 0)
	{
		/* an empty table: the ranges of one zero row (README: REINDEX) */
		sample = palloc0(row);
		p = sq8_train(sample, 1, shape->dims);
		pfree(sample);
		return p;
	}
	sample = palloc_extended(row * want, MCXT_ALLOC_HUGE);
	/* evenly spaced rows: the build order is the table's, so this spans it */
	for (uint32 i = 0; i < want; i++)
	{
		uint64		id = (uint64) i * n / want;

		CHECK_FOR_INTERRUPTS();
		shape->elem->to_floats(base + id * stride, shape->dims, sample + (Size) i * shape->dims);
	}
	p = sq8_train(sample, want, shape->dims);
	pfree(sample);
	return p;
}

BlockNumber
hnsw_quant_write_params(Relation index, ForkNumber fork, const HnswShape *shape,
						const void *params)
{
	Size		size = hnsw_quant_params_size(shape->quant, shape->dims);
	BlockNumber blkno = 1;

	for (Size done = 0; done < size; done += HNSW_PAGE_DATA, blkno++)
	{
		Size		n = Min(size - done, HNSW_PAGE_DATA);
		Buffer		buf = ReadBufferExtended(index, fork, P_NEW, RBM_NORMAL, NULL);
		Page		page;

		if (BufferGetBlockNumber(buf) != blkno)
			elog(ERROR, "index \"%s\" extended to block %u, expected %u",
				 RelationGetRelationName(index), BufferGetBlockNumber(buf), blkno);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		page = BufferGetPage(buf);
		START_CRIT_SECTION();
		/* a data page whose bytes are no element's (no ELEMENT_START flag) */
		hnsw_init_data_page(page, false);
		memcpy(HNSW_PAGE_BYTES(page), (const char *) params + done, n);
		((PageHeader) page)->pd_lower = SizeOfPageHeaderData + n;
		MarkBufferDirty(buf);
		if (fork == INIT_FORKNUM)
			log_newpage_buffer(buf, true);
		END_CRIT_SECTION();
		UnlockReleaseBuffer(buf);
	}
	return blkno;
}

Sq8Params *
hnsw_quant_read_params(Relation index, const HnswShape *shape)
{
	Size		size = hnsw_quant_params_size(shape->quant, shape->dims);
	Sq8Params  *p = palloc(size);
	BlockNumber nblocks = 1;
	const float *step;

	hnsw_read_stream(index, &nblocks, InvalidBuffer, 0, (char *) p, size);
	if (p->dim != shape->dims || p->unused != 0)
		vindex_report_corrupted(index, 1,
								"The sq8 parameters are for %d dimensions; the index has %d.",
								p->dim, shape->dims);
	step = SQ8_STEP(p);
	for (int i = 0; i < p->dim; i++)
		if (!isfinite(p->lo[i]) || !isfinite(step[i]) || step[i] < 0)
			vindex_report_corrupted(index, 1 + (BlockNumber) ((offsetof(Sq8Params, lo) + sizeof(float) * i) / HNSW_PAGE_DATA),
									"The sq8 range of dimension %d (low %g, step %g) is impossible.",
									i + 1, p->lo[i], step[i]);
	return p;
}

void
hnsw_quant_encode(const HnswShape *shape, const char *x, char *out, float *scratch)
{
	Assert(shape->quant == VINDEX_QUANT_SQ8 && shape->sq8 != NULL);
	memset(out, 0, shape->elem_size);
	shape->elem->to_floats(x, shape->dims, scratch);
	sq8_encode(shape->sq8, scratch, (Sq8Element *) out);
	if (shape->filters.nfilters > 0)
		memcpy(out + HNSW_FILTER_OFFSET(shape), x + TYPEALIGN(4, shape->raw_size),
			   vindex_filter_size(shape->filters.nfilters));
}

bool
hnsw_quant_valid(const HnswShape *shape, const char *elem, float *scratch)
{
	float		norm2;
	double		n2 = 0;

	memcpy(&norm2, elem + offsetof(Sq8Element, norm2), sizeof(float));
	if (!isfinite(norm2) || norm2 < 0)
		return false;
	/* norm2 is |decode(codes)|^2, up to float rounding (as sq8_encode sums) */
	sq8_decode(shape->sq8, (const Sq8Element *) elem, scratch);
	for (int i = 0; i < shape->dims; i++)
		n2 += (double) scratch[i] * scratch[i];
	return fabs(n2 - norm2) <= 1e-4 * Max(n2, 1e-30) + 1e-30;
}

void
hnsw_quant_graph_init(HnswDiskGraph *dg)
{
	HnswQuantGraph *qg;

	if (dg->g.shape.quant == VINDEX_QUANT_NONE)
	{
		dg->quant = NULL;
		return;
	}
	if (dg->g.shape.sq8 == NULL)
		elog(ERROR, "hnsw index \"%s\" is quantized but its parameters were not read",
			 RelationGetRelationName(dg->index));
	qg = palloc0(sizeof(HnswQuantGraph));
	qg->key = palloc(dg->g.shape.vec_size);
	qg->xf = palloc(sizeof(float) * dg->g.shape.dims);
	qg->ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw sq8 query",
									ALLOCSET_SMALL_SIZES);
	dg->quant = qg;
}

void
hnsw_quant_set_query(HnswDiskGraph *dg, const char *q)
{
	HnswQuantGraph *qg = dg->quant;

	Assert(qg != NULL);
	dg->g.shape.elem->to_floats(q, dg->g.shape.dims, qg->xf);
	qg->fixed_prep = sq8_prepare_query(dg->g.shape.sq8, dg->g.shape.metric, qg->xf);
	qg->fixed = q;
}

double
hnsw_quant_distance(HnswDiskGraph *dg, const char *q, const char *elem)
{
	HnswQuantGraph *qg = dg->quant;
	const HnswShape *shape = &dg->g.shape;

	if (q == qg->fixed)
		return sq8_distance(qg->fixed_prep, (const Sq8Element *) elem);
	if (!qg->has_key || memcmp(qg->key, q, shape->vec_size) != 0)
	{
		MemoryContext old;

		MemoryContextReset(qg->ctx);
		memcpy(qg->key, q, shape->vec_size);
		sq8_decode(shape->sq8, (const Sq8Element *) qg->key, qg->xf);
		old = MemoryContextSwitchTo(qg->ctx);
		qg->prep = sq8_prepare_query(shape->sq8, shape->metric, qg->xf);
		MemoryContextSwitchTo(old);
		qg->has_key = true;
	}
	return sq8_distance(qg->prep, (const Sq8Element *) elem);
}

int
hnsw_rerank_batch(HnswDiskGraph *dg, VindexRerank *rr, const char *q,
				  const HnswCand *results, int n, int *next, int want,
				  HnswReranked *out)
{
	int			nout = 0;

	while (nout == 0 && *next < n)
	{
		for (int taken = 0; taken < want && *next < n; taken++)
		{
			HnswCand	c = results[(*next)++];
			ItemPointerData tids[HNSW_HEAPTIDS];
			int			ntids;
			double		d;

			CHECK_FOR_INTERRUPTS();
			d = hnsw_disk_element_tids(dg, c.id, q, tids, &ntids);
			if (ntids == 0 || d != c.dist)
				continue;
			for (int i = 0; i < ntids; i++)
			{
				if (vindex_rerank_distance(rr, &tids[i], q, &out[nout].dist))
					out[nout++].tid = tids[i];
			}
		}
	}
	qsort(out, nout, sizeof(HnswReranked), vindex_scored_cmp);
	return nout;
}
