/*-------------------------------------------------------------------------
 *
 * fuzz.h
 *	  Shared declarations of vsim_fuzz, the fuzz driver that feeds generated
 *	  and mutated inputs to a running server through libpq, so that the real
 *	  backend functions run with their real error handling.
 *
 * Files:
 *	  main.c			options, connection, the pipelined runner, the oracle's
 *						common part (crashes, warnings, server log), figures
 *	  gen.c				deterministic random numbers, byte buffers, mutators
 *	  vector_ref.c		reference model of the vector text and binary formats
 *	  target_vector.c	targets "text" and "binary": vector_in, vector_recv
 *	  utf8_gen.c		UTF-8 text generator (many scripts) and validator
 *	  target_tokenize.c	target "tokenize": vsim.tokenize
 *	  protobuf.c		schema-less protobuf tree: parse, mutate, serialise
 *	  target_model.c	target "model": vsim.create_model with mutated files
 *
 * Every input i of a run is generated from its own random state, seeded
 * from (seed, i), so input i is reproduced alone by --from i --inputs 1.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VSIM_FUZZ_H
#define VSIM_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

/* ---------------------------------------------------------------------
 * Random numbers and buffers (gen.c)
 * ---------------------------------------------------------------------
 */
typedef struct Rng
{
	uint64_t	state;
} Rng;

/* State for input `index` of a run with `seed`. */
extern void rng_seed(Rng *r, uint64_t seed, uint64_t index);
extern uint64_t rng_next(Rng *r);
/* Uniform in [0, n); n > 0. */
extern uint32_t rng_below(Rng *r, uint32_t n);
/* Uniform in [lo, hi]. */
extern int	rng_range(Rng *r, int lo, int hi);
/* True with probability percent / 100. */
extern bool rng_percent(Rng *r, int percent);
/* One of the n strings in `items`. */
extern const char *rng_pick(Rng *r, const char *const *items, int n);

/* A growable byte string, always NUL-terminated (the NUL not counted). */
typedef struct Buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} Buf;

extern void buf_reset(Buf *b);
extern void buf_free(Buf *b);
extern void buf_put(Buf *b, const void *data, size_t n);
extern void buf_putc(Buf *b, char c);
extern void buf_puts(Buf *b, const char *s);
extern void buf_printf(Buf *b, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));
extern void buf_copy(Buf *dst, const Buf *src);
/* Insert n bytes at pos (<= len), or remove n bytes from pos. */
extern void buf_insert(Buf *b, size_t pos, const void *data, size_t n);
extern void buf_erase(Buf *b, size_t pos, size_t n);

/* Read a whole file into b; exits with a message when it cannot. */
extern void buf_read_file(Buf *b, const char *path);
/* Write b to a file; exits with a message when it cannot. */
extern void buf_write_file(const Buf *b, const char *path);

/*
 * mutate_bytes: apply 1 to `rounds` random byte-level mutations to b: bit
 * flips, random or "interesting" bytes, deletion, duplication and moves of
 * ranges, truncation, and insertion of tokens from `dict` (n_dict of them;
 * may be 0).  The result may hold any byte, NUL included.
 */
extern void mutate_bytes(Rng *r, Buf *b, const char *const *dict, int n_dict,
						 int rounds);

/* Replace NUL bytes (never legal in a text parameter) with 0x01. */
extern void buf_no_nul(Buf *b);

/* ---------------------------------------------------------------------
 * Targets
 * ---------------------------------------------------------------------
 */

#define CASE_MAX_PARAMS 4

/* One input: the parameters of one execution of a prepared statement. */
typedef struct Case
{
	uint64_t	index;			/* input number in the run */
	const char *stmt;			/* prepared statement name */
	int			n_params;
	Buf			param[CASE_MAX_PARAMS];
	bool		binary[CASE_MAX_PARAMS];	/* binary format, else text */
	bool		null[CASE_MAX_PARAMS];	/* SQL NULL (param unused) */
	bool		binary_result;
	int			typmod;			/* target-specific expectation data */
	int			kind;
} Case;

typedef enum Outcome
{
	OUTCOME_ACCEPTED,			/* a value the oracle agrees with */
	OUTCOME_REJECTED,			/* a clean, expected ERROR */
	OUTCOME_FAILED				/* anything else: a bug */
} Outcome;

/* The driver's statement_timeout: a statement running longer hangs. */
#define STATEMENT_TIMEOUT "60s"

/* Settings every target may use. */
typedef struct FuzzConfig
{
	const char *model_dir;		/* the server's vsim.model_directory */
	uint64_t	seed;
} FuzzConfig;

/*
 * A target either runs pipelined (generate + check: the runner sends
 * thousands of cases per round trip) or one case at a time (run: for
 * cases that need several statements or files written between them).
 * check and run return the outcome and, for OUTCOME_FAILED, say why in
 * `why`; for OUTCOME_REJECTED they leave the SQLSTATE in `why`.
 */
typedef struct Target
{
	const char *name;
	void		(*setup) (PGconn *conn, const FuzzConfig *cfg);
	void		(*generate) (Rng *r, Case *c);
	Outcome		(*check) (const Case *c, const PGresult *res, Buf *why);
	Outcome		(*run) (PGconn *conn, Rng *r, Case *c, Buf *why);
} Target;

extern const Target target_text;
extern const Target target_binary;
extern const Target target_tokenize;
extern const Target target_model;

/* ---------------------------------------------------------------------
 * Helpers for targets (main.c)
 * ---------------------------------------------------------------------
 */

/* Run a utility statement; exits with the server's message on error. */
extern void exec_or_die(PGconn *conn, const char *sql);
/* Prepare statement `name`; param_types may be NULL (all inferred). */
extern void prepare_or_die(PGconn *conn, const char *name, const char *sql,
						   int n_params, const unsigned int *param_types);
/* SQLSTATE of an error result, or NULL for a result without one (a lost
 * connection). */
extern const char *result_sqlstate(const PGresult *res);
/* Judge an error result: REJECTED with its SQLSTATE in `why` when it is
 * one of the `n` codes in `allowed`, FAILED otherwise. */
extern Outcome judge_error(const PGresult *res, const char *const *allowed,
						   int n, Buf *why);
/* Execute a case synchronously (for run targets); the caller PQclears. */
extern PGresult *exec_case(PGconn *conn, const Case *c);
/* A monotonic clock, in seconds. */
extern double now_seconds(void);

/* ---------------------------------------------------------------------
 * Vector formats (vector_ref.c)
 * ---------------------------------------------------------------------
 */
#define VEC_MAX_DIM 16000

/* A parsed vector, or the SQLSTATE the server must raise for the input. */
typedef struct VecRef
{
	const char *sqlstate;		/* NULL: accepted */
	int			dim;
	uint32_t	bits[VEC_MAX_DIM];	/* IEEE bits of the elements */
} VecRef;

/* The text form `s` (NUL-terminated, len bytes) cast with type modifier
 * `typmod` (-1: none), as the server must take it. */
extern void vecref_text(const char *s, size_t len, int typmod, VecRef *out);

/* The binary form (len bytes), as vector_recv must take it. */
extern void vecref_binary(const unsigned char *p, size_t len, int typmod,
						  VecRef *out);

/* The binary form of an accepted vector, into b. */
extern void vecref_encode(const VecRef *v, Buf *b);

/* True when the server's text output `s` is the canonical form of v: "[",
 * elements separated by ",", "]", each element reading back as exactly
 * v's, without white space, at most 15 characters and with no more
 * significant digits than it takes to read back. */
extern bool vecref_canonical_text(const char *s, const VecRef *v);

/* ---------------------------------------------------------------------
 * UTF-8 (utf8_gen.c)
 * ---------------------------------------------------------------------
 */

/* True when s is valid UTF-8 as PostgreSQL checks it (shortest forms, no
 * surrogates, at most U+10FFFF) and holds no NUL. */
extern bool utf8_valid(const char *s, size_t len);
/* Append the UTF-8 encoding of code point c. */
extern void utf8_put(Buf *b, uint32_t c);
/* Append a random valid UTF-8 text of at least `bytes` bytes from many
 * scripts, with words of the test vocabulary mixed in. */
extern void utf8_random_text(Rng *r, Buf *b, size_t bytes);

/* ---------------------------------------------------------------------
 * Tokenizer (target_tokenize.c)
 * ---------------------------------------------------------------------
 */

/* A cased BERT tokenizer.json of model_dir/vocab.txt, into b. */
extern void tokenizer_json(Buf *b, const char *model_dir);

/* ---------------------------------------------------------------------
 * Protobuf (protobuf.c)
 * ---------------------------------------------------------------------
 */

/*
 * protobuf_mutate: read b as a protobuf message without a schema (every
 * length-delimited field that parses as a message is taken as one), apply
 * 1 to `rounds` structural mutations (field values, deletion, duplication,
 * reordering, strings from `dict`), and write it back with consistent
 * lengths.  Leaves b unchanged and returns false when b does not parse.
 */
extern bool protobuf_mutate(Rng *r, Buf *b, const char *const *dict,
							int n_dict, int rounds);

#endif							/* VSIM_FUZZ_H */
