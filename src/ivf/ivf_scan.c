/*-------------------------------------------------------------------------
 *
 * ivf_scan.c
 *	  Index scans of ivfflat: ORDER BY column <op> query [LIMIT k].
 *
 * A scan ranks the lists by the distance from the query to their centres,
 * reads every row of the `ivfflat.probes` nearest lists, computing exact
 * distances with the SIMD kernels straight on the page (no detoasting, no
 * per-row allocation), and returns the candidates nearest first from a
 * binary min-heap: building it is linear, and a LIMIT k query pays only
 * k log n for the pops instead of a full sort.  Within a list the pages are
 * contiguous on disk (the kernel's readahead covers them); the first page
 * of the next list is prefetched from disk while the current one is read.
 * The scan is bound by memory bandwidth, so each page's successor, in the
 * list or the next list, is pinned and pulled into the CPU caches while the
 * page's own distances are computed.
 *
 * With ivfflat.iterative_scan = relaxed_order, when the candidates run out
 * (a WHERE clause rejected them) the scan reads the next lists, `probes` at
 * a time, until ivfflat.max_probes lists have been read; rows of later
 * lists may then come out of order with earlier ones.
 *
 * A scan without ORDER BY (the planner never chooses one, see ivf_cost.c)
 * would return every row, unordered.
 *
 * Quantized indexes (sq8, rabitq): the candidates' distances are the
 * codes' approximate ones (the query prepared once per scan for sq8, once
 * per probed list for RaBitQ, whose codes are relative to their list's
 * centre: the query is rotated once, each list's centre once per scan
 * across its rescans, ivf_codec_prepare_list).  The scan then takes the
 * ivfflat.rerank_candidates best by approximate distance, computes their
 * exact distances from their table
 * rows (vindex_rerank_distance, index.h: the distance the unquantized
 * index computes), skips rows the scan's snapshot does not see, and
 * returns the batch in exact order with the exact operator value; when it
 * is used up, the next as many, and so on.  So that the rows come out in
 * exact distance order, a row of a later batch nearer than the last row
 * returned is skipped (with ivfflat.iterative_scan = relaxed_order, whose
 * rows may come out of order anyway, it is returned).  xs_recheckorderby
 * stays false: the executor's reorder queue would need lower bounds on the
 * distances of rows not yet returned, which the codes' estimates (RaBitQ's
 * bound holds only with high probability) cannot promise.
 *
 * The centres and the lists' first blocks never change after the build, so
 * they are read once per scan and reused across rescans (the inner side of
 * a LATERAL join rescans once per outer row).  Every (re)scan counts once
 * in pg_stat_user_indexes.idx_scan, as a btree scan does.
 *
 * Filter columns (WHERE conditions on the key columns after the vector,
 * compiled once per rescan into a VindexFilter, index.h): each list item's
 * filter area is tested before its distance is computed, and items that
 * fail are not candidates, so a quantized scan's re-rank batches hold only
 * matching rows.  A filter of selectivity s leaves about s of the rows of
 * the probed lists: the scan reads ivfflat.probes lists and then further
 * lists, one at a time in centre order, until its candidates hold
 * ivfflat.filter_candidates rows and the lists read weigh `probes` (a list
 * weighs 1 when its share of matching rows is at least half the largest
 * share seen, less in proportion below: a correlated filter, whose rows
 * lie in lists other than the query's nearest, reads on to the `probes`
 * nearest lists that hold them), or ivfflat.max_probes lists (whether or
 * not ivfflat.iterative_scan is on) have been read; when the candidates run
 * out, it reads on the same way.  Rows of those later lists that are
 * nearer than a row already returned are skipped with iterative_scan off
 * (as quantized batches are; an unquantized scan drops them as it reads
 * them, so that they do not count towards filter_candidates), so the rows
 * come out in exact distance order.  A filter no row can pass (col =
 * NULL) returns nothing at once.  Text keys compare hashes: their rows are
 * rechecked (xs_recheck).
 *
 * Damage: the directory is read through ivf_read_directory, each list page
 * is checked (ivf_verify_page, one pass over its line pointers) before its
 * items are read, each next block before it is pinned, and a chain longer
 * than the relation is a cycle: XX002, never a read outside a page.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relscan.h"
#include "ivf/ivf.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* a row and its index-order distance (approximate, then exact once re-ranked) */
typedef VindexScored IvfCandidate;

typedef struct IvfScanOpaqueData
{
	IvfMetaPageData meta;
	IvfReader	reader;			/* of the index, with `meta` */
	VectorMetric metric;
	char	   *centres;		/* nlists stored elements, loaded at the first rescan */
	BlockNumber *first;			/* first page of each list */

	MemoryContext scanctx;		/* lives as long as the scan */
	MemoryContext queryctx;		/* reset at every rescan */
	char	   *query;			/* stored form; NULL when the ORDER BY argument is NULL */
	bool		started;
	int		   *order;			/* lists, nearest centre first */
	int			probed;			/* lists of `order` read so far */
	int			limit_probes;	/* lists the scan may read in all */
	int			batch;			/* lists read at a time */

	VindexFilter *filter;		/* the scan keys, NULL without any */
	int			want;			/* matching candidates a probe gathers (0: none) */
	double		returned_dist;	/* distance of the last row returned (filtered) */
	bool		skip_nearer;	/* drop candidates nearer than returned_dist */
	/* a filtered scan's lists read, weighed by their share of matches */
	double	   *shares;			/* matching share of each list read (probed) */
	double		max_share;		/* the largest of them */
	double		weight;			/* sum of min(1, 2 share / max_share) */
	double		weight_target;	/* read on while weight is below */
	int64		list_items;		/* items of the list being read */
	int64		list_matches;	/* of which passed the filter */

	IvfCandidate *heap;			/* min-heap on dist */
	int			nheap;
	int			capacity;

	/* quantized indexes only */
	IvfQuantization quant;
	IvfCodec	codec;			/* with a copy of the parameters */
	void	   *prepared;		/* the query prepared for the list read */
	bool		rerank_ready;	/* rerank set up (at the first batch) */
	VindexRerank rerank;
	IvfCandidate *batch_rows;	/* a re-ranked batch, exact distances */
	int			nbatch;
	int			batch_pos;		/* next row of batch_rows to return */
	int			batch_size;		/* ivfflat.rerank_candidates at the rescan */
	double		last_dist;		/* exact distance of the last row returned */
} IvfScanOpaqueData;

typedef IvfScanOpaqueData *IvfScanOpaque;

static void
copy_centre(const IvfListRef *ref, const char *centre, void *arg)
{
	IvfScanOpaque so = arg;

	memcpy(so->centres + (size_t) ref->list * so->reader.elem_size, centre,
		   so->reader.elem_size);
	so->first[ref->list] = ref->first_blkno;
}

/* Read the centres and first blocks from the directory, once per scan. */
static void
load_directory(IvfScanOpaque so)
{
	so->centres = MemoryContextAllocHuge(so->scanctx,
										 so->reader.elem_size * so->meta.nlists);
	so->first = MemoryContextAlloc(so->scanctx, sizeof(BlockNumber) * so->meta.nlists);
	ivf_read_directory(&so->reader, copy_centre, so);
}

IndexScanDesc
ivf_beginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	IvfScanOpaque so = palloc0(sizeof(IvfScanOpaqueData));

	so->meta = *ivf_get_meta(index);
	ivf_reader_init(&so->reader, index, &so->meta, NULL);
	so->metric = (VectorMetric) so->meta.metric;
	so->scanctx = CurrentMemoryContext;
	so->queryctx = AllocSetContextCreate(CurrentMemoryContext, "ivfflat scan",
										 ALLOCSET_DEFAULT_SIZES);
	so->quant = (IvfQuantization) so->meta.quantization;
	if (so->quant != IVF_QUANT_NONE)
	{
		/* a copy: the relcache's may go with an invalidation */
		void	   *params = palloc(so->meta.params_size);

		memcpy(params, ivf_get_params(index), so->meta.params_size);
		ivf_codec_init(&so->codec, so->quant, so->metric, so->reader.elem,
					   so->meta.dims, params);
	}
	scan->opaque = so;
	scan->xs_orderbyvals = palloc0(sizeof(Datum) * Max(norderbys, 1));
	scan->xs_orderbynulls = palloc0(sizeof(bool) * Max(norderbys, 1));
	return scan;
}

void
ivf_rescan(IndexScanDesc scan, ScanKey keys, int nkeys,
		   ScanKey orderbys, int norderbys)
{
	IvfScanOpaque so = (IvfScanOpaque) scan->opaque;
	MemoryContext old;

	if (so->centres == NULL)
		load_directory(so);
	MemoryContextReset(so->queryctx);
	so->query = NULL;
	so->started = false;
	so->heap = NULL;
	so->nheap = 0;
	so->capacity = 0;
	so->probed = 0;
	so->prepared = NULL;
	so->batch_rows = NULL;
	so->nbatch = 0;
	so->batch_pos = 0;
	so->batch_size = ivf_rerank_candidates;
	so->last_dist = -get_float8_infinity();

	so->returned_dist = -get_float8_infinity();
	if (keys && scan->numberOfKeys > 0)
		memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
	if (orderbys && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));

	old = MemoryContextSwitchTo(so->queryctx);
	so->filter = vindex_filter_compile(&so->reader.filters, scan->keyData,
									   scan->numberOfKeys);
	if (scan->numberOfOrderBys == 0)
	{
		MemoryContextSwitchTo(old);
		return;
	}
	if (!(scan->orderByData[0].sk_flags & SK_ISNULL))
	{
		int			dims;

		so->query = vindex_elem_form(so->reader.elem, scan->orderByData[0].sk_argument,
									 &dims);
		if (dims != so->meta.dims)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg(so->reader.elem->dims_error, so->meta.dims, dims)));
	}
	MemoryContextSwitchTo(old);
}

typedef struct IvfRankedList
{
	double		dist;
	int			list;
} IvfRankedList;

static int
cmp_ranked_list(const void *a, const void *b)
{
	const IvfRankedList *x = a;
	const IvfRankedList *y = b;

	/* a total order even with NaN (a damaged centre): NaN sorts last */
	if (x->dist < y->dist || (!isnan(x->dist) && isnan(y->dist)))
		return -1;
	if (x->dist > y->dist || (isnan(x->dist) && !isnan(y->dist)))
		return 1;
	return x->list - y->list;
}

/* Rank the lists by centre distance (directory order for a NULL query). */
static void
rank_lists(IvfScanOpaque so)
{
	int			nlists = so->meta.nlists;
	IvfRankedList *tmp = palloc(sizeof(IvfRankedList) * nlists);

	so->order = palloc(sizeof(int) * nlists);
	for (int i = 0; i < nlists; i++)
	{
		tmp[i].dist = so->query == NULL ? 0 :
			so->reader.elem->distance(so->metric, so->query,
									  so->centres + (size_t) i * so->reader.elem_size,
									  so->meta.dims);
		tmp[i].list = i;
	}
	qsort(tmp, nlists, sizeof(IvfRankedList), cmp_ranked_list);
	for (int i = 0; i < nlists; i++)
		so->order[i] = tmp[i].list;
	pfree(tmp);
}

static inline void
heap_sift_down(IvfCandidate *h, int n, int i)
{
	IvfCandidate x = h[i];

	for (;;)
	{
		int			c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && h[c + 1].dist < h[c].dist)
			c++;
		if (h[c].dist >= x.dist)
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

/*
 * Start loading a pinned page into the CPU caches.  A list's pages are
 * adjacent in the relation but not in shared buffers, so the hardware
 * prefetchers, which follow address streams, lose the trail at every page
 * and each page would begin with a string of cache misses; asked for one
 * page ahead, its lines arrive while the current page's distances are
 * computed.  PrefetchBuffer cannot do this: it only reaches pages that are
 * not in shared buffers yet.
 */
static inline void
prefetch_page(Buffer buf)
{
#if defined(__GNUC__) || defined(__clang__)
	const char *p = (const char *) BufferGetPage(buf);

	for (int off = 0; off < BLCKSZ; off += PG_CACHE_LINE_SIZE)
		__builtin_prefetch(p + off, 0, 3);
#endif
}

/*
 * Append every row of one list to the candidate array.  `buf` is the
 * list's first page, pinned.  `follow` is the first page of the list read
 * next (InvalidBlockNumber for none): it is pinned and prefetched while
 * this list's last page is read, and returned pinned, so that the cache
 * misses of lists as well as of pages overlap with computation.
 */
static Buffer
read_list(IndexScanDesc scan, IvfScanOpaque so, Buffer buf, BlockNumber follow)
{
	int			dims = so->meta.dims;
	BlockNumber chain_pages = 0;

	for (;;)
	{
		BlockNumber blkno = BufferGetBlockNumber(buf);
		Page		page;
		OffsetNumber maxoff;
		BlockNumber nextblk;
		Buffer		next = InvalidBuffer;

		/* a list can span many pages: stay cancellable within it */
		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		ivf_verify_page(scan->indexRelation, blkno, page, IVF_PAGE_LIST,
						so->reader.tuple_size);
		nextblk = ivf_next_list_blkno(&so->reader, blkno, page, &chain_pages);

		/*
		 * Only pinned, not locked, until it is read: we never hold two
		 * content locks, and a pin does not wait for any.
		 */
		if (nextblk != InvalidBlockNumber || follow != InvalidBlockNumber)
		{
			next = ReadBuffer(scan->indexRelation,
							  nextblk != InvalidBlockNumber ? nextblk : follow);
			prefetch_page(next);
		}
		maxoff = PageGetMaxOffsetNumber(page);
		if (so->nheap + maxoff > so->capacity)
		{
			so->capacity = Max(so->capacity * 2, so->nheap + maxoff + 256);
			so->heap = so->heap == NULL ?
				palloc(sizeof(IvfCandidate) * so->capacity) :
				repalloc(so->heap, sizeof(IvfCandidate) * so->capacity);
		}
		/* ivf_verify_page checked every item */
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
		{
			IvfTuple   *t = (IvfTuple *) PageGetItem(page, PageGetItemId(page, off));
			IvfCandidate *c;

			/* a row the filter rejects costs no distance */
			so->list_items++;
			if (so->filter &&
				!vindex_filter_match(so->filter, t->x + so->reader.filter_offset))
				continue;
			so->list_matches++;
			c = &so->heap[so->nheap++];

			c->tid = t->heap_tid;
			if (so->query == NULL)
				c->dist = 0;
			else if (so->quant == IVF_QUANT_NONE)
				c->dist = so->reader.elem->distance(so->metric, so->query, t->x, dims);
			else
				c->dist = ivf_codec_distance(&so->codec, so->prepared, t->x);
			/* nearer than a row returned: gettuple would skip it (header) */
			if (c->dist < so->returned_dist && so->skip_nearer)
				so->nheap--;
		}
		UnlockReleaseBuffer(buf);
		if (nextblk == InvalidBlockNumber)
			return next;
		buf = next;
	}
}

/*
 * A filtered scan has read one more list, whose share of matching rows was
 * `share` (negative for an empty list): weigh it.  A list counts as a
 * whole probe when its share is at least half the largest share seen, as
 * a part below; a list without matches counts nothing.
 */
static void
weigh_list(IvfScanOpaque so, double share)
{
	int			n = so->probed;

	so->shares[n - 1] = share;
	if (share <= 0)
		return;
	if (share > so->max_share)
	{
		so->max_share = share;
		so->weight = 0;
		for (int i = 0; i < n; i++)
			if (so->shares[i] > 0)
				so->weight += Min(1.0, 2 * so->shares[i] / so->max_share);
	}
	else
		so->weight += Min(1.0, 2 * share / so->max_share);
}

/*
 * Read the next `n` lists in rank order and heapify the candidates.  A
 * filtered scan reads on, in rank order, while its candidates are fewer
 * than so->want or its lists weigh less than so->weight_target
 * (weigh_list): `probes` lists count as `probes` only when they are as
 * rich in matches as the richest seen, so that a filter whose rows lie in
 * other lists than the query's nearest (a correlated filter) reads the
 * `probes` nearest lists that hold them.
 */
static void
probe_lists(IndexScanDesc scan, IvfScanOpaque so, int n)
{
	MemoryContext old = MemoryContextSwitchTo(so->queryctx);
	Buffer		buf = InvalidBuffer;

	Assert(so->nheap == 0);
	so->weight_target += n;
	for (int i = 0; (i < n || so->nheap < so->want ||
					 (so->want > 0 && so->weight < so->weight_target)) &&
		 so->probed < so->limit_probes; i++)
	{
		int			list = so->order[so->probed++];
		BlockNumber follow = InvalidBlockNumber;

		CHECK_FOR_INTERRUPTS();
		if (i + 1 < n && so->probed < so->limit_probes)
		{
			follow = so->first[so->order[so->probed]];
			/* the list after this one starts elsewhere: ask for it early */
			PrefetchBuffer(scan->indexRelation, MAIN_FORKNUM, follow);
		}
		if (!BufferIsValid(buf))
			buf = ReadBuffer(scan->indexRelation, so->first[list]);
		/* RaBitQ's codes are relative to their list's centre */
		if (so->quant == IVF_QUANT_RABITQ && so->query != NULL)
			so->prepared = ivf_codec_prepare_list(&so->codec, list, so->meta.nlists,
												  so->centres + (size_t) list * so->reader.elem_size);
		so->list_items = 0;
		so->list_matches = 0;
		buf = read_list(scan, so, buf, follow);
		if (so->want > 0)
			weigh_list(so, so->list_items == 0 ? -1 :
					   (double) so->list_matches / so->list_items);
	}
	Assert(!BufferIsValid(buf));
	for (int i = so->nheap / 2 - 1; i >= 0; i--)
		heap_sift_down(so->heap, so->nheap, i);
	MemoryContextSwitchTo(old);
}

static void
start_scan(IndexScanDesc scan, IvfScanOpaque so)
{
	MemoryContext old = MemoryContextSwitchTo(so->queryctx);
	int			probes = Min(ivf_probes, so->meta.nlists);

	/* without ORDER BY (a forced plan) return every row, unordered */
	if (scan->numberOfOrderBys == 0)
		probes = so->meta.nlists;
	rank_lists(so);
	if (so->quant == IVF_QUANT_SQ8 && so->query != NULL)
		so->prepared = ivf_codec_prepare(&so->codec, so->query, NULL);
	else if (so->quant == IVF_QUANT_RABITQ && so->query != NULL)
		ivf_codec_set_query(&so->codec, so->query);
	so->batch = probes;
	so->limit_probes = probes;
	so->want = 0;
	if ((ivf_iterative_scan != IVF_ITERATIVE_OFF || so->filter != NULL) &&
		so->query != NULL)
		so->limit_probes = Min(Max(ivf_max_probes, probes), so->meta.nlists);
	so->weight = so->weight_target = so->max_share = 0;
	if (so->filter != NULL && so->query != NULL)
	{
		so->want = ivf_filter_candidates;
		so->shares = palloc(sizeof(double) * so->meta.nlists);
	}
	so->skip_nearer = so->filter != NULL && so->query != NULL &&
		so->quant == IVF_QUANT_NONE && ivf_iterative_scan == IVF_ITERATIVE_OFF;
	MemoryContextSwitchTo(old);
	pgstat_count_index_scan(scan->indexRelation);
	probe_lists(scan, so, probes);
	so->started = true;
}

/* Remove and return the candidate of least distance from the heap */
static inline IvfCandidate
heap_pop(IvfScanOpaque so)
{
	IvfCandidate top = so->heap[0];

	so->heap[0] = so->heap[--so->nheap];
	heap_sift_down(so->heap, so->nheap, 0);
	return top;
}

/*
 * The next batch of a quantized scan: the batch_size best candidates left
 * by approximate distance, with their exact distances, sorted.  Rows the
 * snapshot does not see are left out.  False when no candidate is left
 * (after probing further lists, with the iterative scan).
 */
static bool
rerank_batch(IndexScanDesc scan, IvfScanOpaque so)
{
	MemoryContext old;

	if (!so->rerank_ready)
	{
		old = MemoryContextSwitchTo(so->scanctx);
		vindex_rerank_begin(&so->rerank, scan, so->reader.elem, so->metric,
							so->meta.dims);
		MemoryContextSwitchTo(old);
		so->rerank_ready = true;
	}
	if (so->batch_rows == NULL)
		so->batch_rows = MemoryContextAlloc(so->queryctx,
											sizeof(IvfCandidate) * so->batch_size);
	so->nbatch = 0;
	so->batch_pos = 0;
	while (so->nbatch == 0)
	{
		while (so->nheap == 0)
		{
			if (so->probed >= so->limit_probes)
				return false;
			probe_lists(scan, so, so->batch);
		}
		for (int i = 0; i < so->batch_size && so->nheap > 0; i++)
		{
			IvfCandidate c = heap_pop(so);

			CHECK_FOR_INTERRUPTS();
			if (vindex_rerank_distance(&so->rerank, &c.tid, so->query, &c.dist))
				so->batch_rows[so->nbatch++] = c;
		}
	}
	qsort(so->batch_rows, so->nbatch, sizeof(IvfCandidate), vindex_scored_cmp);
	return true;
}

/* gettuple of a quantized index with an ORDER BY value: see the header */
static bool
gettuple_reranked(IndexScanDesc scan, IvfScanOpaque so)
{
	for (;;)
	{
		IvfCandidate c;

		if (so->batch_pos >= so->nbatch && !rerank_batch(scan, so))
			return false;
		c = so->batch_rows[so->batch_pos++];
		/* a later batch's row nearer than one returned would break the order */
		if (c.dist < so->last_dist && ivf_iterative_scan == IVF_ITERATIVE_OFF)
			continue;
		so->last_dist = Max(so->last_dist, c.dist);
		scan->xs_heaptid = c.tid;
		scan->xs_recheck = so->filter != NULL && so->filter->lossy;
		scan->xs_recheckorderby = false;
		scan->xs_orderbynulls[0] = false;
		scan->xs_orderbyvals[0] = Float8GetDatum(vector_metric_to_sql(so->metric, c.dist));
		return true;
	}
}

bool
ivf_gettuple(IndexScanDesc scan, ScanDirection dir)
{
	IvfScanOpaque so = (IvfScanOpaque) scan->opaque;
	IvfCandidate top;

	/* a filter no row passes (col = NULL, an empty range) */
	if (so->filter != NULL && so->filter->empty)
		return false;
	if (!so->started)
		start_scan(scan, so);
	if (so->quant != IVF_QUANT_NONE && so->query != NULL)
		return gettuple_reranked(scan, so);
	for (;;)
	{
		while (so->nheap == 0)
		{
			if (so->probed >= so->limit_probes)
				return false;
			probe_lists(scan, so, so->batch);
		}
		top = heap_pop(so);
		/* a filtered scan's later lists: keep the order exact (see the header) */
		if (so->filter == NULL || ivf_iterative_scan != IVF_ITERATIVE_OFF ||
			so->query == NULL || top.dist >= so->returned_dist)
			break;
	}
	so->returned_dist = top.dist;

	scan->xs_heaptid = top.tid;
	scan->xs_recheck = so->filter != NULL && so->filter->lossy;
	scan->xs_recheckorderby = false;
	if (scan->numberOfOrderBys > 0)
	{
		scan->xs_orderbynulls[0] = so->query == NULL;
		scan->xs_orderbyvals[0] = so->query == NULL ? (Datum) 0 :
			Float8GetDatum(vector_metric_to_sql(so->metric, top.dist));
	}
	return true;
}

void
ivf_endscan(IndexScanDesc scan)
{
	IvfScanOpaque so = (IvfScanOpaque) scan->opaque;

	if (so->rerank_ready)
		vindex_rerank_end(&so->rerank);
	MemoryContextDelete(so->queryctx);
	if (so->centres)
	{
		pfree(so->centres);
		pfree(so->first);
	}
	pfree(so);
	scan->opaque = NULL;
}
