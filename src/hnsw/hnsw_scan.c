/*-------------------------------------------------------------------------
 *
 * hnsw_scan.c
 *	  HNSW index scans: ORDER BY <distance operator> with results in exact
 *	  distance order, and the iterative scan that keeps searching past
 *	  hnsw.ef_search results while the executor asks for more rows.
 *
 * A scan descends greedily from the entry point to level 1, then searches
 * level 0 with ef = hnsw.ef_search (Algorithm 5 of Malkov & Yashunin) and
 * returns the ef nearest live elements' rows by ascending distance.  With
 * hnsw.iterative_scan on, the search keeps its state (candidates, visited
 * set, and results that fell out of the ef best) and runs further rounds of
 * ef results each until hnsw.max_scan_tuples elements have been examined
 * or the state outgrows work_mem * hnsw.scan_mem_multiplier.
 *
 * Conditions on filter columns (the scan keys, "Filter columns" in
 * index/index.h) are tested on every element the search reaches: an
 * element that fails them is still expanded, so it routes the search to
 * its neighbours, but never enters the results; the layer search goes on
 * until it holds ef elements that pass (or runs out of candidates), so a
 * filter of selectivity s visits about s^-0.7 times the elements of an
 * unfiltered search (measured: hnsw_cost.c).  The rows returned are exactly those of the nearest
 * passing elements found, in distance order.  When the filter is so
 * selective, or so foreign to the query's neighbourhood, that the search
 * is expected to visit (filtered_walk), or has visited,
 * hnsw.filter_walk_limit of the index's elements, it stops and
 * reads every element instead (flat_scan): the filter is tested before
 * the distance, so only the passing elements' distances are computed, and
 * the answer is exact.  An index with a filter directory ("Filter
 * directory" in hnsw.h) tests the directory's compact entries instead and
 * reads only the matching elements: a few hundred buffers instead of
 * every page, so the scan switches to it as soon as it is expected to be
 * cheaper than the walk.  Expanding through neighbours' neighbours
 * (ACORN-1, Patel et al., SIGMOD 2024) is not done: in a page-based graph
 * each element looked at is a buffer access, and ACORN-1 tests the filter
 * of up to (2m)^2 = 1,024 elements per expansion, each a buffer access,
 * about the whole directory pass (a few hundred pages and the matches)
 * of a 60,000-element index for each expansion (an argument by count,
 * not a measurement); and at 0.1% selectivity the two-hop
 * neighbourhood holds about one match, too few to keep the matches
 * connected.  The walk and the pass are measured in
 * test/bench/bench_filter.py.
 *
 * A quantized index (sq8, rabitq; "Quantization" in hnsw.h) walks the
 * graph by the codes' distances from the query, prepared once per scan,
 * and then re-ranks each round's results hnsw.rerank_candidates at a time
 * (hnsw_rerank_depth; a rabitq scan also searches with a longer list,
 * hnsw_scan_ef) by their
 * exact distance read from the table rows (hnsw_rerank_batch,
 * vindex_rerank_*), returning each batch's rows in exact distance order
 * with the exact operator value (gettuple_reranked; as ivf_scan.c does, a
 * row nearer than one already returned is skipped unless the iterative
 * scan is relaxed_order, and xs_recheckorderby stays false).
 *
 * Heap TIDs are returned without holding pins or locks between calls: a
 * row VACUUM removes and whose TID is reused after the scan read it is not
 * visible to the scan's MVCC snapshot, which the executor checks.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/relscan.h"
#include "hnsw/hnsw.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "utils/rel.h"

typedef struct HnswScanOpaqueData
{
	MemoryContext ctx;			/* everything of one rescan */
	bool		started;
	bool		finished;		/* no further rounds */
	bool		qnull;			/* ORDER BY distance to NULL */
	char	   *q;
	VindexFilter *filter;		/* the scan keys on filter columns, or NULL */
	HnswDiskGraph dg;
	HnswSearch	search;
	HnswCand   *results;		/* this round, by ascending distance */
	int			nresults;
	int			next;
	ItemPointerData tids[HNSW_HEAPTIDS];	/* rows of the current element */
	int			ntids;
	int			nexttid;
	double		dist;			/* distance of the current element */
	double		last;			/* last distance returned (strict order) */
	/* a quantized index: the rows re-ranked by exact distance (hnsw_quant.c) */
	bool		rerank;			/* re-rank (quantized, query not NULL) */
	bool		rerank_ready;	/* rr set up */
	VindexRerank rr;
	HnswReranked *rows;			/* this batch, by ascending exact distance */
	int			nrows;
	int			rowpos;
	int			batch;			/* hnsw_rerank_depth at the scan's start */
	int			ef;				/* hnsw_scan_ef at the scan's start */
} HnswScanOpaqueData;

typedef HnswScanOpaqueData *HnswScanOpaque;

IndexScanDesc
hnsw_beginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	HnswScanOpaque so = palloc0(sizeof(HnswScanOpaqueData));

	so->ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw scan",
									ALLOCSET_DEFAULT_SIZES);
	scan->opaque = so;
	scan->xs_orderbyvals = palloc0(sizeof(Datum) * Max(norderbys, 1));
	scan->xs_orderbynulls = palloc(sizeof(bool) * Max(norderbys, 1));
	return scan;
}

void
hnsw_rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys,
			int norderbys)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;

	if (keys && scan->numberOfKeys > 0)
		memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
	if (orderbys && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));
	if (so->rerank_ready)
		vindex_rerank_end(&so->rr);
	so->rerank_ready = false;
	so->rerank = false;
	so->rows = NULL;
	so->nrows = so->rowpos = 0;
	MemoryContextReset(so->ctx);
	so->started = false;
	so->finished = false;
	so->filter = NULL;
	so->nresults = so->next = 0;
	so->ntids = so->nexttid = 0;
	so->last = -get_float8_infinity();
}

/* The query value in stored form, checking its dimensions. */
static void
set_query(IndexScanDesc scan, HnswScanOpaque so, const HnswShape *shape)
{
	ScanKey		key = &scan->orderByData[0];

	/* a quantized index's query: the unquantized value (hnsw_quant_set_query) */
	so->q = palloc0(shape->quant != VINDEX_QUANT_NONE ? shape->raw_size : shape->elem_size);
	so->qnull = (key->sk_flags & SK_ISNULL) != 0;
	if (!so->qnull)
	{
		int			dims;
		char	   *q = vindex_elem_form(shape->elem, key->sk_argument, &dims);

		if (dims != shape->dims)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg(shape->elem->dims_error, shape->dims, dims)));
		/* a variable-size query may be larger than any stored element */
		if (shape->varsize || shape->quant != VINDEX_QUANT_NONE)
			so->q = q;
		else
			memcpy(so->q, q, shape->vec_size);
	}
}

/* State of the exhaustive pass of a filtered scan. */
typedef struct FlatState
{
	HnswScanOpaque so;
	const HnswShape *shape;
	HnswCand   *out;
	int			n;
	int			cap;
	uint64	   *deferred;		/* elements whose value continues past their page */
	int			ndeferred;
	int			capdeferred;
} FlatState;

static void
flat_add(FlatState *fs, uint64 pos, double d)
{
	if (fs->n == fs->cap)
	{
		fs->cap *= 2;
		fs->out = repalloc_huge(fs->out, sizeof(HnswCand) * fs->cap);
	}
	fs->out[fs->n].id = pos;
	fs->out[fs->n++].dist = d;
}

/*
 * hnsw_walk callback: test the filter of a live element on its page, then
 * compute its distance; elements whose value does not end on the page are
 * left for later (the callback must not lock other pages).
 */
static HnswWalkAction
flat_visit(void *arg, Page page, uint64 pos, HnswElementHeader *hdr)
{
	FlatState  *fs = arg;
	const HnswShape *shape = fs->shape;
	Size		start = HNSW_POS_OFFSET(pos) + hnsw_prefix_size(shape->m, hdr->level);
	const char *elem = (char *) hdr + hnsw_prefix_size(shape->m, hdr->level);

	if (hdr->ntids == 0 || (hdr->flags & HNSW_ELEMENT_FREE))
		return HNSW_WALK_NEXT;
	if (start + shape->elem_size > HNSW_PAGE_DATA)
	{
		if (fs->ndeferred == fs->capdeferred)
		{
			fs->capdeferred *= 2;
			fs->deferred = repalloc_huge(fs->deferred, sizeof(uint64) * fs->capdeferred);
		}
		fs->deferred[fs->ndeferred++] = pos;
		return HNSW_WALK_NEXT;
	}
	if (vindex_filter_match(fs->so->filter, elem + HNSW_FILTER_OFFSET(shape)))
		flat_add(fs, pos, hnsw_disk_distance(&fs->so->dg, fs->so->q, elem));
	return HNSW_WALK_NEXT;
}

/*
 * The exhaustive pass with the filter directory ("Filter directory" in
 * hnsw.h): the positions of the entries that pass the filter, in stream
 * order, then each of those elements read (distance() tests its own
 * filter area, under the page lock the vector is read with, and skips
 * dead elements and free slots); `out` receives the candidates.
 */
static void
dir_pass(FlatState *fs, const HnswFilterDirInfo *info, uint64 tail)
{
	HnswScanOpaque so = fs->so;
	int64		n;
	uint64	   *pos = hnsw_filterdir_matches(so->dg.index, info, fs->shape, so->filter,
											 tail, &n);

	for (int64 i = 0; i < n; i++)
	{
		bool		live;
		double		d = so->dg.g.distance(&so->dg.g, pos[i], so->q, &live);

		CHECK_FOR_INTERRUPTS();
		if (live)
			flat_add(fs, pos[i], d);
	}
	pfree(pos);
}

/*
 * The exhaustive pass of a filtered scan whose graph search visited, or
 * was expected to visit, more than hnsw.filter_walk_limit of the elements
 * (filtered_walk: a selective filter, or one
 * that rejects the query's neighbourhood): read every element of the
 * stream up to `tail` in stream order, test the filter first and compute
 * the distance of those that pass only, and make them, sorted by distance,
 * the scan's only round; with a filter directory (`info`), test the
 * directory's entries instead and read only the elements that pass
 * (dir_pass).  The answer is then exact.
 */
static void
flat_scan(HnswScanOpaque so, const HnswShape *shape, uint64 tail,
		  const HnswFilterDirInfo *info)
{
	FlatState	fs;

	fs.so = so;
	fs.shape = shape;
	fs.cap = 1024;
	fs.n = 0;
	fs.out = palloc(sizeof(HnswCand) * fs.cap);
	fs.capdeferred = 16;
	fs.ndeferred = 0;
	fs.deferred = palloc(sizeof(uint64) * fs.capdeferred);
	if (info->first != 0)
		dir_pass(&fs, info, tail);
	else
		hnsw_walk(so->dg.index, shape, 0, tail, false, flat_visit, &fs);
	for (int i = 0; i < fs.ndeferred; i++)
	{
		bool		live;
		double		d = so->dg.g.distance(&so->dg.g, fs.deferred[i], so->q, &live);

		CHECK_FOR_INTERRUPTS();
		if (live)
			flat_add(&fs, fs.deferred[i], d);
	}
	qsort(fs.out, fs.n, sizeof(HnswCand), hnsw_cand_cmp);
	if (so->results)
		pfree(so->results);
	so->results = fs.out;
	so->nresults = fs.n;
	so->next = 0;
	so->finished = true;
}

/*
 * The level-0 search of a filtered scan, or its end: the graph walk goes
 * on while it is expected to cost less than the exhaustive pass and to
 * visit fewer than hnsw.filter_walk_limit of the index's n elements, else
 * it stops (so->search.stopped) for flat_scan.  The expectation: a walk
 * with a filter of selectivity s visits about s^-0.7 times the elements
 * of an unfiltered one (hnsw_cost.c), about 0.75 ef m; s is estimated
 * from the share of the elements visited so far that pass, once a sample
 * has been visited.  Without a filter directory the pass reads every
 * element, so only the limit counts, and the sample is ef m visits and at
 * least a quarter of the limit, so that a small ef still sees a few
 * matches of a 0.1% filter before it judges.  With one, the pass costs
 * about HNSW_FILTERDIR_PAGE_VISITS visits per directory page plus one per
 * matching element (s n), so the sample is ef m / 2 visits (the pass is
 * far cheaper than a walk at 1%: a larger sample would cost more than the
 * pass it decides on; ef m / 2 still sees about 30 matches at 10% with
 * ef 40, where the walk is the cheaper), and a walk that was expected to be cheaper but
 * has spent a pass's cost beyond the sample without finishing stops too.
 * A filter that rejects the query's neighbourhood thus switches early, as
 * it should: its walk would cross all of it.
 */
static void
filtered_walk(HnswScanOpaque so, const HnswShape *shape, uint64 tail,
			  const HnswFilterDirInfo *info)
{
	HnswSearch *s = &so->search;
	/* elements in the stream, dead ones and free slots included */
	double		n = (double) tail / hnsw_element_size(shape, 0, shape->elem_size);
	int64		limit = Max(1, (int64) (n * hnsw_filter_walk_limit));
	int64		unit = (int64) so->ef * shape->m;
	int64		sample = info->first != 0 ? Min(limit, Max(1, unit / 2)) :
		Min(limit, Max(unit, limit / 4));

	s->max_distances = sample;
	hnsw_search_layer(s, 0, so->ef);
	if (s->stopped)
	{
		double		share = (double) Max(s->nlive, 1) / Max(s->ndistances, 1);
		double		expected = 0.75 * so->ef * shape->m *
			pow(share, -HNSW_FILTER_VISIT_EXPONENT);
		double		bound = limit;

		if (info->first != 0)
		{
			double		pass = info->pages * HNSW_FILTERDIR_PAGE_VISITS + share * n;

			if (expected > pass)
				bound = 0;
			else
				bound = Min(bound, s->ndistances + pass);
		}
		if (expected <= bound)
		{
			s->stopped = false;
			s->max_distances = Max(1, (int64) bound);
			hnsw_search_layer(s, 0, so->ef);
		}
	}
	s->max_distances = 0;
}

/* First round: descend, then search level 0. */
static void
start_scan(IndexScanDesc scan, HnswScanOpaque so)
{
	HnswShape	shape;
	uint64		entry;
	int			entry_level;
	uint64		tail;
	HnswCand	ep;
	HnswFilterDirInfo info = {0};

	if (scan->numberOfOrderBys == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot scan an hnsw index without ORDER BY"),
				 errhint("Use ORDER BY column <-> value (or another distance operator).")));
	/* one scan, as btree counts it: where the scan starts its search */
	pgstat_count_index_scan(scan->indexRelation);
	hnsw_read_meta(scan->indexRelation, &shape, &entry, &entry_level, &tail);
	so->ef = hnsw_scan_ef(shape.quant);
	set_query(scan, so, &shape);
	so->filter = vindex_filter_compile(&shape.filters, scan->keyData, scan->numberOfKeys);
	if (entry == HNSW_INVALID_POS || (so->filter && so->filter->empty))
	{
		so->finished = true;
		return;
	}
	hnsw_disk_graph_init(&so->dg, scan->indexRelation, &shape);
	so->dg.filter = so->filter;
	if (shape.quant != VINDEX_QUANT_NONE)
	{
		hnsw_quant_set_query(&so->dg, so->q);
		so->rerank = !so->qnull;
		so->batch = hnsw_rerank_depth(shape.quant);
	}
	hnsw_disk_check_pos(&so->dg, entry);
	ep = hnsw_greedy_descend(&so->dg.g, so->q, entry, entry_level, 0);
	hnsw_search_init(&so->search, &so->dg.g, so->q, true,
					 hnsw_iterative_scan != HNSW_ITERATIVE_OFF);
	hnsw_search_seed(&so->search, &ep, 1);
	if (so->filter)
		hnsw_filterdir_info(scan->indexRelation, &info);
	if (so->filter && hnsw_filter_walk_limit < 1)
		filtered_walk(so, &shape, tail, &info);
	else
		hnsw_search_layer(&so->search, 0, so->ef);
	so->results = hnsw_search_take(&so->search, &so->nresults);
	so->finished = hnsw_iterative_scan == HNSW_ITERATIVE_OFF;
	if (so->search.stopped)
		flat_scan(so, &so->dg.g.shape, tail, &info);
}

/* Run one more round of an iterative scan; false when it is over. */
static bool
next_round(HnswScanOpaque so)
{
	double		mem_limit = (double) work_mem * 1024.0 * hnsw_scan_mem_multiplier;

	if (so->finished ||
		so->search.ndistances >= hnsw_max_scan_tuples ||
		MemoryContextMemAllocated(so->ctx, true) > mem_limit)
		return false;
	pfree(so->results);
	hnsw_search_layer(&so->search, 0, so->ef);
	so->results = hnsw_search_take(&so->search, &so->nresults);
	so->next = 0;
	return so->nresults > 0;
}

/*
 * Load the rows of the next result element; false when the round is done.
 * The TIDs are read together with the vector stored with them, and an
 * element whose distance is no longer the one the search found is
 * skipped: its slot was reused for another row since (hnsw.h, "Space
 * reuse"), whose distance would break the order.
 */
static bool
next_element(IndexScanDesc scan, HnswScanOpaque so)
{
	while (so->next < so->nresults)
	{
		HnswCand	c = so->results[so->next++];
		int			ntids;
		double		d;

		if (hnsw_iterative_scan == HNSW_ITERATIVE_STRICT && c.dist < so->last)
			continue;
		d = hnsw_disk_element_tids(&so->dg, c.id, so->q, so->tids, &ntids);
		if (ntids == 0 || d != c.dist)
			continue;
		so->ntids = ntids;
		so->nexttid = 0;
		so->dist = c.dist;
		so->last = Max(so->last, c.dist);
		return true;
	}
	return false;
}

/*
 * gettuple of a quantized index: the round's results, by approximate
 * distance, are re-ranked hnsw.rerank_candidates elements at a time
 * (hnsw_rerank_batch) and each batch's rows returned in exact distance
 * order with the exact operator value; then the next batch, then the next
 * round of an iterative scan.  A row nearer than one already returned
 * (from a later batch or round) is skipped, so that rows come out in
 * non-decreasing exact distance, unless hnsw.iterative_scan is
 * relaxed_order.
 */
static bool
gettuple_reranked(IndexScanDesc scan, HnswScanOpaque so)
{
	if (!so->rerank_ready)
	{
		MemoryContext old = MemoryContextSwitchTo(so->ctx);

		vindex_rerank_begin(&so->rr, scan, so->dg.g.shape.elem, so->dg.g.shape.metric,
							so->dg.g.shape.dims);
		so->rows = palloc(sizeof(HnswReranked) * so->batch * HNSW_HEAPTIDS);
		MemoryContextSwitchTo(old);
		so->rerank_ready = true;
	}
	for (;;)
	{
		HnswReranked r;

		CHECK_FOR_INTERRUPTS();
		if (so->rowpos >= so->nrows)
		{
			so->rowpos = 0;
			so->nrows = hnsw_rerank_batch(&so->dg, &so->rr, so->q, so->results,
										  so->nresults, &so->next, so->batch, so->rows);
			if (so->nrows == 0 && (so->nresults == 0 || !next_round(so)))
				return false;
			continue;
		}
		r = so->rows[so->rowpos++];
		if (r.dist < so->last && hnsw_iterative_scan != HNSW_ITERATIVE_RELAXED)
			continue;
		so->last = Max(so->last, r.dist);
		scan->xs_heaptid = r.tid;
		scan->xs_recheck = so->filter != NULL && so->filter->lossy;
		scan->xs_recheckorderby = false;
		scan->xs_orderbyvals[0] =
			Float8GetDatum(vector_metric_to_sql(so->dg.g.shape.metric, r.dist));
		scan->xs_orderbynulls[0] = false;
		return true;
	}
}

bool
hnsw_gettuple(IndexScanDesc scan, ScanDirection dir)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	MemoryContext old = MemoryContextSwitchTo(so->ctx);
	bool		found = true;

	if (!so->started)
	{
		start_scan(scan, so);
		so->started = true;
	}
	if (so->rerank)
	{
		found = gettuple_reranked(scan, so);
		MemoryContextSwitchTo(old);
		return found;
	}
	while (so->nexttid >= so->ntids)
	{
		CHECK_FOR_INTERRUPTS();
		if (next_element(scan, so))
			break;
		if (so->nresults == 0 || !next_round(so))
		{
			found = false;
			break;
		}
	}
	if (found)
	{
		scan->xs_heaptid = so->tids[so->nexttid++];
		scan->xs_recheck = so->filter != NULL && so->filter->lossy;
		scan->xs_recheckorderby = false;
		scan->xs_orderbyvals[0] =
			Float8GetDatum(vector_metric_to_sql(so->dg.g.shape.metric, so->dist));
		scan->xs_orderbynulls[0] = so->qnull;
	}
	MemoryContextSwitchTo(old);
	return found;
}

void
hnsw_endscan(IndexScanDesc scan)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;

	if (so->rerank_ready)
		vindex_rerank_end(&so->rr);
	MemoryContextDelete(so->ctx);
	pfree(so);
	scan->opaque = NULL;
}
