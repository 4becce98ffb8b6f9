/* <meta>/prestop: see exec-prestop.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "executor/exec-prestop.h"
#include "executor/exec-status.h"

/* The whole file: magic, a 10-digit timeout, the command and three NULs. */
#define PRESTOP_MAX_BYTES (sizeof(EXEC_PRESTOP_MAGIC) + 16 + EXEC_PRESTOP_MAX_COMMAND + 1)

int exec_prestop_write(const char *dir, const char *command, uint32_t timeout_ms)
{
	if (!command || !*command || timeout_ms == 0 || timeout_ms > EXEC_PRESTOP_MAX_TIMEOUT_MS)
		return -EINVAL;
	size_t cl = strlen(command);
	if (cl > EXEC_PRESTOP_MAX_COMMAND)
		return -E2BIG;
	char head[sizeof(EXEC_PRESTOP_MAGIC) + 16];
	int hl = snprintf(head, sizeof(head), "%s%c%u%c", EXEC_PRESTOP_MAGIC, '\0',
			  (unsigned)timeout_ms, '\0');
	if (hl < 0 || (size_t)hl >= sizeof(head))
		return -EINVAL;
	size_t len = (size_t)hl + cl + 1;
	char *buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, head, (size_t)hl);
	memcpy(buf + hl, command, cl + 1);
	int r = exec_file_replace(dir, EXEC_PRESTOP_FILE, buf, len, 0);
	free(buf);
	return r;
}

int exec_prestop_remove(const char *dir)
{
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, EXEC_PRESTOP_FILE) >= sizeof(path))
		return -ENAMETOOLONG;
	if (unlink(path) == -1 && errno != ENOENT)
		return -errno;
	return 0;
}

int exec_prestop_parse(const char *buf, size_t len, char **command, uint32_t *timeout_ms)
{
	const char *field[3];
	size_t n = 0, start = 0;
	if (len == 0 || buf[len - 1] != '\0')
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\0')
			continue;
		if (n == 3)
			return -EINVAL; /* trailing fields */
		field[n++] = buf + start;
		start = i + 1;
	}
	if (n != 3 || strcmp(field[0], EXEC_PRESTOP_MAGIC) || !*field[2] ||
	    strlen(field[2]) > EXEC_PRESTOP_MAX_COMMAND)
		return -EINVAL;
	const char *v = field[1];
	unsigned long long x = 0;
	if (!*v || strlen(v) > 10)
		return -EINVAL;
	for (; *v; v++) {
		if (*v < '0' || *v > '9')
			return -EINVAL;
		x = x * 10 + (unsigned long long)(*v - '0');
	}
	if (x == 0 || x > EXEC_PRESTOP_MAX_TIMEOUT_MS)
		return -EINVAL;
	char *c = strdup(field[2]);
	if (!c)
		return -ENOMEM;
	*command = c;
	*timeout_ms = (uint32_t)x;
	return 0;
}

int exec_prestop_read(const char *dir, char **command, uint32_t *timeout_ms)
{
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, EXEC_PRESTOP_FILE) >= sizeof(path))
		return -ENAMETOOLONG;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		return -errno;
	char *buf = malloc(PRESTOP_MAX_BYTES + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	size_t have = 0;
	int r = 0;
	/* One byte past the limit tells a file that is too big. */
	while (have < PRESTOP_MAX_BYTES + 1) {
		ssize_t k = read(fd, buf + have, PRESTOP_MAX_BYTES + 1 - have);
		if (k == -1 && errno == EINTR)
			continue;
		if (k == -1) {
			r = -errno;
			break;
		}
		if (k == 0)
			break;
		have += (size_t)k;
	}
	close(fd);
	if (r == 0 && have > PRESTOP_MAX_BYTES)
		r = -E2BIG;
	if (r == 0)
		r = exec_prestop_parse(buf, have, command, timeout_ms);
	free(buf);
	return r;
}
