/* Framework tasks (src/master/fw-tasks.c) with a real master over a real store, simulated
 * agents and an in-process framework: the stored record of a task (names that need
 * escaping, with and without a status) read back after a restart, and the tick: status
 * updates sent again until acknowledged, KILLs held until the agent is back, tasks lost
 * when their agent re-registers without them or goes away. After every step the tick's
 * indexes are checked against the tasks. */
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
#include "base/timeutil.h"
#include "master/fw-int.h"
#include "net/recordio.h"
#include "master/master.h"
#include "model/mesos-resources.h"
#include "store/store.h"

#define NAGENTS 4
#define UUID1 "0b7b2d9e-52a4-4a3c-9d2e-5f8a1c3b7e01"
#define UUID2 "5c1f0e2a-9b3d-4e6f-8a7b-1c2d3e4f5a6b"

struct fixture {
	char dir[64];
	char *store_url;
	struct event_base *base;
	struct master *m;
	struct fw_framework *fw;
	json_t *events;  /* the framework's events, decoded, in order */
	json_t *records; /* [{agent, record}]: what the agents were sent, in order */
};

static int agent_sink(struct m_agent *a, json_t *rec)
{
	struct fixture *f = a->sim_ctx;
	json_array_append_new(f->records, json_pack("{s:s, s:o}", "agent", a->id, "record", rec));
	return 0;
}

static int on_event(struct fw_framework *fw, const char *rec, size_t len, void *ctx)
{
	(void)fw;
	struct fixture *f = ctx;
	json_t *e = recordio_record_json(rec, len);
	assert_non_null(e);
	json_array_append_new(f->events, e);
	return 0;
}

static void add_agent(struct fixture *f, unsigned i)
{
	char id[16], host[16], http[32], err[256];
	snprintf(id, sizeof(id), "agent-%02u", i);
	snprintf(host, sizeof(host), "node%u", i);
	snprintf(http, sizeof(http), "127.0.0.%u:5051", i + 1);
	struct m_agent *a = registry_add_sim_agent(f->m, id, host, http, "cpus:4; mem:4096", "",
						   agent_sink, f, err, sizeof(err));
	assert_non_null(a);
	a->last_seen_usec = time_mono_usec() + 3600ull * 1000000;
}

static struct m_agent *agent(struct fixture *f, unsigned i)
{
	char id[16];
	snprintf(id, sizeof(id), "agent-%02u", i);
	struct m_agent *a = hmap_get(&f->m->agents, id);
	assert_non_null(a);
	return a;
}

static void start(struct fixture *f)
{
	struct master_config cfg = { .http_addr = "127.0.0.1", .http_port = 0,
				     .store_url = f->store_url, .agent_timeout_sec = 3600 };
	assert_int_equal(rm_new(f->base, &cfg, &f->m), 0);
	assert_int_equal(rm_start(f->m), 0);
	for (unsigned i = 0; i < NAGENTS; i++)
		add_agent(f, i);
}

/* A new master over the same store, as after a crash or an upgrade. */
static void restart(struct fixture *f)
{
	rm_free(f->m);
	f->fw = NULL;
	start(f);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-fw-tasks-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->store_url = xasprintf("sqlite:%s/state.db", f->dir);
	f->base = event_base_new();
	f->events = json_array();
	f->records = json_array();
	start(f);
	json_t *info = json_pack("{s:s, s:s, s:[s], s:[{s:s}]}", "user", "t", "name", "fw",
				 "roles", "*", "capabilities", "type", "MULTI_ROLE");
	f->fw = fw_sim_subscribe(f->m->fw, info, on_event, f);
	json_decref(info);
	assert_non_null(f->fw);
	json_array_clear(f->events); /* SUBSCRIBED */
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	rm_free(f->m);
	event_base_free(f->base);
	json_decref(f->events);
	json_decref(f->records);
	char *cmd = xasprintf("rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f->store_url);
	free(f);
	return 0;
}

/* The tick's indexes describe the tasks exactly (fw-int.h's invariants). */
static void check_indexes(const struct frameworks *fws)
{
	size_t listed = 0, watched = 0;
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&fws->tasks, &i, &k, &v);) {
		const struct fw_task *t = v;
		const struct fw_task_list *l = hmap_get(&fws->agent_tasks, t->agent_id);
		assert_non_null(l);
		assert_true(t->slot[FW_SLOT_AGENT] < l->n);
		assert_ptr_equal(l->v[t->slot[FW_SLOT_AGENT]], t);
		bool want = t->kill_pending || (t->status && !t->acked);
		if (want) {
			assert_true(t->slot[FW_SLOT_WATCH] < fws->watched.n);
			assert_ptr_equal(fws->watched.v[t->slot[FW_SLOT_WATCH]], t);
			watched++;
		} else {
			assert_true(t->slot[FW_SLOT_WATCH] == FW_NO_SLOT);
		}
	}
	for (size_t i = 0; hmap_next(&fws->agent_tasks, &i, &k, &v);) {
		const struct fw_task_list *l = v;
		assert_true(l->n > 0);
		listed += l->n;
	}
	assert_int_equal(listed, hmap_len(&fws->tasks));
	assert_int_equal(watched, fws->watched.n);
}

/* ---- the stored record ---- */

static const struct {
	const char *id, *agent, *name, *state, *res;
	double grace;
	bool acked;
	const char *message; /* of its status; NULL: no status */
} rows[] = {
	{ "plain", "agent-00", "plain", "TASK_RUNNING", "cpus:1; mem:128", 3.0, true, NULL },
	{ "quo\"te\"", "agent-\"1\"", "na\"me", "TASK_STAGING", "cpus:0.5", 0.0, false,
	  "said \"hi\"" },
	{ "back\\slash\\", "agent\\00", "\\", "TASK_KILLING", "mem:1.25", 0.1, true,
	  "c:\\dir\\" },
	{ "ctl\x01\x07\x1f\x7f\n\t\r", "agent-00", "bell\a esc\x1b[0m", "TASK_FINISHED",
	  "cpus:2; ports:[31000-31002, 31010-31010]", 1e-9, false, "line1\nline2\ttab\x01" },
	{ "uni-\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac-\xf0\x9f\x98\x80-\xe2\x80\xa8", "agent-\xc3\xa9",
	  "\xe6\x97\xa5\xe6\x9c\xac\xf0\x9f\x98\x80", "TASK_RUNNING", "cpus:0.001; mem:3",
	  86399.999999999, false, "\xf0\x9f\x98\x80 \xe2\x80\xa8" },
	{ "/sl/ash/", "agent-01", NULL, "TASK_STARTING", "disk:10", 1234.5678901234567, true,
	  "" },
	{ "tiny-grace", "agent-01", "", "TASK_RUNNING", "cpus:0.1", 4.9406564584124654e-324,
	  true, NULL },
};

static json_t *status_of(size_t i, const char *uuid)
{
	char b64[25];
	assert_int_equal(mesos_uuid_b64(uuid, b64), 0);
	json_t *s = json_pack("{s:{s:s}, s:s, s:{s:s}, s:s, s:f, s:s}", "task_id", "value",
			      rows[i].id, "state", rows[i].state, "agent_id", "value", rows[i].agent,
			      "source", "SOURCE_EXECUTOR", "timestamp", 1700000000.123456, "uuid",
			      b64);
	if (*rows[i].message)
		json_object_set_new(s, "message", json_string(rows[i].message));
	return s;
}

static char *stored(struct fixture *f, const char *task_id)
{
	char key[STORE_MAX_KEY], *val = NULL;
	snprintf(key, sizeof(key), "fwtasks/%s", task_id);
	assert_int_equal(store_get(f->m->store, key, &val, NULL, NULL), 0);
	return val;
}

/* The record as the previous version wrote it (through jansson): what existing stores
 * hold. */
static json_t *jansson_record(const struct fw_task *t)
{
	char *res = resources_format(&t->res);
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:b}", "task_id", t->id,
			      "framework_id", t->fw_id, "agent_id", t->agent_id, "name",
			      t->name ? t->name : "", "state", t->state, "resources", res, "grace",
			      t->grace_sec, "acked", t->acked);
	free(res);
	assert_non_null(j);
	if (t->status)
		json_object_set_new(j, "status", json_loads(t->status, 0, NULL));
	return j;
}

static void check_loaded(struct fixture *f, size_t i)
{
	char err[256];
	struct fw_task *t = hmap_get(&f->m->fw->tasks, rows[i].id);
	if (!t)
		fail_msg("task %zu not loaded", i);
	assert_ptr_equal(t->fws, f->m->fw);
	assert_non_null(t->fw);
	assert_ptr_equal(t->fw, hmap_get(&f->m->fw->fws, t->fw_id));
	assert_string_equal(t->agent_id, rows[i].agent);
	assert_string_equal(t->name, rows[i].name ? rows[i].name : "");
	assert_ptr_equal(t->state, task_state_intern(rows[i].state));
	struct resources r = RESOURCES_INIT;
	assert_int_equal(resources_parse(rows[i].res, &r, err, sizeof(err)), 0);
	char *want = resources_format(&r), *got = resources_format(&t->res);
	assert_string_equal(got, want);
	free(want);
	free(got);
	resources_release(&r);
	assert_true(t->grace_sec == rows[i].grace);
	assert_int_equal(t->acked, rows[i].acked);
	if (!rows[i].message) {
		assert_null(t->status);
		assert_string_equal(t->status_uuid, "");
		return;
	}
	json_t *ws = status_of(i, UUID1);
	char *w = json_dumps(ws, JSON_COMPACT);
	assert_non_null(t->status);
	assert_string_equal(t->status, w);
	assert_string_equal(t->status_uuid,
			    json_string_value(json_object_get(ws, "uuid")));
	free(w);
	json_decref(ws);
}

/* Every field of the record comes back after a restart; the record is valid JSON, has the
 * keys it always had, says what the jansson-built record said, and is the same bytes when
 * stored again. A record written the old way loads too. */
static void record_round_trip(void **state)
{
	struct fixture *f = *state;
	struct frameworks *fws = f->m->fw;
	char err[256];
	char *first[ARRAY_SIZE(rows)];
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct fw_task *t = fw_task_new(fws, f->fw, rows[i].id, rows[i].agent);
		t->name = rows[i].name ? xstrdup(rows[i].name) : NULL;
		t->state = task_state_intern(rows[i].state);
		assert_int_equal(resources_parse(rows[i].res, &t->res, err, sizeof(err)), 0);
		t->grace_sec = rows[i].grace;
		t->acked = rows[i].acked; /* first: fw_task_set_status puts it on watched */
		if (rows[i].message) {
			json_t *s = status_of(i, UUID1);
			fw_task_set_status(t, s);
			json_decref(s);
		}
		assert_int_equal(fw_task_store(fws, t), 0);

		first[i] = stored(f, t->id);
		json_error_t jerr;
		json_t *got = json_loads(first[i], 0, &jerr);
		if (!got)
			fail_msg("row %zu not JSON: %s: %s", i, jerr.text, first[i]);
		assert_int_equal(json_object_size(got), rows[i].message ? 9 : 8);
		static const char *const keys[] = { "task_id", "framework_id", "agent_id", "name",
						    "state",   "resources",    "grace",    "acked" };
		for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
			assert_non_null(json_object_get(got, keys[k]));
		assert_true(json_is_real(json_object_get(got, "grace")));
		assert_true(json_is_boolean(json_object_get(got, "acked")));
		json_t *want = jansson_record(t);
		if (!json_equal(got, want)) {
			char *w = json_dumps(want, JSON_COMPACT);
			fail_msg("row %zu\ntext %s\nwant %s", i, first[i], w);
		}
		json_decref(want);
		json_decref(got);
	}
	/* Not stored: its framework is gone (orphan). Not storable: a grace JSON cannot say. */
	struct fw_task *orphan = fw_task_new(fws, f->fw, "orphan", "agent-00");
	orphan->fw = NULL;
	assert_int_equal(fw_task_store(fws, orphan), 0);
	fw_task_forget(fws, orphan);
	struct fw_task *bad = fw_task_new(fws, f->fw, "bad-grace", "agent-00");
	bad->grace_sec = 1.0 / 0.0;
	assert_int_equal(fw_task_store(fws, bad), -EINVAL);
	fw_task_forget(fws, bad);
	/* As the previous version stored it (a jansson tree, dumped). No control character:
	 * jansson writes "\n" where text_str writes "\u000a". */
	struct fw_task *old = fw_task_new(fws, f->fw, "old\"style\\", "agent-02");
	old->name = xstrdup("old \xc3\xa9");
	old->state = task_state_intern("TASK_RUNNING");
	assert_int_equal(resources_parse("cpus:0.25; mem:64", &old->res, err, sizeof(err)), 0);
	old->grace_sec = 2.5;
	json_t *oj = jansson_record(old);
	char *otext = json_dumps(oj, JSON_COMPACT);
	json_decref(oj);
	assert_int_equal(store_put(f->m->store, "fwtasks/old\"style\\", otext, strlen(otext),
				   STORE_ANY_VERSION, NULL),
			 0);
	check_indexes(fws);

	restart(f);
	fws = f->m->fw;
	assert_int_equal(hmap_len(&fws->tasks), ARRAY_SIZE(rows) + 1);
	check_indexes(fws);
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		check_loaded(f, i);
		struct fw_task *t = hmap_get(&fws->tasks, rows[i].id);
		assert_int_equal(fw_task_store(fws, t), 0);
		char *again = stored(f, t->id);
		assert_string_equal(again, first[i]);
		free(again);
		free(first[i]);
	}
	struct fw_task *o = hmap_get(&fws->tasks, "old\"style\\");
	assert_non_null(o);
	assert_string_equal(o->name, "old \xc3\xa9");
	assert_true(o->grace_sec == 2.5);
	assert_true(o->acked);
	assert_null(o->status);
	/* The new writer stores it as jansson would have, byte for byte. */
	assert_int_equal(fw_task_store(fws, o), 0);
	char *ntext = stored(f, o->id);
	assert_string_equal(ntext, otext);
	free(ntext);
	free(otext);
	assert_null(hmap_get(&fws->tasks, "orphan"));
	assert_null(hmap_get(&fws->tasks, "bad-grace"));
}

/* ---- the tick ---- */

/* A task launched on agent i, as fw-offers.c's launch records it. */
static struct fw_task *launch(struct fixture *f, const char *id, unsigned i)
{
	struct m_agent *a = agent(f, i);
	struct fw_task *t = fw_task_new(f->m->fw, f->fw, id, a->id);
	t->name = xstrdup(id);
	t->agent_gen = fw_agent_view(f->m->fw, a)->gen;
	return t;
}

static void agent_update(struct fixture *f, unsigned i, const char *task_id, const char *state,
			 const char *uuid)
{
	json_t *u = json_pack("{s:s, s:s, s:s}", "task_id", task_id, "state", state, "uuid", uuid);
	assert_true(frameworks_status_update(f->m, agent(f, i), u));
	json_decref(u);
}

/* The statuses of the UPDATE events received since the last call (new reference). */
static json_t *updates(struct fixture *f)
{
	json_t *out = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(f->events, i, e) {
		assert_string_equal(json_string_value(json_object_get(e, "type")), "UPDATE");
		json_array_append(out, json_object_get(json_object_get(e, "update"), "status"));
	}
	json_array_clear(f->events);
	return out;
}

static const char *task_of(const json_t *status)
{
	return json_string_value(json_object_get(json_object_get(status, "task_id"), "value"));
}

static void tick(struct fixture *f)
{
	fw_tasks_tick(f->m->fw);
	check_indexes(f->m->fw);
}

/* As if FW_RESEND_SEC had passed since t's status was last sent. */
static void age(struct fw_task *t)
{
	t->sent_usec -= (uint64_t)(FW_RESEND_SEC * 1e6) + 1;
}

/* A status with a uuid is sent again every FW_RESEND_SEC while its task's agent is
 * connected, until the framework acknowledges it; then never again. */
static void resend_until_acked(void **state)
{
	struct fixture *f = *state;
	struct fw_task *t = launch(f, "t1", 0);
	launch(f, "quiet", 0);
	agent_update(f, 0, "t1", "TASK_RUNNING", UUID1);
	check_indexes(f->m->fw);
	json_t *u = updates(f);
	assert_int_equal(json_array_size(u), 1);
	json_t *first = json_incref(json_array_get(u, 0));
	json_decref(u);
	assert_non_null(json_object_get(first, "uuid"));

	tick(f); /* not due yet */
	u = updates(f);
	assert_int_equal(json_array_size(u), 0);
	json_decref(u);

	age(t);
	tick(f);
	u = updates(f);
	assert_int_equal(json_array_size(u), 1);
	assert_true(json_equal(json_array_get(u, 0), first));
	json_decref(u);
	tick(f); /* sent just now */
	u = updates(f);
	assert_int_equal(json_array_size(u), 0);
	json_decref(u);

	/* Not while the agent is away; at once when it is back. */
	agent(f, 0)->state = AGENT_DISCONNECTED;
	age(t);
	tick(f);
	u = updates(f);
	assert_int_equal(json_array_size(u), 0);
	json_decref(u);
	agent(f, 0)->state = AGENT_CONNECTED;
	tick(f);
	u = updates(f);
	assert_int_equal(json_array_size(u), 1);
	json_decref(u);

	/* A resubscription sends it at once. */
	fw_tasks_resend(f->m->fw, f->fw, true);
	u = updates(f);
	assert_int_equal(json_array_size(u), 1);
	assert_true(json_equal(json_array_get(u, 0), first));
	json_decref(u);

	/* Acknowledging an older uuid changes nothing; the current one ends the resends. */
	char err[256], b64[25];
	assert_int_equal(mesos_uuid_b64(UUID2, b64), 0);
	json_t *ack = json_pack("{s:{s:s}, s:{s:s}, s:s}", "agent_id", "value", "agent-00",
				"task_id", "value", "t1", "uuid", b64);
	assert_int_equal(fw_call_acknowledge(f->fw, ack, err, sizeof(err)), 0);
	json_decref(ack);
	assert_false(t->acked);
	ack = json_pack("{s:{s:s}, s:{s:s}, s:O}", "agent_id", "value", "agent-00", "task_id",
			"value", "t1", "uuid", json_object_get(first, "uuid"));
	assert_int_equal(fw_call_acknowledge(f->fw, ack, err, sizeof(err)), 0);
	json_decref(ack);
	assert_true(t->acked);
	check_indexes(f->m->fw);
	age(t);
	tick(f);
	fw_tasks_resend(f->m->fw, f->fw, true);
	u = updates(f);
	assert_int_equal(json_array_size(u), 0);
	json_decref(u);
	assert_int_equal(f->m->fw->watched.n, 0);

	/* A terminal status, once acknowledged, ends the task. */
	agent_update(f, 0, "t1", "TASK_FINISHED", UUID2);
	u = updates(f);
	assert_int_equal(json_array_size(u), 1);
	ack = json_pack("{s:{s:s}, s:{s:s}, s:O}", "agent_id", "value", "agent-00", "task_id",
			"value", "t1", "uuid", json_object_get(json_array_get(u, 0), "uuid"));
	json_decref(u);
	assert_int_equal(fw_call_acknowledge(f->fw, ack, err, sizeof(err)), 0);
	json_decref(ack);
	assert_null(hmap_get(&f->m->fw->tasks, "t1"));
	check_indexes(f->m->fw);
	json_decref(first);
	assert_int_equal(json_array_size(f->records), 0); /* no KILL went anywhere */
}

static size_t kills_sent(struct fixture *f, const char *agent_id, const char *task_id,
			 double grace)
{
	size_t n = 0, i;
	json_t *r;
	json_array_foreach(f->records, i, r) {
		const json_t *rec = json_object_get(r, "record");
		assert_string_equal(json_string_value(json_object_get(rec, "type")), "KILL");
		assert_string_equal(json_string_value(json_object_get(r, "agent")), agent_id);
		assert_string_equal(json_string_value(json_object_get(rec, "task_id")), task_id);
		assert_true(json_number_value(json_object_get(rec, "grace_period_seconds")) == grace);
		n++;
	}
	json_array_clear(f->records);
	return n;
}

/* A KILL for a task whose agent is away waits for the agent, then goes once. */
static void kill_waits_for_agent(void **state)
{
	struct fixture *f = *state;
	char err[256];
	struct fw_task *t = launch(f, "t2", 1);
	launch(f, "other", 1);
	agent(f, 1)->state = AGENT_DISCONNECTED;
	json_t *kill = json_pack("{s:{s:s}, s:{s:{s:I}}}", "task_id", "value", "t2",
				 "kill_policy", "grace_period", "nanoseconds",
				 (json_int_t)1500000000);
	assert_int_equal(fw_call_kill(f->fw, kill, err, sizeof(err)), 0);
	json_decref(kill);
	assert_true(t->kill_pending);
	check_indexes(f->m->fw);
	assert_int_equal(kills_sent(f, "agent-01", "t2", 1.5), 0);
	tick(f);
	tick(f);
	assert_int_equal(kills_sent(f, "agent-01", "t2", 1.5), 0);

	agent(f, 1)->state = AGENT_CONNECTED;
	tick(f);
	assert_int_equal(kills_sent(f, "agent-01", "t2", 1.5), 1);
	assert_false(t->kill_pending);
	assert_true(t->kill_sent);
	tick(f);
	assert_int_equal(kills_sent(f, "agent-01", "t2", 1.5), 0);

	/* Connected: at once, and nothing for the tick. */
	kill = json_pack("{s:{s:s}}", "task_id", "value", "other");
	assert_int_equal(fw_call_kill(f->fw, kill, err, sizeof(err)), 0);
	json_decref(kill);
	assert_int_equal(kills_sent(f, "agent-01", "other", 3.0), 1);
	tick(f);
	assert_int_equal(kills_sent(f, "agent-01", "other", 3.0), 0);
	assert_int_equal(f->m->fw->watched.n, 0);
	json_t *u = updates(f);
	assert_int_equal(json_array_size(u), 0);
	json_decref(u);
}

/* u holds exactly one status for each task of want: lost (not partition aware), told by
 * the master, for reason. */
static void check_lost(json_t *u, const char *const *want, size_t n, const char *reason)
{
	assert_int_equal(json_array_size(u), n);
	for (size_t w = 0; w < n; w++) {
		bool found = false;
		size_t i;
		json_t *s;
		json_array_foreach(u, i, s) {
			if (strcmp(task_of(s), want[w]))
				continue;
			found = true;
			assert_string_equal(json_string_value(json_object_get(s, "state")),
					    "TASK_LOST");
			assert_string_equal(json_string_value(json_object_get(s, "reason")),
					    reason);
			assert_string_equal(json_string_value(json_object_get(s, "source")),
					    "SOURCE_MASTER");
		}
		if (!found)
			fail_msg("no update for '%s'", want[w]);
	}
}

/* An agent that registers again and does not report a task has lost it (at the next
 * tick, once); tasks on other agents and those it reported stay. An agent removed takes
 * all its tasks with it. */
static void lost_tasks(void **state)
{
	struct fixture *f = *state;
	struct frameworks *fws = f->m->fw;
	launch(f, "kept", 2);
	launch(f, "gone-1", 2);
	launch(f, "gone-2", 2);
	launch(f, "elsewhere", 3);
	tick(f);
	json_t *u = updates(f);
	assert_int_equal(json_array_size(u), 0);
	json_decref(u);

	struct m_agent *a = agent(f, 2);
	a->registrations++;
	assert_true(frameworks_task_recovered(f->m, a, "kept", "TASK_RUNNING"));
	assert_false(frameworks_task_recovered(f->m, a, "elsewhere", "TASK_RUNNING"));
	tick(f);
	u = updates(f);
	static const char *const gone[] = { "gone-1", "gone-2" };
	check_lost(u, gone, 2, "REASON_AGENT_RESTARTED");
	json_decref(u);
	assert_null(hmap_get(&fws->tasks, "gone-1"));
	assert_null(hmap_get(&fws->tasks, "gone-2"));
	assert_non_null(hmap_get(&fws->tasks, "kept"));
	assert_non_null(hmap_get(&fws->tasks, "elsewhere"));
	tick(f);
	u = updates(f);
	assert_int_equal(json_array_size(u), 0);
	json_decref(u);

	/* Re-registered while away: the loss is told once it is connected again. */
	a->state = AGENT_DISCONNECTED;
	a->registrations++;
	fw_agent_view(fws, a);
	tick(f);
	assert_non_null(hmap_get(&fws->tasks, "kept"));
	a->state = AGENT_CONNECTED;
	tick(f);
	u = updates(f);
	static const char *const kept[] = { "kept" };
	check_lost(u, kept, 1, "REASON_AGENT_RESTARTED");
	json_decref(u);
	assert_null(hmap_get(&fws->agent_tasks, a->id));

	launch(f, "elsewhere-2", 3);
	frameworks_agent_lost(f->m, agent(f, 3));
	/* After the tasks' updates, Mesos's FAILURE with only the lost agent's id. */
	size_t nev = json_array_size(f->events);
	assert_true(nev > 0);
	json_t *fail = json_array_get(f->events, nev - 1);
	assert_string_equal(json_string_value(json_object_get(fail, "type")), "FAILURE");
	json_t *want = json_pack("{s:{s:s}}", "agent_id", "value", agent(f, 3)->id);
	assert_true(json_equal(json_object_get(fail, "failure"), want));
	json_decref(want);
	json_array_remove(f->events, nev - 1);
	u = updates(f);
	static const char *const removed[] = { "elsewhere", "elsewhere-2" };
	check_lost(u, removed, 2, "REASON_AGENT_REMOVED");
	json_decref(u);
	assert_int_equal(hmap_len(&fws->tasks), 0);
	check_indexes(fws);
	/* With the last task the index tables went too. */
	assert_null(fws->agent_tasks.slots);
	assert_null(fws->watched.v);
	assert_int_equal(json_array_size(f->records), 0);
}

/* After a restart, the tasks loaded are lost unless their agent reports them when it
 * registers (all of them, at the first tick that sees the agent connected); a status not
 * acknowledged is kept across it. */
static void loaded_tasks(void **state)
{
	struct fixture *f = *state;
	launch(f, "reported", 0);
	launch(f, "unreported", 0);
	launch(f, "unacked", 1);
	launch(f, "unreported-1", 1);
	launch(f, "away", 2);
	agent_update(f, 1, "unacked", "TASK_RUNNING", UUID1);
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&f->m->fw->tasks, &i, &k, &v);)
		assert_int_equal(fw_task_store(f->m->fw, v), 0);

	restart(f);
	struct frameworks *fws = f->m->fw;
	check_indexes(fws);
	assert_int_equal(hmap_len(&fws->tasks), 5);
	assert_int_equal(fws->watched.n, 1);
	agent(f, 2)->state = AGENT_DISCONNECTED; /* has not registered yet */
	assert_true(frameworks_task_recovered(f->m, agent(f, 0), "reported", "TASK_RUNNING"));
	assert_true(frameworks_task_recovered(f->m, agent(f, 1), "unacked", "TASK_RUNNING"));
	tick(f);
	assert_non_null(hmap_get(&fws->tasks, "reported"));
	assert_null(hmap_get(&fws->tasks, "unreported"));
	assert_null(hmap_get(&fws->tasks, "unreported-1"));
	assert_non_null(hmap_get(&fws->tasks, "away"));
	struct fw_task *un = hmap_get(&fws->tasks, "unacked");
	assert_non_null(un);
	assert_false(un->acked);
	assert_non_null(un->status);
	/* agent-02 registers and reports nothing. */
	agent(f, 2)->state = AGENT_CONNECTED;
	tick(f);
	assert_null(hmap_get(&fws->tasks, "away"));
	assert_int_equal(hmap_len(&fws->tasks), 2);
	check_indexes(fws);
}

/* Status updates from agents are applied and stored by group commit (updates.c): nothing of
 * a queued batch is applied before the flush, the batches of several agents share one
 * store commit, and the batch of an agent given up as unreachable meanwhile is not
 * applied (its request is answered 404 and the agent resends after subscribing again). */
static void updates_group_commit(void **state)
{
	struct fixture *f = *state;
	struct frameworks *fws = f->m->fw;
	const char *ids[] = { "g0", "g1", "g2" };
	for (unsigned i = 0; i < 3; i++)
		launch(f, ids[i], i);
	struct store_stats before, after;
	store_get_stats(f->m->store, &before);
	for (unsigned i = 0; i < 3; i++) {
		json_t *batch = json_pack("[{s:s, s:s, s:s}]", "task_id", ids[i], "state",
					  "TASK_RUNNING", "uuid", i == 0 ? UUID1 : UUID2);
		updates_queue(f->m, agent(f, i), batch, NULL);
	}
	for (unsigned i = 0; i < 3; i++)
		assert_string_equal(((struct fw_task *)hmap_get(&fws->tasks, ids[i]))->state,
				    "TASK_STAGING");
	agent(f, 2)->state = AGENT_UNREACHABLE;
	assert_int_equal(updates_flush(f->m), 2);
	store_get_stats(f->m->store, &after);
	assert_int_equal(after.commits - before.commits, 1);
	assert_string_equal(((struct fw_task *)hmap_get(&fws->tasks, "g0"))->state, "TASK_RUNNING");
	assert_string_equal(((struct fw_task *)hmap_get(&fws->tasks, "g1"))->state, "TASK_RUNNING");
	assert_string_equal(((struct fw_task *)hmap_get(&fws->tasks, "g2"))->state, "TASK_STAGING");
	/* What the commit stored is the running state. */
	char *rec = stored(f, "g1");
	assert_non_null(strstr(rec, "\"state\":\"TASK_RUNNING\""));
	free(rec);
	json_t *got = updates(f);
	assert_int_equal(json_array_size(got), 2);
	json_decref(got);
	/* Nothing queued: nothing to commit. */
	assert_int_equal(updates_flush(f->m), 0);
	store_get_stats(f->m->store, &before);
	assert_int_equal(before.commits, after.commits);
	check_indexes(fws);
}

/* The operation statuses kept for RECONCILE_OPERATIONS (fw-ops.c): the last FW_OP_STATUSES,
 * the oldest dropped first, a repeated id updated in place; implicit reconciliation sends
 * them oldest first; an operation not kept is known only by its agent's state. */
static const char *op_state(const json_t *ev, const char **id)
{
	const json_t *st = json_object_get(json_object_get(ev, "update_operation_status"), "status");
	*id = json_string_value(json_object_get(json_object_get(st, "operation_id"), "value"));
	assert_null(json_object_get(st, "uuid"));
	return json_string_value(json_object_get(st, "state"));
}

static void operation_statuses_kept(void **state)
{
	struct fixture *f = *state;
	char err[256], id[32];
	for (unsigned i = 0; i < FW_OP_STATUSES + 10; i++) {
		snprintf(id, sizeof(id), "op-%u", i);
		json_t *op = json_pack("{s:{s:s}}", "id", "value", id);
		fw_op_status(f->fw, op, "agent-00", i == 20 ? "OPERATION_ERROR" : "OPERATION_FINISHED",
			     i == 20 ? "refused" : NULL);
		json_decref(op);
	}
	json_t *op = json_pack("{s:{s:s}}", "id", "value", "op-11"); /* again: in place */
	fw_op_status(f->fw, op, "agent-00", "OPERATION_ERROR", "again");
	json_decref(op);
	assert_int_equal(json_array_size(f->events), FW_OP_STATUSES + 11);
	json_array_clear(f->events);

	json_t *body = json_pack("{s:[]}", "operations");
	assert_int_equal(fw_call_reconcile_operations(f->fw, body, err, sizeof(err)), 0);
	json_decref(body);
	assert_int_equal(json_array_size(f->events), FW_OP_STATUSES);
	const char *oid;
	op_state(json_array_get(f->events, 0), &oid);
	assert_string_equal(oid, "op-10"); /* op-0 … op-9 were dropped */
	/* op-11 kept its place, with its new status. */
	assert_string_equal(op_state(json_array_get(f->events, 1), &oid), "OPERATION_ERROR");
	assert_string_equal(oid, "op-11");
	op_state(json_array_get(f->events, FW_OP_STATUSES - 1), &oid);
	assert_string_equal(oid, "op-265");
	json_array_clear(f->events);

	agent(f, 1)->state = AGENT_DISCONNECTED;
	agent(f, 2)->state = AGENT_UNREACHABLE;
	body = json_pack("{s:[{s:{s:s}}, {s:{s:s}}, {s:{s:s}, s:{s:s}}, {s:{s:s}, s:{s:s}},"
			 " {s:{s:s}, s:{s:s}}]}",
			 "operations", "operation_id", "value", "op-20", "operation_id", "value",
			 "op-3", "operation_id", "value", "op-x", "agent_id", "value", "agent-00",
			 "operation_id", "value", "op-y", "agent_id", "value", "agent-01",
			 "operation_id", "value", "op-z", "agent_id", "value", "agent-02");
	assert_int_equal(fw_call_reconcile_operations(f->fw, body, err, sizeof(err)), 0);
	json_decref(body);
	static const char *const want[][2] = { { "op-20", "OPERATION_ERROR" },
					       { "op-3", "OPERATION_UNKNOWN" },
					       { "op-x", "OPERATION_UNKNOWN" },
					       { "op-y", "OPERATION_RECOVERING" },
					       { "op-z", "OPERATION_UNREACHABLE" } };
	assert_int_equal(json_array_size(f->events), 5);
	for (size_t i = 0; i < 5; i++) {
		assert_string_equal(op_state(json_array_get(f->events, i), &oid), want[i][1]);
		assert_string_equal(oid, want[i][0]);
	}
	json_array_clear(f->events);

	/* A bad call sends nothing. */
	body = json_pack("{s:[{s:{s:s}}, {s:{s:s}}]}", "operations", "operation_id", "value",
			 "op-20", "agent_id", "value", "agent-00");
	assert_int_equal(fw_call_reconcile_operations(f->fw, body, err, sizeof(err)), -EINVAL);
	json_decref(body);
	assert_non_null(strstr(err, "operations[1].operation_id"));
	assert_int_equal(json_array_size(f->events), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(record_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(resend_until_acked, setup, teardown),
		cmocka_unit_test_setup_teardown(kill_waits_for_agent, setup, teardown),
		cmocka_unit_test_setup_teardown(lost_tasks, setup, teardown),
		cmocka_unit_test_setup_teardown(loaded_tasks, setup, teardown),
		cmocka_unit_test_setup_teardown(updates_group_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(operation_statuses_kept, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
