/* Garbage collection of the image store (image.h, docs/isolation.md "The image store").
 *
 * Who uses what. A container task's bundle (image_bundle) records its image in
 * inuse/<task dir name>: "<meta dir>\n<image id>\n". The record is live while <meta>/bundle
 * exists (the shim removes the bundle when its task ends; an agent that finds a dead shim
 * does), so a task that died without cleaning up stops pinning its image once its bundle is
 * gone, and no record is ever needed to be removed by the task itself.
 *
 * INVARIANTS.
 * - gc.lock: everything that adds to the store or starts using what it holds (a bundle from
 *   its lookup to its use record and its mounted rootfs; import; pull) holds it shared; the
 *   collector holds it exclusive. So the collector never sees a blob or layer of an image
 *   being added, nor an image between its lookup and its use record.
 * - An image with a live use record is never removed, nor any layer or blob it names.
 * - What goes: the image's record, the refs naming it, then every layer directory and blob
 *   no remaining image names (a blob is a config or a layer). The markers of imported files
 *   (imported/) are dropped when an image goes, so the image directory is imported again
 *   on demand.
 * - With a bound (gc.max, written by the agent from --image-store-max-size), unused images
 *   go least recently used first (an image's record is touched at each use) until the store
 *   fits; without one, every unused image goes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "image/image-int.h"
#include "image/image.h"

int image_gc_lock(const struct image_store *st, int exclusive)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/gc.lock", st->root);
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1)
		return -errno;
	while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) == -1) {
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			return -e;
		}
	}
	return fd;
}

void image_gc_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

int image_use_record(struct image_store *st, const char *meta, const char *id)
{
	const char *base = strrchr(meta, '/');
	base = base ? base + 1 : meta;
	if (!*base || !image_digest_valid(id))
		return -EINVAL;
	char dir[PATH_MAX], path[PATH_MAX], line[PATH_MAX + 100];
	snprintf(dir, sizeof(dir), "%s/inuse", st->root);
	int r = fs_mkdir_p(dir, 0700);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/%s", dir, base);
	int n = snprintf(line, sizeof(line), "%s\n%s\n", meta, id);
	r = image_write_atomic(st, path, line, (size_t)n);
	/* The image's last use, for the bound's least-recently-used order. */
	snprintf(path, sizeof(path), "%s/images/%s", st->root, id + 7);
	utimensat(AT_FDCWD, path, NULL, 0);
	return r;
}

/* ---- sets of digests (small: an agent's store holds tens of images) ---- */

struct dset {
	char (*d)[80];
	size_t n, cap;
};

static void dset_add(struct dset *s, const char *d)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->d[i], d))
			return;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		void *p = realloc(s->d, cap * sizeof(*s->d));
		if (!p)
			abort();
		s->d = p;
		s->cap = cap;
	}
	snprintf(s->d[s->n++], 80, "%s", d);
}

static int dset_has(const struct dset *s, const char *d)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->d[i], d))
			return 1;
	return 0;
}

/* The ids of images a live use record names; stale records are removed. */
static void live_images(struct image_store *st, struct dset *live)
{
	char dir[PATH_MAX], path[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/inuse", st->root);
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		char *text;
		size_t len;
		if (image_read_file(path, PATH_MAX + 100, &text, &len) < 0)
			continue;
		char *nl = strchr(text, '\n'), *id = nl ? nl + 1 : NULL;
		if (id)
			id[strcspn(id, "\n")] = '\0';
		if (nl)
			*nl = '\0';
		char bundle[PATH_MAX];
		struct stat sb;
		snprintf(bundle, sizeof(bundle), "%s/bundle", text);
		if (id && image_digest_valid(id) && text[0] == '/' && stat(bundle, &sb) == 0 &&
		    S_ISDIR(sb.st_mode))
			dset_add(live, id);
		else
			unlink(path);
		free(text);
	}
	if (d)
		closedir(d);
}

struct img {
	char id[80];
	time_t used;
};

/* The stored images (ids "sha256:<hex>") with their last use. *n entries, malloc'd. */
static struct img *stored_images(struct image_store *st, size_t *n)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/images", st->root);
	struct img *v = NULL;
	size_t cap = 0;
	*n = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char id[80];
		snprintf(id, sizeof(id), "sha256:%.70s", e->d_name);
		struct stat sb;
		if (!image_digest_valid(id) || fstatat(dirfd(d), e->d_name, &sb, 0) == -1)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 32;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				abort();
		}
		snprintf(v[*n].id, sizeof(v[*n].id), "%s", id);
		v[(*n)++].used = sb.st_mtime;
	}
	if (d)
		closedir(d);
	return v;
}

static uint64_t du_total;
static int du_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)p;
	(void)flag;
	(void)f;
	du_total += (uint64_t)sb->st_blocks * 512;
	return 0;
}

uint64_t image_store_size(const struct image_store *st)
{
	static const char *const parts[] = { "blobs", "layers", "images" };
	uint64_t total = 0;
	for (size_t i = 0; i < 3; i++) {
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s/%s", st->root, parts[i]);
		du_total = 0;
		nftw(p, du_one, 32, FTW_PHYS | FTW_MOUNT);
		total += du_total;
	}
	return total;
}

/* Removes image id: its refs, its record. Then sweeps layers and blobs no remaining image
 * names. Counts into res. */
static void remove_image(struct image_store *st, const char *id, struct image_gc_result *res)
{
	char dir[PATH_MAX], path[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/refs", st->root);
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		char *line;
		size_t len;
		if (image_read_file(path, 128, &line, &len) < 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, id))
			unlink(path);
		free(line);
	}
	if (d)
		closedir(d);
	snprintf(path, sizeof(path), "%s/images/%s", st->root, id + 7);
	if (unlink(path) == 0)
		res->images++;
	/* Imported files are imported again when asked for. */
	snprintf(dir, sizeof(dir), "%s/imported", st->root);
	d = opendir(dir);
	while (d && (e = readdir(d))) {
		if (e->d_name[0] != '.')
			unlinkat(dirfd(d), e->d_name, 0);
	}
	if (d)
		closedir(d);
}

/* Layers and blobs named by no stored image go. */
static void sweep(struct image_store *st, struct image_gc_result *res)
{
	struct dset keep = { 0 };
	size_t n;
	struct img *imgs = stored_images(st, &n);
	for (size_t i = 0; i < n; i++) {
		dset_add(&keep, imgs[i].id);
		char path[PATH_MAX], *text;
		size_t len;
		snprintf(path, sizeof(path), "%s/images/%s", st->root, imgs[i].id + 7);
		if (image_read_file(path, IMAGE_MAX_JSON, &text, &len) < 0)
			continue;
		json_t *rec = json_loadb(text, len, 0, NULL);
		free(text);
		size_t k;
		json_t *l;
		json_array_foreach(json_object_get(rec, "layers"), k, l)
			if (json_is_string(l))
				dset_add(&keep, json_string_value(l));
		json_decref(rec);
	}
	free(imgs);
	static const char *const dirs[] = { "layers", "blobs/sha256" };
	for (size_t k = 0; k < 2; k++) {
		char dir[PATH_MAX], path[PATH_MAX], id[80];
		snprintf(dir, sizeof(dir), "%s/%s", st->root, dirs[k]);
		DIR *d = opendir(dir);
		struct dirent *e;
		while (d && (e = readdir(d))) {
			snprintf(id, sizeof(id), "sha256:%.70s", e->d_name);
			if (!image_digest_valid(id) || dset_has(&keep, id))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			if (k == 0) {
				if (image_rm_rf(path) == 0)
					res->layers++;
			} else if (unlink(path) == 0) {
				res->blobs++;
			}
		}
		if (d)
			closedir(d);
	}
	free(keep.d);
}

static int by_use(const void *a, const void *b)
{
	const struct img *x = a, *y = b;
	return x->used < y->used ? -1 : x->used > y->used;
}

int image_gc(struct image_store *st, uint64_t max_bytes, struct image_gc_result *res,
	     char *msg, size_t msglen)
{
	memset(res, 0, sizeof(*res));
	int lock = image_gc_lock(st, 1);
	if (lock < 0) {
		snprintf(msg, msglen, "cannot lock the store: %s", strerror(-lock));
		return lock;
	}
	res->before = image_store_size(st);
	struct dset live = { 0 };
	live_images(st, &live);
	size_t n;
	struct img *imgs = stored_images(st, &n);
	qsort(imgs, n, sizeof(*imgs), by_use);
	uint64_t size = res->before;
	for (size_t i = 0; i < n; i++) {
		if (dset_has(&live, imgs[i].id)) {
			res->kept_in_use++;
			continue;
		}
		if (max_bytes && size <= max_bytes)
			break;
		remove_image(st, imgs[i].id, res);
		if (max_bytes) {
			sweep(st, res);
			size = image_store_size(st);
		}
	}
	if (!max_bytes)
		sweep(st, res);
	free(imgs);
	free(live.d);
	res->after = image_store_size(st);
	image_gc_unlock(lock);
	return 0;
}

int image_gc_bound(const struct image_store *st, uint64_t *max_bytes)
{
	char p[PATH_MAX], *text;
	size_t len;
	snprintf(p, sizeof(p), "%s/gc.max", st->root);
	*max_bytes = 0;
	int r = image_read_file(p, 64, &text, &len);
	if (r < 0)
		return r;
	char *end;
	unsigned long long v = strtoull(text, &end, 10);
	r = end != text && (*end == '\n' || !*end) ? 0 : -EINVAL;
	if (r == 0)
		*max_bytes = v;
	free(text);
	return r;
}
