/*-------------------------------------------------------------------------
 *
 * index.c
 *	  The IndexAmRoutine shared by vsim's vector index access methods.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/stratnum.h"
#include "commands/vacuum.h"
#include "index/index.h"

IndexAmRoutine *
vindex_am_routine(const VindexMethod *method)
{
	IndexAmRoutine *am = makeNode(IndexAmRoutine);

	/* makeNode zeroes the rest: false, NULL, InvalidOid */
	am->amstrategies = method->max_filter_columns > 0 ? BTMaxStrategyNumber : 0;
	am->amsupport = 0;
	for (int i = 0; i < method->nprocs; i++)
		am->amsupport = Max(am->amsupport, method->procs[i].number);
	am->amoptsprocnum = 0;
	am->amcanorderbyop = true;
	am->amoptionalkey = true;
	/* filter columns: WHERE conditions on the key columns after the vector */
	am->amcanmulticol = method->max_filter_columns > 0;
	am->amsearcharray = method->max_filter_columns > 0;
	am->amusemaintenanceworkmem = method->usemaintenanceworkmem;
	am->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
	am->amkeytype = InvalidOid;
	return am;
}
