/* Unit tests for net/http: pure helpers, then a real server on 127.0.0.1:0 running its
 * event loop in a second thread, driven by raw sockets from the test thread. Only the
 * server thread touches libevent; results come back through atomics. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/bufferevent.h>

#include "base/mem.h"
#include "base/metrics.h"
#include "base/strbuf.h"
#include "base/util.h"
#include "net/http.h"

#define MAX_BODY 1000
#define STREAM_MAX_PENDING (64 * 1024)

/* ---- pure helpers ---- */

static void test_query_parse(void **state)
{
	json_t *q = NULL;
	assert_int_equal(http_query_parse("a=1&b=x+y&a=two%20words&flag&=skip&c=%00&d=%ff&"
					  "event%5Ftype=e&&", &q), 0);
	char *s = json_dumps(q, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(s, "{\"a\":[\"1\",\"two words\"],\"b\":[\"x y\"],"
			       "\"event_type\":[\"e\"],\"flag\":[\"\"]}");
	free(s);
	json_decref(q);

	assert_int_equal(http_query_parse(NULL, &q), 0);
	assert_int_equal(json_object_size(q), 0);
	json_decref(q);
	assert_int_equal(http_query_parse("", &q), 0);
	assert_int_equal(json_object_size(q), 0);
	json_decref(q);

	struct strbuf sb = STRBUF_INIT;
	for (int i = 0; i <= HTTP_QUERY_MAX_PARAMS; i++)
		strbuf_addf(&sb, "k%d=v&", i);
	assert_int_equal(http_query_parse(strbuf_str(&sb), &q), -E2BIG);
	assert_null(q);
	strbuf_release(&sb);
}

static void test_json_parse(void **state)
{
	char err[160];
	json_t *j = NULL;
	assert_int_equal(http_json_parse("{\"a\":1}", 7, &j, err, sizeof(err)), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "a")), 1);
	json_decref(j);

	assert_int_equal(http_json_parse("", 0, &j, err, sizeof(err)), -EINVAL);
	assert_null(j);
	assert_string_equal(err, "No content to map due to end-of-input");
	assert_int_equal(http_json_parse(" \n", 2, &j, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "No content to map due to end-of-input");

	assert_int_equal(http_json_parse("{\n \"a\": }", 10, &j, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "at line 2, column"));
	assert_int_equal(http_json_parse("{\"a\":1} x", 9, &j, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "end of file expected"));
}

static void test_method_names(void **state)
{
	assert_string_equal(http_method_name(EVHTTP_REQ_GET), "GET");
	assert_string_equal(http_method_name(EVHTTP_REQ_PATCH), "PATCH");
	assert_string_equal(http_method_name(EVHTTP_REQ_DELETE), "DELETE");
}

/* ---- server fixture ---- */

enum stream_mode { MODE_FLOOD, MODE_RECORDS, MODE_CLOSE };

struct stream_ctx {
	struct http_stream *st;
	struct event *tick;
	enum stream_mode mode;
	atomic_int closes;
	atomic_int epipe;
	atomic_int reentered;
	atomic_int bad; /* unexpected results seen in the server thread */
	bool in_call;
};

static struct {
	struct event_base *base;
	struct http_server *srv;
	pthread_t thread;
	int stop_pipe[2];
	struct event *stop_ev;
	atomic_int body_runs;
	struct stream_ctx sc;
} g;

static void stream_on_close(struct http_stream *st, void *ctx)
{
	struct stream_ctx *sc = ctx;
	if (sc->in_call)
		atomic_fetch_add(&sc->reentered, 1);
	if (sc->tick) {
		event_free(sc->tick);
		sc->tick = NULL;
	}
	sc->st = NULL;
	atomic_fetch_add(&sc->closes, 1);
}

static int sc_write(struct stream_ctx *sc, const void *data, size_t len)
{
	sc->in_call = true;
	int r = http_stream_write(sc->st, data, len);
	sc->in_call = false;
	if (r == -EPIPE)
		atomic_fetch_add(&sc->epipe, 1);
	return r;
}

static void flood_tick(evutil_socket_t fd, short what, void *arg)
{
	static char block[16 * 1024];
	struct stream_ctx *sc = arg;
	memset(block, 'x', sizeof(block));
	for (int i = 0; i < 4 && sc->st; i++) {
		if (sc_write(sc, block, sizeof(block)) < 0) {
			event_del(sc->tick);
			return;
		}
	}
}

static void start_stream(struct evhttp_request *req, enum stream_mode mode)
{
	struct stream_ctx *sc = &g.sc;
	sc->mode = mode;
	sc->st = http_stream_start(g.base, req, 200, "application/json", STREAM_MAX_PENDING,
				   stream_on_close, sc);
	if (mode == MODE_FLOOD) {
		/* Keep the kernel's buffers small so that bytes pile up in ours. */
		struct evhttp_connection *evcon = evhttp_request_get_connection(req);
		int fd = bufferevent_getfd(evhttp_connection_get_bufferevent(evcon));
		int sz = 4096;
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		sc->tick = event_new(g.base, -1, EV_PERSIST, flood_tick, sc);
		const struct timeval tv = { 0, 1000 };
		event_add(sc->tick, &tv);
		return;
	}
	for (int i = 1; i <= 3; i++) {
		char rec[32];
		int n = snprintf(rec, sizeof(rec), "{\"rec\":%d}\n", i);
		sc_write(sc, rec, (size_t)n);
	}
	if (mode == MODE_CLOSE) {
		sc->in_call = true;
		http_stream_close(sc->st);
		sc->in_call = false;
		/* Closing twice or writing after the close is harmless until on_close. */
		if (http_stream_write(sc->st, "x", 1) != -EPIPE)
			atomic_fetch_add(&sc->bad, 1);
		http_stream_close(sc->st);
	}
}

static void handler(struct evhttp_request *req, void *ctx)
{
	_cleanup_free_ char *path = http_request_path(req);
	if (!path) {
		http_reply_message(req, 400, "bad path");
	} else if (strcmp(path, "/json") == 0) {
		http_add_header(req, "X-Test", "yes");
		http_reply_json(req, 200, json_pack("{s:i,s:s}", "a", 1, "method",
						    http_method_name(evhttp_request_get_command(req))));
	} else if (strcmp(path, "/body") == 0) {
		atomic_fetch_add(&g.body_runs, 1);
		size_t len = 0;
		_cleanup_free_ char *body = http_request_body(req, &len);
		_cleanup_free_ char *txt = xasprintf("%zu", len);
		http_reply_text(req, 200, txt);
	} else if (strcmp(path, "/jsonbody") == 0) {
		char err[160];
		json_t *j = NULL;
		if (http_request_json(req, &j, err, sizeof(err)) < 0)
			http_reply_message(req, 400, "%s", err);
		else
			http_reply_json(req, 200, j);
	} else if (strcmp(path, "/query") == 0) {
		bool flag = false, missing = true;
		int bad = http_query_bool(req, "bad", false, &missing);
		int rf = http_query_bool(req, "flag", false, &flag);
		bool dflt = false;
		http_query_bool(req, "absent", true, &dflt);
		_cleanup_free_ char *first = http_query_get(req, "a");
		char *none = http_query_get(req, "none");
		http_reply_json(req, 200, json_pack("{s:o,s:s?,s:b,s:i,s:i,s:b,s:b,s:s}",
						    "all", http_query_all(req, "a"), "first", first,
						    "flag", flag, "flag_rc", rf, "bad_rc", bad,
						    "absent", dflt, "none", none != NULL,
						    "peer", http_request_peer(req)));
		free(none);
	} else if (strcmp(path, "/stream/flood") == 0) {
		start_stream(req, MODE_FLOOD);
	} else if (strcmp(path, "/stream/records") == 0) {
		start_stream(req, MODE_RECORDS);
	} else if (strcmp(path, "/stream/close") == 0) {
		start_stream(req, MODE_CLOSE);
	} else if (strcmp(path, "/apps/a b/%2F") == 0) {
		http_reply_text(req, 200, "decoded");
	} else {
		http_reply_message(req, 404, "App '%s' does not exist", path);
	}
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopexit(g.base, NULL);
}

static void *loop_thread(void *arg)
{
	event_base_dispatch(g.base);
	return NULL;
}

static int server_setup(void **state)
{
	memset(&g, 0, sizeof(g));
	g.base = event_base_new();
	if (!g.base)
		return -1;
	if (http_server_new(g.base, "127.0.0.1", 0, MAX_BODY, handler, NULL, &g.srv) < 0)
		return -1;
	if (pipe2(g.stop_pipe, O_CLOEXEC) < 0)
		return -1;
	g.stop_ev = event_new(g.base, g.stop_pipe[0], EV_READ, stop_cb, NULL);
	event_add(g.stop_ev, NULL);
	return pthread_create(&g.thread, NULL, loop_thread, NULL) == 0 ? 0 : -1;
}

static int server_teardown(void **state)
{
	if (write(g.stop_pipe[1], "x", 1) != 1)
		return -1;
	pthread_join(g.thread, NULL);
	http_server_free(g.srv);
	/* Let deferred stream closes scheduled by the shutdown run. */
	event_base_loop(g.base, EVLOOP_NONBLOCK);
	event_free(g.stop_ev);
	close(g.stop_pipe[0]);
	close(g.stop_pipe[1]);
	event_base_free(g.base);
	return 0;
}

/* ---- raw client ---- */

static int client_connect(int rcvbuf)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	struct timeval tv = { 5, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(http_server_port(g.srv)) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void send_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return; /* the server may close early (413) */
		data += n;
		len -= (size_t)n;
	}
}

/* Sends req and reads the whole answer (the requests say Connection: close). */
static char *roundtrip(const char *req, size_t len)
{
	int fd = client_connect(0);
	send_all(fd, req, len);
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	ssize_t n;
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		strbuf_add(&sb, buf, (size_t)n);
	close(fd);
	return strbuf_detach(&sb, NULL);
}

static char *get(const char *method, const char *target)
{
	_cleanup_free_ char *req = xasprintf("%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
					     method, target);
	return roundtrip(req, strlen(req));
}

static const char *body_of(const char *resp)
{
	const char *p = strstr(resp, "\r\n\r\n");
	assert_non_null(p);
	return p + 4;
}

/* Waits (bounded) until *v reaches want. */
static int wait_for(atomic_int *v, int want)
{
	for (int i = 0; i < 1000 && atomic_load(v) < want; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return atomic_load(v);
}

/* ---- server tests ---- */

/* An answer evhttp makes itself: JSON like ours, and the connection closed. */
static void assert_json_error(const char *resp, const char *body)
{
	assert_non_null(strstr(resp, "\r\nContent-Type: application/json\r\n"));
	assert_non_null(strstr(resp, "\r\nConnection: close\r\n"));
	assert_null(strstr(resp, "text/html"));
	assert_string_equal(body_of(resp), body);
}

static void test_reply_json(void **state)
{
	_cleanup_free_ char *r = get("GET", "/json");
	assert_true(str_has_prefix(r, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(r, "\r\nContent-Type: application/json\r\n"));
	assert_non_null(strstr(r, "\r\nX-Test: yes\r\n"));
	assert_string_equal(body_of(r), "{\"a\":1,\"method\":\"GET\"}");

	_cleanup_free_ char *p = get("PATCH", "/json");
	assert_true(str_has_prefix(p, "HTTP/1.1 200 OK\r\n"));
	assert_string_equal(body_of(p), "{\"a\":1,\"method\":\"PATCH\"}");

	_cleanup_free_ char *t = get("TRACE", "/json");
	assert_true(str_has_prefix(t, "HTTP/1.1 501 "));
	assert_json_error(t, "{\"message\":\"Not Implemented\"}");
}

static void test_evhttp_errors_are_json(void **state)
{
	static const char *const bad400[] = {
		"GARBAGE\r\n\r\n",                                  /* no request line */
		"GET /json\r\nHost: x\r\n\r\n",                     /* no version */
		"GET /json HTTP/x.y\r\nHost: x\r\n\r\n",            /* bad version */
		"GET /json HTTP/1.1\r\nNo colon here\r\n\r\n",      /* bad header line */
		"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: -3\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad400) / sizeof(bad400[0]); i++) {
		_cleanup_free_ char *r = roundtrip(bad400[i], strlen(bad400[i]));
		assert_true(str_has_prefix(r, "HTTP/1.1 400 Bad Request\r\n"));
		assert_json_error(r, "{\"message\":\"Bad Request\"}");
	}
	/* An Expect evhttp does not know. */
	static const char expect[] = "POST /body HTTP/1.1\r\nHost: x\r\nExpect: magic\r\n"
				     "Content-Length: 2\r\n\r\nab";
	_cleanup_free_ char *e = roundtrip(expect, strlen(expect));
	assert_true(str_has_prefix(e, "HTTP/1.1 417 "));
	assert_json_error(e, "{\"message\":\"Expectation Failed\"}");
}

static void test_reply_message_404(void **state)
{
	_cleanup_free_ char *r = get("GET", "/v2/apps/x");
	assert_true(str_has_prefix(r, "HTTP/1.1 404 Not Found\r\n"));
	assert_non_null(strstr(r, "\r\nContent-Type: application/json\r\n"));
	assert_string_equal(body_of(r), "{\"message\":\"App '/v2/apps/x' does not exist\"}");

	/* The path is decoded (but '+' is kept, and %2F becomes '/'). */
	_cleanup_free_ char *d = get("GET", "/apps/a%20b/%252F?x=1");
	assert_true(str_has_prefix(d, "HTTP/1.1 200 OK\r\n"));
	_cleanup_free_ char *z = get("GET", "/a%00b");
	assert_true(str_has_prefix(z, "HTTP/1.1 400 "));
	assert_string_equal(body_of(z), "{\"message\":\"bad path\"}");
}

static void test_body_limit(void **state)
{
	char *body = xmalloc(MAX_BODY + 1);
	memset(body, 'b', MAX_BODY + 1);
	for (int over = 0; over <= 1; over++) {
		size_t blen = MAX_BODY + (size_t)over;
		int runs = atomic_load(&g.body_runs);
		_cleanup_free_ char *hdr = xasprintf("POST /body HTTP/1.1\r\nHost: x\r\n"
						     "Connection: close\r\nContent-Length: %zu\r\n\r\n",
						     blen);
		struct strbuf req = STRBUF_INIT;
		strbuf_adds(&req, hdr);
		strbuf_add(&req, body, blen);
		_cleanup_free_ char *r = roundtrip(strbuf_str(&req), req.len);
		strbuf_release(&req);
		if (over) {
			assert_true(str_has_prefix(r, "HTTP/1.1 413 "));
			assert_json_error(r, "{\"message\":\"Request Entity Too Large\"}");
			assert_int_equal(atomic_load(&g.body_runs), runs);
		} else {
			assert_true(str_has_prefix(r, "HTTP/1.1 200 OK\r\n"));
			assert_string_equal(body_of(r), "1000");
			assert_int_equal(atomic_load(&g.body_runs), runs + 1);
		}
	}

	/* A chunked body over the limit is refused as well. */
	int runs = atomic_load(&g.body_runs);
	struct strbuf req = STRBUF_INIT;
	strbuf_adds(&req, "POST /body HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
			  "Transfer-Encoding: chunked\r\n\r\n");
	strbuf_addf(&req, "%x\r\n", MAX_BODY / 2);
	strbuf_add(&req, body, MAX_BODY / 2);
	strbuf_addf(&req, "\r\n%x\r\n", MAX_BODY / 2 + 1);
	strbuf_add(&req, body, MAX_BODY / 2 + 1);
	strbuf_adds(&req, "\r\n0\r\n\r\n");
	_cleanup_free_ char *r = roundtrip(strbuf_str(&req), req.len);
	strbuf_release(&req);
	assert_true(str_has_prefix(r, "HTTP/1.1 413 "));
	assert_int_equal(atomic_load(&g.body_runs), runs);
	free(body);
}

static void test_json_body(void **state)
{
	static const char bad[] = "POST /jsonbody HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
				  "Content-Length: 5\r\n\r\n{\"a\":";
	_cleanup_free_ char *r = roundtrip(bad, strlen(bad));
	assert_true(str_has_prefix(r, "HTTP/1.1 400 "));
	assert_non_null(strstr(body_of(r), "at line 1, column 5"));

	static const char empty[] = "POST /jsonbody HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
				    "Content-Length: 0\r\n\r\n";
	_cleanup_free_ char *e = roundtrip(empty, strlen(empty));
	assert_string_equal(body_of(e),
			    "{\"message\":\"No content to map due to end-of-input\"}");

	static const char ok[] = "PUT /jsonbody HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
				 "Content-Length: 9\r\n\r\n[1, \"2\"]\n";
	_cleanup_free_ char *o = roundtrip(ok, strlen(ok));
	assert_true(str_has_prefix(o, "HTTP/1.1 200 OK\r\n"));
	assert_string_equal(body_of(o), "[1,\"2\"]");
}

static void test_query(void **state)
{
	_cleanup_free_ char *r = get("GET", "/query?a=1&flag=TRUE&a=two+words&bad=maybe&a=%41");
	json_error_t je;
	json_t *j = json_loads(body_of(r), 0, &je);
	assert_non_null(j);
	char *all = json_dumps(json_object_get(j, "all"), JSON_COMPACT);
	assert_string_equal(all, "[\"1\",\"two words\",\"A\"]");
	free(all);
	assert_string_equal(json_string_value(json_object_get(j, "first")), "1");
	assert_true(json_is_true(json_object_get(j, "flag")));
	assert_int_equal(json_integer_value(json_object_get(j, "flag_rc")), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "bad_rc")), -EINVAL);
	assert_true(json_is_true(json_object_get(j, "absent")));
	assert_true(json_is_false(json_object_get(j, "none")));
	assert_string_equal(json_string_value(json_object_get(j, "peer")), "127.0.0.1");
	json_decref(j);

	_cleanup_free_ char *z = get("GET", "/query?flag=0&a");
	j = json_loads(body_of(z), 0, &je);
	assert_non_null(j);
	assert_true(json_is_false(json_object_get(j, "flag")));
	assert_string_equal(json_string_value(json_object_get(j, "first")), "");
	json_decref(j);
}

static void reset_stream_ctx(void)
{
	atomic_store(&g.sc.closes, 0);
	atomic_store(&g.sc.epipe, 0);
	atomic_store(&g.sc.reentered, 0);
	atomic_store(&g.sc.bad, 0);
}

static void test_stream_close(void **state)
{
	reset_stream_ctx();
	_cleanup_free_ char *r = get("GET", "/stream/close");
	assert_true(str_has_prefix(r, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(r, "\r\nTransfer-Encoding: chunked\r\n"));
	/* One chunk per record, then the terminating chunk. */
	assert_string_equal(body_of(r), "a\r\n{\"rec\":1}\n\r\na\r\n{\"rec\":2}\n\r\n"
					"a\r\n{\"rec\":3}\n\r\n0\r\n\r\n");
	assert_int_equal(wait_for(&g.sc.closes, 1), 1);
	assert_int_equal(atomic_load(&g.sc.reentered), 0);
	assert_int_equal(atomic_load(&g.sc.bad), 0);
}

/* After a stream ends normally on a keep-alive connection, the connection serves the next
 * request (evhttp's own timeouts and read state are given back). */
static void test_stream_close_keepalive(void **state)
{
	reset_stream_ctx();
	int fd = client_connect(0);
	static const char req1[] = "GET /stream/close HTTP/1.1\r\nHost: x\r\n\r\n";
	send_all(fd, req1, strlen(req1));
	struct strbuf sb = STRBUF_INIT;
	char buf[1024];
	while (!strstr(strbuf_str(&sb), "\r\n0\r\n\r\n")) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		assert_true(n > 0);
		strbuf_add(&sb, buf, (size_t)n);
	}
	strbuf_release(&sb);
	static const char req2[] = "GET /json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	send_all(fd, req2, strlen(req2));
	ssize_t n;
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		strbuf_add(&sb, buf, (size_t)n);
	close(fd);
	assert_true(str_has_prefix(strbuf_str(&sb), "HTTP/1.1 200 OK\r\n"));
	assert_string_equal(body_of(strbuf_str(&sb)), "{\"a\":1,\"method\":\"GET\"}");
	strbuf_release(&sb);
	assert_int_equal(wait_for(&g.sc.closes, 1), 1);
}

static void test_stream_client_disconnect(void **state)
{
	reset_stream_ctx();
	int fd = client_connect(0);
	static const char req[] = "GET /stream/records HTTP/1.1\r\nHost: x\r\n\r\n";
	send_all(fd, req, strlen(req));
	struct strbuf sb = STRBUF_INIT;
	char buf[1024];
	while (!strstr(strbuf_str(&sb), "{\"rec\":3}")) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		assert_true(n > 0);
		strbuf_add(&sb, buf, (size_t)n);
	}
	assert_int_equal(atomic_load(&g.sc.closes), 0);
	strbuf_release(&sb);
	close(fd);
	assert_int_equal(wait_for(&g.sc.closes, 1), 1);
	/* And never again. */
	struct timespec ts = { 0, 200 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	assert_int_equal(atomic_load(&g.sc.closes), 1);
	assert_int_equal(atomic_load(&g.sc.reentered), 0);
}

static void test_stream_slow_reader_cut_off(void **state)
{
	reset_stream_ctx();
	int fd = client_connect(4096);
	static const char req[] = "GET /stream/flood HTTP/1.1\r\nHost: x\r\n\r\n";
	send_all(fd, req, strlen(req));
	/* Read nothing: the server must give up on us. */
	assert_int_equal(wait_for(&g.sc.closes, 1), 1);
	assert_int_equal(atomic_load(&g.sc.epipe), 1);
	assert_int_equal(atomic_load(&g.sc.reentered), 0);
	/* The connection is gone: reading drains what was sent, then EOF or reset — not
	 * the 5 s receive timeout. Far less than the flood arrives. */
	size_t total = 0;
	char buf[16384];
	ssize_t n;
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		total += (size_t)n;
	assert_true(n == 0 || errno == ECONNRESET);
	assert_true(total < 16 * 1024 * 1024);
	close(fd);
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	assert_int_equal(atomic_load(&g.sc.closes), 1);
}

static void test_bind_errors(void **state)
{
	struct event_base *base = event_base_new();
	struct http_server *a = NULL, *b = NULL;
	assert_int_equal(http_server_new(base, "not-an-ip", 0, 10, handler, NULL, &a), -EINVAL);
	assert_null(a);
	assert_int_equal(http_server_new(base, "localhost", 0, 10, handler, NULL, &a), 0);
	assert_true(http_server_port(a) > 0);
	assert_int_equal(http_server_new(base, "127.0.0.1", http_server_port(a), 10, handler, NULL,
					 &b), -EADDRINUSE);
	assert_null(b);
	/* IPv6 loopback, when the machine has it. */
	int r = http_server_new(base, "[::1]", 0, 10, handler, NULL, &b);
	assert_true(r == 0 || r == -EADDRNOTAVAIL || r == -EAFNOSUPPORT);
	http_server_free(b);
	http_server_free(a);
	http_server_free(NULL);
	event_base_free(base);
}

/* ---- observation (metrics) ----
 * A server with http_server_enable_metrics; the registry is read only after the loop
 * thread has stopped (it belongs to that thread while it runs). */

static struct metrics *obs_reg;
static atomic_int obs_routes; /* route normalizer calls */

static const char *test_route(enum evhttp_cmd_type method, const char *path, void *ctx)
{
	(void)method;
	atomic_fetch_add(&obs_routes, 1);
	if (ctx != &obs_reg)
		return "bad-ctx";
	if (!strcmp(path, "/json") || !strcmp(path, "/body"))
		return strcmp(path, "/json") ? "/body" : "/json";
	if (str_has_prefix(path, "/stream/"))
		return "/stream/{mode}";
	return NULL;
}

static int observed_setup(void **state)
{
	obs_reg = metrics_new();
	memset(&g, 0, sizeof(g));
	g.base = event_base_new();
	if (!g.base)
		return -1;
	if (http_server_new(g.base, "127.0.0.1", 0, MAX_BODY, handler, NULL, &g.srv) < 0)
		return -1;
	if (http_server_enable_metrics(g.srv, obs_reg, "bad-prefix", test_route, &obs_reg) != -EINVAL)
		return -1;
	if (http_server_enable_metrics(g.srv, obs_reg, "berth", test_route, &obs_reg) < 0)
		return -1;
	if (pipe2(g.stop_pipe, O_CLOEXEC) < 0)
		return -1;
	g.stop_ev = event_new(g.base, g.stop_pipe[0], EV_READ, stop_cb, NULL);
	event_add(g.stop_ev, NULL);
	return pthread_create(&g.thread, NULL, loop_thread, NULL) == 0 ? 0 : -1;
}

/* The test stopped the loop already. */
static int observed_teardown(void **state)
{
	http_server_free(g.srv);
	event_base_loop(g.base, EVLOOP_NONBLOCK);
	event_free(g.stop_ev);
	close(g.stop_pipe[0]);
	close(g.stop_pipe[1]);
	event_base_free(g.base);
	metrics_free(obs_reg);
	return 0;
}

static void test_observed_requests(void **state)
{
	reset_stream_ctx();
	free(get("GET", "/json"));
	free(get("GET", "/json"));
	free(get("DELETE", "/v2/apps/%2e%2e/random-1234"));
	free(get("GET", "/stream/close"));
	assert_int_equal(wait_for(&g.sc.closes, 1), 1);
	/* 413 from evhttp itself: the handler never runs, nothing is observed */
	_cleanup_free_ char *big = xasprintf("POST /body HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
					     "Content-Length: %d\r\n\r\n", MAX_BODY + 1);
	_cleanup_free_ char *r413 = roundtrip(big, strlen(big));
	assert_true(str_has_prefix(r413, "HTTP/1.1 413"));
	/* A client sending the server's hidden observation header is not believed: the request
	 * is observed as any other (a forged server pointer would crash here). */
	static const char forged[] = "GET /json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
				     "\x01" "berth-observe: 0x10 1 0x20\r\n\r\n";
	_cleanup_free_ char *rf = roundtrip(forged, sizeof(forged) - 1);
	assert_true(str_has_prefix(rf, "HTTP/1.1 200"));

	if (write(g.stop_pipe[1], "x", 1) != 1)
		fail();
	pthread_join(g.thread, NULL);

	struct metrics_family *req = metrics_family_get(obs_reg, "berth_http_requests_total");
	struct metrics_family *lat = metrics_family_get(obs_reg, "berth_http_request_duration_seconds");
	assert_non_null(req);
	assert_non_null(lat);
	assert_int_equal(metrics_series_count(metrics_series_getv(req, "GET", "/json", "200")), 3);
	assert_int_equal(metrics_series_count(metrics_series_getv(req, "DELETE", "other", "404")), 1);
	assert_int_equal(metrics_series_count(metrics_series_getv(req, "GET", "/stream/{mode}", "200")), 1);
	assert_int_equal(metrics_family_nseries(req), 3);
	struct metrics_series *t = metrics_series_getv(lat, "GET", "/json");
	assert_int_equal(metrics_series_count(t), 3);
	assert_true(metrics_series_sum(t) >= 0 && metrics_series_sum(t) < 5);
	assert_int_equal(metrics_family_nseries(lat), 3);
	assert_int_equal(atomic_load(&obs_routes), 5);

	struct strbuf sb = STRBUF_INIT;
	metrics_render_prometheus(obs_reg, &sb);
	assert_non_null(strstr(strbuf_str(&sb),
			       "berth_http_requests_total{method=\"GET\",route=\"/json\",status=\"200\"} 3\n"));
	assert_non_null(strstr(strbuf_str(&sb),
			       "berth_http_request_duration_seconds_count{method=\"GET\",route=\"/json\"} 3\n"));
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_query_parse),
		cmocka_unit_test(test_json_parse),
		cmocka_unit_test(test_method_names),
		cmocka_unit_test(test_bind_errors),
	};
	const struct CMUnitTest server[] = {
		cmocka_unit_test(test_reply_json),
		cmocka_unit_test(test_reply_message_404),
		cmocka_unit_test(test_evhttp_errors_are_json),
		cmocka_unit_test(test_body_limit),
		cmocka_unit_test(test_json_body),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_stream_close),
		cmocka_unit_test(test_stream_close_keepalive),
		cmocka_unit_test(test_stream_client_disconnect),
		cmocka_unit_test(test_stream_slow_reader_cut_off),
	};
	int fails = cmocka_run_group_tests(pure, NULL, NULL);
	fails += cmocka_run_group_tests(server, server_setup, server_teardown);
	const struct CMUnitTest observed[] = {
		cmocka_unit_test(test_observed_requests),
	};
	fails += cmocka_run_group_tests(observed, observed_setup, observed_teardown);
	return fails;
}
