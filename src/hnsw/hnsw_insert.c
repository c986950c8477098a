/*-------------------------------------------------------------------------
 *
 * hnsw_insert.c
 *	  Inserting one row concurrently (aminsert, and builds that outgrew
 *	  memory), and updating an element's neighbour list (used by inserts
 *	  and VACUUM).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "hnsw/hnsw.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* ---------------------------------------------------------------------
 * Neighbour list updates
 * ---------------------------------------------------------------------
 */
/*
 * A neighbour list as read under a share lock, to detect concurrent
 * change: its bytes, and the positions they name, checked.
 */
typedef struct ListSnapshot
{
	uint16		count;
	HnswPtr		slots[2 * HNSW_MAX_M];
	uint64		pos[2 * HNSW_MAX_M];
} ListSnapshot;

static bool
read_list(HnswDiskGraph *dg, uint64 pos, int level, ListSnapshot *snap)
{
	const HnswShape *shape = &dg->g.shape;
	BlockNumber blkno = HNSW_POS_BLOCK(pos);
	HnswElementHeader *hdr;
	Buffer		buf = hnsw_lock_element(dg->index, shape, pos, BUFFER_LOCK_SHARE, &hdr);
	bool		ok = hdr->level >= level;

	if (ok)
	{
		hnsw_checked_count(dg->index, shape, hdr, level, blkno, pos);
		memcpy(snap, hnsw_list_count(hdr, shape->m, level), HNSW_LIST_BYTES(shape->m, level));
		for (int i = 0; i < snap->count; i++)
			snap->pos[i] = hnsw_slot_pos(dg->index, &dg->nblocks, &snap->slots[i], blkno);
	}
	UnlockReleaseBuffer(buf);
	return ok;
}

/*
 * The new list for `pos` at `level`: its current live neighbours plus `add`,
 * pruned by the heuristic to the capacity (HNSW_LIST_MERGE,
 * HNSW_LIST_REPAIR), or, for HNSW_LIST_APPEND, plus `add` only when all of
 * it fits.  Returns the count, or -1 when the list would not change;
 * *named is set to whether the list (new, or unchanged) names an element
 * of `add`; `dropped` (unless NULL) receives the live members the new
 * list leaves out, *ndropped their count.
 */
static int
merge_list(HnswDiskGraph *dg, uint64 pos, int level, const ListSnapshot *snap,
		   const HnswCand *add, int nadd, HnswListMode mode, uint64 *out, bool *named,
		   uint64 *dropped, int *ndropped)
{
	HnswGraph  *g = &dg->g;
	int			cap = HNSW_CAP(g->shape.m, level);
	int			count = snap->count;
	bool		replace = mode == HNSW_LIST_REPAIR;
	HnswCand   *cands;
	HnswCand   *kept;
	char	   *base;
	int			n = 0,
				nkept,
				nold;
	uint64		old[2 * HNSW_MAX_M];
	bool		changed = replace;

	if (mode == HNSW_LIST_SWAP)
	{
		int			at = -1;

		for (int i = 0; i < count; i++)
		{
			*named |= snap->pos[i] == add[0].id;
			if (snap->pos[i] == add[1].id)
				at = i;
		}
		if (*named || at < 0)
			return -1;
		for (int i = 0; i < count; i++)
			out[i] = i == at ? add[0].id : snap->pos[i];
		*named = true;
		return count;
	}
	/* Common case of an insert: room left, no distances needed. */
	if (!replace)
	{
		int			fresh = 0;

		for (int j = 0; j < nadd; j++)
		{
			bool		dup = false;

			for (int i = 0; i < count; i++)
				dup |= snap->pos[i] == add[j].id;
			*named |= dup;
			fresh += !dup;
		}
		if (fresh == 0)
			return -1;
		if (count + fresh <= cap)
		{
			for (int i = 0; i < count; i++)
				out[i] = snap->pos[i];
			n = count;
			for (int j = 0; j < nadd; j++)
			{
				bool		dup = false;

				for (int i = 0; i < n; i++)
					dup |= out[i] == add[j].id;
				if (!dup)
					out[n++] = add[j].id;
			}
			*named = true;
			return n;
		}
		if (mode == HNSW_LIST_APPEND)
			return -1;
	}

	cands = palloc(sizeof(HnswCand) * (count + nadd));
	kept = palloc(sizeof(HnswCand) * cap);
	base = palloc(g->shape.elem_size);
	g->vector(g, pos, base);
	for (int i = 0; i < count; i++)
	{
		uint64		id = snap->pos[i];
		bool		live;
		double		d = g->distance(g, id, base, &live);

		if (live)
			cands[n++] = (HnswCand) {id, d};
		else
			changed = true;
	}
	nold = n;
	for (int i = 0; i < nold; i++)
		old[i] = cands[i].id;
	for (int j = 0; j < nadd; j++)
	{
		bool		dup = add[j].id == pos;

		for (int i = 0; i < n && !dup; i++)
			dup = cands[i].id == add[j].id;
		if (!dup)
			cands[n++] = add[j];
	}
	qsort(cands, n, sizeof(HnswCand), hnsw_cand_cmp);
	/* a repaired list stays as long as it was; a pruned one keeps m */
	nkept = hnsw_select_neighbours(g, base, cands, n, cap,
								   replace ? count : g->shape.m, kept);
	*named = false;
	for (int i = 0; i < nkept; i++)
	{
		out[i] = kept[i].id;
		for (int j = 0; j < nadd; j++)
			*named |= kept[i].id == add[j].id;
	}
	changed |= *named;
	for (int i = 0; dropped && changed && i < nold; i++)
	{
		bool		kept_it = false;

		for (int k = 0; k < nkept && !kept_it; k++)
			kept_it = out[k] == old[i];
		if (!kept_it)
			dropped[(*ndropped)++] = old[i];
	}
	return changed ? nkept : -1;
}

bool
hnsw_disk_update_list(HnswDiskGraph *dg, uint64 pos, int level,
					  const HnswCand *add, int nadd, HnswListMode mode, bool *named,
					  uint64 *dropped, int *ndropped)
{
	HnswShape  *shape = &dg->g.shape;
	Size		listbytes = HNSW_LIST_BYTES(shape->m, level);
	uint64		out[2 * HNSW_MAX_M];

	for (int attempt = 0; attempt < 3; attempt++)
	{
		ListSnapshot snap;
		int			n;
		HnswElementHeader *hdr;
		Buffer		buf;

		*named = false;
		if (ndropped)
			*ndropped = 0;
		if (!read_list(dg, pos, level, &snap))
			return true;
		n = merge_list(dg, pos, level, &snap, add, nadd, mode, out, named, dropped, ndropped);
		if (n < 0)
			return true;

		buf = hnsw_lock_element(dg->index, shape, pos, BUFFER_LOCK_EXCLUSIVE, &hdr);
		if (hdr->level >= level &&
			memcmp(hnsw_list_count(hdr, shape->m, level), &snap, listbytes) == 0)
		{
			GenericXLogState *state = GenericXLogStart(dg->index);
			Page		page = GenericXLogRegisterBuffer(state, buf, 0);
			HnswElementHeader *whdr =
				(HnswElementHeader *) (HNSW_PAGE_BYTES(page) + HNSW_POS_OFFSET(pos));
			HnswPtr    *slots = hnsw_list_slots(whdr, shape->m, level);

			memset(hnsw_list_count(whdr, shape->m, level), 0, listbytes);
			*hnsw_list_count(whdr, shape->m, level) = n;
			for (int i = 0; i < n; i++)
				hnsw_ptr_set(&slots[i], out[i]);
			GenericXLogFinish(state);
			UnlockReleaseBuffer(buf);
			return true;
		}
		/* changed by someone else since we read it: start over */
		UnlockReleaseBuffer(buf);
	}
	*named = false;
	if (ndropped)
		*ndropped = 0;
	return false;
}

/* ---------------------------------------------------------------------
 * Insert
 * ---------------------------------------------------------------------
 */

/*
 * Add `tid` to an element holding exactly the vector `q` (rows with equal
 * vectors share an element, up to HNSW_HEAPTIDS).  False when `pos` holds
 * another vector, is dead or is full.  The vector is compared before the
 * lock is taken, yet the slot cannot hold another element by then: this
 * insert found it live and holds the update lock, for which VACUUM waits
 * before it frees an element that died (hnsw.h, "Space reuse").
 */
static bool
add_duplicate(HnswDiskGraph *dg, uint64 pos, const char *q, ItemPointer tid)
{
	HnswElementHeader *hdr;
	Buffer		buf;
	bool		done = false;

	const char *x = dg->g.vector(&dg->g, pos, dg->scratch);

	if (hnsw_stored_size(&dg->g.shape, x) != hnsw_stored_size(&dg->g.shape, q) ||
		memcmp(x, q, hnsw_stored_size(&dg->g.shape, q)) != 0)
		return false;
	buf = hnsw_lock_element(dg->index, &dg->g.shape, pos, BUFFER_LOCK_EXCLUSIVE, &hdr);
	if (hdr->ntids > 0 && hdr->ntids < HNSW_HEAPTIDS)
	{
		GenericXLogState *state = GenericXLogStart(dg->index);
		Page		page = GenericXLogRegisterBuffer(state, buf, 0);

		hdr = (HnswElementHeader *) (HNSW_PAGE_BYTES(page) + HNSW_POS_OFFSET(pos));
		hdr->tids[hdr->ntids++] = *tid;
		GenericXLogFinish(state);
		done = true;
	}
	UnlockReleaseBuffer(buf);
	return done;
}

/*
 * Make the new element `pos` a member of a level-0 list when none of the
 * neighbours it linked back to kept it (each pruned it away with the
 * heuristic, so that no search would reach it): append it to the list of
 * the nearest of the level-0 search results `w` (`nw`, ascending
 * distance) that has room.  This is not part of the paper's algorithm.
 * Returns whether one did.
 */
static bool
adopt_new(HnswDiskGraph *dg, uint64 pos, const HnswCand *w, int nw)
{
	for (int i = 0; i < nw; i++)
	{
		HnswCand	me = {pos, w[i].dist};
		bool		named;

		hnsw_disk_update_list(dg, w[i].id, 0, &me, 1, HNSW_LIST_APPEND, &named, NULL, NULL);
		if (named)
			return true;
	}
	return false;
}

/*
 * The members `dropped` (`n`) that linking the new element `pos` (vector
 * `x`) back pruned out of a neighbour's list at `level` are appended to
 * pos's own list while it has room.  The heuristic drops a member that a
 * nearer one covers without knowing whether another list names it, and
 * one that no list names is reached by no search: of 10,000 rows of
 * random 32-d vectors inserted one by one into an index (m = 8) of as
 * many, 37 lost their last level-0 in-link so, 21 with this
 * (test/t/028_hnsw_orphans.pl; sending the ones pos has no room for to
 * the list of the member nearest to them instead did no measurably
 * better: the lists are mostly full).  VACUUM links those left
 * (hnsw_vacuum.c).  The dropped members lay near pos's neighbour, as pos
 * does, and were live when read, so the links are sound (hnsw.h, "Space
 * reuse").  Not part of the paper's algorithm.
 */
static void
hand_over(HnswDiskGraph *dg, uint64 pos, int level, const char *x,
		  const uint64 *dropped, int n)
{
	for (int i = 0; i < n; i++)
	{
		bool		live;
		bool		named;
		HnswCand	d = {dropped[i], dg->g.distance(&dg->g, dropped[i], x, &live)};

		hnsw_disk_update_list(dg, pos, level, &d, 1, HNSW_LIST_APPEND, &named, NULL, NULL);
		/* false, without writing, once the list is full */
		if (!named)
			break;
	}
}

/* Take the update lock in the mode this insert needs; returns the mode. */
static LOCKMODE
lock_for_insert(Relation index, int level, HnswShape *shape, uint64 *entry,
				int *entry_level)
{
	LOCKMODE	mode = ShareLock;

	for (;;)
	{
		LockPage(index, HNSW_UPDATE_LOCK, mode);
		hnsw_read_meta(index, shape, entry, entry_level, NULL);
		if (level <= *entry_level || mode == ExclusiveLock)
			return mode;
		UnlockPage(index, HNSW_UPDATE_LOCK, mode);
		mode = ExclusiveLock;
	}
}

void
hnsw_disk_insert(Relation index, const char *x, int dims, ItemPointer tid)
{
	HnswShape	shape;
	HnswDiskGraph dg;
	uint64		entry;
	int			entry_level;
	int			level;
	LOCKMODE	mode;
	uint64	   *nbrs[HNSW_MAX_LEVEL + 1] = {0};
	int			counts[HNSW_MAX_LEVEL + 1] = {0};
	HnswCand   *chosen[HNSW_MAX_LEVEL + 1] = {0};
	HnswCand   *w0 = NULL;		/* the level-0 search results */
	int			nw0 = 0;
	bool		linked = false;
	char	   *buf;
	Size		size;
	uint64		pos;

	hnsw_read_meta(index, &shape, NULL, NULL, NULL);
	if (dims != shape.dims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", shape.dims, dims),
				 errdetail("Index \"%s\" holds values of type %s with %d dimensions.",
						   RelationGetRelationName(index), shape.elem->name, shape.dims)));
	/* a quantized x was tested before it was encoded (hnsw_form_value) */
	if (shape.quant == VINDEX_QUANT_NONE &&
		!vindex_elem_indexable(shape.elem, shape.metric, x, dims))
		return;

	level = hnsw_random_level(shape.m, shape.max_level);
	mode = lock_for_insert(index, level, &shape, &entry, &entry_level);
	hnsw_disk_graph_init(&dg, index, &shape);
	hnsw_disk_check_pos(&dg, entry);

	if (entry != HNSW_INVALID_POS)
	{
		HnswSearch	s;
		HnswCand	ep = hnsw_greedy_descend(&dg.g, x, entry, entry_level, level);
		HnswCand   *entries = &ep;
		int			nentries = 1;

		hnsw_search_init(&s, &dg.g, x, true, false);
		for (int l = Min(level, entry_level); l >= 0; l--)
		{
			int			nw;
			HnswCand   *w;

			hnsw_search_seed(&s, entries, nentries);
			hnsw_search_layer(&s, l, shape.ef_construction);
			w = hnsw_search_take(&s, &nw);

			/* an identical live vector absorbs the row */
			for (int i = 0; l == 0 && i < Min(nw, 3); i++)
			{
				if (add_duplicate(&dg, w[i].id, x, tid))
				{
					UnlockPage(index, HNSW_UPDATE_LOCK, mode);
					return;
				}
			}

			chosen[l] = palloc(sizeof(HnswCand) * HNSW_CAP(shape.m, l));
			/* as in the in-memory build (hnsw_build.c) */
			counts[l] = hnsw_select_neighbours(&dg.g, x, w, nw, HNSW_CAP(shape.m, l),
											   shape.m, chosen[l]);
			nbrs[l] = palloc(sizeof(uint64) * Max(counts[l], 1));
			for (int i = 0; i < counts[l]; i++)
				nbrs[l][i] = chosen[l][i].id;
			if (l == 0)
			{
				w0 = w;
				nw0 = nw;
			}
			/* all dead at this level: keep descending from the old entries */
			if (nw > 0)
			{
				entries = w;
				nentries = nw;
			}
		}
	}

	size = hnsw_element_size(&shape, level, hnsw_stored_size(&shape, x));
	buf = palloc(size);
	hnsw_form_element(&shape, buf, level, tid, 1, nbrs, counts, x);
	hnsw_filterdir_prepare(index, &shape);
	pos = hnsw_store_element(index, &shape, buf, size, level);
	hnsw_filterdir_add(index, &shape, pos, x);

	/* Link back from each new neighbour (Algorithm 1, lines 11-16). */
	for (int l = Min(level, entry_level); l >= 0; l--)
	{
		for (int i = 0; i < counts[l]; i++)
		{
			HnswCand	me = {pos, chosen[l][i].dist};
			bool		named;
			uint64		dropped[2 * HNSW_MAX_M];
			int			ndropped;

			hnsw_disk_update_list(&dg, chosen[l][i].id, l, &me, 1, HNSW_LIST_MERGE, &named,
								  dropped, &ndropped);
			linked |= l == 0 && named;
			hand_over(&dg, pos, l, x, dropped, ndropped);
		}
	}
	if (!linked && nw0 > 0)
		adopt_new(&dg, pos, w0, nw0);
	if (level > entry_level)
		hnsw_set_entry(index, pos, level, true);
	UnlockPage(index, HNSW_UPDATE_LOCK, mode);
}

bool
hnsw_insert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
			Relation heap, IndexUniqueCheck checkUnique,
#if PG_VERSION_NUM >= 140000
			bool indexUnchanged,
#endif
			IndexInfo *indexInfo)
{
	MemoryContext ctx,
				old;
	HnswShape	shape;
	char	   *x;
	int			dims;

	if (isnull[0])
		return false;
	ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw insert",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(ctx);
	hnsw_read_meta(index, &shape, NULL, NULL, NULL);
	x = hnsw_form_value(index, &shape, values, isnull, &dims);
	/* NULL: a quantized index's value that is not indexable */
	if (x != NULL)
		hnsw_disk_insert(index, x, dims, heap_tid);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(ctx);
	return false;
}
