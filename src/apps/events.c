/* Marathon's event bus: GET /v2/events as Server-Sent Events (reference/compat.md §3.4).
 *
 * Invariants:
 *  - Each event is serialized once and queued by reference to every subscriber whose filter
 *    matches: the master holds one copy of it until the slowest subscriber has sent it.
 *  - A subscriber holds at most EVENTS_MAX_PENDING unsent bytes (2 MiB: several of the largest
 *    api_post_events); one that cannot keep up is
 *    cut off (http_stream's bound), so the master's memory does not grow with slow readers.
 *  - At most EVENTS_MAX_SUBSCRIBERS streams at once; more get 503.
 *  - The first event on a stream is event_stream_attached; a "\r\n" heartbeat goes out
 *    every EVENTS_HEARTBEAT_SEC.
 *  - With view ACLs, a subscriber gets only the events about apps its principal may view
 *    (events-view.h); the check is memoized per principal and event. */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "apps/apps-int.h"
#include "apps/events-view.h"

#define EVENTS_MAX_PENDING (2u * 1024u * 1024u)
#define EVENTS_MAX_SUBSCRIBERS 4096
#define EVENTS_HEARTBEAT_SEC 10

struct ev_sub {
	struct apps *m;
	struct http_stream *st;
	json_t *types; /* array of event types, or NULL for all */
	bool light;    /* plan-format=light: deployment events' plan without original/target */
	char remote[64];
	char *principal; /* its request's authenticated principal, or NULL */
	struct ev_sub *prev, *next;
};

static bool wants(const struct ev_sub *s, const char *type)
{
	if (!s->types)
		return true;
	size_t i;
	json_t *t;
	json_array_foreach(s->types, i, t) {
		if (!strcmp(json_string_value(t), type))
			return true;
	}
	return false;
}

static void sub_unlink(struct ev_sub *s)
{
	struct apps *m = s->m;
	if (s->prev)
		s->prev->next = s->next;
	else
		m->subs = s->next;
	if (s->next)
		s->next->prev = s->prev;
	m->nsubs--;
	json_decref(s->types);
	free(s->principal);
	free(s);
}

static void on_close(struct http_stream *st, void *ctx)
{
	struct ev_sub *s = ctx;
	struct apps *m = s->m;
	char remote[64];
	memcpy(remote, s->remote, sizeof(remote));
	sub_unlink(s);
	/* Not while shutting down: the other streams are closing too. */
	if (!m->events_closing)
		events_publish(m, "event_stream_detached",
			       json_pack("{s:s}", "remoteAddress", remote));
}

static char *frame(const char *type, json_t *payload, size_t *len)
{
	char ts[32];
	json_object_set_new(payload, "eventType", json_string(type));
	if (!json_object_get(payload, "timestamp"))
		json_object_set_new(payload, "timestamp", json_string(time_iso8601(time_real_usec(), ts)));
	char *data = json_dumps(payload, JSON_COMPACT | JSON_REAL_PRECISION(15));
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "event: %s\r\ndata: %s\r\n\r\n", type, data);
	free(data);
	return strbuf_detach(&sb, len);
}

void events_handle(struct apps *m, struct evhttp_request *req)
{
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		http_reply_message(req, 405, "Method not allowed");
		return;
	}
	const char *acc = evhttp_find_header(evhttp_request_get_input_headers(req), "Accept");
	if (!acc || !strstr(acc, "text/event-stream")) {
		http_reply_message(req, 405, "Accept: text/event-stream is required");
		return;
	}
	if (m->nsubs >= EVENTS_MAX_SUBSCRIBERS) {
		http_reply_message(req, 503, "Too many event subscribers");
		return;
	}
	const char *who =
		evhttp_find_header(evhttp_request_get_input_headers(req), HTTP_PRINCIPAL_HEADER);
	if (who && m->streams_per_principal) {
		unsigned n = 0;
		for (struct ev_sub *o = m->subs; o; o = o->next)
			n += o->principal && !strcmp(o->principal, who);
		if (n >= m->streams_per_principal) {
			http_reply_message(req, 429, "Too many event streams for principal '%.100s' "
					   "(at most %u)", who, m->streams_per_principal);
			return;
		}
	}
	json_t *types = http_query_all(req, "event_type");
	struct ev_sub *s = xcalloc(1, sizeof(*s));
	s->m = m;
	s->types = json_array_size(types) ? types : NULL;
	if (!s->types)
		json_decref(types);
	char *pf = http_query_get(req, "plan-format");
	s->light = pf && !strcmp(pf, "light");
	free(pf);
	char remote[64];
	snprintf(remote, sizeof(remote), "%s", http_request_peer(req));
	memcpy(s->remote, remote, sizeof(remote));
	s->principal = who ? xstrdup(who) : NULL;
	s->st = http_stream_start(m->base, req, 200, "text/event-stream;charset=UTF-8",
				  EVENTS_MAX_PENDING, on_close, s);
	if (!s->st) {
		free(s->principal);
		json_decref(s->types);
		free(s);
		return;
	}
	s->next = m->subs;
	if (m->subs)
		m->subs->prev = s;
	m->subs = s;
	m->nsubs++;
	json_t *att = json_pack("{s:s}", "remoteAddress", remote);
	size_t len;
	char *f = frame("event_stream_attached", att, &len);
	json_decref(att);
	if (wants(s, "event_stream_attached"))
		http_stream_write(s->st, f, len);
	free(f);
}

void events_plan_formats(struct apps *m, const char *type, bool *light, bool *heavy)
{
	*light = *heavy = false;
	for (struct ev_sub *s = m->subs; s; s = s->next)
		if (wants(s, type))
			*(s->light ? light : heavy) = true;
}

void events_publish_plan(struct apps *m, const char *type, json_t *light, json_t *heavy)
{
	if (!m->subs) {
		json_decref(light);
		json_decref(heavy);
		return;
	}
	json_t *payload[2] = { light, heavy };
	struct http_shared *sh[2] = { NULL, NULL };
	struct ev_view view[2];
	ev_view_init(&view[0], m, light);
	ev_view_init(&view[1], m, heavy);
	for (struct ev_sub *s = m->subs; s; s = s->next) {
		if (!wants(s, type))
			continue;
		int k = s->light || light == heavy ? 0 : 1;
		if (!payload[k])
			continue; /* the caller knew nobody wants this form (events_plan_formats) */
		if (!ev_view_allows(&view[k], s->principal))
			continue;
		if (!sh[k]) {
			size_t len;
			char *f = frame(type, payload[k], &len);
			/* One copy of the event however many subscribers still have it queued. */
			sh[k] = http_shared_new(f, len);
			free(f);
		}
		http_stream_write_shared(s->st, sh[k]); /* -EPIPE: it is being cut off */
	}
	for (int k = 0; k < 2; k++) {
		ev_view_release(&view[k]);
		if (sh[k])
			http_shared_unref(sh[k]);
		json_decref(payload[k]);
	}
}

void events_publish(struct apps *m, const char *type, json_t *payload)
{
	events_publish_plan(m, type, payload, json_incref(payload));
}

void apps_publish_event(struct apps *ap, const char *type, json_t *payload)
{
	/* berth's own types are opt-in: only streams that name them in event_type get them, so
	 * a Marathon client reading every event sees exactly Marathon's types. */
	struct http_shared *sh = NULL;
	struct ev_view view;
	ev_view_init(&view, ap, payload);
	for (struct ev_sub *s = ap->subs; s; s = s->next) {
		if (!s->types || !wants(s, type) || !ev_view_allows(&view, s->principal))
			continue;
		if (!sh) {
			size_t len;
			char *f = frame(type, payload, &len);
			sh = http_shared_new(f, len);
			free(f);
		}
		http_stream_write_shared(s->st, sh); /* -EPIPE: it is being cut off */
	}
	ev_view_release(&view);
	if (sh)
		http_shared_unref(sh);
	json_decref(payload);
}

void events_tick(struct apps *m)
{
	uint64_t now = time_mono_usec();
	if (now - m->events_hb_usec < EVENTS_HEARTBEAT_SEC * 1000000ull)
		return;
	m->events_hb_usec = now;
	/* Backlogs of slow subscribers come and go: hand freed memory back to the system. */
	malloc_trim(0);
	for (struct ev_sub *s = m->subs; s; s = s->next)
		http_stream_write(s->st, "\r\n", 2);
}

void events_close_all(struct apps *m)
{
	m->events_closing = true;
	/* http_stream_close defers on_close, which unlinks: walk a snapshot of the list. */
	for (struct ev_sub *s = m->subs; s; s = s->next)
		http_stream_close(s->st);
}

void apps_set_stream_limit(struct apps *m, unsigned n)
{
	m->streams_per_principal = n;
}
