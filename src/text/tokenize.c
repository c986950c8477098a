/*-------------------------------------------------------------------------
 *
 * tokenize.c
 *	  The word tokenizer of the text vectorizers (text_tokenize, see
 *	  text.h for what it produces) and the SQL function vsim.text_tokens.
 *
 * PostgreSQL's own regular expressions and lower() do not fit: what their
 * \w and lowercasing do outside ASCII depends on the collation (only ASCII
 * letters are word characters under "C"), whereas the tokens must be
 * those of Python 3's Unicode-aware \w and str.lower() in every database.
 * Character categories and case mappings come from libutf8proc.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <utf8proc.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "text/text.h"
#include "utils/array.h"
#include "utils/builtins.h"

#define CAPITAL_SIGMA			0x03A3
#define SMALL_SIGMA				0x03C3
#define SMALL_FINAL_SIGMA		0x03C2
#define CAPITAL_I_DOT_ABOVE		0x0130
#define COMBINING_DOT_ABOVE		0x0307

/* The tokenizer's state: the run of word characters being read. */
typedef struct TokenRun
{
	StringInfoData bytes;		/* UTF-8 of the run */
	int			chars;			/* code points in it */
	TextTokenCallback callback;
	void	   *arg;
} TokenRun;

/* A word character for Python's \w: categories L*, N*, or "_". */
static inline bool
is_word_char(utf8proc_int32_t c)
{
	utf8proc_category_t cat;

	if (c < 0x80)
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '_';
	cat = utf8proc_category(c);
	return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
		(cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
}

/*
 * Cased (The Unicode Standard, D135): Lowercase, Uppercase or Lt.  Letters
 * of categories Lu, Ll, Lt, plus the characters with a case mapping that
 * have other categories (Other_Lowercase, Other_Uppercase: ordinal
 * indicators, Roman numerals, circled letters).
 */
static bool
is_cased(utf8proc_int32_t c)
{
	utf8proc_category_t cat = utf8proc_category(c);

	return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LT) ||
		utf8proc_islower(c) || utf8proc_isupper(c);
}

/*
 * Case-ignorable (The Unicode Standard, D136): categories Mn, Me, Cf, Lm,
 * Sk, and the characters whose Word_Break property is MidLetter, MidNumLet
 * or Single_Quote (UAX #29, WordBreakProperty.txt), all of categories Po,
 * Pi and Pf, listed here.
 */
static bool
is_case_ignorable(utf8proc_int32_t c)
{
	static const utf8proc_int32_t mid[] = {
		0x0027, 0x002E, 0x003A, 0x00B7, 0x0387, 0x055F, 0x05F4, 0x2018,
		0x2019, 0x2024, 0x2027, 0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E,
		0xFF1A
	};

	switch (utf8proc_category(c))
	{
		case UTF8PROC_CATEGORY_MN:
		case UTF8PROC_CATEGORY_ME:
		case UTF8PROC_CATEGORY_CF:
		case UTF8PROC_CATEGORY_LM:
		case UTF8PROC_CATEGORY_SK:
			return true;
		case UTF8PROC_CATEGORY_PO:
		case UTF8PROC_CATEGORY_PI:
		case UTF8PROC_CATEGORY_PF:
			for (int i = 0; i < lengthof(mid); i++)
				if (c == mid[i])
					return true;
			return false;
		default:
			return false;
	}
}

/*
 * Whether the first character that is not case-ignorable in the direction
 * of the scan is a cased letter: before position p of the text starting at
 * `start` (backward = true) or from p up to `end`.  A text edge, or bytes
 * that are not UTF-8, count as no cased letter.
 */
static bool
cased_letter_next_to(const utf8proc_uint8_t *start, const utf8proc_uint8_t *p,
					 const utf8proc_uint8_t *end, bool backward)
{
	for (;;)
	{
		const utf8proc_uint8_t *q = p;
		utf8proc_int32_t c;

		if (backward)
		{
			if (q == start)
				return false;
			while (--q > start && (*q & 0xC0) == 0x80)
				;
			if (utf8proc_iterate(q, p - q, &c) != p - q)
				return false;
			p = q;
		}
		else
		{
			utf8proc_ssize_t n = (p < end) ? utf8proc_iterate(p, end - p, &c) : -1;

			if (n < 0)
				return false;
			p += n;
		}
		if (!is_case_ignorable(c))
			return is_cased(c);
	}
}

/*
 * Hand the run to the callback if it is a token (2+ characters); empty it.
 * Texts can be long: this is where the tokenizer checks for interrupts.
 */
static void
end_run(TokenRun *run)
{
	CHECK_FOR_INTERRUPTS();
	if (run->chars >= 2)
		run->callback(run->bytes.data, run->bytes.len, run->arg);
	resetStringInfo(&run->bytes);
	run->chars = 0;
}

/* Continue the run with lowercased character c, or end it. */
static void
add_char(TokenRun *run, utf8proc_int32_t c)
{
	if (!is_word_char(c))
	{
		end_run(run);
		return;
	}
	if (c < 0x80)
		appendStringInfoChar(&run->bytes, (char) c);
	else
	{
		enlargeStringInfo(&run->bytes, 4);
		run->bytes.len += utf8proc_encode_char(c, (utf8proc_uint8_t *)
											   run->bytes.data + run->bytes.len);
	}
	run->chars++;
}

void
text_tokenize(const char *utf8, int len, TextTokenCallback callback, void *arg)
{
	const utf8proc_uint8_t *start = (const utf8proc_uint8_t *) utf8;
	const utf8proc_uint8_t *end = start + len;
	const utf8proc_uint8_t *s = start;
	TokenRun	run;

	initStringInfo(&run.bytes);
	run.chars = 0;
	run.callback = callback;
	run.arg = arg;
	while (s < end)
	{
		utf8proc_int32_t c = *s;
		utf8proc_ssize_t n = 1;

		if (c >= 0x80 && (n = utf8proc_iterate(s, end - s, &c)) < 0)
		{
			end_run(&run);		/* not UTF-8: a separator */
			s++;
			continue;
		}
		if (c < 0x80)
			add_char(&run, (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c);
		else if (c == CAPITAL_I_DOT_ABOVE)
		{
			add_char(&run, 'i');
			add_char(&run, COMBINING_DOT_ABOVE);
		}
		else if (c == CAPITAL_SIGMA)
			add_char(&run, cased_letter_next_to(start, s, end, true) &&
					 !cased_letter_next_to(start, s + n, end, false) ?
					 SMALL_FINAL_SIGMA : SMALL_SIGMA);
		else
			add_char(&run, utf8proc_tolower(c));
		s += n;
	}
	end_run(&run);
	pfree(run.bytes.data);
}

/* Collect tokens as SQL text (server encoding) into an array. */
static void
collect_token(const char *token, int len, void *arg)
{
	ArrayBuildState *astate = (ArrayBuildState *) arg;
	const char *s = pg_any_to_server(token, len, PG_UTF8);
	text	   *t = s == token ? cstring_to_text_with_len(s, len) : cstring_to_text(s);

	accumArrayResult(astate, PointerGetDatum(t), false, TEXTOID,
					 CurrentMemoryContext);
}

/*
 * vsim.text_tokens(document text) RETURNS text[]: the tokens of a text in
 * order, repeats included (text_tokenize); an empty array when there are
 * none.  Raises only encoding conversion errors.
 */
PG_FUNCTION_INFO_V1(vsim_text_tokens);
Datum
vsim_text_tokens(PG_FUNCTION_ARGS)
{
	text	   *doc = PG_GETARG_TEXT_PP(0);
	ArrayBuildState *astate = initArrayResult(TEXTOID, CurrentMemoryContext, false);
	int			len;
	const char *utf8 = text_to_utf8(doc, &len);

	text_tokenize(utf8, len, collect_token, astate);
	PG_RETURN_DATUM(makeArrayResult(astate, CurrentMemoryContext));
}
