/*-------------------------------------------------------------------------
 *
 * hnsw_vacuum.c
 *	  VACUUM of HNSW indexes (ambulkdelete, amvacuumcleanup): removing dead
 *	  heap TIDs, repairing the graph around dead elements and freeing their
 *	  slots for reuse (see "Space reuse" in hnsw.h for why this is safe).
 *
 * Pass 1 walks the element stream and removes the heap TIDs VACUUM reports
 * dead; an element left without TIDs is newly dead.  The walk also notes
 * every dead element not yet freed (the newly dead ones, and any an
 * earlier VACUUM could not free), the live element of highest level, and
 * each page's largest free slot for the free space map.  When there are
 * dead elements, VACUUM then waits for the inserts in progress, the only
 * ones that can still link to an element they saw alive, by taking the
 * update lock exclusively (once the elements died, which an earlier
 * VACUUM that failed midway may not have done); it replaces a dead entry
 * point under that lock.
 *
 * The dead elements are then handled in rounds, as many per round as half
 * of maintenance_work_mem holds (9 bytes each; the other half holds the
 * lists to repair, 12 bytes each), as PostgreSQL's own index VACUUM works
 * through its dead-TID store:
 *
 *	  repair	every live element that lists one of the round's dead
 *				elements gets a new list chosen by the heuristic from its
 *				live neighbours plus the live neighbours of its dead ones
 *				(the dead element's own links stand in for it, the usual
 *				repair for deletions in HNSW graphs)
 *	  confirm	a second walk notes which of the round's dead elements a
 *				live list still names (a repair that lost three races with
 *				inserts leaves one)
 *	  free		the others, but the entry point, become free slots, and
 *				their pages' largest free slots are recorded in the free
 *				space map for inserts; dead elements still named wait for
 *				the next VACUUM
 *
 * Last, every live element that no live level-0 list names (inserts'
 * pruning and the repairs leave a few) is linked from one of its
 * neighbours (adopt_orphans), with the in-link counts of pass 1 when no
 * list was repaired, else of the last confirm walk; and every group of
 * live elements that no search reaches any more is linked from one that
 * a search reaches (link_unreachable).
 *
 * A VACUUM without newly dead elements therefore repairs nothing and
 * takes no exclusive lock, unless an earlier one left dead elements
 * behind.  amvacuumcleanup, when no bulk delete ran, makes pass 1 without
 * removing anything (counting the rows) and finishes what an earlier
 * VACUUM left.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "commands/vacuum.h"
#include "hnsw/hnsw.h"
#include "index/index.h"
#include "miscadmin.h"
#include "postmaster/autovacuum.h"
#include "storage/bufmgr.h"
#include "storage/freespace.h"
#include "storage/indexfsm.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

typedef struct VacuumState
{
	Relation	index;
	HnswShape	shape;
	BlockNumber nblocks;		/* for hnsw_slot_pos */
	uint64		tail;			/* the stream's end when pass 1 began */
	IndexBulkDeleteResult *stats;
	IndexBulkDeleteCallback callback;	/* NULL: remove nothing (cleanup) */
	void	   *callback_state;
	uint64		entry;			/* the entry point when pass 1 began */
	bool		entry_dead;
	uint64		best;			/* live element of highest level */
	int			best_level;
	BlockNumber fsm_block;		/* last page whose free slots were recorded */

	/*
	 * The round's dead elements, in stream order, and whether a live list
	 * still names each; `dead_alloc` entries allocated, up to `dead_cap`.
	 */
	uint64	   *dead;
	bool	   *named;
	int			ndead;
	int			dead_alloc;
	int			dead_cap;
	uint64		resume;			/* first dead element left to a later round */

	/* lists to repair: element, and a bit per level that needs it */
	uint64	   *repair;
	uint32	   *repair_levels;
	int			nrepair;
	int			repair_alloc;
	int			repair_cap;

	/*
	 * Level-0 in-links: links[p / 4] counts (up to 255) the live elements'
	 * level-0 lists naming stream position p < links_end, live[] marks the
	 * live elements' starts (a bit per 4 bytes); NULL when they would not
	 * fit in the memory VACUUM may use.
	 */
	uint8	   *links;
	uint8	   *live;
	uint64		links_end;

	/* for the message */
	int64		adopted;
	int64		unlinked_left;
	int64		relinked;		/* unreachable elements linked */
	int64		unreachable_left;	/* and not */
	Size		reach_mem;		/* memory left for link_unreachable */
	int64		newly_dead;
	int64		dead_found;		/* dead elements not yet freed, after pass 1 */
	int64		pending;		/* those still not freed */
	int64		repaired;
	int64		freed;
	int			rounds;
} VacuumState;

/* Index of `pos` in the round's dead elements, or -1. */
static int
dead_index(const VacuumState *vs, uint64 pos)
{
	return (int) hnsw_find_pos(vs->dead, vs->ndead, pos);
}

/*
 * Room for entry n in the arrays *a (8-byte entries) and *b (bsize-byte
 * ones) of *alloc entries: they double, up to cap; false when full.
 */
static bool
make_room(void **a, void **b, Size bsize, int n, int *alloc, int cap)
{
	if (n < *alloc)
		return true;
	if (*alloc >= cap)
		return false;
	*alloc = Min(cap, *alloc * 2);
	*a = repalloc_huge(*a, sizeof(uint64) * *alloc);
	*b = repalloc_huge(*b, bsize * *alloc);
	return true;
}

/* Add dead element `pos` to the round, or leave it to a later one. */
static bool
collect_dead(VacuumState *vs, uint64 pos)
{
	if (make_room((void **) &vs->dead, (void **) &vs->named, sizeof(bool), vs->ndead,
				  &vs->dead_alloc, vs->dead_cap))
	{
		vs->dead[vs->ndead++] = pos;
		return true;
	}
	if (vs->resume == HNSW_INVALID_POS)
		vs->resume = pos;
	return false;
}

/* Record the largest free slot of `page` once per page, if it changed. */
static void
record_free_space(VacuumState *vs, Page page, uint64 pos)
{
	BlockNumber blkno = HNSW_POS_BLOCK(pos);
	Size		largest;

	if (blkno == vs->fsm_block)
		return;
	vs->fsm_block = blkno;
	hnsw_page_free_slots(vs->index, &vs->shape, page, blkno, 0, &largest);
	if (GetRecordedFreeSpace(vs->index, blkno) != TYPEALIGN_DOWN(HNSW_FSM_STEP, largest))
		RecordPageWithFreeSpace(vs->index, blkno, largest);
}

/*
 * Count the level-0 links of live element `pos` (header `hdr`) in
 * vs->links, and mark it live.
 */
static void
count_links(VacuumState *vs, uint64 pos, HnswElementHeader *hdr)
{
	BlockNumber blkno = HNSW_POS_BLOCK(pos);
	HnswPtr    *slots = hnsw_list_slots(hdr, vs->shape.m, 0);
	int			n = hnsw_checked_count(vs->index, &vs->shape, hdr, 0, blkno, pos);

	if (vs->links == NULL || pos >= vs->links_end)
		return;
	vs->live[pos / 32] |= 1 << ((pos / 4) % 8);
	for (int i = 0; i < n; i++)
	{
		uint64		t = hnsw_slot_pos(vs->index, &vs->nblocks, &slots[i], blkno);

		if (t < vs->links_end && vs->links[t / 4] < 255)
			vs->links[t / 4]++;
	}
}

/* Forget the links counted so far (the lists are about to change). */
static void
reset_links(VacuumState *vs)
{
	if (vs->links == NULL)
		return;
	memset(vs->links, 0, vs->links_end / 4);
	memset(vs->live, 0, vs->links_end / 32 + 1);
}

/*
 * Pass 1: drop the dead TIDs of one element; note dead elements, the best
 * live one and the page's free space.
 */
static HnswWalkAction
remove_tids(void *arg, Page page, uint64 pos, HnswElementHeader *hdr)
{
	VacuumState *vs = arg;
	int			kept = 0;
	int			old = hdr->ntids;

	record_free_space(vs, page, pos);
	if (hdr->flags & HNSW_ELEMENT_FREE)
		return HNSW_WALK_NEXT;
	for (int i = 0; i < old; i++)
	{
		if (vs->callback && vs->callback(&hdr->tids[i], vs->callback_state))
			vs->stats->tuples_removed++;
		else if (kept++ != i)
			hdr->tids[kept - 1] = hdr->tids[i];
	}
	vs->stats->num_index_tuples += kept;
	if (kept != old)
		hdr->ntids = kept;
	if (kept == 0)
	{
		if (old > 0)
		{
			vs->newly_dead++;
			memset(hdr->tids, 0, sizeof(hdr->tids));
		}
		vs->pending++;
		vs->entry_dead |= pos == vs->entry;
		collect_dead(vs, pos);
	}
	else
	{
		count_links(vs, pos, hdr);
		if ((int) hdr->level > vs->best_level)
		{
			vs->best = pos;
			vs->best_level = hdr->level;
		}
	}
	return kept != old ? HNSW_WALK_CHANGED : HNSW_WALK_NEXT;
}

/* The live element of highest level, for an index pass 1 found all dead. */
static HnswWalkAction
find_best(void *arg, Page page, uint64 pos, HnswElementHeader *hdr)
{
	VacuumState *vs = arg;

	if (hdr->ntids > 0 && (int) hdr->level > vs->best_level)
	{
		vs->best = pos;
		vs->best_level = hdr->level;
	}
	return HNSW_WALK_NEXT;
}

/*
 * Wait for the inserts in progress, which may still link to elements they
 * saw alive before pass 1, and replace a dead entry point by the live
 * element of highest level.
 */
static void
wait_and_replace_entry(VacuumState *vs)
{
	Relation	index = vs->index;
	HnswShape	shape;
	uint64		entry,
				tail;
	int			entry_level;

	LockPage(index, HNSW_UPDATE_LOCK, ExclusiveLock);
	hnsw_read_meta(index, &shape, &entry, &entry_level, &tail);
	if (entry != HNSW_INVALID_POS)
	{
		HnswElementHeader *hdr;
		Buffer		buf = hnsw_lock_element(index, &shape, entry, BUFFER_LOCK_SHARE, &hdr);
		bool		dead = hdr->ntids == 0;

		UnlockReleaseBuffer(buf);
		/* rows inserted while pass 1 ran may be all that is left */
		if (dead && vs->best == HNSW_INVALID_POS)
			hnsw_walk(index, &shape, 0, tail, false, find_best, vs);
		if (dead)
			hnsw_set_entry(index, vs->best, vs->best_level, false);
	}
	UnlockPage(index, HNSW_UPDATE_LOCK, ExclusiveLock);
}

/*
 * For the repair and confirm walks: the levels at which the lists of live
 * element `hdr` name one of the round's dead elements, marking those named.
 */
static uint32
levels_naming_dead(VacuumState *vs, uint64 pos, HnswElementHeader *hdr)
{
	BlockNumber blkno = HNSW_POS_BLOCK(pos);
	uint32		levels = 0;

	for (int l = 0; l <= hdr->level; l++)
	{
		HnswPtr    *slots = hnsw_list_slots(hdr, vs->shape.m, l);
		int			n = hnsw_checked_count(vs->index, &vs->shape, hdr, l, blkno, pos);

		for (int i = 0; i < n; i++)
		{
			int			d = dead_index(vs, hnsw_slot_pos(vs->index, &vs->nblocks,
														 &slots[i], blkno));

			if (d >= 0)
			{
				vs->named[d] = true;
				levels |= 1 << l;
			}
		}
	}
	return levels;
}

/* Repair walk: note the live elements whose lists name dead ones. */
static HnswWalkAction
find_repairs(void *arg, Page page, uint64 pos, HnswElementHeader *hdr)
{
	VacuumState *vs = arg;
	uint32		levels;

	if (hdr->ntids == 0)
		return HNSW_WALK_NEXT;
	if (!make_room((void **) &vs->repair, (void **) &vs->repair_levels, sizeof(uint32),
				   vs->nrepair, &vs->repair_alloc, vs->repair_cap))
		return HNSW_WALK_STOP;
	levels = levels_naming_dead(vs, pos, hdr);
	if (levels)
	{
		vs->repair[vs->nrepair] = pos;
		vs->repair_levels[vs->nrepair++] = levels;
	}
	return HNSW_WALK_NEXT;
}

/*
 * Confirm walk: mark the dead elements a live list still names; count the
 * level-0 links of the lists as the repairs left them.
 */
static HnswWalkAction
find_named(void *arg, Page page, uint64 pos, HnswElementHeader *hdr)
{
	if (hdr->ntids > 0)
	{
		levels_naming_dead(arg, pos, hdr);
		count_links(arg, pos, hdr);
	}
	return HNSW_WALK_NEXT;
}

/*
 * Give element `pos` a new list at `level` without its dead neighbours;
 * false when concurrent inserts kept the list from being written.
 */
static bool
repair_list(VacuumState *vs, HnswDiskGraph *dg, uint64 pos, int level,
			char *vec, uint64 *nbuf, uint64 *nbuf2)
{
	int			n = dg->g.neighbours(&dg->g, pos, level, nbuf);
	int			cap = HNSW_CAP(vs->shape.m, 0) * HNSW_CAP(vs->shape.m, 0);
	HnswCand   *add = palloc(sizeof(HnswCand) * cap);
	int			nadd = 0;
	bool		named;
	HnswVisited seen;

	hnsw_visited_init(&seen, &dg->g);
	hnsw_visited_test_and_set(&seen, pos);
	for (int i = 0; i < n; i++)
		hnsw_visited_test_and_set(&seen, nbuf[i]);
	for (int i = 0; i < n; i++)
	{
		bool		live;
		int			n2;

		dg->g.distance(&dg->g, nbuf[i], vec, &live);
		if (live)
			continue;
		n2 = dg->g.neighbours(&dg->g, nbuf[i], level, nbuf2);
		for (int j = 0; j < n2 && nadd < cap; j++)
		{
			double		d;

			if (hnsw_visited_test_and_set(&seen, nbuf2[j]))
				continue;
			d = dg->g.distance(&dg->g, nbuf2[j], vec, &live);
			if (live)
				add[nadd++] = (HnswCand) {nbuf2[j], d};
		}
	}
	return hnsw_disk_update_list(dg, pos, level, add, nadd, HNSW_LIST_REPAIR, &named, NULL, NULL);
}

/* Repair the lists noted by one repair walk. */
static void
repair_noted(VacuumState *vs, HnswDiskGraph *dg, MemoryContext ctx)
{
	char	   *vec = palloc(vs->shape.elem_size);
	uint64	   *nbuf = palloc(sizeof(uint64) * HNSW_CAP(vs->shape.m, 0));
	uint64	   *nbuf2 = palloc(sizeof(uint64) * HNSW_CAP(vs->shape.m, 0));

	for (int i = 0; i < vs->nrepair; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(ctx);
		bool		done = true;

		vindex_vacuum_delay_point();
		dg->g.vector(&dg->g, vs->repair[i], vec);
		for (int l = 0; l <= HNSW_MAX_LEVEL; l++)
			if (vs->repair_levels[i] & (1 << l))
				done &= repair_list(vs, dg, vs->repair[i], l, vec, nbuf, nbuf2);
		vs->repaired += done;
		MemoryContextSwitchTo(old);
		MemoryContextReset(ctx);
	}
	pfree(vec);
	pfree(nbuf);
	pfree(nbuf2);
}

/* Mark the dead elements dead[from..to) of block blkno free, but `keep`. */
static void
free_on_page(VacuumState *vs, BlockNumber blkno, int from, int to, uint64 keep)
{
	Buffer		buf = ReadBuffer(vs->index, blkno);
	GenericXLogState *state;
	Page		page;
	Size		largest;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(vs->index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	for (int i = from; i < to; i++)
	{
		uint32		off = HNSW_POS_OFFSET(vs->dead[i]);
		HnswElementHeader *hdr = hnsw_page_element(vs->index, &vs->shape, page, blkno, off);
		char	   *lists = (char *) hnsw_list_count(hdr, vs->shape.m, 0);

		if (vs->named[i] || vs->dead[i] == keep)
			continue;
		/* only VACUUM makes elements dead, and only free slots are reused */
		if (hdr->ntids != 0 || (hdr->flags & HNSW_ELEMENT_FREE))
			elog(ERROR, "hnsw element at (%u,%u) of \"%s\" is no longer dead",
				 blkno, off, RelationGetRelationName(vs->index));
		hdr->flags |= HNSW_ELEMENT_FREE;
		memset(lists, 0, hnsw_prefix_size(vs->shape.m, hnsw_slot_level(hdr)) -
			   hnsw_list_offset(vs->shape.m, 0));
		vs->freed++;
		vs->pending--;
	}
	hnsw_page_free_slots(vs->index, &vs->shape, page, blkno, 0, &largest);
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
	RecordPageWithFreeSpace(vs->index, blkno, largest);
}

/* Free the round's dead elements no live list names, page by page. */
static void
free_unnamed(VacuumState *vs)
{
	HnswShape	shape;
	uint64		entry;

	hnsw_read_meta(vs->index, &shape, &entry, NULL, NULL);
	for (int i = 0; i < vs->ndead;)
	{
		BlockNumber blkno = HNSW_POS_BLOCK(vs->dead[i]);
		bool		any = false;
		int			j;

		for (j = i; j < vs->ndead && HNSW_POS_BLOCK(vs->dead[j]) == blkno; j++)
			any |= !vs->named[j] && vs->dead[j] != entry;
		if (any)
			free_on_page(vs, blkno, i, j, entry);
		i = j;
	}
}

/* Collection walk of a later round: the next dead elements not yet freed. */
static HnswWalkAction
next_dead(void *arg, Page page, uint64 pos, HnswElementHeader *hdr)
{
	VacuumState *vs = arg;

	if (hdr->ntids > 0 || (hdr->flags & HNSW_ELEMENT_FREE))
		return HNSW_WALK_NEXT;
	return collect_dead(vs, pos) ? HNSW_WALK_NEXT : HNSW_WALK_STOP;
}

/* Repair, confirm and free, round after round, until no dead are left. */
static void
handle_dead(VacuumState *vs)
{
	HnswDiskGraph dg;
	MemoryContext ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw repair",
											  ALLOCSET_DEFAULT_SIZES);
	HnswShape	shape;
	uint64		tail;

	hnsw_disk_graph_init(&dg, vs->index, &vs->shape);
	while (vs->ndead > 0)
	{
		vs->rounds++;
		/* elements appended later cannot name the dead (see hnsw.h) */
		hnsw_read_meta(vs->index, &shape, NULL, NULL, &tail);
		for (uint64 from = 0; from < tail;)
		{
			vs->nrepair = 0;
			from = hnsw_walk(vs->index, &vs->shape, from, tail, false, find_repairs, vs);
			repair_noted(vs, &dg, ctx);
		}
		memset(vs->named, 0, sizeof(bool) * vs->ndead);
		reset_links(vs);
		hnsw_walk(vs->index, &vs->shape, 0, tail, false, find_named, vs);
		/* before any is freed and reused ("Filter directory" in hnsw.h) */
		hnsw_filterdir_remove(vs->index, vs->dead, vs->ndead);
		free_unnamed(vs);

		vs->ndead = 0;
		if (vs->resume != HNSW_INVALID_POS)
		{
			uint64		from = vs->resume;

			vs->resume = HNSW_INVALID_POS;
			hnsw_walk(vs->index, &vs->shape, from, vs->tail, false, next_dead, vs);
		}
	}
	MemoryContextDelete(ctx);
}

/*
 * Give live element x an in-link from one of the live elements `nbrs`
 * (`n`, by ascending distance to x), nearest first: appended where there
 * is room, else in the place of the member, farthest from that element,
 * that another list names too (as the build does for its orphans,
 * hnsw_build.c).  Returns whether it was linked.  x and `nbrs` are live:
 * only VACUUM, which holds HNSW_VACUUM_LOCK, makes elements dead, so no
 * list comes to name a free slot ("Space reuse" in hnsw.h).
 */
static bool
link_from(VacuumState *vs, HnswDiskGraph *dg, uint64 x, const HnswCand *nbrs, int n,
		  char *nvec)
{
	HnswGraph  *g = &dg->g;
	uint64	   *members = palloc(sizeof(uint64) * HNSW_CAP(vs->shape.m, 0));
	bool		named = false;

	for (int i = 0; i < n && !named; i++)
	{
		HnswCand	me = {x, nbrs[i].dist};

		hnsw_disk_update_list(dg, nbrs[i].id, 0, &me, 1, HNSW_LIST_APPEND, &named, NULL, NULL);
	}
	for (int i = 0; i < n && !named; i++)
	{
		int			nm = g->neighbours(g, nbrs[i].id, 0, members);
		HnswCand	swap[2] = {{x, nbrs[i].dist}, {HNSW_INVALID_POS, -1}};

		g->vector(g, nbrs[i].id, nvec);
		for (int j = 0; j < nm; j++)
		{
			bool		live;
			double		d;

			if (members[j] >= vs->links_end || vs->links[members[j] / 4] < 2)
				continue;
			d = g->distance(g, members[j], nvec, &live);
			if (d > swap[1].dist)
				swap[1] = (HnswCand) {members[j], d};
		}
		if (swap[1].id == HNSW_INVALID_POS)
			continue;
		hnsw_disk_update_list(dg, nbrs[i].id, 0, swap, 2, HNSW_LIST_SWAP, &named, NULL, NULL);
		if (named)
			vs->links[swap[1].id / 4]--;
	}
	if (named && x < vs->links_end)
		vs->links[x / 4]++;
	pfree(members);
	return named;
}

/*
 * Link live element x, which no live level-0 list names, from one of its
 * own live level-0 neighbours (link_from).
 */
static bool
adopt_orphan(VacuumState *vs, HnswDiskGraph *dg, uint64 x, char *vec, char *nvec)
{
	HnswGraph  *g = &dg->g;
	int			cap = HNSW_CAP(vs->shape.m, 0);
	uint64	   *ids = palloc(sizeof(uint64) * cap);
	HnswCand   *nbrs = palloc(sizeof(HnswCand) * cap);
	int			n = g->neighbours(g, x, 0, ids);
	int			nlive = 0;

	g->vector(g, x, vec);
	for (int i = 0; i < n; i++)
	{
		bool		live;
		double		d = g->distance(g, ids[i], vec, &live);

		if (live && ids[i] != x)
			nbrs[nlive++] = (HnswCand) {ids[i], d};
	}
	qsort(nbrs, nlive, sizeof(HnswCand), hnsw_cand_cmp);
	return link_from(vs, dg, x, nbrs, nlive, nvec);
}

/*
 * Link every live element that no live level-0 list names, but the entry
 * point, from one of its neighbours (adopt_orphan), using the in-links the
 * last walk over all lists counted (pass 1, or the last confirm walk when
 * there were dead elements to repair).  The graph loses such links when
 * the heuristic prunes a list on insert (Algorithm 4 keeps the neighbours
 * that are nearer to the list's owner than to each other, so a member
 * that another member covers is dropped even when no other list names
 * it) and when VACUUM repairs lists around dead elements; no search
 * reaches such an element.  Elements appended while VACUUM ran are left
 * to the next one.  Not part of the paper's algorithm.
 */
static void
adopt_orphans(VacuumState *vs)
{
	HnswDiskGraph dg;
	uint64		entry;
	char	   *vec;
	char	   *nvec;
	MemoryContext ctx,
				old;

	if (vs->links == NULL)
		return;
	hnsw_read_meta(vs->index, &vs->shape, &entry, NULL, NULL);
	ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw adopt",
								ALLOCSET_DEFAULT_SIZES);
	hnsw_disk_graph_init(&dg, vs->index, &vs->shape);
	vec = palloc(vs->shape.elem_size);
	nvec = palloc(vs->shape.elem_size);
	for (uint64 p = 0; p < vs->links_end; p += 4)
	{
		if (!(vs->live[p / 32] & (1 << ((p / 4) % 8))) || vs->links[p / 4] > 0 ||
			p == entry)
			continue;
		vindex_vacuum_delay_point();
		old = MemoryContextSwitchTo(ctx);
		if (adopt_orphan(vs, &dg, p, vec, nvec))
			vs->adopted++;
		else
			vs->unlinked_left++;
		MemoryContextSwitchTo(old);
		MemoryContextReset(ctx);
	}
	MemoryContextDelete(ctx);
	pfree(vec);
	pfree(nvec);
}

/*
 * Breadth-first walk over the level-0 lists from element `from`, below
 * links_end: sets the bit (one per 4 stream bytes) in `reached` of every
 * element it comes to, passing through dead elements as searches do.
 * `*queue` (`*alloc` entries) grows as needed up to `cap` entries; false
 * when it would have to grow beyond (the walk is then incomplete).
 */
static bool
reach_from(VacuumState *vs, HnswDiskGraph *dg, uint64 from, uint8 *reached,
		   uint64 **queue, int64 *alloc, int64 cap)
{
	uint64	   *nbuf;
	int64		head = 0,
				tail = 0;
	bool		ok = true;

	if (from >= vs->links_end || (reached[from / 32] & (1 << ((from / 4) % 8))))
		return true;
	nbuf = palloc(sizeof(uint64) * HNSW_CAP(vs->shape.m, 0));
	reached[from / 32] |= 1 << ((from / 4) % 8);
	(*queue)[tail++] = from;
	while (head < tail && ok)
	{
		int			n = dg->g.neighbours(&dg->g, (*queue)[head++], 0, nbuf);

		CHECK_FOR_INTERRUPTS();
		for (int i = 0; i < n; i++)
		{
			uint64		t = nbuf[i];

			if (t >= vs->links_end || (reached[t / 32] & (1 << ((t / 4) % 8))))
				continue;
			if (tail == *alloc)
			{
				if (*alloc >= cap)
				{
					ok = false;
					break;
				}
				*alloc = Min(cap, *alloc * 2);
				*queue = repalloc_huge(*queue, sizeof(uint64) * *alloc);
			}
			reached[t / 32] |= 1 << ((t / 4) % 8);
			(*queue)[tail++] = t;
		}
	}
	pfree(nbuf);
	return ok;
}

/*
 * Link every live element that no search reaches.  adopt_orphans gives
 * each live element an in-link, but a group of elements whose lists name
 * only each other (the heuristic's pruning on insert and VACUUM's repairs
 * around dead elements cut such groups off, and a fresh build has a few)
 * is still reached by no search: its rows are in the index, yet no scan
 * returns them.  A level-0 walk from the entry point (reach_from) marks
 * what searches reach; for each live element it missed, in stream order,
 * a search for the element's own vector from the entry point (as an
 * insert's, ef_construction) gives elements a search does reach, and the
 * element is linked from the nearest of them (link_from); the walk then
 * goes on from it, reaching the rest of its group, so a group costs one
 * link.  The walk's marks and queue (a bit per 4 stream bytes, 8 bytes
 * per element reached) must fit in the memory left to VACUUM, else the
 * step stops.  Elements appended or changed while it runs are left to the
 * next VACUUM.  Not part of the paper's algorithm; the repair of lists
 * after deletions is known to leave such unreachable elements (Xiao et
 * al., "Enhancing HNSW Index for Real-Time Updates: Addressing
 * Unreachable Points and Performance Degradation", arXiv:2407.07871, 2024).
 */
static void
link_unreachable(VacuumState *vs, Size budget)
{
	HnswDiskGraph dg;
	HnswGraph  *g = &dg.g;
	uint64		entry;
	int			entry_level;
	Size		bits = vs->links_end / 32 + 1;
	uint8	   *reached;
	uint64	   *queue;
	int64		alloc = 1024,
				cap;
	char	   *vec;
	char	   *nvec;
	MemoryContext ctx,
				old;
	bool		ok;

	if (vs->links == NULL)
		return;
	hnsw_read_meta(vs->index, &vs->shape, &entry, &entry_level, NULL);
	if (entry == HNSW_INVALID_POS || budget < bits + sizeof(uint64) * alloc)
		return;
	cap = (budget - bits) / sizeof(uint64);
	reached = palloc_extended(bits, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	queue = palloc(sizeof(uint64) * alloc);
	ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw reach",
								ALLOCSET_DEFAULT_SIZES);
	hnsw_disk_graph_init(&dg, vs->index, &vs->shape);
	hnsw_disk_check_pos(&dg, entry);
	vec = palloc(vs->shape.elem_size);
	nvec = palloc(vs->shape.elem_size);
	ok = reach_from(vs, &dg, entry, reached, &queue, &alloc, cap);
	for (uint64 p = 0; ok && p < vs->links_end; p += 4)
	{
		HnswSearch	s;
		HnswCand	ep;
		HnswCand   *w;
		int			nw,
					n = 0;
		bool		found = false;
		int64		linked_before = vs->relinked;

		if (!(vs->live[p / 32] & (1 << ((p / 4) % 8))) ||
			(reached[p / 32] & (1 << ((p / 4) % 8))))
			continue;
		vindex_vacuum_delay_point();
		old = MemoryContextSwitchTo(ctx);
		g->vector(g, p, vec);
		ep = hnsw_greedy_descend(g, vec, entry, entry_level, 0);
		hnsw_search_init(&s, g, vec, true, false);
		hnsw_search_seed(&s, &ep, 1);
		hnsw_search_layer(&s, 0, vs->shape.ef_construction);
		w = hnsw_search_take(&s, &nw);
		/* drop p itself: a search that finds it means it is reachable */
		for (int i = 0; i < nw; i++)
		{
			if (w[i].id == p)
				found = true;
			else
				w[n++] = w[i];
		}
		if (!found)
		{
			if (link_from(vs, &dg, p, w, n, nvec))
				vs->relinked++;
			else
				vs->unreachable_left++;
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(ctx);
		/* what p leads to is reachable now (or was: found) */
		if (found || vs->relinked > linked_before)
			ok = reach_from(vs, &dg, p, reached, &queue, &alloc, cap);
	}
	MemoryContextDelete(ctx);
	pfree(vec);
	pfree(nvec);
	pfree(reached);
	pfree(queue);
}

/*
 * The memory VACUUM may use (maintenance_work_mem, or autovacuum_work_mem
 * in an autovacuum worker when set), split between the dead elements of a
 * round and the lists to repair; the arrays, allocated small.  The
 * in-link counts (a byte per 4 stream bytes, a bit more for the live
 * marks) are allocated when they fit in that memory too, else VACUUM links
 * no orphans (adopt_orphans); what they leave of it is the memory of
 * link_unreachable.
 */
static void
size_arrays(VacuumState *vs)
{
	int			kb = (IsAutoVacuumWorkerProcess() && autovacuum_work_mem != -1) ?
		autovacuum_work_mem : maintenance_work_mem;
	Size		half = (Size) kb * 1024 / 2;

	vs->dead_cap = (int) Max(Min(half / (sizeof(uint64) + sizeof(bool)), INT_MAX / 2), 64);
	vs->repair_cap = (int) Max(Min(half / (sizeof(uint64) + sizeof(uint32)), INT_MAX / 2), 64);
	/* the arrays start small and grow to their caps only as needed */
	vs->dead_alloc = Min(vs->dead_cap, 1024);
	vs->repair_alloc = Min(vs->repair_cap, 1024);
	vs->dead = palloc(sizeof(uint64) * vs->dead_alloc);
	vs->named = palloc(sizeof(bool) * vs->dead_alloc);
	vs->repair = palloc(sizeof(uint64) * vs->repair_alloc);
	vs->repair_levels = palloc(sizeof(uint32) * vs->repair_alloc);
	vs->links_end = vs->tail;
	if (vs->tail / 4 + vs->tail / 32 + 1 <= (Size) kb * 1024)
	{
		vs->links = palloc_extended(vs->tail / 4 + 1, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		vs->live = palloc_extended(vs->tail / 32 + 1, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		vs->reach_mem = (Size) kb * 1024 - (vs->tail / 4 + vs->tail / 32 + 1);
	}
}

/*
 * The whole VACUUM of the index: pass 1 with `callback` (NULL removes
 * nothing), then the dead elements.  The VACUUM lock keeps
 * vsim.index_check() out meanwhile (see hnsw_check.c).
 */
static void
vacuum_index(VacuumState *vs, bool exclusive)
{
	Relation	index = vs->index;

	LockPage(index, HNSW_VACUUM_LOCK, ExclusiveLock);
	hnsw_read_meta(index, &vs->shape, &vs->entry, NULL, &vs->tail);
	vs->nblocks = 1;
	vs->best = HNSW_INVALID_POS;
	vs->best_level = -1;
	vs->resume = HNSW_INVALID_POS;
	vs->fsm_block = InvalidBlockNumber;
	size_arrays(vs);

	vs->stats->num_index_tuples = 0;
	hnsw_walk(index, &vs->shape, 0, vs->tail, exclusive, remove_tids, vs);
	vs->dead_found = vs->pending;
	if (vs->pending > 0 || vs->entry_dead)
		wait_and_replace_entry(vs);
	handle_dead(vs);
	adopt_orphans(vs);
	link_unreachable(vs, vs->reach_mem);
	UnlockPage(index, HNSW_VACUUM_LOCK, ExclusiveLock);
	vs->stats->num_pages = RelationGetNumberOfBlocks(index);
}

void
hnsw_link_all(Relation index)
{
	VacuumState vs;
	IndexBulkDeleteResult stats = {0};

	memset(&vs, 0, sizeof(vs));
	vs.index = index;
	vs.stats = &stats;
	vacuum_index(&vs, false);
}

IndexBulkDeleteResult *
hnsw_bulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
				IndexBulkDeleteCallback callback, void *callback_state)
{
	VacuumState vs;

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));
	memset(&vs, 0, sizeof(vs));
	vs.index = info->index;
	vs.stats = stats;
	vs.callback = callback;
	vs.callback_state = callback_state;
	/* rows appended after the tail are newer than anything VACUUM removes */
	vacuum_index(&vs, true);
	ereport(info->message_level,
			(errmsg("index \"%s\": removed %.0f row versions; %lld elements newly dead, %lld dead elements handled in %d rounds: the neighbour lists of %lld elements repaired, %lld slots freed, %lld dead elements left; %lld elements without level-0 in-links linked, %lld left; %lld unreachable elements linked, %lld left",
					RelationGetRelationName(info->index), stats->tuples_removed,
					(long long) vs.newly_dead, (long long) vs.dead_found,
					vs.rounds, (long long) vs.repaired, (long long) vs.freed,
					(long long) vs.pending, (long long) vs.adopted,
					(long long) vs.unlinked_left, (long long) vs.relinked,
					(long long) vs.unreachable_left)));
	return stats;
}

IndexBulkDeleteResult *
hnsw_vacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	if (info->analyze_only)
		return stats;
	if (stats == NULL)
	{
		VacuumState vs;

		/* no bulk delete ran: count the rows, and finish what one left */
		stats = palloc0(sizeof(IndexBulkDeleteResult));
		memset(&vs, 0, sizeof(vs));
		vs.index = info->index;
		vs.stats = stats;
		vacuum_index(&vs, false);
		if (vs.adopted + vs.unlinked_left + vs.relinked + vs.unreachable_left > 0)
			ereport(info->message_level,
					(errmsg("index \"%s\": %lld elements without level-0 in-links linked, %lld left; %lld unreachable elements linked, %lld left",
							RelationGetRelationName(info->index),
							(long long) vs.adopted, (long long) vs.unlinked_left,
							(long long) vs.relinked, (long long) vs.unreachable_left)));
	}
	IndexFreeSpaceMapVacuum(info->index);
	stats->num_pages = RelationGetNumberOfBlocks(info->index);
	stats->estimated_count = false;
	ereport(info->message_level,
			(errmsg("index \"%s\" now holds %.0f row versions in %u pages",
					RelationGetRelationName(info->index), stats->num_index_tuples,
					stats->num_pages)));
	return stats;
}
