/*-------------------------------------------------------------------------
 *
 * hashing.c
 *	  Signed feature hashing ("the hashing trick", Weinberger et al.,
 *	  "Feature Hashing for Large Scale Multitask Learning", ICML 2009) with
 *	  MurmurHash3, giving the vectors scikit-learn's FeatureHasher and
 *	  HashingVectorizer give: vsim.hash_vector(text[], dims) and
 *	  vsim.hash_vector(text, dims).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "text/text.h"
#include "utils/array.h"
#include "vector/vector.h"

#if PG_VERSION_NUM < 150000
#define pg_rotate_left32(word, n) (((word) << (n)) | ((word) >> (32 - (n))))
#endif

/* The scrambling of one 4-byte block (or the tail) in MurmurHash3_x86_32. */
static inline uint32
murmur_scramble(uint32 k)
{
	k *= 0xcc9e2d51;
	k = pg_rotate_left32(k, 15);
	return k * 0x1b873593;
}

/*
 * murmurhash3_32: MurmurHash3_x86_32 of `len` bytes with seed 0, written
 * from the algorithm Austin Appleby published with MurmurHash3 (public
 * domain, 2011), as described in "MurmurHash", Wikipedia: each 4-byte
 * little-endian block is scrambled and mixed in with h = rotl(h ^ k, 13) *
 * 5 + 0xe6546b64; the 1 to 3 bytes left (little-endian) are scrambled and
 * xor-ed in; then h ^= len and the 32-bit finalizer, which is PostgreSQL's
 * murmurhash32().  Equal to scikit-learn's murmurhash3_32(key, seed=0)
 * read as unsigned.
 */
static uint32
murmurhash3_32(const unsigned char *data, int len)
{
	uint32		h = 0;
	uint32		k = 0;
	int			blocks = len / 4;

	for (int i = 0; i < blocks; i++)
	{
		const unsigned char *b = data + 4 * i;

		k = b[0] | (uint32) b[1] << 8 | (uint32) b[2] << 16 | (uint32) b[3] << 24;
		h = pg_rotate_left32(h ^ murmur_scramble(k), 13) * 5 + 0xe6546b64;
	}
	k = 0;
	for (int i = len - 1; i >= 4 * blocks; i--)
		k = k << 8 | data[i];
	if (len % 4 != 0)
		h ^= murmur_scramble(k);
	return murmurhash32(h ^ (uint32) len);
}

/*
 * Add the signed feature of one token (`len` bytes of UTF-8) to the `dims`
 * floats at x, as FeatureHasher(input_type='string', alternate_sign=True)
 * does: with h the hash read as a signed 32-bit integer, x[|h| mod dims] +=
 * 1 when h >= 0, -1 otherwise; |INT_MIN| is 2^31.  A TextTokenCallback
 * whose argument is a Vector.
 */
static void
hash_add(const char *token, int len, void *arg)
{
	Vector	   *v = (Vector *) arg;
	int32		h = (int32) murmurhash3_32((const unsigned char *) token, len);
	uint32		magnitude = h < 0 ? (uint32) 0 - (uint32) h : (uint32) h;

	v->x[magnitude % v->dim] += h < 0 ? -1.0f : 1.0f;
}

/* The zero vector of argument 1 (dims) elements; raises as text_check_dims. */
static Vector *
new_hash_vector(FunctionCallInfo fcinfo)
{
	int32		dims = PG_GETARG_INT32(1);

	text_check_dims(dims, "dims");
	return new_vector(dims);
}

/*
 * vsim.hash_vector(tokens text[], dims integer) RETURNS vector(dims): the
 * sum of the signed features of the tokens (each as its UTF-8 bytes), so
 * a repeated token counts as often as it occurs; equal to
 * FeatureHasher(n_features=dims, input_type='string').transform([tokens]).
 * Raises 22023 / 54000 for dims outside 1 .. 16000 (text_check_dims),
 * 2202E for an array of more than one dimension, 22004 for a NULL element.
 */
PG_FUNCTION_INFO_V1(vsim_hash_vector_tokens);
Datum
vsim_hash_vector_tokens(PG_FUNCTION_ARGS)
{
	ArrayType  *tokens = PG_GETARG_ARRAYTYPE_P(0);
	Vector	   *v = new_hash_vector(fcinfo);
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (ARR_NDIM(tokens) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("array of tokens must be one-dimensional")));
	if (array_contains_nulls(tokens))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("array of tokens must not contain nulls")));
	deconstruct_array(tokens, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		int			len;
		const char *utf8 = text_to_utf8(DatumGetTextPP(elems[i]), &len);

		CHECK_FOR_INTERRUPTS();
		hash_add(utf8, len, v);
	}
	PG_RETURN_VECTOR_P(v);
}

/*
 * vsim.hash_vector(document text, dims integer) RETURNS vector(dims): the
 * same over the tokens of the text (text_tokenize), equal to
 * HashingVectorizer(n_features=dims, norm=None).transform([document]).
 * Raises 22023 / 54000 for dims outside 1 .. 16000.
 */
PG_FUNCTION_INFO_V1(vsim_hash_vector_text);
Datum
vsim_hash_vector_text(PG_FUNCTION_ARGS)
{
	text	   *doc = PG_GETARG_TEXT_PP(0);
	Vector	   *v = new_hash_vector(fcinfo);
	int			len;
	const char *utf8 = text_to_utf8(doc, &len);

	text_tokenize(utf8, len, hash_add, v);
	PG_RETURN_VECTOR_P(v);
}
