/* The agent registry: subscriptions, heartbeats, status update intake, timeouts.
 *
 * Invariants:
 *  - An agent is in the store (agents/<id>) before its REGISTERED record is sent, so a
 *    master restart keeps knowing it (DISCONNECTED until it subscribes again).
 *  - a->stream is non-NULL exactly while state == AGENT_CONNECTED.
 *  - An agent not heard from (subscribe, heartbeat, update) for agent_timeout becomes
 *    UNREACHABLE once, and every framework is told its tasks there are lost; it becomes
 *    CONNECTED again only by subscribing.
 *  - Its resources are the ledger's (ledger.c): a (re)registration sets the total it
 *    describes, and what its tasks hold stays taken until their frameworks give it back. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "master/master-int.h"

#define STREAM_MAX_PENDING (8u * 1024 * 1024)

void registry_free_agent(struct m_agent *a)
{
	if (!a)
		return;
	if (a->stream) {
		struct http_stream *st = a->stream;
		a->stream = NULL;
		http_stream_close(st);
	}
	free(a->id);
	free(a->hostname);
	free(a->http);
	free(a->ip);
	if (a->http_token)
		explicit_bzero(a->http_token, strlen(a->http_token));
	free(a->http_token);
	free(a->resources_text);
	free(a->attributes_text);
	free(a->offer_head);
	free(a->offer_attrs);
	free(a->offers.v);
	ledger_agent_release(&a->led);
	attributes_release(&a->attrs);
	free(a);
}

int registry_store_agent(struct master *m, const struct m_agent *a)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "id", a->id, "hostname",
			      a->hostname, "http", a->http, "resources", a->resources_text,
			      "attributes", a->attributes_text, "registered",
			      (json_int_t)a->registered_usec);
	if (a->deactivated)
		json_object_set_new(j, "deactivated", json_true());
	if (a->drain != AGENT_DRAIN_NONE)
		json_object_set_new(j, "drain",
				    json_pack("{s:b, s:I, s:b, s:I}", "drained",
					      a->drain == AGENT_DRAINED, "grace_ns",
					      (json_int_t)a->drain_grace_nsec, "mark_gone",
					      a->drain_mark_gone, "started",
					      (json_int_t)a->drain_started_usec));
	if (a->gone)
		json_object_set_new(j, "gone", json_integer((json_int_t)a->gone_usec));
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	char key[STORE_MAX_KEY];
	snprintf(key, sizeof(key), "agents/%s", a->id);
	int r = store_put(m->store, key, s, strlen(s), STORE_ANY_VERSION, NULL);
	free(s);
	return r;
}

/* Fills a's descriptive fields from a subscribe body or a stored record. */
static int agent_set_info(struct m_agent *a, const char *hostname, const char *http,
			  const char *res, const char *attrs, char *err, size_t errlen)
{
	struct resources total = RESOURCES_INIT;
	struct attributes at = ATTRIBUTES_INIT;
	if (resources_parse(res, &total, err, errlen) < 0)
		return -EINVAL;
	if (attributes_parse(attrs, &at, err, errlen) < 0) {
		resources_release(&total);
		return -EINVAL;
	}
	char *ip = NULL;
	uint16_t port;
	if (parse_hostport(http, &ip, &port) < 0) {
		snprintf(err, errlen, "'http' must be ADDR:PORT, got '%s'", http);
		resources_release(&total);
		attributes_release(&at);
		return -EINVAL;
	}
	free(a->hostname);
	free(a->http);
	free(a->ip);
	free(a->resources_text);
	free(a->attributes_text);
	free(a->offer_head);
	free(a->offer_attrs);
	a->offer_head = a->offer_attrs = NULL;
	a->hostname = xstrdup(hostname);
	a->http = xstrdup(http);
	a->ip = ip;
	a->resources_text = xstrdup(res);
	a->attributes_text = xstrdup(attrs);
	attributes_release(&a->attrs);
	a->attrs = at;
	resv_total(a->m, a->id, &total); /* dynamic reservations on top of the static resources */
	ledger_set_total(a->m, a, &total);
	resources_release(&total);
	fw_offer_agent_text(a);
	return 0;
}

struct m_agent *registry_add_sim_agent(struct master *m, const char *id, const char *hostname,
				       const char *http, const char *resources,
				       const char *attributes, agent_sim_fn sim, void *ctx,
				       char *err, size_t errlen)
{
	if (hmap_get(&m->agents, id)) {
		snprintf(err, errlen, "agent '%s' exists", id);
		return NULL;
	}
	struct m_agent *a = xcalloc(1, sizeof(*a));
	a->m = m;
	a->id = xstrdup(id);
	if (agent_set_info(a, hostname, http, resources, attributes, err, errlen) < 0) {
		registry_free_agent(a);
		return NULL;
	}
	a->sim = sim;
	a->sim_ctx = ctx;
	a->state = AGENT_CONNECTED;
	a->registrations = 1;
	a->registered_usec = time_real_usec();
	a->last_seen_usec = time_mono_usec();
	hmap_put(&m->agents, a->id, a);
	return a;
}

static int load_one(const char *key, const char *val, size_t len, uint64_t version, void *ctx)
{
	struct master *m = ctx;
	json_t *j = json_loadb(val, len, 0, NULL);
	const char *id = json_string_value(json_object_get(j, "id"));
	if (!id) {
		log_warn("master", "ignoring malformed store record '%s'", key);
		json_decref(j);
		return 0;
	}
	struct m_agent *a = xcalloc(1, sizeof(*a));
	a->m = m;
	a->id = xstrdup(id);
	char err[256];
	if (agent_set_info(a, json_string_value(json_object_get(j, "hostname")) ?: "",
			   json_string_value(json_object_get(j, "http")) ?: "",
			   json_string_value(json_object_get(j, "resources")) ?: "",
			   json_string_value(json_object_get(j, "attributes")) ?: "", err,
			   sizeof(err)) < 0) {
		log_warn("master", "ignoring stored agent '%s': %s", id, err);
		registry_free_agent(a);
		json_decref(j);
		return 0;
	}
	a->registered_usec = (uint64_t)json_integer_value(json_object_get(j, "registered"));
	a->deactivated = json_is_true(json_object_get(j, "deactivated"));
	json_t *dr = json_object_get(j, "drain");
	if (json_is_object(dr)) {
		a->drain = json_is_true(json_object_get(dr, "drained")) ? AGENT_DRAINED
									 : AGENT_DRAINING;
		a->drain_grace_nsec = json_integer_value(json_object_get(dr, "grace_ns"));
		a->drain_mark_gone = json_is_true(json_object_get(dr, "mark_gone"));
		a->drain_started_usec = (uint64_t)json_integer_value(json_object_get(dr, "started"));
	}
	json_t *gone = json_object_get(j, "gone");
	a->gone = json_is_integer(gone);
	a->gone_usec = a->gone ? (uint64_t)json_integer_value(gone) : 0;
	a->state = a->gone ? AGENT_UNREACHABLE : AGENT_DISCONNECTED;
	a->last_seen_usec = time_mono_usec();
	hmap_put(&m->agents, a->id, a);
	json_decref(j);
	return 0;
}

int registry_load(struct master *m)
{
	int r = store_list(m->store, "agents/", load_one, m);
	if (r >= 0)
		maint_recover_down(m);
	return r;
}

uint16_t registry_agent_port(const struct m_agent *a)
{
	const char *colon = a->http ? strrchr(a->http, ':') : NULL;
	uint64_t port = 0;
	if (!colon || parse_u64(colon + 1, &port) < 0 || port > 65535)
		port = 0;
	return (uint16_t)port;
}

int registry_send(struct m_agent *a, json_t *record)
{
	if (a->sim)
		return a->sim(a, record);
	if (!a->stream) {
		json_decref(record);
		return -ENOTCONN;
	}
	char *s = json_dumps(record, JSON_COMPACT);
	json_decref(record);
	size_t n = strlen(s);
	char hdr[32];
	int h = snprintf(hdr, sizeof(hdr), "%zu\n", n);
	char *buf = xmalloc((size_t)h + n);
	memcpy(buf, hdr, (size_t)h);
	memcpy(buf + h, s, n);
	free(s);
	int r = http_stream_write(a->stream, buf, (size_t)h + n);
	free(buf);
	return r;
}

static void on_stream_close(struct http_stream *st, void *ctx)
{
	struct m_agent *a = ctx;
	if (a->stream != st)
		return;
	a->stream = NULL;
	if (a->state == AGENT_CONNECTED) {
		a->state = AGENT_DISCONNECTED;
		log_info("master", "agent '%s' (%s) disconnected", a->id, a->hostname);
	}
}

struct m_agent *registry_agent_from_body(struct master *m, struct evhttp_request *req,
					json_t **body)
{
	char err[256];
	if (http_request_json(req, body, err, sizeof(err)) < 0) {
		http_reply_message(req, 400, "Failed to parse body into JSON: %s", err);
		return NULL;
	}
	const char *id = json_string_value(json_object_get(*body, "agent_id"));
	struct m_agent *a = id ? hmap_get(&m->agents, id) : NULL;
	if (!a) {
		http_reply_message(req, 404, "Agent '%s' is not registered", id ? id : "");
		json_decref(*body);
		*body = NULL;
	}
	return a;
}

void rm_handle_agent_subscribe(struct master *m, struct evhttp_request *req)
{
	char err[256];
	json_t *body;
	if (http_request_json(req, &body, err, sizeof(err)) < 0) {
		http_reply_message(req, 400, "Failed to parse body into JSON: %s", err);
		return;
	}
	const char *id = json_string_value(json_object_get(body, "agent_id"));
	const char *hostname = json_string_value(json_object_get(body, "hostname"));
	const char *http = json_string_value(json_object_get(body, "http"));
	const char *res = json_string_value(json_object_get(body, "resources"));
	const char *attrs = json_string_value(json_object_get(body, "attributes"));
	json_t *tasks = json_object_get(body, "tasks");
	json_t *token = json_object_get(body, "http_token");
	if (token && (!json_is_string(token) || json_string_length(token) > 256 ||
		      strlen(json_string_value(token)) != json_string_length(token))) {
		http_reply_message(req, 400, "Subscribe's 'http_token' must be a string of at "
					     "most 256 bytes");
		json_decref(body);
		return;
	}
	if (!hostname || !*hostname || !http || !res || (tasks && !json_is_array(tasks)) ||
	    (id && (!*id || strlen(id) > 128 || strchr(id, '/')))) {
		http_reply_message(req, 400, "Subscribe needs 'hostname', 'http', 'resources' "
					     "strings, an optional valid 'agent_id' and 'tasks' array");
		json_decref(body);
		return;
	}
	struct m_agent *a = id ? hmap_get(&m->agents, id) : NULL;
	if (a && a->gone) {
		/* Mesos tells an agent marked gone to shut down; berth's agent does on a 410. */
		log_warn("master", "refusing agent '%s' (%s): it has been marked gone", a->id,
			 hostname);
		http_reply_message(req, 410, "Agent '%s' has been marked gone", a->id);
		json_decref(body);
		return;
	}
	char *sub_ip = NULL;
	uint16_t sub_port;
	bool down = parse_hostport(http, &sub_ip, &sub_port) == 0 &&
		    maint_machine_down(m, hostname, sub_ip);
	free(sub_ip);
	if (down) {
		/* Mesos: "Refusing registration of agent … because the machine … is DOWN". */
		log_info("master", "refusing agent '%s' (%s): its machine is DOWN for maintenance",
			 id ? id : "", hostname);
		http_reply_message(req, 409, "Machine '%s' is DOWN for maintenance", hostname);
		json_decref(body);
		return;
	}
	bool is_new = !a;
	if (is_new) {
		a = xcalloc(1, sizeof(*a));
		a->m = m;
		if (id) {
			a->id = xstrdup(id);
		} else {
			char u[37];
			id_uuid4(u);
			a->id = xasprintf("%s-S%u", u, m->agent_seq++);
		}
		a->registered_usec = time_real_usec();
	}
	if (agent_set_info(a, hostname, http, res, attrs ? attrs : "", err, sizeof(err)) < 0) {
		http_reply_message(req, 400, "Invalid agent description: %s", err);
		if (is_new)
			registry_free_agent(a);
		json_decref(body);
		return;
	}
	int r = registry_store_agent(m, a);
	if (r < 0) {
		http_reply_message(req, 503, "Cannot persist agent: %s", strerror(-r));
		if (is_new)
			registry_free_agent(a);
		json_decref(body);
		return;
	}
	if (is_new)
		hmap_put(&m->agents, a->id, a);
	if (a->http_token)
		explicit_bzero(a->http_token, strlen(a->http_token));
	free(a->http_token);
	a->http_token = token ? xstrdup(json_string_value(token)) : NULL;
	a->http_tls = json_is_true(json_object_get(body, "https"));
	if (a->stream) {
		struct http_stream *old = a->stream;
		a->stream = NULL;
		http_stream_close(old);
	}
	a->stream = http_stream_start(m->base, req, 200, "application/recordio",
				      STREAM_MAX_PENDING, on_stream_close, a);
	operator_event_agent_registered(m, a, is_new);
	a->state = AGENT_CONNECTED;
	a->down = false;
	a->registrations++;
	a->last_seen_usec = time_mono_usec();
	log_info("master", "agent '%s' (%s at %s) %s: %s", a->id, a->hostname, a->http,
		 is_new ? "registered" : "re-registered", a->resources_text);
	registry_send(a, json_pack("{s:s, s:s, s:f, s:f}", "type", "REGISTERED", "agent_id", a->id,
				   "heartbeat_interval_seconds", m->cfg.heartbeat_sec,
				   "volume_lease_seconds", m->volume_lease_sec));
	fw_executors_reported(m, a, json_object_get(body, "executors"));
	json_t *none = tasks ? NULL : json_array();
	rm_route_agent_registered(m, a, tasks ? tasks : none);
	json_decref(none);
	json_decref(body);
}

void registry_close_streams(struct master *m)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->agents, &i, &k, &v);) {
		struct m_agent *a = v;
		struct http_stream *st = a->stream;
		a->stream = NULL; /* its on_close then finds nothing to do */
		if (st)
			http_stream_close(st);
	}
}

void registry_kill_unknown(struct m_agent *a, const char *task_id)
{
	log_info("master", "killing task '%s' on agent '%s': no framework wants it", task_id,
		 a->id);
	registry_send(a, json_pack("{s:s, s:s, s:f}", "type", "KILL", "task_id", task_id,
				   "grace_period_seconds", 3.0));
}

void rm_handle_agent_heartbeat(struct master *m, struct evhttp_request *req)
{
	json_t *body;
	struct m_agent *a = registry_agent_from_body(m, req, &body);
	if (!a)
		return;
	json_decref(body);
	if (a->state != AGENT_CONNECTED) {
		http_reply_message(req, 404, "Agent '%s' must subscribe again", a->id);
		return;
	}
	a->last_seen_usec = time_mono_usec();
	http_reply_json(req, 200, json_object());
}

void registry_tick(struct master *m)
{
	uint64_t now = time_mono_usec();
	bool hb = now - m->hb_usec >= (uint64_t)(m->cfg.heartbeat_sec * 1e6);
	if (hb)
		m->hb_usec = now;
	uint64_t timeout = (uint64_t)(m->cfg.agent_timeout_sec * 1e6);
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->agents, &i, &k, &v);) {
		struct m_agent *a = v;
		if (a->state == AGENT_CONNECTED && hb)
			registry_send(a, json_pack("{s:s}", "type", "HEARTBEAT"));
		if (a->state != AGENT_UNREACHABLE && now - a->last_seen_usec > timeout) {
			log_warn("master", "agent '%s' (%s) unreachable: not heard from for %.0f s",
				 a->id, a->hostname, m->cfg.agent_timeout_sec);
			a->state = AGENT_UNREACHABLE;
			operator_event_agent_removed(m, a);
			if (a->stream) {
				struct http_stream *st = a->stream;
				a->stream = NULL;
				http_stream_close(st);
			}
			rm_route_agent_lost(m, a);
		}
		if (a->drain == AGENT_DRAINING && !a->ntasks)
			maint_drained(m, a);
		else if (a->drain == AGENT_DRAINED && a->drain_mark_gone && !a->gone)
			maint_mark_gone(m, a); /* one that could not be persisted: again */
	}
}

static json_t *resources_json(const struct resources *r)
{
	json_t *o = json_object();
	const char *names[] = { "cpus", "mem", "disk", "gpus" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		json_object_set_new(o, names[i], json_real(resources_scalar(r, names[i], NULL)));
	char *ports = resources_format_ranges(r, "ports", NULL);
	json_object_set_new(o, "ports", json_string(ports));
	free(ports);
	return o;
}

/* What the agent's tasks and volumes hold (the ledger's used set). */
static json_t *used_json(const struct m_agent *a)
{
	return resources_json(rm_agent_used(a));
}

json_t *registry_render_slaves(struct master *m)
{
	json_t *arr = json_array();
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->agents, &i, &k, &v);)
		json_array_append_new(arr, registry_render_slave(v));
	return json_pack("{s:o}", "slaves", arr);
}

json_t *registry_render_slave(const struct m_agent *a)
{
	json_t *attrs = json_object();
	for (size_t j = 0; j < a->attrs.n; j++) {
		const struct attribute *at = &a->attrs.v[j];
		if (at->type == ATTR_SCALAR)
			json_object_set_new(attrs, at->name, json_real(at->scalar));
		else
			json_object_set_new(attrs, at->name, json_string(at->text));
	}
	char pid[400];
	snprintf(pid, sizeof(pid), "slave(1)@%s", a->http);
	uint16_t port = registry_agent_port(a);
	return json_pack("{s:s, s:s, s:s, s:i, s:f, s:b, s:o, s:o, s:o, s:s, s:i, s:s}", "id",
			  a->id, "hostname", a->hostname, "pid", pid, "port",
			  (int)port, "registered_time",
			  (double)a->registered_usec / 1e6, "active",
			  a->state == AGENT_CONNECTED, "resources", resources_json(rm_agent_total(a)),
			  "used_resources", used_json(a), "attributes", attrs, "version",
			  "berth-0.1.0", "berth_tasks", (int)a->ntasks, "berth_state",
			  a->gone			 ? "gone" :
			  a->drain == AGENT_DRAINING	 ? "draining" :
			  a->drain == AGENT_DRAINED	 ? "drained" :
			  a->deactivated		 ? "deactivated" :
			  a->state == AGENT_CONNECTED	 ? "connected" :
			  a->state == AGENT_DISCONNECTED ? "disconnected" :
							   "unreachable");
}
