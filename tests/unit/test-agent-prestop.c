/* The agent's side of pre-stop commands (agent-protocol.md §9) with the real fork server and
 * shim (BERTH_EXECUTOR): a KILL's pre_stop parsed and handed to the shim, which runs it
 * before the SIGTERM; a second KILL changes nothing; a KILL without one is unchanged (and
 * removes a stale file); the fence never runs one; an agent restarted mid-pre-stop finds the
 * task killing and reports it killed. No master: updates stay in the agent's FIFO. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/agent-int.h"
#include "base/mem.h"
#include "executor/exec-prestop.h"
#include "shim-fixture.h"

static void noop(evutil_socket_t fd, short what, void *arg)
{
}

static struct agent *agent_open(const char *wd)
{
	struct agent *a = xcalloc(1, sizeof(*a));
	a->base = event_base_new();
	assert_non_null(a->base);
	a->spawner_fd = -1;
	a->inotify_fd = -1;
	a->work_dir = xstrdup(wd);
	a->meta_root = xasprintf("%s/meta", wd);
	a->sandbox_root = xasprintf("%s/sandboxes", wd);
	a->health_root = xasprintf("%s/health", wd);
	a->volume_root = xasprintf("%s/volumes", wd);
	mkdir(a->meta_root, 0700);
	mkdir(a->sandbox_root, 0755);
	mkdir(a->health_root, 0755);
	a->executor_path = xstrdup(getenv("BERTH_EXECUTOR"));
	a->endpoint = xstrdup("127.0.0.1:5051");
	a->flush_ev = evtimer_new(a->base, noop, NULL); /* no master: nothing is sent */
	return a;
}

/* Leaves the shims running, as an agent that stops or crashes does. */
static void agent_close(struct agent *a)
{
	agent_spawner_stop(a);
	agent_tasks_free(a);
	agent_updates_free(a);
	event_free(a->flush_ev);
	event_base_free(a->base);
	free(a->backlog);
	free(a->work_dir);
	free(a->meta_root);
	free(a->sandbox_root);
	free(a->health_root);
	free(a->volume_root);
	free(a->executor_path);
	free(a->endpoint);
	free(a);
}

/* Runs the loop until t's state is state (or, with NULL, t is terminal); 10 s at most. */
static bool run_until(struct agent *a, struct agent_task *t, const char *state)
{
	for (int i = 0; i < 2000; i++) {
		event_base_loop(a->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		if (state ? !strcmp(t->state, state) : t->terminal)
			return true;
		usleep(5000);
	}
	return false;
}

/* The states queued for the task, space-separated. */
static char *states(struct agent *a)
{
	char *s = xstrdup("");
	for (struct agent_update *u = a->uq_head; u; u = u->next) {
		char *n = xasprintf("%s%s%s", s, *s ? " " : "",
				    json_string_value(json_object_get(u->json, "state")));
		free(s);
		s = n;
	}
	return s;
}

#define TRAP_TASK                                                                         \
	"trap 'if [ -f marker ]; then echo seen > term; else echo missing > term; fi; exit 0'" \
	" TERM; echo ready; while :; do sleep 0.02; done"

static struct agent_task *launch(struct agent *a, const char *id)
{
	json_t *spec = json_pack("{s:s, s:s, s:{s:s}, s:f}", "task_id", id, "cmd", TRAP_TASK,
				 "env", "GREETING", "hi there", "kill_grace_period_seconds", 5.0);
	assert_int_equal(agent_task_launch(a, spec), 0);
	json_decref(spec);
	struct agent_task *t = agent_task_find(a, id);
	assert_non_null(t);
	assert_true(run_until(a, t, "TASK_RUNNING"));
	assert_true(shimfx_wait_file(t->sandbox, "stdout", "ready", 5000));
	return t;
}

static void test_parse(void **state)
{
	static const struct {
		const char *json;
		int r;
		uint32_t ms;
	} cases[] = {
		{ "{\"command\": \"x\", \"timeout_seconds\": 30}", 0, 30000 },
		{ "{\"command\": \"x\", \"timeout_seconds\": 2.5}", 0, 2500 },
		{ "{\"command\": \"x\", \"timeout_seconds\": 0.0001}", 0, 1 },
		{ "{\"command\": \"x\", \"timeout_seconds\": 86400}", 0, 86400000 },
		{ "{\"command\": \"x\"}", 0, EXEC_PRESTOP_DEFAULT_TIMEOUT_MS },
		{ "{\"command\": \"x\", \"timeout_seconds\": 0}", 0, EXEC_PRESTOP_DEFAULT_TIMEOUT_MS },
		{ "{\"command\": \"x\", \"timeout_seconds\": -3}", 0, EXEC_PRESTOP_DEFAULT_TIMEOUT_MS },
		{ "{\"command\": \"x\", \"timeout_seconds\": 86401}", 0,
		  EXEC_PRESTOP_DEFAULT_TIMEOUT_MS },
		{ "{\"command\": \"x\", \"timeout_seconds\": \"9\"}", 0,
		  EXEC_PRESTOP_DEFAULT_TIMEOUT_MS },
		{ "{\"timeout_seconds\": 3}", -EINVAL, 0 },
		{ "{\"command\": \"\"}", -EINVAL, 0 },
		{ "{\"command\": 7}", -EINVAL, 0 },
		{ "{\"command\": \"a\\u0000b\"}", -EINVAL, 0 },
		{ "\"echo\"", -EINVAL, 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		json_t *j = json_loads(cases[i].json, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		assert_non_null(j);
		const char *cmd = NULL;
		uint32_t ms = 0;
		int r = agent_prestop_parse(j, &cmd, &ms);
		if (r != cases[i].r || (r == 0 && (ms != cases[i].ms || strcmp(cmd, "x"))))
			fail_msg("case %zu: %d %u", i, r, (unsigned)ms);
		json_decref(j);
	}
	/* A command exactly at the limit, and one byte over. */
	char *big = xmalloc(EXEC_PRESTOP_MAX_COMMAND + 2);
	memset(big, 'a', EXEC_PRESTOP_MAX_COMMAND + 1);
	big[EXEC_PRESTOP_MAX_COMMAND] = '\0';
	json_t *j = json_pack("{s:s}", "command", big);
	const char *cmd;
	uint32_t ms;
	assert_int_equal(agent_prestop_parse(j, &cmd, &ms), 0);
	json_decref(j);
	big[EXEC_PRESTOP_MAX_COMMAND] = 'a';
	big[EXEC_PRESTOP_MAX_COMMAND + 1] = '\0';
	j = json_pack("{s:s}", "command", big);
	assert_int_equal(agent_prestop_parse(j, &cmd, &ms), -EINVAL);
	json_decref(j);
	free(big);
}

static void test_kill_with_prestop(void **state)
{
	if (!shimfx_have_shim())
		skip();
	char *wd = shimfx_tmpdir("test-agent-prestop");
	struct agent *a = agent_open(wd);
	struct agent_task *t = launch(a, "app.1");
	json_t *ps = json_pack("{s:s, s:f}", "command",
			       "echo \"pre $GREETING\"; sleep 0.3; touch marker",
			       "timeout_seconds", 10.0);
	agent_task_kill(a, "app.1", 5.0, ps);
	json_decref(ps);
	assert_string_equal(t->state, "TASK_KILLING");
	/* A second KILL, even with grace 0 and no pre_stop, changes nothing. */
	agent_task_kill(a, "app.1", 0.0, NULL);
	assert_true(run_until(a, t, NULL));
	char *s = states(a);
	assert_string_equal(s, "TASK_STARTING TASK_RUNNING TASK_KILLING TASK_KILLED");
	free(s);
	shimfx_assert_file(t->sandbox, "term", "seen\n");
	assert_true(shimfx_has(t->sandbox, "stdout", "pre hi there\n"));
	agent_close(a);
}

static void test_kill_without_prestop(void **state)
{
	if (!shimfx_have_shim())
		skip();
	char *wd = shimfx_tmpdir("test-agent-prestop");
	struct agent *a = agent_open(wd);
	struct agent_task *t = launch(a, "app.2");
	/* Left over (say, from a KILL the agent crashed in): not run. */
	assert_int_equal(exec_prestop_write(t->meta_dir, "touch marker; echo stale", 5000), 0);
	agent_task_kill(a, "app.2", 5.0, NULL);
	char *p = xasprintf("%s/%s", t->meta_dir, EXEC_PRESTOP_FILE);
	assert_int_equal(access(p, F_OK), -1);
	free(p);
	assert_true(run_until(a, t, NULL));
	char *s = states(a);
	assert_string_equal(s, "TASK_STARTING TASK_RUNNING TASK_KILLING TASK_KILLED");
	free(s);
	char *term = shimfx_slurp(t->sandbox, "term");
	assert_string_equal(term, "missing\n");
	assert_false(shimfx_has(t->sandbox, "stdout", "stale"));
	free(term);

	/* An unusable pre_stop is ignored: the kill goes on as without one. */
	t = launch(a, "app.3");
	json_t *ps = json_pack("{s:s}", "command", "");
	agent_task_kill(a, "app.3", 5.0, ps);
	json_decref(ps);
	assert_true(run_until(a, t, NULL));
	assert_true(shimfx_has(t->sandbox, "term", "missing"));
	agent_close(a);
}

/* The fence: SIGKILL at once, the pre-stop neither started nor left running. */
static void test_fence_skips_prestop(void **state)
{
	if (!shimfx_have_shim())
		skip();
	char *wd = shimfx_tmpdir("test-agent-prestop");
	struct agent *a = agent_open(wd);
	a->lease_sec = 5;
	struct agent_task *t = launch(a, "db.1");
	assert_int_equal(exec_prestop_write(t->meta_dir, "touch marker; echo ran", 5000), 0);
	agent_task_fence(a, t);
	assert_true(run_until(a, t, NULL));
	assert_string_equal(t->state, "TASK_FAILED");
	assert_null(shimfx_slurp(t->sandbox, "term"));
	assert_false(shimfx_has(t->sandbox, "stdout", "ran"));

	/* A KILL with pre_stop, then the fence while the pre-stop runs: both end at once. */
	t = launch(a, "db.2");
	json_t *ps = json_pack("{s:s, s:f}", "command", "echo running; exec sleep 60",
			       "timeout_seconds", 60.0);
	agent_task_kill(a, "db.2", 5.0, ps);
	json_decref(ps);
	assert_true(shimfx_wait_file(t->sandbox, "stdout", "running", 5000));
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	agent_task_fence(a, t);
	assert_true(run_until(a, t, NULL));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 3);
	assert_string_equal(t->state, "TASK_FAILED");
	agent_close(a);
}

/* The agent goes away mid-pre-stop; the shim carries on; the next agent recovers the task
 * as killing and reports it killed. */
static void test_restart_mid_prestop(void **state)
{
	if (!shimfx_have_shim())
		skip();
	char *wd = shimfx_tmpdir("test-agent-prestop");
	struct agent *a = agent_open(wd);
	struct agent_task *t = launch(a, "db.3");
	char *sb = xstrdup(t->sandbox);
	json_t *ps = json_pack("{s:s, s:f}", "command",
			       "echo handing-off; sleep 0.5; touch marker", "timeout_seconds", 10.0);
	agent_task_kill(a, "db.3", 5.0, ps);
	json_decref(ps);
	assert_true(shimfx_wait_file(sb, "stdout", "handing-off", 5000));
	agent_close(a);

	a = agent_open(wd);
	assert_int_equal(agent_tasks_recover(a), 0);
	t = agent_task_find(a, "db.3");
	assert_non_null(t);
	assert_string_equal(t->state, "TASK_KILLING");
	agent_task_kill(a, "db.3", 0.0, NULL); /* the master repeats its KILL: nothing */
	assert_true(run_until(a, t, NULL));
	assert_string_equal(t->state, "TASK_KILLED");
	shimfx_assert_file(sb, "term", "seen\n");
	free(sb);
	agent_close(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_kill_with_prestop),
		cmocka_unit_test(test_kill_without_prestop),
		cmocka_unit_test(test_fence_skips_prestop),
		cmocka_unit_test(test_restart_mid_prestop),
	};
	return shimfx_end(cmocka_run_group_tests(tests, NULL, NULL));
}
