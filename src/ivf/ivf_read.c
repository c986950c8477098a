/*-------------------------------------------------------------------------
 *
 * ivf_read.c
 *	  Reading an ivfflat index's directory and list chains, checking every
 *	  page and block number before it is used.
 *
 * The directory's shape follows from the metapage alone (IVF_DIR_PAGES):
 * blocks 1 .. ndirpages, chained in order, each full but the last.  A list
 * chain may run anywhere after the directory, so its length is bounded by
 * the relation's size: a chain longer than that has a cycle.  Every check
 * failure is an XX002 naming the block (vindex_report_corrupted).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "index/index.h"
#include "ivf/ivf.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

void
ivf_reader_init(IvfReader *r, Relation index, const IvfMetaPageData *meta,
				BufferAccessStrategy strategy)
{
	r->index = index;
	r->meta = meta;
	r->strategy = strategy;
	r->elem = vindex_elem_type(index);
	r->elem_size = r->elem->stored_size(meta->dims);
	r->code_size = meta->quantization == IVF_QUANT_NONE ? r->elem_size :
		(Size) meta->code_size;
	vindex_filter_layout(index, "ivfflat", false, &r->filters);
	r->filter_offset = IVF_FILTER_OFFSET(r->code_size);
	r->tuple_size = IVF_ITEM_SIZE(r->code_size, r->filters.nfilters);
	r->first_list_blkno = IVF_FIRST_DIR_BLKNO + meta->ndirpages + meta->nparampages;
	r->nblocks = 0;
}

bool
ivf_is_list_blkno(IvfReader *r, BlockNumber blkno)
{
	/* the size is read once, and again only when blkno is beyond it */
	if (blkno >= r->nblocks && blkno != InvalidBlockNumber)
		r->nblocks = RelationGetNumberOfBlocks(r->index);
	return blkno >= r->first_list_blkno && blkno < r->nblocks;
}

BlockNumber
ivf_next_list_blkno(IvfReader *r, BlockNumber blkno, Page page,
					BlockNumber *chain_pages)
{
	BlockNumber next = IvfPageGetOpaque(page)->nextblkno;

	if (next == InvalidBlockNumber)
		return next;
	if (!ivf_is_list_blkno(r, next))
		vindex_report_corrupted(r->index, blkno,
								"The next page of this list page is block %u; list pages are from block %u to the end of the index (%u blocks).",
								next, r->first_list_blkno,
								RelationGetNumberOfBlocks(r->index));
	if (++*chain_pages >= r->nblocks)
	{
		r->nblocks = RelationGetNumberOfBlocks(r->index);
		if (*chain_pages >= r->nblocks)
			vindex_report_corrupted(r->index, blkno,
									"The list chain through this page has run over %u pages, more than the index has: it is a cycle.",
									*chain_pages);
	}
	return next;
}

/* Check one directory page's place in the chain and its item count. */
static void
verify_directory_page(IvfReader *r, BlockNumber blkno, Page page, int list)
{
	const IvfMetaPageData *meta = r->meta;
	int			per_page = IVF_LISTS_PER_DIR_PAGE(r->elem_size);
	int			want = Min(per_page, meta->nlists - list);
	BlockNumber next = IvfPageGetOpaque(page)->nextblkno;
	BlockNumber want_next = blkno < (BlockNumber) meta->ndirpages ?
		blkno + 1 : InvalidBlockNumber;

	ivf_verify_page(r->index, blkno, page, IVF_PAGE_DIRECTORY,
					IVF_LIST_ENTRY_SIZE(r->elem_size));
	if (PageGetMaxOffsetNumber(page) != want || next != want_next)
		vindex_report_corrupted(r->index, blkno,
								"Directory page %u of %d holds %u lists and links to block %u; it should hold %d and link to %u.",
								blkno, meta->ndirpages, (unsigned) PageGetMaxOffsetNumber(page),
								next, want, want_next);
}

void
ivf_read_directory(IvfReader *r, IvfDirectoryFn fn, void *arg)
{
	int			list = 0;

	for (BlockNumber blk = IVF_FIRST_DIR_BLKNO; blk != InvalidBlockNumber;)
	{
		Buffer		buf = ReadBufferExtended(r->index, MAIN_FORKNUM, blk,
											 RBM_NORMAL, r->strategy);
		Page		page;
		OffsetNumber maxoff;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		verify_directory_page(r, blk, page, list);
		maxoff = PageGetMaxOffsetNumber(page);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++, list++)
		{
			IvfListEntry *e = (IvfListEntry *) PageGetItem(page, PageGetItemId(page, off));
			IvfListRef	ref = {list, blk, off, e->first_blkno, e->insert_blkno};

			if (!ivf_is_list_blkno(r, ref.first_blkno) ||
				!ivf_is_list_blkno(r, ref.insert_blkno))
				vindex_report_corrupted(r->index, blk,
										"List %d (item %u) has first page %u and insert page %u; list pages are from block %u to the end of the index (%u blocks).",
										list, off, ref.first_blkno, ref.insert_blkno,
										r->first_list_blkno,
										RelationGetNumberOfBlocks(r->index));
			fn(&ref, e->centre, arg);
		}
		blk = IvfPageGetOpaque(page)->nextblkno;
		UnlockReleaseBuffer(buf);
	}
}

static void
collect_ref(const IvfListRef *ref, const char *centre, void *arg)
{
	((IvfListRef *) arg)[ref->list] = *ref;
}

IvfListRef *
ivf_list_refs(IvfReader *r)
{
	IvfListRef *refs = palloc(sizeof(IvfListRef) * r->meta->nlists);

	ivf_read_directory(r, collect_ref, refs);
	return refs;
}

void
ivf_walk_list(IvfReader *r, const IvfListRef *ref, int lockmode,
			  IvfListPageFn fn, void *arg)
{
	BlockNumber chain_pages = 0;
	IvfListPage lp = {.ref = ref};

	for (lp.blkno = ref->first_blkno; lp.blkno != InvalidBlockNumber; lp.blkno = lp.next)
	{
		vindex_vacuum_delay_point();
		lp.buf = ReadBufferExtended(r->index, MAIN_FORKNUM, lp.blkno, RBM_NORMAL,
									r->strategy);
		LockBuffer(lp.buf, lockmode);
		lp.page = BufferGetPage(lp.buf);
		ivf_verify_page(r->index, lp.blkno, lp.page, IVF_PAGE_LIST, r->tuple_size);
		lp.next = ivf_next_list_blkno(r, lp.blkno, lp.page, &chain_pages);
		fn(r, &lp, arg);
		UnlockReleaseBuffer(lp.buf);
	}
}

void
ivf_set_insert_page(IvfReader *r, const IvfListRef *ref, BlockNumber expected,
					BlockNumber blkno)
{
	Buffer		buf;
	Page		page;
	IvfListEntry *e;

	if (blkno == expected)
		return;
	buf = ReadBufferExtended(r->index, MAIN_FORKNUM, ref->dir_blkno,
							 RBM_NORMAL, r->strategy);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	/* ref was checked with the page; only items' insert pages ever change */
	page = BufferGetPage(buf);
	e = (IvfListEntry *) PageGetItem(page, PageGetItemId(page, ref->dir_off));
	if (e->insert_blkno == expected)
	{
		GenericXLogState *state = GenericXLogStart(r->index);

		page = GenericXLogRegisterBuffer(state, buf, 0);
		e = (IvfListEntry *) PageGetItem(page, PageGetItemId(page, ref->dir_off));
		e->insert_blkno = blkno;
		GenericXLogFinish(state);
	}
	UnlockReleaseBuffer(buf);
}
