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
 *							lists in order, as many per page as fit, pages
 *							chained by nextblkno (D = ndirpages, fixed by
 *							nlists and dims)
 *	  blocks D+1 .. D+P		quantization parameters (quantized indexes
 *							only, P = nparampages): IVF_PAGE_PARAMS pages,
 *							one item each, together the parameter blob
 *							(see "Quantization" below)
 *	  blocks D+P+1 ..		list pages: items are IvfTuples; each list is
 *							a chain of pages linked by nextblkno, the
 *							first page written by the build (so a list
 *							always has at least one page and its first
 *							block never changes)
 *
 * Directory and list pages carry IvfPageOpaqueData in their special space.
 * The build writes each list's pages contiguously; later inserts extend the
 * relation, so a chain may then jump around.  Pages never leave their chain.
 *
 * Space: an insert goes to the list's insert page (IvfListEntry), or, when
 * that is full, to the first page after it in the chain with room; past the
 * chain's end it extends the list.  It then moves the insert page to where
 * the row went.  VACUUM compacts the pages it deletes from and moves each
 * list's insert page back to its first page with room for a row, so space
 * freed anywhere in a list is used again by that list's inserts.
 * PostgreSQL's free space map is per relation: a page it offers may belong
 * to any list, and a row must go to its own list, so the per-list insert
 * page takes its place.  An index built before space reuse has each list's
 * last page there, which is a valid insert page.
 *
 * Locking: the metapage and the centres never change after the build; a
 * directory item's insert page does.  An insert locks one list page at a
 * time, walking its chain; when it extends the list it holds the chain's
 * last page, locks the new page and then the directory page, and writes
 * the three in one WAL record.  Moving the insert page otherwise locks only
 * the directory page, after the list page is released.  Scans, VACUUM and
 * vsim.index_check() lock one page at a time.  No one holds a directory
 * page lock while waiting for a list page lock, so there are no lock
 * cycles.
 *
 * Quantization (the `quantization` option; issue 9): 'none' stores each
 * row's element as the column type holds it (IVF_VERSION 1, the format of
 * every index before quantization, byte for byte).  'sq8' and 'rabitq'
 * (src/quant/quant.h) store a code instead in list items, and write
 * IVF_VERSION_QUANT: the metapage's quantization fields are set and the
 * parameter pages follow the directory.  The blob is, for sq8, the
 * Sq8Params trained on the build's k-means sample (8 + 8 dims bytes); for
 * rabitq, the RabitqRotation (24 + dims/2 bytes, seed IVF_RABITQ_SEED);
 * it is split into chunks of IVF_PARAM_CHUNK bytes, one per page, chained
 * in block order, and its CRC-32C is on the metapage.  RaBitQ encodes each
 * row against its list's centre (the directory's, as floats).  The
 * directory keeps full centres in every mode, so the dimension limit is
 * the same as 'none''s.  A scan ranks candidates by the code's approximate
 * distance and re-ranks the best by their exact distance, read from the
 * heap row (vindex_rerank_*, index.h; ivf_scan.c).
 *
 * Filter columns (issue 14; "Filter columns" in index/index.h): an index
 * with key columns after the vector (`USING ivfflat (v vector_l2_ops,
 * category)`) stores each row's filter area (vindex_filter_size(n) bytes)
 * in its list item after the element or code, at IVF_FILTER_OFFSET; the
 * metapage does not change (the layout follows from the index's columns).
 * An index without filter columns has the list items of before, byte for
 * byte.  A scan tests the filter on each item before computing its
 * distance, and with a filter reads lists beyond ivfflat.probes, in centre
 * order, until its candidates hold ivfflat.filter_candidates matching rows
 * (ivf_scan.c).
 *
 * Damage: every reader checks what it reads before using it (the metapage
 * when it is cached, each directory and list page when it is locked, each
 * block number before it is read) and reports damage with
 * vindex_report_corrupted (XX002), so a damaged index gives errors, never
 * a crash or an endless loop.
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
#include "quant/quant.h"
#include "storage/bufpage.h"
#include "storage/itemptr.h"
#include "utils/relcache.h"
#include "vector/vector.h"

#define IVF_MAGIC				0x49564646	/* "IVFF" */
#define IVF_VERSION				1	/* quantization 'none' */
#define IVF_VERSION_QUANT		2	/* sq8 or rabitq: parameter pages */
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
#define IVF_PAGE_PARAMS			(1 << 2)

/* The `quantization` option, IvfMetaPageData.quantization */
typedef enum IvfQuantization
{
	IVF_QUANT_NONE = VINDEX_QUANT_NONE,
	IVF_QUANT_SQ8 = VINDEX_QUANT_SQ8,
	IVF_QUANT_RABITQ = VINDEX_QUANT_RABITQ
} IvfQuantization;

/* Seed of the RaBitQ rotation (any fixed value: builds are reproducible) */
#define IVF_RABITQ_SEED			UINT64CONST(0x5EED1F5A3B7E0009)

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

	/*
	 * IVF_VERSION_QUANT only (a version 1 page ends before them: readers
	 * take them as zero, ivf_copy_meta)
	 */
	int32		quantization;	/* IvfQuantization */
	int32		code_size;		/* bytes of a list item's code */
	int32		nparampages;	/* parameter pages, after the directory */
	uint32		params_size;	/* bytes of the parameter blob */
	uint32		params_crc;		/* its CRC-32C */
	int32		unused;			/* always 0 */
} IvfMetaPageData;

/* Bytes of the metapage contents of a version 1 index */
#define IVF_META_V1_SIZE		offsetof(IvfMetaPageData, quantization)

typedef IvfMetaPageData *IvfMetaPage;

#define IvfPageGetMeta(page) ((IvfMetaPage) PageGetContents(page))

/*
 * Directory item: one list.  Only insert_blkno ever changes after the
 * build (see "Space" above).
 */
typedef struct IvfListEntry
{
	BlockNumber first_blkno;	/* first page of the list's chain */
	BlockNumber insert_blkno;	/* page of the chain an insert tries first */
	/* stored element, desc->stored_size(dims) bytes (index.h) */
	char		centre[FLEXIBLE_ARRAY_MEMBER];
} IvfListEntry;

/* Item sizes for stored elements of `elem_size` bytes */
#define IVF_LIST_ENTRY_SIZE(elem_size) \
	MAXALIGN(offsetof(IvfListEntry, centre) + (elem_size))

/*
 * List item: a heap TID and the row's stored element (for vector its
 * float4 elements), or with quantization its code (Sq8Element,
 * RabitqElement; meta->code_size bytes), without a varlena header so a
 * scan runs the distance kernel straight on the page; in an index with
 * filter columns, the row's filter area (index.h) follows at
 * IVF_FILTER_OFFSET(code_size).
 */
typedef struct IvfTuple
{
	ItemPointerData heap_tid;
	uint16		unused;			/* keeps x 4-byte aligned; always 0 */
	/* stored element, desc->stored_size(dims) bytes (index.h), or code */
	char		x[FLEXIBLE_ARRAY_MEMBER];
} IvfTuple;

#define IVF_TUPLE_SIZE(elem_size) \
	MAXALIGN(offsetof(IvfTuple, x) + (elem_size))

/* Where a list item's filter area starts in x[], after a code of code_size bytes */
#define IVF_FILTER_OFFSET(code_size)	TYPEALIGN(4, (code_size))

/*
 * Bytes of a list item with a code of code_size bytes and `nfilters`
 * filter columns (IVF_TUPLE_SIZE(code_size) without any)
 */
#define IVF_ITEM_SIZE(code_size, nfilters) \
	((nfilters) == 0 ? IVF_TUPLE_SIZE(code_size) : \
	 IVF_TUPLE_SIZE(IVF_FILTER_OFFSET(code_size) + vindex_filter_size(nfilters)))

/* Where the special space of a directory or list page starts */
#define IVF_SPECIAL_OFFSET		(BLCKSZ - MAXALIGN(sizeof(IvfPageOpaqueData)))

/* Usable bytes of an empty directory or list page */
#define IVF_PAGE_FREE_SPACE \
	(IVF_SPECIAL_OFFSET - MAXALIGN(SizeOfPageHeaderData))

/*
 * Directory items per page, and directory pages, for nlists lists of
 * stored elements of elem_size bytes
 */
#define IVF_LISTS_PER_DIR_PAGE(elem_size) \
	((int) (IVF_PAGE_FREE_SPACE / (IVF_LIST_ENTRY_SIZE(elem_size) + sizeof(ItemIdData))))
#define IVF_DIR_PAGES(nlists, elem_size) \
	(((nlists) + IVF_LISTS_PER_DIR_PAGE(elem_size) - 1) / IVF_LISTS_PER_DIR_PAGE(elem_size))

/*
 * Largest stored element whose list item (with its line pointer) fits on a
 * page: 8,144 bytes with 8 kB pages, i.e. 2,036 vector dimensions or
 * 65,152 bits (ivf_max_dims)
 */
#define IVF_MAX_ELEM_BYTES \
	((int) (IVF_PAGE_FREE_SPACE - sizeof(ItemIdData) - offsetof(IvfTuple, x)) & ~7)

/* Bytes of the parameter blob on each parameter page (the last: the rest) */
#define IVF_PARAM_CHUNK \
	((int) (IVF_PAGE_FREE_SPACE - sizeof(ItemIdData)) & ~7)

/* ivf_max_dims: the largest dims of `elem` an ivfflat index stores (ivf_page.c) */
extern int	ivf_max_dims(const VindexElemType *elem);

/* reloptions of an ivfflat index */
typedef struct IvfOptions
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int			lists;
	int			quantization_offset;	/* the `quantization` string */
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
extern int	ivf_rerank_candidates;
extern int	ivf_filter_candidates;

/* Default of ivfflat.rerank_candidates (chosen by measurement: README) */
#define IVF_DEFAULT_RERANK		40

/* Default of ivfflat.filter_candidates (as many as hnsw.ef_search's default) */
#define IVF_DEFAULT_FILTER_CANDIDATES	40

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

/* The `quantization` option of an ivfflat index (IVF_QUANT_NONE if unset). */
extern IvfQuantization ivf_index_quantization(Relation index);

/* The SQL name of a quantization mode ("none", "sq8", "rabitq"). */
extern const char *ivf_quantization_name(IvfQuantization q);

/* ---- ivf_page.c: pages, and checking them as they are read ---- */

/*
 * ivf_get_meta: a copy of the metapage (immutable after the build), cached
 * in the relcache entry, checked by ivf_verify_meta when it is read.
 */
extern const IvfMetaPageData *ivf_get_meta(Relation index);

/*
 * ivf_get_params: the quantization parameter blob of `index`
 * (meta->params_size bytes: Sq8Params or RabitqRotation), cached with the
 * metapage, read and checked by ivf_read_params; NULL for 'none'.  The
 * cache may be freed by a relcache invalidation: a caller that keeps it
 * across lock acquisitions copies it.
 */
extern const void *ivf_get_params(Relation index);

/*
 * ivf_copy_meta: the metapage contents of `page` into *out, the
 * quantization fields zero for a version 1 page.
 */
extern void ivf_copy_meta(Page page, IvfMetaPageData *out);

/*
 * ivf_read_params: read the parameter pages of `index` (metapage `meta`,
 * checked) into a palloc'd blob of meta->params_size bytes and check them:
 * each page an IVF_PAGE_PARAMS page with one item of its chunk's size,
 * chained in block order, the blob's CRC-32C that of the metapage and its
 * contents those of the mode (dims; a rotation's size and rounds; finite
 * sq8 ranges).  XX002 otherwise.  NULL for 'none'.
 */
extern void *ivf_read_params(Relation index, const IvfMetaPageData *meta);

/*
 * ivf_code_size: bytes of a list item's code for mode `q` of `dims`
 * dimensions (for none, elem->stored_size(dims)).
 */
extern Size ivf_code_size(IvfQuantization q, const VindexElemType *elem, int dims);

/* ivf_params_size: bytes of the parameter blob of mode `q` (0 for none). */
extern Size ivf_params_size(IvfQuantization q, int dims);

/*
 * ivf_verify_meta: raise XX002 (vindex_report_corrupted at block 0) unless
 * `page`, the locked metapage of `index`, has the magic and version, dims
 * from 1 to ivf_max_dims equal to the indexed column's, nlists from 1 to
 * IVF_MAX_LISTS, IVF_DIR_PAGES(nlists, elem_size) directory pages and the
 * metric of the operator class.
 */
extern void ivf_verify_meta(Relation index, Page page);

/*
 * ivf_verify_page: raise XX002 unless `page` (block `blkno` of `index`,
 * locked) is an initialised ivfflat page of kind `kind` (IVF_PAGE_LIST or
 * IVF_PAGE_DIRECTORY) with a sound header and special space, whose items
 * are all normal, `itemsz` bytes long, MAXALIGNed and within the page's
 * item space.  A caller may then read every item of the page.  One pass
 * over the line pointers: cheap next to reading the items.
 */
extern void ivf_verify_page(Relation index, BlockNumber blkno, Page page,
							uint16 kind, Size itemsz);

/* PageInit a directory or list page (IVF_PAGE_* in `flags`). */
extern void ivf_init_page(Page page, uint16 flags);

/*
 * ivf_new_buffer: extend `index` (fork `forknum`) by one page and return
 * its buffer, pinned and exclusively locked, not yet initialised.  Takes
 * the relation extension lock, so concurrent inserters are safe.
 */
extern Buffer ivf_new_buffer(Relation index, ForkNumber forknum);

/* ---- ivf_read.c: reading the directory and the lists' chains ---- */

/*
 * What one operation (a scan, an insert, a VACUUM pass, ...) reads with:
 * the index, its metapage and where list pages may be.  The relation grows
 * while we read it (inserts extend it), so its size is read again when a
 * block number beyond the last one seen comes up.
 */
typedef struct IvfReader
{
	Relation	index;
	const IvfMetaPageData *meta;
	BufferAccessStrategy strategy;	/* for every read, or NULL */
	const VindexElemType *elem; /* the column's element type */
	Size		elem_size;		/* elem->stored_size(meta->dims) */
	Size		code_size;		/* of list items: meta->code_size or elem_size */
	Size		tuple_size;		/* IVF_ITEM_SIZE(code_size, filters.nfilters) */
	VindexFilterLayout filters; /* the filter columns (index.h) */
	Size		filter_offset;	/* IVF_FILTER_OFFSET(code_size), in x[] */
	BlockNumber first_list_blkno;	/* 1 + ndirpages + nparampages */
	BlockNumber nblocks;		/* relation size last read; 0 before */
} IvfReader;

/* One list as its directory item gives it. */
typedef struct IvfListRef
{
	int			list;			/* 0 .. nlists - 1, directory order */
	BlockNumber dir_blkno;		/* where the item is */
	OffsetNumber dir_off;
	BlockNumber first_blkno;	/* checked by ivf_is_list_blkno */
	BlockNumber insert_blkno;	/* checked by ivf_is_list_blkno */
} IvfListRef;

/* A reader of `index` with metapage `meta` (ivf_get_meta's or a copy). */
extern void ivf_reader_init(IvfReader *r, Relation index,
							const IvfMetaPageData *meta,
							BufferAccessStrategy strategy);

/*
 * ivf_is_list_blkno: whether `blkno` can be a list page: after the
 * directory and before the end of the relation.
 */
extern bool ivf_is_list_blkno(IvfReader *r, BlockNumber blkno);

/*
 * ivf_next_list_blkno: the page after `page` (block `blkno`, a verified
 * list page, locked) in its chain, or InvalidBlockNumber at its end.
 * `*chain_pages` counts the pages of the chain followed so far (start it
 * at 0 on the chain's first page).  XX002 when the next block cannot be a
 * list page, or when the chain has run over more pages than the relation
 * has (a cycle).
 */
extern BlockNumber ivf_next_list_blkno(IvfReader *r, BlockNumber blkno,
									   Page page, BlockNumber *chain_pages);

/*
 * ivf_read_directory: call `fn` for every list, in order, with its
 * directory item's reference and centre (a stored element on the
 * directory page, share-locked during the call; `fn` must take no other
 * lock).  Checks every directory page (ivf_verify_page; blocks 1 ..
 * ndirpages chained in order; each full but the last; nlists items in
 * all) and every item's block numbers (ivf_is_list_blkno) before `fn`
 * sees them; XX002 otherwise.
 */
typedef void (*IvfDirectoryFn) (const IvfListRef *ref, const char *centre,
								void *arg);
extern void ivf_read_directory(IvfReader *r, IvfDirectoryFn fn, void *arg);

/* ivf_list_refs: every list's reference (palloc'd, meta->nlists of them) */
extern IvfListRef *ivf_list_refs(IvfReader *r);

/*
 * ivf_walk_list: call `fn` for every page of the list's chain, in order,
 * with the page locked in `lockmode` (BUFFER_LOCK_SHARE or _EXCLUSIVE)
 * and checked (ivf_verify_page, ivf_next_list_blkno).  `fn` may change the
 * page's items, not its next page.  Honours VACUUM's cost delay and
 * interrupts (vindex_vacuum_delay_point) between pages.
 */
typedef struct IvfListPage
{
	const IvfListRef *ref;		/* the list */
	BlockNumber blkno;
	Buffer		buf;			/* pinned, locked */
	Page		page;
	BlockNumber next;			/* next page, InvalidBlockNumber if last */
} IvfListPage;

typedef void (*IvfListPageFn) (IvfReader *r, const IvfListPage *lp, void *arg);
extern void ivf_walk_list(IvfReader *r, const IvfListRef *ref, int lockmode,
						  IvfListPageFn fn, void *arg);

/*
 * ivf_set_insert_page: make `blkno` the insert page of list `ref` if the
 * directory item still has `expected` there (another insert or VACUUM may
 * have moved it meanwhile: then theirs stands).  Locks the directory page
 * exclusively (hold no directory page lock when calling); one GenericXLog
 * record when the item changes.
 */
extern void ivf_set_insert_page(IvfReader *r, const IvfListRef *ref,
								BlockNumber expected, BlockNumber blkno);

/* ---- ivf_quant.c: the codecs of src/quant/ in ivfflat ---- */

/*
 * What encodes rows and computes approximate distances for one index: its
 * mode, metric, dims, element type and parameters (not owned).
 */
typedef struct IvfCodec
{
	IvfQuantization quant;
	VectorMetric metric;
	int			dims;
	const VindexElemType *elem;
	const void *params;			/* Sq8Params or RabitqRotation */
	float	   *xf;				/* dims floats of scratch */
	float	   *cf;				/* dims floats of scratch */

	/* rabitq scans (ivf_codec_set_query, ivf_codec_prepare_list) */
	float	   *rquery;			/* the query rotated, D floats */
	int			nlists;			/* lists of the cache below, 0: none yet */
	float	   *rcentres;		/* nlists x D floats: centres rotated */
	bool	   *rdone;			/* which of them are computed */
} IvfCodec;

/*
 * ivf_quant_check: the checks of CREATE INDEX for mode `q`: 0A000 with a
 * hint for any quantization of a type without float elements (bit) and for
 * rabitq under l1.
 */
extern void ivf_quant_check(IvfQuantization q, const VindexElemType *elem,
							VectorMetric metric);

/*
 * ivf_quant_train: the parameter blob of mode `q` (palloc'd,
 * ivf_params_size bytes): sq8_train on the `n` sample rows (n x dims floats,
 * the rows as to_floats gives them, before any normalisation; n = 0 gives
 * ranges of one zero row), or the RaBitQ rotation of IVF_RABITQ_SEED.
 */
extern void *ivf_quant_train(IvfQuantization q, const float *sample, int n, int dims);

/* ivf_codec_init: a codec for `params` (scratch palloc'd here) */
extern void ivf_codec_init(IvfCodec *c, IvfQuantization q, VectorMetric metric,
						   const VindexElemType *elem, int dims, const void *params);

/*
 * ivf_codec_encode: the code of stored element `x` (elem->stored_size bytes,
 * an element the metric indexes) in list of centre `centre` (a stored
 * element: rabitq encodes against it) into `out` (code_size bytes).
 */
extern void ivf_codec_encode(IvfCodec *c, const char *x, const char *centre, char *out);

/*
 * ivf_codec_prepare: prepare query `query` (a stored element) for the
 * lists of centre `centre` (rabitq: one per list; sq8 ignores it, one per
 * scan).  Returns an opaque prepared query, palloc'd in the current
 * context.
 */
extern void *ivf_codec_prepare(IvfCodec *c, const char *query, const char *centre);

/*
 * ivf_codec_set_query (rabitq): rotate `query` (a stored element) once for
 * the lists ivf_codec_prepare_list prepares it for.
 */
extern void ivf_codec_set_query(IvfCodec *c, const char *query);

/*
 * ivf_codec_prepare_list (rabitq): the query of ivf_codec_set_query
 * prepared for list `list` of `nlists`, of centre `centre` (a stored
 * element).  Each list's rotated centre is computed once per codec (a
 * scan: across its rescans) and kept; the query's residual to it is then
 * R q - R c (rabitq_prepare_rotated), O(D) per list instead of a rotation.
 */
extern void *ivf_codec_prepare_list(IvfCodec *c, int list, int nlists, const char *centre);

/*
 * ivf_codec_distance: the approximate index-order distance from a prepared
 * query to a code (sq8: to the decoded vector; rabitq: the estimate)
 */
static inline double
ivf_codec_distance(const IvfCodec *c, const void *prepared, const char *code)
{
	if (c->quant == IVF_QUANT_SQ8)
		return sq8_distance((const Sq8Query *) prepared, (const Sq8Element *) code);
	return rabitq_distance((const RabitqQuery *) prepared,
						   (const RabitqElement *) code, NULL);
}

/*
 * ivf_codec_valid: whether `code` is a code the encoder can write (sq8: a
 * finite norm2 equal to the decoded codes' squared norm; rabitq: finite
 * factors, norm >= 0, ip_bar in (0, 1], ones the code's popcount)
 */
extern bool ivf_codec_valid(const IvfCodec *c, const char *code);

/* ---- ivf_check.c ---- */

/*
 * ivf_index_check: the VindexMethod.check of ivfflat (what it verifies is
 * in the header of ivf_check.c); raises XX002 for the first damage found,
 * returns when the index is sound.  With heapallindexed it holds a hash
 * set of the index's heap TIDs, 16 to 36 bytes a row.
 */
extern void ivf_index_check(Relation index, Relation heap, bool heapallindexed);

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
 * ivf_nearest_list: the list whose centre is nearest to `x` (a stored element)
 * under ivf_list_metric(), read with `r` (ivf_read_directory's checks and
 * errors).
 */
extern IvfListRef ivf_nearest_list(IvfReader *r, const char *x);

/*
 * ivf_nearest_list_centre: ivf_nearest_list, also copying the list's centre
 * (a stored element) into `centre` (elem_size bytes) unless it is NULL.
 */
extern IvfListRef ivf_nearest_list_centre(IvfReader *r, const char *x, char *centre);

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
 *		54000 when it has more than ivf_max_dims or k-means cannot fit in
 *		maintenance_work_mem.
 *	  - ivf_buildempty's index has one empty list whose centre is the
 *		origin (what a build on an empty table gives).
 *	  - ivf_options accepts lists from 1 to IVF_MAX_LISTS and quantization
 *		none, sq8 or rabitq (any case; 22023 with a hint otherwise);
 *		ivf_build and ivf_buildempty raise 0A000 for the combinations
 *		ivf_quant_check refuses.
 * ---------------------------------------------------------------------
 */
VINDEX_DECLARE_CALLBACKS(ivf);

#endif							/* VSIM_IVF_H */
