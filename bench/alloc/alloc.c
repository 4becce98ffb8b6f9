/* bench/alloc: the real apps framework and its placement over simulated agents.
 *
 * In one process: a real resource manager with the real apps framework on it (store,
 * scheduling passes, the ledger) whose agents are
 * simulated: they get the LAUNCH and KILL records a real agent would, launch nothing, and
 * answer each LAUNCH with TASK_RUNNING (and each KILL with TASK_KILLED) through the same
 * status-update path real agents use. Prints, for each cluster size: the time to place
 * every task, placements per second, the time of a scheduling pass once everything runs
 * (after no change, and looking at every app as one pass every few seconds does) and of a
 * pass placing one task per app, and the master's RSS.
 *
 * usage: bench-alloc AGENTS APPS TASKS              (e.g. 10000 100 1000000)
 *        bench-alloc --frameworks AGENTS FRAMEWORKS TASKS   (fwsim.c) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "bench.h"

static void add_agents(struct master *m, unsigned n)
{
	char err[256];
	for (unsigned i = 0; i < n; i++) {
		char id[32], host[32], http[48], attrs[32];
		snprintf(id, sizeof(id), "sim-agent-S%u", i);
		snprintf(host, sizeof(host), "node%u", i);
		snprintf(http, sizeof(http), "127.0.%u.%u:5051", (i >> 8) & 255, i & 255);
		snprintf(attrs, sizeof(attrs), "rack:%u", i % 40);
		struct m_agent *a = registry_add_sim_agent(
			m, id, host, http,
			"cpus(*):64; mem(*):262144; disk(*):1000000; ports(*):[31000-32000]", attrs,
			agent_sim_send, NULL, err, sizeof(err));
		if (!a) {
			fprintf(stderr, "bench-alloc: %s\n", err);
			exit(1);
		}
		a->last_seen_usec = time_mono_usec() + 3600ull * 1000000;
	}
}

static void add_app(struct apps *m, unsigned i, long long instances)
{
	json_t *j = json_pack("{s:s, s:s, s:f, s:f, s:I, s:[]}", "id", "", "cmd", "sleep 3600",
			      "cpus", 0.01, "mem", 1.0, "instances", (json_int_t)instances,
			      "portDefinitions");
	char id[64];
	snprintf(id, sizeof(id), "/bench/app%u", i);
	json_object_set_new(j, "id", json_string(id));
	struct verr err = VERR_INIT;
	struct app *def;
	if (app_parse(j, "/", &err, &def) < 0) {
		fprintf(stderr, "bench-alloc: %s\n", verr_first(&err));
		exit(1);
	}
	json_decref(j);
	app_set_version(def, time_real_usec(), true, NULL);
	struct m_app *ma = apps_app_new();
	ma->def = def;
	ma->versions = json_array();
	snprintf(ma->config_version, sizeof(ma->config_version), "%s", def->version);
	hmap_put(&m->apps, def->id, ma);
}


/* CPU time of this thread, usec. */
static uint64_t thread_cpu_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static size_t running(struct apps *m, size_t target)
{
	size_t n = 0;
	if (hmap_len(&m->tasks) < target)
		return hmap_len(&m->tasks); /* not all live yet: no need to count them */
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->apps, &i, &k, &v);) {
		struct m_app *ma = v;
		for (size_t j = 0; j < ma->ninst; j++)
			n += ma->inst[j]->phase == INST_LIVE && !strcmp(ma->inst[j]->state, "TASK_RUNNING");
	}
	return n;
}

int main(int argc, char **argv)
{
	uint64_t agents, apps, tasks;
	bool fws = argc == 5 && !strcmp(argv[1], "--frameworks");
	if (fws) {
		argv++;
		argc--;
	}
	if (argc != 4 || parse_u64(argv[1], &agents) < 0 || parse_u64(argv[2], &apps) < 0 ||
	    parse_u64(argv[3], &tasks) < 0 || !agents || !apps || agents > 1000000 ||
	    apps > 100000) {
		fprintf(stderr, "usage: bench-alloc AGENTS APPS TASKS\n"
				"       bench-alloc --frameworks AGENTS FRAMEWORKS TASKS\n");
		return 2;
	}
	log_set_level(LOG_WARN);
	char dir[] = "/tmp/bench-alloc-XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	char *store = xasprintf("sqlite:%s/state.db", dir);
	struct event_base *base = event_base_new();
	struct master_config cfg = { .http_addr = "127.0.0.1", .http_port = 0, .store_url = store,
				     .agent_timeout_sec = 3600 };
	struct master *m;
	struct apps *ap = NULL;
	if (rm_new(base, &cfg, &m) < 0 || (!fws && apps_new(m, &ap) < 0) || rm_start(m) < 0)
		return 1;
	agent_sim_init();
	long rss0 = bench_rss_kib();
	add_agents(m, (unsigned)agents);
	if (fws) {
		int rc = bench_frameworks(m, (unsigned)agents, (unsigned)apps, (size_t)tasks);
		char *cmd = xasprintf("rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "bench-alloc: could not remove '%s'\n", dir);
		free(cmd);
		_exit(rc);
	}
	for (unsigned i = 0; i < apps; i++)
		add_app(ap, i, (long long)(tasks / apps));
	long rss_agents = bench_rss_kib();

	/* Place everything: passes until every task runs. */
	uint64_t t0 = time_mono_usec(), pass_max = 0, passes = 0, flush_max = 0, cpu_max = 0;
	size_t target = (size_t)(tasks / apps * apps);
	while (running(ap, target) < target) {
		uint64_t p0 = time_mono_usec(), c0 = thread_cpu_usec();
		apps_run_pass(ap);
		uint64_t d = time_mono_usec() - p0, c = thread_cpu_usec() - c0;
		pass_max = d > pass_max ? d : pass_max;
		cpu_max = c > cpu_max ? c : cpu_max; /* what the pass itself used, without the
						      * time other processes had the CPU */
		passes++;
		/* The agents' status updates: on a real master, another turn of the loop. */
		p0 = time_mono_usec();
		agent_sim_flush(m);
		d = time_mono_usec() - p0;
		flush_max = d > flush_max ? d : flush_max;
		if (passes > 100000)
			break;
	}
	apps_run_pass(ap); /* deployments finish */
	agent_sim_flush(m);
	double place_s = (double)(time_mono_usec() - t0) / 1e6;
	long rss_placed = bench_rss_kib();

	/* The steady state: a pass after no change, a pass that looks at every app (as one does
	 * every few seconds), then one placing a task per app. */
	uint64_t i0 = time_mono_usec();
	apps_run_pass(ap);
	double idle_ms = (double)(time_mono_usec() - i0) / 1e3;
	ap->full_pass_usec = 0;
	uint64_t f0 = time_mono_usec();
	apps_run_pass(ap);
	double full_ms = (double)(time_mono_usec() - f0) / 1e3;
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&ap->apps, &i, &k, &v);) {
		struct m_app *ma = v;
		ma->def->instances++;
		ma->dirty = true;
	}
	uint64_t o0 = time_mono_usec();
	apps_run_pass(ap);
	double one_ms = (double)(time_mono_usec() - o0) / 1e3;
	agent_sim_flush(m);

	printf("agents %-6llu apps %-5llu tasks %-8llu | placed in %7.2f s (%7.0f placements/s, "
	       "%llu passes, longest %6.1f ms (CPU %6.1f ms), longest update flush %6.1f ms) | pass, no change: %5.2f ms, every app looked at: "
	       "%6.2f ms, placing one task per app: %6.2f ms | RSS: empty %5.1f MiB, agents+apps %6.1f MiB, placed %7.1f MiB "
	       "(%.2f KiB/task)\n",
	       (unsigned long long)agents, (unsigned long long)apps, (unsigned long long)target,
	       place_s, (double)target / place_s, (unsigned long long)passes,
	       (double)pass_max / 1e3, (double)cpu_max / 1e3, (double)flush_max / 1e3, idle_ms, full_ms, one_ms, rss0 / 1024.0, rss_agents / 1024.0,
	       rss_placed / 1024.0, target ? (double)(rss_placed - rss_agents) / (double)target : 0);
	fflush(stdout);
	/* Leave without freeing a million instances one by one; remove the store. */
	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench-alloc: could not remove '%s'\n", dir);
	free(cmd);
	_exit(0);
}
