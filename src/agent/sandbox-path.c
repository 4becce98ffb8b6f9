/* Sandbox path confinement; see sandbox-path.h. */
#include "agent/sandbox-path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent/agent-util.h"
#include "base/mem.h"
#include "base/strbuf.h"

int sandbox_path_split(const char *root, const char *path, char **task_id, char **rel)
{
	size_t rl = strlen(root);
	const char *p = path;

	*task_id = *rel = NULL;
	if (!path || !*path)
		return -EINVAL;
	if (*p == '/') {
		if (strncmp(p, root, rl) || (p[rl] != '/' && p[rl] != '\0'))
			return -EACCES;
		p += rl;
	}
	struct strbuf out = STRBUF_INIT;
	char *id = NULL;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 1 && p[0] == '.') {
			p += n;
			continue;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			free(id);
			strbuf_release(&out);
			return -EACCES;
		}
		if (!id) {
			id = xstrndup(p, n);
		} else {
			if (out.len)
				strbuf_addch(&out, '/');
			strbuf_add(&out, p, n);
		}
		p += n;
	}
	if (!id) { /* the root itself, or only "." components */
		strbuf_release(&out);
		return *path == '/' ? -EACCES : -EINVAL;
	}
	if (!agent_task_id_valid(id)) {
		free(id);
		strbuf_release(&out);
		return -EINVAL;
	}
	*task_id = id;
	*rel = strbuf_detach(&out, NULL);
	return 0;
}

static int within(const char *base, const char *p)
{
	size_t n = strlen(base);
	return !strncmp(base, p, n) && (p[n] == '\0' || p[n] == '/');
}

int sandbox_path_resolve(const char *root, const char *path, char **real, char **display)
{
	_cleanup_free_ char *id = NULL;
	_cleanup_free_ char *rel = NULL;
	int r = sandbox_path_split(root, path, &id, &rel);
	if (r < 0)
		return r;
	_cleanup_free_ char *sb = xasprintf("%s/%s", root, id);
	_cleanup_free_ char *full = *rel ? xasprintf("%s/%s", sb, rel) : xstrdup(sb);
	char sbreal[PATH_MAX], fullreal[PATH_MAX];
	if (!realpath(sb, sbreal))
		return -errno;
	if (!realpath(full, fullreal))
		return errno == ENOENT || errno == ENOTDIR ? -ENOENT : -errno;
	if (!within(sbreal, fullreal))
		return -EACCES;
	*real = xstrdup(fullreal);
	if (display)
		*display = TAKE_PTR(full);
	return 0;
}

int sandbox_path_open(const char *root, const char *path, int flags, char **display)
{
	_cleanup_free_ char *real = NULL;
	_cleanup_free_ char *disp = NULL;
	int r = sandbox_path_resolve(root, path, &real, &disp);
	if (r < 0)
		return r;

	_cleanup_free_ char *id = NULL;
	_cleanup_free_ char *rel = NULL;
	r = sandbox_path_split(root, path, &id, &rel);
	if (r < 0)
		return r;
	_cleanup_free_ char *sb = xasprintf("%s/%s", root, id);
	int dfd = open(sb, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1)
		return -errno;
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, dfd, *rel ? rel : ".", &how, sizeof(how));
	if (fd == -1 && errno == ENOSYS) /* old kernel: the realpath check above stands */
		fd = open(real, flags | O_CLOEXEC | O_NOFOLLOW);
	r = fd == -1 ? (errno == EXDEV || errno == ELOOP ? -EACCES : -errno) : fd;
	/* A hard link names the inode of a file elsewhere (a task can link /etc/shadow into
	 * its sandbox; names cannot tell): a regular file with more than one link, owned by
	 * someone else than the sandbox's owner (the task's user) and not readable by all, is
	 * refused — the task's user could not read it itself. */
	struct stat st, sbst;
	if (r >= 0 && fstat(r, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink > 1 &&
	    !(st.st_mode & S_IROTH) && (fstat(dfd, &sbst) != 0 || st.st_uid != sbst.st_uid)) {
		close(r);
		r = -EACCES;
	}
	close(dfd);
	if (r >= 0 && display)
		*display = TAKE_PTR(disp);
	return r;
}
