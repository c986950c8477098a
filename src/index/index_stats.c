/*-------------------------------------------------------------------------
 *
 * index_stats.c
 *	  Opening an index for a monitoring function (vsim.hnsw_index_stats,
 *	  vsim.ivfflat_index_stats), with the privilege rule they share.
 *
 * The functions read every page of an index, so what they reveal (row
 * counts, list sizes, the graph's shape) comes from the table's data: the
 * caller must be able to read the table, or be trusted to watch every
 * table's statistics (pg_stat_scan_tables, the predefined role for
 * functions that scan relations, such as pgstattuple).  EXECUTE stays
 * granted to PUBLIC so that table owners need no extra grant.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "catalog/index.h"
#include "catalog/pg_authid_d.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "index/index.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

/* PostgreSQL 14 renamed the predefined roles' OID macros. */
#if PG_VERSION_NUM < 140000
#define ROLE_PG_STAT_SCAN_TABLES DEFAULT_ROLE_STAT_SCAN_TABLES
#endif

/* The name of relation `relid`, raising 42809 unless it is an index of amoid. */
static char *
check_index_of(Oid relid, Oid amoid, const char *amname)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Form_pg_class form;
	char	   *name;
	bool		ok;

	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	form = (Form_pg_class) GETSTRUCT(tup);
	name = pstrdup(NameStr(form->relname));
	ok = form->relkind == RELKIND_INDEX && form->relam == amoid;
	ReleaseSysCache(tup);
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an %s index", name, amname)));
	return name;
}

Relation
vindex_stats_open(Oid indexoid, const char *amname)
{
	char	   *name = check_index_of(indexoid, get_index_am_oid(amname, false), amname);
	Oid			heapoid = IndexGetRelation(indexoid, false);
	Oid			user = GetUserId();

	if (pg_class_aclcheck(heapoid, user, ACL_SELECT) != ACLCHECK_OK &&
		!has_privs_of_role(user, ROLE_PG_STAT_SCAN_TABLES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for index %s", name),
				 errdetail("Reading the statistics of an index requires SELECT on its table \"%s\" or the privileges of role pg_stat_scan_tables.",
						   get_rel_name(heapoid))));
	return index_open(indexoid, AccessShareLock);
}

void
vindex_stats_close(Relation index)
{
	index_close(index, AccessShareLock);
}
