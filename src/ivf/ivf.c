/*-------------------------------------------------------------------------
 *
 * ivf.c
 *	  The ivfflat access method's handler, settings (ivfflat.*), index
 *	  option (lists) and operator class validation.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/reloptions.h"
#include "commands/progress.h"
#include "index/index.h"
#include "ivf/ivf.h"
#include "utils/guc.h"
#include "utils/rel.h"

int			ivf_probes = 1;
int			ivf_iterative_scan = IVF_ITERATIVE_OFF;
int			ivf_max_probes = IVF_MAX_LISTS;
int			ivf_rerank_candidates = IVF_DEFAULT_RERANK;
int			ivf_filter_candidates = IVF_DEFAULT_FILTER_CANDIDATES;

static relopt_kind ivf_relopt_kind;

static const VindexSupportProc ivf_procs[] = {VINDEX_METRIC_PROC};

static const VindexMethod ivf_method = {
	.name = "ivfflat",
	.procs = ivf_procs,
	.nprocs = lengthof(ivf_procs),
	.usemaintenanceworkmem = false,
	.max_filter_columns = VINDEX_MAX_FILTER_COLUMNS,
	.check = ivf_index_check,
};

static const struct config_enum_entry ivf_iterative_scan_options[] = {
	{"off", IVF_ITERATIVE_OFF, false},
	{"relaxed_order", IVF_ITERATIVE_RELAXED, false},
	{NULL, 0, false}
};

const char *
ivf_quantization_name(IvfQuantization q)
{
	return vindex_quantization_name(q);
}

/* validate_string_relopt of `quantization`: 22023 with the valid values */
static void
validate_quantization(const char *value)
{
	vindex_quantization_validate("ivfflat", value);
}

void
ivf_init(void)
{
	vindex_register_method(&ivf_method);
	ivf_relopt_kind = add_reloption_kind();
	add_int_reloption(ivf_relopt_kind, "lists",
					  "Number of inverted lists (k-means centres)",
					  IVF_DEFAULT_LISTS, 1, IVF_MAX_LISTS, AccessExclusiveLock);
	add_string_reloption(ivf_relopt_kind, "quantization",
						 "How list items store vectors: none, sq8 or rabitq",
						 "none", validate_quantization, AccessExclusiveLock);

	DefineCustomIntVariable("ivfflat.probes",
							"Number of lists an ivfflat index scan searches.",
							"More probes give better recall and slower queries.",
							&ivf_probes, 1, 1, IVF_MAX_LISTS,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("ivfflat.iterative_scan",
							 "Whether an ivfflat scan searches more lists when the first ones run out.",
							 "relaxed_order keeps adding lists (results of later lists may come out of order) until the query has its rows or ivfflat.max_probes lists were searched.",
							 &ivf_iterative_scan, IVF_ITERATIVE_OFF,
							 ivf_iterative_scan_options,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("ivfflat.max_probes",
							"Most lists an iterative ivfflat scan searches.",
							"Never fewer than ivfflat.probes.",
							&ivf_max_probes, IVF_MAX_LISTS, 1, IVF_MAX_LISTS,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("ivfflat.rerank_candidates",
							"Candidates a scan of a quantized ivfflat index re-ranks by exact distance at a time.",
							"The scan ranks the probed lists' rows by their codes' approximate distance, reads the exact vectors of this many best from the table and returns them in exact order; then the next as many. More give better recall and slower queries.",
							&ivf_rerank_candidates, IVF_DEFAULT_RERANK, 1, 100000,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("ivfflat.filter_candidates",
							"Matching rows a filtered ivfflat scan gathers before it returns its first row.",
							"A scan with a WHERE condition on filter columns reads ivfflat.probes lists, then further lists in centre order, up to ivfflat.max_probes, until its candidates hold this many rows that pass the condition; so again each time they run out.",
							&ivf_filter_candidates, IVF_DEFAULT_FILTER_CANDIDATES, 1, 100000,
							PGC_USERSET, 0, NULL, NULL, NULL);
#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("ivfflat");
#else
	EmitWarningsOnPlaceholders("ivfflat");
#endif
}

bytea *
ivf_options(Datum reloptions, bool validate)
{
	static const relopt_parse_elt tab[] = {
		{"lists", RELOPT_TYPE_INT, offsetof(IvfOptions, lists)},
		{"quantization", RELOPT_TYPE_STRING, offsetof(IvfOptions, quantization_offset)},
	};

	return (bytea *) build_reloptions(reloptions, validate, ivf_relopt_kind,
									  sizeof(IvfOptions), tab, lengthof(tab));
}

int
ivf_index_lists(Relation index)
{
	IvfOptions *opts = (IvfOptions *) index->rd_options;

	return opts ? opts->lists : IVF_DEFAULT_LISTS;
}

IvfQuantization
ivf_index_quantization(Relation index)
{
	IvfOptions *opts = (IvfOptions *) index->rd_options;

	return (IvfQuantization) vindex_quantization_option(opts, opts ? opts->quantization_offset : 0);
}

/* amvalidate: the rules of every vector index method (index.h). */
bool
ivf_validate(Oid opclassoid)
{
	return vindex_validate(&ivf_method, opclassoid);
}

char *
ivf_buildphasename(int64 phasenum)
{
	switch (phasenum)
	{
		case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
			return "initializing";
		case IVF_PHASE_SAMPLE:
			return "sampling table";
		case IVF_PHASE_KMEANS:
			return "performing k-means";
		case IVF_PHASE_ASSIGN:
			return "assigning tuples";
		case IVF_PHASE_LOAD:
			return "loading tuples";
	}
	return NULL;
}

PG_FUNCTION_INFO_V1(ivfflathandler);

/*
 * ivfflathandler(internal) -> index_am_handler: the access method's
 * routine, with the capabilities of every vector index method (index.h)
 * and ivfflat's callbacks.
 */
Datum
ivfflathandler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *am = vindex_am_routine(&ivf_method);

	VINDEX_SET_CALLBACKS(am, ivf);
	PG_RETURN_POINTER(am);
}
