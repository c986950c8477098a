/*-------------------------------------------------------------------------
 *
 * hnsw_build.c
 *	  Building an HNSW index (ambuild, ambuildempty).
 *
 * The graph is built in memory (Algorithm 1 of Malkov & Yashunin over
 * plain arrays, with the SIMD kernels called directly) while the table is
 * scanned, then written to the element stream in one sequential pass and
 * WAL-logged as whole pages.  When the graph would outgrow
 * maintenance_work_mem, what was built so far is written out and the
 * remaining rows go through the ordinary concurrent insert path on disk.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tableam.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "hnsw/hnsw.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* An element of the in-memory graph. */
typedef struct MemElement
{
	float	   *vec;			/* dims floats, then the neighbour lists */
	uint32	   *lists;			/* per level: count, then cap ids */
	ItemPointerData tids[HNSW_HEAPTIDS];
	uint8		ntids;
	uint8		level;
} MemElement;

typedef struct HnswBuildState
{
	Relation	heap;
	Relation	index;
	HnswShape	shape;
	HnswGraph	g;				/* first member use: callbacks find the state */
	MemElement *elems;
	uint32		n;
	uint32		cap;
	int64		entry;			/* -1 when empty */
	int			entry_level;
	Size		mem_used;
	Size		mem_limit;
	bool		on_disk;		/* flushed: remaining rows are inserted on disk */
	double		indtuples;
	HnswSearch	search;
	MemoryContext graph_ctx;
	MemoryContext row_ctx;
} HnswBuildState;

#define BUILD_STATE(g) ((HnswBuildState *) ((char *) (g) - offsetof(HnswBuildState, g)))

/* Offset of level `level`'s list in an element's `lists`. */
static inline Size
mem_list_offset(int m, int level)
{
	return level == 0 ? 0 : (1 + 2 * m) + (level - 1) * (1 + m);
}

/* ---------------------------------------------------------------------
 * The in-memory graph as an HnswGraph
 * ---------------------------------------------------------------------
 */
static int
mem_neighbours(HnswGraph *g, uint64 id, int level, uint64 *out)
{
	MemElement *e = &BUILD_STATE(g)->elems[id];
	uint32	   *list;

	if (e->level < level)
		return 0;
	list = e->lists + mem_list_offset(g->shape.m, level);
	for (uint32 i = 0; i < list[0]; i++)
		out[i] = list[1 + i];
	return list[0];
}

static double
mem_distance(HnswGraph *g, uint64 id, const float *q, bool *live)
{
	*live = true;
	return vector_metric_distance(g->shape.metric, q, BUILD_STATE(g)->elems[id].vec,
								  g->shape.dims);
}

/*
 * Building is bound by memory latency: each distance reads a vector from a
 * random place.  Touching the first cache lines early lets the hardware
 * prefetcher stream the rest while other distances are computed.
 */
static void
mem_prefetch(HnswGraph *g, uint64 id)
{
	const char *v = (const char *) BUILD_STATE(g)->elems[id].vec;

	for (int i = 0; i < 4; i++)
		__builtin_prefetch(v + 64 * i);
}

static const float *
mem_vector(HnswGraph *g, uint64 id, float *scratch)
{
	return BUILD_STATE(g)->elems[id].vec;
}

static int
cand_cmp(const void *a, const void *b)
{
	const HnswCand *x = a,
			   *y = b;

	if (x->dist != y->dist)
		return x->dist < y->dist ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * Add `id` (at distance `d`) to the list of `nb` at `level`; a full list is
 * pruned with the heuristic over its members and the newcomer.
 */
static void
mem_add_link(HnswBuildState *bs, uint32 nb, uint32 id, int level, double d)
{
	MemElement *e = &bs->elems[nb];
	uint32	   *list = e->lists + mem_list_offset(bs->shape.m, level);
	int			cap = HNSW_CAP(bs->shape.m, level);
	HnswCand   *cands,
			   *kept;
	int			n;

	if ((int) list[0] < cap)
	{
		list[1 + list[0]++] = id;
		return;
	}
	cands = palloc(sizeof(HnswCand) * (cap + 1));
	kept = palloc(sizeof(HnswCand) * cap);
	for (int i = 0; i < cap; i++)
	{
		cands[i].id = list[1 + i];
		cands[i].dist = vector_metric_distance(bs->shape.metric, e->vec,
											   bs->elems[list[1 + i]].vec, bs->shape.dims);
	}
	cands[cap].id = id;
	cands[cap].dist = d;
	qsort(cands, cap + 1, sizeof(HnswCand), cand_cmp);
	n = hnsw_select_neighbours(&bs->g, e->vec, cands, cap + 1, cap, 0, kept);
	list[0] = n;
	for (int i = 0; i < n; i++)
		list[1 + i] = kept[i].id;
}

/* Bytes an element of `level` takes in memory. */
static Size
mem_element_bytes(const HnswShape *shape, int level)
{
	return sizeof(float) * shape->dims +
		sizeof(uint32) * mem_list_offset(shape->m, level + 1) +
		sizeof(MemElement) + sizeof(uint32);	/* + visited stamp */
}

/* Add a row to the in-memory graph (Algorithm 1). */
static void
mem_insert(HnswBuildState *bs, const Vector *v, ItemPointer tid, int level)
{
	HnswShape  *shape = &bs->shape;
	uint32		id = bs->n;
	MemElement *e;
	HnswCand   *chosen[HNSW_MAX_LEVEL + 1];
	int			counts[HNSW_MAX_LEVEL + 1];
	int			top = bs->entry < 0 ? -1 : Min(level, bs->entry_level);

	if (bs->n == bs->cap)
	{
		MemoryContext old = MemoryContextSwitchTo(bs->graph_ctx);

		bs->cap *= 2;
		bs->elems = repalloc_huge(bs->elems, sizeof(MemElement) * bs->cap);
		MemoryContextSwitchTo(old);
	}
	e = &bs->elems[id];
	e->vec = MemoryContextAllocHuge(bs->graph_ctx,
									sizeof(float) * shape->dims +
									sizeof(uint32) * mem_list_offset(shape->m, level + 1));
	e->lists = (uint32 *) (e->vec + shape->dims);
	memcpy(e->vec, v->x, sizeof(float) * shape->dims);
	for (int l = 0; l <= level; l++)
		e->lists[mem_list_offset(shape->m, l)] = 0;
	e->tids[0] = *tid;
	e->ntids = 1;
	e->level = level;
	bs->n++;
	bs->g.nelements = bs->n;

	if (top >= 0)
	{
		HnswCand	ep = hnsw_greedy_descend(&bs->g, e->vec, bs->entry, bs->entry_level, level);
		HnswCand   *entries = &ep;
		int			nentries = 1;

		bs->search.q = e->vec;
		for (int l = top; l >= 0; l--)
		{
			int			nw;
			HnswCand   *w;
			uint32	   *list = e->lists + mem_list_offset(shape->m, l);

			hnsw_search_seed(&bs->search, entries, nentries);
			hnsw_search_layer(&bs->search, l, shape->ef_construction);
			w = hnsw_search_take(&bs->search, &nw);

			/* identical vectors share an element (w[0] is never e itself) */
			for (int i = 0; l == 0 && i < Min(nw, 3); i++)
			{
				MemElement *dup = &bs->elems[w[i].id];

				if (dup->ntids < HNSW_HEAPTIDS &&
					memcmp(dup->vec, e->vec, sizeof(float) * shape->dims) == 0)
				{
					dup->tids[dup->ntids++] = *tid;
					bs->n--;
					bs->g.nelements = bs->n;
					pfree(e->vec);
					return;
				}
			}
			chosen[l] = palloc(sizeof(HnswCand) * HNSW_CAP(shape->m, l));
			counts[l] = hnsw_select_neighbours(&bs->g, e->vec, w, nw, HNSW_CAP(shape->m, l), 0,
												 chosen[l]);
			list[0] = counts[l];
			for (int i = 0; i < counts[l]; i++)
				list[1 + i] = chosen[l][i].id;
			entries = w;
			nentries = nw;
		}
		for (int l = top; l >= 0; l--)
			for (int i = 0; i < counts[l]; i++)
				mem_add_link(bs, chosen[l][i].id, id, l, chosen[l][i].dist);
	}
	if (level > bs->entry_level)
	{
		bs->entry = id;
		bs->entry_level = level;
	}
	bs->mem_used += mem_element_bytes(shape, level);
}

/* ---------------------------------------------------------------------
 * Writing the in-memory graph to disk
 * ---------------------------------------------------------------------
 */

/* Write page image `page` as block `blkno`, which must be the next new one. */
static void
write_new_page(Relation index, Page page, BlockNumber blkno)
{
	Buffer		buf;

	LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, NULL);
	UnlockRelationForExtension(index, ExclusiveLock);
	if (BufferGetBlockNumber(buf) != blkno)
		elog(ERROR, "index \"%s\" extended to block %u, expected %u",
			 RelationGetRelationName(index), BufferGetBlockNumber(buf), blkno);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	memcpy(BufferGetPage(buf), page, BLCKSZ);
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);
}

/*
 * Write the whole in-memory graph as the element stream (blocks 1..),
 * set the metapage, and WAL-log every page.
 */
static void
flush_graph(HnswBuildState *bs)
{
	HnswShape  *shape = &bs->shape;
	uint64	   *pos = palloc_extended(sizeof(uint64) * Max(bs->n, 1), MCXT_ALLOC_HUGE);
	uint64		tail = 0;
	char	   *elem = palloc(hnsw_element_size(shape, shape->max_level));
	PGAlignedBlock page;
	BlockNumber blkno = 1;
	uint64	   *nbrs[HNSW_MAX_LEVEL + 1];
	int			counts[HNSW_MAX_LEVEL + 1];
	Buffer		metabuf;
	HnswMetaPageData *meta;

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, HNSW_PHASE_WRITE);
	for (uint32 i = 0; i < bs->n; i++)
	{
		pos[i] = hnsw_place(shape, tail, bs->elems[i].level);
		tail = pos[i] + hnsw_element_size(shape, bs->elems[i].level);
	}
	for (int l = 0; l <= shape->max_level; l++)
		nbrs[l] = palloc(sizeof(uint64) * HNSW_CAP(shape->m, l));

	hnsw_init_data_page(page.data);
	for (uint32 i = 0; i < bs->n; i++)
	{
		MemElement *e = &bs->elems[i];
		Size		size = hnsw_element_size(shape, e->level);
		uint64		p = pos[i];
		Size		done = 0;

		CHECK_FOR_INTERRUPTS();
		for (int l = 0; l <= e->level; l++)
		{
			uint32	   *list = e->lists + mem_list_offset(shape->m, l);

			counts[l] = list[0];
			for (uint32 j = 0; j < list[0]; j++)
				nbrs[l][j] = pos[list[1 + j]];
		}
		hnsw_form_element(shape, elem, e->level, e->tids, e->ntids, nbrs, counts, e->vec);
		while (done < size)
		{
			uint32		off = HNSW_POS_OFFSET(p + done);
			Size		n = Min(size - done, HNSW_PAGE_DATA - off);

			if (HNSW_POS_BLOCK(p + done) != blkno)
			{
				write_new_page(bs->index, page.data, blkno++);
				hnsw_init_data_page(page.data);
			}
			memcpy(HNSW_PAGE_BYTES(page.data) + off, elem + done, n);
			((PageHeader) page.data)->pd_lower = SizeOfPageHeaderData + off + n;
			done += n;
		}
	}
	if (bs->n > 0)
		write_new_page(bs->index, page.data, blkno++);

	metabuf = ReadBuffer(bs->index, HNSW_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	meta = hnsw_meta(BufferGetPage(metabuf));
	meta->entry = bs->entry < 0 ? HNSW_INVALID_POS : pos[bs->entry];
	meta->entry_level = bs->entry < 0 ? -1 : bs->entry_level;
	meta->tail = tail;
	MarkBufferDirty(metabuf);
	UnlockReleaseBuffer(metabuf);

	if (RelationNeedsWAL(bs->index))
		log_newpage_range(bs->index, MAIN_FORKNUM, 0, blkno, true);
}

/* ---------------------------------------------------------------------
 * Build
 * ---------------------------------------------------------------------
 */

/* The index's shape from its definition; raises the build's user errors. */
static void
build_shape(Relation index, HnswShape *shape)
{
	int			typmod = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;

	if (typmod <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column does not have dimensions"),
				 errhint("Index a column of type vector(n), e.g. ALTER TABLE ... ALTER ... TYPE vector(3).")));
	shape->dims = typmod;
	shape->m = hnsw_index_m(index);
	shape->ef_construction = hnsw_index_ef_construction(index);
	if (shape->ef_construction < 2 * shape->m)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ef_construction must be greater than or equal to 2 * m"),
				 errdetail("ef_construction is %d and m is %d.",
						   shape->ef_construction, shape->m)));
	shape->metric = vector_index_metric(index, 1);
	shape->max_level = hnsw_max_level(shape->m);
}

static void
build_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			   bool tupleIsAlive, void *state)
{
	HnswBuildState *bs = state;
	MemoryContext old;
	Vector	   *v;
	int			level;

	if (isnull[0])
		return;
	old = MemoryContextSwitchTo(bs->row_ctx);
	v = DatumGetVector(values[0]);
	if (v->dim != bs->shape.dims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", bs->shape.dims, v->dim)));
	if (hnsw_indexable(bs->shape.metric, v))
	{
		level = hnsw_random_level(bs->shape.m, bs->shape.max_level);
		if (!bs->on_disk && bs->mem_used + mem_element_bytes(&bs->shape, level) > bs->mem_limit)
		{
			ereport(NOTICE,
					(errmsg("hnsw graph no longer fits into maintenance_work_mem"),
					 errdetail("The graph of the first %.0f tuples is written to disk, and the remaining tuples are inserted there, which is slower.",
							   bs->indtuples),
					 errhint("Increase maintenance_work_mem to build the whole graph in memory.")));
			flush_graph(bs);
			bs->on_disk = true;
			MemoryContextReset(bs->graph_ctx);
			pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, HNSW_PHASE_LOAD);
		}
		if (bs->on_disk)
			hnsw_disk_insert(index, v, tid);
		else
			mem_insert(bs, v, tid, level);
		bs->indtuples++;
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) bs->indtuples);
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->row_ctx);
}

/* Create the metapage as block 0 of `fork`. */
static void
create_metapage(Relation index, const HnswShape *shape, ForkNumber fork)
{
	Buffer		buf = ReadBufferExtended(index, fork, P_NEW, RBM_NORMAL, NULL);

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	START_CRIT_SECTION();
	hnsw_init_meta_page(BufferGetPage(buf), shape);
	MarkBufferDirty(buf);
	if (fork == INIT_FORKNUM)
		log_newpage_buffer(buf, true);
	END_CRIT_SECTION();
	UnlockReleaseBuffer(buf);
}

IndexBuildResult *
hnsw_build(Relation heap, Relation index, IndexInfo *info)
{
	IndexBuildResult *result;
	HnswBuildState bs;
	double		reltuples;
	MemoryContext old;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));
	memset(&bs, 0, sizeof(bs));
	bs.heap = heap;
	bs.index = index;
	build_shape(index, &bs.shape);
	create_metapage(index, &bs.shape, MAIN_FORKNUM);

	bs.graph_ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw build graph",
										 ALLOCSET_DEFAULT_SIZES);
	bs.row_ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw build row",
									   ALLOCSET_DEFAULT_SIZES);
	bs.mem_limit = (Size) maintenance_work_mem * 1024;
	bs.entry = -1;
	bs.entry_level = -1;
	bs.g.neighbours = mem_neighbours;
	bs.g.distance = mem_distance;
	bs.g.vector = mem_vector;
	bs.g.prefetch = mem_prefetch;
	bs.g.shape = bs.shape;
	bs.g.nelements = 1;
	old = MemoryContextSwitchTo(bs.graph_ctx);
	bs.cap = 1024;
	bs.elems = palloc(sizeof(MemElement) * bs.cap);
	hnsw_search_init(&bs.search, &bs.g, NULL, false, false);
	MemoryContextSwitchTo(old);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, HNSW_PHASE_LOAD);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL,
								 (int64) Max(heap->rd_rel->reltuples, 0));
	reltuples = table_index_build_scan(heap, index, info, true, true,
									   build_callback, &bs, NULL);
	if (!bs.on_disk)
		flush_graph(&bs);
	MemoryContextDelete(bs.graph_ctx);
	MemoryContextDelete(bs.row_ctx);

	result = palloc(sizeof(IndexBuildResult));
	result->heap_tuples = reltuples;
	result->index_tuples = bs.indtuples;
	return result;
}

void
hnsw_buildempty(Relation index)
{
	HnswShape	shape;

	build_shape(index, &shape);
	create_metapage(index, &shape, INIT_FORKNUM);
}
