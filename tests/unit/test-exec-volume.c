/* Volumes in berth-executor: spec round trip and validation, container path resolution, and
 * (as root, with BERTH_EXECUTOR set) the real shim bind-mounting volumes in a private mount
 * namespace: writes through the container path land in the volume, the mount is not visible
 * outside the task, RO is read-only, a bad source fails the task with volume=<n>. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
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

/* Paths live until the end of the run (freed by main). */
static char *paths[256];
static size_t npaths;

static char *keep(char *p)
{
	if (npaths < sizeof(paths) / sizeof(paths[0]))
		paths[npaths++] = p;
	return p;
}

static char *tmpdir(void)
{
	static char tmpl[64];
	snprintf(tmpl, sizeof(tmpl), "/tmp/test-exec-volume-XXXXXX");
	assert_non_null(mkdtemp(tmpl));
	return keep(strdup(tmpl));
}

static char *path2(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = malloc(n);
	snprintf(p, n, "%s/%s", a, b);
	return keep(p);
}

/* Runs the shim on meta to its end; returns the task's status. */
static struct exec_status run_shim(const char *meta, struct exec_spec *s)
{
	char *sp = path2(meta, "spec");
	assert_int_equal(exec_spec_write_file(sp, s), 0);
	const char *exe = getenv("BERTH_EXECUTOR");
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execl(exe, exe, meta, (char *)NULL);
		_exit(127);
	}
	int ws;
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	struct exec_status st;
	assert_int_equal(exec_status_read(meta, &st), 0);
	return st;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = calloc(1, 8192);
	size_t n = fread(buf, 1, 8191, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int can_mount(void)
{
	return getenv("BERTH_EXECUTOR") && geteuid() == 0;
}

static void test_shim_bind_mounts(void **state)
{
	if (!can_mount())
		skip();
	char *dir = tmpdir();
	char *meta = path2(dir, "meta");
	char *sb = path2(dir, "sandbox");
	char *vol = path2(dir, "vol");
	char *abs_target = path2(dir, "abs/target"); /* absolute, missing: created */
	char *vol2 = path2(dir, "vol2");
	assert_int_equal(mkdir(meta, 0700), 0);
	assert_int_equal(mkdir(vol, 0755), 0);
	assert_int_equal(mkdir(vol2, 0755), 0);
	char *cmd;
	assert_true(asprintf(&cmd,
			     "set -e; echo one > data/f; echo two > %s/g;"
			     " echo \"$BERTH_VOLUME_0|$BERTH_VOLUME_1\" > env;"
			     " grep -c ' %s ' /proc/self/mountinfo > inside", abs_target,
			     abs_target) > 0);
	struct exec_volume vols[] = { { vol, "data", 0 }, { vol2, abs_target, 0 } };
	struct exec_spec s = { .task_id = "t", .sandbox = sb, .shell = 1, .cmd = cmd,
			       .volumes = vols, .nvolumes = 2 };
	struct exec_status st = run_shim(meta, &s);
	assert_int_equal(st.state, EXEC_EXITED);
	assert_int_equal(st.exit_code, 0);

	/* Written through the container paths, found in the volumes. */
	char *f = path2(vol, "f"), *g = path2(vol2, "g");
	char *c = slurp(f);
	assert_non_null(c);
	assert_string_equal(c, "one\n");
	free(c);
	c = slurp(g);
	assert_non_null(c);
	assert_string_equal(c, "two\n");
	free(c);
	/* Mounted inside the task ... */
	char *inside = path2(sb, "inside");
	c = slurp(inside);
	assert_non_null(c);
	assert_string_equal(c, "1\n");
	free(c);
	char *envf = path2(sb, "env");
	c = slurp(envf);
	char *want;
	assert_true(asprintf(&want, "%s/data|%s\n", sb, abs_target) > 0);
	assert_string_equal(c, want);
	free(c);
	free(want);
	/* ... and not outside: the host sees empty mount points. */
	char *through = path2(sb, "data/f");
	assert_int_equal(access(through, F_OK), -1);
	c = slurp("/proc/self/mountinfo");
	assert_null(strstr(c, abs_target));
	assert_null(strstr(c, sb));
	free(c);
	free(cmd);
}

static void test_shim_read_only(void **state)
{
	if (!can_mount())
		skip();
	char *dir = tmpdir();
	char *meta = path2(dir, "meta");
	char *sb = path2(dir, "sandbox");
	char *vol = path2(dir, "vol");
	assert_int_equal(mkdir(meta, 0700), 0);
	assert_int_equal(mkdir(vol, 0755), 0);
	char *pre = path2(vol, "pre");
	FILE *fp = fopen(pre, "w");
	fputs("seen\n", fp);
	fclose(fp);
	struct exec_volume vols[] = { { vol, "ro", 1 } };
	struct exec_spec s = { .task_id = "t", .sandbox = sb, .shell = 1,
			       .cmd = "cat ro/pre > copy; echo x > ro/new",
			       .volumes = vols, .nvolumes = 1 };
	struct exec_status st = run_shim(meta, &s);
	assert_int_equal(st.state, EXEC_EXITED);
	assert_int_not_equal(st.exit_code, 0); /* the write failed */
	char *copy = path2(sb, "copy");
	char *c = slurp(copy);
	assert_string_equal(c, "seen\n"); /* reading works */
	free(c);
	char *nw = path2(vol, "new");
	assert_int_equal(access(nw, F_OK), -1);
	char *errp = path2(sb, "stderr");
	c = slurp(errp);
	assert_non_null(strstr(c, "Read-only"));
	free(c);
}

static void test_shim_mount_failure(void **state)
{
	if (!can_mount())
		skip();
	char *dir = tmpdir();
	char *meta = path2(dir, "meta");
	char *sb = path2(dir, "sandbox");
	char *vol = path2(dir, "vol");
	char *missing = path2(dir, "missing");
	assert_int_equal(mkdir(meta, 0700), 0);
	assert_int_equal(mkdir(vol, 0755), 0);
	struct exec_volume vols[] = { { vol, "a", 0 }, { missing, "b", 0 } };
	struct exec_spec s = { .task_id = "t", .sandbox = sb, .shell = 1,
			       .cmd = "touch ran", .volumes = vols, .nvolumes = 2 };
	struct exec_status st = run_shim(meta, &s);
	assert_int_equal(st.state, EXEC_EXEC_FAILED);
	assert_int_equal(st.error, ENOENT);
	assert_int_equal(st.volume, 2);
	char *ran = path2(sb, "ran");
	assert_int_equal(access(ran, F_OK), -1);
	char *errp = path2(sb, "stderr");
	char *c = slurp(errp);
	assert_non_null(strstr(c, missing));
	free(c);
	/* Nothing left mounted on the host. */
	c = slurp("/proc/self/mountinfo");
	assert_null(strstr(c, sb));
	free(c);
}

/* External volumes without a container path: nothing is bind-mounted, the task uses the
 * source (the driver's mountpoint) where it is, BERTH_VOLUME_<n> is that path; RO binds it
 * onto itself read-only, inside the task's namespace only. */
static void test_shim_no_container_path(void **state)
{
	if (!can_mount())
		skip();
	char *dir = tmpdir();
	char *meta = path2(dir, "meta");
	char *sb = path2(dir, "sandbox");
	char *vol = path2(dir, "webdata");
	char *rovol = path2(dir, "rodata");
	assert_int_equal(mkdir(meta, 0700), 0);
	assert_int_equal(mkdir(vol, 0755), 0);
	assert_int_equal(mkdir(rovol, 0755), 0);
	char *cmd;
	assert_true(asprintf(&cmd,
			     "echo hello >> %s/readme.txt; echo \"$BERTH_VOLUME_0|$BERTH_VOLUME_1\" > env;"
			     " grep -c ' %s ' /proc/self/mountinfo > mounts;"
			     " echo x > \"$BERTH_VOLUME_1/new\" || echo refused > ro", vol, vol) > 0);
	struct exec_volume vols[] = { { vol, "", 0 }, { rovol, "", 1 } };
	struct exec_spec s = { .task_id = "t", .sandbox = sb, .shell = 1, .cmd = cmd,
			       .volumes = vols, .nvolumes = 2 };
	struct exec_status st = run_shim(meta, &s);
	assert_int_equal(st.state, EXEC_EXITED);
	assert_int_equal(st.exit_code, 0);
	char *readme = path2(vol, "readme.txt");
	char *c = slurp(readme);
	assert_non_null(c);
	assert_string_equal(c, "hello\n");
	free(c);
	char *envf = path2(sb, "env");
	c = slurp(envf);
	char *want;
	assert_true(asprintf(&want, "%s|%s\n", vol, rovol) > 0);
	assert_string_equal(c, want);
	free(c);
	free(want);
	/* Not a mount point in the task: used where it is. */
	char *mounts = path2(sb, "mounts");
	c = slurp(mounts);
	assert_string_equal(c, "0\n");
	free(c);
	char *rof = path2(sb, "ro");
	c = slurp(rof);
	assert_non_null(c);
	assert_string_equal(c, "refused\n");
	free(c);
	char *nw = path2(rovol, "new");
	assert_int_equal(access(nw, F_OK), -1);
	/* The read-only bind stayed in the task's namespace: writable on the host. */
	char *probe = path2(rovol, "host");
	FILE *f = fopen(probe, "w");
	assert_non_null(f);
	fclose(f);
	c = slurp("/proc/self/mountinfo");
	assert_null(strstr(c, rovol));
	free(c);
	free(cmd);

	/* A missing mountpoint fails the task with volume=<n>, as for a bind source. */
	char *gone = path2(dir, "gone");
	struct exec_volume bad[] = { { gone, "", 0 } };
	struct exec_spec s2 = { .task_id = "t", .sandbox = sb, .shell = 1, .cmd = "true",
				.volumes = bad, .nvolumes = 1 };
	st = run_shim(meta, &s2);
	assert_int_equal(st.state, EXEC_EXEC_FAILED);
	assert_int_equal(st.volume, 1);
	assert_int_equal(st.error, ENOENT);
}

/* A task without volumes stays in the host's mount namespace. */
static void test_shim_no_volumes_same_ns(void **state)
{
	if (!getenv("BERTH_EXECUTOR"))
		skip();
	char *dir = tmpdir();
	char *meta = path2(dir, "meta");
	char *sb = path2(dir, "sandbox");
	assert_int_equal(mkdir(meta, 0700), 0);
	struct exec_spec s = { .task_id = "t", .sandbox = sb, .shell = 1,
			       .cmd = "readlink /proc/self/ns/mnt > ns" };
	struct exec_status st = run_shim(meta, &s);
	assert_int_equal(st.state, EXEC_EXITED);
	assert_int_equal(st.exit_code, 0);
	char mine[128] = "";
	ssize_t n = readlink("/proc/self/ns/mnt", mine, sizeof(mine) - 2);
	assert_true(n > 0);
	mine[n] = '\n';
	char *nsf = path2(sb, "ns");
	char *c = slurp(nsf);
	assert_string_equal(c, mine);
	free(c);
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
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	for (size_t i = 0; i < npaths; i++)
		free(paths[i]);
	return r;
}
