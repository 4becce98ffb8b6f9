/* The plain-HTTP port beside an HTTPS master (--http-plain ADDR:PORT, docs/security.md):
 * with TLS on, the master's API is served over HTTPS only; a client or browser that still
 * speaks plain HTTP to the port configured here gets, as --http-plain-action says,
 *   redirect (default): 307 Temporary Redirect, Location https://HOST:TLSPORT/URI — the
 *     method and body are kept, so `curl -L` and requests follow a POST as well; HOST is
 *     the request's Host without its port, else the master's advertised name;
 *   refuse: 403 {"message": "HTTPS is required: https://…"} and the connection closed.
 * Nothing else is served there: no API, no authentication, no credentials cross it (a
 * client sending them in clear has already lost them; the answer does not echo them). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/http.h"
#include "server/plain-http.h"

#define PLAIN_HTTP_MAX_BODY (1024u * 1024u) /* larger bodies get 413 */

struct plain_http {
	struct http_server *srv;
	bool refuse;
	uint16_t https_port;
	char host[256]; /* the fallback name */
};

/* The host part of a Host header ("name", "name:port", "[v6]:port"), into out; false when
 * absent or not a plain host name or address. */
static bool host_of(const char *h, char *out, size_t outlen)
{
	if (!h || !*h)
		return false;
	size_t n;
	if (h[0] == '[') {
		const char *e = strchr(h, ']');
		if (!e)
			return false;
		n = (size_t)(e - h) + 1;
	} else {
		n = strcspn(h, ":");
	}
	if (n == 0 || n >= outlen || n > 253)
		return false;
	bool v6 = h[0] == '[';
	if (v6 && n < 3)
		return false; /* "[]" */
	for (size_t i = v6; i < n - v6; i++) {
		unsigned char c = (unsigned char)h[i];
		if (v6 ? !isxdigit(c) && c != ':' && c != '.' : !isalnum(c) && c != '.' && c != '-' &&
							      c != '_')
			return false;
	}
	memcpy(out, h, n);
	out[n] = '\0';
	return true;
}

int plain_http_location(const char *host_header, const char *fallback, uint16_t port,
			const char *uri, char *out, size_t outlen)
{
	char host[256];
	if (!host_of(host_header, host, sizeof(host)))
		snprintf(host, sizeof(host), "%s", fallback);
	if (!uri || uri[0] != '/')
		uri = "/";
	int n = snprintf(out, outlen, "https://%s:%u%s", host, (unsigned)port, uri);
	return n < 0 || (size_t)n >= outlen ? -E2BIG : 0;
}

static void on_request(struct evhttp_request *req, void *ctx)
{
	struct plain_http *p = ctx;
	const char *hh = evhttp_find_header(evhttp_request_get_input_headers(req), "Host");
	char loc[8192 + 300];
	if (plain_http_location(hh, p->host, p->https_port, evhttp_request_get_uri(req), loc,
				sizeof(loc)) < 0) {
		http_reply_message(req, 414, "URI Too Long");
		return;
	}
	http_add_header(req, "Connection", "close");
	if (p->refuse) {
		http_reply_message(req, 403, "HTTPS is required: %s", loc);
		return;
	}
	http_add_header(req, "Location", loc);
	http_reply_message(req, 307, "Moved to HTTPS: %s", loc);
}

int plain_http_new(struct event_base *base, const struct plain_http_config *cfg,
		   struct plain_http **out)
{
	struct plain_http *p = xcalloc(1, sizeof(*p));
	p->refuse = cfg->refuse;
	p->https_port = cfg->https_port;
	const char *h = cfg->hostname;
	char me[256];
	if (!h || !*h) {
		if (gethostname(me, sizeof(me)) == -1)
			snprintf(me, sizeof(me), "localhost");
		me[sizeof(me) - 1] = '\0';
		h = me;
	}
	snprintf(p->host, sizeof(p->host), "%s", h);
	/* the body is read and dropped: a POST is redirected too, up to this size */
	int r = http_server_new(base, cfg->addr, cfg->port, PLAIN_HTTP_MAX_BODY, on_request, p,
				&p->srv);
	if (r < 0) {
		free(p);
		return r;
	}
	if (cfg->limits)
		http_server_set_limits(p->srv, cfg->limits);
	*out = p;
	return 0;
}

uint16_t plain_http_port(const struct plain_http *p)
{
	return http_server_port(p->srv);
}

void plain_http_free(struct plain_http *p)
{
	if (!p)
		return;
	http_server_free(p->srv);
	free(p);
}
