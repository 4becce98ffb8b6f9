/* The shim's files: spec round trip and limits, status format, and (with BERTH_EXECUTOR
 * set) the real berth-executor on a spec: output, exit status, exec failure, kill + grace. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/mem.h"
#include "executor/exec-health.h"
#include "executor/exec-spec.h"
#include "executor/exec-status.h"
#include "shim-fixture.h"

static void test_spec_round_trip(void **state)
{
	const char *args[] = { "/usr/bin/env", "a b", "", "x=y", NULL };
	const char *env[] = { "A=1", "EMPTY=", "WEIRD=a\nb=c", NULL };
	struct exec_spec s = { .task_id = "app.1", .sandbox = "/tmp/sb", .shell = 0, .args = args,
			       .nargs = 4, .env = env, .nenv = 3, .grace_ms = 2500 };
	char *buf;
	size_t len;
	assert_int_equal(exec_spec_serialize(&s, &buf, &len), 0);
	struct exec_spec p;
	assert_int_equal(exec_spec_parse(buf, len, &p), 0);
	assert_string_equal(p.task_id, "app.1");
	assert_string_equal(p.sandbox, "/tmp/sb");
	assert_int_equal(p.shell, 0);
	assert_int_equal(p.nargs, 4);
	assert_string_equal(p.args[1], "a b");
	assert_string_equal(p.args[2], "");
	assert_null(p.args[4]);
	assert_int_equal(p.nenv, 3);
	assert_string_equal(p.env[2], "WEIRD=a\nb=c");
	assert_null(p.env[3]);
	assert_int_equal(p.grace_ms, 2500);
	exec_spec_release(&p);

	struct exec_spec sh = { .task_id = "t", .sandbox = "/s", .shell = 1, .cmd = "echo $X" };
	assert_int_equal(exec_spec_serialize(&sh, &buf, &len), 0);
	assert_int_equal(exec_spec_parse(buf, len, &p), 0);
	assert_int_equal(p.shell, 1);
	assert_string_equal(p.cmd, "echo $X");
	exec_spec_release(&p);

	/* Rejected on the way out. */
	struct exec_spec bad = sh;
	bad.sandbox = "relative";
	assert_int_equal(exec_spec_serialize(&bad, &buf, &len), -EINVAL);
	bad = sh;
	bad.shell = 0;
	assert_int_equal(exec_spec_serialize(&bad, &buf, &len), -EINVAL);
	const char *badenv[] = { "NOEQUALS" };
	bad = sh;
	bad.env = badenv;
	bad.nenv = 1;
	assert_int_equal(exec_spec_serialize(&bad, &buf, &len), -EINVAL);
}

static void test_spec_parse_bad(void **state)
{
#define PFX EXEC_SPEC_MAGIC "\0task_id\0t\0sandbox\0/s\0shell\0"
#define CASE(x) { x, sizeof(x) - 1 }
	static const struct {
		const char *data;
		size_t len;
	} cases[] = {
		CASE(""),
		CASE("nope\0"),
		CASE(PFX "1\0"),                      /* shell without cmd */
		CASE(PFX "1\0cmd\0x"),                /* not NUL-terminated */
		CASE(PFX "2\0cmd\0x\0"),              /* shell not 0/1 */
		CASE(PFX "1\0cmd\0x\0bogus\0y\0"),     /* unknown key */
		CASE(PFX "1\0cmd\0x\0env\0NOEQ\0"),    /* env without '=' */
		CASE(PFX "1\0cmd\0x\0grace_ms\0-1\0"), /* bad number */
		CASE(PFX "1\0cmd\0x\0arg\0"),          /* key without value */
		CASE(PFX "0\0"),                      /* exec without args */
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *buf = xmalloc(cases[i].len + 1);
		memcpy(buf, cases[i].data, cases[i].len);
		struct exec_spec p;
		if (exec_spec_parse(buf, cases[i].len, &p) != -EINVAL)
			fail_msg("case %zu parsed", i);
	}
	/* The shortest valid one, to show the table is not failing for another reason. */
	static const char ok[] = PFX "1\0cmd\0x\0";
	char *buf = xmalloc(sizeof(ok));
	memcpy(buf, ok, sizeof(ok));
	struct exec_spec p;
	assert_int_equal(exec_spec_parse(buf, sizeof(ok) - 1, &p), 0);
	exec_spec_release(&p);
}

static void test_status_format(void **state)
{
	struct exec_status st = { .state = EXEC_SIGNALED, .pid = 42, .signal = 9, .killed = 1 };
	char buf[256];
	assert_true(exec_status_format(&st, buf, sizeof(buf)) > 0);
	struct exec_status back;
	assert_int_equal(exec_status_parse(buf, &back), 0);
	assert_int_equal(back.state, EXEC_SIGNALED);
	assert_int_equal(back.pid, 42);
	assert_int_equal(back.signal, 9);
	assert_int_equal(back.killed, 1);
	assert_int_equal(exec_status_parse("pid=1\n", &back), -EINVAL);
	assert_int_equal(exec_status_parse("state=zombie\n", &back), -EINVAL);
	assert_int_equal(exec_status_parse("state=exited\nexit_code=x\n", &back), -EINVAL);
	assert_int_equal(exec_status_parse("state=exited\nexit_code=3\nnew_key=1\n", &back), 0);
	assert_int_equal(back.exit_code, 3);
	assert_int_equal(exec_status_format(&st, buf, 10), -E2BIG);

	uint64_t t;
	assert_int_equal(exec_proc_starttime(getpid(), &t), 0);
	assert_true(t > 0);
}

/* ---- the real shim ---- */

static void test_shim_runs(void **state)
{
	if (!shimfx_have_shim())
		skip();
	char *dir = shimfx_tmpdir("test-agent-exec");
	char *sb = shimfx_path(dir, "sandbox");
	const char *env[] = { "GREETING=hi there", NULL };
	struct exec_spec s = { .task_id = "t", .sandbox = sb, .shell = 1,
			       .cmd = "echo \"$GREETING\" in $MESOS_SANDBOX; echo err >&2; exit 3",
			       .env = env, .nenv = 1, .grace_ms = 1000 };
	int nfd;
	pid_t pid = shimfx_start(dir, &s, &nfd);
	assert_int_equal(shimfx_notified(nfd), 'R');
	struct exec_status st = shimfx_finish(pid, dir);
	char *out = shimfx_slurp(sb, "stdout");
	char *want = xasprintf("hi there in %s\n", sb);
	assert_string_equal(out, want);
	shimfx_assert_file(sb, "stderr", "err\n");
	assert_int_equal(st.state, EXEC_EXITED);
	assert_int_equal(st.exit_code, 3);
	assert_int_equal(st.killed, 0);
	pid_t spid;
	uint64_t start;
	assert_int_equal(exec_pidfile_read(dir, &spid, &start), 0);
	assert_int_equal(spid, pid);
	close(nfd);
	free(out);
	free(want);

	/* exec failure: args with a missing program. */
	const char *args[] = { "/nonexistent/prog", NULL };
	struct exec_spec s2 = { .task_id = "t", .sandbox = sb, .args = args, .nargs = 1 };
	pid = shimfx_start(dir, &s2, &nfd);
	assert_int_equal(shimfx_notified(nfd), 'F');
	st = shimfx_finish(pid, dir);
	assert_int_equal(st.state, EXEC_EXEC_FAILED);
	assert_int_equal(st.error, ENOENT);
	close(nfd);
}

static void test_shim_kill_grace(void **state)
{
	if (!shimfx_have_shim())
		skip();
	char *dir = shimfx_tmpdir("test-agent-exec");
	char *sb = shimfx_path(dir, "sandbox");
	/* Ignores SIGTERM: only the SIGKILL after the grace period ends it. */
	struct exec_spec s = { .task_id = "t", .sandbox = sb, .shell = 1,
			       .cmd = "trap '' TERM; echo ready; while :; do sleep 0.05; done",
			       .grace_ms = 600 };
	int nfd;
	pid_t pid = shimfx_start(dir, &s, &nfd);
	assert_int_equal(shimfx_notified(nfd), 'R');
	assert_true(shimfx_wait_file(sb, "stdout", "ready", 5000)); /* the trap is set */
	double t0 = shimfx_now();
	assert_int_equal(kill(pid, SIGTERM), 0);
	struct exec_status st = shimfx_finish(pid, dir);
	double took = shimfx_now() - t0;
	assert_true(took >= 0.55);
	assert_true(took < 3.0);
	assert_int_equal(st.state, EXEC_SIGNALED);
	assert_int_equal(st.signal, SIGKILL);
	assert_int_equal(st.killed, 1);
	close(nfd);

	/* A task that honours SIGTERM ends at once; the sigqueue value overrides the grace. */
	struct exec_spec s2 = { .task_id = "t", .sandbox = sb, .shell = 1,
				.cmd = "exec sleep 30", .grace_ms = 60000 };
	pid = shimfx_start(dir, &s2, &nfd);
	assert_int_equal(shimfx_notified(nfd), 'R');
	t0 = shimfx_now();
	union sigval v = { .sival_int = 100 };
	assert_int_equal(sigqueue(pid, SIGTERM, v), 0);
	st = shimfx_finish(pid, dir);
	assert_true(shimfx_now() - t0 < 2.0);
	assert_int_equal(st.state, EXEC_SIGNALED);
	assert_int_equal(st.signal, SIGTERM);
	assert_int_equal(st.killed, 1);
	close(nfd);
}

static void test_spec_checks(void **state)
{
	struct exec_check c[2];
	exec_check_defaults(&c[0], 0);
	c[0].protocol = EXEC_CHECK_HTTP;
	c[0].path = "/health";
	c[0].port = 31000;
	c[0].ignore_1xx = 1;
	exec_check_defaults(&c[1], 1);
	c[1].port = 31001;
	c[1].status[0] = 200;
	c[1].status[1] = 204;
	c[1].nstatus = 2;
	struct exec_spec s = { .task_id = "t", .sandbox = "/s", .shell = 1, .cmd = "x",
			       .health_dir = "/w/health", .checks = c, .nchecks = 2 };
	char *buf;
	size_t len;
	assert_int_equal(exec_spec_serialize(&s, &buf, &len), 0);
	struct exec_spec p;
	assert_int_equal(exec_spec_parse(buf, len, &p), 0);
	assert_string_equal(p.health_dir, "/w/health");
	assert_int_equal(p.nchecks, 2);
	assert_int_equal(p.checks[0].readiness, 0);
	assert_string_equal(p.checks[0].path, "/health");
	assert_int_equal(p.checks[0].port, 31000);
	assert_int_equal(p.checks[0].ignore_1xx, 1);
	assert_int_equal(p.checks[0].grace_ms, 300000);
	assert_int_equal(p.checks[0].delay_ms, 15000);
	assert_int_equal(p.checks[0].max_failures, 3);
	assert_int_equal(p.checks[1].readiness, 1);
	assert_int_equal(p.checks[1].nstatus, 2);
	assert_int_equal(p.checks[1].status[1], 204);
	assert_int_equal(p.checks[1].interval_ms, 30000);
	exec_spec_release(&p);

	enum exec_check_proto pr;
	assert_int_equal(exec_check_proto_parse("MESOS_HTTPS", &pr), 0);
	assert_int_equal(pr, EXEC_CHECK_HTTPS);
	assert_int_equal(exec_check_proto_parse("MESOS_TCP", &pr), 0);
	assert_int_equal(pr, EXEC_CHECK_TCP);
	assert_int_equal(exec_check_proto_parse("COMMAND", &pr), 0);
	assert_int_equal(exec_check_proto_parse("UDP", &pr), -EINVAL);

	/* A COMMAND check without a command, an HTTP one without a port: refused. */
	c[0].port = 0;
	assert_int_equal(exec_spec_serialize(&s, &buf, &len), -EINVAL);
	static const char bad[] = EXEC_SPEC_MAGIC "\0task_id\0t\0sandbox\0/s\0shell\0001\0cmd\0x\0"
				  "check\0health\0c.protocol\0COMMAND\0";
	char *b = xmalloc(sizeof(bad));
	memcpy(b, bad, sizeof(bad));
	assert_int_equal(exec_spec_parse(b, sizeof(bad) - 1, &p), -EINVAL);
}

/* The real shim runs a COMMAND health check and a readiness check and writes the health
 * file into health_dir; on a kill the checks stop. */
static void test_shim_health(void **state)
{
	if (!shimfx_have_shim())
		skip();
	char *dir = shimfx_tmpdir("test-agent-exec");
	char *sb = shimfx_path(dir, "sandbox");
	struct exec_check c[2];
	exec_check_defaults(&c[0], 0);
	c[0].protocol = EXEC_CHECK_COMMAND;
	c[0].command = "test -f flag"; /* in the sandbox */
	c[0].grace_ms = c[0].delay_ms = 0;
	c[0].interval_ms = 50;
	c[0].timeout_ms = 1000;
	exec_check_defaults(&c[1], 1);
	c[1].protocol = EXEC_CHECK_COMMAND;
	c[1].command = "test -f flag";
	c[1].interval_ms = 50;
	struct exec_spec s = { .task_id = "t1", .sandbox = sb, .shell = 1, .cmd = "exec sleep 30",
			       .grace_ms = 1000, .health_dir = dir, .checks = c, .nchecks = 2 };
	int nfd;
	pid_t pid = shimfx_start(dir, &s, &nfd);
	assert_int_equal(shimfx_notified(nfd), 'R');
	struct exec_health h = { 0 };
	for (int i = 0; i < 200; i++) {
		if (exec_health_read(dir, "t1", &h) == 0 && h.checks[0].consecutive_failures >= 2)
			break;
		usleep(10000);
	}
	assert_int_equal(h.nchecks, 1);
	assert_int_equal(h.checks[0].alive, 0);
	assert_true(h.checks[0].consecutive_failures >= 2);
	assert_string_equal(h.checks[0].cause, "Command exited with status 1");
	assert_int_equal(h.ready, 0);
	shimfx_write(shimfx_path(sb, "flag"), "");
	for (int i = 0; i < 200; i++) {
		if (exec_health_read(dir, "t1", &h) == 0 && h.checks[0].alive == 1 && h.ready)
			break;
		usleep(10000);
	}
	assert_int_equal(h.checks[0].alive, 1);
	assert_int_equal(h.checks[0].consecutive_failures, 0);
	assert_int_equal(h.ready, 1);
	assert_true(h.hseq > 0);
	assert_int_equal(kill(pid, SIGTERM), 0);
	struct exec_status st = shimfx_finish(pid, dir);
	assert_int_equal(st.killed, 1);
	close(nfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_round_trip),
		cmocka_unit_test(test_spec_parse_bad),
		cmocka_unit_test(test_status_format),
		cmocka_unit_test(test_shim_runs),
		cmocka_unit_test(test_shim_kill_grace),
		cmocka_unit_test(test_spec_checks),
		cmocka_unit_test(test_shim_health),
	};
	return shimfx_end(cmocka_run_group_tests(tests, NULL, NULL));
}
