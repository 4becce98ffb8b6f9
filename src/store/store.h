/* The store: small keys, durable before the caller answers (DESIGN.md §7).
 *
 * Invariants:
 *  - A call that returns >= 0 for a write (put, delete, txn commit) has made the change
 *    durable: committed and fsync'd. A crash after it loses nothing; a crash before it
 *    leaves the old value.
 *  - Every key carries a version, starting at 1 on creation and growing by one on every
 *    put. A put with expected_version != STORE_ANY_VERSION fails with -ESTALE unless the
 *    key's current version equals it (0 = "must not exist").
 *  - Keys are at most STORE_MAX_KEY bytes, values at most STORE_MAX_VALUE bytes (-E2BIG).
 *
 * Engines: "sqlite:PATH" (WAL mode, synchronous=FULL) and
 * "zk://HOST:PORT[,HOST:PORT...]/PATH" (ZooKeeper: one znode per key, a transaction is one
 * zoo_multi; a write is acknowledged by a quorum, each member having logged it to disk).
 * Calls are synchronous and are made from the event loop thread only. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_ANY_VERSION UINT64_MAX
#define STORE_MAX_KEY 1024
#define STORE_MAX_VALUE (1024 * 1024)

struct store;

/* Key arguments: an empty key is -EINVAL, one over STORE_MAX_KEY bytes -E2BIG (also for
 * get and delete). Engine failures map to -EIO, -EBUSY (locked by another process past
 * the busy timeout), -ENOSPC, -EROFS, -ENOMEM, -ENOTCONN (zk: no session with a
 * quorum right now; the write may or may not have landed when the connection dropped
 * during it), -EACCES (zk: the znodes' ACL refuses); store_errmsg has the engine's words. */

/* Opens (creating if needed) the store named by url, e.g. "sqlite:/var/lib/berth/state.db".
 * Returns 0, -EINVAL for an unknown scheme, -EIO (or another -errno) when it cannot open. */
int store_open(const char *url, struct store **out);

/* Engine options; zero fields take the defaults. */
struct store_options {
	unsigned zk_session_timeout_ms; /* default 10000 */
	const char *zk_auth;            /* "user:password": digest auth, berth's znodes get
					 * ACLs: that identity all, everyone else read */
	const char *zk_fence;           /* a znode that must exist for any write to land (the
					 * leader's election znode); else writes fail -EROFS */
};
int store_open_opts(const char *url, const struct store_options *o, struct store **out);
void store_close(struct store *s); /* accepts NULL */

/* Reads key. On 0, *val is a NUL-terminated malloc'd copy (taken by the caller), *len its
 * length, *version its version (either may be NULL). -ENOENT if absent. */
int store_get(struct store *s, const char *key, char **val, size_t *len, uint64_t *version);

/* Writes key (see the version rule above). On success *new_version (may be NULL) is set. */
int store_put(struct store *s, const char *key, const void *val, size_t len,
	      uint64_t expected_version, uint64_t *new_version);

/* Deletes key; -ENOENT if absent, -ESTALE on a version mismatch. */
int store_delete(struct store *s, const char *key, uint64_t expected_version);

/* Calls cb for each key starting with prefix, in key order. cb's pointers are borrowed
 * for the call only; a non-zero return from cb stops the walk and is returned.
 * "Key order" is bytewise (memcmp); the prefix is matched literally ('%' and '_' are
 * ordinary characters); "" lists everything. cb may call any store function, writes
 * and nested lists included (a write inside the walk may or may not be seen by it). */
typedef int (*store_list_fn)(const char *key, const char *val, size_t len, uint64_t version,
			     void *ctx);
int store_list(struct store *s, const char *prefix, store_list_fn cb, void *ctx);

/* Multi-key transactions: every put/delete between begin and commit lands together, or
 * none does. Nesting is not allowed (-EBUSY). abort discards. A failed put inside a
 * transaction (e.g. -ESTALE) leaves the transaction open; the caller aborts it. Reads
 * inside a transaction see its writes. commit without begin is -EINVAL; abort without
 * begin does nothing; store_close discards an open transaction. */
int store_txn_begin(struct store *s);
int store_txn_commit(struct store *s);
void store_txn_abort(struct store *s);

/* Statistics for metrics: commits done and the total time spent in them. */
struct store_stats {
	uint64_t commits;
	uint64_t commit_usec_total;
	uint64_t commit_usec_max;
};
void store_get_stats(const struct store *s, struct store_stats *out);

/* The engine's text for the last failed call (for the caller's log line), "" if none.
 * Borrowed; valid until the next call on s. */
const char *store_errmsg(const struct store *s);

/* The store's health, for a master that serves from memory while its store is down
 * (docs/dns.md, "last known endpoints"). false while the engine cannot be reached: the
 * most recent call failed with -EIO, -ENOTCONN, -EBUSY, -ENOSPC or -EROFS (other errors,
 * -ENOENT, -ESTALE, -EINVAL, ..., reached it), or, for ZooKeeper, the session is not
 * connected to a quorum right now (no I/O to tell). A call that reaches the engine makes
 * it true again. store_unreachable_err gives that -errno (0 when healthy). */
bool store_healthy(const struct store *s);
int store_unreachable_err(const struct store *s);
/* One cheap read to learn whether the engine is back (a ZooKeeper session that expired
 * meanwhile is replaced). Returns the read's result (-ENOENT counts as reached). */
int store_probe(struct store *s);
