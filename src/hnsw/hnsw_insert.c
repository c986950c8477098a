/*-------------------------------------------------------------------------
 *
 * hnsw_insert.c
 *	  The graph on disk (HnswGraph callbacks reading elements through the
 *	  buffer manager), inserting one row concurrently (aminsert), and
 *	  updating an element's neighbour list (used by inserts and VACUUM).
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
 * The disk graph
 * ---------------------------------------------------------------------
 */

/* Pin and share-lock the page holding element `pos`'s header. */
static Buffer
lock_element(Relation index, uint64 pos, int mode, HnswElementHeader **hdr)
{
	Buffer		buf = ReadBuffer(index, HNSW_POS_BLOCK(pos));

	LockBuffer(buf, mode);
	*hdr = (HnswElementHeader *) (HNSW_PAGE_BYTES(BufferGetPage(buf)) + HNSW_POS_OFFSET(pos));
	return buf;
}

void
hnsw_read_header(Relation index, uint64 pos, HnswElementHeader *hdr)
{
	HnswElementHeader *h;
	Buffer		buf = lock_element(index, pos, BUFFER_LOCK_SHARE, &h);

	*hdr = *h;
	UnlockReleaseBuffer(buf);
}

void
hnsw_disk_graph_release(HnswDiskGraph *dg)
{
	if (dg->pins == NULL || dg->pins->n == 0)
		return;
	for (int i = 0; i < HNSW_PIN_CACHE; i++)
	{
		if (BufferIsValid(dg->pins->buf[i]))
			ReleaseBuffer(dg->pins->buf[i]);
		dg->pins->buf[i] = InvalidBuffer;
	}
	dg->pins->n = 0;
}

/*
 * Start of a graph operation: empty a pin cache that holds half its slots
 * (so the at most 2 * 2m pages one operation pins always find a free slot)
 * or 1/64 of shared_buffers.
 */
static inline void
pins_begin(HnswDiskGraph *dg)
{
	if (dg->pins && dg->pins->n >= Min(HNSW_PIN_CACHE / 2, NBuffers / 64))
		hnsw_disk_graph_release(dg);
}

/* Pin block `blk`, from the cache when there is one. */
static Buffer
pin_block(HnswDiskGraph *dg, BlockNumber blk)
{
	HnswPinCache *pc = dg->pins;
	uint32		h;
	Buffer		buf;

	if (pc == NULL)
		return ReadBuffer(dg->index, blk);
	h = (blk * 2654435761U) & (HNSW_PIN_CACHE - 1);
	while (BufferIsValid(pc->buf[h]))
	{
		if (pc->blk[h] == blk)
			return pc->buf[h];
		h = (h + 1) & (HNSW_PIN_CACHE - 1);
	}
	buf = ReadBuffer(dg->index, blk);
	pc->blk[h] = blk;
	pc->buf[h] = buf;
	pc->n++;
	return buf;
}

/* Unlock `buf` and drop its pin unless the cache keeps it. */
static inline void
unlock_block(HnswDiskGraph *dg, Buffer buf)
{
	if (dg->pins)
		LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	else
		UnlockReleaseBuffer(buf);
}

/* Drop an unlocked pin unless the cache keeps it. */
static inline void
unpin_block(HnswDiskGraph *dg, Buffer buf)
{
	if (dg->pins == NULL)
		ReleaseBuffer(buf);
}

static int
disk_neighbours(HnswGraph *g, uint64 id, int level, uint64 *out)
{
	HnswDiskGraph *dg = (HnswDiskGraph *) g;
	HnswElementHeader *hdr;
	Buffer		buf;
	int			n = 0;

	pins_begin(dg);
	buf = pin_block(dg, HNSW_POS_BLOCK(id));
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	hdr = (HnswElementHeader *) (HNSW_PAGE_BYTES(BufferGetPage(buf)) + HNSW_POS_OFFSET(id));

	if (hdr->level >= level)
	{
		char	   *list = (char *) hdr + hnsw_list_offset(g->shape.m, level);
		HnswPtr    *slots = (HnswPtr *) (list + sizeof(uint16));

		n = Min(*(uint16 *) list, HNSW_CAP(g->shape.m, level));
		for (int i = 0; i < n; i++)
			out[i] = hnsw_ptr_get(&slots[i]);
	}
	unlock_block(dg, buf);
	return n;
}

/*
 * The vector of element `id`: computes the distance to `q` in the page when
 * the vector lies in the header's page (the common case); otherwise copies
 * it into dg->scratch.  With q == NULL it always copies into `into`.
 */
static double
disk_vector_op(HnswDiskGraph *dg, uint64 id, const float *q, float *into, bool *live)
{
	HnswShape  *shape = &dg->g.shape;
	HnswElementHeader *hdr;
	Buffer		buf;
	uint32		off = HNSW_POS_OFFSET(id);
	Size		prefix;
	Size		bytes = sizeof(float) * shape->dims;
	Size		here;
	float	   *dst = q ? dg->scratch : into;
	double		d = 0;

	pins_begin(dg);
	buf = pin_block(dg, HNSW_POS_BLOCK(id));
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	hdr = (HnswElementHeader *) (HNSW_PAGE_BYTES(BufferGetPage(buf)) + off);
	prefix = hnsw_prefix_size(shape->m, hdr->level);
	here = Min(bytes, HNSW_PAGE_DATA - off - prefix);
	*live = hdr->ntids > 0;
	if (q && here == bytes)
	{
		d = vector_metric_distance(shape->metric, q, (float *) ((char *) hdr + prefix),
								   shape->dims);
		unlock_block(dg, buf);
		return d;
	}
	memcpy(dst, (char *) hdr + prefix, here);
	unlock_block(dg, buf);
	if (here < bytes)
		hnsw_read_stream(dg->index, id + prefix + here, (char *) dst + here, bytes - here);
	if (q)
		d = vector_metric_distance(shape->metric, q, dst, shape->dims);
	return d;
}

static double
disk_distance(HnswGraph *g, uint64 id, const float *q, bool *live)
{
	return disk_vector_op((HnswDiskGraph *) g, id, q, NULL, live);
}

/*
 * Batched distances: pin every element's page (and the next page when a
 * level-0 element's vector continues there) and touch the first cache
 * lines, then compute.  A scan is bound by memory latency (random pages in
 * shared buffers), which this overlaps across the neighbours of one list.
 */
static void
disk_distances(HnswGraph *g, const uint64 *ids, int n, const float *q,
			   double *d, bool *live)
{
	HnswDiskGraph *dg = (HnswDiskGraph *) g;
	Buffer		bufs[2 * HNSW_MAX_M];
	Buffer		next[2 * HNSW_MAX_M];
	Size		prefix0 = hnsw_prefix_size(g->shape.m, 0);
	Size		bytes = sizeof(float) * g->shape.dims;

	pins_begin(dg);
	for (int i = 0; i < n; i++)
	{
		uint32		off = HNSW_POS_OFFSET(ids[i]);
		const char *p;

		bufs[i] = pin_block(dg, HNSW_POS_BLOCK(ids[i]));
		p = HNSW_PAGE_BYTES(BufferGetPage(bufs[i])) + off;
		__builtin_prefetch(p);
		for (int line = 0; line < 4; line++)
			__builtin_prefetch(p + prefix0 + 64 * line);
		next[i] = InvalidBuffer;
		if (off + prefix0 + bytes > HNSW_PAGE_DATA &&
			off + prefix0 + bytes <= 2 * HNSW_PAGE_DATA)
		{
			next[i] = pin_block(dg, HNSW_POS_BLOCK(ids[i]) + 1);
			p = HNSW_PAGE_BYTES(BufferGetPage(next[i]));
			for (int line = 0; line < 4; line++)
				__builtin_prefetch(p + 64 * line);
		}
	}
	for (int i = 0; i < n; i++)
	{
		HnswElementHeader *hdr;
		uint32		off = HNSW_POS_OFFSET(ids[i]);
		Size		prefix;
		Size		here;

		LockBuffer(bufs[i], BUFFER_LOCK_SHARE);
		hdr = (HnswElementHeader *) (HNSW_PAGE_BYTES(BufferGetPage(bufs[i])) + off);
		prefix = hnsw_prefix_size(g->shape.m, hdr->level);
		live[i] = hdr->ntids > 0;
		here = Min(bytes, HNSW_PAGE_DATA - off - prefix);
		if (here == bytes)
		{
			d[i] = vector_metric_distance(g->shape.metric, q,
										  (float *) ((char *) hdr + prefix), g->shape.dims);
			unlock_block(dg, bufs[i]);
		}
		else
		{
			/* the vector continues on the following page(s) */
			memcpy(dg->scratch, (char *) hdr + prefix, here);
			unlock_block(dg, bufs[i]);
			if (BufferIsValid(next[i]) && bytes - here <= HNSW_PAGE_DATA)
			{
				LockBuffer(next[i], BUFFER_LOCK_SHARE);
				memcpy((char *) dg->scratch + here,
					   HNSW_PAGE_BYTES(BufferGetPage(next[i])), bytes - here);
				unlock_block(dg, next[i]);
				next[i] = InvalidBuffer;
			}
			else
				hnsw_read_stream(dg->index, ids[i] + prefix + here,
								 (char *) dg->scratch + here, bytes - here);
			d[i] = vector_metric_distance(g->shape.metric, q, dg->scratch, g->shape.dims);
		}
		if (BufferIsValid(next[i]))
			unpin_block(dg, next[i]);
	}
}

static const float *
disk_vector(HnswGraph *g, uint64 id, float *scratch)
{
	bool		live;

	disk_vector_op((HnswDiskGraph *) g, id, NULL, scratch, &live);
	return scratch;
}

void
hnsw_disk_graph_init(HnswDiskGraph *dg, Relation index, const HnswShape *shape)
{
	dg->g.neighbours = disk_neighbours;
	dg->g.distance = disk_distance;
	dg->g.vector = disk_vector;
	dg->g.distances = disk_distances;
	dg->g.prefetch = NULL;
	dg->g.shape = *shape;
	dg->g.nelements = 0;
	dg->index = index;
	dg->scratch = palloc(sizeof(float) * shape->dims);
	dg->pins = NULL;
}

/* ---------------------------------------------------------------------
 * Neighbour list updates
 * ---------------------------------------------------------------------
 */
static int
cand_cmp(const void *a, const void *b)
{
	const HnswCand *x = a,
			   *y = b;

	if (x->dist != y->dist)
		return x->dist < y->dist ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* A neighbour list as read under a share lock, to detect concurrent change. */
typedef struct ListSnapshot
{
	uint16		count;
	HnswPtr		slots[2 * HNSW_MAX_M];
} ListSnapshot;

static bool
read_list(Relation index, const HnswShape *shape, uint64 pos, int level,
		  ListSnapshot *snap)
{
	HnswElementHeader *hdr;
	Buffer		buf = lock_element(index, pos, BUFFER_LOCK_SHARE, &hdr);
	bool		ok = hdr->level >= level;

	if (ok)
		memcpy(snap, (char *) hdr + hnsw_list_offset(shape->m, level),
			   HNSW_LIST_BYTES(shape->m, level));
	UnlockReleaseBuffer(buf);
	return ok;
}

/*
 * The new list for `pos` at `level`: its current live neighbours plus `add`,
 * pruned by the heuristic to the capacity.  Returns the count, or -1 when
 * the list would not change.
 */
static int
merge_list(HnswDiskGraph *dg, uint64 pos, int level, const ListSnapshot *snap,
		   const HnswCand *add, int nadd, bool replace, uint64 *out)
{
	HnswGraph  *g = &dg->g;
	int			cap = HNSW_CAP(g->shape.m, level);
	int			count = Min(snap->count, cap);
	HnswCand   *cands = palloc(sizeof(HnswCand) * (count + nadd));
	HnswCand   *kept = palloc(sizeof(HnswCand) * cap);
	float	   *base = palloc(sizeof(float) * g->shape.dims);
	int			n = 0,
				nkept;
	bool		changed = replace;

	/* Common case of an insert: room left, no distances needed. */
	if (!replace && count + nadd <= cap)
	{
		for (int i = 0; i < count; i++)
			out[i] = hnsw_ptr_get(&snap->slots[i]);
		n = count;
		for (int j = 0; j < nadd; j++)
		{
			bool		dup = false;

			for (int i = 0; i < count; i++)
				dup |= out[i] == add[j].id;
			if (!dup)
				out[n++] = add[j].id;
		}
		return n == count ? -1 : n;
	}

	g->vector(g, pos, base);
	for (int i = 0; i < count; i++)
	{
		uint64		id = hnsw_ptr_get(&snap->slots[i]);
		bool		live;
		double		d = g->distance(g, id, base, &live);

		if (live)
			cands[n++] = (HnswCand) {id, d};
		else
			changed = true;
	}
	for (int j = 0; j < nadd; j++)
	{
		bool		dup = add[j].id == pos;

		for (int i = 0; i < n && !dup; i++)
			dup = cands[i].id == add[j].id;
		if (!dup)
			cands[n++] = add[j];
	}
	qsort(cands, n, sizeof(HnswCand), cand_cmp);
	/* a repaired list stays as long as it was */
	nkept = hnsw_select_neighbours(g, base, cands, n, cap, replace ? count : 0, kept);
	for (int i = 0; i < nkept; i++)
	{
		out[i] = kept[i].id;
		for (int j = 0; j < nadd; j++)
			changed |= kept[i].id == add[j].id;
	}
	return changed ? nkept : -1;
}

void
hnsw_disk_update_list(HnswDiskGraph *dg, uint64 pos, int level,
					  const HnswCand *add, int nadd, bool replace)
{
	HnswShape  *shape = &dg->g.shape;
	Size		listoff = hnsw_list_offset(shape->m, level);
	Size		listbytes = HNSW_LIST_BYTES(shape->m, level);
	uint64		out[2 * HNSW_MAX_M];

	for (int attempt = 0; attempt < 3; attempt++)
	{
		ListSnapshot snap;
		int			n;
		HnswElementHeader *hdr;
		Buffer		buf;

		if (!read_list(dg->index, shape, pos, level, &snap))
			return;
		n = merge_list(dg, pos, level, &snap, add, nadd, replace, out);
		if (n < 0)
			return;

		buf = lock_element(dg->index, pos, BUFFER_LOCK_EXCLUSIVE, &hdr);
		if (memcmp((char *) hdr + listoff, &snap, listbytes) == 0)
		{
			GenericXLogState *state = GenericXLogStart(dg->index);
			Page		page = GenericXLogRegisterBuffer(state, buf, 0);
			char	   *list = HNSW_PAGE_BYTES(page) + HNSW_POS_OFFSET(pos) + listoff;
			HnswPtr    *slots = (HnswPtr *) (list + sizeof(uint16));

			memset(list, 0, listbytes);
			*(uint16 *) list = n;
			for (int i = 0; i < n; i++)
				hnsw_ptr_set(&slots[i], out[i]);
			GenericXLogFinish(state);
			UnlockReleaseBuffer(buf);
			return;
		}
		/* changed by someone else since we read it: start over */
		UnlockReleaseBuffer(buf);
	}
}

/* ---------------------------------------------------------------------
 * Insert
 * ---------------------------------------------------------------------
 */

/*
 * Add `tid` to an element holding exactly the vector `q` (rows with equal
 * vectors share an element, up to HNSW_HEAPTIDS).  False when `pos` holds
 * another vector, is dead or is full.
 */
static bool
add_duplicate(HnswDiskGraph *dg, uint64 pos, const float *q, ItemPointer tid)
{
	HnswElementHeader *hdr;
	Buffer		buf;
	bool		done = false;

	if (memcmp(dg->g.vector(&dg->g, pos, dg->scratch), q,
			   sizeof(float) * dg->g.shape.dims) != 0)
		return false;
	buf = lock_element(dg->index, pos, BUFFER_LOCK_EXCLUSIVE, &hdr);
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
hnsw_disk_insert(Relation index, const Vector *v, ItemPointer tid)
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
	char	   *buf;
	uint64		pos;

	hnsw_read_meta(index, &shape, NULL, NULL, NULL);
	if (v->dim != shape.dims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", shape.dims, v->dim),
				 errdetail("Index \"%s\" holds vectors of %d dimensions.",
						   RelationGetRelationName(index), shape.dims)));
	if (!hnsw_indexable(shape.metric, v))
		return;

	level = hnsw_random_level(shape.m, shape.max_level);
	mode = lock_for_insert(index, level, &shape, &entry, &entry_level);
	hnsw_disk_graph_init(&dg, index, &shape);

	if (entry != HNSW_INVALID_POS)
	{
		HnswSearch	s;
		HnswCand	ep = hnsw_greedy_descend(&dg.g, v->x, entry, entry_level, level);
		HnswCand   *entries = &ep;
		int			nentries = 1;

		hnsw_search_init(&s, &dg.g, v->x, true, false);
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
				if (add_duplicate(&dg, w[i].id, v->x, tid))
				{
					UnlockPage(index, HNSW_UPDATE_LOCK, mode);
					return;
				}
			}

			chosen[l] = palloc(sizeof(HnswCand) * HNSW_CAP(shape.m, l));
			/* as in the in-memory build (hnsw_build.c) */
			counts[l] = hnsw_select_neighbours(&dg.g, v->x, w, nw, HNSW_CAP(shape.m, l),
											   shape.m, chosen[l]);
			nbrs[l] = palloc(sizeof(uint64) * Max(counts[l], 1));
			for (int i = 0; i < counts[l]; i++)
				nbrs[l][i] = chosen[l][i].id;
			/* all dead at this level: keep descending from the old entries */
			if (nw > 0)
			{
				entries = w;
				nentries = nw;
			}
		}
	}

	buf = palloc(hnsw_element_size(&shape, level));
	hnsw_form_element(&shape, buf, level, tid, 1, nbrs, counts, v->x);
	pos = hnsw_append_element(index, &shape, buf, hnsw_element_size(&shape, level), level);

	/* Link back from each new neighbour (Algorithm 1, lines 11-16). */
	for (int l = Min(level, entry_level); l >= 0; l--)
	{
		for (int i = 0; i < counts[l]; i++)
		{
			HnswCand	me = {pos, chosen[l][i].dist};

			hnsw_disk_update_list(&dg, chosen[l][i].id, l, &me, 1, false);
		}
	}
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

	if (isnull[0])
		return false;
	ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw insert",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(ctx);
	hnsw_disk_insert(index, DatumGetVector(values[0]), heap_tid);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(ctx);
	return false;
}
