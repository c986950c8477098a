/*-------------------------------------------------------------------------
 *
 * hnsw_check.c
 *	  vsim.index_check() for HNSW indexes (VindexMethod.check): the
 *	  structure of the graph and, with heapallindexed, that every row the
 *	  snapshot sees is in the index.
 *
 * 1. The metapage (hnsw_read_meta checks its fields).
 * 2. Walk 1 reads every element (hnsw_walk checks each page's kind, magic
 *	  and bounds and each header's level, TID count and extent) and checks
 *	  what the read paths leave to it: an element that fits in a page lies
 *	  wholly in its page, a free slot holds no TIDs and empty lists, list
 *	  counts are within their capacities, and every neighbour slot names a
 *	  possible position in an existing block, and the filter values of an
 *	  element in one page are possible ones.  It collects each element's
 *	  start, level and state, and the heap TIDs of live ones.
 * 3. Every page of the stream is checked, also the ones holding only the
 *	  continuation of a vector, which walk 1 steps over (and a quantized
 *	  index's parameter pages, whose blob hnsw_read_meta checked in step
 *	  1); a quantized index's codes are checked to be ones the encoder
 *	  gives (hnsw_quant_valid): in walk 1 for elements in one page, after
 *	  it for those spanning pages.
 * 4. Walk 2 checks every neighbour reference: it names an element's start
 *	  and, in a live element's list, an element that is not a free slot and
 *	  has at least the list's level (dead elements' lists may name slots
 *	  reused since by elements of any level: see "Space reuse" in hnsw.h).
 * 5. The entry point is an element's start, not a free slot, of the level
 *	  the metapage gives.
 * 6. The filter directory of an index with filter columns
 *	  (hnsw_filterdir_check): its pages and chain, every entry names an
 *	  element, every live element with visible rows has an entry with its
 *	  own filter values.
 * 7. With heapallindexed, table_index_build_scan passes every row of the
 *	  snapshot that the index covers (it evaluates the index's predicate
 *	  and expressions, and names heap-only tuples by their chain's root, as
 *	  the index does); each one with an indexable vector must be among the
 *	  TIDs of walk 1, a sorted array searched by bisection.
 *
 * The index and table are locked AccessShareLock, so inserts go on; the
 * check holds HNSW_VACUUM_LOCK in share mode, so no element dies or is
 * freed meanwhile.  What inserts change is allowed for: elements appended
 * after walk 1 read the tail (a reference to a position walk 1 did not
 * see extends walk 1 to the new tail), and free slots reused (a reference
 * that looks wrong is checked again against the element as it is now,
 * after the reference was read: a slot only goes from free to live).  The
 * snapshot of step 6 is taken before walk 1, so the rows it sees were
 * indexed before walk 1 began.
 *
 * Damage is reported with vindex_report_corrupted (XX002) naming the block
 * where it was found; a row missing from the index is reported at the
 * metapage's block 0, as it concerns the index as a whole.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tableam.h"
#include "catalog/index.h"
#include "hnsw/hnsw.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#define ELEMENT_LIVE	0
#define ELEMENT_DEAD	1
#define ELEMENT_FREE	2

/* A neighbour reference that needs a second look. */
typedef struct Doubt
{
	uint64		holder;			/* element whose list names target */
	uint64		target;
	int			level;
	bool		holder_live;
} Doubt;

typedef struct CheckState
{
	Relation	index;
	const char *heap_name;
	HnswShape	shape;
	BlockNumber nblocks;		/* for hnsw_slot_pos */
	uint64		tail;			/* how far walk 1 went */

	/* elements in stream order: start, level, state */
	uint64	   *pos;
	uint8	   *level;
	uint8	   *state;
	int64		n;
	int64		cap;

	/* heap TIDs of live elements, as int64 (block << 16 | offset) */
	bool		want_tids;
	int64	   *tids;
	int64		ntids;
	int64		tids_cap;

	/* references walk 2 could not accept at once */
	Doubt	   *doubts;
	int			ndoubts;

	/* a quantized index: codes spanning pages, checked after walk 1 */
	uint64	   *span;
	int64		nspan;
	int64		span_cap;
	float	   *qscratch;		/* dims floats */
} CheckState;

/* What an impossible code of the index's mode has wrong (hnsw_quant_valid) */
static const char *
code_damage(const HnswShape *shape)
{
	return shape->quant == VINDEX_QUANT_SQ8 ?
		"its norm is not that of its decoded vector" :
		"its norm or factors are not finite and in range, or its bit count is wrong";
}

/* room for the doubts of at least one element of the highest level */
#define MAX_DOUBTS ((HNSW_MAX_LEVEL + 2) * HNSW_MAX_M)

static inline int64
tid_key(const ItemPointerData *tid)
{
	return ((int64) ItemPointerGetBlockNumberNoCheck(tid) << 16) |
		ItemPointerGetOffsetNumberNoCheck(tid);
}

/* Double the capacity of a huge array of `size`-byte entries. */
static void *
grow_array(void *a, Size size, int64 *cap)
{
	*cap *= 2;
	return repalloc_huge(a, size * *cap);
}

/* Index of element `pos` among the collected ones, or -1. */
static int64
element_index(const CheckState *cs, uint64 pos)
{
	return hnsw_find_pos(cs->pos, cs->n, pos);
}

/* Walk 1: check what the read paths do not, and collect the element. */
static HnswWalkAction
collect(void *arg, Page page, uint64 pos, HnswElementHeader *hdr)
{
	CheckState *cs = arg;
	BlockNumber blkno = HNSW_POS_BLOCK(pos);
	uint32		off = HNSW_POS_OFFSET(pos);
	Size		bytes = hnsw_slot_bytes(&cs->shape, hdr);
	bool		free = (hdr->flags & HNSW_ELEMENT_FREE) != 0;

	if (bytes <= HNSW_PAGE_DATA && off + bytes > HNSW_PAGE_DATA)
		vindex_report_corrupted(cs->index, blkno,
								"The element at offset %u (%zu bytes) crosses the page's end although it fits in a page.",
								off, bytes);
	if (free && hdr->ntids > 0)
		vindex_report_corrupted(cs->index, blkno,
								"The free slot at offset %u holds %d heap TIDs.", off, hdr->ntids);
	/* the filter area of an element in one page holds codes a row could give */
	if (!free && cs->shape.filters.nfilters > 0 && bytes <= HNSW_PAGE_DATA &&
		!vindex_filter_area_valid(&cs->shape.filters,
								  (char *) hdr + hnsw_prefix_size(cs->shape.m, hdr->level) +
								  HNSW_FILTER_OFFSET(&cs->shape)))
		vindex_report_corrupted(cs->index, blkno,
								"The filter values of the element at offset %u are impossible (NULL bits beyond the %d filter columns, a code under a NULL bit, or a boolean other than 0 and 1).",
								off, cs->shape.filters.nfilters);
	/* a quantized element's code is one the encoder gives (spanning: later) */
	if (!free && cs->shape.quant != VINDEX_QUANT_NONE)
	{
		if (bytes <= HNSW_PAGE_DATA)
		{
			if (!hnsw_quant_valid(&cs->shape,
								  (char *) hdr + hnsw_value_offset(&cs->shape, hdr->level),
								  cs->qscratch))
				vindex_report_corrupted(cs->index, blkno,
										"The %s code of the element at offset %u is impossible (%s).",
										vindex_quantization_name(cs->shape.quant), off,
										code_damage(&cs->shape));
		}
		else
		{
			if (cs->nspan == cs->span_cap)
				cs->span = grow_array(cs->span, sizeof(uint64), &cs->span_cap);
			/* where the code starts */
			cs->span[cs->nspan++] = pos + hnsw_value_offset(&cs->shape, hdr->level);
		}
	}
	/* a variable-size value in one page fits its slot and is one a row gives */
	if (!free && cs->shape.varsize && bytes <= HNSW_PAGE_DATA)
	{
		const char *x = (char *) hdr + hnsw_value_offset(&cs->shape, hdr->level);

		hnsw_check_value(cs->index, &cs->shape, hdr, x, blkno);
		if (!cs->shape.elem->valid(x, cs->shape.dims))
			vindex_report_corrupted(cs->index, blkno,
									"The %s value of the element at offset %u is impossible.",
									cs->shape.elem->name, off);
	}
	for (int l = 0; l <= hdr->level; l++)
	{
		int			count = hnsw_checked_count(cs->index, &cs->shape, hdr, l, blkno, pos);
		HnswPtr    *slots = hnsw_list_slots(hdr, cs->shape.m, l);

		if (free && count > 0)
			vindex_report_corrupted(cs->index, blkno,
									"The free slot at offset %u lists %d neighbours at level %d.",
									off, count, l);
		for (int i = 0; i < count; i++)
			(void) hnsw_slot_pos(cs->index, &cs->nblocks, &slots[i], blkno);
	}

	if (cs->n == cs->cap)
	{
		int64		cap = cs->cap;

		cs->pos = grow_array(cs->pos, sizeof(uint64), &cap);
		cap = cs->cap;
		cs->level = grow_array(cs->level, sizeof(uint8), &cap);
		cap = cs->cap;
		cs->state = grow_array(cs->state, sizeof(uint8), &cap);
		cs->cap = cap;
	}
	cs->pos[cs->n] = pos;
	cs->level[cs->n] = hdr->level;
	cs->state[cs->n++] = free ? ELEMENT_FREE : hdr->ntids > 0 ? ELEMENT_LIVE : ELEMENT_DEAD;

	for (int i = 0; cs->want_tids && i < hdr->ntids; i++)
	{
		if (!ItemPointerIsValid(&hdr->tids[i]))
			vindex_report_corrupted(cs->index, blkno,
									"Heap TID %d of the element at offset %u is invalid.", i, off);
		if (cs->ntids == cs->tids_cap)
			cs->tids = grow_array(cs->tids, sizeof(int64), &cs->tids_cap);
		cs->tids[cs->ntids++] = tid_key(&hdr->tids[i]);
	}
	return HNSW_WALK_NEXT;
}

/* Step 3: every page the stream occupies is an hnsw data page. */
static void
check_pages(CheckState *cs)
{
	BlockNumber last = cs->tail == 0 ? 0 : HNSW_POS_BLOCK(cs->tail - 1);

	for (BlockNumber blkno = 1; blkno <= last; blkno++)
	{
		Buffer		buf = ReadBuffer(cs->index, blkno);

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		/* filter directory pages: hnsw_filterdir_check */
		if (!hnsw_filterdir_is_page(BufferGetPage(buf)))
			hnsw_check_page(cs->index, BufferGetPage(buf), blkno, HNSW_PAGE_DATA_KIND);
		UnlockReleaseBuffer(buf);
	}
}

/*
 * Step 3b: the codes of a quantized index's elements that span pages
 * (walk 1 checked those in one page).  Such elements are never reused
 * (hnsw.h), so their codes do not change under the check.
 */
static void
check_spanning_codes(CheckState *cs)
{
	char	   *code = palloc(cs->shape.vec_size);

	for (int64 i = 0; i < cs->nspan; i++)
	{
		CHECK_FOR_INTERRUPTS();
		hnsw_read_stream(cs->index, &cs->nblocks, InvalidBuffer, cs->span[i], code,
						 cs->shape.vec_size);
		if (!hnsw_quant_valid(&cs->shape, code, cs->qscratch))
			vindex_report_corrupted(cs->index, HNSW_POS_BLOCK(cs->span[i]),
									"The %s code starting at offset %u is impossible (%s).",
									vindex_quantization_name(cs->shape.quant),
									HNSW_POS_OFFSET(cs->span[i]), code_damage(&cs->shape));
	}
	pfree(code);
}

/* Is the reference acceptable as walk 1 saw its target? */
static bool
reference_ok(const CheckState *cs, int64 t, int level, bool holder_live)
{
	if (t < 0)
		return false;
	return !holder_live ||
		(cs->state[t] != ELEMENT_FREE && cs->level[t] >= level);
}

/* Walk 2: check the references of one element, noting doubtful ones. */
static HnswWalkAction
check_references(void *arg, Page page, uint64 pos, HnswElementHeader *hdr)
{
	CheckState *cs = arg;
	BlockNumber blkno = HNSW_POS_BLOCK(pos);
	bool		live = hdr->ntids > 0;

	if (hdr->flags & HNSW_ELEMENT_FREE)
		return HNSW_WALK_NEXT;
	if (cs->ndoubts + (hdr->level + 2) * cs->shape.m > MAX_DOUBTS)
		return HNSW_WALK_STOP;
	for (int l = 0; l <= hdr->level; l++)
	{
		int			count = hnsw_checked_count(cs->index, &cs->shape, hdr, l, blkno, pos);
		HnswPtr    *slots = hnsw_list_slots(hdr, cs->shape.m, l);

		for (int i = 0; i < count; i++)
		{
			uint64		target = hnsw_slot_pos(cs->index, &cs->nblocks, &slots[i], blkno);

			if (!reference_ok(cs, element_index(cs, target), l, live))
				cs->doubts[cs->ndoubts++] = (Doubt) {pos, target, l, live};
		}
	}
	return HNSW_WALK_NEXT;
}

/* Extend walk 1 over the elements appended since it read the tail. */
static void
catch_up(CheckState *cs)
{
	HnswShape	shape;
	uint64		tail;

	hnsw_read_meta(cs->index, &shape, NULL, NULL, &tail);
	if (tail > cs->tail)
		cs->tail = hnsw_walk(cs->index, &cs->shape, cs->tail, tail, false, collect, cs);
}

/*
 * The level and state of the element at `target` as it is now, and
 * whether it starts an element at all.
 */
static bool
element_now(CheckState *cs, uint64 target, int *level, int *state)
{
	HnswElementHeader *hdr;
	Buffer		buf;

	if (element_index(cs, target) < 0)
		return false;
	buf = hnsw_lock_element(cs->index, &cs->shape, target, BUFFER_LOCK_SHARE, &hdr);
	*level = hdr->level;
	*state = (hdr->flags & HNSW_ELEMENT_FREE) ? ELEMENT_FREE :
		hdr->ntids > 0 ? ELEMENT_LIVE : ELEMENT_DEAD;
	UnlockReleaseBuffer(buf);
	return true;
}

/* Settle the doubts of walk 2: each is a concurrent change or damage. */
static void
settle_doubts(CheckState *cs)
{
	catch_up(cs);
	for (int i = 0; i < cs->ndoubts; i++)
	{
		Doubt	   *d = &cs->doubts[i];
		BlockNumber blkno = HNSW_POS_BLOCK(d->holder);
		int			level,
					state;

		if (!element_now(cs, d->target, &level, &state))
			vindex_report_corrupted(cs->index, blkno,
									"The element at offset %u lists (%u,%u) at level %d, where no element starts.",
									HNSW_POS_OFFSET(d->holder), HNSW_POS_BLOCK(d->target),
									HNSW_POS_OFFSET(d->target), d->level);
		if (d->holder_live && state == ELEMENT_FREE)
			vindex_report_corrupted(cs->index, blkno,
									"The live element at offset %u lists the free slot (%u,%u) at level %d.",
									HNSW_POS_OFFSET(d->holder), HNSW_POS_BLOCK(d->target),
									HNSW_POS_OFFSET(d->target), d->level);
		if (d->holder_live && level < d->level)
			vindex_report_corrupted(cs->index, blkno,
									"The live element at offset %u lists (%u,%u), of level %d, at level %d.",
									HNSW_POS_OFFSET(d->holder), HNSW_POS_BLOCK(d->target),
									HNSW_POS_OFFSET(d->target), level, d->level);
	}
	cs->ndoubts = 0;
}

/* Step 5: the entry point. */
static void
check_entry(CheckState *cs)
{
	HnswShape	shape;
	uint64		entry;
	int			entry_level;
	int			level,
				state;

	hnsw_read_meta(cs->index, &shape, &entry, &entry_level, NULL);
	if (entry == HNSW_INVALID_POS)
		return;
	catch_up(cs);
	if (!element_now(cs, entry, &level, &state) || state == ELEMENT_FREE ||
		level != entry_level)
		vindex_report_corrupted(cs->index, HNSW_METAPAGE_BLKNO,
								"The entry point (%u,%u) of level %d is no element of that level.",
								HNSW_POS_BLOCK(entry), HNSW_POS_OFFSET(entry), entry_level);
}

static int
cmp_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a,
				y = *(const int64 *) b;

	return x < y ? -1 : x > y;
}

/* Step 6, per row: is the row's TID among the index's? */
static void
heap_row_indexed(Relation index, ItemPointer tid, Datum *values, bool *isnull,
				 bool tupleIsAlive, void *arg)
{
	CheckState *cs = arg;
	int64		key = tid_key(tid);
	char	   *x;
	int			dims;

	if (isnull[0])
		return;
	x = vindex_elem_form(cs->shape.elem, values[0], &dims);
	if (!vindex_elem_indexable(cs->shape.elem, cs->shape.metric, x, dims))
		return;
	if (bsearch(&key, cs->tids, cs->ntids, sizeof(int64), cmp_int64) == NULL)
		vindex_report_corrupted(index, HNSW_METAPAGE_BLKNO,
								"heap tuple (%u,%u) of \"%s\" is visible but not in the index",
								ItemPointerGetBlockNumber(tid), ItemPointerGetOffsetNumber(tid),
								cs->heap_name);
}

/* Step 6: every row of `snapshot` the index covers is in it. */
static void
check_heap(CheckState *cs, Relation heap, Snapshot snapshot)
{
	IndexInfo  *info = BuildIndexInfo(cs->index);
	TableScanDesc scan;

	cs->heap_name = RelationGetRelationName(heap);
	qsort(cs->tids, cs->ntids, sizeof(int64), cmp_int64);
	/* an MVCC scan, as for CREATE INDEX CONCURRENTLY */
	info->ii_Concurrent = true;
	scan = table_beginscan_strat(heap, snapshot, 0, NULL, true, false);
	table_index_build_scan(heap, cs->index, info, true, false, heap_row_indexed, cs, scan);
}

void
hnsw_index_check(Relation index, Relation heap, bool heapallindexed)
{
	CheckState	cs;
	Snapshot	snapshot = NULL;
	MemoryContext ctx = AllocSetContextCreate(CurrentMemoryContext, "hnsw check",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(ctx);

	LockPage(index, HNSW_VACUUM_LOCK, ShareLock);
	if (heapallindexed)
		snapshot = RegisterSnapshot(GetTransactionSnapshot());
	memset(&cs, 0, sizeof(cs));
	cs.index = index;
	cs.nblocks = 1;
	cs.cap = 1024;
	cs.pos = palloc(sizeof(uint64) * cs.cap);
	cs.level = palloc(sizeof(uint8) * cs.cap);
	cs.state = palloc(sizeof(uint8) * cs.cap);
	cs.want_tids = heapallindexed;
	cs.tids_cap = 1024;
	cs.tids = palloc(sizeof(int64) * cs.tids_cap);
	cs.doubts = palloc(sizeof(Doubt) * MAX_DOUBTS);

	hnsw_read_meta(index, &cs.shape, NULL, NULL, &cs.tail);
	cs.span_cap = 16;
	cs.span = palloc(sizeof(uint64) * cs.span_cap);
	cs.qscratch = palloc(sizeof(float) * cs.shape.dims);
	cs.tail = hnsw_walk(index, &cs.shape, 0, cs.tail, false, collect, &cs);
	check_pages(&cs);
	check_spanning_codes(&cs);
	for (uint64 from = 0; from < cs.tail;)
	{
		from = hnsw_walk(index, &cs.shape, from, cs.tail, false, check_references, &cs);
		settle_doubts(&cs);
	}
	check_entry(&cs);
	hnsw_filterdir_check(index, heap);
	if (heapallindexed)
	{
		check_heap(&cs, heap, snapshot);
		UnregisterSnapshot(snapshot);
	}
	UnlockPage(index, HNSW_VACUUM_LOCK, ShareLock);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(ctx);
}
