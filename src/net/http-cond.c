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
 *   length, so a poller asking again for the same state is not compressed for again. Its
 *   entries are pieces: an answer in flight keeps the one it sends alive after eviction.
 * - An answer assembled from pieces (http_reply_body_cond) is hashed from its pieces'
 *   hashes and lengths and the literal bytes between them, in order, not from its bytes:
 *   the same sequence of contents gives the same ETag, and a changed piece a different one
 *   (up to 64-bit hash collisions, as for the whole-body hash). Its pieces of
 *   HTTP_PIECE_COPY_BELOW bytes or more are referenced by the connection's buffer
 *   (evbuffer_add_reference); smaller ones are copied, which costs less than a reference
 *   (bench/load: 1,000 apps of ~800 bytes, a reference chain of 1 KiB each).
 * - A large identity body (FILE_MIN_BYTES or more) asked for a second time in the same
 *   state (same hash and length) is written once into an anonymous memory file (memfd) and
 *   sent from there with sendfile by every later answer of that state over plain TCP: the
 *   kernel then takes the pages by reference instead of copying 300 KB into the socket per
 *   answer (the copy was 30% of the master's CPU serving /v2/apps?embed=apps.tasks). The
 *   file holds exactly the bytes the pieces hold; it is never written again (a new state is
 *   a new file), and an answer in flight keeps its file alive after eviction. Files are
 *   bounded: FILE_CACHE entries of at most FILE_MAX_BYTES, FILE_CACHE_MAX_BYTES in all.
 *   TLS connections (whose bufferevent reads the bytes to encrypt them) never get one.
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
#include <event2/bufferevent.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#define HTTP_PIECE_COPY_BELOW 1024
#define GZ_MIN_BYTES 1024
#define GZ_LEVEL 6
#define GZ_CACHE 8
#define GZ_CACHE_MAX_BYTES (16u << 20) /* a compressed body over this is not kept */

#define FILE_MIN_BYTES (64u << 10)
#define FILE_CACHE 8
#define FILE_MAX_BYTES (32u << 20)
#define FILE_CACHE_MAX_BYTES (96u << 20)

struct file_entry {
	uint64_t hash;
	size_t len;
	struct evbuffer_file_segment *seg; /* NULL: seen once, not written yet */
	uint64_t used;
};

static struct file_entry file_cache[FILE_CACHE];
static size_t file_bytes; /* in the entries' files */
static uint64_t file_clock;
static int file_off = -1; /* BERTH_HTTP_SENDFILE=0 turns the file cache off */

struct gz_entry {
	uint64_t hash;
	size_t len;      /* identity length */
	struct http_piece *gz;
	uint64_t used;
};

static struct gz_entry gz_cache[GZ_CACHE];
static uint64_t gz_clock;

uint64_t http_hash_bytes(uint64_t h, const void *s, size_t n)
{
	const unsigned char *c = s;
	for (size_t i = 0; i < n; i++) {
		h ^= c[i];
		h *= 1099511628211ull;
	}
	return h;
}

static uint64_t fnv64(const char *s, size_t n)
{
	return http_hash_bytes(HTTP_HASH_INIT, s, n);
}

/* ---- pieces ---- */

struct http_piece *http_piece_take(char *s, size_t len, unsigned lead)
{
	struct http_piece *p = malloc(sizeof(*p));
	if (!p)
		abort();
	*p = (struct http_piece){ .refs = 1, .lead = lead, .len = len, .data = s,
				  .hash = fnv64(s + lead, len - lead) };
	return p;
}

void http_piece_unref(struct http_piece *p)
{
	if (!p || --p->refs)
		return;
	free(p->data);
	free(p);
}

static void piece_cleanup(const void *data, size_t len, void *arg)
{
	(void)data;
	(void)len;
	http_piece_unref(arg);
}

void http_body_init(struct http_body *b)
{
	b->buf = evbuffer_new();
	if (!b->buf)
		abort();
	b->hash = HTTP_HASH_INIT;
	b->len = 0;
}

void http_body_add(struct http_body *b, const char *s, size_t n)
{
	evbuffer_add(b->buf, s, n);
	b->hash = http_hash_bytes(b->hash, s, n);
	b->len += n;
}

void http_body_piece(struct http_body *b, struct http_piece *p, bool with_lead)
{
	size_t skip = with_lead ? 0 : p->lead;
	if (with_lead && p->lead)
		b->hash = http_hash_bytes(b->hash, p->data, p->lead);
	uint64_t mix[2] = { p->hash, p->len - p->lead };
	b->hash = http_hash_bytes(b->hash, mix, sizeof(mix));
	if (p->len == skip)
		return;
	if (p->len - skip < HTTP_PIECE_COPY_BELOW) {
		/* libevent gives every reference a chain of its own of at least 1 KiB (its
		 * MIN_BUFFER_SIZE), so a small piece costs less copied: packed into the
		 * buffer's current chain, and an answer in flight keeps no old piece alive. */
		if (evbuffer_add(b->buf, p->data + skip, p->len - skip) < 0)
			abort();
		b->len += p->len - skip;
		return;
	}
	http_piece_ref(p);
	if (evbuffer_add_reference(b->buf, p->data + skip, p->len - skip, piece_cleanup, p) < 0)
		abort();
	b->len += p->len - skip;
}

char *http_body_string(const struct http_body *b, size_t *len)
{
	size_t n = evbuffer_get_length(b->buf);
	char *s = malloc(n + 1);
	if (!s)
		abort();
	evbuffer_copyout(b->buf, s, n);
	s[n] = '\0';
	*len = n;
	return s;
}

void http_body_release(struct http_body *b)
{
	if (b->buf)
		evbuffer_free(b->buf);
	b->buf = NULL;
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

/* gzip of the n segments v (len bytes in all) into a new malloc'd buffer. */
static int gzip_iov(const struct evbuffer_iovec *v, size_t n, size_t len, unsigned char **out,
		    size_t *outlen)
{
	z_stream zs = {0};
	if (deflateInit2(&zs, GZ_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	size_t cap = deflateBound(&zs, len);
	unsigned char *buf = malloc(cap);
	if (!buf) {
		deflateEnd(&zs);
		return -ENOMEM;
	}
	zs.next_out = buf;
	zs.avail_out = (uInt)cap;
	int rc = Z_OK;
	for (size_t i = 0; i < n && rc == Z_OK; i++) {
		zs.next_in = v[i].iov_base;
		zs.avail_in = (uInt)v[i].iov_len;
		rc = deflate(&zs, i + 1 == n ? Z_FINISH : Z_NO_FLUSH);
	}
	if (!n)
		rc = deflate(&zs, Z_FINISH);
	deflateEnd(&zs);
	if (rc != Z_STREAM_END) {
		free(buf);
		return -EIO;
	}
	*out = buf;
	*outlen = cap - zs.avail_out;
	return 0;
}

/* The cached gzip of the identity body of hash and len, or NULL. */
static struct http_piece *gz_find(size_t len, uint64_t hash)
{
	for (size_t i = 0; i < GZ_CACHE; i++) {
		struct gz_entry *e = &gz_cache[i];
		if (e->gz && e->hash == hash && e->len == len) {
			e->used = ++gz_clock;
			return e->gz;
		}
	}
	return NULL;
}

/* The cached gzip of the identity body of hash and len, compressing the n segments v on a
 * miss; NULL when it cannot be had. */
static struct http_piece *gz_get(const struct evbuffer_iovec *v, size_t n, size_t len,
				 uint64_t hash)
{
	struct gz_entry *lru = &gz_cache[0];
	for (size_t i = 0; i < GZ_CACHE; i++) {
		struct gz_entry *e = &gz_cache[i];
		if (e->gz && e->hash == hash && e->len == len) {
			e->used = ++gz_clock;
			return e->gz;
		}
		if (e->used < lru->used)
			lru = e;
	}
	unsigned char *gz;
	size_t gzlen;
	for (size_t i = 0; i < n; i++)
		if (v[i].iov_len > UINT32_MAX)
			return NULL;
	if (gzip_iov(v, n, len, &gz, &gzlen) < 0)
		return NULL;
	if (gzlen > GZ_CACHE_MAX_BYTES) {
		free(gz);
		return NULL;
	}
	http_piece_unref(lru->gz);
	*lru = (struct gz_entry){.hash = hash, .len = len,
				 .gz = http_piece_take((char *)gz, gzlen, 0), .used = ++gz_clock};
	return lru->gz;
}

/* A memfd holding the n segments v (len bytes), or -1. */
static int file_write(const struct evbuffer_iovec *v, size_t n, size_t len)
{
	int fd = memfd_create("berth-answer", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t done = 0;
	for (size_t i = 0; i < n;) { /* IOV_MAX segments a call, a short write resumed */
		struct iovec io[64];
		size_t k = 0, want = 0;
		for (; k < 64 && i + k < n; k++) {
			io[k] = (struct iovec){ v[i + k].iov_base, v[i + k].iov_len };
			want += v[i + k].iov_len;
		}
		ssize_t w = pwritev(fd, io, (int)k, (off_t)done);
		if (w <= 0) {
			close(fd);
			return -1;
		}
		done += (size_t)w;
		if ((size_t)w == want) {
			i += k;
			continue;
		}
		/* short: finish these segments one by one */
		size_t skip = (size_t)w;
		for (size_t j = 0; j < k; j++, i++) {
			if (skip >= v[i].iov_len) {
				skip -= v[i].iov_len;
				continue;
			}
			const char *p = (const char *)v[i].iov_base + skip;
			size_t left = v[i].iov_len - skip;
			skip = 0;
			while (left) {
				ssize_t x = pwrite(fd, p, left, (off_t)done);
				if (x <= 0) {
					close(fd);
					return -1;
				}
				p += x;
				left -= (size_t)x;
				done += (size_t)x;
			}
		}
	}
	if (done != len) {
		close(fd);
		return -1;
	}
	return fd;
}

static void file_drop(struct file_entry *e)
{
	if (e->seg) {
		evbuffer_file_segment_free(e->seg);
		file_bytes -= e->len;
	}
	e->seg = NULL;
}

/* The file of the identity body of hash and len held in buf, made on its second request
 * (the first only marks it seen); NULL to send the pieces. */
static struct evbuffer_file_segment *file_get(struct evbuffer *buf, size_t len, uint64_t hash)
{
	if (file_off < 0) {
		const char *e = getenv("BERTH_HTTP_SENDFILE");
		file_off = e && !strcmp(e, "0");
	}
	if (file_off || len < FILE_MIN_BYTES || len > FILE_MAX_BYTES)
		return NULL;
	struct file_entry *lru = &file_cache[0], *e = NULL;
	for (size_t i = 0; i < FILE_CACHE && !e; i++) {
		if (file_cache[i].used && file_cache[i].hash == hash && file_cache[i].len == len)
			e = &file_cache[i];
		else if (file_cache[i].used < lru->used)
			lru = &file_cache[i];
	}
	if (!e) { /* seen once */
		file_drop(lru);
		*lru = (struct file_entry){ .hash = hash, .len = len, .used = ++file_clock };
		return NULL;
	}
	e->used = ++file_clock;
	if (e->seg)
		return e->seg;
	/* room: the least recently used files go first */
	while (file_bytes + len > FILE_CACHE_MAX_BYTES) {
		struct file_entry *old = NULL;
		for (size_t i = 0; i < FILE_CACHE; i++)
			if (file_cache[i].seg && (!old || file_cache[i].used < old->used))
				old = &file_cache[i];
		if (!old)
			return NULL;
		file_drop(old);
	}
	struct evbuffer_iovec one[16], *v = one;
	int n = evbuffer_peek(buf, -1, NULL, NULL, 0);
	if (n < 0)
		return NULL;
	if (n > (int)(sizeof(one) / sizeof(one[0])))
		v = malloc((size_t)n * sizeof(*v));
	if (!v)
		return NULL;
	evbuffer_peek(buf, -1, NULL, v, n);
	int fd = file_write(v, (size_t)n, len);
	if (v != one)
		free(v);
	if (fd < 0)
		return NULL;
	e->seg = evbuffer_file_segment_new(fd, 0, (ev_off_t)len, EVBUF_FS_CLOSE_ON_FREE);
	if (!e->seg) {
		close(fd);
		return NULL;
	}
	file_bytes += len;
	return e->seg;
}

/* buf's bytes (len) as sendfile from the file cache when the connection is plain TCP:
 * a new buffer (buf freed), or buf itself. */
static struct evbuffer *maybe_file(struct evhttp_request *req, struct evbuffer *buf, size_t len,
				   uint64_t hash)
{
	if (len < FILE_MIN_BYTES)
		return buf;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	if (!bev || http_bev_is_tls(bev))
		return buf;
	struct evbuffer_file_segment *seg = file_get(buf, len, hash);
	if (!seg)
		return buf;
	struct evbuffer *f = evbuffer_new();
	if (!f)
		abort();
	/* the chain is then sent with sendfile by the connection's buffer, which drains to
	 * its socket; nothing reads the bytes in between */
	evbuffer_set_flags(f, EVBUFFER_FLAG_DRAINS_TO_FD);
	if (evbuffer_add_file_segment(f, seg, 0, (ev_off_t)len) < 0) {
		evbuffer_free(f);
		return buf;
	}
	evbuffer_free(buf);
	return f;
}

/* Headers, then 304, gzip piece or the identity body (buf taken). */
static void reply_cond(struct evhttp_request *req, struct evbuffer *buf, uint64_t hash,
		       size_t len)
{
	char tag[64];
	snprintf(tag, sizeof(tag), "\"%016llx-%zx\"", (unsigned long long)hash, len);
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const char *inm = evhttp_find_header(in, "If-None-Match");
	bool not_modified = inm && http_inm_matches(inm, tag);
	const char *ae = evhttp_find_header(in, "Accept-Encoding");
	struct http_piece *gz = NULL;
	bool want_gz = len >= GZ_MIN_BYTES && http_accepts_gzip(ae);
	if (want_gz)
		gz = gz_find(len, hash);
	if (want_gz && !gz) {
		struct evbuffer_iovec one[16], *v = one;
		int n = evbuffer_peek(buf, -1, NULL, NULL, 0);
		if (n > (int)(sizeof(one) / sizeof(one[0])))
			v = malloc((size_t)n * sizeof(*v));
		if (v && n >= 0) {
			evbuffer_peek(buf, -1, NULL, v, n);
			/* a 304 only needs to know that gzip could be had, not the bytes */
			gz = gz_get(v, (size_t)n, len, hash);
		}
		if (v != one)
			free(v);
	}
	char gztag[68];
	snprintf(gztag, sizeof(gztag), "\"%016llx-%zx-gz\"", (unsigned long long)hash, len);
	http_add_header(req, "ETag", gz ? gztag : tag);
	http_add_header(req, "Vary", "Accept-Encoding");
	if (not_modified) {
		evbuffer_free(buf);
		http_reply_bytes(req, 304, NULL, NULL, 0);
		return;
	}
	if (gz) {
		evbuffer_free(buf);
		http_add_header(req, "Content-Encoding", "gzip");
		struct evbuffer *z = evbuffer_new();
		if (!z)
			abort();
		http_piece_ref(gz);
		if (evbuffer_add_reference(z, gz->data, gz->len, piece_cleanup, gz) < 0)
			abort();
		http_reply_evbuffer(req, 200, "application/json", z);
		return;
	}
	http_reply_evbuffer(req, 200, "application/json", maybe_file(req, buf, len, hash));
}

void http_reply_body_cond(struct evhttp_request *req, struct http_body *b)
{
	struct evbuffer *buf = b->buf;
	b->buf = NULL;
	reply_cond(req, buf, b->hash, b->len);
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
	struct evbuffer *buf = evbuffer_new();
	if (!buf)
		abort();
	struct http_piece *p = http_piece_take(s, len, 0);
	if (evbuffer_add_reference(buf, p->data, p->len, piece_cleanup, p) < 0)
		abort();
	reply_cond(req, buf, p->hash, len);
}
