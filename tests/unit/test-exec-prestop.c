/* Pre-stop commands (agent-protocol.md §9): the <meta>/prestop file, and the real
 * berth-executor (BERTH_EXECUTOR) running one before it stops the task: with the task's
 * environment, cwd and mount namespace, output into the sandbox files, finished before the
 * SIGTERM, killed at its timeout, skipped by the fence, and nothing changed without one. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/mem.h"
#include "executor/exec-prestop.h"
#include "executor/exec-spec.h"
#include "executor/exec-status.h"
#include "shim-fixture.h"

/* ---- the file ---- */

static void test_prestop_file(void **state)
{
	char *dir = shimfx_tmpdir("test-exec-prestop");
	char *cmd = NULL;
	uint32_t ms = 0;
	assert_int_equal(exec_prestop_read(dir, &cmd, &ms), -ENOENT);
	assert_int_equal(exec_prestop_write(dir, "etcdctl member remove \"$ID\"\nexit 0", 2500), 0);
	assert_int_equal(exec_prestop_read(dir, &cmd, &ms), 0);
	assert_string_equal(cmd, "etcdctl member remove \"$ID\"\nexit 0");
	assert_int_equal(ms, 2500);
	free(cmd);
	assert_int_equal(exec_prestop_remove(dir), 0);
	assert_int_equal(exec_prestop_remove(dir), 0); /* none: fine */
	assert_int_equal(exec_prestop_read(dir, &cmd, &ms), -ENOENT);

	/* Refused on the way out. */
	assert_int_equal(exec_prestop_write(dir, "", 1000), -EINVAL);
	assert_int_equal(exec_prestop_write(dir, "x", 0), -EINVAL);
	assert_int_equal(exec_prestop_write(dir, "x", EXEC_PRESTOP_MAX_TIMEOUT_MS + 1), -EINVAL);
	assert_int_equal(exec_prestop_write(dir, "x", EXEC_PRESTOP_MAX_TIMEOUT_MS), 0);

	/* A command exactly at the limit, and one byte over. */
	char *big = xmalloc(EXEC_PRESTOP_MAX_COMMAND + 2);
	memset(big, 'a', EXEC_PRESTOP_MAX_COMMAND + 1);
	big[EXEC_PRESTOP_MAX_COMMAND] = '\0';
	assert_int_equal(exec_prestop_write(dir, big, 1), 0);
	assert_int_equal(exec_prestop_read(dir, &cmd, &ms), 0);
	assert_int_equal(strlen(cmd), EXEC_PRESTOP_MAX_COMMAND);
	free(cmd);
	big[EXEC_PRESTOP_MAX_COMMAND] = 'a';
	big[EXEC_PRESTOP_MAX_COMMAND + 1] = '\0';
	assert_int_equal(exec_prestop_write(dir, big, 1), -E2BIG);

	/* A file far past the limit (written by hand) is refused by the reader. */
	char *p = xasprintf("%s/%s", dir, EXEC_PRESTOP_FILE);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(EXEC_PRESTOP_MAGIC, f);
	fputc('\0', f);
	fputs("1000", f);
	fputc('\0', f);
	for (int i = 0; i < 3; i++)
		fputs(big, f);
	fputc('\0', f);
	fclose(f);
	assert_int_equal(exec_prestop_read(dir, &cmd, &ms), -E2BIG);
	free(p);
	free(big);
}

static void test_prestop_parse_bad(void **state)
{
#define M EXEC_PRESTOP_MAGIC "\0"
#define CASE(x) { x, sizeof(x) - 1 }
	static const struct {
		const char *data;
		size_t len;
	} cases[] = {
		CASE(""),
		CASE("nope\0" "1000\0x\0"),       /* wrong magic */
		CASE(M "1000\0x"),                /* not NUL-terminated */
		CASE(M "1000\0"),                 /* no command */
		CASE(M "1000\0\0"),               /* empty command */
		CASE(M "0\0x\0"),                 /* timeout 0 */
		CASE(M "\0x\0"),                  /* empty timeout */
		CASE(M "-5\0x\0"),                /* negative */
		CASE(M "1e3\0x\0"),               /* not decimal digits */
		CASE(M "86400001\0x\0"),          /* over a day */
		CASE(M "99999999999\0x\0"),       /* 11 digits */
		CASE(M "1000\0x\0y\0"),           /* a field too many */
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *cmd = NULL;
		uint32_t ms;
		if (exec_prestop_parse(cases[i].data, cases[i].len, &cmd, &ms) != -EINVAL)
			fail_msg("case %zu parsed", i);
	}
	static const char ok[] = M "86400000\0x\0";
	char *cmd = NULL;
	uint32_t ms;
	assert_int_equal(exec_prestop_parse(ok, sizeof(ok) - 1, &cmd, &ms), 0);
	assert_int_equal(ms, 86400000u);
	assert_string_equal(cmd, "x");
	free(cmd);
#undef M
#undef CASE
}

/* ---- the real shim ---- */

struct fixture {
	char *meta, *sb;
	pid_t shim;
	int nfd;
};

/* The task records, when SIGTERM reaches it, whether the pre-stop's marker existed. */
#define TRAP_TASK                                                                         \
	"trap 'if [ -f marker ]; then echo seen > term; else echo missing > term; fi; exit 0'" \
	" TERM; echo ready; while :; do sleep 0.02; done"

static void start(struct fixture *fx, const char *cmd, uint32_t grace_ms,
		  struct exec_volume *vols, size_t nvols)
{
	struct shimfx_dirs d = shimfx_dirs("test-exec-prestop");
	fx->meta = d.meta;
	fx->sb = d.sb;
	const char *env[] = { "GREETING=hi there", NULL };
	struct exec_spec s = { .task_id = "t", .sandbox = fx->sb, .shell = 1, .cmd = cmd,
			       .env = env, .nenv = 1, .grace_ms = grace_ms, .volumes = vols,
			       .nvolumes = nvols };
	fx->shim = shimfx_start(fx->meta, &s, &fx->nfd);
	assert_int_equal(shimfx_notified(fx->nfd), 'R');
	assert_true(shimfx_wait_file(fx->sb, "stdout", "ready", 5000)); /* the trap is set */
}

static void kill_shim(struct fixture *fx, int value)
{
	union sigval v = { .sival_int = value };
	assert_int_equal(sigqueue(fx->shim, SIGTERM, v), 0);
}

static struct exec_status finish(struct fixture *fx)
{
	struct exec_status st = shimfx_finish(fx->shim, fx->meta);
	close(fx->nfd);
	return st;
}

static void test_shim_prestop_first(void **state)
{
	if (!shimfx_have_shim())
		skip();
	struct fixture fx;
	start(&fx, TRAP_TASK, 5000, NULL, 0);
	assert_int_equal(exec_prestop_write(fx.meta,
					    "echo \"pre $GREETING in $PWD $MESOS_SANDBOX\";"
					    " echo pre-err >&2; sleep 0.4; touch marker", 10000),
			 0);
	double t0 = shimfx_now();
	kill_shim(&fx, 5000);
	assert_true(shimfx_wait_file(fx.sb, "stdout", "pre ", 5000));
	/* While it runs: the kill is recorded for an agent that restarts meanwhile, the task
	 * still runs, and a second kill (even with grace 0) changes nothing. */
	struct exec_status st;
	assert_int_equal(exec_status_read(fx.meta, &st), 0);
	assert_int_equal(st.state, EXEC_RUNNING);
	assert_int_equal(st.killed, 1);
	assert_true(shimfx_running(st.pid));
	kill_shim(&fx, 0);
	st = finish(&fx);
	double took = shimfx_now() - t0;
	assert_true(took >= 0.35);
	assert_true(took < 4.0);
	/* The trap ran (SIGTERM, not SIGKILL), after the marker was made. */
	assert_int_equal(st.state, EXEC_EXITED);
	assert_int_equal(st.exit_code, 0);
	assert_int_equal(st.killed, 1);
	shimfx_assert_file(fx.sb, "term", "seen\n");
	char *out = shimfx_slurp(fx.sb, "stdout");
	char *want = xasprintf("ready\npre hi there in %s %s\n", fx.sb, fx.sb);
	assert_string_equal(out, want);
	char *err = shimfx_slurp(fx.sb, "stderr");
	assert_non_null(strstr(err, "pre-err\n"));
	assert_non_null(strstr(err, "the pre-stop command exited with status 0"));
	free(out);
	free(want);
	free(err);
}

static void test_shim_prestop_timeout(void **state)
{
	if (!shimfx_have_shim())
		skip();
	struct fixture fx;
	start(&fx, TRAP_TASK, 5000, NULL, 0);
	/* Hangs, and leaves a background process: both killed at the timeout. */
	assert_int_equal(exec_prestop_write(fx.meta,
					    "sleep 60 & echo $! > bg; echo hanging; sleep 60;"
					    " touch marker", 400),
			 0);
	double t0 = shimfx_now();
	kill_shim(&fx, 5000);
	struct exec_status st = finish(&fx);
	double took = shimfx_now() - t0;
	assert_true(took >= 0.35);
	assert_true(took < 4.0);
	assert_int_equal(st.state, EXEC_EXITED); /* stopped by its SIGTERM trap */
	assert_int_equal(st.killed, 1);
	shimfx_assert_file(fx.sb, "term", "missing\n");
	char *err = shimfx_slurp(fx.sb, "stderr");
	assert_non_null(strstr(err, "the pre-stop command timed out after 0.4 s: killed"));
	char *bg = shimfx_slurp(fx.sb, "bg");
	assert_non_null(bg);
	pid_t bgpid = (pid_t)strtol(bg, NULL, 10);
	assert_true(bgpid > 1);
	assert_true(shimfx_wait_gone(bgpid, 1000));
	free(bg);
	free(err);
}

/* A task that ignores SIGTERM after its pre-stop: SIGKILL after the grace, as ever. */
static void test_shim_prestop_then_grace(void **state)
{
	if (!shimfx_have_shim())
		skip();
	struct fixture fx;
	start(&fx, "trap '' TERM; echo ready; while :; do sleep 0.02; done", 5000, NULL, 0);
	assert_int_equal(exec_prestop_write(fx.meta, "sleep 0.2", 5000), 0);
	double t0 = shimfx_now();
	kill_shim(&fx, 300);
	struct exec_status st = finish(&fx);
	double took = shimfx_now() - t0;
	assert_true(took >= 0.45);
	assert_true(took < 4.0);
	assert_int_equal(st.state, EXEC_SIGNALED);
	assert_int_equal(st.signal, SIGKILL);
	assert_int_equal(st.killed, 1);
}

/* No prestop file: the SIGTERM comes at once, exactly as before. */
static void test_shim_no_prestop(void **state)
{
	if (!shimfx_have_shim())
		skip();
	struct fixture fx;
	start(&fx, TRAP_TASK, 5000, NULL, 0);
	double t0 = shimfx_now();
	kill_shim(&fx, 5000);
	struct exec_status st = finish(&fx);
	assert_true(shimfx_now() - t0 < 1.0);
	assert_int_equal(st.state, EXEC_EXITED);
	assert_int_equal(st.exit_code, 0);
	assert_int_equal(st.killed, 1);
	shimfx_assert_file(fx.sb, "term", "missing\n");
	char *err = shimfx_slurp(fx.sb, "stderr");
	assert_null(strstr(err, "pre-stop"));
	free(err);
}

/* The fence's EXEC_KILL_NOW: no pre-stop, SIGKILL at once; and during a pre-stop, both the
 * command and the task go at once. */
static void test_shim_fence(void **state)
{
	if (!shimfx_have_shim())
		skip();
	struct fixture fx;
	start(&fx, TRAP_TASK, 5000, NULL, 0);
	assert_int_equal(exec_prestop_write(fx.meta, "touch marker; echo ran", 5000), 0);
	double t0 = shimfx_now();
	kill_shim(&fx, EXEC_KILL_NOW);
	struct exec_status st = finish(&fx);
	assert_true(shimfx_now() - t0 < 1.0);
	assert_int_equal(st.state, EXEC_SIGNALED);
	assert_int_equal(st.signal, SIGKILL);
	assert_int_equal(st.killed, 1);
	shimfx_assert_file(fx.sb, "stdout", "ready\n");
	assert_null(shimfx_slurp(fx.sb, "term"));
	assert_null(shimfx_slurp(fx.sb, "marker"));

	start(&fx, TRAP_TASK, 5000, NULL, 0);
	assert_int_equal(exec_prestop_write(fx.meta, "echo $$ > pre; exec sleep 60", 60000), 0);
	kill_shim(&fx, 5000);
	assert_true(shimfx_wait_file(fx.sb, "pre", "\n", 5000));
	char *pre = shimfx_slurp(fx.sb, "pre");
	pid_t prepid = (pid_t)strtol(pre, NULL, 10);
	free(pre);
	assert_true(shimfx_running(prepid));
	t0 = shimfx_now();
	kill_shim(&fx, EXEC_KILL_NOW);
	st = finish(&fx);
	assert_true(shimfx_now() - t0 < 1.0);
	assert_int_equal(st.state, EXEC_SIGNALED);
	assert_int_equal(st.signal, SIGKILL);
	assert_true(shimfx_wait_gone(prepid, 1000));
}

/* The pre-stop runs in the task's mount namespace: it sees the volume at its container
 * path, which the host does not (needs root to mount). */
static void test_shim_prestop_volume(void **state)
{
	if (!shimfx_can_mount())
		skip();
	char *vdir = shimfx_tmpdir("test-exec-prestop");
	char *vol = shimfx_path(vdir, "vol");
	char *target = shimfx_path(vdir, "abs/target");
	shimfx_mkdir(vol, 0755, false);
	struct exec_volume vols[] = { { vol, target, 0 } };
	struct fixture fx;
	start(&fx, TRAP_TASK, 5000, vols, 1);
	char *cmd = xasprintf("echo handed-off > %s/handoff && [ \"$BERTH_VOLUME_0\" = %s ]"
			      " && touch marker", target, target);
	assert_int_equal(exec_prestop_write(fx.meta, cmd, 5000), 0);
	kill_shim(&fx, 5000);
	struct exec_status st = finish(&fx);
	assert_int_equal(st.state, EXEC_EXITED);
	shimfx_assert_file(fx.sb, "term", "seen\n");
	shimfx_assert_file(vol, "handoff", "handed-off\n");
	assert_null(shimfx_slurp(target, "handoff")); /* not through the host's empty mount point */
	free(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prestop_file),
		cmocka_unit_test(test_prestop_parse_bad),
		cmocka_unit_test(test_shim_prestop_first),
		cmocka_unit_test(test_shim_prestop_timeout),
		cmocka_unit_test(test_shim_prestop_then_grace),
		cmocka_unit_test(test_shim_no_prestop),
		cmocka_unit_test(test_shim_fence),
		cmocka_unit_test(test_shim_prestop_volume),
	};
	return shimfx_end(cmocka_run_group_tests(tests, NULL, NULL));
}
