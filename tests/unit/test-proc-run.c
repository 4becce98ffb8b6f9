/* Helper programs run from an event loop (src/net/proc-run.c): input on stdin, output
 * collected, a timeout and an output bound that kill, the exit status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <event2/event.h>

#include "net/proc-run.h"

struct got {
	bool done;
	int status;
	bool timed_out, overflow;
	char out[256];
	size_t len;
};

static void cb(const struct proc_run_result *res, void *ctx)
{
	struct got *g = ctx;
	g->done = true;
	g->status = res->status;
	g->timed_out = res->timed_out;
	g->overflow = res->overflow;
	g->len = res->out_len;
	snprintf(g->out, sizeof(g->out), "%s", res->out);
}

static struct got run(const char *script, const char *input, unsigned timeout_ms,
		      size_t max_out)
{
	struct event_base *base = event_base_new();
	struct got g = { 0 };
	struct proc_run *p = NULL;
	char *argv[] = { "/bin/sh", "-c", (char *)script, NULL };
	assert_int_equal(proc_run_start(base, argv, NULL, input, strlen(input), timeout_ms,
					max_out, cb, &g, &p),
			 0);
	assert_false(g.done); /* never from start */
	while (!g.done)
		event_base_loop(base, EVLOOP_ONCE);
	event_base_free(base);
	return g;
}

static void test_echo(void **state)
{
	struct got g = run("tr a-z A-Z", "hello", 5000, 1024);
	assert_true(WIFEXITED(g.status) && WEXITSTATUS(g.status) == 0);
	assert_string_equal(g.out, "HELLO");
	g = run("cat >/dev/null; exit 3", "x", 5000, 1024);
	assert_int_equal(WEXITSTATUS(g.status), 3);
	/* a program that does not read its stdin still ends normally */
	g = run("echo ok", "ignored input", 5000, 1024);
	assert_string_equal(g.out, "ok\n");
}

static void test_timeout_and_overflow(void **state)
{
	struct got g = run("sleep 30", "", 200, 1024);
	assert_true(g.timed_out);
	assert_true(WIFSIGNALED(g.status));
	g = run("yes", "", 5000, 100);
	assert_true(g.overflow);
	assert_true(g.len <= 100);
	/* a background child holding stdout does not hold the run once the program exits */
	g = run("sleep 30 & echo started", "", 5000, 1024);
	assert_false(g.timed_out);
	assert_string_equal(g.out, "started\n");
}

static void test_spawn_failure(void **state)
{
	struct event_base *base = event_base_new();
	struct proc_run *p = NULL;
	char *argv[] = { "/nonexistent/hook", NULL };
	assert_true(proc_run_start(base, argv, NULL, "", 0, 1000, 10, cb, NULL, &p) < 0);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo),
		cmocka_unit_test(test_timeout_and_overflow),
		cmocka_unit_test(test_spawn_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
