/* What an engine of the store provides (store.c dispatches store.h's calls here).
 *
 * Invariant: every engine's handle begins with a struct store whose ops point at the
 * engine's table; each op keeps the contract store.h states for the call of that name. */
#pragma once
#include <stdbool.h>

#include "store/store.h"

struct store_ops {
	void (*close)(struct store *s);
	int (*get)(struct store *s, const char *key, char **val, size_t *len, uint64_t *version);
	int (*put)(struct store *s, const char *key, const void *val, size_t len,
		   uint64_t expected_version, uint64_t *new_version);
	int (*del)(struct store *s, const char *key, uint64_t expected_version);
	int (*list)(struct store *s, const char *prefix, store_list_fn cb, void *ctx);
	int (*txn_begin)(struct store *s);
	int (*txn_commit)(struct store *s);
	void (*txn_abort)(struct store *s);
	void (*get_stats)(const struct store *s, struct store_stats *out);
	const char *(*errmsg)(const struct store *s);
	/* Optional: whether the engine can be reached right now, without I/O (zk: the
	 * session is connected to a quorum). NULL: store.c judges by the last call. */
	bool (*reachable)(const struct store *s);
};

struct store {
	const struct store_ops *ops;
	int unreachable; /* store.c: the -errno of the last call that failed to reach the
			  * engine, 0 after a call that reached it */
};

/* "sqlite:PATH" (store-sqlite.c). */
int store_sqlite_open(const char *url, struct store **out);
/* "zk://HOST:PORT[,HOST:PORT...]/PATH" (store-zk.c). */
int store_zk_open(const char *url, const struct store_options *o, struct store **out);
