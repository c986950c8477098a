/*-------------------------------------------------------------------------
 *
 * hnsw_quant.c
 *	  The sq8 and RaBitQ codecs of src/quant/ as the hnsw index uses them:
 *	  the checks of CREATE INDEX, training and storing the parameters,
 *	  encoding a row, distances on the codes for the graph on disk, and the
 *	  re-ranking of a scan's candidates by their exact distance from the
 *	  heap.
 *
 * See "Quantization" in hnsw.h for the layout.  The in-memory build keeps
 * the unquantized values (the graph is built from exact distances) and
 * encodes them as it writes the graph; everything on disk works on codes:
 * a scan prepares its query once (sq8_prepare_query, or
 * rabitq_prepare_query against the index's one centroid), an insert or
 * VACUUM comparing two stored elements prepares one as the query (sq8:
 * decoded by sq8_decode; RaBitQ, which has no decoder: rabitq_prepare_code
 * from the code itself), once per run of distances from it.
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

/*
 * Seed of an hnsw index's RaBitQ rotation (stored in the blob anyway, so
 * changing it changes new indexes only)
 */
#define HNSW_RABITQ_SEED UINT64CONST(0x5EED1F5A3B7E0011)

/* Distance state of a disk graph over a quantized index */
typedef struct HnswQuantGraph
{
	const char *fixed;			/* the scan's query, or NULL */
	void	   *fixed_prep;		/* Sq8Query or RabitqQuery */
	char	   *key;			/* the stored element last prepared */
	bool		has_key;
	void	   *prep;
	float	   *xf;				/* dims floats */
	double		cc;				/* rabitq: |centroid|^2 */
	MemoryContext ctx;			/* prep, reset when key changes */
} HnswQuantGraph;

/* The parts of a rabitq parameter blob: the rotation, then the centroid */
static inline const RabitqRotation *
shape_rotation(const HnswShape *shape)
{
	return (const RabitqRotation *) shape->qparams;
}

static inline const float *
shape_centroid(const HnswShape *shape)
{
	return (const float *) ((const char *) shape->qparams +
							RABITQ_ROTATION_SIZE(shape->dims));
}

void
hnsw_quant_check(VindexQuantization q, const VindexElemType *elem, VectorMetric metric)
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
	if (q == VINDEX_QUANT_RABITQ)
		rabitq_check_metric(metric);
}

Size
hnsw_quant_params_size(VindexQuantization q, int dims)
{
	switch (q)
	{
		case VINDEX_QUANT_SQ8:
			return SQ8_PARAMS_SIZE(dims);
		case VINDEX_QUANT_RABITQ:
			return RABITQ_ROTATION_SIZE(dims) + sizeof(float) * dims;
		default:
			return 0;
	}
}

int
hnsw_scan_ef(VindexQuantization q)
{
	/* the setting is at most 1,000: no overflow */
	return q == VINDEX_QUANT_RABITQ ?
		hnsw_ef_search * HNSW_RABITQ_EF_FACTOR : hnsw_ef_search;
}

int
hnsw_rerank_depth(VindexQuantization q)
{
	/* the setting is at most 100,000: no overflow */
	return q == VINDEX_QUANT_RABITQ ?
		hnsw_rerank_candidates * HNSW_RABITQ_RERANK_FACTOR : hnsw_rerank_candidates;
}

uint64
hnsw_quant_first(VindexQuantization q, int dims)
{
	Size		size = hnsw_quant_params_size(q, dims);

	return (uint64) ((size + HNSW_PAGE_DATA - 1) / HNSW_PAGE_DATA) * HNSW_PAGE_DATA;
}

/*
 * The rabitq blob: the rotation of HNSW_RABITQ_SEED, then the mean of the
 * n sample rows (for cosine of the normalised rows: rabitq_encode works on
 * unit vectors then; a zero row, not indexable under cosine, never comes
 * here), the origin for none.  The residuals to the mean are smaller than
 * the vectors, so the estimates err less (Gao & Long, section 3.1).
 */
static void *
rabitq_train(const float *sample, int n, int dims, VectorMetric metric)
{
	Size		rsize = RABITQ_ROTATION_SIZE(dims);
	char	   *blob = palloc0(rsize + sizeof(float) * dims);
	RabitqRotation *rot = rabitq_rotation_init(dims, HNSW_RABITQ_SEED);
	double	   *sum = palloc0(sizeof(double) * dims);
	float	   *unit = palloc(sizeof(float) * dims);
	float	   *centroid = (float *) (blob + rsize);
	int			used = 0;

	memcpy(blob, rot, rsize);
	pfree(rot);
	for (int i = 0; i < n; i++)
	{
		const float *x = sample + (Size) i * dims;

		if (metric == VECTOR_METRIC_COSINE)
		{
			if (!vector_l2_normalize_into(x, dims, unit))
				continue;
			x = unit;
		}
		for (int j = 0; j < dims; j++)
			sum[j] += x[j];
		used++;
	}
	for (int j = 0; j < dims; j++)
		centroid[j] = used > 0 ? (float) (sum[j] / used) : 0.0f;
	pfree(sum);
	pfree(unit);
	return blob;
}

void *
hnsw_quant_train(const HnswShape *shape, VindexQuantization q, const char *base,
				 Size stride, uint32 n)
{
	Size		row = sizeof(float) * shape->dims;
	uint32		want = (uint32) Min((Size) n, Max(HNSW_QUANT_SAMPLE_BYTES / row, 1));
	float	   *sample;
	void	   *p;

	Assert(!shape->varsize && shape->quant == VINDEX_QUANT_NONE);
	Assert(q == VINDEX_QUANT_SQ8 || q == VINDEX_QUANT_RABITQ);
	if (n == 0)
	{
		/*
		 * an empty table: sq8 the ranges of one zero row, rabitq the origin
		 * as the centroid (README: REINDEX)
		 */
		sample = palloc0(row);
		p = q == VINDEX_QUANT_SQ8 ? (void *) sq8_train(sample, 1, shape->dims) :
			rabitq_train(sample, 0, shape->dims, shape->metric);
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
	p = q == VINDEX_QUANT_SQ8 ? (void *) sq8_train(sample, want, shape->dims) :
		rabitq_train(sample, want, shape->dims, shape->metric);
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

/* The checks of hnsw_quant_read_params for a rabitq blob */
static void
rabitq_check_params(Relation index, const HnswShape *shape, const char *blob)
{
	const RabitqRotation *rot = (const RabitqRotation *) blob;
	Size		rsize = RABITQ_ROTATION_SIZE(shape->dims);
	const float *centroid = (const float *) (blob + rsize);

	if (rot->dim != shape->dims || rot->pdim != RABITQ_PADDED_DIM(shape->dims) ||
		rot->rounds != RABITQ_ROUNDS || rot->unused != 0)
		vindex_report_corrupted(index, 1,
								"The rabitq rotation is for %d dimensions (%d padded, %d rounds); the index has %d (%d padded, %d rounds).",
								rot->dim, rot->pdim, rot->rounds, shape->dims,
								RABITQ_PADDED_DIM(shape->dims), RABITQ_ROUNDS);
	for (int i = 0; i < shape->dims; i++)
		if (!isfinite(centroid[i]))
			vindex_report_corrupted(index, 1 + (BlockNumber) ((rsize + sizeof(float) * i) / HNSW_PAGE_DATA),
									"The rabitq centroid's dimension %d (%g) is not finite.",
									i + 1, centroid[i]);
}

void *
hnsw_quant_read_params(Relation index, const HnswShape *shape)
{
	Size		size = hnsw_quant_params_size(shape->quant, shape->dims);
	Sq8Params  *p = palloc(size);
	BlockNumber nblocks = 1;
	const float *step;

	hnsw_read_stream(index, &nblocks, InvalidBuffer, 0, (char *) p, size);
	if (shape->quant == VINDEX_QUANT_RABITQ)
	{
		rabitq_check_params(index, shape, (const char *) p);
		return p;
	}
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
	Assert(shape->quant != VINDEX_QUANT_NONE && shape->qparams != NULL);
	memset(out, 0, shape->elem_size);
	shape->elem->to_floats(x, shape->dims, scratch);
	if (shape->quant == VINDEX_QUANT_SQ8)
		sq8_encode(shape->qparams, scratch, (Sq8Element *) out);
	else
		rabitq_encode(shape_rotation(shape), shape->metric, scratch,
					  shape_centroid(shape), (RabitqElement *) out);
	if (shape->filters.nfilters > 0)
		memcpy(out + HNSW_FILTER_OFFSET(shape), x + TYPEALIGN(4, shape->raw_size),
			   vindex_filter_size(shape->filters.nfilters));
}

bool
hnsw_quant_valid(const HnswShape *shape, const char *elem, float *scratch)
{
	float		norm2;
	double		n2 = 0;

	/* a value is 4-aligned in its page (hnsw_value_offset) or copied */
	if (shape->quant == VINDEX_QUANT_RABITQ)
		return rabitq_code_valid((const RabitqElement *) elem, shape->dims);
	memcpy(&norm2, elem + offsetof(Sq8Element, norm2), sizeof(float));
	if (!isfinite(norm2) || norm2 < 0)
		return false;
	/* norm2 is |decode(codes)|^2, up to float rounding (as sq8_encode sums) */
	sq8_decode(shape->qparams, (const Sq8Element *) elem, scratch);
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
	if (dg->g.shape.qparams == NULL)
		elog(ERROR, "hnsw index \"%s\" is quantized but its parameters were not read",
			 RelationGetRelationName(dg->index));
	qg = palloc0(sizeof(HnswQuantGraph));
	qg->key = palloc(dg->g.shape.vec_size);
	qg->xf = palloc(sizeof(float) * dg->g.shape.dims);
	qg->ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw quantized query",
									ALLOCSET_SMALL_SIZES);
	if (dg->g.shape.quant == VINDEX_QUANT_RABITQ)
	{
		const float *c = shape_centroid(&dg->g.shape);

		for (int i = 0; i < dg->g.shape.dims; i++)
			qg->cc += (double) c[i] * c[i];
	}
	dg->quant = qg;
}

void
hnsw_quant_set_query(HnswDiskGraph *dg, const char *q)
{
	HnswQuantGraph *qg = dg->quant;
	const HnswShape *shape = &dg->g.shape;

	Assert(qg != NULL);
	shape->elem->to_floats(q, shape->dims, qg->xf);
	if (shape->quant == VINDEX_QUANT_SQ8)
		qg->fixed_prep = sq8_prepare_query(shape->qparams, shape->metric, qg->xf);
	else
		qg->fixed_prep = rabitq_prepare_query(shape_rotation(shape), shape->metric,
											  qg->xf, shape_centroid(shape));
	qg->fixed = q;
}

double
hnsw_quant_distance(HnswDiskGraph *dg, const char *q, const char *elem)
{
	HnswQuantGraph *qg = dg->quant;
	const HnswShape *shape = &dg->g.shape;
	const void *prep;

	if (q == qg->fixed)
		prep = qg->fixed_prep;
	else
	{
		if (!qg->has_key || memcmp(qg->key, q, shape->vec_size) != 0)
		{
			MemoryContext old;

			MemoryContextReset(qg->ctx);
			memcpy(qg->key, q, shape->vec_size);
			old = MemoryContextSwitchTo(qg->ctx);
			if (shape->quant == VINDEX_QUANT_SQ8)
			{
				sq8_decode(shape->qparams, (const Sq8Element *) qg->key, qg->xf);
				qg->prep = sq8_prepare_query(shape->qparams, shape->metric, qg->xf);
			}
			else
				qg->prep = rabitq_prepare_code(shape_rotation(shape), shape->metric,
											   (const RabitqElement *) qg->key, qg->cc);
			MemoryContextSwitchTo(old);
			qg->has_key = true;
		}
		prep = qg->prep;
	}
	if (shape->quant == VINDEX_QUANT_SQ8)
		return sq8_distance(prep, (const Sq8Element *) elem);
	return rabitq_distance(prep, (const RabitqElement *) elem, NULL);
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
