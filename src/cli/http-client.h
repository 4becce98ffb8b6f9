/* A small blocking HTTP/1.1 client for the CLI.
 *
 * One request per connection ("Connection: close"), a deadline over the whole exchange,
 * responses framed by Content-Length, chunked encoding or end of stream. Bounds: headers up
 * to HTTP_CLIENT_MAX_HEADER bytes, bodies up to HTTP_CLIENT_MAX_BODY; more is -E2BIG.
 * Redirects (301, 302, 303, 307, 308 with Location: a standby master points at the leader)
 * are followed up to HTTP_CLIENT_MAX_REDIRECTS times. Only plain http:// is spoken. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/strbuf.h"

#define HTTP_CLIENT_MAX_HEADER (64u * 1024)
#define HTTP_CLIENT_MAX_BODY (64u * 1024 * 1024)
#define HTTP_CLIENT_MAX_REDIRECTS 3

/* A base URL "http://host:port[/prefix]". */
struct http_url {
	char *host;   /* without IPv6 brackets */
	uint16_t port; /* 80 when not given */
	char *prefix; /* "" or "/prefix" without a trailing slash */
};

/* Parses s. "http://" may be left out ("127.0.0.1:5050"). Rejects other schemes (https
 * included: -EPROTONOSUPPORT), user info, a query or fragment, an empty host or a bad
 * port (-EINVAL). On success fills u (release with http_url_release). */
int http_url_parse(const char *s, struct http_url *u);
void http_url_release(struct http_url *u);

struct http_response {
	int status;
	char *location;     /* Location header or NULL */
	char *content_type; /* Content-Type header or NULL */
	char *body;         /* always NUL-terminated (an extra byte past body_len) */
	size_t body_len;
};

void http_response_release(struct http_response *r);

/* Parses a complete response held in buf[0..len). eof says the peer closed the stream
 * (a body without length then ends there). Returns 0 with *out filled, -EAGAIN when more
 * bytes are needed, -EBADMSG for a malformed or truncated response, -E2BIG when the headers
 * or the body pass their limit (body: max_body). */
int http_response_parse(const char *buf, size_t len, bool eof, size_t max_body,
			struct http_response *out);

/* Decodes a chunked body starting at p. Appends the data to out. Returns the number of
 * bytes consumed (through the final CRLF after any trailers), -EAGAIN if incomplete,
 * -EBADMSG if malformed, -E2BIG if the data would pass max. */
ssize_t http_chunked_decode(const char *p, size_t n, size_t max, struct strbuf *out);

struct http_request {
	const char *method;   /* "GET", "POST", … */
	const char *target;   /* path and query, appended to the URL's prefix; starts with '/' */
	const char *body;     /* NULL for none */
	size_t body_len;
	uint64_t timeout_usec; /* for the whole exchange, redirects included */
};

/* Sends req to url and reads the response into *out (release with http_response_release),
 * following redirects. Returns 0 for any HTTP status, or -errno: -ECONNREFUSED & co. from
 * the network, -ETIMEDOUT, -EBADMSG for a malformed response, -E2BIG for one too large,
 * -ELOOP for too many redirects. err (errlen bytes) then says what went wrong. */
int http_client_send(const struct http_url *url, const struct http_request *req,
		     struct http_response *out, char *err, size_t errlen);
