/* The CLI's HTTP client: URL parsing, response framing, chunked decoding, and the real
 * socket path against a forked canned server (redirects, timeouts, refused connections). */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/mem.h"
#include "base/strbuf.h"
#include "cli/http-client.h"

/* ---- URLs ---- */

struct url_case {
	const char *in;
	int rc;
	const char *host;
	uint16_t port;
	const char *prefix;
};

static const struct url_case url_cases[] = {
	{ "http://127.0.0.1:5050", 0, "127.0.0.1", 5050, "" },
	{ "http://127.0.0.1:5050/", 0, "127.0.0.1", 5050, "" },
	{ "127.0.0.1:5050", 0, "127.0.0.1", 5050, "" },
	{ "HTTP://master.example:80/berth/", 0, "master.example", 80, "/berth" },
	{ "http://localhost", 0, "localhost", 80, "" },
	{ "http://[::1]:5050/p/q//", 0, "::1", 5050, "/p/q" },
	{ "http://[::1]", 0, "::1", 80, "" },
	{ "http://h:65535", 0, "h", 65535, "" },
	{ "http://h:65536", -EINVAL, NULL, 0, NULL },
	{ "http://h:0", -EINVAL, NULL, 0, NULL },
	{ "http://h:", -EINVAL, NULL, 0, NULL },
	{ "http://h:5x", -EINVAL, NULL, 0, NULL },
	{ "http://:5050", -EINVAL, NULL, 0, NULL },
	{ "http://", -EINVAL, NULL, 0, NULL },
	{ "", -EINVAL, NULL, 0, NULL },
	{ "https://h:5050", -EPROTONOSUPPORT, NULL, 0, NULL },
	{ "ftp://h", -EINVAL, NULL, 0, NULL },
	{ "http://user@h:5050", -EINVAL, NULL, 0, NULL },
	{ "http://h:5050/x?y=1", -EINVAL, NULL, 0, NULL },
	{ "http://h:5050/x#f", -EINVAL, NULL, 0, NULL },
	{ "http://h o:5050", -EINVAL, NULL, 0, NULL },
	{ "http://[::1:5050", -EINVAL, NULL, 0, NULL },
	{ "http://[]:5050", -EINVAL, NULL, 0, NULL },
	{ "http://[::1]x", -EINVAL, NULL, 0, NULL },
};

static void test_url_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(url_cases); i++) {
		const struct url_case *c = &url_cases[i];
		struct http_url u;
		int rc = http_url_parse(c->in, &u);
		if (rc != c->rc)
			fail_msg("'%s': got %d, want %d", c->in, rc, c->rc);
		if (rc < 0)
			continue;
		assert_string_equal(u.host, c->host);
		assert_int_equal(u.port, c->port);
		assert_string_equal(u.prefix, c->prefix);
		http_url_release(&u);
	}
}

/* ---- chunked decoding ---- */

struct chunk_case {
	const char *in;
	ssize_t rc; /* bytes consumed, or -errno; -1 means "whole input" */
	const char *out;
};

static const struct chunk_case chunk_cases[] = {
	{ "5\r\nhello\r\n0\r\n\r\n", -1, "hello" },
	{ "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", -1, "hello world" },
	{ "A\r\n0123456789\r\n0\r\n\r\n", -1, "0123456789" },
	{ "5;name=v\r\nhello\r\n0\r\n\r\n", -1, "hello" },
	{ "5\r\nhello\r\n0\r\nTrailer: x\r\n\r\n", -1, "hello" },
	{ "5\nhello\n0\n\n", -1, "hello" },
	{ "0\r\n\r\n", -1, "" },
	{ "0\r\n\r\nextra", 5, "" },
	{ "5\r\nhello\r\n0\r\n", -EAGAIN, NULL },
	{ "5\r\nhel", -EAGAIN, NULL },
	{ "5\r\nhello", -EAGAIN, NULL },
	{ "5\r\nhello\r", -EAGAIN, NULL },
	{ "5", -EAGAIN, NULL },
	{ "", -EAGAIN, NULL },
	{ "x\r\nhello\r\n0\r\n\r\n", -EBADMSG, NULL },
	{ "\r\n", -EBADMSG, NULL },
	{ "5x\r\nhello\r\n0\r\n\r\n", -EBADMSG, NULL },
	{ "5\r\nhelloXX0\r\n\r\n", -EBADMSG, NULL },
	{ "1000000000000000\r\n", -EBADMSG, NULL },
	{ "1001\r\n", -E2BIG, NULL }, /* over the 4096-byte limit used below */
};

static void test_chunked_decode(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(chunk_cases); i++) {
		const struct chunk_case *c = &chunk_cases[i];
		struct strbuf sb = STRBUF_INIT;
		size_t n = strlen(c->in);
		ssize_t want = c->rc == -1 ? (ssize_t)n : c->rc;
		ssize_t rc = http_chunked_decode(c->in, n, 4096, &sb);
		if (rc != want)
			fail_msg("case %zu: got %zd, want %zd", i, rc, want);
		if (c->out)
			assert_string_equal(strbuf_str(&sb), c->out);
		strbuf_release(&sb);
	}
}

static void test_chunked_limit_exact(void **state)
{
	(void)state;
	/* exactly at the limit passes, one byte over fails */
	struct strbuf in = STRBUF_INIT;
	strbuf_adds(&in, "1000\r\n");
	for (int i = 0; i < 4096; i++)
		strbuf_addch(&in, 'a');
	strbuf_adds(&in, "\r\n0\r\n\r\n");
	struct strbuf out = STRBUF_INIT;
	assert_int_equal(http_chunked_decode(in.buf, in.len, 4096, &out), (ssize_t)in.len);
	assert_int_equal(out.len, 4096);
	strbuf_release(&out);
	assert_int_equal(http_chunked_decode(in.buf, in.len, 4095, &out), -E2BIG);
	strbuf_release(&out);
	strbuf_release(&in);
}

/* ---- response framing ---- */

static void test_response_content_length(void **state)
{
	(void)state;
	const char *r = "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
			"Content-Length: 11\r\nLocation: /v2/apps/web\r\n\r\n{\"id\":\"/w\"}";
	struct http_response resp;
	/* every proper prefix needs more bytes */
	for (size_t n = 0; n < strlen(r); n++)
		assert_int_equal(http_response_parse(r, n, false, 4096, &resp), -EAGAIN);
	assert_int_equal(http_response_parse(r, strlen(r), false, 4096, &resp), 0);
	assert_int_equal(resp.status, 201);
	assert_string_equal(resp.body, "{\"id\":\"/w\"}");
	assert_int_equal(resp.body_len, 11);
	assert_string_equal(resp.location, "/v2/apps/web");
	assert_string_equal(resp.content_type, "application/json");
	http_response_release(&resp);
	/* truncated at EOF */
	assert_int_equal(http_response_parse(r, strlen(r) - 1, true, 4096, &resp), -EBADMSG);
	/* body over the limit */
	assert_int_equal(http_response_parse(r, strlen(r), false, 10, &resp), -E2BIG);
	assert_int_equal(http_response_parse(r, strlen(r), false, 11, &resp), 0);
	http_response_release(&resp);
}

static void test_response_chunked(void **state)
{
	(void)state;
	const char *r = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
			"7\r\n{\"apps\"\r\n5\r\n:[]}\n\r\n0\r\n\r\n";
	struct http_response resp;
	assert_int_equal(http_response_parse(r, strlen(r) - 2, false, 4096, &resp), -EAGAIN);
	assert_int_equal(http_response_parse(r, strlen(r) - 2, true, 4096, &resp), -EBADMSG);
	assert_int_equal(http_response_parse(r, strlen(r), false, 4096, &resp), 0);
	assert_int_equal(resp.status, 200);
	assert_string_equal(resp.body, "{\"apps\":[]}\n");
	http_response_release(&resp);
}

static void test_response_until_eof(void **state)
{
	(void)state;
	const char *r = "HTTP/1.0 404 Not Found\r\n\r\n{\"message\":\"App '/x' does not exist\"}";
	struct http_response resp;
	assert_int_equal(http_response_parse(r, strlen(r), false, 4096, &resp), -EAGAIN);
	assert_int_equal(http_response_parse(r, strlen(r), true, 4096, &resp), 0);
	assert_int_equal(resp.status, 404);
	assert_string_equal(resp.body, "{\"message\":\"App '/x' does not exist\"}");
	assert_null(resp.location);
	http_response_release(&resp);
	/* 204 has no body even without a length */
	const char *nc = "HTTP/1.1 204 No Content\r\n\r\n";
	assert_int_equal(http_response_parse(nc, strlen(nc), false, 4096, &resp), 0);
	assert_int_equal(resp.body_len, 0);
	http_response_release(&resp);
}

static void test_response_malformed(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"HTTP/2 200 OK\r\n\r\n",
		"HTTP/1.1 2x0 OK\r\n\r\n",
		"HTTP/1.1 200OK\r\n\r\n",
		"SSH-2.0-OpenSSH\r\n\r\n",
		"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct http_response resp;
		int rc = http_response_parse(bad[i], strlen(bad[i]), true, 4096, &resp);
		if (rc != -EBADMSG)
			fail_msg("case %zu: got %d", i, rc);
	}
	/* no end of headers: more wanted, then too big */
	struct strbuf sb = STRBUF_INIT;
	strbuf_adds(&sb, "HTTP/1.1 200 OK\r\nX: ");
	struct http_response resp;
	assert_int_equal(http_response_parse(sb.buf, sb.len, false, 4096, &resp), -EAGAIN);
	while (sb.len <= HTTP_CLIENT_MAX_HEADER)
		strbuf_addch(&sb, 'x');
	assert_int_equal(http_response_parse(sb.buf, sb.len, false, 4096, &resp), -E2BIG);
	strbuf_release(&sb);
}

/* ---- the socket path against a forked server ---- */

/* A child that answers each of the given connections with a canned response (where "%d"
 * in a response is replaced by the port) after reading the request head. The request it
 * saw last is written to req_out (a pipe). */
struct server {
	pid_t pid;
	uint16_t port;
	int req_fd;
};

static int listen_any(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 8), 0);
	socklen_t sl = sizeof(a);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &sl), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static void server_start(struct server *s, const char *const *responses, size_t n)
{
	int lfd = listen_any(&s->port);
	int p[2];
	assert_int_equal(pipe(p), 0);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		close(p[0]);
		for (size_t i = 0; i < n; i++) {
			int c = accept(lfd, NULL, NULL);
			if (c < 0)
				_exit(1);
			char req[8192];
			size_t got = 0;
			while (got < sizeof(req) - 1) {
				ssize_t r = read(c, req + got, sizeof(req) - 1 - got);
				if (r <= 0)
					break;
				got += (size_t)r;
				req[got] = '\0';
				char *end = strstr(req, "\r\n\r\n");
				if (end) {
					/* wait for a body of Content-Length bytes */
					char *cl = strstr(req, "Content-Length: ");
					size_t want = cl ? strtoul(cl + 16, NULL, 10) : 0;
					if (got >= (size_t)(end + 4 - req) + want)
						break;
				}
			}
			if (write(p[1], req, got) < 0)
				_exit(1);
			if (write(p[1], "\n--\n", 4) < 0)
				_exit(1);
			if (strcmp(responses[i], "HANG") == 0) {
				sleep(5);
				_exit(0);
			}
			/* "HANG:text": write text, then keep the connection open */
			bool hang_after = strncmp(responses[i], "HANG:", 5) == 0;
			char resp[4096];
			snprintf(resp, sizeof(resp), responses[i] + (hang_after ? 5 : 0), s->port);
			if (write(c, resp, strlen(resp)) < 0)
				_exit(1);
			if (hang_after) {
				sleep(5);
				_exit(0);
			}
			close(c);
		}
		_exit(0);
	}
	close(lfd);
	close(p[1]);
	s->req_fd = p[0];
}

static char *server_finish(struct server *s)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	ssize_t n;
	kill(s->pid, SIGTERM);
	while ((n = read(s->req_fd, buf, sizeof(buf))) > 0)
		strbuf_add(&sb, buf, (size_t)n);
	close(s->req_fd);
	waitpid(s->pid, NULL, 0);
	return strbuf_detach(&sb, NULL);
}

static void test_client_redirect_and_body(void **state)
{
	(void)state;
	static const char *const responses[] = {
		"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:%d/v2/apps\r\n"
		"Content-Length: 0\r\n\r\n",
		"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
		"4\r\n{\"id\r\n7\r\n\":\"/w\"}\r\n0\r\n\r\n",
	};
	struct server s;
	server_start(&s, responses, 2);
	char base[64];
	snprintf(base, sizeof(base), "http://127.0.0.1:%u/pre", s.port);
	struct http_url u;
	assert_int_equal(http_url_parse(base, &u), 0);
	struct http_request req = { .method = "POST", .target = "/v2/apps",
				    .body = "{\"id\":\"w\"}", .body_len = 10,
				    .timeout_usec = 5000000 };
	struct http_response resp;
	char err[128] = "";
	assert_int_equal(http_client_send(&u, &req, &resp, err, sizeof(err)), 0);
	assert_int_equal(resp.status, 201);
	assert_string_equal(resp.body, "{\"id\":\"/w\"}");
	http_response_release(&resp);
	http_url_release(&u);
	char *seen = server_finish(&s);
	/* the first request carried the prefix, the redirected one the Location's path, and
	 * both the body with its length */
	assert_non_null(strstr(seen, "POST /pre/v2/apps HTTP/1.1\r\n"));
	assert_non_null(strstr(seen, "\n--\nPOST /v2/apps HTTP/1.1\r\n"));
	assert_non_null(strstr(seen, "Content-Length: 10\r\n"));
	assert_non_null(strstr(seen, "\r\n\r\n{\"id\":\"w\"}\n--\nPOST"));
	free(seen);
}

static void test_client_too_many_redirects(void **state)
{
	(void)state;
	static const char *const responses[] = {
		"HTTP/1.1 307 R\r\nLocation: /a\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 307 R\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 307 R\r\nLocation: /c\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 307 R\r\nLocation: /d\r\nContent-Length: 0\r\n\r\n",
	};
	struct server s;
	server_start(&s, responses, 4);
	struct http_url u = { (char *)"127.0.0.1", s.port, (char *)"" };
	struct http_request req = { .method = "GET", .target = "/v2/apps", .timeout_usec = 5000000 };
	struct http_response resp;
	char err[128] = "";
	assert_int_equal(http_client_send(&u, &req, &resp, err, sizeof(err)), -ELOOP);
	assert_non_null(strstr(err, "redirects"));
	char *seen = server_finish(&s);
	assert_non_null(strstr(seen, "GET /c HTTP/1.1"));
	free(seen);
}

static void test_client_timeout(void **state)
{
	(void)state;
	static const char *const responses[] = { "HANG" };
	struct server s;
	server_start(&s, responses, 1);
	struct http_url u = { (char *)"127.0.0.1", s.port, (char *)"" };
	struct http_request req = { .method = "GET", .target = "/ping", .timeout_usec = 300000 };
	struct http_response resp;
	char err[128] = "";
	assert_int_equal(http_client_send(&u, &req, &resp, err, sizeof(err)), -ETIMEDOUT);
	assert_non_null(strstr(err, "timed out"));
	free(server_finish(&s));
}

static void test_client_refused(void **state)
{
	(void)state;
	uint16_t port;
	int fd = listen_any(&port);
	close(fd); /* nothing listens there now */
	struct http_url u = { (char *)"127.0.0.1", port, (char *)"" };
	struct http_request req = { .method = "GET", .target = "/ping", .timeout_usec = 2000000 };
	struct http_response resp;
	char err[128] = "";
	assert_int_equal(http_client_send(&u, &req, &resp, err, sizeof(err)), -ECONNREFUSED);
	assert_string_equal(err, "Connection refused");
}

/* ---- streaming ---- */

static int collect_body(const char *data, size_t len, void *ctx)
{
	strbuf_add(ctx, data, len);
	return 0;
}

/* One streamed request against a server giving response; returns http_client_stream's
 * value, the streamed bytes in got, the request the server saw in *seen (malloc'd). */
static int stream_one(const char *response, uint64_t idle_usec, volatile sig_atomic_t *stop,
		      struct http_response *resp, struct strbuf *got, char *err, size_t errlen,
		      char **seen)
{
	struct server s;
	server_start(&s, &response, 1);
	struct http_url u = { (char *)"127.0.0.1", s.port, (char *)"" };
	struct http_request req = { .method = "GET",
				    .target = "/v2/events?event_type=a",
				    .timeout_usec = 2000000,
				    .accept = "text/event-stream" };
	sigset_t mask;
	sigemptyset(&mask);
	struct http_stream_opts so = { .on_body = collect_body,
				       .ctx = got,
				       .idle_timeout_usec = idle_usec,
				       .sigmask = &mask,
				       .stop = stop };
	int r = http_client_stream(&u, &req, &so, resp, err, errlen);
	*seen = server_finish(&s);
	return r;
}

static void test_stream_chunked(void **state)
{
	(void)state;
	struct http_response resp;
	struct strbuf got = STRBUF_INIT;
	char err[128] = "", *seen;
	int r = stream_one("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream;charset=UTF-8\r\n"
			   "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
			   "10\r\nevent: a\r\ndata: \r\n5\r\n1\r\n\r\n\r\n2\r\n\r\n\r\n0\r\n\r\n",
			   0, NULL, &resp, &got, err, sizeof(err), &seen);
	assert_int_equal(r, 0);
	assert_int_equal(resp.status, 200);
	assert_string_equal(resp.content_type, "text/event-stream;charset=UTF-8");
	assert_string_equal(strbuf_str(&got), "event: a\r\ndata: 1\r\n\r\n\r\n");
	assert_non_null(strstr(seen, "GET /v2/events?event_type=a HTTP/1.1\r\n"));
	assert_non_null(strstr(seen, "Accept: text/event-stream\r\n"));
	assert_non_null(strstr(seen, "Cache-Control: no-cache\r\n"));
	http_response_release(&resp);
	strbuf_release(&got);
	free(seen);
}

static void test_stream_ends_badly(void **state)
{
	(void)state;
	struct http_response resp;
	struct strbuf got = STRBUF_INIT;
	char err[128] = "", *seen;
	/* closed in the middle of a chunk */
	int r = stream_one("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			   "10\r\ndata: x\r\n",
			   0, NULL, &resp, &got, err, sizeof(err), &seen);
	assert_int_equal(r, -EPIPE);
	assert_int_equal(resp.status, 200); /* the head had come: only the status is kept */
	assert_null(resp.content_type);
	assert_non_null(strstr(err, "closed"));
	assert_string_equal(strbuf_str(&got), "data: x\r\n");
	free(seen);
	strbuf_release(&got);
	/* a body without framing simply ends with the connection */
	r = stream_one("HTTP/1.0 200 OK\r\n\r\ndata: y\n\n", 0, NULL, &resp, &got, err,
		       sizeof(err), &seen);
	assert_int_equal(r, 0);
	assert_string_equal(strbuf_str(&got), "data: y\n\n");
	http_response_release(&resp);
	free(seen);
	strbuf_release(&got);
	/* nothing for longer than the idle timeout */
	r = stream_one("HANG:HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n\r\n\r\n",
		       300000, NULL, &resp, &got, err, sizeof(err), &seen);
	assert_int_equal(r, -ETIMEDOUT);
	assert_string_equal(strbuf_str(&got), "\r\n\r");
	assert_non_null(strstr(err, "no data"));
	free(seen);
	strbuf_release(&got);
}

static void test_stream_error_status_and_cancel(void **state)
{
	(void)state;
	struct http_response resp;
	struct strbuf got = STRBUF_INIT;
	char err[128] = "", *seen;
	/* not 2xx: the whole answer, as http_client_send gives it */
	int r = stream_one("HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 13\r\n\r\n"
			   "{\"message\":1}",
			   0, NULL, &resp, &got, err, sizeof(err), &seen);
	assert_int_equal(r, 0);
	assert_int_equal(resp.status, 405);
	assert_string_equal(resp.body, "{\"message\":1}");
	assert_int_equal(got.len, 0);
	http_response_release(&resp);
	free(seen);
	/* the stop flag (as a signal handler sets it) ends the wait */
	volatile sig_atomic_t stop = 1;
	r = stream_one("HANG:HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 0, &stop,
		       &resp, &got, err, sizeof(err), &seen);
	assert_int_equal(r, -ECANCELED);
	free(seen);
	strbuf_release(&got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_parse),
		cmocka_unit_test(test_chunked_decode),
		cmocka_unit_test(test_chunked_limit_exact),
		cmocka_unit_test(test_response_content_length),
		cmocka_unit_test(test_response_chunked),
		cmocka_unit_test(test_response_until_eof),
		cmocka_unit_test(test_response_malformed),
		cmocka_unit_test(test_client_redirect_and_body),
		cmocka_unit_test(test_client_too_many_redirects),
		cmocka_unit_test(test_client_timeout),
		cmocka_unit_test(test_client_refused),
		cmocka_unit_test(test_stream_chunked),
		cmocka_unit_test(test_stream_ends_badly),
		cmocka_unit_test(test_stream_error_status_and_cancel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
