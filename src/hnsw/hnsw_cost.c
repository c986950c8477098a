/*-------------------------------------------------------------------------
 *
 * hnsw_cost.c
 *	  Planner cost estimate for HNSW index scans.
 *
 * A scan does all its work before returning the first row: it computes
 * the distance to about ef_search * m elements at level 0 (ef_search
 * expansions of lists holding about m live neighbours each), plus a few per
 * upper level.  Each costs a distance (cpu_operator_cost, as the planner
 * charges a sequential scan per row) and an index tuple, and the index
 * pages in proportion to the elements visited are read at seq_page_cost: an
 * index in use is normally cached, and charging random_page_cost for every
 * element would make a sequential scan over out-of-line (TOASTed) vectors,
 * whose detoasting the planner does not cost, look cheaper than it is.
 * That is the startup cost; rows then come from a list in memory.  Selectivity is 1 (an iterative scan can
 * return every row), so the heap fetches make a query without LIMIT cost
 * more than a sequential scan and sort, while ORDER BY ... LIMIT k pays
 * only k of them.  Without ORDER BY the index is useless and is priced
 * out (vindex_cost_unusable).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/relation.h"
#include "hnsw/hnsw.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "utils/rel.h"

void
hnsw_costestimate(PlannerInfo *root, IndexPath *path, double loop_count,
				  Cost *indexStartupCost, Cost *indexTotalCost,
				  Selectivity *indexSelectivity, double *indexCorrelation,
				  double *indexPages)
{
	IndexOptInfo *index = path->indexinfo;
	Relation	rel;
	int			m;
	double		visited;
	double		pages;

	if (path->indexorderbys == NIL)
	{
		vindex_cost_unusable(indexStartupCost, indexTotalCost,
							 indexSelectivity, indexCorrelation, indexPages);
		return;
	}

	rel = relation_open(index->indexoid, NoLock);
	m = hnsw_index_m(rel);
	relation_close(rel, NoLock);

	visited = Min(Max(index->tuples, 1), (double) hnsw_ef_search * m);
	pages = ceil(visited * index->pages / Max(index->tuples, 1));

	*indexStartupCost = pages * seq_page_cost +
		visited * (cpu_index_tuple_cost + cpu_operator_cost);
	*indexTotalCost = *indexStartupCost;
	*indexSelectivity = 1;
	*indexCorrelation = 0;
	*indexPages = pages;
}
