/* The I/O half of the CLI's HTTP client: resolve, connect with a deadline, write the
 * request, read until the response is complete, follow redirects. */
#include "cli/http-client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
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

/* Waits for events on fd until the deadline. 0, -ETIMEDOUT, -ECANCELED (a signal with
 * *so->stop set) or -errno. so may be NULL. */
static int wait_fd(int fd, short events, uint64_t deadline, const struct http_stream_opts *so)
{
	for (;;) {
		if (so && so->stop && *so->stop)
			return -ECANCELED;
		int ms = ms_left(deadline);
		if (ms == 0)
			return -ETIMEDOUT;
		struct pollfd pfd = { .fd = fd, .events = events };
		struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };
		int r = ppoll(&pfd, 1, &ts, so ? so->sigmask : NULL);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r > 0)
			return 0;
	}
}

static int connect_one(const struct addrinfo *ai, uint64_t deadline,
		       const struct http_stream_opts *so)
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
		int r = wait_fd(fd, POLLOUT, deadline, so);
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
static int connect_host(const struct http_url *u, uint64_t deadline,
			const struct http_stream_opts *so, char *err, size_t errlen)
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
		r = connect_one(ai, deadline, so);
		if (r >= 0 || r == -ETIMEDOUT || r == -ECANCELED)
			break;
	}
	freeaddrinfo(res);
	if (r == -ETIMEDOUT)
		set_err(err, errlen, "connection timed out");
	else if (r < 0)
		set_err(err, errlen, "%s", strerror(-r));
	return r;
}

static int write_all(int fd, const char *p, size_t n, uint64_t deadline,
		     const struct http_stream_opts *so)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				int r = wait_fd(fd, POLLOUT, deadline, so);
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
			  const char *body, size_t body_len, const char *method, const char *accept)
{
	bool v6 = strchr(u->host, ':') != NULL;
	strbuf_addf(sb, "%s %s%s HTTP/1.1\r\n", method, u->prefix ? u->prefix : "", target);
	strbuf_addf(sb, "Host: %s%s%s:%u\r\n", v6 ? "[" : "", u->host, v6 ? "]" : "",
		    (unsigned)u->port);
	strbuf_addf(sb, "User-Agent: berth-cli\r\nAccept: %s\r\nConnection: close\r\n",
		    accept ? accept : "application/json");
	if (accept && strstr(accept, "text/event-stream"))
		strbuf_adds(sb, "Cache-Control: no-cache\r\n");
	if (body) {
		strbuf_addf(sb, "Content-Type: application/json\r\nContent-Length: %zu\r\n",
			    body_len);
	} else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		strbuf_adds(sb, "Content-Length: 0\r\n");
	}
	strbuf_adds(sb, "\r\n");
}

/* Hands data to the stream's callback. */
static int deliver(const struct http_stream_opts *so, const char *p, size_t n)
{
	return n ? so->on_body(p, n, so->ctx) : 0;
}

/* Feeds the body bytes p[0..n) through the framing. Returns 0 for more, 1 at the end of
 * the body, or an error. */
static int stream_feed(const struct http_head *h, struct http_chunked *ch, uint64_t *left,
		       struct strbuf *dec, const struct http_stream_opts *so, const char *p,
		       size_t n)
{
	if (h->chunked) {
		size_t used;
		int r = http_chunked_feed(ch, p, n, &used, dec);
		if (r < 0)
			return r;
		int cr = deliver(so, dec->buf, dec->len);
		dec->len = 0;
		if (cr)
			return cr;
		return r;
	}
	if (h->has_length) {
		size_t take = n < *left ? n : (size_t)*left;
		*left -= take;
		int cr = deliver(so, p, take);
		if (cr)
			return cr;
		return *left == 0 ? 1 : 0;
	}
	return deliver(so, p, n);
}

/* Reads a 2xx body as it arrives; p[0..n) is what came with the head. 0 at its end. */
static int stream_body(int fd, const struct http_head *h, const char *p, size_t n, bool eof,
		       const struct http_stream_opts *so)
{
	if (h->status == 204 || h->status == 304 || (h->has_length && h->length == 0))
		return 0;
	struct http_chunked ch;
	http_chunked_init(&ch);
	uint64_t left = h->length;
	struct strbuf dec = STRBUF_INIT;
	int r = stream_feed(h, &ch, &left, &dec, so, p, n);
	while (r == 0) {
		if (eof) {
			/* only a body without framing may end with the connection */
			r = (h->chunked || h->has_length) ? -EPIPE : 1;
			break;
		}
		char buf[READ_CHUNK];
		ssize_t got = recv(fd, buf, sizeof(buf), 0);
		if (got == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				uint64_t dl = so->idle_timeout_usec
						      ? time_mono_usec() + so->idle_timeout_usec
						      : UINT64_MAX;
				r = wait_fd(fd, POLLIN, dl, so);
				continue;
			}
			r = -errno;
			break;
		}
		if (got == 0)
			eof = true;
		else
			r = stream_feed(h, &ch, &left, &dec, so, buf, (size_t)got);
	}
	strbuf_release(&dec);
	return r == 1 ? 0 : r;
}

/* One exchange, no redirects. With so, a 2xx body goes to so->on_body. */
static int exchange(const struct http_url *u, const char *target, const char *method,
		    const struct http_request *req, uint64_t deadline,
		    const struct http_stream_opts *so, struct http_response *out, char *err,
		    size_t errlen)
{
	int fd = connect_host(u, deadline, so, err, errlen);
	if (fd < 0)
		return fd;

	/* a 303 turned the request into a GET without a body */
	bool with_body = req->body && strcmp(method, req->method) == 0;
	struct strbuf sb = STRBUF_INIT;
	build_request(&sb, u, target, with_body ? req->body : NULL, req->body_len, method,
		      req->accept);
	int r = write_all(fd, sb.buf, sb.len, deadline, so);
	if (r == 0 && with_body && req->body_len)
		r = write_all(fd, req->body, req->body_len, deadline, so);
	strbuf_release(&sb);
	if (r < 0) {
		if (r != -ECANCELED)
			set_err(err, errlen, "%s",
				r == -ETIMEDOUT ? "timed out sending the request" : strerror(-r));
		close(fd);
		return r;
	}

	/* Read until the response is complete. The cap covers headers plus a body at the limit
	 * plus chunk framing. */
	const size_t cap = HTTP_CLIENT_MAX_HEADER + HTTP_CLIENT_MAX_BODY + HTTP_CLIENT_MAX_BODY / 16;
	struct strbuf in = STRBUF_INIT;
	bool eof = false;
	bool streaming = false;
	for (;;) {
		if (in.len > 0 || eof) {
			if (so) {
				/* a 2xx head: hand the body over as it comes */
				struct http_head h;
				r = http_head_parse(in.buf ? in.buf : "", in.len, &h);
				if (r == 0 && h.status / 100 == 2) {
					out->status = h.status;
					out->location = TAKE_PTR(h.location);
					out->content_type = TAKE_PTR(h.content_type);
					out->body = xstrdup("");
					streaming = true;
					r = stream_body(fd, &h, in.buf + h.size, in.len - h.size, eof,
							so);
					http_head_release(&h);
					break;
				}
				if (r == 0)
					http_head_release(&h);
			}
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
				r = wait_fd(fd, POLLIN, deadline, so);
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
	if (r < 0 && streaming) {
		/* the head was fine: keep its status for the caller */
		if (r == -ETIMEDOUT)
			set_err(err, errlen, "no data for %llu s",
				(unsigned long long)(so->idle_timeout_usec / 1000000));
		else if (r == -EBADMSG)
			set_err(err, errlen, "malformed chunked body");
		else if (r == -EPIPE)
			set_err(err, errlen, "connection closed in the middle of the response");
		else if (r != -ECANCELED)
			set_err(err, errlen, "%s", strerror(-r));
		int status = out->status;
		http_response_release(out);
		out->status = status;
		return r;
	}
	if (r == -ETIMEDOUT)
		set_err(err, errlen, "timed out waiting for the response");
	else if (r == -EBADMSG)
		set_err(err, errlen, "malformed HTTP response");
	else if (r == -E2BIG)
		set_err(err, errlen, "response larger than %u MiB", HTTP_CLIENT_MAX_BODY >> 20);
	else if (r < 0 && r != -ECANCELED)
		set_err(err, errlen, "%s", strerror(-r));
	return r;
}

static bool is_redirect(int status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

static int send_following(const struct http_url *url, const struct http_request *req,
			  const struct http_stream_opts *so, struct http_response *out, char *err,
			  size_t errlen)
{
	uint64_t deadline = time_mono_usec() + req->timeout_usec;
	struct http_url cur = { xstrdup(url->host), url->port, xstrdup(url->prefix ? url->prefix : "") };
	char *target = xstrdup(req->target);
	const char *method = req->method;
	int r;
	memset(out, 0, sizeof(*out));
	for (int hop = 0;; hop++) {
		r = exchange(&cur, target, method, req, deadline, so, out, err, errlen);
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

int http_client_send(const struct http_url *url, const struct http_request *req,
		     struct http_response *out, char *err, size_t errlen)
{
	return send_following(url, req, NULL, out, err, errlen);
}

int http_client_stream(const struct http_url *url, const struct http_request *req,
		       const struct http_stream_opts *so, struct http_response *out, char *err,
		       size_t errlen)
{
	return send_following(url, req, so, out, err, errlen);
}
