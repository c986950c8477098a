/*-------------------------------------------------------------------------
 *
 * hnsw.h
 *	  The HNSW index access method: on-disk layout, settings and the
 *	  functions shared between its files.
 *
 * Algorithm: hierarchical navigable small world graphs, Yu. A. Malkov and
 * D. A. Yashunin, "Efficient and robust approximate nearest neighbor search
 * using Hierarchical Navigable Small World graphs", arXiv:1603.09320 (2016).
 * Section and algorithm numbers in comments refer to that paper.
 *
 * On-disk layout
 * --------------
 * Block 0 is the metapage (HnswMetaPageData after the page header).  Every
 * other block is a data page, or, in an index with filter columns, a page
 * of its filter directory ("Filter directory" below), which the stream
 * steps over.  Data pages hold one contiguous byte stream:
 * the HNSW_PAGE_DATA bytes after the page header of block 1, then those of
 * block 2, and so on.  A byte's "stream position" is
 * (block - 1) * HNSW_PAGE_DATA + offset; an element is named by the stream
 * position of its first byte (on disk as an HnswPtr: block and offset).
 *
 * Elements are appended at the stream's tail (metapage field `tail`) and
 * have this layout, starting at a 4-byte aligned position:
 *
 *	  HnswElementHeader    level, number of heap TIDs, up to HNSW_HEAPTIDS TIDs
 *	  neighbour list 0     uint16 count, HnswPtr slot[2 * m]
 *	  neighbour list 1..L  uint16 count, HnswPtr slot[m]      (L = level)
 *	  (padding to 4 bytes)
 *	  (uint32 length word  variable-size types only, see below)
 *	  stored element       the row's value, desc->stored_size(dims) bytes
 *	                       in the form of the column's element type
 *	                       (VindexElemType, index.h: float4 x[dims] for
 *	                       vector, the bit string's bytes for bit)
 *	  (padding to 4 bytes, before the next element)
 *
 * An index with filter columns (key columns after the vector, at most
 * VINDEX_MAX_FILTER_COLUMNS; "Filter columns" in index.h) stores after the
 * value, padded to 4 bytes, the row's filter area: a uint32 NULL bitmap
 * and one int64 code per filter column (vindex_filter_size(n) = 4 + 8 n
 * bytes).  The value and the filter area together are the element's
 * "stored element" of shape->elem_size bytes: they are copied, compared
 * (rows share an element only when both are equal) and read together, so
 * a scan tests the filter on the page it computes the distance on.  An
 * index without filter columns has no such area: its elements are those
 * of vsim 0.1 and 0.2 byte for byte.  The metapage does not record the
 * filter columns: they follow from the index's definition.
 *
 * Variable-size elements.  For an element type with value_size (sparsevec;
 * index.h), the stored element is the value's own size, not a size fixed
 * per index.  Between the (padded) lists and the value such an element has
 * a length word:
 *
 *	  uint32	   the bytes of the slot after this word, a multiple of 4 at
 *	               least TYPEALIGN(4, value_size(value)), at most the slot
 *	               of the largest element (hnsw_page_element checks it)
 *	  value	       value_size(value) bytes, self-describing (sparsevec:
 *	               16 + 8 nnz, so the reader finds the value's end in the
 *	               value); its stored_size(dims) is the largest accepted
 *	               (54000 beyond: vindex_elem_check_stored)
 *
 * so an element's slot is hnsw_value_offset(level) + the word
 * (hnsw_slot_bytes): walks, free-slot searches and the structure check
 * step by it, and hnsw_slot_level is not used (slot_level stays 0).  The
 * word is written with the element: the value's size, rounded up to 4.
 * An element reusing a free slot ("Space reuse") keeps the slot's size in
 * the word, which then gives the room after its own value offset (the
 * slot's bytes minus hnsw_value_offset of its level), and its value may be
 * shorter; readers read up to Min(word, the largest value) bytes and check
 * that value_size fits in them (hnsw_check_value, XX002).  An element is
 * placed so that its prefix and the word fit in one page, so a walk reads
 * the word on the header's page.  Variable-size types have no filter
 * columns (0A000 at CREATE INDEX): the filter area's offset would vary.
 * Fixed-size types have no length word: their layout is unchanged.
 *
 * An element that fits in a page never crosses a page boundary: when it
 * does not fit in the rest of the tail page it starts on the next page, so
 * a scan reads each vector from a single page.  A larger element keeps only
 * its header and neighbour lists (the "prefix", the only part that ever
 * changes) in one page, and its vector, which never changes, continues over
 * as many pages as it needs, so values of up to the element type's
 * max_dims (VECTOR_MAX_DIM for vector) can be indexed.  Each page's pd_lower marks the end of the stream bytes on it, so
 * GenericXLog logs only those bytes.
 *
 * An element with no heap TIDs left is dead: VACUUM removed its rows.  Dead
 * elements keep their neighbour lists so searches can pass through them,
 * are never returned, and are removed from live elements' lists by VACUUM,
 * which then makes them free slots (flag HNSW_ELEMENT_FREE, lists
 * emptied).  An element's slot is the space of an element of its
 * slot level, Max(level, slot_level); walking the stream steps by slots.
 *
 * Quantization
 * ------------
 * The `quantization` option (VindexQuantization, index.h) is 'none' (the
 * layout above, the only one before the option), 'sq8' (scalar
 * quantization, quant/quant.h: per-dimension ranges trained on the build's
 * rows) or 'rabitq' (RaBitQ, quant/quant.h: one bit a dimension of the
 * rotated residual to one centroid; Gao & Long, SIGMOD 2024).  A quantized
 * index differs in three things:
 *
 *	  - the metapage has pd_lower past the fields quant_mode (1: sq8, 2:
 *		rabitq), quant_params_size (sq8: SQ8_PARAMS_SIZE(dims) = 8 + 8 dims
 *		bytes; rabitq: RABITQ_ROTATION_SIZE(dims) + 4 dims = 24 + D / 2 + 4
 *		dims, D = dims rounded up to a multiple of 64) and quant_first,
 *		after `tail`.  A metapage whose pd_lower ends at `tail` is 'none':
 *		a 'none' index's metapage is byte for byte that of an index built
 *		before the option (the fields are zero and outside pd_lower).
 *	  - the stream begins with the parameter blob at stream position 0:
 *		sq8 the Sq8Params (int32 dim, int32 0, float4 lo[dims], float4
 *		step[dims]; one page up to 1,019 dimensions, 8 at 8,000); rabitq
 *		the RabitqRotation (int32 dim, D, rounds, 0, uint64 seed, the
 *		rounds' sign bits) and then the centroid (float4 [dims]: the mean
 *		of the sample rows, of the normalised rows for cosine, as
 *		rabitq_encode takes it; the origin for an empty table), 3,576
 *		bytes at 784-d, 36,024 (5 pages) at 8,000.  Either spans as many
 *		data pages as it needs; those pages have no
 *		HNSW_PAGE_ELEMENT_START flag and pd_lower at the blob's end.
 *		Elements start on the page after it, at quant_first
 *		(HnswShape.first: the blob rounded up to whole pages); every walk
 *		starts there.  The blob is written once by the build (trained on
 *		up to 64 MB of its in-memory rows, evenly spaced; an empty
 *		table's is that of one zero row: sq8 its ranges, rabitq the
 *		origin as the centroid) and never changes; a reader checks it
 *		(hnsw_quant_read_params).  An unlogged index's init fork holds
 *		the metapage and an empty table's blob.
 *	  - an element's stored value is the code instead of the value,
 *		followed by the filter area as above (at TYPEALIGN(4, code
 *		size)): sq8 the Sq8Element (float4 norm2, uint8 codes[dims]: 4 +
 *		dims bytes), rabitq the RabitqElement (float4 |r|, ip_bar, <c, r>,
 *		uint32 ones, then D / 8 bytes of bits: 16 + D / 8 bytes, 120 at
 *		784-d, 1,016 at 8,000).  An 8,000-d sq8 element (8,004 bytes of
 *		codes) spans two pages at m = 16, its prefix (260 bytes at level
 *		0) and the first codes in one, the rest in the next; sq8 elements
 *		stay in one page up to 8,160 - 4 - hnsw_prefix_size(m, level)
 *		dimensions (7,896 at m = 16, level 0).  A rabitq element fits in
 *		one page at every dimension the types allow (16,000 for vector:
 *		2,016 bytes of code), so it never spans pages.
 *
 * Distances on disk are sq8_distance / rabitq_distance on the codes
 * (hnsw_quant.c): a scan prepares its query once (rabitq: against the one
 * centroid); an insert or VACUUM comparing stored elements prepares one as
 * the query (sq8: decoded by sq8_decode; rabitq, which has no decoder:
 * rabitq_prepare_code, the angle between the two codes from their
 * differing bits, with their exact norms).  The build makes the graph
 * from the unquantized values in memory and encodes them as it writes
 * them.  Rows sharing identical codes share an element.  A scan re-ranks the search's candidates (hnsw_scan_ef of
 * them: hnsw.ef_search, twice that for rabitq), hnsw_rerank_depth at a
 * time (hnsw.rerank_candidates, four times that for rabitq, whose 1-bit
 * codes rank less precisely), by their exact distance read from the heap
 * (vindex_rerank_*, index.h) and returns each batch's rows in exact
 * distance order.
 *
 * Space reuse
 * -----------
 * An insert puts its element into a free slot of at least its size (for a
 * variable-size type its own size, so a small value fills a slot a large
 * one left, never the other way round), found
 * through the free space map, before it extends the relation (only
 * elements that fit in a page, on pages with HNSW_PAGE_ELEMENT_START; the
 * slot keeps its size in slot_level).  Why no search follows a reference
 * into a reused slot to a wrong row:
 *
 *	  1. Live lists never name a free slot.  VACUUM frees a dead element
 *		 only after a walk over every live element's lists, made after the
 *		 repairs, found none naming it, and it is not the entry point.  No
 *		 list can name it afterwards: inserts link only elements they saw
 *		 live, and VACUUM waited (the exclusive update lock) for every
 *		 insert in progress when the element died; inserts that started
 *		 later never see it live.  List updates write only over the list
 *		 they read (compare and swap), so none puts an old reference back.
 *	  2. Only dead elements' lists and the memory of searches in progress
 *		 can still hold a free slot's position; a search that follows one
 *		 finds a free slot (no TIDs, no neighbours) or, once it is reused,
 *		 a live element like any other, whose neighbours are sound.
 *	  3. What a scan returns is consistent: it reads an element's TIDs
 *		 together with the vector stored with them, under one page lock,
 *		 and recomputes the distance; an element whose distance is not the
 *		 one the search found (its slot was reused meanwhile) is skipped.
 *		 So every row returned comes with its own vector's distance, and
 *		 the executor checks the row's visibility as for any index.
 *	  4. Elements that span pages are never reused, so reading their
 *		 vector's later pages after the header's lock is released is safe.
 *
 * Keeping every element linked
 * ----------------------------
 * The heuristic (Algorithm 4) drops a list member that a nearer member
 * covers, also when no other list names it; an element no live level-0
 * list names is reached by no search.  Besides the paper's algorithm:
 *
 *	  - the build links each such element from one of its neighbours
 *		before the graph is written (link_orphans, hnsw_build.c);
 *	  - an insert that none of its neighbours kept is appended to the
 *		nearest level-0 result with room, and the members its links back
 *		prune out of a neighbour's list go to its own list while that
 *		has room (hnsw_insert.c);
 *	  - every VACUUM counts the level-0 in-links of all live elements
 *		(in pass 1, or in the last confirm walk after repairs) and links
 *		each live element without one, but the entry point, from one of
 *		its own live neighbours: appended where there is room, else in
 *		the place of the member, farthest from that neighbour, that
 *		another list names too (hnsw_vacuum.c).  The counts take a byte
 *		per 4 stream bytes; when they do not fit in maintenance_work_mem
 *		this step is skipped.  Links are added only between elements
 *		VACUUM saw live, and only VACUUM makes elements dead, so the
 *		space reuse rules below hold;
 *	  - then a level-0 walk from the entry point marks what searches
 *		reach, and one element of each group it misses (elements whose
 *		lists name only each other: repairs around a stretch of dead
 *		elements cut such groups off) is linked from an element that a
 *		search for it reaches (hnsw_vacuum.c, link_unreachable);
 *	  - the build ends with these two steps too (hnsw_link_all): its
 *		pruning can cut off a group (rows far from the others that the
 *		build met first).
 *
 * vsim.hnsw_index_reachability() counts the elements without in-links and
 * those no search reaches, vsim.hnsw_index_unreachable() gives the latter's
 * heap TIDs (hnsw_stats.c); they are not damage, so vsim.index_check()
 * does not report them.
 *
 * Filter directory
 * ----------------
 * An index with filter columns keeps, besides the graph, a compact array
 * of (element position, filter area) entries, one per element, so that
 * the exhaustive pass of a filtered scan tests the filters of every
 * element without reading the elements' pages (about 20 bytes an entry
 * for one filter column against about 1 KB an element at 256 dimensions)
 * and then reads only the elements that pass.  Its pages lie in the
 * stream's region: whole blocks of page kind HNSW_PAGE_FILTER_DIR,
 * allocated at the stream's tail under the metapage lock as an element is
 * appended (the tail then moves to the next block's start), so no element
 * spans one.  Every reader of the stream skips them: hnsw_walk steps to
 * the next block, free-slot searches find no slot in them, the structure
 * check checks them as directory pages; nothing else names their blocks
 * (a neighbour reference into one is damage, XX002 when followed).  Other
 * designs: a separate relation fork is not available to an index AM, and
 * blocks outside the stream would need the stream mapping (position ->
 * block) to skip them on every element read.
 *
 *	  page bytes    HnswFilterDirPage (next directory block, 0 for none),
 *	                then entries up to pd_lower
 *	  entry         HnswPtr of the element, uint16 0, the element's filter
 *	                area (vindex_filter_size(n) bytes): HNSW_FILTERDIR_ENTRY
 *
 * The pages form a chain in ascending block order from the metapage's
 * filter_dir_first to filter_dir_last.  The build writes the directory
 * after the graph; an index built empty gets its first page with its
 * first insert (before the element is stored, so the directory covers
 * every element from the start).  Each insert that stores a new element
 * (appended or in a reused slot) adds its entry to a page with room (from
 * the metapage's filter_dir_free hint on), or to a new last page.  VACUUM
 * removes the entries of the elements it found dead before it frees them
 * (dead is final, and a slot is reused only once free, so no entry of a
 * reused slot's new element is removed), compacting each page in place,
 * and points the hint at the first page with room, so the directory does
 * not grow under churn.  An index with filter columns built by vsim 0.3.0
 * before the directory existed has none (filter_dir_first 0, pd_lower not
 * covering the fields), and its scans read every element instead.
 *
 * Why a scan using the directory misses no row it must return: an insert
 * writes its entry before the insert returns, so before its transaction
 * commits; a row visible to the scan's snapshot committed before it was
 * taken, so its entry exists when the scan reads the directory.  Entries
 * move only within their page, under its exclusive lock, and a scan reads
 * a page under a share lock, so it sees each entry once.  Entries that
 * are stale (a crash between an element and its entry, an element dead
 * since) are harmless: the scan re-reads every matching element with its
 * own filter area, skips dead ones and free slots, and ignores positions
 * past the tail it read; positions are deduplicated.
 *
 * vsim.index_check() holds HNSW_VACUUM_LOCK in share mode, so that no
 * element dies or is freed while it compares lists and elements; VACUUM
 * holds it in exclusive mode.  Only states free -> live (reuse) and new
 * elements (appends) change under the check, which it allows for.
 *
 * Locking: buffer content locks, one page at a time, except that appending
 * an element holds the metapage lock and then locks its pages in ascending
 * block order; no one waits for the metapage while holding a data page.
 * A heavyweight lock on the pseudo page HNSW_UPDATE_LOCK is taken in share
 * mode by inserts and in exclusive mode by an insert that becomes the new
 * entry point and by VACUUM to wait for the inserts in progress (and to
 * replace a dead entry point).  Free space map pages are locked inside
 * data page locks, never the other way round.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSIM_HNSW_H
#define VSIM_HNSW_H

#include "postgres.h"

#include "access/amapi.h"
#include "access/genam.h"
#include "nodes/execnodes.h"
#include "nodes/pathnodes.h"
#include "storage/block.h"
#include "storage/bufpage.h"
#include "storage/itemptr.h"
#include "index/index.h"
#include "quant/quant.h"
#include "utils/relcache.h"
#include "vector/vector.h"

#define HNSW_MAGIC			0x57534E48	/* "HNSW" */
#define HNSW_VERSION		1
#define HNSW_METAPAGE_BLKNO 0
#define HNSW_UPDATE_LOCK	0	/* pseudo pages for LockPage() */
#define HNSW_VACUUM_LOCK	1

#define HNSW_HEAPTIDS		10	/* rows sharing one identical vector */
#define HNSW_MAX_LEVEL		16

#define HNSW_DEFAULT_M		16
#define HNSW_MIN_M			2
#define HNSW_MAX_M			100
#define HNSW_DEFAULT_EF_CONSTRUCTION 64
#define HNSW_MIN_EF_CONSTRUCTION 4
#define HNSW_MAX_EF_CONSTRUCTION 1000

/* Special space of every page: its kind, for sanity checks and tools. */
typedef struct HnswPageOpaqueData
{
	uint16		page_kind;		/* HNSW_PAGE_META or HNSW_PAGE_DATA */
	uint16		flags;			/* HNSW_PAGE_ELEMENT_START */
	uint32		magic;			/* HNSW_MAGIC */
} HnswPageOpaqueData;

#define HNSW_PAGE_META		1
#define HNSW_PAGE_DATA_KIND 2
#define HNSW_PAGE_FILTER_DIR 3	/* filter directory ("Filter directory") */

/*
 * Data page flag: the page's stream bytes begin with an element's header
 * (not with the continuation of a vector from the page before), so the
 * elements on the page can be enumerated from offset 0.  Set when the
 * page's first bytes are written; only such pages have slots to reuse.
 */
#define HNSW_PAGE_ELEMENT_START 0x0001

/* Where the special space starts, and the stream bytes per data page. */
#define HNSW_SPECIAL_OFFSET (BLCKSZ - MAXALIGN(sizeof(HnswPageOpaqueData)))
#define HNSW_PAGE_DATA		(HNSW_SPECIAL_OFFSET - SizeOfPageHeaderData)

/* An element's address on disk: block and byte offset in its data area. */
typedef struct HnswPtr
{
	BlockIdData blk;
	uint16		off;
} HnswPtr;

#define HNSW_INVALID_POS	UINT64_MAX

typedef struct HnswMetaPageData
{
	uint32		magic;
	uint32		version;
	uint32		dims;
	uint16		m;
	uint16		ef_construction;
	uint16		metric;			/* VectorMetric, for sanity checks */
	int16		entry_level;	/* -1 when the graph is empty */
	uint64		entry;			/* stream position of the entry point */
	uint64		tail;			/* stream position of the next free byte */
	/*
	 * Written only for a quantized index (pd_lower covers them); a 'none'
	 * index's metapage ends at tail, as before the option existed, and
	 * hnsw_read_meta takes a metapage whose pd_lower stops short of them
	 * as 'none' (see "Quantization" above), as it does a metapage whose
	 * quant_mode is 0 (VINDEX_QUANT_NONE: an unquantized index with a
	 * filter directory, whose pd_lower covers the whole struct).
	 */
	uint32		quant_mode;		/* VindexQuantization: SQ8 or RABITQ */
	uint32		quant_params_size;	/* bytes of the parameter blob */
	uint64		quant_first;	/* stream position of the first element */
	/* the filter directory (hnsw_filterdir.c); all 0 when it has none */
	uint32		filter_dir_first;	/* its first page's block */
	uint32		filter_dir_last;	/* its last page's block */
	uint32		filter_dir_free;	/* a page that may have room (a hint) */
	uint32		filter_dir_pages;	/* its number of pages */
} HnswMetaPageData;

/*
 * The metapage's bytes (after the page header) of an index without
 * quantization or a filter directory: the fields up to `tail`, as vsim 0.1
 * and 0.2 wrote them.  A quantized index raises pd_lower over the quant_
 * fields (HNSW_META_QUANT_LOWER), one with a directory over the whole
 * struct.
 */
#define HNSW_META_BASE_SIZE MAXALIGN(offsetof(HnswMetaPageData, quant_mode))

/* pd_lower of a metapage with the quant_* fields */
#define HNSW_META_QUANT_LOWER \
	(SizeOfPageHeaderData + offsetof(HnswMetaPageData, quant_first) + sizeof(uint64))

typedef struct HnswElementHeader
{
	uint8		level;
	uint8		ntids;			/* 0: dead */
	uint8		flags;			/* HNSW_ELEMENT_FREE */
	uint8		slot_level;		/* the slot is sized for Max(level, this) */
	ItemPointerData tids[HNSW_HEAPTIDS];
} HnswElementHeader;

/* Element flag: a free slot (see "Space reuse" above). */
#define HNSW_ELEMENT_FREE	0x01

/* The level an element's slot is sized for (it may hold a lower one). */
static inline int
hnsw_slot_level(const HnswElementHeader *hdr)
{
	return Max(hdr->level, hdr->slot_level);
}

/* Capacity of the neighbour list at `level` for parameter m. */
#define HNSW_CAP(m, level)	((level) == 0 ? 2 * (m) : (m))

/* Bytes of the list at `level`: count, then the slots. */
#define HNSW_LIST_BYTES(m, level) (sizeof(uint16) + sizeof(HnswPtr) * HNSW_CAP(m, level))

/* Index-wide constants, read from the metapage once per operation. */
typedef struct HnswShape
{
	int			dims;
	int			m;
	int			ef_construction;
	VectorMetric metric;
	int			max_level;		/* highest level whose prefix fits a page */
	const VindexElemType *elem; /* the column's element type (index.h) */
	Size		vec_size;		/* elem->stored_size(dims): the largest value */
	Size		elem_size;		/* vec_size, + padding and filter area */
	bool		varsize;		/* elem->value_size != NULL (sparsevec) */
	VindexFilterLayout filters; /* the filter columns (index.h) */
	/*
	 * Quantization (hnsw_quant.c).  For VINDEX_QUANT_SQ8 the stored value
	 * (vec_size) is the Sq8Element, for VINDEX_QUANT_RABITQ the
	 * RabitqElement, and raw_size the unquantized value's bytes
	 * (elem->stored_size(dims)), the form of queries and of the build's
	 * in-memory vectors; for none both are the same.  `first` is where
	 * elements start in the stream (after the parameter blob; 0 for none),
	 * qparams the parameter blob read by hnsw_read_meta (Sq8Params, or the
	 * RabitqRotation and centroid; NULL for none).
	 */
	VindexQuantization quant;
	Size		raw_size;
	uint64		first;
	const void *qparams;
} HnswShape;

/* Offset of the filter area in a stored element (see the layout above). */
#define HNSW_FILTER_OFFSET(shape)	TYPEALIGN(4, (shape)->vec_size)

/*
 * hnsw_shape_elements: set shape->vec_size, elem_size, raw_size, first
 * and filters of `index` from shape->elem, dims and quant (set those
 * first); with `check` (CREATE INDEX) raise the errors of
 * vindex_filter_layout.
 */
extern void hnsw_shape_elements(Relation index, HnswShape *shape, bool check);

/*
 * hnsw_form_value: the stored element (hnsw_stored_size bytes, palloc'd)
 * of the row with index column values values[], isnull[] (isnull[0]
 * false): the value of column 1 and, with filter columns, their filter
 * area.  *dims is the value's dimensions; when they are not the index's,
 * only the value is formed (the caller raises 22000).  Raises the 54000
 * of vindex_elem_check_stored (`index` named) for a variable-size value
 * larger than the index stores.  A quantized shape (shape->qparams set) gets
 * the encoded element (hnsw_quant_encode), or NULL when the value is not
 * indexable (vindex_elem_indexable, tested on the unquantized value).
 */
extern char *hnsw_form_value(Relation index, const HnswShape *shape, Datum *values,
							 bool *isnull, int *dims);

/*
 * Variable-size elements: bytes of the length word before the value (0 for
 * fixed-size types, whose layout has none); hnsw_value_offset (below)
 * gives where the value of an element of `level` starts.
 */
#define HNSW_VLEN_BYTES(shape)	((shape)->varsize ? sizeof(uint32) : 0)

/*
 * hnsw_stored_size: bytes of stored element `x` (hnsw_form_value's result)
 * in an index of `shape`: shape->elem_size for fixed-size types, the
 * value's own size rounded up to 4 bytes for variable-size ones.
 */
static inline Size
hnsw_stored_size(const HnswShape *shape, const void *x)
{
	if (!shape->varsize)
		return shape->elem_size;
	return TYPEALIGN(4, shape->elem->value_size(x));
}

/* Index-order distance between two stored elements of an index of `shape`. */
static inline double
hnsw_distance(const HnswShape *shape, const void *a, const void *b)
{
	return shape->elem->distance(shape->metric, a, b, shape->dims);
}

/*
 * hnsw_distance when that is below `bound`, else some value >= bound
 * (VindexElemType.distance_below, where the type has it).
 */
static inline double
hnsw_distance_below(const HnswShape *shape, const void *a, const void *b, double bound)
{
	if (shape->elem->distance_below == NULL)
		return hnsw_distance(shape, a, b);
	return shape->elem->distance_below(shape->metric, a, b, shape->dims, bound);
}

/* ---------------------------------------------------------------------
 * Settings (hnsw.c)
 * ---------------------------------------------------------------------
 */
typedef enum HnswIterativeScan
{
	HNSW_ITERATIVE_OFF,
	HNSW_ITERATIVE_RELAXED,
	HNSW_ITERATIVE_STRICT
} HnswIterativeScan;

extern int	hnsw_ef_search;
extern int	hnsw_rerank_candidates;

/* Default of hnsw.rerank_candidates (chosen by measurement: README) */
#define HNSW_DEFAULT_RERANK	20

/*
 * A rabitq scan keeps HNSW_RABITQ_EF_FACTOR times hnsw.ef_search
 * candidates and re-ranks HNSW_RABITQ_RERANK_FACTOR times
 * hnsw.rerank_candidates at a time: its 1-bit codes rank less precisely
 * than sq8's bytes, so the walk loses more neighbours among the estimates
 * and the true ones sit deeper in the estimated order.  Measured
 * (annbench.py, 10,000 rows, 200 queries, m = 16, ef_construction = 64),
 * recall@10 at the scan's candidate list / re-rank depth:
 *	  Fashion-MNIST 784-d, l2:	40 / 40 0.996; 40 / 20 0.960
 *	  CNN-256, cosine:	40 / 40 0.904; 80 / 40 0.905; 60 / 80 0.951;
 *						80 / 80 0.973; 120 / 80 0.974
 * so 80 / 80 at the defaults (README, "Quantization").
 */
#define HNSW_RABITQ_EF_FACTOR 2
#define HNSW_RABITQ_RERANK_FACTOR 4

/*
 * hnsw_scan_ef: the candidate list of a scan of an index of mode `q`:
 * hnsw.ef_search, times HNSW_RABITQ_EF_FACTOR for rabitq.
 * hnsw_rerank_depth: the candidates it re-ranks at a time:
 * hnsw.rerank_candidates, times HNSW_RABITQ_RERANK_FACTOR for rabitq.
 */
extern int	hnsw_scan_ef(VindexQuantization q);
extern int	hnsw_rerank_depth(VindexQuantization q);
extern int	hnsw_iterative_scan;
extern int	hnsw_max_scan_tuples;
extern double hnsw_scan_mem_multiplier;
extern double hnsw_filter_walk_limit;

/*
 * A graph walk with a filter of selectivity s visits about s^-0.7 times the
 * elements of an unfiltered one (measured, bench_filter.py: 4.1 times at
 * 10%, 22 at 1%, 182 at 0.1%); the scan and the cost model use it.
 */
#define HNSW_FILTER_VISIT_EXPONENT 0.7

/*
 * The cost of testing one filter directory page (about 400 entries for one
 * filter column, 185 for four) in graph-walk visits, for the scan's switch
 * to the directory pass and the cost model.  bench_filter.py (four filter
 * columns, 325 pages): the pass at 0.1% took about 1.0 ms, of which the
 * sample and the matches about 0.3 ms at 2 us a visit, so a page cost
 * about 1 to 2 visits; 2 errs on the side of the walk.
 */
#define HNSW_FILTERDIR_PAGE_VISITS 2.0
extern int	hnsw_level_seed;

/* Assign hook of hnsw.level_seed (hnsw_graph.c): restarts the sequence. */
extern void hnsw_level_seed_assign(int newval, void *extra);

typedef struct HnswOptions
{
	int32		vl_len_;
	int			m;
	int			ef_construction;
	int			quantization_offset;	/* the `quantization` string */
} HnswOptions;

/* Register the settings and reloptions; called from _PG_init. */
extern void hnsw_init(void);

/*
 * The `quantization` option of an hnsw index (issue 9; VindexQuantization,
 * index.h), VINDEX_QUANT_NONE if unset (hnsw_quant_check has the
 * CREATE INDEX checks of the others).  What an index on disk
 * stores is its metapage's quant_mode (HnswShape.quant), not this option,
 * which ALTER INDEX can change until the next REINDEX.
 */
extern VindexQuantization hnsw_index_quantization(Relation index);

/* m and ef_construction of an index, defaults when not set. */
extern int	hnsw_index_m(Relation index);
extern int	hnsw_index_ef_construction(Relation index);

/* ---------------------------------------------------------------------
 * Page and element access (hnsw_page.c)
 * ---------------------------------------------------------------------
 */

/*
 * Offset of list `level` in an element's prefix, and the prefix's size
 * (inline: a scan computes them for every element it reads).
 */
static inline Size
hnsw_list_offset(int m, int level)
{
	Size		off = sizeof(HnswElementHeader);

	if (level > 0)
		off += HNSW_LIST_BYTES(m, 0) + (level - 1) * HNSW_LIST_BYTES(m, 1);
	return off;
}

static inline Size
hnsw_prefix_size(int m, int level)
{
	return TYPEALIGN(4, hnsw_list_offset(m, level + 1));
}

/* Offset of the value of an element of `level`: prefix, length word. */
static inline Size
hnsw_value_offset(const HnswShape *shape, int level)
{
	return hnsw_prefix_size(shape->m, level) + HNSW_VLEN_BYTES(shape);
}

/*
 * Bytes an element of `level` whose stored element takes `stored` bytes
 * (hnsw_stored_size) occupies in the stream: prefix, length word of a
 * variable-size type, stored element.
 */
extern Size hnsw_element_size(const HnswShape *shape, int level, Size stored);

/*
 * hnsw_slot_bytes: the bytes of the slot of the element at `hdr` (checked
 * by hnsw_page_element): hnsw_element_size of its slot level for
 * fixed-size types; for variable-size ones its value offset plus the
 * length word, which holds the slot's room for the value.
 */
static inline Size
hnsw_slot_bytes(const HnswShape *shape, const HnswElementHeader *hdr)
{
	if (!shape->varsize)
		return hnsw_prefix_size(shape->m, hnsw_slot_level(hdr)) + shape->elem_size;
	return hnsw_value_offset(shape, hdr->level) +
		*(const uint32 *) ((const char *) hdr + hnsw_prefix_size(shape->m, hdr->level));
}

/*
 * Where an element of `level` and `size` bytes appended at stream position
 * `tail` starts: `tail` rounded up to 4 bytes, or the next page's start
 * when the element (the prefix and any length word, for elements larger
 * than a page) would not fit in the rest of the page.
 */
extern uint64 hnsw_place(const HnswShape *shape, uint64 tail, int level, Size size);

/* Highest level whose element prefix fits in one page for parameter m. */
extern int	hnsw_max_level(int m);

/* Stream position <-> block/offset. */
#define HNSW_POS_BLOCK(pos)		((BlockNumber) ((pos) / HNSW_PAGE_DATA + 1))
#define HNSW_POS_OFFSET(pos)	((uint32) ((pos) % HNSW_PAGE_DATA))
#define HNSW_PAGE_BYTES(page)	((char *) (page) + SizeOfPageHeaderData)

/* Index of `pos` in the ascending array sorted[0..n-1] (bisection), or -1. */
extern int64 hnsw_find_pos(const uint64 *sorted, int64 n, uint64 pos);

/* Store stream position `pos` (HNSW_INVALID_POS: none) in *ptr. */
extern void hnsw_ptr_set(HnswPtr *ptr, uint64 pos);

/* The stream position *ptr holds, HNSW_INVALID_POS for none. */
static inline uint64
hnsw_ptr_get(const HnswPtr *ptr)
{
	BlockNumber blk = BlockIdGetBlockNumber(&ptr->blk);

	if (blk == InvalidBlockNumber)
		return HNSW_INVALID_POS;
	return (uint64) (blk - 1) * HNSW_PAGE_DATA + ptr->off;
}

/* The count and the slots of list `level` of the element at `hdr`. */
static inline uint16 *
hnsw_list_count(HnswElementHeader *hdr, int m, int level)
{
	return (uint16 *) ((char *) hdr + hnsw_list_offset(m, level));
}

static inline HnswPtr *
hnsw_list_slots(HnswElementHeader *hdr, int m, int level)
{
	return (HnswPtr *) ((char *) hnsw_list_count(hdr, m, level) + sizeof(uint16));
}

/*
 * Initialise a data page or the metapage in place; the metapage's fields.
 * `element_start` sets HNSW_PAGE_ELEMENT_START.
 */
extern void hnsw_init_data_page(Page page, bool element_start);
extern void hnsw_init_meta_page(Page page, const HnswShape *shape);
/* An empty filter directory page (no next page, no entries). */
extern void hnsw_init_filterdir_page(Page page);
extern HnswMetaPageData *hnsw_meta(Page page);

/*
 * Checks of what is read from a page.  Every read path makes them before
 * it uses a value read from disk, so that damage is reported instead of
 * followed: each failure raises XX002 through vindex_report_corrupted,
 * naming the index and the block, with a detail saying what is wrong.
 * The inline checks cost a comparison or two per field on the scan path;
 * the reports are out of line.
 */

/*
 * Is `page` a data page: its special space where an hnsw page has it,
 * holding the magic and the data page kind, and pd_lower within the
 * stream bytes?  (Read at fixed offsets, so a damaged pd_special cannot
 * send the check outside the page.)
 */
static inline bool
hnsw_data_page_ok(Page page)
{
	PageHeader	ph = (PageHeader) page;
	const HnswPageOpaqueData *opaque =
		(const HnswPageOpaqueData *) ((char *) page + HNSW_SPECIAL_OFFSET);

	return ph->pd_special == HNSW_SPECIAL_OFFSET && opaque->magic == HNSW_MAGIC &&
		opaque->page_kind == HNSW_PAGE_DATA_KIND &&
		ph->pd_lower >= SizeOfPageHeaderData && ph->pd_lower <= HNSW_SPECIAL_OFFSET;
}

/* Report XX002 unless `page` (block blkno) is a sound hnsw page of `kind`. */
extern void hnsw_check_page(Relation index, Page page, BlockNumber blkno, uint16 kind);

/* Report XX002 for the element at in-page offset `off`, saying why. */
extern void hnsw_element_corrupted(Relation index, const HnswShape *shape, Page page,
								   BlockNumber blkno, uint32 off) pg_attribute_noreturn();

/*
 * hnsw_page_element: the header of the element at in-page offset `off` of
 * page `page` (block blkno), a pointer into the locked page.  Reports XX002
 * unless the page is a data page, the offset is 4-byte aligned, the
 * header and the lists of its slot lie within the page's stream bytes
 * (pd_lower), its levels are at most shape->max_level, its TID count at
 * most HNSW_HEAPTIDS and its flags known; for a variable-size type, that
 * its length word lies in the page and gives a slot no larger than the
 * largest element.  The value is not checked (its length follows from the
 * metapage, or is checked against the slot by the readers:
 * hnsw_check_value).
 */
static inline HnswElementHeader *
hnsw_page_element(Relation index, const HnswShape *shape, Page page,
				  BlockNumber blkno, uint32 off)
{
	HnswElementHeader *hdr = (HnswElementHeader *) (HNSW_PAGE_BYTES(page) + off);
	Size		end = SizeOfPageHeaderData + off;
	Size		lower = ((PageHeader) page)->pd_lower;

	if (unlikely(!hnsw_data_page_ok(page) || off % 4 != 0 ||
				 end + sizeof(HnswElementHeader) > lower ||
				 hdr->level > shape->max_level || hdr->slot_level > shape->max_level ||
				 hdr->ntids > HNSW_HEAPTIDS || (hdr->flags & ~HNSW_ELEMENT_FREE) != 0 ||
				 end + hnsw_prefix_size(shape->m, hnsw_slot_level(hdr)) > lower))
		hnsw_element_corrupted(index, shape, page, blkno, off);
	/* a variable-size element's length word: in the page, room for a value */
	if (shape->varsize &&
		unlikely(end + hnsw_value_offset(shape, hdr->level) > lower ||
				 hnsw_slot_bytes(shape, hdr) % 4 != 0 ||
				 hnsw_slot_bytes(shape, hdr) >
				 hnsw_element_size(shape, shape->max_level, shape->elem_size)))
		hnsw_element_corrupted(index, shape, page, blkno, off);
	return hdr;
}

/*
 * hnsw_check_value: XX002 unless the value `x` of the element at `hdr`
 * (a variable-size type's) fits in its slot; no-op for fixed sizes.
 */
static inline void
hnsw_check_value(Relation index, const HnswShape *shape, const HnswElementHeader *hdr,
				 const char *x, BlockNumber blkno)
{
	if (shape->varsize &&
		unlikely(shape->elem->value_size(x) + hnsw_value_offset(shape, hdr->level) >
				 hnsw_slot_bytes(shape, hdr) ||
				 shape->elem->value_size(x) > shape->vec_size))
		vindex_report_corrupted(index, blkno,
								"A %s value of %zu bytes does not fit in its slot of %zu bytes.",
								shape->elem->name, shape->elem->value_size(x),
								hnsw_slot_bytes(shape, hdr));
}

/* Report XX002: element `pos` (in block blkno) lists `count` at `level`. */
extern void hnsw_list_corrupted(Relation index, BlockNumber blkno, uint64 pos,
								int level, int count) pg_attribute_noreturn();

/*
 * hnsw_checked_count: the count of list `level` (at most hdr->level) of
 * element `pos` at `hdr` in block blkno; XX002 when it exceeds the list's
 * capacity.
 */
static inline int
hnsw_checked_count(Relation index, const HnswShape *shape, HnswElementHeader *hdr,
				   int level, BlockNumber blkno, uint64 pos)
{
	int			n = *hnsw_list_count(hdr, shape->m, level);

	if (unlikely(n > HNSW_CAP(shape->m, level)))
		hnsw_list_corrupted(index, blkno, pos, level, n);
	return n;
}

/* The out-of-line part of hnsw_slot_pos: refresh *nblocks, or XX002. */
extern uint64 hnsw_slot_pos_slow(Relation index, BlockNumber *nblocks,
								 const HnswPtr *slot, BlockNumber holder);

/*
 * hnsw_slot_pos: the stream position neighbour slot `slot` (in a list of
 * an element in block `holder`) holds, checked to be a possible element
 * start: a 4-byte aligned offset within the stream bytes of a data block
 * that exists.  *nblocks caches the relation's size (start it at 1); it is
 * refreshed when a slot names a block beyond it, as concurrent appends
 * extend the relation.  XX002 naming `holder` otherwise.
 */
static inline uint64
hnsw_slot_pos(Relation index, BlockNumber *nblocks, const HnswPtr *slot,
			  BlockNumber holder)
{
	BlockNumber blk = BlockIdGetBlockNumber(&slot->blk);

	/* blk - 1 wraps for block 0 and InvalidBlockNumber, so both fail */
	if (unlikely(blk - 1 >= *nblocks - 1 || slot->off >= HNSW_PAGE_DATA ||
				 slot->off % 4 != 0))
		return hnsw_slot_pos_slow(index, nblocks, slot, holder);
	return (uint64) (blk - 1) * HNSW_PAGE_DATA + slot->off;
}

/*
 * Read the metapage: the shape, and entry/entry_level/tail if not NULL.
 * Reports XX002 unless the metapage is sound: magic and version, every
 * field within the range its option or type allows (dims 1 ..
 * VECTOR_MAX_DIM, m and ef_construction those of the reloptions, a known
 * metric, entry_level -1 .. max_level and -1 exactly when there is no
 * entry point, a 4-byte aligned position before the tail otherwise; for
 * a quantized index a known mode, the parameter size and first element
 * its dimensions give, entry and tail not before it).  A quantized index's
 * parameters are read into shape->qparams (palloc'd in the current
 * context, checked by hnsw_quant_read_params); NULL for none.
 */
extern void hnsw_read_meta(Relation index, HnswShape *shape, uint64 *entry,
						   int *entry_level, uint64 *tail);

/*
 * hnsw_meta_quantization: the mode `index` stores (its metapage's, as
 * built: not the option, which ALTER INDEX can change), from the metapage
 * alone (the planner's cost estimate reads it); XX002 when block 0 is no
 * hnsw metapage.
 */
extern VindexQuantization hnsw_meta_quantization(Relation index);

/*
 * Serialise an element into `buf` (hnsw_element_size bytes): header with
 * `ntids` TIDs, neighbour lists (`nbrs[l]` with `counts[l]` positions per
 * level; NULL for empty lists) and the vector.
 */
extern void hnsw_form_element(const HnswShape *shape, char *buf, int level,
							  const ItemPointerData *tids, int ntids,
							  uint64 *const *nbrs, const int *counts,
							  const char *vec);

/*
 * hnsw_store_element: store a serialised element of `size` bytes and
 * `level`, WAL-logged, and return its stream position.  An element that
 * fits in a page goes into a free slot of at least its size when the free
 * space map offers a page with one (the slot keeps its size, recorded in
 * slot_level; the page's largest remaining free slot is recorded in the
 * map); otherwise it is appended after the tail, extending the relation,
 * in WAL records that move the tail atomically with the element's first
 * page.
 */
extern uint64 hnsw_store_element(Relation index, const HnswShape *shape,
								 const char *buf, Size size, int level);

/*
 * hnsw_page_free_slots: the free slots of data page `page` (block blkno,
 * locked): returns the offset of the smallest free slot of at least `want`
 * bytes (UINT32_MAX when there is none, or want is 0), and sets *largest
 * to the bytes of the largest free slot besides that one (0: none), the
 * amount for the free space map.  Only slots wholly in the page count, and
 * only on a page with HNSW_PAGE_ELEMENT_START, whose elements can be
 * enumerated from offset 0.  Checks the page and the headers read (XX002).
 */
extern uint32 hnsw_page_free_slots(Relation index, const HnswShape *shape, Page page,
								   BlockNumber blkno, Size want, Size *largest);

/*
 * The free space map's granularity (BLCKSZ / FSM_CATEGORIES, private to
 * freespace.c): it rounds a request up to a multiple and a recorded
 * amount down, so requests for a slot are rounded down to a multiple, or
 * a slot of exactly the needed size would never be found.
 */
#define HNSW_FSM_STEP	(BLCKSZ / 256)

/* Extend `index` with empty pages until block `last` exists. */
extern void hnsw_extend_to(Relation index, BlockNumber last);

/* Set the entry point (under the metapage lock), WAL-logged. */
extern void hnsw_set_entry(Relation index, uint64 entry, int level,
						   bool only_if_higher);

/*
 * Copy `len` stream bytes from position `pos` into `dst`, each page read
 * under a share lock; `pinned` is a pin on the first page to use (and
 * release), or InvalidBuffer.  XX002 when a page does not exist (*nblocks
 * caches the relation's size, as for hnsw_slot_pos), is no data page or
 * does not hold the bytes.
 */
extern void hnsw_read_stream(Relation index, BlockNumber *nblocks, Buffer pinned,
							 uint64 pos, char *dst, Size len);

/*
 * hnsw_walk: visit the elements whose headers lie in stream positions
 * [from, until), in stream order, from `from` (an element's start, 0 for
 * the first), calling fn on each header in its page, checked with
 * hnsw_page_element (and every page with hnsw_check_page).  In exclusive
 * mode fn may change the header and lists (it returns HNSW_WALK_CHANGED
 * when it did) and the page is WAL-logged; otherwise the page is
 * share-locked and fn must not change it.  fn runs under the page lock
 * and must not lock other pages.  fn returns HNSW_WALK_STOP to end the walk
 * before the element it was given.  Returns the start of the first element
 * not visited (>= until when the walk ran to its end), from which a later
 * walk can go on.  XX002 when `until` lies beyond the relation's end.
 */
typedef enum HnswWalkAction
{
	HNSW_WALK_NEXT,
	HNSW_WALK_CHANGED,
	HNSW_WALK_STOP
} HnswWalkAction;

typedef HnswWalkAction (*HnswWalkFn) (void *arg, Page page, uint64 pos,
									  HnswElementHeader *hdr);
extern uint64 hnsw_walk(Relation index, const HnswShape *shape, uint64 from,
						uint64 until, bool exclusive, HnswWalkFn fn, void *arg);

/* ---------------------------------------------------------------------
 * Graph algorithms (hnsw_graph.c), over memory or disk graphs
 * ---------------------------------------------------------------------
 */
typedef struct HnswCand
{
	uint64		id;				/* element: array index or stream position */
	double		dist;			/* index-order distance to the query */
} HnswCand;

/* Binary heap of candidates, a min-heap or a max-heap by distance. */
typedef struct HnswHeap
{
	HnswCand   *a;
	int			n;
	int			cap;
	bool		max;
} HnswHeap;

/* An empty heap with room for `cap` (it grows), nearest on top unless max. */
extern void hnsw_heap_init(HnswHeap *h, int cap, bool max);
/* Add element `id` at distance `dist`, growing the array when full. */
extern void hnsw_heap_push(HnswHeap *h, uint64 id, double dist);
/* Remove and return the top; the heap must not be empty. */
extern HnswCand hnsw_heap_pop(HnswHeap *h);

#define HNSW_HEAP_TOP(h)	((h)->a[0])

/*
 * qsort comparator of HnswCands: ascending distance, ties broken by id so
 * that the order, and thus the neighbours chosen, is deterministic.
 */
extern int	hnsw_cand_cmp(const void *a, const void *b);

typedef struct HnswGraph HnswGraph;

/*
 * How the algorithms reach a graph.  Memory graphs (in-memory build) name
 * elements by array index; disk graphs by stream position.
 */
struct HnswGraph
{
	/* copy the neighbours of `id` at `level` into out; returns the count */
	int			(*neighbours) (HnswGraph *g, uint64 id, int level, uint64 *out);
	/* distance from `q` to element `id`; *live is false for dead elements */
	double		(*distance) (HnswGraph *g, uint64 id, const char *q, bool *live);
	/*
	 * distances from `q` to the `n` elements `ids` (d[i], live[i]), batched
	 * so memory latency overlaps; NULL to call distance() one by one
	 */
	void		(*distances) (HnswGraph *g, const uint64 *ids, int n, const char *q,
							  double *d, bool *live);
	/*
	 * the same where d[i] < bound; where not, d[i] is some value >= bound
	 * (the distance may have stopped early); NULL: distances()
	 */
	void		(*distances_below) (HnswGraph *g, const uint64 *ids, int n,
									const char *q, double bound, double *d,
									bool *live);
	/* start loading the vector of `id` into cache; NULL when useless */
	void		(*prefetch) (HnswGraph *g, uint64 id);
	/* the stored element of `id`, in place or copied into scratch (elem_size bytes) */
	const char *(*vector) (HnswGraph *g, uint64 id, char *scratch);
	HnswShape	shape;
	/* memory graphs: number of elements (dense ids); 0 for disk graphs */
	uint32		nelements;
};

/*
 * Visited set: a stamped array for dense ids (one byte per element, so it
 * stays in cache; cleared every 255 searches), a hash table otherwise.
 */
typedef struct HnswVisited
{
	uint8	   *stamp;			/* dense: stamp[id] == mark means visited */
	uint8		mark;
	uint32		cap;
	struct visitedhash_hash *hash;	/* sparse */
} HnswVisited;

/* An empty set for the ids of `g` (dense when g->nelements > 0). */
extern void hnsw_visited_init(HnswVisited *v, HnswGraph *g);
/* Empty the set, growing a dense one to g->nelements. */
extern void hnsw_visited_reset(HnswVisited *v, HnswGraph *g);
/* Mark `id`; returns true when it was already marked. */
extern bool hnsw_visited_test_and_set(HnswVisited *v, uint64 id);
/* Is `id` marked? (hash mode only) */
extern bool hnsw_visited_contains(HnswVisited *v, uint64 id);

/*
 * State of one search at one level (Algorithm 2, SEARCH-LAYER), kept
 * between rounds so an iterative scan can continue where it stopped.
 */
typedef struct HnswSearch
{
	HnswGraph  *g;
	const char *q;
	HnswHeap	cand;			/* min-heap: discovered, not yet expanded */
	HnswHeap	w;				/* max-heap: nearest results, at most ef */
	HnswHeap	discarded;		/* min-heap: results pushed out of w */
	bool		live_only;		/* w holds live elements only */
	bool		keep_discarded;
	HnswVisited visited;
	int64		ndistances;		/* elements whose distance was computed */
	int64		nlive;			/* of them, live (and passing the filter) */
	int64		max_distances;	/* stop a layer search past this many (0: no limit) */
	bool		stopped;		/* a layer search stopped at max_distances */
	uint64	   *nbuf;			/* neighbour buffer */
	double	   *dbuf;			/* their distances */
	bool	   *lbuf;			/* and liveness */
} HnswSearch;

/*
 * A search for `q` over `g`: live_only keeps dead elements out of the
 * results (they are still traversed); keep_discarded keeps what falls out
 * of the ef best for later rounds (iterative scans).
 */
extern void hnsw_search_init(HnswSearch *s, HnswGraph *g, const char *q,
							 bool live_only, bool keep_discarded);
/* Start a layer search from the elements of `entries` (w of the level above). */
extern void hnsw_search_seed(HnswSearch *s, const HnswCand *entries, int n);
/*
 * Expand candidates at `level` until w holds the ef nearest found, or,
 * when s->max_distances > 0, until that many distances were computed in
 * all (then s->stopped is set and w holds what was found so far).
 */
extern void hnsw_search_layer(HnswSearch *s, int level, int ef);
/* Move w into a new array sorted by ascending distance; w becomes empty. */
extern HnswCand *hnsw_search_take(HnswSearch *s, int *n);

/*
 * Descend from `entry` (at `entry_level`) to `to_level` + 1 greedily
 * (ef = 1, Algorithm 5), returning the nearest element found.
 */
extern HnswCand hnsw_greedy_descend(HnswGraph *g, const char *q, uint64 entry,
									int entry_level, int to_level);

/*
 * Neighbour selection heuristic (Algorithm 4, without extending the
 * candidates): from `cands` sorted by distance to the base element
 * (vector `base`), keep
 * up to `cap` that are nearer to the base than to any kept one; then, while
 * fewer than `fill` are kept, add pruned ones nearest first (the paper's
 * keepPrunedConnections, used when repairing lists after deletions).
 * Returns the number kept, written to `out`.
 */
extern int	hnsw_select_neighbours(HnswGraph *g, const char *base,
								   const HnswCand *cands, int n, int cap, int fill,
								   HnswCand *out);

/*
 * What a selection learnt about each neighbour it returned, which stays
 * true while the base and the vectors do (the test of Algorithm 4 depends
 * on the base, the candidate and a kept one only): HNSW_SEL_KEPT when no
 * kept candidate before it in the order of hnsw_cand_cmp dominates it (is
 * nearer to it than the base is), HNSW_SEL_UNKNOWN when nothing is known
 * (a neighbour added without a selection), else the id of a kept one
 * before it that dominates it.
 */
#define HNSW_SEL_KEPT		PG_UINT64_MAX
#define HNSW_SEL_UNKNOWN	(PG_UINT64_MAX - 1)

/*
 * hnsw_select_known: hnsw_select_neighbours, with the same result, for
 * candidates some of which an earlier selection over the same base
 * returned: known[i] (NULL: all HNSW_SEL_UNKNOWN) is what that selection
 * said of cands[i].  A pruned candidate whose dominator is kept again is
 * pruned without a distance, and one kept before is tested only against
 * the kept ones that were not.  known_out (NULL: not wanted) gets the
 * same for the returned neighbours.  Re-pruning a full list when a
 * back-link joins it (hnsw_build.c, which also keeps the members' distances
 * to the base) so took 44 distances instead of 144 on Fashion-MNIST at
 * m = 16 (most of them for members added since the last pruning).
 */
extern int	hnsw_select_known(HnswGraph *g, const char *base,
							  const HnswCand *cands, int n, int cap, int fill,
							  const uint64 *known, HnswCand *out, uint64 *known_out);

/*
 * Random level for a new element: floor(-ln(U) / ln(m)), capped.  U comes
 * from PostgreSQL's global generator, or, when hnsw.level_seed is set
 * (>= 0), from a private one (splitmix64) seeded with it when it is set,
 * so that a test can build the same graph every time (in one backend: the
 * workers of a parallel build each start the sequence afresh).
 */
extern int	hnsw_random_level(int m, int max_level);

/* ---------------------------------------------------------------------
 * Disk graph (hnsw_disk.c) and inserts (hnsw_insert.c)
 * ---------------------------------------------------------------------
 */
typedef struct HnswDiskGraph
{
	HnswGraph	g;
	Relation	index;
	BlockNumber nblocks;		/* the relation's size, as last seen */
	char	   *scratch;		/* for vectors that span pages */
	/*
	 * a scan's filter (NULL: none): elements whose filter area fails it are
	 * reported not live, so they route the search but are never results
	 */
	const VindexFilter *filter;
	/* a quantized index's distance state (hnsw_quant.c), NULL for none */
	struct HnswQuantGraph *quant;
} HnswDiskGraph;

/*
 * hnsw_quant_distance: the index-order distance from `q` to the stored
 * element `elem` (an Sq8Element or RabitqElement, then any filter area) of
 * a quantized index: sq8_distance / rabitq_distance from the query
 * registered with hnsw_quant_set_query when q is that one, else from q as
 * a stored element of the index (another element's code, prepared as a
 * query: sq8 decoded, rabitq by rabitq_prepare_code; the last one
 * prepared is kept, so a run of distances from one element prepares it
 * once).
 */
extern double hnsw_quant_distance(HnswDiskGraph *dg, const char *q, const char *elem);

/* The distance from `q` to the stored element `elem` of dg's index. */
static inline double
hnsw_disk_distance(HnswDiskGraph *dg, const char *q, const char *elem)
{
	if (dg->quant)
		return hnsw_quant_distance(dg, q, elem);
	return hnsw_distance(&dg->g.shape, q, elem);
}

/*
 * The index on disk as an HnswGraph of `shape`, elements named by stream
 * position; pages are read under share locks, one at a time, and what is
 * read is checked as hnsw_page_element and hnsw_slot_pos say (XX002).
 */
extern void hnsw_disk_graph_init(HnswDiskGraph *dg, Relation index,
								 const HnswShape *shape);

/*
 * XX002 unless stream position `pos` (the metapage's entry point, or
 * HNSW_INVALID_POS for none) lies in a block of the relation; call it
 * before the first use of the entry.
 */
extern void hnsw_disk_check_pos(HnswDiskGraph *dg, uint64 pos);

/*
 * The heap TIDs of element `pos` (into tids, room for HNSW_HEAPTIDS; their
 * count in *ntids, 0 for a dead element or a free slot) and the distance
 * from `q` to the vector stored with them, both read under one share lock
 * of the element's page; *ntids is 0 too when the element fails the
 * graph's filter.
 */
extern double hnsw_disk_element_tids(HnswDiskGraph *dg, uint64 pos, const char *q,
									 ItemPointerData *tids, int *ntids);

/*
 * Pin the page of element `pos` and lock it in `mode` (BUFFER_LOCK_SHARE or
 * _EXCLUSIVE); *hdr points to the header in the page, checked with
 * hnsw_page_element.
 */
extern Buffer hnsw_lock_element(Relation index, const HnswShape *shape, uint64 pos,
								int mode, HnswElementHeader **hdr);

/*
 * Insert one row, its stored element `x` (hnsw_form_value: the value and, with
 * filter columns, its filter area) of `dims` dimensions (22000
 * unless the index's), into an index on disk (Algorithm 1), concurrently with
 * other inserts, scans and VACUUM.  Used by aminsert and by a build whose
 * graph outgrew maintenance_work_mem.
 */
extern void hnsw_disk_insert(Relation index, const char *x, int dims, ItemPointer tid);
/* (for a quantized index x is the encoded element, tested indexable before) */

/*
 * Merge the candidates `add` (with their distances to element `pos`) into
 * pos's list at `level`.  HNSW_LIST_MERGE (an insert linking back) appends
 * while there is room, else prunes the live neighbours plus `add` with the
 * heuristic; HNSW_LIST_APPEND appends only when all of `add` fits, else
 * leaves the list alone; HNSW_LIST_SWAP puts add[0] in the place of
 * add[1] (nadd = 2), unless the list names add[0] or does not name add[1];
 * HNSW_LIST_REPAIR (VACUUM) always prunes, dropping
 * dead neighbours, and keeps the list as long as it was.  The list is read
 * under a share lock and written under an exclusive one if unchanged in
 * between, else retried (three times; then the update is skipped, which
 * costs recall, not correctness).  Returns false when it was skipped so,
 * true when the list was written, needed no change, or pos no longer has
 * `level`.  *named tells whether the list, as it was left, names an
 * element of `add` (false when skipped or pos has no such level).
 * `dropped` (room for 2 * m; NULL: not wanted) receives the live members
 * the new list written left out, *ndropped their count (0 when nothing
 * was written).
 */
typedef enum HnswListMode
{
	HNSW_LIST_MERGE,
	HNSW_LIST_APPEND,
	HNSW_LIST_SWAP,
	HNSW_LIST_REPAIR
} HnswListMode;

extern bool hnsw_disk_update_list(HnswDiskGraph *dg, uint64 pos, int level,
								  const HnswCand *add, int nadd, HnswListMode mode,
								  bool *named, uint64 *dropped, int *ndropped);

/*
 * hnsw_link_all: what VACUUM does last (hnsw_vacuum.c), without removing
 * anything: link every live element of `index` that no live level-0 list
 * names from one of its neighbours, then every group of elements that no
 * search reaches from an element that a search for it finds.  The build
 * calls it once the graph is on disk: its pruning cuts off such groups
 * too (a cluster of rows far from the others that the build met first).
 * Takes HNSW_VACUUM_LOCK; memory within maintenance_work_mem.
 */
extern void hnsw_link_all(Relation index);

/* ---------------------------------------------------------------------
 * Filter directory (hnsw_filterdir.c; "Filter directory" above)
 * ---------------------------------------------------------------------
 */
typedef struct HnswFilterDirPage
{
	uint32		next;			/* the next directory page's block, 0: none */
	uint32		reserved;		/* 0 */
} HnswFilterDirPage;

/* Bytes of one directory entry for n filter columns (20 for one). */
#define HNSW_FILTERDIR_ENTRY(n) (sizeof(HnswPtr) + sizeof(uint16) + vindex_filter_size(n))

/* The directory as the metapage records it (all 0: none). */
typedef struct HnswFilterDirInfo
{
	BlockNumber first;
	BlockNumber last;
	BlockNumber free;
	uint32		pages;
} HnswFilterDirInfo;

/* Is `page` a filter directory page (any reader of the stream skips it)? */
static inline bool
hnsw_filterdir_is_page(Page page)
{
	const HnswPageOpaqueData *opaque =
		(const HnswPageOpaqueData *) ((char *) page + HNSW_SPECIAL_OFFSET);

	return ((PageHeader) page)->pd_special == HNSW_SPECIAL_OFFSET &&
		opaque->magic == HNSW_MAGIC && opaque->page_kind == HNSW_PAGE_FILTER_DIR;
}

/*
 * hnsw_filterdir_info: the directory of `index` from its metapage (share
 * lock); XX002 when the fields are impossible (blocks outside the
 * relation, first without last).
 */
extern void hnsw_filterdir_info(Relation index, HnswFilterDirInfo *info);

/*
 * hnsw_filterdir_prepare: before an insert stores its element into an
 * index of `shape` with filter columns: give an empty index (tail 0,
 * no directory) its first directory page, WAL-logged, so that the
 * directory covers every element.  No-op without filter columns.
 */
extern void hnsw_filterdir_prepare(Relation index, const HnswShape *shape);

/*
 * hnsw_filterdir_add: add the entry of the element just stored at stream
 * position `pos` with stored element `x` (value, filter area) to the
 * directory, WAL-logged; no-op without a directory.  Locks one directory
 * page at a time, the metapage (then the last page and a new one) when a
 * page must be added.
 */
extern void hnsw_filterdir_add(Relation index, const HnswShape *shape, uint64 pos,
							   const char *x);

/*
 * hnsw_filterdir_build: at the end of CREATE INDEX, write the directory of
 * an index with filter columns that has none yet: an entry per live
 * element of the stream, on pages appended at the tail, WAL-logged.
 */
extern void hnsw_filterdir_build(Relation index);

/*
 * hnsw_filterdir_remove: VACUUM: remove the entries of the dead elements
 * dead[0..ndead-1] (ascending stream positions) from every directory
 * page, compacting each in place (exclusive lock, WAL-logged), and point
 * the metapage's hint at the first page with room.  No-op without a
 * directory.
 */
extern void hnsw_filterdir_remove(Relation index, const uint64 *dead, int ndead);

/*
 * hnsw_filterdir_matches: the exhaustive pass's first step: the stream
 * positions (palloc'd, ascending, distinct; count in *n) of the entries
 * whose filter area passes `filter` and whose position lies before
 * `tail`.  Each page is read under a share lock.  *pages is set to the
 * pages read.  XX002 for a damaged page or chain.
 */
extern uint64 *hnsw_filterdir_matches(Relation index, const HnswFilterDirInfo *info,
									  const HnswShape *shape, const VindexFilter *filter,
									  uint64 tail, int64 *n);

/*
 * hnsw_filterdir_count: the entries of the directory (walking its pages),
 * -1 when there is none.
 */
extern int64 hnsw_filterdir_count(Relation index, const HnswFilterDirInfo *info,
								  const HnswShape *shape);

/*
 * hnsw_filterdir_check: for vsim.index_check(): every directory page is
 * sound and chained in ascending order, every entry names an element
 * start (or a position appended since) with a possible filter area, and
 * every live element whose rows a fresh snapshot sees has an entry with
 * its own filter area.  XX002 for the first damage.  No-op for an index
 * without a directory (checks that one with filter columns and elements
 * built without one is one of vsim 0.3.0's first).  Called with
 * HNSW_VACUUM_LOCK held.
 */
extern void hnsw_filterdir_check(Relation index, Relation heap);

/* ---------------------------------------------------------------------
 * Quantization (hnsw_quant.c): the sq8 and RaBitQ codecs of src/quant/ as
 * hnsw stores them; see "Quantization" in the header comment
 * ---------------------------------------------------------------------
 */

/*
 * hnsw_quant_check: the CREATE INDEX checks of mode `q` for an index on
 * element type `elem` with `metric` (0A000 with a hint: any mode on bit or
 * sparsevec, rabitq under l1: rabitq_check_metric).
 */
extern void hnsw_quant_check(VindexQuantization q, const VindexElemType *elem,
							 VectorMetric metric);

/*
 * Bytes of the parameter blob of mode `q` at `dims` (0 for none; sq8
 * SQ8_PARAMS_SIZE, rabitq RABITQ_ROTATION_SIZE + 4 dims).
 */
extern Size hnsw_quant_params_size(VindexQuantization q, int dims);


/*
 * Stream position of the first element of an index of mode `q`: the blob
 * rounded up to whole data pages (0 for none).
 */
extern uint64 hnsw_quant_first(VindexQuantization q, int dims);

/*
 * hnsw_quant_train: the parameter blob of mode `q` (sq8 or rabitq;
 * palloc'd, hnsw_quant_params_size bytes) from the n in-memory vectors of
 * the raw `shape` (fixed-size, not quantized) at base + i * stride; a
 * sample of them when they are many (at most 64 MB of floats, evenly
 * spaced).  sq8: sq8_train's ranges; rabitq: the rotation of a fixed seed
 * and the sample's mean as the centroid (of the normalised rows for
 * cosine).  When n is 0: sq8 the ranges of one zero vector, rabitq the
 * origin as the centroid.
 */
extern void *hnsw_quant_train(const HnswShape *shape, VindexQuantization q,
							  const char *base, Size stride, uint32 n);

/*
 * hnsw_quant_write_params: write `params` (shape->qparams' blob,
 * hnsw_quant_params_size bytes) as blocks 1 .. of `fork`, which must hold
 * only the metapage; returns the next block.  The pages of the main fork
 * are WAL-logged by the build (log_newpage_range); those of the init fork
 * here.
 */
extern BlockNumber hnsw_quant_write_params(Relation index, ForkNumber fork,
										   const HnswShape *shape, const void *params);

/*
 * hnsw_quant_read_params: the parameter blob of the quantized `index` of
 * `shape` (palloc'd copy), checked: XX002 unless its dimensions are the
 * metapage's and, for sq8, every range is finite with a step >= 0; for
 * rabitq, the rotation's padded dimensions and rounds are those of
 * RABITQ_PADDED_DIM and RABITQ_ROUNDS and the centroid is finite.
 */
extern void *hnsw_quant_read_params(Relation index, const HnswShape *shape);

/*
 * hnsw_quant_encode: the stored element (shape->elem_size bytes, into
 * `out`) of a quantized `shape` from `x`, the unquantized stored element
 * (raw_size bytes of value, then the filter area at TYPEALIGN(4,
 * raw_size) when the index has filter columns); `scratch` holds
 * shape->dims floats.
 */
extern void hnsw_quant_encode(const HnswShape *shape, const char *x, char *out,
							  float *scratch);

/*
 * hnsw_quant_valid: is the stored value `elem` (4-aligned) one the
 * encoder can give?  sq8: norm2 finite and |decode(codes)|^2 up to float
 * rounding; rabitq: rabitq_code_valid.  `scratch` holds shape->dims
 * floats.
 */
extern bool hnsw_quant_valid(const HnswShape *shape, const char *elem, float *scratch);

/* Set up dg->quant for a quantized shape (hnsw_disk_graph_init calls it). */
extern void hnsw_quant_graph_init(HnswDiskGraph *dg);

/*
 * hnsw_quant_set_query: make `q` (the unquantized stored form of a scan's
 * query, shape->raw_size bytes, kept by the caller) the graph's prepared
 * query for hnsw_quant_distance.
 */
extern void hnsw_quant_set_query(HnswDiskGraph *dg, const char *q);

/* A re-ranked row: its heap TID and exact index-order distance. */
typedef VindexScored HnswReranked;

/*
 * hnsw_rerank_batch: re-rank the next up to `want` elements of a search's
 * results[*next .. n) (by ascending approximate distance): each element's
 * TIDs are read with the distance recomputed (an element whose distance
 * is not the search's, its slot reused since, or dead, is skipped), each
 * TID's exact distance from `q` (unquantized stored form) is read from its
 * heap row (vindex_rerank_distance: invisible rows are left out).  Writes
 * the rows to out (room for want * HNSW_HEAPTIDS) sorted by exact
 * distance, ties by TID, advances *next and returns their count (0 only
 * when results are used up or none was visible).
 */
extern int	hnsw_rerank_batch(HnswDiskGraph *dg, VindexRerank *rr, const char *q,
							  const HnswCand *results, int n, int *next, int want,
							  HnswReranked *out);

/* ---------------------------------------------------------------------
 * Structure check (hnsw_check.c)
 * ---------------------------------------------------------------------
 */

/*
 * hnsw_index_check: VindexMethod.check of hnsw (index.h), for
 * vsim.index_check(): verifies the metapage, every page's kind, magic and
 * bounds, every element's header and lists, that every neighbour
 * reference names an element (in a live element's list, one that is not a
 * free slot and has the list's level), and the entry point; with
 * heapallindexed, that every row of a fresh MVCC snapshot that the index
 * covers is in it.  Runs alongside inserts and scans, not alongside VACUUM
 * (HNSW_VACUUM_LOCK).  XX002 for the first damage found.
 */
extern void hnsw_index_check(Relation index, Relation heap, bool heapallindexed);

/* ---------------------------------------------------------------------
 * Access method entry points: the IndexAmRoutine callbacks, which do what
 * index/index.h says of every vector index method's.  hnsw.c holds
 * options, validate and buildphasename, hnsw_build.c build and buildempty,
 * hnsw_insert.c insert, hnsw_vacuum.c bulkdelete and vacuumcleanup,
 * hnsw_cost.c costestimate, hnsw_scan.c the scans.  Besides:
 *
 *	  - hnsw_build builds the graph in memory (in parallel when the table
 *		is large enough and its graph fits) and writes it out, or goes on
 *		on disk once maintenance_work_mem is full.  It raises 22023 when
 *		the column has no dimensions or ef_construction < 2 * m, 54000
 *		when a parallel build's graph outgrows the shared memory sized
 *		from the statistics.
 *	  - hnsw_bulkdelete also replaces a dead entry point, repairs the
 *		lists that name newly dead elements and makes those elements free
 *		slots, in rounds when they do not fit in maintenance_work_mem
 *		(hnsw_vacuum.c); hnsw_vacuumcleanup finishes what an earlier
 *		VACUUM left.  Both report their counts at info->message_level.
 *	  - a scan without ORDER BY raises 0A000.
 *	  - scan keys on filter columns are tested on each element the search
 *		reaches (HnswDiskGraph.filter); xs_recheck is set when there are
 *		any, so the executor tests its rows too (text keys are lossy).
 *	  - hnsw_build raises the errors of vindex_filter_layout.
 * ---------------------------------------------------------------------
 */
VINDEX_DECLARE_CALLBACKS(hnsw);

/* Build progress sub-phases (pg_stat_progress_create_index.phase). */
#define HNSW_PHASE_LOAD		2
#define HNSW_PHASE_WRITE	3

#endif							/* VSIM_HNSW_H */
