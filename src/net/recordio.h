/* RecordIO framing (reference/compat.md §1.2): each record is "<decimal length>\n<bytes>",
 * the length never "0", no separator after the bytes.
 *
 * The encoder appends one record to an evbuffer or a strbuf. The decoder is incremental:
 * feed it bytes as they arrive, split anywhere, and it calls back once per complete record.
 * It rejects a length prefix that is empty, starts with '0' (so "0" and "007"), holds a
 * non-digit, or announces more than the decoder's max_record bytes. After an error the
 * decoder stays failed: a stream that lost its framing cannot be resynchronised. */
#pragma once
#include <event2/buffer.h>
#include <jansson.h>
#include <stddef.h>

#include "base/strbuf.h"

/* Appends one record. len must be > 0 (-EINVAL otherwise); 0 or -ENOMEM from evbuffer. */
int recordio_encode_evbuffer(struct evbuffer *out, const void *data, size_t len);
void recordio_encode_strbuf(struct strbuf *out, const void *data, size_t len);
/* Dumps json (borrowed) compactly as one record. 0, or -EINVAL if it cannot be dumped. */
int recordio_encode_json(struct evbuffer *out, const json_t *json);
/* The record for json as a fresh string (malloc'd, taken by the caller) with its length in
 * *len, or NULL if json cannot be dumped. Lets a writer send one record per HTTP chunk. */
char *recordio_json_record(const json_t *json, size_t *len);

/* Called once per complete record; data is valid only during the call. A non-zero return
 * stops recordio_decoder_feed at once (which returns that value and touches the decoder no
 * more, so the callback may free it when it returns non-zero). */
typedef int (*recordio_record_fn)(const char *data, size_t len, void *ctx);

struct recordio_decoder {
	size_t max_record;
	int error;        /* 0, or the -errno of the first framing error */
	int in_body;      /* reading record bytes (else the length prefix) */
	size_t prefix;    /* length read so far */
	size_t ndigits;
	char *buf;        /* record bytes, allocated once the length is known */
	size_t have;
};

void recordio_decoder_init(struct recordio_decoder *d, size_t max_record);
void recordio_decoder_release(struct recordio_decoder *d);
/* Consumes len bytes. Returns 0, -EBADMSG for a malformed prefix, -E2BIG for a record over
 * max_record (both sticky), or the callback's non-zero return. */
int recordio_decoder_feed(struct recordio_decoder *d, const void *data, size_t len,
			  recordio_record_fn cb, void *ctx);
/* True when the decoder sits between records (no partial record buffered). */
int recordio_decoder_idle(const struct recordio_decoder *d);
/* The JSON of rec when it is exactly one whole record of JSON (as recordio_json_record
 * makes it), new reference; NULL otherwise. For readers that get records one at a time. */
json_t *recordio_record_json(const char *rec, size_t len);
