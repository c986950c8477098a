/*-------------------------------------------------------------------------
 *
 * gen.c
 *	  vsim_fuzz's building blocks: a deterministic random number generator
 *	  (SplitMix64, one state per input), growable byte buffers, and the
 *	  byte-level mutator every target uses.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* ---------------------------------------------------------------------
 * Random numbers
 * ---------------------------------------------------------------------
 */

uint64_t
rng_next(Rng *r)
{
	uint64_t	z = (r->state += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

void
rng_seed(Rng *r, uint64_t seed, uint64_t index)
{
	r->state = seed;
	r->state = rng_next(r) ^ (index * UINT64_C(0xD1B54A32D192ED03));
	(void) rng_next(r);
}

uint32_t
rng_below(Rng *r, uint32_t n)
{
	return (uint32_t) (((rng_next(r) >> 32) * (uint64_t) n) >> 32);
}

int
rng_range(Rng *r, int lo, int hi)
{
	return lo + (int) rng_below(r, (uint32_t) (hi - lo + 1));
}

bool
rng_percent(Rng *r, int percent)
{
	return (int) rng_below(r, 100) < percent;
}

const char *
rng_pick(Rng *r, const char *const *items, int n)
{
	return items[rng_below(r, (uint32_t) n)];
}

/* ---------------------------------------------------------------------
 * Buffers
 * ---------------------------------------------------------------------
 */

static void
buf_reserve(Buf *b, size_t extra)
{
	size_t		need = b->len + extra + 1;

	if (need <= b->cap)
		return;
	b->cap = b->cap ? b->cap : 64;
	while (b->cap < need)
		b->cap *= 2;
	b->data = realloc(b->data, b->cap);
	if (b->data == NULL)
	{
		fprintf(stderr, "vsim_fuzz: out of memory\n");
		exit(2);
	}
}

void
buf_reset(Buf *b)
{
	buf_reserve(b, 0);
	b->len = 0;
	b->data[0] = '\0';
}

void
buf_free(Buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
buf_put(Buf *b, const void *data, size_t n)
{
	buf_reserve(b, n);
	if (n > 0)					/* data may be NULL then */
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_putc(Buf *b, char c)
{
	buf_put(b, &c, 1);
}

void
buf_puts(Buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

void
buf_printf(Buf *b, const char *fmt,...)
{
	va_list		ap;
	int			n;

	buf_reserve(b, 64);
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if ((size_t) n >= b->cap - b->len)
	{
		buf_reserve(b, (size_t) n);
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t) n;
}

void
buf_copy(Buf *dst, const Buf *src)
{
	buf_reset(dst);
	buf_put(dst, src->data, src->len);
}

void
buf_insert(Buf *b, size_t pos, const void *data, size_t n)
{
	buf_reserve(b, n);
	memmove(b->data + pos + n, b->data + pos, b->len - pos + 1);
	memcpy(b->data + pos, data, n);
	b->len += n;
}

void
buf_erase(Buf *b, size_t pos, size_t n)
{
	if (pos + n > b->len)
		n = b->len - pos;
	memmove(b->data + pos, b->data + pos + n, b->len - pos - n + 1);
	b->len -= n;
}

void
buf_read_file(Buf *b, const char *path)
{
	FILE	   *f = fopen(path, "rb");
	char		chunk[65536];
	size_t		n;

	if (f == NULL)
	{
		perror(path);
		exit(2);
	}
	buf_reset(b);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_put(b, chunk, n);
	fclose(f);
}

void
buf_write_file(const Buf *b, const char *path)
{
	FILE	   *f = fopen(path, "wb");

	if (f == NULL || fwrite(b->data, 1, b->len, f) != b->len || fclose(f) != 0)
	{
		perror(path);
		exit(2);
	}
}

void
buf_no_nul(Buf *b)
{
	for (size_t i = 0; i < b->len; i++)
		if (b->data[i] == '\0')
			b->data[i] = '\x01';
}

/* ---------------------------------------------------------------------
 * Byte-level mutations
 * ---------------------------------------------------------------------
 */

/* Bytes that mean something to one of the parsers under test. */
static const char interesting_bytes[] = "[](){},:;.+-eExXpP0123456789 \t\n\r\v\f\"\\#nNaAiIfF";

/* A random position in b, in [0, len] when `at_end` may be chosen. */
static size_t
random_pos(Rng *r, const Buf *b, bool at_end)
{
	size_t		n = b->len + (at_end ? 1 : 0);

	return n == 0 ? 0 : (size_t) (rng_next(r) % n);
}

/* A range length biased to short ones. */
static size_t
random_span(Rng *r, size_t max)
{
	size_t		n = rng_percent(r, 80) ? (size_t) rng_range(r, 1, 8) :
		(size_t) (rng_next(r) % (max + 1));

	return n > max ? max : n;
}

/* Insert a copy of b[from, from + span) at `to` (positions before it). */
static void
copy_range(Buf *b, size_t from, size_t span, size_t to)
{
	Buf			tmp = {0};

	buf_put(&tmp, b->data + from, span);
	buf_insert(b, to, tmp.data, tmp.len);
	buf_free(&tmp);
}

static void
mutate_once(Rng *r, Buf *b, const char *const *dict, int n_dict)
{
	size_t		pos = random_pos(r, b, false);
	char		c;

	switch (rng_below(r, 9))
	{
		case 0:					/* flip one bit */
			if (b->len)
				b->data[pos] ^= (char) (1 << rng_below(r, 8));
			break;
		case 1:					/* set a random byte */
			if (b->len)
				b->data[pos] = (char) rng_below(r, 256);
			break;
		case 2:					/* set an interesting byte */
			c = interesting_bytes[rng_below(r, sizeof(interesting_bytes) - 1)];
			if (b->len)
				b->data[pos] = c;
			else
				buf_putc(b, c);
			break;
		case 3:					/* delete a range */
			buf_erase(b, pos, random_span(r, b->len - pos));
			break;
		case 4:					/* duplicate a range in place */
			copy_range(b, pos, random_span(r, b->len - pos), pos);
			break;
		case 5:					/* copy a range somewhere else */
			{
				size_t		span = random_span(r, b->len - pos);

				copy_range(b, pos, span, random_pos(r, b, true));
			}
			break;
		case 6:					/* truncate */
			b->len = pos;
			b->data[pos] = '\0';
			break;
		case 7:					/* insert an interesting byte */
			c = interesting_bytes[rng_below(r, sizeof(interesting_bytes) - 1)];
			buf_insert(b, random_pos(r, b, true), &c, 1);
			break;
		default:				/* insert a dictionary token */
			if (n_dict > 0)
			{
				const char *tok = rng_pick(r, dict, n_dict);

				buf_insert(b, random_pos(r, b, true), tok, strlen(tok));
			}
			break;
	}
}

void
mutate_bytes(Rng *r, Buf *b, const char *const *dict, int n_dict, int rounds)
{
	int			n = rng_range(r, 1, rounds);

	buf_reserve(b, 0);
	for (int i = 0; i < n; i++)
		mutate_once(r, b, dict, n_dict);
}
