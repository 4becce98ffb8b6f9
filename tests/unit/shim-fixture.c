/* The shim tests' shared fixture; see shim-fixture.h. */
#include "shim-fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define SLURP_MAX (64 * 1024)

/* Every path handed out, and which of them are temporary directories to remove. */
static struct owned {
	char *path;
	bool tmpdir;
} *owned;
static size_t nowned, capowned;

static char *own(char *p, bool tmpdir)
{
	assert_non_null(p);
	if (nowned == capowned) {
		capowned = capowned ? capowned * 2 : 64;
		owned = realloc(owned, capowned * sizeof(*owned));
		assert_non_null(owned);
	}
	owned[nowned++] = (struct owned){ p, tmpdir };
	return p;
}

bool shimfx_have_shim(void)
{
	const char *exe = getenv("BERTH_EXECUTOR");
	return exe && *exe;
}

bool shimfx_can_mount(void)
{
	return shimfx_have_shim() && geteuid() == 0;
}

char *shimfx_tmpdir(const char *prefix)
{
	char tmpl[128];
	int n = snprintf(tmpl, sizeof(tmpl), "/tmp/%s-XXXXXX", prefix);
	assert_true(n > 0 && (size_t)n < sizeof(tmpl));
	assert_non_null(mkdtemp(tmpl));
	return own(strdup(tmpl), true);
}

char *shimfx_path(const char *dir, const char *name)
{
	char *p = NULL;
	assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
	return own(p, false);
}

struct shimfx_dirs shimfx_dirs(const char *prefix)
{
	struct shimfx_dirs d;
	d.dir = shimfx_tmpdir(prefix);
	d.meta = shimfx_path(d.dir, "meta");
	d.sb = shimfx_path(d.dir, "sandbox");
	shimfx_mkdir(d.meta, 0700, false);
	return d;
}

void shimfx_mkdir(const char *path, mode_t mode, bool exist_ok)
{
	if (mkdir(path, mode) == -1 && !(exist_ok && errno == EEXIST))
		fail_msg("mkdir '%s': %s", path, strerror(errno));
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (remove(path) == -1)
		fprintf(stderr, "shim-fixture: cannot remove '%s': %s\n", path, strerror(errno));
	return 0;
}

int shimfx_end(int failures)
{
	for (size_t i = 0; i < nowned; i++) {
		if (!owned[i].tmpdir)
			continue;
		if (failures)
			fprintf(stderr, "shim-fixture: work directory kept: %s\n", owned[i].path);
		else
			nftw(owned[i].path, remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	}
	for (size_t i = 0; i < nowned; i++)
		free(owned[i].path);
	free(owned);
	owned = NULL;
	nowned = capowned = 0;
	return failures;
}

char *shimfx_slurp(const char *dir, const char *name)
{
	char *p = NULL;
	if (dir)
		assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
	FILE *f = fopen(dir ? p : name, "re");
	free(p);
	if (!f)
		return NULL;
	char *buf = calloc(1, SLURP_MAX + 1);
	assert_non_null(buf);
	size_t n = fread(buf, 1, SLURP_MAX, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

void shimfx_assert_file_at(const char *dir, const char *name, const char *want,
			   const char *file, int line)
{
	char *c = shimfx_slurp(dir, name);
	if (!c) {
		print_error("cannot read '%s%s%s'\n", dir ? dir : "", dir ? "/" : "", name);
		_fail(file, line);
	}
	_assert_string_equal(c, want, file, line);
	free(c);
}

bool shimfx_has(const char *dir, const char *name, const char *what)
{
	char *c = shimfx_slurp(dir, name);
	bool ok = c && strstr(c, what);
	free(c);
	return ok;
}

void shimfx_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	if (!f)
		fail_msg("cannot write '%s': %s", path, strerror(errno));
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

bool shimfx_wait_file(const char *dir, const char *name, const char *what, int ms)
{
	double until = shimfx_now() + ms / 1000.0;
	for (;;) {
		char *c = shimfx_slurp(dir, name);
		bool ok = c && (!what || strstr(c, what));
		free(c);
		if (ok)
			return true;
		if (shimfx_now() >= until)
			return false;
		usleep(10000);
	}
}

double shimfx_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool shimfx_running(pid_t pid)
{
	char p[64], line[512] = "";
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(p, "re");
	if (!f)
		return false;
	bool got = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	/* The state follows the command name in parentheses (which may hold anything). */
	const char *rp = strrchr(line, ')');
	return got && rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

bool shimfx_wait_gone(pid_t pid, int ms)
{
	double until = shimfx_now() + ms / 1000.0;
	while (shimfx_running(pid)) {
		if (shimfx_now() >= until)
			return false;
		usleep(10000);
	}
	return true;
}

pid_t shimfx_start(const char *meta, const struct exec_spec *s, int *notify_fd)
{
	char *sp = NULL;
	assert_true(asprintf(&sp, "%s/spec", meta) > 0);
	assert_int_equal(exec_spec_write_file(sp, s), 0);
	free(sp);
	const char *exe = getenv("BERTH_EXECUTOR");
	assert_non_null(exe);
	int p[2] = { -1, -1 };
	if (notify_fd)
		assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (notify_fd) {
			/* The write end as fd 3, the one fd of the pipe the shim keeps. */
			if (dup2(p[1], 3) == -1 || fcntl(3, F_SETFD, 0) == -1)
				_exit(127);
			execl(exe, exe, "--notify-fd", "3", meta, (char *)NULL);
		} else {
			execl(exe, exe, meta, (char *)NULL);
		}
		_exit(127);
	}
	if (notify_fd) {
		close(p[1]);
		*notify_fd = p[0];
	}
	return pid;
}

char shimfx_notified(int notify_fd)
{
	char msg[64] = { 0 };
	ssize_t n;
	do
		n = read(notify_fd, msg, sizeof(msg) - 1);
	while (n == -1 && errno == EINTR);
	assert_true(n > 0);
	return msg[0];
}

struct exec_status shimfx_finish(pid_t pid, const char *meta)
{
	int ws;
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	struct exec_status st;
	assert_int_equal(exec_status_read(meta, &st), 0);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), st.state == EXEC_EXEC_FAILED ? 1 : 0);
	return st;
}

struct exec_status shimfx_run(const char *meta, const struct exec_spec *s)
{
	return shimfx_finish(shimfx_start(meta, s, NULL), meta);
}
