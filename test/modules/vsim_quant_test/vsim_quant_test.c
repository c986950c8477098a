/*-------------------------------------------------------------------------
 *
 * vsim_quant_test.c
 *	  Test-only SQL functions over vsim's quantization codecs (quant.h):
 *	  kernel agreement across instruction sets, sq8 round-trip bounds, the
 *	  RaBitQ rotation's orthogonality and reproducibility, recall and
 *	  error statistics on real data, and the micro-benchmark of
 *	  test/bench/bench_quant.sh.  The functions call vsim.so directly, so
 *	  the session must LOAD 'vsim' first.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>
#include <time.h>

#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "quant/quant.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"
#include "vector/vector.h"

PG_MODULE_MAGIC;

/* ---------------------------------------------------------------------
 * Helpers
 * ---------------------------------------------------------------------
 */
static uint64 rng_state;

static uint64
rng_next(void)
{
	uint64		z = (rng_state += UINT64CONST(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64CONST(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64CONST(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* uniform in [-1, 1) */
static double
rng_unit(void)
{
	return (double) (rng_next() >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

/* the kernel sets this CPU runs, portable first */
static int
kernel_sets(const QuantKernels **sets, const VectorKernels **vsets)
{
	int			n = 0;

	sets[n] = &quant_kernels_portable;
	vsets[n++] = &vector_kernels_portable;
	if (quant_kernels_avx2() && vector_kernels_avx2())
	{
		sets[n] = quant_kernels_avx2();
		vsets[n++] = vector_kernels_avx2();
	}
	if (quant_kernels_avx512() && vector_kernels_avx512())
	{
		sets[n] = quant_kernels_avx512();
		vsets[n++] = vector_kernels_avx512();
	}
	return n;
}

static VectorMetric
parse_metric(const char *name)
{
	if (strcmp(name, "l2") == 0)
		return VECTOR_METRIC_L2;
	if (strcmp(name, "ip") == 0)
		return VECTOR_METRIC_IP;
	if (strcmp(name, "cosine") == 0)
		return VECTOR_METRIC_COSINE;
	if (strcmp(name, "l1") == 0)
		return VECTOR_METRIC_L1;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown metric \"%s\"", name),
			 errhint("Use l2, ip, cosine or l1.")));
	return VECTOR_METRIC_L2;
}

/*
 * The vectors of the first column (type vector) of `sql`, row-major, as
 * floats palloc'd in the caller's context; *n rows of *dim dimensions
 * (*dim must match when > 0 on entry; 0: taken from the first row).
 */
static float *
read_vectors(const char *sql, int *n, int *dim)
{
	MemoryContext caller = CurrentMemoryContext;
	float	   *out = NULL;
	uint64		rows;

	SPI_connect();
	if (SPI_execute(sql, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "query failed: %s", sql);
	if (SPI_tuptable->tupdesc->natts < 1 ||
		strcmp(SPI_gettype(SPI_tuptable->tupdesc, 1), "vector") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the first column of the query must be of type vector")));
	rows = SPI_processed;
	for (uint64 r = 0; r < rows; r++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull);
		Vector	   *v;

		if (isnull)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("the query returned a NULL vector")));
		v = DatumGetVector(d);
		if (*dim == 0)
			*dim = v->dim;
		if (v->dim != *dim)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("vectors of %d and %d dimensions", *dim, v->dim)));
		if (out == NULL)
			out = MemoryContextAlloc(caller, sizeof(float) * (Size) Max(rows, 1) * *dim);
		memcpy(out + (Size) r * *dim, v->x, sizeof(float) * *dim);
	}
	SPI_finish();
	*n = (int) rows;
	if (out == NULL)
		out = palloc(sizeof(float));
	return out;
}

/* ---------------------------------------------------------------------
 * quant_kernels_agree()
 * ---------------------------------------------------------------------
 */
static void
agree_lengths(const QuantKernels *k, int n, bool extreme)
{
	int16	   *q = palloc(sizeof(int16) * n);
	uint8	   *c = palloc(n);
	float	   *p = palloc(sizeof(float) * n);
	float	   *w = palloc(sizeof(float) * n);
	int			nbytes = ((n + 7) / 8) * 8;
	uint8	   *planes = palloc(4 * nbytes);
	uint8	   *bits = palloc(nbytes);
	int64		d0,
				d1;
	float		l0,
				l1;
	uint64		b0,
				b1;

	for (int i = 0; i < n; i++)
	{
		q[i] = extreme ? (i % 3 == 0 ? -32767 : 32767) : (int16) (rng_next() % 65535 - 32767);
		c[i] = extreme ? 255 : (uint8) rng_next();
		p[i] = (float) (rng_unit() * 300.0);
		w[i] = (float) fabs(rng_unit() * 2.0);
	}
	for (int i = 0; i < 4 * nbytes; i++)
		planes[i] = (uint8) rng_next();
	for (int i = 0; i < nbytes; i++)
		bits[i] = extreme ? 0xff : (uint8) rng_next();

	d0 = quant_kernels_portable.sq8_dot(q, c, n);
	d1 = k->sq8_dot(q, c, n);
	if (d0 != d1)
		elog(ERROR, "sq8_dot of set %s differs at n = %d: " INT64_FORMAT " != " INT64_FORMAT,
			 k->name, n, d1, d0);
	if (extreme)
	{
		/* the reference itself, in exact int64 */
		int64		ref = 0;

		for (int i = 0; i < n; i++)
			ref += (int64) q[i] * c[i];
		if (ref != d0)
			elog(ERROR, "portable sq8_dot wrong at n = %d", n);
	}
	l0 = quant_kernels_portable.sq8_l1(p, w, c, n);
	l1 = k->sq8_l1(p, w, c, n);
	if (memcmp(&l0, &l1, sizeof(float)) != 0)
		elog(ERROR, "sq8_l1 of set %s differs at n = %d: %.9g != %.9g", k->name, n, l1, l0);
	b0 = quant_kernels_portable.bits_dot(planes, 4, bits, nbytes);
	b1 = k->bits_dot(planes, 4, bits, nbytes);
	if (b0 != b1)
		elog(ERROR, "bits_dot of set %s differs at %d bytes: " UINT64_FORMAT " != " UINT64_FORMAT,
			 k->name, nbytes, b1, b0);
	pfree(q);
	pfree(c);
	pfree(p);
	pfree(w);
	pfree(planes);
	pfree(bits);
}

PG_FUNCTION_INFO_V1(quant_kernels_agree);
Datum
quant_kernels_agree(PG_FUNCTION_ARGS)
{
	const QuantKernels *sets[3];
	const VectorKernels *vsets[3];
	int			nsets = kernel_sets(sets, vsets);
	StringInfoData names;

	initStringInfo(&names);
	rng_state = 12345;
	for (int s = 0; s < nsets; s++)
	{
		/* portable too: its sq8_dot is checked against int64 on extremes */
		for (int n = 1; n <= 70; n++)
			agree_lengths(sets[s], n, false);
		agree_lengths(sets[s], 784, false);
		/* bit kernels over 70 64-bit words and 784 of them */
		agree_lengths(sets[s], 70 * 64, false);
		agree_lengths(sets[s], 784 * 8, false);
		/* int32 lanes at their largest: every term 32767 * 255 */
		agree_lengths(sets[s], 784, true);
		agree_lengths(sets[s], 8000, true);
		agree_lengths(sets[s], SQ8_MAX_DIM, true);
		appendStringInfo(&names, "%s%s", s ? "," : "", sets[s]->name);
	}
	PG_RETURN_TEXT_P(cstring_to_text(names.data));
}

PG_FUNCTION_INFO_V1(quant_kernels_current);
Datum
quant_kernels_current(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(quant_kernels()->name));
}

/* ---------------------------------------------------------------------
 * quant_sq8_roundtrip(train_sql, data_sql)
 * ---------------------------------------------------------------------
 */
PG_FUNCTION_INFO_V1(quant_sq8_roundtrip);
Datum
quant_sq8_roundtrip(PG_FUNCTION_ARGS)
{
	int			ntrain,
				ndata,
				dim = 0;
	float	   *train = read_vectors(text_to_cstring(PG_GETARG_TEXT_PP(0)), &ntrain, &dim);
	float	   *data = read_vectors(text_to_cstring(PG_GETARG_TEXT_PP(1)), &ndata, &dim);
	Sq8Params  *p = sq8_train(train, ntrain, dim);
	const float *step = SQ8_STEP(p);
	Sq8Element *e = palloc(SQ8_ELEMENT_SIZE(dim));
	float	   *dec = palloc(sizeof(float) * dim);
	double		in_ratio = 0.0,
				out_ratio = 0.0;
	int64		n_out = 0;
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	for (int r = 0; r < ndata; r++)
	{
		const float *x = data + (Size) r * dim;
		double		norm2 = 0.0;

		CHECK_FOR_INTERRUPTS();
		sq8_encode(p, x, e);
		sq8_decode(p, e, dec);
		for (int i = 0; i < dim; i++)
		{
			double		hi = (double) p->lo[i] + 255.0 * step[i];
			double		half = step[i] / 2.0;
			double		err;

			norm2 += (double) dec[i] * dec[i];
			if (x[i] >= p->lo[i] && x[i] <= hi)
			{
				err = fabs((double) x[i] - dec[i]);
				if (half > 0.0)
					in_ratio = Max(in_ratio, err / half);
				else if (err > 0.0)
					in_ratio = DBL_MAX;
			}
			else
			{
				double		clamped = x[i] < p->lo[i] ? p->lo[i] : hi;

				err = fabs(clamped - dec[i]);
				n_out++;
				if (half > 0.0)
					out_ratio = Max(out_ratio, err / half);
				else if (err > 0.0)
					out_ratio = DBL_MAX;
			}
		}
		if (fabs(norm2 - e->norm2) > 1e-5 * Max(norm2, 1e-30))
			elog(ERROR, "stored norm2 %.9g of row %d is not |decoded|^2 = %.9g",
				 e->norm2, r, norm2);
	}
	values[0] = Float8GetDatum(in_ratio);
	values[1] = Float8GetDatum(out_ratio);
	values[2] = Int64GetDatum(n_out);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/* ---------------------------------------------------------------------
 * quant_rotation_check(dim, seed)
 * ---------------------------------------------------------------------
 */
PG_FUNCTION_INFO_V1(quant_rotation_check);
Datum
quant_rotation_check(PG_FUNCTION_ARGS)
{
	int			dim = PG_GETARG_INT32(0);
	uint64		seed = (uint64) PG_GETARG_INT64(1);
	RabitqRotation *rot = rabitq_rotation_init(dim, seed);
	RabitqRotation *again = rabitq_rotation_init(dim, seed);
	RabitqRotation *other = rabitq_rotation_init(dim, seed + 1);
	float	   *x = palloc(sizeof(float) * dim);
	float	   *y = palloc(sizeof(float) * dim);
	float	   *rx = palloc(sizeof(float) * rot->pdim);
	float	   *ry = palloc(sizeof(float) * rot->pdim);
	double		worst = 0.0;

	if (memcmp(rot, again, RABITQ_ROTATION_SIZE(dim)) != 0)
		elog(ERROR, "rotation of seed " UINT64_FORMAT " is not reproducible", seed);
	if (memcmp(rot->signs, other->signs, rot->rounds * rot->pdim / 8) == 0)
		elog(ERROR, "seeds " UINT64_FORMAT " and the next give the same rotation", seed);
	rng_state = seed;
	for (int t = 0; t < 100; t++)
	{
		double		xx = 0,
					xy = 0,
					rxx = 0,
					rxy = 0;

		for (int i = 0; i < dim; i++)
		{
			x[i] = (float) rng_unit();
			y[i] = (float) rng_unit();
			xx += (double) x[i] * x[i];
			xy += (double) x[i] * y[i];
		}
		rabitq_rotate(rot, x, rx);
		rabitq_rotate(rot, y, ry);
		for (int i = 0; i < rot->pdim; i++)
		{
			rxx += (double) rx[i] * rx[i];
			rxy += (double) rx[i] * ry[i];
		}
		worst = Max(worst, fabs(rxx - xx) / xx);
		worst = Max(worst, fabs(rxy - xy) / xx);
	}
	PG_RETURN_FLOAT8(worst);
}

/* ---------------------------------------------------------------------
 * quant_eval(codec, metric, base_sql, query_sql, k, rerank)
 * ---------------------------------------------------------------------
 */
typedef struct Scored
{
	double		d;
	int			id;
} Scored;

static int
cmp_scored(const void *a, const void *b)
{
	const Scored *x = a,
			   *y = b;

	if (x->d != y->d)
		return x->d < y->d ? -1 : 1;
	return x->id - y->id;
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/* what the relative error is relative to (see the function's comment) */
static double
err_scale(VectorMetric metric, double exact, double qnorm, double xnorm)
{
	switch (metric)
	{
		case VECTOR_METRIC_IP:
			return qnorm * xnorm;
		case VECTOR_METRIC_COSINE:
			return 1.0;
		default:
			return fabs(exact);
	}
}

PG_FUNCTION_INFO_V1(quant_eval);
Datum
quant_eval(PG_FUNCTION_ARGS)
{
	char	   *codec = text_to_cstring(PG_GETARG_TEXT_PP(0));
	VectorMetric metric = parse_metric(text_to_cstring(PG_GETARG_TEXT_PP(1)));
	int			k = PG_GETARG_INT32(4);
	int			rerank = PG_GETARG_INT32(5);
	bool		is_sq8 = strcmp(codec, "sq8") == 0;
	bool		is_pv = strcmp(codec, "sq8pv") == 0;
	float	   *pv = NULL;
	int			nbase,
				nq,
				dim = 0;
	float	   *base,
			   *queries;
	Size		esize;
	char	   *elems;
	Sq8Params  *sp = NULL;
	RabitqRotation *rot = NULL;
	float	   *centroid = NULL;
	double	   *xnorm;
	Scored	   *approx,
			   *exact;
	double	   *errs;
	int64		nerr = 0,
				hits = 0,
				inside = 0,
				inside3 = 0;
	double		sum_err = 0,
				sum_signed = 0,
				sum_abs = 0;
	int			depth;
	TupleDesc	tupdesc;
	Datum		values[7];
	bool		nulls[7] = {false, false, false, false, false, false, false};

	if (!is_sq8 && !is_pv && strcmp(codec, "rabitq") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown codec \"%s\"", codec),
				 errhint("Use sq8 or rabitq.")));
	if (k < 1 || rerank < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k and rerank must be at least 1")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (!is_sq8 && !is_pv)
		rabitq_check_metric(metric);
	base = read_vectors(text_to_cstring(PG_GETARG_TEXT_PP(2)), &nbase, &dim);
	queries = read_vectors(text_to_cstring(PG_GETARG_TEXT_PP(3)), &nq, &dim);

	if (is_pv)
	{
		/*
		 * The per-vector alternative to sq8's per-dimension ranges, for the
		 * comparison in quant.h: x^ = min + (max - min) / 255 * code with
		 * min and max of each vector; distances exact to x^ (no kernel).
		 */
		pv = palloc(sizeof(float) * (Size) Max(nbase, 1) * dim);
		for (int r = 0; r < nbase; r++)
		{
			const float *x = base + (Size) r * dim;
			float	   *y = pv + (Size) r * dim;
			double		lo = x[0],
						hi = x[0],
						st;

			for (int i = 1; i < dim; i++)
			{
				lo = Min(lo, x[i]);
				hi = Max(hi, x[i]);
			}
			st = (hi - lo) / 255.0;
			for (int i = 0; i < dim; i++)
				y[i] = st > 0 ? (float) (lo + st * rint((x[i] - lo) / st)) : (float) lo;
		}
		esize = 0;
	}
	else if (is_sq8)
	{
		sp = sq8_train(base, nbase, dim);
		esize = MAXALIGN(SQ8_ELEMENT_SIZE(dim));
	}
	else
	{
		if (nbase < 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("rabitq needs at least one base vector")));
		rot = rabitq_rotation_init(dim, 42);
		esize = MAXALIGN(RABITQ_ELEMENT_SIZE(dim));
		/* one centroid: the mean (of the unit vectors, for cosine) */
		centroid = palloc0(sizeof(float) * dim);
		{
			double	   *sum = palloc0(sizeof(double) * dim);
			float	   *u = palloc(sizeof(float) * dim);

			for (int r = 0; r < nbase; r++)
			{
				const float *x = base + (Size) r * dim;

				if (metric == VECTOR_METRIC_COSINE && vector_l2_normalize_into(x, dim, u))
					x = u;
				for (int i = 0; i < dim; i++)
					sum[i] += x[i];
			}
			for (int i = 0; i < dim; i++)
				centroid[i] = (float) (sum[i] / nbase);
		}
	}
	elems = palloc(esize * Max(nbase, 1));
	xnorm = palloc(sizeof(double) * Max(nbase, 1));
	for (int r = 0; r < nbase; r++)
	{
		const float *x = base + (Size) r * dim;

		CHECK_FOR_INTERRUPTS();
		if (is_pv)
			;
		else if (is_sq8)
			sq8_encode(sp, x, (Sq8Element *) (elems + esize * r));
		else
			rabitq_encode(rot, metric, x, centroid, (RabitqElement *) (elems + esize * r));
		xnorm[r] = sqrt(Max(0.0, -vector_metric_distance(VECTOR_METRIC_IP, x, x, dim)));
	}

	approx = palloc(sizeof(Scored) * Max(nbase, 1));
	exact = palloc(sizeof(Scored) * Max(nbase, 1));
	errs = palloc(sizeof(double) * Max((Size) nbase * nq, 1));
	depth = Min(nbase, k * rerank);
	for (int qi = 0; qi < nq; qi++)
	{
		const float *q = queries + (Size) qi * dim;
		double		qnorm = sqrt(Max(0.0, -vector_metric_distance(VECTOR_METRIC_IP, q, q, dim)));
		Sq8Query   *sq = NULL;
		RabitqQuery *rq = NULL;
		double		kth;
		int			kk = Min(k, nbase);

		CHECK_FOR_INTERRUPTS();
		if (is_pv)
			;
		else if (is_sq8)
			sq = sq8_prepare_query(sp, metric, q);
		else
			rq = rabitq_prepare_query(rot, metric, q, centroid);
		for (int r = 0; r < nbase; r++)
		{
			char	   *e = elems + esize * r;
			double		bound = 0.0;
			double		a = is_pv ? vector_metric_distance(metric, q, pv + (Size) r * dim, dim) :
				is_sq8 ? sq8_distance(sq, (Sq8Element *) e) :
				rabitq_distance(rq, (RabitqElement *) e, &bound);
			double		x = vector_metric_distance(metric, q, base + (Size) r * dim, dim);
			double		scale = err_scale(metric, x, qnorm, xnorm[r]);

			approx[r].d = a;
			approx[r].id = r;
			exact[r].d = x;
			exact[r].id = r;
			if (scale > 0.0)
			{
				errs[nerr++] = fabs(a - x) / scale;
				sum_err += fabs(a - x) / scale;
			}
			sum_signed += a - x;
			sum_abs += fabs(a - x);
			if (fabs(a - x) <= bound)
				inside++;
			if (fabs(a - x) <= bound * (3.0 / RABITQ_EPS0))
				inside3++;
		}
		qsort(exact, nbase, sizeof(Scored), cmp_scored);
		kth = kk > 0 ? exact[kk - 1].d : 0.0;
		qsort(approx, nbase, sizeof(Scored), cmp_scored);
		/* re-rank the top `depth` by exact distance */
		for (int j = 0; j < depth; j++)
			approx[j].d = vector_metric_distance(metric, q, base + (Size) approx[j].id * dim, dim);
		qsort(approx, depth, sizeof(Scored), cmp_scored);
		/* a hit: as close as the k-th true neighbour (ties count) */
		for (int j = 0; j < Min(kk, depth); j++)
			if (approx[j].d <= kth + 1e-9 * fabs(kth))
				hits++;
		if (sq)
			pfree(sq->u16);
	}
	qsort(errs, nerr, sizeof(double), cmp_double);
	values[0] = Float8GetDatum(nq > 0 && nbase > 0 ? (double) hits / ((double) nq * Min(k, nbase)) : 0.0);
	values[1] = Float8GetDatum(nerr ? sum_err / nerr : 0.0);
	values[2] = Float8GetDatum(nerr ? errs[Min(nerr - 1, (int64) (0.99 * nerr))] : 0.0);
	values[3] = Float8GetDatum(nq && nbase ? sum_signed / ((double) nq * nbase) : 0.0);
	values[4] = Float8GetDatum(nq && nbase ? sum_abs / ((double) nq * nbase) : 0.0);
	values[5] = Float8GetDatum(nq && nbase ? (double) inside / ((double) nq * nbase) : 0.0);
	values[6] = Float8GetDatum(nq && nbase ? (double) inside3 / ((double) nq * nbase) : 0.0);
	if (is_sq8 || is_pv)
		nulls[5] = nulls[6] = true;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/* ---------------------------------------------------------------------
 * quant_bench(dim, n, reps)
 * ---------------------------------------------------------------------
 */
static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* keeps the compiler from dropping the timed loops */
static volatile double bench_sink;

PG_FUNCTION_INFO_V1(quant_bench);
Datum
quant_bench(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			dim = PG_GETARG_INT32(0);
	int			n = PG_GETARG_INT32(1);
	int			reps = PG_GETARG_INT32(2);
	const QuantKernels *sets[3];
	const VectorKernels *vsets[3];
	int			nsets;
	float	   *data,
			   *q;
	Sq8Params  *sp;
	RabitqRotation *rot;
	Size		sq_size = MAXALIGN(SQ8_ELEMENT_SIZE(dim)),
				rq_size = MAXALIGN(RABITQ_ELEMENT_SIZE(dim));
	char	   *sq_elems,
			   *rq_elems;

	vector_check_dim(dim);
	if (n < 1 || reps < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n and reps must be at least 1")));
#if PG_VERSION_NUM >= 150000
	InitMaterializedSRF(fcinfo, 0);
#else
	{
		TupleDesc	tupdesc;
		MemoryContext old;

		if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
			!(rsinfo->allowedModes & SFRM_Materialize))
			elog(ERROR, "quant_bench must be called in a context that accepts a set");
		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
		rsinfo->returnMode = SFRM_Materialize;
		rsinfo->setResult = tuplestore_begin_heap(true, false, work_mem);
		rsinfo->setDesc = CreateTupleDescCopy(tupdesc);
		MemoryContextSwitchTo(old);
	}
#endif
	nsets = kernel_sets(sets, vsets);
	rng_state = 7;
	data = palloc(sizeof(float) * (Size) n * dim);
	q = palloc(sizeof(float) * dim);
	for (Size i = 0; i < (Size) n * dim; i++)
		data[i] = (float) rng_unit();
	for (int i = 0; i < dim; i++)
		q[i] = (float) rng_unit();
	sp = sq8_train(data, n, dim);
	rot = rabitq_rotation_init(dim, 42);
	sq_elems = palloc(sq_size * n);
	rq_elems = palloc(rq_size * n);
	for (int r = 0; r < n; r++)
	{
		sq8_encode(sp, data + (Size) r * dim, (Sq8Element *) (sq_elems + sq_size * r));
		rabitq_encode(rot, VECTOR_METRIC_L2, data + (Size) r * dim, NULL,
					  (RabitqElement *) (rq_elems + rq_size * r));
	}

	for (int s = 0; s < nsets; s++)
	{
		for (int what = 0; what < 4; what++)
		{
			static const char *const codecs[] = {"float32", "sq8", "sq8", "rabitq"};
			static const char *const metrics[] = {"l2", "l2", "l1", "l2"};
			Sq8Query   *sq = sq8_prepare_query(sp, what == 2 ? VECTOR_METRIC_L1 : VECTOR_METRIC_L2, q);
			RabitqQuery *rq = rabitq_prepare_query(rot, VECTOR_METRIC_L2, q, NULL);
			double		sum = 0.0,
						t0,
						t1;
			int			bytes;
			Datum		values[5];
			bool		nulls[5] = {false, false, false, false, false};

			sq->kernels = sets[s];
			rq->kernels = sets[s];
			t0 = now_ns();
			for (int rep = 0; rep < reps; rep++)
			{
				CHECK_FOR_INTERRUPTS();
				for (int r = 0; r < n; r++)
				{
					if (what == 0)
						sum += vsets[s]->l2_squared(q, data + (Size) r * dim, dim);
					else if (what == 3)
						sum += rabitq_distance(rq, (RabitqElement *) (rq_elems + rq_size * r), NULL);
					else
						sum += sq8_distance(sq, (Sq8Element *) (sq_elems + sq_size * r));
				}
			}
			t1 = now_ns();
			bench_sink = sum;
			bytes = what == 0 ? (int) (sizeof(float) * dim) :
				what == 3 ? (int) RABITQ_ELEMENT_SIZE(dim) : (int) SQ8_ELEMENT_SIZE(dim);
			values[0] = CStringGetTextDatum(sets[s]->name);
			values[1] = CStringGetTextDatum(codecs[what]);
			values[2] = CStringGetTextDatum(metrics[what]);
			values[3] = Float8GetDatum((t1 - t0) / ((double) n * reps));
			values[4] = Int32GetDatum(bytes);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}

/* ---------------------------------------------------------------------
 * quant_rabitq_bias(metric, base_sql, query_sql, nseeds, code_queries)
 * ---------------------------------------------------------------------
 */

/*
 * RaBitQ's estimator is unbiased over the random rotation (Theorem 3.2 of
 * the paper), not over pairs under one rotation, whose errors correlate
 * when the data cluster.  So: the signed error of every (query, base) pair
 * under each of nseeds independent rotations (centroid: the origin); each
 * seed's mean is one independent sample, and their standard error tells
 * how far from 0 the overall mean may be by chance.  With code_queries,
 * each query is encoded as well and prepared from its code
 * (rabitq_prepare_code): the distance between two stored codes that an
 * hnsw insert or VACUUM computes.
 */
PG_FUNCTION_INFO_V1(quant_rabitq_bias);
Datum
quant_rabitq_bias(PG_FUNCTION_ARGS)
{
	VectorMetric metric = parse_metric(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	int			nseeds = PG_GETARG_INT32(3);
	bool		code_queries = PG_GETARG_BOOL(4);
	int			nbase,
				nq,
				dim = 0;
	float	   *base,
			   *queries;
	double	   *seed_mean;
	RabitqElement *eq;
	double		sum_abs = 0.0,
				mean = 0.0,
				var = 0.0;
	RabitqElement *e;
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	rabitq_check_metric(metric);
	if (nseeds < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("nseeds must be at least 2")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	base = read_vectors(text_to_cstring(PG_GETARG_TEXT_PP(1)), &nbase, &dim);
	queries = read_vectors(text_to_cstring(PG_GETARG_TEXT_PP(2)), &nq, &dim);
	if (nbase < 1 || nq < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("quant_rabitq_bias needs base and query vectors")));
	seed_mean = palloc0(sizeof(double) * nseeds);
	e = palloc(RABITQ_ELEMENT_SIZE(dim));
	eq = palloc(RABITQ_ELEMENT_SIZE(dim));
	for (int s = 0; s < nseeds; s++)
	{
		RabitqRotation *rot = rabitq_rotation_init(dim, 1000 + s);
		RabitqQuery **rq = palloc(sizeof(RabitqQuery *) * nq);

		for (int qi = 0; qi < nq; qi++)
		{
			if (code_queries)
			{
				/* centroid the origin: |c|^2 = 0 */
				rabitq_encode(rot, metric, queries + (Size) qi * dim, NULL, eq);
				rq[qi] = rabitq_prepare_code(rot, metric, eq, 0.0);
			}
			else
				rq[qi] = rabitq_prepare_query(rot, metric, queries + (Size) qi * dim, NULL);
		}
		for (int r = 0; r < nbase; r++)
		{
			const float *x = base + (Size) r * dim;

			CHECK_FOR_INTERRUPTS();
			rabitq_encode(rot, metric, x, NULL, e);
			for (int qi = 0; qi < nq; qi++)
			{
				double		err = rabitq_distance(rq[qi], e, NULL) -
					vector_metric_distance(metric, queries + (Size) qi * dim, x, dim);

				seed_mean[s] += err;
				sum_abs += fabs(err);
			}
		}
		seed_mean[s] /= (double) nbase * nq;
		mean += seed_mean[s];
	}
	mean /= nseeds;
	for (int s = 0; s < nseeds; s++)
		var += (seed_mean[s] - mean) * (seed_mean[s] - mean);
	var /= nseeds - 1;
	values[0] = Float8GetDatum(mean);
	values[1] = Float8GetDatum(sqrt(var / nseeds));
	values[2] = Float8GetDatum(sum_abs / ((double) nbase * nq * nseeds));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}
