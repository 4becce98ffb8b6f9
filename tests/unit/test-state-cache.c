/* The per-task cache of /master/state (master/state-cache.c): after random sequences of
 * changes to tasks and their agents, every piece the cache gives is the bytes a render from
 * scratch gives, an unchanged task is not rendered again, and gone tasks are forgotten; the
 * same for agents' renderings (GET_AGENTS's and /master/slaves's shapes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "master/master-int.h"
#include "master/state-cache.h"
#include "master/state-json.h"

#define NTASKS 24
#define NAGENTS 3
#define FLAGS (JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15))

struct t {
	char id[32], fw[32], name[32], agent[32], state[32], role[16], user[16];
	bool has_user, live;
	struct resources res;
	uint64_t staged, started;
	int healthy;
	json_t *labels, *disc;
};

static struct t tasks[NTASKS];
static struct m_agent agents[NAGENTS];
static char agent_ips[NAGENTS][32];
static char agent_ids[NAGENTS][16];

static const char *const states[] = { "TASK_STAGING", "TASK_RUNNING", "TASK_FINISHED",
				      "TASK_FAILED", "TASK_KILLED", "TASK_UNREACHABLE",
				      "TASK_KILLING", "TASK_LOST" };

static void view_of(const struct t *x, struct rm_task_view *v)
{
	*v = (struct rm_task_view){ .id = x->id, .framework_id = x->fw, .name = x->name,
				    .agent_id = x->agent, .state = x->state, .role = x->role,
				    .user = x->has_user ? x->user : NULL, .res = &x->res,
				    .staged_usec = x->staged, .started_usec = x->started,
				    .healthy = x->healthy, .has_health = x->healthy >= 0,
				    .labels = x->labels,
				    .discovery = x->disc ? json_deep_copy(x->disc) : NULL };
}

static const struct m_agent *agent_of(const struct t *x)
{
	for (size_t i = 0; i < NAGENTS; i++)
		if (!strcmp(agent_ids[i], x->agent))
			return &agents[i];
	return NULL;
}

static void task_init(struct t *x, unsigned i)
{
	memset(x, 0, sizeof(*x));
	snprintf(x->id, sizeof(x->id), "task-%u", i);
	snprintf(x->fw, sizeof(x->fw), "fw-%u", i % 3);
	snprintf(x->name, sizeof(x->name), "name-%u", i);
	snprintf(x->agent, sizeof(x->agent), "%s", agent_ids[i % NAGENTS]);
	snprintf(x->state, sizeof(x->state), "TASK_RUNNING");
	snprintf(x->role, sizeof(x->role), "*");
	resources_add_scalar(&x->res, "cpus", "*", 0.5);
	resources_add_scalar(&x->res, "mem", "*", 64);
	x->healthy = -1;
	x->live = true;
	x->staged = 1700000000000000ull + i;
}

static void mutate(struct t *x)
{
	switch (rand() % 12) {
	case 0:
		snprintf(x->state, sizeof(x->state), "%s", states[rand() % 8]);
		break;
	case 1:
		snprintf(x->name, sizeof(x->name), "n%d", rand() % 5);
		break;
	case 2:
		x->healthy = rand() % 3 - 1;
		break;
	case 3:
		x->started = rand() % 2 ? 0 : 1700000000000000ull + (uint64_t)rand();
		break;
	case 4:
		resources_add_scalar(&x->res, "cpus", "*", 0.25);
		break;
	case 5:
		resources_add_range(&x->res, "ports", "*", 31000 + rand() % 10, 31010 + rand() % 10);
		break;
	case 6:
		json_decref(x->labels);
		x->labels = rand() % 2 ? NULL : json_pack("{s:s}", "k", rand() % 2 ? "a" : "b");
		break;
	case 7:
		json_decref(x->disc);
		x->disc = rand() % 2 ? NULL
				     : json_pack("{s:s, s:s, s:{s:[{s:i}]}}", "visibility",
						 "FRAMEWORK", "name", rand() % 2 ? "x" : "y",
						 "ports", "ports", "number", rand() % 3);
		break;
	case 8:
		x->has_user = rand() % 2;
		snprintf(x->user, sizeof(x->user), "u%d", rand() % 3);
		break;
	case 9:
		snprintf(x->agent, sizeof(x->agent), "%s",
			 rand() % 4 ? agent_ids[rand() % NAGENTS] : "gone-agent");
		break;
	case 10: { /* the agent's ip, which the RUNNING status carries */
		size_t a = (size_t)rand() % NAGENTS;
		snprintf(agent_ips[a], sizeof(agent_ips[a]), "10.0.0.%d", rand() % 250);
		agents[a].ip = rand() % 5 ? agent_ips[a] : NULL;
		break;
	}
	default:
		snprintf(x->role, sizeof(x->role), rand() % 2 ? "*" : "web");
		break;
	}
}

static char *fresh(const struct t *x, bool v1)
{
	struct rm_task_view v;
	view_of(x, &v);
	json_t *j = state_json_task(&v, agent_of(x), v1);
	char *s = json_dumps(j, FLAGS);
	json_decref(j);
	return s;
}

static void test_random_changes(void **state)
{
	(void)state;
	srand(12);
	state_cache_set_verify(false);
	for (size_t i = 0; i < NAGENTS; i++) {
		snprintf(agent_ids[i], sizeof(agent_ids[i]), "agent-%zu", i);
		snprintf(agent_ips[i], sizeof(agent_ips[i]), "10.0.0.%zu", i + 1);
		agents[i].id = agent_ids[i];
		agents[i].ip = agent_ips[i];
	}
	for (unsigned i = 0; i < NTASKS; i++)
		task_init(&tasks[i], i);
	struct state_cache *c = state_cache_new();
	struct http_piece *last[NTASKS] = { 0 };
	unsigned long hits = 0, renders = 0;
	for (int round = 0; round < 400; round++) {
		bool changed[NTASKS] = { 0 };
		for (int k = rand() % 4; k-- > 0;) {
			unsigned i = (unsigned)rand() % NTASKS;
			mutate(&tasks[i]);
			changed[i] = true;
		}
		if (rand() % 8 == 0) { /* a task goes or comes back */
			unsigned i = (unsigned)rand() % NTASKS;
			tasks[i].live = !tasks[i].live;
			changed[i] = true;
		}
		size_t live = 0;
		for (unsigned i = 0; i < NTASKS; i++) {
			if (!tasks[i].live) {
				last[i] = NULL;
				continue;
			}
			live++;
			struct rm_task_view v;
			view_of(&tasks[i], &v);
			bool v1 = rand() % 3 == 0; /* GET_TASKS's shape too, some rounds */
			if (v1) {
				struct sc_task *e1 = state_cache_task(c, &v, agent_of(&tasks[i]), true);
				char *w1 = fresh(&tasks[i], true);
				assert_int_equal(e1->v1->len, strlen(w1) + 1);
				assert_memory_equal(e1->v1->data + 1, w1, strlen(w1));
				free(w1);
				view_of(&tasks[i], &v);
			}
			struct sc_task *e = state_cache_task(c, &v, agent_of(&tasks[i]), false);
			char *want = fresh(&tasks[i], false);
			assert_int_equal(e->piece->len, strlen(want) + 1);
			assert_int_equal(e->piece->data[0], ',');
			assert_memory_equal(e->piece->data + 1, want, strlen(want));
			assert_true(e->user ? tasks[i].has_user && !strcmp(e->user, tasks[i].user)
					    : !tasks[i].has_user);
			free(want);
			if (e->piece == last[i])
				hits++;
			else
				renders++;
			/* nothing changed in any task: no new rendering (agent ip changes
			 * count as changes of every task, so only a quiet round is checked) */
			bool quiet = true;
			for (unsigned j = 0; j < NTASKS; j++)
				quiet &= !changed[j];
			if (quiet && last[i])
				assert_ptr_equal(e->piece, last[i]);
			last[i] = e->piece;
		}
		state_cache_sweep(c, 0);
		assert_int_equal(state_cache_len(c), live);
	}
	assert_true(hits > renders); /* the cache is used */
	assert_int_equal(state_cache_stale(c), 0);
	state_cache_free(c);
	for (unsigned i = 0; i < NTASKS; i++) {
		resources_release(&tasks[i].res);
		json_decref(tasks[i].labels);
		json_decref(tasks[i].disc);
	}
}

/* Two frameworks may use one task id: they are cached apart. */
static void test_same_id_two_frameworks(void **state)
{
	(void)state;
	struct state_cache *c = state_cache_new();
	struct t a, b;
	task_init(&a, 1);
	task_init(&b, 1);
	snprintf(b.fw, sizeof(b.fw), "other");
	snprintf(b.name, sizeof(b.name), "other-name");
	struct rm_task_view va, vb;
	view_of(&a, &va);
	view_of(&b, &vb);
	struct sc_task *ea = state_cache_task(c, &va, NULL, false);
	struct sc_task *eb = state_cache_task(c, &vb, NULL, false);
	assert_ptr_not_equal(ea, eb);
	assert_non_null(strstr(ea->piece->data, "\"name-1\""));
	assert_non_null(strstr(eb->piece->data, "\"other-name\""));
	state_cache_sweep(c, 0);
	assert_int_equal(state_cache_len(c), 2);
	state_cache_sweep(c, 0); /* a walk that saw neither */
	assert_int_equal(state_cache_len(c), 0);
	state_cache_free(c);
	resources_release(&a.res);
	resources_release(&b.res);
}

/* ---- agents: every shape's piece is a render from scratch after random changes ---- */

static char *agent_fresh(const struct m_agent *a, json_t *(*render)(const struct m_agent *))
{
	json_t *j = render(a);
	char *s = json_dumps(j, FLAGS);
	json_decref(j);
	return s;
}

static void agent_mutate(struct m_agent *a, struct attribute *attr, char *host, char *http)
{
	switch (rand() % 11) {
	case 0:
		snprintf(host, 32, "host-%d", rand() % 4);
		break;
	case 1: /* a new address: http and ip together */
		snprintf(http, 32, "10.1.0.%d:%d", rand() % 4, 5051 + rand() % 3);
		break;
	case 2:
		a->state = (enum agent_state)(rand() % 3);
		break;
	case 3:
		a->deactivated = !a->deactivated;
		break;
	case 4:
		a->drain = (enum agent_drain)(rand() % 3);
		a->drain_mark_gone = rand() % 2;
		a->drain_grace_nsec = rand() % 2 ? -1 : (int64_t)rand();
		break;
	case 5:
		a->registered_usec = 1700000000000000ull + (uint64_t)rand();
		break;
	case 6:
		a->ntasks = (unsigned)rand() % 5;
		break;
	case 7:
		resources_add_scalar(&a->led.used, "cpus", rand() % 2 ? "*" : "web", 0.5);
		break;
	case 8:
		resources_add_scalar(&a->led.total, "mem", "*", 128);
		break;
	case 9:
		attr->scalar = rand() % 3;
		break;
	default:
		a->gone = !a->gone;
		break;
	}
}

static void test_agents_random_changes(void **state)
{
	(void)state;
	srand(7);
	state_cache_set_verify(false);
	static struct m_agent ag[NAGENTS];
	static struct attribute attr[NAGENTS];
	static char ids[NAGENTS][16], hosts[NAGENTS][32], https[NAGENTS][32], ips[NAGENTS][32];
	memset(ag, 0, sizeof(ag));
	for (size_t i = 0; i < NAGENTS; i++) {
		snprintf(ids[i], sizeof(ids[i]), "ag-%zu", i);
		snprintf(hosts[i], sizeof(hosts[i]), "host-%zu", i);
		snprintf(https[i], sizeof(https[i]), "10.1.0.%zu:5051", i);
		attr[i] = (struct attribute){ .name = "rack", .type = ATTR_SCALAR, .text = "1",
					      .scalar = 1 };
		ag[i].id = ids[i];
		ag[i].hostname = hosts[i];
		ag[i].http = https[i];
		ag[i].attrs = (struct attributes){ &attr[i], 1 };
		ag[i].state = AGENT_CONNECTED;
		ag[i].drain_grace_nsec = -1;
		resources_add_scalar(&ag[i].led.total, "cpus", "*", 4);
	}
	json_t *(*renders[2])(const struct m_agent *) = { state_json_v1_agent,
							  registry_render_slave };
	const int shapes[2] = { SC_AGENT_V1, SC_AGENT_SLAVES };
	struct state_cache *c = state_cache_new();
	struct http_piece *last[NAGENTS][2] = { { 0 } };
	unsigned long hits = 0, renders_n = 0;
	for (int round = 0; round < 300; round++) {
		bool quiet = true;
		for (int k = rand() % 3; k-- > 0;) {
			size_t i = (size_t)rand() % NAGENTS;
			agent_mutate(&ag[i], &attr[i], hosts[i], https[i]);
			char *colon = strrchr(https[i], ':');
			snprintf(ips[i], sizeof(ips[i]), "%.*s", (int)(colon - https[i]), https[i]);
			ag[i].ip = ips[i];
			quiet = false;
		}
		for (size_t i = 0; i < NAGENTS; i++) {
			for (int s = 0; s < 2; s++) {
				struct http_piece *p = state_cache_agent(c, &ag[i], shapes[s], renders[s]);
				char *want = agent_fresh(&ag[i], renders[s]);
				assert_int_equal(p->len, strlen(want) + 1);
				assert_int_equal(p->data[0], ',');
				assert_memory_equal(p->data + 1, want, strlen(want));
				free(want);
				if (p == last[i][s])
					hits++;
				else
					renders_n++;
				if (quiet && last[i][s])
					assert_ptr_equal(p, last[i][s]);
				last[i][s] = p;
			}
		}
		state_cache_agents_sweep(c);
	}
	assert_true(hits > renders_n);
	assert_int_equal(state_cache_stale(c), 0);
	/* a walk that saw no agent forgets them all */
	state_cache_agents_sweep(c);
	state_cache_free(c);
	for (size_t i = 0; i < NAGENTS; i++) {
		resources_release(&ag[i].led.total);
		resources_release(&ag[i].led.used);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_changes),
		cmocka_unit_test(test_agents_random_changes),
		cmocka_unit_test(test_same_id_two_frameworks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
