/* Docker volume plugin client; see plugin-client.h. */
#include "agent/plugin-client.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/util.h"
#include "net/httpc.h"

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

/* ---- the driver's answer ---- */

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
	struct httpc_call *http;
	uint32_t timeout_ms;
	char where[sizeof(((struct plugin_addr *)0)->host) + 16]; /* for messages */
	plugin_call_cb cb;
	void *arg;
};

void plugin_call_cancel(struct plugin_call *c)
{
	if (!c)
		return;
	httpc_call_cancel(c->http);
	free(c);
}

static void on_http(int r, const struct httpc_response *resp, const char *http_err, void *arg)
{
	struct plugin_call *c = arg;
	plugin_call_cb cb = c->cb;
	void *cb_arg = c->arg;
	char err[512];
	json_t *j = NULL;
	if (r == -ETIMEDOUT)
		snprintf(err, sizeof(err), "the driver did not answer within %u ms", c->timeout_ms);
	else if (r < 0)
		snprintf(err, sizeof(err), "driver at '%s': %s", c->where,
			 http_err ? http_err : strerror(-r));
	else
		r = plugin_answer_parse(resp->status, resp->body, resp->body_len, &j, err,
					sizeof(err));
	/* Free first: the callback may start the next call. The HTTP call is already gone. */
	c->http = NULL;
	plugin_call_cancel(c);
	cb(r, j, r < 0 ? err : NULL, cb_arg);
	json_decref(j);
}

struct plugin_call *plugin_call_start(struct event_base *base, const struct plugin_addr *addr,
				      const char *method, json_t *body, uint32_t timeout_ms,
				      plugin_call_cb cb, void *arg)
{
	if (!method || method[0] != '/')
		return NULL;
	struct plugin_call *c = xcalloc(1, sizeof(*c));
	c->cb = cb;
	c->arg = arg;
	c->timeout_ms = timeout_ms;
	char *url;
	if (addr->is_unix) {
		/* the host only names the Host header: the socket is the peer */
		snprintf(c->where, sizeof(c->where), "%s", addr->path);
		url = xasprintf("http://plugin%s", method);
	} else {
		bool v6 = strchr(addr->host, ':') != NULL;
		snprintf(c->where, sizeof(c->where), "%s%s%s:%u", v6 ? "[" : "", addr->host,
			 v6 ? "]" : "", (unsigned)addr->port);
		url = xasprintf("http://%s%s", c->where, method);
	}
	char *js = body ? json_dumps(body, JSON_COMPACT) : NULL;
	if (!js)
		js = xstrdup("{}");
	struct httpc_request req = {
		.method = "POST",
		.url = url,
		.unix_socket = addr->is_unix ? addr->path : NULL,
		.body = js,
		.body_len = strlen(js),
		.content_type = "application/json",
		.accept = "application/vnd.docker.plugins.v1.2+json",
		.timeout_usec = (uint64_t)timeout_ms * 1000,
		.max_body = PLUGIN_MAX_ANSWER,
	};
	c->http = httpc_call_start(base, &req, on_http, c);
	free(js);
	free(url);
	if (!c->http) {
		free(c);
		return NULL;
	}
	return c;
}
