/*-------------------------------------------------------------------------
 *
 * distance.c
 *	  Portable distance kernels, run-time selection of the fastest kernel
 *	  set the CPU supports, and the setting vsim.distance_kernel that lets
 *	  tests and benchmarks force a particular set.
 *
 * The portable kernels keep four independent float accumulators so that
 * the compiler can overlap the additions; the x86 sets live in
 * distance_x86.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "utils/guc.h"
#include "vector/vector.h"

const VectorKernels *vector_kernels = &vector_kernels_portable;

static float
portable_l2_squared(const float *a, const float *b, int n)
{
	float		s0 = 0,
				s1 = 0,
				s2 = 0,
				s3 = 0;
	int			i = 0;

	for (; i + 4 <= n; i += 4)
	{
		float		d0 = a[i] - b[i],
					d1 = a[i + 1] - b[i + 1],
					d2 = a[i + 2] - b[i + 2],
					d3 = a[i + 3] - b[i + 3];

		s0 += d0 * d0;
		s1 += d1 * d1;
		s2 += d2 * d2;
		s3 += d3 * d3;
	}
	for (; i < n; i++)
	{
		float		d = a[i] - b[i];

		s0 += d * d;
	}
	return (s0 + s1) + (s2 + s3);
}

static float
portable_inner_product(const float *a, const float *b, int n)
{
	float		s0 = 0,
				s1 = 0,
				s2 = 0,
				s3 = 0;
	int			i = 0;

	for (; i + 4 <= n; i += 4)
	{
		s0 += a[i] * b[i];
		s1 += a[i + 1] * b[i + 1];
		s2 += a[i + 2] * b[i + 2];
		s3 += a[i + 3] * b[i + 3];
	}
	for (; i < n; i++)
		s0 += a[i] * b[i];
	return (s0 + s1) + (s2 + s3);
}

static float
portable_l1(const float *a, const float *b, int n)
{
	float		s0 = 0,
				s1 = 0,
				s2 = 0,
				s3 = 0;
	int			i = 0;

	for (; i + 4 <= n; i += 4)
	{
		s0 += fabsf(a[i] - b[i]);
		s1 += fabsf(a[i + 1] - b[i + 1]);
		s2 += fabsf(a[i + 2] - b[i + 2]);
		s3 += fabsf(a[i + 3] - b[i + 3]);
	}
	for (; i < n; i++)
		s0 += fabsf(a[i] - b[i]);
	return (s0 + s1) + (s2 + s3);
}

static void
portable_cosine_parts(const float *a, const float *b, int n,
					  float *dot, float *aa, float *bb)
{
	float		d = 0,
				x = 0,
				y = 0;

	for (int i = 0; i < n; i++)
	{
		d += a[i] * b[i];
		x += a[i] * a[i];
		y += b[i] * b[i];
	}
	*dot = d;
	*aa = x;
	*bb = y;
}

const VectorKernels vector_kernels_portable = {
	.name = "portable",
	.l2_squared = portable_l2_squared,
	.inner_product = portable_inner_product,
	.l1 = portable_l1,
	.cosine_parts = portable_cosine_parts,
};

double
vector_cosine_distance_from_parts(float dot, float aa, float bb)
{
	double		denom = sqrt((double) aa * (double) bb);
	double		sim;

	if (denom == 0.0 || !isfinite(denom))
		return 1.0;
	sim = (double) dot / denom;
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
