/*-------------------------------------------------------------------------
 *
 * text.c
 *	  What the files of the text vectorizers share: the conversion of SQL
 *	  text to UTF-8 and the check of a dimensions argument.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "mb/pg_wchar.h"
#include "text/text.h"
#include "vector/vector.h"

const char *
text_to_utf8(const text *t, int *len)
{
	const char *data = VARDATA_ANY(t);
	const char *utf8;

	*len = VARSIZE_ANY_EXHDR(t);
	utf8 = pg_server_to_any(data, *len, PG_UTF8);
	if (utf8 != data)
		*len = strlen(utf8);
	return utf8;
}

void
text_check_dims(int value, const char *name)
{
	if (value < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be at least 1", name)));
	if (value > VECTOR_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s cannot exceed %d", name, VECTOR_MAX_DIM),
				 errdetail("A vector has at most %d dimensions.", VECTOR_MAX_DIM)));
}
