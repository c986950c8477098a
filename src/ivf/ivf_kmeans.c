/*-------------------------------------------------------------------------
 *
 * ivf_kmeans.c
 *	  k-means clustering of the build sample into the ivfflat centres.
 *
 * Seeding is k-means++ (Arthur & Vassilvitskii, "k-means++: the advantages
 * of careful seeding", SODA 2007); the iterations are Lloyd's, accelerated
 * with the triangle inequality: each point keeps an upper bound on the
 * distance to its own centre and lower bounds on the distances to the
 * others, and a distance is computed only where the bounds overlap.
 * Elkan's variant keeps a lower bound per centre (Elkan, "Using the
 * triangle inequality to accelerate k-means", ICML 2003): in high
 * dimensions it skips far more work, for n x k floats of memory; when
 * those do not fit, Hamerly's single lower bound per point is used
 * (Hamerly, "Making k-means even faster", SDM 2010).  Bounds need a true
 * metric, so everything here is Euclidean; for the cosine operator class
 * the caller passes unit-norm rows and the centres are
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

/* Above this many centres the k x k centre distances are not worth it */
#define IVF_KMEANS_MAX_PAIRWISE 2048

double
ivf_random(uint64 *state)
{
	uint64		z = (*state += UINT64CONST(0x9E3779B97F4A7C15));

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
			uint64 *rnd)
{
	float	   *d2 = palloc(sizeof(float) * n);
	int		   *nearest = palloc(sizeof(int) * n);
	float	   *cc = palloc(sizeof(float) * k);
	int			first = (int) (ivf_random(rnd) * n);

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
		target = ivf_random(rnd) * total;
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
			pick = (int) (ivf_random(rnd) * n);
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

/* Move point p from cluster `from` to cluster `to` in the running sums. */
static inline void
kmeans_move(const float *p, int dims, int from, int to, double *sums, int *counts)
{
	double	   *sf = sums + (size_t) from * dims;
	double	   *st = sums + (size_t) to * dims;

	for (int d = 0; d < dims; d++)
	{
		sf[d] -= p[d];
		st[d] += p[d];
	}
	counts[from]--;
	counts[to]++;
}

/*
 * Move every centre to the mean of its points, from the per-cluster sums
 * the assignment passes keep up to date.  An empty cluster takes over the
 * point farthest (by its upper bound) from its centre, among clusters with
 * more than one point; that point's lower bounds (`nlower` per point) are
 * reset.  Returns the distance each centre moved in `moved`.
 */
static void
kmeans_update(const float *x, int n, int dims, int k, bool spherical,
			  int *assign, float *upper, float *lower, int nlower,
			  float *centres, double *sums, int *counts, float *moved)
{
	float	   *old = palloc(sizeof(float) * dims);

	for (int j = 0; j < k; j++)
	{
		int			far = -1;

		if (counts[j] > 0)
			continue;
		/* one pass over the sample per empty cluster: can be long */
		CHECK_FOR_INTERRUPTS();
		for (int i = 0; i < n; i++)
			if (counts[assign[i]] > 1 && (far < 0 || upper[i] > upper[far]))
				far = i;
		if (far < 0)
			break;				/* fewer distinct points than centres */
		kmeans_move(x + (size_t) far * dims, dims, assign[far], j, sums, counts);
		assign[far] = j;
		upper[far] = 0;
		memset(lower + (size_t) far * nlower, 0, sizeof(float) * nlower);
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
			vector_l2_normalize_into(c, dims, c);
		moved[j] = euclid(old, c, dims);
	}
	pfree(old);
}

/*
 * Centre-to-centre distances: half_gap[j] is half the distance from centre
 * j to its nearest other centre; `cc` (k x k, or NULL) gets every distance.
 */
static void
kmeans_centre_gaps(const float *centres, int k, int dims, float *half_gap, float *cc)
{
	for (int j = 0; j < k; j++)
		half_gap[j] = FLT_MAX;
	for (int a = 0; a < k; a++)
	{
		CHECK_FOR_INTERRUPTS();
		for (int b = a + 1; b < k; b++)
		{
			float		d = euclid(centres + (size_t) a * dims,
								   centres + (size_t) b * dims, dims);

			half_gap[a] = Min(half_gap[a], d / 2);
			half_gap[b] = Min(half_gap[b], d / 2);
			if (cc)
			{
				cc[(size_t) a * k + b] = d;
				cc[(size_t) b * k + a] = d;
			}
		}
	}
}

/*
 * Hamerly's assignment pass: one lower bound per point (distance to the
 * second-nearest centre).  Returns the points that changed centre; adds
 * the distances computed to *ndist.
 */
static int
hamerly_pass(const float *x, int n, int dims, int k, const float *centres,
			 const float *half_gap, int *assign, float *upper, float *lower,
			 double *sums, int *counts, int64 *ndist)
{
	int			changed = 0;

	for (int i = 0; i < n; i++)
	{
		const float *p = x + (size_t) i * dims;
		float		bound = Max(half_gap[assign[i]], lower[i]);
		int			best;

		if (upper[i] <= bound)
			continue;
		upper[i] = euclid(p, centres + (size_t) assign[i] * dims, dims);
		(*ndist)++;
		if (upper[i] <= bound)
			continue;
		CHECK_FOR_INTERRUPTS();
		best = kmeans_nearest_two(p, centres, k, dims, &upper[i], &lower[i]);
		*ndist += k;
		if (best != assign[i])
		{
			kmeans_move(p, dims, assign[i], best, sums, counts);
			assign[i] = best;
			changed++;
		}
	}
	return changed;
}

/*
 * Elkan's assignment pass (Elkan, "Using the triangle inequality to
 * accelerate k-means", ICML 2003): a lower bound per point and centre, so
 * a centre is compared only when neither its bound nor half the distance
 * between it and the point's centre rules it out.  First moves each
 * point's bounds by how far the centres `moved` (in the same pass over the
 * bounds, to read them from memory once).
 */
static int
elkan_pass(const float *x, int n, int dims, int k, const float *centres,
		   const float *half_gap, const float *cc, const float *moved,
		   int *assign, float *upper, float *lower, double *sums, int *counts,
		   int64 *ndist)
{
	int			changed = 0;

	for (int i = 0; i < n; i++)
	{
		const float *p = x + (size_t) i * dims;
		float	   *l = lower + (size_t) i * k;
		int			a = assign[i];
		float		u = upper[i] + moved[a];
		bool		stale = true;

		for (int j = 0; j < k; j++)
			l[j] = Max(0, l[j] - moved[j]);
		upper[i] = u;
		if (u <= half_gap[a])
			continue;
		CHECK_FOR_INTERRUPTS();
		for (int j = 0; j < k; j++)
		{
			float		d;

			if (j == a || u <= l[j] || u <= cc[(size_t) a * k + j] / 2)
				continue;
			if (stale)
			{
				u = euclid(p, centres + (size_t) a * dims, dims);
				l[a] = u;
				stale = false;
				(*ndist)++;
				if (u <= l[j] || u <= cc[(size_t) a * k + j] / 2)
					continue;
			}
			d = euclid(p, centres + (size_t) j * dims, dims);
			l[j] = d;
			(*ndist)++;
			if (d < u)
			{
				a = j;
				u = d;
			}
		}
		upper[i] = u;
		if (a != assign[i])
		{
			kmeans_move(p, dims, assign[i], a, sums, counts);
			assign[i] = a;
			changed++;
		}
	}
	return changed;
}

/*
 * Nearest centre of one point with Elkan's bounds set: a centre j that
 * cannot beat the current best b (d(b, j) >= 2 d(p, b)) is not compared,
 * its lower bound is d(b, j) - d(p, b) instead.
 */
static int
elkan_init_point(const float *p, int dims, int k, const float *centres,
				 const float *cc, float *l, float *upper)
{
	int			best = 0;
	float		bestd = euclid(p, centres, dims);

	l[0] = bestd;
	for (int j = 1; j < k; j++)
	{
		float		gap = cc[(size_t) best * k + j];

		if (gap >= 2 * bestd)
		{
			l[j] = gap - bestd;
			continue;
		}
		l[j] = euclid(p, centres + (size_t) j * dims, dims);
		if (l[j] < bestd)
		{
			bestd = l[j];
			best = j;
		}
	}
	*upper = bestd;
	return best;
}

int
ivf_kmeans(const float *x, int n, int dims, int k, bool spherical,
		   int max_iterations, Size bounds_budget, float *centres)
{
	uint64		rnd = UINT64CONST(0x5EED1F1F);
	bool		elkan = k > 1 && k <= IVF_KMEANS_MAX_PAIRWISE &&
		(double) n * k * sizeof(float) + (double) k * k * sizeof(float) <= bounds_budget;
	int			nlower = elkan ? k : 1;
	int		   *assign = palloc(sizeof(int) * n);
	float	   *upper = palloc(sizeof(float) * n);
	float	   *lower = MemoryContextAllocHuge(CurrentMemoryContext,
											   sizeof(float) * n * nlower);
	float	   *cc = elkan ? MemoryContextAllocHuge(CurrentMemoryContext,
													sizeof(float) * k * k) : NULL;
	float	   *half_gap = palloc0(sizeof(float) * k);
	float	   *moved = palloc(sizeof(float) * k);
	int		   *counts = palloc(sizeof(int) * k);
	double	   *sums = palloc(sizeof(double) * k * dims);
	int64		ndist = 0;
	int			iter;

	Assert(k >= 1 && k <= n);
	kmeans_seed(x, n, dims, k, centres, &rnd);
	if (elkan)
		kmeans_centre_gaps(centres, k, dims, half_gap, cc);
	for (int i = 0; i < n; i++)
	{
		const float *p = x + (size_t) i * dims;

		CHECK_FOR_INTERRUPTS();
		if (elkan)
			assign[i] = elkan_init_point(p, dims, k, centres, cc,
										 lower + (size_t) i * k, &upper[i]);
		else
			assign[i] = kmeans_nearest_two(p, centres, k, dims, &upper[i], &lower[i]);
	}

	memset(sums, 0, sizeof(double) * k * dims);
	memset(counts, 0, sizeof(int) * k);
	for (int i = 0; i < n; i++)
	{
		const float *p = x + (size_t) i * dims;
		double	   *sum = sums + (size_t) assign[i] * dims;

		for (int d = 0; d < dims; d++)
			sum[d] += p[d];
		counts[assign[i]]++;
	}

	for (iter = 1; iter <= max_iterations; iter++)
	{
		int			changed;
		int			max1 = 0;
		float		move1 = 0,
					move2 = 0;

		kmeans_update(x, n, dims, k, spherical, assign, upper, lower, nlower,
					  centres, sums, counts, moved);

		if (k > 1 && k <= IVF_KMEANS_MAX_PAIRWISE)
			kmeans_centre_gaps(centres, k, dims, half_gap, cc);
		if (elkan)
			changed = elkan_pass(x, n, dims, k, centres, half_gap, cc, moved,
								 assign, upper, lower, sums, counts, &ndist);
		else
		{
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
			changed = hamerly_pass(x, n, dims, k, centres, half_gap,
								   assign, upper, lower, sums, counts, &ndist);
		}
		elog(DEBUG1, "ivfflat k-means iteration %d: %d of %d points moved, " INT64_FORMAT " distances",
			 iter, changed, n, ndist);
		if (changed == 0)
			break;
	}

	/* the centres are the means of the final assignment */
	if (iter > max_iterations)
		kmeans_update(x, n, dims, k, spherical, assign, upper, lower, nlower,
					  centres, sums, counts, moved);

	pfree(assign);
	pfree(upper);
	pfree(lower);
	if (cc)
		pfree(cc);
	pfree(half_gap);
	pfree(moved);
	pfree(counts);
	pfree(sums);
	return Min(iter, max_iterations);
}
