/*-------------------------------------------------------------------------
 *
 * index.h
 *	  What vsim's vector index access methods share: the parts of an index
 *	  method that do not depend on how it organises its pages.
 *
 * Users: the hnsw (src/hnsw/) and ivfflat (src/ivf/) access methods, and
 * every index method added later, so that all have one shape.  Each method
 * describes itself once in a VindexMethod (its SQL name and the support
 * functions of its operator classes); from that this subsystem builds
 *
 *	  - its IndexAmRoutine (vindex_am_routine; index.c), whose callbacks
 *		all methods declare and install alike (VINDEX_DECLARE_CALLBACKS,
 *		VINDEX_SET_CALLBACKS), documented here once,
 *	  - its amvalidate (vindex_validate; index_validate.c),
 *
 * and provides
 *
 *	  - the element types (VindexElemType; index_elem.c): how an index
 *		stores, compares and averages the values of its column's type, so
 *		each method is one implementation for every type,
 *	  - the planner cost model (vindex_cost_estimate; index_cost.c), from
 *		each method's description of its scan (VindexScanModel),
 *	  - vindex_vacuum_delay_point, for VACUUM's loops over an index,
 *	  - exact re-ranking of a quantized index's candidates from their table
 *		rows (vindex_rerank_*; index_rerank.c),
 *	  - the parallel build machinery: dynamic shared memory holding the
 *		relations, the parallel table scan, the query text and the
 *		workers' buffer and WAL usage, around the method's own shared state
 *		(vindex_parallel_*; index_parallel.c),
 *	  - the opening and privilege check of the monitoring functions
 *		(vindex_stats_open; index_stats.c),
 *	  - vsim.index_check(), which calls each method's structure check
 *		(VindexMethod.check; index_check.c), and the one way to report a
 *		corrupted page (vindex_report_corrupted).
 *
 * Names start with vindex_ ("vector index"), not index_: that is
 * PostgreSQL's own prefix (index_open, index_build, ...), and a server
 * function of the same name would silently take the place of ours.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSIM_INDEX_H
#define VSIM_INDEX_H

#include "postgres.h"

#include "access/amapi.h"
#include "access/parallel.h"
#include "access/skey.h"
#include "access/tableam.h"
#include "catalog/pg_type_d.h"
#include "commands/vacuum.h"
#include "executor/instrument.h"
#include "nodes/execnodes.h"
#include "optimizer/cost.h"
#include "utils/snapshot.h"
#include "vector/vector.h"

/* ---------------------------------------------------------------------
 * Describing a method (index.c, index_validate.c)
 * ---------------------------------------------------------------------
 */
#define VINDEX_MAX_PROC_ARGS	3

/*
 * A support function of the method's operator classes: its number
 * (pg_amproc.amprocnum), what it is for (named in messages), whether every
 * operator class must have it, and its exact signature.
 */
typedef struct VindexSupportProc
{
	int16		number;
	const char *purpose;
	bool		required;
	Oid			rettype;
	int			nargs;			/* 0 .. VINDEX_MAX_PROC_ARGS */
	Oid			argtypes[VINDEX_MAX_PROC_ARGS];
} VindexSupportProc;

/*
 * Support function 1 of every vector operator class: the metric, a
 * vsim_metric_*(internal) RETURNS internal function (see vector.h).
 */
#define VINDEX_METRIC_PROC \
	{VECTOR_METRIC_SUPPORT_PROC, "distance metric", true, INTERNALOID, 1, {INTERNALOID}}

/*
 * The strategy number of the one operator of a vector operator class: an
 * ORDER BY operator (t, t) -> double precision, the distance, where t is
 * the column type (vector, bit).
 */
#define VINDEX_ORDER_STRATEGY	1

/*
 * The `quantization` index option both methods have (issue 9): how stored
 * elements hold vectors.  The values are those ivfflat's metapage records
 * (IvfQuantization, ivf.h) and hnsw's (HnswMetaPageData.quant_mode, hnsw.h).
 */
typedef enum VindexQuantization
{
	VINDEX_QUANT_NONE = 0,
	VINDEX_QUANT_SQ8 = 1,
	VINDEX_QUANT_RABITQ = 2
} VindexQuantization;

/* The SQL name of mode q ("none", "sq8", "rabitq"; "?" out of range). */
extern const char *vindex_quantization_name(int q);

/*
 * vindex_quantization_validate: the validate_string_relopt check of
 * method's `quantization` option; NULL passes (the default).  Raises
 * 22023 naming the method and the value, with the valid values as hint,
 * for anything else than a mode's name (case-insensitive).
 */
extern void vindex_quantization_validate(const char *method, const char *value);

/*
 * vindex_quantization_option: the mode of a parsed reloptions struct
 * `opts` (NULL: none) whose string option lies `offset` bytes into it (0:
 * unset, the default none).  The value was validated when it was set.
 */
extern VindexQuantization vindex_quantization_option(const void *opts, int offset);

/*
 * vindex_quant_code_size: bytes of one stored vector of mode q at `dims`
 * dimensions: SQ8_ELEMENT_SIZE or RABITQ_ELEMENT_SIZE (quant/quant.h), and
 * raw_size (the element type's stored_size) for none.  Both methods' one
 * rule for the code they store per row or node.
 */
extern Size vindex_quant_code_size(VindexQuantization q, Size raw_size, int dims);

/*
 * A method's structure check, called by vsim.index_check() (index_check.c)
 * with `index` and its table `heap` locked AccessShareLock.  With
 * heapallindexed the method registers its own MVCC snapshot, at the point
 * its argument for "every row the snapshot sees is in the index" needs it
 * (before it reads the index).  Reports
 * the first damage found with vindex_report_corrupted (XX002) and returns
 * normally when the index is sound.
 */
typedef void (*VindexCheckFn) (Relation index, Relation heap, bool heapallindexed);

typedef struct VindexMethod
{
	const char *name;			/* SQL name of the access method */
	const VindexSupportProc *procs; /* its support functions */
	int			nprocs;
	bool		usemaintenanceworkmem;	/* amusemaintenanceworkmem */
	int			max_filter_columns; /* key columns after the vector (0: one
									 * column; see "Filter columns") */
	VindexCheckFn check;		/* for vsim.index_check() */
} VindexMethod;

/*
 * vindex_register_method: make `method` known to vsim.index_check(); each
 * method calls it once from its init function (at _PG_init).  `method`
 * must be static.
 */
extern void vindex_register_method(const VindexMethod *method);

/*
 * vindex_report_corrupted: raise ERRCODE_INDEX_CORRUPTED (XX002) for damage
 * found in block `blkno` of `index`; the remaining arguments are a printf
 * format and its arguments saying what is wrong (the errdetail).  Every
 * read path that finds an impossible on-disk value, and every check of
 * vsim.index_check(), reports through this, so the message names the
 * index and the block in one form.
 */
#define vindex_report_corrupted(index, blkno, ...) \
	ereport(ERROR, \
			(errcode(ERRCODE_INDEX_CORRUPTED), \
			 errmsg("index \"%s\" is corrupted at block %u", \
					RelationGetRelationName(index), (unsigned) (blkno)), \
			 errdetail_internal(__VA_ARGS__), \
			 errhint("REINDEX the index to rebuild it from its table.")))

/*
 * vindex_am_routine: a new IndexAmRoutine (palloc'd, for an index AM
 * handler to return) with the capabilities every vector index method has:
 * one key column, searched only by ORDER BY one of its operator class's
 * distance operators (amcanorderbyop; no WHERE-clause search, no
 * uniqueness; NULLs are not indexed); with method->max_filter_columns > 0,
 * further key columns that are filter columns ("Filter columns" below:
 * amcanmulticol, the five btree strategies, amsearcharray); no index-only or
 * parallel scans, parallel bulk delete in VACUUM.  amsupport is the
 * highest support function number of `method`.  The callbacks are left
 * NULL: set them with VINDEX_SET_CALLBACKS.
 */
extern IndexAmRoutine *vindex_am_routine(const VindexMethod *method);

/*
 * The IndexAmRoutine callbacks of the method whose C names start with
 * `prefix` (hnsw_build, ivf_gettuple, ...), declared by
 * VINDEX_DECLARE_CALLBACKS(prefix) in the method's header and installed by
 * VINDEX_SET_CALLBACKS (see the PostgreSQL documentation, "Index Access
 * Method Interface Definition", for their calling conventions).  What they
 * do in every method:
 *
 *	  _build			ambuild: index every row of the table that the
 *						metric can index; 22000 (data_exception) on a
 *						value whose dimensions are not the column's; the
 *						errors of vindex_elem_for_type and
 *						vindex_elem_check for the column's type and metric
 *	  _buildempty		ambuildempty: the init fork of an UNLOGGED index,
 *						an index without rows
 *	  _insert			aminsert: index one row; NULLs, and values the
 *						metric does not index (vindex_elem_indexable),
 *						are skipped; 22000 when the value's dimensions are
 *						not the index's; returns false (no uniqueness)
 *	  _bulkdelete		ambulkdelete: remove the heap TIDs `callback` says
 *						are dead, counting removed and remaining rows
 *	  _vacuumcleanup	amvacuumcleanup: the index's pages, and its rows
 *						when no bulk delete ran in this VACUUM
 *	  _costestimate		amcostestimate: the method's VindexScanModel
 *						(header of its *_cost.c) given to
 *						vindex_cost_estimate
 *	  _options			amoptions: parse WITH (...); 22023 out of bounds
 *	  _validate			amvalidate: vindex_validate with the method's
 *						VindexMethod
 *	  _buildphasename	ambuildphasename: names of the build's sub-phases
 *						(pg_stat_progress_create_index.phase)
 *	  _beginscan, _rescan, _gettuple, _endscan
 *						scans with one ORDER BY key, the query vector (22000
 *						when its dimensions are not the index's): heap TIDs
 *						nearest first, the operator's value in
 *						xs_orderbyvals, no recheck; with filter columns,
 *						scan keys on them, only matching rows returned
 *						(xs_recheck for lossy keys: text)
 *
 * A method's header adds what is its own (errors of its build, ...).
 */
#if PG_VERSION_NUM >= 140000
#define VINDEX_INSERT_UNCHANGED_ARG bool indexUnchanged,
#else
#define VINDEX_INSERT_UNCHANGED_ARG
#endif

#define VINDEX_DECLARE_CALLBACKS(prefix) \
	extern IndexBuildResult *prefix##_build(Relation heap, Relation index, \
											IndexInfo *indexInfo); \
	extern void prefix##_buildempty(Relation index); \
	extern bool prefix##_insert(Relation index, Datum *values, bool *isnull, \
								ItemPointer heap_tid, Relation heap, \
								IndexUniqueCheck checkUnique, \
								VINDEX_INSERT_UNCHANGED_ARG \
								IndexInfo *indexInfo); \
	extern IndexBulkDeleteResult *prefix##_bulkdelete(IndexVacuumInfo *info, \
													  IndexBulkDeleteResult *stats, \
													  IndexBulkDeleteCallback callback, \
													  void *callback_state); \
	extern IndexBulkDeleteResult *prefix##_vacuumcleanup(IndexVacuumInfo *info, \
														 IndexBulkDeleteResult *stats); \
	extern void prefix##_costestimate(struct PlannerInfo *root, struct IndexPath *path, \
									  double loop_count, Cost *indexStartupCost, \
									  Cost *indexTotalCost, \
									  Selectivity *indexSelectivity, \
									  double *indexCorrelation, double *indexPages); \
	extern bytea *prefix##_options(Datum reloptions, bool validate); \
	extern bool prefix##_validate(Oid opclassoid); \
	extern char *prefix##_buildphasename(int64 phasenum); \
	extern IndexScanDesc prefix##_beginscan(Relation index, int nkeys, int norderbys); \
	extern void prefix##_rescan(IndexScanDesc scan, ScanKey keys, int nkeys, \
								ScanKey orderbys, int norderbys); \
	extern bool prefix##_gettuple(IndexScanDesc scan, ScanDirection dir); \
	extern void prefix##_endscan(IndexScanDesc scan)

/*
 * Point the callbacks of `am` at the functions named after the
 * IndexAmRoutine fields with the method's prefix (hnsw_build for ambuild,
 * ivf_gettuple for amgettuple, ...), the naming rule of both methods: a
 * callback named otherwise does not compile.  The optional callbacks
 * (amcanreturn, amproperty, amgetbitmap, ammarkpos, parallel scans ...)
 * stay NULL.
 */
#define VINDEX_SET_CALLBACKS(am, prefix) \
	do { \
		(am)->ambuild = prefix##_build; \
		(am)->ambuildempty = prefix##_buildempty; \
		(am)->aminsert = prefix##_insert; \
		(am)->ambulkdelete = prefix##_bulkdelete; \
		(am)->amvacuumcleanup = prefix##_vacuumcleanup; \
		(am)->amcostestimate = prefix##_costestimate; \
		(am)->amoptions = prefix##_options; \
		(am)->ambuildphasename = prefix##_buildphasename; \
		(am)->amvalidate = prefix##_validate; \
		(am)->ambeginscan = prefix##_beginscan; \
		(am)->amrescan = prefix##_rescan; \
		(am)->amgettuple = prefix##_gettuple; \
		(am)->amendscan = prefix##_endscan; \
	} while (0)

/*
 * vindex_validate: the amvalidate of `method`, for operator class
 * `opclassoid`.  Checks every member of the class's operator family:
 * support functions must have a number of method->procs and exactly that
 * entry's signature; operators must be ORDER BY operators at strategy
 * VINDEX_ORDER_STRATEGY, binary, of the member's types, returning double
 * precision, with a btree sort family that sorts double precision.  Each
 * pair of types in the family, and the class's own type, must have every
 * required support function.  Each problem is reported with
 * ereport(INFO, ERRCODE_INVALID_OBJECT_DEFINITION), naming the family or
 * class and the method; returns false if there was any.  When the
 * method has filter columns, a class of a filter column type (see
 * "Filter columns") follows the rules of those instead: no support
 * functions, search operators (t1, t2) -> boolean at btree strategies 1 to
 * 5 between types of one filter kind (= only for text), and = for the
 * class's own type.
 */
extern bool vindex_validate(const VindexMethod *method, Oid opclassoid);

/* ---------------------------------------------------------------------
 * Planner costs (index_cost.c)
 * ---------------------------------------------------------------------
 *
 * Both methods answer ORDER BY <distance> [LIMIT k] and nothing else, and
 * both do most of their work before the first row comes out: they differ
 * only in how many index tuples they examine (each a distance computed on
 * the index page) and how many rows they can return.  A method describes
 * its scan in a VindexScanModel; vindex_cost_estimate turns that into the
 * amcostestimate results, the same way for every method:
 *
 *	  - startup cost: the first batch's visits, each cpu_index_tuple_cost +
 *		one distance (vindex_distance_cost: by the size of the ORDER BY
 *		operands) + the method's per-visit overhead, plus its pages at
 *		seq_page_cost (an index in use is normally cached) and the method's
 *		own extra startup cost;
 *	  - run cost: with the iterative scan on, the further visits for the
 *		rows past the first batch, up to the scan's limit, spread over all
 *		rows, so that the planner's LIMIT arithmetic (which charges the
 *		k / rows share of the run cost) charges a LIMIT k query with a
 *		filter of selectivity s for the k / s rows it reads;
 *	  - selectivity: that of the index conditions (WHERE clauses on filter
 *		columns, which the scan applies during its search; 1 without), the
 *		planner's own filter and LIMIT estimates apply to the rows;
 *		the method scales its visits by it (vindex_index_cond_selectivity);
 *	  - incomplete results: the scan returns at most `pool` rows (passing
 *		its index conditions; the first
 *		batch with the iterative scan off, the rows before its limit with
 *		it on).  The table's WHERE clauses keep a share s of them, except
 *		those on the indexed column (`v <-> q < r`), which keep the nearest
 *		rows, the ones the scan returns first.  When the rows the scan can
 *		deliver, min(pool, rows within the distance conditions) * s, are
 *		fewer than the query wants (its LIMIT, capped at the rows that
 *		match; all matching rows without LIMIT; VINDEX_COST_DEFAULT_LIMIT
 *		when the LIMIT is a parameter), the index would return fewer rows
 *		than an exact plan: the cost of an exact search (a sequential scan
 *		computing every distance, and a sort) is added to the startup
 *		cost, so that any exact plan wins unless it is disabled.
 */
#define VINDEX_COST_DEFAULT_LIMIT	10

typedef struct VindexScanModel
{
	double		first_visits;	/* index tuples examined for the first batch */
	double		first_rows;		/* rows of the first batch */
	double		first_pages;	/* index pages the first batch reads */
	Cost		extra_startup;	/* other startup cost (ranking centres ...) */
	double		visit_overhead; /* per visit, in cpu_operator_cost units */
	double		pool;			/* most rows the scan returns (>= first_rows) */
	double		visits_per_row; /* further visits per row past the first batch */
} VindexScanModel;

/*
 * vindex_distance_cost: the cost of one distance computed by an index scan
 * of `path` (vector_distance_call_cost of the ORDER BY operator's
 * operands, for the index's element type; no detoasting, index tuples hold
 * the vectors).
 */
extern Cost vindex_distance_cost(struct IndexPath *path);

/*
 * vindex_index_cond_selectivity: the selectivity of the index conditions of
 * `path` (its indexclauses: conditions on filter columns), 1 when it has
 * none, at least 1 / rows of the table.
 */
extern Selectivity vindex_index_cond_selectivity(struct PlannerInfo *root,
												 struct IndexPath *path);

/*
 * vindex_cost_estimate: the amcostestimate results of `path` (which has an
 * ORDER BY operator) from the method's `model`, as described above.
 */
extern void vindex_cost_estimate(struct PlannerInfo *root, struct IndexPath *path,
								 const VindexScanModel *model,
								 Cost *indexStartupCost, Cost *indexTotalCost,
								 Selectivity *indexSelectivity,
								 double *indexCorrelation, double *indexPages);

/*
 * vindex_cost_unusable: the amcostestimate result of a path the index
 * cannot serve (no ORDER BY distance operator: a vector index answers
 * nothing else).  The cost is above even a disabled sequential scan
 * (disable_cost plus its run cost), which enable_seqscan = off would
 * otherwise make lose to this index; disable_cost is gone in PostgreSQL
 * 18, where a fixed 1e20 serves.
 */
static inline void
vindex_cost_unusable(Cost *indexStartupCost, Cost *indexTotalCost,
					 Selectivity *indexSelectivity, double *indexCorrelation,
					 double *indexPages)
{
#if PG_VERSION_NUM >= 180000
	const Cost	unusable = 1.0e20;
#else
	const Cost	unusable = disable_cost * 1.0e10;
#endif

	*indexStartupCost = unusable;
	*indexTotalCost = unusable;
	*indexSelectivity = 0;
	*indexCorrelation = 0;
	*indexPages = 0;
}

/*
 * vindex_vacuum_delay_point: vacuum_delay_point() for VACUUM's loops over
 * the index (cost-based delay, interrupts); PostgreSQL 18 gave it an
 * is_analyze argument.
 */
static inline void
vindex_vacuum_delay_point(void)
{
#if PG_VERSION_NUM >= 180000
	vacuum_delay_point(false);
#else
	vacuum_delay_point();
#endif
}

/* ---------------------------------------------------------------------
 * Element types (index_elem.c)
 * ---------------------------------------------------------------------
 *
 * An index stores each row's value as an "element": a fixed number of
 * bytes for an index of `dims` dimensions (for bit, dims is the length in
 * bits), or, for a variable-size type (sparsevec; value_size not NULL),
 * as many as the value needs, at most stored_size(dims).  Everything a
 * method does with element bytes or distances goes through the element
 * type of its column, so hnsw and ivfflat stay one implementation for
 * every indexed type; nothing in them branches on the type (hnsw only on
 * whether its elements vary in size).  The element type is chosen from the indexed column's type
 * (vindex_elem_type), the metric from the operator class (VectorMetric);
 * both are read once per relation and kept with the index's shape.
 *
 * Types today:
 *	  vector	float4 x[dims], as the vector type holds them (stored_size
 *				4 * dims; the layout of every vsim 0.1/0.2 index); metrics
 *				l2, ip, cosine, l1; a zero vector is not indexable under
 *				cosine (its direction is undefined)
 *	  halfvec	uint16 x[dims], the binary16 bit patterns as the halfvec
 *				type holds them (stored_size 2 * dims, half of vector's);
 *				metrics and indexability as vector; distances by the half
 *				kernels, equal to vector's on the widened values; k-means
 *				runs on the widened floats and its centres are rounded
 *				back to halves
 *	  bit		the bit string's bytes, first bit the high bit of byte 0,
 *				padding bits zero (stored_size ceil(dims / 8)); metrics
 *				hamming and jaccard; every value is indexable: under jaccard
 *				an all-zero string is at distance 1 from everything
 *				(jaccard_distance's definition), which exact search returns
 *				too, so the index keeps it
 *	  sparsevec	(variable size) the SparseVector itself, header included
 *				(16 + 8 nnz bytes: dim, nnz, indices, values), so the
 *				merge of sparsevec_metric_distance compares two stored
 *				elements; value_size reads nnz; stored_size(dims) is the
 *				largest, VINDEX_SPARSEVEC_MAX_NNZ elements; metrics and
 *				indexability as vector (no zero vector under cosine); no
 *				to_floats/from_floats, so no k-means (ivfflat refuses it)
 *
 * A new type (a quantized form such as sq8) is one more
 * VindexElemType and one line in vindex_elem_for_type.
 */
typedef struct VindexElemType
{
	const char *name;			/* the SQL type, for messages ("vector") */
	int			max_dims;		/* largest `dims` an index of it accepts */
	/* errmsg format of a query of other dimensions (index's, query's) */
	const char *dims_error;

	/* how the planner prices one of its distances (vector_cost.c) */
	VectorCostKind cost_kind;

	/* may an index of this type use `metric`? */
	bool		(*supports) (VectorMetric metric);

	/* bytes of one stored element of an index of `dims` dimensions */
	Size		(*stored_size) (int dims);

	/* dimensions of column value `value` (detoasted as needed) */
	int			(*value_dims) (Datum value);

	/*
	 * store column value `value` into `out` (stored_size(dims) bytes); the
	 * caller has checked that value_dims(value) == dims
	 */
	void		(*store) (Datum value, int dims, void *out);

	/*
	 * the element as dims floats (for k-means), and back: from_floats
	 * maps a mean or a centre to the nearest storable element (for bit, a
	 * coordinate above 0.5 becomes a 1 bit)
	 */
	void		(*to_floats) (const void *elem, int dims, float *out);
	void		(*from_floats) (const float *x, int dims, void *out);

	/*
	 * index-order distance between two stored elements under `metric`
	 * (one it supports): monotone in the SQL operator's value, which
	 * vector_metric_to_sql gives back
	 */
	double		(*distance) (VectorMetric metric, const void *a, const void *b,
							 int dims);

	/*
	 * distance() when that is below `bound`, else some value >= bound (the
	 * sum may stop early): for searches that drop what is not nearer than
	 * a bound.  NULL when the type has no such kernel: use distance().
	 */
	double		(*distance_below) (VectorMetric metric, const void *a, const void *b,
								   int dims, double bound);

	/*
	 * whether `elem` is a stored element a column value could give (vector:
	 * every element finite; bit: the padding bits zero); for structure
	 * checks
	 */
	bool		(*valid) (const void *elem, int dims);

	/* whether an index under `metric` stores this element (NULL: always) */
	bool		(*indexable) (VectorMetric metric, const void *elem, int dims);

	/*
	 * Variable-size types only (NULL for the fixed-size ones): the bytes of
	 * stored element `elem` (self-describing), at most stored_size(dims),
	 * which is then the largest an index accepts; and the same for column
	 * value `value` (detoasted), which may exceed it (a query need not fit)
	 */
	Size		(*value_size) (const void *elem);
	Size		(*datum_size) (Datum value);
} VindexElemType;

extern const VindexElemType vindex_elem_vector;
extern const VindexElemType vindex_elem_halfvec;
extern const VindexElemType vindex_elem_bit;
extern const VindexElemType vindex_elem_sparsevec;

/*
 * The most non-zero elements of a sparsevec an index stores (pgvector's
 * limit for its HNSW index); a larger value gives 54000 when it is
 * inserted (vindex_elem_check_stored).
 */
#define VINDEX_SPARSEVEC_MAX_NNZ	1000

/*
 * vindex_elem_check_stored: raise 54000 (program_limit_exceeded), naming
 * `index` and the limit, when stored element `x` of variable-size type
 * `elem` is larger than elem->stored_size(dims) (for sparsevec: more
 * than VINDEX_SPARSEVEC_MAX_NNZ non-zero elements).  No-op for fixed-size
 * types.
 */
extern void vindex_elem_check_stored(Relation index, const VindexElemType *elem,
									 const void *x, int dims);

/*
 * vindex_elem_for_type: the element type for column type `typid`: bit for
 * BITOID, vector and halfvec for the types whose input functions are
 * vsim's vector_in and halfvec_in.
 * Raises 42804 (datatype_mismatch) for any other type.  The answer is
 * cached per backend (and forgotten when pg_type changes).
 */
extern const VindexElemType *vindex_elem_for_type(Oid typid);

/* vindex_elem_type: the element type of `index`'s (one) key column */
extern const VindexElemType *vindex_elem_type(Relation index);

/*
 * vindex_elem_check: the checks of CREATE INDEX: raises 0A000
 * (feature_not_supported) when `elem` has no `metric` (an operator class
 * made by hand pairing, say, bit with an l2 support function), 54000
 * (program_limit_exceeded) when dims exceeds elem->max_dims.
 */
extern void vindex_elem_check(Relation index, const VindexElemType *elem,
							  VectorMetric metric, int dims);

/*
 * vindex_elem_form: column value `value` (detoasted once here) in stored
 * form, palloc'd elem->stored_size(*dims) bytes (for a variable-size type,
 * the value's own size, datum_size), and its dimensions in
 * *dims; the caller compares them with the index's.
 */
extern char *vindex_elem_form(const VindexElemType *elem, Datum value, int *dims);

/* Whether `elem` (dims dimensions) is indexed under `metric`. */
static inline bool
vindex_elem_indexable(const VindexElemType *type, VectorMetric metric,
					  const void *elem, int dims)
{
	return type->indexable == NULL || type->indexable(metric, elem, dims);
}

/* ---------------------------------------------------------------------
 * Exact re-ranking from the heap (index_rerank.c)
 * ---------------------------------------------------------------------
 *
 * A scan of a quantized index ranks rows by an approximate distance on
 * their codes, then re-ranks the best candidates by their exact distance,
 * computed from the table row itself: the smallest index (no
 * full-precision copy) for one heap fetch per candidate.  The distance is
 * the one the unquantized index computes (the element type's, on the
 * stored form of the index key), so its SQL value equals the operator's.
 */
typedef struct VindexRerank
{
	IndexScanDesc scan;			/* whose heap, snapshot and index */
	const VindexElemType *elem;
	VectorMetric metric;
	int			dims;
	IndexInfo  *info;			/* of the index: key expressions */
	struct EState *estate;		/* for FormIndexDatum */
	TupleTableSlot *slot;		/* a slot of the heap */
	struct IndexFetchTableData *fetch;
	MemoryContext tmpctx;		/* reset after every candidate */
	int64		fetched;		/* candidates looked up */
	int64		invisible;		/* of them, not visible to the snapshot */
} VindexRerank;

/*
 * vindex_rerank_begin: set up *rr for scan `scan` (scan->heapRelation
 * and scan->xs_snapshot set, as index_beginscan leaves them) of an index
 * whose key is of element type `elem` with `dims` dimensions, under
 * `metric`.  Allocates in the current memory context; end with
 * vindex_rerank_end.
 */
extern void vindex_rerank_begin(VindexRerank *rr, IndexScanDesc scan,
								const VindexElemType *elem, VectorMetric metric,
								int dims);

/*
 * vindex_rerank_distance: the exact index-order distance from `query` (a
 * stored element of `dims` dimensions) to the index key of the heap row
 * `tid`: the member of the HOT chain at `tid` visible to
 * scan->xs_snapshot (table_index_fetch_tuple), its key formed as the
 * index forms it (FormIndexDatum: expression indexes work), stored
 * (vindex_elem_form) and compared by elem->distance.  Returns false, and
 * leaves *dist alone, when no member is visible or its key is NULL, of
 * other dimensions or not indexable (a row the index should not hold).
 */
extern bool vindex_rerank_distance(VindexRerank *rr, ItemPointer tid,
								   const void *query, double *dist);

/* vindex_rerank_end: release what vindex_rerank_begin set up */
extern void vindex_rerank_end(VindexRerank *rr);

/* A row (heap TID) with an index-order distance, approximate or exact. */
typedef struct VindexScored
{
	double		dist;
	ItemPointerData tid;
} VindexScored;

/*
 * vindex_scored_cmp: qsort comparator of VindexScored, ascending distance,
 * ties by TID, so that a re-ranked batch has one order on every server.
 */
extern int	vindex_scored_cmp(const void *a, const void *b);

/* ---------------------------------------------------------------------
 * Parallel builds (index_parallel.c)
 * ---------------------------------------------------------------------
 *
 * The leader calls vindex_parallel_begin, which sets up one chunk of
 * dynamic shared memory (the relations' OIDs, the parallel table scan,
 * the query text, the workers' buffer and WAL usage, then the method's
 * state, initialised by the method's callback) and launches the workers.
 * Each worker runs the method's exported entry point, which hands its own
 * share of the work to vindex_parallel_worker.  Leader and workers alike
 * then see the build as a VindexParticipant and scan their share of the
 * table with vindex_parallel_scan.  The leader waits for the workers with
 * vindex_parallel_wait (their usage then counts towards its statement)
 * and frees everything with vindex_parallel_end.
 */

/* One participant of a parallel build: the leader or a worker. */
typedef struct VindexParticipant
{
	const char *amname;			/* the method's name, for messages */
	Relation	heap;			/* locked: see vindex_parallel_worker */
	Relation	index;
	IndexInfo  *info;			/* of the index, ii_Concurrent as the build */
	ParallelTableScanDesc pscan;	/* the table scan all participants share */
	void	   *shared;			/* the method's state, MAXALIGNed */
	dsm_segment *seg;			/* the segment (tuplesort_attach_shared ...) */
} VindexParticipant;

/* What a method tells vindex_parallel_begin. */
typedef struct VindexParallelSpec
{
	const char *amname;			/* for the DEBUG1 message */
	/* exported function (PGDLLEXPORT) of the vsim library each worker runs */
	const char *worker_main;
	Size		shared_size;	/* bytes of the method's shared state */
	/* initialise the method's state, in the segment, before the launch */
	void		(*init_shared) (void *shared, ParallelContext *pcxt, void *arg);
	void	   *arg;			/* passed to init_shared */
} VindexParallelSpec;

/* A parallel build, as the leader holds it. */
typedef struct VindexParallelBuild
{
	VindexParticipant leader;	/* the leader's view, for its own share */
	int			nworkers_launched;
	/* private to index_parallel.c */
	ParallelContext *pcxt;
	Snapshot	snapshot;
	bool		registered;		/* snapshot is registered (CONCURRENTLY) */
	bool		finished;		/* workers waited for */
	BufferUsage *bufferusage;	/* per worker */
	WalUsage   *walusage;
} VindexParallelBuild;

/*
 * vindex_parallel_begin: enter parallel mode, set up the shared memory of
 * a build of `index` on `heap` for up to `nworkers` workers (the snapshot
 * is SnapshotAny, or a registered MVCC snapshot for CREATE INDEX
 * CONCURRENTLY as info->ii_Concurrent says), have spec->init_shared fill
 * the method's part and launch the workers.  Returns once the launched
 * workers have attached (so a leader that waits for a count of finished
 * participants cannot hang on one that never started), having logged at
 * DEBUG1 "<amname> build of "<index>": N parallel workers launched".
 * Returns NULL, with parallel mode left, when no dynamic shared memory
 * could be had; the caller then builds serially.  Zero workers may have
 * been launched: the leader can do all the work, or end the build at once.
 */
extern VindexParallelBuild *vindex_parallel_begin(Relation heap, Relation index,
												  IndexInfo *info, int nworkers,
												  const VindexParallelSpec *spec);

/*
 * vindex_parallel_worker: the body of a method's worker entry point
 * (`worker_main`, called with the segment and its table of contents).
 * Opens the relations, the heap in ShareLock and the index in
 * AccessExclusiveLock (ShareUpdateExclusiveLock and RowExclusiveLock when
 * the build is CONCURRENTLY): the modes the leader holds, so a worker asks
 * for no lock its leader does not have.  Reports the leader's query as its
 * activity, runs `participate` and records its buffer and WAL usage for
 * the leader.
 */
typedef void (*VindexParticipateFn) (const VindexParticipant *p);
extern void vindex_parallel_worker(dsm_segment *seg, shm_toc *toc,
								   VindexParticipateFn participate);

/*
 * vindex_parallel_scan: have table_index_build_scan pass this
 * participant's share of the table's rows (all visible ones, or those of
 * the build's snapshot) to `callback`, with progress reporting.  Logs at
 * DEBUG1 "<amname> build of "<index>": worker N (or leader) scanned M heap
 * tuples" and returns M.
 */
extern double vindex_parallel_scan(const VindexParticipant *p,
								   IndexBuildCallback callback, void *state);

/*
 * vindex_parallel_wait: wait until every launched worker has finished and
 * add their buffer and WAL usage to the leader's (once; later calls
 * return at once).  The method's shared state stays readable.
 */
extern void vindex_parallel_wait(VindexParallelBuild *pb);

/*
 * vindex_parallel_end: vindex_parallel_wait, then free the shared memory,
 * unregister the snapshot and leave parallel mode.  pb is freed.
 */
extern void vindex_parallel_end(VindexParallelBuild *pb);

/* ---------------------------------------------------------------------
 * Monitoring functions (index_stats.c)
 * ---------------------------------------------------------------------
 */

/*
 * vindex_stats_open: open index `indexoid` for a monitoring function of
 * access method `amname` (vsim.hnsw_index_stats, ...) and lock it
 * AccessShareLock.  The caller must have SELECT on the index's table or
 * the privileges of pg_stat_scan_tables (which pg_monitor has; so do
 * superusers), else 42501 (insufficient_privilege); the privilege is
 * checked before the lock is taken.  Raises 42809 (wrong_object_type)
 * unless the relation is an index of `amname`, 42P01 (undefined_table)
 * when there is no relation `indexoid`.  Close with vindex_stats_close.
 */
extern Relation vindex_stats_open(Oid indexoid, const char *amname);
extern void vindex_stats_close(Relation index);

/* ---------------------------------------------------------------------
 * Filter columns (index_filter.c)
 * ---------------------------------------------------------------------
 *
 * A vector index of a method with max_filter_columns > 0 may have further
 * key columns after the vector, up to VINDEX_MAX_FILTER_COLUMNS: `CREATE
 * INDEX ... USING hnsw (embedding vector_l2_ops, category)`.  Their
 * operator classes (default for smallint, integer, bigint, boolean, date,
 * timestamp with time zone, text; varchar uses text's) hold the btree
 * comparison operators at the btree strategy numbers (the integer types
 * share one family, cross-type operators included; text has = only), and
 * the method searches arrays (col = ANY(array), IN lists).  Each element
 * stores its row's filter values as a "filter area" of
 * vindex_filter_size(n) bytes, 4-byte aligned:
 *
 *	  uint32	null bitmap: bit i set when filter column i is NULL
 *	  int64		code[n]: the value's code (0 for NULL), at offset 4 + 8 i,
 *				unaligned (read with memcpy)
 *
 * Codes (index_filter.c): integers, dates and timestamps their value,
 * booleans 0/1, text the 64-bit hash of its bytes (only =, lossy).  Arrays
 * of integer, bigint or text (labels, tags; one operator class for
 * anyarray, the types checked at CREATE INDEX) are searched with && (at
 * strategy VINDEX_ARRAY_OVERLAP), @> (VINDEX_ARRAY_CONTAINS) and <@
 * (VINDEX_ARRAY_CONTAINED); their code is a 64-bit Bloom signature: each
 * non-NULL element sets VINDEX_ARRAY_HASH_BITS bits chosen by a hash of its
 * code, so an array that contains another has every bit of the other's
 * signature (lossy, like text).  A scan compiles its scan keys into a
 * VindexFilter: per key a range of codes, or a sorted set for = ANY, or
 * for an array key the signature test; a row matches when every key's
 * column is not NULL and its code passes the key's tests (NULL never
 * matches, as in SQL).
 */
#define VINDEX_MAX_FILTER_COLUMNS	4

typedef enum VindexFilterKind
{
	VINDEX_FILTER_NONE = 0,
	VINDEX_FILTER_INT,
	VINDEX_FILTER_BOOL,
	VINDEX_FILTER_DATE,
	VINDEX_FILTER_TIMESTAMPTZ,
	VINDEX_FILTER_TEXT,
	VINDEX_FILTER_ARRAY
} VindexFilterKind;

/* Strategy numbers of the array operators (those of GIN's array classes) */
#define VINDEX_ARRAY_OVERLAP	1	/* && */
#define VINDEX_ARRAY_CONTAINS	2	/* @> */
#define VINDEX_ARRAY_CONTAINED	3	/* <@ */
#define VINDEX_ARRAY_HASH_BITS	2	/* signature bits per element */

/* Bytes of the filter area of n filter columns (0 for none). */
static inline Size
vindex_filter_size(int n)
{
	return n == 0 ? 0 : sizeof(uint32) + sizeof(int64) * n;
}

#define VINDEX_FILTER_CODE_OFFSET(i)	(sizeof(uint32) + sizeof(int64) * (i))

/* The filter columns of an index, from its key columns 2.. */
typedef struct VindexFilterLayout
{
	int			nfilters;
	VindexFilterKind kind[VINDEX_MAX_FILTER_COLUMNS];
	Oid			typid[VINDEX_MAX_FILTER_COLUMNS];
} VindexFilterLayout;

/*
 * A compiled scan key: codes in [lo, hi], and in set[0..nset-1] unless
 * nset < 0; for an array key (array_op one of the VINDEX_ARRAY_ strategies,
 * else 0) the signature test: @> every bit of sig set in the code, <@ no
 * bit outside sig, && every bit of one of masks[0..nmasks-1] (one per
 * element of the query array).
 */
typedef struct VindexFilterCond
{
	int			col;			/* filter column, 0-based */
	int64		lo;
	int64		hi;
	int			nset;
	int64	   *set;			/* ascending, distinct */
	int			array_op;
	uint64		sig;
	int			nmasks;
	uint64	   *masks;
} VindexFilterCond;

typedef struct VindexFilter
{
	int			nconds;
	VindexFilterCond *conds;
	bool		empty;			/* no row can match (col = NULL, empty range) */
	bool		lossy;			/* a text key: matches need a recheck */
} VindexFilter;

/* The filter kind of column type `typid`, VINDEX_FILTER_NONE if none. */
extern VindexFilterKind vindex_filter_kind(Oid typid);

/*
 * vindex_filter_layout: the filter columns of `index` (of method amname).
 * With `check` (CREATE INDEX), raises 42804 (datatype_mismatch) when the
 * first column is of a filter type (the vector must come first), 54011
 * (too_many_columns) beyond VINDEX_MAX_FILTER_COLUMNS, 0A000
 * (feature_not_supported) for a filter column of another type or a text
 * column under a nondeterministic collation.
 */
extern void vindex_filter_layout(Relation index, const char *amname, bool check,
								 VindexFilterLayout *layout);

/*
 * vindex_filter_form: the filter area (vindex_filter_size bytes, into
 * `out`) of a row whose filter columns' values are values[0..n-1],
 * isnull[0..n-1] (the index columns 2.., as aminsert receives them).
 */
extern void vindex_filter_form(const VindexFilterLayout *layout, const Datum *values,
							   const bool *isnull, char *out);

/* Whether `area` is a filter area a row could give (for structure checks). */
extern bool vindex_filter_area_valid(const VindexFilterLayout *layout, const char *area);

/*
 * vindex_filter_compile: the scan keys keys[0..nkeys-1] of a scan (on
 * filter columns, btree strategies, SK_SEARCHARRAY for = ANY and the
 * like) as a VindexFilter in the current memory context; NULL when there
 * are none.
 */
extern VindexFilter *vindex_filter_compile(const VindexFilterLayout *layout,
										   ScanKey keys, int nkeys);

/* Does array signature `code` pass the array key `c`? (lossy: see above) */
static inline bool
vindex_filter_array_match(const VindexFilterCond *c, uint64 code)
{
	switch (c->array_op)
	{
		case VINDEX_ARRAY_CONTAINS:
			return (code & c->sig) == c->sig;
		case VINDEX_ARRAY_CONTAINED:
			return (code & ~c->sig) == 0;
		default:
			for (int i = 0; i < c->nmasks; i++)
				if ((code & c->masks[i]) == c->masks[i])
					return true;
			return false;
	}
}

/* Does the row with filter area `area` satisfy every key of `f`? */
static inline bool
vindex_filter_match(const VindexFilter *f, const char *area)
{
	uint32		nulls;

	if (f->empty)
		return false;
	memcpy(&nulls, area, sizeof(uint32));
	for (int i = 0; i < f->nconds; i++)
	{
		const VindexFilterCond *c = &f->conds[i];
		int64		code;

		if (nulls & (1U << c->col))
			return false;
		memcpy(&code, area + VINDEX_FILTER_CODE_OFFSET(c->col), sizeof(int64));
		if (code < c->lo || code > c->hi)
			return false;
		if (c->nset >= 0)
		{
			int			lo = 0,
						hi = c->nset - 1;

			while (lo <= hi)
			{
				int			mid = (lo + hi) / 2;

				if (c->set[mid] == code)
					break;
				if (c->set[mid] < code)
					lo = mid + 1;
				else
					hi = mid - 1;
			}
			if (lo > hi)
				return false;
		}
		if (c->array_op != 0 && !vindex_filter_array_match(c, (uint64) code))
			return false;
	}
	return true;
}

#endif							/* VSIM_INDEX_H */
