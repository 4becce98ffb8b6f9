/* The BRIDGE port forwarder; see exec-portfwd.h. Plain libc. */
#include "executor/exec-portfwd.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF 16384

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

static void relay(const int *lfd, const struct exec_portmap *m, size_t n)
{
	static struct conn conns[PORTFWD_MAX_CONNS];
	static struct pollfd pf[EXEC_SPEC_MAX_PORTMAPS + 2 * PORTFWD_MAX_CONNS];
	static int slot[2 * PORTFWD_MAX_CONNS];
	for (size_t i = 0; i < PORTFWD_MAX_CONNS; i++)
		conns[i].fd[0] = conns[i].fd[1] = -1;
	for (;;) {
		size_t np = 0;
		for (size_t i = 0; i < n; i++)
			pf[np++] = (struct pollfd){ .fd = lfd[i], .events = POLLIN };
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
		if (poll(pf, np, -1) == -1 && errno != EINTR)
			_exit(1);
		for (size_t i = 0; i < n; i++)
			if (pf[i].revents & POLLIN)
				conn_open(conns, lfd[i], m[i].container);
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
		if (m[i].udp) {
			snprintf(msg, msglen, "port mapping %u:%u: udp is not supported in BRIDGE "
				 "networking", (unsigned)m[i].host, (unsigned)m[i].container);
			r = -ENOTSUP;
			break;
		}
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		int one = 1;
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(m[i].host) };
		if (s == -1 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
		    bind(s, (struct sockaddr *)&sa, sizeof(sa)) == -1 || listen(s, 128) == -1) {
			r = -errno;
			snprintf(msg, msglen, "cannot listen on host port %u: %s", (unsigned)m[i].host,
				 strerror(errno));
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
