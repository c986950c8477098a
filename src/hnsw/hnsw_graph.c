/*-------------------------------------------------------------------------
 *
 * hnsw_graph.c
 *	  The HNSW algorithms of Malkov & Yashunin (2016), written once over the
 *	  HnswGraph interface so that the in-memory build and the disk index
 *	  share them: layer search (Algorithm 2), greedy descent through the
 *	  upper layers, the neighbour selection heuristic (Algorithm 4) and the
 *	  random level.  Also the candidate heaps and the visited set.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "hnsw/hnsw.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#if PG_VERSION_NUM >= 150000
#include "common/pg_prng.h"
#endif

/* ---------------------------------------------------------------------
 * Candidate heaps
 * ---------------------------------------------------------------------
 */
void
hnsw_heap_init(HnswHeap *h, int cap, bool max)
{
	h->cap = Max(cap, 8);
	h->a = palloc(sizeof(HnswCand) * h->cap);
	h->n = 0;
	h->max = max;
}

/* Does a belong above b in the heap? */
static inline bool
heap_before(const HnswHeap *h, const HnswCand *a, const HnswCand *b)
{
	return h->max ? a->dist > b->dist : a->dist < b->dist;
}

void
hnsw_heap_push(HnswHeap *h, uint64 id, double dist)
{
	int			i;

	if (h->n == h->cap)
	{
		h->cap *= 2;
		h->a = repalloc_huge(h->a, sizeof(HnswCand) * h->cap);
	}
	i = h->n++;
	h->a[i].id = id;
	h->a[i].dist = dist;
	while (i > 0)
	{
		int			parent = (i - 1) / 2;
		HnswCand	tmp;

		if (!heap_before(h, &h->a[i], &h->a[parent]))
			break;
		tmp = h->a[i];
		h->a[i] = h->a[parent];
		h->a[parent] = tmp;
		i = parent;
	}
}

HnswCand
hnsw_heap_pop(HnswHeap *h)
{
	HnswCand	top = h->a[0];
	HnswCand	last = h->a[--h->n];
	int			i = 0;

	for (;;)
	{
		int			child = 2 * i + 1;

		if (child >= h->n)
			break;
		if (child + 1 < h->n && heap_before(h, &h->a[child + 1], &h->a[child]))
			child++;
		if (!heap_before(h, &h->a[child], &last))
			break;
		h->a[i] = h->a[child];
		i = child;
	}
	if (h->n > 0)
		h->a[i] = last;
	return top;
}

int
hnsw_cand_cmp(const void *a, const void *b)
{
	const HnswCand *x = a,
			   *y = b;

	if (x->dist != y->dist)
		return x->dist < y->dist ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* ---------------------------------------------------------------------
 * Visited set
 * ---------------------------------------------------------------------
 */
/* 64-bit finaliser mix (as in MurmurHash3's fmix64) folded to 32 bits. */
static inline uint32
hash_pos(uint64 k)
{
	k ^= k >> 33;
	k *= UINT64CONST(0xff51afd7ed558ccd);
	k ^= k >> 33;
	k *= UINT64CONST(0xc4ceb9fe1a85ec53);
	k ^= k >> 33;
	return (uint32) k;
}

typedef struct VisitedEntry
{
	uint64		key;
	char		status;
} VisitedEntry;

#define SH_PREFIX visitedhash
#define SH_ELEMENT_TYPE VisitedEntry
#define SH_KEY_TYPE uint64
#define SH_KEY key
#define SH_HASH_KEY(tb, k) hash_pos(k)
#define SH_EQUAL(tb, a, b) ((a) == (b))
#define SH_SCOPE static inline
#define SH_DEFINE
#define SH_DECLARE
#include "lib/simplehash.h"

static uint8 *
alloc_stamps(MemoryContext ctx, uint32 n)
{
	return MemoryContextAllocExtended(ctx, (Size) n,
									  MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
}

void
hnsw_visited_init(HnswVisited *v, HnswGraph *g)
{
	v->hash = NULL;
	v->stamp = NULL;
	v->mark = 1;
	v->cap = 0;
	if (g->nelements > 0)
	{
		v->cap = g->nelements;
		v->stamp = alloc_stamps(CurrentMemoryContext, v->cap);
	}
	else
		v->hash = visitedhash_create(CurrentMemoryContext, 256, NULL);
}

void
hnsw_visited_reset(HnswVisited *v, HnswGraph *g)
{
	if (v->hash)
	{
		visitedhash_reset(v->hash);
		return;
	}
	if (g->nelements > v->cap)
	{
		MemoryContext ctx = GetMemoryChunkContext(v->stamp);

		/* in the context of the old array, which outlives per-row contexts */
		pfree(v->stamp);
		v->cap = Max(g->nelements, v->cap * 2);
		v->stamp = alloc_stamps(ctx, v->cap);
		v->mark = 1;
		return;
	}
	if (++v->mark == 0)
	{
		memset(v->stamp, 0, v->cap);
		v->mark = 1;
	}
}

/* inlined into the layer search, which tests every neighbour */
static pg_attribute_always_inline bool
visited_test_and_set(HnswVisited *v, uint64 id)
{
	bool		found;

	if (v->hash)
	{
		visitedhash_insert(v->hash, id, &found);
		return found;
	}
	if (v->stamp[id] == v->mark)
		return true;
	v->stamp[id] = v->mark;
	return false;
}

bool
hnsw_visited_test_and_set(HnswVisited *v, uint64 id)
{
	return visited_test_and_set(v, id);
}

bool
hnsw_visited_contains(HnswVisited *v, uint64 id)
{
	return visitedhash_lookup(v->hash, id) != NULL;
}

/* ---------------------------------------------------------------------
 * Layer search (Algorithm 2)
 * ---------------------------------------------------------------------
 */
void
hnsw_search_init(HnswSearch *s, HnswGraph *g, const char *q, bool live_only,
				 bool keep_discarded)
{
	s->g = g;
	s->q = q;
	hnsw_heap_init(&s->cand, 64, false);
	hnsw_heap_init(&s->w, 64, true);
	hnsw_heap_init(&s->discarded, 64, false);
	s->live_only = live_only;
	s->keep_discarded = keep_discarded;
	hnsw_visited_init(&s->visited, g);
	s->ndistances = 0;
	s->max_distances = 0;
	s->nlive = 0;
	s->stopped = false;
	s->nbuf = palloc(sizeof(uint64) * HNSW_CAP(g->shape.m, 0));
	s->dbuf = palloc(sizeof(double) * HNSW_CAP(g->shape.m, 0));
	s->lbuf = palloc(sizeof(bool) * HNSW_CAP(g->shape.m, 0));
}

void
hnsw_search_seed(HnswSearch *s, const HnswCand *entries, int n)
{
	s->cand.n = 0;
	s->w.n = 0;
	s->discarded.n = 0;
	hnsw_visited_reset(&s->visited, s->g);
	for (int i = 0; i < n; i++)
	{
		bool		live = true;
		double		d = entries[i].dist;

		if (hnsw_visited_test_and_set(&s->visited, entries[i].id))
			continue;
		if (s->live_only)
			d = s->g->distance(s->g, entries[i].id, s->q, &live);
		hnsw_heap_push(&s->cand, entries[i].id, d);
		if (live)
			hnsw_heap_push(&s->w, entries[i].id, d);
	}
}

/* Add a result to w, keeping at most ef; what falls out may be kept. */
static inline void
add_result(HnswSearch *s, uint64 id, double d, int ef)
{
	hnsw_heap_push(&s->w, id, d);
	if (s->w.n > ef)
	{
		HnswCand	out = hnsw_heap_pop(&s->w);

		if (s->keep_discarded)
			hnsw_heap_push(&s->discarded, out.id, out.dist);
	}
}

/*
 * Keep the unvisited of the n neighbours in s->nbuf and compute their
 * distances into s->dbuf / s->lbuf, batched or with prefetching so the
 * memory latency of one overlaps the work on the others.  A distance not
 * below `bound` may be any value >= bound (distances_below).  Returns how
 * many were kept.
 */
static int
unvisited_distances(HnswSearch *s, int n, double bound)
{
	HnswGraph  *g = s->g;
	int			kept = 0;

	for (int i = 0; i < n; i++)
		if (!visited_test_and_set(&s->visited, s->nbuf[i]))
			s->nbuf[kept++] = s->nbuf[i];
	if (g->distances_below)
	{
		g->distances_below(g, s->nbuf, kept, s->q, bound, s->dbuf, s->lbuf);
		return kept;
	}
	if (g->distances)
	{
		g->distances(g, s->nbuf, kept, s->q, s->dbuf, s->lbuf);
		return kept;
	}
	if (g->prefetch)
		for (int i = 0; i < kept; i++)
			g->prefetch(g, s->nbuf[i]);
	for (int i = 0; i < kept; i++)
		s->dbuf[i] = g->distance(g, s->nbuf[i], s->q, &s->lbuf[i]);
	return kept;
}

void
hnsw_search_layer(HnswSearch *s, int level, int ef)
{
	HnswGraph  *g = s->g;

	/* An iterative scan's next round starts from what the last one dropped. */
	while (s->w.n < ef && s->discarded.n > 0)
	{
		HnswCand	c = hnsw_heap_pop(&s->discarded);

		hnsw_heap_push(&s->w, c.id, c.dist);
	}

	while (s->cand.n > 0)
	{
		HnswCand	c = HNSW_HEAP_TOP(&s->cand);
		int			n;

		if (s->w.n >= ef && c.dist > HNSW_HEAP_TOP(&s->w).dist)
			break;
		if (s->max_distances > 0 && s->ndistances >= s->max_distances)
		{
			s->stopped = true;
			break;
		}
		hnsw_heap_pop(&s->cand);
		CHECK_FOR_INTERRUPTS();
		n = g->neighbours(g, c.id, level, s->nbuf);

		/*
		 * Once w is full, what is not nearer than its top (which only comes
		 * nearer meanwhile) is dropped below, unless kept for later rounds:
		 * its distance need not be exact.  On Fashion-MNIST's 784-d pixels
		 * (L2) most distances of a build are dropped so, and stopping them
		 * early left 27% of their blocks unread.
		 */
		n = unvisited_distances(s, n, s->w.n >= ef && !s->keep_discarded ?
								HNSW_HEAP_TOP(&s->w).dist : INFINITY);
		for (int i = 0; i < n; i++)
		{
			uint64		id = s->nbuf[i];
			bool		live = s->lbuf[i];
			double		d = s->dbuf[i];

			s->ndistances++;
			s->nlive += live;
			if (s->w.n < ef || d < HNSW_HEAP_TOP(&s->w).dist)
			{
				hnsw_heap_push(&s->cand, id, d);
				if (live || !s->live_only)
					add_result(s, id, d, ef);
			}
			else if (s->keep_discarded)
			{
				/* never expanded this round (see the loop's stop test) */
				hnsw_heap_push(&s->cand, id, d);
				if (live || !s->live_only)
					hnsw_heap_push(&s->discarded, id, d);
			}
		}
	}
}

HnswCand *
hnsw_search_take(HnswSearch *s, int *n)
{
	HnswCand   *out = palloc(sizeof(HnswCand) * Max(s->w.n, 1));

	*n = s->w.n;
	for (int i = s->w.n - 1; i >= 0; i--)
		out[i] = hnsw_heap_pop(&s->w);
	return out;
}

HnswCand
hnsw_greedy_descend(HnswGraph *g, const char *q, uint64 entry, int entry_level,
					int to_level)
{
	HnswCand	cur;
	bool		live;
	bool		found;
	int			cap = HNSW_CAP(g->shape.m, 0);
	uint64	   *nbuf = palloc(sizeof(uint64) * cap);
	double	   *dbuf = palloc(sizeof(double) * cap);
	bool	   *lbuf = palloc(sizeof(bool) * cap);
	struct visitedhash_hash *seen = visitedhash_create(CurrentMemoryContext, 64, NULL);

	cur.id = entry;
	cur.dist = g->distance(g, entry, q, &live);
	visitedhash_insert(seen, entry, &found);
	for (int level = entry_level; level > to_level; level--)
	{
		bool		changed = true;

		while (changed)
		{
			int			all = g->neighbours(g, cur.id, level, nbuf);
			int			n = 0;

			/*
			 * Skip elements whose distance this descent already took
			 * (consecutive lists overlap a lot): cur is at least as near as
			 * each of them, so the result is the same.  A hash set even for
			 * memory graphs, whose dense HnswVisited would cost an array of
			 * all elements per descent.
			 */
			for (int i = 0; i < all; i++)
			{
				visitedhash_insert(seen, nbuf[i], &found);
				if (!found)
					nbuf[n++] = nbuf[i];
			}
			changed = false;
			/* only one nearer than cur matters */
			if (g->distances_below)
				g->distances_below(g, nbuf, n, q, cur.dist, dbuf, lbuf);
			else if (g->distances)
				g->distances(g, nbuf, n, q, dbuf, lbuf);
			else
			{
				if (g->prefetch)
					for (int i = 0; i < n; i++)
						g->prefetch(g, nbuf[i]);
				for (int i = 0; i < n; i++)
					dbuf[i] = g->distance(g, nbuf[i], q, &lbuf[i]);
			}
			for (int i = 0; i < n; i++)
			{
				if (dbuf[i] < cur.dist)
				{
					cur.id = nbuf[i];
					cur.dist = dbuf[i];
					changed = true;
				}
			}
		}
	}
	visitedhash_destroy(seen);
	pfree(nbuf);
	pfree(dbuf);
	pfree(lbuf);
	return cur;
}

/*
 * Distance between a candidate (vector v, at `dist` from the base) and a
 * kept neighbour r, and the candidate's distance to the base, as the
 * heuristic compares them.  Under inner product the test needs a metric (an
 * element of large norm is "nearer" to almost everything than anything is
 * to itself, which would prune nearly all candidates), so the angular
 * (cosine) distance decides there: neighbours are kept when they point in
 * different directions, in inner-product order.
 */
static bool
dominated(HnswGraph *g, const char *v, const char *base, double dist,
		  uint64 r, char *rscratch)
{
	bool		live;

	if (g->shape.metric == VECTOR_METRIC_IP)
	{
		const char *rv = g->vector(g, r, rscratch);

		return g->shape.elem->distance(VECTOR_METRIC_COSINE, v, rv, g->shape.dims) <
			g->shape.elem->distance(VECTOR_METRIC_COSINE, v, base, g->shape.dims);
	}
	return g->distance(g, r, v, &live) < dist;
}

int
hnsw_select_neighbours(HnswGraph *g, const char *base, const HnswCand *cands,
					   int n, int cap, int fill, HnswCand *out)
{
	return hnsw_select_known(g, base, cands, n, cap, fill, NULL, out, NULL);
}

/* Is `id` among the first `kept` of out? */
static inline bool
is_kept(const HnswCand *out, int kept, uint64 id)
{
	for (int j = 0; j < kept; j++)
		if (out[j].id == id)
			return true;
	return false;
}

int
hnsw_select_known(HnswGraph *g, const char *base, const HnswCand *cands,
				  int n, int cap, int fill, const uint64 *known, HnswCand *out,
				  uint64 *known_out)
{
	int			kept = 0;
	int			total;
	char	   *scratch = palloc(g->shape.elem_size);
	char	   *rscratch = palloc(g->shape.elem_size);
	/* per candidate: HNSW_SEL_KEPT, its dominator, or unexamined */
	uint64	   *dom = palloc(sizeof(uint64) * Max(n, 1));
	/* per kept one: it was kept by the earlier selection too */
	bool	   *was_kept = palloc(sizeof(bool) * Max(cap, 1));

	for (int i = 0; i < n; i++)
		dom[i] = HNSW_SEL_UNKNOWN;
	for (int i = 0; i < n && kept < cap; i++)
	{
		uint64		prior = known ? known[i] : HNSW_SEL_UNKNOWN;
		const char *v;
		bool		good = true;

		if (g->prefetch && i + 1 < n)
			g->prefetch(g, cands[i + 1].id);
		/* dominated before by one that is kept again: dominated still */
		if (prior != HNSW_SEL_KEPT && prior != HNSW_SEL_UNKNOWN &&
			is_kept(out, kept, prior))
		{
			dom[i] = prior;
			continue;
		}
		if (kept > 0)
		{
			v = g->vector(g, cands[i].id, scratch);
			for (int j = 0; j < kept && good; j++)
			{
				/* kept both times: out[j] was tested against it then */
				if (prior == HNSW_SEL_KEPT && was_kept[j])
					continue;
				if (dominated(g, v, base, cands[i].dist, out[j].id, rscratch))
				{
					good = false;
					dom[i] = out[j].id;
				}
			}
		}
		if (good)
		{
			was_kept[kept] = prior == HNSW_SEL_KEPT;
			dom[i] = HNSW_SEL_KEPT;
			out[kept++] = cands[i];
		}
	}
	total = kept;
	if (known_out)
		for (int j = 0; j < kept; j++)
			known_out[j] = HNSW_SEL_KEPT;
	/* keepPrunedConnections, up to `fill` */
	/*
	 * Under inner product the angular test keeps few neighbours (~4 of 32 on
	 * Fashion-MNIST); filling half the list with the strongest pruned ones
	 * raised recall@10 at ef_search 40 from 0.95 to 0.96 there.
	 */
	if (g->shape.metric == VECTOR_METRIC_IP)
		fill = Max(fill, cap / 2);
	for (int i = 0; i < n && total < Min(fill, cap); i++)
		if (dom[i] != HNSW_SEL_KEPT && dom[i] != HNSW_SEL_UNKNOWN)
		{
			if (known_out)
				known_out[total] = dom[i];
			out[total++] = cands[i];
		}
	pfree(scratch);
	pfree(rscratch);
	pfree(dom);
	pfree(was_kept);
	return total;
}

int			hnsw_level_seed = -1;
static uint64 level_state;

void
hnsw_level_seed_assign(int newval, void *extra)
{
	level_state = (uint64) newval;
}

/* splitmix64 (Steele, Lea and Flood, 2014): the next of the seeded sequence */
static uint64
seeded_next(void)
{
	uint64		z = (level_state += UINT64CONST(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64CONST(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64CONST(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

int
hnsw_random_level(int m, int max_level)
{
	double		u;
	int			level;

	if (hnsw_level_seed >= 0)
		u = ((double) (seeded_next() >> 11) + 1.0) / (double) (UINT64CONST(1) << 53);	/* (0, 1] */
	else
#if PG_VERSION_NUM >= 150000
		u = 1.0 - pg_prng_double(&pg_global_prng_state);	/* (0, 1] */
#else
		u = ((double) random() + 1.0) / ((double) MAX_RANDOM_VALUE + 1.0);
#endif
	level = (int) floor(-log(u) / log(m));

	return Min(level, max_level);
}
