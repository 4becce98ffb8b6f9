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

static char *tmpdir(void)
{
	char tmpl[] = "/tmp/test-exec-prestop-XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	return xstrdup(tmpl);
}

static void rm_rf(const char *dir)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static char *slurp(const char *dir, const char *name)
{
	char *p = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "r");
	free(p);
	if (!f)
		return NULL;
	char *buf = xcalloc(1, 8192);
	size_t n = fread(buf, 1, 8191, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits (up to 5 s) for name in dir to contain what. */
static bool wait_for(const char *dir, const char *name, const char *what)
{
	for (int i = 0; i < 500; i++) {
		char *c = slurp(dir, name);
		bool ok = c && strstr(c, what);
		free(c);
		if (ok)
			return true;
		usleep(10000);
	}
	return false;
}

/* ---- the file ---- */

static void test_prestop_file(void **state)
{
	char *dir = tmpdir();
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
	rm_rf(dir);
	free(dir);
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
	char *dir, *meta, *sb;
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
	fx->dir = tmpdir();
	fx->meta = xasprintf("%s/meta", fx->dir);
	fx->sb = xasprintf("%s/sandbox", fx->dir);
	assert_int_equal(mkdir(fx->meta, 0700), 0);
	const char *env[] = { "GREETING=hi there", NULL };
	struct exec_spec s = { .task_id = "t", .sandbox = fx->sb, .shell = 1, .cmd = cmd,
			       .env = env, .nenv = 1, .grace_ms = grace_ms, .volumes = vols,
			       .nvolumes = nvols };
	char *sp = xasprintf("%s/spec", fx->meta);
	assert_int_equal(exec_spec_write_file(sp, &s), 0);
	free(sp);
	const char *exe = getenv("BERTH_EXECUTOR");
	int p[2];
	assert_int_equal(pipe(p), 0);
	fx->shim = fork();
	assert_true(fx->shim >= 0);
	if (fx->shim == 0) {
		dup2(p[1], 3);
		execl(exe, exe, "--notify-fd", "3", fx->meta, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	fx->nfd = p[0];
	char msg[64] = { 0 };
	assert_true(read(fx->nfd, msg, sizeof(msg) - 1) > 0);
	assert_int_equal(msg[0], 'R');
	assert_true(wait_for(fx->sb, "stdout", "ready")); /* the trap is set */
}

static void kill_shim(struct fixture *fx, int value)
{
	union sigval v = { .sival_int = value };
	assert_int_equal(sigqueue(fx->shim, SIGTERM, v), 0);
}

static struct exec_status finish(struct fixture *fx)
{
	int ws;
	assert_int_equal(waitpid(fx->shim, &ws, 0), fx->shim);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	struct exec_status st;
	assert_int_equal(exec_status_read(fx->meta, &st), 0);
	return st;
}

static void cleanup(struct fixture *fx)
{
	close(fx->nfd);
	rm_rf(fx->dir);
	free(fx->dir);
	free(fx->meta);
	free(fx->sb);
}

/* A process that is gone, or a zombie nobody reaped yet (no init in the test's namespace
 * reaps orphans), is not running. */
static bool running(pid_t pid)
{
	char *p = xasprintf("/proc/%d/stat", (int)pid);
	FILE *f = fopen(p, "r");
	free(p);
	if (!f)
		return false;
	char line[512] = "";
	bool alive = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	char *rp = strrchr(line, ')');
	return alive && rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

static void test_shim_prestop_first(void **state)
{
	if (!getenv("BERTH_EXECUTOR"))
		skip();
	struct fixture fx;
	start(&fx, TRAP_TASK, 5000, NULL, 0);
	assert_int_equal(exec_prestop_write(fx.meta,
					    "echo \"pre $GREETING in $PWD $MESOS_SANDBOX\";"
					    " echo pre-err >&2; sleep 0.4; touch marker", 10000),
			 0);
	double t0 = now_s();
	kill_shim(&fx, 5000);
	assert_true(wait_for(fx.sb, "stdout", "pre "));
	/* While it runs: the kill is recorded for an agent that restarts meanwhile, the task
	 * still runs, and a second kill (even with grace 0) changes nothing. */
	struct exec_status st;
	assert_int_equal(exec_status_read(fx.meta, &st), 0);
	assert_int_equal(st.state, EXEC_RUNNING);
	assert_int_equal(st.killed, 1);
	assert_true(running(st.pid));
	kill_shim(&fx, 0);
	st = finish(&fx);
	double took = now_s() - t0;
	assert_true(took >= 0.35);
	assert_true(took < 4.0);
	/* The trap ran (SIGTERM, not SIGKILL), after the marker was made. */
	assert_int_equal(st.state, EXEC_EXITED);
	assert_int_equal(st.exit_code, 0);
	assert_int_equal(st.killed, 1);
	char *term = slurp(fx.sb, "term");
	assert_non_null(term);
	assert_string_equal(term, "seen\n");
	char *out = slurp(fx.sb, "stdout");
	char *want = xasprintf("ready\npre hi there in %s %s\n", fx.sb, fx.sb);
	assert_string_equal(out, want);
	char *err = slurp(fx.sb, "stderr");
	assert_non_null(strstr(err, "pre-err\n"));
	assert_non_null(strstr(err, "the pre-stop command exited with status 0"));
	free(term);
	free(out);
	free(want);
	free(err);
	cleanup(&fx);
}

static void test_shim_prestop_timeout(void **state)
{
	if (!getenv("BERTH_EXECUTOR"))
		skip();
	struct fixture fx;
	start(&fx, TRAP_TASK, 5000, NULL, 0);
	/* Hangs, and leaves a background process: both killed at the timeout. */
	assert_int_equal(exec_prestop_write(fx.meta,
					    "sleep 60 & echo $! > bg; echo hanging; sleep 60;"
					    " touch marker", 400),
			 0);
	double t0 = now_s();
	kill_shim(&fx, 5000);
	struct exec_status st = finish(&fx);
	double took = now_s() - t0;
	assert_true(took >= 0.35);
	assert_true(took < 4.0);
	assert_int_equal(st.state, EXEC_EXITED); /* stopped by its SIGTERM trap */
	assert_int_equal(st.killed, 1);
	char *term = slurp(fx.sb, "term");
	assert_non_null(term);
	assert_string_equal(term, "missing\n");
	char *err = slurp(fx.sb, "stderr");
	assert_non_null(strstr(err, "the pre-stop command timed out after 0.4 s: killed"));
	char *bg = slurp(fx.sb, "bg");
	assert_non_null(bg);
	pid_t bgpid = (pid_t)strtol(bg, NULL, 10);
	assert_true(bgpid > 1);
	for (int i = 0; i < 100 && running(bgpid); i++)
		usleep(10000);
	assert_false(running(bgpid));
	free(bg);
	free(term);
	free(err);
	cleanup(&fx);
}

/* A task that ignores SIGTERM after its pre-stop: SIGKILL after the grace, as ever. */
static void test_shim_prestop_then_grace(void **state)
{
	if (!getenv("BERTH_EXECUTOR"))
		skip();
	struct fixture fx;
	start(&fx, "trap '' TERM; echo ready; while :; do sleep 0.02; done", 5000, NULL, 0);
	assert_int_equal(exec_prestop_write(fx.meta, "sleep 0.2", 5000), 0);
	double t0 = now_s();
	kill_shim(&fx, 300);
	struct exec_status st = finish(&fx);
	double took = now_s() - t0;
	assert_true(took >= 0.45);
	assert_true(took < 4.0);
	assert_int_equal(st.state, EXEC_SIGNALED);
	assert_int_equal(st.signal, SIGKILL);
	assert_int_equal(st.killed, 1);
	cleanup(&fx);
}

/* No prestop file: the SIGTERM comes at once, exactly as before. */
static void test_shim_no_prestop(void **state)
{
	if (!getenv("BERTH_EXECUTOR"))
		skip();
	struct fixture fx;
	start(&fx, TRAP_TASK, 5000, NULL, 0);
	double t0 = now_s();
	kill_shim(&fx, 5000);
	struct exec_status st = finish(&fx);
	assert_true(now_s() - t0 < 1.0);
	assert_int_equal(st.state, EXEC_EXITED);
	assert_int_equal(st.exit_code, 0);
	assert_int_equal(st.killed, 1);
	char *term = slurp(fx.sb, "term");
	assert_string_equal(term, "missing\n");
	char *err = slurp(fx.sb, "stderr");
	assert_null(strstr(err, "pre-stop"));
	free(term);
	free(err);
	cleanup(&fx);
}

/* The fence's EXEC_KILL_NOW: no pre-stop, SIGKILL at once; and during a pre-stop, both the
 * command and the task go at once. */
static void test_shim_fence(void **state)
{
	if (!getenv("BERTH_EXECUTOR"))
		skip();
	struct fixture fx;
	start(&fx, TRAP_TASK, 5000, NULL, 0);
	assert_int_equal(exec_prestop_write(fx.meta, "touch marker; echo ran", 5000), 0);
	double t0 = now_s();
	kill_shim(&fx, EXEC_KILL_NOW);
	struct exec_status st = finish(&fx);
	assert_true(now_s() - t0 < 1.0);
	assert_int_equal(st.state, EXEC_SIGNALED);
	assert_int_equal(st.signal, SIGKILL);
	assert_int_equal(st.killed, 1);
	char *out = slurp(fx.sb, "stdout");
	assert_string_equal(out, "ready\n");
	assert_null(slurp(fx.sb, "term"));
	assert_null(slurp(fx.sb, "marker"));
	free(out);
	cleanup(&fx);

	start(&fx, TRAP_TASK, 5000, NULL, 0);
	assert_int_equal(exec_prestop_write(fx.meta, "echo $$ > pre; exec sleep 60", 60000), 0);
	kill_shim(&fx, 5000);
	assert_true(wait_for(fx.sb, "pre", "\n"));
	char *pre = slurp(fx.sb, "pre");
	pid_t prepid = (pid_t)strtol(pre, NULL, 10);
	free(pre);
	assert_true(running(prepid));
	t0 = now_s();
	kill_shim(&fx, EXEC_KILL_NOW);
	st = finish(&fx);
	assert_true(now_s() - t0 < 1.0);
	assert_int_equal(st.state, EXEC_SIGNALED);
	assert_int_equal(st.signal, SIGKILL);
	for (int i = 0; i < 100 && running(prepid); i++)
		usleep(10000);
	assert_false(running(prepid));
	cleanup(&fx);
}

/* The pre-stop runs in the task's mount namespace: it sees the volume at its container
 * path, which the host does not (needs root to mount). */
static void test_shim_prestop_volume(void **state)
{
	if (!getenv("BERTH_EXECUTOR") || geteuid() != 0)
		skip();
	char *vdir = tmpdir();
	char *vol = xasprintf("%s/vol", vdir);
	char *target = xasprintf("%s/abs/target", vdir);
	assert_int_equal(mkdir(vol, 0755), 0);
	struct exec_volume vols[] = { { vol, target, 0 } };
	struct fixture fx;
	start(&fx, TRAP_TASK, 5000, vols, 1);
	char *cmd = xasprintf("echo handed-off > %s/handoff && [ \"$BERTH_VOLUME_0\" = %s ]"
			      " && touch marker", target, target);
	assert_int_equal(exec_prestop_write(fx.meta, cmd, 5000), 0);
	kill_shim(&fx, 5000);
	struct exec_status st = finish(&fx);
	assert_int_equal(st.state, EXEC_EXITED);
	char *term = slurp(fx.sb, "term");
	assert_string_equal(term, "seen\n");
	char *h = slurp(vol, "handoff");
	assert_non_null(h);
	assert_string_equal(h, "handed-off\n");
	assert_null(slurp(target, "handoff")); /* not through the host's empty mount point */
	free(h);
	free(term);
	free(cmd);
	cleanup(&fx);
	rm_rf(vdir);
	free(vdir);
	free(vol);
	free(target);
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
	return cmocka_run_group_tests(tests, NULL, NULL);
}
