/*-------------------------------------------------------------------------
 *
 * distance_x86.c
 *	  AVX2/FMA and AVX-512 distance kernels over float and (widened with
 *	  F16C / AVX-512F conversions) binary16 elements, and the POPCNT and
 *	  AVX-512 VPOPCNTDQ bit-string kernels of bitvec.c.
 *
 * Each function is compiled for its instruction set with a target
 * attribute, so the shared library as a whole still targets the baseline
 * x86-64 ISA; distance.c calls these only after CPUID says they will run.
 * Both sum in the canonical order of vector.h (32 lanes, one fused
 * multiply-add per term, a fixed folding tree), so they return the same bits
 * as the portable kernels; the last, partial block of 32 is read with masked
 * loads.
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

#define AVX2_TARGET __attribute__((target("avx2,fma,f16c")))
#define AVX512_TARGET __attribute__((target("avx512f,avx2,fma,f16c")))
#define POPCNT_TARGET __attribute__((target("popcnt")))
#define VPOPCNT_TARGET __attribute__((target("avx512f,avx512bw,avx512vpopcntdq,popcnt")))

/*
 * Unroll the loop over a block's registers: the accumulators r[k] then
 * stay in registers.  Left rolled (gcc -O2 does not unroll it), they live
 * on the stack and every step waits for a store to reach the next load:
 * measured as 17% of an HNSW build's samples on the accumulator's store.
 */
#if defined(__clang__)
#define UNROLL_LANES _Pragma("unroll")
#else
#define UNROLL_LANES _Pragma("GCC unroll 4")
#endif

/*
 * The canonical order (vector.h) with 32 lanes: AVX2 keeps them in four
 * 8-lane registers r[0..3] (lanes 0-7, 8-15, 16-23, 24-31), AVX-512 in two
 * 16-lane registers.  A block of 32 elements goes lane by lane; the last,
 * partial block is read with masked loads, whose zero lanes add +0, which
 * leaves a lane unchanged (a lane never holds -0: it starts at +0, and a sum
 * is -0 only when both terms are).
 */

/* lanes 0-7 of the fold after w = 16 and 8 are done: fold w = 4, 2, 1 */
AVX2_TARGET static inline float
fold8(__m256 v)
{
	__m128		lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));

	lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
	lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
	return _mm_cvtss_f32(lo);
}

/* the 32 lanes in four AVX2 registers: fold w = 16 (r0+r2, r1+r3), 8, ... */
AVX2_TARGET static inline float
fold32_avx2(const __m256 *r)
{
	return fold8(_mm256_add_ps(_mm256_add_ps(r[0], r[2]), _mm256_add_ps(r[1], r[3])));
}

/* AVX2 mask of the first `left` lanes (0 <= left <= 8) of a block of 8 */
AVX2_TARGET static inline __m256i
mask8(int left)
{
	static const int32 ones[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

	return _mm256_loadu_si256((const __m256i *) (ones + 8 - left));
}

/* elements [i, i + 8) of x as lanes, zero past n */
AVX2_TARGET static inline __m256
load8(const float *x, int i, int n)
{
	if (i + 8 <= n)
		return _mm256_loadu_ps(x + i);
	return _mm256_maskload_ps(x + i, mask8(Max(0, n - i)));
}

/*
 * Half-precision input: halves [i, i + 8) widened to float lanes with F16C
 * (exact), zero past n; the partial block goes through a zeroed copy, as
 * AVX2 has no masked 16-bit load.  The kernels below then do the float
 * kernels' arithmetic on them, so the same bits.
 */
AVX2_TARGET static inline __m256
load8h(const uint16 *x, int i, int n)
{
	uint16		tail[8] = {0};

	if (i + 8 <= n)
		return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) (x + i)));
	if (i < n)
		memcpy(tail, x + i, sizeof(uint16) * (n - i));
	return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) tail));
}

/*
 * The AVX2 kernels are written once over elements that are floats or (half
 * true) binary16 values; each is inlined into the two entry points below
 * with `half` a constant, so the test on it compiles away.  Each kernel's
 * loop runs over the whole blocks of 32 with plain loads (`whole`, a
 * constant too), then once over the partial block, if any, with the masked
 * ones: the lanes and their order are those of a single loop over all
 * blocks, so are the bits.  A single loop testing every load for the end
 * took 3 times the instructions (scalar index and mask work per load).
 */
AVX2_TARGET static pg_attribute_always_inline __m256
load8_any(const void *x, bool half, int i, int n, bool whole)
{
	if (whole)
		return half ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) ((const uint16 *) x + i))) :
			_mm256_loadu_ps((const float *) x + i);
	return half ? load8h((const uint16 *) x, i, n) : load8((const float *) x, i, n);
}

/* one block of 32 elements of each kernel, into its accumulators */
AVX2_TARGET static pg_attribute_always_inline void
avx2_l2_block(__m256 *r, const void *a, const void *b, int i, int n, bool half,
			  bool whole)
{
	UNROLL_LANES
	for (int k = 0; k < 4; k++)
	{
		__m256		d = _mm256_sub_ps(load8_any(a, half, i + 8 * k, n, whole),
									  load8_any(b, half, i + 8 * k, n, whole));

		r[k] = _mm256_fmadd_ps(d, d, r[k]);
	}
}

AVX2_TARGET static pg_attribute_always_inline void
avx2_ip_block(__m256 *r, const void *a, const void *b, int i, int n, bool half,
			  bool whole)
{
	UNROLL_LANES
	for (int k = 0; k < 4; k++)
		r[k] = _mm256_fmadd_ps(load8_any(a, half, i + 8 * k, n, whole),
							   load8_any(b, half, i + 8 * k, n, whole), r[k]);
}

AVX2_TARGET static pg_attribute_always_inline void
avx2_l1_block(__m256 *r, const void *a, const void *b, int i, int n, bool half,
			  bool whole)
{
	const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));

	UNROLL_LANES
	for (int k = 0; k < 4; k++)
	{
		__m256		d = _mm256_sub_ps(load8_any(a, half, i + 8 * k, n, whole),
									  load8_any(b, half, i + 8 * k, n, whole));

		r[k] = _mm256_add_ps(r[k], _mm256_and_ps(d, absmask));
	}
}

AVX2_TARGET static pg_attribute_always_inline void
avx2_cosine_block(__m256 *rd, __m256 *ra, __m256 *rb, const void *a, const void *b,
				  int i, int n, bool half, bool whole)
{
	UNROLL_LANES
	for (int k = 0; k < 4; k++)
	{
		__m256		va = load8_any(a, half, i + 8 * k, n, whole);
		__m256		vb = load8_any(b, half, i + 8 * k, n, whole);

		rd[k] = _mm256_fmadd_ps(va, vb, rd[k]);
		ra[k] = _mm256_fmadd_ps(va, va, ra[k]);
		rb[k] = _mm256_fmadd_ps(vb, vb, rb[k]);
	}
}

AVX2_TARGET static pg_attribute_always_inline float
avx2_l2_squared_any(const void *a, const void *b, int n, bool half)
{
	__m256		r[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(),
	_mm256_setzero_ps(), _mm256_setzero_ps()};
	int			i;

	for (i = 0; i + 32 <= n; i += 32)
		avx2_l2_block(r, a, b, i, n, half, true);
	if (i < n)
		avx2_l2_block(r, a, b, i, n, half, false);
	return fold32_avx2(r);
}

/*
 * l2_squared_below (vector.h), floats only; the AVX-512 set uses it too (it
 * returns the same bits, and the bound makes the search that uses it bound
 * by memory rather than arithmetic)
 */
AVX2_TARGET static float
avx2_l2_squared_below(const float *a, const float *b, int n, float bound)
{
	__m256		r[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(),
	_mm256_setzero_ps(), _mm256_setzero_ps()};
	int			i;

	for (i = 0; i + 32 <= n; i += 32)
	{
		if (i > 0 && i % VECTOR_KERNEL_BOUND_STEP == 0)
		{
			float		part = fold32_avx2(r);

			if (part >= bound)
				return part;
		}
		avx2_l2_block(r, a, b, i, n, false, true);
	}
	if (i < n)
		avx2_l2_block(r, a, b, i, n, false, false);
	return fold32_avx2(r);
}

AVX2_TARGET static pg_attribute_always_inline float
avx2_inner_product_any(const void *a, const void *b, int n, bool half)
{
	__m256		r[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(),
	_mm256_setzero_ps(), _mm256_setzero_ps()};
	int			i;

	for (i = 0; i + 32 <= n; i += 32)
		avx2_ip_block(r, a, b, i, n, half, true);
	if (i < n)
		avx2_ip_block(r, a, b, i, n, half, false);
	return fold32_avx2(r);
}

AVX2_TARGET static pg_attribute_always_inline float
avx2_l1_any(const void *a, const void *b, int n, bool half)
{
	__m256		r[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(),
	_mm256_setzero_ps(), _mm256_setzero_ps()};
	int			i;

	for (i = 0; i + 32 <= n; i += 32)
		avx2_l1_block(r, a, b, i, n, half, true);
	if (i < n)
		avx2_l1_block(r, a, b, i, n, half, false);
	return fold32_avx2(r);
}

AVX2_TARGET static pg_attribute_always_inline void
avx2_cosine_parts_any(const void *a, const void *b, int n, bool half,
					  float *dot, float *aa, float *bb)
{
	__m256		rd[4],
				ra[4],
				rb[4];
	int			i;

	UNROLL_LANES
	for (int k = 0; k < 4; k++)
		rd[k] = ra[k] = rb[k] = _mm256_setzero_ps();
	for (i = 0; i + 32 <= n; i += 32)
		avx2_cosine_block(rd, ra, rb, a, b, i, n, half, true);
	if (i < n)
		avx2_cosine_block(rd, ra, rb, a, b, i, n, half, false);
	*dot = fold32_avx2(rd);
	*aa = fold32_avx2(ra);
	*bb = fold32_avx2(rb);
}

/*
 * The entry points of one instruction set, float and half, from the
 * kernels above (prefix avx2_ or avx512_).
 */
#define X86_KERNEL_ENTRY_POINTS(TARGET, prefix) \
	TARGET static float \
	prefix##l2_squared(const float *a, const float *b, int n) \
	{ \
		return prefix##l2_squared_any(a, b, n, false); \
	} \
	TARGET static float \
	prefix##l2_squared_half(const uint16 *a, const uint16 *b, int n) \
	{ \
		return prefix##l2_squared_any(a, b, n, true); \
	} \
	TARGET static float \
	prefix##inner_product(const float *a, const float *b, int n) \
	{ \
		return prefix##inner_product_any(a, b, n, false); \
	} \
	TARGET static float \
	prefix##inner_product_half(const uint16 *a, const uint16 *b, int n) \
	{ \
		return prefix##inner_product_any(a, b, n, true); \
	} \
	TARGET static float \
	prefix##l1(const float *a, const float *b, int n) \
	{ \
		return prefix##l1_any(a, b, n, false); \
	} \
	TARGET static float \
	prefix##l1_half(const uint16 *a, const uint16 *b, int n) \
	{ \
		return prefix##l1_any(a, b, n, true); \
	} \
	TARGET static void \
	prefix##cosine_parts(const float *a, const float *b, int n, \
						 float *dot, float *aa, float *bb) \
	{ \
		prefix##cosine_parts_any(a, b, n, false, dot, aa, bb); \
	} \
	TARGET static void \
	prefix##cosine_parts_half(const uint16 *a, const uint16 *b, int n, \
							  float *dot, float *aa, float *bb) \
	{ \
		prefix##cosine_parts_any(a, b, n, true, dot, aa, bb); \
	} \
	extern int	no_such_variable

X86_KERNEL_ENTRY_POINTS(AVX2_TARGET, avx2_);

/*
 * Bit kernels with the POPCNT instruction (every AVX2 CPU has it): 8 bytes
 * a step, the last partial word zero-padded.
 */
POPCNT_TARGET static inline uint64
load_word(const uint8 *x, Size i, Size n)
{
	uint64		w = 0;

	/* a constant-size copy is one load; only the last word is shorter */
	if (n - i >= sizeof(uint64))
		memcpy(&w, x + i, sizeof(uint64));
	else
		memcpy(&w, x + i, n - i);
	return w;
}

POPCNT_TARGET static uint64
popcnt_hamming(const uint8 *a, const uint8 *b, Size n)
{
	uint64		count = 0;

	for (Size i = 0; i < n; i += sizeof(uint64))
		count += _mm_popcnt_u64(load_word(a, i, n) ^ load_word(b, i, n));
	return count;
}

POPCNT_TARGET static void
popcnt_jaccard_parts(const uint8 *a, const uint8 *b, Size n,
					 uint64 *both, uint64 *either)
{
	uint64		and_count = 0,
				or_count = 0;

	for (Size i = 0; i < n; i += sizeof(uint64))
	{
		uint64		x = load_word(a, i, n),
					y = load_word(b, i, n);

		and_count += _mm_popcnt_u64(x & y);
		or_count += _mm_popcnt_u64(x | y);
	}
	*both = and_count;
	*either = or_count;
}

static const VectorKernels avx2_kernels = {
	.name = "avx2",
	.l2_squared = avx2_l2_squared,
	.l2_squared_below = avx2_l2_squared_below,
	.inner_product = avx2_inner_product,
	.l1 = avx2_l1,
	.cosine_parts = avx2_cosine_parts,
	.l2_squared_half = avx2_l2_squared_half,
	.inner_product_half = avx2_inner_product_half,
	.l1_half = avx2_l1_half,
	.cosine_parts_half = avx2_cosine_parts_half,
	.hamming = popcnt_hamming,
	.jaccard_parts = popcnt_jaccard_parts,
};

/* the 32 lanes in two AVX-512 registers: fold w = 16 (r0+r1), then 8, ... */
AVX512_TARGET static inline float
fold32_avx512(__m512 r0, __m512 r1)
{
	__m512		t = _mm512_add_ps(r0, r1);

	/* the upper 8 lanes through a 64-bit extract: AVX512F alone has no
	 * 32-bit one */
	__m256		hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(t), 1));

	return fold8(_mm256_add_ps(_mm512_castps512_ps256(t), hi));
}

/* mask of the elements [i, i + 16) below n */
AVX512_TARGET static inline __mmask16
mask16(int i, int n)
{
	int			left = n - i;

	if (left >= 16)
		return (__mmask16) 0xFFFF;
	return left <= 0 ? 0 : (__mmask16) ((1u << left) - 1);
}

/*
 * elements [i, i + 16) of x as lanes, zero past n; a whole block without
 * a mask (a branch that every block but the last takes costs less than
 * building the mask: 47.5 against 51 ns per 784-d l2 distance, measured on
 * vectors in L2 cache)
 */
AVX512_TARGET static inline __m512
load16(const float *x, int i, int n)
{
	if (i + 16 <= n)
		return _mm512_loadu_ps(x + i);
	return _mm512_maskz_loadu_ps(mask16(i, n), x + i);
}

/*
 * Half-precision input: halves [i, i + 16) widened to float lanes with the
 * AVX-512F conversion (exact), zero past n; the partial block goes through
 * a zeroed copy (a masked 16-bit load would need AVX512BW).
 */
AVX512_TARGET static inline __m512
load16h(const uint16 *x, int i, int n)
{
	uint16		tail[16] = {0};

	if (i + 16 <= n)
		return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *) (x + i)));
	if (i < n)
		memcpy(tail, x + i, sizeof(uint16) * (n - i));
	return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *) tail));
}

/* The AVX-512 kernels, over floats or halves as the AVX2 ones above. */
AVX512_TARGET static pg_attribute_always_inline __m512
load16_any(const void *x, bool half, int i, int n)
{
	return half ? load16h((const uint16 *) x, i, n) : load16((const float *) x, i, n);
}

AVX512_TARGET static pg_attribute_always_inline float
avx512_l2_squared_any(const void *a, const void *b, int n, bool half)
{
	__m512		r[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};

	for (int i = 0; i < n; i += 32)
		UNROLL_LANES
		for (int k = 0; k < 2; k++)
		{
			__m512		d = _mm512_sub_ps(load16_any(a, half, i + 16 * k, n),
										  load16_any(b, half, i + 16 * k, n));

			r[k] = _mm512_fmadd_ps(d, d, r[k]);
		}
	return fold32_avx512(r[0], r[1]);
}

AVX512_TARGET static pg_attribute_always_inline float
avx512_inner_product_any(const void *a, const void *b, int n, bool half)
{
	__m512		r[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};

	for (int i = 0; i < n; i += 32)
		UNROLL_LANES
		for (int k = 0; k < 2; k++)
			r[k] = _mm512_fmadd_ps(load16_any(a, half, i + 16 * k, n),
								   load16_any(b, half, i + 16 * k, n), r[k]);
	return fold32_avx512(r[0], r[1]);
}

AVX512_TARGET static pg_attribute_always_inline float
avx512_l1_any(const void *a, const void *b, int n, bool half)
{
	__m512		r[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};

	for (int i = 0; i < n; i += 32)
		UNROLL_LANES
		for (int k = 0; k < 2; k++)
			r[k] = _mm512_add_ps(r[k],
								 _mm512_abs_ps(_mm512_sub_ps(load16_any(a, half, i + 16 * k, n),
															 load16_any(b, half, i + 16 * k, n))));
	return fold32_avx512(r[0], r[1]);
}

AVX512_TARGET static pg_attribute_always_inline void
avx512_cosine_parts_any(const void *a, const void *b, int n, bool half,
						float *dot, float *aa, float *bb)
{
	__m512		rd[2],
				ra[2],
				rb[2];

	UNROLL_LANES
	for (int k = 0; k < 2; k++)
		rd[k] = ra[k] = rb[k] = _mm512_setzero_ps();
	for (int i = 0; i < n; i += 32)
		UNROLL_LANES
		for (int k = 0; k < 2; k++)
		{
			__m512		va = load16_any(a, half, i + 16 * k, n);
			__m512		vb = load16_any(b, half, i + 16 * k, n);

			rd[k] = _mm512_fmadd_ps(va, vb, rd[k]);
			ra[k] = _mm512_fmadd_ps(va, va, ra[k]);
			rb[k] = _mm512_fmadd_ps(vb, vb, rb[k]);
		}
	*dot = fold32_avx512(rd[0], rd[1]);
	*aa = fold32_avx512(ra[0], ra[1]);
	*bb = fold32_avx512(rb[0], rb[1]);
}

X86_KERNEL_ENTRY_POINTS(AVX512_TARGET, avx512_);

/*
 * Bit kernels with AVX-512 VPOPCNTDQ: 64 bytes a step in eight 64-bit
 * counts, the last partial block read with a byte mask (AVX512BW).
 */
VPOPCNT_TARGET static inline __mmask64
mask64(Size i, Size n)
{
	Size		left = n - i;

	return left >= 64 ? ~(__mmask64) 0 : (((__mmask64) 1) << left) - 1;
}

VPOPCNT_TARGET static uint64
vpopcnt_hamming(const uint8 *a, const uint8 *b, Size n)
{
	__m512i		count = _mm512_setzero_si512();

	for (Size i = 0; i < n; i += 64)
	{
		__mmask64	m = mask64(i, n);
		__m512i		x = _mm512_maskz_loadu_epi8(m, a + i);
		__m512i		y = _mm512_maskz_loadu_epi8(m, b + i);

		count = _mm512_add_epi64(count, _mm512_popcnt_epi64(_mm512_xor_si512(x, y)));
	}
	return (uint64) _mm512_reduce_add_epi64(count);
}

VPOPCNT_TARGET static void
vpopcnt_jaccard_parts(const uint8 *a, const uint8 *b, Size n,
					  uint64 *both, uint64 *either)
{
	__m512i		and_count = _mm512_setzero_si512(),
				or_count = _mm512_setzero_si512();

	for (Size i = 0; i < n; i += 64)
	{
		__mmask64	m = mask64(i, n);
		__m512i		x = _mm512_maskz_loadu_epi8(m, a + i);
		__m512i		y = _mm512_maskz_loadu_epi8(m, b + i);

		and_count = _mm512_add_epi64(and_count, _mm512_popcnt_epi64(_mm512_and_si512(x, y)));
		or_count = _mm512_add_epi64(or_count, _mm512_popcnt_epi64(_mm512_or_si512(x, y)));
	}
	*both = (uint64) _mm512_reduce_add_epi64(and_count);
	*either = (uint64) _mm512_reduce_add_epi64(or_count);
}

/* AVX-512 float kernels; bit kernels with VPOPCNTDQ, or POPCNT without it */
static const VectorKernels avx512_kernels = {
	.name = "avx512",
	.l2_squared = avx512_l2_squared,
	.l2_squared_below = avx2_l2_squared_below,
	.inner_product = avx512_inner_product,
	.l1 = avx512_l1,
	.cosine_parts = avx512_cosine_parts,
	.l2_squared_half = avx512_l2_squared_half,
	.inner_product_half = avx512_inner_product_half,
	.l1_half = avx512_l1_half,
	.cosine_parts_half = avx512_cosine_parts_half,
	.hamming = vpopcnt_hamming,
	.jaccard_parts = vpopcnt_jaccard_parts,
};

static const VectorKernels avx512_popcnt_kernels = {
	.name = "avx512",
	.l2_squared = avx512_l2_squared,
	.l2_squared_below = avx2_l2_squared_below,
	.inner_product = avx512_inner_product,
	.l1 = avx512_l1,
	.cosine_parts = avx512_cosine_parts,
	.l2_squared_half = avx512_l2_squared_half,
	.inner_product_half = avx512_inner_product_half,
	.l1_half = avx512_l1_half,
	.cosine_parts_half = avx512_cosine_parts_half,
	.hamming = popcnt_hamming,
	.jaccard_parts = popcnt_jaccard_parts,
};

/*
 * __builtin_cpu_supports also checks that the OS saves the wider register
 * state (XGETBV), so a true answer means the code will run.
 */
const VectorKernels *
vector_kernels_avx2(void)
{
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
		__builtin_cpu_supports("f16c") && __builtin_cpu_supports("popcnt"))
		return &avx2_kernels;
	return NULL;
}

const VectorKernels *
vector_kernels_avx512(void)
{
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx2") ||
		!__builtin_cpu_supports("fma") || !__builtin_cpu_supports("f16c") ||
		!__builtin_cpu_supports("popcnt"))
		return NULL;
	if (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vpopcntdq"))
		return &avx512_kernels;
	return &avx512_popcnt_kernels;
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
