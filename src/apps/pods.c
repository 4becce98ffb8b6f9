/* Pods: their state and its store records (pods-int.h states the invariants). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "model/pod.h"
#include "apps/pods-int.h"

struct pods *pods_new(void)
{
	struct pods *p = xcalloc(1, sizeof(*p));
	hmap_init(&p->pods);
	hmap_init(&p->tasks);
	return p;
}

struct m_pod *pods_get(struct apps *m, const char *id)
{
	return id && m->pods ? hmap_get(&m->pods->pods, id) : NULL;
}

const char *pods_version(const struct m_pod *mp)
{
	const char *v = json_string_value(json_object_get(mp->def, "version"));
	return v ? v : "";
}

static void ctr_release(struct pod_ctr *c)
{
	free(c->name);
	free(c->task_id);
	free(c->message);
	free(c->ports);
}

static void inst_free(struct pod_inst *pi)
{
	for (size_t i = 0; i < pi->nctr; i++)
		ctr_release(&pi->ctr[i]);
	free(pi->ctr);
	free(pi->agent_id);
	resources_release(&pi->res);
	free(pi);
}

/* The instance's containers from the pod's definition (names and task ids). */
static void inst_containers(struct pod_inst *pi, const json_t *def)
{
	const json_t *cs = json_object_get(def, "containers");
	pi->nctr = json_array_size(cs);
	pi->ctr = xcalloc(pi->nctr ? pi->nctr : 1, sizeof(*pi->ctr));
	for (size_t i = 0; i < pi->nctr; i++) {
		const char *name = json_string_value(json_object_get(json_array_get(cs, i), "name"));
		pi->ctr[i].name = xstrdup(name ? name : "");
		pi->ctr[i].task_id = xasprintf("%s.%s", pi->id, pi->ctr[i].name);
		pi->ctr[i].exit_code = -1;
		pi->ctr[i].healthy = -1;
	}
}

static void inst_attach(struct m_pod *mp, struct pod_inst *pi)
{
	if (mp->ninst == mp->cap) {
		mp->cap = mp->cap ? mp->cap * 2 : 8;
		mp->inst = xrealloc(mp->inst, mp->cap * sizeof(*mp->inst));
	}
	mp->inst[mp->ninst++] = pi;
}

struct pod_inst *pods_add_instance(struct apps *m, struct m_pod *mp)
{
	(void)m;
	struct pod_inst *pi = xcalloc(1, sizeof(*pi));
	pi->pod = mp;
	mp->settled = false;
	char safe[APP_MAX_ID_LEN + 1], uuid[37];
	pod_safe_id(mp->id, safe);
	id_uuid4(uuid);
	snprintf(pi->id, sizeof(pi->id), "%s.instance-%s", safe, uuid);
	snprintf(pi->version, sizeof(pi->version), "%s", mp->config_version);
	pi->created_usec = pi->changed_usec = time_real_usec();
	pi->res = (struct resources)RESOURCES_INIT;
	inst_containers(pi, mp->def);
	inst_attach(mp, pi);
	return pi;
}

static void history_add(struct m_pod *mp, const struct pod_inst *pi)
{
	char a[32], b[32];
	const char *msg = NULL;
	for (size_t i = 0; i < pi->nctr && !msg; i++)
		if (pi->ctr[i].message && *pi->ctr[i].message && pi->ctr[i].state &&
		    strcmp(pi->ctr[i].state, "TASK_KILLED"))
			msg = pi->ctr[i].message;
	json_t *h = json_pack("{s:s, s:s, s:s}", "instanceID", pi->id, "startedAt",
			      time_iso8601(pi->created_usec, a), "terminatedAt",
			      time_iso8601(time_real_usec(), b));
	if (msg)
		json_object_set_new(h, "message", json_string(msg));
	json_array_insert_new(mp->history, 0, h);
	while (json_array_size(mp->history) > POD_MAX_HISTORY)
		json_array_remove(mp->history, json_array_size(mp->history) - 1);
}

void pods_end_instance(struct apps *m, struct pod_inst *pi)
{
	struct m_pod *mp = pi->pod;
	mp->settled = false;
	if (pi->phase == POD_LIVE) {
		struct m_agent *a = pi->agent_id ? rm_agent_get(m->rm, pi->agent_id) : NULL;
		if (pi->held && a)
			rm_give(m->rm, a, "*", m->client, &pi->res);
		pi->held = false;
		for (size_t i = 0; i < pi->nctr; i++) {
			if (hmap_get(&m->pods->tasks, pi->ctr[i].task_id) == pi) {
				hmap_del(&m->pods->tasks, pi->ctr[i].task_id);
				rm_task_gone(m->rm, a, m->client);
			}
		}
		char key[STORE_MAX_KEY];
		snprintf(key, sizeof(key), "pod-instances/%s", pi->id);
		int r = store_delete(m->store, key, STORE_ANY_VERSION);
		if (r < 0 && r != -ENOENT)
			log_warn("master", "pod instance '%s': cannot delete its record: %s", pi->id,
				 strerror(-r));
		history_add(mp, pi);
		log_info("master", "pod '%s': instance '%s' ended", mp->id, pi->id);
	}
	for (size_t i = 0; i < mp->ninst; i++) {
		if (mp->inst[i] == pi) {
			mp->inst[i] = mp->inst[--mp->ninst];
			break;
		}
	}
	inst_free(pi);
}

int pods_store_pod(struct apps *m, const struct m_pod *mp)
{
	json_t *j = json_pack("{s:O, s:O, s:s}", "pod", mp->def, "versions", mp->versions,
			      "configVersion", mp->config_version);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!s)
		return -ENOMEM;
	char key[STORE_MAX_KEY];
	snprintf(key, sizeof(key), "pods/%s", mp->id);
	int r = strlen(s) > STORE_MAX_VALUE ? -E2BIG
					     : store_put(m->store, key, s, strlen(s), STORE_ANY_VERSION,
							 NULL);
	free(s);
	return r;
}

int pods_store_instance(struct apps *m, const struct pod_inst *pi)
{
	json_t *tasks = json_array();
	for (size_t i = 0; i < pi->nctr; i++) {
		json_t *ports = json_array();
		for (size_t k = 0; k < pi->ctr[i].nports; k++)
			json_array_append_new(ports, json_integer(pi->ctr[i].ports[k]));
		json_array_append_new(tasks, json_pack("{s:s, s:o}", "name", pi->ctr[i].name,
						       "ports", ports));
	}
	json_t *res = json_object();
	for (size_t i = 0; i < pi->res.n; i++)
		if (pi->res.v[i].type == RES_SCALAR)
			json_object_set_new(res, pi->res.v[i].name, json_real(pi->res.v[i].scalar));
	json_t *j = json_pack("{s:s, s:s, s:s, s:o, s:I, s:o}", "pod", pi->pod->id, "version",
			      pi->version, "agent", pi->agent_id ? pi->agent_id : "", "tasks", tasks,
			      "created", (json_int_t)pi->created_usec, "resources", res);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	char key[STORE_MAX_KEY];
	snprintf(key, sizeof(key), "pod-instances/%s", pi->id);
	int r = store_put(m->store, key, s, strlen(s), STORE_ANY_VERSION, NULL);
	free(s);
	return r;
}

void pods_free_pod(struct apps *m, struct m_pod *mp)
{
	(void)m;
	for (size_t i = 0; i < mp->ninst; i++)
		inst_free(mp->inst[i]);
	free(mp->inst);
	free(mp->deploy);
	json_decref(mp->def);
	json_decref(mp->versions);
	json_decref(mp->history);
	free(mp->id);
	free(mp);
}

void pods_free(struct apps *m)
{
	if (!m->pods)
		return;
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->pods->pods, &i, &k, &v);) {
		struct m_pod *mp = v;
		/* what its live instances hold goes back with the master */
		for (size_t j = 0; j < mp->ninst; j++) {
			struct pod_inst *pi = mp->inst[j];
			struct m_agent *a = pi->agent_id ? rm_agent_get(m->rm, pi->agent_id) : NULL;
			if (pi->held && a)
				rm_give(m->rm, a, "*", m->client, &pi->res);
		}
		pods_free_pod(m, mp);
	}
	hmap_release(&m->pods->pods);
	hmap_release(&m->pods->tasks);
	free(m->pods);
	m->pods = NULL;
}

/* ---- loading ---- */

static int load_pod(const char *key, const char *val, size_t len, uint64_t version, void *ctx)
{
	(void)version;
	struct apps *m = ctx;
	json_t *j = json_loadb(val, len, 0, NULL);
	const json_t *def = json_object_get(j, "pod");
	const char *id = json_string_value(json_object_get(def, "id"));
	if (!id || hmap_get(&m->pods->pods, id)) {
		log_warn("master", "ignoring the bad pod record '%s'", key);
		json_decref(j);
		return 0;
	}
	struct m_pod *mp = xcalloc(1, sizeof(*mp));
	mp->id = xstrdup(id);
	mp->def = json_incref((json_t *)def);
	mp->versions = json_is_object(json_object_get(j, "versions"))
			       ? json_incref(json_object_get(j, "versions"))
			       : json_object();
	mp->history = json_array();
	snprintf(mp->config_version, sizeof(mp->config_version), "%s",
		 json_string_value(json_object_get(j, "configVersion")) ?: pods_version(mp));
	hmap_put(&m->pods->pods, mp->id, mp);
	json_decref(j);
	return 0;
}

static int load_deployment(const char *key, const char *val, size_t len, uint64_t version,
			   void *ctx)
{
	(void)version;
	struct apps *m = ctx;
	json_t *j = json_loadb(val, len, 0, NULL);
	struct m_pod *mp = pods_get(m, json_string_value(json_object_get(j, "pod")));
	const char *id = json_string_value(json_object_get(j, "id"));
	const char *act = json_string_value(json_object_get(j, "action"));
	static const char *const actions[] = { "StartPod", "ScalePod", "RestartPod", "StopPod" };
	const char *action = NULL;
	for (size_t i = 0; act && i < ARRAY_SIZE(actions); i++)
		if (!strcmp(act, actions[i]))
			action = actions[i];
	if (mp && id && action && strlen(id) < 37) {
		mp->deploy = xcalloc(1, sizeof(*mp->deploy));
		snprintf(mp->deploy->id, sizeof(mp->deploy->id), "%s", id);
		snprintf(mp->deploy->version, sizeof(mp->deploy->version), "%s",
			 json_string_value(json_object_get(j, "version")) ?: "");
		mp->deploy->action = action;
		mp->deploy->created_usec = (uint64_t)json_integer_value(json_object_get(j, "created"));
		mp->deleting = !strcmp(action, "StopPod");
	} else {
		log_warn("master", "ignoring the bad pod deployment record '%s'", key);
	}
	json_decref(j);
	return 0;
}

static int load_instance(const char *key, const char *val, size_t len, uint64_t version,
			 void *ctx)
{
	(void)version;
	struct apps *m = ctx;
	json_t *j = json_loadb(val, len, 0, NULL);
	struct m_pod *mp = pods_get(m, json_string_value(json_object_get(j, "pod")));
	const char *id = key + strlen("pod-instances/");
	const char *ver = json_string_value(json_object_get(j, "version"));
	const char *agent = json_string_value(json_object_get(j, "agent"));
	const json_t *vdef = mp && ver ? json_object_get(mp->versions, ver) : NULL;
	if (!mp || !ver || !agent || !*agent || !vdef || strlen(id) >= POD_INST_ID_MAX ||
	    strlen(ver) >= 32) {
		log_warn("master", "ignoring the bad pod instance record '%s'", key);
		json_decref(j);
		return 0;
	}
	struct pod_inst *pi = xcalloc(1, sizeof(*pi));
	pi->pod = mp;
	snprintf(pi->id, sizeof(pi->id), "%s", id);
	snprintf(pi->version, sizeof(pi->version), "%s", ver);
	pi->phase = POD_LIVE;
	pi->agent_id = xstrdup(agent);
	pi->created_usec = (uint64_t)json_integer_value(json_object_get(j, "created"));
	pi->changed_usec = time_real_usec();
	pi->res = (struct resources)RESOURCES_INIT;
	const char *rk;
	json_t *rv;
	json_object_foreach(json_object_get(j, "resources"), rk, rv)
		resources_add_scalar(&pi->res, rk, "*", json_number_value(rv));
	inst_containers(pi, vdef);
	const json_t *tasks = json_object_get(j, "tasks");
	for (size_t i = 0; i < pi->nctr; i++) {
		const json_t *ports = json_object_get(json_array_get(tasks, i), "ports");
		pi->ctr[i].nports = json_array_size(ports);
		pi->ctr[i].ports = xcalloc(pi->ctr[i].nports + 1, sizeof(uint32_t));
		for (size_t k = 0; k < pi->ctr[i].nports; k++)
			pi->ctr[i].ports[k] = (uint32_t)json_integer_value(json_array_get(ports, k));
		if (pi->ctr[i].nports)
			resources_add_range(&pi->res, "ports", "*", pi->ctr[i].ports[0],
					    pi->ctr[i].ports[0]);
		for (size_t k = 1; k < pi->ctr[i].nports; k++)
			resources_add_range(&pi->res, "ports", "*", pi->ctr[i].ports[k],
					    pi->ctr[i].ports[k]);
		pi->ctr[i].state = "TASK_STAGING";
		pi->ctr[i].since_usec = pi->changed_usec;
		hmap_put(&m->pods->tasks, pi->ctr[i].task_id, pi);
		rm_task_placed(m->rm, rm_agent_get(m->rm, agent), m->client);
	}
	inst_attach(mp, pi);
	json_decref(j);
	return 0;
}

int pods_load(struct apps *m)
{
	int r = store_list(m->store, "pods/", load_pod, m);
	if (r >= 0)
		r = store_list(m->store, "pod-deployments/", load_deployment, m);
	if (r >= 0)
		r = store_list(m->store, "pod-instances/", load_instance, m);
	if (r >= 0 && hmap_len(&m->pods->pods))
		log_info("master", "%zu pods loaded", hmap_len(&m->pods->pods));
	return r;
}

bool pods_ctr_checked(const struct pod_inst *pi, size_t i)
{
	const json_t *def = json_object_get(pi->pod->versions, pi->version);
	if (!def)
		def = pi->pod->def;
	return json_object_get(json_array_get(json_object_get(def, "containers"), i),
			       "healthCheck") != NULL;
}

bool pods_ctr_ok(const struct pod_inst *pi, size_t i)
{
	const struct pod_ctr *pc = &pi->ctr[i];
	if (!pc->state || strcmp(pc->state, "TASK_RUNNING"))
		return false;
	return pc->healthy == 1 || !pods_ctr_checked(pi, i);
}
