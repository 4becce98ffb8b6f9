/* The BRIDGE port forwarder; see exec-portfwd.h. Plain libc. */
#include "executor/exec-portfwd.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF 16384
#define UDP_IDLE_SEC 120
#define UDP_BURST 64 /* datagrams moved per socket per wakeup: no socket starves the rest */

/* A UDP "connection": one client address of one mapping, relayed through its own socket in
 * the container's namespace (connected to 127.0.0.1:<containerPort>), so that replies find
 * their client. */
struct usess {
	int fd;           /* -1: free */
	size_t map;
	struct sockaddr_in peer;
	time_t last;
};

static unsigned char dgram[65536];

struct conn {
	int fd[2];        /* 0: the accepted client, 1: the container */
	char *buf[2];     /* buf[d]: read from fd[d], to write to fd[!d] */
	size_t len[2], off[2];
	int eof[2];
};

static int lo_up(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s == -1)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	int r = 0;
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == -1)
		r = -errno;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (!r && ioctl(s, SIOCSIFFLAGS, &ifr) == -1)
		r = -errno;
	close(s);
	return r;
}

static void conn_close(struct conn *c)
{
	for (int d = 0; d < 2; d++) {
		close(c->fd[d]);
		free(c->buf[d]);
	}
	memset(c, 0, sizeof(*c));
	c->fd[0] = c->fd[1] = -1;
}

static void conn_open(struct conn *conns, int lfd, uint16_t cport)
{
	int a = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (a == -1)
		return;
	struct conn *c = NULL;
	for (size_t i = 0; i < PORTFWD_MAX_CONNS && !c; i++)
		if (conns[i].fd[0] < 0)
			c = &conns[i];
	int b = c ? socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0) : -1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(cport),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	/* Loopback: the connect is answered at once (accepted or refused). */
	if (b == -1 || connect(b, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    fcntl(b, F_SETFL, O_NONBLOCK) == -1 || !(c->buf[0] = malloc(BUF)) ||
	    !(c->buf[1] = malloc(BUF))) {
		if (c) {
			free(c->buf[0]);
			c->buf[0] = NULL;
		}
		close(a);
		if (b >= 0)
			close(b);
		return;
	}
	c->fd[0] = a;
	c->fd[1] = b;
}

/* One step of c after poll: reads where there is room, writes what is buffered. */
static void conn_step(struct conn *c, const struct pollfd *p0, const struct pollfd *p1)
{
	const struct pollfd *pf[2] = { p0, p1 };
	for (int d = 0; d < 2; d++) {
		int src = c->fd[d], dst = c->fd[!d];
		if (c->len[d] == 0 && !c->eof[d] && (pf[d]->revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t n = read(src, c->buf[d], BUF);
			if (n > 0) {
				c->len[d] = (size_t)n;
				c->off[d] = 0;
			} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				c->eof[d] = 1;
				shutdown(dst, SHUT_WR);
			}
		}
		if (c->len[d]) {
			ssize_t w = write(dst, c->buf[d] + c->off[d], c->len[d]);
			if (w > 0) {
				c->off[d] += (size_t)w;
				c->len[d] -= (size_t)w;
			} else if (w == -1 && errno != EAGAIN && errno != EINTR) {
				conn_close(c);
				return;
			}
		}
	}
	/* A side that hung up after its EOF, with nothing owed to it: nothing more can move
	 * (and poll would report the hang-up forever). */
	for (int d = 0; d < 2; d++)
		if ((pf[d]->revents & (POLLHUP | POLLERR)) && c->eof[d] && !c->len[!d]) {
			conn_close(c);
			return;
		}
	if (c->eof[0] && c->eof[1] && !c->len[0] && !c->len[1])
		conn_close(c);
}

static time_t now_sec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Datagrams from clients on the host port of mapping mi, each sent on by its client's
 * session (made, or the least recently used one reused, as needed). */
static void udp_from_clients(struct usess *us, int lfd, size_t mi, uint16_t cport)
{
	for (int k = 0; k < UDP_BURST; k++) {
		struct sockaddr_in peer;
		socklen_t pl = sizeof(peer);
		ssize_t n = recvfrom(lfd, dgram, sizeof(dgram), MSG_DONTWAIT, (struct sockaddr *)&peer,
				     &pl);
		if (n < 0)
			return;
		struct usess *u = NULL, *lru = &us[0], *free_one = NULL;
		for (size_t i = 0; i < PORTFWD_MAX_UDP && !u; i++) {
			if (us[i].fd < 0) {
				if (!free_one)
					free_one = &us[i];
				continue;
			}
			if (us[i].map == mi && us[i].peer.sin_port == peer.sin_port &&
			    us[i].peer.sin_addr.s_addr == peer.sin_addr.s_addr)
				u = &us[i];
			else if (us[i].last < lru->last || lru->fd < 0)
				lru = &us[i];
		}
		if (!u) {
			u = free_one ? free_one : lru;
			if (u->fd >= 0)
				close(u->fd);
			u->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
			struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(cport),
						  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
			if (u->fd >= 0 && connect(u->fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
				close(u->fd);
				u->fd = -1;
			}
			if (u->fd < 0)
				continue;
			u->map = mi;
			u->peer = peer;
		}
		u->last = now_sec();
		(void)send(u->fd, dgram, (size_t)n, MSG_DONTWAIT); /* UDP: a loss is a loss */
	}
}

/* Replies from the container on session u, back to its client from the host port. */
static void udp_to_client(struct usess *u, int lfd)
{
	for (int k = 0; k < UDP_BURST; k++) {
		ssize_t n = recv(u->fd, dgram, sizeof(dgram), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			continue; /* ECONNREFUSED: nothing listened for an earlier datagram */
		}
		u->last = now_sec();
		(void)sendto(lfd, dgram, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&u->peer,
			     sizeof(u->peer));
	}
}

static void relay(const int *lfd, const struct exec_portmap *m, size_t n)
{
	static struct conn conns[PORTFWD_MAX_CONNS];
	static struct usess us[PORTFWD_MAX_UDP];
	static struct pollfd pf[EXEC_SPEC_MAX_PORTMAPS + PORTFWD_MAX_UDP + 2 * PORTFWD_MAX_CONNS];
	static int slot[2 * PORTFWD_MAX_CONNS];
	static size_t uslot[PORTFWD_MAX_UDP];
	bool any_udp = false;
	for (size_t i = 0; i < PORTFWD_MAX_CONNS; i++)
		conns[i].fd[0] = conns[i].fd[1] = -1;
	for (size_t i = 0; i < PORTFWD_MAX_UDP; i++)
		us[i].fd = -1;
	for (size_t i = 0; i < n; i++)
		any_udp |= m[i].udp;
	for (;;) {
		size_t np = 0;
		for (size_t i = 0; i < n; i++)
			pf[np++] = (struct pollfd){ .fd = lfd[i], .events = POLLIN };
		size_t ufirst = np, nus = 0;
		time_t now = now_sec();
		for (size_t i = 0; i < PORTFWD_MAX_UDP; i++) {
			if (us[i].fd < 0)
				continue;
			if (now - us[i].last > UDP_IDLE_SEC) {
				close(us[i].fd);
				us[i].fd = -1;
				continue;
			}
			uslot[nus++] = i;
			pf[np++] = (struct pollfd){ .fd = us[i].fd, .events = POLLIN };
		}
		size_t first = np;
		for (size_t i = 0; i < PORTFWD_MAX_CONNS; i++) {
			struct conn *c = &conns[i];
			if (c->fd[0] < 0)
				continue;
			for (int d = 0; d < 2; d++) {
				short ev = 0;
				if (!c->len[d] && !c->eof[d])
					ev |= POLLIN;
				if (c->len[!d])
					ev |= POLLOUT;
				slot[np - first] = (int)i;
				pf[np++] = (struct pollfd){ .fd = c->fd[d], .events = ev };
			}
		}
		if (poll(pf, np, any_udp ? 10000 : -1) == -1 && errno != EINTR)
			_exit(1);
		for (size_t i = 0; i < n; i++) {
			if (!(pf[i].revents & POLLIN))
				continue;
			if (m[i].udp)
				udp_from_clients(us, lfd[i], i, m[i].container);
			else
				conn_open(conns, lfd[i], m[i].container);
		}
		for (size_t k = 0; k < nus; k++) {
			struct usess *u = &us[uslot[k]];
			/* A session reused above for another client has a new fd: poll it next
			 * round. */
			if (u->fd == pf[ufirst + k].fd && (pf[ufirst + k].revents & (POLLIN | POLLERR)))
				udp_to_client(u, lfd[u->map]);
		}
		for (size_t k = first; k + 1 < np; k += 2) {
			struct conn *c = &conns[slot[k - first]];
			if (c->fd[0] >= 0 && (pf[k].revents || pf[k + 1].revents))
				conn_step(c, &pf[k], &pf[k + 1]);
		}
	}
}

int exec_portfwd_start(const struct exec_portmap *m, size_t n, pid_t *pid, char *msg,
		       size_t msglen)
{
	int lfd[EXEC_SPEC_MAX_PORTMAPS];
	size_t nl = 0;
	int r = 0;
	for (size_t i = 0; i < n && i < EXEC_SPEC_MAX_PORTMAPS; i++) {
		int s = socket(AF_INET,
			       (m[i].udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		int one = 1;
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(m[i].host) };
		if (s == -1 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
		    bind(s, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
		    (!m[i].udp && listen(s, 128) == -1)) {
			r = -errno;
			snprintf(msg, msglen, "cannot %s host port %u%s: %s",
				 m[i].udp ? "bind" : "listen on", (unsigned)m[i].host,
				 m[i].udp ? "/udp" : "", strerror(errno));
			if (s >= 0)
				close(s);
			break;
		}
		lfd[nl++] = s;
	}
	int pfd[2] = { -1, -1 };
	if (!r && pipe2(pfd, O_CLOEXEC) == -1)
		r = -errno;
	pid_t p = r ? -1 : fork();
	if (p == 0) {
		close(pfd[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_IGN);
		int e = 0;
		if (unshare(CLONE_NEWNET) == -1)
			e = errno;
		else if (lo_up() < 0)
			e = errno ? errno : EIO;
		if (write(pfd[1], &e, sizeof(e)) != (ssize_t)sizeof(e) || e)
			_exit(1);
		close(pfd[1]);
		relay(lfd, m, nl);
		_exit(0);
	}
	if (!r && p == -1)
		r = -errno;
	for (size_t i = 0; i < nl; i++)
		close(lfd[i]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	if (!r) {
		int e = EIO;
		ssize_t k;
		do
			k = read(pfd[0], &e, sizeof(e));
		while (k == -1 && errno == EINTR);
		if (k != (ssize_t)sizeof(e) || e) {
			r = -(e ? e : EIO);
			snprintf(msg, msglen, "cannot make the container's network namespace: %s",
				 strerror(-r));
			kill(p, SIGKILL);
		} else {
			*pid = p;
		}
	}
	if (pfd[0] >= 0)
		close(pfd[0]);
	return r;
}
