/*-------------------------------------------------------------------------
 *
 * index_rerank.c
 *	  Exact distances of candidate rows, read from the table, for the
 *	  re-ranking step of scans of quantized indexes (index.h).
 *
 * Why the heap and not a full-precision copy in the index: the copy would
 * make a quantized index as large as an unquantized one plus its codes,
 * which is what quantization is for avoiding; the heap row is there
 * anyway and a candidate costs one heap fetch (a buffer hit for a table in
 * shared buffers, plus a TOAST fetch when the vector is stored out of
 * line).  README.md ("Quantization") has the measured figures.
 *
 * Visibility: the candidate is fetched with the scan's own snapshot, the
 * way the executor then fetches the row the scan returns, following the
 * HOT chain at the index's TID; an invisible candidate is skipped here, as
 * the executor would skip it.  HOT updates never change an indexed value,
 * so any member of the chain has the key the index entry was made from.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relscan.h"
#include "access/tableam.h"
#include "catalog/index.h"
#include "executor/executor.h"
#include "index/index.h"
#include "utils/memutils.h"
#include "utils/rel.h"

void
vindex_rerank_begin(VindexRerank *rr, IndexScanDesc scan,
					const VindexElemType *elem, VectorMetric metric, int dims)
{
	memset(rr, 0, sizeof(VindexRerank));
	if (scan->heapRelation == NULL)
		elog(ERROR, "re-ranking scan of index \"%s\" has no table",
			 RelationGetRelationName(scan->indexRelation));
	rr->scan = scan;
	rr->elem = elem;
	rr->metric = metric;
	rr->dims = dims;
	rr->info = BuildIndexInfo(scan->indexRelation);
	rr->estate = CreateExecutorState();
	rr->slot = table_slot_create(scan->heapRelation, NULL);
	rr->fetch = table_index_fetch_begin(scan->heapRelation);
	rr->tmpctx = AllocSetContextCreate(CurrentMemoryContext, "vsim re-rank",
									   ALLOCSET_SMALL_SIZES);
}

bool
vindex_rerank_distance(VindexRerank *rr, ItemPointer tid, const void *query,
					   double *dist)
{
	ItemPointerData t = *tid;
	bool		call_again = false;
	bool		all_dead = false;
	bool		found;
	bool		ok = false;
	ExprContext *econtext;
	Datum		values[INDEX_MAX_KEYS];
	bool		isnull[INDEX_MAX_KEYS];
	MemoryContext old;

	rr->fetched++;
	found = table_index_fetch_tuple(rr->fetch, &t, rr->scan->xs_snapshot,
									rr->slot, &call_again, &all_dead);
	if (!found)
	{
		rr->invisible++;
		return false;
	}
	econtext = GetPerTupleExprContext(rr->estate);
	econtext->ecxt_scantuple = rr->slot;
	old = MemoryContextSwitchTo(rr->tmpctx);
	FormIndexDatum(rr->info, rr->slot, rr->estate, values, isnull);
	if (!isnull[0])
	{
		int			dims;
		char	   *x = vindex_elem_form(rr->elem, values[0], &dims);

		if (dims == rr->dims &&
			vindex_elem_indexable(rr->elem, rr->metric, x, dims))
		{
			*dist = rr->elem->distance(rr->metric, query, x, dims);
			ok = true;
		}
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(rr->tmpctx);
	ResetExprContext(econtext);
	ExecClearTuple(rr->slot);
	return ok;
}

void
vindex_rerank_end(VindexRerank *rr)
{
	if (rr->fetch == NULL)
		return;
	table_index_fetch_end(rr->fetch);
	ExecDropSingleTupleTableSlot(rr->slot);
	FreeExecutorState(rr->estate);
	MemoryContextDelete(rr->tmpctx);
	rr->fetch = NULL;
}

int
vindex_scored_cmp(const void *a, const void *b)
{
	const VindexScored *x = a;
	const VindexScored *y = b;

	if (x->dist < y->dist)
		return -1;
	if (x->dist > y->dist)
		return 1;
	return ItemPointerCompare((ItemPointer) &x->tid, (ItemPointer) &y->tid);
}
