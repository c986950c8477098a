/*-------------------------------------------------------------------------
 *
 * hnsw_disk.c
 *	  The HNSW graph on disk as an HnswGraph: neighbour lists and distances
 *	  read through the buffer manager under share locks, batched with
 *	  prefetching.  Every header, list and neighbour position read is
 *	  checked (hnsw.h) before it is used.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "hnsw/hnsw.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

Buffer
hnsw_lock_element(Relation index, const HnswShape *shape, uint64 pos, int mode,
				  HnswElementHeader **hdr)
{
	BlockNumber blkno = HNSW_POS_BLOCK(pos);
	Buffer		buf = ReadBuffer(index, blkno);

	LockBuffer(buf, mode);
	*hdr = hnsw_page_element(index, shape, BufferGetPage(buf), blkno, HNSW_POS_OFFSET(pos));
	return buf;
}

void
hnsw_disk_check_pos(HnswDiskGraph *dg, uint64 pos)
{
	if (pos != HNSW_INVALID_POS && HNSW_POS_BLOCK(pos) >= dg->nblocks)
	{
		dg->nblocks = RelationGetNumberOfBlocks(dg->index);
		if (HNSW_POS_BLOCK(pos) >= dg->nblocks)
			vindex_report_corrupted(dg->index, HNSW_METAPAGE_BLKNO,
									"The entry point lies in block %u; the index has %u blocks.",
									HNSW_POS_BLOCK(pos), dg->nblocks);
	}
}

static int
disk_neighbours(HnswGraph *g, uint64 id, int level, uint64 *out)
{
	HnswDiskGraph *dg = (HnswDiskGraph *) g;
	BlockNumber blkno = HNSW_POS_BLOCK(id);
	HnswElementHeader *hdr;
	Buffer		buf = hnsw_lock_element(dg->index, &g->shape, id, BUFFER_LOCK_SHARE, &hdr);
	int			n = 0;

	if (hdr->level >= level)
	{
		HnswPtr    *slots = hnsw_list_slots(hdr, g->shape.m, level);

		n = hnsw_checked_count(dg->index, &g->shape, hdr, level, blkno, id);
		for (int i = 0; i < n; i++)
			out[i] = hnsw_slot_pos(dg->index, &dg->nblocks, &slots[i], blkno);
	}
	UnlockReleaseBuffer(buf);
	return n;
}

/*
 * The work on element `id`, whose header's page `first` is pinned (and the
 * page after it `next`, or InvalidBuffer).  Under the share lock of the
 * header's page: check the header, note whether the element is live, copy
 * its heap TIDs into `tids` (unless NULL; *ntids their count), and compute
 * the distance from `q` to its vector in place when the vector lies in
 * that page, else copy the vector out and compute it there.  With
 * q == NULL the vector is copied into `into` and 0 returned.  Unpins both
 * pages.  The vector of an element that spans pages is read after the
 * header's lock is released; such elements never change (hnsw.h).  With
 * a filter (dg->filter), a live element whose filter area fails it is
 * reported not live.
 */
static double
element_op(HnswDiskGraph *dg, uint64 id, Buffer first, Buffer next, const char *q,
		   char *into, bool *live, ItemPointerData *tids, int *ntids)
{
	HnswShape  *shape = &dg->g.shape;
	uint32		off = HNSW_POS_OFFSET(id);
	Size		bytes;
	char	   *dst = q ? dg->scratch : into;
	HnswElementHeader *hdr;
	Size		prefix;
	Size		here;
	double		d = 0;

	LockBuffer(first, BUFFER_LOCK_SHARE);
	hdr = hnsw_page_element(dg->index, shape, BufferGetPage(first), HNSW_POS_BLOCK(id), off);
	prefix = hnsw_value_offset(shape, hdr->level);
	/* a variable-size value: its slot's room (the value may be shorter) */
	bytes = shape->varsize ?
		Min(hnsw_slot_bytes(shape, hdr) - prefix, shape->elem_size) : shape->elem_size;
	here = Min(bytes, HNSW_PAGE_DATA - off - prefix);
	*live = hdr->ntids > 0;
	if (tids)
	{
		memcpy(tids, hdr->tids, sizeof(ItemPointerData) * hdr->ntids);
		*ntids = hdr->ntids;
	}
	if (q && here == bytes)
	{
		if (*live && dg->filter)
			*live = vindex_filter_match(dg->filter,
										(char *) hdr + prefix + HNSW_FILTER_OFFSET(shape));
		hnsw_check_value(dg->index, shape, hdr, (char *) hdr + prefix, HNSW_POS_BLOCK(id));
		d = hnsw_disk_distance(dg, q, (char *) hdr + prefix);
		UnlockReleaseBuffer(first);
		if (BufferIsValid(next))
			ReleaseBuffer(next);
		return d;
	}
	memcpy(dst, (char *) hdr + prefix, here);
	UnlockReleaseBuffer(first);
	if (here < bytes)
		hnsw_read_stream(dg->index, &dg->nblocks, next, id + prefix + here,
						 (char *) dst + here, bytes - here);
	else if (BufferIsValid(next))
		ReleaseBuffer(next);
	if (shape->varsize && shape->elem->value_size(dst) > bytes)
		vindex_report_corrupted(dg->index, HNSW_POS_BLOCK(id),
								"A %s value of %zu bytes does not fit in its slot of %zu bytes.",
								shape->elem->name, shape->elem->value_size(dst), bytes);
	if (*live && dg->filter)
		*live = vindex_filter_match(dg->filter, dst + HNSW_FILTER_OFFSET(shape));
	if (q)
		d = hnsw_disk_distance(dg, q, dst);
	return d;
}

static double
disk_distance(HnswGraph *g, uint64 id, const char *q, bool *live)
{
	HnswDiskGraph *dg = (HnswDiskGraph *) g;

	return element_op(dg, id, ReadBuffer(dg->index, HNSW_POS_BLOCK(id)), InvalidBuffer,
					  q, NULL, live, NULL, NULL);
}

double
hnsw_disk_element_tids(HnswDiskGraph *dg, uint64 pos, const char *q,
					   ItemPointerData *tids, int *ntids)
{
	bool		live;
	double		d;

	d = element_op(dg, pos, ReadBuffer(dg->index, HNSW_POS_BLOCK(pos)), InvalidBuffer,
				   q, NULL, &live, tids, ntids);
	if (!live)
		*ntids = 0;
	return d;
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
	Size		start = off + hnsw_value_offset(&dg->g.shape, 0);
	/*
	 * a variable-size value's length is on the page, not yet read: prefetch
	 * what a typical one takes (sparsevec: 60 elements), not the largest
	 */
	Size		end = start + (dg->g.shape.varsize ? Min(dg->g.shape.elem_size, 512) :
							   dg->g.shape.elem_size);
	BlockNumber blkno = HNSW_POS_BLOCK(id);
	const char *page;

	vp->first = ReadBuffer(dg->index, blkno);
	page = HNSW_PAGE_BYTES(BufferGetPage(vp->first));
	__builtin_prefetch(page + off);
	for (Size o = start; o < Min(end, HNSW_PAGE_DATA); o += 64)
		__builtin_prefetch(page + o);
	vp->next = InvalidBuffer;
	if (end > HNSW_PAGE_DATA && end <= 2 * HNSW_PAGE_DATA && blkno + 1 < dg->nblocks)
	{
		vp->next = ReadBuffer(dg->index, blkno + 1);
		page = HNSW_PAGE_BYTES(BufferGetPage(vp->next));
		for (Size o = 0; o < end - HNSW_PAGE_DATA; o += 64)
			__builtin_prefetch(page + o);
	}
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
disk_distances(HnswGraph *g, const uint64 *ids, int n, const char *q,
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
		d[i] = element_op(dg, ids[i], cur.first, cur.next, q, NULL, &live[i], NULL, NULL);
	}
}

static const char *
disk_vector(HnswGraph *g, uint64 id, char *scratch)
{
	HnswDiskGraph *dg = (HnswDiskGraph *) g;
	bool		live;

	element_op(dg, id, ReadBuffer(dg->index, HNSW_POS_BLOCK(id)), InvalidBuffer,
			   NULL, scratch, &live, NULL, NULL);
	return scratch;
}

void
hnsw_disk_graph_init(HnswDiskGraph *dg, Relation index, const HnswShape *shape)
{
	dg->g.neighbours = disk_neighbours;
	dg->g.distance = disk_distance;
	dg->g.vector = disk_vector;
	dg->g.distances = disk_distances;
	dg->g.distances_below = NULL;
	dg->g.prefetch = NULL;
	dg->g.shape = *shape;
	dg->g.nelements = 0;
	dg->index = index;
	dg->nblocks = 1;			/* the metapage; refreshed on first use */
	dg->scratch = palloc(shape->elem_size);
	dg->filter = NULL;
	hnsw_quant_graph_init(dg);
}
