/*-------------------------------------------------------------------------
 *
 * bytes_table.h
 *	  A simplehash.h table keyed by a run of bytes that need not be
 *	  NUL-terminated, so that a token inside a longer text is looked up in
 *	  place, without a copy.  Used for the TF-IDF vocabulary
 *	  (src/text/tfidf.c) and the WordPiece vocabulary
 *	  (src/embed/tokenizer.c).
 *
 * Usage: define SH_PREFIX and SH_ELEMENT_TYPE, an element struct with the
 * fields
 *
 *	  BytesKey	key;		the bytes (text.h; the table does not own them)
 *	  uint32	hash;		hash_bytes() of them, compared before the bytes
 *	  char		status;		simplehash's own
 *
 * then include this file.  It instantiates the table (static inline
 * functions PREFIX_create, PREFIX_insert, PREFIX_lookup, ...) and undefines
 * the SH_ macros, as simplehash.h does, so it can be included again for
 * another table.
 *
 *-------------------------------------------------------------------------
 */
#include "common/hashfn.h"
#include "text/text.h"

#define SH_KEY_TYPE BytesKey
#define SH_KEY key
#define SH_HASH_KEY(tb, k) hash_bytes((const unsigned char *) (k).str, (k).len)
#define SH_EQUAL(tb, a, b) ((a).len == (b).len && memcmp((a).str, (b).str, (a).len) == 0)
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) ((a)->hash)
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"
