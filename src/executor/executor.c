/* berth-executor: the per-task shim (DESIGN.md §6). One per task; it is the task's parent.
 *
 *   berth-executor [--notify-fd N] META_DIR
 *
 * It reads META_DIR/spec (exec-spec.h), writes META_DIR/pid, creates the sandbox with its
 * stdout/stderr files, and starts the command in its own process group. It reports the exec
 * through the notify fd ("R <pid>\n" or "F <errno>\n", then closes it) and in META_DIR/status,
 * waits for the task and records the end in META_DIR/status (fsync'd, atomic).
 *
 * State machine:
 *   STARTING --exec ok--> RUNNING --exit--> DONE
 *   STARTING --exec failed--> DONE (exec_failed)
 *   RUNNING --SIGTERM/SIGINT, META_DIR/prestop present--> PRE-STOP: the pre-stop command
 *           runs (below), deadline = now + its timeout
 *   RUNNING --SIGTERM/SIGINT, no prestop file--> KILLING
 *   PRE-STOP --command ended, or deadline (it is SIGKILLed)--> KILLING
 *   KILLING: SIGTERM to the task's process group, deadline = now + grace (the sigqueue value
 *           in ms if the sender gave one, else the spec's; grace 0 = SIGKILL at once)
 *   KILLING --deadline--> SIGKILL to the group;   PRE-STOP/KILLING --exit--> DONE (killed=1)
 *   any --SIGTERM with value EXEC_KILL_NOW (the agent's fence)--> SIGKILL to the task's group
 *           and to the pre-stop's at once
 *   any but a SIGKILLed one --the agent's volume lease ran out (below)--> the same at once,
 *           and the status says fenced=1
 * Any other kill signal once a kill has begun changes nothing. When the kill begins, the
 * status file gets killed=1 (the agent, restarted meanwhile, then knows). On DONE the rest of
 * the process group is SIGKILLed (like a container being destroyed), and so is a pre-stop
 * command still running.
 *
 * Pre-stop (agent-protocol.md §9, exec-prestop.h): the command runs by /bin/sh -c with the
 * task's environment, in the sandbox, in the shim's mount namespace (so it sees the task's
 * volumes), stdout/stderr appended to the sandbox's files, in a process group of its own
 * (killed with it at the timeout and when it ends). The shim owns the sequence from the
 * signal on: the agent may go away meanwhile.
 *
 * Health and readiness checks (exec-check.h) run while RUNNING, in the same poll loop as the
 * signals (signalfd): no threads. They stop when a kill begins. Results go to the health file
 * (exec-health.h) in the spec's health_dir, which the agent watches with inotify.
 *
 * Volumes (exec-volume.h): a spec with volumes makes the shim unshare its mount namespace and
 * bind-mount them just before it forks the task, so that the task and its COMMAND checks see
 * them and nothing else does; the task gets BERTH_VOLUME_<n> (0-based, in the spec's order)
 * = the mounted path. A mount failure is an exec failure with status "volume=<n+1>".
 *
 * The lease (exec-lease.h). INVARIANT (never two writers, even without the agent): a task
 * whose spec has volumes and a "lease" file runs only while the deadline in that file lies
 * ahead. The agent rewrites the file while it hears from the master; the shim reads it every
 * EXEC_LEASE_CHECK_USEC (its poll timeout) and, once the deadline has passed or the file
 * became unreadable after it was read once, SIGKILLs the task's process group and any
 * pre-stop at once, exactly like the agent's own fence, and records killed=1 fenced=1. So a
 * task is dead within EXEC_LEASE_CHECK_USEC of the lease's end even when the agent process is
 * gone (kill -9, stopped), and the master moves the instance only after the lease plus a
 * margin. The shim unmounts nothing: its bind mounts go with its namespace, and the agent
 * calls the driver's Unmount when it runs again. A lease that has already run out when the
 * task is about to be forked fails the start instead (exec_failed, error ETIME, fenced=1).
 * Before the file was ever read nothing is enforced (see exec-lease.h for why a task with
 * volumes always finds one). Tasks without volumes never look at it.
 *
 * Isolation (docs/isolation.md). A spec with a cgroup (exec-cgroup.h) makes the shim create
 * it with the task's limits before the fork; the task's child joins it before its exec (the
 * shim never does), and at DONE the shim notes an OOM kill in it (oom=1 in the status, with
 * the limit and the peak), kills whatever is left in it and removes it, before it records
 * the end. While RUNNING it watches the cgroup's OOM notifications (exec_cg_oom_fd): RUNNING
 * --an OOM kill in the cgroup (the task or a child of it)--> SIGKILL to the task's group at
 * once (KILL_FORCED; killed stays 0, oom=1 at DONE). A spec with "isolate" (exec-isolate.h) puts the task under an init in new pid and
 * mount namespaces: `pid` below is then that init (pid 1 inside), whose process group holds
 * the task, and the task's wait status comes from init through a pipe. A spec with "user"
 * runs the task as that user. The shim is a child subreaper: orphans of a task without a pid
 * namespace are reaped here (and killed with the cgroup at DONE).
 *
 * Independence from the agent: new session (setsid), SIGHUP and SIGPIPE ignored, and the
 * only fd it shares with the agent is the notify pipe, closed as soon as the exec is known.
 * Plain libc, no libevent or jansson, so that it stays small per task. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "executor/exec-attach.h"
#include "executor/exec-cgroup.h"
#include "executor/exec-check.h"
#include "executor/exec-container.h"
#include "executor/exec-env.h"
#include "executor/exec-secret.h"
#include "executor/exec-fetch.h"
#include "executor/exec-health.h"
#include "executor/exec-isolate.h"
#include "executor/exec-lease.h"
#include "executor/exec-prestop.h"
#include "executor/exec-spec.h"
#include "executor/exec-status.h"
#include "executor/exec-volume.h"

extern char **environ;

static int log_fd = -1; /* the sandbox's stderr once open */
static struct exec_cg task_cg; /* version EXEC_CG_NONE: the task has no cgroup */
static struct exec_ident task_ident; /* set = 0: the task runs as we do */
static struct exec_ctr task_ctr; /* active: a container task (exec-container.h) */

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void diag(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n = snprintf(line, sizeof(line), "berth-executor: ");
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(log_fd >= 0 ? log_fd : 2, line, (size_t)n) < 0) {
		/* Nowhere else to report to. */
	}
}

/* "<kind> <value> <task id>\n", one write (atomic on a pipe or SEQPACKET socket). */
static const char *notify_id = "";
static void notify(int fd, char kind, int value)
{
	char buf[512];
	if (fd < 0)
		return;
	int n = snprintf(buf, sizeof(buf), "%c %d %s\n", kind, value, notify_id);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = snprintf(buf, sizeof(buf), "%c %d\n", kind, value);
	ssize_t w;
	do
		w = write(fd, buf, (size_t)n);
	while (w == -1 && errno == EINTR);
	close(fd);
}

static int open_in(const char *dir, const char *name)
{
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
}

/* In a forked child: default signals, a process group of its own (but the task of an
 * isolated spec stays in init's: exec-isolate.h), stdio, the sandbox as cwd. 0 or the errno
 * of what failed. */
static int child_prepare(const struct exec_spec *s, int in, int out, int err, bool own_group)
{
	sigset_t none;
	sigemptyset(&none);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (own_group)
		setpgid(0, 0);
	if (dup2(in, 0) == -1 || dup2(out, 1) == -1 || dup2(err, 2) == -1)
		return errno;
	if (chdir(s->sandbox) == -1)
		return errno;
	return 0;
}

/* In the forked child: never returns. Reports errno through errfd on failure. */
static void child_exec(const struct exec_spec *s, char **env, int in, int out, int err, int errfd)
{
	int e = 0;
	if (task_cg.version != EXEC_CG_NONE) {
		int r = exec_cg_attach(&task_cg, 0);
		if (r < 0)
			e = -r;
	}
	if (!e)
		e = child_prepare(s, in, out, err, !s->isolate && !s->attach);
	if (!e) /* after in/out/err are 0-2: any of them may have been 3 */
		e = exec_container_child_fds(&task_ctr, &errfd);
	if (!e)
		e = exec_ident_apply(s, &task_ident);
	if (!e) {
		environ = env;
		if (s->shell) {
			char *argv[] = { "sh", "-c", (char *)s->cmd, NULL };
			execve("/bin/sh", argv, env);
		} else {
			execvp(s->args[0], (char *const *)s->args);
		}
		e = errno;
	}
	ssize_t w = write(errfd, &e, sizeof(e));
	(void)w;
	_exit(127);
}

/* The pid namespace's init (exec-isolate.h), in the forked child: never returns. Reports
 * errno through errfd on failure (as child_exec does), the task's wait status through stfd. */
static void init_run(const struct exec_spec *s, char **env, int in, int out, int err,
		     int errfd, int stfd)
{
	int e = 0;
	/* Our own process group before the task is forked into it (the shim sets it too,
	 * maybe later): the shim's kill(-init) must reach the task. */
	setpgid(0, 0);
	if (task_cg.version != EXEC_CG_NONE) {
		int r = exec_cg_attach(&task_cg, 0);
		if (r < 0)
			e = -r;
	}
	if (!e)
		e = exec_isolate_init();
	pid_t task = e ? -1 : fork();
	if (task == 0)
		child_exec(s, env, in, out, err, errfd);
	if (!e && task == -1)
		e = errno;
	if (e) {
		ssize_t w = write(errfd, &e, sizeof(e));
		(void)w;
		_exit(127);
	}
	close(errfd); /* the task's exec closes its copy: the shim then reads EOF */
	int ws = 0, st;
	for (;;) {
		pid_t w = waitpid(-1, &st, 0);
		if (w == task) {
			ws = st;
			break;
		}
		if (w == -1 && errno != EINTR)
			break;
	}
	ssize_t n = write(stfd, &ws, sizeof(ws));
	(void)n;
	_exit(0); /* the kernel kills the rest of the namespace */
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct health_ctx {
	const char *dir, *name;
};

/* exec_checks_report_fn: the current state to the health file, which the agent watches. */
static void health_report(const struct exec_health *h, void *arg)
{
	struct health_ctx *c = arg;
	int r = exec_health_write(c->dir, c->name, h);
	if (r < 0)
		diag("cannot write the health file in '%s': %s", c->dir, strerror(-r));
}

/* berth-https-check beside this binary, when the spec has an HTTPS check; else NULL. */
static const char *https_helper(const struct exec_spec *s, char *buf, size_t size)
{
	bool any = false;
	for (size_t i = 0; i < s->nchecks; i++)
		any |= s->checks[i].protocol == EXEC_CHECK_HTTPS;
	if (!any)
		return NULL;
	const char *env = getenv("BERTH_HTTPS_CHECK");
	if (env && *env) {
		snprintf(buf, size, "%s", env);
		return buf;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return NULL;
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	if ((size_t)snprintf(buf, size, "%s/berth-https-check", self) >= size ||
	    access(buf, X_OK) == -1) {
		diag("HTTPS checks need '%s', which is missing", buf);
		return NULL;
	}
	return buf;
}

/* The kill sequence of one task (see the state machine above). */
enum kill_phase { KILL_NONE, KILL_PRESTOP, KILL_GRACE, KILL_FORCED };

struct shim {
	const char *meta;
	const struct exec_spec *spec;
	char **env;
	struct exec_status *status;
	struct exec_checks *ck;
	pid_t task;            /* the task's pid, also its process group */
	enum kill_phase phase;
	pid_t prestop;         /* the pre-stop command (and its group) until reaped, else -1 */
	uint32_t prestop_ms;
	uint32_t grace_ms;     /* for the SIGTERM that follows the pre-stop */
	uint64_t deadline;     /* end of the pre-stop's timeout, or of the grace period */
	struct exec_lease lease; /* path NULL: not enforced */
	int oomfd;             /* exec_cg_oom_fd of the task's cgroup, or -1 */
	uint64_t oom_until;    /* an OOM event came: look for its kill until then (0: none) */
};

/* SIGTERM to the task's group; SIGKILL at once for grace 0. */
static void shim_term(struct shim *sh, uint32_t grace)
{
	if (kill(-sh->task, SIGTERM) == -1)
		kill(sh->task, SIGTERM);
	if (grace == 0) {
		kill(-sh->task, SIGKILL);
		sh->phase = KILL_FORCED;
	} else {
		sh->phase = KILL_GRACE;
		sh->deadline = now_ms() + grace;
	}
}

/* Starts the pre-stop command: its pid, or -errno. */
static pid_t prestop_spawn(struct shim *sh, const char *cmd)
{
	const struct exec_spec *s = sh->spec;
	int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int out = open_in(s->sandbox, "stdout");
	int err = open_in(s->sandbox, "stderr");
	pid_t pid = -EBADF;
	if (in == -1 || out == -1 || err == -1) {
		pid = -errno;
	} else {
		pid = fork();
		if (pid == 0) {
			int e = child_prepare(s, in, out, err, true);
			if (!e) {
				char *argv[] = { "sh", "-c", (char *)cmd, NULL };
				environ = sh->env;
				execve("/bin/sh", argv, sh->env);
				e = errno;
			}
			diag("cannot run the pre-stop command: %s", strerror(e));
			_exit(127);
		}
		if (pid == -1)
			pid = -errno;
		else
			setpgid(pid, pid); /* also in the child: whichever runs first */
	}
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (err >= 0)
		close(err);
	return pid;
}

/* SIGKILL to the pre-stop command's group (it stays in sh->prestop until reaped, so that
 * its pid, and with it the group id, cannot have been reused). */
static void prestop_kill(struct shim *sh)
{
	if (sh->prestop > 0 && kill(-sh->prestop, SIGKILL) == -1)
		kill(sh->prestop, SIGKILL);
}

/* A kill signal (SIGTERM or SIGINT) arrived. */
static void shim_kill_signal(struct shim *sh, const struct signalfd_siginfo *si)
{
	bool now = si->ssi_code == SI_QUEUE && si->ssi_int == EXEC_KILL_NOW;
	if (sh->phase == KILL_FORCED || (sh->phase != KILL_NONE && !now))
		return; /* a kill is under way: a second one changes nothing */
	exec_checks_free(sh->ck);
	sh->ck = NULL;
	if (sh->phase == KILL_NONE) {
		sh->status->killed = 1;
		/* For an agent restarted before the task ends: a kill is under way. */
		int r = exec_status_write(sh->meta, sh->status, 0);
		if (r < 0)
			diag("cannot update the status in '%s': %s", sh->meta, strerror(-r));
	}
	if (now) {
		prestop_kill(sh);
		if (kill(-sh->task, SIGKILL) == -1)
			kill(sh->task, SIGKILL);
		sh->phase = KILL_FORCED;
		return;
	}
	uint32_t grace = sh->spec->grace_ms;
	if (si->ssi_code == SI_QUEUE && si->ssi_int >= 0)
		grace = (uint32_t)si->ssi_int;
	char *cmd = NULL;
	uint32_t ms = 0;
	int r = exec_prestop_read(sh->meta, &cmd, &ms);
	if (r == 0) {
		pid_t p = prestop_spawn(sh, cmd);
		free(cmd);
		if (p > 0) {
			diag("running the pre-stop command (timeout %.3g s)", ms / 1000.0);
			sh->prestop = p;
			sh->prestop_ms = ms;
			sh->grace_ms = grace;
			sh->phase = KILL_PRESTOP;
			sh->deadline = now_ms() + ms;
			return;
		}
		diag("cannot start the pre-stop command: %s", strerror((int)-p));
	} else if (r != -ENOENT) {
		diag("cannot read the pre-stop command in '%s': %s", sh->meta, strerror(-r));
	}
	shim_term(sh, grace);
}

/* The lease ran out (see the invariant at the top): SIGKILL now, checks stopped, fenced=1. */
static void shim_fence(struct shim *sh)
{
	diag("the agent's volume lease ran out (agent gone or cut off from the master): "
	     "killing the task");
	exec_checks_free(sh->ck);
	sh->ck = NULL;
	sh->status->killed = 1;
	sh->status->fenced = 1;
	int r = exec_status_write(sh->meta, sh->status, 0);
	if (r < 0)
		diag("cannot update the status in '%s': %s", sh->meta, strerror(-r));
	prestop_kill(sh);
	if (kill(-sh->task, SIGKILL) == -1)
		kill(sh->task, SIGKILL);
	sh->phase = KILL_FORCED;
}

/* The task's cgroup saw an OOM event: once the kernel has killed in it, the whole task goes
 * (as Mesos destroys the container), even when what was killed was only a child of it. */
static void shim_oom_check(struct shim *sh, uint64_t now)
{
	uint64_t lim, max;
	if (sh->phase == KILL_FORCED || !sh->oom_until)
		return;
	if (exec_cg_oom_kills(&task_cg, &lim, &max) <= 0) {
		if (now >= sh->oom_until)
			sh->oom_until = 0; /* an OOM the kernel resolved without a kill */
		return;
	}
	sh->oom_until = 0;
	diag("the task exceeded its memory limit (%llu MiB): killing it",
	     (unsigned long long)(lim >> 20));
	exec_checks_free(sh->ck);
	sh->ck = NULL;
	prestop_kill(sh);
	if (kill(-sh->task, SIGKILL) == -1)
		kill(sh->task, SIGKILL);
	sh->phase = KILL_FORCED;
}

/* The pre-stop command ended (reaped with status ws): on with the kill. */
static void prestop_ended(struct shim *sh, int ws)
{
	sh->prestop = -1;
	if (sh->phase != KILL_PRESTOP)
		return; /* killed at its timeout, already reported */
	if (WIFEXITED(ws))
		diag("the pre-stop command exited with status %d", WEXITSTATUS(ws));
	else
		diag("the pre-stop command was terminated by signal %d", WTERMSIG(ws));
	shim_term(sh, sh->grace_ms);
}

/* Before reaping: a pre-stop command that has exited still holds its pid as a zombie, so
 * its group can be ended safely now (what it left running in the background). */
static void prestop_reap_group(struct shim *sh)
{
	if (sh->prestop <= 0)
		return;
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)sh->prestop, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	    si.si_pid == sh->prestop)
		kill(-sh->prestop, SIGKILL);
}

/* Timers: the pre-stop's timeout and the grace period. */
static void shim_timers(struct shim *sh, uint64_t now)
{
	if (sh->phase == KILL_PRESTOP && now >= sh->deadline) {
		diag("the pre-stop command timed out after %.3g s: killed", sh->prestop_ms / 1000.0);
		prestop_kill(sh);
		shim_term(sh, sh->grace_ms);
	} else if (sh->phase == KILL_GRACE && now >= sh->deadline) {
		kill(-sh->task, SIGKILL);
		sh->phase = KILL_FORCED;
	}
}

/* Runs one task to its end as described above. Returns the shim's exit code. */
static int shim_run(const char *meta, int notify_fd)
{
	if (notify_fd >= 0)
		fcntl(notify_fd, F_SETFD, FD_CLOEXEC);
	const char *slash = strrchr(meta, '/');
	notify_id = slash ? slash + 1 : meta;

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if (setsid() == -1 && errno != EPERM)
		diag("setsid: %s", strerror(errno));

	char path[PATH_MAX];
	struct exec_spec spec;
	if ((size_t)snprintf(path, sizeof(path), "%s/spec", meta) >= sizeof(path)) {
		notify(notify_fd, 'F', ENAMETOOLONG);
		return 1;
	}
	int r = exec_spec_read_file(path, &spec);
	if (r < 0) {
		diag("cannot read spec '%s': %s", path, strerror(-r));
		notify(notify_fd, 'F', -r);
		return 1;
	}

	uint64_t st0 = 0;
	exec_proc_starttime(getpid(), &st0);
	char pidline[64];
	int pl = snprintf(pidline, sizeof(pidline), "%d %llu\n", (int)getpid(),
			  (unsigned long long)st0);
	exec_file_replace(meta, "pid", pidline, (size_t)pl, 0);

	struct exec_status status = { 0 };
	int in = -1, out = -1, err = -1, fail = 0;
	char imsg[PATH_MAX + 128];
	if (spec.attach && (r = exec_attach_prepare(&spec, imsg, sizeof(imsg))) < 0) {
		diag("%s", imsg);
		fail = -r;
	}
	const char *io = spec.stdio_dir ? spec.stdio_dir : spec.sandbox;
	r = fs_mkdir_p(io, 0755);
	if (r < 0) {
		fail = -r;
		diag("cannot create sandbox '%s': %s", spec.sandbox, strerror(-r));
	}
	if (!fail && ((out = open_in(io, "stdout")) == -1 || (err = open_in(io, "stderr")) == -1 ||
		      (in = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1))
		fail = errno;
	if (err >= 0)
		log_fd = err;
	if (!fail && spec.nfetch) {
		size_t fi = 0;
		r = exec_fetch_all(&spec, meta, err, &fi);
		if (r < 0) {
			fail = -r;
			status.fetch = (int)fi + 1;
		}
	}
	/* A container's user is its OCI process.user, resolved by berth-image in the image's
	 * /etc/passwd first; crun itself runs as we do. After the fetch (its files are the
	 * user's too), before the volumes are mounted in the sandbox. */
	if (!fail && spec.user && !spec.image) {
		r = exec_ident_resolve(&spec, &task_ident, imsg, sizeof(imsg));
		if (r < 0) {
			fail = -r;
			status.user = 1;
			diag("%s", imsg);
		}
	}
	if (!fail && spec.cg_root) {
		struct exec_cg_limits lim = { .cpu_shares = spec.cg_cpu_shares,
					      .cfs_quota_us = spec.cg_cfs_quota_us,
					      .cfs_period_us = spec.cg_cfs_period_us,
					      .mem_bytes = spec.cg_mem_bytes,
					      .pids_max = spec.cg_pids_max };
		char cmsg[PATH_MAX + 128];
		r = exec_cg_create(&task_cg, spec.cg_root, spec.cg_name, &lim, cmsg, sizeof(cmsg));
		if (r < 0) {
			fail = -r;
			status.cgroup = 1;
			diag("%s", cmsg);
		}
	}
	/* Orphans of the task (double forks, setsid'd daemons) become our children: reaped
	 * below, and killed with the task's cgroup at its end. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (!fail && spec.nvolumes) {
		char vmsg[PATH_MAX + 128];
		int vi = -1;
		r = exec_volumes_mount(&spec, &vi, vmsg, sizeof(vmsg));
		if (r < 0) {
			fail = -r;
			status.volume = vi + 1;
			diag("%s", vmsg);
		}
	}
	if (!fail && spec.image && (r = exec_container_prepare(&spec, meta, err, &task_ctr, imsg,
							       sizeof(imsg))) < 0) {
		fail = -r;
		status.image = 1;
		diag("%s", imsg);
	}
	if (!fail && spec.isolate) {
		imsg[0] = '\0';
		r = exec_isolate_shim(&spec, meta, imsg, sizeof(imsg));
		if (r < 0)
			fail = -r;
		if (imsg[0])
			diag("%s", imsg);
	}
	/* The secrets, read from the agent's store as the agent's user (exec-secret.h). */
	if (!fail && spec.nsecrets) {
		spec.secret_env = calloc(spec.nsecrets, sizeof(char *));
		if (!spec.secret_env)
			fail = ENOMEM;
		for (size_t i = 0; !fail && i < spec.nsecrets; i++) {
			char *kv = NULL;
			r = exec_secret_env(spec.secrets_dir, spec.secrets[i], &kv, imsg, sizeof(imsg));
			if (r < 0) {
				fail = -r;
				diag("secret for %.*s: %s", (int)strcspn(spec.secrets[i], "="),
				     spec.secrets[i], imsg);
				break;
			}
			spec.secret_env[spec.nsecret_env++] = kv;
		}
	}
	/* A container's: into a memfd for berth-secret-exec, out of crun's environment. */
	if (!fail && spec.image && spec.nsecret_env) {
		r = exec_container_secrets(&spec, &task_ctr);
		if (r < 0) {
			fail = -r;
			diag("cannot pass the secrets to the container: %s", strerror(fail));
		}
	}
	char **env = fail ? NULL : exec_env_build(&spec);
	if (!fail && !env)
		fail = ENOMEM;
	struct exec_lease lease = { .path = spec.nvolumes ? spec.lease_file : NULL };
	if (!fail && exec_lease_expired(&lease, exec_lease_now_usec())) {
		fail = ETIME;
		status.fenced = 1;
		diag("the agent's volume lease has run out: not starting the task");
	}

	pid_t pid = -1;
	int pfd[2] = { -1, -1 }, stpipe[2] = { -1, -1 };
	if (!fail && pipe2(pfd, O_CLOEXEC) == -1)
		fail = errno;
	if (!fail && (spec.isolate || spec.attach) && pipe2(stpipe, O_CLOEXEC | O_NONBLOCK) == -1)
		fail = errno;
	if (!fail) {
		pid = fork();
		if (pid == -1) {
			fail = errno;
		} else if (pid == 0 && spec.isolate) {
			close(pfd[0]);
			close(stpipe[0]);
			if (notify_fd >= 0)
				close(notify_fd);
			init_run(&spec, env, in, out, err, pfd[1], stpipe[1]);
		} else if (pid == 0) {
			if (spec.attach)
				exec_attach_child(pfd[1], stpipe[1]);
			child_exec(&spec, env, in, out, err, pfd[1]);
		}
	}
	if (stpipe[1] >= 0)
		close(stpipe[1]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	if (!fail) {
		setpgid(pid, pid); /* also in the child: whichever runs first */
		int e = 0;
		ssize_t n;
		do
			n = read(pfd[0], &e, sizeof(e));
		while (n == -1 && errno == EINTR);
		if (n == (ssize_t)sizeof(e)) {
			fail = e;
			kill(pid, SIGKILL); /* init, if its task failed to exec */
			waitpid(pid, NULL, 0);
		}
	}
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);

	if (fail) {
		const char *what = spec.shell ? "/bin/sh" : spec.nargs ? spec.args[0] : spec.image;
		exec_container_cleanup(&task_ctr, err);
		diag("cannot start '%s': %s", what, strerror(fail));
		if (stpipe[0] >= 0)
			close(stpipe[0]);
		status.state = EXEC_EXEC_FAILED;
		status.error = fail;
		exec_cg_destroy(&task_cg);
		exec_status_write(meta, &status, 1);
		notify(notify_fd, 'F', fail);
		exec_env_free(env, &spec);
		exec_spec_release(&spec);
		return 1;
	}
	status.state = EXEC_RUNNING;
	status.pid = pid;
	exec_status_write(meta, &status, 0);
	notify(notify_fd, 'R', pid);
	notify_fd = -1;

	struct shim sh = { .meta = meta, .spec = &spec, .env = env, .status = &status,
			   .task = pid, .phase = KILL_NONE, .prestop = -1, .lease = lease,
			   .oomfd = -1 };
	if (task_cg.version != EXEC_CG_NONE && spec.cg_mem_bytes) {
		sh.oomfd = exec_cg_oom_fd(&task_cg);
		if (sh.oomfd < 0)
			diag("no OOM notifications from the task's cgroup (%s): an OOM kill is seen "
			     "when the task ends", strerror(-sh.oomfd));
	}
	int wstatus = 0;
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd == -1) {
		/* Cannot happen short of fd exhaustion; the task still runs, unwatched by checks. */
		diag("signalfd: %s", strerror(errno));
		waitpid(pid, &wstatus, 0);
		goto ended;
	}
	struct health_ctx hctx = { .dir = meta, .name = "health" };
	if (spec.health_dir) {
		hctx.dir = spec.health_dir;
		hctx.name = spec.task_id;
	}
	char helper[PATH_MAX];
	if (spec.nchecks) {
		sh.ck = exec_checks_new(spec.checks, spec.nchecks, env, spec.sandbox,
					https_helper(&spec, helper, sizeof(helper)), now_ms(),
					health_report, &hctx);
		if (!sh.ck)
			diag("cannot start the health checks");
		else if (task_cg.version != EXEC_CG_NONE) /* checks count against the task */
			exec_checks_set_child_hook(sh.ck, exec_cg_attach_self, &task_cg);
	}
	for (bool done = false; !done;) {
		struct pollfd pf[2 + EXEC_SPEC_MAX_CHECKS];
		pf[0].fd = sfd;
		pf[0].events = POLLIN;
		pf[0].revents = 0;
		size_t n = sh.ck ? exec_checks_pollfds(sh.ck, pf + 1, EXEC_SPEC_MAX_CHECKS) : 0;
		size_t npf = n + 1;
		if (sh.oomfd >= 0 && sh.phase != KILL_FORCED) {
			pf[npf].fd = sh.oomfd;
			pf[npf].events = POLLIN;
			pf[npf++].revents = 0;
		}
		uint64_t now = now_ms();
		int timeout = -1;
		if (sh.oom_until)
			timeout = 20; /* looking for the OOM event's kill */
		if (sh.phase == KILL_PRESTOP || sh.phase == KILL_GRACE)
			timeout = sh.deadline > now ? (int)(sh.deadline - now) : 0;
		if (sh.ck) {
			int t = exec_checks_timeout(sh.ck, now);
			if (t >= 0 && (timeout < 0 || t < timeout))
				timeout = t;
		}
		if (sh.phase != KILL_FORCED) {
			int t = exec_lease_timeout_ms(&sh.lease, exec_lease_now_usec());
			if (t >= 0 && (timeout < 0 || t < timeout))
				timeout = t;
		}
		if (poll(pf, npf, timeout) == -1)
			for (size_t i = 0; i < npf; i++)
				pf[i].revents = 0;
		now = now_ms();
		if (npf > n + 1 && pf[n + 1].revents) {
			exec_cg_oom_ack(sh.oomfd);
			sh.oom_until = now + 2000;
		}
		shim_oom_check(&sh, now);
		if (sh.phase != KILL_FORCED && exec_lease_expired(&sh.lease, exec_lease_now_usec()))
			shim_fence(&sh);
		shim_timers(&sh, now);
		if (sh.ck)
			exec_checks_step(sh.ck, pf + 1, n, now);
		if (!pf[0].revents)
			continue;
		struct signalfd_siginfo si;
		while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo != SIGCHLD) {
				/* SIGTERM or SIGINT: the kill; the checks stop. */
				shim_kill_signal(&sh, &si);
				continue;
			}
			int ws;
			pid_t w;
			prestop_reap_group(&sh);
			while ((w = waitpid(-1, &ws, WNOHANG)) > 0) {
				if (w == pid) {
					wstatus = ws;
					done = true;
				} else if (w == sh.prestop) {
					prestop_ended(&sh, ws);
				} else if (sh.ck) {
					exec_checks_reaped(sh.ck, w, ws, now);
				}
			}
		}
	}
	exec_checks_free(sh.ck);
	sh.ck = NULL;
	close(sfd);
	if (sh.oomfd >= 0)
		close(sh.oomfd);
	/* The task ended during its pre-stop command (killed by the agent's fence, or on its
	 * own): the command goes with it. */
	prestop_kill(&sh);
ended:
	/* The leader is gone: end whatever it left in its group. */
	kill(-pid, SIGKILL);
	exec_container_cleanup(&task_ctr, log_fd);
	if (stpipe[0] >= 0) {
		/* Isolated: pid is init; the task's own status came through the pipe (none when
		 * init was SIGKILLed: then its status stands). */
		int ts;
		if (read(stpipe[0], &ts, sizeof(ts)) == (ssize_t)sizeof(ts))
			wstatus = ts;
		close(stpipe[0]);
	}

	if (task_cg.version != EXEC_CG_NONE) {
		/* Before the cgroup goes: did the kernel OOM-kill in it? Then the whole tree
		 * goes with it (setsid'd children too), and the cgroup itself. */
		status.oom = exec_cg_oom_kills(&task_cg, &status.mem_limit, &status.mem_max) > 0;
		r = exec_cg_destroy(&task_cg);
		if (r < 0)
			diag("cannot remove the task's cgroup '%s': %s", task_cg.name, strerror(-r));
	}
	if (WIFEXITED(wstatus)) {
		status.state = EXEC_EXITED;
		status.exit_code = WEXITSTATUS(wstatus);
	} else {
		status.state = EXEC_SIGNALED;
		status.signal = WTERMSIG(wstatus);
	}
	r = exec_status_write(meta, &status, 1);
	if (r < 0)
		diag("cannot record the exit status in '%s': %s", meta, strerror(-r));
	exec_env_free(env, &spec);
	exec_spec_release(&spec);
	return 0;
}

/* --server: the agent's fork server. Launching a task then costs a fork of this small
 * process instead of an exec of a new one (exec dominates spawn time). fd 3 is a
 * SEQPACKET socket to the agent: each message from the agent is a meta dir; for each the
 * server forks a shim and answers "S <pid> <task id>\n" with a pidfd of it (SCM_RIGHTS), or
 * "E <errno> <task id>\n". Shims write their "R"/"F" messages on the same socket. The
 * server ends when the agent closes its end; the shims do not depend on it. */
static int server_run(int fd)
{
	char meta[PATH_MAX];

	signal(SIGCHLD, SIG_IGN); /* shims are reaped by the kernel; pidfds still see exits */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	for (;;) {
		ssize_t n = recv(fd, meta, sizeof(meta) - 1, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		meta[n] = '\0';
		const char *slash = strrchr(meta, '/');
		const char *id = slash ? slash + 1 : meta;
		pid_t pid = fork();
		if (pid == 0) {
			signal(SIGCHLD, SIG_DFL);
			_exit(shim_run(meta, fd));
		}
		char msg[PATH_MAX + 64];
		int len, pfd = -1;
		if (pid == -1)
			len = snprintf(msg, sizeof(msg), "E %d %s\n", errno, id);
		else
			len = snprintf(msg, sizeof(msg), "S %d %s\n", (int)pid, id);
		if (pid > 0)
			pfd = pidfd_open(pid, 0);
		struct iovec iov = { msg, (size_t)len };
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} cm;
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		if (pfd >= 0) {
			memset(&cm, 0, sizeof(cm));
			mh.msg_control = cm.buf;
			mh.msg_controllen = sizeof(cm.buf);
			struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(c), &pfd, sizeof(int));
		}
		while (sendmsg(fd, &mh, MSG_NOSIGNAL) == -1 && errno == EINTR)
			;
		if (pfd >= 0)
			close(pfd);
	}
}

static void usage(FILE *f)
{
	fputs("usage: berth-executor [--notify-fd N] META_DIR\n"
	      "       berth-executor --server        (fork server on fd 3)\n"
	      "Runs the task described by META_DIR/spec; started by 'berth agent'.\n", f);
}

int main(int argc, char **argv)
{
	int notify_fd = -1;
	const char *meta = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--server") && argc == 2) {
			return server_run(3);
		} else if (!strcmp(argv[i], "--notify-fd") && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);
			if (*end || v < 0 || v > INT_MAX) {
				usage(stderr);
				return 2;
			}
			notify_fd = (int)v;
		} else if (!meta && argv[i][0] != '-') {
			meta = argv[i];
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!meta) {
		usage(stderr);
		return 2;
	}
	return shim_run(meta, notify_fd);
}
