/*-------------------------------------------------------------------------
 *
 * utf8_gen.c
 *	  UTF-8 for vsim_fuzz: the validity rule PostgreSQL applies to text
 *	  parameters, and a generator of texts from many scripts (Latin with
 *	  accents, combining marks, Greek, Cyrillic, Hebrew, Arabic, Devanagari,
 *	  Thai, Hangul, CJK and its extensions, emoji), control and format
 *	  characters, zero-width and bidirectional marks, private use and
 *	  noncharacters, case-mapping oddities, words near the tokenizer's
 *	  100-character limit and long runs without spaces.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "fuzz.h"

bool
utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *) s;
	const unsigned char *end = p + len;

	while (p < end)
	{
		unsigned int c = *p;
		int			n;
		uint32_t	cp;
		uint32_t	min;

		if (c == 0)
			return false;
		if (c < 0x80)
		{
			p++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			n = 1, cp = c & 0x1F, min = 0x80;
		else if (c >= 0xE0 && c <= 0xEF)
			n = 2, cp = c & 0x0F, min = 0x800;
		else if (c >= 0xF0 && c <= 0xF4)
			n = 3, cp = c & 0x07, min = 0x10000;
		else
			return false;
		if (end - p <= n)
			return false;
		for (int i = 1; i <= n; i++)
		{
			if ((p[i] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		p += n + 1;
	}
	return true;
}

void
utf8_put(Buf *b, uint32_t c)
{
	unsigned char s[4];
	int			n;

	if (c < 0x80)
		s[0] = (unsigned char) c, n = 1;
	else if (c < 0x800)
		s[0] = 0xC0 | (c >> 6), s[1] = 0x80 | (c & 0x3F), n = 2;
	else if (c < 0x10000)
		s[0] = 0xE0 | (c >> 12), s[1] = 0x80 | ((c >> 6) & 0x3F),
			s[2] = 0x80 | (c & 0x3F), n = 3;
	else
		s[0] = 0xF0 | (c >> 18), s[1] = 0x80 | ((c >> 12) & 0x3F),
			s[2] = 0x80 | ((c >> 6) & 0x3F), s[3] = 0x80 | (c & 0x3F), n = 4;
	buf_put(b, s, n);
}

/* Code point ranges to draw runs of characters from. */
typedef struct Range
{
	uint32_t	lo;
	uint32_t	hi;
} Range;

static const Range ranges[] = {
	{0x0001, 0x001F},			/* C0 controls */
	{0x0021, 0x007E},			/* ASCII */
	{0x0080, 0x009F},			/* C1 controls */
	{0x00A0, 0x00FF},			/* Latin-1 */
	{0x0100, 0x024F},			/* Latin extended */
	{0x0300, 0x036F},			/* combining diacritical marks */
	{0x0370, 0x03FF},			/* Greek */
	{0x0400, 0x04FF},			/* Cyrillic */
	{0x0590, 0x05FF},			/* Hebrew */
	{0x0600, 0x06FF},			/* Arabic */
	{0x0900, 0x097F},			/* Devanagari */
	{0x0E00, 0x0E7F},			/* Thai */
	{0x1100, 0x11FF},			/* Hangul jamo */
	{0x1E00, 0x1EFF},			/* Latin extended additional */
	{0x2000, 0x206F},			/* general punctuation: spaces, ZW*, bidi */
	{0x3000, 0x30FF},			/* CJK symbols, kana */
	{0x3400, 0x4DBF},			/* CJK extension A */
	{0x4E00, 0x9FFF},			/* CJK */
	{0xAC00, 0xD7A3},			/* Hangul syllables (decompose) */
	{0xE000, 0xF8FF},			/* private use */
	{0xF900, 0xFAFF},			/* CJK compatibility */
	{0xFB00, 0xFDFF},			/* presentation forms, noncharacters */
	{0xFE00, 0xFE0F},			/* variation selectors */
	{0xFF00, 0xFFFF},			/* full width, specials, U+FFFE/F */
	{0x1F300, 0x1FAFF},			/* emoji */
	{0x20000, 0x2A6DF},			/* CJK extension B */
	{0x2F800, 0x2FA1F},			/* CJK compatibility supplement */
	{0xE0000, 0xE01EF},			/* tags, variation selectors */
	{0x100000, 0x10FFFF},		/* plane 16 */
};
#define N_RANGES ((int) (sizeof(ranges) / sizeof(ranges[0])))

/* Single characters with unusual case mapping or normalisation. */
static const uint32_t odd_chars[] = {
	0x0130, 0x0131, 0x212A, 0x212B, 0x1E9E, 0x00DF, 0xFB01, 0x0345, 0x03A3,
	0x03C2, 0x01C5, 0x1F88, 0x0587, 0xFFFD, 0xFEFF, 0x200B, 0x200C, 0x200D,
	0x2028, 0x2029, 0x00A0, 0x3000, 0x202E, 0x0085, 0x180E, 0x00AD, 0x034F,
	0x1100, 0x1161, 0x11A8, 0xAC00, 0xD7A3, 0x0F73, 0x0344, 0x2126, 0x00C5,
0x1D15E, 0x10FFFF, 0xFFFE, 0xFDD0};
#define N_ODD ((int) (sizeof(odd_chars) / sizeof(odd_chars[0])))

static const char *const words[] = {
	"the", "cat", "sat", "on", "mat", "dog", "dogs", "run", "running",
	"hello", "world", "vsim", "checks", "this", "model", "caf", "café",
	"Café", "naïve", "CATS", "Hello", "a", "e", "s", "t", "r", "##s",
	"[CLS]", "[SEP]", "[UNK]", "[PAD]", "[MASK]", "ẹ́", "cafe\xcc\x81",
};
#define N_WORDS ((int) (sizeof(words) / sizeof(words[0])))

static uint32_t
range_char(Rng *r, const Range *g)
{
	uint32_t	c = g->lo + rng_below(r, g->hi - g->lo + 1);

	return c >= 0xD800 && c <= 0xDFFF ? 0xFFFD : c;
}

/* A run of n characters from one range (the long space-free runs of CJK
 * and Thai text among them). */
static void
put_run(Rng *r, Buf *b, int n)
{
	const Range *g = &ranges[rng_below(r, N_RANGES)];

	for (int i = 0; i < n; i++)
		utf8_put(b, range_char(r, g));
}

/* A word of about the tokenizer's 100-character limit, mostly of letters
 * the test vocabulary splits, maybe with accents or combining marks. */
static void
put_long_word(Rng *r, Buf *b)
{
	static const uint32_t letters[] = {'a', 'e', 'i', 'n', 'o', 'r', 's', 't',
	0x00E9, 0x00C9, 0x0101, 'A', 'E'};
	int			n = rng_range(r, 95, 105);
	bool		marks = rng_percent(r, 30);

	for (int i = 0; i < n; i++)
	{
		utf8_put(b, rng_percent(r, 95) ? letters[rng_below(r, 13)] : 'a' + rng_below(r, 26));
		if (marks)
			utf8_put(b, 0x0300 + rng_below(r, 0x70));
	}
}

static void
put_segment(Rng *r, Buf *b)
{
	switch (rng_below(r, 10))
	{
		case 0:
		case 1:
		case 2:
			buf_puts(b, rng_pick(r, words, N_WORDS));
			break;
		case 3:
			buf_putc(b, "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~0123456789"[rng_below(r, 42)]);
			break;
		case 4:
			utf8_put(b, odd_chars[rng_below(r, N_ODD)]);
			break;
		case 5:
			put_run(r, b, rng_percent(r, 3) ? rng_range(r, 100, 3000) : rng_range(r, 1, 12));
			break;
		case 6:
			if (rng_percent(r, 10))
				put_long_word(r, b);
			else
				utf8_put(b, 0x0300 + rng_below(r, 0x70));
			break;
		case 7:
			{
				Range		any = {1, 0x10FFFF};

				utf8_put(b, range_char(r, &any));
			}
			break;
		default:
			buf_putc(b, " \t\n\r"[rng_below(r, 4)]);
			break;
	}
}

void
utf8_random_text(Rng *r, Buf *b, size_t bytes)
{
	size_t		start = b->len;

	while (b->len - start < bytes)
	{
		put_segment(r, b);
		if (rng_percent(r, 40))
			buf_putc(b, ' ');
	}
}
