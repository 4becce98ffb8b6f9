/* The ZooKeeper engine's internals shared by its files (store-zk.c, store-zk-names.c).
 *
 * Names: key K = S + R, where S is K up to and including its first '/' (all of K when it
 * has none) and R the rest, lives at KV/b<enc(S)>/k<enc(R)>. enc keeps [A-Za-z0-9_:@-] and
 * writes every other byte as %XX (uppercase hex), so any key maps to a legal znode name
 * (never "", "." or "..") and back. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"

/* KV/b<enc(S)>: the bucket znode of key (malloc'd). */
char *zk_bucket_path(const char *kv, const char *key);
/* KV/b<enc(S)>/k<enc(R)>: the znode of key (malloc'd). */
char *zk_key_path(const char *kv, const char *key);
/* Decodes an encoded name (without its b/k tag) onto sb; -EINVAL for a name berth did not
 * write. */
int zk_dec_append(struct strbuf *sb, const char *name);

/* What store_list gathers before calling back in key order. */
struct entry {
	char *key;
	char *val;
	size_t len;
	uint64_t version;
};

struct entries {
	struct entry *v;
	size_t n, cap;
};

/* bytewise key order, for qsort */
int zk_entry_cmp(const void *a, const void *b);
/* Appends (key taken, val copied with a NUL after it). */
void zk_entries_add(struct entries *es, char *key, const char *val, size_t len,
		    uint64_t version);
void zk_entries_free(struct entries *es);
