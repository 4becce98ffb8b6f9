/* See pbjson.h. Decoding unpacks with protobuf-c (which checks the wire format) and walks the
 * unpacked struct through its descriptor; encoding writes the wire format straight from the
 * JSON through the same descriptors.
 *
 * Invariants: recursion is bounded by PBJSON_MAX_DEPTH in both directions (a message nested
 * deeper is an error when decoding and left out when encoding); every allocation made while
 * decoding is freed with the unpacked message. */
#include "pb/pbjson.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <protobuf-c/protobuf-c.h>

#include "base/b64.h"
#include "base/mem.h"
#include "pb/master-v1.pb-c.h"
#include "pb/scheduler-v1.pb-c.h"

#define PBJSON_MAX_DEPTH 32

static const ProtobufCMessageDescriptor *descriptor_of(enum pbjson_msg type)
{
	switch (type) {
	case PBJSON_SCHEDULER_CALL:
		return &berth__mesos__v1__scheduler__call__descriptor;
	case PBJSON_SCHEDULER_EVENT:
		return &berth__mesos__v1__scheduler__event__descriptor;
	case PBJSON_MASTER_CALL:
		return &berth__mesos__v1__master__call__descriptor;
	case PBJSON_MASTER_EVENT:
		return &berth__mesos__v1__master__event__descriptor;
	case PBJSON_MASTER_RESPONSE:
		break;
	}
	return &berth__mesos__v1__master__response__descriptor;
}

/* A proto map's entry message (map<K, V> f = n is repeated FEntry {key = 1; value = 2}). */
static bool is_map_entry(const ProtobufCMessageDescriptor *d)
{
	size_t n = strlen(d->name);
	return n > 5 && !strcmp(d->name + n - 5, "Entry") && d->n_fields == 2 &&
	       !strcmp(d->fields[0].name, "key") && !strcmp(d->fields[1].name, "value");
}

/* ---- decode: unpacked struct -> JSON ---- */

static json_t *msg_json(const ProtobufCMessage *msg, int depth);

static size_t elem_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_ENUM:
		return 4;
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_FLOAT:
		return sizeof(float);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	}
	return 0;
}

/* The JSON of one value of field f at p; NULL when it has none (a NULL sub-message). */
static json_t *value_json(const ProtobufCFieldDescriptor *f, const void *p, int depth)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
		return json_integer(*(const int32_t *)p);
	case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
		return json_integer(*(const uint32_t *)p);
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
		return json_integer(*(const int64_t *)p);
	case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
		return json_integer((json_int_t) * (const uint64_t *)p);
	case PROTOBUF_C_TYPE_FLOAT:
		return json_real(*(const float *)p);
	case PROTOBUF_C_TYPE_DOUBLE:
		return json_real(*(const double *)p);
	case PROTOBUF_C_TYPE_BOOL:
		return json_boolean(*(const protobuf_c_boolean *)p);
	case PROTOBUF_C_TYPE_ENUM: {
		int v = *(const int *)p;
		const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
		return ev ? json_string(ev->name) : json_integer(v);
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;
		return s ? json_string(s) : NULL;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = p;
		char *s = b64_encode(b->data ? (const void *)b->data : "", b->len);
		json_t *j = json_string(s);
		free(s);
		return j;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;
		return m ? msg_json(m, depth + 1) : NULL;
	}
	}
	return NULL;
}

static json_t *msg_json(const ProtobufCMessage *msg, int depth)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	const char *base = (const char *)msg;
	json_t *o = json_object();
	if (depth > PBJSON_MAX_DEPTH)
		return o;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const void *p = base + f->offset;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + f->quantifier_offset);
			if (!n)
				continue;
			const char *arr = *(char *const *)p;
			bool map = f->type == PROTOBUF_C_TYPE_MESSAGE && is_map_entry(f->descriptor);
			json_t *out = map ? json_object() : json_array();
			for (size_t k = 0; k < n; k++) {
				const char *e = arr + k * elem_size(f);
				if (map) {
					const ProtobufCMessage *em = *(ProtobufCMessage *const *)e;
					const ProtobufCMessageDescriptor *ed = em->descriptor;
					const char *eb = (const char *)em;
					const char *key = *(char *const *)(eb + ed->fields[0].offset);
					json_t *v = value_json(&ed->fields[1], eb + ed->fields[1].offset,
							       depth + 1);
					if (key && v)
						json_object_set_new(out, key, v);
					else
						json_decref(v);
					continue;
				}
				json_t *v = value_json(f, e, depth);
				if (v)
					json_array_append_new(out, v);
			}
			/* Values JSON cannot hold (a string that is not UTF-8) are left out. */
			if (json_array_size(out) || json_object_size(out))
				json_object_set_new(o, f->name, out);
			else
				json_decref(out);
			continue;
		}
		bool has = true;
		/* A oneof's members share one union: only the member its case names is set. */
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
			has = *(const uint32_t *)(base + f->quantifier_offset) == f->id;
		else if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE &&
			 f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset)
			has = *(const protobuf_c_boolean *)(base + f->quantifier_offset);
		if (!has)
			continue;
		json_t *v = value_json(f, p, depth);
		if (v)
			json_object_set_new(o, f->name, v);
	}
	return o;
}

int pbjson_decode(enum pbjson_msg type, const void *data, size_t len, json_t **out,
		  char *err, size_t errlen)
{
	ProtobufCMessage *m = protobuf_c_message_unpack(descriptor_of(type), NULL, len, data);
	if (!m) {
		snprintf(err, errlen, "the body is not a valid %s message",
			 descriptor_of(type)->name);
		return -EINVAL;
	}
	*out = msg_json(m, 0);
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}

/* ---- encode: JSON -> wire ---- */

static void put_varint(struct strbuf *out, uint64_t v)
{
	while (v >= 0x80) {
		strbuf_addch(out, (char)((v & 0x7f) | 0x80));
		v >>= 7;
	}
	strbuf_addch(out, (char)v);
}

static void put_tag(struct strbuf *out, uint32_t id, unsigned wire)
{
	put_varint(out, ((uint64_t)id << 3) | wire);
}

static void put_fixed(struct strbuf *out, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		strbuf_addch(out, (char)((v >> (8 * i)) & 0xff));
}

static void put_bytes(struct strbuf *out, uint32_t id, const void *p, size_t n)
{
	put_tag(out, id, 2);
	put_varint(out, n);
	strbuf_add(out, p, n);
}

/* base64 (standard, padding optional) -> bytes; -EINVAL when it is not base64. */
static int unb64(const char *s, size_t n, struct strbuf *out)
{
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int v = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26
			: c >= '0' && c <= '9' ? c - '0' + 52 : c == '+' ? 62 : c == '/' ? 63 : -1;
		if (c == '=')
			break;
		if (v < 0)
			return -EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			strbuf_addch(out, (char)((acc >> bits) & 0xff));
		}
	}
	return 0;
}

static void msg_encode(const ProtobufCMessageDescriptor *d, const json_t *j,
		       struct strbuf *out, int depth);

/* One value of field f (id: the field number to write) from JSON v; skipped when v is not
 * of the field's type. */
static void value_encode(const ProtobufCFieldDescriptor *f, uint32_t id, const json_t *v,
			 struct strbuf *out, int depth)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_UINT64:
		if (!json_is_number(v))
			return;
		put_tag(out, id, 0);
		put_varint(out, json_is_integer(v) ? (uint64_t)json_integer_value(v)
						   : (uint64_t)(int64_t)json_number_value(v));
		return;
	case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SINT64: {
		if (!json_is_integer(v))
			return;
		int64_t x = json_integer_value(v);
		put_tag(out, id, 0);
		put_varint(out, ((uint64_t)x << 1) ^ (uint64_t)(x >> 63));
		return;
	}
	case PROTOBUF_C_TYPE_SFIXED32: case PROTOBUF_C_TYPE_FIXED32:
		if (!json_is_integer(v))
			return;
		put_tag(out, id, 5);
		put_fixed(out, (uint64_t)json_integer_value(v), 4);
		return;
	case PROTOBUF_C_TYPE_SFIXED64: case PROTOBUF_C_TYPE_FIXED64:
		if (!json_is_integer(v))
			return;
		put_tag(out, id, 1);
		put_fixed(out, (uint64_t)json_integer_value(v), 8);
		return;
	case PROTOBUF_C_TYPE_FLOAT: {
		if (!json_is_number(v))
			return;
		float x = (float)json_number_value(v);
		uint32_t u;
		memcpy(&u, &x, 4);
		put_tag(out, id, 5);
		put_fixed(out, u, 4);
		return;
	}
	case PROTOBUF_C_TYPE_DOUBLE: {
		if (!json_is_number(v))
			return;
		double x = json_number_value(v);
		uint64_t u;
		memcpy(&u, &x, 8);
		put_tag(out, id, 1);
		put_fixed(out, u, 8);
		return;
	}
	case PROTOBUF_C_TYPE_BOOL:
		if (!json_is_boolean(v))
			return;
		put_tag(out, id, 0);
		put_varint(out, json_is_true(v));
		return;
	case PROTOBUF_C_TYPE_ENUM: {
		/* By name; a number (a value this definition does not name) as it is. */
		const ProtobufCEnumValue *ev =
			json_is_string(v) ? protobuf_c_enum_descriptor_get_value_by_name(
						    f->descriptor, json_string_value(v))
					  : NULL;
		if (!ev && !json_is_integer(v))
			return;
		put_tag(out, id, 0);
		put_varint(out, ev ? (uint64_t)(int64_t)ev->value
				   : (uint64_t)(int64_t)(int32_t)json_integer_value(v));
		return;
	}
	case PROTOBUF_C_TYPE_STRING:
		if (json_is_string(v))
			put_bytes(out, id, json_string_value(v), json_string_length(v));
		return;
	case PROTOBUF_C_TYPE_BYTES: {
		struct strbuf b = STRBUF_INIT;
		if (json_is_string(v) && unb64(json_string_value(v), json_string_length(v), &b) == 0)
			put_bytes(out, id, b.buf ? b.buf : "", b.len);
		strbuf_release(&b);
		return;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		if (!json_is_object(v) || depth >= PBJSON_MAX_DEPTH)
			return;
		struct strbuf sub = STRBUF_INIT;
		msg_encode(f->descriptor, v, &sub, depth + 1);
		put_bytes(out, id, sub.buf ? sub.buf : "", sub.len);
		strbuf_release(&sub);
		return;
	}
	}
}

static void msg_encode(const ProtobufCMessageDescriptor *d, const json_t *j,
		       struct strbuf *out, int depth)
{
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const json_t *v = json_object_get(j, f->name);
		if (!v || json_is_null(v))
			continue;
		if (f->label != PROTOBUF_C_LABEL_REPEATED) {
			value_encode(f, f->id, v, out, depth);
			continue;
		}
		if (f->type == PROTOBUF_C_TYPE_MESSAGE && is_map_entry(f->descriptor)) {
			const ProtobufCMessageDescriptor *ed = f->descriptor;
			const char *k;
			const json_t *x;
			json_object_foreach((json_t *)v, k, x) {
				struct strbuf e = STRBUF_INIT;
				json_t *key = json_string(k);
				value_encode(&ed->fields[0], ed->fields[0].id, key, &e, depth + 1);
				json_decref(key);
				value_encode(&ed->fields[1], ed->fields[1].id, x, &e, depth + 1);
				put_bytes(out, f->id, e.buf ? e.buf : "", e.len);
				strbuf_release(&e);
			}
			continue;
		}
		size_t k;
		const json_t *x;
		json_array_foreach(v, k, x)
			value_encode(f, f->id, x, out, depth);
	}
}

int pbjson_encode(enum pbjson_msg type, const json_t *j, struct strbuf *out)
{
	if (!json_is_object(j))
		return -EINVAL;
	msg_encode(descriptor_of(type), j, out, 0);
	return 0;
}
