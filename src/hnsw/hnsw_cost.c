/*-------------------------------------------------------------------------
 *
 * hnsw_cost.c
 *	  Planner cost estimate for HNSW index scans: the method's scan model
 *	  for vindex_cost_estimate (index.h, index_cost.c).
 *
 * A scan descends the upper levels (about log_m(N) of them, a few
 * elements each) and searches level 0 with ef = hnsw_scan_ef
 * (hnsw.ef_search; twice that for rabitq): ef expansions of lists of up
 * to 2m neighbours, about half of them not yet seen, so about ef * m
 * distances, all before the first row comes out.
 * The first batch is the ef nearest elements.  Measured (bench_cost.sh,
 * 10,000 rows, m = 16): 3.2 us per unit of ef_search at 32 dimensions,
 * 13 us at 784, i.e. per element visited about 0.15 us (buffer access,
 * neighbour list, visited set: 6 cpu_operator_costs) besides its
 * distance.  Pages are the visited share of the index, read at
 * seq_page_cost (an index in use is normally cached).
 *
 * A filter (index conditions on filter columns) of selectivity s keeps
 * the search going until ef passing elements are found (failing elements
 * are visited, and expanded, too), up to every element; the first batch is
 * min(ef, s * N) rows.  Measured on the 60,000 CNN-256 Fashion-MNIST
 * embeddings (bench_filter.py, ef_search 40, buffer hits per query with
 * the graph walk alone): 466 without a filter, 1,952 at 10%, 10,590 at 1%,
 * 86,203 at 0.1%, i.e. about s^-0.7 times the unfiltered visits (less than
 * 1 / s: the walk's frontier grows as it goes).
 *
 * When that is more than hnsw.filter_walk_limit of the elements, the
 * search stops once it has judged so (after max(ef m, a quarter of the
 * limit) visits, as hnsw_scan.c does) and reads every element in stream
 * order, testing the
 * filter first (a sequential pass: about one cpu_operator_cost per element
 * besides the page) and computing the distances of the s * N that pass:
 * then the first batch is every passing row.
 *
 * An index with a filter directory ("Filter directory" in hnsw.h; the
 * planner reads its page count from the metapage) switches as soon as the
 * walk is expected to cost more than the directory pass, about
 * HNSW_FILTERDIR_PAGE_VISITS visits per directory page plus one per
 * matching element, after a sample of ef m / 2 visits.  The pass then
 * costs the sample, the directory's pages, one filter test
 * (cpu_operator_cost) per entry and a visit with a distance per matching
 * element, each on its own page.  Measured (bench_filter.py, 60,000
 * CNN-256 rows, four filter columns: 325 directory pages), buffer hits per
 * query: about 1,400 at 1% and 570 at 0.1%, against 10,590 and 86,203 for
 * the walk alone.
 *
 * A quantized index (sq8, rabitq) computes its distances on codes of
 * vindex_quant_code_size bytes (sq8 4 + dims, rabitq 16 + dims / 8
 * rounded up to 64 bits) instead of the stored value's: each visit is
 * charged that share of the full distance, as ivf_cost.c does (the walk is
 * bound by the bytes it reads), and its first batch re-ranks
 * min(hnsw_rerank_depth, first rows) candidates from the table, each
 * a heap buffer access (seq_page_cost), cpu_tuple_cost and one full
 * distance.
 *
 * With hnsw.iterative_scan on, further rounds return ef rows each at about
 * the first round's cost per row, until hnsw.max_scan_tuples distances
 * were computed: that bounds the rows the scan can return.  Off, it
 * returns the first batch only.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/relation.h"
#include "hnsw/hnsw.h"
#include "index/index.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "quant/quant.h"
#include "utils/spccache.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

/* cpu_operator_costs per element visited besides cpu_index_tuple_cost and the distance */
#define HNSW_COST_VISIT_OVERHEAD 6.0

/* cpu_operator_costs per element of the exhaustive pass of a filtered scan */
#define HNSW_COST_FLAT_ELEMENT 1.0

void
hnsw_costestimate(PlannerInfo *root, IndexPath *path, double loop_count,
				  Cost *indexStartupCost, Cost *indexTotalCost,
				  Selectivity *indexSelectivity, double *indexCorrelation,
				  double *indexPages)
{
	IndexOptInfo *index = path->indexinfo;
	VindexScanModel model;
	Relation	rel;
	int			m;
	double		tuples;
	double		levels;
	Selectivity sel;
	bool		flat;
	HnswFilterDirInfo dir = {0};
	double		pass;
	double		code_share = 1.0;
	VindexQuantization quant = VINDEX_QUANT_NONE;
	int			ef;

	if (path->indexorderbys == NIL)
	{
		vindex_cost_unusable(indexStartupCost, indexTotalCost,
							 indexSelectivity, indexCorrelation, indexPages);
		return;
	}

	tuples = Max(index->tuples, 1);
	sel = vindex_index_cond_selectivity(root, path);
	rel = relation_open(index->indexoid, NoLock);
	m = hnsw_index_m(rel);
	if (sel < 1 && RelationGetNumberOfBlocks(rel) > 0)
		hnsw_filterdir_info(rel, &dir);
	if (RelationGetNumberOfBlocks(rel) > 0 &&
		(quant = hnsw_meta_quantization(rel)) != VINDEX_QUANT_NONE)
	{
		int			dims = TupleDescAttr(RelationGetDescr(rel), 0)->atttypmod;
		Size		raw = vindex_elem_type(rel)->stored_size(dims);

		code_share = (double) vindex_quant_code_size(quant, raw, dims) / raw;
	}
	relation_close(rel, NoLock);
	ef = hnsw_scan_ef(quant);
	levels = tuples > 1 ? log(tuples) / log(m) : 0;
	model.first_visits = Min(tuples, ((double) ef * m + levels * m) *
							 pow(sel, -HNSW_FILTER_VISIT_EXPONENT));
	model.first_rows = Min(tuples * sel, ef);
	model.extra_startup = 0;
	pass = dir.pages * HNSW_FILTERDIR_PAGE_VISITS + tuples * sel;
	flat = sel < 1 && hnsw_filter_walk_limit < 1 &&
		(model.first_visits > tuples * hnsw_filter_walk_limit ||
		 (dir.first != 0 && model.first_visits > pass));
	if (flat && dir.first != 0)
	{
		/* the sample, then the directory and the matching elements */
		double		sample = Min(tuples * hnsw_filter_walk_limit,
								 Max(1.0, (double) ef * m / 2));

		model.first_visits = sample + tuples * sel;
		model.first_rows = tuples * sel;
		model.extra_startup = tuples * cpu_operator_cost;
		model.first_pages = Min(index->pages,
								ceil(sample * index->pages / tuples) + dir.pages +
								tuples * sel);
	}
	else if (flat)
	{
		/* the walk stops where it judges; the pass reads every element */
		model.first_visits = Min(tuples * hnsw_filter_walk_limit,
								 Max((double) ef * m,
									 tuples * hnsw_filter_walk_limit / 4));
		model.first_rows = tuples * sel;
		model.extra_startup = tuples * HNSW_COST_FLAT_ELEMENT * cpu_operator_cost +
			tuples * sel * (vindex_distance_cost(path) + cpu_operator_cost);
	}
	if (!flat)
		model.first_pages = Min(index->pages,
								ceil(model.first_visits * index->pages / tuples));
	else if (dir.first == 0)
		model.first_pages = index->pages;
	model.visit_overhead = HNSW_COST_VISIT_OVERHEAD;
	if (code_share < 1.0)
	{
		Cost		distance = vindex_distance_cost(path);
		double		spc_random,
					spc_seq;

		/* vindex_cost_estimate charges a full distance per visit: take back the rest */
		model.visit_overhead -= (1.0 - code_share) * distance / cpu_operator_cost;
		get_tablespace_page_costs(index->reltablespace, &spc_random, &spc_seq);
		model.extra_startup += Min((double) hnsw_rerank_depth(quant), model.first_rows) *
			(spc_seq + cpu_tuple_cost + distance);
	}
	model.visits_per_row = model.first_visits / Max(model.first_rows, 1);
	if (hnsw_iterative_scan == HNSW_ITERATIVE_OFF || flat)
		model.pool = model.first_rows;
	else
		model.pool = Max(model.first_rows,
						 hnsw_max_scan_tuples / model.visits_per_row);

	vindex_cost_estimate(root, path, &model, indexStartupCost, indexTotalCost,
						 indexSelectivity, indexCorrelation, indexPages);
}
