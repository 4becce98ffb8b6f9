/* The OCI bundle of a container task (image.h): the image found (store, image directory,
 * registry), its rootfs mounted, config.json written for crun.
 *
 * Command, as Docker and Mesos combine Marathon's fields with the image's config: "cmd"
 * (shell) runs as /bin/sh -c <cmd> and ignores Entrypoint and Cmd; "args" follow Entrypoint
 * and replace Cmd; neither runs Entrypoint + Cmd. Env: the image's, then the task's (the
 * task wins), with MESOS_SANDBOX the sandbox's path in the container. The working directory
 * is the image's WorkingDir, else the sandbox. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "executor/exec-secret.h"
#include "executor/exec-spec.h"
#include "image/image-int.h"
#include "image/image.h"

#define SANDBOX_IN "/mnt/mesos/sandbox"

static const char *const caps[] = {
	"CAP_CHOWN",	"CAP_DAC_OVERRIDE", "CAP_FSETID",	    "CAP_FOWNER",
	"CAP_MKNOD",	"CAP_NET_RAW",	    "CAP_SETGID",	    "CAP_SETUID",
	"CAP_SETFCAP",	"CAP_SETPCAP",	    "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
	"CAP_KILL",	"CAP_AUDIT_WRITE",
};

/* Finds the image: the store, then the image directory, then the registry. */
static int find_image(const struct exec_spec *s, struct image_store *st, json_t **img,
		      int *added, char *msg, size_t msglen)
{
	*added = 0;
	struct image_ref ref;
	if (image_ref_parse(s->image, &ref) < 0) {
		snprintf(msg, msglen, "'%s' is not a valid image reference", s->image);
		return -EINVAL;
	}
	int r = s->img_pull ? -ENOENT : image_store_lookup(st, ref.full, img);
	if (r == -ENOENT && s->img_dir) {
		char m[512] = "";
		if (image_import_dir(st, s->img_dir, m, sizeof(m)) < 0)
			fprintf(stderr, "berth-image: %s\n", m);
		r = s->img_pull ? -ENOENT : image_store_lookup(st, ref.full, img);
		*added = r == 0;
	}
	if (r == -ENOENT) {
		char m[512];
		r = image_pull(st, &ref, s->img_registry, s->img_auth, m, sizeof(m));
		if (r == 0) {
			r = image_store_lookup(st, ref.full, img);
			*added = 1;
		}
		else if (image_store_lookup(st, ref.full, img) == 0)
			fprintf(stderr, "berth-image: pull of '%s' failed (%s); using the stored "
				"image\n", ref.full, m);
		else
			snprintf(msg, msglen, "Failed to pull image '%s': %s", ref.full, m);
		if (r < 0 && *img)
			r = 0;
	} else if (r < 0) {
		snprintf(msg, msglen, "image '%s': %s", ref.full, strerror(-r));
	}
	return r;
}

static json_t *strv_json(json_t *a)
{
	return json_is_array(a) ? json_copy(a) : json_array();
}

static void env_set(json_t *env, const char *kv)
{
	size_t klen = strcspn(kv, "=");
	size_t i;
	json_t *e;
	json_array_foreach(env, i, e) {
		const char *s = json_string_value(e);
		if (s && !strncmp(s, kv, klen) && s[klen] == '=') {
			json_array_set_new(env, i, json_string(kv));
			return;
		}
	}
	json_array_append_new(env, json_string(kv));
}

/* The image's User as uid/gid: numbers, "root", or a name in the rootfs's /etc/passwd. */
static int image_user(const char *user, const char *rootfs, long *uid, long *gid)
{
	*uid = *gid = 0;
	if (!user || !*user || !strcmp(user, "root"))
		return 0;
	char u[128], *g = NULL;
	snprintf(u, sizeof(u), "%s", user);
	if ((g = strchr(u, ':')))
		*g++ = '\0';
	char *end;
	long n = strtol(u, &end, 10);
	if (*u && !*end && n >= 0) {
		*uid = n;
		*gid = g ? strtol(g, &end, 10) : n;
		return g && *end ? -EINVAL : 0;
	}
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/etc/passwd", rootfs);
	/* Not through a symlink: an image's /etc/passwd never names a host file. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (fd >= 0 && !f)
		close(fd);
	char line[512];
	while (f && fgets(line, sizeof(line), f)) {
		char *name = strtok(line, ":"), *x = strtok(NULL, ":"), *us = strtok(NULL, ":"),
		     *gs = strtok(NULL, ":");
		(void)x;
		if (name && us && gs && !strcmp(name, u)) {
			*uid = strtol(us, NULL, 10);
			*gid = strtol(gs, NULL, 10);
			fclose(f);
			return 0;
		}
	}
	if (f)
		fclose(f);
	return -ENOENT;
}

/* The sandbox and its stdout/stderr to the task's user, the sandbox private to it (as
 * exec_ident_resolve does for a plain task's user). 0 or -errno with msg. */
static int give_sandbox(const char *sandbox, long uid, long gid, char *msg, size_t msglen)
{
	const char *files[] = { "", "/stdout", "/stderr" };
	for (size_t i = 0; i < 3; i++) {
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s%s", sandbox, files[i]);
		if (lchown(p, (uid_t)uid, (gid_t)gid) == -1 && errno != ENOENT) {
			int e = errno;
			snprintf(msg, msglen, "cannot give '%s' to uid %ld: %s", p, uid, strerror(e));
			return -e;
		}
	}
	if (chmod(sandbox, 0700) == -1) {
		int e = errno;
		snprintf(msg, msglen, "cannot make '%s' private: %s", sandbox, strerror(e));
		return -e;
	}
	return 0;
}

static void add_mount(json_t *mounts, const char *dst, const char *type, const char *src,
		      const char *opts)
{
	json_t *o = json_array();
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", opts);
	for (char *sv, *t = strtok_r(buf, ",", &sv); t; t = strtok_r(NULL, ",", &sv))
		json_array_append_new(o, json_string(t));
	json_array_append_new(mounts, json_pack("{s:s, s:s, s:s, s:o}", "destination", dst, "type",
						type, "source", src, "options", o));
}

/* The value of docker parameter key (or its short form) last given, or NULL. */
static const char *param(const struct exec_spec *s, const char *key, const char *short_key)
{
	const char *v = NULL;
	for (size_t i = 0; i < s->nparams; i++) {
		size_t k = strcspn(s->params[i], "=");
		if ((strlen(key) == k && !strncmp(s->params[i], key, k)) ||
		    (short_key && strlen(short_key) == k && !strncmp(s->params[i], short_key, k)))
			v = s->params[i] + k + 1;
	}
	return v;
}

/* "NET_ADMIN" or "CAP_NET_ADMIN" → "CAP_NET_ADMIN" in buf. */
static const char *cap_name(const char *v, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s", strncasecmp(v, "CAP_", 4) ? "CAP_" : "", v);
	for (char *p = buf; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	return buf;
}

/* Docker's default capabilities with the parameters' cap-add and cap-drop (in order). */
static json_t *capabilities(const struct exec_spec *s)
{
	json_t *capv = json_array();
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		json_array_append_new(capv, json_string(caps[i]));
	for (size_t i = 0; i < s->nparams; i++) {
		const char *p = s->params[i];
		bool add = !strncmp(p, "cap-add=", 8), drop = !strncmp(p, "cap-drop=", 9);
		if (!add && !drop)
			continue;
		char name[64];
		const char *v = p + (add ? 8 : 9);
		bool all = !strcasecmp(v, "ALL");
		cap_name(v, name, sizeof(name));
		for (size_t k = json_array_size(capv); drop && k-- > 0;)
			if (all || !strcmp(json_string_value(json_array_get(capv, k)), name))
				json_array_remove(capv, k);
		if (add && !all) {
			bool have = false;
			for (size_t k = 0; k < json_array_size(capv); k++)
				have |= !strcmp(json_string_value(json_array_get(capv, k)), name);
			if (!have)
				json_array_append_new(capv, json_string(name));
		}
	}
	return capv;
}

static json_t *build_config(const struct exec_spec *s, json_t *icfg, const char *rootfs,
			    const char *netns, const char *secret_exec, char *msg, size_t msglen)
{
	if (s->nsecrets && (!secret_exec || secret_exec[0] != '/')) {
		snprintf(msg, msglen, "the task has secrets and the shim gave no berth-secret-exec");
		return NULL;
	}
	json_t *args;
	/* docker run --entrypoint: replaces the image's Entrypoint and drops its Cmd. */
	const char *ep = param(s, "entrypoint", NULL);
	json_t *ovr = NULL;
	if (ep) {
		ovr = json_deep_copy(icfg ? icfg : json_object());
		json_object_set_new(ovr, "Entrypoint", json_pack("[s]", ep));
		json_object_del(ovr, "Cmd");
		icfg = ovr;
	}
	if (s->shell) {
		args = json_pack("[s, s, s]", "/bin/sh", "-c", s->cmd);
	} else {
		args = strv_json(json_object_get(icfg, "Entrypoint"));
		if (s->nargs)
			for (size_t i = 0; i < s->nargs; i++)
				json_array_append_new(args, json_string(s->args[i]));
		else
			json_array_extend(args, strv_json(json_object_get(icfg, "Cmd")));
	}
	if (json_array_size(args) == 0) {
		json_decref(ovr);
		json_decref(args);
		snprintf(msg, msglen, "the image '%s' has no Entrypoint or Cmd and the task no "
			 "command", s->image);
		return NULL;
	}
	/* Secrets: berth-secret-exec first, which sets them from fd 3 (exec-container.h). */
	if (s->nsecrets)
		json_array_insert_new(args, 0, json_string(EXEC_SECRET_EXEC_PATH));
	json_t *env = strv_json(json_object_get(icfg, "Env"));
	int have_path = 0;
	size_t i;
	json_t *e;
	json_array_foreach(env, i, e)
		have_path |= !strncmp(json_string_value(e), "PATH=", 5);
	if (!have_path)
		env_set(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	for (i = 0; i < s->nenv; i++)
		env_set(env, s->env[i]);
	for (i = 0; i < s->nparams; i++) /* docker -e, after the task's: they win */
		if (!strncmp(s->params[i], "env=", 4) || !strncmp(s->params[i], "e=", 2))
			if (strchr(strchr(s->params[i], '=') + 1, '='))
				env_set(env, strchr(s->params[i], '=') + 1);
	env_set(env, "MESOS_SANDBOX=" SANDBOX_IN);
	const char *wd = param(s, "workdir", "w");
	if (!wd)
		wd = json_string_value(json_object_get(icfg, "WorkingDir"));
	long uid, gid;
	const char *user = param(s, "user", "u");
	/* Marathon's user (the agent passes it with --switch-user) over the image's User; a
	 * docker -u parameter over both. Looked up in the image's /etc/passwd, then the
	 * agent's, as Mesos does. */
	bool task_user = !user && s->user;
	if (!user)
		user = s->user;
	if (!user)
		user = json_string_value(json_object_get(icfg, "User"));
	int ur = image_user(user, rootfs, &uid, &gid);
	if (ur == -ENOENT && task_user) {
		struct passwd *pw = getpwnam(user);
		if (pw) {
			uid = pw->pw_uid;
			gid = pw->pw_gid;
			ur = 0;
		}
	}
	if (ur < 0) {
		json_decref(ovr);
		json_decref(args);
		json_decref(env);
		snprintf(msg, msglen, task_user ? "the user '%s' is neither in the image's "
						  "/etc/passwd nor on the agent"
						: "the user '%s' is not in the image's /etc/passwd",
			 user);
		return NULL;
	}
	if (task_user && give_sandbox(s->sandbox, uid, gid, msg, msglen) < 0) {
		json_decref(ovr);
		json_decref(args);
		json_decref(env);
		return NULL;
	}
	json_t *capv = capabilities(s);
	json_t *process = json_pack(
		"{s:b, s:{s:I, s:I}, s:o, s:o, s:s, s:{s:O, s:O, s:O}, s:b}", "terminal", 0, "user",
		"uid", (json_int_t)uid, "gid", (json_int_t)gid, "args", args, "env", env, "cwd",
		wd && wd[0] == '/' ? wd : SANDBOX_IN, "capabilities", "bounding", capv, "effective",
		capv, "permitted", capv, "noNewPrivileges", 1);
	json_decref(capv);
	json_decref(ovr); /* wd pointed into it: process has its copy now */
	const char *ro = param(s, "read-only", NULL);
	const char *host = param(s, "hostname", "h");

	json_t *mounts = json_array();
	add_mount(mounts, "/proc", "proc", "proc", "nosuid,noexec,nodev");
	add_mount(mounts, "/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k");
	add_mount(mounts, "/dev/pts", "devpts", "devpts",
		  "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620");
	add_mount(mounts, "/dev/shm", "tmpfs", "shm", "nosuid,noexec,nodev,mode=1777,size=65536k");
	add_mount(mounts, "/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev");
	if (netns)
		add_mount(mounts, "/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro");
	else
		add_mount(mounts, "/sys", "bind", "/sys", "rbind,nosuid,noexec,nodev,ro");
	add_mount(mounts, SANDBOX_IN, "bind", s->sandbox, "rbind,rw");
	if (s->nsecrets)
		add_mount(mounts, EXEC_SECRET_EXEC_PATH, "bind", secret_exec, "bind,ro,nodev");
	if (access("/etc/resolv.conf", R_OK) == 0)
		add_mount(mounts, "/etc/resolv.conf", "bind", "/etc/resolv.conf", "bind,ro");
	if (!netns && access("/etc/hosts", R_OK) == 0)
		add_mount(mounts, "/etc/hosts", "bind", "/etc/hosts", "bind,ro");
	for (i = 0; i < s->nvolumes; i++) {
		const struct exec_volume *v = &s->volumes[i];
		if (v->path && v->path[0] == '/')
			add_mount(mounts, v->path, "bind", v->source, v->ro ? "rbind,ro" : "rbind,rw");
	}

	json_t *ns = json_pack("[{s:s}, {s:s}, {s:s}]", "type", "pid", "type", "mount", "type",
			       "ipc");
	if (netns || host)
		json_array_append_new(ns, json_pack("{s:s}", "type", "uts"));
	if (netns) {
		json_array_append_new(ns, json_pack("{s:s, s:s}", "type", "network", "path", netns));
	}
	json_t *cfg = json_pack(
		"{s:s, s:o, s:{s:s, s:b}, s:o, s:{s:o, s:[s, s, s, s, s, s, s, s], "
		"s:[s, s, s, s, s, s]}}",
		"ociVersion", "1.0.2", "process", process, "root", "path", "rootfs", "readonly", 0,
		"mounts", mounts, "linux", "namespaces", ns, "maskedPaths", "/proc/acpi",
		"/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
		"/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "readonlyPaths",
		"/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
		"/proc/sysrq-trigger");
	if (host) {
		json_object_set_new(cfg, "hostname", json_string(host));
	} else if (netns) {
		char hn[64];
		snprintf(hn, sizeof(hn), "%.12s", s->task_id);
		for (char *p = hn; *p; p++)
			if (*p == '_' || *p == '.')
				*p = '-';
		json_object_set_new(cfg, "hostname", json_string(hn));
	}
	if (ro && !strcmp(ro, "true"))
		json_object_set_new(json_object_get(cfg, "root"), "readonly", json_true());
	return cfg;
}

/* Removes from the tree at dfd (rootfs-relative path rel, for messages) what a layer's
 * whiteouts delete and what its opaque directories hide: walks the layer (lfd); for each
 * 0:0 character device the rootfs's entry goes, for each opaque directory the rootfs's
 * directory is emptied. 0 or -errno. */
static int copy_whiteouts(int lfd, const char *rootfs, const char *rel, int depth)
{
	if (depth > 256)
		return -ELOOP;
	DIR *d = fdopendir(lfd);
	if (!d) {
		close(lfd);
		return -errno;
	}
	int r = 0;
	struct dirent *e;
	char path[PATH_MAX], sub[PATH_MAX];
	while (!r && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", rel, e->d_name);
		snprintf(path, sizeof(path), "%s%s", rootfs, sub);
		if (S_ISCHR(st.st_mode) && st.st_rdev == 0) {
			image_rm_rf(path);
		} else if (S_ISDIR(st.st_mode)) {
			int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				O_CLOEXEC);
			if (fd == -1)
				continue;
			char v[4];
			if (fgetxattr(fd, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y')
				image_rm_rf(path);
			r = copy_whiteouts(fd, rootfs, sub, depth + 1);
		}
	}
	closedir(d);
	return r;
}

/* Drops the 0:0 character devices (whiteouts) a copy brought into the rootfs. */
static void drop_whiteouts(int dfd, int depth)
{
	DIR *d = depth < 256 ? fdopendir(dfd) : NULL;
	if (!d) {
		close(dfd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		if (S_ISCHR(st.st_mode) && st.st_rdev == 0)
			unlinkat(dirfd(d), e->d_name, 0);
		else if (S_ISDIR(st.st_mode)) {
			int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				O_CLOEXEC);
			if (fd >= 0)
				drop_whiteouts(fd, depth + 1);
		}
	}
	closedir(d);
}

/* The rootfs as a copy of the layers, bottom first, each layer's whiteouts applied. For
 * machines without overlayfs (or BERTH_IMAGE_ROOTFS=copy): costs the image's size per task. */
static int copy_rootfs(struct image_store *st, json_t *layers, const char *rootfs, char *msg,
		       size_t msglen)
{
	for (size_t i = 0; i < json_array_size(layers); i++) {
		char layer[PATH_MAX], src[PATH_MAX];
		snprintf(layer, sizeof(layer), "%s/layers/%s", st->root,
			 json_string_value(json_array_get(layers, i)) + 7);
		int fd = open(layer, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		int r = fd == -1 ? -errno : copy_whiteouts(fd, rootfs, "", 0);
		snprintf(src, sizeof(src), "%s/.", layer);
		char *argv[] = { "cp", "-a", src, (char *)rootfs, NULL };
		if (r == 0)
			r = image_run(argv, msg, msglen);
		if (r < 0) {
			if (!msg[0])
				snprintf(msg, msglen, "cannot copy layer %zu: %s", i, strerror(-r));
			return r;
		}
	}
	int fd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		drop_whiteouts(fd, 0);
	return 0;
}

/* rootfs: an overlay of the image's layers (top first) with upper and work under bundle;
 * a copy where that cannot be mounted. */
static int mount_rootfs(struct image_store *st, json_t *layers, const char *bundle,
			char *msg, size_t msglen)
{
	char rootfs[PATH_MAX], upper[PATH_MAX], work[PATH_MAX];
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", bundle);
	snprintf(upper, sizeof(upper), "%s/upper", bundle);
	snprintf(work, sizeof(work), "%s/work", bundle);
	if ((mkdir(rootfs, 0755) && errno != EEXIST) || (mkdir(upper, 0755) && errno != EEXIST) ||
	    (mkdir(work, 0755) && errno != EEXIST)) {
		snprintf(msg, msglen, "cannot make the bundle '%s': %s", bundle, strerror(errno));
		return -errno;
	}
	size_t n = json_array_size(layers);
	size_t cap = 64 + n * (strlen(st->root) + 80) + 2 * PATH_MAX;
	char *opts = malloc(cap);
	if (!opts)
		return -ENOMEM;
	size_t len = (size_t)snprintf(opts, cap, "lowerdir=");
	for (size_t i = n; i-- > 0;)
		len += (size_t)snprintf(opts + len, cap - len, "%s%s/layers/%s", i + 1 < n ? ":" : "",
					st->root, json_string_value(json_array_get(layers, i)) + 7);
	snprintf(opts + len, cap - len, ",upperdir=%s,workdir=%s", upper, work);
	int r = 0;
	const char *how = getenv("BERTH_IMAGE_ROOTFS");
	bool copy = how && !strcmp(how, "copy");
	if (n == 0) {
		r = 0; /* an image with no layers: the empty rootfs */
	} else if (!copy && strlen(opts) < 4000 &&
		   mount("overlay", rootfs, "overlay", 0, opts) == 0) {
		r = 0;
	} else {
		if (!copy)
			fprintf(stderr, "berth-image: no overlay rootfs (%s): copying the layers\n",
				strlen(opts) >= 4000 ? "too many layers" : strerror(errno));
		msg[0] = '\0';
		r = copy_rootfs(st, layers, rootfs, msg, msglen);
	}
	free(opts);
	return r;
}

int image_bundle(const char *meta, const char *netns, const char *secret_exec,
		 const char *pull_auth, char *msg, size_t msglen)
{
	char path[PATH_MAX], bundle[PATH_MAX];
	struct exec_spec s;
	snprintf(path, sizeof(path), "%s/spec", meta);
	int r = exec_spec_read_file(path, &s);
	if (r < 0 || !s.image) {
		snprintf(msg, msglen, "cannot read the task's spec '%s'", path);
		if (r == 0)
			exec_spec_release(&s);
		return r < 0 ? r : -EINVAL;
	}
	if (pull_auth && *pull_auth)
		s.img_auth = pull_auth;
	struct image_store st;
	json_t *img = NULL;
	int lock = -1, added = 0;
	r = image_store_open(&st, s.img_store);
	if (r < 0)
		snprintf(msg, msglen, "image store '%s': %s", s.img_store, strerror(-r));
	else if ((lock = r = image_gc_lock(&st, 0)) < 0)
		snprintf(msg, msglen, "image store '%s': cannot lock: %s", s.img_store,
			 strerror(-r));
	else
		r = find_image(&s, &st, &img, &added, msg, msglen);
	snprintf(bundle, sizeof(bundle), "%s/bundle", meta);
	if (r == 0 && mkdir(bundle, 0700) == -1 && errno != EEXIST) {
		r = -errno;
		snprintf(msg, msglen, "cannot make '%s': %s", bundle, strerror(errno));
	}
	/* In use from here (the bundle exists): no collector removes it under the rootfs. */
	if (r == 0 && (r = image_use_record(&st, meta, json_string_value(json_object_get(
							      img, "id")))) < 0)
		snprintf(msg, msglen, "cannot record the image's use: %s", strerror(-r));
	for (size_t i = 0; r == 0 && i < json_array_size(json_object_get(img, "layers")); i++) {
		const char *d = json_string_value(json_array_get(json_object_get(img, "layers"), i));
		if (!image_digest_valid(d)) {
			snprintf(msg, msglen, "the stored image is damaged");
			r = -EINVAL;
		} else {
			r = image_layer_unpack(&st, d, msg, msglen);
		}
	}
	if (r == 0)
		r = mount_rootfs(&st, json_object_get(img, "layers"), bundle, msg, msglen);
	image_gc_unlock(lock);
	/* New content in a store with a bound: collect what no task uses, least recently used
	 * first, until it fits (this task's image is in use: never among them). */
	uint64_t max;
	if (r == 0 && added && image_gc_bound(&st, &max) == 0 && max &&
	    image_store_size(&st) > max) {
		struct image_gc_result res;
		char m[256];
		if (image_gc(&st, max, &res, m, sizeof(m)) == 0)
			fprintf(stderr, "berth-image: the image store was over its bound (%llu MiB): "
				"removed %zu unused image(s), %zu layer(s); %llu MiB now\n",
				(unsigned long long)(max >> 20), res.images, res.layers,
				(unsigned long long)(res.after >> 20));
	}
	json_t *cfg = NULL;
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/rootfs", bundle);
		cfg = build_config(&s, json_object_get(img, "config"), path, netns, secret_exec,
				   msg, msglen);
		if (!cfg)
			r = -EINVAL;
	}
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/config.json", bundle);
		if (json_dump_file(cfg, path, JSON_INDENT(1)) == -1) {
			r = -EIO;
			snprintf(msg, msglen, "cannot write '%s'", path);
		}
	}
	json_decref(cfg);
	json_decref(img);
	exec_spec_release(&s);
	if (r < 0)
		image_bundle_remove(meta);
	return r;
}

void image_bundle_remove(const char *meta)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/bundle/rootfs", meta);
	umount2(path, MNT_DETACH);
	snprintf(path, sizeof(path), "%s/bundle", meta);
	if (access(path, F_OK) == 0)
		image_rm_rf(path);
}
