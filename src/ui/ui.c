/* Serves the embedded console assets. Nothing here allocates or keeps state: the table is
 * constant, generated at build time. */
#include <string.h>

#include "net/http.h"
#include "ui/ui-assets.h"
#include "ui/ui.h"

static const struct ui_asset *find(const char *name)
{
	for (unsigned i = 0; i < ui_assets_n; i++)
		if (!strcmp(ui_assets[i].name, name))
			return &ui_assets[i];
	return NULL;
}

bool ui_etag_listed(const char *list, const char *etag)
{
	if (!list || !etag)
		return false;
	size_t n = strlen(etag);
	const char *p = list;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			return false;
		const char *end = p;
		while (*end && *end != ',')
			end++;
		const char *e = end; /* trim the item's trailing blanks */
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e - p == 1 && *p == '*')
			return true;
		if (e - p >= 2 && p[0] == 'W' && p[1] == '/') /* weak comparison */
			p += 2;
		if ((size_t)(e - p) == n && !memcmp(p, etag, n))
			return true;
		p = end;
	}
}

void ui_http_serve(struct evhttp_request *req, const char *path)
{
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
		http_reply_message(req, 405, "Method not allowed");
		return;
	}
	const char *name = "index.html";
	if (!strncmp(path, "/ui/", 4) && path[4])
		name = path + 4;
	const struct ui_asset *a = find(name);
	if (!a) {
		http_reply_message(req, 404, "Not found: '%s'", path);
		return;
	}
	http_add_header(req, "ETag", a->etag);
	/* The page's name never changes; its modules are revalidated by ETag (cheap: 304). */
	http_add_header(req, "Cache-Control", "no-cache");
	http_add_header(req, "X-Content-Type-Options", "nosniff");
	if (!strcmp(a->type, "text/html; charset=utf-8"))
		http_add_header(req, "Content-Security-Policy",
				"default-src 'self'; style-src 'self'; img-src 'self' data:; "
				"frame-ancestors 'none'");
	const char *inm = evhttp_find_header(evhttp_request_get_input_headers(req),
					     "If-None-Match");
	if (ui_etag_listed(inm, a->etag)) {
		http_reply_bytes(req, 304, NULL, NULL, 0);
		return;
	}
	http_reply_bytes(req, 200, a->type, (const char *)a->data, a->len);
}
