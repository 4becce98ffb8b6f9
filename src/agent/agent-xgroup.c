/* The default executor's side of the agent (agent-xexec.c states the invariants): a task
 * group gathered from its tasks' LAUNCH records and handed over as one LAUNCH_GROUP, the
 * nested containers its updates name, and its container's cgroup. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "agent/agent-int.h"
#include "agent/xapi.h"
#include "agent/xexec-int.h"
#include "base/log.h"
#include "base/mem.h"
#include "executor/exec-cgroup.h"

#define AGENT_XGROUP_MAX_NESTED 10000

/* The limits of a default executor's container cgroup: its cpus and mem so far. */
static void group_cg_limits(const struct agent *a, const struct agent_xexec *x,
			    struct exec_cg_limits *l)
{
	memset(l, 0, sizeof(*l));
	agent_isolation_limits(x->cg_cpus, x->cg_mem, a->cg_cfs, &l->cpu_shares, &l->cfs_quota_us,
			       &l->mem_bytes);
	l->cfs_period_us = a->cg_cfs ? 100000 : 0;
	l->pids_max = a->cg_pids_max;
}

/* With --isolation cgroups, the default executor's container is one cgroup,
 * <cgroups parent>/<container id>, limited to the executor's resources plus its tasks' (grown
 * as they arrive: group_gather): the executor is moved into it before it can fork, so every
 * task of the group shares it. 0 or -errno (logged). */
int agent_xgroup_cg_start(struct agent *a, struct agent_xexec *x)
{
	size_t i;
	const json_t *r;
	json_array_foreach(json_object_get(x->executor_info, "resources"), i, r) {
		const char *n = json_string_value(json_object_get(r, "name"));
		double v = json_number_value(json_object_get(json_object_get(r, "scalar"), "value"));
		if (n && !strcmp(n, "cpus"))
			x->cg_cpus += v;
		else if (n && !strcmp(n, "mem"))
			x->cg_mem += v;
	}
	x->cg_name = xasprintf("%s/%s", a->cg_parent, x->container_id);
	struct exec_cg_limits l;
	group_cg_limits(a, x, &l);
	struct exec_cg cg;
	char err[256] = "";
	int r0 = exec_cg_create(&cg, a->cg_root, x->cg_name, &l, err, sizeof(err));
	if (r0 == 0)
		r0 = exec_cg_attach(&cg, x->pid);
	if (r0 < 0)
		log_error("agent", "executor '%s': cannot put it in the cgroup '%s': %s",
			  x->executor_id, x->cg_name, err[0] ? err : strerror(-r0));
	return r0;
}

/* The default executor's task t (ti its TaskInfo) joins the group being gathered; a
 * complete group goes to the executor as one LAUNCH_GROUP (or waits for its SUBSCRIBE). */
int agent_xgroup_gather(struct agent *a, struct agent_xexec *x, struct agent_task *t,
			json_t *spec, json_t *ti)
{
	const char *gid = json_string_value(json_object_get(spec, "group"));
	json_int_t gsize = json_integer_value(json_object_get(spec, "group_size"));
	if (!gid || gsize <= 0 || gsize > 1000) {
		agent_task_report(t, "TASK_FAILED", "The default executor runs task groups only "
						    "(LAUNCH_GROUP)", "REASON_TASK_INVALID");
		t->xexec = NULL;
		return -EINVAL;
	}
	if (!x->group_id || strcmp(x->group_id, gid)) {
		free(x->group_id);
		json_decref(x->group_buf);
		x->group_id = xstrdup(gid);
		x->group_size = (size_t)gsize;
		x->group_buf = json_array();
	}
	json_array_append(x->group_buf, ti);
	char *link = xasprintf("%s/%s", a->sandbox_root, t->id);
	char *target = xasprintf("%s/tasks/%s", x->sandbox, t->id);
	if (symlink(target, link) == -1 && errno != EEXIST)
		log_warn("agent", "task '%s': cannot link its sandbox at '%s': %s", t->id, link,
			 strerror(errno));
	free(link);
	free(target);
	if (x->cg_name) {
		json_t *res = json_object_get(spec, "resources");
		x->cg_cpus += json_number_value(json_object_get(res, "cpus"));
		x->cg_mem += json_number_value(json_object_get(res, "mem"));
		struct exec_cg_limits l;
		char err[256] = "";
		group_cg_limits(a, x, &l);
		if (exec_cg_update(a->cg_root, x->cg_name, &l, err, sizeof(err)) < 0)
			log_warn("agent", "executor '%s': cannot grow its cgroup '%s': %s",
				 x->executor_id, x->cg_name, err);
	}
	agent_xexec_checkpoint(a, x);
	if (json_array_size(x->group_buf) < x->group_size)
		return 0;
	json_t *tasks = x->group_buf;
	x->group_buf = NULL;
	free(x->group_id);
	x->group_id = NULL;
	if (x->stream && agent_xexec_send(x, xapi_event_launch_group(tasks)) == 0) {
		json_decref(tasks);
		return 0;
	}
	if (!x->pending_groups)
		x->pending_groups = json_array();
	json_array_append_new(x->pending_groups, tasks);
	return 0;
}

/* The id of the group of ti's task when it is still held here (pending or gathering):
 * those tasks never reached the executor. Reports each TASK_KILLED and forgets the group. */
bool agent_xgroup_drop_unsent(struct agent *a, struct agent_xexec *x, const char *task_id)
{
	json_t *holders[2] = { x->group_buf, NULL };
	size_t gi;
	json_t *g;
	json_array_foreach(x->pending_groups, gi, g) {
		size_t i;
		json_t *ti;
		json_array_foreach(g, i, ti) {
			const char *id = json_string_value(
				json_object_get(json_object_get(ti, "task_id"), "value"));
			if (id && !strcmp(id, task_id))
				holders[1] = g;
		}
	}
	for (int h = 0; h < 2; h++) {
		json_t *grp = holders[h];
		bool has = false;
		size_t i;
		json_t *ti;
		json_array_foreach(grp, i, ti) {
			const char *id = json_string_value(
				json_object_get(json_object_get(ti, "task_id"), "value"));
			has = has || (id && !strcmp(id, task_id));
		}
		if (!has)
			continue;
		json_array_foreach(grp, i, ti) {
			const char *id = json_string_value(
				json_object_get(json_object_get(ti, "task_id"), "value"));
			struct agent_task *t = id ? agent_task_find(a, id) : NULL;
			if (t && t->xexec == x && !t->terminal) {
				agent_task_report(t, "TASK_KILLED",
						  "Killed before the executor got its task group",
						  NULL);
				t->xexec = NULL;
			}
		}
		if (h == 0) {
			json_decref(x->group_buf);
			x->group_buf = NULL;
			free(x->group_id);
			x->group_id = NULL;
		} else {
			json_array_foreach(x->pending_groups, gi, g)
				if (g == grp) {
					json_array_remove(x->pending_groups, gi);
					break;
				}
		}
		return true;
	}
	return false;
}

void agent_xexec_status_seen(struct agent_xexec *x, const char *task_id, json_t *status)
{
	const json_t *cid = json_object_get(json_object_get(status, "container_status"),
					    "container_id");
	if (!x->dflt || !json_is_string(json_object_get(cid, "value")))
		return;
	if (!x->nested)
		x->nested = json_object();
	if (json_object_size(x->nested) < AGENT_XGROUP_MAX_NESTED)
		json_object_set_new(x->nested, task_id,
				    json_pack("{s:O}", "value", json_object_get(cid, "value")));
}

void agent_xexecs_containers(struct agent *a, json_t *arr, bool show_nested)
{
	for (struct agent_xexec *x = a->xexecs; x; x = x->next) {
		const char *name = json_string_value(json_object_get(x->executor_info, "name"));
		json_t *c = json_pack("{s:{s:s}, s:{s:s}, s:s, s:{s:s}}", "framework_id", "value",
				      x->framework_id, "executor_id", "value", x->executor_id,
				      "executor_name", name ? name : "", "container_id", "value",
				      x->container_id);
		json_array_append_new(arr, c);
		if (!show_nested || !x->nested)
			continue;
		const char *tid;
		json_t *v;
		json_object_foreach(x->nested, tid, v) {
			struct agent_task *t = agent_task_find(a, tid);
			if (!t || t->xexec != x)
				continue;
			json_t *n = json_deep_copy(c);
			json_t *id = json_deep_copy(v);
			json_object_set_new(id, "parent", json_pack("{s:s}", "value",
								     x->container_id));
			json_object_set_new(n, "container_id", id);
			json_array_append_new(arr, n);
		}
	}
}

