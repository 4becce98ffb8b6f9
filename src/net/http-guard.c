/* Connection caps and the first-request timeout of an HTTP server (http.h:
 * http_server_set_limits), without touching the bytes: libevent 2.1's evhttp has no hook
 * before a request is parsed, and a bufferevent filter stalls replies in 2.1.12
 * (docs/security.md). So the guard is evhttp's bevcb: it makes each accepted connection's
 * bufferevent (a plain socket one, or http-tls.c's), keeps a reference to it, and a zero
 * timer later — evhttp has set the socket by then — reads its peer's address:
 *   - over max_per_client connections from that address, or max_total in all: the socket
 *     is shut down (a plain HTTP client first gets a 503 line), evhttp sees EOF and frees
 *     the connection;
 *   - a connection whose first request (headers and body) has not fully arrived within
 *     request_timeout is shut down the same way (slowloris); http_guard_request marks it.
 * A sweep each second notices connections evhttp has freed (their callbacks reset to NULL
 * by bufferevent_free) and drops the reference.
 *
 * Invariants: every entry holds one reference on its bufferevent, released exactly once
 * (sweep or http_guard_free); an entry counts toward its address and the total from the
 * moment its address is known until it is dropped; a counted address has a count > 0. */
#include <arpa/inet.h>
#include <errno.h>
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

struct guard_conn {
	struct guard_conn *next;
	struct bufferevent *bev;
	char addr[INET6_ADDRSTRLEN]; /* "" until known */
	uint64_t deadline_usec;      /* monotonic; 0 once its first request arrived or cut */
	bool admitted;               /* on_admit has looked at it */
};

struct http_guard {
	struct event_base *base;
	struct http_limits lim;
	struct http_tls *tls; /* or NULL */
	struct guard_conn *conns;
	size_t total;         /* counted connections */
	size_t pending;       /* entries with a deadline */
	struct hmap per_addr; /* address -> count (uintptr_t) */
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

static bool gone(struct guard_conn *c)
{
	bufferevent_data_cb rd = NULL;
	bufferevent_getcb(c->bev, &rd, NULL, NULL, NULL);
	return rd == NULL; /* bufferevent_free reset it: evhttp is done with it */
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
			if (c->deadline_usec)
				g->pending--;
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
			if (c->deadline_usec)
				g->pending--;
			*pp = c->next;
			bufferevent_decref(c->bev);
			free(c);
			continue;
		}
		if (c->deadline_usec && now >= c->deadline_usec) {
			if (g->timed_out++ % 1000 == 0)
				log_warn("http", "connection from %s cut: no complete request within "
						 "%us", c->addr[0] ? c->addr : "?",
					 g->lim.request_timeout_sec);
			c->deadline_usec = 0;
			g->pending--;
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
	c->bev = bev;
	c->deadline_usec = time_mono_usec() + (uint64_t)g->lim.request_timeout_sec * 1000000u;
	c->next = g->conns;
	g->conns = c;
	g->pending++;
	event_active(g->admit_ev, EV_TIMEOUT, 0);
	return bev;
}

void http_guard_request(struct http_guard *g, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	size_t left = g->pending; /* only entries with a deadline can need this */
	for (struct guard_conn *c = g->conns; c && bev && left; c = c->next) {
		if (!c->deadline_usec)
			continue;
		if (c->bev == bev) {
			c->deadline_usec = 0;
			g->pending--;
			return;
		}
		left--;
	}
}

struct http_guard *http_guard_new(struct event_base *base, const struct http_limits *lim,
				  struct http_tls *tls)
{
	struct http_guard *g = xcalloc(1, sizeof(*g));
	g->base = base;
	g->lim = *lim;
	g->tls = tls;
	hmap_init(&g->per_addr);
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
		bufferevent_decref(c->bev);
		free(c);
	}
	hmap_release(&g->per_addr);
	free(g);
}
