/* Resource strings (good and bad), the algebra with roles, port picking, attributes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/attributes.h"
#include "model/resources.h"

static char *canon(const char *text)
{
	struct resources r = RESOURCES_INIT;
	char err[256];
	int rc = resources_parse(text, &r, err, sizeof(err));
	if (rc < 0)
		fail_msg("'%s' rejected: %s", text, err);
	char *s = resources_format(&r);
	resources_release(&r);
	return s;
}

static void test_parse_good(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "cpus(*):8; cpus(prod):2; mem(*):15360; disk(*):710534; ports(*):[31000-32000]",
		  "cpus(*):8; cpus(prod):2; disk(*):710534; mem(*):15360; ports(*):[31000-32000]" },
		{ "cpus:0.5", "cpus(*):0.5" },
		{ "  cpus : 1 ;  mem : 2 ", "cpus(*):1; mem(*):2" },
		{ "cpus:1;cpus:2", "cpus(*):3" },
		{ "cpus:0.1;cpus:0.2", "cpus(*):0.3" },
		{ "ports:[3-5, 1-2, 7-7]", "ports(*):[1-5, 7-7]" },
		{ "ports:[1-10];ports:[5-20]", "ports(*):[1-20]" },
		{ "ports:[31000]", "ports(*):[31000-31000]" },
		{ "ports:[]", "" },
		{ "", "" },
		{ ";;", "" },
		{ "cpus:0", "" },
		{ "disks:{b,a,b}", "disks(*):{a,b}" },
		{ "cpus(eng/backend):1", "cpus(eng/backend):1" },
		{ "gpus:1e1", "gpus(*):10" },
		{ "cpus:0.0004", "" }, /* Mesos keeps three decimals */
		{ "cpus:0.0015", "cpus(*):0.002" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = canon(cases[i].in);
		if (strcmp(s, cases[i].out))
			fail_msg("'%s' -> '%s', want '%s'", cases[i].in, s, cases[i].out);
		/* The canonical form reads back to itself. */
		char *again = canon(s);
		assert_string_equal(again, s);
		free(again);
		free(s);
	}
}

static void test_parse_bad(void **state)
{
	static const struct {
		const char *in, *msg; /* msg: a part of the error text */
	} cases[] = {
		{ "cpus:-1", "resource 'cpus': '-1' is negative" },
		{ "cpus:x", "resource 'cpus': 'x' is not a number" },
		{ "cpus:nan", "'nan' is not a number" },
		{ "cpus:inf", "'inf' is not a number" },
		{ "cpus:0x10", "not a number" },
		{ "cpus:1e400", "not a number" },
		{ "cpus:", "resource 'cpus': the value is empty" },
		{ ":5", "the resource name is empty" },
		{ "(*):5", "the resource name is empty" },
		{ "cpus", "'cpus' is not 'name(role):value'" },
		{ "cpus(:1", "not 'name(role)'" },
		{ "cpus(-x):1", "'-x' is not a valid role" },
		{ "cpus():1", "'' is not a valid role" },
		{ "cpus(a b):1", "is not a valid role" },
		{ "cpus(..):1", "is not a valid role" },
		{ "ports:[5-3]", "range '5-3' ends before it begins" },
		{ "ports:[a-b]", "'a-b' is not a range" },
		{ "ports:[1-2", "not a list of ranges" },
		{ "ports:[1-2,]", "is not a range" },
		{ "ports:[-1-2]", "is not a range" },
		{ "cpus:1;cpus:[1-2]", "two different types" },
		{ "s:{a,,b}", "is not a set item" },
		{ "s:{a", "is not a set" },
		{ "cp us:1", "is not a valid resource name" },
		{ "cpus:1 2", "not a number" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct resources r = RESOURCES_INIT;
		char err[256] = "";
		int rc = resources_parse(cases[i].in, &r, err, sizeof(err));
		if (rc != -EINVAL)
			fail_msg("'%s' accepted", cases[i].in);
		if (!strstr(err, cases[i].msg))
			fail_msg("'%s': message '%s' lacks '%s'", cases[i].in, err, cases[i].msg);
		assert_int_equal(r.n, 0);
		resources_release(&r);
	}
}

static void test_parse_limits(void **state)
{
	/* Text exactly at the limit is parsed; one byte over is refused. */
	size_t n = RESOURCES_MAX_TEXT;
	char *t = malloc(n + 2);
	memset(t, ' ', n + 1);
	memcpy(t, "cpus:1", 6);
	t[n] = '\0';
	struct resources r = RESOURCES_INIT;
	char err[128];
	assert_int_equal(resources_parse(t, &r, err, sizeof(err)), 0);
	t[n] = ' ';
	t[n + 1] = '\0';
	assert_int_equal(resources_parse(t, &r, err, sizeof(err)), -EINVAL);
	free(t);
	resources_release(&r);
}

static void parse(const char *t, struct resources *r)
{
	char err[256];
	if (resources_parse(t, r, err, sizeof(err)) < 0)
		fail_msg("'%s': %s", t, err);
}

static void test_algebra(void **state)
{
	struct resources a = RESOURCES_INIT, b = RESOURCES_INIT;
	parse("cpus(*):4; cpus(prod):2; mem(*):1024; ports(*):[31000-31010]", &a);
	parse("cpus(*):1.5; mem(*):512; ports(*):[31002-31003, 31010]", &b);
	assert_true(resources_contains(&a, &b));
	assert_int_equal(resources_subtract(&a, &b), 0);
	char *s = resources_format(&a);
	assert_string_equal(s,
			    "cpus(*):2.5; cpus(prod):2; mem(*):512; ports(*):[31000-31001, 31004-31009]");
	free(s);
	assert_true(resources_scalar(&a, "cpus", NULL) == 4.5);
	assert_true(resources_scalar(&a, "cpus", "prod") == 2);
	assert_int_equal(resources_range_count(&a, "ports", NULL), 8);
	resources_add(&a, &b);
	s = resources_format(&a);
	assert_string_equal(s, "cpus(*):4; cpus(prod):2; mem(*):1024; ports(*):[31000-31010]");
	free(s);

	/* Roles do not mix: prod cpus cannot pay for '*' cpus. */
	struct resources c = RESOURCES_INIT;
	parse("cpus(*):5", &c);
	assert_false(resources_contains(&a, &c));
	assert_int_equal(resources_subtract(&a, &c), -EINVAL);
	s = resources_format(&a);
	assert_string_equal(s, "cpus(*):4; cpus(prod):2; mem(*):1024; ports(*):[31000-31010]");
	free(s);
	parse("cpus(prod):2; ports(*):[31011]", &c);
	assert_false(resources_contains(&a, &c)); /* the port is outside the range */
	parse("cpus(prod):2", &c);
	assert_int_equal(resources_subtract(&a, &c), 0);
	assert_true(resources_scalar(&a, "cpus", "prod") == 0);
	s = resources_format(&a);
	assert_string_equal(s, "cpus(*):4; mem(*):1024; ports(*):[31000-31010]");
	free(s);

	/* The epsilon: 0.1 + 0.2 fits into 0.3; exactly used up leaves nothing. */
	struct resources x = RESOURCES_INIT, y = RESOURCES_INIT;
	resources_add_scalar(&x, "cpus", "*", 0.3);
	resources_add_scalar(&y, "cpus", "*", 0.1);
	resources_add_scalar(&y, "cpus", "*", 0.2);
	assert_true(resources_contains(&x, &y));
	assert_int_equal(resources_subtract(&x, &y), 0);
	assert_int_equal(x.n, 0);

	/* Sets and add_range. */
	resources_add_range(&x, "ports", "*", 10, 12);
	resources_add_range(&x, "ports", "*", 13, 20);
	resources_add_range(&x, "ports", "*", 5, 3); /* reversed: ignored */
	s = resources_format_ranges(&x, "ports", NULL);
	assert_string_equal(s, "[10-20]");
	free(s);
	s = resources_format_ranges(&x, "nothing", NULL);
	assert_string_equal(s, "[]");
	free(s);
	parse("d:{a,b,c}", &b);
	parse("d:{b}", &c);
	assert_int_equal(resources_subtract(&b, &c), 0);
	s = resources_format(&b);
	assert_string_equal(s, "d(*):{a,c}");
	free(s);
	assert_int_equal(resources_subtract(&b, &c), -EINVAL);

	/* subtract_upto takes away only what overlaps: 6 cpus from 4 leaves none, ports
	 * outside the ranges and other roles are ignored, sets lose what they hold. */
	struct resources u = RESOURCES_INIT, w = RESOURCES_INIT;
	parse("cpus(*):4; mem(*):1024; ports(*):[31000-31010]; d:{a,c}", &u);
	parse("cpus(*):6; cpus(prod):1; mem(*):24; ports(*):[30990-31002, 31005, 32000]; d:{c,z}",
	      &w);
	resources_subtract_upto(&u, &w);
	s = resources_format(&u);
	assert_string_equal(s, "d(*):{a}; mem(*):1000; ports(*):[31003-31004, 31006-31010]");
	free(s);
	resources_release(&u);
	resources_release(&w);

	/* copy is deep. */
	struct resources cp;
	resources_copy(&cp, &a);
	resources_release(&a);
	s = resources_format(&cp);
	assert_string_equal(s, "cpus(*):4; mem(*):1024; ports(*):[31000-31010]");
	free(s);

	resources_release(&cp);
	resources_release(&b);
	resources_release(&c);
	resources_release(&x);
	resources_release(&y);
}

/* resources_add_all is resources_add of each in turn, whatever ranges come in any order
 * (overlapping, adjacent, unsorted, a zero scalar, a ranges/scalar type clash). */
static void test_add_all(void **state)
{
	(void)state;
	srand(7);
	for (int round = 0; round < 200; round++) {
		struct resources v[40], seq = RESOURCES_INIT, all = RESOURCES_INIT;
		const struct resources *pv[40];
		size_t n = (size_t)(rand() % 40);
		if (rand() % 3 == 0)
			resources_add_range(&seq, "ports", "*", 5, 9); /* not empty to start */
		resources_copy(&all, &seq);
		for (size_t i = 0; i < n; i++) {
			resources_init(&v[i]);
			if (rand() % 2)
				resources_add_scalar(&v[i], "cpus", "*", (rand() % 3) * 0.5);
			for (int k = rand() % 3; k-- > 0;) {
				uint64_t b = (uint64_t)(rand() % 60);
				resources_add_range(&v[i], rand() % 4 ? "ports" : "other",
						    rand() % 5 ? "*" : "r", b, b + (uint64_t)(rand() % 4));
			}
			if (rand() % 10 == 0)
				resources_add_scalar(&v[i], "other", "*", 1); /* a type clash */
			pv[i] = &v[i];
			resources_add(&seq, &v[i]);
		}
		resources_add_all(&all, pv, n);
		char *a = resources_format(&seq), *b = resources_format(&all);
		assert_string_equal(a, b);
		free(a);
		free(b);
		for (size_t i = 0; i < n; i++)
			resources_release(&v[i]);
		resources_release(&seq);
		resources_release(&all);
	}
}

static void test_pick_ports(void **state)
{
	struct resources r = RESOURCES_INIT;
	parse("ports(*):[31000-31002, 31005-31005]; ports(prod):[40000-40001]", &r);
	uint32_t got[8];
	static const struct {
		const char *role;
		uint32_t want[4];
		size_t n;
		int rc;
		uint32_t got[4];
	} cases[] = {
		{ NULL, { 0 }, 1, 0, { 31000 } },
		{ NULL, { 0, 0, 0, 0 }, 4, 0, { 31000, 31001, 31002, 31005 } },
		{ "*", { 0, 31000 }, 2, 0, { 31001, 31000 } },
		{ "*", { 0, 0, 0, 0 }, 4, 0, { 31000, 31001, 31002, 31005 } },
		{ "*", { 31005 }, 1, 0, { 31005 } },
		{ "*", { 31003 }, 1, -ENOSPC, { 0 } },
		{ "*", { 31000, 31000 }, 2, -ENOSPC, { 0 } },
		{ "prod", { 0, 0 }, 2, 0, { 40000, 40001 } },
		{ "prod", { 0, 0, 0 }, 3, -ENOSPC, { 0 } },
		{ "none", { 0 }, 1, -ENOSPC, { 0 } },
		{ NULL, { 0 }, 0, 0, { 0 } },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = resources_pick_ports(&r, cases[i].role, cases[i].want, cases[i].n, got);
		assert_int_equal(rc, cases[i].rc);
		if (rc == 0)
			for (size_t k = 0; k < cases[i].n; k++)
				assert_int_equal(got[k], cases[i].got[k]);
	}
	/* Five from any role: four '*' then the prod one. */
	uint32_t w5[6] = { 0 };
	assert_int_equal(resources_pick_ports(&r, NULL, w5, 6, got), 0);
	assert_int_equal(got[4], 40000);
	assert_int_equal(got[5], 40001);
	resources_release(&r);

	/* Ranges beyond 65535 are no ports. */
	parse("ports:[65535-70000]", &r);
	uint32_t w2[2] = { 0, 0 };
	assert_int_equal(resources_pick_ports(&r, NULL, w2, 1, got), 0);
	assert_int_equal(got[0], 65535);
	assert_int_equal(resources_pick_ports(&r, NULL, w2, 2, got), -ENOSPC);
	resources_release(&r);
}

static void test_attributes(void **state)
{
	struct attributes a = ATTRIBUTES_INIT;
	char err[256];
	assert_int_equal(attributes_parse("rack:3;dc:east; zones:[1-3, 5-6];disks:{ssd, hdd};w:2.50",
					  &a, err, sizeof(err)),
			 0);
	assert_int_equal(a.n, 5);
	const struct attribute *x = attributes_get(&a, "rack");
	assert_int_equal(x->type, ATTR_SCALAR);
	assert_string_equal(x->text, "3");
	assert_true(x->scalar == 3);
	assert_string_equal(attributes_get(&a, "dc")->text, "east");
	assert_int_equal(attributes_get(&a, "dc")->type, ATTR_TEXT);
	assert_string_equal(attributes_get(&a, "zones")->text, "[1-3,5-6]");
	assert_int_equal(attributes_get(&a, "zones")->type, ATTR_RANGES);
	assert_string_equal(attributes_get(&a, "disks")->text, "{ssd,hdd}");
	assert_int_equal(attributes_get(&a, "disks")->type, ATTR_SET);
	assert_string_equal(attributes_get(&a, "w")->text, "2.5");
	assert_null(attributes_get(&a, "nope"));
	char *s = attributes_format(&a);
	assert_string_equal(s, "rack:3;dc:east;zones:[1-3,5-6];disks:{ssd,hdd};w:2.5");
	struct attributes b = ATTRIBUTES_INIT;
	assert_int_equal(attributes_parse(s, &b, err, sizeof(err)), 0);
	char *s2 = attributes_format(&b);
	assert_string_equal(s, s2);
	free(s);
	free(s2);
	struct attributes c;
	attributes_copy(&c, &b);
	attributes_release(&b);
	assert_string_equal(attributes_get(&c, "dc")->text, "east");
	attributes_release(&c);

	static const struct {
		const char *in, *msg;
	} bad[] = {
		{ "rack", "'rack' is not 'name:value'" },
		{ ":3", "the attribute name is empty" },
		{ "rack:", "attribute 'rack': the value is empty" },
		{ "rack:1;rack:2", "attribute 'rack' is given twice" },
		{ "z:[3-1]", "ends before it begins" },
		{ "s:{a,}", "is not a set" },
		{ "a b:1", "is not a valid attribute name" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(attributes_parse(bad[i].in, &a, err, sizeof(err)), -EINVAL);
		if (!strstr(err, bad[i].msg))
			fail_msg("'%s': '%s' lacks '%s'", bad[i].in, err, bad[i].msg);
		assert_int_equal(a.n, 0);
	}
	assert_int_equal(attributes_parse("", &a, err, sizeof(err)), 0);
	assert_int_equal(a.n, 0);
	attributes_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),   cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_limits), cmocka_unit_test(test_algebra),
		cmocka_unit_test(test_pick_ports), cmocka_unit_test(test_add_all),   cmocka_unit_test(test_attributes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
