/* bench/failover's store half: N sequential durable writes (each store_put returns after
 * the engine made it durable), then N writes in transactions of 10 keys, then (zk:// only)
 * N puts through a handle fenced as an elected master's is (store_options.zk_fence).
 * Prints "puts/s txns/s fenced-puts/s" (the last 0 for sqlite). Run by run.py, not in CI. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "store/store.h"

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: bench-store-writes URL N\n");
		return 2;
	}
	int n = atoi(argv[2]);
	struct store *s = NULL;
	if (store_open(argv[1], &s) < 0) {
		fprintf(stderr, "cannot open %s\n", argv[1]);
		return 1;
	}
	char key[64], val[512];
	memset(val, 'v', sizeof(val));
	uint64_t t0 = time_mono_usec();
	for (int i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "bench/%08d", i);
		if (store_put(s, key, val, sizeof(val), STORE_ANY_VERSION, NULL) < 0) {
			fprintf(stderr, "put failed: %s\n", store_errmsg(s));
			return 1;
		}
	}
	double puts = n / ((time_mono_usec() - t0) / 1e6);
	t0 = time_mono_usec();
	int txns = n / 10;
	for (int t = 0; t < txns; t++) {
		if (store_txn_begin(s) < 0)
			return 1;
		for (int k = 0; k < 10; k++) {
			snprintf(key, sizeof(key), "benchtx/%08d", t * 10 + k);
			if (store_put(s, key, val, sizeof(val), STORE_ANY_VERSION, NULL) < 0)
				return 1;
		}
		if (store_txn_commit(s) < 0) {
			fprintf(stderr, "commit failed: %s\n", store_errmsg(s));
			return 1;
		}
	}
	double tps = txns / ((time_mono_usec() - t0) / 1e6);
	double fps = 0;
	if (strncmp(argv[1], "zk://", 5) == 0) {
		/* The fence: the znode of key "fence" (store-zk.c's layout). */
		if (store_put(s, "fence", "", 0, STORE_ANY_VERSION, NULL) < 0)
			return 1;
		char fence[512];
		snprintf(fence, sizeof(fence), "%s/kv/bfence/k", strchr(argv[1] + 5, '/'));
		const struct store_options o = { .zk_fence = fence };
		struct store *f = NULL;
		if (store_open_opts(argv[1], &o, &f) < 0)
			return 1;
		t0 = time_mono_usec();
		for (int i = 0; i < n; i++) {
			snprintf(key, sizeof(key), "benchf/%08d", i);
			if (store_put(f, key, val, sizeof(val), STORE_ANY_VERSION, NULL) < 0) {
				fprintf(stderr, "fenced put failed: %s\n", store_errmsg(f));
				return 1;
			}
		}
		fps = n / ((time_mono_usec() - t0) / 1e6);
		store_close(f);
	}
	printf("%.0f %.0f %.0f\n", puts, tps, fps);
	store_close(s);
	return 0;
}
