/* Status and pid files of berth-executor; see exec-status.h. Plain libc only. */
#include "executor/exec-status.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const state_names[] = {
	[EXEC_NONE] = "none",       [EXEC_RUNNING] = "running",
	[EXEC_EXITED] = "exited",   [EXEC_SIGNALED] = "signaled",
	[EXEC_EXEC_FAILED] = "exec_failed",
};

int exec_status_format(const struct exec_status *st, char *buf, size_t size)
{
	int n = snprintf(buf, size, "state=%s\npid=%d\nexit_code=%d\nsignal=%d\nkilled=%d\nerror=%d\n"
			 "volume=%d\nfenced=%d\ncgroup=%d\nuser=%d\nfetch=%d\nimage=%d\noom=%d\nmem_limit=%llu\n"
			 "mem_max=%llu\n",
			 state_names[st->state], st->pid, st->exit_code, st->signal,
			 st->killed, st->error, st->volume, st->fenced, st->cgroup, st->user, st->fetch, st->image, st->oom,
			 (unsigned long long)st->mem_limit, (unsigned long long)st->mem_max);
	if (n < 0 || (size_t)n >= size)
		return -E2BIG;
	return n;
}

static int parse_int(const char *s, size_t n, int *out)
{
	char tmp[24];
	char *end;
	if (n == 0 || n >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	errno = 0;
	long v = strtol(tmp, &end, 10);
	if (errno || *end || v < INT_MIN || v > INT_MAX)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

int exec_status_parse(const char *text, struct exec_status *st)
{
	memset(st, 0, sizeof(*st));
	int have_state = 0;
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t linelen = nl ? (size_t)(nl - p) : strlen(p);
		const char *eq = memchr(p, '=', linelen);
		if (eq) {
			size_t klen = (size_t)(eq - p);
			const char *v = eq + 1;
			size_t vlen = linelen - klen - 1;
			int *dst = NULL;
			if (klen == 5 && !memcmp(p, "state", 5)) {
				st->state = EXEC_NONE;
				for (size_t i = 1; i < sizeof(state_names) / sizeof(state_names[0]); i++)
					if (strlen(state_names[i]) == vlen &&
					    !memcmp(v, state_names[i], vlen))
						st->state = (enum exec_state)i;
				if (st->state == EXEC_NONE)
					return -EINVAL;
				have_state = 1;
			} else if (klen == 3 && !memcmp(p, "pid", 3))
				dst = &st->pid;
			else if (klen == 9 && !memcmp(p, "exit_code", 9))
				dst = &st->exit_code;
			else if (klen == 6 && !memcmp(p, "signal", 6))
				dst = &st->signal;
			else if (klen == 6 && !memcmp(p, "killed", 6))
				dst = &st->killed;
			else if (klen == 5 && !memcmp(p, "error", 5))
				dst = &st->error;
			else if (klen == 6 && !memcmp(p, "volume", 6))
				dst = &st->volume;
			else if (klen == 6 && !memcmp(p, "fenced", 6))
				dst = &st->fenced;
			else if (klen == 6 && !memcmp(p, "cgroup", 6))
				dst = &st->cgroup;
			else if (klen == 4 && !memcmp(p, "user", 4))
				dst = &st->user;
			else if (klen == 5 && !memcmp(p, "fetch", 5))
				dst = &st->fetch;
			else if (klen == 5 && !memcmp(p, "image", 5))
				dst = &st->image;
			else if (klen == 3 && !memcmp(p, "oom", 3))
				dst = &st->oom;
			else if ((klen == 9 && !memcmp(p, "mem_limit", 9)) ||
				 (klen == 7 && !memcmp(p, "mem_max", 7))) {
				char tmp[24], *end;
				if (vlen == 0 || vlen >= sizeof(tmp))
					return -EINVAL;
				memcpy(tmp, v, vlen);
				tmp[vlen] = '\0';
				errno = 0;
				unsigned long long x = strtoull(tmp, &end, 10);
				if (errno || *end)
					return -EINVAL;
				*(klen == 9 ? &st->mem_limit : &st->mem_max) = x;
			}
			if (dst && parse_int(v, vlen, dst))
				return -EINVAL;
		}
		p += linelen + (nl ? 1 : 0);
	}
	return have_state ? 0 : -EINVAL;
}

int exec_file_replace(const char *dir, const char *name, const char *data, size_t len,
		      int durable)
{
	char tmp[PATH_MAX], dst[PATH_MAX];
	int r = 0;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name) >= sizeof(tmp) ||
	    (size_t)snprintf(dst, sizeof(dst), "%s/%s", dir, name) >= sizeof(dst))
		return -ENAMETOOLONG;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1)
		return -errno;
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		off += (size_t)n;
	}
	if (r == 0 && durable && fsync(fd) == -1)
		r = -errno;
	if (close(fd) == -1 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, dst) == -1)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	if (durable) {
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd == -1)
			return -errno;
		if (fsync(dfd) == -1)
			r = -errno;
		close(dfd);
	}
	return r;
}

int exec_status_write(const char *dir, const struct exec_status *st, int durable)
{
	char buf[512];
	int n = exec_status_format(st, buf, sizeof(buf));
	if (n < 0)
		return n;
	return exec_file_replace(dir, "status", buf, (size_t)n, durable);
}

static int read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -errno;
	size_t have = 0;
	while (have + 1 < size) {
		ssize_t n = read(fd, buf + have, size - 1 - have);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			int r = -errno;
			close(fd);
			return r;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	close(fd);
	buf[have] = '\0';
	return (int)have;
}

int exec_status_read(const char *dir, struct exec_status *st)
{
	char path[PATH_MAX], buf[1024];
	if ((size_t)snprintf(path, sizeof(path), "%s/status", dir) >= sizeof(path))
		return -ENAMETOOLONG;
	int r = read_small(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	return exec_status_parse(buf, st);
}

int exec_proc_starttime(pid_t pid, uint64_t *out)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int r = read_small(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	/* comm may hold spaces and ')': fields count from the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	p++;
	/* After ')' come fields 3.. ; starttime is field 22. */
	for (int field = 2; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -EINVAL;
		p++;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(p, &end, 10);
	if (errno || end == p)
		return -EINVAL;
	*out = v;
	return 0;
}

int exec_pidfile_read(const char *dir, pid_t *pid, uint64_t *starttime)
{
	char path[PATH_MAX], buf[128];
	if ((size_t)snprintf(path, sizeof(path), "%s/pid", dir) >= sizeof(path))
		return -ENAMETOOLONG;
	int r = read_small(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	long p;
	unsigned long long s;
	if (sscanf(buf, "%ld %llu", &p, &s) != 2 || p <= 0 || p > INT_MAX)
		return -EINVAL;
	*pid = (pid_t)p;
	*starttime = s;
	return 0;
}
