/* The "sqlite:PATH" store engine.
 *
 * Invariants (see store.h for the contract):
 *  - One table kv(key TEXT PRIMARY KEY, value BLOB, version INTEGER). Keys compare with
 *    SQLite's BINARY collation, i.e. memcmp order, so a prefix walk is the half-open range
 *    [prefix, successor(prefix)) and never uses LIKE (whose '%' and '_' are wildcards).
 *  - journal_mode=WAL and synchronous=FULL: COMMIT returns only after the WAL is fsync'd,
 *    so any write that returned >= 0 survives a crash of the process or the machine.
 *  - Outside an explicit transaction every write runs in its own BEGIN IMMEDIATE … COMMIT,
 *    so the version check and the write are one atomic step. Inside one (in_txn), writes
 *    only join it; store_txn_commit makes them durable together.
 *  - States: idle --txn_begin--> in_txn --commit/abort--> idle. begin in in_txn is -EBUSY.
 *    A failed autocommit write rolls back; a failed write inside a transaction leaves it
 *    open for the caller to abort.
 *  - Statements are prepared once and reset after each use. store_list prepares a fresh
 *    statement if its cached one is still running (a callback that lists again).
 */
#include "store/store-int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/util.h"

#define BUSY_TIMEOUT_MS 5000

enum stmt_id {
	ST_GET,
	ST_INSERT,
	ST_UPDATE,
	ST_DELETE,
	ST_LIST_ALL,
	ST_LIST_RANGE,
	ST_LIST_FROM,
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_GET] = "SELECT value, version FROM kv WHERE key = ?1",
	[ST_INSERT] = "INSERT INTO kv (key, value, version) VALUES (?1, ?2, 1)",
	[ST_UPDATE] = "UPDATE kv SET value = ?2, version = ?3 WHERE key = ?1",
	[ST_DELETE] = "DELETE FROM kv WHERE key = ?1",
	[ST_LIST_ALL] = "SELECT key, value, version FROM kv ORDER BY key",
	[ST_LIST_RANGE] = "SELECT key, value, version FROM kv WHERE key >= ?1 AND key < ?2 "
			  "ORDER BY key",
	[ST_LIST_FROM] = "SELECT key, value, version FROM kv WHERE key >= ?1 ORDER BY key",
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
};

struct sqstore {
	struct store base; /* first: the engine-neutral handle */
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];
	bool in_txn;
	struct store_stats stats;
	char errmsg[256];
};

static void sq_close(struct sqstore *s);
static void sq_txn_abort(struct sqstore *s);

/* Maps an SQLite result code to -errno and remembers the engine's message. */
static int sq_err(struct sqstore *s, int rc)
{
	snprintf(s->errmsg, sizeof(s->errmsg), "%s", sqlite3_errmsg(s->db));
	log_debug("store", "sqlite: %s (%d)", s->errmsg, rc);
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_TOOBIG:
		return -E2BIG;
	default:
		return -EIO;
	}
}

/* Runs a statement that returns no rows. */
static int stmt_exec(struct sqstore *s, enum stmt_id id)
{
	sqlite3_stmt *st = s->stmt[id];
	int rc = sqlite3_step(st);
	int r = rc == SQLITE_DONE ? 0 : sq_err(s, rc);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r;
}

static int check_key(const char *key)
{
	if (!key || !*key)
		return -EINVAL;
	if (strlen(key) > STORE_MAX_KEY)
		return -E2BIG;
	return 0;
}

static int db_setup(struct sqstore *s)
{
	static const char *const pragmas =
		"PRAGMA journal_mode=WAL;"
		"PRAGMA synchronous=FULL;"
		"PRAGMA foreign_keys=OFF;"
		/* Up to 32 MiB of pages cached (used only as the state grows): a large cluster's
		 * instance records are rewritten at every launch and should not be read back. */
		"PRAGMA cache_size=-32768;"
		/* Keep the WAL from growing without bound between checkpoints. */
		"PRAGMA journal_size_limit=67108864;"
		"CREATE TABLE IF NOT EXISTS kv ("
		" key TEXT PRIMARY KEY NOT NULL,"
		" value BLOB NOT NULL,"
		" version INTEGER NOT NULL) WITHOUT ROWID;";
	int rc = sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->db, pragmas, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return sq_err(s, rc);
	for (int i = 0; i < ST_COUNT; i++) {
		rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					&s->stmt[i], NULL);
		if (rc != SQLITE_OK)
			return sq_err(s, rc);
	}
	return 0;
}

static int sq_open(const char *url, struct sqstore **out)
{
	*out = NULL;
	if (!url || !str_has_prefix(url, "sqlite:") || !url[strlen("sqlite:")])
		return -EINVAL;
	const char *path = url + strlen("sqlite:");
	if (strcmp(path, ":memory:") != 0) {
		int r = fs_mkdir_parent(path, 0755);
		if (r < 0)
			return r;
	}

	struct sqstore *s = xcalloc(1, sizeof(*s));
	int rc = sqlite3_open_v2(path, &s->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				 NULL);
	if (rc != SQLITE_OK) {
		int r = s->db ? sq_err(s, rc) : -ENOMEM;
		sq_close(s);
		return r;
	}
	int r = db_setup(s);
	if (r < 0) {
		log_debug("store", "cannot open '%s': %s", path, s->errmsg);
		sq_close(s);
		return r;
	}
	*out = s;
	return 0;
}

static void sq_close(struct sqstore *s)
{
	if (!s)
		return;
	if (s->in_txn)
		sq_txn_abort(s);
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close_v2(s->db);
	free(s);
}

static const char *sq_errmsg(const struct sqstore *s)
{
	return s->errmsg;
}

/* Looks key up; 0 with its version, -ENOENT, or an engine error. Does not copy the value. */
static int lookup_version(struct sqstore *s, const char *key, uint64_t *version)
{
	sqlite3_stmt *st = s->stmt[ST_GET];
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	int r;
	if (rc == SQLITE_ROW) {
		*version = (uint64_t)sqlite3_column_int64(st, 1);
		r = 0;
	} else if (rc == SQLITE_DONE) {
		r = -ENOENT;
	} else {
		r = sq_err(s, rc);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r;
}

static int sq_get(struct sqstore *s, const char *key, char **val, size_t *len,
		  uint64_t *version)
{
	int r = check_key(key);
	if (r < 0)
		return r;
	sqlite3_stmt *st = s->stmt[ST_GET];
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const void *blob = sqlite3_column_blob(st, 0);
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		if (val) {
			char *copy = xmalloc(n + 1);
			if (n)
				memcpy(copy, blob, n);
			copy[n] = '\0';
			*val = copy;
		}
		if (len)
			*len = n;
		if (version)
			*version = (uint64_t)sqlite3_column_int64(st, 1);
		r = 0;
	} else if (rc == SQLITE_DONE) {
		r = -ENOENT;
	} else {
		r = sq_err(s, rc);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r;
}

/* Opens the implicit transaction of a single write (nothing inside an explicit one). */
static int write_begin(struct sqstore *s)
{
	return s->in_txn ? 0 : stmt_exec(s, ST_BEGIN);
}

static int do_commit(struct sqstore *s)
{
	uint64_t t0 = time_mono_usec();
	int r = stmt_exec(s, ST_COMMIT);
	if (r < 0)
		return r;
	uint64_t dt = time_mono_usec() - t0;
	s->stats.commits++;
	s->stats.commit_usec_total += dt;
	if (dt > s->stats.commit_usec_max)
		s->stats.commit_usec_max = dt;
	return 0;
}

/* Ends the implicit transaction of a single write: commit on success, else roll back. */
static int write_end(struct sqstore *s, int r)
{
	if (s->in_txn)
		return r;
	if (r >= 0) {
		int c = do_commit(s);
		if (c >= 0)
			return r;
		r = c;
	}
	stmt_exec(s, ST_ROLLBACK);
	return r;
}

static int put_locked(struct sqstore *s, const char *key, const void *val, size_t len,
		      uint64_t expected_version, uint64_t *new_version)
{
	uint64_t cur = 0;
	int r = lookup_version(s, key, &cur);
	if (r < 0 && r != -ENOENT)
		return r;
	bool exists = r == 0;
	if (expected_version != STORE_ANY_VERSION && expected_version != (exists ? cur : 0))
		return -ESTALE;
	if (exists && cur >= (uint64_t)INT64_MAX)
		return -EOVERFLOW;

	uint64_t next = exists ? cur + 1 : 1;
	sqlite3_stmt *st = s->stmt[exists ? ST_UPDATE : ST_INSERT];
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	/* A zero-length blob must still be bound as a blob, not NULL. */
	sqlite3_bind_blob(st, 2, len ? val : "", (int)len, SQLITE_STATIC);
	if (exists)
		sqlite3_bind_int64(st, 3, (sqlite3_int64)next);
	r = stmt_exec(s, exists ? ST_UPDATE : ST_INSERT);
	if (r < 0)
		return r;
	if (new_version)
		*new_version = next;
	return 0;
}

static int sq_put(struct sqstore *s, const char *key, const void *val, size_t len,
	      uint64_t expected_version, uint64_t *new_version)
{
	int r = check_key(key);
	if (r < 0)
		return r;
	if (len > STORE_MAX_VALUE)
		return -E2BIG;
	if (len && !val)
		return -EINVAL;
	r = write_begin(s);
	if (r < 0)
		return r;
	uint64_t nv = 0;
	r = write_end(s, put_locked(s, key, val, len, expected_version, &nv));
	if (r >= 0 && new_version)
		*new_version = nv;
	return r;
}

static int delete_locked(struct sqstore *s, const char *key, uint64_t expected_version)
{
	uint64_t cur = 0;
	int r = lookup_version(s, key, &cur);
	if (r < 0)
		return r;
	if (expected_version != STORE_ANY_VERSION && expected_version != cur)
		return -ESTALE;
	sqlite3_bind_text(s->stmt[ST_DELETE], 1, key, -1, SQLITE_STATIC);
	return stmt_exec(s, ST_DELETE);
}

static int sq_delete(struct sqstore *s, const char *key, uint64_t expected_version)
{
	int r = check_key(key);
	if (r < 0)
		return r;
	r = write_begin(s);
	if (r < 0)
		return r;
	return write_end(s, delete_locked(s, key, expected_version));
}

/* The smallest string greater than every string starting with prefix: the prefix with
 * trailing 0xff bytes dropped and the last remaining byte incremented. NULL when there
 * is none (empty prefix or all 0xff). */
static char *prefix_successor(const char *prefix)
{
	size_t n = strlen(prefix);
	while (n && (unsigned char)prefix[n - 1] == 0xff)
		n--;
	if (!n)
		return NULL;
	char *succ = xstrndup(prefix, n);
	succ[n - 1] = (char)((unsigned char)succ[n - 1] + 1);
	return succ;
}

static int sq_list(struct sqstore *s, const char *prefix, store_list_fn cb, void *ctx)
{
	if (!prefix)
		prefix = "";
	if (strlen(prefix) > STORE_MAX_KEY)
		return -E2BIG;
	_cleanup_free_ char *succ = prefix_successor(prefix);
	enum stmt_id id = !*prefix ? ST_LIST_ALL : succ ? ST_LIST_RANGE : ST_LIST_FROM;

	sqlite3_stmt *st = s->stmt[id];
	bool own = false;
	if (sqlite3_stmt_busy(st)) {
		/* A callback is listing from inside a walk: use a private statement. */
		int rc = sqlite3_prepare_v2(s->db, stmt_sql[id], -1, &st, NULL);
		if (rc != SQLITE_OK)
			return sq_err(s, rc);
		own = true;
	}
	if (id != ST_LIST_ALL)
		sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
	if (id == ST_LIST_RANGE)
		sqlite3_bind_text(st, 2, succ, -1, SQLITE_STATIC);

	int r = 0;
	for (;;) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW) {
			r = sq_err(s, rc);
			break;
		}
		const char *k = (const char *)sqlite3_column_text(st, 0);
		/* column_blob then column_bytes: the pointer stays valid and is followed by a
		 * NUL only for text, so copy-free use relies on the length. */
		const char *v = sqlite3_column_blob(st, 1);
		size_t n = (size_t)sqlite3_column_bytes(st, 1);
		uint64_t ver = (uint64_t)sqlite3_column_int64(st, 2);
		if (!k)
			continue;
		r = cb(k, v ? v : "", n, ver, ctx);
		if (r != 0)
			break;
	}
	if (own) {
		sqlite3_finalize(st);
	} else {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	return r;
}

static int sq_txn_begin(struct sqstore *s)
{
	if (s->in_txn)
		return -EBUSY;
	int r = stmt_exec(s, ST_BEGIN);
	if (r < 0)
		return r;
	s->in_txn = true;
	return 0;
}

static int sq_txn_commit(struct sqstore *s)
{
	if (!s->in_txn)
		return -EINVAL;
	int r = do_commit(s);
	if (r < 0) {
		/* A failed COMMIT may leave the transaction open: discard it so the store is
		 * usable again; nothing of it landed. */
		if (!sqlite3_get_autocommit(s->db))
			stmt_exec(s, ST_ROLLBACK);
	}
	s->in_txn = false;
	return r;
}

static void sq_txn_abort(struct sqstore *s)
{
	if (!s->in_txn)
		return;
	if (!sqlite3_get_autocommit(s->db))
		stmt_exec(s, ST_ROLLBACK);
	s->in_txn = false;
}

static void sq_get_stats(const struct sqstore *s, struct store_stats *out)
{
	*out = s->stats;
}

/* ---- the engine-neutral entry points (store-int.h) ---- */

#define SQ(b) ((struct sqstore *)(b))
#define CSQ(b) ((const struct sqstore *)(b))

static void op_close(struct store *b) { sq_close(SQ(b)); }
static int op_get(struct store *b, const char *key, char **val, size_t *len, uint64_t *version)
{
	return sq_get(SQ(b), key, val, len, version);
}
static int op_put(struct store *b, const char *key, const void *val, size_t len,
		  uint64_t expected_version, uint64_t *new_version)
{
	return sq_put(SQ(b), key, val, len, expected_version, new_version);
}
static int op_delete(struct store *b, const char *key, uint64_t expected_version)
{
	return sq_delete(SQ(b), key, expected_version);
}
static int op_list(struct store *b, const char *prefix, store_list_fn cb, void *ctx)
{
	return sq_list(SQ(b), prefix, cb, ctx);
}
static int op_txn_begin(struct store *b) { return sq_txn_begin(SQ(b)); }
static int op_txn_commit(struct store *b) { return sq_txn_commit(SQ(b)); }
static void op_txn_abort(struct store *b) { sq_txn_abort(SQ(b)); }
static void op_get_stats(const struct store *b, struct store_stats *out)
{
	sq_get_stats(CSQ(b), out);
}
static const char *op_errmsg(const struct store *b) { return sq_errmsg(CSQ(b)); }

static const struct store_ops sqlite_ops = {
	.close = op_close,
	.get = op_get,
	.put = op_put,
	.del = op_delete,
	.list = op_list,
	.txn_begin = op_txn_begin,
	.txn_commit = op_txn_commit,
	.txn_abort = op_txn_abort,
	.get_stats = op_get_stats,
	.errmsg = op_errmsg,
};

int store_sqlite_open(const char *url, struct store **out)
{
	struct sqstore *s = NULL;
	int r = sq_open(url, &s);
	if (r < 0) {
		*out = NULL;
		return r;
	}
	s->base.ops = &sqlite_ops;
	*out = &s->base;
	return 0;
}
