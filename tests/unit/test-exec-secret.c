/* The agent's secret store (exec-secret.h): source names, the mode and owner checks, no
 * symlinks, the value's trailing newline, NUL and size bounds; the spec's "secret" entries
 * round-trip; and the task's environment takes a secret over a plain variable of its name. */
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

#include "executor/exec-env.h"
#include "executor/exec-secret.h"
#include "executor/exec-spec.h"

static char dir[64];

static void put(const char *name, const void *data, size_t len, mode_t mode)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	assert_int_equal(chmod(p, mode), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test-exec-secret-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_source_names(void **state)
{
	(void)state;
	assert_true(exec_secret_source_valid("db"));
	assert_true(exec_secret_source_valid("/db"));
	assert_true(exec_secret_source_valid("team/db.pw-1_x"));
	assert_false(exec_secret_source_valid(""));
	assert_false(exec_secret_source_valid("/"));
	assert_false(exec_secret_source_valid("a//b"));
	assert_false(exec_secret_source_valid("a/"));
	assert_false(exec_secret_source_valid("../x"));
	assert_false(exec_secret_source_valid("a/./b"));
	assert_false(exec_secret_source_valid("a b"));
	assert_false(exec_secret_source_valid("a@b"));
	char big[300];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_false(exec_secret_source_valid(big));
}

static void test_read(void **state)
{
	(void)state;
	char msg[256], *v;
	size_t n;
	assert_int_equal(exec_secret_dir_check(dir, msg, sizeof(msg)), 0);
	put("pw", "s3cret\n", 7, 0600);
	assert_int_equal(exec_secret_read(dir, "pw", &v, &n, msg, sizeof(msg)), 0);
	assert_string_equal(v, "s3cret");
	assert_int_equal(n, 6);
	free(v);
	put("crlf", "a b\r\n", 5, 0400);
	assert_int_equal(exec_secret_read(dir, "/crlf", &v, &n, msg, sizeof(msg)), 0);
	assert_string_equal(v, "a b");
	free(v);
	put("two", "x\n\n", 3, 0600); /* one newline only */
	assert_int_equal(exec_secret_read(dir, "two", &v, &n, msg, sizeof(msg)), 0);
	assert_string_equal(v, "x\n");
	free(v);

	assert_int_equal(exec_secret_read(dir, "none", &v, &n, msg, sizeof(msg)), -ENOENT);
	put("open", "leak", 4, 0640);
	assert_int_equal(exec_secret_read(dir, "open", &v, &n, msg, sizeof(msg)), -EPERM);
	assert_non_null(strstr(msg, "0640"));
	assert_null(strstr(msg, "leak"));
	put("nul", "a\0b", 3, 0600);
	assert_int_equal(exec_secret_read(dir, "nul", &v, &n, msg, sizeof(msg)), -EINVAL);
	char *big = calloc(1, EXEC_SECRET_MAX_BYTES + 1);
	memset(big, 'x', EXEC_SECRET_MAX_BYTES + 1);
	put("big", big, EXEC_SECRET_MAX_BYTES + 1, 0600);
	free(big);
	assert_int_equal(exec_secret_read(dir, "big", &v, &n, msg, sizeof(msg)), -E2BIG);
	assert_int_equal(exec_secret_read(dir, "../etc", &v, &n, msg, sizeof(msg)), -EINVAL);

	/* symlinks: the file itself, and a directory on the way */
	char p[256], q[256];
	snprintf(p, sizeof(p), "%s/link", dir);
	assert_int_equal(symlink("pw", p), 0);
	assert_int_equal(exec_secret_read(dir, "link", &v, &n, msg, sizeof(msg)), -ELOOP);
	snprintf(p, sizeof(p), "%s/sub", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	put("sub/k", "deep", 4, 0600);
	assert_int_equal(exec_secret_read(dir, "sub/k", &v, &n, msg, sizeof(msg)), 0);
	assert_string_equal(v, "deep");
	free(v);
	snprintf(q, sizeof(q), "%s/lsub", dir);
	assert_int_equal(symlink("sub", q), 0);
	assert_int_equal(exec_secret_read(dir, "lsub/k", &v, &n, msg, sizeof(msg)), -ELOOP);
	assert_int_equal(chmod(p, 0750), 0);
	assert_int_equal(exec_secret_read(dir, "sub/k", &v, &n, msg, sizeof(msg)), -EPERM);
	/* the store itself */
	assert_int_equal(chmod(dir, 0711), 0);
	assert_int_equal(exec_secret_dir_check(dir, msg, sizeof(msg)), -EPERM);
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(exec_secret_dir_check("rel", msg, sizeof(msg)), -EINVAL);
	snprintf(p, sizeof(p), "%s/pw", dir);
	assert_int_equal(exec_secret_dir_check(p, msg, sizeof(msg)), -ENOTDIR);
}

static void test_spec_and_env(void **state)
{
	(void)state;
	put("pw", "s3cret", 6, 0600);
	const char *env[] = { "DB_PW=plain", "OTHER=1", NULL };
	const char *secrets[] = { "DB_PW=pw", NULL };
	const char *args[] = { "/bin/true", NULL };
	struct exec_spec s = { .task_id = "t", .sandbox = "/sb", .args = args, .nargs = 1,
			       .env = env, .nenv = 2, .secrets = secrets, .nsecrets = 1 };
	char *buf;
	size_t len;
	assert_int_equal(exec_spec_serialize(&s, &buf, &len), -EINVAL); /* no secrets_dir */
	s.secrets_dir = dir;
	assert_int_equal(exec_spec_serialize(&s, &buf, &len), 0);
	assert_null(memmem(buf, len, "s3cret", 6));
	struct exec_spec p;
	assert_int_equal(exec_spec_parse(buf, len, &p), 0);
	assert_int_equal(p.nsecrets, 1);
	assert_string_equal(p.secrets[0], "DB_PW=pw");
	assert_string_equal(p.secrets_dir, dir);

	char msg[256], *kv;
	assert_int_equal(exec_secret_env(p.secrets_dir, p.secrets[0], &kv, msg, sizeof(msg)), 0);
	assert_string_equal(kv, "DB_PW=s3cret");
	p.secret_env = calloc(1, sizeof(char *));
	p.secret_env[p.nsecret_env++] = kv;
	char **e = exec_env_build(&p);
	assert_non_null(e);
	int db = 0, other = 0;
	for (char **x = e; *x; x++) {
		if (!strncmp(*x, "DB_PW=", 6)) {
			db++;
			assert_string_equal(*x, "DB_PW=s3cret");
		}
		other += !strcmp(*x, "OTHER=1");
	}
	assert_int_equal(db, 1);
	assert_int_equal(other, 1);
	exec_env_free(e, &p);
	exec_spec_release(&p);

	/* a spec with a secret but no store is malformed */
	static const char raw[] = "berth-exec-spec-1\0task_id\0t\0sandbox\0/sb\0shell\0"
				  "0\0arg\0/bin/true\0secret\0A=b";
	char *copy = malloc(sizeof(raw));
	memcpy(copy, raw, sizeof(raw));
	assert_int_equal(exec_spec_parse(copy, sizeof(raw), &p), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_source_names),
		cmocka_unit_test_setup_teardown(test_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spec_and_env, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
