/*-------------------------------------------------------------------------
 *
 * embed_driver.c
 *	  Standalone ONNX Runtime driver for vsim's embedding benchmark: runs a
 *	  text model on pre-tokenized sentences outside PostgreSQL, with the
 *	  same library, session options and batching as vsim.embed, so that
 *	  test/bench/embed_bench.sh can compare the two.
 *
 *	  embed_driver LIBRARY MODEL IDS_FILE BATCH THREADS
 *
 * IDS_FILE has one sentence a line, its token ids separated by spaces (as
 * vsim.tokenize gives them, [CLS] and [SEP] included).  BATCH 1 runs one
 * sentence at a time; larger batches sort the sentences by length and pad
 * each batch to its longest, as vsim.embed(model, text[]) does.  The
 * output is mean-pooled over the mask and L2-normalised, like vsim's.
 * Prints "sentences=N seconds=S cpu_seconds=C per_second=R
 * per_cpu_second=P" (CPU time of the whole process, all threads).
 *
 * The ABI declarations are vsim's own (src/embed/embed.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "embed/embed.h"

static const OrtApi *ort;

/* ORT's log lines go to stderr here (vsim buffers them for ereport). */
static void
logger(void *param, int severity, const char *category, const char *logid,
	   const char *code_location, const char *message)
{
	fprintf(stderr, "onnxruntime: %s\n", message);
}

/* Exit with the message of a failed call. */
static void
check(OrtStatus *st, const char *what)
{
	if (st == NULL)
		return;
	fprintf(stderr, "%s: %s\n", what, ort->GetErrorMessage(st));
	exit(1);
}

typedef struct Sentence
{
	int64_t    *ids;
	int			len;
} Sentence;

static int
by_length(const void *a, const void *b)
{
	return ((const Sentence *) a)->len - ((const Sentence *) b)->len;
}

/* Read the ids file; returns the sentences, their number in *n. */
static Sentence *
read_ids(const char *path, int *n)
{
	FILE	   *f = fopen(path, "r");
	char		line[65536];
	int			cap = 1024;
	Sentence   *s = malloc(sizeof(Sentence) * cap);

	if (f == NULL)
	{
		perror(path);
		exit(1);
	}
	*n = 0;
	while (fgets(line, sizeof(line), f))
	{
		char	   *p = line;
		char	   *end;
		int64_t		buf[4096];
		int			len = 0;

		while (len < 4096 && (buf[len] = strtoll(p, &end, 10), end != p))
		{
			len++;
			p = end;
		}
		if (len == 0)
			continue;
		if (*n == cap)
			s = realloc(s, sizeof(Sentence) * (cap *= 2));
		s[*n].ids = malloc(sizeof(int64_t) * len);
		memcpy(s[*n].ids, buf, sizeof(int64_t) * len);
		s[(*n)++].len = len;
	}
	fclose(f);
	return s;
}

/* Run one batch of `nb` sentences; mean-pools into `out` (nb x dims,
 * dims <= MAX_DIMS, read from the output's shape). */
#define MAX_DIMS 4096

static void
run_batch(OrtSession *session, OrtMemoryInfo *mem, Sentence *s, int nb,
		  float *out)
{
	OrtTensorTypeAndShapeInfo *info;
	int64_t		oshape[3];
	int			dims;
	int			seq = 0;
	int64_t    *buf;
	int64_t		shape[2];
	OrtValue   *in[3];
	OrtValue   *res = NULL;
	const char *in_names[3] = {"input_ids", "attention_mask", "token_type_ids"};
	const char *out_name = "last_hidden_state";
	float	   *h;

	for (int b = 0; b < nb; b++)
		seq = s[b].len > seq ? s[b].len : seq;
	buf = calloc((size_t) nb * seq * 3, sizeof(int64_t));
	for (int b = 0; b < nb; b++)
		for (int t = 0; t < s[b].len; t++)
		{
			buf[b * seq + t] = s[b].ids[t];
			buf[nb * seq + b * seq + t] = 1;
		}
	shape[0] = nb;
	shape[1] = seq;
	for (int i = 0; i < 3; i++)
		check(ort->CreateTensorWithDataAsOrtValue(mem, buf + (size_t) i * nb * seq,
												  sizeof(int64_t) * nb * seq,
												  shape, 2, ORT_TENSOR_INT64, &in[i]),
			  "CreateTensorWithDataAsOrtValue");
	check(ort->Run(session, NULL, in_names, (const OrtValue *const *) in, 3,
				   &out_name, 1, &res), "Run");
	check(ort->GetTensorMutableData(res, (void **) &h), "GetTensorMutableData");
	check(ort->GetTensorTypeAndShape(res, &info), "GetTensorTypeAndShape");
	check(ort->GetDimensions(info, oshape, 3), "GetDimensions");
	ort->ReleaseTensorTypeAndShapeInfo(info);
	dims = oshape[2] < MAX_DIMS ? (int) oshape[2] : MAX_DIMS;
	for (int b = 0; b < nb; b++)
	{
		double		ss = 0;
		float	   *o = out + (size_t) b * dims;

		memset(o, 0, sizeof(float) * dims);
		for (int t = 0; t < s[b].len; t++)
			for (int d = 0; d < dims; d++)
				o[d] += h[((size_t) b * seq + t) * dims + d];
		for (int d = 0; d < dims; d++)
		{
			o[d] /= s[b].len;
			ss += (double) o[d] * o[d];
		}
		for (int d = 0; d < dims && ss > 0; d++)
			o[d] /= sqrt(ss);
	}
	for (int i = 0; i < 3; i++)
		ort->ReleaseValue(in[i]);
	ort->ReleaseValue(res);
	free(buf);
}

int
main(int argc, char **argv)
{
	void	   *lib;
	const OrtApiBase *(*get_base) (void);
	OrtEnv	   *env;
	OrtSessionOptions *opts;
	OrtSession *session;
	OrtMemoryInfo *mem;
	Sentence   *s;
	int			n;
	int			batch;
	float	   *out;
	FILE	   *f;
	long		size;
	char	   *bytes;
	struct timespec t0,
				t1,
				c0,
				c1;
	double		secs;
	double		cpu;

	if (argc != 6)
	{
		fprintf(stderr, "usage: %s LIBRARY MODEL IDS_FILE BATCH THREADS\n", argv[0]);
		return 2;
	}
	lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL)
	{
		fprintf(stderr, "%s\n", dlerror());
		return 1;
	}
	get_base = (const OrtApiBase *(*) (void)) dlsym(lib, "OrtGetApiBase");
	ort = get_base()->GetApi(VSIM_ORT_API_VERSION);
	check(ort->CreateEnvWithCustomLogger(logger, NULL, ORT_LOGGING_LEVEL_WARNING,
										 "driver", &env), "CreateEnv");
	check(ort->CreateSessionOptions(&opts), "CreateSessionOptions");
	check(ort->SetIntraOpNumThreads(opts, atoi(argv[5])), "SetIntraOpNumThreads");
	check(ort->SetInterOpNumThreads(opts, 1), "SetInterOpNumThreads");
	check(ort->SetSessionExecutionMode(opts, ORT_EXECUTION_SEQUENTIAL), "SetSessionExecutionMode");
	check(ort->SetSessionGraphOptimizationLevel(opts, ORT_GRAPH_OPT_ALL), "SetSessionGraphOptimizationLevel");
	check(ort->AddSessionConfigEntry(opts, "session.intra_op.allow_spinning", "0"), "config");
	check(ort->AddSessionConfigEntry(opts, "session.inter_op.allow_spinning", "0"), "config");

	f = fopen(argv[2], "rb");
	if (f == NULL)
	{
		perror(argv[2]);
		return 1;
	}
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	bytes = malloc(size);
	if (fread(bytes, 1, size, f) != (size_t) size)
		return 1;
	fclose(f);
	check(ort->CreateSessionFromArray(env, bytes, size, opts, &session), "CreateSession");
	free(bytes);
	check(ort->CreateCpuMemoryInfo(ORT_ARENA_ALLOCATOR, ORT_MEM_TYPE_DEFAULT, &mem),
		  "CreateCpuMemoryInfo");

	s = read_ids(argv[3], &n);
	batch = atoi(argv[4]);
	if (batch < 1)
		batch = 1;
	out = malloc(sizeof(float) * MAX_DIMS * batch);
	run_batch(session, mem, s, 1, out);	/* warm-up, like vsim's registration */

	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	if (batch > 1)
		qsort(s, n, sizeof(Sentence), by_length);
	for (int i = 0; i < n; i += batch)
		run_batch(session, mem, s + i, n - i < batch ? n - i : batch, out);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	cpu = (c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) / 1e9;
	printf("sentences=%d seconds=%.3f cpu_seconds=%.3f per_second=%.1f per_cpu_second=%.1f\n",
		   n, secs, cpu, n / secs, n / cpu);

	ort->ReleaseSession(session);
	ort->ReleaseMemoryInfo(mem);
	ort->ReleaseSessionOptions(opts);
	ort->ReleaseEnv(env);
	return 0;
}
