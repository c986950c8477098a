/*-------------------------------------------------------------------------
 *
 * ivf_page.c
 *	  ivfflat pages: the cached metapage, initialising directory and list
 *	  pages, extending the relation.
 *
 * See ivf.h for the layout.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "ivf/ivf.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

const IvfMetaPageData *
ivf_get_meta(Relation index)
{
	if (index->rd_amcache == NULL)
	{
		Buffer		buf = ReadBuffer(index, IVF_METAPAGE_BLKNO);
		IvfMetaPageData *meta;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		meta = IvfPageGetMeta(BufferGetPage(buf));
		if (meta->magic != IVF_MAGIC || meta->version != IVF_VERSION)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("index \"%s\" is not a valid ivfflat index",
							RelationGetRelationName(index)),
					 errdetail("Metapage magic %08x, version %u.",
							   meta->magic, meta->version),
					 errhint("REINDEX the index.")));
		index->rd_amcache = MemoryContextAlloc(index->rd_indexcxt,
											   sizeof(IvfMetaPageData));
		memcpy(index->rd_amcache, meta, sizeof(IvfMetaPageData));
		UnlockReleaseBuffer(buf);
	}
	return (const IvfMetaPageData *) index->rd_amcache;
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
