/*-------------------------------------------------------------------------
 *
 * hnsw_page.c
 *	  HNSW pages: the metapage, the element stream (layout arithmetic,
 *	  appending elements WAL-logged, reading stream bytes).
 *
 * See hnsw.h for the layout.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "hnsw/hnsw.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/freespace.h"
#include "storage/lmgr.h"
#include "utils/rel.h"

Size
hnsw_element_size(const HnswShape *shape, int level, Size stored)
{
	return hnsw_value_offset(shape, level) + stored;
}

int
hnsw_max_level(int m)
{
	int			level = 0;

	while (level < HNSW_MAX_LEVEL && hnsw_prefix_size(m, level + 1) <= HNSW_PAGE_DATA)
		level++;
	return level;
}

uint64
hnsw_place(const HnswShape *shape, uint64 tail, int level, Size size)
{
	uint64		pos = TYPEALIGN(4, tail);
	Size		need = size;

	/*
	 * An element that fits in a page never crosses a page boundary: reading
	 * a vector from two pages costs a second buffer lookup, pin and lock
	 * and a copy, which made up a fifth of a scan's work at 784 dimensions.
	 * Larger elements only keep their prefix in one page.
	 */
	if (need > HNSW_PAGE_DATA)
		need = hnsw_value_offset(shape, level);
	if (HNSW_POS_OFFSET(pos) + need > HNSW_PAGE_DATA)
		pos = (pos / HNSW_PAGE_DATA + 1) * HNSW_PAGE_DATA;
	return pos;
}

int64
hnsw_find_pos(const uint64 *sorted, int64 n, uint64 pos)
{
	int64		lo = 0,
				hi = n - 1;

	while (lo <= hi)
	{
		int64		mid = lo + (hi - lo) / 2;

		if (sorted[mid] == pos)
			return mid;
		if (sorted[mid] < pos)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

void
hnsw_ptr_set(HnswPtr *ptr, uint64 pos)
{
	if (pos == HNSW_INVALID_POS)
	{
		BlockIdSet(&ptr->blk, InvalidBlockNumber);
		ptr->off = 0;
		return;
	}
	BlockIdSet(&ptr->blk, HNSW_POS_BLOCK(pos));
	ptr->off = HNSW_POS_OFFSET(pos);
}

static void
init_page(Page page, uint16 kind, uint16 flags)
{
	HnswPageOpaqueData *opaque;

	PageInit(page, BLCKSZ, sizeof(HnswPageOpaqueData));
	opaque = (HnswPageOpaqueData *) PageGetSpecialPointer(page);
	opaque->page_kind = kind;
	opaque->flags = flags;
	opaque->magic = HNSW_MAGIC;
}

void
hnsw_init_data_page(Page page, bool element_start)
{
	init_page(page, HNSW_PAGE_DATA_KIND, element_start ? HNSW_PAGE_ELEMENT_START : 0);
}

void
hnsw_init_filterdir_page(Page page)
{
	init_page(page, HNSW_PAGE_FILTER_DIR, 0);
	memset(HNSW_PAGE_BYTES(page), 0, sizeof(HnswFilterDirPage));
	((PageHeader) page)->pd_lower = SizeOfPageHeaderData + sizeof(HnswFilterDirPage);
}

void
hnsw_init_meta_page(Page page, const HnswShape *shape)
{
	HnswMetaPageData *meta;

	init_page(page, HNSW_PAGE_META, 0);
	meta = hnsw_meta(page);
	meta->magic = HNSW_MAGIC;
	meta->version = HNSW_VERSION;
	meta->dims = shape->dims;
	meta->m = shape->m;
	meta->ef_construction = shape->ef_construction;
	meta->metric = shape->metric;
	meta->entry_level = -1;
	meta->entry = HNSW_INVALID_POS;
	meta->tail = shape->first;
	((PageHeader) page)->pd_lower = SizeOfPageHeaderData + HNSW_META_BASE_SIZE;
	if (shape->quant != VINDEX_QUANT_NONE)
	{
		meta->quant_mode = shape->quant;
		meta->quant_params_size = hnsw_quant_params_size(shape->quant, shape->dims);
		meta->quant_first = shape->first;
		((PageHeader) page)->pd_lower = HNSW_META_QUANT_LOWER;
	}
}

/*
 * The quantization mode of metapage `page`: its quant_mode when pd_lower
 * covers the quant_* fields, else none (the metapage of a 'none' index,
 * and of every index built before the option existed).
 */
static VindexQuantization
meta_quant(Page page)
{
	if (((PageHeader) page)->pd_lower < HNSW_META_QUANT_LOWER)
		return VINDEX_QUANT_NONE;
	return (VindexQuantization) hnsw_meta(page)->quant_mode;
}

VindexQuantization
hnsw_meta_quantization(Relation index)
{
	Buffer		buf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	VindexQuantization q;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	hnsw_check_page(index, BufferGetPage(buf), HNSW_METAPAGE_BLKNO, HNSW_PAGE_META);
	q = meta_quant(BufferGetPage(buf));
	UnlockReleaseBuffer(buf);
	return q;
}

HnswMetaPageData *
hnsw_meta(Page page)
{
	return (HnswMetaPageData *) HNSW_PAGE_BYTES(page);
}

void
hnsw_check_page(Relation index, Page page, BlockNumber blkno, uint16 kind)
{
	PageHeader	ph = (PageHeader) page;
	const HnswPageOpaqueData *opaque =
		(const HnswPageOpaqueData *) ((char *) page + HNSW_SPECIAL_OFFSET);

	if (PageIsNew(page))
		vindex_report_corrupted(index, blkno, "The page is uninitialised.");
	if (ph->pd_special != HNSW_SPECIAL_OFFSET)
		vindex_report_corrupted(index, blkno, "The special space starts at %u, not %u.",
								(unsigned) ph->pd_special, (unsigned) HNSW_SPECIAL_OFFSET);
	if (opaque->magic != HNSW_MAGIC)
		vindex_report_corrupted(index, blkno, "The page's magic is 0x%08X, not 0x%08X.",
								opaque->magic, HNSW_MAGIC);
	if (opaque->page_kind != kind)
		vindex_report_corrupted(index, blkno, "The page is of kind %u, not %u.",
								(unsigned) opaque->page_kind, (unsigned) kind);
	if (ph->pd_lower < SizeOfPageHeaderData || ph->pd_lower > HNSW_SPECIAL_OFFSET)
		vindex_report_corrupted(index, blkno, "pd_lower is %u, outside the page's data area.",
								(unsigned) ph->pd_lower);
}

void
hnsw_element_corrupted(Relation index, const HnswShape *shape, Page page,
					   BlockNumber blkno, uint32 off)
{
	HnswElementHeader *hdr = (HnswElementHeader *) (HNSW_PAGE_BYTES(page) + off);
	Size		lower = ((PageHeader) page)->pd_lower - SizeOfPageHeaderData;

	hnsw_check_page(index, page, blkno, HNSW_PAGE_DATA_KIND);
	if (off % 4 != 0 || off + sizeof(HnswElementHeader) > lower)
		vindex_report_corrupted(index, blkno,
								"An element is said to start at offset %u, but the page's elements end at %u.",
								off, (unsigned) lower);
	if (hnsw_slot_level(hdr) > shape->max_level)
		vindex_report_corrupted(index, blkno,
								"The element at offset %u has level %d (slot level %d); the index allows at most %d.",
								off, hdr->level, hdr->slot_level, shape->max_level);
	if (hdr->ntids > HNSW_HEAPTIDS)
		vindex_report_corrupted(index, blkno,
								"The element at offset %u has %d heap TIDs; at most %d fit.",
								off, hdr->ntids, HNSW_HEAPTIDS);
	if ((hdr->flags & ~HNSW_ELEMENT_FREE) != 0)
		vindex_report_corrupted(index, blkno,
								"The element at offset %u has unknown flags 0x%02X.",
								off, hdr->flags);
	vindex_report_corrupted(index, blkno,
							"The neighbour lists of the element at offset %u (level %d) end at %u, past the page's elements (%u).",
							off, hnsw_slot_level(hdr),
							(unsigned) (off + hnsw_prefix_size(shape->m, hnsw_slot_level(hdr))),
							(unsigned) lower);
}

void
hnsw_list_corrupted(Relation index, BlockNumber blkno, uint64 pos, int level, int count)
{
	vindex_report_corrupted(index, blkno,
							"The element at offset %u lists %d neighbours at level %d, more than the list holds.",
							HNSW_POS_OFFSET(pos), count, level);
}

uint64
hnsw_slot_pos_slow(Relation index, BlockNumber *nblocks, const HnswPtr *slot,
				   BlockNumber holder)
{
	BlockNumber blk = BlockIdGetBlockNumber(&slot->blk);

	if (slot->off >= HNSW_PAGE_DATA || slot->off % 4 != 0)
		vindex_report_corrupted(index, holder,
								"A neighbour list names offset %u of block %u, which cannot start an element.",
								(unsigned) slot->off, blk);
	*nblocks = RelationGetNumberOfBlocks(index);
	if (blk == 0 || blk >= *nblocks)
		vindex_report_corrupted(index, holder,
								"A neighbour list names block %u; the index's data blocks are 1 to %u.",
								blk, *nblocks - 1);
	return (uint64) (blk - 1) * HNSW_PAGE_DATA + slot->off;
}

/* Report XX002 unless the metapage's fields hold possible values. */
static void
check_meta(Relation index, Page page)
{
	const HnswMetaPageData *meta = hnsw_meta(page);
	const VindexElemType *elem = vindex_elem_type(index);
	VindexQuantization quant = meta_quant(page);
	uint64		first;
	int			max_level;

	if (meta->magic != HNSW_MAGIC || meta->version != HNSW_VERSION)
		vindex_report_corrupted(index, HNSW_METAPAGE_BLKNO,
								"The metapage has magic 0x%08X and version %u, not 0x%08X and %u.",
								meta->magic, meta->version, HNSW_MAGIC, HNSW_VERSION);
	if (meta->dims < 1 || meta->dims > elem->max_dims)
		vindex_report_corrupted(index, HNSW_METAPAGE_BLKNO,
								"The metapage says %u dimensions; %s indexes have 1 to %d.",
								meta->dims, elem->name, elem->max_dims);
	if (meta->m < HNSW_MIN_M || meta->m > HNSW_MAX_M ||
		meta->ef_construction < HNSW_MIN_EF_CONSTRUCTION ||
		meta->ef_construction > HNSW_MAX_EF_CONSTRUCTION)
		vindex_report_corrupted(index, HNSW_METAPAGE_BLKNO,
								"The metapage says m = %u and ef_construction = %u; the options allow m %d to %d and ef_construction %d to %d.",
								meta->m, meta->ef_construction, HNSW_MIN_M, HNSW_MAX_M,
								HNSW_MIN_EF_CONSTRUCTION, HNSW_MAX_EF_CONSTRUCTION);
	if (meta->metric < VECTOR_METRIC_L2 || meta->metric > VECTOR_METRIC_MAX ||
		!elem->supports((VectorMetric) meta->metric))
		vindex_report_corrupted(index, HNSW_METAPAGE_BLKNO,
								"The metapage names metric %u, which does not exist for type %s.",
								meta->metric, elem->name);
	max_level = hnsw_max_level(meta->m);
	if (meta->entry_level < -1 || meta->entry_level > max_level ||
		(meta->entry_level == -1) != (meta->entry == HNSW_INVALID_POS) ||
		(meta->entry != HNSW_INVALID_POS &&
		 (meta->entry % 4 != 0 || meta->entry >= meta->tail)))
		vindex_report_corrupted(index, HNSW_METAPAGE_BLKNO,
								"The metapage's entry point (position " UINT64_FORMAT ", level %d) is impossible with tail " UINT64_FORMAT " and at most %d levels.",
								meta->entry, meta->entry_level, meta->tail, max_level);
	if (meta->tail / HNSW_PAGE_DATA >= MaxBlockNumber)
		vindex_report_corrupted(index, HNSW_METAPAGE_BLKNO,
								"The metapage's tail " UINT64_FORMAT " lies beyond the largest relation.",
								meta->tail);
	if (quant != VINDEX_QUANT_NONE && quant != VINDEX_QUANT_SQ8 &&
		quant != VINDEX_QUANT_RABITQ)
		vindex_report_corrupted(index, HNSW_METAPAGE_BLKNO,
								"The metapage names quantization mode %u, which hnsw indexes do not store.",
								(unsigned) quant);
	first = hnsw_quant_first(quant, meta->dims);
	if (quant != VINDEX_QUANT_NONE &&
		(meta->quant_params_size != hnsw_quant_params_size(quant, meta->dims) ||
		 meta->quant_first != first))
		vindex_report_corrupted(index, HNSW_METAPAGE_BLKNO,
								"The metapage gives %u bytes of %s parameters and the first element at " UINT64_FORMAT "; %u dimensions take %zu bytes, the elements start at " UINT64_FORMAT ".",
								meta->quant_params_size, vindex_quantization_name(quant),
								meta->quant_first, meta->dims,
								hnsw_quant_params_size(quant, meta->dims), first);
	if (meta->tail < first ||
		(meta->entry != HNSW_INVALID_POS && meta->entry < first))
		vindex_report_corrupted(index, HNSW_METAPAGE_BLKNO,
								"The metapage's tail " UINT64_FORMAT " or entry point lies before the first element at " UINT64_FORMAT ".",
								meta->tail, first);
}

void
hnsw_read_meta(Relation index, HnswShape *shape, uint64 *entry, int *entry_level,
			   uint64 *tail)
{
	Buffer		buf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	Page		page;
	HnswMetaPageData *meta;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	hnsw_check_page(index, page, HNSW_METAPAGE_BLKNO, HNSW_PAGE_META);
	meta = hnsw_meta(page);
	check_meta(index, page);
	shape->quant = meta_quant(page);
	shape->dims = meta->dims;
	shape->m = meta->m;
	shape->ef_construction = meta->ef_construction;
	shape->metric = (VectorMetric) meta->metric;
	shape->elem = vindex_elem_type(index);
	hnsw_shape_elements(index, shape, false);
	shape->max_level = hnsw_max_level(meta->m);
	if (entry)
		*entry = meta->entry;
	if (entry_level)
		*entry_level = meta->entry_level;
	if (tail)
		*tail = meta->tail;
	UnlockReleaseBuffer(buf);
	/* the parameter pages never change once built: read after the lock */
	shape->qparams = NULL;
	if (shape->quant != VINDEX_QUANT_NONE)
		shape->qparams = hnsw_quant_read_params(index, shape);
}

void
hnsw_shape_elements(Relation index, HnswShape *shape, bool check)
{
	vindex_filter_layout(index, "hnsw", check, &shape->filters);
	shape->raw_size = shape->elem->stored_size(shape->dims);
	shape->vec_size = vindex_quant_code_size(shape->quant, shape->raw_size, shape->dims);
	shape->first = hnsw_quant_first(shape->quant, shape->dims);
	shape->elem_size = shape->vec_size;
	shape->varsize = shape->elem->value_size != NULL;
	if (shape->varsize && shape->filters.nfilters > 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("hnsw index \"%s\" on type %s cannot have filter columns",
						RelationGetRelationName(index), shape->elem->name),
				 errdetail("Filter columns are stored after fixed-size values only.")));
	if (shape->filters.nfilters > 0)
		shape->elem_size = HNSW_FILTER_OFFSET(shape) +
			vindex_filter_size(shape->filters.nfilters);
}

char *
hnsw_form_value(Relation index, const HnswShape *shape, Datum *values, bool *isnull,
				int *dims)
{
	char	   *x = vindex_elem_form(shape->elem, values[0], dims);
	char	   *out;

	if (*dims == shape->dims)
		vindex_elem_check_stored(index, shape->elem, x, *dims);
	if (*dims == shape->dims && shape->quant != VINDEX_QUANT_NONE)
	{
		char	   *raw = x;
		float	   *scratch;

		if (!vindex_elem_indexable(shape->elem, shape->metric, x, *dims))
			return NULL;
		if (shape->filters.nfilters > 0)
		{
			raw = palloc0(TYPEALIGN(4, shape->raw_size) +
						  vindex_filter_size(shape->filters.nfilters));
			memcpy(raw, x, shape->raw_size);
			vindex_filter_form(&shape->filters, values + 1, isnull + 1,
							   raw + TYPEALIGN(4, shape->raw_size));
		}
		out = palloc(shape->elem_size);
		scratch = palloc(sizeof(float) * shape->dims);
		hnsw_quant_encode(shape, raw, out, scratch);
		pfree(scratch);
		return out;
	}
	if (shape->filters.nfilters == 0 || *dims != shape->dims)
		return x;
	out = palloc0(shape->elem_size);
	memcpy(out, x, shape->vec_size);
	vindex_filter_form(&shape->filters, values + 1, isnull + 1,
					   out + HNSW_FILTER_OFFSET(shape));
	pfree(x);
	return out;
}

void
hnsw_form_element(const HnswShape *shape, char *buf, int level,
				  const ItemPointerData *tids, int ntids,
				  uint64 *const *nbrs, const int *counts, const char *vec)
{
	HnswElementHeader *hdr = (HnswElementHeader *) buf;
	Size		prefix = hnsw_prefix_size(shape->m, level);

	memset(buf, 0, prefix);
	hdr->level = level;
	hdr->ntids = ntids;
	memcpy(hdr->tids, tids, sizeof(ItemPointerData) * ntids);
	for (int l = 0; l <= level; l++)
	{
		char	   *list = buf + hnsw_list_offset(shape->m, l);
		HnswPtr    *slots = (HnswPtr *) (list + sizeof(uint16));
		int			n = nbrs && nbrs[l] ? counts[l] : 0;

		*(uint16 *) list = n;
		for (int i = 0; i < n; i++)
			hnsw_ptr_set(&slots[i], nbrs[l][i]);
	}
	if (shape->varsize)
	{
		Size		stored = hnsw_stored_size(shape, vec);

		/* the length word, then the value, zero-padded to 4 bytes */
		*(uint32 *) (buf + prefix) = (uint32) stored;
		memset(buf + prefix + stored, 0, 4);
		memcpy(buf + hnsw_value_offset(shape, level), vec,
			   shape->elem->value_size(vec));
	}
	else
		memcpy(buf + prefix, vec, shape->elem_size);
}

void
hnsw_extend_to(Relation index, BlockNumber last)
{
	if (last < RelationGetNumberOfBlocks(index))
		return;
	LockRelationForExtension(index, ExclusiveLock);
	while (last >= RelationGetNumberOfBlocks(index))
		ReleaseBuffer(ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, NULL));
	UnlockRelationForExtension(index, ExclusiveLock);
}

static Buffer
lock_data_block(Relation index, BlockNumber blkno)
{
	Buffer		buf = ReadBuffer(index, blkno);

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	return buf;
}

/*
 * Copy `len` bytes at in-page offset `off` of a registered page copy and
 * end the page's stream bytes there.  `element_start`: the bytes begin an
 * element (else they continue its vector).
 */
static void
write_page_bytes(Page page, uint32 off, const char *src, Size len, bool element_start)
{
	PageHeader	hdr = (PageHeader) page;

	if (PageIsNew(page))
		hnsw_init_data_page(page, off == 0 && element_start);
	memcpy(HNSW_PAGE_BYTES(page) + off, src, len);
	/* appends are serialised, so these are the page's last stream bytes */
	hdr->pd_lower = SizeOfPageHeaderData + off + len;
}

/*
 * Append a serialised element of `size` bytes to the stream: reserves the
 * space after the tail (extending the relation), writes the bytes and
 * advances the tail, WAL-logged so that the tail moves atomically with the
 * element's first page.  Returns the element's stream position.
 */
static uint64
append_element(Relation index, const HnswShape *shape, const char *buf,
			   Size size, int level)
{
	Buffer		metabuf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	HnswMetaPageData *meta;
	uint64		pos;
	BlockNumber first,
				last;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	meta = hnsw_meta(BufferGetPage(metabuf));
	/* a damaged tail must not make the relation grow without bound */
	check_meta(index, BufferGetPage(metabuf));
	if (HNSW_POS_BLOCK(meta->tail) > RelationGetNumberOfBlocks(index))
		vindex_report_corrupted(index, HNSW_METAPAGE_BLKNO,
								"The metapage's tail " UINT64_FORMAT " lies beyond the index's %u blocks.",
								meta->tail, RelationGetNumberOfBlocks(index));
	pos = hnsw_place(shape, meta->tail, level, size);
	first = HNSW_POS_BLOCK(pos);
	last = HNSW_POS_BLOCK(pos + size - 1);
	hnsw_extend_to(index, last);

	/*
	 * Write the pages after the first in groups, last group first: they lie
	 * beyond the tail until the final record, so a crash in between leaves
	 * only unreferenced bytes that the next append overwrites.  The final
	 * record holds the metapage and up to two data pages, so the tail moves
	 * atomically with the element's header.
	 */
	while (last > first + 1)
	{
		BlockNumber lo = Max(first + 2, last >= 3 ? last - 3 : 0);
		GenericXLogState *state = GenericXLogStart(index);
		Buffer		bufs[4];

		for (BlockNumber b = lo; b <= last; b++)
		{
			uint64		start = (uint64) (b - 1) * HNSW_PAGE_DATA;
			uint64		from = Max(start, pos);
			uint64		to = Min(start + HNSW_PAGE_DATA, pos + size);
			Page		page;

			bufs[b - lo] = lock_data_block(index, b);
			page = GenericXLogRegisterBuffer(state, bufs[b - lo], GENERIC_XLOG_FULL_IMAGE);
			write_page_bytes(page, from - start, buf + (from - pos), to - from, false);
		}
		GenericXLogFinish(state);
		for (BlockNumber b = lo; b <= last; b++)
			UnlockReleaseBuffer(bufs[b - lo]);
		last = lo - 1;
	}

	{
		GenericXLogState *state = GenericXLogStart(index);
		Buffer		bufs[2];
		HnswMetaPageData *wmeta;

		wmeta = hnsw_meta(GenericXLogRegisterBuffer(state, metabuf, 0));
		for (BlockNumber b = first; b <= last; b++)
		{
			uint64		start = (uint64) (b - 1) * HNSW_PAGE_DATA;
			uint64		from = Max(start, pos);
			uint64		to = Min(start + HNSW_PAGE_DATA, pos + size);
			bool		fresh;
			Page		page;

			bufs[b - first] = lock_data_block(index, b);
			fresh = PageIsNew(BufferGetPage(bufs[b - first]));
			page = GenericXLogRegisterBuffer(state, bufs[b - first],
											 fresh ? GENERIC_XLOG_FULL_IMAGE : 0);
			write_page_bytes(page, from - start, buf + (from - pos), to - from, from == pos);
		}
		wmeta->tail = pos + size;
		GenericXLogFinish(state);
		for (BlockNumber b = first; b <= last; b++)
			UnlockReleaseBuffer(bufs[b - first]);
	}
	UnlockReleaseBuffer(metabuf);
	return pos;
}

uint32
hnsw_page_free_slots(Relation index, const HnswShape *shape, Page page,
					 BlockNumber blkno, Size want, Size *largest)
{
	const HnswPageOpaqueData *opaque =
		(const HnswPageOpaqueData *) ((char *) page + HNSW_SPECIAL_OFFSET);
	uint32		fit = UINT32_MAX;
	Size		fit_bytes = 0;
	uint32		top_off = UINT32_MAX;
	Size		top = 0,
				second = 0;

	*largest = 0;
	if (hnsw_filterdir_is_page(page))
		return UINT32_MAX;		/* a stale free space map may name one */
	hnsw_check_page(index, page, blkno, HNSW_PAGE_DATA_KIND);
	if ((opaque->flags & HNSW_PAGE_ELEMENT_START) == 0)
		return UINT32_MAX;
	for (uint32 off = 0; SizeOfPageHeaderData + off < ((PageHeader) page)->pd_lower;)
	{
		HnswElementHeader *hdr = hnsw_page_element(index, shape, page, blkno, off);
		Size		bytes = hnsw_slot_bytes(shape, hdr);

		if (off + bytes > HNSW_PAGE_DATA)
			break;				/* continues on the next page: never reused */
		if (hdr->flags & HNSW_ELEMENT_FREE)
		{
			if (want > 0 && bytes >= want && (fit == UINT32_MAX || bytes < fit_bytes))
			{
				fit = off;
				fit_bytes = bytes;
			}
			if (bytes > top)
			{
				second = top;
				top = bytes;
				top_off = off;
			}
			else
				second = Max(second, bytes);
		}
		off = TYPEALIGN(4, off + bytes);
	}
	/* the largest slot once `fit` is taken */
	*largest = fit == top_off ? second : top;
	return fit;
}

/*
 * Put a serialised element of `size` bytes into a free slot of at least
 * that size on a page the free space map offers, WAL-logged.  Returns its
 * position, or HNSW_INVALID_POS when no page had one (three tries).
 */
static uint64
reuse_slot(Relation index, const HnswShape *shape, const char *buf, Size size)
{
	if (size > HNSW_PAGE_DATA)
		return HNSW_INVALID_POS;	/* elements that span pages only append */
	for (int attempt = 0; attempt < 3; attempt++)
	{
		/* rounded down (see HNSW_FSM_STEP); a page a few bytes short is re-recorded */
		BlockNumber blkno = GetPageWithFreeSpace(index, TYPEALIGN_DOWN(HNSW_FSM_STEP, size));
		Buffer		page_buf;
		uint32		off;
		Size		largest;

		/* a stale map may name the metapage or blocks past the end */
		if (blkno == InvalidBlockNumber || blkno == HNSW_METAPAGE_BLKNO ||
			blkno >= RelationGetNumberOfBlocks(index))
			return HNSW_INVALID_POS;
		page_buf = ReadBuffer(index, blkno);
		LockBuffer(page_buf, BUFFER_LOCK_EXCLUSIVE);
		off = hnsw_page_free_slots(index, shape, BufferGetPage(page_buf), blkno, size,
								   &largest);
		if (off != UINT32_MAX)
		{
			GenericXLogState *state = GenericXLogStart(index);
			Page		page = GenericXLogRegisterBuffer(state, page_buf, 0);
			HnswElementHeader *hdr = (HnswElementHeader *) (HNSW_PAGE_BYTES(page) + off);
			int			slot_level = hnsw_slot_level(hdr);
			Size		slot = hnsw_slot_bytes(shape, hdr);

			memcpy(hdr, buf, size);
			if (shape->varsize)
			{
				/*
				 * The length word keeps the whole slot, from this element's
				 * value on; slot_level stays 0 (the lists end at `level`)
				 */
				*(uint32 *) ((char *) hdr + hnsw_prefix_size(shape->m, hdr->level)) =
					(uint32) (slot - hnsw_value_offset(shape, hdr->level));
				hdr->slot_level = 0;
			}
			else
				hdr->slot_level = slot_level;
			GenericXLogFinish(state);
		}
		UnlockReleaseBuffer(page_buf);
		RecordPageWithFreeSpace(index, blkno, largest);
		if (off != UINT32_MAX)
			return (uint64) (blkno - 1) * HNSW_PAGE_DATA + off;
	}
	return HNSW_INVALID_POS;
}

uint64
hnsw_store_element(Relation index, const HnswShape *shape, const char *buf,
				   Size size, int level)
{
	uint64		pos = reuse_slot(index, shape, buf, size);

	if (pos == HNSW_INVALID_POS)
		pos = append_element(index, shape, buf, size, level);
	return pos;
}

void
hnsw_set_entry(Relation index, uint64 entry, int level, bool only_if_higher)
{
	Buffer		metabuf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	HnswMetaPageData *meta;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	meta = hnsw_meta(BufferGetPage(metabuf));
	if (!only_if_higher || level > meta->entry_level)
	{
		GenericXLogState *state = GenericXLogStart(index);

		meta = hnsw_meta(GenericXLogRegisterBuffer(state, metabuf, 0));
		meta->entry = entry;
		meta->entry_level = level;
		GenericXLogFinish(state);
	}
	UnlockReleaseBuffer(metabuf);
}

/* Pin block blkno, reporting XX002 when it does not exist (see hnsw_slot_pos). */
static Buffer
read_block(Relation index, BlockNumber *nblocks, BlockNumber blkno, BlockNumber named_by)
{
	if (blkno >= *nblocks)
	{
		*nblocks = RelationGetNumberOfBlocks(index);
		if (blkno >= *nblocks)
			vindex_report_corrupted(index, named_by,
									"Stream bytes would lie in block %u; the index has %u blocks.",
									blkno, *nblocks);
	}
	return ReadBuffer(index, blkno);
}

void
hnsw_read_stream(Relation index, BlockNumber *nblocks, Buffer pinned, uint64 pos,
				 char *dst, Size len)
{
	BlockNumber first = HNSW_POS_BLOCK(pos);

	while (len > 0)
	{
		uint32		off = HNSW_POS_OFFSET(pos);
		Size		n = Min(len, HNSW_PAGE_DATA - off);
		BlockNumber blkno = HNSW_POS_BLOCK(pos);
		Buffer		buf = BufferIsValid(pinned) ? pinned :
			read_block(index, nblocks, blkno, first);
		Page		page;

		pinned = InvalidBuffer;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (!hnsw_data_page_ok(page) ||
			SizeOfPageHeaderData + off + n > ((PageHeader) page)->pd_lower)
		{
			hnsw_check_page(index, page, blkno, HNSW_PAGE_DATA_KIND);
			vindex_report_corrupted(index, blkno,
									"A vector continues over bytes %u to %u of the page, past its end (pd_lower %u).",
									off, (unsigned) (off + n),
									(unsigned) ((PageHeader) page)->pd_lower);
		}
		memcpy(dst, HNSW_PAGE_BYTES(page) + off, n);
		UnlockReleaseBuffer(buf);
		dst += n;
		pos += n;
		len -= n;
	}
}

uint64
hnsw_walk(Relation index, const HnswShape *shape, uint64 from, uint64 until,
		  bool exclusive, HnswWalkFn fn, void *arg)
{
	/* a quantized index's parameter pages come first: no elements there */
	uint64		next = Max(from, shape->first);
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	bool		stop = false;

	if (until > 0 && HNSW_POS_BLOCK(until - 1) >= nblocks)
		vindex_report_corrupted(index, HNSW_METAPAGE_BLKNO,
								"The element stream ends at " UINT64_FORMAT ", in block %u, but the index has %u blocks.",
								until, HNSW_POS_BLOCK(until - 1), nblocks);
	while (next < until && !stop)
	{
		BlockNumber blkno = HNSW_POS_BLOCK(next);
		Buffer		buf = ReadBuffer(index, blkno);
		GenericXLogState *state = NULL;
		Page		page;
		bool		modified = false;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, exclusive ? BUFFER_LOCK_EXCLUSIVE : BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (hnsw_filterdir_is_page(page))
		{
			/* no element spans a directory page: go on at the next block */
			UnlockReleaseBuffer(buf);
			next = (uint64) blkno * HNSW_PAGE_DATA;
			continue;
		}
		hnsw_check_page(index, page, blkno, HNSW_PAGE_DATA_KIND);
		if (exclusive)
		{
			state = GenericXLogStart(index);
			page = GenericXLogRegisterBuffer(state, buf, 0);
		}
		while (next < until && HNSW_POS_BLOCK(next) == blkno)
		{
			uint32		off = HNSW_POS_OFFSET(next);
			HnswElementHeader *hdr;
			HnswWalkAction action;

			if (SizeOfPageHeaderData + off >= ((PageHeader) page)->pd_lower)
			{
				/* the rest of this page was too short for the next element */
				next = (uint64) blkno * HNSW_PAGE_DATA;
				break;
			}
			hdr = hnsw_page_element(index, shape, page, blkno, off);
			action = fn(arg, page, next, hdr);
			if (action == HNSW_WALK_STOP)
			{
				stop = true;
				break;
			}
			modified |= action == HNSW_WALK_CHANGED;
			next = TYPEALIGN(4, next + hnsw_slot_bytes(shape, hdr));
		}
		if (state && modified)
			GenericXLogFinish(state);
		else if (state)
			GenericXLogAbort(state);
		UnlockReleaseBuffer(buf);
	}
	return next;
}
