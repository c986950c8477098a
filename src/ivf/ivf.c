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

static relopt_kind ivf_relopt_kind;

static const VindexSupportProc ivf_procs[] = {VINDEX_METRIC_PROC};

static const VindexMethod ivf_method = {
	.name = "ivfflat",
	.procs = ivf_procs,
	.nprocs = lengthof(ivf_procs),
	.usemaintenanceworkmem = false,
	.check = ivf_index_check,
};

static const struct config_enum_entry ivf_iterative_scan_options[] = {
	{"off", IVF_ITERATIVE_OFF, false},
	{"relaxed_order", IVF_ITERATIVE_RELAXED, false},
	{NULL, 0, false}
};

void
ivf_init(void)
{
	vindex_register_method(&ivf_method);
	ivf_relopt_kind = add_reloption_kind();
	add_int_reloption(ivf_relopt_kind, "lists",
					  "Number of inverted lists (k-means centres)",
					  IVF_DEFAULT_LISTS, 1, IVF_MAX_LISTS, AccessExclusiveLock);

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
