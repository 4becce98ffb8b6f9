/* Imports images into the store (image.h): `docker save` tarballs and OCI image layouts. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "image/image-int.h"
#include "image/image.h"

/* The OCI name of this machine's architecture. */
const char *image_arch(void)
{
	static struct utsname u;
	if (uname(&u) == -1)
		return "amd64";
	if (!strcmp(u.machine, "x86_64"))
		return "amd64";
	if (!strcmp(u.machine, "aarch64"))
		return "arm64";
	return u.machine;
}

static int add_named(struct image_store *st, const char *name, const char *config,
		     char layers[][80], size_t n, char *msg, size_t msglen)
{
	struct image_ref ref;
	if (image_ref_parse(name, &ref) < 0) {
		snprintf(msg, msglen, "'%s' is not a valid image name", name);
		return -EINVAL;
	}
	int r = image_store_add(st, ref.full, config, layers, n, msg, msglen);
	if (r == 0)
		printf("%s %s\n", ref.full, config);
	return r;
}

static int import_docker_save(struct image_store *st, const char *dir, const char *name,
			      char *msg, size_t msglen)
{
	char path[PATH_MAX], *buf;
	size_t len;
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	int r = image_read_file(path, IMAGE_MAX_JSON, &buf, &len);
	if (r < 0) {
		snprintf(msg, msglen, "manifest.json: %s", strerror(-r));
		return r;
	}
	static struct image_save_manifest m;
	r = image_save_manifest_parse(buf, len, &m);
	free(buf);
	if (r < 0) {
		snprintf(msg, msglen, "manifest.json: not a docker save manifest");
		return r;
	}
	char config[80];
	static char layers[IMAGE_MAX_LAYERS][80];
	snprintf(path, sizeof(path), "%s/%s", dir, m.config);
	r = image_blob_put(st, path, NULL, config);
	for (size_t i = 0; r == 0 && i < m.nlayers; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, m.layers[i]);
		r = image_blob_put(st, path, NULL, layers[i]);
	}
	if (r < 0) {
		snprintf(msg, msglen, "'%s': %s", path + strlen(dir) + 1, strerror(-r));
		return r;
	}
	const char *n = name ? name : m.tag[0] ? m.tag : NULL;
	if (!n) {
		snprintf(msg, msglen, "the archive names no image (RepoTags): give --name");
		return -EINVAL;
	}
	return add_named(st, n, config, layers, m.nlayers, msg, msglen);
}

/* A blob of the layout, into the store (verified); its path in the store into out. */
static int layout_blob(struct image_store *st, const char *dir, const char *digest, char *out,
		       size_t size, char *msg, size_t msglen)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, digest + 7);
	int r = image_blob_put(st, path, digest, NULL);
	if (r < 0) {
		snprintf(msg, msglen, "blob %.30s: %s", digest,
			 r == -EBADMSG ? "its content does not match its digest" : strerror(-r));
		return r;
	}
	image_blob_path(st, digest, out, size);
	return 0;
}

static int import_oci_one(struct image_store *st, const char *dir, const char *digest,
			  const char *name, int depth, char *msg, size_t msglen)
{
	char path[PATH_MAX], *buf;
	size_t len;
	int r = layout_blob(st, dir, digest, path, sizeof(path), msg, msglen);
	if (r < 0)
		return r;
	r = image_read_file(path, IMAGE_MAX_JSON, &buf, &len);
	if (r < 0)
		return r;
	static struct image_manifest m;
	enum image_doc kind;
	r = image_manifest_parse(buf, len, image_arch(), &kind, &m);
	free(buf);
	if (r < 0) {
		snprintf(msg, msglen, "manifest %.30s: %s", digest,
			 r == -ENOENT ? "no image for this platform" : "not a valid manifest");
		return r;
	}
	if (kind == IMAGE_DOC_INDEX)
		return depth < 2 ? import_oci_one(st, dir, m.config, name, depth + 1, msg, msglen)
				 : -ELOOP;
	r = layout_blob(st, dir, m.config, path, sizeof(path), msg, msglen);
	for (size_t i = 0; r == 0 && i < m.nlayers; i++)
		r = layout_blob(st, dir, m.layers[i], path, sizeof(path), msg, msglen);
	if (r < 0)
		return r;
	return add_named(st, name, m.config, m.layers, m.nlayers, msg, msglen);
}

/* base: the layout's file or directory name, which names an image whose ref.name is a bare
 * tag. */
static int import_oci(struct image_store *st, const char *dir, const char *name,
		      const char *base, char *msg, size_t msglen)
{
	char path[PATH_MAX], *buf;
	size_t len;
	snprintf(path, sizeof(path), "%s/index.json", dir);
	int r = image_read_file(path, IMAGE_MAX_JSON, &buf, &len);
	if (r < 0) {
		snprintf(msg, msglen, "index.json: %s", strerror(-r));
		return r;
	}
	json_t *idx = json_loadb(buf, len, 0, NULL);
	free(buf);
	json_t *mans = json_object_get(idx, "manifests");
	if (!json_is_array(mans) || json_array_size(mans) == 0 || json_array_size(mans) > 256) {
		json_decref(idx);
		snprintf(msg, msglen, "index.json: no manifests");
		return -EINVAL;
	}
	size_t i;
	json_t *e;
	r = 0;
	json_array_foreach(mans, i, e) {
		const char *d = json_string_value(json_object_get(e, "digest"));
		const char *rn = json_string_value(json_object_get(
			json_object_get(e, "annotations"), "org.opencontainers.image.ref.name"));
		char full[IMAGE_REF_MAX];
		if (name && i == 0)
			snprintf(full, sizeof(full), "%s", name);
		else if (name)
			continue;
		else if (rn && (strchr(rn, '/') || strchr(rn, ':')))
			snprintf(full, sizeof(full), "%s", rn);
		else
			snprintf(full, sizeof(full), "%s:%s", base, rn ? rn : "latest");
		if (!image_digest_valid(d)) {
			snprintf(msg, msglen, "index.json: manifest %zu has no valid digest", i);
			r = -EINVAL;
			break;
		}
		r = import_oci_one(st, dir, d, full, 0, msg, msglen);
		if (r < 0)
			break;
	}
	json_decref(idx);
	return r;
}

/* The name an OCI layout file gives bare tags: its base name without .tar / .oci. */
static void base_name(const char *path, char *out, size_t size)
{
	const char *s = strrchr(path, '/');
	s = s && s[1] ? s + 1 : path;
	snprintf(out, size, "%s", s);
	size_t n = strlen(out);
	while (n && out[n - 1] == '/')
		out[--n] = '\0';
	char *dot = strchr(out, '.');
	if (dot)
		*dot = '\0';
	for (char *p = out; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
}

int image_import(struct image_store *st, const char *path, const char *name, char *msg,
		 size_t msglen)
{
	struct stat s;
	char base[128];
	if (stat(path, &s) == -1) {
		snprintf(msg, msglen, "'%s': %s", path, strerror(errno));
		return -errno;
	}
	base_name(path, base, sizeof(base));
	char dir[PATH_MAX], probe[PATH_MAX + 16];
	int r;
	if (S_ISDIR(s.st_mode)) {
		snprintf(dir, sizeof(dir), "%s", path);
	} else {
		image_tmp_path(st, "import", dir, sizeof(dir));
		if (mkdir(dir, 0700) == -1)
			return -errno;
		char *argv[] = { "tar", "-x", "-f", (char *)path, "-C", dir, "--no-same-owner",
				 "--no-same-permissions", NULL };
		r = image_run(argv, msg, msglen);
		if (r < 0) {
			image_rm_rf(dir);
			return r;
		}
	}
	snprintf(probe, sizeof(probe), "%s/manifest.json", dir);
	if (access(probe, F_OK) == 0) {
		r = import_docker_save(st, dir, name, msg, msglen);
	} else {
		snprintf(probe, sizeof(probe), "%s/index.json", dir);
		if (access(probe, F_OK) == 0) {
			r = import_oci(st, dir, name, base, msg, msglen);
		} else {
			snprintf(msg, msglen,
				 "'%s' is neither a docker save archive (manifest.json) nor an OCI "
				 "image layout (index.json)", path);
			r = -EINVAL;
		}
	}
	if (!S_ISDIR(s.st_mode))
		image_rm_rf(dir);
	return r;
}

int image_import_dir(struct image_store *st, const char *dir, char *msg, size_t msglen)
{
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(msg, msglen, "image directory '%s': %s", dir, strerror(errno));
		return -errno;
	}
	/* One importer at a time: the shims of many tasks wanting the same image wait for the
	 * first, then find its marker and the image. */
	char lock[PATH_MAX];
	snprintf(lock, sizeof(lock), "%s/imported/.lock", st->root);
	int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lfd >= 0)
		while (flock(lfd, LOCK_EX) == -1 && errno == EINTR)
			;
	int first = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[PATH_MAX], mark[PATH_MAX], m[512];
		struct stat s;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &s) == -1)
			continue;
		snprintf(mark, sizeof(mark), "%s/imported/%.200s-%lld-%lld", st->root, e->d_name,
			 (long long)s.st_size, (long long)s.st_mtime);
		if (access(mark, F_OK) == 0)
			continue;
		int r = image_import(st, path, NULL, m, sizeof(m));
		if (r == 0)
			r = image_write_atomic(st, mark, "", 0);
		if (r < 0 && !first) {
			first = r;
			snprintf(msg, msglen, "'%s': %s", path, m);
		}
	}
	closedir(d);
	if (lfd >= 0)
		close(lfd);
	return first;
}
