/*-------------------------------------------------------------------------
 *
 * distance.c
 *	  Portable distance kernels, run-time selection of the fastest kernel
 *	  set the CPU supports, and the setting vsim.distance_kernel that lets
 *	  tests and benchmarks force a particular set.
 *
 * Every kernel set sums in the same canonical order (vector.h,
 * VECTOR_KERNEL_LANES), so all return the same bits: the portable kernels
 * here spell that order out with fmaf(); the x86 sets, in
 * distance_x86.c, keep the lanes in registers.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "utils/guc.h"
#include "vector/halfvec.h"
#include "vector/vector.h"

const VectorKernels *vector_kernels = &vector_kernels_portable;

/*
 * Fold the VECTOR_KERNEL_LANES lane sums in the canonical tree (see
 * vector.h): lane j takes lane j + w for w = 16, 8, 4, 2, 1.
 */
static inline float
fold_lanes(float *lane)
{
	for (int w = VECTOR_KERNEL_LANES / 2; w >= 1; w /= 2)
		for (int j = 0; j < w; j++)
			lane[j] += lane[j + w];
	return lane[0];
}

static float
portable_l2_squared(const float *a, const float *b, int n)
{
	float		lane[VECTOR_KERNEL_LANES] = {0};

	for (int i = 0; i < n; i++)
	{
		float		d = a[i] - b[i];

		lane[i % VECTOR_KERNEL_LANES] = fmaf(d, d, lane[i % VECTOR_KERNEL_LANES]);
	}
	return fold_lanes(lane);
}

static float
portable_l2_squared_below(const float *a, const float *b, int n, float bound)
{
	float		lane[VECTOR_KERNEL_LANES] = {0};

	for (int i = 0; i < n; i++)
	{
		float		d = a[i] - b[i];

		/* the test points of the x86 kernels: before a whole block */
		if (i > 0 && i % VECTOR_KERNEL_BOUND_STEP == 0 && i + VECTOR_KERNEL_LANES <= n)
		{
			float		part[VECTOR_KERNEL_LANES];

			memcpy(part, lane, sizeof(lane));
			if (fold_lanes(part) >= bound)
				return part[0];
		}
		lane[i % VECTOR_KERNEL_LANES] = fmaf(d, d, lane[i % VECTOR_KERNEL_LANES]);
	}
	return fold_lanes(lane);
}

static float
portable_inner_product(const float *a, const float *b, int n)
{
	float		lane[VECTOR_KERNEL_LANES] = {0};

	for (int i = 0; i < n; i++)
		lane[i % VECTOR_KERNEL_LANES] = fmaf(a[i], b[i], lane[i % VECTOR_KERNEL_LANES]);
	return fold_lanes(lane);
}

static float
portable_l1(const float *a, const float *b, int n)
{
	float		lane[VECTOR_KERNEL_LANES] = {0};

	for (int i = 0; i < n; i++)
		lane[i % VECTOR_KERNEL_LANES] += fabsf(a[i] - b[i]);
	return fold_lanes(lane);
}

static void
portable_cosine_parts(const float *a, const float *b, int n,
					  float *dot, float *aa, float *bb)
{
	float		d[VECTOR_KERNEL_LANES] = {0},
				x[VECTOR_KERNEL_LANES] = {0},
				y[VECTOR_KERNEL_LANES] = {0};

	for (int i = 0; i < n; i++)
	{
		int			j = i % VECTOR_KERNEL_LANES;

		d[j] = fmaf(a[i], b[i], d[j]);
		x[j] = fmaf(a[i], a[i], x[j]);
		y[j] = fmaf(b[i], b[i], y[j]);
	}
	*dot = fold_lanes(d);
	*aa = fold_lanes(x);
	*bb = fold_lanes(y);
}

/*
 * Half-precision kernels: the float kernels above on the widened elements
 * (half_to_float is exact), in the same order, so the same bits.
 */
static float
portable_l2_squared_half(const uint16 *a, const uint16 *b, int n)
{
	float		lane[VECTOR_KERNEL_LANES] = {0};

	for (int i = 0; i < n; i++)
	{
		float		d = half_to_float(a[i]) - half_to_float(b[i]);

		lane[i % VECTOR_KERNEL_LANES] = fmaf(d, d, lane[i % VECTOR_KERNEL_LANES]);
	}
	return fold_lanes(lane);
}

static float
portable_inner_product_half(const uint16 *a, const uint16 *b, int n)
{
	float		lane[VECTOR_KERNEL_LANES] = {0};

	for (int i = 0; i < n; i++)
		lane[i % VECTOR_KERNEL_LANES] = fmaf(half_to_float(a[i]), half_to_float(b[i]),
											 lane[i % VECTOR_KERNEL_LANES]);
	return fold_lanes(lane);
}

static float
portable_l1_half(const uint16 *a, const uint16 *b, int n)
{
	float		lane[VECTOR_KERNEL_LANES] = {0};

	for (int i = 0; i < n; i++)
		lane[i % VECTOR_KERNEL_LANES] += fabsf(half_to_float(a[i]) - half_to_float(b[i]));
	return fold_lanes(lane);
}

static void
portable_cosine_parts_half(const uint16 *a, const uint16 *b, int n,
						   float *dot, float *aa, float *bb)
{
	float		d[VECTOR_KERNEL_LANES] = {0},
				x[VECTOR_KERNEL_LANES] = {0},
				y[VECTOR_KERNEL_LANES] = {0};

	for (int i = 0; i < n; i++)
	{
		int			j = i % VECTOR_KERNEL_LANES;
		float		u = half_to_float(a[i]),
					v = half_to_float(b[i]);

		d[j] = fmaf(u, v, d[j]);
		x[j] = fmaf(u, u, x[j]);
		y[j] = fmaf(v, v, y[j]);
	}
	*dot = fold_lanes(d);
	*aa = fold_lanes(x);
	*bb = fold_lanes(y);
}

/*
 * The bit kernels read 8 bytes at a time into a uint64 (memcpy: no
 * alignment assumed), the last partial word zero-padded.  Built for the
 * baseline ISA, __builtin_popcountll is a table-free software count.
 */
static inline uint64
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

static uint64
portable_hamming(const uint8 *a, const uint8 *b, Size n)
{
	uint64		count = 0;

	for (Size i = 0; i < n; i += sizeof(uint64))
		count += __builtin_popcountll(load_word(a, i, n) ^ load_word(b, i, n));
	return count;
}

static void
portable_jaccard_parts(const uint8 *a, const uint8 *b, Size n,
					   uint64 *both, uint64 *either)
{
	uint64		and_count = 0,
				or_count = 0;

	for (Size i = 0; i < n; i += sizeof(uint64))
	{
		uint64		x = load_word(a, i, n),
					y = load_word(b, i, n);

		and_count += __builtin_popcountll(x & y);
		or_count += __builtin_popcountll(x | y);
	}
	*both = and_count;
	*either = or_count;
}

const VectorKernels vector_kernels_portable = {
	.name = "portable",
	.l2_squared = portable_l2_squared,
	.l2_squared_below = portable_l2_squared_below,
	.inner_product = portable_inner_product,
	.l1 = portable_l1,
	.cosine_parts = portable_cosine_parts,
	.l2_squared_half = portable_l2_squared_half,
	.inner_product_half = portable_inner_product_half,
	.l1_half = portable_l1_half,
	.cosine_parts_half = portable_cosine_parts_half,
	.hamming = portable_hamming,
	.jaccard_parts = portable_jaccard_parts,
};

double
vector_cosine_distance_from_parts(double dot, double aa, double bb)
{
	double		denom = sqrt(aa * bb);
	double		sim;

	if (denom == 0.0 || !isfinite(denom))
		return 1.0;
	sim = dot / denom;
	/* rounding can push |sim| slightly past 1 */
	if (sim > 1.0)
		sim = 1.0;
	else if (sim < -1.0)
		sim = -1.0;
	return 1.0 - sim;
}

/* ---------------------------------------------------------------------
 * Kernel selection
 * ---------------------------------------------------------------------
 */
typedef enum
{
	KERNEL_AUTO,
	KERNEL_PORTABLE,
	KERNEL_AVX2,
	KERNEL_AVX512
} KernelChoice;

static const struct config_enum_entry kernel_options[] = {
	{"auto", KERNEL_AUTO, false},
	{"portable", KERNEL_PORTABLE, false},
	{"avx2", KERNEL_AVX2, false},
	{"avx512", KERNEL_AVX512, false},
	{NULL, 0, false}
};

static int	kernel_choice = KERNEL_AUTO;

static const VectorKernels *
kernels_for(int choice)
{
	switch (choice)
	{
		case KERNEL_PORTABLE:
			return &vector_kernels_portable;
		case KERNEL_AVX2:
			return vector_kernels_avx2();
		case KERNEL_AVX512:
			return vector_kernels_avx512();
		default:
			break;
	}
	/* auto: the widest set this CPU runs */
	if (vector_kernels_avx512())
		return vector_kernels_avx512();
	if (vector_kernels_avx2())
		return vector_kernels_avx2();
	return &vector_kernels_portable;
}

static bool
check_kernel(int *newval, void **extra, GucSource source)
{
	if (kernels_for(*newval) == NULL)
	{
		GUC_check_errdetail("This CPU does not support the \"%s\" kernels.",
							kernel_options[*newval].name);
		return false;
	}
	return true;
}

static void
assign_kernel(int newval, void *extra)
{
	vector_kernels = kernels_for(newval);
}

static const char *
show_kernel(void)
{
	static char buf[64];

	if (kernel_choice == KERNEL_AUTO)
		snprintf(buf, sizeof(buf), "auto (%s)", kernels_for(KERNEL_AUTO)->name);
	else
		snprintf(buf, sizeof(buf), "%s", vector_kernels->name);
	return buf;
}

void
vector_init(void)
{
	DefineCustomEnumVariable("vsim.distance_kernel",
							 "Selects the instruction set of the distance kernels.",
							 "auto picks the widest set the CPU supports; the others "
							 "force one set and are refused where the CPU lacks it.",
							 &kernel_choice,
							 KERNEL_AUTO,
							 kernel_options,
							 /* the low bits of IMMUTABLE distances depend on it */
							 PGC_SUSET,
							 0,
							 check_kernel, assign_kernel, show_kernel);
	vector_kernels = kernels_for(kernel_choice);
}
