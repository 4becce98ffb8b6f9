/* Key <-> znode names of the ZooKeeper store engine, and the entries a walk gathers (see
 * store-zk-int.h). */
#include "store/store-zk-int.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"


static bool plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == ':' || c == '@' || c == '-';
}

static void enc_append(struct strbuf *sb, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (plain(c))
			strbuf_add(sb, (const char *)&p[i], 1);
		else
			strbuf_addf(sb, "%%%02X", c);
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes name (without its b/k tag) onto sb; -EINVAL for a name berth did not write. */
int zk_dec_append(struct strbuf *sb, const char *name)
{
	for (const char *p = name; *p; p++) {
		if (*p != '%') {
			strbuf_add(sb, p, 1);
			continue;
		}
		int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		char c = (char)(hi * 16 + lo);
		strbuf_add(sb, &c, 1);
		p += 2;
	}
	return 0;
}

static size_t seg_len(const char *key)
{
	const char *sl = strchr(key, '/');
	return sl ? (size_t)(sl - key) + 1 : strlen(key);
}

char *zk_bucket_path(const char *kv, const char *key)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s/b", kv);
	enc_append(&sb, key, seg_len(key));
	return strbuf_detach(&sb, NULL);
}

char *zk_key_path(const char *kv, const char *key)
{
	size_t n = seg_len(key);
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s/b", kv);
	enc_append(&sb, key, n);
	strbuf_add(&sb, "/k", 2);
	enc_append(&sb, key + n, strlen(key + n));
	return strbuf_detach(&sb, NULL);
}

int zk_entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	return strcmp(x->key, y->key);
}


void zk_entries_add(struct entries *es, char *key, const char *val, size_t len,
			uint64_t version)
{
	if (es->n == es->cap) {
		es->cap = es->cap ? es->cap * 2 : 64;
		es->v = xrealloc(es->v, es->cap * sizeof(*es->v));
	}
	char *copy = xmalloc(len + 1);
	memcpy(copy, val, len);
	copy[len] = '\0';
	es->v[es->n++] = (struct entry){ key, copy, len, version };
}

void zk_entries_free(struct entries *es)
{
	for (size_t i = 0; i < es->n; i++) {
		free(es->v[i].key);
		free(es->v[i].val);
	}
	free(es->v);
}
