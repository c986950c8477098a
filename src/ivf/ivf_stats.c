/*-------------------------------------------------------------------------
 *
 * ivf_stats.c
 *	  vsim.ivfflat_index_stats(regclass): the shape of an ivfflat index.
 *
 * Reports the lists, how many rows each holds (min, max, mean and the
 * imbalance factor), now and at build time, and the pages.  The imbalance
 * factor n * sum(c_i^2) / (sum c_i)^2 over the n list sizes c_i is how
 * many rows a query reads relative to perfectly even lists (1.0 is even;
 * Jegou, Douze & Schmid 2011).  Rows inserted after the build go to lists
 * whose centres were computed without them, so a growing imbalance, or many
 * more rows than at build time, says the centres are stale: REINDEX.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "index/index.h"
#include "ivf/ivf.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/rel.h"

typedef struct IvfListCount
{
	int64		rows;
	int64		pages;
} IvfListCount;

/* IvfListPageFn: count the page and its items */
static void
count_page(IvfReader *r, const IvfListPage *lp, void *arg)
{
	IvfListCount *c = arg;

	c->rows += PageGetMaxOffsetNumber(lp->page);
	c->pages++;
}

PG_FUNCTION_INFO_V1(ivfflat_index_stats);

/*
 * vsim.ivfflat_index_stats(index regclass) -> one row: lists,
 * requested_lists, dims, metric, rows, rows_at_build, min_list_rows,
 * max_list_rows, mean_list_rows, imbalance, imbalance_at_build,
 * empty_lists, list_pages, total_pages, quantization (none, sq8, rabitq),
 * bytes_per_vector (of a list item's code or element, without the item's
 * heap TID and line pointer), param_pages, filter_columns (key columns
 * after the vector).  Who may call it, and the errors
 * when the argument is not an ivfflat index, are those of
 * vindex_stats_open (index.h).  Takes AccessShareLock and reads every list
 * page, without a snapshot: two calls in one statement may see different
 * pages (VOLATILE).
 */
Datum
ivfflat_index_stats(PG_FUNCTION_ARGS)
{
	Relation	index = vindex_stats_open(PG_GETARG_OID(0), "ivfflat");
	const IvfMetaPageData *meta = ivf_get_meta(index);
	TupleDesc	desc;
	int64		rows = 0,
				minrows = PG_INT64_MAX,
				maxrows = 0,
				list_pages = 0,
				empty = 0;
	double		sumsq = 0;
	int			nlists = meta->nlists;	/* >= 1: ivf_verify_meta */
	IvfReader	r;
	IvfListRef *refs;
	Datum		values[18];
	bool		nulls[18] = {0};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	ivf_reader_init(&r, index, meta, NULL);
	refs = ivf_list_refs(&r);
	for (int list = 0; list < nlists; list++)
	{
		IvfListCount c = {0, 0};

		ivf_walk_list(&r, &refs[list], BUFFER_LOCK_SHARE, count_page, &c);
		rows += c.rows;
		list_pages += c.pages;
		minrows = Min(minrows, c.rows);
		maxrows = Max(maxrows, c.rows);
		sumsq += (double) c.rows * c.rows;
		empty += c.rows == 0;
	}
	pfree(refs);

	values[0] = Int32GetDatum(nlists);
	values[1] = Int32GetDatum(meta->requested_lists);
	values[2] = Int32GetDatum(meta->dims);
	values[3] = CStringGetTextDatum(vector_metric_name((VectorMetric) meta->metric));
	values[4] = Int64GetDatum(rows);
	values[5] = Int64GetDatum(meta->build_rows);
	values[6] = Int64GetDatum(minrows);
	values[7] = Int64GetDatum(maxrows);
	values[8] = Float8GetDatum((double) rows / nlists);
	values[9] = Float8GetDatum(rows > 0 ? nlists * sumsq / ((double) rows * rows) : 0);
	values[10] = Float8GetDatum(meta->build_imbalance);
	values[11] = Int64GetDatum(empty);
	values[12] = Int64GetDatum(list_pages);
	values[13] = Int64GetDatum(RelationGetNumberOfBlocks(index));
	values[14] = CStringGetTextDatum(ivf_quantization_name((IvfQuantization) meta->quantization));
	values[15] = Int32GetDatum((int32) r.code_size);
	values[16] = Int32GetDatum(meta->nparampages);
	/* the key columns after the vector ("Filter columns", index.h) */
	values[17] = Int32GetDatum(IndexRelationGetNumberOfKeyAttributes(index) - 1);

	vindex_stats_close(index);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
