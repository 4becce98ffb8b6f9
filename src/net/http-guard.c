/* Connection caps and the request timeout of an HTTP server (http.h:
 * http_server_set_limits), without touching the bytes: libevent 2.1's evhttp has no hook
 * before a request is parsed, and a bufferevent filter stalls replies in 2.1.12
 * (docs/security.md). So the guard is evhttp's bevcb: it makes each accepted connection's
 * bufferevent (a plain socket one, or http-tls.c's), keeps a reference to it, and a zero
 * timer later — evhttp has set the socket by then — reads its peer's address:
 *   - over max_per_client connections from that address, or max_total in all: the socket
 *     is shut down (a plain HTTP client first gets a 503 line), evhttp sees EOF and frees
 *     the connection;
 *   - a request (headers and body) that has not fully arrived within request_timeout is
 *     shut down the same way (slowloris): a connection's first from its accept, each later
 *     one on a kept-alive connection from its first byte (a callback on the input buffer).
 * A connection goes REQ (timed) -> BUSY (http_guard_request: its request is in; input is
 * not timed while the handler, a stream or the reply runs) -> IDLE (the reply is sent:
 * the request's on_complete callback; evhttp's idle timeout bounds it) -> REQ on the next
 * byte (or at once when bytes of a pipelined request wait). A sweep each second notices
 * connections evhttp has freed (all their callbacks reset to NULL by bufferevent_free) and
 * drops the reference.
 *
 * Invariants: every entry holds one reference on its bufferevent, released exactly once
 * (sweep or http_guard_free); an entry counts toward its address and the total from the
 * moment its address is known until it is dropped; a counted address has a count > 0; an
 * entry has a deadline only while it is REQ (a cut one has none); an entry is in by_bev
 * exactly while it is in conns. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/hmap.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "net/http.h"

enum guard_state { GUARD_REQ, GUARD_BUSY, GUARD_IDLE };

struct guard_conn {
	struct guard_conn *next;
	struct http_guard *g;
	struct bufferevent *bev;
	struct evbuffer_cb_entry *input_cb; /* on_input, on bev's input */
	char key[2 * sizeof(void *) + 4];   /* bev's address: its by_bev key */
	char addr[INET6_ADDRSTRLEN];        /* "" until known */
	enum guard_state state;
	uint64_t deadline_usec; /* monotonic, while REQ; 0 otherwise (or once cut) */
	bool admitted;          /* on_admit has looked at it */
};

struct http_guard {
	struct event_base *base;
	struct http_limits lim;
	struct http_tls *tls; /* or NULL */
	struct guard_conn *conns;
	size_t total;         /* counted connections */
	struct hmap per_addr; /* address -> count (uintptr_t) */
	struct hmap by_bev;   /* guard_conn.key -> its guard_conn */
	struct event *sweep_ev, *admit_ev;
	uint64_t refused, timed_out;
};

static void count_drop(struct http_guard *g, struct guard_conn *c)
{
	if (!c->addr[0])
		return;
	uintptr_t n = (uintptr_t)hmap_get(&g->per_addr, c->addr);
	if (n <= 1)
		hmap_del(&g->per_addr, c->addr);
	else
		hmap_put(&g->per_addr, c->addr, (void *)(n - 1));
	g->total--;
	c->addr[0] = '\0';
}

/* bufferevent_free resets every callback: evhttp is done with it. The read callback alone
 * is not enough: evhttp clears it while it writes a reply (evhttp_write_buffer), and a
 * sweep then took a live connection for a freed one (its count and timer lost). */
static bool gone(struct guard_conn *c)
{
	bufferevent_data_cb rd = NULL;
	bufferevent_event_cb ev = NULL;
	bufferevent_getcb(c->bev, &rd, NULL, &ev, NULL);
	return rd == NULL && ev == NULL;
}

static void cut(struct http_guard *g, struct guard_conn *c, const char *answer)
{
	evutil_socket_t fd = bufferevent_getfd(c->bev);
	if (fd < 0)
		return;
	if (answer && !g->tls)
		(void)!send(fd, answer, strlen(answer), MSG_DONTWAIT | MSG_NOSIGNAL);
	shutdown(fd, SHUT_RDWR);
}

static void arm(struct guard_conn *c)
{
	c->state = GUARD_REQ;
	c->deadline_usec = time_mono_usec() + (uint64_t)c->g->lim.request_timeout_sec * 1000000u;
}

/* Bytes arrived: the next request on an idle kept-alive connection has begun. */
static void on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	(void)buf;
	struct guard_conn *c = arg;
	if (info->n_added > 0 && c->state == GUARD_IDLE)
		arm(c);
}

/* Its reply is sent (evhttp_send_done): the connection waits for its next request. */
static void on_complete(struct evhttp_request *req, void *arg)
{
	(void)req;
	struct guard_conn *c = arg;
	if (c->state != GUARD_BUSY)
		return;
	c->state = GUARD_IDLE;
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		arm(c); /* a pipelined request's bytes are already in */
}

static void conn_free(struct http_guard *g, struct guard_conn *c)
{
	hmap_del(&g->by_bev, c->key);
	evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->input_cb);
	bufferevent_decref(c->bev);
	free(c);
}

static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
			   "Content-Length: 34\r\nConnection: close\r\n\r\n"
			   "{\"message\":\"Too many connections\"}";

static void on_sweep(evutil_socket_t fd, short what, void *arg);

/* New connections: their addresses, and the caps. Those evhttp has freed are dropped first:
 * the reference held keeps a freed connection's socket open until then, so under churn
 * they must not wait for the second's sweep (descriptors). */
static void on_admit(evutil_socket_t fd_, short what, void *arg)
{
	struct http_guard *g = arg;
	on_sweep(-1, 0, g);
	for (struct guard_conn *c = g->conns; c; c = c->next) {
		if (c->admitted || gone(c))
			continue;
		c->admitted = true;
		evutil_socket_t fd = bufferevent_getfd(c->bev);
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &sl) == -1)
			continue;
		char a[INET6_ADDRSTRLEN] = "?";
		if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, a, sizeof(a));
		else if (ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, a, sizeof(a));
		uintptr_t n = (uintptr_t)hmap_get(&g->per_addr, a);
		if (n >= g->lim.max_per_client || g->total >= g->lim.max_total) {
			if (g->refused++ % 1000 == 0)
				log_warn("http", "connection from %s refused: %s (%zu open in all)", a,
					 n >= g->lim.max_per_client ? "too many from it" : "too many",
					 g->total);
			c->deadline_usec = 0; /* not counted, not timed: only swept */
			cut(g, c, busy);
			continue;
		}
		snprintf(c->addr, sizeof(c->addr), "%s", a);
		hmap_put(&g->per_addr, a, (void *)(n + 1));
		g->total++;
	}
}

static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct http_guard *g = arg;
	uint64_t now = time_mono_usec();
	for (struct guard_conn **pp = &g->conns; *pp;) {
		struct guard_conn *c = *pp;
		if (gone(c)) {
			count_drop(g, c);
			*pp = c->next;
			conn_free(g, c);
			continue;
		}
		if (c->deadline_usec && now >= c->deadline_usec) {
			if (g->timed_out++ % 1000 == 0)
				log_warn("http", "connection from %s cut: no complete request within "
						 "%us", c->addr[0] ? c->addr : "?",
					 g->lim.request_timeout_sec);
			c->deadline_usec = 0;
			cut(g, c, NULL);
		}
		pp = &c->next;
	}
}

struct bufferevent *http_guard_bev(struct event_base *base, void *arg)
{
	struct http_guard *g = arg;
	struct bufferevent *bev = g->tls ? http_tls_bev(base, g->tls)
					 : bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!bev)
		return NULL;
	bufferevent_incref(bev);
	struct guard_conn *c = xcalloc(1, sizeof(*c));
	c->g = g;
	c->bev = bev;
	snprintf(c->key, sizeof(c->key), "%p", (void *)bev);
	c->input_cb = evbuffer_add_cb(bufferevent_get_input(bev), on_input, c);
	hmap_put(&g->by_bev, c->key, c);
	arm(c);
	c->next = g->conns;
	g->conns = c;
	event_active(g->admit_ev, EV_TIMEOUT, 0);
	return bev;
}

void http_guard_request(struct http_guard *g, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	char key[sizeof(((struct guard_conn *)0)->key)];
	snprintf(key, sizeof(key), "%p", (void *)bev);
	struct guard_conn *c = bev ? hmap_get(&g->by_bev, key) : NULL;
	if (!c)
		return;
	c->deadline_usec = 0;
	c->state = GUARD_BUSY;
	/* c outlives req: it is freed only once evhttp has freed the connection (and so req). */
	evhttp_request_set_on_complete_cb(req, on_complete, c);
}

struct http_guard *http_guard_new(struct event_base *base, const struct http_limits *lim,
				  struct http_tls *tls)
{
	struct http_guard *g = xcalloc(1, sizeof(*g));
	g->base = base;
	g->lim = *lim;
	g->tls = tls;
	hmap_init(&g->per_addr);
	hmap_init(&g->by_bev);
	g->sweep_ev = event_new(base, -1, EV_PERSIST, on_sweep, g);
	g->admit_ev = event_new(base, -1, 0, on_admit, g);
	struct timeval one = { 1, 0 };
	event_add(g->sweep_ev, &one);
	return g;
}

void http_guard_set_tls(struct http_guard *g, struct http_tls *tls)
{
	g->tls = tls;
}

void http_guard_free(struct http_guard *g)
{
	if (!g)
		return;
	event_free(g->sweep_ev);
	event_free(g->admit_ev);
	while (g->conns) {
		struct guard_conn *c = g->conns;
		g->conns = c->next;
		conn_free(g, c);
	}
	hmap_release(&g->per_addr);
	hmap_release(&g->by_bev);
	free(g);
}
