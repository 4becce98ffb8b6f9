/* Agent helpers: task ids, the resources measurement fallback, signal names. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/agent-util.h"
#include "model/resources.h"

static void test_task_id(void **state)
{
	assert_true(agent_task_id_valid("prod_web.instance-6f1d.__app.1"));
	assert_true(agent_task_id_valid("a..b"));
	assert_false(agent_task_id_valid(""));
	assert_false(agent_task_id_valid("."));
	assert_false(agent_task_id_valid(".."));
	assert_false(agent_task_id_valid("a/b"));
	assert_false(agent_task_id_valid("a\nb"));
	char big[300];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_false(agent_task_id_valid(big));
	big[255] = '\0';
	assert_true(agent_task_id_valid(big));
}

static void test_meminfo(void **state)
{
	uint64_t mib;
	assert_int_equal(agent_meminfo_total_mib("MemTotal:        8048124 kB\nMemFree: 1 kB\n",
						 &mib), 0);
	assert_int_equal(mib, 7859);
	assert_int_equal(agent_meminfo_total_mib("MemFree: 1 kB\nMemTotal: 2048 kB\n", &mib), 0);
	assert_int_equal(mib, 2);
	assert_int_equal(agent_meminfo_total_mib("MemFree: 1 kB\n", &mib), -EINVAL);
	assert_int_equal(agent_meminfo_total_mib("XMemTotal: 5 kB\n", &mib), -EINVAL);
}

static void test_resources_default(void **state)
{
	char *s = agent_resources_default(2, 8000, 500);
	assert_string_equal(s, "cpus(*):2; mem(*):6976; disk(*):500; ports(*):[31000-32000]");
	free(s);
	s = agent_resources_default(0, 1000, 0); /* small machine: reserve half */
	assert_string_equal(s, "cpus(*):1; mem(*):500; disk(*):0; ports(*):[31000-32000]");
	free(s);

	/* The measured string is valid Mesos syntax with every resource. */
	s = agent_resources_measure("/tmp");
	struct resources r = RESOURCES_INIT;
	char err[256];
	assert_int_equal(resources_parse(s, &r, err, sizeof(err)), 0);
	assert_true(resources_scalar(&r, "cpus", NULL) >= 1);
	assert_true(resources_scalar(&r, "mem", NULL) > 0);
	assert_int_equal(resources_range_count(&r, "ports", NULL), 1001);
	resources_release(&r);
	free(s);
}

static void test_signal_name(void **state)
{
	char buf[32];
	assert_string_equal(agent_signal_name(11, buf, sizeof(buf)), "SIGSEGV");
	assert_string_equal(agent_signal_name(15, buf, sizeof(buf)), "SIGTERM");
	assert_string_equal(agent_signal_name(200, buf, sizeof(buf)), "signal 200");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_task_id),
		cmocka_unit_test(test_meminfo),
		cmocka_unit_test(test_resources_default),
		cmocka_unit_test(test_signal_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
