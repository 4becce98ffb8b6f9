/* Docker volume plugin client; see plugin-client.h. */
#include "agent/plugin-client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/util.h"

bool plugin_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > PLUGIN_MAX_NAME || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

/* ---- discovery ---- */

static bool is_socket(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

static int set_unix(struct plugin_addr *out, const char *path)
{
	memset(out, 0, sizeof(*out));
	if (!*path || strlen(path) >= sizeof(out->path))
		return -EINVAL;
	out->is_unix = true;
	memcpy(out->path, path, strlen(path) + 1);
	return 0;
}

int plugin_url_parse(const char *url, struct plugin_addr *out)
{
	while (*url == ' ' || *url == '\t')
		url++;
	char tmp[512];
	size_t n = strcspn(url, " \t\r\n");
	if (n >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, url, n);
	tmp[n] = '\0';
	if (str_has_prefix(tmp, "unix://"))
		return tmp[7] == '/' ? set_unix(out, tmp + 7) : -EINVAL;
	if (str_has_prefix(tmp, "https://"))
		return -ENOTSUP;
	const char *hp = NULL;
	if (str_has_prefix(tmp, "tcp://"))
		hp = tmp + 6;
	else if (str_has_prefix(tmp, "http://"))
		hp = tmp + 7;
	if (!hp)
		return -EINVAL;
	char hpbuf[300];
	size_t hl = strcspn(hp, "/");
	if (hl >= sizeof(hpbuf))
		return -EINVAL;
	memcpy(hpbuf, hp, hl);
	hpbuf[hl] = '\0';
	char *host = NULL;
	uint16_t port = 0;
	if (parse_hostport(hpbuf, &host, &port) < 0 || port == 0)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (strlen(host) >= sizeof(out->host)) {
		free(host);
		return -EINVAL;
	}
	memcpy(out->host, host, strlen(host) + 1);
	out->port = port;
	free(host);
	return 0;
}

/* A spec file: .spec holds the URL, .json {"Addr": URL}. */
static int read_spec(const char *path, bool is_json, struct plugin_addr *out)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	char buf[4096];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (!is_json)
		return plugin_url_parse(buf, out);
	json_t *j = json_loadb(buf, n, 0, NULL);
	const char *addr = json_string_value(json_object_get(j, "Addr"));
	int r = addr ? plugin_url_parse(addr, out) : -EINVAL;
	json_decref(j);
	return r;
}

int plugin_discover(const char *const *sock_dirs, const char *const *spec_dirs,
		    const char *name, struct plugin_addr *out)
{
	if (!plugin_name_valid(name))
		return -EINVAL;
	for (size_t i = 0; sock_dirs && sock_dirs[i]; i++) {
		char *p = xasprintf("%s/%s.sock", sock_dirs[i], name);
		char *q = xasprintf("%s/%s/%s.sock", sock_dirs[i], name, name);
		int r = is_socket(p) ? set_unix(out, p) : is_socket(q) ? set_unix(out, q) : -ENOENT;
		free(p);
		free(q);
		if (r != -ENOENT)
			return r;
	}
	for (size_t i = 0; spec_dirs && spec_dirs[i]; i++) {
		static const char *const ext[] = { "spec", "json" };
		for (size_t k = 0; k < 2; k++) {
			char *p = xasprintf("%s/%s.%s", spec_dirs[i], name, ext[k]);
			int r = access(p, F_OK) == 0 ? read_spec(p, k == 1, out) : -ENOENT;
			free(p);
			if (r != -ENOENT)
				return r;
		}
	}
	return -ENOENT;
}

int plugin_discover_default(const char *extra_dir, const char *name, struct plugin_addr *out)
{
	const char *socks[] = { extra_dir, "/run/docker/plugins", NULL };
	const char *specs[] = { extra_dir, "/etc/docker/plugins", "/usr/lib/docker/plugins", NULL };
	if (!extra_dir || !*extra_dir)
		return plugin_discover(socks + 1, specs + 1, name, out);
	return plugin_discover(socks, specs, name, out);
}

/* ---- HTTP response ---- */

static const char *find_crlf2(const char *buf, size_t len)
{
	for (size_t i = 0; i + 3 < len; i++)
		if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n')
			return buf + i;
	return NULL;
}

/* Value of header name in the header block [h, end), or NULL; *vlen its length. */
static const char *header(const char *h, const char *end, const char *name, size_t *vlen)
{
	size_t nl = strlen(name);
	while (h < end) {
		const char *eol = memchr(h, '\n', (size_t)(end - h));
		if (!eol)
			eol = end;
		if ((size_t)(eol - h) > nl && !strncasecmp(h, name, nl) && h[nl] == ':') {
			const char *v = h + nl + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			const char *ve = eol;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			*vlen = (size_t)(ve - v);
			return v;
		}
		h = eol + 1;
	}
	return NULL;
}

/* Decodes a chunked body in [p, end). 0, -EAGAIN, -EINVAL, -E2BIG. */
static int dechunk(const char *p, const char *end, char **body, size_t *blen)
{
	char *out = NULL;
	size_t n = 0;
	for (;;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol) {
			free(out);
			return (size_t)(end - p) > 32 ? -EINVAL : -EAGAIN;
		}
		size_t sz = 0;
		const char *q = p;
		int digits = 0;
		for (; q < eol; q++, digits++) {
			int d = *q >= '0' && *q <= '9' ? *q - '0'
				: (*q | 0x20) >= 'a' && (*q | 0x20) <= 'f' ? (*q | 0x20) - 'a' + 10
									   : -1;
			if (d < 0)
				break;
			if (digits >= 8) {
				free(out);
				return -E2BIG;
			}
			sz = sz * 16 + (size_t)d;
		}
		if (!digits || (q < eol && *q != '\r' && *q != ';' && *q != ' ')) {
			free(out);
			return -EINVAL;
		}
		p = eol + 1;
		if (sz == 0)
			break; /* trailers are not needed: the body is complete */
		if (n + sz > PLUGIN_MAX_ANSWER) {
			free(out);
			return -E2BIG;
		}
		if ((size_t)(end - p) < sz + 2) {
			free(out);
			return -EAGAIN;
		}
		out = xrealloc(out, n + sz + 1);
		memcpy(out + n, p, sz);
		n += sz;
		p += sz;
		if (p[0] == '\r')
			p++;
		if (p[0] != '\n') {
			free(out);
			return -EINVAL;
		}
		p++;
	}
	if (!out)
		out = xmalloc(1);
	out[n] = '\0';
	*body = out;
	*blen = n;
	return 0;
}

int plugin_http_parse(const char *buf, size_t len, bool eof, int *status, char **body,
		      size_t *blen)
{
	const char *hend = find_crlf2(buf, len);
	if (!hend) {
		if (len > PLUGIN_MAX_HEADERS)
			return -E2BIG;
		return eof ? -EINVAL : -EAGAIN;
	}
	if (len < 12 || memcmp(buf, "HTTP/1.", 7) || buf[8] != ' ')
		return -EINVAL;
	int code = 0;
	for (int i = 9; i < 12; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -EINVAL;
		code = code * 10 + (buf[i] - '0');
	}
	if (code < 100 || (len > 12 && buf[12] != ' ' && buf[12] != '\r'))
		return -EINVAL;
	const char *h = memchr(buf, '\n', (size_t)(hend - buf));
	h = h ? h + 1 : hend;
	const char *b = hend + 4, *end = buf + len;
	size_t vlen = 0, tlen = 0;
	const char *te = header(h, hend, "Transfer-Encoding", &tlen);
	const char *cl = header(h, hend, "Content-Length", &vlen);
	*status = code;
	if (te && tlen >= 7 && !strncasecmp(te + tlen - 7, "chunked", 7)) {
		int r = dechunk(b, end, body, blen);
		return r == -EAGAIN && eof ? -EINVAL : r;
	}
	size_t want;
	if (cl) {
		char num[24];
		uint64_t v;
		if (vlen == 0 || vlen >= sizeof(num))
			return -EINVAL;
		memcpy(num, cl, vlen);
		num[vlen] = '\0';
		if (parse_u64(num, &v) < 0)
			return -EINVAL;
		if (v > PLUGIN_MAX_ANSWER)
			return -E2BIG;
		want = (size_t)v;
		if ((size_t)(end - b) < want)
			return eof ? -EINVAL : -EAGAIN;
	} else {
		if ((size_t)(end - b) > PLUGIN_MAX_ANSWER)
			return -E2BIG;
		if (!eof)
			return -EAGAIN;
		want = (size_t)(end - b);
	}
	char *out = xmalloc(want + 1);
	memcpy(out, b, want);
	out[want] = '\0';
	*body = out;
	*blen = want;
	return 0;
}

int plugin_answer_parse(int status, const char *body, size_t len, json_t **out, char *err,
			size_t errlen)
{
	json_t *j = json_loadb(body, len, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, NULL);
	const char *e = json_is_object(j) ? json_string_value(json_object_get(j, "Err")) : NULL;
	*out = NULL;
	if (status != 200 || (e && *e)) {
		if (e && *e) {
			snprintf(err, errlen, "%s", e);
		} else {
			/* The raw body, first line, printable bytes only. */
			size_t k = 0;
			for (size_t i = 0; i < len && k + 1 < errlen && body[i] != '\n'; i++)
				if ((unsigned char)body[i] >= 0x20 && body[i] != 0x7f)
					err[k++] = body[i];
			err[k] = '\0';
			if (!k)
				snprintf(err, errlen, "HTTP %d", status);
		}
		json_decref(j);
		return -EIO;
	}
	if (!json_is_object(j)) {
		snprintf(err, errlen, "malformed answer from the driver");
		json_decref(j);
		return -EINVAL;
	}
	*out = j;
	return 0;
}

/* ---- one call ---- */

struct plugin_call {
	struct event_base *base;
	int fd;
	struct event *io, *timer;
	char *req;
	size_t req_len, req_off;
	char *in;
	size_t in_len, in_alloc;
	uint32_t timeout_ms;
	plugin_call_cb cb;
	void *arg;
};

void plugin_call_cancel(struct plugin_call *c)
{
	if (!c)
		return;
	if (c->io)
		event_free(c->io);
	if (c->timer)
		event_free(c->timer);
	if (c->fd >= 0)
		close(c->fd);
	free(c->req);
	free(c->in);
	free(c);
}

static void finish(struct plugin_call *c, int r, json_t *answer, const char *err)
{
	plugin_call_cb cb = c->cb;
	void *arg = c->arg;
	/* Free first: the callback may start the next call (even on the same socket path). */
	plugin_call_cancel(c);
	cb(r, answer, err, arg);
}

static void fail_errno(struct plugin_call *c, const char *what, int e)
{
	char msg[160];
	snprintf(msg, sizeof(msg), "%s: %s", what, strerror(e));
	finish(c, -e, NULL, msg);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct plugin_call *c = arg;
	char msg[96];
	snprintf(msg, sizeof(msg), "the driver did not answer within %u ms", c->timeout_ms);
	finish(c, -ETIMEDOUT, NULL, msg);
}

static void try_complete(struct plugin_call *c, bool eof)
{
	int status = 0;
	char *body = NULL;
	size_t blen = 0;
	int r = plugin_http_parse(c->in ? c->in : "", c->in_len, eof, &status, &body, &blen);
	if (r == -EAGAIN)
		return;
	if (r < 0) {
		finish(c, r, NULL, r == -E2BIG ? "answer too large" : "malformed HTTP answer");
		return;
	}
	json_t *j = NULL;
	char err[512];
	r = plugin_answer_parse(status, body, blen, &j, err, sizeof(err));
	free(body);
	finish(c, r, j, r < 0 ? err : NULL);
	json_decref(j);
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
	struct plugin_call *c = arg;
	if (c->req_off < c->req_len) {
		if (c->req_off == 0) {
			int e = 0;
			socklen_t el = sizeof(e);
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == -1)
				e = errno;
			if (e) {
				fail_errno(c, "cannot connect to the driver", e);
				return;
			}
		}
		ssize_t n = send(fd, c->req + c->req_off, c->req_len - c->req_off, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			fail_errno(c, "cannot send to the driver", errno);
			return;
		}
		c->req_off += (size_t)n;
		if (c->req_off == c->req_len) {
			event_del(c->io);
			event_assign(c->io, c->base, fd, EV_READ | EV_PERSIST, on_io, c);
			event_add(c->io, NULL);
		}
		return;
	}
	for (;;) {
		if (c->in_alloc - c->in_len < 4096) {
			if (c->in_alloc >= PLUGIN_MAX_ANSWER + PLUGIN_MAX_HEADERS) {
				finish(c, -E2BIG, NULL, "answer too large");
				return;
			}
			c->in_alloc = c->in_alloc ? c->in_alloc * 2 : 8192;
			c->in = xrealloc(c->in, c->in_alloc);
		}
		ssize_t n = recv(fd, c->in + c->in_len, c->in_alloc - c->in_len, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			try_complete(c, false);
			return;
		}
		if (n == -1) {
			fail_errno(c, "cannot read from the driver", errno);
			return;
		}
		if (n == 0) {
			try_complete(c, true);
			return;
		}
		c->in_len += (size_t)n;
	}
}

static int open_socket(const struct plugin_addr *addr)
{
	if (addr->is_unix) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		memcpy(sa.sun_path, addr->path, strlen(addr->path) + 1);
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd == -1)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 && errno != EINPROGRESS &&
		    errno != EAGAIN) {
			int r = -errno;
			close(fd);
			return r;
		}
		return fd;
	}
	/* Numeric addresses and names from /etc/hosts resolve without the network; a name that
	 * needs DNS blocks here (spec files normally say localhost or an address). */
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	char port[8];
	snprintf(port, sizeof(port), "%u", addr->port);
	if (getaddrinfo(addr->host, port, &hints, &res) != 0 || !res)
		return -EHOSTUNREACH;
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		int r = -errno;
		freeaddrinfo(res);
		return r;
	}
	if (connect(fd, res->ai_addr, res->ai_addrlen) == -1 && errno != EINPROGRESS) {
		int r = -errno;
		close(fd);
		freeaddrinfo(res);
		return r;
	}
	freeaddrinfo(res);
	return fd;
}

static void on_start_failed(evutil_socket_t fd, short what, void *arg)
{
	struct plugin_call *c = arg;
	fail_errno(c, "cannot connect to the driver", (int)c->req_off);
}

struct plugin_call *plugin_call_start(struct event_base *base, const struct plugin_addr *addr,
				      const char *method, json_t *body, uint32_t timeout_ms,
				      plugin_call_cb cb, void *arg)
{
	struct plugin_call *c = xcalloc(1, sizeof(*c));
	c->base = base;
	c->cb = cb;
	c->arg = arg;
	c->timeout_ms = timeout_ms;
	char *js = body ? json_dumps(body, JSON_COMPACT) : xstrdup("{}");
	if (!js)
		js = xstrdup("{}");
	c->req = xasprintf("POST %s HTTP/1.1\r\nHost: plugin\r\n"
			   "Accept: application/vnd.docker.plugins.v1.2+json\r\n"
			   "Content-Type: application/json\r\nContent-Length: %zu\r\n"
			   "Connection: close\r\n\r\n%s",
			   method, strlen(js), js);
	free(js);
	c->req_len = strlen(c->req);
	c->timer = evtimer_new(base, on_timeout, c);
	c->fd = open_socket(addr);
	if (c->fd < 0) {
		/* Reported from the loop, never from inside this call. */
		int e = -c->fd;
		c->fd = -1;
		c->io = evtimer_new(base, on_start_failed, c);
		c->req_len = 0;
		c->req_off = (size_t)e;
		struct timeval zero = { 0, 0 };
		if (!c->io || !c->timer || event_add(c->io, &zero) == -1) {
			plugin_call_cancel(c);
			return NULL;
		}
		return c;
	}
	c->io = event_new(base, c->fd, EV_WRITE | EV_PERSIST, on_io, c);
	struct timeval tv = { (time_t)(timeout_ms / 1000), (suseconds_t)(timeout_ms % 1000) * 1000 };
	if (!c->io || !c->timer || event_add(c->io, NULL) == -1 || event_add(c->timer, &tv) == -1) {
		plugin_call_cancel(c);
		return NULL;
	}
	return c;
}
