/* The agent's file-backed secret store (exec-secret.h).
 *
 * Invariant: no byte of a secret's file ever reaches msg, a log or a file; errors name the
 * source and the reason only. The walk opens each directory with O_NOFOLLOW|O_DIRECTORY
 * relative to the last, so a symlink anywhere below DIR is refused. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "executor/exec-secret.h"

static int seg_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

int exec_secret_source_valid(const char *source)
{
	if (!source)
		return 0;
	if (*source == '/')
		source++;
	size_t n = strlen(source);
	if (n == 0 || n > EXEC_SECRET_MAX_SOURCE)
		return 0;
	const char *p = source;
	while (*p) {
		const char *e = p;
		while (*e && *e != '/') {
			if (!seg_char_ok(*e))
				return 0;
			e++;
		}
		size_t sl = (size_t)(e - p);
		if (sl == 0 || (sl == 1 && p[0] == '.') || (sl == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		p = *e ? e + 1 : e;
		if (*e && !*p)
			return 0; /* a trailing '/' */
	}
	return 1;
}

static int mode_ok(const struct stat *st)
{
	return st->st_uid == geteuid() && (st->st_mode & 077) == 0;
}

int exec_secret_dir_check(const char *dir, char *msg, size_t msgsize)
{
	struct stat st;
	if (!dir || dir[0] != '/') {
		snprintf(msg, msgsize, "the secrets directory must be an absolute path");
		return -EINVAL;
	}
	if (stat(dir, &st) == -1) {
		int e = errno;
		snprintf(msg, msgsize, "the secrets directory %s: %s", dir, strerror(e));
		return -e;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(msg, msgsize, "the secrets directory %s is not a directory", dir);
		return -ENOTDIR;
	}
	if (!mode_ok(&st)) {
		snprintf(msg, msgsize,
			 "the secrets directory %s must be owned by uid %u and have no group or "
			 "other permissions (mode 0700; it is %04o, owner %u)",
			 dir, (unsigned)geteuid(), (unsigned)(st.st_mode & 07777),
			 (unsigned)st.st_uid);
		return -EPERM;
	}
	return 0;
}

/* Opens DIR/source without following symlinks. The fd or -errno. */
static int open_source(const char *dir, const char *source)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1)
		return -errno;
	if (*source == '/')
		source++;
	char seg[EXEC_SECRET_MAX_SOURCE + 1];
	const char *p = source;
	for (;;) {
		const char *e = strchr(p, '/');
		size_t sl = e ? (size_t)(e - p) : strlen(p);
		memcpy(seg, p, sl);
		seg[sl] = '\0';
		int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (e ? O_DIRECTORY : O_NONBLOCK);
		int fd = openat(dfd, seg, flags);
		int err = errno;
		close(dfd);
		if (fd == -1)
			return err == ELOOP || err == ENOTDIR ? -ELOOP : -err;
		if (!e)
			return fd;
		struct stat st;
		if (fstat(fd, &st) == -1 || !mode_ok(&st)) {
			close(fd);
			return -EPERM;
		}
		dfd = fd;
		p = e + 1;
	}
}

int exec_secret_read(const char *dir, const char *source, char **value, size_t *len, char *msg,
		     size_t msgsize)
{
	if (!exec_secret_source_valid(source)) {
		snprintf(msg, msgsize, "invalid secret source name");
		return -EINVAL;
	}
	int fd = open_source(dir, source);
	if (fd < 0) {
		snprintf(msg, msgsize, "%s",
			 fd == -ELOOP ? "a symbolic link (or a non-directory) on its path"
			 : fd == -EPERM ? "a directory in its path has group or other permissions"
					 : strerror(-fd));
		return fd;
	}
	struct stat st;
	if (fstat(fd, &st) == -1) {
		int e = errno;
		close(fd);
		snprintf(msg, msgsize, "%s", strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(msg, msgsize, "not a regular file");
		return -EINVAL;
	}
	if (!mode_ok(&st)) {
		close(fd);
		snprintf(msg, msgsize,
			 "its file must be owned by uid %u with no group or other permissions "
			 "(mode 0600; it is %04o, owner %u)",
			 (unsigned)geteuid(), (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
		return -EPERM;
	}
	if (st.st_size > (off_t)EXEC_SECRET_MAX_BYTES) {
		close(fd);
		snprintf(msg, msgsize, "larger than %u bytes", EXEC_SECRET_MAX_BYTES);
		return -E2BIG;
	}
	char *buf = malloc(EXEC_SECRET_MAX_BYTES + 2);
	if (!buf) {
		close(fd);
		snprintf(msg, msgsize, "out of memory");
		return -ENOMEM;
	}
	size_t n = 0;
	while (n < EXEC_SECRET_MAX_BYTES + 1) {
		ssize_t r = read(fd, buf + n, EXEC_SECRET_MAX_BYTES + 1 - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			int e = errno;
			close(fd);
			free(buf);
			snprintf(msg, msgsize, "%s", strerror(e));
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (n > EXEC_SECRET_MAX_BYTES) {
		free(buf);
		snprintf(msg, msgsize, "larger than %u bytes", EXEC_SECRET_MAX_BYTES);
		return -E2BIG;
	}
	if (memchr(buf, '\0', n)) {
		explicit_bzero(buf, n);
		free(buf);
		snprintf(msg, msgsize, "it holds a NUL byte");
		return -EINVAL;
	}
	if (n && buf[n - 1] == '\n') {
		n--;
		if (n && buf[n - 1] == '\r')
			n--;
	}
	buf[n] = '\0';
	*value = buf;
	*len = n;
	return 0;
}

int exec_secret_env(const char *dir, const char *entry, char **out, char *msg, size_t msgsize)
{
	const char *eq = strchr(entry, '=');
	if (!eq || eq == entry) {
		snprintf(msg, msgsize, "malformed secret entry");
		return -EINVAL;
	}
	char *val;
	size_t vl;
	int r = exec_secret_read(dir, eq + 1, &val, &vl, msg, msgsize);
	if (r < 0)
		return r;
	size_t nl = (size_t)(eq - entry);
	char *s = malloc(nl + 1 + vl + 1);
	if (!s) {
		explicit_bzero(val, vl);
		free(val);
		snprintf(msg, msgsize, "out of memory");
		return -ENOMEM;
	}
	memcpy(s, entry, nl + 1);
	memcpy(s + nl + 1, val, vl + 1);
	explicit_bzero(val, vl);
	free(val);
	*out = s;
	return 0;
}
