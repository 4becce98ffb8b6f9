/* The "zk://HOST:PORT[,HOST:PORT...]/PATH" store engine, on ZooKeeper's C client (mt).
 *
 * Invariants (see store.h for the contract):
 *  - One znode per key, never one big value: key K = S + R, where S is K up to and including
 *    its first '/' (all of K when it has none) and R the rest, lives at
 *    PATH/kv/b<enc(S)>/k<enc(R)>. enc keeps [A-Za-z0-9_:@-] and writes every other byte as
 *    %XX, so any key maps to a legal znode name and back. The bucket znodes (b…) carry no
 *    data; they are created on first use and never removed.
 *  - A key's store version is its znode's dataVersion + 1 (ZooKeeper starts at 0 on create
 *    and adds 1 on each setData), so "0 = must not exist" and "1 on creation" carry over.
 *  - Outside a transaction a write is one ZooKeeper request with the version checked by the
 *    server (create fails if the znode exists, setData/delete carry the expected version).
 *    An unversioned put is setData(-1), falling back to create when the znode is absent.
 *  - Inside a transaction (in_txn) each write is checked against the current version (from
 *    the transaction's own earlier ops, else the version cache, else ZooKeeper) and queued
 *    with the version it expects; a cached version that disagrees with the caller's is
 *    asked of ZooKeeper before refusing; commit sends the queue as ONE zoo_multi, which the ensemble applies entirely
 *    or not at all and which fails if any version moved in between. Reads in a transaction
 *    see its queued writes (store_get and store_list overlay them). When a multi built on
 *    cached versions fails on a version, the cache is dropped, every op's version is read
 *    afresh and checked against its caller's expectation, and the multi is sent once more.
 *  - A call returns only after ZooKeeper answered, and ZooKeeper answers a write after a
 *    quorum logged it to disk: acknowledged writes are durable.
 *  - Not connected (no session, or the ensemble lost quorum): every call fails at once with
 *    -ENOTCONN rather than holding the event loop. An expired session is replaced by a new
 *    one on the next call (the store holds no ephemeral znodes).
 *  - Fenced (store_options.zk_fence, the leader's ephemeral election znode): every write,
 *    single or not, is a multi whose first op checks that the fence exists, so a master
 *    whose session expired (its znode gone, another master elected) cannot write even if
 *    its store session is new: -EROFS.
 *  - Reads are made current with ZooKeeper's sync where it matters: at open (a new leader
 *    recovers everything the old one wrote), and before a version is asked afresh after
 *    the cache or the multi disagreed with the caller.
 *  - store_list reads the matching znodes into memory first, then calls back in key order:
 *    a callback may write or list again.
 */
#include "store/store-int.h"
#include "store/store-zk-int.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define THREADED /* the synchronous API of libzookeeper_mt */
#include <zookeeper/zookeeper.h>

#include "base/hmap.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/util.h"

#define ZK_DEFAULT_SESSION_MS 10000
#define ZK_MAX_TXN_OPS 4096
#define ZFENCE 1 /* send_multi: the fence's check failed (ZooKeeper's codes are <= 0) */

enum zop_kind { ZOP_CREATE, ZOP_SET, ZOP_DELETE };

struct zop {
	enum zop_kind kind;
	char *key;
	char *path;
	char *val;
	size_t len;
	int zkver;            /* expected dataVersion (set, delete) */
	uint64_t expected;    /* the caller's expected version (STORE_ANY_VERSION: any) */
	uint64_t new_version; /* the key's store version after this op (0: deleted) */
};

struct zkstore {
	struct store base; /* first: the engine-neutral handle */
	zhandle_t *zh;
	char *hosts;
	char *root;    /* "/berth" */
	char *kv;      /* "/berth/kv" */
	char *auth;    /* "user:pass" or NULL */
	unsigned session_ms;
	struct ACL acl_entries[2];
	struct ACL_vector acl;
	char *buf;
	int buf_len;
	bool in_txn;
	struct zop *ops;
	size_t nops, cap;
	/* key -> its store version + 1 as last read or written by us (1: absent), so a put in a
	 * transaction need not ask ZooKeeper first. Only a hint: the multi checks versions,
	 * and a multi that fails on one from here is resolved afresh and sent once more. */
	struct hmap vcache;
	bool used_cache;
	char *fence;    /* a znode every write requires (the leader's election znode) or NULL */
	char **buckets; /* bucket znodes known to exist */
	size_t nbuckets;
	struct store_stats stats;
	char errmsg[256];
};

#define ZS(b) ((struct zkstore *)(b))

static int zk_err(struct zkstore *s, int rc, const char *what, const char *key)
{
	if (rc == ZCONNECTIONLOSS || rc == ZSESSIONEXPIRED || rc == ZOPERATIONTIMEOUT ||
	    rc == ZINVALIDSTATE || rc == ZCLOSING)
		snprintf(s->errmsg, sizeof(s->errmsg),
			 "not connected to a ZooKeeper quorum at '%s' (%s: %s)", s->hosts, what,
			 zerror(rc));
	else
		snprintf(s->errmsg, sizeof(s->errmsg), "ZooKeeper %s '%s': %s", what,
			 key ? key : "", zerror(rc));
	log_debug("store", "%s", s->errmsg);
	switch (rc) {
	case ZNONODE:
		return -ENOENT;
	case ZNODEEXISTS:
	case ZBADVERSION:
		return -ESTALE;
	case ZNOAUTH:
	case ZAUTHFAILED:
		return -EACCES;
	case ZCONNECTIONLOSS:
	case ZSESSIONEXPIRED:
	case ZOPERATIONTIMEOUT:
	case ZINVALIDSTATE:
	case ZCLOSING:
		return -ENOTCONN;
	case ZSYSTEMERROR:
	case ZMARSHALLINGERROR:
		return -EIO;
	default:
		return -EIO;
	}
}

static int check_key(const char *key)
{
	if (!key || !*key)
		return -EINVAL;
	if (strlen(key) > STORE_MAX_KEY)
		return -E2BIG;
	return 0;
}

/* ---- the version cache ---- */

static void cache_set(struct zkstore *s, const char *key, uint64_t version)
{
	hmap_put(&s->vcache, key, (void *)(uintptr_t)(version + 1));
}

static void cache_forget(struct zkstore *s)
{
	hmap_release(&s->vcache);
}

/* ---- the session ---- */

static void on_watch(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	if (type != ZOO_SESSION_EVENT)
		return;
	if (state == ZOO_EXPIRED_SESSION_STATE)
		log_warn("store", "zookeeper session expired");
	else if (state == ZOO_AUTH_FAILED_STATE)
		log_error("store", "zookeeper refused the credentials (--zk-auth)");
}

/* The client library's own lines (reconnect attempts, …) are detail: debug level. */
static void on_zk_log(const char *message)
{
	log_debug("zk", "%s", message);
}

static bool connected(struct zkstore *s)
{
	return s->zh && zoo_state(s->zh) == ZOO_CONNECTED_STATE;
}

/* Starts a session and waits up to the session timeout for it. */
static int session_start(struct zkstore *s)
{
	if (s->zh) {
		zookeeper_close(s->zh);
		s->zh = NULL;
	}
	cache_forget(s);
	s->zh = zookeeper_init2(s->hosts, on_watch, (int)s->session_ms, NULL, s, 0, on_zk_log);
	if (!s->zh) {
		snprintf(s->errmsg, sizeof(s->errmsg), "zookeeper_init '%s': %s", s->hosts,
			 strerror(errno));
		return -EIO;
	}
	uint64_t deadline = time_mono_usec() + (uint64_t)s->session_ms * 1000;
	while (!connected(s)) {
		int st = zoo_state(s->zh);
		if (st == ZOO_AUTH_FAILED_STATE || st == ZOO_EXPIRED_SESSION_STATE ||
		    time_mono_usec() > deadline) {
			snprintf(s->errmsg, sizeof(s->errmsg),
				 "no ZooKeeper session with '%s' (state %d)", s->hosts, st);
			return -ENOTCONN;
		}
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (s->auth) {
		int rc = zoo_add_auth(s->zh, "digest", s->auth, (int)strlen(s->auth), NULL, NULL);
		if (rc != ZOK)
			return zk_err(s, rc, "add_auth", "");
	}
	return 0;
}

/* Before each call: -ENOTCONN unless the session is usable; an expired one is replaced
 * (that waits for the ensemble, up to the session timeout). */
static int ready(struct zkstore *s)
{
	if (connected(s))
		return 0;
	int st = s->zh ? zoo_state(s->zh) : ZOO_EXPIRED_SESSION_STATE;
	if (st == ZOO_EXPIRED_SESSION_STATE || st == ZOO_AUTH_FAILED_STATE) {
		log_info("store", "starting a new zookeeper session");
		return session_start(s);
	}
	snprintf(s->errmsg, sizeof(s->errmsg),
		 "not connected to a ZooKeeper quorum at '%s'", s->hosts);
	return -ENOTCONN;
}

/* ZooKeeper's sync: the server this session reads from catches up with the ensemble's
 * leader, so the reads that follow see every write acknowledged before (a read alone may
 * lag behind another client's write). Waits up to the session timeout. */
struct sync_wait {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	int rc;
};

static void on_sync(int rc, const char *value, const void *data)
{
	struct sync_wait *w = (struct sync_wait *)data;
	pthread_mutex_lock(&w->mu);
	w->rc = rc;
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static int zk_sync(struct zkstore *s, const char *path)
{
	struct sync_wait *w = xcalloc(1, sizeof(*w));
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	int rc = zoo_async(s->zh, path, on_sync, w);
	if (rc != ZOK) {
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
		free(w);
		return zk_err(s, rc, "sync", path);
	}
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += s->session_ms / 1000 + 1;
	pthread_mutex_lock(&w->mu);
	while (!w->done)
		if (pthread_cond_timedwait(&w->cv, &w->mu, &until) != 0)
			break;
	bool done = w->done;
	rc = w->rc;
	pthread_mutex_unlock(&w->mu);
	if (!done) {
		/* The completion still comes (at the latest when the session closes): w is
		 * left to it rather than freed under it. */
		snprintf(s->errmsg, sizeof(s->errmsg), "ZooKeeper sync '%s': no answer", path);
		return -ENOTCONN;
	}
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
	return rc == ZOK ? 0 : zk_err(s, rc, "sync", path);
}

/* Creates path with no data if absent. */
static int ensure_node(struct zkstore *s, const char *path)
{
	int rc = zoo_create(s->zh, path, NULL, -1, &s->acl, 0, NULL, 0);
	if (rc == ZOK || rc == ZNODEEXISTS)
		return 0;
	return zk_err(s, rc, "create", path);
}

static int ensure_bucket(struct zkstore *s, const char *key)
{
	_cleanup_free_ char *bp = zk_bucket_path(s->kv, key);
	for (size_t i = 0; i < s->nbuckets; i++)
		if (strcmp(s->buckets[i], bp) == 0)
			return 0;
	int r = ensure_node(s, bp);
	if (r < 0)
		return r;
	s->buckets = xrealloc(s->buckets, (s->nbuckets + 1) * sizeof(*s->buckets));
	s->buckets[s->nbuckets++] = xstrdup(bp);
	return 0;
}

/* Reads path's data into s->buf (grown as needed). */
static int read_node(struct zkstore *s, const char *path, int *len, struct Stat *st)
{
	for (;;) {
		int n = s->buf_len;
		int rc = zoo_get(s->zh, path, 0, s->buf, &n, st);
		if (rc != ZOK)
			return zk_err(s, rc, "get", path);
		if (st->dataLength <= s->buf_len) {
			*len = n < 0 ? 0 : n;
			return 0;
		}
		s->buf_len = st->dataLength;
		s->buf = xrealloc(s->buf, (size_t)s->buf_len + 1);
	}
}

static void stats_add(struct zkstore *s, uint64_t t0)
{
	uint64_t dt = time_mono_usec() - t0;
	s->stats.commits++;
	s->stats.commit_usec_total += dt;
	if (dt > s->stats.commit_usec_max)
		s->stats.commit_usec_max = dt;
}

/* ---- the transaction's queue ---- */

static const struct zop *txn_last(const struct zkstore *s, const char *key)
{
	for (size_t i = s->nops; i-- > 0;)
		if (strcmp(s->ops[i].key, key) == 0)
			return &s->ops[i];
	return NULL;
}

static void ops_clear(struct zkstore *s)
{
	for (size_t i = 0; i < s->nops; i++) {
		free(s->ops[i].key);
		free(s->ops[i].path);
		free(s->ops[i].val);
	}
	s->nops = 0;
}

/* The key's current store version (0: absent), the transaction's queue first, then the
 * cache unless fresh is set, then ZooKeeper. */
static int current_version(struct zkstore *s, const char *key, const char *path, uint64_t *v,
			   bool fresh)
{
	const struct zop *op = s->in_txn ? txn_last(s, key) : NULL;
	if (op) {
		*v = op->new_version;
		return 0;
	}
	if (fresh) {
		int sr = zk_sync(s, s->kv);
		if (sr < 0)
			return sr;
	}
	uintptr_t c = fresh ? 0 : (uintptr_t)hmap_get(&s->vcache, key);
	if (c) {
		*v = (uint64_t)c - 1;
		s->used_cache = true;
		return 0;
	}
	struct Stat st;
	int rc = zoo_exists(s->zh, path, 0, &st);
	if (rc == ZNONODE) {
		*v = 0;
		return 0;
	}
	if (rc != ZOK)
		return zk_err(s, rc, "exists", path);
	*v = (uint64_t)st.version + 1;
	return 0;
}

static struct zop *txn_push(struct zkstore *s, enum zop_kind kind, const char *key, char *path)
{
	if (s->nops == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->ops = xrealloc(s->ops, s->cap * sizeof(*s->ops));
	}
	struct zop *op = &s->ops[s->nops++];
	*op = (struct zop){ .kind = kind, .key = xstrdup(key), .path = path };
	return op;
}

/* ---- the calls ---- */

static int zk_get(struct store *b, const char *key, char **val, size_t *len, uint64_t *version)
{
	struct zkstore *s = ZS(b);
	int r = check_key(key);
	if (r < 0)
		return r;
	const struct zop *op = s->in_txn ? txn_last(s, key) : NULL;
	if (op) {
		if (op->kind == ZOP_DELETE)
			return -ENOENT;
		if (val)
			*val = xstrndup(op->val ? op->val : "", op->len);
		if (len)
			*len = op->len;
		if (version)
			*version = op->new_version;
		return 0;
	}
	r = ready(s);
	if (r < 0)
		return r;
	_cleanup_free_ char *path = zk_key_path(s->kv, key);
	struct Stat st;
	int n = 0;
	r = read_node(s, path, &n, &st);
	if (r == -ENOENT)
		cache_set(s, key, 0);
	if (r < 0)
		return r;
	cache_set(s, key, (uint64_t)st.version + 1);
	if (val) {
		char *copy = xmalloc((size_t)n + 1);
		memcpy(copy, s->buf, (size_t)n);
		copy[n] = '\0';
		*val = copy;
	}
	if (len)
		*len = (size_t)n;
	if (version)
		*version = (uint64_t)st.version + 1;
	return 0;
}

static int zk_txn_begin(struct store *b);
static int zk_txn_commit(struct store *b);
static void zk_txn_abort(struct store *b);

static int zk_put(struct store *b, const char *key, const void *val, size_t len,
		  uint64_t expected_version, uint64_t *new_version)
{
	struct zkstore *s = ZS(b);
	int r = check_key(key);
	if (r < 0)
		return r;
	if (len > STORE_MAX_VALUE)
		return -E2BIG;
	if (len && !val)
		return -EINVAL;
	if (s->fence && !s->in_txn) {
		/* Fenced: even a single write is a multi that checks the fence. */
		uint64_t nv = 0;
		zk_txn_begin(b);
		r = zk_put(b, key, val, len, expected_version, &nv);
		if (r < 0) {
			zk_txn_abort(b);
			return r;
		}
		r = zk_txn_commit(b);
		if (r >= 0 && new_version)
			*new_version = nv;
		return r;
	}
	r = ready(s);
	if (r < 0)
		return r;
	char *path = zk_key_path(s->kv, key);
	if (s->in_txn) {
		uint64_t cur = 0;
		r = current_version(s, key, path, &cur, false);
		if (r >= 0 && expected_version != STORE_ANY_VERSION && expected_version != cur) {
			/* A cached version may be stale: ask ZooKeeper before refusing. */
			hmap_del(&s->vcache, key);
			r = current_version(s, key, path, &cur, true);
			if (r >= 0 && expected_version != cur)
				r = -ESTALE;
		}
		if (r >= 0 && !cur)
			r = ensure_bucket(s, key);
		if (r >= 0 && s->nops >= ZK_MAX_TXN_OPS)
			r = -E2BIG;
		if (r < 0) {
			free(path);
			return r;
		}
		struct zop *op = txn_push(s, cur ? ZOP_SET : ZOP_CREATE, key, path);
		op->val = xmalloc(len ? len : 1);
		if (len)
			memcpy(op->val, val, len);
		op->len = len;
		op->zkver = cur ? (int)(cur - 1) : 0;
		op->new_version = cur + 1;
		op->expected = expected_version;
		if (new_version)
			*new_version = op->new_version;
		return 0;
	}

	uint64_t t0 = time_mono_usec();
	struct Stat st;
	int rc;
	for (int attempt = 0;; attempt++) {
		if (expected_version != 0) {
			int v = expected_version == STORE_ANY_VERSION ? -1 : (int)(expected_version - 1);
			rc = zoo_set2(s->zh, path, len ? val : "", (int)len, v, &st);
			if (rc == ZOK) {
				if (new_version)
					*new_version = (uint64_t)st.version + 1;
				cache_set(s, key, (uint64_t)st.version + 1);
				break;
			}
			if (rc != ZNONODE || expected_version != STORE_ANY_VERSION) {
				r = zk_err(s, rc == ZNONODE ? ZBADVERSION : rc, "set", key);
				goto out;
			}
		}
		r = ensure_bucket(s, key);
		if (r < 0)
			goto out;
		rc = zoo_create(s->zh, path, len ? val : "", (int)len, &s->acl, 0, NULL, 0);
		if (rc == ZOK) {
			if (new_version)
				*new_version = 1;
			cache_set(s, key, 1);
			break;
		}
		if (rc == ZNONODE && attempt < 2) {
			/* The bucket went away under us (another tool removed it): again. */
			s->nbuckets = 0;
			continue;
		}
		if (rc != ZNODEEXISTS || expected_version == 0 || attempt >= 2) {
			r = zk_err(s, rc, "create", key);
			goto out;
		}
		/* Created by someone else between our set and create: set it. */
	}
	stats_add(s, t0);
	r = 0;
out:
	if (r < 0)
		hmap_del(&s->vcache, key);
	free(path);
	return r;
}

static int zk_delete(struct store *b, const char *key, uint64_t expected_version)
{
	struct zkstore *s = ZS(b);
	int r = check_key(key);
	if (r < 0)
		return r;
	if (s->fence && !s->in_txn) {
		zk_txn_begin(b);
		r = zk_delete(b, key, expected_version);
		if (r < 0) {
			zk_txn_abort(b);
			return r;
		}
		return zk_txn_commit(b);
	}
	r = ready(s);
	if (r < 0)
		return r;
	char *path = zk_key_path(s->kv, key);
	if (s->in_txn) {
		uint64_t cur = 0;
		r = current_version(s, key, path, &cur, false);
		if (r >= 0 && (!cur || (expected_version != STORE_ANY_VERSION &&
					expected_version != cur))) {
			hmap_del(&s->vcache, key);
			r = current_version(s, key, path, &cur, true);
		}
		if (r >= 0 && !cur)
			r = -ENOENT;
		if (r >= 0 && expected_version != STORE_ANY_VERSION && expected_version != cur)
			r = -ESTALE;
		if (r >= 0 && s->nops >= ZK_MAX_TXN_OPS)
			r = -E2BIG;
		if (r < 0) {
			free(path);
			return r;
		}
		struct zop *op = txn_push(s, ZOP_DELETE, key, path);
		op->zkver = (int)(cur - 1);
		op->new_version = 0;
		op->expected = expected_version;
		return 0;
	}
	uint64_t t0 = time_mono_usec();
	int v = expected_version == STORE_ANY_VERSION ? -1 : (int)(expected_version - 1);
	int rc = zoo_delete(s->zh, path, v);
	free(path);
	if (rc != ZOK) {
		hmap_del(&s->vcache, key);
		return zk_err(s, rc, "delete", key);
	}
	cache_set(s, key, 0);
	stats_add(s, t0);
	return 0;
}


/* Reads one bucket's keys starting with prefix into es. */
static int list_bucket(struct zkstore *s, const char *bname, const char *seg, const char *prefix,
		       struct entries *es)
{
	_cleanup_free_ char *bp = xasprintf("%s/%s", s->kv, bname);
	struct String_vector kids = { 0, NULL };
	int rc = zoo_get_children(s->zh, bp, 0, &kids);
	if (rc == ZNONODE)
		return 0;
	if (rc != ZOK)
		return zk_err(s, rc, "get_children", bp);
	int r = 0;
	for (int i = 0; i < kids.count && r >= 0; i++) {
		if (kids.data[i][0] != 'k')
			continue;
		struct strbuf sb = STRBUF_INIT;
		strbuf_add(&sb, seg, strlen(seg));
		if (zk_dec_append(&sb, kids.data[i] + 1) < 0 ||
		    !str_has_prefix(strbuf_str(&sb), prefix)) {
			strbuf_release(&sb);
			continue;
		}
		char *key = strbuf_detach(&sb, NULL);
		_cleanup_free_ char *kp = xasprintf("%s/%s", bp, kids.data[i]);
		struct Stat st;
		int n = 0;
		r = read_node(s, kp, &n, &st);
		if (r == -ENOENT) { /* deleted since the listing */
			free(key);
			r = 0;
			continue;
		}
		if (r < 0) {
			free(key);
			break;
		}
		cache_set(s, key, (uint64_t)st.version + 1);
		zk_entries_add(es, key, s->buf, (size_t)n, (uint64_t)st.version + 1);
	}
	deallocate_String_vector(&kids);
	return r;
}

/* The transaction's queued writes over what was read: the last op per key wins. */
static void overlay_txn(struct zkstore *s, const char *prefix, struct entries *es)
{
	for (size_t i = 0; i < s->nops; i++) {
		const struct zop *op = &s->ops[i];
		if (!str_has_prefix(op->key, prefix) || txn_last(s, op->key) != op)
			continue;
		size_t j = 0;
		while (j < es->n && strcmp(es->v[j].key, op->key) != 0)
			j++;
		if (j < es->n) {
			free(es->v[j].key);
			free(es->v[j].val);
			es->v[j] = es->v[--es->n];
		}
		if (op->kind != ZOP_DELETE)
			zk_entries_add(es, xstrdup(op->key), op->val ? op->val : "", op->len,
				    op->new_version);
	}
}

static int zk_list(struct store *b, const char *prefix, store_list_fn cb, void *ctx)
{
	struct zkstore *s = ZS(b);
	if (!prefix)
		prefix = "";
	if (strlen(prefix) > STORE_MAX_KEY)
		return -E2BIG;
	int r = ready(s);
	if (r < 0)
		return r;
	struct String_vector buckets = { 0, NULL };
	int rc = zoo_get_children(s->zh, s->kv, 0, &buckets);
	if (rc != ZOK)
		return zk_err(s, rc, "get_children", s->kv);
	struct entries es = { 0 };
	for (int i = 0; i < buckets.count && r >= 0; i++) {
		const char *bn = buckets.data[i];
		struct strbuf seg = STRBUF_INIT;
		if (bn[0] != 'b' || zk_dec_append(&seg, bn + 1) < 0) {
			strbuf_release(&seg);
			continue;
		}
		const char *sg = strbuf_str(&seg);
		if (str_has_prefix(sg, prefix) || str_has_prefix(prefix, sg))
			r = list_bucket(s, bn, sg, prefix, &es);
		strbuf_release(&seg);
	}
	deallocate_String_vector(&buckets);
	if (r >= 0 && s->in_txn)
		overlay_txn(s, prefix, &es);
	if (r >= 0) {
		if (es.n)
			qsort(es.v, es.n, sizeof(*es.v), zk_entry_cmp);
		for (size_t i = 0; i < es.n; i++) {
			r = cb(es.v[i].key, es.v[i].val, es.v[i].len, es.v[i].version, ctx);
			if (r != 0)
				break;
		}
	}
	zk_entries_free(&es);
	return r;
}

static int zk_txn_begin(struct store *b)
{
	struct zkstore *s = ZS(b);
	if (s->in_txn)
		return -EBUSY;
	s->in_txn = true;
	s->nops = 0;
	s->used_cache = false;
	return 0;
}

/* Sends the queue as one multi: ZOK, or the code of the op that failed (*key: its key). */
static int send_multi(struct zkstore *s, const char **key)
{
	int f = s->fence ? 1 : 0; /* the fence's check comes first */
	int n = (int)s->nops + f;
	zoo_op_t *ops = xcalloc((size_t)n, sizeof(*ops));
	zoo_op_result_t *res = xcalloc((size_t)n, sizeof(*res));
	if (f)
		zoo_check_op_init(&ops[0], s->fence, -1);
	for (int i = f; i < n; i++) {
		struct zop *op = &s->ops[i - f];
		switch (op->kind) {
		case ZOP_CREATE:
			zoo_create_op_init(&ops[i], op->path, op->len ? op->val : "", (int)op->len,
					   &s->acl, 0, NULL, 0);
			break;
		case ZOP_SET:
			zoo_set_op_init(&ops[i], op->path, op->len ? op->val : "", (int)op->len,
					op->zkver, NULL);
			break;
		case ZOP_DELETE:
			zoo_delete_op_init(&ops[i], op->path, op->zkver);
			break;
		}
	}
	int rc = zoo_multi(s->zh, n, ops, res);
	*key = "";
	if (rc != ZOK) {
		/* Name the op that failed, not the multi's summary. */
		for (int i = 0; i < n; i++)
			if (res[i].err != ZOK && res[i].err != ZRUNTIMEINCONSISTENCY) {
				rc = res[i].err;
				if (i < f)
					rc = ZFENCE;
				else
					*key = s->ops[i - f].key;
				break;
			}
	}
	free(ops);
	free(res);
	return rc;
}

/* After a multi refused versions taken from the cache: each op's version again, from
 * ZooKeeper and the ops before it, checked against what its caller expected. */
static int resolve_again(struct zkstore *s)
{
	int sr = zk_sync(s, s->kv);
	if (sr < 0)
		return sr;
	for (size_t i = 0; i < s->nops; i++) {
		struct zop *op = &s->ops[i];
		uint64_t cur = 0;
		bool found = false;
		for (size_t j = i; j-- > 0;)
			if (strcmp(s->ops[j].key, op->key) == 0) {
				cur = s->ops[j].new_version;
				found = true;
				break;
			}
		if (!found) {
			struct Stat st;
			int rc = zoo_exists(s->zh, op->path, 0, &st);
			if (rc == ZOK)
				cur = (uint64_t)st.version + 1;
			else if (rc != ZNONODE)
				return zk_err(s, rc, "exists", op->key);
		}
		if (op->expected != STORE_ANY_VERSION && op->expected != cur)
			return zk_err(s, ZBADVERSION, "multi", op->key);
		if (op->kind == ZOP_DELETE) {
			if (!cur)
				return zk_err(s, ZNONODE, "multi", op->key);
			op->zkver = (int)(cur - 1);
			continue;
		}
		if (!cur) {
			int r = ensure_bucket(s, op->key);
			if (r < 0)
				return r;
		}
		op->kind = cur ? ZOP_SET : ZOP_CREATE;
		op->zkver = cur ? (int)(cur - 1) : 0;
		op->new_version = cur + 1;
	}
	return 0;
}

static int zk_txn_commit(struct store *b)
{
	struct zkstore *s = ZS(b);
	if (!s->in_txn)
		return -EINVAL;
	s->in_txn = false;
	if (!s->nops)
		return 0;
	int r = ready(s);
	if (r < 0) {
		ops_clear(s);
		return r;
	}
	uint64_t t0 = time_mono_usec();
	const char *key = "";
	int rc = send_multi(s, &key);
	if ((rc == ZBADVERSION || rc == ZNONODE || rc == ZNODEEXISTS) && s->used_cache) {
		cache_forget(s);
		r = resolve_again(s);
		if (r < 0) {
			ops_clear(s);
			return r;
		}
		rc = send_multi(s, &key);
	}
	if (rc == ZFENCE) {
		snprintf(s->errmsg, sizeof(s->errmsg),
			 "this master is no longer the leader (its election znode '%s' is gone)",
			 s->fence);
		ops_clear(s);
		return -EROFS;
	}
	if (rc == ZOK) {
		stats_add(s, t0);
		for (size_t i = 0; i < s->nops; i++)
			cache_set(s, s->ops[i].key, s->ops[i].new_version);
		r = 0;
	} else {
		cache_forget(s);
		r = zk_err(s, rc, "multi", key);
	}
	ops_clear(s);
	return r;
}

static void zk_txn_abort(struct store *b)
{
	struct zkstore *s = ZS(b);
	if (!s->in_txn)
		return;
	ops_clear(s);
	s->in_txn = false;
}

static void zk_get_stats(const struct store *b, struct store_stats *out)
{
	*out = ((const struct zkstore *)b)->stats;
}

static const char *zk_errmsg(const struct store *b)
{
	return ((const struct zkstore *)b)->errmsg;
}

static bool zk_reachable(const struct store *b)
{
	return connected((struct zkstore *)b);
}

static void zk_close(struct store *b)
{
	struct zkstore *s = ZS(b);
	ops_clear(s);
	free(s->ops);
	hmap_release(&s->vcache);
	if (s->zh)
		zookeeper_close(s->zh);
	for (size_t i = 0; i < s->nbuckets; i++)
		free(s->buckets[i]);
	free(s->buckets);
	free(s->hosts);
	free(s->root);
	free(s->kv);
	free(s->auth);
	free(s->fence);
	free(s->buf);
	free(s);
}

static const struct store_ops zk_ops = {
	.close = zk_close,
	.get = zk_get,
	.put = zk_put,
	.del = zk_delete,
	.list = zk_list,
	.txn_begin = zk_txn_begin,
	.txn_commit = zk_txn_commit,
	.txn_abort = zk_txn_abort,
	.get_stats = zk_get_stats,
	.errmsg = zk_errmsg,
	.reachable = zk_reachable,
};

/* "zk://h1:p1,h2:p2/path": hosts and an absolute path with no empty component. */
static int parse_url(const char *url, char **hosts, char **root)
{
	const char *h = url + strlen("zk://");
	const char *slash = strchr(h, '/');
	if (!slash || slash == h || !slash[1])
		return -EINVAL;
	size_t n = strlen(slash);
	while (n > 1 && slash[n - 1] == '/')
		n--;
	if (strstr(slash, "//"))
		return -EINVAL;
	*hosts = xstrndup(h, (size_t)(slash - h));
	*root = xstrndup(slash, n);
	return 0;
}

int store_zk_open(const char *url, const struct store_options *o, struct store **out)
{
	*out = NULL;
	char *hosts = NULL, *root = NULL;
	if (parse_url(url, &hosts, &root) < 0) {
		log_error("store", "bad ZooKeeper URL '%s': want zk://HOST:PORT[,HOST:PORT...]/PATH",
			  url);
		return -EINVAL;
	}
	if (o->zk_auth && !strchr(o->zk_auth, ':')) {
		log_error("store", "--zk-auth wants USER:PASSWORD");
		free(hosts);
		free(root);
		return -EINVAL;
	}
	static bool log_set;
	if (!log_set) {
		zoo_set_debug_level(ZOO_LOG_LEVEL_WARN);
		log_set = true;
	}
	struct zkstore *s = xcalloc(1, sizeof(*s));
	s->base.ops = &zk_ops;
	s->hosts = hosts;
	s->root = root;
	s->kv = xasprintf("%s/kv", root);
	s->session_ms = o->zk_session_timeout_ms ? o->zk_session_timeout_ms : ZK_DEFAULT_SESSION_MS;
	s->buf_len = 64 * 1024;
	s->buf = xmalloc((size_t)s->buf_len + 1);
	if (o->zk_fence)
		s->fence = xstrdup(o->zk_fence);
	if (o->zk_auth) {
		s->auth = xstrdup(o->zk_auth);
		/* The authenticated identity may do anything; everyone else may read (Mesos's
		 * detectors read the leader's znode). */
		s->acl_entries[0] = (struct ACL){ ZOO_PERM_ALL, ZOO_AUTH_IDS };
		s->acl_entries[1] = (struct ACL){ ZOO_PERM_READ, ZOO_ANYONE_ID_UNSAFE };
		s->acl = (struct ACL_vector){ 2, s->acl_entries };
	} else {
		s->acl = ZOO_OPEN_ACL_UNSAFE;
	}
	int r = session_start(s);
	/* The root's ancestors, the root, its kv. */
	for (char *p = s->root + 1; r >= 0 && (p = strchr(p, '/')); p++) {
		*p = '\0';
		r = ensure_node(s, s->root);
		*p = '/';
	}
	if (r >= 0)
		r = ensure_node(s, s->root);
	if (r >= 0)
		r = ensure_node(s, s->kv);
	/* What the previous leader wrote is all visible to the first reads (its recovery). */
	if (r >= 0)
		r = zk_sync(s, s->kv);
	if (r < 0) {
		log_error("store", "cannot open '%s': %s", url, s->errmsg);
		zk_close(&s->base);
		return r;
	}
	*out = &s->base;
	return 0;
}
