/* The HTTP client (net/httpc.h): base URLs (pure), and libcurl's behaviour as this module
 * sets it up, against a forked canned server on loopback or a unix socket: redirects and the
 * method kept or changed, the body bounds exactly at the limit and one byte over, the head
 * bound, timeouts, refused connections, malformed answers, streams (idle timeout,
 * cancel descriptor, a peer closing mid-body) and calls on a libevent loop. */
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
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/mem.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "net/httpc.h"

/* ---- base URLs ---- */

struct url_case {
	const char *in;
	int rc;
	bool https;
	const char *host;
	uint16_t port;
	const char *prefix;
};

static const struct url_case url_cases[] = {
	{ "http://127.0.0.1:5050", 0, false, "127.0.0.1", 5050, "" },
	{ "http://127.0.0.1:5050/", 0, false, "127.0.0.1", 5050, "" },
	{ "127.0.0.1:5050", 0, false, "127.0.0.1", 5050, "" },
	{ "HTTP://master.example:80/berth/", 0, false, "master.example", 80, "/berth" },
	{ "http://localhost", 0, false, "localhost", 80, "" },
	{ "https://localhost", 0, true, "localhost", 443, "" },
	{ "HTTPS://lb.example:8443/p/", 0, true, "lb.example", 8443, "/p" },
	{ "https://[::1]:5050/p/q//", 0, true, "::1", 5050, "/p/q" },
	{ "http://[::1]", 0, false, "::1", 80, "" },
	{ "http://h:65535", 0, false, "h", 65535, "" },
	{ "http://h:65536", -EINVAL, false, NULL, 0, NULL },
	{ "http://h:0", -EINVAL, false, NULL, 0, NULL },
	{ "http://h:", -EINVAL, false, NULL, 0, NULL },
	{ "http://h:5x", -EINVAL, false, NULL, 0, NULL },
	{ "http://:5050", -EINVAL, false, NULL, 0, NULL },
	{ "http://", -EINVAL, false, NULL, 0, NULL },
	{ "https://", -EINVAL, false, NULL, 0, NULL },
	{ "", -EINVAL, false, NULL, 0, NULL },
	{ "ftp://h", -EPROTONOSUPPORT, false, NULL, 0, NULL },
	{ "httpx://h", -EPROTONOSUPPORT, false, NULL, 0, NULL },
	{ "://h", -EINVAL, false, NULL, 0, NULL },
	{ "h:1/a://b", -EINVAL, false, NULL, 0, NULL },
	{ "http://user@h:5050", -EINVAL, false, NULL, 0, NULL },
	{ "http://h:5050/x?y=1", -EINVAL, false, NULL, 0, NULL },
	{ "http://h:5050/x#f", -EINVAL, false, NULL, 0, NULL },
	{ "http://h o:5050", -EINVAL, false, NULL, 0, NULL },
	{ "http://h:5050/a b", -EINVAL, false, NULL, 0, NULL },
	{ "http://[::1:5050", -EINVAL, false, NULL, 0, NULL },
	{ "http://[]:5050", -EINVAL, false, NULL, 0, NULL },
	{ "http://[::1]x", -EINVAL, false, NULL, 0, NULL },
	{ "http://[::1%eth0]", -EINVAL, false, NULL, 0, NULL },
};

static void test_url_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(url_cases); i++) {
		const struct url_case *c = &url_cases[i];
		struct httpc_url u;
		int rc = httpc_url_parse(c->in, &u);
		if (rc != c->rc)
			fail_msg("'%s': got %d, want %d", c->in, rc, c->rc);
		if (rc < 0)
			continue;
		assert_int_equal(u.https, c->https);
		assert_string_equal(u.host, c->host);
		assert_int_equal(u.port, c->port);
		assert_string_equal(u.prefix, c->prefix);
		httpc_url_release(&u);
	}
}

static void test_url_join(void **state)
{
	(void)state;
	struct httpc_url u;
	assert_int_equal(httpc_url_parse("https://[::1]:8443/pre/", &u), 0);
	char *s = httpc_url_join(&u, "/v2/apps?embed=a");
	assert_string_equal(s, "https://[::1]:8443/pre/v2/apps?embed=a");
	free(s);
	httpc_url_release(&u);
	assert_int_equal(httpc_url_parse("10.0.0.5", &u), 0);
	s = httpc_url_join(&u, "/ping");
	assert_string_equal(s, "http://10.0.0.5:80/ping");
	free(s);
	httpc_url_release(&u);
	httpc_url_release(&u); /* twice is fine */
}

/* ---- a forked canned server ---- */

/* A child that answers each of n connections with a canned response (a "%d" in a response
 * is replaced by the port) after reading the request head and its Content-Length body. The
 * requests it saw are written to a pipe, each followed by "\n--\n". A response "HANG"
 * answers nothing; "HANG:text" writes text and keeps the connection open. */
struct server {
	pid_t pid;
	uint16_t port;     /* 0 on a unix socket */
	char path[108];    /* the unix socket, or "" */
	int req_fd;
};

static int listen_tcp(uint16_t *port)
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

static int listen_unix(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	assert_true(strlen(path) < sizeof(a.sun_path));
	memcpy(a.sun_path, path, strlen(path) + 1);
	unlink(path);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 8), 0);
	return fd;
}

/* Reads one request (head and Content-Length body) from c into req; returns its length. */
static size_t read_request(int c, char *req, size_t cap)
{
	size_t got = 0;
	while (got < cap - 1) {
		ssize_t r = read(c, req + got, cap - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
		req[got] = '\0';
		char *end = strstr(req, "\r\n\r\n");
		if (end) {
			char *cl = strcasestr(req, "Content-Length: ");
			size_t want = cl ? strtoul(cl + 16, NULL, 10) : 0;
			if (got >= (size_t)(end + 4 - req) + want)
				break;
		}
	}
	return got;
}

static void serve(int lfd, int out, const struct server *s, const char *const *responses,
		  size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int c = accept(lfd, NULL, NULL);
		if (c < 0)
			_exit(1);
		static char req[1 << 20];
		size_t got = read_request(c, req, sizeof(req));
		if (write(out, req, got) < 0 || write(out, "\n--\n", 4) < 0)
			_exit(1);
		if (strcmp(responses[i], "HANG") == 0) {
			sleep(10);
			_exit(0);
		}
		bool hang_after = strncmp(responses[i], "HANG:", 5) == 0;
		const char *fmt = responses[i] + (hang_after ? 5 : 0);
		struct strbuf resp = STRBUF_INIT;
		const char *pct = strstr(fmt, "%d");
		if (pct) {
			strbuf_add(&resp, fmt, (size_t)(pct - fmt));
			strbuf_addf(&resp, "%u", (unsigned)s->port);
			strbuf_adds(&resp, pct + 2);
		} else {
			strbuf_adds(&resp, fmt);
		}
		for (size_t off = 0; off < resp.len;) {
			ssize_t w = write(c, resp.buf + off, resp.len - off);
			if (w <= 0)
				_exit(1);
			off += (size_t)w;
		}
		strbuf_release(&resp);
		if (hang_after) {
			sleep(10);
			_exit(0);
		}
		close(c);
	}
	_exit(0);
}

/* Starts a server on loopback (path NULL) or on the unix socket path. */
static void server_start(struct server *s, const char *path, const char *const *responses,
			 size_t n)
{
	memset(s, 0, sizeof(*s));
	int lfd;
	if (path) {
		snprintf(s->path, sizeof(s->path), "%s", path);
		lfd = listen_unix(path);
	} else {
		lfd = listen_tcp(&s->port);
	}
	int p[2];
	assert_int_equal(pipe(p), 0);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		close(p[0]);
		serve(lfd, p[1], s, responses, n);
	}
	close(lfd);
	close(p[1]);
	s->req_fd = p[0];
}

/* Stops the server; returns the requests it saw (malloc'd). */
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
	if (s->path[0])
		unlink(s->path);
	return strbuf_detach(&sb, NULL);
}

static char *url_of(const struct server *s, const char *target)
{
	return xasprintf("http://127.0.0.1:%u%s", (unsigned)s->port, target);
}

/* One httpc_send against a server giving the responses; the requests it saw in *seen. */
static int send_to(const char *const *responses, size_t n, struct httpc_request *req,
		   const char *target, struct httpc_response *resp, char *err, size_t errlen,
		   char **seen)
{
	struct server s;
	server_start(&s, NULL, responses, n);
	char *url = url_of(&s, target);
	req->url = url;
	if (!req->timeout_usec)
		req->timeout_usec = 5000000;
	int r = httpc_send(req, resp, err, errlen);
	req->url = NULL;
	free(url);
	*seen = server_finish(&s);
	return r;
}

/* ---- redirects ---- */

static void test_redirect_307_keeps_post_and_body(void **state)
{
	(void)state;
	static const char *const responses[] = {
		"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:%d/v2/apps\r\n"
		"Content-Length: 0\r\n\r\n",
		"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
		"Transfer-Encoding: chunked\r\n\r\n4\r\n{\"id\r\n7\r\n\":\"/w\"}\r\n0\r\n\r\n",
	};
	struct httpc_request req = { .method = "POST", .body = "{\"id\":\"w\"}", .body_len = 10,
				     .max_redirects = HTTPC_MAX_REDIRECTS };
	struct httpc_response resp;
	char err[HTTPC_ERR_MAX] = "", *seen;
	assert_int_equal(send_to(responses, 2, &req, "/pre/v2/apps", &resp, err, sizeof(err),
				 &seen), 0);
	assert_int_equal(resp.status, 201);
	assert_string_equal(resp.body, "{\"id\":\"/w\"}");
	assert_int_equal(resp.body_len, 11);
	assert_string_equal(resp.content_type, "application/json");
	assert_null(resp.location);
	httpc_response_release(&resp);
	/* the first request had the prefix, the redirected one the Location's path; both the
	 * body with its length and type */
	assert_non_null(strstr(seen, "POST /pre/v2/apps HTTP/1.1\r\n"));
	assert_non_null(strstr(seen, "\n--\nPOST /v2/apps HTTP/1.1\r\n"));
	assert_non_null(strstr(seen, "Content-Length: 10\r\n"));
	assert_non_null(strstr(seen, "Content-Type: application/json\r\n"));
	assert_non_null(strstr(seen, "\r\n\r\n{\"id\":\"w\"}\n--\nPOST"));
	assert_null(strstr(seen, "Expect:"));
	free(seen);
}

static void test_redirect_308_put_and_303_get(void **state)
{
	(void)state;
	/* 308 with a relative Location: PUT and its body again */
	static const char *const r308[] = {
		"HTTP/1.1 308 Permanent Redirect\r\nLocation: /v2/apps/x\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
	};
	struct httpc_request req = { .method = "PUT", .body = "{\"a\":1}", .body_len = 7,
				     .max_redirects = 1 };
	struct httpc_response resp;
	char err[HTTPC_ERR_MAX] = "", *seen;
	assert_int_equal(send_to(r308, 2, &req, "/old", &resp, err, sizeof(err), &seen), 0);
	assert_int_equal(resp.status, 200);
	httpc_response_release(&resp);
	char *second = strstr(seen, "\n--\n");
	assert_non_null(second);
	assert_non_null(strstr(second, "PUT /v2/apps/x HTTP/1.1\r\n"));
	assert_non_null(strstr(second, "\r\n\r\n{\"a\":1}\n--\n"));
	free(seen);

	/* 303: a GET without a body; DELETE without a body still says Content-Length: 0 */
	static const char *const r303[] = {
		"HTTP/1.1 303 See Other\r\nLocation: /done\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 204 No Content\r\n\r\n",
	};
	struct httpc_request del = { .method = "DELETE", .max_redirects = 3 };
	assert_int_equal(send_to(r303, 2, &del, "/v2/apps/x", &resp, err, sizeof(err), &seen), 0);
	assert_int_equal(resp.status, 204);
	assert_string_equal(resp.body, "");
	httpc_response_release(&resp);
	assert_non_null(strstr(seen, "DELETE /v2/apps/x HTTP/1.1\r\n"));
	assert_non_null(strstr(seen, "Content-Length: 0\r\n"));
	second = strstr(seen, "\n--\n");
	assert_non_null(strstr(second, "GET /done HTTP/1.1\r\n"));
	assert_null(strstr(second, "Content-Length"));
	free(seen);
}

static void test_redirect_limits(void **state)
{
	(void)state;
	static const char *const responses[] = {
		"HTTP/1.1 307 R\r\nLocation: /a\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 307 R\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 307 R\r\nLocation: /c\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 307 R\r\nLocation: /d\r\nContent-Length: 0\r\n\r\n",
	};
	struct httpc_request req = { .method = "GET", .max_redirects = HTTPC_MAX_REDIRECTS };
	struct httpc_response resp;
	char err[HTTPC_ERR_MAX] = "", *seen;
	assert_int_equal(send_to(responses, 4, &req, "/v2/apps", &resp, err, sizeof(err), &seen),
			 -ELOOP);
	assert_string_equal(err, "more than 3 redirects");
	assert_non_null(strstr(seen, "GET /c HTTP/1.1"));
	free(seen);

	/* not followed: the redirect is the answer, its Location made absolute */
	struct httpc_request once = { .method = "GET" };
	assert_int_equal(send_to(responses, 1, &once, "/v2/apps", &resp, err, sizeof(err), &seen),
			 0);
	assert_int_equal(resp.status, 307);
	assert_non_null(resp.location);
	assert_non_null(strstr(resp.location, "http://127.0.0.1:"));
	assert_non_null(strstr(resp.location, "/a"));
	httpc_response_release(&resp);
	free(seen);

	/* to another scheme: refused */
	static const char *const ftp[] = {
		"HTTP/1.1 302 Found\r\nLocation: ftp://127.0.0.1/x\r\nContent-Length: 0\r\n\r\n",
	};
	assert_int_equal(send_to(ftp, 1, &req, "/", &resp, err, sizeof(err), &seen), -EBADMSG);
	assert_non_null(strstr(err, "bad location"));
	free(seen);

	/* a redirect without a Location is an answer like any other */
	static const char *const noloc[] = { "HTTP/1.1 302 Found\r\nContent-Length: 1\r\n\r\nx" };
	assert_int_equal(send_to(noloc, 1, &req, "/", &resp, err, sizeof(err), &seen), 0);
	assert_int_equal(resp.status, 302);
	assert_string_equal(resp.body, "x");
	httpc_response_release(&resp);
	free(seen);
}

/* ---- bounds ---- */

/* "HTTP/1.1 200 OK" with a body of n 'x's, framed by Content-Length or chunked. */
static char *big_response(size_t n, bool chunked)
{
	struct strbuf sb = STRBUF_INIT;
	if (chunked)
		strbuf_addf(&sb, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%zx\r\n", n);
	else
		strbuf_addf(&sb, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", n);
	for (size_t i = 0; i < n; i++)
		strbuf_addch(&sb, 'x');
	if (chunked)
		strbuf_adds(&sb, "\r\n0\r\n\r\n");
	return strbuf_detach(&sb, NULL);
}

static void test_body_bounds(void **state)
{
	(void)state;
	const size_t max = 4096;
	for (int chunked = 0; chunked < 2; chunked++) {
		for (size_t n = max - 1; n <= max + 1; n++) {
			char *r = big_response(n, chunked);
			const char *responses[] = { r };
			struct httpc_request req = { .method = "GET", .max_body = max };
			struct httpc_response resp;
			char err[HTTPC_ERR_MAX] = "", *seen;
			int rc = send_to(responses, 1, &req, "/big", &resp, err, sizeof(err), &seen);
			if (n <= max) {
				if (rc != 0)
					fail_msg("%zu bytes (chunked %d): %d %s", n, chunked, rc, err);
				assert_int_equal(resp.body_len, n);
				assert_int_equal(strlen(resp.body), n);
				httpc_response_release(&resp);
			} else {
				if (rc != -E2BIG)
					fail_msg("%zu bytes (chunked %d): %d %s", n, chunked, rc, err);
				assert_string_equal(err, "response larger than 4096 bytes");
			}
			free(seen);
			free(r);
		}
	}
	/* a body that ends with the connection, one byte over */
	char *r = big_response(max + 1, false);
	char *nolen = strstr(r, "Content-Length");
	memcpy(nolen, "X-Nothing-Here", 14);
	const char *responses[] = { r };
	struct httpc_request req = { .method = "GET", .max_body = max };
	struct httpc_response resp;
	char err[HTTPC_ERR_MAX] = "", *seen;
	assert_int_equal(send_to(responses, 1, &req, "/big", &resp, err, sizeof(err), &seen),
			 -E2BIG);
	free(seen);
	free(r);
}

static void test_head_bound(void **state)
{
	(void)state;
	/* header lines of 1000 bytes, one past HTTPC_MAX_HEADER in all */
	struct strbuf sb = STRBUF_INIT;
	strbuf_adds(&sb, "HTTP/1.1 200 OK\r\n");
	while (sb.len <= HTTPC_MAX_HEADER) {
		strbuf_adds(&sb, "X-Pad: ");
		for (int i = 0; i < 990; i++)
			strbuf_addch(&sb, 'p');
		strbuf_adds(&sb, "\r\n");
	}
	strbuf_adds(&sb, "Content-Length: 0\r\n\r\n");
	const char *responses[] = { sb.buf };
	struct httpc_request req = { .method = "GET" };
	struct httpc_response resp;
	char err[HTTPC_ERR_MAX] = "", *seen;
	assert_int_equal(send_to(responses, 1, &req, "/", &resp, err, sizeof(err), &seen), -E2BIG);
	assert_string_equal(err, "response head larger than 64 KiB");
	free(seen);
	strbuf_release(&sb);
}

/* ---- failures ---- */

static void test_failures(void **state)
{
	(void)state;
	struct httpc_response resp;
	char err[HTTPC_ERR_MAX] = "", *seen;

	/* nothing answers within the timeout */
	static const char *const hang[] = { "HANG" };
	struct httpc_request req = { .method = "GET", .timeout_usec = 300000 };
	uint64_t t0 = time_mono_usec();
	assert_int_equal(send_to(hang, 1, &req, "/ping", &resp, err, sizeof(err), &seen),
			 -ETIMEDOUT);
	assert_true(time_mono_usec() - t0 < 3000000);
	assert_string_equal(err, "timed out waiting for the response");
	free(seen);

	/* not HTTP */
	static const char *const garbage[] = { "garbage\r\n\r\n" };
	struct httpc_request get = { .method = "GET" };
	assert_int_equal(send_to(garbage, 1, &get, "/", &resp, err, sizeof(err), &seen),
			 -EBADMSG);
	assert_non_null(strstr(err, "malformed HTTP response"));
	free(seen);

	/* closed before the Content-Length was through */
	static const char *const cut[] = { "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc" };
	assert_int_equal(send_to(cut, 1, &get, "/", &resp, err, sizeof(err), &seen), -EPIPE);
	free(seen);

	/* nothing listens */
	uint16_t port;
	int fd = listen_tcp(&port);
	close(fd);
	char *url = xasprintf("http://127.0.0.1:%u/ping", (unsigned)port);
	struct httpc_request refused = { .method = "GET", .url = url, .timeout_usec = 2000000 };
	assert_int_equal(httpc_send(&refused, &resp, err, sizeof(err)), -ECONNREFUSED);
	assert_string_equal(err, "Connection refused");
	free(url);

	/* a CA file that is not there: said before any connection */
	struct httpc_request ca = { .method = "GET", .url = "https://127.0.0.1:1/",
				    .cacert = "/nonexistent/ca.pem" };
	assert_int_equal(httpc_send(&ca, &resp, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "cannot read CA file '/nonexistent/ca.pem': "
				 "No such file or directory");
}

static void test_unix_socket(void **state)
{
	(void)state;
	char path[64];
	snprintf(path, sizeof(path), "/tmp/test-httpc-%d.sock", (int)getpid());
	static const char *const responses[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n{\"Err\":\"\"}\r\n",
	};
	struct server s;
	server_start(&s, path, responses, 1);
	struct httpc_request req = { .method = "POST", .url = "http://plugin/Plugin.Activate",
				     .unix_socket = path, .body = "{}", .body_len = 2 };
	struct httpc_response resp;
	char err[HTTPC_ERR_MAX] = "";
	assert_int_equal(httpc_send(&req, &resp, err, sizeof(err)), 0);
	assert_int_equal(resp.status, 200);
	assert_string_equal(resp.body, "{\"Err\":\"\"}\r\n");
	httpc_response_release(&resp);
	char *seen = server_finish(&s);
	assert_non_null(strstr(seen, "POST /Plugin.Activate HTTP/1.1\r\n"));
	assert_non_null(strstr(seen, "Host: plugin\r\n"));
	free(seen);
	/* the socket is gone */
	assert_int_equal(httpc_send(&req, &resp, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "No such file or directory");
}

/* ---- streams ---- */

static int collect_body(const char *data, size_t len, void *ctx)
{
	strbuf_add(ctx, data, len);
	return 0;
}

/* One stream against a server giving response; the streamed bytes in got. */
static int stream_one(const char *response, uint64_t idle_usec, int cancel_fd,
		      struct httpc_response *resp, struct strbuf *got, char *err, size_t errlen,
		      char **seen)
{
	struct server s;
	server_start(&s, NULL, &response, 1);
	char *url = url_of(&s, "/v2/events?event_type=a");
	struct httpc_request req = { .method = "GET", .url = url, .timeout_usec = 2000000,
				     .accept = "text/event-stream" };
	struct httpc_stream_opts so = { .on_body = collect_body, .ctx = got,
					.idle_timeout_usec = idle_usec, .cancel_fd = cancel_fd };
	int r = httpc_stream(&req, &so, resp, err, errlen);
	free(url);
	*seen = server_finish(&s);
	return r;
}

static void test_stream_chunked(void **state)
{
	(void)state;
	struct httpc_response resp;
	struct strbuf got = STRBUF_INIT;
	char err[HTTPC_ERR_MAX] = "", *seen;
	int r = stream_one("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream;charset=UTF-8\r\n"
			   "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
			   "10\r\nevent: a\r\ndata: \r\n5\r\n1\r\n\r\n\r\n2\r\n\r\n\r\n0\r\n\r\n",
			   0, -1, &resp, &got, err, sizeof(err), &seen);
	assert_int_equal(r, 0);
	assert_int_equal(resp.status, 200);
	assert_string_equal(resp.content_type, "text/event-stream;charset=UTF-8");
	assert_string_equal(resp.body, "");
	assert_string_equal(strbuf_str(&got), "event: a\r\ndata: 1\r\n\r\n\r\n");
	assert_non_null(strstr(seen, "GET /v2/events?event_type=a HTTP/1.1\r\n"));
	assert_non_null(strstr(seen, "Accept: text/event-stream\r\n"));
	assert_non_null(strstr(seen, "Cache-Control: no-cache\r\n"));
	httpc_response_release(&resp);
	strbuf_release(&got);
	free(seen);
}

static void test_stream_ends_badly(void **state)
{
	(void)state;
	struct httpc_response resp;
	struct strbuf got = STRBUF_INIT;
	char err[HTTPC_ERR_MAX] = "", *seen;
	/* closed in the middle of a chunk */
	int r = stream_one("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\ndata: x\r\n",
			   0, -1, &resp, &got, err, sizeof(err), &seen);
	assert_int_equal(r, -EPIPE);
	assert_int_equal(resp.status, 200); /* the head had come: only the status is kept */
	assert_null(resp.content_type);
	assert_null(resp.body);
	assert_non_null(strstr(err, "closed"));
	assert_string_equal(strbuf_str(&got), "data: x\r\n");
	free(seen);
	strbuf_release(&got);
	/* a body without framing simply ends with the connection */
	r = stream_one("HTTP/1.0 200 OK\r\n\r\ndata: y\n\n", 0, -1, &resp, &got, err, sizeof(err),
		       &seen);
	assert_int_equal(r, 0);
	assert_string_equal(strbuf_str(&got), "data: y\n\n");
	httpc_response_release(&resp);
	free(seen);
	strbuf_release(&got);
	/* nothing for longer than the idle timeout */
	uint64_t t0 = time_mono_usec();
	r = stream_one("HANG:HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n\r\n\r\n",
		       300000, -1, &resp, &got, err, sizeof(err), &seen);
	assert_int_equal(r, -ETIMEDOUT);
	assert_true(time_mono_usec() - t0 < 3000000);
	assert_string_equal(strbuf_str(&got), "\r\n\r");
	assert_non_null(strstr(err, "no data"));
	free(seen);
	strbuf_release(&got);
	/* no head within the timeout */
	r = stream_one("HANG", 0, -1, &resp, &got, err, sizeof(err), &seen);
	assert_int_equal(r, -ETIMEDOUT);
	assert_int_equal(resp.status, 0);
	assert_string_equal(err, "timed out waiting for the response");
	free(seen);
	strbuf_release(&got);
}

static int stop_after_one(const char *data, size_t len, void *ctx)
{
	return -EIO;
}

static void test_stream_error_status_and_cancel(void **state)
{
	(void)state;
	struct httpc_response resp;
	struct strbuf got = STRBUF_INIT;
	char err[HTTPC_ERR_MAX] = "", *seen;
	/* not 2xx: the whole answer, as httpc_send gives it */
	int r = stream_one("HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 13\r\n\r\n"
			   "{\"message\":1}",
			   0, -1, &resp, &got, err, sizeof(err), &seen);
	assert_int_equal(r, 0);
	assert_int_equal(resp.status, 405);
	assert_string_equal(resp.body, "{\"message\":1}");
	assert_int_equal(got.len, 0);
	httpc_response_release(&resp);
	free(seen);
	/* a readable cancel descriptor (as a signal handler makes it) ends the wait */
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	uint64_t t0 = time_mono_usec();
	r = stream_one("HANG:HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 0, p[0],
		       &resp, &got, err, sizeof(err), &seen);
	assert_int_equal(r, -ECANCELED);
	assert_true(time_mono_usec() - t0 < 1500000);
	close(p[0]);
	close(p[1]);
	free(seen);
	strbuf_release(&got);
	/* on_body's error stops the stream and is returned */
	struct server s;
	static const char *const responses[] = {
		"HANG:HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
	};
	server_start(&s, NULL, responses, 1);
	char *url = url_of(&s, "/v2/events");
	struct httpc_request req = { .method = "GET", .url = url, .timeout_usec = 2000000 };
	struct httpc_stream_opts so = { .on_body = stop_after_one, .cancel_fd = -1 };
	assert_int_equal(httpc_stream(&req, &so, &resp, err, sizeof(err)), -EIO);
	assert_int_equal(resp.status, 200);
	free(url);
	free(server_finish(&s));
}

/* ---- calls on an event loop ---- */

struct result {
	int calls, r, status;
	char body[256];
	char err[HTTPC_ERR_MAX];
	struct event_base *base;
	bool in_start;
};

static void on_result(int r, const struct httpc_response *resp, const char *err, void *arg)
{
	struct result *res = arg;
	assert_false(res->in_start);
	res->calls++;
	res->r = r;
	res->status = resp ? resp->status : 0;
	snprintf(res->body, sizeof(res->body), "%s", resp ? resp->body : "");
	snprintf(res->err, sizeof(res->err), "%s", err ? err : "");
	if (r == 0)
		assert_null(err);
	else
		assert_null(resp);
	event_base_loopbreak(res->base);
}

static struct result call_on_loop(struct event_base *base, const char *path,
				  uint64_t timeout_usec)
{
	struct result res = { .base = base, .in_start = true };
	struct httpc_request req = { .method = "POST", .url = "http://plugin/VolumeDriver.Get",
				     .unix_socket = path, .body = "{\"Name\":\"v\"}",
				     .body_len = 12, .timeout_usec = timeout_usec,
				     .max_body = 64 };
	struct httpc_call *c = httpc_call_start(base, &req, on_result, &res);
	res.in_start = false;
	assert_non_null(c);
	assert_int_equal(res.calls, 0); /* never from inside start */
	event_base_dispatch(base);
	assert_int_equal(res.calls, 1);
	return res;
}

static void test_call_on_loop(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	char path[64];
	snprintf(path, sizeof(path), "/tmp/test-httpc-loop-%d.sock", (int)getpid());
	static const char *const responses[] = {
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		"5\r\n{\"Err\r\n5\r\n\":\"\"}\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 65\r\n\r\n"
		"{\"Pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
		"HANG",
	};
	struct server s;
	server_start(&s, path, responses, 3);
	struct result r = call_on_loop(base, path, 2000000);
	assert_int_equal(r.r, 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"Err\":\"\"}");
	/* the body bound holds on the loop too */
	r = call_on_loop(base, path, 2000000);
	assert_int_equal(r.r, -E2BIG);
	assert_string_equal(r.err, "response larger than 64 bytes");
	/* a peer that never answers: the timeout, without blocking the loop meanwhile */
	uint64_t t0 = time_mono_usec();
	r = call_on_loop(base, path, 300000);
	uint64_t took = time_mono_usec() - t0;
	assert_int_equal(r.r, -ETIMEDOUT);
	assert_true(took >= 250000 && took < 2000000);
	char *seen = server_finish(&s);
	assert_non_null(strstr(seen, "POST /VolumeDriver.Get HTTP/1.1\r\n"));
	assert_non_null(strstr(seen, "\r\n\r\n{\"Name\":\"v\"}\n--\n"));
	free(seen);

	/* nobody there: an error from the loop */
	r = call_on_loop(base, path, 2000000);
	assert_int_equal(r.r, -ENOENT);

	/* a cancelled call never calls back */
	int lfd = listen_unix(path);
	struct result res = { .base = base };
	struct httpc_request req = { .method = "POST", .url = "http://plugin/x",
				     .unix_socket = path, .timeout_usec = 100000 };
	struct httpc_call *c = httpc_call_start(base, &req, on_result, &res);
	assert_non_null(c);
	struct timeval tv = { 0, 50000 };
	event_base_loopexit(base, &tv);
	event_base_dispatch(base); /* connected by now, waiting for the answer */
	httpc_call_cancel(c);
	tv.tv_usec = 200000;
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	assert_int_equal(res.calls, 0);
	httpc_call_cancel(NULL);
	close(lfd);
	unlink(path);
	event_base_free(base);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_parse),
		cmocka_unit_test(test_url_join),
		cmocka_unit_test(test_redirect_307_keeps_post_and_body),
		cmocka_unit_test(test_redirect_308_put_and_303_get),
		cmocka_unit_test(test_redirect_limits),
		cmocka_unit_test(test_body_bounds),
		cmocka_unit_test(test_head_bound),
		cmocka_unit_test(test_failures),
		cmocka_unit_test(test_unix_socket),
		cmocka_unit_test(test_stream_chunked),
		cmocka_unit_test(test_stream_ends_badly),
		cmocka_unit_test(test_stream_error_status_and_cancel),
		cmocka_unit_test(test_call_on_loop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
