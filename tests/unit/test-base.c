/* Unit tests for src/base: hash map and its hash, strbuf, number parsing, time, ids, mkdir -p. */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/fsutil.h"
#include "base/hmap.h"
#include "base/mem.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/util.h"

/* Random puts, deletes and lookups against a plain array, across many incremental growths:
 * every key is found in exactly one table, iteration sees each live key once. */
static void test_hmap_incremental_growth(void **state)
{
	(void)state;
	enum { K = 30000 };
	static int vals[K];
	static unsigned char in[K], seen[K];
	struct hmap m = HMAP_INIT;
	size_t live = 0;
	srand(7);
	for (int step = 0; step < 300000; step++) {
		int k = rand() % (step < 150000 ? K : K / 3);
		char key[16];
		snprintf(key, sizeof(key), "k%d", k);
		int op = rand() % 4;
		if (op < 2) {
			void *prev = hmap_put(&m, key, &vals[k]);
			assert_ptr_equal(prev, in[k] ? &vals[k] : NULL);
			live += !in[k];
			in[k] = 1;
		} else if (op == 2) {
			void *prev = hmap_del(&m, key);
			assert_ptr_equal(prev, in[k] ? &vals[k] : NULL);
			live -= in[k];
			in[k] = 0;
		} else {
			assert_ptr_equal(hmap_get(&m, key), in[k] ? &vals[k] : NULL);
		}
		assert_int_equal(hmap_len(&m), live);
		if (step % 20011 == 0) {
			memset(seen, 0, sizeof(seen));
			size_t n = 0;
			const char *kk;
			void *v;
			for (size_t i = 0; hmap_next(&m, &i, &kk, &v);) {
				int idx = atoi(kk + 1);
				assert_true(in[idx]);
				assert_false(seen[idx]);
				assert_ptr_equal(v, &vals[idx]);
				seen[idx] = 1;
				n++;
			}
			assert_int_equal(n, live);
		}
	}
	/* Deleting while iterating (allowed) empties it. */
	const char *kk;
	void *v;
	for (size_t i = 0; hmap_next(&m, &i, &kk, &v);)
		assert_non_null(hmap_del(&m, kk));
	assert_int_equal(hmap_len(&m), 0);
	hmap_release(&m);
}

static void test_hmap_basic(void **state)
{
	struct hmap m = HMAP_INIT;
	int a = 1, b = 2;
	assert_null(hmap_get(&m, "x"));
	assert_null(hmap_put(&m, "x", &a));
	assert_ptr_equal(hmap_put(&m, "x", &b), &a);
	assert_ptr_equal(hmap_get(&m, "x"), &b);
	assert_int_equal(hmap_len(&m), 1);
	assert_ptr_equal(hmap_del(&m, "x"), &b);
	assert_null(hmap_del(&m, "x"));
	assert_int_equal(hmap_len(&m), 0);
	hmap_release(&m);
}

static void test_hmap_many(void **state)
{
	struct hmap m = HMAP_INIT;
	char key[32];
	static int vals[5000];
	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		vals[i] = i;
		hmap_put(&m, key, &vals[i]);
	}
	/* Delete every other key, then check the rest and that iteration sees each once. */
	for (int i = 0; i < 5000; i += 2) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_ptr_equal(hmap_del(&m, key), &vals[i]);
	}
	assert_int_equal(hmap_len(&m), 2500);
	for (int i = 1; i < 5000; i += 2) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_ptr_equal(hmap_get(&m, key), &vals[i]);
	}
	size_t seen = 0;
	const char *k;
	void *v;
	for (size_t it = 0; hmap_next(&m, &it, &k, &v);) {
		assert_int_equal(*(int *)v % 2, 1);
		seen++;
	}
	assert_int_equal(seen, 2500);
	/* Churn: tombstones must not grow the table without bound. */
	for (int r = 0; r < 20000; r++) {
		snprintf(key, sizeof(key), "churn%d", r);
		hmap_put(&m, key, &vals[0]);
		hmap_del(&m, key);
	}
	assert_true(m.cap <= 16384);
	hmap_release(&m);
}

static void test_strbuf(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	assert_string_equal(strbuf_str(&sb), "");
	strbuf_adds(&sb, "abc");
	strbuf_addch(&sb, '-');
	strbuf_addf(&sb, "%d/%s", 42, "x");
	assert_string_equal(strbuf_str(&sb), "abc-42/x");
	for (int i = 0; i < 1000; i++)
		strbuf_addch(&sb, 'z');
	assert_int_equal(sb.len, 1008);
	size_t len;
	char *s = strbuf_detach(&sb, &len);
	assert_int_equal(len, 1008);
	assert_int_equal(strlen(s), 1008);
	free(s);
	assert_null(sb.buf);
	strbuf_release(&sb);
}

static void test_parse_numbers(void **state)
{
	uint64_t u;
	int64_t i;
	double d;
	assert_int_equal(parse_u64("0", &u), 0);
	assert_int_equal(u, 0);
	assert_int_equal(parse_u64("18446744073709551615", &u), 0);
	assert_int_equal(parse_u64("18446744073709551616", &u), -ERANGE);
	assert_int_equal(parse_u64("-1", &u), -EINVAL);
	assert_int_equal(parse_u64("", &u), -EINVAL);
	assert_int_equal(parse_u64("12x", &u), -EINVAL);
	assert_int_equal(parse_u64(" 1", &u), -EINVAL);
	assert_int_equal(parse_i64("-5", &i), 0);
	assert_int_equal(i, -5);
	assert_int_equal(parse_double("0.25", &d), 0);
	assert_true(d == 0.25);
	assert_int_equal(parse_double("1e999", &d), -ERANGE);
	assert_int_equal(parse_double("abc", &d), -EINVAL);
}

static void test_hostport(void **state)
{
	char *host;
	uint16_t port;
	assert_int_equal(parse_hostport("127.0.0.1:5050", &host, &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 5050);
	free(host);
	assert_int_equal(parse_hostport("[::1]:80", &host, &port), 0);
	free(host);
	assert_int_equal(parse_hostport("host:65536", &host, &port), -EINVAL);
	assert_int_equal(parse_hostport("host", &host, &port), -EINVAL);
	assert_int_equal(parse_hostport(":80", &host, &port), -EINVAL);
}

static void test_time(void **state)
{
	char buf[32];
	assert_string_equal(time_iso8601(1440620619463000ull, buf), "2015-08-26T20:23:39.463Z");
	uint64_t t;
	assert_int_equal(time_parse_iso8601("2015-08-26T20:23:39.463Z", &t), 0);
	assert_true(t == 1440620619463000ull);
	assert_int_equal(time_parse_iso8601("2015-08-26T20:23:39Z", &t), 0);
	assert_true(t == 1440620619000000ull);
	assert_int_equal(time_parse_iso8601("yesterday", &t), -EINVAL);
	assert_true(time_mono_usec() > 0);
}

static void test_uuid(void **state)
{
	char a[37], b[37];
	id_uuid4(a);
	id_uuid4(b);
	assert_int_equal(strlen(a), 36);
	assert_true(strcmp(a, b) != 0);
	assert_int_equal(a[14], '4');
	assert_true(strchr("89ab", a[19]) != NULL);
}

static void test_uuid7_sorted(void **state)
{
	char prev[37] = "", cur[37];
	for (int i = 0; i < 10000; i++) {
		id_uuid7(cur);
		assert_int_equal(strlen(cur), 36);
		assert_int_equal(cur[14], '7');
		assert_true(strchr("89ab", cur[19]) != NULL);
		assert_true(strcmp(prev, cur) < 0);
		memcpy(prev, cur, sizeof(prev));
	}
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

static int is_dir(const char *dir, const char *rel)
{
	char p[PATH_MAX];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void test_mkdir_p(void **state)
{
	char dir[] = "/tmp/test-base-XXXXXX", p[PATH_MAX + 8];
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chdir(dir), 0);
	mode_t old = umask(022);

	/* Relative and absolute, missing parents, again once they exist. */
	assert_int_equal(fs_mkdir_p("a/b/c", 0755), 0);
	assert_true(is_dir(dir, "a/b/c"));
	assert_int_equal(fs_mkdir_p("a/b/c", 0755), 0);
	snprintf(p, sizeof(p), "%s/abs/x", dir);
	assert_int_equal(fs_mkdir_p(p, 0755), 0);
	assert_true(is_dir(dir, "abs/x"));
	assert_int_equal(fs_mkdir_p("/", 0755), 0);
	/* Repeated and trailing slashes. */
	assert_int_equal(fs_mkdir_p("s//t///u//", 0755), 0);
	assert_true(is_dir(dir, "s/t/u"));
	/* The mode, masked by the umask, on every directory made. */
	struct stat st;
	assert_int_equal(fs_mkdir_p("m1/m2", 0777), 0);
	assert_int_equal(stat("m1", &st), 0);
	assert_int_equal(st.st_mode & 0777, 0755);
	assert_int_equal(stat("m1/m2", &st), 0);
	assert_int_equal(st.st_mode & 0777, 0755);
	assert_int_equal(fs_mkdir_p("m3", 0700), 0);
	assert_int_equal(stat("m3", &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* A file in the way, at the end or above it; a symbolic link to a directory is fine. */
	FILE *f = fopen("file", "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(fs_mkdir_p("file", 0755), -ENOTDIR);
	assert_int_equal(fs_mkdir_p("file/sub", 0755), -ENOTDIR);
	assert_int_equal(symlink("a", "link"), 0);
	assert_int_equal(fs_mkdir_p("link/new", 0755), 0);
	assert_true(is_dir(dir, "a/new"));
	/* Bad arguments; the length limit exactly (PATH_MAX - 1 bytes) and one byte over. */
	assert_int_equal(fs_mkdir_p(NULL, 0755), -EINVAL);
	assert_int_equal(fs_mkdir_p("", 0755), -EINVAL);
	int n = snprintf(p, sizeof(p), "%s", dir);
	while (n < PATH_MAX - 2)
		p[n++] = '/';
	p[n++] = 'z';
	p[n] = '\0';
	assert_int_equal(strlen(p), PATH_MAX - 1);
	assert_int_equal(fs_mkdir_p(p, 0755), 0);
	assert_true(is_dir(dir, "z"));
	p[n - 1] = '/';
	p[n++] = 'y';
	p[n] = '\0';
	assert_int_equal(fs_mkdir_p(p, 0755), -ENAMETOOLONG);
	assert_false(is_dir(dir, "y"));

	/* The parent-only variant. */
	assert_int_equal(fs_mkdir_parent("p/q/r.db", 0755), 0);
	assert_true(is_dir(dir, "p/q"));
	assert_false(is_dir(dir, "p/q/r.db"));
	assert_int_equal(fs_mkdir_parent("v//w/", 0755), 0);
	assert_true(is_dir(dir, "v"));
	assert_false(is_dir(dir, "v/w"));
	assert_int_equal(fs_mkdir_parent("plain.db", 0755), 0);
	assert_false(is_dir(dir, "plain.db"));
	assert_int_equal(fs_mkdir_parent("/plain.db", 0755), 0);
	assert_int_equal(fs_mkdir_parent("/", 0755), 0);
	assert_int_equal(fs_mkdir_parent("file/x.db", 0755), -ENOTDIR);
	assert_int_equal(fs_mkdir_parent("", 0755), -EINVAL);

	umask(old);
	assert_int_equal(chdir("/"), 0);
	assert_int_equal(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static void test_hmap_hash(void **state)
{
	/* The string form is the byte form without the NUL, at every tail length. */
	const char *s = "0123456789abcdefghijklmnopqrstuvwxyz0123456789";
	char buf[64];
	for (size_t n = 0; n <= strlen(s); n++) {
		memcpy(buf, s, n);
		buf[n] = '\0';
		assert_true(hmap_hash(buf) == hmap_hash_bytes(s, n));
	}
	/* Only the n bytes count; n = 0 reads nothing; NULs and the length do count. */
	assert_true(hmap_hash_bytes("abcdefghijXYZ", 10) == hmap_hash_bytes("abcdefghijQQQ", 10));
	assert_true(hmap_hash_bytes(NULL, 0) == hmap_hash(""));
	static const char zeros[17];
	for (size_t n = 0; n < sizeof(zeros); n++)
		assert_true(hmap_hash_bytes(zeros, n) != hmap_hash_bytes(zeros, n + 1));
	assert_true(hmap_hash_bytes("a\0b", 3) != hmap_hash_bytes("a\0c", 3));

	/* Every input bit reaches the low bits a table uses: flipping any one bit of a 24-byte
	 * input flips some of the low 16 bits, and about half of them on average. */
	unsigned char in[24];
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 37 + 1);
	uint64_t h0 = hmap_hash_bytes(in, sizeof(in));
	unsigned flipped = 0;
	for (size_t bit = 0; bit < sizeof(in) * 8; bit++) {
		in[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		uint64_t diff = hmap_hash_bytes(in, sizeof(in)) ^ h0;
		unsigned d = (unsigned)__builtin_popcountll(diff & 0xffff);
		in[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		assert_true(d > 0);
		flipped += d;
	}
	assert_in_range(flipped * 100 / (sizeof(in) * 8 * 16), 40, 60);

	/* Sequential ids spread evenly over 1,024 buckets by their low bits (mean 9.8). */
	static unsigned buckets[1024];
	unsigned most = 0;
	for (int i = 0; i < 10000; i++) {
		snprintf(buf, sizeof(buf), "task-%d", i);
		unsigned *b = &buckets[hmap_hash(buf) & 1023];
		if (++*b > most)
			most = *b;
	}
	assert_in_range(most, 10, 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hmap_basic),
		cmocka_unit_test(test_hmap_incremental_growth),  cmocka_unit_test(test_hmap_many),
		cmocka_unit_test(test_strbuf),	    cmocka_unit_test(test_parse_numbers),
		cmocka_unit_test(test_hostport),    cmocka_unit_test(test_time),
		cmocka_unit_test(test_uuid),	    cmocka_unit_test(test_uuid7_sorted),
		cmocka_unit_test(test_hmap_hash),   cmocka_unit_test(test_mkdir_p),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
