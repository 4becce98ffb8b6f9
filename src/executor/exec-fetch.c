/* Fetching a task's URIs; see exec-fetch.h. Plain libc only. */
#include "executor/exec-fetch.h"
#include "executor/exec-env.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int exec_fetch_all(const struct exec_spec *s, const char *meta, int err, size_t *failed)
{
	char helper[PATH_MAX], efile[PATH_MAX];
	exec_tool_path(helper, sizeof(helper), "BERTH_FETCHER", "berth-fetcher", NULL);
	snprintf(efile, sizeof(efile), "%s/fetch_error", meta);
	for (size_t i = 0; i < s->nfetch; i++) {
		const struct exec_fetch *f = &s->fetch[i];
		const char *argv[16];
		char max[32];
		size_t n = 0;
		argv[n++] = "berth-fetcher";
		if (f->extract)
			argv[n++] = "--extract";
		if (f->executable)
			argv[n++] = "--executable";
		if (f->output) {
			argv[n++] = "--output";
			argv[n++] = f->output;
		}
		if (f->cache && s->fetch_cache && s->fetch_cache_max) {
			snprintf(max, sizeof(max), "%llu", (unsigned long long)s->fetch_cache_max);
			argv[n++] = "--cache";
			argv[n++] = s->fetch_cache;
			argv[n++] = "--cache-max";
			argv[n++] = max;
		}
		argv[n++] = "--error-file";
		argv[n++] = efile;
		argv[n++] = f->uri;
		argv[n++] = s->sandbox;
		argv[n] = NULL;
		*failed = i;
		pid_t p = fork();
		if (p == 0) {
			sigset_t none;
			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
			int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
			if (in >= 0)
				dup2(in, 0);
			dup2(err, 1);
			dup2(err, 2);
			execv(helper, (char *const *)argv);
			dprintf(2, "berth-executor: cannot run '%s': %s\n", helper, strerror(errno));
			FILE *ef = fopen(efile, "we");
			if (ef) {
				fprintf(ef, "cannot run the fetcher '%s': %s\n", helper, strerror(errno));
				fclose(ef);
			}
			_exit(127);
		}
		if (p == -1)
			return -errno;
		int ws;
		while (waitpid(p, &ws, 0) == -1)
			if (errno != EINTR)
				return -errno;
		if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
			return -EIO;
	}
	return 0;
}
