/* Base URLs, and the blocking calls of httpc.h: each call runs its hops on a private curl
 * multi handle (so that connections are reused across redirects and a stream can wait on
 * its cancel descriptor too), following redirects itself so that the method and body are
 * chosen here, not by libcurl's per-code rules. */
#include "net/httpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "net/httpc-int.h"

/* ---- base URLs ---- */

static bool host_char(char c)
{
	return c == '-' || c == '.' || c == '_' || (c >= '0' && c <= '9') ||
	       (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool ipv6_char(char c)
{
	return c == ':' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/* "scheme://" at the start of s: sets *https and *rest past it. No "://" at all: http, from
 * the start. 0, -EPROTONOSUPPORT (another scheme), -EINVAL. */
static int parse_scheme(const char *s, bool *https, const char **rest)
{
	*https = false;
	*rest = s;
	const char *sep = strstr(s, "://");
	if (!sep)
		return 0;
	size_t n = (size_t)(sep - s);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
		if (!ok)
			return -EINVAL;
	}
	if (n == 4 && strncasecmp(s, "http", 4) == 0)
		*https = false;
	else if (n == 5 && strncasecmp(s, "https", 5) == 0)
		*https = true;
	else
		return n ? -EPROTONOSUPPORT : -EINVAL;
	*rest = sep + 3;
	return 0;
}

/* "host[:port]" or "[v6][:port]" in p[0..n) → host (malloc'd) and port. */
static int parse_authority(const char *p, size_t n, uint16_t default_port, char **host,
			   uint16_t *port)
{
	const char *end = p + n;
	const char *host_start = p, *host_end, *port_start = NULL;
	if (n == 0 || memchr(p, '@', n))
		return -EINVAL;
	if (*p == '[') {
		const char *close = memchr(p, ']', n);
		if (!close || close == p + 1)
			return -EINVAL;
		host_start = p + 1;
		host_end = close;
		for (const char *c = host_start; c < host_end; c++)
			if (!ipv6_char(*c))
				return -EINVAL;
		if (close + 1 < end) {
			if (close[1] != ':')
				return -EINVAL;
			port_start = close + 2;
		}
	} else {
		const char *colon = memchr(p, ':', n);
		host_end = colon ? colon : end;
		if (colon)
			port_start = colon + 1;
		if (host_end == host_start)
			return -EINVAL;
		for (const char *c = host_start; c < host_end; c++)
			if (!host_char(*c))
				return -EINVAL;
	}
	*port = default_port;
	if (port_start) {
		char buf[8];
		size_t len = (size_t)(end - port_start);
		uint64_t v;
		if (len == 0 || len >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, port_start, len);
		buf[len] = '\0';
		if (parse_u64(buf, &v) < 0 || v == 0 || v > 65535)
			return -EINVAL;
		*port = (uint16_t)v;
	}
	*host = xstrndup(host_start, (size_t)(host_end - host_start));
	return 0;
}

int httpc_url_parse(const char *s, struct httpc_url *u)
{
	memset(u, 0, sizeof(*u));
	bool https;
	const char *p;
	int r = parse_scheme(s, &https, &p);
	if (r < 0)
		return r;
	size_t auth_len = strcspn(p, "/?#");
	const char *rest = p + auth_len;
	if (strpbrk(rest, "?# \t\r\n"))
		return -EINVAL;
	char *host = NULL;
	uint16_t port;
	r = parse_authority(p, auth_len, https ? 443 : 80, &host, &port);
	if (r < 0)
		return r;
	size_t n = strlen(rest);
	while (n > 0 && rest[n - 1] == '/')
		n--;
	u->https = https;
	u->host = host;
	u->port = port;
	u->prefix = xstrndup(rest, n);
	return 0;
}

void httpc_url_release(struct httpc_url *u)
{
	free(u->host);
	free(u->prefix);
	u->host = u->prefix = NULL;
}

char *httpc_url_join(const struct httpc_url *u, const char *target)
{
	bool v6 = strchr(u->host, ':') != NULL;
	return xasprintf("%s://%s%s%s:%u%s%s", u->https ? "https" : "http", v6 ? "[" : "",
			 u->host, v6 ? "]" : "", (unsigned)u->port, u->prefix ? u->prefix : "",
			 target);
}

void httpc_response_release(struct httpc_response *r)
{
	free(r->content_type);
	free(r->location);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* ---- blocking calls ---- */

#define POLL_MAX_MS 1000

static bool is_redirect(int status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* How long the next wait may be, in ms; or -ETIMEDOUT when a stream's deadline passed (the
 * head's before it came, the idle one after). */
static int wait_ms(const struct httpc_xfer *x, const struct httpc_stream_opts *so,
		   uint64_t deadline, char *err, size_t errlen)
{
	if (!so)
		return POLL_MAX_MS; /* libcurl keeps the whole hop's timeout itself */
	uint64_t now = time_mono_usec();
	uint64_t until = UINT64_MAX;
	if (!x->head_done) {
		until = deadline;
		if (now >= until) {
			httpc_set_err(err, errlen, "timed out waiting for the response");
			return -ETIMEDOUT;
		}
	} else if (so->idle_timeout_usec) {
		until = x->last_byte_usec + so->idle_timeout_usec;
		if (now >= until) {
			httpc_set_err(err, errlen, "no data for %llu s",
				      (unsigned long long)(so->idle_timeout_usec / 1000000));
			return -ETIMEDOUT;
		}
	}
	if (until == UINT64_MAX || until - now >= POLL_MAX_MS * 1000ull)
		return POLL_MAX_MS;
	return (int)((until - now + 999) / 1000);
}

/* Runs x's transfer on m until it ends, the stream's deadlines pass or its cancel_fd is
 * readable. 0 or -errno (err filled, but not for -ECANCELED or on_body's value). */
static int run(CURLM *m, struct httpc_xfer *x, const struct httpc_stream_opts *so,
	       uint64_t deadline, char *err, size_t errlen)
{
	CURLMcode mc = curl_multi_add_handle(m, x->easy);
	if (mc != CURLM_OK)
		return httpc_multi_error(mc, err, errlen);
	bool with_fd = so && so->cancel_fd > 0;
	int r;
	for (;;) {
		int running = 0;
		mc = curl_multi_perform(m, &running);
		if (mc != CURLM_OK) {
			r = httpc_multi_error(mc, err, errlen);
			break;
		}
		CURLMsg *msg;
		int queued;
		bool done = false;
		CURLcode rc = CURLE_OK;
		while ((msg = curl_multi_info_read(m, &queued))) {
			if (msg->msg == CURLMSG_DONE && msg->easy_handle == x->easy) {
				rc = msg->data.result;
				done = true;
			}
		}
		if (done) {
			r = httpc_xfer_result(x, rc, err, errlen);
			break;
		}
		int ms = wait_ms(x, so, deadline, err, errlen);
		if (ms < 0) {
			r = ms;
			break;
		}
		struct curl_waitfd wfd = { .fd = with_fd ? so->cancel_fd : -1,
					   .events = CURL_WAIT_POLLIN };
		mc = curl_multi_poll(m, with_fd ? &wfd : NULL, with_fd ? 1 : 0, ms, NULL);
		if (mc != CURLM_OK) {
			r = httpc_multi_error(mc, err, errlen);
			break;
		}
		if (with_fd && (wfd.revents & CURL_WAIT_POLLIN)) {
			r = -ECANCELED;
			break;
		}
	}
	curl_multi_remove_handle(m, x->easy);
	return r;
}

/* a and b have the same "scheme://authority" (case-insensitive). */
static bool same_origin(const char *a, const char *b)
{
	const char *sa = strstr(a, "://"), *sb = strstr(b, "://");
	if (!sa || !sb)
		return false;
	size_t la = (size_t)(sa - a) + 3 + strcspn(sa + 3, "/?#");
	size_t lb = (size_t)(sb - b) + 3 + strcspn(sb + 3, "/?#");
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* The next hop after a redirect in out: its URL (malloc'd), or NULL with -EBADMSG / -ELOOP
 * in *r and err filled. *r = 0 and NULL: not to be followed, out is the answer. */
static char *next_hop(const struct httpc_request *req, const struct httpc_response *out,
		      bool had_location, unsigned hop, int *r, char *err, size_t errlen)
{
	*r = 0;
	if (!is_redirect(out->status) || !had_location || req->max_redirects == 0)
		return NULL;
	const char *loc = out->location;
	if (!loc || !(strncasecmp(loc, "http://", 7) == 0 || strncasecmp(loc, "https://", 8) == 0)) {
		httpc_set_err(err, errlen, "redirect to a bad location%s%.200s%s", loc ? " '" : "",
			      loc ? loc : "", loc ? "'" : "");
		*r = -EBADMSG;
		return NULL;
	}
	if (hop == req->max_redirects) {
		httpc_set_err(err, errlen, "more than %u redirects", req->max_redirects);
		*r = -ELOOP;
		return NULL;
	}
	return xstrdup(loc);
}

static int call_blocking(const struct httpc_request *req, const struct httpc_stream_opts *so,
			 struct httpc_response *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	httpc_set_err(err, errlen, "%s", "");
	int r = httpc_global(err, errlen);
	if (r < 0)
		return r;
	CURLM *m = curl_multi_init();
	if (!m) {
		httpc_set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	uint64_t deadline =
		time_mono_usec() + (req->timeout_usec ? req->timeout_usec : HTTPC_DEFAULT_TIMEOUT_USEC);
	char *url = xstrdup(req->url);
	const char *method = req->method;
	bool with_body = req->body != NULL;
	for (unsigned hop = 0;; hop++) {
		uint64_t now = time_mono_usec();
		if (now >= deadline) {
			httpc_set_err(err, errlen, "timed out waiting for the response");
			r = -ETIMEDOUT;
			break;
		}
		struct httpc_xfer x = { .on_body = so ? so->on_body : NULL, .ctx = so ? so->ctx : NULL };
		struct httpc_hop h = {
			.url = url,
			.method = method,
			.with_body = with_body,
			.with_auth = same_origin(req->url, url),
			.timeout_usec = so ? 0 : deadline - now,
			.connect_usec = so ? deadline - now : 0,
		};
		r = httpc_xfer_init(&x, req, &h, err, errlen);
		if (r == 0)
			r = run(m, &x, so, deadline, err, errlen);
		if (r < 0) {
			out->status = x.streaming ? x.status : 0;
			httpc_xfer_release(&x);
			break;
		}
		httpc_xfer_response(&x, out);
		bool had_location = x.has_location;
		httpc_xfer_release(&x);
		char *next = next_hop(req, out, had_location, hop, &r, err, errlen);
		if (!next) {
			if (r < 0)
				httpc_response_release(out);
			break;
		}
		free(url);
		url = next;
		if (out->status == 303 && strcmp(method, "HEAD") != 0) {
			method = "GET";
			with_body = false;
		}
		httpc_response_release(out);
	}
	free(url);
	curl_multi_cleanup(m);
	return r;
}

int httpc_send(const struct httpc_request *req, struct httpc_response *out, char *err,
	       size_t errlen)
{
	return call_blocking(req, NULL, out, err, errlen);
}

int httpc_stream(const struct httpc_request *req, const struct httpc_stream_opts *so,
		 struct httpc_response *out, char *err, size_t errlen)
{
	return call_blocking(req, so, out, err, errlen);
}
