/* fetch-cache.h: the fetcher's cache, bounded, least recently used out first. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "executor/fetch-cache.h"

#define MAX_ENTRIES 100000

void fetch_cache_key(const char *uri, char out[17])
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (const unsigned char *p = (const unsigned char *)uri; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ull;
	}
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* Copies src to dest (created, must not exist). 0 or -errno. */
static int copy_file(const char *src, const char *dest)
{
	int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, r = 0;
	if (in == -1)
		return -errno;
	out = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (out == -1) {
		r = -errno;
		close(in);
		return r;
	}
	char buf[65536];
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n ? -errno : 0;
			break;
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w == -1 && errno == EINTR)
				continue;
			if (w <= 0) {
				r = -errno;
				break;
			}
			off += w;
		}
		if (r)
			break;
	}
	close(in);
	if (close(out) == -1 && !r)
		r = -errno;
	if (r)
		unlink(dest);
	return r;
}

/* Whether <dir>/<key>.uri holds exactly uri. */
static int uri_matches(const char *dir, const char *key, const char *uri)
{
	char p[PATH_MAX], buf[PATH_MAX + 64];
	snprintf(p, sizeof(p), "%s/%s.uri", dir, key);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return 0;
	buf[n] = '\0';
	return !strcmp(buf, uri);
}

struct entry {
	char key[17];
	off_t size;
	struct timespec used;
};

static int cmp_used(const void *x, const void *y)
{
	const struct entry *a = x, *b = y;
	if (a->used.tv_sec != b->used.tv_sec)
		return a->used.tv_sec < b->used.tv_sec ? -1 : 1;
	if (a->used.tv_nsec != b->used.tv_nsec)
		return a->used.tv_nsec < b->used.tv_nsec ? -1 : 1;
	return strcmp(a->key, b->key);
}

static void remove_entry(const char *dir, const char *key)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s.uri", dir, key);
	unlink(p);
	snprintf(p, sizeof(p), "%s/%s.data", dir, key);
	unlink(p);
}

/* Under the lock: evicts the least recently used entries until they add up to max at most;
 * keep (an entry's key, or NULL) goes last. */
static void evict(const char *dir, uint64_t max, const char *keep)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct entry *v = NULL;
	size_t n = 0, cap = 0;
	uint64_t total = 0;
	struct dirent *de;
	while ((de = readdir(d)) && n < MAX_ENTRIES) {
		size_t l = strlen(de->d_name);
		if (l != 21 || strcmp(de->d_name + 16, ".data"))
			continue;
		char key[17];
		memcpy(key, de->d_name, 16);
		key[16] = '\0';
		char p[PATH_MAX];
		struct stat st;
		snprintf(p, sizeof(p), "%s/%s.uri", dir, key);
		if (access(p, F_OK) == -1) {
			remove_entry(dir, key); /* a .data without its .uri is no entry */
			continue;
		}
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (stat(p, &st) == -1)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			struct entry *nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		memcpy(v[n].key, key, 17);
		v[n].size = st.st_size;
		v[n].used = st.st_mtim;
		if (keep && !strcmp(key, keep))
			v[n].used.tv_sec = (time_t)INT64_MAX; /* last */
		total += (uint64_t)st.st_size;
		n++;
	}
	closedir(d);
	if (total > max) {
		qsort(v, n, sizeof(*v), cmp_used);
		for (size_t i = 0; i < n && total > max; i++) {
			remove_entry(dir, v[i].key);
			total -= (uint64_t)v[i].size;
		}
	}
	free(v);
}

static int lock_dir(const char *dir)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/.lock", dir);
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1)
		return -errno;
	while (flock(fd, LOCK_EX) == -1) {
		if (errno != EINTR) {
			int r = -errno;
			close(fd);
			return r;
		}
	}
	return fd;
}

int fetch_cache_get(const char *dir, uint64_t max, const char *uri, const char *dest,
		    fetch_cache_download_fn download, void *ctx, int *hit)
{
	char key[17], data[PATH_MAX], tmp[PATH_MAX], up[PATH_MAX];
	*hit = 0;
	fetch_cache_key(uri, key);
	if ((size_t)snprintf(data, sizeof(data), "%s/%s.data", dir, key) >= sizeof(data) ||
	    (size_t)snprintf(up, sizeof(up), "%s/%s.uri", dir, key) >= sizeof(up) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.tmp.%d.%s", dir, (int)getpid(), key) >=
		    sizeof(tmp))
		return download(uri, dest, ctx);
	int lk = lock_dir(dir);
	if (lk < 0)
		return download(uri, dest, ctx);
	if (uri_matches(dir, key, uri) && copy_file(data, dest) == 0) {
		utimensat(AT_FDCWD, data, NULL, 0); /* most recently used now */
		close(lk);
		*hit = 1;
		return 0;
	}
	close(lk); /* no lock held while downloading */
	unlink(tmp);
	int r = download(uri, tmp, ctx);
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	struct stat st;
	if (stat(tmp, &st) == -1 || (uint64_t)st.st_size > max) {
		/* bigger than the whole cache: the task gets it, the cache does not keep it */
		r = rename(tmp, dest) == -1 ? copy_file(tmp, dest) : 0;
		unlink(tmp);
		return r;
	}
	lk = lock_dir(dir);
	if (lk < 0) {
		r = rename(tmp, dest) == -1 ? -errno : 0;
		unlink(tmp);
		return r;
	}
	remove_entry(dir, key); /* a stale entry, or another fetcher's meanwhile */
	if (rename(tmp, data) == -1) {
		r = rename(tmp, dest) == -1 ? -errno : 0;
		unlink(tmp);
		close(lk);
		return r;
	}
	int fd = open(up, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	bool kept = fd >= 0 && write(fd, uri, strlen(uri)) == (ssize_t)strlen(uri);
	if (fd >= 0 && close(fd) == -1)
		kept = false;
	r = copy_file(data, dest);
	if (kept)
		evict(dir, max, key);
	else
		remove_entry(dir, key);
	close(lk);
	return r;
}
