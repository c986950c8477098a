/*-------------------------------------------------------------------------
 *
 * hnsw_stats.c
 *	  vsim.hnsw_index_stats(regclass): statistics of an HNSW index's graph,
 *	  gathered by walking its element stream.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "hnsw/hnsw.h"
#include "index/index.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/rel.h"

typedef struct StatsState
{
	Relation	index;
	HnswShape	shape;
	int64		elements;
	int64		dead;
	int64		free;
	int64		tids;
	int64		level0_links;	/* of live elements */
	int			max_level;
} StatsState;

static HnswWalkAction
gather(void *arg, Page page, uint64 pos, HnswElementHeader *hdr)
{
	StatsState *st = arg;
	int			count = hnsw_checked_count(st->index, &st->shape, hdr, 0,
										   HNSW_POS_BLOCK(pos), pos);

	if (hdr->flags & HNSW_ELEMENT_FREE)
	{
		st->free++;
		return HNSW_WALK_NEXT;
	}
	st->elements++;
	st->tids += hdr->ntids;
	if (hdr->ntids == 0)
		st->dead++;
	else
		st->level0_links += count;
	st->max_level = Max(st->max_level, hdr->level);
	return HNSW_WALK_NEXT;
}

PG_FUNCTION_INFO_V1(hnsw_index_stats);

/*
 * vsim.hnsw_index_stats(index regclass) -> one row: elements (live and
 * dead), dead elements, free slots (of elements VACUUM removed, for
 * reuse), heap TIDs, levels (highest level + 1), entry point
 * "(block,offset)" and level, pages, average level-0 neighbours of live
 * elements, m, ef_construction, dimensions.  Who may call it, and the
 * errors when the argument is not an hnsw index, are those of
 * vindex_stats_open (index.h).  Takes AccessShareLock and reads every page
 * once, without a snapshot: two calls in one statement may see different
 * pages (VOLATILE).
 */
Datum
hnsw_index_stats(PG_FUNCTION_ARGS)
{
	Relation	index = vindex_stats_open(PG_GETARG_OID(0), "hnsw");
	TupleDesc	tupdesc;
	HnswShape	shape;
	uint64		entry,
				tail;
	int			entry_level;
	StatsState	st = {0};
	Datum		values[12];
	bool		nulls[12] = {0};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	hnsw_read_meta(index, &shape, &entry, &entry_level, &tail);
	st.index = index;
	st.shape = shape;
	st.max_level = -1;
	hnsw_walk(index, &shape, 0, tail, false, gather, &st);

	values[0] = Int64GetDatum(st.elements);
	values[1] = Int64GetDatum(st.dead);
	values[2] = Int64GetDatum(st.free);
	values[3] = Int64GetDatum(st.tids);
	values[4] = Int32GetDatum(st.max_level + 1);
	if (entry == HNSW_INVALID_POS)
		nulls[5] = nulls[6] = true;
	else
	{
		values[5] = CStringGetTextDatum(psprintf("(%u,%u)", HNSW_POS_BLOCK(entry),
												 HNSW_POS_OFFSET(entry)));
		values[6] = Int32GetDatum(entry_level);
	}
	values[7] = Int64GetDatum(RelationGetNumberOfBlocks(index));
	if (st.elements - st.dead > 0)
		values[8] = Float8GetDatum((double) st.level0_links / (st.elements - st.dead));
	else
		nulls[8] = true;
	values[9] = Int32GetDatum(shape.m);
	values[10] = Int32GetDatum(shape.ef_construction);
	values[11] = Int32GetDatum(shape.dims);
	vindex_stats_close(index);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
