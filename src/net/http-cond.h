/* Conditional and compressed replies for polled reads (http-cond.c): answers built from
 * cached, reference-counted pieces of rendered bytes without copying them, with a strong
 * ETag, If-None-Match → 304 and gzip. */
#pragma once

#include <event2/http.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Immutable rendered bytes shared by a cache and the answers in flight: freed with the last
 * reference (http_piece_unref), so a cache may drop a piece an answer still sends. hash is
 * a 64-bit FNV-1a of the bytes; with len it identifies the content. lead: how many leading
 * bytes (a separator such as ',') a caller may skip, see http_body_piece. */
struct http_piece {
	unsigned refs;
	unsigned lead;
	uint64_t hash;   /* of data + lead, len - lead bytes */
	size_t len;      /* with the lead */
	char *data;
};

/* A piece holding s (taken: a malloc'd string of len bytes), whose first lead bytes are a
 * separator. Never NULL. */
struct http_piece *http_piece_take(char *s, size_t len, unsigned lead);
static inline struct http_piece *http_piece_ref(struct http_piece *p)
{
	p->refs++;
	return p;
}
void http_piece_unref(struct http_piece *p); /* NULL is fine */
uint64_t http_hash_bytes(uint64_t h, const void *s, size_t n); /* FNV-1a on from h */
#define HTTP_HASH_INIT 1469598103934665603ull

/* An answer being assembled: literal bytes (copied; keep them short) and pieces
 * (referenced). hash identifies the sequence of contents (not the FNV of the whole body). */
struct http_body {
	struct evbuffer *buf;
	uint64_t hash;
	size_t len;
};
void http_body_init(struct http_body *b);
void http_body_add(struct http_body *b, const char *s, size_t n);
static inline void http_body_lit(struct http_body *b, const char *s)
{
	http_body_add(b, s, strlen(s));
}
/* Appends p's bytes, with its lead when with_lead, without copying them. */
void http_body_piece(struct http_body *b, struct http_piece *p, bool with_lead);
/* Sends b as a 200 application/json (b's buffer taken) with http_reply_json_cond's headers
 * and rules: ETag "<hash>-<len>", If-None-Match → 304, gzip from the compressed cache. */
void http_reply_body_cond(struct evhttp_request *req, struct http_body *b);
/* The body's bytes as one malloc'd string (for tests and checks); *len set. */
char *http_body_string(const struct http_body *b, size_t *len);
void http_body_release(struct http_body *b);

/* Does the If-None-Match value inm hold "*", tag (quotes included), its -gz form, or either
 * weak (W/)? inm may be any bytes. */
bool http_inm_matches(const char *inm, const char *tag);
/* Does the Accept-Encoding value ae (NULL: absent) accept gzip (listed, not with q=0)? */
bool http_accepts_gzip(const char *ae);
