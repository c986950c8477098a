/*-------------------------------------------------------------------------
 *
 * vector_cost.c
 *	  What the planner charges for a distance between two vectors.
 *
 * PostgreSQL charges a function procost * cpu_operator_cost per call, the
 * same for every call of it.  A distance's time grows with its operands'
 * size, and a value too large to stay in its row (a 784-d vector takes
 * 3144 bytes; rows over about 2 kB are TOASTed) must first be fetched from
 * the TOAST table, which costs far more than the arithmetic.  With procost
 * 1 a sequential scan and sort of 784-d vectors cost as little as one of
 * 3-d vectors, so every distance function of vsim's types has a planner
 * support function (vsim_distance_support for vector,
 * vsim_halfvec_distance_support, vsim_sparsevec_distance_support,
 * vsim_bit_distance_support) that prices each call from the expression:
 * the operands' size (the column's typmod, a constant operand's length, or
 * for sparsevec the ANALYZE statistics' average width) and, for a column
 * whose statistics show values stored out of line or compressed, the
 * TOAST chunks read.
 *
 * Figures, measured with the AVX2 kernels (dense: test/bench/bench_cost.sh,
 * which prints estimates next to timings, 10,000-row tables; sparsevec and
 * bit: a WHERE distance > 0 scan of 20,000 rows of one column, less the same
 * scan comparing an int4): one cpu_operator_cost is about 20 ns (an int4
 * comparison in a sequential scan); a dense distance adds about 1.4 ns per
 * dimension (32-d: 0.05 us, 784-d: 1.1 us); a sparse one about 40 ns plus
 * 3.4 ns per stored element of either operand (10 + 10: 0.11 us, 100 +
 * 100: 0.72 us); a bit one about 40 ns plus 0.03 ns per bit (784 bits:
 * 0.07 us, 4,096: 0.17 us); detoasting an out-of-line value about 3.4 us
 * per 2 kB chunk.  Hence the per-type constants of DistanceCostModel.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/heaptoast.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "nodes/supportnodes.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"
#include "utils/varbit.h"
#include "vector/sparsevec.h"
#include "vector/vector.h"

/* cpu_operator_costs to fetch one TOAST chunk of a value (measured) */
#define VECTOR_COST_DETOAST_CHUNK 180.0

/*
 * How one distance's time grows with its operands, for one kind of
 * operand (VectorCostKind): a fixed part and one cpu_operator_cost per
 * `units_per_op` units, where the units of an operand are its dimensions
 * (dense), stored elements (sparse) or bits (bit), and the call's units are
 * the larger operand's (dense, bit: both have the same length) or the sum
 * of both (sparse: a merge over both index lists).
 */
typedef struct DistanceCostModel
{
	double		fixed_ops;		/* cpu_operator_costs of any call */
	double		units_per_op;	/* units one more cpu_operator_cost buys */
	bool		sum_operands;	/* units of the call: sum (else max) */
	int			default_units;	/* of an operand that tells nothing */
	double		header_bytes;	/* raw size of a value of u units: */
	double		unit_bytes;		/* header_bytes + unit_bytes * u */
} DistanceCostModel;

static const DistanceCostModel cost_models[] = {
	[VECTOR_COST_FLOAT4] = {1.0, 16.0, false, 128, VARHDRSZ + 4, 4.0},
	[VECTOR_COST_HALF] = {1.0, 16.0, false, 128, VARHDRSZ + 4, 2.0},
	[VECTOR_COST_SPARSE] = {2.0, 6.0, true, 100, VARHDRSZ + 12, 8.0},
	[VECTOR_COST_BIT] = {2.0, 600.0, false, 1024, VARHDRSZ + 4, 0.125},
};

double
vector_distance_cost(int dims)
{
	return vector_distance_units_cost(VECTOR_COST_FLOAT4, dims);
}

double
vector_distance_units_cost(VectorCostKind kind, int units)
{
	const DistanceCostModel *m = &cost_models[kind];

	if (units <= 0)
		units = m->default_units;
	return cpu_operator_cost * (m->fixed_ops + units / m->units_per_op);
}

int
vector_expr_dims(Node *expr)
{
	int32		typmod;

	if (expr == NULL)
		return -1;
	typmod = exprTypmod(expr);
	if (typmod > 0)
		return typmod;
	if (IsA(expr, Const) && !((Const *) expr)->constisnull)
		return DatumGetVector(((Const *) expr)->constvalue)->dim;
	return -1;
}

/*
 * The average stored width of column `arg` from its ANALYZE statistics, or
 * 0 when `arg` is not a column of a table of the query or has none.
 */
static int32
column_avg_width(PlannerInfo *root, Node *arg)
{
	Var		   *var;
	RangeTblEntry *rte;

	if (root == NULL || arg == NULL || !IsA(arg, Var))
		return 0;
	var = (Var *) arg;
	if (var->varlevelsup != 0 || var->varattno <= 0 ||
		var->varno < 1 || var->varno >= root->simple_rel_array_size ||
		root->simple_rte_array == NULL)
		return 0;
	rte = root->simple_rte_array[var->varno];
	if (rte == NULL || rte->rtekind != RTE_RELATION)
		return 0;
	return Max(get_attavgwidth(rte->relid, var->varattno), 0);
}

/*
 * The units (see DistanceCostModel) of operand `arg`, -1 when unknown:
 * dense and bit values from the typmod or a constant; sparsevec values
 * (whose typmod is the dimensions, not the stored elements) from a
 * constant or the column's average width when that is not a TOAST pointer.
 */
static int
operand_units(PlannerInfo *root, VectorCostKind kind, Node *arg)
{
	if (kind == VECTOR_COST_SPARSE)
	{
		const DistanceCostModel *m = &cost_models[kind];
		int32		width;

		if (IsA(arg, Const) && !((Const *) arg)->constisnull)
			return DatumGetSparseVector(((Const *) arg)->constvalue)->nnz;
		width = column_avg_width(root, arg);
		if (width >= m->header_bytes + m->unit_bytes)
			return (int) ((width - m->header_bytes) / m->unit_bytes);
		return -1;
	}
	if (kind == VECTOR_COST_BIT)
	{
		int32		typmod = exprTypmod(arg);

		if (typmod > 0)
			return typmod;
		if (IsA(arg, Const) && !((Const *) arg)->constisnull)
			return VARBITLEN(DatumGetVarBitP(((Const *) arg)->constvalue));
		return -1;
	}
	return vector_expr_dims(arg);
}

/*
 * The cost of detoasting `arg` before each call, when it is a column of a
 * table whose statistics say its values are stored out of line or
 * compressed (an average stored width under half the raw size of a value
 * of `units` units); 0 otherwise, and without statistics.
 */
static double
detoast_cost(PlannerInfo *root, const DistanceCostModel *m, Node *arg, int units)
{
	int32		width = column_avg_width(root, arg);
	double		raw = m->header_bytes + m->unit_bytes * units;

	if (width <= 0 || width >= raw / 2)
		return 0;
	return cpu_operator_cost * VECTOR_COST_DETOAST_CHUNK *
		ceil(raw / TOAST_MAX_CHUNK_SIZE);
}

double
vector_distance_call_cost(PlannerInfo *root, VectorCostKind kind, List *args)
{
	const DistanceCostModel *m = &cost_models[kind];
	int		   *arg_units = palloc(sizeof(int) * Max(list_length(args), 1));
	ListCell   *lc;
	int			units = -1;
	double		cost;

	foreach(lc, args)
	{
		int			u = operand_units(root, kind, lfirst(lc));

		arg_units[foreach_current_index(lc)] = u;
		if (u < 0)
			u = m->sum_operands ? m->default_units : -1;
		units = m->sum_operands ? Max(units, 0) + u : Max(units, u);
	}
	cost = vector_distance_units_cost(kind, units);
	if (root != NULL)
		foreach(lc, args)
		{
			int			u = arg_units[foreach_current_index(lc)];

			/* a TOASTed sparsevec has more than a 2 kB row holds */
			if (u < 0)
				u = kind == VECTOR_COST_SPARSE ?
					(int) ((TOAST_TUPLE_THRESHOLD - m->header_bytes) / m->unit_bytes) :
					(units > 0 ? units : m->default_units);
			cost += detoast_cost(root, m, lfirst(lc), u);
		}
	pfree(arg_units);
	return cost;
}

/*
 * The SupportRequestCost answer for a distance between operands of `kind`;
 * NULL for any other request.
 */
static Node *
distance_support(Node *rawreq, VectorCostKind kind)
{
	SupportRequestCost *req;
	List	   *args = NIL;

	if (!IsA(rawreq, SupportRequestCost))
		return NULL;
	req = (SupportRequestCost *) rawreq;
	if (req->node != NULL && IsA(req->node, FuncExpr))
		args = ((FuncExpr *) req->node)->args;
	else if (req->node != NULL && IsA(req->node, OpExpr))
		args = ((OpExpr *) req->node)->args;

	req->startup = 0;
	req->per_tuple = vector_distance_call_cost(req->root, kind, args);
	return (Node *) req;
}

PG_FUNCTION_INFO_V1(vsim_distance_support);
PG_FUNCTION_INFO_V1(vsim_halfvec_distance_support);
PG_FUNCTION_INFO_V1(vsim_sparsevec_distance_support);
PG_FUNCTION_INFO_V1(vsim_bit_distance_support);

Datum
vsim_distance_support(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(distance_support((Node *) PG_GETARG_POINTER(0), VECTOR_COST_FLOAT4));
}

Datum
vsim_halfvec_distance_support(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(distance_support((Node *) PG_GETARG_POINTER(0), VECTOR_COST_HALF));
}

Datum
vsim_sparsevec_distance_support(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(distance_support((Node *) PG_GETARG_POINTER(0), VECTOR_COST_SPARSE));
}

Datum
vsim_bit_distance_support(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(distance_support((Node *) PG_GETARG_POINTER(0), VECTOR_COST_BIT));
}
