/* A task's cgroup, v1 or v2; see exec-cgroup.h. Plain libc only. */
#include "executor/exec-cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The v1 controllers a task's cgroup is made in; the first three are required when their
 * limit is asked for, the others (accounting) are used when mounted. */
static const char *const v1_ctrls[] = { "memory", "cpu", "pids", "cpuacct", "blkio" };
#define NV1 (sizeof(v1_ctrls) / sizeof(v1_ctrls[0]))

static void seterr(char *err, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t size, const char *fmt, ...)
{
	if (!err || !size)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
}

static int path_of(char *buf, size_t size, const char *a, const char *b, const char *c,
		   const char *d)
{
	int n = snprintf(buf, size, "%s%s%s%s%s%s%s", a, b ? "/" : "", b ? b : "", c ? "/" : "",
			 c ? c : "", d ? "/" : "", d ? d : "");
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd == -1)
		return -errno;
	size_t n = strlen(s);
	ssize_t w = write(fd, s, n);
	int r = w == (ssize_t)n ? 0 : w < 0 ? -errno : -EIO;
	if (close(fd) == -1 && r == 0)
		r = -errno;
	return r;
}

static int write_u64(const char *path, uint64_t v)
{
	char num[32];
	snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	return write_str(path, num);
}

static int read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -errno;
	size_t have = 0;
	while (have + 1 < size) {
		ssize_t n = read(fd, buf + have, size - 1 - have);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	close(fd);
	buf[have] = '\0';
	return (int)have;
}

/* The value after "key " on a line of a flat-keyed file (memory.events, oom_control). */
static uint64_t keyed(const char *text, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, kl) && p[kl] == ' ')
			return strtoull(p + kl + 1, NULL, 10);
	return 0;
}

static uint64_t read_u64(const char *path)
{
	char buf[64];
	if (read_text(path, buf, sizeof(buf)) <= 0)
		return 0;
	return strtoull(buf, NULL, 10);
}

int exec_cg_detect(const char *root)
{
	char p[PATH_MAX];
	if (path_of(p, sizeof(p), root, "cgroup.controllers", NULL, NULL) == 0 && exists(p))
		return EXEC_CG_V2;
	if (path_of(p, sizeof(p), root, "memory", NULL, NULL) == 0 && exists(p))
		return EXEC_CG_V1;
	return -ENOENT;
}

int exec_cg_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n >= EXEC_CG_MAX_PATH || name[0] == '/')
		return 0;
	for (const char *p = name; *p;) {
		size_t seg = strcspn(p, "/");
		if (seg == 0 || (seg == 1 && p[0] == '.') || (seg == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		p += seg;
		if (*p == '/' && !*++p)
			return 0;
	}
	return 1;
}

uint64_t exec_cg_shares_to_weight(uint64_t shares)
{
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

/* mkdir of every component of name under base (EEXIST is fine). On v2, each parent first
 * gets the controllers enabled for its children (a controller the parent lacks is skipped:
 * writing its limit fails later, naming it). */
static int mkdirs(const char *base, const char *name, int v2, char *err, size_t errsize)
{
	char rel[EXEC_CG_MAX_PATH], p[PATH_MAX];
	snprintf(rel, sizeof(rel), "%s", name);
	for (char *s = rel;;) {
		char *slash = strchr(s, '/');
		if (slash)
			*slash = '\0';
		if (v2) {
			/* The parent of the component about to be made. */
			char *last = strrchr(rel, '/');
			if (last)
				*last = '\0';
			int r = last ? path_of(p, sizeof(p), base, rel, "cgroup.subtree_control", NULL)
				     : path_of(p, sizeof(p), base, "cgroup.subtree_control", NULL, NULL);
			if (last)
				*last = '/';
			if (r < 0)
				return r;
			static const char *const ctl[] = { "+cpu", "+memory", "+pids", "+io" };
			for (size_t i = 0; i < sizeof(ctl) / sizeof(ctl[0]); i++)
				write_str(p, ctl[i]);
		}
		int r = path_of(p, sizeof(p), base, rel, NULL, NULL);
		if (r < 0)
			return r;
		if (mkdir(p, 0755) == -1 && errno != EEXIST) {
			r = -errno;
			seterr(err, errsize, "cannot create cgroup '%s': %s", p, strerror(errno));
			return r;
		}
		if (!slash)
			return 0;
		*slash = '/';
		s = slash + 1;
	}
}

static int set(const char *dir, const char *file, const char *val, char *err, size_t errsize)
{
	char p[PATH_MAX];
	int r = path_of(p, sizeof(p), dir, file, NULL, NULL);
	if (r == 0)
		r = write_str(p, val);
	if (r < 0)
		seterr(err, errsize, "cannot write '%s' to '%s': %s", val, p, strerror(-r));
	return r;
}

static int set_u64(const char *dir, const char *file, uint64_t v, char *err, size_t errsize)
{
	char num[32];
	snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	return set(dir, file, num, err, errsize);
}

static int create_v2(struct exec_cg *cg, const struct exec_cg_limits *l, char *err,
		     size_t errsize)
{
	char dir[PATH_MAX], val[64];
	int r = mkdirs(cg->root, cg->name, 1, err, errsize);
	if (r < 0)
		return r;
	if ((r = path_of(dir, sizeof(dir), cg->root, cg->name, NULL, NULL)) < 0)
		return r;
	if (l->cpu_shares &&
	    (r = set_u64(dir, "cpu.weight", exec_cg_shares_to_weight(l->cpu_shares), err,
			 errsize)) < 0)
		return r;
	if (l->cfs_quota_us) {
		snprintf(val, sizeof(val), "%llu %llu", (unsigned long long)l->cfs_quota_us,
			 (unsigned long long)(l->cfs_period_us ? l->cfs_period_us : 100000));
		if ((r = set(dir, "cpu.max", val, err, errsize)) < 0)
			return r;
	}
	if (l->mem_bytes) {
		if ((r = set_u64(dir, "memory.max", l->mem_bytes, err, errsize)) < 0)
			return r;
		char p[PATH_MAX];
		if (path_of(p, sizeof(p), dir, "memory.swap.max", NULL, NULL) == 0 && exists(p))
			write_str(p, "0"); /* no swap accounting compiled in: nothing to turn off */
	}
	if (l->pids_max && (r = set_u64(dir, "pids.max", l->pids_max, err, errsize)) < 0)
		return r;
	return 0;
}

static int create_v1(struct exec_cg *cg, const struct exec_cg_limits *l, char *err,
		     size_t errsize)
{
	char base[PATH_MAX], dir[PATH_MAX];
	int r;
	for (size_t i = 0; i < NV1; i++) {
		const char *c = v1_ctrls[i];
		int wanted = (i == 0 && l->mem_bytes) || (i == 1 && (l->cpu_shares || l->cfs_quota_us)) ||
			     (i == 2 && l->pids_max);
		if ((r = path_of(base, sizeof(base), cg->root, c, NULL, NULL)) < 0)
			return r;
		if (!exists(base)) {
			if (!wanted)
				continue;
			seterr(err, errsize, "the cgroup v1 controller '%s' is not mounted at '%s'",
			       c, base);
			return -ENOENT;
		}
		if ((r = mkdirs(base, cg->name, 0, err, errsize)) < 0)
			return r;
		if ((r = path_of(dir, sizeof(dir), base, cg->name, NULL, NULL)) < 0)
			return r;
		if (i == 0 && l->mem_bytes) {
			if ((r = set_u64(dir, "memory.limit_in_bytes", l->mem_bytes, err, errsize)) < 0)
				return r;
			char p[PATH_MAX];
			/* Swap off: memory+swap = memory where swap is accounted, else no swapping
			 * of the task's pages at all. */
			if (path_of(p, sizeof(p), dir, "memory.memsw.limit_in_bytes", NULL, NULL) == 0 &&
			    exists(p))
				write_u64(p, l->mem_bytes);
			if (path_of(p, sizeof(p), dir, "memory.swappiness", NULL, NULL) == 0 &&
			    exists(p))
				write_str(p, "0");
		} else if (i == 1) {
			if (l->cpu_shares &&
			    (r = set_u64(dir, "cpu.shares", l->cpu_shares, err, errsize)) < 0)
				return r;
			if (l->cfs_quota_us) {
				uint64_t period = l->cfs_period_us ? l->cfs_period_us : 100000;
				if ((r = set_u64(dir, "cpu.cfs_period_us", period, err, errsize)) < 0 ||
				    (r = set_u64(dir, "cpu.cfs_quota_us", l->cfs_quota_us, err,
						 errsize)) < 0)
					return r;
			}
		} else if (i == 2 && l->pids_max &&
			   (r = set_u64(dir, "pids.max", l->pids_max, err, errsize)) < 0) {
			return r;
		}
	}
	return 0;
}

int exec_cg_update(const char *root, const char *name, const struct exec_cg_limits *l,
		   char *err, size_t errsize)
{
	char dir[PATH_MAX], p[PATH_MAX];
	int r, v = exec_cg_detect(root);
	if (v < 0 || !exec_cg_name_valid(name)) {
		seterr(err, errsize, "no cgroup '%s' under '%s'", name, root);
		return -ENOENT;
	}
	if (v == EXEC_CG_V2) {
		if ((r = path_of(dir, sizeof(dir), root, name, NULL, NULL)) < 0)
			return r;
		if (!exists(dir)) {
			seterr(err, errsize, "no cgroup '%s'", dir);
			return -ENOENT;
		}
		if (l->cpu_shares &&
		    (r = set_u64(dir, "cpu.weight", exec_cg_shares_to_weight(l->cpu_shares), err,
				 errsize)) < 0)
			return r;
		if (l->cfs_quota_us) {
			char val[64];
			snprintf(val, sizeof(val), "%llu %llu", (unsigned long long)l->cfs_quota_us,
				 (unsigned long long)(l->cfs_period_us ? l->cfs_period_us : 100000));
			if ((r = set(dir, "cpu.max", val, err, errsize)) < 0)
				return r;
		}
		if (l->mem_bytes && (r = set_u64(dir, "memory.max", l->mem_bytes, err, errsize)) < 0)
			return r;
		return 0;
	}
	char base[PATH_MAX];
	if ((r = path_of(base, sizeof(base), root, "cpu", NULL, NULL)) == 0 && exists(base) &&
	    (r = path_of(dir, sizeof(dir), base, name, NULL, NULL)) == 0 && exists(dir)) {
		if (l->cpu_shares && (r = set_u64(dir, "cpu.shares", l->cpu_shares, err, errsize)) < 0)
			return r;
		if (l->cfs_quota_us && (r = set_u64(dir, "cpu.cfs_quota_us", l->cfs_quota_us, err,
						    errsize)) < 0)
			return r;
	}
	if (!l->mem_bytes)
		return 0;
	if ((r = path_of(base, sizeof(base), root, "memory", NULL, NULL)) < 0 ||
	    (r = path_of(dir, sizeof(dir), base, name, NULL, NULL)) < 0)
		return r;
	if (!exists(dir)) {
		seterr(err, errsize, "no cgroup '%s'", dir);
		return -ENOENT;
	}
	/* memory+swap must stay >= memory: raise it first when growing, lower it last. */
	int memsw = path_of(p, sizeof(p), dir, "memory.memsw.limit_in_bytes", NULL, NULL) == 0 &&
		     exists(p);
	if (memsw)
		write_u64(p, l->mem_bytes); /* fails (EINVAL) when shrinking: done again below */
	if ((r = set_u64(dir, "memory.limit_in_bytes", l->mem_bytes, err, errsize)) < 0)
		return r;
	if (memsw && (r = write_u64(p, l->mem_bytes)) < 0) {
		seterr(err, errsize, "cannot write '%llu' to '%s': %s",
		       (unsigned long long)l->mem_bytes, p, strerror(-r));
		return r;
	}
	return 0;
}

int exec_cg_create(struct exec_cg *cg, const char *root, const char *name,
		   const struct exec_cg_limits *l, char *err, size_t errsize)
{
	memset(cg, 0, sizeof(*cg));
	if (!exec_cg_name_valid(name) || !root || root[0] != '/' ||
	    strlen(root) >= sizeof(cg->root)) {
		seterr(err, errsize, "invalid cgroup '%s' under '%s'", name ? name : "",
		       root ? root : "");
		return -EINVAL;
	}
	int v = exec_cg_detect(root);
	if (v < 0) {
		seterr(err, errsize, "no cgroup hierarchy (v1 or v2) mounted at '%s'", root);
		return v;
	}
	cg->version = (enum exec_cg_version)v;
	snprintf(cg->root, sizeof(cg->root), "%s", root);
	snprintf(cg->name, sizeof(cg->name), "%s", name);
	int r = v == EXEC_CG_V2 ? create_v2(cg, l, err, errsize) : create_v1(cg, l, err, errsize);
	if (r < 0)
		exec_cg_destroy(cg);
	return r;
}

/* The directory of the cgroup in controller i (v1) or the unified one (v2, i ignored). */
static int cg_dir(const struct exec_cg *cg, size_t i, char *buf, size_t size)
{
	if (cg->version == EXEC_CG_V2)
		return path_of(buf, size, cg->root, cg->name, NULL, NULL);
	return path_of(buf, size, cg->root, v1_ctrls[i], cg->name, NULL);
}

void exec_cg_attach_self(void *cg)
{
	exec_cg_attach(cg, 0);
}

int exec_cg_attach(const struct exec_cg *cg, pid_t pid)
{
	char dir[PATH_MAX], p[PATH_MAX], num[24];
	snprintf(num, sizeof(num), "%d", (int)pid);
	size_t n = cg->version == EXEC_CG_V2 ? 1 : NV1;
	for (size_t i = 0; i < n; i++) {
		int r = cg_dir(cg, i, dir, sizeof(dir));
		if (r < 0)
			return r;
		if (!exists(dir))
			continue; /* a v1 controller not mounted */
		if ((r = path_of(p, sizeof(p), dir, "cgroup.procs", NULL, NULL)) < 0 ||
		    (r = write_str(p, num)) < 0)
			return r;
	}
	return 0;
}

int exec_cg_oom_kills(const struct exec_cg *cg, uint64_t *limit, uint64_t *max_used)
{
	char dir[PATH_MAX], p[PATH_MAX], text[1024];
	*limit = *max_used = 0;
	if (cg->version == EXEC_CG_NONE || cg_dir(cg, 0, dir, sizeof(dir)) < 0)
		return 0;
	int v2 = cg->version == EXEC_CG_V2;
	if (path_of(p, sizeof(p), dir, v2 ? "memory.max" : "memory.limit_in_bytes", NULL, NULL) ==
	    0)
		*limit = read_u64(p);
	if (path_of(p, sizeof(p), dir, v2 ? "memory.peak" : "memory.max_usage_in_bytes", NULL,
		    NULL) == 0)
		*max_used = read_u64(p);
	if (path_of(p, sizeof(p), dir, v2 ? "memory.events" : "memory.oom_control", NULL, NULL) <
		    0 ||
	    read_text(p, text, sizeof(text)) <= 0)
		return 0;
	uint64_t n = keyed(text, "oom_kill");
	return n > INT_MAX ? INT_MAX : (int)n;
}

/* SIGKILLs the pids listed in dir/cgroup.procs. The number listed, or -errno. */
static int kill_listed(const char *dir)
{
	char p[PATH_MAX];
	int r = path_of(p, sizeof(p), dir, "cgroup.procs", NULL, NULL);
	if (r < 0)
		return r;
	FILE *f = fopen(p, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	int n = 0;
	long pid;
	while (fscanf(f, "%ld", &pid) == 1) {
		if (pid > 0 && pid != getpid())
			kill((pid_t)pid, SIGKILL);
		n++;
	}
	fclose(f);
	return n;
}

static void nap(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

int exec_cg_destroy(const struct exec_cg *cg)
{
	char dir[PATH_MAX], p[PATH_MAX];
	if (cg->version == EXEC_CG_NONE)
		return 0;
	size_t n = cg->version == EXEC_CG_V2 ? 1 : NV1;
	int r = 0;
	if (cg->version == EXEC_CG_V2 && cg_dir(cg, 0, dir, sizeof(dir)) == 0 &&
	    path_of(p, sizeof(p), dir, "cgroup.kill", NULL, NULL) == 0 && exists(p))
		write_str(p, "1");
	for (size_t i = 0; i < n; i++) {
		if ((r = cg_dir(cg, i, dir, sizeof(dir))) < 0)
			return r;
		/* Kill until nothing is listed (a forking task may add some meanwhile; its
		 * pids limit bounds how many), then remove. */
		int tries = 0;
		for (;; tries++) {
			if (rmdir(dir) == 0 || errno == ENOENT) {
				r = 0;
				break;
			}
			r = -errno;
			if (r != -EBUSY || tries >= 200)
				break;
			kill_listed(dir);
			nap(tries < 10 ? 1 : 10);
		}
	}
	return r;
}

int exec_cg_destroy_name(const char *root, const char *name)
{
	struct exec_cg cg = { 0 };
	if (!exec_cg_name_valid(name) || strlen(root) >= sizeof(cg.root))
		return -EINVAL;
	int v = exec_cg_detect(root);
	if (v < 0)
		return 0;
	cg.version = (enum exec_cg_version)v;
	snprintf(cg.root, sizeof(cg.root), "%s", root);
	snprintf(cg.name, sizeof(cg.name), "%s", name);
	return exec_cg_destroy(&cg);
}

/* path_of(dir/file) read as one number, 0 when absent. */
static uint64_t num_in(const char *dir, const char *file)
{
	char p[PATH_MAX];
	return path_of(p, sizeof(p), dir, file, NULL, NULL) == 0 ? read_u64(p) : 0;
}

static uint64_t keyed_in(const char *dir, const char *file, const char *key)
{
	char p[PATH_MAX], text[8192];
	if (path_of(p, sizeof(p), dir, file, NULL, NULL) < 0 || read_text(p, text, sizeof(text)) <= 0)
		return 0;
	return keyed(text, key);
}

int exec_cg_stats(const struct exec_cg *cg, struct exec_cg_stats *st)
{
	char dir[PATH_MAX];
	memset(st, 0, sizeof(*st));
	if (cg->version == EXEC_CG_V2) {
		if (cg_dir(cg, 0, dir, sizeof(dir)) < 0 || !exists(dir))
			return -ENOENT;
		st->cpus_user_time_secs = keyed_in(dir, "cpu.stat", "user_usec") / 1e6;
		st->cpus_system_time_secs = keyed_in(dir, "cpu.stat", "system_usec") / 1e6;
		uint64_t w = num_in(dir, "cpu.weight");
		/* Back from weight to shares (the inverse of exec_cg_shares_to_weight). */
		st->cpus_limit = w ? (2 + (double)(w - 1) * 262142 / 9999) / 1024.0 : 0;
		st->mem_rss_bytes = keyed_in(dir, "memory.stat", "anon");
		st->mem_total_bytes = num_in(dir, "memory.current");
		st->mem_limit_bytes = num_in(dir, "memory.max");
		st->processes = num_in(dir, "pids.current");
		return 0;
	}
	/* v1: memory, cpu, pids, cpuacct, blkio in v1_ctrls' order. */
	if (cg->version != EXEC_CG_V1 || cg_dir(cg, 0, dir, sizeof(dir)) < 0 || !exists(dir))
		return -ENOENT;
	st->mem_rss_bytes = keyed_in(dir, "memory.stat", "total_rss");
	st->mem_total_bytes = num_in(dir, "memory.usage_in_bytes");
	st->mem_limit_bytes = num_in(dir, "memory.limit_in_bytes");
	if (cg_dir(cg, 1, dir, sizeof(dir)) == 0)
		st->cpus_limit = num_in(dir, "cpu.shares") / 1024.0;
	if (cg_dir(cg, 2, dir, sizeof(dir)) == 0)
		st->processes = num_in(dir, "pids.current");
	if (cg_dir(cg, 3, dir, sizeof(dir)) == 0) {
		long hz = sysconf(_SC_CLK_TCK);
		if (hz <= 0)
			hz = 100;
		st->cpus_user_time_secs = (double)keyed_in(dir, "cpuacct.stat", "user") / (double)hz;
		st->cpus_system_time_secs =
			(double)keyed_in(dir, "cpuacct.stat", "system") / (double)hz;
	}
	return 0;
}

int exec_cg_stats_name(const char *root, const char *name, struct exec_cg_stats *st)
{
	struct exec_cg cg = { 0 };
	memset(st, 0, sizeof(*st));
	if (!exec_cg_name_valid(name) || strlen(root) >= sizeof(cg.root))
		return -EINVAL;
	int v = exec_cg_detect(root);
	if (v < 0)
		return -ENOENT;
	cg.version = (enum exec_cg_version)v;
	snprintf(cg.root, sizeof(cg.root), "%s", root);
	snprintf(cg.name, sizeof(cg.name), "%s", name);
	return exec_cg_stats(&cg, &st[0]);
}

int exec_cg_oom_fd(const struct exec_cg *cg)
{
	char dir[PATH_MAX], p[PATH_MAX];
	if (cg->version == EXEC_CG_NONE || cg_dir(cg, 0, dir, sizeof(dir)) < 0)
		return -ENOENT;
	if (cg->version == EXEC_CG_V2) {
		int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (fd == -1)
			return -errno;
		if (path_of(p, sizeof(p), dir, "memory.events", NULL, NULL) < 0 ||
		    inotify_add_watch(fd, p, IN_MODIFY) == -1) {
			int r = -errno;
			close(fd);
			return r ? r : -ENOENT;
		}
		return fd;
	}
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd == -1)
		return -errno;
	int ofd = -1, r = 0;
	if (path_of(p, sizeof(p), dir, "memory.oom_control", NULL, NULL) < 0 ||
	    (ofd = open(p, O_RDONLY | O_CLOEXEC)) == -1) {
		r = -errno;
	} else {
		char line[64];
		snprintf(line, sizeof(line), "%d %d", efd, ofd);
		if (path_of(p, sizeof(p), dir, "cgroup.event_control", NULL, NULL) < 0)
			r = -ENAMETOOLONG;
		else
			r = write_str(p, line);
		close(ofd); /* the kernel holds its own reference */
	}
	if (r < 0) {
		close(efd);
		return r;
	}
	return efd;
}

void exec_cg_oom_ack(int fd)
{
	char buf[4096];
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}
