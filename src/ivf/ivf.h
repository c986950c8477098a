/*-------------------------------------------------------------------------
 *
 * ivf.h
 *	  The IVFFlat index access method: shared declarations and the on-disk
 *	  page layout.
 *
 * An inverted file (Jegou, Douze & Schmid, "Product quantization for
 * nearest neighbor search", IEEE TPAMI 2011, section 4.1): k-means splits
 * the indexed vectors into `nlists` lists, each with a centre; a vector is
 * stored, uncompressed ("flat"), in the list of its nearest centre, and a
 * query scans only the lists whose centres are nearest to it.
 *
 * Every page is a standard PostgreSQL page (line pointers, items, special
 * space), read and written through the buffer manager; every change after
 * the build is WAL-logged with GenericXLog, the build itself logs whole
 * pages.
 *
 *	  block 0				metapage: IvfMetaPageData in the page contents
 *	  blocks 1 .. D			directory: one item (IvfListEntry) per list,
 *							lists in order, pages chained by nextblkno
 *	  blocks D+1 ..			list pages: items are IvfTuples; each list is
 *							a chain of pages linked by nextblkno, the
 *							first page written by the build (so a list
 *							always has at least one page and its first
 *							block never changes), new rows appended to the
 *							last page
 *
 * Directory and list pages carry IvfPageOpaqueData in their special space.
 * The build writes each list's pages contiguously; later inserts extend the
 * relation, so a chain may then jump around.
 *
 * Locking: the metapage and the centres never change after the build.  An
 * insert locks the list's last page, and when it must extend the list, the
 * new page and the directory page too (in that order, in one WAL record).
 * Scans and VACUUM lock one page at a time.  No one holds a directory page
 * lock while waiting for a list page lock, so there are no lock cycles.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSIM_IVF_H
#define VSIM_IVF_H

#include "postgres.h"

#include "access/amapi.h"
#include "access/genam.h"
#include "access/itup.h"
#include "nodes/execnodes.h"
#include "storage/block.h"
#include "common/relpath.h"
#include "index/index.h"
#include "storage/bufpage.h"
#include "storage/itemptr.h"
#include "utils/relcache.h"
#include "vector/vector.h"

#define IVF_MAGIC				0x49564646	/* "IVFF" */
#define IVF_VERSION				1
#define IVF_PAGE_ID				0xFF8A	/* in IvfPageOpaqueData.page_id */

#define IVF_METAPAGE_BLKNO		0
#define IVF_FIRST_DIR_BLKNO		1

#define IVF_DEFAULT_LISTS		100
#define IVF_MAX_LISTS			32768

/* Rows of the k-means sample per list (ANALYZE-like: a fixed rate per bucket) */
#define IVF_SAMPLE_ROWS_PER_LIST 50

/* Page kinds, IvfPageOpaqueData.flags */
#define IVF_PAGE_DIRECTORY		(1 << 0)
#define IVF_PAGE_LIST			(1 << 1)

typedef struct IvfPageOpaqueData
{
	BlockNumber nextblkno;		/* next page of this chain, or Invalid */
	uint16		flags;			/* IVF_PAGE_* */
	uint16		page_id;		/* IVF_PAGE_ID, for tools like pg_filedump */
} IvfPageOpaqueData;

typedef IvfPageOpaqueData *IvfPageOpaque;

#define IvfPageGetOpaque(page) ((IvfPageOpaque) PageGetSpecialPointer(page))

typedef struct IvfMetaPageData
{
	uint32		magic;			/* IVF_MAGIC */
	uint32		version;		/* IVF_VERSION */
	int32		dims;			/* dimensions of every indexed vector */
	int32		nlists;			/* lists actually built (<= requested) */
	int32		requested_lists;	/* the `lists` option at build time */
	int32		ndirpages;		/* directory pages, from IVF_FIRST_DIR_BLKNO */
	int32		metric;			/* VectorMetric of the operator class */
	int32		sample_rows;	/* rows k-means ran on */
	int64		build_rows;		/* rows indexed by the build */
	double		build_imbalance;	/* imbalance factor after the build */
} IvfMetaPageData;

typedef IvfMetaPageData *IvfMetaPage;

#define IvfPageGetMeta(page) ((IvfMetaPage) PageGetContents(page))

/*
 * Directory item: one list.  Only last_blkno ever changes after the build
 * (when an insert extends the list).
 */
typedef struct IvfListEntry
{
	BlockNumber first_blkno;	/* first page of the list's chain */
	BlockNumber last_blkno;		/* page new rows go to */
	float		centre[FLEXIBLE_ARRAY_MEMBER];	/* dims floats */
} IvfListEntry;

#define IVF_LIST_ENTRY_SIZE(dims) \
	MAXALIGN(offsetof(IvfListEntry, centre) + sizeof(float) * (dims))

/*
 * List item: a heap TID and the vector's elements, stored without a varlena
 * header so a scan runs the distance kernel straight on the page.
 */
typedef struct IvfTuple
{
	ItemPointerData heap_tid;
	uint16		unused;			/* keeps x 4-byte aligned; always 0 */
	float		x[FLEXIBLE_ARRAY_MEMBER];	/* dims floats */
} IvfTuple;

#define IVF_TUPLE_SIZE(dims) \
	MAXALIGN(offsetof(IvfTuple, x) + sizeof(float) * (dims))

/* Usable bytes of an empty directory or list page */
#define IVF_PAGE_FREE_SPACE \
	(BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(IvfPageOpaqueData)))

/* Largest dims whose list item (with its line pointer) fits on a page */
#define IVF_MAX_DIM \
	((int) ((IVF_PAGE_FREE_SPACE - sizeof(ItemIdData) - offsetof(IvfTuple, x)) / sizeof(float)) & ~1)

/* reloptions of an ivfflat index */
typedef struct IvfOptions
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int			lists;
} IvfOptions;

/* ivfflat.iterative_scan values */
typedef enum IvfIterativeScan
{
	IVF_ITERATIVE_OFF,
	IVF_ITERATIVE_RELAXED
} IvfIterativeScan;

/* settings (ivf.c) */
extern int	ivf_probes;
extern int	ivf_iterative_scan;
extern int	ivf_max_probes;

/* Build sub-phases reported in pg_stat_progress_create_index */
#define IVF_PHASE_SAMPLE		2
#define IVF_PHASE_KMEANS		3
#define IVF_PHASE_ASSIGN		4
#define IVF_PHASE_LOAD			5

/* ---- ivf.c ---- */

/* Register the reloption kind and the ivfflat.* settings; from _PG_init. */
extern void ivf_init(void);

/* The `lists` option of an ivfflat index (IVF_DEFAULT_LISTS if unset). */
extern int	ivf_index_lists(Relation index);

/* ---- ivf_page.c ---- */

/*
 * ivf_get_meta: a copy of the metapage (immutable after the build), cached
 * in the relcache entry.  Raises XX002 (index_corrupted) on a bad magic.
 */
extern const IvfMetaPageData *ivf_get_meta(Relation index);

/* PageInit a directory or list page (IVF_PAGE_* in `flags`). */
extern void ivf_init_page(Page page, uint16 flags);

/*
 * ivf_new_buffer: extend `index` (fork `forknum`) by one page and return
 * its buffer, pinned and exclusively locked, not yet initialised.  Takes
 * the relation extension lock, so concurrent inserters are safe.
 */
extern Buffer ivf_new_buffer(Relation index, ForkNumber forknum);

/* ---- ivf_kmeans.c ---- */

/*
 * ivf_random: a uniform double in [0, 1) from a SplitMix64 generator
 * (Steele, Lea & Flood, OOPSLA 2014) whose state is *state; fixed seeds
 * make builds deterministic.
 */
extern double ivf_random(uint64 *state);

/*
 * ivf_kmeans: cluster the `n` rows of `x` (n x dims floats, row-major)
 * into `k` centres written to `centres` (k x dims floats), 1 <= k <= n.
 * With `spherical`, rows must already have unit norm (or be zero) and the
 * centres are renormalised after every update (spherical k-means, Dhillon
 * & Modha 2001).  k-means++ seeding (Arthur & Vassilvitskii 2007), then
 * Lloyd iterations until no assignment changes or `max_iterations` pass,
 * accelerated with Elkan's bounds (Elkan 2003; n x k floats) when those
 * fit in `bounds_budget` bytes, Hamerly's (Hamerly 2010; 2n floats)
 * otherwise.  Returns the iterations run.
 */
extern int	ivf_kmeans(const float *x, int n, int dims, int k, bool spherical,
					   int max_iterations, Size bounds_budget, float *centres);

/* ---- ivf_insert.c: where a row goes ---- */

/*
 * ivf_nearest_list: the list whose centre is nearest to `x` under the
 * index metric, reading the directory pages.  Returns its number and sets
 * *dir_blkno / *dir_off to where its directory item is.
 */
extern int	ivf_nearest_list(Relation index, const IvfMetaPageData *meta,
							 const float *x, BlockNumber *dir_blkno,
							 OffsetNumber *dir_off);

/*
 * ivf_list_metric: the metric that puts a row in a list.  It is the index
 * metric, except for inner product: rows go to the nearest centre in L2
 * (centres from ordinary k-means), because assigning by inner product
 * sends most rows to the few centres of largest norm.  A query still ranks
 * the lists by inner product with their centres, i.e. by its mean inner
 * product with each list's rows.
 */
extern VectorMetric ivf_list_metric(VectorMetric metric);

/* ---------------------------------------------------------------------
 * Access method entry points: the IndexAmRoutine callbacks, which do what
 * index/index.h says of every vector index method's.  ivf.c holds
 * options, validate and buildphasename, ivf_build.c build and buildempty,
 * ivf_insert.c insert, ivf_vacuum.c bulkdelete and vacuumcleanup,
 * ivf_cost.c costestimate, ivf_scan.c the scans.  Besides:
 *
 *	  - ivf_build samples the table, runs k-means, assigns every row to
 *		its list (in parallel when the table is large enough) and writes
 *		the lists.  It raises 42P17 when the column has no dimensions,
 *		54000 when it has more than IVF_MAX_DIM or k-means cannot fit in
 *		maintenance_work_mem.
 *	  - ivf_buildempty's index has one empty list whose centre is the
 *		origin (what a build on an empty table gives).
 *	  - ivf_options accepts lists from 1 to IVF_MAX_LISTS.
 * ---------------------------------------------------------------------
 */
VINDEX_DECLARE_CALLBACKS(ivf);

#endif							/* VSIM_IVF_H */
