/* The master process: the resource manager, the apps framework on it, the HTTP server with
 * the route table (routes.c), the tick. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/flags.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "server/server-int.h"

static void on_request(struct evhttp_request *req, void *ctx)
{
	routes_dispatch(ctx, req);
}

static void on_tick(evutil_socket_t fd, short what, void *ctx)
{
	struct server *s = ctx;
	rm_tick(s->rm);
	apps_tick(s->apps);
}

int server_new(struct event_base *base, const struct master_config *cfg, struct server **out)
{
	routes_init();
	struct server *s = xcalloc(1, sizeof(*s));
	s->base = base;
	s->started_usec = time_real_usec();
	int r = rm_new(base, cfg, &s->rm);
	if (r >= 0)
		r = apps_new(s->rm, &s->apps);
	if (r >= 0)
		r = rm_start(s->rm);
	if (r < 0) {
		server_free(s);
		return r;
	}
	const struct master_config *mc = rm_config(s->rm);
	r = http_server_new(base, mc->http_addr, mc->http_port, mc->max_body, on_request, s,
			    &s->http);
	if (r < 0) {
		log_error("master", "cannot listen on %s:%u: %s", mc->http_addr,
			  (unsigned)mc->http_port, strerror(-r));
		server_free(s);
		return r;
	}
	uint16_t port = http_server_port(s->http);
	rm_set_port(s->rm, port);
	snprintf(s->leader, sizeof(s->leader), "%s:%u", mc->http_addr, (unsigned)port);
	apps_set_leader(s->apps, s->leader, port);
	r = server_metrics_init(s);
	if (r < 0) {
		server_free(s);
		return r;
	}
	s->tick = event_new(base, -1, EV_PERSIST, on_tick, s);
	struct timeval tv = { 0, 250000 };
	event_add(s->tick, &tv);
	log_info("master", "listening on http://%s, store '%s'", s->leader, mc->store_url);
	*out = s;
	return 0;
}

void server_free(struct server *s)
{
	if (!s)
		return;
	if (s->tick)
		event_free(s->tick);
	/* What was read is committed and answered, every stream ends, then the HTTP server
	 * goes; the frameworks give back what they hold before the ledger goes. */
	rm_stop(s->rm);
	apps_stop(s->apps);
	http_server_free(s->http);
	apps_free(s->apps);
	rm_free(s->rm);
	server_metrics_free(s);
	free(s);
}

uint16_t server_port(const struct server *s)
{
	return http_server_port(s->http);
}

static void on_signal(evutil_socket_t sig, short what, void *ctx)
{
	struct event_base *base = ctx;
	log_info("master", "received %s, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	event_base_loopexit(base, NULL);
}

static void usage(FILE *f)
{
	fputs("usage: berth master [--http ADDR:PORT] [--store sqlite:PATH]\n"
	      "                    [--agent-timeout SECONDS] [--hostname NAME]\n"
	      "  --http           listen address (default 127.0.0.1:5050)\n"
	      "  --store          state store (default sqlite:./berth-master/state.db)\n"
	      "  --agent-timeout  seconds without heartbeat before an agent is unreachable and\n"
	      "                   its tasks are replaced (default 15)\n"
	      "  --hostname       name advertised as the leader (default: the machine's)\n",
	      f);
}

int master_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "http", required_argument, NULL, 'h' },
		{ "store", required_argument, NULL, 's' },
		{ "agent-timeout", required_argument, NULL, 't' },
		{ "hostname", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, '?' + 256 },
		{ NULL, 0, NULL, 0 },
	};
	struct master_config cfg = { .http_addr = "127.0.0.1", .http_port = 5050,
				     .store_url = "sqlite:./berth-master/state.db" };
	_cleanup_free_ char *host = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			if (flag_hostport("master", "http", optarg, &host, &cfg.http_port) < 0)
				return 2;
			cfg.http_addr = host;
			break;
		case 's':
			cfg.store_url = optarg;
			break;
		case 't':
			if (flag_seconds("master", "agent-timeout", optarg, 86400,
					 &cfg.agent_timeout_sec) < 0)
				return 2;
			break;
		case 'n':
			cfg.hostname = optarg;
			break;
		case '?' + 256:
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "berth master: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	struct event_base *base = event_base_new();
	struct server *m;
	if (server_new(base, &cfg, &m) < 0) {
		event_base_free(base);
		return 1;
	}
	struct event *s1 = evsignal_new(base, SIGTERM, on_signal, base);
	struct event *s2 = evsignal_new(base, SIGINT, on_signal, base);
	event_add(s1, NULL);
	event_add(s2, NULL);
	fprintf(stderr, "berth master ready: http://%s\n", m->leader);
	event_base_dispatch(base);
	event_free(s1);
	event_free(s2);
	server_free(m);
	event_base_free(base);
	log_info("master", "stopped");
	return 0;
}
