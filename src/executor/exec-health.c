/* The shim's health file; see exec-health.h. Plain libc only. */
#include "executor/exec-health.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "executor/exec-status.h"

int exec_health_format(const struct exec_health *h, char *buf, size_t size)
{
	size_t n = 0;
	int w = snprintf(buf, size, "seq=%" PRIu64 "\nhseq=%" PRIu64 "\nready=%d\n", h->seq, h->hseq,
			 h->ready);
	if (w < 0 || (size_t)w >= size)
		return -E2BIG;
	n = (size_t)w;
	for (size_t i = 0; i < h->nchecks && i < EXEC_HEALTH_MAX_CHECKS; i++) {
		const struct exec_health_check *c = &h->checks[i];
		char cause[EXEC_HEALTH_CAUSE_MAX];
		size_t j = 0;
		for (; c->cause[j] && j < sizeof(cause) - 1; j++)
			cause[j] = c->cause[j] == '\n' || c->cause[j] == '\r' ? ' ' : c->cause[j];
		cause[j] = '\0';
		w = snprintf(buf + n, size - n,
			     "check=%zu %d %u %" PRIu64 " %" PRIu64 " %" PRIu64 " %s\n", i, c->alive,
			     (unsigned)c->consecutive_failures, c->first_success_ms,
			     c->last_success_ms, c->last_failure_ms, cause);
		if (w < 0 || (size_t)w >= size - n)
			return -E2BIG;
		n += (size_t)w;
	}
	return (int)n;
}

static int parse_check_line(const char *v, size_t len, struct exec_health *h)
{
	char line[EXEC_HEALTH_CAUSE_MAX + 128];
	if (len >= sizeof(line))
		return -EINVAL;
	memcpy(line, v, len);
	line[len] = '\0';
	size_t idx;
	int alive, off = 0;
	unsigned cf;
	uint64_t fs, ls, lf;
	if (sscanf(line, "%zu %d %u %" SCNu64 " %" SCNu64 " %" SCNu64 "%n", &idx, &alive, &cf, &fs,
		   &ls, &lf, &off) != 6 ||
	    !off)
		return -EINVAL;
	if (idx != h->nchecks || idx >= EXEC_HEALTH_MAX_CHECKS || alive < -1 || alive > 1)
		return -EINVAL;
	struct exec_health_check *c = &h->checks[h->nchecks++];
	c->alive = alive;
	c->consecutive_failures = cf;
	c->first_success_ms = fs;
	c->last_success_ms = ls;
	c->last_failure_ms = lf;
	const char *cause = line + off;
	if (*cause == ' ')
		cause++;
	snprintf(c->cause, sizeof(c->cause), "%s", cause);
	return 0;
}

int exec_health_parse(const char *text, struct exec_health *h)
{
	memset(h, 0, sizeof(*h));
	int have_seq = 0;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		if (eq) {
			size_t klen = (size_t)(eq - p), vlen = len - klen - 1;
			const char *v = eq + 1;
			char num[24];
			if (klen == 5 && !memcmp(p, "check", 5)) {
				if (parse_check_line(v, vlen, h))
					return -EINVAL;
			} else if ((klen == 3 && !memcmp(p, "seq", 3)) ||
				   (klen == 5 && !memcmp(p, "ready", 5)) ||
				   (klen == 4 && !memcmp(p, "hseq", 4))) {
				char *end;
				if (vlen == 0 || vlen >= sizeof(num))
					return -EINVAL;
				memcpy(num, v, vlen);
				num[vlen] = '\0';
				errno = 0;
				unsigned long long x = strtoull(num, &end, 10);
				if (errno || *end || num[0] == '-')
					return -EINVAL;
				if (p[0] == 's') {
					h->seq = x;
					have_seq = 1;
				} else if (p[0] == 'h') {
					h->hseq = x;
				} else if (x > 1) {
					return -EINVAL;
				} else {
					h->ready = (int)x;
				}
			}
		}
		p += len + (nl ? 1 : 0);
	}
	return have_seq ? 0 : -EINVAL;
}

int exec_health_write(const char *dir, const char *name, const struct exec_health *h)
{
	char buf[EXEC_HEALTH_FILE_MAX];
	int n = exec_health_format(h, buf, sizeof(buf));
	if (n < 0)
		return n;
	return exec_file_replace(dir, name, buf, (size_t)n, 0);
}

int exec_health_read(const char *dir, const char *name, struct exec_health *h)
{
	char path[PATH_MAX], buf[EXEC_HEALTH_FILE_MAX + 1];
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -errno;
	size_t have = 0;
	while (have < sizeof(buf) - 1) {
		ssize_t r = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		have += (size_t)r;
	}
	close(fd);
	buf[have] = '\0';
	return exec_health_parse(buf, h);
}
