/* The pure half of the CLI's HTTP client: URLs, response framing, chunked decoding.
 * Everything here reads untrusted bytes (from whatever answers at --master), so every
 * length is checked against the caps in http-client.h before it is used. */
#include "cli/http-client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "base/util.h"
#include "cli/http-internal.h"

int http_url_split(const char *s, struct http_url *u, const char **rest)
{
	memset(u, 0, sizeof(*u));
	const char *p = s;
	const char *sep = strstr(s, "://");
	if (sep) {
		if ((size_t)(sep - s) != 4 || strncasecmp(s, "http", 4) != 0)
			return (sep - s == 5 && strncasecmp(s, "https", 5) == 0) ? -EPROTONOSUPPORT
										  : -EINVAL;
		p = sep + 3;
	}
	size_t auth_len = strcspn(p, "/?#");
	const char *end = p + auth_len;
	if (auth_len == 0 || memchr(p, '@', auth_len))
		return -EINVAL;

	const char *host_start = p, *host_end, *port_start = NULL;
	if (*p == '[') {
		const char *close = memchr(p, ']', auth_len);
		if (!close || close == p + 1)
			return -EINVAL;
		host_start = p + 1;
		host_end = close;
		if (close + 1 < end) {
			if (close[1] != ':')
				return -EINVAL;
			port_start = close + 2;
		}
	} else {
		const char *colon = memchr(p, ':', auth_len);
		host_end = colon ? colon : end;
		if (colon)
			port_start = colon + 1;
		if (host_end == host_start)
			return -EINVAL;
		for (const char *c = host_start; c < host_end; c++)
			if (!(c[0] == '-' || c[0] == '.' || c[0] == '_' ||
			      (c[0] >= '0' && c[0] <= '9') || (c[0] >= 'a' && c[0] <= 'z') ||
			      (c[0] >= 'A' && c[0] <= 'Z')))
				return -EINVAL;
	}
	uint16_t port = 80;
	if (port_start) {
		char buf[8];
		size_t n = (size_t)(end - port_start);
		uint64_t v;
		if (n == 0 || n >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, port_start, n);
		buf[n] = '\0';
		if (parse_u64(buf, &v) < 0 || v == 0 || v > 65535)
			return -EINVAL;
		port = (uint16_t)v;
	}
	u->host = xstrndup(host_start, (size_t)(host_end - host_start));
	u->port = port;
	u->prefix = NULL;
	*rest = end;
	return 0;
}

int http_url_parse(const char *s, struct http_url *u)
{
	const char *rest;
	int r = http_url_split(s, u, &rest);
	if (r < 0)
		return r;
	if (strpbrk(rest, "?# \t\r\n")) {
		http_url_release(u);
		return -EINVAL;
	}
	size_t n = strlen(rest);
	while (n > 0 && rest[n - 1] == '/')
		n--;
	u->prefix = xstrndup(rest, n);
	return 0;
}

void http_url_release(struct http_url *u)
{
	free(u->host);
	free(u->prefix);
	u->host = u->prefix = NULL;
}

void http_response_release(struct http_response *r)
{
	free(r->location);
	free(r->content_type);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* Hex chunk size from exactly n hex digits: at most 15, so it cannot overflow. */
static int parse_chunk_size(const char *p, size_t n, uint64_t *out)
{
	if (n == 0 || n > 15)
		return -EBADMSG;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
										  : c - 'A' + 10;
		v = v * 16 + (uint64_t)d;
	}
	*out = v;
	return 0;
}

ssize_t http_chunked_decode(const char *p, size_t n, size_t max, struct strbuf *out)
{
	size_t pos = 0;
	for (;;) {
		const char *lf = memchr(p + pos, '\n', n - pos);
		if (!lf)
			return n - pos > 1024 ? -EBADMSG : -EAGAIN;
		size_t line_len = (size_t)(lf - (p + pos));
		if (line_len > 1024)
			return -EBADMSG;
		if (line_len > 0 && p[pos + line_len - 1] == '\r')
			line_len--;
		uint64_t size;
		const char *line = p + pos;
		size_t digits = 0;
		while (digits < line_len && strchr("0123456789abcdefABCDEF", line[digits]) &&
		       line[digits] != '\0')
			digits++;
		if (digits < line_len && line[digits] != ';' && line[digits] != ' ' &&
		    line[digits] != '\t')
			return -EBADMSG;
		if (parse_chunk_size(line, digits, &size) < 0)
			return -EBADMSG;
		pos = (size_t)(lf - p) + 1;
		if (size == 0)
			break;
		if (size > max || out->len + size > max)
			return -E2BIG;
		if (n - pos < size + 1)
			return -EAGAIN;
		strbuf_add(out, p + pos, size);
		pos += size;
		/* CRLF (or a bare LF) after the data */
		if (p[pos] == '\r') {
			if (n - pos < 2)
				return -EAGAIN;
			if (p[pos + 1] != '\n')
				return -EBADMSG;
			pos += 2;
		} else if (p[pos] == '\n') {
			pos += 1;
		} else {
			return -EBADMSG;
		}
	}
	/* trailers, then an empty line */
	for (;;) {
		const char *lf = memchr(p + pos, '\n', n - pos);
		if (!lf)
			return n - pos > HTTP_CLIENT_MAX_HEADER ? -EBADMSG : -EAGAIN;
		size_t line_len = (size_t)(lf - (p + pos));
		pos = (size_t)(lf - p) + 1;
		if (line_len == 0 || (line_len == 1 && lf[-1] == '\r'))
			return (ssize_t)pos;
	}
}

void http_chunked_init(struct http_chunked *d)
{
	memset(d, 0, sizeof(*d));
	d->state = HTTP_CHUNKED_SIZE;
}

/* The size line in d->line (CR and extensions still there) → d->left. */
static int chunked_size_line(struct http_chunked *d)
{
	size_t n = d->line_len;
	if (n > 0 && d->line[n - 1] == '\r')
		n--;
	size_t digits = 0;
	while (digits < n && strchr("0123456789abcdefABCDEF", d->line[digits]) &&
	       d->line[digits] != '\0')
		digits++;
	if (digits < n && d->line[digits] != ';' && d->line[digits] != ' ' &&
	    d->line[digits] != '\t')
		return -EBADMSG;
	return parse_chunk_size(d->line, digits, &d->left);
}

int http_chunked_feed(struct http_chunked *d, const char *p, size_t n, size_t *used,
		      struct strbuf *out)
{
	size_t i = 0;
	int r = 0;
	while (i < n && r == 0) {
		char ch = p[i];
		switch (d->state) {
		case HTTP_CHUNKED_SIZE:
			i++;
			if (ch != '\n') {
				if (d->line_len >= sizeof(d->line) - 1)
					goto bad;
				d->line[d->line_len++] = ch;
				break;
			}
			d->line[d->line_len] = '\0';
			if (chunked_size_line(d) < 0)
				goto bad;
			d->line_len = 0;
			d->state = d->left ? HTTP_CHUNKED_DATA : HTTP_CHUNKED_TRAILER;
			break;
		case HTTP_CHUNKED_DATA: {
			size_t take = n - i;
			if (take > d->left)
				take = (size_t)d->left;
			strbuf_add(out, p + i, take);
			i += take;
			d->left -= take;
			if (d->left == 0) {
				d->state = HTTP_CHUNKED_DATA_END;
				d->line_len = 0;
			}
			break;
		}
		case HTTP_CHUNKED_DATA_END:
			/* CRLF (or a bare LF) after the data */
			i++;
			if (ch == '\r' && d->line_len == 0) {
				d->line_len = 1;
			} else if (ch == '\n') {
				d->line_len = 0;
				d->state = HTTP_CHUNKED_SIZE;
			} else {
				goto bad;
			}
			break;
		case HTTP_CHUNKED_TRAILER:
			/* trailer lines until an empty one; line_len counts the current line,
			 * total the whole trailer */
			i++;
			if (++d->total > HTTP_CLIENT_MAX_HEADER)
				goto bad;
			if (ch != '\n') {
				d->line_len++;
				d->last = ch;
				break;
			}
			if (d->line_len == 0 || (d->line_len == 1 && d->last == '\r')) {
				d->state = HTTP_CHUNKED_DONE;
				r = 1;
			}
			d->line_len = 0;
			break;
		default:
			r = 1;
			break;
		}
	}
	if (d->state == HTTP_CHUNKED_DONE)
		r = 1;
	*used = i;
	return r;
bad:
	*used = i;
	return -EBADMSG;
}

/* Finds the end of the header block: returns the offset of the body, or 0 if absent. */
static size_t header_end(const char *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

static char *trimmed_dup(const char *s, size_t n)
{
	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	return xstrndup(s, n);
}

static int parse_status_line(const char *line, size_t n, int *status)
{
	/* "HTTP/1.x NNN reason" */
	if (n < 12 || memcmp(line, "HTTP/1.", 7) != 0 || (line[7] != '0' && line[7] != '1') ||
	    line[8] != ' ')
		return -EBADMSG;
	for (int i = 9; i < 12; i++)
		if (line[i] < '0' || line[i] > '9')
			return -EBADMSG;
	if (n > 12 && line[12] != ' ' && line[12] != '\r')
		return -EBADMSG;
	*status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	if (*status < 100)
		return -EBADMSG;
	return 0;
}

static int parse_head(const char *buf, size_t hlen, struct http_head *h)
{
	memset(h, 0, sizeof(*h));
	const char *p = buf, *end = buf + hlen;
	const char *lf = memchr(p, '\n', hlen);
	if (!lf || parse_status_line(p, (size_t)(lf - p), &h->status) < 0)
		return -EBADMSG;
	p = lf + 1;
	while (p < end) {
		lf = memchr(p, '\n', (size_t)(end - p));
		if (!lf)
			break;
		size_t n = (size_t)(lf - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0)
			break;
		const char *colon = memchr(p, ':', n);
		if (!colon || colon == p)
			return -EBADMSG;
		size_t klen = (size_t)(colon - p);
		const char *v = colon + 1;
		size_t vlen = n - klen - 1;
		if (klen == 14 && strncasecmp(p, "content-length", 14) == 0) {
			_cleanup_free_ char *s = trimmed_dup(v, vlen);
			uint64_t cl;
			if (parse_u64(s, &cl) < 0 || (h->has_length && cl != h->length))
				return -EBADMSG;
			h->has_length = true;
			h->length = cl;
		} else if (klen == 17 && strncasecmp(p, "transfer-encoding", 17) == 0) {
			_cleanup_free_ char *s = trimmed_dup(v, vlen);
			size_t sl = strlen(s);
			if (sl >= 7 && strcasecmp(s + sl - 7, "chunked") == 0)
				h->chunked = true;
			else if (strcasecmp(s, "identity") != 0)
				return -EBADMSG;
		} else if (klen == 8 && strncasecmp(p, "location", 8) == 0) {
			free(h->location);
			h->location = trimmed_dup(v, vlen);
		} else if (klen == 12 && strncasecmp(p, "content-type", 12) == 0) {
			free(h->content_type);
			h->content_type = trimmed_dup(v, vlen);
		}
		p = lf + 1;
	}
	return 0;
}

void http_head_release(struct http_head *h)
{
	free(h->location);
	free(h->content_type);
	h->location = h->content_type = NULL;
}

int http_head_parse(const char *buf, size_t len, struct http_head *h)
{
	memset(h, 0, sizeof(*h));
	size_t hlen = header_end(buf, len);
	if (hlen == 0)
		return len > HTTP_CLIENT_MAX_HEADER ? -E2BIG : -EAGAIN;
	if (hlen > HTTP_CLIENT_MAX_HEADER)
		return -E2BIG;
	int r = parse_head(buf, hlen, h);
	if (r < 0) {
		http_head_release(h);
		return r;
	}
	h->size = hlen;
	return 0;
}

static void finish(struct http_response *out, struct http_head *h, char *body, size_t len)
{
	out->status = h->status;
	out->location = TAKE_PTR(h->location);
	out->content_type = TAKE_PTR(h->content_type);
	out->body = body;
	out->body_len = len;
}

int http_response_parse(const char *buf, size_t len, bool eof, size_t max_body,
			struct http_response *out)
{
	memset(out, 0, sizeof(*out));
	size_t hlen = header_end(buf, len);
	if (hlen == 0) {
		if (len > HTTP_CLIENT_MAX_HEADER)
			return -E2BIG;
		return eof ? -EBADMSG : -EAGAIN;
	}
	if (hlen > HTTP_CLIENT_MAX_HEADER)
		return -E2BIG;
	struct http_head h;
	int r = parse_head(buf, hlen, &h);
	if (r < 0) {
		http_head_release(&h);
		return r;
	}
	const char *body = buf + hlen;
	size_t avail = len - hlen;

	if (h.status < 200 || h.status == 204 || h.status == 304) {
		/* 1xx: the client never sends Expect, so a 1xx here is a protocol error */
		if (h.status < 200) {
			http_head_release(&h);
			return -EBADMSG;
		}
		finish(out, &h, xstrdup(""), 0);
		return 0;
	}
	if (h.chunked) {
		/* Cheap check before decoding everything again: a complete chunked body ends
		 * with an empty line (unless the peer already closed). */
		if (!eof && (avail < 3 || body[avail - 1] != '\n')) {
			http_head_release(&h);
			return -EAGAIN;
		}
		struct strbuf sb = STRBUF_INIT;
		ssize_t n = http_chunked_decode(body, avail, max_body, &sb);
		if (n < 0) {
			strbuf_release(&sb);
			http_head_release(&h);
			return (n == -EAGAIN && eof) ? -EBADMSG : (int)n;
		}
		size_t blen;
		char *b = strbuf_detach(&sb, &blen);
		finish(out, &h, b, blen);
		return 0;
	}
	if (h.has_length) {
		if (h.length > max_body) {
			http_head_release(&h);
			return -E2BIG;
		}
		if (avail < h.length) {
			http_head_release(&h);
			return eof ? -EBADMSG : -EAGAIN;
		}
		char *b = xmalloc((size_t)h.length + 1);
		memcpy(b, body, (size_t)h.length);
		b[h.length] = '\0';
		finish(out, &h, b, (size_t)h.length);
		return 0;
	}
	if (avail > max_body) {
		http_head_release(&h);
		return -E2BIG;
	}
	if (!eof) {
		http_head_release(&h);
		return -EAGAIN;
	}
	char *b = xmalloc(avail + 1);
	memcpy(b, body, avail);
	b[avail] = '\0';
	finish(out, &h, b, avail);
	return 0;
}
