/*-------------------------------------------------------------------------
 *
 * distance_x86.c
 *	  AVX2/FMA and AVX-512 distance kernels.
 *
 * Each function is compiled for its instruction set with a target
 * attribute, so the shared library as a whole still targets the baseline
 * x86-64 ISA; distance.c calls these only after CPUID says they will run.
 * Tails shorter than a register are handled with masked loads (AVX-512) or
 * a scalar loop (AVX2), so any length is exact.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "vector/vector.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define VSIM_HAVE_X86_KERNELS 1
#include <immintrin.h>
#endif

#ifdef VSIM_HAVE_X86_KERNELS

#define AVX2_TARGET __attribute__((target("avx2,fma")))
#define AVX512_TARGET __attribute__((target("avx512f,avx2,fma")))

/* horizontal sum of 8 lanes */
AVX2_TARGET static inline float
hsum256(__m256 v)
{
	__m128		lo = _mm256_castps256_ps128(v);
	__m128		hi = _mm256_extractf128_ps(v, 1);

	lo = _mm_add_ps(lo, hi);
	lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
	lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
	return _mm_cvtss_f32(lo);
}

AVX2_TARGET static float
avx2_l2_squared(const float *a, const float *b, int n)
{
	__m256		s0 = _mm256_setzero_ps(),
				s1 = _mm256_setzero_ps();
	int			i = 0;
	float		tail = 0;

	for (; i + 16 <= n; i += 16)
	{
		__m256		d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
		__m256		d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));

		s0 = _mm256_fmadd_ps(d0, d0, s0);
		s1 = _mm256_fmadd_ps(d1, d1, s1);
	}
	for (; i + 8 <= n; i += 8)
	{
		__m256		d = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));

		s0 = _mm256_fmadd_ps(d, d, s0);
	}
	for (; i < n; i++)
	{
		float		d = a[i] - b[i];

		tail += d * d;
	}
	return hsum256(_mm256_add_ps(s0, s1)) + tail;
}

AVX2_TARGET static float
avx2_inner_product(const float *a, const float *b, int n)
{
	__m256		s0 = _mm256_setzero_ps(),
				s1 = _mm256_setzero_ps();
	int			i = 0;
	float		tail = 0;

	for (; i + 16 <= n; i += 16)
	{
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
		s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
	}
	for (; i + 8 <= n; i += 8)
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
	for (; i < n; i++)
		tail += a[i] * b[i];
	return hsum256(_mm256_add_ps(s0, s1)) + tail;
}

AVX2_TARGET static float
avx2_l1(const float *a, const float *b, int n)
{
	const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
	__m256		s0 = _mm256_setzero_ps(),
				s1 = _mm256_setzero_ps();
	int			i = 0;
	float		tail = 0;

	for (; i + 16 <= n; i += 16)
	{
		__m256		d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
		__m256		d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));

		s0 = _mm256_add_ps(s0, _mm256_and_ps(d0, absmask));
		s1 = _mm256_add_ps(s1, _mm256_and_ps(d1, absmask));
	}
	for (; i + 8 <= n; i += 8)
	{
		__m256		d = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));

		s0 = _mm256_add_ps(s0, _mm256_and_ps(d, absmask));
	}
	for (; i < n; i++)
		tail += fabsf(a[i] - b[i]);
	return hsum256(_mm256_add_ps(s0, s1)) + tail;
}

AVX2_TARGET static void
avx2_cosine_parts(const float *a, const float *b, int n,
				  float *dot, float *aa, float *bb)
{
	__m256		sd = _mm256_setzero_ps(),
				sa = _mm256_setzero_ps(),
				sb = _mm256_setzero_ps();
	int			i = 0;
	float		td = 0,
				ta = 0,
				tb = 0;

	for (; i + 8 <= n; i += 8)
	{
		__m256		va = _mm256_loadu_ps(a + i);
		__m256		vb = _mm256_loadu_ps(b + i);

		sd = _mm256_fmadd_ps(va, vb, sd);
		sa = _mm256_fmadd_ps(va, va, sa);
		sb = _mm256_fmadd_ps(vb, vb, sb);
	}
	for (; i < n; i++)
	{
		td += a[i] * b[i];
		ta += a[i] * a[i];
		tb += b[i] * b[i];
	}
	*dot = hsum256(sd) + td;
	*aa = hsum256(sa) + ta;
	*bb = hsum256(sb) + tb;
}

static const VectorKernels avx2_kernels = {
	.name = "avx2",
	.l2_squared = avx2_l2_squared,
	.inner_product = avx2_inner_product,
	.l1 = avx2_l1,
	.cosine_parts = avx2_cosine_parts,
};

/* mask selecting the first `left` (< 16) lanes */
#define TAIL_MASK(left) ((__mmask16) ((1u << (left)) - 1))

AVX512_TARGET static float
avx512_l2_squared(const float *a, const float *b, int n)
{
	__m512		s0 = _mm512_setzero_ps(),
				s1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		__m512		d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
		__m512		d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));

		s0 = _mm512_fmadd_ps(d0, d0, s0);
		s1 = _mm512_fmadd_ps(d1, d1, s1);
	}
	for (; i < n; i += 16)
	{
		__mmask16	m = (n - i >= 16) ? (__mmask16) 0xFFFF : TAIL_MASK(n - i);
		__m512		d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i),
									  _mm512_maskz_loadu_ps(m, b + i));

		s0 = _mm512_fmadd_ps(d, d, s0);
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

AVX512_TARGET static float
avx512_inner_product(const float *a, const float *b, int n)
{
	__m512		s0 = _mm512_setzero_ps(),
				s1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
		s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
	}
	for (; i < n; i += 16)
	{
		__mmask16	m = (n - i >= 16) ? (__mmask16) 0xFFFF : TAIL_MASK(n - i);

		s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i),
							 _mm512_maskz_loadu_ps(m, b + i), s0);
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

AVX512_TARGET static float
avx512_l1(const float *a, const float *b, int n)
{
	__m512		s0 = _mm512_setzero_ps(),
				s1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		s0 = _mm512_add_ps(s0, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i),
														   _mm512_loadu_ps(b + i))));
		s1 = _mm512_add_ps(s1, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i + 16),
														   _mm512_loadu_ps(b + i + 16))));
	}
	for (; i < n; i += 16)
	{
		__mmask16	m = (n - i >= 16) ? (__mmask16) 0xFFFF : TAIL_MASK(n - i);

		s0 = _mm512_add_ps(s0, _mm512_abs_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i),
														   _mm512_maskz_loadu_ps(m, b + i))));
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

AVX512_TARGET static void
avx512_cosine_parts(const float *a, const float *b, int n,
					float *dot, float *aa, float *bb)
{
	__m512		sd = _mm512_setzero_ps(),
				sa = _mm512_setzero_ps(),
				sb = _mm512_setzero_ps();

	for (int i = 0; i < n; i += 16)
	{
		__mmask16	m = (n - i >= 16) ? (__mmask16) 0xFFFF : TAIL_MASK(n - i);
		__m512		va = _mm512_maskz_loadu_ps(m, a + i);
		__m512		vb = _mm512_maskz_loadu_ps(m, b + i);

		sd = _mm512_fmadd_ps(va, vb, sd);
		sa = _mm512_fmadd_ps(va, va, sa);
		sb = _mm512_fmadd_ps(vb, vb, sb);
	}
	*dot = _mm512_reduce_add_ps(sd);
	*aa = _mm512_reduce_add_ps(sa);
	*bb = _mm512_reduce_add_ps(sb);
}

static const VectorKernels avx512_kernels = {
	.name = "avx512",
	.l2_squared = avx512_l2_squared,
	.inner_product = avx512_inner_product,
	.l1 = avx512_l1,
	.cosine_parts = avx512_cosine_parts,
};

/*
 * __builtin_cpu_supports also checks that the OS saves the wider register
 * state (XGETBV), so a true answer means the code will run.
 */
const VectorKernels *
vector_kernels_avx2(void)
{
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		return &avx2_kernels;
	return NULL;
}

const VectorKernels *
vector_kernels_avx512(void)
{
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
		__builtin_cpu_supports("fma"))
		return &avx512_kernels;
	return NULL;
}

#else							/* !VSIM_HAVE_X86_KERNELS */

const VectorKernels *
vector_kernels_avx2(void)
{
	return NULL;
}

const VectorKernels *
vector_kernels_avx512(void)
{
	return NULL;
}

#endif
