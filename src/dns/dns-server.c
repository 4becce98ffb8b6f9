/* The DNS server's sockets on the master's event loop: one UDP socket (answers up to 512
 * bytes, or the query's EDNS0 size, TC set past it) and a TCP listener (RFC 7766: two-byte
 * length prefix, several queries per connection).
 *
 * Bounds: at most DNS_MAX_TCP_CONNS connections (more are closed at once); a connection
 * idle DNS_TCP_IDLE_SEC is closed; a connection that has DNS_TCP_MAX_OUT bytes of answers
 * unread stops being read until the client reads them. A UDP read handles at most
 * DNS_UDP_BURST datagrams before the loop runs other events; its answers are at most
 * DNS_UDP_OUT_MAX bytes whatever EDNS0 size a client asks for. The UDP socket's buffers are
 * raised to DNS_UDP_SOCKBUF so that a burst between two loop turns is not dropped. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "dns/dns-int.h"
#include "dns/dns-wire.h"

#define DNS_UDP_BURST 64
#define DNS_UDP_IN_MAX 4096   /* larger queries are dropped */
#define DNS_UDP_OUT_MAX 4096  /* the largest UDP answer (EDNS0 sizes above are cut to it) */
#define DNS_UDP_SOCKBUF (1024 * 1024)
#define DNS_TCP_IDLE_SEC 10
#define DNS_TCP_MAX_OUT (256u * 1024u)

struct dns_tcp {
	struct dns *d;
	struct bufferevent *bev;
	struct dns_tcp *prev, *next;
};

/* Reads up to DNS_UDP_BURST datagrams with one recvmmsg and sends their answers with one
 * sendmmsg (what NSD does too): the syscalls are most of a small query's cost. */
static void on_udp(evutil_socket_t fd, short what, void *ctx)
{
	(void)what;
	struct dns *d = ctx;
	static uint8_t in[DNS_UDP_BURST][DNS_UDP_IN_MAX], out[DNS_UDP_BURST][DNS_UDP_OUT_MAX];
	static struct sockaddr_in from[DNS_UDP_BURST];
	static struct iovec iin[DNS_UDP_BURST], iout[DNS_UDP_BURST];
	static struct mmsghdr min[DNS_UDP_BURST], mout[DNS_UDP_BURST];
	for (int i = 0; i < DNS_UDP_BURST; i++) {
		iin[i] = (struct iovec){ in[i], sizeof(in[i]) };
		min[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &from[i],
							.msg_namelen = sizeof(from[i]),
							.msg_iov = &iin[i], .msg_iovlen = 1 } };
	}
	int n = recvmmsg(fd, min, DNS_UDP_BURST, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return;
	int nout = 0;
	for (int i = 0; i < n; i++) {
		size_t qlen = min[i].msg_len;
		if (min[i].msg_hdr.msg_flags & MSG_TRUNC)
			qlen = 0; /* a query larger than any we answer: dropped */
		size_t len = qlen ? dns_answer(d, in[i], qlen, out[nout], DNS_UDP_OUT_MAX, true) : 0;
		if (len == DNS_FORWARD) {
			dns_fwd_query(d, in[i], qlen, &from[i], NULL);
		} else if (len) {
			iout[nout] = (struct iovec){ out[nout], len };
			mout[nout] = (struct mmsghdr){ .msg_hdr = {
				.msg_name = &from[i], .msg_namelen = min[i].msg_hdr.msg_namelen,
				.msg_iov = &iout[nout], .msg_iovlen = 1 } };
			nout++;
		}
	}
	for (int sent = 0; sent < nout;) {
		int r = sendmmsg(fd, mout + sent, (unsigned)(nout - sent), MSG_DONTWAIT);
		if (r <= 0)
			break; /* a full socket buffer: the rest are lost, as a UDP answer may be */
		sent += r;
	}
}

static void tcp_close(struct dns_tcp *c)
{
	struct dns *d = c->d;
	if (c->prev)
		c->prev->next = c->next;
	else
		d->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	d->nconns--;
	dns_fwd_conn_gone(d, c);
	bufferevent_free(c->bev);
	free(c);
}

static void on_tcp_read(struct bufferevent *bev, void *ctx)
{
	struct dns_tcp *c = ctx;
	struct evbuffer *in = bufferevent_get_input(bev), *outb = bufferevent_get_output(bev);
	static uint8_t q[DNS_MAX_MSG], a[DNS_MAX_MSG + 2];
	while (evbuffer_get_length(in) >= 2 && evbuffer_get_length(outb) < DNS_TCP_MAX_OUT) {
		uint8_t hdr[2];
		evbuffer_copyout(in, hdr, 2);
		size_t n = (size_t)(hdr[0] << 8 | hdr[1]);
		if (evbuffer_get_length(in) < 2 + n)
			return;
		evbuffer_drain(in, 2);
		evbuffer_remove(in, q, n);
		size_t len = dns_answer(c->d, q, n, a + 2, DNS_MAX_MSG, false);
		if (len == DNS_FORWARD) {
			dns_fwd_query(c->d, q, n, NULL, c);
			continue;
		}
		if (!len) {
			tcp_close(c);
			return;
		}
		a[0] = (uint8_t)(len >> 8);
		a[1] = (uint8_t)len;
		bufferevent_write(bev, a, len + 2);
	}
}

void dns_server_send_tcp(struct dns *d, struct dns_tcp *conn, const uint8_t *b, size_t n)
{
	(void)d;
	uint8_t len[2] = { (uint8_t)(n >> 8), (uint8_t)n };
	bufferevent_write(conn->bev, len, 2);
	bufferevent_write(conn->bev, b, n);
}

/* The client read what was queued: go on with the queries left waiting. */
static void on_tcp_write(struct bufferevent *bev, void *ctx)
{
	if (evbuffer_get_length(bufferevent_get_input(bev)) >= 2)
		on_tcp_read(bev, ctx);
}

static void on_tcp_event(struct bufferevent *bev, short what, void *ctx)
{
	(void)bev;
	(void)what; /* EOF, error or idle timeout */
	tcp_close(ctx);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *ctx)
{
	(void)l;
	(void)sa;
	(void)salen;
	struct dns *d = ctx;
	if (d->nconns >= DNS_MAX_TCP_CONNS) {
		close(fd);
		return;
	}
	struct bufferevent *bev = bufferevent_socket_new(d->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		close(fd);
		return;
	}
	struct dns_tcp *c = xcalloc(1, sizeof(*c));
	c->d = d;
	c->bev = bev;
	c->next = d->conns;
	if (d->conns)
		d->conns->prev = c;
	d->conns = c;
	d->nconns++;
	struct timeval idle = { DNS_TCP_IDLE_SEC, 0 };
	bufferevent_set_timeouts(bev, &idle, &idle);
	bufferevent_setcb(bev, on_tcp_read, on_tcp_write, on_tcp_event, c);
	bufferevent_setwatermark(bev, EV_READ, 0, DNS_MAX_MSG + 2);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

int dns_server_listen(struct dns *d, const char *addr, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return -EINVAL;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	/* No SO_REUSEADDR: on Linux it would let two servers share the UDP port. */
	int buf = DNS_UDP_SOCKBUF;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		int e = -errno;
		close(fd);
		return e;
	}
	socklen_t sl = sizeof(sa);
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	d->udp_fd = fd;
	d->port = ntohs(sa.sin_port);
	d->udp_ev = event_new(d->base, fd, EV_READ | EV_PERSIST, on_udp, d);
	if (!d->udp_ev || event_add(d->udp_ev, NULL) < 0)
		return -ENOMEM;
	/* TCP on the same port as UDP (a port 0 request got UDP's). */
	d->tcp = evconnlistener_new_bind(d->base, on_accept, d,
					 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
						 LEV_OPT_CLOSE_ON_EXEC,
					 128, (struct sockaddr *)&sa, sizeof(sa));
	if (!d->tcp)
		return errno ? -errno : -EADDRINUSE;
	return 0;
}

void dns_server_close(struct dns *d)
{
	while (d->conns)
		tcp_close(d->conns);
	if (d->tcp)
		evconnlistener_free(d->tcp);
	d->tcp = NULL;
	if (d->udp_ev)
		event_free(d->udp_ev);
	d->udp_ev = NULL;
	if (d->udp_fd >= 0)
		close(d->udp_fd);
	d->udp_fd = -1;
}
