/* A containerised custom executor's end (agent-xctr.c): the shim's status file turned into
 * the executor's wait status, its message and its tasks' reason; the meta directory gone
 * afterwards; which LAUNCH records ask for a container. */
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
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "agent/xexec-int.h"
#include "base/mem.h"

struct fix {
	struct agent a;
	struct agent_xexec x;
	char dir[64];
};

static struct fix *fix_new(void)
{
	struct fix *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-agent-xctr-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->a.work_dir = f->dir;
	f->x.agent = &f->a;
	f->x.executor_id = "e1";
	f->x.framework_id = "f1";
	f->x.container_id = "f1.e1";
	f->x.pidfd = -1;
	return f;
}

static void fix_free(struct fix *f)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/xmeta", f->dir);
	rmdir(p);
	assert_int_equal(rmdir(f->dir), 0); /* nothing left behind */
	free(f);
}

/* Writes the meta directory as the shim leaves it: spec, status, and maybe image_error. */
static void shim_left(struct fix *f, const char *status, const char *image_error)
{
	char *meta = agent_xctr_meta(&f->a, &f->x), p[256];
	snprintf(p, sizeof(p), "%s/xmeta", f->dir);
	mkdir(p, 0700);
	assert_int_equal(mkdir(meta, 0700), 0);
	const char *names[] = { "spec", "status", "image_error" };
	const char *texts[] = { "x", status, image_error };
	for (int i = 0; i < 3; i++) {
		if (!texts[i])
			continue;
		snprintf(p, sizeof(p), "%s/%s", meta, names[i]);
		FILE *fp = fopen(p, "w");
		assert_non_null(fp);
		fputs(texts[i], fp);
		fclose(fp);
	}
	assert_true(agent_xctr_exists(&f->a, &f->x));
	free(meta);
}

static void test_exit_code(void **state)
{
	(void)state;
	struct fix *f = fix_new();
	char msg[800];
	shim_left(f, "state=exited\npid=7\nexit_code=3\n", NULL);
	assert_int_equal(agent_xctr_ended(&f->a, &f->x, msg, sizeof(msg)), 3 << 8);
	assert_string_equal(msg, "Executor terminated: exited with status 3");
	assert_null(f->x.end_reason);
	assert_false(agent_xctr_exists(&f->a, &f->x));
	fix_free(f);
}

static void test_signal(void **state)
{
	(void)state;
	struct fix *f = fix_new();
	char msg[800];
	shim_left(f, "state=signaled\npid=7\nsignal=9\nkilled=1\n", NULL);
	assert_int_equal(agent_xctr_ended(&f->a, &f->x, msg, sizeof(msg)), 9);
	assert_string_equal(msg, "Executor terminated: killed by signal 9");
	fix_free(f);
}

static void test_image_failure(void **state)
{
	(void)state;
	struct fix *f = fix_new();
	char msg[800];
	shim_left(f, "state=exec_failed\nerror=2\nimage=1\n", "Failed to pull image 'x:y': no\n");
	assert_int_equal(agent_xctr_ended(&f->a, &f->x, msg, sizeof(msg)), 1 << 8);
	assert_string_equal(msg, "Failed to launch executor 'e1': Failed to pull image 'x:y': no");
	assert_string_equal(f->x.end_reason, "REASON_CONTAINER_LAUNCH_FAILED");
	fix_free(f);
}

static void test_no_status(void **state)
{
	(void)state;
	struct fix *f = fix_new();
	char msg[800];
	shim_left(f, NULL, NULL);
	assert_int_equal(agent_xctr_ended(&f->a, &f->x, msg, sizeof(msg)), 1 << 8);
	assert_non_null(strstr(msg, "without a status"));
	fix_free(f);
}

static void test_wanted(void **state)
{
	(void)state;
	struct agent_xexec x = { 0 };
	json_t *img = json_pack("{s:{s:s, s:s}}", "container", "image", "bb:1", "network", "HOST");
	json_t *none = json_pack("{s:s}", "cmd", "x"), *empty = json_pack("{s:{s:s}}", "container",
									  "image", "");
	assert_true(agent_xctr_wanted(&x, img));
	assert_false(agent_xctr_wanted(&x, none));
	assert_false(agent_xctr_wanted(&x, empty));
	x.dflt = true; /* the default executor is never containerised here */
	assert_false(agent_xctr_wanted(&x, img));
	json_decref(img);
	json_decref(none);
	json_decref(empty);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_code),
		cmocka_unit_test(test_signal),
		cmocka_unit_test(test_image_failure),
		cmocka_unit_test(test_no_status),
		cmocka_unit_test(test_wanted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
