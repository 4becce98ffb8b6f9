/* Which agents a maintenance MachineID names (src/master/maint.c, maint_machine_of): the
 * rule START_MAINTENANCE, the DOWN check at subscribe and the inverse offers all use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "master/master-int.h"

static const struct {
	const char *id;       /* the MachineID's JSON */
	const char *hostname; /* the agent's */
	const char *ip;
	bool match;
} cases[] = {
	{ "{\"hostname\":\"m1\",\"ip\":\"10.0.0.1\"}", "m1", "10.0.0.1", true },
	{ "{\"hostname\":\"M1\",\"ip\":\"10.0.0.1\"}", "m1", "10.0.0.1", true }, /* case */
	{ "{\"hostname\":\"m1\",\"ip\":\"10.0.0.2\"}", "m1", "10.0.0.1", false },
	{ "{\"hostname\":\"m2\",\"ip\":\"10.0.0.1\"}", "m1", "10.0.0.1", false },
	{ "{\"hostname\":\"m1\"}", "m1", "10.0.0.9", true },                   /* ip: any */
	{ "{\"ip\":\"10.0.0.1\"}", "other", "10.0.0.1", true },               /* host: any */
	{ "{\"ip\":\"10.0.0.1\"}", "other", "10.0.0.10", false },             /* no prefix */
	{ "{\"hostname\":\"m1\"}", "m10", "10.0.0.1", false },
	{ "{\"hostname\":\"\",\"ip\":\"\"}", "m1", "10.0.0.1", false },       /* empty id */
	{ "{}", "m1", "10.0.0.1", false },
	{ "{\"hostname\":\"m1\"}", NULL, "10.0.0.1", false },                 /* no hostname */
	{ "{\"ip\":\"10.0.0.1\"}", "m1", NULL, false },                       /* no ip */
	{ "{\"hostname\":\"m1\",\"ip\":\"\"}", "m1", "10.0.0.1", true },      /* empty: any */
};

static void test_machine_of(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *id = json_loads(cases[i].id, 0, NULL);
		assert_non_null(id);
		if (maint_machine_of(id, cases[i].hostname, cases[i].ip) != cases[i].match)
			fail_msg("case %zu: %s vs %s/%s: want %d", i, cases[i].id,
				 cases[i].hostname ? cases[i].hostname : "(null)",
				 cases[i].ip ? cases[i].ip : "(null)", cases[i].match);
		json_decref(id);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_machine_of),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
