/*-------------------------------------------------------------------------
 *
 * onnx_check.c
 *	  The check of an ONNX model file before ONNX Runtime reads it: a
 *	  reader of the protobuf wire format that visits every tensor a
 *	  ModelProto can hold and refuses tensors whose data lives outside the
 *	  file ("external data").  This file calls no other file of the
 *	  subsystem.
 *
 * Why: vsim hands ONNX Runtime the bytes of the model, not its path, so
 * the runtime resolves the location of external data against the server's
 * working directory, the data directory.  A model naming "PG_VERSION" or
 * "postgresql.conf" there would read that file into a tensor, and its
 * bytes would come back through vsim.embed_output.
 *
 * The wire format (protobuf encoding): a message is a sequence of fields,
 * each a varint key (field number << 3 | wire type) and a value whose form
 * the wire type gives: 0 a varint, 1 eight bytes, 2 a varint length and
 * that many bytes (strings, bytes and sub-messages), 5 four bytes.  Wire
 * types 3 and 4 (groups) are deprecated and unused by ONNX: refused.  A
 * varint is little-endian base 128, at most 10 bytes.
 *
 * Where tensors are, with the field numbers of onnx.proto:
 *	ModelProto			graph 7 (GraphProto), training_info 20
 *						(TrainingInfoProto), functions 25 (FunctionProto)
 *	TrainingInfoProto	initialization 1, algorithm 2 (GraphProto)
 *	FunctionProto		node 7 (NodeProto), attribute_proto 11
 *						(AttributeProto: default values; newer than the
 *						onnx 1.12 of Debian 12, same numbering)
 *	GraphProto			node 1, initializer 5 (TensorProto),
 *						sparse_initializer 15 (SparseTensorProto)
 *	NodeProto			attribute 5 (AttributeProto)
 *	AttributeProto		t 5, tensors 10 (TensorProto), g 6, graphs 11
 *						(GraphProto: the branches and bodies of If, Loop,
 *						Scan), sparse_tensor 22, sparse_tensors 23
 *	SparseTensorProto	values 1, indices 2 (TensorProto)
 *	TensorProto			name 8, external_data 13 (StringStringEntryProto:
 *						key 1, value 2), data_location 14 (0 DEFAULT,
 *						1 EXTERNAL)
 * Other fields are skipped unread.  A field may repeat (protobuf merges
 * repeated occurrences of a singular message), so each occurrence is
 * checked on its own: a tensor is refused if any occurrence has an
 * external_data entry or a data_location other than DEFAULT, which also
 * holds for the merged message.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "embed/embed.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"

/*
 * Deepest nesting of messages accepted (the model itself is depth 0); the
 * protobuf library's own default limit.  Each level of subgraph (If, Loop,
 * Scan) takes three: graph, node, attribute.
 */
#define ONNX_MAX_DEPTH 100

/* Longest tensor name or location quoted in a message, in bytes. */
#define ONNX_MAX_QUOTED 200

/* The kinds of message visited. */
typedef enum OnnxMessage
{
	MSG_MODEL,
	MSG_TRAINING_INFO,
	MSG_FUNCTION,
	MSG_GRAPH,
	MSG_NODE,
	MSG_ATTRIBUTE,
	MSG_SPARSE_TENSOR,
	MSG_TENSOR
} OnnxMessage;

/* Field `field` of a `parent` message is a `child` message. */
typedef struct OnnxSubMessage
{
	OnnxMessage parent;
	uint32		field;
	OnnxMessage child;
} OnnxSubMessage;

static const OnnxSubMessage sub_messages[] = {
	{MSG_MODEL, 7, MSG_GRAPH},
	{MSG_MODEL, 20, MSG_TRAINING_INFO},
	{MSG_MODEL, 25, MSG_FUNCTION},
	{MSG_TRAINING_INFO, 1, MSG_GRAPH},
	{MSG_TRAINING_INFO, 2, MSG_GRAPH},
	{MSG_FUNCTION, 7, MSG_NODE},
	{MSG_FUNCTION, 11, MSG_ATTRIBUTE},
	{MSG_GRAPH, 1, MSG_NODE},
	{MSG_GRAPH, 5, MSG_TENSOR},
	{MSG_GRAPH, 15, MSG_SPARSE_TENSOR},
	{MSG_NODE, 5, MSG_ATTRIBUTE},
	{MSG_ATTRIBUTE, 5, MSG_TENSOR},
	{MSG_ATTRIBUTE, 6, MSG_GRAPH},
	{MSG_ATTRIBUTE, 10, MSG_TENSOR},
	{MSG_ATTRIBUTE, 11, MSG_GRAPH},
	{MSG_ATTRIBUTE, 22, MSG_SPARSE_TENSOR},
	{MSG_ATTRIBUTE, 23, MSG_SPARSE_TENSOR},
	{MSG_SPARSE_TENSOR, 1, MSG_TENSOR},
	{MSG_SPARSE_TENSOR, 2, MSG_TENSOR},
};

/* TensorProto and StringStringEntryProto fields read. */
#define TENSOR_NAME 8
#define TENSOR_EXTERNAL_DATA 13
#define TENSOR_DATA_LOCATION 14
#define ENTRY_KEY 1
#define ENTRY_VALUE 2

/* Wire types. */
#define WIRE_VARINT 0
#define WIRE_FIXED64 1
#define WIRE_LEN 2
#define WIRE_FIXED32 5

/* Bytes p[0..end - p) of the file, being read from p on. */
typedef struct OnnxSpan
{
	const uint8 *p;
	const uint8 *end;
} OnnxSpan;

/* The file being checked: its path and first byte, for messages. */
typedef struct OnnxFile
{
	const char *path;
	const uint8 *start;
} OnnxFile;

/* One field of a message. */
typedef struct OnnxField
{
	uint32		number;
	int			wire;
	uint64		value;			/* WIRE_VARINT */
	OnnxSpan	bytes;			/* WIRE_LEN: the value's bytes */
} OnnxField;

/* Raise 22023: the file is not well-formed protobuf at `at`. */
static void
malformed(const OnnxFile *f, const uint8 *at, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("could not load ONNX model from file \"%s\"", f->path),
			 errdetail("The file is not a valid ONNX protobuf message: %s at byte %zu.",
					   what, (size_t) (at - f->start))));
}

/* Read a varint at s->p; raises 22023 when it is truncated or longer than
 * 64 bits. */
static uint64
read_varint(const OnnxFile *f, OnnxSpan *s)
{
	const uint8 *at = s->p;
	uint64		v = 0;

	for (int shift = 0; shift < 64; shift += 7)
	{
		uint8		b;

		if (s->p >= s->end)
			malformed(f, at, "truncated varint");
		b = *s->p++;
		if (shift == 63 && b > 1)
			break;
		v |= (uint64) (b & 0x7f) << shift;
		if ((b & 0x80) == 0)
			return v;
	}
	malformed(f, at, "varint longer than 64 bits");
	return 0;					/* keep compiler quiet */
}

/* Take n bytes at s->p (into *out if not NULL); raises 22023 when fewer
 * are left. */
static void
take_bytes(const OnnxFile *f, OnnxSpan *s, uint64 n, const uint8 *field,
		   OnnxSpan *out)
{
	if (n > (uint64) (s->end - s->p))
		malformed(f, field, "field runs past the end of its message");
	if (out)
	{
		out->p = s->p;
		out->end = s->p + n;
	}
	s->p += n;
}

/*
 * Read the next field of the message s into *out; false at its end.
 * Raises 22023 for field number 0, a key over 32 bits, a wire type other
 * than 0, 1, 2 and 5, and values past the end.
 */
static bool
next_field(const OnnxFile *f, OnnxSpan *s, OnnxField *out)
{
	const uint8 *at = s->p;
	uint64		key;

	if (s->p >= s->end)
		return false;
	key = read_varint(f, s);
	if (key > PG_UINT32_MAX || (key >> 3) == 0)
		malformed(f, at, "invalid field key");
	out->number = (uint32) (key >> 3);
	out->wire = (int) (key & 7);
	out->value = 0;
	switch (out->wire)
	{
		case WIRE_VARINT:
			out->value = read_varint(f, s);
			break;
		case WIRE_FIXED64:
			take_bytes(f, s, 8, at, NULL);
			break;
		case WIRE_LEN:
			take_bytes(f, s, read_varint(f, s), at, &out->bytes);
			break;
		case WIRE_FIXED32:
			take_bytes(f, s, 4, at, NULL);
			break;
		default:
			malformed(f, at, "unsupported wire type");
	}
	return true;
}

/* The bytes of s quoted for a message: printable ASCII as is, others as
 * \xNN, at most ONNX_MAX_QUOTED bytes of s. */
static char *
quoted(OnnxSpan s)
{
	StringInfoData buf;
	size_t		n = Min((size_t) (s.end - s.p), ONNX_MAX_QUOTED);

	initStringInfo(&buf);
	for (size_t i = 0; i < n; i++)
	{
		if (s.p[i] >= 0x20 && s.p[i] < 0x7f && s.p[i] != '\\')
			appendStringInfoChar(&buf, (char) s.p[i]);
		else
			appendStringInfo(&buf, "\\x%02x", s.p[i]);
	}
	if (n < (size_t) (s.end - s.p))
		appendStringInfoString(&buf, "...");
	return buf.data;
}

/* If the external_data entry `entry` has the key "location", set *location
 * to its value. */
static void
read_location(const OnnxFile *f, OnnxSpan entry, OnnxSpan *location)
{
	static const char key[] = "location";
	OnnxField field;
	bool		is_location = false;
	OnnxSpan	value = {NULL, NULL};

	while (next_field(f, &entry, &field))
	{
		if (field.wire != WIRE_LEN)
			continue;
		if (field.number == ENTRY_KEY)
			is_location = field.bytes.end - field.bytes.p == sizeof(key) - 1 &&
				memcmp(field.bytes.p, key, sizeof(key) - 1) == 0;
		else if (field.number == ENTRY_VALUE)
			value = field.bytes;
	}
	if (is_location && value.p != NULL)
		*location = value;
}

/* Raise 0A000 when the TensorProto `tensor` keeps its data outside the
 * file: an external_data entry, or a data_location other than DEFAULT (0;
 * protobuf keeps the low 32 bits of an enum's varint). */
static void
check_tensor(const OnnxFile *f, OnnxSpan tensor)
{
	OnnxField field;
	OnnxSpan	name = {tensor.p, tensor.p};	/* empty */
	OnnxSpan	location = {NULL, NULL};
	bool		external = false;

	while (next_field(f, &tensor, &field))
	{
		if (field.number == TENSOR_NAME && field.wire == WIRE_LEN)
			name = field.bytes;
		else if (field.number == TENSOR_EXTERNAL_DATA)
		{
			external = true;
			if (field.wire == WIRE_LEN)
				read_location(f, field.bytes, &location);
		}
		else if (field.number == TENSOR_DATA_LOCATION &&
				 (field.wire != WIRE_VARINT || (uint32) field.value != 0))
			external = true;
	}
	if (external)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("model file \"%s\" uses external data", f->path),
				 location.p ?
				 errdetail("Tensor \"%s\" names \"%s\" as the location of its data.",
						   quoted(name), quoted(location)) :
				 errdetail("Tensor \"%s\" is marked as keeping its data outside the model file.",
						   quoted(name)),
				 errhint("Save the model as a single file, for example in Python with onnx.save_model(onnx.load(path), new_path), which loads the external data into the model.")));
}

/* The kind of message field `field` of a `parent` message holds, or -1
 * when it holds no tensor. */
static int
sub_message(OnnxMessage parent, uint32 field)
{
	for (int i = 0; i < lengthof(sub_messages); i++)
		if (sub_messages[i].parent == parent && sub_messages[i].field == field)
			return (int) sub_messages[i].child;
	return -1;
}

/* Check every tensor in the message `msg` of kind `kind`, `depth` levels
 * below the model. */
static void
check_message(const OnnxFile *f, OnnxMessage kind, OnnxSpan msg, int depth)
{
	OnnxField field;

	check_stack_depth();
	CHECK_FOR_INTERRUPTS();
	if (depth > ONNX_MAX_DEPTH)
		malformed(f, msg.p, psprintf("messages nested deeper than %d",
									 ONNX_MAX_DEPTH));
	if (kind == MSG_TENSOR)
	{
		check_tensor(f, msg);
		return;
	}
	while (next_field(f, &msg, &field))
	{
		int			child;

		if (field.wire != WIRE_LEN)
			continue;
		child = sub_message(kind, field.number);
		if (child >= 0)
			check_message(f, (OnnxMessage) child, field.bytes, depth + 1);
	}
}

void
embed_onnx_check(const char *path, const void *bytes, size_t len)
{
	OnnxFile	f = {path, bytes};
	OnnxSpan	model = {bytes, (const uint8 *) bytes + len};

	check_message(&f, MSG_MODEL, model, 0);
}
