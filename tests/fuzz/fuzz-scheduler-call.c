/* Fuzz target: the calls of a subscribed framework (POST /api/v1/scheduler past the
 * stream id check: fw_call), on arbitrary bytes, against a real master with an in-memory
 * store, two simulated agents and outstanding offers.
 *
 * So that inputs reach past "unknown offer", the texts "@offer", "@agent" and "@framework"
 * (with their quotes) are replaced by the id of an outstanding offer, its agent's and the
 * framework's before parsing. After each call the master's
 * invariants that a call could break are checked: an agent's free resources stay within
 * its total, a framework never holds more offers than FW_MAX_OFFERS, and the answer is one
 * of the statuses the API documents. A framework torn down is subscribed again. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/strbuf.h"
#include "json/jnull.h"
#include "master/fw-int.h"
#include "master/master.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct event_base *base;
static struct master *m;
static struct fw_framework *fw;
static char *fw_id;
static unsigned calls;

static int sink_agent(struct m_agent *a, json_t *rec)
{
	(void)a;
	json_decref(rec);
	return 0;
}

static int sink_events(struct fw_framework *f, const char *rec, size_t len, void *ctx)
{
	(void)f;
	(void)rec;
	(void)len;
	(void)ctx;
	return 0;
}

static void add_agent(unsigned i)
{
	char id[16], host[16], http[32], err[256];
	snprintf(id, sizeof(id), "agent-%u", i);
	snprintf(host, sizeof(host), "node%u", i);
	snprintf(http, sizeof(http), "127.0.0.%u:5051", i + 1);
	if (!registry_add_sim_agent(m, id, host, http,
				    "cpus:4; mem:4096; disk:1000; ports:[31000-31100]", "rack:r1",
				    sink_agent, NULL, err, sizeof(err)))
		abort();
}

static void subscribe(void)
{
	json_t *info = json_pack("{s:s, s:s, s:[s, s], s:[{s:s}, {s:s}]}", "user", "fuzz", "name",
				 "fuzz", "roles", "*", "db", "capabilities", "type", "MULTI_ROLE",
				 "type", "RESERVATION_REFINEMENT");
	fw = fw_sim_subscribe(m->fw, info, sink_events, NULL);
	json_decref(info);
	if (!fw)
		abort();
	free(fw_id);
	fw_id = xstrdup(fw->id);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_ERROR);
	base = event_base_new();
	struct master_config cfg = { .http_addr = "127.0.0.1", .http_port = 0,
				     .store_url = "sqlite::memory:", .agent_timeout_sec = 3600 };
	if (rm_new(base, &cfg, &m) < 0 || rm_start(m) < 0)
		abort();
	for (unsigned i = 0; i < 2; i++)
		add_agent(i);
	subscribe();
	return 0;
}

/* The input with "@offer", "@agent" and "@framework" (quoted) replaced by the id of an
 * outstanding offer, its agent's id and the framework's id, as a string. */
static char *with_ids(const uint8_t *data, size_t size)
{
	const char *offer = "", *agent = "agent-0", *k;
	void *v;
	for (size_t i = 0; !*offer && hmap_next(&m->fw->offers, &i, &k, &v);) {
		offer = k;
		agent = ((const struct fw_offer *)v)->agent_id;
	}
	static const char *const tokens[] = { "\"@offer\"", "\"@framework\"", "\"@agent\"" };
	const char *ids[] = { offer, fw_id, agent };
	struct strbuf sb = STRBUF_INIT;
	strbuf_add(&sb, "", 0);
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *hit = NULL;
		size_t which = 0;
		for (size_t t = 0; t < ARRAY_SIZE(tokens); t++) {
			const char *h = memmem(p, (size_t)(end - p), tokens[t], strlen(tokens[t]));
			if (h && (!hit || h < hit)) {
				hit = h;
				which = t;
			}
		}
		if (!hit) {
			strbuf_add(&sb, p, (size_t)(end - p));
			break;
		}
		strbuf_add(&sb, p, (size_t)(hit - p));
		strbuf_addf(&sb, "\"%s\"", ids[which]);
		p = hit + strlen(tokens[which]);
	}
	return strbuf_detach(&sb, NULL);
}

static void check(int code)
{
	if (code != 200 && code != 202 && code != 400 && code != 503)
		abort();
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->agents, &i, &k, &v);) {
		const struct m_agent *a = v;
		/* The ledger's invariant: free + used = total. */
		struct resources sum = RESOURCES_INIT;
		resources_copy(&sum, rm_agent_free(a));
		resources_add(&sum, rm_agent_used(a));
		bool ok = resources_contains(&sum, rm_agent_total(a)) &&
			  resources_contains(rm_agent_total(a), &sum);
		resources_release(&sum);
		if (!ok)
			abort();
	}
	for (size_t i = 0; hmap_next(&m->fw->fws, &i, &k, &v);)
		if (((struct fw_framework *)v)->noffers > FW_MAX_OFFERS)
			abort();
}

/* Every task launched ends, reported by its agent through the update intake: resources
 * come back, and the update paths are exercised too. */
static void finish_tasks(void)
{
	static unsigned seq;
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->fw->tasks, &i, &k, &v);) {
		const struct fw_task *t = v;
		struct m_agent *a = hmap_get(&m->agents, t->agent_id);
		char uuid[40];
		snprintf(uuid, sizeof(uuid), "00000000-0000-4000-8000-%012x", seq++);
		if (a)
			updates_queue(m, a,
				      json_pack("[{s:s, s:s, s:s}]", "task_id", t->id, "state",
						"TASK_FINISHED", "uuid", uuid),
				      NULL);
	}
	updates_flush(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Offers come and go as in the master: a pass every few calls; tasks end now and
	 * then. */
	if (calls % 64 == 63)
		finish_tasks();
	if (calls++ % 8 == 0) {
		m->fw->last_offer_usec = 0;
		fw_offers_tick(m->fw);
	}
	char *text = with_ids(data, size);
	json_t *call = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	free(text);
	/* Every other call with its nulls stripped, as the endpoint hands it over; the others
	 * raw, as fw_call must survive them too. */
	if (calls % 2)
		jnull_strip(call, NULL);
	const char *type = json_string_value(json_object_get(call, "type"));
	if (json_is_object(call) && type && strcmp(type, "SUBSCRIBE")) {
		char err[512];
		check(fw_call(fw, type, call, err, sizeof(err)));
		fw_flush(m->fw);
		if (!hmap_get(&m->fw->fws, fw_id))
			subscribe(); /* torn down */
	}
	json_decref(call);
	return 0;
}
