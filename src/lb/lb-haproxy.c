/* Running HAProxy in master-worker mode (see lb-haproxy.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "lb/lb-haproxy.h"

#define CLI_TIMEOUT_MS 5000
#define START_TIMEOUT_MS 15000

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

void lbh_init(struct lbh *h, const char *haproxy, const char *dir)
{
	memset(h, 0, sizeof(*h));
	h->haproxy = haproxy;
	h->dir = xstrdup(dir);
	h->cfg = xasprintf("%s/haproxy.cfg", dir);
	h->master_sock = xasprintf("%s/master.sock", dir);
	h->sock = xasprintf("%s/haproxy.sock", dir);
}

void lbh_release(struct lbh *h)
{
	if (h->master > 0) {
		/* soft stop (connections finish) for 3 s, then a hard one, then SIGKILL */
		static const int sigs[] = { SIGUSR1, SIGTERM, SIGKILL };
		static const int wait_ms[] = { 3000, 2000, 5000 };
		for (size_t i = 0; i < 3; i++) {
			kill(h->master, sigs[i]);
			long long end = now_ms() + wait_ms[i];
			pid_t w;
			while ((w = waitpid(h->master, NULL, WNOHANG)) == 0 && now_ms() < end)
				sleep_ms(20);
			if (w == h->master || (w < 0 && errno == ECHILD))
				break;
		}
	}
	free(h->dir);
	free(h->cfg);
	free(h->master_sock);
	free(h->sock);
	memset(h, 0, sizeof(*h));
}

/* Runs argv, its stdout and stderr into out when out is not NULL. Returns the exit status
 * (>= 0) or -errno. */
static int run(char *const argv[], struct strbuf *out)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return -e;
	}
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		execv(argv[0], argv);
		dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	char buf[4096];
	ssize_t n;
	while ((n = read(p[0], buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0 && out && out->len < 64 * 1024)
			strbuf_add(out, buf, (size_t)n);
	close(p[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int lbh_check(struct lbh *h, const char *file, struct strbuf *msg)
{
	char *argv[] = { (char *)h->haproxy, "-c", "-f", (char *)file, NULL };
	int r = run(argv, msg);
	if (r < 0)
		return r;
	if (r == 127)
		return -ENOENT;
	return r == 0 ? 0 : -EINVAL;
}

/* One exchange on a CLI socket (the master's or a worker's): sends line, reads until the
 * peer closes. */
static int cli(const char *path, const char *line, int timeout_ms, struct strbuf *reply)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		close(fd);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	size_t len = strlen(line), off = 0;
	while (off < len) {
		ssize_t n = send(fd, line + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		off += (size_t)n;
	}
	long long end = now_ms() + timeout_ms;
	int r = 0;
	for (;;) {
		long long left = end - now_ms();
		struct pollfd pfd = { fd, POLLIN, 0 };
		if (left <= 0) {
			r = -ETIMEDOUT;
			break;
		}
		int pr = poll(&pfd, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0) {
			r = pr < 0 ? -errno : -ETIMEDOUT;
			break;
		}
		char buf[4096];
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : 0;
			break;
		}
		if (reply && reply->len < 1024 * 1024)
			strbuf_add(reply, buf, (size_t)n);
	}
	close(fd);
	return r;
}

/* The current worker's pid, from the master's "show proc", or -errno. A short timeout:
 * a connection the master accepted just before it re-executed itself is never answered. */
static pid_t current_worker(struct lbh *h)
{
	struct strbuf out = STRBUF_INIT;
	int r = cli(h->master_sock, "show proc\n", 250, &out);
	pid_t pid = r < 0 ? r : -EAGAIN;
	const char *w = out.buf ? strstr(out.buf, "# workers\n") : NULL;
	if (w) {
		long v = strtol(w + strlen("# workers\n"), NULL, 10);
		if (v > 0)
			pid = (pid_t)v;
	}
	strbuf_release(&out);
	return pid;
}

/* Waits for a current worker other than old. */
static int wait_worker(struct lbh *h, pid_t old)
{
	long long end = now_ms() + START_TIMEOUT_MS;
	for (;;) {
		if (h->master > 0 && waitpid(h->master, NULL, WNOHANG) == h->master) {
			log_error("lb", "haproxy exited");
			h->master = 0;
			return -ECHILD;
		}
		pid_t w = current_worker(h);
		if (w > 0 && w != old) {
			h->worker = w;
			return 0;
		}
		if (now_ms() > end) {
			log_error("lb", "haproxy has no new worker after %d s", START_TIMEOUT_MS / 1000);
			return -ETIMEDOUT;
		}
		sleep_ms(10);
	}
}

static int start(struct lbh *h)
{
	unlink(h->master_sock);
	_cleanup_free_ char *sock = xasprintf("%s,mode,600", h->master_sock);
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		setpgid(0, 0); /* a ^C at the lb's terminal is the lb's to handle */
		execl(h->haproxy, h->haproxy, "-W", "-S", sock, "-f", h->cfg, (char *)NULL);
		dprintf(2, "cannot run %s: %s\n", h->haproxy, strerror(errno));
		_exit(127);
	}
	h->master = pid;
	int r = wait_worker(h, 0);
	if (!r)
		log_info("lb", "haproxy started (master %d, worker %d)", (int)pid, (int)h->worker);
	return r;
}

bool lbh_alive(struct lbh *h)
{
	int st;
	if (h->master > 0 && waitpid(h->master, &st, WNOHANG) == h->master) {
		log_warn("lb", "haproxy master %d exited (%s %d); starting it again",
			 (int)h->master, WIFEXITED(st) ? "status" : "signal",
			 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		h->master = 0;
		h->worker = 0;
	}
	return h->master > 0;
}

int lbh_apply(struct lbh *h)
{
	lbh_alive(h);
	if (h->master <= 0)
		return start(h);
	pid_t old = h->worker;
	if (kill(h->master, SIGUSR2) < 0)
		return -errno;
	int r = wait_worker(h, old);
	if (!r) {
		h->reloads++;
		log_info("lb", "haproxy reloaded (worker %d, was %d)", (int)h->worker, (int)old);
	}
	return r;
}

int lbh_runtime(struct lbh *h, const char *cmds, struct strbuf *reply)
{
	if (h->master <= 0 || h->worker <= 0)
		return -ESRCH;
	/* "show info" first, on the same connection: its Pid says which process ran the
	 * commands. Right after a reload an old worker may still accept on the socket; what
	 * it runs is harmless (it is draining), and the commands are sent again. */
	struct strbuf line = STRBUF_INIT;
	strbuf_adds(&line, "show info");
	for (const char *p = cmds; *p;) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l) {
			strbuf_adds(&line, "; ");
			strbuf_add(&line, p, l);
		}
		p = e ? e + 1 : p + l;
	}
	strbuf_addch(&line, '\n');
	char want[32];
	snprintf(want, sizeof(want), "\nPid: %d\n", (int)h->worker);
	long long end = now_ms() + CLI_TIMEOUT_MS;
	int r;
	for (;;) {
		struct strbuf out = STRBUF_INIT;
		r = cli(h->sock, line.buf, CLI_TIMEOUT_MS, &out);
		bool ours = r == 0 && out.buf && strstr(out.buf, want);
		if (ours && reply) {
			/* the commands' answers follow show info's blank line */
			const char *a = strstr(out.buf, "\n\n");
			if (a)
				strbuf_adds(reply, a + 2);
		}
		strbuf_release(&out);
		if (ours)
			break;
		if (now_ms() > end) {
			r = r < 0 ? r : -ETIMEDOUT;
			break;
		}
		sleep_ms(20);
	}
	strbuf_release(&line);
	return r;
}
