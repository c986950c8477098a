/*-------------------------------------------------------------------------
 *
 * hnsw_vacuum.c
 *	  VACUUM of HNSW indexes (ambulkdelete, amvacuumcleanup).
 *
 * Pass 1 walks the element stream and removes the heap TIDs VACUUM reports
 * dead; an element left without TIDs is dead.  If the entry point died, the
 * live element of highest level replaces it.  Pass 2 repairs the graph:
 * every live element that lists a dead neighbour gets a new list chosen by
 * the heuristic from its live neighbours plus the live neighbours of the
 * dead ones (the dead element's own links stand in for it, the usual repair
 * for deletions in HNSW graphs).  Dead elements keep their lists, so
 * searches that still reach them pass through; their space is not reused.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/vacuum.h"
#include "hnsw/hnsw.h"
#include "index/index.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

typedef struct VacuumState
{
	Relation	index;
	BlockNumber nblocks;		/* for hnsw_slot_pos */
	IndexBulkDeleteResult *stats;
	IndexBulkDeleteCallback callback;
	void	   *callback_state;
	HnswShape	shape;
	HnswVisited dead;			/* stream positions of dead elements */
	int64		ndead;
	uint64		best;			/* live element of highest level */
	int			best_level;
	/* pass 2: elements to repair, and a bit per level that needs it */
	uint64	   *repair;
	uint32	   *repair_levels;
	int			nrepair;
	int			repair_cap;
} VacuumState;

/* Pass 1: drop dead TIDs of one element. */
static HnswWalkAction
remove_tids(void *arg, uint64 pos, HnswElementHeader *hdr)
{
	VacuumState *vs = arg;
	int			kept = 0;
	int			old = hdr->ntids;

	for (int i = 0; i < old; i++)
	{
		if (vs->callback(&hdr->tids[i], vs->callback_state))
			vs->stats->tuples_removed++;
		else
			hdr->tids[kept++] = hdr->tids[i];
	}
	hdr->ntids = kept;
	vs->stats->num_index_tuples += kept;
	if (kept == 0)
	{
		hnsw_visited_test_and_set(&vs->dead, pos);
		vs->ndead++;
		memset(hdr->tids, 0, sizeof(hdr->tids));
	}
	else if ((int) hdr->level > vs->best_level)
	{
		vs->best = pos;
		vs->best_level = hdr->level;
	}
	return kept != old ? HNSW_WALK_CHANGED : HNSW_WALK_NEXT;
}

/* Pass 2, under the page's share lock: note lists that name dead elements. */
static HnswWalkAction
find_repairs(void *arg, uint64 pos, HnswElementHeader *hdr)
{
	VacuumState *vs = arg;
	uint32		levels = 0;
	BlockNumber blkno = HNSW_POS_BLOCK(pos);

	if (hdr->ntids == 0)
		return HNSW_WALK_NEXT;
	for (int l = 0; l <= hdr->level; l++)
	{
		HnswPtr    *slots = hnsw_list_slots(hdr, vs->shape.m, l);
		int			n = hnsw_checked_count(vs->index, &vs->shape, hdr, l, blkno, pos);

		for (int i = 0; i < n; i++)
			if (hnsw_visited_contains(&vs->dead,
									  hnsw_slot_pos(vs->index, &vs->nblocks, &slots[i], blkno)))
			{
				levels |= 1 << l;
				break;
			}
	}
	if (levels)
	{
		if (vs->nrepair == vs->repair_cap)
		{
			vs->repair_cap *= 2;
			vs->repair = repalloc_huge(vs->repair, sizeof(uint64) * vs->repair_cap);
			vs->repair_levels = repalloc_huge(vs->repair_levels, sizeof(uint32) * vs->repair_cap);
		}
		vs->repair[vs->nrepair] = pos;
		vs->repair_levels[vs->nrepair++] = levels;
	}
	return HNSW_WALK_NEXT;
}

/* Give element `pos` a new list at `level` without its dead neighbours. */
static void
repair_list(VacuumState *vs, HnswDiskGraph *dg, uint64 pos, int level,
			float *vec, uint64 *nbuf, uint64 *nbuf2)
{
	int			n = dg->g.neighbours(&dg->g, pos, level, nbuf);
	int			cap = HNSW_CAP(vs->shape.m, 0) * HNSW_CAP(vs->shape.m, 0);
	HnswCand   *add = palloc(sizeof(HnswCand) * cap);
	int			nadd = 0;
	HnswVisited seen;

	hnsw_visited_init(&seen, &dg->g);
	hnsw_visited_test_and_set(&seen, pos);
	for (int i = 0; i < n; i++)
		hnsw_visited_test_and_set(&seen, nbuf[i]);
	for (int i = 0; i < n; i++)
	{
		int			n2;

		if (!hnsw_visited_contains(&vs->dead, nbuf[i]))
			continue;
		n2 = dg->g.neighbours(&dg->g, nbuf[i], level, nbuf2);
		for (int j = 0; j < n2 && nadd < cap; j++)
		{
			bool		live;
			double		d;

			if (hnsw_visited_test_and_set(&seen, nbuf2[j]))
				continue;
			d = dg->g.distance(&dg->g, nbuf2[j], vec, &live);
			if (live)
				add[nadd++] = (HnswCand) {nbuf2[j], d};
		}
	}
	hnsw_disk_update_list(dg, pos, level, add, nadd, true);
}

/* Pass 2: repair every list found to name a dead element. */
static void
repair_graph(Relation index, VacuumState *vs, uint64 tail)
{
	HnswDiskGraph dg;
	float	   *vec = palloc(sizeof(float) * vs->shape.dims);
	uint64	   *nbuf = palloc(sizeof(uint64) * HNSW_CAP(vs->shape.m, 0));
	uint64	   *nbuf2 = palloc(sizeof(uint64) * HNSW_CAP(vs->shape.m, 0));
	MemoryContext ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw repair",
											  ALLOCSET_DEFAULT_SIZES);

	hnsw_disk_graph_init(&dg, index, &vs->shape);
	vs->repair_cap = 1024;
	vs->repair = palloc(sizeof(uint64) * vs->repair_cap);
	vs->repair_levels = palloc(sizeof(uint32) * vs->repair_cap);
	vs->nrepair = 0;
	hnsw_walk(index, &vs->shape, 0, tail, false, find_repairs, vs);

	for (int i = 0; i < vs->nrepair; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(ctx);

		vindex_vacuum_delay_point();
		dg.g.vector(&dg.g, vs->repair[i], vec);
		for (int l = 0; l <= HNSW_MAX_LEVEL; l++)
			if (vs->repair_levels[i] & (1 << l))
				repair_list(vs, &dg, vs->repair[i], l, vec, nbuf, nbuf2);
		MemoryContextSwitchTo(old);
		MemoryContextReset(ctx);
	}
	MemoryContextDelete(ctx);
}

/* Replace a dead entry point by the live element of highest level. */
static void
replace_entry(Relation index, VacuumState *vs)
{
	uint64		entry;
	int			entry_level;
	HnswShape	shape;

	LockPage(index, HNSW_UPDATE_LOCK, ExclusiveLock);
	hnsw_read_meta(index, &shape, &entry, &entry_level, NULL);
	if (entry != HNSW_INVALID_POS && hnsw_visited_contains(&vs->dead, entry))
		hnsw_set_entry(index, vs->best, vs->best_level, false);
	UnlockPage(index, HNSW_UPDATE_LOCK, ExclusiveLock);
}

IndexBulkDeleteResult *
hnsw_bulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
				IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = info->index;
	VacuumState vs;
	uint64		tail;
	HnswGraph	sparse = {0};

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));
	memset(&vs, 0, sizeof(vs));
	vs.index = index;
	vs.nblocks = 1;
	vs.stats = stats;
	vs.callback = callback;
	vs.callback_state = callback_state;
	vs.best = HNSW_INVALID_POS;
	vs.best_level = -1;
	hnsw_read_meta(index, &vs.shape, NULL, NULL, &tail);
	sparse.shape = vs.shape;
	hnsw_visited_init(&vs.dead, &sparse);

	/* Rows appended after `tail` are newer than anything VACUUM removes. */
	stats->num_index_tuples = 0;
	hnsw_walk(index, &vs.shape, 0, tail, true, remove_tids, &vs);
	if (vs.ndead > 0)
	{
		replace_entry(index, &vs);
		repair_graph(index, &vs, tail);
	}
	stats->num_pages = RelationGetNumberOfBlocks(index);
	ereport(info->message_level,
			(errmsg("index \"%s\": removed %.0f row versions; %lld elements are dead, the neighbour lists of %d elements were repaired",
					RelationGetRelationName(index), stats->tuples_removed,
					(long long) vs.ndead, vs.nrepair)));
	return stats;
}

/* Count live heap TIDs of the elements, for a VACUUM that removed none. */
static HnswWalkAction
count_tids(void *arg, uint64 pos, HnswElementHeader *hdr)
{
	((IndexBulkDeleteResult *) arg)->num_index_tuples += hdr->ntids;
	return HNSW_WALK_NEXT;
}

IndexBulkDeleteResult *
hnsw_vacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	if (info->analyze_only)
		return stats;
	if (stats == NULL)
	{
		HnswShape	shape;
		uint64		tail;

		stats = palloc0(sizeof(IndexBulkDeleteResult));
		hnsw_read_meta(info->index, &shape, NULL, NULL, &tail);
		hnsw_walk(info->index, &shape, 0, tail, false, count_tids, stats);
	}
	stats->num_pages = RelationGetNumberOfBlocks(info->index);
	stats->estimated_count = false;
	ereport(info->message_level,
			(errmsg("index \"%s\" now holds %.0f row versions in %u pages",
					RelationGetRelationName(info->index), stats->num_index_tuples,
					stats->num_pages)));
	return stats;
}
