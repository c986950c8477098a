/*-------------------------------------------------------------------------
 *
 * ivf_cost.c
 *	  amcostestimate for ivfflat: the method's scan model for
 *	  vindex_cost_estimate (index.h, index_cost.c).
 *
 * A scan ranks every centre (one distance each, on the centre pages), then
 * reads the probes / lists share of the index: one random page to reach
 * each list, the rest of the list sequentially (the build writes each list
 * contiguously), computing one distance per row straight on the page (one
 * cpu_operator_cost besides cpu_index_tuple_cost and the distance, for the
 * candidate heap).  All of that happens before the first row comes out;
 * the first batch is every row of those lists.
 *
 * A quantized index (sq8, rabitq) computes its distances on codes of
 * code_size bytes instead of elements of elem_size: each visit is charged
 * that share of the full distance (the scan is bound by the bytes it
 * reads), and its pages are fewer (the index's own page count says so).
 * Its first batch then re-ranks min(ivfflat.rerank_candidates, rows read)
 * candidates from the table, each a heap buffer access (seq_page_cost: a
 * table that is searched is normally cached), cpu_tuple_cost and one full
 * distance, added to the startup cost.
 *
 * A filter (index conditions on filter columns) of selectivity s: each
 * row read is tested first, and only the s that pass cost a distance (the
 * rest: cpu_index_tuple_cost and one cpu_operator_cost).  The scan reads
 * `probes` lists and then more, in centre order, until s of their rows
 * reach ivfflat.filter_candidates, up to ivfflat.max_probes lists: lists
 * read = max(probes, filter_candidates / (s N / nlists)); its first batch
 * is s of their rows, and it may go on to max_probes lists, the rows it
 * can return (ivf_scan.c).  So a very selective filter reads most of the
 * index (a btree on the filter column and a sort of the few matching rows
 * then win), a broad one about what an unfiltered scan reads.
 * (The scan's further reading for a correlated filter, whose rows lie
 * away from the query's lists, is not modelled: the planner's selectivity
 * says nothing of where the rows lie.)
 *
 * With ivfflat.iterative_scan on, the scan reads further lists, `probes`
 * at a time, up to ivfflat.max_probes lists, at the same cost per row:
 * that bounds the rows it can return.  Off, it returns the first batch.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "index/index.h"
#include "ivf/ivf.h"
#include "nodes/pathnodes.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "utils/rel.h"
#include "utils/spccache.h"

/* cpu_operator_costs per row read besides cpu_index_tuple_cost and the distance */
#define IVF_COST_VISIT_OVERHEAD 1.0

void
ivf_costestimate(PlannerInfo *root, IndexPath *path, double loop_count,
				 Cost *indexStartupCost, Cost *indexTotalCost,
				 Selectivity *indexSelectivity, double *indexCorrelation,
				 double *indexPages)
{
	VindexScanModel model;
	Relation	index;
	int			nlists;
	double		probes;
	double		max_probes;
	double		ratio;
	double		tuples;
	double		random_cost;
	double		seq_cost;
	double		centre_pages;
	const IvfMetaPageData *meta;
	double		code_share = 1.0;	/* distance cost of a visit, share of full */
	Selectivity sel;
	double		lists_read;

	if (path->indexorderbys == NIL)
	{
		vindex_cost_unusable(indexStartupCost, indexTotalCost,
							 indexSelectivity, indexCorrelation, indexPages);
		return;
	}

	index = index_open(path->indexinfo->indexoid, NoLock);
	meta = ivf_get_meta(index);
	nlists = meta->nlists;
	if (meta->quantization != IVF_QUANT_NONE)
	{
		const VindexElemType *elem = vindex_elem_type(index);

		code_share = (double) meta->code_size / elem->stored_size(meta->dims);
	}
	index_close(index, NoLock);

	sel = vindex_index_cond_selectivity(root, path);
	probes = Min(ivf_probes, nlists);
	max_probes = ivf_iterative_scan == IVF_ITERATIVE_OFF && sel >= 1 ? probes :
		Min(Max(ivf_max_probes, probes), nlists);
	tuples = Max(path->indexinfo->tuples, 1);
	lists_read = probes;
	if (sel < 1)
		lists_read = Min(max_probes,
						 Max(probes, ceil(ivf_filter_candidates * nlists / (sel * tuples))));
	ratio = lists_read / nlists;
	get_tablespace_page_costs(path->indexinfo->reltablespace, &random_cost, &seq_cost);

	/* the centres: one vector each, read sequentially */
	centre_pages = Min(path->indexinfo->pages,
					   ceil(path->indexinfo->pages * nlists / (tuples + nlists)));
	model.first_visits = tuples * ratio;
	model.first_rows = Max(1.0, tuples * ratio * sel);
	model.first_pages = centre_pages +
		Max(lists_read, ceil((path->indexinfo->pages - centre_pages) * ratio));
	model.extra_startup = nlists * vindex_distance_cost(path) +
		lists_read * (random_cost - seq_cost);
	model.visit_overhead = IVF_COST_VISIT_OVERHEAD;
	/* rows the filter rejects cost no distance: take back theirs */
	if (sel < 1)
		model.visit_overhead -= (1.0 - sel) * code_share *
			vindex_distance_cost(path) / cpu_operator_cost;
	if (code_share < 1.0)
	{
		Cost		distance = vindex_distance_cost(path);
		double		reranked = Min((double) ivf_rerank_candidates, model.first_visits * sel);

		/* vindex_cost_estimate charges a full distance per visit: take back the rest */
		model.visit_overhead -= (1.0 - code_share) * distance / cpu_operator_cost;
		model.extra_startup += reranked * (seq_cost + cpu_tuple_cost + distance);
	}
	model.visits_per_row = 1.0 / sel;
	model.pool = tuples * max_probes / nlists * sel;

	vindex_cost_estimate(root, path, &model, indexStartupCost, indexTotalCost,
						 indexSelectivity, indexCorrelation, indexPages);
}
