/* The pure helpers of the Mesos state shapes (state-json.h), split from state-json.c:
 * resources and attributes in the legacy and v1 shapes, UPIDs, Accept / Content-Type
 * negotiation, and the master's reachable address. Unit tested in
 * tests/unit/test-state-json.c. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/mem.h"
#include "base/strbuf.h"
#include "base/util.h"
#include "master/master-int.h"
#include "master/state-json.h"
#include "model/mesos-resources.h"

/* ---- pure helpers ---- */

static const char *const scalar_defaults[] = { "cpus", "gpus", "mem", "disk" };

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "{a, b}" of the union of the items of name's set entries matching role. */
static char *set_text(const struct resources *r, const char *name, const char *role)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].name, name) && (!role || !strcmp(r->v[i].role, role)))
			n += r->v[i].nitems;
	char **items = xcalloc(n ? n : 1, sizeof(*items));
	size_t k = 0;
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].name, name) && (!role || !strcmp(r->v[i].role, role)))
			for (size_t j = 0; j < r->v[i].nitems; j++)
				items[k++] = r->v[i].items[j];
	qsort(items, k, sizeof(*items), cmp_str);
	struct strbuf sb = STRBUF_INIT;
	strbuf_addch(&sb, '{');
	for (size_t i = 0; i < k; i++) {
		if (i && !strcmp(items[i], items[i - 1]))
			continue;
		if (i)
			strbuf_adds(&sb, ", ");
		strbuf_adds(&sb, items[i]);
	}
	strbuf_addch(&sb, '}');
	free(items);
	return strbuf_detach(&sb, NULL);
}

json_t *state_json_resources(const struct resources *r, const char *role)
{
	json_t *o = json_object();
	for (size_t i = 0; i < ARRAY_SIZE(scalar_defaults); i++)
		json_object_set_new(o, scalar_defaults[i], json_real(0));
	for (size_t i = 0; i < r->n; i++) {
		const struct resource *e = &r->v[i];
		if (role && strcmp(e->role, role))
			continue;
		if (e->type == RES_SCALAR) {
			double prev = json_real_value(json_object_get(o, e->name));
			json_object_set_new(o, e->name, json_real(prev + e->scalar));
		} else if (!json_object_get(o, e->name)) {
			/* All entries of the name (over the roles asked for) at once. */
			char *s = e->type == RES_RANGES ? resources_format_ranges(r, e->name, role) :
							  set_text(r, e->name, role);
			json_object_set_new(o, e->name, json_string(s));
			free(s);
		}
	}
	return o;
}

json_t *state_json_reserved(const struct resources *r)
{
	json_t *o = json_object();
	for (size_t i = 0; i < r->n; i++) {
		const char *role = r->v[i].role;
		if (strcmp(role, "*") && !json_object_get(o, role))
			json_object_set_new(o, role, state_json_resources(r, role));
	}
	return o;
}

char *state_json_spaced_list(const char *compact)
{
	struct strbuf sb = STRBUF_INIT;
	for (const char *p = compact; *p; p++) {
		if (*p == ',') {
			strbuf_adds(&sb, ", ");
			while (p[1] == ' ')
				p++;
		} else {
			strbuf_addch(&sb, *p);
		}
	}
	return strbuf_detach(&sb, NULL);
}

json_t *state_json_attributes(const struct attributes *a)
{
	json_t *o = json_object();
	for (size_t i = 0; i < a->n; i++) {
		const struct attribute *at = &a->v[i];
		if (at->type == ATTR_SCALAR) {
			json_object_set_new(o, at->name, json_real(at->scalar));
		} else if (at->type == ATTR_TEXT) {
			json_object_set_new(o, at->name, json_string(at->text));
		} else {
			char *s = state_json_spaced_list(at->text);
			json_object_set_new(o, at->name, json_string(s));
			free(s);
		}
	}
	return o;
}

json_t *state_json_resources_v1(const struct resources *r, const char *alloc_role)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < r->n; i++) {
		const struct resource *e = &r->v[i];
		json_t *o = json_pack("{s:s}", "name", e->name);
		if (e->type == RES_SCALAR) {
			json_object_set_new(o, "type", json_string("SCALAR"));
			json_object_set_new(o, "scalar", json_pack("{s:f}", "value", e->scalar));
		} else if (e->type == RES_RANGES) {
			json_t *rg = json_array();
			for (size_t j = 0; j < e->nranges; j++)
				json_array_append_new(rg, json_pack("{s:I, s:I}", "begin",
								    (json_int_t)e->ranges[j].begin, "end",
								    (json_int_t)e->ranges[j].end));
			json_object_set_new(o, "type", json_string("RANGES"));
			json_object_set_new(o, "ranges", json_pack("{s:o}", "range", rg));
		} else {
			json_t *it = json_array();
			for (size_t j = 0; j < e->nitems; j++)
				json_array_append_new(it, json_string(e->items[j]));
			json_object_set_new(o, "type", json_string("SET"));
			json_object_set_new(o, "set", json_pack("{s:o}", "item", it));
		}
		json_object_set_new(o, "role", json_string(e->role));
		if (strcmp(e->role, "*"))
			json_object_set_new(o, "reservations",
					    json_pack("[{s:s, s:s}]", "type", "STATIC", "role", e->role));
		if (alloc_role)
			json_object_set_new(o, "allocation_info", json_pack("{s:s}", "role", alloc_role));
		json_array_append_new(arr, o);
	}
	return arr;
}

/* Attributes in the v1 shape: the same as offers carry (model/mesos-resources.c). */
json_t *state_json_attributes_v1(const struct attributes *a)
{
	return mesos_attributes_to_json(a);
}

int state_json_upid(const char *id, const char *host, uint16_t port, char *out, size_t len)
{
	bool v6 = strchr(host, ':') != NULL;
	int n = snprintf(out, len, v6 ? "%s@[%s]:%u" : "%s@%s:%u", id, host, (unsigned)port);
	if (n < 0 || (size_t)n >= len) {
		if (len)
			out[0] = '\0';
		return -E2BIG;
	}
	return 0;
}

/* One media type of a header list: [b, e) trimmed, without parameters, into out. */
static void media_type(const char *b, const char *e, char *out, size_t len)
{
	const char *semi = memchr(b, ';', (size_t)(e - b));
	if (semi)
		e = semi;
	while (b < e && isspace((unsigned char)*b))
		b++;
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	size_t n = (size_t)(e - b) < len - 1 ? (size_t)(e - b) : len - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)b[i]);
	out[n] = '\0';
}

/* q of a media range [b, e): 1 unless a "q=" parameter says otherwise. */
static double media_q(const char *b, const char *e)
{
	const char *p = memchr(b, ';', (size_t)(e - b));
	while (p && p < e) {
		p++;
		while (p < e && isspace((unsigned char)*p))
			p++;
		if (e - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
			char num[16];
			const char *s = p + 2, *t = s;
			while (t < e && *t != ';' && !isspace((unsigned char)*t))
				t++;
			size_t n = (size_t)(t - s);
			double q;
			if (n == 0 || n >= sizeof(num))
				return 0;
			memcpy(num, s, n);
			num[n] = '\0';
			return parse_double(num, &q) == 0 ? q : 0;
		}
		p = memchr(p, ';', (size_t)(e - p));
	}
	return 1;
}

bool state_json_accepts_json(const char *accept)
{
	if (!accept)
		return true;
	const char *p = accept;
	bool blank = true;
	for (const char *s = accept; *s; s++)
		if (!isspace((unsigned char)*s))
			blank = false;
	if (blank)
		return true;
	while (*p) {
		const char *c = strchr(p, ',');
		const char *e = c ? c : p + strlen(p);
		char mt[64];
		media_type(p, e, mt, sizeof(mt));
		if ((!strcmp(mt, "application/json") || !strcmp(mt, "application/*") ||
		     !strcmp(mt, "*/*")) &&
		    media_q(p, e) > 0)
			return true;
		p = c ? c + 1 : e;
	}
	return false;
}

int state_json_content_type(const char *ct)
{
	if (!ct)
		return -ENOENT;
	char mt[64];
	media_type(ct, ct + strlen(ct), mt, sizeof(mt));
	if (!mt[0])
		return -ENOENT;
	if (!strcmp(mt, "application/json"))
		return 0;
	if (!strcmp(mt, "application/x-protobuf"))
		return -EPROTONOSUPPORT;
	return -EINVAL;
}

/* ---- the master's state ---- */

static bool addr_is_wildcard(const char *a)
{
	return !a || !*a || !strcmp(a, "*") || !strcmp(a, "0.0.0.0") || !strcmp(a, "::") ||
	       !strcmp(a, "[::]");
}

void state_json_master_addr(struct master *m, struct evhttp_request *req, char *ip, size_t iplen,
			    uint16_t *port)
{
	const char *a = m->cfg.http_addr;
	*port = m->port;
	snprintf(ip, iplen, "127.0.0.1");
	if (a && !strcmp(a, "localhost"))
		return;
	if (!addr_is_wildcard(a)) {
		size_t n = strlen(a);
		if (n >= 2 && a[0] == '[' && a[n - 1] == ']')
			snprintf(ip, iplen, "%.*s", (int)(n - 2), a + 1);
		else
			snprintf(ip, iplen, "%s", a);
		return;
	}
	/* Bound to every address: the one this client reached us on is one it can use. */
	struct evhttp_connection *conn = req ? evhttp_request_get_connection(req) : NULL;
	struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
	evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
		return;
	char buf[INET6_ADDRSTRLEN];
	if (ss.ss_family == AF_INET &&
	    inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, buf, sizeof(buf)))
		snprintf(ip, iplen, "%s", buf);
	else if (ss.ss_family == AF_INET6 &&
		 inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, buf, sizeof(buf)))
		snprintf(ip, iplen, "%s", strncmp(buf, "::ffff:", 7) ? buf : buf + 7);
}

void state_json_set_repeated(json_t *o, const char *key, json_t *arr)
{
	if (json_array_size(arr))
		json_object_set_new(o, key, arr);
	else
		json_decref(arr);
}
