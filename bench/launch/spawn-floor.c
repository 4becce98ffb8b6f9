/*
 * spawn-floor: the machine's floor for starting N processes, to compare berth's launch
 * time with. It fork+execs N children the way an executor shim starts a task (a new session
 * each, stdio to /dev/null) and times until every child has really exec'd: all children
 * inherit the write end of one O_CLOEXEC pipe, which closes in each child at its exec, so
 * the parent's read sees EOF exactly when the last exec is done.
 *
 *   spawn-floor [N] [MARKER]
 *
 * Without MARKER each child is `sleep 3600`. With MARKER each child is
 * `/bin/sh -c 'echo started >> MARKER; exec sleep 3600'` (what the benchmark's tasks run),
 * and the time until MARKER holds N lines is printed too. Children are killed at the end.
 *
 * Built by bench/launch/run.sh with gcc, not by meson.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long count_lines(const char *path)
{
	FILE *f = fopen(path, "re");
	long n = 0;
	int c;

	if (!f)
		return 0;
	while ((c = getc(f)) != EOF)
		if (c == '\n')
			n++;
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	long n = 1000;
	const char *marker = NULL;
	char script[4096];
	pid_t *pids;
	int p[2];
	char buf[1];
	double t0, t_forked, t_execd, t_marked = 0;
	long i, started = 0;

	if (argc > 1) {
		char *end;

		errno = 0;
		n = strtol(argv[1], &end, 10);
		if (errno || *end || n < 1 || n > 100000) {
			fprintf(stderr, "usage: spawn-floor [N 1..100000] [MARKER]\n");
			return 2;
		}
	}
	if (argc > 2) {
		marker = argv[2];
		if (snprintf(script, sizeof(script), "echo started >> '%s'; exec sleep 3600",
			     marker) >= (int)sizeof(script)) {
			fprintf(stderr, "spawn-floor: marker path too long\n");
			return 2;
		}
	}
	pids = calloc((size_t)n, sizeof(*pids));
	if (!pids || pipe2(p, O_CLOEXEC) == -1) {
		perror("spawn-floor");
		return 1;
	}

	t0 = now();
	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == -1) {
			perror("spawn-floor: fork");
			break;
		}
		if (pid == 0) {
			int devnull = open("/dev/null", O_RDWR);

			setsid();
			if (devnull != -1) {
				dup2(devnull, 0);
				dup2(devnull, 1);
				dup2(devnull, 2);
			}
			if (marker)
				execl("/bin/sh", "sh", "-c", script, (char *)NULL);
			else
				execl("/bin/sleep", "sleep", "3600", (char *)NULL);
			_exit(127);
		}
		pids[i] = pid;
		started++;
	}
	t_forked = now();
	close(p[1]);
	while (read(p[0], buf, 1) == -1 && errno == EINTR)
		;
	t_execd = now();
	if (marker) {
		while (count_lines(marker) < started && now() - t0 < 120)
			usleep(1000);
		t_marked = now();
	}

	printf("spawn-floor: %ld processes (%s): forked in %.3f s, all exec'd in %.3f s"
	       " (%.0f/s)",
	       started, marker ? "sh -c 'echo >> marker; exec sleep'" : "sleep 3600",
	       t_forked - t0, t_execd - t0, (double)started / (t_execd - t0));
	if (marker)
		printf(", %ld marker lines in %.3f s", count_lines(marker), t_marked - t0);
	printf("\n");

	for (i = 0; i < started; i++)
		kill(pids[i], SIGKILL);
	for (i = 0; i < started; i++)
		while (waitpid(pids[i], NULL, 0) == -1 && errno == EINTR)
			;
	free(pids);
	return started == n ? 0 : 1;
}
