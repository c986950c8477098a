/*-------------------------------------------------------------------------
 *
 * ivf_vacuum.c
 *	  VACUUM of ivfflat indexes (ambulkdelete, amvacuumcleanup).
 *
 * Bulk delete walks every list's chain and removes the items whose heap
 * TIDs VACUUM reports dead, one page at a time, each change one
 * GenericXLog record; PageIndexMultiDelete compacts the page, so its free
 * space is one piece.  Scans copy candidates out of a page before releasing
 * it, so an exclusive lock (no cleanup lock) is enough.  Pages stay in
 * their chains.  After each list, its insert page becomes the list's first
 * page with room for a row (its last page if none has), so inserts fill
 * the space VACUUM freed before they extend the list (see "Space" in
 * ivf.h).  This moves the insert page back only where an insert has not
 * moved it since VACUUM read the directory; an insert that has is at a
 * page it found with room, which is good enough.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "commands/vacuum.h"
#include "index/index.h"
#include "ivf/ivf.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

typedef struct IvfBulkDeleteState
{
	IndexBulkDeleteResult *stats;
	IndexBulkDeleteCallback callback;
	void	   *callback_state;
	BlockNumber room;			/* this list's first page with room for a row */
} IvfBulkDeleteState;

/*
 * IvfListPageFn: delete the page's dead items (compacting it) and note
 * the list's first page with room, or else its last page.
 */
static void
bulk_delete_page(IvfReader *r, const IvfListPage *lp, void *arg)
{
	IvfBulkDeleteState *bd = arg;
	OffsetNumber dead[MaxOffsetNumber];
	int			ndead = 0;
	OffsetNumber maxoff = PageGetMaxOffsetNumber(lp->page);

	for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
	{
		IvfTuple   *t = (IvfTuple *) PageGetItem(lp->page, PageGetItemId(lp->page, off));

		if (bd->callback(&t->heap_tid, bd->callback_state))
			dead[ndead++] = off;
	}
	if (ndead > 0)
	{
		GenericXLogState *state = GenericXLogStart(r->index);

		PageIndexMultiDelete(GenericXLogRegisterBuffer(state, lp->buf, 0), dead, ndead);
		GenericXLogFinish(state);
	}
	bd->stats->tuples_removed += ndead;
	bd->stats->num_index_tuples += maxoff - ndead;
	if (bd->room == InvalidBlockNumber &&
		(PageGetFreeSpace(lp->page) >= r->tuple_size || lp->next == InvalidBlockNumber))
		bd->room = lp->blkno;
}

IndexBulkDeleteResult *
ivf_bulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
			   IndexBulkDeleteCallback callback, void *callback_state)
{
	IvfReader	r;
	IvfListRef *refs;
	IvfBulkDeleteState bd;

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));
	/* each pass counts the survivors afresh */
	stats->num_index_tuples = 0;
	bd.stats = stats;
	bd.callback = callback;
	bd.callback_state = callback_state;
	ivf_reader_init(&r, info->index, ivf_get_meta(info->index), info->strategy);
	refs = ivf_list_refs(&r);
	for (int i = 0; i < r.meta->nlists; i++)
	{
		bd.room = InvalidBlockNumber;
		ivf_walk_list(&r, &refs[i], BUFFER_LOCK_EXCLUSIVE, bulk_delete_page, &bd);
		/* inserts may have moved it since refs was read: theirs stands */
		ivf_set_insert_page(&r, &refs[i], refs[i].insert_blkno, bd.room);
	}
	pfree(refs);
	return stats;
}

/* IvfListPageFn: count the page's items */
static void
count_page(IvfReader *r, const IvfListPage *lp, void *arg)
{
	((IndexBulkDeleteResult *) arg)->num_index_tuples += PageGetMaxOffsetNumber(lp->page);
}

IndexBulkDeleteResult *
ivf_vacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	if (info->analyze_only)
		return stats;
	if (stats == NULL)
	{
		IvfReader	r;
		IvfListRef *refs;

		stats = palloc0(sizeof(IndexBulkDeleteResult));
		ivf_reader_init(&r, info->index, ivf_get_meta(info->index), info->strategy);
		refs = ivf_list_refs(&r);
		for (int i = 0; i < r.meta->nlists; i++)
			ivf_walk_list(&r, &refs[i], BUFFER_LOCK_SHARE, count_page, stats);
		pfree(refs);
	}
	stats->num_pages = RelationGetNumberOfBlocks(info->index);
	stats->estimated_count = false;
	return stats;
}
