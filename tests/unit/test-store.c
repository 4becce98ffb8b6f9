/* Unit tests for the store: versions, limits, prefix walks, transactions, and durability
 * of acknowledged writes across a SIGKILL. On the sqlite engine by default; with
 * BERTH_TEST_STORE_URL=zk://HOSTS/PATH the same tests run on that ZooKeeper ensemble,
 * each under a fresh path (tests/integration/test_store_zk.py starts one and runs this). */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/mem.h"
#include "store/store.h"

struct fixture {
	char dir[64];
	char *url;
	struct store *s;
};

static int rm_rf(const char *dir)
{
	_cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", dir);
	return system(cmd);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/berth-test-store-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	/* A nested directory that does not exist yet: store_open creates it. */
	static int n;
	const char *base = getenv("BERTH_TEST_STORE_URL");
	if (base && *base)
		f->url = xasprintf("%s/t%d-%d/a", base, (int)getpid(), n++);
	else
		f->url = xasprintf("sqlite:%s/a/b/state.db", f->dir);
	if (store_open(f->url, &f->s) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	store_close(f->s);
	rm_rf(f->dir);
	free(f->url);
	free(f);
	return 0;
}

static void test_open_errors(void **state)
{
	struct store *s = (struct store *)1;
	assert_int_equal(store_open("zk:/x", &s), -EINVAL);
	assert_null(s);
	/* ZooKeeper URLs that cannot be right: refused before any connection is tried. */
	static const char *const bad_zk[] = { "zk://", "zk://h:2181", "zk://h:2181/",
					      "zk:///berth", "zk://h:2181//berth", "zk://h:1/a//b" };
	for (size_t i = 0; i < sizeof(bad_zk) / sizeof(bad_zk[0]); i++) {
		s = (struct store *)1;
		assert_int_equal(store_open(bad_zk[i], &s), -EINVAL);
		assert_null(s);
	}
	const struct store_options no_colon = { .zk_auth = "userpass" };
	assert_int_equal(store_open_opts("zk://h:1/berth", &no_colon, &s), -EINVAL);
	assert_null(s);
	assert_int_equal(store_open("sqlite:", &s), -EINVAL);
	assert_true(store_open("sqlite:/proc/no/such/dir/x.db", &s) < 0);
	assert_null(s);
	store_close(NULL);
}

static void test_put_get_versions(void **state)
{
	struct fixture *f = *state;
	uint64_t v = 0;
	char *val = NULL;
	size_t len = 0;

	assert_int_equal(store_get(f->s, "k", &val, &len, &v), -ENOENT);
	assert_int_equal(store_put(f->s, "k", "one", 3, STORE_ANY_VERSION, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(store_put(f->s, "k", "two", 3, 1, &v), 0);
	assert_int_equal(v, 2);
	/* Stale: expected 1 but it is 2; 0 means "must not exist". */
	assert_int_equal(store_put(f->s, "k", "xxx", 3, 1, &v), -ESTALE);
	assert_int_equal(store_put(f->s, "k", "xxx", 3, 0, NULL), -ESTALE);
	assert_int_equal(store_put(f->s, "new", "n", 1, 5, NULL), -ESTALE);
	assert_int_equal(store_get(f->s, "new", NULL, NULL, NULL), -ENOENT);
	assert_int_equal(store_put(f->s, "new", "n", 1, 0, &v), 0);
	assert_int_equal(v, 1);

	assert_int_equal(store_get(f->s, "k", &val, &len, &v), 0);
	assert_string_equal(val, "two");
	assert_int_equal(len, 3);
	assert_int_equal(v, 2);
	free(val);

	/* Binary values with NUL bytes and empty values. */
	const char bin[] = { 'a', 0, 'b', 0 };
	assert_int_equal(store_put(f->s, "bin", bin, sizeof(bin), STORE_ANY_VERSION, NULL), 0);
	assert_int_equal(store_get(f->s, "bin", &val, &len, NULL), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(val, bin, 4);
	assert_int_equal(val[4], 0);
	free(val);
	assert_int_equal(store_put(f->s, "empty", "", 0, STORE_ANY_VERSION, NULL), 0);
	assert_int_equal(store_get(f->s, "empty", &val, &len, NULL), 0);
	assert_int_equal(len, 0);
	assert_string_equal(val, "");
	free(val);

	/* Versions survive a reopen. */
	store_close(f->s);
	assert_int_equal(store_open(f->url, &f->s), 0);
	assert_int_equal(store_get(f->s, "k", NULL, NULL, &v), 0);
	assert_int_equal(v, 2);

	struct store_stats st;
	assert_int_equal(store_put(f->s, "k", "3", 1, 2, NULL), 0);
	store_get_stats(f->s, &st);
	assert_int_equal(st.commits, 1);
	assert_true(st.commit_usec_total >= st.commit_usec_max);
}

static void test_delete(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(store_delete(f->s, "d", STORE_ANY_VERSION), -ENOENT);
	assert_int_equal(store_put(f->s, "d", "x", 1, STORE_ANY_VERSION, NULL), 0);
	assert_int_equal(store_put(f->s, "d", "y", 1, STORE_ANY_VERSION, NULL), 0);
	assert_int_equal(store_delete(f->s, "d", 1), -ESTALE);
	assert_int_equal(store_get(f->s, "d", NULL, NULL, NULL), 0);
	assert_int_equal(store_delete(f->s, "d", 2), 0);
	assert_int_equal(store_get(f->s, "d", NULL, NULL, NULL), -ENOENT);
	assert_int_equal(store_delete(f->s, "d", STORE_ANY_VERSION), -ENOENT);
	/* Recreated keys start again at version 1. */
	uint64_t v = 0;
	assert_int_equal(store_put(f->s, "d", "z", 1, 0, &v), 0);
	assert_int_equal(v, 1);
}

static void test_limits(void **state)
{
	struct fixture *f = *state;
	char *key = xmalloc(STORE_MAX_KEY + 2);
	memset(key, 'k', STORE_MAX_KEY + 1);
	key[STORE_MAX_KEY + 1] = '\0';
	assert_int_equal(store_put(f->s, key, "v", 1, STORE_ANY_VERSION, NULL), -E2BIG);
	key[STORE_MAX_KEY] = '\0';
	assert_int_equal(store_put(f->s, key, "v", 1, STORE_ANY_VERSION, NULL), 0);
	assert_int_equal(store_get(f->s, key, NULL, NULL, NULL), 0);
	free(key);
	assert_int_equal(store_put(f->s, "", "v", 1, STORE_ANY_VERSION, NULL), -EINVAL);

	char *big = xmalloc(STORE_MAX_VALUE + 1);
	memset(big, 'v', STORE_MAX_VALUE + 1);
	assert_int_equal(store_put(f->s, "big", big, STORE_MAX_VALUE + 1, STORE_ANY_VERSION,
				   NULL), -E2BIG);
	assert_int_equal(store_get(f->s, "big", NULL, NULL, NULL), -ENOENT);
	assert_int_equal(store_put(f->s, "big", big, STORE_MAX_VALUE, STORE_ANY_VERSION, NULL), 0);
	char *val = NULL;
	size_t len = 0;
	assert_int_equal(store_get(f->s, "big", &val, &len, NULL), 0);
	assert_int_equal(len, STORE_MAX_VALUE);
	assert_memory_equal(val, big, STORE_MAX_VALUE);
	free(val);
	free(big);
}

struct walk {
	char keys[16][32];
	int n;
	int stop_at;
};

static int walk_cb(const char *key, const char *val, size_t len, uint64_t version, void *ctx)
{
	struct walk *w = ctx;
	assert_true(w->n < 16);
	snprintf(w->keys[w->n], sizeof(w->keys[0]), "%s", key);
	assert_int_equal(len, strlen(key));
	assert_memory_equal(val, key, len); /* the tests store the key as value */
	assert_int_equal(version, 1);
	w->n++;
	return w->n == w->stop_at ? 42 : 0;
}

static void test_list_prefix(void **state)
{
	struct fixture *f = *state;
	static const char *keys[] = {
		"apps/a", "apps/b", "apps%x", "apps_y", "appsXz", "apps/", "apps",
		"app", "b", "apps\x7f", "a%b/1", "a%b/2", "axb/1", "a_b/1", "aXb/1",
		"z\xff\xff" "1",
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_int_equal(store_put(f->s, keys[i], keys[i], strlen(keys[i]), 0, NULL), 0);

	struct walk w = { .stop_at = -1 };
	assert_int_equal(store_list(f->s, "apps/", walk_cb, &w), 0);
	assert_int_equal(w.n, 3);
	assert_string_equal(w.keys[0], "apps/");
	assert_string_equal(w.keys[1], "apps/a");
	assert_string_equal(w.keys[2], "apps/b");

	/* '%' and '_' are plain characters, not wildcards. */
	memset(&w, 0, sizeof(w));
	w.stop_at = -1;
	assert_int_equal(store_list(f->s, "a%b/", walk_cb, &w), 0);
	assert_int_equal(w.n, 2);
	assert_string_equal(w.keys[0], "a%b/1");
	assert_string_equal(w.keys[1], "a%b/2");
	memset(&w, 0, sizeof(w));
	w.stop_at = -1;
	assert_int_equal(store_list(f->s, "a_b", walk_cb, &w), 0);
	assert_int_equal(w.n, 1);
	assert_string_equal(w.keys[0], "a_b/1");

	/* Prefix ending in 0xff bytes. */
	memset(&w, 0, sizeof(w));
	w.stop_at = -1;
	assert_int_equal(store_list(f->s, "z\xff", walk_cb, &w), 0);
	assert_int_equal(w.n, 1);

	/* Empty prefix: everything, in key order. */
	memset(&w, 0, sizeof(w));
	w.stop_at = -1;
	assert_int_equal(store_list(f->s, "", walk_cb, &w), 0);
	assert_int_equal(w.n, 16);
	for (int i = 1; i < w.n; i++)
		assert_true(strcmp(w.keys[i - 1], w.keys[i]) < 0);

	/* No match: an empty walk. */
	memset(&w, 0, sizeof(w));
	assert_int_equal(store_list(f->s, "nothing/", walk_cb, &w), 0);
	assert_int_equal(w.n, 0);

	/* A non-zero return stops the walk and is returned. */
	memset(&w, 0, sizeof(w));
	w.stop_at = 2;
	assert_int_equal(store_list(f->s, "apps", walk_cb, &w), 42);
	assert_int_equal(w.n, 2);
}

struct nested {
	struct store *s;
	int outer, inner;
};

static int inner_cb(const char *key, const char *val, size_t len, uint64_t version, void *ctx)
{
	((struct nested *)ctx)->inner++;
	return 0;
}

static int outer_cb(const char *key, const char *val, size_t len, uint64_t version, void *ctx)
{
	struct nested *n = ctx;
	n->outer++;
	/* Listing and writing from inside a walk works. */
	assert_int_equal(store_list(n->s, "n/", inner_cb, n), 0);
	_cleanup_free_ char *k = xasprintf("m/%s", key);
	assert_int_equal(store_put(n->s, k, "x", 1, STORE_ANY_VERSION, NULL), 0);
	return 0;
}

static void test_list_nested(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(store_put(f->s, "n/1", "1", 1, 0, NULL), 0);
	assert_int_equal(store_put(f->s, "n/2", "2", 1, 0, NULL), 0);
	struct nested n = { .s = f->s };
	assert_int_equal(store_list(f->s, "n/", outer_cb, &n), 0);
	assert_int_equal(n.outer, 2);
	assert_int_equal(n.inner, 4);
	assert_int_equal(store_get(f->s, "m/n/2", NULL, NULL, NULL), 0);
}

static void test_txn(void **state)
{
	struct fixture *f = *state;
	uint64_t v = 0;
	assert_int_equal(store_put(f->s, "t/x", "0", 1, 0, NULL), 0);

	/* Abort discards every write. */
	assert_int_equal(store_txn_begin(f->s), 0);
	assert_int_equal(store_txn_begin(f->s), -EBUSY);
	assert_int_equal(store_put(f->s, "t/a", "1", 1, 0, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(store_put(f->s, "t/x", "1", 1, 1, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(store_delete(f->s, "t/x", 2), 0);
	/* Reads inside the transaction see its writes. */
	assert_int_equal(store_get(f->s, "t/a", NULL, NULL, NULL), 0);
	store_txn_abort(f->s);
	assert_int_equal(store_get(f->s, "t/a", NULL, NULL, NULL), -ENOENT);
	assert_int_equal(store_get(f->s, "t/x", NULL, NULL, &v), 0);
	assert_int_equal(v, 1);

	/* A failed put leaves the transaction open; the caller aborts. */
	assert_int_equal(store_txn_begin(f->s), 0);
	assert_int_equal(store_put(f->s, "t/b", "1", 1, 0, NULL), 0);
	assert_int_equal(store_put(f->s, "t/x", "1", 1, 7, NULL), -ESTALE);
	assert_int_equal(store_put(f->s, "t/c", "1", 1, 0, NULL), 0);
	store_txn_abort(f->s);
	assert_int_equal(store_get(f->s, "t/b", NULL, NULL, NULL), -ENOENT);
	assert_int_equal(store_get(f->s, "t/c", NULL, NULL, NULL), -ENOENT);

	/* Commit lands everything, durably. */
	struct store_stats before, after;
	store_get_stats(f->s, &before);
	assert_int_equal(store_txn_begin(f->s), 0);
	assert_int_equal(store_put(f->s, "t/a", "1", 1, 0, NULL), 0);
	assert_int_equal(store_put(f->s, "t/b", "2", 1, 0, NULL), 0);
	assert_int_equal(store_delete(f->s, "t/x", STORE_ANY_VERSION), 0);
	assert_int_equal(store_txn_commit(f->s), 0);
	store_get_stats(f->s, &after);
	assert_int_equal(after.commits, before.commits + 1);
	assert_int_equal(store_txn_commit(f->s), -EINVAL);
	store_txn_abort(f->s); /* no transaction: harmless */

	store_close(f->s);
	assert_int_equal(store_open(f->url, &f->s), 0);
	assert_int_equal(store_get(f->s, "t/a", NULL, NULL, NULL), 0);
	assert_int_equal(store_get(f->s, "t/b", NULL, NULL, NULL), 0);
	assert_int_equal(store_get(f->s, "t/x", NULL, NULL, NULL), -ENOENT);

	/* Closing with an open transaction discards it. */
	assert_int_equal(store_txn_begin(f->s), 0);
	assert_int_equal(store_put(f->s, "t/open", "1", 1, 0, NULL), 0);
	store_close(f->s);
	assert_int_equal(store_open(f->url, &f->s), 0);
	assert_int_equal(store_get(f->s, "t/open", NULL, NULL, NULL), -ENOENT);
}

/* Keys any byte string may be: each is its own key, listed back exactly. */
static int collect_cb(const char *key, const char *val, size_t len, uint64_t version, void *ctx)
{
	struct walk *w = ctx;
	assert_true(w->n < 16);
	snprintf(w->keys[w->n++], sizeof(w->keys[0]), "%s", key);
	return 0;
}

static void test_odd_keys(void **state)
{
	struct fixture *f = *state;
	static const char *const keys[] = { ".", "..", "o/", "o//", "o/%41", "o/A", "o/a b",
					    "o/\xc3\xa9", "o/.", "o" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_int_equal(store_put(f->s, keys[i], keys[i], strlen(keys[i]), 0, NULL), 0);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char *val = NULL;
		assert_int_equal(store_get(f->s, keys[i], &val, NULL, NULL), 0);
		assert_string_equal(val, keys[i]);
		free(val);
	}
	struct walk w = { .n = 0 };
	assert_int_equal(store_list(f->s, "o/", collect_cb, &w), 0);
	static const char *const want[] = { "o/", "o/%41", "o/.", "o//", "o/A", "o/a b",
					    "o/\xc3\xa9" };
	assert_int_equal(w.n, 7);
	for (int i = 0; i < 7; i++)
		assert_string_equal(w.keys[i], want[i]);
	w.n = 0;
	assert_int_equal(store_list(f->s, "o", collect_cb, &w), 0);
	assert_int_equal(w.n, 8);
	assert_string_equal(w.keys[0], "o");
	w.n = 0;
	assert_int_equal(store_list(f->s, ".", collect_cb, &w), 0);
	assert_int_equal(w.n, 2);
	/* A transaction's writes show in a walk inside it; a delete hides the key. */
	assert_int_equal(store_txn_begin(f->s), 0);
	assert_int_equal(store_delete(f->s, "o/A", 1), 0);
	assert_int_equal(store_put(f->s, "o/B", "o/B", 3, 0, NULL), 0);
	assert_int_equal(store_put(f->s, "o/B", "o/B", 3, 1, NULL), 0);
	w.n = 0;
	assert_int_equal(store_list(f->s, "o/", collect_cb, &w), 0);
	assert_int_equal(w.n, 7);
	assert_string_equal(w.keys[4], "o/B");
	uint64_t v = 0;
	assert_int_equal(store_get(f->s, "o/B", NULL, NULL, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(store_txn_commit(f->s), 0);
	assert_int_equal(store_get(f->s, "o/A", NULL, NULL, NULL), -ENOENT);
	assert_int_equal(store_get(f->s, "o/B", NULL, NULL, &v), 0);
	assert_int_equal(v, 2);
}

/* Two handles on one store: what one wrote, the other's transactions see and check (the
 * ZooKeeper engine's version cache must not make it wrong). */
static void test_two_handles(void **state)
{
	struct fixture *f = *state;
	struct store *b = NULL;
	assert_int_equal(store_open(f->url, &b), 0);
	uint64_t v = 0;
	assert_int_equal(store_put(f->s, "two/k", "1", 1, 0, NULL), 0);
	assert_int_equal(store_get(f->s, "two/k", NULL, NULL, &v), 0); /* a read: cached */
	assert_int_equal(v, 1);
	assert_int_equal(store_put(b, "two/k", "2", 1, 1, NULL), 0); /* now 2, behind f->s */

	/* An unconditional put in a transaction lands on top of the other's write. */
	assert_int_equal(store_txn_begin(f->s), 0);
	assert_int_equal(store_put(f->s, "two/k", "3", 1, STORE_ANY_VERSION, NULL), 0);
	assert_int_equal(store_put(f->s, "two/other", "x", 1, STORE_ANY_VERSION, NULL), 0);
	assert_int_equal(store_txn_commit(f->s), 0);
	/* (Read back through the writer: on ZooKeeper another session's reads may lag.) */
	char *val = NULL;
	assert_int_equal(store_get(f->s, "two/k", &val, NULL, &v), 0);
	assert_string_equal(val, "3");
	assert_int_equal(v, 3);
	free(val);

	/* A conditional one on a version the other moved on is refused, at put or at
	 * commit, and nothing of the transaction lands. */
	assert_int_equal(store_put(b, "two/k", "4", 1, 3, NULL), 0);
	assert_int_equal(store_txn_begin(f->s), 0);
	int r = store_put(f->s, "two/new", "n", 1, 0, NULL);
	assert_int_equal(r, 0);
	r = store_put(f->s, "two/k", "5", 1, 3, NULL);
	if (r == 0) {
		assert_int_equal(store_txn_commit(f->s), -ESTALE);
	} else {
		assert_int_equal(r, -ESTALE);
		store_txn_abort(f->s);
	}
	assert_int_equal(store_get(b, "two/new", NULL, NULL, NULL), -ENOENT);
	assert_int_equal(store_get(b, "two/k", &val, NULL, &v), 0);
	assert_string_equal(val, "4");
	free(val);

	/* A delete of a key the other removed: -ENOENT at delete or at commit. */
	assert_int_equal(store_get(f->s, "two/other", NULL, NULL, NULL), 0);
	assert_int_equal(store_delete(b, "two/other", STORE_ANY_VERSION), 0);
	assert_int_equal(store_txn_begin(f->s), 0);
	r = store_delete(f->s, "two/other", STORE_ANY_VERSION);
	if (r == 0)
		assert_true(store_txn_commit(f->s) < 0);
	else
		store_txn_abort(f->s);
	store_close(b);
}

/* zk only: with a fence (store_options.zk_fence) every write needs that znode; once it is
 * gone (the leader's session expired) nothing lands: -EROFS. */
static void test_fence(void **state)
{
	struct fixture *f = *state;
	if (strncmp(f->url, "zk://", 5) != 0)
		skip();
	assert_int_equal(store_put(f->s, "fence", "", 0, 0, NULL), 0);
	/* The znode of key "fence" under the store's root (store-zk.c's layout). */
	_cleanup_free_ char *fence = xasprintf("%s/kv/bfence/k", strchr(f->url + 5, '/'));
	const struct store_options o = { .zk_fence = fence };
	struct store *b = NULL;
	assert_int_equal(store_open_opts(f->url, &o, &b), 0);
	uint64_t v = 0;
	assert_int_equal(store_put(b, "fenced/a", "1", 1, 0, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(store_put(b, "fenced/a", "2", 1, 1, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(store_put(b, "fenced/a", "x", 1, 1, NULL), -ESTALE);
	assert_int_equal(store_delete(b, "fenced/a", 2), 0);
	assert_int_equal(store_delete(b, "fenced/a", STORE_ANY_VERSION), -ENOENT);

	assert_int_equal(store_delete(f->s, "fence", STORE_ANY_VERSION), 0);
	assert_int_equal(store_put(b, "fenced/b", "1", 1, 0, NULL), -EROFS);
	assert_true(strstr(store_errmsg(b), "no longer the leader") != NULL);
	assert_int_equal(store_txn_begin(b), 0);
	assert_int_equal(store_put(b, "fenced/c", "1", 1, 0, NULL), 0);
	assert_int_equal(store_txn_commit(b), -EROFS);
	assert_int_equal(store_get(f->s, "fenced/b", NULL, NULL, NULL), -ENOENT);
	assert_int_equal(store_get(f->s, "fenced/c", NULL, NULL, NULL), -ENOENT);
	store_close(b);
}

/* A child writes keys and reports each acknowledged one on a pipe; the parent SIGKILLs it
 * right after some acknowledgement and checks that every acknowledged key is there. */
static void test_crash(void **state)
{
	struct fixture *f = *state;
	store_close(f->s);
	f->s = NULL;

	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		struct store *s = NULL;
		if (store_open(f->url, &s) < 0)
			_exit(2);
		for (uint32_t i = 0;; i++) {
			char key[32];
			snprintf(key, sizeof(key), "crash/%08u", i);
			if (store_put(s, key, key, strlen(key), 0, NULL) < 0)
				_exit(3);
			if (write(p[1], &i, sizeof(i)) != sizeof(i))
				_exit(4);
		}
	}
	close(p[1]);
	uint32_t last = 0, got = 0;
	const uint32_t kill_after = 50 + (uint32_t)(getpid() % 50);
	while (got < kill_after) {
		ssize_t n = read(p[0], &last, sizeof(last));
		assert_int_equal(n, sizeof(last));
		got++;
	}
	kill(pid, SIGKILL);
	/* Drain acknowledgements that were already sent before the kill landed. */
	for (;;) {
		uint32_t i;
		ssize_t n = read(p[0], &i, sizeof(i));
		if (n != sizeof(i))
			break;
		last = i;
	}
	close(p[0]);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));

	assert_int_equal(store_open(f->url, &f->s), 0);
	for (uint32_t i = 0; i <= last; i++) {
		char key[32];
		snprintf(key, sizeof(key), "crash/%08u", i);
		char *val = NULL;
		assert_int_equal(store_get(f->s, key, &val, NULL, NULL), 0);
		assert_string_equal(val, key);
		free(val);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test_setup_teardown(test_put_get_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_nested, setup, teardown),
		cmocka_unit_test_setup_teardown(test_txn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_odd_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_handles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fence, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
