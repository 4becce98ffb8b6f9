/* The I/O half of the CLI's HTTP client: resolve, connect with a deadline, write the
 * request, read until the response is complete, follow redirects. */
#include "cli/http-client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "cli/http-internal.h"

#define READ_CHUNK (64 * 1024)

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Milliseconds left before deadline for poll(2); 0 once it passed. */
static int ms_left(uint64_t deadline)
{
	uint64_t now = time_mono_usec();
	if (now >= deadline)
		return 0;
	uint64_t ms = (deadline - now + 999) / 1000;
	return ms > 60 * 60 * 1000 ? 60 * 60 * 1000 : (int)ms;
}

/* Waits for events on fd until the deadline. 0, -ETIMEDOUT or -errno. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	for (;;) {
		int ms = ms_left(deadline);
		if (ms == 0)
			return -ETIMEDOUT;
		struct pollfd pfd = { .fd = fd, .events = events };
		int r = poll(&pfd, 1, ms);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r > 0)
			return 0;
	}
}

static int connect_one(const struct addrinfo *ai, uint64_t deadline)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			ai->ai_protocol);
	if (fd == -1)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		if (errno != EINPROGRESS) {
			int e = errno;
			close(fd);
			return -e;
		}
		int r = wait_fd(fd, POLLOUT, deadline);
		if (r < 0) {
			close(fd);
			return r;
		}
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1)
			soerr = errno;
		if (soerr != 0) {
			close(fd);
			return -soerr;
		}
	}
	return fd;
}

/* Connects to host:port. Returns the fd (non-blocking, close-on-exec) or -errno. */
static int connect_host(const struct http_url *u, uint64_t deadline, char *err, size_t errlen)
{
	char port[8];
	snprintf(port, sizeof(port), "%u", (unsigned)u->port);
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	int g = getaddrinfo(u->host, port, &hints, &res);
	if (g != 0) {
		set_err(err, errlen, "cannot resolve '%s': %s", u->host, gai_strerror(g));
		return -EHOSTUNREACH;
	}
	int r = -EHOSTUNREACH;
	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		r = connect_one(ai, deadline);
		if (r >= 0 || r == -ETIMEDOUT)
			break;
	}
	freeaddrinfo(res);
	if (r == -ETIMEDOUT)
		set_err(err, errlen, "connection timed out");
	else if (r < 0)
		set_err(err, errlen, "%s", strerror(-r));
	return r;
}

static int write_all(int fd, const char *p, size_t n, uint64_t deadline)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				int r = wait_fd(fd, POLLOUT, deadline);
				if (r < 0)
					return r;
				continue;
			}
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void build_request(struct strbuf *sb, const struct http_url *u, const char *target,
			  const char *body, size_t body_len, const char *method)
{
	bool v6 = strchr(u->host, ':') != NULL;
	strbuf_addf(sb, "%s %s%s HTTP/1.1\r\n", method, u->prefix ? u->prefix : "", target);
	strbuf_addf(sb, "Host: %s%s%s:%u\r\n", v6 ? "[" : "", u->host, v6 ? "]" : "",
		    (unsigned)u->port);
	strbuf_adds(sb, "User-Agent: berth-cli\r\nAccept: application/json\r\n"
			"Connection: close\r\n");
	if (body) {
		strbuf_addf(sb, "Content-Type: application/json\r\nContent-Length: %zu\r\n",
			    body_len);
	} else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		strbuf_adds(sb, "Content-Length: 0\r\n");
	}
	strbuf_adds(sb, "\r\n");
}

/* One exchange, no redirects. */
static int exchange(const struct http_url *u, const char *target, const char *method,
		    const struct http_request *req, uint64_t deadline, struct http_response *out,
		    char *err, size_t errlen)
{
	int fd = connect_host(u, deadline, err, errlen);
	if (fd < 0)
		return fd;

	/* a 303 turned the request into a GET without a body */
	bool with_body = req->body && strcmp(method, req->method) == 0;
	struct strbuf sb = STRBUF_INIT;
	build_request(&sb, u, target, with_body ? req->body : NULL, req->body_len, method);
	int r = write_all(fd, sb.buf, sb.len, deadline);
	if (r == 0 && with_body && req->body_len)
		r = write_all(fd, req->body, req->body_len, deadline);
	strbuf_release(&sb);
	if (r < 0) {
		set_err(err, errlen, "%s", r == -ETIMEDOUT ? "timed out sending the request"
							   : strerror(-r));
		close(fd);
		return r;
	}

	/* Read until the response is complete. The cap covers headers plus a body at the limit
	 * plus chunk framing. */
	const size_t cap = HTTP_CLIENT_MAX_HEADER + HTTP_CLIENT_MAX_BODY + HTTP_CLIENT_MAX_BODY / 16;
	struct strbuf in = STRBUF_INIT;
	bool eof = false;
	for (;;) {
		if (in.len > 0 || eof) {
			r = http_response_parse(in.buf ? in.buf : "", in.len, eof,
						HTTP_CLIENT_MAX_BODY, out);
			if (r != -EAGAIN)
				break;
		}
		if (in.len >= cap) {
			r = -E2BIG;
			break;
		}
		char buf[READ_CHUNK];
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				r = wait_fd(fd, POLLIN, deadline);
				if (r < 0)
					break;
				continue;
			}
			r = -errno;
			break;
		}
		if (n == 0)
			eof = true;
		else
			strbuf_add(&in, buf, (size_t)n);
	}
	close(fd);
	strbuf_release(&in);
	if (r == -ETIMEDOUT)
		set_err(err, errlen, "timed out waiting for the response");
	else if (r == -EBADMSG)
		set_err(err, errlen, "malformed HTTP response");
	else if (r == -E2BIG)
		set_err(err, errlen, "response larger than %u MiB", HTTP_CLIENT_MAX_BODY >> 20);
	else if (r < 0)
		set_err(err, errlen, "%s", strerror(-r));
	return r;
}

static bool is_redirect(int status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

int http_client_send(const struct http_url *url, const struct http_request *req,
		     struct http_response *out, char *err, size_t errlen)
{
	uint64_t deadline = time_mono_usec() + req->timeout_usec;
	struct http_url cur = { xstrdup(url->host), url->port, xstrdup(url->prefix ? url->prefix : "") };
	char *target = xstrdup(req->target);
	const char *method = req->method;
	int r;
	memset(out, 0, sizeof(*out));
	for (int hop = 0;; hop++) {
		r = exchange(&cur, target, method, req, deadline, out, err, errlen);
		if (r < 0 || !is_redirect(out->status) || !out->location)
			break;
		if (hop == HTTP_CLIENT_MAX_REDIRECTS) {
			set_err(err, errlen, "more than %d redirects", HTTP_CLIENT_MAX_REDIRECTS);
			http_response_release(out);
			r = -ELOOP;
			break;
		}
		/* Location: an absolute URL (another master) or a path on this one. Either way
		 * it names the whole target, prefix included. */
		const char *loc = out->location;
		if (loc[0] == '/') {
			free(target);
			target = xstrdup(loc);
		} else {
			struct http_url next;
			const char *rest;
			if (http_url_split(loc, &next, &rest) < 0) {
				set_err(err, errlen, "redirect to a bad location '%s'", loc);
				http_response_release(out);
				r = -EBADMSG;
				break;
			}
			http_url_release(&cur);
			cur = next;
			free(target);
			target = xstrdup(rest[0] ? rest : "/");
		}
		free(cur.prefix);
		cur.prefix = xstrdup("");
		if (out->status == 303)
			method = "GET";
		http_response_release(out);
	}
	http_url_release(&cur);
	free(target);
	return r;
}
