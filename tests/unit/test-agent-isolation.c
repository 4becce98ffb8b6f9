/* The agent's isolation helpers: --isolation parsing and the limits from cpus/mem. */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent/agent-int.h"

static void test_parse(void **state)
{
	bool cg, ns;
	char err[128];
	assert_int_equal(agent_isolation_parse("none", &cg, &ns, err, sizeof(err)), 0);
	assert_false(cg);
	assert_false(ns);
	assert_int_equal(agent_isolation_parse(NULL, &cg, &ns, err, sizeof(err)), 0);
	assert_false(cg || ns);
	assert_int_equal(agent_isolation_parse("cgroups,namespaces", &cg, &ns, err, sizeof(err)),
			 0);
	assert_true(cg && ns);
	/* Mesos's isolator names. */
	assert_int_equal(agent_isolation_parse("posix/cpu,cgroups/mem,namespaces/pid", &cg, &ns,
					       err, sizeof(err)), 0);
	assert_true(cg && ns);
	assert_int_equal(agent_isolation_parse("cgroups/cpu,posix/mem", &cg, &ns, err,
					       sizeof(err)), 0);
	assert_true(cg && !ns);
	assert_int_equal(agent_isolation_parse("cgroups,docker", &cg, &ns, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "'docker'"));
}

static void test_limits(void **state)
{
	uint64_t shares, quota, mem;
	agent_isolation_limits(0.5, 64, false, &shares, &quota, &mem);
	assert_int_equal(shares, 512);
	assert_int_equal(quota, 0);
	assert_int_equal(mem, 64ull << 20);
	agent_isolation_limits(0.001, 1, true, &shares, &quota, &mem);
	assert_int_equal(shares, 2);        /* Mesos's floor */
	assert_int_equal(quota, 1000);      /* 1 ms per 100 ms at least */
	assert_int_equal(mem, 32ull << 20); /* 32 MiB at least */
	agent_isolation_limits(2.5, 4096, true, &shares, &quota, &mem);
	assert_int_equal(shares, 2560);
	assert_int_equal(quota, 250000);
	assert_int_equal(mem, 4096ull << 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
