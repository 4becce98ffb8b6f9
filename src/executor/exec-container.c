/* Container tasks in berth-executor; see exec-container.h. Plain libc. */
#include "executor/exec-container.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "executor/exec-env.h"
#include "executor/exec-portfwd.h"
#include "executor/exec-secret.h"

extern char **environ;

/* Runs argv with stdout and stderr to err (and fd3, if >= 0, as its fd 3); its exit status,
 * or -errno. */
static int run_wait_fd(char *const argv[], int err, int fd3)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (err >= 0) {
		posix_spawn_file_actions_adddup2(&fa, err, 1);
		posix_spawn_file_actions_adddup2(&fa, err, 2);
	}
	if (fd3 >= 0) /* fd3 is >= 10 (close-on-exec): the dup2 has it open at 3 */
		posix_spawn_file_actions_adddup2(&fa, fd3, 3);
	/* The shim blocks SIGCHLD and SIGTERM for its signalfd: the child gets them back. */
	posix_spawnattr_t at;
	posix_spawnattr_init(&at);
	sigset_t none;
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
	pid_t pid;
	int e = posix_spawnp(&pid, argv[0], &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (e)
		return -e;
	int ws;
	while (waitpid(pid, &ws, 0) == -1)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

static int run_wait(char *const argv[], int err)
{
	return run_wait_fd(argv, err, -1);
}

/* A sealed memfd holding len bytes of data, at an fd >= 10 (close-on-exec). fd or -errno. */
static int sealed_memfd(const char *name, const char *data, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd == -1)
		return -errno;
	int r = 0;
	for (size_t off = 0; r == 0 && off < len;) {
		ssize_t n = write(fd, data + off, len - off);
		if (n == -1 && errno != EINTR)
			r = -errno;
		else if (n > 0)
			off += (size_t)n;
	}
	if (r == 0 && fcntl(fd, F_ADD_SEALS,
			    F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) == -1)
		r = -errno;
	int hi = r == 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 10) : -1;
	if (r == 0 && hi == -1)
		r = -errno;
	close(fd);
	return r < 0 ? r : hi;
}

/* A string as one shell word: in single quotes, each ' as '\''. NULL when too long. */
static char *sh_quote(const char *s)
{
	size_t n = strlen(s);
	if (n > 65536)
		return NULL;
	char *q = malloc(4 * n + 3), *p = q;
	if (!q)
		return NULL;
	*p++ = '\'';
	for (; *s; s++) {
		if (*s == '\'') {
			memcpy(p, "'\\''", 4);
			p += 4;
		} else {
			*p++ = *s;
		}
	}
	*p++ = '\'';
	*p = '\0';
	return q;
}

static int write_script(const char *path, const char *meta, const char *task_id)
{
	char *qid = sh_quote(task_id), *qb = NULL;
	char bundle[PATH_MAX];
	snprintf(bundle, sizeof(bundle), "%s/bundle", meta);
	qb = sh_quote(bundle);
	const char *crun = getenv("BERTH_CRUN");
	char *qc = sh_quote(crun && *crun ? crun : "crun");
	int r = -ENOMEM;
	if (qid && qb && qc) {
		FILE *f = fopen(path, "we");
		if (!f) {
			r = -errno;
		} else {
			fprintf(f,
				"#!/bin/sh\n"
				"# crun for one container task (berth-executor, exec-container.h).\n"
				"id=berth-%s bundle=%s crun=%s\n"
				"ctr() {\n"
				"\texec unshare -m --propagation slave sh -c "
				"'umount -l /sys/fs/cgroup/unified 2>/dev/null; c=$1; shift; "
				"exec \"$c\" --cgroup-manager=disabled \"$@\"' ctr \"$crun\" \"$@\"\n"
				"}\n"
				"case \"$1\" in\n"
				"run) ctr run --bundle \"$bundle\" --no-new-keyring \"$id\" ;;\n"
				"run-fd) ctr run --bundle \"$bundle\" --no-new-keyring --preserve-fds 1 "
				"\"$id\" ;;\n"
				"exec) ctr exec \"$id\" /bin/sh -c \"$2\" ;;\n"
				"delete) ctr delete -f \"$id\" 2>/dev/null ;;\n"
				"*) echo \"usage: $0 run|exec CMD|delete\" >&2; exit 2 ;;\n"
				"esac\n",
				qid, qb, qc);
			r = fclose(f) ? -errno : 0;
			if (!r && chmod(path, 0700) == -1)
				r = -errno;
		}
	}
	free(qid);
	free(qb);
	free(qc);
	return r;
}

int exec_container_prepare(struct exec_spec *s, const char *meta, int err, struct exec_ctr *c,
			   char *msg, size_t msglen)
{
	memset(c, 0, sizeof(*c));
	c->secret_fd = -1;
	c->meta = meta;
	c->active = 1;
	char netns[64] = "";
	if (s->net_bridge) {
		int r = exec_portfwd_start(s->pmaps, s->npmaps, &c->fwd, msg, msglen);
		if (r < 0)
			return r;
		snprintf(netns, sizeof(netns), "/proc/%d/ns/net", (int)c->fwd);
	}
	char tool[PATH_MAX];
	exec_tool_path(tool, sizeof(tool), "BERTH_IMAGE", "berth-image", "../image");
	char sx[PATH_MAX];
	exec_tool_path(sx, sizeof(sx), "BERTH_SECRET_EXEC", "berth-secret-exec", NULL);
	/* Marathon's pullConfig: the secret's value (a docker config.json) for this pull, handed
	 * to berth-image as /proc/self/fd/3 of a memfd, never a file. */
	int authfd = -1;
	if (s->img_auth_secret) {
		char *val = NULL;
		size_t vl = 0;
		char why[256];
		int r = exec_secret_read(s->secrets_dir, s->img_auth_secret, &val, &vl, why,
					 sizeof(why));
		if (r == 0) {
			r = authfd = sealed_memfd("berth-pull-config", val, vl);
			explicit_bzero(val, vl);
			free(val);
			if (r < 0)
				snprintf(why, sizeof(why), "%s", strerror(-r));
		}
		if (r < 0) {
			snprintf(msg, msglen, "the image's pullConfig secret (source '%.128s') is "
				 "not available: %s", s->img_auth_secret, why);
			return r;
		}
	}
	char *argv[9] = { tool, "bundle", (char *)meta };
	int ai = 3;
	if (netns[0]) {
		argv[ai++] = "--netns";
		argv[ai++] = netns;
	}
	if (s->nsecrets) {
		argv[ai++] = "--secret-exec";
		argv[ai++] = sx;
	}
	if (authfd >= 0) {
		argv[ai++] = "--pull-config";
		argv[ai++] = "/proc/self/fd/3";
	}
	argv[ai] = NULL;
	int r = run_wait_fd(argv, err, authfd);
	if (authfd >= 0)
		close(authfd);
	if (r != 0) {
		char path[PATH_MAX], line[512] = "";
		snprintf(path, sizeof(path), "%s/image_error", meta);
		FILE *f = fopen(path, "re");
		if (f) {
			if (fgets(line, sizeof(line), f))
				line[strcspn(line, "\n")] = '\0';
			fclose(f);
		}
		snprintf(msg, msglen, "%s", line[0] ? line
				 : r < 0 ? "cannot run berth-image" : "berth-image failed");
		if (!line[0] && (f = fopen(path, "we"))) {
			fprintf(f, "%s: %s\n", msg, r < 0 ? strerror(-r) : "see the task's stderr");
			fclose(f);
		}
		return r < 0 ? r : -EIO;
	}
	snprintf(c->script, sizeof(c->script), "%s/ctr.sh", meta);
	r = write_script(c->script, meta, s->task_id);
	if (r < 0) {
		snprintf(msg, msglen, "cannot write '%s': %s", c->script, strerror(-r));
		return r;
	}
	const char **args = calloc(3, sizeof(char *));
	c->cmds = calloc(s->nchecks + 1, sizeof(char *));
	if (!args || !c->cmds) {
		free(args);
		return -ENOMEM;
	}
	snprintf(c->run, sizeof(c->run), "%s", s->nsecrets ? "run-fd" : "run");
	args[0] = c->script;
	args[1] = c->run;
	free(s->args);
	s->args = args;
	s->nargs = 2;
	s->shell = 0;
	s->isolate = 0;
	for (size_t i = 0; i < s->nchecks; i++) {
		struct exec_check *k = &s->checks[i];
		if (k->protocol != EXEC_CHECK_COMMAND)
			continue;
		char *q = sh_quote(k->command), *qs = sh_quote(c->script);
		size_t n = (q ? strlen(q) : 0) + (qs ? strlen(qs) : 0) + 16;
		char *cmd = q && qs ? malloc(n) : NULL;
		if (cmd) {
			snprintf(cmd, n, "exec %s exec %s", qs, q);
			c->cmds[c->ncmds++] = cmd;
			k->command = cmd;
		}
		free(q);
		free(qs);
		if (!cmd)
			return -ENOMEM;
	}
	return 0;
}

int exec_container_secrets(struct exec_spec *s, struct exec_ctr *c)
{
	size_t len = 0;
	for (size_t i = 0; i < s->nsecret_env; i++)
		len += strlen(s->secret_env[i]) + 1; /* with its NUL: the entries' separator */
	char *buf = malloc(len + 1), *p = buf;
	int r = buf ? 0 : -ENOMEM;
	for (size_t i = 0; i < s->nsecret_env; i++) {
		size_t n = strlen(s->secret_env[i]) + 1;
		if (buf) {
			memcpy(p, s->secret_env[i], n);
			p += n;
		}
		explicit_bzero(s->secret_env[i], n - 1);
		free(s->secret_env[i]);
	}
	s->nsecret_env = 0;
	if (buf) {
		r = sealed_memfd("berth-secrets", buf, len);
		explicit_bzero(buf, len);
		free(buf);
	}
	if (r < 0)
		return r;
	c->secret_fd = r;
	return 0;
}

int exec_container_child_fds(const struct exec_ctr *c, int *errfd)
{
	if (!c->active || c->secret_fd < 0)
		return 0;
	if (*errfd == 3) {
		int e = fcntl(*errfd, F_DUPFD_CLOEXEC, 4);
		if (e == -1)
			return errno;
		*errfd = e;
	}
	if (dup2(c->secret_fd, 3) == -1) /* without close-on-exec: crun passes it on */
		return errno;
	return 0;
}

void exec_container_cleanup(struct exec_ctr *c, int err)
{
	if (!c->active)
		return;
	if (c->secret_fd >= 0) {
		close(c->secret_fd);
		c->secret_fd = -1;
	}
	if (c->fwd > 0) {
		kill(c->fwd, SIGKILL);
		waitpid(c->fwd, NULL, 0);
		c->fwd = 0;
	}
	if (c->script[0]) {
		char *argv[] = { c->script, "delete", NULL };
		run_wait(argv, -1);
		unlink(c->script); /* nothing left for the agent's own cleanup (agent-image.c) */
	}
	char tool[PATH_MAX];
	exec_tool_path(tool, sizeof(tool), "BERTH_IMAGE", "berth-image", "../image");
	char *argv[] = { tool, "unbundle", (char *)c->meta, NULL };
	run_wait(argv, err);
	for (size_t i = 0; i < c->ncmds; i++)
		free(c->cmds[i]);
	free(c->cmds);
	c->cmds = NULL;
	c->active = 0;
}
