/* Bind mounts of a task's volumes in its own mount namespace; see exec-volume.h. */
#include "executor/exec-volume.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"

int exec_volume_target(const char *sandbox, const struct exec_volume *v, char *buf, size_t size)
{
	int n;
	if (v->path && !*v->path) { /* no container path: the source itself */
		if (!v->source || v->source[0] != '/' || !exec_volume_path_valid(v->source))
			return -EINVAL;
		n = snprintf(buf, size, "%s", v->source);
	} else if (!exec_volume_path_valid(v->path)) {
		return -EINVAL;
	} else {
		n = v->path[0] == '/' ? snprintf(buf, size, "%s", v->path)
				      : snprintf(buf, size, "%s/%s", sandbox, v->path);
	}
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	/* No trailing slash: the path names the mount point itself. */
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	return 0;
}

/* The mount point for a source of the given type: a directory, or an empty file. */
static int make_mountpoint(const char *target, int dir)
{
	if (dir)
		return fs_mkdir_p(target, 0755);
	int r = fs_mkdir_parent(target, 0755);
	if (r < 0)
		return r;
	int fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd == -1)
		return errno == EISDIR ? 0 : -errno;
	close(fd);
	return 0;
}

static int bind_one(const char *sandbox, const struct exec_volume *v, char *msg, size_t msglen)
{
	char target[PATH_MAX];
	struct stat st;
	int r = exec_volume_target(sandbox, v, target, sizeof(target));
	if (r < 0) {
		snprintf(msg, msglen, "bad container path '%s'", v->path);
		return r;
	}
	if (stat(v->source, &st) == -1) {
		r = -errno;
		snprintf(msg, msglen, "volume source '%s': %s", v->source, strerror(-r));
		return r;
	}
	/* Used where it is: nothing to bind, except onto itself to make it read-only (in this
	 * namespace only). */
	if (!*v->path && !v->ro)
		return 0;
	r = make_mountpoint(target, S_ISDIR(st.st_mode));
	if (r < 0) {
		snprintf(msg, msglen, "cannot create the mount point '%s': %s", target,
			 strerror(-r));
		return r;
	}
	if (mount(v->source, target, NULL, MS_BIND | MS_REC, NULL) == -1) {
		r = -errno;
		snprintf(msg, msglen, "cannot bind-mount '%s' at '%s': %s", v->source, target,
			 strerror(-r));
		return r;
	}
	if (v->ro && mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) == -1) {
		r = -errno;
		snprintf(msg, msglen, "cannot make '%s' read-only: %s", target, strerror(-r));
		return r;
	}
	return 0;
}

int exec_volumes_mount(const struct exec_spec *s, int *failed, char *msg, size_t msglen)
{
	*failed = -1;
	if (s->nvolumes == 0)
		return 0;
	if (unshare(CLONE_NEWNS) == -1) {
		int r = -errno;
		snprintf(msg, msglen, "cannot create a mount namespace: %s", strerror(-r));
		return r;
	}
	/* Slave, not shared: the volumes must not show on the host; host mounts (a driver
	 * mounting something later) still reach the task. */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) == -1) {
		int r = -errno;
		snprintf(msg, msglen, "cannot make the mount namespace private: %s", strerror(-r));
		return r;
	}
	for (size_t i = 0; i < s->nvolumes; i++) {
		/* A container's absolute paths are in its rootfs: crun binds them there
		 * (image-bundle.c); nothing is made on the host's. */
		if (s->image && s->volumes[i].path[0] == '/')
			continue;
		int r = bind_one(s->sandbox, &s->volumes[i], msg, msglen);
		if (r < 0) {
			*failed = (int)i;
			return r;
		}
	}
	return 0;
}
