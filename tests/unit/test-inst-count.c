/* apps/inst-count.c: after random sequences of changes to the instances of two apps (goal,
 * phase, state, health, readiness, kill sent, version, agent, pinned agent, replaces,
 * removals, config_version changes, drops of the orders), the counters, the version index,
 * the per-agent index and the held external volumes equal what a walk over every
 * instance finds: render.c's task counts, the instances up (under each mix of health and
 * readiness checks), the live outdated ones, the live and pinned ones of each agent and
 * whether a volume is busy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "model/volumes.h"
#include "apps/apps-int.h"

enum { NAGENTS = 4, NAPPS = 2 };
static const char *const agent_ids[NAGENTS] = { "a0", "a1", "a2", "a3" };
static const char *const states[] = { "TASK_STAGING", "TASK_STARTING", "TASK_RUNNING",
				      "TASK_KILLING", "TASK_UNKNOWN" };
static const char *const versions[] = { "2026-01-01T00:00:00.000Z", "2026-01-02T00:00:00.000Z",
					"2026-01-03T00:00:00.000Z" };

static struct app *parse(const char *id, const char *vol)
{
	json_t *j = json_pack("{s:s, s:s, s:i}", "id", id, "cmd", "sleep 100", "instances",
			      vol && !strchr(vol, '{') ? 1 : 10);
	if (vol)
		json_object_set_new(
			j, "container",
			json_pack("{s:s, s:[{s:s, s:s, s:{s:s, s:s, s:{s:s}}}]}", "type", "MESOS",
				  "volumes", "containerPath", "vol", "mode", "RW", "external",
				  "name", vol, "provider", "dvdi", "options", "dvdi/driver",
				  "rexray"));
	struct verr err = VERR_INIT;
	struct app *a = NULL;
	if (app_parse(j, "/", &err, &a) < 0)
		fail_msg("app_parse: %s", verr_first(&err));
	json_decref(j);
	return a;
}

/* A walk over every instance of ma. */
static void check_app(struct apps *m, struct m_app *ma)
{
	size_t staged = 0, running = 0, healthy = 0, unhealthy = 0, kill = 0;
	bool any_old = false;
	size_t nold = 0;
	for (size_t i = 0; i < ma->ninst; i++) {
		const struct m_instance *in = ma->inst[i];
		if (in->phase == INST_LIVE) {
			healthy += in->healthy == 1;
			unhealthy += in->healthy == 0;
			if (!strcmp(in->state, "TASK_RUNNING"))
				running++;
			else if (!strcmp(in->state, "TASK_STAGING") ||
				 !strcmp(in->state, "TASK_STARTING"))
				staged++;
			if (strcmp(in->version, ma->config_version) < 0) {
				any_old = true;
				nold++;
			}
			kill += in->goal == GOAL_RUN && in->kill_sent;
		}
	}
	assert_int_equal(ma->cnt[K_STAGED], staged);
	assert_int_equal(ma->cnt[K_RUNNING], running);
	assert_int_equal(ma->cnt[K_HEALTHY], healthy);
	assert_int_equal(ma->cnt[K_UNHEALTHY], unhealthy);
	assert_int_equal(ma->cnt[K_RUN_KILL], kill);
	assert_int_equal(apps_any_live_outdated(ma), any_old);
	/* Up, under each mix of checks (the definition's counts are what apps_instance_up
	 * reads). */
	size_t nh = ma->def->nhealth_checks, nr = ma->def->nreadiness_checks;
	for (int mix = 0; mix < 4; mix++) {
		ma->def->nhealth_checks = mix & 1;
		ma->def->nreadiness_checks = (mix >> 1) & 1;
		size_t up = 0;
		for (size_t i = 0; i < ma->ninst; i++)
			up += ma->inst[i]->goal == GOAL_RUN && apps_instance_up(ma->inst[i]);
		assert_int_equal(apps_up_count(ma), up);
	}
	ma->def->nhealth_checks = nh;
	ma->def->nreadiness_checks = nr;
	/* The outdated ones: each once, each live at an older version. */
	struct m_instance **v = NULL;
	size_t n = 0, cap = 0;
	apps_live_outdated(ma, &v, &n, &cap);
	assert_int_equal(n, nold);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(v[i]->phase, INST_LIVE);
		assert_true(strcmp(v[i]->version, ma->config_version) < 0);
		for (size_t j = 0; j < i; j++)
			assert_ptr_not_equal(v[i], v[j]);
	}
	free(v);
	(void)m;
}

static void check_all(struct apps *m, struct m_app **apps)
{
	for (int a = 0; a < NAPPS; a++)
		check_app(m, apps[a]);
	for (int k = 0; k < NAGENTS; k++) {
		for (int pinned = 0; pinned < 2; pinned++) {
			size_t want = 0, n;
			for (int a = 0; a < NAPPS; a++)
				for (size_t i = 0; i < apps[a]->ninst; i++) {
					const struct m_instance *in = apps[a]->inst[i];
					const char *on = pinned ? in->pinned_agent
						       : in->phase == INST_LIVE ? in->agent_id : NULL;
					want += on && !strcmp(on, agent_ids[k]);
				}
			struct m_instance **got = apps_insts_on_agent(m, agent_ids[k], pinned, &n);
			assert_int_equal(n, want);
			for (size_t i = 0; i < n; i++) {
				const char *on = pinned ? got[i]->pinned_agent : got[i]->agent_id;
				assert_string_equal(on, agent_ids[k]);
				if (!pinned)
					assert_int_equal(got[i]->phase, INST_LIVE);
			}
			free(got);
		}
	}
	assert_true(hmap_len(&m->by_agent) <= NAGENTS);
	/* apps_volume_busy against the walk it replaced, for every name and a few selves. */
	for (unsigned idx = 0; idx < 12; idx++) {
		char name[32];
		snprintf(name, sizeof(name), "vol-%u", idx);
		const char *names[] = { name, "one" };
		for (int nn = 0; nn < 2; nn++) {
			const struct m_instance *selves[3] = { NULL, NULL, NULL };
			if (apps[0]->ninst)
				selves[1] = apps[0]->inst[idx % apps[0]->ninst];
			if (apps[1]->ninst)
				selves[2] = apps[1]->inst[idx % apps[1]->ninst];
			for (int s = 0; s < 3; s++) {
				bool busy = false;
				for (int a = 0; a < NAPPS; a++) {
					const struct app *def = apps[a]->def;
					for (size_t vi = 0; vi < def->nvolumes; vi++) {
						const struct app_volume *vol = &def->volumes[vi];
						if (vol->type != VOL_EXTERNAL || vol->shared)
							continue;
						for (size_t j = 0; j < apps[a]->ninst; j++) {
							const struct m_instance *in = apps[a]->inst[j];
							if (in == selves[s] || in->phase != INST_LIVE)
								continue;
							char *vn = volume_name_for(vol, in->index);
							busy |= !strcmp(vn, names[nn]);
							free(vn);
						}
					}
				}
				assert_int_equal(apps_volume_busy(m, names[nn], selves[s]), busy);
			}
		}
	}
}

static void test_random(void **state)
{
	(void)state;
	struct apps m = { 0 };
	hmap_init(&m.apps);
	hmap_init(&m.tasks);
	hmap_init(&m.place_snaps);
	hmap_init(&m.by_agent);
	hmap_init(&m.vol_held);
	struct m_app *apps[NAPPS];
	const char *vols[NAPPS] = { "vol-{index}", "one" };
	for (int a = 0; a < NAPPS; a++) {
		apps[a] = apps_app_new();
		apps[a]->def = parse(a ? "/two" : "/one", vols[a]);
		apps[a]->versions = json_array();
		snprintf(apps[a]->config_version, sizeof(apps[a]->config_version), "%s", versions[1]);
		hmap_put(&m.apps, apps[a]->def->id, apps[a]);
		apps[a]->owner = &m;
	}
	srand(12);
	for (unsigned step = 0; step < 30000; step++) {
		struct m_app *ma = apps[rand() % NAPPS];
		struct m_instance *in = ma->ninst ? ma->inst[(size_t)rand() % ma->ninst] : NULL;
		switch (rand() % 14) {
		case 0:
		case 1:
			apps_add_instance(&m, ma, (unsigned)(rand() % 12), NULL);
			break;
		case 2:
			if (in)
				apps_set_goal(in, (enum inst_goal)(rand() % 3));
			break;
		case 3: /* a launch, as schedule.c's */
			if (in && in->phase == INST_WAITING) {
				free(in->agent_id);
				in->agent_id = xstrdup(agent_ids[rand() % NAGENTS]);
				snprintf(in->version, sizeof(in->version), "%s",
					 versions[rand() % 3]);
				apps_set_phase(in, INST_LIVE);
				in->state = "TASK_STAGING";
				in->kill_sent = false;
				in->healthy = -1;
				in->ready = false;
				apps_inst_recount(in);
			}
			break;
		case 4: /* the task ended, as apps.c's task_ended */
			if (in && in->phase == INST_LIVE) {
				apps_set_phase(in, INST_WAITING);
				in->state = "TASK_FAILED";
				apps_inst_recount(in);
			}
			break;
		case 5: /* a status update */
			if (in && in->phase == INST_LIVE) {
				in->state = states[rand() % 5];
				apps_inst_recount(in);
			}
			break;
		case 6: /* health, readiness, a kill */
			if (in) {
				int r = rand() % 3;
				if (r == 0)
					in->healthy = rand() % 3 - 1;
				else if (r == 1)
					in->ready = rand() % 2;
				else
					in->kill_sent = rand() % 2;
				apps_inst_recount(in);
			}
			break;
		case 7: /* a replacement, or none */
			if (in) {
				struct m_instance *o = ma->inst[(size_t)rand() % ma->ninst];
				if (o != in && rand() % 3 && !o->replaced_by)
					apps_set_replaces(in, o);
				else
					apps_set_replaces(in, NULL);
			}
			break;
		case 8:
		case 9:
			if (in) {
				free(in->pinned_agent); /* no resource manager here */
				in->pinned_agent = NULL;
				apps_remove_instance(&m, in);
			}
			break;
		case 10: /* pinned to an agent (first placement of a resident one), or its
			  * volumes destroyed (apps_destroy_volumes clears the pin) */
			if (in && !in->pinned_agent) {
				in->pinned_agent = xstrdup(agent_ids[rand() % NAGENTS]);
				apps_inst_recount(in);
			} else if (in) { /* as apps_destroy_volumes does */
				free(in->pinned_agent);
				in->pinned_agent = NULL;
				apps_inst_recount(in);
			}
			break;
		case 11: /* an in-place resize or a new config version */
			if (in && in->phase == INST_LIVE && rand() % 2) {
				snprintf(in->version, sizeof(in->version), "%s",
					 versions[rand() % 3]);
				apps_inst_recount(in);
			} else {
				snprintf(ma->config_version, sizeof(ma->config_version), "%s",
					 versions[rand() % 3]);
			}
			break;
		case 12: /* a stop of every instance drops the orders, then syncs each */
			if (rand() % 10 == 0) {
				apps_order_drop(ma);
				for (size_t i = 0; i < ma->ninst; i++)
					apps_inst_sync(ma->inst[i]);
			}
			break;
		default:
			break;
		}
		if (step % 5 == 0)
			check_all(&m, apps);
	}
	check_all(&m, apps);
	/* Every instance gone: nothing indexed is left. */
	for (int a = 0; a < NAPPS; a++) {
		while (apps[a]->ninst) {
			struct m_instance *in = apps[a]->inst[0];
			free(in->pinned_agent);
			in->pinned_agent = NULL;
			apps_remove_instance(&m, in);
		}
		assert_int_equal(hmap_len(&apps[a]->vers), 0);
		for (int k = 0; k < K_N; k++)
			assert_int_equal(apps[a]->cnt[k], 0);
	}
	assert_int_equal(hmap_len(&m.by_agent), 0);
	assert_int_equal(hmap_len(&m.vol_held), 0);
	apps_free_all(&m);
	hmap_release(&m.tasks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
