/* Pods: the pass (instances to scale, replace and place), launching an instance as one task
 * group on the default executor, kills, and the status updates of its tasks. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "model/constraints.h"
#include "model/pod.h"
#include "model/task.h"
#include "apps/pods-int.h"

/* ---- launching ---- */

static double res_num(const json_t *r, const char *k)
{
	return json_number_value(json_object_get(r, k));
}

/* Mesos Resource JSON of a container (or the executor) with its ports. */
static json_t *mesos_res(const json_t *r, const uint32_t *ports, size_t nports)
{
	json_t *a = json_array();
	static const char *const names[] = { "cpus", "mem", "disk" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (res_num(r, names[i]) > 0)
			json_array_append_new(a, json_pack("{s:s, s:s, s:{s:f}}", "name", names[i],
							   "type", "SCALAR", "scalar", "value",
							   res_num(r, names[i])));
	if (nports) {
		json_t *ranges = json_array();
		for (size_t i = 0; i < nports; i++)
			json_array_append_new(ranges, json_pack("{s:I, s:I}", "begin",
								(json_int_t)ports[i], "end",
								(json_int_t)ports[i]));
		json_array_append_new(a, json_pack("{s:s, s:s, s:{s:o}}", "name", "ports", "type",
						   "RANGES", "ranges", "range", ranges));
	}
	return a;
}

/* "http-api" -> "HTTP_API" into out (64 bytes). */
static void env_name(const char *s, char *out)
{
	size_t n = 0;
	for (; *s && n < 63; s++)
		out[n++] = *s == '-' ? '_' : (*s >= 'a' && *s <= 'z') ? (char)(*s - 32) : *s;
	out[n] = '\0';
}

static void env_add(json_t *vars, json_t *seen, const char *k, const char *v)
{
	if (json_object_get(seen, k)) {
		size_t i;
		json_t *x;
		json_array_foreach(vars, i, x)
			if (!strcmp(json_string_value(json_object_get(x, "name")), k))
				json_object_set_new(x, "value", json_string(v));
		return;
	}
	json_object_set_new(seen, k, json_true());
	json_array_append_new(vars, json_pack("{s:s, s:s, s:s}", "name", k, "type", "VALUE",
					      "value", v));
}

/* The container's environment as Marathon gives a pod's containers: the pod's, the
 * container's, then MARATHON_APP_ID/VERSION, MARATHON_CONTAINER_ID, the resources and the
 * endpoints (ENDPOINT_<NAME>, EP_HOST_<NAME>, EP_CONTAINER_<NAME>), HOST. */
static json_t *ctr_env(const struct pod_inst *pi, const json_t *c, const struct pod_ctr *pc,
		       const char *hostname)
{
	const json_t *def = pi->pod->def;
	json_t *vars = json_array(), *seen = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(def, "environment"), k, v)
		env_add(vars, seen, k, json_string_value(v));
	json_object_foreach(json_object_get(c, "environment"), k, v)
		env_add(vars, seen, k, json_string_value(v));
	env_add(vars, seen, "MARATHON_APP_ID", pi->pod->id);
	env_add(vars, seen, "MARATHON_APP_VERSION", pi->version);
	env_add(vars, seen, "MARATHON_CONTAINER_ID", pc->name);
	const json_t *r = json_object_get(c, "resources");
	static const char *const rn[] = { "cpus", "mem", "disk", "gpus" };
	for (size_t i = 0; i < ARRAY_SIZE(rn); i++) {
		char name[64], val[32];
		snprintf(name, sizeof(name), "MARATHON_CONTAINER_RESOURCE_%s",
			 !strcmp(rn[i], "cpus") ? "CPUS" : !strcmp(rn[i], "mem") ? "MEM"
							   : !strcmp(rn[i], "disk") ? "DISK" : "GPUS");
		if (!strcmp(rn[i], "gpus"))
			snprintf(val, sizeof(val), "%lld", (long long)res_num(r, rn[i]));
		else
			app_double_java(res_num(r, rn[i]), val);
		env_add(vars, seen, name, val);
	}
	size_t i;
	const json_t *ep;
	json_array_foreach(json_object_get(c, "endpoints"), i, ep) {
		char up[64], name[96], val[16];
		env_name(json_string_value(json_object_get(ep, "name")), up);
		if (i < pc->nports) {
			snprintf(val, sizeof(val), "%u", pc->ports[i]);
			snprintf(name, sizeof(name), "ENDPOINT_%s", up);
			env_add(vars, seen, name, val);
			snprintf(name, sizeof(name), "EP_HOST_%s", up);
			env_add(vars, seen, name, val);
		}
		const json_t *cp = json_object_get(ep, "containerPort");
		if (cp) {
			snprintf(val, sizeof(val), "%lld", (long long)json_integer_value(cp));
			snprintf(name, sizeof(name), "EP_CONTAINER_%s", up);
			env_add(vars, seen, name, val);
		}
	}
	env_add(vars, seen, "HOST", hostname);
	json_decref(seen);
	return vars;
}

/* Mesos's HealthCheck for container c's healthCheck (model/pod.c normalised it), run by the
 * default executor: an endpoint is its host port (the host's network). NULL when none. */
static json_t *health_check(const json_t *c, const struct pod_ctr *pc)
{
	const json_t *hc = json_object_get(c, "healthCheck");
	if (!hc)
		return NULL;
	json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I}", "delay_seconds",
			      json_integer_value(json_object_get(hc, "delaySeconds")),
			      "interval_seconds",
			      json_integer_value(json_object_get(hc, "intervalSeconds")),
			      "timeout_seconds",
			      json_integer_value(json_object_get(hc, "timeoutSeconds")),
			      "grace_period_seconds",
			      json_integer_value(json_object_get(hc, "gracePeriodSeconds")),
			      "consecutive_failures",
			      json_integer_value(json_object_get(hc, "maxConsecutiveFailures")));
	const json_t *http = json_object_get(hc, "http"), *tcp = json_object_get(hc, "tcp");
	const json_t *ep = http ? http : tcp;
	if (ep) {
		const char *name = json_string_value(json_object_get(ep, "endpoint"));
		uint32_t port = 0;
		size_t i;
		const json_t *e;
		json_array_foreach(json_object_get(c, "endpoints"), i, e)
			if (name && i < pc->nports &&
			    !strcmp(name, json_string_value(json_object_get(e, "name"))))
				port = pc->ports[i];
		if (http)
			json_object_set_new(o, "http", json_pack("{s:I, s:O}", "port",
								 (json_int_t)port, "path",
								 json_object_get(http, "path")));
		else
			json_object_set_new(o, "tcp", json_pack("{s:I}", "port", (json_int_t)port));
		json_object_set_new(o, "type", json_string(http ? "HTTP" : "TCP"));
		return o;
	}
	const json_t *cmd = json_object_get(json_object_get(hc, "exec"), "command");
	const json_t *sh = json_object_get(cmd, "shell");
	json_t *value;
	if (sh) {
		value = json_incref((json_t *)sh);
	} else { /* argv: quoted for the shell */
		size_t n = 0, i;
		const json_t *a;
		char *line = NULL;
		json_array_foreach(json_object_get(cmd, "argv"), i, a) {
			const char *w = json_string_value(a);
			char *q = xcalloc(strlen(w) * 4 + 3, 1), *d = q;
			*d++ = '\'';
			for (; *w; w++) {
				if (*w == '\'') {
					memcpy(d, "'\\''", 4);
					d += 4;
				} else {
					*d++ = *w;
				}
			}
			*d++ = '\'';
			char *nl = xasprintf("%s%s%s", line ? line : "", n++ ? " " : "", q);
			free(line);
			free(q);
			line = nl;
		}
		value = json_string(line ? line : "true");
		free(line);
	}
	json_object_set_new(o, "type", json_string("COMMAND"));
	json_object_set_new(o, "command", json_pack("{s:b, s:o}", "shell", 1, "value", value));
	return o;
}

/* The TaskInfo the default executor gets for container c. */
static json_t *task_info(struct apps *m, const struct pod_inst *pi, const json_t *c,
			 const struct pod_ctr *pc, const struct m_agent *a)
{
	const json_t *cmd = json_object_get(json_object_get(c, "exec"), "command");
	const json_t *sh = json_object_get(cmd, "shell");
	json_t *command;
	if (sh) {
		command = json_pack("{s:b, s:O}", "shell", 1, "value", sh);
	} else {
		const json_t *argv = json_object_get(cmd, "argv");
		command = json_pack("{s:b, s:O, s:O}", "shell", 0, "value", json_array_get(argv, 0),
				    "arguments", argv);
	}
	json_object_set_new(command, "environment",
			    json_pack("{s:o}", "variables", ctr_env(pi, c, pc, a->hostname)));
	json_t *ti = json_pack("{s:s, s:{s:s}, s:{s:s}, s:o, s:o}", "name", pc->name, "task_id",
			       "value", pc->task_id, "agent_id", "value", a->id, "resources",
			       mesos_res(json_object_get(c, "resources"), pc->ports, pc->nports),
			       "command", command);
	/* The pod's volumes: <executor sandbox>/volumes/<name>, shared by the containers. */
	json_t *vols = json_array();
	size_t i;
	const json_t *vm;
	json_array_foreach(json_object_get(c, "volumeMounts"), i, vm)
		json_array_append_new(
			vols, json_pack("{s:O, s:s, s:{s:s, s:{s:s, s:s+}}}", "container_path",
					json_object_get(vm, "mountPath"), "mode",
					json_is_true(json_object_get(vm, "readOnly")) ? "RO" : "RW",
					"source", "type", "SANDBOX_PATH", "sandbox_path", "type",
					"PARENT", "path", "volumes/",
					json_string_value(json_object_get(vm, "name"))));
	if (json_array_size(vols))
		json_object_set_new(ti, "container", json_pack("{s:s, s:o}", "type", "MESOS",
							       "volumes", vols));
	else
		json_decref(vols);
	double grace = 3.0;
	const json_t *g = json_object_get(json_object_get(c, "lifecycle"),
					  "killGracePeriodSeconds");
	if (json_is_number(g))
		grace = json_number_value(g);
	json_object_set_new(ti, "kill_policy",
			    json_pack("{s:{s:I}}", "grace_period", "nanoseconds",
				      (json_int_t)(grace * 1e9)));
	json_t *hc = health_check(c, pc);
	if (hc)
		json_object_set_new(ti, "health_check", hc);
	(void)m;
	return ti;
}

/* The resources pi needs on a (its containers' and its executor's), with host ports picked
 * for its endpoints from what is free there. 0, or -ENOSPC. */
static int inst_fit(struct pod_inst *pi, const struct m_agent *a, struct resources *need)
{
	const json_t *def = json_object_get(pi->pod->versions, pi->version);
	if (!def)
		def = pi->pod->def;
	const json_t *cs = json_object_get(def, "containers");
	const json_t *er = json_object_get(def, "executorResources");
	double cpus = res_num(er, "cpus"), mem = res_num(er, "mem"), disk = res_num(er, "disk"),
	       gpus = 0;
	uint32_t want[POD_MAX_ENDPOINTS], got[POD_MAX_ENDPOINTS];
	size_t nw = 0;
	for (size_t i = 0; i < pi->nctr; i++) {
		const json_t *c = json_array_get(cs, i);
		const json_t *r = json_object_get(c, "resources");
		cpus += res_num(r, "cpus");
		mem += res_num(r, "mem");
		disk += res_num(r, "disk");
		gpus += res_num(r, "gpus");
		size_t k;
		const json_t *ep;
		json_array_foreach(json_object_get(c, "endpoints"), k, ep)
			if (nw < POD_MAX_ENDPOINTS)
				want[nw++] = (uint32_t)json_integer_value(
					json_object_get(ep, "hostPort"));
	}
	if (nw && resources_pick_ports(rm_agent_free(a), "*", want, nw, got) < 0)
		return -ENOSPC;
	resources_add_scalar(need, "cpus", "*", cpus);
	resources_add_scalar(need, "mem", "*", mem);
	if (disk > 0)
		resources_add_scalar(need, "disk", "*", disk);
	if (gpus > 0)
		resources_add_scalar(need, "gpus", "*", gpus);
	for (size_t i = 0; i < nw; i++)
		resources_add_range(need, "ports", "*", got[i], got[i]);
	if (!resources_contains(rm_agent_free(a), need))
		return -ENOSPC;
	/* the ports, container by container */
	size_t w = 0;
	for (size_t i = 0; i < pi->nctr; i++) {
		size_t n = json_array_size(json_object_get(json_array_get(cs, i), "endpoints"));
		free(pi->ctr[i].ports);
		pi->ctr[i].ports = xcalloc(n + 1, sizeof(uint32_t));
		pi->ctr[i].nports = n;
		for (size_t k = 0; k < n && w < nw; k++)
			pi->ctr[i].ports[k] = got[w++];
	}
	return 0;
}

/* Launches pi on a: takes its resources, stores it, sends one LAUNCH per container, all
 * naming one DEFAULT executor and the group. 0 or -errno (nothing held then). */
static int inst_launch(struct apps *m, struct pod_inst *pi, struct m_agent *a)
{
	struct resources need = RESOURCES_INIT;
	if (inst_fit(pi, a, &need) < 0 || rm_take(m->rm, a, "*", m->client, &need) < 0) {
		resources_release(&need);
		return -ENOSPC;
	}
	resources_release(&pi->res);
	pi->res = need;
	pi->held = true;
	pi->phase = POD_LIVE;
	pi->agent_id = xstrdup(a->id);
	pi->changed_usec = time_real_usec();
	const json_t *def = json_object_get(pi->pod->versions, pi->version);
	if (!def)
		def = pi->pod->def;
	int r = pods_store_instance(m, pi);
	if (r < 0)
		log_warn("master", "pod instance '%s': cannot store it: %s", pi->id, strerror(-r));
	char eid[POD_INST_ID_MAX + 16];
	snprintf(eid, sizeof(eid), "instance-%s", pi->id);
	json_t *ex = json_pack("{s:s, s:{s:s}, s:{s:s}, s:o}", "type", "DEFAULT", "executor_id",
			       "value", eid, "framework_id", "value", m->framework_id, "resources",
			       mesos_res(json_object_get(def, "executorResources"), NULL, 0));
	const json_t *cs = json_object_get(def, "containers");
	for (size_t i = 0; i < pi->nctr; i++) {
		struct pod_ctr *pc = &pi->ctr[i];
		const json_t *c = json_array_get(cs, i);
		const json_t *cr = json_object_get(c, "resources");
		json_t *ports = json_array();
		for (size_t k = 0; k < pc->nports; k++)
			json_array_append_new(ports, json_integer(pc->ports[k]));
		json_t *ti = task_info(m, pi, c, pc, a);
		double grace = (double)json_integer_value(json_object_get(
				       json_object_get(json_object_get(ti, "kill_policy"),
						       "grace_period"),
				       "nanoseconds")) /
			       1e9;
		json_t *spec = json_pack(
			"{s:s, s:s, s:s, s:s, s:b, s:{}, s:{s:f, s:f, s:f, s:f, s:o}, s:f, s:O, s:o,"
			" s:b, s:s, s:I}",
			"task_id", pc->task_id, "framework_id", m->framework_id, "name", pc->name,
			"app_id", pi->pod->id, "shell", 1, "env", "resources", "cpus",
			res_num(cr, "cpus"), "mem", res_num(cr, "mem"), "disk", res_num(cr, "disk"),
			"gpus", res_num(cr, "gpus"), "ports", ports, "kill_grace_period_seconds",
			grace, "executor", ex, "task_info", ti, "checkpoint", 1, "group", pi->id,
			"group_size", (json_int_t)pi->nctr);
		pc->state = "TASK_STAGING";
		pc->since_usec = pi->changed_usec;
		hmap_put(&m->pods->tasks, pc->task_id, pi);
		rm_task_placed(m->rm, a, m->client);
		rm_count_launch(m->rm);
		if (rm_send(a, json_pack("{s:s, s:o}", "type", "LAUNCH", "task", spec)) < 0)
			log_warn("master", "pod task '%s': its agent is not connected", pc->task_id);
	}
	json_decref(ex);
	log_info("master", "pod '%s': instance '%s' launched on agent '%s'", pi->pod->id, pi->id,
		 a->id);
	return 0;
}

void pods_kill_instance(struct apps *m, struct pod_inst *pi)
{
	if (pi->phase != POD_LIVE || pi->kill_sent)
		return;
	pi->kill_sent = true;
	struct m_agent *a = rm_agent_get(m->rm, pi->agent_id);
	for (size_t i = 0; i < pi->nctr && a; i++) {
		const struct pod_ctr *pc = &pi->ctr[i];
		if (pc->state && task_state_terminal(pc->state))
			continue;
		const json_t *c = json_array_get(json_object_get(pi->pod->def, "containers"), i);
		const json_t *g = json_object_get(json_object_get(c, "lifecycle"),
						  "killGracePeriodSeconds");
		rm_count_kill(m->rm);
		rm_send(a, json_pack("{s:s, s:s, s:f}", "type", "KILL", "task_id", pc->task_id,
				     "grace_period_seconds", json_is_number(g) ? json_number_value(g)
									       : 3.0));
	}
}

/* ---- status updates ---- */

static bool all_terminal(const struct pod_inst *pi)
{
	for (size_t i = 0; i < pi->nctr; i++)
		if (!pi->ctr[i].state || !task_state_terminal(pi->ctr[i].state))
			return false;
	return true;
}

/* A task of pi reached state (terminal or not). */
static void ctr_state(struct apps *m, struct pod_inst *pi, struct pod_ctr *pc, const char *state,
		      const char *message, int exit_code)
{
	if (pc->state && task_state_terminal(pc->state))
		return;
	pc->state = state;
	pc->since_usec = pi->changed_usec = time_real_usec();
	free(pc->message);
	pc->message = message && *message ? xstrdup(message) : NULL;
	if (exit_code >= 0)
		pc->exit_code = exit_code;
	if (!task_state_terminal(state))
		return;
	if (strcmp(state, "TASK_FINISHED") && strcmp(state, "TASK_KILLED") && !pi->kill_sent)
		pi->failed = true;
	if (!all_terminal(pi))
		return;
	struct m_pod *mp = pi->pod;
	if (pi->failed && !pi->stop) {
		/* Marathon's backoff: backoff * factor^(failures-1), capped */
		const json_t *b = json_object_get(json_object_get(mp->def, "scheduling"), "backoff");
		double d = res_num(b, "backoff") * pow(res_num(b, "backoffFactor"), mp->failures);
		if (d > res_num(b, "maxLaunchDelay"))
			d = res_num(b, "maxLaunchDelay");
		mp->failures++;
		mp->delay_until_usec = time_mono_usec() + (uint64_t)(d * 1e6);
	} else if (!pi->failed) {
		mp->failures = 0;
	}
	pods_end_instance(m, pi);
	apps_schedule_pass(m);
}

bool pods_status_update(struct apps *m, struct m_agent *a, const json_t *u)
{
	const char *task_id = json_string_value(json_object_get(u, "task_id"));
	struct pod_inst *pi = task_id ? hmap_get(&m->pods->tasks, task_id) : NULL;
	if (!pi || !pi->agent_id || strcmp(pi->agent_id, a->id))
		return false;
	const char *state = apps_state_intern(json_string_value(json_object_get(u, "state")));
	if (!state)
		return true;
	rm_count_status(m->rm, state);
	pi->pod->settled = false;
	const json_t *ec = json_object_get(u, "exit_code");
	const json_t *healthy = json_object_get(u, "healthy");
	for (size_t i = 0; i < pi->nctr; i++)
		if (!strcmp(pi->ctr[i].task_id, task_id)) {
			struct pod_ctr *pc = &pi->ctr[i];
			if (json_is_boolean(healthy) && pc->healthy != json_is_true(healthy)) {
				pc->healthy = json_is_true(healthy);
				pc->health_usec = time_real_usec();
				apps_schedule_pass(m); /* a deployment may wait for it */
			}
			ctr_state(m, pi, &pi->ctr[i], state,
				  json_string_value(json_object_get(u, "message")),
				  json_is_integer(ec) ? (int)json_integer_value(ec) : -1);
			break;
		}
	return true;
}

const char *pods_task_agent(struct apps *m, const char *task_id)
{
	const struct pod_inst *pi = task_id ? hmap_get(&m->pods->tasks, task_id) : NULL;
	return pi ? (pi->agent_id ? pi->agent_id : "") : NULL;
}

/* The LIVE instances on agent a (caller frees). */
static struct pod_inst **live_on(struct apps *m, const char *agent_id, size_t *n)
{
	struct pod_inst **out = NULL;
	size_t cap = 0;
	*n = 0;
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->pods->pods, &i, &k, &v);) {
		struct m_pod *mp = v;
		for (size_t j = 0; j < mp->ninst; j++) {
			struct pod_inst *pi = mp->inst[j];
			if (pi->phase != POD_LIVE || strcmp(pi->agent_id, agent_id))
				continue;
			if (*n == cap) {
				cap = cap ? cap * 2 : 8;
				out = xrealloc(out, cap * sizeof(*out));
			}
			out[(*n)++] = pi;
		}
	}
	return out;
}

/* The tasks of pi not terminal yet are gone with their agent (state, message): the
 * instance ends when none is left (it is replaced, without backoff), else the rest of the
 * group is killed (the default executor kills a group together). */
static void inst_lost(struct apps *m, struct pod_inst *pi, const struct hmap *reported,
		      const char *state, const char *message)
{
	uint64_t now = time_real_usec();
	pi->pod->settled = false;
	for (size_t i = 0; i < pi->nctr; i++) {
		struct pod_ctr *pc = &pi->ctr[i];
		if ((pc->state && task_state_terminal(pc->state)) ||
		    (reported && hmap_get(reported, pc->task_id)))
			continue;
		pc->state = state;
		pc->since_usec = pi->changed_usec = now;
		free(pc->message);
		pc->message = xstrdup(message);
	}
	if (all_terminal(pi)) {
		pods_end_instance(m, pi);
		apps_schedule_pass(m);
	} else {
		pods_kill_instance(m, pi);
	}
}

void pods_agent_registered(struct apps *m, struct m_agent *a, const struct hmap *reported)
{
	size_t n;
	struct pod_inst **live = live_on(m, a->id, &n);
	for (size_t j = 0; j < n; j++) {
		struct pod_inst *pi = live[j];
		bool any = false, missing = false;
		for (size_t i = 0; i < pi->nctr; i++) {
			json_t *rep = hmap_get(reported, pi->ctr[i].task_id);
			const char *st = json_string_value(json_object_get(rep, "state"));
			any = any || rep;
			missing = missing || (!rep && !(pi->ctr[i].state &&
							task_state_terminal(pi->ctr[i].state)));
			if (st && !task_state_terminal(st) && apps_state_intern(st))
				pi->ctr[i].state = apps_state_intern(st);
		}
		if (any && !pi->held) {
			if (rm_take(m->rm, a, "*", m->client, &pi->res) == 0)
				pi->held = true;
			else
				log_warn("master", "agent '%s' holds more than it offers (pod instance "
						   "'%s')", a->id, pi->id);
		}
		/* a kill sent before goes again on this connection (it may have been lost) */
		bool killing = pi->kill_sent;
		pi->kill_sent = false;
		pi->pod->settled = false;
		if (missing)
			inst_lost(m, pi, reported, "TASK_LOST",
				  "Task unknown to the agent after it re-registered");
		else if (pi->stop || killing)
			pods_kill_instance(m, pi);
	}
	free(live);
	apps_schedule_pass(m);
}

void pods_agent_lost(struct apps *m, struct m_agent *a)
{
	size_t n;
	struct pod_inst **live = live_on(m, a->id, &n);
	for (size_t j = 0; j < n; j++)
		inst_lost(m, live[j], NULL, a->gone ? "TASK_GONE_BY_OPERATOR" : "TASK_LOST",
			  a->gone ? "Agent has been marked gone" : "Agent is unreachable");
	free(live);
	apps_schedule_pass(m);
}

void pods_each_task(struct apps *m, bool detail, rm_task_fn fn, void *fnctx)
{
	(void)detail;
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->pods->tasks, &i, &k, &v);) {
		const struct pod_inst *pi = v;
		for (size_t j = 0; j < pi->nctr; j++) {
			const struct pod_ctr *pc = &pi->ctr[j];
			if (strcmp(pc->task_id, k) || !pc->state)
				continue;
			struct rm_task_view view = {
				.id = pc->task_id, .framework_id = m->framework_id, .name = pc->name,
				.agent_id = pi->agent_id ? pi->agent_id : "", .state = pc->state,
				.role = "*", .res = &pi->res, .staged_usec = pi->created_usec,
				.healthy = -1, .app_id = pi->pod->id,
			};
			fn(&view, fnctx);
		}
	}
}

/* ---- deployments ---- */

static void dep_key(const struct m_pod *mp, char *key, size_t n)
{
	snprintf(key, n, "pod-deployments/%s", mp->id);
}

struct pod_dep *pods_deployment_new(struct apps *m, struct m_pod *mp, const char *action)
{
	if (!mp->deploy)
		mp->deploy = xcalloc(1, sizeof(*mp->deploy));
	id_uuid4(mp->deploy->id);
	snprintf(mp->deploy->version, sizeof(mp->deploy->version), "%s", pods_version(mp));
	mp->deploy->action = action;
	mp->deploy->created_usec = time_real_usec();
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:I}", "pod", mp->id, "id", mp->deploy->id,
			      "version", mp->deploy->version, "action", action, "created",
			      (json_int_t)mp->deploy->created_usec);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	char key[STORE_MAX_KEY];
	dep_key(mp, key, sizeof(key));
	int r = store_put(m->store, key, s, strlen(s), STORE_ANY_VERSION, NULL);
	if (r < 0)
		log_warn("master", "pod '%s': cannot store its deployment: %s", mp->id,
			 strerror(-r));
	free(s);
	return mp->deploy;
}

static void deployment_done(struct apps *m, struct m_pod *mp)
{
	char key[STORE_MAX_KEY];
	dep_key(mp, key, sizeof(key));
	store_delete(m->store, key, STORE_ANY_VERSION);
	json_t *plan = pods_render_deployment(mp);
	json_object_del(plan, "currentActions");
	json_object_del(plan, "currentStep");
	json_object_del(plan, "totalSteps");
	json_object_del(plan, "affectedApps");
	json_object_del(plan, "affectedPods");
	events_publish(m, "deployment_success",
		       json_pack("{s:s, s:o}", "id", mp->deploy->id, "plan", plan));
	apps_count_deployment(m, "success");
	log_info("master", "pod '%s': deployment '%s' (%s) done", mp->id, mp->deploy->id,
		 mp->deploy->action);
	free(mp->deploy);
	mp->deploy = NULL;
}

/* ---- the pass ---- */

static bool inst_stable(const struct pod_inst *pi)
{
	if (pi->phase != POD_LIVE || pi->kill_sent)
		return false;
	for (size_t i = 0; i < pi->nctr; i++)
		if (!pods_ctr_ok(pi, i))
			return false;
	return true;
}

/* Whether the pod's acceptedResourceRoles admit unreserved ("*") resources, the only ones
 * a pod takes: absent or empty, or listing "*". */
static bool roles_ok(const json_t *def)
{
	const json_t *acc = json_object_get(
		json_object_get(json_object_get(def, "scheduling"), "placement"),
		"acceptedResourceRoles");
	if (!json_array_size(acc))
		return true;
	size_t i;
	const json_t *r;
	json_array_foreach(acc, i, r)
		if (!strcmp(json_string_value(r), "*"))
			return true;
	return false;
}

/* Places mp's PENDING instances that are wanted, on the connected agents in turn, where
 * the pod's placement admits them: its acceptedResourceRoles, and its constraints
 * (model/constraints.h, as apps') against the agents of its LIVE instances, those placed
 * in this call included. */
static void place(struct apps *m, struct m_pod *mp)
{
	if (time_mono_usec() < mp->delay_until_usec)
		return;
	bool pending = false;
	for (size_t j = 0; j < mp->ninst && !pending; j++)
		pending = mp->inst[j]->phase == POD_PENDING && !mp->inst[j]->stop;
	if (!pending)
		return;
	if (!roles_ok(mp->def)) {
		log_debug("master", "pod '%s': its acceptedResourceRoles admit no resources a pod "
				    "takes (\"*\")", mp->id);
		return;
	}
	const struct hmap *agents = rm_agents(m->rm);
	json_t *cj = pod_constraints_json(mp->def);
	struct constraint *cs = NULL;
	size_t ncs = 0;
	struct verr err = VERR_INIT;
	if (constraints_parse(cj, "/", &err, &cs, &ncs) < 0)
		ncs = 0; /* validated on the way in: cannot be */
	verr_release(&err);
	json_decref(cj);
	/* every known agent (GROUP_BY), and where the pod's instances are */
	size_t na = hmap_len(agents), nall = 0, nplaced = 0;
	struct placement_target *all = NULL, *placed = NULL;
	const struct placement_target **allp = NULL, **placedp = NULL;
	if (ncs) {
		all = xcalloc(na + 1, sizeof(*all));
		allp = xcalloc(na + 1, sizeof(*allp));
		const char *k;
		void *v;
		for (size_t i = 0; hmap_next(agents, &i, &k, &v);) {
			struct m_agent *a = v;
			if (a->state == AGENT_UNREACHABLE)
				continue;
			all[nall] = (struct placement_target){ a->hostname, &a->attrs };
			allp[nall] = &all[nall];
			nall++;
		}
		placed = xcalloc(mp->ninst + 1, sizeof(*placed));
		placedp = xcalloc(mp->ninst + 1, sizeof(*placedp));
		for (size_t j = 0; j < mp->ninst; j++) {
			const struct pod_inst *pi = mp->inst[j];
			struct m_agent *a = pi->phase == POD_LIVE ? rm_agent_get(m->rm, pi->agent_id)
								  : NULL;
			if (!a)
				continue;
			placed[nplaced] = (struct placement_target){ a->hostname, &a->attrs };
			placedp[nplaced] = &placed[nplaced];
			nplaced++;
		}
	}
	for (size_t j = 0; j < mp->ninst; j++) {
		struct pod_inst *pi = mp->inst[j];
		if (pi->phase != POD_PENDING || pi->stop)
			continue;
		const char *k;
		void *v;
		for (size_t i = 0; hmap_next(agents, &i, &k, &v);) {
			struct m_agent *a = v;
			if (a->state != AGENT_CONNECTED || a->deactivated || a->drain ||
			    a->maint_draining || a->sim)
				continue;
			struct placement_target cand = { a->hostname, &a->attrs };
			if (ncs && !constraints_allow(cs, ncs, &cand, placedp, nplaced, allp, nall))
				continue;
			if (inst_launch(m, pi, a) == 0) {
				if (ncs) {
					placed[nplaced] = cand;
					placedp[nplaced] = &placed[nplaced];
					nplaced++;
				}
				break;
			}
		}
	}
	constraints_free(cs, ncs);
	free(all);
	free(allp);
	free(placed);
	free(placedp);
}

static void pod_pass(struct apps *m, struct m_pod *mp)
{
	const char *cur = mp->config_version;
	size_t want = mp->deleting ? 0 : (size_t)pod_instances(mp->def);
	size_t ncur = 0, nup = 0, nold = 0, nstopping = 0;
	for (size_t j = 0; j < mp->ninst; j++) {
		const struct pod_inst *pi = mp->inst[j];
		if (pi->stop) {
			nstopping++;
			continue;
		}
		if (strcmp(pi->version, cur)) {
			nold++;
			continue;
		}
		ncur++;
		nup += inst_stable(pi);
	}
	/* An update: the old version goes once the new one is up (upgrade 1/1). */
	if (nold && (nup >= want || mp->deleting))
		for (size_t j = 0; j < mp->ninst; j++)
			if (strcmp(mp->inst[j]->version, cur))
				mp->inst[j]->stop = true;
	/* Too many: the youngest go first (killSelection YOUNGEST_FIRST; OLDEST_FIRST). */
	const char *ks = json_string_value(
		json_object_get(json_object_get(mp->def, "scheduling"), "killSelection"));
	bool oldest = ks && !strcmp(ks, "OLDEST_FIRST");
	while (ncur > want) {
		struct pod_inst *pick = NULL;
		for (size_t j = 0; j < mp->ninst; j++) {
			struct pod_inst *pi = mp->inst[j];
			if (pi->stop || strcmp(pi->version, cur))
				continue;
			if (!pick || (pi->phase == POD_PENDING && pick->phase != POD_PENDING) ||
			    (pi->phase == pick->phase &&
			     (oldest ? pi->created_usec < pick->created_usec
				     : pi->created_usec > pick->created_usec)))
				pick = pi;
		}
		if (!pick)
			break;
		pick->stop = true;
		ncur--;
	}
	while (ncur < want) {
		pods_add_instance(m, mp);
		ncur++;
	}
	/* The stopped: pending ones go now, live ones are killed. */
	for (size_t j = 0; j < mp->ninst;) {
		struct pod_inst *pi = mp->inst[j];
		if (pi->stop && pi->phase == POD_PENDING) {
			pods_end_instance(m, pi);
			continue; /* the last one moved into j */
		}
		if (pi->stop)
			pods_kill_instance(m, pi);
		j++;
	}
	place(m, mp);
	bool converged = true;
	for (size_t j = 0; j < mp->ninst; j++) {
		const struct pod_inst *pi = mp->inst[j];
		converged = converged && !pi->stop && !strcmp(pi->version, cur) && inst_stable(pi);
	}
	converged = converged && mp->ninst == want;
	if (mp->deploy && converged)
		deployment_done(m, mp);
	bool settled = !mp->deploy && !mp->deleting && mp->ninst == want;
	for (size_t j = 0; j < mp->ninst && settled; j++)
		settled = mp->inst[j]->phase == POD_LIVE && !mp->inst[j]->stop &&
			  !strcmp(mp->inst[j]->version, cur);
	mp->settled = settled;
}

void pods_pass(struct apps *m)
{
	if (!m->pods)
		return;
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->pods->pods, &i, &k, &v);) {
		struct m_pod *mp = v;
		if (mp->settled)
			continue;
		pod_pass(m, mp);
		if (mp->deleting && !mp->ninst) {
			char key[STORE_MAX_KEY];
			snprintf(key, sizeof(key), "pods/%s", mp->id);
			store_delete(m->store, key, STORE_ANY_VERSION);
			hmap_del(&m->pods->pods, mp->id);
			log_info("master", "pod '%s' deleted", mp->id);
			pods_free_pod(m, mp);
			i = 0; /* the map changed: walk again (bounded by the pods) */
		}
	}
}
