/*-------------------------------------------------------------------------
 *
 * embed.h
 *	  Interface between the files of vsim's in-database embedding
 *	  subsystem, and vsim's own declaration of the part of ONNX Runtime's C
 *	  ABI it calls.  The rest of vsim calls only embed_init.
 *
 * Files, in dependency order: each calls functions of files above it only.
 *	  onnx_check.c	the check of a model file's bytes before ONNX Runtime
 *					reads them (a protobuf reader; no external data)
 *	  ort.c			ONNX Runtime in a backend: dlopen on first use, the
 *					backend's OrtEnv, sessions, runs (signals, logging,
 *					cancel watchdog); setting vsim.onnxruntime_library
 *	  tokenizer.c	BERT WordPiece tokenizer (tokenizer.json or vocab.txt)
 *	  model_file.c	model and tokenizer files: path checks against the
 *					setting vsim.model_directory, reading with SHA-256,
 *					change stamps
 *	  inference.c	running a model: text batches (held to an estimated
 *					memory limit), pooling, tensor inputs, named outputs,
 *					and registration's model check with a trial inference;
 *					settings vsim.embed_batch_size and
 *					vsim.inference_memory_limit
 *	  registry.c	the table vsim.model_registry (register, drop, look
 *					up) and the per-backend cache of loaded models with its
 *					invalidation; setting vsim.intra_op_threads
 *	  embed.c		the SQL functions, and embed_init, which calls every
 *					file's init
 *
 * Calls between them:
 *	  onnx_check.c, tokenizer.c, model_file.c	none
 *	  ort.c			onnx_check.c
 *	  inference.c	ort.c, tokenizer.c
 *	  registry.c	ort.c, tokenizer.c, model_file.c, inference.c
 *	  embed.c		ort.c, model_file.c, inference.c, registry.c
 *
 * Each setting is defined in the file that reads it, by that file's init
 * function.  The sections below follow the same order.
 *
 * No ONNX Runtime header is used.  The API table below lists only the slots
 * vsim calls, at the slot numbers given in docs/onnxruntime-abi.md (with
 * their signatures, the enum values and the library's origin); the table
 * is append-only across releases, so a slot's index never changes.  Static
 * assertions pin every member to its slot.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSIM_EMBED_H
#define VSIM_EMBED_H

#include "postgres.h"

#include <stdint.h>

#include "common/sha2.h"
#include "utils/jsonb.h"
#include "utils/palloc.h"
#include "vector/vector.h"

/* ---------------------------------------------------------------------
 * ONNX Runtime ABI subset
 * ---------------------------------------------------------------------
 */

/* API version vsim asks for: every slot below exists from version 15 on. */
#define VSIM_ORT_API_VERSION 15

/* Opaque ORT objects. */
typedef struct OrtStatus OrtStatus;
typedef struct OrtEnv OrtEnv;
typedef struct OrtSession OrtSession;
typedef struct OrtSessionOptions OrtSessionOptions;
typedef struct OrtRunOptions OrtRunOptions;
typedef struct OrtValue OrtValue;
typedef struct OrtMemoryInfo OrtMemoryInfo;
typedef struct OrtAllocator OrtAllocator;
typedef struct OrtTypeInfo OrtTypeInfo;
typedef struct OrtTensorTypeAndShapeInfo OrtTensorTypeAndShapeInfo;

/* Enum values (ints in the ABI).  Log severities run from 0 (verbose) to
 * 4 (fatal). */
#define ORT_LOGGING_LEVEL_WARNING	2
#define ORT_TENSOR_FLOAT			1
#define ORT_TENSOR_INT64			7
#define ORT_ARENA_ALLOCATOR			1
#define ORT_MEM_TYPE_DEFAULT		0
#define ORT_GRAPH_OPT_ALL			99
#define ORT_EXECUTION_SEQUENTIAL	0

/* Logger callback; ORT may call it on its own threads. */
typedef void (*OrtLoggingFunction) (void *param, int severity,
									const char *category, const char *logid,
									const char *code_location,
									const char *message);

/* OrtGetApiBase() result: two function pointers. */
typedef struct OrtApiBase
{
	const void *(*GetApi) (uint32_t version);	/* NULL if too old */
	const char *(*GetVersionString) (void);
} OrtApiBase;

#define ORT_GAP(from, to) void *gap_##from##_##to[(to) - (from) + 1]

/* The API table: a flat array of function pointers, one per slot. */
typedef struct OrtApi
{
	void	   *CreateStatus;	/* 0, unused */
	void	   *GetErrorCode;	/* 1, unused */
	const char *(*GetErrorMessage) (const OrtStatus *st);	/* 2 */
	void	   *CreateEnv;		/* 3, unused */
	OrtStatus  *(*CreateEnvWithCustomLogger) (OrtLoggingFunction fn,
											  void *param, int level,
											  const char *logid,
											  OrtEnv **out);	/* 4 */
	ORT_GAP(5, 7);
	OrtStatus  *(*CreateSessionFromArray) (const OrtEnv *env,
										   const void *bytes, size_t len,
										   const OrtSessionOptions *opts,
										   OrtSession **out);	/* 8 */
	OrtStatus  *(*Run) (OrtSession *s, const OrtRunOptions *ro,
						const char *const *input_names,
						const OrtValue *const *inputs, size_t n_inputs,
						const char *const *output_names, size_t n_outputs,
						OrtValue **outputs);	/* 9 */
	OrtStatus  *(*CreateSessionOptions) (OrtSessionOptions **out);	/* 10 */
	ORT_GAP(11, 12);
	OrtStatus  *(*SetSessionExecutionMode) (OrtSessionOptions *o,
											int mode);	/* 13 */
	ORT_GAP(14, 22);
	OrtStatus  *(*SetSessionGraphOptimizationLevel) (OrtSessionOptions *o,
													 int level);	/* 23 */
	OrtStatus  *(*SetIntraOpNumThreads) (OrtSessionOptions *o, int n);	/* 24 */
	OrtStatus  *(*SetInterOpNumThreads) (OrtSessionOptions *o, int n);	/* 25 */
	ORT_GAP(26, 29);
	OrtStatus  *(*SessionGetInputCount) (const OrtSession *s,
										 size_t *out);	/* 30 */
	OrtStatus  *(*SessionGetOutputCount) (const OrtSession *s,
										  size_t *out); /* 31 */
	void	   *SessionGetOverridableInitializerCount;	/* 32, unused */
	OrtStatus  *(*SessionGetInputTypeInfo) (const OrtSession *s, size_t i,
											OrtTypeInfo **out); /* 33 */
	ORT_GAP(34, 35);
	OrtStatus  *(*SessionGetInputName) (const OrtSession *s, size_t i,
										OrtAllocator *a, char **out);	/* 36 */
	OrtStatus  *(*SessionGetOutputName) (const OrtSession *s, size_t i,
										 OrtAllocator *a, char **out);	/* 37 */
	void	   *SessionGetOverridableInitializerName;	/* 38, unused */
	OrtStatus  *(*CreateRunOptions) (OrtRunOptions **out);	/* 39 */
	ORT_GAP(40, 45);
	OrtStatus  *(*RunOptionsSetTerminate) (OrtRunOptions *ro);	/* 46 */
	ORT_GAP(47, 48);
	OrtStatus  *(*CreateTensorWithDataAsOrtValue) (const OrtMemoryInfo *mi,
												   void *data, size_t bytes,
												   const int64_t *shape,
												   size_t rank, int type,
												   OrtValue **out); /* 49 */
	void	   *IsTensor;		/* 50, unused */
	OrtStatus  *(*GetTensorMutableData) (OrtValue *v, void **out);	/* 51 */
	ORT_GAP(52, 54);
	OrtStatus  *(*CastTypeInfoToTensorInfo) (const OrtTypeInfo *ti,
											 const OrtTensorTypeAndShapeInfo **out);	/* 55 */
	ORT_GAP(56, 59);
	OrtStatus  *(*GetTensorElementType) (const OrtTensorTypeAndShapeInfo *i,
										 int *out); /* 60 */
	OrtStatus  *(*GetDimensionsCount) (const OrtTensorTypeAndShapeInfo *i,
									   size_t *out);	/* 61 */
	OrtStatus  *(*GetDimensions) (const OrtTensorTypeAndShapeInfo *i,
								  int64_t *dims, size_t n);	/* 62 */
	ORT_GAP(63, 64);
	OrtStatus  *(*GetTensorTypeAndShape) (const OrtValue *v,
										  OrtTensorTypeAndShapeInfo **out);	/* 65 */
	ORT_GAP(66, 68);
	OrtStatus  *(*CreateCpuMemoryInfo) (int allocator_type, int mem_type,
										OrtMemoryInfo **out);	/* 69 */
	ORT_GAP(70, 75);
	OrtStatus  *(*AllocatorFree) (OrtAllocator *a, void *p);	/* 76 */
	void	   *AllocatorGetInfo;	/* 77, unused */
	OrtStatus  *(*GetAllocatorWithDefaultOptions) (OrtAllocator **out);	/* 78 */
	ORT_GAP(79, 91);
	void		(*ReleaseEnv) (OrtEnv *e);	/* 92 */
	void		(*ReleaseStatus) (OrtStatus *st);	/* 93 */
	void		(*ReleaseMemoryInfo) (OrtMemoryInfo *mi);	/* 94 */
	void		(*ReleaseSession) (OrtSession *s);	/* 95 */
	void		(*ReleaseValue) (OrtValue *v);	/* 96 */
	void		(*ReleaseRunOptions) (OrtRunOptions *ro);	/* 97 */
	void		(*ReleaseTypeInfo) (OrtTypeInfo *ti);	/* 98 */
	void		(*ReleaseTensorTypeAndShapeInfo) (OrtTensorTypeAndShapeInfo *i);	/* 99 */
	void		(*ReleaseSessionOptions) (OrtSessionOptions *o);	/* 100 */
	ORT_GAP(101, 129);
	OrtStatus  *(*AddSessionConfigEntry) (OrtSessionOptions *o,
										  const char *key,
										  const char *value);	/* 130 */
	ORT_GAP(131, 164);
	OrtStatus  *(*AddRunConfigEntry) (OrtRunOptions *ro, const char *key,
									  const char *value);	/* 165 */
} OrtApi;

#define ORT_SLOT(member, slot) \
	StaticAssertDecl(offsetof(OrtApi, member) == (slot) * sizeof(void *), \
					 "OrtApi." #member " must be slot " #slot)

ORT_SLOT(GetErrorMessage, 2);
ORT_SLOT(CreateEnvWithCustomLogger, 4);
ORT_SLOT(CreateSessionFromArray, 8);
ORT_SLOT(Run, 9);
ORT_SLOT(CreateSessionOptions, 10);
ORT_SLOT(SetSessionExecutionMode, 13);
ORT_SLOT(SetSessionGraphOptimizationLevel, 23);
ORT_SLOT(SetIntraOpNumThreads, 24);
ORT_SLOT(SetInterOpNumThreads, 25);
ORT_SLOT(SessionGetInputCount, 30);
ORT_SLOT(SessionGetOutputCount, 31);
ORT_SLOT(SessionGetInputTypeInfo, 33);
ORT_SLOT(SessionGetInputName, 36);
ORT_SLOT(SessionGetOutputName, 37);
ORT_SLOT(CreateRunOptions, 39);
ORT_SLOT(RunOptionsSetTerminate, 46);
ORT_SLOT(CreateTensorWithDataAsOrtValue, 49);
ORT_SLOT(GetTensorMutableData, 51);
ORT_SLOT(CastTypeInfoToTensorInfo, 55);
ORT_SLOT(GetTensorElementType, 60);
ORT_SLOT(GetDimensionsCount, 61);
ORT_SLOT(GetDimensions, 62);
ORT_SLOT(GetTensorTypeAndShape, 65);
ORT_SLOT(CreateCpuMemoryInfo, 69);
ORT_SLOT(AllocatorFree, 76);
ORT_SLOT(GetAllocatorWithDefaultOptions, 78);
ORT_SLOT(ReleaseEnv, 92);
ORT_SLOT(ReleaseStatus, 93);
ORT_SLOT(ReleaseMemoryInfo, 94);
ORT_SLOT(ReleaseSession, 95);
ORT_SLOT(ReleaseValue, 96);
ORT_SLOT(ReleaseRunOptions, 97);
ORT_SLOT(ReleaseTypeInfo, 98);
ORT_SLOT(ReleaseTensorTypeAndShapeInfo, 99);
ORT_SLOT(ReleaseSessionOptions, 100);
ORT_SLOT(AddSessionConfigEntry, 130);
ORT_SLOT(AddRunConfigEntry, 165);

/* ---------------------------------------------------------------------
 * Model file check (onnx_check.c)
 * ---------------------------------------------------------------------
 */

/*
 * embed_onnx_check: check the `len` bytes at `bytes`, the ONNX model file
 * `path` (named in messages), before ONNX Runtime reads them.  Raises
 * 0A000 (feature_not_supported) when a tensor anywhere in the model (graph
 * initializers, node attributes, subgraphs, functions, training graphs)
 * keeps its data in an external file, and 22023 when the bytes are not
 * well-formed protobuf (a truncated value, a length past the end of its
 * message, a group or unknown wire type, messages nested more than 100
 * deep).  Reads nothing past bytes + len.
 */
extern void embed_onnx_check(const char *path, const void *bytes, size_t len);

/* ---------------------------------------------------------------------
 * Runtime (ort.c)
 * ---------------------------------------------------------------------
 */

/* Define the setting vsim.onnxruntime_library; loads nothing. */
extern void embed_ort_init(void);

/* Largest tensor rank vsim handles. */
#define EMBED_MAX_RANK 8

/* Name of one model input or output; for inputs also its element type and
 * shape (outputs are checked on the results of a trial run instead). */
typedef struct EmbedTensorInfo
{
	char	   *name;			/* palloc'd */
	int			elem_type;		/* ORT_TENSOR_*; 0 for outputs */
	int			rank;			/* 0 for outputs */
	int64		dims[EMBED_MAX_RANK];	/* -1 for a dynamic dimension */
} EmbedTensorInfo;

/* A loaded ONNX model: the session and its inputs and outputs. */
typedef struct EmbedSession
{
	OrtSession *session;		/* ORT-owned; release with embed_ort_close */
	int			n_inputs;
	EmbedTensorInfo *inputs;
	int			n_outputs;
	EmbedTensorInfo *outputs;
} EmbedSession;

/*
 * embed_ort_api: the ORT API table, loading the library named by
 * vsim.onnxruntime_library on first use and creating the backend's OrtEnv
 * (whose release at backend exit it registers with on_proc_exit).
 * Raises 58P01 (undefined_file) with a hint when the library cannot be
 * loaded and 55000 (object_not_in_prerequisite_state) when it is older
 * than API version VSIM_ORT_API_VERSION.  Never call in the postmaster.
 */
extern const OrtApi *embed_ort_api(void);

/* Version string of the loaded ORT library ("1.30.0"); loads it first. */
extern const char *embed_ort_version(void);

/*
 * embed_ort_open: create a session from the `len` bytes of an ONNX model
 * (read from `path`, named in messages) with `threads` intra-op threads,
 * and describe its inputs and outputs, all in `cxt`.  The bytes pass
 * embed_onnx_check first (and its errors) and are always parsed as ONNX
 * protobuf, never as ORT's own format.  Raises 22023 when ORT rejects the
 * model, 53200 when it runs out of memory.  Signals are blocked while ORT
 * may start threads.
 */
extern EmbedSession *embed_ort_open(const char *path, const void *bytes,
									size_t len, int threads,
									MemoryContext cxt);

/* Release the ORT session of `s` if any (`s` may be NULL; the palloc'd
 * parts stay with their context). */
extern void embed_ort_close(EmbedSession *s);

/* One input tensor for embed_ort_run: data borrowed, not copied. */
typedef struct EmbedInput
{
	const char *name;
	int			elem_type;		/* ORT_TENSOR_FLOAT or ORT_TENSOR_INT64 */
	int			rank;
	int64		dims[EMBED_MAX_RANK];
	void	   *data;			/* product(dims) elements */
} EmbedInput;

/* One float output of embed_ort_run, copied into palloc'd memory. */
typedef struct EmbedOutput
{
	int			rank;
	int64		dims[EMBED_MAX_RANK];
	int64		count;			/* product(dims) */
	float	   *data;
} EmbedOutput;

/*
 * embed_ort_run: run session `s` of model `model` (for messages) on
 * `n_in` inputs, fetching the outputs named in `out_names` into `out`
 * (palloc'd in the current context).  With `shrink`, ORT's memory arena
 * gives the regions the run no longer uses back when it ends (the
 * backend's allocator returns blocks of 1 MB or more to the system), so
 * the backend does not keep the memory of a large run; the next run then
 * maps its memory afresh, which costs a small run a few per cent.  Query
 * cancel, statement_timeout and backend termination stop the run (a
 * watchdog thread asks ORT to terminate) and are then reported as usual.
 * Raises 38000 (external_routine_exception) when ORT fails, 53200 when it
 * runs out of memory, 42804 (datatype_mismatch) for a non-float output.
 */
extern void embed_ort_run(EmbedSession *s, const char *model,
						  const EmbedInput *in, int n_in,
						  const char *const *out_names, int n_out,
						  EmbedOutput *out, bool shrink);

/* ---------------------------------------------------------------------
 * Tokenizer (tokenizer.c)
 * ---------------------------------------------------------------------
 */
typedef struct EmbedTokenizer EmbedTokenizer;

/*
 * embed_tokenizer_load: read a WordPiece tokenizer from `path`, a
 * tokenizer.json (HuggingFace tokenizers format, model type WordPiece) or
 * a vocab.txt (one token a line, id = line number).  `lowercase` applies
 * to vocab.txt; tokenizer.json says itself whether the model is uncased.
 * `data`/`len` are the file's bytes.  Allocates in `cxt`.  Raises 22P02
 * (invalid_text_representation) for a malformed file and 22023 when the
 * vocabulary lacks [CLS], [SEP] or [UNK] or max_input_chars_per_word is
 * above 1000.
 */
extern EmbedTokenizer *embed_tokenizer_load(const char *path,
											const char *data, size_t len,
											bool lowercase,
											MemoryContext cxt);

/* Longest sequence the tokenizer file declares (truncation), or 0. */
extern int	embed_tokenizer_max_length(const EmbedTokenizer *tok);

/*
 * embed_tokenize: token ids of the UTF-8 text `text` (`len` bytes):
 * [CLS], the WordPiece tokens truncated to max_length - 2, [SEP].  Writes
 * at most `max_length` ids (max_length >= 2) to `ids` and returns how many.
 * Invalid UTF-8 is skipped byte by byte, like a control character.  Reads
 * the text only until the ids are complete, in memory for one word (at
 * most the tokenizer's max_input_chars_per_word code points), whatever the
 * text's length and script.
 */
extern int	embed_tokenize(const EmbedTokenizer *tok, const char *text,
						   int len, int max_length, int64 *ids);

/* ---------------------------------------------------------------------
 * Model files (model_file.c)
 * ---------------------------------------------------------------------
 */

/* Define the setting vsim.model_directory. */
extern void embed_model_file_init(void);

/* Where a loaded model's file is and what tells that it changed. */
typedef struct EmbedFileStamp
{
	char		path[MAXPGPATH];	/* absolute and symlink-free */
	off_t		size;
	time_t		mtime;
	ino_t		ino;
} EmbedFileStamp;

/*
 * embed_resolve_model_path: find the file `given` names (absolute, or
 * relative to vsim.model_directory): checked by name first (no "..",
 * inside the directory), then resolved, and inside the directory again.
 * Puts its absolute, symlink-free path in path[MAXPGPATH] and returns its
 * path relative to the directory (palloc'd), which is what the registry
 * keeps and messages show.  `what` ("model", "tokenizer") names the file
 * in messages.  Raises 55000 when vsim.model_directory is not set, 22023
 * for an empty path, and 58P01 for every refused path, missing or not,
 * with the reason in the detail for superusers only.
 */
extern char *embed_resolve_model_path(const char *given, const char *what,
									  char *path);

/*
 * embed_read_file: the whole file at the absolute `path` (`name` in
 * messages), palloc'd and NUL-terminated in the current context, and its
 * SHA-256 in hex; *len gets the size, *stamp (unless NULL) the file's
 * stamp.  The file is opened without blocking: raises 42809 unless it is
 * a regular file, and the file-access error otherwise.  Reads in chunks,
 * checking for interrupts.
 */
extern char *embed_read_file(const char *path, const char *name, size_t *len,
							 char sha256_hex[PG_SHA256_DIGEST_STRING_LENGTH],
							 EmbedFileStamp *stamp);

/*
 * embed_read_verified: embed_read_file of the registered `what` file
 * `name` (relative to vsim.model_directory, found again by
 * embed_resolve_model_path) of model `model`, whose SHA-256 must still be
 * `expected` (else XX001, data_corrupted); *stamp gets the file's stamp.
 */
extern char *embed_read_verified(const char *name, const char *what,
								 const char *expected, const char *model,
								 size_t *len, EmbedFileStamp *stamp);

/* True if the file stamped in `stamp` is gone or differs from it. */
extern bool embed_file_changed(const EmbedFileStamp *stamp);

/* ---------------------------------------------------------------------
 * Models (filled in by registry.c, run by inference.c)
 * ---------------------------------------------------------------------
 */
typedef enum EmbedInputKind
{
	EMBED_INPUT_TEXT,
	EMBED_INPUT_TENSOR
} EmbedInputKind;

typedef enum EmbedPooling
{
	EMBED_POOL_AUTO = -1,		/* registration: decide from the output */
	EMBED_POOL_NONE,			/* output already [batch, dim] */
	EMBED_POOL_MEAN,			/* mean of [batch, seq, dim] over the mask */
	EMBED_POOL_CLS				/* first token of [batch, seq, dim] */
} EmbedPooling;

/* One registered model: a row of vsim.model_registry. */
typedef struct EmbedModelDef
{
	int64		id;				/* changes when the model is re-registered */
	char	   *name;
	EmbedInputKind kind;
	char	   *model_path;		/* relative to vsim.model_directory */
	char	   *tokenizer_path; /* likewise, or NULL for tensor models */
	char	   *input_names[3]; /* text: ids, mask, type ids ("" = unused);
								 * tensor: [0] only */
	int			input_rank;		/* tensor models: the input shape */
	int64		input_shape[EMBED_MAX_RANK];
	float		input_scale;	/* tensor models: inputs are multiplied by it */
	char	   *output_name;
	EmbedPooling pooling;
	bool		normalize;		/* L2-normalise the result */
	bool		lowercase;		/* vocab.txt tokenizers */
	int			max_length;		/* text models: tokens incl. [CLS]/[SEP] */
	int			dimensions;		/* of the resulting vector */
	char		model_sha256[PG_SHA256_DIGEST_STRING_LENGTH];
	char		tokenizer_sha256[PG_SHA256_DIGEST_STRING_LENGTH];
} EmbedModelDef;

/* A model ready to run: its definition, session and tokenizer. */
typedef struct EmbedModel
{
	EmbedModelDef *def;
	EmbedSession *session;
	EmbedTokenizer *tok;		/* NULL for tensor models */
} EmbedModel;

/* ---------------------------------------------------------------------
 * Inference (inference.c)
 * ---------------------------------------------------------------------
 */

/* Define the settings vsim.embed_batch_size and
 * vsim.inference_memory_limit. */
extern void embed_inference_init(void);

/* Name of a pooling mode ("mean", "cls", "none"; "auto" for AUTO). */
extern const char *embed_pooling_name(EmbedPooling p);

/* The pooling mode named `s`; raises 22023 for another name. */
extern EmbedPooling embed_pooling_parse(const char *s);

/*
 * embed_text_tokens: the token ids text model `m` feeds for `t` (server
 * encoding): [CLS], WordPiece ids, [SEP], at most def->max_length in all.
 * Sets *ids (palloc'd) and returns their count.
 */
extern int	embed_text_tokens(const EmbedModel *m, text *t, int64 **ids);

/*
 * embed_texts: the embeddings of texts[0..n) with text model `m`, each of
 * def->dimensions elements, into vectors[0..n) (NULL for a NULL text).
 * The texts run in length-sorted batches of at most vsim.embed_batch_size
 * texts whose estimated memory (see text_run_bytes in inference.c) is
 * within vsim.inference_memory_limit.  Raises 54000
 * (program_limit_exceeded) when one text alone exceeds it, 22000 when the
 * output does not have the registered shape, 22000 or 22003 for a NaN or
 * infinite element, and the errors of embed_ort_run.
 */
extern void embed_texts(const EmbedModel *m, text **texts, int n,
						Vector **vectors);

/*
 * embed_tensor: the embedding of the n floats at x (scaled in place by
 * def->input_scale) with tensor model `m`.  Raises 22023 unless n fills
 * the registered input shape, 22000 as embed_texts.
 */
extern Vector *embed_tensor(const EmbedModel *m, float *x, int n);

/*
 * embed_text_output, embed_tensor_output: the output named `output` of
 * model `m` for one text or tensor input, unpooled and not normalised,
 * into *out (palloc'd).  Raise 22023 when the model has no such output,
 * 54000 when the text exceeds vsim.inference_memory_limit (as in
 * embed_texts), and the errors of embed_tensor and embed_ort_run.
 */
extern void embed_text_output(const EmbedModel *m, text *t,
							  const char *output, EmbedOutput *out);
extern void embed_tensor_output(const EmbedModel *m, float *x, int n,
								const char *output, EmbedOutput *out);

/*
 * embed_check_model: registration's check of m->def against the session's
 * inputs and outputs, filling in the input and output names and shapes
 * the options left open, then a trial inference (two texts, or zeros),
 * which fills in def->pooling when it is EMBED_POOL_AUTO and
 * def->dimensions when it is 0.  Raises 22023 for names not in the model
 * or inputs vsim would not feed, 42804 for inputs of the wrong type,
 * 54000 for a tensor input larger than an array, 22000 when the output's
 * shape does not fit the declaration.
 */
extern void embed_check_model(EmbedModel *m);

/* ---------------------------------------------------------------------
 * Registry (registry.c)
 * ---------------------------------------------------------------------
 */

/* Define the setting vsim.intra_op_threads. */
extern void embed_registry_init(void);

/*
 * embed_registry_create: register model `name` from the files at
 * `model_path` and `tokenizer_path` (NULL for tensor models), given
 * absolute or relative to vsim.model_directory, with `options` (NULL:
 * none), replacing a model of that name when `replace`; returns its
 * dimensions.  Raises 42710 if the name exists (unless replace), 22023
 * for a bad name or options, and the errors of embed_resolve_model_path,
 * embed_read_file, embed_ort_open and embed_check_model.
 */
extern int	embed_registry_create(const char *name, const char *model_path,
								  const char *tokenizer_path, Jsonb *options,
								  bool replace);

/* embed_registry_drop: remove model `name`; returns whether there was one.
 * Raises 42704 when there was none, unless `if_exists`. */
extern bool embed_registry_drop(const char *name, bool if_exists);

/*
 * embed_registry_get: registered model `name`, loaded in this backend (in
 * its own memory context, kept until the model is dropped or registered
 * again, its files change or vsim.intra_op_threads does).  Raises 42704
 * for an unregistered model, and the errors of embed_read_verified,
 * embed_tokenizer_load and embed_ort_open.
 */
extern EmbedModel *embed_registry_get(const char *name);

/* ---------------------------------------------------------------------
 * SQL functions (embed.c)
 * ---------------------------------------------------------------------
 */

/* Define every setting of the subsystem; called from _PG_init.  Loads
 * nothing. */
extern void embed_init(void);

#endif							/* VSIM_EMBED_H */
