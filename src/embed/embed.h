/*-------------------------------------------------------------------------
 *
 * embed.h
 *	  Interface of vsim's in-database embedding subsystem, and vsim's own
 *	  declaration of the part of ONNX Runtime's C ABI it calls.
 *
 * Files:
 *	  ort.c			loads ONNX Runtime with dlopen on first use, owns the
 *					backend's OrtEnv, runs sessions (signals, logging,
 *					cancel watchdog)
 *	  tokenizer.c	BERT WordPiece tokenizer (tokenizer.json or vocab.txt)
 *	  registry.c	the model registry: vsim.create_model / vsim.drop_model,
 *					model directory checks, file checksums
 *	  embed.c		settings, the per-backend session cache and the SQL
 *					functions vsim.embed, vsim.embed_output, vsim.tokenize
 *
 * No ONNX Runtime header is used.  The API table below lists only the slots
 * vsim calls, at the slot numbers of the ABI facts sheet
 * (shared/docs/onnxruntime-c-abi.md); the table is append-only across
 * releases, so a slot's index never changes.  Static assertions pin every
 * member to its slot.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSIM_EMBED_H
#define VSIM_EMBED_H

#include "postgres.h"

#include <stdint.h>

#include "common/sha2.h"
#include "utils/palloc.h"

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

/* Enum values (ints in the ABI). */
#define ORT_LOGGING_LEVEL_VERBOSE	0
#define ORT_LOGGING_LEVEL_INFO		1
#define ORT_LOGGING_LEVEL_WARNING	2
#define ORT_LOGGING_LEVEL_ERROR		3
#define ORT_LOGGING_LEVEL_FATAL		4
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
	int			(*GetErrorCode) (const OrtStatus *st);	/* 1 */
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
} OrtApi;

#define ORT_SLOT(member, slot) \
	StaticAssertDecl(offsetof(OrtApi, member) == (slot) * sizeof(void *), \
					 "OrtApi." #member " must be slot " #slot)

ORT_SLOT(GetErrorCode, 1);
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

/* ---------------------------------------------------------------------
 * Runtime (ort.c)
 * ---------------------------------------------------------------------
 */

/* Settings (defined in embed.c, registered by embed_init). */
extern char *embed_onnxruntime_library;
extern char *embed_model_directory;
extern int	embed_intra_op_threads;
extern int	embed_batch_size;

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
 * vsim.onnxruntime_library on first use and creating the backend's OrtEnv.
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
 * and describe its inputs and outputs, all in `cxt`.  Raises 22023 when ORT
 * rejects the model.  Signals are blocked while ORT may start threads.
 */
extern EmbedSession *embed_ort_open(const char *path, const void *bytes,
									size_t len, int threads,
									MemoryContext cxt);

/* Release the ORT session of `s` (the palloc'd parts stay with their context). */
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
 * (palloc'd in the current context).  Query cancel, statement_timeout and
 * backend termination stop the run (a watchdog thread asks ORT to
 * terminate) and are then reported as usual.  Raises 38000
 * (external_routine_exception) when ORT fails, 53200 when it runs out of
 * memory, 42804 (datatype_mismatch) for a non-float output.
 */
extern void embed_ort_run(EmbedSession *s, const char *model,
						  const EmbedInput *in, int n_in,
						  const char *const *out_names, int n_out,
						  EmbedOutput *out);

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
 * vocabulary lacks [CLS], [SEP] or [UNK].
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
 * Invalid UTF-8 is skipped byte by byte, like a control character.
 */
extern int	embed_tokenize(const EmbedTokenizer *tok, const char *text,
						   int len, int max_length, int64 *ids);

/* ---------------------------------------------------------------------
 * Registry (registry.c)
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
	char	   *model_path;		/* absolute, inside the model directory */
	char	   *tokenizer_path; /* absolute, or NULL for tensor models */
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

/*
 * embed_registry_lookup: the registered model `name`, palloc'd in the
 * current context, read through the view vsim.models (so callers need no
 * privilege on the table).  Returns NULL when there is none.
 */
extern EmbedModelDef *embed_registry_lookup(const char *name);

/* OID of vsim.model_registry, or InvalidOid before CREATE EXTENSION. */
extern Oid	embed_registry_relid(void);

/*
 * embed_check_path: raise 42501 (insufficient_privilege) unless the
 * registered absolute path `path` still resolves to itself (no symbolic
 * link was put in its way since registration).
 */
extern void embed_check_path(const char *path);

/*
 * embed_read_file: the whole file at `path` (palloc'd, NUL-terminated, in
 * the current context) and its SHA-256 in hex; *len gets the size.  Raises
 * 58P01 when missing, and the file-access error otherwise.
 */
extern char *embed_read_file(const char *path, size_t *len,
							 char sha256_hex[PG_SHA256_DIGEST_STRING_LENGTH]);

/* ---------------------------------------------------------------------
 * Module (embed.c)
 * ---------------------------------------------------------------------
 */

/* Register the embedding settings; called from _PG_init.  Loads nothing. */
extern void embed_init(void);

/*
 * embed_probe_model: registration's trial inference of `def` (a short text
 * for text models, zeros for tensor models) on session `s` with tokenizer
 * `tok` (NULL for tensor models).  Fills in def->pooling when it is
 * EMBED_POOL_AUTO and def->dimensions when it is 0; raises 22000
 * (data_exception) when the output's shape does not fit the declaration.
 */
extern void embed_probe_model(EmbedModelDef *def, EmbedSession *s,
							  const EmbedTokenizer *tok);

/* Name of a pooling mode ("mean", "cls", "none"). */
extern const char *embed_pooling_name(EmbedPooling p);

#endif							/* VSIM_EMBED_H */
