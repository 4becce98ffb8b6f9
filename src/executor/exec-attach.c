/* exec-attach.h: a command run inside another running task. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "executor/exec-attach.h"
#include "executor/exec-cgroup.h"
#include "executor/exec-status.h"

/* The instance's spec (its strings stay in use by the run's spec) and what the child joins.
 * The shim runs one task: one of each, for the process's life. */
static struct exec_spec inst;
static struct exec_cg inst_cg;
static int mnt_fd = -1, pid_fd = -1;

/* Whether env entry e ("K=V") sets a key that list (n entries) sets too. */
static bool env_has(const char **list, size_t n, const char *e)
{
	size_t kl = strcspn(e, "=");
	for (size_t i = 0; i < n; i++)
		if (!strncmp(list[i], e, kl) && list[i][kl] == '=')
			return true;
	return false;
}

/* Links <from>/<name> as <to>/<name>, creating the file first. 0 or -errno. */
static int link_file(const char *from, const char *to, const char *name)
{
	char src[PATH_MAX], dst[PATH_MAX];
	if ((size_t)snprintf(src, sizeof(src), "%s/%s", from, name) >= sizeof(src) ||
	    (size_t)snprintf(dst, sizeof(dst), "%s/%s", to, name) >= sizeof(dst))
		return -ENAMETOOLONG;
	int fd = open(src, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd == -1)
		return -errno;
	close(fd);
	if (link(src, dst) == -1 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Whether fd (an open namespace) is the namespace at path. */
static bool same_ns(int fd, const char *path)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
	       a.st_dev == b.st_dev;
}

int exec_attach_prepare(struct exec_spec *s, char *msg, size_t msglen)
{
	const char *dir = s->attach;
	char path[PATH_MAX];
	pid_t pid;
	uint64_t st0 = 0, st1 = 0;
	struct exec_status status;
	int r;
	if ((size_t)snprintf(path, sizeof(path), "%s/spec", dir) >= sizeof(path))
		return -ENAMETOOLONG;
	if (exec_pidfile_read(dir, &pid, &st0) < 0 || exec_proc_starttime(pid, &st1) < 0 ||
	    st0 != st1 || exec_status_read(dir, &status) < 0 || status.state != EXEC_RUNNING) {
		snprintf(msg, msglen, "the instance (meta '%s') is not running", dir);
		return -ESRCH;
	}
	r = exec_spec_read_file(path, &inst);
	if (r < 0) {
		snprintf(msg, msglen, "cannot read the instance's spec '%s': %s", path, strerror(-r));
		return r;
	}
	char ns[64];
	snprintf(ns, sizeof(ns), "/proc/%d/ns/mnt", (int)pid);
	mnt_fd = open(ns, O_RDONLY | O_CLOEXEC);
	snprintf(ns, sizeof(ns), "/proc/%d/ns/pid_for_children", (int)pid);
	pid_fd = open(ns, O_RDONLY | O_CLOEXEC);
	if (mnt_fd == -1 || pid_fd == -1) {
		r = -errno;
		snprintf(msg, msglen, "cannot open the instance's namespaces (pid %d): %s", (int)pid,
			 strerror(errno));
		return r;
	}
	/* Namespaces we are in already are not entered (setns needs privileges even then). */
	if (same_ns(mnt_fd, "/proc/self/ns/mnt")) {
		close(mnt_fd);
		mnt_fd = -1;
	}
	if (same_ns(pid_fd, "/proc/self/ns/pid")) {
		close(pid_fd);
		pid_fd = -1;
	}
	/* The pid could have been reused between the check and the opens. */
	if (exec_proc_starttime(pid, &st1) < 0 || st1 != st0) {
		snprintf(msg, msglen, "the instance (meta '%s') is not running", dir);
		return -ESRCH;
	}
	if (inst.cg_root) {
		int v = exec_cg_detect(inst.cg_root);
		if (v > 0) {
			inst_cg.version = (enum exec_cg_version)v;
			snprintf(inst_cg.root, sizeof(inst_cg.root), "%s", inst.cg_root);
			snprintf(inst_cg.name, sizeof(inst_cg.name), "%s", inst.cg_name);
		}
	}
	/* The run's own variables win; the instance's fill in the rest. */
	const char **env = calloc(inst.nenv + s->nenv + 1, sizeof(char *));
	if (!env)
		return -ENOMEM;
	size_t n = 0;
	for (size_t i = 0; i < s->nenv; i++)
		if (strncmp(s->env[i], "MESOS_SANDBOX=", 14))
			env[n++] = s->env[i];
	for (size_t i = 0; i < inst.nenv; i++)
		if (!env_has(env, n, inst.env[i]))
			env[n++] = inst.env[i];
	free(s->env);
	s->env = env;
	s->nenv = n;
	/* stdout/stderr in the run's sandbox, linked into the instance's. */
	char links[PATH_MAX];
	if ((size_t)snprintf(links, sizeof(links), "%s/%s/%s", inst.sandbox, EXEC_ATTACH_JOBS_DIR,
			     s->task_id) >= sizeof(links))
		return -ENAMETOOLONG;
	if ((r = fs_mkdir_p(s->sandbox, 0755)) < 0 || (r = fs_mkdir_p(links, 0755)) < 0 ||
	    (r = link_file(s->sandbox, links, "stdout")) < 0 ||
	    (r = link_file(s->sandbox, links, "stderr")) < 0) {
		snprintf(msg, msglen, "cannot keep the run's output in '%s': %s", links,
			 strerror(-r));
		return r;
	}
	s->stdio_dir = s->sandbox;
	s->sandbox = inst.sandbox;
	s->user = inst.user;
	return 0;
}

void exec_attach_child(int errfd, int stfd)
{
	int e = 0;
	/* Our own group first (the shim sets it too): its kill(-us) must reach the command. */
	setpgid(0, 0);
	signal(SIGTERM, SIG_IGN); /* the command gets it; we wait to hand on its status */
	signal(SIGINT, SIG_IGN);
	if (inst_cg.version != EXEC_CG_NONE) {
		int r = exec_cg_attach(&inst_cg, 0);
		if (r < 0)
			e = -r;
	}
	if (!e && ((mnt_fd >= 0 && setns(mnt_fd, CLONE_NEWNS) == -1) ||
		   (pid_fd >= 0 && setns(pid_fd, CLONE_NEWPID) == -1)))
		e = errno;
	pid_t cmd = e ? -1 : fork();
	if (cmd == 0) {
		close(stfd);
		return; /* on to the exec, in the instance's namespaces */
	}
	if (!e && cmd == -1)
		e = errno;
	if (e) {
		ssize_t w = write(errfd, &e, sizeof(e));
		(void)w;
		_exit(127);
	}
	close(errfd); /* the command's exec closes its copy: the shim then reads EOF */
	int ws = 0, st;
	for (;;) {
		pid_t w = waitpid(cmd, &st, 0);
		if (w == cmd) {
			ws = st;
			break;
		}
		if (w == -1 && errno != EINTR)
			break;
	}
	ssize_t n = write(stfd, &ws, sizeof(ws));
	(void)n;
	_exit(0);
}
