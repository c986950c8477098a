/*-------------------------------------------------------------------------
 *
 * index_elem.c
 *	  The element types of vsim's vector indexes: how a column value is
 *	  stored in an index, compared, and turned into floats and back (see
 *	  index.h, "Element types").
 *
 * The index methods reach a type only through its VindexElemType; the
 * only place that knows which column types have one is
 * vindex_elem_for_type.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "index/index.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/varbit.h"
#include "vector/halfvec.h"
#include "vector/sparsevec.h"

/* ---------------------------------------------------------------------
 * vector: float4 x[dims]
 * ---------------------------------------------------------------------
 */
static bool
vector_supports(VectorMetric metric)
{
	return metric == VECTOR_METRIC_L2 || metric == VECTOR_METRIC_IP ||
		metric == VECTOR_METRIC_COSINE || metric == VECTOR_METRIC_L1;
}

static Size
vector_stored_size(int dims)
{
	return sizeof(float) * (Size) dims;
}

static int
vector_value_dims(Datum value)
{
	return DatumGetVector(value)->dim;
}

static void
vector_store(Datum value, int dims, void *out)
{
	memcpy(out, DatumGetVector(value)->x, sizeof(float) * (Size) dims);
}

static void
vector_copy_floats(const void *elem, int dims, float *out)
{
	memcpy(out, elem, sizeof(float) * (Size) dims);
}

static void
vector_from_floats(const float *x, int dims, void *out)
{
	memcpy(out, x, sizeof(float) * (Size) dims);
}

static bool
vector_valid(const void *elem, int dims)
{
	const float *x = elem;

	for (int i = 0; i < dims; i++)
		if (!isfinite(x[i]))
			return false;
	return true;
}

static double
vector_elem_distance(VectorMetric metric, const void *a, const void *b, int dims)
{
	return vector_metric_distance(metric, a, b, dims);
}

static double
vector_elem_distance_below(VectorMetric metric, const void *a, const void *b,
						   int dims, double bound)
{
	if (metric == VECTOR_METRIC_L2)
		return vector_l2_below(a, b, dims, bound);
	return vector_metric_distance(metric, a, b, dims);
}

static bool
vector_indexable(VectorMetric metric, const void *elem, int dims)
{
	return vector_metric_indexable(metric, elem, dims);
}

const VindexElemType vindex_elem_vector = {
	.name = "vector",
	.cost_kind = VECTOR_COST_FLOAT4,
	.max_dims = VECTOR_MAX_DIM,
	.dims_error = "different vector dimensions %d and %d",
	.supports = vector_supports,
	.stored_size = vector_stored_size,
	.value_dims = vector_value_dims,
	.store = vector_store,
	.to_floats = vector_copy_floats,
	.from_floats = vector_from_floats,
	.distance = vector_elem_distance,
	.distance_below = vector_elem_distance_below,
	.valid = vector_valid,
	.indexable = vector_indexable,
};

/* ---------------------------------------------------------------------
 * halfvec: uint16 x[dims], the binary16 bit patterns
 * ---------------------------------------------------------------------
 */
static Size
halfvec_stored_size(int dims)
{
	return sizeof(uint16) * (Size) dims;
}

static int
halfvec_value_dims(Datum value)
{
	return DatumGetHalfVector(value)->dim;
}

static void
halfvec_store(Datum value, int dims, void *out)
{
	memcpy(out, DatumGetHalfVector(value)->x, sizeof(uint16) * (Size) dims);
}

static void
halfvec_to_floats(const void *elem, int dims, float *out)
{
	halfvec_halves_to_floats(elem, out, dims);
}

/* A mean of finite halves is within their range, so this cannot fail. */
static void
halfvec_from_floats(const float *x, int dims, void *out)
{
	halfvec_floats_to_halves(x, out, dims);
}

/* Finite: the exponent field (bits 10..14) is not all ones. */
static bool
halfvec_valid(const void *elem, int dims)
{
	const uint16 *x = elem;

	for (int i = 0; i < dims; i++)
		if ((x[i] & 0x7C00) == 0x7C00)
			return false;
	return true;
}

static double
halfvec_elem_distance(VectorMetric metric, const void *a, const void *b, int dims)
{
	return halfvec_metric_distance(metric, a, b, dims);
}

/* Under cosine, not the zero vector (+0 or -0 in every element). */
static bool
halfvec_indexable(VectorMetric metric, const void *elem, int dims)
{
	const uint16 *x = elem;

	if (metric != VECTOR_METRIC_COSINE)
		return true;
	for (int i = 0; i < dims; i++)
		if ((x[i] & 0x7FFF) != 0)
			return true;
	return false;
}

const VindexElemType vindex_elem_halfvec = {
	.name = "halfvec",
	.cost_kind = VECTOR_COST_HALF,
	.max_dims = HALFVEC_MAX_DIM,
	.dims_error = "different halfvec dimensions %d and %d",
	.supports = vector_supports,
	.stored_size = halfvec_stored_size,
	.value_dims = halfvec_value_dims,
	.store = halfvec_store,
	.to_floats = halfvec_to_floats,
	.from_floats = halfvec_from_floats,
	.distance = halfvec_elem_distance,
	.valid = halfvec_valid,
	.indexable = halfvec_indexable,
};

/* ---------------------------------------------------------------------
 * bit: the bit string's bytes, ceil(dims / 8) of them
 * ---------------------------------------------------------------------
 */

/*
 * The largest bit index: as many bytes as the largest vector index stores
 * (64,000), so an element's layout limits are those of vector's.
 */
#define VINDEX_BIT_MAX_DIMS (VECTOR_MAX_DIM * (int) sizeof(float) * BITS_PER_BYTE)

static bool
bit_supports(VectorMetric metric)
{
	return metric == VECTOR_METRIC_HAMMING || metric == VECTOR_METRIC_JACCARD;
}

static Size
bit_stored_size(int dims)
{
	return ((Size) dims + BITS_PER_BYTE - 1) / BITS_PER_BYTE;
}

static int
bit_value_dims(Datum value)
{
	return VARBITLEN(DatumGetVarBitP(value));
}

static void
bit_store(Datum value, int dims, void *out)
{
	memcpy(out, VARBITS(DatumGetVarBitP(value)), bit_stored_size(dims));
}

static void
bit_to_floats(const void *elem, int dims, float *out)
{
	const uint8 *bits = elem;

	for (int i = 0; i < dims; i++)
		out[i] = (bits[i / BITS_PER_BYTE] & (0x80 >> (i % BITS_PER_BYTE))) ? 1.0f : 0.0f;
}

static void
bit_from_floats(const float *x, int dims, void *out)
{
	uint8	   *bits = out;

	memset(bits, 0, bit_stored_size(dims));
	for (int i = 0; i < dims; i++)
		if (x[i] > 0.5f)
			bits[i / BITS_PER_BYTE] |= (uint8) (0x80 >> (i % BITS_PER_BYTE));
}

static bool
bit_valid(const void *elem, int dims)
{
	int			pad = (int) bit_stored_size(dims) * BITS_PER_BYTE - dims;

	/* the bits after the last one are zero (PostgreSQL keeps them so) */
	return pad == 0 ||
		(((const uint8 *) elem)[bit_stored_size(dims) - 1] & ((1 << pad) - 1)) == 0;
}

static double
bit_elem_distance(VectorMetric metric, const void *a, const void *b, int dims)
{
	if (metric == VECTOR_METRIC_JACCARD)
		return bit_jaccard_distance(a, b, bit_stored_size(dims));
	Assert(metric == VECTOR_METRIC_HAMMING);
	return bit_hamming_distance(a, b, bit_stored_size(dims));
}

const VindexElemType vindex_elem_bit = {
	.name = "bit",
	.cost_kind = VECTOR_COST_BIT,
	.max_dims = VINDEX_BIT_MAX_DIMS,
	.dims_error = "different bit lengths %d and %d",
	.supports = bit_supports,
	.stored_size = bit_stored_size,
	.value_dims = bit_value_dims,
	.store = bit_store,
	.to_floats = bit_to_floats,
	.from_floats = bit_from_floats,
	.distance = bit_elem_distance,
	.valid = bit_valid,
	.indexable = NULL,			/* every bit string, see index.h */
};

/* ---------------------------------------------------------------------
 * sparsevec: the SparseVector, 16 + 8 nnz bytes (variable size)
 * ---------------------------------------------------------------------
 */

/* The largest: VINDEX_SPARSEVEC_MAX_NNZ elements, whatever dims. */
static Size
sparsevec_stored_size(int dims)
{
	return SPARSEVEC_SIZE(VINDEX_SPARSEVEC_MAX_NNZ);
}

static Size
sparsevec_value_size(const void *elem)
{
	const SparseVector *s = elem;

	return SPARSEVEC_SIZE(s->nnz);
}

static Size
sparsevec_datum_size(Datum value)
{
	return SPARSEVEC_SIZE(((const SparseVector *) DatumGetPointer(value))->nnz);
}

static int
sparsevec_value_dims(Datum value)
{
	return ((const SparseVector *) DatumGetPointer(value))->dim;
}

/* The caller's buffer holds datum_size(value) bytes. */
static void
sparsevec_store(Datum value, int dims, void *out)
{
	const SparseVector *s = (const SparseVector *) DatumGetPointer(value);

	memcpy(out, s, SPARSEVEC_SIZE(s->nnz));
}

/*
 * What sparsevec_in and _recv accept: nnz within the index's limit,
 * ascending indices below dim, finite non-zero values.
 */
static bool
sparsevec_valid(const void *elem, int dims)
{
	const SparseVector *s = elem;
	const float *values;

	if (s->dim != dims || s->nnz < 0 || s->nnz > VINDEX_SPARSEVEC_MAX_NNZ ||
		s->unused != 0)
		return false;
	values = SPARSEVEC_VALUES(s);
	for (int i = 0; i < s->nnz; i++)
		if (s->indices[i] < 0 || s->indices[i] >= dims ||
			(i > 0 && s->indices[i] <= s->indices[i - 1]) ||
			!isfinite(values[i]) || values[i] == 0)
			return false;
	return true;
}

static double
sparsevec_elem_distance(VectorMetric metric, const void *a, const void *b, int dims)
{
	return sparsevec_metric_distance(metric, a, b);
}

/* Under cosine, not the zero vector (no stored element). */
static bool
sparsevec_indexable(VectorMetric metric, const void *elem, int dims)
{
	return metric != VECTOR_METRIC_COSINE || ((const SparseVector *) elem)->nnz > 0;
}

const VindexElemType vindex_elem_sparsevec = {
	.name = "sparsevec",
	.cost_kind = VECTOR_COST_SPARSE,
	.max_dims = SPARSEVEC_MAX_DIM,
	.dims_error = "different sparsevec dimensions %d and %d",
	.supports = vector_supports,
	.stored_size = sparsevec_stored_size,
	.value_dims = sparsevec_value_dims,
	.store = sparsevec_store,
	.to_floats = NULL,			/* no k-means: see index.h */
	.from_floats = NULL,
	.distance = sparsevec_elem_distance,
	.valid = sparsevec_valid,
	.indexable = sparsevec_indexable,
	.value_size = sparsevec_value_size,
	.datum_size = sparsevec_datum_size,
};

/* ---------------------------------------------------------------------
 * Choosing the type
 * ---------------------------------------------------------------------
 */

/* The last type asked about, and its answer; reset when pg_type changes. */
static Oid	cached_typid = InvalidOid;
static const VindexElemType *cached_elem = NULL;
static bool callback_registered = false;

static void
type_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	cached_typid = InvalidOid;
	cached_elem = NULL;
}

/* The C symbol of `typid`'s input function, NULL unless it is in C. */
static char *
input_function_symbol(Oid typid)
{
	HeapTuple	tup;
	Oid			typinput;
	char	   *symbol = NULL;

	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for type %u", typid);
	typinput = ((Form_pg_type) GETSTRUCT(tup))->typinput;
	ReleaseSysCache(tup);

	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(typinput));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for function %u", typinput);
	if (((Form_pg_proc) GETSTRUCT(tup))->prolang == ClanguageId)
	{
		bool		isnull;
		Datum		src = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_prosrc, &isnull);

		if (!isnull)
			symbol = TextDatumGetCString(src);
	}
	ReleaseSysCache(tup);
	return symbol;
}

const VindexElemType *
vindex_elem_for_type(Oid typid)
{
	const VindexElemType *elem = NULL;
	char	   *symbol;

	if (typid == cached_typid && cached_elem != NULL)
		return cached_elem;
	if (!callback_registered)
	{
		CacheRegisterSyscacheCallback(TYPEOID, type_changed, (Datum) 0);
		callback_registered = true;
	}

	if (typid == BITOID)
		elem = &vindex_elem_bit;
	else if ((symbol = input_function_symbol(typid)) != NULL)
	{
		/* the types of this extension, by their input functions */
		if (strcmp(symbol, "vector_in") == 0)
			elem = &vindex_elem_vector;
		else if (strcmp(symbol, "halfvec_in") == 0)
			elem = &vindex_elem_halfvec;
		else if (strcmp(symbol, "sparsevec_in") == 0)
			elem = &vindex_elem_sparsevec;
	}
	if (elem == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("type %s cannot be indexed by vsim's index methods",
						format_type_be(typid)),
				 errhint("Index a column of type vector, halfvec, sparsevec or bit.")));
	cached_typid = typid;
	cached_elem = elem;
	return elem;
}

const VindexElemType *
vindex_elem_type(Relation index)
{
	return vindex_elem_for_type(TupleDescAttr(RelationGetDescr(index), 0)->atttypid);
}

char *
vindex_elem_form(const VindexElemType *elem, Datum value, int *dims)
{
	Datum		plain = PointerGetDatum(PG_DETOAST_DATUM(value));
	char	   *out;

	*dims = elem->value_dims(plain);
	out = palloc(elem->datum_size ? elem->datum_size(plain) : elem->stored_size(*dims));
	elem->store(plain, *dims, out);
	return out;
}

void
vindex_elem_check_stored(Relation index, const VindexElemType *elem, const void *x,
						 int dims)
{
	if (elem->value_size == NULL || elem->value_size(x) <= elem->stored_size(dims))
		return;
	/* sparsevec is the one variable-size type */
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("sparsevec cannot have more than %d non-zero elements for this index",
					VINDEX_SPARSEVEC_MAX_NNZ),
			 errdetail("Index \"%s\" was given a sparsevec with %d non-zero elements.",
					   RelationGetRelationName(index),
					   ((const SparseVector *) x)->nnz)));
}

void
vindex_elem_check(Relation index, const VindexElemType *elem, VectorMetric metric,
				  int dims)
{
	if (!elem->supports(metric))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("index \"%s\" cannot use metric %s on type %s",
						RelationGetRelationName(index), vector_metric_name(metric),
						elem->name),
				 errhint("Use an operator class of vsim for type %s.", elem->name)));
	if (dims > elem->max_dims)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("column cannot have more than %d dimensions for this index",
						elem->max_dims),
				 errdetail("Index \"%s\" is on type %s(%d).",
						   RelationGetRelationName(index), elem->name, dims)));
}
