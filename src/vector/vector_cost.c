/*-------------------------------------------------------------------------
 *
 * vector_cost.c
 *	  What the planner charges for a distance between two vectors.
 *
 * PostgreSQL charges a function procost * cpu_operator_cost per call, the
 * same for every call of it.  A distance's time grows with the vectors'
 * dimensions, and a vector too large to stay in its row (a 784-d vector
 * takes 3144 bytes; rows over about 2 kB are TOASTed) must first be fetched
 * from the TOAST table, which costs far more than the arithmetic.  With
 * procost 1 a sequential scan and sort of 784-d vectors cost as little as
 * one of 3-d vectors, so the distance functions of the dense vector types
 * have planner support functions (vsim_distance_support for vector,
 * vsim_halfvec_distance_support for halfvec) that price
 * each call from the expression: its dimensions (the column's typmod, or a
 * constant operand's length) and, for a column whose ANALYZE statistics
 * show values stored out of line or compressed, the TOAST chunks read.
 *
 * Figures, measured on 10,000-row tables with the AVX2 kernels (see
 * test/bench/bench_cost.sh, which prints estimates next to timings): one
 * cpu_operator_cost is about 20 ns (an int4 comparison in a sequential
 * scan), a distance adds about 1.4 ns per dimension (32-d: 0.05 us, 784-d:
 * 1.1 us) and detoasting an out-of-line vector about 3.4 us per 2 kB
 * chunk.  Hence one distance costs 1 + dims / VECTOR_COST_DIMS_PER_OP
 * operator costs, plus VECTOR_COST_DETOAST_CHUNK per TOAST chunk.
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
#include "vector/vector.h"

/* dimensions one cpu_operator_cost buys in a distance kernel (measured) */
#define VECTOR_COST_DIMS_PER_OP 16.0
/* cpu_operator_costs to fetch one TOAST chunk of a vector (measured) */
#define VECTOR_COST_DETOAST_CHUNK 180.0
/* dimensions assumed when neither operand tells */
#define VECTOR_COST_DEFAULT_DIMS 128

double
vector_distance_cost(int dims)
{
	if (dims <= 0)
		dims = VECTOR_COST_DEFAULT_DIMS;
	return cpu_operator_cost * (1.0 + dims / VECTOR_COST_DIMS_PER_OP);
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
 * The cost of detoasting `arg` before each call, when it is a column of a
 * table whose statistics say its values are stored out of line or
 * compressed (an average stored width under half the raw size of a value
 * of `dims` elements of `elem_bytes` bytes each); 0 otherwise, and without
 * statistics.
 */
static double
vector_detoast_cost(PlannerInfo *root, Node *arg, int dims, int elem_bytes)
{
	Var		   *var;
	RangeTblEntry *rte;
	int32		width;
	double		raw;

	if (root == NULL || dims <= 0 || arg == NULL || !IsA(arg, Var))
		return 0;
	var = (Var *) arg;
	if (var->varlevelsup != 0 || var->varattno <= 0 ||
		var->varno < 1 || var->varno >= root->simple_rel_array_size ||
		root->simple_rte_array == NULL)
		return 0;
	rte = root->simple_rte_array[var->varno];
	if (rte == NULL || rte->rtekind != RTE_RELATION)
		return 0;
	width = get_attavgwidth(rte->relid, var->varattno);
	raw = VARHDRSZ + offsetof(Vector, x) + (double) elem_bytes * dims;
	if (width <= 0 || width >= raw / 2)
		return 0;
	return cpu_operator_cost * VECTOR_COST_DETOAST_CHUNK *
		ceil(raw / TOAST_MAX_CHUNK_SIZE);
}

/*
 * The SupportRequestCost answer for a distance between two dense values
 * of `elem_bytes`-byte elements (vector: 4, halfvec: 2; both types have
 * vector's header, so vector_expr_dims reads either); NULL for any other
 * request.
 */
static Node *
distance_support(Node *rawreq, int elem_bytes)
{
	SupportRequestCost *req;
	List	   *args = NIL;
	ListCell   *lc;
	int			dims = -1;
	double		cost;

	if (!IsA(rawreq, SupportRequestCost))
		return NULL;
	req = (SupportRequestCost *) rawreq;
	if (req->node != NULL && IsA(req->node, FuncExpr))
		args = ((FuncExpr *) req->node)->args;
	else if (req->node != NULL && IsA(req->node, OpExpr))
		args = ((OpExpr *) req->node)->args;

	foreach(lc, args)
		dims = Max(dims, vector_expr_dims(lfirst(lc)));
	cost = vector_distance_cost(dims);
	foreach(lc, args)
		cost += vector_detoast_cost(req->root, lfirst(lc), dims, elem_bytes);

	req->startup = 0;
	req->per_tuple = cost;
	return (Node *) req;
}

PG_FUNCTION_INFO_V1(vsim_distance_support);
PG_FUNCTION_INFO_V1(vsim_halfvec_distance_support);

Datum
vsim_distance_support(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(distance_support((Node *) PG_GETARG_POINTER(0), sizeof(float)));
}

Datum
vsim_halfvec_distance_support(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(distance_support((Node *) PG_GETARG_POINTER(0), sizeof(uint16)));
}
