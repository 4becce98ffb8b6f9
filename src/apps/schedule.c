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
		const char *k;
		void *v;
		for (size_t i = 0; hmap_next(rm_agents(m->rm), &i, &k, &v);)
			if (((struct m_agent *)v)->drain == AGENT_DRAINING ||
			    ((struct m_agent *)v)->maint_draining) /* inverse offer */
				m->any_drain = true;
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

static unsigned app_tasks_on(const struct m_app *ma, const struct m_agent *a)
{
	unsigned n = 0;
	for (size_t i = 0; i < ma->ninst; i++)
		if (ma->inst[i]->phase == INST_LIVE && ma->inst[i]->agent_id &&
		    !strcmp(ma->inst[i]->agent_id, a->id))
			n++;
	return n;
}

/* Is an external volume (resolved name) held by a live task of any app other than in? */
bool apps_volume_busy(struct apps *m, const char *name, const struct m_instance *self)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->apps, &i, &k, &v);) {
		const struct m_app *o = v;
		for (size_t vi = 0; vi < o->def->nvolumes; vi++) {
			const struct app_volume *vol = &o->def->volumes[vi];
			if (vol->type != VOL_EXTERNAL || vol->shared)
				continue;
			for (size_t j = 0; j < o->ninst; j++) {
				const struct m_instance *in = o->inst[j];
				if (in == self || in->phase != INST_LIVE)
					continue;
				char *n = volume_name_for(vol, in->index);
				bool same = !strcmp(n, name);
				free(n);
				if (same)
					return true;
			}
		}
	}
	return false;
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

	/* Constraint inputs: where the app's live tasks are, and every agent. */
	struct placement_target *placed = NULL, *all = NULL;
	const struct placement_target **placedp = NULL, **allp = NULL;
	size_t nplaced = 0, nall = 0;
	if (def->nconstraints) {
		placed = xcalloc(ma->ninst + 1, sizeof(*placed));
		placedp = xcalloc(ma->ninst + 1, sizeof(*placedp));
		for (size_t i = 0; i < ma->ninst; i++) {
			struct m_instance *in = ma->inst[i];
			if (in->phase != INST_LIVE || !in->agent_id)
				continue;
			struct m_agent *a = rm_agent_get(m->rm, in->agent_id);
			if (!a)
				continue;
			placed[nplaced].hostname = a->hostname;
			placed[nplaced].attrs = &a->attrs;
			placedp[nplaced] = &placed[nplaced];
			nplaced++;
		}
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
			if (!constraints_allow(def->constraints, def->nconstraints, &cand, placedp,
					       nplaced, allp, nall))
				continue;
		}
		/* Spread: fewest tasks of this app, then most free memory. */
		unsigned cnt = app_tasks_on(ma, a);
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
	free(placed);
	free(placedp);
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
	in->started_at = 0;
	in->kill_sent = false;
	in->unhealthy_kill = false;
	json_decref(in->health);
	in->health = NULL;
	in->healthy = -1;
	in->ready = false;
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

static int cmp_kill_order(const struct m_instance *a, const struct m_instance *b,
			  enum kill_selection sel)
{
	/* Waiting instances go first: stopping them costs nothing. */
	if (a->phase != b->phase)
		return a->phase == INST_WAITING ? -1 : 1;
	uint64_t ta = a->staged_at ? a->staged_at : a->created_at;
	uint64_t tb = b->staged_at ? b->staged_at : b->created_at;
	if (ta == tb)
		return a->index > b->index ? -1 : 1;
	if (sel == KILL_YOUNGEST_FIRST)
		return ta > tb ? -1 : 1;
	return ta < tb ? -1 : 1;
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

/* For a partial scale-down: the kill order over the candidates. */
static int cmp_victims(const void *a, const void *b, void *sel)
{
	return cmp_kill_order(*(struct m_instance *const *)a, *(struct m_instance *const *)b,
			      *(enum kill_selection *)sel);
}

/* Is an instance of ma live at a version older than the app's configuration? Clears
 * ma->maybe_outdated when none is, so that later passes need not look. */
static bool any_outdated_version(struct m_app *ma)
{
	if (!ma->maybe_outdated)
		return false;
	for (size_t i = 0; i < ma->ninst; i++)
		if (ma->inst[i]->phase == INST_LIVE &&
		    strcmp(ma->inst[i]->version, ma->config_version) < 0)
			return true;
	ma->maybe_outdated = false;
	return false;
}

/* Brings the app's slots (instances with goal RUN not being replaced) to def->instances.
 * Cost: O(1) when nothing changes; O(instances added) for a scale-up, in slices; nothing
 * here for a scale to 0 (app_pass's stop scan takes every instance, in slices); one sort of
 * the candidates for another scale-down (not sliced); O(instances) while an upgrade is
 * under way (the replacements must be told apart). */
static void scale(struct pass *p, struct m_app *ma)
{
	if (ma->def->per_agent) /* one bound instance per agent: the count follows the agents */
		per_agent_reconcile(p->m, ma, pass_txn_cb, p);
	bool any_rep = ma->nreplacing > 0;
#define SLOT(in) ((in)->goal == GOAL_RUN && (!any_rep || apps_in_slot(ma, (in))))
	int64_t slots = 0;
	if (any_rep) {
		for (size_t i = 0; i < ma->ninst; i++)
			if (SLOT(ma->inst[i]))
				slots++;
	} else {
		slots = (int64_t)ma->ngoal[GOAL_RUN];
	}
	int64_t want = apps_want(ma); /* held instances (instctl.c) keep their slot */
	if (ma->def->stateful) {
		/* Stable identity: scale-down suspends the highest indexes (volumes kept);
		 * scale-up wakes suspended instances, lowest index first. */
		while (slots > want) {
			struct m_instance *victim = NULL;
			for (size_t i = 0; i < ma->ninst; i++)
				if (SLOT(ma->inst[i]) && (!victim || ma->inst[i]->index > victim->index))
					victim = ma->inst[i];
			if (!victim)
				break;
			apps_set_goal(victim, GOAL_SUSPEND);
			pass_txn(p);
			apps_store_instance(p->m, victim);
			slots--;
		}
		while (slots < want) {
			struct m_instance *wake = NULL;
			for (size_t i = 0; i < ma->ninst; i++)
				if (ma->inst[i]->goal == GOAL_SUSPEND && !ma->inst[i]->held &&
				    (!wake || ma->inst[i]->index < wake->index))
					wake = ma->inst[i];
			if (!wake)
				break;
			apps_set_goal(wake, GOAL_RUN);
			if (wake->phase == INST_WAITING && !ma->waiting_since)
				ma->waiting_since = time_real_usec();
			slots++;
		}
	}
	if (slots > want && want > 0) {
		/* The kill order over the slots, once: the first slots - want go. */
		struct m_instance **cand = xcalloc((size_t)slots + 1, sizeof(*cand));
		size_t n = 0;
		for (size_t i = 0; i < ma->ninst && n < (size_t)slots; i++)
			if (SLOT(ma->inst[i]))
				cand[n++] = ma->inst[i];
		enum kill_selection sel = ma->def->kill_selection;
		qsort_r(cand, n, sizeof(*cand), cmp_victims, &sel);
		for (size_t i = 0; i < n && slots > want; i++, slots--)
			stop_instance(cand[i]);
		free(cand);
	}
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
#undef SLOT
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
	/* Nothing can be outdated unless the configuration changed or an agent drains. */
	if (!ma->maybe_outdated && !pass_any_draining(p))
		return;
	/* An instance whose task ended (lost with its agent, say) while its replacement was
	 * already started has no slot left: it goes, else both would run. (Replacements exist
	 * only while something is outdated or an agent drains, hence after the gate.) */
	for (size_t i = 0; !def->stateful && i < ma->ninst; i++) {
		struct m_instance *in = ma->inst[i];
		if (in->goal == GOAL_RUN && in->phase == INST_WAITING &&
		    apps_replacement_of(ma, in))
			stop_instance(in);
	}
	int64_t min_up = (int64_t)ceil((double)apps_want(ma) * def->min_health_capacity - 1e-9);
	int64_t up = 0;
	bool any = false, any_version = false;
	for (size_t i = 0; i < ma->ninst; i++) {
		struct m_instance *in = ma->inst[i];
		if (in->goal == GOAL_RUN && apps_instance_up(in))
			up++;
		any |= outdated(p->m, ma, in);
		any_version |= in->phase == INST_LIVE && strcmp(in->version, ma->config_version) < 0;
	}
	if (!any_version)
		ma->maybe_outdated = false;
	if (!any)
		return;
	int64_t cap = max_total(def);
	bool meet = min_up == cap && cap <= up;
	if (meet && def->stateful)
		min_up--;
	else if (meet)
		cap++;
	if (def->stateful || def->per_agent) {
		/* The instance keeps its index and volumes (a per-agent one: its agent): its
		 * task is killed and the same instance relaunched with the new version, one
		 * instance at a time. */
		for (size_t i = 0; i < ma->ninst; i++) {
			struct m_instance *in = ma->inst[i];
			if (in->goal == GOAL_RUN && !apps_instance_up(in) && !outdated(p->m, ma, in))
				return; /* one already on its way back */
			if (in->goal == GOAL_RUN && in->phase == INST_LIVE && in->kill_sent)
				return;
		}
		struct m_instance *next = NULL;
		for (size_t i = 0; i < ma->ninst; i++)
			if (outdated(p->m, ma, ma->inst[i]) && (!next || ma->inst[i]->index > next->index))
				next = ma->inst[i];
		/* A per-agent instance has nowhere else to go: one agent at a time, whatever
		 * minimumHealthCapacity says (a DaemonSet's maxUnavailable of 1). */
		if (next && (def->per_agent || !apps_instance_up(next) || up - 1 >= min_up ||
			     up <= 1))
			apps_kill_instance(p->m, next);
		return;
	}
	/* Stop: first what is not up, then up ones whose replacement is up, then others. */
	for (int pass = 0; pass < 3; pass++) {
		for (size_t i = 0; i < ma->ninst; i++) {
			struct m_instance *old = ma->inst[i];
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
		  (long long)up, (long long)min_up, (long long)existing, (long long)cap);
	size_t n = ma->ninst;
	for (size_t i = 0; i < n && existing < cap; i++) {
		struct m_instance *old = ma->inst[i];
		if (!outdated(p->m, ma, old) || apps_replacement_of(ma, old))
			continue;
		struct m_instance *rep = apps_add_instance(p->m, ma, old->index, NULL);
		apps_set_replaces(rep, old);
		existing++;
	}
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
	if (ma->ngoal[GOAL_STOP] || ma->nwait_run || ma->nlive_stopping || ma->nreplacing ||
	    (int64_t)ma->ngoal[GOAL_RUN] != apps_want(ma))
		return false;
	int64_t running = 0;
	for (size_t i = 0; i < ma->ninst; i++) {
		const struct m_instance *in = ma->inst[i];
		if (in->goal == GOAL_STOP)
			return false;
		if (in->goal == GOAL_SUSPEND) {
			if (in->phase == INST_LIVE)
				return false;
			continue;
		}
		if (!apps_instance_up(in))
			return false;
		if (strcmp(in->version, ma->config_version) < 0 || in->replaces[0])
			return false;
		running++;
	}
	return running == apps_want(ma);
}

/* Stops what must stop, going down from where the last slice left off (ma->stop_cursor):
 * kills live tasks, forgets waiting instances (O(1) each: a removal moves the last
 * instance, one already seen, into the hole). With all (the app is deleted or scaled to 0)
 * every instance goes. Returns whether stops are still under way. */
static bool stop_scan(struct pass *p, struct m_app *ma, bool all)
{
	struct apps *m = p->m;
	if (ma->stop_cursor > ma->ninst)
		ma->stop_cursor = ma->ninst;
	for (size_t seen = 0; ma->stop_cursor > 0; seen++) {
		if ((seen & 63) == 63 && pass_over_budget(p))
			return true;
		struct m_instance *in = ma->inst[--ma->stop_cursor];
		if (all || in->goal == GOAL_STOP) {
			apps_set_goal(in, GOAL_STOP);
			if (in->phase == INST_WAITING) {
				if (in->stored)
					pass_txn(p);
				apps_remove_instance(m, in);
				continue;
			}
			apps_kill_instance(m, in);
		} else if (in->goal == GOAL_SUSPEND && in->phase == INST_LIVE) {
			apps_kill_instance(m, in);
		}
	}
	ma->stop_cursor = SIZE_MAX; /* the next round starts from the top */
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
	if (!ma->deleting) {
		scale(p, ma);
		replace_outdated(p, ma);
	}
	/* Stop what must stop: kill live tasks, drop waiting instances. */
	bool all = ma->deleting || (!ma->def->stateful && ma->def->instances == 0);
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

void apps_run_pass(struct apps *m)
{
	uint64_t t0 = time_mono_usec();
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
}
