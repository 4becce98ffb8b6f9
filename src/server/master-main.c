/* `berth master`: the master's flags, declared once (berth dev reuses some), and the process
 * around a struct server: parse, run until SIGTERM/SIGINT, stop. */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>

#include "base/flags.h"
#include "base/log.h"
#include "base/mem.h"
#include "net/loop.h"
#include "server/server.h"

static const struct flag_spec specs[] = {
	{ .name = "http", .kind = FLAG_HOSTPORT, .off = offsetof(struct master_config, http_addr),
	  .off_port = offsetof(struct master_config, http_port), .def = "127.0.0.1:5050",
	  .metavar = "ADDR:PORT", .help = "where the master serves its HTTP APIs" },
	{ .name = "store", .kind = FLAG_STRING, .off = offsetof(struct master_config, store_url),
	  .def = "sqlite:./berth-master/state.db", .metavar = "sqlite:PATH",
	  .help = "state store" },
	{ .name = "agent-timeout", .kind = FLAG_SECONDS,
	  .off = offsetof(struct master_config, agent_timeout_sec), .max = 86400,
	  .metavar = "SECONDS",
	  .help = "seconds without heartbeat before an agent is unreachable and\n"
		  "its tasks are replaced (default 15)" },
	{ .name = "hostname", .kind = FLAG_STRING, .off = offsetof(struct master_config, hostname),
	  .metavar = "NAME", .help = "name advertised as the leader (default: the machine's)" },
	{ .name = "dns", .kind = FLAG_HOSTPORT, .off = offsetof(struct master_config, dns_addr),
	  .off_port = offsetof(struct master_config, dns_port), .metavar = "ADDR:PORT",
	  .help = "serve Mesos-DNS's names over UDP and TCP there (default off;\n"
		  "berth dev: 127.0.0.1:8053)" },
	{ .name = "dns-domain", .kind = FLAG_STRING,
	  .off = offsetof(struct master_config, dns_domain), .def = "mesos", .metavar = "DOMAIN",
	  .help = "the DNS domain of the tasks' names" },
	{ .name = "dns-resolvers", .kind = FLAG_STRING,
	  .off = offsetof(struct master_config, dns_resolvers), .metavar = "IP[:PORT],...",
	  .help = "where to forward names outside the domain (default: none,\n"
		  "such queries are REFUSED)" },
	{ .name = "dns-ttl", .kind = FLAG_SECONDS, .off = offsetof(struct master_config, dns_ttl_sec),
	  .def = "60", .max = 86400, .metavar = "SECONDS", .help = "the TTL of the DNS answers" },
};

const struct flag_table master_flags = { specs, ARRAY_SIZE(specs) };

int master_main(int argc, char **argv)
{
	struct master_config cfg = { 0 };
	_cleanup_flags_ struct flags fl = FLAGS_INIT;
	const struct flag_set set = { .table = &master_flags, .cfg = &cfg };
	const struct flag_cmd cmd = { .name = "master", .sets = &set, .nsets = 1 };
	int r = flags_parse(&fl, &cmd, argc, argv);
	if (r)
		return r == FLAGS_HELP ? 0 : 2;
	signal(SIGPIPE, SIG_IGN);
	struct event_base *base = event_base_new();
	struct server *m;
	if (server_new(base, &cfg, &m) < 0) {
		event_base_free(base);
		return 1;
	}
	fprintf(stderr, "berth master ready: http://%s:%u\n", cfg.http_addr,
		(unsigned)server_port(m));
	r = loop_run_until_signal(base, "master");
	server_free(m);
	event_base_free(base);
	log_info("master", "stopped");
	return r < 0 ? 1 : 0;
}
