/*-------------------------------------------------------------------------
 *
 * ivf_vacuum.c
 *	  VACUUM of ivfflat indexes (ambulkdelete, amvacuumcleanup).
 *
 * Bulk delete walks every list's chain and removes the items whose heap
 * TIDs VACUUM reports dead, one page at a time, each change one
 * GenericXLog record.  Scans copy candidates out of a page before releasing
 * it and never hold a pin across pages, so an exclusive lock (no cleanup
 * lock) is enough.  Pages stay in their chains; their free space is used
 * again when they are the list's last page.
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

/*
 * Call `fn` for every list page of the index, in list then chain order;
 * `fn` locks the (pinned) page itself and returns its next block, read
 * under the lock.
 */
typedef BlockNumber (*IvfPageFn) (Relation index, Buffer buf, void *arg);

static void
for_each_list_page(Relation index, BufferAccessStrategy strategy,
				   IvfPageFn fn, void *arg)
{
	const IvfMetaPageData *meta = ivf_get_meta(index);
	BlockNumber *first = palloc(sizeof(BlockNumber) * meta->nlists);
	int			list = 0;

	for (BlockNumber blk = IVF_FIRST_DIR_BLKNO; blk != InvalidBlockNumber;)
	{
		Buffer		buf = ReadBufferExtended(index, MAIN_FORKNUM, blk, RBM_NORMAL, strategy);
		Page		page;
		OffsetNumber maxoff;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		maxoff = PageGetMaxOffsetNumber(page);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff && list < meta->nlists; off++)
			first[list++] = ((IvfListEntry *) PageGetItem(page, PageGetItemId(page, off)))->first_blkno;
		blk = IvfPageGetOpaque(page)->nextblkno;
		UnlockReleaseBuffer(buf);
	}

	for (int i = 0; i < list; i++)
	{
		for (BlockNumber blk = first[i]; blk != InvalidBlockNumber;)
		{
			Buffer		buf;

			vindex_vacuum_delay_point();
			buf = ReadBufferExtended(index, MAIN_FORKNUM, blk, RBM_NORMAL, strategy);
			blk = fn(index, buf, arg);
			ReleaseBuffer(buf);
		}
	}
	pfree(first);
}

typedef struct IvfBulkDeleteState
{
	IndexBulkDeleteResult *stats;
	IndexBulkDeleteCallback callback;
	void	   *callback_state;
} IvfBulkDeleteState;

static BlockNumber
bulk_delete_page(Relation index, Buffer buf, void *arg)
{
	IvfBulkDeleteState *bd = arg;
	Page		page;
	OffsetNumber dead[MaxOffsetNumber];
	int			ndead = 0;
	OffsetNumber maxoff;
	BlockNumber next;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	maxoff = PageGetMaxOffsetNumber(page);
	for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
	{
		IvfTuple   *t = (IvfTuple *) PageGetItem(page, PageGetItemId(page, off));

		if (bd->callback(&t->heap_tid, bd->callback_state))
			dead[ndead++] = off;
	}
	if (ndead > 0)
	{
		GenericXLogState *state = GenericXLogStart(index);

		page = GenericXLogRegisterBuffer(state, buf, 0);
		PageIndexMultiDelete(page, dead, ndead);
		GenericXLogFinish(state);
	}
	bd->stats->tuples_removed += ndead;
	bd->stats->num_index_tuples += maxoff - ndead;
	next = IvfPageGetOpaque(page)->nextblkno;
	LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	return next;
}

IndexBulkDeleteResult *
ivf_bulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
				IndexBulkDeleteCallback callback, void *callback_state)
{
	IvfBulkDeleteState bd;

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));
	/* each pass counts the survivors afresh */
	stats->num_index_tuples = 0;
	bd.stats = stats;
	bd.callback = callback;
	bd.callback_state = callback_state;
	for_each_list_page(info->index, info->strategy, bulk_delete_page, &bd);
	return stats;
}

static BlockNumber
count_page(Relation index, Buffer buf, void *arg)
{
	IndexBulkDeleteResult *stats = arg;
	BlockNumber next;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	stats->num_index_tuples += PageGetMaxOffsetNumber(BufferGetPage(buf));
	next = IvfPageGetOpaque(BufferGetPage(buf))->nextblkno;
	LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	return next;
}

IndexBulkDeleteResult *
ivf_vacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	if (info->analyze_only)
		return stats;
	if (stats == NULL)
	{
		stats = palloc0(sizeof(IndexBulkDeleteResult));
		for_each_list_page(info->index, info->strategy, count_page, stats);
	}
	stats->num_pages = RelationGetNumberOfBlocks(info->index);
	stats->estimated_count = false;
	return stats;
}
