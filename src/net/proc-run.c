/* Helper programs run from an event loop (proc-run.h).
 *
 * INVARIANT: a run is done (cb called, then freed) exactly once, when both the program has
 * been reaped (pidfd readable, waitpid) and its stdout is closed. A program that exits
 * while something it started still holds stdout open does not hold the run: on exit its
 * group is killed and what is already in the pipe is read, then the pipe is closed. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/mem.h"
#include "net/proc-run.h"

extern char **environ;

struct proc_run {
	pid_t pid;
	int pidfd, in_fd, out_fd;
	struct event *ev_pid, *ev_in, *ev_out, *ev_timer;
	char *input;
	size_t in_len, in_off;
	char *out;
	size_t out_len, max_out;
	int status;
	bool exited, timed_out, overflow;
	proc_run_cb cb;
	void *ctx;
};

static void close_in(struct proc_run *p)
{
	if (p->ev_in)
		event_free(p->ev_in);
	p->ev_in = NULL;
	if (p->in_fd >= 0)
		close(p->in_fd);
	p->in_fd = -1;
}

static void close_out(struct proc_run *p)
{
	if (p->ev_out)
		event_free(p->ev_out);
	p->ev_out = NULL;
	if (p->out_fd >= 0)
		close(p->out_fd);
	p->out_fd = -1;
}

static void run_free(struct proc_run *p)
{
	close_in(p);
	close_out(p);
	if (p->ev_pid)
		event_free(p->ev_pid);
	if (p->ev_timer)
		event_free(p->ev_timer);
	if (p->pidfd >= 0)
		close(p->pidfd);
	free(p->input);
	free(p->out);
	free(p);
}

static void kill_group(struct proc_run *p)
{
	if (!p->exited)
		kill(-p->pid, SIGKILL);
}

static void maybe_done(struct proc_run *p)
{
	if (!p->exited || p->out_fd >= 0)
		return;
	struct proc_run_result res = { p->status, p->timed_out, p->overflow,
				       p->out ? p->out : "", p->out_len };
	p->cb(&res, p->ctx);
	run_free(p);
}

/* Reads what stdout has; false at EOF or error (the pipe is then closed). */
static bool read_out(struct proc_run *p)
{
	for (;;) {
		char buf[4096];
		ssize_t n = read(p->out_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n <= 0) {
			close_out(p);
			return false;
		}
		if (p->out_len + (size_t)n > p->max_out) {
			p->overflow = true;
			kill_group(p);
			close_out(p);
			return false;
		}
		memcpy(p->out + p->out_len, buf, (size_t)n);
		p->out_len += (size_t)n;
		p->out[p->out_len] = '\0';
	}
}

static void on_out(evutil_socket_t fd, short what, void *arg)
{
	struct proc_run *p = arg;
	if (!read_out(p))
		maybe_done(p);
}

static void on_in(evutil_socket_t fd, short what, void *arg)
{
	struct proc_run *p = arg;
	while (p->in_off < p->in_len) {
		ssize_t n = write(p->in_fd, p->input + p->in_off, p->in_len - p->in_off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0)
			break; /* EPIPE: it does not read its stdin */
		p->in_off += (size_t)n;
	}
	close_in(p);
}

static void on_exit_ev(evutil_socket_t fd, short what, void *arg)
{
	struct proc_run *p = arg;
	int st;
	pid_t r = waitpid(p->pid, &st, WNOHANG);
	if (r == 0)
		return;
	p->exited = true;
	p->status = r == p->pid ? st : -1;
	event_del(p->ev_pid);
	event_del(p->ev_timer);
	kill(-p->pid, SIGKILL); /* whatever it left behind */
	close_in(p);
	if (p->out_fd >= 0)
		read_out(p);
	close_out(p);
	maybe_done(p);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct proc_run *p = arg;
	p->timed_out = true;
	kill_group(p);
}

int proc_run_start(struct event_base *base, char *const *argv, char *const *env,
		   const char *input, size_t input_len, unsigned timeout_ms, size_t max_out,
		   proc_run_cb cb, void *ctx, struct proc_run **out)
{
	int in[2], o[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(o, O_CLOEXEC) < 0) {
		int e = errno;
		close(in[0]);
		close(in[1]);
		return -e;
	}
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	sigset_t none, def;
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
					      POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, o[1], 1);
	pid_t pid;
	int r = -posix_spawn(&pid, argv[0], &fa, &at, argv, env ? env : environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(in[0]);
	close(o[1]);
	if (r < 0) {
		close(in[1]);
		close(o[0]);
		return r;
	}
	struct proc_run *p = xcalloc(1, sizeof(*p));
	p->pid = pid;
	p->in_fd = in[1];
	p->out_fd = o[0];
	p->max_out = max_out;
	p->out = xmalloc(max_out + 1);
	p->out[0] = '\0';
	p->status = -1;
	p->cb = cb;
	p->ctx = ctx;
	p->pidfd = pidfd_open(pid, 0);
	if (p->pidfd < 0) {
		r = -errno;
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
		run_free(p);
		return r;
	}
	fcntl(p->in_fd, F_SETFL, O_NONBLOCK);
	fcntl(p->out_fd, F_SETFL, O_NONBLOCK);
	p->input = xmalloc(input_len + 1);
	memcpy(p->input, input, input_len);
	p->in_len = input_len;
	p->ev_pid = event_new(base, p->pidfd, EV_READ | EV_PERSIST, on_exit_ev, p);
	p->ev_in = event_new(base, p->in_fd, EV_WRITE | EV_PERSIST, on_in, p);
	p->ev_out = event_new(base, p->out_fd, EV_READ | EV_PERSIST, on_out, p);
	p->ev_timer = evtimer_new(base, on_timer, p);
	struct timeval tv = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000 };
	if (!p->ev_pid || !p->ev_in || !p->ev_out || !p->ev_timer || event_add(p->ev_pid, NULL) ||
	    event_add(p->ev_in, NULL) || event_add(p->ev_out, NULL) ||
	    event_add(p->ev_timer, &tv)) {
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
		run_free(p);
		return -ENOMEM;
	}
	*out = p;
	return 0;
}

void proc_run_cancel(struct proc_run *p)
{
	if (!p)
		return;
	if (!p->exited) {
		kill(-p->pid, SIGKILL);
		/* SIGKILL is not instant: reap without blocking when we can; a zombie left is
		 * reaped by whoever reaps the process's children (init after we exit). */
		waitpid(p->pid, NULL, WNOHANG);
	}
	run_free(p);
}
