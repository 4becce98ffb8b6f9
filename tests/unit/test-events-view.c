/* View filtering of /v2/events (src/apps/events-view.c): which apps an event names, and
 * the per-principal memo of the check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "apps/apps-int.h"
#include "apps/events-view.h"

static void test_apps_named(void **st)
{
	(void)st;
	static const struct {
		const char *json;
		const char *want; /* the ids, comma-separated, in order */
	} cases[] = {
		{ "{\"remoteAddress\":\"1.2.3.4\"}", "" },
		{ "{\"appId\":\"/a\",\"taskId\":\"t\"}", "/a" },
		{ "{\"runSpecId\":\"/r\",\"instanceId\":\"i\"}", "/r" },
		{ "{\"groupId\":\"/g\",\"version\":\"v\"}", "/g" },
		{ "{\"appDefinition\":{\"id\":\"/d\",\"labels\":{\"appId\":\"/no\"}}}", "/d" },
		{ "{\"plan\":{\"steps\":[{\"actions\":[{\"action\":\"StartApplication\",\"app\":\"/s1\"},"
		  "{\"app\":\"/s2\"}]}]}}", "/s1,/s2" },
		{ "{\"plan\":{\"steps\":[{\"actions\":[{\"app\":\"/s\"}]}],"
		  "\"original\":{\"apps\":[{\"id\":\"/o\",\"env\":{\"appId\":\"/no\"}}],"
		  "\"groups\":[{\"apps\":[{\"id\":\"/o/n\"}]}]},"
		  "\"target\":{\"apps\":[{\"id\":\"/t\"}]}},"
		  "\"currentStep\":{\"actions\":[{\"app\":\"/c\"}]}}", "/s,/o,/o/n,/t,/c" },
		{ "{\"appId\":5,\"plan\":[],\"currentStep\":\"x\"}", "" }, /* wrong types: none */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *p = json_loads(cases[i].json, 0, NULL);
		assert_non_null(p);
		const char *ids[16];
		size_t n = ev_view_apps(p, ids, 16);
		char got[256] = "";
		for (size_t k = 0; k < n; k++) {
			if (k)
				strcat(got, ",");
			strcat(got, ids[k]);
		}
		assert_string_equal(got, cases[i].want);
		json_decref(p);
	}
}

static int calls;

/* dev may view /dev and below; ops everything; nobody else (and no principal) nothing. */
static bool may_view(void *ctx, const char *principal, const char *app_id)
{
	(void)ctx;
	calls++;
	if (principal && !strcmp(principal, "ops"))
		return true;
	return principal && !strcmp(principal, "dev") && !strncmp(app_id, "/dev", 4) &&
	       (app_id[4] == '\0' || app_id[4] == '/');
}

static void test_allows_and_memo(void **st)
{
	(void)st;
	struct apps m;
	memset(&m, 0, sizeof(m));
	json_t *p = json_loads("{\"plan\":{\"steps\":[{\"actions\":[{\"app\":\"/dev/a\"},"
			       "{\"app\":\"/dev/b\"}]}]}}", 0, NULL);
	struct ev_view v;
	/* no filter: everyone, no check */
	ev_view_init(&v, &m, p);
	calls = 0;
	assert_true(ev_view_allows(&v, NULL));
	assert_true(ev_view_allows(&v, "x"));
	assert_int_equal(calls, 0);
	ev_view_release(&v);
	m.may_view = may_view;
	ev_view_init(&v, &m, p);
	calls = 0;
	assert_true(ev_view_allows(&v, "dev"));
	assert_int_equal(calls, 2); /* both apps */
	for (int i = 0; i < 1000; i++)
		assert_true(ev_view_allows(&v, "dev"));
	assert_int_equal(calls, 2); /* a thousand subscribers of dev: no more checks */
	assert_true(ev_view_allows(&v, "ops"));
	assert_false(ev_view_allows(&v, "eve"));
	assert_false(ev_view_allows(&v, NULL));
	assert_false(ev_view_allows(&v, NULL));
	int seen = calls;
	assert_false(ev_view_allows(&v, "eve"));
	assert_int_equal(calls, seen);
	ev_view_release(&v);
	/* one app of two not viewable: refused */
	json_t *q = json_loads("{\"plan\":{\"steps\":[{\"actions\":[{\"app\":\"/dev/a\"},"
			       "{\"app\":\"/devx\"}]}]}}", 0, NULL);
	ev_view_init(&v, &m, q);
	assert_false(ev_view_allows(&v, "dev"));
	assert_true(ev_view_allows(&v, "ops"));
	ev_view_release(&v);
	/* an event naming no app: everyone */
	json_t *r = json_loads("{\"remoteAddress\":\"1.2.3.4\"}", 0, NULL);
	ev_view_init(&v, &m, r);
	assert_true(ev_view_allows(&v, "eve"));
	assert_true(ev_view_allows(&v, NULL));
	ev_view_release(&v);
	json_decref(p);
	json_decref(q);
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_apps_named),
					    cmocka_unit_test(test_allows_and_memo) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
