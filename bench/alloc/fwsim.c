/* bench/alloc, frameworks mode: the real offer passes with in-process frameworks.
 *
 * The frameworks are real fw_framework records of the master, subscribed in-process
 * (fw_sim_subscribe): every event is built and RecordIO-encoded as for an HTTP framework,
 * then handed to this file instead of a socket. They behave as a simple Mesos scheduler
 * does: each wants TASKS/FRAMEWORKS tasks (cpus 0.01, mem 1), accepts an offer with LAUNCH
 * of a few of them while it still needs tasks, declines what it does not need for an hour,
 * acknowledges its status updates, and SUPPRESSes its offers once all its tasks run; all
 * through the fw_call_* functions that the HTTP calls end in. The agents are simulated as
 * in alloc.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "bench.h"
#include "master/fw-int.h"

struct simfw {
	struct fw_framework *fw;
	json_t *events; /* queued events (RecordIO records as strings), handled after a pass */
	size_t want, launched, running;
	unsigned seq;
	bool suppressed;
};

static int on_event(struct fw_framework *fw, const char *rec, size_t len, void *ctx)
{
	(void)fw;
	json_array_append_new(((struct simfw *)ctx)->events, json_stringn(rec, len));
	return 0;
}

/* The event in one RecordIO record ("<length>\n<json>"), new reference or NULL. */
static json_t *decode(const json_t *rec)
{
	const char *s = json_string_value(rec);
	const char *nl = s ? memchr(s, '\n', json_string_length(rec)) : NULL;
	if (!nl)
		return NULL;
	return json_loadb(nl + 1, json_string_length(rec) - (size_t)(nl + 1 - s), 0, NULL);
}

static json_t *task_info(struct simfw *s, const char *agent_id)
{
	char id[96];
	snprintf(id, sizeof(id), "%s-t%u", s->fw->id, s->seq++);
	return json_pack("{s:s, s:{s:s}, s:{s:s}, s:[{s:s, s:s, s:{s:f}}, {s:s, s:s, s:{s:f}}],"
			 " s:{s:s}}",
			 "name", id, "task_id", "value", id, "agent_id", "value", agent_id,
			 "resources", "name", "cpus", "type", "SCALAR", "scalar", "value", 0.01,
			 "name", "mem", "type", "SCALAR", "scalar", "value", 1.0, "command",
			 "value", "sleep 3600");
}

/* Answers one offer: LAUNCH up to per_offer tasks while some are still wanted, else DECLINE
 * for an hour. */
static void answer_offer(struct simfw *s, const json_t *offer, size_t per_offer)
{
	char err[512];
	json_t *ids = json_pack("[{s:O}]", "value", json_object_get(json_object_get(offer, "id"),
								      "value"));
	size_t n = s->want - s->launched < per_offer ? s->want - s->launched : per_offer;
	if (!n) {
		json_t *d = json_pack("{s:o, s:{s:f}}", "offer_ids", ids, "filters",
				      "refuse_seconds", 3600.0);
		if (fw_call_decline(s->fw, d, err, sizeof(err)) < 0)
			fprintf(stderr, "bench-alloc: decline: %s\n", err);
		json_decref(d);
		return;
	}
	const char *agent = json_string_value(json_object_get(json_object_get(offer, "agent_id"),
							      "value"));
	json_t *tis = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(tis, task_info(s, agent));
	json_t *acc = json_pack("{s:o, s:[{s:s, s:{s:o}}], s:{s:f}}", "offer_ids", ids,
				"operations", "type", "LAUNCH", "launch", "task_infos", tis,
				"filters", "refuse_seconds", 0.0);
	if (fw_call_accept(s->fw, acc, err, sizeof(err)) < 0)
		fprintf(stderr, "bench-alloc: accept: %s\n", err);
	else
		s->launched += n;
	json_decref(acc);
}

static void acknowledge(struct simfw *s, const json_t *st)
{
	char err[512];
	const json_t *uuid = json_object_get(st, "uuid");
	if (!uuid)
		return;
	const char *state = json_string_value(json_object_get(st, "state"));
	if (state && !strcmp(state, "TASK_RUNNING"))
		s->running++;
	else if (state && strcmp(state, "TASK_STARTING"))
		s->launched--; /* refused or lost: wanted again */
	json_t *ack = json_pack("{s:O, s:O, s:O}", "agent_id", json_object_get(st, "agent_id"),
				"task_id", json_object_get(st, "task_id"), "uuid", uuid);
	if (fw_call_acknowledge(s->fw, ack, err, sizeof(err)) < 0)
		fprintf(stderr, "bench-alloc: acknowledge: %s\n", err);
	json_decref(ack);
}

/* Handles the queued events of every framework; returns the number of offers seen. */
static size_t handle_events(struct simfw *v, size_t n, size_t per_offer)
{
	size_t offers = 0;
	for (size_t f = 0; f < n; f++) {
		json_t *evs = v[f].events;
		v[f].events = json_array();
		size_t i;
		json_t *rec;
		json_array_foreach(evs, i, rec) {
			json_t *e = decode(rec);
			const char *type = json_string_value(json_object_get(e, "type"));
			if (!type) {
				json_decref(e);
				continue;
			}
			if (!strcmp(type, "OFFERS")) {
				size_t j;
				json_t *o;
				json_array_foreach(json_object_get(json_object_get(e, "offers"), "offers"),
						   j, o) {
					answer_offer(&v[f], o, per_offer);
					offers++;
				}
			} else if (!strcmp(type, "UPDATE")) {
				acknowledge(&v[f], json_object_get(json_object_get(e, "update"), "status"));
			}
			json_decref(e);
		}
		json_decref(evs);
	}
	return offers;
}

/* A framework with all its tasks running asks for no more offers. */
static void suppress_done(struct simfw *v, size_t n)
{
	char err[256];
	for (size_t f = 0; f < n; f++) {
		if (v[f].suppressed || v[f].running < v[f].want)
			continue;
		json_t *body = json_object();
		if (fw_call_revive_suppress(v[f].fw, body, true, err, sizeof(err)) < 0)
			fprintf(stderr, "bench-alloc: suppress: %s\n", err);
		json_decref(body);
		v[f].suppressed = true;
	}
}

static size_t total_running(const struct simfw *v, size_t n)
{
	size_t r = 0;
	for (size_t f = 0; f < n; f++)
		r += v[f].running;
	return r;
}

/* One tick of the frameworks now, as the master's timer runs it: its other work (heartbeats,
 * resends, acknowledgements stored) untimed, then the offer pass, timed; returns the
 * pass's duration in microseconds. */
static uint64_t offer_pass(struct master *m)
{
	m->fw->last_offer_usec = time_mono_usec();
	frameworks_tick(m); /* the offer pass is not due yet: everything but it */
	m->fw->last_offer_usec = 0;
	uint64_t t0 = time_mono_usec();
	fw_offers_tick(m->fw);
	return time_mono_usec() - t0;
}

int bench_frameworks(struct master *m, unsigned agents, unsigned nfw, size_t tasks)
{
	struct simfw *v = xcalloc(nfw, sizeof(*v));
	size_t want = tasks / nfw;
	for (unsigned f = 0; f < nfw; f++) {
		char name[32];
		snprintf(name, sizeof(name), "bench-fw-%u", f);
		json_t *info = json_pack("{s:s, s:s, s:[s], s:[{s:s}]}", "user", "bench", "name",
					 name, "roles", "*", "capabilities", "type", "MULTI_ROLE");
		v[f].events = json_array();
		v[f].want = want;
		v[f].fw = fw_sim_subscribe(m->fw, info, on_event, &v[f]);
		json_decref(info);
		if (!v[f].fw) {
			fprintf(stderr, "bench-alloc: framework %u could not subscribe\n", f);
			return 1;
		}
	}
	long rss_before = bench_rss_kib();
	size_t target = want * nfw;
	size_t seen = agents < FW_MAX_OFFERS ? agents : FW_MAX_OFFERS;
	size_t per_offer = (want + seen - 1) / seen;
	uint64_t t0 = time_mono_usec(), pass_max = 0, pass_sum = 0;
	uint64_t first_decide = 0, first_send = 0, decide_max = 0;
	size_t passes = 0, first_offers = 0;
	handle_events(v, nfw, per_offer); /* SUBSCRIBED */
	while (total_running(v, nfw) < target && passes < 10000) {
		uint64_t d = offer_pass(m);
		if (!passes) {
			first_offers = m->fw->pass_offers;
			first_decide = m->fw->pass_decide_usec;
			first_send = m->fw->pass_send_usec;
		}
		if (m->fw->pass_decide_usec > decide_max)
			decide_max = m->fw->pass_decide_usec;
		pass_sum += d;
		pass_max = d > pass_max ? d : pass_max;
		passes++;
		handle_events(v, nfw, per_offer);
		fw_flush(m->fw); /* as at the end of the event-loop iteration */
		bench_flush(m);
		handle_events(v, nfw, per_offer);
		suppress_done(v, nfw);
	}
	double place_s = (double)(time_mono_usec() - t0) / 1e6;
	long rss_placed = bench_rss_kib();

	/* Steady state: every framework has its tasks and has suppressed its offers. */
	uint64_t steady = offer_pass(m);
	printf("agents %-6u frameworks %-5u tasks %-7zu | placed in %6.2f s (%6.0f placements/s, "
	       "%zu passes, mean %6.1f ms, longest %6.1f ms) | first pass: %zu offers, deciding "
	       "%5.1f ms, rendering+sending %6.1f ms; longest deciding %5.1f ms | pass after "
	       "every framework suppressed: %5.2f ms | RSS: before %5.1f MiB, placed %6.1f MiB\n",
	       agents, nfw, total_running(v, nfw), place_s,
	       (double)total_running(v, nfw) / place_s, passes,
	       passes ? (double)pass_sum / (double)passes / 1e3 : 0, (double)pass_max / 1e3,
	       first_offers, (double)first_decide / 1e3, (double)first_send / 1e3,
	       (double)decide_max / 1e3, (double)steady / 1e3, rss_before / 1024.0, rss_placed / 1024.0);
	fflush(stdout);
	return total_running(v, nfw) == target ? 0 : 1;
}
