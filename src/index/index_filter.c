/*-------------------------------------------------------------------------
 *
 * index_filter.c
 *	  Filter columns of vector indexes: the key columns after the vector,
 *	  stored with each element as fixed-size 64-bit codes, and the scan
 *	  keys (WHERE conditions on them) compiled into a test the index
 *	  applies to those codes during its search (see "Filter columns" in
 *	  index.h).
 *
 * Codes: integers, dates and timestamps are their value, booleans 0 or 1,
 * so the code order is the type's order and =, <, <=, >, >= compare
 * codes.  Text is the 64-bit hash of its bytes (hash_bytes_extended, seed
 * 0): equal strings (under a deterministic collation, whose equality is
 * bytewise) have equal codes, different ones almost always different
 * codes, so only = and = ANY are answered, lossily; the executor rechecks.
 * Arrays are Bloom signatures (Bloom, "Space/time trade-offs in hash coding
 * with allowable errors", CACM 13(7), 1970) of their elements' codes, in
 * one 64-bit word: lossy too, the executor rechecks.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/stratnum.h"
#include "catalog/pg_collation.h"
#include "common/hashfn.h"
#include "index/index.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

VindexFilterKind
vindex_filter_kind(Oid typid)
{
	switch (typid)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
			return VINDEX_FILTER_INT;
		case BOOLOID:
			return VINDEX_FILTER_BOOL;
		case DATEOID:
			return VINDEX_FILTER_DATE;
		case TIMESTAMPTZOID:
			return VINDEX_FILTER_TIMESTAMPTZ;
		case TEXTOID:
		case VARCHAROID:
			return VINDEX_FILTER_TEXT;
		case INT4ARRAYOID:
		case INT8ARRAYOID:
		case TEXTARRAYOID:
		case ANYARRAYOID:		/* the operator class's own type */
			return VINDEX_FILTER_ARRAY;
		default:
			return VINDEX_FILTER_NONE;
	}
}

static int64 filter_code(Oid typid, Datum d);

/* The signature bits of one array element of code `code` */
static uint64
element_mask(int64 code)
{
	uint64		h = DatumGetUInt64(hash_any_extended((const unsigned char *) &code,
													 sizeof(code), 0));
	uint64		mask = 0;

	for (int i = 0; i < VINDEX_ARRAY_HASH_BITS; i++)
		mask |= UINT64CONST(1) << ((h >> (6 * i)) & 63);
	return mask;
}

/*
 * The codes of the non-NULL elements of array `d` (NULL elements, which
 * match nothing, left out), palloc'd into *codes; returns their count.
 */
static int
array_codes(Datum d, int64 **codes)
{
	ArrayType  *arr = DatumGetArrayTypeP(d);
	Oid			elemtype = ARR_ELEMTYPE(arr);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			kept = 0;

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(arr, elemtype, typlen, typbyval, typalign, &elems, &nulls, &n);
	*codes = palloc(sizeof(int64) * Max(n, 1));
	for (int i = 0; i < n; i++)
		if (!nulls[i])
			(*codes)[kept++] = filter_code(elemtype, elems[i]);
	return kept;
}

/* The signature bits of each non-NULL element of array `d` (as array_codes) */
static int
array_masks(Datum d, uint64 **masks)
{
	int64	   *codes;
	int			n = array_codes(d, &codes);

	*masks = (uint64 *) codes;
	for (int i = 0; i < n; i++)
		(*masks)[i] = element_mask(codes[i]);
	return n;
}

/* The signature of array `d`: the union of its elements' bits */
static uint64
array_signature(Datum d)
{
	uint64	   *masks;
	int			n = array_masks(d, &masks);
	uint64		sig = 0;

	for (int i = 0; i < n; i++)
		sig |= masks[i];
	pfree(masks);
	return sig;
}

/* The code of value `d` of type `typid` (a type vindex_filter_kind knows). */
static int64
filter_code(Oid typid, Datum d)
{
	switch (typid)
	{
		case INT4ARRAYOID:
		case INT8ARRAYOID:
		case TEXTARRAYOID:
			return (int64) array_signature(d);
		case INT2OID:
			return DatumGetInt16(d);
		case INT4OID:
			return DatumGetInt32(d);
		case INT8OID:
			return DatumGetInt64(d);
		case BOOLOID:
			return DatumGetBool(d) ? 1 : 0;
		case DATEOID:
			return DatumGetDateADT(d);
		case TIMESTAMPTZOID:
			return DatumGetTimestampTz(d);
		case TEXTOID:
		case VARCHAROID:
			{
				text	   *t = DatumGetTextPP(d);
				uint64		h = DatumGetUInt64(hash_any_extended((const unsigned char *) VARDATA_ANY(t),
																 VARSIZE_ANY_EXHDR(t), 0));

				return (int64) h;
			}
	}
	elog(ERROR, "type %u is no filter column type", typid);
	return 0;					/* keep the compiler quiet */
}

void
vindex_filter_layout(Relation index, const char *amname, bool check,
					 VindexFilterLayout *layout)
{
	TupleDesc	desc = RelationGetDescr(index);
	int			nkeys = IndexRelationGetNumberOfKeyAttributes(index);

	memset(layout, 0, sizeof(*layout));
	if (check && nkeys > 1 &&
		vindex_filter_kind(TupleDescAttr(desc, 0)->atttypid) != VINDEX_FILTER_NONE)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the first column of an %s index must be the vector column", amname),
				 errdetail("Column 1 of index \"%s\" is of type %s.",
						   RelationGetRelationName(index),
						   format_type_be(TupleDescAttr(desc, 0)->atttypid)),
				 errhint("Put the vector column first and the filter columns after it.")));
	if (check && nkeys - 1 > VINDEX_MAX_FILTER_COLUMNS)
		ereport(ERROR,
				(errcode(ERRCODE_TOO_MANY_COLUMNS),
				 errmsg("an %s index can have at most %d filter columns", amname,
						VINDEX_MAX_FILTER_COLUMNS),
				 errdetail("Index \"%s\" has %d columns after the vector column.",
						   RelationGetRelationName(index), nkeys - 1)));
	layout->nfilters = Min(nkeys - 1, VINDEX_MAX_FILTER_COLUMNS);
	for (int i = 0; i < layout->nfilters; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i + 1);
		VindexFilterKind kind = vindex_filter_kind(att->atttypid);

		if (check && kind == VINDEX_FILTER_NONE)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("column %d of index \"%s\" cannot be a filter column: type %s is not supported",
							i + 2, RelationGetRelationName(index),
							format_type_be(att->atttypid)),
					 errhint("Filter columns, after the vector column, may be of type smallint, integer, bigint, boolean, date, timestamp with time zone, text or varchar, or arrays of integer, bigint or text.")));
		/* text and text[] (integer arrays have no collation) */
		if (check && OidIsValid(index->rd_indcollation[i + 1]) &&
			!get_collation_isdeterministic(index->rd_indcollation[i + 1]))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("filter column %d of index \"%s\" cannot use a nondeterministic collation",
							i + 2, RelationGetRelationName(index)),
					 errdetail("Text filter values are stored as hashes of their bytes."),
					 errhint("Use a deterministic collation for the column, e.g. COLLATE \"C\".")));
		layout->kind[i] = kind;
		layout->typid[i] = att->atttypid;
	}
}

void
vindex_filter_form(const VindexFilterLayout *layout, const Datum *values,
				   const bool *isnull, char *out)
{
	uint32		nulls = 0;

	memset(out, 0, vindex_filter_size(layout->nfilters));
	for (int i = 0; i < layout->nfilters; i++)
	{
		int64		code = 0;

		if (isnull[i])
			nulls |= 1U << i;
		else
			code = filter_code(layout->typid[i], values[i]);
		memcpy(out + VINDEX_FILTER_CODE_OFFSET(i), &code, sizeof(int64));
	}
	memcpy(out, &nulls, sizeof(uint32));
}

bool
vindex_filter_area_valid(const VindexFilterLayout *layout, const char *area)
{
	uint32		nulls;

	memcpy(&nulls, area, sizeof(uint32));
	if (nulls >> layout->nfilters != 0)
		return false;
	for (int i = 0; i < layout->nfilters; i++)
	{
		int64		code;

		memcpy(&code, area + VINDEX_FILTER_CODE_OFFSET(i), sizeof(int64));
		if ((nulls & (1U << i)) && code != 0)
			return false;
		if (layout->kind[i] == VINDEX_FILTER_BOOL && code != 0 && code != 1)
			return false;
	}
	return true;
}

static int
cmp_code(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : x > y;
}

/*
 * Narrow cond to the codes that satisfy `code <strategy> v` (btree
 * strategy numbers); false when none can.
 */
static bool
narrow(VindexFilterCond *cond, int strategy, int64 v)
{
	switch (strategy)
	{
		case BTLessStrategyNumber:
			if (v == PG_INT64_MIN)
				return false;
			cond->hi = Min(cond->hi, v - 1);
			break;
		case BTLessEqualStrategyNumber:
			cond->hi = Min(cond->hi, v);
			break;
		case BTEqualStrategyNumber:
			cond->lo = Max(cond->lo, v);
			cond->hi = Min(cond->hi, v);
			break;
		case BTGreaterEqualStrategyNumber:
			cond->lo = Max(cond->lo, v);
			break;
		case BTGreaterStrategyNumber:
			if (v == PG_INT64_MAX)
				return false;
			cond->lo = Max(cond->lo, v + 1);
			break;
		default:
			elog(ERROR, "unexpected strategy number %d of a filter scan key", strategy);
	}
	return cond->lo <= cond->hi;
}

/*
 * Compile `key`, an array operator's key (VINDEX_ARRAY_ strategies), into
 * cond; false when no row can match (&& of an array without non-NULL
 * elements).
 */
static bool
compile_array_key(VindexFilterCond *cond, ScanKey key)
{
	cond->array_op = key->sk_strategy;
	cond->nmasks = array_masks(key->sk_argument, &cond->masks);
	for (int i = 0; i < cond->nmasks; i++)
		cond->sig |= cond->masks[i];
	switch (key->sk_strategy)
	{
		case VINDEX_ARRAY_OVERLAP:
			return cond->nmasks > 0;
		case VINDEX_ARRAY_CONTAINS:
		case VINDEX_ARRAY_CONTAINED:
			return true;
		default:
			elog(ERROR, "unexpected strategy number %d of an array filter scan key",
				 key->sk_strategy);
	}
	return false;				/* keep the compiler quiet */
}

VindexFilter *
vindex_filter_compile(const VindexFilterLayout *layout, ScanKey keys, int nkeys)
{
	VindexFilter *f;

	if (nkeys == 0)
		return NULL;
	f = palloc0(sizeof(VindexFilter));
	f->conds = palloc0(sizeof(VindexFilterCond) * nkeys);
	for (int k = 0; k < nkeys && !f->empty; k++)
	{
		ScanKey		key = &keys[k];
		VindexFilterCond *cond = &f->conds[f->nconds++];
		int			col = key->sk_attno - 2;
		Oid			argtype;

		if (col < 0 || col >= layout->nfilters)
			elog(ERROR, "scan key on column %d of a vector index is not on a filter column",
				 key->sk_attno);
		cond->col = col;
		cond->lo = PG_INT64_MIN;
		cond->hi = PG_INT64_MAX;
		cond->nset = -1;
		if (layout->kind[col] == VINDEX_FILTER_TEXT ||
			layout->kind[col] == VINDEX_FILTER_ARRAY)
			f->lossy = true;
		/* col = NULL, col = ANY(NULL): no row matches (strict operators) */
		if (key->sk_flags & SK_ISNULL)
		{
			f->empty = true;
			break;
		}
		if (layout->kind[col] == VINDEX_FILTER_ARRAY)
		{
			if (!compile_array_key(cond, key))
				f->empty = true;
		}
		else if (key->sk_flags & SK_SEARCHARRAY)
		{
			int			kept = array_codes(key->sk_argument, &cond->set);

			if (kept == 0)
			{
				f->empty = true;
				break;
			}
			qsort(cond->set, kept, sizeof(int64), cmp_code);
			if (key->sk_strategy == BTEqualStrategyNumber)
			{
				int			u = 1;

				for (int i = 1; i < kept; i++)
					if (cond->set[i] != cond->set[u - 1])
						cond->set[u++] = cond->set[i];
				cond->nset = u;
			}
			/* col < ANY(a) is col < max(a); col > ANY(a) is col > min(a) */
			else if (!narrow(cond, key->sk_strategy,
							 key->sk_strategy < BTEqualStrategyNumber ?
							 cond->set[kept - 1] : cond->set[0]))
				f->empty = true;
		}
		else
		{
			argtype = OidIsValid(key->sk_subtype) ? key->sk_subtype : layout->typid[col];
			if (!narrow(cond, key->sk_strategy, filter_code(argtype, key->sk_argument)))
				f->empty = true;
		}
	}
	return f;
}
