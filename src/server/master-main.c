/* `berth master`: the master's flags, declared once (berth dev reuses some), and the process
 * around a struct server: parse, run until SIGTERM/SIGINT, stop. */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>

#include "base/flags.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "net/loop.h"
#include "server/leader.h"
#include "server/server.h"

static const struct flag_spec specs[] = {
	{ .name = "http", .kind = FLAG_HOSTPORT, .off = offsetof(struct master_config, http_addr),
	  .off_port = offsetof(struct master_config, http_port), .def = "127.0.0.1:5050",
	  .metavar = "ADDR:PORT", .help = "where the master serves its HTTP APIs" },
	{ .name = "store", .kind = FLAG_STRING, .off = offsetof(struct master_config, store_url),
	  .def = "sqlite:./berth-master/state.db", .metavar = "URL",
	  .help = "state store: sqlite:PATH, or zk://HOST:PORT[,HOST:PORT...]/PATH\n"
		  "(ZooKeeper; see docs/operations.md, High availability)" },
	{ .name = "agent-timeout", .kind = FLAG_SECONDS,
	  .off = offsetof(struct master_config, agent_timeout_sec), .max = 86400,
	  .metavar = "SECONDS",
	  .help = "seconds without heartbeat before an agent is unreachable and\n"
		  "its tasks are replaced (default 15)" },
	{ .name = "hostname", .kind = FLAG_STRING, .off = offsetof(struct master_config, hostname),
	  .metavar = "NAME", .help = "name advertised as the leader (default: the machine's)" },
	{ .name = "zk-session-timeout", .kind = FLAG_SECONDS,
	  .off = offsetof(struct master_config, zk_session_timeout_sec), .max = 600,
	  .metavar = "SECONDS", .help = "ZooKeeper session timeout for a zk:// store (default 10)" },
	{ .name = "zk-auth", .kind = FLAG_STRING, .off = offsetof(struct master_config, zk_auth),
	  .metavar = "USER:PASS",
	  .help = "digest credentials for a zk:// store; berth's znodes are then\n"
		  "writable by these credentials only (readable by all)" },
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
	/* A zk:// store: several masters, one elected (leader.h); a standby waits here. */
	struct leader *el = NULL;
	if (cfg.store_url && str_has_prefix(cfg.store_url, "zk://")) {
		r = leader_join(base, &cfg, &el);
		if (r >= 0)
			r = leader_wait(el, &cfg.http_port);
		/* Every write of the store then requires our election znode (leader.h). */
		if (r > 0)
			cfg.zk_fence = leader_znode(el);
		if (r <= 0) {
			leader_free(el);
			event_base_free(base);
			return r < 0 ? 1 : 0;
		}
	}
	struct server *m;
	if (server_new(base, &cfg, &m) < 0) {
		leader_free(el);
		event_base_free(base);
		return 1;
	}
	fprintf(stderr, "berth master ready: http://%s:%u\n", cfg.http_addr,
		(unsigned)server_port(m));
	r = loop_run_until_signal(base, "master");
	server_free(m);
	leader_free(el);
	event_base_free(base);
	log_info("master", "stopped");
	return r < 0 ? 1 : 0;
}
