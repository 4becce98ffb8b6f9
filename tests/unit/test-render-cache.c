/* The render cache (src/apps/render-cache.c): after random sequences of changes, answers
 * assembled from cached pieces are byte for byte what a render from scratch gives (the
 * json_dumps of render.c's trees, as http_reply_json sent them), their hash (the ETag) is
 * the same whether the pieces were cached or rendered afresh, and BERTH_RENDER_VERIFY's
 * check catches a change made without bumping the app's counter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "apps/apps-int.h"

#define NAPPS 12
#define DUMP (JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15))

static const char *const states[] = { "TASK_STAGING", "TASK_STARTING", "TASK_RUNNING",
				      "TASK_KILLING" };

static struct app *parse(const char *id, int instances, int variant)
{
	json_t *j = json_pack("{s:s, s:s, s:i, s:f, s:i, s:{s:s}, s:[{s:i, s:s}]}", "id", id,
			      "cmd", variant % 2 ? "sleep 100" : "echo \"é\" && sleep 9",
			      "instances", instances, "cpus", 0.1 * (variant % 5 + 1), "mem", 32,
			      "labels", "team", variant % 3 ? "a" : "b/c", "portDefinitions",
			      "port", 10000 + variant, "name", "http");
	struct verr err = VERR_INIT;
	struct app *a = NULL;
	int r = app_parse(j, "/", &err, &a);
	if (r < 0)
		fail_msg("app_parse: %s", verr_first(&err));
	json_decref(j);
	app_set_version(a, 1700000000000000ull + (uint64_t)variant * 1000, true, NULL);
	return a;
}

static struct m_app *new_app(struct apps *m, int i)
{
	char id[64];
	snprintf(id, sizeof(id), "/render/app-%02d", i);
	struct m_app *ma = apps_app_new();
	ma->def = parse(id, i % 4, i);
	ma->versions = json_array();
	hmap_put(&m->apps, ma->def->id, ma);
	return ma;
}

static void drop_instance(struct apps *m, struct m_app *ma, size_t i)
{
	apps_remove_instance(m, ma->inst[i]); /* never launched for real: no store record */
}

static void launch(struct m_instance *in, unsigned n)
{
	char tid[TASK_ID_MAX];
	in->attempt++;
	task_id_format(in->app->def->id, in->uuid, in->attempt, tid);
	free(in->task_id);
	in->task_id = xstrdup(tid);
	apps_set_phase(in, INST_LIVE);
	in->state = states[n % 4];
	in->staged_at = 1700000000000000ull + n;
	in->started_at = n % 2 ? in->staged_at + 5 : 0;
	free(in->ports);
	in->nports = n % 3;
	in->ports = xcalloc(in->nports + 1, sizeof(*in->ports));
	for (size_t i = 0; i < in->nports; i++)
		in->ports[i] = 31000 + n + (uint32_t)i;
	snprintf(in->version, sizeof(in->version), "%s", in->app->def->version);
}

/* One random change to one app, with its counter bumped (as every writer does). */
static void change(struct apps *m, struct m_app **apps, unsigned n)
{
	struct m_app *ma = apps[rand() % NAPPS];
	switch (rand() % 8) {
	case 0:
		apps_add_instance(m, ma, apps_lowest_free_index(ma), NULL);
		break;
	case 1:
		if (ma->ninst)
			drop_instance(m, ma, (size_t)rand() % ma->ninst);
		break;
	case 2:
	case 3:
		if (ma->ninst)
			launch(ma->inst[(size_t)rand() % ma->ninst], n);
		break;
	case 4:
		if (ma->ninst) {
			struct m_instance *in = ma->inst[(size_t)rand() % ma->ninst];
			json_decref(in->health);
			in->health = json_pack("[{s:i, s:b, s:i, s:f, s:s}]", "index", 0, "alive",
					       n % 2, "consecutive_failures", n % 3, "last_success",
					       1700000000.5 + n, "last_failure_cause", n % 2 ? "" : "x");
			in->healthy = n % 2;
		}
		break;
	case 5:
		json_decref(ma->last_failure);
		ma->last_failure = n % 3 ? json_pack("{s:s, s:i}", "message", "died", "n", n) : NULL;
		break;
	case 6:
		if (ma->deploy) {
			apps_deployment_free(ma->deploy); /* apps_deployment_stop, without a store */
			ma->deploy = NULL;
		} else
			apps_deployment_new(m, ma, n % 2 ? "ScaleApplication" : "RestartApplication");
		break;
	case 7: {
		struct app *def = parse(ma->def->id, (int)(n % 5), (int)n);
		app_free(ma->def);
		ma->def = def;
		break;
	}
	}
	apps_changed(ma);
}

/* What the handlers send, from cache: {"apps":[pieces]}, {"tasks":[…]}, the queue. */
static void cached_apps(struct apps *m, unsigned what, struct http_body *b)
{
	http_body_init(b);
	http_body_lit(b, "{\"apps\":[");
	bool first = true;
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->apps, &i, &k, &v);) {
		http_body_piece(b, rc_app(m, v, what), !first);
		first = false;
	}
	http_body_lit(b, "]}");
}

static char *scratch_apps(struct apps *m, unsigned what)
{
	json_t *arr = json_array();
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->apps, &i, &k, &v);)
		json_array_append_new(arr, render_app(m, v, what));
	json_t *j = json_pack("{s:o}", "apps", arr);
	char *s = json_dumps(j, DUMP);
	json_decref(j);
	return s;
}

static void cached_tasks(struct apps *m, bool extras, struct http_body *b)
{
	http_body_init(b);
	http_body_lit(b, "{\"tasks\":[");
	bool first = true;
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->apps, &i, &k, &v);) {
		struct m_app *ma = v;
		for (size_t j = 0; j < ma->ninst; j++)
			if (ma->inst[j]->phase == INST_LIVE) {
				http_body_piece(b, rc_task(m, ma->inst[j], extras), !first);
				first = false;
			}
	}
	http_body_lit(b, "]}");
}

static char *scratch_tasks(struct apps *m, bool extras)
{
	json_t *arr = json_array();
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->apps, &i, &k, &v);) {
		struct m_app *ma = v;
		for (size_t j = 0; j < ma->ninst; j++)
			if (ma->inst[j]->phase == INST_LIVE)
				json_array_append_new(arr, render_task(m, ma->inst[j], extras));
	}
	json_t *j = json_pack("{s:o}", "tasks", arr);
	char *s = json_dumps(j, DUMP);
	json_decref(j);
	return s;
}

static void expect_same(struct http_body *b, char *want, uint64_t *hash)
{
	size_t len;
	char *got = http_body_string(b, &len);
	assert_int_equal(len, strlen(want));
	assert_int_equal(b->len, len);
	assert_string_equal(got, want);
	*hash = b->hash;
	free(got);
	free(want);
	http_body_release(b);
}

static void drop_caches(struct apps *m)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->apps, &i, &k, &v);) {
		struct m_app *ma = v;
		rc_free_app(ma);
		for (size_t j = 0; j < ma->ninst; j++)
			rc_free_inst(ma->inst[j]);
	}
}

static void free_apps(struct apps *m)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->apps, &i, &k, &v);) {
		struct m_app *ma = v;
		while (ma->ninst)
			drop_instance(m, ma, 0);
		free(ma->inst);
		idxset_release(&ma->idx);
		apps_order_release(ma);
		apps_count_release(ma);
		rc_free_app(ma);
		apps_deployment_free(ma->deploy);
		json_decref(ma->last_failure);
		json_decref(ma->versions);
		app_free(ma->def);
		free(ma);
	}
	hmap_release(&m->apps);
	hmap_release(&m->tasks);
	apps_by_agent_free(m);
}

static void test_random_changes(void **state)
{
	(void)state;
	render_cache_set_verify(false);
	srand(12);
	struct apps m = {0};
	hmap_init(&m.apps);
	hmap_init(&m.tasks);
	struct m_app *apps[NAPPS];
	for (int i = 0; i < NAPPS; i++)
		apps[i] = new_app(&m, i);
	static const unsigned whats[] = {
		RENDER_COUNTS | RENDER_DEPLOYMENTS,
		RENDER_TASKS | RENDER_COUNTS | RENDER_DEPLOYMENTS,
		RENDER_TASKS | RENDER_COUNTS | RENDER_DEPLOYMENTS | RENDER_FAILURE | RENDER_EXTRAS,
		RENDER_COUNTS | RENDER_DEPLOYMENTS | RENDER_FAILURE,
	};
	for (unsigned step = 0; step < 2000; step++) {
		unsigned nchanges = (unsigned)rand() % 4;
		for (unsigned c = 0; c < nchanges; c++)
			change(&m, apps, step);
		struct http_body b;
		uint64_t h1, h2;
		unsigned what = whats[step % 4];
		cached_apps(&m, what, &b);
		expect_same(&b, scratch_apps(&m, what), &h1);
		bool extras = step % 3 == 0;
		cached_tasks(&m, extras, &b);
		expect_same(&b, scratch_tasks(&m, extras), &h2);
		if (step % 50 == 0) {
			/* The same content rendered afresh has the same ETag. */
			uint64_t h3;
			drop_caches(&m);
			cached_apps(&m, what, &b);
			expect_same(&b, scratch_apps(&m, what), &h3);
			assert_true(h1 == h3);
			/* The queue: app pieces spliced into its items. */
			http_body_init(&b);
			render_queue_body(&m, &b, extras, step % 2, NULL);
			json_t *q = render_queue(&m, extras, step % 2);
			char *s = json_dumps(q, DUMP);
			json_decref(q);
			uint64_t hq;
			expect_same(&b, s, &hq);
		}
	}
	assert_int_equal(m.render_stale, 0);
	free_apps(&m);
}

/* A change without apps_changed is served stale without the check, caught with it. */
static void test_verify_catches_missed_bump(void **state)
{
	(void)state;
	struct apps m = {0};
	hmap_init(&m.apps);
	hmap_init(&m.tasks);
	struct m_app *ma = new_app(&m, 1);
	struct m_instance *in = apps_add_instance(&m, ma, 0, NULL);
	launch(in, 2);
	apps_changed(ma);
	unsigned what = RENDER_TASKS | RENDER_COUNTS | RENDER_DEPLOYMENTS;
	render_cache_set_verify(false);
	struct http_piece *p = http_piece_ref(rc_app(&m, ma, what));
	in->state = "TASK_KILLING"; /* no apps_changed: a writer that forgot it */
	assert_ptr_equal(rc_app(&m, ma, what), p);
	render_cache_set_verify(true);
	struct http_piece *q = rc_app(&m, ma, what);
	assert_ptr_not_equal(q, p);
	assert_int_equal(m.render_stale, 1);
	assert_non_null(strstr(q->data, "TASK_KILLING"));
	assert_null(strstr(p->data, "TASK_KILLING")); /* the old piece lives while referenced */
	http_piece_unref(p);
	render_cache_set_verify(false);
	free_apps(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_changes),
		cmocka_unit_test(test_verify_catches_missed_bump),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
