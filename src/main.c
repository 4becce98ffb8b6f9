/* berth: subcommand dispatch (DESIGN.md §9), and `berth dev`, which runs a master and one
 * agent on one event loop. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <event2/event.h>

#include "agent/agent.h"
#include "base/flags.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "cli/cli.h"
#include "server/server.h"
#include "volplugin/volplugin.h"

static void usage(FILE *f)
{
	fputs("usage: berth <command> [options]\n"
	      "\n"
	      "Daemons:\n"
	      "  master   run the control plane (all HTTP APIs)      berth master --help\n"
	      "  agent    run tasks on this machine                  berth agent --help\n"
	      "  dev      a master and one agent in one process      berth dev --help\n"
	      "  volume-plugin  the built-in 'local' volume driver   berth volume-plugin --help\n"
	      "\n"
	      "Client (talks to $BERTH_MASTER, default http://127.0.0.1:5050):\n"
	      "  app         add, list, show, scale, restart, update, remove\n"
	      "  task        list, kill\n"
	      "  deployment  list, rollback\n"
	      "  node        list\n"
	      "  framework   list\n"
	      "  volume      list\n"
	      "  logs        print a task's stdout or stderr\n"
	      "  events      follow the event stream\n"
	      "\n"
	      "See 'berth help' for the client commands in full.\n",
	      f);
}

static void on_signal(evutil_socket_t sig, short what, void *ctx)
{
	log_info("dev", "received %s, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	event_base_loopexit(ctx, NULL);
}

static void dev_usage(FILE *f)
{
	fputs("usage: berth dev [--data-dir DIR] [--http ADDR:PORT] [--agent-http ADDR:PORT]\n"
	      "                 [--agent-resources STR] [--agent-attributes STR]\n"
	      "  --data-dir          state and task sandboxes (default ./berth-data)\n"
	      "  --http              master API (default 127.0.0.1:5050)\n"
	      "  --agent-http        the agent's own HTTP server (default 127.0.0.1:5051)\n"
	      "  --agent-resources   the agent's resources, Mesos syntax (default: measured)\n"
	      "  --agent-attributes  the agent's attributes, e.g. 'rack:1;zone:a'\n"
	      "  --agent-timeout     seconds before a silent agent is unreachable (default 15)\n",
	      f);
}

static int dev_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data-dir", required_argument, NULL, 'd' },
		{ "http", required_argument, NULL, 'h' },
		{ "agent-http", required_argument, NULL, 'a' },
		{ "agent-resources", required_argument, NULL, 'r' },
		{ "agent-attributes", required_argument, NULL, 't' },
		{ "agent-timeout", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	const char *data = "./berth-data";
	_cleanup_free_ char *mhost = NULL, *ahost = NULL;
	struct master_config mc = { .http_addr = "127.0.0.1", .http_port = 5050 };
	struct agent_config ac = { .http_addr = "127.0.0.1", .http_port = 5051 };
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			data = optarg;
			break;
		case 'h':
			if (flag_hostport("dev", "http", optarg, &mhost, &mc.http_port) < 0)
				return 2;
			mc.http_addr = mhost;
			break;
		case 'a':
			if (flag_hostport("dev", "agent-http", optarg, &ahost, &ac.http_port) < 0)
				return 2;
			ac.http_addr = ahost;
			break;
		case 'r':
			ac.resources = optarg;
			break;
		case 't':
			ac.attributes = optarg;
			break;
		case 'o':
			if (flag_seconds("dev", "agent-timeout", optarg, 86400, &mc.agent_timeout_sec) < 0)
				return 2;
			break;
		case 'H':
			dev_usage(stdout);
			return 0;
		default:
			dev_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "berth dev: unexpected argument '%s'\n", argv[optind]);
		dev_usage(stderr);
		return 2;
	}
	if (mkdir(data, 0755) == -1 && errno != EEXIST) {
		fprintf(stderr, "berth dev: cannot create '%s': %s\n", data, strerror(errno));
		return 1;
	}
	char abs[PATH_MAX];
	if (!realpath(data, abs)) {
		fprintf(stderr, "berth dev: '%s': %s\n", data, strerror(errno));
		return 1;
	}
	_cleanup_free_ char *store = xasprintf("sqlite:%s/master/state.db", abs);
	_cleanup_free_ char *work = xasprintf("%s/agent", abs);
	_cleanup_free_ char *plugins = xasprintf("%s/plugins", abs);
	_cleanup_free_ char *local_root = xasprintf("%s/local-volumes", abs);
	_cleanup_free_ char *local_sock = xasprintf("%s/plugins/local.sock", abs);
	mc.store_url = store;
	ac.work_dir = work;
	ac.volume_plugin_dir = plugins;
	if (mkdir(plugins, 0700) == -1 && errno != EEXIST) {
		fprintf(stderr, "berth dev: cannot create '%s': %s\n", plugins, strerror(errno));
		return 1;
	}

	signal(SIGPIPE, SIG_IGN);
	struct event_base *base = event_base_new();
	struct server *m;
	if (server_new(base, &mc, &m) < 0) {
		event_base_free(base);
		return 1;
	}
	/* The built-in 'local' volume driver, so external volumes work out of the box. */
	struct volplugin *vp = NULL;
	struct volplugin_server *vps = NULL;
	int vr = volplugin_new(local_root, &vp);
	if (vr >= 0)
		vr = volplugin_serve(vp, base, local_sock, &vps);
	if (vr < 0)
		log_warn("dev", "the built-in 'local' volume driver is not available: %s",
			 strerror(-vr));
	_cleanup_free_ char *url = xasprintf("http://%s:%u", mc.http_addr, server_port(m));
	ac.master_url = url;
	struct agent *a;
	if (agent_new(base, &ac, &a) < 0) {
		volplugin_server_free(vps);
		volplugin_free(vp);
		server_free(m);
		event_base_free(base);
		return 1;
	}
	struct event *s1 = evsignal_new(base, SIGTERM, on_signal, base);
	struct event *s2 = evsignal_new(base, SIGINT, on_signal, base);
	event_add(s1, NULL);
	event_add(s2, NULL);
	fprintf(stderr, "berth dev ready: API at %s (agent at http://%s:%u, data in %s)\n", url,
		ac.http_addr, agent_http_port(a), abs);
	event_base_dispatch(base);
	event_free(s1);
	event_free(s2);
	agent_free(a);
	volplugin_server_free(vps);
	volplugin_free(vp);
	server_free(m);
	event_base_free(base);
	log_info("dev", "stopped");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "master"))
		return master_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "agent"))
		return agent_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "dev"))
		return dev_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "volume-plugin"))
		return volplugin_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
		puts("berth 0.1.0");
		return 0;
	}
	return cli_main(argc, argv);
}
