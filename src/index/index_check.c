/*-------------------------------------------------------------------------
 *
 * index_check.c
 *	  vsim.index_check(index, heapallindexed): verify the structure of a
 *	  vector index, in the spirit of PostgreSQL's amcheck.
 *
 * The function finds the index's method among those registered with
 * vindex_register_method and calls the method's own check.  It takes only
 * AccessShareLock on the index and its table, like a scan, so it can run
 * on a live system; with heapallindexed it registers an MVCC snapshot, so
 * that the rows it expects in the index are those of committed
 * transactions, whose index entries were written before they committed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "catalog/index.h"
#include "commands/defrem.h"
#include "fmgr.h"
#include "index/index.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#define VINDEX_MAX_METHODS 8

static const VindexMethod *methods[VINDEX_MAX_METHODS];
static int	nmethods;

void
vindex_register_method(const VindexMethod *method)
{
	if (nmethods >= VINDEX_MAX_METHODS)
		elog(ERROR, "too many vector index methods");
	methods[nmethods++] = method;
}

/* The registered method of `index`, or 42809 when it has none. */
static const VindexMethod *
method_of(Relation index)
{
	char	   *amname = get_am_name(index->rd_rel->relam);

	for (int i = 0; i < nmethods; i++)
		if (amname != NULL && strcmp(methods[i]->name, amname) == 0)
			return methods[i];
	ereport(ERROR,
			(errcode(ERRCODE_WRONG_OBJECT_TYPE),
			 errmsg("\"%s\" is not an index of a vsim access method",
					RelationGetRelationName(index)),
			 errdetail("vsim.index_check() checks indexes of the access methods hnsw and ivfflat.")));
	return NULL;				/* keep compiler quiet */
}

/*
 * vsim.index_check(index regclass, heapallindexed boolean) RETURNS void
 *
 * Raises XX002 (index_corrupted) for the first damage found, 42809 for a
 * relation that is not an hnsw or ivfflat index, 42P01 for a missing one;
 * returns nothing when the index is sound.  Superuser only unless granted
 * (the install script revokes it from PUBLIC, as amcheck does).
 */
PG_FUNCTION_INFO_V1(vsim_index_check);
Datum
vsim_index_check(PG_FUNCTION_ARGS)
{
	Oid			indexoid = PG_GETARG_OID(0);
	bool		heapallindexed = PG_GETARG_BOOL(1);
	Oid			heapoid = IndexGetRelation(indexoid, true);
	Relation	heap;
	Relation	index;
	const VindexMethod *method;

	if (!OidIsValid(heapoid))
	{
		char	   *name = get_rel_name(indexoid);

		if (name == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("relation with OID %u does not exist", indexoid)));
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an index", name)));
	}
	/* the table first, as every other path that locks both does */
	heap = table_open(heapoid, AccessShareLock);
	index = index_open(indexoid, AccessShareLock);
	method = method_of(index);
	if (method->check == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("vsim.index_check() cannot check %s indexes yet",
						method->name)));
	method->check(index, heap, heapallindexed);
	index_close(index, AccessShareLock);
	table_close(heap, AccessShareLock);
	PG_RETURN_VOID();
}
