/*-------------------------------------------------------------------------
 *
 * ivf_insert.c
 *	  aminsert for ivfflat: a new row goes to the list whose centre is
 *	  nearest, on the list's insert page or the first page after it with
 *	  room (see "Space" in ivf.h).
 *
 * Concurrency: the inserter locks one page of the chain at a time,
 * exclusively.  If the chain's last page is full, it extends the list
 * while holding that page: a new page (under the relation extension lock),
 * linked from the old last page and made the insert page in the directory,
 * all in one GenericXLog record, so a crash never leaves a half-linked
 * chain; concurrent inserters waiting for the old last page then find its
 * next page and follow the chain.
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

typedef struct IvfNearest
{
	const VindexElemType *elem;
	VectorMetric metric;
	const char *x;
	int			dims;
	double		best;
	IvfListRef	ref;			/* of the nearest list so far; list -1: none */
	char	   *centre;			/* if not NULL: gets the nearest list's centre */
} IvfNearest;

static void
nearer_list(const IvfListRef *ref, const char *centre, void *arg)
{
	IvfNearest *n = arg;
	double		d = n->elem->distance(n->metric, n->x, centre, n->dims);

	if (n->ref.list < 0 || d < n->best)
	{
		n->best = d;
		n->ref = *ref;
		if (n->centre)
			memcpy(n->centre, centre, n->elem->stored_size(n->dims));
	}
}

IvfListRef
ivf_nearest_list(IvfReader *r, const char *x)
{
	return ivf_nearest_list_centre(r, x, NULL);
}

IvfListRef
ivf_nearest_list_centre(IvfReader *r, const char *x, char *centre)
{
	IvfNearest	n = {r->elem, ivf_list_metric((VectorMetric) r->meta->metric), x, r->meta->dims};

	n.ref.list = -1;
	n.centre = centre;
	ivf_read_directory(r, nearer_list, &n);
	Assert(n.ref.list >= 0);	/* the metapage has nlists >= 1 */
	return n.ref;
}

/* PageAddItem `item` to `page`, which has room for it. */
static void
page_add(Relation index, Page page, IvfTuple *item, Size size)
{
	if (PageAddItem(page, (Item) item, size, InvalidOffsetNumber,
					false, false) == InvalidOffsetNumber)
		elog(ERROR, "failed to add item to ivfflat index \"%s\"",
			 RelationGetRelationName(index));
}

/*
 * Extend the list after its last page, in `buf` (full, exclusively
 * locked), with a new page holding `item`: the new page, the link to it
 * and the directory's insert page in one WAL record.
 */
static void
extend_list(IvfReader *r, const IvfListRef *ref, Buffer buf, IvfTuple *item)
{
	Relation	index = r->index;
	Buffer		newbuf = ivf_new_buffer(index, MAIN_FORKNUM);
	Buffer		dirbuf = ReadBuffer(index, ref->dir_blkno);
	GenericXLogState *state;
	Page		newpage;
	Page		dirpage;
	IvfListEntry *entry;

	LockBuffer(dirbuf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	IvfPageGetOpaque(GenericXLogRegisterBuffer(state, buf, 0))->nextblkno =
		BufferGetBlockNumber(newbuf);
	newpage = GenericXLogRegisterBuffer(state, newbuf, GENERIC_XLOG_FULL_IMAGE);
	ivf_init_page(newpage, IVF_PAGE_LIST);
	page_add(index, newpage, item, r->tuple_size);
	/* checked by ivf_nearest_list; only items' insert pages ever change */
	dirpage = GenericXLogRegisterBuffer(state, dirbuf, 0);
	entry = (IvfListEntry *) PageGetItem(dirpage, PageGetItemId(dirpage, ref->dir_off));
	if (entry->insert_blkno == ref->insert_blkno)
		entry->insert_blkno = BufferGetBlockNumber(newbuf);
	GenericXLogFinish(state);

	UnlockReleaseBuffer(dirbuf);
	UnlockReleaseBuffer(newbuf);
}

/*
 * Add `item` to the list: on its insert page, or the first page after it
 * in the chain with room, or a new page at the chain's end; then make that
 * page the insert page.
 */
static void
list_add(IvfReader *r, const IvfListRef *ref, IvfTuple *item)
{
	BlockNumber blk = ref->insert_blkno;
	BlockNumber chain_pages = 0;

	for (;;)
	{
		Buffer		buf = ReadBuffer(r->index, blk);
		Page		page;
		BlockNumber next;

		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		page = BufferGetPage(buf);
		ivf_verify_page(r->index, blk, page, IVF_PAGE_LIST, r->tuple_size);
		next = ivf_next_list_blkno(r, blk, page, &chain_pages);
		if (PageGetFreeSpace(page) >= r->tuple_size)
		{
			GenericXLogState *state = GenericXLogStart(r->index);

			page_add(r->index, GenericXLogRegisterBuffer(state, buf, 0), item,
					 r->tuple_size);
			GenericXLogFinish(state);
			UnlockReleaseBuffer(buf);
			/* only a hint: moved after the page is released */
			ivf_set_insert_page(r, ref, ref->insert_blkno, blk);
			return;
		}
		if (next == InvalidBlockNumber)
		{
			extend_list(r, ref, buf, item);
			UnlockReleaseBuffer(buf);
			return;
		}
		UnlockReleaseBuffer(buf);
		blk = next;
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
	IvfReader	r;
	char	   *x;
	int			dims;

	if (isnull[0])
		return false;
	meta = ivf_get_meta(index);
	ctx = AllocSetContextCreate(CurrentMemoryContext, "ivfflat insert",
								ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(ctx);

	ivf_reader_init(&r, index, meta, NULL);
	x = vindex_elem_form(r.elem, values[0], &dims);
	if (dims != meta->dims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", meta->dims, dims)));
	if (vindex_elem_indexable(r.elem, (VectorMetric) meta->metric, x, dims))
	{
		IvfTuple   *item = palloc0(r.tuple_size);
		IvfListRef	ref;

		item->heap_tid = *heap_tid;
		if (meta->quantization == IVF_QUANT_NONE)
		{
			memcpy(item->x, x, r.elem_size);
			ref = ivf_nearest_list(&r, item->x);
		}
		else
		{
			/* encoded with the build's parameters (copied: see ivf_get_params) */
			char	   *centre = palloc(r.elem_size);
			void	   *params = palloc(meta->params_size);
			IvfCodec	codec;

			memcpy(params, ivf_get_params(index), meta->params_size);
			ivf_codec_init(&codec, (IvfQuantization) meta->quantization,
						   (VectorMetric) meta->metric, r.elem, dims, params);
			ref = ivf_nearest_list_centre(&r, x, centre);
			ivf_codec_encode(&codec, x, centre, item->x);
		}
		if (r.filters.nfilters > 0)
			vindex_filter_form(&r.filters, values + 1, isnull + 1,
							   item->x + r.filter_offset);
		list_add(&r, &ref, item);
	}

	MemoryContextSwitchTo(old);
	MemoryContextDelete(ctx);
	return false;
}
