/* Health and readiness checks in the shim; see exec-check.h for the state machine. */
#include "executor/exec-check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RX_MAX 256 /* the status line must fit */

enum phase { PH_WAIT, PH_CONNECT, PH_SEND, PH_RECV, PH_CMD, PH_HELPER, PH_DONE };

struct run {
	const struct exec_check *c;
	int hidx;           /* index among health checks; -1 for readiness */
	enum phase phase;
	int fd;
	pid_t pid;
	uint64_t next_ms;   /* WAIT: when the next attempt starts */
	uint64_t start_ms;  /* of the attempt in flight */
	uint64_t deadline_ms;
	size_t txoff, rxlen;
	char rx[RX_MAX];
	int passed;         /* passed at least once */
};

struct exec_checks {
	struct run runs[EXEC_SPEC_MAX_CHECKS];
	size_t n;
	size_t nready;      /* readiness checks */
	char **env;
	const char *sandbox;
	const char *https_helper;
	uint64_t task_start_ms;
	exec_checks_report_fn fn;
	void *ctx;
	struct exec_health h;
	void (*child_hook)(void *);
	void *child_hook_arg;
};

void exec_checks_set_child_hook(struct exec_checks *ck, void (*fn)(void *), void *arg)
{
	ck->child_hook = fn;
	ck->child_hook_arg = arg;
}

uint64_t exec_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t exec_real_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct exec_checks *exec_checks_new(const struct exec_check *checks, size_t n, char **env,
				    const char *sandbox, const char *https_helper,
				    uint64_t start_ms, exec_checks_report_fn fn, void *ctx)
{
	if (n == 0 || n > EXEC_SPEC_MAX_CHECKS)
		return NULL;
	struct exec_checks *ck = calloc(1, sizeof(*ck));
	if (!ck)
		return NULL;
	ck->n = n;
	ck->env = env;
	ck->sandbox = sandbox;
	ck->https_helper = https_helper;
	ck->task_start_ms = start_ms;
	ck->fn = fn;
	ck->ctx = ctx;
	for (size_t i = 0; i < n; i++) {
		struct run *r = &ck->runs[i];
		r->c = &checks[i];
		r->fd = -1;
		r->phase = PH_WAIT;
		r->next_ms = start_ms + checks[i].delay_ms;
		if (checks[i].readiness) {
			r->hidx = -1;
			ck->nready++;
		} else {
			r->hidx = (int)ck->h.nchecks;
			ck->h.checks[ck->h.nchecks++].alive = -1;
		}
	}
	return ck;
}

static void attempt_close(struct run *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	if (r->pid > 0 && (r->phase == PH_CMD || r->phase == PH_HELPER))
		kill(-r->pid, SIGKILL); /* reaped by the caller's loop */
	r->pid = 0;
}

void exec_checks_free(struct exec_checks *ck)
{
	if (!ck)
		return;
	for (size_t i = 0; i < ck->n; i++)
		attempt_close(&ck->runs[i]);
	free(ck);
}

const struct exec_health *exec_checks_state(const struct exec_checks *ck)
{
	return &ck->h;
}

static void report(struct exec_checks *ck, int health)
{
	ck->h.seq++;
	if (health)
		ck->h.hseq = ck->h.seq;
	if (ck->fn)
		ck->fn(&ck->h, ck->ctx);
}

/* The end of an attempt: ok = 1 pass, 0 failure, -1 discarded (an ignored 1xx). */
static void attempt_done(struct exec_checks *ck, struct run *r, int ok, uint64_t now,
			 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void attempt_done(struct exec_checks *ck, struct run *r, int ok, uint64_t now,
			 const char *fmt, ...)
{
	attempt_close(r);
	r->phase = PH_WAIT;
	uint32_t iv = r->c->interval_ms ? r->c->interval_ms : 1000;
	r->next_ms = r->start_ms + iv > now ? r->start_ms + iv : now;
	if (ok < 0)
		return;
	if (r->hidx < 0) { /* readiness */
		if (!ok)
			return;
		r->passed = 1;
		r->phase = PH_DONE;
		size_t passed = 0;
		for (size_t i = 0; i < ck->n; i++)
			passed += ck->runs[i].hidx < 0 && ck->runs[i].passed;
		if (passed == ck->nready && !ck->h.ready) {
			ck->h.ready = 1;
			report(ck, 0);
		}
		return;
	}
	struct exec_health_check *hc = &ck->h.checks[r->hidx];
	uint64_t wall = exec_real_ms();
	if (ok) {
		int changed = hc->alive != 1;
		r->passed = 1;
		hc->alive = 1;
		hc->consecutive_failures = 0;
		if (!hc->first_success_ms)
			hc->first_success_ms = wall;
		hc->last_success_ms = wall;
		if (changed)
			report(ck, 1);
		return;
	}
	if (!r->passed && now < ck->task_start_ms + r->c->grace_ms)
		return; /* in the grace period and never passed: not counted */
	hc->alive = 0;
	hc->consecutive_failures++;
	hc->last_failure_ms = wall;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(hc->cause, sizeof(hc->cause), fmt, ap);
	va_end(ap);
	report(ck, 1);
}

static double secs(uint32_t ms)
{
	return ms / 1000.0;
}

/* In the forked child: never returns. */
static void child_exec(struct exec_checks *ck, char *const argv[], int outfd)
{
	sigset_t none;
	sigemptyset(&none);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	if (ck->child_hook)
		ck->child_hook(ck->child_hook_arg);
	int in = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (in >= 0)
		dup2(in, 0);
	if (outfd >= 0) {
		dup2(outfd, 1);
	} else {
		char p[4096];
		snprintf(p, sizeof(p), "%s/stdout", ck->sandbox);
		int o = open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		dup2(o >= 0 ? o : in, 1);
	}
	char p[4096];
	snprintf(p, sizeof(p), "%s/stderr", ck->sandbox);
	int e = open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	dup2(e >= 0 ? e : in, 2);
	if (chdir(ck->sandbox) == -1)
		_exit(126);
	execve(argv[0], argv, ck->env);
	_exit(127);
}

static int spawn(struct exec_checks *ck, struct run *r, char *const argv[], int want_out)
{
	int p[2] = { -1, -1 };
	if (want_out && pipe2(p, O_CLOEXEC) == -1)
		return -errno;
	pid_t pid = fork();
	if (pid == -1) {
		int e = -errno;
		if (want_out) {
			close(p[0]);
			close(p[1]);
		}
		return e;
	}
	if (pid == 0)
		child_exec(ck, argv, p[1]);
	setpgid(pid, pid);
	r->pid = pid;
	if (want_out) {
		close(p[1]);
		fcntl(p[0], F_SETFL, O_NONBLOCK);
		r->fd = p[0];
	}
	return 0;
}

static void attempt_start(struct exec_checks *ck, struct run *r, uint64_t now)
{
	const struct exec_check *c = r->c;
	r->start_ms = now;
	r->deadline_ms = now + (c->timeout_ms ? c->timeout_ms : 1000);
	r->txoff = r->rxlen = 0;
	if (c->protocol == EXEC_CHECK_COMMAND) {
		char *argv[] = { "/bin/sh", "-c", (char *)c->command, NULL };
		int e = spawn(ck, r, argv, 0);
		if (e < 0) {
			attempt_done(ck, r, 0, now, "Cannot run the command: %s", strerror(-e));
			return;
		}
		r->phase = PH_CMD;
		return;
	}
	if (c->protocol == EXEC_CHECK_HTTPS) {
		if (!ck->https_helper) {
			attempt_done(ck, r, 0, now, "HTTPS checks are not available on this agent");
			return;
		}
		char port[8], tmo[16];
		snprintf(port, sizeof(port), "%u", (unsigned)c->port);
		snprintf(tmo, sizeof(tmo), "%u", (unsigned)(c->timeout_ms ? c->timeout_ms : 1000));
		char *argv[] = { (char *)ck->https_helper, port, (char *)c->path, tmo, NULL };
		int e = spawn(ck, r, argv, 1);
		if (e < 0) {
			attempt_done(ck, r, 0, now, "Cannot run '%s': %s", ck->https_helper,
				     strerror(-e));
			return;
		}
		r->phase = PH_HELPER;
		return;
	}
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		attempt_done(ck, r, 0, now, "socket: %s", strerror(errno));
		return;
	}
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(c->port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	r->fd = fd;
	r->phase = PH_CONNECT;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		/* Loopback can connect at once; the POLLOUT path handles it the same way. */
		return;
	}
	if (errno != EINPROGRESS)
		attempt_done(ck, r, 0, now, "Connection to 127.0.0.1:%u failed: %s",
			     (unsigned)c->port, strerror(errno));
}

static int http_request(const struct exec_check *c, char *buf, size_t size)
{
	int n = snprintf(buf, size,
			 "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nUser-Agent: berth-health/1\r\n"
			 "Accept: */*\r\nConnection: close\r\n\r\n",
			 c->path ? c->path : "/", (unsigned)c->port);
	return n < 0 || (size_t)n >= size ? -E2BIG : n;
}

/* Status code from "HTTP/1.x NNN …" in rx (NUL-terminated, one full line). -1 if malformed. */
static int http_status(const char *rx)
{
	if (strncmp(rx, "HTTP/", 5))
		return -1;
	const char *sp = strchr(rx, ' ');
	if (!sp || sp[1] < '1' || sp[1] > '9' || sp[2] < '0' || sp[2] > '9' || sp[3] < '0' ||
	    sp[3] > '9' || (sp[4] != ' ' && sp[4] != '\r' && sp[4] != '\n'))
		return -1;
	return (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
}

static int status_passes(const struct exec_check *c, int code)
{
	if (c->readiness) {
		if (!c->nstatus)
			return code == 200;
		for (size_t i = 0; i < c->nstatus; i++)
			if (c->status[i] == code)
				return 1;
		return 0;
	}
	return code >= 200 && code <= 399;
}

static void http_result(struct exec_checks *ck, struct run *r, int code, uint64_t now,
			const char *scheme)
{
	const struct exec_check *c = r->c;
	if (code >= 100 && code <= 199 && c->ignore_1xx && !c->readiness) {
		attempt_done(ck, r, -1, now, "ignored");
		return;
	}
	if (status_passes(c, code))
		attempt_done(ck, r, 1, now, "ok");
	else
		attempt_done(ck, r, 0, now, "%s://127.0.0.1:%u%s returned %d", scheme,
			     (unsigned)c->port, c->path ? c->path : "/", code);
}

static void on_socket(struct exec_checks *ck, struct run *r, short revents, uint64_t now)
{
	const struct exec_check *c = r->c;
	if (r->phase == PH_CONNECT) {
		int err = 0;
		socklen_t el = sizeof(err);
		if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &el) == -1)
			err = errno;
		if (err) {
			attempt_done(ck, r, 0, now, "Connection to 127.0.0.1:%u failed: %s",
				     (unsigned)c->port, strerror(err));
			return;
		}
		if (c->protocol == EXEC_CHECK_TCP) {
			attempt_done(ck, r, 1, now, "ok");
			return;
		}
		r->phase = PH_SEND;
	}
	if (r->phase == PH_SEND) {
		char req[2300];
		int len = http_request(c, req, sizeof(req));
		if (len < 0) {
			attempt_done(ck, r, 0, now, "HTTP path too long");
			return;
		}
		ssize_t w = send(r->fd, req + r->txoff, (size_t)len - r->txoff, MSG_NOSIGNAL);
		if (w == -1) {
			if (errno != EAGAIN && errno != EINTR)
				attempt_done(ck, r, 0, now, "HTTP request to 127.0.0.1:%u failed: %s",
					     (unsigned)c->port, strerror(errno));
			return;
		}
		r->txoff += (size_t)w;
		if (r->txoff == (size_t)len)
			r->phase = PH_RECV;
		return;
	}
	/* PH_RECV */
	ssize_t n = recv(r->fd, r->rx + r->rxlen, sizeof(r->rx) - 1 - r->rxlen, 0);
	if (n == -1) {
		if (errno != EAGAIN && errno != EINTR)
			attempt_done(ck, r, 0, now, "HTTP response from 127.0.0.1:%u: %s",
				     (unsigned)c->port, strerror(errno));
		return;
	}
	r->rxlen += (size_t)n;
	r->rx[r->rxlen] = '\0';
	if (strchr(r->rx, '\n')) {
		int code = http_status(r->rx);
		if (code < 0)
			attempt_done(ck, r, 0, now, "Malformed HTTP response from 127.0.0.1:%u",
				     (unsigned)c->port);
		else
			http_result(ck, r, code, now, "http");
	} else if (n == 0 || r->rxlen == sizeof(r->rx) - 1) {
		attempt_done(ck, r, 0, now, "%s HTTP response from 127.0.0.1:%u",
			     n == 0 ? "Incomplete" : "Malformed", (unsigned)c->port);
	}
}

/* berth-https-check prints "<code>\n" or "E <message>\n". */
static void on_helper(struct exec_checks *ck, struct run *r, uint64_t now)
{
	ssize_t n = read(r->fd, r->rx + r->rxlen, sizeof(r->rx) - 1 - r->rxlen);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		r->rxlen += (size_t)n;
		if (r->rxlen < sizeof(r->rx) - 1)
			return;
	}
	r->rx[r->rxlen] = '\0';
	r->rx[strcspn(r->rx, "\n")] = '\0';
	if (r->rx[0] >= '1' && r->rx[0] <= '9') {
		http_result(ck, r, (int)strtol(r->rx, NULL, 10), now, "https");
		return;
	}
	attempt_done(ck, r, 0, now, "%s", r->rx[0] == 'E' && r->rx[1] == ' ' ? r->rx + 2
				  : "HTTPS check helper failed");
}

size_t exec_checks_pollfds(struct exec_checks *ck, struct pollfd *pfd, size_t max)
{
	size_t k = 0;
	for (size_t i = 0; i < ck->n && k < max; i++) {
		struct run *r = &ck->runs[i];
		if (r->fd < 0)
			continue;
		pfd[k].fd = r->fd;
		pfd[k].events = r->phase == PH_CONNECT || r->phase == PH_SEND ? POLLOUT : POLLIN;
		pfd[k].revents = 0;
		k++;
	}
	return k;
}

int exec_checks_timeout(const struct exec_checks *ck, uint64_t now_ms)
{
	uint64_t best = UINT64_MAX;
	for (size_t i = 0; i < ck->n; i++) {
		const struct run *r = &ck->runs[i];
		uint64_t t = r->phase == PH_WAIT ? r->next_ms
			     : r->phase == PH_DONE ? UINT64_MAX
						   : r->deadline_ms;
		if (t < best)
			best = t;
	}
	if (best == UINT64_MAX)
		return -1;
	if (best <= now_ms)
		return 0;
	return best - now_ms > 3600000 ? 3600000 : (int)(best - now_ms);
}

void exec_checks_step(struct exec_checks *ck, const struct pollfd *pfd, size_t n,
		      uint64_t now_ms)
{
	for (size_t k = 0; k < n; k++) {
		if (!pfd[k].revents)
			continue;
		for (size_t i = 0; i < ck->n; i++) {
			struct run *r = &ck->runs[i];
			if (r->fd != pfd[k].fd)
				continue;
			if (r->phase == PH_HELPER)
				on_helper(ck, r, now_ms);
			else
				on_socket(ck, r, pfd[k].revents, now_ms);
			break;
		}
	}
	for (size_t i = 0; i < ck->n; i++) {
		struct run *r = &ck->runs[i];
		if (r->phase == PH_WAIT && r->next_ms <= now_ms) {
			attempt_start(ck, r, now_ms);
		} else if (r->phase != PH_WAIT && r->phase != PH_DONE && r->deadline_ms <= now_ms) {
			const struct exec_check *c = r->c;
			if (c->protocol == EXEC_CHECK_COMMAND)
				attempt_done(ck, r, 0, now_ms, "Command timed out after %gs",
					     secs(c->timeout_ms));
			else
				attempt_done(ck, r, 0, now_ms, "%s check of 127.0.0.1:%u timed out after %gs",
					     exec_check_proto_name(c->protocol), (unsigned)c->port,
					     secs(c->timeout_ms));
		}
	}
}

int exec_checks_reaped(struct exec_checks *ck, pid_t pid, int wstatus, uint64_t now_ms)
{
	for (size_t i = 0; i < ck->n; i++) {
		struct run *r = &ck->runs[i];
		if (r->pid != pid)
			continue;
		r->pid = 0;
		if (r->phase == PH_HELPER) {
			/* The result comes with EOF on its pipe. */
			return 1;
		}
		if (r->phase != PH_CMD)
			return 1;
		if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0)
			attempt_done(ck, r, 1, now_ms, "ok");
		else if (WIFEXITED(wstatus))
			attempt_done(ck, r, 0, now_ms, "Command exited with status %d",
				     WEXITSTATUS(wstatus));
		else
			attempt_done(ck, r, 0, now_ms, "Command terminated by signal %d",
				     WTERMSIG(wstatus));
		return 1;
	}
	return 0;
}
