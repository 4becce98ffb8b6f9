/* The volume lease (exec-lease.h): the file format, the shim's decision over time (table of
 * steps), and (as root, with BERTH_EXECUTOR set) the real shim of a task with a volume: it
 * keeps the task while the lease is renewed, SIGKILLs its whole process group within ~0.5 s
 * once the lease file goes stale or disappears, records fenced=1, and refuses to start a task
 * whose lease has already run out. A shim with volumes but no lease file never fences. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
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

#include "executor/exec-lease.h"
#include "executor/exec-spec.h"
#include "executor/exec-status.h"
#include "shim-fixture.h"

static void test_lease_file(void **state)
{
	char *dir = shimfx_tmpdir("test-exec-lease");
	char *p = shimfx_path(dir, EXEC_LEASE_FILE);
	uint64_t d = 7;
	assert_int_equal(exec_lease_read(p, &d), -ENOENT);
	assert_int_equal(exec_lease_write(dir, 123456789012ull), 0);
	assert_int_equal(exec_lease_read(p, &d), 0);
	assert_true(d == 123456789012ull);
	assert_int_equal(exec_lease_write(dir, 0), 0);
	assert_int_equal(exec_lease_read(p, &d), 0);
	assert_true(d == 0);
	static const char *const bad[] = { "", "\n", "12", "12\n\n", "-1\n", "1 2\n", "x\n",
					   "123456789012345678901\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		shimfx_write(p, bad[i]);
		assert_int_equal(exec_lease_read(p, &d), -EINVAL);
	}
	/* Largest value that fits 20 digits and a uint64. */
	shimfx_write(p, "18446744073709551615\n");
	assert_int_equal(exec_lease_read(p, &d), 0);
	assert_true(d == UINT64_MAX);
	shimfx_write(p, "18446744073709551616\n");
	assert_int_equal(exec_lease_read(p, &d), -EINVAL);
}

/* The decision over a script of steps; times are in ms from 1000 s. */
enum op { WRITE, REMOVE, GARBLE, CHECK };
struct step {
	enum op op;
	uint64_t at_ms;    /* CHECK: now; WRITE: the deadline */
	bool expired;      /* CHECK: expected answer */
	int timeout_ms;    /* CHECK: expected exec_lease_timeout_ms afterwards (-2: skip) */
};

static void test_lease_decision(void **state)
{
	const uint64_t base = 1000000000ull;
	static const struct step script[] = {
		{ CHECK, 0, false, 250 },      /* no file yet: nothing to enforce, read again later */
		{ CHECK, 100, false, 150 },
		{ WRITE, 300, false, 0 },
		{ CHECK, 200, false, 50 },     /* not read yet */
		{ CHECK, 250, false, 50 },     /* read: deadline 300, wake up then */
		{ WRITE, 2000, false, 0 },     /* renewed */
		{ CHECK, 300, false, 250 },    /* the cached one passed: read again before fencing */
		{ CHECK, 549, false, 1 },
		{ CHECK, 550, false, 250 },    /* read every 250 ms */
		{ CHECK, 1999, false, 1 },
		{ CHECK, 2000, true, 0 },      /* not renewed: fence */
		{ CHECK, 2001, true, 0 },
		{ WRITE, 5000, false, 0 },
		{ CHECK, 2002, false, 250 },   /* renewed after all (the shim fences before this) */
		{ REMOVE, 0, false, 0 },
		{ CHECK, 2100, false, 152 },   /* cached until the next read */
		{ CHECK, 2252, true, 250 },    /* gone after it existed: fence */
		{ WRITE, 9000, false, 0 },
		{ CHECK, 2600, false, 250 },
		{ GARBLE, 0, false, 0 },
		{ CHECK, 2850, true, 250 },    /* unreadable after it existed: fence */
	};
	char *dir = shimfx_tmpdir("test-exec-lease");
	char *p = shimfx_path(dir, EXEC_LEASE_FILE);
	struct exec_lease l = { .path = p };
	for (size_t i = 0; i < sizeof(script) / sizeof(script[0]); i++) {
		const struct step *s = &script[i];
		switch (s->op) {
		case WRITE:
			assert_int_equal(exec_lease_write(dir, base + s->at_ms * 1000), 0);
			break;
		case REMOVE:
			assert_int_equal(unlink(p), 0);
			break;
		case GARBLE:
			shimfx_write(p, "soon\n");
			break;
		case CHECK: {
			uint64_t now = base + s->at_ms * 1000;
			if (exec_lease_expired(&l, now) != s->expired)
				fail_msg("step %zu (t=%llu ms): expired should be %d", i,
					 (unsigned long long)s->at_ms, s->expired);
			if (s->timeout_ms != -2 && exec_lease_timeout_ms(&l, now) != s->timeout_ms)
				fail_msg("step %zu: timeout %d, want %d", i,
					 exec_lease_timeout_ms(&l, now), s->timeout_ms);
			break;
		}
		}
	}
	/* No path: never, and no timeout. */
	struct exec_lease none = { 0 };
	assert_false(exec_lease_expired(&none, UINT64_MAX));
	assert_int_equal(exec_lease_timeout_ms(&none, 0), -1);
}

static void test_spec_lease(void **state)
{
	struct exec_volume vols[] = { { "/srv/v", "", 0 } };
	struct exec_spec s = { .task_id = "t", .sandbox = "/s", .shell = 1, .cmd = "true",
			       .volumes = vols, .nvolumes = 1, .lease_file = "/w/lease" };
	char *buf;
	size_t len;
	assert_int_equal(exec_spec_serialize(&s, &buf, &len), 0);
	struct exec_spec p;
	assert_int_equal(exec_spec_parse(buf, len, &p), 0);
	assert_string_equal(p.lease_file, "/w/lease");
	assert_string_equal(p.volumes[0].path, "");
	exec_spec_release(&p);
	/* Only with volumes, only absolute. */
	s.lease_file = "w/lease";
	assert_int_equal(exec_spec_serialize(&s, &buf, &len), -EINVAL);
	s.lease_file = "/w/lease";
	s.nvolumes = 0;
	assert_int_equal(exec_spec_serialize(&s, &buf, &len), -EINVAL);
#define PFX EXEC_SPEC_MAGIC "\0task_id\0t\0sandbox\0/s\0shell\0" "1\0cmd\0x\0"
	static const char nov[] = PFX "lease\0/w/lease\0";
	char *b = malloc(sizeof(nov) - 1);
	memcpy(b, nov, sizeof(nov) - 1);
	assert_int_equal(exec_spec_parse(b, sizeof(nov) - 1, &p), -EINVAL);
}

/* ---- the real shim ---- */

static uint64_t now_usec(void)
{
	return exec_lease_now_usec();
}

/* The pid written by the task into path (its background child). */
static pid_t read_pid(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	int v = 0;
	assert_int_equal(fscanf(f, "%d", &v), 1);
	fclose(f);
	return v;
}

struct rig {
	char *dir, *work, *meta, *sb, *vol, *lease;
};

static struct rig rig_new(void)
{
	struct shimfx_dirs d = shimfx_dirs("test-exec-lease");
	struct rig r = { .dir = d.dir, .meta = d.meta, .sb = d.sb };
	r.work = shimfx_path(r.dir, "work");
	r.vol = shimfx_path(r.dir, "vol");
	r.lease = shimfx_path(r.work, EXEC_LEASE_FILE);
	shimfx_mkdir(r.work, 0755, false);
	shimfx_mkdir(r.vol, 0755, false);
	return r;
}

/* A task holding a volume, with a background child in its group, renews nothing itself. */
static void test_shim_stale_lease_kills(void **state)
{
	if (!shimfx_can_mount())
		skip();
	struct rig r = rig_new();
	struct exec_volume vols[] = { { r.vol, "data", 0 } };
	struct exec_spec s = { .task_id = "t", .sandbox = r.sb, .shell = 1,
			       .cmd = "sleep 60 & echo $! > bg; touch data/started; sleep 60",
			       .volumes = vols, .nvolumes = 1, .lease_file = r.lease,
			       .grace_ms = 10000 };
	/* The agent renews every 100 ms, 1 s ahead, for 1.2 s: the task lives on. (The first
	 * lease is long: on a loaded machine the shim may take seconds to start the task.) */
	assert_int_equal(exec_lease_write(r.work, now_usec() + 10000000), 0);
	pid_t shim = shimfx_start(r.meta, &s, NULL);
	char *started = shimfx_path(r.vol, "started");
	assert_true(shimfx_wait_file(NULL, started, NULL, 5000));
	uint64_t until = now_usec() + 1200000;
	while (now_usec() < until) {
		assert_int_equal(exec_lease_write(r.work, now_usec() + 1000000), 0);
		usleep(100000);
		assert_int_equal(waitpid(shim, NULL, WNOHANG), 0);
	}
	char *bgf = shimfx_path(r.sb, "bg");
	pid_t bg = read_pid(bgf);
	assert_true(shimfx_running(bg));
	/* The agent stops renewing: its last write ends the lease 100 ms from now, and
	 * the task ends within another EXEC_LEASE_CHECK_USEC (plus slack for a loaded machine). */
	uint64_t deadline = now_usec() + 100000;
	assert_int_equal(exec_lease_write(r.work, deadline), 0);
	struct exec_status st = shimfx_finish(shim, r.meta);
	uint64_t late = now_usec() - deadline;
	if (late > 2000000)
		fail_msg("the task ended %llu ms after its lease", (unsigned long long)late / 1000);
	assert_int_equal(st.state, EXEC_SIGNALED);
	assert_int_equal(st.signal, SIGKILL);
	assert_int_equal(st.killed, 1);
	assert_int_equal(st.fenced, 1);
	/* The whole group: the background child too. */
	assert_true(shimfx_wait_gone(bg, 1000));
	assert_true(shimfx_has(r.sb, "stderr", "lease ran out"));
}

/* The lease file disappears (the agent's work dir wiped): fenced at once. A pre-stop
 * command under way goes too. */
static void test_shim_lease_gone_kills(void **state)
{
	if (!shimfx_can_mount())
		skip();
	struct rig r = rig_new();
	struct exec_volume vols[] = { { r.vol, "", 0 } };
	struct exec_spec s = { .task_id = "t", .sandbox = r.sb, .shell = 1,
			       .cmd = "touch \"$BERTH_VOLUME_0/started\"; exec sleep 60",
			       .volumes = vols, .nvolumes = 1, .lease_file = r.lease,
			       .grace_ms = 10000 };
	assert_int_equal(exec_lease_write(r.work, now_usec() + 60000000), 0);
	pid_t shim = shimfx_start(r.meta, &s, NULL);
	char *started = shimfx_path(r.vol, "started");
	assert_true(shimfx_wait_file(NULL, started, NULL, 5000));
	usleep(300000); /* read at least once */
	uint64_t t0 = now_usec();
	assert_int_equal(unlink(r.lease), 0);
	struct exec_status st = shimfx_finish(shim, r.meta);
	uint64_t took = now_usec() - t0;
	if (took > 500000)
		fail_msg("the task ended %llu ms after its lease file went",
			 (unsigned long long)took / 1000);
	assert_int_equal(st.state, EXEC_SIGNALED);
	assert_int_equal(st.fenced, 1);
}

/* A lease that has already run out: the task is not started at all. */
static void test_shim_expired_at_start(void **state)
{
	if (!shimfx_can_mount())
		skip();
	struct rig r = rig_new();
	struct exec_volume vols[] = { { r.vol, "data", 0 } };
	struct exec_spec s = { .task_id = "t", .sandbox = r.sb, .shell = 1,
			       .cmd = "touch data/ran", .volumes = vols, .nvolumes = 1,
			       .lease_file = r.lease };
	assert_int_equal(exec_lease_write(r.work, now_usec() - 1), 0);
	struct exec_status st = shimfx_run(r.meta, &s);
	assert_int_equal(st.state, EXEC_EXEC_FAILED);
	assert_int_equal(st.error, ETIME);
	assert_int_equal(st.fenced, 1);
	char *ran = shimfx_path(r.vol, "ran");
	assert_int_equal(access(ran, F_OK), -1);
}

/* No lease file was ever published (an agent without fencing): the task runs its course. */
static void test_shim_no_lease_file_runs(void **state)
{
	if (!shimfx_can_mount())
		skip();
	struct rig r = rig_new();
	struct exec_volume vols[] = { { r.vol, "data", 0 } };
	struct exec_spec s = { .task_id = "t", .sandbox = r.sb, .shell = 1,
			       .cmd = "sleep 0.7; touch data/done", .volumes = vols,
			       .nvolumes = 1, .lease_file = r.lease };
	struct exec_status st = shimfx_run(r.meta, &s);
	assert_int_equal(st.state, EXEC_EXITED);
	assert_int_equal(st.exit_code, 0);
	assert_int_equal(st.fenced, 0);
	char *done = shimfx_path(r.vol, "done");
	assert_int_equal(access(done, F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lease_file),
		cmocka_unit_test(test_lease_decision),
		cmocka_unit_test(test_spec_lease),
		cmocka_unit_test(test_shim_stale_lease_kills),
		cmocka_unit_test(test_shim_lease_gone_kills),
		cmocka_unit_test(test_shim_expired_at_start),
		cmocka_unit_test(test_shim_no_lease_file_runs),
	};
	return shimfx_end(cmocka_run_group_tests(tests, NULL, NULL));
}
