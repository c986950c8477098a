/*-------------------------------------------------------------------------
 *
 * hnsw_page.c
 *	  HNSW pages: the metapage, the element stream (layout arithmetic,
 *	  appending elements WAL-logged, reading stream bytes).
 *
 * See hnsw.h for the layout.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "hnsw/hnsw.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/rel.h"

Size
hnsw_element_size(const HnswShape *shape, int level)
{
	return hnsw_prefix_size(shape->m, level) + sizeof(float) * shape->dims;
}

int
hnsw_max_level(int m)
{
	int			level = 0;

	while (level < HNSW_MAX_LEVEL && hnsw_prefix_size(m, level + 1) <= HNSW_PAGE_DATA)
		level++;
	return level;
}

uint64
hnsw_place(const HnswShape *shape, uint64 tail, int level)
{
	uint64		pos = TYPEALIGN(4, tail);
	Size		need = hnsw_element_size(shape, level);

	/*
	 * An element that fits in a page never crosses a page boundary: reading
	 * a vector from two pages costs a second buffer lookup, pin and lock
	 * and a copy, which made up a fifth of a scan's work at 784 dimensions.
	 * Larger elements only keep their prefix in one page.
	 */
	if (need > HNSW_PAGE_DATA)
		need = hnsw_prefix_size(shape->m, level);
	if (HNSW_POS_OFFSET(pos) + need > HNSW_PAGE_DATA)
		pos = (pos / HNSW_PAGE_DATA + 1) * HNSW_PAGE_DATA;
	return pos;
}

void
hnsw_ptr_set(HnswPtr *ptr, uint64 pos)
{
	if (pos == HNSW_INVALID_POS)
	{
		BlockIdSet(&ptr->blk, InvalidBlockNumber);
		ptr->off = 0;
		return;
	}
	BlockIdSet(&ptr->blk, HNSW_POS_BLOCK(pos));
	ptr->off = HNSW_POS_OFFSET(pos);
}

static void
init_page(Page page, uint16 kind)
{
	HnswPageOpaqueData *opaque;

	PageInit(page, BLCKSZ, sizeof(HnswPageOpaqueData));
	opaque = (HnswPageOpaqueData *) PageGetSpecialPointer(page);
	opaque->page_kind = kind;
	opaque->magic = HNSW_MAGIC;
}

void
hnsw_init_data_page(Page page)
{
	init_page(page, HNSW_PAGE_DATA_KIND);
}

void
hnsw_init_meta_page(Page page, const HnswShape *shape)
{
	HnswMetaPageData *meta;

	init_page(page, HNSW_PAGE_META);
	meta = hnsw_meta(page);
	meta->magic = HNSW_MAGIC;
	meta->version = HNSW_VERSION;
	meta->dims = shape->dims;
	meta->m = shape->m;
	meta->ef_construction = shape->ef_construction;
	meta->metric = shape->metric;
	meta->entry_level = -1;
	meta->entry = HNSW_INVALID_POS;
	meta->tail = 0;
	((PageHeader) page)->pd_lower = SizeOfPageHeaderData + sizeof(HnswMetaPageData);
}

HnswMetaPageData *
hnsw_meta(Page page)
{
	return (HnswMetaPageData *) HNSW_PAGE_BYTES(page);
}

void
hnsw_check_page(Relation index, Page page, BlockNumber blkno, uint16 kind)
{
	HnswPageOpaqueData *opaque = (HnswPageOpaqueData *) PageGetSpecialPointer(page);

	if (PageIsNew(page) || PageGetSpecialSize(page) != MAXALIGN(sizeof(HnswPageOpaqueData)) ||
		opaque->magic != HNSW_MAGIC || opaque->page_kind != kind)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("index \"%s\" contains unexpected page %u",
						RelationGetRelationName(index), blkno),
				 errhint("Please REINDEX it.")));
}

void
hnsw_read_meta(Relation index, HnswShape *shape, uint64 *entry, int *entry_level,
			   uint64 *tail)
{
	Buffer		buf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	Page		page;
	HnswMetaPageData *meta;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	hnsw_check_page(index, page, HNSW_METAPAGE_BLKNO, HNSW_PAGE_META);
	meta = hnsw_meta(page);
	if (meta->magic != HNSW_MAGIC || meta->version != HNSW_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("index \"%s\" has an unsupported metapage (version %u)",
						RelationGetRelationName(index), meta->version),
				 errhint("Please REINDEX it.")));
	shape->dims = meta->dims;
	shape->m = meta->m;
	shape->ef_construction = meta->ef_construction;
	shape->metric = (VectorMetric) meta->metric;
	shape->max_level = hnsw_max_level(meta->m);
	if (entry)
		*entry = meta->entry;
	if (entry_level)
		*entry_level = meta->entry_level;
	if (tail)
		*tail = meta->tail;
	UnlockReleaseBuffer(buf);
}

void
hnsw_form_element(const HnswShape *shape, char *buf, int level,
				  const ItemPointerData *tids, int ntids,
				  uint64 *const *nbrs, const int *counts, const float *vec)
{
	HnswElementHeader *hdr = (HnswElementHeader *) buf;
	Size		prefix = hnsw_prefix_size(shape->m, level);

	memset(buf, 0, prefix);
	hdr->level = level;
	hdr->ntids = ntids;
	memcpy(hdr->tids, tids, sizeof(ItemPointerData) * ntids);
	for (int l = 0; l <= level; l++)
	{
		char	   *list = buf + hnsw_list_offset(shape->m, l);
		HnswPtr    *slots = (HnswPtr *) (list + sizeof(uint16));
		int			n = nbrs && nbrs[l] ? counts[l] : 0;

		*(uint16 *) list = n;
		for (int i = 0; i < n; i++)
			hnsw_ptr_set(&slots[i], nbrs[l][i]);
	}
	memcpy(buf + prefix, vec, sizeof(float) * shape->dims);
}

/* Extend the relation with empty pages until block `last` exists. */
static void
extend_to(Relation index, BlockNumber last)
{
	if (last < RelationGetNumberOfBlocks(index))
		return;
	LockRelationForExtension(index, ExclusiveLock);
	while (last >= RelationGetNumberOfBlocks(index))
		ReleaseBuffer(ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, NULL));
	UnlockRelationForExtension(index, ExclusiveLock);
}

static Buffer
lock_data_block(Relation index, BlockNumber blkno)
{
	Buffer		buf = ReadBuffer(index, blkno);

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	return buf;
}

/*
 * Copy `len` bytes at in-page offset `off` of a registered page copy and
 * end the page's stream bytes there.
 */
static void
write_page_bytes(Page page, uint32 off, const char *src, Size len)
{
	PageHeader	hdr = (PageHeader) page;

	if (PageIsNew(page))
		hnsw_init_data_page(page);
	memcpy(HNSW_PAGE_BYTES(page) + off, src, len);
	/* appends are serialised, so these are the page's last stream bytes */
	hdr->pd_lower = SizeOfPageHeaderData + off + len;
}

uint64
hnsw_append_element(Relation index, const HnswShape *shape, const char *buf,
					Size size, int level)
{
	Buffer		metabuf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	HnswMetaPageData *meta;
	uint64		pos;
	BlockNumber first,
				last;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	meta = hnsw_meta(BufferGetPage(metabuf));
	pos = hnsw_place(shape, meta->tail, level);
	first = HNSW_POS_BLOCK(pos);
	last = HNSW_POS_BLOCK(pos + size - 1);
	extend_to(index, last);

	/*
	 * Write the pages after the first in groups, last group first: they lie
	 * beyond the tail until the final record, so a crash in between leaves
	 * only unreferenced bytes that the next append overwrites.  The final
	 * record holds the metapage and up to two data pages, so the tail moves
	 * atomically with the element's header.
	 */
	while (last > first + 1)
	{
		BlockNumber lo = Max(first + 2, last >= 3 ? last - 3 : 0);
		GenericXLogState *state = GenericXLogStart(index);
		Buffer		bufs[4];

		for (BlockNumber b = lo; b <= last; b++)
		{
			uint64		start = (uint64) (b - 1) * HNSW_PAGE_DATA;
			uint64		from = Max(start, pos);
			uint64		to = Min(start + HNSW_PAGE_DATA, pos + size);
			Page		page;

			bufs[b - lo] = lock_data_block(index, b);
			page = GenericXLogRegisterBuffer(state, bufs[b - lo], GENERIC_XLOG_FULL_IMAGE);
			write_page_bytes(page, from - start, buf + (from - pos), to - from);
		}
		GenericXLogFinish(state);
		for (BlockNumber b = lo; b <= last; b++)
			UnlockReleaseBuffer(bufs[b - lo]);
		last = lo - 1;
	}

	{
		GenericXLogState *state = GenericXLogStart(index);
		Buffer		bufs[2];
		HnswMetaPageData *wmeta;

		wmeta = hnsw_meta(GenericXLogRegisterBuffer(state, metabuf, 0));
		for (BlockNumber b = first; b <= last; b++)
		{
			uint64		start = (uint64) (b - 1) * HNSW_PAGE_DATA;
			uint64		from = Max(start, pos);
			uint64		to = Min(start + HNSW_PAGE_DATA, pos + size);
			bool		fresh;
			Page		page;

			bufs[b - first] = lock_data_block(index, b);
			fresh = PageIsNew(BufferGetPage(bufs[b - first]));
			page = GenericXLogRegisterBuffer(state, bufs[b - first],
											 fresh ? GENERIC_XLOG_FULL_IMAGE : 0);
			write_page_bytes(page, from - start, buf + (from - pos), to - from);
		}
		wmeta->tail = pos + size;
		GenericXLogFinish(state);
		for (BlockNumber b = first; b <= last; b++)
			UnlockReleaseBuffer(bufs[b - first]);
	}
	UnlockReleaseBuffer(metabuf);
	return pos;
}

void
hnsw_set_entry(Relation index, uint64 entry, int level, bool only_if_higher)
{
	Buffer		metabuf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	HnswMetaPageData *meta;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	meta = hnsw_meta(BufferGetPage(metabuf));
	if (!only_if_higher || level > meta->entry_level)
	{
		GenericXLogState *state = GenericXLogStart(index);

		meta = hnsw_meta(GenericXLogRegisterBuffer(state, metabuf, 0));
		meta->entry = entry;
		meta->entry_level = level;
		GenericXLogFinish(state);
	}
	UnlockReleaseBuffer(metabuf);
}

void
hnsw_read_stream(Relation index, uint64 pos, char *dst, Size len)
{
	while (len > 0)
	{
		uint32		off = HNSW_POS_OFFSET(pos);
		Size		n = Min(len, HNSW_PAGE_DATA - off);
		Buffer		buf = ReadBuffer(index, HNSW_POS_BLOCK(pos));

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		memcpy(dst, HNSW_PAGE_BYTES(BufferGetPage(buf)) + off, n);
		UnlockReleaseBuffer(buf);
		dst += n;
		pos += n;
		len -= n;
	}
}

void
hnsw_walk(Relation index, const HnswShape *shape, uint64 tail, bool exclusive,
		  HnswWalkFn fn, void *arg)
{
	uint64		next = 0;

	while (next < tail)
	{
		BlockNumber blkno = HNSW_POS_BLOCK(next);
		Buffer		buf = ReadBuffer(index, blkno);
		GenericXLogState *state = NULL;
		Page		page;
		bool		modified = false;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, exclusive ? BUFFER_LOCK_EXCLUSIVE : BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		hnsw_check_page(index, page, blkno, HNSW_PAGE_DATA_KIND);
		if (exclusive)
		{
			state = GenericXLogStart(index);
			page = GenericXLogRegisterBuffer(state, buf, 0);
		}
		while (next < tail && HNSW_POS_BLOCK(next) == blkno)
		{
			uint32		off = HNSW_POS_OFFSET(next);
			HnswElementHeader *hdr;

			if (SizeOfPageHeaderData + off >= ((PageHeader) page)->pd_lower)
			{
				/* the rest of this page was too short for the next prefix */
				next = (uint64) blkno * HNSW_PAGE_DATA;
				break;
			}
			hdr = (HnswElementHeader *) (HNSW_PAGE_BYTES(page) + off);
			modified |= fn(arg, next, hdr);
			next = TYPEALIGN(4, next + hnsw_element_size(shape, hdr->level));
		}
		if (state && modified)
			GenericXLogFinish(state);
		else if (state)
			GenericXLogAbort(state);
		UnlockReleaseBuffer(buf);
	}
}
