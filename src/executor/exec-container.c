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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "executor/exec-portfwd.h"

extern char **environ;

/* berth-image: $BERTH_IMAGE, else beside this binary. */
static void image_tool(char *buf, size_t size)
{
	const char *env = getenv("BERTH_IMAGE");
	if (env && *env) {
		snprintf(buf, size, "%s", env);
		return;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	char *slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	/* Installed side by side; in a build tree, src/executor and src/image. */
	if ((size_t)snprintf(buf, size, "%s/berth-image", slash ? self : ".") >= size)
		snprintf(buf, size, "berth-image");
	else if (access(buf, X_OK) != 0 && slash && strlen(self) + 24 < size)
		snprintf(buf, size, "%.*s/../image/berth-image", (int)(size - 24), self);
}

/* Runs argv with stdout and stderr to err; its exit status, or -errno. */
static int run_wait(char *const argv[], int err)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (err >= 0) {
		posix_spawn_file_actions_adddup2(&fa, err, 1);
		posix_spawn_file_actions_adddup2(&fa, err, 2);
	}
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
	image_tool(tool, sizeof(tool));
	char *argv[] = { tool, "bundle", (char *)meta, netns[0] ? "--netns" : NULL, netns, NULL };
	int r = run_wait(argv, err);
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
	snprintf(c->run, sizeof(c->run), "run");
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

void exec_container_cleanup(struct exec_ctr *c, int err)
{
	if (!c->active)
		return;
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
	image_tool(tool, sizeof(tool));
	char *argv[] = { tool, "unbundle", (char *)c->meta, NULL };
	run_wait(argv, err);
	for (size_t i = 0; i < c->ncmds; i++)
		free(c->cmds[i]);
	free(c->cmds);
	c->cmds = NULL;
	c->active = 0;
}
