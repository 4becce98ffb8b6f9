/* Leader election on ZooKeeper and the standby's HTTP answers (see leader.h for the
 * invariants).
 *
 * Threads: ZooKeeper's watchers run on the client library's thread. They only write a byte
 * to a pipe the loop watches (the loop then re-checks the election), except a session
 * expiry, which re-executes the process from that thread at once: a master that may have
 * lost its leadership must not act for one more loop turn.
 */
#include "server/leader.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#define THREADED /* the synchronous API of libzookeeper_mt */
#include <zookeeper/zookeeper.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "net/http.h"
#include "net/loop.h"

#define INFO_PREFIX "json.info_"

struct leader {
	struct event_base *base;
	zhandle_t *zh;
	char *hosts;
	char *dir;   /* PATH/leader */
	char *mine;  /* our znode's full path */
	char *info;  /* our MasterInfo JSON */
	char *auth;
	unsigned session_ms;
	struct ACL acl_entries[2];
	struct ACL_vector acl;
	struct http_server *http;
	struct http_tls *tls_client; /* HTTPS to the leader (borrowed), or NULL: plain HTTP */
	uint16_t port;
	char *leader_cache; /* the last leader address read, served while ZooKeeper is away */
	int pipe[2];
	struct event *wake;
	bool elected;
	_Atomic uint64_t disconnected_usec; /* monotonic, when the session lost its server; 0 */
	/* Monotonic send time of the newest ping (an exists on our znode) that ZooKeeper
	 * answered: the ensemble heard the session then, so it cannot expire it before that
	 * plus the session timeout. */
	_Atomic uint64_t ok_sent_usec;
	struct event *ping;
	bool fenced_logged;
};

/* The process's election, for DELETE /v2/leader and the expiry handler. */
static struct leader *the_leader;

static void on_zk_log(const char *message)
{
	log_debug("zk", "%s", message);
}

/* Replaces the process image by a fresh `berth master …` with the same arguments: it joins
 * the election again as a standby. */
static void reexec(const char *why)
{
	log_warn("master", "%s: restarting as a standby", why);
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	static char buf[65536];
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n > 0) {
		buf[n] = '\0';
		char *argv[512];
		int argc = 0;
		for (char *p = buf; p < buf + n && argc < 511; p += strlen(p) + 1)
			argv[argc++] = p;
		argv[argc] = NULL;
		execv("/proc/self/exe", argv);
	}
	log_error("master", "cannot re-execute itself: %s; exiting", strerror(errno));
	_exit(1);
}

static void poke(struct leader *l)
{
	char c = 1;
	if (write(l->pipe[1], &c, 1) < 0) {
		/* Full pipe: a wake-up is pending already. */
	}
}

static void on_session(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	struct leader *l = ctx;
	if (type == ZOO_SESSION_EVENT &&
	    (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE))
		reexec(l && l->elected ? "lost the ZooKeeper session: no longer the leader"
				       : "lost the ZooKeeper session");
	if (l && type == ZOO_SESSION_EVENT) {
		if (state == ZOO_CONNECTED_STATE)
			atomic_store(&l->disconnected_usec, 0);
		else if (state == ZOO_CONNECTING_STATE || state == ZOO_ASSOCIATING_STATE) {
			uint64_t zero = 0;
			atomic_compare_exchange_strong(&l->disconnected_usec, &zero, time_mono_usec());
		}
	}
	if (l)
		poke(l);
}

static void on_watch(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	poke(ctx);
}

static long seq_of(const char *name)
{
	const char *u = strrchr(name, '_');
	return u ? strtol(u + 1, NULL, 10) : -1;
}

static int by_seq(const void *a, const void *b)
{
	long x = seq_of(*(char *const *)a), y = seq_of(*(char *const *)b);
	return x < y ? -1 : x > y;
}

/* The election's members, sorted by sequence (the leader first). */
static int members(struct leader *l, struct String_vector *v)
{
	int rc = zoo_get_children(l->zh, l->dir, 0, v);
	if (rc != ZOK) {
		log_warn("master", "election: cannot list '%s': %s", l->dir, zerror(rc));
		return -EIO;
	}
	int k = 0;
	for (int i = 0; i < v->count; i++) {
		if (str_has_prefix(v->data[i], INFO_PREFIX))
			v->data[k++] = v->data[i];
		else
			free(v->data[i]);
	}
	v->count = k;
	qsort(v->data, (size_t)k, sizeof(*v->data), by_seq);
	return 0;
}

/* The leader's MasterInfo (new reference) or NULL when there is none. */
static json_t *leader_info(struct leader *l)
{
	struct String_vector v = { 0, NULL };
	int r = members(l, &v);
	if (r < 0 || !v.count) {
		if (r == 0) { /* known: nobody leads right now */
			free(l->leader_cache);
			l->leader_cache = NULL;
		}
		deallocate_String_vector(&v);
		return NULL;
	}
	_cleanup_free_ char *path = xasprintf("%s/%s", l->dir, v.data[0]);
	deallocate_String_vector(&v);
	char buf[4096];
	int n = sizeof(buf) - 1;
	struct Stat st;
	if (zoo_get(l->zh, path, 0, buf, &n, &st) != ZOK || n <= 0)
		return NULL;
	buf[n] = '\0';
	return json_loads(buf, 0, NULL);
}

/* Where the leader serves: "host:port" from its MasterInfo. Without a ZooKeeper
 * connection (no quorum), the last one read: never a blocking call from the loop. */
static char *leader_addr(struct leader *l, json_t **info_out)
{
	json_t *info = zoo_state(l->zh) == ZOO_CONNECTED_STATE ? leader_info(l) : NULL;
	if (!info) {
		if (info_out)
			*info_out = NULL;
		return l->leader_cache ? xstrdup(l->leader_cache) : NULL;
	}
	json_t *addr = json_object_get(info, "address");
	const char *host = json_string_value(json_object_get(addr, "hostname"));
	if (!host)
		host = json_string_value(json_object_get(addr, "ip"));
	json_int_t port = json_integer_value(json_object_get(info, "port"));
	char *r = host ? xasprintf("%s:%lld", host, (long long)port) : NULL;
	if (r) {
		free(l->leader_cache);
		l->leader_cache = xstrdup(r);
	}
	if (info_out)
		*info_out = info;
	else
		json_decref(info);
	return r;
}

/* Decides: leader when first, else watches the predecessor (re-checking when it is gone
 * already). */
static void check(struct leader *l)
{
	for (int round = 0; round < 16 && !l->elected; round++) {
		struct String_vector v = { 0, NULL };
		if (members(l, &v) < 0)
			return;
		const char *me = strrchr(l->mine, '/') + 1;
		int i = 0;
		while (i < v.count && strcmp(v.data[i], me) != 0)
			i++;
		if (i == v.count) {
			deallocate_String_vector(&v);
			reexec("our election znode is gone");
		}
		if (i == 0) {
			deallocate_String_vector(&v);
			log_info("master", "elected leader (%s)", me);
			l->elected = true;
			event_base_loopbreak(l->base);
			return;
		}
		_cleanup_free_ char *pred = xasprintf("%s/%s", l->dir, v.data[i - 1]);
		deallocate_String_vector(&v);
		struct Stat st;
		int rc = zoo_wexists(l->zh, pred, on_watch, l, &st);
		if (rc == ZOK) {
			log_info("master", "standby: watching %s", pred);
			return;
		}
		if (rc != ZNONODE) {
			log_warn("master", "election: cannot watch '%s': %s", pred, zerror(rc));
			return;
		}
	}
}

static void on_wake(evutil_socket_t fd, short what, void *ctx)
{
	struct leader *l = ctx;
	char buf[64];
	while (read(fd, buf, sizeof(buf)) > 0) {
	}
	if (!l->elected && zoo_state(l->zh) == ZOO_CONNECTED_STATE)
		check(l);
}

/* ---- the elected master's pings ---- */

/* ZooKeeper's completion thread. data is the send time. */
static void on_ping_done(int rc, const struct Stat *st, const void *data)
{
	struct leader *l = the_leader;
	uint64_t sent = (uint64_t)(uintptr_t)data;
	if (rc != ZOK || !l)
		return;
	uint64_t cur = atomic_load(&l->ok_sent_usec);
	while (sent > cur && !atomic_compare_exchange_weak(&l->ok_sent_usec, &cur, sent)) {
	}
}

static void on_ping(evutil_socket_t fd, short what, void *ctx)
{
	struct leader *l = ctx;
	if (l->zh && zoo_state(l->zh) == ZOO_CONNECTED_STATE)
		zoo_aexists(l->zh, l->mine, 0, on_ping_done, (const void *)(uintptr_t)time_mono_usec());
}

/* ---- the standby's HTTP answers ---- */

static void redirect(struct leader *l, struct evhttp_request *req, bool scheme_relative)
{
	_cleanup_free_ char *addr = leader_addr(l, NULL);
	if (!addr) {
		http_reply_message(req, 503, "No leader elected yet");
		return;
	}
	const char *uri = evhttp_request_get_uri(req);
	const char *scheme = scheme_relative ? "" : l->tls_client ? "https:" : "http:";
	_cleanup_free_ char *loc = xasprintf("%s//%s%s", scheme, addr, uri ? uri : "/");
	http_add_header(req, "Location", loc);
	http_reply_text(req, 307, "");
}

/* A request proxied to the leader (as Marathon's standbys do). */
struct proxy_call {
	struct leader *l;
	struct evhttp_request *client;      /* NULL once the client went away */
	struct evhttp_connection *client_conn;
	struct evhttp_connection *conn;     /* to the leader */
};

static void proxy_free_later(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_call *c = arg;
	if (c->conn)
		evhttp_connection_free(c->conn);
	free(c);
}

static void proxy_client_closed(struct evhttp_connection *evcon, void *arg)
{
	struct proxy_call *c = arg;
	c->client = NULL;
}

static const char *const proxied_in[] = { "Content-Type", "Accept", "Authorization",
					  "Accept-Encoding", "If-None-Match", NULL };
static const char *const proxied_out[] = { "Content-Type", "Location", "Content-Encoding",
					   "Cache-Control", "WWW-Authenticate", "ETag", "Vary",
					   NULL };

static void copy_headers(struct evkeyvalq *from, struct evkeyvalq *to, const char *const *names)
{
	for (size_t i = 0; names[i]; i++) {
		const char *v = evhttp_find_header(from, names[i]);
		if (v)
			evhttp_add_header(to, names[i], v);
	}
}

static void on_proxy_done(struct evhttp_request *resp, void *arg)
{
	struct proxy_call *c = arg;
	if (c->client) {
		evhttp_connection_set_closecb(c->client_conn, NULL, NULL);
		int code = resp ? evhttp_request_get_response_code(resp) : 0;
		if (code <= 0) {
			http_reply_message(c->client, 502, "The leader did not answer");
		} else {
			copy_headers(evhttp_request_get_input_headers(resp),
				     evhttp_request_get_output_headers(c->client), proxied_out);
			evhttp_send_reply(c->client, code, evhttp_request_get_response_code_line(resp),
					  evhttp_request_get_input_buffer(resp));
		}
	}
	/* Not from inside the connection's own callback. */
	event_base_once(c->l->base, -1, EV_TIMEOUT, proxy_free_later, c, NULL);
}

static void proxy(struct leader *l, struct evhttp_request *req)
{
	_cleanup_free_ char *addr = leader_addr(l, NULL);
	char *colon = addr ? strrchr(addr, ':') : NULL;
	if (!colon) {
		http_reply_message(req, 503, "No leader elected yet");
		return;
	}
	*colon = '\0';
	struct proxy_call *c = xcalloc(1, sizeof(*c));
	c->l = l;
	c->client = req;
	c->client_conn = evhttp_request_get_connection(req);
	uint16_t port = (uint16_t)atoi(colon + 1);
	/* With TLS: the leader's certificate must name addr and be signed by --tls-ca; ours is
	 * presented, so a leader with --tls-ca refuses a standby its CA did not sign. */
	c->conn = l->tls_client ? http_tls_connect(l->base, l->tls_client, addr, port)
				: evhttp_connection_base_new(l->base, NULL, addr, port);
	struct evhttp_request *out = c->conn ? evhttp_request_new(on_proxy_done, c) : NULL;
	if (!out) {
		if (c->conn)
			evhttp_connection_free(c->conn);
		free(c);
		http_reply_message(req, 502, "Cannot reach the leader");
		return;
	}
	evhttp_connection_set_timeout(c->conn, 30);
	struct evkeyvalq *oh = evhttp_request_get_output_headers(out);
	copy_headers(evhttp_request_get_input_headers(req), oh, proxied_in);
	*colon = ':';
	evhttp_add_header(oh, "Host", addr);
	evbuffer_add_buffer(evhttp_request_get_output_buffer(out), evhttp_request_get_input_buffer(req));
	evhttp_connection_set_closecb(c->client_conn, proxy_client_closed, c);
	if (evhttp_make_request(c->conn, out, evhttp_request_get_command(req),
				evhttp_request_get_uri(req)) != 0) {
		/* make_request frees out on failure. */
		evhttp_connection_set_closecb(c->client_conn, NULL, NULL);
		evhttp_connection_free(c->conn);
		free(c);
		http_reply_message(req, 502, "Cannot reach the leader");
	}
}

static void standby_state(struct leader *l, struct evhttp_request *req)
{
	json_t *info = NULL;
	_cleanup_free_ char *addr = leader_addr(l, &info);
	json_t *mine = json_loads(l->info, 0, NULL);
	json_t *o = json_pack("{s:O?,s:O?,s:[],s:[],s:[],s:i,s:i}", "hostname",
			      json_object_get(json_object_get(mine, "address"), "hostname"),
			      "pid", json_object_get(mine, "pid"), "slaves", "frameworks",
			      "completed_frameworks", "activated_slaves", 0, "deactivated_slaves",
			      0);
	if (info) {
		json_object_set(o, "leader", json_object_get(info, "pid"));
		json_object_set_new(o, "leader_info", info);
	}
	json_decref(mine);
	http_reply_json(req, 200, o);
}

static void on_standby_request(struct evhttp_request *req, void *ctx)
{
	struct leader *l = ctx;
	_cleanup_free_ char *path = http_request_path(req);
	if (!path) {
		http_reply_message(req, 400, "Malformed request URI");
		return;
	}
	if (strcmp(path, "/ping") == 0) {
		http_reply_text(req, 200, "pong");
	} else if (strcmp(path, "/v2/leader") == 0 &&
		   evhttp_request_get_command(req) == EVHTTP_REQ_GET) {
		_cleanup_free_ char *addr = leader_addr(l, NULL);
		if (addr)
			http_reply_json(req, 200, json_pack("{s:s}", "leader", addr));
		else
			http_reply_message(req, 404, "There is no leader");
	} else if (strcmp(path, "/master/state") == 0 || strcmp(path, "/state") == 0) {
		standby_state(l, req);
	} else if (str_has_prefix(path, "/api/v1") || str_has_prefix(path, "/master/api/v1")) {
		/* Mesos: a scheme-relative Location, the client keeps its scheme. */
		redirect(l, req, true);
	} else if (str_has_prefix(path, "/api/berth/agent/") || strcmp(path, "/v2/events") == 0) {
		/* Agents follow the 307 to the leader; an event stream is not proxied. */
		redirect(l, req, false);
	} else {
		/* Marathon: a standby proxies the rest to the leader. */
		proxy(l, req);
	}
}

/* ---- joining ---- */

static int wait_connected(struct leader *l)
{
	uint64_t deadline = time_mono_usec() + (uint64_t)l->session_ms * 1000;
	while (zoo_state(l->zh) != ZOO_CONNECTED_STATE) {
		if (time_mono_usec() > deadline)
			return -ENOTCONN;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return 0;
}

static int ensure(struct leader *l, char *path)
{
	for (char *p = path + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		int rc = zoo_create(l->zh, path, NULL, -1, &l->acl, 0, NULL, 0);
		*p = '/';
		if (rc != ZOK && rc != ZNODEEXISTS)
			return -EIO;
	}
	int rc = zoo_create(l->zh, path, NULL, -1, &l->acl, 0, NULL, 0);
	return rc == ZOK || rc == ZNODEEXISTS ? 0 : -EIO;
}

static char *master_info(const struct master_config *cfg, uint16_t port)
{
	char host[256];
	if (cfg->hostname && *cfg->hostname)
		snprintf(host, sizeof(host), "%s", cfg->hostname);
	else if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "localhost");
	const char *ip = cfg->http_addr;
	struct in_addr a;
	if (!ip || inet_pton(AF_INET, ip, &a) != 1 || a.s_addr == 0) {
		ip = "127.0.0.1";
		inet_pton(AF_INET, ip, &a);
	}
	_cleanup_free_ char *id = xasprintf("berth-%d-%llu", (int)getpid(),
					    (unsigned long long)time_real_usec());
	_cleanup_free_ char *pid = xasprintf("master@%s:%u", ip, (unsigned)port);
	json_t *o = json_pack("{s:s,s:I,s:i,s:s,s:s,s:s,s:{s:s,s:s,s:i}}", "id", id, "ip",
			      (json_int_t)a.s_addr, "port", (int)port, "pid", pid, "hostname", host,
			      "version", "1.12.0", "address", "hostname", host, "ip", ip, "port",
			      (int)port);
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

int leader_join(struct event_base *base, const struct master_config *cfg, struct http_tls *tls,
		struct http_tls *tls_client, const struct http_limits *lim, struct leader **out)
{
	*out = NULL;
	const char *h = cfg->store_url + strlen("zk://");
	const char *slash = strchr(h, '/');
	if (!slash || slash == h || !slash[1])
		return -EINVAL;
	struct leader *l = xcalloc(1, sizeof(*l));
	l->base = base;
	l->pipe[0] = l->pipe[1] = -1;
	l->hosts = xstrndup(h, (size_t)(slash - h));
	l->dir = xasprintf("%s/leader", slash);
	l->session_ms = cfg->zk_session_timeout_sec > 0
				? (unsigned)(cfg->zk_session_timeout_sec * 1000) : 10000;
	if (cfg->zk_auth) {
		l->auth = xstrdup(cfg->zk_auth);
		l->acl_entries[0] = (struct ACL){ ZOO_PERM_ALL, ZOO_AUTH_IDS };
		l->acl_entries[1] = (struct ACL){ ZOO_PERM_READ, ZOO_ANYONE_ID_UNSAFE };
		l->acl = (struct ACL_vector){ 2, l->acl_entries };
	} else {
		l->acl = ZOO_OPEN_ACL_UNSAFE;
	}
	int r = http_server_new(base, cfg->http_addr, cfg->http_port,
				cfg->max_body ? cfg->max_body : MASTER_DEFAULT_MAX_BODY,
				on_standby_request, l, &l->http);
	if (r < 0) {
		log_error("master", "cannot listen on %s:%u: %s", cfg->http_addr,
			  (unsigned)cfg->http_port, strerror(-r));
		leader_free(l);
		return r;
	}
	if (lim)
		http_server_set_limits(l->http, lim);
	if (tls) {
		http_server_set_tls(l->http, tls);
		l->tls_client = tls_client;
	}
	l->port = http_server_port(l->http);
	l->info = master_info(cfg, l->port);
	if (pipe2(l->pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		r = -errno;
		leader_free(l);
		return r;
	}
	l->wake = event_new(base, l->pipe[0], EV_READ | EV_PERSIST, on_wake, l);
	event_add(l->wake, NULL);

	l->zh = zookeeper_init2(l->hosts, on_session, (int)l->session_ms, NULL, l, 0, on_zk_log);
	r = l->zh ? wait_connected(l) : -EIO;
	if (r >= 0 && l->auth &&
	    zoo_add_auth(l->zh, "digest", l->auth, (int)strlen(l->auth), NULL, NULL) != ZOK)
		r = -EACCES;
	if (r >= 0)
		r = ensure(l, l->dir);
	char name[1024];
	if (r >= 0) {
		_cleanup_free_ char *prefix = xasprintf("%s/" INFO_PREFIX, l->dir);
		int rc = zoo_create(l->zh, prefix, l->info, (int)strlen(l->info), &l->acl,
				    ZOO_EPHEMERAL | ZOO_SEQUENCE, name, sizeof(name));
		r = rc == ZOK ? 0 : -EIO;
	}
	if (r < 0) {
		log_error("master", "cannot join the election in '%s' on '%s': %s", l->dir,
			  l->hosts, strerror(-r));
		leader_free(l);
		return r;
	}
	l->mine = xstrdup(name);
	the_leader = l;
	log_info("master", "joined the election as %s", l->mine);
	*out = l;
	return 0;
}

int leader_wait(struct leader *l, uint16_t *port)
{
	check(l);
	if (!l->elected) {
		fprintf(stderr, "berth master standby: %s://127.0.0.1:%u\n",
			l->tls_client ? "https" : "http", (unsigned)l->port);
		loop_run_until_signal(l->base, "master");
	}
	if (!l->elected)
		return 0;
	http_server_free(l->http);
	l->http = NULL;
	*port = l->port;
	/* Elected on an answer just read: the session is fresh now. */
	atomic_store(&l->ok_sent_usec, time_mono_usec());
	l->ping = event_new(l->base, -1, EV_PERSIST, on_ping, l);
	uint64_t every = (uint64_t)l->session_ms * 1000 / 6;
	struct timeval tv = { (time_t)(every / 1000000), (suseconds_t)(every % 1000000) };
	if (l->ping)
		event_add(l->ping, &tv);
	return 1;
}

const char *leader_znode(const struct leader *l)
{
	return l->mine;
}

void leader_free(struct leader *l)
{
	if (!l)
		return;
	if (the_leader == l)
		the_leader = NULL;
	if (l->zh)
		zookeeper_close(l->zh); /* deletes our ephemeral znode: a fast handover */
	if (l->ping)
		event_free(l->ping);
	http_server_free(l->http);
	if (l->wake)
		event_free(l->wake);
	if (l->pipe[0] >= 0)
		close(l->pipe[0]);
	if (l->pipe[1] >= 0)
		close(l->pipe[1]);
	free(l->hosts);
	free(l->dir);
	free(l->mine);
	free(l->info);
	free(l->auth);
	free(l->leader_cache);
	free(l);
}

static void abdicate_now(evutil_socket_t fd, short what, void *ctx)
{
	struct leader *l = the_leader;
	if (l && l->zh) {
		zookeeper_close(l->zh);
		l->zh = NULL;
	}
	reexec("abdicated (DELETE /v2/leader)");
}

void leader_http_abdicate(struct evhttp_request *req)
{
	struct leader *l = the_leader;
	if (!l || !l->elected) {
		http_reply_message(req, 400, "This master takes part in no leader election "
					     "(its --store is not zk://)");
		return;
	}
	http_reply_message(req, 200, "Leadership abdicated");
	/* After the answer is out. */
	struct timeval tv = { 0, 200000 };
	event_base_once(l->base, -1, EV_TIMEOUT, abdicate_now, NULL, &tv);
}

bool leader_fenced(void)
{
	struct leader *l = the_leader;
	if (!l || !l->elected)
		return false;
	/* Not heard by the ensemble for half the session timeout (pings go every sixth): the
	 * session may expire at a full timeout after that, so we stop well before another
	 * master can be elected. The client's own notice of a lost server comes later (2/3 of
	 * the timeout without an answer) and counts too. */
	uint64_t now = time_mono_usec();
	uint64_t since = atomic_load(&l->disconnected_usec);
	uint64_t ok = atomic_load(&l->ok_sent_usec);
	bool fenced = (since && now - since > (uint64_t)l->session_ms * 2000 / 3) ||
		      (ok && now > ok && now - ok > (uint64_t)l->session_ms * 1000 / 2);
	if (fenced != l->fenced_logged) {
		if (fenced)
			log_warn("master", "not heard by ZooKeeper for half the session timeout: "
					   "another master may be elected; acting on nothing until "
					   "the session is back");
		else
			log_info("master", "ZooKeeper session back: acting as the leader again");
		l->fenced_logged = fenced;
	}
	return fenced;
}
