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
 * A quantized index (sq8, rabitq) builds the graph from the unquantized
 * values too; the write-out trains the parameters on them, writes them on
 * the first data pages and encodes each element (hnsw_quant.c).
 *
 * Parallel build: the leader and max_parallel_maintenance_workers workers
 * scan the table in parallel and insert into one graph in dynamic shared
 * memory, concurrently: element slots and vector space are taken under a
 * spinlock, neighbour lists are guarded by a stripe of LWLocks (an element's
 * own lists are written before any other participant can reach it), and
 * the entry point by an LWLock held exclusively by an insert that raises
 * the top level.  The leader then writes the graph as in a serial build.
 * The shared graph has a fixed size, so a parallel build is chosen only
 * when the table's estimated size fits in maintenance_work_mem.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/mman.h>

#include "access/table.h"
#include "access/tableam.h"
#include "access/xloginsert.h"
#include "commands/progress.h"
#include "hnsw/hnsw.h"
#include "index/index.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "optimizer/plancat.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/spin.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#define HNSW_BUILD_STRIPES	512

/* An element of the in-memory graph. */
typedef struct MemElement
{
	Size		upper;			/* arena offset of the lists of levels 1.. */
	Size		value;			/* arena offset of a variable-size value */
	ItemPointerData tids[HNSW_HEAPTIDS];
	uint8		ntids;
	uint8		level;
} MemElement;

/*
 * State shared by the participants of a build: in dynamic shared memory for
 * a parallel build (followed by the element array, the base array and the
 * arena), in local memory otherwise.
 *
 * Element i's vector and level-0 list lie at base + i * stride, so finding
 * them reads no other memory (the build is bound by memory latency); the
 * lists of upper levels, which few elements have, are taken from the arena.
 * A list (mem_list) holds its count and member ids, then each member's
 * distance to the list's element and what the last selection over the list
 * learnt of it (hnsw_select_known), so that re-pruning a full list computes
 * only the distances it has not computed before.
 * A variable-size value (shape.varsize) is taken from the arena too, its
 * own size (hnsw_stored_size), after the upper lists: base then holds only
 * the level-0 list, so the build's memory follows the values' sizes.
 */
typedef struct HnswBuildShared
{
	/* set before the workers start */
	int			tranche;
	uint32		cap;			/* element slots */
	Size		stride;			/* bytes per element in base */
	Size		arena_cap;		/* arena bytes */
	Size		elems_off;		/* offsets from this struct (parallel) */
	Size		base_off;
	Size		arena_off;

	/* protected by mutex */
	slock_t		mutex;
	uint32		n;				/* element slots taken */
	Size		arena_used;
	int64		entry;			/* -1 when the graph is empty */
	int			entry_level;
	double		indtuples;
	double		reltuples;

	LWLock		entry_lock;		/* exclusive: an insert raising the top level */
	LWLock		stripes[HNSW_BUILD_STRIPES];	/* neighbour lists, by id */
} HnswBuildShared;

typedef struct HnswBuildState
{
	Relation	heap;
	Relation	index;
	HnswShape	shape;
	HnswShape	dshape;			/* on disk: shape, or its quantized form */
	float	   *qscratch;		/* quantized: dims floats for encoding */
	HnswGraph	g;				/* callbacks find the state through it */
	HnswBuildShared *sh;
	bool		parallel;		/* sh is shared: lock */
	MemElement *elems;
	char	   *base;
	char	   *arena;
	Size		mem_used;		/* serial: memory the graph takes */
	Size		mem_limit;
	bool		on_disk;		/* serial: flushed, rows go to disk */
	HnswSearch	search;
	MemoryContext graph_ctx;
	MemoryContext row_ctx;
	MemoryContext build_ctx;	/* outlives both: the parameters */
} HnswBuildState;

#define BUILD_STATE(g) ((HnswBuildState *) ((char *) (g) - offsetof(HnswBuildState, g)))

/*
 * Bytes of a list of `cap` members: the count and the ids (uint32), then
 * (8-aligned) the distances (double) and what is known (uint32) of each.
 */
static inline Size
mem_list_bytes(int cap)
{
	return TYPEALIGN(8, TYPEALIGN(8, sizeof(uint32) * (1 + cap)) +
					 (sizeof(double) + sizeof(uint32)) * cap);
}

/* A list's distances to its element, and what is known of its members. */
static inline double *
mem_list_dist(uint32 *list, int cap)
{
	return (double *) ((char *) list + TYPEALIGN(8, sizeof(uint32) * (1 + cap)));
}

static inline uint32 *
mem_list_known(uint32 *list, int cap)
{
	return (uint32 *) (mem_list_dist(list, cap) + cap);
}

/*
 * hnsw_select_known's knowledge in a list's uint32: element ids are below
 * PG_UINT32_MAX / 2 (the slot limits of hnsw_build and alloc_element), so
 * the two marks fit.
 */
#define MEM_SEL_KEPT		PG_UINT32_MAX
#define MEM_SEL_UNKNOWN		(PG_UINT32_MAX - 1)

static inline uint64
mem_known_get(uint32 k)
{
	return k == MEM_SEL_KEPT ? HNSW_SEL_KEPT :
		k == MEM_SEL_UNKNOWN ? HNSW_SEL_UNKNOWN : k;
}

static inline uint32
mem_known_put(uint64 k)
{
	return k == HNSW_SEL_KEPT ? MEM_SEL_KEPT :
		k == HNSW_SEL_UNKNOWN ? MEM_SEL_UNKNOWN : (uint32) k;
}

/* Offset of level `level`'s list (level >= 1) in an element's upper lists. */
static inline Size
mem_upper_offset(int m, int level)
{
	return (level - 1) * mem_list_bytes(HNSW_CAP(m, 1));
}

static inline char *
mem_vec(HnswBuildState *bs, uint64 id)
{
	if (bs->shape.varsize)
		return bs->arena + bs->elems[id].value;
	return (char *) (bs->base + id * bs->sh->stride);
}

static inline uint32 *
mem_list(HnswBuildState *bs, uint64 id, int level)
{
	if (level == 0 && bs->shape.varsize)
		return (uint32 *) (bs->base + id * bs->sh->stride);
	if (level == 0)
		return (uint32 *) (mem_vec(bs, id) + TYPEALIGN(8, bs->shape.elem_size));
	return (uint32 *) (bs->arena + bs->elems[id].upper +
					   mem_upper_offset(bs->shape.m, level));
}

static inline void
lock_list(HnswBuildState *bs, uint64 id, LWLockMode mode)
{
	if (bs->parallel)
		LWLockAcquire(&bs->sh->stripes[id % HNSW_BUILD_STRIPES], mode);
}

static inline void
unlock_list(HnswBuildState *bs, uint64 id)
{
	if (bs->parallel)
		LWLockRelease(&bs->sh->stripes[id % HNSW_BUILD_STRIPES]);
}

/* ---------------------------------------------------------------------
 * The in-memory graph as an HnswGraph
 * ---------------------------------------------------------------------
 */
static int
mem_neighbours(HnswGraph *g, uint64 id, int level, uint64 *out)
{
	HnswBuildState *bs = BUILD_STATE(g);
	uint32	   *list;
	uint32		n = 0;

	if (level > 0 && bs->elems[id].level < level)
		return 0;
	list = mem_list(bs, id, level);
	lock_list(bs, id, LW_SHARED);
	n = list[0];
	for (uint32 i = 0; i < n; i++)
		out[i] = list[1 + i];
	unlock_list(bs, id);
	return n;
}

static double
mem_distance(HnswGraph *g, uint64 id, const char *q, bool *live)
{
	*live = true;
	return hnsw_distance(&g->shape, q, mem_vec(BUILD_STATE(g), id));
}

/*
 * Building is bound by memory latency: each distance reads a vector from a
 * random place.  Touching the first cache lines early lets the hardware
 * prefetcher stream the rest while other distances are computed.
 */
static void
mem_prefetch(HnswGraph *g, uint64 id)
{
	const char *v = (const char *) mem_vec(BUILD_STATE(g), id);

	for (int i = 0; i < 4; i++)
		__builtin_prefetch(v + 64 * i);
}

/* HnswGraph.distances_below: prefetched as mem_prefetch says, then in turn */
static void
mem_distances_below(HnswGraph *g, const uint64 *ids, int n, const char *q,
					double bound, double *d, bool *live)
{
	HnswBuildState *bs = BUILD_STATE(g);

	for (int i = 0; i < n; i++)
		mem_prefetch(g, ids[i]);
	for (int i = 0; i < n; i++)
	{
		live[i] = true;
		d[i] = hnsw_distance_below(&bs->shape, q, mem_vec(bs, ids[i]), bound);
	}
}

static const char *
mem_vector(HnswGraph *g, uint64 id, char *scratch)
{
	return mem_vec(BUILD_STATE(g), id);
}

/* A candidate and what an earlier selection knew of it, as mem_add_link sorts them. */
typedef struct MemMember
{
	HnswCand	c;
	uint64		known;
} MemMember;

/*
 * Add `id` (at distance `d`) to the list of `nb` at `level`; a full list is
 * pruned with the heuristic over its members and the newcomer, from the
 * members' stored distances and knowledge (hnsw_select_known).  The
 * list's lock is held throughout; the heuristic reads only vectors, which
 * never change, so no other lock is taken.
 */
static void
mem_add_link(HnswBuildState *bs, uint32 nb, uint32 id, int level, double d)
{
	uint32	   *list = mem_list(bs, nb, level);
	int			cap = HNSW_CAP(bs->shape.m, level);
	double	   *dist = mem_list_dist(list, cap);
	uint32	   *known = mem_list_known(list, cap);
	MemMember	mem[2 * HNSW_MAX_M + 1];
	HnswCand	cands[2 * HNSW_MAX_M + 1];
	uint64		kin[2 * HNSW_MAX_M + 1];
	HnswCand	kept[2 * HNSW_MAX_M];
	uint64		kout[2 * HNSW_MAX_M];
	int			n;

	lock_list(bs, nb, LW_EXCLUSIVE);
	n = list[0];
	if (n < cap)
	{
		list[1 + n] = id;
		dist[n] = d;
		known[n] = MEM_SEL_UNKNOWN;
		list[0]++;
		unlock_list(bs, nb);
		return;
	}
	/* insertion sort by hnsw_cand_cmp: the list is mostly in order */
	for (int i = 0; i <= cap; i++)
	{
		MemMember	x = {{i < cap ? list[1 + i] : id, i < cap ? dist[i] : d},
		i < cap ? mem_known_get(known[i]) : HNSW_SEL_UNKNOWN};
		int			j = i;

		for (; j > 0 && hnsw_cand_cmp(&mem[j - 1].c, &x.c) > 0; j--)
			mem[j] = mem[j - 1];
		mem[j] = x;
	}
	for (int i = 0; i <= cap; i++)
	{
		cands[i] = mem[i].c;
		kin[i] = mem[i].known;
	}
	/* keep at least m, as for a new element's own list (see mem_insert) */
	n = hnsw_select_known(&bs->g, mem_vec(bs, nb), cands, cap + 1, cap, bs->shape.m,
						  kin, kept, kout);
	for (int i = 0; i < n; i++)
	{
		list[1 + i] = kept[i].id;
		dist[i] = kept[i].dist;
		known[i] = mem_known_put(kout[i]);
	}
	list[0] = n;
	unlock_list(bs, nb);
}

/* Bytes per element in base: the vector (unless variable-size) and the level-0 list. */
static Size
mem_stride(const HnswShape *shape)
{
	return (shape->varsize ? 0 : TYPEALIGN(8, shape->elem_size)) +
		mem_list_bytes(HNSW_CAP(shape->m, 0));
}

/* Arena bytes of an element of `level`: its lists of levels 1 .. level. */
static Size
mem_upper_bytes(const HnswShape *shape, int level)
{
	return mem_upper_offset(shape->m, level + 1);
}

/*
 * Memory an element takes in all: base, arena (its upper lists and a
 * variable-size value of `vbytes`, 0 otherwise), slot, visited stamp.
 */
static Size
mem_element_total(const HnswShape *shape, int level, Size vbytes)
{
	return mem_stride(shape) + mem_upper_bytes(shape, level) + MAXALIGN(vbytes) +
		sizeof(MemElement) + sizeof(uint8);
}

/*
 * Take an element slot and its arena space.  Serial builds grow the arrays;
 * a parallel build's are fixed, and running out is an error.
 */
/*
 * Ask for transparent huge pages on the base array: with 4 kB pages nearly
 * every distance of a large build also misses the TLB.
 */
static void
advise_huge_pages(void *p, Size len)
{
#ifdef MADV_HUGEPAGE
	uintptr_t	start = TYPEALIGN(2 * 1024 * 1024, (uintptr_t) p);
	uintptr_t	end = TYPEALIGN_DOWN(2 * 1024 * 1024, (uintptr_t) p + len);

	if (end > start)
		(void) madvise((void *) start, end - start, MADV_HUGEPAGE);
#endif
}

static uint32
alloc_element(HnswBuildState *bs, int level, Size vbytes)
{
	HnswBuildShared *sh = bs->sh;
	Size		upper = mem_upper_bytes(&bs->shape, level);
	Size		bytes = vbytes == 0 ? upper : MAXALIGN(upper) + MAXALIGN(vbytes);
	uint32		id;
	Size		off;

	if (bs->parallel)
		SpinLockAcquire(&sh->mutex);
	if (sh->n == sh->cap || sh->arena_used + bytes > sh->arena_cap)
	{
		if (bs->parallel)
		{
			SpinLockRelease(&sh->mutex);
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("hnsw graph no longer fits into the shared memory of the parallel build"),
					 errdetail("The table has more rows than estimated from its size and statistics."),
					 errhint("ANALYZE the table, or build without parallel workers (max_parallel_maintenance_workers = 0).")));
		}
		if (sh->n == sh->cap)
		{
			/* ids stay below the marks of mem_known_put */
			if (sh->cap >= PG_UINT32_MAX / 2)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("hnsw graph cannot hold more than %u elements in memory",
								sh->cap)));
			sh->cap *= 2;
			bs->elems = repalloc_huge(bs->elems, sizeof(MemElement) * sh->cap);
			bs->base = repalloc_huge(bs->base, sh->stride * sh->cap);
			advise_huge_pages(bs->base, sh->stride * sh->cap);
		}
		if (sh->arena_used + bytes > sh->arena_cap)
		{
			sh->arena_cap = Max(sh->arena_cap * 2, sh->arena_used + bytes);
			bs->arena = repalloc_huge(bs->arena, sh->arena_cap);
		}
	}
	id = sh->n++;
	off = sh->arena_used;
	sh->arena_used += bytes;
	if (bs->parallel)
		SpinLockRelease(&sh->mutex);
	bs->elems[id].upper = off;
	bs->elems[id].value = off + MAXALIGN(upper);
	return id;
}

/* Read the entry point under the mutex. */
static void
get_entry(HnswBuildState *bs, int64 *entry, int *entry_level)
{
	if (bs->parallel)
		SpinLockAcquire(&bs->sh->mutex);
	*entry = bs->sh->entry;
	*entry_level = bs->sh->entry_level;
	if (bs->parallel)
		SpinLockRelease(&bs->sh->mutex);
}

/* Add `tid` to element `id` if it holds exactly `x` and has room. */
static bool
mem_add_duplicate(HnswBuildState *bs, uint64 id, const char *x, ItemPointer tid)
{
	MemElement *dup = &bs->elems[id];
	bool		done = false;

	if (hnsw_stored_size(&bs->shape, mem_vec(bs, id)) != hnsw_stored_size(&bs->shape, x) ||
		memcmp(mem_vec(bs, id), x, hnsw_stored_size(&bs->shape, x)) != 0)
		return false;
	lock_list(bs, id, LW_EXCLUSIVE);
	if (dup->ntids < HNSW_HEAPTIDS)
	{
		dup->tids[dup->ntids++] = *tid;
		done = true;
	}
	unlock_list(bs, id);
	return done;
}

/*
 * Add a row to the in-memory graph (Algorithm 1): search from the entry
 * point, let an identical vector absorb the row, else store the element
 * with its chosen neighbours and link back from them.
 */
static void
mem_insert(HnswBuildState *bs, const char *x, ItemPointer tid, int level)
{
	HnswShape  *shape = &bs->shape;
	HnswCand   *chosen[HNSW_MAX_LEVEL + 1];
	uint64	   *chosen_known[HNSW_MAX_LEVEL + 1];
	int			counts[HNSW_MAX_LEVEL + 1];
	int64		entry;
	int			entry_level;
	int			top;
	LWLockMode	mode = LW_SHARED;
	uint32		id;
	MemElement *e;

	if (bs->parallel)
	{
		LWLockAcquire(&bs->sh->entry_lock, mode);
		get_entry(bs, &entry, &entry_level);
		if (level > entry_level)
		{
			LWLockRelease(&bs->sh->entry_lock);
			mode = LW_EXCLUSIVE;
			LWLockAcquire(&bs->sh->entry_lock, mode);
		}
	}
	get_entry(bs, &entry, &entry_level);
	top = entry < 0 ? -1 : Min(level, entry_level);
	bs->g.nelements = bs->sh->cap;

	if (top >= 0)
	{
		HnswCand	ep = hnsw_greedy_descend(&bs->g, x, entry, entry_level, level);
		HnswCand   *entries = &ep;
		int			nentries = 1;

		bs->search.q = x;
		for (int l = top; l >= 0; l--)
		{
			int			nw;
			HnswCand   *w;

			hnsw_search_seed(&bs->search, entries, nentries);
			hnsw_search_layer(&bs->search, l, shape->ef_construction);
			w = hnsw_search_take(&bs->search, &nw);
			for (int i = 0; l == 0 && i < Min(nw, 3); i++)
			{
				if (mem_add_duplicate(bs, w[i].id, x, tid))
				{
					if (bs->parallel)
						LWLockRelease(&bs->sh->entry_lock);
					return;
				}
			}
			chosen[l] = palloc(sizeof(HnswCand) * HNSW_CAP(shape->m, l));
			chosen_known[l] = palloc(sizeof(uint64) * HNSW_CAP(shape->m, l));
			/*
			 * Keep pruned candidates up to m: on Fashion-MNIST this raised
			 * recall@10 at ef_search 10 from 0.92 to 0.95 for about 10% more
			 * distances per query.
			 */
			counts[l] = hnsw_select_known(&bs->g, x, w, nw, HNSW_CAP(shape->m, l),
										  shape->m, NULL, chosen[l], chosen_known[l]);
			entries = w;
			nentries = nw;
		}
	}

	/* Store the element; no one can reach it before the links below. */
	id = alloc_element(bs, level, shape->varsize ? hnsw_stored_size(shape, x) : 0);
	e = &bs->elems[id];
	e->tids[0] = *tid;
	e->ntids = 1;
	e->level = level;
	memcpy(mem_vec(bs, id), x, hnsw_stored_size(shape, x));
	for (int l = 0; l <= level; l++)
	{
		uint32	   *list = mem_list(bs, id, l);
		int			cap = HNSW_CAP(shape->m, l);

		list[0] = l <= top ? counts[l] : 0;
		for (uint32 i = 0; i < list[0]; i++)
		{
			list[1 + i] = chosen[l][i].id;
			mem_list_dist(list, cap)[i] = chosen[l][i].dist;
			mem_list_known(list, cap)[i] = mem_known_put(chosen_known[l][i]);
		}
	}
	for (int l = top; l >= 0; l--)
		for (int i = 0; i < counts[l]; i++)
			mem_add_link(bs, chosen[l][i].id, id, l, chosen[l][i].dist);

	if (level > entry_level)
	{
		if (bs->parallel)
			SpinLockAcquire(&bs->sh->mutex);
		bs->sh->entry = id;
		bs->sh->entry_level = level;
		if (bs->parallel)
			SpinLockRelease(&bs->sh->mutex);
	}
	if (bs->parallel)
		LWLockRelease(&bs->sh->entry_lock);
	else
		bs->mem_used += mem_element_total(shape, level,
										  shape->varsize ? hnsw_stored_size(shape, x) : 0);
}

/* ---------------------------------------------------------------------
 * Writing the in-memory graph to disk
 * ---------------------------------------------------------------------
 */

/*
 * Make element x, which no level-0 list names, a member of the level-0
 * list of one of its own neighbours, the nearest first: appended where
 * there is room, else in place of the member farthest from that neighbour
 * among those another list names too.  Leaves x alone when neither works
 * (every neighbour's list full of members named nowhere else).
 */
static void
adopt_orphan(HnswBuildState *bs, uint32 x, uint32 *indeg)
{
	const HnswShape *shape = &bs->shape;
	uint32	   *own = mem_list(bs, x, 0);
	int			cap = HNSW_CAP(shape->m, 0);
	HnswCand	nbrs[2 * HNSW_MAX_M];
	int			n = own[0];

	for (int i = 0; i < n; i++)
		nbrs[i] = (HnswCand) {own[1 + i], mem_list_dist(own, cap)[i]};
	qsort(nbrs, n, sizeof(HnswCand), hnsw_cand_cmp);
	for (int i = 0; i < n; i++)
	{
		uint32	   *list = mem_list(bs, nbrs[i].id, 0);

		if ((int) list[0] < cap)
		{
			mem_list_dist(list, cap)[list[0]] = nbrs[i].dist;
			mem_list_known(list, cap)[list[0]] = MEM_SEL_UNKNOWN;
			list[1 + list[0]++] = x;
			indeg[x]++;
			return;
		}
	}
	for (int i = 0; i < n; i++)
	{
		uint32	   *list = mem_list(bs, nbrs[i].id, 0);
		int			worst = -1;
		double		worst_dist = -1;

		for (uint32 j = 0; j < list[0]; j++)
		{
			double		d = mem_list_dist(list, cap)[j];

			if (indeg[list[1 + j]] > 1 && d > worst_dist)
			{
				worst = j;
				worst_dist = d;
			}
		}
		if (worst >= 0)
		{
			indeg[list[1 + worst]]--;
			list[1 + worst] = x;
			mem_list_dist(list, cap)[worst] = nbrs[i].dist;
			mem_list_known(list, cap)[worst] = MEM_SEL_UNKNOWN;
			indeg[x]++;
			return;
		}
	}
}

/*
 * Give every element a level-0 in-link before the graph is written.  When
 * a newcomer joins a full list, the heuristic prunes it, and with many
 * equal distances (points in one direction under cosine, a regular grid)
 * it can drop the last list naming an element, which no search reaches
 * after that: in the regress test's cosine index over a 20 x 20 grid,
 * about 1 build in 80 lost one of its 399 rows so.  Each such orphan is
 * adopted (adopt_orphan).  Keeping elements reachable in this way is not
 * part of the paper's algorithm.
 */
static void
link_orphans(HnswBuildState *bs)
{
	uint32		n = bs->sh->n;
	uint32	   *indeg = palloc_extended(sizeof(uint32) * Max(n, 1),
										MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);

	for (uint32 i = 0; i < n; i++)
	{
		uint32	   *list = mem_list(bs, i, 0);

		for (uint32 j = 0; j < list[0]; j++)
			indeg[list[1 + j]]++;
	}
	for (uint32 i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (indeg[i] == 0)
			adopt_orphan(bs, i, indeg);
	}
	pfree(indeg);
}

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
 * once every element has a level-0 in-link (link_orphans), set the
 * metapage, and WAL-log every page.
 */
static void
flush_graph(HnswBuildState *bs)
{
	HnswShape  *shape = &bs->dshape;
	uint32		n = bs->sh->n;
	uint64	   *pos = palloc_extended(sizeof(uint64) * Max(n, 1), MCXT_ALLOC_HUGE);
	uint64		tail = shape->first;
	char	   *elem = palloc(hnsw_element_size(shape, shape->max_level, shape->elem_size));
	char	   *code = NULL;
	PGAlignedBlock page;
	BlockNumber blkno = 1;
	uint64	   *nbrs[HNSW_MAX_LEVEL + 1];
	int			counts[HNSW_MAX_LEVEL + 1];
	Buffer		metabuf;
	HnswMetaPageData *meta;

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, HNSW_PHASE_WRITE);
	link_orphans(bs);
	/* a quantized index: its parameters from these rows, on blocks 1.. */
	if (shape->quant != VINDEX_QUANT_NONE)
	{
		/* kept for the rows a build continued on disk encodes */
		MemoryContext old = MemoryContextSwitchTo(bs->build_ctx);
		void	   *params = hnsw_quant_train(&bs->shape, shape->quant, bs->base,
											  bs->sh->stride, n);

		shape->qparams = params;
		code = palloc(shape->elem_size);
		bs->qscratch = palloc(sizeof(float) * shape->dims);
		MemoryContextSwitchTo(old);
		blkno = hnsw_quant_write_params(bs->index, MAIN_FORKNUM, shape, params);
	}
	for (uint32 i = 0; i < n; i++)
	{
		Size		size = hnsw_element_size(shape, bs->elems[i].level,
											 hnsw_stored_size(shape, mem_vec(bs, i)));

		pos[i] = hnsw_place(shape, tail, bs->elems[i].level, size);
		tail = pos[i] + size;
	}
	for (int l = 0; l <= shape->max_level; l++)
		nbrs[l] = palloc(sizeof(uint64) * HNSW_CAP(shape->m, l));

	hnsw_init_data_page(page.data, true);
	for (uint32 i = 0; i < n; i++)
	{
		MemElement *e = &bs->elems[i];
		Size		size = hnsw_element_size(shape, e->level,
											 hnsw_stored_size(shape, mem_vec(bs, i)));
		uint64		p = pos[i];
		Size		done = 0;

		CHECK_FOR_INTERRUPTS();
		for (int l = 0; l <= e->level; l++)
		{
			uint32	   *list = mem_list(bs, i, l);

			counts[l] = list[0];
			for (uint32 j = 0; j < list[0]; j++)
				nbrs[l][j] = pos[list[1 + j]];
		}
		if (code)
			hnsw_quant_encode(shape, mem_vec(bs, i), code, bs->qscratch);
		hnsw_form_element(shape, elem, e->level, e->tids, e->ntids, nbrs, counts,
						  code ? code : mem_vec(bs, i));
		while (done < size)
		{
			uint32		off = HNSW_POS_OFFSET(p + done);
			Size		n = Min(size - done, HNSW_PAGE_DATA - off);

			if (HNSW_POS_BLOCK(p + done) != blkno)
			{
				write_new_page(bs->index, page.data, blkno++);
				hnsw_init_data_page(page.data, off == 0 && done == 0);
			}
			memcpy(HNSW_PAGE_BYTES(page.data) + off, elem + done, n);
			((PageHeader) page.data)->pd_lower = SizeOfPageHeaderData + off + n;
			done += n;
		}
	}
	if (n > 0)
		write_new_page(bs->index, page.data, blkno++);

	metabuf = ReadBuffer(bs->index, HNSW_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	meta = hnsw_meta(BufferGetPage(metabuf));
	meta->entry = bs->sh->entry < 0 ? HNSW_INVALID_POS : pos[bs->sh->entry];
	meta->entry_level = bs->sh->entry < 0 ? -1 : bs->sh->entry_level;
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

	/* the columns' kinds first: an index naming a filter column first */
	vindex_filter_layout(index, "hnsw", true, &shape->filters);
	shape->elem = vindex_elem_type(index);
	if (typmod <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column does not have dimensions"),
				 errhint("Index a column of a type with dimensions, such as vector(3) or bit(64).")));
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
	vindex_elem_check(index, shape->elem, shape->metric, shape->dims);
	hnsw_quant_check(hnsw_index_quantization(index), shape->elem, shape->metric);
	/* the build's in-memory values are unquantized (disk_shape) */
	shape->quant = VINDEX_QUANT_NONE;
	shape->qparams = NULL;
	hnsw_shape_elements(index, shape, true);
	shape->max_level = hnsw_max_level(shape->m);
}

/*
 * The shape of the index on disk: that of the build (`shape`, from
 * build_shape), with the `quantization` option's stored form.  qparams stays
 * NULL until flush_graph trains the parameters.
 */
static void
disk_shape(Relation index, const HnswShape *shape, HnswShape *out)
{
	*out = *shape;
	out->quant = hnsw_index_quantization(index);
	out->qparams = NULL;
	hnsw_shape_elements(index, out, false);
}

static void
build_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			   bool tupleIsAlive, void *state)
{
	HnswBuildState *bs = state;
	MemoryContext old;
	char	   *x;
	int			dims;
	int			level;

	if (isnull[0])
		return;
	old = MemoryContextSwitchTo(bs->row_ctx);
	x = hnsw_form_value(bs->index, &bs->shape, values, isnull, &dims);
	if (dims != bs->shape.dims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", bs->shape.dims, dims)));
	if (vindex_elem_indexable(bs->shape.elem, bs->shape.metric, x, dims))
	{
		double		done;

		level = hnsw_random_level(bs->shape.m, bs->shape.max_level);
		if (!bs->parallel && !bs->on_disk &&
			bs->mem_used + mem_element_total(&bs->shape, level,
											 bs->shape.varsize ?
											 hnsw_stored_size(&bs->shape, x) : 0) > bs->mem_limit)
		{
			ereport(NOTICE,
					(errmsg("hnsw graph no longer fits into maintenance_work_mem"),
					 errdetail("The graph of the first %.0f tuples is written to disk, and the remaining tuples are inserted there, which is slower.",
							   bs->sh->indtuples),
					 errhint("Increase maintenance_work_mem to build the whole graph in memory.")));
			flush_graph(bs);
			bs->on_disk = true;
			MemoryContextReset(bs->graph_ctx);
			pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, HNSW_PHASE_LOAD);
		}
		if (bs->on_disk && bs->dshape.quant != VINDEX_QUANT_NONE)
		{
			char	   *code = palloc(bs->dshape.elem_size);

			hnsw_quant_encode(&bs->dshape, x, code, bs->qscratch);
			hnsw_disk_insert(index, code, dims, tid);
		}
		else if (bs->on_disk)
			hnsw_disk_insert(index, x, dims, tid);
		else
			mem_insert(bs, x, tid, level);

		if (bs->parallel)
			SpinLockAcquire(&bs->sh->mutex);
		done = ++bs->sh->indtuples;
		if (bs->parallel)
			SpinLockRelease(&bs->sh->mutex);
		if (!IsParallelWorker())
			pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) done);
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->row_ctx);
}

/* Callbacks and per-process memory of a participant. */
static void
init_build_state(HnswBuildState *bs, Relation heap, Relation index,
				 const HnswShape *shape)
{
	MemoryContext old;

	bs->heap = heap;
	bs->index = index;
	bs->shape = *shape;
	bs->build_ctx = CurrentMemoryContext;
	bs->graph_ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw build graph",
										  ALLOCSET_DEFAULT_SIZES);
	bs->row_ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw build row",
										ALLOCSET_DEFAULT_SIZES);
	bs->mem_limit = (Size) maintenance_work_mem * 1024;
	bs->g.neighbours = mem_neighbours;
	bs->g.distance = mem_distance;
	bs->g.vector = mem_vector;
	bs->g.distances = NULL;
	bs->g.distances_below = mem_distances_below;
	bs->g.prefetch = mem_prefetch;
	bs->g.shape = *shape;
	bs->g.nelements = Max(bs->sh->cap, 1);
	old = MemoryContextSwitchTo(bs->graph_ctx);
	hnsw_search_init(&bs->search, &bs->g, NULL, false, false);
	MemoryContextSwitchTo(old);
}

static void
init_shared(HnswBuildShared *sh, const HnswShape *shape, uint32 cap, Size arena_cap)
{
	SpinLockInit(&sh->mutex);
	sh->stride = mem_stride(shape);
	sh->cap = cap;
	sh->arena_cap = arena_cap;
	sh->n = 0;
	sh->arena_used = 0;
	sh->entry = -1;
	sh->entry_level = -1;
	sh->indtuples = 0;
	sh->reltuples = 0;
}

/* ---------------------------------------------------------------------
 * Parallel build
 * ---------------------------------------------------------------------
 */
static int	build_tranche = 0;

/* What init_parallel_shared needs to know. */
typedef struct ParallelArgs
{
	const HnswShape *shape;
	uint32		cap;
	Size		arena_cap;
} ParallelArgs;

/* Bytes of the shared graph: the state, then elements, base and arena. */
static Size
parallel_shared_size(const HnswShape *shape, uint32 cap, Size arena_cap)
{
	return MAXALIGN(sizeof(HnswBuildShared)) + MAXALIGN(sizeof(MemElement) * (Size) cap) +
		mem_stride(shape) * cap + arena_cap;
}

/* VindexParallelSpec.init_shared: an empty graph in the segment. */
static void
init_parallel_shared(void *shared, ParallelContext *pcxt, void *arg)
{
	HnswBuildShared *sh = shared;
	const ParallelArgs *a = arg;

	if (build_tranche == 0)
		build_tranche = LWLockNewTrancheId();
	sh->tranche = build_tranche;
	sh->elems_off = MAXALIGN(sizeof(HnswBuildShared));
	sh->base_off = sh->elems_off + MAXALIGN(sizeof(MemElement) * (Size) a->cap);
	sh->arena_off = sh->base_off + mem_stride(a->shape) * a->cap;
	init_shared(sh, a->shape, a->cap, a->arena_cap);
	LWLockInitialize(&sh->entry_lock, build_tranche);
	for (int i = 0; i < HNSW_BUILD_STRIPES; i++)
		LWLockInitialize(&sh->stripes[i], build_tranche);
}

/* Pointers into a parallel build's shared graph. */
static void
attach_shared(HnswBuildState *bs, HnswBuildShared *sh)
{
	bs->sh = sh;
	bs->parallel = true;
	bs->elems = (MemElement *) ((char *) sh + sh->elems_off);
	bs->base = (char *) sh + sh->base_off;
	bs->arena = (char *) sh + sh->arena_off;
	LWLockRegisterTranche(sh->tranche, "hnsw build");
}

/* Scan this participant's share of the table into the shared graph. */
static void
participate(HnswBuildState *bs, const VindexParticipant *p)
{
	double		reltuples;

	attach_shared(bs, p->shared);
	init_build_state(bs, p->heap, p->index, &bs->shape);
	reltuples = vindex_parallel_scan(p, build_callback, bs);
	SpinLockAcquire(&bs->sh->mutex);
	bs->sh->reltuples += reltuples;
	SpinLockRelease(&bs->sh->mutex);
}

/* A worker's part: its own build state over the shared graph. */
static void
worker_participate(const VindexParticipant *p)
{
	HnswBuildState bs;

	memset(&bs, 0, sizeof(bs));
	build_shape(p->index, &bs.shape);
	participate(&bs, p);
}

PGDLLEXPORT void hnsw_parallel_build_main(dsm_segment *seg, shm_toc *toc);

/*
 * hnsw_parallel_build_main: entry point of a parallel build worker, run by
 * the parallel worker infrastructure with the leader's segment attached.
 */
void
hnsw_parallel_build_main(dsm_segment *seg, shm_toc *toc)
{
	vindex_parallel_worker(seg, toc, worker_participate);
}

/*
 * How many workers to ask for.  Building costs per row, not per heap page,
 * so the number of rows decides (one worker per 5,000 rows, up to
 * max_parallel_maintenance_workers) unless the table's parallel_workers
 * option says otherwise; index expressions and predicates go through the
 * planner's checks for parallel safety.  `rows` is build_row_estimate's.
 * Zero when the table's estimated graph would not fit in
 * maintenance_work_mem (a parallel graph cannot continue on disk), and for
 * a table never vacuumed or analyzed, whose row count is a guess from
 * column widths that can fall short of the rows by more than the margin.
 */
static int
build_workers(Relation heap, Relation index, IndexInfo *info, double rows,
			  Size graph_bytes)
{
	int			workers;

	if (max_parallel_maintenance_workers == 0 || RelationUsesLocalBuffers(heap) ||
		!IsNormalProcessingMode() || heap->rd_rel->reltuples < 0 ||
		graph_bytes > (Size) maintenance_work_mem * 1024)
		return 0;
	if (info->ii_Expressions != NIL || info->ii_Predicate != NIL ||
		RelationGetParallelWorkers(heap, -1) != -1)
		return plan_create_index_workers(RelationGetRelid(heap), RelationGetRelid(index));
	workers = (int) Min(rows / 5000, (double) max_parallel_maintenance_workers);
	return workers;
}

/*
 * Build the graph with parallel workers; false (nothing done) when no
 * dynamic shared memory could be had.
 */
static bool
build_parallel(HnswBuildState *bs, IndexInfo *info, int nworkers, uint32 cap,
			   Size arena_cap)
{
	ParallelArgs args = {&bs->shape, cap, arena_cap};
	VindexParallelSpec spec = {
		.amname = "hnsw",
		.worker_main = "hnsw_parallel_build_main",
		.shared_size = parallel_shared_size(&bs->shape, cap, arena_cap),
		.init_shared = init_parallel_shared,
		.arg = &args,
	};
	VindexParallelBuild *pb = vindex_parallel_begin(bs->heap, bs->index, info,
													nworkers, &spec);

	if (pb == NULL)
		return false;
	participate(bs, &pb->leader);
	vindex_parallel_wait(pb);
	flush_graph(bs);
	/* the result's counts outlive the segment */
	bs->sh = palloc(sizeof(HnswBuildShared));
	memcpy(bs->sh, pb->leader.shared, sizeof(HnswBuildShared));
	bs->parallel = false;
	vindex_parallel_end(pb);
	return true;
}

/*
 * Serial build: this backend alone, continuing on disk if need be.  The
 * arrays start at the estimated row count `cap` (bounded by
 * maintenance_work_mem) and grow when needed.
 */
static void
build_serial(HnswBuildState *bs, IndexInfo *info, uint32 cap)
{
	MemoryContext old;

	bs->sh = palloc0(sizeof(HnswBuildShared));
	cap = Max(Min(cap, (Size) maintenance_work_mem * 1024 / mem_stride(&bs->shape)), 1024);
	init_shared(bs->sh, &bs->shape, cap, 64 * mem_upper_bytes(&bs->shape, 1));
	init_build_state(bs, bs->heap, bs->index, &bs->shape);
	old = MemoryContextSwitchTo(bs->graph_ctx);
	bs->elems = palloc_extended(sizeof(MemElement) * bs->sh->cap, MCXT_ALLOC_HUGE);
	bs->base = palloc_extended(bs->sh->stride * bs->sh->cap, MCXT_ALLOC_HUGE);
	advise_huge_pages(bs->base, bs->sh->stride * bs->sh->cap);
	bs->arena = palloc_extended(bs->sh->arena_cap, MCXT_ALLOC_HUGE);
	MemoryContextSwitchTo(old);
	bs->sh->reltuples = table_index_build_scan(bs->heap, bs->index, info, true, true,
											   build_callback, bs, NULL);
	if (!bs->on_disk)
		flush_graph(bs);
}

/*
 * The number of rows the build will see, as the planner estimates a
 * table's size: the statistics' rows per page times the table's current
 * pages, so rows added since the last VACUUM or ANALYZE count too.  A
 * parallel build cannot grow its shared memory, so it is sized from this,
 * not from reltuples alone.
 */
static double
build_row_estimate(Relation heap)
{
	BlockNumber pages;
	double		tuples;
	double		allvisfrac;

	estimate_rel_size(heap, NULL, &pages, &tuples, &allvisfrac);
	return Max(tuples, 0);
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

/*
 * Arena bytes for the variable-size values of up to `cap` rows of `heap`,
 * for the fixed arena of a parallel build: the values are no larger in
 * sum than twice the table with its TOAST table (they are its column's
 * values, stored in the heap with at most a few bytes less header), plus
 * slack per row; never more than cap values of the largest size.  An
 * expression index whose values outgrow the table can exceed it (the
 * parallel build then stops with 54000 and says to build serially).
 */
static Size
varsize_arena_estimate(Relation heap, const HnswShape *shape, uint32 cap)
{
	double		bytes = (double) RelationGetNumberOfBlocks(heap) * BLCKSZ;
	double		largest = (double) cap * MAXALIGN(shape->vec_size);

	if (OidIsValid(heap->rd_rel->reltoastrelid))
	{
		Relation	toast = table_open(heap->rd_rel->reltoastrelid, AccessShareLock);

		bytes += (double) RelationGetNumberOfBlocks(toast) * BLCKSZ;
		table_close(toast, AccessShareLock);
	}
	return (Size) Min(largest, 2 * bytes + (double) cap * 64);
}

IndexBuildResult *
hnsw_build(Relation heap, Relation index, IndexInfo *info)
{
	IndexBuildResult *result;
	HnswBuildState bs;
	double		rows = build_row_estimate(heap);
	uint32		cap;
	Size		arena_cap;
	int			nworkers;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));
	memset(&bs, 0, sizeof(bs));
	bs.heap = heap;
	bs.index = index;
	build_shape(index, &bs.shape);
	disk_shape(index, &bs.shape, &bs.dshape);
	create_metapage(index, &bs.dshape, MAIN_FORKNUM);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, HNSW_PHASE_LOAD);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, (int64) rows);

	/* room for 20% more rows than estimated, upper levels included */
	cap = (uint32) Min(rows * 1.2 + 1000, (double) PG_UINT32_MAX / 2);
	/* 1 in m elements has upper levels, ~1.07 of them on average: room for 3 */
	arena_cap = (cap / bs.shape.m + 64) * 3 * mem_upper_bytes(&bs.shape, 1);
	if (bs.shape.varsize)
		arena_cap += varsize_arena_estimate(heap, &bs.shape, cap);
	nworkers = build_workers(heap, index, info, rows,
							 arena_cap + (Size) cap * (mem_stride(&bs.shape) +
													   sizeof(MemElement) + sizeof(uint8)));
	if (nworkers == 0 || !build_parallel(&bs, info, nworkers, cap, arena_cap))
		build_serial(&bs, info, cap);
	/* link what the graph's pruning cut off (hnsw.h, "Keeping ... linked") */
	hnsw_link_all(index);
	/* with filter columns, the filter directory (hnsw.h) */
	hnsw_filterdir_build(index);

	result = palloc(sizeof(IndexBuildResult));
	result->heap_tuples = bs.sh->reltuples;
	result->index_tuples = bs.sh->indtuples;
	MemoryContextDelete(bs.graph_ctx);
	MemoryContextDelete(bs.row_ctx);
	return result;
}

void
hnsw_buildempty(Relation index)
{
	HnswShape	shape;
	HnswShape	dshape;

	build_shape(index, &shape);
	disk_shape(index, &shape, &dshape);
	create_metapage(index, &dshape, INIT_FORKNUM);
	/* an empty index's parameters: those of one zero row (README: REINDEX) */
	if (dshape.quant != VINDEX_QUANT_NONE)
		hnsw_quant_write_params(index, INIT_FORKNUM, &dshape,
								hnsw_quant_train(&shape, dshape.quant, NULL, 0, 0));
}
