/*-------------------------------------------------------------------------
 *
 * registry.c
 *	  The model registry: vsim.create_model and vsim.drop_model, the model
 *	  directory and its path checks, reading files with their SHA-256, and
 *	  looking registered models up.
 *
 * Models live in the table vsim.model_registry, which only these two
 * functions write (they are SECURITY DEFINER; EXECUTE is revoked from
 * PUBLIC, so superusers and roles granted EXECUTE register models).
 * Everybody reads it through the view vsim.models.  Every change
 * invalidates the table's relcache entry, which is how other backends
 * learn to drop their cached sessions (see embed.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#if PG_VERSION_NUM >= 140000
#include "common/cryptohash.h"
#endif
#include "embed/embed.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(vsim_create_model);
PG_FUNCTION_INFO_V1(vsim_drop_model);

/* ---------------------------------------------------------------------
 * Files
 * ---------------------------------------------------------------------
 */

/* SHA-256 of data[0..len) into digest; `path` names the file in errors. */
static void
sha256(const char *path, const uint8 *data, size_t len,
	   uint8 digest[PG_SHA256_DIGEST_LENGTH])
{
#if PG_VERSION_NUM >= 140000
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	if (pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, data, len) < 0 ||
		pg_cryptohash_final(ctx, digest, PG_SHA256_DIGEST_LENGTH) < 0)
		elog(ERROR, "could not compute SHA-256 of \"%s\": %s", path,
			 pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
#else
	pg_sha256_ctx ctx;

	pg_sha256_init(&ctx);
	pg_sha256_update(&ctx, data, len);
	pg_sha256_final(&ctx, digest);
#endif
}

char *
embed_read_file(const char *path, size_t *len,
				char sha256_hex[PG_SHA256_DIGEST_STRING_LENGTH])
{
	int			fd;
	struct stat st;
	char	   *data;
	size_t		done = 0;
	uint8		digest[PG_SHA256_DIGEST_LENGTH];

	fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\": %m", path)));
	if (fstat(fd, &st) < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat file \"%s\": %m", path)));
	if (!S_ISREG(st.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a regular file", path)));

	data = palloc_extended(st.st_size + 1, MCXT_ALLOC_HUGE);
	while (done < (size_t) st.st_size)
	{
		ssize_t		n = read(fd, data + done, st.st_size - done);

		if (n < 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read file \"%s\": %m", path)));
		if (n == 0)
			break;
		done += n;
		CHECK_FOR_INTERRUPTS();
	}
	CloseTransientFile(fd);
	data[done] = '\0';

	sha256(path, (uint8 *) data, done, digest);
	for (int i = 0; i < PG_SHA256_DIGEST_LENGTH; i++)
		sprintf(sha256_hex + 2 * i, "%02x", digest[i]);
	*len = done;
	return data;
}

/* True if `path` has a ".." component. */
static bool
has_dotdot(const char *path)
{
	const char *p = path;

	while ((p = strstr(p, "..")) != NULL)
	{
		bool		starts = p == path || p[-1] == '/';
		bool		ends = p[2] == '\0' || p[2] == '/';

		if (starts && ends)
			return true;
		p += 2;
	}
	return false;
}

/*
 * The absolute, symlink-free path of `given` (absolute, or relative to
 * vsim.model_directory), which must lie inside the model directory.
 * `what` ("model", "tokenizer") names it in messages.
 */
static char *
resolve_in_model_directory(const char *given, const char *what)
{
	char		dir[PATH_MAX];
	char		real[PATH_MAX];
	char	   *full;
	size_t		dlen;

	if (embed_model_directory == NULL || embed_model_directory[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("vsim.model_directory is not set"),
				 errdetail("Model and tokenizer files are only read from that directory."),
				 errhint("A superuser sets it, for example with ALTER SYSTEM SET vsim.model_directory = '/srv/models'.")));
	if (realpath(embed_model_directory, dir) == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not access model directory \"%s\": %m",
						embed_model_directory)));
	if (given[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s file path must not be empty", what)));
	if (has_dotdot(given))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s file path \"%s\" must not contain \"..\"", what, given)));

	full = given[0] == '/' ? pstrdup(given) : psprintf("%s/%s", dir, given);
	if (realpath(full, real) == NULL)
	{
		if (errno == ENOENT)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FILE),
					 errmsg("%s file \"%s\" does not exist", what, full)));
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not access %s file \"%s\": %m", what, full)));
	}
	dlen = strlen(dir);
	if (strncmp(real, dir, dlen) != 0 || real[dlen] != '/')
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s file \"%s\" is outside the model directory", what, given),
				 errdetail("It resolves to \"%s\"; vsim.model_directory is \"%s\".",
						   real, dir)));
	return pstrdup(real);
}

void
embed_check_path(const char *path)
{
	char		real[PATH_MAX];

	if (realpath(path, real) == NULL)
	{
		if (errno == ENOENT)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FILE),
					 errmsg("file \"%s\" of a registered model does not exist", path)));
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not access file \"%s\": %m", path)));
	}
	if (strcmp(real, path) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("file \"%s\" of a registered model now resolves to \"%s\"",
						path, real),
				 errhint("Register the model again if the move is intended.")));
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

static EmbedPooling
parse_pooling(const char *s)
{
	if (strcmp(s, "mean") == 0)
		return EMBED_POOL_MEAN;
	if (strcmp(s, "cls") == 0)
		return EMBED_POOL_CLS;
	if (strcmp(s, "none") == 0)
		return EMBED_POOL_NONE;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid pooling \"%s\"", s),
			 errhint("Valid values are \"mean\", \"cls\" and \"none\".")));
	return EMBED_POOL_NONE;		/* keep compiler quiet */
}

/*
 * Fill `def` from the options object.  Sets kind, input names, pooling,
 * normalize, lowercase, max_length, dimensions, output name and input
 * shape where given; the rest keeps the caller's defaults.
 * *normalize_set tells whether "normalize" was given.
 */
static void
parse_options(Jsonb *options, EmbedModelDef *def, bool *kind_set,
			  bool *normalize_set)
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
			*kind_set = true;
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
			def->pooling = parse_pooling(opt_string(key, &v));
		else if (strcmp(key, "normalize") == 0)
		{
			def->normalize = opt_bool(key, &v);
			*normalize_set = true;
		}
		else if (strcmp(key, "lowercase") == 0)
			def->lowercase = opt_bool(key, &v);
		else if (strcmp(key, "max_length") == 0)
			def->max_length = opt_int(key, &v, 2, 8192);
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
 * Checking a model against its session
 * ---------------------------------------------------------------------
 */

static const EmbedTensorInfo *
find_tensor(const EmbedTensorInfo *infos, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(infos[i].name, name) == 0)
			return &infos[i];
	return NULL;
}

/* "a, b, c": the names of a tensor list, for messages. */
static char *
tensor_names(const EmbedTensorInfo *infos, int n)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < n; i++)
		appendStringInfo(&buf, "%s%s", i ? ", " : "", infos[i].name);
	return buf.data;
}

/* Raise 22023: `name` is not an input (is_input) or output of the model. */
static void
no_such_tensor(const EmbedSession *s, const char *model, const char *name,
			   bool is_input)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("model \"%s\" has no %s named \"%s\"", model,
					is_input ? "input" : "output", name),
			 errdetail("Its %s are: %s.", is_input ? "inputs" : "outputs",
					   is_input ? tensor_names(s->inputs, s->n_inputs) :
					   tensor_names(s->outputs, s->n_outputs))));
}

/* Text models: resolve the three inputs (optional ones the model lacks
 * become ""), and refuse a model with inputs vsim would not feed. */
static void
check_text_inputs(EmbedModelDef *def, const EmbedSession *s,
				  bool mask_given, bool types_given)
{
	bool		given[3] = {true, mask_given, types_given};
	int			fed = 0;

	for (int i = 0; i < 3; i++)
	{
		const EmbedTensorInfo *t = def->input_names[i][0] ?
		find_tensor(s->inputs, s->n_inputs, def->input_names[i]) : NULL;

		if (t == NULL && def->input_names[i][0] && given[i])
			no_such_tensor(s, def->name, def->input_names[i], true);
		if (t == NULL)
			def->input_names[i] = "";
		else if (t->elem_type != ORT_TENSOR_INT64 || t->rank != 2)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("input \"%s\" of model \"%s\" is not an int64 tensor [batch, sequence]",
							t->name, def->name)));
		else
			fed++;
	}
	if (fed != s->n_inputs)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model \"%s\" has inputs vsim would not feed", def->name),
				 errdetail("Its inputs are: %s; vsim feeds \"%s\", \"%s\" and \"%s\".",
						   tensor_names(s->inputs, s->n_inputs),
						   def->input_names[0], def->input_names[1],
						   def->input_names[2]),
				 errhint("Name the inputs with the options input_ids, attention_mask and token_type_ids.")));
}

/* Tensor models: the input (default: the only one) and its full shape,
 * a dynamic first (batch) dimension taken as 1. */
static void
check_tensor_input(EmbedModelDef *def, const EmbedSession *s)
{
	const EmbedTensorInfo *t;

	if (def->input_names[0] == NULL)
	{
		if (s->n_inputs != 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("model \"%s\" has %d inputs", def->name, s->n_inputs),
					 errdetail("Its inputs are: %s.", tensor_names(s->inputs, s->n_inputs)),
					 errhint("Name the input to feed with the option input_name.")));
		def->input_names[0] = s->inputs[0].name;
	}
	t = find_tensor(s->inputs, s->n_inputs, def->input_names[0]);
	if (t == NULL)
		no_such_tensor(s, def->name, def->input_names[0], true);
	if (s->n_inputs != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tensor model \"%s\" must have exactly one input", def->name),
				 errdetail("Its inputs are: %s.", tensor_names(s->inputs, s->n_inputs))));
	if (t->elem_type != ORT_TENSOR_FLOAT)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("input \"%s\" of model \"%s\" is not a float tensor",
						t->name, def->name)));
	if (def->input_rank == 0)
	{
		def->input_rank = t->rank;
		for (int i = 0; i < t->rank; i++)
		{
			def->input_shape[i] = t->dims[i] < 0 && i == 0 ? 1 : t->dims[i];
			if (def->input_shape[i] < 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("input \"%s\" of model \"%s\" has a dynamic dimension %d",
								t->name, def->name, i),
						 errhint("Give the full shape with the option input_shape.")));
		}
	}
	else if (def->input_rank != t->rank)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option input_shape has %d dimensions, input \"%s\" of model \"%s\" has %d",
						def->input_rank, t->name, def->name, t->rank)));
	else
		for (int i = 0; i < t->rank; i++)
			if (t->dims[i] >= 0 && t->dims[i] != def->input_shape[i])
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("option input_shape does not fit input \"%s\" of model \"%s\"",
								t->name, def->name),
						 errdetail("Dimension %d is " INT64_FORMAT " in the model.",
								   i, (int64) t->dims[i])));
}

/* The output: the option, else sentence_embedding / last_hidden_state
 * for text models, else the first output. */
static void
check_output(EmbedModelDef *def, const EmbedSession *s)
{
	if (def->output_name == NULL && def->kind == EMBED_INPUT_TEXT)
	{
		if (find_tensor(s->outputs, s->n_outputs, "sentence_embedding"))
			def->output_name = "sentence_embedding";
		else if (find_tensor(s->outputs, s->n_outputs, "last_hidden_state"))
			def->output_name = "last_hidden_state";
	}
	if (def->output_name == NULL)
		def->output_name = s->outputs[0].name;
	if (!find_tensor(s->outputs, s->n_outputs, def->output_name))
		no_such_tensor(s, def->name, def->output_name, false);
}

/* Check `def` against its loaded session `s` (tokenizer `tok` for text
 * models) and run the trial inference; fills in the defaults. */
static void
check_model(EmbedModelDef *def, EmbedSession *s, const EmbedTokenizer *tok)
{
	if (def->kind == EMBED_INPUT_TEXT)
	{
		bool		mask_given = def->input_names[1] != NULL;
		bool		types_given = def->input_names[2] != NULL;

		if (def->input_names[0] == NULL)
			def->input_names[0] = "input_ids";
		if (def->input_names[1] == NULL)
			def->input_names[1] = "attention_mask";
		if (def->input_names[2] == NULL)
			def->input_names[2] = "token_type_ids";
		check_text_inputs(def, s, mask_given, types_given);
	}
	else
		check_tensor_input(def, s);
	check_output(def, s);
	embed_probe_model(def, s, tok);
}

/* ---------------------------------------------------------------------
 * SQL interface
 * ---------------------------------------------------------------------
 */

Oid
embed_registry_relid(void)
{
	Oid			nsp = get_namespace_oid("vsim", true);

	return OidIsValid(nsp) ? get_relname_relid("model_registry", nsp) : InvalidOid;
}

/* Tell every backend (this one included) that the registry changed. */
static void
invalidate_registry(void)
{
	Relation	rel = table_open(embed_registry_relid(), RowExclusiveLock);

	CacheInvalidateRelcache(rel);
	table_close(rel, NoLock);
}

static Datum
text_array(char **items, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		d[i] = CStringGetTextDatum(items[i]);
	return PointerGetDatum(construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT));
}

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

/*
 * vsim.create_model(name text, model_path text, tokenizer_path text,
 *					 options jsonb, replace boolean) RETURNS integer
 *
 * Registers a model: resolves both paths inside vsim.model_directory,
 * records their SHA-256, loads the model (ONNX Runtime needed), checks
 * the inputs and outputs named by the options, and runs one trial
 * inference to learn or check the output dimensions.  Returns the
 * dimensions.  Errors: 42710 if the name exists (unless replace), 42501 for
 * a path outside the directory, 58P01 for a missing file, 22023 for bad
 * options or names not in the model, 22000 for an output of the wrong shape.
 */
Datum
vsim_create_model(PG_FUNCTION_ARGS)
{
	EmbedModelDef *def = palloc0(sizeof(EmbedModelDef));
	Jsonb	   *options;
	bool		replace;
	bool		kind_set = false;
	bool		normalize_set = false;
	char	   *model_given;
	char	   *bytes;
	size_t		len;
	MemoryContext cxt;
	EmbedSession *s;
	EmbedTokenizer *tok = NULL;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model name and model path must not be null")));
	def->name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (def->name[0] == '\0' || strlen(def->name) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model name must have 1 to %d bytes", NAMEDATALEN - 1)));
	model_given = text_to_cstring(PG_GETARG_TEXT_PP(1));
	options = PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3);
	replace = !PG_ARGISNULL(4) && PG_GETARG_BOOL(4);

	/* defaults; parse_options overrides */
	def->kind = PG_ARGISNULL(2) ? EMBED_INPUT_TENSOR : EMBED_INPUT_TEXT;
	def->pooling = EMBED_POOL_AUTO;
	def->lowercase = true;
	def->input_scale = 1;
	if (options)
		parse_options(options, def, &kind_set, &normalize_set);
	else
		options = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
	if (!normalize_set)
		def->normalize = def->kind == EMBED_INPUT_TEXT;
	if (def->kind == EMBED_INPUT_TEXT && PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("text model \"%s\" needs a tokenizer file", def->name),
				 errhint("Pass the path of its tokenizer.json or vocab.txt as tokenizer_path.")));
	if (def->kind == EMBED_INPUT_TENSOR && !PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tensor model \"%s\" takes no tokenizer", def->name)));

	def->model_path = resolve_in_model_directory(model_given, "model");
	if (def->kind == EMBED_INPUT_TEXT)
		def->tokenizer_path =
			resolve_in_model_directory(text_to_cstring(PG_GETARG_TEXT_PP(2)),
									   "tokenizer");

	cxt = AllocSetContextCreate(CurrentMemoryContext, "vsim model check",
								ALLOCSET_DEFAULT_SIZES);
	if (def->kind == EMBED_INPUT_TEXT)
	{
		bytes = embed_read_file(def->tokenizer_path, &len, def->tokenizer_sha256);
		tok = embed_tokenizer_load(def->tokenizer_path, bytes, len,
								   def->lowercase, cxt);
		pfree(bytes);
		if (def->max_length == 0)
			def->max_length = embed_tokenizer_max_length(tok) > 0 ?
				embed_tokenizer_max_length(tok) : 512;
	}
	bytes = embed_read_file(def->model_path, &len, def->model_sha256);
	s = embed_ort_open(def->model_path, bytes, len, 1, cxt);
	pfree(bytes);
	PG_TRY();
	{
		check_model(def, s, tok);
	}
	PG_CATCH();
	{
		embed_ort_close(s);
		PG_RE_THROW();
	}
	PG_END_TRY();
	embed_ort_close(s);

	store_model(def, options, replace);
	PG_RETURN_INT32(def->dimensions);
}

/*
 * vsim.drop_model(name text, if_exists boolean) RETURNS boolean
 *
 * Removes a model from the registry; backends drop their cached session
 * at their next call.  Returns whether a model was removed; raises 42704
 * for an unknown name unless if_exists.
 */
Datum
vsim_drop_model(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	bool		if_exists = PG_GETARG_BOOL(1);
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
	PG_RETURN_BOOL(found);
}

/* ---------------------------------------------------------------------
 * Lookup
 * ---------------------------------------------------------------------
 */

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

EmbedModelDef *
embed_registry_lookup(const char *name)
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
		def->pooling = parse_pooling(spi_string(10));
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
