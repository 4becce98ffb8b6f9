/* An app's instances in the orders its passes pick from, and where its live tasks are,
 * kept as instances change so that no pass sorts or walks every instance (issue 12).
 *
 * Invariants (for every app ma, after each call that changes an instance's goal, phase,
 * replaces, staged_at or created_at, followed by apps_inst_sync):
 *  - ma->order[ORD_YOUNG], ma->order[ORD_OLD] and ma->order[ORD_HIGH] hold exactly the
 *    instances in a slot (apps_in_slot: goal RUN, not being replaced); their tops are the
 *    first to stop on a scale-down under killSelection YOUNGEST_FIRST and OLDEST_FIRST
 *    (the order of cmp_kill_order: waiting before live, then by staged_at or else
 *    created_at, then the higher index), and for a stateful app, the highest index.
 *  - ma->order[ORD_SUSP] holds exactly the instances with goal SUSPEND that the operator
 *    did not stop (!held: instctl.c sets held before the goal SUSPEND and clears it after
 *    the goal RUN), lowest index on top (the first a stateful scale-up wakes).
 *  - ma->order[ORD_STOP] holds exactly the instances a pass must stop: goal STOP, or goal
 *    SUSPEND and LIVE; in no order (a removal moves the last one into the hole, as in
 *    ma->inst), so that the stop scan of a partial scale-down looks at those only.
 *  - ma->order[ORD_LIVE] holds exactly the LIVE instances with goal RUN, in no order (the
 *    peers a task is told of, task-spec.c).
 *  - ma->order[ORD_REPL] holds exactly the instances that replace another (replacing set),
 *    in no order (schedule.c's replace_outdated looks at those only).
 *  - ma->placed counts, per (field, value), the app's LIVE instances with a counted agent
 *    (in->counted): its hostname, its attributes and, under PLACE_AGENT, its id — as they
 *    were when the task was counted (struct place_snap), so that an agent that registers
 *    again with other attributes leaves the counts true.
 * A stop of every instance (schedule.c's stop_scan) drops the orders at its start
 * (apps_order_drop: O(1), an instance whose order_epoch is old is in none) and syncs each
 * instance it passes; no scale reads them until it is over.
 * Cost: O(log instances) per change of an instance, O(attributes) per launch. */
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "apps/apps-int.h"

/* What one agent looked like when tasks were counted on it; shared by those tasks. */
struct place_snap {
	char *agent_id;
	char *hostname;
	struct attributes attrs;
	char *attrs_text;
	unsigned refs;     /* counted instances, + 1 while it is the agent's current one */
	bool current;
};

static uint64_t when(const struct m_instance *in)
{
	return in->staged_at ? in->staged_at : in->created_at;
}

static bool first_young(const void *pa, const void *pb)
{
	const struct m_instance *a = pa, *b = pb;
	if (a->phase != b->phase)
		return a->phase == INST_WAITING;
	if (when(a) != when(b))
		return when(a) > when(b);
	return a->index > b->index;
}

static bool first_old(const void *pa, const void *pb)
{
	const struct m_instance *a = pa, *b = pb;
	if (a->phase != b->phase)
		return a->phase == INST_WAITING;
	if (when(a) != when(b))
		return when(a) < when(b);
	return a->index > b->index;
}

static bool first_high(const void *pa, const void *pb)
{
	return ((const struct m_instance *)pa)->index > ((const struct m_instance *)pb)->index;
}

static bool first_low(const void *pa, const void *pb)
{
	return ((const struct m_instance *)pa)->index < ((const struct m_instance *)pb)->index;
}

static bool first_none(const void *pa, const void *pb)
{
	(void)pa;
	(void)pb;
	return false;
}

void apps_order_init(struct m_app *ma)
{
	bool (*const cmp[ORD_N])(const void *, const void *) = {
		[ORD_YOUNG] = first_young, [ORD_OLD] = first_old,
		[ORD_HIGH] = first_high, [ORD_SUSP] = first_low, [ORD_STOP] = first_none,
		[ORD_LIVE] = first_none, [ORD_REPL] = first_none,
	};
	for (int k = 0; k < ORD_N; k++)
		iheap_init(&ma->order[k], offsetof(struct m_instance, hpos) + k * sizeof(uint32_t),
			   cmp[k]);
	valcount_init(&ma->placed);
}

void apps_order_release(struct m_app *ma)
{
	for (int k = 0; k < ORD_N; k++)
		iheap_release(&ma->order[k]);
	valcount_release(&ma->placed);
}

void apps_order_init_inst(struct m_instance *in)
{
	for (int k = 0; k < ORD_N; k++)
		in->hpos[k] = IHEAP_NONE;
	in->order_epoch = in->app->order_epoch;
}

void apps_order_drop(struct m_app *ma)
{
	/* Their arrays go too (8 MiB each at 1,000,000 instances): freed now, within the
	 * budget of the pass that begins the stop, rather than with the app at its end. */
	for (int k = 0; k < ORD_N; k++)
		iheap_release(&ma->order[k]);
	ma->order_epoch++;
}

/* An instance whose places predate apps_order_drop is in no order. */
static void fresh(struct m_instance *in)
{
	if (in->order_epoch != in->app->order_epoch)
		apps_order_init_inst(in);
}

void apps_inst_sync(struct m_instance *in)
{
	if (!in)
		return;
	fresh(in);
	struct m_app *ma = in->app;
	bool slot = apps_in_slot(ma, in);
	iheap_sync(&ma->order[ORD_YOUNG], in, slot);
	iheap_sync(&ma->order[ORD_OLD], in, slot);
	iheap_sync(&ma->order[ORD_HIGH], in, slot);
	iheap_sync(&ma->order[ORD_SUSP], in, in->goal == GOAL_SUSPEND && !in->held);
	iheap_sync(&ma->order[ORD_STOP], in,
		   in->goal == GOAL_STOP || (in->goal == GOAL_SUSPEND && in->phase == INST_LIVE));
	iheap_sync(&ma->order[ORD_LIVE], in, in->goal == GOAL_RUN && in->phase == INST_LIVE);
	iheap_sync(&ma->order[ORD_REPL], in, in->replacing != NULL);
	apps_inst_recount(in);
}

void apps_inst_unorder(struct m_instance *in)
{
	fresh(in);
	struct m_app *ma = in->app;
	for (int k = 0; k < ORD_N; k++)
		if (iheap_contains(&ma->order[k], in))
			iheap_remove(&ma->order[k], in);
	apps_inst_uncount(in);
}

struct m_instance *apps_first_to_stop(const struct m_app *ma)
{
	if (ma->def->stateful)
		return iheap_top(&ma->order[ORD_HIGH]);
	return iheap_top(&ma->order[ma->def->kill_selection == KILL_OLDEST_FIRST ? ORD_OLD
										    : ORD_YOUNG]);
}

struct m_instance *apps_first_to_wake(const struct m_app *ma)
{
	return iheap_top(&ma->order[ORD_SUSP]);
}

/* ---- where the live tasks are ---- */

static void snap_unref(struct place_snap *s)
{
	if (--s->refs)
		return;
	free(s->agent_id);
	free(s->hostname);
	attributes_release(&s->attrs);
	free(s->attrs_text);
	free(s);
}

static void snap_count(struct valcount *vc, const struct place_snap *s, int d)
{
	struct placement_target t = { s->hostname, &s->attrs };
	constraints_count_target(vc, &t, d);
	if (d > 0)
		valcount_add(vc, PLACE_AGENT, s->agent_id);
	else
		valcount_del(vc, PLACE_AGENT, s->agent_id);
}

static bool same(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

void apps_place_count(struct apps *m, struct m_instance *in, const struct m_agent *a)
{
	if (in->counted || in->phase != INST_LIVE || !a)
		return;
	struct place_snap *s = hmap_get(&m->place_snaps, a->id);
	if (s && (!same(s->hostname, a->hostname) || !same(s->attrs_text, a->attributes_text))) {
		s->current = false;
		hmap_del(&m->place_snaps, a->id);
		snap_unref(s);
		s = NULL;
	}
	if (!s) {
		s = xcalloc(1, sizeof(*s));
		s->agent_id = xstrdup(a->id);
		s->hostname = xstrdup(a->hostname ? a->hostname : "");
		attributes_copy(&s->attrs, &a->attrs);
		s->attrs_text = xstrdup(a->attributes_text ? a->attributes_text : "");
		s->refs = 1;
		s->current = true;
		hmap_put(&m->place_snaps, a->id, s);
	}
	s->refs++;
	in->counted = s;
	snap_count(&in->app->placed, s, 1);
}

void apps_place_uncount(struct m_instance *in)
{
	struct place_snap *s = in->counted;
	if (!s)
		return;
	snap_count(&in->app->placed, s, -1);
	in->counted = NULL;
	snap_unref(s);
}

void apps_place_snaps_free(struct apps *m)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->place_snaps, &i, &k, &v);) {
		struct place_snap *s = v;
		s->current = false;
		snap_unref(s);
	}
	hmap_release(&m->place_snaps);
	hmap_init(&m->place_snaps);
}

unsigned apps_tasks_on(const struct m_app *ma, const struct m_agent *a)
{
	return (unsigned)valcount_get(&ma->placed, PLACE_AGENT, a->id);
}
