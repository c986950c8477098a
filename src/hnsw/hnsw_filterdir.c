/*-------------------------------------------------------------------------
 *
 * hnsw_filterdir.c
 *	  The filter directory of an HNSW index with filter columns: a compact
 *	  array of (element position, filter area) entries that the exhaustive
 *	  pass of a filtered scan reads instead of every element.
 *
 * See "Filter directory" in hnsw.h for the layout and why a scan misses
 * no row.  Directory pages are whole blocks of the stream region, chained
 * in ascending block order; a page is appended at the stream's tail under
 * the metapage's exclusive lock, in one WAL record with the metapage (its
 * new last page, page count and tail) and the old last page (its next
 * pointer), locked in ascending block order.  Entries are added under the
 * page's exclusive lock without the metapage, unless a page must be
 * added; VACUUM compacts pages in place.  Every change is WAL-logged with
 * GenericXLog; the metapage's pd_lower is raised over the filter_dir_
 * fields when they are first set, so that the records carry them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "access/tableam.h"
#include "hnsw/hnsw.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

/* Where a directory page's entries start, in its page bytes. */
#define DIR_ENTRIES_OFFSET	sizeof(HnswFilterDirPage)

/* Entries of `esize` bytes that one page holds. */
#define DIR_CAPACITY(esize) ((int) ((HNSW_PAGE_DATA - DIR_ENTRIES_OFFSET) / (esize)))

static inline char *
dir_entries(Page page)
{
	return HNSW_PAGE_BYTES(page) + DIR_ENTRIES_OFFSET;
}

static inline HnswFilterDirPage *
dir_header(Page page)
{
	return (HnswFilterDirPage *) HNSW_PAGE_BYTES(page);
}

/* The entries on a checked directory page. */
static inline int
dir_count(Page page, Size esize)
{
	return (int) ((((PageHeader) page)->pd_lower - SizeOfPageHeaderData -
				   DIR_ENTRIES_OFFSET) / esize);
}

/* XX002 unless `page` (block blkno) is a sound directory page of `esize` entries. */
static void
check_dir_page(Relation index, Page page, BlockNumber blkno, Size esize,
			   BlockNumber nblocks)
{
	Size		bytes;
	BlockNumber next;

	hnsw_check_page(index, page, blkno, HNSW_PAGE_FILTER_DIR);
	bytes = ((PageHeader) page)->pd_lower - SizeOfPageHeaderData;
	if (bytes < DIR_ENTRIES_OFFSET || (bytes - DIR_ENTRIES_OFFSET) % esize != 0)
		vindex_report_corrupted(index, blkno,
								"The filter directory page holds %zu bytes, not a whole number of %zu-byte entries.",
								bytes, esize);
	next = dir_header(page)->next;
	if (next != 0 && (next <= blkno || next >= nblocks))
		vindex_report_corrupted(index, blkno,
								"The filter directory page names block %u as the next one; the index has %u blocks.",
								next, nblocks);
}

/* Pin and lock directory page blkno in `mode`, checked. */
static Buffer
lock_dir_page(Relation index, BlockNumber blkno, int mode, Size esize,
			  BlockNumber *nblocks)
{
	Buffer		buf;

	if (blkno >= *nblocks)
		*nblocks = RelationGetNumberOfBlocks(index);
	if (blkno == HNSW_METAPAGE_BLKNO || blkno >= *nblocks)
		vindex_report_corrupted(index, HNSW_METAPAGE_BLKNO,
								"The filter directory names block %u; the index has %u blocks.",
								blkno, *nblocks);
	buf = ReadBuffer(index, blkno);
	LockBuffer(buf, mode);
	check_dir_page(index, BufferGetPage(buf), blkno, esize, *nblocks);
	return buf;
}

/* The stream position an entry names, checked to be a possible element start. */
static uint64
entry_pos(Relation index, const char *entry, BlockNumber blkno)
{
	const HnswPtr *ptr = (const HnswPtr *) entry;
	uint64		pos = hnsw_ptr_get(ptr);

	if (pos == HNSW_INVALID_POS || BlockIdGetBlockNumber(&ptr->blk) == HNSW_METAPAGE_BLKNO ||
		ptr->off >= HNSW_PAGE_DATA || ptr->off % 4 != 0)
		vindex_report_corrupted(index, blkno,
								"A filter directory entry names block %u, offset %u, which cannot start an element.",
								BlockIdGetBlockNumber(&ptr->blk), (unsigned) ptr->off);
	return pos;
}

/* An entry for element `pos` with filter area `area` into `out` (esize bytes). */
static void
form_entry(char *out, uint64 pos, const char *area, int nfilters)
{
	hnsw_ptr_set((HnswPtr *) out, pos);
	memset(out + sizeof(HnswPtr), 0, sizeof(uint16));
	memcpy(out + sizeof(HnswPtr) + sizeof(uint16), area, vindex_filter_size(nfilters));
}

static inline const char *
entry_area(const char *entry)
{
	return entry + sizeof(HnswPtr) + sizeof(uint16);
}

/* The directory fields of the metapage `page` (0 when pd_lower stops short of them). */
static void
meta_info(Page page, HnswFilterDirInfo *info)
{
	HnswMetaPageData *meta = hnsw_meta(page);

	memset(info, 0, sizeof(*info));
	if (((PageHeader) page)->pd_lower < SizeOfPageHeaderData + sizeof(HnswMetaPageData))
		return;
	info->first = meta->filter_dir_first;
	info->last = meta->filter_dir_last;
	info->free = meta->filter_dir_free;
	info->pages = meta->filter_dir_pages;
}

void
hnsw_filterdir_info(Relation index, HnswFilterDirInfo *info)
{
	Buffer		buf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	hnsw_check_page(index, BufferGetPage(buf), HNSW_METAPAGE_BLKNO, HNSW_PAGE_META);
	meta_info(BufferGetPage(buf), info);
	UnlockReleaseBuffer(buf);
	if ((info->first == 0) != (info->last == 0) || (info->first == 0) != (info->pages == 0) ||
		info->first > info->last || info->last >= nblocks ||
		info->pages > info->last - info->first + 1 ||
		(info->free != 0 && (info->free < info->first || info->free > info->last)))
		vindex_report_corrupted(index, HNSW_METAPAGE_BLKNO,
								"The metapage's filter directory (blocks %u to %u, %u pages, hint %u) is impossible in an index of %u blocks.",
								info->first, info->last, info->pages, info->free, nblocks);
}

/* The metapage's fields in a registered copy, pd_lower raised over them. */
static HnswMetaPageData *
meta_for_dir(Page page)
{
	PageHeader	ph = (PageHeader) page;

	ph->pd_lower = Max(ph->pd_lower, SizeOfPageHeaderData + sizeof(HnswMetaPageData));
	return hnsw_meta(page);
}

/*
 * Append a directory page holding entries[0..n-1] at the stream's tail and
 * make it the last one; `metabuf` is the metapage, exclusively locked.
 */
static void
append_page(Relation index, Buffer metabuf, const char *entries, int n, Size esize)
{
	HnswMetaPageData *meta = hnsw_meta(BufferGetPage(metabuf));
	HnswFilterDirInfo info;
	uint64		tail = meta->tail;
	BlockNumber blkno = HNSW_POS_OFFSET(tail) == 0 ? HNSW_POS_BLOCK(tail) :
		HNSW_POS_BLOCK(tail) + 1;
	BlockNumber nblocks;
	Buffer		prev = InvalidBuffer;
	Buffer		buf;
	GenericXLogState *state;
	Page		page;
	HnswMetaPageData *wmeta;

	Assert(n <= DIR_CAPACITY(esize));
	meta_info(BufferGetPage(metabuf), &info);
	hnsw_extend_to(index, blkno);
	nblocks = RelationGetNumberOfBlocks(index);
	if (info.last != 0)
		prev = lock_dir_page(index, info.last, BUFFER_LOCK_EXCLUSIVE, esize, &nblocks);
	buf = ReadBuffer(index, blkno);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);

	state = GenericXLogStart(index);
	wmeta = meta_for_dir(GenericXLogRegisterBuffer(state, metabuf, 0));
	if (BufferIsValid(prev))
		dir_header(GenericXLogRegisterBuffer(state, prev, 0))->next = blkno;
	page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
	hnsw_init_filterdir_page(page);
	memcpy(dir_entries(page), entries, esize * n);
	((PageHeader) page)->pd_lower += esize * n;
	if (info.first == 0)
		wmeta->filter_dir_first = blkno;
	wmeta->filter_dir_last = blkno;
	wmeta->filter_dir_free = blkno;
	wmeta->filter_dir_pages = info.pages + 1;
	wmeta->tail = (uint64) blkno * HNSW_PAGE_DATA;	/* the next block's start */
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
	if (BufferIsValid(prev))
		UnlockReleaseBuffer(prev);
}

void
hnsw_filterdir_prepare(Relation index, const HnswShape *shape)
{
	HnswFilterDirInfo info;
	Buffer		metabuf;
	HnswMetaPageData *meta;

	if (shape->filters.nfilters == 0)
		return;
	hnsw_filterdir_info(index, &info);
	if (info.first != 0)
		return;
	metabuf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	meta = hnsw_meta(BufferGetPage(metabuf));
	meta_info(BufferGetPage(metabuf), &info);
	/*
	 * An index with elements but no directory was built without one; an
	 * empty stream ends where its first element would start (after a
	 * quantized index's parameters).
	 */
	if (info.first == 0 && meta->tail == shape->first)
		append_page(index, metabuf, NULL, 0,
					HNSW_FILTERDIR_ENTRY(shape->filters.nfilters));
	UnlockReleaseBuffer(metabuf);
}

/* Add `entry` to the locked directory page `buf` if it has room. */
static bool
add_to_page(Relation index, Buffer buf, const char *entry, Size esize)
{
	Page		page = BufferGetPage(buf);
	GenericXLogState *state;

	if (dir_count(page, esize) >= DIR_CAPACITY(esize))
		return false;
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	memcpy(dir_entries(page) + esize * dir_count(page, esize), entry, esize);
	((PageHeader) page)->pd_lower += esize;
	GenericXLogFinish(state);
	return true;
}

/* Point the metapage's hint at `to` if it still names `from`. */
static void
move_hint(Relation index, BlockNumber from, BlockNumber to, bool only_if_lower)
{
	Buffer		metabuf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	HnswFilterDirInfo info;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	meta_info(BufferGetPage(metabuf), &info);
	if (info.first != 0 && info.free != to &&
		(only_if_lower ? (info.free == 0 || to < info.free) : info.free == from))
	{
		GenericXLogState *state = GenericXLogStart(index);

		meta_for_dir(GenericXLogRegisterBuffer(state, metabuf, 0))->filter_dir_free = to;
		GenericXLogFinish(state);
	}
	UnlockReleaseBuffer(metabuf);
}

void
hnsw_filterdir_add(Relation index, const HnswShape *shape, uint64 pos, const char *x)
{
	int			nf = shape->filters.nfilters;
	Size		esize = HNSW_FILTERDIR_ENTRY(nf);
	char		entry[sizeof(HnswPtr) + sizeof(uint16) + sizeof(uint32) +
					  sizeof(int64) * VINDEX_MAX_FILTER_COLUMNS];
	HnswFilterDirInfo info;
	BlockNumber nblocks = 1;
	BlockNumber start,
				blkno;
	Buffer		metabuf;
	Buffer		buf;

	if (nf == 0)
		return;
	hnsw_filterdir_info(index, &info);
	if (info.first == 0)
		return;
	form_entry(entry, pos, x + HNSW_FILTER_OFFSET(shape), nf);

	/* from the hint on, the first page with room */
	start = info.free != 0 ? info.free : info.last;
	for (blkno = start; blkno != 0;)
	{
		BlockNumber next;

		CHECK_FOR_INTERRUPTS();
		buf = lock_dir_page(index, blkno, BUFFER_LOCK_EXCLUSIVE, esize, &nblocks);
		if (add_to_page(index, buf, entry, esize))
		{
			UnlockReleaseBuffer(buf);
			if (blkno != start)
				move_hint(index, start, blkno, false);
			return;
		}
		next = dir_header(BufferGetPage(buf))->next;
		UnlockReleaseBuffer(buf);
		blkno = next;
	}

	/* every page from the hint on is full: add one (or use one just added) */
	metabuf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	meta_info(BufferGetPage(metabuf), &info);
	buf = lock_dir_page(index, info.last, BUFFER_LOCK_EXCLUSIVE, esize, &nblocks);
	if (add_to_page(index, buf, entry, esize))
		UnlockReleaseBuffer(buf);
	else
	{
		UnlockReleaseBuffer(buf);
		append_page(index, metabuf, entry, 1, esize);
	}
	UnlockReleaseBuffer(metabuf);
}

/* The entries of the live elements, collected by one walk. */
typedef struct DirCollect
{
	const HnswShape *shape;
	Size		esize;
	char	   *entries;		/* esize bytes each */
	int64		n;
	int64		cap;
	uint64	   *spanning;		/* live elements whose value continues past their page */
	int64		nspanning;
	int64		capspanning;
	/* with `all`: every element's start (free slots and dead ones too) */
	bool		all;
	uint64	   *pos;
	int64		npos;
	int64		cappos;
} DirCollect;

static void
grow(void **a, int64 *cap, int64 n, Size elem)
{
	if (n < *cap)
		return;
	*cap *= 2;
	*a = repalloc_huge(*a, elem * *cap);
}

static void
collect_entry(DirCollect *dc, uint64 pos, const char *area)
{
	grow((void **) &dc->entries, &dc->cap, dc->n, dc->esize);
	form_entry(dc->entries + dc->esize * dc->n++, pos, area, dc->shape->filters.nfilters);
}

/* hnsw_walk callback: the entry of each live element. */
static HnswWalkAction
collect_visit(void *arg, Page page, uint64 pos, HnswElementHeader *hdr)
{
	DirCollect *dc = arg;
	const HnswShape *shape = dc->shape;
	Size		prefix = hnsw_prefix_size(shape->m, hdr->level);
	bool		live = hdr->ntids > 0 && (hdr->flags & HNSW_ELEMENT_FREE) == 0;

	if (dc->all)
	{
		if (dc->npos == dc->cappos)
		{
			dc->cappos *= 2;
			dc->pos = repalloc_huge(dc->pos, sizeof(uint64) * dc->cappos);
		}
		dc->pos[dc->npos++] = pos;
	}
	if (!live)
		return HNSW_WALK_NEXT;
	if (HNSW_POS_OFFSET(pos) + prefix + shape->elem_size > HNSW_PAGE_DATA)
	{
		grow((void **) &dc->spanning, &dc->capspanning, dc->nspanning, sizeof(uint64));
		dc->spanning[dc->nspanning++] = pos;
		return HNSW_WALK_NEXT;
	}
	collect_entry(dc, pos, (char *) hdr + prefix + HNSW_FILTER_OFFSET(shape));
	return HNSW_WALK_NEXT;
}

/* Walk [0, tail) collecting the entries of live elements (and, with all, every start). */
static void
collect_all(Relation index, const HnswShape *shape, uint64 tail, DirCollect *dc,
			bool all)
{
	Size		asize = vindex_filter_size(shape->filters.nfilters);
	char	   *area = palloc(asize);
	BlockNumber nblocks = 1;

	memset(dc, 0, sizeof(*dc));
	dc->shape = shape;
	dc->esize = HNSW_FILTERDIR_ENTRY(shape->filters.nfilters);
	dc->cap = 1024;
	dc->entries = palloc(dc->esize * dc->cap);
	dc->capspanning = 16;
	dc->spanning = palloc(sizeof(uint64) * dc->capspanning);
	dc->all = all;
	dc->cappos = 1024;
	dc->pos = palloc(sizeof(uint64) * dc->cappos);
	hnsw_walk(index, shape, 0, tail, false, collect_visit, dc);
	for (int64 i = 0; i < dc->nspanning; i++)
	{
		uint64		pos = dc->spanning[i];
		HnswElementHeader *hdr;
		Buffer		buf = hnsw_lock_element(index, shape, pos, BUFFER_LOCK_SHARE, &hdr);
		Size		prefix = hnsw_prefix_size(shape->m, hdr->level);

		LockBuffer(buf, BUFFER_LOCK_UNLOCK);
		CHECK_FOR_INTERRUPTS();
		/* the value of an element spanning pages never changes (hnsw.h) */
		hnsw_read_stream(index, &nblocks, buf, pos + prefix + HNSW_FILTER_OFFSET(shape),
						 area, asize);
		collect_entry(dc, pos, area);
	}
	pfree(area);
}

void
hnsw_filterdir_build(Relation index)
{
	HnswShape	shape;
	uint64		tail;
	HnswFilterDirInfo info;
	DirCollect	dc;
	Buffer		metabuf;
	int			cap;

	hnsw_read_meta(index, &shape, NULL, NULL, &tail);
	if (shape.filters.nfilters == 0)
		return;
	hnsw_filterdir_info(index, &info);
	if (info.first != 0)
		return;					/* the inserts of an on-disk build made it */
	collect_all(index, &shape, tail, &dc, false);
	cap = DIR_CAPACITY(dc.esize);
	metabuf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	for (int64 i = 0; i == 0 || i < dc.n; i += cap)
	{
		CHECK_FOR_INTERRUPTS();
		append_page(index, metabuf, dc.entries + dc.esize * i,
					(int) Min(cap, dc.n - i), dc.esize);
	}
	UnlockReleaseBuffer(metabuf);
}

void
hnsw_filterdir_remove(Relation index, const uint64 *dead, int ndead)
{
	HnswShape	shape;
	HnswFilterDirInfo info;
	Size		esize;
	BlockNumber nblocks = 1;
	BlockNumber room = 0;

	if (ndead == 0)
		return;
	hnsw_read_meta(index, &shape, NULL, NULL, NULL);
	hnsw_filterdir_info(index, &info);
	if (info.first == 0)
		return;
	esize = HNSW_FILTERDIR_ENTRY(shape.filters.nfilters);
	for (BlockNumber blkno = info.first; blkno != 0;)
	{
		Buffer		buf;
		Page		page;
		int			n,
					kept = 0;
		bool		any = false;

		vindex_vacuum_delay_point();
		buf = lock_dir_page(index, blkno, BUFFER_LOCK_EXCLUSIVE, esize, &nblocks);
		page = BufferGetPage(buf);
		n = dir_count(page, esize);
		for (int i = 0; i < n && !any; i++)
			any = hnsw_find_pos(dead, ndead,
								entry_pos(index, dir_entries(page) + esize * i, blkno)) >= 0;
		if (any)
		{
			GenericXLogState *state = GenericXLogStart(index);
			char	   *e;

			page = GenericXLogRegisterBuffer(state, buf, 0);
			e = dir_entries(page);
			for (int i = 0; i < n; i++)
			{
				if (hnsw_find_pos(dead, ndead, entry_pos(index, e + esize * i, blkno)) >= 0)
					continue;
				if (kept != i)
					memmove(e + esize * kept, e + esize * i, esize);
				kept++;
			}
			((PageHeader) page)->pd_lower = SizeOfPageHeaderData + DIR_ENTRIES_OFFSET +
				esize * kept;
			GenericXLogFinish(state);
			n = kept;
		}
		if (room == 0 && n < DIR_CAPACITY(esize))
			room = blkno;
		blkno = dir_header(page)->next;
		UnlockReleaseBuffer(buf);
	}
	if (room != 0)
		move_hint(index, 0, room, true);
}

static int
cmp_pos(const void *a, const void *b)
{
	uint64		x = *(const uint64 *) a;
	uint64		y = *(const uint64 *) b;

	return x < y ? -1 : x > y;
}

uint64 *
hnsw_filterdir_matches(Relation index, const HnswFilterDirInfo *info,
					   const HnswShape *shape, const VindexFilter *filter,
					   uint64 tail, int64 *n)
{
	Size		esize = HNSW_FILTERDIR_ENTRY(shape->filters.nfilters);
	BlockNumber nblocks = 1;
	int64		cap = 256,
				count = 0,
				out = 0;
	uint64	   *pos = palloc(sizeof(uint64) * cap);

	for (BlockNumber blkno = info->first; blkno != 0;)
	{
		Buffer		buf;
		Page		page;
		const char *e;
		int			k;

		CHECK_FOR_INTERRUPTS();
		buf = lock_dir_page(index, blkno, BUFFER_LOCK_SHARE, esize, &nblocks);
		page = BufferGetPage(buf);
		e = dir_entries(page);
		k = dir_count(page, esize);
		for (int i = 0; i < k; i++, e += esize)
		{
			uint64		p;

			if (!vindex_filter_match(filter, entry_area(e)))
				continue;
			p = entry_pos(index, e, blkno);
			if (p >= tail)
				continue;		/* appended after the scan began */
			if (count == cap)
			{
				cap *= 2;
				pos = repalloc_huge(pos, sizeof(uint64) * cap);
			}
			pos[count++] = p;
		}
		blkno = dir_header(page)->next;
		UnlockReleaseBuffer(buf);
	}
	qsort(pos, count, sizeof(uint64), cmp_pos);
	for (int64 i = 0; i < count; i++)
		if (out == 0 || pos[out - 1] != pos[i])
			pos[out++] = pos[i];
	*n = out;
	return pos;
}

int64
hnsw_filterdir_count(Relation index, const HnswFilterDirInfo *info,
					 const HnswShape *shape)
{
	Size		esize = HNSW_FILTERDIR_ENTRY(shape->filters.nfilters);
	BlockNumber nblocks = 1;
	int64		count = 0;

	if (info->first == 0)
		return -1;
	for (BlockNumber blkno = info->first; blkno != 0;)
	{
		Buffer		buf;

		CHECK_FOR_INTERRUPTS();
		buf = lock_dir_page(index, blkno, BUFFER_LOCK_SHARE, esize, &nblocks);
		count += dir_count(BufferGetPage(buf), esize);
		blkno = dir_header(BufferGetPage(buf))->next;
		UnlockReleaseBuffer(buf);
	}
	return count;
}

/* qsort_arg comparator of check records (arg: the entry size): by position, then bytes. */
static int
cmp_record(const void *a, const void *b, void *arg)
{
	int			c = cmp_pos(a, b);

	if (c != 0)
		return c;
	return memcmp((const char *) a + sizeof(uint64), (const char *) b + sizeof(uint64),
				  *(const Size *) arg);
}

/* Are the rows of live element `pos` all invisible to `snapshot`? */
static bool
rows_invisible(Relation index, Relation heap, const HnswShape *shape, uint64 pos,
			   Snapshot snapshot)
{
	HnswElementHeader *hdr;
	Buffer		buf = hnsw_lock_element(index, shape, pos, BUFFER_LOCK_SHARE, &hdr);
	ItemPointerData tids[HNSW_HEAPTIDS];
	int			ntids = hdr->ntids;

	memcpy(tids, hdr->tids, sizeof(ItemPointerData) * ntids);
	UnlockReleaseBuffer(buf);
	for (int i = 0; i < ntids; i++)
	{
		bool		all_dead = false;

		if (table_index_fetch_tuple_check(heap, &tids[i], snapshot, &all_dead))
			return false;
	}
	return true;
}

void
hnsw_filterdir_check(Relation index, Relation heap)
{
	HnswShape	shape;
	uint64		tail;
	HnswFilterDirInfo info;
	DirCollect	dc;
	Snapshot	snapshot;
	Size		esize;
	Size		asize;
	Size		rec;			/* a sorted record: position, then the entry */
	char	   *recs;
	int64		nrecs = 0,
				caprecs = 1024;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	uint32		pages = 0;
	BlockNumber lastseen = 0;
	int64		j = 0;

	hnsw_read_meta(index, &shape, NULL, NULL, &tail);
	hnsw_filterdir_info(index, &info);
	if (shape.filters.nfilters == 0)
	{
		if (info.first != 0)
			vindex_report_corrupted(index, HNSW_METAPAGE_BLKNO,
									"The metapage names a filter directory at block %u, but the index has no filter columns.",
									info.first);
		return;
	}
	if (info.first == 0)
		return;					/* built before the directory existed */
	esize = HNSW_FILTERDIR_ENTRY(shape.filters.nfilters);
	asize = vindex_filter_size(shape.filters.nfilters);
	rec = sizeof(uint64) + esize;

	/* the elements first, then a snapshot, then the directory: see below */
	collect_all(index, &shape, tail, &dc, true);
	snapshot = RegisterSnapshot(GetTransactionSnapshot());

	recs = palloc(rec * caprecs);
	for (BlockNumber blkno = info.first; blkno != 0;)
	{
		Buffer		buf;
		Page		page;
		int			k;

		CHECK_FOR_INTERRUPTS();
		buf = lock_dir_page(index, blkno, BUFFER_LOCK_SHARE, esize, &nblocks);
		page = BufferGetPage(buf);
		k = dir_count(page, esize);
		for (int i = 0; i < k; i++)
		{
			const char *e = dir_entries(page) + esize * i;
			uint64		p = entry_pos(index, e, blkno);

			if (p < tail && hnsw_find_pos(dc.pos, dc.npos, p) < 0)
				vindex_report_corrupted(index, blkno,
										"Filter directory entry %d names block %u, offset %u, where no element starts.",
										i, HNSW_POS_BLOCK(p), HNSW_POS_OFFSET(p));
			if (!vindex_filter_area_valid(&shape.filters, entry_area(e)))
				vindex_report_corrupted(index, blkno,
										"Filter directory entry %d holds filter values no row can have.",
										i);
			grow((void **) &recs, &caprecs, nrecs, rec);
			memcpy(recs + rec * nrecs, &p, sizeof(uint64));
			memcpy(recs + rec * nrecs + sizeof(uint64), e, esize);
			nrecs++;
		}
		pages++;
		lastseen = blkno;
		blkno = dir_header(page)->next;
		UnlockReleaseBuffer(buf);
		if (pages > nblocks)
			vindex_report_corrupted(index, lastseen,
									"The filter directory's chain is longer than the index.");
	}
	/* pages are only added, under the metapage lock: the count read may lag */
	if (pages < info.pages || (pages == info.pages && lastseen != info.last))
		vindex_report_corrupted(index, HNSW_METAPAGE_BLKNO,
								"The filter directory's chain has %u pages ending at block %u; the metapage says %u ending at block %u.",
								pages, lastseen, info.pages, info.last);

	/*
	 * Every live element seen by the walk has an entry with its own filter
	 * values, unless no row of it is visible to the snapshot: an insert
	 * writes its entry before its transaction commits, and the snapshot was
	 * taken before the directory was read, so the entry of a row it sees
	 * was read; an insert still in progress (or one a crash cut short
	 * between the element and its entry) has no visible row.
	 */
	qsort_arg(recs, nrecs, rec, cmp_record, &esize);
	for (int64 i = 0; i < dc.n; i++)
	{
		const char *want = dc.entries + dc.esize * i;
		uint64		p = hnsw_ptr_get((const HnswPtr *) want);
		bool		found = false;

		CHECK_FOR_INTERRUPTS();
		/* the first record of position p */
		{
			int64		lo = 0,
						hi = nrecs;

			while (lo < hi)
			{
				int64		mid = lo + (hi - lo) / 2;
				uint64		mp;

				memcpy(&mp, recs + rec * mid, sizeof(uint64));
				if (mp < p)
					lo = mid + 1;
				else
					hi = mid;
			}
			j = lo;
		}
		for (; j < nrecs; j++)
		{
			uint64		mp;

			memcpy(&mp, recs + rec * j, sizeof(uint64));
			if (mp != p)
				break;
			if (memcmp(entry_area(recs + rec * j + sizeof(uint64)), entry_area(want),
					   asize) == 0)
			{
				found = true;
				break;
			}
		}
		if (!found && !rows_invisible(index, heap, &shape, p, snapshot))
			vindex_report_corrupted(index, HNSW_POS_BLOCK(p),
									"The live element at offset %u has no filter directory entry with its filter values.",
									HNSW_POS_OFFSET(p));
	}
	UnregisterSnapshot(snapshot);
}
