/*-------------------------------------------------------------------------
 *
 * ivf_page.c
 *	  ivfflat pages: the cached metapage, checking the metapage and the
 *	  other pages as they are read, initialising directory and list pages,
 *	  extending the relation.
 *
 * See ivf.h for the layout.  The checks are what makes a damaged index an
 * error rather than a crash: every reader runs them on a page before it
 * reads an item (ivf_read.c for the directory and the chains, ivf_scan.c,
 * ivf_insert.c), so they are cheap, one pass over the line pointers.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "index/index.h"
#include "ivf/ivf.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

int
ivf_max_dims(const VindexElemType *elem)
{
	int			lo = 1,
				hi = elem->max_dims;

	/* the largest dims whose stored element fits: stored_size grows with dims */
	while (lo < hi)
	{
		int			mid = lo + (hi - lo + 1) / 2;

		if (elem->stored_size(mid) <= IVF_MAX_ELEM_BYTES)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

const IvfMetaPageData *
ivf_get_meta(Relation index)
{
	if (index->rd_amcache == NULL)
	{
		Buffer		buf = ReadBuffer(index, IVF_METAPAGE_BLKNO);
		void	   *copy;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		ivf_verify_meta(index, BufferGetPage(buf));
		copy = MemoryContextAlloc(index->rd_indexcxt, sizeof(IvfMetaPageData));
		memcpy(copy, IvfPageGetMeta(BufferGetPage(buf)), sizeof(IvfMetaPageData));
		UnlockReleaseBuffer(buf);
		index->rd_amcache = copy;
	}
	return (const IvfMetaPageData *) index->rd_amcache;
}

void
ivf_verify_meta(Relation index, Page page)
{
	const IvfMetaPageData *meta = IvfPageGetMeta(page);
	int			coldims = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;
	const VindexElemType *elem = vindex_elem_type(index);
	int			max_dims = ivf_max_dims(elem);

	if (PageIsNew(page) || meta->magic != IVF_MAGIC || meta->version != IVF_VERSION)
		vindex_report_corrupted(index, IVF_METAPAGE_BLKNO,
								"The metapage has magic %08x and version %u, not those of an ivfflat index (%08x, %u).",
								meta->magic, meta->version, IVF_MAGIC, IVF_VERSION);
	if (meta->dims < 1 || meta->dims > max_dims || meta->dims != coldims)
		vindex_report_corrupted(index, IVF_METAPAGE_BLKNO,
								"The metapage gives %d dimensions; the indexed column has %d (at most %d).",
								meta->dims, coldims, max_dims);
	if (meta->nlists < 1 || meta->nlists > IVF_MAX_LISTS ||
		meta->ndirpages != IVF_DIR_PAGES(meta->nlists, elem->stored_size(meta->dims)))
		vindex_report_corrupted(index, IVF_METAPAGE_BLKNO,
								"The metapage gives %d lists on %d directory pages; %d lists of %d dimensions take %d (and at most %d lists are allowed).",
								meta->nlists, meta->ndirpages, meta->nlists, meta->dims,
								meta->nlists >= 1 ? IVF_DIR_PAGES(meta->nlists, elem->stored_size(meta->dims)) : 0,
								IVF_MAX_LISTS);
	if (meta->metric != vector_index_metric(index, 1))
		vindex_report_corrupted(index, IVF_METAPAGE_BLKNO,
								"The metapage gives metric %d; the operator class has %d.",
								meta->metric, (int) vector_index_metric(index, 1));
}

void
ivf_verify_page(Relation index, BlockNumber blkno, Page page, uint16 kind, Size itemsz)
{
	PageHeader	hdr = (PageHeader) page;
	IvfPageOpaque opaque = IvfPageGetOpaque(page);
	OffsetNumber maxoff;

	if (PageIsNew(page) || PageGetPageSize(page) != BLCKSZ ||
		hdr->pd_special != IVF_SPECIAL_OFFSET ||
		hdr->pd_lower < SizeOfPageHeaderData || hdr->pd_lower > hdr->pd_upper ||
		hdr->pd_upper > hdr->pd_special ||
		(hdr->pd_lower - SizeOfPageHeaderData) % sizeof(ItemIdData) != 0)
		vindex_report_corrupted(index, blkno,
								"The page header is invalid: lower %u, upper %u, special %u, size %u.",
								hdr->pd_lower, hdr->pd_upper, hdr->pd_special,
								(unsigned) PageGetPageSize(page));
	if (opaque->page_id != IVF_PAGE_ID || opaque->flags != kind)
		vindex_report_corrupted(index, blkno,
								"The page has page id %04x and flags %04x; an ivfflat %s page has %04x and %04x.",
								opaque->page_id, opaque->flags,
								kind == IVF_PAGE_LIST ? "list" : "directory",
								IVF_PAGE_ID, kind);
	maxoff = PageGetMaxOffsetNumber(page);
	for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
	{
		ItemId		iid = PageGetItemId(page, off);
		unsigned	start = ItemIdGetOffset(iid);

		if (!ItemIdIsNormal(iid) || ItemIdGetLength(iid) != itemsz ||
			start < hdr->pd_upper || start + itemsz > hdr->pd_special ||
			start != MAXALIGN(start))
			vindex_report_corrupted(index, blkno,
									"Item %u has flags %u, offset %u and length %u; items of this index are %u bytes between bytes %u and %u.",
									off, ItemIdGetFlags(iid), start, ItemIdGetLength(iid),
									(unsigned) itemsz, hdr->pd_upper, hdr->pd_special);
	}
}

void
ivf_init_page(Page page, uint16 flags)
{
	IvfPageOpaque opaque;

	PageInit(page, BLCKSZ, sizeof(IvfPageOpaqueData));
	opaque = IvfPageGetOpaque(page);
	opaque->nextblkno = InvalidBlockNumber;
	opaque->flags = flags;
	opaque->page_id = IVF_PAGE_ID;
}

Buffer
ivf_new_buffer(Relation index, ForkNumber forknum)
{
	Buffer		buf;

	LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBufferExtended(index, forknum, P_NEW, RBM_NORMAL, NULL);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	UnlockRelationForExtension(index, ExclusiveLock);
	return buf;
}
