#include "base/hmap.h"

#include <stdint.h>
#include <string.h>

#include "base/mem.h"

static char tomb;
#define HMAP_TOMB (&tomb)

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
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
	struct hmap_slot *s = m->len ? find(m, key, hash(key)) : NULL;
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
	uint64_t h = hash(key);
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
	struct hmap_slot *s = m->len ? find(m, key, hash(key)) : NULL;
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
