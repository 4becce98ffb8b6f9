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

#include "base/mem.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
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

json_t *state_json_labels(const json_t *labels)
{
	json_t *arr = json_array();
	const char *k;
	json_t *v;
	if (!json_is_object(labels))
		return arr;
	json_object_foreach((json_t *)labels, k, v) {
		const char *s = json_string_value(v);
		json_array_append_new(arr, json_pack("{s:s, s:s}", "key", k, "value", s ? s : ""));
	}
	return arr;
}

json_t *state_json_discovery(const struct app *def, const char *name, const uint32_t *ports,
			     size_t nports)
{
	json_t *list = json_array();
	json_t *pdefs = json_object_get(def->json, "portDefinitions");
	for (size_t i = 0; i < def->nports; i++) {
		const struct port_def *pd = &def->ports[i];
		json_t *plabels = json_object_get(json_array_get(pdefs, i), "labels");
		const char *protos = pd->protocol ? pd->protocol : "tcp";
		/* "udp,tcp": one DiscoveryInfo port per protocol, as Marathon does. */
		for (const char *p = protos; *p;) {
			const char *c = strchr(p, ',');
			size_t n = c ? (size_t)(c - p) : strlen(p);
			char proto[16];
			if (n && n < sizeof(proto)) {
				memcpy(proto, p, n);
				proto[n] = '\0';
				json_t *o = json_pack("{s:I, s:s}", "number",
						      (json_int_t)(i < nports ? ports[i] : 0), "protocol",
						      proto);
				if (pd->name)
					json_object_set_new(o, "name", json_string(pd->name));
				json_t *lab = state_json_labels(plabels);
				if (json_array_size(lab))
					json_object_set_new(o, "labels", json_pack("{s:o}", "labels", lab));
				else
					json_decref(lab);
				json_array_append_new(list, o);
			}
			p = c ? c + 1 : p + n;
		}
	}
	return json_pack("{s:s, s:s, s:{s:o}}", "visibility", "FRAMEWORK", "name", name, "ports",
			 "ports", list);
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
	*port = m->http ? http_server_port(m->http) : m->cfg.http_port;
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

/* The master id: the framework id without its "-0000" (Mesos: framework ids are
 * "<master id>-<seq>"). */
static void master_id(const struct master *m, char *out, size_t len)
{
	snprintf(out, len, "%s", m->framework_id);
	size_t n = strlen(out);
	if (n > 5 && !strcmp(out + n - 5, "-0000"))
		out[n - 5] = '\0';
}

static const char *framework_user(void)
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

/* Task states shown among `tasks` (the rest: unreachable or completed). */
static bool state_unreachable(const char *s)
{
	return !strcmp(s, "TASK_UNREACHABLE");
}

static json_t *statuses_json(const struct m_instance *in, const struct m_agent *a, bool v1,
			     const char *agent_id)
{
	json_t *arr = json_array();
	bool has_health = in->app->def->nhealth_checks > 0 && in->healthy >= 0;
	bool staging = !strcmp(in->state, "TASK_STAGING");
	bool running = !strcmp(in->state, "TASK_RUNNING");
	json_t *last = NULL;
	if (in->started_at) {
		json_t *s = json_pack("{s:s, s:f}", "state", "TASK_RUNNING", "timestamp",
				      (double)in->started_at / 1e6);
		if (a && a->ip)
			json_object_set_new(s, "container_status",
					    json_pack("{s:[{s:[o]}]}", "network_infos",
						      "ip_addresses", ip_json(a->ip)));
		json_array_append_new(arr, s);
		last = s;
	}
	if (!staging && !running) {
		uint64_t t = in->started_at ? in->started_at : in->staged_at;
		json_t *s = json_pack("{s:s, s:f}", "state", in->state, "timestamp", (double)t / 1e6);
		json_array_append_new(arr, s);
		last = s;
	}
	if (last && has_health)
		json_object_set_new(last, "healthy", json_boolean(in->healthy == 1));
	if (v1) {
		size_t i;
		json_t *s;
		json_array_foreach(arr, i, s) {
			json_object_set_new(s, "task_id", json_pack("{s:s}", "value", in->task_id));
			json_object_set_new(s, "agent_id", json_pack("{s:s}", "value", agent_id));
			json_object_set_new(s, "source", json_string("SOURCE_EXECUTOR"));
		}
	}
	return arr;
}

static json_t *task_json(struct master *m, const struct m_instance *in, bool v1)
{
	const struct app *def = in->app->def;
	struct m_agent *a = in->agent_id ? hmap_get(&m->agents, in->agent_id) : NULL;
	const char *agent_id = in->agent_id ? in->agent_id : "";
	const char *role = def->role ? def->role : "*";
	char name[APP_MAX_ID_LEN + 1];
	app_task_name(def->id, name);
	json_t *labels = state_json_labels(def->labels);
	json_t *t;
	if (!v1) {
		t = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:o}", "id", in->task_id,
			      "name", name, "framework_id", m->framework_id, "executor_id", "",
			      "slave_id", agent_id, "state", in->state, "resources",
			      state_json_resources(&in->res, NULL), "role", role, "statuses",
			      statuses_json(in, a, false, agent_id));
		if (json_array_size(labels))
			json_object_set(t, "labels", labels);
	} else {
		json_t *st = statuses_json(in, a, true, agent_id);
		t = json_pack("{s:s, s:{s:s}, s:{s:s}, s:{s:s}, s:s, s:o}", "name", name, "task_id",
			      "value", in->task_id, "framework_id", "value", m->framework_id,
			      "agent_id", "value", agent_id, "state", in->state, "resources",
			      state_json_resources_v1(&in->res, role));
		if (json_array_size(st)) {
			json_t *lastst = json_array_get(st, json_array_size(st) - 1);
			json_object_set(t, "status_update_state", json_object_get(lastst, "state"));
			json_object_set_new(t, "statuses", st);
		} else {
			json_decref(st);
		}
		if (json_array_size(labels))
			json_object_set_new(t, "labels", json_pack("{s:O}", "labels", labels));
	}
	json_decref(labels);
	json_object_set_new(t, "discovery", state_json_discovery(def, name, in->ports, in->nports));
	if (def->user)
		json_object_set_new(t, "user", json_string(def->user));
	return t;
}

/* Calls fn for every live task of the apps framework. */
static void each_task(struct master *m, void (*fn)(const struct m_instance *in, void *ctx),
		      void *ctx)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->apps, &i, &k, &v);) {
		const struct m_app *ma = v;
		for (size_t j = 0; j < ma->ninst; j++) {
			const struct m_instance *in = ma->inst[j];
			if (in->phase == INST_LIVE && in->task_id[0] && in->state)
				fn(in, ctx);
		}
	}
}

struct task_lists {
	struct master *m;
	bool v1;
	json_t *tasks, *unreachable, *completed;
	struct resources used;
};

static void add_task(const struct m_instance *in, void *ctx)
{
	struct task_lists *tl = ctx;
	json_t *t = task_json(tl->m, in, tl->v1);
	if (state_unreachable(in->state)) {
		json_array_append_new(tl->unreachable, t);
	} else if (apps_state_is_terminal(in->state)) {
		json_array_append_new(tl->completed, t);
	} else {
		json_array_append_new(tl->tasks, t);
		resources_add(&tl->used, &in->res);
	}
}

static void task_lists_build(struct master *m, bool v1, struct task_lists *tl)
{
	tl->m = m;
	tl->v1 = v1;
	tl->tasks = json_array();
	tl->unreachable = json_array();
	tl->completed = json_array();
	resources_init(&tl->used);
	each_task(m, add_task, tl);
}

static void task_lists_release(struct task_lists *tl)
{
	json_decref(tl->tasks);
	json_decref(tl->unreachable);
	json_decref(tl->completed);
	resources_release(&tl->used);
}

/* Resources held by the live tasks, per agent id (one pass over the tasks, so that the
 * state of a large cluster costs O(agents + tasks)). Values are struct resources *. */
static void add_agent_used(const struct m_instance *in, void *ctx)
{
	struct hmap *used = ctx;
	if (!in->agent_id || apps_state_is_terminal(in->state) || state_unreachable(in->state))
		return;
	struct resources *r = hmap_get(used, in->agent_id);
	if (!r) {
		r = xcalloc(1, sizeof(*r));
		resources_init(r);
		hmap_put(used, in->agent_id, r);
	}
	resources_add(r, &in->res);
}

static void used_by_agent_build(struct master *m, struct hmap *used)
{
	hmap_init(used);
	each_task(m, add_agent_used, used);
}

static void used_by_agent_release(struct hmap *used)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(used, &i, &k, &v);) {
		resources_release(v);
		free(v);
	}
	hmap_release(used);
}

static const struct resources *agent_used(const struct hmap *used, const struct m_agent *a)
{
	static const struct resources none = RESOURCES_INIT;
	const struct resources *r = hmap_get(used, a->id);
	return r ? r : &none;
}

static void framework_webui(struct master *m, struct evhttp_request *req, char *out, size_t len)
{
	char ip[64];
	uint16_t port;
	state_json_master_addr(m, req, ip, sizeof(ip), &port);
	snprintf(out, len, is_v6(m->cfg.hostname) ? "http://[%s]:%u" : "http://%s:%u",
		 m->cfg.hostname, (unsigned)port);
}

static json_t *legacy_framework(struct master *m, struct evhttp_request *req)
{
	struct task_lists tl;
	task_lists_build(m, false, &tl);
	char webui[400];
	framework_webui(m, req, webui, sizeof(webui));
	double reg = (double)m->started_usec / 1e6;
	/* No "pid": an HTTP framework (see the file comment). "role", not "roles": Mesos
	 * writes "roles" only for MULTI_ROLE frameworks. */
	json_t *f = json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:f, s:b, s:s, s:b, s:b, s:b, s:f, s:f, s:f,"
		" s:[s, s], s:o, s:o, s:o, s:O, s:O, s:O, s:[], s:[]}",
		"id", m->framework_id, "name", STATE_JSON_FRAMEWORK_NAME, "hostname",
		m->cfg.hostname, "webui_url", webui, "user", framework_user(), "failover_timeout",
		STATE_JSON_FAILOVER_TIMEOUT, "checkpoint", 1, "role", "*", "active", 1,
		"connected", 1, "recovered", 0, "registered_time", reg, "reregistered_time", reg,
		"unregistered_time", 0.0, "capabilities", "TASK_KILLING_STATE", "PARTITION_AWARE",
		"used_resources", state_json_resources(&tl.used, NULL), "offered_resources",
		state_json_resources(&(struct resources)RESOURCES_INIT, NULL), "resources",
		state_json_resources(&tl.used, NULL), "tasks", tl.tasks, "unreachable_tasks",
		tl.unreachable, "completed_tasks", tl.completed, "offers", "executors");
	task_lists_release(&tl);
	return f;
}

static json_t *legacy_slave(const struct m_agent *a, const struct resources *used)
{
	char pid[400];
	uint16_t port = registry_agent_port(a);
	state_json_upid("slave(1)", a->ip ? a->ip : "127.0.0.1", port, pid, sizeof(pid));
	struct resources unreserved = RESOURCES_INIT;
	for (size_t i = 0; i < a->total.n; i++)
		if (!strcmp(a->total.v[i].role, "*")) {
			struct resources one = { &a->total.v[i], 1 };
			resources_add(&unreserved, &one);
		}
	bool active = a->state == AGENT_CONNECTED;
	json_t *s = json_pack(
		"{s:s, s:s, s:s, s:i, s:o, s:f, s:o, s:o, s:o, s:o, s:o, s:b, s:b, s:s, s:[]}", "id",
		a->id, "pid", pid, "hostname", a->hostname, "port", (int)port, "attributes",
		state_json_attributes(&a->attrs), "registered_time",
		(double)a->registered_usec / 1e6, "resources", state_json_resources(&a->total, NULL),
		"used_resources", state_json_resources(used, NULL), "offered_resources",
		state_json_resources(&(struct resources)RESOURCES_INIT, NULL), "reserved_resources",
		state_json_reserved(&a->total), "unreserved_resources",
		state_json_resources(&unreserved, NULL), "active", active, "deactivated", !active,
		"version", STATE_JSON_MESOS_VERSION, "capabilities");
	resources_release(&unreserved);
	return s;
}

json_t *state_json_master_state(struct master *m, struct evhttp_request *req)
{
	char ip[64], pid[400], id[64];
	uint16_t port;
	state_json_master_addr(m, req, ip, sizeof(ip), &port);
	state_json_upid("master", ip, port, pid, sizeof(pid));
	master_id(m, id, sizeof(id));
	json_t *slaves = json_array();
	int active = 0, inactive = 0, unreachable = 0;
	struct hmap used;
	used_by_agent_build(m, &used);
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->agents, &i, &k, &v);) {
		const struct m_agent *a = v;
		if (a->state == AGENT_UNREACHABLE) {
			unreachable++;
			continue;
		}
		if (a->state == AGENT_CONNECTED)
			active++;
		else
			inactive++;
		json_array_append_new(slaves, legacy_slave(a, agent_used(&used, a)));
	}
	used_by_agent_release(&used);
	char portstr[8];
	snprintf(portstr, sizeof(portstr), "%u", (unsigned)port);
	double start = (double)m->started_usec / 1e6;
	json_t *leader_info = json_pack(
		"{s:s, s:s, s:I, s:i, s:s, s:s, s:{s:s, s:s, s:i}}", "id", id, "pid", pid, "ip",
		ip_u32(ip), "port", (int)port, "hostname", m->cfg.hostname, "version",
		STATE_JSON_MESOS_VERSION, "address", "hostname", m->cfg.hostname, "ip", ip, "port",
		(int)port);
	json_t *st = json_pack(
		"{s:s, s:s, s:s, s:f, s:f, s:s, s:s, s:s, s:[], s:f, s:f, s:f, s:s, s:o,"
		" s:{s:s, s:s, s:s}, s:o, s:[], s:[o], s:[], s:[], s:[]}",
		"version", STATE_JSON_MESOS_VERSION, "berth_version", STATE_JSON_BERTH_VERSION,
		"build_user", "berth", "start_time", start, "elected_time", start, "id", id, "pid",
		pid, "hostname", m->cfg.hostname, "capabilities", "activated_slaves",
		(double)active, "deactivated_slaves", (double)inactive, "unreachable_slaves",
		(double)unreachable, "leader", pid, "leader_info", leader_info, "flags",
		"hostname", m->cfg.hostname, "ip", ip, "port", portstr, "slaves", slaves,
		"recovered_slaves", "frameworks", legacy_framework(m, req), "completed_frameworks",
		"orphan_tasks", "unregistered_frameworks");
	return st;
}

/* ---- v1 ---- */

/* Sets key to arr unless it is empty (stout leaves empty repeated fields out). */
static void set_repeated(json_t *o, const char *key, json_t *arr)
{
	if (json_array_size(arr))
		json_object_set_new(o, key, arr);
	else
		json_decref(arr);
}

static json_t *nanos(uint64_t usec)
{
	return json_pack("{s:I}", "nanoseconds", (json_int_t)(usec * 1000));
}

json_t *state_json_v1_tasks(struct master *m)
{
	struct task_lists tl;
	task_lists_build(m, true, &tl);
	json_t *o = json_object();
	set_repeated(o, "tasks", json_incref(tl.tasks));
	set_repeated(o, "unreachable_tasks", json_incref(tl.unreachable));
	set_repeated(o, "completed_tasks", json_incref(tl.completed));
	task_lists_release(&tl);
	return o;
}

json_t *state_json_v1_agents(struct master *m)
{
	json_t *agents = json_array();
	struct hmap used;
	used_by_agent_build(m, &used);
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->agents, &i, &k, &v);) {
		const struct m_agent *a = v;
		if (a->state == AGENT_UNREACHABLE)
			continue;
		char pid[400];
		uint16_t port = registry_agent_port(a);
		state_json_upid("slave(1)", a->ip ? a->ip : "127.0.0.1", port, pid, sizeof(pid));
		json_t *info = json_pack("{s:s, s:i, s:{s:s}}", "hostname", a->hostname, "port",
					 (int)port, "id", "value", a->id);
		set_repeated(info, "resources", state_json_resources_v1(&a->total, NULL));
		set_repeated(info, "attributes", state_json_attributes_v1(&a->attrs));
		bool active = a->state == AGENT_CONNECTED;
		json_t *o = json_pack("{s:o, s:b, s:b, s:s, s:s, s:o}", "agent_info", info, "active",
				      active, "deactivated", !active, "version",
				      STATE_JSON_MESOS_VERSION, "pid", pid, "registered_time",
				      nanos(a->registered_usec));
		set_repeated(o, "total_resources", state_json_resources_v1(&a->total, NULL));
		set_repeated(o, "allocated_resources",
			     state_json_resources_v1(agent_used(&used, a), "*"));
		json_array_append_new(agents, o);
	}
	used_by_agent_release(&used);
	json_t *o = json_object();
	set_repeated(o, "agents", agents);
	return o;
}

json_t *state_json_v1_frameworks(struct master *m)
{
	struct task_lists tl;
	task_lists_build(m, true, &tl);
	char webui[400];
	framework_webui(m, NULL, webui, sizeof(webui));
	json_t *info = json_pack(
		"{s:s, s:s, s:{s:s}, s:f, s:b, s:s, s:s, s:s, s:[{s:s}, {s:s}]}", "user",
		framework_user(), "name", STATE_JSON_FRAMEWORK_NAME, "id", "value", m->framework_id,
		"failover_timeout", STATE_JSON_FAILOVER_TIMEOUT, "checkpoint", 1, "role", "*",
		"hostname", m->cfg.hostname, "webui_url", webui, "capabilities", "type",
		"TASK_KILLING_STATE", "type", "PARTITION_AWARE");
	json_t *fw = json_pack("{s:o, s:b, s:b, s:b, s:o, s:o}", "framework_info", info, "active", 1,
			       "connected", 1, "recovered", 0, "registered_time",
			       nanos(m->started_usec), "reregistered_time", nanos(m->started_usec));
	set_repeated(fw, "allocated_resources", state_json_resources_v1(&tl.used, "*"));
	task_lists_release(&tl);
	return json_pack("{s:[o]}", "frameworks", fw);
}

json_t *state_json_v1_roles(struct master *m)
{
	/* Roles known: "*", every app's role, every reserved role of an agent. */
	json_t *names = json_object();
	json_object_set_new(names, "*", json_true());
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->apps, &i, &k, &v);) {
		const struct m_app *ma = v;
		if (ma->def->role)
			json_object_set_new(names, ma->def->role, json_true());
	}
	for (size_t i = 0; hmap_next(&m->agents, &i, &k, &v);) {
		const struct m_agent *a = v;
		for (size_t j = 0; j < a->total.n; j++)
			json_object_set_new(names, a->total.v[j].role, json_false());
	}
	struct task_lists tl;
	task_lists_build(m, true, &tl);
	json_t *roles = json_array();
	json_t *flag;
	json_object_foreach(names, k, flag) {
		/* The apps framework subscribes to "*" and to the roles its apps use. */
		json_t *r = json_pack("{s:s, s:f}", "name", k, "weight", 1.0);
		if (!strcmp(k, "*") || json_is_true(flag))
			json_object_set_new(r, "frameworks",
					    json_pack("[{s:s}]", "value", m->framework_id));
		if (!strcmp(k, "*")) {
			set_repeated(r, "resources", state_json_resources_v1(&tl.used, "*"));
			set_repeated(r, "allocated", state_json_resources_v1(&tl.used, "*"));
		}
		json_array_append_new(roles, r);
	}
	task_lists_release(&tl);
	json_decref(names);
	return json_pack("{s:o}", "roles", roles);
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

void state_json_handle(struct master *m, struct evhttp_request *req)
{
	enum evhttp_cmd_type meth = evhttp_request_get_command(req);
	if (meth != EVHTTP_REQ_GET && meth != EVHTTP_REQ_HEAD) {
		http_reply_message(req, 405, "Expecting a 'GET' request, received '%s'",
				   http_method_name(meth));
		return;
	}
	http_reply_json(req, 200, state_json_master_state(m, req));
}
