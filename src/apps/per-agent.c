/* Per-agent apps (label BERTH_PER_AGENT=true; docs/api.md "Per-agent apps"): a Logstash on
 * every machine. The app's instance count is not the client's but the number of agents it
 * may run on, and each instance is bound to one agent (pinned_agent, which place() honours).
 *
 * Invariants, after per_agent_reconcile(ma):
 *  - every agent the app may run on holds exactly one instance of ma whose goal is not STOP
 *    (running, waiting to launch there, or held by the operator: instctl.c);
 *  - no other instance of ma has a goal other than STOP (a bound agent that left, drains,
 *    is gone or no longer matches the constraints sees its instance stopped);
 *  - def->instances (and "instances" in its JSON) is that number of agents, so that GET
 *    /v2/apps shows what runs, and the scale step of the pass (schedule.c) changes nothing.
 *
 * "May run on": the agent is known and reachable, not draining (maintenance included) and
 * matches the app's constraints (evaluated per agent: UNIQUE and the like hold trivially,
 * one instance per agent). A deactivated or disconnected agent keeps the instance it has
 * but gets none new. The resource manager never forgets an agent (rm.h), so a re-registered
 * agent is the same entry. Cost: O(agents + instances of ma) per call; the pass calls it for
 * a per-agent app when the app is looked at (an agent event touches every app). */
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "apps/apps-int.h"

/* May ma keep an instance on a (keep) and may it get a new one there (add)? */
static void agent_fit(const struct app *def, const struct m_agent *a,
		      const struct placement_target *const *all, size_t nall, bool *keep,
		      bool *add)
{
	*keep = *add = false;
	if (a->state == AGENT_UNREACHABLE || a->drain != AGENT_DRAIN_NONE || a->maint_draining)
		return;
	if (def->nconstraints) {
		struct placement_target cand = { a->hostname, &a->attrs };
		if (!constraints_allow(def->constraints, def->nconstraints, &cand, NULL, 0, all,
				       nall))
			return;
	}
	*keep = true;
	*add = a->state == AGENT_CONNECTED && !a->deactivated;
}

void per_agent_reconcile(struct apps *m, struct m_app *ma, void (*txn_begin)(void *ctx),
			 void *ctx)
{
	struct app *def = ma->def;
	const struct hmap *agents = rm_agents(m->rm);
	size_t na = hmap_len(agents);
	/* every reachable agent, for GROUP_BY's distinct values */
	struct placement_target *all = xcalloc(na + 1, sizeof(*all));
	const struct placement_target **allp = xcalloc(na + 1, sizeof(*allp));
	size_t nall = 0;
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(agents, &i, &k, &v);) {
		const struct m_agent *a = v;
		if (a->state == AGENT_UNREACHABLE)
			continue;
		all[nall] = (struct placement_target){ a->hostname, &a->attrs };
		allp[nall] = &all[nall];
		nall++;
	}
	/* The instances by the agent they are bound to; a second one on an agent stops. */
	struct hmap bound;
	hmap_init(&bound);
	bool changed = false;
	for (size_t i = 0; i < ma->ninst; i++) {
		struct m_instance *in = ma->inst[i];
		if (in->goal == GOAL_STOP)
			continue;
		struct m_agent *a = in->pinned_agent ? rm_agent_get(m->rm, in->pinned_agent) : NULL;
		bool keep = false, add = false;
		if (a)
			agent_fit(def, a, allp, nall, &keep, &add);
		if (!keep || hmap_get(&bound, a->id)) {
			log_info("master", "per-agent app '%s': instance %u leaves agent '%s'", def->id,
				 in->index, in->pinned_agent ? in->pinned_agent : "(none)");
			apps_set_goal(in, GOAL_STOP);
			changed = true;
			continue;
		}
		hmap_put(&bound, a->id, in);
	}
	int64_t count = (int64_t)hmap_len(&bound);
	for (size_t i = 0; hmap_next(agents, &i, &k, &v);) {
		struct m_agent *a = v;
		if (hmap_get(&bound, a->id))
			continue;
		bool keep, add;
		agent_fit(def, a, allp, nall, &keep, &add);
		if (!add)
			continue;
		struct m_instance *in = apps_add_instance(m, ma, apps_lowest_free_index(ma), NULL);
		in->pinned_agent = xstrdup(a->id);
		apps_inst_recount(in);
		if (!ma->waiting_since)
			ma->waiting_since = time_real_usec();
		log_info("master", "per-agent app '%s': instance %u for agent '%s'", def->id,
			 in->index, a->id);
		count++;
		changed = true;
	}
	hmap_release(&bound);
	free(all);
	free(allp);
	if (count != def->instances) {
		def->instances = count;
		json_object_set_new(def->json, "instances", json_integer(count));
		txn_begin(ctx);
		int r = apps_store_app(m, ma);
		if (r < 0)
			log_error("master", "cannot persist app '%s': %s", def->id, strerror(-r));
		changed = true;
	}
	if (changed)
		apps_changed(ma);
}
