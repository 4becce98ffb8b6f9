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
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "bench.h"
#include "master/fw-int.h"
#include "net/recordio.h"

/* One RecordIO record as a framework's HTTP client would read it off the stream. */
struct simrec {
	char *rec;
	size_t len;
};

struct simfw {
	struct fw_framework *fw;
	struct simrec *events; /* queued records, handled after a pass */
	size_t nevents, events_cap;
	size_t want, launched, running;
	unsigned seq;
	bool suppressed;
};

static int on_event(struct fw_framework *fw, const char *rec, size_t len, void *ctx)
{
	(void)fw;
	struct simfw *s = ctx;
	if (s->nevents == s->events_cap) {
		s->events_cap = s->events_cap ? s->events_cap * 2 : 64;
		s->events = xrealloc(s->events, s->events_cap * sizeof(*s->events));
	}
	char *copy = xmalloc(len);
	memcpy(copy, rec, len);
	s->events[s->nevents++] = (struct simrec){ copy, len };
	return 0;
}

/* The event in one RecordIO record, new reference or NULL. */
static json_t *decode(const struct simrec *r)
{
	return recordio_record_json(r->rec, r->len);
}

/* The master's own time in the run (the rest is the simulated frameworks' own work, which
 * real frameworks do in their own processes): every offer pass, flush and update intake,
 * and every call including the parsing of its body. */
static uint64_t master_usec;
static uint64_t tick_usec; /* the last offer_pass's frameworks_tick */

/* Makes a call as a framework does over HTTP: the framework writes the body (its own
 * time), the master parses and handles it (the master's). body is taken. */
static int call(struct simfw *s,
		int (*fn)(struct fw_framework *, const json_t *, char *, size_t), json_t *body,
		const char *what)
{
	char err[512];
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	uint64_t t0 = time_mono_usec();
	json_t *parsed = text ? json_loads(text, 0, NULL) : NULL;
	int r = parsed ? fn(s->fw, parsed, err, sizeof(err)) : -EINVAL;
	json_decref(parsed);
	master_usec += time_mono_usec() - t0;
	free(text);
	if (r < 0)
		fprintf(stderr, "bench-alloc: %s: %s\n", what, parsed ? err : "cannot encode");
	return r;
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
	json_t *ids = json_pack("[{s:O}]", "value", json_object_get(json_object_get(offer, "id"),
								      "value"));
	size_t n = s->want - s->launched < per_offer ? s->want - s->launched : per_offer;
	if (!n) {
		call(s, fw_call_decline,
		     json_pack("{s:o, s:{s:f}}", "offer_ids", ids, "filters", "refuse_seconds",
			       3600.0),
		     "decline");
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
	if (call(s, fw_call_accept, acc, "accept") == 0)
		s->launched += n;
}

static void acknowledge(struct simfw *s, const json_t *st)
{
	const json_t *uuid = json_object_get(st, "uuid");
	if (!uuid)
		return;
	const char *state = json_string_value(json_object_get(st, "state"));
	if (state && !strcmp(state, "TASK_RUNNING"))
		s->running++;
	else if (state && strcmp(state, "TASK_STARTING"))
		s->launched--; /* refused or lost: wanted again */
	call(s, fw_call_acknowledge,
	     json_pack("{s:O, s:O, s:O}", "agent_id", json_object_get(st, "agent_id"), "task_id",
		       json_object_get(st, "task_id"), "uuid", uuid),
	     "acknowledge");
}

/* Handles the queued events of every framework; returns the number of offers seen. */
static size_t handle_events(struct simfw *v, size_t n, size_t per_offer)
{
	size_t offers = 0;
	for (size_t f = 0; f < n; f++) {
		struct simrec *evs = v[f].events;
		size_t nevs = v[f].nevents;
		v[f].events = NULL;
		v[f].nevents = v[f].events_cap = 0;
		for (size_t i = 0; i < nevs; i++) {
			json_t *e = decode(&evs[i]);
			free(evs[i].rec);
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
		free(evs);
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
		uint64_t t0 = time_mono_usec();
		if (fw_call_revive_suppress(v[f].fw, body, true, err, sizeof(err)) < 0)
			fprintf(stderr, "bench-alloc: suppress: %s\n", err);
		master_usec += time_mono_usec() - t0;
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
	uint64_t t = time_mono_usec();
	m->fw->last_offer_usec = t;
	frameworks_tick(m); /* the offer pass is not due yet: everything but it */
	m->fw->last_offer_usec = 0;
	uint64_t t0 = time_mono_usec();
	tick_usec = t0 - t;
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
	bool verbose = getenv("BENCH_PASSES") != NULL; /* one line per pass on stderr */
	handle_events(v, nfw, per_offer); /* SUBSCRIBED */
	while (total_running(v, nfw) < target && passes < 10000) {
		uint64_t d = offer_pass(m);
		if (!passes) {
			first_offers = m->fw->pass_offers;
			first_decide = m->fw->pass_decide_usec;
			first_send = m->fw->pass_send_usec;
		}
		if (verbose)
			fprintf(stderr, "pass %zu: %zu offers, deciding %.1f ms, rendering+sending %.1f "
					"ms, %zu tasks running\n",
				passes + 1, m->fw->pass_offers, m->fw->pass_decide_usec / 1e3,
				m->fw->pass_send_usec / 1e3, total_running(v, nfw));
		if (m->fw->pass_decide_usec > decide_max)
			decide_max = m->fw->pass_decide_usec;
		pass_sum += d;
		pass_max = d > pass_max ? d : pass_max;
		passes++;
		master_usec += d + tick_usec;
		handle_events(v, nfw, per_offer);
		uint64_t f0 = time_mono_usec();
		fw_flush(m->fw); /* as at the end of the event-loop iteration */
		agent_sim_flush(m);  /* the agents' status updates */
		master_usec += time_mono_usec() - f0;
		handle_events(v, nfw, per_offer);
		suppress_done(v, nfw);
	}
	double place_s = (double)(time_mono_usec() - t0) / 1e6;
	double master_s = (double)master_usec / 1e6;
	long rss_placed = bench_rss_kib();

	/* Steady state: every framework has its tasks and has suppressed its offers. */
	uint64_t steady = offer_pass(m);
	printf("agents %-6u frameworks %-5u tasks %-7zu | placed in %6.2f s (%6.0f placements/s; "
	       "the master's own time %6.2f s: %6.0f placements/s) | %zu passes, mean %6.1f ms, "
	       "longest %6.1f ms | first pass: %zu offers, deciding "
	       "%5.1f ms, rendering+sending %6.1f ms; longest deciding %5.1f ms | pass after "
	       "every framework suppressed: %5.2f ms | RSS: before %5.1f MiB, placed %6.1f MiB\n",
	       agents, nfw, total_running(v, nfw), place_s,
	       (double)total_running(v, nfw) / place_s, master_s,
	       (double)total_running(v, nfw) / master_s, passes,
	       passes ? (double)pass_sum / (double)passes / 1e3 : 0, (double)pass_max / 1e3,
	       first_offers, (double)first_decide / 1e3, (double)first_send / 1e3,
	       (double)decide_max / 1e3, (double)steady / 1e3, rss_before / 1024.0, rss_placed / 1024.0);
	fflush(stdout);
	return total_running(v, nfw) == target ? 0 : 1;
}
