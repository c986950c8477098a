/*-------------------------------------------------------------------------
 *
 * ivf_page.c
 *	  ivfflat pages: the cached metapage, checking the metapage and the
 *	  other pages as they are read, initialising directory and list pages,
 *	  extending the relation.
 *
 * See ivf.h for the layout.  The checks are what makes a damaged index an
 * error rather than a crash: every reader runs them on a page before it
 * reads an item (ivf_read.c for the directory and the chains, ivf_scan.c,
 * ivf_insert.c), so they are cheap, one pass over the line pointers.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "index/index.h"
#include "ivf/ivf.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "port/pg_crc32c.h"
#include "utils/rel.h"

int
ivf_max_dims(const VindexElemType *elem)
{
	int			lo = 1,
				hi = elem->max_dims;

	/* the largest dims whose stored element fits: stored_size grows with dims */
	while (lo < hi)
	{
		int			mid = lo + (hi - lo + 1) / 2;

		if (elem->stored_size(mid) <= IVF_MAX_ELEM_BYTES)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

void
ivf_copy_meta(Page page, IvfMetaPageData *out)
{
	const IvfMetaPageData *meta = IvfPageGetMeta(page);

	memset(out, 0, sizeof(IvfMetaPageData));
	memcpy(out, meta, meta->version == IVF_VERSION_QUANT ?
		   sizeof(IvfMetaPageData) : IVF_META_V1_SIZE);
}

/*
 * What rd_amcache holds: the metapage and, for a quantized index, the
 * parameter blob after it, in one allocation (a relcache invalidation
 * frees rd_amcache with one pfree).
 */
typedef struct IvfMetaCache
{
	IvfMetaPageData meta;		/* first: ivf_get_meta returns it */
	char		params[FLEXIBLE_ARRAY_MEMBER];
} IvfMetaCache;

const IvfMetaPageData *
ivf_get_meta(Relation index)
{
	if (index->rd_amcache == NULL)
	{
		Buffer		buf = ReadBuffer(index, IVF_METAPAGE_BLKNO);
		IvfMetaPageData meta;
		IvfMetaCache *cache;
		void	   *params;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		ivf_verify_meta(index, BufferGetPage(buf));
		ivf_copy_meta(BufferGetPage(buf), &meta);
		UnlockReleaseBuffer(buf);
		params = ivf_read_params(index, &meta);
		cache = MemoryContextAlloc(index->rd_indexcxt,
								   offsetof(IvfMetaCache, params) + meta.params_size);
		cache->meta = meta;
		if (params != NULL)
		{
			memcpy(cache->params, params, meta.params_size);
			pfree(params);
		}
		index->rd_amcache = cache;
	}
	return (const IvfMetaPageData *) index->rd_amcache;
}

const void *
ivf_get_params(Relation index)
{
	const IvfMetaPageData *meta = ivf_get_meta(index);

	if (meta->quantization == IVF_QUANT_NONE)
		return NULL;
	return ((const IvfMetaCache *) index->rd_amcache)->params;
}

void
ivf_verify_meta(Relation index, Page page)
{
	IvfMetaPageData metadata;
	const IvfMetaPageData *meta = &metadata;
	int			coldims = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;
	const VindexElemType *elem = vindex_elem_type(index);
	int			max_dims = ivf_max_dims(elem);

	ivf_copy_meta(page, &metadata);
	if (PageIsNew(page) || meta->magic != IVF_MAGIC ||
		(meta->version != IVF_VERSION && meta->version != IVF_VERSION_QUANT))
		vindex_report_corrupted(index, IVF_METAPAGE_BLKNO,
								"The metapage has magic %08x and version %u, not those of an ivfflat index (%08x, %u or %u).",
								meta->magic, meta->version, IVF_MAGIC, IVF_VERSION,
								IVF_VERSION_QUANT);
	if (meta->dims < 1 || meta->dims > max_dims || meta->dims != coldims)
		vindex_report_corrupted(index, IVF_METAPAGE_BLKNO,
								"The metapage gives %d dimensions; the indexed column has %d (at most %d).",
								meta->dims, coldims, max_dims);
	if (meta->nlists < 1 || meta->nlists > IVF_MAX_LISTS ||
		meta->ndirpages != IVF_DIR_PAGES(meta->nlists, elem->stored_size(meta->dims)))
		vindex_report_corrupted(index, IVF_METAPAGE_BLKNO,
								"The metapage gives %d lists on %d directory pages; %d lists of %d dimensions take %d (and at most %d lists are allowed).",
								meta->nlists, meta->ndirpages, meta->nlists, meta->dims,
								meta->nlists >= 1 ? IVF_DIR_PAGES(meta->nlists, elem->stored_size(meta->dims)) : 0,
								IVF_MAX_LISTS);
	if (meta->metric != vector_index_metric(index, 1))
		vindex_report_corrupted(index, IVF_METAPAGE_BLKNO,
								"The metapage gives metric %d; the operator class has %d.",
								meta->metric, (int) vector_index_metric(index, 1));
	if (meta->version == IVF_VERSION_QUANT)
	{
		IvfQuantization q = (IvfQuantization) meta->quantization;
		Size		psize;

		if (q != IVF_QUANT_SQ8 && q != IVF_QUANT_RABITQ)
			vindex_report_corrupted(index, IVF_METAPAGE_BLKNO,
									"The metapage of a quantized index gives quantization %d.",
									meta->quantization);
		if (elem == &vindex_elem_bit ||
			(q == IVF_QUANT_RABITQ && meta->metric != VECTOR_METRIC_L2 &&
			 meta->metric != VECTOR_METRIC_IP && meta->metric != VECTOR_METRIC_COSINE))
			vindex_report_corrupted(index, IVF_METAPAGE_BLKNO,
									"The metapage gives quantization %s, which type %s under metric %d cannot have.",
									ivf_quantization_name(q), elem->name, meta->metric);
		psize = ivf_params_size(q, meta->dims);
		if (meta->code_size != (int32) ivf_code_size(q, elem, meta->dims) ||
			meta->params_size != psize ||
			meta->nparampages != (int32) ((psize + IVF_PARAM_CHUNK - 1) / IVF_PARAM_CHUNK) ||
			meta->unused != 0)
			vindex_report_corrupted(index, IVF_METAPAGE_BLKNO,
									"The metapage gives codes of %d bytes and parameters of %u bytes on %d pages; quantization %s of %d dimensions has %d, %u and %d.",
									meta->code_size, meta->params_size, meta->nparampages,
									ivf_quantization_name(q), meta->dims,
									(int) ivf_code_size(q, elem, meta->dims), (unsigned) psize,
									(int) ((psize + IVF_PARAM_CHUNK - 1) / IVF_PARAM_CHUNK));
	}
}

void *
ivf_read_params(Relation index, const IvfMetaPageData *meta)
{
	char	   *blob;
	Size		done = 0;
	BlockNumber first = IVF_FIRST_DIR_BLKNO + meta->ndirpages;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	pg_crc32c	crc;

	if (meta->quantization == IVF_QUANT_NONE)
		return NULL;
	if (first + meta->nparampages > nblocks)
		vindex_report_corrupted(index, IVF_METAPAGE_BLKNO,
								"The metapage gives %d parameter pages from block %u; the index has %u blocks.",
								meta->nparampages, first, nblocks);
	blob = palloc(meta->params_size);
	for (int i = 0; i < meta->nparampages; i++)
	{
		BlockNumber blkno = first + i;
		Size		chunk = Min((Size) IVF_PARAM_CHUNK, meta->params_size - done);
		Buffer		buf = ReadBuffer(index, blkno);
		Page		page;
		BlockNumber next;
		BlockNumber want_next = i + 1 < meta->nparampages ? blkno + 1 : InvalidBlockNumber;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		ivf_verify_page(index, blkno, page, IVF_PAGE_PARAMS, chunk);
		next = IvfPageGetOpaque(page)->nextblkno;
		if (PageGetMaxOffsetNumber(page) != 1 || next != want_next)
			vindex_report_corrupted(index, blkno,
									"Parameter page %d of %d holds %u items and links to block %u; it should hold 1 and link to %u.",
									i + 1, meta->nparampages,
									(unsigned) PageGetMaxOffsetNumber(page), next, want_next);
		memcpy(blob + done, PageGetItem(page, PageGetItemId(page, FirstOffsetNumber)), chunk);
		UnlockReleaseBuffer(buf);
		done += chunk;
	}
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, blob, meta->params_size);
	FIN_CRC32C(crc);
	if (crc != meta->params_crc)
		vindex_report_corrupted(index, first,
								"The quantization parameters have CRC-32C %08x; the metapage gives %08x.",
								crc, meta->params_crc);
	if (meta->quantization == IVF_QUANT_SQ8)
	{
		Sq8Params  *p = (Sq8Params *) blob;
		bool		ok = p->dim == meta->dims && p->unused == 0;

		for (int i = 0; ok && i < p->dim; i++)
			ok = isfinite(p->lo[i]) && isfinite(SQ8_STEP(p)[i]) && SQ8_STEP(p)[i] >= 0;
		if (!ok)
			vindex_report_corrupted(index, first,
									"The sq8 parameters give %d dimensions (the index has %d) or a range that is not finite.",
									p->dim, meta->dims);
	}
	else
	{
		RabitqRotation *rot = (RabitqRotation *) blob;

		if (rot->dim != meta->dims || rot->pdim != RABITQ_PADDED_DIM(meta->dims) ||
			rot->rounds != RABITQ_ROUNDS || rot->unused != 0)
			vindex_report_corrupted(index, first,
									"The RaBitQ rotation gives %d dimensions padded to %d in %d rounds; the index has %d dimensions (padded to %d, %d rounds).",
									rot->dim, rot->pdim, rot->rounds, meta->dims,
									RABITQ_PADDED_DIM(meta->dims), RABITQ_ROUNDS);
	}
	return blob;
}

void
ivf_verify_page(Relation index, BlockNumber blkno, Page page, uint16 kind, Size itemsz)
{
	PageHeader	hdr = (PageHeader) page;
	IvfPageOpaque opaque = IvfPageGetOpaque(page);
	OffsetNumber maxoff;

	if (PageIsNew(page) || PageGetPageSize(page) != BLCKSZ ||
		hdr->pd_special != IVF_SPECIAL_OFFSET ||
		hdr->pd_lower < SizeOfPageHeaderData || hdr->pd_lower > hdr->pd_upper ||
		hdr->pd_upper > hdr->pd_special ||
		(hdr->pd_lower - SizeOfPageHeaderData) % sizeof(ItemIdData) != 0)
		vindex_report_corrupted(index, blkno,
								"The page header is invalid: lower %u, upper %u, special %u, size %u.",
								hdr->pd_lower, hdr->pd_upper, hdr->pd_special,
								(unsigned) PageGetPageSize(page));
	if (opaque->page_id != IVF_PAGE_ID || opaque->flags != kind)
		vindex_report_corrupted(index, blkno,
								"The page has page id %04x and flags %04x; an ivfflat %s page has %04x and %04x.",
								opaque->page_id, opaque->flags,
								kind == IVF_PAGE_LIST ? "list" : "directory",
								IVF_PAGE_ID, kind);
	maxoff = PageGetMaxOffsetNumber(page);
	for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
	{
		ItemId		iid = PageGetItemId(page, off);
		unsigned	start = ItemIdGetOffset(iid);

		if (!ItemIdIsNormal(iid) || ItemIdGetLength(iid) != itemsz ||
			start < hdr->pd_upper || start + itemsz > hdr->pd_special ||
			start != MAXALIGN(start))
			vindex_report_corrupted(index, blkno,
									"Item %u has flags %u, offset %u and length %u; items of this index are %u bytes between bytes %u and %u.",
									off, ItemIdGetFlags(iid), start, ItemIdGetLength(iid),
									(unsigned) itemsz, hdr->pd_upper, hdr->pd_special);
	}
}

void
ivf_init_page(Page page, uint16 flags)
{
	IvfPageOpaque opaque;

	PageInit(page, BLCKSZ, sizeof(IvfPageOpaqueData));
	opaque = IvfPageGetOpaque(page);
	opaque->nextblkno = InvalidBlockNumber;
	opaque->flags = flags;
	opaque->page_id = IVF_PAGE_ID;
}

Buffer
ivf_new_buffer(Relation index, ForkNumber forknum)
{
	Buffer		buf;

	LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBufferExtended(index, forknum, P_NEW, RBM_NORMAL, NULL);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	UnlockRelationForExtension(index, ExclusiveLock);
	return buf;
}
