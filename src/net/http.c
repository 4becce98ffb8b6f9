/* HTTP server glue over libevent 2.1's evhttp (see http.h).
 *
 * Streams. A struct http_stream owns its request from http_stream_start until on_close has
 * run. Its states:
 *
 *   OPEN --write over max_pending--> CUT     (deferred: drop the connection, on_close)
 *   OPEN --http_stream_close-------> ENDED   (terminating chunk queued; deferred on_close)
 *   OPEN --connection closed-------> GONE    (deferred on_close)
 *
 * Every transition out of OPEN sets `closing` and schedules exactly one deferred call
 * (event_base_once with a zero timeout) that runs on_close and frees the stream, so no
 * caller ever sees on_close from inside its own http_stream_* call, and libevent never
 * sees a connection freed from inside one of its own callbacks for it.
 *
 * When the peer goes away, evhttp detaches the unfinished request from its connection
 * (evhttp_connection_incoming_fail, EOF/timeout) and frees the connection, calling our
 * close callback first; the request is then ours to free (evhttp_send_reply_end on a
 * detached request frees it). If the connection is freed with the request still attached
 * (evhttp_free at shutdown), evhttp frees the request itself right after the callback.
 *
 * SSE: Marathon answers /v2/events unchunked with `Connection: close`. evhttp always
 * chunks a body of unknown length for an HTTP/1.1 client and offers no supported way to
 * write a raw body after its own headers, so event streams are chunked too, with
 * `Connection: close` and `Cache-Control: no-cache` added. Every SSE client we target
 * (browsers' EventSource, curl, python requests/sseclient, marathon-lb) decodes chunked
 * framing transparently, and each write is one chunk so a record is never split. The
 * chunks are framed by http_stream_write itself, straight into the connection's output
 * buffer (see there), not by evhttp_send_reply_chunk; evhttp still sends the headers and
 * the terminating chunk.
 */
#include "net/http.h"

/* before event2/keyvalq_struct.h, which defines its TAILQ macros only when sys/queue.h has not */
#include <sys/queue.h> /* TAILQ_LAST, TAILQ_FOREACH over evhttp's header lists */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>

#define STREAM_MAX_SINGLE_WRITE (4u * 1024 * 1024)
#include <event2/http_struct.h> /* req->major/minor, for evhttp_send_error below */
#include <event2/keyvalq_struct.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/metrics.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/util.h"

#define LISTEN_BACKLOG 1024
/* A stream's input is only watched for EOF; a client that keeps sending is paused. */
#define STREAM_INPUT_MAX 4096

struct http_server {
	struct evhttp *http;
	http_handler_fn handler;
	void *ctx;
	uint16_t port;
	/* observation */
	http_route_fn route;
	http_observer_fn observer;
	void *observer_ctx;
	void *route_ctx;
	struct metrics_family *m_requests; /* http_server_enable_metrics */
	struct metrics_family *m_latency;
	struct event_base *base;
	struct http_tls *tls;     /* http_server_set_tls, or NULL */
	struct http_guard *guard; /* http_server_set_limits, or NULL */
};

/* ---- observation ----
 *
 * What observe_end needs of a request (its server, arrival time and route) travels with the
 * request itself, as an input header no client can send: its name starts with a control
 * character, which no HTTP token may hold, and evhttp frees it with the request. So nothing
 * is kept per request outside the request (libevent 2.1 gives a request no user data), there
 * is no table to bound or to forget, and a request its handler never answers leaves nothing
 * behind. observe_end empties the header's value once it has reported, and a handler that copies the
 * input headers elsewhere (a proxy) skips names that start with it (HTTP_HIDDEN_HEADER_LEAD). */

#define OBSERVE_HEADER HTTP_HIDDEN_HEADER_LEAD "berth-observe"

/* The header's value: the server, the arrival time and the route, each as 16 hex digits
 * (printf and scanf would cost more than the rest of the observation). */
#define OBSERVE_FIELDS 3

static void hex64_put(char *out, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 15; i >= 0; i--, v >>= 4)
		out[i] = digits[v & 15];
}

static bool hex64_get(const char *in, uint64_t *v)
{
	uint64_t r = 0;
	for (int i = 0; i < 16; i++) {
		char c = in[i];
		unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0') :
			     c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) : 16;
		if (d == 16)
			return false;
		r = r << 4 | d;
	}
	*v = r;
	return true;
}

/* The hidden header's entry among h, or NULL. Ours is appended on arrival, so it is found
 * at the tail; a name whose first byte is not the lead is skipped without a comparison. */
static struct evkeyval *observe_find(struct evkeyvalq *h)
{
	struct evkeyval *kv = TAILQ_LAST(h, evkeyvalq);
	if (kv && kv->key[0] == HTTP_HIDDEN_HEADER_LEAD[0] && !strcmp(kv->key, OBSERVE_HEADER))
		return kv;
	TAILQ_FOREACH(kv, h, next)
		if (kv->key[0] == HTTP_HIDDEN_HEADER_LEAD[0] && !strcmp(kv->key, OBSERVE_HEADER))
			return kv;
	return NULL;
}

static void observe_begin(struct http_server *srv, struct evhttp_request *req)
{
	/* A client that sends the name anyway (evhttp's parser lets a control character
	 * through) must not be taken at its word: its header goes, observed or not. */
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	if (observe_find(h))
		while (evhttp_remove_header(h, OBSERVE_HEADER) == 0)
			;
	if (!srv->observer)
		return;
	const char *route = NULL;
	if (srv->route) {
		_cleanup_free_ char *path = http_request_path(req);
		if (path)
			route = srv->route(evhttp_request_get_command(req), path, srv->route_ctx);
	}
	char val[OBSERVE_FIELDS * 16 + 1];
	hex64_put(val, (uint64_t)(uintptr_t)srv);
	hex64_put(val + 16, time_mono_usec());
	hex64_put(val + 32, (uint64_t)(uintptr_t)route);
	val[OBSERVE_FIELDS * 16] = '\0';
	evhttp_add_header(h, OBSERVE_HEADER, val);
}

/* Reports the reply to req's observer, if it has one. Call before the reply is sent. */
static void observe_end(struct evhttp_request *req, int code, bool stream)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	struct evkeyval *kv = h ? observe_find(h) : NULL;
	if (!kv)
		return;
	const char *val = kv->value;
	uint64_t srvp = 0, start = 0, routep = 0;
	bool ok = strlen(val) == OBSERVE_FIELDS * 16 && hex64_get(val, &srvp) &&
		  hex64_get(val + 16, &start) && hex64_get(val + 32, &routep);
	kv->value[0] = '\0'; /* observed: a second reply (a bug) is not counted again */
	struct http_server *srv = (struct http_server *)(uintptr_t)srvp;
	if (!ok || !srv || !srv->observer)
		return;
	uint64_t now = time_mono_usec();
	struct http_observation ob = {
		.method = http_method_name(evhttp_request_get_command(req)),
		.route = routep ? (const char *)(uintptr_t)routep : "other",
		.status = code,
		.latency_usec = now > start ? now - start : 0,
		.stream = stream,
	};
	srv->observer(&ob, srv->observer_ctx);
}

void http_server_set_observer(struct http_server *srv, http_route_fn route, http_observer_fn obs,
			      void *ctx)
{
	srv->route = route;
	srv->route_ctx = ctx;
	srv->observer = obs;
	srv->observer_ctx = ctx;
	srv->m_requests = srv->m_latency = NULL;
}

static void metrics_observer(const struct http_observation *ob, void *ctx)
{
	struct http_server *srv = ctx;
	char status[12];
	snprintf(status, sizeof(status), "%d", ob->status);
	metrics_counter_inc(metrics_series_getv(srv->m_requests, ob->method, ob->route, status));
	metrics_timer_record_usec(metrics_series_getv(srv->m_latency, ob->method, ob->route),
				  ob->latency_usec);
}

static int family_get_or_new(struct metrics *reg, enum metrics_type type, const char *name,
			     const char *help, const char *labels, struct metrics_family **out)
{
	int r = metrics_family_new(reg, type, name, help, labels, NULL, out);
	if (r == -EEXIST) {
		*out = metrics_family_get(reg, name);
		r = 0;
	}
	return r;
}

int http_server_enable_metrics(struct http_server *srv, struct metrics *reg, const char *prefix,
			       http_route_fn route, void *route_ctx)
{
	_cleanup_free_ char *n1 = xasprintf("%s_http_requests_total", prefix);
	_cleanup_free_ char *n2 = xasprintf("%s_http_request_duration_seconds", prefix);
	struct metrics_family *req, *lat;
	int r = family_get_or_new(reg, METRICS_COUNTER, n1, "HTTP requests answered, by method, "
				  "route and status", "method,route,status", &req);
	if (r < 0)
		return r;
	r = family_get_or_new(reg, METRICS_TIMER, n2, "HTTP request latency from arrival to "
			      "reply, by method and route", "method,route", &lat);
	if (r < 0)
		return r;
	http_server_set_observer(srv, route, metrics_observer, srv);
	srv->route_ctx = route_ctx;
	srv->m_requests = req;
	srv->m_latency = lat;
	return 0;
}

/* ---- server ---- */

/* Requests refused before any handler, so that none runs on a request it would misread:
 * a query past the parser's bounds (which the handlers would read as empty: defaults, a
 * DELETE that replaces instead of scaling down) and an ambiguous body length (two
 * different Content-Length headers, or one with Transfer-Encoding: request smuggling
 * through a proxy that reads the other). Returns true after answering. */
static bool refuse_early(struct evhttp_request *req)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *q = uri ? evhttp_uri_get_query(uri) : NULL;
	if (q && strlen(q) > HTTP_QUERY_MAX_LEN) {
		http_reply_message(req, 414, "URI Too Long: the query string is over %d bytes",
				   HTTP_QUERY_MAX_LEN);
		return true;
	}
	unsigned params = 0;
	for (const char *p = q; p && *p;) {
		size_t n = strcspn(p, "&");
		params += n > 0 && *p != '=';
		p += n + (p[n] == '&');
	}
	if (params > HTTP_QUERY_MAX_PARAMS) {
		http_reply_message(req, 400, "Too many query parameters: more than %d",
				   HTTP_QUERY_MAX_PARAMS);
		return true;
	}
	const char *cl = NULL;
	bool te = false, conflict = false;
	for (struct evkeyval *h = evhttp_request_get_input_headers(req)->tqh_first; h;
	     h = h->next.tqe_next) {
		if (!strcasecmp(h->key, "Content-Length")) {
			conflict |= cl && strcmp(cl, h->value);
			cl = h->value;
		} else if (!strcasecmp(h->key, "Transfer-Encoding")) {
			te = true;
		}
	}
	if (conflict || (cl && te)) {
		http_add_header(req, "Connection", "close");
		http_reply_message(req, 400, "%s", conflict ? "Conflicting Content-Length headers"
						: "Content-Length with Transfer-Encoding");
		return true;
	}
	return false;
}

static void server_gencb(struct evhttp_request *req, void *arg)
{
	struct http_server *srv = arg;
	if (srv->guard)
		http_guard_request(srv->guard, req);
	observe_begin(srv, req);
	if (!refuse_early(req))
		srv->handler(req, srv->ctx);
}

/* Creates a bound, listening, non-blocking, close-on-exec socket for addr:port. */
static int listen_socket(const char *addr, uint16_t port, uint16_t *bound)
{
	char host[INET6_ADDRSTRLEN + 2];
	if (!addr || !*addr || strcmp(addr, "*") == 0)
		addr = "0.0.0.0";
	else if (strcmp(addr, "localhost") == 0)
		addr = "127.0.0.1";
	size_t n = strlen(addr);
	if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']') {
		if (n - 2 >= sizeof(host))
			return -EINVAL;
		memcpy(host, addr + 1, n - 2);
		host[n - 2] = '\0';
		addr = host;
	}

	char portstr[8];
	snprintf(portstr, sizeof(portstr), "%u", (unsigned)port);
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV,
	};
	struct addrinfo *ai = NULL;
	if (getaddrinfo(addr, portstr, &hints, &ai) != 0 || !ai)
		return -EINVAL;

	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		int r = -errno;
		freeaddrinfo(ai);
		return r;
	}
	int one = 1;
	int r = 0;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		r = -errno;
	if (!r && ai->ai_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == -1)
		r = -errno;
	if (!r && bind(fd, ai->ai_addr, ai->ai_addrlen) == -1)
		r = -errno;
	if (!r && listen(fd, LISTEN_BACKLOG) == -1)
		r = -errno;
	freeaddrinfo(ai);

	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (!r && getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
		r = -errno;
	if (r) {
		close(fd);
		return r;
	}
	if (ss.ss_family == AF_INET6)
		*bound = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	else
		*bound = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

int http_server_new(struct event_base *base, const char *addr, uint16_t port, size_t max_body,
		    http_handler_fn handler, void *ctx, struct http_server **out)
{
	*out = NULL;
	if (!base || !handler)
		return -EINVAL;
	uint16_t bound = 0;
	int fd = listen_socket(addr, port, &bound);
	if (fd < 0)
		return fd;

	struct http_server *srv = xcalloc(1, sizeof(*srv));
	srv->handler = handler;
	srv->ctx = ctx;
	srv->port = bound;
	srv->base = base;
	srv->http = evhttp_new(base);
	if (!srv->http) {
		close(fd);
		free(srv);
		return -ENOMEM;
	}
	evhttp_set_max_body_size(srv->http, (ev_ssize_t)max_body);
	evhttp_set_max_headers_size(srv->http, HTTP_MAX_HEADERS_SIZE);
	evhttp_set_timeout(srv->http, HTTP_IDLE_TIMEOUT_SEC);
	evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
						      EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
						      EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(srv->http, server_gencb, srv);
	if (!evhttp_accept_socket_with_handle(srv->http, fd)) {
		close(fd);
		evhttp_free(srv->http);
		free(srv);
		return -ENOMEM;
	}
	*out = srv;
	return 0;
}

void http_server_set_tls(struct http_server *srv, struct http_tls *t)
{
	srv->tls = t;
	if (srv->guard)
		http_guard_set_tls(srv->guard, t);
	else
		evhttp_set_bevcb(srv->http, http_tls_bev, t);
}

void http_server_set_limits(struct http_server *srv, const struct http_limits *lim)
{
	if (srv->guard)
		return;
	srv->guard = http_guard_new(srv->base, lim, srv->tls);
	evhttp_set_bevcb(srv->http, http_guard_bev, srv->guard);
}

uint16_t http_server_port(const struct http_server *srv)
{
	return srv->port;
}

void http_server_free(struct http_server *srv)
{
	if (!srv)
		return;
	evhttp_free(srv->http);
	http_guard_free(srv->guard);
	free(srv);
}

/* ---- request helpers ---- */

const char *http_method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_TRACE: return "TRACE";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	case EVHTTP_REQ_PATCH: return "PATCH";
	}
	return "UNKNOWN";
}

char *http_request_path(struct evhttp_request *req)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *raw = uri ? evhttp_uri_get_path(uri) : NULL;
	if (!raw || !*raw)
		raw = "/";
	size_t n = 0;
	/* '+' is a literal in paths; only %XX is decoded. */
	char *dec = evhttp_uridecode(raw, 0, &n);
	if (!dec)
		return NULL;
	if (strlen(dec) != n) { /* %00 */
		free(dec);
		return NULL;
	}
	char *copy = xstrndup(dec, n);
	free(dec);
	return copy;
}

char *http_request_body(struct evhttp_request *req, size_t *len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = in ? evbuffer_get_length(in) : 0;
	char *buf = xmalloc(n + 1);
	if (n && evbuffer_copyout(in, buf, n) != (ev_ssize_t)n)
		n = 0;
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

int http_json_parse(const char *body, size_t len, json_t **out, char *err, size_t errlen)
{
	*out = NULL;
	size_t i = 0;
	while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
		i++;
	if (i == len) {
		snprintf(err, errlen, "No content to map due to end-of-input");
		return -EINVAL;
	}
	json_error_t je;
	json_t *j = json_loadb(body, len, JSON_ALLOW_NUL, &je);
	if (!j) {
		snprintf(err, errlen, "%s at line %d, column %d", je.text, je.line, je.column);
		return -EINVAL;
	}
	*out = j;
	return 0;
}

int http_request_json(struct evhttp_request *req, json_t **out, char *err, size_t errlen)
{
	size_t len = 0;
	_cleanup_free_ char *body = http_request_body(req, &len);
	return http_json_parse(body, len, out, err, errlen);
}

/* Decodes one query component (%XX and '+'); NULL if it decodes to an embedded NUL. */
static char *query_decode(const char *s, size_t n)
{
	_cleanup_free_ char *raw = xstrndup(s, n);
	size_t dlen = 0;
	char *dec = evhttp_uridecode(raw, 1, &dlen);
	if (!dec)
		return NULL;
	if (strlen(dec) != dlen) {
		free(dec);
		return NULL;
	}
	char *copy = xstrndup(dec, dlen);
	free(dec);
	return copy;
}

int http_query_parse(const char *query, json_t **out)
{
	json_t *obj = json_object();
	*out = obj;
	if (!query)
		return 0;
	size_t qlen = strlen(query);
	if (qlen > HTTP_QUERY_MAX_LEN) {
		json_decref(obj);
		*out = NULL;
		return -E2BIG;
	}
	unsigned count = 0;
	const char *p = query;
	while (*p) {
		const char *amp = strchr(p, '&');
		size_t n = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', n);
		size_t klen = eq ? (size_t)(eq - p) : n;
		if (klen > 0) {
			if (++count > HTTP_QUERY_MAX_PARAMS) {
				json_decref(obj);
				*out = NULL;
				return -E2BIG;
			}
			_cleanup_free_ char *k = query_decode(p, klen);
			_cleanup_free_ char *v = eq ? query_decode(eq + 1, n - klen - 1) : xstrdup("");
			/* jansson wants UTF-8 keys and strings; other bytes make the pair invalid. */
			json_t *vs = (k && v) ? json_string(v) : NULL;
			json_t *arr = (vs && *k) ? json_object_get(obj, k) : NULL;
			if (vs && *k && !arr) {
				arr = json_array();
				if (json_object_set_new(obj, k, arr) < 0)
					arr = NULL;
			}
			if (arr)
				json_array_append(arr, vs);
			json_decref(vs);
		}
		p += n;
		if (*p == '&')
			p++;
	}
	return 0;
}

static json_t *request_query(struct evhttp_request *req)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	json_t *q = NULL;
	if (http_query_parse(uri ? evhttp_uri_get_query(uri) : NULL, &q) < 0 || !q)
		q = json_object();
	return q;
}

char *http_query_get(struct evhttp_request *req, const char *key)
{
	json_t *q = request_query(req);
	json_t *v = json_array_get(json_object_get(q, key), 0);
	char *r = v ? xstrdup(json_string_value(v)) : NULL;
	json_decref(q);
	return r;
}

json_t *http_query_all(struct evhttp_request *req, const char *key)
{
	json_t *q = request_query(req);
	json_t *arr = json_object_get(q, key);
	json_t *r = arr ? json_incref(arr) : json_array();
	json_decref(q);
	return r;
}

int http_query_bool(struct evhttp_request *req, const char *key, bool dflt, bool *out)
{
	_cleanup_free_ char *v = http_query_get(req, key);
	*out = dflt;
	if (!v)
		return 0;
	if (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*out = true;
	else if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*out = false;
	else if (*v == '\0')
		*out = dflt;
	else
		return -EINVAL;
	return 0;
}

const char *http_request_peer(struct evhttp_request *req)
{
	static __thread char buf[INET6_ADDRSTRLEN + 1];
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	char *host = NULL;
	ev_uint16_t port = 0;
	buf[0] = '\0';
	if (evcon) {
		evhttp_connection_get_peer(evcon, &host, &port);
		if (host)
			snprintf(buf, sizeof(buf), "%s", host);
	}
	return buf;
}

/* ---- replies ---- */

static void set_default_type(struct evhttp_request *req, const char *type)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	if (type && !evhttp_find_header(h, "Content-Type"))
		evhttp_add_header(h, "Content-Type", type);
}

static void reply_bytes(struct evhttp_request *req, int code, const char *type, const char *data,
			size_t len)
{
	observe_end(req, code, false);
	set_default_type(req, type);
	struct evbuffer *buf = evbuffer_new();
	if (buf && len)
		evbuffer_add(buf, data, len);
	evhttp_send_reply(req, code, NULL, buf);
	if (buf)
		evbuffer_free(buf);
}

void http_reply_json(struct evhttp_request *req, int code, json_t *json)
{
	char *s = json ? json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15)) : NULL;
	json_decref(json);
	if (!s)
		s = xstrdup("null");
	reply_bytes(req, code, "application/json", s, strlen(s));
	free(s);
}

void http_reply_message(struct evhttp_request *req, int code, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	/* Text quoted from a user's input may be invalid UTF-8, which JSON cannot carry. */
	json_t *msg = json_string(strbuf_str(&sb));
	if (!msg)
		msg = json_string("(message not valid UTF-8)");
	strbuf_release(&sb);
	http_reply_json(req, code, json_pack("{s:o}", "message", msg));
}

void http_reply_text(struct evhttp_request *req, int code, const char *text)
{
	reply_bytes(req, code, "text/plain; charset=utf-8", text ? text : "",
		    text ? strlen(text) : 0);
}

void http_reply_bytes(struct evhttp_request *req, int code, const char *type, const char *data,
		      size_t len)
{
	reply_bytes(req, code, type, data, len);
}

/* libevent writes at most 16 KiB a turn of the loop by default: a 300 KiB answer took 19
 * turns (and as many epoll_wait calls). Larger answers are let out in bigger writes, up to
 * this much a turn (the kernel's socket buffer takes what it takes, a few MiB at most, so a
 * turn stays short). At 1 MiB a 5 MB answer took 5+ turns and cost berth 2.5 ms of CPU and
 * ab 4.0 ms an answer; at 8 MiB 1.4 and 2.9 (bench/read, 1,000 apps x 10 tasks). */
#define BIG_WRITE (8u << 20)

void http_reply_evbuffer(struct evhttp_request *req, int code, const char *type,
			 struct evbuffer *buf)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	if (bev && evbuffer_get_length(buf) > 16384) {
		bufferevent_set_max_single_write(bev, BIG_WRITE);
		/* The body's last partial segment must not wait for the client's delayed ACK
		 * (Nagle: up to 40 ms) when the headers or the body's start went out in an
		 * earlier write. */
		int one = 1;
		evutil_socket_t fd = bufferevent_getfd(bev);
		if (fd >= 0)
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	observe_end(req, code, false);
	set_default_type(req, type);
	evhttp_send_reply(req, code, NULL, buf);
	evbuffer_free(buf);
}

void http_add_header(struct evhttp_request *req, const char *key, const char *value)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), key, value);
}

/* ---- libevent's own error answers ----
 *
 * evhttp answers some requests itself, and the handler never sees them: 400 for a malformed
 * request line or header (or headers over HTTP_MAX_HEADERS_SIZE), 413 for a body over
 * max_body, 417 for an Expect other than 100-continue, 501 for a method it does not allow.
 * It writes every one of them through evhttp_send_error, as an HTML page, and libevent 2.1
 * has no hook for that page (evhttp_set_errorcb came with 2.2). So berth defines
 * evhttp_send_error itself: libevent calls it through its PLT (Debian's 2.1.12 does, at
 * every call site), so the definition in the program interposes on the library's for
 * libevent's own calls too, as a program's malloc does for libc's. A libevent linked
 * statically would fail to link (two definitions), not fall back silently; one that binds
 * its calls directly would bring the HTML back, which tests/unit/test-http.c catches.
 *
 * The answer is the one every other berth error has: {"message": "<reason>"} as
 * application/json, with Connection: close, as evhttp's own page had. It is the same on
 * every path: for 400 and 413 evhttp has dropped the request's URI before it gets here. */

static const char *error_phrase(int code)
{
	switch (code) {
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Request Entity Too Large";
	case 417: return "Expectation Failed";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	}
	return code >= 500 ? "Server Error" : "Client Error";
}

void evhttp_send_error(struct evhttp_request *req, int error, const char *reason)
{
	if (!reason)
		reason = error_phrase(error);
	json_t *j = json_pack("{s:s}", "message", reason);
	char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	struct evbuffer *buf = body ? evbuffer_new() : NULL;
	if (!buf || evbuffer_add(buf, body, strlen(body)) < 0) {
		/* Out of memory: drop the connection, as evhttp does. */
		struct evhttp_connection *evcon = evhttp_request_get_connection(req);
		if (evcon)
			evhttp_connection_free(evcon);
		else
			evhttp_request_free(req);
		if (buf)
			evbuffer_free(buf);
		free(body);
		return;
	}
	free(body);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_clear_headers(h);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Connection", "close");
	/* A request line that did not parse left no version; evhttp answers these 1.1. */
	if (!req->major || !req->minor) {
		req->major = 1;
		req->minor = 1;
	}
	evhttp_send_reply(req, error, reason, buf);
	evbuffer_free(buf);
}

/* ---- streams ---- */

struct http_stream {
	struct event_base *base;
	struct evhttp_request *req;       /* NULL once given back to evhttp or freed */
	struct evhttp_connection *evcon;  /* NULL once the connection is gone or released */
	struct evbuffer *chunk;
	size_t max_pending;
	http_stream_close_fn on_close;
	void *ctx;
	bool closing; /* left OPEN: writes fail, the deferred close is scheduled */
	bool cut;     /* the deferred close must drop the connection */
	bool chunked; /* evhttp chose chunked framing (an HTTP/1.1 client) */
	bool last_ref; /* the last thing queued was a reference (see queue_copy) */
	bool nobody;   /* a HEAD request: writes are dropped, as evhttp would */
	struct http_stream *prev, *next; /* all open streams (the global backlog bound) */
};

/* ---- the global backlog bound ----
 *
 * Invariants:
 *  - Every stream from http_stream_start until its deferred close is on `g_streams`.
 *  - After any write, the bytes queued and unsent on all streams that are not closing
 *    exceed g_budget by at most g_step (the scan runs once g_step bytes were queued since
 *    the previous one); past g_budget the streams with the largest backlogs are cut, the
 *    largest first, until the rest fit. So the master's memory for slow readers is bounded
 *    across connections, not only per connection (max_pending). */
static struct http_stream *g_streams;
static size_t g_budget = HTTP_DEFAULT_STREAM_BUDGET;
static size_t g_since_scan;
static unsigned long long g_cut_total;
static size_t g_high, g_high_logged; /* backlog high-water mark since the last trim; logged */
static uint64_t g_trim_usec;

static size_t budget_step(void)
{
	size_t step = g_budget / 64;
	return step < 65536 ? 65536 : step;
}

void http_stream_set_budget(size_t bytes)
{
	g_budget = bytes;
	g_since_scan = 0;
}

unsigned long long http_stream_budget_cuts(void)
{
	return g_cut_total;
}

static void stream_schedule_close(struct http_stream *st);

struct backlog {
	size_t pending;
	struct http_stream *st;
};

static int backlog_desc(const void *a, const void *b)
{
	size_t x = ((const struct backlog *)a)->pending, y = ((const struct backlog *)b)->pending;
	return x < y ? 1 : x > y ? -1 : 0;
}

/* A burst's backlog drained: hand the freed chains back to the system (at most once a
 * second; events_tick trims too, every 10 s). */
static void maybe_trim(size_t total)
{
	uint64_t now = time_mono_usec();
	if (g_high >= ((size_t)64 << 20) && total < g_high / 4 && now - g_trim_usec > 1000000) {
		g_trim_usec = now;
		g_high = total;
		malloc_trim(0);
	}
}

static size_t backlog_total(void)
{
	size_t total = 0;
	for (struct http_stream *st = g_streams; st; st = st->next)
		if (!st->closing)
			total += http_stream_pending(st);
	return total;
}

/* Streams closing after a large backlog, or many of them (the readers left): trim a second
 * later (at most once a second), when no write may come to run the scan. */
static bool g_trim_timer;

static unsigned g_closed_since_trim;

static void trim_later(evutil_socket_t fd, short what, void *arg)
{
	g_trim_timer = false;
	size_t total = backlog_total();
	if (g_closed_since_trim >= 64) {
		/* many readers left: their buffers (and their connections') are free now */
		g_trim_usec = time_mono_usec();
		g_high = total;
		malloc_trim(0);
	} else {
		g_trim_usec = 0;
		maybe_trim(total);
	}
	g_closed_since_trim = 0;
}

static void trim_check_soon(struct event_base *base)
{
	g_closed_since_trim++;
	if (g_trim_timer || !base || (g_high < ((size_t)64 << 20) && g_closed_since_trim < 64))
		return;
	const struct timeval one = { 1, 0 };
	if (event_base_once(base, -1, EV_TIMEOUT, trim_later, NULL, &one) == 0)
		g_trim_timer = true;
}

static void budget_scan(void)
{
	g_since_scan = 0;
	size_t total = 0, n = 0;
	for (struct http_stream *st = g_streams; st; st = st->next) {
		if (!st->closing) {
			total += http_stream_pending(st);
			n++;
		}
	}
	if (total > g_high_logged && total >= ((size_t)16 << 20)) {
		log_info("http", "%zu bytes queued to stream readers in all (%zu streams; bound "
			 "%zu)", total, n, g_budget);
		g_high_logged = total * 2;
	}
	if (total > g_high)
		g_high = total;
	maybe_trim(total);
	if (total <= g_budget || n == 0)
		return;
	struct backlog *v = xcalloc(n, sizeof(*v));
	size_t k = 0;
	for (struct http_stream *st = g_streams; st && k < n; st = st->next)
		if (!st->closing)
			v[k++] = (struct backlog){ http_stream_pending(st), st };
	qsort(v, k, sizeof(*v), backlog_desc);
	for (size_t i = 0; i < k && total > g_budget && v[i].pending > 0; i++) {
		log_warn("http", "cutting a stream with %zu bytes unsent: %zu bytes queued to slow "
			 "readers in all, over the bound of %zu", v[i].pending, total, g_budget);
		total -= v[i].pending;
		v[i].st->cut = true;
		g_cut_total++;
		stream_schedule_close(v[i].st);
	}
	free(v);
}

/* Counts bytes queued; scans all streams once a step's worth was queued since the last. */
static void budget_note(size_t len)
{
	g_since_scan += len;
	if (g_since_scan >= budget_step())
		budget_scan();
}

static void stream_unlink(struct http_stream *st)
{
	if (st->prev)
		st->prev->next = st->next;
	else if (g_streams == st)
		g_streams = st->next;
	if (st->next)
		st->next->prev = st->prev;
	st->prev = st->next = NULL;
}

static void stream_deferred(evutil_socket_t fd, short what, void *arg)
{
	struct http_stream *st = arg;
	stream_unlink(st);
	trim_check_soon(st->base);
	if (st->cut && st->evcon) {
		/* Freeing the connection frees the request still attached to it. */
		evhttp_connection_set_closecb(st->evcon, NULL, NULL);
		evhttp_connection_free(st->evcon);
		st->evcon = NULL;
		st->req = NULL;
	}
	if (st->on_close)
		st->on_close(st, st->ctx);
	evbuffer_free(st->chunk);
	free(st);
}

/* Leaves OPEN: from here on_close runs once, from the event loop. */
static void stream_schedule_close(struct http_stream *st)
{
	if (st->closing)
		return;
	st->closing = true;
	const struct timeval zero = { 0, 0 };
	if (!st->base || event_base_once(st->base, -1, EV_TIMEOUT, stream_deferred, st, &zero) < 0)
		stream_deferred(-1, EV_TIMEOUT, st); /* out of memory: better early than never */
}

static void stream_conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct http_stream *st = arg;
	st->evcon = NULL;
	if (st->req && !evhttp_request_get_connection(st->req)) {
		/* Detached by evhttp: ours to free. */
		evhttp_send_reply_end(st->req);
	}
	/* Otherwise evhttp frees the still-attached request right after this callback. */
	st->req = NULL;
	stream_schedule_close(st);
}

struct http_stream *http_stream_start(struct event_base *base, struct evhttp_request *req,
				      int code,
				      const char *content_type, size_t max_pending,
				      http_stream_close_fn on_close, void *ctx)
{
	observe_end(req, code, true);
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct http_stream *st = xcalloc(1, sizeof(*st));
	st->req = req;
	st->evcon = evcon;
	st->chunk = evbuffer_new();
	st->max_pending = max_pending;
	st->on_close = on_close;
	st->ctx = ctx;
	if (!st->chunk)
		abort();
	st->next = g_streams;
	if (g_streams)
		g_streams->prev = st;
	g_streams = st;
	if (!evcon) {
		/* The client went away before the stream started (evhttp detached the request,
		 * which is ours to free): on_close runs from the loop as for any other end. */
		evhttp_send_reply_end(req);
		st->req = NULL;
		st->base = base;
		stream_schedule_close(st);
		return st;
	}
	{
		st->base = evhttp_connection_get_base(evcon);
		if (!content_type)
			content_type = "application/octet-stream";
		set_default_type(req, content_type);
		struct evkeyvalq *h = evhttp_request_get_output_headers(req);
		if (str_has_prefix(content_type, "text/event-stream")) {
			if (!evhttp_find_header(h, "Cache-Control"))
				evhttp_add_header(h, "Cache-Control", "no-cache");
			if (!evhttp_find_header(h, "Connection"))
				evhttp_add_header(h, "Connection", "close");
		}
		evhttp_send_reply_start(req, code, NULL);
		st->chunked = req->chunked;
		st->nobody = evhttp_request_get_command(req) == EVHTTP_REQ_HEAD;
		evhttp_connection_set_closecb(evcon, stream_conn_closed, st);

		/* A stream may sit idle for long: no read timeout (the input is watched only
		 * for EOF and capped), but a client that stops reading while output waits is
		 * still dropped by the write timeout. */
		struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
		const struct timeval wtv = { HTTP_IDLE_TIMEOUT_SEC, 0 };
		bufferevent_set_timeouts(bev, NULL, &wtv);
		bufferevent_setwatermark(bev, EV_READ, 0, STREAM_INPUT_MAX);
		/* A stream's backlog is measured in the output buffer: let every write callback
		 * hand the socket all it will take (libevent's default is 16 KiB), so a reader
		 * that keeps up is never seen as behind. */
		bufferevent_set_max_single_write(bev, STREAM_MAX_SINGLE_WRITE);
	}
	return st;
}

size_t http_stream_pending(const struct http_stream *st)
{
	if (!st->evcon)
		return 0;
	struct bufferevent *bev = evhttp_connection_get_bufferevent(st->evcon);
	return bev ? evbuffer_get_length(bufferevent_get_output(bev)) : 0;
}

/* Writes go straight into the connection's output buffer, framed by us as evhttp would
 * (evhttp_send_reply_chunk: "<hex size>\r\n", the bytes, "\r\n" when chunked; nothing for
 * an HTTP/1.0 client). After evhttp_send_reply_start the connection only waits for its
 * output to drain, so nothing of evhttp's state changes per write; going round it saves a
 * printf, a callback reset and a buffer chain per record, and packs small records densely
 * (evbuffer_add fills the last chain) instead of one chain of 1 KiB or more each. */

static bool stream_check(struct http_stream *st, size_t len)
{
	if (st->closing || !st->req || !st->evcon)
		return false;
	size_t pending = http_stream_pending(st);
	if (len > st->max_pending || pending > st->max_pending - len) {
		st->cut = true;
		stream_schedule_close(st);
		return false;
	}
	return true;
}

static struct evbuffer *stream_output(struct http_stream *st)
{
	return bufferevent_get_output(evhttp_connection_get_bufferevent(st->evcon));
}

/* Copies bytes into the output. Right after a reference, the output's last chain is that
 * (immutable) reference and evbuffer_add would size the next chain after it, up to the
 * reference's whole length: stage small copies in st->chunk and move the chain over. */
static int queue_copy(struct http_stream *st, struct evbuffer *out, const void *data, size_t len)
{
	if (!st->last_ref || evbuffer_get_length(out) == 0)
		return evbuffer_add(out, data, len);
	st->last_ref = false;
	if (evbuffer_add(st->chunk, data, len) < 0)
		return -1;
	return evbuffer_add_buffer(out, st->chunk);
}

int http_stream_write(struct http_stream *st, const void *data, size_t len)
{
	if (len == 0)
		return st->closing || !st->req || !st->evcon ? -EPIPE : 0;
	if (!stream_check(st, len))
		return -EPIPE;
	if (st->nobody)
		return 0;
	struct evbuffer *out = stream_output(st);
	if (st->chunked) {
		char head[24];
		int n = snprintf(head, sizeof(head), "%zx\r\n", len);
		char small[1024];
		if (len + (size_t)n + 2 <= sizeof(small)) {
			/* one copy, so head, record and tail share a chain */
			memcpy(small, head, (size_t)n);
			memcpy(small + n, data, len);
			memcpy(small + n + len, "\r\n", 2);
			if (queue_copy(st, out, small, (size_t)n + len + 2) < 0)
				return -ENOMEM;
		} else if (queue_copy(st, out, head, (size_t)n) < 0 ||
			   evbuffer_add(out, data, len) < 0 || evbuffer_add(out, "\r\n", 2) < 0) {
			return -ENOMEM;
		}
	} else if (queue_copy(st, out, data, len) < 0) {
		return -ENOMEM;
	}
	budget_note(len);
	return 0;
}

/* The record framed once for every stream: "<hex size>\r\n" data "\r\n"; a stream without
 * chunked framing takes the middle. */
struct http_shared {
	size_t refs;
	size_t len;  /* the record */
	size_t head; /* bytes of "<hex size>\r\n" before it */
	char data[];
};

struct http_shared *http_shared_new(const void *data, size_t len)
{
	char head[24];
	int n = snprintf(head, sizeof(head), "%zx\r\n", len);
	struct http_shared *sh = xmalloc(sizeof(*sh) + (size_t)n + len + 2);
	sh->refs = 1;
	sh->len = len;
	sh->head = (size_t)n;
	memcpy(sh->data, head, (size_t)n);
	memcpy(sh->data + n, data, len);
	memcpy(sh->data + n + len, "\r\n", 2);
	return sh;
}

void http_shared_unref(struct http_shared *sh)
{
	if (sh && --sh->refs == 0)
		free(sh);
}

static void shared_cleanup(const void *data, size_t len, void *extra)
{
	http_shared_unref(extra);
}

int http_stream_write_shared(struct http_stream *st, struct http_shared *sh)
{
	if (sh->len == 0)
		return st->closing || !st->req || !st->evcon ? -EPIPE : 0;
	if (!stream_check(st, sh->len))
		return -EPIPE;
	if (st->nobody)
		return 0;
	struct evbuffer *out = stream_output(st);
	const char *p = st->chunked ? sh->data : sh->data + sh->head;
	size_t n = st->chunked ? sh->head + sh->len + 2 : sh->len;
	/* A small record is cheaper copied (packed into the current chain) than referenced
	 * (a chain of its own, and the next copy wants a fresh chain after it). */
	if (n < 4096) {
		if (queue_copy(st, out, p, n) < 0)
			return -ENOMEM;
	} else {
		sh->refs++;
		if (evbuffer_add_reference(out, p, n, shared_cleanup, sh) < 0) {
			sh->refs--;
			return -ENOMEM;
		}
		st->last_ref = true;
	}
	budget_note(sh->len);
	return 0;
}

void http_stream_close(struct http_stream *st)
{
	if (st->closing)
		return;
	if (st->req && st->evcon) {
		evhttp_connection_set_closecb(st->evcon, NULL, NULL);
		/* The connection may serve further requests: give it back evhttp's settings. */
		struct bufferevent *bev = evhttp_connection_get_bufferevent(st->evcon);
		const struct timeval tv = { HTTP_IDLE_TIMEOUT_SEC, 0 };
		bufferevent_set_timeouts(bev, &tv, &tv);
		bufferevent_setwatermark(bev, EV_READ, 0, 0);
		/* The request now belongs to evhttp, which frees it once the end is sent. */
		evhttp_send_reply_end(st->req);
	}
	st->req = NULL;
	st->evcon = NULL;
	stream_schedule_close(st);
}
