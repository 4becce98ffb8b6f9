/* The scheduling pass of the apps framework: scale, replace, place and launch.
 *
 * A pass runs after every change (API call, status update, agent event) and on a 250 ms
 * tick (for backoff delays and agent timeouts). It is idempotent: running it twice in a row
 * does nothing the second time. All store writes of one pass go in one transaction, which
 * is committed before any LAUNCH it decided is sent (see apps.c's invariants).
 *
 * Slices: a pass stops deciding once it has worked PASS_BUDGET_USEC (pass_over_budget),
 * commits what it decided, sends its launches and asks for another pass on the next loop
 * turn; requests and status updates are served in between. Where it stopped is kept: the
 * app it was at (apps.pass_cursor), and in that app the stop scan's place (stop_cursor,
 * going down) and the launch scan's (launch_cursor). So deleting or scaling an app of
 * 1,000,000 instances is many short turns, each durable on its own: a crash between two
 * leaves a state the next master finishes from (the app's definition or its deleting/
 * record is committed before the first slice). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/strbuf.h"
#include "base/util.h"
#include "base/timeutil.h"
#include "json/jtext.h"
#include "apps/apps-int.h"

/* Launches decided in one pass; more wait for the next pass (scheduled at once), so a huge
 * scale-up does not build one huge batch of records. */
#define PASS_MAX_LAUNCHES 5000
/* The work of one slice of a pass (pass_over_budget). */
#define PASS_BUDGET_USEC 8000u
/* How often a pass looks at every app, changed or not. */
#define FULL_PASS_USEC (5u * 1000000u)

struct pending_launch {
	struct m_instance *in;
	json_t *record;
};

/* Where one app's round-robin over the pass's agents stands. Agents are not copied per app:
 * the app scans on from its cursor; a scan that comes round to where it started without a
 * fit ends the app's placements for this pass. Cost: O(placements + one full scan) per app
 * and pass, whatever the number of agents, as long as most agents have room. */
struct rotation {
	size_t cursor;
	const struct m_app *app; /* whose cursor this is; NULL = none yet */
	bool exhausted;
};

struct pass {
	struct apps *m;
	bool txn;
	struct pending_launch *launches;
	size_t nlaunch, cap;
	struct m_agent **agents; /* every agent (apps.agents, borrowed), on first use */
	size_t nagents;
	bool have_agents;
	struct rotation rot;
	bool more;               /* stopped at PASS_MAX_LAUNCHES or its budget: run again */
	struct alloc_ctx *ac;    /* the allocation order (the resource manager's) */
	uint64_t t0;             /* monotonic: when the pass began */
	int draining;            /* is an agent draining: -1 not looked yet, 0, 1 */
};

/* Has this slice of the pass used its time? Then it stops where it is (each loop below
 * keeps its place in the app) and asks for another slice on the next loop turn, so that
 * no turn of the event loop spends more than about this, plus the commit and the sends,
 * on the pass however large the apps. */
static bool pass_over_budget(struct pass *p)
{
	if (p->more)
		return true;
	if (time_mono_usec() - p->t0 < PASS_BUDGET_USEC)
		return false;
	p->more = true;
	return true;
}

/* Is an agent draining? Looked up at most once a second (an O(agents) walk), and at once
 * after the resource manager says one began (op_agent_draining). */
static bool pass_any_draining(struct pass *p)
{
	struct apps *m = p->m;
	if (p->draining < 0 && p->t0 - m->drain_checked_usec >= 1000000) {
		m->any_drain = false;
		m->ndraining = 0;
		const char *k;
		void *v;
		for (size_t i = 0; hmap_next(rm_agents(m->rm), &i, &k, &v);) {
			struct m_agent *a = v;
			if (a->drain != AGENT_DRAINING && !a->maint_draining) /* inverse offer */
				continue;
			m->any_drain = true;
			if (m->ndraining == m->draining_cap) {
				m->draining_cap = m->draining_cap ? 2 * m->draining_cap : 8;
				m->draining = xrealloc(m->draining,
						       m->draining_cap * sizeof(*m->draining));
			}
			m->draining[m->ndraining++] = a;
		}
		m->drain_checked_usec = p->t0;
	}
	p->draining = m->any_drain;
	return m->any_drain;
}

static void pass_txn(struct pass *p)
{
	if (!p->txn && store_txn_begin(p->m->store) == 0)
		p->txn = true;
}

static void pass_txn_cb(void *p)
{
	pass_txn(p);
}

/* ---- placement ---- */

/* The roles a task of def may take resources from, most specific first: the app's role,
 * then unreserved ("*"), narrowed by acceptedResourceRoles when the app sets them. */
static size_t allowed_roles(const struct app *def, const char *roles[2])
{
	const char *cand[2] = { def->role, "*" };
	size_t ncand = strcmp(def->role, "*") ? 2 : 1;
	json_t *acc = json_object_get(def->json, "acceptedResourceRoles");
	size_t n = 0;
	for (size_t i = 0; i < ncand; i++) {
		bool ok = !json_is_array(acc) || !json_array_size(acc);
		size_t k;
		json_t *r;
		json_array_foreach(acc, k, r) {
			if (json_is_string(r) && !strcmp(json_string_value(r), cand[i]))
				ok = true;
		}
		if (ok)
			roles[n++] = cand[i];
	}
	return n;
}

/* What one task of def takes from free (plus extra_disk): each scalar from the allowed roles
 * in order, the ports all from one allowed role. Fills out (cleared first) and ports.
 * Returns 0, or -ENOSPC when it does not fit (out then undefined, still releasable). */
static int allocate(const struct app *def, const struct resources *free, double extra_disk,
		    const uint32_t *want, uint32_t *ports, struct resources *out)
{
	const char *roles[2];
	size_t nroles = allowed_roles(def, roles);
	resources_release(out);
	resources_init(out);
	const struct {
		const char *name;
		double amount;
	} sc[] = { { "cpus", def->cpus }, { "mem", def->mem }, { "disk", def->disk + extra_disk },
		   { "gpus", def->gpus } };
	for (size_t i = 0; i < ARRAY_SIZE(sc); i++) {
		double left = sc[i].amount;
		for (size_t r = 0; r < nroles && left > 1e-9; r++) {
			double avail = resources_scalar(free, sc[i].name, roles[r]);
			double take = avail < left ? avail : left;
			if (take > 1e-9) {
				resources_add_scalar(out, sc[i].name, roles[r], take);
				left -= take;
			}
		}
		if (left > 1e-6)
			return -ENOSPC;
	}
	if (!def->nports)
		return 0;
	for (size_t r = 0; r < nroles; r++) {
		if (resources_pick_ports(free, roles[r], want, def->nports, ports) == 0) {
			for (size_t i = 0; i < def->nports; i++)
				resources_add_range(out, "ports", roles[r], ports[i], ports[i]);
			return 0;
		}
	}
	return -ENOSPC;
}

/* Is an external volume (resolved name) held by a live task of any app other than in?
 * Counted by name as tasks start and end (inst-count.c): O(1). */
bool apps_volume_busy(struct apps *m, const char *name, const struct m_instance *self)
{
	return apps_volume_held(m, name, self);
}

/* Disk a resident instance reserves on first placement for its persistent volumes. */
static double volume_disk(const struct app *def)
{
	double d = 0;
	for (size_t i = 0; i < def->nvolumes; i++)
		if (def->volumes[i].type == VOL_PERSISTENT)
			d += def->volumes[i].size;
	return d;
}

/* Picks an agent for in's next task; fills ports. NULL if none fits now. */
static struct m_agent *place(struct pass *p, struct m_instance *inst, uint32_t *ports)
{
	struct apps *m = p->m;
	struct m_app *ma = inst->app;
	const struct app *def = ma->def;
	if (inst->not_before_usec && time_mono_usec() < inst->not_before_usec)
		return NULL; /* its last agent may still be fencing itself */
	for (size_t i = 0; i < def->nvolumes; i++) {
		const struct app_volume *vol = &def->volumes[i];
		if (vol->type != VOL_EXTERNAL || vol->shared)
			continue;
		char *n = volume_name_for(vol, inst->index);
		bool busy = apps_volume_busy(m, n, inst);
		free(n);
		if (busy)
			return NULL; /* never two writers */
	}
	struct resources alloc = RESOURCES_INIT;
	double extra_disk = def->resident && !inst->pinned_agent ? volume_disk(def) : 0;
	uint32_t *want = xcalloc(def->nports + 1, sizeof(*want));
	uint32_t *got = xcalloc(def->nports + 1, sizeof(*got));
	for (size_t i = 0; i < def->nports; i++)
		want[i] = def->ports[i].host_port   ? def->ports[i].host_port
			  : def->require_ports ? def->ports[i].port
					       : 0;

	/* Constraint inputs: where the app's live tasks are is counted (ma->placed,
	 * inst-order.c); GROUP_BY also needs every value known, from every agent, once per
	 * placement (O(agents), as the candidate scan below). */
	struct placement_target *all = NULL;
	const struct placement_target **allp = NULL;
	size_t nall = 0, *group_min = NULL;
	bool group_by = false;
	for (size_t i = 0; i < def->nconstraints; i++)
		group_by |= def->constraints[i].op == C_GROUP_BY;
	if (group_by) {
		size_t na = hmap_len(rm_agents(m->rm));
		all = xcalloc(na + 1, sizeof(*all));
		allp = xcalloc(na + 1, sizeof(*allp));
		const char *k;
		void *v;
		for (size_t i = 0; hmap_next(rm_agents(m->rm), &i, &k, &v);) {
			struct m_agent *a = v;
			if (a->state == AGENT_UNREACHABLE)
				continue;
			all[nall].hostname = a->hostname;
			all[nall].attrs = &a->attrs;
			allp[nall] = &all[nall];
			nall++;
		}
		group_min = xcalloc(def->nconstraints, sizeof(*group_min));
		for (size_t i = 0; i < def->nconstraints; i++)
			if (def->constraints[i].op == C_GROUP_BY)
				group_min[i] = constraints_group_min(&def->constraints[i], &ma->placed,
								     allp, nall);
	}

	struct m_agent *best = NULL;
	unsigned best_count = 0;
	double best_mem = -1;
	struct resources tmp = RESOURCES_INIT;
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(rm_agents(m->rm), &i, &k, &v);) {
		struct m_agent *a = v;
		if (a->state != AGENT_CONNECTED || a->deactivated || a->maint_draining)
			continue;
		if (inst->pinned_agent && strcmp(inst->pinned_agent, a->id))
			continue; /* its local volumes are there */
		const struct resources *avail = rm_alloc_available(p->ac, a, def->role, &tmp);
		if (allocate(def, avail, extra_disk, want, got, &alloc) < 0)
			continue;
		if (def->nconstraints) {
			struct placement_target cand = { a->hostname, &a->attrs };
			if (!constraints_allow_counted(def->constraints, def->nconstraints, &cand,
						       &ma->placed, group_min))
				continue;
		}
		/* Spread: fewest tasks of this app, then most free memory. */
		unsigned cnt = apps_tasks_on(ma, a);
		double fm = resources_scalar(rm_agent_free(a), "mem", NULL);
		if (!best || cnt < best_count || (cnt == best_count && fm > best_mem)) {
			best = a;
			best_count = cnt;
			best_mem = fm;
			memcpy(ports, got, def->nports * sizeof(*ports));
		}
	}
	resources_release(&alloc);
	resources_release(&tmp);
	free(want);
	free(got);
	free(group_min);
	free(all);
	free(allp);
	return best;
}

/* The fast path for apps with no constraints and no volumes: round-robin over the
 * connected agents from where this app last placed, spreading its tasks evenly. */
static struct m_agent *place_fast(struct pass *p, struct m_app *ma, uint32_t *ports)
{
	const struct app *def = ma->def;
	if (!p->have_agents) {
		struct apps *m = p->m;
		size_t na = hmap_len(rm_agents(m->rm));
		if (na != m->nagents) {
			m->agents = xrealloc(m->agents, (na + 1) * sizeof(*m->agents));
			m->nagents = 0;
			const char *k;
			void *v;
			for (size_t i = 0; hmap_next(rm_agents(m->rm), &i, &k, &v);)
				m->agents[m->nagents++] = v;
		}
		p->agents = m->agents;
		p->nagents = m->nagents;
		p->have_agents = true;
	}
	struct rotation *r = &p->rot;
	if (r->app != ma) {
		r->app = ma;
		r->cursor = p->nagents ? ma->place_cursor % p->nagents : 0;
		r->exhausted = false;
	}
	if (r->exhausted || !p->nagents)
		return NULL;
	struct resources alloc = RESOURCES_INIT;
	uint32_t want[64];
	uint32_t *wantp = def->nports < 64 ? want : xcalloc(def->nports + 1, sizeof(*wantp));
	for (size_t i = 0; i < def->nports; i++)
		wantp[i] = def->ports[i].host_port   ? def->ports[i].host_port
			   : def->require_ports ? def->ports[i].port
						: 0;
	struct m_agent *found = NULL;
	struct resources tmp = RESOURCES_INIT;
	for (size_t tried = 0; tried < p->nagents; tried++) {
		struct m_agent *a = p->agents[r->cursor];
		r->cursor = (r->cursor + 1) % p->nagents;
		if (a->state != AGENT_CONNECTED || a->deactivated || a->maint_draining)
			continue;
		const struct resources *avail = rm_alloc_available(p->ac, a, def->role, &tmp);
		if (allocate(def, avail, 0, wantp, ports, &alloc) == 0) {
			found = a;
			break;
		}
	}
	if (!found)
		r->exhausted = true;
	ma->place_cursor = r->cursor;
	if (wantp != want)
		free(wantp);
	resources_release(&alloc);
	resources_release(&tmp);
	return found;
}

/* ---- launching ---- */

static bool launch(struct pass *p, struct m_instance *in)
{
	struct apps *m = p->m;
	if (p->nlaunch >= PASS_MAX_LAUNCHES) {
		p->more = true;
		return false;
	}
	struct m_app *ma = in->app;
	const struct app *def = ma->def;
	if (!rm_alloc_allows(p->ac, def))
		return false; /* its role's quota limit, or others' guarantees (quota.c) */
	uint32_t *ports = xcalloc(def->nports + 1, sizeof(*ports));
	bool fast = !def->nconstraints && !def->nvolumes && !in->pinned_agent;
	struct m_agent *a = fast ? place_fast(p, ma, ports) : place(p, in, ports);
	if (!a) {
		free(ports);
		return false;
	}
	if (def->resident && !in->pinned_agent) {
		/* First placement: reserve disk for the volumes here, for good. */
		in->pinned_agent = xstrdup(a->id);
		apps_inst_recount(in);
		json_decref(in->vols);
		in->vols = json_array();
		char safe[APP_MAX_ID_LEN + 1];
		snprintf(safe, sizeof(safe), "%s", def->id + 1);
		for (char *c = safe; *c; c++)
			if (*c == '/')
				*c = '_';
		for (size_t i = 0; i < def->nvolumes; i++) {
			const struct app_volume *vol = &def->volumes[i];
			if (vol->type != VOL_PERSISTENT)
				continue;
			char u[37];
			id_uuid4(u);
			char *pid = xasprintf("%s#%s#%s", safe, vol->container_path, u);
			json_array_append_new(in->vols,
					      json_pack("{s:s, s:s, s:f}", "containerPath",
							vol->container_path, "persistenceId", pid, "size",
							vol->size));
			free(pid);
		}
		resources_release(&in->reserved);
		resources_add_scalar(&in->reserved, "disk", "*", volume_disk(def));
		if (apps_take(m, in, a, true, p->ac) < 0)
			log_error("master", "reservation for '%s' on '%s' does not fit", in->uuid, a->id);
		log_info("master", "instance %u of '%s' pinned to agent '%s' with its volumes",
			 in->index, def->id, a->id);
	}
	in->not_before_usec = 0;
	in->attempt++;
	char tid[TASK_ID_MAX];
	task_id_format(def->id, in->uuid, in->attempt, tid);
	free(in->task_id);
	in->task_id = xstrdup(tid);
	free(in->agent_id);
	in->agent_id = xstrdup(a->id);
	free(in->ports);
	in->ports = ports;
	in->nports = def->nports;
	snprintf(in->version, sizeof(in->version), "%s", def->version);
	/* The task's share, role by role, from what is left after any reservation above. */
	uint32_t *want = xcalloc(def->nports + 1, sizeof(*want));
	for (size_t i = 0; i < def->nports; i++)
		want[i] = ports[i]; /* exactly the ports placement picked */
	struct resources tmp = RESOURCES_INIT;
	int ar = allocate(def, rm_alloc_available(p->ac, a, def->role, &tmp), 0, want, ports,
			  &in->res);
	resources_release(&tmp);
	free(want);
	if (ar < 0 || apps_take(m, in, a, false, p->ac) < 0) {
		/* place() checked; a failure here is a bug, but never oversubscribe. */
		log_error("master", "placement of '%s' on '%s' does not fit", in->task_id, a->id);
		resources_release(&in->res);
		return false;
	}
	apps_set_phase(in, INST_LIVE);
	in->state = "TASK_STAGING";
	in->staged_at = time_real_usec();
	apps_inst_sync(in); /* staged_at is its place in the kill orders */
	apps_place_count(m, in, a);
	in->started_at = 0;
	in->kill_sent = false;
	in->unhealthy_kill = false;
	json_decref(in->health);
	in->health = NULL;
	in->healthy = -1;
	in->ready = false;
	apps_inst_recount(in); /* its state, health, version and agent */
	memset(in->seen_uuids, 0, sizeof(in->seen_uuids));
	hmap_put(&m->tasks, in->task_id, in);
	apps_event_task_added(m, in);
	pass_txn(p);
	int r = apps_store_instance(m, in);
	if (r < 0)
		log_error("master", "cannot persist instance '%s': %s", in->uuid, strerror(-r));
	if (p->nlaunch == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		p->launches = xrealloc(p->launches, p->cap * sizeof(*p->launches));
	}
	p->launches[p->nlaunch].in = in;
	p->launches[p->nlaunch].record = apps_task_spec(m, in, a);
	p->nlaunch++;
	return true;
}

/* ---- per-app steps ---- */

/* Has ma a live task on a draining agent? O(draining agents), from the app's counts
 * (inst-order.c), so that a drain makes only the apps with tasks there look at their
 * instances. */
static bool app_on_draining(struct pass *p, const struct m_app *ma)
{
	if (!pass_any_draining(p))
		return false;
	for (size_t i = 0; i < p->m->ndraining; i++)
		if (apps_tasks_on(ma, p->m->draining[i]))
			return true;
	return false;
}

/* Live on a draining agent and free to move (no local volume pins it there): replaced like
 * an outdated instance, within the upgradeStrategy. */
static bool draining(struct apps *m, const struct m_instance *in)
{
	if (in->goal != GOAL_RUN || in->phase != INST_LIVE || in->pinned_agent || !in->agent_id)
		return false;
	const struct m_agent *a = rm_agent_get(m->rm, in->agent_id);
	return a && (a->drain == AGENT_DRAINING || a->maint_draining); /* inverse offer */
}

static bool outdated(struct apps *m, const struct m_app *ma, const struct m_instance *in)
{
	return in->goal == GOAL_RUN && in->phase == INST_LIVE &&
	       (strcmp(in->version, ma->config_version) < 0 || draining(m, in));
}

/* Tasks that exist or are about to: live ones (stopping included) and waiting ones. */
static int64_t existing_count(const struct m_app *ma)
{
	return (int64_t)(ma->ngoal[GOAL_RUN] + ma->nlive_stopping);
}

/* The most tasks the upgrade strategy allows at once. */
static int64_t max_total(const struct app *def)
{
	return def->instances + (int64_t)floor((double)def->instances * def->max_over_capacity + 1e-9);
}

static void stop_instance(struct m_instance *in)
{
	apps_set_goal(in, GOAL_STOP);
	/* Stopping a replacement also stops what it replaces: the slot goes away. */
	if (in->replacing)
		apps_set_goal(in->replacing, GOAL_STOP);
}

/* Is an instance of ma live at a version older than the app's configuration? Clears
 * ma->maybe_outdated when none is, so that later passes need not look. */
static bool any_outdated_version(struct m_app *ma)
{
	if (!ma->maybe_outdated)
		return false;
	if (apps_any_live_outdated(ma)) /* O(versions), inst-count.c */
		return true;
	ma->maybe_outdated = false;
	return false;
}

/* Brings the app's slots (instances with goal RUN not being replaced) to def->instances.
 * Cost: O(1) when nothing changes; O(instances added) for a scale-up and O(instances
 * stopped × log instances) for a scale-down (the kill order is kept, inst-order.c), both
 * in slices of the pass's budget; nothing here for a scale to 0 (app_pass's stop scan
 * takes every instance, in slices). */
static void scale(struct pass *p, struct m_app *ma)
{
	if (ma->def->per_agent) /* one bound instance per agent: the count follows the agents */
		per_agent_reconcile(p->m, ma, pass_txn_cb, p);
	/* The slots are the members of each kill order. */
#define SLOTS() ((int64_t)iheap_len(&ma->order[ORD_YOUNG]))
	int64_t slots = SLOTS();
	int64_t want = apps_want(ma); /* held instances (instctl.c) keep their slot */
	if (ma->def->stateful) {
		/* Stable identity: scale-down suspends the highest indexes (volumes kept);
		 * scale-up wakes suspended instances, lowest index first. */
		for (unsigned k = 0; slots > want; k++) {
			if ((k & 63) == 63 && pass_over_budget(p))
				return;
			struct m_instance *victim = apps_first_to_stop(ma);
			if (!victim)
				break;
			apps_set_goal(victim, GOAL_SUSPEND);
			pass_txn(p);
			apps_store_instance(p->m, victim);
			slots = SLOTS();
		}
		for (unsigned k = 0; slots < want; k++) {
			if ((k & 63) == 63 && pass_over_budget(p))
				return;
			struct m_instance *wake = apps_first_to_wake(ma);
			if (!wake)
				break;
			apps_set_goal(wake, GOAL_RUN);
			if (wake->phase == INST_WAITING && !ma->waiting_since)
				ma->waiting_since = time_real_usec();
			slots = SLOTS();
		}
	}
	/* A partial scale-down: the first slots - want of the kill order go. */
	for (unsigned k = 0; slots > want && want > 0; k++) {
		if ((k & 63) == 63 && pass_over_budget(p))
			return;
		struct m_instance *victim = apps_first_to_stop(ma);
		if (!victim)
			break;
		stop_instance(victim);
		slots = SLOTS();
	}
#undef SLOTS
	/* want == 0: app_pass's stop scan stops every instance. */
	if (slots >= want)
		return;
	/* During an upgrade, new slots wait for room under maximumOverCapacity. */
	bool upgrading = any_outdated_version(ma);
	int64_t existing = existing_count(ma), cap = max_total(ma->def);
	log_debug("master", "scale '%s': %lld slots of %lld, %lld tasks (max %lld)%s", ma->def->id,
		  (long long)slots, (long long)want, (long long)existing, (long long)cap,
		  upgrading ? ", upgrading" : "");
	/* New instances take the lowest free indexes. */
	while (slots < want && (!upgrading || existing < cap)) {
		if (pass_over_budget(p))
			break;
		for (int k = 0; k < 64 && slots < want && (!upgrading || existing < cap); k++) {
			apps_add_instance(p->m, ma, apps_lowest_free_index(ma), NULL);
			slots++;
			existing++;
		}
	}
}

/* Restart/upgrade (Marathon's rolling replacement), with N = instances:
 *  - never fewer than ceil(N × minimumHealthCapacity) instances up (running, healthy, ready):
 *    an outdated instance that is up is stopped only while that bound still holds;
 *  - never more than N + floor(N × maximumOverCapacity) tasks: a replacement (same index as
 *    the instance it replaces) starts only while there is room; instances that are not up
 *    are stopped at once, as they hold no capacity;
 *  - where the two bounds meet (ceil(N × minHC) == that maximum, and at least that many are
 *    up), nothing could move: as Marathon does (reference/compat.md §10.6), an app without
 *    local volumes may go one over the maximum, a stateful one goes one below the minimum. */
static void replace_outdated(struct pass *p, struct m_app *ma)
{
	const struct app *def = ma->def;
	/* Nothing can be outdated unless the configuration changed or an agent the app has
	 * tasks on drains; replacements left from either still need settling. */
	bool on_draining = app_on_draining(p, ma);
	if (!ma->maybe_outdated && !ma->nreplacing && !on_draining)
		return;
	/* An instance whose task ended (lost with its agent, say) while its replacement was
	 * already started has no slot left: it goes, else both would run. (Replacements exist
	 * only while something is outdated or an agent drains, hence after the gate.) Only
	 * the replacements are looked at (ma->order[ORD_REPL]); stopping what one replaces
	 * leaves that set as it is. */
	const struct iheap *reps = &ma->order[ORD_REPL];
	for (size_t i = 0; !def->stateful && i < iheap_len(reps); i++) {
		struct m_instance *in = ((struct m_instance *)iheap_at(reps, i))->replacing;
		if (in && in->goal == GOAL_RUN && in->phase == INST_WAITING &&
		    apps_replacement_of(ma, in))
			stop_instance(in);
	}
	int64_t min_up = (int64_t)ceil((double)apps_want(ma) * def->min_health_capacity - 1e-9);
	int64_t up = (int64_t)apps_up_count(ma); /* counted (inst-count.c) */
	/* The candidates: live at an older version (indexed by version) and, while agents
	 * drain, the app's live tasks on them (indexed by agent): O(those), never O(instances). */
	struct m_instance **cand = NULL;
	size_t nc = 0, cap = 0;
	apps_live_outdated(ma, &cand, &nc, &cap);
	bool any_version = nc > 0;
	for (size_t d = 0; on_draining && d < p->m->ndraining; d++) {
		size_t n;
		struct m_instance **on = apps_insts_on_agent(p->m, p->m->draining[d]->id, false, &n);
		for (size_t i = 0; i < n; i++) {
			if (on[i]->app != ma || strcmp(on[i]->version, ma->config_version) < 0)
				continue; /* another app's, or a candidate already */
			if (nc == cap) {
				cap = cap ? 2 * cap : 16;
				cand = xrealloc(cand, cap * sizeof(*cand));
			}
			cand[nc++] = on[i];
		}
		free(on);
	}
	size_t kept = 0, not_up = 0;
	for (size_t i = 0; i < nc; i++)
		if (outdated(p->m, ma, cand[i])) {
			not_up += !apps_instance_up(cand[i]);
			cand[kept++] = cand[i];
		}
	nc = kept;
	if (!any_version)
		ma->maybe_outdated = false;
	if (!nc) {
		free(cand);
		return;
	}
	int64_t cap_total = max_total(def);
	bool meet = min_up == cap_total && cap_total <= up;
	if (meet && def->stateful)
		min_up--;
	else if (meet)
		cap_total++;
	if (def->stateful || def->per_agent) {
		/* The instance keeps its index and volumes (a per-agent one: its agent): its
		 * task is killed and the same instance relaunched with the new version, one
		 * instance at a time. One is on its way back when an instance with goal RUN
		 * that is not outdated is not up, or a kill is in flight (both counted). */
		if ((int64_t)ma->ngoal[GOAL_RUN] - up > (int64_t)not_up || ma->cnt[K_RUN_KILL]) {
			free(cand);
			return;
		}
		struct m_instance *next = NULL;
		for (size_t i = 0; i < nc; i++)
			if (!next || cand[i]->index > next->index)
				next = cand[i];
		/* A per-agent instance has nowhere else to go: one agent at a time, whatever
		 * minimumHealthCapacity says (a DaemonSet's maxUnavailable of 1). */
		if (next && (def->per_agent || !apps_instance_up(next) || up - 1 >= min_up ||
			     up <= 1))
			apps_kill_instance(p->m, next);
		free(cand);
		return;
	}
	/* Stop: first what is not up, then up ones whose replacement is up, then others. */
	for (int pass = 0; pass < 3; pass++) {
		for (size_t i = 0; i < nc; i++) {
			struct m_instance *old = cand[i];
			if (!outdated(p->m, ma, old))
				continue;
			bool is_up = apps_instance_up(old);
			struct m_instance *rep = apps_replacement_of(ma, old);
			bool rep_up = rep && apps_instance_up(rep);
			if (pass == 0 && !is_up) {
				stop_instance(old);
			} else if (is_up && ((pass == 1 && rep_up) || pass == 2) && up - 1 >= min_up) {
				stop_instance(old);
				up--;
			}
		}
	}
	/* Start replacements while the over-capacity bound allows. */
	int64_t existing = existing_count(ma);
	log_debug("master", "upgrade '%s': up %lld (min %lld), tasks %lld (max %lld)", def->id,
		  (long long)up, (long long)min_up, (long long)existing, (long long)cap_total);
	for (size_t i = 0; i < nc && existing < cap_total; i++) {
		struct m_instance *old = cand[i];
		if (!outdated(p->m, ma, old) || apps_replacement_of(ma, old))
			continue;
		struct m_instance *rep = apps_add_instance(p->m, ma, old->index, NULL);
		apps_set_replaces(rep, old);
		existing++;
	}
	free(cand);
}

/* Are the apps ma depends on converged (present, no deployment in flight)? */
static bool dependencies_ready(struct apps *m, const struct m_app *ma)
{
	size_t i;
	json_t *d;
	json_array_foreach(ma->def->dependencies, i, d) {
		const struct m_app *dep = apps_get(m, json_string_value(d));
		if (dep && (dep->deleting || (dep->deploy && !dep->deploy->finished)))
			return false;
	}
	return apps_group_dependencies_ready(m, ma);
}

/* Does an app that depends on ma still run while both are being deleted? */
static bool dependents_alive(struct apps *m, const struct m_app *ma)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->apps, &i, &k, &v);) {
		const struct m_app *o = v;
		if (o == ma || !o->deleting || !o->ninst)
			continue;
		size_t j;
		json_t *d;
		json_array_foreach(o->def->dependencies, j, d) {
			if (!strcmp(json_string_value(d), ma->def->id))
				return true;
		}
	}
	return false;
}

static bool deployment_complete(const struct m_app *ma)
{
	/* The counters settle most passes without looking at each instance. */
	/* O(versions): every instance with goal RUN is up (counted, inst-count.c), none live
	 * at an older version, nothing stops or replaces. */
	if (ma->ngoal[GOAL_STOP] || ma->nwait_run || ma->nlive_stopping || ma->nreplacing ||
	    (int64_t)ma->ngoal[GOAL_RUN] != apps_want(ma))
		return false;
	return apps_up_count(ma) == ma->ngoal[GOAL_RUN] && !apps_any_live_outdated(ma);
}

/* Stops what must stop, going down from where the last slice left off (ma->stop_cursor):
 * kills live tasks, forgets waiting instances (O(1) each: a removal moves the last
 * instance, one already seen, into the hole). With all (the app is deleted or scaled to 0)
 * every instance goes, from ma->inst; otherwise only those to stop, from their own set
 * (ma->order[ORD_STOP]), so that a partial scale-down never looks at the instances that
 * stay. Returns whether stops are still under way. */
static bool stop_scan(struct pass *p, struct m_app *ma, bool all)
{
	struct apps *m = p->m;
	struct iheap *set = &ma->order[ORD_STOP];
	if (all && !ma->stopping_all) {
		/* Every instance goes, in no order: keeping the orders through each removal
		 * would cost O(log n) each. The scan syncs what it leaves (live ones being
		 * killed); scale() waits for its end (app_pass). */
		ma->stopping_all = true;
		apps_order_drop(ma);
		ma->stop_cursor = ma->ninst;
	}
	size_t n = all ? ma->ninst : iheap_len(set);
	if (ma->stop_cursor > n)
		ma->stop_cursor = n;
	for (size_t seen = 0; ma->stop_cursor > 0; seen++) {
		if ((seen & 63) == 63 && pass_over_budget(p))
			return true;
		--ma->stop_cursor;
		struct m_instance *in = all ? ma->inst[ma->stop_cursor]
					    : iheap_at(set, ma->stop_cursor);
		if (all || in->goal == GOAL_STOP) {
			apps_set_goal(in, GOAL_STOP);
			if (in->phase == INST_WAITING) {
				if (in->stored)
					pass_txn(p);
				apps_remove_instance(m, in);
				continue;
			}
			apps_inst_sync(in); /* in ORD_STOP again, after a drop */
			apps_kill_instance(m, in);
		} else if (in->goal == GOAL_SUSPEND && in->phase == INST_LIVE) {
			apps_kill_instance(m, in);
		}
	}
	ma->stop_cursor = SIZE_MAX; /* the next round starts from the top */
	if (all)
		ma->stopping_all = false; /* every instance passed: the orders are whole */
	return ma->ngoal[GOAL_STOP] || ma->nlive_stopping;
}

/* Launches waiting instances, going on from where the last slice left off
 * (ma->launch_cursor) so that a pass never looks at an instance twice. */
static void launch_scan(struct pass *p, struct m_app *ma)
{
	size_t n = ma->ninst;
	if (ma->launch_cursor >= n)
		ma->launch_cursor = 0;
	for (size_t seen = 0; seen < n && ma->nwait_run; seen++) {
		if ((seen & 63) == 63 && pass_over_budget(p))
			return;
		struct m_instance *in = ma->inst[ma->launch_cursor];
		if (in->phase == INST_WAITING && in->goal == GOAL_RUN) {
			if (!launch(p, in)) {
				if (!ma->def->nvolumes)
					return; /* nothing else of this app fits either */
			} else if (pass_over_budget(p)) {
				ma->launch_cursor = (ma->launch_cursor + 1) % n;
				return;
			}
		}
		ma->launch_cursor = (ma->launch_cursor + 1) % n;
	}
}

/* One app's share of a pass. Returns whether it still has work in flight (waiting
 * instances, a deployment, stops under way), so that the next pass looks at it again.
 * Cost: O(1) for an app with nothing to do, whatever its size; otherwise it stops at the
 * pass's budget and the next slice goes on where it stopped. */
static bool app_pass(struct pass *p, struct m_app *ma)
{
	struct apps *m = p->m;
	if (!ma->deleting && !ma->stopping_all) {
		scale(p, ma);
		replace_outdated(p, ma);
	}
	/* Stop what must stop: kill live tasks, drop waiting instances. A stop of every
	 * instance, once begun, runs to its end (a scale-up meanwhile waits for it). */
	bool all = ma->deleting || ma->stopping_all ||
		   (!ma->def->stateful && ma->def->instances == 0);
	bool hold = ma->deleting && dependents_alive(m, ma);
	bool stopping = false;
	if (!hold && (all ? ma->ninst > 0 : ma->ngoal[GOAL_STOP] || ma->nlive_stopping))
		stopping = stop_scan(p, ma, all);
	if (ma->deleting)
		return true;
	/* Launch waiting instances once the backoff delay is over. */
	uint64_t now = time_mono_usec();
	if (ma->nwait_run && now >= ma->delay_until_usec && dependencies_ready(m, ma))
		launch_scan(p, ma);
	bool waiting = ma->nwait_run > 0;
	if (!waiting)
		ma->waiting_since = 0;
	if (ma->deploy && !ma->deploy->finished && deployment_complete(ma))
		apps_deployment_done(m, ma);
	return waiting || stopping || (ma->deploy && !ma->deploy->finished) || p->more;
}

/* CPU time of the calling thread, usec. */
static uint64_t thread_cpu_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void apps_run_pass(struct apps *m)
{
	uint64_t t0 = time_mono_usec(), cpu0 = thread_cpu_usec();
	struct pass p = { .m = m, .t0 = t0, .draining = -1 };
	p.ac = rm_alloc_begin(m->rm, m->client);
	const char *k;
	void *v;
	struct m_app **gone = NULL;
	size_t ngone = 0;
	/* Apps nothing happened to are skipped; every few seconds a pass looks at all of them
	 * anyway (backoff delays, and a safety net for a change nobody marked). A pass that
	 * runs out of its budget stops at an app; the next slice begins with that app and goes
	 * round (pass_cursor), so that one big app cannot starve those after it. */
	if (t0 - m->full_pass_usec >= FULL_PASS_USEC) {
		m->full_pass_usec = t0;
		m->full_pending = true;
	}
	bool full = m->full_pending;
	size_t start = m->pass_cursor;
	for (int round = 0; round < 2 && !p.more; round++) {
		for (size_t i = round ? 0 : start; hmap_next(&m->apps, &i, &k, &v);) {
			size_t slot = i - 1;
			if (round && slot >= start)
				break;
			if (pass_over_budget(&p)) {
				m->pass_cursor = slot;
				break;
			}
			struct m_app *ma = v;
			if (!full && !ma->dirty)
				continue;
			ma->dirty = app_pass(&p, ma);
			if (ma->deleting && ma->ninst == 0) {
				gone = xrealloc(gone, (ngone + 1) * sizeof(*gone));
				gone[ngone++] = ma;
			}
			if (p.more) {
				m->pass_cursor = slot;
				break;
			}
		}
	}
	if (!p.more)
		m->full_pending = false;
	for (size_t i = 0; i < ngone; i++) {
		/* Freeing a large app's tables takes a few ms: not in a slice that used its
		 * budget (the app, deleted and empty, comes back to the next pass). */
		if (!gone[i]->free_deferred && pass_over_budget(&p)) {
			gone[i]->free_deferred = true; /* once: freed by the next pass whatever */
			gone[i]->dirty = true;
			continue;
		}
		/* The app stays (being deleted, without instances) until its wipe is over. */
		if (gone[i]->wipe_volumes && !apps_wipe_volumes(m, gone[i], t0, &p.txn))
			continue;
		log_info("master", "app '%s' removed", gone[i]->def->id);
		apps_deployment_done(m, gone[i]);
		events_publish(m, "app_terminated_event", json_pack("{s:s}", "appId", gone[i]->def->id));
		hmap_del(&m->apps, gone[i]->def->id);
		apps_free_app(m, gone[i]);
	}
	free(gone);
	if (p.txn) {
		uint64_t c0 = time_mono_usec();
		int r = store_txn_commit(m->store);
		rm_count_commit_usec(m->rm, time_mono_usec() - c0);
		if (r < 0) {
			log_error("master", "store commit failed: %s; launches held back",
				  strerror(-r));
			/* Not durable: do not launch; the instances go back to waiting. */
			for (size_t i = 0; i < p.nlaunch; i++) {
				struct m_instance *in = p.launches[i].in;
				apps_give(m, in, false);
				resources_release(&in->res);
				hmap_del(&m->tasks, in->task_id);
				apps_set_phase(in, INST_WAITING);
				json_decref(p.launches[i].record);
				p.launches[i].record = NULL;
			}
		}
	}
	for (size_t i = 0; i < p.nlaunch; i++) {
		if (!p.launches[i].record)
			continue;
		struct m_instance *in = p.launches[i].in;
		struct m_agent *a = rm_agent_get(m->rm, in->agent_id);
		log_debug("master", "launching '%s' on '%s'", in->task_id, in->agent_id);
		if (!a || rm_send(a, p.launches[i].record) < 0)
			log_warn("master", "could not send launch of '%s'; it will be reconciled",
				 in->task_id);
	}
	if (p.nlaunch)
		log_info("master", "launched %zu task(s)", p.nlaunch);
	for (size_t i = 0; i < p.nlaunch; i++)
		rm_count_launch(m->rm);
	free(p.launches);
	rm_alloc_end(p.ac);
	if (p.more)
		apps_schedule_pass(m);
	metrics_timer_record_usec(m->alloc_pass, time_mono_usec() - t0);
	metrics_timer_record_usec(m->alloc_pass_cpu, thread_cpu_usec() - cpu0);
}
