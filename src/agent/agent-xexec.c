/* Custom executors on the agent (issue 19, docs/internals/executor-api.md): a LAUNCH whose
 * TaskSpec carries "executor" starts that executor's command once per (framework,
 * executor_id), in its own sandbox, with Mesos's environment (xapi_env); the executor then
 * subscribes on POST /api/v1/executor (agent-xapi-http.c) and gets its tasks as LAUNCH
 * events; its UPDATE calls become the task's status updates to the master, through the same
 * FIFO as a shim's (agent_update_queue); a KILL becomes a KILL event.
 *
 * Invariants:
 * - An executor is in a->xexecs from its spawn until its process has exited (pidfd) or the
 *   agent stops; its tasks point at it (t->xexec) only while both live: on its exit each
 *   unfinished task is reported TASK_FAILED (REASON_EXECUTOR_TERMINATED) and unlinked.
 * - Tasks launched before the executor subscribed wait in x->pending (TaskInfo, in order;
 *   at most AGENT_XEXEC_MAX_PENDING) and are sent right after SUBSCRIBED.
 * - At most one subscription stream per executor: a new SUBSCRIBE replaces the old one.
 *   The stream's on_close finds its executor by the stream pointer, never through a
 *   pointer kept in the closure, so an executor freed first is never touched.
 * - The executors of checkpointing frameworks survive the agent: each is checkpointed in
 *   <work>/xexecs/executor.<framework>.<executor>.json (its ExecutorInfo, pid and start
 *   time, and its tasks with their states), rewritten atomically whenever one of these
 *   changes and removed when it ends. A restarted agent (agent_xexecs_recover) reattaches
 *   the live ones (pidfd, same start time), recreates their tasks in their last states,
 *   and waits AGENT_XEXEC_RECOVERY_SEC for the executor's new SUBSCRIBE, which reconciles
 *   (its unacknowledged updates applied, tasks it never got lost); an executor that does
 *   not come back is killed. The agent stopping leaves them running, as Mesos's does;
 *   other executors are killed with it.
 * - The default executor (ExecutorInfo type DEFAULT, LAUNCH_GROUP; dexec.h) is such an
 *   executor whose command is `berth default-executor`. Its sandbox is laid out as Mesos's:
 *   <work>/slaves/<agent id>/frameworks/<fw>/executors/<eid>/runs/<container id> (and
 *   runs/latest), its tasks' under it in tasks/<task id>; <sandboxes>/<task id> links to
 *   each task's, so that the files API and `berth logs` find it as a shim's. A group's tasks arrive as one LAUNCH each (with
 *   "group" and "group_size"); they are gathered in x->group_buf and handed over together
 *   as one LAUNCH_GROUP event once all have arrived (x->pending_groups before SUBSCRIBE).
 *   The nested containers' ids come from the executor's updates (container_status) and are
 *   listed by GET_CONTAINERS with show_nested.
 * - An executor whose ExecutorInfo has an image runs in a container under the shim
 *   (agent-xctr.c: x->ctr; x->pid is the shim's). Signals to it go through xexec_kill.
 * - Not done (yet): isolation (cgroups) of a custom executor; an update the agent queued but had not
 *   delivered when it died is not checkpointed (the master reconciles the task). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/agent-int.h"
#include "agent/xexec-int.h"
#include "agent/agent-util.h"
#include "agent/xapi.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "executor/exec-cgroup.h"
#include "executor/exec-status.h"
#include "net/http.h"
#include "net/recordio.h"

#define AGENT_XEXEC_MAX_PENDING 10000
#define AGENT_XEXEC_STREAM_MAX (4u << 20)
#define AGENT_XEXEC_MAX_ENV 4200
#define AGENT_XEXEC_RECOVERY_SEC 15

extern char **environ;


static char *ckpt_path(const struct agent *a, const struct agent_xexec *x)
{
	return xasprintf("%s/xexecs/executor.%s.%s.json", a->work_dir, x->framework_id,
			 x->executor_id);
}

/* Writes x's checkpoint (checkpointing frameworks only): tmp, fsync, rename. */
void agent_xexec_checkpoint(struct agent *a, struct agent_xexec *x)
{
	if (!x->checkpoint || x->pid <= 0)
		return;
	json_t *tasks = json_object();
	for (size_t i = 0; i < a->nbuckets; i++)
		for (struct agent_task *t = a->buckets[i]; t; t = t->hnext)
			if (t->xexec == x)
				json_object_set_new(tasks, t->id,
						    json_pack("{s:s, s:I}", "state", t->state,
							      "grace_ms", (json_int_t)t->grace_ms));
	json_t *doc = json_pack("{s:s, s:s, s:O, s:f, s:I, s:I, s:o, s:s, s:s}", "framework_id",
				x->framework_id, "executor_id", x->executor_id, "executor_info",
				x->executor_info, "grace_sec", x->grace_sec, "pid",
				(json_int_t)x->pid, "start", (json_int_t)x->start, "tasks", tasks,
				"container_id", x->container_id, "sandbox", x->sandbox);
	if (x->cg_name)
		json_object_set_new(doc, "cgroup", json_pack("{s:s, s:f, s:f}", "name", x->cg_name,
							     "cpus", x->cg_cpus, "mem",
							     x->cg_mem));
	char *dir = xasprintf("%s/xexecs", a->work_dir), *path = ckpt_path(a, x);
	char *tmp = xasprintf("%s.tmp", path);
	int r = mkdir(dir, 0700) == -1 && errno != EEXIST ? -errno : 0;
	int fd = r == 0 ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
	if (r == 0 && (fd < 0 || json_dumpfd(doc, fd, JSON_COMPACT) < 0 || fsync(fd) == -1))
		r = errno ? -errno : -EIO;
	if (fd >= 0)
		close(fd);
	if (r == 0 && rename(tmp, path) == -1)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		log_warn("agent", "executor '%s': cannot checkpoint it in '%s': %s", x->executor_id,
			 path, strerror(-r));
	}
	json_decref(doc);
	free(dir);
	free(path);
	free(tmp);
}

/* As agent-task.c's task_report, for tasks run by an executor (no exit code, no signal). */
struct agent_update *agent_task_report(struct agent_task *t, const char *state,
				       const char *message, const char *reason)
{
	t->state = state;
	/* Terminal as the update FIFO counts it (agent_update_queue). */
	t->terminal = strcmp(state, "TASK_STARTING") && strcmp(state, "TASK_RUNNING") &&
		      strcmp(state, "TASK_KILLING") && strcmp(state, "TASK_STAGING");
	struct agent_update *u = agent_update_queue(t->agent, t, t->id, state, message, reason,
						    -1, 0);
	if (u && t->xexec)
		json_object_set_new(u->json, "executor_id", json_string(t->xexec->executor_id));
	if (t->xexec)
		agent_xexec_checkpoint(t->agent, t->xexec);
	return u;
}

struct agent_xexec *agent_xexec_by_token(struct agent *a, const char *token)
{
	struct agent_xexec *found = NULL;
	for (struct agent_xexec *x = a->xexecs; x; x = x->next) /* no early exit */
		if (agent_auth_token_is(token, x->token) && !found)
			found = x;
	return found;
}

struct agent_xexec *agent_xexec_find(struct agent *a, const char *fw, const char *eid)
{
	for (struct agent_xexec *x = a->xexecs; x; x = x->next)
		if (!strcmp(x->framework_id, fw) && !strcmp(x->executor_id, eid))
			return x;
	return NULL;
}

void agent_xexecs_v1(struct agent *a, json_t *arr)
{
	for (struct agent_xexec *x = a->xexecs; x; x = x->next) {
		json_t *info = json_deep_copy(x->executor_info);
		json_object_set_new(info, "framework_id", json_pack("{s:s}", "value", x->framework_id));
		json_array_append_new(arr, json_pack("{s:o}", "executor_info", info));
	}
}

static void xexec_free(struct agent_xexec *x)
{
	if (x->pid_ev)
		event_free(x->pid_ev);
	if (x->kill_ev)
		event_free(x->kill_ev);
	if (x->recover_ev)
		event_free(x->recover_ev);
	if (x->pidfd >= 0)
		close(x->pidfd);
	agent_xfetch_cancel(x->fetch);
	json_decref(x->spawn_spec);
	json_decref(x->executor_info);
	json_decref(x->pending);
	json_decref(x->group_buf);
	json_decref(x->pending_groups);
	json_decref(x->nested);
	free(x->group_id);
	free(x->container_id);
	free(x->cg_name);
	free(x->framework_id);
	free(x->executor_id);
	free(x->sandbox);
	explicit_bzero(x->token, sizeof(x->token));
	free(x);
}

static void xexec_unlink(struct agent *a, struct agent_xexec *x)
{
	for (struct agent_xexec **pp = &a->xexecs; *pp; pp = &(*pp)->next) {
		if (*pp == x) {
			*pp = x->next;
			return;
		}
	}
}

int agent_xexec_send(struct agent_xexec *x, json_t *ev)
{
	int r = -EPIPE;
	size_t len;
	char *rec = ev ? recordio_json_record(ev, &len) : NULL;
	if (rec && x->stream)
		r = http_stream_write(x->stream, rec, len);
	free(rec);
	json_decref(ev);
	return r;
}

/* The executor's process is gone (status: its wait status, when known): its unfinished
 * tasks fail, its scheduler gets FAILURE, its checkpoint goes. */
static void xexec_ended(struct agent *a, struct agent_xexec *x, int status, const char *msg)
{
	log_info("agent", "executor '%s' of framework '%s' ended: %s", x->executor_id,
		 x->framework_id, msg);
	xexec_unlink(a, x);
	char *path = ckpt_path(a, x);
	unlink(path);
	free(path);
	agent_link_message(a, x->framework_id, x->executor_id, NULL, status); /* FAILURE */
	if (x->cg_name) /* the container goes: what is left in it is killed */
		exec_cg_destroy_name(a->cg_root, x->cg_name);
	for (size_t i = 0; i < a->nbuckets; i++) {
		for (struct agent_task *t = a->buckets[i]; t; t = t->hnext) {
			if (t->xexec != x)
				continue;
			t->xexec = NULL;
			if (!t->terminal)
				agent_task_report(t, "TASK_FAILED", msg,
						  x->end_reason ? x->end_reason
								: "REASON_EXECUTOR_TERMINATED");
		}
	}
	if (x->stream)
		http_stream_close(x->stream); /* on_close finds no executor for it */
	xexec_free(x);
}

static void on_exit_ev(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct agent_xexec *x = arg;
	int status = 0;
	char msg[800];
	if (x->ctr) { /* the shim: the executor's end is in its status file */
		waitpid(x->pid, NULL, WNOHANG);
		status = agent_xctr_ended(x->agent, x, msg, sizeof(msg));
		xexec_ended(x->agent, x, status, msg);
		return;
	}
	if (waitpid(x->pid, &status, WNOHANG) <= 0) {
		/* Not our child (reattached after a restart): its status is unknown. */
		xexec_ended(x->agent, x, 0, "Executor terminated");
		return;
	}
	if (WIFSIGNALED(status))
		snprintf(msg, sizeof(msg), "Executor terminated: killed by signal %d",
			 WTERMSIG(status));
	else
		snprintf(msg, sizeof(msg), "Executor terminated: exited with status %d",
			 WEXITSTATUS(status));
	xexec_ended(x->agent, x, status, msg);
}

/* A custom executor runs as the task's user (agent_task_user: --default-user for a v1
 * framework's, whose user the agent is not told): its sandbox and output files are given to
 * that user and made private, and argv starts with util-linux's setpriv, which takes the
 * user's uid, gid and groups before exec. 0, 1 when it runs as the agent's own user, or
 * -errno. */
static uid_t give_uid;
static gid_t give_gid;

static int give_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	if ((st->st_uid != give_uid || st->st_gid != give_gid) &&
	    lchown(p, give_uid, give_gid) == -1)
		return errno;
	return 0;
}

static int xexec_user(struct agent *a, struct agent_xexec *x, json_t *spec, char *idbuf,
		      size_t idsize, char *msg, size_t msgsize)
{
	const char *user = x->dflt ? NULL : agent_task_user(a, spec);
	if (!user)
		return 1;
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		snprintf(msg, msgsize, "Failed to switch to user '%s': no such user on the agent",
			 user);
		return -ENOENT;
	}
	const char *files[] = { "/stdout", "/stderr" };
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		char *p = xasprintf("%s%s", x->sandbox, files[i]);
		int fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
		free(p);
		if (fd < 0)
			return -errno;
		close(fd);
	}
	/* The whole sandbox: the executor's fetched uris are its user's too. */
	give_uid = pw->pw_uid;
	give_gid = pw->pw_gid;
	int e = nftw(x->sandbox, give_one, 16, FTW_PHYS);
	if (e)
		return e > 0 ? -e : -errno;
	if (chmod(x->sandbox, 0700) == -1)
		return -errno;
	snprintf(idbuf, idsize, "%u:%u", (unsigned)pw->pw_uid, (unsigned)pw->pw_gid);
	return 0;
}

static int xexec_spawn(struct agent *a, struct agent_xexec *x, json_t *spec, char *msg,
		       size_t msgsize)
{
	int r0 = fs_mkdir_p(x->sandbox, 0755);
	if (r0 < 0)
		return r0;
	char ids[64];
	r0 = xexec_user(a, x, spec, ids, sizeof(ids), msg, msgsize);
	if (r0 < 0)
		return r0;
	bool as_user = r0 == 0;
	char *env[AGENT_XEXEC_MAX_ENV + 1] = { 0 };
	size_t n = 0;
	struct xapi_env_in in = { .framework_id = x->framework_id,
				  .executor_id = x->executor_id,
				  .agent_id = a->agent_id ? a->agent_id : "",
				  .sandbox = x->sandbox,
				  .agent_endpoint = a->endpoint,
				  .checkpoint = x->checkpoint,
				  .grace_seconds = x->grace_sec,
				  .auth_token = a->http_auth ? x->token : NULL };
	int r = xapi_env(&in, env, &n, AGENT_XEXEC_MAX_ENV);
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(spec, "env"), k, v) {
		if (x->dflt) /* the spec is a task's: its environment comes in its TaskInfo */
			break;
		if (r < 0 || n >= AGENT_XEXEC_MAX_ENV)
			break;
		if (json_is_string(v) && *k && !strchr(k, '=') && strncmp(k, "MESOS_", 6))
			env[n++] = xasprintf("%s=%s", k, json_string_value(v));
	}
	/* Mesos's SECRET variables (docs/security.md, "Secrets"): read here, into the
	 * executor's environment only. */
	if (r >= 0)
		r = agent_secrets_env(a, spec, env, &n, AGENT_XEXEC_MAX_ENV, msg, msgsize);
	const char *path = getenv("PATH");
	x->ctr = agent_xctr_wanted(x, spec);
	/* In a container: the image's PATH (berth-image), not the agent's. */
	if (r >= 0 && n < AGENT_XEXEC_MAX_ENV && !x->ctr &&
	    !json_object_get(json_object_get(spec, "env"), "PATH"))
		env[n++] = xasprintf("PATH=%s", path ? path : "/usr/local/bin:/usr/bin:/bin");
	const char *cmd = json_string_value(json_object_get(spec, "cmd"));
	json_t *args = json_object_get(spec, "args");
	size_t na = json_array_size(args);
	const char **argv0 = xcalloc(na + 4 + 6, sizeof(char *)), **argv = argv0;
	char uid[96], gid[96];
	if (as_user) {
		char *colon = strchr(ids, ':');
		*colon = '\0';
		snprintf(uid, sizeof(uid), "--reuid=%s", ids);
		snprintf(gid, sizeof(gid), "--regid=%s", colon + 1);
		const char *pre[] = { "setpriv", uid, gid, "--init-groups", "--" };
		for (size_t i = 0; i < ARRAY_SIZE(pre); i++)
			argv0[i] = pre[i];
		argv = argv0 + ARRAY_SIZE(pre);
	}
	char self[PATH_MAX];
	if (x->dflt) {
		ssize_t sn = readlink("/proc/self/exe", self, sizeof(self) - 1);
		self[sn > 0 ? sn : 0] = '\0';
		argv[0] = self;
		argv[1] = "default-executor";
	} else if (cmd) {
		argv[0] = "/bin/sh";
		argv[1] = "-c";
		argv[2] = cmd;
	} else {
		for (size_t i = 0; i < na; i++)
			argv[i] = json_string_value(json_array_get(args, i));
	}
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&at, 0);
	char *out = xasprintf("%s/stdout", x->sandbox), *err = xasprintf("%s/stderr", x->sandbox);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_APPEND, 0644);
	posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_APPEND, 0644);
	posix_spawn_file_actions_addchdir_np(&fa, x->sandbox);
	if (r >= 0 && x->ctr && json_array_size(json_object_get(spec, "secrets"))) {
		/* A container's environment is written to its bundle (docs/security.md). */
		snprintf(msg, msgsize, "Secrets are not supported for an executor in a container: "
				       "its environment would be written to its bundle");
		r = -ENOTSUP;
	} else if (r >= 0 && x->ctr)
		r = agent_xctr_spawn(a, x, spec, env, n, cmd ? NULL : argv, cmd, msg, msgsize);
	else if (r >= 0 && argv[0])
		r = -posix_spawnp(&x->pid, argv0[0], &fa, &at, (char *const *)argv0, env);
	else if (r >= 0)
		r = -EINVAL;
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	free(out);
	free(err);
	free(argv0);
	for (size_t i = 0; i < n; i++) {
		explicit_bzero(env[i], strlen(env[i]));
		free(env[i]);
	}
	if (r < 0)
		return r;
	x->pidfd = pidfd_open(x->pid, 0);
	if (x->pidfd < 0) {
		r = -errno;
		kill(x->ctr ? x->pid : -x->pid, SIGKILL);
		if (x->ctr)
			agent_xctr_remove(a, x);
		waitpid(x->pid, NULL, 0);
		return r;
	}
	if (exec_proc_starttime(x->pid, &x->start) < 0)
		x->start = 0;
	if (x->dflt && a->cg_version && (r = agent_xgroup_cg_start(a, x)) < 0) {
		kill(-x->pid, SIGKILL);
		waitpid(x->pid, NULL, 0);
		close(x->pidfd);
		x->pidfd = -1;
		exec_cg_destroy_name(a->cg_root, x->cg_name);
		return r;
	}
	x->pid_ev = event_new(a->base, x->pidfd, EV_READ, on_exit_ev, x);
	event_add(x->pid_ev, NULL);
	return 0;
}

/* Its uris are fetched (err NULL) or not: start it, or fail its tasks. */
static void xexec_fetched(void *ctx, const char *err)
{
	struct agent_xexec *x = ctx;
	struct agent *a = x->agent;
	x->fetch = NULL;
	char msg[1400], smsg[300] = "";
	int r = -1;
	if (!err && (r = xexec_spawn(a, x, x->spawn_spec, smsg, sizeof(smsg))) == 0) {
		json_decref(x->spawn_spec);
		x->spawn_spec = NULL;
		log_info("agent", "executor '%s' of framework '%s' started (pid %d) in '%s'",
			 x->executor_id, x->framework_id, (int)x->pid, x->sandbox);
		agent_xexec_checkpoint(a, x);
		return;
	}
	if (err)
		snprintf(msg, sizeof(msg), "%s", err);
	else if (smsg[0])
		snprintf(msg, sizeof(msg), "%s", smsg);
	else
		snprintf(msg, sizeof(msg), "Failed to launch executor '%s': %s", x->executor_id,
			 strerror(-r));
	x->end_reason = "REASON_CONTAINER_LAUNCH_FAILED";
	xexec_ended(a, x, 1 << 8, msg);
}

/* Sets x's container id and sandbox: those checkpointed (cid, sandbox: non-NULL after a
 * restart), else new ones (Mesos's layout for the default executor). */
static void xexec_layout(struct agent *a, struct agent_xexec *x, const char *cid,
			 const char *sandbox)
{
	if (cid && sandbox) {
		x->container_id = xstrdup(cid);
		x->sandbox = xstrdup(sandbox);
	} else if (x->dflt) {
		char id[37];
		id_uuid4(id);
		x->container_id = xstrdup(id);
		/* Mesos's own layout, apart from the shims' <sandboxes>/<task id> (a task may be
		 * called "frameworks"). */
		char *runs = xasprintf("%s/slaves/%s/frameworks/%s/executors/%s/runs", a->work_dir,
				       a->agent_id ? a->agent_id : "unknown", x->framework_id,
				       x->executor_id);
		x->sandbox = xasprintf("%s/%s", runs, id);
		char *latest = xasprintf("%s/latest", runs);
		if (fs_mkdir_p(runs, 0755) == 0) {
			unlink(latest);
			if (symlink(id, latest) == -1)
				log_warn("agent", "cannot link '%s': %s", latest, strerror(errno));
		}
		free(latest);
		free(runs);
	} else {
		x->container_id = xasprintf("%s.%s", x->framework_id, x->executor_id);
		x->sandbox = xasprintf("%s/executor.%s.%s", a->sandbox_root, x->framework_id,
				       x->executor_id);
	}
}

int agent_xexec_launch(struct agent *a, struct agent_task *t, json_t *spec)
{
	json_t *ei = json_object_get(spec, "executor");
	json_t *ti = json_object_get(spec, "task_info");
	const char *fw = json_string_value(json_object_get(spec, "framework_id"));
	const char *eid = json_string_value(json_object_get(json_object_get(ei, "executor_id"),
							    "value"));
	if (!fw || !eid || !agent_task_id_valid(eid) || !json_is_object(ti)) {
		agent_task_report(t, "TASK_FAILED", "Invalid executor in the LAUNCH",
				  "REASON_EXECUTOR_TERMINATED");
		return -EINVAL;
	}
	struct agent_xexec *x = agent_xexec_find(a, fw, eid);
	if (!x) {
		x = xcalloc(1, sizeof(*x));
		x->agent = a;
		x->pidfd = -1;
		x->framework_id = xstrdup(fw);
		x->executor_id = xstrdup(eid);
		agent_auth_token(x->token);
		const char *etype = json_string_value(json_object_get(ei, "type"));
		x->dflt = etype && !strcmp(etype, "DEFAULT");
		xexec_layout(a, x, NULL, NULL);
		x->executor_info = json_deep_copy(ei);
		if (!json_object_get(x->executor_info, "framework_id"))
			json_object_set_new(x->executor_info, "framework_id",
					    json_pack("{s:s}", "value", fw));
		x->checkpoint = json_is_true(json_object_get(spec, "checkpoint"));
		x->grace_sec = 5.0;
		x->pending = json_array();
		char msg[300] = "";
		int r = 0;
		if (json_array_size(json_object_get(spec, "fetch"))) {
			/* Its uris first; xexec_fetched spawns it (or fails its tasks). */
			if (mkdir(x->sandbox, 0755) == -1 && errno != EEXIST)
				r = -errno;
			x->spawn_spec = json_incref(spec);
			if (r == 0)
				r = agent_xfetch_start(a, x->sandbox, json_object_get(spec, "fetch"),
						       xexec_fetched, x, &x->fetch);
		} else {
			r = xexec_spawn(a, x, spec, msg, sizeof(msg));
		}
		if (r < 0) {
			if (!msg[0])
				snprintf(msg, sizeof(msg), "Failed to launch executor '%s': %s", eid,
					 strerror(-r));
			log_error("agent", "%s", msg);
			agent_task_report(t, "TASK_FAILED", msg, "REASON_EXECUTOR_TERMINATED");
			xexec_free(x);
			return r;
		}
		x->next = a->xexecs;
		a->xexecs = x;
		if (x->fetch)
			log_info("agent", "executor '%s' of framework '%s': fetching its uris into "
					  "'%s'", eid, fw, x->sandbox);
		else
			log_info("agent", "executor '%s' of framework '%s' started (pid %d) in '%s'",
				 eid, fw, (int)x->pid, x->sandbox);
	}
	t->xexec = x;
	const char *rstate = json_string_value(json_object_get(spec, "recovered_state"));
	if (rstate) {
		/* Recreated by agent_xexecs_recover: the executor has it (or says so). */
		t->state = xapi_state_name(rstate) ? xapi_state_name(rstate) : "TASK_RUNNING";
		return 0;
	}
	if (x->dflt)
		return agent_xgroup_gather(a, x, t, spec, ti);
	agent_xexec_checkpoint(a, x);
	if (x->stream && agent_xexec_send(x, xapi_event_launch(ti)) == 0)
		return 0;
	if (json_array_size(x->pending) >= AGENT_XEXEC_MAX_PENDING) {
		agent_task_report(t, "TASK_FAILED", "Too many tasks waiting for the executor",
				  "REASON_EXECUTOR_TERMINATED");
		t->xexec = NULL;
		return -ENOSPC;
	}
	json_array_append(x->pending, ti);
	return 0;
}

static void on_stream_close(struct http_stream *st, void *ctx)
{
	struct agent *a = ctx;
	for (struct agent_xexec *x = a->xexecs; x; x = x->next)
		if (x->stream == st)
			x->stream = NULL;
}

/* A re-SUBSCRIBE after an agent restart (Mesos's reconciliation): the executor's
 * unacknowledged updates are applied (each acknowledged), and tasks still STAGING that it
 * does not list were never handed to it: they are lost. */
static void xexec_reconcile(struct agent *a, struct agent_xexec *x, const struct xapi_call *c)
{
	size_t i;
	const json_t *u;
	json_array_foreach(c->updates, i, u) {
		const json_t *st = json_object_get(u, "status");
		const char *tid = json_string_value(
			json_object_get(json_object_get(st, "task_id"), "value"));
		const char *state = xapi_state_name(json_string_value(json_object_get(st, "state")));
		struct agent_task *t = tid ? agent_task_find(a, tid) : NULL;
		if (t && t->xexec == x && state && !t->terminal && strcmp(t->state, state)) {
			agent_task_report(t, state,
					  json_string_value(json_object_get(st, "message")),
					  json_string_value(json_object_get(st, "reason")));
			if (t->terminal)
				t->xexec = NULL;
		}
		const char *uuid = json_string_value(json_object_get(st, "uuid"));
		if (tid && uuid)
			agent_xexec_send(x, xapi_event_acknowledged(tid, uuid));
	}
	for (size_t b = 0; b < a->nbuckets; b++) {
		for (struct agent_task *t = a->buckets[b]; t; t = t->hnext) {
			if (t->xexec != x || strcmp(t->state, "TASK_STAGING"))
				continue;
			bool known = false;
			const json_t *ti;
			json_array_foreach(c->tasks, i, ti) {
				const char *id = json_string_value(
					json_object_get(json_object_get(ti, "task_id"), "value"));
				if (id && !strcmp(t->id, id))
					known = true;
			}
			if (!known) {
				agent_task_report(t, "TASK_LOST", "Task launched during agent restart",
						  "REASON_AGENT_RESTARTED");
				t->xexec = NULL;
			}
		}
	}
}

void agent_xexec_subscribe(struct agent *a, struct agent_xexec *x, struct evhttp_request *req,
			   const struct xapi_call *c)
{
	if (x->stream)
		http_stream_close(x->stream);
	x->stream = http_stream_start(a->base, req, 200, "application/json",
				      AGENT_XEXEC_STREAM_MAX, on_stream_close, a);
	json_t *fi = json_pack("{s:{s:s}, s:s, s:s}", "id", "value", x->framework_id, "name", "",
			       "user", "");
	json_t *ai = json_pack("{s:{s:s}, s:s, s:i}", "id", "value",
			       a->agent_id ? a->agent_id : "", "hostname", a->hostname, "port",
			       (int)a->http_port);
	char cid[300];
	snprintf(cid, sizeof(cid), "%s", x->container_id);
	agent_xexec_send(x, xapi_event_subscribed(x->executor_info, fi, ai, cid));
	json_decref(fi);
	json_decref(ai);
	if (x->recovered) {
		x->recovered = false;
		event_del(x->recover_ev);
		xexec_reconcile(a, x, c);
		agent_xexec_checkpoint(a, x);
		log_info("agent", "executor '%s' of framework '%s' subscribed again after the "
				  "agent's restart", x->executor_id, x->framework_id);
	}
	size_t i;
	json_t *ti;
	json_array_foreach(x->pending, i, ti)
		agent_xexec_send(x, xapi_event_launch(ti));
	json_array_clear(x->pending);
	json_array_foreach(x->pending_groups, i, ti)
		agent_xexec_send(x, xapi_event_launch_group(ti));
	json_array_clear(x->pending_groups);
	log_info("agent", "executor '%s' of framework '%s' subscribed", x->executor_id,
		 x->framework_id);
}

void agent_xexec_acknowledged(struct agent_xexec *x, const char *task_id, const char *uuid)
{
	agent_xexec_send(x, xapi_event_acknowledged(task_id, uuid));
}

bool agent_xexec_kill(struct agent *a, struct agent_task *t, double grace_seconds)
{
	struct agent_xexec *x = t->xexec;
	if (!x)
		return false;
	if (x->dflt && agent_xgroup_drop_unsent(a, x, t->id))
		return true;
	/* Not handed to the executor yet: it never runs. */
	size_t i;
	json_t *ti;
	json_array_foreach(x->pending, i, ti) {
		const char *id = json_string_value(
			json_object_get(json_object_get(ti, "task_id"), "value"));
		if (id && !strcmp(id, t->id)) {
			json_array_remove(x->pending, i);
			agent_task_report(t, "TASK_KILLED", "Killed before the executor subscribed",
					  NULL);
			return true;
		}
	}
	if (grace_seconds < 0 || grace_seconds >= 86400.0)
		grace_seconds = t->grace_ms / 1000.0;
	agent_xexec_send(x, xapi_event_kill(t->id, grace_seconds));
	return true;
}

void agent_xexec_message(struct agent *a, const char *framework_id, const char *executor_id,
			 const char *data)
{
	struct agent_xexec *x = framework_id && executor_id && data
					? agent_xexec_find(a, framework_id, executor_id)
					: NULL;
	if (!x || agent_xexec_send(x, xapi_event_message(data)) < 0)
		log_info("agent", "framework message for executor '%s' dropped: not subscribed here",
			 executor_id ? executor_id : "");
}

/* SIGKILL to the executor's process group; in a container, the shim deletes the container
 * at once (agent-xctr.c). */
static void xexec_kill(struct agent_xexec *x)
{
	if (x->ctr)
		agent_xctr_kill(x);
	else
		kill(-x->pid, SIGKILL);
}

static void on_shutdown_grace(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct agent_xexec *x = arg;
	log_info("agent", "executor '%s' still running after its grace period: killing it",
		 x->executor_id);
	if (x->pid > 0)
		xexec_kill(x); /* its exit follows through the pidfd */
}

void agent_xexec_shutdown(struct agent *a, const char *framework_id, const char *executor_id)
{
	struct agent_xexec *x = framework_id && executor_id
					? agent_xexec_find(a, framework_id, executor_id)
					: NULL;
	if (!x || x->kill_ev)
		return;
	if (x->fetch) {
		/* Not started: it never will be. */
		x->end_reason = "REASON_EXECUTOR_TERMINATED";
		xexec_ended(a, x, 0, "Executor shut down before its uris were fetched");
		return;
	}
	log_info("agent", "shutting down executor '%s' of framework '%s'", executor_id,
		 framework_id);
	agent_xexec_send(x, xapi_event_plain("SHUTDOWN"));
	x->kill_ev = evtimer_new(a->base, on_shutdown_grace, x);
	struct timeval tv = { (time_t)x->grace_sec,
			      (suseconds_t)((x->grace_sec - (time_t)x->grace_sec) * 1e6) };
	evtimer_add(x->kill_ev, &tv);
}

void agent_xexecs_free(struct agent *a)
{
	/* The streams end first; their on_close runs now, while the executors are listed. No
	 * executor may end meanwhile: the link is stopped already, and ending reports to it (an
	 * executor that exits as its stream closes, as the default executor does, crashed the
	 * agent here). What exits now is reaped below, or by the next agent. */
	bool streams = false;
	for (struct agent_xexec *x = a->xexecs; x; x = x->next) {
		if (x->pid_ev)
			event_del(x->pid_ev);
		if (x->kill_ev)
			event_del(x->kill_ev);
		agent_xfetch_cancel(x->fetch);
		x->fetch = NULL;
		if (x->stream) {
			http_stream_close(x->stream);
			streams = true;
		}
	}
	if (streams)
		event_base_loop(a->base, EVLOOP_NONBLOCK);
	struct agent_xexec *x = a->xexecs, *next;
	a->xexecs = NULL;
	for (; x; x = next) {
		next = x->next;
		if (x->pid > 0 && !x->checkpoint) {
			xexec_kill(x);
			waitpid(x->pid, NULL, 0); /* a shim: once it has deleted the container */
			if (x->ctr)
				agent_xctr_remove(a, x);
		} /* else it outlives the agent: the next one reattaches it */
		xexec_free(x);
	}
}

/* ---- recovery after an agent restart ---- */

static void on_recovery_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct agent_xexec *x = arg;
	log_info("agent", "executor '%s' of framework '%s' did not subscribe again within %d s "
			  "of the agent's restart: killing it", x->executor_id, x->framework_id,
		 AGENT_XEXEC_RECOVERY_SEC);
	xexec_kill(x); /* its exit follows through the pidfd */
}

static void recover_one(struct agent *a, const char *path)
{
	json_error_t jerr;
	json_t *doc = json_load_file(path, 0, &jerr);
	const char *fw = json_string_value(json_object_get(doc, "framework_id"));
	const char *eid = json_string_value(json_object_get(doc, "executor_id"));
	json_t *info = json_object_get(doc, "executor_info");
	json_int_t pid = json_integer_value(json_object_get(doc, "pid"));
	uint64_t start = (uint64_t)json_integer_value(json_object_get(doc, "start")), now = 0;
	if (!fw || !eid || !agent_task_id_valid(eid) || !json_is_object(info) || pid <= 0 ||
	    agent_xexec_find(a, fw, eid)) {
		log_warn("agent", "ignoring the bad executor checkpoint '%s'", path);
		json_decref(doc);
		unlink(path);
		return;
	}
	struct agent_xexec *x = xcalloc(1, sizeof(*x));
	x->agent = a;
	x->framework_id = xstrdup(fw);
	x->executor_id = xstrdup(eid);
	const char *etype = json_string_value(json_object_get(info, "type"));
	x->dflt = etype && !strcmp(etype, "DEFAULT");
	xexec_layout(a, x, json_string_value(json_object_get(doc, "container_id")),
		     json_string_value(json_object_get(doc, "sandbox")));
	x->ctr = agent_xctr_exists(a, x);
	const json_t *cgj = json_object_get(doc, "cgroup");
	const char *cgn = json_string_value(json_object_get(cgj, "name"));
	if (cgn && exec_cg_name_valid(cgn)) {
		x->cg_name = xstrdup(cgn);
		x->cg_cpus = json_number_value(json_object_get(cgj, "cpus"));
		x->cg_mem = json_number_value(json_object_get(cgj, "mem"));
	}
	x->executor_info = json_incref(info);
	x->checkpoint = true;
	x->grace_sec = json_number_value(json_object_get(doc, "grace_sec"));
	if (!(x->grace_sec > 0 && x->grace_sec < 86400))
		x->grace_sec = 5.0;
	x->pending = json_array();
	x->pid = (pid_t)pid;
	x->start = start;
	x->pidfd = exec_proc_starttime(x->pid, &now) == 0 && now == start ? pidfd_open(x->pid, 0)
									   : -1;
	x->next = a->xexecs;
	a->xexecs = x;
	/* Its tasks again, in their last states (agent_task_launch with "recovered_state"). */
	const char *tid;
	json_t *tj;
	json_object_foreach(json_object_get(doc, "tasks"), tid, tj) {
		const char *st = xapi_state_name(json_string_value(json_object_get(tj, "state")));
		if (!st || !agent_task_id_valid(tid) || agent_task_find(a, tid))
			continue;
		json_t *spec = json_pack("{s:s, s:s, s:O, s:{s:{s:s}}, s:f, s:s}", "task_id", tid,
					 "framework_id", fw, "executor", info, "task_info",
					 "task_id", "value", tid, "kill_grace_period_seconds",
					 json_integer_value(json_object_get(tj, "grace_ms")) / 1000.0,
					 "recovered_state", st);
		agent_task_launch(a, spec);
		json_decref(spec);
	}
	json_decref(doc);
	if (x->pidfd < 0) {
		char msg[800] = "Executor terminated: gone when the agent restarted";
		int status = x->ctr ? agent_xctr_ended(a, x, msg, sizeof(msg)) : 0;
		xexec_ended(a, x, status, msg);
		return;
	}
	x->recovered = true;
	x->pid_ev = event_new(a->base, x->pidfd, EV_READ, on_exit_ev, x);
	event_add(x->pid_ev, NULL);
	x->recover_ev = evtimer_new(a->base, on_recovery_timeout, x);
	struct timeval tv = { AGENT_XEXEC_RECOVERY_SEC, 0 };
	evtimer_add(x->recover_ev, &tv);
	log_info("agent", "recovered executor '%s' of framework '%s' (pid %d); waiting for it to "
			  "subscribe again", x->executor_id, x->framework_id, (int)x->pid);
}

void agent_xexecs_recover(struct agent *a)
{
	char *dir = xasprintf("%s/xexecs", a->work_dir);
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (strncmp(de->d_name, "executor.", 9) || n < 5 || strcmp(de->d_name + n - 5, ".json"))
			continue;
		char *path = xasprintf("%s/%s", dir, de->d_name);
		recover_one(a, path);
		free(path);
	}
	if (d)
		closedir(d);
	free(dir);
}
