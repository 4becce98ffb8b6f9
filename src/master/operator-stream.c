/* The operator API's event stream: `POST /api/v1` {"type":"SUBSCRIBE"} (reference/compat.md
 * §2.1). Each subscriber gets a chunked RecordIO stream (§1.2), one record per chunk: first
 * SUBSCRIBED {get_state, heartbeat_interval_seconds}, then TASK_ADDED, TASK_UPDATED,
 * AGENT_ADDED, AGENT_REMOVED, FRAMEWORK_ADDED/UPDATED/REMOVED as they happen, and a HEARTBEAT
 * every OP_HEARTBEAT_SEC.
 *
 * The master's files call the operator_event_* hooks; each returns at once when nobody is
 * subscribed, so they cost nothing on a master without operator subscribers.
 *
 * Invariants:
 *  - Each event is serialized once and queued by reference to every subscriber.
 *  - A subscriber holds at most OP_MAX_PENDING unsent bytes past its first record; one that
 *    does not read is cut off (http_stream's bound). At most OP_MAX_SUBSCRIBERS at once
 *    (more get 503).
 *  - Tasks of the built-in frameworks are announced (TASK_ADDED) before their first
 *    TASK_UPDATED: m->op_announced holds the ids of live tasks staged since the first
 *    subscriber came, so a task shown in a subscriber's get_state is not announced to it
 *    again (per-subscriber `since`). It is bounded by the live tasks (and OP_MAX_ANNOUNCED)
 *    and emptied with the last subscriber.
 *  - The subscribers are m's (m->op_subs); the server ends every stream (and so runs every
 *    on_close) before the master is freed.
 *  - With view ACLs (rm_set_view_filter), what follows the snapshot is filtered as Mesos's
 *    Subscriber::send does: TASK_ADDED and TASK_UPDATED go to a subscriber whose principal
 *    may view_tasks (object: the task's user, else its framework's) and view_frameworks
 *    (its framework's user); FRAMEWORK_* need view_frameworks; AGENT_*, HEARTBEAT go to all.
 *    The check is the only per-subscriber cost: the record is still made once. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "master/fw-int.h"
#include "master/master-int.h"
#include "master/state-json.h"
#include "net/recordio.h"

#define OP_MAX_PENDING (4u * 1024u * 1024u)
#define OP_MAX_SUBSCRIBERS 1024
#define OP_HEARTBEAT_SEC 15
#define OP_MAX_ANNOUNCED 1000000

struct op_sub {
	struct master *m;
	struct http_stream *st;
	struct event *hb;
	uint64_t since_usec;      /* realtime: when it subscribed */
	int wire;                 /* OPERATOR_WIRE_JSON or _PROTOBUF: its records' encoding */
	bool dead;                /* cut off or closed; on_close pending */
	char *principal;          /* its request's authenticated principal, or NULL */
	struct op_sub *prev, *next;
};


/* ---- pure builders ---- */

json_t *operator_event_new(const char *type, json_t *payload)
{
	json_t *ev = json_pack("{s:s}", "type", type);
	if (!payload)
		return ev;
	char key[64];
	size_t i = 0;
	for (; type[i] && i + 1 < sizeof(key); i++)
		key[i] = (char)(type[i] >= 'A' && type[i] <= 'Z' ? type[i] - 'A' + 'a' : type[i]);
	key[i] = '\0';
	json_object_set_new(ev, key, payload);
	return ev;
}

json_t *operator_status_v1(const char *task_id, const char *agent_id, const char *state,
			   const char *message, uint64_t real_usec)
{
	bool by_master = !strcmp(state, "TASK_LOST") || !strcmp(state, "TASK_UNREACHABLE") ||
			 !strcmp(state, "TASK_GONE") || !strcmp(state, "TASK_DROPPED");
	json_t *s = json_pack("{s:{s:s}, s:s, s:s, s:f}", "task_id", "value", task_id, "state",
			      state, "source", by_master ? "SOURCE_MASTER" : "SOURCE_EXECUTOR",
			      "timestamp", (double)real_usec / 1e6);
	if (agent_id && *agent_id)
		json_object_set_new(s, "agent_id", json_pack("{s:s}", "value", agent_id));
	if (message && *message)
		json_object_set_new(s, "message", json_string(message));
	return s;
}

json_t *operator_task_updated_v1(const char *framework_id, json_t *status)
{
	const char *state = json_string_value(json_object_get(status, "state"));
	json_t *p = json_pack("{s:{s:s}, s:o}", "framework_id", "value", framework_id, "status",
			      status);
	if (state)
		json_object_set_new(p, "state", json_string(state));
	return operator_event_new("TASK_UPDATED", p);
}

/* ---- delivery ---- */

unsigned operator_stream_count(const struct master *m)
{
	unsigned n = 0;
	for (const struct op_sub *s = m->op_subs; s; s = s->next)
		if (!s->dead)
			n++;
	return n;
}

bool rm_event_listeners(const struct master *m)
{
	return m->op_subs != NULL || m->task_listener != NULL;
}

struct replay {
	struct master *m;
	const char *framework;
};

static void replay_task(const struct rm_task_view *t, void *ctx)
{
	struct replay *rp = ctx;
	if (rp->m->task_listener && t->id && t->state)
		rp->m->task_listener(rp->m->task_listener_ctx, t, rp->framework, t->state);
	json_decref(t->discovery);
}

static const char *fw_name(const struct fw_task *t);

void rm_task_listen(struct master *m, rm_task_listener_fn fn, void *ctx)
{
	m->task_listener = fn;
	m->task_listener_ctx = ctx;
	if (!fn)
		return;
	/* The live tasks, as though each had just changed. */
	for (size_t c = 0; c < m->nclients; c++) {
		struct replay rp = { m, m->clients[c]->name };
		m->clients[c]->ops->each_task(m->clients[c]->ctx, true, replay_task, &rp);
	}
	const char *k;
	void *v;
	for (size_t i = 0; m->fw && hmap_next(&m->fw->tasks, &i, &k, &v);) {
		const struct fw_task *t = v;
		if (!t->fw || !t->state)
			continue;
		struct rm_task_view view;
		fw_task_view(t, &view);
		fn(ctx, &view, fw_name(t), t->state);
	}
}

/* Tells the task listener, if any, of t's new state (NULL: forgotten). */
static void tell_listener(struct master *m, const char *framework, const struct rm_task_view *t,
			  const char *state)
{
	if (m->task_listener && t->id)
		m->task_listener(m->task_listener_ctx, t, framework, state);
}

/* An external framework's user (FrameworkInfo.user), or NULL when unknown (an orphan). */
static const char *fw_user(const struct fw_framework *fw)
{
	return fw ? json_string_value(json_object_get(fw->info, "user")) : NULL;
}

/* An external framework's name (FrameworkInfo.name), or "" when unknown. */
static const char *fw_name(const struct fw_task *t)
{
	const char *n = t->fw ? json_string_value(json_object_get(t->fw->info, "name")) : NULL;
	return n ? n : "";
}

void operator_event_fw_task_gone(struct master *m, const struct fw_task *t)
{
	if (!m->task_listener)
		return;
	struct rm_task_view v;
	fw_task_view(t, &v);
	tell_listener(m, fw_name(t), &v, NULL);
}

static bool anyone(const struct master *m)
{
	for (const struct op_sub *s = m->op_subs; s; s = s->next)
		if (!s->dead)
			return true;
	return false;
}

static void sub_write(struct op_sub *s, struct http_shared *sh)
{
	if (s->dead)
		return;
	if (http_stream_write_shared(s->st, sh) < 0) {
		log_warn("master", "operator subscriber cut off: it does not read its stream");
		s->dead = true;
	}
}

/* Whom a task's or framework's event is about, for the view ACLs (users NULL: unknown, which
 * only ANY and NONE rules match). */
struct op_view {
	const char *fw_user;
	const char *task_user; /* the task's own user, or NULL: its framework's */
	bool task;
};

static bool may_see(const struct master *m, const struct op_sub *s, const struct op_view *v)
{
	if (!m->may_view || !v)
		return true;
	if (v->task && !m->may_view(m->may_view_ctx, "view_tasks", s->principal,
				    v->task_user ? v->task_user : v->fw_user))
		return false;
	return m->may_view(m->may_view_ctx, "view_frameworks", s->principal, v->fw_user);
}

/* Sends ev (taken) to m's subscribers that subscribed at or before since_usec (0: all) and
 * may see it (v: whom it is about, or NULL: everyone may). */
static void publish(struct master *m, json_t *ev, uint64_t since_usec, const struct op_view *v)
{
	/* One record per encoding, made when a subscriber wants it. */
	struct http_shared *sh[2] = { NULL, NULL };
	bool failed[2] = { false, false };
	for (struct op_sub *s = m->op_subs; s; s = s->next) {
		if ((since_usec && s->since_usec > since_usec) || s->dead || !may_see(m, s, v))
			continue;
		int w = s->wire == OPERATOR_WIRE_PROTOBUF;
		if (!sh[w] && !failed[w]) {
			size_t len;
			char *rec = operator_event_record(ev, s->wire, &len);
			failed[w] = !rec;
			if (rec)
				sh[w] = http_shared_new(rec, len);
			free(rec);
		}
		if (sh[w])
			sub_write(s, sh[w]);
	}
	json_decref(ev);
	for (int w = 0; w < 2; w++)
		if (sh[w])
			http_shared_unref(sh[w]);
}

static void on_heartbeat(evutil_socket_t fd, short what, void *ctx)
{
	(void)fd;
	(void)what;
	struct op_sub *s = ctx;
	if (s->dead)
		return;
	size_t len;
	json_t *ev = operator_event_new("HEARTBEAT", NULL);
	char *rec = operator_event_record(ev, s->wire, &len);
	json_decref(ev);
	if (rec && http_stream_write(s->st, rec, len) < 0)
		s->dead = true;
	free(rec);
}

static void on_close(struct http_stream *st, void *ctx)
{
	(void)st;
	struct op_sub *s = ctx;
	struct master *m = s->m;
	if (s->prev)
		s->prev->next = s->next;
	else
		m->op_subs = s->next;
	if (s->next)
		s->next->prev = s->prev;
	m->op_nsubs--;
	if (s->hb)
		event_free(s->hb);
	free(s->principal);
	free(s);
	if (!m->op_subs) {
		hmap_release(&m->op_announced);
		hmap_init(&m->op_announced);
	}
}

void operator_stream_subscribe(struct master *m, struct evhttp_request *req, json_t *get_state)
{
	if (m->op_nsubs >= OP_MAX_SUBSCRIBERS) {
		json_decref(get_state);
		http_reply_text(req, 503, "Too many operator API subscribers");
		return;
	}
	const char *who =
		evhttp_find_header(evhttp_request_get_input_headers(req), HTTP_PRINCIPAL_HEADER);
	if (who && m->streams_per_principal) {
		unsigned n = 0;
		for (struct op_sub *o = m->op_subs; o; o = o->next)
			n += o->principal && !strcmp(o->principal, who);
		if (n >= m->streams_per_principal) {
			json_decref(get_state);
			char msg[256];
			snprintf(msg, sizeof(msg), "Too many operator API subscribers for principal "
				 "'%.100s' (at most %u)", who, m->streams_per_principal);
			http_reply_text(req, 429, msg);
			return;
		}
	}
	json_t *ev = operator_event_new(
		"SUBSCRIBED", json_pack("{s:o, s:f}", "get_state", get_state,
					"heartbeat_interval_seconds", (double)OP_HEARTBEAT_SEC));
	size_t len;
	int wire = operator_accept(req) == OPERATOR_WIRE_PROTOBUF ? OPERATOR_WIRE_PROTOBUF
								   : OPERATOR_WIRE_JSON;
	char *rec = operator_event_record(ev, wire, &len);
	json_decref(ev);
	if (!rec) {
		http_reply_text(req, 500, "Cannot serialize the state");
		return;
	}
	struct op_sub *s = xcalloc(1, sizeof(*s));
	s->m = m;
	s->wire = wire;
	s->since_usec = time_real_usec();
	s->principal = who ? xstrdup(who) : NULL;
	if (!m->op_subs)
		m->op_announced_since = s->since_usec;
	s->next = m->op_subs;
	if (m->op_subs)
		m->op_subs->prev = s;
	m->op_subs = s;
	m->op_nsubs++;
	/* The first record may be large (the whole state): the bound applies past it. */
	s->st = http_stream_start(m->base, req, 200,
				  wire == OPERATOR_WIRE_PROTOBUF ? "application/x-protobuf"
								 : "application/json",
				  OP_MAX_PENDING + len, on_close, s);
	if (http_stream_write(s->st, rec, len) < 0)
		s->dead = true;
	free(rec);
	s->hb = event_new(m->base, -1, EV_PERSIST, on_heartbeat, s);
	struct timeval tv = { OP_HEARTBEAT_SEC, 0 };
	if (!s->hb || event_add(s->hb, &tv) < 0)
		log_warn("master", "operator subscriber: cannot arm its heartbeat timer");
	log_info("master", "operator API subscriber from %s (%u now)", http_request_peer(req),
		 m->op_nsubs);
}

void operator_stream_close_all(struct master *m)
{
	for (struct op_sub *s = m->op_subs; s; s = s->next)
		if (!s->dead) {
			s->dead = true;
			http_stream_close(s->st);
		}
}

/* ---- tasks ---- */

/* TASK_ADDED for a built-in framework's task not announced yet (and staged while someone
 * listens). Takes t->discovery, announced or not. */
static void task_announce(struct master *m, const struct rm_task_view *t)
{
	if (!t->id || !t->id[0] || hmap_get(&m->op_announced, t->id) ||
	    t->staged_usec < m->op_announced_since ||
	    hmap_len(&m->op_announced) >= OP_MAX_ANNOUNCED) {
		json_decref(t->discovery);
		return;
	}
	hmap_put(&m->op_announced, t->id, (void *)1);
	struct rm_task_view staging = *t;
	staging.state = "TASK_STAGING";
	staging.started_usec = 0;
	staging.healthy = -1;
	json_t *task = state_json_task(&staging, NULL, true);
	json_object_del(task, "statuses");
	json_object_del(task, "status_update_state");
	const struct op_view view = { framework_user(), t->user, true };
	publish(m, operator_event_new("TASK_ADDED", json_pack("{s:o}", "task", task)),
		t->staged_usec, &view);
}

void rm_event_task_added(struct master *m, struct rm_client *c, const struct rm_task_view *t)
{
	tell_listener(m, c->name, t, t->state);
	if (anyone(m))
		task_announce(m, t);
	else
		json_decref(t->discovery);
}

void rm_event_task_updated(struct master *m, struct rm_client *c, const struct rm_task_view *t,
			   const char *state, const char *message)
{
	if (state)
		tell_listener(m, c->name, t, state);
	if (!anyone(m) || !state || !t->id) {
		json_decref(t->discovery);
		return;
	}
	task_announce(m, t);
	const struct op_view view = { framework_user(), t->user, true };
	publish(m,
		operator_task_updated_v1(c->id, operator_status_v1(t->id, t->agent_id, state, message,
								   time_real_usec())),
		0, &view);
	if (task_state_terminal(state))
		hmap_del(&m->op_announced, t->id);
}

struct fw_added {
	struct master *m;
	char *task_id;
};

/* Deferred: the launching code fills the task in after fw_task_new. */
static void fw_task_announce(evutil_socket_t fd, short what, void *ctx)
{
	(void)fd;
	(void)what;
	struct fw_added *fa = ctx;
	struct master *m = fa->m;
	struct fw_task *t = m->fw && anyone(m) ? hmap_get(&m->fw->tasks, fa->task_id) : NULL;
	if (t) {
		struct rm_task_view v;
		fw_task_view(t, &v);
		json_t *task = state_json_task(&v, NULL, true);
		const struct op_view view = { fw_user(t->fw), v.user, true };
		publish(m, operator_event_new("TASK_ADDED", json_pack("{s:o}", "task", task)), 0,
			&view);
	}
	free(fa->task_id);
	free(fa);
}

void operator_event_fw_task_added(struct master *m, const char *task_id)
{
	if (!anyone(m) || !task_id)
		return;
	struct fw_added *fa = xcalloc(1, sizeof(*fa));
	fa->m = m;
	fa->task_id = xstrdup(task_id);
	struct timeval zero = { 0, 0 };
	if (event_base_once(m->base, -1, EV_TIMEOUT, fw_task_announce, fa, &zero) < 0) {
		free(fa->task_id);
		free(fa);
	}
}

void operator_event_fw_task_updated(struct master *m, const struct fw_task *t,
				    const json_t *status)
{
	const char *state = json_string_value(json_object_get(status, "state"));
	if (m->task_listener && state) {
		struct rm_task_view v;
		fw_task_view(t, &v);
		v.state = state;
		tell_listener(m, fw_name(t), &v, state);
	}
	if (!anyone(m) || !status)
		return;
	const struct op_view view = { fw_user(t->fw), NULL, true };
	publish(m, operator_task_updated_v1(t->fw_id, json_deep_copy(status)), 0, &view);
}

/* ---- agents ---- */

void operator_event_agent_added(struct master *m, const struct m_agent *a)
{
	if (!anyone(m))
		return;
	json_t *agent = state_json_v1_agent(a);
	/* Announced as it registers: active, nothing allocated yet. */
	json_object_set_new(agent, "active", json_true());
	json_object_set_new(agent, "deactivated", json_false());
	json_object_del(agent, "allocated_resources");
	publish(m, operator_event_new("AGENT_ADDED", json_pack("{s:o}", "agent", agent)), 0, NULL);
}

void operator_event_agent_registered(struct master *m, const struct m_agent *a, bool is_new)
{
	/* Before a->state is set: an agent back from unreachable is added again (Mesos). */
	if (is_new || a->state == AGENT_UNREACHABLE)
		operator_event_agent_added(m, a);
}

void operator_event_agent_removed(struct master *m, const struct m_agent *a)
{
	if (!anyone(m))
		return;
	publish(m, operator_event_new("AGENT_REMOVED",
				      json_pack("{s:{s:s}}", "agent_id", "value", a->id)),
		0, NULL);
}

/* ---- frameworks ---- */

/* ---- the framework listener (rm_framework_listen) ---- */

static void tell_fw_listener(struct master *m, const struct fw_framework *fw, bool present)
{
	if (!m->fw_listener)
		return;
	const char *name = json_string_value(json_object_get(fw->info, "name"));
	const char *host = json_string_value(json_object_get(fw->info, "hostname"));
	m->fw_listener(m->fw_listener_ctx, fw->id, present ? (name ? name : "") : NULL,
		       present ? (host ? host : "") : NULL, present);
}

void rm_framework_listen(struct master *m, rm_framework_listener_fn fn, void *ctx)
{
	m->fw_listener = fn;
	m->fw_listener_ctx = ctx;
	if (!fn)
		return;
	for (size_t c = 0; c < m->nclients; c++)
		fn(ctx, m->clients[c]->id, m->clients[c]->name, NULL, true);
	const char *k;
	void *v;
	for (size_t i = 0; m->fw && hmap_next(&m->fw->fws, &i, &k, &v);)
		tell_fw_listener(m, v, true);
}

void operator_event_framework_subscribed(struct master *m, const struct fw_framework *fw,
					 bool is_new)
{
	tell_fw_listener(m, fw, true);
	if (!anyone(m))
		return;
	const char *type = is_new ? "FRAMEWORK_ADDED" : "FRAMEWORK_UPDATED";
	const struct op_view view = { fw_user(fw), NULL, false };
	publish(m, operator_event_new(type, json_pack("{s:o}", "framework",
						      state_json_v1_framework(fw))),
		0, &view);
}

void operator_event_framework_updated(struct master *m, const struct fw_framework *fw)
{
	operator_event_framework_subscribed(m, fw, false);
}

void operator_event_framework_removed(struct master *m, const struct fw_framework *fw)
{
	tell_fw_listener(m, fw, false);
	if (!anyone(m))
		return;
	json_t *info = fw->info ? json_deep_copy(fw->info) : json_object();
	json_object_set_new(info, "id", json_pack("{s:s}", "value", fw->id));
	const struct op_view view = { fw_user(fw), NULL, false };
	publish(m, operator_event_new("FRAMEWORK_REMOVED", json_pack("{s:o}", "framework_info",
								     info)),
		0, &view);
}

void rm_set_stream_limit(struct master *m, unsigned n)
{
	m->streams_per_principal = n;
}
