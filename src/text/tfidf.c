/*-------------------------------------------------------------------------
 *
 * tfidf.c
 *	  TF-IDF with the formulas of scikit-learn's TfidfVectorizer defaults:
 *	  vsim.tfidf_fit learns a vocabulary with idf weights from the rows of
 *	  a query into a new table, vsim.tfidf_vector turns a text into the
 *	  L2-normalised vector of its term counts times their idf.
 *
 * For n documents and a term in df of them, idf = ln((1 + n) / (1 + df))
 * + 1 (smooth_idf=True); a document's element for a term is its count in
 * the document times that idf (raw counts: sublinear_tf=False), and the
 * vector is scaled to Euclidean norm 1 (norm='l2'; a document with no
 * known term stays all zeros).  Terms are the tokens of text_tokenize;
 * the vocabulary is sorted by term (code point order, as Python sorts
 * str), which gives each term its position in the vector.  With
 * max_features, the terms kept are the most frequent by occurrences in
 * all documents; among terms of equal occurrences at the cut, the first
 * in term order.
 *
 * A vocabulary table has the columns term text, position integer (1 ..
 * number of terms, each once), df bigint, occurrences bigint and idf
 * double precision; tfidf_vector reads term, position and idf.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "text/text.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/varlena.h"
#include "vector/vector.h"

#if PG_VERSION_NUM >= 170000
#define MyLocalTransactionId (MyProc->vxid.lxid)
#else
#define MyLocalTransactionId (MyProc->lxid)
#endif

/* Documents read from the query per SPI fetch in tfidf_fit. */
#define FIT_FETCH_ROWS 1000

/* ---------------------------------------------------------------------
 * Terms: a simplehash table keyed by UTF-8 bytes, looked up in place
 * ---------------------------------------------------------------------
 */
typedef struct TermEntry
{
	BytesKey	key;
	uint32		hash;			/* compared before the bytes */
	char		status;
	int32		position;		/* tfidf_vector: element, 0-based */
	int64		df;				/* tfidf_fit: documents with the term */
	int64		last_doc;		/* tfidf_fit: the last of them */
	int64		occurrences;	/* tfidf_fit: in all documents */
} TermEntry;

#define SH_PREFIX terms
#define SH_ELEMENT_TYPE TermEntry
#include "text/bytes_table.h"

/* Find or add the term of `len` bytes at `str`; a new one is copied to cxt. */
static TermEntry *
term_find_or_add(terms_hash *terms, MemoryContext cxt, const char *str,
				 int len, bool *found)
{
	BytesKey		key = {str, len};
	TermEntry  *e = terms_insert(terms, key, found);

	if (!*found)
	{
		char	   *copy = MemoryContextAlloc(cxt, len);

		memcpy(copy, str, len);
		e->key.str = copy;
	}
	return e;
}

/* Code point order of UTF-8 strings: bytewise, a prefix first. */
static int
term_cmp(const TermEntry *a, const TermEntry *b)
{
	int			c = memcmp(a->key.str, b->key.str, Min(a->key.len, b->key.len));

	return c != 0 ? c : (a->key.len > b->key.len) - (a->key.len < b->key.len);
}

static int
term_order(const void *a, const void *b)
{
	return term_cmp(*(TermEntry *const *) a, *(TermEntry *const *) b);
}

/* More occurrences first, then term order: the max_features ranking. */
static int
frequency_order(const void *a, const void *b)
{
	const TermEntry *x = *(TermEntry *const *) a;
	const TermEntry *y = *(TermEntry *const *) b;

	if (x->occurrences != y->occurrences)
		return x->occurrences > y->occurrences ? -1 : 1;
	return term_cmp(x, y);
}

/* ---------------------------------------------------------------------
 * vsim.tfidf_fit
 * ---------------------------------------------------------------------
 */
typedef struct FitState
{
	terms_hash *terms;
	MemoryContext cxt;			/* the table and the term bytes */
	int64		docs;			/* documents read so far */
} FitState;

/* TextTokenCallback: count one occurrence of a term in document st->docs. */
static void
count_term(const char *token, int len, void *arg)
{
	FitState   *st = (FitState *) arg;
	bool		found;
	TermEntry  *e = term_find_or_add(st->terms, st->cxt, token, len, &found);

	if (!found)
	{
		e->df = 0;
		e->last_doc = 0;
		e->occurrences = 0;
	}
	e->occurrences++;
	if (e->last_doc != st->docs)
	{
		e->df++;
		e->last_doc = st->docs;
	}
}

/* Raise 42804 unless the query's rows are one column of text or varchar. */
static void
check_documents_column(TupleDesc desc)
{
	Oid			type = desc->natts == 1 ?
		getBaseType(TupleDescAttr(desc, 0)->atttypid) : InvalidOid;

	if (type != TEXTOID && type != VARCHAROID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("query for the documents must return one column of type text"),
				 desc->natts == 1 ?
				 errdetail("Its column has type %s.",
						   format_type_be(TupleDescAttr(desc, 0)->atttypid)) :
				 errdetail("It returns %d columns.", desc->natts)));
}

/* Count the terms of every non-NULL row of `query` (run through SPI). */
static void
count_documents(const char *query, FitState *st)
{
	SPIPlanPtr	plan = SPI_prepare(query, 0, NULL);
	Portal		portal;
	MemoryContext doc_cxt = AllocSetContextCreate(CurrentMemoryContext,
												  "vsim TF-IDF document",
												  ALLOCSET_DEFAULT_SIZES);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, true);
	check_documents_column(portal->tupDesc);
	for (SPI_cursor_fetch(portal, true, FIT_FETCH_ROWS); SPI_processed > 0;
		 SPI_cursor_fetch(portal, true, FIT_FETCH_ROWS))
	{
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			bool		isnull;
			Datum		d = SPI_getbinval(SPI_tuptable->vals[i],
										  SPI_tuptable->tupdesc, 1, &isnull);
			MemoryContext old;
			const char *utf8;
			int			len;

			CHECK_FOR_INTERRUPTS();
			if (isnull)
				continue;
			old = MemoryContextSwitchTo(doc_cxt);
			st->docs++;
			utf8 = text_to_utf8(DatumGetTextPP(d), &len);
			text_tokenize(utf8, len, count_term, st);
			MemoryContextSwitchTo(old);
			MemoryContextReset(doc_cxt);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	MemoryContextDelete(doc_cxt);
}

/*
 * The vocabulary: every term counted, or the max_features most frequent
 * (max_features 0: no limit), in term order; *n gets their number.
 * Raises 22000 when there is no term, 54000 when more than VECTOR_MAX_DIM
 * remain.
 */
static TermEntry **
choose_terms(FitState *st, int max_features, int *n)
{
	TermEntry **all = MemoryContextAllocHuge(CurrentMemoryContext,
											 sizeof(TermEntry *) * Max(st->terms->members, 1));
	terms_iterator it;
	TermEntry  *e;
	int64		count = 0;

	terms_start_iterate(st->terms, &it);
	while ((e = terms_iterate(st->terms, &it)) != NULL)
		all[count++] = e;
	if (count == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("the documents contain no terms"),
				 errdetail_plural("A term is a run of at least two letters, digits or underscores; %lld document was read.",
								  "A term is a run of at least two letters, digits or underscores; %lld documents were read.",
								  st->docs, (long long) st->docs)));
	if (max_features > 0 && count > max_features)
	{
		qsort(all, count, sizeof(TermEntry *), frequency_order);
		count = max_features;
	}
	if (count > VECTOR_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("vocabulary of %lld terms exceeds the %d dimensions of a vector",
						(long long) count, VECTOR_MAX_DIM),
				 errhint("Pass max_features => %d (or fewer) to keep the most frequent terms.",
						 VECTOR_MAX_DIM)));
	qsort(all, count, sizeof(TermEntry *), term_order);
	*n = (int) count;
	return all;
}

/* One column of the vocabulary table as an array of n values. */
static Datum
column_array(Datum *values, int n, Oid type)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;

	get_typlenbyvalalign(type, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_array(values, n, type, typlen, typbyval, typalign));
}

/* Run one SPI statement with arguments; raise if it does not return `ok`. */
static void
spi_run(const char *sql, int nargs, Oid *types, Datum *values, int ok)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, NULL, false, 0);

	if (rc != ok)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
}

/* Create table `name` (quoted) and store the n terms in it. */
static void
store_vocabulary(const char *name, TermEntry **terms, int n, int64 docs)
{
	Datum	   *cols[5];
	Oid			types[5] = {TEXTARRAYOID, INT4ARRAYOID, INT8ARRAYOID,
	INT8ARRAYOID, FLOAT8ARRAYOID};
	Oid			elems[5] = {TEXTOID, INT4OID, INT8OID, INT8OID, FLOAT8OID};
	Datum		arrays[5];
	StringInfoData sql;

	for (int c = 0; c < lengthof(cols); c++)
		cols[c] = palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
	{
		const TermEntry *e = terms[i];
		const char *s = pg_any_to_server(e->key.str, e->key.len, PG_UTF8);

		cols[0][i] = PointerGetDatum(s == e->key.str ?
									 cstring_to_text_with_len(s, e->key.len) :
									 cstring_to_text(s));
		cols[1][i] = Int32GetDatum(i + 1);
		cols[2][i] = Int64GetDatum(e->df);
		cols[3][i] = Int64GetDatum(e->occurrences);
		cols[4][i] = Float8GetDatum(log((1.0 + docs) / (1.0 + e->df)) + 1.0);
	}
	for (int c = 0; c < lengthof(cols); c++)
		arrays[c] = column_array(cols[c], n, elems[c]);

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "CREATE TABLE %s (term text PRIMARY KEY, position integer NOT NULL UNIQUE,"
					 " df bigint NOT NULL, occurrences bigint NOT NULL,"
					 " idf double precision NOT NULL)", name);
	spi_run(sql.data, 0, NULL, NULL, SPI_OK_UTILITY);
	resetStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO %s (term, position, df, occurrences, idf)"
					 " SELECT * FROM unnest($1, $2, $3, $4, $5)", name);
	spi_run(sql.data, lengthof(types), types, arrays, SPI_OK_INSERT);
	resetStringInfo(&sql);
	appendStringInfo(&sql, "COMMENT ON TABLE %s IS %s", name,
					 quote_literal_cstr(psprintf("TF-IDF vocabulary of %d terms from %lld documents (vsim.tfidf_fit)",
												 n, (long long) docs)));
	spi_run(sql.data, 0, NULL, NULL, SPI_OK_UTILITY);
}

/*
 * vsim.tfidf_fit(vocabulary text, documents text, max_features integer
 * DEFAULT NULL) RETURNS integer: run the query `documents` (one column of
 * text; NULL rows are skipped and not counted), count its terms, and
 * create the table `vocabulary` (a possibly qualified name) holding the
 * vocabulary, one row per term; returns the number of terms.  The query
 * runs with the caller's privileges.  Raises 22004 for a NULL vocabulary
 * or query, 22023 / 54000 for max_features outside 1 .. 16000, 42804 for
 * a query that does not return one text column, 22000 when the documents
 * have no term, 54000 when more than 16000 terms remain, and CREATE
 * TABLE's errors (42P07 for an existing table).
 */
PG_FUNCTION_INFO_V1(vsim_tfidf_fit);
Datum
vsim_tfidf_fit(PG_FUNCTION_ARGS)
{
	FitState	st;
	char	   *name;
	int			max_features = 0;
	TermEntry **terms;
	int			n;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the vocabulary table and the query must not be null")));
	if (!PG_ARGISNULL(2))
	{
		max_features = PG_GETARG_INT32(2);
		text_check_dims(max_features, "max_features");
	}
	name = NameListToQuotedString(textToQualifiedNameList(PG_GETARG_TEXT_PP(0)));

	st.cxt = AllocSetContextCreate(CurrentMemoryContext, "vsim TF-IDF terms",
								   ALLOCSET_DEFAULT_SIZES);
	st.terms = terms_create(st.cxt, 1024, NULL);
	st.docs = 0;
	SPI_connect();
	count_documents(text_to_cstring(PG_GETARG_TEXT_PP(1)), &st);
	terms = choose_terms(&st, max_features, &n);
	store_vocabulary(name, terms, n, st.docs);
	SPI_finish();
	MemoryContextDelete(st.cxt);
	PG_RETURN_INT32(n);
}

/* ---------------------------------------------------------------------
 * vsim.tfidf_vector
 * ---------------------------------------------------------------------
 */

/*
 * A vocabulary read into memory, kept in fn_extra for the calls of one
 * call site (a query's evaluation of the function).  It is read again
 * when the call site's vocabulary or the snapshot the calls run under
 * changes: another table, a new transaction or command, or a transaction
 * that has ended since (the snapshot's xmin, xmax, in-progress ids and
 * command id identify what a read of the table sees).
 */
typedef struct VocabCache
{
	MemoryContext cxt;			/* everything below; child of fn_mcxt */
	Oid			relid;
	LocalTransactionId lxid;
	CommandId	curcid;
	TransactionId xmin;
	TransactionId xmax;
	uint32		xcnt;
	int32		subxcnt;
	bool		suboverflowed;
	TransactionId *xids;		/* xip then subxip */
	int			dims;			/* number of terms */
	double	   *idf;			/* [dims] */
	terms_hash *terms;
} VocabCache;

/* Whether a read under `snap` sees the table as the cached read did. */
static bool
vocab_cache_valid(const VocabCache *c, Oid relid, Snapshot snap)
{
	return c->relid == relid &&
		c->lxid == MyLocalTransactionId &&
		c->curcid == snap->curcid &&
		c->xmin == snap->xmin && c->xmax == snap->xmax &&
		c->xcnt == snap->xcnt && c->subxcnt == snap->subxcnt &&
		c->suboverflowed == snap->suboverflowed &&
		(c->xcnt == 0 ||
		 memcmp(c->xids, snap->xip, sizeof(TransactionId) * c->xcnt) == 0) &&
		(c->subxcnt == 0 ||
		 memcmp(c->xids + c->xcnt, snap->subxip,
				sizeof(TransactionId) * c->subxcnt) == 0);
}

/* Remember `snap` as the snapshot the cache was read under. */
static void
vocab_cache_stamp(VocabCache *c, Oid relid, Snapshot snap)
{
	c->relid = relid;
	c->lxid = MyLocalTransactionId;
	c->curcid = snap->curcid;
	c->xmin = snap->xmin;
	c->xmax = snap->xmax;
	c->xcnt = snap->xcnt;
	c->subxcnt = snap->subxcnt;
	c->suboverflowed = snap->suboverflowed;
	c->xids = MemoryContextAlloc(c->cxt, sizeof(TransactionId) *
								 Max(snap->xcnt + snap->subxcnt, 1));
	if (snap->xcnt > 0)
		memcpy(c->xids, snap->xip, sizeof(TransactionId) * snap->xcnt);
	if (snap->subxcnt > 0)
		memcpy(c->xids + snap->xcnt, snap->subxip,
			   sizeof(TransactionId) * snap->subxcnt);
}

/* Raise 42809 unless relation `relid` has a vocabulary's columns. */
static void
check_vocabulary_columns(Oid relid, const char *relname)
{
	static const struct
	{
		const char *name;
		Oid			type;
	}			cols[] = {{"term", TEXTOID}, {"position", INT4OID}, {"idf", FLOAT8OID}};

	for (int i = 0; i < lengthof(cols); i++)
	{
		AttrNumber	att = get_attnum(relid, cols[i].name);

		if (att == InvalidAttrNumber || get_atttype(relid, att) != cols[i].type)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("relation \"%s\" is not a TF-IDF vocabulary", relname),
					 errdetail("A vocabulary has the columns term text, position integer and idf double precision, as vsim.tfidf_fit creates them.")));
	}
}

/* Raise 22000 for vocabulary `relname`; `why` is the detail. */
static void
invalid_vocabulary(const char *relname, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("invalid TF-IDF vocabulary \"%s\"", relname),
			 errdetail_internal("%s", why)));
}

/* Add one row (term, position, idf) of an SPI result to the cache. */
static void
vocab_cache_add(VocabCache *c, const char *relname, HeapTuple row,
				TupleDesc desc, bool *seen)
{
	bool		nulls[3];
	Datum		term = SPI_getbinval(row, desc, 1, &nulls[0]);
	int32		position = DatumGetInt32(SPI_getbinval(row, desc, 2, &nulls[1]));
	double		idf = DatumGetFloat8(SPI_getbinval(row, desc, 3, &nulls[2]));
	const char *utf8;
	int			len;
	bool		found;

	if (nulls[0] || nulls[1] || nulls[2])
		invalid_vocabulary(relname, "A row has a null term, position or idf.");
	if (position < 1 || position > c->dims || seen[position - 1])
		invalid_vocabulary(relname,
						   psprintf("Position %d is not one of 1 to %d (the number of terms), or occurs twice.",
									position, c->dims));
	if (!isfinite(idf))
		invalid_vocabulary(relname, psprintf("The idf at position %d is not finite.", position));
	utf8 = text_to_utf8(DatumGetTextPP(term), &len);
	term_find_or_add(c->terms, c->cxt, utf8, len, &found)->position = position - 1;
	if (found)
		invalid_vocabulary(relname, psprintf("The term at position %d occurs twice.", position));
	seen[position - 1] = true;
	c->idf[position - 1] = idf;
}

/*
 * Read vocabulary `relid` into c (emptied first) through SPI, under the
 * active snapshot.  Raises 42P01 for a relation that does not exist,
 * 42809 for one without a vocabulary's columns, 42501 without SELECT on
 * it, 22000 for an empty or inconsistent one, 54000 for more than 16000
 * terms.
 */
static void
vocab_cache_load(VocabCache *c, Oid relid)
{
	char	   *relname = get_rel_name(relid);
	char	   *sql;
	bool	   *seen;
	int			rc;

	if (relname == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	check_vocabulary_columns(relid, relname);
	MemoryContextReset(c->cxt);
	c->relid = InvalidOid;		/* until fully loaded */

	SPI_connect();
	sql = psprintf("SELECT term, position, idf FROM %s",
				   quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
											  relname));
	if ((rc = SPI_execute(sql, true, VECTOR_MAX_DIM + 1)) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		invalid_vocabulary(relname, "It has no terms.");
	if (SPI_processed > VECTOR_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("TF-IDF vocabulary \"%s\" has more than %d terms, the dimensions of a vector",
						relname, VECTOR_MAX_DIM)));
	c->dims = (int) SPI_processed;
	c->idf = MemoryContextAlloc(c->cxt, sizeof(double) * c->dims);
	c->terms = terms_create(c->cxt, c->dims, NULL);
	seen = palloc0(sizeof(bool) * c->dims);
	for (uint64 i = 0; i < SPI_processed; i++)
		vocab_cache_add(c, relname, SPI_tuptable->vals[i], SPI_tuptable->tupdesc, seen);
	SPI_finish();
	vocab_cache_stamp(c, relid, GetActiveSnapshot());
}

/* The cached vocabulary `relid` of this call site, read if needed. */
static VocabCache *
vocab_cache_get(FunctionCallInfo fcinfo, Oid relid)
{
	VocabCache *c = (VocabCache *) fcinfo->flinfo->fn_extra;
	Snapshot	snap = GetActiveSnapshot();

	if (c == NULL)
	{
		c = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(VocabCache));
		c->cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt,
									   "vsim TF-IDF vocabulary",
									   ALLOCSET_DEFAULT_SIZES);
		fcinfo->flinfo->fn_extra = c;
	}
	if (!vocab_cache_valid(c, relid, snap))
		vocab_cache_load(c, relid);
	return c;
}

/* TextTokenCallback: count a term of the vocabulary (arg: a TermCount). */
typedef struct TermCount
{
	VocabCache *vocab;
	Vector	   *v;
} TermCount;

static void
count_known_term(const char *token, int len, void *arg)
{
	TermCount  *tc = (TermCount *) arg;
	BytesKey		key = {token, len};
	TermEntry  *e = terms_lookup(tc->vocab->terms, key);

	if (e != NULL)
		tc->v->x[e->position] += 1.0f;
}

/*
 * vsim.tfidf_vector(document text, vocabulary regclass) RETURNS vector:
 * the TF-IDF vector of a text under a vocabulary table (as vsim.tfidf_fit
 * creates), with as many dimensions as the vocabulary has terms: equal to
 * TfidfVectorizer().fit(documents).transform([document]) for the
 * vocabulary fitted on `documents`.  The vocabulary is read once per call
 * site and snapshot (vocab_cache_get); errors as vocab_cache_load.
 */
PG_FUNCTION_INFO_V1(vsim_tfidf_vector);
Datum
vsim_tfidf_vector(PG_FUNCTION_ARGS)
{
	text	   *doc = PG_GETARG_TEXT_PP(0);
	VocabCache *vocab = vocab_cache_get(fcinfo, PG_GETARG_OID(1));
	TermCount	tc = {vocab, new_vector(vocab->dims)};
	int			len;
	const char *utf8 = text_to_utf8(doc, &len);

	text_tokenize(utf8, len, count_known_term, &tc);
	for (int i = 0; i < vocab->dims; i++)
		tc.v->x[i] = (float) (tc.v->x[i] * vocab->idf[i]);
	vector_l2_normalize_into(tc.v->x, vocab->dims, tc.v->x);
	PG_RETURN_VECTOR_P(tc.v);
}
