/* The store's entry points: pick the engine by the URL's scheme, then dispatch. */
#include "store/store-int.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "base/util.h"

/* Records whether a call's result means the engine could not be reached. */
static int note(struct store *s, int r)
{
	if (r == -EIO || r == -ENOTCONN || r == -EBUSY || r == -ENOSPC || r == -EROFS)
		s->unreachable = r;
	else
		s->unreachable = 0;
	return r;
}

int store_open(const char *url, struct store **out)
{
	return store_open_opts(url, NULL, out);
}

int store_open_opts(const char *url, const struct store_options *o, struct store **out)
{
	static const struct store_options defaults = { 0 };
	*out = NULL;
	if (!url)
		return -EINVAL;
	if (str_has_prefix(url, "sqlite:"))
		return store_sqlite_open(url, out);
	if (str_has_prefix(url, "zk://"))
		return store_zk_open(url, o ? o : &defaults, out);
	return -EINVAL;
}

void store_close(struct store *s)
{
	if (s)
		s->ops->close(s);
}

int store_get(struct store *s, const char *key, char **val, size_t *len, uint64_t *version)
{
	return note(s, s->ops->get(s, key, val, len, version));
}

int store_put(struct store *s, const char *key, const void *val, size_t len,
	      uint64_t expected_version, uint64_t *new_version)
{
	return note(s, s->ops->put(s, key, val, len, expected_version, new_version));
}

int store_delete(struct store *s, const char *key, uint64_t expected_version)
{
	return note(s, s->ops->del(s, key, expected_version));
}

int store_list(struct store *s, const char *prefix, store_list_fn cb, void *ctx)
{
	return note(s, s->ops->list(s, prefix, cb, ctx));
}

int store_txn_begin(struct store *s)
{
	return s->ops->txn_begin(s);
}

int store_txn_commit(struct store *s)
{
	return note(s, s->ops->txn_commit(s));
}

void store_txn_abort(struct store *s)
{
	s->ops->txn_abort(s);
}

void store_get_stats(const struct store *s, struct store_stats *out)
{
	s->ops->get_stats(s, out);
}

const char *store_errmsg(const struct store *s)
{
	return s->ops->errmsg(s);
}

int store_unreachable_err(const struct store *s)
{
	if (s->unreachable)
		return s->unreachable;
	if (s->ops->reachable && !s->ops->reachable(s))
		return -ENOTCONN;
	return 0;
}

bool store_healthy(const struct store *s)
{
	return store_unreachable_err(s) == 0;
}

int store_probe(struct store *s)
{
	char *val = NULL;
	int r = store_get(s, "berth-store-probe", &val, NULL, NULL);
	free(val);
	return r;
}
