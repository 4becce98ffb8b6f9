/* A custom executor in a container (issue 19, docs/internals/executor-api.md, "The
 * executor's container"): an ExecutorInfo whose `container` names an image (MESOS with
 * mesos.image, or DOCKER with docker.image; the master translates it into the LAUNCH
 * record's "container" as for a command task's) runs under the per-task shim, exactly as a
 * container task does: berth-executor makes the bundle through berth-image and runs crun in
 * the foreground, so the executor is the container's process and its tasks (its children)
 * run in the same container.
 *
 * Invariants:
 * - The shim's meta directory is <work>/xmeta/<container id> (not under <work>/meta, which
 *   holds tasks' and which agent_tasks_recover scans); it exists from the spawn until the
 *   executor's end has been read, so a restarted agent knows an executor is containerised
 *   by finding its spec there.
 * - x->pid is the shim's pid (its own session); the executor's exit status is the shim's
 *   status file, read once the shim has exited. Signals go to the shim, never to a process
 *   group: SIGTERM with the grace period (ms) as the signal's value, or EXEC_KILL_NOW; the
 *   shim forwards them (crun to the container's init) and deletes the container at the end,
 *   killing whatever is left in it.
 * - Networking is the host's (the master refuses BRIDGE for an executor): the executor
 *   reaches the agent at MESOS_AGENT_ENDPOINT as a process on the host does. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent-int.h"
#include "agent/xexec-int.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/mem.h"
#include "executor/exec-prestop.h"
#include "executor/exec-spec.h"
#include "executor/exec-status.h"

extern char **environ;

bool agent_xctr_wanted(const struct agent_xexec *x, json_t *spec)
{
	json_t *c = json_object_get(spec, "container");
	const char *image = json_string_value(json_object_get(c, "image"));
	return !x->dflt && image && *image;
}

char *agent_xctr_meta(const struct agent *a, const struct agent_xexec *x)
{
	return xasprintf("%s/xmeta/%s", a->work_dir, x->container_id);
}

bool agent_xctr_exists(const struct agent *a, const struct agent_xexec *x)
{
	char *meta = agent_xctr_meta(a, x), *spec = xasprintf("%s/spec", meta);
	bool r = access(spec, F_OK) == 0;
	free(spec);
	free(meta);
	return r;
}

int agent_xctr_spawn(struct agent *a, struct agent_xexec *x, json_t *spec, char **env,
		     size_t nenv, const char **argv, const char *shell_cmd, char *msg,
		     size_t msgsize)
{
	struct exec_spec es = { 0 };
	struct exec_portmap pm[EXEC_SPEC_MAX_PORTMAPS];
	int r = agent_image_spec(a, spec, &es, pm, EXEC_SPEC_MAX_PORTMAPS, msg, msgsize);
	if (r < 0)
		return r;
	if (es.net_bridge) { /* refused by the master: checked again */
		snprintf(msg, msgsize, "Failed to launch executor '%s': its container must use "
				       "the host's network", x->executor_id);
		return -ENOTSUP;
	}
	es.task_id = x->container_id;
	es.sandbox = x->sandbox;
	es.shell = shell_cmd != NULL;
	es.cmd = shell_cmd;
	size_t na = 0;
	while (argv && argv[na])
		na++;
	es.args = argv;
	es.nargs = shell_cmd ? 0 : na;
	es.env = (const char **)env;
	es.nenv = nenv;
	es.grace_ms = (uint32_t)(x->grace_sec * 1000);
	char *dir = xasprintf("%s/xmeta", a->work_dir), *meta = agent_xctr_meta(a, x);
	char *path = xasprintf("%s/spec", meta);
	r = fs_mkdir_p(dir, 0700);
	if (r == 0 && mkdir(meta, 0700) == -1 && errno != EEXIST)
		r = -errno;
	if (r == 0) {
		char *old = xasprintf("%s/status", meta); /* an earlier run's */
		unlink(old);
		free(old);
		r = exec_spec_write_file(path, &es);
	}
	if (r == 0) {
		char *sargv[] = { a->executor_path, meta, NULL };
		r = -agent_spawn_executor(a, -1, sargv, &x->pid);
	}
	if (r < 0) {
		if (!msg[0])
			snprintf(msg, msgsize, "Failed to launch executor '%s' in its container: %s",
				 x->executor_id, strerror(-r));
		agent_xctr_remove(a, x);
	}
	free(dir);
	free(meta);
	free(path);
	return r;
}

void agent_xctr_signal(struct agent_xexec *x, int value)
{
	if (x->pidfd < 0)
		return;
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGTERM;
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = value;
	if (pidfd_send_signal(x->pidfd, SIGTERM, &si, 0) == -1 && errno != ESRCH)
		log_warn("agent", "cannot signal the shim of executor '%s': %s", x->executor_id,
			 strerror(errno));
}

void agent_xctr_kill(struct agent_xexec *x)
{
	agent_xctr_signal(x, EXEC_KILL_NOW);
}

int agent_xctr_ended(struct agent *a, struct agent_xexec *x, char *msg, size_t msgsize)
{
	char *meta = agent_xctr_meta(a, x);
	struct exec_status st;
	int status = 0;
	if (exec_status_read(meta, &st) < 0) {
		snprintf(msg, msgsize, "Executor terminated: its container's shim ended without "
				       "a status");
		status = 1 << 8;
	} else if (st.state == EXEC_EXEC_FAILED) {
		char err[600] = "";
		char *ef = xasprintf("%s/image_error", meta);
		FILE *f = st.image ? fopen(ef, "re") : NULL;
		if (f) {
			size_t n = fread(err, 1, sizeof(err) - 1, f);
			err[n] = '\0';
			while (n && (err[n - 1] == '\n' || err[n - 1] == '\r'))
				err[--n] = '\0';
			fclose(f);
		}
		free(ef);
		if (st.image)
			snprintf(msg, msgsize, "Failed to launch executor '%s': %s", x->executor_id,
				 err[0] ? err : "its container's image could not be made");
		else
			snprintf(msg, msgsize, "Failed to launch executor '%s': %s", x->executor_id,
				 strerror(st.error));
		status = 1 << 8;
		x->end_reason = "REASON_CONTAINER_LAUNCH_FAILED";
	} else if (st.state == EXEC_SIGNALED) {
		snprintf(msg, msgsize, "Executor terminated: killed by signal %d", st.signal);
		status = st.signal & 0x7f;
	} else {
		/* crun gives a container killed by a signal as 128 + the signal. */
		snprintf(msg, msgsize, "Executor terminated: exited with status %d", st.exit_code);
		status = (st.exit_code & 0xff) << 8;
	}
	free(meta);
	agent_xctr_remove(a, x);
	return status;
}

void agent_xctr_remove(struct agent *a, struct agent_xexec *x)
{
	/* Its files (the shim has removed its bundle by the time it exits). */
	char *meta = agent_xctr_meta(a, x);
	DIR *d = opendir(meta);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dirfd(d), e->d_name, 0);
	if (d)
		closedir(d);
	if (rmdir(meta) == -1 && errno != ENOENT)
		log_warn("agent", "cannot remove '%s': %s", meta, strerror(errno));
	free(meta);
}
