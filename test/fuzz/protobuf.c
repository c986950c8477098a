/*-------------------------------------------------------------------------
 *
 * protobuf.c
 *	  Structure-aware mutation of protobuf messages (ONNX model files)
 *	  without a schema.
 *
 * The wire format is a sequence of fields, each a varint key (field
 * number << 3 | wire type) and a value: a varint (type 0), 8 bytes (1), a
 * varint length and that many bytes (2), or 4 bytes (5).  A
 * length-delimited value that parses completely as fields is taken as a
 * nested message.  Mutations then change one field of the tree at a time
 * (a varint to a boundary value, a fixed value to NaN or a random pattern,
 * a string to a name from the dictionary or to mutated bytes, a key's
 * field number or wire type), or delete, duplicate, swap or move whole
 * fields, and the tree is written back with every length recomputed, so
 * the result is still well-formed protobuf that means something else.
 * Messages no mutation touched are copied as they were read.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#define PB_MAX_DEPTH 48
#define PB_MAX_FIELDS 200000

typedef struct PbMsg PbMsg;

typedef struct PbField
{
	uint64_t	key;			/* field number << 3 | wire type */
	uint64_t	value;			/* types 0, 1 and 5 */
	const unsigned char *raw;	/* type 2: the value's bytes */
	size_t		raw_len;
	Buf			bytes;			/* type 2, once changed */
	bool		changed;
	PbMsg	   *msg;			/* type 2 that parses as a message */
} PbField;

struct PbMsg
{
	PbMsg	   *parent;
	PbField   **fields;
	int			n;
	int			cap;
	bool		dirty;			/* a field in it or below changed */
};

/* Everything allocated for one mutation, freed together. */
typedef struct PbArena
{
	void	  **ptrs;
	int			n;
	int			cap;
	PbField   **all;			/* every field, for picking one */
	PbMsg	  **owner;			/* message each of `all` belongs to */
	int			n_all;
	int			cap_all;
} PbArena;

static void *
pb_alloc(PbArena *a, size_t size)
{
	void	   *p = calloc(1, size);

	if (p == NULL)
		abort();
	if (a->n == a->cap)
	{
		a->cap = a->cap ? a->cap * 2 : 256;
		a->ptrs = realloc(a->ptrs, sizeof(void *) * a->cap);
	}
	a->ptrs[a->n++] = p;
	return p;
}

static void
pb_free(PbArena *a)
{
	for (int i = 0; i < a->n; i++)
		free(a->ptrs[i]);
	free(a->ptrs);
	free(a->all);
	free(a->owner);
}

static void
pb_track(PbArena *a, PbField *f, PbMsg *m)
{
	if (a->n_all == a->cap_all)
	{
		a->cap_all = a->cap_all ? a->cap_all * 2 : 256;
		a->all = realloc(a->all, sizeof(PbField *) * a->cap_all);
		a->owner = realloc(a->owner, sizeof(PbMsg *) * a->cap_all);
	}
	a->all[a->n_all] = f;
	a->owner[a->n_all++] = m;
}

static void
msg_add(PbArena *a, PbMsg *m, PbField *f, int at)
{
	if (m->n == m->cap)
	{
		PbField   **grown = pb_alloc(a, sizeof(PbField *) * (m->cap ? m->cap * 2 : 8));

		if (m->n)
			memcpy(grown, m->fields, sizeof(PbField *) * m->n);
		m->fields = grown;
		m->cap = m->cap ? m->cap * 2 : 8;
	}
	memmove(m->fields + at + 1, m->fields + at, sizeof(PbField *) * (m->n - at));
	m->fields[at] = f;
	m->n++;
}

/* ---------------------------------------------------------------------
 * Parsing
 * ---------------------------------------------------------------------
 */

static bool
read_varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 70; shift += 7)
	{
		if (*p >= end)
			return false;
		*v |= (uint64_t) (**p & 0x7F) << shift;
		if ((*(*p)++ & 0x80) == 0)
			return true;
	}
	return false;
}

static uint64_t
read_le(const unsigned char *p, int bytes)
{
	uint64_t	v = 0;

	for (int i = bytes - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static PbMsg *parse_msg(PbArena *a, const unsigned char *p, size_t len,
						PbMsg *parent, int depth);

/* Read one field's value of wire type `type` at *p. */
static bool
parse_value(PbArena *a, PbField *f, const unsigned char **p,
			const unsigned char *end, PbMsg *m, int depth)
{
	uint64_t	len;
	int			type = (int) (f->key & 7);

	if (type == 0)
		return read_varint(p, end, &f->value);
	if (type == 1 || type == 5)
	{
		int			n = type == 1 ? 8 : 4;

		if (end - *p < n)
			return false;
		f->value = read_le(*p, n);
		*p += n;
		return true;
	}
	if (type != 2 || !read_varint(p, end, &len) || len > (uint64_t) (end - *p))
		return false;
	f->raw = *p;
	f->raw_len = (size_t) len;
	*p += len;
	if (len > 0 && depth < PB_MAX_DEPTH)
		f->msg = parse_msg(a, f->raw, f->raw_len, m, depth + 1);
	return true;
}

/* The fields of p[0, len) as a message, or NULL when it is not one. */
static PbMsg *
parse_msg(PbArena *a, const unsigned char *p, size_t len, PbMsg *parent,
		  int depth)
{
	const unsigned char *end = p + len;
	PbMsg	   *m = pb_alloc(a, sizeof(PbMsg));
	int			tracked = a->n_all;

	m->parent = parent;
	while (p < end)
	{
		PbField    *f = pb_alloc(a, sizeof(PbField));

		if (!read_varint(&p, end, &f->key) || (f->key >> 3) == 0 ||
			a->n_all >= PB_MAX_FIELDS || !parse_value(a, f, &p, end, m, depth))
		{
			a->n_all = tracked; /* forget the fields of the failed parse */
			return NULL;
		}
		msg_add(a, m, f, m->n);
		pb_track(a, f, m);
	}
	return m;
}

/* ---------------------------------------------------------------------
 * Writing
 * ---------------------------------------------------------------------
 */

static void
put_varint(Buf *b, uint64_t v)
{
	do
	{
		buf_putc(b, (char) ((v & 0x7F) | (v > 0x7F ? 0x80 : 0)));
		v >>= 7;
	} while (v);
}

static void write_msg(const PbMsg *m, Buf *out);

static void
write_field(const PbField *f, Buf *out)
{
	int			type = (int) (f->key & 7);

	put_varint(out, f->key);
	if (type == 0)
		put_varint(out, f->value);
	else if (type == 1 || type == 5)
		for (int i = 0; i < (type == 1 ? 8 : 4); i++)
			buf_putc(out, (char) (f->value >> (8 * i)));
	else if (f->msg && f->msg->dirty)
	{
		Buf			sub = {0};

		write_msg(f->msg, &sub);
		put_varint(out, sub.len);
		buf_put(out, sub.data, sub.len);
		buf_free(&sub);
	}
	else if (f->changed)
	{
		put_varint(out, f->bytes.len);
		buf_put(out, f->bytes.data, f->bytes.len);
	}
	else
	{
		put_varint(out, f->raw_len);
		buf_put(out, f->raw, f->raw_len);
	}
}

static void
write_msg(const PbMsg *m, Buf *out)
{
	for (int i = 0; i < m->n; i++)
		write_field(m->fields[i], out);
}

/* ---------------------------------------------------------------------
 * Mutations
 * ---------------------------------------------------------------------
 */

static void
mark_dirty(PbMsg *m)
{
	for (; m; m = m->parent)
		m->dirty = true;
}

static uint64_t
boundary_varint(Rng *r, uint64_t v)
{
	static const uint64_t values[] = {0, 1, 2, 3, 7, 8, 16, 127, 128, 255,
		65535, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, UINT64_C(0x100000000),
		UINT64_C(0x7FFFFFFFFFFFFFFF), UINT64_C(0x8000000000000000),
	UINT64_MAX, UINT64_MAX - 1};

	switch (rng_below(r, 4))
	{
		case 0:
			return values[rng_below(r, sizeof(values) / sizeof(values[0]))];
		case 1:
			return v + (uint64_t) rng_range(r, -3, 3);
		case 2:
			return v * 2 + 1;
		default:
			return rng_next(r) >> rng_below(r, 64);
	}
}

static uint64_t
boundary_fixed(Rng *r, int type)
{
	static const uint32_t floats[] = {0x7fc00000u, 0x7f800000u, 0xff800000u,
	0x00000000u, 0x80000000u, 0x7f7fffffu, 0x00000001u, 0xbf800000u};

	if (type == 5 && rng_percent(r, 70))
		return floats[rng_below(r, sizeof(floats) / sizeof(floats[0]))];
	return type == 5 ? (uint32_t) rng_next(r) : rng_next(r);
}

/* Change the bytes of a string or bytes field. */
static void
mutate_string(Rng *r, PbField *f, const char *const *dict, int n_dict)
{
	if (!f->changed)
	{
		buf_reset(&f->bytes);
		buf_put(&f->bytes, f->raw, f->raw_len);
		f->changed = true;
	}
	if (n_dict > 0 && rng_percent(r, 40))
	{
		buf_reset(&f->bytes);
		buf_puts(&f->bytes, rng_pick(r, dict, n_dict));
	}
	else if (rng_percent(r, 10))
		buf_reset(&f->bytes);
	else
		mutate_bytes(r, &f->bytes, dict, n_dict, 3);
}

/* Change the value of field f (of message m). */
static void
mutate_value(Rng *r, PbField *f, const char *const *dict, int n_dict)
{
	int			type = (int) (f->key & 7);

	if (rng_percent(r, 8))		/* another field number or wire type */
	{
		uint64_t	number = f->key >> 3;

		number = rng_percent(r, 50) ? number + 1 : (uint64_t) rng_range(r, 1, 20);
		f->key = (number << 3) | (uint64_t) (rng_percent(r, 80) ? type : 0);
		if ((f->key & 7) == 0 && type == 2)
			f->value = f->raw_len;
		return;
	}
	if (type == 0)
		f->value = boundary_varint(r, f->value);
	else if (type == 1 || type == 5)
		f->value = boundary_fixed(r, type);
	else if (f->msg == NULL || rng_percent(r, 10))
	{
		f->msg = NULL;
		mutate_string(r, f, dict, n_dict);
	}
}

static int
index_in(const PbMsg *m, const PbField *f)
{
	for (int i = 0; i < m->n; i++)
		if (m->fields[i] == f)
			return i;
	return -1;
}

/* True when message `to` is `from` or inside it (copying a field holding
 * `from` into `to` would then make a cycle). */
static bool
reaches(const PbMsg *from, const PbMsg *to)
{
	if (from == to)
		return true;
	for (int i = 0; i < from->n; i++)
		if (from->fields[i]->msg && reaches(from->fields[i]->msg, to))
			return true;
	return false;
}

/* One mutation of a random field of the tree. */
static void
mutate_tree(Rng *r, PbArena *a, const char *const *dict, int n_dict)
{
	int			k = (int) rng_below(r, (uint32_t) a->n_all);
	PbField    *f = a->all[k];
	PbMsg	   *m = a->owner[k];
	int			at = index_in(m, f);

	if (at < 0)
		return;					/* deleted earlier */
	mark_dirty(m);
	switch (rng_below(r, 8))
	{
		case 0:					/* delete */
			memmove(m->fields + at, m->fields + at + 1, sizeof(PbField *) * (m->n - at - 1));
			m->n--;
			break;
		case 1:					/* duplicate */
			msg_add(a, m, f, at + (int) rng_below(r, (uint32_t) (m->n - at + 1)));
			break;
		case 2:					/* swap with a sibling */
			{
				int			other = (int) rng_below(r, (uint32_t) m->n);

				m->fields[at] = m->fields[other];
				m->fields[other] = f;
			}
			break;
		case 3:					/* copy into another message */
			{
				PbMsg	   *to = a->owner[rng_below(r, (uint32_t) a->n_all)];

				if (f->msg && reaches(f->msg, to))
					break;
				mark_dirty(to);
				msg_add(a, to, f, (int) rng_below(r, (uint32_t) to->n + 1));
			}
			break;
		default:
			mutate_value(r, f, dict, n_dict);
			break;
	}
}

bool
protobuf_mutate(Rng *r, Buf *b, const char *const *dict, int n_dict,
				int rounds)
{
	PbArena		a = {0};
	Buf			copy = {0};
	PbMsg	   *root;

	buf_copy(&copy, b);
	root = parse_msg(&a, (const unsigned char *) copy.data, copy.len, NULL, 0);
	if (root && a.n_all > 0)
	{
		for (int n = rng_range(r, 1, rounds); n > 0; n--)
			mutate_tree(r, &a, dict, n_dict);
		buf_reset(b);
		write_msg(root, b);
	}
	for (int i = 0; i < a.n_all; i++)
		buf_free(&a.all[i]->bytes);
	pb_free(&a);
	buf_free(&copy);
	return root != NULL;
}
