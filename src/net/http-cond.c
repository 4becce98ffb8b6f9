/* Conditional and compressed JSON replies for polled read endpoints (issue 12).
 *
 * Invariants:
 * - The 200 body is exactly the bytes http_reply_json would send (same json_dumps flags);
 *   only headers are added: ETag always, Vary: Accept-Encoding, and Content-Encoding: gzip
 *   when the client accepts gzip and the body is worth compressing.
 * - The ETag is a strong validator of the representation sent: "<fnv64 of the identity
 *   body>-<length>" for identity, the same with "-gz" for gzip. If-None-Match matches
 *   either form (the body is the same state either way) or "*", and is answered 304 with
 *   the ETag of the representation the client would have been sent, and no body.
 * - Compressed bodies are kept in a small cache keyed by the identity body's hash and
 *   length, so a poller asking again for the same state is not compressed for again.
 */
#include "net/http.h"
#include "net/http-cond.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#define GZ_MIN_BYTES 1024
#define GZ_CACHE 8
#define GZ_CACHE_MAX_BYTES (16u << 20) /* a compressed body over this is not kept */

struct gz_entry {
	uint64_t hash;
	size_t len;      /* identity length */
	unsigned char *gz;
	size_t gzlen;
	uint64_t used;
};

static struct gz_entry gz_cache[GZ_CACHE];
static uint64_t gz_clock;

static uint64_t fnv64(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* Does a comma-separated If-None-Match list hold "*" or an entity tag of tag (the
 * identity form, quotes included) or of its -gz form? Weak prefixes compare equal
 * (If-None-Match uses the weak comparison). */
bool http_inm_matches(const char *inm, const char *tag)
{
	size_t tl = strlen(tag); /* "\"...\"" */
	const char *p = inm;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		if (*p == '*')
			return true;
		if (p[0] == 'W' && p[1] == '/')
			p += 2;
		const char *e = p;
		while (*e && *e != ',')
			e++;
		const char *end = e;
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		size_t n = (size_t)(end - p);
		if (n == tl && !memcmp(p, tag, tl))
			return true;
		/* tag minus its closing quote, then -gz" */
		if (n == tl + 3 && !memcmp(p, tag, tl - 1) && !memcmp(p + tl - 1, "-gz\"", 4))
			return true;
		p = e;
	}
	return false;
}

/* Does Accept-Encoding accept gzip (listed without q=0)? */
bool http_accepts_gzip(const char *ae)
{
	for (const char *p = ae; p && *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n >= 4 && !strncasecmp(p, "gzip", 4) && (n == 4 || p[4] == ';' || p[4] == ' ')) {
			const char *q = memchr(p, 'q', n);
			if (q && q + 2 <= p + n && q[1] == '=' && strtod(q + 2, NULL) == 0.0)
				return false;
			return true;
		}
		p = e ? e + 1 : p + n;
	}
	return false;
}

static int gzip_bytes(const char *data, size_t len, unsigned char **out, size_t *outlen)
{
	z_stream zs = {0};
	if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	size_t cap = deflateBound(&zs, len);
	unsigned char *buf = malloc(cap);
	if (!buf) {
		deflateEnd(&zs);
		return -ENOMEM;
	}
	zs.next_in = (unsigned char *)data;
	zs.avail_in = (uInt)len;
	zs.next_out = buf;
	zs.avail_out = (uInt)cap;
	int rc = deflate(&zs, Z_FINISH);
	deflateEnd(&zs);
	if (rc != Z_STREAM_END) {
		free(buf);
		return -EIO;
	}
	*out = buf;
	*outlen = cap - zs.avail_out;
	return 0;
}

static const struct gz_entry *gz_get(const char *data, size_t len, uint64_t hash)
{
	struct gz_entry *lru = &gz_cache[0];
	for (size_t i = 0; i < GZ_CACHE; i++) {
		struct gz_entry *e = &gz_cache[i];
		if (e->gz && e->hash == hash && e->len == len) {
			e->used = ++gz_clock;
			return e;
		}
		if (e->used < lru->used)
			lru = e;
	}
	unsigned char *gz;
	size_t gzlen;
	if (len > UINT32_MAX || gzip_bytes(data, len, &gz, &gzlen) < 0)
		return NULL;
	if (gzlen > GZ_CACHE_MAX_BYTES) {
		free(gz);
		return NULL;
	}
	free(lru->gz);
	*lru = (struct gz_entry){.hash = hash, .len = len, .gz = gz, .gzlen = gzlen,
				 .used = ++gz_clock};
	return lru;
}

void http_reply_json_cond(struct evhttp_request *req, int code, json_t *json)
{
	if (code != 200) {
		http_reply_json(req, code, json);
		return;
	}
	char *s = json ? json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15)) : NULL;
	json_decref(json);
	if (!s) {
		http_reply_json(req, code, NULL);
		return;
	}
	size_t len = strlen(s);
	uint64_t hash = fnv64(s, len);
	char tag[64];
	snprintf(tag, sizeof(tag), "\"%016llx-%zx\"", (unsigned long long)hash, len);
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const char *ae = evhttp_find_header(in, "Accept-Encoding");
	const struct gz_entry *gz = len >= GZ_MIN_BYTES && http_accepts_gzip(ae) ? gz_get(s, len, hash) : NULL;
	char gztag[68];
	snprintf(gztag, sizeof(gztag), "\"%016llx-%zx-gz\"", (unsigned long long)hash, len);
	http_add_header(req, "ETag", gz ? gztag : tag);
	http_add_header(req, "Vary", "Accept-Encoding");
	const char *inm = evhttp_find_header(in, "If-None-Match");
	if (inm && http_inm_matches(inm, tag)) {
		free(s);
		http_reply_bytes(req, 304, NULL, NULL, 0);
		return;
	}
	if (gz) {
		http_add_header(req, "Content-Encoding", "gzip");
		http_reply_bytes(req, 200, "application/json", (const char *)gz->gz, gz->gzlen);
	} else {
		http_reply_bytes(req, 200, "application/json", s, len);
	}
	free(s);
}
