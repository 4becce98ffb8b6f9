/* Outstanding offers (removal, the by-agent index, claims), DECLINE filters, DECLINE, and
 * ACCEPT with LAUNCH, LAUNCH_GROUP and the reservation operations. Offers are made by the
 * offer pass (fw-pass.c).
 *
 *  - Quotas (quota.c): a LAUNCH that would take the role past its limit (or into resources
 *    held back for other roles' guarantees) is refused with TASK_ERROR,
 *    REASON_TASK_INVALID and a message saying which.
 *  - ACCEPT checks each task against the offer (over-commit: TASK_ERROR) and then against
 *    the agent's current free resources: if another framework's ACCEPT or the apps framework
 *    took them in between, the task is refused with TASK_DROPPED (PARTITION_AWARE) or
 *    TASK_LOST, reason REASON_INVALID_OFFERS, as Mesos does for invalid offers.
 *  - An offer lives FW_OFFER_TIMEOUT_SEC; then, or when its agent goes away, or when its
 *    framework changes its roles, it is rescinded (RESCIND event). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "master/fw-int.h"
#include "model/app.h"
#include "model/container.h"
#include "model/mesos-resources.h"

void fw_offer_free(struct fw_offer *o)
{
	if (!o)
		return;
	resources_release(&o->res); /* agent_id and role live in o's own allocation */
	free(o);
}

void fw_offer_index(struct fw_offer *o, struct m_agent *a)
{
	struct fw_agent_offers *ao = &a->offers;
	if (ao->n == ao->cap) {
		ao->cap = ao->cap ? ao->cap * 2 : 4;
		ao->v = xrealloc(ao->v, ao->cap * sizeof(*ao->v));
	}
	ao->v[ao->n++] = o;
}

/* Agents stay in m->agents while the master runs, so an offer's agent is always there. */
static void by_agent_del(struct frameworks *fws, struct fw_offer *o)
{
	struct m_agent *a = hmap_get(&fws->m->agents, o->agent_id);
	struct fw_agent_offers *ao = a ? &a->offers : NULL;
	for (size_t i = 0; ao && i < ao->n; i++) {
		if (ao->v[i] == o) {
			ao->v[i] = ao->v[--ao->n];
			break;
		}
	}
}

void fw_offer_remove(struct frameworks *fws, struct fw_offer *o, bool rescind)
{
	if (rescind && o->fw)
		fw_send(o->fw, json_pack("{s:s, s:{s:{s:s}}}", "type", "RESCIND", "rescind",
					 "offer_id", "value", o->id));
	by_agent_del(fws, o);
	if (o->fw && o->fw->noffers)
		o->fw->noffers--;
	hmap_del(&fws->offers, o->id);
	fw_offer_free(o);
}

void fw_offers_remove_framework(struct frameworks *fws, struct fw_framework *fw, bool rescind)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&fws->offers, &i, &k, &v);)
		if (((struct fw_offer *)v)->fw == fw)
			fw_offer_remove(fws, v, rescind);
}

void fw_offers_remove_agent(struct frameworks *fws, const char *agent_id)
{
	struct m_agent *a = hmap_get(&fws->m->agents, agent_id);
	while (a && a->offers.n)
		fw_offer_remove(fws, a->offers.v[a->offers.n - 1], true);
}

bool fw_claims_before(const struct m_agent *a, const struct quota_drf_client *key, uint64_t now,
		      struct resources *held)
{
	const struct fw_agent_offers *ao = &a->offers;
	bool any = false;
	for (size_t i = 0; i < ao->n; i++) {
		const struct fw_offer *o = ao->v[i];
		if (o->claim_until_usec > now && quota_drf_cmp(&o->key, key) < 0) {
			resources_add(held, &o->res);
			any = true;
		}
	}
	return any;
}

/* ---- filters ---- */

void fw_filters_clear(struct fw_framework *fw)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&fw->filters, &i, &k, &v);)
		free(v);
	hmap_release(&fw->filters); /* and empty again */
	fw->filter_min_usec = 0;
	fw->quiet = false;
}

void fw_filters_prune(struct fw_framework *fw, uint64_t now)
{
	const char *k;
	void *v;
	fw->filter_min_usec = 0;
	for (size_t i = 0; hmap_next(&fw->filters, &i, &k, &v);) {
		uint64_t until = *(uint64_t *)v;
		if (until <= now) {
			hmap_del(&fw->filters, k);
			free(v);
		} else if (!fw->filter_min_usec || until < fw->filter_min_usec) {
			fw->filter_min_usec = until;
		}
	}
}

bool fw_filtered(const struct fw_framework *fw, const char *agent_id, uint64_t now)
{
	const uint64_t *until = hmap_len(&fw->filters) ? hmap_get(&fw->filters, agent_id) : NULL;
	return until && *until > now;
}

double fw_refuse_seconds(const json_t *filters)
{
	const json_t *r = json_object_get(filters, "refuse_seconds");
	double s = json_is_number(r) ? json_number_value(r) : FW_DEFAULT_REFUSE_SEC;
	if (!isfinite(s) || s < 0)
		s = FW_DEFAULT_REFUSE_SEC;
	return s > FW_MAX_REFUSE_SEC ? FW_MAX_REFUSE_SEC : s;
}

void fw_filter_add(struct fw_framework *fw, const char *agent_id, double secs)
{
	if (secs <= 0)
		return;
	uint64_t until = time_mono_usec() + (uint64_t)(secs * 1e6);
	/* A filter replaced by a shorter one may leave filter_min_usec early: harmless, the
	 * framework then walks once more than needed. */
	if (!fw->filter_min_usec || until < fw->filter_min_usec)
		fw->filter_min_usec = until;
	uint64_t *u = hmap_get(&fw->filters, agent_id);
	if (u) {
		*u = until;
		return;
	}
	if (hmap_len(&fw->filters) >= FW_MAX_FILTERS)
		return;
	u = xmalloc(sizeof(*u));
	*u = until;
	hmap_put(&fw->filters, agent_id, u);
}

/* ---- DECLINE ---- */

/* Collects the offers named by ids (borrowed array) that belong to fw. A missing or foreign
 * one makes *bad describe it. Returns the number found (at most max). */
static size_t find_offers(struct fw_framework *fw, const json_t *ids, struct fw_offer **out,
			  size_t max, char *bad, size_t badlen)
{
	size_t n = 0;
	size_t i;
	const json_t *e;
	bad[0] = '\0';
	json_array_foreach(ids, i, e) {
		const char *id = json_string_value(json_object_get(e, "value"));
		struct fw_offer *o = id ? hmap_get(&fw->fws->offers, id) : NULL;
		if (!o || o->fw != fw) {
			if (!bad[0])
				snprintf(bad, badlen, "Offer %.100s is no longer valid", id ? id : "");
			continue;
		}
		bool dup = false;
		for (size_t j = 0; j < n; j++)
			dup |= out[j] == o;
		if (dup) {
			if (!bad[0])
				snprintf(bad, badlen, "Offer %.100s appears more than once", id);
			continue;
		}
		if (n && strcmp(out[0]->agent_id, o->agent_id)) {
			if (!bad[0])
				snprintf(bad, badlen, "Offers span more than one agent");
			continue;
		}
		if (n < max)
			out[n++] = o;
	}
	return n;
}

#define MAX_OFFERS_PER_CALL 1024

int fw_call_decline(struct fw_framework *fw, const json_t *decline, char *err, size_t errlen)
{
	const json_t *ids = json_object_get(decline, "offer_ids");
	if (!json_is_array(ids) || json_array_size(ids) > MAX_OFFERS_PER_CALL) {
		snprintf(err, errlen, "'decline.offer_ids' must be an array of at most %d ids",
			 MAX_OFFERS_PER_CALL);
		return -EINVAL;
	}
	double secs = fw_refuse_seconds(json_object_get(decline, "filters"));
	size_t i;
	const json_t *e;
	json_array_foreach(ids, i, e) {
		const char *id = json_string_value(json_object_get(e, "value"));
		struct fw_offer *o = id ? hmap_get(&fw->fws->offers, id) : NULL;
		if (!o || o->fw != fw)
			continue; /* Mesos ignores declines of unknown offers */
		fw_filter_add(fw, o->agent_id, secs);
		fw_offer_remove(fw->fws, o, false);
	}
	return 0;
}

/* ---- ACCEPT / LAUNCH ---- */

static void refuse_task(struct fw_framework *fw, const json_t *ti, const char *agent_id,
			const char *state, const char *reason, const char *message)
{
	const char *id = json_string_value(json_object_get(json_object_get(ti, "task_id"), "value"));
	json_t *s = fw_status_master(id ? id : "", agent_id, state, reason, message);
	log_info("frameworks", "framework '%s': task '%s' refused (%s): %s", fw->id,
		 id ? id : "", state, message);
	fw_send_update(fw, s);
	json_decref(s);
}

static bool task_id_ok(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 255 || id[0] == '.')
		return false;
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		if (*p == '/' || *p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* Builds the agent's TaskSpec (agent-protocol.md §2) from a TaskInfo. 0 and *spec, or
 * -EINVAL with a message. res (the task's resources) was parsed by the caller. */
static int task_spec(struct fw_framework *fw, const struct m_agent *a, const json_t *ti,
		     const struct resources *res, double grace, json_t **spec, char *err,
		     size_t errlen)
{
	const char *id = json_string_value(json_object_get(json_object_get(ti, "task_id"), "value"));
	const char *name = json_string_value(json_object_get(ti, "name"));
	const json_t *exi = json_object_get(ti, "executor");
	const json_t *cmd = json_object_get(exi ? exi : ti, "command");
	const json_t *shell = json_object_get(cmd, "shell");
	bool sh = !json_is_boolean(shell) || json_is_true(shell);
	const char *value = json_string_value(json_object_get(cmd, "value"));
	const json_t *args = json_object_get(cmd, "arguments");
	if ((args && !json_is_array(args)) || json_array_size(args) > 4096) {
		snprintf(err, errlen, "'command.arguments' must be an array of strings");
		return -EINVAL;
	}
	json_t *ctr = NULL; /* checked by the caller: cannot fail here */
	/* A custom executor's container is the executor's (executor-api.md): it runs in it,
	 * and so do its tasks. */
	container_from_mesos(json_object_get(exi ? exi : ti, "container"), &ctr, err, errlen);
	if ((!value || !*value) && !(ctr && !sh)) {
		json_decref(ctr);
		snprintf(err, errlen, "'command.value' is required");
		return -EINVAL;
	}
	json_t *s = json_pack("{s:s, s:s, s:s, s:s, s:b, s:f}", "task_id", id, "framework_id",
			      fw->id, "name", name, "app_id", "", "shell", sh,
			      "kill_grace_period_seconds", grace);
	if (sh) {
		json_object_set_new(s, "cmd", json_string(value));
	} else {
		/* execvp(value, arguments): arguments[0] is argv[0], which berth sets to value.
		 * A container without a value: the arguments follow the image's Entrypoint. */
		json_t *argv = value && *value ? json_pack("[s]", value) : json_array();
		size_t i;
		const json_t *x;
		json_array_foreach(args, i, x) {
			if (!json_is_string(x)) {
				snprintf(err, errlen, "'command.arguments' must be an array of strings");
				json_decref(argv);
				json_decref(s);
				json_decref(ctr);
				return -EINVAL;
			}
			if (i > 0 || !(value && *value))
				json_array_append_new(argv, json_string(json_string_value(x)));
		}
		json_object_set_new(s, "args", argv);
	}
	json_t *env = json_object(), *secrets = NULL;
	const json_t *vars = json_object_get(json_object_get(cmd, "environment"), "variables");
	size_t i;
	const json_t *x;
	json_array_foreach(vars, i, x) {
		const char *n = json_string_value(json_object_get(x, "name"));
		const char *val = json_string_value(json_object_get(x, "value"));
		const char *type = json_string_value(json_object_get(x, "type"));
		if (type && !strcmp(type, "SECRET")) {
			/* Mesos's Secret of type REFERENCE: resolved by the agent in its store
			 * (docs/security.md, "Secrets"); a VALUE secret would put the value in
			 * the master's state, so it is refused. */
			const json_t *sec = json_object_get(x, "secret");
			const json_t *ref = json_object_get(sec, "reference");
			const char *rn = json_string_value(json_object_get(ref, "name"));
			if (!n || !*n || strchr(n, '=') ||
			    !json_is_string(json_object_get(sec, "type")) ||
			    strcmp(json_string_value(json_object_get(sec, "type")), "REFERENCE") ||
			    !rn || !app_secret_source_valid(rn) || json_object_get(ref, "key")) {
				snprintf(err, errlen, "'command.environment.variables[%zu]': a "
						      "secret must be of type REFERENCE, its "
						      "'reference.name' a source of the agents' "
						      "--secrets-dir (no 'key')", i);
				json_decref(env);
				json_decref(secrets);
				json_decref(s);
				return -EINVAL;
			}
			if (!secrets)
				secrets = json_array();
			json_array_append_new(secrets, json_pack("{s:s, s:s, s:s}", "name", n,
								 "secret", rn, "source", rn));
			continue;
		}
		if (!n || !*n || strchr(n, '=') || (type && strcmp(type, "VALUE")) ||
		    (!val && !(type && !strcmp(type, "VALUE")))) {
			snprintf(err, errlen, "'command.environment.variables[%zu]' must have a 'name' "
					      "and a 'value' (type VALUE or SECRET)", i);
			json_decref(env);
			json_decref(secrets);
			json_decref(s);
			return -EINVAL;
		}
		json_object_set_new(env, n, json_string(val ? val : ""));
	}
	json_object_set_new(env, "MESOS_TASK_ID", json_string(id));
	json_object_set_new(env, "MESOS_FRAMEWORK_ID", json_string(fw->id));
	json_object_set_new(env, "MESOS_AGENT_ID", json_string(a->id));
	json_t *ports = json_array();
	struct strbuf all = STRBUF_INIT;
	unsigned pi = 0;
	for (size_t k = 0; k < res->n; k++) {
		const struct resource *e = &res->v[k];
		if (strcmp(e->name, "ports") || e->type != RES_RANGES)
			continue;
		for (size_t r = 0; r < e->nranges; r++) {
			for (uint64_t p = e->ranges[r].begin; p <= e->ranges[r].end; p++) {
				json_array_append_new(ports, json_integer((json_int_t)p));
				char key[32], num[32];
				snprintf(key, sizeof(key), "PORT%u", pi++);
				snprintf(num, sizeof(num), "%llu", (unsigned long long)p);
				if (!json_object_get(env, key))
					json_object_set_new(env, key, json_string(num));
				strbuf_addf(&all, "%s%s", all.len ? "," : "", num);
			}
		}
	}
	if (pi && !json_object_get(env, "PORTS"))
		json_object_set_new(env, "PORTS", json_string(strbuf_str(&all)));
	strbuf_release(&all);
	if (!json_object_get(env, "HOST"))
		json_object_set_new(env, "HOST", json_string(a->hostname));
	json_object_set_new(s, "env", env);
	if (secrets)
		json_object_set_new(s, "secrets", secrets);
	/* the FrameworkInfo the agent lists in GET_FRAMEWORKS (agent-protocol.md §2) */
	if (json_is_object(fw->info))
		json_object_set_new(s, "framework_info", json_deep_copy(fw->info));
	if (ctr)
		json_object_set_new(s, "container", ctr);
	/* CommandInfo.uris: fetched into the sandbox by the agent (extract defaults to true). */
	json_t *fetch = json_array();
	const json_t *u;
	json_array_foreach(json_object_get(cmd, "uris"), i, u) {
		const char *v = json_string_value(json_object_get(u, "value"));
		if (!v || !*v)
			continue;
		const json_t *ex = json_object_get(u, "extract");
		json_t *o = json_pack("{s:s, s:b, s:b}", "uri", v, "extract",
				      ex ? json_is_true(ex) : 1, "executable",
				      json_is_true(json_object_get(u, "executable")));
		const char *outf = json_string_value(json_object_get(u, "output_file"));
		if (outf)
			json_object_set_new(o, "output_file", json_string(outf));
		if (json_is_true(json_object_get(u, "cache")))
			json_object_set_new(o, "cache", json_true());
		json_array_append_new(fetch, o);
	}
	if (json_array_size(fetch))
		json_object_set_new(s, "fetch", fetch);
	else
		json_decref(fetch);
	json_object_set_new(s, "resources",
			    json_pack("{s:f, s:f, s:f, s:f, s:o}", "cpus",
				      resources_scalar(res, "cpus", NULL), "mem",
				      resources_scalar(res, "mem", NULL), "disk",
				      resources_scalar(res, "disk", NULL), "gpus",
				      resources_scalar(res, "gpus", NULL), "ports", ports));
	json_t *vols = NULL; /* persistent volumes, mounted by the task's executor */
	if (!exi && fw_task_volumes(json_object_get(ti, "resources"), &vols, err, errlen) < 0) {
		json_decref(s);
		return -EINVAL;
	}
	if (vols)
		json_object_set_new(s, "volumes", vols);
	if (exi) {
		/* The agent starts cmd once per (framework, executor_id) and sends the executor
		 * the TaskInfo as it came (agent-protocol.md, executor-api.md). */
		json_object_set_new(s, "executor", json_deep_copy(exi));
		json_object_set_new(s, "task_info", json_deep_copy(ti));
		json_object_set_new(s, "checkpoint",
				    json_boolean(json_is_true(json_object_get(fw->info, "checkpoint"))));
	}
	*spec = s;
	return 0;
}

/* Validates one TaskInfo against the offer's agent. 0 with *res filled, or -EINVAL. */
static int task_validate(struct fw_framework *fw, const struct m_agent *a, const json_t *ti,
			 struct resources *res, double *grace, char *err, size_t errlen)
{
	struct master *m = fw->fws->m;
	const char *id = json_string_value(json_object_get(json_object_get(ti, "task_id"), "value"));
	const char *aid = json_string_value(json_object_get(json_object_get(ti, "agent_id"), "value"));
	if (!json_is_object(ti) || !id || !json_is_string(json_object_get(ti, "name"))) {
		snprintf(err, errlen, "A TaskInfo needs 'name', 'task_id' and 'agent_id'");
		return -EINVAL;
	}
	if (!task_id_ok(id)) {
		snprintf(err, errlen, "Task ID '%.300s' is invalid: 1 to 255 bytes, no '/', no "
				      "control characters, not starting with '.'", id);
		return -EINVAL;
	}
	if (hmap_get(&fw->fws->tasks, id) || rm_task_agent(m, id)) {
		snprintf(err, errlen, "Task has duplicate ID: %s", id);
		return -EINVAL;
	}
	if (!aid || strcmp(aid, a->id)) {
		snprintf(err, errlen, "Task uses agent %s but the offer is for agent %s",
			 aid ? aid : "(none)", a->id);
		return -EINVAL;
	}
	const json_t *ex = json_object_get(ti, "executor");
	if (ex) {
		/* A custom executor (executor-api.md): its command runs on the agent, which hands
		 * it the task through the v1 executor API. */
		const json_t *ec = json_object_get(ex, "command");
		const char *eid = json_string_value(
			json_object_get(json_object_get(ex, "executor_id"), "value"));
		const char *ev = json_string_value(json_object_get(ec, "value"));
		if (!json_is_object(ex) || !eid || !task_id_ok(eid)) {
			snprintf(err, errlen, "'executor.executor_id.value' is required: 1 to 255 "
					      "bytes, no '/', no control characters");
			return -EINVAL;
		}
		if (!ev || !*ev) {
			snprintf(err, errlen, "'executor.command.value' is required");
			return -EINVAL;
		}
		if (json_object_get(ti, "command")) {
			snprintf(err, errlen, "Task should have at most one of 'command' or "
					      "'executor'");
			return -EINVAL;
		}
		json_t *ectr = NULL;
		if (container_from_mesos(json_object_get(ex, "container"), &ectr, err, errlen) < 0) {
			if (!strncmp(err, "'container.", 11)) { /* name the executor's field */
				char e2[300];
				snprintf(e2, sizeof(e2), "'executor.%s", err + 1);
				snprintf(err, errlen, "%s", e2);
			}
			return -EINVAL;
		}
		const char *net = json_string_value(json_object_get(ectr, "network"));
		bool bridge = net && strcmp(net, "HOST");
		json_decref(ectr);
		if (bridge) {
			snprintf(err, errlen, "'executor.container': an executor's container must use "
					      "the host's network (HOST)");
			return -EINVAL;
		}
	} else if (!json_is_object(json_object_get(ti, "command"))) {
		snprintf(err, errlen, "Task must have 'command' (or 'executor')");
		return -EINVAL;
	}
	json_t *ctr = NULL; /* DOCKER or MESOS with an image: docs/isolation.md */
	if (container_from_mesos(json_object_get(ti, "container"), &ctr, err, errlen) < 0)
		return -EINVAL;
	json_decref(ctr);
	char rerr[256];
	if (mesos_resources_from_json(json_object_get(ti, "resources"), res, rerr,
				      sizeof(rerr)) < 0) {
		snprintf(err, errlen, "Invalid resources: %s", rerr);
		return -EINVAL;
	}
	if (resources_range_count(res, "ports", NULL) > FW_MAX_TASK_PORTS) {
		snprintf(err, errlen, "Task asks for more than %d ports", FW_MAX_TASK_PORTS);
		return -EINVAL;
	}
	*grace = 3.0;
	const json_t *ns = json_object_get(
		json_object_get(json_object_get(ti, "kill_policy"), "grace_period"), "nanoseconds");
	if (json_is_integer(ns)) {
		if (json_integer_value(ns) < 0 || json_integer_value(ns) >= 86400LL * 1000000000LL) {
			snprintf(err, errlen, "'kill_policy.grace_period' must be between 0 and 1 day");
			return -EINVAL;
		}
		*grace = (double)json_integer_value(ns) / 1e9;
	}
	return 0;
}

/* Launches one task on a (resources checked by the caller): records it and queues it to
 * be stored, then its LAUNCH to be sent (fw_flush). */
static void launch(struct fw_framework *fw, struct m_agent *a, const json_t *ti,
		   struct resources *res, json_t *spec, double grace, const char *group)
{
	struct frameworks *fws = fw->fws;
	const char *id = json_string_value(json_object_get(json_object_get(ti, "task_id"), "value"));
	struct fw_task *t = fw_task_new(fws, fw, id, a->id);
	t->name = xstrdup(json_string_value(json_object_get(ti, "name")));
	t->res = *res;
	*res = (struct resources)RESOURCES_INIT;
	t->grace_sec = grace;
	t->group = group ? xstrdup(group) : NULL;
	t->agent_gen = fw_agent_view(fws, a)->gen;
	fw_task_hold(fws, t, a); /* the caller checked that a's free holds it */
	log_info("frameworks", "framework '%s' launches task '%s' on agent '%s'", fw->id, t->id,
		 a->id);
	if (fw_hook_launch(fws, t, ti, spec))
		json_decref(spec); /* the hook holds it, and queues the LAUNCH (fw-hooks.c) */
	else
		fw_task_queue(fws, t, json_pack("{s:s, s:o}", "type", "LAUNCH", "task", spec));
}

/* The message refusing a task (and its new executor, when exres is non-NULL) that does not
 * fit in what remains of the accepted offers. */
static void no_fit(const json_t *ti, const struct resources *total, const struct resources *exres,
		   const struct resources *remaining, char *err, size_t errlen)
{
	char *want = resources_format(total), *have = resources_format(remaining);
	if (exres)
		snprintf(err, errlen, "Total resources %.200s required by task and its executor "
				      "'%.255s' is more than available %.200s", want,
			 json_string_value(json_object_get(
				 json_object_get(json_object_get(ti, "executor"), "executor_id"),
				 "value")),
			 have);
	else
		snprintf(err, errlen, "Task uses more resources (%.200s) than available in the "
				      "accepted offers (%.200s)", want, have);
	free(want);
	free(have);
}

/* The TaskSpec of a task of a group: it runs under the group's executor. */
static void group_spec(struct fw_framework *fw, json_t *spec, const json_t *gexec,
		       const json_t *ti, const char *group, size_t n)
{
	json_t *ex = json_deep_copy(json_object_get(gexec, "executor"));
	json_object_set_new(ex, "framework_id", json_pack("{s:s}", "value", fw->id));
	json_object_set_new(spec, "executor", ex);
	json_object_set_new(spec, "task_info", json_deep_copy(ti));
	json_object_set_new(spec, "checkpoint",
			    json_boolean(json_is_true(json_object_get(fw->info, "checkpoint"))));
	json_object_set_new(spec, "group", json_string(group));
	json_object_set_new(spec, "group_size", json_integer((json_int_t)n));
}

/* group: the id of the task group the tasks form (LAUNCH_GROUP), or NULL; gexec then holds
 * the group's executor as {"executor": ExecutorInfo}: the tasks run under it (the default
 * executor, agent-xexec.c), which the agent learns from their TaskSpecs' "executor",
 * "task_info", "group" and "group_size". */
static void accept_launch(struct fw_framework *fw, struct m_agent *a, const json_t *tis,
			  const char *role, struct resources *remaining, const char *group,
			  const json_t *gexec)
{
	const json_t *exsrc = NULL;
	size_t i;
	const json_t *ti;
	json_array_foreach(tis, i, ti) {
		struct resources res = RESOURCES_INIT, exres = RESOURCES_INIT,
				 total = RESOURCES_INIT;
		char err[1200];
		double grace;
		json_t *spec = NULL;
		int newex = 0;
		exsrc = gexec ? gexec : ti;
		if (hmap_len(&fw->fws->tasks) >= FW_MAX_TASKS) {
			refuse_task(fw, ti, a->id, "TASK_ERROR", "REASON_TASK_INVALID",
				    "Too many framework tasks on this master");
		} else if (task_validate(fw, a, ti, &res, &grace, err, sizeof(err)) < 0 ||
			   task_spec(fw, a, ti, &res, grace, &spec, err, sizeof(err)) < 0 ||
			   (newex = fw_executor_check(fw, a, exsrc, &exres, err, sizeof(err))) < 0) {
			refuse_task(fw, ti, a->id, "TASK_ERROR", "REASON_TASK_INVALID", err);
		} else if (resv_launch_check(fw->fws->m, a, json_object_get(ti, "resources"), &res,
					     err, sizeof(err)) < 0) {
			refuse_task(fw, ti, a->id, "TASK_ERROR", "REASON_TASK_INVALID", err);
		} else if (resources_add(&total, &res), resources_add(&total, &exres),
			   !resources_contains(remaining, &total)) {
			no_fit(exsrc, &total, newex ? &exres : NULL, remaining, err, sizeof(err));
			refuse_task(fw, ti, a->id, "TASK_ERROR", "REASON_TASK_INVALID", err);
		} else if (!quota_check(fw->fws->m, role, &total, err, sizeof(err))) {
			refuse_task(fw, ti, a->id, "TASK_ERROR", "REASON_TASK_INVALID", err);
		} else if (!resources_contains(rm_agent_free(a), &total) ||
			   (newex && fw_executor_add(fw, a, exsrc, &exres, role) < 0)) {
			refuse_task(fw, ti, a->id, fw->partition_aware ? "TASK_DROPPED" : "TASK_LOST",
				    "REASON_INVALID_OFFERS",
				    "Task launched with invalid offers: the offered resources were "
				    "taken by another launch on the agent since the offer was made");
		} else {
			/* The executor's resources (a new executor: fw_executor_add) are held
			 * until it ends (fw-executors.c), the task's until the task does. */
			resources_subtract(remaining, &total);
			resv_launch_commit(fw->fws->m, a,
					   json_string_value(json_object_get(
						   json_object_get(ti, "task_id"), "value")),
					   json_object_get(ti, "resources"));
			if (gexec)
				group_spec(fw, spec, gexec, ti, group, json_array_size(tis));
			launch(fw, a, ti, &res, spec, grace, group);
			spec = NULL;
		}
		json_decref(spec);
		resources_release(&res);
		resources_release(&exres);
		resources_release(&total);
	}
}

/* The group's ExecutorInfo as Mesos checks it for LAUNCH_GROUP (type DEFAULT, an id, no
 * command). 0, or -EINVAL with err. */
static int group_executor_check(const json_t *ex, char *err, size_t errlen)
{
	const char *type = json_string_value(json_object_get(ex, "type"));
	const char *eid =
		json_string_value(json_object_get(json_object_get(ex, "executor_id"), "value"));
	if (!json_is_object(ex)) {
		snprintf(err, errlen, "'launch_group.executor' is required");
		return -EINVAL;
	}
	if (!type || strcmp(type, "DEFAULT")) {
		snprintf(err, errlen, "'ExecutorInfo.type' must be 'DEFAULT'");
		return -EINVAL;
	}
	if (!eid || !task_id_ok(eid)) {
		snprintf(err, errlen, "'executor.executor_id.value' is required: 1 to 255 bytes, no "
				      "'/', no control characters");
		return -EINVAL;
	}
	if (json_object_get(ex, "command")) {
		snprintf(err, errlen, "'ExecutorInfo.command' must not be set for the DEFAULT "
				      "executor");
		return -EINVAL;
	}
	return 0;
}

/* LAUNCH_GROUP: the group's tasks start together or not at all, under one executor process
 * (the default executor: agent-xexec.c, dexec.h), whose resources are taken with the first
 * task when it is new on the agent. Checks the whole group first; on the first problem
 * every task of the group gets the same refusal. */
static void accept_launch_group(struct fw_framework *fw, struct m_agent *a, const json_t *tis,
				const json_t *ex, const char *role, struct resources *remaining)
{
	struct resources sum = RESOURCES_INIT;
	char err[600] = "";
	const char *state = "TASK_ERROR", *reason = "REASON_TASK_INVALID";
	size_t i;
	const json_t *ti;
	json_t *gexec = json_pack("{s:O?}", "executor", (json_t *)ex);
	if (!json_array_size(tis))
		snprintf(err, sizeof(err), "A task group needs at least one task");
	else
		group_executor_check(ex, err, sizeof(err));
	json_array_foreach(tis, i, ti) {
		if (!err[0] && json_object_get(ti, "executor")) {
			snprintf(err, sizeof(err), "Task '%.255s' should not have an executor",
				 json_string_value(json_object_get(
					 json_object_get(ti, "task_id"), "value")));
			break;
		}
		if (err[0])
			break;
		struct resources res = RESOURCES_INIT;
		double grace;
		json_t *spec = NULL;
		struct resources exres = RESOURCES_INIT;
		if (task_validate(fw, a, ti, &res, &grace, err, sizeof(err)) == 0 &&
		    task_spec(fw, a, ti, &res, grace, &spec, err, sizeof(err)) == 0 &&
		    (i > 0 || fw_executor_check(fw, a, gexec, &exres, err, sizeof(err)) >= 0) &&
		    resv_launch_check(fw->fws->m, a, json_object_get(ti, "resources"), &res, err,
				      sizeof(err)) == 0) {
			resources_add(&sum, &res);
			resources_add(&sum, &exres); /* the group's executor, when new */
		}
		json_decref(spec);
		resources_release(&res);
		resources_release(&exres);
	}
	if (!err[0] && hmap_len(&fw->fws->tasks) + json_array_size(tis) > FW_MAX_TASKS)
		snprintf(err, sizeof(err), "Too many framework tasks on this master");
	if (!err[0] && !resources_contains(remaining, &sum))
		snprintf(err, sizeof(err), "The task group uses more resources than available in "
					   "the accepted offers");
	if (!err[0] && !quota_check(fw->fws->m, role, &sum, err, sizeof(err)) && !err[0])
		snprintf(err, sizeof(err), "Quota of role '%s' exceeded", role);
	if (!err[0] && !resources_contains(rm_agent_free(a), &sum)) {
		state = fw->partition_aware ? "TASK_DROPPED" : "TASK_LOST";
		reason = "REASON_INVALID_OFFERS";
		snprintf(err, sizeof(err), "Task launched with invalid offers: the offered resources "
					   "were taken by another launch on the agent since the offer "
					   "was made");
	}
	resources_release(&sum);
	if (err[0]) {
		char msg[700];
		snprintf(msg, sizeof(msg), "Task group refused: %s", err);
		json_array_foreach(tis, i, ti)
			refuse_task(fw, ti, a->id, state, reason, msg);
		json_decref(gexec);
		return;
	}
	/* The group is killed together (fw-tasks.c, and by its executor): its id is its first
	 * task's. */
	accept_launch(fw, a, tis, role, remaining,
		      json_string_value(json_object_get(
			      json_object_get(json_array_get(tis, 0), "task_id"), "value")),
		      gexec);
	json_decref(gexec);
}

/* "RESERVE" for the operation type "RESERVE" (etc.), or NULL: reservation operations. */
static const char *resv_op_name(const char *type)
{
	static const char *const ops[] = { "RESERVE", "UNRESERVE", "CREATE", "DESTROY" };
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
		if (!strcmp(type, ops[i]))
			return ops[i];
	return NULL;
}

/* RESERVE / UNRESERVE / CREATE / DESTROY against the accepted offers (remaining) and the
 * agent (reservations.c); a refused operation changes nothing and is dropped, as Mesos
 * drops invalid operations. */
static void accept_resv(struct fw_framework *fw, struct m_agent *a, const json_t *op,
			const char *type, const char *bad, struct resources *remaining)
{
	static const struct {
		const char *type, *field, *list;
	} map[] = { { "RESERVE", "reserve", "resources" },
		    { "UNRESERVE", "unreserve", "resources" },
		    { "CREATE", "create", "volumes" },
		    { "DESTROY", "destroy", "volumes" } };
	size_t k = 0;
	while (k + 1 < ARRAY_SIZE(map) && strcmp(map[k].type, type))
		k++;
	const json_t *arr = json_object_get(json_object_get(op, map[k].field), map[k].list);
	char err[600];
	int r = -EINVAL;
	if (bad[0]) {
		snprintf(err, sizeof(err), "%s", bad);
	} else {
		/* A framework reserves (and uses reservations) only for its own roles. */
		struct resources asked = RESOURCES_INIT;
		err[0] = '\0';
		r = mesos_resources_from_json(arr, &asked, err, sizeof(err));
		for (size_t j = 0; r == 0 && j < asked.n; j++) {
			if (strcmp(asked.v[j].role, "*") && !fw_has_role(fw, asked.v[j].role)) {
				snprintf(err, sizeof(err), "Invalid %s: role '%s' is not one of the "
							   "framework's roles", type, asked.v[j].role);
				r = -EINVAL;
			}
		}
		resources_release(&asked);
		if (r == 0)
			r = resv_agent_apply(fw->fws->m, a, remaining, type, arr, err, sizeof(err));
	}
	if (r < 0) {
		log_info("frameworks", "framework '%s': %s refused: %s", fw->id, type, err);
		fw_op_status(fw, op, a ? a->id : NULL, "OPERATION_ERROR", err);
	} else {
		fw_op_status(fw, op, a->id, "OPERATION_FINISHED", NULL);
	}
}

/* GROW_VOLUME / SHRINK_VOLUME against the accepted offers (resv-resize.c); a refused
 * operation changes nothing and is dropped, as Mesos drops invalid operations. */
static void accept_resize(struct fw_framework *fw, struct m_agent *a, const json_t *op,
			  const char *type, const char *bad, struct resources *remaining)
{
	bool grow = !strcmp(type, "GROW_VOLUME");
	const json_t *body = json_object_get(op, grow ? "grow_volume" : "shrink_volume");
	char err[600];
	int r = -EINVAL;
	if (bad[0]) {
		snprintf(err, sizeof(err), "%s", bad);
	} else {
		const json_t *rs = json_object_get(json_object_get(body, "volume"), "reservations");
		const char *role = json_string_value(json_object_get(
			json_array_size(rs) ? json_array_get(rs, json_array_size(rs) - 1) :
					      json_object_get(body, "volume"),
			"role"));
		if (role && strcmp(role, "*") && !fw_has_role(fw, role))
			snprintf(err, sizeof(err), "Invalid %s: role '%s' is not one of the "
						   "framework's roles", type, role);
		else
			r = resv_agent_resize(fw->fws->m, a, remaining, grow, body, err,
					      sizeof(err));
	}
	if (r < 0) {
		log_info("frameworks", "framework '%s': %s refused: %s", fw->id, type, err);
		fw_op_status(fw, op, a ? a->id : NULL, "OPERATION_ERROR", err);
	} else {
		fw_op_status(fw, op, a->id, "OPERATION_FINISHED", NULL);
	}
}

int fw_call_accept(struct fw_framework *fw, const json_t *accept, char *err, size_t errlen)
{
	struct frameworks *fws = fw->fws;
	const json_t *ids = json_object_get(accept, "offer_ids");
	const json_t *ops = json_object_get(accept, "operations");
	if (!json_is_array(ids) || json_array_size(ids) > MAX_OFFERS_PER_CALL) {
		snprintf(err, errlen, "'accept.offer_ids' must be an array of at most %d ids",
			 MAX_OFFERS_PER_CALL);
		return -EINVAL;
	}
	if ((ops && !json_is_array(ops)) || json_array_size(ops) > 1024) {
		snprintf(err, errlen, "'accept.operations' must be an array of operations");
		return -EINVAL;
	}
	size_t i;
	const json_t *op;
	json_array_foreach(ops, i, op) {
		const char *t = json_string_value(json_object_get(op, "type"));
		if (!t) {
			snprintf(err, errlen, "'accept.operations[%zu].type' is required", i);
			return -EINVAL;
		}
		if (!strcmp(t, "LAUNCH") &&
		    !json_is_array(json_object_get(json_object_get(op, "launch"), "task_infos"))) {
			snprintf(err, errlen, "'accept.operations[%zu].launch.task_infos' is required",
				 i);
			return -EINVAL;
		}
	}
	struct fw_offer *offers[MAX_OFFERS_PER_CALL];
	char bad[300];
	size_t n = find_offers(fw, ids, offers, ARRAY_SIZE(offers), bad, sizeof(bad));
	struct m_agent *a = n ? hmap_get(&fws->m->agents, offers[0]->agent_id) : NULL;
	if (!bad[0] && !n)
		snprintf(bad, sizeof(bad), "No offers specified");
	if (!bad[0] && (!a || a->state != AGENT_CONNECTED))
		snprintf(bad, sizeof(bad), "Agent of the offers is no longer connected");
	struct resources remaining = RESOURCES_INIT;
	for (size_t k = 0; k < n; k++)
		resources_add(&remaining, &offers[k]->res);
	char *agent_id = a ? xstrdup(a->id) : NULL;
	/* The offers' allocation role: the role the launched tasks are accounted to. */
	char *role = xstrdup(n ? offers[0]->role : "*");
	for (size_t k = 0; k < n; k++)
		fw_offer_remove(fws, offers[k], false);
	json_array_foreach(ops, i, op) {
		const char *t = json_string_value(json_object_get(op, "type"));
		if (!strcmp(t, "LAUNCH") || !strcmp(t, "LAUNCH_GROUP")) {
			const json_t *tis =
				!strcmp(t, "LAUNCH") ?
					json_object_get(json_object_get(op, "launch"), "task_infos") :
					json_object_get(json_object_get(json_object_get(op, "launch_group"),
									"task_group"),
							"tasks");
			if (bad[0]) {
				char msg[400];
				snprintf(msg, sizeof(msg), "Task launched with invalid offers: %s", bad);
				size_t j;
				const json_t *ti;
				json_array_foreach(tis, j, ti)
					refuse_task(fw, ti, agent_id,
						    fw->partition_aware ? "TASK_DROPPED" : "TASK_LOST",
						    "REASON_INVALID_OFFERS", msg);
			} else if (!strcmp(t, "LAUNCH_GROUP")) {
				accept_launch_group(
					fw, a, tis,
					json_object_get(json_object_get(op, "launch_group"),
							"executor"),
					role, &remaining);
			} else {
				accept_launch(fw, a, tis, role, &remaining, NULL, NULL);
			}
		} else if (resv_op_name(t)) {
			accept_resv(fw, a, op, t, bad, &remaining);
		} else if (!strcmp(t, "GROW_VOLUME") || !strcmp(t, "SHRINK_VOLUME")) {
			accept_resize(fw, a, op, t, bad, &remaining);
		} else {
			log_info("frameworks", "framework '%s': operation '%s' is not supported, "
					       "ignored", fw->id, t);
		}
	}
	/* What the ACCEPT left unused is declined with its filter. */
	if (!bad[0] && agent_id && remaining.n)
		fw_filter_add(fw, agent_id, fw_refuse_seconds(json_object_get(accept, "filters")));
	resources_release(&remaining);
	free(agent_id);
	free(role);
	return 0;
}
