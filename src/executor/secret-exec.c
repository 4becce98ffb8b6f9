/* berth-secret-exec: the first program of a container task that has secrets (docs/security.md,
 * "Secrets"; exec-container.h). Linked statically: it runs inside any image's rootfs, where
 * berth-image bind-mounts it read-only at EXEC_SECRET_EXEC_PATH and puts it before the
 * container's args, so the values never go into the bundle's config.json.
 *
 *   berth-secret-exec PROGRAM [ARG...]
 *
 * fd 3 (given by the shim through `crun run --preserve-fds 1`): a sealed memfd holding
 * "NAME=value\0" entries. Each is set in the environment (over a variable of the same name),
 * fd 3 is closed, and PROGRAM is exec'd with a PATH search as crun does. Any fault (fd 3
 * missing, not a memfd's bytes as above, too large): a message on stderr naming no value,
 * exit 127, nothing run. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET_FD 3
#define MAX_BYTES (4u << 20)

static int fail(const char *what, int e)
{
	fprintf(stderr, "berth-secret-exec: %s%s%s\n", what, e ? ": " : "", e ? strerror(e) : "");
	return 127;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return fail("usage: berth-secret-exec PROGRAM [ARG...]", 0);
	struct stat st;
	if (fstat(SECRET_FD, &st) == -1)
		return fail("no secrets on fd 3", errno);
	if (!S_ISREG(st.st_mode) || st.st_size < 0 || (unsigned long long)st.st_size > MAX_BYTES)
		return fail("fd 3 is not the shim's secrets", 0);
	size_t size = (size_t)st.st_size;
	char *buf = malloc(size + 1);
	if (!buf)
		return fail("out of memory", ENOMEM);
	size_t got = 0;
	while (got < size) {
		ssize_t n = pread(SECRET_FD, buf + got, size - got, (off_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return fail("cannot read the secrets", n == -1 ? errno : EIO);
		got += (size_t)n;
	}
	close(SECRET_FD);
	if (size && buf[size - 1] != '\0')
		return fail("the secrets are malformed", 0);
	for (size_t off = 0; off < size;) {
		char *kv = buf + off, *eq = strchr(kv, '=');
		off += strlen(kv) + 1;
		if (!eq || eq == kv)
			return fail("the secrets are malformed", 0);
		*eq = '\0';
		if (setenv(kv, eq + 1, 1) == -1)
			return fail("cannot set a secret's variable", errno);
		explicit_bzero(eq + 1, strlen(eq + 1));
	}
	free(buf);
	execvp(argv[1], argv + 1);
	int e = errno;
	fprintf(stderr, "berth-secret-exec: cannot run '%s': %s\n", argv[1], strerror(e));
	return e == ENOENT ? 127 : 126;
}
