/*-------------------------------------------------------------------------
 *
 * bitvec.c
 *	  Distances on PostgreSQL's own `bit(n)` type, as pgvector 0.8 defines
 *	  them: Hamming distance (operator <~>) and Jaccard distance (<%>), and
 *	  binary_quantize(vector), which maps a vector to one bit per element
 *	  for binary-quantized indexes with re-ranking.
 *
 * The bit counting runs in the kernels of the active set
 * (vector_kernels->hamming / jaccard_parts: portable, POPCNT, AVX-512
 * VPOPCNTDQ; distance.c, distance_x86.c).  PostgreSQL keeps the padding
 * bits of a bit string's last byte zero, so counting whole bytes is exact.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/varbit.h"
#include "vector/vector.h"

/* Raise 22000 unless the two bit strings have the same length (pgvector's error) */
static void
check_same_length(const VarBit *a, const VarBit *b)
{
	if (VARBITLEN(a) != VARBITLEN(b))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different bit lengths %d and %d",
						VARBITLEN(a), VARBITLEN(b))));
}

double
bit_hamming_distance(const uint8 *a, const uint8 *b, Size nbytes)
{
	return (double) vector_kernels->hamming(a, b, nbytes);
}

double
bit_jaccard_distance(const uint8 *a, const uint8 *b, Size nbytes)
{
	uint64		both,
				either;

	vector_kernels->jaccard_parts(a, b, nbytes, &both, &either);
	if (either == 0)
		return 1.0;
	return 1.0 - (double) both / (double) either;
}

/*
 * hamming_distance(bit, bit) -> float8, operator <~>: the number of
 * positions where the bits differ.  Raises 22000 for different lengths.
 */
PG_FUNCTION_INFO_V1(hamming_distance);
Datum
hamming_distance(PG_FUNCTION_ARGS)
{
	VarBit	   *a = PG_GETARG_VARBIT_P(0);
	VarBit	   *b = PG_GETARG_VARBIT_P(1);

	check_same_length(a, b);
	PG_RETURN_FLOAT8(bit_hamming_distance(VARBITS(a), VARBITS(b), VARBITBYTES(a)));
}

/*
 * jaccard_distance(bit, bit) -> float8 in [0, 1], operator <%>:
 * 1 - |a AND b| / |a OR b| over the 1 bits (Jaccard 1901); 1 when both
 * strings are all zeros (no similarity, as cosine of a zero vector).
 * Raises 22000 for different lengths.
 */
PG_FUNCTION_INFO_V1(jaccard_distance);
Datum
jaccard_distance(PG_FUNCTION_ARGS)
{
	VarBit	   *a = PG_GETARG_VARBIT_P(0);
	VarBit	   *b = PG_GETARG_VARBIT_P(1);

	check_same_length(a, b);
	PG_RETURN_FLOAT8(bit_jaccard_distance(VARBITS(a), VARBITS(b), VARBITBYTES(a)));
}

/*
 * binary_quantize(vector) -> bit(dim): bit i is 1 where element i is
 * positive (greater than 0), 0 elsewhere (zeros and negatives).
 */
PG_FUNCTION_INFO_V1(binary_quantize);
Datum
binary_quantize(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	Size		len = VARBITTOTALLEN(v->dim);
	VarBit	   *r = (VarBit *) palloc0(len);
	bits8	   *bits = VARBITS(r);

	SET_VARSIZE(r, len);
	VARBITLEN(r) = v->dim;
	/* the first element is the high bit of the first byte */
	for (int i = 0; i < v->dim; i++)
		if (v->x[i] > 0)
			bits[i / BITS_PER_BYTE] |= (bits8) (0x80 >> (i % BITS_PER_BYTE));
	PG_RETURN_VARBIT_P(r);
}
