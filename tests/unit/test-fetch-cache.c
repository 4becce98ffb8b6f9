/* The fetcher's cache (fetch-cache.h) with a fake download: a hit copies without
 * downloading, the bound evicts the least recently used entries, a file bigger than the bound
 * is handed over but not kept, an entry whose .uri differs (a key collision, or a stale
 * .data) is not used, and a failed download leaves nothing behind. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "executor/fetch-cache.h"

static char tmp[64], cache[128], out[128];
static int downloads;

/* "http://x/<n>/<size>": size bytes of 'n'; "http://x/fail": an error. */
static int fake_download(const char *uri, const char *path, void *ctx)
{
	(void)ctx;
	downloads++;
	if (strstr(uri, "/fail"))
		return -EIO;
	const char *p = strrchr(uri, '/');
	long size = strtol(p + 1, NULL, 10);
	FILE *f = fopen(path, "wx");
	assert_non_null(f);
	for (long i = 0; i < size; i++)
		fputc(p[-1], f);
	fclose(f);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/berth-fc-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	snprintf(cache, sizeof(cache), "%s/cache", tmp);
	snprintf(out, sizeof(out), "%s/out", tmp);
	assert_int_equal(mkdir(cache, 0700), 0);
	assert_int_equal(mkdir(out, 0700), 0);
	downloads = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd);
}

/* Fetches uri through the cache (bound max) as out/<name>; returns hit. */
static int get(const char *uri, uint64_t max, const char *name)
{
	char dest[256];
	snprintf(dest, sizeof(dest), "%s/%s", out, name);
	int hit = -1;
	assert_int_equal(fetch_cache_get(cache, max, uri, dest, fake_download, NULL, &hit), 0);
	struct stat st;
	assert_int_equal(stat(dest, &st), 0);
	assert_int_equal(st.st_size, strtol(strrchr(uri, '/') + 1, NULL, 10));
	return hit;
}

static bool cached(const char *uri)
{
	char key[17], p[256];
	fetch_cache_key(uri, key);
	snprintf(p, sizeof(p), "%s/%s.data", cache, key);
	return access(p, F_OK) == 0;
}

static void test_hit_and_lru(void **state)
{
	(void)state;
	assert_int_equal(get("http://x/a/2000", 5000, "1"), 0);
	assert_int_equal(get("http://x/a/2000", 5000, "2"), 1);
	assert_int_equal(downloads, 1);
	sleep(1); /* mtimes apart even on a coarse file system */
	assert_int_equal(get("http://x/b/2000", 5000, "3"), 0);
	sleep(1);
	assert_int_equal(get("http://x/a/2000", 5000, "4"), 1); /* a: most recently used */
	assert_int_equal(get("http://x/c/2000", 5000, "5"), 0); /* 6000 > 5000: b goes */
	assert_true(cached("http://x/a/2000") && cached("http://x/c/2000"));
	assert_false(cached("http://x/b/2000"));
	/* exactly at the bound stays; one byte over the bound is never kept */
	assert_int_equal(get("http://x/d/5000", 5000, "6"), 0);
	assert_true(cached("http://x/d/5000"));
	assert_false(cached("http://x/a/2000") || cached("http://x/c/2000"));
	assert_int_equal(get("http://x/e/5001", 5000, "7"), 0);
	assert_false(cached("http://x/e/5001"));
	assert_true(cached("http://x/d/5000"));
	assert_int_equal(get("http://x/e/5001", 5000, "8"), 0);
	assert_int_equal(downloads, 6);
	/* the task's copy is its own file */
	char p1[256], p2[256];
	struct stat s1, s2;
	snprintf(p1, sizeof(p1), "%s/1", out);
	snprintf(p2, sizeof(p2), "%s/2", out);
	assert_int_equal(stat(p1, &s1), 0);
	assert_int_equal(stat(p2, &s2), 0);
	assert_true(s1.st_ino != s2.st_ino);
}

static void test_uri_must_match_and_failures(void **state)
{
	(void)state;
	assert_int_equal(get("http://x/a/100", 5000, "1"), 0);
	char key[17], p[256];
	fetch_cache_key("http://x/a/100", key);
	snprintf(p, sizeof(p), "%s/%s.uri", cache, key);
	FILE *f = fopen(p, "w");
	fputs("http://other/a/100", f); /* as if another URI had the same key */
	fclose(f);
	assert_int_equal(get("http://x/a/100", 5000, "2"), 0);
	assert_int_equal(downloads, 2);
	assert_int_equal(get("http://x/a/100", 5000, "3"), 1);
	/* a .data without its .uri is no entry */
	unlink(p);
	assert_int_equal(get("http://x/a/100", 5000, "4"), 0);
	/* a failed download: the error, nothing kept, no temp file left */
	char dest[256];
	snprintf(dest, sizeof(dest), "%s/fail", out);
	int hit = -1;
	assert_int_equal(fetch_cache_get(cache, 5000, "http://x/fail", dest, fake_download, NULL,
					 &hit), -EIO);
	assert_int_equal(hit, 0);
	assert_int_not_equal(access(dest, F_OK), 0);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "ls -A '%s' | grep -q '^\\.tmp'", cache);
	assert_int_not_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hit_and_lru, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uri_must_match_and_failures, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
