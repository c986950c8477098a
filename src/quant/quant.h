/*-------------------------------------------------------------------------
 *
 * quant.h
 *	  Public interface of vsim's quantization subsystem: the sq8 and RaBitQ
 *	  codecs that the index access methods store instead of (or beside)
 *	  full float4 vectors, and their SIMD kernels with run-time dispatch.
 *
 * Nothing here knows about pages, relations or WAL: a codec turns floats
 * into a fixed-size stored element, prepares a query once per scan, and
 * computes an approximate index-order distance (VectorMetric, vector.h)
 * between a prepared query and a stored element.  Index methods re-rank
 * the best candidates by the exact distance.
 *
 * ---------------------------------------------------------------------
 * sq8: scalar quantization, one byte per dimension
 * ---------------------------------------------------------------------
 * Parameters (Sq8Params, 8 + 8 * dim bytes, trained once from the build's
 * sample and kept in the index meta pages): per dimension i, lo[i] and
 * step[i] = (max[i] - min[i]) / 255 over the sample.  A value x encodes as
 * c = clamp(round((x - lo) / step), 0, 255) and decodes as lo + step * c,
 * so |x - decode(encode(x))| <= step / 2 for x in the sample's range
 * [lo, lo + 255 step] (plus float rounding, < 1e-6 relative), and a value
 * outside that range decodes to the nearest end of it.  A dimension
 * constant over the sample has step 0 and always decodes to lo.
 *
 * Why per-dimension min/max and not a per-vector scale/offset (x^ = a_v +
 * s_v c with each vector's own min and max), measured by
 * test/bench/bench_quant.sh (quant_eval codecs sq8 and sq8pv) on 10,000
 * base rows and 100 queries, recall@10 with no re-ranking / mean relative
 * distance error / 99th percentile:
 *	  CNN-256 l2	  per-dimension 0.995 / 5.3e-4 / 2.5e-3,  per-vector 0.997 / 4.6e-4 / 2.4e-3
 *	  CNN-256 cosine  per-dimension 0.995 / 1.9e-4 / 7.9e-4,  per-vector 0.993 / 1.5e-4 / 5.4e-4
 *	  Fashion-MNIST l2  per-dimension 1.000 / 1.5e-5 / 8.4e-5,  per-vector 1.000 / 9.9e-5 / 2.4e-3
 * (the pixels are integers 0..255, so per-dimension ranges are lossless up
 * to the query's int16 rounding; a vector's own range is not 0..255 in
 * general).  On CNN-256 the per-vector form is 15-25% more precise in
 * distance but no better in ranking, and after re-ranking top-20 both reach recall 1.0; it costs 12
 * more bytes per vector (a_v, s_v and sum c, for the same integer dot
 * kernel) and its l1 cannot use a query prepared once per scan (the
 * query's transform depends on each vector's a_v, s_v).  So sq8 uses
 * per-dimension ranges.
 *
 * Stored element (Sq8Element, SQ8_ELEMENT_SIZE(dim) = 4 + dim bytes):
 *	  float4  norm2			|decode(codes)|^2, for l2 and cosine
 *	  uint8   codes[dim]
 *
 * Distances: the query q (dim floats) is prepared once (Sq8Query): u[i] =
 * q[i] * step[i] quantized to int16 with one scale (|error| <= scale / 2
 * per element, scale = max|u| / 32767), |q|^2, sum q[i] lo[i], and for l1
 * p[i] = (q[i] - lo[i]) / step[i] with weights step[i].  Then
 *	  dot(q, x^) = sum q lo + scale * sum u16[i] c[i]	(exact int64 kernel)
 *	  l2     |q|^2 - 2 dot + norm2 (clamped at 0)
 *	  ip     -dot
 *	  cosine 1 - dot / sqrt(|q|^2 norm2)	(vector_cosine_distance_from_parts)
 *	  l1     sum over constant dims |q - lo| + sum step |p - c|	(float kernel)
 * i.e. each is the metric's index-order distance from q to the decoded
 * vector x^, up to the int16 rounding of u (relative error < 1e-4 of
 * sum |u| c), so ordering by it is ordering by distance to x^.
 *
 * ---------------------------------------------------------------------
 * RaBitQ: 1 bit per dimension (Gao & Long, "RaBitQ: Quantizing
 * High-Dimensional Vectors with a Theoretical Error Bound for Approximate
 * Nearest Neighbor Search", SIGMOD 2024)
 * ---------------------------------------------------------------------
 * Rotation (RabitqRotation, RABITQ_ROTATION_SIZE(dim) = 24 + 4 * D / 8
 * bytes, D = dim rounded up to a multiple of 64; e.g. 152 bytes at 256-d,
 * 440 at 784-d, 4,024 at 8,000-d; kept in the meta pages): instead of a
 * dense Gaussian matrix (D^2 floats: 2.8 MB at 784-d) a structured random
 * orthogonal transform, RABITQ_ROUNDS rounds of "multiply by random signs,
 * then a normalised Walsh-Hadamard transform on the first 2^k coordinates
 * and on the last 2^k" (2^k the largest power of two <= D, so the two
 * blocks cover all D).  Each step is orthogonal, so the rotation is.  The
 * randomised Hadamard transform as a fast Johnson-Lindenstrauss rotation
 * is Ailon & Chazelle, "The Fast Johnson-Lindenstrauss Transform", SIAM J.
 * Comput. 39(1), 2009; the RaBitQ paper (section 3.1.3) allows any random
 * orthogonal transform.  The signs come from splitmix64 seeded by `seed`,
 * so a rotation is reproducible from (dim, seed) on every platform; the
 * sign bits are stored anyway so a stored index never depends on the
 * generator.
 *
 * Encoding a vector x against a centroid c (cosine: x and the queries are
 * normalised first, so cosine works like ip on unit vectors):
 *	  r = x - c,  o = R r / |r|  (unit, D coordinates),
 *	  bit i = (o[i] > 0),  x_bar = (2 bits - 1) / sqrt(D),
 *	  ip_bar = <x_bar, o> = sum |o[i]| / sqrt(D)  (in (0, 1]).
 * Stored element (RabitqElement, RABITQ_ELEMENT_SIZE(dim) = 16 + D / 8):
 *	  float4  norm		|r|
 *	  float4  ip_bar	<x_bar, o>
 *	  float4  cr		<c, r> (used by ip and cosine)
 *	  uint32  ones		number of 1 bits
 *	  uint8   bits[D / 8]	bit i of the code is bit (i % 8) of byte i / 8
 *
 * Query (RabitqQuery, prepared once per (query, centroid)): v = q - c
 * for every metric; v' = R v quantized to 4 bits per coordinate
 * with randomised rounding (unbiased; the paper's B_q = 4), kept as 4 bit
 * planes so sum bits[i] v'[i] is sum_j 2^j popcount(bits & plane_j).
 * The estimator (the paper's Theorem 3.2, unbiased over the rotation):
 *	  <o, v> ~ <x_bar, v'> / ip_bar
 * with |error| <= eps0 |v| sqrt((1 - ip_bar^2) / ip_bar^2) / sqrt(D - 1)
 * with high probability; eps0 = RABITQ_EPS0 (1.9, the paper's choice).
 * Distances, with the bound scaled alike:
 *	  l2     |r|^2 + |v|^2 - 2 |r| <o, v>		bound 2 |r| b
 *	  ip     -(<q, c> + <c, r> + |r| <o, v>)	bound |r| b
 *	  cosine 1 - (<q, c> + <c, r> + |r| <o, v>)	bound |r| b
 * (<q, x> = <q, c> + <c, r> + <q - c, r>: only the last term is estimated,
 * so ip and cosine err as little as l2, in proportion to |q - c|)
 *	  l1     not supported (not rotation invariant): raises 0A000
 * Confidence: the error is close to Gaussian (the paper, section 3.2), so
 * the share of true distances inside estimate +/- bound is about
 * 2 Phi(eps0) - 1: 0.94 at eps0 = 1.9, 0.997 at eps0 = 3 (measured on
 * Fashion-MNIST and CNN-256: 0.934-0.944 and 0.9966-0.9976).
 * test/t/090_quant.pl asserts >= 0.92 and >= 0.99, and that the mean error
 * over 60 independent rotations is within 4 standard errors of 0.
 *
 * ---------------------------------------------------------------------
 * Kernels and dispatch
 * ---------------------------------------------------------------------
 * QuantKernels is a table like VectorKernels (vector.h) and follows the
 * same setting: quant_kernels() returns the set matching the vector
 * kernels that vsim.distance_kernel selected (portable, avx2, avx512), so
 * one setting forces both.  All quant kernels return the same result in
 * every set: the integer ones exactly, the float one (sq8_l1) because it
 * sums in the canonical order of vector.h (32 lanes, fmaf, fixed fold).
 *
 * Bytes per stored vector (element only):
 *	  dim       none (float4)   sq8     rabitq
 *	  256       1,024           260     48
 *	  784       3,136           788     120
 *	  8,000     32,000          8,004   1,016
 * Meta data per index (or per list): sq8 parameters 8 + 8 dim bytes
 * (2,056 / 6,280 / 64,008), the RaBitQ rotation 24 + D / 2 bytes
 * (152 / 440 / 4,024), and for RaBitQ the centroids (4 dim bytes each).
 *
 *
 * ---------------------------------------------------------------------
 * How an index method's element-type descriptor plugs these in (proposal)
 * ---------------------------------------------------------------------
 *	  stored_size(dim)	none 4 dim; sq8 SQ8_ELEMENT_SIZE; rabitq RABITQ_ELEMENT_SIZE
 *	  train(sample)		sq8: sq8_train on the build sample -> Sq8Params in the
 *						meta pages; rabitq: rabitq_rotation_init(dim, seed)
 *						-> RabitqRotation in the meta pages, plus a centroid
 *						(IVFFlat: each list's; HNSW: the sample mean)
 *	  store(floats)		sq8_encode / rabitq_encode(rot, metric, x, centroid)
 *	  to_floats(elem)	sq8_decode (approximate); rabitq has no decoder: the
 *						exact vector comes from the heap or a full-precision
 *						copy, which re-ranking needs anyway, and a code is
 *						compared with codes by rabitq_prepare_code
 *	  prepare(query)	once per scan (rabitq: once per probed list, as the
 *						centroid changes): sq8_prepare_query / rabitq_prepare_query
 *	  distance(prep, elem)	sq8_distance; rabitq_distance, whose bound gives
 *						a lower bound (estimate - bound) for deciding which
 *						candidates to re-rank exactly
 * HNSW graph building needs element-to-element distances: keep the build's
 * floats in memory, or prepare a stored element as a query (sq8: decoded;
 * RaBitQ: rabitq_prepare_code from the code itself).
 *-------------------------------------------------------------------------
 */
#ifndef VSIM_QUANT_H
#define VSIM_QUANT_H

#include "postgres.h"

#include "vector/vector.h"

/* Functions the index methods and the test module call (PG 16+ hides the rest) */
#define QUANT_API PGDLLEXPORT

/* ---------------------------------------------------------------------
 * Kernels (quant_kernels.c portable, quant_x86.c AVX2 / AVX-512)
 * ---------------------------------------------------------------------
 */
typedef struct QuantKernels
{
	const char *name;

	/*
	 * sum(q[i] * c[i]) over n elements, exactly.  n <= SQ8_MAX_DIM (the
	 * SIMD sets sum in int32 lanes flushed to int64 every 1,024 elements).
	 */
	int64		(*sq8_dot) (const int16 *q, const uint8 *c, int n);

	/*
	 * sum(w[i] * |p[i] - c[i]|) in float, in the canonical order of
	 * vector.h (lane i % 32 = fmaf(w, |p - c|, lane), then the fixed fold).
	 */
	float		(*sq8_l1) (const float *p, const float *w, const uint8 *c, int n);

	/*
	 * sum over j < nplanes of 2^j popcount(planes[j] & bits), the planes
	 * stored one after another, each nbytes long; nbytes a multiple of 8.
	 */
	uint64		(*bits_dot) (const uint8 *planes, int nplanes,
							 const uint8 *bits, int nbytes);
} QuantKernels;

/*
 * The kernels for the instruction set vsim.distance_kernel selected
 * (vector_kernels): avx512 needs AVX-512BW as well (VNNI, VPOPCNTDQ used
 * when present), and falls back to avx2 without it.  Never NULL.
 */
extern QUANT_API const QuantKernels *quant_kernels(void);

/* Each set, NULL where the CPU lacks it; the test compares them. */
extern QUANT_API const QuantKernels quant_kernels_portable;
extern QUANT_API const QuantKernels *quant_kernels_avx2(void);
extern QUANT_API const QuantKernels *quant_kernels_avx512(void);

/* ---------------------------------------------------------------------
 * sq8 (sq8.c)
 * ---------------------------------------------------------------------
 */
#define SQ8_MAX_DIM VECTOR_MAX_DIM

typedef struct Sq8Params
{
	int32		dim;
	int32		unused;			/* always 0 */
	float		lo[FLEXIBLE_ARRAY_MEMBER];	/* lo[dim], then step[dim] */
} Sq8Params;

#define SQ8_PARAMS_SIZE(dim)	(offsetof(Sq8Params, lo) + 2 * sizeof(float) * (dim))
#define SQ8_STEP(p)				((p)->lo + (p)->dim)

typedef struct Sq8Element
{
	float		norm2;			/* |decoded vector|^2 */
	uint8		codes[FLEXIBLE_ARRAY_MEMBER];
} Sq8Element;

#define SQ8_ELEMENT_SIZE(dim)	(offsetof(Sq8Element, codes) + (dim))

/* A query prepared for one scan; palloc'd by sq8_prepare_query */
typedef struct Sq8Query
{
	VectorMetric metric;
	int			dim;
	const QuantKernels *kernels;
	double		qq;				/* |q|^2 */
	double		qlo;			/* sum q[i] lo[i] */
	double		scale;			/* u[i] ~ scale * u16[i] */
	double		l1_const;		/* sum over step-0 dims of |q - lo| */
	int16	   *u16;			/* [dim] */
	float	   *p;				/* [dim], l1 only */
	float	   *w;				/* [dim], l1 only */
} Sq8Query;

/*
 * sq8_train: the parameters from n >= 1 sample vectors of `dim` floats,
 * row-major in `sample` (n * dim floats), as a palloc'd Sq8Params of
 * SQ8_PARAMS_SIZE(dim) bytes.  Raises 22023 for n < 1, 22000 / 54000 for a
 * bad dim (vector_check_dim) and 22000 for a non-finite value.
 */
extern QUANT_API Sq8Params *sq8_train(const float *sample, int n, int dim);

/*
 * sq8_encode: write the SQ8_ELEMENT_SIZE(p->dim) bytes of x (p->dim
 * floats) into *out.  Never fails; values outside the trained range clamp.
 */
extern QUANT_API void sq8_encode(const Sq8Params *p, const float *x, Sq8Element *out);

/* sq8_decode: out[i] = lo[i] + step[i] * codes[i], p->dim floats */
extern QUANT_API void sq8_decode(const Sq8Params *p, const Sq8Element *e, float *out);

/*
 * sq8_prepare_query: prepare q (p->dim floats) for `metric` with the
 * current kernels (quant_kernels()).  palloc'd in the current context.
 */
extern QUANT_API Sq8Query *sq8_prepare_query(const Sq8Params *p, VectorMetric metric,
											 const float *q);

/* sq8_distance: index-order distance from the query to the decoded element */
extern QUANT_API double sq8_distance(const Sq8Query *q, const Sq8Element *e);

/* ---------------------------------------------------------------------
 * RaBitQ (rabitq.c)
 * ---------------------------------------------------------------------
 */
#define RABITQ_ROUNDS	4
#define RABITQ_EPS0		1.9
#define RABITQ_QUERY_BITS 4
#define RABITQ_PADDED_DIM(dim)	(((dim) + 63) / 64 * 64)

typedef struct RabitqRotation
{
	int32		dim;			/* input dimensions */
	int32		pdim;			/* D: RABITQ_PADDED_DIM(dim) */
	int32		rounds;			/* RABITQ_ROUNDS */
	int32		unused;			/* always 0 */
	uint64		seed;
	uint8		signs[FLEXIBLE_ARRAY_MEMBER];	/* rounds * D / 8 bytes */
} RabitqRotation;

#define RABITQ_ROTATION_SIZE(dim) \
	(offsetof(RabitqRotation, signs) + RABITQ_ROUNDS * RABITQ_PADDED_DIM(dim) / 8)

typedef struct RabitqElement
{
	float		norm;			/* |x - c| */
	float		ip_bar;			/* <x_bar, o> in (0, 1] */
	float		cr;				/* <c, x - c> (ip, cosine) */
	uint32		ones;			/* number of 1 bits */
	uint8		bits[FLEXIBLE_ARRAY_MEMBER];	/* D / 8 bytes */
} RabitqElement;

#define RABITQ_ELEMENT_SIZE(dim) \
	(offsetof(RabitqElement, bits) + RABITQ_PADDED_DIM(dim) / 8)

typedef struct RabitqQuery
{
	VectorMetric metric;
	int			pdim;
	const QuantKernels *kernels;
	double		vnorm;			/* |v| */
	double		vv;				/* |v|^2 (l2) */
	double		qc;				/* <q, c> (ip, cosine) */
	double		delta;			/* v'[i] ~ vl + delta * code[i] */
	double		vl;
	double		vsum;			/* sum v'[i] */
	double		inv_sqrt_d;		/* 1 / sqrt(D) */
	double		bound_scale;	/* eps0 |v| / sqrt(D - 1) */
	uint8	   *planes;			/* RABITQ_QUERY_BITS planes of D / 8 bytes */
	/* a stored code as the query (rabitq_prepare_code): planes is its bits */
	bool		from_code;
	uint32		ones;			/* its number of 1 bits */
} RabitqQuery;

/*
 * rabitq_rotation_init: a palloc'd rotation of RABITQ_ROTATION_SIZE(dim)
 * bytes for `dim`-dimensional vectors, reproducible from `seed`.  Raises
 * 22000 / 54000 for a bad dim.
 */
extern QUANT_API RabitqRotation *rabitq_rotation_init(int dim, uint64 seed);

/*
 * rabitq_rotate: out[0..D) = R x, x of rot->dim floats zero-padded to D.
 * Orthogonal: preserves inner products and norms (to float rounding).
 */
extern QUANT_API void rabitq_rotate(const RabitqRotation *rot, const float *x, float *out);

/*
 * rabitq_check_metric: raise 0A000 (feature_not_supported) with a hint
 * unless RaBitQ supports `metric` (l2, ip, cosine; not l1).
 */
extern QUANT_API void rabitq_check_metric(VectorMetric metric);

/*
 * rabitq_encode: the RABITQ_ELEMENT_SIZE(rot->dim) bytes of x against
 * `centroid` (rot->dim floats each; centroid NULL means the origin) into
 * *out.  For cosine, x is normalised first (and the centroid is taken as
 * given: pass one of unit vectors' space).  x == centroid gives norm 0
 * (the estimate is then exact).  Raises as rabitq_check_metric, and 22000
 * for an all-zero x under cosine (which has no direction).
 */
extern QUANT_API void rabitq_encode(const RabitqRotation *rot, VectorMetric metric,
									const float *x, const float *centroid,
									RabitqElement *out);

/*
 * rabitq_prepare_query: prepare q (rot->dim floats) against `centroid`
 * (NULL: the origin) for `metric`; the randomised rounding is seeded from
 * rot->seed, so a query always prepares the same way.  palloc'd.
 */
extern QUANT_API RabitqQuery *rabitq_prepare_query(const RabitqRotation *rot,
												   VectorMetric metric,
												   const float *q,
												   const float *centroid);

/*
 * rabitq_rotate_query: out[0..D) = R q', q' the query as
 * rabitq_prepare_query takes it (normalised for cosine unless zero), q of
 * rot->dim floats.  With rabitq_prepare_rotated, a query met against many
 * centroids is rotated once.
 */
extern QUANT_API void rabitq_rotate_query(const RabitqRotation *rot, VectorMetric metric,
										  const float *q, float *out);

/*
 * rabitq_prepare_rotated: rabitq_prepare_query from the rotated query rq =
 * R q' (rabitq_rotate_query) and the rotated centroid rc = R c
 * (rabitq_rotate; NULL: the origin), D floats each.  The rotation is
 * linear and orthogonal, so R (q' - c) = rq - rc, |q' - c| = |rq - rc| and
 * <q', c> = <rq, rc>: the same query up to float rounding, for O(D)
 * instead of a rotation per centroid.  palloc'd.
 */
extern QUANT_API RabitqQuery *rabitq_prepare_rotated(const RabitqRotation *rot,
													 VectorMetric metric,
													 const float *rq, const float *rc);

/*
 * rabitq_prepare_code: a stored element `e` (encoded against a centroid c
 * with |c|^2 = cc) prepared as the query, for distances between two
 * stored codes (an HNSW insert or VACUUM linking elements whose floats it
 * no longer has).  RaBitQ has no decoder, and the estimator of a query is
 * biased when the query is itself a code: with v = |r| x_bar / ip_bar,
 * <x_bar', x_bar> / (ip_bar' ip_bar) overestimates <o', o> (by 1 / ip_bar^2,
 * about 1.6, for o' = o), so distances between near codes came out far too
 * small.  Instead the angle comes from the two codes' sign bits, as
 * in SimHash (Charikar, STOC 2002): each rotated coordinate is a uniformly
 * random direction, so the share of differing bits estimates theta / pi,
 * and <o', o> ~ cos(pi hamming / D), exact for equal codes.  The norms
 * |r|, |r'| and <c, r> are the stored exact values, so
 *	  l2     |r'|^2 + |r|^2 - 2 |r'| |r| cos(pi h / D)
 *	  ip     -(cc + <c, r> + <c, r'> + |r'| |r| cos(pi h / D)), cosine 1 + that
 * (rabitq_distance computes them).  Measured (test/t/090_quant.pl,
 * Fashion-MNIST l2, 300 x 20 pairs, 60 rotations, centroid the origin):
 * mean |error| 446,740 against 323,784 for a query prepared from floats,
 * mean error 8,962 (standard error 23,636); the 1 / ip_bar^2 form gave
 * 1,450,682 and -1,297,324.  No bound: rabitq_distance sets *bound to 0
 * for such a query.  palloc'd.
 */
extern QUANT_API RabitqQuery *rabitq_prepare_code(const RabitqRotation *rot,
												  VectorMetric metric,
												  const RabitqElement *e, double cc);

/*
 * rabitq_code_valid: whether `e` (of a `dim`-dimensional code) is one
 * rabitq_encode can write: norm finite and >= 0, cr finite, ip_bar in
 * (0, 1] and `ones` the number of 1 bits.
 */
extern QUANT_API bool rabitq_code_valid(const RabitqElement *e, int dim);

/*
 * rabitq_distance: the estimated index-order distance from the query to
 * the element; *bound (if not NULL) gets the half-width of the interval
 * that holds the true distance with high probability (eps0 = RABITQ_EPS0;
 * scale it by eps / RABITQ_EPS0 for another confidence).  For a query
 * from rabitq_prepare_code, the distance between the two codes described
 * there (*bound 0).
 */
extern QUANT_API double rabitq_distance(const RabitqQuery *q, const RabitqElement *e,
										double *bound);

#endif							/* VSIM_QUANT_H */
