/*-------------------------------------------------------------------------
 *
 * halfvec.h
 *	  The `halfvec` type: a dense vector of IEEE 754 binary16 (half
 *	  precision) elements, compatible with pgvector 0.8's type of the same
 *	  name (text and binary forms, typmod, limits), and the half-precision
 *	  helpers the index code uses.
 *
 * Value layout (a varlena, never compressed: the type's storage is EXTERNAL):
 *
 *	  int32   vl_len_		varlena header
 *	  int16   dim			number of elements, 1 .. HALFVEC_MAX_DIM
 *	  int16   unused		always 0 (the binary format's reserved field)
 *	  uint16  x[dim]		binary16 bit patterns of finite elements
 *							(never NaN or +/-Infinity, so |x| <= 65504)
 *
 * The binary send/recv format is the same fields in network byte order,
 * without the varlena header: int16 dim, int16 reserved (0), then the dim
 * 16-bit patterns.  The text form is that of vector, "[x1,x2,...]"; each
 * element is printed as the shortest float4 text that reads back to the
 * same float4 (which is the half's exact value widened).
 *
 * Conversions.  Half to float is exact.  Float to half rounds to nearest,
 * ties to even; a finite value beyond +/-65504 (HALFVEC_MAX_VALUE) is an
 * error (22003), a value below half's smallest subnormal (about 6e-8)
 * rounds to +/-0.
 *
 * Distances.  The kernels (vector.h, VectorKernels.*_half) widen each
 * element to float and then sum in the canonical order of the float
 * kernels, so a halfvec distance has exactly the bits of the vector
 * distance of the widened values, on every kernel set.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSIM_HALFVEC_H
#define VSIM_HALFVEC_H

#include "postgres.h"

#include "fmgr.h"
#include "vector/vector.h"

#define HALFVEC_MAX_DIM 16000
/* the largest finite binary16 value */
#define HALFVEC_MAX_VALUE 65504.0f

typedef struct HalfVector
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int16		dim;			/* number of elements */
	int16		unused;			/* reserved, always zero */
	uint16		x[FLEXIBLE_ARRAY_MEMBER];	/* binary16 bit patterns */
} HalfVector;

#define HALFVEC_SIZE(dim)		(offsetof(HalfVector, x) + sizeof(uint16) * (dim))
#define DatumGetHalfVector(d)	((HalfVector *) PG_DETOAST_DATUM(d))
#define PG_GETARG_HALFVEC_P(n)	DatumGetHalfVector(PG_GETARG_DATUM(n))
#define PG_RETURN_HALFVEC_P(v)	PG_RETURN_POINTER(v)

/*
 * new_halfvec: palloc a zero-filled halfvec of `dim` elements.  Raises
 * 22000 for dim < 1 and 54000 for dim > HALFVEC_MAX_DIM.
 */
extern HalfVector *new_halfvec(int dim);

/*
 * half_to_float: binary16 bit pattern -> float, exact (NaN and the
 * infinities map to theirs).  Inline: the portable kernels call it per
 * element.
 */
static inline float
half_to_float(uint16 h)
{
	uint32		sign = (uint32) (h & 0x8000) << 16;
	uint32		exponent = (h >> 10) & 0x1f;
	uint32		mantissa = h & 0x3ff;
	union
	{
		uint32		u;
		float		f;
	}			r;

	if (exponent == 0)
	{
		/* zero or subnormal: mantissa * 2^-24, exact in float */
		r.f = (float) mantissa * 5.9604644775390625e-8f;
		r.u |= sign;
	}
	else if (exponent == 0x1f)
		r.u = sign | 0x7f800000 | (mantissa << 13);
	else
		r.u = sign | ((exponent + 112) << 23) | (mantissa << 13);
	return r.f;
}

/*
 * float -> binary16 bit pattern, rounded to nearest (ties to even),
 * without range checks: beyond 65520 in magnitude gives +/-Infinity.
 */
extern uint16 float_to_half_unchecked(float f);

/*
 * halfvec_floats_to_halves: out[i] = the half nearest x[i], i in [0, n).
 * Raises 22000 for NaN, 22003 for +/-Infinity ("infinite value not
 * allowed in halfvec") and 22003 for a finite |x[i]| > 65504 ("value ...
 * is out of range for type halfvec").  Values too small for a half
 * become +/-0.  The one float->half conversion of vsim: input, casts,
 * arithmetic and aggregate results, and the index code.
 */
extern void halfvec_floats_to_halves(const float *x, uint16 *out, int n);

/* halfvec_halves_to_floats: out[i] = the value of half h[i] (exact). */
extern void halfvec_halves_to_floats(const uint16 *h, float *out, int n);

/*
 * halfvec_metric_distance: the index-order distance between two arrays of
 * `dim` halves under `metric`, with the semantics of
 * vector_metric_distance (vector.h): squared L2, -a.b, 1 - cos (1 when
 * either is zero, clamped to [0, 2]) or L1, monotone in the SQL
 * operator's result.  Computed by the active kernel set's half kernels,
 * which equal the float kernels on the widened values; the float lanes
 * can neither overflow nor (for cosine) underflow on finite halves of at
 * most 16000 elements, so no wide fallback is needed.
 */
extern double halfvec_metric_distance(VectorMetric metric,
									  const uint16 *a, const uint16 *b, int dim);

#endif							/* VSIM_HALFVEC_H */
