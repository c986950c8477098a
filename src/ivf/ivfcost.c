/*-------------------------------------------------------------------------
 *
 * ivfcost.c
 *	  amcostestimate for ivfflat.
 *
 * An ivfflat scan is only useful for ORDER BY distance; without one the
 * path is priced out.  With one, the scan reads the probes / lists share of
 * the index (PostgreSQL's generic estimate for that many tuples and pages)
 * after ranking every centre, and all that work happens before the first
 * row comes out, so the startup cost is the whole index cost: a LIMIT
 * discounts only the heap fetches.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "ivf/ivf.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "utils/rel.h"
#include "utils/selfuncs.h"

/* Cost of a path that must not be chosen (disable_cost is gone in PG 18) */
#if PG_VERSION_NUM >= 180000
#define IVF_UNUSABLE_COST 1.0e10
#else
#define IVF_UNUSABLE_COST disable_cost
#endif

void
ivf_cost_estimate(PlannerInfo *root, IndexPath *path, double loop_count,
				  Cost *indexStartupCost, Cost *indexTotalCost,
				  Selectivity *indexSelectivity, double *indexCorrelation,
				  double *indexPages)
{
	GenericCosts costs;
	Relation	index;
	int			nlists;
	int			dims;
	double		ratio;

	if (path->indexorderbys == NIL)
	{
		*indexStartupCost = IVF_UNUSABLE_COST;
		*indexTotalCost = IVF_UNUSABLE_COST;
		*indexSelectivity = 0;
		*indexCorrelation = 0;
		*indexPages = 0;
		return;
	}

	index = index_open(path->indexinfo->indexoid, NoLock);
	nlists = ivf_get_meta(index)->nlists;
	dims = ivf_get_meta(index)->dims;
	index_close(index, NoLock);

	ratio = (double) Min(ivf_probes, nlists) / nlists;
	MemSet(&costs, 0, sizeof(costs));
	costs.numIndexTuples = Max(1.0, path->indexinfo->tuples * ratio);
	genericcostestimate(root, path, loop_count, &costs);

	/* ranking the centres: a distance per list, dims operations each */
	costs.indexTotalCost += nlists * dims * cpu_operator_cost / 16;

	*indexStartupCost = costs.indexTotalCost;
	*indexTotalCost = costs.indexTotalCost;
	*indexSelectivity = ratio;
	*indexCorrelation = 0;
	*indexPages = costs.numIndexPages;
}
