/*-------------------------------------------------------------------------
 *
 * hnsw_stats.c
 *	  vsim.hnsw_index_stats(regclass): statistics of an HNSW index's graph,
 *	  gathered by walking its element stream; and
 *	  vsim.hnsw_index_reachability(regclass): how many live elements no
 *	  neighbour list links to, and how many no search can reach; and
 *	  vsim.hnsw_index_unreachable(regclass): the heap TIDs of the latter.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "hnsw/hnsw.h"
#include "index/index.h"
#include "storage/bufmgr.h"
#include "miscadmin.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/rel.h"

typedef struct StatsState
{
	Relation	index;
	HnswShape	shape;
	int64		elements;
	int64		dead;
	int64		free;
	int64		tids;
	int64		level0_links;	/* of live elements */
	int			max_level;
} StatsState;

static HnswWalkAction
gather(void *arg, Page page, uint64 pos, HnswElementHeader *hdr)
{
	StatsState *st = arg;
	int			count = hnsw_checked_count(st->index, &st->shape, hdr, 0,
										   HNSW_POS_BLOCK(pos), pos);

	if (hdr->flags & HNSW_ELEMENT_FREE)
	{
		st->free++;
		return HNSW_WALK_NEXT;
	}
	st->elements++;
	st->tids += hdr->ntids;
	if (hdr->ntids == 0)
		st->dead++;
	else
		st->level0_links += count;
	st->max_level = Max(st->max_level, hdr->level);
	return HNSW_WALK_NEXT;
}

PG_FUNCTION_INFO_V1(hnsw_index_stats);

/*
 * vsim.hnsw_index_stats(index regclass) -> one row: elements (live and
 * dead), dead elements, free slots (of elements VACUUM removed, for
 * reuse), heap TIDs, levels (highest level + 1), entry point
 * "(block,offset)" and level, pages, average level-0 neighbours of live
 * elements, m, ef_construction, dimensions, quantization and bytes per
 * vector (the stored value without the element's prefix and filter area:
 * shape->vec_size; NULL for a variable-size type, whose values differ),
 * filter columns, and the filter directory's pages and entries (NULL
 * when the index has none: no filter columns, or built before it
 * existed; "Filter directory" in hnsw.h).  quantization is what the index
 * stores (its metapage's quant_mode, as built), not the option, which
 * ALTER INDEX can change; for sq8 the bytes per vector are the
 * Sq8Element's (4 + dimensions), for rabitq the RabitqElement's (16 +
 * dimensions / 8, rounded up to 64 dimensions).  Who may call it, and the
 * errors when the argument is not an hnsw index, are those of
 * vindex_stats_open (index.h).  Takes AccessShareLock and reads every page
 * once, without a snapshot: two calls in one statement may see different
 * pages (VOLATILE).
 */
Datum
hnsw_index_stats(PG_FUNCTION_ARGS)
{
	Relation	index = vindex_stats_open(PG_GETARG_OID(0), "hnsw");
	TupleDesc	tupdesc;
	HnswShape	shape;
	uint64		entry,
				tail;
	int			entry_level;
	StatsState	st = {0};
	HnswFilterDirInfo dir;
	Datum		values[17];
	bool		nulls[17] = {0};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	hnsw_read_meta(index, &shape, &entry, &entry_level, &tail);
	st.index = index;
	st.shape = shape;
	st.max_level = -1;
	hnsw_walk(index, &shape, 0, tail, false, gather, &st);

	values[0] = Int64GetDatum(st.elements);
	values[1] = Int64GetDatum(st.dead);
	values[2] = Int64GetDatum(st.free);
	values[3] = Int64GetDatum(st.tids);
	values[4] = Int32GetDatum(st.max_level + 1);
	if (entry == HNSW_INVALID_POS)
		nulls[5] = nulls[6] = true;
	else
	{
		values[5] = CStringGetTextDatum(psprintf("(%u,%u)", HNSW_POS_BLOCK(entry),
												 HNSW_POS_OFFSET(entry)));
		values[6] = Int32GetDatum(entry_level);
	}
	values[7] = Int64GetDatum(RelationGetNumberOfBlocks(index));
	if (st.elements - st.dead > 0)
		values[8] = Float8GetDatum((double) st.level0_links / (st.elements - st.dead));
	else
		nulls[8] = true;
	values[9] = Int32GetDatum(shape.m);
	values[10] = Int32GetDatum(shape.ef_construction);
	values[11] = Int32GetDatum(shape.dims);
	values[12] = CStringGetTextDatum(vindex_quantization_name(shape.quant));
	if (shape.varsize)
		nulls[13] = true;
	else
		values[13] = Int32GetDatum((int32) shape.vec_size);
	values[14] = Int32GetDatum(shape.filters.nfilters);
	hnsw_filterdir_info(index, &dir);
	if (dir.first == 0)
		nulls[15] = nulls[16] = true;
	else
	{
		values[15] = Int64GetDatum(dir.pages);
		values[16] = Int64GetDatum(hnsw_filterdir_count(index, &dir, &shape));
	}
	vindex_stats_close(index);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* ---------------------------------------------------------------------
 * Reachability
 * ---------------------------------------------------------------------
 */
typedef struct ReachState
{
	Relation	index;
	HnswShape	shape;
	BlockNumber nblocks;		/* for hnsw_slot_pos */
	/* the elements that are not free slots, in stream order */
	uint64	   *pos;
	uint8	   *level;
	bool	   *live;
	bool	   *linked;			/* a live element's level-0 list names it */
	bool	   *reached;
	int64		n;
	int64		alloc;
} ReachState;

/* Walk 1: note every element that is not a free slot. */
static HnswWalkAction
collect_element(void *arg, Page page, uint64 pos, HnswElementHeader *hdr)
{
	ReachState *rs = arg;

	if (hdr->flags & HNSW_ELEMENT_FREE)
		return HNSW_WALK_NEXT;
	if (rs->n == rs->alloc)
	{
		rs->alloc *= 2;
		rs->pos = repalloc_huge(rs->pos, sizeof(uint64) * rs->alloc);
		rs->level = repalloc_huge(rs->level, rs->alloc);
		rs->live = repalloc_huge(rs->live, sizeof(bool) * rs->alloc);
	}
	rs->pos[rs->n] = pos;
	rs->level[rs->n] = hdr->level;
	rs->live[rs->n++] = hdr->ntids > 0;
	return HNSW_WALK_NEXT;
}

/* Walk 2: mark the elements that live elements' level-0 lists name. */
static HnswWalkAction
mark_linked(void *arg, Page page, uint64 pos, HnswElementHeader *hdr)
{
	ReachState *rs = arg;
	BlockNumber blkno = HNSW_POS_BLOCK(pos);
	HnswPtr    *slots;
	int			n;

	if ((hdr->flags & HNSW_ELEMENT_FREE) || hdr->ntids == 0)
		return HNSW_WALK_NEXT;
	slots = hnsw_list_slots(hdr, rs->shape.m, 0);
	n = hnsw_checked_count(rs->index, &rs->shape, hdr, 0, blkno, pos);
	for (int i = 0; i < n; i++)
	{
		int64		j = hnsw_find_pos(rs->pos, rs->n,
									  hnsw_slot_pos(rs->index, &rs->nblocks, &slots[i], blkno));

		if (j >= 0)
			rs->linked[j] = true;
	}
	return HNSW_WALK_NEXT;
}

/*
 * Mark what a search can reach: from the entry point down, at each level
 * every element reached so far (at a higher level, or the entry point)
 * and what its lists at that level lead to, transitively, as a layer
 * search with unbounded ef would (dead elements are passed through).
 */
static void
mark_reached(ReachState *rs, uint64 entry, int entry_level)
{
	HnswDiskGraph dg;
	int64	   *queue = palloc(sizeof(int64) * rs->n);
	uint64	   *nbuf = palloc(sizeof(uint64) * HNSW_CAP(rs->shape.m, 0));
	int64		e = hnsw_find_pos(rs->pos, rs->n, entry);

	if (e < 0)
		return;
	hnsw_disk_graph_init(&dg, rs->index, &rs->shape);
	rs->reached[e] = true;
	for (int l = entry_level; l >= 0; l--)
	{
		int64		head = 0,
					tail = 0;

		for (int64 i = 0; i < rs->n; i++)
			if (rs->reached[i] && rs->level[i] >= l)
				queue[tail++] = i;
		while (head < tail)
		{
			int			n = dg.g.neighbours(&dg.g, rs->pos[queue[head++]], l, nbuf);

			CHECK_FOR_INTERRUPTS();
			for (int i = 0; i < n; i++)
			{
				int64		j = hnsw_find_pos(rs->pos, rs->n, nbuf[i]);

				if (j >= 0 && !rs->reached[j] && rs->level[j] >= l)
				{
					rs->reached[j] = true;
					queue[tail++] = j;
				}
			}
		}
	}
	pfree(queue);
	pfree(nbuf);
}

/*
 * Walk the index of `index` (opened by vindex_stats_open) into *rs: its
 * elements, which live elements' level-0 lists name, and what a search
 * reaches; *entry is the entry point.
 */
static void
compute_reach(Relation index, ReachState *rs, uint64 *entry)
{
	uint64		tail;
	int			entry_level;

	hnsw_read_meta(index, &rs->shape, entry, &entry_level, &tail);
	rs->index = index;
	rs->nblocks = 1;
	rs->alloc = 1024;
	rs->pos = palloc(sizeof(uint64) * rs->alloc);
	rs->level = palloc(rs->alloc);
	rs->live = palloc(sizeof(bool) * rs->alloc);
	hnsw_walk(index, &rs->shape, 0, tail, false, collect_element, rs);
	rs->linked = palloc_extended(sizeof(bool) * Max(rs->n, 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	rs->reached = palloc_extended(sizeof(bool) * Max(rs->n, 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	hnsw_walk(index, &rs->shape, 0, tail, false, mark_linked, rs);
	if (*entry != HNSW_INVALID_POS)
		mark_reached(rs, *entry, entry_level);
}

PG_FUNCTION_INFO_V1(hnsw_index_reachability);

/*
 * vsim.hnsw_index_reachability(index regclass) -> one row: live elements;
 * unlinked: live elements, but the entry point, that no live element's
 * level-0 neighbour list names (what the graph's maintenance is meant to
 * prevent: only upper-level lists and dead elements' lists, which VACUUM
 * frees, still lead to them); unreachable: live elements that a search
 * from the entry point cannot reach at level 0 following the lists of
 * each level, with unbounded ef (such rows are found only by a
 * sequential scan).  Neither is damage: vsim.index_check() does not report
 * them.  Privileges and errors are those of vindex_stats_open (index.h).
 * Reads every element twice and every reachable one once per level, under
 * AccessShareLock, without a snapshot (VOLATILE); memory: about 20 bytes
 * per element.
 */
Datum
hnsw_index_reachability(PG_FUNCTION_ARGS)
{
	Relation	index = vindex_stats_open(PG_GETARG_OID(0), "hnsw");
	TupleDesc	tupdesc;
	uint64		entry;
	ReachState	rs = {0};
	int64		live = 0,
				unlinked = 0,
				unreachable = 0;
	Datum		values[3];
	bool		nulls[3] = {0};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	compute_reach(index, &rs, &entry);
	for (int64 i = 0; i < rs.n; i++)
	{
		if (!rs.live[i])
			continue;
		live++;
		unlinked += !rs.linked[i] && rs.pos[i] != entry;
		unreachable += !rs.reached[i];
	}
	values[0] = Int64GetDatum(live);
	values[1] = Int64GetDatum(unlinked);
	values[2] = Int64GetDatum(unreachable);
	vindex_stats_close(index);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

PG_FUNCTION_INFO_V1(hnsw_index_unreachable);

/*
 * vsim.hnsw_index_unreachable(index regclass) -> tid[]: the heap TIDs of
 * the live elements that hnsw_index_reachability counts as unreachable
 * (no search of the index can return these rows), in stream order; an
 * empty array when there are none.  The TIDs are those the index holds:
 * rows of aborted or deleted and not yet vacuumed transactions are among
 * them, so join them with the table to see the visible rows
 * (WHERE ctid IN (SELECT unnest(...))).  Like the counts, the TIDs are
 * read without holding off concurrent inserts and VACUUM, so under them
 * they can be a moment out of date.  Privileges, errors and costs are
 * those of hnsw_index_reachability, plus one page read per unreachable
 * element.
 */
Datum
hnsw_index_unreachable(PG_FUNCTION_ARGS)
{
	Relation	index = vindex_stats_open(PG_GETARG_OID(0), "hnsw");
	uint64		entry;
	ReachState	rs = {0};
	ItemPointerData *tids;
	Datum	   *elems;
	int64		n = 0,
				alloc = 64;
	ArrayType  *result;

	compute_reach(index, &rs, &entry);
	tids = palloc(sizeof(ItemPointerData) * alloc);
	for (int64 i = 0; i < rs.n; i++)
	{
		HnswElementHeader *hdr;
		Buffer		buf;

		if (!rs.live[i] || rs.reached[i])
			continue;
		CHECK_FOR_INTERRUPTS();
		buf = hnsw_lock_element(index, &rs.shape, rs.pos[i], BUFFER_LOCK_SHARE, &hdr);
		if (n + hdr->ntids > alloc)
		{
			alloc = Max(alloc * 2, n + hdr->ntids);
			tids = repalloc_huge(tids, sizeof(ItemPointerData) * alloc);
		}
		/* hnsw_page_element checked ntids <= HNSW_HEAPTIDS */
		memcpy(&tids[n], hdr->tids, sizeof(ItemPointerData) * hdr->ntids);
		n += hdr->ntids;
		UnlockReleaseBuffer(buf);
	}
	vindex_stats_close(index);
	elems = palloc(sizeof(Datum) * Max(n, 1));
	for (int64 i = 0; i < n; i++)
		elems[i] = PointerGetDatum(&tids[i]);
	result = construct_array(elems, (int) n, TIDOID, sizeof(ItemPointerData), false,
							 TYPALIGN_SHORT);
	PG_RETURN_ARRAYTYPE_P(result);
}
