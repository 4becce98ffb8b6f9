/* Role weights and quotas (src/master/quota.c): the limit and headroom arithmetic, offer
 * capping, the weighted DRF order, and the checks on a small master state loaded from a
 * store. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "master/master-int.h"

static struct quota_amounts amt(double cpus, double mem, double disk, double gpus)
{
	struct quota_amounts a = { { cpus, mem, disk, gpus } };
	return a;
}

static void kinds(void **state)
{
	(void)state;
	assert_int_equal(quota_kind_index("cpus"), 0);
	assert_int_equal(quota_kind_index("gpus"), 3);
	assert_int_equal(quota_kind_index("ports"), -1);
	struct resources r = RESOURCES_INIT;
	char err[128];
	assert_int_equal(resources_parse("cpus(prod):2; cpus:1.5; mem:64; ports:[1-2]", &r, err,
					 sizeof(err)), 0);
	struct quota_amounts a;
	quota_amounts_of(&r, NULL, &a);
	assert_true(a.v[0] == 3.5 && a.v[1] == 64 && a.v[2] == 0);
	quota_amounts_of(&r, "*", &a);
	assert_true(a.v[0] == 1.5);
	resources_release(&r);
}

static void limits(void **state)
{
	(void)state;
	struct quota_amounts limit;
	quota_amounts_unlimited(&limit);
	limit.v[0] = 4;
	struct quota_amounts alloc = amt(3, 1000, 0, 0), more = amt(1, 1e6, 5, 0);
	char err[200];
	assert_true(quota_fits(&alloc, &more, &limit, err, sizeof(err)));
	more.v[0] = 1.5;
	assert_false(quota_fits(&alloc, &more, &limit, err, sizeof(err)));
	assert_non_null(strstr(err, "cpus"));
	/* 0.1 + 0.2 fits into 0.3. */
	limit.v[0] = 0.3;
	alloc.v[0] = 0.1;
	more.v[0] = 0.2;
	assert_true(quota_fits(&alloc, &more, &limit, NULL, 0));
	/* Asking for nothing of a kind over its limit is fine. */
	alloc.v[0] = 9;
	more.v[0] = 0;
	assert_true(quota_fits(&alloc, &more, &limit, NULL, 0));

	struct quota_amounts h;
	quota_amounts_unlimited(&limit);
	limit.v[0] = 4;
	limit.v[1] = 100;
	alloc = amt(1, 300, 7, 0);
	quota_headroom(&alloc, &limit, &h);
	assert_true(h.v[0] == 3 && h.v[1] == 0 && isinf(h.v[2]) && isinf(h.v[3]));

	struct quota_amounts g = amt(2, 100, 0, 0), c = amt(0.5, 200, 0, 0), u;
	quota_unmet(&g, &c, &u);
	assert_true(u.v[0] == 1.5 && u.v[1] == 0 && u.v[2] == 0);
}

static void cap_offer(void **state)
{
	(void)state;
	struct resources r = RESOURCES_INIT;
	char err[128];
	assert_int_equal(resources_parse("cpus(prod):2; cpus:4; mem:1024; ports:[31000-31010]",
					 &r, err, sizeof(err)), 0);
	struct quota_amounts all, star;
	quota_amounts_unlimited(&all);
	quota_amounts_unlimited(&star);
	all.v[0] = 3;   /* the limit headroom: the reserved 2 first, then 1 unreserved */
	star.v[1] = 512; /* unreserved mem left by others' guarantees */
	quota_cap_offer(&r, &all, &star);
	assert_true(resources_scalar(&r, "cpus", "prod") == 2);
	assert_true(resources_scalar(&r, "cpus", "*") == 1);
	assert_true(resources_scalar(&r, "mem", "*") == 512);
	assert_int_equal(resources_range_count(&r, "ports", NULL), 11);
	/* A zero cap drops the entry. */
	all.v[0] = 0;
	quota_cap_offer(&r, &all, NULL);
	assert_true(resources_scalar(&r, "cpus", NULL) == 0);
	assert_true(resources_scalar(&r, "mem", NULL) == 512);
	/* No caps: unchanged. */
	quota_cap_offer(&r, NULL, NULL);
	assert_true(resources_scalar(&r, "mem", NULL) == 512);
	resources_release(&r);
}

static void drf_order(void **state)
{
	(void)state;
	/* prod (weight 2) holds 40% of the cluster, dev (weight 1) 30%: prod's weighted share
	 * 0.2 comes first; within a role the framework with the smaller share first; then id. */
	struct quota_drf_client v[] = {
		{ "dev-a", 0.3, 1, 0.1, NULL },
		{ "prod-b", 0.4, 2, 0.3, NULL },
		{ "prod-a", 0.4, 2, 0.1, NULL },
		{ "idle", 0, 1, 0, NULL },
		{ "prod-c", 0.4, 2, 0.1, NULL },
	};
	quota_drf_sort(v, 5);
	const char *want[] = { "idle", "prod-a", "prod-c", "prod-b", "dev-a" };
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(v[i].id, want[i]);
	/* Weight 1 everywhere: plain DRF on the role share. */
	struct quota_drf_client w[] = {
		{ "b", 0.5, 1, 0, NULL },
		{ "a", 0.25, 1, 0.25, NULL },
	};
	quota_drf_sort(w, 2);
	assert_string_equal(w[0].id, "a");
}

/* A master with one connected agent and a store holding role records. */
struct fixture {
	struct master m;
	struct m_agent a;
	struct quota_amounts client; /* a built-in framework's allocation */
	char path[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->path, sizeof(f->path), "/tmp/test-quota-%d.db", (int)getpid());
	unlink(f->path);
	char url[80];
	snprintf(url, sizeof(url), "sqlite:%s", f->path);
	assert_int_equal(store_open(url, &f->m.store), 0);
	hmap_init(&f->m.agents);
	ledger_init(&f->m.roles);
	f->a.id = "a1";
	f->a.state = AGENT_CONNECTED;
	char err[128];
	struct resources total = RESOURCES_INIT;
	assert_int_equal(resources_parse("cpus:8; mem:4096; cpus(prod):1", &total, err,
					 sizeof(err)), 0);
	ledger_agent_init(&f->a.led, &total);
	resources_release(&total);
	hmap_put(&f->m.agents, "a1", &f->a);
	const char *prod = "{\"role\":\"prod\",\"weight\":2,"
			   "\"limits\":{\"cpus\":{\"value\":4}}}";
	const char *dev = "{\"role\":\"dev\",\"guarantees\":{\"cpus\":{\"value\":5}}}";
	assert_int_equal(store_put(f->m.store, "roles/prod", prod, strlen(prod),
				   STORE_ANY_VERSION, NULL), 0);
	assert_int_equal(store_put(f->m.store, "roles/dev", dev, strlen(dev), STORE_ANY_VERSION,
				   NULL), 0);
	const char *bad = "{\"role\":\"x\",\"limits\":{\"bogus\":{\"value\":1}}}";
	assert_int_equal(store_put(f->m.store, "roles/x", bad, strlen(bad), STORE_ANY_VERSION,
				   NULL), 0);
	assert_int_equal(quota_load(&f->m), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	quota_free_all(&f->m);
	ledger_release(&f->m.roles);
	ledger_agent_release(&f->a.led);
	hmap_release(&f->m.agents);
	store_close(f->m.store);
	unlink(f->path);
	free(f);
	return 0;
}

static void master_checks(void **state)
{
	struct fixture *f = *state;
	struct master *m = &f->m;
	assert_true(quota_any(m));
	assert_true(quota_role_weight(m, "prod") == 2);
	assert_true(quota_role_weight(m, "other") == 1);
	struct resources more = RESOURCES_INIT;
	char err[300];
	/* dev's guarantee holds back 5 of the 8 free unreserved cpus from everyone else. */
	resources_add_scalar(&more, "cpus", "*", 3);
	assert_true(quota_check(m, "prod", &more, err, sizeof(err)));
	assert_true(quota_check(m, "dev", &more, err, sizeof(err)));
	resources_add_scalar(&more, "cpus", "*", 0.5);
	assert_false(quota_check(m, "web", &more, err, sizeof(err)));
	assert_non_null(strstr(err, "held for other roles"));
	assert_true(quota_allows(m, "dev", &more));
	/* prod's limit counts its reserved resources too: 3.5 + 1 > 4. */
	resources_release(&more);
	resources_add_scalar(&more, "cpus", "*", 3.5);
	resources_add_scalar(&more, "cpus", "prod", 1);
	assert_false(quota_check(m, "prod", &more, err, sizeof(err)));
	assert_non_null(strstr(err, "limit of role 'prod'"));

	/* Caps for offers. */
	struct quota_snapshot s;
	quota_snapshot_build(m, &s);
	struct quota_amounts all, star;
	quota_role_caps(m, &s, "prod", &all, &star);
	assert_true(all.v[0] == 4 && isinf(all.v[1]));
	assert_true(star.v[0] == 3);
	quota_role_caps(m, &s, "dev", &all, &star);
	assert_true(isinf(all.v[0]) && isinf(star.v[0]));
	quota_snapshot_release(&s);
	resources_release(&more);

	/* GET_QUOTA, GET_WEIGHTS (the bad record was ignored). */
	json_t *q = quota_get_quota(m);
	json_t *configs = json_object_get(json_object_get(q, "status"), "configs");
	assert_int_equal(json_array_size(configs), 2);
	json_t *c0 = json_array_get(configs, 0), *c1 = json_array_get(configs, 1);
	assert_string_equal(json_string_value(json_object_get(c0, "role")), "dev");
	assert_true(json_number_value(json_object_get(
			    json_object_get(json_object_get(c0, "guarantees"), "cpus"), "value")) == 5);
	assert_null(json_object_get(c0, "limits"));
	assert_true(json_number_value(json_object_get(
			    json_object_get(json_object_get(c1, "limits"), "cpus"), "value")) == 4);
	json_decref(q);
	json_t *w = quota_get_weights(m);
	assert_int_equal(json_array_size(json_object_get(w, "weight_infos")), 1);
	json_decref(w);

	/* GET_ROLES annotation: configured roles added, weights and consumed filled in. */
	json_t *roles = json_pack("{s:[{s:s, s:f}]}", "roles", "name", "*", "weight", 1.0);
	quota_roles_annotate(m, roles);
	json_t *arr = json_object_get(roles, "roles");
	assert_int_equal(json_array_size(arr), 3);
	size_t i;
	json_t *r;
	json_array_foreach(arr, i, r) {
		const char *name = json_string_value(json_object_get(r, "name"));
		if (!strcmp(name, "prod")) {
			assert_true(json_number_value(json_object_get(r, "weight")) == 2);
			/* prod's unallocated reservation counts as consumed toward guarantees. */
			json_t *cons = json_object_get(json_object_get(r, "quota"), "consumed");
			assert_true(json_number_value(json_object_get(json_object_get(cons, "cpus"),
								      "value")) == 1);
		}
	}
	json_decref(roles);
}

/* The ledger: takes and gives add up per role, the apps framework's total apart; the
 * snapshot and the limit checks read it. */
static void ledger(void **state)
{
	struct fixture *f = *state;
	struct master *m = &f->m;
	struct resources a = RESOURCES_INIT, b = RESOURCES_INIT;
	resources_add_scalar(&a, "cpus", "*", 2.5);
	resources_add_scalar(&a, "mem", "*", 100);
	resources_add_scalar(&b, "cpus", "prod", 1);
	ledger_count(&m->roles, "prod", &a, &f->client, 1);
	ledger_count(&m->roles, "prod", &b, NULL, 1);
	ledger_count(&m->roles, "dev", &a, NULL, 1);
	struct quota_snapshot s;
	quota_snapshot_build(m, &s);
	struct quota_amounts got;
	quota_snapshot_alloc(&s, "prod", &got);
	assert_true(got.v[0] == 3.5 && got.v[1] == 100);
	assert_true(f->client.v[0] == 2.5 && f->client.v[1] == 100);
	quota_snapshot_alloc(&s, "web", &got);
	assert_true(got.v[0] == 0);
	quota_snapshot_release(&s);
	/* prod's limit is 4: 3.5 allocated leaves room for 0.5 more. */
	struct resources more = RESOURCES_INIT;
	resources_add_scalar(&more, "cpus", "prod", 0.6);
	char err[300];
	assert_false(quota_check(m, "prod", &more, err, sizeof(err)));
	ledger_count(&m->roles, "prod", &a, &f->client, -1);
	assert_true(quota_check(m, "prod", &more, err, sizeof(err)));
	ledger_count(&m->roles, "prod", &b, NULL, -1);
	ledger_count(&m->roles, "dev", &a, NULL, -1);
	quota_snapshot_build(m, &s);
	quota_snapshot_alloc(&s, "prod", &got);
	assert_true(got.v[0] == 0 && got.v[1] == 0 && f->client.v[0] == 0);
	quota_snapshot_release(&s);
	resources_release(&a);
	resources_release(&b);
	resources_release(&more);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kinds),
		cmocka_unit_test(limits),
		cmocka_unit_test(cap_offer),
		cmocka_unit_test(drf_order),
		cmocka_unit_test_setup_teardown(master_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(ledger, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
