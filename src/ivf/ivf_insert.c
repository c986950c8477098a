/*-------------------------------------------------------------------------
 *
 * ivf_insert.c
 *	  aminsert for ivfflat: a new row goes to the end of the list whose
 *	  centre is nearest.
 *
 * Concurrency: the inserter locks the list's last page exclusively.  If a
 * concurrent inserter extended the list meanwhile, the page has a next
 * page and we follow the chain.  Extending allocates a page (under the
 * relation extension lock), links it from the old last page and records it
 * in the directory, all in one GenericXLog record, so a crash never leaves
 * a half-linked chain.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "ivf/ivf.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

VectorMetric
ivf_list_metric(VectorMetric metric)
{
	return metric == VECTOR_METRIC_IP ? VECTOR_METRIC_L2 : metric;
}

int
ivf_nearest_list(Relation index, const IvfMetaPageData *meta, const float *x,
				 BlockNumber *dir_blkno, OffsetNumber *dir_off)
{
	VectorMetric metric = ivf_list_metric((VectorMetric) meta->metric);
	double		best = 0;
	int			bestlist = -1;
	int			list = 0;

	for (BlockNumber blk = IVF_FIRST_DIR_BLKNO; blk != InvalidBlockNumber;)
	{
		Buffer		buf = ReadBuffer(index, blk);
		Page		page;
		OffsetNumber maxoff;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		maxoff = PageGetMaxOffsetNumber(page);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++, list++)
		{
			IvfListEntry *e = (IvfListEntry *) PageGetItem(page, PageGetItemId(page, off));
			double		d = vector_metric_distance(metric, x, e->centre, meta->dims);

			if (bestlist < 0 || d < best)
			{
				best = d;
				bestlist = list;
				*dir_blkno = blk;
				*dir_off = off;
			}
		}
		blk = IvfPageGetOpaque(page)->nextblkno;
		UnlockReleaseBuffer(buf);
	}
	if (bestlist < 0)
		elog(ERROR, "ivfflat index \"%s\" has an empty directory",
			 RelationGetRelationName(index));
	return bestlist;
}

/* The list's current last page, from its directory item */
static BlockNumber
list_last_page(Relation index, BlockNumber dir_blkno, OffsetNumber dir_off)
{
	Buffer		buf = ReadBuffer(index, dir_blkno);
	Page		page;
	BlockNumber last;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	last = ((IvfListEntry *) PageGetItem(page, PageGetItemId(page, dir_off)))->last_blkno;
	UnlockReleaseBuffer(buf);
	return last;
}

/* Append `item` to the list, extending it when its last page is full. */
static void
list_append(Relation index, IvfTuple *item, Size size,
			BlockNumber dir_blkno, OffsetNumber dir_off)
{
	BlockNumber blk = list_last_page(index, dir_blkno, dir_off);

	for (;;)
	{
		Buffer		buf = ReadBuffer(index, blk);
		Page		page;
		GenericXLogState *state;

		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		page = BufferGetPage(buf);
		if (PageGetFreeSpace(page) >= size)
		{
			state = GenericXLogStart(index);
			page = GenericXLogRegisterBuffer(state, buf, 0);
			if (PageAddItem(page, (Item) item, size, InvalidOffsetNumber,
							false, false) == InvalidOffsetNumber)
				elog(ERROR, "failed to add item to ivfflat index \"%s\"",
					 RelationGetRelationName(index));
			GenericXLogFinish(state);
			UnlockReleaseBuffer(buf);
			return;
		}
		if (IvfPageGetOpaque(page)->nextblkno != InvalidBlockNumber)
		{
			/* someone extended the list after we read the directory */
			blk = IvfPageGetOpaque(page)->nextblkno;
			UnlockReleaseBuffer(buf);
			continue;
		}

		{
			Buffer		newbuf = ivf_new_buffer(index, MAIN_FORKNUM);
			Buffer		dirbuf = ReadBuffer(index, dir_blkno);
			Page		newpage;
			Page		dirpage;
			IvfListEntry *entry;

			LockBuffer(dirbuf, BUFFER_LOCK_EXCLUSIVE);
			state = GenericXLogStart(index);
			page = GenericXLogRegisterBuffer(state, buf, 0);
			newpage = GenericXLogRegisterBuffer(state, newbuf, GENERIC_XLOG_FULL_IMAGE);
			dirpage = GenericXLogRegisterBuffer(state, dirbuf, 0);

			ivf_init_page(newpage, IVF_PAGE_LIST);
			if (PageAddItem(newpage, (Item) item, size, InvalidOffsetNumber,
							false, false) == InvalidOffsetNumber)
				elog(ERROR, "failed to add item to ivfflat index \"%s\"",
					 RelationGetRelationName(index));
			IvfPageGetOpaque(page)->nextblkno = BufferGetBlockNumber(newbuf);
			entry = (IvfListEntry *) PageGetItem(dirpage, PageGetItemId(dirpage, dir_off));
			entry->last_blkno = BufferGetBlockNumber(newbuf);
			GenericXLogFinish(state);

			UnlockReleaseBuffer(dirbuf);
			UnlockReleaseBuffer(newbuf);
			UnlockReleaseBuffer(buf);
			return;
		}
	}
}

bool
ivf_insert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
		   Relation heap, IndexUniqueCheck checkUnique,
#if PG_VERSION_NUM >= 140000
		   bool indexUnchanged,
#endif
		   IndexInfo *indexInfo)
{
	const IvfMetaPageData *meta;
	MemoryContext ctx;
	MemoryContext old;
	Vector	   *v;

	if (isnull[0])
		return false;
	meta = ivf_get_meta(index);
	ctx = AllocSetContextCreate(CurrentMemoryContext, "ivfflat insert",
								ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(ctx);

	v = DatumGetVector(values[0]);
	if (v->dim != meta->dims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", meta->dims, v->dim)));
	if (vector_metric_indexable(meta->metric, v->x, v->dim))
	{
		Size		size = IVF_TUPLE_SIZE(meta->dims);
		IvfTuple   *item = palloc0(size);
		BlockNumber dir_blkno;
		OffsetNumber dir_off;

		item->heap_tid = *heap_tid;
		memcpy(item->x, v->x, sizeof(float) * meta->dims);
		ivf_nearest_list(index, meta, item->x, &dir_blkno, &dir_off);
		list_append(index, item, size, dir_blkno, dir_off);
	}

	MemoryContextSwitchTo(old);
	MemoryContextDelete(ctx);
	return false;
}
