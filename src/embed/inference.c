/*-------------------------------------------------------------------------
 *
 * inference.c
 *	  Running a loaded model: text batches (tokenized, padded, run, pooled,
 *	  normalised), tensor inputs, raw outputs by name, and registration's
 *	  check of a model against its session with one trial inference.  Also
 *	  the settings vsim.embed_batch_size and vsim.inference_memory_limit,
 *	  and the names of the pooling modes.
 *
 * Everything here runs on ort.c (sessions and runs) and tokenizer.c; it
 * reads no file and no catalog: callers hand in an EmbedModel.
 *
 * Memory: ONNX Runtime allocates a run's tensors outside PostgreSQL's
 * memory contexts, and their size grows with the batch and the square of
 * the sequence length, both of which callers choose.  So every text run
 * is estimated first (text_run_bytes) and held to
 * vsim.inference_memory_limit: batches are split to fit, and a text that
 * cannot fit alone is an error.  Runs estimated at SHRINK_BYTES or more
 * have ONNX Runtime's memory arena shrunk when they end, so that the
 * backend does not keep their memory.  Tensor models run one input of
 * their registered shape at a time, which registration's trial run has
 * already run, so they are neither estimated nor shrunk: the arena keeps
 * the memory of that one shape.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>
#include <math.h>

#include "embed/embed.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "vector/vector.h"

static int	batch_size = 32;
static int	memory_limit = 1024 * 1024;	/* kB */

/*
 * vsim.inference_memory_limit is superuser-only (PGC_SUSET), unlike
 * work_mem: ONNX Runtime's memory is outside PostgreSQL's accounting, and
 * a backend the kernel's out-of-memory killer ends makes the postmaster
 * restart every backend, so the limit protects the server from its users.
 * An administrator can still grant SET on it; users make their own runs
 * smaller with vsim.embed_batch_size.
 */
void
embed_inference_init(void)
{
	DefineCustomIntVariable("vsim.embed_batch_size",
							"Texts per inference in vsim.embed(model, text[]).",
							NULL,
							&batch_size,
							32, 1, 1024,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("vsim.inference_memory_limit",
							"Largest estimated memory of one inference of a text model.",
							"Batches estimated above it are split; a text estimated above it alone is an error.",
							&memory_limit,
							1024 * 1024, 64, MAX_KILOBYTES,
							PGC_SUSET, GUC_UNIT_KB, NULL, NULL, NULL);
}

/* ---------------------------------------------------------------------
 * Pooling modes
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

EmbedPooling
embed_pooling_parse(const char *s)
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

/* ---------------------------------------------------------------------
 * Outputs and pooling
 * ---------------------------------------------------------------------
 */

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
			vector_l2_normalize_into(r, dims, r);
		result[b] = r;
	}
}

/* ---------------------------------------------------------------------
 * Text batches
 * ---------------------------------------------------------------------
 */

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
 * Estimated memory in bytes of one run of text model `def` on nb texts
 * padded to seq tokens.  A transformer encoder of hidden size H (taken to
 * be def->dimensions, the output's last dimension) holds at its peak about
 *	 8 * nb * seq * 3					the int64 inputs vsim builds (ids,
 *										mask, type ids)
 * + 4 * nb * seq * H * 10				float tensors [nb, seq, H] alive at
 *										once: the output and vsim's copy,
 *										residuals, query, key, value, and
 *										the feed-forward layer's 4 H
 * + 4 * nb * seq^2 * max(1, H/32) * 3	attention: the scores, their masked
 *										copy and the softmax, one [seq, seq]
 *										matrix per head, with heads of at
 *										least 32 dimensions (as in MiniLM
 *										and BERT)
 * Measured growth of the resident size of a backend running a MiniLM-sized
 * encoder (H 384, 12 heads; batches of 2 to 32 texts of 122 to 512
 * tokens) peaked at 65 to 96% of it, the tiny test encoder's (H 32) at
 * 89%; runs estimated below 10 MB add a few MB of fixed costs.  In
 * double, which cannot overflow here.
 */
#define EST_HIDDEN_TENSORS 10
#define EST_HEAD_DIMS 32
#define EST_ATTENTION_TENSORS 3

static double
text_run_bytes(const EmbedModelDef *def, int nb, int seq)
{
	double		tokens = (double) nb * seq;
	double		heads = Max(1, def->dimensions / EST_HEAD_DIMS);

	return tokens * (sizeof(int64) * 3 +
					 sizeof(float) * (double) def->dimensions * EST_HIDDEN_TENSORS) +
		sizeof(float) * tokens * seq * heads * EST_ATTENTION_TENSORS;
}

/*
 * Text runs estimated at this size or more shrink the arena when they end.
 * Smaller runs keep it: a run of a bag-of-words model takes some 15 us,
 * and mapping its memory afresh every time cost a few per cent (measured);
 * what the arena keeps stays below about this size.
 */
#define SHRINK_BYTES (16.0 * 1024 * 1024)

/*
 * How many of texts[0..n) (sorted by length) run at once within
 * vsim.inference_memory_limit: at least one.  Raises 54000 when texts[0]
 * alone does not fit.
 */
static int
texts_within_limit(const EmbedModelDef *def, const TokenizedText *texts,
				   int n)
{
	double		limit = (double) memory_limit * 1024;
	int			nb = 0;

	while (nb < n && text_run_bytes(def, nb + 1, texts[nb].len) <= limit)
		nb++;
	if (nb == 0)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("inference of model \"%s\" would exceed vsim.inference_memory_limit",
						def->name),
				 errdetail("A text of %d tokens needs an estimated %.0f kB; the limit is %d kB.",
						   texts[0].len, ceil(text_run_bytes(def, 1, texts[0].len) / 1024),
						   memory_limit),
				 errhint("Raise vsim.inference_memory_limit, or register the model with a lower max_length.")));
	return nb;
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
	double		estimate;
	int64	   *buf;
	EmbedInput	in[3];
	int			n_in = 0;
	EmbedOutput out;
	float	  **pooled = palloc(sizeof(float *) * nb);
	const char *out_name = raw_name ? raw_name : def->output_name;

	for (int b = 0; b < nb; b++)
		seq = Max(seq, texts[b].len);
	estimate = text_run_bytes(def, nb, seq);
	ereport(DEBUG1,
			(errmsg_internal("inference of model \"%s\": %d texts of %d tokens, estimated %.0f kB",
							 def->name, nb, seq, ceil(estimate / 1024))));
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
	embed_ort_run(s, def->name, in, n_in, &out_name, 1, &out,
				  estimate >= SHRINK_BYTES);
	if (raw_name)
		*raw = out;
	else
	{
		pool_output(def, &out, nb, seq, buf + nb * seq, pooled);
		for (int b = 0; b < nb; b++)
			result[texts[b].index] = pooled[b];
		pfree(out.data);
	}
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

/* ---------------------------------------------------------------------
 * Tensor inputs
 * ---------------------------------------------------------------------
 */

/* Run a tensor model on the n floats at x (scaled in place by the model's
 * input_scale), fetching output `output`; raises 22023 unless n fills the
 * registered input shape. */
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
	embed_ort_run(s, def->name, &in, 1, &output, 1, out, false);
}

/* A vector of the `dims` floats at x; raises 22000 (NaN) or 22003
 * (infinity) for a non-finite element. */
static Vector *
float_vector(const float *x, int dims)
{
	Vector	   *v = new_vector(dims);

	memcpy(v->x, x, sizeof(float) * dims);
	vector_check_finite(v->x, dims);
	return v;
}

/* The vector of a tensor model's output `out` (its elements after the
 * batch dimension, normalised in place if the model says so), checked
 * against def->dimensions. */
static Vector *
tensor_vector(EmbedModelDef *def, EmbedOutput *out)
{
	if (out->rank < 1 || out->dims[0] != 1 || out->count != def->dimensions)
		bad_output_shape(def, out, def->dimensions > 0 ?
						 psprintf("[1, %d]", def->dimensions) : "[1, ...]");
	if (def->normalize)
		vector_l2_normalize_into(out->data, def->dimensions, out->data);
	return float_vector(out->data, def->dimensions);
}

/* ---------------------------------------------------------------------
 * Inputs and outputs by name
 * ---------------------------------------------------------------------
 */

/* The tensor called `name` among infos[0..n), or NULL. */
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

/* ---------------------------------------------------------------------
 * Entry points of the SQL functions
 * ---------------------------------------------------------------------
 */

/* Raise 22023 unless model `m` has an output named `output`. */
static void
check_output_name(const EmbedModel *m, const char *output)
{
	if (!find_tensor(m->session->outputs, m->session->n_outputs, output))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model \"%s\" has no output named \"%s\"",
						m->def->name, output)));
}

int
embed_text_tokens(const EmbedModel *m, text *t, int64 **ids)
{
	TokenizedText tt;

	tokenize_text(m->def, m->tok, t, &tt);
	*ids = tt.ids;
	return tt.len;
}

void
embed_texts(const EmbedModel *m, text **texts, int n, Vector **vectors)
{
	TokenizedText *tt = palloc(sizeof(TokenizedText) * Max(n, 1));
	float	  **result = palloc0(sizeof(float *) * Max(n, 1));
	int			nt = 0;

	for (int i = 0; i < n; i++)
	{
		if (texts[i] == NULL)
			continue;
		tokenize_text(m->def, m->tok, texts[i], &tt[nt]);
		tt[nt++].index = i;
	}
	/* similar lengths in a batch: little work goes into padding */
	qsort(tt, nt, sizeof(TokenizedText), compare_length);
	/* a text too large to run even alone fails the call before any work */
	if (nt > 0)
		texts_within_limit(m->def, tt + nt - 1, 1);
	for (int start = 0, nb = 0; start < nt; start += nb)
	{
		CHECK_FOR_INTERRUPTS();
		nb = texts_within_limit(m->def, tt + start,
								Min(batch_size, nt - start));
		run_text_batch(m->def, m->session, tt + start, nb, result, NULL,
					   NULL);
	}
	for (int i = 0; i < n; i++)
		vectors[i] = texts[i] ? float_vector(result[i], m->def->dimensions) : NULL;
}

Vector *
embed_tensor(const EmbedModel *m, float *x, int n)
{
	EmbedOutput out;

	run_tensor(m->def, m->session, x, n, m->def->output_name, &out);
	return tensor_vector(m->def, &out);
}

void
embed_text_output(const EmbedModel *m, text *t, const char *output,
				  EmbedOutput *out)
{
	TokenizedText tt;

	check_output_name(m, output);
	tokenize_text(m->def, m->tok, t, &tt);
	tt.index = 0;
	texts_within_limit(m->def, &tt, 1);
	run_text_batch(m->def, m->session, &tt, 1, NULL, output, out);
}

void
embed_tensor_output(const EmbedModel *m, float *x, int n, const char *output,
					EmbedOutput *out)
{
	check_output_name(m, output);
	run_tensor(m->def, m->session, x, n, output, out);
}

/* ---------------------------------------------------------------------
 * Checking a model at registration
 * ---------------------------------------------------------------------
 */

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

/* Take the input shape from the model's input `t` (a dynamic first (batch)
 * dimension taken as 1), or check the input_shape option against it. */
static void
check_input_shape(EmbedModelDef *def, const EmbedTensorInfo *t)
{
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

/*
 * Raise 54000 when the input shape has more elements than an array holds
 * (the input comes from one real[]).  Checked factor by factor, because
 * the product of up to EMBED_MAX_RANK dimensions of up to 2^31 - 1
 * overflows int64 (and the trial run and every call size their buffers
 * from it).
 */
static void
check_input_elements(const EmbedModelDef *def, const EmbedTensorInfo *t)
{
	int64		elements = 1;

	for (int i = 0; i < def->input_rank; i++)
	{
		if (def->input_shape[i] > 0 &&
			elements > (int64) MaxArraySize / def->input_shape[i])
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("input \"%s\" of model \"%s\" has more elements than an input array can hold",
							t->name, def->name),
					 errdetail("An array holds at most %d elements.",
							   (int) MaxArraySize)));
		elements *= def->input_shape[i];
	}
}

/* Tensor models: the input (default: the only one) and its full shape. */
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
	check_input_shape(def, t);
	check_input_elements(def, t);
}

/* The output: the option, else sentence_embedding / last_hidden_state
 * for text models, else the first output.  22023 for a model without
 * outputs, which has nothing to embed with. */
static void
check_output(EmbedModelDef *def, const EmbedSession *s)
{
	if (s->n_outputs == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model \"%s\" has no outputs", def->name)));
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

/*
 * Registration's trial inference of `def` on session `s` (tokenizer `tok`
 * for text models): two texts of different lengths, or zeros for a tensor
 * model.  Fills in def->pooling when it is EMBED_POOL_AUTO and
 * def->dimensions when it is 0; raises 22000 when the output's shape does
 * not fit the declaration.
 */
static void
probe_model(EmbedModelDef *def, EmbedSession *s, const EmbedTokenizer *tok)
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

void
embed_check_model(EmbedModel *m)
{
	EmbedModelDef *def = m->def;
	EmbedSession *s = m->session;

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
	probe_model(def, s, m->tok);
}
