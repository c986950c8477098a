/*-------------------------------------------------------------------------
 *
 * ivfkmeans.c
 *	  k-means clustering of the build sample into the ivfflat centres.
 *
 * Seeding is k-means++ (Arthur & Vassilvitskii, "k-means++: the advantages
 * of careful seeding", SODA 2007); the iterations are Lloyd's, accelerated
 * with Hamerly's bounds (Hamerly, "Making k-means even faster", SDM 2010):
 * each point keeps an upper bound on the distance to its own centre and a
 * lower bound on the distance to every other one, and only points whose
 * bounds overlap are compared with all centres again.  Bounds need a true
 * metric, so everything here is Euclidean; for the cosine and inner product
 * operator classes the caller passes unit-norm rows and the centres are
 * renormalised after each update (spherical k-means, Dhillon & Modha,
 * "Concept decompositions for large sparse text data using clustering",
 * Machine Learning 2001), where Euclidean order equals cosine order.
 *
 * Runs are deterministic: the random choices come from a fixed seed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "ivf/ivf.h"
#include "miscadmin.h"

/* Above this many centres the k*k centre-centre bound is not worth it */
#define IVF_KMEANS_MAX_PAIRWISE 2048

typedef struct KmeansRandom
{
	uint64		state;
} KmeansRandom;

/* SplitMix64 (Steele, Lea & Flood, OOPSLA 2014): a uniform double in [0, 1) */
static double
kmeans_random(KmeansRandom *r)
{
	uint64		z = (r->state += UINT64CONST(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64CONST(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64CONST(0x94D049BB133111EB);
	z ^= z >> 31;
	return (z >> 11) * (1.0 / (UINT64CONST(1) << 53));
}

static inline float
euclid(const float *a, const float *b, int dims)
{
	return sqrtf(vector_kernels->l2_squared(a, b, dims));
}

/*
 * k-means++: the first centre uniformly at random, each next one with
 * probability proportional to the squared distance to the nearest centre
 * chosen so far.  A point whose current nearest centre c is at least twice
 * its distance away from the new centre cannot get nearer to the new one
 * (triangle inequality), so it is skipped.
 */
static void
kmeans_seed(const float *x, int n, int dims, int k, float *centres,
			KmeansRandom *rnd)
{
	float	   *d2 = palloc(sizeof(float) * n);
	int		   *nearest = palloc(sizeof(int) * n);
	float	   *cc = palloc(sizeof(float) * k);
	int			first = (int) (kmeans_random(rnd) * n);

	memcpy(centres, x + (size_t) first * dims, sizeof(float) * dims);
	for (int i = 0; i < n; i++)
	{
		d2[i] = vector_kernels->l2_squared(x + (size_t) i * dims, centres, dims);
		nearest[i] = 0;
	}

	for (int c = 1; c < k; c++)
	{
		float	   *centre = centres + (size_t) c * dims;
		double		total = 0;
		double		target;
		int			pick = n - 1;

		CHECK_FOR_INTERRUPTS();
		for (int i = 0; i < n; i++)
			total += d2[i];
		target = kmeans_random(rnd) * total;
		for (int i = 0; i < n; i++)
		{
			target -= d2[i];
			if (target < 0)
			{
				pick = i;
				break;
			}
		}
		/* all points coincide with centres: any point will do */
		if (total <= 0)
			pick = (int) (kmeans_random(rnd) * n);
		memcpy(centre, x + (size_t) pick * dims, sizeof(float) * dims);

		for (int j = 0; j < c; j++)
			cc[j] = euclid(centres + (size_t) j * dims, centre, dims);
		for (int i = 0; i < n; i++)
		{
			float		d;

			if (cc[nearest[i]] >= 2 * sqrtf(d2[i]))
				continue;
			d = vector_kernels->l2_squared(x + (size_t) i * dims, centre, dims);
			if (d < d2[i])
			{
				d2[i] = d;
				nearest[i] = c;
			}
		}
	}
	pfree(d2);
	pfree(nearest);
	pfree(cc);
}

/* Nearest and second-nearest centre distances of one point (k >= 1). */
static int
kmeans_nearest_two(const float *p, const float *centres, int k, int dims,
				   float *d1, float *d2)
{
	int			best = 0;

	*d1 = FLT_MAX;
	*d2 = FLT_MAX;
	for (int j = 0; j < k; j++)
	{
		float		d = euclid(p, centres + (size_t) j * dims, dims);

		if (d < *d1)
		{
			*d2 = *d1;
			*d1 = d;
			best = j;
		}
		else if (d < *d2)
			*d2 = d;
	}
	return best;
}

static void
normalise(float *v, int dims)
{
	double		s = 0;

	for (int i = 0; i < dims; i++)
		s += (double) v[i] * v[i];
	if (s > 0)
	{
		float		inv = (float) (1.0 / sqrt(s));

		for (int i = 0; i < dims; i++)
			v[i] *= inv;
	}
}

/*
 * Move every centre to the mean of its points.  An empty cluster takes over
 * the point farthest (by its upper bound) from its centre, among clusters
 * with more than one point.  Returns the distance each centre moved in
 * `moved`.
 */
static void
kmeans_update(const float *x, int n, int dims, int k, bool spherical,
			  int *assign, float *upper, float *lower, float *centres,
			  double *sums, int *counts, float *moved)
{
	float	   *old = palloc(sizeof(float) * dims);

	memset(sums, 0, sizeof(double) * k * dims);
	memset(counts, 0, sizeof(int) * k);
	for (int i = 0; i < n; i++)
	{
		const float *p = x + (size_t) i * dims;
		double	   *s = sums + (size_t) assign[i] * dims;

		for (int d = 0; d < dims; d++)
			s[d] += p[d];
		counts[assign[i]]++;
	}

	for (int j = 0; j < k; j++)
	{
		int			far = -1;

		if (counts[j] > 0)
			continue;
		for (int i = 0; i < n; i++)
			if (counts[assign[i]] > 1 && (far < 0 || upper[i] > upper[far]))
				far = i;
		if (far < 0)
			break;				/* fewer distinct points than centres */
		for (int d = 0; d < dims; d++)
		{
			double		v = x[(size_t) far * dims + d];

			sums[(size_t) assign[far] * dims + d] -= v;
			sums[(size_t) j * dims + d] = v;
		}
		counts[assign[far]]--;
		counts[j] = 1;
		assign[far] = j;
		upper[far] = 0;
		lower[far] = 0;
	}

	for (int j = 0; j < k; j++)
	{
		float	   *c = centres + (size_t) j * dims;

		if (counts[j] == 0)
		{
			moved[j] = 0;
			continue;
		}
		memcpy(old, c, sizeof(float) * dims);
		for (int d = 0; d < dims; d++)
			c[d] = (float) (sums[(size_t) j * dims + d] / counts[j]);
		if (spherical)
			normalise(c, dims);
		moved[j] = euclid(old, c, dims);
	}
	pfree(old);
}

int
ivf_kmeans(const float *x, int n, int dims, int k, bool spherical,
		   int max_iterations, float *centres)
{
	KmeansRandom rnd = {UINT64CONST(0x5EED1F1F)};
	int		   *assign = palloc(sizeof(int) * n);
	float	   *upper = palloc(sizeof(float) * n);
	float	   *lower = palloc(sizeof(float) * n);
	float	   *half_gap = palloc0(sizeof(float) * k);
	float	   *moved = palloc(sizeof(float) * k);
	int		   *counts = palloc(sizeof(int) * k);
	double	   *sums = palloc(sizeof(double) * k * dims);
	int			iter;

	Assert(k >= 1 && k <= n);
	kmeans_seed(x, n, dims, k, centres, &rnd);
	for (int i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		assign[i] = kmeans_nearest_two(x + (size_t) i * dims, centres, k, dims,
									   &upper[i], &lower[i]);
	}

	for (iter = 1; iter <= max_iterations; iter++)
	{
		int			changed = 0;
		int			max1 = 0;
		float		move1 = 0,
					move2 = 0;

		kmeans_update(x, n, dims, k, spherical, assign, upper, lower,
					  centres, sums, counts, moved);

		/* bounds follow the centres: own one moves away, others come closer */
		for (int j = 0; j < k; j++)
		{
			if (moved[j] > move1)
			{
				move2 = move1;
				move1 = moved[j];
				max1 = j;
			}
			else if (moved[j] > move2)
				move2 = moved[j];
		}
		for (int i = 0; i < n; i++)
		{
			upper[i] += moved[assign[i]];
			lower[i] -= assign[i] == max1 ? move2 : move1;
		}

		/* half the distance from each centre to its nearest other centre */
		if (k > 1 && k <= IVF_KMEANS_MAX_PAIRWISE)
		{
			for (int j = 0; j < k; j++)
				half_gap[j] = FLT_MAX;
			for (int a = 0; a < k; a++)
			{
				CHECK_FOR_INTERRUPTS();
				for (int b = a + 1; b < k; b++)
				{
					float		d = euclid(centres + (size_t) a * dims,
										   centres + (size_t) b * dims, dims) / 2;

					half_gap[a] = Min(half_gap[a], d);
					half_gap[b] = Min(half_gap[b], d);
				}
			}
		}

		for (int i = 0; i < n; i++)
		{
			const float *p = x + (size_t) i * dims;
			float		bound = Max(half_gap[assign[i]], lower[i]);
			int			best;

			if (upper[i] <= bound)
				continue;
			upper[i] = euclid(p, centres + (size_t) assign[i] * dims, dims);
			if (upper[i] <= bound)
				continue;
			CHECK_FOR_INTERRUPTS();
			best = kmeans_nearest_two(p, centres, k, dims, &upper[i], &lower[i]);
			if (best != assign[i])
			{
				assign[i] = best;
				changed++;
			}
		}
		elog(DEBUG1, "ivfflat k-means iteration %d: %d of %d points moved",
			 iter, changed, n);
		if (changed == 0)
			break;
	}

	/* the centres are the means of the final assignment */
	if (iter > max_iterations)
		kmeans_update(x, n, dims, k, spherical, assign, upper, lower,
					  centres, sums, counts, moved);

	pfree(assign);
	pfree(upper);
	pfree(lower);
	pfree(half_gap);
	pfree(moved);
	pfree(counts);
	pfree(sums);
	return Min(iter, max_iterations);
}
