/* bench/jobs: the real jobs framework on the real resource manager, N jobs every minute.
 *
 * In one process: the resource manager with its SQLite store and the jobs framework, driven
 * by the same 250 ms tick as the master; the agents are simulated (they get the LAUNCH records a
 * real agent would, launch nothing, and answer each with TASK_RUNNING then TASK_FINISHED
 * through the master's status-update path and its group commit). Every job is "R/<the next
 * whole minute>/PT1M". For each run it records the spread between its scheduled time (in its
 * task id) and the moment its LAUNCH went out, and prints p50, p99 and max over the minutes
 * run, the process's CPU time per minute and its RSS.
 *
 * usage: bench-jobs JOBS MINUTES [AGENTS]     (e.g. 10000 2 100) */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "../common/agent-sim.h"
#include "jobs/jobs-int.h"
#include "master/master-int.h"

static int64_t *spread;  /* ms */
static size_t nspread, capspread;

static int sim_send(struct m_agent *a, json_t *rec)
{
	const char *type = json_string_value(json_object_get(rec, "type"));
	if (type && !strcmp(type, "LAUNCH")) {
		const char *task =
			json_string_value(json_object_get(json_object_get(rec, "task"), "task_id"));
		int64_t sched = task ? strtoll(task + 3, NULL, 10) : 0;
		if (nspread == capspread) {
			capspread = capspread ? capspread * 2 : 65536;
			spread = xrealloc(spread, capspread * sizeof(*spread));
		}
		spread[nspread++] = (int64_t)(time_real_usec() / 1000) - sched;
		agent_sim_owe(a, task, "TASK_RUNNING");
		agent_sim_owe(a, task, "TASK_FINISHED");
	}
	json_decref(rec);
	return 0;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

struct loop {
	struct master *m;
	struct jobs *j;
	uint64_t end_usec;
	struct event_base *base;
};

static void on_tick(evutil_socket_t fd, short what, void *ctx)
{
	struct loop *l = ctx;
	uint64_t t0 = time_mono_usec();
	size_t before = nspread;
	jobs_tick(l->j);
	uint64_t t1 = time_mono_usec();
	agent_sim_flush(l->m);
	uint64_t t2 = time_mono_usec();
	if (getenv("BENCH_VERBOSE") && nspread != before)
		fprintf(stderr, "tick at %" PRId64 ": %zu launched, pass %.1f ms, updates %.1f ms\n",
			(int64_t)(time_real_usec() / 1000) % 100000, nspread - before,
			(double)(t1 - t0) / 1e3, (double)(t2 - t1) / 1e3);
	if (time_mono_usec() >= l->end_usec)
		event_base_loopbreak(l->base);
}

int main(int argc, char **argv)
{
	uint64_t njobs, minutes, agents = 100;
	if ((argc != 3 && argc != 4) || parse_u64(argv[1], &njobs) < 0 ||
	    parse_u64(argv[2], &minutes) < 0 || (argc == 4 && parse_u64(argv[3], &agents) < 0) ||
	    !njobs || njobs > JOBS_MAX || !minutes || !agents || agents > 100000) {
		fprintf(stderr, "usage: bench-jobs JOBS MINUTES [AGENTS]\n");
		return 2;
	}
	log_set_level(LOG_WARN);
	char dir[] = "/tmp/bench-jobs-XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	char *store = xasprintf("sqlite:%s/state.db", dir);
	struct event_base *base = event_base_new();
	struct master_config cfg = { .http_addr = "127.0.0.1", .http_port = 0, .store_url = store,
				     .agent_timeout_sec = 3600 };
	struct master *m;
	struct jobs *j;
	if (rm_new(base, &cfg, &m) < 0 || jobs_new(m, &j) < 0 || rm_start(m) < 0)
		return 1;
	agent_sim_init();
	char err[256];
	for (unsigned i = 0; i < agents; i++) {
		char id[32], host[32], http[48];
		snprintf(id, sizeof(id), "sim-agent-S%u", i);
		snprintf(host, sizeof(host), "node%u", i);
		snprintf(http, sizeof(http), "127.0.%u.%u:5051", (i >> 8) & 255, i & 255);
		struct m_agent *a = registry_add_sim_agent(
			m, id, host, http, "cpus(*):1000; mem(*):10000000; disk(*):100000000", "",
			sim_send, NULL, err, sizeof(err));
		if (!a) {
			fprintf(stderr, "bench-jobs: %s\n", err);
			return 1;
		}
		a->last_seen_usec = time_mono_usec();
	}
	long rss0 = bench_rss_kib();
	/* every job at the next whole minute, then every minute */
	int64_t now = (int64_t)(time_real_usec() / 1000);
	int64_t first = (now / 60000 + 1) * 60000;
	if (first - now < 15000)
		first += 60000; /* time to create them all */
	char start[32];
	jsched_iso_utc(first, start);
	jobs_register(j);
	store_txn_begin(j->store);
	for (unsigned i = 0; i < njobs; i++) {
		char name[32], sched[64];
		snprintf(name, sizeof(name), "job%05u", i);
		snprintf(sched, sizeof(sched), "R/%s/PT1M", start);
		json_t *body = json_pack("{s:s, s:s, s:s, s:f, s:f, s:f}", "name", name, "command",
					 "true", "schedule", sched, "cpus", 0.01, "mem", 1.0, "disk",
					 0.0);
		struct job *jb;
		if (job_from_body(j, body, false, now, &jb, err, sizeof(err)) < 0) {
			fprintf(stderr, "bench-jobs: %s\n", err);
			return 1;
		}
		json_decref(body);
		jobs_store_job(j, jb);
		hmap_put(&j->jobs, jb->name, jb);
	}
	store_txn_commit(j->store);
	jobs_changed(j);
	long rss_jobs = bench_rss_kib();
	/* run from the first minute for MINUTES minutes, plus a few seconds to finish */
	int64_t wait_ms = first - (int64_t)(time_real_usec() / 1000);
	struct loop l = { m, j, time_mono_usec() + (uint64_t)(wait_ms + (int64_t)minutes * 60000 - 30000) * 1000, base };
	struct event *tick = event_new(base, -1, EV_PERSIST, on_tick, &l);
	struct timeval tv = { 0, 250000 };
	event_add(tick, &tv);
	/* CPU counted from just before the first run */
	while ((int64_t)(time_real_usec() / 1000) < first - 1000)
		event_base_loop(base, EVLOOP_ONCE);
	double c0 = cpu_s();
	event_base_dispatch(base);
	double cpu = cpu_s() - c0;
	qsort(spread, nspread, sizeof(*spread), cmp64);
	size_t expect = (size_t)(njobs * minutes);
	int64_t succ = 0;
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&j->jobs, &i, &k, &v);)
		succ += ((struct job *)v)->success_count;
	printf("jobs %" PRIu64 " every minute, %" PRIu64 " minutes, %" PRIu64 " agents | runs "
	       "launched %zu (of %zu due), succeeded %" PRId64 " | start spread (launch - "
	       "scheduled): p50 %" PRId64 " ms, p99 %" PRId64 " ms, max %" PRId64 " ms | CPU "
	       "%.2f s per minute (%.1f%% of a core) | RSS: empty %.1f MiB, with the jobs %.1f "
	       "MiB, at the end %.1f MiB\n",
	       njobs, minutes, agents, nspread, expect, succ,
	       nspread ? spread[nspread / 2] : 0, nspread ? spread[nspread * 99 / 100] : 0,
	       nspread ? spread[nspread - 1] : 0, cpu / (double)minutes,
	       100.0 * cpu / ((double)minutes * 60.0), rss0 / 1024.0, rss_jobs / 1024.0,
	       bench_rss_kib() / 1024.0);
	fflush(stdout);
	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench-jobs: could not remove '%s'\n", dir);
	free(cmd);
	_exit(0);
}
