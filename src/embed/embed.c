/*-------------------------------------------------------------------------
 *
 * embed.c
 *	  The embedding subsystem's settings, its per-backend cache of loaded
 *	  models, and the SQL functions vsim.embed, vsim.embed_output,
 *	  vsim.tokenize and vsim.onnxruntime_version.
 *
 * A backend loads a model (ORT session plus tokenizer) at its first use
 * and keeps it until the model is dropped or registered again, which it
 * learns from the relcache invalidation that vsim.create_model and
 * vsim.drop_model send for vsim.model_registry; or until the model file's
 * size or modification time changes, when it loads it again and so
 * re-checks the SHA-256 recorded at registration.  A changed file is an
 * error, never silently different vectors.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <sys/stat.h>

#include "catalog/pg_type.h"
#include "embed/embed.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "vector/vector.h"

PG_FUNCTION_INFO_V1(vsim_embed_text);
PG_FUNCTION_INFO_V1(vsim_embed_texts);
PG_FUNCTION_INFO_V1(vsim_embed_tensor);
PG_FUNCTION_INFO_V1(vsim_embed_output_tensor);
PG_FUNCTION_INFO_V1(vsim_embed_output_text);
PG_FUNCTION_INFO_V1(vsim_tokenize);
PG_FUNCTION_INFO_V1(vsim_onnxruntime_version);

char	   *embed_onnxruntime_library = NULL;
char	   *embed_model_directory = NULL;
int			embed_intra_op_threads = 1;
int			embed_batch_size = 32;

/* Size, modification time and inode of a file when its model was loaded. */
typedef struct FileStamp
{
	off_t		size;
	time_t		mtime;
	ino_t		ino;
} FileStamp;

/* A model loaded in this backend (entry of model_cache, keyed by name). */
typedef struct LoadedModel
{
	char		name[NAMEDATALEN];
	MemoryContext cxt;			/* holds everything below; NULL = unloaded */
	bool		stale;			/* registry changed: re-check def->id */
	Oid			registry;		/* vsim.model_registry def->id is from */
	EmbedModelDef *def;
	EmbedSession *session;
	EmbedTokenizer *tok;
	int			threads;
	FileStamp	model_stamp;
	FileStamp	tok_stamp;
} LoadedModel;

static HTAB *model_cache;

/* ---------------------------------------------------------------------
 * Settings
 * ---------------------------------------------------------------------
 */
void
embed_init(void)
{
	DefineCustomStringVariable("vsim.onnxruntime_library",
							   "Path of the ONNX Runtime library that vsim.embed loads.",
							   "A leading $libdir stands for PostgreSQL's package library directory; "
							   "the default is where vsim's \"make install\" puts the library.",
							   &embed_onnxruntime_library,
							   "$libdir/vsim/libonnxruntime.so.1",
							   PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("vsim.model_directory",
							   "Directory from which vsim.create_model reads model and tokenizer files.",
							   "Paths outside it, with \"..\", or through symbolic links leading out of it are refused.",
							   &embed_model_directory,
							   "",
							   PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("vsim.intra_op_threads",
							"Threads ONNX Runtime uses inside one inference.",
							"Applies to models loaded after the change.",
							&embed_intra_op_threads,
							1, 1, 64,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("vsim.embed_batch_size",
							"Texts per inference in vsim.embed(model, text[]).",
							NULL,
							&embed_batch_size,
							32, 1, 1024,
							PGC_USERSET, 0, NULL, NULL, NULL);
}

/* ---------------------------------------------------------------------
 * Model cache
 * ---------------------------------------------------------------------
 */
static void
unload_model(LoadedModel *m)
{
	if (m->cxt == NULL)
		return;
	embed_ort_close(m->session);
	MemoryContextDelete(m->cxt);
	m->cxt = NULL;
	m->def = NULL;
	m->session = NULL;
	m->tok = NULL;
}

/* Release every session at backend exit (before ORT's own cleanup, which
 * was registered earlier and so runs later). */
static void
cache_at_exit(int code, Datum arg)
{
	HASH_SEQ_STATUS seq;
	LoadedModel *m;

	hash_seq_init(&seq, model_cache);
	while ((m = hash_seq_search(&seq)) != NULL)
		unload_model(m);
}

/* OID of vsim.model_registry as last looked up (InvalidOid: unknown). */
static Oid	registry_relid = InvalidOid;

/* Relcache callback: a change of vsim.model_registry (or a cache reset)
 * makes every loaded model re-check its registry row.  Runs during
 * invalidation processing, so it must not look anything up. */
static void
registry_changed(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS seq;
	LoadedModel *m;

	if (OidIsValid(relid) && OidIsValid(registry_relid) && relid != registry_relid)
		return;
	hash_seq_init(&seq, model_cache);
	while ((m = hash_seq_search(&seq)) != NULL)
		m->stale = true;
}

static void
cache_init(void)
{
	HASHCTL		ctl;

	ctl.keysize = NAMEDATALEN;
	ctl.entrysize = sizeof(LoadedModel);
#if PG_VERSION_NUM >= 140000
	model_cache = hash_create("vsim models", 8, &ctl, HASH_ELEM | HASH_STRINGS);
#else
	model_cache = hash_create("vsim models", 8, &ctl, HASH_ELEM);	/* string keys */
#endif
	CacheRegisterRelcacheCallback(registry_changed, (Datum) 0);
}

static bool
stamp_file(const char *path, FileStamp *stamp)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return false;
	stamp->size = st.st_size;
	stamp->mtime = st.st_mtime;
	stamp->ino = st.st_ino;
	return true;
}

static bool
stamp_changed(const char *path, const FileStamp *old)
{
	FileStamp	now;

	return !stamp_file(path, &now) || now.size != old->size ||
		now.mtime != old->mtime || now.ino != old->ino;
}

/* Read `path`, check it against the SHA-256 recorded at registration. */
static char *
read_verified(const EmbedModelDef *def, const char *path,
			  const char *expected, size_t *len, FileStamp *stamp)
{
	char		sha[PG_SHA256_DIGEST_STRING_LENGTH];
	char	   *data;

	embed_check_path(path);
	stamp_file(path, stamp);
	data = embed_read_file(path, len, sha);
	if (strcmp(sha, expected) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("file \"%s\" of model \"%s\" has changed since the model was registered",
						path, def->name),
				 errdetail("Its SHA-256 is %s; it was %s at registration.",
						   sha, expected),
				 errhint("If the new file is intended, register the model again with vsim.create_model(..., replace => true).")));
	return data;
}

/* Load `def`'s tokenizer and session into m (m->cxt is fresh). */
static void
load_model(LoadedModel *m, EmbedModelDef *def)
{
	MemoryContext old;
	char	   *bytes;
	size_t		len;

	m->cxt = AllocSetContextCreate(TopMemoryContext, "vsim model",
								   ALLOCSET_SMALL_SIZES);
	PG_TRY();
	{
		old = MemoryContextSwitchTo(m->cxt);
		m->def = palloc(sizeof(EmbedModelDef));
		memcpy(m->def, def, sizeof(EmbedModelDef));
		m->def->name = pstrdup(def->name);
		m->def->model_path = pstrdup(def->model_path);
		m->def->tokenizer_path = def->tokenizer_path ? pstrdup(def->tokenizer_path) : NULL;
		for (int i = 0; i < 3; i++)
			m->def->input_names[i] = pstrdup(def->input_names[i]);
		m->def->output_name = pstrdup(def->output_name);
		MemoryContextSwitchTo(old);

		if (def->kind == EMBED_INPUT_TEXT)
		{
			bytes = read_verified(def, def->tokenizer_path, def->tokenizer_sha256,
								  &len, &m->tok_stamp);
			m->tok = embed_tokenizer_load(def->tokenizer_path, bytes, len,
										  def->lowercase, m->cxt);
			pfree(bytes);
		}
		bytes = read_verified(def, def->model_path, def->model_sha256, &len,
							  &m->model_stamp);
		m->threads = embed_intra_op_threads;
		m->session = embed_ort_open(def->model_path, bytes, len, m->threads,
									m->cxt);
		pfree(bytes);
	}
	PG_CATCH();
	{
		/*
		 * Nothing may point into the deleted context: a tokenizer loaded
		 * before the model failed would otherwise survive into the next
		 * load of a tensor model of the same name, which never sets it.
		 */
		MemoryContextDelete(m->cxt);
		m->cxt = NULL;
		m->def = NULL;
		m->session = NULL;
		m->tok = NULL;
		PG_RE_THROW();
	}
	PG_END_TRY();
	m->stale = false;
}

/*
 * The loaded model `name`, loading or reloading it as needed.  Raises
 * 42704 for an unregistered model, and the loading errors.
 */
static LoadedModel *
get_model(const char *name)
{
	static bool exit_registered = false;
	LoadedModel *m;
	EmbedModelDef *def;
	bool		found;

	if (strlen(name) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", name)));
	if (model_cache == NULL)
		cache_init();
	AcceptInvalidationMessages();
	m = hash_search(model_cache, name, HASH_ENTER, &found);
	if (!found)
	{
		m->cxt = NULL;
		m->stale = true;
	}
	if (m->cxt && !m->stale && m->threads == embed_intra_op_threads &&
		!stamp_changed(m->def->model_path, &m->model_stamp) &&
		(m->tok == NULL || !stamp_changed(m->def->tokenizer_path, &m->tok_stamp)))
		return m;

	registry_relid = embed_registry_relid();
	def = embed_registry_lookup(name);
	if (def == NULL)
	{
		/* forget the name too: callers may try any number of them */
		unload_model(m);
		hash_search(model_cache, name, HASH_REMOVE, NULL);
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", name),
				 errhint("Registered models are listed in vsim.models.")));
	}
	/* ids start over when the extension is created again: check both */
	if (m->cxt && m->def->id == def->id && m->registry == registry_relid &&
		m->stale &&
		m->threads == embed_intra_op_threads &&
		!stamp_changed(m->def->model_path, &m->model_stamp) &&
		(m->tok == NULL || !stamp_changed(m->def->tokenizer_path, &m->tok_stamp)))
	{
		m->stale = false;
		return m;
	}
	unload_model(m);
	if (!exit_registered)
	{
		/* after embed_ort_api's own exit callback, so it runs before it */
		embed_ort_api();
		on_proc_exit(cache_at_exit, (Datum) 0);
		exit_registered = true;
	}
	load_model(m, def);
	m->registry = registry_relid;
	return m;
}

/* ---------------------------------------------------------------------
 * Inference
 * ---------------------------------------------------------------------
 */
const char *
embed_pooling_name(EmbedPooling p)
{
	switch (p)
	{
		case EMBED_POOL_MEAN:
			return "mean";
		case EMBED_POOL_CLS:
			return "cls";
		case EMBED_POOL_NONE:
			return "none";
		case EMBED_POOL_AUTO:
			break;
	}
	return "auto";
}

/* "[2, 7, 64]" */
static char *
shape_string(const int64 *dims, int rank)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	for (int i = 0; i < rank; i++)
		appendStringInfo(&buf, "%s" INT64_FORMAT, i ? ", " : "", dims[i]);
	appendStringInfoChar(&buf, ']');
	return buf.data;
}

/* Raise 22000: the output's shape does not fit what the model declares. */
static void
bad_output_shape(const EmbedModelDef *def, const EmbedOutput *out,
				 const char *expected)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("output \"%s\" of model \"%s\" has shape %s, expected %s",
					def->output_name, def->name,
					shape_string(out->dims, out->rank), expected),
			 errhint("Check the model's options pooling, output and dimensions.")));
}

/* L2-normalise x[0..n) in place (a zero vector stays zero). */
static void
l2_normalize(float *x, int n)
{
	double		ss = 0;

	for (int i = 0; i < n; i++)
		ss += (double) x[i] * x[i];
	if (ss > 0)
	{
		double		inv = 1.0 / sqrt(ss);

		for (int i = 0; i < n; i++)
			x[i] = (float) (x[i] * inv);
	}
}

/*
 * Pool output `out` of a text batch of `nb` rows padded to `seq` tokens
 * (`mask` [nb, seq]) into result[row] (`dims` floats each, palloc'd),
 * checking its shape first.  With def->pooling AUTO (registration) the
 * pooling follows the rank; with dimensions 0 they are taken from it.
 */
static void
pool_output(EmbedModelDef *def, const EmbedOutput *out, int nb, int seq,
			const int64 *mask, float **result)
{
	int			dims;

	if (def->pooling == EMBED_POOL_AUTO)
		def->pooling = out->rank == 3 ? EMBED_POOL_MEAN : EMBED_POOL_NONE;
	dims = out->rank > 0 ? (int) out->dims[out->rank - 1] : 0;
	if (def->dimensions == 0 && dims >= 1 && dims <= VECTOR_MAX_DIM)
		def->dimensions = dims;

	if (def->pooling == EMBED_POOL_NONE &&
		(out->rank != 2 || out->dims[0] != nb || dims != def->dimensions))
		bad_output_shape(def, out, psprintf("[%d, %d] (pooling none)", nb, def->dimensions));
	if (def->pooling != EMBED_POOL_NONE &&
		(out->rank != 3 || out->dims[0] != nb || out->dims[1] != seq ||
		 dims != def->dimensions))
		bad_output_shape(def, out, psprintf("[%d, %d, %d] (pooling %s)", nb, seq,
											def->dimensions,
											embed_pooling_name(def->pooling)));

	for (int b = 0; b < nb; b++)
	{
		float	   *r = palloc0(sizeof(float) * dims);

		if (def->pooling == EMBED_POOL_NONE)
			memcpy(r, out->data + (int64) b * dims, sizeof(float) * dims);
		else if (def->pooling == EMBED_POOL_CLS)
			memcpy(r, out->data + (int64) b * seq * dims, sizeof(float) * dims);
		else
		{
			double	   *acc = palloc0(sizeof(double) * dims);
			int			count = 0;

			for (int t = 0; t < seq; t++)
			{
				const float *row = out->data + ((int64) b * seq + t) * dims;

				if (mask[b * seq + t] == 0)
					continue;
				count++;
				for (int d = 0; d < dims; d++)
					acc[d] += row[d];
			}
			for (int d = 0; d < dims; d++)
				r[d] = (float) (acc[d] / Max(count, 1));
			pfree(acc);
		}
		if (def->normalize)
			l2_normalize(r, dims);
		result[b] = r;
	}
}

/* A tokenized text: ids (with [CLS] and [SEP]) and its index in the call. */
typedef struct TokenizedText
{
	int64	   *ids;
	int			len;
	int			index;
} TokenizedText;

static int
compare_length(const void *a, const void *b)
{
	const TokenizedText *x = a;
	const TokenizedText *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->index - y->index;
}

/*
 * Run texts[0..nb) as one batch padded to the longest; result[index] gets
 * each text's vector (dims floats).  With `raw_name`, that output is
 * fetched instead and stored unpooled in *raw (callers pass nb = 1).
 */
static void
run_text_batch(EmbedModelDef *def, EmbedSession *s, TokenizedText *texts,
			   int nb, float **result, const char *raw_name, EmbedOutput *raw)
{
	int			seq = 0;
	int64	   *buf;
	EmbedInput	in[3];
	int			n_in = 0;
	EmbedOutput out;
	float	  **pooled = palloc(sizeof(float *) * nb);
	const char *out_name = raw_name ? raw_name : def->output_name;

	for (int b = 0; b < nb; b++)
		seq = Max(seq, texts[b].len);
	/* ids, mask and zero type ids, each [nb, seq] */
	buf = palloc0(sizeof(int64) * nb * seq * 3);
	for (int b = 0; b < nb; b++)
		for (int t = 0; t < texts[b].len; t++)
		{
			buf[b * seq + t] = texts[b].ids[t];
			buf[nb * seq + b * seq + t] = 1;
		}
	for (int i = 0; i < 3; i++)
	{
		if (def->input_names[i][0] == '\0')
			continue;
		in[n_in].name = def->input_names[i];
		in[n_in].elem_type = ORT_TENSOR_INT64;
		in[n_in].rank = 2;
		in[n_in].dims[0] = nb;
		in[n_in].dims[1] = seq;
		in[n_in].data = buf + (int64) i * nb * seq;
		n_in++;
	}
	embed_ort_run(s, def->name, in, n_in, &out_name, 1, &out);
	if (raw_name)
	{
		*raw = out;
		return;
	}
	pool_output(def, &out, nb, seq, buf + nb * seq, pooled);
	for (int b = 0; b < nb; b++)
		result[texts[b].index] = pooled[b];
	pfree(out.data);
	pfree(buf);
	pfree(pooled);
}

/* Tokenize `t` (server encoding) with the model's tokenizer. */
static void
tokenize_text(const EmbedModelDef *def, const EmbedTokenizer *tok, text *t,
			  TokenizedText *out)
{
	int			len = VARSIZE_ANY_EXHDR(t);
	char	   *utf8 = pg_server_to_any(VARDATA_ANY(t), len, PG_UTF8);

	if (utf8 != VARDATA_ANY(t))
		len = strlen(utf8);
	out->ids = palloc(sizeof(int64) * def->max_length);
	out->len = embed_tokenize(tok, utf8, len, def->max_length, out->ids);
	/* batches may hold many texts: keep only what they use */
	out->ids = repalloc(out->ids, sizeof(int64) * out->len);
}

/* The `n` elements of a real[] as floats; raises 22004 for nulls. */
static float *
float_array(ArrayType *a, int *n)
{
	Datum	   *elems;
	bool	   *nulls;
	float	   *x;

	deconstruct_array(a, FLOAT4OID, 4, true, TYPALIGN_INT, &elems, &nulls, n);
	x = palloc(sizeof(float) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("input array must not contain nulls")));
		x[i] = DatumGetFloat4(elems[i]);
	}
	return x;
}

/* Run a tensor model on `a`, fetching output `output`. */
static void
run_tensor(EmbedModelDef *def, EmbedSession *s, float *x, int n,
		   const char *output, EmbedOutput *out)
{
	EmbedInput	in;
	int64		expected = 1;

	in.name = def->input_names[0];
	in.elem_type = ORT_TENSOR_FLOAT;
	in.rank = def->input_rank;
	for (int i = 0; i < def->input_rank; i++)
	{
		in.dims[i] = def->input_shape[i];
		expected *= def->input_shape[i];
	}
	if (n != expected)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("input has %d elements; model \"%s\" expects " INT64_FORMAT,
						n, def->name, expected),
				 errdetail("The input \"%s\" has shape %s.", in.name,
						   shape_string(def->input_shape, def->input_rank))));
	if (def->input_scale != 1)
		for (int i = 0; i < n; i++)
			x[i] *= def->input_scale;
	in.data = x;
	embed_ort_run(s, def->name, &in, 1, &output, 1, out);
}

/* The vector of a tensor model's output `out` (its elements after the
 * batch dimension), checked against def->dimensions. */
static Vector *
tensor_vector(EmbedModelDef *def, EmbedOutput *out)
{
	Vector	   *v;

	if (out->rank < 1 || out->dims[0] != 1 || out->count != def->dimensions)
		bad_output_shape(def, out, def->dimensions > 0 ?
						 psprintf("[1, %d]", def->dimensions) : "[1, ...]");
	v = new_vector(def->dimensions);
	memcpy(v->x, out->data, sizeof(float) * def->dimensions);
	if (def->normalize)
		l2_normalize(v->x, def->dimensions);
	vector_check_finite(v->x, def->dimensions);
	return v;
}

void
embed_probe_model(EmbedModelDef *def, EmbedSession *s, const EmbedTokenizer *tok)
{
	if (def->kind == EMBED_INPUT_TEXT)
	{
		TokenizedText t[2];
		float	   *result[2];
		text	   *samples[2] = {cstring_to_text("vsim checks this model"),
		cstring_to_text("hello")};

		/* two texts of different lengths: exercises padding and masks */
		for (int i = 0; i < 2; i++)
		{
			tokenize_text(def, tok, samples[i], &t[i]);
			t[i].index = i;
		}
		run_text_batch(def, s, t, 2, result, NULL, NULL);
	}
	else
	{
		int64		n = 1;
		float	   *zeros;
		EmbedOutput out;

		for (int i = 0; i < def->input_rank; i++)
			n *= def->input_shape[i];
		zeros = palloc_extended(sizeof(float) * n, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		run_tensor(def, s, zeros, (int) n, def->output_name, &out);
		if (def->pooling == EMBED_POOL_AUTO)
			def->pooling = EMBED_POOL_NONE;
		if (def->pooling != EMBED_POOL_NONE)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("tensor model \"%s\" takes no pooling", def->name)));
		if (def->dimensions == 0 && out.rank >= 1 && out.dims[0] == 1 &&
			out.count >= 1 && out.count <= VECTOR_MAX_DIM)
			def->dimensions = (int) out.count;
		tensor_vector(def, &out);
	}
}

/* ---------------------------------------------------------------------
 * SQL functions
 * ---------------------------------------------------------------------
 */

/* The loaded model named by argument 0, which must take `kind` input. */
static LoadedModel *
model_arg(FunctionCallInfo fcinfo, EmbedInputKind kind)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	LoadedModel *m = get_model(name);

	if (m->def->kind != kind)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("model \"%s\" takes %s input", name,
						m->def->kind == EMBED_INPUT_TEXT ? "text" : "tensor (real[])"),
				 errhint("Call vsim.embed with a %s argument.",
						 m->def->kind == EMBED_INPUT_TEXT ? "text" : "real[]")));
	return m;
}

static Vector *
float_vector(const float *x, int dims)
{
	Vector	   *v = new_vector(dims);

	memcpy(v->x, x, sizeof(float) * dims);
	vector_check_finite(v->x, dims);
	return v;
}

/*
 * vsim.embed(model text, input text) RETURNS vector
 *
 * The embedding of one text: tokenized (truncated to the model's
 * max_length), run, pooled, optionally L2-normalised; `dimensions`
 * elements.  Raises 42704 for an unknown model, 42809 for a tensor model,
 * and the loading and inference errors.
 */
Datum
vsim_embed_text(PG_FUNCTION_ARGS)
{
	LoadedModel *m = model_arg(fcinfo, EMBED_INPUT_TEXT);
	TokenizedText t;
	float	   *result;

	tokenize_text(m->def, m->tok, PG_GETARG_TEXT_PP(1), &t);
	t.index = 0;
	run_text_batch(m->def, m->session, &t, 1, &result, NULL, NULL);
	PG_RETURN_VECTOR_P(float_vector(result, m->def->dimensions));
}

/*
 * vsim.embed(model text, inputs text[]) RETURNS vector[]
 *
 * Embeddings of many texts, in input order (null elements give null
 * vectors).  The texts are sorted by token count and run in batches of
 * vsim.embed_batch_size, so little work goes into padding.  Errors as for
 * the one-text form.
 */
Datum
vsim_embed_texts(PG_FUNCTION_ARGS)
{
	LoadedModel *m = model_arg(fcinfo, EMBED_INPUT_TEXT);
	ArrayType  *a = PG_GETARG_ARRAYTYPE_P(1);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			nt = 0;
	TokenizedText *texts;
	float	  **result;
	Datum	   *vectors;
	int			dims[1];
	int			lbs[1] = {1};
	Oid			vector_oid = get_fn_expr_rettype(fcinfo->flinfo);
	int16		typlen;
	bool		typbyval;
	char		typalign;

	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("inputs must be a one-dimensional array")));
	deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	texts = palloc(sizeof(TokenizedText) * Max(n, 1));
	result = palloc0(sizeof(float *) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			continue;
		tokenize_text(m->def, m->tok, DatumGetTextPP(elems[i]), &texts[nt]);
		texts[nt++].index = i;
	}
	qsort(texts, nt, sizeof(TokenizedText), compare_length);
	for (int start = 0; start < nt; start += embed_batch_size)
	{
		CHECK_FOR_INTERRUPTS();
		run_text_batch(m->def, m->session, texts + start,
					   Min(embed_batch_size, nt - start), result, NULL, NULL);
	}

	vectors = palloc(sizeof(Datum) * Max(n, 1));
	for (int i = 0; i < n; i++)
		vectors[i] = nulls[i] ? (Datum) 0 :
			PointerGetDatum(float_vector(result[i], m->def->dimensions));
	vector_oid = get_element_type(vector_oid);
	get_typlenbyvalalign(vector_oid, &typlen, &typbyval, &typalign);
	dims[0] = n;
	PG_RETURN_ARRAYTYPE_P(construct_md_array(vectors, nulls, n > 0 ? 1 : 0,
											 dims, lbs, vector_oid, typlen,
											 typbyval, typalign));
}

/*
 * vsim.embed(model text, input real[]) RETURNS vector
 *
 * The embedding of one input of a tensor model: the array's elements (any
 * array shape; row-major) fill the registered input shape, which must
 * have exactly as many elements (else 22023); nulls raise 22004.  The
 * registered output, flattened, is the vector.
 */
Datum
vsim_embed_tensor(PG_FUNCTION_ARGS)
{
	LoadedModel *m = model_arg(fcinfo, EMBED_INPUT_TENSOR);
	int			n;
	float	   *x = float_array(PG_GETARG_ARRAYTYPE_P(1), &n);
	EmbedOutput out;

	run_tensor(m->def, m->session, x, n, m->def->output_name, &out);
	PG_RETURN_VECTOR_P(tensor_vector(m->def, &out));
}

/* A float output as a one-dimensional real[], for vsim.embed_output. */
static ArrayType *
output_array(const EmbedOutput *out)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(out->count, 1));

	for (int64 i = 0; i < out->count; i++)
		d[i] = Float4GetDatum(out->data[i]);
	return construct_array(d, (int) out->count, FLOAT4OID, 4, true, TYPALIGN_INT);
}

/* Raise 22023 unless the loaded model has an output named `output`. */
static void
check_output_name(const LoadedModel *m, const char *output)
{
	for (int i = 0; i < m->session->n_outputs; i++)
		if (strcmp(m->session->outputs[i].name, output) == 0)
			return;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("model \"%s\" has no output named \"%s\"",
					m->def->name, output)));
}

/*
 * vsim.embed_output(model text, input real[], output text) RETURNS real[]
 *
 * Any named output of a tensor model, flattened (row-major), without
 * normalisation: for example the class scores of a classifier.  Raises
 * 22023 when the model has no such output, and the errors of vsim.embed.
 */
Datum
vsim_embed_output_tensor(PG_FUNCTION_ARGS)
{
	LoadedModel *m = model_arg(fcinfo, EMBED_INPUT_TENSOR);
	int			n;
	float	   *x = float_array(PG_GETARG_ARRAYTYPE_P(1), &n);
	char	   *output = text_to_cstring(PG_GETARG_TEXT_PP(2));
	EmbedOutput out;

	check_output_name(m, output);
	run_tensor(m->def, m->session, x, n, output, &out);
	PG_RETURN_ARRAYTYPE_P(output_array(&out));
}

/*
 * vsim.embed_output(model text, input text, output text) RETURNS real[]
 *
 * Any named output of a text model for one text, flattened and not pooled
 * (last_hidden_state gives tokens x dimensions values).  Errors as above.
 */
Datum
vsim_embed_output_text(PG_FUNCTION_ARGS)
{
	LoadedModel *m = model_arg(fcinfo, EMBED_INPUT_TEXT);
	char	   *output = text_to_cstring(PG_GETARG_TEXT_PP(2));
	TokenizedText t;
	EmbedOutput out;

	check_output_name(m, output);
	tokenize_text(m->def, m->tok, PG_GETARG_TEXT_PP(1), &t);
	t.index = 0;
	run_text_batch(m->def, m->session, &t, 1, NULL, output, &out);
	PG_RETURN_ARRAYTYPE_P(output_array(&out));
}

/*
 * vsim.tokenize(model text, input text) RETURNS integer[]
 *
 * The token ids the text model feeds for `input`: [CLS], WordPiece ids
 * truncated to max_length, [SEP].  Raises 42704 / 42809 like vsim.embed.
 */
Datum
vsim_tokenize(PG_FUNCTION_ARGS)
{
	LoadedModel *m = model_arg(fcinfo, EMBED_INPUT_TEXT);
	TokenizedText t;
	Datum	   *d;

	tokenize_text(m->def, m->tok, PG_GETARG_TEXT_PP(1), &t);
	d = palloc(sizeof(Datum) * t.len);
	for (int i = 0; i < t.len; i++)
		d[i] = Int32GetDatum((int32) t.ids[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(d, t.len, INT4OID, 4, true, TYPALIGN_INT));
}

/*
 * vsim.onnxruntime_version() RETURNS text
 *
 * The version of the ONNX Runtime library, loading it into this backend
 * if needed.  Raises 58P01 with a hint when it cannot be loaded and 55000
 * when it is too old.
 */
Datum
vsim_onnxruntime_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(embed_ort_version()));
}
