/* The cluster state in Mesos's shapes (see state-json.h): the legacy /master/state JSON
 * and the v1 operator API payloads, built from struct master on each request.
 *
 * Invariants of the output:
 *  - `leader` and `pid` are "master@ip:port" with an address a client can reach (never a
 *    wildcard), slaves' `pid` "slave(1)@ip:port": Mesos-DNS parses all three as UPIDs.
 *  - The framework object has no `pid` key at all (Mesos-DNS rejects "").
 *  - A task's `resources.ports` is "[a-b, …]" with every element a range, or absent.
 *  - A task that ever ran has a TASK_RUNNING status carrying the agent's ip in
 *    container_status.network_infos[].ip_addresses[].ip_address (Mesos-DNS's netinfo).
 *  - v1 payloads follow stout's protobuf-to-JSON mapping: ids as {"value": …}, enums as
 *    names, empty repeated fields left out. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "master/fw-int.h"
#include "master/master-int.h"
#include "master/state-cache.h"
#include "master/state-json.h"
#include "model/discovery.h"
#include "model/mesos-resources.h"

/* The master id: the framework id without its "-0000" (Mesos: framework ids are
 * "<master id>-<seq>"). */
static void master_id(const struct master *m, char *out, size_t len)
{
	snprintf(out, len, "%s", m->framework_id);
	size_t n = strlen(out);
	if (n > 5 && !strcmp(out + n - 5, "-0000"))
		out[n - 5] = '\0';
}

const char *framework_user(void)
{
	static char user[64];
	if (!user[0]) {
		struct passwd pw, *res = NULL;
		char buf[1024];
		if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &res) == 0 && res)
			snprintf(user, sizeof(user), "%s", res->pw_name);
		else
			snprintf(user, sizeof(user), "root");
	}
	return user;
}

static bool is_v6(const char *ip)
{
	return strchr(ip, ':') != NULL;
}

static json_t *ip_json(const char *ip)
{
	return json_pack("{s:s, s:s}", "protocol", is_v6(ip) ? "IPv6" : "IPv4", "ip_address", ip);
}

/* MasterInfo.ip: the IPv4 address as a uint32 in network order (0 for IPv6). */
static json_int_t ip_u32(const char *ip)
{
	struct in_addr in;
	return inet_pton(AF_INET, ip, &in) == 1 ? (json_int_t)in.s_addr : 0;
}

/* ---- tasks ---- */

static bool state_unreachable(const char *s)
{
	return !strcmp(s, "TASK_UNREACHABLE");
}

static json_t *statuses_json(const struct rm_task_view *t, const struct m_agent *a, bool v1)
{
	json_t *arr = json_array();
	bool staging = !strcmp(t->state, "TASK_STAGING");
	bool running = !strcmp(t->state, "TASK_RUNNING");
	json_t *last = NULL;
	if (t->started_usec) {
		json_t *s = json_pack("{s:s, s:f}", "state", "TASK_RUNNING", "timestamp",
				      (double)t->started_usec / 1e6);
		if (a && a->ip)
			json_object_set_new(s, "container_status",
					    json_pack("{s:[{s:[o]}]}", "network_infos",
						      "ip_addresses", ip_json(a->ip)));
		json_array_append_new(arr, s);
		last = s;
	}
	if (!staging && !running) {
		uint64_t ts = t->started_usec ? t->started_usec : t->staged_usec;
		json_t *s = json_pack("{s:s, s:f}", "state", t->state, "timestamp", (double)ts / 1e6);
		json_array_append_new(arr, s);
		last = s;
	}
	if (last && t->healthy >= 0)
		json_object_set_new(last, "healthy", json_boolean(t->healthy == 1));
	if (v1) {
		size_t i;
		json_t *s;
		json_array_foreach(arr, i, s) {
			json_object_set_new(s, "task_id", json_pack("{s:s}", "value", t->id));
			json_object_set_new(s, "agent_id", json_pack("{s:s}", "value", t->agent_id));
			json_object_set_new(s, "source", json_string("SOURCE_EXECUTOR"));
		}
	}
	return arr;
}

json_t *state_json_task(const struct rm_task_view *t, const struct m_agent *a, bool v1)
{
	const char *role = t->role ? t->role : "*";
	json_t *labels = discovery_labels_json(t->labels);
	json_t *o;
	if (!v1) {
		o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:o}", "id", t->id, "name",
			      t->name, "framework_id", t->framework_id, "executor_id", "", "slave_id",
			      t->agent_id, "state", t->state, "resources",
			      state_json_resources(t->res, NULL), "role", role, "statuses",
			      statuses_json(t, a, false));
		if (json_array_size(labels))
			json_object_set(o, "labels", labels);
	} else {
		json_t *st = statuses_json(t, a, true);
		o = json_pack("{s:s, s:{s:s}, s:{s:s}, s:{s:s}, s:s}", "name", t->name, "task_id",
			      "value", t->id, "framework_id", "value", t->framework_id, "agent_id",
			      "value", t->agent_id, "state", t->state);
		json_t *res = state_json_resources_v1(t->res, role);
		if (json_array_size(res))
			json_object_set_new(o, "resources", res);
		else
			json_decref(res);
		if (json_array_size(st)) {
			json_t *lastst = json_array_get(st, json_array_size(st) - 1);
			json_object_set(o, "status_update_state", json_object_get(lastst, "state"));
			json_object_set_new(o, "statuses", st);
		} else {
			json_decref(st);
		}
		if (json_array_size(labels))
			json_object_set_new(o, "labels", json_pack("{s:O}", "labels", labels));
	}
	json_decref(labels);
	if (t->discovery)
		json_object_set_new(o, "discovery", t->discovery);
	if (t->user)
		json_object_set_new(o, "user", json_string(t->user));
	return o;
}

/* The tasks of one framework, sorted as Mesos lists them, and what they hold. */
struct task_lists {
	json_t *tasks, *unreachable, *completed;
	struct resources used, offered;
	/* Assembling from the cache (state_json_master_body): the same three lists as cached
	 * renderings, the JSON arrays above staying empty. */
	struct sc_task **p[3];
	size_t np[3], capp[3];
	/* The live tasks' resources (the owners' own, unchanged during the walk), added up
	 * into used once the walk is done (resources_add_all: ports in n log n). */
	const struct resources **live;
	size_t nlive, caplive;
};

enum { TL_TASKS, TL_UNREACHABLE, TL_COMPLETED };

static struct task_lists *task_lists_new(void)
{
	struct task_lists *tl = xcalloc(1, sizeof(*tl));
	tl->tasks = json_array();
	tl->unreachable = json_array();
	tl->completed = json_array();
	return tl;
}

static void task_lists_free(struct task_lists *tl)
{
	if (!tl)
		return;
	json_decref(tl->tasks);
	json_decref(tl->unreachable);
	json_decref(tl->completed);
	resources_release(&tl->used);
	resources_release(&tl->offered);
	for (size_t i = 0; i < 3; i++)
		free(tl->p[i]);
	free(tl->live);
	free(tl);
}

/* Every framework's task lists, by framework id, built in one walk over the tasks. */
struct all_tasks {
	struct master *m;
	bool v1;
	bool pieces; /* legacy renderings from m->scache into the lists' p */
	struct hmap by_fw; /* framework id -> struct task_lists* */
};

static struct task_lists *lists_of(struct all_tasks *at, const char *fw_id)
{
	struct task_lists *tl = hmap_get(&at->by_fw, fw_id);
	if (!tl) {
		tl = task_lists_new();
		hmap_put(&at->by_fw, fw_id, tl);
	}
	return tl;
}

static void add_live(struct task_lists *tl, const struct resources *r)
{
	if (tl->nlive == tl->caplive) {
		tl->caplive = tl->caplive ? 2 * tl->caplive : 16;
		tl->live = xrealloc(tl->live, tl->caplive * sizeof(*tl->live));
	}
	tl->live[tl->nlive++] = r;
}

static void add_task(const struct rm_task_view *t, void *ctx)
{
	struct all_tasks *at = ctx;
	struct task_lists *tl = lists_of(at, t->framework_id);
	if (at->pieces) {
		int l = state_unreachable(t->state)	    ? TL_UNREACHABLE
			: task_state_terminal(t->state) ? TL_COMPLETED
							: TL_TASKS;
		if (l == TL_TASKS)
			add_live(tl, t->res);
		struct sc_task *e =
			state_cache_task(at->m->scache, t, hmap_get(&at->m->agents, t->agent_id), at->v1);
		if (tl->np[l] == tl->capp[l]) {
			tl->capp[l] = tl->capp[l] ? 2 * tl->capp[l] : 16;
			tl->p[l] = xrealloc(tl->p[l], tl->capp[l] * sizeof(*tl->p[l]));
		}
		tl->p[l][tl->np[l]++] = e;
		return;
	}
	json_t *o = state_json_task(t, hmap_get(&at->m->agents, t->agent_id), at->v1);
	if (state_unreachable(t->state)) {
		json_array_append_new(tl->unreachable, o);
	} else if (task_state_terminal(t->state)) {
		json_array_append_new(tl->completed, o);
	} else {
		json_array_append_new(tl->tasks, o);
		add_live(tl, t->res);
	}
}

static void all_tasks_build(struct master *m, bool v1, bool pieces, struct all_tasks *at)
{
	at->m = m;
	at->v1 = v1;
	at->pieces = pieces;
	hmap_init(&at->by_fw);
	for (size_t i = 0; i < m->nclients; i++)
		lists_of(at, m->clients[i]->id);
	const char *k;
	void *v;
	if (m->fw) {
		for (size_t i = 0; hmap_next(&m->fw->fws, &i, &k, &v);)
			lists_of(at, k);
		for (size_t i = 0; hmap_next(&m->fw->offers, &i, &k, &v);) {
			const struct fw_offer *o = v;
			resources_add(&lists_of(at, o->fw->id)->offered, &o->res);
		}
	}
	rm_each_task(m, true, add_task, at);
	for (size_t i = 0; hmap_next(&at->by_fw, &i, &k, &v);) {
		struct task_lists *tl = v;
		resources_add_all(&tl->used, tl->live, tl->nlive);
	}
}

static void all_tasks_release(struct all_tasks *at)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&at->by_fw, &i, &k, &v);)
		task_lists_free(v);
	hmap_release(&at->by_fw);
}

/* ---- frameworks ---- */

static void framework_webui(struct master *m, struct evhttp_request *req, char *out, size_t len)
{
	char ip[64];
	uint16_t port;
	state_json_master_addr(m, req, ip, sizeof(ip), &port);
	snprintf(out, len, is_v6(m->cfg.hostname) ? "http://[%s]:%u" : "http://%s:%u",
		 m->cfg.hostname, (unsigned)port);
}

/* What /master/state and GET_FRAMEWORKS say of a framework, built-in or external. */
struct fw_desc {
	const char *id, *name, *user, *hostname, *webui, *principal;
	const char *const *roles; /* nroles; the legacy JSON says "role" for one, "roles" else */
	size_t nroles;
	bool multi_role;
	double failover_timeout;
	bool checkpoint, active;
	const json_t *capabilities; /* [{type}] (v1 shape) */
	uint64_t registered_usec, reregistered_usec;
	const json_t *info;         /* FrameworkInfo as subscribed (v1), or NULL: built from the above */
};

static json_t *capability_names(const json_t *caps)
{
	json_t *arr = json_array();
	size_t i;
	const json_t *c;
	json_array_foreach(caps, i, c) {
		const char *t = json_string_value(json_object_get(c, "type"));
		if (t)
			json_array_append_new(arr, json_string(t));
	}
	return arr;
}

static json_t *legacy_framework(const struct fw_desc *d, const struct task_lists *tl)
{
	/* No "pid": an HTTP framework (see the file comment). */
	json_t *f = json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:f, s:b, s:b, s:b, s:b, s:f, s:f, s:f,"
		" s:o, s:o, s:o, s:o, s:O, s:O, s:O, s:[], s:[]}",
		"id", d->id, "name", d->name, "hostname", d->hostname, "webui_url", d->webui,
		"user", d->user, "failover_timeout", d->failover_timeout, "checkpoint",
		d->checkpoint, "active", d->active, "connected", d->active, "recovered", 0,
		"registered_time", (double)d->registered_usec / 1e6, "reregistered_time",
		(double)d->reregistered_usec / 1e6, "unregistered_time", 0.0, "capabilities",
		capability_names(d->capabilities), "used_resources",
		state_json_resources(&tl->used, NULL), "offered_resources",
		state_json_resources(&tl->offered, NULL), "resources",
		state_json_resources(&tl->used, NULL), "tasks", tl->tasks, "unreachable_tasks",
		tl->unreachable, "completed_tasks", tl->completed, "offers", "executors");
	/* "role", not "roles": Mesos writes "roles" only for MULTI_ROLE frameworks. */
	if (d->multi_role) {
		json_t *roles = json_array();
		for (size_t i = 0; i < d->nroles; i++)
			json_array_append_new(roles, json_string(d->roles[i]));
		json_object_set_new(f, "roles", roles);
	} else {
		json_object_set_new(f, "role", json_string(d->nroles ? d->roles[0] : "*"));
	}
	if (d->principal)
		json_object_set_new(f, "principal", json_string(d->principal));
	return f;
}

static json_t *nanos(uint64_t usec)
{
	return json_pack("{s:I}", "nanoseconds", (json_int_t)(usec * 1000));
}

static json_t *v1_framework(const struct fw_desc *d, const struct task_lists *tl)
{
	json_t *info;
	if (d->info) {
		info = json_deep_copy(d->info);
		json_object_set_new(info, "id", json_pack("{s:s}", "value", d->id));
	} else {
		info = json_pack("{s:s, s:s, s:{s:s}, s:f, s:b, s:s, s:s, s:s, s:O}", "user", d->user,
				 "name", d->name, "id", "value", d->id, "failover_timeout",
				 d->failover_timeout, "checkpoint", d->checkpoint, "role",
				 d->nroles ? d->roles[0] : "*", "hostname", d->hostname, "webui_url",
				 d->webui, "capabilities", d->capabilities);
	}
	json_t *fw = json_pack("{s:o, s:b, s:b, s:b}", "framework_info", info, "active", d->active,
			       "connected", d->active, "recovered", 0);
	if (d->registered_usec)
		json_object_set_new(fw, "registered_time", nanos(d->registered_usec));
	if (d->reregistered_usec)
		json_object_set_new(fw, "reregistered_time", nanos(d->reregistered_usec));
	const char *alloc_role = d->nroles ? d->roles[0] : "*";
	state_json_set_repeated(fw, "allocated_resources", state_json_resources_v1(&tl->used, alloc_role));
	state_json_set_repeated(fw, "offered_resources", state_json_resources_v1(&tl->offered, alloc_role));
	return fw;
}

/* The built-in frameworks are shown as Mesos shows Marathon. */
static void client_desc(struct master *m, const struct rm_client *c, const char *webui,
			struct fw_desc *d, json_t *caps)
{
	static const char *const star[] = { "*" };
	*d = (struct fw_desc){ .id = c->id, .name = c->name, .user = framework_user(),
			       .hostname = m->cfg.hostname, .webui = webui, .roles = star,
			       .nroles = 1, .failover_timeout = STATE_JSON_FAILOVER_TIMEOUT,
			       .checkpoint = true, .active = true, .capabilities = caps,
			       .registered_usec = m->started_usec,
			       .reregistered_usec = m->started_usec };
}

static const char *info_str(const json_t *info, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(info, key));
	return s ? s : dflt;
}

static void external_desc(const struct fw_framework *fw, struct fw_desc *d)
{
	const json_t *info = fw->info;
	const json_t *caps = json_object_get(info, "capabilities");
	bool multi = false;
	size_t i;
	const json_t *c;
	json_array_foreach(caps, i, c)
		if (!strcmp(info_str(c, "type", ""), "MULTI_ROLE"))
			multi = true;
	double fo = json_number_value(json_object_get(info, "failover_timeout"));
	*d = (struct fw_desc){ .id = fw->id, .name = info_str(info, "name", ""),
			       .user = info_str(info, "user", ""),
			       .hostname = info_str(info, "hostname", ""),
			       .webui = info_str(info, "webui_url", ""),
			       .principal = json_string_value(json_object_get(info, "principal")),
			       .roles = (const char *const *)fw->roles, .nroles = fw->nroles,
			       .multi_role = multi, .failover_timeout = fo,
			       .checkpoint = json_is_true(json_object_get(info, "checkpoint")),
			       .active = fw_subscribed(fw), .capabilities = caps,
			       .registered_usec = fw->registered_usec,
			       .reregistered_usec = fw->reregistered_usec, .info = info };
}

/* Calls fn for every framework, built-in first, with its task lists from at. */
static void each_framework(struct master *m, struct evhttp_request *req, struct all_tasks *at,
			   void (*fn)(const struct fw_desc *d, const struct task_lists *tl,
				      void *ctx),
			   void *ctx)
{
	char webui[400];
	framework_webui(m, req, webui, sizeof(webui));
	json_t *caps = json_pack("[{s:s}, {s:s}]", "type", "TASK_KILLING_STATE", "type",
				 "PARTITION_AWARE");
	struct fw_desc d;
	for (size_t i = 0; i < m->nclients; i++) {
		client_desc(m, m->clients[i], webui, &d, caps);
		fn(&d, lists_of(at, d.id), ctx);
	}
	json_decref(caps);
	const char *k;
	void *v;
	for (size_t i = 0; m->fw && hmap_next(&m->fw->fws, &i, &k, &v);) {
		external_desc(v, &d);
		fn(&d, lists_of(at, d.id), ctx);
	}
}

static void add_legacy_framework(const struct fw_desc *d, const struct task_lists *tl, void *ctx)
{
	json_array_append_new(ctx, legacy_framework(d, tl));
}

static void add_v1_framework(const struct fw_desc *d, const struct task_lists *tl, void *ctx)
{
	json_array_append_new(ctx, v1_framework(d, tl));
}

/* ---- agents ---- */

/* The /master/state document with frameworks (taken) as its "frameworks", and slaves
 * (taken) as its "slaves" when not NULL (else the agents are rendered here). */
static json_t *master_doc(struct master *m, struct evhttp_request *req, json_t *frameworks,
			  json_t *slaves_mark)
{
	char ip[64], pid[400], id[64], portstr[8];
	uint16_t port;
	state_json_master_addr(m, req, ip, sizeof(ip), &port);
	state_json_upid("master", ip, port, pid, sizeof(pid));
	master_id(m, id, sizeof(id));
	json_t *slaves = json_array();
	int active = 0, inactive = 0, unreachable = 0;
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->agents, &i, &k, &v);) {
		const struct m_agent *a = v;
		if (a->state == AGENT_UNREACHABLE) {
			unreachable += !a->gone; /* a gone agent is no longer known (Mesos) */
			continue;
		}
		if (a->state == AGENT_CONNECTED)
			active++;
		else
			inactive++;
		if (!slaves_mark)
			json_array_append_new(slaves, state_json_legacy_slave(a));
	}
	if (slaves_mark) {
		json_decref(slaves);
		slaves = slaves_mark;
	}
	snprintf(portstr, sizeof(portstr), "%u", (unsigned)port);
	double start = (double)m->started_usec / 1e6;
	json_t *leader_info = json_pack(
		"{s:s, s:s, s:I, s:i, s:s, s:s, s:{s:s, s:s, s:i}}", "id", id, "pid", pid, "ip",
		ip_u32(ip), "port", (int)port, "hostname", m->cfg.hostname, "version",
		STATE_JSON_MESOS_VERSION, "address", "hostname", m->cfg.hostname, "ip", ip, "port",
		(int)port);
	json_t *st = json_pack(
		"{s:s, s:s, s:s, s:f, s:f, s:s, s:s, s:s, s:[], s:f, s:f, s:f, s:s, s:o,"
		" s:{s:s, s:s, s:s}, s:o, s:[], s:o, s:[], s:[], s:[]}",
		"version", STATE_JSON_MESOS_VERSION, "berth_version", STATE_JSON_BERTH_VERSION,
		"build_user", "berth", "start_time", start, "elected_time", start, "id", id, "pid",
		pid, "hostname", m->cfg.hostname, "capabilities", "activated_slaves",
		(double)active, "deactivated_slaves", (double)inactive, "unreachable_slaves",
		(double)unreachable, "leader", pid, "leader_info", leader_info, "flags",
		"hostname", m->cfg.hostname, "ip", ip, "port", portstr, "slaves", slaves,
		"recovered_slaves", "frameworks", frameworks, "completed_frameworks",
		"orphan_tasks", "unregistered_frameworks");
	return st;
}

json_t *state_json_master_state(struct master *m, struct evhttp_request *req)
{
	struct all_tasks at;
	all_tasks_build(m, false, false, &at);
	json_t *frameworks = json_array();
	each_framework(m, req, &at, add_legacy_framework, frameworks);
	fw_executors_fill_state(m, frameworks); /* frameworks[].executors */
	all_tasks_release(&at);
	json_t *st = master_doc(m, req, frameworks, NULL);
	state_filter_legacy(m, req, st);
	return st;
}

/* ---- /master/state from the task cache (state-cache.c) ----
 * The document and each framework are rendered with marks where their task lists go
 * (strings no key of ours holds and a user's string could only hold with control
 * characters: a mark found other than exactly once falls back to the whole render), then
 * sent as the bytes around the marks and the tasks' cached pieces. */

#define DUMP_FLAGS (JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15))
#define DOC_MARK 9
#define AGENTS_MARK 10

static json_t *mark(int i)
{
	char s[32];
	snprintf(s, sizeof(s), "\x01" "berth-sc-%d\x01", i);
	return json_string(s);
}

/* Appends the bytes of *s before the dumped mark i and moves *s past it; -1 when the mark
 * is not there exactly once. */
static int upto_mark(struct http_body *b, const char **s, int i)
{
	char m[40];
	snprintf(m, sizeof(m), "\"\\u0001berth-sc-%d\\u0001\"", i);
	const char *at = strstr(*s, m);
	if (!at || strstr(at + 1, m))
		return -1;
	http_body_add(b, *s, (size_t)(at - *s));
	*s = at + strlen(m);
	return 0;
}

struct body_ctx {
	struct master *m;
	struct http_body *b;
	const char *who;
	bool filter; /* the view ACLs apply (state_filter_legacy's rules) */
	const char *only; /* this framework id only (/master/frameworks?framework_id=), or NULL */
	bool any;
	int err;
};

static void add_body_framework(const struct fw_desc *d, const struct task_lists *tl, void *ctx)
{
	static const char *const keys[3] = { "tasks", "unreachable_tasks", "completed_tasks" };
	struct body_ctx *bc = ctx;
	struct master *m = bc->m;
	if (bc->err || (bc->only && strcmp(d->id, bc->only)) ||
	    (bc->filter && !m->may_view(m->may_view_ctx, "view_frameworks", bc->who, d->user)))
		return;
	json_t *f = legacy_framework(d, tl);
	fw_executors_fill_framework(m, f); /* executors, as the whole render has them */
	for (int i = 0; i < 3; i++)
		json_object_set_new(f, keys[i], mark(i));
	char *s = json_dumps(f, DUMP_FLAGS);
	json_decref(f);
	if (!s) {
		bc->err = -ENOMEM;
		return;
	}
	if (bc->any)
		http_body_lit(bc->b, ",");
	bc->any = true;
	const char *p = s;
	for (int i = 0; i < 3 && !bc->err; i++) {
		if (upto_mark(bc->b, &p, i) < 0) {
			bc->err = -EPROTO;
			break;
		}
		http_body_lit(bc->b, "[");
		if (!bc->filter && tl->np[i]) { /* the whole list, one piece */
			http_body_piece(bc->b,
					state_cache_block(m->scache, d->id, i, tl->p[i], tl->np[i], false),
					false);
			http_body_lit(bc->b, "]");
			continue;
		}
		bool first = true;
		for (size_t j = 0; j < tl->np[i]; j++) {
			const struct sc_task *e = tl->p[i][j];
			if (bc->filter && !m->may_view(m->may_view_ctx, "view_tasks", bc->who,
						       e->user ? e->user : d->user))
				continue;
			http_body_piece(bc->b, e->piece, !first);
			first = false;
		}
		http_body_lit(bc->b, "]");
	}
	if (!bc->err)
		http_body_lit(bc->b, p);
	free(s);
}

json_t *state_json_v1_agents_mark(void)
{
	return mark(AGENTS_MARK);
}

int state_json_master_body(struct master *m, struct evhttp_request *req, struct http_body *b)
{
	if (!m->scache)
		m->scache = state_cache_new();
	struct all_tasks at;
	all_tasks_build(m, false, true, &at);
	json_t *st = master_doc(m, req, mark(DOC_MARK), mark(AGENTS_MARK));
	char *s = json_dumps(st, DUMP_FLAGS);
	json_decref(st);
	http_body_init(b);
	struct body_ctx bc = { .m = m, .b = b, .filter = m->may_view && req };
	if (bc.filter)
		bc.who = evhttp_find_header(evhttp_request_get_input_headers(req),
					    HTTP_PRINCIPAL_HEADER);
	const char *p = s;
	if (!s || upto_mark(b, &p, AGENTS_MARK) < 0) {
		bc.err = -EPROTO;
	} else {
		state_json_agents_body(m, b, SC_AGENT_LEGACY);
	}
	if (bc.err || upto_mark(b, &p, DOC_MARK) < 0) {
		bc.err = -EPROTO;
	} else {
		http_body_lit(b, "[");
		each_framework(m, req, &at, add_body_framework, &bc);
		http_body_lit(b, "]");
		http_body_lit(b, p);
	}
	all_tasks_release(&at);
	state_cache_sweep(m->scache, bc.filter ? -1 : 0);
	free(s);
	if (bc.err) {
		http_body_release(b);
		return bc.err;
	}
	return 0;
}

int state_json_frameworks_body(struct master *m, struct evhttp_request *req, const char *only,
			       struct http_body *b)
{
	if (!m->scache)
		m->scache = state_cache_new();
	struct all_tasks at;
	all_tasks_build(m, false, true, &at);
	http_body_init(b);
	struct body_ctx bc = { .m = m, .b = b, .filter = m->may_view && req, .only = only };
	if (bc.filter)
		bc.who = evhttp_find_header(evhttp_request_get_input_headers(req),
					    HTTP_PRINCIPAL_HEADER);
	/* master_doc's completed and unregistered frameworks are always empty */
	http_body_lit(b, "{\"frameworks\":[");
	each_framework(m, req, &at, add_body_framework, &bc);
	http_body_lit(b, "],\"completed_frameworks\":[],\"unregistered_frameworks\":[]}");
	all_tasks_release(&at);
	/* a selection keeps the other frameworks' lists for /master/state */
	state_cache_sweep(m->scache, bc.filter || only ? -1 : 0);
	if (bc.err) {
		http_body_release(b);
		return bc.err;
	}
	return 0;
}

/* ---- the tasks' pieces for legacy-cache.c (/master/tasks, /state-summary) ---- */

struct piece_walk {
	struct master *m;
	const char *who;
	bool filter;
	json_t *fws;
	void (*fn)(const char *fw_id, const struct sc_task *e, void *ctx);
	void *ctx;
};

static void walk_framework(const struct fw_desc *d, const struct task_lists *tl, void *ctx)
{
	struct piece_walk *w = ctx;
	struct master *m = w->m;
	if (w->filter && !m->may_view(m->may_view_ctx, "view_frameworks", w->who, d->user))
		return;
	if (w->fws)
		json_array_append_new(w->fws, legacy_framework(d, tl));
	for (int l = 0; l < 3; l++)
		for (size_t j = 0; j < tl->np[l]; j++) {
			const struct sc_task *e = tl->p[l][j];
			if (!w->filter || m->may_view(m->may_view_ctx, "view_tasks", w->who,
						      e->user ? e->user : d->user))
				w->fn(d->id, e, w->ctx);
		}
}

json_t *state_json_task_pieces(struct master *m, struct evhttp_request *req, bool doc,
			       void (*fn)(const char *fw_id, const struct sc_task *e, void *ctx),
			       void *ctx)
{
	if (!m->scache)
		m->scache = state_cache_new();
	struct all_tasks at;
	all_tasks_build(m, false, true, &at);
	struct piece_walk w = { .m = m, .filter = m->may_view && req, .fn = fn, .ctx = ctx,
				.fws = doc ? json_array() : NULL };
	if (w.filter)
		w.who = evhttp_find_header(evhttp_request_get_input_headers(req),
					   HTTP_PRINCIPAL_HEADER);
	each_framework(m, req, &at, walk_framework, &w);
	all_tasks_release(&at);
	state_cache_sweep(m->scache, -1);
	return doc ? master_doc(m, req, w.fws, NULL) : NULL;
}

/* ---- GET_TASKS from the task cache ---- */

json_t *state_json_v1_tasks_mark(void)
{
	return mark(DOC_MARK);
}

/* state_json_v1_tasks's bytes from the cache: the lists of every framework in turn (in the
 * by_fw order state_json_v1_tasks extends them in), empty ones left out. */
static void v1_tasks_body(struct master *m, struct http_body *b, const struct state_view *view)
{
	static const char *const keys[3] = { "tasks", "unreachable_tasks", "completed_tasks" };
	struct all_tasks at;
	all_tasks_build(m, true, true, &at);
	http_body_lit(b, "{");
	bool anykey = false;
	for (int l = 0; l < 3; l++) {
		const char *k;
		void *v;
		bool first = true, opened = false;
		for (size_t i = 0; hmap_next(&at.by_fw, &i, &k, &v);) {
			const struct task_lists *tl = v;
			if (!tl->np[l])
				continue;
			if (!opened) {
				/* a list the view empties stays, as "[]": the filter removes
				 * entries from the rendered arrays, it does not drop keys */
				http_body_lit(b, anykey ? ",\"" : "\"");
				http_body_lit(b, keys[l]);
				http_body_lit(b, "\":[");
				anykey = opened = true;
			}
			if (!view) {
				http_body_piece(b, state_cache_block(m->scache, k, l, tl->p[l],
								     tl->np[l], true),
						!first);
				first = false;
				continue;
			}
			for (size_t j = 0; j < tl->np[l]; j++) {
				const struct sc_task *e = tl->p[l][j];
				if (!state_filter_v1_task(m, view->who, e->user, k, view->users))
					continue;
				http_body_piece(b, e->v1, !first);
				first = false;
			}
		}
		if (opened)
			http_body_lit(b, "]");
	}
	http_body_lit(b, "}");
	all_tasks_release(&at);
	state_cache_sweep(m->scache, view ? -1 : 1);
}

int state_json_v1_body(struct master *m, json_t *doc, struct http_body *b,
		       const struct state_view *view)
{
	if (!m->scache)
		m->scache = state_cache_new();
	char *s = json_dumps(doc, DUMP_FLAGS);
	json_decref(doc);
	http_body_init(b);
	const char *p = s;
	/* the tasks' mark, the agents' mark, or both in that order */
	char tm[40], am[40];
	snprintf(tm, sizeof(tm), "\"\\u0001berth-sc-%d\\u0001\"", DOC_MARK);
	snprintf(am, sizeof(am), "\"\\u0001berth-sc-%d\\u0001\"", AGENTS_MARK);
	const char *ta = s ? strstr(s, tm) : NULL, *aa = s ? strstr(s, am) : NULL;
	if (!s || (!ta && !aa) || (ta && aa && aa < ta) ||
	    (ta && upto_mark(b, &p, DOC_MARK) < 0)) {
		free(s);
		http_body_release(b);
		return -EPROTO;
	}
	if (ta)
		v1_tasks_body(m, b, view);
	if (aa) {
		if (upto_mark(b, &p, AGENTS_MARK) < 0) {
			free(s);
			http_body_release(b);
			return -EPROTO;
		}
		state_json_v1_agents_body(m, b);
	}
	http_body_lit(b, p);
	free(s);
	return 0;
}

/* ---- v1 ---- */

json_t *state_json_v1_tasks(struct master *m)
{
	struct all_tasks at;
	all_tasks_build(m, true, false, &at);
	json_t *tasks = json_array(), *unreachable = json_array(), *completed = json_array();
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&at.by_fw, &i, &k, &v);) {
		const struct task_lists *tl = v;
		json_array_extend(tasks, tl->tasks);
		json_array_extend(unreachable, tl->unreachable);
		json_array_extend(completed, tl->completed);
	}
	all_tasks_release(&at);
	json_t *o = json_object();
	state_json_set_repeated(o, "tasks", tasks);
	state_json_set_repeated(o, "unreachable_tasks", unreachable);
	state_json_set_repeated(o, "completed_tasks", completed);
	return o;
}

json_t *state_json_v1_agent(const struct m_agent *a)
{
	char pid[400];
	uint16_t port = registry_agent_port(a);
	if (!port)
		port = 5051;
	state_json_upid("slave(1)", a->ip ? a->ip : "127.0.0.1", port, pid, sizeof(pid));
	json_t *info = json_pack("{s:s, s:i, s:{s:s}}", "hostname", a->hostname, "port",
				 (int)port, "id", "value", a->id);
	state_json_set_repeated(info, "resources", state_json_resources_v1(rm_agent_total(a), NULL));
	state_json_set_repeated(info, "attributes", state_json_attributes_v1(&a->attrs));
	bool active = a->state == AGENT_CONNECTED && !a->deactivated;
	json_t *o = json_pack("{s:o, s:b, s:b, s:s, s:s, s:o}", "agent_info", info, "active",
			      active, "deactivated", !active, "version", STATE_JSON_MESOS_VERSION,
			      "pid", pid, "registered_time", nanos(a->registered_usec));
	state_json_set_repeated(o, "total_resources", state_json_resources_v1(rm_agent_total(a), NULL));
	state_json_set_repeated(o, "allocated_resources", state_json_resources_v1(rm_agent_used(a), "*"));
	if (a->drain != AGENT_DRAIN_NONE) /* maint.c */
		json_object_set_new(o, "drain_info", maint_drain_info(a));
	return o;
}

json_t *state_json_v1_agents(struct master *m)
{
	json_t *agents = json_array();
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->agents, &i, &k, &v);) {
		const struct m_agent *a = v;
		if (a->state != AGENT_UNREACHABLE)
			json_array_append_new(agents, state_json_v1_agent(a));
	}
	json_t *o = json_object();
	state_json_set_repeated(o, "agents", agents);
	return o;
}

json_t *state_json_v1_frameworks(struct master *m)
{
	/* Only what the tasks hold is shown: from the cache, their JSON is not built. */
	bool cached = state_cache_enabled();
	if (cached && !m->scache)
		m->scache = state_cache_new();
	struct all_tasks at;
	all_tasks_build(m, true, cached, &at);
	json_t *arr = json_array();
	each_framework(m, NULL, &at, add_v1_framework, arr);
	all_tasks_release(&at);
	if (cached)
		state_cache_sweep(m->scache, -1);
	return json_pack("{s:o}", "frameworks", arr);
}

/* ---- GET_FRAMEWORKS from the framework cache (state-cache.c) ---- */

struct v1fw_arg {
	const struct fw_desc *d;
	const struct task_lists *tl;
};

static json_t *render_v1fw(const void *arg)
{
	const struct v1fw_arg *a = arg;
	return v1_framework(a->d, a->tl);
}

/* Everything v1_framework reads. */
static uint64_t v1fw_key(const struct fw_desc *d, const struct task_lists *tl)
{
	const char *const s[] = { d->id, d->name, d->user, d->hostname, d->webui, d->principal };
	uint64_t h = 0;
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		h = state_cache_mix_str(h, s[i]);
	h = state_cache_mix_u64(h, d->nroles);
	for (size_t i = 0; i < d->nroles; i++)
		h = state_cache_mix_str(h, d->roles[i]);
	uint64_t fo;
	memcpy(&fo, &d->failover_timeout, sizeof(fo));
	h = state_cache_mix_u64(h, fo);
	h = state_cache_mix_u64(h, (uint64_t)d->multi_role << 2 | (uint64_t)d->checkpoint << 1 |
					   d->active);
	h = state_cache_mix_u64(state_cache_mix_u64(h, d->registered_usec), d->reregistered_usec);
	h = state_cache_mix_json(h, d->capabilities);
	h = state_cache_mix_u64(h, d->info != NULL);
	h = state_cache_mix_json(h, d->info);
	h = state_cache_mix_resources(h, &tl->used);
	return state_cache_mix_resources(h, &tl->offered);
}

struct v1fw_walk {
	struct master *m;
	struct http_body *b;
	const char *who;
	bool filter, any;
};

static void add_v1fw_piece(const struct fw_desc *d, const struct task_lists *tl, void *ctx)
{
	struct v1fw_walk *w = ctx;
	struct master *m = w->m;
	/* state_filter_v1's rule: the user of the entry's framework_info */
	const char *user = d->info ? json_string_value(json_object_get(d->info, "user")) : d->user;
	if (w->filter && !m->may_view(m->may_view_ctx, "view_frameworks", w->who, user)) {
		state_cache_framework_seen(m->scache, d->id);
		return;
	}
	struct v1fw_arg a = { d, tl };
	http_body_piece(w->b,
			state_cache_framework(m->scache, d->id, v1fw_key(d, tl), render_v1fw, &a),
			w->any);
	w->any = true;
}

void state_json_v1_frameworks_body(struct master *m, struct evhttp_request *req,
				   struct http_body *b)
{
	if (!m->scache)
		m->scache = state_cache_new();
	struct all_tasks at;
	all_tasks_build(m, true, true, &at);
	struct v1fw_walk w = { .m = m, .b = b, .filter = m->may_view && req };
	if (w.filter)
		w.who = state_filter_who(req);
	http_body_lit(b, "{\"frameworks\":[");
	each_framework(m, NULL, &at, add_v1fw_piece, &w); /* as state_json_v1_frameworks */
	http_body_lit(b, "]}");
	all_tasks_release(&at);
	state_cache_sweep(m->scache, -1);
	state_cache_frameworks_sweep(m->scache);
}

json_t *state_json_v1_framework(const struct fw_framework *fw)
{
	struct task_lists *tl = task_lists_new();
	resources_copy(&tl->used, &fw->used);
	struct fw_desc d;
	external_desc(fw, &d);
	json_t *o = v1_framework(&d, tl);
	task_lists_free(tl);
	return o;
}

json_t *state_json_v1_master(struct master *m, struct evhttp_request *req)
{
	char ip[64], pid[400], id[64];
	uint16_t port;
	state_json_master_addr(m, req, ip, sizeof(ip), &port);
	state_json_upid("master", ip, port, pid, sizeof(pid));
	master_id(m, id, sizeof(id));
	double start = (double)m->started_usec / 1e6;
	return json_pack("{s:{s:s, s:I, s:i, s:s, s:s, s:s, s:{s:s, s:s, s:i}}, s:f, s:f}",
			 "master_info", "id", id, "ip", ip_u32(ip), "port", (int)port, "pid", pid,
			 "hostname", m->cfg.hostname, "version", STATE_JSON_MESOS_VERSION, "address",
			 "hostname", m->cfg.hostname, "ip", ip, "port", (int)port, "start_time",
			 start, "elected_time", start);
}

json_t *state_json_v1_version(void)
{
	return json_pack("{s:{s:s, s:s}}", "version_info", "version", STATE_JSON_MESOS_VERSION,
			 "build_user", "berth");
}

/* ---- HTTP ---- */

void rm_handle_state(struct master *m, struct evhttp_request *req)
{
	enum evhttp_cmd_type meth = evhttp_request_get_command(req);
	if (meth != EVHTTP_REQ_GET && meth != EVHTTP_REQ_HEAD) {
		http_reply_message(req, 405, "Expecting a 'GET' request, received '%s'",
				   http_method_name(meth));
		return;
	}
	struct http_body b;
	if (!state_cache_enabled() || state_json_master_body(m, req, &b) < 0) {
		http_reply_json(req, 200, state_json_master_state(m, req));
		return;
	}
	if (state_cache_verifying() &&
	    state_cache_answer_stale(m->scache, req, &b, state_json_master_state(m, req), "/master/state"))
		return;
	http_reply_body_cond(req, &b);
}
