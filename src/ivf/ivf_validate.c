/*-------------------------------------------------------------------------
 *
 * ivf_validate.c
 *	  amvalidate for ivfflat: checks an operator class's members.
 *
 * An ivfflat operator class has exactly one support function, number 1,
 * `(internal) RETURNS internal` (one of vsim_metric_*), and ordering
 * operators only, at strategy 1, returning float8.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/amvalidate.h"
#include "access/htup_details.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_type.h"
#include "ivf/ivf.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

bool
ivf_validate(Oid opclassoid)
{
	bool		result = true;
	HeapTuple	classtup;
	Form_pg_opclass classform;
	char	   *opclassname;
	CatCList   *proclist;
	CatCList   *oprlist;
	bool		has_metric = false;

	classtup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclassoid));
	if (!HeapTupleIsValid(classtup))
		elog(ERROR, "cache lookup failed for operator class %u", opclassoid);
	classform = (Form_pg_opclass) GETSTRUCT(classtup);
	opclassname = NameStr(classform->opcname);

	proclist = SearchSysCacheList1(AMPROCNUM, ObjectIdGetDatum(classform->opcfamily));
	for (int i = 0; i < proclist->n_members; i++)
	{
		Form_pg_amproc proc = (Form_pg_amproc) GETSTRUCT(&proclist->members[i]->tuple);

		if (proc->amprocnum != VECTOR_METRIC_SUPPORT_PROC ||
			!check_amproc_signature(proc->amproc, INTERNALOID, true, 1, 1, INTERNALOID))
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("ivfflat operator class \"%s\" has invalid support function %d",
							opclassname, proc->amprocnum),
					 errdetail("Only function 1, (internal) RETURNS internal, is allowed.")));
			result = false;
		}
		else if (proc->amproclefttype == classform->opcintype)
			has_metric = true;
	}
	if (!has_metric)
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("ivfflat operator class \"%s\" lacks support function 1",
						opclassname)));
		result = false;
	}

	oprlist = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(classform->opcfamily));
	for (int i = 0; i < oprlist->n_members; i++)
	{
		Form_pg_amop op = (Form_pg_amop) GETSTRUCT(&oprlist->members[i]->tuple);

		if (op->amopstrategy != 1 || op->amoppurpose != AMOP_ORDER ||
			!check_amop_signature(op->amopopr, FLOAT8OID,
								  op->amoplefttype, op->amoprighttype))
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("ivfflat operator class \"%s\" has invalid operator %s",
							opclassname, format_operator(op->amopopr)),
					 errdetail("Only an ordering operator at strategy 1 returning double precision is allowed.")));
			result = false;
		}
	}

	ReleaseCatCacheList(proclist);
	ReleaseCatCacheList(oprlist);
	ReleaseSysCache(classtup);
	return result;
}
