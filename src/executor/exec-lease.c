/* The volume lease file; see exec-lease.h. Plain libc only. */
#include "executor/exec-lease.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "executor/exec-status.h"

uint64_t exec_lease_now_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int exec_lease_write(const char *dir, uint64_t deadline_usec)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "%llu\n", (unsigned long long)deadline_usec);
	return exec_file_replace(dir, EXEC_LEASE_FILE, line, (size_t)n, 0);
}

int exec_lease_read(const char *path, uint64_t *deadline_usec)
{
	char buf[32];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		return -errno;
	ssize_t n;
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n == -1 && errno == EINTR);
	int r = n == -1 ? -errno : 0;
	close(fd);
	if (r < 0)
		return r;
	buf[n] = '\0';
	/* Digits then exactly one newline: anything else is not a lease. */
	size_t digits = strspn(buf, "0123456789");
	if (digits == 0 || digits > 20 || buf[digits] != '\n' || (size_t)n != digits + 1)
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(buf, NULL, 10);
	if (errno)
		return -EINVAL;
	*deadline_usec = v;
	return 0;
}

bool exec_lease_expired(struct exec_lease *l, uint64_t now_usec)
{
	if (!l->path)
		return false;
	if (now_usec >= l->next_read_usec || (l->seen && now_usec >= l->deadline_usec)) {
		uint64_t d;
		int r = exec_lease_read(l->path, &d);
		l->next_read_usec = now_usec + EXEC_LEASE_CHECK_USEC;
		if (r < 0)
			return l->seen; /* gone or garbled after it existed: nobody renews it */
		l->seen = true;
		l->deadline_usec = d;
	}
	return l->seen && now_usec >= l->deadline_usec;
}

int exec_lease_timeout_ms(const struct exec_lease *l, uint64_t now_usec)
{
	if (!l->path)
		return -1;
	uint64_t next = l->next_read_usec;
	if (l->seen && l->deadline_usec < next)
		next = l->deadline_usec;
	if (next <= now_usec)
		return 0;
	/* Round up: waking before the time would only spin. */
	uint64_t ms = (next - now_usec + 999) / 1000;
	return ms > 60000 ? 60000 : (int)ms;
}
