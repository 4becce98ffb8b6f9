/* apps/inst-order.c: after random sequences of changes to an app's instances (goal, phase,
 * replaces, times, removals, drops of the orders), the kept orders hold exactly the
 * instances a walk would pick, their tops are what a sort would put first (the kill order
 * under each killSelection, the highest index of a stateful app, the lowest suspended
 * index), and the placement counts equal a count over the live instances — also after an
 * agent registered again with other attributes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "apps/apps-int.h"

enum { NAGENTS = 4 };
static struct m_agent agents[NAGENTS];
static const char *const texts[2][NAGENTS] = {
	{ "rack:r1;zone:a", "rack:r1;zone:b", "rack:r2", "" },
	{ "rack:r9;zone:a", "rack:r1;zone:b", "rack:r2;zone:c", "zone:z" },
};

static void agent_set(int i, int variant)
{
	struct m_agent *a = &agents[i];
	char err[64];
	attributes_release(&a->attrs);
	attributes_init(&a->attrs);
	assert_int_equal(attributes_parse(texts[variant][i], &a->attrs, err, sizeof(err)), 0);
	free(a->attributes_text);
	a->attributes_text = xstrdup(texts[variant][i]);
	free(a->hostname);
	a->hostname = xasprintf("host-%d%s", i % 3, variant ? "x" : "");
}

static struct app *parse(int instances)
{
	json_t *j = json_pack("{s:s, s:s, s:i}", "id", "/order", "cmd", "sleep 100",
			      "instances", instances);
	struct verr err = VERR_INIT;
	struct app *a = NULL;
	if (app_parse(j, "/", &err, &a) < 0)
		fail_msg("app_parse: %s", verr_first(&err));
	json_decref(j);
	return a;
}

static uint64_t when(const struct m_instance *in)
{
	return in->staged_at ? in->staged_at : in->created_at;
}

/* cmp_kill_order's order: a before b. */
static bool kill_before(const struct m_instance *a, const struct m_instance *b, bool young)
{
	if (a->phase != b->phase)
		return a->phase == INST_WAITING;
	if (when(a) != when(b))
		return young ? when(a) > when(b) : when(a) < when(b);
	return a->index > b->index;
}

static bool same_key(const struct m_instance *a, const struct m_instance *b)
{
	return a->phase == b->phase && when(a) == when(b) && a->index == b->index;
}

static void check(struct apps *m, struct m_app *ma)
{
	(void)m;
	const struct m_instance *young = NULL, *old = NULL, *high = NULL, *low = NULL;
	size_t nslot = 0, nsusp = 0, nstop = 0, nlive = 0;
	struct valcount vc = VALCOUNT_INIT;
	for (size_t i = 0; i < ma->ninst; i++) {
		const struct m_instance *in = ma->inst[i];
		bool slot = apps_in_slot(ma, in);
		if (slot) {
			nslot++;
			if (!young || kill_before(in, young, true))
				young = in;
			if (!old || kill_before(in, old, false))
				old = in;
			if (!high || in->index > high->index)
				high = in;
		}
		if (in->goal == GOAL_SUSPEND) {
			nsusp++;
			if (!low || in->index < low->index)
				low = in;
		}
		nstop += in->goal == GOAL_STOP || (in->goal == GOAL_SUSPEND && in->phase == INST_LIVE);
		nlive += in->goal == GOAL_RUN && in->phase == INST_LIVE;
		for (int k = 0; k < ORD_N; k++) {
			bool member = k <= ORD_HIGH ? slot
				      : k == ORD_SUSP ? in->goal == GOAL_SUSPEND
				      : k == ORD_STOP ? in->goal == GOAL_STOP ||
							    (in->goal == GOAL_SUSPEND &&
							     in->phase == INST_LIVE)
				      : k == ORD_REPL ? in->replacing != NULL
						      : in->goal == GOAL_RUN && in->phase == INST_LIVE;
			bool has = in->order_epoch == ma->order_epoch && in->hpos[k] != IHEAP_NONE;
			assert_int_equal(has, member);
		}
		if (in->phase == INST_LIVE && in->agent_id) {
			const struct m_agent *a = NULL;
			for (int k = 0; k < NAGENTS; k++)
				if (!strcmp(agents[k].id, in->agent_id))
					a = &agents[k];
			assert_non_null(in->counted);
			(void)a;
		} else {
			assert_null(in->counted);
		}
	}
	assert_int_equal(iheap_len(&ma->order[ORD_YOUNG]), nslot);
	assert_int_equal(iheap_len(&ma->order[ORD_OLD]), nslot);
	assert_int_equal(iheap_len(&ma->order[ORD_HIGH]), nslot);
	assert_int_equal(iheap_len(&ma->order[ORD_SUSP]), nsusp);
	assert_int_equal(iheap_len(&ma->order[ORD_STOP]), nstop);
	assert_int_equal(iheap_len(&ma->order[ORD_LIVE]), nlive);
	const struct m_instance *t;
	ma->def->stateful = false;
	ma->def->kill_selection = KILL_YOUNGEST_FIRST;
	t = apps_first_to_stop(ma);
	assert_true(t == young || (t && young && same_key(t, young)));
	ma->def->kill_selection = KILL_OLDEST_FIRST;
	t = apps_first_to_stop(ma);
	assert_true(t == old || (t && old && same_key(t, old)));
	ma->def->stateful = true;
	t = apps_first_to_stop(ma);
	assert_true(t == high || (t && high && t->index == high->index));
	ma->def->stateful = false;
	t = apps_first_to_wake(ma);
	assert_true(t == low || (t && low && t->index == low->index));
	valcount_release(&vc);
}

/* The placement counts equal a count of the live instances by their agent's attributes as
 * they were at launch (snap: the variant each agent had then). */
static void check_counts(struct m_app *ma, const int *variant_at_launch)
{
	(void)variant_at_launch;
	struct valcount vc = VALCOUNT_INIT;
	for (size_t i = 0; i < ma->ninst; i++) {
		const struct m_instance *in = ma->inst[i];
		if (!in->counted)
			continue;
		int k = in->agent_id[1] - '0';
		int v = (int)(in->seen_next); /* the variant recorded at launch (test only) */
		struct attributes at = ATTRIBUTES_INIT;
		char err[64];
		assert_int_equal(attributes_parse(texts[v][k], &at, err, sizeof(err)), 0);
		char *host = xasprintf("host-%d%s", k % 3, v ? "x" : "");
		struct placement_target pt = { host, &at };
		constraints_count_target(&vc, &pt, 1);
		valcount_add(&vc, PLACE_AGENT, in->agent_id);
		free(host);
		attributes_release(&at);
	}
	const char *fields[] = { "hostname", "rack", "zone", PLACE_AGENT };
	const char *vals[] = { "host-0", "host-1", "host-2", "host-0x", "host-1x", "host-2x", "r1",
			       "r2", "r9", "a", "b", "c", "z", "a0", "a1", "a2", "a3" };
	for (size_t f = 0; f < 4; f++) {
		assert_int_equal(valcount_total(&ma->placed, fields[f]),
				 valcount_total(&vc, fields[f]));
		for (size_t v = 0; v < sizeof(vals) / sizeof(*vals); v++)
			assert_int_equal(valcount_get(&ma->placed, fields[f], vals[v]),
					 valcount_get(&vc, fields[f], vals[v]));
	}
	valcount_release(&vc);
}

static void test_random(void **state)
{
	(void)state;
	int variant[NAGENTS] = { 0 };
	for (int i = 0; i < NAGENTS; i++) {
		agents[i].id = xasprintf("a%d", i);
		agent_set(i, 0);
	}
	struct apps m = { 0 };
	hmap_init(&m.apps);
	hmap_init(&m.tasks);
	hmap_init(&m.place_snaps);
	struct m_app *ma = apps_app_new();
	ma->def = parse(10);
	ma->versions = json_array();
	srand(3);
	for (unsigned step = 0; step < 20000; step++) {
		struct m_instance *in = ma->ninst ? ma->inst[(size_t)rand() % ma->ninst] : NULL;
		switch (rand() % 10) {
		case 0:
		case 1: {
			struct m_instance *n = apps_add_instance(&m, ma, (unsigned)(rand() % 40), NULL);
			n->created_at = (uint64_t)(rand() % 50); /* ties included */
			apps_inst_sync(n);
			break;
		}
		case 2:
			if (in)
				apps_set_goal(in, (enum inst_goal)(rand() % 3));
			break;
		case 3: /* a launch */
			if (in && in->phase == INST_WAITING) {
				int k = rand() % NAGENTS;
				free(in->agent_id);
				in->agent_id = xstrdup(agents[k].id);
				apps_set_phase(in, INST_LIVE);
				in->staged_at = (uint64_t)(rand() % 50);
				in->seen_next = (unsigned)variant[k]; /* the test's record of it */
				apps_inst_sync(in);
				apps_place_count(&m, in, &agents[k]);
			}
			break;
		case 4: /* the task ended */
			if (in && in->phase == INST_LIVE)
				apps_set_phase(in, INST_WAITING);
			break;
		case 5: { /* a replacement (of one nobody else replaces, as the pass does), or none */
			struct m_instance *o = ma->ninst ? ma->inst[(size_t)rand() % ma->ninst] : NULL;
			if (in && o != in && rand() % 3 && !o->replaced_by)
				apps_set_replaces(in, o);
			else if (in)
				apps_set_replaces(in, NULL);
			break;
		}
		case 6:
		case 7:
			if (in)
				apps_remove_instance(&m, in);
			break;
		case 8: /* an agent registers again with other attributes */
			if (rand() % 4 == 0) {
				int k = rand() % NAGENTS;
				variant[k] = !variant[k];
				agent_set(k, variant[k]);
			}
			break;
		default: /* a stop of every instance drops the orders, then syncs each */
			if (rand() % 20 == 0) {
				apps_order_drop(ma);
				for (size_t i = 0; i < ma->ninst; i++)
					apps_inst_sync(ma->inst[i]);
			}
		}
		if (step % 7 == 0) {
			check(&m, ma);
			check_counts(ma, variant);
		}
	}
	check(&m, ma);
	check_counts(ma, variant);
	hmap_put(&m.apps, ma->def->id, ma);
	apps_free_all(&m);
	hmap_release(&m.tasks);
	for (int i = 0; i < NAGENTS; i++) {
		free(agents[i].id);
		free(agents[i].hostname);
		free(agents[i].attributes_text);
		attributes_release(&agents[i].attrs);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
