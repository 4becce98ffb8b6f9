#include "base/hmap.h"

#include <stdint.h>
#include <string.h>

#include "base/mem.h"

static char tomb;
#define HMAP_TOMB (&tomb)

/* Eight bytes at a time (ids share long prefixes and are hashed at every lookup), then
 * murmur3's finalizer so that every bit of the key reaches the low bits the table uses. */
uint64_t hmap_hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
	for (; n >= 8; n -= 8, s += 8) {
		uint64_t w;
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	uint64_t w = 0;
	if (n) /* s may be NULL when n is 0 */
		memcpy(&w, s, n);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

uint64_t hmap_hash(const char *s)
{
	return hmap_hash_bytes(s, strlen(s));
}

void hmap_init(struct hmap *m)
{
	memset(m, 0, sizeof(*m));
}

void hmap_release(struct hmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key && m->slots[i].key != HMAP_TOMB)
			free(m->slots[i].key);
	free(m->slots);
	hmap_init(m);
}

static struct hmap_slot *find(const struct hmap *m, const char *key, uint64_t h)
{
	if (!m->cap)
		return NULL;
	size_t mask = m->cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct hmap_slot *s = &m->slots[i];
		if (!s->key)
			return NULL;
		if (s->hash == h && s->key != HMAP_TOMB && !strcmp(s->key, key))
			return s;
	}
}

void *hmap_get(const struct hmap *m, const char *key)
{
	struct hmap_slot *s = m->len ? find(m, key, hmap_hash(key)) : NULL;
	return s ? s->val : NULL;
}

static void rehash(struct hmap *m, size_t ncap)
{
	struct hmap_slot *old = m->slots;
	size_t ocap = m->cap;
	m->slots = xcalloc(ncap, sizeof(*m->slots));
	m->cap = ncap;
	m->used = m->len;
	for (size_t i = 0; i < ocap; i++) {
		if (!old[i].key || old[i].key == HMAP_TOMB)
			continue;
		size_t j = old[i].hash & (ncap - 1);
		while (m->slots[j].key)
			j = (j + 1) & (ncap - 1);
		m->slots[j] = old[i];
	}
	free(old);
}

void *hmap_put(struct hmap *m, const char *key, void *val)
{
	uint64_t h = hmap_hash(key);
	struct hmap_slot *s = find(m, key, h);
	if (s) {
		void *prev = s->val;
		s->val = val;
		return prev;
	}
	if ((m->used + 1) * 8 >= m->cap * 5)
		rehash(m, m->cap ? ((m->len + 1) * 4 >= m->cap ? m->cap * 2 : m->cap) : 16);
	size_t mask = m->cap - 1;
	size_t i = h & mask;
	while (m->slots[i].key && m->slots[i].key != HMAP_TOMB)
		i = (i + 1) & mask;
	if (!m->slots[i].key)
		m->used++;
	m->slots[i].key = xstrdup(key);
	m->slots[i].val = val;
	m->slots[i].hash = h;
	m->len++;
	return NULL;
}

void *hmap_del(struct hmap *m, const char *key)
{
	struct hmap_slot *s = m->len ? find(m, key, hmap_hash(key)) : NULL;
	if (!s)
		return NULL;
	void *v = s->val;
	free(s->key);
	s->key = HMAP_TOMB;
	s->val = NULL;
	m->len--;
	return v;
}

bool hmap_next(const struct hmap *m, size_t *iter, const char **key, void **val)
{
	for (; *iter < m->cap; (*iter)++) {
		struct hmap_slot *s = &m->slots[*iter];
		if (s->key && s->key != HMAP_TOMB) {
			if (key)
				*key = s->key;
			if (val)
				*val = s->val;
			(*iter)++;
			return true;
		}
	}
	return false;
}
