/*-------------------------------------------------------------------------
 *
 * index.c
 *	  The IndexAmRoutine shared by vsim's vector index access methods, and
 *	  their `quantization` option's names.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/stratnum.h"
#include "commands/vacuum.h"
#include "index/index.h"
#include "quant/quant.h"

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

static const char *const quant_names[] = {"none", "sq8", "rabitq"};

const char *
vindex_quantization_name(int q)
{
	return q >= 0 && q < lengthof(quant_names) ? quant_names[q] : "?";
}

/* The mode named `value` (case-insensitive), or -1 */
static int
quantization_from_name(const char *value)
{
	for (int i = 0; i < lengthof(quant_names); i++)
		if (pg_strcasecmp(value, quant_names[i]) == 0)
			return i;
	return -1;
}

void
vindex_quantization_validate(const char *method, const char *value)
{
	if (value != NULL && quantization_from_name(value) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for %s option \"quantization\": \"%s\"",
						method, value),
				 errhint("Valid values are \"none\", \"sq8\" and \"rabitq\".")));
}

VindexQuantization
vindex_quantization_option(const void *opts, int offset)
{
	int			q;

	if (opts == NULL || offset == 0)
		return VINDEX_QUANT_NONE;
	q = quantization_from_name((const char *) opts + offset);
	return q < 0 ? VINDEX_QUANT_NONE : (VindexQuantization) q;
}

Size
vindex_quant_code_size(VindexQuantization q, Size raw_size, int dims)
{
	switch (q)
	{
		case VINDEX_QUANT_SQ8:
			return SQ8_ELEMENT_SIZE(dims);
		case VINDEX_QUANT_RABITQ:
			return RABITQ_ELEMENT_SIZE(dims);
		default:
			return raw_size;
	}
}
