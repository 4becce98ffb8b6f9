/* The master: cluster state, the apps framework and every HTTP API on one port. */
#pragma once
#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

struct master_config {
	const char *http_addr;
	uint16_t http_port;
	const char *store_url;
	double agent_timeout_sec;
	double heartbeat_sec;
	size_t max_body;
	const char *hostname;      /* advertised in /v2/info, /v2/leader */
};

#define MASTER_DEFAULT_MAX_BODY (1024 * 1024)

struct master;

/* Opens the store, loads the state and starts listening. Returns 0 and *out, or -errno
 * (the reason is logged). cfg's strings are copied. */
int master_new(struct event_base *base, const struct master_config *cfg, struct master **out);
void master_free(struct master *m); /* accepts NULL */
/* The port the HTTP server listens on. */
uint16_t master_port(const struct master *m);

struct flag_table;
/* The flags of `berth master` (base/flags.h), writing into a struct master_config: --http,
 * --store, --agent-timeout, --hostname. `berth dev` takes --http and --agent-timeout. */
extern const struct flag_table master_flags;
/* `berth master …`: parses master_flags, runs until SIGTERM/SIGINT, returns the exit code
 * (0, 1 on a failure to start, 2 on a usage error). */
int master_main(int argc, char **argv);
