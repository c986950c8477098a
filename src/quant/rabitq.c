/*-------------------------------------------------------------------------
 *
 * rabitq.c
 *	  RaBitQ (Gao & Long, SIGMOD 2024): a seeded structured random rotation,
 *	  1-bit codes of the rotated, normalised residual to a centroid with
 *	  their correction factors, queries quantized to 4-bit planes, and the
 *	  unbiased distance estimator with its error bound (quant.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "quant/quant.h"
#include "utils/memutils.h"

/* splitmix64 (Steele, Lea & Flood, OOPSLA 2014): small and reproducible */
static inline uint64
splitmix64(uint64 *state)
{
	uint64		z = (*state += UINT64CONST(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64CONST(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64CONST(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* largest power of two <= n (n >= 1) */
static int
pow2_floor(int n)
{
	int			p = 1;

	while (p * 2 <= n)
		p *= 2;
	return p;
}

/* x[0..len) = H x / sqrt(len), H the Walsh-Hadamard matrix; len a power of 2 */
static void
fht(float *x, int len)
{
	float		norm = (float) (1.0 / sqrt((double) len));

	for (int h = 1; h < len; h *= 2)
		for (int i = 0; i < len; i += 2 * h)
			for (int j = i; j < i + h; j++)
			{
				float		a = x[j],
							b = x[j + h];

				x[j] = a + b;
				x[j + h] = a - b;
			}
	for (int i = 0; i < len; i++)
		x[i] *= norm;
}

RabitqRotation *
rabitq_rotation_init(int dim, uint64 seed)
{
	RabitqRotation *rot;
	uint64		state = seed;
	int			nbytes;

	vector_check_dim(dim);
	rot = palloc0(RABITQ_ROTATION_SIZE(dim));
	rot->dim = dim;
	rot->pdim = RABITQ_PADDED_DIM(dim);
	rot->rounds = RABITQ_ROUNDS;
	rot->seed = seed;
	nbytes = rot->rounds * rot->pdim / 8;
	for (int i = 0; i < nbytes; i += 8)
	{
		uint64		w = splitmix64(&state);

		memcpy(rot->signs + i, &w, Min(8, nbytes - i));
	}
	return rot;
}

void
rabitq_rotate(const RabitqRotation *rot, const float *x, float *out)
{
	int			len = pow2_floor(rot->pdim);

	memcpy(out, x, sizeof(float) * rot->dim);
	memset(out + rot->dim, 0, sizeof(float) * (rot->pdim - rot->dim));
	for (int r = 0; r < rot->rounds; r++)
	{
		const uint8 *s = rot->signs + (Size) r * rot->pdim / 8;

		for (int i = 0; i < rot->pdim; i++)
			if (s[i / 8] & (1 << (i % 8)))
				out[i] = -out[i];
		fht(out, len);
		if (len < rot->pdim)
			fht(out + rot->pdim - len, len);
	}
}

void
rabitq_check_metric(VectorMetric metric)
{
	if (metric != VECTOR_METRIC_L2 && metric != VECTOR_METRIC_IP &&
		metric != VECTOR_METRIC_COSINE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("rabitq quantization does not support the %s metric",
						vector_metric_name(metric)),
				 errhint("Use quantization sq8 or none for this metric.")));
}

/*
 * The vector the codec works on: x itself, or x normalised for cosine
 * (into buf).  An all-zero vector has no direction: 22000.
 */
static const float *
metric_input(VectorMetric metric, const float *x, int dim, float *buf)
{
	if (metric != VECTOR_METRIC_COSINE)
		return x;
	if (!vector_l2_normalize_into(x, dim, buf))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("cannot quantize a zero vector for cosine distance")));
	return buf;
}

void
rabitq_encode(const RabitqRotation *rot, VectorMetric metric,
			  const float *x, const float *centroid, RabitqElement *out)
{
	int			pdim = rot->pdim;
	float	   *buf = palloc(sizeof(float) * rot->dim);
	float	   *o = palloc(sizeof(float) * pdim);
	const float *v;
	double		norm2 = 0.0,
				abssum = 0.0,
				cr = 0.0;
	uint32		ones = 0;

	rabitq_check_metric(metric);
	v = metric_input(metric, x, rot->dim, buf);
	for (int i = 0; i < rot->dim; i++)
	{
		double		c = centroid ? centroid[i] : 0.0;
		double		r = (double) v[i] - c;

		buf[i] = (float) r;
		norm2 += r * r;
		cr += c * r;
	}
	rabitq_rotate(rot, buf, o);
	memset(out->bits, 0, pdim / 8);
	for (int i = 0; i < pdim; i++)
	{
		abssum += fabs((double) o[i]);
		if (o[i] > 0.0f)
		{
			out->bits[i / 8] |= (uint8) (1 << (i % 8));
			ones++;
		}
	}
	out->norm = (float) Min(sqrt(norm2), (double) FLT_MAX);
	out->ones = ones;
	out->cr = (float) cr;
	/* <x_bar, o> = sum |o[i]| / (|o| sqrt(D)); 1 for a zero residual */
	out->ip_bar = norm2 > 0.0 && abssum > 0.0 ?
		(float) Min(1.0, abssum / (sqrt(norm2) * sqrt((double) pdim))) : 1.0f;
	pfree(buf);
	pfree(o);
}

/*
 * The offsets u (pdim of them, uniform in [0, 1)) of the query's
 * randomised rounding: splitmix64 seeded from the rotation's seed, one
 * draw for two coordinates (its high 32 bits, then its low ones).  They
 * depend on the rotation only, so a backend draws them once per rotation
 * and keeps the last set (in TopMemoryContext): drawn per (query, centroid)
 * they were a tenth of a rabitq IVF query's time (perf, probes = 10).
 */
static const double *
rounding_offsets(const RabitqRotation *rot)
{
	static double *cached = NULL;
	static uint64 cached_seed = 0;
	static int	cached_pdim = 0;

	if (cached == NULL || cached_seed != rot->seed || cached_pdim != rot->pdim)
	{
		uint64		state = rot->seed ^ UINT64CONST(0x5bd1e9955bd1e995);
		double	   *u = MemoryContextAlloc(TopMemoryContext,
										   sizeof(double) * rot->pdim);

		/* pdim is a multiple of 64, so the pairs never run past it */
		for (int i = 0; i < rot->pdim; i += 2)
		{
			uint64		r = splitmix64(&state);

			u[i] = (double) (uint32) (r >> 32) * (1.0 / 4294967296.0);
			u[i + 1] = (double) (uint32) r * (1.0 / 4294967296.0);
		}
		if (cached != NULL)
			pfree(cached);
		cached = u;
		cached_seed = rot->seed;
		cached_pdim = rot->pdim;
	}
	return cached;
}

/*
 * The query's parts from its rotated residual vr = R v (pdim floats), |v|^2
 * and <q, c>: the range and sum of vr, and vr quantized to
 * RABITQ_QUERY_BITS planes.
 */
static RabitqQuery *
prepare_from_rotated(const RabitqRotation *rot, VectorMetric metric,
					 const float *vr, double vv, double qc)
{
	int			pdim = rot->pdim;
	int			levels = (1 << RABITQ_QUERY_BITS) - 1;
	RabitqQuery *rq = palloc0(sizeof(RabitqQuery));
	double		lo = DBL_MAX,
				hi = -DBL_MAX,
				vsum = 0.0;

	rq->metric = metric;
	rq->pdim = pdim;
	rq->kernels = quant_kernels();
	rq->planes = palloc0(RABITQ_QUERY_BITS * pdim / 8);
	for (int i = 0; i < pdim; i++)
	{
		lo = Min(lo, (double) vr[i]);
		hi = Max(hi, (double) vr[i]);
		vsum += vr[i];
	}
	rq->vv = vv;
	rq->vnorm = sqrt(vv);
	rq->qc = qc;
	rq->vsum = vsum;
	rq->vl = lo;
	rq->delta = (hi - lo) / levels;
	rq->inv_sqrt_d = 1.0 / sqrt((double) pdim);
	rq->bound_scale = RABITQ_EPS0 * rq->vnorm / sqrt((double) pdim - 1.0);

	/*
	 * Randomised rounding (the paper, section 3.3.1): code floor(t + u), u
	 * uniform in [0, 1), so the expected decoded value is v'[i] exactly;
	 * the u come from rounding_offsets.  The codes of 8 coordinates are
	 * gathered into one byte per plane.  This runs once per (query,
	 * centroid): an IVF scan pays it per list.
	 */
	{
		double		inv_delta = rq->delta > 0.0 ? 1.0 / rq->delta : 0.0;
		const double *u = rounding_offsets(rot);

		for (int i = 0; i < pdim; i += 8)
		{
			uint8		plane[RABITQ_QUERY_BITS] = {0};

			for (int b = 0; b < 8; b++)
			{
				double		t = ((double) vr[i + b] - lo) * inv_delta;
				int			code = (int) (t + u[i + b]);	/* >= 0: truncation is floor */

				code = Min(levels, code);
				for (int j = 0; j < RABITQ_QUERY_BITS; j++)
					plane[j] |= (uint8) (((code >> j) & 1) << b);
			}
			for (int j = 0; j < RABITQ_QUERY_BITS; j++)
				rq->planes[(Size) j * pdim / 8 + i / 8] = plane[j];
		}
	}
	return rq;
}

/* The query as the codec takes it: normalised for cosine unless zero */
static const float *
query_input(VectorMetric metric, const float *q, int dim, float *buf)
{
	/* a zero query under cosine stays zero: every estimate is then 1 */
	if (metric == VECTOR_METRIC_COSINE && !vector_l2_normalize_into(q, dim, buf))
		return buf;
	return metric_input(metric, q, dim, buf);
}

RabitqQuery *
rabitq_prepare_query(const RabitqRotation *rot, VectorMetric metric,
					 const float *q, const float *centroid)
{
	int			pdim = rot->pdim;
	RabitqQuery *rq;
	float	   *buf = palloc(sizeof(float) * rot->dim);
	float	   *vr = palloc(sizeof(float) * pdim);
	const float *v;
	double		vv = 0.0,
				qc = 0.0;

	rabitq_check_metric(metric);
	v = query_input(metric, q, rot->dim, buf);
	for (int i = 0; i < rot->dim; i++)
	{
		double		c = centroid ? centroid[i] : 0.0;
		double		vi = v[i] - c;

		qc += (double) v[i] * c;
		buf[i] = (float) vi;
		vv += vi * vi;
	}
	rabitq_rotate(rot, buf, vr);
	rq = prepare_from_rotated(rot, metric, vr, vv, qc);
	pfree(buf);
	pfree(vr);
	return rq;
}

void
rabitq_rotate_query(const RabitqRotation *rot, VectorMetric metric,
					const float *q, float *out)
{
	float	   *buf = palloc(sizeof(float) * rot->dim);

	rabitq_check_metric(metric);
	rabitq_rotate(rot, query_input(metric, q, rot->dim, buf), out);
	pfree(buf);
}

RabitqQuery *
rabitq_prepare_rotated(const RabitqRotation *rot, VectorMetric metric,
					   const float *rq, const float *rc)
{
	int			pdim = rot->pdim;
	float	   *vr = palloc(sizeof(float) * pdim);
	double		vv = 0.0,
				qc = 0.0;
	RabitqQuery *q;

	rabitq_check_metric(metric);
	for (int i = 0; i < pdim; i++)
	{
		double		c = rc ? rc[i] : 0.0;
		double		vi = (double) rq[i] - c;

		qc += (double) rq[i] * c;
		vr[i] = (float) vi;
		vv += vi * vi;
	}
	q = prepare_from_rotated(rot, metric, vr, vv, qc);
	pfree(vr);
	return q;
}

RabitqQuery *
rabitq_prepare_code(const RabitqRotation *rot, VectorMetric metric,
					const RabitqElement *e, double cc)
{
	RabitqQuery *q = palloc0(sizeof(RabitqQuery));

	rabitq_check_metric(metric);
	q->metric = metric;
	q->pdim = rot->pdim;
	q->kernels = quant_kernels();
	q->vnorm = e->norm;
	q->vv = (double) e->norm * e->norm;
	q->qc = cc + e->cr;
	q->from_code = true;
	q->ones = e->ones;
	/* one plane: bits_dot then counts the 1 bits the two codes share */
	q->planes = palloc(rot->pdim / 8);
	memcpy(q->planes, e->bits, rot->pdim / 8);
	return q;
}

/* rabitq_distance for a query from rabitq_prepare_code (quant.h) */
static double
code_distance(const RabitqQuery *q, const RabitqElement *e, double *bound)
{
	uint64		both = q->kernels->bits_dot(q->planes, 1, e->bits, q->pdim / 8);
	double		hamming = (double) q->ones + e->ones - 2.0 * both;
	double		ip = (double) e->norm * q->vnorm * cos(M_PI * hamming / q->pdim);

	if (bound)
		*bound = 0.0;
	switch (q->metric)
	{
		case VECTOR_METRIC_L2:
			return (double) e->norm * e->norm + q->vv - 2.0 * ip;
		case VECTOR_METRIC_IP:
			return -(q->qc + e->cr + ip);
		case VECTOR_METRIC_COSINE:
			return 1.0 - (q->qc + e->cr + ip);
		default:
			elog(ERROR, "unknown metric %d", (int) q->metric);
	}
	return 0.0;					/* keep the compiler quiet */
}

bool
rabitq_code_valid(const RabitqElement *e, int dim)
{
	if (!isfinite(e->norm) || e->norm < 0 || !isfinite(e->cr) ||
		!(e->ip_bar > 0 && e->ip_bar <= 1))
		return false;
	return e->ones == (uint32) pg_popcount((const char *) e->bits,
										   RABITQ_PADDED_DIM(dim) / 8);
}

/* rabitq_distance for a query from rabitq_prepare_query (quant.h) */
static double
query_distance(const RabitqQuery *q, const RabitqElement *e, double *bound)
{
	double		dot = (double) q->kernels->bits_dot(q->planes, RABITQ_QUERY_BITS,
													e->bits, q->pdim / 8);
	double		sum_xv = q->delta * dot + q->vl * e->ones;
	double		ip_bar = e->ip_bar;
	double		est = (2.0 * sum_xv - q->vsum) * q->inv_sqrt_d / ip_bar;	/* ~ <o, v> */
	double		norm = e->norm;
	double		b = 0.0;

	if (bound)
		b = q->bound_scale * sqrt(Max(0.0, 1.0 - ip_bar * ip_bar)) / ip_bar;
	switch (q->metric)
	{
		case VECTOR_METRIC_L2:
			if (bound)
				*bound = 2.0 * norm * b;
			return norm * norm + q->vv - 2.0 * norm * est;
		case VECTOR_METRIC_IP:
			if (bound)
				*bound = norm * b;
			return -(q->qc + e->cr + norm * est);
		case VECTOR_METRIC_COSINE:
			if (bound)
				*bound = norm * b;
			return 1.0 - (q->qc + e->cr + norm * est);
		default:
			elog(ERROR, "unknown metric %d", (int) q->metric);
	}
	return 0.0;					/* keep the compiler quiet */
}

double
rabitq_distance(const RabitqQuery *q, const RabitqElement *e, double *bound)
{
	return q->from_code ? code_distance(q, e, bound) : query_distance(q, e, bound);
}
