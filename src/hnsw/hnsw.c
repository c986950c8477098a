/*-------------------------------------------------------------------------
 *
 * hnsw.c
 *	  The HNSW access method's handler, settings, index options and
 *	  operator class validation.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>

#include "access/amvalidate.h"
#include "access/reloptions.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "hnsw/hnsw.h"
#include "utils/guc.h"
#include "utils/rel.h"
#include "utils/syscache.h"

int			hnsw_ef_search = 40;
int			hnsw_iterative_scan = HNSW_ITERATIVE_OFF;
int			hnsw_max_scan_tuples = 20000;
double		hnsw_scan_mem_multiplier = 1;

static relopt_kind hnsw_relopt_kind;

static const struct config_enum_entry iterative_scan_options[] = {
	{"off", HNSW_ITERATIVE_OFF, false},
	{"relaxed_order", HNSW_ITERATIVE_RELAXED, false},
	{"strict_order", HNSW_ITERATIVE_STRICT, false},
	{NULL, 0, false}
};

void
hnsw_init(void)
{
	hnsw_relopt_kind = add_reloption_kind();
	add_int_reloption(hnsw_relopt_kind, "m",
					  "Maximum number of neighbours per element and level (twice that at level 0)",
					  HNSW_DEFAULT_M, HNSW_MIN_M, HNSW_MAX_M, AccessExclusiveLock);
	add_int_reloption(hnsw_relopt_kind, "ef_construction",
					  "Size of the candidate list while building the graph",
					  HNSW_DEFAULT_EF_CONSTRUCTION, HNSW_MIN_EF_CONSTRUCTION,
					  HNSW_MAX_EF_CONSTRUCTION, AccessExclusiveLock);

	DefineCustomIntVariable("hnsw.ef_search",
							"Size of the candidate list of an HNSW index scan.",
							"Larger values raise recall and cost time.",
							&hnsw_ef_search, 40, 1, 1000,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("hnsw.iterative_scan",
							 "Whether an HNSW scan continues past ef_search results.",
							 "relaxed_order may return rows slightly out of order; "
							 "strict_order skips rows that would break the order.",
							 &hnsw_iterative_scan, HNSW_ITERATIVE_OFF,
							 iterative_scan_options, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("hnsw.max_scan_tuples",
							"Elements an iterative HNSW scan examines before it stops.",
							NULL, &hnsw_max_scan_tuples, 20000, 1, INT_MAX,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("hnsw.scan_mem_multiplier",
							 "Memory an iterative HNSW scan may use, as a multiple of work_mem.",
							 NULL, &hnsw_scan_mem_multiplier, 1, 1, 1000,
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

/*
 * hnsw_validate: amvalidate.  An operator class is valid when it has
 * support function 1 (the metric) and only ordering operators.
 */
bool
hnsw_validate(Oid opclassoid)
{
	HeapTuple	tup;
	Form_pg_opclass opclass;
	CatCList   *procs;
	bool		has_metric = false;
	bool		result = true;

	tup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclassoid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for operator class %u", opclassoid);
	opclass = (Form_pg_opclass) GETSTRUCT(tup);

	procs = SearchSysCacheList1(AMPROCNUM, ObjectIdGetDatum(opclass->opcfamily));
	for (int i = 0; i < procs->n_members; i++)
	{
		Form_pg_amproc proc = (Form_pg_amproc) GETSTRUCT(&procs->members[i]->tuple);

		if (proc->amprocnum == VECTOR_METRIC_SUPPORT_PROC)
			has_metric = true;
		else
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("hnsw operator family \"%s\" contains support function %d, which hnsw does not use",
							NameStr(opclass->opcname), proc->amprocnum)));
			result = false;
		}
	}
	if (!has_metric)
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("hnsw operator class \"%s\" lacks support function 1 (the metric)",
						NameStr(opclass->opcname))));
		result = false;
	}
	ReleaseCatCacheList(procs);
	ReleaseSysCache(tup);
	return result;
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

/* hnswhandler(internal) -> index_am_handler: the access method's routine. */
Datum
hnswhandler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *am = makeNode(IndexAmRoutine);

	am->amstrategies = 0;
	am->amsupport = 1;
	am->amoptsprocnum = 0;
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
	am->amusemaintenanceworkmem = true;
#if PG_VERSION_NUM >= 160000
	am->amsummarizing = false;
#endif
	am->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
	am->amkeytype = InvalidOid;

	am->ambuild = hnsw_build;
	am->ambuildempty = hnsw_buildempty;
	am->aminsert = hnsw_insert;
	am->ambulkdelete = hnsw_bulkdelete;
	am->amvacuumcleanup = hnsw_vacuumcleanup;
	am->amcanreturn = NULL;
	am->amcostestimate = hnsw_costestimate;
	am->amoptions = hnsw_options;
	am->amproperty = NULL;
	am->ambuildphasename = hnsw_buildphasename;
	am->amvalidate = hnsw_validate;
#if PG_VERSION_NUM >= 140000
	am->amadjustmembers = NULL;
#endif
	am->ambeginscan = hnsw_beginscan;
	am->amrescan = hnsw_rescan;
	am->amgettuple = hnsw_gettuple;
	am->amgetbitmap = NULL;
	am->amendscan = hnsw_endscan;
	am->ammarkpos = NULL;
	am->amrestrpos = NULL;
	am->amestimateparallelscan = NULL;
	am->aminitparallelscan = NULL;
	am->amparallelrescan = NULL;

	PG_RETURN_POINTER(am);
}
