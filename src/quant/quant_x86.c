/*-------------------------------------------------------------------------
 *
 * quant_x86.c
 *	  AVX2 and AVX-512 kernels of the quantization codecs (quant.h).
 *
 * As in src/vector/distance_x86.c, each function carries a target
 * attribute, so the library still targets the baseline x86-64 ISA, and
 * quant_kernels() hands them out only after CPUID says they run:
 *	  sq8_dot	AVX2 VPMADDWD on 16 codes at a time; AVX-512BW on 32, with
 *				VPDPWSSD where the CPU has AVX512_VNNI.  int32 lanes are
 *				flushed to int64 every 1,024 elements (a lane then holds at
 *				most 64 * 2 * 255 * 32767 < 2^31), so the sum is exact.
 *	  sq8_l1	float, in the canonical 32-lane order of vector.h (AVX2:
 *				four 8-lane registers, AVX-512: two 16-lane ones).
 *	  bits_dot	AVX2: nibble-table popcount (VPSHUFB, then VPSADBW), as in
 *				Mula, Kurz & Lemire, "Faster Population Counts Using AVX2
 *				Instructions", Computer Journal 61(1), 2018; AVX-512:
 *				VPOPCNTDQ where present, else the AVX2 kernel.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "quant/quant.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define VSIM_HAVE_X86_KERNELS 1
#include <immintrin.h>
#endif

#ifdef VSIM_HAVE_X86_KERNELS

#define AVX2_TARGET __attribute__((target("avx2,fma,popcnt")))
#define AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,popcnt")))
#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,popcnt")))
#define VPOPCNT_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vpopcntdq,avx2,fma,popcnt")))

/* elements per int32 flush of sq8_dot (see the file header) */
#define SQ8_DOT_CHUNK 1024

/* sum of the eight int32 lanes of v, widened to int64 */
AVX2_TARGET static inline int64
hsum_epi32_avx2(__m256i v)
{
	__m256i		w = _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(v)),
									 _mm256_cvtepi32_epi64(_mm256_extracti128_si256(v, 1)));
	__m128i		s = _mm_add_epi64(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));

	return _mm_cvtsi128_si64(s) + _mm_extract_epi64(s, 1);
}

AVX2_TARGET static int64
avx2_sq8_dot(const int16 *q, const uint8 *c, int n)
{
	int64		total = 0;
	int			i = 0;

	for (int base = 0; base < n; base += SQ8_DOT_CHUNK)
	{
		int			lim = Min(n, base + SQ8_DOT_CHUNK);
		__m256i		acc = _mm256_setzero_si256();

		for (i = base; i + 16 <= lim; i += 16)
		{
			__m256i		cv = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *) (c + i)));
			__m256i		qv = _mm256_loadu_si256((const __m256i *) (q + i));

			acc = _mm256_add_epi32(acc, _mm256_madd_epi16(qv, cv));
		}
		total += hsum_epi32_avx2(acc);
	}
	/* chunks are multiples of 16, so only the last one leaves a tail */
	for (; i < n; i++)
		total += (int32) q[i] * (int32) c[i];
	return total;
}

/* AVX2 mask of the first `left` lanes (0 <= left <= 8) of a block of 8 */
AVX2_TARGET static inline __m256i
mask8(int left)
{
	static const int32 ones[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

	return _mm256_loadu_si256((const __m256i *) (ones + 8 - left));
}

/* floats [i, i + 8) of x, zero past n */
AVX2_TARGET static inline __m256
load8f(const float *x, int i, int n)
{
	if (i + 8 <= n)
		return _mm256_loadu_ps(x + i);
	return _mm256_maskload_ps(x + i, mask8(Max(0, n - i)));
}

/* codes [i, i + 8) of c as floats, zero past n */
AVX2_TARGET static inline __m256
load8c(const uint8 *c, int i, int n)
{
	__m128i		b;

	if (i + 8 <= n)
		b = _mm_loadl_epi64((const __m128i *) (c + i));
	else
	{
		uint8		tmp[16] = {0};

		if (n > i)
			memcpy(tmp, c + i, n - i);
		b = _mm_loadu_si128((const __m128i *) tmp);
	}
	return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b));
}

/* the canonical fold (vector.h) of 32 lanes in four 8-lane registers */
AVX2_TARGET static inline float
fold32_avx2(const __m256 *r)
{
	__m256		v = _mm256_add_ps(_mm256_add_ps(r[0], r[2]), _mm256_add_ps(r[1], r[3]));
	__m128		lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));

	lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
	lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
	return _mm_cvtss_f32(lo);
}

AVX2_TARGET static float
avx2_sq8_l1(const float *p, const float *w, const uint8 *c, int n)
{
	const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
	__m256		r[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(),
	_mm256_setzero_ps(), _mm256_setzero_ps()};

	for (int i = 0; i < n; i += 32)
		for (int k = 0; k < 4; k++)
		{
			int			j = i + 8 * k;
			__m256		d = _mm256_sub_ps(load8f(p, j, n), load8c(c, j, n));

			r[k] = _mm256_fmadd_ps(load8f(w, j, n), _mm256_and_ps(d, absmask), r[k]);
		}
	return fold32_avx2(r);
}

/* number of 1 bits in each 64-bit lane of v (nibble table, then VPSADBW) */
AVX2_TARGET static inline __m256i
popcount_epi64_avx2(__m256i v)
{
	const __m256i table = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
										   0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
	const __m256i low4 = _mm256_set1_epi8(0x0f);
	__m256i		lo = _mm256_shuffle_epi8(table, _mm256_and_si256(v, low4));
	__m256i		hi = _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(v, 4), low4));

	return _mm256_sad_epu8(_mm256_add_epi8(lo, hi), _mm256_setzero_si256());
}

AVX2_TARGET static uint64
avx2_bits_dot(const uint8 *planes, int nplanes, const uint8 *bits, int nbytes)
{
	uint64		total = 0;

	for (int j = 0; j < nplanes; j++)
	{
		const uint8 *plane = planes + (Size) j * nbytes;
		__m256i		acc = _mm256_setzero_si256();
		uint64		count;
		int			i;

		for (i = 0; i + 32 <= nbytes; i += 32)
		{
			__m256i		a = _mm256_loadu_si256((const __m256i *) (plane + i));
			__m256i		b = _mm256_loadu_si256((const __m256i *) (bits + i));

			acc = _mm256_add_epi64(acc, popcount_epi64_avx2(_mm256_and_si256(a, b)));
		}
		count = (uint64) _mm256_extract_epi64(acc, 0) + (uint64) _mm256_extract_epi64(acc, 1) +
			(uint64) _mm256_extract_epi64(acc, 2) + (uint64) _mm256_extract_epi64(acc, 3);
		for (; i < nbytes; i += 8)
		{
			uint64		a,
						b;

			memcpy(&a, plane + i, 8);
			memcpy(&b, bits + i, 8);
			count += _mm_popcnt_u64(a & b);
		}
		total += count << j;
	}
	return total;
}

static const QuantKernels avx2_kernels = {
	.name = "avx2",
	.sq8_dot = avx2_sq8_dot,
	.sq8_l1 = avx2_sq8_l1,
	.bits_dot = avx2_bits_dot,
};

/* ---------------------------------------------------------------------
 * AVX-512
 * ---------------------------------------------------------------------
 */

/* mask of the elements of [i, i + width) below n */
#define TAIL_MASK(i, n, width) \
	((n) - (i) >= (width) ? ~(uint64) 0 >> (64 - (width)) : ((uint64) 1 << ((n) - (i))) - 1)

AVX512_TARGET static int64
avx512_sq8_dot(const int16 *q, const uint8 *c, int n)
{
	int64		total = 0;

	for (int base = 0; base < n; base += SQ8_DOT_CHUNK)
	{
		int			lim = Min(n, base + SQ8_DOT_CHUNK);
		__m512i		acc = _mm512_setzero_si512();

		for (int i = base; i < lim; i += 32)
		{
			__mmask32	m = (__mmask32) TAIL_MASK(i, lim, 32);
			__m512i		cv = _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(m, c + i));
			__m512i		qv = _mm512_maskz_loadu_epi16(m, q + i);

			acc = _mm512_add_epi32(acc, _mm512_madd_epi16(qv, cv));
		}
		total += _mm512_reduce_add_epi64(_mm512_add_epi64(
															_mm512_cvtepi32_epi64(_mm512_castsi512_si256(acc)),
															_mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(acc, 1))));
	}
	return total;
}

VNNI_TARGET static int64
vnni_sq8_dot(const int16 *q, const uint8 *c, int n)
{
	int64		total = 0;

	for (int base = 0; base < n; base += SQ8_DOT_CHUNK)
	{
		int			lim = Min(n, base + SQ8_DOT_CHUNK);
		__m512i		acc = _mm512_setzero_si512();

		for (int i = base; i < lim; i += 32)
		{
			__mmask32	m = (__mmask32) TAIL_MASK(i, lim, 32);
			__m512i		cv = _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(m, c + i));
			__m512i		qv = _mm512_maskz_loadu_epi16(m, q + i);

			acc = _mm512_dpwssd_epi32(acc, qv, cv);
		}
		total += _mm512_reduce_add_epi64(_mm512_add_epi64(
															_mm512_cvtepi32_epi64(_mm512_castsi512_si256(acc)),
															_mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(acc, 1))));
	}
	return total;
}

AVX512_TARGET static float
avx512_sq8_l1(const float *p, const float *w, const uint8 *c, int n)
{
	__m512		r[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
	__m256		v;
	__m128		lo;

	for (int i = 0; i < n; i += 32)
		for (int k = 0; k < 2; k++)
		{
			int			j = i + 16 * k;
			__mmask16	m = (__mmask16) (j < n ? TAIL_MASK(j, n, 16) : 0);
			__m512		cv = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, c + j)));
			__m512		d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, p + j), cv);

			r[k] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w + j),
								   _mm512_abs_ps(d), r[k]);
		}
	/* fold w = 16 (r0 + r1), 8 (the two halves), then 4, 2, 1 */
	{
		__m512		s = _mm512_add_ps(r[0], r[1]);

		v = _mm256_add_ps(_mm512_castps512_ps256(s),
						  _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(s), 1)));
	}
	lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
	lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
	return _mm_cvtss_f32(lo);
}

VPOPCNT_TARGET static uint64
vpopcnt_bits_dot(const uint8 *planes, int nplanes, const uint8 *bits, int nbytes)
{
	uint64		total = 0;

	for (int j = 0; j < nplanes; j++)
	{
		const uint8 *plane = planes + (Size) j * nbytes;
		__m512i		acc = _mm512_setzero_si512();

		for (int i = 0; i < nbytes; i += 64)
		{
			__mmask64	m = TAIL_MASK(i, nbytes, 64);
			__m512i		a = _mm512_maskz_loadu_epi8(m, plane + i);
			__m512i		b = _mm512_maskz_loadu_epi8(m, bits + i);

			acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_and_si512(a, b)));
		}
		total += (uint64) _mm512_reduce_add_epi64(acc) << j;
	}
	return total;
}

static QuantKernels avx512_kernels = {
	.name = "avx512",
	.sq8_dot = avx512_sq8_dot,
	.sq8_l1 = avx512_sq8_l1,
	.bits_dot = avx2_bits_dot,
};

const QuantKernels *
quant_kernels_avx2(void)
{
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
		__builtin_cpu_supports("popcnt"))
		return &avx2_kernels;
	return NULL;
}

/*
 * AVX-512F+BW+VL for the set; VNNI and VPOPCNTDQ replace a kernel each
 * where present (decided once, the CPU does not change).
 */
const QuantKernels *
quant_kernels_avx512(void)
{
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
		!__builtin_cpu_supports("avx512vl") || quant_kernels_avx2() == NULL)
		return NULL;
	if (__builtin_cpu_supports("avx512vnni"))
	{
		avx512_kernels.sq8_dot = vnni_sq8_dot;
		avx512_kernels.name = "avx512 (vnni)";
	}
	if (__builtin_cpu_supports("avx512vpopcntdq"))
		avx512_kernels.bits_dot = vpopcnt_bits_dot;
	return &avx512_kernels;
}

#else							/* !VSIM_HAVE_X86_KERNELS */

const QuantKernels *
quant_kernels_avx2(void)
{
	return NULL;
}

const QuantKernels *
quant_kernels_avx512(void)
{
	return NULL;
}

#endif
