/* Volumes in berth-executor: spec round trip and validation, container path resolution, and
 * (as root, with BERTH_EXECUTOR set) the real shim bind-mounting volumes in a private mount
 * namespace: writes through the container path land in the volume, the mount is not visible
 * outside the task, RO is read-only, a bad source fails the task with volume=<n>. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "executor/exec-spec.h"
#include "executor/exec-status.h"
#include "executor/exec-volume.h"
#include "shim-fixture.h"

static void test_spec_volumes_round_trip(void **state)
{
	struct exec_volume vols[] = { { "/srv/vol/a", "data", 0 }, { "/srv/vol/b", "/var/lib/x", 1 } };
	struct exec_spec s = { .task_id = "t", .sandbox = "/s", .shell = 1, .cmd = "true",
			       .volumes = vols, .nvolumes = 2 };
	char *buf;
	size_t len;
	assert_int_equal(exec_spec_serialize(&s, &buf, &len), 0);
	struct exec_spec p;
	assert_int_equal(exec_spec_parse(buf, len, &p), 0);
	assert_int_equal(p.nvolumes, 2);
	assert_string_equal(p.volumes[0].source, "/srv/vol/a");
	assert_string_equal(p.volumes[0].path, "data");
	assert_int_equal(p.volumes[0].ro, 0);
	assert_string_equal(p.volumes[1].path, "/var/lib/x");
	assert_int_equal(p.volumes[1].ro, 1);
	exec_spec_release(&p);

	/* An empty path (external volume without a container path: no bind mount). */
	struct exec_volume nobind[] = { { "/var/lib/rexray/volumes/webdata", "", 0 } };
	s.volumes = nobind;
	s.nvolumes = 1;
	assert_int_equal(exec_spec_serialize(&s, &buf, &len), 0);
	assert_int_equal(exec_spec_parse(buf, len, &p), 0);
	assert_int_equal(p.nvolumes, 1);
	assert_string_equal(p.volumes[0].source, "/var/lib/rexray/volumes/webdata");
	assert_string_equal(p.volumes[0].path, "");
	exec_spec_release(&p);

	/* Rejected on the way out: relative source, "..", no path at all. */
	struct exec_volume bad[] = { { "rel", "data", 0 } };
	s.volumes = bad;
	s.nvolumes = 1;
	assert_int_equal(exec_spec_serialize(&s, &buf, &len), -EINVAL);
	bad[0] = (struct exec_volume){ "/a", "../escape", 0 };
	assert_int_equal(exec_spec_serialize(&s, &buf, &len), -EINVAL);
	bad[0] = (struct exec_volume){ "/a", "x/../../y", 0 };
	assert_int_equal(exec_spec_serialize(&s, &buf, &len), -EINVAL);
	bad[0] = (struct exec_volume){ "/a", NULL, 0 };
	assert_int_equal(exec_spec_serialize(&s, &buf, &len), -EINVAL);
	bad[0] = (struct exec_volume){ "rel", "", 0 };
	assert_int_equal(exec_spec_serialize(&s, &buf, &len), -EINVAL);

#define PFX EXEC_SPEC_MAGIC "\0task_id\0t\0sandbox\0/s\0shell\0" "1\0cmd\0x\0"
	static const struct {
		const char *data;
		size_t len;
	} cases[] = {
		{ PFX "volume\0/a\0", sizeof(PFX "volume\0/a\0") - 1 },      /* no v.path */
		{ PFX "v.path\0x\0", sizeof(PFX "v.path\0x\0") - 1 },        /* no volume */
		{ PFX "volume\0/a\0v.path\0..\0", sizeof(PFX "volume\0/a\0v.path\0..\0") - 1 },
		{ PFX "volume\0/a\0v.path\0x\0v.ro\0" "2\0",
		  sizeof(PFX "volume\0/a\0v.path\0x\0v.ro\0" "2\0") - 1 },
		{ PFX "volume\0/a\0volume\0/b\0v.path\0x\0",
		  sizeof(PFX "volume\0/a\0volume\0/b\0v.path\0x\0") - 1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *b = malloc(cases[i].len);
		memcpy(b, cases[i].data, cases[i].len);
		assert_int_equal(exec_spec_parse(b, cases[i].len, &p), -EINVAL);
	}
}

static void test_volume_target(void **state)
{
	char buf[PATH_MAX];
	struct exec_volume v = { "/src", "data", 0 };
	assert_int_equal(exec_volume_target("/sb/t1", &v, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/sb/t1/data");
	v.path = "/var/lib/app/";
	assert_int_equal(exec_volume_target("/sb/t1", &v, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/var/lib/app");
	v.path = "a/../..";
	assert_int_equal(exec_volume_target("/sb/t1", &v, buf, sizeof(buf)), -EINVAL);
	v.path = "data";
	assert_int_equal(exec_volume_target("/sb/t1", &v, buf, 8), -ENAMETOOLONG);
	/* No container path: the source itself. */
	v = (struct exec_volume){ "/var/lib/rexray/volumes/webdata/", "", 0 };
	assert_int_equal(exec_volume_target("/sb/t1", &v, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/var/lib/rexray/volumes/webdata");
	v.source = "rel";
	assert_int_equal(exec_volume_target("/sb/t1", &v, buf, sizeof(buf)), -EINVAL);
	assert_true(exec_volume_path_valid("a..b/..c"));
	assert_false(exec_volume_path_valid(".."));
}

/* ---- the real shim ---- */

/* Whether the host's mount table mentions what (a mount left outside the task). */
static bool host_mounts(const char *what)
{
	char *c = shimfx_slurp(NULL, "/proc/self/mountinfo");
	assert_non_null(c);
	bool found = strstr(c, what) != NULL;
	free(c);
	return found;
}

static void test_shim_bind_mounts(void **state)
{
	if (!shimfx_can_mount())
		skip();
	struct shimfx_dirs d = shimfx_dirs("test-exec-volume");
	char *vol = shimfx_path(d.dir, "vol");
	char *abs_target = shimfx_path(d.dir, "abs/target"); /* absolute, missing: created */
	char *vol2 = shimfx_path(d.dir, "vol2");
	shimfx_mkdir(vol, 0755, false);
	shimfx_mkdir(vol2, 0755, false);
	char *cmd;
	assert_true(asprintf(&cmd,
			     "set -e; echo one > data/f; echo two > %s/g;"
			     " echo \"$BERTH_VOLUME_0|$BERTH_VOLUME_1\" > env;"
			     " grep -c ' %s ' /proc/self/mountinfo > inside", abs_target,
			     abs_target) > 0);
	struct exec_volume vols[] = { { vol, "data", 0 }, { vol2, abs_target, 0 } };
	struct exec_spec s = { .task_id = "t", .sandbox = d.sb, .shell = 1, .cmd = cmd,
			       .volumes = vols, .nvolumes = 2 };
	struct exec_status st = shimfx_run(d.meta, &s);
	assert_int_equal(st.state, EXEC_EXITED);
	assert_int_equal(st.exit_code, 0);

	/* Written through the container paths, found in the volumes. */
	shimfx_assert_file(vol, "f", "one\n");
	shimfx_assert_file(vol2, "g", "two\n");
	/* Mounted inside the task ... */
	shimfx_assert_file(d.sb, "inside", "1\n");
	char *want;
	assert_true(asprintf(&want, "%s/data|%s\n", d.sb, abs_target) > 0);
	shimfx_assert_file(d.sb, "env", want);
	free(want);
	/* ... and not outside: the host sees empty mount points. */
	assert_int_equal(access(shimfx_path(d.sb, "data/f"), F_OK), -1);
	assert_false(host_mounts(abs_target));
	assert_false(host_mounts(d.sb));
	free(cmd);
}

static void test_shim_read_only(void **state)
{
	if (!shimfx_can_mount())
		skip();
	struct shimfx_dirs d = shimfx_dirs("test-exec-volume");
	char *vol = shimfx_path(d.dir, "vol");
	shimfx_mkdir(vol, 0755, false);
	shimfx_write(shimfx_path(vol, "pre"), "seen\n");
	struct exec_volume vols[] = { { vol, "ro", 1 } };
	struct exec_spec s = { .task_id = "t", .sandbox = d.sb, .shell = 1,
			       .cmd = "cat ro/pre > copy; echo x > ro/new",
			       .volumes = vols, .nvolumes = 1 };
	struct exec_status st = shimfx_run(d.meta, &s);
	assert_int_equal(st.state, EXEC_EXITED);
	assert_int_not_equal(st.exit_code, 0); /* the write failed */
	shimfx_assert_file(d.sb, "copy", "seen\n"); /* reading works */
	assert_int_equal(access(shimfx_path(vol, "new"), F_OK), -1);
	assert_true(shimfx_has(d.sb, "stderr", "Read-only"));
}

static void test_shim_mount_failure(void **state)
{
	if (!shimfx_can_mount())
		skip();
	struct shimfx_dirs d = shimfx_dirs("test-exec-volume");
	char *vol = shimfx_path(d.dir, "vol");
	char *missing = shimfx_path(d.dir, "missing");
	shimfx_mkdir(vol, 0755, false);
	struct exec_volume vols[] = { { vol, "a", 0 }, { missing, "b", 0 } };
	struct exec_spec s = { .task_id = "t", .sandbox = d.sb, .shell = 1,
			       .cmd = "touch ran", .volumes = vols, .nvolumes = 2 };
	struct exec_status st = shimfx_run(d.meta, &s);
	assert_int_equal(st.state, EXEC_EXEC_FAILED);
	assert_int_equal(st.error, ENOENT);
	assert_int_equal(st.volume, 2);
	assert_int_equal(access(shimfx_path(d.sb, "ran"), F_OK), -1);
	assert_true(shimfx_has(d.sb, "stderr", missing));
	/* Nothing left mounted on the host. */
	assert_false(host_mounts(d.sb));
}

/* External volumes without a container path: nothing is bind-mounted, the task uses the
 * source (the driver's mountpoint) where it is, BERTH_VOLUME_<n> is that path; RO binds it
 * onto itself read-only, inside the task's namespace only. */
static void test_shim_no_container_path(void **state)
{
	if (!shimfx_can_mount())
		skip();
	struct shimfx_dirs d = shimfx_dirs("test-exec-volume");
	char *vol = shimfx_path(d.dir, "webdata");
	char *rovol = shimfx_path(d.dir, "rodata");
	shimfx_mkdir(vol, 0755, false);
	shimfx_mkdir(rovol, 0755, false);
	char *cmd;
	assert_true(asprintf(&cmd,
			     "echo hello >> %s/readme.txt; echo \"$BERTH_VOLUME_0|$BERTH_VOLUME_1\" > env;"
			     " grep -c ' %s ' /proc/self/mountinfo > mounts;"
			     " echo x > \"$BERTH_VOLUME_1/new\" || echo refused > ro", vol, vol) > 0);
	struct exec_volume vols[] = { { vol, "", 0 }, { rovol, "", 1 } };
	struct exec_spec s = { .task_id = "t", .sandbox = d.sb, .shell = 1, .cmd = cmd,
			       .volumes = vols, .nvolumes = 2 };
	struct exec_status st = shimfx_run(d.meta, &s);
	assert_int_equal(st.state, EXEC_EXITED);
	assert_int_equal(st.exit_code, 0);
	shimfx_assert_file(vol, "readme.txt", "hello\n");
	char *want;
	assert_true(asprintf(&want, "%s|%s\n", vol, rovol) > 0);
	shimfx_assert_file(d.sb, "env", want);
	free(want);
	/* Not a mount point in the task: used where it is. */
	shimfx_assert_file(d.sb, "mounts", "0\n");
	shimfx_assert_file(d.sb, "ro", "refused\n");
	assert_int_equal(access(shimfx_path(rovol, "new"), F_OK), -1);
	/* The read-only bind stayed in the task's namespace: writable on the host. */
	shimfx_write(shimfx_path(rovol, "host"), "");
	assert_false(host_mounts(rovol));
	free(cmd);

	/* A missing mountpoint fails the task with volume=<n>, as for a bind source. */
	struct exec_volume bad[] = { { shimfx_path(d.dir, "gone"), "", 0 } };
	struct exec_spec s2 = { .task_id = "t", .sandbox = d.sb, .shell = 1, .cmd = "true",
				.volumes = bad, .nvolumes = 1 };
	st = shimfx_run(d.meta, &s2);
	assert_int_equal(st.state, EXEC_EXEC_FAILED);
	assert_int_equal(st.volume, 1);
	assert_int_equal(st.error, ENOENT);
}

/* A task without volumes stays in the host's mount namespace. */
static void test_shim_no_volumes_same_ns(void **state)
{
	if (!shimfx_have_shim())
		skip();
	struct shimfx_dirs d = shimfx_dirs("test-exec-volume");
	struct exec_spec s = { .task_id = "t", .sandbox = d.sb, .shell = 1,
			       .cmd = "readlink /proc/self/ns/mnt > ns" };
	struct exec_status st = shimfx_run(d.meta, &s);
	assert_int_equal(st.state, EXEC_EXITED);
	assert_int_equal(st.exit_code, 0);
	char mine[128] = "";
	ssize_t n = readlink("/proc/self/ns/mnt", mine, sizeof(mine) - 2);
	assert_true(n > 0);
	mine[n] = '\n';
	shimfx_assert_file(d.sb, "ns", mine);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_volumes_round_trip),
		cmocka_unit_test(test_volume_target),
		cmocka_unit_test(test_shim_bind_mounts),
		cmocka_unit_test(test_shim_read_only),
		cmocka_unit_test(test_shim_mount_failure),
		cmocka_unit_test(test_shim_no_container_path),
		cmocka_unit_test(test_shim_no_volumes_same_ns),
	};
	return shimfx_end(cmocka_run_group_tests(tests, NULL, NULL));
}
