/* `berth master`: the master's flags, declared once (berth dev reuses some), and the process
 * around a struct server: parse, run until SIGTERM/SIGINT, stop. */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/flags.h"
#include "base/log.h"
#include "base/mem.h"
#include "auth/auth.h"
#include "net/http.h"
#include "base/util.h"
#include "net/loop.h"
#include "server/leader.h"
#include "server/plain-http.h"
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
	{ .name = "services-watch-buffer", .kind = FLAG_STRING,
	  .off = offsetof(struct master_config, svc_watch_buffer), .metavar = "BYTES",
	  .help = "unread bytes after which a /v2/services watcher is cut off\n"
		  "(default 262144)" },
	{ .name = "max-app-instances", .kind = FLAG_COUNT,
	  .off = offsetof(struct master_config, max_app_instances), .def = "1000000",
	  .max = 1000000, .metavar = "N",
	  .help = "the most instances an app may have: a create or update asking\n"
		  "for more is refused with 422" },
	{ .name = "hook-task-launch", .kind = FLAG_STRING,
	  .off = offsetof(struct master_config, hook_task_launch), .metavar = "PATH",
	  .help = "run before each v1 framework task's LAUNCH with a JSON document\n"
		  "on stdin; may decorate it or veto it (docs/hooks.md)" },
	{ .name = "hook-task-end", .kind = FLAG_STRING,
	  .off = offsetof(struct master_config, hook_task_end), .metavar = "PATH",
	  .help = "run when a v1 framework task ends, with a JSON document on stdin" },
	{ .name = "hook-timeout", .kind = FLAG_SECONDS,
	  .off = offsetof(struct master_config, hook_timeout_sec), .max = 3600,
	  .metavar = "SECONDS", .help = "bound on each hook run (default 10)" },
	{ .name = "zk-session-timeout", .kind = FLAG_SECONDS,
	  .off = offsetof(struct master_config, zk_session_timeout_sec), .max = 600,
	  .metavar = "SECONDS", .help = "ZooKeeper session timeout for a zk:// store (default 10)" },
	{ .name = "zk-auth", .kind = FLAG_STRING, .off = offsetof(struct master_config, zk_auth),
	  .metavar = "USER:PASS",
	  .help = "digest credentials for a zk:// store; berth's znodes are then\n"
		  "writable by these credentials only (readable by all)" },
	{ .name = "external-log-file", .kind = FLAG_STRING,
	  .off = offsetof(struct master_config, external_log_file), .metavar = "PATH",
	  .help = "a log file berth does not write (its stderr, redirected):\n"
		  "served as /master/log by the operator API's LIST_FILES and\n"
		  "READ_FILE, as Mesos's --external_log_file" },
};

const struct flag_table master_flags = { specs, ARRAY_SIZE(specs) };

int master_main(int argc, char **argv)
{
	struct master_config cfg = { 0 };
	_cleanup_flags_ struct flags fl = FLAGS_INIT;
	struct auth_config acfg = { 0 };
	const struct flag_set set[] = { { .table = &master_flags, .cfg = &cfg },
					{ .table = &auth_flags, .cfg = &acfg } };
	const struct flag_cmd cmd = { .name = "master", .sets = set, .nsets = ARRAY_SIZE(set) };
	int r = flags_parse(&fl, &cmd, argc, argv);
	if (r)
		return r == FLAGS_HELP ? 0 : 2;
	if (!acfg.tls_cert != !acfg.tls_key || (acfg.tls_ca && !acfg.tls_cert)) {
		fprintf(stderr, "berth master: --tls-cert and --tls-key go together (and --tls-ca "
				"wants them)\n");
		return 2;
	}
	bool refuse_plain = acfg.http_plain_action && !strcmp(acfg.http_plain_action, "refuse");
	if (acfg.http_plain_action && !refuse_plain && strcmp(acfg.http_plain_action, "redirect")) {
		fprintf(stderr, "berth master: bad --http-plain-action '%s' (want redirect or "
				"refuse)\n", acfg.http_plain_action);
		return 2;
	}
	if ((acfg.http_plain_addr || acfg.http_plain_action) && !acfg.tls_cert) {
		fprintf(stderr, "berth master: --http-plain and --http-plain-action want "
				"--tls-cert (without TLS, --http serves plain HTTP)\n");
		return 2;
	}
	struct http_limits lim = { HTTP_DEFAULT_MAX_CONNECTIONS, HTTP_DEFAULT_MAX_PER_CLIENT,
				   HTTP_DEFAULT_REQUEST_TIMEOUT_SEC };
	uint64_t v;
	if (acfg.request_timeout_sec > 0)
		lim.request_timeout_sec = (unsigned)(acfg.request_timeout_sec + 0.999);
	if (acfg.max_connections) {
		if (parse_u64(acfg.max_connections, &v) < 0 || v == 0 || v > 1000000) {
			fprintf(stderr, "berth master: bad --http-max-connections '%s' (want 1 to "
					"1000000)\n", acfg.max_connections);
			return 2;
		}
		lim.max_total = (unsigned)v;
	}
	if (acfg.max_connections_per_client) {
		if (parse_u64(acfg.max_connections_per_client, &v) < 0 || v == 0 || v > 1000000) {
			fprintf(stderr, "berth master: bad --http-max-connections-per-client '%s' "
					"(want 1 to 1000000)\n", acfg.max_connections_per_client);
			return 2;
		}
		lim.max_per_client = (unsigned)v;
	}
	unsigned streams = 64;
	if (acfg.streams_per_principal) {
		if (parse_u64(acfg.streams_per_principal, &v) < 0 || v == 0 || v > 100000) {
			fprintf(stderr, "berth master: bad --max-streams-per-principal '%s' (want 1 "
					"to 100000)\n", acfg.streams_per_principal);
			return 2;
		}
		streams = (unsigned)v;
	}
	if (acfg.max_stream_backlog) {
		if (parse_u64(acfg.max_stream_backlog, &v) < 0 || v == 0 || v > 1048576) {
			fprintf(stderr, "berth master: bad --http-max-stream-backlog '%s' (want 1 "
					"to 1048576 MiB)\n", acfg.max_stream_backlog);
			return 2;
		}
		http_stream_set_budget((size_t)v * 1024 * 1024);
	}
	signal(SIGPIPE, SIG_IGN);
	struct event_base *base = event_base_new();
	struct http_tls *tls = NULL, *tls_client = NULL;
	if (acfg.tls_cert) {
		char err[512];
		/* the server's, and the client's for agents serving HTTPS and for a standby
		 * proxying to the leader: the same certificate (agents and masters with --tls-ca
		 * check it), peers verified against --tls-ca (default: the system's CAs). Made
		 * before the election, so a standby serves and proxies over TLS too. */
		if (http_tls_new(acfg.tls_cert, acfg.tls_key, acfg.tls_ca, &tls, err,
				 sizeof(err)) < 0 ||
		    http_tls_client_new(acfg.tls_ca, acfg.tls_cert, acfg.tls_key, &tls_client, err,
					sizeof(err)) < 0) {
			log_error("master", "%s", err);
			http_tls_free(tls);
			event_base_free(base);
			return 1;
		}
		cfg.https = true;
	}
	/* A zk:// store: several masters, one elected (leader.h); a standby waits here. */
	struct leader *el = NULL;
	if (cfg.store_url && str_has_prefix(cfg.store_url, "zk://")) {
		r = leader_join(base, &cfg, tls, tls_client, &lim, &el);
		if (r >= 0)
			r = leader_wait(el, &cfg.http_port);
		/* Every write of the store then requires our election znode (leader.h). */
		if (r > 0)
			cfg.zk_fence = leader_znode(el);
		if (r <= 0) {
			leader_free(el);
			http_tls_free(tls);
			http_tls_free(tls_client);
			event_base_free(base);
			return r < 0 ? 1 : 0;
		}
	}
	struct server *m;
	struct auth *auth = NULL;
	if (auth_new(&acfg, &auth) < 0 || (auth && auth_watch_sighup(auth, base) < 0) ||
	    server_new(base, &cfg, &m) < 0) {
		auth_free(auth);
		http_tls_free(tls);
		http_tls_free(tls_client);
		leader_free(el);
		event_base_free(base);
		return 1;
	}
	server_set_auth(m, auth);
	server_set_limits(m, &lim);
	server_set_stream_limit(m, streams);
	if (tls) {
		server_set_tls(m, tls);
		server_set_agent_tls(m, tls_client);
		server_set_agent_tls_files(m, acfg.tls_ca, acfg.tls_cert, acfg.tls_key);
	}
	struct plain_http *plain = NULL;
	if (acfg.http_plain_addr) {
		const struct plain_http_config pc = {
			.addr = acfg.http_plain_addr, .port = acfg.http_plain_port,
			.refuse = refuse_plain, .https_port = server_port(m),
			.hostname = cfg.hostname, .limits = &lim };
		r = plain_http_new(base, &pc, &plain);
		if (r < 0) {
			log_error("master", "cannot listen for plain HTTP on %s:%u: %s",
				  acfg.http_plain_addr, (unsigned)acfg.http_plain_port, strerror(-r));
			server_free(m);
			auth_free(auth);
			http_tls_free(tls);
			http_tls_free(tls_client);
			leader_free(el);
			event_base_free(base);
			return 1;
		}
		log_info("master", "plain HTTP on %s:%u: %s to HTTPS", acfg.http_plain_addr,
			 (unsigned)plain_http_port(plain), refuse_plain ? "refused" : "redirected");
	}
	fprintf(stderr, "berth master ready: %s://%s:%u\n", tls ? "https" : "http", cfg.http_addr,
		(unsigned)server_port(m));
	r = loop_run_until_signal(base, "master");
	plain_http_free(plain);
	server_free(m);
	auth_free(auth);
	http_tls_free(tls);
	http_tls_free(tls_client);
	leader_free(el);
	event_base_free(base);
	log_info("master", "stopped");
	return r < 0 ? 1 : 0;
}
