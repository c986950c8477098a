/*-------------------------------------------------------------------------
 *
 * embed.c
 *	  The embedding subsystem's SQL functions (vsim.create_model,
 *	  vsim.drop_model, vsim.embed, vsim.embed_output, vsim.tokenize,
 *	  vsim.onnxruntime_version) and embed_init, which registers every
 *	  file's settings.
 *
 * This file only converts between SQL values and the C interface of the
 * files below it (see embed.h); the work happens there.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "embed/embed.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "vector/vector.h"

PG_FUNCTION_INFO_V1(vsim_create_model);
PG_FUNCTION_INFO_V1(vsim_drop_model);
PG_FUNCTION_INFO_V1(vsim_embed_text);
PG_FUNCTION_INFO_V1(vsim_embed_texts);
PG_FUNCTION_INFO_V1(vsim_embed_tensor);
PG_FUNCTION_INFO_V1(vsim_embed_output_tensor);
PG_FUNCTION_INFO_V1(vsim_embed_output_text);
PG_FUNCTION_INFO_V1(vsim_tokenize);
PG_FUNCTION_INFO_V1(vsim_onnxruntime_version);

void
embed_init(void)
{
	embed_ort_init();
	embed_model_file_init();
	embed_registry_init();
	embed_inference_init();
}

/* ---------------------------------------------------------------------
 * Registry
 * ---------------------------------------------------------------------
 */

/*
 * vsim.create_model(name text, model_path text, tokenizer_path text,
 *					 options jsonb, replace boolean) RETURNS integer
 *
 * Registers a model: resolves both paths inside vsim.model_directory,
 * records their SHA-256, loads the model (ONNX Runtime needed), checks
 * the inputs and outputs named by the options, and runs one trial
 * inference to learn or check the output dimensions.  Returns the
 * dimensions.  Errors: 42710 if the name exists (unless replace), 58P01 for
 * a path refused (missing or outside the directory alike), 42809 for a file
 * that is not a regular file, 22023 for bad options or names not in the
 * model, 22000 for an output of the wrong shape.
 */
Datum
vsim_create_model(PG_FUNCTION_ARGS)
{
	char	   *name;
	char	   *model_path;
	char	   *tokenizer_path;
	Jsonb	   *options;
	bool		replace;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model name and model path must not be null")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	model_path = text_to_cstring(PG_GETARG_TEXT_PP(1));
	tokenizer_path = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	options = PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3);
	replace = !PG_ARGISNULL(4) && PG_GETARG_BOOL(4);
	PG_RETURN_INT32(embed_registry_create(name, model_path, tokenizer_path,
										  options, replace));
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
	PG_RETURN_BOOL(embed_registry_drop(text_to_cstring(PG_GETARG_TEXT_PP(0)),
									   PG_GETARG_BOOL(1)));
}

/* ---------------------------------------------------------------------
 * Embedding
 * ---------------------------------------------------------------------
 */

/* The loaded model named by argument 0, which must take `kind` input. */
static EmbedModel *
model_arg(FunctionCallInfo fcinfo, EmbedInputKind kind)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	EmbedModel *m = embed_registry_get(name);

	if (m->def->kind != kind)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("model \"%s\" takes %s input", name,
						m->def->kind == EMBED_INPUT_TEXT ? "text" : "tensor (real[])"),
				 errhint("Call vsim.embed with a %s argument.",
						 m->def->kind == EMBED_INPUT_TEXT ? "text" : "real[]")));
	return m;
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

/* A float output as a one-dimensional real[], for vsim.embed_output. */
static ArrayType *
output_array(const EmbedOutput *out)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(out->count, 1));

	for (int64 i = 0; i < out->count; i++)
		d[i] = Float4GetDatum(out->data[i]);
	return construct_array(d, (int) out->count, FLOAT4OID, 4, true, TYPALIGN_INT);
}

/* vectors[0..n) (null where nulls[i]) as an array of the function's
 * result type, vector[]. */
static ArrayType *
vector_array(FunctionCallInfo fcinfo, Vector **vectors, bool *nulls, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));
	int			dims[1] = {n};
	int			lbs[1] = {1};
	Oid			vector_oid = get_element_type(get_fn_expr_rettype(fcinfo->flinfo));
	int16		typlen;
	bool		typbyval;
	char		typalign;

	for (int i = 0; i < n; i++)
		d[i] = nulls[i] ? (Datum) 0 : PointerGetDatum(vectors[i]);
	get_typlenbyvalalign(vector_oid, &typlen, &typbyval, &typalign);
	return construct_md_array(d, nulls, n > 0 ? 1 : 0, dims, lbs, vector_oid,
							  typlen, typbyval, typalign);
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
	EmbedModel *m = model_arg(fcinfo, EMBED_INPUT_TEXT);
	text	   *input = PG_GETARG_TEXT_PP(1);
	Vector	   *v;

	embed_texts(m, &input, 1, &v);
	PG_RETURN_VECTOR_P(v);
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
	EmbedModel *m = model_arg(fcinfo, EMBED_INPUT_TEXT);
	ArrayType  *a = PG_GETARG_ARRAYTYPE_P(1);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	text	  **texts;
	Vector	  **vectors;

	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("inputs must be a one-dimensional array")));
	deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	texts = palloc(sizeof(text *) * Max(n, 1));
	vectors = palloc(sizeof(Vector *) * Max(n, 1));
	for (int i = 0; i < n; i++)
		texts[i] = nulls[i] ? NULL : DatumGetTextPP(elems[i]);
	embed_texts(m, texts, n, vectors);
	PG_RETURN_ARRAYTYPE_P(vector_array(fcinfo, vectors, nulls, n));
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
	EmbedModel *m = model_arg(fcinfo, EMBED_INPUT_TENSOR);
	int			n;
	float	   *x = float_array(PG_GETARG_ARRAYTYPE_P(1), &n);

	PG_RETURN_VECTOR_P(embed_tensor(m, x, n));
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
	EmbedModel *m = model_arg(fcinfo, EMBED_INPUT_TENSOR);
	int			n;
	float	   *x = float_array(PG_GETARG_ARRAYTYPE_P(1), &n);
	EmbedOutput out;

	embed_tensor_output(m, x, n, text_to_cstring(PG_GETARG_TEXT_PP(2)), &out);
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
	EmbedModel *m = model_arg(fcinfo, EMBED_INPUT_TEXT);
	EmbedOutput out;

	embed_text_output(m, PG_GETARG_TEXT_PP(1),
					  text_to_cstring(PG_GETARG_TEXT_PP(2)), &out);
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
	EmbedModel *m = model_arg(fcinfo, EMBED_INPUT_TEXT);
	int64	   *ids;
	int			n = embed_text_tokens(m, PG_GETARG_TEXT_PP(1), &ids);
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		d[i] = Int32GetDatum((int32) ids[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(d, n, INT4OID, 4, true, TYPALIGN_INT));
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
