/*-------------------------------------------------------------------------
 *
 * ivf.c
 *	  The ivfflat access method's handler, settings (ivfflat.*) and index
 *	  option (lists).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/reloptions.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "ivf/ivf.h"
#include "utils/guc.h"
#include "utils/rel.h"

int			ivf_probes = 1;
int			ivf_iterative_scan = IVF_ITERATIVE_OFF;
int			ivf_max_probes = IVF_MAX_LISTS;

static relopt_kind ivf_relopt_kind;

static const struct config_enum_entry ivf_iterative_scan_options[] = {
	{"off", IVF_ITERATIVE_OFF, false},
	{"relaxed_order", IVF_ITERATIVE_RELAXED, false},
	{NULL, 0, false}
};

void
ivf_init(void)
{
	ivf_relopt_kind = add_reloption_kind();
	add_int_reloption(ivf_relopt_kind, "lists",
					  "Number of inverted lists (k-means centres)",
					  IVF_DEFAULT_LISTS, 1, IVF_MAX_LISTS
#if PG_VERSION_NUM >= 130000
					  ,AccessExclusiveLock
#endif
		);

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
ivf_get_lists(Relation index)
{
	IvfOptions *opts = (IvfOptions *) index->rd_options;

	return opts ? opts->lists : IVF_DEFAULT_LISTS;
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

/*
 * ivfflathandler(internal) -> index_am_handler: the access method's entry
 * points and capabilities.  One key column, ordered by distance operators
 * only (amcanorderbyop); no WHERE-clause search, no uniqueness.
 */
PG_FUNCTION_INFO_V1(ivfflathandler);
Datum
ivfflathandler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *am = makeNode(IndexAmRoutine);

	am->amstrategies = 0;
	am->amsupport = 1;
#if PG_VERSION_NUM >= 130000
	am->amoptsprocnum = 0;
#endif
	am->amcanorder = false;
	am->amcanorderbyop = true;
	am->amcanbackward = false;
	am->amcanunique = false;
	am->amcanmulticol = false;
	am->amoptionalkey = true;
	am->amsearcharray = false;
	am->amsearchnulls = false;
	am->amstorage = false;
	am->amclusterable = false;
	am->ampredlocks = false;
	am->amcanparallel = false;
	am->amcaninclude = false;
#if PG_VERSION_NUM >= 130000
	am->amusemaintenanceworkmem = false;
	am->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
#endif
	am->amkeytype = InvalidOid;

	am->ambuild = ivf_build;
	am->ambuildempty = ivf_buildempty;
	am->aminsert = ivf_insert;
	am->ambulkdelete = ivf_bulkdelete;
	am->amvacuumcleanup = ivf_vacuumcleanup;
	am->amcanreturn = NULL;
	am->amcostestimate = ivf_costestimate;
	am->amoptions = ivf_options;
	am->amproperty = NULL;
	am->ambuildphasename = ivf_buildphasename;
	am->amvalidate = ivf_validate;
#if PG_VERSION_NUM >= 140000
	am->amadjustmembers = NULL;
#endif
	am->ambeginscan = ivf_beginscan;
	am->amrescan = ivf_rescan;
	am->amgettuple = ivf_gettuple;
	am->amgetbitmap = NULL;
	am->amendscan = ivf_endscan;
	am->ammarkpos = NULL;
	am->amrestrpos = NULL;
	am->amestimateparallelscan = NULL;
	am->aminitparallelscan = NULL;
	am->amparallelrescan = NULL;

	PG_RETURN_POINTER(am);
}
