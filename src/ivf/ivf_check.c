/*-------------------------------------------------------------------------
 *
 * ivf_check.c
 *	  vsim.index_check() for ivfflat indexes (VindexMethod.check).
 *
 * Verifies, reporting the first damage with vindex_report_corrupted:
 *
 *	  - the metapage, read afresh (ivf_verify_meta; and no more lists than
 *		were asked for),
 *	  - for a quantized index, the parameter pages, read afresh
 *		(ivf_read_params: their chain, the blob's CRC-32C and contents),
 *	  - the directory (ivf_read_directory's checks) and every centre:
 *		finite, and for the cosine metric of unit norm or zero,
 *	  - every list's chain: its pages (ivf_verify_page), each page in one
 *		chain only, once (so no cycles, no pages shared between lists), the
 *		list's insert page in its own chain, and every row: heap TID within
 *		the table, elements finite, a vector the metric indexes (for a
 *		quantized index: a code the encoder can write, ivf_codec_valid),
 *	  - with heapallindexed, that every row of the table the index should
 *		hold is in it: the index's heap TIDs go into a hash set (16 to 36
 *		bytes a row), then table_index_build_scan (which evaluates index
 *		expressions and a partial index's predicate) passes every row
 *		visible to an MVCC snapshot, taken before the index is read, to a
 *		callback that looks it up.  A row that snapshot sees was committed
 *		before the check began, and its index entry written before that.
 *
 * Like a scan it locks one page at a time, sharing, so it runs beside
 * inserts and VACUUM; pages they add after the check has passed are not
 * checked.  Pages in no chain are not reported: a crash between extending
 * the relation and linking the new page leaves such a page, harmlessly.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/tableam.h"
#include "catalog/index.h"
#include "common/hashfn.h"
#include "index/index.h"
#include "ivf/ivf.h"
#include "nodes/bitmapset.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

/* A set of heap TIDs, each as (block << 16 | offset) */
typedef struct IvfTidEntry
{
	uint64		key;
	char		status;
} IvfTidEntry;

static inline uint32
tid_hash(uint64 key)
{
	return murmurhash32((uint32) key) ^ hash_bytes_uint32((uint32) (key >> 32));
}

#define SH_PREFIX tidset
#define SH_ELEMENT_TYPE IvfTidEntry
#define SH_KEY_TYPE uint64
#define SH_KEY key
#define SH_HASH_KEY(tb, k) tid_hash(k)
#define SH_EQUAL(tb, a, b) ((a) == (b))
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

typedef struct IvfCheck
{
	IvfReader	r;
	IvfMetaPageData meta;		/* read afresh, not the relcache copy */
	Relation	heap;
	BlockNumber heap_nblocks;	/* table size when last read */
	IvfListRef *refs;			/* every list */
	Bitmapset  *seen;			/* list pages met so far */
	BlockNumber prev;			/* page before this one in the chain */
	bool		insert_seen;	/* this list's insert page was met */
	tidset_hash *tids;			/* with heapallindexed, else NULL */
	IvfCodec	codec;			/* quantized indexes: for ivf_codec_valid */
	MemoryContext rowctx;		/* reset for every heap row */
} IvfCheck;

static uint64
tid_key(ItemPointer tid)
{
	return ((uint64) ItemPointerGetBlockNumberNoCheck(tid) << 16) |
		ItemPointerGetOffsetNumberNoCheck(tid);
}

/* The metapage, read and checked afresh. */
static void
check_meta(IvfCheck *ck, Relation index)
{
	Buffer		buf = ReadBuffer(index, IVF_METAPAGE_BLKNO);

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	ivf_verify_meta(index, BufferGetPage(buf));
	ivf_copy_meta(BufferGetPage(buf), &ck->meta);
	UnlockReleaseBuffer(buf);
	if (ck->meta.nlists > ck->meta.requested_lists)
		vindex_report_corrupted(index, IVF_METAPAGE_BLKNO,
								"The metapage gives %d lists, more than the %d asked for.",
								ck->meta.nlists, ck->meta.requested_lists);
}

/* IvfDirectoryFn: check a centre and keep the list's reference */
static void
check_centre(const IvfListRef *ref, const char *centre, void *arg)
{
	IvfCheck   *ck = arg;
	int			dims = ck->meta.dims;

	if (!ck->r.elem->valid(centre, dims))
		vindex_report_corrupted(ck->r.index, ref->dir_blkno,
								"The centre of list %d (item %u) is not a possible %s value.",
								ref->list, ref->dir_off, ck->r.elem->name);
	if (ck->meta.metric == VECTOR_METRIC_COSINE)
	{
		float	   *x = palloc(sizeof(float) * dims);
		double		norm;

		ck->r.elem->to_floats(centre, dims, x);
		norm = sqrt(vector_kernels->inner_product(x, x, dims));
		pfree(x);

		/* spherical k-means' centres have unit norm; an empty index's is 0 */
		if (norm != 0 && fabs(norm - 1) > 1e-3)
			vindex_report_corrupted(ck->r.index, ref->dir_blkno,
									"The centre of list %d (item %u) has norm %g; centres of a cosine index have norm 1.",
									ref->list, ref->dir_off, norm);
	}
	ck->refs[ref->list] = *ref;
}

/* Check the row of item `off` on list page `lp`. */
static void
check_row(IvfCheck *ck, const IvfListPage *lp, OffsetNumber off)
{
	IvfTuple   *t = (IvfTuple *) PageGetItem(lp->page, PageGetItemId(lp->page, off));
	BlockNumber blk = ItemPointerGetBlockNumberNoCheck(&t->heap_tid);
	OffsetNumber pos = ItemPointerGetOffsetNumberNoCheck(&t->heap_tid);
	bool		found;

	if (blk >= ck->heap_nblocks)
		ck->heap_nblocks = RelationGetNumberOfBlocks(ck->heap);
	if (blk >= ck->heap_nblocks || pos < FirstOffsetNumber || pos > MaxHeapTuplesPerPage ||
		t->unused != 0)
		vindex_report_corrupted(ck->r.index, lp->blkno,
								"Item %u has heap TID (%u,%u) and padding %u; the table has %u blocks.",
								off, blk, pos, t->unused, ck->heap_nblocks);
	if (ck->meta.quantization != IVF_QUANT_NONE)
	{
		if (!ivf_codec_valid(&ck->codec, t->x))
			vindex_report_corrupted(ck->r.index, lp->blkno,
									"Item %u (heap TID (%u,%u)) holds a code quantization %s cannot write (a norm or factor out of range, or a bit count not that of the code).",
									off, blk, pos,
									ivf_quantization_name((IvfQuantization) ck->meta.quantization));
	}
	else if (!ck->r.elem->valid(t->x, ck->meta.dims) ||
			 !vindex_elem_indexable(ck->r.elem, (VectorMetric) ck->meta.metric, t->x, ck->meta.dims))
		vindex_report_corrupted(ck->r.index, lp->blkno,
								"Item %u (heap TID (%u,%u)) holds a value the index cannot hold (not a possible %s value, or zero under cosine).",
								off, blk, pos, ck->r.elem->name);
	if (ck->r.filters.nfilters > 0 &&
		!vindex_filter_area_valid(&ck->r.filters, t->x + ck->r.filter_offset))
		vindex_report_corrupted(ck->r.index, lp->blkno,
								"The filter values of item %u (heap TID (%u,%u)) are impossible (NULL bits beyond the %d filter columns, a code under a NULL bit, or a boolean other than 0 and 1).",
								off, blk, pos, ck->r.filters.nfilters);

	/*
	 * A TID met twice is not reported: VACUUM may remove an entry after we
	 * read its page, and the heap give its TID to a new row whose entry we
	 * read later.
	 */
	if (ck->tids != NULL)
		tidset_insert(ck->tids, tid_key(&t->heap_tid), &found);
}

/* IvfListPageFn: check a list page's place in the chains and its rows */
static void
check_list_page(IvfReader *r, const IvfListPage *lp, void *arg)
{
	IvfCheck   *ck = arg;
	OffsetNumber maxoff = PageGetMaxOffsetNumber(lp->page);

	if (bms_is_member(lp->blkno, ck->seen))
		vindex_report_corrupted(r->index, ck->prev,
								"The chain of list %d reaches block %u a second time: a cycle, or pages shared by two lists.",
								lp->ref->list, lp->blkno);
	ck->seen = bms_add_member(ck->seen, lp->blkno);
	ck->prev = lp->blkno;
	ck->insert_seen |= lp->blkno == lp->ref->insert_blkno;
	for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
		check_row(ck, lp, off);
	if (lp->next == InvalidBlockNumber && !ck->insert_seen)
		vindex_report_corrupted(r->index, lp->ref->dir_blkno,
								"The insert page of list %d (item %u), block %u, is not in the list's chain.",
								lp->ref->list, lp->ref->dir_off, lp->ref->insert_blkno);
}

/*
 * IndexBuildCallback: a row of the table the index should hold must be in
 * the TID set.  A missing one is reported at the first page of the list
 * it belongs in (the list of its nearest centre).
 */
static void
check_heap_row(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			   bool alive, void *arg)
{
	IvfCheck   *ck = arg;
	MemoryContext old;
	char	   *x;
	int			dims;

	if (isnull[0] || tidset_lookup(ck->tids, tid_key(tid)) != NULL)
		return;
	old = MemoryContextSwitchTo(ck->rowctx);
	x = vindex_elem_form(ck->r.elem, values[0], &dims);
	if (dims == ck->meta.dims &&
		vindex_elem_indexable(ck->r.elem, (VectorMetric) ck->meta.metric, x, dims))
	{
		IvfListRef	ref = ivf_nearest_list(&ck->r, x);

		vindex_report_corrupted(index, ref.first_blkno,
								"heap tuple (%u,%u) is not in the index; it belongs in list %d, which starts at this block.",
								ItemPointerGetBlockNumber(tid),
								ItemPointerGetOffsetNumber(tid), ref.list);
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(ck->rowctx);
}

/* Look every row the index should hold up in ck->tids. */
static void
check_heap(IvfCheck *ck, Relation index, Snapshot snapshot)
{
	IndexInfo  *info = BuildIndexInfo(index);
	TableScanDesc scan = table_beginscan_strat(ck->heap, snapshot, 0, NULL,
											   true, true);

	/* "concurrent": the rows the scan's MVCC snapshot sees, no others */
	info->ii_Concurrent = true;
	ck->rowctx = AllocSetContextCreate(CurrentMemoryContext, "ivfflat check row",
									   ALLOCSET_DEFAULT_SIZES);
	table_index_build_scan(ck->heap, index, info, true, false,
						   check_heap_row, ck, scan);
	MemoryContextDelete(ck->rowctx);
}

void
ivf_index_check(Relation index, Relation heap, bool heapallindexed)
{
	IvfCheck	ck = {0};
	Snapshot	snapshot = NULL;

	/* before anything of the index is read: see the file's header */
	if (heapallindexed)
		snapshot = RegisterSnapshot(GetTransactionSnapshot());
	check_meta(&ck, index);
	if (ck.meta.quantization != IVF_QUANT_NONE)
		ivf_codec_init(&ck.codec, (IvfQuantization) ck.meta.quantization,
					   (VectorMetric) ck.meta.metric, vindex_elem_type(index),
					   ck.meta.dims, ivf_read_params(index, &ck.meta));
	ivf_reader_init(&ck.r, index, &ck.meta, NULL);
	ck.heap = heap;
	ck.refs = palloc(sizeof(IvfListRef) * ck.meta.nlists);
	ivf_read_directory(&ck.r, check_centre, &ck);
	if (heapallindexed)
	{
		/* reltuples is -1 before the first VACUUM or ANALYZE */
		double		rows = Min(Max(index->rd_rel->reltuples, 0), PG_INT32_MAX / 2);

		ck.tids = tidset_create(CurrentMemoryContext, Max(1024, (uint32) rows), NULL);
	}
	for (int list = 0; list < ck.meta.nlists; list++)
	{
		ck.prev = ck.refs[list].dir_blkno;
		ck.insert_seen = false;
		ivf_walk_list(&ck.r, &ck.refs[list], BUFFER_LOCK_SHARE, check_list_page, &ck);
	}
	if (heapallindexed)
	{
		check_heap(&ck, index, snapshot);
		tidset_destroy(ck.tids);
		UnregisterSnapshot(snapshot);
	}
	bms_free(ck.seen);
	pfree(ck.refs);
}
