/* The sandbox path check: lexical table, then symlinks on a real directory tree. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/sandbox-path.h"
#include "base/mem.h"

static void test_split(void **state)
{
	static const struct {
		const char *path;
		int err;
		const char *id, *rel;
	} cases[] = {
		{ "t1/stdout", 0, "t1", "stdout" },
		{ "t1", 0, "t1", "" },
		{ "t1/", 0, "t1", "" },
		{ "./t1//a/./b", 0, "t1", "a/b" },
		{ "/r/sb/t1/stdout", 0, "t1", "stdout" },
		{ "/r/sb/t1", 0, "t1", "" },
		{ "/r/sb", -EACCES, NULL, NULL },         /* the root itself */
		{ "/r/sb/", -EACCES, NULL, NULL },
		{ "/r/sbx/t1/stdout", -EACCES, NULL, NULL }, /* prefix but not the root */
		{ "/etc/passwd", -EACCES, NULL, NULL },   /* absolute outside */
		{ "t1/../t2/stdout", -EACCES, NULL, NULL },
		{ "../x", -EACCES, NULL, NULL },
		{ "t1/..", -EACCES, NULL, NULL },
		{ "/r/sb/t1/../../etc", -EACCES, NULL, NULL },
		{ "", -EINVAL, NULL, NULL },
		{ ".", -EINVAL, NULL, NULL },
		{ "t1/a..b", 0, "t1", "a..b" },           /* ".." only as a whole component */
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *id, *rel;
		int r = sandbox_path_split("/r/sb", cases[i].path, &id, &rel);
		if (r != cases[i].err)
			fail_msg("'%s': got %d, want %d", cases[i].path, r, cases[i].err);
		if (r == 0) {
			assert_string_equal(id, cases[i].id);
			assert_string_equal(rel, cases[i].rel);
			free(id);
			free(rel);
		}
	}
}

static char root[256];

static void mk(const char *rel, int dir)
{
	char *p = xasprintf("%s/%s", root, rel);
	if (dir)
		assert_int_equal(mkdir(p, 0755), 0);
	else {
		int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, "hello", 5), 5);
		close(fd);
	}
	free(p);
}

static void ln(const char *target, const char *rel)
{
	char *p = xasprintf("%s/%s", root, rel);
	assert_int_equal(symlink(target, p), 0);
	free(p);
}

static void test_resolve(void **state)
{
	char tmpl[] = "/tmp/test-agent-sandbox-XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	snprintf(root, sizeof(root), "%s", tmpl);
	mk("t1", 1);
	mk("t1/stdout", 0);
	mk("t1/sub", 1);
	mk("t1/sub/f", 0);
	mk("t2", 1);
	mk("t2/secret", 0);
	ln("sub/f", "t1/inside");              /* symlink inside: ok */
	ln("../t2/secret", "t1/to-t2");        /* into another sandbox: refused */
	ln("/etc/passwd", "t1/to-etc");        /* absolute out: refused */
	ln("/etc", "t1/etcdir");
	ln("..", "t1/up");

	char *abs_ok = xasprintf("%s/t1/stdout", root);
	static const struct {
		const char *path;
		int err;
	} cases[] = {
		{ "t1/stdout", 0 },
		{ "t1/sub/f", 0 },
		{ "t1/inside", 0 },
		{ "t1", 0 },
		{ "t1/to-t2", -EACCES },
		{ "t1/to-etc", -EACCES },
		{ "t1/etcdir/passwd", -EACCES },
		{ "t1/up/t2/secret", -EACCES },
		{ "t1/missing", -ENOENT },
		{ "t3/stdout", -ENOENT },
		{ "t1/../t2/secret", -EACCES },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *real = NULL, *disp = NULL;
		int r = sandbox_path_resolve(root, cases[i].path, &real, &disp);
		if (r != cases[i].err)
			fail_msg("resolve '%s': got %d, want %d", cases[i].path, r, cases[i].err);
		free(real);
		free(disp);
		int fd = sandbox_path_open(root, cases[i].path, O_RDONLY, NULL);
		if (cases[i].err == 0) {
			assert_true(fd >= 0);
			close(fd);
		} else if (fd != cases[i].err) {
			fail_msg("open '%s': got %d, want %d", cases[i].path, fd, cases[i].err);
		}
	}
	char *real = NULL, *disp = NULL;
	assert_int_equal(sandbox_path_resolve(root, abs_ok, &real, &disp), 0);
	assert_string_equal(disp, abs_ok);
	free(real);
	free(disp);
	free(abs_ok);

	char *cmd = xasprintf("rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_resolve),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
