/*-------------------------------------------------------------------------
 *
 * main.c
 *	  vsim_fuzz: feed generated and mutated inputs to one target of a
 *	  running server with vsim and check every answer.
 *
 *	  vsim_fuzz TARGET [--inputs N] [--seconds S] [--seed N] [--from I]
 *				[--model-dir DIR] [--server-log FILE]
 *
 * TARGET is text, binary, tokenize or model (see the target_*.c files).
 * The connection comes from the PG* environment variables; the database
 * must be UTF8 (the driver creates the extension if needed).  --model-dir
 * is the server's vsim.model_directory holding test/embed/models.py's
 * models (tokenize and model).  Runs inputs I .. I+N-1 (default 0 ..
 * 9999), stopping early after S seconds, and prints one JSON line of
 * figures.
 *
 * Every answer is judged: the target's oracle says whether a value is
 * right and which SQLSTATEs are clean rejections; a lost connection, an
 * error without SQLSTATE or outside the allowed ones, a WARNING sent to
 * the client (say, a resource leak), and a server log line of a crash
 * (--server-log: PANIC, TRAP, "terminated by signal") are failures.  The
 * first failure stops the run: it prints the input in hex and the command
 * that reproduces it, and the exit status is 1 (2 for usage and setup
 * errors).
 *
 * Cases of pipelined targets go to the server in libpq pipeline mode,
 * each followed by its own Sync so that an error ends only its own
 * implicit transaction; up to BATCH_CASES cases per round trip.
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz.h"

#define BATCH_CASES 1000
#define BATCH_BYTES (4 * 1024 * 1024)
#define HEX_LIMIT 4096
#define MAX_STATES 64

typedef struct Options
{
	const Target *target;
	uint64_t	inputs;
	uint64_t	from;
	double		seconds;
	const char *server_log;
	FuzzConfig	cfg;
} Options;

/* Figures of the run. */
typedef struct Figures
{
	uint64_t	inputs;
	uint64_t	accepted;
	uint64_t	rejected;
	uint64_t	failed;
	char		state[MAX_STATES][6];	/* rejections by SQLSTATE */
	uint64_t	state_count[MAX_STATES];
	int			n_states;
} Figures;

static Figures figures;
static Buf	pending_warning;	/* WARNINGs the server sent */
static long server_log_offset;

/* ---------------------------------------------------------------------
 * Helpers for targets
 * ---------------------------------------------------------------------
 */

static void
die_conn(PGconn *conn, const char *what)
{
	fprintf(stderr, "vsim_fuzz: %s: %s", what, PQerrorMessage(conn));
	exit(2);
}

void
exec_or_die(PGconn *conn, const char *sql)
{
	PGresult   *res = PQexec(conn, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
		PQresultStatus(res) != PGRES_TUPLES_OK)
		die_conn(conn, sql);
	PQclear(res);
}

void
prepare_or_die(PGconn *conn, const char *name, const char *sql,
			   int n_params, const unsigned int *param_types)
{
	PGresult   *res = PQprepare(conn, name, sql, n_params, param_types);

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		die_conn(conn, sql);
	PQclear(res);
}

const char *
result_sqlstate(const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	return state && strlen(state) == 5 ? state : NULL;
}

Outcome
judge_error(const PGresult *res, const char *const *allowed, int n, Buf *why)
{
	const char *state = result_sqlstate(res);

	for (int i = 0; state && i < n; i++)
		if (strcmp(state, allowed[i]) == 0)
		{
			buf_puts(why, state);
			return OUTCOME_REJECTED;
		}
	buf_printf(why, "%s: %s", state ? state : "no SQLSTATE",
			   PQresultErrorMessage(res));
	return OUTCOME_FAILED;
}

/* libpq's argument arrays for case c. */
static void
case_args(const Case *c, const char **values, int *lengths, int *formats)
{
	for (int i = 0; i < c->n_params; i++)
	{
		values[i] = c->null[i] ? NULL : c->param[i].data;
		lengths[i] = (int) c->param[i].len;
		formats[i] = c->binary[i] ? 1 : 0;
	}
}

PGresult *
exec_case(PGconn *conn, const Case *c)
{
	const char *values[CASE_MAX_PARAMS];
	int			lengths[CASE_MAX_PARAMS];
	int			formats[CASE_MAX_PARAMS];

	case_args(c, values, lengths, formats);
	return PQexecPrepared(conn, c->stmt, c->n_params, values, lengths,
						  formats, c->binary_result ? 1 : 0);
}

/* ---------------------------------------------------------------------
 * Failures
 * ---------------------------------------------------------------------
 */

static void
print_hex(const Buf *b)
{
	size_t		n = b->len < HEX_LIMIT ? b->len : HEX_LIMIT;

	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "%02x", (unsigned char) b->data[i]);
	if (n < b->len)
		fprintf(stderr, "... (%zu more bytes)", b->len - n);
	fputc('\n', stderr);
}

static void
report_failure(const Options *o, const Case *c, const char *why)
{
	fprintf(stderr, "vsim_fuzz: FAILED: target %s, seed %" PRIu64 ", input %" PRIu64 ": %s\n",
			o->target->name, o->cfg.seed, c->index, why);
	for (int i = 0; i < c->n_params; i++)
	{
		fprintf(stderr, "  parameter $%d (%s, %s%zu bytes): ", i + 1,
				c->binary[i] ? "binary" : "text", c->null[i] ? "NULL, " : "",
				c->param[i].len);
		print_hex(&c->param[i]);
	}
	fprintf(stderr, "reproduce: vsim_fuzz %s --seed %" PRIu64 " --from %" PRIu64 " --inputs 1%s%s\n",
			o->target->name, o->cfg.seed, c->index,
			o->cfg.model_dir ? " --model-dir " : "",
			o->cfg.model_dir ? o->cfg.model_dir : "");
}

/* Collect WARNINGs (other notices are fine). */
static void
notice_receiver(void *arg, const PGresult *res)
{
	const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);

	if (severity && strcmp(severity, "WARNING") == 0)
		buf_puts(&pending_warning, PQresultErrorMessage(res));
}

/* New lines of the server log that show a crash, into why. */
static bool
server_log_crashed(const Options *o, Buf *why)
{
	static const char *const marks[] = {"PANIC:", "TRAP:", "terminated by signal",
	"was terminated"};
	FILE	   *f;
	char		line[4096];
	bool		crashed = false;

	if (o->server_log == NULL || (f = fopen(o->server_log, "r")) == NULL)
		return false;
	fseek(f, server_log_offset, SEEK_SET);
	while (fgets(line, sizeof(line), f))
		for (int i = 0; i < (int) (sizeof(marks) / sizeof(marks[0])); i++)
			if (strstr(line, marks[i]))
			{
				buf_printf(why, "%sserver log: %s", crashed ? "" : "\n", line);
				crashed = true;
			}
	server_log_offset = ftell(f);
	fclose(f);
	return crashed;
}

/* ---------------------------------------------------------------------
 * Running cases
 * ---------------------------------------------------------------------
 */

static void
count(Outcome outcome, const char *state)
{
	figures.inputs++;
	if (outcome == OUTCOME_ACCEPTED)
		figures.accepted++;
	else if (outcome == OUTCOME_FAILED)
		figures.failed++;
	else
	{
		int			i;

		figures.rejected++;
		for (i = 0; i < figures.n_states; i++)
			if (strncmp(figures.state[i], state, 5) == 0)
				break;
		if (i == figures.n_states && i < MAX_STATES)
		{
			snprintf(figures.state[i], 6, "%.5s", state);
			figures.n_states++;
		}
		if (i < MAX_STATES)
			figures.state_count[i]++;
	}
}

/*
 * Count a judged case; returns false (after reporting) when it failed.  A
 * case run on its own also fails when it leaves the connection broken
 * (pipelined cases after a crash still read the answers that came before
 * it, so there only a missing answer counts).
 */
static bool
conclude(const Options *o, PGconn *conn, const Case *c, Outcome outcome,
		 Buf *why, bool alone)
{
	if (outcome != OUTCOME_FAILED && alone && PQstatus(conn) == CONNECTION_BAD)
	{
		buf_reset(why);
		buf_printf(why, "connection lost: %s", PQerrorMessage(conn));
		outcome = OUTCOME_FAILED;
	}
	if (outcome != OUTCOME_FAILED && pending_warning.len > 0)
	{
		buf_reset(why);
		buf_printf(why, "WARNING: %s", pending_warning.data);
		outcome = OUTCOME_FAILED;
	}
	count(outcome, why->data);
	if (outcome == OUTCOME_FAILED)
		report_failure(o, c, why->data);
	return outcome != OUTCOME_FAILED;
}

static void
case_clear(Case *c, uint64_t index)
{
	c->index = index;
	c->n_params = 0;
	c->typmod = -1;
	c->kind = 0;
	c->binary_result = false;
	for (int i = 0; i < CASE_MAX_PARAMS; i++)
	{
		buf_reset(&c->param[i]);
		c->binary[i] = false;
		c->null[i] = false;
	}
}

/* Queue case c and its Sync; false when the connection failed. */
static bool
send_case(PGconn *conn, const Case *c)
{
	const char *values[CASE_MAX_PARAMS];
	int			lengths[CASE_MAX_PARAMS];
	int			formats[CASE_MAX_PARAMS];

	case_args(c, values, lengths, formats);
	return PQsendQueryPrepared(conn, c->stmt, c->n_params, values, lengths,
							   formats, c->binary_result ? 1 : 0) &&
		PQpipelineSync(conn);
}

/* Judge the result of one pipelined case and consume its Sync. */
static bool
receive_case(const Options *o, PGconn *conn, const Case *c)
{
	PGresult   *res = PQgetResult(conn);
	Buf			why = {0};
	Outcome		outcome;
	bool		ok;

	buf_reset(&why);
	if (res == NULL)
	{
		buf_printf(&why, "no result: %s", PQerrorMessage(conn));
		outcome = OUTCOME_FAILED;
	}
	else
	{
		outcome = o->target->check(c, res, &why);
		PQclear(res);
		while ((res = PQgetResult(conn)) != NULL)
			PQclear(res);		/* up to the NULL that ends the case */
	}
	ok = conclude(o, conn, c, outcome, &why, false);
	if (ok && ((res = PQgetResult(conn)) == NULL ||
			   PQresultStatus(res) != PGRES_PIPELINE_SYNC))
	{
		/* the server went away between this case's result and its Sync */
		buf_reset(&why);
		buf_printf(&why, "pipeline out of step after the result: %s",
				   PQerrorMessage(conn));
		figures.failed++;
		report_failure(o, c, why.data);
		ok = false;
	}
	PQclear(res);
	buf_free(&why);
	return ok;
}

double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A crash in the server log fails the last case of the batch. */
static bool
log_clean(const Options *o, const Case *last)
{
	Buf			why = {0};
	bool		crashed;

	buf_reset(&why);
	buf_puts(&why, "the server crashed during this batch of inputs");
	crashed = server_log_crashed(o, &why);
	if (crashed)
	{
		figures.failed++;
		report_failure(o, last, why.data);
	}
	buf_free(&why);
	return !crashed;
}

static bool
run_pipelined(const Options *o, PGconn *conn, double deadline)
{
	static Case cases[BATCH_CASES];
	uint64_t	next = o->from;
	uint64_t	end = o->from + o->inputs;

	if (!PQenterPipelineMode(conn))
		die_conn(conn, "pipeline mode");
	while (next < end && now_seconds() < deadline)
	{
		int			n = 0;
		size_t		bytes = 0;
		bool		sent = true;

		while (sent && n < BATCH_CASES && next < end && bytes < BATCH_BYTES)
		{
			Rng			r;

			case_clear(&cases[n], next);
			rng_seed(&r, o->cfg.seed, next++);
			o->target->generate(&r, &cases[n]);
			for (int i = 0; i < cases[n].n_params; i++)
				bytes += cases[n].param[i].len;
			sent = send_case(conn, &cases[n++]);
		}
		/* after a failed send, the first case without its answer fails */
		for (int i = 0; i < n; i++)
			if (!receive_case(o, conn, &cases[i]))
				return false;
		if (!log_clean(o, &cases[n - 1]) || !sent)
			return false;
	}
	return true;
}

static bool
run_one_by_one(const Options *o, PGconn *conn, double deadline)
{
	static Case c;
	Buf			why = {0};
	bool		ok = true;

	for (uint64_t i = o->from; ok && i < o->from + o->inputs && now_seconds() < deadline; i++)
	{
		Rng			r;
		Outcome		outcome;

		case_clear(&c, i);
		buf_reset(&why);
		rng_seed(&r, o->cfg.seed, i);
		outcome = o->target->run(conn, &r, &c, &why);
		ok = conclude(o, conn, &c, outcome, &why, true) && log_clean(o, &c);
	}
	buf_free(&why);
	return ok;
}

/* ---------------------------------------------------------------------
 * Setup and figures
 * ---------------------------------------------------------------------
 */

static void
usage(void)
{
	fprintf(stderr, "usage: vsim_fuzz text|binary|tokenize|model [--inputs N] [--seconds S]\n"
			"       [--seed N] [--from I] [--model-dir DIR] [--server-log FILE]\n");
	exit(2);
}

static const Target *
find_target(const char *name)
{
	static const Target *const all[] = {&target_text, &target_binary,
	&target_tokenize, &target_model};

	for (int i = 0; i < 4; i++)
		if (strcmp(all[i]->name, name) == 0)
			return all[i];
	usage();
	return NULL;
}

static void
parse_options(int argc, char **argv, Options *o)
{
	if (argc < 2)
		usage();
	o->target = find_target(argv[1]);
	o->inputs = 10000;
	o->seconds = 1e9;
	o->cfg.seed = 1;
	for (int i = 2; i < argc; i += 2)
	{
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (v == NULL)
			usage();
		if (strcmp(argv[i], "--inputs") == 0)
			o->inputs = strtoull(v, NULL, 10);
		else if (strcmp(argv[i], "--seconds") == 0)
			o->seconds = strtod(v, NULL);
		else if (strcmp(argv[i], "--seed") == 0)
			o->cfg.seed = strtoull(v, NULL, 10);
		else if (strcmp(argv[i], "--from") == 0)
			o->from = strtoull(v, NULL, 10);
		else if (strcmp(argv[i], "--model-dir") == 0)
			o->cfg.model_dir = v;
		else if (strcmp(argv[i], "--server-log") == 0)
			o->server_log = v;
		else
			usage();
	}
	if ((o->target == &target_tokenize || o->target == &target_model) &&
		o->cfg.model_dir == NULL)
		usage();
}

static PGconn *
connect_server(const Options *o)
{
	PGconn	   *conn = PQconnectdb("client_encoding=UTF8 application_name=vsim_fuzz");
	const char *encoding;
	FILE	   *log;

	if (PQstatus(conn) != CONNECTION_OK)
		die_conn(conn, "could not connect");
	encoding = PQparameterStatus(conn, "server_encoding");
	if (encoding == NULL || strcmp(encoding, "UTF8") != 0)
	{
		fprintf(stderr, "vsim_fuzz: the database must be UTF8, not %s\n",
				encoding ? encoding : "unknown");
		exit(2);
	}
	PQsetNoticeReceiver(conn, notice_receiver, NULL);
	exec_or_die(conn, "SET client_min_messages = warning");
	exec_or_die(conn, "SET statement_timeout = '" STATEMENT_TIMEOUT "'");
	exec_or_die(conn, "CREATE EXTENSION IF NOT EXISTS vsim");
	if (o->server_log && (log = fopen(o->server_log, "r")) != NULL)
	{
		fseek(log, 0, SEEK_END);
		server_log_offset = ftell(log);
		fclose(log);
	}
	return conn;
}

static void
print_figures(const Options *o, double seconds)
{
	printf("{\"target\": \"%s\", \"seed\": %" PRIu64 ", \"from\": %" PRIu64
		   ", \"inputs\": %" PRIu64 ", \"accepted\": %" PRIu64
		   ", \"rejected\": %" PRIu64 ", \"failed\": %" PRIu64
		   ", \"seconds\": %.1f, \"inputs_per_second\": %.0f, \"rejected_by_sqlstate\": {",
		   o->target->name, o->cfg.seed, o->from, figures.inputs,
		   figures.accepted, figures.rejected, figures.failed, seconds,
		   seconds > 0 ? figures.inputs / seconds : 0.0);
	for (int i = 0; i < figures.n_states; i++)
		printf("%s\"%s\": %" PRIu64, i ? ", " : "", figures.state[i],
			   figures.state_count[i]);
	printf("}}\n");
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	Options		o = {0};
	PGconn	   *conn;
	double		start;
	bool		ok;

	parse_options(argc, argv, &o);
	conn = connect_server(&o);
	o.target->setup(conn, &o.cfg);
	buf_reset(&pending_warning);
	start = now_seconds();
	if (o.target->run)
		ok = run_one_by_one(&o, conn, start + o.seconds);
	else
		ok = run_pipelined(&o, conn, start + o.seconds);
	print_figures(&o, now_seconds() - start);
	PQfinish(conn);
	return ok ? 0 : 1;
}
