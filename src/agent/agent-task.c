/* Tasks on the agent: launch under a shim, watch, kill, recover after a restart.
 *
 * Per task: LAUNCH → meta dir + spec file → posix_spawn(berth-executor) → TASK_STARTING;
 * the shim's notify pipe says "R <pid>" → TASK_RUNNING; the shim's pidfd becomes readable
 * when it exits → its status file gives the terminal state. KILL → TASK_KILLING and SIGTERM
 * to the shim with the grace period as the signal's value; the shim does the rest. A KILL
 * with pre_stop first writes <meta>/prestop (exec-prestop.h), which the shim reads when the
 * signal arrives and runs before its SIGTERM; a KILL without removes any stale one. The
 * fence signals EXEC_KILL_NOW instead: SIGKILL at once, never a pre-stop. A shim whose task
 * holds volumes also fences it by itself when the lease published in <work>/lease runs out
 * (agent-volume.c); its status file then says fenced=1. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/agent-int.h"
#include "agent/agent-util.h"
#include "base/hmap.h"
#include "base/log.h"
#include "base/mem.h"
#include "executor/exec-prestop.h"
#include "executor/exec-spec.h"
#include "executor/exec-status.h"

extern char **environ;

struct agent_task *agent_task_find(struct agent *a, const char *id)
{
	if (!a->nbuckets)
		return NULL;
	for (struct agent_task *t = a->buckets[hmap_hash(id) % a->nbuckets]; t; t = t->hnext)
		if (!strcmp(t->id, id))
			return t;
	return NULL;
}

static void table_insert(struct agent *a, struct agent_task *t)
{
	if (a->ntasks + 1 > a->nbuckets) {
		size_t nb = a->nbuckets ? a->nbuckets * 2 : 256;
		struct agent_task **nbk = xcalloc(nb, sizeof(*nbk));
		for (size_t i = 0; i < a->nbuckets; i++) {
			struct agent_task *x = a->buckets[i], *next;
			for (; x; x = next) {
				next = x->hnext;
				size_t h = hmap_hash(x->id) % nb;
				x->hnext = nbk[h];
				nbk[h] = x;
			}
		}
		free(a->buckets);
		a->buckets = nbk;
		a->nbuckets = nb;
	}
	size_t h = hmap_hash(t->id) % a->nbuckets;
	t->hnext = a->buckets[h];
	a->buckets[h] = t;
	a->ntasks++;
}

static void task_close_watch(struct agent_task *t)
{
	if (t->notify_ev)
		event_free(t->notify_ev);
	t->notify_ev = NULL;
	if (t->notify_fd >= 0)
		close(t->notify_fd);
	t->notify_fd = -1;
	if (t->pid_ev)
		event_free(t->pid_ev);
	t->pid_ev = NULL;
	if (t->pidfd >= 0)
		close(t->pidfd);
	t->pidfd = -1;
}

static void task_free(struct agent_task *t)
{
	task_close_watch(t);
	agent_volumes_free(t);
	json_decref(t->pending_spec);
	free(t->id);
	free(t->meta_dir);
	free(t->sandbox);
	free(t->framework_id);
	json_decref(t->framework_info);
	json_decref(t->hook_labels);
	free(t);
}

static void meta_dir_remove(const char *dir)
{
	static const char *const names[] = { "spec", "pid", "status", ".status.tmp", ".pid.tmp",
					       "volumes", ".volumes.tmp", "framework_id",
					       ".framework_id.tmp", "framework_info",
					       ".framework_info.tmp", EXEC_PRESTOP_FILE,
					       "." EXEC_PRESTOP_FILE ".tmp" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		char *p = xasprintf("%s/%s", dir, names[i]);
		unlink(p);
		free(p);
	}
	if (rmdir(dir) == -1 && errno != ENOENT)
		log_warn("agent", "cannot remove '%s': %s", dir, strerror(errno));
}

void agent_task_remove(struct agent *a, struct agent_task *t)
{
	size_t h = hmap_hash(t->id) % a->nbuckets;
	for (struct agent_task **pp = &a->buckets[h]; *pp; pp = &(*pp)->hnext) {
		if (*pp == t) {
			*pp = t->hnext;
			a->ntasks--;
			break;
		}
	}
	meta_dir_remove(t->meta_dir);
	agent_health_forget(a, t);
	task_free(t);
}

void agent_tasks_free(struct agent *a)
{
	for (size_t i = 0; i < a->nbuckets; i++) {
		struct agent_task *t = a->buckets[i], *next;
		for (; t; t = next) {
			next = t->hnext;
			task_free(t);
		}
	}
	free(a->buckets);
	a->buckets = NULL;
	a->nbuckets = a->ntasks = 0;
}

static struct agent_task *task_new(struct agent *a, const char *id)
{
	struct agent_task *t = xcalloc(1, sizeof(*t));
	t->id = xstrdup(id);
	t->meta_dir = xasprintf("%s/%s", a->meta_root, id);
	t->sandbox = xasprintf("%s/%s", a->sandbox_root, id);
	t->pidfd = t->notify_fd = -1;
	t->agent = a;
	t->state = "TASK_STAGING";
	t->grace_ms = AGENT_DEFAULT_GRACE_MS;
	return t;
}

static void task_report(struct agent_task *t, const char *state, const char *message,
			const char *reason, int exit_code, int sig)
{
	t->state = state;
	t->terminal = !strcmp(state, "TASK_FINISHED") || !strcmp(state, "TASK_FAILED") ||
		      !strcmp(state, "TASK_KILLED") || !strcmp(state, "TASK_LOST");
	agent_update_queue(t->agent, t, t->id, state, message, reason, exit_code, sig);
}

/* The terminal update for a shim that is gone, from its status file. */
static void task_report_end(struct agent_task *t, bool agent_was_down)
{
	struct exec_status st;
	char msg[256], sname[32];
	int r = exec_status_read(t->meta_dir, &st);
	bool killed = t->kill_requested || (r == 0 && st.killed);
	/* Whatever the shim left (it was killed, or died with the agent down): gone now. */
	agent_isolation_cleanup(t->agent, t);

	if (t->fenced || (r == 0 && st.fenced)) {
		/* By our fence, or by the shim's own (the lease ran out while we were away). */
		snprintf(msg, sizeof(msg), "Fenced: lost the master for %g s", t->agent->lease_sec);
		task_report(t, "TASK_FAILED", msg, "REASON_EXECUTOR_TERMINATED", -1, 0);
		log_info("agent", "task '%s' fenced", t->id);
		return;
	}
	if (r == 0 && st.oom && !killed) {
		/* Mesos's memory isolator's words (cgroups/mem). */
		snprintf(msg, sizeof(msg),
			 "Memory limit exceeded: Requested: %lluMB Maximum Used: %lluMB",
			 (unsigned long long)(st.mem_limit >> 20),
			 (unsigned long long)((st.mem_max ? st.mem_max : st.mem_limit) >> 20));
		task_report(t, "TASK_FAILED", msg, "REASON_CONTAINER_LIMITATION_MEMORY",
			    st.state == EXEC_EXITED ? st.exit_code : -1,
			    st.state == EXEC_SIGNALED ? st.signal : 0);
		log_info("agent", "task '%s' killed by the OOM killer: %s", t->id, msg);
		return;
	}
	const char *why = r == 0 ? agent_launch_failure(t, &st, msg, sizeof(msg)) : NULL;
	if (why) { /* the cgroup, a fetch, the user, the image: agent-image.c */
		task_report(t, "TASK_FAILED", msg, why, -1, 0);
		log_info("agent", "task '%s': %s", t->id, msg);
		return;
	}
	if (r == 0 && st.state == EXEC_EXEC_FAILED && st.volume > 0) {
		snprintf(msg, sizeof(msg), "Volume '%s': cannot mount it in the task: %s",
			 agent_volume_label(t, (size_t)st.volume - 1), strerror(st.error));
		task_report(t, "TASK_FAILED", msg, "REASON_COMMAND_EXECUTOR_FAILED", -1, 0);
		log_info("agent", "task '%s': %s", t->id, msg);
		return;
	}
	if (r < 0 || st.state == EXEC_RUNNING || st.state == EXEC_NONE) {
		if (killed) {
			task_report(t, "TASK_KILLED", "Task killed", NULL, -1, 0);
		} else {
			task_report(t, "TASK_FAILED",
				    agent_was_down ? "Executor terminated while the agent was down"
						   : "Executor terminated",
				    "REASON_EXECUTOR_TERMINATED", -1, 0);
		}
		log_info("agent", "task '%s' lost its executor (%s)", t->id, t->state);
		return;
	}
	switch (st.state) {
	case EXEC_EXEC_FAILED:
		snprintf(msg, sizeof(msg), "Failed to launch the command: %s", strerror(st.error));
		task_report(t, "TASK_FAILED", msg, "REASON_COMMAND_EXECUTOR_FAILED", -1, 0);
		break;
	case EXEC_EXITED:
		snprintf(msg, sizeof(msg), "Command exited with status %d", st.exit_code);
		if (killed)
			task_report(t, "TASK_KILLED", msg, NULL, st.exit_code, 0);
		else if (st.exit_code == 0)
			task_report(t, "TASK_FINISHED", msg, NULL, 0, 0);
		else
			task_report(t, "TASK_FAILED", msg, "REASON_COMMAND_EXECUTOR_FAILED",
				    st.exit_code, 0);
		break;
	default: /* EXEC_SIGNALED */
		snprintf(msg, sizeof(msg), "Command terminated by signal %s",
			 agent_signal_name(st.signal, sname, sizeof(sname)));
		if (killed)
			task_report(t, "TASK_KILLED", msg, NULL, -1, st.signal);
		else
			task_report(t, "TASK_FAILED", msg, "REASON_COMMAND_EXECUTOR_FAILED", -1,
				    st.signal);
		break;
	}
	log_info("agent", "task '%s' ended: %s (%s)", t->id, t->state, msg);
}

static bool end_was_down;

static void on_released(struct agent_task *t)
{
	t->releasing = false;
	if (!t->terminal)
		task_report_end(t, end_was_down);
}

/* The shim is gone: unmount external volumes (from the loop), then the terminal update. */
static void task_end(struct agent_task *t, bool agent_was_down)
{
	if (t->terminal || t->releasing)
		return;
	end_was_down = agent_was_down;
	if (agent_volumes_release(t->agent, t, on_released)) {
		t->releasing = true;
		return;
	}
	task_report_end(t, agent_was_down);
}

static void notify_read(struct agent_task *t)
{
	char buf[64];
	ssize_t n;
	do
		n = read(t->notify_fd, buf, sizeof(buf) - 1);
	while (n == -1 && errno == EINTR);
	if (n == -1 && errno == EAGAIN)
		return;
	if (n > 0) {
		buf[n] = '\0';
		if (buf[0] == 'R' && !t->terminal && !strcmp(t->state, "TASK_STARTING"))
			task_report(t, "TASK_RUNNING", NULL, NULL, -1, 0);
	}
	/* One message, then the shim closes its end: done either way. */
	event_free(t->notify_ev);
	t->notify_ev = NULL;
	close(t->notify_fd);
	t->notify_fd = -1;
}

static void on_notify(evutil_socket_t fd, short what, void *arg)
{
	notify_read(arg);
}

static void on_shim_exit(evutil_socket_t fd, short what, void *arg)
{
	struct agent_task *t = arg;
	if (t->notify_fd >= 0)
		notify_read(t);
	if (t->child) {
		siginfo_t si;
		memset(&si, 0, sizeof(si));
		waitid(P_PIDFD, (id_t)t->pidfd, &si, WEXITED | WNOHANG);
	}
	task_close_watch(t);
	task_end(t, false);
}

/* SIGTERM to the shim with the grace period (ms) as the signal's value, or EXEC_KILL_NOW
 * for the fence. */
static void task_signal(struct agent_task *t)
{
	if (t->pidfd < 0 || !t->kill_requested)
		return;
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGTERM;
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = t->fenced ? EXEC_KILL_NOW : (int)t->kill_grace_ms;
	if (pidfd_send_signal(t->pidfd, SIGTERM, &si, 0) == -1 && errno != ESRCH)
		log_warn("agent", "cannot signal the executor of '%s': %s", t->id, strerror(errno));
}

static int task_watch(struct agent *a, struct agent_task *t)
{
	t->pid_ev = event_new(a->base, t->pidfd, EV_READ, on_shim_exit, t);
	if (!t->pid_ev || event_add(t->pid_ev, NULL) == -1)
		return -ENOMEM;
	return 0;
}

static int task_spawn_direct(struct agent *a, struct agent_task *t);
static void task_report_end(struct agent_task *t, bool agent_was_down);
static void task_end(struct agent_task *t, bool agent_was_down);

void agent_task_fence(struct agent *a, struct agent_task *t)
{
	t->fenced = true;
	if (t->preparing || t->hooking || t->terminal)
		return; /* on_volumes_ready, agent_task_hooked see the flag */
	/* Grace 0: the shim SIGKILLs the task's process group at once and exits after it. */
	t->kill_requested = true;
	t->kill_grace_ms = 0;
	task_signal(t);
	/* And from here too, in case the shim is stuck: the group id is the task's pid, which
	 * cannot be reused while the shim has not reaped it or the group lives. */
	struct exec_status st;
	if (t->pidfd >= 0 && exec_status_read(t->meta_dir, &st) == 0 && st.state == EXEC_RUNNING &&
	    st.pid > 1)
		kill(-st.pid, SIGKILL);
}

/* ---- the fork server ---- */

void agent_spawner_stop(struct agent *a)
{
	if (a->spawner_ev)
		event_free(a->spawner_ev);
	a->spawner_ev = NULL;
	if (a->spawner_fd >= 0)
		close(a->spawner_fd); /* the server sees EOF and exits */
	a->spawner_fd = -1;
	if (a->spawner_pid > 0)
		waitpid(a->spawner_pid, NULL, WNOHANG);
	a->spawner_pid = 0;
}

static void spawner_message(struct agent *a, const char *msg, int pidfd)
{
	char kind;
	int value, off = 0;
	if (sscanf(msg, "%c %d %n", &kind, &value, &off) < 2 || !off) {
		if (pidfd >= 0)
			close(pidfd);
		return;
	}
	char id[256];
	size_t n = strcspn(msg + off, "\n");
	if (n >= sizeof(id))
		n = sizeof(id) - 1;
	memcpy(id, msg + off, n);
	id[n] = '\0';
	struct agent_task *t = agent_task_find(a, id);
	if (!t || t->terminal) {
		if (pidfd >= 0)
			close(pidfd);
		return;
	}
	switch (kind) {
	case 'S':
		if (t->pidfd >= 0) {
			if (pidfd >= 0)
				close(pidfd);
			break;
		}
		t->shim_pid = value;
		if (pidfd < 0) { /* already gone before the server could open it */
			task_report_end(t, false);
			break;
		}
		t->pidfd = pidfd;
		if (task_watch(a, t) < 0) {
			task_close_watch(t);
			task_report_end(t, false);
			break;
		}
		task_signal(t);
		break;
	case 'R':
		if (!strcmp(t->state, "TASK_STARTING"))
			task_report(t, "TASK_RUNNING", NULL, NULL, -1, 0);
		break;
	case 'E': {
		char m[128];
		snprintf(m, sizeof(m), "Failed to fork the executor: %s", strerror(value));
		task_report(t, "TASK_FAILED", m, "REASON_EXECUTOR_TERMINATED", -1, 0);
		break;
	}
	default: /* 'F': the shim's exit follows through the pidfd */
		break;
	}
}

static void backlog_flush(struct agent *a);

static void on_spawner(evutil_socket_t fd, short what, void *arg)
{
	struct agent *a = arg;
	if (what & EV_WRITE)
		backlog_flush(a);
	if (!(what & EV_READ))
		return;
	for (int i = 0; i < 4096; i++) {
		char buf[512];
		union {
			char c[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} cm;
		struct iovec iov = { buf, sizeof(buf) - 1 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.c,
				     .msg_controllen = sizeof(cm.c) };
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			log_warn("agent", "the executor fork server went away");
			agent_spawner_stop(a);
			return;
		}
		buf[n] = '\0';
		int pidfd = -1;
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&pidfd, CMSG_DATA(c), sizeof(int));
		spawner_message(a, buf, pidfd);
	}
}

int agent_spawn_executor(struct agent *a, int fd, char **argv, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, fd, 3);
	posix_spawn_file_actions_addclosefrom_np(&fa, fd >= 0 ? 4 : 3);
	sigset_t none, dfl;
	sigemptyset(&none);
	sigfillset(&dfl);
	sigdelset(&dfl, SIGKILL);
	sigdelset(&dfl, SIGSTOP);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
					       POSIX_SPAWN_SETSIGDEF);
	int r = posix_spawn(pid, a->executor_path, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return r;
}

static int spawner_start(struct agent *a)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return -errno;
	int sz = 4 << 20;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	char *argv[] = { a->executor_path, "--server", NULL };
	int r = agent_spawn_executor(a, sv[1], argv, &a->spawner_pid);
	close(sv[1]);
	if (r != 0) {
		close(sv[0]);
		a->spawner_pid = 0;
		return -r;
	}
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	a->spawner_fd = sv[0];
	a->spawner_ev = event_new(a->base, sv[0], EV_READ | EV_PERSIST, on_spawner, a);
	if (!a->spawner_ev || event_add(a->spawner_ev, NULL) == -1) {
		agent_spawner_stop(a);
		return -ENOMEM;
	}
	return 0;
}

static int spawner_send(struct agent *a, struct agent_task *t)
{
	ssize_t n = send(a->spawner_fd, t->meta_dir, strlen(t->meta_dir),
			 MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n >= 0)
		return 0;
	return -errno;
}

static void backlog_set_write(struct agent *a, bool on)
{
	event_del(a->spawner_ev);
	event_assign(a->spawner_ev, a->base, a->spawner_fd,
		     EV_READ | EV_PERSIST | (on ? EV_WRITE : 0), on_spawner, a);
	event_add(a->spawner_ev, NULL);
}

static void backlog_flush(struct agent *a)
{
	size_t i = 0;
	for (; i < a->nbacklog; i++) {
		struct agent_task *t = a->backlog[i];
		if (t->kill_requested) {
			t->in_backlog = false;
			task_report(t, "TASK_KILLED", "Task killed before it started", NULL, -1, 0);
			continue;
		}
		int r = spawner_send(a, t);
		if (r == -EAGAIN)
			break;
		t->in_backlog = false;
		if (r < 0 && task_spawn_direct(a, t) < 0)
			task_report(t, "TASK_FAILED", "Failed to launch the executor",
				    "REASON_EXECUTOR_TERMINATED", -1, 0);
	}
	memmove(a->backlog, a->backlog + i, (a->nbacklog - i) * sizeof(*a->backlog));
	a->nbacklog -= i;
	if (a->nbacklog == 0 && a->spawner_fd >= 0)
		backlog_set_write(a, false);
}

/* Asks the fork server for a shim. 0 when sent or queued behind earlier requests. */
static int spawner_request(struct agent *a, struct agent_task *t)
{
	if (a->spawner_fd < 0 && spawner_start(a) < 0)
		return -ENOSYS;
	if (a->nbacklog == 0) {
		int r = spawner_send(a, t);
		if (r == 0)
			return 0;
		if (r != -EAGAIN)
			return r;
		backlog_set_write(a, true);
	}
	if (a->nbacklog == a->backlog_alloc) {
		a->backlog_alloc = a->backlog_alloc ? a->backlog_alloc * 2 : 256;
		a->backlog = xrealloc(a->backlog, a->backlog_alloc * sizeof(*a->backlog));
	}
	a->backlog[a->nbacklog++] = t;
	t->in_backlog = true;
	return 0;
}

/* env object → "K=V" strings (malloc'd each), plus MESOS_AGENT_ENDPOINT and MESOS_SANDBOX.
 * Returns the count. */
static size_t build_env(struct agent *a, struct agent_task *t, json_t *env, char ***out)
{
	size_t n = 0, cap = (json_is_object(env) ? json_object_size(env) : 0) + 2;
	char **v = xcalloc(cap + 1, sizeof(char *));
	const char *k;
	json_t *val;
	if (json_is_object(env)) {
		json_object_foreach(env, k, val) {
			if (!json_is_string(val) || !*k || strchr(k, '='))
				continue;
			if (!strcmp(k, "MESOS_SANDBOX") || !strcmp(k, "MESOS_AGENT_ENDPOINT"))
				continue;
			v[n++] = xasprintf("%s=%s", k, json_string_value(val));
		}
	}
	v[n++] = xasprintf("MESOS_SANDBOX=%s", t->sandbox);
	v[n++] = xasprintf("MESOS_AGENT_ENDPOINT=%s", a->endpoint);
	*out = v;
	return n;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Writes the spec and starts the shim. 0 or -errno; on failure nothing is left running. */
static int task_spawn(struct agent *a, struct agent_task *t, json_t *spec,
		      struct exec_check *checks, size_t nchecks, char *msg, size_t msgsize)
{
	struct exec_spec es = { 0 };
	char **env = NULL;
	const char **args = NULL;
	int r;

	es.task_id = t->id;
	es.sandbox = t->sandbox;
	es.shell = json_is_true(json_object_get(spec, "shell"));
	es.cmd = json_string_value(json_object_get(spec, "cmd"));
	json_t *ja = json_object_get(spec, "args");
	if (json_is_array(ja) && json_array_size(ja) <= EXEC_SPEC_MAX_ITEMS) {
		args = xcalloc(json_array_size(ja) + 1, sizeof(char *));
		size_t i;
		json_t *x;
		json_array_foreach(ja, i, x) {
			if (json_is_string(x))
				args[es.nargs++] = json_string_value(x);
		}
	}
	/* Marathon's shell default: a cmd without args runs through the shell. */
	if (!json_object_get(spec, "shell") && es.cmd && es.nargs == 0)
		es.shell = 1;
	es.args = args;
	es.nenv = build_env(a, t, json_object_get(spec, "env"), &env);
	es.env = (const char **)env;
	es.grace_ms = t->grace_ms;
	es.health_dir = a->health_root;
	es.checks = checks;
	es.nchecks = nchecks;
	struct exec_volume vols[EXEC_SPEC_MAX_VOLUMES];
	es.volumes = vols;
	es.nvolumes = agent_volumes_exec(t, vols, EXEC_SPEC_MAX_VOLUMES);
	/* The shim of a task with volumes enforces the lease itself (agent-volume.c): it must
	 * find one from its start. Host paths are the agent's own: no lease for them. */
	bool leased = es.nvolumes > 0;
	if (leased)
		es.lease_file = a->lease_path;
	r = agent_host_volumes(spec, vols, &es.nvolumes, EXEC_SPEC_MAX_VOLUMES, msg, msgsize);
	if (r < 0) {
		free(args);
		free_strv(env, es.nenv);
		return r;
	}
	/* The TaskSpec's "fetch" (agent-protocol.md §2): into the sandbox before the task. */
	struct exec_fetch fetch[EXEC_SPEC_MAX_FETCH];
	json_t *jf = json_object_get(spec, "fetch");
	size_t fi;
	json_t *fx;
	json_array_foreach(jf, fi, fx) {
		const char *uri = json_string_value(json_object_get(fx, "uri"));
		if (!uri || !*uri || es.nfetch >= EXEC_SPEC_MAX_FETCH)
			continue;
		const char *outf = json_string_value(json_object_get(fx, "output_file"));
		fetch[es.nfetch++] = (struct exec_fetch){
			.uri = uri, .output = outf && *outf ? outf : NULL,
			.extract = json_is_true(json_object_get(fx, "extract")),
			.executable = json_is_true(json_object_get(fx, "executable")),
			.cache = json_is_true(json_object_get(fx, "cache")) };
	}
	es.fetch = fetch;
	struct exec_portmap pmaps[EXEC_SPEC_MAX_PORTMAPS];
	char **secrets = NULL;
	r = agent_secrets_spec(a, spec, &es, &secrets, msg, msgsize);
	if (r == 0)
		r = agent_isolation_spec(a, t, spec, &es, msg, msgsize);
	if (r == 0)
		r = agent_image_spec(a, spec, &es, pmaps, EXEC_SPEC_MAX_PORTMAPS, msg, msgsize);
	/* A container task's secrets never go into its bundle's config.json: the shim hands
	 * them to berth-secret-exec in the container through a memfd (exec-container.h). */
	if (r < 0) {
		free(args);
		free_strv(env, es.nenv);
		free_strv(secrets, es.nsecrets);
		return r;
	}

	char *spec_path = xasprintf("%s/spec", t->meta_dir);
	r = leased ? agent_lease_publish(a) : 0; /* no shim without its lease */
	if (r == 0 && mkdir(t->meta_dir, 0700) == -1 && errno != EEXIST)
		r = -errno;
	if (r == 0) {
		agent_volumes_save(t);
		agent_task_framework_save(t);
		r = exec_spec_write_file(spec_path, &es);
	}
	free(spec_path);
	free(args);
	free_strv(env, es.nenv);
	free_strv(secrets, es.nsecrets);
	if (r < 0)
		return r;
	if (spawner_request(a, t) == 0)
		return 0;
	return task_spawn_direct(a, t);
}

/* Spawns the shim with posix_spawn, when the fork server is not available. */
static int task_spawn_direct(struct agent *a, struct agent_task *t)
{
	int r;
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK) == -1)
		return -errno;
	char *argv[] = { a->executor_path, "--notify-fd", "3", t->meta_dir, NULL };
	pid_t pid;
	r = agent_spawn_executor(a, pfd[1], argv, &pid);
	close(pfd[1]);
	if (r != 0) {
		close(pfd[0]);
		return -r;
	}
	t->shim_pid = pid;
	t->child = true;
	t->notify_fd = pfd[0];
	t->pidfd = pidfd_open(pid, 0);
	if (t->pidfd == -1) {
		r = -errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return r;
	}
	t->notify_ev = event_new(a->base, t->notify_fd, EV_READ, on_notify, t);
	if (!t->notify_ev || event_add(t->notify_ev, NULL) == -1 || task_watch(a, t) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -ENOMEM;
	}
	return 0;
}

static int task_start(struct agent *a, struct agent_task *t, json_t *spec,
		      struct exec_check *checks, size_t nchecks);

/* agent_volumes_prepare is over: start the shim, or fail/kill the task. */
static void on_volumes_ready(struct agent_task *t, int r, const char *msg)
{
	struct agent *a = t->agent;
	json_t *spec = t->pending_spec;
	t->pending_spec = NULL;
	t->preparing = false;
	if (r < 0) {
		task_report(t, "TASK_FAILED", msg, "REASON_COMMAND_EXECUTOR_FAILED", -1, 0);
	} else if (t->fenced || t->kill_requested) {
		/* Nothing ran: undo the mounts, then the terminal update. */
		task_end(t, false);
	} else {
		struct exec_check checks[EXEC_SPEC_MAX_CHECKS];
		char cmsg[200];
		int n = agent_health_checks_parse(spec, checks, EXEC_SPEC_MAX_CHECKS, cmsg,
						  sizeof(cmsg));
		if (task_start(a, t, spec, checks, n > 0 ? (size_t)n : 0) < 0 &&
		    agent_volumes_release(a, t, on_released))
			t->releasing = true; /* already reported failed; just undo the mounts */
	}
	json_decref(spec);
}

static int task_launch_go(struct agent *a, struct agent_task *t, json_t *spec);

int agent_task_launch(struct agent *a, json_t *spec)
{
	const char *id = json_string_value(json_object_get(spec, "task_id"));
	if (!id || !agent_task_id_valid(id)) {
		log_warn("agent", "LAUNCH with an invalid task_id ignored");
		return -EINVAL;
	}
	if (agent_task_find(a, id)) {
		log_debug("agent", "task '%s' already known, LAUNCH ignored", id);
		return -EEXIST;
	}
	struct agent_task *t = task_new(a, id);
	json_t *g = json_object_get(spec, "kill_grace_period_seconds");
	if (json_is_number(g) && json_number_value(g) >= 0 && json_number_value(g) < 86400.0)
		t->grace_ms = (uint32_t)(json_number_value(g) * 1000.0);
	table_insert(a, t);
	agent_task_framework_set(t, spec);
	if (agent_hook_launch(a, t, spec))
		return 0; /* agent_task_hooked goes on */
	return task_launch_go(a, t, spec);
}

void agent_task_hooked(struct agent_task *t, json_t *spec, const char *veto)
{
	t->hooking = false;
	if (veto)
		task_report(t, "TASK_FAILED", veto, "REASON_CONTAINER_LAUNCH_FAILED", -1, 0);
	else if (t->kill_requested || t->fenced)
		task_report(t, "TASK_KILLED", "Task killed", NULL, -1, 0);
	else
		task_launch_go(t->agent, t, spec);
}

/* The launch, after the launch hook (agent-hook.c) if any. */
static int task_launch_go(struct agent *a, struct agent_task *t, json_t *spec)
{
	const char *id = t->id;
	if (json_object_get(spec, "executor"))
		return agent_xexec_launch(a, t, spec);

	const char *cmd = json_string_value(json_object_get(spec, "cmd"));
	json_t *args = json_object_get(spec, "args");
	if (!cmd && !(json_is_array(args) && json_array_size(args) > 0) &&
	    !json_object_get(json_object_get(spec, "container"), "image")) {
		task_report(t, "TASK_FAILED", "Task has neither 'cmd' nor 'args'",
			    "REASON_COMMAND_EXECUTOR_FAILED", -1, 0);
		return -EINVAL;
	}
	struct exec_check checks[EXEC_SPEC_MAX_CHECKS];
	char cmsg[200];
	int nchecks = agent_health_checks_parse(spec, checks, EXEC_SPEC_MAX_CHECKS, cmsg,
						sizeof(cmsg));
	if (nchecks < 0) {
		char msg[256];
		snprintf(msg, sizeof(msg), "Invalid health or readiness check: %s", cmsg);
		task_report(t, "TASK_FAILED", msg, "REASON_COMMAND_EXECUTOR_FAILED", -1, 0);
		return -EINVAL;
	}
	char vmsg[512];
	if (agent_volumes_parse(a, t, spec, vmsg, sizeof(vmsg)) < 0) {
		task_report(t, "TASK_FAILED", vmsg, "REASON_COMMAND_EXECUTOR_FAILED", -1, 0);
		return -EINVAL;
	}
	if (agent_volumes_external(t)) {
		t->pending_spec = json_incref(spec);
		t->preparing = true;
		if (mkdir(t->meta_dir, 0700) == -1 && errno != EEXIST)
			log_warn("agent", "task '%s': cannot create '%s': %s", id, t->meta_dir,
				 strerror(errno));
		agent_volumes_save(t);
		agent_task_framework_save(t);
		log_info("agent", "task '%s': mounting its external volumes", id);
		agent_volumes_prepare(a, t, on_volumes_ready);
		return 0;
	}
	return task_start(a, t, spec, checks, (size_t)nchecks);
}

/* Spawns the shim for a task whose volumes are ready. */
static int task_start(struct agent *a, struct agent_task *t, json_t *spec,
		      struct exec_check *checks, size_t nchecks)
{
	const char *id = t->id;
	char msg[256] = "";
	int r = task_spawn(a, t, spec, checks, nchecks, msg, sizeof(msg));
	if (r < 0) {
		if (!msg[0])
			snprintf(msg, sizeof(msg), "Failed to launch the executor '%s': %s",
				 a->executor_path, strerror(-r));
		log_error("agent", "task '%s': %s", id, msg);
		task_close_watch(t);
		task_report(t, "TASK_FAILED", msg, "REASON_EXECUTOR_TERMINATED", -1, 0);
		return r;
	}
	task_report(t, "TASK_STARTING", NULL, NULL, -1, 0);
	log_info("agent", "task '%s' launched (executor pid %d)", id, (int)t->shim_pid);
	return 0;
}

/* Hands the pre-stop command to the shim, or makes sure none is left from before. */
static void task_prestop_set(struct agent_task *t, json_t *pre_stop)
{
	const char *cmd = NULL;
	uint32_t ms = 0;
	int r;
	if (pre_stop && !json_is_null(pre_stop) && agent_prestop_parse(pre_stop, &cmd, &ms) < 0)
		log_warn("agent", "task '%s': unusable pre_stop in KILL ignored", t->id);
	if (cmd) {
		r = exec_prestop_write(t->meta_dir, cmd, ms);
		if (r == 0) {
			log_info("agent", "task '%s': pre-stop command first (timeout %.3g s)",
				 t->id, ms / 1000.0);
			return;
		}
		log_warn("agent", "task '%s': cannot write the pre-stop command: %s", t->id,
			 strerror(-r));
	}
	r = exec_prestop_remove(t->meta_dir);
	if (r < 0)
		log_warn("agent", "task '%s': cannot remove '%s/%s': %s", t->id, t->meta_dir,
			 EXEC_PRESTOP_FILE, strerror(-r));
}

void agent_task_kill(struct agent *a, const char *task_id, double grace_seconds,
		     json_t *pre_stop)
{
	struct agent_task *t = agent_task_find(a, task_id);
	if (!t) {
		log_info("agent", "KILL for unknown task '%s': reporting it lost", task_id);
		agent_update_queue(a, NULL, task_id, "TASK_LOST", "Task unknown to the agent",
				   "REASON_RECONCILIATION", -1, 0);
		return;
	}
	if (t->terminal) {
		/* Already over: repeat nothing, the terminal update is queued or acknowledged.
		 * If it was acknowledged and forgotten we would not be here. */
		return;
	}
	if (t->kill_requested)
		return;
	t->kill_requested = true;
	if (agent_xexec_kill(a, t, grace_seconds))
		return;
	if (t->preparing || t->hooking) {
		task_report(t, "TASK_KILLING", NULL, NULL, -1, 0);
		return; /* on_volumes_ready, agent_task_hooked end it */
	}
	uint32_t grace = t->grace_ms;
	if (grace_seconds >= 0 && grace_seconds < 86400.0)
		grace = (uint32_t)(grace_seconds * 1000.0);
	t->kill_grace_ms = grace;
	/* Before the signal, even when the shim is not spawned yet (it is signalled then). */
	task_prestop_set(t, pre_stop);
	task_signal(t);
	task_report(t, "TASK_KILLING", NULL, NULL, -1, 0);
	log_info("agent", "killing task '%s' (grace %.1fs)", t->id, grace / 1000.0);
}

/* One meta dir at startup: reattach a live shim or report how the task ended. */
static void recover_one(struct agent *a, const char *id)
{
	struct agent_task *t = task_new(a, id);
	pid_t pid;
	uint64_t start, now_start;
	struct exec_status st;
	table_insert(a, t);
	agent_volumes_load(a, t);
	agent_task_framework_load(t);

	bool alive = false;
	if (exec_pidfile_read(t->meta_dir, &pid, &start) == 0 &&
	    exec_proc_starttime(pid, &now_start) == 0 && now_start == start) {
		t->pidfd = pidfd_open(pid, 0);
		if (t->pidfd >= 0) {
			t->shim_pid = pid;
			alive = true;
		}
	}
	int r = exec_status_read(t->meta_dir, &st);
	if (alive) {
		t->state = r == 0 && st.state == EXEC_RUNNING ? "TASK_RUNNING" : "TASK_STARTING";
		if (r == 0 && st.state != EXEC_RUNNING && st.state != EXEC_NONE) {
			/* Exit recorded, the shim is just finishing: wait for it. */
			t->state = "TASK_RUNNING";
		}
		if (r == 0 && st.killed) {
			/* The shim is in its kill sequence (a pre-stop command, perhaps): it goes
			 * on without us; a KILL repeated by the master changes nothing. */
			t->kill_requested = true;
			t->state = "TASK_KILLING";
		}
		if (task_watch(a, t) < 0) {
			task_close_watch(t);
			task_end(t, true);
			return;
		}
		log_info("agent", "recovered task '%s' (%s, executor pid %d)", id, t->state,
			 (int)pid);
		/* The current health and readiness again: an update the previous agent made
		 * may never have reached the master. */
		agent_health_read(a, t);
		return;
	}
	t->state = "TASK_RUNNING";
	task_end(t, true);
}

int agent_tasks_recover(struct agent *a)
{
	DIR *d = opendir(a->meta_root);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	struct dirent *de;
	unsigned n = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !agent_task_id_valid(de->d_name))
			continue;
		recover_one(a, de->d_name);
		n++;
	}
	closedir(d);
	if (n)
		log_info("agent", "recovered %u task(s) from '%s'", n, a->meta_root);
	return 0;
}
