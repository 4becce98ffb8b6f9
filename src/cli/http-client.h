/* A small blocking HTTP/1.1 client for the CLI.
 *
 * One request per connection ("Connection: close"), a deadline over the whole exchange,
 * responses framed by Content-Length, chunked encoding or end of stream. Bounds: headers up
 * to HTTP_CLIENT_MAX_HEADER bytes, bodies up to HTTP_CLIENT_MAX_BODY; more is -E2BIG.
 * Redirects (301, 302, 303, 307, 308 with Location: a standby master points at the leader)
 * are followed up to HTTP_CLIENT_MAX_REDIRECTS times. Only plain http:// is spoken. */
#pragma once
#include <signal.h>
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

/* The same, incrementally, for a body read as it arrives (an event stream). */
enum http_chunked_state {
	HTTP_CHUNKED_SIZE,
	HTTP_CHUNKED_DATA,
	HTTP_CHUNKED_DATA_END,
	HTTP_CHUNKED_TRAILER,
	HTTP_CHUNKED_DONE,
};

struct http_chunked {
	enum http_chunked_state state;
	uint64_t left;   /* data bytes left in the current chunk */
	char line[1025]; /* the size line so far (at most 1024 bytes) */
	size_t line_len;
	size_t total;    /* trailer bytes so far (at most HTTP_CLIENT_MAX_HEADER) */
	char last;
};

void http_chunked_init(struct http_chunked *d);
/* Decodes p[0..n), appending data to out (at most n bytes per call). Returns 0 when more
 * is wanted (all n bytes used), 1 once the last chunk and trailers are through (*used says
 * how many bytes that took), -EBADMSG for bad framing (*used is set in every case). */
int http_chunked_feed(struct http_chunked *d, const char *p, size_t n, size_t *used,
		      struct strbuf *out);

struct http_request {
	const char *method;   /* "GET", "POST", … */
	const char *target;   /* path and query, appended to the URL's prefix; starts with '/' */
	const char *body;     /* NULL for none */
	size_t body_len;
	uint64_t timeout_usec; /* for the whole exchange, redirects included */
	const char *accept;   /* Accept header; NULL for application/json */
};

/* Sends req to url and reads the response into *out (release with http_response_release),
 * following redirects. Returns 0 for any HTTP status, or -errno: -ECONNREFUSED & co. from
 * the network, -ETIMEDOUT, -EBADMSG for a malformed response, -E2BIG for one too large,
 * -ELOOP for too many redirects. err (errlen bytes) then says what went wrong. */
int http_client_send(const struct http_url *url, const struct http_request *req,
		     struct http_response *out, char *err, size_t errlen);

/* Streaming: for a response that does not end (an event stream). */
struct http_stream_opts {
	/* Called with each piece of a 2xx body as it arrives (chunked framing removed).
	 * Returns 0, or a negative errno that stops the stream and is returned by
	 * http_client_stream. */
	int (*on_body)(const char *data, size_t len, void *ctx);
	void *ctx;
	uint64_t idle_timeout_usec; /* once streaming: give up after this long without a
				       byte (-ETIMEDOUT); 0 waits forever */
	/* For a caller that stops on a signal: the signal mask while waiting (ppoll), in
	 * which the caller's signals are unblocked, and a flag its handler sets. After a
	 * signal with *stop set, the call returns -ECANCELED. Both may be NULL. */
	const sigset_t *sigmask;
	const volatile sig_atomic_t *stop;
};

/* Like http_client_send, but a 2xx body is handed to so->on_body as it arrives instead of
 * being collected; req->timeout_usec then covers connecting and the response head only.
 * Returns 0 when a 2xx body ended (out has the status and headers, an empty body) or for
 * any other status (out as http_client_send fills it, redirects followed); or -ECANCELED,
 * -ETIMEDOUT, -EPIPE (the peer closed mid-body), -EBADMSG, on_body's value, -errno, with
 * nothing in out to release but out->status (0 unless a 2xx head had come), and err saying
 * what went wrong (not for -ECANCELED or on_body's value). */
int http_client_stream(const struct http_url *url, const struct http_request *req,
		       const struct http_stream_opts *so, struct http_response *out, char *err,
		       size_t errlen);
