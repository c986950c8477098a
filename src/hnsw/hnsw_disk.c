/*-------------------------------------------------------------------------
 *
 * hnsw_disk.c
 *	  The HNSW graph on disk as an HnswGraph: neighbour lists and distances
 *	  read through the buffer manager under share locks, batched with
 *	  prefetching, and the per-scan cache of pinned pages.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "hnsw/hnsw.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

Buffer
hnsw_lock_element(Relation index, uint64 pos, int mode, HnswElementHeader **hdr)
{
	Buffer		buf = ReadBuffer(index, HNSW_POS_BLOCK(pos));

	LockBuffer(buf, mode);
	*hdr = (HnswElementHeader *) (HNSW_PAGE_BYTES(BufferGetPage(buf)) + HNSW_POS_OFFSET(pos));
	return buf;
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

void
hnsw_disk_read_header(HnswDiskGraph *dg, uint64 pos, HnswElementHeader *hdr)
{
	Buffer		buf;

	pins_begin(dg);
	buf = pin_block(dg, HNSW_POS_BLOCK(pos));
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	*hdr = *(HnswElementHeader *) (HNSW_PAGE_BYTES(BufferGetPage(buf)) + HNSW_POS_OFFSET(pos));
	unlock_block(dg, buf);
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
