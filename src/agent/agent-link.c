/* The agent's side of the master protocol (docs/internals/agent-protocol.md): the subscribe
 * stream, heartbeats, and the status update FIFO.
 *
 * Connections: one each for the stream, the update POSTs and the heartbeats, so that none
 * waits behind another (an evhttp connection runs one request at a time). A connection is
 * never freed inside one of its own callbacks: teardown goes through reconnect_ev. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent-int.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "executor/exec-status.h"
#include "net/http.h"

#define BACKOFF_MIN_USEC 500000ull
#define BACKOFF_MAX_USEC 10000000ull
#define POST_TIMEOUT_SECONDS 10
#define UPDATE_RETRY_USEC 1000000ull

static void subscribe(struct agent *a);
static void flush_schedule(struct agent *a, uint64_t delay_usec);

static struct timeval tv_usec(uint64_t usec)
{
	struct timeval tv = { (time_t)(usec / 1000000), (suseconds_t)(usec % 1000000) };
	return tv;
}

static struct evhttp_request *request_json(struct agent *a, void (*cb)(struct evhttp_request *, void *),
					   json_t *body)
{
	struct evhttp_request *req = evhttp_request_new(cb, a);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", a->master_host);
	evhttp_add_header(h, "Content-Type", "application/json");
	if (a->authorization)
		evhttp_add_header(h, "Authorization", a->authorization);
	char *s = json_dumps(body, JSON_COMPACT);
	evbuffer_add(evhttp_request_get_output_buffer(req), s, strlen(s));
	free(s);
	return req;
}

static struct evhttp_connection *conn_new(struct agent *a, int timeout)
{
	struct evhttp_connection *c =
		a->tls_client ? http_tls_connect(a->base, a->tls_client, a->master_host,
						 a->master_port)
			      : evhttp_connection_base_new(a->base, NULL, a->master_host,
							   a->master_port);
	if (c && timeout > 0)
		evhttp_connection_set_timeout(c, timeout);
	return c;
}

/* ---- which master ---- */

/* Splits "host:port" (port default 5050). */
static int split_hostport(const char *hp, char **host, uint16_t *port)
{
	const char *c = strrchr(hp, ':');
	long p = 5050;
	if (c) {
		char *end = NULL;
		p = strtol(c + 1, &end, 10);
		if (!*(c + 1) || *end || p <= 0 || p > 65535)
			return -EINVAL;
	}
	size_t n = c ? (size_t)(c - hp) : strlen(hp);
	if (!n)
		return -EINVAL;
	*host = xstrndup(hp, n);
	*port = (uint16_t)p;
	return 0;
}

/* Talks to host:port from now on: new connections for updates and heartbeats (what was in
 * flight on the old ones is sent again: the master dedupes updates by uuid). */
static bool switch_master(struct agent *a, const char *hostport)
{
	char *host = NULL;
	uint16_t port = 0;
	if (split_hostport(hostport, &host, &port) < 0) {
		log_warn("agent", "bad master address '%s' ignored", hostport);
		return false;
	}
	if (a->master_host && !strcmp(host, a->master_host) && port == a->master_port) {
		free(host);
		return false;
	}
	log_info("agent", "following the master at %s:%u", host, (unsigned)port);
	free(a->master_host);
	a->master_host = host;
	a->master_port = port;
	if (a->post_conn)
		evhttp_connection_free(a->post_conn);
	if (a->hb_conn)
		evhttp_connection_free(a->hb_conn);
	a->post_conn = conn_new(a, POST_TIMEOUT_SECONDS);
	a->hb_conn = conn_new(a, POST_TIMEOUT_SECONDS);
	a->inflight = 0;
	a->hb_inflight = false;
	return true;
}

/* A standby's 307: the leader's address from its Location ("http://host:port/…" or
 * "//host:port/…"). */
static bool follow_redirect(struct agent *a, struct evhttp_request *req)
{
	const char *loc = evhttp_find_header(evhttp_request_get_input_headers(req), "Location");
	if (!loc)
		return false;
	const char *p = strstr(loc, "//");
	if (!p)
		return false;
	p += 2;
	size_t n = strcspn(p, "/?#");
	_cleanup_free_ char *hp = xstrndup(p, n);
	switch_master(a, hp);
	return true;
}

/* ---- the subscribe stream ---- */

/* The machine is DOWN for maintenance (a SHUTDOWN record with machine_down, or 409 to a
 * subscribe): the tasks are killed, as a Mesos agent's on the master's ShutdownMessage, but
 * the agent keeps its id and subscribes again with the backoff until the operator brings
 * the machine UP (STOP_MAINTENANCE). */
static void machine_down(struct agent *a)
{
	size_t n = 0;
	for (size_t b = 0; b < a->nbuckets; b++)
		for (struct agent_task *t = a->buckets[b]; t; t = t->hnext)
			if (!t->terminal && !t->fenced) {
				agent_task_fence(a, t);
				n++;
			}
	if (n)
		log_warn("agent", "the machine is DOWN for maintenance: %zu tasks killed", n);
}

/* The master marked this agent gone (a SHUTDOWN record, or 410 to a subscribe): as a Mesos
 * agent on the master's ShutdownMessage, it kills every task, forgets its id (so that a
 * restart registers a new agent) and stops. */
static void shutdown_gone(struct agent *a, const char *why)
{
	if (a->gone)
		return;
	a->gone = true;
	a->registered = false;
	log_error("agent", "the master says '%s': killing every task and stopping", why);
	for (size_t b = 0; b < a->nbuckets; b++)
		for (struct agent_task *t = a->buckets[b]; t; t = t->hnext)
			if (!t->terminal)
				agent_task_fence(a, t);
	_cleanup_free_ char *p = xasprintf("%s/agent_id", a->work_dir);
	if (unlink(p) == -1 && errno != ENOENT)
		log_error("agent", "cannot remove '%s': %s", p, strerror(errno));
	free(a->agent_id);
	a->agent_id = NULL;
	/* The shims SIGKILL at once; a moment for them before the loop ends. */
	struct timeval tv = { 1, 0 };
	event_base_loopexit(a->base, &tv);
}

/* Drops the stream (if any) and subscribes again after the backoff; from any context. */
static void stream_restart(struct agent *a, bool now)
{
	if (a->gone)
		return;
	if (a->registered)
		log_warn("agent", "lost the master, reconnecting");
	a->registered = false;
	a->stream_ok = false;
	if (event_pending(a->reconnect_ev, EV_TIMEOUT, NULL))
		return;
	uint64_t delay = now ? 0 : a->backoff_usec;
	a->backoff_usec = a->backoff_usec ? a->backoff_usec * 2 : BACKOFF_MIN_USEC;
	if (a->backoff_usec > BACKOFF_MAX_USEC)
		a->backoff_usec = BACKOFF_MAX_USEC;
	struct timeval tv = tv_usec(delay);
	event_add(a->reconnect_ev, &tv);
}

static void on_registered(struct agent *a, json_t *rec)
{
	const char *id = json_string_value(json_object_get(rec, "agent_id"));
	json_t *hb = json_object_get(rec, "heartbeat_interval_seconds");
	if (!id || !*id) {
		log_warn("agent", "REGISTERED without an agent_id; reconnecting");
		stream_restart(a, false);
		return;
	}
	if (!a->agent_id || strcmp(a->agent_id, id)) {
		free(a->agent_id);
		a->agent_id = xstrdup(id);
		int r = exec_file_replace(a->work_dir, "agent_id", id, strlen(id), 1);
		if (r < 0)
			log_error("agent", "cannot store the agent id in '%s': %s", a->work_dir,
				  strerror(-r));
	}
	a->hb_interval = json_is_number(hb) && json_number_value(hb) > 0.05 &&
					 json_number_value(hb) < 3600
				 ? json_number_value(hb)
				 : 5.0;
	json_t *lease = json_object_get(rec, "volume_lease_seconds");
	if (json_is_number(lease) && json_number_value(lease) > 0 &&
	    json_number_value(lease) < 86400 && json_number_value(lease) != a->lease_sec) {
		char num[32];
		a->lease_sec = json_number_value(lease);
		int n = snprintf(num, sizeof(num), "%.3f\n", a->lease_sec);
		int r = exec_file_replace(a->work_dir, "volume_lease", num, (size_t)n, 1);
		if (r < 0)
			log_error("agent", "cannot store the volume lease in '%s': %s", a->work_dir,
				  strerror(-r));
		agent_lease_publish(a); /* for the shims; the fence timer follows a new length */
	}
	a->registered = true;
	a->backoff_usec = 0;
	log_info("agent", "registered with the master as '%s'", id);
	struct timeval tv = tv_usec((uint64_t)(a->hb_interval * 1e6));
	event_add(a->hb_ev, &tv);
	/* Whatever was acked meanwhile stays acked; the rest is sent again. */
	flush_schedule(a, 0);
}

static int on_record(const char *data, size_t len, void *ctx)
{
	struct agent *a = ctx;
	json_error_t jerr;
	json_t *rec = json_loadb(data, len, 0, &jerr);
	a->last_heard_usec = time_mono_usec();
	agent_lease_heard(a); /* renews the volume lease (agent-volume.c) */
	if (!rec || !json_is_object(rec)) {
		log_warn("agent", "malformed record from the master: %s", jerr.text);
		json_decref(rec);
		return 0;
	}
	const char *type = json_string_value(json_object_get(rec, "type"));
	if (!type)
		type = "";
	if (!strcmp(type, "REGISTERED")) {
		on_registered(a, rec);
	} else if (!strcmp(type, "LAUNCH")) {
		json_t *task = json_object_get(rec, "task");
		if (json_is_object(task))
			agent_task_launch(a, task);
	} else if (!strcmp(type, "KILL")) {
		const char *id = json_string_value(json_object_get(rec, "task_id"));
		json_t *g = json_object_get(rec, "grace_period_seconds");
		if (id)
			agent_task_kill(a, id, json_is_number(g) ? json_number_value(g) : -1.0,
					json_object_get(rec, "pre_stop"));
	} else if (!strcmp(type, "RESIZE")) {
		agent_isolation_resize(a, json_string_value(json_object_get(rec, "task_id")),
				       json_object_get(rec, "resources"));
	} else if (!strcmp(type, "FRAMEWORK_MESSAGE")) {
		agent_xexec_message(a, json_string_value(json_object_get(rec, "framework_id")),
				    json_string_value(json_object_get(rec, "executor_id")),
				    json_string_value(json_object_get(rec, "data")));
	} else if (!strcmp(type, "SHUTDOWN_EXECUTOR")) {
		agent_xexec_shutdown(a, json_string_value(json_object_get(rec, "framework_id")),
				     json_string_value(json_object_get(rec, "executor_id")));
	} else if (!strcmp(type, "SHUTDOWN")) {
		const char *why = json_string_value(json_object_get(rec, "message"));
		if (json_is_true(json_object_get(rec, "machine_down")))
			machine_down(a);
		else
			shutdown_gone(a, why ? why : "shut down");
	} else if (!strcmp(type, "DESTROY_VOLUME")) {
		const char *pid = json_string_value(json_object_get(rec, "persistence_id"));
		agent_volume_destroy(a, pid ? pid : "");
	} else if (!strcmp(type, "REMOVE_VOLUME")) {
		agent_volume_remove(a, json_string_value(json_object_get(rec, "driver")),
				    json_string_value(json_object_get(rec, "name")));
	} else if (strcmp(type, "HEARTBEAT")) {
		log_debug("agent", "unknown record type '%s' ignored", type);
	}
	json_decref(rec);
	return 0;
}

static void on_stream_chunk(struct evhttp_request *req, void *arg)
{
	struct agent *a = arg;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	if (evhttp_request_get_response_code(req) != 200) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	a->stream_ok = true;
	a->last_heard_usec = time_mono_usec();
	while (evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec v;
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		int r = recordio_decoder_feed(&a->dec, v.iov_base, v.iov_len, on_record, a);
		evbuffer_drain(in, v.iov_len);
		if (r < 0) {
			log_warn("agent", "bad framing on the master's stream (%s); reconnecting",
				 strerror(-r));
			evbuffer_drain(in, evbuffer_get_length(in));
			stream_restart(a, false);
			return;
		}
	}
}

static void on_stream_done(struct evhttp_request *req, void *arg)
{
	struct agent *a = arg;
	a->stream_req = NULL;
	if (!req || evhttp_request_get_response_code(req) == 0) {
		if (a->registered || a->backoff_usec <= BACKOFF_MIN_USEC)
			log_warn("agent", "cannot reach the master at %s:%u", a->master_host,
				 a->master_port);
		if (a->nmasters > 1) {
			a->master_cur = (a->master_cur + 1) % a->nmasters;
			switch_master(a, a->masters[a->master_cur]);
		}
	} else if (evhttp_request_get_response_code(req) == 307 && follow_redirect(a, req)) {
		/* At once to the leader; a leader that does not answer (a dead one whose znode
		 * has not expired yet) is retried after BACKOFF_MIN, not in a tight loop. */
		a->backoff_usec = BACKOFF_MIN_USEC;
		stream_restart(a, true);
		return;
	} else if (evhttp_request_get_response_code(req) != 200) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		size_t n = evbuffer_get_length(in);
		char msg[256] = "";
		evbuffer_copyout(in, msg, n < sizeof(msg) - 1 ? n : sizeof(msg) - 1);
		if (evhttp_request_get_response_code(req) == 410) {
			shutdown_gone(a, "Agent has been marked gone");
			return;
		}
		if (evhttp_request_get_response_code(req) == 409)
			machine_down(a);
		log_warn("agent", "subscribe refused: %d %s", evhttp_request_get_response_code(req),
			 msg);
	} else {
		log_warn("agent", "the master closed the stream");
	}
	stream_restart(a, false);
}

static json_t *subscribe_body(struct agent *a)
{
	json_t *b = json_pack("{s:s, s:s, s:s, s:s, s:o}", "hostname", a->hostname, "http",
			      a->endpoint, "resources", a->resources, "attributes",
			      a->attributes ? a->attributes : "", "tasks",
			      agent_tasks_json(a, false));
	if (a->agent_id)
		json_object_set_new(b, "agent_id", json_string(a->agent_id));
	/* Its custom executors, for a master that failed over (executor-api.md). */
	json_t *ex = json_array();
	agent_xexecs_v1(a, ex);
	if (json_array_size(ex))
		json_object_set_new(b, "executors", ex);
	else
		json_decref(ex);
	/* A new token for each subscription (agent-auth.c): a master the agent left (a
	 * deposed leader) holds a stale one. */
	agent_auth_token(a->master_token);
	json_object_set_new(b, "http_token", json_string(a->master_token));
	if (a->tls_server)
		json_object_set_new(b, "https", json_true());
	return b;
}

static void subscribe(struct agent *a)
{
	if (a->stream_conn)
		evhttp_connection_free(a->stream_conn); /* frees its request without callbacks */
	a->stream_req = NULL;
	recordio_decoder_release(&a->dec);
	recordio_decoder_init(&a->dec, AGENT_MAX_RECORD);
	if (!a->master_host) { /* zk://: no leader known yet (agent-zk.c calls back) */
		stream_restart(a, false);
		return;
	}
	a->stream_conn = conn_new(a, 0);
	if (!a->stream_conn) {
		stream_restart(a, false);
		return;
	}
	json_t *body = subscribe_body(a);
	struct evhttp_request *req = request_json(a, on_stream_done, body);
	json_decref(body);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Accept",
			  "application/recordio");
	evhttp_request_set_chunked_cb(req, on_stream_chunk);
	a->last_heard_usec = time_mono_usec();
	if (evhttp_make_request(a->stream_conn, req, EVHTTP_REQ_POST,
				"/api/berth/agent/subscribe") == -1) {
		stream_restart(a, false);
		return;
	}
	a->stream_req = req;
	log_debug("agent", "subscribing to %s:%u", a->master_host, a->master_port);
}

static void on_reconnect(evutil_socket_t fd, short what, void *arg)
{
	subscribe(arg);
}

/* No record for 3 heartbeat intervals: the stream is dead even if TCP has not noticed. */
static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	struct agent *a = arg;
	if (!a->stream_req || event_pending(a->reconnect_ev, EV_TIMEOUT, NULL))
		return;
	uint64_t limit = (uint64_t)(3 * a->hb_interval * 1e6);
	if (time_mono_usec() - a->last_heard_usec > limit) {
		log_warn("agent", "nothing heard from the master for %.0fs",
			 3 * a->hb_interval);
		stream_restart(a, true);
	}
}

/* ---- framework messages (agent-xexec.c) ---- */

static void on_message_done(struct evhttp_request *req, void *arg)
{
	(void)arg;
	int code = req ? evhttp_request_get_response_code(req) : 0;
	if (code < 200 || code >= 300)
		log_info("agent", "an executor's message was not taken by the master (%d)", code);
}

void agent_link_message(struct agent *a, const char *framework_id, const char *executor_id,
			const char *data, int status)
{
	if (!a->registered || !a->post_conn)
		return;
	json_t *body = json_pack("{s:s, s:s, s:s}", "agent_id", a->agent_id, "framework_id",
				 framework_id, "executor_id", executor_id);
	if (data)
		json_object_set_new(body, "data", json_string(data));
	else
		json_object_set_new(body, "status", json_integer(status));
	struct evhttp_request *req = request_json(a, on_message_done, body);
	json_decref(body);
	evhttp_make_request(a->post_conn, req, EVHTTP_REQ_POST, "/api/berth/agent/message");
}

/* ---- heartbeats ---- */

static void on_heartbeat_done(struct evhttp_request *req, void *arg)
{
	struct agent *a = arg;
	a->hb_inflight = false;
	int code = req ? evhttp_request_get_response_code(req) : 0;
	if (code >= 200 && code < 300)
		agent_lease_heard(a); /* the master heard us: the lease goes on */
	if (code == 404) {
		log_warn("agent", "the master does not know this agent; subscribing again");
		stream_restart(a, true);
	}
}

static void on_heartbeat_timer(evutil_socket_t fd, short what, void *arg)
{
	struct agent *a = arg;
	if (!a->registered)
		return;
	struct timeval tv = tv_usec((uint64_t)(a->hb_interval * 1e6));
	event_add(a->hb_ev, &tv);
	if (a->hb_inflight)
		return;
	json_t *body = json_pack("{s:s}", "agent_id", a->agent_id);
	struct evhttp_request *req = request_json(a, on_heartbeat_done, body);
	json_decref(body);
	if (evhttp_make_request(a->hb_conn, req, EVHTTP_REQ_POST, "/api/berth/agent/heartbeat") ==
	    0)
		a->hb_inflight = true;
}

/* ---- status updates ---- */

struct agent_update *agent_update_queue(struct agent *a, struct agent_task *t,
					const char *task_id, const char *state,
					const char *message, const char *reason, int exit_code,
					int sig)
{
	bool terminal = strcmp(state, "TASK_STARTING") && strcmp(state, "TASK_RUNNING") &&
			strcmp(state, "TASK_KILLING") && strcmp(state, "TASK_STAGING");
	if (a->uq_len >= AGENT_MAX_QUEUED_UPDATES && !terminal) {
		log_error("agent", "update queue full: %s for '%s' dropped", state, task_id);
		return NULL;
	}
	struct agent_update *u = xcalloc(1, sizeof(*u));
	id_uuid4(u->uuid);
	u->task = t;
	u->terminal = terminal;
	u->json = json_pack("{s:s, s:s, s:s, s:f, s:s, s:s}", "task_id", task_id, "state", state,
			    "uuid", u->uuid, "timestamp", (double)time_real_usec() / 1e6,
			    "message", message ? message : "", "source", "SOURCE_EXECUTOR");
	if (reason)
		json_object_set_new(u->json, "reason", json_string(reason));
	if (exit_code >= 0)
		json_object_set_new(u->json, "exit_code", json_integer(exit_code));
	if (sig > 0)
		json_object_set_new(u->json, "signal", json_integer(sig));
	if (t && t->hook_labels)
		json_object_set(u->json, "labels", t->hook_labels); /* the launch hook's */
	if (t)
		t->queued++;
	if (terminal && t)
		agent_hook_task_end(a, t, u->json);
	if (a->uq_tail)
		a->uq_tail->next = u;
	else
		a->uq_head = u;
	a->uq_tail = u;
	a->uq_len++;
	if (!a->inflight && !a->flush_retry_wait)
		flush_schedule(a, 0);
	return u;
}

static void update_free(struct agent_update *u)
{
	json_decref(u->json);
	free(u);
}

void agent_updates_free(struct agent *a)
{
	struct agent_update *u = a->uq_head, *next;
	for (; u; u = next) {
		next = u->next;
		update_free(u);
	}
	a->uq_head = a->uq_tail = NULL;
	a->uq_len = a->inflight = 0;
}

/* Removes the acknowledged ones among the in-flight head of the FIFO. */
static void updates_ack(struct agent *a, json_t *acked)
{
	size_t n = a->inflight;
	struct agent_update **pp = &a->uq_head, *prev = NULL;
	for (size_t i = 0; i < n && *pp; i++) {
		struct agent_update *u = *pp;
		bool ok = false;
		size_t k;
		json_t *x;
		json_array_foreach(acked, k, x) {
			const char *s = json_string_value(x);
			if (s && !strcmp(s, u->uuid)) {
				ok = true;
				break;
			}
		}
		if (!ok) {
			prev = u;
			pp = &u->next;
			continue;
		}
		*pp = u->next;
		if (a->uq_tail == u)
			a->uq_tail = prev;
		a->uq_len--;
		struct agent_task *t = u->task;
		if (t) {
			t->queued--;
			if (t->health_pending == u)
				t->health_pending = NULL;
			if (u->terminal)
				t->terminal_acked = true;
			if (t->terminal_acked && t->queued == 0 && t->pidfd < 0)
				agent_task_remove(a, t);
		}
		update_free(u);
	}
}

static void on_update_done(struct evhttp_request *req, void *arg)
{
	struct agent *a = arg;
	int code = req ? evhttp_request_get_response_code(req) : 0;
	if (code == 200) {
		agent_lease_heard(a); /* the master heard us: the lease goes on */
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		size_t n = evbuffer_get_length(in);
		json_t *body = json_loadb((const char *)evbuffer_pullup(in, (ssize_t)n), n, 0, NULL);
		json_t *acked = json_object_get(body, "acknowledged");
		if (json_is_array(acked))
			updates_ack(a, acked);
		json_decref(body);
		a->inflight = 0;
		if (a->uq_head)
			flush_schedule(a, 0);
		return;
	}
	a->inflight = 0;
	if (code == 404) {
		log_warn("agent", "the master does not know this agent; subscribing again");
		stream_restart(a, true);
		return; /* on_registered flushes */
	}
	if (code)
		log_warn("agent", "status updates refused: %d; retrying", code);
	flush_schedule(a, UPDATE_RETRY_USEC);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct agent *a = arg;
	a->flush_retry_wait = false;
	if (a->inflight || !a->uq_head || !a->registered || !a->agent_id)
		return;
	json_t *ups = json_array();
	size_t n = 0;
	for (struct agent_update *u = a->uq_head; u && n < AGENT_BATCH_MAX; u = u->next, n++) {
		json_array_append(ups, u->json);
		u->sent = true;
		if (u->task && u->task->health_pending == u)
			u->task->health_pending = NULL;
	}
	json_t *body = json_pack("{s:s, s:o}", "agent_id", a->agent_id, "updates", ups);
	struct evhttp_request *req = request_json(a, on_update_done, body);
	json_decref(body);
	if (evhttp_make_request(a->post_conn, req, EVHTTP_REQ_POST, "/api/berth/agent/update") ==
	    -1) {
		flush_schedule(a, UPDATE_RETRY_USEC);
		return;
	}
	a->inflight = n;
}

static void flush_schedule(struct agent *a, uint64_t delay_usec)
{
	if (delay_usec) {
		struct timeval tv = tv_usec(delay_usec);
		a->flush_retry_wait = true;
		event_add(a->flush_ev, &tv);
	} else if (!event_pending(a->flush_ev, EV_TIMEOUT, NULL)) {
		event_active(a->flush_ev, EV_TIMEOUT, 0);
	}
}

/* ---- life cycle ---- */

void agent_link_leader(struct agent *a, const char *hostport)
{
	if (a->gone || !switch_master(a, hostport))
		return;
	/* A new leader: subscribe there now, whatever backoff was pending. */
	a->backoff_usec = BACKOFF_MIN_USEC;
	event_del(a->reconnect_ev);
	a->registered = false;
	stream_restart(a, true);
}

static int link_events(struct agent *a)
{
	recordio_decoder_init(&a->dec, AGENT_MAX_RECORD);
	a->hb_interval = 5.0;
	a->reconnect_ev = evtimer_new(a->base, on_reconnect, a);
	a->hb_ev = evtimer_new(a->base, on_heartbeat_timer, a);
	a->flush_ev = evtimer_new(a->base, on_flush, a);
	a->watchdog_ev = event_new(a->base, -1, EV_PERSIST, on_watchdog, a);
	if (!a->reconnect_ev || !a->hb_ev || !a->flush_ev || !a->watchdog_ev)
		return -ENOMEM;
	struct timeval one = { 1, 0 };
	event_add(a->watchdog_ev, &one);
	struct timeval zero = { 0, 0 };
	event_add(a->reconnect_ev, &zero);
	return 0;
}

int agent_link_start(struct agent *a, const char *master_url)
{
	if (str_has_prefix(master_url, "zk://")) {
		int r = link_events(a);
		return r < 0 ? r : agent_zk_start(a, master_url);
	}
	/* "http://h1:p1,h2:p2,…": several masters, the first tried first. */
	const char *comma = strchr(master_url, ',');
	_cleanup_free_ char *first = comma ? xstrndup(master_url, (size_t)(comma - master_url))
					   : xstrdup(master_url);
	const char *list = str_has_prefix(master_url, "http://")    ? master_url + 7
			   : str_has_prefix(master_url, "https://") ? master_url + 8
								    : master_url;
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ",");
		char *hp = xstrndup(p, n);
		if (str_has_prefix(hp, "http://"))
			memmove(hp, hp + 7, strlen(hp + 7) + 1);
		else if (str_has_prefix(hp, "https://"))
			memmove(hp, hp + 8, strlen(hp + 8) + 1);
		hp[strcspn(hp, "/")] = '\0';
		a->masters = xrealloc(a->masters, (a->nmasters + 1) * sizeof(*a->masters));
		a->masters[a->nmasters++] = hp;
		p += n;
		if (*p == ',')
			p++;
	}
	master_url = first;
	struct evhttp_uri *u = evhttp_uri_parse(master_url);
	if (!u || !evhttp_uri_get_host(u) ||
	    (evhttp_uri_get_scheme(u) && strcmp(evhttp_uri_get_scheme(u), "http") &&
	     strcmp(evhttp_uri_get_scheme(u), "https"))) {
		if (u)
			evhttp_uri_free(u);
		log_error("agent", "bad master URL '%s' (want http://HOST:PORT)", master_url);
		return -EINVAL;
	}
	a->master_host = xstrdup(evhttp_uri_get_host(u));
	int port = evhttp_uri_get_port(u);
	a->master_port = port > 0 ? (uint16_t)port : 5050;
	evhttp_uri_free(u);

	a->post_conn = conn_new(a, POST_TIMEOUT_SECONDS);
	a->hb_conn = conn_new(a, POST_TIMEOUT_SECONDS);
	if (!a->post_conn || !a->hb_conn)
		return -ENOMEM;
	return link_events(a);
}

void agent_link_stop(struct agent *a)
{
	agent_zk_stop(a); /* first: its callbacks call into the link */
	if (a->stream_conn)
		evhttp_connection_free(a->stream_conn);
	if (a->post_conn)
		evhttp_connection_free(a->post_conn);
	if (a->hb_conn)
		evhttp_connection_free(a->hb_conn);
	a->stream_conn = a->post_conn = a->hb_conn = NULL;
	a->stream_req = NULL;
	if (a->reconnect_ev)
		event_free(a->reconnect_ev);
	if (a->hb_ev)
		event_free(a->hb_ev);
	if (a->flush_ev)
		event_free(a->flush_ev);
	if (a->watchdog_ev)
		event_free(a->watchdog_ev);
	a->reconnect_ev = a->hb_ev = a->flush_ev = a->watchdog_ev = NULL;
	recordio_decoder_release(&a->dec);
	free(a->master_host);
	a->master_host = NULL;
	for (size_t i = 0; i < a->nmasters; i++)
		free(a->masters[i]);
	free(a->masters);
	a->masters = NULL;
	a->nmasters = 0;
}
