/*-------------------------------------------------------------------------
 *
 * vector.h
 *	  Public interface of vsim's vector subsystem: the on-disk layout of the
 *	  `vector` type, its construction and checking helpers, the SIMD distance
 *	  kernels with run-time dispatch, and the metric lookup that index access
 *	  methods use to call those kernels directly.
 *
 * Value layout (a varlena, never compressed: the type's storage is EXTERNAL):
 *
 *	  int32   vl_len_		varlena header
 *	  int16   dim			number of elements, 1 .. VECTOR_MAX_DIM
 *	  int16   unused		always 0 (the binary format's reserved field)
 *	  float4  x[dim]		finite elements (never NaN or +/-Infinity)
 *
 * The binary send/recv format is the same fields in network byte order,
 * without the varlena header: int16 dim, int16 reserved (0), float4[dim].
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSIM_VECTOR_H
#define VSIM_VECTOR_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/relcache.h"

#define VECTOR_MAX_DIM 16000

typedef struct Vector
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int16		dim;			/* number of elements */
	int16		unused;			/* reserved, always zero */
	float		x[FLEXIBLE_ARRAY_MEMBER];
} Vector;

#define VECTOR_SIZE(dim)		(offsetof(Vector, x) + sizeof(float) * (dim))
#define DatumGetVector(d)		((Vector *) PG_DETOAST_DATUM(d))
#define PG_GETARG_VECTOR_P(n)	DatumGetVector(PG_GETARG_DATUM(n))
#define PG_RETURN_VECTOR_P(v)	PG_RETURN_POINTER(v)

/*
 * new_vector: palloc a zero-filled vector of `dim` elements.
 * Raises 22000 (data_exception) for dim < 1 and 54000
 * (program_limit_exceeded) for dim > VECTOR_MAX_DIM.
 */
extern Vector *new_vector(int dim);

/* Raise 22000 / 54000 unless 1 <= dim <= VECTOR_MAX_DIM. */
extern PGDLLEXPORT void vector_check_dim(int dim);

/*
 * vector_check_dim_of: the dimension check of every dense type: raises
 * 22000 (data_exception) for dim < 1 and 54000 (program_limit_exceeded)
 * for dim > max_dim, naming type `typname` ("vector", "halfvec").
 */
extern void vector_check_dim_of(const char *typname, int dim, int max_dim);

/*
 * vector_typmod_parse: the typmod_in of vector, halfvec and sparsevec:
 * the one modifier of `ta` (cstring[]), the dimensions, 1 .. max_dim;
 * 22023 (invalid_parameter_value) otherwise, naming `typname`.
 */
struct ArrayType;
extern int	vector_typmod_parse(struct ArrayType *ta, const char *typname, int max_dim);

/*
 * vector_recv_header: read the header of the binary form of a dense type
 * from `buf` (int16 dim, int16 reserved that must be 0) and check that
 * exactly dim elements of `elem_size` bytes follow; returns dim.  Raises
 * 22P03 (invalid_binary_representation) for a reserved field other than 0
 * or a message of another length, and vector_check_dim_of's errors for a
 * bad dim.  vector and halfvec share it.
 */
struct StringInfoData;
extern int	vector_recv_header(struct StringInfoData *buf, const char *typname,
							   int max_dim, int elem_size);

/* Raise 22000 (data_exception) unless a and b have the same dimensions. */
extern void vector_check_same_dims(const Vector *a, const Vector *b);

/*
 * Raise an error for a non-finite element: 22000 (data_exception) for NaN,
 * 22003 (numeric_value_out_of_range) for +/-Infinity.  Every constructor
 * of a vector whose elements could be non-finite calls it (input, casts,
 * aggregate final functions, embedding outputs).
 */
extern void vector_check_finite(const float *x, int dim);

/* vector_check_finite with `typname` instead of "vector" in the messages */
extern void vector_check_finite_named(const float *x, int dim, const char *typname);

/*
 * vector_parse_text: the elements of the text form "[x1,x2,...]" as a
 * palloc'd float array of *n (1 .. max_dim) elements.  Whitespace is
 * allowed around brackets and numbers; each element is read with strtof,
 * so any float4 literal is accepted except NaN and infinities (22000,
 * 22003) and values beyond float4's range (22003); one too small for
 * float4 reads as its rounding (+/-0 or a subnormal), as pgvector does.
 * Raises 22P02 for bad syntax, 22000 for "[]" and 54000 past max_dim;
 * `typname` names the type in messages.  The text input of vector and
 * halfvec.
 */
extern float *vector_parse_text(const char *str, const char *typname,
								int max_dim, int *n);

/*
 * vector_l2_normalize_into: out[0..n) = x[0..n) / |x|, the norm taken in
 * double precision (so vectors too small for a float4 sum of squares keep
 * their direction); `out` may be `x`.  Returns false, leaving out = x,
 * when x is all zeros.  The one normalisation of vsim: l2_normalize(), the
 * embedding outputs, spherical k-means.
 */
extern PGDLLEXPORT bool vector_l2_normalize_into(const float *x, int n, float *out);

/*
 * vector_check_typmod: check that `v` has `typmod` dimensions (typmod -1
 * accepts any); raises 22000 with the expected and actual dimensions.
 */
extern void vector_check_typmod(const Vector *v, int32 typmod);

/*
 * vector_array_to_floats: the elements of a one-dimensional real[],
 * double precision[], integer[] or numeric[] array without NULLs as a
 * palloc'd float array, *n elements (possibly 0).  Raises 2202E for more
 * dimensions, 22004 for a NULL, 42804 for another element type, 22003 for
 * a finite value beyond `max_abs` in magnitude (FLT_MAX for float4
 * elements, HALFVEC_MAX_VALUE for halfvec); `typname` names the target
 * type in messages.  NaN and infinities pass: the caller checks
 * finiteness.  The array casts of vector, sparsevec and halfvec share it.
 */
struct ArrayType;
extern float *vector_array_to_floats(struct ArrayType *arr, const char *typname,
									 float max_abs, int *n);

/*
 * vector_cached_distance_arg: argument `argno` (0 or 1) of a distance
 * function, detoasted.  An out-of-line (TOASTed) argument is fetched once
 * per call site and kept in fn_extra while later calls pass the same TOAST
 * pointer (a query vector in a LATERAL join); vector_ops.c explains why.
 * The distances of vector and halfvec share it: the function's first two
 * arguments must both be of the one type.
 */
extern struct varlena *vector_cached_distance_arg(FunctionCallInfo fcinfo, int argno);

/* ---------------------------------------------------------------------
 * Distance kernels (distance.c, distance_x86.c)
 *
 * Every kernel takes two float arrays of `n` elements (n >= 0) and
 * accumulates in float lanes.  There is one implementation per instruction
 * set; the active set is chosen at load time from CPUID and can be forced
 * with the setting vsim.distance_kernel (portable | avx2 | avx512), which
 * is how tests reach every variant.
 *
 * All sets return the same bits, so a distance never depends on the CPU a
 * server (a standby, a shard) runs on: they sum in one canonical order.
 * Element i goes to lane i % VECTOR_KERNEL_LANES, each lane accumulating in
 * order of i with one fused multiply-add per term (L1: one add of
 * |a[i] - b[i]|), starting from +0; then lane j takes lane j + w for
 * w = 16, 8, 4, 2, 1, and lane 0 is the result.
 * ---------------------------------------------------------------------
 */
#define VECTOR_KERNEL_LANES 32
/* how often l2_squared_below tests its bound: 4 blocks of lanes */
#define VECTOR_KERNEL_BOUND_STEP (4 * VECTOR_KERNEL_LANES)

typedef struct VectorKernels
{
	const char *name;
	/* sum((a[i] - b[i])^2) */
	float		(*l2_squared) (const float *a, const float *b, int n);

	/*
	 * l2_squared's bits when they are below `bound`; else some value >=
	 * bound, where the sum may have stopped: every VECTOR_KERNEL_BOUND_STEP
	 * elements the lanes folded so far are compared with it (each lane only
	 * grows, and so does the fold, so the whole sum is no smaller)
	 */
	float		(*l2_squared_below) (const float *a, const float *b, int n,
									 float bound);
	/* sum(a[i] * b[i]) */
	float		(*inner_product) (const float *a, const float *b, int n);
	/* sum(|a[i] - b[i]|) */
	float		(*l1) (const float *a, const float *b, int n);
	/* one pass: *dot = sum(a*b), *aa = sum(a*a), *bb = sum(b*b) */
	void		(*cosine_parts) (const float *a, const float *b, int n,
								 float *dot, float *aa, float *bb);

	/*
	 * The same four over arrays of n binary16 values (halfvec.h): each
	 * element is widened to float (exactly), then summed in the canonical
	 * order above, so they return the float kernels' bits on the widened
	 * values.  avx2 and avx512 widen with F16C / AVX-512F conversions.
	 */
	float		(*l2_squared_half) (const uint16 *a, const uint16 *b, int n);
	float		(*inner_product_half) (const uint16 *a, const uint16 *b, int n);
	float		(*l1_half) (const uint16 *a, const uint16 *b, int n);
	void		(*cosine_parts_half) (const uint16 *a, const uint16 *b, int n,
									  float *dot, float *aa, float *bb);

	/*
	 * Bit-string kernels (bitvec.c) over n bytes: the portable set counts
	 * bits in C, avx2 with POPCNT, avx512 with VPOPCNTDQ where the CPU has
	 * it (POPCNT otherwise).  Exact integers, so every set agrees.
	 */
	/* number of 1 bits of a[i] ^ b[i] */
	uint64		(*hamming) (const uint8 *a, const uint8 *b, Size n);
	/* *both = number of 1 bits of a[i] & b[i], *either = of a[i] | b[i] */
	void		(*jaccard_parts) (const uint8 *a, const uint8 *b, Size n,
								  uint64 *both, uint64 *either);
} VectorKernels;

/* The kernels in use; never NULL after vector_init(). */
extern const VectorKernels *vector_kernels;

/*
 * Portable and x86 kernel tables; the x86 ones are NULL off x86-64.
 * PGDLLEXPORT here and below: called by test/modules/vsim_quant_test,
 * which PG 16+ could not link against otherwise (-fvisibility=hidden).
 */
extern PGDLLEXPORT const VectorKernels vector_kernels_portable;
extern PGDLLEXPORT const VectorKernels *vector_kernels_avx2(void);
extern PGDLLEXPORT const VectorKernels *vector_kernels_avx512(void);

/*
 * Cosine distance 1 - a.b / (|a| |b|) in double precision from the parts
 * (the float sums of the dense kernels or the double sums of the sparse
 * merge, sparsevec.c), clamped to [0, 2].  Defined as 1 (no similarity) when either vector has
 * zero norm, so it never returns NaN.
 */
extern double vector_cosine_distance_from_parts(double dot, double aa, double bb);

/*
 * Distances between two bit strings of `nbytes` bytes (padding bits zero),
 * in the active kernels (bitvec.c): the Hamming distance (number of
 * differing bits), and the Jaccard distance 1 - |a AND b| / |a OR b| in
 * [0, 1], 1 when both are all zeros.  The SQL functions hamming_distance
 * and jaccard_distance and the bit indexes use these.
 */
extern double bit_hamming_distance(const uint8 *a, const uint8 *b, Size nbytes);
extern double bit_jaccard_distance(const uint8 *a, const uint8 *b, Size nbytes);

/* Register the vector subsystem's settings; called from _PG_init. */
extern void vector_init(void);

/* ---------------------------------------------------------------------
 * Planner costs (vector_cost.c)
 * ---------------------------------------------------------------------
 */

/*
 * Planner costs of distances (vector_cost.c).  Every type's distance grows
 * with its operands in its own way (VectorCostKind): dense vectors with
 * their dimensions and element size, sparse ones with their stored
 * elements, bit strings with their bits.
 */
typedef enum VectorCostKind
{
	VECTOR_COST_FLOAT4,			/* vector */
	VECTOR_COST_HALF,			/* halfvec */
	VECTOR_COST_SPARSE,			/* sparsevec */
	VECTOR_COST_BIT,			/* bit */
} VectorCostKind;

/*
 * vector_distance_units_cost: the planner cost (cpu_operator_cost times a
 * multiplier) of one distance between two operands already in memory, of
 * `units` dimensions (dense), stored elements of both operands together
 * (sparse) or bits (bit); units <= 0 (unknown) assumes the kind's default
 * (128 dimensions, 100 elements, 1,024 bits).  vector_distance_cost(dims)
 * is the one for vector.
 */
extern double vector_distance_units_cost(VectorCostKind kind, int units);
extern double vector_distance_cost(int dims);

/*
 * vector_distance_call_cost: the cost of one call of a distance of `kind`
 * with operand expressions `args`: from the operands' sizes as the query
 * tells them (typmods, constants, for sparsevec ANALYZE statistics) and,
 * with `root` (NULL: the operands are in memory, as an index's are), the
 * TOAST fetches of operands that are columns stored out of line.  The
 * planner support functions vsim_*distance_support answer with it.
 */
struct PlannerInfo;
extern double vector_distance_call_cost(struct PlannerInfo *root, VectorCostKind kind,
										struct List *args);

/*
 * vector_expr_dims: the dimensions of `expr`, an expression of type vector
 * or halfvec (same header): its typmod (vector(n)), else the length of a
 * non-NULL constant, else -1.
 */
extern int	vector_expr_dims(struct Node *expr);

/* ---------------------------------------------------------------------
 * Metrics for index access methods (metric.c)
 *
 * Each operator class of vsim's index methods names its metric through
 * support function 1, a `(internal) RETURNS internal` C function such as
 * vsim_metric_l2().  vector_index_metric() calls it once per relation so
 * the index can call the kernels without fmgr overhead.
 * ---------------------------------------------------------------------
 */
typedef enum VectorMetric
{
	VECTOR_METRIC_L2 = 1,		/* ORDER BY <->; index distance = squared L2 */
	VECTOR_METRIC_IP = 2,		/* ORDER BY <#>; index distance = -a.b */
	VECTOR_METRIC_COSINE = 3,	/* ORDER BY <=>; index distance = 1 - cos */
	VECTOR_METRIC_L1 = 4,		/* ORDER BY <+>; index distance = sum |a-b| */
	VECTOR_METRIC_HAMMING = 5,	/* bit, ORDER BY <~>; differing bits */
	VECTOR_METRIC_JACCARD = 6	/* bit, ORDER BY <%>; 1 - |a & b| / |a | b| */
} VectorMetric;

#define VECTOR_METRIC_MAX	VECTOR_METRIC_JACCARD

#define VECTOR_METRIC_SUPPORT_PROC 1

/*
 * vector_index_metric: the metric of index column `attno` (1-based), read
 * from its operator class's support function 1.  Raises an internal error
 * if the function returns an unknown code.
 */
extern VectorMetric vector_index_metric(Relation index, AttrNumber attno);

/*
 * vector_metric_distance: the index-order distance between two arrays of
 * `dim` floats under `metric`, one of the float metrics l2, ip, cosine,
 * l1 (see VectorMetric for what each returns).
 * Monotone in the SQL operator's result, so ordering by it is exact.  The
 * kernels accumulate in float; when that overflows (elements near
 * FLT_MAX) the distance is recomputed in double, so it is never a spurious
 * Infinity.  The SQL distance functions are built on this too.
 */
extern PGDLLEXPORT double vector_metric_distance(VectorMetric metric,
												 const float *a, const float *b, int dim);

/*
 * vector_l2_below: vector_metric_distance under VECTOR_METRIC_L2 when that
 * is below `bound`, else some value >= bound (l2_squared_below may stop
 * early): for searches that drop what is not nearer than the bound.
 */
extern double vector_l2_below(const float *a, const float *b, int dim, double bound);

/*
 * vector_metric_to_sql: convert an index-order distance back to the value
 * the SQL operator returns (sqrt for L2, identity otherwise).
 */
extern double vector_metric_to_sql(VectorMetric metric, double distance);

/*
 * VECTOR_DISTANCE_SQL_FUNCTIONS(type, args_distance): define the six SQL
 * distance functions of a vector type, all from one static function
 * args_distance(FunctionCallInfo, VectorMetric) -> double giving the
 * index-order distance (see VectorMetric) between the call's two
 * arguments, which it checks (22000 for other dimensions):
 *
 *	  type_l2_distance				 <->, vector_metric_to_sql of L2
 *	  type_l2_squared_distance		 the index-order L2 distance itself
 *	  type_inner_product			 a.b
 *	  type_negative_inner_product	 <#>, -a.b
 *	  type_cosine_distance			 <=>, in [0, 2]; 1 when either is zero
 *	  type_l1_distance				 <+>
 *
 * so vector, halfvec and sparsevec compute each distance one way, the
 * way their indexes do.
 */
#define VECTOR_DISTANCE_SQL_FUNCTION(name, expr) \
	PG_FUNCTION_INFO_V1(name); \
	Datum \
	name(PG_FUNCTION_ARGS) \
	{ \
		PG_RETURN_FLOAT8(expr); \
	} \
	extern int	no_such_variable

#define VECTOR_DISTANCE_SQL_FUNCTIONS(type, args_distance) \
	VECTOR_DISTANCE_SQL_FUNCTION(type##_l2_distance, \
								 vector_metric_to_sql(VECTOR_METRIC_L2, \
													  args_distance(fcinfo, VECTOR_METRIC_L2))); \
	VECTOR_DISTANCE_SQL_FUNCTION(type##_l2_squared_distance, \
								 args_distance(fcinfo, VECTOR_METRIC_L2)); \
	VECTOR_DISTANCE_SQL_FUNCTION(type##_inner_product, \
								 -args_distance(fcinfo, VECTOR_METRIC_IP)); \
	VECTOR_DISTANCE_SQL_FUNCTION(type##_negative_inner_product, \
								 args_distance(fcinfo, VECTOR_METRIC_IP)); \
	VECTOR_DISTANCE_SQL_FUNCTION(type##_cosine_distance, \
								 args_distance(fcinfo, VECTOR_METRIC_COSINE)); \
	VECTOR_DISTANCE_SQL_FUNCTION(type##_l1_distance, \
								 args_distance(fcinfo, VECTOR_METRIC_L1))

/*
 * vector_metric_indexable: whether an index on `metric` stores the `dim`
 * floats at `x`: always, except an all-zero vector under cosine, whose
 * direction (and so its cosine distance to anything) is undefined.
 */
extern bool vector_metric_indexable(VectorMetric metric, const float *x, int dim);

/* Name of a metric ("l2", "ip", "cosine", "l1", "hamming", "jaccard"). */
extern const char *vector_metric_name(VectorMetric metric);

#endif							/* VSIM_VECTOR_H */
