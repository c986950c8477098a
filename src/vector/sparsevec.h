/*-------------------------------------------------------------------------
 *
 * sparsevec.h
 *	  The `sparsevec` type: a sparse vector of float4 elements, stored as
 *	  its non-zero elements only, compatible with pgvector 0.8's type of
 *	  the same name (text and binary forms, typmod, limits).
 *
 * Value layout (a varlena, never compressed: the type's storage is EXTERNAL):
 *
 *	  int32   vl_len_		varlena header
 *	  int32   dim			number of dimensions, 1 .. SPARSEVEC_MAX_DIM
 *	  int32   nnz			number of stored elements, 0 .. SPARSEVEC_MAX_NNZ
 *	  int32   unused		always 0 (the binary format's reserved field)
 *	  int32   indices[nnz]	0-based positions, strictly ascending, < dim
 *	  float4  values[nnz]	finite, non-zero elements at those positions
 *
 * The binary send/recv format is the same fields in network byte order,
 * without the varlena header (indices 0-based, as pgvector sends them).
 * The text form is "{i1:x1,i2:x2,...}/dim" with 1-based indices.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSIM_SPARSEVEC_H
#define VSIM_SPARSEVEC_H

#include "postgres.h"

#include "fmgr.h"
#include "vector/vector.h"

#define SPARSEVEC_MAX_DIM 1000000000
#define SPARSEVEC_MAX_NNZ 16000

typedef struct SparseVector
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int32		dim;			/* number of dimensions */
	int32		nnz;			/* number of stored (non-zero) elements */
	int32		unused;			/* reserved, always zero */
	int32		indices[FLEXIBLE_ARRAY_MEMBER];
	/* float4 values[nnz] follow the indices */
} SparseVector;

#define SPARSEVEC_SIZE(nnz) \
	(offsetof(SparseVector, indices) + (sizeof(int32) + sizeof(float)) * (Size) (nnz))
#define SPARSEVEC_VALUES(s)		((float *) ((s)->indices + (s)->nnz))
#define DatumGetSparseVector(d) ((SparseVector *) PG_DETOAST_DATUM(d))
#define PG_GETARG_SPARSEVEC_P(n) DatumGetSparseVector(PG_GETARG_DATUM(n))

/*
 * new_sparsevec: palloc a sparse vector of `dim` dimensions with room for
 * `nnz` elements (indices and values zero-filled: the caller fills them).
 * Raises 22000 for dim < 1, 54000 for dim > SPARSEVEC_MAX_DIM or
 * nnz > SPARSEVEC_MAX_NNZ.
 */
extern SparseVector *new_sparsevec(int64 dim, int nnz);

/*
 * sparsevec_metric_distance: the index-order distance (see VectorMetric
 * in vector.h) between two sparse vectors of the same dimensions, by one
 * merge over their ascending indices: O(a->nnz + b->nnz).  Sums in double
 * precision in ascending index order, so the result never depends on the
 * CPU.  Cosine is 1 when either vector is zero.  Raises 22000 when the
 * dimensions differ.
 */
extern double sparsevec_metric_distance(VectorMetric metric,
										const SparseVector *a,
										const SparseVector *b);

#endif							/* VSIM_SPARSEVEC_H */
