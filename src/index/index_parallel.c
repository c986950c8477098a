/*-------------------------------------------------------------------------
 *
 * index_parallel.c
 *	  The parallel build machinery of the vector index methods: the shared
 *	  memory, the workers' start and end, the leader's wait and clean-up.
 *
 * What a build does in parallel is the method's affair (HNSW inserts into
 * one graph in shared memory, ivfflat sorts rows into its lists); what
 * every parallel build needs is here, used as index.h describes.
 *
 * The segment holds one chunk, laid out as
 *
 *	  ParallelShared		 method, OIDs, CONCURRENTLY or not, offsets
 *	  parallel table scan	 table_parallelscan_estimate bytes
 *	  query text			 so that workers report the leader's statement
 *	  BufferUsage[nworkers]	 each worker's, added to the leader's at the end
 *	  WalUsage[nworkers]
 *	  the method's state	 spec->shared_size bytes
 *
 * each part MAXALIGNed.  The functions used here keep their signatures
 * from PostgreSQL 13 (which gave InstrEndParallelQuery its WalUsage) to
 * 18, so no version checks are needed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/index.h"
#include "index/index.h"
#include "pgstat.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"

/* The one key of the table of contents ("VSIMBULD"). */
#define VINDEX_PARALLEL_KEY	UINT64CONST(0x5653494D42554C44)

typedef struct ParallelShared
{
	NameData	amname;
	Oid			heaprelid;
	Oid			indexrelid;
	bool		isconcurrent;
	/* offsets from the start of this struct */
	Size		scan_off;
	Size		query_off;
	Size		bufferusage_off;
	Size		walusage_off;
	Size		method_off;
} ParallelShared;

#define SHARED_PART(sh, off)	((void *) ((char *) (sh) + (off)))

/* Reserve `bytes` at the end of the chunk being laid out; their offset. */
static Size
reserve(Size *total, Size bytes)
{
	Size		off = *total;

	*total = add_size(*total, MAXALIGN(bytes));
	return off;
}

/* Lay out the chunk (see the file header); returns its size. */
static Size
layout(ParallelShared *sh, Relation heap, Snapshot snapshot, const char *query,
	   int nworkers, Size method_size)
{
	Size		total = 0;

	reserve(&total, sizeof(ParallelShared));
	sh->scan_off = reserve(&total, table_parallelscan_estimate(heap, snapshot));
	sh->query_off = reserve(&total, strlen(query) + 1);
	sh->bufferusage_off = reserve(&total, mul_size(sizeof(BufferUsage), nworkers));
	sh->walusage_off = reserve(&total, mul_size(sizeof(WalUsage), nworkers));
	sh->method_off = reserve(&total, method_size);
	return total;
}

/* Undo what vindex_parallel_begin set up and free pb. */
static void
teardown(VindexParallelBuild *pb)
{
	if (pb->registered)
		UnregisterSnapshot(pb->snapshot);
	DestroyParallelContext(pb->pcxt);
	ExitParallelMode();
	pfree(pb);
}

VindexParallelBuild *
vindex_parallel_begin(Relation heap, Relation index, IndexInfo *info, int nworkers,
					  const VindexParallelSpec *spec)
{
	VindexParallelBuild *pb = palloc0(sizeof(VindexParallelBuild));
	const char *query = debug_query_string ? debug_query_string : "";
	ParallelShared plan;
	ParallelShared *sh;
	Size		total;

	EnterParallelMode();
	pb->pcxt = CreateParallelContext("vsim", spec->worker_main, nworkers);
	pb->registered = info->ii_Concurrent;
	pb->snapshot = pb->registered ? RegisterSnapshot(GetTransactionSnapshot()) : SnapshotAny;
	total = layout(&plan, heap, pb->snapshot, query, nworkers, spec->shared_size);
	shm_toc_estimate_chunk(&pb->pcxt->estimator, total);
	shm_toc_estimate_keys(&pb->pcxt->estimator, 1);
	InitializeParallelDSM(pb->pcxt);
	if (pb->pcxt->seg == NULL)
	{
		teardown(pb);
		return NULL;
	}

	sh = shm_toc_allocate(pb->pcxt->toc, total);
	/* the method's part, maybe most of the chunk, is init_shared's affair */
	memset(sh, 0, plan.method_off);
	*sh = plan;
	namestrcpy(&sh->amname, spec->amname);
	sh->heaprelid = RelationGetRelid(heap);
	sh->indexrelid = RelationGetRelid(index);
	sh->isconcurrent = info->ii_Concurrent;
	table_parallelscan_initialize(heap, SHARED_PART(sh, sh->scan_off), pb->snapshot);
	strcpy(SHARED_PART(sh, sh->query_off), query);
	pb->bufferusage = SHARED_PART(sh, sh->bufferusage_off);
	pb->walusage = SHARED_PART(sh, sh->walusage_off);
	spec->init_shared(SHARED_PART(sh, sh->method_off), pb->pcxt, spec->arg);
	shm_toc_insert(pb->pcxt->toc, VINDEX_PARALLEL_KEY, sh);

	LaunchParallelWorkers(pb->pcxt);
	pb->nworkers_launched = pb->pcxt->nworkers_launched;
	ereport(DEBUG1,
			(errmsg_internal("%s build of \"%s\": %d parallel workers launched",
							 spec->amname, RelationGetRelationName(index),
							 pb->nworkers_launched)));
	WaitForParallelWorkersToAttach(pb->pcxt);

	pb->leader.amname = spec->amname;
	pb->leader.heap = heap;
	pb->leader.index = index;
	pb->leader.info = info;
	pb->leader.pscan = SHARED_PART(sh, sh->scan_off);
	pb->leader.shared = SHARED_PART(sh, sh->method_off);
	pb->leader.seg = pb->pcxt->seg;
	return pb;
}

void
vindex_parallel_worker(dsm_segment *seg, shm_toc *toc, VindexParticipateFn participate)
{
	ParallelShared *sh = shm_toc_lookup(toc, VINDEX_PARALLEL_KEY, false);
	LOCKMODE	heaplock = sh->isconcurrent ? ShareUpdateExclusiveLock : ShareLock;
	LOCKMODE	indexlock = sh->isconcurrent ? RowExclusiveLock : AccessExclusiveLock;
	BufferUsage *bufferusage = SHARED_PART(sh, sh->bufferusage_off);
	WalUsage   *walusage = SHARED_PART(sh, sh->walusage_off);
	VindexParticipant p;

	debug_query_string = SHARED_PART(sh, sh->query_off);
	pgstat_report_activity(STATE_RUNNING, debug_query_string);
	p.amname = NameStr(sh->amname);
	p.heap = table_open(sh->heaprelid, heaplock);
	p.index = index_open(sh->indexrelid, indexlock);
	p.info = BuildIndexInfo(p.index);
	p.info->ii_Concurrent = sh->isconcurrent;
	p.pscan = SHARED_PART(sh, sh->scan_off);
	p.shared = SHARED_PART(sh, sh->method_off);
	p.seg = seg;

	InstrStartParallelQuery();
	participate(&p);
	InstrEndParallelQuery(&bufferusage[ParallelWorkerNumber],
						  &walusage[ParallelWorkerNumber]);

	index_close(p.index, indexlock);
	table_close(p.heap, heaplock);
}

double
vindex_parallel_scan(const VindexParticipant *p, IndexBuildCallback callback,
					 void *state)
{
	TableScanDesc scan = table_beginscan_parallel(p->heap, p->pscan);
	double		reltuples;

	/* table_index_build_scan ends the scan */
	reltuples = table_index_build_scan(p->heap, p->index, p->info, true, true,
									   callback, state, scan);
	/* a worker's message reaches the leader's client: tests see the split */
	ereport(DEBUG1,
			(errmsg_internal("%s build of \"%s\": %s scanned %.0f heap tuples",
							 p->amname, RelationGetRelationName(p->index),
							 IsParallelWorker() ? psprintf("worker %d", ParallelWorkerNumber) : "leader",
							 reltuples)));
	return reltuples;
}

void
vindex_parallel_wait(VindexParallelBuild *pb)
{
	if (pb->finished)
		return;
	WaitForParallelWorkersToFinish(pb->pcxt);
	for (int i = 0; i < pb->nworkers_launched; i++)
		InstrAccumParallelQuery(&pb->bufferusage[i], &pb->walusage[i]);
	pb->finished = true;
}

void
vindex_parallel_end(VindexParallelBuild *pb)
{
	vindex_parallel_wait(pb);
	teardown(pb);
}
