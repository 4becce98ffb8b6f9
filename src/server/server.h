/* The master process: the resource manager (src/master) with the frameworks built into it
 * (src/apps), every HTTP API on one port through one route table, the tick and the metrics. */
#pragma once
#include <event2/event.h>
#include <stdint.h>

#include "master/rm.h" /* struct master_config */

struct server;

/* Opens the store, loads the state, registers the built-in frameworks and starts listening.
 * Returns 0 and *out, or -errno (the reason is logged). cfg's strings are copied. */
int server_new(struct event_base *base, const struct master_config *cfg, struct server **out);
void server_free(struct server *s); /* accepts NULL */
/* The port the HTTP server listens on. */
uint16_t server_port(const struct server *s);
struct auth;
struct http_tls;
/* The listener speaks only TLS with t (borrowed; must outlive s) from now on. */
void server_set_tls(struct server *s, struct http_tls *t);
/* The client context the master reaches HTTPS agents with (borrowed, outlives s). */
void server_set_agent_tls(struct server *s, struct http_tls *client);
/* The same TLS setup as PEM files (for the autoscaler's calls to HTTPS agents, made with
 * libcurl): apps_set_agent_tls. */
void server_set_agent_tls_files(struct server *s, const char *ca, const char *cert,
				const char *key);
/* Connection caps and the slowloris timeout on the API listener (net/http.h). */
struct http_limits;
void server_set_limits(struct server *s, const struct http_limits *lim);
/* At most n event streams (/v2/events, operator SUBSCRIBE, each) per principal. */
void server_set_stream_limit(struct server *s, unsigned n);
/* Every request then passes auth's check (src/auth) before its route; auth is borrowed and
 * must outlive s. NULL: none. */
void server_set_auth(struct server *s, struct auth *auth);
struct flag_table;
/* The flags of `berth master` (base/flags.h), writing into a struct master_config: --http,
 * --store, --agent-timeout, --hostname, --zk-session-timeout, --zk-auth. `berth dev` takes --http and --agent-timeout. */
extern const struct flag_table master_flags;
/* `berth master …`: parses master_flags, runs until SIGTERM/SIGINT, returns the exit code
 * (0, 1 on a failure to start, 2 on a usage error). */
int master_main(int argc, char **argv);
