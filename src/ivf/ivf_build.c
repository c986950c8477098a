/*-------------------------------------------------------------------------
 *
 * ivf_build.c
 *	  Building an ivfflat index (ambuild, ambuildempty).
 *
 * 1. Sample: one scan of the table (table_index_build_scan, so partial
 *	  index predicates and index expressions apply) keeps a uniform
 *	  reservoir sample (Vitter's algorithm R) of IVF_SAMPLE_ROWS_PER_LIST
 *	  rows per list, shrunk to fit maintenance_work_mem.
 * 2. k-means on the sample (ivf_kmeans.c) gives the centres: spherical
 *	  k-means for the cosine metric, ordinary k-means otherwise (see
 *	  ivf_list_metric() for inner product).
 * 3. Assign: a second scan gives every row to the list of its nearest
 *	  centre and feeds (list, tid, vector) to a tuplesort, so memory stays
 *	  bounded.  A serial build reports the rows assigned as tuples_done,
 *	  of the rows the sample scan saw (tuples_total).  With max_parallel_maintenance_workers this scan runs in
 *	  parallel workers (and the leader), each with its own share of a
 *	  parallel tuplesort, which the leader merges.
 * 4. Load: the sorted stream is written list after list, each list's pages
 *	  contiguous and chained, then the directory and the metapage are
 *	  completed.  Whole pages are WAL-logged (log_newpage_buffer).
 *
 * With quantization (ivf.h, "Quantization"), step 2 also trains the
 * parameters (sq8 on the same sample, as the rows are, before the cosine
 * metric normalises it; RaBitQ's seeded rotation), which are written on
 * the parameter pages after the directory, and step 4 stores each row's
 * code (against its list's centre for RaBitQ) instead of its element.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/table.h"
#include "access/tableam.h"
#include "access/xloginsert.h"
#include "catalog/pg_operator_d.h"
#include "catalog/pg_type_d.h"
#include "commands/progress.h"
#include "executor/tuptable.h"
#include "index/index.h"
#include "ivf/ivf.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "optimizer/paths.h"
#include "pgstat.h"
#include "port/pg_crc32c.h"
#include "storage/bufmgr.h"
#include "storage/condition_variable.h"
#include "storage/spin.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/tuplesort.h"

#if PG_VERSION_NUM >= 150000
#define IVF_SORTOPT TUPLESORT_NONE
#else
#define IVF_SORTOPT false
#endif

/* Most Lloyd iterations; Hamerly's bounds make late iterations cheap */
#define IVF_KMEANS_MAX_ITERATIONS 100

/* Above this many lists the centre distance matrix for pruning is not kept */
#define IVF_ASSIGN_MAX_PAIRWISE 2048

/*
 * State shared by the leader and the workers of a parallel build, followed
 * by the shared tuplesort (at sort_off)
 */
typedef struct IvfShared
{
	int			nlists;
	int			dims;
	int			metric;
	int			sortmem;		/* kB of sort memory per participant */
	Size		sort_off;		/* of the Sharedsort, from this struct */

	ConditionVariable done_cv;
	slock_t		mutex;
	int			ndone;			/* participants whose sort is done */
	double		heap_tuples;
	double		index_tuples;

	/* nlists * dims floats: the centres */
	float		centres[FLEXIBLE_ARRAY_MEMBER];
} IvfShared;

typedef struct IvfBuildState
{
	Relation	heap;
	Relation	index;
	VectorMetric metric;
	int			dims;
	const VindexElemType *elem; /* the column's element type (index.h) */
	Size		elem_size;		/* elem->stored_size(dims) */
	IvfQuantization quant;		/* the `quantization` option */
	Size		code_size;		/* of list items (elem_size for none) */
	VindexFilterLayout filters; /* the filter columns (index.h) */
	void	   *params;			/* the parameter blob, NULL for none */

	/* sampling: the rows as floats (elem->to_floats) */
	float	   *sample;			/* sample_target x dims floats */
	int			sample_target;
	int			nsample;
	double		sample_seen;
	uint64		rnd;

	/* assignment */
	int			nlists;
	char	   *centres;		/* nlists stored elements */
	float	   *fcentres;		/* the same as nlists x dims floats */
	float	   *cc;				/* nlists x nlists centre distances, or NULL */
	float	   *xf;				/* dims floats: a row as floats */
	float	   *unit;			/* dims floats: a normalised row */
	Tuplesortstate *sort;
	TupleTableSlot *slot;
	double		heap_tuples;
	double		index_tuples;
	bool		report_progress;	/* index_tuples as tuples_done (serial) */
	MemoryContext tmpctx;
} IvfBuildState;

/* Writes a chain of pages in block order */
typedef struct IvfWriter
{
	Relation	index;
	ForkNumber	fork;
	bool		logged;
	Buffer		buf;
	Page		page;
	uint16		flags;
} IvfWriter;

PGDLLEXPORT void ivf_parallel_build_main(dsm_segment *seg, shm_toc *toc);

/* ---- page writing ---------------------------------------------------- */

static void
writer_start(IvfWriter *w, Relation index, ForkNumber fork, uint16 flags)
{
	w->index = index;
	w->fork = fork;
	w->logged = RelationNeedsWAL(index) || fork == INIT_FORKNUM;
	w->flags = flags;
	w->buf = ivf_new_buffer(index, fork);
	w->page = BufferGetPage(w->buf);
	ivf_init_page(w->page, flags);
}

/* Write out and release the current page. */
static void
writer_flush(IvfWriter *w)
{
	START_CRIT_SECTION();
	MarkBufferDirty(w->buf);
	if (w->logged)
		log_newpage_buffer(w->buf, true);
	END_CRIT_SECTION();
	UnlockReleaseBuffer(w->buf);
	w->buf = InvalidBuffer;
}

/* Add an item, chaining a new page when the current one is full. */
static void
writer_add(IvfWriter *w, const void *item, Size size)
{
	if (PageGetFreeSpace(w->page) < MAXALIGN(size))
	{
		Buffer		next = ivf_new_buffer(w->index, w->fork);

		IvfPageGetOpaque(w->page)->nextblkno = BufferGetBlockNumber(next);
		writer_flush(w);
		w->buf = next;
		w->page = BufferGetPage(next);
		ivf_init_page(w->page, w->flags);
	}
	if (PageAddItem(w->page, (Item) item, size, InvalidOffsetNumber,
					false, false) == InvalidOffsetNumber)
		elog(ERROR, "failed to add item to ivfflat index \"%s\"",
			 RelationGetRelationName(w->index));
}

/*
 * Write the metapage and the directory (centres, with first/last blocks
 * unknown yet) as blocks 0 .. ndirpages.  Returns ndirpages.
 */
static int
write_meta_and_directory(Relation index, ForkNumber fork, IvfMetaPageData *meta,
						 const char *centres, Size elem_size)
{
	IvfWriter	w;
	Size		esize = IVF_LIST_ENTRY_SIZE(elem_size);
	IvfListEntry *entry = palloc0(esize);
	int			ndir = 1;

	writer_start(&w, index, fork, 0);
	Assert(BufferGetBlockNumber(w.buf) == IVF_METAPAGE_BLKNO);
	writer_flush(&w);			/* filled in by finish_meta_and_directory */

	writer_start(&w, index, fork, IVF_PAGE_DIRECTORY);
	entry->first_blkno = InvalidBlockNumber;
	entry->insert_blkno = InvalidBlockNumber;
	for (int i = 0; i < meta->nlists; i++)
	{
		BlockNumber before = BufferGetBlockNumber(w.buf);

		memcpy(entry->centre, centres + (size_t) i * elem_size, elem_size);
		writer_add(&w, entry, esize);
		if (BufferGetBlockNumber(w.buf) != before)
			ndir++;
	}
	writer_flush(&w);
	pfree(entry);
	return ndir;
}

/* Set every list's first/last block and write the final metapage. */
static void
finish_meta_and_directory(Relation index, ForkNumber fork, IvfMetaPageData *meta,
						  const BlockNumber *first, const BlockNumber *last)
{
	bool		logged = RelationNeedsWAL(index) || fork == INIT_FORKNUM;
	int			list = 0;
	Buffer		buf;
	Page		page;

	buf = ReadBufferExtended(index, fork, IVF_METAPAGE_BLKNO, RBM_NORMAL, NULL);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	PageInit(page, BLCKSZ, 0);
	{
		/* a 'none' index's metapage is that of version 1, byte for byte */
		Size		size = meta->version == IVF_VERSION_QUANT ?
			sizeof(IvfMetaPageData) : IVF_META_V1_SIZE;

		memcpy(IvfPageGetMeta(page), meta, size);
		((PageHeader) page)->pd_lower =
			((char *) IvfPageGetMeta(page) + size) - (char *) page;
	}
	START_CRIT_SECTION();
	MarkBufferDirty(buf);
	if (logged)
		log_newpage_buffer(buf, true);
	END_CRIT_SECTION();
	UnlockReleaseBuffer(buf);

	for (BlockNumber blk = IVF_FIRST_DIR_BLKNO; blk != InvalidBlockNumber;)
	{
		OffsetNumber maxoff;

		buf = ReadBufferExtended(index, fork, blk, RBM_NORMAL, NULL);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		page = BufferGetPage(buf);
		maxoff = PageGetMaxOffsetNumber(page);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++, list++)
		{
			IvfListEntry *e = (IvfListEntry *) PageGetItem(page, PageGetItemId(page, off));

			e->first_blkno = first[list];
			e->insert_blkno = last[list];
		}
		blk = IvfPageGetOpaque(page)->nextblkno;
		START_CRIT_SECTION();
		MarkBufferDirty(buf);
		if (logged)
			log_newpage_buffer(buf, true);
		END_CRIT_SECTION();
		UnlockReleaseBuffer(buf);
	}
	Assert(list == meta->nlists);
}

/*
 * Write the parameter blob of a quantized index after the directory, one
 * chunk of IVF_PARAM_CHUNK bytes per page, chained in block order, and
 * set the metapage's fields for it.
 */
static void
write_params(Relation index, ForkNumber fork, IvfMetaPageData *meta,
			 const void *params, Size size)
{
	IvfWriter	w;
	Size		done = 0;
	pg_crc32c	crc;

	meta->params_size = size;
	meta->nparampages = 0;
	writer_start(&w, index, fork, IVF_PAGE_PARAMS);
	while (done < size)
	{
		Size		chunk = Min((Size) IVF_PARAM_CHUNK, size - done);

		/* one chunk fills a page: writer_add chains the next page */
		writer_add(&w, (const char *) params + done, chunk);
		done += chunk;
		meta->nparampages++;
	}
	writer_flush(&w);
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, params, size);
	FIN_CRC32C(crc);
	meta->params_crc = crc;
}

/* ---- sampling -------------------------------------------------------- */

/* The stored form of a row's value, or NULL when the row is not indexed. */
static char *
build_elem(IvfBuildState *st, Datum value, bool isnull)
{
	char	   *x;
	int			dims;

	if (isnull)
		return NULL;
	x = vindex_elem_form(st->elem, value, &dims);
	if (dims != st->dims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", st->dims, dims)));
	if (!vindex_elem_indexable(st->elem, st->metric, x, dims))
		return NULL;
	return x;
}

/*
 * Make `centres` (nlists x dims floats, k-means' result) the build's
 * centres: each as the nearest stored element (elem->from_floats; for bit
 * the mean thresholded at 0.5), and that again as floats, so assignment,
 * inserts and scans all see the same centres.
 */
static void
set_centres(IvfBuildState *st, const float *centres)
{
	st->centres = palloc0(st->elem_size * st->nlists);
	st->fcentres = palloc(sizeof(float) * st->nlists * st->dims);
	for (int j = 0; j < st->nlists; j++)
	{
		char	   *c = st->centres + (size_t) j * st->elem_size;

		st->elem->from_floats(centres + (size_t) j * st->dims, st->dims, c);
		st->elem->to_floats(c, st->dims, st->fcentres + (size_t) j * st->dims);
	}
}

static void
sample_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
				bool alive, void *state)
{
	IvfBuildState *st = state;
	MemoryContext old = MemoryContextSwitchTo(st->tmpctx);
	char	   *v = alive ? build_elem(st, values[0], isnull[0]) : NULL;
	int			slot = -1;

	if (v != NULL)
	{
		if (st->nsample < st->sample_target)
			slot = st->nsample++;
		else
		{
			double		r = ivf_random(&st->rnd) * (st->sample_seen + 1);

			if (r < st->sample_target)
				slot = (int) r;
		}
		st->sample_seen++;
		if (slot >= 0)
			st->elem->to_floats(v, st->dims, st->sample + (size_t) slot * st->dims);
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(st->tmpctx);
}

/*
 * Decide the sample size: IVF_SAMPLE_ROWS_PER_LIST rows per list, fewer if
 * the sample and k-means' working memory would exceed maintenance_work_mem.
 */
static int
sample_size(int lists, int dims)
{
	double		budget = (double) maintenance_work_mem * 1024.0;
	/* centres, sums (double) and per-centre bounds */
	double		fixed = (double) lists * (dims * (sizeof(float) + sizeof(double)) + 16);
	double		per_row = dims * sizeof(float) + 3 * sizeof(float);
	double		want = (double) lists * IVF_SAMPLE_ROWS_PER_LIST;
	double		fits = (budget - fixed) / per_row;

	if (fits < lists)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("ivfflat build needs more memory than maintenance_work_mem allows"),
				 errdetail("k-means with %d lists of %d dimensions needs at least %.0f kB; maintenance_work_mem is %d kB.",
						   lists, dims, (fixed + per_row * lists) / 1024.0,
						   maintenance_work_mem),
				 errhint("Increase maintenance_work_mem or use fewer lists.")));
	if (fits < want)
	{
		ereport(NOTICE,
				(errmsg("ivfflat k-means sample limited to %.0f rows by maintenance_work_mem",
						fits),
				 errdetail("%d lists would sample %.0f rows.", lists, want),
				 errhint("Increase maintenance_work_mem for better centres.")));
		return (int) fits;
	}
	return (int) Min(want, (double) MaxAllocHugeSize / per_row);
}

/* Bytes of maintenance_work_mem left for k-means' bounds after the sample */
static Size
kmeans_bounds_budget(int nsample, int lists, int dims)
{
	double		left = (double) maintenance_work_mem * 1024.0 -
		(double) lists * (dims * (sizeof(float) + sizeof(double)) + 16) -
		(double) nsample * (dims * sizeof(float) + 3 * sizeof(float));

	return left > 0 ? (Size) Min(left, (double) MaxAllocHugeSize) : 0;
}

/* Sample the table and run k-means; sets st->nlists and st->centres. */
static void
compute_centres(IvfBuildState *st, IndexInfo *indexInfo, int lists)
{
	bool		spherical = st->metric == VECTOR_METRIC_COSINE;
	float	   *centres;

	st->sample_target = sample_size(lists, st->dims);
	st->sample = MemoryContextAllocHuge(CurrentMemoryContext,
										(Size) st->sample_target * st->dims * sizeof(float));
	st->rnd = UINT64CONST(0x1F5A3B7E);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, IVF_PHASE_SAMPLE);
	table_index_build_scan(st->heap, st->index, indexInfo, false, true,
						   sample_callback, st, NULL);

	st->nlists = Max(1, Min(lists, st->nsample));
	centres = palloc0(sizeof(float) * st->nlists * st->dims);
	if (st->nsample < lists)
		ereport(NOTICE,
				(errmsg("ivfflat index \"%s\" created with %d list%s instead of %d",
						RelationGetRelationName(st->index), st->nlists,
						st->nlists == 1 ? "" : "s", lists),
				 errdetail("The table has %d indexable rows; k-means needs at least one per list, so the centres are poor.",
						   st->nsample),
				 errhint("REINDEX the index once the table holds its data.")));

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, IVF_PHASE_KMEANS);
	/* sq8's ranges are those of the rows as stored, so before normalising */
	if (st->quant != IVF_QUANT_NONE)
	{
		st->params = ivf_quant_train(st->quant, st->sample, st->nsample, st->dims);
		if (st->nsample == 0 && st->quant == IVF_QUANT_SQ8)
			ereport(NOTICE,
					(errmsg("sq8 parameters of ivfflat index \"%s\" trained on no rows",
							RelationGetRelationName(st->index)),
					 errdetail("Every value then has the same code: scans re-rank candidates in no useful order and can miss near rows."),
					 errhint("REINDEX the index once the table holds its data.")));
	}
	if (st->nsample > 0)
	{
		int			iterations;

		if (spherical)
			for (int i = 0; i < st->nsample; i++)
			{
				float	   *p = st->sample + (size_t) i * st->dims;
				double		s = vector_kernels->inner_product(p, p, st->dims);

				if (s > 0)
					for (int d = 0; d < st->dims; d++)
						p[d] = (float) (p[d] / sqrt(s));
			}
		iterations = ivf_kmeans(st->sample, st->nsample, st->dims, st->nlists,
								spherical, IVF_KMEANS_MAX_ITERATIONS,
								kmeans_bounds_budget(st->nsample, st->nlists, st->dims),
								centres);
		elog(DEBUG1, "ivfflat k-means: %d rows, %d lists, %d iterations",
			 st->nsample, st->nlists, iterations);
	}
	pfree(st->sample);
	st->sample = NULL;
	set_centres(st, centres);
	pfree(centres);
}

/* ---- assignment -------------------------------------------------------- */

/*
 * Number of the list whose centre is nearest to x under ivf_list_metric().
 * In Euclidean terms (x normalised first for the cosine metric, whose
 * centres have unit norm, so the order is the same), a centre j is skipped
 * when d(best, j) >= 2 d(x, best): by the triangle inequality it cannot be
 * nearer (Elkan 2003, lemma 1).
 */
static int
nearest_centre(IvfBuildState *st, const char *v)
{
	const float *x = st->xf;
	int			dims = st->dims;
	int			best = 0;
	float		bestd;

	if (st->cc == NULL)
	{
		VectorMetric metric = ivf_list_metric(st->metric);
		double		bestm = st->elem->distance(metric, v, st->centres, dims);

		for (int j = 1; j < st->nlists; j++)
		{
			double		d = st->elem->distance(metric, v,
											   st->centres + (size_t) j * st->elem_size,
											   dims);

			if (d < bestm)
			{
				bestm = d;
				best = j;
			}
		}
		return best;
	}

	st->elem->to_floats(v, dims, st->xf);
	if (st->metric == VECTOR_METRIC_COSINE)
	{
		vector_l2_normalize_into(st->xf, dims, st->unit);
		x = st->unit;
	}
	bestd = sqrtf(vector_kernels->l2_squared(x, st->fcentres, dims));
	for (int j = 1; j < st->nlists; j++)
	{
		float		d;

		if (st->cc[(size_t) best * st->nlists + j] >= 2 * bestd)
			continue;
		d = sqrtf(vector_kernels->l2_squared(x, st->fcentres + (size_t) j * dims, dims));
		if (d < bestd)
		{
			bestd = d;
			best = j;
		}
	}
	return best;
}

static void
assign_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
				bool alive, void *state)
{
	IvfBuildState *st = state;
	MemoryContext old = MemoryContextSwitchTo(st->tmpctx);
	char	   *v = build_elem(st, values[0], isnull[0]);

	st->heap_tuples++;
	if (v != NULL)
	{
		TupleTableSlot *slot = st->slot;

		ExecClearTuple(slot);
		slot->tts_values[0] = Int32GetDatum(nearest_centre(st, v));
		slot->tts_values[1] = PointerGetDatum(tid);
		slot->tts_values[2] = PointerGetDatum(PG_DETOAST_DATUM(values[0]));
		memset(slot->tts_isnull, 0, sizeof(bool) * slot->tts_tupleDescriptor->natts);
		if (st->filters.nfilters > 0)
		{
			Size		fsize = vindex_filter_size(st->filters.nfilters);
			bytea	   *area = palloc0(VARHDRSZ + fsize);

			SET_VARSIZE(area, VARHDRSZ + fsize);
			vindex_filter_form(&st->filters, values + 1, isnull + 1, VARDATA(area));
			slot->tts_values[3] = PointerGetDatum(area);
		}
		ExecStoreVirtualTuple(slot);
		tuplesort_puttupleslot(st->sort, slot);
		st->index_tuples++;
		if (st->report_progress)
			pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE,
										 (int64) st->index_tuples);
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(st->tmpctx);
}

/*
 * Descriptor of the sorted stream: (list int4, tid, the column's value),
 * and with filter columns the row's filter area (bytea, index.h)
 */
static TupleDesc
sort_desc(Relation index)
{
	VindexFilterLayout filters;
	TupleDesc	desc;

	vindex_filter_layout(index, "ivfflat", false, &filters);
	desc = CreateTemplateTupleDesc(filters.nfilters > 0 ? 4 : 3);
	TupleDescInitEntry(desc, 1, "list", INT4OID, -1, 0);
	TupleDescInitEntry(desc, 2, "tid", TIDOID, -1, 0);
	TupleDescInitEntry(desc, 3, "value", TupleDescAttr(index->rd_att, 0)->atttypid, -1, 0);
	if (filters.nfilters > 0)
		TupleDescInitEntry(desc, 4, "filter", BYTEAOID, -1, 0);
	return desc;
}

/* A tuplesort ordered by list, then heap TID */
static Tuplesortstate *
sort_begin(TupleDesc desc, int workmem, SortCoordinate coordinate)
{
	AttrNumber	attnums[] = {1, 2};
	Oid			ops[] = {Int4LessOperator, TIDLessOperator};
	Oid			colls[] = {InvalidOid, InvalidOid};
	bool		nullsfirst[] = {false, false};

	return tuplesort_begin_heap(desc, 2, attnums, ops, colls, nullsfirst,
								workmem, coordinate, IVF_SORTOPT);
}

static void
assign_state_init(IvfBuildState *st, Relation heap, Relation index,
				  VectorMetric metric, int dims, int nlists, const float *centres)
{
	memset(st, 0, sizeof(IvfBuildState));
	st->heap = heap;
	st->index = index;
	st->metric = metric;
	st->dims = dims;
	st->elem = vindex_elem_type(index);
	st->elem_size = st->elem->stored_size(dims);
	st->quant = ivf_index_quantization(index);
	st->code_size = ivf_code_size(st->quant, st->elem, dims);
	vindex_filter_layout(index, "ivfflat", false, &st->filters);
	st->nlists = nlists;
	if (centres != NULL)
		set_centres(st, centres);
	st->xf = palloc(sizeof(float) * dims);
	st->unit = palloc(sizeof(float) * dims);
	st->tmpctx = AllocSetContextCreate(CurrentMemoryContext, "ivfflat build tuple",
									   ALLOCSET_DEFAULT_SIZES);
}

/* Centre-to-centre distances for nearest_centre's pruning */
static void
prepare_pruning(IvfBuildState *st)
{
	int			k = st->nlists;

	if (k < 2 || k > IVF_ASSIGN_MAX_PAIRWISE)
		return;
	st->cc = palloc(sizeof(float) * k * k);
	for (int a = 0; a < k; a++)
	{
		CHECK_FOR_INTERRUPTS();
		for (int b = a; b < k; b++)
			st->cc[(size_t) a * k + b] = st->cc[(size_t) b * k + a] =
				sqrtf(vector_kernels->l2_squared(st->fcentres + (size_t) a * st->dims,
												 st->fcentres + (size_t) b * st->dims,
												 st->dims));
	}
}

/* ---- parallel assignment --------------------------------------------- */

/* Bytes of IvfShared with its centres, where the Sharedsort starts. */
static Size
shared_centres_size(int nlists, int dims)
{
	return MAXALIGN(offsetof(IvfShared, centres) + sizeof(float) * nlists * dims);
}

static Sharedsort *
shared_sort(IvfShared *shared)
{
	return (Sharedsort *) ((char *) shared + shared->sort_off);
}

/*
 * VindexParallelSpec.init_shared: the centres, sort memory per participant
 * and a shared tuplesort for the leader and every worker asked for.
 */
static void
init_parallel_shared(void *sh, ParallelContext *pcxt, void *arg)
{
	IvfShared  *shared = sh;
	const IvfBuildState *st = arg;

	memset(shared, 0, offsetof(IvfShared, centres));
	shared->nlists = st->nlists;
	shared->dims = st->dims;
	shared->metric = st->metric;
	shared->sortmem = Max(64, maintenance_work_mem / (pcxt->nworkers + 1));
	shared->sort_off = shared_centres_size(st->nlists, st->dims);
	ConditionVariableInit(&shared->done_cv);
	SpinLockInit(&shared->mutex);
	memcpy(shared->centres, st->fcentres, sizeof(float) * st->nlists * st->dims);
	tuplesort_initialize_shared(shared_sort(shared), pcxt->nworkers + 1, pcxt->seg);
}

/*
 * One participant's share of the parallel scan: assign its rows into its
 * own worker tuplesort, sort them, and report to the leader.
 */
static void
parallel_scan_and_sort(const VindexParticipant *p)
{
	IvfShared  *shared = p->shared;
	IvfBuildState st;
	SortCoordinateData coordinate;
	TupleDesc	desc = sort_desc(p->index);

	assign_state_init(&st, p->heap, p->index, (VectorMetric) shared->metric,
					  shared->dims, shared->nlists, shared->centres);
	prepare_pruning(&st);
	coordinate.isWorker = true;
	coordinate.nParticipants = -1;
	coordinate.sharedsort = shared_sort(shared);
	st.sort = sort_begin(desc, shared->sortmem, &coordinate);
	st.slot = MakeSingleTupleTableSlot(desc, &TTSOpsVirtual);

	vindex_parallel_scan(p, assign_callback, &st);
	tuplesort_performsort(st.sort);

	SpinLockAcquire(&shared->mutex);
	shared->ndone++;
	shared->heap_tuples += st.heap_tuples;
	shared->index_tuples += st.index_tuples;
	SpinLockRelease(&shared->mutex);
	ConditionVariableSignal(&shared->done_cv);

	tuplesort_end(st.sort);
	ExecDropSingleTupleTableSlot(st.slot);
}

/* A worker's part: its tuplesort attaches to the shared one first. */
static void
worker_scan_and_sort(const VindexParticipant *p)
{
	tuplesort_attach_shared(shared_sort(p->shared), p->seg);
	parallel_scan_and_sort(p);
}

/* Entry point of a parallel build worker (named in VindexParallelSpec). */
void
ivf_parallel_build_main(dsm_segment *seg, shm_toc *toc)
{
	vindex_parallel_worker(seg, toc, worker_scan_and_sort);
}

/*
 * Workers for the assignment scan: PostgreSQL's estimate from the table
 * size, or, when that is zero only because the vectors live in the TOAST
 * table, the same log-3 rule applied to heap plus TOAST pages.
 */
static int
assign_workers(Relation heap, Relation index, IndexInfo *indexInfo)
{
	int			workers;
	BlockNumber pages;
	double		threshold;

	if (max_parallel_maintenance_workers == 0 || !IsNormalProcessingMode())
		return 0;
	workers = plan_create_index_workers(RelationGetRelid(heap), RelationGetRelid(index));
	if (workers > 0 || indexInfo->ii_Expressions != NIL ||
		indexInfo->ii_Predicate != NIL || !OidIsValid(heap->rd_rel->reltoastrelid) ||
		RelationGetParallelWorkers(heap, -1) != -1)
		return workers;

	pages = RelationGetNumberOfBlocks(heap);
	{
		Relation	toast = table_open(heap->rd_rel->reltoastrelid, AccessShareLock);

		pages += RelationGetNumberOfBlocks(toast);
		table_close(toast, AccessShareLock);
	}
	threshold = Max(min_parallel_table_scan_size, 1);
	while (pages >= threshold * 3 && workers < max_parallel_maintenance_workers)
	{
		workers++;
		threshold *= 3;
	}
	return workers;
}

/*
 * Run the assignment scan in parallel; returns the merged tuplesort, ready
 * to read, or NULL when no worker could be launched (the caller then runs
 * it serially).  *pb_out must be finished with vindex_parallel_end once
 * the sort is read.
 */
static Tuplesortstate *
parallel_assign(IvfBuildState *st, IndexInfo *indexInfo, int nworkers,
				TupleDesc desc, VindexParallelBuild **pb_out)
{
	VindexParallelSpec spec = {
		.amname = "ivfflat",
		.worker_main = "ivf_parallel_build_main",
		.shared_size = shared_centres_size(st->nlists, st->dims) +
		tuplesort_estimate_shared(nworkers + 1),
		.init_shared = init_parallel_shared,
		.arg = st,
	};
	VindexParallelBuild *pb = vindex_parallel_begin(st->heap, st->index, indexInfo,
													nworkers, &spec);
	IvfShared  *shared;
	SortCoordinateData coordinate;
	Tuplesortstate *merged;
	int			nparticipants;

	if (pb == NULL)
		return NULL;
	if (pb->nworkers_launched == 0)
	{
		vindex_parallel_end(pb);
		return NULL;
	}
	shared = pb->leader.shared;
	nparticipants = pb->nworkers_launched + 1;

	/* the leader takes part as one more worker */
	parallel_scan_and_sort(&pb->leader);

	for (;;)
	{
		bool		done;

		SpinLockAcquire(&shared->mutex);
		done = shared->ndone == nparticipants;
		SpinLockRelease(&shared->mutex);
		if (done)
			break;
		ConditionVariableSleep(&shared->done_cv, WAIT_EVENT_PARALLEL_CREATE_INDEX_SCAN);
	}
	ConditionVariableCancelSleep();
	st->heap_tuples = shared->heap_tuples;
	st->index_tuples = shared->index_tuples;

	coordinate.isWorker = false;
	coordinate.nParticipants = nparticipants;
	coordinate.sharedsort = shared_sort(shared);
	merged = sort_begin(desc, maintenance_work_mem, &coordinate);
	tuplesort_performsort(merged);
	*pb_out = pb;
	return merged;
}

/* ---- loading ----------------------------------------------------------- */

/*
 * Write the sorted stream as list chains; fills first[]/last[] per list
 * and returns the imbalance factor n * sum(c_i^2) / (sum c_i)^2 of the
 * list sizes (1 when perfectly balanced; Jegou et al. 2011).
 */
static double
load_lists(IvfBuildState *st, Tuplesortstate *sort, TupleDesc desc,
		   ForkNumber fork, BlockNumber *first, BlockNumber *last)
{
	TupleTableSlot *slot = sort ? MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple) : NULL;
	Size		tsize = IVF_ITEM_SIZE(st->code_size, st->filters.nfilters);
	IvfTuple   *item = palloc0(tsize);
	IvfCodec	codec;
	char	   *x = palloc(st->elem_size);
	int64	   *counts = palloc0(sizeof(int64) * st->nlists);
	IvfWriter	w;
	int			list = -1;
	int64		done = 0;
	double		sumsq = 0;

	if (st->quant != IVF_QUANT_NONE)
		ivf_codec_init(&codec, st->quant, st->metric, st->elem, st->dims, st->params);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, IVF_PHASE_LOAD);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, (int64) st->index_tuples);
	for (;;)
	{
		bool		more = sort && tuplesort_gettupleslot(sort, true, false, slot, NULL);
		bool		isnull;
		int			next = more ? DatumGetInt32(slot_getattr(slot, 1, &isnull)) : st->nlists;

		/* close the current list and open empty ones up to `next` */
		while (list < next)
		{
			if (list >= 0)
			{
				last[list] = BufferGetBlockNumber(w.buf);
				writer_flush(&w);
			}
			if (++list >= st->nlists)
				break;
			writer_start(&w, st->index, fork, IVF_PAGE_LIST);
			first[list] = BufferGetBlockNumber(w.buf);
		}
		if (!more)
			break;
		{
			MemoryContext old = MemoryContextSwitchTo(st->tmpctx);
			ItemPointer tid = (ItemPointer) DatumGetPointer(slot_getattr(slot, 2, &isnull));
			Datum		v = slot_getattr(slot, 3, &isnull);

			item->heap_tid = *tid;
			if (st->quant == IVF_QUANT_NONE)
				st->elem->store(PointerGetDatum(PG_DETOAST_DATUM(v)), st->dims, item->x);
			else
			{
				st->elem->store(PointerGetDatum(PG_DETOAST_DATUM(v)), st->dims, x);
				ivf_codec_encode(&codec, x, st->centres + (size_t) list * st->elem_size,
								 item->x);
			}
			if (st->filters.nfilters > 0)
			{
				bytea	   *area = DatumGetByteaPP(slot_getattr(slot, 4, &isnull));

				memcpy(item->x + IVF_FILTER_OFFSET(st->code_size), VARDATA_ANY(area),
					   vindex_filter_size(st->filters.nfilters));
			}
			writer_add(&w, item, tsize);
			MemoryContextSwitchTo(old);
			MemoryContextReset(st->tmpctx);
		}
		counts[list]++;
		if (++done % 1024 == 0)
		{
			pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, done);
			CHECK_FOR_INTERRUPTS();
		}
	}
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, done);
	if (slot)
		ExecDropSingleTupleTableSlot(slot);

	for (int i = 0; i < st->nlists; i++)
		sumsq += (double) counts[i] * counts[i];
	pfree(item);
	pfree(x);
	pfree(counts);
	return done > 0 ? st->nlists * sumsq / ((double) done * done) : 0;
}

/* ---- entry points ------------------------------------------------------ */

/* Metapage contents known before the lists are written */
static void
meta_init(IvfMetaPageData *meta, Relation index, VectorMetric metric, int dims,
		  int nlists, int requested, int ndirpages)
{
	IvfQuantization quant = ivf_index_quantization(index);

	memset(meta, 0, sizeof(IvfMetaPageData));
	meta->magic = IVF_MAGIC;
	meta->version = quant == IVF_QUANT_NONE ? IVF_VERSION : IVF_VERSION_QUANT;
	meta->quantization = quant;
	meta->code_size = quant == IVF_QUANT_NONE ? 0 :
		(int32) ivf_code_size(quant, vindex_elem_type(index), dims);
	meta->dims = dims;
	meta->nlists = nlists;
	meta->requested_lists = requested;
	meta->ndirpages = ndirpages;
	meta->metric = metric;
}

/*
 * Dimensions from the column's type modifier; every ivfflat column needs
 * one.  Also checks the element type and metric (vindex_elem_check).
 */
static int
index_dims(Relation index)
{
	const VindexElemType *elem;
	int			dims = TupleDescAttr(index->rd_att, 0)->atttypmod;
	int			max_dims;
	VindexFilterLayout filters;

	/* the columns' kinds first: an index naming a filter column first */
	vindex_filter_layout(index, "ivfflat", true, &filters);
	elem = vindex_elem_type(index);
	max_dims = ivf_max_dims(elem);
	if (dims < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("column does not have dimensions"),
				 errhint("Declare the column as vector(n), or index an expression such as (v::vector(n)).")));
	vindex_elem_check(index, elem, vector_index_metric(index, 1), dims);
	/* k-means needs the elements as floats: not sparsevec (index.h) */
	if (elem->to_floats == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ivfflat index \"%s\" cannot index type %s",
						RelationGetRelationName(index), elem->name),
				 errhint("Use an hnsw index for %s.", elem->name)));
	ivf_quant_check(ivf_index_quantization(index), elem, vector_index_metric(index, 1));
	if (dims > max_dims)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("column cannot have more than %d dimensions for ivfflat index",
						max_dims)));
	if (filters.nfilters > 0 &&
		IVF_ITEM_SIZE(ivf_code_size(ivf_index_quantization(index), elem, dims),
					  filters.nfilters) + sizeof(ItemIdData) > IVF_PAGE_FREE_SPACE)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a row of %d dimensions and %d filter columns does not fit in an ivfflat index page",
						dims, filters.nfilters),
				 errhint("Use fewer dimensions or filter columns, or quantization.")));
	return dims;
}

IndexBuildResult *
ivf_build(Relation heap, Relation index, IndexInfo *indexInfo)
{
	IndexBuildResult *result = palloc0(sizeof(IndexBuildResult));
	int			dims = index_dims(index);	/* first: it checks the columns */
	VectorMetric metric = vector_index_metric(index, 1);
	int			lists = ivf_index_lists(index);
	IvfBuildState st;
	IvfMetaPageData meta;
	TupleDesc	desc = sort_desc(index);
	Tuplesortstate *sort = NULL;
	VindexParallelBuild *pb = NULL;
	BlockNumber *first;
	BlockNumber *last;
	int			nworkers;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));

	assign_state_init(&st, heap, index, metric, dims, 0, NULL);
	compute_centres(&st, indexInfo, lists);
	meta_init(&meta, index, metric, dims, st.nlists, lists, 0);
	meta.sample_rows = st.nsample;
	meta.ndirpages = write_meta_and_directory(index, MAIN_FORKNUM, &meta, st.centres,
											  st.elem_size);
	if (st.quant != IVF_QUANT_NONE)
		write_params(index, MAIN_FORKNUM, &meta, st.params,
					 ivf_params_size(st.quant, dims));

	/* the rows to assign: those the sampling scan saw */
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, IVF_PHASE_ASSIGN);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, (int64) st.sample_seen);
	prepare_pruning(&st);
	nworkers = assign_workers(heap, index, indexInfo);
	if (nworkers > 0)
		sort = parallel_assign(&st, indexInfo, nworkers, desc, &pb);
	if (sort == NULL)
	{
		st.sort = sort_begin(desc, maintenance_work_mem, NULL);
		st.slot = MakeSingleTupleTableSlot(desc, &TTSOpsVirtual);
		st.report_progress = true;
		table_index_build_scan(heap, index, indexInfo, true, true,
							   assign_callback, &st, NULL);
		tuplesort_performsort(st.sort);
		sort = st.sort;
	}

	first = palloc(sizeof(BlockNumber) * st.nlists);
	last = palloc(sizeof(BlockNumber) * st.nlists);
	meta.build_imbalance = load_lists(&st, sort, desc, MAIN_FORKNUM, first, last);
	meta.build_rows = (int64) st.index_tuples;
	tuplesort_end(sort);
	if (pb)
		vindex_parallel_end(pb);
	finish_meta_and_directory(index, MAIN_FORKNUM, &meta, first, last);

	result->heap_tuples = st.heap_tuples;
	result->index_tuples = st.index_tuples;
	return result;
}

void
ivf_buildempty(Relation index)
{
	int			dims = index_dims(index);
	float	   *centre = palloc0(sizeof(float) * dims);
	IvfBuildState st;
	IvfMetaPageData meta;
	BlockNumber first,
				last;

	assign_state_init(&st, NULL, index, vector_index_metric(index, 1), dims, 1, centre);
	meta_init(&meta, index, st.metric, dims, 1, ivf_index_lists(index), 0);
	meta.ndirpages = write_meta_and_directory(index, INIT_FORKNUM, &meta, st.centres,
											  st.elem_size);
	if (st.quant != IVF_QUANT_NONE)
	{
		st.params = ivf_quant_train(st.quant, NULL, 0, dims);
		write_params(index, INIT_FORKNUM, &meta, st.params,
					 ivf_params_size(st.quant, dims));
	}
	meta.build_imbalance = load_lists(&st, NULL, NULL, INIT_FORKNUM, &first, &last);
	finish_meta_and_directory(index, INIT_FORKNUM, &meta, &first, &last);
}
