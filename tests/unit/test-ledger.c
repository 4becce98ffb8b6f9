/* The ledger (src/master/ledger.c) against random sequences of takes, gives and total
 * changes: free + used = total after every step, used is the sum of the takes not given
 * back, a take that does not fit changes nothing, and the roles' allocations follow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "master/master-int.h"

static struct resources parse(const char *text)
{
	struct resources r = RESOURCES_INIT;
	char err[256];
	assert_int_equal(resources_parse(text, &r, err, sizeof(err)), 0);
	return r;
}

static bool same(const struct resources *a, const struct resources *b)
{
	return resources_contains(a, b) && resources_contains(b, a);
}

/* free + used == total */
static void check_invariant(const struct ledger_agent *la)
{
	struct resources sum = RESOURCES_INIT;
	resources_copy(&sum, &la->free);
	resources_add(&sum, &la->used);
	assert_true(same(&sum, &la->total));
	resources_release(&sum);
}

static void take_give_basics(void **state)
{
	(void)state;
	struct resources total = parse("cpus:4; mem:1024; ports:[31000-31009]; cpus(prod):2");
	struct ledger_agent la;
	ledger_agent_init(&la, &total);
	check_invariant(&la);
	struct resources t1 = parse("cpus:1.5; mem:512; ports:[31000-31001]");
	assert_int_equal(ledger_agent_take(&la, &t1), 0);
	check_invariant(&la);
	assert_true(resources_scalar(&la.free, "cpus", "*") == 2.5);
	/* More than is free: refused, nothing changes. */
	struct resources big = parse("cpus:3");
	assert_int_equal(ledger_agent_take(&la, &big), -ENOSPC);
	assert_true(resources_scalar(&la.free, "cpus", "*") == 2.5);
	check_invariant(&la);
	/* A port taken already. */
	struct resources p = parse("ports:[31001-31001]");
	assert_int_equal(ledger_agent_take(&la, &p), -ENOSPC);
	/* Reserved for prod is its own entry. */
	struct resources rp = parse("cpus(prod):2");
	assert_int_equal(ledger_agent_take(&la, &rp), 0);
	check_invariant(&la);
	/* Giving back more than was taken gives back only what was. */
	struct resources twice = parse("cpus(prod):3");
	assert_int_equal(ledger_agent_give(&la, &twice), -ENOENT);
	check_invariant(&la);
	assert_true(resources_scalar(&la.used, "cpus", "prod") == 0);
	assert_int_equal(ledger_agent_give(&la, &t1), 0);
	check_invariant(&la);
	assert_true(same(&la.free, &la.total));
	/* A smaller total while something is used: overcommitted, free is what is left. */
	assert_int_equal(ledger_agent_take(&la, &t1), 0);
	struct resources small = parse("cpus:1; mem:1024; ports:[31000-31009]");
	assert_int_equal(ledger_agent_set_total(&la, &small), -ENOSPC);
	assert_true(resources_scalar(&la.free, "cpus", "*") == 0);
	assert_true(resources_scalar(&la.free, "mem", "*") == 512);
	/* Given back, it fits again. */
	assert_int_equal(ledger_agent_give(&la, &t1), 0);
	assert_int_equal(ledger_agent_set_total(&la, &small), 0);
	check_invariant(&la);
	resources_release(&total);
	resources_release(&t1);
	resources_release(&big);
	resources_release(&p);
	resources_release(&rp);
	resources_release(&twice);
	resources_release(&small);
	ledger_agent_release(&la);
}

static uint64_t rnd_state = 88172645463325252ull;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* A random ask: a few scalars of two roles and maybe a port. */
static struct resources random_ask(void)
{
	struct resources r = RESOURCES_INIT;
	static const char *const names[] = { "cpus", "mem", "disk", "gpus" };
	static const char *const roles[] = { "*", "prod" };
	unsigned n = 1 + (unsigned)(rnd() % 3);
	for (unsigned i = 0; i < n; i++)
		resources_add_scalar(&r, names[rnd() % 4], roles[rnd() % 2],
				     (double)(1 + rnd() % 40) / 8.0);
	if (rnd() % 2) {
		uint64_t p = 31000 + rnd() % 64;
		resources_add_range(&r, "ports", "*", p, p);
	}
	return r;
}

#define STEPS 20000
#define MAXTAKES 64

static void random_sequences(void **state)
{
	(void)state;
	struct resources total =
		parse("cpus:16; mem:64; disk:100; gpus:4; cpus(prod):8; mem(prod):16; "
		      "ports:[31000-31063]");
	struct ledger_agent la;
	ledger_agent_init(&la, &total);
	struct ledger roles;
	ledger_init(&roles);
	struct quota_amounts client = { { 0 } };
	struct resources takes[MAXTAKES];
	size_t ntakes = 0, refused = 0;
	for (int step = 0; step < STEPS; step++) {
		unsigned op = (unsigned)(rnd() % 10);
		if (op < 5 && ntakes < MAXTAKES) {
			struct resources r = random_ask();
			bool fits = resources_contains(&la.free, &r);
			struct resources before = RESOURCES_INIT;
			resources_copy(&before, &la.free);
			int e = ledger_agent_take(&la, &r);
			assert_int_equal(e, fits ? 0 : -ENOSPC);
			if (e == 0) {
				ledger_count(&roles, "prod", &r, &client, 1);
				takes[ntakes++] = r;
			} else {
				assert_true(same(&before, &la.free)); /* nothing changed */
				refused++;
				resources_release(&r);
			}
			resources_release(&before);
		} else if (op < 9 && ntakes) {
			size_t i = (size_t)(rnd() % ntakes);
			assert_int_equal(ledger_agent_give(&la, &takes[i]), 0);
			ledger_count(&roles, "prod", &takes[i], &client, -1);
			resources_release(&takes[i]);
			takes[i] = takes[--ntakes];
		} else {
			/* The agent registers again with the same resources. */
			assert_int_equal(ledger_agent_set_total(&la, &total), 0);
		}
		check_invariant(&la);
		/* used is the sum of the takes not given back */
		struct resources sum = RESOURCES_INIT;
		for (size_t i = 0; i < ntakes; i++)
			resources_add(&sum, &takes[i]);
		assert_true(same(&sum, &la.used));
		struct quota_amounts want;
		quota_amounts_of(&sum, NULL, &want);
		const struct quota_amounts *got = ledger_role(&roles, "prod");
		for (int k = 0; k < QUOTA_NKINDS; k++) {
			assert_true(got == NULL || got->v[k] >= 0);
			assert_true(!got || (got->v[k] - want.v[k] < 1e-6 && want.v[k] - got->v[k] < 1e-6));
			assert_true(client.v[k] - want.v[k] < 1e-6 && want.v[k] - client.v[k] < 1e-6);
		}
		resources_release(&sum);
	}
	assert_true(refused > 0); /* the sequence did fill the agent up */
	while (ntakes) {
		assert_int_equal(ledger_agent_give(&la, &takes[--ntakes]), 0);
		resources_release(&takes[ntakes]);
	}
	assert_true(same(&la.free, &la.total));
	assert_int_equal((int)la.used.n == 0 || resources_scalar(&la.used, "cpus", NULL) < 1e-9, 1);
	ledger_release(&roles);
	ledger_agent_release(&la);
	resources_release(&total);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(take_give_basics),
		cmocka_unit_test(random_sequences),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
