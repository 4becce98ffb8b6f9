/* The agent's image store (image.h has its layout and invariants). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "image/image-int.h"
#include "image/image.h"

extern char **environ;

int image_store_open(struct image_store *st, const char *root)
{
	if (root[0] != '/' || (size_t)snprintf(st->root, sizeof(st->root), "%s", root) >= 900)
		return -EINVAL;
	static const char *const dirs[] = { "blobs/sha256", "layers", "images", "refs", "tmp",
					    "imported" };
	char p[PATH_MAX];
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, dirs[i]);
		int r = fs_mkdir_p(p, 0700);
		if (r < 0)
			return r;
	}
	return 0;
}

int image_read_file(const char *path, size_t max, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -errno;
	struct stat s;
	if (fstat(fd, &s) == -1 || !S_ISREG(s.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if ((size_t)s.st_size > max) {
		close(fd);
		return -E2BIG;
	}
	char *b = malloc((size_t)s.st_size + 1);
	size_t have = 0;
	while (b && have < (size_t)s.st_size) {
		ssize_t n = read(fd, b + have, (size_t)s.st_size - have);
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	close(fd);
	if (!b)
		return -ENOMEM;
	b[have] = '\0';
	*out = b;
	*len = have;
	return 0;
}

/* Copies fd in to out (when out >= 0) while hashing; hex digest into d. 0 or -errno. */
static int hash_copy(int in, int out, char d[80])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(ctx);
		return -ENOMEM;
	}
	static char buf[1 << 16];
	int r = 0;
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		for (ssize_t off = 0; out >= 0 && off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0) {
				r = -errno;
				break;
			}
			off += w;
		}
		if (r)
			break;
	}
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	strcpy(d, "sha256:");
	for (unsigned i = 0; i < 32; i++)
		snprintf(d + 7 + 2 * i, 3, "%02x", md[i]);
	return r;
}

int image_sha256_file(const char *path, char out[80])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -errno;
	int r = hash_copy(fd, -1, out);
	close(fd);
	return r;
}

void image_blob_path(const struct image_store *st, const char *digest, char *buf, size_t size)
{
	snprintf(buf, size, "%s/blobs/sha256/%s", st->root, digest + 7);
}

int image_tmp_path(const struct image_store *st, const char *what, char *buf, size_t size)
{
	static unsigned seq;
	snprintf(buf, size, "%s/tmp/%s.%d.%u", st->root, what, (int)getpid(), seq++);
	return 0;
}

int image_blob_put(struct image_store *st, const char *src, const char *want, char out[80])
{
	char tmp[PATH_MAX], dst[PATH_MAX], d[80];
	image_tmp_path(st, "blob", tmp, sizeof(tmp));
	/* An archive's member is a regular file, never a link out of it. */
	int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (in == -1)
		return -errno;
	struct stat sst;
	if (fstat(in, &sst) == -1 || !S_ISREG(sst.st_mode)) {
		close(in);
		return -EINVAL;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		int r = -errno;
		close(in);
		return r;
	}
	int r = hash_copy(in, fd, d);
	close(in);
	if (close(fd) == -1 && !r)
		r = -errno;
	if (!r && want && strcmp(want, d))
		r = -EBADMSG;
	if (!r) {
		image_blob_path(st, d, dst, sizeof(dst));
		if (rename(tmp, dst) == -1)
			r = -errno;
	}
	if (r)
		unlink(tmp);
	else if (out)
		snprintf(out, 80, "%s", d);
	return r;
}

int image_run(char *const argv[], char *msg, size_t msglen)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) == -1)
		return -errno;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	int e = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (e) {
		close(pfd[0]);
		snprintf(msg, msglen, "cannot run '%s': %s", argv[0], strerror(e));
		return -e;
	}
	char out[512];
	size_t have = 0;
	for (;;) {
		char tmp[512];
		ssize_t n = read(pfd[0], tmp, sizeof(tmp));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		size_t k = (size_t)n < sizeof(out) - 1 - have ? (size_t)n : sizeof(out) - 1 - have;
		memcpy(out + have, tmp, k);
		have += k;
	}
	out[have] = '\0';
	close(pfd[0]);
	int ws;
	while (waitpid(pid, &ws, 0) == -1 && errno == EINTR)
		;
	if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
		return 0;
	out[strcspn(out, "\n")] = '\0';
	snprintf(msg, msglen, "'%s' failed: %s", argv[0], have ? out : "no message");
	return -EIO;
}

/* Removes a tree (a layer in the making, a bundle). */
int image_rm_rf(const char *path)
{
	char *argv[] = { "rm", "-rf", "--one-file-system", (char *)path, NULL };
	char msg[64];
	return image_run(argv, msg, sizeof(msg));
}

/* Turns a layer's AUFS-style whiteouts into overlayfs's, in dir and below: ".wh.<name>"
 * becomes a 0:0 character device "<name>", ".wh..wh..opq" the "trusted.overlay.opaque"
 * xattr of its directory. 0 or -errno. */
static int whiteouts(int dfd, int depth)
{
	if (depth > 256)
		return -ELOOP;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	int r = 0;
	struct dirent *e;
	while (!r && (e = readdir(d))) {
		const char *n = e->d_name;
		if (!strcmp(n, ".") || !strcmp(n, ".."))
			continue;
		if (!strcmp(n, ".wh..wh..opq")) {
			if (fsetxattr(dirfd(d), "trusted.overlay.opaque", "y", 1, 0) == -1 ||
			    unlinkat(dirfd(d), n, 0) == -1)
				r = -errno;
		} else if (!strncmp(n, ".wh.", 4)) {
			if (unlinkat(dirfd(d), n, 0) == -1 ||
			    (unlinkat(dirfd(d), n + 4, AT_REMOVEDIR) == -1 && errno != ENOENT &&
			     unlinkat(dirfd(d), n + 4, 0) == -1 && errno != ENOENT) ||
			    mknodat(dirfd(d), n + 4, S_IFCHR | 0, makedev(0, 0)) == -1)
				r = -errno;
		} else if (e->d_type == DT_DIR) {
			int sub = openat(dirfd(d), n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			r = sub == -1 ? -errno : whiteouts(sub, depth + 1);
		}
	}
	closedir(d);
	return r;
}

int image_layer_unpack(struct image_store *st, const char *digest, char *msg, size_t msglen)
{
	char dst[PATH_MAX], tmp[PATH_MAX], blob[PATH_MAX];
	snprintf(dst, sizeof(dst), "%s/layers/%s", st->root, digest + 7);
	if (access(dst, F_OK) == 0)
		return 0;
	image_blob_path(st, digest, blob, sizeof(blob));
	image_tmp_path(st, "layer", tmp, sizeof(tmp));
	if (mkdir(tmp, 0755) == -1) {
		snprintf(msg, msglen, "cannot create '%s': %s", tmp, strerror(errno));
		return -errno;
	}
	/* GNU tar: members are kept inside the directory (leading '/' and '..' refused), owners
	 * kept as numbers, compression detected from the file. */
	char *argv[] = { "tar", "-x", "-f", blob, "-C", tmp, "--numeric-owner", "-p",
			 "--xattrs", "--xattrs-include=*", "--no-overwrite-dir", NULL };
	int r = image_run(argv, msg, msglen);
	if (r == 0) {
		int dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		r = dfd == -1 ? -errno : whiteouts(dfd, 0);
		if (r)
			snprintf(msg, msglen, "layer %.20s: cannot convert its whiteouts: %s",
				 digest, strerror(-r));
	}
	if (r == 0 && rename(tmp, dst) == -1 && errno != EEXIST && errno != ENOTEMPTY) {
		r = -errno;
		snprintf(msg, msglen, "cannot rename '%s': %s", tmp, strerror(errno));
	}
	if (access(tmp, F_OK) == 0)
		image_rm_rf(tmp);
	return r;
}

/* refs/<name>: '/' as '+'. */
static void ref_path(const struct image_store *st, const char *full, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/refs/", st->root);
	for (const char *p = full; *p && (size_t)n < size - 1; p++)
		buf[n++] = *p == '/' ? '+' : *p;
	buf[n] = '\0';
}

/* Writes data to path atomically (temp file and rename). 0 or -errno. */
int image_write_atomic(struct image_store *st, const char *path, const char *data, size_t len)
{
	char tmp[PATH_MAX];
	image_tmp_path(st, "file", tmp, sizeof(tmp));
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1)
		return -errno;
	int r = write(fd, data, len) == (ssize_t)len ? 0 : -EIO;
	if (close(fd) == -1 && !r)
		r = -errno;
	if (!r && rename(tmp, path) == -1)
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

int image_store_add(struct image_store *st, const char *ref, const char *config_digest,
		    char layers[][80], size_t nlayers, char *msg, size_t msglen)
{
	char path[PATH_MAX];
	image_blob_path(st, config_digest, path, sizeof(path));
	char *cfg;
	size_t clen;
	int r = image_read_file(path, IMAGE_MAX_JSON, &cfg, &clen);
	if (r < 0) {
		snprintf(msg, msglen, "image config %.30s: %s", config_digest, strerror(-r));
		return r;
	}
	struct image_config ic;
	r = image_config_parse(cfg, clen, &ic);
	json_t *cj = r == 0 ? json_loadb(cfg, clen, 0, NULL) : NULL;
	free(cfg);
	if (r < 0 || !cj) {
		snprintf(msg, msglen, "image config %.30s: not a valid image configuration",
			 config_digest);
		json_decref(cj);
		return -EINVAL;
	}
	image_config_release(&ic);
	json_t *ls = json_array();
	for (size_t i = 0; i < nlayers; i++) {
		r = image_layer_unpack(st, layers[i], msg, msglen);
		if (r < 0) {
			json_decref(cj);
			json_decref(ls);
			return r;
		}
		json_array_append_new(ls, json_string(layers[i]));
	}
	json_t *c = json_object_get(cj, "config");
	json_t *rec = json_pack("{s:o, s:o}", "config", c ? json_incref(c) : json_object(),
				"layers", ls);
	json_decref(cj);
	char *text = json_dumps(rec, JSON_COMPACT);
	json_decref(rec);
	snprintf(path, sizeof(path), "%s/images/%s", st->root, config_digest + 7);
	r = image_write_atomic(st, path, text, strlen(text));
	free(text);
	if (r == 0 && ref) {
		char line[100];
		int n = snprintf(line, sizeof(line), "%s\n", config_digest);
		ref_path(st, ref, path, sizeof(path));
		r = image_write_atomic(st, path, line, (size_t)n);
	}
	if (r < 0)
		snprintf(msg, msglen, "cannot record the image: %s", strerror(-r));
	return r;
}

int image_store_lookup(struct image_store *st, const char *ref, json_t **image)
{
	char path[PATH_MAX], *line;
	size_t len;
	ref_path(st, ref, path, sizeof(path));
	int r = image_read_file(path, 128, &line, &len);
	if (r < 0)
		return r;
	line[strcspn(line, "\n")] = '\0';
	if (!image_digest_valid(line)) {
		free(line);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/images/%s", st->root, line + 7);
	free(line);
	char *rec;
	r = image_read_file(path, IMAGE_MAX_JSON, &rec, &len);
	if (r < 0)
		return r;
	*image = json_loadb(rec, len, 0, NULL);
	free(rec);
	if (*image) { /* the id, for the use record (image-gc.c) */
		char id[80];
		snprintf(id, sizeof(id), "sha256:%s", path + strlen(path) - 64);
		json_object_set_new(*image, "id", json_string(id));
	}
	return *image ? 0 : -EINVAL;
}

json_t *image_store_list(struct image_store *st)
{
	json_t *a = json_array();
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/refs", st->root);
	DIR *d = opendir(path);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char name[256], *line;
		size_t len, n = 0;
		for (const char *p = e->d_name; *p && n < sizeof(name) - 1; p++)
			name[n++] = *p == '+' ? '/' : *p;
		name[n] = '\0';
		snprintf(path, sizeof(path), "%s/refs/%s", st->root, e->d_name);
		if (image_read_file(path, 128, &line, &len) < 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		json_array_append_new(a, json_pack("{s:s, s:s}", "name", name, "id", line));
		free(line);
	}
	if (d)
		closedir(d);
	return a;
}
