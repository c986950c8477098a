/*-------------------------------------------------------------------------
 *
 * index_cost.c
 *	  The planner cost model every vector index method shares: from a
 *	  method's description of its scan (VindexScanModel), the startup and
 *	  total cost, and the penalty of a scan that cannot return the rows the
 *	  query asks for (see "Planner costs" in index.h).
 *
 * The per-visit figures are measured (test/bench/bench_cost.sh prints the
 * estimates beside the timings): on cached indexes of 10,000 rows an HNSW
 * search costs about 0.15 us per element visited besides its distance, and
 * one cpu_operator_cost is about 20 ns of a sequential scan, so a visit
 * costs cpu_index_tuple_cost + the distance + about 6 cpu_operator_costs.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "index/index.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "utils/spccache.h"
#include "vector/vector.h"

Cost
vindex_distance_cost(IndexPath *path)
{
	Node	   *orderby = (Node *) linitial(path->indexorderbys);
	const VindexElemType *elem = vindex_elem_for_type(path->indexinfo->opcintype[0]);

	return vector_distance_call_cost(NULL, elem->cost_kind,
									 IsA(orderby, OpExpr) ? ((OpExpr *) orderby)->args : NIL);
}

/*
 * Whether `clause` (a qual of the table) refers to the indexed column, as a
 * distance condition `v <-> q < r` does.  An expression index has none.
 */
static bool
is_distance_clause(IndexOptInfo *index, Node *clause)
{
	Bitmapset  *attrs = NULL;

	if (index->indexkeys[0] <= 0)
		return false;
	pull_varattnos(clause, index->rel->relid, &attrs);
	return bms_is_member(index->indexkeys[0] - FirstLowInvalidHeapAttributeNumber,
						 attrs);
}

/*
 * The rows the query wants from a relation yielding `rows`: its LIMIT (with
 * OFFSET), capped at `rows`; VINDEX_COST_DEFAULT_LIMIT when the LIMIT is
 * not known at plan time; all of them without LIMIT.
 */
static double
wanted_rows(PlannerInfo *root, double rows)
{
	Node	   *limit = root->parse->limitCount;

	if (root->limit_tuples >= 1)
		return Min(root->limit_tuples, rows);
	if (limit != NULL && !(IsA(limit, Const) && ((Const *) limit)->constisnull))
		return Min(VINDEX_COST_DEFAULT_LIMIT, rows);
	return rows;
}

/*
 * The cost of answering the query exactly without the index: reading the
 * table, its filters and the distances of the rows they keep, and a sort
 * for the `wanted` first of them.
 */
static Cost
exact_search_cost(PlannerInfo *root, IndexPath *path, double wanted)
{
	RelOptInfo *rel = path->indexinfo->rel;
	QualCost	quals;
	QualCost	distance;
	double		rows;
	Cost		sort;
	double		spc_random;
	double		spc_seq;

	get_tablespace_page_costs(rel->reltablespace, &spc_random, &spc_seq);
	cost_qual_eval(&quals, rel->baserestrictinfo, root);
	cost_qual_eval_node(&distance, (Node *) linitial(path->indexorderbys), root);
	/*
	 * The comparisons of a bounded (top-N) heap sort, or a full one, as
	 * cost_sort counts them; not cost_sort itself, which adds disable_cost
	 * under enable_sort = off and would price the index out with the sort.
	 */
	rows = Max(rel->rows, 2);
	sort = 2.0 * cpu_operator_cost * rows *
		log2(wanted < rows / 2 ? Max(2.0 * wanted, 2.0) : rows);
	return rel->pages * spc_seq + quals.startup +
		rel->tuples * (cpu_tuple_cost + quals.per_tuple) +
		rel->rows * (distance.per_tuple + cpu_tuple_cost) + sort;
}

/* The RestrictInfos of the index conditions of `path` (on filter columns). */
static List *
index_cond_rinfos(IndexPath *path)
{
	List	   *out = NIL;
	ListCell   *lc;

	foreach(lc, path->indexclauses)
		out = lappend(out, lfirst_node(IndexClause, lc)->rinfo);
	return out;
}

Selectivity
vindex_index_cond_selectivity(PlannerInfo *root, IndexPath *path)
{
	List	   *rinfos = index_cond_rinfos(path);
	Selectivity sel;

	if (rinfos == NIL)
		return 1.0;
	sel = clauselist_selectivity(root, rinfos, path->indexinfo->rel->relid,
								 JOIN_INNER, NULL);
	list_free(rinfos);
	/* a share the scan must find at least one row of to be worth costing */
	return Max(sel, 1.0 / Max(path->indexinfo->rel->tuples, 1));
}

void
vindex_cost_estimate(PlannerInfo *root, IndexPath *path,
					 const VindexScanModel *model,
					 Cost *indexStartupCost, Cost *indexTotalCost,
					 Selectivity *indexSelectivity, double *indexCorrelation,
					 double *indexPages)
{
	IndexOptInfo *index = path->indexinfo;
	RelOptInfo *rel = index->rel;
	List	   *filters = NIL;
	List	   *distance_quals = NIL;
	List	   *conds = index_cond_rinfos(path);
	ListCell   *lc;
	Selectivity cond_sel = vindex_index_cond_selectivity(root, path);
	Selectivity filter_sel;
	Selectivity distance_sel;
	/* rows in the index: a partial index holds those of its predicate */
	double		tuples = Max(index->indpred != NIL ? index->tuples : rel->tuples, 1);
	double		pool;
	double		deliverable;
	double		wanted;
	double		spc_random;
	double		spc_seq;
	Cost		visit;
	Cost		startup;
	Cost		run;

	get_tablespace_page_costs(index->reltablespace, &spc_random, &spc_seq);
	visit = cpu_index_tuple_cost + vindex_distance_cost(path) +
		model->visit_overhead * cpu_operator_cost;
	startup = model->first_pages * spc_seq + model->first_visits * visit +
		model->extra_startup;
	pool = Min(Max(model->pool, model->first_rows), tuples);
	run = Max(0, pool - model->first_rows) * model->visits_per_row * visit;

	/*
	 * The filters keep a share of the rows; distance conditions the first.
	 * indrestrictinfo leaves out the quals a partial index's predicate
	 * implies: every row in the index passes them.
	 */
	foreach(lc, index->indrestrictinfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);

		if (list_member_ptr(conds, rinfo))
			continue;			/* the index applies it: the pool's rows pass */
		if (is_distance_clause(index, (Node *) rinfo->clause))
			distance_quals = lappend(distance_quals, rinfo);
		else
			filters = lappend(filters, rinfo);
	}
	filter_sel = clauselist_selectivity(root, filters, rel->relid, JOIN_INNER, NULL);
	distance_sel = clauselist_selectivity(root, distance_quals, rel->relid,
										  JOIN_INNER, NULL);
	deliverable = Min(pool, tuples * cond_sel * distance_sel) * filter_sel;
	wanted = wanted_rows(root, Max(rel->rows, 1));
	if (deliverable < wanted)
		startup += exact_search_cost(root, path, wanted);

	*indexStartupCost = startup;
	*indexTotalCost = startup + run;
	*indexSelectivity = cond_sel;
	*indexCorrelation = 0;
	*indexPages = model->first_pages;
	list_free(filters);
	list_free(distance_quals);
	list_free(conds);
}
