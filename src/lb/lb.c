/* `berth lb`: follows a berth master (Marathon's API) and drives one HAProxy.
 *
 * One libevent loop. A thread follows GET /v2/events (blocking httpc_stream) and only says
 * "something relevant happened" through a pipe; the loop then fetches
 * GET /v2/apps?embed=apps.tasks (a full sync, as marathon-lb does on every relevant event,
 * at start and after a reconnect), debounced, one fetch at a time, and applies it:
 *  - the same shape (lb-render.h) as what runs: server changes through the runtime API,
 *    no reload; the file on disk is rewritten so that a later reload starts from it;
 *  - another shape: the new file is checked with `haproxy -c`; rejected, it is logged with
 *    HAProxy's message and the last good one stays; accepted, HAProxy reloads onto it.
 * Invariant: l->slots and l->shape describe what the current HAProxy worker runs. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/b64.h"
#include "base/flags.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "lb/lb-haproxy.h"
#include "lb/lb-model.h"
#include "lb/lb-render.h"
#include "lb/lb.h"
#include "net/http.h"
#include "net/httpc.h"
#include "net/loop.h"

struct lb_args {
	const char *master;
	const char *group;
	const char *haproxy;
	const char *config_dir;
	const char *bind;
	const char *http_port;
	const char *https_port;
	const char *stats_port;
	/* The master over HTTPS (docs/security.md): its CAs, the client certificate for a
	 * master with --tls-ca; credentials from $BERTH_PRINCIPAL / $BERTH_SECRET. */
	const char *cacert, *cert, *key;
};

struct lb {
	struct lb_args a;
	struct event_base *base;
	struct httpc_url master;
	struct lbh h;
	struct lb_render_opts ro;
	char *self;
	struct lb_services good;  /* the services of the configuration the worker runs */
	struct lb_slotmap slots;  /* what the worker runs */
	struct strbuf shape;      /* its shape; empty before the first start */
	struct strbuf config;     /* the file it runs (for /_haproxy_getconfig) */
	struct strbuf rejected_text; /* the shape HAProxy rejected last (logged once) */
	struct http_server *admin;
	struct event *kick, *timer, *resync, *watch;
	struct httpc_call *call;
	char *authorization;      /* "Basic …" or NULL */
	bool pending;             /* a sync is wanted */
	int pipe[2], cancel[2];
	pthread_t sse;
	bool sse_started;
	unsigned runtime_changes, rejected;
};

/* The master's TLS and credentials on a request to it. */
static void to_master(const struct lb *l, struct httpc_request *req)
{
	req->cacert = l->a.cacert;
	req->client_cert = l->a.cert;
	req->client_key = l->a.key;
	req->authorization = l->authorization;
}

#define SYNC_DELAY_USEC (50 * 1000)
#define RETRY_USEC (1000 * 1000)
#define RESYNC_SEC 60

static void sync_soon(struct lb *l, uint64_t usec)
{
	struct timeval tv = { (time_t)(usec / 1000000), (suseconds_t)(usec % 1000000) };
	l->pending = true;
	if (!l->call && !evtimer_pending(l->timer, NULL))
		evtimer_add(l->timer, &tv);
}

/* ---- the event stream thread ---- */

struct sse_ctx {
	struct lb *l;
	struct lb_events ev; /* one per connection */
};

static int on_sse(const char *data, size_t len, void *ctx)
{
	struct sse_ctx *sc = ctx;
	struct lb *l = sc->l;
	if (lb_events_feed(&sc->ev, data, len)) {
		char c = 'e';
		if (write(l->pipe[1], &c, 1) < 0 && errno != EAGAIN)
			return -errno;
	}
	return 0;
}

static void *sse_main(void *arg)
{
	struct lb *l = arg;
	_cleanup_free_ char *url = httpc_url_join(&l->master, "/v2/events");
	bool first = true;
	for (;;) {
		char c = 'r', err[HTTPC_ERR_MAX] = "";
		if (write(l->pipe[1], &c, 1) < 0 && errno != EAGAIN)
			break;
		struct httpc_request req = { .method = "GET", .url = url,
					     .accept = "text/event-stream",
					     .timeout_usec = 10ull * 1000 * 1000 };
		to_master(l, &req);
		struct sse_ctx sc = { .l = l };
		struct httpc_stream_opts so = { .on_body = on_sse, .ctx = &sc,
						.cancel_fd = l->cancel[0] };
		struct httpc_response resp = { 0 };
		int r = httpc_stream(&req, &so, &resp, err, sizeof(err));
		if (r == -ECANCELED)
			break;
		if (r < 0 || resp.status / 100 != 2)
			log_warn("lb", "event stream %s: %s", first ? "not opened" : "ended",
				 r < 0 ? err : "HTTP error status");
		else
			log_info("lb", "event stream ended; reconnecting");
		httpc_response_release(&resp);
		first = false;
		struct pollfd p = { l->cancel[0], POLLIN, 0 };
		if (poll(&p, 1, 1000) > 0)
			break;
	}
	return NULL;
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct lb *l = arg;
	char buf[256];
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	sync_soon(l, SYNC_DELAY_USEC);
}

/* ---- applying ---- */

/* An IPv4/IPv6 address for a task's host (the runtime API takes addresses only). */
static int resolve(const char *host, char *out, size_t outlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	if (getaddrinfo(host, NULL, &hints, &res) || !res)
		return -EHOSTUNREACH;
	int r = getnameinfo(res->ai_addr, res->ai_addrlen, out, (socklen_t)outlen, NULL, 0,
			    NI_NUMERICHOST);
	freeaddrinfo(res);
	return r ? -EHOSTUNREACH : 0;
}

static int write_file(const char *path, const char *text, size_t len)
{
	_cleanup_free_ char *tmp = xasprintf("%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0 || close(fd) < 0)
		return -errno;
	return rename(tmp, path) < 0 ? -errno : 0;
}

static bool slot_same(const struct lb_slot *a, const struct lb_slot *b)
{
	if (!a->host || !b->host)
		return !a->host && !b->host;
	return a->port == b->port && !strcmp(a->host, b->host);
}

/* The runtime API commands that turn l->slots into next (same shape). */
static int runtime_diff(const struct lb_slotmap *cur, const struct lb_slotmap *next,
			struct strbuf *cmds)
{
	unsigned n = 0;
	for (size_t i = 0; i < next->n; i++) {
		const struct lb_backend_slots *nb = &next->v[i];
		const struct lb_backend_slots *ob = lb_slotmap_find(cur, nb->name);
		for (size_t k = 0; ob && k < nb->nslots && k < ob->nslots; k++) {
			const struct lb_slot *ns = &nb->slot[k];
			if (slot_same(&ob->slot[k], ns))
				continue;
			n++;
			if (!ns->host) {
				strbuf_addf(cmds, "set server %s/s%zu state maint\n", nb->name, k + 1);
				continue;
			}
			char ip[INET6_ADDRSTRLEN + 1];
			int r = resolve(ns->host, ip, sizeof(ip));
			if (r < 0) {
				log_warn("lb", "cannot resolve task host '%s'", ns->host);
				return r;
			}
			strbuf_addf(cmds, "set server %s/s%zu addr %s port %u\n"
				    "set server %s/s%zu state ready\n",
				    nb->name, k + 1, ip, ns->port, nb->name, k + 1);
		}
	}
	return (int)n;
}

/* Keeps HAProxy's [ALERT] lines of msg, without their prefix, joined with "; ". */
static void alerts(struct strbuf *msg)
{
	struct strbuf out = STRBUF_INIT;
	for (const char *p = msg->buf; p && *p;) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		const char *c = memmem(p, l, ") : ", 4);
		if (l > 7 && !strncmp(p, "[ALERT]", 7) && c) {
			if (out.len)
				strbuf_adds(&out, "; ");
			strbuf_add(&out, c + 4, l - (size_t)(c + 4 - p));
		}
		p = e ? e + 1 : p + l;
	}
	if (out.len) {
		strbuf_release(msg);
		*msg = out;
	} else {
		strbuf_release(&out);
	}
}

/* While HAProxy rejects the configuration the labels ask for, the last good one stays; its
 * backends still follow their tasks where that needs no reload: a backend of the running
 * configuration takes next's slots when it has as many. */
static void follow_servers(struct lb *l, const struct lb_slotmap *next)
{
	struct lb_slotmap fb = { 0 };
	struct strbuf cmds = STRBUF_INIT, text = STRBUF_INIT;
	fb.n = l->slots.n;
	fb.v = fb.n ? xcalloc(fb.n, sizeof(*fb.v)) : NULL;
	for (size_t i = 0; i < fb.n; i++) {
		const struct lb_backend_slots *o = &l->slots.v[i];
		const struct lb_backend_slots *nb = lb_slotmap_find(next, o->name);
		const struct lb_backend_slots *src = nb && nb->nslots == o->nslots ? nb : o;
		fb.v[i].name = xstrdup(o->name);
		fb.v[i].nslots = o->nslots;
		fb.v[i].slot = xcalloc(o->nslots, sizeof(*fb.v[i].slot));
		for (size_t k = 0; k < o->nslots; k++) {
			fb.v[i].slot[k].host = src->slot[k].host ? xstrdup(src->slot[k].host) : NULL;
			fb.v[i].slot[k].port = src->slot[k].port;
		}
	}
	int n = runtime_diff(&l->slots, &fb, &cmds);
	int r = n > 0 ? lbh_runtime(&l->h, cmds.buf, NULL) : n;
	if (r < 0) {
		log_warn("lb", "runtime API: %s", strerror(-r));
	} else {
		if (n > 0)
			log_info("lb", "%d server change(s) through the runtime API (on the last good "
				 "configuration)", n);
		lb_render(&l->ro, &l->good, &fb, false, &text);
		int w = write_file(l->h.cfg, text.buf, text.len);
		if (w < 0)
			log_warn("lb", "cannot write %s: %s", l->h.cfg, strerror(-w));
		lb_slotmap_release(&l->slots);
		l->slots = fb;
		memset(&fb, 0, sizeof(fb));
		strbuf_reset(&l->config);
		strbuf_add(&l->config, text.buf, text.len);
	}
	lb_slotmap_release(&fb);
	strbuf_release(&cmds);
	strbuf_release(&text);
}

/* Makes HAProxy run svcs (taken when it does). */
static void apply(struct lb *l, struct lb_services *svcs)
{
	struct lb_slotmap next = { 0 };
	struct strbuf shape = STRBUF_INIT, text = STRBUF_INIT, msg = STRBUF_INIT;
	_cleanup_free_ char *cand = NULL, *bad = NULL;
	lb_slots_assign(&l->slots, svcs, &next);
	lb_render(&l->ro, svcs, &next, true, &shape);
	lb_render(&l->ro, svcs, &next, false, &text);
	if (l->h.master > 0 && l->shape.len && !strcmp(shape.buf, l->shape.buf)) {
		if (!strcmp(text.buf, l->config.buf))
			goto out; /* nothing changed */
		struct strbuf cmds = STRBUF_INIT;
		int n = runtime_diff(&l->slots, &next, &cmds);
		int r = n > 0 ? lbh_runtime(&l->h, cmds.buf, &msg) : n;
		strbuf_release(&cmds);
		if (r < 0) {
			log_warn("lb", "runtime API: %s; reloading instead", strerror(-r));
		} else {
			l->runtime_changes += (unsigned)n;
			log_info("lb", "%d server change(s) through the runtime API", n);
			if (msg.len)
				log_debug("lb", "runtime API said: %s", msg.buf);
			int w = write_file(l->h.cfg, text.buf, text.len);
			if (w < 0)
				log_warn("lb", "cannot write %s: %s", l->h.cfg, strerror(-w));
			goto adopt;
		}
	}
	cand = xasprintf("%s/haproxy.cfg.new", l->a.config_dir);
	int r = write_file(cand, text.buf, text.len);
	if (r < 0) {
		log_error("lb", "cannot write %s: %s", cand, strerror(-r));
		goto out;
	}
	r = lbh_check(&l->h, cand, &msg);
	if (r < 0) {
		l->rejected++;
		bad = xasprintf("%s/haproxy.cfg.rejected", l->a.config_dir);
		rename(cand, bad);
		bool again = l->rejected_text.buf && !strcmp(l->rejected_text.buf, shape.buf);
		strbuf_reset(&l->rejected_text);
		strbuf_add(&l->rejected_text, shape.buf, shape.len);
		alerts(&msg);
		log_msg(again ? LOG_DEBUG : LOG_ERROR, "lb", "haproxy rejects the new configuration (kept as %s; the last good "
			  "one stays): %s", bad, r == -EINVAL ? msg.buf : strerror(-r));
		if (l->h.master > 0)
			follow_servers(l, &next);
		goto out;
	}
	if (rename(cand, l->h.cfg) < 0) {
		log_error("lb", "cannot rename %s: %s", cand, strerror(errno));
		goto out;
	}
	r = lbh_apply(&l->h);
	if (r < 0)
		goto out;
adopt:
	lb_services_release(&l->good);
	l->good = *svcs;
	memset(svcs, 0, sizeof(*svcs));
	lb_slotmap_release(&l->slots);
	l->slots = next;
	memset(&next, 0, sizeof(next));
	strbuf_reset(&l->shape);
	strbuf_add(&l->shape, shape.buf, shape.len);
	strbuf_reset(&l->config);
	strbuf_add(&l->config, text.buf, text.len);
out:
	lb_slotmap_release(&next);
	strbuf_release(&shape);
	strbuf_release(&text);
	strbuf_release(&msg);
}

static void on_apps(int r, const struct httpc_response *resp, const char *err, void *arg)
{
	struct lb *l = arg;
	l->call = NULL;
	if (r < 0 || resp->status != 200) {
		log_warn("lb", "GET /v2/apps: %s", r < 0 ? err : "unexpected status");
		sync_soon(l, RETRY_USEC);
		return;
	}
	struct lb_services svcs;
	char perr[256];
	if (lb_apps_parse(resp->body, resp->body_len, l->a.group, &svcs, perr, sizeof(perr))) {
		log_warn("lb", "GET /v2/apps: %s", perr);
		sync_soon(l, RETRY_USEC);
		return;
	}
	if (svcs.warnings.len)
		log_warn("lb", "%s", svcs.warnings.buf);
	apply(l, &svcs);
	lb_services_release(&svcs);
	if (l->pending)
		sync_soon(l, SYNC_DELAY_USEC);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct lb *l = arg;
	if (l->call)
		return;
	l->pending = false;
	_cleanup_free_ char *url = httpc_url_join(&l->master, "/v2/apps?embed=apps.tasks");
	struct httpc_request req = { .method = "GET", .url = url };
	to_master(l, &req);
	l->call = httpc_call_start(l->base, &req, on_apps, l);
	if (!l->call)
		sync_soon(l, RETRY_USEC);
}

static void on_resync(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sync_soon(arg, 0);
}

/* A HAProxy that exited is started again at once (on the configuration a sync makes). */
static void on_watch(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct lb *l = arg;
	if (!lbh_alive(&l->h)) {
		strbuf_reset(&l->shape);
		sync_soon(l, 0);
	}
}

static void on_admin(struct evhttp_request *req, void *ctx)
{
	struct lb *l = ctx;
	_cleanup_free_ char *path = http_request_path(req);
	if (path && !strcmp(path, "/_haproxy_getconfig")) {
		http_add_header(req, "Content-Type", "text/plain");
		http_reply_text(req, 200, l->config.buf ? l->config.buf : "");
		return;
	}
	http_reply_message(req, 404, "not found");
}

/* ---- flags and main ---- */

static const struct flag_spec lb_specs[] = {
	{ .name = "master", .kind = FLAG_STRING, .off = offsetof(struct lb_args, master),
	  .required = true, .metavar = "URL", .help = "the berth master (Marathon API)" },
	{ .name = "group", .kind = FLAG_STRING, .off = offsetof(struct lb_args, group),
	  .def = "external", .metavar = "GROUPS",
	  .help = "HAPROXY_GROUP values to expose (comma list; '*' all)" },
	{ .name = "haproxy", .kind = FLAG_STRING, .off = offsetof(struct lb_args, haproxy),
	  .def = "/usr/sbin/haproxy", .metavar = "PATH", .help = "the HAProxy binary" },
	{ .name = "config-dir", .kind = FLAG_STRING, .off = offsetof(struct lb_args, config_dir),
	  .required = true, .metavar = "DIR",
	  .help = "where haproxy.cfg and the sockets go (created)" },
	{ .name = "http-port", .kind = FLAG_STRING, .off = offsetof(struct lb_args, http_port),
	  .def = "80", .metavar = "PORT", .help = "the vhost frontend (HTTP)" },
	{ .name = "https-port", .kind = FLAG_STRING, .off = offsetof(struct lb_args, https_port),
	  .def = "443", .metavar = "PORT", .help = "the vhost frontend (HTTPS, with SSL_CERT)" },
	{ .name = "stats-port", .kind = FLAG_STRING, .off = offsetof(struct lb_args, stats_port),
	  .def = "9090", .metavar = "PORT",
	  .help = "/haproxy?stats, /_haproxy_health_check, /_haproxy_getconfig" },
	{ .name = "bind", .kind = FLAG_STRING, .off = offsetof(struct lb_args, bind),
	  .metavar = "ADDR", .help = "the address every frontend binds (default: all)" },
	{ .name = "cacert", .kind = FLAG_STRING, .off = offsetof(struct lb_args, cacert),
	  .metavar = "FILE",
	  .help = "verify an https:// master against these CAs (default $BERTH_CACERT,\n"
		  "else the system's)" },
	{ .name = "cert", .kind = FLAG_STRING, .off = offsetof(struct lb_args, cert),
	  .metavar = "FILE",
	  .help = "client certificate (PEM) for a master with --tls-ca (default\n"
		  "$BERTH_CERT); credentials come from $BERTH_PRINCIPAL, $BERTH_SECRET" },
	{ .name = "key", .kind = FLAG_STRING, .off = offsetof(struct lb_args, key),
	  .metavar = "FILE", .help = "its private key (default $BERTH_KEY, else in --cert's file)" },
};
static const struct flag_table lb_flags = { lb_specs, ARRAY_SIZE(lb_specs) };

static int port_arg(const char *flag, const char *v, uint16_t *out)
{
	char *end;
	errno = 0;
	long p = strtol(v, &end, 10);
	if (errno || *end || p < 1 || p > 65535) {
		fprintf(stderr, "berth lb: --%s '%s': expected a port 1..65535\n", flag, v);
		return -EINVAL;
	}
	*out = (uint16_t)p;
	return 0;
}

static const char lb_about[] =
	"Exposes the Marathon apps of GROUPS through HAProxy as marathon-lb does, from\n"
	"their HAPROXY_* labels (docs/lb.md). Stops on SIGTERM or SIGINT.\n";

static int setup(struct lb *l)
{
	if (mkdir(l->a.config_dir, 0755) < 0 && errno != EEXIST) {
		log_error("lb", "cannot create %s: %s", l->a.config_dir, strerror(errno));
		return -errno;
	}
	lbh_init(&l->h, l->a.haproxy, l->a.config_dir);
	l->ro.socket = xasprintf("%s/haproxy.sock", l->a.config_dir);
	int r = http_server_new(l->base, "127.0.0.1", 0, 4096, on_admin, l, &l->admin);
	if (r < 0) {
		log_error("lb", "cannot serve: %s", strerror(-r));
		return r;
	}
	l->self = xasprintf("127.0.0.1:%u", http_server_port(l->admin));
	l->ro.self = l->self;
	l->ro.bind = l->a.bind;
	if (pipe2(l->pipe, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2(l->cancel, O_CLOEXEC) < 0)
		return -errno;
	l->kick = event_new(l->base, l->pipe[0], EV_READ | EV_PERSIST, on_kick, l);
	l->timer = evtimer_new(l->base, on_timer, l);
	l->resync = event_new(l->base, -1, EV_PERSIST, on_resync, l);
	l->watch = event_new(l->base, -1, EV_PERSIST, on_watch, l);
	if (!l->kick || !l->timer || !l->resync || !l->watch)
		return -ENOMEM;
	event_add(l->kick, NULL);
	struct timeval tv = { RESYNC_SEC, 0 }, one = { 1, 0 };
	event_add(l->resync, &tv);
	event_add(l->watch, &one);
	/* HAProxy up at once (stats and health), with nothing exposed until the first sync */
	struct lb_services none = { 0 };
	apply(l, &none);
	if (l->h.master <= 0)
		return -ECHILD;
	if (pthread_create(&l->sse, NULL, sse_main, l))
		return -EAGAIN;
	l->sse_started = true;
	return 0;
}

static void teardown(struct lb *l)
{
	if (l->sse_started) {
		char c = 'x';
		if (write(l->cancel[1], &c, 1) < 0)
			log_warn("lb", "cannot stop the event stream thread");
		pthread_join(l->sse, NULL);
	}
	httpc_call_cancel(l->call);
	if (l->kick)
		event_free(l->kick);
	if (l->timer)
		event_free(l->timer);
	if (l->resync)
		event_free(l->resync);
	if (l->watch)
		event_free(l->watch);
	http_server_free(l->admin);
	lbh_release(&l->h);
	for (int i = 0; i < 2; i++) {
		if (l->pipe[i] > 0)
			close(l->pipe[i]);
		if (l->cancel[i] > 0)
			close(l->cancel[i]);
	}
	lb_slotmap_release(&l->slots);
	lb_services_release(&l->good);
	strbuf_release(&l->shape);
	strbuf_release(&l->config);
	strbuf_release(&l->rejected_text);
	free((char *)l->ro.socket);
	free(l->self);
	free(l->authorization);
	httpc_url_release(&l->master);
}

int lb_main(int argc, char **argv)
{
	struct lb l = { 0 };
	_cleanup_flags_ struct flags fl = FLAGS_INIT;
	const struct flag_set set = { .table = &lb_flags, .cfg = &l.a };
	const struct flag_cmd cmd = { .name = "lb", .about = lb_about, .sets = &set, .nsets = 1 };
	int r = flags_parse(&fl, &cmd, argc, argv);
	if (r)
		return r == FLAGS_HELP ? 0 : 2;
	if (port_arg("http-port", l.a.http_port, &l.ro.http_port) ||
	    port_arg("https-port", l.a.https_port, &l.ro.https_port) ||
	    port_arg("stats-port", l.a.stats_port, &l.ro.stats_port))
		return 2;
	if (!l.a.bind)
		l.a.bind = "";
	if (!lb_token_ok(l.a.config_dir) || (l.a.bind[0] && !lb_token_ok(l.a.bind))) {
		fprintf(stderr, "berth lb: --config-dir and --bind may not hold spaces, quotes, "
				"'#' or '\\'\n");
		return 2;
	}
	if (httpc_url_parse(l.a.master, &l.master) < 0) {
		fprintf(stderr, "berth lb: --master '%s': expected http[s]://HOST[:PORT]\n",
			l.a.master);
		return 2;
	}
	const char *env;
	if (!l.a.cacert && (env = getenv("BERTH_CACERT")) && *env)
		l.a.cacert = env;
	if (!l.a.cert && (env = getenv("BERTH_CERT")) && *env)
		l.a.cert = env;
	if (!l.a.key && (env = getenv("BERTH_KEY")) && *env)
		l.a.key = env;
	if (l.a.key && !l.a.cert) {
		fprintf(stderr, "berth lb: --key wants --cert (or BERTH_CERT)\n");
		return 2;
	}
	if (l.a.cert && !l.a.key)
		l.a.key = l.a.cert;
	const char *principal = getenv("BERTH_PRINCIPAL"), *secret = getenv("BERTH_SECRET");
	if (principal && *principal) {
		if (!secret) {
			fprintf(stderr, "berth lb: BERTH_PRINCIPAL wants BERTH_SECRET\n");
			return 2;
		}
		l.authorization = b64_basic_auth(principal, secret);
	}
	signal(SIGPIPE, SIG_IGN);
	l.base = event_base_new();
	if (!l.base)
		return 1;
	l.pipe[0] = l.pipe[1] = l.cancel[0] = l.cancel[1] = -1;
	r = setup(&l);
	if (!r) {
		log_info("lb", "following %s for group '%s'; stats on :%u", l.a.master, l.a.group,
			 l.ro.stats_port);
		r = loop_run_until_signal(l.base, "lb");
	}
	teardown(&l);
	event_base_free(l.base);
	return r < 0 ? 1 : 0;
}
