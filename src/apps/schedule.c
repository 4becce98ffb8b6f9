/* The scheduling pass of the apps framework: scale, replace, place and launch.
 *
 * A pass runs after every change (API call, status update, agent event) and on a 250 ms
 * tick (for backoff delays and agent timeouts). It is idempotent: running it twice in a row
 * does nothing the second time. All store writes of one pass go in one transaction, which
 * is committed before any LAUNCH it decided is sent (see apps.c's invariants). */
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
/* How often a pass looks at every app, changed or not. */
#define FULL_PASS_USEC (5u * 1000000u)
/* A wipe that finds no connected agent is tried again this often, for this long at most
 * (from its first failed attempt in this master process); then it is dropped with an
 * error line, the volumes left in place and the app's id free again. */
#define WIPE_RETRY_USEC (5ull * 1000000u)
#define WIPE_GIVE_UP_USEC (3600ull * 1000000u)

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
	struct m_agent **agents; /* connected agents, built on first use */
	size_t nagents;
	bool have_agents;
	struct rotation rot;
	bool more;               /* stopped at PASS_MAX_LAUNCHES: run again */
	struct alloc_ctx *ac;    /* the allocation order (the resource manager's) */
};

static void pass_txn(struct pass *p)
{
	if (!p->txn && store_txn_begin(p->m->store) == 0)
		p->txn = true;
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
static bool volume_busy(struct apps *m, const char *name, const struct m_instance *self)
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
		bool busy = volume_busy(m, n, inst);
		free(n);
		if (busy)
			return NULL; /* never two writers */
	}
	struct resources alloc = RESOURCES_INIT;
	double extra_disk = def->resident && !inst->pinned_agent ? volume_disk(def) : 0;
	uint32_t *want = xcalloc(def->nports + 1, sizeof(*want));
	uint32_t *got = xcalloc(def->nports + 1, sizeof(*got));
	for (size_t i = 0; i < def->nports; i++)
		want[i] = def->require_ports ? def->ports[i].port : 0;

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
		size_t na = hmap_len(rm_agents(p->m->rm));
		p->agents = xcalloc(na + 1, sizeof(*p->agents));
		const char *k;
		void *v;
		for (size_t i = 0; hmap_next(rm_agents(p->m->rm), &i, &k, &v);)
			if (((struct m_agent *)v)->state == AGENT_CONNECTED &&
			    !((struct m_agent *)v)->deactivated &&
			    !((struct m_agent *)v)->maint_draining)
				p->agents[p->nagents++] = v;
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
		wantp[i] = def->require_ports ? def->ports[i].port : 0;
	struct m_agent *found = NULL;
	struct resources tmp = RESOURCES_INIT;
	for (size_t tried = 0; tried < p->nagents; tried++) {
		struct m_agent *a = p->agents[r->cursor];
		r->cursor = (r->cursor + 1) % p->nagents;
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
	in->phase = INST_LIVE;
	apps_changed(in->app);
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
	int64_t n = 0;
	for (size_t i = 0; i < ma->ninst; i++)
		if (ma->inst[i]->phase == INST_LIVE || ma->inst[i]->goal == GOAL_RUN)
			n++;
	return n;
}

/* The most tasks the upgrade strategy allows at once. */
static int64_t max_total(const struct app *def)
{
	return def->instances + (int64_t)floor((double)def->instances * def->max_over_capacity + 1e-9);
}

static void stop_instance(struct pass *p, struct m_instance *in)
{
	in->goal = GOAL_STOP;
	struct m_app *ma = in->app;
	/* Stopping a replacement also stops what it replaces: the slot goes away. */
	if (in->replaces[0]) {
		for (size_t i = 0; i < ma->ninst; i++)
			if (!strcmp(ma->inst[i]->uuid, in->replaces))
				ma->inst[i]->goal = GOAL_STOP;
	}
}

static void scale(struct pass *p, struct m_app *ma)
{
	bool any_rep = false;
	for (size_t i = 0; i < ma->ninst; i++)
		if (ma->inst[i]->goal == GOAL_RUN && ma->inst[i]->replaces[0])
			any_rep = true;
#define SLOT(in) ((in)->goal == GOAL_RUN && (!any_rep || apps_in_slot(ma, (in))))
	int64_t slots = 0;
	for (size_t i = 0; i < ma->ninst; i++)
		if (SLOT(ma->inst[i]))
			slots++;
	int64_t want = ma->def->instances;
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
			victim->goal = GOAL_SUSPEND;
			pass_txn(p);
			apps_store_instance(p->m, victim);
			slots--;
		}
		while (slots < want) {
			struct m_instance *wake = NULL;
			for (size_t i = 0; i < ma->ninst; i++)
				if (ma->inst[i]->goal == GOAL_SUSPEND &&
				    (!wake || ma->inst[i]->index < wake->index))
					wake = ma->inst[i];
			if (!wake)
				break;
			wake->goal = GOAL_RUN;
			if (wake->phase == INST_WAITING && !ma->waiting_since)
				ma->waiting_since = time_real_usec();
			slots++;
		}
	}
	while (slots > want) {
		struct m_instance *victim = NULL;
		for (size_t i = 0; i < ma->ninst; i++) {
			struct m_instance *in = ma->inst[i];
			if (!SLOT(in))
				continue;
			if (!victim || cmp_kill_order(in, victim, ma->def->kill_selection) < 0)
				victim = in;
		}
		if (!victim)
			break;
		stop_instance(p, victim);
		slots--;
	}
	/* During an upgrade, new slots wait for room under maximumOverCapacity. */
	bool upgrading = false;
	for (size_t i = 0; i < ma->ninst && !upgrading; i++)
		upgrading = ma->inst[i]->phase == INST_LIVE &&
			    strcmp(ma->inst[i]->version, ma->config_version) < 0;
	int64_t existing = existing_count(ma), cap = max_total(ma->def);
	if (slots < want)
		log_debug("master", "scale '%s': %lld slots of %lld, %lld tasks (max %lld)%s",
			  ma->def->id, (long long)slots, (long long)want, (long long)existing,
			  (long long)cap, upgrading ? ", upgrading" : "");
	if (slots < want && (!upgrading || existing < cap)) {
		/* New instances take the lowest free indexes: one bitmap for the whole batch. */
		size_t room = ma->ninst + (size_t)(want - slots) + 1;
		unsigned char *used = xcalloc(room, 1);
		for (size_t i = 0; i < ma->ninst; i++)
			if (ma->inst[i]->goal != GOAL_STOP && ma->inst[i]->index < room)
				used[ma->inst[i]->index] = 1;
		unsigned next = 0;
		while (slots < want && (!upgrading || existing < cap)) {
			while (next < room && used[next])
				next++;
			apps_add_instance(p->m, ma, next++);
			slots++;
			existing++;
		}
		free(used);
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
	/* An instance whose task ended (lost with its agent, say) while its replacement was
	 * already started has no slot left: it goes, else both would run. */
	for (size_t i = 0; !def->stateful && i < ma->ninst; i++) {
		struct m_instance *in = ma->inst[i];
		if (in->goal == GOAL_RUN && in->phase == INST_WAITING &&
		    apps_replacement_of(ma, in))
			stop_instance(p, in);
	}
	int64_t min_up = (int64_t)ceil((double)def->instances * def->min_health_capacity - 1e-9);
	int64_t up = 0;
	bool any = false;
	for (size_t i = 0; i < ma->ninst; i++) {
		if (ma->inst[i]->goal == GOAL_RUN && apps_instance_up(ma->inst[i]))
			up++;
		any |= outdated(p->m, ma, ma->inst[i]);
	}
	if (!any)
		return;
	int64_t cap = max_total(def);
	bool meet = min_up == cap && cap <= up;
	if (meet && def->stateful)
		min_up--;
	else if (meet)
		cap++;
	if (def->stateful) {
		/* The instance keeps its index and volumes: its task is killed and the same
		 * instance relaunched with the new version, one instance at a time. */
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
		if (next && (!apps_instance_up(next) || up - 1 >= min_up || up <= 1))
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
				stop_instance(p, old);
			} else if (is_up && ((pass == 1 && rep_up) || pass == 2) && up - 1 >= min_up) {
				stop_instance(p, old);
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
		struct m_instance *rep = apps_add_instance(p->m, ma, old->index);
		snprintf(rep->replaces, sizeof(rep->replaces), "%s", old->uuid);
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
	return running == ma->def->instances;
}

/* One app's share of a pass. Returns whether it still has work in flight (waiting
 * instances, a deployment, stops under way), so that the next pass looks at it again. */
static bool app_pass(struct pass *p, struct m_app *ma)
{
	struct apps *m = p->m;
	if (!ma->deleting) {
		scale(p, ma);
		replace_outdated(p, ma);
	}
	/* Stop what must stop: kill live tasks, drop waiting instances. */
	bool hold = ma->deleting && dependents_alive(m, ma);
	bool stopping = false;
	for (size_t i = 0; i < ma->ninst && !hold;) {
		struct m_instance *in = ma->inst[i];
		if (in->goal == GOAL_STOP || ma->deleting) {
			in->goal = GOAL_STOP;
			if (in->phase == INST_WAITING) {
				pass_txn(p);
				apps_remove_instance(m, in);
				continue;
			}
			apps_kill_instance(m, in);
			stopping = true;
		} else if (in->goal == GOAL_SUSPEND && in->phase == INST_LIVE) {
			apps_kill_instance(m, in);
			stopping = true;
		}
		i++;
	}
	if (ma->deleting)
		return true;
	/* Launch waiting instances once the backoff delay is over. */
	uint64_t now = time_mono_usec();
	bool waiting = false;
	if (now >= ma->delay_until_usec && dependencies_ready(m, ma)) {
		for (size_t i = 0; i < ma->ninst; i++) {
			struct m_instance *in = ma->inst[i];
			if (in->phase != INST_WAITING || in->goal != GOAL_RUN)
				continue;
			if (!launch(p, in)) {
				waiting = true;
				if (!ma->def->nvolumes)
					break; /* nothing else of this app fits either */
			}
		}
	} else {
		for (size_t i = 0; i < ma->ninst && !waiting; i++)
			waiting = ma->inst[i]->phase == INST_WAITING && ma->inst[i]->goal == GOAL_RUN;
	}
	if (!waiting)
		ma->waiting_since = 0;
	if (ma->deploy && !ma->deploy->finished && deployment_complete(ma))
		apps_deployment_done(m, ma);
	return waiting || stopping || (ma->deploy && !ma->deploy->finished);
}

/* The agent to remove an external volume through: the one whose task last mounted it,
 * else any connected one (the driver reaches the volume from every agent). NULL: none. */
static struct m_agent *wipe_agent(struct apps *m, const json_t *v)
{
	const char *aid = json_string_value(json_object_get(v, "agent"));
	struct m_agent *a = aid ? rm_agent_get(m->rm, aid) : NULL;
	if (a && a->state == AGENT_CONNECTED)
		return a;
	const char *k;
	void *p;
	for (size_t j = 0; hmap_next(rm_agents(m->rm), &j, &k, &p);)
		if (((struct m_agent *)p)->state == AGENT_CONNECTED)
			return p;
	return NULL;
}

/* Deletes the store record of volume v of ma's wipe (v NULL: the wipe's own record) in the
 * pass's transaction. A failure only means it is done again after a restart. */
static void wipe_forget(struct pass *p, struct m_app *ma, const json_t *v)
{
	pass_txn(p);
	int r = apps_store_deletion_done(p->m, ma, v);
	if (r < 0)
		log_error("master", "cannot update the wipe records of '%s': %s (redone after a "
				    "restart)", ma->def->id, strerror(-r));
}

/* DELETE ?wipe=true, once ma has no instance left (so no task of it may use the volumes):
 * asks an agent to remove each external volume through its driver (REMOVE_VOLUME).
 *
 * The agent never answers REMOVE_VOLUME: it refuses one that a task of its own still holds
 * and logs the driver's outcome, and a failing driver leaves the volume. So a volume counts
 * as done once its record is on an agent's stream: fire and forget, at least once (its store
 * record is deleted after the send, so a master that stops in between sends it again).
 * Volumes no agent can take now stay, in ma->wipe_volumes and in the store, and are tried
 * again every WIPE_RETRY_USEC until WIPE_GIVE_UP_USEC. Returns whether the wipe is over
 * (done or given up, its records deleted); the caller then forgets the app. */
static bool wipe_external_volumes(struct pass *p, struct m_app *ma, uint64_t now)
{
	struct apps *m = p->m;
	if (now < ma->wipe_next_usec)
		return false; /* a lost agent's tasks may hold them until its fence, or a retry */
	json_t *left = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(ma->wipe_volumes, i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));
		const char *driver = json_string_value(json_object_get(v, "driver"));
		if (name && driver && volume_busy(m, name, NULL)) {
			/* Another app's live task holds that name now: its data, not ours. */
			log_warn("master", "external volume '%s' of deleted app '%s' is kept: a live task "
					   "of another app uses it", name, ma->def->id);
		} else if (name && driver) {
			struct m_agent *a = wipe_agent(m, v);
			if (!a || rm_send(a, json_pack("{s:s, s:s, s:s}", "type", "REMOVE_VOLUME",
							     "driver", driver, "name", name)) < 0) {
				json_array_append(left, v);
				continue;
			}
			log_info("master", "removing external volume '%s' (driver '%s') through agent "
					   "'%s'", name, driver, a->id);
		}
		wipe_forget(p, ma, v);
	}
	size_t nleft = json_array_size(left);
	if (nleft && !ma->wipe_give_up_usec) {
		ma->wipe_give_up_usec = now + WIPE_GIVE_UP_USEC;
		log_warn("master", "%zu external volume(s) of deleted app '%s' wait for an agent to "
				   "remove them: retrying every %llu s for up to %llu min",
			 nleft, ma->def->id, WIPE_RETRY_USEC / 1000000, WIPE_GIVE_UP_USEC / 60000000);
	} else if (nleft && now >= ma->wipe_give_up_usec) {
		struct strbuf names = STRBUF_INIT;
		json_array_foreach(left, i, v) {
			strbuf_addf(&names, "%s'%s'", names.len ? ", " : "",
				    json_string_value(json_object_get(v, "name")));
			wipe_forget(p, ma, v);
		}
		log_error("master", "giving up the wipe of deleted app '%s': no agent took it for "
				    "%llu min; left in place: %s",
			  ma->def->id, WIPE_GIVE_UP_USEC / 60000000, strbuf_str(&names));
		strbuf_release(&names);
		nleft = 0;
	}
	json_decref(ma->wipe_volumes);
	ma->wipe_volumes = left;
	ma->wipe_next_usec = now + WIPE_RETRY_USEC;
	if (nleft)
		return false;
	wipe_forget(p, ma, NULL);
	json_decref(ma->wipe_volumes);
	ma->wipe_volumes = NULL;
	return true;
}

void apps_run_pass(struct apps *m)
{
	uint64_t t0 = time_mono_usec();
	struct pass p = { .m = m };
	p.ac = rm_alloc_begin(m->rm, m->client);
	const char *k;
	void *v;
	struct m_app **gone = NULL;
	size_t ngone = 0;
	/* Apps nothing happened to are skipped; every few seconds a pass looks at all of them
	 * anyway (backoff delays, and a safety net for a change nobody marked). */
	bool full = t0 - m->full_pass_usec >= FULL_PASS_USEC;
	if (full)
		m->full_pass_usec = t0;
	for (size_t i = 0; hmap_next(&m->apps, &i, &k, &v);) {
		struct m_app *ma = v;
		if (!full && !ma->dirty)
			continue;
		ma->dirty = app_pass(&p, ma);
		if (ma->deleting && ma->ninst == 0) {
			gone = xrealloc(gone, (ngone + 1) * sizeof(*gone));
			gone[ngone++] = ma;
		}
	}
	for (size_t i = 0; i < ngone; i++) {
		/* The app stays (being deleted, without instances) until its wipe is over. */
		if (gone[i]->wipe_volumes && !wipe_external_volumes(&p, gone[i], t0))
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
				in->phase = INST_WAITING;
				apps_changed(in->app);
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
	free(p.agents);
	rm_alloc_end(p.ac);
	if (p.more)
		apps_schedule_pass(m);
	metrics_timer_record_usec(m->alloc_pass, time_mono_usec() - t0);
}
