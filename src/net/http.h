/* HTTP server glue over libevent's evhttp, and helpers every API handler uses.
 *
 * Bounds: request bodies are capped by http_server_new's max_body (evhttp answers 413
 * itself before the handler runs); headers by HTTP_MAX_HEADERS_SIZE. Streaming responses
 * (http_stream_*) have a per-connection output cap: a client that does not read is cut off. */
#pragma once
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEADERS_SIZE (64 * 1024)

struct http_server;
typedef void (*http_handler_fn)(struct evhttp_request *req, void *ctx);

/* Binds addr:port (port 0 picks a free one) and sends every request to handler.
 * Returns 0, or -errno (-EADDRINUSE, -EINVAL for a bad address). */
int http_server_new(struct event_base *base, const char *addr, uint16_t port, size_t max_body,
		    http_handler_fn handler, void *ctx, struct http_server **out);
/* The port actually bound. */
uint16_t http_server_port(const struct http_server *srv);
void http_server_free(struct http_server *srv); /* accepts NULL */

/* Request helpers. */
const char *http_method_name(enum evhttp_cmd_type m); /* "GET", … */
/* Decoded path without the query ("/v2/apps/prod/web"); malloc'd, taken by the caller.
 * NULL for an undecodable URI. */
char *http_request_path(struct evhttp_request *req);
/* Body as a NUL-terminated malloc'd string (taken by the caller); *len may be NULL. */
char *http_request_body(struct evhttp_request *req, size_t *len);
/* Parses the body as JSON. 0 and *out (new ref), or -EINVAL with a parser message in
 * err (at least 160 bytes) for malformed JSON or an empty body. */
int http_request_json(struct evhttp_request *req, json_t **out, char *err, size_t errlen);
/* First value of a query parameter (malloc'd, caller frees), or NULL. */
char *http_query_get(struct evhttp_request *req, const char *key);
/* Every value of a repeated query parameter, as a JSON array of strings (new ref). */
json_t *http_query_all(struct evhttp_request *req, const char *key);
/* "true" / "1" → true; "false" / "0" / absent → dflt… returns -EINVAL for other text. */
int http_query_bool(struct evhttp_request *req, const char *key, bool dflt, bool *out);
/* The peer's address as "ip" (static buffer per call). */
const char *http_request_peer(struct evhttp_request *req);

/* Replies. Each sends the response and is the last thing done with req. */
/* json is taken (decref'd); Content-Type application/json. */
void http_reply_json(struct evhttp_request *req, int code, json_t *json);
/* {"message": msg} with the code. */
void http_reply_message(struct evhttp_request *req, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void http_reply_text(struct evhttp_request *req, int code, const char *text);
/* Adds a response header before a reply call. */
void http_add_header(struct evhttp_request *req, const char *key, const char *value);

/* Streaming responses (chunked, or raw for SSE). A stream ends when the client goes away,
 * when http_stream_close is called, or when more than max_pending bytes sit unsent, which
 * cuts the client off. on_close runs exactly once in each case, after which the stream
 * pointer is dead. */
struct http_stream;
typedef void (*http_stream_close_fn)(struct http_stream *st, void *ctx);
struct http_stream *http_stream_start(struct evhttp_request *req, int code,
				      const char *content_type, size_t max_pending,
				      http_stream_close_fn on_close, void *ctx);
/* Queues data; returns 0, or -EPIPE if the stream is already closing or was just cut off
 * for exceeding max_pending (on_close has then been scheduled). */
int http_stream_write(struct http_stream *st, const void *data, size_t len);
/* Ends the response normally (on_close still runs). */
void http_stream_close(struct http_stream *st);
/* Bytes queued and not yet written to the socket. */
size_t http_stream_pending(const struct http_stream *st);
