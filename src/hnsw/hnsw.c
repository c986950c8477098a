/*-------------------------------------------------------------------------
 *
 * hnsw.c
 *	  The HNSW access method's handler, settings (hnsw.*), index options
 *	  (m, ef_construction, quantization) and operator class validation.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/reloptions.h"
#include "commands/progress.h"
#include "hnsw/hnsw.h"
#include "index/index.h"
#include "utils/guc.h"
#include "utils/rel.h"

int			hnsw_ef_search = 40;
int			hnsw_rerank_candidates = HNSW_DEFAULT_RERANK;
int			hnsw_iterative_scan = HNSW_ITERATIVE_OFF;
int			hnsw_max_scan_tuples = 20000;
double		hnsw_scan_mem_multiplier = 1;
double		hnsw_filter_walk_limit = 0.1;

static relopt_kind hnsw_relopt_kind;

static const VindexSupportProc hnsw_procs[] = {VINDEX_METRIC_PROC};

static const VindexMethod hnsw_method = {
	.name = "hnsw",
	.procs = hnsw_procs,
	.nprocs = lengthof(hnsw_procs),
	.usemaintenanceworkmem = true,
	.max_filter_columns = VINDEX_MAX_FILTER_COLUMNS,
	.check = hnsw_index_check,
};

static const struct config_enum_entry hnsw_iterative_scan_options[] = {
	{"off", HNSW_ITERATIVE_OFF, false},
	{"relaxed_order", HNSW_ITERATIVE_RELAXED, false},
	{"strict_order", HNSW_ITERATIVE_STRICT, false},
	{NULL, 0, false}
};

/* validate_string_relopt of `quantization`: 22023 with the valid values */
static void
validate_quantization(const char *value)
{
	vindex_quantization_validate("hnsw", value);
}

void
hnsw_init(void)
{
	vindex_register_method(&hnsw_method);
	hnsw_relopt_kind = add_reloption_kind();
	add_int_reloption(hnsw_relopt_kind, "m",
					  "Maximum number of neighbours per element and level (twice that at level 0)",
					  HNSW_DEFAULT_M, HNSW_MIN_M, HNSW_MAX_M, AccessExclusiveLock);
	add_int_reloption(hnsw_relopt_kind, "ef_construction",
					  "Size of the candidate list while building the graph",
					  HNSW_DEFAULT_EF_CONSTRUCTION, HNSW_MIN_EF_CONSTRUCTION,
					  HNSW_MAX_EF_CONSTRUCTION, AccessExclusiveLock);
	add_string_reloption(hnsw_relopt_kind, "quantization",
						 "How elements store vectors: none, sq8 or rabitq",
						 "none", validate_quantization, AccessExclusiveLock);

	DefineCustomIntVariable("hnsw.ef_search",
							"Size of the candidate list of an HNSW index scan.",
							"Larger values raise recall and cost time. A scan of a rabitq index keeps twice as many.",
							&hnsw_ef_search, 40, 1, 1000,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("hnsw.rerank_candidates",
							"Candidates a scan of a quantized hnsw index re-ranks by exact distance at a time.",
							"The scan ranks the graph search's results by their codes' approximate distance, reads the exact vectors of this many best (four times as many for a rabitq index) from the table and returns their rows in exact order; then the next as many. More give better recall and slower queries.",
							&hnsw_rerank_candidates, HNSW_DEFAULT_RERANK, 1, 100000,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("hnsw.iterative_scan",
							 "Whether an HNSW scan continues past ef_search results.",
							 "relaxed_order may return rows slightly out of order; "
							 "strict_order skips rows that would break the order.",
							 &hnsw_iterative_scan, HNSW_ITERATIVE_OFF,
							 hnsw_iterative_scan_options, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("hnsw.level_seed",
							"Seed of the random levels of new HNSW elements, -1 for a random one.",
							"For tests: from each setting, a backend draws the same levels.",
							&hnsw_level_seed, -1, -1, INT_MAX,
							PGC_SUSET, 0, NULL, hnsw_level_seed_assign, NULL);
	DefineCustomIntVariable("hnsw.max_scan_tuples",
							"Elements an iterative HNSW scan examines before it stops.",
							NULL, &hnsw_max_scan_tuples, 20000, 1, INT_MAX,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("hnsw.scan_mem_multiplier",
							 "Memory an iterative HNSW scan may use, as a multiple of work_mem.",
							 NULL, &hnsw_scan_mem_multiplier, 1, 1, 1000,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("hnsw.filter_walk_limit",
							 "Share of an HNSW index's elements a filtered graph search may visit before it reads every element instead.",
							 "A search with a WHERE condition on filter columns that is expected (from the share of matching elements it has seen) or found to visit more switches to an exact pass over the index (0: always, 1: never).",
							 &hnsw_filter_walk_limit, 0.1, 0, 1,
							 PGC_USERSET, 0, NULL, NULL, NULL);
#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("hnsw");
#else
	EmitWarningsOnPlaceholders("hnsw");
#endif
}

bytea *
hnsw_options(Datum reloptions, bool validate)
{
	static const relopt_parse_elt tab[] = {
		{"m", RELOPT_TYPE_INT, offsetof(HnswOptions, m)},
		{"ef_construction", RELOPT_TYPE_INT, offsetof(HnswOptions, ef_construction)},
		{"quantization", RELOPT_TYPE_STRING, offsetof(HnswOptions, quantization_offset)},
	};

	return (bytea *) build_reloptions(reloptions, validate, hnsw_relopt_kind,
									  sizeof(HnswOptions), tab, lengthof(tab));
}

int
hnsw_index_m(Relation index)
{
	HnswOptions *opts = (HnswOptions *) index->rd_options;

	return opts ? opts->m : HNSW_DEFAULT_M;
}

int
hnsw_index_ef_construction(Relation index)
{
	HnswOptions *opts = (HnswOptions *) index->rd_options;

	return opts ? opts->ef_construction : HNSW_DEFAULT_EF_CONSTRUCTION;
}

VindexQuantization
hnsw_index_quantization(Relation index)
{
	HnswOptions *opts = (HnswOptions *) index->rd_options;

	return vindex_quantization_option(opts, opts ? opts->quantization_offset : 0);
}

/* amvalidate: the rules of every vector index method (index.h). */
bool
hnsw_validate(Oid opclassoid)
{
	return vindex_validate(&hnsw_method, opclassoid);
}

char *
hnsw_buildphasename(int64 phasenum)
{
	switch (phasenum)
	{
		case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
			return "initializing";
		case HNSW_PHASE_LOAD:
			return "loading tuples";
		case HNSW_PHASE_WRITE:
			return "writing graph";
	}
	return NULL;
}

PG_FUNCTION_INFO_V1(hnswhandler);

/*
 * hnswhandler(internal) -> index_am_handler: the access method's routine,
 * with the capabilities of every vector index method (index.h) and hnsw's
 * callbacks.
 */
Datum
hnswhandler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *am = vindex_am_routine(&hnsw_method);

	VINDEX_SET_CALLBACKS(am, hnsw);
	PG_RETURN_POINTER(am);
}

/*
 * hnsw_handler: the C name of the handler in vsim 0.1.0's install script,
 * kept so that a 0.1.0 catalog works with this library until ALTER
 * EXTENSION vsim UPDATE renames the function (upgrade/vsim--0.1.0--0.2.0.sql).
 */
PG_FUNCTION_INFO_V1(hnsw_handler);
Datum
hnsw_handler(PG_FUNCTION_ARGS)
{
	return hnswhandler(fcinfo);
}
