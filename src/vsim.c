/*-------------------------------------------------------------------------
 *
 * vsim.c
 *	  Module entry point: the magic block and _PG_init, which lets each
 *	  subsystem register its settings.  Nothing here touches ONNX Runtime
 *	  or any other optional library.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "embed/embed.h"
#include "fmgr.h"
#include "hnsw/hnsw.h"
#include "ivf/ivf.h"
#include "vector/vector.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	vector_init();
	hnsw_init();
	ivf_init();
	embed_init();
}
