/* bench/console: the whole master (src/server: every HTTP API, the console's assets, the
 * apps framework) whose agents are simulated (bench/common/agent-sim.c), so that the
 * console can be measured with thousands of RUNNING tasks on a small machine: the agents
 * launch nothing, and the TASK_RUNNING (or TASK_KILLED) each LAUNCH (or KILL) owes is
 * delivered every millisecond through the master's real update path and group commit.
 *
 * Prints "ready PORT" once serving on 127.0.0.1:PORT, then serves until SIGTERM.
 *
 * usage: bench-console-sim DIR [PORT [AGENTS]]   (defaults 0: any free port, 20 agents) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "../common/agent-sim.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "master/master-int.h"
#include "net/loop.h"
#include "server/server-int.h"

static struct master *M;

static void on_tick(evutil_socket_t fd, short what, void *ctx)
{
	(void)fd;
	(void)what;
	(void)ctx;
	if (agent_sim_owing())
		agent_sim_flush(M);
	/* Simulated agents have no heartbeat: keep them seen. */
	const char *k;
	void *v;
	uint64_t now = time_mono_usec();
	for (size_t i = 0; hmap_next(rm_agents(M), &i, &k, &v);)
		((struct m_agent *)v)->last_seen_usec = now;
}

int main(int argc, char **argv)
{
	uint64_t port = 0, nagents = 20;
	if (argc < 2 || argc > 4 || (argc > 2 && (parse_u64(argv[2], &port) < 0 || port > 65535)) ||
	    (argc > 3 && (parse_u64(argv[3], &nagents) < 0 || !nagents || nagents > 250))) {
		fprintf(stderr, "usage: bench-console-sim DIR [PORT [AGENTS]]\n");
		return 2;
	}
	log_set_level(LOG_WARN);
	signal(SIGPIPE, SIG_IGN);
	char *store = xasprintf("sqlite:%s/state.db", argv[1]);
	struct event_base *base = event_base_new();
	struct master_config cfg = { .http_addr = "127.0.0.1", .http_port = (uint16_t)port,
				     .store_url = store, .agent_timeout_sec = 3600,
				     .heartbeat_sec = 15, .hostname = "127.0.0.1" };
	struct server *s;
	if (server_new(base, &cfg, &s) < 0)
		return 1;
	M = s->rm;
	agent_sim_init();
	char err[256];
	for (unsigned i = 0; i < nagents; i++) {
		char id[32], host[32], http[48];
		snprintf(id, sizeof(id), "sim-agent-S%u", i);
		snprintf(host, sizeof(host), "node%u", i);
		snprintf(http, sizeof(http), "127.0.1.%u:5051", i + 1);
		if (!registry_add_sim_agent(M, id, host, http,
					    "cpus(*):64; mem(*):262144; disk(*):100000; "
					    "ports(*):[20000-30000]",
					    "", agent_sim_send, NULL, err, sizeof(err))) {
			fprintf(stderr, "bench-console-sim: %s\n", err);
			return 1;
		}
	}
	rm_wake_all(M);
	struct event *tick = event_new(base, -1, EV_PERSIST, on_tick, NULL);
	struct timeval ms = { 0, 1000 };
	event_add(tick, &ms);
	printf("ready %u\n", (unsigned)server_port(s));
	fflush(stdout);
	int r = loop_run_until_signal(base, "bench-console-sim");
	printf("rss %ld KiB\n", bench_rss_kib());
	fflush(stdout);
	_exit(r < 0 ? 1 : 0);
}
