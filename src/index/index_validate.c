/*-------------------------------------------------------------------------
 *
 * index_validate.c
 *	  amvalidate for every vector index method: checks an operator class's
 *	  family against the method's table of support functions.
 *
 * The rules are in index.h (vindex_validate).  As PostgreSQL's own
 * validators do, every problem is reported and the check goes on, so one
 * call lists all that is wrong with a class.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/amvalidate.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_opfamily.h"
#include "index/index.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

/* What is being validated, for the messages. */
typedef struct ValidateContext
{
	const VindexMethod *method;
	const char *opfamilyname;
	const char *opclassname;
	Oid			opcintype;
} ValidateContext;

/* The method's entry for support function `number`, NULL if it has none. */
static const VindexSupportProc *
find_proc(const VindexMethod *method, int number)
{
	for (int i = 0; i < method->nprocs; i++)
		if (method->procs[i].number == number)
			return &method->procs[i];
	return NULL;
}

/* "(internal) RETURNS internal": the signature `spec` asks for. */
static char *
signature_text(const VindexSupportProc *spec)
{
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfoChar(&s, '(');
	for (int i = 0; i < spec->nargs; i++)
		appendStringInfo(&s, "%s%s", i > 0 ? ", " : "", format_type_be(spec->argtypes[i]));
	appendStringInfo(&s, ") RETURNS %s", format_type_be(spec->rettype));
	return s.data;
}

/* Is `proc` a support function of the method, of its signature? */
static bool
check_proc(const ValidateContext *cx, Form_pg_amproc proc)
{
	const VindexSupportProc *spec = find_proc(cx->method, proc->amprocnum);

	if (spec == NULL)
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("operator family \"%s\" of access method %s contains function %s with support number %d, which the access method does not use",
						cx->opfamilyname, cx->method->name,
						format_procedure(proc->amproc), proc->amprocnum)));
		return false;
	}

	/*
	 * check_amproc_signature reads as many argument types as maxargs; the
	 * array has room for all of them whatever nargs is.
	 */
	StaticAssertStmt(VINDEX_MAX_PROC_ARGS == 3, "check_amproc_signature call passes three types");
	if (!check_amproc_signature(proc->amproc, spec->rettype, true,
								spec->nargs, spec->nargs, spec->argtypes[0],
								spec->argtypes[1], spec->argtypes[2]))
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("operator family \"%s\" of access method %s contains function %s with the wrong signature for support number %d",
						cx->opfamilyname, cx->method->name,
						format_procedure(proc->amproc), proc->amprocnum),
				 errdetail("Support function %d (%s) must be %s.",
						   spec->number, spec->purpose, signature_text(spec))));
		return false;
	}
	return true;
}

/*
 * Report an invalid operator of the family, `problem` saying what is wrong
 * with it and `rule` (an errdetail) what its operators must be; returns
 * false.
 */
static bool
report_bad_operator(const ValidateContext *cx, Form_pg_amop op, const char *problem,
					const char *rule)
{
	ereport(INFO,
			(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
			 errmsg("operator family \"%s\" of access method %s contains operator %s %s",
					cx->opfamilyname, cx->method->name,
					format_operator(op->amopopr), problem),
			 errdetail_internal("%s", rule)));
	return false;
}

/* An invalid operator of a vector family (ORDER BY operators) */
static bool
bad_operator(const ValidateContext *cx, Form_pg_amop op, const char *problem)
{
	return report_bad_operator(cx, op, problem,
							   psprintf("Operators of access method %s are ORDER BY operators at strategy %d returning double precision.",
										cx->method->name, VINDEX_ORDER_STRATEGY));
}

/* Is `op` an ORDER BY operator of the kind the method uses? */
static bool
check_operator(const ValidateContext *cx, Form_pg_amop op)
{
	bool		ok = true;

	if (op->amopstrategy != VINDEX_ORDER_STRATEGY)
		ok = bad_operator(cx, op, psprintf("with invalid strategy number %d",
										   op->amopstrategy));
	if (op->amoppurpose != AMOP_ORDER)
		ok = bad_operator(cx, op, "for search, not for ORDER BY");
	else if (!opfamily_can_sort_type(op->amopsortfamily, FLOAT8OID))
		ok = bad_operator(cx, op, "with an ORDER BY operator family that cannot sort double precision");
	if (!check_amop_signature(op->amopopr, FLOAT8OID, op->amoplefttype,
							  op->amoprighttype))
		ok = bad_operator(cx, op, "with the wrong signature");
	return ok;
}

/*
 * Report each required support function missing from `functionset` (bit
 * n set: function n present) of `object` (the family or class, "for
 * types ..." in `types`); false if any.
 */
static bool
check_required(const ValidateContext *cx, uint64 functionset, const char *object,
			   const char *types)
{
	bool		ok = true;

	for (int i = 0; i < cx->method->nprocs; i++)
	{
		const VindexSupportProc *spec = &cx->method->procs[i];

		if (!spec->required || (functionset & (UINT64CONST(1) << spec->number)))
			continue;
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("%s of access method %s lacks support function %d (%s)%s",
						object, cx->method->name, spec->number, spec->purpose,
						types)));
		ok = false;
	}
	return ok;
}

/* Every pair of types, and the class's own type, has the required functions. */
static bool
check_groups(const ValidateContext *cx, CatCList *oprlist, CatCList *proclist)
{
	List	   *groups = identify_opfamily_groups(oprlist, proclist);
	ListCell   *lc;
	bool		ok = true;
	bool		own_type = false;

	foreach(lc, groups)
	{
		OpFamilyOpFuncGroup *group = lfirst(lc);

		ok &= check_required(cx, group->functionset,
							 psprintf("operator family \"%s\"", cx->opfamilyname),
							 psprintf(" for types %s and %s",
									  format_type_be(group->lefttype),
									  format_type_be(group->righttype)));
		own_type |= group->lefttype == cx->opcintype &&
			group->righttype == cx->opcintype;
	}
	if (!own_type)
		ok &= check_required(cx, 0, psprintf("operator class \"%s\"", cx->opclassname), "");
	return ok;
}

/* An invalid operator of a filter column's family */
static bool
bad_filter_operator(const ValidateContext *cx, Form_pg_amop op, const char *problem)
{
	return report_bad_operator(cx, op, problem,
							   psprintf("Operators of a filter column's family of access method %s are search operators returning boolean at btree strategies 1 to 5 (= only for text; &&, @>, <@ at 1 to 3 for arrays) between types of one filter kind.",
										cx->method->name));
}

/*
 * The rules of a filter column's operator class ("Filter columns" in
 * index.h): no support functions; search operators (t1, t2) -> boolean at
 * the btree strategies, t1 and t2 of the class type's filter kind, only =
 * for text, the array strategies (&&, @>, <@) for arrays; the class's own
 * type has = (arrays: &&).
 */
static bool
validate_filter_family(const ValidateContext *cx, CatCList *oprlist, CatCList *proclist)
{
	VindexFilterKind kind = vindex_filter_kind(cx->opcintype);
	/* the operator every class has: = , or && for arrays */
	int			key_strategy = kind == VINDEX_FILTER_ARRAY ?
		VINDEX_ARRAY_OVERLAP : BTEqualStrategyNumber;
	bool		ok = true;
	bool		own_eq = false;

	for (int i = 0; i < proclist->n_members; i++)
	{
		Form_pg_amproc proc = (Form_pg_amproc) GETSTRUCT(&proclist->members[i]->tuple);

		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("operator family \"%s\" of access method %s contains function %s with support number %d, which filter columns do not use",
						cx->opfamilyname, cx->method->name,
						format_procedure(proc->amproc), proc->amprocnum)));
		ok = false;
	}
	for (int i = 0; i < oprlist->n_members; i++)
	{
		Form_pg_amop op = (Form_pg_amop) GETSTRUCT(&oprlist->members[i]->tuple);

		if (op->amopstrategy < 1 || op->amopstrategy > BTMaxStrategyNumber ||
			(kind == VINDEX_FILTER_TEXT && op->amopstrategy != BTEqualStrategyNumber) ||
			(kind == VINDEX_FILTER_ARRAY && op->amopstrategy > VINDEX_ARRAY_CONTAINED))
			ok = bad_filter_operator(cx, op, psprintf("with invalid strategy number %d",
													  op->amopstrategy));
		if (op->amoppurpose != AMOP_SEARCH)
			ok = bad_filter_operator(cx, op, "for ORDER BY, not for search");
		if (vindex_filter_kind(op->amoplefttype) != kind ||
			vindex_filter_kind(op->amoprighttype) != kind ||
			!check_amop_signature(op->amopopr, BOOLOID, op->amoplefttype,
								  op->amoprighttype))
			ok = bad_filter_operator(cx, op, "with the wrong signature");
		own_eq |= op->amopstrategy == key_strategy &&
			op->amoplefttype == cx->opcintype && op->amoprighttype == cx->opcintype;
	}
	if (!own_eq)
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("operator class \"%s\" of access method %s lacks the %s operator of type %s",
						cx->opclassname, cx->method->name,
						kind == VINDEX_FILTER_ARRAY ? "&&" : "=",
						format_type_be(cx->opcintype))));
		ok = false;
	}
	return ok;
}

bool
vindex_validate(const VindexMethod *method, Oid opclassoid)
{
	HeapTuple	classtup;
	HeapTuple	familytup;
	Form_pg_opclass classform;
	ValidateContext cx;
	CatCList   *proclist;
	CatCList   *oprlist;
	bool		ok = true;

	classtup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclassoid));
	if (!HeapTupleIsValid(classtup))
		elog(ERROR, "cache lookup failed for operator class %u", opclassoid);
	classform = (Form_pg_opclass) GETSTRUCT(classtup);
	familytup = SearchSysCache1(OPFAMILYOID, ObjectIdGetDatum(classform->opcfamily));
	if (!HeapTupleIsValid(familytup))
		elog(ERROR, "cache lookup failed for operator family %u", classform->opcfamily);

	cx.method = method;
	cx.opclassname = NameStr(classform->opcname);
	cx.opfamilyname = NameStr(((Form_pg_opfamily) GETSTRUCT(familytup))->opfname);
	cx.opcintype = classform->opcintype;

	proclist = SearchSysCacheList1(AMPROCNUM, ObjectIdGetDatum(classform->opcfamily));
	oprlist = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(classform->opcfamily));
	if (method->max_filter_columns > 0 &&
		vindex_filter_kind(cx.opcintype) != VINDEX_FILTER_NONE)
		ok = validate_filter_family(&cx, oprlist, proclist);
	else
	{
		for (int i = 0; i < proclist->n_members; i++)
			ok &= check_proc(&cx, (Form_pg_amproc) GETSTRUCT(&proclist->members[i]->tuple));
		for (int i = 0; i < oprlist->n_members; i++)
			ok &= check_operator(&cx, (Form_pg_amop) GETSTRUCT(&oprlist->members[i]->tuple));
		ok &= check_groups(&cx, oprlist, proclist);
	}

	ReleaseCatCacheList(oprlist);
	ReleaseCatCacheList(proclist);
	ReleaseSysCache(familytup);
	ReleaseSysCache(classtup);
	return ok;
}
