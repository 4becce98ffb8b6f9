/* HTTP server glue over libevent's evhttp, and helpers every API handler uses.
 *
 * Bounds: request bodies are capped by http_server_new's max_body (evhttp answers 413
 * itself before the handler runs); headers by HTTP_MAX_HEADERS_SIZE. The answers evhttp
 * makes itself (400, 413, 417, 501) carry {"message": "<reason>"} as application/json like
 * every other error, not evhttp's HTML: http.c replaces libevent's evhttp_send_error (2.1
 * offers no hook for that page; see there). Streaming responses
 * (http_stream_*) have a per-connection output cap: a client that does not read is cut off. */
#pragma once
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEADERS_SIZE (64 * 1024)
/* A connection idle this long while a request is read, or with output the client does not
 * take, is dropped. Streams have no read timeout (they may stay quiet for long). */
#define HTTP_IDLE_TIMEOUT_SEC 60
/* Query strings past these bounds are refused before any handler runs: 414 past the length,
 * 400 past the count of parameters (and http_query_parse answers -E2BIG). Requests with two
 * different Content-Length headers, or Content-Length with Transfer-Encoding, get 400. */
#define HTTP_QUERY_MAX_LEN (16 * 1024)
#define HTTP_QUERY_MAX_PARAMS 256

struct http_server;
typedef void (*http_handler_fn)(struct evhttp_request *req, void *ctx);

/* Binds addr:port (port 0 picks a free one) and sends every request to handler.
 * addr is a numeric IPv4 or IPv6 address (brackets allowed: "[::1]"), "localhost"
 * (= 127.0.0.1), or NULL / "" / "*" (= 0.0.0.0). Methods GET POST PUT PATCH DELETE HEAD
 * OPTIONS are accepted, others get 501 from evhttp. A body over max_body gets 413 from
 * evhttp and handler never runs; one of exactly max_body bytes is accepted. Both answers,
 * and evhttp's 400 for a request that does not parse, are {"message": …} JSON.
 * Every server of a process must use the same event_base (the loop thread).
 * Returns 0, or -errno (-EADDRINUSE, -EINVAL for a bad address). */
int http_server_new(struct event_base *base, const char *addr, uint16_t port, size_t max_body,
		    http_handler_fn handler, void *ctx, struct http_server **out);
/* The port actually bound. */
uint16_t http_server_port(const struct http_server *srv);

/* TLS (http-tls.c): a server certificate chain and key (PEM files), and optionally a CA
 * file: then every client must present a certificate it signed (mutual TLS). Returns 0 and
 * *out, or -EINVAL / -ENOMEM with err saying which file is wrong. */
struct http_tls;
int http_tls_new(const char *cert, const char *key, const char *ca, struct http_tls **out,
		 char *err, size_t errlen);
void http_tls_free(struct http_tls *t); /* accepts NULL; after every server using it */
/* Makes srv speak only TLS with t (borrowed, must outlive srv), for the connections
 * accepted from now on. */
void http_server_set_tls(struct http_server *srv, struct http_tls *t);
/* A client context: peers are verified against ca (NULL: the system's CAs); cert and key
 * (both or neither) are presented when the peer asks (mutual TLS). */
int http_tls_client_new(const char *ca, const char *cert, const char *key,
			struct http_tls **out, char *err, size_t errlen);
/* A new HTTPS connection to host:port with t (a client context): the peer's certificate
 * must be valid and name host. NULL on failure. evhttp's reconnects (after the peer closed
 * an idle connection) handshake again on the same SSL bufferevent: checked with the agent
 * sending every request with "Connection: close" through test_agent_tls.py. */
struct evhttp_connection *http_tls_connect(struct event_base *base, struct http_tls *t,
					   const char *host, uint16_t port);
/* Connection caps and the slowloris timeout (http-guard.c): at most max_total connections
 * in all and max_per_client from one address (more are answered 503 and closed), and every
 * request (headers and body) must arrive within request_timeout_sec — a connection's first
 * from its accept, a kept-alive connection's next from its first byte — else the
 * connection is closed. For the connections accepted from now on; call before
 * http_server_set_tls or after, either works. */
struct http_limits {
	unsigned max_total, max_per_client, request_timeout_sec;
};
#define HTTP_DEFAULT_MAX_CONNECTIONS 8192
#define HTTP_DEFAULT_MAX_PER_CLIENT 2048
#define HTTP_DEFAULT_REQUEST_TIMEOUT_SEC 30
void http_server_set_limits(struct http_server *srv, const struct http_limits *lim);
/* http-guard.c, for http.c; internal. */
struct http_guard;
struct http_guard *http_guard_new(struct event_base *base, const struct http_limits *lim,
				  struct http_tls *tls);
void http_guard_set_tls(struct http_guard *g, struct http_tls *tls);
void http_guard_free(struct http_guard *g); /* after evhttp_free; accepts NULL */
void http_guard_request(struct http_guard *g, struct evhttp_request *req);
struct bufferevent *http_guard_bev(struct event_base *base, void *guard);
/* http-tls.c's connection factory (evhttp's bevcb); internal. */
struct bufferevent;
struct bufferevent *http_tls_bev(struct event_base *base, void *tls);
/* Is bev one of http-tls.c's (its bytes are read to be encrypted: never sendfile)? */
bool http_bev_is_tls(struct bufferevent *bev);
void http_server_free(struct http_server *srv); /* accepts NULL */

/* Observation: every reply a handler sends (http_reply_*, and http_stream_start for a
 * stream) can be reported with its method, route, status and latency — the time from
 * evhttp handing the request to the server (headers and body read) to the reply being
 * queued (for a stream: its start). Replies evhttp makes by itself (400 for a malformed
 * request, 413, 501) never reach the handler and are not observed.
 *
 * route maps a request to a small fixed set of route labels ("/v2/apps/{id}") so that
 * hostile paths cannot multiply label values; it runs once per request, on arrival, and
 * must return a string that lives as long as the server (a literal), or NULL for "other".
 * What the reply's observation needs travels in the request itself (a hidden input header,
 * below), so nothing is kept per request outside it. */
/* Input headers whose name starts with this are the server's own, never a client's (no HTTP
 * header name holds a control character): a handler that forwards a request's headers
 * (a proxy) skips them. */
#define HTTP_HIDDEN_HEADER_LEAD "\x01"
/* The authenticated principal of a request (src/auth sets it; absent without auth). */
#define HTTP_PRINCIPAL_HEADER HTTP_HIDDEN_HEADER_LEAD "berth-principal"
struct http_observation {
	const char *method;    /* "GET", … */
	const char *route;     /* route's answer, or "other" */
	int status;
	uint64_t latency_usec;
	bool stream;           /* the reply was a stream's start */
};
typedef const char *(*http_route_fn)(enum evhttp_cmd_type method, const char *path, void *ctx);
typedef void (*http_observer_fn)(const struct http_observation *ob, void *ctx);
/* Sets (or with obs NULL, clears) the observer of srv. route may be NULL (every request
 * is then "other"). ctx is passed to both. */
void http_server_set_observer(struct http_server *srv, http_route_fn route, http_observer_fn obs,
			      void *ctx);
/* Built-in observer recording into reg (borrowed; must outlive srv):
 *   <prefix>_http_requests_total{method,route,status}          counter
 *   <prefix>_http_request_duration_seconds{method,route}       timer (histogram in prom)
 * The families are reused if another server already registered them in reg (a mismatch of
 * their type or labels is a programmer error). Replaces any observer set before.
 * Returns 0, or -EINVAL for a prefix that does not make valid metric names. */
struct metrics;
int http_server_enable_metrics(struct http_server *srv, struct metrics *reg, const char *prefix,
			       http_route_fn route, void *route_ctx);

/* Request helpers. */
const char *http_method_name(enum evhttp_cmd_type m); /* "GET", … */
/* Decoded path without the query ("/v2/apps/prod/web"); malloc'd, taken by the caller.
 * NULL for an undecodable URI. */
char *http_request_path(struct evhttp_request *req);
/* Body as a NUL-terminated malloc'd string (taken by the caller); *len may be NULL. */
char *http_request_body(struct evhttp_request *req, size_t *len);
/* Parses the body as JSON. 0 and *out (new ref), or -EINVAL with a parser message in
 * err (at least 160 bytes) for malformed JSON or an empty body. The message is jansson's
 * text plus position, "'[' or '{' expected near 'x' at line 1, column 1", or
 * "No content to map due to end-of-input" for an empty (or all-blank) body. */
int http_request_json(struct evhttp_request *req, json_t **out, char *err, size_t errlen);
/* The same on a buffer (for callers that hold the bytes; the fuzz target). */
int http_json_parse(const char *body, size_t len, json_t **out, char *err, size_t errlen);
/* Parses a raw query string ("a=1&b=x%20y&a=2&flag") into a JSON object mapping each
 * decoded key to the array of its decoded values in order (a bare key has value "";
 * '+' decodes to a space). Pairs whose key is empty, or whose key or value decodes to
 * %00 or invalid UTF-8, are skipped. query may be NULL (empty object). Returns 0 with
 * *out (new ref), or -E2BIG (and *out NULL) past HTTP_QUERY_MAX_LEN / _MAX_PARAMS.
 * The http_query_* helpers below use it; an over-long query reads as empty there. */
int http_query_parse(const char *query, json_t **out);
/* First value of a query parameter (malloc'd, caller frees), or NULL. */
char *http_query_get(struct evhttp_request *req, const char *key);
/* Every value of a repeated query parameter, as a JSON array of strings (new ref). */
json_t *http_query_all(struct evhttp_request *req, const char *key);
/* "true" / "1" → true, "false" / "0" → false (case-insensitive), absent or empty → dflt;
 * returns -EINVAL (and *out = dflt) for other text. */
int http_query_bool(struct evhttp_request *req, const char *key, bool dflt, bool *out);
/* The peer's address as "ip" (static buffer, overwritten by the next call; "" if the
 * client is gone). */
const char *http_request_peer(struct evhttp_request *req);

/* Replies. Each sends the response and is the last thing done with req. */
/* json is taken (decref'd); Content-Type application/json. */
void http_reply_json(struct evhttp_request *req, int code, json_t *json);
/* As http_reply_json, for polled reads: a 200 carries an ETag, If-None-Match on it is
 * answered 304, and Accept-Encoding: gzip is served compressed (http-cond.c). */
void http_reply_json_cond(struct evhttp_request *req, int code, json_t *json);
/* As http_reply_bytes, with the body in buf (taken: its chains are moved to the connection,
 * references included, not copied). */
struct evbuffer;
void http_reply_evbuffer(struct evhttp_request *req, int code, const char *type,
			 struct evbuffer *buf);
/* {"message": msg} with the code. */
void http_reply_message(struct evhttp_request *req, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void http_reply_text(struct evhttp_request *req, int code, const char *text);
/* len bytes of data with Content-Type type (none if NULL; a header added before wins). */
void http_reply_bytes(struct evhttp_request *req, int code, const char *type, const char *data,
		      size_t len);
/* Adds a response header before a reply call. */
void http_add_header(struct evhttp_request *req, const char *key, const char *value);

/* Streaming responses (chunked, or raw for SSE). A stream ends when the client goes away,
 * when http_stream_close is called, or when more than max_pending bytes sit unsent, which
 * cuts the client off. on_close runs exactly once in each case, after which the stream
 * pointer is dead.
 *
 * Details a caller must know:
 *  - on_close never runs inside an http_stream_* call: it is deferred to the event loop
 *    (a zero timeout), so a caller may free its own state only in on_close, and must not
 *    touch st after on_close has run (not even from inside on_close). Between the end and
 *    on_close, http_stream_write returns -EPIPE and http_stream_close does nothing.
 *  - After http_stream_start, req belongs to the stream: the caller must not reply to it.
 *  - Each http_stream_write is sent as one HTTP chunk (one record per chunk, as Mesos does).
 *  - The whole write is refused (-EPIPE) if queuing it would leave more than max_pending
 *    bytes unsent; the client is then dropped without the terminating chunk.
 *  - content_type "text/event-stream…" (SSE) is also chunked, not raw: evhttp cannot write
 *    a raw body of unknown length to an HTTP/1.1 client. `Cache-Control: no-cache` and
 *    `Connection: close` are added unless set; every SSE client we serve decodes chunks.
 *  - Output headers (http_add_header) must be added before http_stream_start.
 *  - Never NULL. If the client already left, on_close is simply scheduled at once, on base
 *    (the loop the request came in on). */
struct http_stream;
typedef void (*http_stream_close_fn)(struct http_stream *st, void *ctx);
struct http_stream *http_stream_start(struct event_base *base, struct evhttp_request *req,
				      int code, const char *content_type, size_t max_pending,
				      http_stream_close_fn on_close, void *ctx);
/* Queues data; returns 0, or -EPIPE if the stream is already closing or was just cut off
 * for exceeding max_pending (on_close has then been scheduled). */
int http_stream_write(struct http_stream *st, const void *data, size_t len);
/* Immutable bytes shared by many streams (an event written to every subscriber): held once
 * in memory however many streams still have them queued. http_shared_new copies data;
 * the creator drops its reference with http_shared_unref when done writing. */
struct http_shared;
struct http_shared *http_shared_new(const void *data, size_t len);
void http_shared_unref(struct http_shared *sh); /* accepts NULL */
/* As http_stream_write, queueing a reference to sh instead of a copy (records under 4 KiB are
 * copied: cheaper than a reference). */
int http_stream_write_shared(struct http_stream *st, struct http_shared *sh);
/* Ends the response normally (on_close still runs). */
void http_stream_close(struct http_stream *st);
/* Bytes queued and not yet written to the socket. */
size_t http_stream_pending(const struct http_stream *st);
/* The global bound on bytes queued and unsent on all streams of the process together (each
 * stream's own bound is its max_pending): once the sum exceeds it, the streams with the
 * largest backlogs are cut off (as for max_pending), the largest first, until the rest fit.
 * Checked as writes are queued, so the sum may pass the bound by max(bytes/64, 64 KiB). */
#define HTTP_DEFAULT_STREAM_BUDGET ((size_t)256 * 1024 * 1024)
void http_stream_set_budget(size_t bytes);
/* Streams cut off by the global bound so far. */
unsigned long long http_stream_budget_cuts(void);
