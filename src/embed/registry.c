/*-------------------------------------------------------------------------
 *
 * registry.c
 *	  The model registry: registering a model (options, files, checks) in
 *	  the table vsim.model_registry, dropping it, and the per-backend cache
 *	  of loaded models that follows the table's changes.  Also the setting
 *	  vsim.intra_op_threads, which applies to the models this cache loads.
 *
 * Models live in the table vsim.model_registry, which only
 * vsim.create_model and vsim.drop_model write (they are SECURITY DEFINER;
 * EXECUTE is revoked from PUBLIC, so superusers and roles granted EXECUTE
 * register models).  Everybody reads it through the view vsim.models.
 *
 * A backend loads a model (ORT session plus tokenizer) at its first use
 * and keeps it until the model is dropped or registered again, which it
 * learns from the relcache invalidation that every change of the table
 * sends; or until the model file's size or modification time changes,
 * when it loads it again and so re-checks the SHA-256 recorded at
 * registration.  A changed file is an error, never silently different
 * vectors.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <stdlib.h>

#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "embed/embed.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "storage/ipc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

/* Bounds of a text model's max_length (tokens, [CLS] and [SEP] included) */
#define EMBED_MIN_LENGTH 2
#define EMBED_MAX_LENGTH 8192

static int	intra_op_threads = 1;

void
embed_registry_init(void)
{
	DefineCustomIntVariable("vsim.intra_op_threads",
							"Threads ONNX Runtime uses inside one inference.",
							"Applies to models loaded after the change.",
							&intra_op_threads,
							1, 1, 64,
							PGC_USERSET, 0, NULL, NULL, NULL);
}

/* ---------------------------------------------------------------------
 * Options
 * ---------------------------------------------------------------------
 */

/* Option value of `key` as text; raises 22023 unless it is a string. */
static char *
opt_string(const char *key, JsonbValue *v)
{
	if (v->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" must be a string", key)));
	return pnstrdup(v->val.string.val, v->val.string.len);
}

static bool
opt_bool(const char *key, JsonbValue *v)
{
	if (v->type != jbvBool)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" must be true or false", key)));
	return v->val.boolean;
}

/* Option value as an integer in [min, max]; raises 22023 otherwise. */
static int64
opt_int(const char *key, JsonbValue *v, int64 min, int64 max)
{
	int64		n;

	if (v->type != jbvNumeric)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" must be a number", key)));
	n = DatumGetInt64(DirectFunctionCall1(numeric_int8,
										  NumericGetDatum(v->val.numeric)));
	if (n < min || n > max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" must be between " INT64_FORMAT " and " INT64_FORMAT,
						key, min, max)));
	return n;
}

/* Option value as a finite, non-zero float; raises 22023 otherwise. */
static float
opt_float(const char *key, JsonbValue *v)
{
	float		f;

	if (v->type != jbvNumeric)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" must be a number", key)));
	f = DatumGetFloat4(DirectFunctionCall1(numeric_float4,
										   NumericGetDatum(v->val.numeric)));
	if (f == 0 || isinf(f))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" must be a finite, non-zero number", key)));
	return f;
}

/* "input_shape": an array of positive integers. */
static void
opt_shape(JsonbValue *v, EmbedModelDef *def)
{
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken r;

	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"input_shape\" must be an array of positive integers")));
	def->input_rank = 0;
	it = JsonbIteratorInit(v->val.binary.data);
	while ((r = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		if (r != WJB_ELEM)
			continue;
		if (def->input_rank == EMBED_MAX_RANK)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("option \"input_shape\" has more than %d dimensions",
							EMBED_MAX_RANK)));
		def->input_shape[def->input_rank++] =
			opt_int("input_shape", &e, 1, PG_INT32_MAX);
	}
	if (def->input_rank == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"input_shape\" must not be empty")));
}

/*
 * Fill `def` from the options object.  Sets kind, input names, pooling,
 * normalize, lowercase, max_length, dimensions, output name and input
 * shape where given; the rest keeps the caller's defaults.
 * *normalize_set tells whether "normalize" was given.  Raises 22023 for an
 * unknown option or a value of the wrong type or range.
 */
static void
parse_options(Jsonb *options, EmbedModelDef *def, bool *normalize_set)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken r;
	char	   *key = NULL;

	if (!JB_ROOT_IS_OBJECT(options))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model options must be a JSON object")));
	it = JsonbIteratorInit(&options->root);
	while ((r = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (r == WJB_KEY)
		{
			key = pnstrdup(v.val.string.val, v.val.string.len);
			continue;
		}
		if (r != WJB_VALUE)
			continue;
		if (strcmp(key, "input") == 0)
		{
			char	   *s = opt_string(key, &v);

			if (strcmp(s, "text") != 0 && strcmp(s, "tensor") != 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("option \"input\" must be \"text\" or \"tensor\"")));
			def->kind = strcmp(s, "text") == 0 ? EMBED_INPUT_TEXT : EMBED_INPUT_TENSOR;
		}
		else if (strcmp(key, "input_ids") == 0 || strcmp(key, "input_name") == 0)
			def->input_names[0] = opt_string(key, &v);
		else if (strcmp(key, "attention_mask") == 0)
			def->input_names[1] = opt_string(key, &v);
		else if (strcmp(key, "token_type_ids") == 0)
			def->input_names[2] = opt_string(key, &v);
		else if (strcmp(key, "input_shape") == 0)
			opt_shape(&v, def);
		else if (strcmp(key, "input_scale") == 0)
			def->input_scale = opt_float(key, &v);
		else if (strcmp(key, "output") == 0)
			def->output_name = opt_string(key, &v);
		else if (strcmp(key, "pooling") == 0)
			def->pooling = embed_pooling_parse(opt_string(key, &v));
		else if (strcmp(key, "normalize") == 0)
		{
			def->normalize = opt_bool(key, &v);
			*normalize_set = true;
		}
		else if (strcmp(key, "lowercase") == 0)
			def->lowercase = opt_bool(key, &v);
		else if (strcmp(key, "max_length") == 0)
			def->max_length = opt_int(key, &v, EMBED_MIN_LENGTH, EMBED_MAX_LENGTH);
		else if (strcmp(key, "dimensions") == 0)
			def->dimensions = opt_int(key, &v, 1, 16000);
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unrecognized model option \"%s\"", key),
					 errhint("Valid options are input, input_ids, attention_mask, token_type_ids, input_name, input_shape, input_scale, output, pooling, normalize, lowercase, max_length and dimensions.")));
	}
}

/* ---------------------------------------------------------------------
 * The table vsim.model_registry
 * ---------------------------------------------------------------------
 */

/* OID of vsim.model_registry, or InvalidOid before CREATE EXTENSION. */
static Oid
find_registry_relid(void)
{
	Oid			nsp = get_namespace_oid("vsim", true);

	return OidIsValid(nsp) ? get_relname_relid("model_registry", nsp) : InvalidOid;
}

/* Tell every backend (this one included) that the registry changed. */
static void
invalidate_registry(void)
{
	Relation	rel = table_open(find_registry_relid(), RowExclusiveLock);

	CacheInvalidateRelcache(rel);
	table_close(rel, NoLock);
}

/* A text[] of items[0..n). */
static Datum
text_array(char **items, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		d[i] = CStringGetTextDatum(items[i]);
	return PointerGetDatum(construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/* A bigint[] of items[0..n). */
static Datum
int8_array(const int64 *items, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		d[i] = Int64GetDatum(items[i]);
	return PointerGetDatum(construct_array(d, n, INT8OID, 8, FLOAT8PASSBYVAL,
										   TYPALIGN_DOUBLE));
}

/* Insert `def` (replacing a model of the same name when `replace`). */
static void
store_model(const EmbedModelDef *def, Jsonb *options, bool replace)
{
	Oid			types[16] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
		TEXTOID, TEXTARRAYOID, INT8ARRAYOID, TEXTOID, TEXTOID, BOOLOID, BOOLOID,
	INT4OID, INT4OID, JSONBOID, FLOAT4OID};
	Datum		values[16];
	char		nulls[16];
	bool		text = def->kind == EMBED_INPUT_TEXT;
	int			rc;

	memset(nulls, ' ', sizeof(nulls));
	values[0] = CStringGetTextDatum(def->name);
	values[1] = CStringGetTextDatum(text ? "text" : "tensor");
	values[2] = CStringGetTextDatum(def->model_path);
	values[3] = CStringGetTextDatum(def->model_sha256);
	values[4] = text ? CStringGetTextDatum(def->tokenizer_path) : (Datum) 0;
	values[5] = text ? CStringGetTextDatum(def->tokenizer_sha256) : (Datum) 0;
	values[6] = text_array((char **) def->input_names, text ? 3 : 1);
	values[7] = int8_array(def->input_shape, def->input_rank);
	values[8] = CStringGetTextDatum(def->output_name);
	values[9] = CStringGetTextDatum(embed_pooling_name(def->pooling));
	values[10] = BoolGetDatum(def->normalize);
	values[11] = BoolGetDatum(def->lowercase);
	values[12] = Int32GetDatum(def->max_length);
	values[13] = Int32GetDatum(def->dimensions);
	values[14] = JsonbPGetDatum(options);
	values[15] = Float4GetDatum(def->input_scale);
	if (!text)
		nulls[4] = nulls[5] = nulls[12] = 'n';
	else
		nulls[7] = nulls[15] = 'n';

	SPI_connect();
	if (replace)
		SPI_execute_with_args("DELETE FROM vsim.model_registry WHERE name = $1",
							  1, types, values, NULL, false, 0);
	else if (SPI_execute_with_args("SELECT 1 FROM vsim.model_registry WHERE name = $1",
								   1, types, values, NULL, true, 1) == SPI_OK_SELECT &&
			 SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("model \"%s\" already exists", def->name),
				 errhint("Use vsim.create_model(..., replace => true) to register it again, or vsim.drop_model first.")));
	rc = SPI_execute_with_args("INSERT INTO vsim.model_registry "
							   "(name, input_kind, model_path, model_sha256, tokenizer_path, "
							   "tokenizer_sha256, input_names, input_shape, output_name, pooling, "
							   "normalize, lowercase, max_length, dimensions, options, input_scale) "
							   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
							   16, types, values, nulls, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "could not insert into vsim.model_registry: %s",
			 SPI_result_code_string(rc));
	SPI_finish();
	invalidate_registry();
}

bool
embed_registry_drop(const char *name, bool if_exists)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(name)};
	bool		found;

	SPI_connect();
	if (SPI_execute_with_args("DELETE FROM vsim.model_registry WHERE name = $1",
							  1, types, values, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete from vsim.model_registry");
	found = SPI_processed > 0;
	SPI_finish();
	if (!found && !if_exists)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", name)));
	if (found)
		invalidate_registry();
	return found;
}

/* Column `col` (1-based) of the SPI result row as a C string, or NULL. */
static char *
spi_string(int col)
{
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col);
}

/* Column `col` (1-based) of the SPI result row, an array, deconstructed
 * into *elems (in the current context); returns the element count. */
static int
spi_array(int col, Oid elemtype, int elemlen, bool byval, char align,
		  Datum **elems)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
								  col, &isnull);
	int			n;

	if (isnull)
		return 0;
	deconstruct_array(DatumGetArrayTypePCopy(d), elemtype, elemlen, byval,
					  align, elems, NULL, &n);
	return n;
}

/*
 * The registered model `name`, palloc'd in the current context, read
 * through the view vsim.models (so callers need no privilege on the
 * table), or NULL when there is none.
 */
static EmbedModelDef *
registry_lookup(const char *name)
{
	MemoryContext caller = CurrentMemoryContext;
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(name)};
	EmbedModelDef *def = NULL;

	SPI_connect();
	if (SPI_execute_with_args("SELECT id, input_kind, model_path, model_sha256, "
							  "tokenizer_path, tokenizer_sha256, input_names, input_shape, "
							  "output_name, pooling, normalize, lowercase, max_length, dimensions, "
							  "input_scale FROM vsim.models WHERE name = $1",
							  1, types, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read vsim.models");
	if (SPI_processed > 0)
	{
		MemoryContext spi = MemoryContextSwitchTo(caller);
		Datum	   *items;
		int			n;
		char	   *s;

		def = palloc0(sizeof(EmbedModelDef));
		def->name = pstrdup(name);
		def->id = strtoi64(spi_string(1), NULL, 10);
		def->kind = strcmp(spi_string(2), "text") == 0 ? EMBED_INPUT_TEXT : EMBED_INPUT_TENSOR;
		def->model_path = spi_string(3);
		strlcpy(def->model_sha256, spi_string(4), sizeof(def->model_sha256));
		def->tokenizer_path = spi_string(5);
		if ((s = spi_string(6)) != NULL)
			strlcpy(def->tokenizer_sha256, s, sizeof(def->tokenizer_sha256));
		n = spi_array(7, TEXTOID, -1, false, TYPALIGN_INT, &items);
		for (int i = 0; i < 3; i++)
			def->input_names[i] = i < n ? TextDatumGetCString(items[i]) : "";
		n = spi_array(8, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &items);
		def->input_rank = Min(n, EMBED_MAX_RANK);
		for (int i = 0; i < def->input_rank; i++)
			def->input_shape[i] = DatumGetInt64(items[i]);
		def->output_name = spi_string(9);
		def->pooling = embed_pooling_parse(spi_string(10));
		def->normalize = strcmp(spi_string(11), "t") == 0;
		def->lowercase = strcmp(spi_string(12), "t") == 0;
		s = spi_string(13);
		def->max_length = s ? atoi(s) : 0;
		def->dimensions = atoi(spi_string(14));
		s = spi_string(15);
		def->input_scale = s ? strtof(s, NULL) : 1;
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	return def;
}

/* ---------------------------------------------------------------------
 * Registration
 * ---------------------------------------------------------------------
 */

/*
 * The definition of new model `name` from `options` (NULL: none; *options
 * then becomes the empty object the registry stores) and the defaults the
 * options leave: text models when a tokenizer file is given, normalised
 * if text, pooling from the output's shape.  Raises 22023 for a bad name,
 * bad options, or a tokenizer that does not fit the kind.
 */
static EmbedModelDef *
new_model_def(const char *name, bool has_tokenizer, Jsonb **options)
{
	EmbedModelDef *def = palloc0(sizeof(EmbedModelDef));
	bool		normalize_set = false;

	if (name[0] == '\0' || strlen(name) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model name must have 1 to %d bytes", NAMEDATALEN - 1)));
	def->name = pstrdup(name);
	def->kind = has_tokenizer ? EMBED_INPUT_TEXT : EMBED_INPUT_TENSOR;
	def->pooling = EMBED_POOL_AUTO;
	def->lowercase = true;
	def->input_scale = 1;
	if (*options)
		parse_options(*options, def, &normalize_set);
	else
		*options = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
	if (!normalize_set)
		def->normalize = def->kind == EMBED_INPUT_TEXT;
	if (def->kind == EMBED_INPUT_TEXT && !has_tokenizer)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("text model \"%s\" needs a tokenizer file", def->name),
				 errhint("Pass the path of its tokenizer.json or vocab.txt as tokenizer_path.")));
	if (def->kind == EMBED_INPUT_TENSOR && has_tokenizer)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tensor model \"%s\" takes no tokenizer", def->name)));
	return def;
}

/*
 * Load the tokenizer of text model `def` from the absolute `path` into
 * `cxt`, recording the file's SHA-256, and default def->max_length to the
 * length the file declares (else 512).
 */
static EmbedTokenizer *
load_tokenizer(EmbedModelDef *def, const char *path, MemoryContext cxt)
{
	char	   *bytes;
	size_t		len;
	EmbedTokenizer *tok;
	int			declared;

	bytes = embed_read_file(path, def->tokenizer_path, &len,
							def->tokenizer_sha256, NULL);
	tok = embed_tokenizer_load(def->tokenizer_path, bytes, len,
							   def->lowercase, cxt);
	pfree(bytes);
	if (def->max_length != 0)
		return tok;

	/*
	 * The file's truncation length is only as trustworthy as the file: hold
	 * it to the bounds of the max_length option, since the tokenizer writes
	 * [CLS] and [SEP] whatever the limit and every call allocates max_length
	 * ids.
	 */
	declared = embed_tokenizer_max_length(tok);
	if (declared != 0 &&
		(declared < EMBED_MIN_LENGTH || declared > EMBED_MAX_LENGTH))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tokenizer file \"%s\" declares max_length %d, outside %d to %d",
						def->tokenizer_path, declared,
						EMBED_MIN_LENGTH, EMBED_MAX_LENGTH),
				 errhint("Give the option max_length.")));
	def->max_length = declared > 0 ? declared : 512;
	return tok;
}

/*
 * Load `def`'s files from the absolute paths `model_file` and `tok_file`
 * (unused for tensor models), recording their SHA-256, and check the
 * model with a trial inference, which fills in the defaults left.  The
 * session is released again; names in `def` may point into the memory
 * context this creates under the current one.
 */
static void
check_model_files(EmbedModelDef *def, const char *model_file,
				  const char *tok_file)
{
	MemoryContext cxt;
	EmbedModel	m = {def, NULL, NULL};
	char	   *bytes;
	size_t		len;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "vsim model check",
								ALLOCSET_DEFAULT_SIZES);
	if (def->kind == EMBED_INPUT_TEXT)
		m.tok = load_tokenizer(def, tok_file, cxt);
	bytes = embed_read_file(model_file, def->model_path, &len,
							def->model_sha256, NULL);
	m.session = embed_ort_open(def->model_path, bytes, len, 1, cxt);
	pfree(bytes);
	PG_TRY();
	{
		embed_check_model(&m);
	}
	PG_CATCH();
	{
		embed_ort_close(m.session);
		PG_RE_THROW();
	}
	PG_END_TRY();
	embed_ort_close(m.session);
}

int
embed_registry_create(const char *name, const char *model_path,
					  const char *tokenizer_path, Jsonb *options, bool replace)
{
	EmbedModelDef *def = new_model_def(name, tokenizer_path != NULL, &options);
	char		model_file[MAXPGPATH];
	char		tok_file[MAXPGPATH];

	def->model_path = embed_resolve_model_path(model_path, "model",
											   model_file);
	if (def->kind == EMBED_INPUT_TEXT)
		def->tokenizer_path = embed_resolve_model_path(tokenizer_path,
													   "tokenizer", tok_file);
	check_model_files(def, model_file, tok_file);
	store_model(def, options, replace);
	return def->dimensions;
}

/* ---------------------------------------------------------------------
 * Cache of loaded models
 * ---------------------------------------------------------------------
 */

/* A model loaded in this backend (entry of model_cache, keyed by name). */
typedef struct LoadedModel
{
	char		name[NAMEDATALEN];
	MemoryContext cxt;			/* holds everything below; NULL = unloaded */
	bool		stale;			/* registry changed: re-check def->id */
	Oid			registry;		/* vsim.model_registry def->id is from */
	EmbedModel	model;
	int			threads;		/* intra-op threads of model.session */
	EmbedFileStamp model_stamp;
	EmbedFileStamp tok_stamp;
} LoadedModel;

static HTAB *model_cache;

/* OID of vsim.model_registry as last looked up (InvalidOid: unknown). */
static Oid	registry_relid = InvalidOid;

/* Release m's session and memory; nothing may point into them after. */
static void
unload_model(LoadedModel *m)
{
	if (m->cxt == NULL)
		return;
	embed_ort_close(m->model.session);
	MemoryContextDelete(m->cxt);
	m->cxt = NULL;
	m->model.def = NULL;
	m->model.session = NULL;
	m->model.tok = NULL;
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

/* A copy of `def` in `cxt`. */
static EmbedModelDef *
copy_def(const EmbedModelDef *def, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	EmbedModelDef *copy = palloc(sizeof(EmbedModelDef));

	memcpy(copy, def, sizeof(EmbedModelDef));
	copy->name = pstrdup(def->name);
	copy->model_path = pstrdup(def->model_path);
	copy->tokenizer_path = def->tokenizer_path ? pstrdup(def->tokenizer_path) : NULL;
	for (int i = 0; i < 3; i++)
		copy->input_names[i] = pstrdup(def->input_names[i]);
	copy->output_name = pstrdup(def->output_name);
	MemoryContextSwitchTo(old);
	return copy;
}

/* Load `def`'s tokenizer and session into m (unloaded), checking both
 * files against the SHA-256 recorded at registration. */
static void
load_model(LoadedModel *m, EmbedModelDef *def)
{
	char	   *bytes;
	size_t		len;

	m->cxt = AllocSetContextCreate(TopMemoryContext, "vsim model",
								   ALLOCSET_SMALL_SIZES);
	PG_TRY();
	{
		m->model.def = copy_def(def, m->cxt);
		if (def->kind == EMBED_INPUT_TEXT)
		{
			bytes = embed_read_verified(def->tokenizer_path, "tokenizer",
										def->tokenizer_sha256, def->name,
										&len, &m->tok_stamp);
			m->model.tok = embed_tokenizer_load(def->tokenizer_path, bytes,
												len, def->lowercase, m->cxt);
			pfree(bytes);
		}
		bytes = embed_read_verified(def->model_path, "model",
									def->model_sha256, def->name, &len,
									&m->model_stamp);
		m->threads = intra_op_threads;
		m->model.session = embed_ort_open(def->model_path, bytes, len,
										  m->threads, m->cxt);
		pfree(bytes);
	}
	PG_CATCH();
	{
		/*
		 * Nothing may point into the deleted context: a tokenizer loaded
		 * before the model failed would otherwise survive into the next
		 * load of a tensor model of the same name, which never sets it.
		 */
		unload_model(m);
		PG_RE_THROW();
	}
	PG_END_TRY();
	m->stale = false;
}

/* True if loaded model m still fits the thread setting and its files. */
static bool
still_current(const LoadedModel *m)
{
	return m->threads == intra_op_threads &&
		!embed_file_changed(&m->model_stamp) &&
		(m->model.tok == NULL || !embed_file_changed(&m->tok_stamp));
}

EmbedModel *
embed_registry_get(const char *name)
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
		memset(&m->model, 0, sizeof(m->model));
	}
	if (m->cxt && !m->stale && still_current(m))
		return &m->model;

	registry_relid = find_registry_relid();
	def = registry_lookup(name);
	if (def == NULL)
	{
		/* forget the name too: callers may try any number of them */
		unload_model(m);
		hash_search(model_cache, name, HASH_REMOVE, NULL);
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", name),
				 check_function_bodies ?
				 errhint("Registered models are listed in vsim.models.") :
				 errhint("If a dump is being restored, restore the data of vsim.model_registry before the tables that embed with it: see \"Dump and restore\" in vsim's README.")));
	}
	/* ids start over when the extension is created again: check both */
	if (m->cxt && m->model.def->id == def->id && m->registry == registry_relid &&
		m->stale && still_current(m))
	{
		m->stale = false;
		return &m->model;
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
	return &m->model;
}
