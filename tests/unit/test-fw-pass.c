/* The offer pass (src/master/fw-offers.c) with a real master, simulated agents and
 * in-process frameworks: the bounds (offers per agent, per framework and pass), quiet
 * frameworks seeing only agents that changed, SUPPRESS and REVIVE, and the one allocation
 * order (weighted DRF) deciding who is offered first. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "master/fw-int.h"
#include "net/recordio.h"
#include "master/master.h"

#define NAGENTS 40

struct sim {
	struct fw_framework *fw;
	json_t *offers; /* every offer received, in order */
};

struct fixture {
	char dir[64];
	struct event_base *base;
	struct master *m;
	struct sim fw[3];
};

static int agent_sink(struct m_agent *a, json_t *rec)
{
	(void)a;
	json_decref(rec);
	return 0;
}

static int on_event(struct fw_framework *fw, const char *rec, size_t len, void *ctx)
{
	(void)fw;
	struct sim *s = ctx;
	json_t *e = recordio_record_json(rec, len);
	assert_non_null(e);
	const char *type = json_string_value(json_object_get(e, "type"));
	if (type && !strcmp(type, "OFFERS"))
		json_array_extend(s->offers, json_object_get(json_object_get(e, "offers"), "offers"));
	json_decref(e);
	return 0;
}

static void add_agent(struct master *m, unsigned i)
{
	char id[16], host[16], http[32], err[256];
	snprintf(id, sizeof(id), "agent-%02u", i);
	snprintf(host, sizeof(host), "node%u", i);
	snprintf(http, sizeof(http), "127.0.0.%u:5051", i + 1);
	struct m_agent *a = registry_add_sim_agent(m, id, host, http, "cpus:4; mem:4096", "",
						   agent_sink, NULL, err, sizeof(err));
	assert_non_null(a);
	a->last_seen_usec = time_mono_usec() + 3600ull * 1000000;
}

static struct fw_framework *subscribe(struct fixture *f, int i, const char *role)
{
	char name[16];
	snprintf(name, sizeof(name), "fw%d", i);
	json_t *info = json_pack("{s:s, s:s, s:[s], s:[{s:s}]}", "user", "t", "name", name, "roles",
				 role, "capabilities", "type", "MULTI_ROLE");
	f->fw[i].offers = json_array();
	f->fw[i].fw = fw_sim_subscribe(f->m->fw, info, on_event, &f->fw[i]);
	json_decref(info);
	assert_non_null(f->fw[i].fw);
	return f->fw[i].fw;
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-fw-pass-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	char *store = xasprintf("sqlite:%s/state.db", f->dir);
	f->base = event_base_new();
	struct master_config cfg = { .http_addr = "127.0.0.1", .http_port = 0, .store_url = store,
				     .agent_timeout_sec = 3600 };
	assert_int_equal(rm_new(f->base, &cfg, &f->m), 0);
	assert_int_equal(rm_start(f->m), 0);
	free(store);
	for (unsigned i = 0; i < NAGENTS; i++)
		add_agent(f->m, i);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	rm_free(f->m);
	event_base_free(f->base);
	for (int i = 0; i < 3; i++)
		json_decref(f->fw[i].offers);
	char *cmd = xasprintf("rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f);
	return 0;
}

/* a gets n more cpus (as when a task there ends). */
static void grow(struct master *m, struct m_agent *a, double n)
{
	struct resources t = RESOURCES_INIT;
	resources_copy(&t, rm_agent_total(a));
	resources_add_scalar(&t, "cpus", "*", n);
	assert_int_equal(ledger_set_total(m, a, &t), 0);
	resources_release(&t);
}

static void pass(struct master *m)
{
	m->fw->last_offer_usec = 0;
	fw_offers_tick(m->fw);
}

static size_t offers_on(struct master *m, const char *agent_id)
{
	const struct m_agent *a = hmap_get(&m->agents, agent_id);
	return a ? a->offers.n : 0;
}

static void decline_all(struct sim *s, double secs)
{
	char err[256];
	size_t i;
	json_t *o;
	json_array_foreach(s->offers, i, o) {
		json_t *d = json_pack("{s:[{s:O}], s:{s:f}}", "offer_ids", "value",
				      json_object_get(json_object_get(o, "id"), "value"), "filters",
				      "refuse_seconds", secs);
		assert_int_equal(fw_call_decline(s->fw, d, err, sizeof(err)), 0);
		json_decref(d);
	}
	json_array_clear(s->offers);
}

/* Bounds: each framework gets its share of the slots (2 x 40 agents / 3 frameworks = 26)
 * per pass, no agent is in more than 2 offers, and the walks cover every agent. */
static void bounds_and_walks(void **state)
{
	struct fixture *f = *state;
	struct master *m = f->m;
	for (int i = 0; i < 3; i++)
		subscribe(f, i, "*");
	pass(m);
	size_t total = 0;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(json_array_size(f->fw[i].offers), 2 * NAGENTS / 3);
		total += json_array_size(f->fw[i].offers);
	}
	assert_int_equal(m->fw->pass_offers, total);
	for (unsigned a = 0; a < NAGENTS; a++) {
		char id[16];
		snprintf(id, sizeof(id), "agent-%02u", a);
		assert_true(offers_on(m, id) >= 1 && offers_on(m, id) <= 2);
	}
	/* 3 x 26 = 78 of the 80 slots: a second pass fills the last 2, a third finds none. */
	pass(m);
	assert_int_equal(m->fw->pass_offers, 2);
	for (unsigned a = 0; a < NAGENTS; a++) {
		char id[16];
		snprintf(id, sizeof(id), "agent-%02u", a);
		assert_int_equal(offers_on(m, id), 2);
	}
	pass(m);
	assert_int_equal(m->fw->pass_offers, 0);
}

/* Quiet frameworks: once every agent has been offered and declined, a pass makes no offer;
 * an agent whose free resources change is offered again, and only it. SUPPRESS stops
 * offers, REVIVE (which clears the filters) brings every agent back. */
static void quiet_suppress_revive(void **state)
{
	struct fixture *f = *state;
	struct master *m = f->m;
	struct fw_framework *fw = subscribe(f, 0, "*");
	for (int round = 0; round < 4; round++) {
		pass(m);
		decline_all(&f->fw[0], 3600);
	}
	assert_true(fw->quiet);
	pass(m);
	assert_int_equal(m->fw->pass_offers, 0);

	/* agent-07 gets a cpu back (as when a task ends there). */
	struct m_agent *a = hmap_get(&m->agents, "agent-07");
	grow(m, a, 1);
	fw_filters_clear(fw); /* the filter would hide it: clear them, keep it quiet */
	fw->quiet = true;
	pass(m);
	assert_int_equal(json_array_size(f->fw[0].offers), 1);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(json_array_get(f->fw[0].offers, 0), "agent_id"),
				    "value")),
			    "agent-07");
	decline_all(&f->fw[0], 3600);

	char err[256];
	json_t *body = json_object();
	assert_int_equal(fw_call_revive_suppress(fw, body, true, err, sizeof(err)), 0);
	grow(m, a, 1);
	pass(m);
	assert_int_equal(m->fw->pass_offers, 0);
	assert_int_equal(fw_call_revive_suppress(fw, body, false, err, sizeof(err)), 0);
	json_decref(body);
	pass(m);
	/* Budget: 2 x 40 / 1 = 80 >= 40 agents, so every agent at once. */
	assert_int_equal(json_array_size(f->fw[0].offers), NAGENTS);
}

/* The order: a framework whose role holds a larger share is offered after one whose role
 * holds none, and a weight evens that out. */
static void drf_order(void **state)
{
	struct fixture *f = *state;
	struct master *m = f->m;
	struct fw_framework *big = subscribe(f, 0, "big");
	struct fw_framework *small = subscribe(f, 1, "small");
	struct resources r = RESOURCES_INIT;
	resources_add_scalar(&r, "cpus", "*", 40);
	ledger_count(&m->roles, "big", &r, NULL, 1); /* 40 of the 160 cpus: a quarter */
	struct alloc_ctx *c = rm_alloc_begin(m, NULL);
	const struct quota_drf_client *order;
	assert_int_equal(alloc_framework_order(c, &order), 2);
	assert_ptr_equal(order[0].ptr, small);
	assert_ptr_equal(order[1].ptr, big);
	assert_true(order[1].role_share == 0.25);
	rm_alloc_end(c);
	ledger_count(&m->roles, "big", &r, NULL, -1);
	resources_release(&r);
}

/* Offers written straight to text are the JSON fw_offer_json builds: fractional scalars,
 * ranges, sets, reserved resources (with and without RESERVATION_REFINEMENT), attributes of
 * every type, and names that need escaping. */
static void offer_text_is_offer_json(void **state)
{
	struct fixture *f = *state;
	struct master *m = f->m;
	char err[256];
	struct m_agent *a = hmap_get(&m->agents, "agent-03");
	struct resources set = RESOURCES_INIT;
	assert_int_equal(resources_parse("cpus:0.1; cpus(web):1.5; mem:100000.25; "
					 "ports:[31000-31005, 31010-31010]; disks(web):{a,b\"c}",
					 &set, err, sizeof(err)),
			 0);
	assert_int_equal(ledger_set_total(m, a, &set), 0); /* nothing used: free is all of it */
	resources_release(&set);
	attributes_release(&a->attrs);
	assert_int_equal(attributes_parse("rack:r\\1;zone:2.5;slots:[1-4];tags:{x,y}", &a->attrs,
					  err, sizeof(err)),
			 0);
	/* The offers' text of the agent goes with its old description (as in agent_set_info). */
	free(a->offer_head);
	free(a->offer_attrs);
	a->offer_head = a->offer_attrs = NULL;
	subscribe(f, 0, "web");
	json_t *info = json_pack("{s:s, s:s, s:[s], s:[{s:s}, {s:s}]}", "user", "t", "name", "r",
				 "roles", "web", "capabilities", "type", "MULTI_ROLE", "type",
				 "RESERVATION_REFINEMENT");
	f->fw[1].offers = json_array();
	f->fw[1].fw = fw_sim_subscribe(m->fw, info, on_event, &f->fw[1]);
	json_decref(info);
	assert_true(f->fw[1].fw->refinement);
	pass(m);
	size_t checked = 0;
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->fw->offers, &i, &k, &v);) {
		const struct fw_offer *o = v;
		struct m_agent *oa = hmap_get(&m->agents, o->agent_id);
		struct strbuf sb;
		strbuf_init(&sb);
		assert_true(fw_offer_text(&sb, o, oa));
		json_error_t jerr;
		json_t *got = json_loads(strbuf_str(&sb), 0, &jerr);
		if (!got)
			fail_msg("not JSON: %s: %s", jerr.text, strbuf_str(&sb));
		json_t *want = fw_offer_json(o, oa);
		if (!json_equal(got, want)) {
			char *w = json_dumps(want, JSON_COMPACT);
			fail_msg("text %s\nwant %s", strbuf_str(&sb), w);
		}
		if (oa == a)
			checked++;
		json_decref(got);
		json_decref(want);
		strbuf_release(&sb);
	}
	assert_true(checked >= 1);
	/* What the frameworks received (the events the pass sent) is those offers. */
	size_t received = 0;
	for (int fi = 0; fi < 2; fi++) {
		size_t i;
		json_t *got;
		json_array_foreach(f->fw[fi].offers, i, got) {
			const char *id = json_string_value(json_object_get(json_object_get(got, "id"),
									   "value"));
			const struct fw_offer *o = hmap_get(&m->fw->offers, id);
			assert_non_null(o);
			json_t *want = fw_offer_json(o, hmap_get(&m->agents, o->agent_id));
			assert_true(json_equal(got, want));
			json_decref(want);
			received++;
		}
	}
	assert_int_equal(received, hmap_len(&m->fw->offers));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(bounds_and_walks, setup, teardown),
		cmocka_unit_test_setup_teardown(quiet_suppress_revive, setup, teardown),
		cmocka_unit_test_setup_teardown(drf_order, setup, teardown),
		cmocka_unit_test_setup_teardown(offer_text_is_offer_json, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
