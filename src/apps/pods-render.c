/* Pods in Marathon's JSON: PodStatus, PodInstanceStatus and their containers (RAML
 * types/podStatus.raml, pod-instance-status.raml, container-status.raml; the keys as
 * Marathon's PodStatusConversion writes them), and pod deployments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/timeutil.h"
#include "model/pod.h"
#include "model/task.h"
#include "apps/pods-int.h"

static json_t *iso(uint64_t usec)
{
	char b[32];
	return json_string(time_iso8601(usec, b));
}

/* The instance's PodInstanceState. */
static const char *inst_state(const struct pod_inst *pi)
{
	if (pi->phase == POD_PENDING)
		return "PENDING";
	if (pi->kill_sent || pi->stop)
		return "TERMINAL";
	bool staging = false, running = true, unhealthy = false;
	for (size_t i = 0; i < pi->nctr; i++) {
		const char *s = pi->ctr[i].state;
		if (!s || task_state_terminal(s))
			return "TERMINAL";
		if (!strcmp(s, "TASK_STAGING") || !strcmp(s, "TASK_STARTING"))
			staging = true;
		if (strcmp(s, "TASK_RUNNING"))
			running = false;
		else if (!pods_ctr_ok(pi, i))
			unhealthy = true; /* Marathon: a "healthy" condition "false" */
	}
	return running ? (unhealthy ? "DEGRADED" : "STABLE") : staging ? "STAGING" : "DEGRADED";
}

static json_t *res_json(const json_t *r)
{
	return json_pack("{s:f, s:f, s:f, s:i}", "cpus",
			 json_number_value(json_object_get(r, "cpus")), "mem",
			 json_number_value(json_object_get(r, "mem")), "disk",
			 json_number_value(json_object_get(r, "disk")), "gpus",
			 (int)json_integer_value(json_object_get(r, "gpus")));
}

json_t *pods_render_instance(struct apps *m, const struct pod_inst *pi)
{
	const json_t *def = json_object_get(pi->pod->versions, pi->version);
	if (!def)
		def = pi->pod->def;
	const json_t *cs = json_object_get(def, "containers");
	uint64_t now = time_real_usec();
	json_t *ctrs = json_array();
	double cpus = 0, mem = 0, disk = 0;
	long long gpus = 0;
	for (size_t i = 0; i < pi->nctr && pi->phase == POD_LIVE; i++) {
		const struct pod_ctr *pc = &pi->ctr[i];
		const json_t *c = json_array_get(cs, i);
		const json_t *r = json_object_get(c, "resources");
		json_t *eps = json_array();
		size_t k;
		const json_t *ep;
		json_array_foreach(json_object_get(c, "endpoints"), k, ep) {
			json_t *e = json_pack("{s:O}", "name", json_object_get(ep, "name"));
			if (k < pc->nports)
				json_object_set_new(e, "allocatedHostPort", json_integer(pc->ports[k]));
			json_array_append_new(eps, e);
		}
		json_t *o = json_pack("{s:s, s:s, s:o, s:[], s:s, s:o, s:o, s:o, s:o}", "name",
				      pc->name, "status", pc->state ? pc->state : "TASK_STAGING",
				      "statusSince", iso(pc->since_usec), "conditions", "containerId",
				      pc->task_id, "endpoints", eps, "resources", res_json(r),
				      "lastUpdated", iso(now), "lastChanged", iso(pc->since_usec));
		if (pc->message && *pc->message)
			json_object_set_new(o, "message", json_string(pc->message));
		if (pc->state && !strcmp(pc->state, "TASK_RUNNING") && pods_ctr_checked(pi, i)) {
			/* Marathon's PodStatusConversion: the "healthy" condition */
			uint64_t since = pc->healthy >= 0 ? pc->health_usec : pc->since_usec;
			json_array_append_new(
				json_object_get(o, "conditions"),
				json_pack("{s:s, s:o, s:o, s:s, s:s}", "name", "healthy",
					  "lastChanged", iso(since), "lastUpdated", iso(now), "value",
					  pc->healthy == 1 ? "true" : "false", "reason",
					  pc->healthy >= 0 ? "health-reported-by-mesos"
							   : "health-unreported-by-mesos"));
		}
		if (pc->state && task_state_terminal(pc->state)) {
			json_t *t = json_object();
			if (pc->exit_code >= 0)
				json_object_set_new(t, "exitCode", json_integer(pc->exit_code));
			if (pc->message)
				json_object_set_new(t, "message", json_string(pc->message));
			json_object_set_new(o, "termination", t);
		}
		json_array_append_new(ctrs, o);
	}
	for (size_t i = 0; i < json_array_size(cs); i++) {
		const json_t *r = json_object_get(json_array_get(cs, i), "resources");
		cpus += json_number_value(json_object_get(r, "cpus"));
		mem += json_number_value(json_object_get(r, "mem"));
		disk += json_number_value(json_object_get(r, "disk"));
		gpus += json_integer_value(json_object_get(r, "gpus"));
	}
	const json_t *er = json_object_get(def, "executorResources");
	cpus += json_number_value(json_object_get(er, "cpus"));
	mem += json_number_value(json_object_get(er, "mem"));
	disk += json_number_value(json_object_get(er, "disk"));
	char ref[APP_MAX_ID_LEN + 64];
	snprintf(ref, sizeof(ref), "/v2/pods%s::versions/%s", pi->pod->id, pi->version);
	json_t *o = json_pack("{s:s, s:s, s:o, s:[], s:{s:f, s:f, s:f, s:I}, s:[], s:o, s:s,"
			      " s:o, s:o}",
			      "id", pi->id, "status", inst_state(pi), "statusSince",
			      iso(pi->changed_usec), "conditions", "resources", "cpus", cpus, "mem",
			      mem, "disk", disk, "gpus", (json_int_t)gpus, "networks", "containers",
			      ctrs, "specReference", ref, "lastUpdated", iso(now), "lastChanged",
			      iso(pi->changed_usec));
	bool sick = false, running = pi->phase == POD_LIVE && !pi->kill_sent && !pi->stop;
	for (size_t i = 0; i < pi->nctr && running; i++) {
		running = pi->ctr[i].state && !strcmp(pi->ctr[i].state, "TASK_RUNNING");
		sick = sick || !pods_ctr_ok(pi, i);
	}
	if (running && sick)
		json_object_set_new(o, "message", json_string("at least one container is not "
							      "healthy"));
	if (pi->agent_id) {
		struct m_agent *a = rm_agent_get(m->rm, pi->agent_id);
		if (a)
			json_object_set_new(o, "agentHostname", json_string(a->hostname));
		json_object_set_new(o, "agentId", json_string(pi->agent_id));
	}
	return o;
}

json_t *pods_render_status(struct apps *m, struct m_pod *mp)
{
	json_t *insts = json_array();
	size_t stable = 0;
	for (size_t i = 0; i < mp->ninst; i++) {
		json_t *o = pods_render_instance(m, mp->inst[i]);
		if (!strcmp(json_string_value(json_object_get(o, "status")), "STABLE") &&
		    !strcmp(mp->inst[i]->version, mp->config_version))
			stable++;
		json_array_append_new(insts, o);
	}
	const char *st = mp->deleting ? "TERMINAL"
			 : stable >= (size_t)pod_instances(mp->def) ? "STABLE"
								      : "DEGRADED";
	uint64_t now = time_real_usec();
	if (!mp->status || strcmp(mp->status, st)) {
		mp->status = st;
		mp->status_since_usec = now;
	}
	json_t *o = json_pack("{s:s, s:O, s:s, s:o, s:o, s:o, s:o}", "id", mp->id, "spec",
			      mp->def, "status", st, "statusSince", iso(mp->status_since_usec),
			      "instances", insts, "lastUpdated", iso(now), "lastChanged",
			      iso(mp->status_since_usec));
	if (json_array_size(mp->history))
		json_object_set(o, "terminationHistory", mp->history);
	return o;
}

json_t *pods_render_deployment(const struct m_pod *mp)
{
	const struct pod_dep *d = mp->deploy;
	json_t *act = json_pack("{s:s, s:s}", "action", d->action, "pod", mp->id);
	json_t *cur = json_pack("{s:s, s:s, s:[]}", "action", d->action, "pod", mp->id,
				"readinessCheckResults");
	return json_pack("{s:s, s:s, s:[], s:[s], s:[{s:[o]}], s:[o], s:i, s:i}", "id", d->id,
			 "version", d->version, "affectedApps", "affectedPods", mp->id, "steps",
			 "actions", act, "currentActions", cur, "currentStep", 1, "totalSteps", 1);
}

void pods_deployments(struct apps *m, json_t *arr)
{
	const char *k;
	void *v;
	for (size_t i = 0; m->pods && hmap_next(&m->pods->pods, &i, &k, &v);) {
		const struct m_pod *mp = v;
		if (mp->deploy)
			json_array_append_new(arr, pods_render_deployment(mp));
	}
}

static int by_id(const void *a, const void *b)
{
	return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "id")),
		      json_string_value(json_object_get(*(json_t *const *)b, "id")));
}

json_t *pods_in_group(struct apps *m, const char *gid)
{
	json_t *out = json_array();
	if (!m->pods)
		return out;
	size_t glen = strlen(gid), n = 0;
	json_t **v = xcalloc(hmap_len(&m->pods->pods) + 1, sizeof(*v));
	const char *k;
	void *x;
	for (size_t i = 0; hmap_next(&m->pods->pods, &i, &k, &x);) {
		const struct m_pod *mp = x;
		const char *slash = strrchr(mp->id, '/');
		size_t plen = (size_t)(slash - mp->id);
		bool in = !strcmp(gid, "/") ? plen == 0
					    : plen == glen && !strncmp(mp->id, gid, glen);
		if (in && !mp->deleting)
			v[n++] = mp->def;
	}
	qsort(v, n, sizeof(*v), by_id);
	for (size_t i = 0; i < n; i++)
		json_array_append(out, v[i]);
	free(v);
	return out;
}

json_t *pods_queue(struct apps *m, bool last_unused, struct evhttp_request *req)
{
	json_t *out = json_array();
	if (!m->pods)
		return out;
	uint64_t now = time_mono_usec();
	const char *k;
	void *x;
	for (size_t i = 0; hmap_next(&m->pods->pods, &i, &k, &x);) {
		const struct m_pod *mp = x;
		if (mp->deleting || (req && !apps_visible(m, req, mp->id)))
			continue;
		int count = 0;
		uint64_t since = 0;
		for (size_t j = 0; j < mp->ninst; j++) {
			const struct pod_inst *pi = mp->inst[j];
			if (pi->phase != POD_PENDING || pi->stop)
				continue;
			count++;
			if (!since || pi->created_usec < since)
				since = pi->created_usec;
		}
		if (!count)
			continue;
		double left = mp->delay_until_usec > now
				      ? (double)(mp->delay_until_usec - now) / 1e6 : 0;
		char ts[32];
		time_iso8601(since, ts);
		json_t *item = json_pack(
			"{s:i, s:{s:i, s:b}, s:s, s:{s:i, s:i, s:[], s:[]}, s:O}", "count", count,
			"delay", "timeLeftSeconds", (int)(left + 0.999), "overdue", left <= 0,
			"since", ts, "processedOffersSummary", "processedOffersCount", 0,
			"unusedOffersCount", 0, "rejectSummaryLastOffers",
			"rejectSummaryLaunchAttempt", "pod", mp->def);
		if (last_unused)
			json_object_set_new(item, "lastUnusedOffers", json_array());
		json_array_append_new(out, item);
	}
	return out;
}
