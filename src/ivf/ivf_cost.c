/*-------------------------------------------------------------------------
 *
 * ivf_cost.c
 *	  amcostestimate for ivfflat.
 *
 * An ivfflat scan is only useful for ORDER BY distance; without one the
 * path is priced out.  With one, the scan ranks every centre, then reads
 * the probes / lists share of the index: one random page to reach each
 * list, the rest of the list sequentially (the build writes each list
 * contiguously), computing one distance per row.  All of that happens
 * before the first row comes out, so the startup cost is the whole index
 * cost and a LIMIT discounts only the heap fetches.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "ivf/ivf.h"
#include "optimizer/cost.h"
#include "nodes/pathnodes.h"
#include "optimizer/optimizer.h"
#include "utils/rel.h"
#include "utils/spccache.h"

void
ivf_costestimate(PlannerInfo *root, IndexPath *path, double loop_count,
				  Cost *indexStartupCost, Cost *indexTotalCost,
				  Selectivity *indexSelectivity, double *indexCorrelation,
				  double *indexPages)
{
	Relation	index;
	int			nlists;
	double		probes;
	double		ratio;
	double		tuples;
	double		pages;
	double		random_cost;
	double		seq_cost;
	QualCost	orderby_cost;
	Cost		distance_cost;

	if (path->indexorderbys == NIL)
	{
		vindex_cost_unusable(indexStartupCost, indexTotalCost,
							 indexSelectivity, indexCorrelation, indexPages);
		return;
	}

	index = index_open(path->indexinfo->indexoid, NoLock);
	nlists = ivf_get_meta(index)->nlists;
	index_close(index, NoLock);

	probes = Min(ivf_probes, nlists);
	ratio = probes / nlists;
	tuples = Max(1.0, path->indexinfo->tuples * ratio);
	pages = Max(probes, ceil(path->indexinfo->pages * ratio));
	get_tablespace_page_costs(path->indexinfo->reltablespace, &random_cost, &seq_cost);
	cost_qual_eval_node(&orderby_cost, (Node *) linitial(path->indexorderbys), root);
	distance_cost = orderby_cost.per_tuple;

	*indexStartupCost = probes * random_cost + (pages - probes) * seq_cost +
		nlists * distance_cost + tuples * (cpu_index_tuple_cost + distance_cost);
	*indexTotalCost = *indexStartupCost;
	*indexSelectivity = ratio;
	*indexCorrelation = 0;
	*indexPages = pages;
}
