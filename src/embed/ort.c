/*-------------------------------------------------------------------------
 *
 * ort.c
 *	  ONNX Runtime inside a backend: the setting vsim.onnxruntime_library,
 *	  loading the library with dlopen on first use, the backend's OrtEnv,
 *	  sessions, and running them.  Of the subsystem's other files it calls
 *	  only onnx_check.c, which checks a model's bytes before ORT sees them.
 *
 * What running ORT inside a PostgreSQL backend needs (see
 * docs/onnxruntime-abi.md):
 *	- ORT starts threads, which inherit the creating thread's signal mask:
 *	  PostgreSQL's signal handlers must never run on them, so every call
 *	  that may start threads runs with all asynchronous signals blocked.
 *	- ORT logs from any thread: the logger only appends to a buffer under a
 *	  mutex, and the backend flushes that buffer through ereport after its
 *	  own calls.
 *	- Run does not notice query cancel: a watchdog thread polls the
 *	  backend's interrupt flags while a run is in progress and calls
 *	  RunOptionsSetTerminate.  The watchdog only reads those flags and
 *	  calls ORT; it never calls PostgreSQL code.
 *	- Nothing here runs in the postmaster; the library is loaded by the
 *	  first backend call that needs it and released at backend exit.
 *	- Sessions live as long as the backend caches the model, and ORT's
 *	  CPU memory arena grows to the largest run and by default never
 *	  shrinks: large runs ask ORT to shrink the arena when they end, and
 *	  glibc is told to give the freed regions back to the system
 *	  (limit_malloc_retention).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <dlfcn.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "embed/embed.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "utils/guc.h"
#include "utils/memutils.h"

static char *onnxruntime_library = NULL;

static void *ort_handle;
static const OrtApiBase *ort_base;
static const OrtApi *ort;
static OrtEnv *ort_env;
static OrtMemoryInfo *ort_cpu;
static OrtAllocator *ort_alloc;

void
embed_ort_init(void)
{
	DefineCustomStringVariable("vsim.onnxruntime_library",
							   "Path of the ONNX Runtime library that vsim.embed loads.",
							   "A leading $libdir stands for PostgreSQL's package library directory; "
							   "the default is where vsim's \"make install\" puts the library.",
							   &onnxruntime_library,
							   "$libdir/vsim/libonnxruntime.so.1",
							   PGC_SUSET, 0, NULL, NULL, NULL);
}

/* ---------------------------------------------------------------------
 * Log buffer: filled by ORT's threads, drained by the backend.
 * ---------------------------------------------------------------------
 */
#define LOG_BUFFER_SIZE 8192

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_buffer[LOG_BUFFER_SIZE];
static size_t log_used;
static int	log_dropped;

/*
 * ORT's logger callback.  Runs on any thread, so it only copies the line
 * into the buffer ("severity|message\n"), dropping lines that do not fit.
 */
static void
ort_logger(void *param, int severity, const char *category,
		   const char *logid, const char *code_location, const char *message)
{
	int			n;

	pthread_mutex_lock(&log_lock);
	n = snprintf(log_buffer + log_used, LOG_BUFFER_SIZE - log_used,
				 "%d|%s\n", severity, message);
	if (n >= 0 && log_used + n < LOG_BUFFER_SIZE)
		log_used += n;
	else
	{
		log_buffer[log_used] = '\0';
		log_dropped++;
	}
	pthread_mutex_unlock(&log_lock);
}

/*
 * Emit the buffered ORT log lines through ereport: ORT's warnings and
 * errors at LOG (they went to the server log before, and the errors that
 * matter come back to the caller as statuses anyway), the rest at DEBUG1.
 */
static void
ort_flush_log(void)
{
	char	   *copy;
	int			dropped;
	char	   *line;
	char	   *next;

	pthread_mutex_lock(&log_lock);
	if (log_used == 0 && log_dropped == 0)
	{
		pthread_mutex_unlock(&log_lock);
		return;
	}
	copy = pnstrdup(log_buffer, log_used);
	dropped = log_dropped;
	log_used = 0;
	log_dropped = 0;
	pthread_mutex_unlock(&log_lock);

	for (line = copy; *line; line = next)
	{
		char	   *sep = strchr(line, '|');
		int			severity = atoi(line);

		next = strchr(line, '\n');
		*next++ = '\0';
		ereport(severity >= ORT_LOGGING_LEVEL_WARNING ? LOG : DEBUG1,
				(errmsg_internal("onnxruntime: %s", sep ? sep + 1 : line)));
	}
	if (dropped > 0)
		ereport(LOG,
				(errmsg_internal("onnxruntime: %d log lines dropped", dropped)));
	pfree(copy);
}

/* ---------------------------------------------------------------------
 * Signals
 * ---------------------------------------------------------------------
 */

/* Block every asynchronous signal; the old mask goes to *old. */
static void
block_signals(sigset_t *old)
{
	sigset_t	all;

	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGABRT);
	pthread_sigmask(SIG_BLOCK, &all, old);
}

static void
restore_signals(const sigset_t *old)
{
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* ---------------------------------------------------------------------
 * Statuses
 * ---------------------------------------------------------------------
 */

/* The message of a non-NULL status, palloc'd; releases the status. */
static char *
ort_take_message(OrtStatus *st)
{
	char	   *msg = pstrdup(ort->GetErrorMessage(st));
	size_t		n = strlen(msg);

	ort->ReleaseStatus(st);
	while (n > 0 && isspace((unsigned char) msg[n - 1]))
		msg[--n] = '\0';
	return msg;
}

/* True if an ORT error message says an allocation failed. */
static bool
ort_message_is_oom(const char *msg)
{
	return strstr(msg, "bad_alloc") != NULL ||
		strstr(msg, "Failed to allocate") != NULL;
}

/* Raise 38000 for a failed ORT call `what` (used for calls that only fail
 * on a broken library or exhausted memory). */
static void
ort_check(OrtStatus *st, const char *what)
{
	char	   *msg;

	if (st == NULL)
		return;
	msg = ort_take_message(st);
	ereport(ERROR,
			(errcode(ort_message_is_oom(msg) ? ERRCODE_OUT_OF_MEMORY :
					 ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
			 errmsg("ONNX Runtime call %s failed", what),
			 errdetail("%s", msg)));
}

/* ---------------------------------------------------------------------
 * Loading
 * ---------------------------------------------------------------------
 */

/* vsim.onnxruntime_library with a leading "$libdir" expanded. */
static char *
library_path(void)
{
	const char *setting = onnxruntime_library;

	if (strncmp(setting, "$libdir", 7) == 0 &&
		(setting[7] == '/' || setting[7] == '\0'))
		return psprintf("%s%s", pkglib_path, setting + 7);
	return pstrdup(setting);
}

/* Release everything at backend exit; the watchdog is stopped first. */
static void watchdog_stop(void);

static void
ort_at_exit(int code, Datum arg)
{
	watchdog_stop();
	if (ort_cpu)
		ort->ReleaseMemoryInfo(ort_cpu);
	if (ort_env)
		ort->ReleaseEnv(ort_env);
	ort_cpu = NULL;
	ort_env = NULL;
}

/* Parse "major.minor..." into an integer major * 1000 + minor, or -1. */
static int
parse_version(const char *s)
{
	int			major;
	int			minor;

	if (s == NULL || sscanf(s, "%d.%d", &major, &minor) != 2)
		return -1;
	return major * 1000 + minor;
}

/* dlopen the library and fetch the API table; sets ort_handle/ort. */
static void
ort_load_library(void)
{
	char	   *path = library_path();
	void	   *handle;
	const OrtApiBase *(*get_base) (void);
	const OrtApiBase *base;
	const char *version;
	const OrtApi *api;

	if (!IsUnderPostmaster)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("ONNX Runtime is only loaded in backends")));

	handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (handle == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("could not load ONNX Runtime library \"%s\"", path),
				 errdetail("%s", dlerror()),
				 errhint("Run vsim's scripts/setup.sh and \"make install\", which install ONNX Runtime 1.30.0, or set vsim.onnxruntime_library to the path of libonnxruntime.so.1.")));

	get_base = (const OrtApiBase *(*) (void)) dlsym(handle, "OrtGetApiBase");
	base = get_base ? get_base() : NULL;
	if (base == NULL)
	{
		dlclose(handle);
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("\"%s\" is not an ONNX Runtime library", path),
				 errdetail("It has no usable OrtGetApiBase symbol.")));
	}

	/* Refuse old libraries before GetApi, which would print to stderr. */
	version = base->GetVersionString();
	if (parse_version(version) < 1000 + VSIM_ORT_API_VERSION ||
		(api = base->GetApi(VSIM_ORT_API_VERSION)) == NULL)
	{
		char	   *v = pstrdup(version ? version : "unknown");

		dlclose(handle);
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("ONNX Runtime library \"%s\" is too old", path),
				 errdetail("Its version is %s; vsim needs API version %d (ONNX Runtime 1.%d or later).",
						   v, VSIM_ORT_API_VERSION, VSIM_ORT_API_VERSION),
				 errhint("Run vsim's scripts/setup.sh, which installs ONNX Runtime 1.30.0.")));
	}
	ort_handle = handle;
	ort_base = base;
	ort = api;
}

/*
 * Make the C allocator return large blocks to the system when they are
 * freed: every allocation of MMAP_THRESHOLD or more gets a mapping of its
 * own.  By default glibc raises that threshold to the size of the largest
 * block freed so far (up to 32 MB), after which the arena regions ORT
 * frees at the end of a run stay in the heap: measured with a MiniLM-sized
 * encoder, a backend kept some 40 MB more after a batch, and 35 MB more
 * after loading the model (see docs/onnxruntime-abi.md).  This applies to
 * the whole backend, to PostgreSQL's own allocations of that size too, as
 * glibc does before its first raise anyway.  Called before ORT starts any
 * thread.
 */
#define MMAP_THRESHOLD (1024 * 1024)

static void
limit_malloc_retention(void)
{
#ifdef __GLIBC__
	mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
#endif
}

/* Create the backend's OrtEnv (starts a thread: signals blocked). */
static void
ort_create_env(void)
{
	sigset_t	old;
	OrtStatus  *st;

	limit_malloc_retention();
	block_signals(&old);
	st = ort->CreateEnvWithCustomLogger(ort_logger, NULL,
										ORT_LOGGING_LEVEL_WARNING, "vsim",
										&ort_env);
	restore_signals(&old);
	ort_check(st, "CreateEnvWithCustomLogger");
	ort_check(ort->CreateCpuMemoryInfo(ORT_ARENA_ALLOCATOR,
									   ORT_MEM_TYPE_DEFAULT, &ort_cpu),
			  "CreateCpuMemoryInfo");
	ort_check(ort->GetAllocatorWithDefaultOptions(&ort_alloc),
			  "GetAllocatorWithDefaultOptions");
	on_proc_exit(ort_at_exit, (Datum) 0);
	ort_flush_log();
}

const OrtApi *
embed_ort_api(void)
{
	if (ort == NULL)
		ort_load_library();
	if (ort_env == NULL)
		ort_create_env();
	return ort;
}

const char *
embed_ort_version(void)
{
	embed_ort_api();
	return ort_base->GetVersionString();
}

/* ---------------------------------------------------------------------
 * Sessions
 * ---------------------------------------------------------------------
 */

/* Fill `info` from an OrtTypeInfo (releases it); non-tensors get type 0. */
static void
describe_type(OrtTypeInfo *ti, EmbedTensorInfo *info)
{
	const OrtTensorTypeAndShapeInfo *tsi = NULL;
	OrtStatus  *st;
	size_t		rank = 0;

	info->elem_type = 0;
	info->rank = 0;
	st = ort->CastTypeInfoToTensorInfo(ti, &tsi);
	if (st == NULL && tsi != NULL)
		st = ort->GetTensorElementType(tsi, &info->elem_type);
	if (st == NULL && tsi != NULL)
		st = ort->GetDimensionsCount(tsi, &rank);
	if (st == NULL && tsi != NULL && rank <= EMBED_MAX_RANK)
	{
		st = ort->GetDimensions(tsi, (int64_t *) info->dims, rank);
		info->rank = (int) rank;
	}
	ort->ReleaseTypeInfo(ti);
	ort_check(st, "GetDimensions");
}

/* Names and types of a session's inputs (is_input), or names of its
 * outputs. */
static EmbedTensorInfo *
describe_tensors(OrtSession *session, bool is_input, int *n)
{
	size_t		count;
	EmbedTensorInfo *infos;

	ort_check(is_input ? ort->SessionGetInputCount(session, &count) :
			  ort->SessionGetOutputCount(session, &count),
			  "SessionGetInputCount");
	infos = palloc0(sizeof(EmbedTensorInfo) * Max(count, 1));
	for (size_t i = 0; i < count; i++)
	{
		char	   *name;
		OrtTypeInfo *ti;

		ort_check(is_input ?
				  ort->SessionGetInputName(session, i, ort_alloc, &name) :
				  ort->SessionGetOutputName(session, i, ort_alloc, &name),
				  "SessionGetInputName");
		infos[i].name = pstrdup(name);
		ort_check(ort->AllocatorFree(ort_alloc, name), "AllocatorFree");
		if (is_input)
		{
			ort_check(ort->SessionGetInputTypeInfo(session, i, &ti),
					  "SessionGetInputTypeInfo");
			describe_type(ti, &infos[i]);
		}
	}
	*n = (int) count;
	return infos;
}

/*
 * Session options: `threads` intra-op threads, no spinning, all graph
 * optimisations, sequential execution, and the model always read as ONNX
 * protobuf: ORT would take bytes with "ORTM" at offset 4 for its own
 * format, which embed_onnx_check does not read.
 */
static OrtSessionOptions *
make_session_options(int threads)
{
	OrtSessionOptions *opts;
	OrtStatus  *st;

	ort_check(ort->CreateSessionOptions(&opts), "CreateSessionOptions");
	st = ort->SetIntraOpNumThreads(opts, threads);
	if (st == NULL)
		st = ort->SetInterOpNumThreads(opts, 1);
	if (st == NULL)
		st = ort->SetSessionExecutionMode(opts, ORT_EXECUTION_SEQUENTIAL);
	if (st == NULL)
		st = ort->SetSessionGraphOptimizationLevel(opts, ORT_GRAPH_OPT_ALL);
	if (st == NULL)
		st = ort->AddSessionConfigEntry(opts, "session.load_model_format", "ONNX");
	if (st == NULL)
		st = ort->AddSessionConfigEntry(opts, "session.intra_op.allow_spinning", "0");
	if (st == NULL)
		st = ort->AddSessionConfigEntry(opts, "session.inter_op.allow_spinning", "0");
	if (st != NULL)
	{
		ort->ReleaseSessionOptions(opts);
		ort_check(st, "SetSessionOptions");
	}
	return opts;
}

EmbedSession *
embed_ort_open(const char *path, const void *bytes, size_t len, int threads,
			   MemoryContext cxt)
{
	MemoryContext old;
	OrtSessionOptions *opts;
	OrtSession *session = NULL;
	OrtStatus  *st;
	sigset_t	mask;
	EmbedSession *s;

	embed_onnx_check(path, bytes, len);
	embed_ort_api();
	opts = make_session_options(threads);
	block_signals(&mask);
	st = ort->CreateSessionFromArray(ort_env, bytes, len, opts, &session);
	restore_signals(&mask);
	ort->ReleaseSessionOptions(opts);
	ort_flush_log();
	if (st != NULL)
	{
		char	   *msg = ort_take_message(st);

		ereport(ERROR,
				(errcode(ort_message_is_oom(msg) ? ERRCODE_OUT_OF_MEMORY :
						 ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("could not load ONNX model from file \"%s\"", path),
				 errdetail("ONNX Runtime: %s", msg)));
	}

	old = MemoryContextSwitchTo(cxt);
	s = palloc0(sizeof(EmbedSession));
	s->session = session;
	PG_TRY();
	{
		s->inputs = describe_tensors(session, true, &s->n_inputs);
		s->outputs = describe_tensors(session, false, &s->n_outputs);
	}
	PG_CATCH();
	{
		ort->ReleaseSession(session);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	return s;
}

void
embed_ort_close(EmbedSession *s)
{
	if (s && s->session)
		ort->ReleaseSession(s->session);
	if (s)
		s->session = NULL;
}

/* ---------------------------------------------------------------------
 * Cancel watchdog
 *
 * One thread per backend, started at the first run with signals blocked.
 * While a run is in progress (wd_run != NULL) it checks the backend's
 * interrupt flags every WATCHDOG_POLL_MS; after WATCHDOG_IDLE_POLLS polls
 * without a run it sleeps until the next run wakes it, so an idle backend
 * costs nothing and a stream of short runs costs no wake-ups.
 * ---------------------------------------------------------------------
 */
#define WATCHDOG_POLL_MS 10
#define WATCHDOG_IDLE_POLLS 20

static pthread_mutex_t wd_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wd_cond = PTHREAD_COND_INITIALIZER;
static pthread_t wd_thread;
static bool wd_started;
static bool wd_sleeping;
static bool wd_exit;
static OrtRunOptions *wd_run;	/* run in progress, or NULL */
static bool wd_terminated;		/* SetTerminate was called on wd_run */

/* True when the backend has a cancel or termination request pending. */
static inline bool
cancel_requested(void)
{
	return InterruptPending && (QueryCancelPending || ProcDiePending);
}

static void *
watchdog_main(void *arg)
{
	int			idle = 0;

	pthread_mutex_lock(&wd_lock);
	while (!wd_exit)
	{
		struct timespec until;

		if (wd_run != NULL)
		{
			idle = 0;
			if (!wd_terminated && cancel_requested())
			{
				OrtStatus  *st = ort->RunOptionsSetTerminate(wd_run);

				if (st)
					ort->ReleaseStatus(st);
				wd_terminated = true;
			}
		}
		else if (++idle > WATCHDOG_IDLE_POLLS)
		{
			wd_sleeping = true;
			pthread_cond_wait(&wd_cond, &wd_lock);
			wd_sleeping = false;
			idle = 0;
			continue;
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += WATCHDOG_POLL_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L)
		{
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&wd_cond, &wd_lock, &until);
	}
	pthread_mutex_unlock(&wd_lock);
	return NULL;
}

static void
watchdog_start(void)
{
	sigset_t	old;
	int			rc;

	block_signals(&old);
	rc = pthread_create(&wd_thread, NULL, watchdog_main, NULL);
	restore_signals(&old);
	if (rc != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not start the inference watchdog thread: %s",
						strerror(rc))));
	wd_started = true;
}

static void
watchdog_stop(void)
{
	if (!wd_started)
		return;
	pthread_mutex_lock(&wd_lock);
	wd_exit = true;
	pthread_cond_signal(&wd_cond);
	pthread_mutex_unlock(&wd_lock);
	pthread_join(wd_thread, NULL);
	wd_started = false;
}

/* Publish `ro` as the run in progress (NULL: none); returns whether the
 * watchdog terminated the previous one. */
static bool
watchdog_set(OrtRunOptions *ro)
{
	bool		terminated;

	pthread_mutex_lock(&wd_lock);
	terminated = wd_terminated;
	wd_run = ro;
	wd_terminated = false;
	if (ro && wd_sleeping)
		pthread_cond_signal(&wd_cond);
	pthread_mutex_unlock(&wd_lock);
	return terminated;
}

/* ---------------------------------------------------------------------
 * Running
 * ---------------------------------------------------------------------
 */

/* Copy output value `v` (a float tensor) into `out`. */
static void
copy_output(OrtValue *v, const char *model, const char *name,
			EmbedOutput *out)
{
	OrtTensorTypeAndShapeInfo *tsi;
	OrtStatus  *st;
	int			type = 0;
	size_t		rank = 0;
	void	   *data;

	ort_check(ort->GetTensorTypeAndShape(v, &tsi), "GetTensorTypeAndShape");
	st = ort->GetTensorElementType(tsi, &type);
	if (st == NULL)
		st = ort->GetDimensionsCount(tsi, &rank);
	if (st == NULL && rank <= EMBED_MAX_RANK)
		st = ort->GetDimensions(tsi, (int64_t *) out->dims, rank);
	ort->ReleaseTensorTypeAndShapeInfo(tsi);
	ort_check(st, "GetDimensions");
	if (type != ORT_TENSOR_FLOAT || rank > EMBED_MAX_RANK)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("output \"%s\" of model \"%s\" is not a float tensor of rank %d or less",
						name, model, EMBED_MAX_RANK),
				 errdetail("Its ONNX element type is %d, its rank %d.",
						   type, (int) rank)));
	out->rank = (int) rank;
	out->count = 1;
	for (int i = 0; i < out->rank; i++)
		out->count *= out->dims[i];
	ort_check(ort->GetTensorMutableData(v, &data), "GetTensorMutableData");
	out->data = palloc_extended(sizeof(float) * Max(out->count, 1),
								MCXT_ALLOC_HUGE);
	memcpy(out->data, data, sizeof(float) * out->count);
}

/* Size in bytes of an input tensor's data. */
static size_t
input_bytes(const EmbedInput *in)
{
	size_t		n = in->elem_type == ORT_TENSOR_INT64 ? sizeof(int64) : sizeof(float);

	for (int i = 0; i < in->rank; i++)
		n *= in->dims[i];
	return n;
}

/* Raise the error of a failed Run: a cancel if the watchdog stopped it. */
static void
report_run_failure(const char *model, char *msg, bool terminated)
{
	if (terminated)
	{
		CHECK_FOR_INTERRUPTS();
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("inference of model \"%s\" was stopped", model)));
	}
	if (ort_message_is_oom(msg))
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory in inference of model \"%s\"", model),
				 errdetail("ONNX Runtime: %s", msg)));
	ereport(ERROR,
			(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
			 errmsg("inference of model \"%s\" failed", model),
			 errdetail("ONNX Runtime: %s", msg)));
}

void
embed_ort_run(EmbedSession *s, const char *model,
			  const EmbedInput *in, int n_in,
			  const char *const *out_names, int n_out, EmbedOutput *out,
			  bool shrink)
{
	OrtValue  **in_vals = palloc0(sizeof(OrtValue *) * n_in);
	OrtValue  **out_vals = palloc0(sizeof(OrtValue *) * n_out);
	const char **in_names = palloc(sizeof(char *) * n_in);
	OrtRunOptions *ro = NULL;

	ort_check(ort->CreateRunOptions(&ro), "CreateRunOptions");
	PG_TRY();
	{
		OrtStatus  *st;
		bool		terminated;

		if (shrink)
			ort_check(ort->AddRunConfigEntry(ro, "memory.enable_memory_arena_shrinkage",
											 "cpu:0"),
					  "AddRunConfigEntry");

		for (int i = 0; i < n_in; i++)
		{
			in_names[i] = in[i].name;
			ort_check(ort->CreateTensorWithDataAsOrtValue(ort_cpu, in[i].data,
														  input_bytes(&in[i]),
														  (const int64_t *) in[i].dims,
														  in[i].rank,
														  in[i].elem_type,
														  &in_vals[i]),
					  "CreateTensorWithDataAsOrtValue");
		}
		if (!wd_started)
			watchdog_start();

		CHECK_FOR_INTERRUPTS();
		watchdog_set(ro);
		st = ort->Run(s->session, ro, in_names,
					  (const OrtValue *const *) in_vals, n_in,
					  out_names, n_out, out_vals);
		terminated = watchdog_set(NULL);
		ort_flush_log();
		if (st != NULL)
			report_run_failure(model, ort_take_message(st), terminated);

		for (int i = 0; i < n_out; i++)
			copy_output(out_vals[i], model, out_names[i], &out[i]);
	}
	PG_FINALLY();
	{
		watchdog_set(NULL);
		for (int i = 0; i < n_in; i++)
			if (in_vals[i])
				ort->ReleaseValue(in_vals[i]);
		for (int i = 0; i < n_out; i++)
			if (out_vals[i])
				ort->ReleaseValue(out_vals[i]);
		ort->ReleaseRunOptions(ro);
	}
	PG_END_TRY();
	pfree(in_vals);
	pfree(out_vals);
	pfree(in_names);
}
