/*-------------------------------------------------------------------------
 *
 * quant_kernels.c
 *	  Portable kernels of the quantization codecs (quant.h) and the choice
 *	  of the kernel set, which follows vsim.distance_kernel.
 *
 * sq8_dot and bits_dot are exact integer sums, so every set agrees bit
 * for bit; sq8_l1 sums in the canonical order of vector.h (lane i % 32,
 * one fmaf per term, fold w = 16, 8, 4, 2, 1), which the SIMD sets in
 * quant_x86.c keep in registers, so it agrees bit for bit too.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "quant/quant.h"

static int64
portable_sq8_dot(const int16 *q, const uint8 *c, int n)
{
	int64		sum = 0;

	for (int i = 0; i < n; i++)
		sum += (int32) q[i] * (int32) c[i];
	return sum;
}

static float
portable_sq8_l1(const float *p, const float *w, const uint8 *c, int n)
{
	float		lane[VECTOR_KERNEL_LANES] = {0};

	for (int i = 0; i < n; i++)
		lane[i % VECTOR_KERNEL_LANES] = fmaf(w[i], fabsf(p[i] - (float) c[i]),
											 lane[i % VECTOR_KERNEL_LANES]);
	for (int width = VECTOR_KERNEL_LANES / 2; width >= 1; width /= 2)
		for (int j = 0; j < width; j++)
			lane[j] += lane[j + width];
	return lane[0];
}

static uint64
portable_bits_dot(const uint8 *planes, int nplanes, const uint8 *bits, int nbytes)
{
	uint64		total = 0;

	for (int j = 0; j < nplanes; j++)
	{
		const uint8 *plane = planes + (Size) j * nbytes;
		uint64		count = 0;

		for (int i = 0; i < nbytes; i += 8)
		{
			uint64		a,
						b;

			memcpy(&a, plane + i, 8);
			memcpy(&b, bits + i, 8);
			count += __builtin_popcountll(a & b);
		}
		total += count << j;
	}
	return total;
}

const QuantKernels quant_kernels_portable = {
	.name = "portable",
	.sq8_dot = portable_sq8_dot,
	.sq8_l1 = portable_sq8_l1,
	.bits_dot = portable_bits_dot,
};

/*
 * The set matching vector_kernels: portable for portable, avx512 for
 * avx512 when the CPU also has AVX-512BW (else avx2), avx2 for avx2.
 */
const QuantKernels *
quant_kernels(void)
{
	const QuantKernels *k = NULL;

	if (vector_kernels == &vector_kernels_portable)
		return &quant_kernels_portable;
	if (vector_kernels == vector_kernels_avx512())
		k = quant_kernels_avx512();
	if (k == NULL)
		k = quant_kernels_avx2();
	return k ? k : &quant_kernels_portable;
}
