/*-------------------------------------------------------------------------
 *
 * index.h
 *	  What vsim's vector index access methods share: the parts of an index
 *	  method that do not depend on how it organises its pages.
 *
 * Users: the hnsw (src/hnsw/) and ivfflat (src/ivf/) access methods, and
 * every index method added later, so that all have one shape.  Each method
 * describes itself once in a VindexMethod (its SQL name and the support
 * functions of its operator classes); from that this subsystem builds
 *
 *	  - its IndexAmRoutine (vindex_am_routine, VINDEX_SET_CALLBACKS; index.c),
 *	  - its amvalidate (vindex_validate; index_validate.c),
 *
 * and provides
 *
 *	  - the parallel build machinery: dynamic shared memory holding the
 *		relations, the parallel table scan, the query text and the
 *		workers' buffer and WAL usage, around the method's own shared state
 *		(vindex_parallel_*; index_parallel.c),
 *	  - the opening and privilege check of the monitoring functions
 *		(vindex_stats_open; index_stats.c).
 *
 * Names start with vindex_ ("vector index"), not index_: that is
 * PostgreSQL's own prefix (index_open, index_build, ...), and a server
 * function of the same name would silently take the place of ours.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSIM_INDEX_H
#define VSIM_INDEX_H

#include "postgres.h"

#include "access/amapi.h"
#include "catalog/pg_type_d.h"
#include "vector/vector.h"

/* ---------------------------------------------------------------------
 * Describing a method (index.c, index_validate.c)
 * ---------------------------------------------------------------------
 */
#define VINDEX_MAX_PROC_ARGS	3

/*
 * A support function of the method's operator classes: its number
 * (pg_amproc.amprocnum), what it is for (named in messages), whether every
 * operator class must have it, and its exact signature.
 */
typedef struct VindexSupportProc
{
	int16		number;
	const char *purpose;
	bool		required;
	Oid			rettype;
	int			nargs;			/* 0 .. VINDEX_MAX_PROC_ARGS */
	Oid			argtypes[VINDEX_MAX_PROC_ARGS];
} VindexSupportProc;

/*
 * Support function 1 of every vector operator class: the metric, a
 * vsim_metric_*(internal) RETURNS internal function (see vector.h).
 */
#define VINDEX_METRIC_PROC \
	{VECTOR_METRIC_SUPPORT_PROC, "distance metric", true, INTERNALOID, 1, {INTERNALOID}}

/*
 * The strategy number of the one operator of a vector operator class: an
 * ORDER BY operator (vector, vector) -> double precision, the distance.
 */
#define VINDEX_ORDER_STRATEGY	1

typedef struct VindexMethod
{
	const char *name;			/* SQL name of the access method */
	const VindexSupportProc *procs; /* its support functions */
	int			nprocs;
	bool		usemaintenanceworkmem;	/* amusemaintenanceworkmem */
} VindexMethod;

/*
 * vindex_am_routine: a new IndexAmRoutine (palloc'd, for an index AM
 * handler to return) with the capabilities every vector index method has:
 * one key column, searched only by ORDER BY one of its operator class's
 * distance operators (amcanorderbyop; no strategies, no WHERE-clause
 * search, no uniqueness, no NULLs), no index-only or parallel scans,
 * parallel bulk delete in VACUUM.  amsupport is the highest support
 * function number of `method`.  The callbacks are left NULL: set them
 * with VINDEX_SET_CALLBACKS.
 */
extern IndexAmRoutine *vindex_am_routine(const VindexMethod *method);

/*
 * Point the callbacks of `am` at the functions named after the
 * IndexAmRoutine fields with the method's prefix (hnsw_build for ambuild,
 * ivf_gettuple for amgettuple, ...), the naming rule of both methods: a
 * callback named otherwise does not compile.  The optional callbacks
 * (amcanreturn, amproperty, amgetbitmap, ammarkpos, parallel scans ...)
 * stay NULL.
 */
#define VINDEX_SET_CALLBACKS(am, prefix) \
	do { \
		(am)->ambuild = prefix##_build; \
		(am)->ambuildempty = prefix##_buildempty; \
		(am)->aminsert = prefix##_insert; \
		(am)->ambulkdelete = prefix##_bulkdelete; \
		(am)->amvacuumcleanup = prefix##_vacuumcleanup; \
		(am)->amcostestimate = prefix##_costestimate; \
		(am)->amoptions = prefix##_options; \
		(am)->ambuildphasename = prefix##_buildphasename; \
		(am)->amvalidate = prefix##_validate; \
		(am)->ambeginscan = prefix##_beginscan; \
		(am)->amrescan = prefix##_rescan; \
		(am)->amgettuple = prefix##_gettuple; \
		(am)->amendscan = prefix##_endscan; \
	} while (0)

/*
 * vindex_validate: the amvalidate of `method`, for operator class
 * `opclassoid`.  Checks every member of the class's operator family:
 * support functions must have a number of method->procs and exactly that
 * entry's signature; operators must be ORDER BY operators at strategy
 * VINDEX_ORDER_STRATEGY, binary, of the member's types, returning double
 * precision, with a btree sort family that sorts double precision.  Each
 * pair of types in the family, and the class's own type, must have every
 * required support function.  Each problem is reported with
 * ereport(INFO, ERRCODE_INVALID_OBJECT_DEFINITION), naming the family or
 * class and the method; returns false if there was any.
 */
extern bool vindex_validate(const VindexMethod *method, Oid opclassoid);

/* ---------------------------------------------------------------------
 * Monitoring functions (index_stats.c)
 * ---------------------------------------------------------------------
 */

/*
 * vindex_stats_open: open index `indexoid` for a monitoring function of
 * access method `amname` (vsim.hnsw_index_stats, ...) and lock it
 * AccessShareLock.  The caller must have SELECT on the index's table or
 * the privileges of pg_stat_scan_tables (which pg_monitor has; so do
 * superusers), else 42501 (insufficient_privilege); the privilege is
 * checked before the lock is taken.  Raises 42809 (wrong_object_type)
 * unless the relation is an index of `amname`, 42P01 (undefined_table)
 * when there is no relation `indexoid`.  Close with vindex_stats_close.
 */
extern Relation vindex_stats_open(Oid indexoid, const char *amname);
extern void vindex_stats_close(Relation index);

#endif							/* VSIM_INDEX_H */
