/* Custom executors of v1 frameworks as the master knows them (issue 19,
 * docs/internals/executor-api.md): one record per (agent, framework, executor id), made by
 * the ACCEPT that launches the executor's first task there, with the executor's own
 * resources taken in the ledger, and dropped when the agent reports the executor's exit,
 * the agent is lost or the framework removed. They are listed by /master/state
 * (frameworks[].executors) and the operator API (GET_EXECUTORS, GET_STATE).
 *
 * Invariants:
 *  - fws->executors holds every executor record, key "<agent>\x1f<framework>\x1f<executor>";
 *    each record's res is taken on its agent in the ledger under alloc_role and added to its
 *    framework's used (when it has one) exactly while it is in the map; fw_executor_drop is
 *    the only way out and gives them back once.
 *  - fws->executor_ids lists, per "<agent>\x1f<framework>", exactly the executor ids of the
 *    records with that agent and framework (a JSON array of strings; no entry when empty),
 *    for the offers' executor_ids.
 *  - Records are not stored: after a master failover they are learnt again from the agents,
 *    which list their running executors when they (re-)register (fw_executors_reported),
 *    as Mesos's agents do in ReregisterSlaveMessage. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "master/fw-int.h"
#include "master/ledger.h"
#include "master/state-json.h"
#include "model/mesos-resources.h"

struct fw_executor {
	char *agent_id, *fw_id, *id;
	json_t *info;      /* ExecutorInfo as launched, framework_id filled in */
	struct resources res;
	char *alloc_role;
};

static void key_of(char *out, size_t len, const char *agent_id, const char *fw_id,
		   const char *eid)
{
	snprintf(out, len, "%s\x1f%s\x1f%s", agent_id, fw_id, eid);
}

static void ids_key(char *out, size_t len, const char *agent_id, const char *fw_id)
{
	snprintf(out, len, "%s\x1f%s", agent_id, fw_id);
}

const json_t *fw_executor_ids(struct frameworks *fws, const char *agent_id, const char *fw_id)
{
	if (!hmap_len(&fws->executor_ids))
		return NULL;
	char key[768];
	ids_key(key, sizeof(key), agent_id, fw_id);
	return hmap_get(&fws->executor_ids, key);
}

static struct fw_executor *find(struct frameworks *fws, const char *agent_id, const char *fw_id,
				const char *eid)
{
	char key[1024];
	key_of(key, sizeof(key), agent_id, fw_id, eid);
	return hmap_get(&fws->executors, key);
}

int fw_executor_check(struct fw_framework *fw, const struct m_agent *a, const json_t *ti,
		      struct resources *exres, char *err, size_t errlen)
{
	const json_t *ex = json_object_get(ti, "executor");
	const char *eid =
		json_string_value(json_object_get(json_object_get(ex, "executor_id"), "value"));
	if (!ex || !eid)
		return 0;
	struct fw_executor *e = find(fw->fws, a->id, fw->id, eid);
	if (e) {
		/* Mesos: a task names the running executor by the same ExecutorInfo. */
		json_t *cmp = json_deep_copy(ex);
		json_object_set_new(cmp, "framework_id", json_pack("{s:s}", "value", fw->id));
		bool same = json_equal(cmp, e->info);
		json_decref(cmp);
		if (!same) {
			snprintf(err, errlen, "ExecutorInfo is not compatible with ExecutorInfo of "
					      "existing executor '%.255s'", eid);
			return -EINVAL;
		}
		return 0;
	}
	if (hmap_len(&fw->fws->executors) >= FW_MAX_EXECUTORS) {
		snprintf(err, errlen, "Too many executors on this master");
		return -EINVAL;
	}
	const json_t *fid = json_object_get(json_object_get(ex, "framework_id"), "value");
	if (fid && (!json_is_string(fid) || strcmp(json_string_value(fid), fw->id))) {
		snprintf(err, errlen, "ExecutorInfo has an invalid FrameworkID (Actual: %.100s vs "
				      "Expected: %s)", json_is_string(fid) ? json_string_value(fid) : "?",
			 fw->id);
		return -EINVAL;
	}
	char rerr[256];
	if (mesos_resources_from_json(json_object_get(ex, "resources"), exres, rerr,
				      sizeof(rerr)) < 0) {
		snprintf(err, errlen, "Executor's resources are invalid: %s", rerr);
		return -EINVAL;
	}
	if (resources_range_count(exres, "ports", NULL) > FW_MAX_TASK_PORTS) {
		snprintf(err, errlen, "Executor asks for more than %d ports", FW_MAX_TASK_PORTS);
		return -EINVAL;
	}
	return 1;
}

/* The record of executor ex (its resources exres, taken under role) of fw on a. */
static int record_add(struct fw_framework *fw, struct m_agent *a, const json_t *ex,
		      const struct resources *exres, const char *role)
{
	struct frameworks *fws = fw->fws;
	const char *eid =
		json_string_value(json_object_get(json_object_get(ex, "executor_id"), "value"));
	if (ledger_take(fws->m, a, role, NULL, exres) < 0)
		return -ENOSPC;
	struct fw_executor *e = xcalloc(1, sizeof(*e));
	e->agent_id = xstrdup(a->id);
	e->fw_id = xstrdup(fw->id);
	e->id = xstrdup(eid);
	e->info = json_deep_copy(ex);
	json_object_set_new(e->info, "framework_id", json_pack("{s:s}", "value", fw->id));
	resources_add(&e->res, exres);
	e->alloc_role = xstrdup(role);
	resources_add(&fw->used, exres);
	char key[1024];
	key_of(key, sizeof(key), a->id, fw->id, eid);
	hmap_put(&fws->executors, key, e);
	ids_key(key, sizeof(key), a->id, fw->id);
	json_t *ids = hmap_get(&fws->executor_ids, key);
	if (!ids)
		hmap_put(&fws->executor_ids, key, ids = json_array());
	json_array_append_new(ids, json_pack("{s:s}", "value", eid));
	log_info("frameworks", "framework '%s': executor '%s' on agent '%s' added", fw->id, eid,
		 a->id);
	return 0;
}

int fw_executor_add(struct fw_framework *fw, struct m_agent *a, const json_t *ti,
		    const struct resources *exres, const char *role)
{
	return record_add(fw, a, json_object_get(ti, "executor"), exres, role);
}

/* The role an executor's resources were allocated to: their allocation_info (set by the
 * offer the framework launched it from), else the framework's first role. */
static const char *reported_role(const struct fw_framework *fw, const json_t *ex)
{
	size_t i;
	const json_t *r;
	json_array_foreach(json_object_get(ex, "resources"), i, r) {
		const char *role = json_string_value(
			json_object_get(json_object_get(r, "allocation_info"), "role"));
		if (role)
			return role;
	}
	const char *role = json_string_value(json_array_get(json_object_get(fw->info, "roles"), 0));
	if (!role)
		role = json_string_value(json_object_get(fw->info, "role"));
	return role ? role : "*";
}

void fw_executors_reported(struct master *m, struct m_agent *a, const json_t *reported)
{
	struct frameworks *fws = m->fw;
	size_t i;
	const json_t *x;
	json_array_foreach(reported, i, x) {
		if (!fws || i >= FW_MAX_EXECUTORS)
			break;
		const json_t *ex = json_object_get(x, "executor_info");
		const char *fid = json_string_value(
			json_object_get(json_object_get(ex, "framework_id"), "value"));
		const char *eid = json_string_value(
			json_object_get(json_object_get(ex, "executor_id"), "value"));
		struct fw_framework *fw = fid ? hmap_get(&fws->fws, fid) : NULL;
		if (!fw || !eid || find(fws, a->id, fid, eid) ||
		    hmap_len(&fws->executors) >= FW_MAX_EXECUTORS)
			continue; /* unknown framework (it was removed), or known already */
		struct resources res = RESOURCES_INIT;
		char err[256] = "";
		if (mesos_resources_from_json(json_object_get(ex, "resources"), &res, err,
					      sizeof(err)) < 0 ||
		    record_add(fw, a, ex, &res, reported_role(fw, ex)) < 0)
			log_warn("frameworks", "agent '%s' runs executor '%s' of framework '%s': "
					       "its resources cannot be accounted (%s)", a->id, eid,
				 fid, err[0] ? err : "they do not fit");
		else
			log_info("frameworks", "agent '%s' re-registered with executor '%s' of "
					       "framework '%s'", a->id, eid, fid);
		resources_release(&res);
	}
}

static void drop(struct frameworks *fws, const char *key, struct fw_executor *e, const char *why)
{
	log_info("frameworks", "framework '%s': executor '%s' on agent '%s' removed: %s",
		 e->fw_id, e->id, e->agent_id, why);
	hmap_del(&fws->executors, key);
	char ikey[768];
	ids_key(ikey, sizeof(ikey), e->agent_id, e->fw_id);
	json_t *ids = hmap_get(&fws->executor_ids, ikey);
	for (size_t i = 0; i < json_array_size(ids); i++) {
		const char *v = json_string_value(json_object_get(json_array_get(ids, i), "value"));
		if (v && !strcmp(v, e->id)) {
			json_array_remove(ids, i);
			break;
		}
	}
	if (ids && !json_array_size(ids)) {
		hmap_del(&fws->executor_ids, ikey);
		json_decref(ids);
	}
	struct m_agent *a = hmap_get(&fws->m->agents, e->agent_id);
	ledger_give(fws->m, a, e->alloc_role, NULL, &e->res);
	struct fw_framework *fw = hmap_get(&fws->fws, e->fw_id);
	if (fw && resources_subtract(&fw->used, &e->res) < 0)
		resources_release(&fw->used);
	free(e->agent_id);
	free(e->fw_id);
	free(e->id);
	json_decref(e->info);
	resources_release(&e->res);
	free(e->alloc_role);
	free(e);
}

void fw_executor_drop(struct frameworks *fws, const char *agent_id, const char *fw_id,
		      const char *eid, const char *why)
{
	char key[1024];
	key_of(key, sizeof(key), agent_id, fw_id, eid);
	struct fw_executor *e = hmap_get(&fws->executors, key);
	if (e)
		drop(fws, key, e, why);
}

/* Drops every executor whose agent (agent_id non-NULL) or framework (fw_id non-NULL) it is. */
void fw_executors_drop_all(struct frameworks *fws, const char *agent_id, const char *fw_id,
			   const char *why)
{
	/* The keys first: dropping changes the map under a walk. */
	size_t n = 0, cap = 0;
	char **keys = NULL;
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&fws->executors, &i, &k, &v);) {
		const struct fw_executor *e = v;
		if ((agent_id && !strcmp(e->agent_id, agent_id)) ||
		    (fw_id && !strcmp(e->fw_id, fw_id))) {
			if (n == cap)
				keys = xrealloc(keys, (cap = cap ? 2 * cap : 16) * sizeof(*keys));
			keys[n++] = xstrdup(k);
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct fw_executor *e = hmap_get(&fws->executors, keys[i]);
		if (e)
			drop(fws, keys[i], e, why);
		free(keys[i]);
	}
	free(keys);
}

void fw_executors_release(struct frameworks *fws)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&fws->executors, &i, &k, &v);) {
		struct fw_executor *e = v;
		free(e->agent_id);
		free(e->fw_id);
		free(e->id);
		json_decref(e->info);
		resources_release(&e->res);
		free(e->alloc_role);
		free(e);
	}
	hmap_release(&fws->executors);
	for (size_t i = 0; hmap_next(&fws->executor_ids, &i, &k, &v);)
		json_decref(v);
	hmap_release(&fws->executor_ids);
}

/* /master/state: Mesos writes an executor as its ExecutorInfo (executor_id, name,
 * framework_id as strings, command, resources as an object of amounts, labels and type when
 * set) and the "slave_id" it runs on. */
static json_t *legacy_executor(const struct fw_executor *e)
{
	const json_t *name = json_object_get(e->info, "name");
	/* Mesos writes a CommandInfo always ("argv" and "uris" at least): a DEFAULT executor
	 * has none of its own. */
	const json_t *cmd = json_object_get(e->info, "command");
	json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:s}", "executor_id", e->id, "name",
			      json_is_string(name) ? json_string_value(name) : "", "framework_id",
			      e->fw_id, "command",
			      cmd ? json_deep_copy(cmd) : json_pack("{s:[], s:[]}", "argv", "uris"),
			      "resources", state_json_resources(&e->res, NULL), "slave_id",
			      e->agent_id);
	const json_t *labels = json_object_get(e->info, "labels");
	if (labels)
		json_object_set(o, "labels", (json_t *)labels);
	const json_t *type = json_object_get(e->info, "type");
	if (json_is_string(type))
		json_object_set(o, "type", (json_t *)type);
	return o;
}

/* Adds an executor's scalar amounts to a framework's used_resources / resources object
 * (Mesos counts executors in a framework's used resources; their ports are not merged). */
static void add_scalars(json_t *obj, const struct resources *r)
{
	static const char *const kinds[] = { "cpus", "mem", "disk", "gpus" };
	for (size_t i = 0; json_is_object(obj) && i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		double v = resources_scalar(r, kinds[i], NULL);
		if (v != 0.0)
			json_object_set_new(obj, kinds[i],
					    json_real(json_number_value(json_object_get(obj, kinds[i])) +
						      v));
	}
}

void fw_executors_fill_framework(struct master *m, json_t *f)
{
	if (!m->fw || !hmap_len(&m->fw->executors))
		return;
	const char *id = json_string_value(json_object_get(f, "id"));
	json_t *arr = json_object_get(f, "executors");
	if (!id || !json_is_array(arr))
		return;
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->fw->executors, &i, &k, &v);) {
		const struct fw_executor *e = v;
		if (strcmp(e->fw_id, id))
			continue;
		json_array_append_new(arr, legacy_executor(e));
		add_scalars(json_object_get(f, "used_resources"), &e->res);
		add_scalars(json_object_get(f, "resources"), &e->res);
	}
}

void fw_executors_fill_state(struct master *m, json_t *frameworks)
{
	size_t j;
	json_t *f;
	json_array_foreach(frameworks, j, f)
		fw_executors_fill_framework(m, f);
}

json_t *fw_executors_v1(struct master *m)
{
	json_t *arr = json_array();
	const char *k;
	void *v;
	for (size_t i = 0; m->fw && hmap_next(&m->fw->executors, &i, &k, &v);) {
		const struct fw_executor *e = v;
		json_array_append_new(arr, json_pack("{s:{s:s}, s:O}", "agent_id", "value",
						     e->agent_id, "executor_info", e->info));
	}
	/* Mesos's GetExecutors: executors and orphan_executors (none: berth forgets the
	 * executors of a framework it removes); repeated fields left out when empty. */
	if (!json_array_size(arr)) {
		json_decref(arr);
		return json_object();
	}
	return json_pack("{s:o}", "executors", arr);
}
