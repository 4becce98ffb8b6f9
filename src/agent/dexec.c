/* `berth default-executor` (dexec.h): the executor of a task group.
 *
 * The agent starts it (agent-xexec.c) with Mesos's executor environment. It subscribes on
 * POST /api/v1/executor and reads the RecordIO event stream; each status goes back as an
 * UPDATE (one short POST each) and stays in `unacked` until the agent's ACKNOWLEDGED.
 *
 * Per task:  (LAUNCH_GROUP) --fork+exec ok--> RUNNING (TASK_STARTING, TASK_RUNNING sent)
 *            --exit 0--> TASK_FINISHED;  --other exit--> TASK_FAILED, and the group is killed
 *            KILL (of any task of the group), SHUTDOWN (every group), or a task of the group
 *            failing -->
 *            KILLING: SIGTERM to the task's process group, SIGKILL at its grace period's end
 *            --exit--> TASK_KILLED.
 * A task's TaskInfo.health_check (HTTP, TCP, COMMAND) runs here (executor/exec-check.h, in
 * this poll loop): each change of its result is a TASK_RUNNING with "healthy"; its
 * consecutive_failures failures in a row kill the task's group, as a task failing does.
 * A task that finishes leaves the others running, as under Mesos's default executor. Later
 * LAUNCH_GROUPs for the same executor (the same executor id) run beside the first, each
 * group killed on its own.
 *
 * Invariants:
 * - Every task runs in a process group of its own whose id is its pid; when the task's
 *   process ends, what is left of its group is SIGKILLed (like a nested container being
 *   destroyed).
 * - A task's terminal status is sent exactly once; the executor exits when every task it
 *   launched has ended and each status was acknowledged (or DEXEC_ACK_WAIT_MS after the last
 *   end, at the latest), or after SHUTDOWN once its tasks have ended.
 * - A lost connection to the agent: a checkpointing framework's executor subscribes again
 *   (every second, for MESOS_RECOVERY_TIMEOUT at most; unacknowledged tasks and updates in
 *   the SUBSCRIBE) while its tasks keep running; any other kills its tasks and exits.
 * - Bounded: DEXEC_MAX_TASKS tasks, DEXEC_MAX_UNACKED statuses, event records of at most
 *   DEXEC_MAX_RECORD bytes. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/dexec.h"
#include "base/b64.h"
#include "base/mem.h"
#include "base/util.h"
#include "executor/exec-check.h"
#include "net/recordio.h"

#define DEXEC_MAX_UNACKED 1024
#define DEXEC_MAX_RECORD (4u << 20)
#define DEXEC_ACK_WAIT_MS 5000
#define DEXEC_IO_TIMEOUT_SEC 10

extern char **environ;

struct dtask {
	struct dexec_plan plan;
	json_t *info;   /* its TaskInfo, for a SUBSCRIBE after a lost connection */
	char *sandbox;
	char cid[37];   /* its nested container's id */
	pid_t pid;
	unsigned group;  /* which LAUNCH_GROUP it came in (0, 1, …) */
	bool ended, killing;
	uint64_t kill_at_ms; /* SIGKILL then (0: not killing, or sent) */
	/* TaskInfo.health_check, run here as Mesos's default executor does: each change of
	 * its result is a TASK_RUNNING with "healthy"; consecutive_failures failures in a row
	 * kill the task (and so its group) */
	struct exec_check check;
	char *check_cmd, *check_path;
	char **check_env; /* "K=V", NULL-terminated, for a COMMAND check */
	struct exec_checks *ck;
	int healthy;      /* -1: no result (or no check) */
	struct dexec *d;
};

struct dexec {
	char host[256], port[16];
	const char *fw, *eid, *sandbox, *token;
	char parent_cid[300];
	bool checkpoint, subscribed, shutdown;
	uint64_t recovery_ms, lost_at_ms, ended_at_ms, retry_at_ms;
	int sock;
	/* the response body: chunked transfer coding, then RecordIO */
	bool chunked;
	int chunk_state; /* 0: size line, 1: data, 2: CRLF after data */
	size_t chunk_left;
	char line[32];
	size_t nline;
	struct recordio_decoder rio;
	struct dtask tasks[DEXEC_MAX_TASKS];
	size_t ntasks;
	unsigned ngroups;
	json_t *unacked; /* [TaskStatus] */
};

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "berth default-executor: %s\n", buf);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int connect_agent(struct dexec *d)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	if (getaddrinfo(d->host, d->port, &hints, &res) != 0)
		return -EHOSTUNREACH;
	int fd = -1;
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		return -ECONNREFUSED;
	struct timeval tv = { DEXEC_IO_TIMEOUT_SEC, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Sends one Call. 0 or -errno. */
static int post_call(struct dexec *d, int fd, const json_t *call)
{
	char *body = json_dumps(call, JSON_COMPACT);
	if (!body)
		return -ENOMEM;
	char *auth = d->token ? xasprintf("Authorization: Bearer %s\r\n", d->token) : xstrdup("");
	char *head = xasprintf("POST /api/v1/executor HTTP/1.1\r\nHost: %s:%s\r\n"
			       "Content-Type: application/json\r\nAccept: application/json\r\n"
			       "%sContent-Length: %zu\r\n\r\n",
			       d->host, d->port, auth, strlen(body));
	int r = write_all(fd, head, strlen(head));
	if (r == 0)
		r = write_all(fd, body, strlen(body));
	free(auth);
	free(head);
	free(body);
	return r;
}

/* Reads the response head (up to its blank line); *rest gets the body bytes read with it.
 * The status code, or -errno. */
static int read_head(int fd, char *buf, size_t size, size_t *have, bool *chunked)
{
	size_t n = 0;
	for (;;) {
		ssize_t r = recv(fd, buf + n, size - 1 - n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -EIO;
		n += (size_t)r;
		buf[n] = '\0';
		char *end = strstr(buf, "\r\n\r\n");
		if (end) {
			int code = 0;
			if (sscanf(buf, "HTTP/1.%*d %d", &code) != 1)
				return -EPROTO;
			*end = '\0';
			*chunked = strcasestr(buf, "transfer-encoding: chunked") != NULL;
			size_t hlen = (size_t)(end - buf) + 4;
			memmove(buf, buf + hlen, n - hlen);
			*have = n - hlen;
			return code;
		}
		if (n >= size - 1)
			return -E2BIG;
	}
}

static json_t *call_new(struct dexec *d, const char *type)
{
	return json_pack("{s:s, s:{s:s}, s:{s:s}}", "type", type, "executor_id", "value", d->eid,
			 "framework_id", "value", d->fw);
}

/* UPDATE: POSTs the status (kept until acknowledged). A failure leaves it for the next
 * SUBSCRIBE's unacknowledged_updates. */
static void send_update(struct dexec *d, struct dtask *t, const char *state, const char *msg,
			const char *reason)
{
	unsigned char raw[16];
	id_random(raw, sizeof(raw));
	char *uuid = b64_encode(raw, sizeof(raw));
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	json_t *st = json_pack("{s:{s:s}, s:s, s:s, s:s, s:f, s:{s:s}, s:{s:{s:s, s:{s:s}}}}",
			       "task_id", "value", t->plan.task_id, "state", state, "source",
			       "SOURCE_EXECUTOR", "uuid", uuid, "timestamp",
			       (double)ts.tv_sec + ts.tv_nsec / 1e9, "executor_id", "value", d->eid,
			       "container_status", "container_id", "value", t->cid, "parent",
			       "value", d->parent_cid);
	free(uuid);
	if (msg)
		json_object_set_new(st, "message", json_string(msg));
	if (reason)
		json_object_set_new(st, "reason", json_string(reason));
	if (t->healthy >= 0)
		json_object_set_new(st, "healthy", json_boolean(t->healthy == 1));
	if (json_array_size(d->unacked) < DEXEC_MAX_UNACKED)
		json_array_append(d->unacked, st);
	json_t *call = call_new(d, "UPDATE");
	json_object_set_new(call, "update", json_pack("{s:o}", "status", st));
	int fd = d->subscribed ? connect_agent(d) : -1;
	int code = -1;
	if (fd >= 0 && post_call(d, fd, call) == 0) {
		char buf[4096];
		size_t have;
		bool ch;
		code = read_head(fd, buf, sizeof(buf), &have, &ch);
	}
	if (fd >= 0)
		close(fd);
	if (code != 202)
		logf_("UPDATE %s of task '%s' not delivered now (%d): kept for the next SUBSCRIBE",
		      state, t->plan.task_id, code);
	json_decref(call);
}

static struct dtask *task_by_id(struct dexec *d, const char *id)
{
	for (size_t i = 0; id && i < d->ntasks; i++)
		if (!strcmp(d->tasks[i].plan.task_id, id))
			return &d->tasks[i];
	return NULL;
}

static void task_kill(struct dtask *t, double grace)
{
	if (t->ended || t->killing || t->pid <= 0)
		return;
	t->killing = true;
	if (grace <= 0) {
		kill(-t->pid, SIGKILL);
		return;
	}
	kill(-t->pid, SIGTERM);
	t->kill_at_ms = now_ms() + (uint64_t)(grace * 1000.0);
}

/* Every live task of task group g (Mesos's default executor kills a group together), or of
 * every group (g < 0: SHUTDOWN, the agent lost). grace < 0: each task's own kill_policy. */
static void group_kill(struct dexec *d, long g, double grace)
{
	for (size_t i = 0; i < d->ntasks; i++)
		if (g < 0 || d->tasks[i].group == (unsigned)g)
			task_kill(&d->tasks[i], grace >= 0 ? grace : d->tasks[i].plan.grace_sec);
}

/* TaskInfo.health_check (Mesos's HealthCheck: HTTP, TCP or COMMAND; seconds) into t->check.
 * false when it has none or one this executor cannot run (logged: the task runs
 * unchecked). */
static bool check_parse(struct dtask *t, const json_t *ti)
{
	const json_t *hc = json_object_get(ti, "health_check");
	if (!json_is_object(hc))
		return false;
	exec_check_defaults(&t->check, 0);
	/* Mesos's defaults */
	t->check.delay_ms = 15000;
	t->check.interval_ms = 10000;
	t->check.timeout_ms = 20000;
	t->check.grace_ms = 10000;
	t->check.max_failures = 3;
	const char *type = json_string_value(json_object_get(hc, "type"));
	const json_t *port = NULL;
	if (type && !strcmp(type, "HTTP")) {
		const json_t *h = json_object_get(hc, "http");
		t->check.protocol = EXEC_CHECK_HTTP;
		port = json_object_get(h, "port");
		const char *path = json_string_value(json_object_get(h, "path"));
		t->check_path = xstrdup(path && *path ? path : "/");
		t->check.path = t->check_path;
	} else if (type && !strcmp(type, "TCP")) {
		t->check.protocol = EXEC_CHECK_TCP;
		port = json_object_get(json_object_get(hc, "tcp"), "port");
	} else if (type && !strcmp(type, "COMMAND")) {
		const char *v = json_string_value(
			json_object_get(json_object_get(hc, "command"), "value"));
		if (!v)
			return false;
		t->check.protocol = EXEC_CHECK_COMMAND;
		t->check_cmd = xstrdup(v);
		t->check.command = t->check_cmd;
	} else {
		logf_("task '%s': health check type '%s' not run", t->plan.task_id,
		      type ? type : "?");
		return false;
	}
	if (port) {
		json_int_t pn = json_integer_value(port);
		if (pn <= 0 || pn > 65535)
			return false;
		t->check.port = (uint16_t)pn;
	}
	static const struct {
		const char *key;
		size_t off;
	} secs[] = {
		{ "delay_seconds", offsetof(struct exec_check, delay_ms) },
		{ "interval_seconds", offsetof(struct exec_check, interval_ms) },
		{ "timeout_seconds", offsetof(struct exec_check, timeout_ms) },
		{ "grace_period_seconds", offsetof(struct exec_check, grace_ms) },
	};
	for (size_t i = 0; i < ARRAY_SIZE(secs); i++) {
		const json_t *v = json_object_get(hc, secs[i].key);
		if (json_is_number(v) && json_number_value(v) >= 0 &&
		    json_number_value(v) < 86400.0 * 365)
			*(uint32_t *)((char *)&t->check + secs[i].off) =
				(uint32_t)(json_number_value(v) * 1000.0);
	}
	const json_t *cf = json_object_get(hc, "consecutive_failures");
	if (json_is_integer(cf) && json_integer_value(cf) >= 0 &&
	    json_integer_value(cf) < 1000000)
		t->check.max_failures = (uint32_t)json_integer_value(cf);
	return true;
}

static void check_report(const struct exec_health *h, void *ctx)
{
	struct dtask *t = ctx;
	if (!h->nchecks || t->ended || t->killing)
		return;
	const struct exec_health_check *c = &h->checks[0];
	if (c->alive < 0)
		return;
	int was = t->healthy;
	t->healthy = c->alive == 1;
	bool give_up = !t->healthy && t->check.max_failures &&
		       c->consecutive_failures >= t->check.max_failures;
	if (was != t->healthy || give_up)
		send_update(t->d, t, "TASK_RUNNING", c->alive ? NULL : c->cause,
			    "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED");
	if (give_up) {
		logf_("task '%s' failed its health check %u times: killing its group",
		      t->plan.task_id, c->consecutive_failures);
		group_kill(t->d, t->group, -1);
	}
}

static void check_free(struct dtask *t)
{
	exec_checks_free(t->ck);
	t->ck = NULL;
	free(t->check_cmd);
	free(t->check_path);
	if (t->check_env)
		for (char **e = t->check_env; *e; e++)
			free(*e);
	free(t->check_env);
	t->check_cmd = t->check_path = NULL;
	t->check_env = NULL;
}

/* Forks the task: its own process group, its sandbox as cwd with stdout/stderr there, the
 * executor's environment plus the task's variables, MESOS_SANDBOX its own sandbox. 0 or
 * -errno (the exec's) with msg. */
static int task_fork(struct dexec *d, struct dtask *t, char *msg, size_t msglen)
{
	size_t ne = 0;
	while (environ[ne])
		ne++;
	size_t nt = 0;
	while (t->plan.env[nt])
		nt++;
	char **env = xcalloc(ne + nt + 4, sizeof(char *));
	size_t n = 0;
	for (size_t i = 0; i < ne; i++)
		if (strncmp(environ[i], "MESOS_SANDBOX=", 14) &&
		    strncmp(environ[i], "MESOS_EXECUTOR_AUTHENTICATION_TOKEN=", 36))
			env[n++] = environ[i];
	for (size_t i = 0; i < nt; i++)
		env[n++] = t->plan.env[i];
	char *sb = xasprintf("MESOS_SANDBOX=%s", t->sandbox);
	char *tid = xasprintf("MESOS_TASK_ID=%s", t->plan.task_id);
	env[n++] = sb;
	env[n++] = tid;
	char *out = xasprintf("%s/stdout", t->sandbox), *err = xasprintf("%s/stderr", t->sandbox);
	int pfd[2];
	int r = pipe2(pfd, O_CLOEXEC) == -1 ? -errno : 0;
	pid_t pid = r == 0 ? fork() : -1;
	if (r == 0 && pid == 0) {
		sigset_t all;
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		setpgid(0, 0);
		int in = open("/dev/null", O_RDONLY);
		int o = open(out, O_WRONLY | O_CREAT | O_APPEND, 0644);
		int e = open(err, O_WRONLY | O_CREAT | O_APPEND, 0644);
		int code = 0;
		if (in < 0 || o < 0 || e < 0 || dup2(in, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0 ||
		    chdir(t->sandbox) == -1)
			code = errno;
		if (!code)
			execvpe(t->plan.argv[0], t->plan.argv, env);
		code = errno ? errno : ENOEXEC;
		ssize_t w = write(pfd[1], &code, sizeof(code));
		(void)w;
		_exit(127);
	}
	if (r == 0 && pid < 0)
		r = -errno;
	if (r == 0) {
		close(pfd[1]);
		setpgid(pid, pid); /* no race with the child's own setpgid: both ask the same */
		int code = 0;
		ssize_t got = read(pfd[0], &code, sizeof(code));
		close(pfd[0]);
		t->pid = pid;
		if (got == (ssize_t)sizeof(code)) {
			r = -code;
			snprintf(msg, msglen, "Failed to launch '%s': %s", t->plan.argv[0],
				 strerror(code));
		}
	} else {
		snprintf(msg, msglen, "Failed to fork the task: %s", strerror(-r));
		if (pfd[0] >= 0) {
			close(pfd[0]);
			close(pfd[1]);
		}
	}
	free(sb);
	free(tid);
	free(out);
	free(err);
	free(env);
	return r;
}

/* LAUNCH_GROUP: every task is checked and its sandbox made before any starts; a refusal
 * fails the whole group. Then they start together; when one cannot be started, those
 * started are killed and the rest never start (TASK_KILLED). */
static void launch_group(struct dexec *d, const json_t *tasks)
{
	size_t n = json_array_size(tasks), first = d->ntasks, i;
	char msg[600] = "";
	if (!n || first + n > DEXEC_MAX_TASKS) {
		/* nothing of it is kept: each task hears why */
		snprintf(msg, sizeof(msg), "A default executor runs 1 to %d tasks",
			 DEXEC_MAX_TASKS);
		const json_t *ti;
		json_array_foreach(tasks, i, ti) {
			const char *id = json_string_value(
				json_object_get(json_object_get(ti, "task_id"), "value"));
			struct dtask tmp = { .plan.task_id = (char *)(id ? id : ""), .healthy = -1 };
			send_update(d, &tmp, "TASK_FAILED", msg, NULL);
		}
		return;
	}
	for (i = 0; i < n; i++) {
		struct dtask *t = &d->tasks[first + i];
		memset(t, 0, sizeof(*t));
		t->healthy = -1;
		t->d = d;
		char err[400];
		const json_t *ti = json_array_get(tasks, i);
		if (!msg[0] && dexec_plan_parse(ti, &t->plan, err, sizeof(err)) < 0)
			snprintf(msg, sizeof(msg), "Task group refused: %s", err);
		if (!t->plan.task_id) {
			const char *id = json_string_value(
				json_object_get(json_object_get(ti, "task_id"), "value"));
			t->plan.task_id = xstrdup(id ? id : "");
		}
		t->info = json_deep_copy(ti);
		t->group = d->ngroups;
		id_uuid4(t->cid);
		d->ntasks++;
	}
	for (i = first; !msg[0] && i < d->ntasks; i++)
		dexec_sandbox_prepare(d->sandbox, &d->tasks[i].plan, &d->tasks[i].sandbox, msg,
				      sizeof(msg));
	if (msg[0]) {
		for (i = first; i < d->ntasks; i++) {
			d->tasks[i].ended = true;
			send_update(d, &d->tasks[i], "TASK_FAILED", msg, NULL);
		}
		d->ended_at_ms = now_ms();
		return;
	}
	bool failed = false;
	unsigned g = d->ngroups++;
	for (i = first; i < d->ntasks; i++) {
		struct dtask *t = &d->tasks[i];
		if (failed) {
			t->ended = true;
			send_update(d, t, "TASK_KILLED", "Another task of its group failed to launch",
				    NULL);
			continue;
		}
		if (task_fork(d, t, msg, sizeof(msg)) < 0) {
			/* The child has exited (127): its end is reaped, not reported again. */
			t->ended = true;
			failed = true;
			send_update(d, t, "TASK_FAILED", msg, "REASON_COMMAND_EXECUTOR_FAILED");
			group_kill(d, g, -1);
			continue;
		}
		send_update(d, t, "TASK_STARTING", NULL, NULL);
		send_update(d, t, "TASK_RUNNING", NULL, NULL);
		if (check_parse(t, t->info)) {
			size_t ne = 0;
			while (t->plan.env[ne])
				ne++;
			t->check_env = xcalloc(ne + 3, sizeof(char *));
			for (size_t k = 0; k < ne; k++)
				t->check_env[k] = xstrdup(t->plan.env[k]);
			t->check_env[ne] = xasprintf("MESOS_SANDBOX=%s", t->sandbox);
			const char *path = getenv("PATH");
			t->check_env[ne + 1] = xasprintf("PATH=%s",
							 path ? path : "/usr/bin:/bin");
			t->ck = exec_checks_new(&t->check, 1, t->check_env, t->sandbox, NULL,
						exec_mono_ms(), check_report, t);
		}
	}
	if (failed) {
		bool all = true;
		for (i = 0; i < d->ntasks; i++)
			all = all && d->tasks[i].ended;
		if (all)
			d->ended_at_ms = now_ms();
	}
}

static void task_ended(struct dexec *d, struct dtask *t, int ws)
{
	kill(-t->pid, SIGKILL); /* what is left of its process group */
	if (t->ended)
		return;
	t->ended = true;
	check_free(t);
	char msg[200];
	if (t->killing) {
		send_update(d, t, "TASK_KILLED", "Command terminated with signal Killed", NULL);
	} else if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0) {
		send_update(d, t, "TASK_FINISHED", "Command exited with status 0", NULL);
	} else {
		if (WIFEXITED(ws))
			snprintf(msg, sizeof(msg), "Command exited with status %d", WEXITSTATUS(ws));
		else
			snprintf(msg, sizeof(msg), "Command terminated with signal %s",
				 strsignal(WTERMSIG(ws)));
		send_update(d, t, "TASK_FAILED", msg, NULL);
		group_kill(d, t->group, -1); /* one failed task kills its group */
	}
	bool all = true;
	for (size_t i = 0; i < d->ntasks; i++)
		all = all && d->tasks[i].ended;
	if (all)
		d->ended_at_ms = now_ms();
}

static void reap(struct dexec *d)
{
	int ws;
	pid_t pid;
	while ((pid = waitpid(-1, &ws, WNOHANG)) > 0) {
		bool check = false;
		for (size_t i = 0; i < d->ntasks && !check; i++)
			check = d->tasks[i].ck &&
				exec_checks_reaped(d->tasks[i].ck, pid, ws, exec_mono_ms()) == 1;
		for (size_t i = 0; i < d->ntasks && !check; i++)
			if (d->tasks[i].pid == pid)
				task_ended(d, &d->tasks[i], ws);
	}
}

static int on_event(const char *data, size_t len, void *ctx)
{
	struct dexec *d = ctx;
	json_t *ev = json_loadb(data, len, 0, NULL);
	const char *type = json_string_value(json_object_get(ev, "type"));
	if (!type) {
		json_decref(ev);
		return 0;
	}
	if (!strcmp(type, "SUBSCRIBED")) {
		const char *cid = json_string_value(json_object_get(
			json_object_get(json_object_get(ev, "subscribed"), "container_id"),
			"value"));
		snprintf(d->parent_cid, sizeof(d->parent_cid), "%s", cid ? cid : "");
		d->subscribed = true;
		d->lost_at_ms = 0;
	} else if (!strcmp(type, "LAUNCH_GROUP")) {
		launch_group(d, json_object_get(json_object_get(json_object_get(ev, "launch_group"),
								"task_group"),
						"tasks"));
	} else if (!strcmp(type, "LAUNCH")) {
		const json_t *ti = json_object_get(json_object_get(ev, "launch"), "task");
		struct dtask tmp = { 0 };
		const char *id = json_string_value(
			json_object_get(json_object_get(ti, "task_id"), "value"));
		tmp.plan.task_id = (char *)(id ? id : "");
		send_update(d, &tmp, "TASK_FAILED", "The default executor runs task groups only "
						    "(LAUNCH_GROUP)", NULL);
	} else if (!strcmp(type, "KILL")) {
		const json_t *k = json_object_get(ev, "kill");
		const json_t *ns = json_object_get(
			json_object_get(json_object_get(k, "kill_policy"), "grace_period"),
			"nanoseconds");
		struct dtask *t = task_by_id(d, json_string_value(json_object_get(
							json_object_get(k, "task_id"), "value")));
		if (t) /* its whole group goes */
			group_kill(d, t->group,
				   json_is_integer(ns) ? (double)json_integer_value(ns) / 1e9 : -1);
	} else if (!strcmp(type, "ACKNOWLEDGED")) {
		const char *uuid = json_string_value(
			json_object_get(json_object_get(ev, "acknowledged"), "uuid"));
		for (size_t i = 0; uuid && i < json_array_size(d->unacked); i++) {
			const char *u = json_string_value(
				json_object_get(json_array_get(d->unacked, i), "uuid"));
			if (u && !strcmp(u, uuid)) {
				json_array_remove(d->unacked, i);
				break;
			}
		}
	} else if (!strcmp(type, "SHUTDOWN")) {
		d->shutdown = true;
		group_kill(d, -1, -1);
	} else if (!strcmp(type, "ERROR")) {
		logf_("the agent says: %s",
		      json_string_value(json_object_get(json_object_get(ev, "error"), "message")));
	}
	json_decref(ev);
	return 0;
}

/* Body bytes from the subscription: chunked coding off, then RecordIO. -EIO on a framing
 * error. */
static int feed(struct dexec *d, const char *p, size_t n)
{
	if (!d->chunked)
		return recordio_decoder_feed(&d->rio, p, n, on_event, d) < 0 ? -EIO : 0;
	while (n) {
		if (d->chunk_state == 1) {
			size_t k = n < d->chunk_left ? n : d->chunk_left;
			if (recordio_decoder_feed(&d->rio, p, k, on_event, d) < 0)
				return -EIO;
			p += k;
			n -= k;
			d->chunk_left -= k;
			if (!d->chunk_left)
				d->chunk_state = 2;
			continue;
		}
		char c = *p++;
		n--;
		if (c != '\n') {
			if (d->nline + 1 >= sizeof(d->line))
				return -EIO;
			d->line[d->nline++] = c;
			continue;
		}
		d->line[d->nline] = '\0';
		d->nline = 0;
		if (d->chunk_state == 2) {
			d->chunk_state = 0;
			continue;
		}
		char *end;
		unsigned long long sz = strtoull(d->line, &end, 16);
		if (end == d->line)
			return -EIO;
		if (sz == 0)
			return -EPIPE; /* the stream ended */
		d->chunk_left = (size_t)sz;
		d->chunk_state = 1;
	}
	return 0;
}

static void disconnect(struct dexec *d)
{
	if (d->sock >= 0)
		close(d->sock);
	d->sock = -1;
	d->subscribed = false;
	if (!d->lost_at_ms)
		d->lost_at_ms = now_ms();
	recordio_decoder_release(&d->rio);
}

static int subscribe(struct dexec *d)
{
	int fd = connect_agent(d);
	if (fd < 0)
		return fd;
	json_t *call = call_new(d, "SUBSCRIBE");
	json_t *tasks = json_array(), *updates = json_array();
	for (size_t i = 0; i < d->ntasks; i++)
		if (!d->tasks[i].ended && d->tasks[i].info)
			json_array_append(tasks, d->tasks[i].info);
	for (size_t i = 0; i < json_array_size(d->unacked); i++)
		json_array_append_new(updates,
				      json_pack("{s:O}", "status", json_array_get(d->unacked, i)));
	json_object_set_new(call, "subscribe", json_pack("{s:o, s:o}", "unacknowledged_tasks",
							 tasks, "unacknowledged_updates",
							 updates));
	char buf[8192];
	size_t have = 0;
	int code = post_call(d, fd, call);
	json_decref(call);
	if (code == 0)
		code = read_head(fd, buf, sizeof(buf), &have, &d->chunked);
	if (code != 200) {
		logf_("SUBSCRIBE failed (%d)", code);
		close(fd);
		return -ECONNREFUSED;
	}
	struct timeval tv = { 0, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	d->sock = fd;
	d->chunk_state = 0;
	d->chunk_left = d->nline = 0;
	recordio_decoder_init(&d->rio, DEXEC_MAX_RECORD);
	if (have && feed(d, buf, have) < 0) {
		disconnect(d);
		return -EIO;
	}
	return 0;
}

static bool all_done(const struct dexec *d)
{
	for (size_t i = 0; i < d->ntasks; i++)
		if (!d->tasks[i].ended)
			return false;
	return d->ntasks > 0 || d->shutdown;
}

static int run(struct dexec *d)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		return 1;
	if (subscribe(d) < 0)
		return 1;
	for (;;) {
		uint64_t now = now_ms();
		for (size_t i = 0; i < d->ntasks; i++) {
			struct dtask *t = &d->tasks[i];
			if (t->killing && !t->ended && t->kill_at_ms && now >= t->kill_at_ms) {
				kill(-t->pid, SIGKILL);
				t->kill_at_ms = 0;
			}
		}
		if (all_done(d) && (!json_array_size(d->unacked) || d->shutdown ||
				    now >= d->ended_at_ms + DEXEC_ACK_WAIT_MS))
			return 0;
		if (d->sock < 0) {
			if (!d->checkpoint || now >= d->lost_at_ms + d->recovery_ms) {
				logf_("lost the agent: killing the tasks");
				group_kill(d, -1, 0);
				d->shutdown = true;
			} else if (now >= d->retry_at_ms) {
				d->retry_at_ms = now + 1000;
				subscribe(d);
			}
		}
		struct pollfd pf[2 + DEXEC_MAX_TASKS * 2] = { { .fd = sfd, .events = POLLIN },
							      { .fd = d->sock, .events = POLLIN } };
		/* the health checks' attempts in flight: after the two above (the second
		 * ignored while d->sock < 0) */
		size_t npf = 2, at[DEXEC_MAX_TASKS], cnt[DEXEC_MAX_TASKS];
		int wait = 200;
		uint64_t cm = exec_mono_ms();
		for (size_t i = 0; i < d->ntasks; i++) {
			struct dtask *t = &d->tasks[i];
			at[i] = npf;
			cnt[i] = t->ck ? exec_checks_pollfds(t->ck, pf + npf,
							     ARRAY_SIZE(pf) - npf) : 0;
			npf += cnt[i];
			int w = t->ck ? exec_checks_timeout(t->ck, cm) : -1;
			if (w >= 0 && w < wait)
				wait = w;
		}
		if (d->sock < 0)
			pf[1].fd = -1;
		int r = poll(pf, npf, wait);
		if (r < 0 && errno != EINTR)
			return 1;
		cm = exec_mono_ms();
		for (size_t i = 0; i < d->ntasks; i++)
			if (d->tasks[i].ck)
				exec_checks_step(d->tasks[i].ck, pf + at[i], cnt[i], cm);
		if (r > 0 && (pf[0].revents & POLLIN)) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
					d->shutdown = true;
					group_kill(d, -1, -1);
				}
			}
			reap(d);
		}
		if (r > 0 && d->sock >= 0 && (pf[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			char buf[16384];
			ssize_t n = recv(d->sock, buf, sizeof(buf), 0);
			if (n <= 0 || feed(d, buf, (size_t)n) < 0) {
				logf_("the subscription ended");
				disconnect(d);
			}
		}
	}
}

int agent_default_executor_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct dexec d = { .sock = -1 };
	const char *ep = getenv("MESOS_AGENT_ENDPOINT");
	d.fw = getenv("MESOS_FRAMEWORK_ID");
	d.eid = getenv("MESOS_EXECUTOR_ID");
	d.sandbox = getenv("MESOS_SANDBOX");
	d.token = getenv("MESOS_EXECUTOR_AUTHENTICATION_TOKEN");
	const char *ck = getenv("MESOS_CHECKPOINT");
	d.checkpoint = ck && !strcmp(ck, "1");
	d.recovery_ms = 15 * 60 * 1000; /* MESOS_RECOVERY_TIMEOUT's default */
	const char *colon = ep ? strrchr(ep, ':') : NULL;
	if (!colon || !d.fw || !d.eid || !d.sandbox || (size_t)(colon - ep) >= sizeof(d.host) ||
	    strlen(colon + 1) >= sizeof(d.port)) {
		fprintf(stderr, "berth default-executor: run by the agent only (MESOS_AGENT_ENDPOINT, "
				"MESOS_FRAMEWORK_ID, MESOS_EXECUTOR_ID, MESOS_SANDBOX missing)\n");
		return 2;
	}
	memcpy(d.host, ep, (size_t)(colon - ep));
	snprintf(d.port, sizeof(d.port), "%s", colon + 1);
	d.unacked = json_array();
	int r = run(&d);
	for (size_t i = 0; i < d.ntasks; i++) {
		dexec_plan_release(&d.tasks[i].plan);
		json_decref(d.tasks[i].info);
		free(d.tasks[i].sandbox);
	}
	json_decref(d.unacked);
	if (d.sock >= 0)
		close(d.sock);
	recordio_decoder_release(&d.rio);
	return r;
}
