/* bench/dns: the master's DNS server over a real apps framework whose agents are simulated
 * (as bench/alloc): APPS apps of one task with one host port each run on AGENTS simulated
 * agents (addresses 127.0.x.y); the real DNS module serves their names on 127.0.0.1:PORT.
 *
 * Writes into DIR: zone (the same names as an RFC 1035 zone file, for NSD), queries (a
 * dnsperf data file: each app's A and SRV name), then prints "ready" and serves until
 * SIGTERM. SIGUSR1 starts replacing tasks (CHURN per second, round robin over the apps:
 * each kill is answered TASK_KILLED by the simulated agent and the framework launches a
 * replacement); SIGUSR2 stops, printing how many were replaced, and how many ended tasks
 * were checked right after their end was applied and found still in the records (0 is
 * the invariant).
 *
 * usage: bench-dns-sim DIR PORT [APPS [CHURN]]   (defaults 1000, 1000) */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/agent-sim.h"
#include "apps/apps-int.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "dns/dns-int.h"
#include "master/master-int.h"

#define AGENTS 10

static struct master *M;
static struct apps *AP;
static struct dns *D;
static unsigned churn_per_sec;
static bool churning;
static uint64_t replaced, churn_next, ended_checked, stale;
static size_t churn_cursor;

/* Delivers the updates the agents owe; then checks that no task whose end was just applied
 * is still in the DNS records (the invariant the churn run relies on: an ended task leaves
 * the answers in the same loop turn as its status update, not 100 ms later). */
static size_t flush(void)
{
	json_t *all = agent_sim_take();
	agent_sim_queue(M, all);
	size_t n = updates_flush(M);
	const char *id;
	json_t *ups;
	json_object_foreach(all, id, ups) {
		size_t i;
		json_t *u;
		json_array_foreach(ups, i, u) {
			if (strcmp(json_string_value(json_object_get(u, "state")), "TASK_KILLED"))
				continue;
			ended_checked++;
			stale += dns_zone_has_owner(&D->zone,
						    json_string_value(json_object_get(u, "task_id")));
		}
	}
	json_decref(all);
	return n;
}

static size_t running(void)
{
	size_t n = 0;
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&AP->apps, &i, &k, &v);) {
		struct m_app *ma = v;
		for (size_t j = 0; j < ma->ninst; j++)
			n += ma->inst[j]->phase == INST_LIVE &&
			     !strcmp(ma->inst[j]->state, "TASK_RUNNING");
	}
	return n;
}

static void add_app(unsigned i)
{
	char id[64];
	snprintf(id, sizeof(id), "/bench/app%u", i);
	json_t *j = json_pack("{s:s, s:s, s:f, s:f, s:i, s:[{s:i}]}", "id", id, "cmd",
			      "sleep 3600", "cpus", 0.001, "mem", 1.0, "instances", 1,
			      "portDefinitions", "port", 0);
	struct verr err = VERR_INIT;
	struct app *def;
	if (app_parse(j, "/", &err, &def) < 0) {
		fprintf(stderr, "bench-dns-sim: %s\n", verr_first(&err));
		exit(1);
	}
	json_decref(j);
	app_set_version(def, time_real_usec(), true, NULL);
	struct m_app *ma = xcalloc(1, sizeof(*ma));
	ma->def = def;
	ma->versions = json_array();
	snprintf(ma->config_version, sizeof(ma->config_version), "%s", def->version);
	hmap_put(&AP->apps, def->id, ma);
}

/* The zone file and the dnsperf queries, from the DNS module's own records. */
static void write_files(const char *dir)
{
	char *zp = xasprintf("%s/zone", dir), *qp = xasprintf("%s/queries", dir);
	FILE *z = fopen(zp, "we"), *q = fopen(qp, "we");
	if (!z || !q) {
		fprintf(stderr, "bench-dns-sim: cannot write into '%s'\n", dir);
		exit(1);
	}
	fprintf(z, "$ORIGIN mesos.\n$TTL 60\n@ IN SOA ns1.mesos. root.ns1.mesos. 1 60 600 86400 60\n"
		   "@ IN NS ns1.mesos.\nns1 IN A 127.0.0.1\n");
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&D->zone.names, &i, &k, &v);) {
		const struct dz_name *n = v;
		if (!strcmp(k, "ns1.mesos."))
			continue;
		for (size_t j = 0; j < n->na; j++) {
			char ip[INET_ADDRSTRLEN];
			struct in_addr a = { n->a[j].ip };
			fprintf(z, "%s IN A %s\n", k, inet_ntop(AF_INET, &a, ip, sizeof(ip)));
		}
		for (size_t j = 0; j < n->nsrv; j++)
			fprintf(z, "%s IN SRV 0 1 %u %s\n", k, (unsigned)n->srv[j].port,
				n->srv[j].target);
	}
	unsigned napps = (unsigned)hmap_len(&AP->apps);
	for (unsigned i = 0; i < napps; i++)
		fprintf(q, "app%u-bench.marathon.mesos A\n_app%u-bench._tcp.marathon.mesos SRV\n", i,
			i);
	fclose(z);
	fclose(q);
	free(zp);
	free(qp);
}

static void on_signal(evutil_socket_t sig, short what, void *ctx)
{
	(void)what;
	(void)ctx;
	if (sig == SIGUSR1) {
		churning = true;
		replaced = 0;
		churn_next = time_mono_usec();
	} else if (sig == SIGUSR2) {
		churning = false;
		printf("replaced %llu ended-checked %llu still-answered %llu\n",
		       (unsigned long long)replaced, (unsigned long long)ended_checked,
		       (unsigned long long)stale);
		fflush(stdout);
	} else {
		event_base_loopbreak(rm_base(M));
	}
}

/* Every millisecond: the simulated agents answer, and while churning the next tasks are
 * killed (their replacements are launched by the framework's pass). */
static void on_tick(evutil_socket_t fd, short what, void *ctx)
{
	(void)fd;
	(void)what;
	(void)ctx;
	if (churning) {
		uint64_t now = time_mono_usec();
		size_t napps = hmap_len(&AP->apps);
		while (churn_next <= now) {
			char id[64];
			snprintf(id, sizeof(id), "/bench/app%zu", churn_cursor++ % napps);
			struct m_app *ma = apps_get(AP, id);
			for (size_t j = 0; ma && j < ma->ninst; j++)
				if (ma->inst[j]->phase == INST_LIVE && !ma->inst[j]->kill_sent &&
				    !strcmp(ma->inst[j]->state, "TASK_RUNNING")) {
					apps_kill_instance(AP, ma->inst[j]);
					replaced++;
				}
			churn_next += 1000000 / churn_per_sec;
		}
	}
	if (agent_sim_owing())
		flush();
	static unsigned n;
	if (++n % 250 == 0)
		apps_tick(AP); /* as the server's 250 ms tick */
}

int main(int argc, char **argv)
{
	uint64_t napps = 1000, churn = 1000, port;
	if (argc < 3 || argc > 5 || parse_u64(argv[2], &port) < 0 || port > 65535 ||
	    (argc > 3 && (parse_u64(argv[3], &napps) < 0 || !napps || napps > 100000)) ||
	    (argc > 4 && (parse_u64(argv[4], &churn) < 0 || !churn || churn > 100000))) {
		fprintf(stderr, "usage: bench-dns-sim DIR PORT [APPS [CHURN]]\n");
		return 2;
	}
	churn_per_sec = (unsigned)churn;
	log_set_level(LOG_WARN);
	signal(SIGPIPE, SIG_IGN);
	char *store = xasprintf("sqlite:%s/state.db", argv[1]);
	struct event_base *base = event_base_new();
	struct master_config cfg = { .http_addr = "127.0.0.1", .http_port = 5050,
				     .store_url = store, .agent_timeout_sec = 3600,
				     .dns_addr = "127.0.0.1", .dns_port = (uint16_t)port,
				     .dns_domain = "mesos", .dns_ttl_sec = 60 };
	if (rm_new(base, &cfg, &M) < 0 || apps_new(M, &AP) < 0 || rm_start(M) < 0 ||
	    dns_new(M, &cfg, &D) < 0)
		return 1;
	agent_sim_init();
	char err[256];
	for (unsigned i = 0; i < AGENTS; i++) {
		char id[32], host[32], http[48];
		snprintf(id, sizeof(id), "sim-agent-S%u", i);
		snprintf(host, sizeof(host), "node%u", i);
		snprintf(http, sizeof(http), "127.0.1.%u:5051", i + 1);
		struct m_agent *a = registry_add_sim_agent(
			M, id, host, http,
			"cpus(*):64; mem(*):262144; disk(*):100000; ports(*):[20000-30000]", "",
			agent_sim_send, NULL, err, sizeof(err));
		if (!a) {
			fprintf(stderr, "bench-dns-sim: %s\n", err);
			return 1;
		}
		a->last_seen_usec = time_mono_usec() + 3600ull * 1000000;
	}
	for (unsigned i = 0; i < napps; i++)
		add_app(i);
	for (unsigned passes = 0; running() < napps && passes < 10000; passes++) {
		apps_run_pass(AP);
		flush();
	}
	apps_run_pass(AP);
	flush();
	if (running() < napps) {
		fprintf(stderr, "bench-dns-sim: only %zu of %llu tasks run\n", running(),
			(unsigned long long)napps);
		return 1;
	}
	write_files(argv[1]);
	struct event *tick = event_new(base, -1, EV_PERSIST, on_tick, NULL);
	struct timeval ms = { 0, 1000 };
	event_add(tick, &ms);
	int sigs[] = { SIGUSR1, SIGUSR2, SIGTERM, SIGINT };
	struct event *sev[4];
	for (int i = 0; i < 4; i++) {
		sev[i] = evsignal_new(base, sigs[i], on_signal, NULL);
		event_add(sev[i], NULL);
	}
	printf("ready %zu tasks, %llu records\n", running(), (unsigned long long)D->zone.nrecords);
	fflush(stdout);
	event_base_dispatch(base);
	_exit(0);
}
