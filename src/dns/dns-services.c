/* The discovery watch (berth's Ranger role, docs/dns.md): GET /v2/services/{app} gives an
 * app's healthy endpoints; with ?watch=true a Server-Sent Events stream gives them, then
 * every change. Fed by the same task events as the DNS records (dns.c's on_task).
 *
 * Invariants:
 *  - An app's endpoints are exactly its tasks that are TASK_RUNNING and, when they have
 *    health checks, healthy (the DNS rule); each change is one event to its watchers.
 *  - A watcher holds at most d->watch_max_pending (SVC_MAX_PENDING) unsent bytes: one that does not read is cut
 *    off (http_stream's bound). At most SVC_MAX_WATCHERS at once (more get 503).
 *  - An app with neither endpoints nor watchers is not kept.
 *  - d->stale is !rm_store_healthy as of the last check (every second, and at each answer):
 *    every answer and event carries it ("stale", and the X-Berth-Stale header), and each
 *    change of it is a "store" event to every watcher. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <event2/event.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "dns/dns-int.h"
#include "net/http.h"

#define SVC_MAX_PENDING (256u * 1024u)
#define SVC_MAX_WATCHERS 1024
#define SVC_MAX_PORTS 64

struct svc_ep {
	char *task_id;
	char *host;
	char ip[INET_ADDRSTRLEN];
	uint32_t ports[SVC_MAX_PORTS];
	size_t nports;
};

struct svc_watch {
	struct svc *svc;
	struct http_stream *st;
	bool dead;
	struct svc_watch *prev, *next;
};

struct svc {
	struct dns *d;
	char *app;
	struct svc_ep *eps;
	size_t n, cap;
	struct svc_watch *watchers;
};

static struct svc *svc_get(struct dns *d, const char *app, bool create)
{
	struct svc *s = hmap_get(&d->services, app);
	if (!s && create) {
		s = xcalloc(1, sizeof(*s));
		s->d = d;
		s->app = xstrdup(app);
		hmap_put(&d->services, app, s);
	}
	return s;
}

static void svc_maybe_free(struct svc *s)
{
	if (s->n || s->watchers)
		return;
	hmap_del(&s->d->services, s->app);
	free(s->eps);
	free(s->app);
	free(s);
}

static json_t *ep_json(const struct svc *s, const struct svc_ep *e)
{
	json_t *ports = json_array();
	for (size_t i = 0; i < e->nports; i++)
		json_array_append_new(ports, json_integer(e->ports[i]));
	return json_pack("{s:s, s:s, s:s, s:s, s:o}", "appId", s->app, "taskId", e->task_id,
			 "host", e->host, "ipAddress", e->ip, "ports", ports);
}

static json_t *svc_json(const struct svc *s, const char *app)
{
	json_t *eps = json_array();
	for (size_t i = 0; s && i < s->n; i++)
		json_array_append_new(eps, ep_json(s, &s->eps[i]));
	return json_pack("{s:s, s:o, s:b}", "appId", app, "endpoints", eps, "stale",
			 s && s->d->stale);
}

static void publish(struct svc *s, const char *type, json_t *data)
{
	json_object_set_new(data, "stale", json_boolean(s->d->stale));
	char *text = json_dumps(data, JSON_COMPACT);
	json_decref(data);
	if (!text)
		return;
	char *frame = xasprintf("event: %s\r\ndata: %s\r\n\r\n", type, text);
	free(text);
	for (struct svc_watch *w = s->watchers; w; w = w->next)
		if (!w->dead && http_stream_write(w->st, frame, strlen(frame)) < 0) {
			log_warn("dns", "service watcher of '%s' cut off: it does not read", s->app);
			w->dead = true;
		}
	free(frame);
}

static void ep_free(struct svc_ep *e)
{
	free(e->task_id);
	free(e->host);
}

void dns_services_task(struct dns *d, const struct rm_task_view *t, bool live, uint32_t ip,
		       const char *host)
{
	const char *old = hmap_get(&d->task_app, t->id);
	if (old) {
		struct svc *s = svc_get(d, old, false);
		for (size_t i = 0; s && i < s->n; i++)
			if (!strcmp(s->eps[i].task_id, t->id)) {
				if (live)
					return; /* already listed (a health result that changed nothing) */
				publish(s, "endpoint_removed", ep_json(s, &s->eps[i]));
				ep_free(&s->eps[i]);
				s->eps[i] = s->eps[--s->n];
				break;
			}
		char *app = hmap_del(&d->task_app, t->id);
		free(app);
		if (s)
			svc_maybe_free(s);
	}
	if (!live || !t->app_id || !ip)
		return;
	struct svc *s = svc_get(d, t->app_id, true);
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 4;
		s->eps = xrealloc(s->eps, s->cap * sizeof(*s->eps));
	}
	struct svc_ep *e = &s->eps[s->n++];
	*e = (struct svc_ep){ .task_id = xstrdup(t->id), .host = xstrdup(host ? host : "") };
	struct in_addr a = { ip };
	inet_ntop(AF_INET, &a, e->ip, sizeof(e->ip));
	for (size_t i = 0; t->res && i < t->res->n; i++) {
		const struct resource *r = &t->res->v[i];
		if (r->type != RES_RANGES || strcmp(r->name, "ports"))
			continue;
		for (size_t j = 0; j < r->nranges; j++)
			for (uint64_t p = r->ranges[j].begin;
			     p <= r->ranges[j].end && e->nports < SVC_MAX_PORTS; p++)
				e->ports[e->nports++] = (uint32_t)p;
	}
	hmap_put(&d->task_app, t->id, xstrdup(t->app_id));
	publish(s, "endpoint_added", ep_json(s, e));
}

static void on_close(struct http_stream *st, void *ctx)
{
	(void)st;
	struct svc_watch *w = ctx;
	struct svc *s = w->svc;
	if (w->prev)
		w->prev->next = w->next;
	else
		s->watchers = w->next;
	if (w->next)
		w->next->prev = w->prev;
	s->d->nwatchers--;
	free(w);
	svc_maybe_free(s);
}

/* d->stale as rm_store_healthy says now; a change is a "store" event to every watcher. */
static void check_health(struct dns *d)
{
	bool stale = d->m && !rm_store_healthy(d->m);
	if (stale == d->stale)
		return;
	d->stale = stale;
	if (stale)
		log_warn("dns", "the store is unreachable: serving the last known endpoints");
	else
		log_info("dns", "the store is reachable again: endpoints are current");
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&d->services, &i, &k, &v);)
		publish(v, "store", json_object());
}

static void on_health(evutil_socket_t fd, short what, void *ctx)
{
	(void)fd;
	(void)what;
	check_health(ctx);
}

void dns_http_services_v2(struct dns *d, struct evhttp_request *req, const char *id)
{
	char app[1024];
	snprintf(app, sizeof(app), "/%s", id ? id : "");
	size_t n = strlen(app);
	while (n > 1 && app[n - 1] == '/')
		app[--n] = '\0';
	bool watch = false;
	if (http_query_bool(req, "watch", false, &watch) < 0) {
		http_reply_message(req, 400, "watch: expected true or false");
		return;
	}
	check_health(d);
	json_t *body = svc_json(svc_get(d, app, false), app);
	json_object_set_new(body, "stale", json_boolean(d->stale));
	evhttp_add_header(evhttp_request_get_output_headers(req), "X-Berth-Stale",
			  d->stale ? "true" : "false");
	if (!watch) {
		http_reply_json(req, 200, body);
		return;
	}
	json_decref(body);
	if (d->nwatchers >= SVC_MAX_WATCHERS) {
		http_reply_message(req, 503, "Too many service watchers");
		return;
	}
	struct svc *s = svc_get(d, app, true);
	struct svc_watch *w = xcalloc(1, sizeof(*w));
	w->svc = s;
	w->next = s->watchers;
	if (s->watchers)
		s->watchers->prev = w;
	s->watchers = w;
	d->nwatchers++;
	w->st = http_stream_start(d->base, req, 200, "text/event-stream;charset=UTF-8",
				  d->watch_max_pending, on_close, w);
	json_t *all = svc_json(s, app);
	json_object_set_new(all, "stale", json_boolean(d->stale));
	char *text = json_dumps(all, JSON_COMPACT);
	json_decref(all);
	char *frame = xasprintf("event: endpoints\r\ndata: %s\r\n\r\n", text ? text : "{}");
	free(text);
	if (http_stream_write(w->st, frame, strlen(frame)) < 0)
		w->dead = true;
	free(frame);
}

int dns_services_start(struct dns *d, const char *max_pending)
{
	d->watch_max_pending = SVC_MAX_PENDING;
	if (max_pending) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(max_pending, &end, 10);
		if (errno || end == max_pending || *end || v < 1 || v > (1ull << 30) ||
		    max_pending[0] == '-') {
			log_error("dns", "--services-watch-buffer: expected bytes in 1..%llu, got "
				  "'%s'", 1ull << 30, max_pending);
			return -EINVAL;
		}
		d->watch_max_pending = (size_t)v;
	}
	d->health_ev = event_new(d->base, -1, EV_PERSIST, on_health, d);
	struct timeval tv = { 1, 0 };
	event_add(d->health_ev, &tv);
	return 0;
}

void dns_services_close_all(struct dns *d)
{
	if (d->health_ev) {
		event_free(d->health_ev);
		d->health_ev = NULL;
	}
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&d->services, &i, &k, &v);) {
		struct svc *s = v;
		for (struct svc_watch *w = s->watchers; w; w = w->next)
			if (!w->dead) {
				w->dead = true;
				http_stream_close(w->st);
			}
	}
}

void dns_services_free(struct dns *d)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&d->services, &i, &k, &v);) {
		struct svc *s = v;
		for (size_t j = 0; j < s->n; j++)
			ep_free(&s->eps[j]);
		free(s->eps);
		free(s->app);
		free(s);
	}
	hmap_release(&d->services);
	for (size_t i = 0; hmap_next(&d->task_app, &i, &k, &v);)
		free(v);
	hmap_release(&d->task_app);
}
