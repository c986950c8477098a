/*-------------------------------------------------------------------------
 *
 * hnsw_disk.c
 *	  The HNSW graph on disk as an HnswGraph: neighbour lists and distances
 *	  read through the buffer manager under share locks, batched with
 *	  prefetching.
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
hnsw_disk_read_header(HnswDiskGraph *dg, uint64 pos, HnswElementHeader *hdr)
{
	Buffer		buf = ReadBuffer(dg->index, HNSW_POS_BLOCK(pos));

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	*hdr = *(HnswElementHeader *) (HNSW_PAGE_BYTES(BufferGetPage(buf)) + HNSW_POS_OFFSET(pos));
	UnlockReleaseBuffer(buf);
}

static int
disk_neighbours(HnswGraph *g, uint64 id, int level, uint64 *out)
{
	HnswDiskGraph *dg = (HnswDiskGraph *) g;
	HnswElementHeader *hdr;
	Buffer		buf;
	int			n = 0;

	buf = ReadBuffer(dg->index, HNSW_POS_BLOCK(id));
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
	UnlockReleaseBuffer(buf);
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

	buf = ReadBuffer(dg->index, HNSW_POS_BLOCK(id));
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	hdr = (HnswElementHeader *) (HNSW_PAGE_BYTES(BufferGetPage(buf)) + off);
	prefix = hnsw_prefix_size(shape->m, hdr->level);
	here = Min(bytes, HNSW_PAGE_DATA - off - prefix);
	*live = hdr->ntids > 0;
	if (q && here == bytes)
	{
		d = vector_metric_distance(shape->metric, q, (float *) ((char *) hdr + prefix),
								   shape->dims);
		UnlockReleaseBuffer(buf);
		return d;
	}
	memcpy(dst, (char *) hdr + prefix, here);
	UnlockReleaseBuffer(buf);
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
 * The pages holding the vector of element `id`: its header's page and,
 * when a level-0 element's vector runs past that page's end, the next one
 * (else InvalidBuffer).  Pins them and prefetches the header and the whole
 * vector, so that the memory latency overlaps the distance computed
 * meanwhile.
 */
typedef struct VectorPages
{
	Buffer		first;
	Buffer		next;
} VectorPages;

static void
pin_vector(HnswDiskGraph *dg, uint64 id, VectorPages *vp)
{
	uint32		off = HNSW_POS_OFFSET(id);
	Size		start = off + hnsw_prefix_size(dg->g.shape.m, 0);
	Size		end = start + sizeof(float) * dg->g.shape.dims;
	const char *page;

	vp->first = ReadBuffer(dg->index, HNSW_POS_BLOCK(id));
	page = HNSW_PAGE_BYTES(BufferGetPage(vp->first));
	__builtin_prefetch(page + off);
	for (Size o = start; o < Min(end, HNSW_PAGE_DATA); o += 64)
		__builtin_prefetch(page + o);
	vp->next = InvalidBuffer;
	if (end > HNSW_PAGE_DATA && end <= 2 * HNSW_PAGE_DATA)
	{
		vp->next = ReadBuffer(dg->index, HNSW_POS_BLOCK(id) + 1);
		page = HNSW_PAGE_BYTES(BufferGetPage(vp->next));
		for (Size o = 0; o < end - HNSW_PAGE_DATA; o += 64)
			__builtin_prefetch(page + o);
	}
}

/* Distance from `q` to element `id` whose pages pin_vector pinned; unpins. */
static double
pinned_distance(HnswDiskGraph *dg, uint64 id, const float *q, VectorPages *vp,
				bool *live)
{
	HnswShape  *shape = &dg->g.shape;
	HnswElementHeader *hdr;
	uint32		off = HNSW_POS_OFFSET(id);
	Size		bytes = sizeof(float) * shape->dims;
	Size		prefix;
	Size		here;
	double		d;

	LockBuffer(vp->first, BUFFER_LOCK_SHARE);
	hdr = (HnswElementHeader *) (HNSW_PAGE_BYTES(BufferGetPage(vp->first)) + off);
	prefix = hnsw_prefix_size(shape->m, hdr->level);
	*live = hdr->ntids > 0;
	here = Min(bytes, HNSW_PAGE_DATA - off - prefix);
	if (here == bytes)
	{
		d = vector_metric_distance(shape->metric, q,
								   (float *) ((char *) hdr + prefix), shape->dims);
		UnlockReleaseBuffer(vp->first);
	}
	else
	{
		/* the vector continues on the following page(s) */
		memcpy(dg->scratch, (char *) hdr + prefix, here);
		UnlockReleaseBuffer(vp->first);
		if (BufferIsValid(vp->next) && bytes - here <= HNSW_PAGE_DATA)
		{
			LockBuffer(vp->next, BUFFER_LOCK_SHARE);
			memcpy((char *) dg->scratch + here,
				   HNSW_PAGE_BYTES(BufferGetPage(vp->next)), bytes - here);
			UnlockReleaseBuffer(vp->next);
			vp->next = InvalidBuffer;
		}
		else
			hnsw_read_stream(dg->index, id + prefix + here,
							 (char *) dg->scratch + here, bytes - here);
		d = vector_metric_distance(shape->metric, q, dg->scratch, shape->dims);
	}
	if (BufferIsValid(vp->next))
		ReleaseBuffer(vp->next);
	return d;
}

/*
 * Batched distances, pipelined: the next element's pages are pinned and its
 * vector prefetched before the current one's distance is computed.  A scan
 * is bound by memory latency (random pages in shared buffers), which this
 * overlaps.  Only two elements' pages are pinned at a time, so the pins stay
 * in the backend's small array of private reference counts (its overflow
 * hash table made each pin several times dearer).
 */
static void
disk_distances(HnswGraph *g, const uint64 *ids, int n, const float *q,
			   double *d, bool *live)
{
	HnswDiskGraph *dg = (HnswDiskGraph *) g;
	VectorPages ahead;

	if (n == 0)
		return;
	pin_vector(dg, ids[0], &ahead);
	for (int i = 0; i < n; i++)
	{
		VectorPages cur = ahead;

		if (i + 1 < n)
			pin_vector(dg, ids[i + 1], &ahead);
		d[i] = pinned_distance(dg, ids[i], q, &cur, &live[i]);
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
}
