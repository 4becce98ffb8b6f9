/* Forwarding of the names outside the domain to --dns-resolvers (Mesos-DNS's
 * HandleNonMesos, which exchanges with the resolver over the client's own protocol): the
 * client's query goes, with an id of ours, to the first resolver, over UDP when it came
 * over UDP and over a TCP connection of its own (RFC 7766 framing) when it came over TCP;
 * the answer goes back to the client as it came, with the client's id. So a UDP answer the
 * resolver truncated reaches the client with TC set, and the client's retry over TCP is
 * forwarded over TCP and gets the whole answer. A resolver that does not answer within
 * DNS_FWD_TIMEOUT_SEC (or, over TCP, closes or refuses the connection first) passes the
 * query to the next; when none is left the client gets SERVFAIL.
 *
 * Bounds: at most DNS_FWD_MAX queries in flight, of which DNS_FWD_MAX_TCP over TCP (more
 * are answered SERVFAIL at once); an answer over TCP is at most 65,535 bytes by its framing.
 * A TCP client that goes away frees its slots and closes their connections. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "dns/dns-int.h"
#include "dns/dns-wire.h"

#define DNS_FWD_MAX 1024
#define DNS_FWD_MAX_TCP 256
#define DNS_FWD_TIMEOUT_SEC 2

struct fwd_slot {
	struct dns *d;
	bool used;
	uint16_t id;             /* ours, toward the resolver */
	uint16_t client_id;
	struct sockaddr_in client; /* UDP client */
	struct dns_tcp *conn;    /* or a TCP client */
	struct bufferevent *up;  /* a TCP client's: the connection to the resolver asked now */
	unsigned resolver;       /* the one asked now */
	uint64_t deadline_usec;  /* monotonic */
	uint8_t *query;          /* with our id */
	size_t len;
};

struct dns_fwd {
	int fd;
	struct event *ev, *tick;
	struct fwd_slot slots[DNS_FWD_MAX];
	unsigned nused;
	unsigned ntcp;           /* slots of TCP clients */
};

int dns_fwd_parse(struct dns *d, const char *text)
{
	const char *p = text;
	while (*p) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		char buf[64];
		if (!n || n >= sizeof(buf) || d->nresolvers == DNS_MAX_RESOLVERS)
			return -EINVAL;
		memcpy(buf, p, n);
		buf[n] = '\0';
		char *colon = strchr(buf, ':');
		unsigned long port = 53;
		if (colon) {
			*colon = '\0';
			char *end;
			port = strtoul(colon + 1, &end, 10);
			if (*end || !port || port > 65535)
				return -EINVAL;
		}
		struct sockaddr_in *sa = &d->resolvers[d->nresolvers];
		*sa = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
		if (inet_pton(AF_INET, buf, &sa->sin_addr) != 1)
			return -EINVAL;
		d->nresolvers++;
		p += n + (c ? 1 : 0);
	}
	return 0;
}

static void reply(struct dns *d, struct fwd_slot *s, uint8_t *b, size_t n)
{
	b[0] = (uint8_t)(s->client_id >> 8);
	b[1] = (uint8_t)s->client_id;
	if (s->conn)
		dns_server_send_tcp(d, s->conn, b, n);
	else
		(void)sendto(d->udp_fd, b, n, 0, (struct sockaddr *)&s->client, sizeof(s->client));
}

static void slot_free(struct dns_fwd *f, struct fwd_slot *s)
{
	if (s->up)
		bufferevent_free(s->up);
	if (s->conn)
		f->ntcp--;
	free(s->query);
	*s = (struct fwd_slot){ 0 };
	f->nused--;
}

static void servfail(struct dns *d, struct fwd_slot *s)
{
	uint8_t b[12];
	struct dns_query q = { .id = s->client_id, .flags = 0x0100 };
	size_t n = dns_msg_error(b, sizeof(b), &q, DNS_R_SERVFAIL);
	reply(d, s, b, n);
}

static void on_answer(evutil_socket_t fd, short what, void *ctx)
{
	(void)what;
	struct dns *d = ctx;
	struct dns_fwd *f = d->fwd;
	uint8_t b[DNS_MAX_MSG];
	for (int i = 0; i < 64; i++) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, b, sizeof(b), 0, (struct sockaddr *)&from, &fl);
		if (n < 12)
			return;
		uint16_t id = (uint16_t)(b[0] << 8 | b[1]);
		struct fwd_slot *s = &f->slots[id % DNS_FWD_MAX];
		const struct sockaddr_in *r = s->used ? &d->resolvers[s->resolver] : NULL;
		if (!r || s->conn || s->id != id || from.sin_addr.s_addr != r->sin_addr.s_addr ||
		    from.sin_port != r->sin_port)
			continue; /* late, spoofed or unknown */
		reply(d, s, b, (size_t)n);
		slot_free(f, s);
	}
}

static void send_to_resolver(struct dns *d, struct fwd_slot *s);

/* The resolver asked now failed s: the next one, else SERVFAIL. */
static void next_resolver(struct dns *d, struct fwd_slot *s)
{
	if (s->resolver + 1 < d->nresolvers) {
		s->resolver++;
		send_to_resolver(d, s);
	} else {
		servfail(d, s);
		slot_free(d->fwd, s);
	}
}

/* A TCP resolver's answer: a two-byte length, then the message. */
static void on_up_read(struct bufferevent *bev, void *ctx)
{
	struct fwd_slot *s = ctx;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t hdr[2];
	if (evbuffer_copyout(in, hdr, 2) < 2)
		return;
	size_t n = (size_t)(hdr[0] << 8 | hdr[1]);
	if (evbuffer_get_length(in) < 2 + n)
		return;
	static uint8_t b[DNS_MAX_MSG];
	evbuffer_drain(in, 2);
	evbuffer_remove(in, b, n);
	struct dns *d = s->d;
	if (n < 12 || (uint16_t)(b[0] << 8 | b[1]) != s->id) {
		next_resolver(d, s); /* not an answer to our query */
		return;
	}
	reply(d, s, b, n);
	slot_free(d->fwd, s);
}

static void on_up_event(struct bufferevent *bev, short what, void *ctx)
{
	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		return;
	struct fwd_slot *s = ctx; /* refused, reset or closed before the whole answer */
	next_resolver(s->d, s);
}

/* A TCP client's query: a connection of its own to the resolver, the query written. */
static int connect_up(struct dns *d, struct fwd_slot *s, const struct sockaddr_in *r)
{
	if (s->up)
		bufferevent_free(s->up);
	s->up = bufferevent_socket_new(d->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!s->up)
		return -ENOMEM;
	bufferevent_setcb(s->up, on_up_read, NULL, on_up_event, s);
	bufferevent_setwatermark(s->up, EV_READ, 0, DNS_MAX_MSG + 2);
	uint8_t len[2] = { (uint8_t)(s->len >> 8), (uint8_t)s->len };
	if (bufferevent_socket_connect(s->up, (const struct sockaddr *)r, sizeof(*r)) < 0 ||
	    bufferevent_write(s->up, len, 2) < 0 || bufferevent_write(s->up, s->query, s->len) < 0 ||
	    bufferevent_enable(s->up, EV_READ | EV_WRITE) < 0)
		return -ECONNREFUSED;
	return 0;
}

static void send_to_resolver(struct dns *d, struct fwd_slot *s)
{
	const struct sockaddr_in *r = &d->resolvers[s->resolver];
	s->deadline_usec = time_mono_usec() + DNS_FWD_TIMEOUT_SEC * 1000000ull;
	if (!s->conn) {
		(void)sendto(d->fwd->fd, s->query, s->len, 0, (const struct sockaddr *)r,
			     sizeof(*r));
		return;
	}
	/* A connection that fails at once waits for its deadline (the tick moves on), so
	 * that a list of refusing resolvers is not walked recursively. */
	if (connect_up(d, s, r) < 0 && s->up) {
		bufferevent_free(s->up);
		s->up = NULL;
	}
}

static void on_tick(evutil_socket_t fd, short what, void *ctx)
{
	(void)fd;
	(void)what;
	struct dns *d = ctx;
	struct dns_fwd *f = d->fwd;
	uint64_t now = time_mono_usec();
	for (size_t i = 0; f->nused && i < DNS_FWD_MAX; i++) {
		struct fwd_slot *s = &f->slots[i];
		if (!s->used || s->deadline_usec > now)
			continue;
		next_resolver(d, s);
	}
}

int dns_fwd_start(struct dns *d)
{
	struct dns_fwd *f = xcalloc(1, sizeof(*f));
	d->fwd = f;
	f->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (f->fd == -1)
		return -errno;
	f->ev = event_new(d->base, f->fd, EV_READ | EV_PERSIST, on_answer, d);
	f->tick = event_new(d->base, -1, EV_PERSIST, on_tick, d);
	struct timeval tv = { 0, 250000 };
	if (!f->ev || !f->tick || event_add(f->ev, NULL) < 0 || event_add(f->tick, &tv) < 0)
		return -ENOMEM;
	return 0;
}

void dns_fwd_stop(struct dns *d)
{
	struct dns_fwd *f = d->fwd;
	if (!f)
		return;
	for (size_t i = 0; i < DNS_FWD_MAX; i++)
		if (f->slots[i].used)
			slot_free(f, &f->slots[i]);
	if (f->ev)
		event_free(f->ev);
	if (f->tick)
		event_free(f->tick);
	if (f->fd >= 0)
		close(f->fd);
	free(f);
	d->fwd = NULL;
}

void dns_fwd_conn_gone(struct dns *d, struct dns_tcp *conn)
{
	struct dns_fwd *f = d->fwd;
	for (size_t i = 0; f && f->nused && i < DNS_FWD_MAX; i++)
		if (f->slots[i].used && f->slots[i].conn == conn)
			slot_free(f, &f->slots[i]);
}

void dns_fwd_query(struct dns *d, const uint8_t *q, size_t n, const struct sockaddr_in *from,
		   struct dns_tcp *conn)
{
	struct dns_fwd *f = d->fwd;
	uint16_t client_id = (uint16_t)(q[0] << 8 | q[1]);
	/* A free slot: ids are random, the slot is id % DNS_FWD_MAX. */
	struct fwd_slot *s = NULL;
	uint16_t id = 0;
	for (int tries = 0; tries < 16 && !s; tries++) {
		id = (uint16_t)random();
		if (!f->slots[id % DNS_FWD_MAX].used)
			s = &f->slots[id % DNS_FWD_MAX];
	}
	if (!s || (conn && f->ntcp >= DNS_FWD_MAX_TCP)) {
		struct fwd_slot tmp = { .client_id = client_id, .conn = conn };
		if (from)
			tmp.client = *from;
		servfail(d, &tmp);
		return;
	}
	*s = (struct fwd_slot){ .d = d, .used = true, .id = id, .client_id = client_id, .conn = conn,
				.query = xmalloc(n), .len = n };
	if (from)
		s->client = *from;
	memcpy(s->query, q, n);
	s->query[0] = (uint8_t)(id >> 8);
	s->query[1] = (uint8_t)id;
	f->nused++;
	if (conn)
		f->ntcp++;
	send_to_resolver(d, s);
}
