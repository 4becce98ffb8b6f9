/* In-place resize of an app's running tasks (issue 14, MESOS-1279; docs/api.md):
 * PATCH /v2/apps/{id}?inPlace=true that changes cpus and/or mem only.
 *
 * Invariants:
 *  - Either every placed instance of the app is resized, or none is (the change then goes
 *    the usual way: a rolling restart). The growth of every instance is taken from its agent
 *    through the resource manager (rm_take; the ledger is the only writer of the agents'
 *    resources) before anything else changes; one take that does not fit gives back the
 *    takes made so far (apps_resize_undo).
 *  - Only after the new definition is committed are the instances changed (apply): their
 *    resources grow by what was taken, shrinks are given back (rm_give), their version
 *    becomes the new one (so the scheduler restarts none of them), they are stored, and each
 *    agent gets a RESIZE record for its task (agent-protocol.md), which sets the task's
 *    cgroup limits. An instance's res is thus always what the ledger holds for it. */
#include <stdio.h>
#include <string.h>

#include "apps/apps-int.h"
#include "base/log.h"
#include "base/mem.h"

struct resize_step {
	struct m_instance *in;
	struct m_agent *a;
	struct resources grow, shrink;
	bool taken;
};

struct apps_resize {
	struct resize_step *v;
	size_t n;
	double cpus, mem;
};

/* Whether def changes old in cpus and/or mem and in nothing else. */
static bool only_cpus_mem(const struct app *old, const struct app *def)
{
	if (old->cpus == def->cpus && old->mem == def->mem)
		return false;
	json_t *a = json_deep_copy(old->json), *b = json_deep_copy(def->json);
	static const char *const drop[] = { "cpus", "mem", "version", "versionInfo" };
	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++) {
		json_object_del(a, drop[i]);
		json_object_del(b, drop[i]);
	}
	bool eq = json_equal(a, b);
	json_decref(a);
	json_decref(b);
	return eq;
}

/* Splits the change of one scalar (have → want) into the growth, taken unreserved, and the
 * shrink, given back from the roles that hold it ("*" first, then role). */
static void split(const struct resources *have, const char *name, double want, const char *role,
		  struct resources *grow, struct resources *shrink)
{
	double cur = resources_scalar(have, name, "*") +
		     (strcmp(role, "*") ? resources_scalar(have, name, role) : 0);
	if (want > cur) {
		resources_add_scalar(grow, name, "*", want - cur);
		return;
	}
	double left = cur - want;
	double from_any = resources_scalar(have, name, "*");
	double d = left < from_any ? left : from_any;
	if (d > 0)
		resources_add_scalar(shrink, name, "*", d);
	if (left - d > 1e-9 && strcmp(role, "*"))
		resources_add_scalar(shrink, name, role, left - d);
}

void apps_resize_undo(struct apps *m, struct apps_resize *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n; i++) {
		struct resize_step *s = &rs->v[i];
		if (s->taken)
			rm_give(m->rm, s->a, s->in->res_role, m->client, &s->grow);
		resources_release(&s->grow);
		resources_release(&s->shrink);
	}
	free(rs->v);
	free(rs);
}

int apps_resize_prepare(struct apps *m, struct m_app *ma, const struct app *def,
			struct apps_resize **out, char *why, size_t whylen)
{
	*out = NULL;
	if (!only_cpus_mem(ma->def, def)) {
		snprintf(why, whylen, "the change is not only to cpus and mem");
		return -EINVAL;
	}
	if (ma->def->resident) {
		snprintf(why, whylen, "the app has local persistent volumes (reserved resources)");
		return -EINVAL;
	}
	struct apps_resize *rs = xcalloc(1, sizeof(*rs));
	rs->cpus = def->cpus;
	rs->mem = def->mem;
	rs->v = xcalloc(ma->ninst + 1, sizeof(*rs->v));
	for (size_t i = 0; i < ma->ninst; i++) {
		struct m_instance *in = ma->inst[i];
		if (in->phase != INST_LIVE || !in->agent_id || !in->res_role)
			continue; /* no task holds resources: it starts with the new definition */
		struct m_agent *a = rm_agent_get(m->rm, in->agent_id);
		/* A RESIZE must reach the agent now: none is re-sent after a reconnection. */
		if (!a || in->kill_sent || a->state != AGENT_CONNECTED || (!a->stream && !a->sim)) {
			snprintf(why, whylen, "task '%s' is being stopped or its agent is not "
				 "connected", in->task_id);
			apps_resize_undo(m, rs);
			return -EAGAIN;
		}
		struct resize_step *s = &rs->v[rs->n++];
		s->in = in;
		s->a = a;
		resources_init(&s->grow);
		resources_init(&s->shrink);
		split(&in->res, "cpus", def->cpus, def->role, &s->grow, &s->shrink);
		split(&in->res, "mem", def->mem, def->role, &s->grow, &s->shrink);
		if (s->grow.n && rm_take(m->rm, a, in->res_role, m->client, &s->grow) < 0) {
			char *g = resources_format(&s->grow);
			snprintf(why, whylen, "agent '%s' has no room for %s more (task '%s')",
				 a->hostname, g, in->task_id);
			free(g);
			apps_resize_undo(m, rs);
			return -ENOSPC;
		}
		s->taken = s->grow.n > 0;
	}
	*out = rs;
	return 0;
}

void apps_resize_apply(struct apps *m, struct apps_resize *rs, const char *version)
{
	for (size_t i = 0; i < rs->n; i++) {
		struct resize_step *s = &rs->v[i];
		struct m_instance *in = s->in;
		resources_add(&in->res, &s->grow);
		if (s->shrink.n) {
			rm_give(m->rm, s->a, in->res_role, m->client, &s->shrink);
			resources_subtract(&in->res, &s->shrink);
		}
		s->taken = false;
		snprintf(in->version, sizeof(in->version), "%s", version);
		apps_inst_recount(in);
		int r = apps_store_instance(m, in);
		if (r < 0)
			log_warn("master", "task '%s': cannot store its new resources: %s",
				 in->task_id, strerror(-r));
		json_t *rec = json_pack("{s:s, s:s, s:{s:f, s:f}}", "type", "RESIZE", "task_id",
					in->task_id, "resources", "cpus", rs->cpus, "mem", rs->mem);
		if (rm_send(s->a, rec) < 0)
			log_warn("master", "task '%s': its agent is away: the RESIZE is not sent",
				 in->task_id);
		log_info("master", "task '%s' resized in place to cpus %g, mem %g", in->task_id,
			 rs->cpus, rs->mem);
	}
	apps_resize_undo(m, rs);
}
