/* Namespaces and identity of a task; see exec-isolate.h. Plain libc only. */
#include "executor/exec-isolate.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"

static uid_t give_uid;
static gid_t give_gid;

static int give_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)flag;
	(void)f;
	if ((st->st_uid != give_uid || st->st_gid != give_gid) &&
	    lchown(p, give_uid, give_gid) == -1)
		return errno;
	return 0;
}

int exec_ident_resolve(const struct exec_spec *s, struct exec_ident *id, char *msg,
		       size_t msglen)
{
	memset(id, 0, sizeof(*id));
	if (!s->user)
		return 0;
	errno = 0;
	struct passwd *pw = getpwnam(s->user);
	if (!pw) {
		int e = errno ? errno : ENOENT;
		snprintf(msg, msglen, "no user '%s' on this machine", s->user);
		return -e;
	}
	id->set = 1;
	id->uid = pw->pw_uid;
	id->gid = pw->pw_gid;
	snprintf(id->name, sizeof(id->name), "%s", s->user);
	/* The whole sandbox, fetched files included (as Mesos's fetcher, which runs as the
	 * task's user); symlinks themselves, never what they point to. Called before volumes
	 * are mounted in it, so their contents keep their owners. */
	give_uid = id->uid;
	give_gid = id->gid;
	int e = nftw(s->sandbox, give_one, 16, FTW_PHYS);
	if (e) {
		e = e > 0 ? e : errno;
		snprintf(msg, msglen, "cannot give '%s' to user '%s': %s", s->sandbox, s->user,
			 strerror(e));
		return -e;
	}
	/* The sandbox is the task user's alone: another task (another user) cannot read it. */
	if (chmod(s->sandbox, 0700) == -1) {
		e = errno;
		snprintf(msg, msglen, "cannot make '%s' private: %s", s->sandbox, strerror(e));
		return -e;
	}
	return 0;
}

int exec_ident_apply(const struct exec_spec *s, const struct exec_ident *id)
{
	if (s->isolate && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return errno;
	if (!id->set)
		return 0;
	if (initgroups(id->name, id->gid) == -1 && setgroups(0, NULL) == -1)
		return errno;
	if (setgid(id->gid) == -1 || setuid(id->uid) == -1)
		return errno;
	return 0;
}

/* Narrows keep (a directory path) to the longest directory prefix it shares with path, when
 * path is under /tmp; keep is left alone otherwise. */
static void keep_common(char *keep, const char *path)
{
	if (!path || strncmp(path, "/tmp/", 5))
		return;
	size_t i = 0, last = 0;
	while (keep[i] && keep[i] == path[i]) {
		if (keep[i] == '/')
			last = i;
		i++;
	}
	if (!keep[i] && (path[i] == '/' || !path[i]))
		return; /* keep is a prefix directory of path already */
	keep[last ? last : 1] = '\0';
}

int exec_isolate_shim(const struct exec_spec *s, const char *meta, char *msg, size_t msglen)
{
	char tmp[PATH_MAX];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/tmp", s->sandbox) >= sizeof(tmp))
		return -ENAMETOOLONG;
	if (mkdir(tmp, 01777) == -1 && errno != EEXIST) {
		int e = errno;
		snprintf(msg, msglen, "cannot create '%s': %s", tmp, strerror(e));
		return -e;
	}
	chmod(tmp, 01777);
	if (unshare(CLONE_NEWNS) == -1 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) == -1) {
		int e = errno;
		snprintf(msg, msglen, "cannot make a mount namespace: %s", strerror(e));
		return -e;
	}
	/* An agent whose work dir is under /tmp would lose the sandbox and the shim's own files
	 * (meta, health, lease) under the task's tmp: the smallest directory holding all of them
	 * (the work dir) is held by a descriptor while the task's tmp covers /tmp, then bound
	 * again at its own path inside it (the mount point's directories are made in the task's
	 * tmp; on the host they are empty). If that directory would be /tmp itself, /tmp stays
	 * shared, and the task's stderr says so. */
	char keep[PATH_MAX] = "";
	int kfd = -1;
	if (!strncmp(s->sandbox, "/tmp/", 5)) {
		snprintf(keep, sizeof(keep), "%s", s->sandbox);
		keep_common(keep, meta);
		keep_common(keep, s->health_dir);
		keep_common(keep, s->lease_file);
		if (!strcmp(keep, "/tmp") || !strcmp(keep, "/")) {
			snprintf(msg, msglen, "the agent's files are spread over /tmp: /tmp is not "
					      "made private");
			keep[0] = '\0';
			goto pid;
		}
		kfd = open(keep, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (kfd == -1) {
			int e = errno;
			snprintf(msg, msglen, "cannot open '%s': %s", keep, strerror(e));
			return -e;
		}
	}
	if (mount(tmp, "/tmp", NULL, MS_BIND | MS_REC, NULL) == -1) {
		int e = errno;
		snprintf(msg, msglen, "cannot mount '%s' on /tmp: %s", tmp, strerror(e));
		if (kfd >= 0)
			close(kfd);
		return -e;
	}
	if (kfd >= 0) {
		char src[64];
		snprintf(src, sizeof(src), "/proc/self/fd/%d", kfd);
		int r = fs_mkdir_p(keep, 0755);
		if (r >= 0 && mount(src, keep, NULL, MS_BIND | MS_REC, NULL) == -1)
			r = -errno;
		close(kfd);
		if (r < 0) {
			snprintf(msg, msglen, "cannot bind '%s' under the private /tmp: %s", keep,
				 strerror(-r));
			return r;
		}
	}
pid:
	if (unshare(CLONE_NEWPID) == -1) {
		int e = errno;
		snprintf(msg, msglen, "cannot make a pid namespace: %s", strerror(e));
		return -e;
	}
	return 0;
}

int exec_isolate_init(void)
{
	/* A /proc of the new pid namespace, in a mount namespace of init's own (the shim keeps
	 * the host's /proc: it reads its own entries there). */
	if (unshare(CLONE_NEWNS) == -1 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) == -1)
		return errno;
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == -1)
		return errno;
	return 0;
}
