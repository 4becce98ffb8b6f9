/* HAProxy's configuration text and the slot tables (see lb-render.h). */
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "lb/lb-render.h"

static int cmp_backend(const void *a, const void *b)
{
	return strcmp(((const struct lb_backend_slots *)a)->name,
		      ((const struct lb_backend_slots *)b)->name);
}

const struct lb_backend_slots *lb_slotmap_find(const struct lb_slotmap *m, const char *name)
{
	struct lb_backend_slots key = { .name = (char *)name };
	if (!m->n)
		return NULL;
	return bsearch(&key, m->v, m->n, sizeof(*m->v), cmp_backend);
}

void lb_slotmap_release(struct lb_slotmap *m)
{
	for (size_t i = 0; i < m->n; i++) {
		for (size_t k = 0; k < m->v[i].nslots; k++)
			free(m->v[i].slot[k].host);
		free(m->v[i].slot);
		free(m->v[i].name);
	}
	free(m->v);
	memset(m, 0, sizeof(*m));
}

static size_t round_up(size_t n)
{
	return (n + LB_SLOT_STEP - 1) / LB_SLOT_STEP * LB_SLOT_STEP;
}

static bool slot_is(const struct lb_slot *s, const struct lb_server *sv)
{
	return s->host && s->port == sv->port && !strcmp(s->host, sv->host);
}

static void assign_one(const struct lb_backend_slots *old, const struct lb_service *svc,
		       struct lb_backend_slots *b)
{
	size_t want = svc->nservers;
	size_t n = old ? old->nslots : 0;
	if (want > n || !n)
		n = round_up(want * 2 > LB_SLOT_STEP ? want * 2 : LB_SLOT_STEP);
	else if (n > LB_SLOT_STEP && round_up(want * 2) <= n / 4)
		n = round_up(want * 2 > LB_SLOT_STEP ? want * 2 : LB_SLOT_STEP);
	b->name = xstrdup(svc->name);
	b->nslots = n;
	b->slot = xcalloc(n, sizeof(*b->slot));
	bool *placed = xcalloc(want + 1, sizeof(bool));
	/* keep: a task in the old table stays in its slot (when the table kept its size) */
	if (old && old->nslots == n) {
		for (size_t k = 0; k < n; k++)
			for (size_t i = 0; i < want; i++)
				if (!placed[i] && slot_is(&old->slot[k], &svc->servers[i])) {
					b->slot[k].host = xstrdup(svc->servers[i].host);
					b->slot[k].port = svc->servers[i].port;
					placed[i] = true;
					break;
				}
	}
	/* the others into free slots, lowest first; a slot freed just now is taken last so a
	 * draining task's slot is not reused at once when another is free */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0, k = 0; i < want; i++) {
			if (placed[i])
				continue;
			for (; k < n; k++) {
				bool was_used = old && old->nslots == n && old->slot[k].host;
				if (!b->slot[k].host && (pass == 1 || !was_used))
					break;
			}
			if (k == n)
				break;
			b->slot[k].host = xstrdup(svc->servers[i].host);
			b->slot[k].port = svc->servers[i].port;
			placed[i] = true;
		}
	free(placed);
}

void lb_slots_assign(const struct lb_slotmap *prev, const struct lb_services *svcs,
		     struct lb_slotmap *next)
{
	next->v = svcs->n ? xcalloc(svcs->n, sizeof(*next->v)) : NULL;
	next->n = svcs->n;
	for (size_t i = 0; i < svcs->n; i++)
		assign_one(lb_slotmap_find(prev, svcs->v[i].name), &svcs->v[i], &next->v[i]);
	if (next->n)
		qsort(next->v, next->n, sizeof(*next->v), cmp_backend);
}

static void bind_line(struct strbuf *out, const char *addr, uint16_t port)
{
	strbuf_addf(out, "  bind %s:%u", addr && *addr && strcmp(addr, "*") ? addr : "", port);
}

/* ACL order on the vhost frontends: heavier first, then with a path before without. */
static int cmp_route(const void *a, const void *b)
{
	const struct lb_service *x = *(const struct lb_service *const *)a;
	const struct lb_service *y = *(const struct lb_service *const *)b;
	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	if (!x->path != !y->path)
		return x->path ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void vhost_frontend(const struct lb_render_opts *o, const struct lb_services *svcs,
			   bool https, struct strbuf *out)
{
	const struct lb_service **r = xcalloc(svcs->n + 1, sizeof(*r));
	size_t n = 0;
	struct strbuf crt = STRBUF_INIT;
	for (size_t i = 0; i < svcs->n; i++) {
		const struct lb_service *s = &svcs->v[i];
		if (!s->nvhosts || !s->http)
			continue;
		r[n++] = s;
		if (s->ssl_cert)
			strbuf_addf(&crt, " crt %s", s->ssl_cert);
	}
	if (!n || (https && !crt.len)) {
		free(r);
		strbuf_release(&crt);
		return;
	}
	qsort(r, n, sizeof(*r), cmp_route);
	strbuf_addf(out, "\nfrontend marathon_%s_in\n", https ? "https" : "http");
	bind_line(out, o->bind, https ? o->https_port : o->http_port);
	if (https)
		strbuf_addf(out, " ssl%s", crt.buf);
	strbuf_adds(out, "\n  mode http\n  option forwardfor\n");
	for (size_t i = 0; i < n; i++) {
		strbuf_addf(out, "  acl host_%s hdr(host),field(1,:) -i", r[i]->name);
		for (size_t k = 0; k < r[i]->nvhosts; k++)
			strbuf_addf(out, " %s", r[i]->vhosts[k]);
		strbuf_addch(out, '\n');
		if (r[i]->path)
			strbuf_addf(out, "  acl path_%s path_beg %s\n", r[i]->name, r[i]->path);
	}
	for (size_t i = 0; i < n; i++) {
		const char *nm = r[i]->name;
		const char *p = r[i]->path ? " path_" : "";
		const char *pn = r[i]->path ? nm : "";
		if (!https && r[i]->redirect_https)
			strbuf_addf(out, "  http-request redirect scheme https code 301 if "
				    "host_%s%s%s\n", nm, p, pn);
		strbuf_addf(out, "  use_backend %s if host_%s%s%s\n", nm, nm, p, pn);
	}
	free(r);
	strbuf_release(&crt);
}

static void service_frontend(const struct lb_render_opts *o, const struct lb_service *s,
			     struct strbuf *out)
{
	strbuf_addf(out, "\nfrontend %s\n", s->name);
	bind_line(out, s->bind_addr ? s->bind_addr : o->bind, s->port);
	if (s->ssl_cert)
		strbuf_addf(out, " ssl crt %s", s->ssl_cert);
	strbuf_addf(out, "\n  mode %s\n", s->http ? "http" : "tcp");
	if (s->http && s->redirect_https)
		strbuf_adds(out, "  http-request redirect scheme https code 301 if !{ ssl_fc }\n");
	strbuf_addf(out, "  use_backend %s\n", s->name);
}

static void backend(const struct lb_service *s, const struct lb_backend_slots *b, bool shape,
		    struct strbuf *out)
{
	strbuf_addf(out, "\nbackend %s\n  balance %s\n  mode %s\n", s->name, s->balance,
		    s->http ? "http" : "tcp");
	if (s->http) {
		strbuf_adds(out, "  option forwardfor\n"
				 "  http-request set-header X-Forwarded-Port %[dst_port]\n"
				 "  retry-on conn-failure empty-response response-timeout\n");
		if (s->sticky)
			strbuf_adds(out, "  cookie mesosphere_server_id insert indirect nocache\n");
		if (s->proxypass)
			strbuf_addf(out, "  http-request set-path %%[path,regsub(^%s/?,/)]\n",
				    s->proxypass);
	}
	for (size_t k = 0; b && k < b->nslots; k++) {
		strbuf_addf(out, "  server s%zu", k + 1);
		if (!shape) {
			if (b->slot[k].host)
				strbuf_addf(out, " %s:%u", b->slot[k].host, b->slot[k].port);
			else
				strbuf_adds(out, " 127.0.0.1:1 disabled");
		}
		if (s->http && s->sticky)
			strbuf_addf(out, " cookie s%zu", k + 1);
		strbuf_addch(out, '\n');
	}
}

void lb_render(const struct lb_render_opts *o, const struct lb_services *svcs,
	       const struct lb_slotmap *slots, bool shape, struct strbuf *out)
{
	strbuf_adds(out, "# Rendered by berth lb from marathon-lb's labels; do not edit.\n"
			 "global\n");
	strbuf_addf(out, "  stats socket %s mode 600 level admin expose-fd listeners\n",
		    o->socket);
	strbuf_adds(out, "  stats timeout 2m\n"
			 "\n"
			 "defaults\n"
			 "  timeout connect 5s\n"
			 "  timeout client 60s\n"
			 "  timeout server 60s\n"
			 "  timeout http-request 15s\n"
			 "  timeout queue 30s\n"
			 "  retries 6\n"
			 "  option redispatch 1\n"
			 "  option dontlognull\n"
			 "\n"
			 "frontend berth_lb_admin\n");
	bind_line(out, o->bind, o->stats_port);
	strbuf_adds(out, "\n  mode http\n"
			 "  monitor-uri /_haproxy_health_check\n"
			 "  stats enable\n"
			 "  stats uri /haproxy?stats\n"
			 "  stats refresh 10s\n");
	if (o->self)
		strbuf_addf(out, "  use_backend berth_lb_self if { path /_haproxy_getconfig }\n"
				 "\nbackend berth_lb_self\n  mode http\n  server lb %s\n",
			    o->self);
	vhost_frontend(o, svcs, false, out);
	vhost_frontend(o, svcs, true, out);
	for (size_t i = 0; i < svcs->n; i++)
		if (svcs->v[i].port)
			service_frontend(o, &svcs->v[i], out);
	for (size_t i = 0; i < svcs->n; i++)
		backend(&svcs->v[i], lb_slotmap_find(slots, svcs->v[i].name), shape, out);
}
