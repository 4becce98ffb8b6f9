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
	for (size_t i = 0; i < m->old_cap; i++)
		if (m->old[i].key && m->old[i].key != HMAP_TOMB)
			free(m->old[i].key);
	free(m->slots);
	free(m->old);
	hmap_init(m);
}

static struct hmap_slot *find_in(struct hmap_slot *slots, size_t cap, const char *key,
				 uint64_t h)
{
	if (!cap)
		return NULL;
	size_t mask = cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct hmap_slot *s = &slots[i];
		if (!s->key)
			return NULL;
		if (s->hash == h && s->key != HMAP_TOMB && !strcmp(s->key, key))
			return s;
	}
}

static struct hmap_slot *find(const struct hmap *m, const char *key, uint64_t h)
{
	struct hmap_slot *s = find_in(m->slots, m->cap, key, h);
	if (!s && m->old)
		s = find_in(m->old, m->old_cap, key, h);
	return s;
}

/* Puts a slot's key, value and hash into the current table (the key not in it, room
 * assured). */
static void place(struct hmap *m, const struct hmap_slot *from)
{
	size_t mask = m->cap - 1;
	size_t j = from->hash & mask;
	while (m->slots[j].key && m->slots[j].key != HMAP_TOMB)
		j = (j + 1) & mask;
	if (!m->slots[j].key)
		m->used++;
	m->slots[j] = *from;
}

/* Moves up to n slots of the old table into the current one; frees it once all are. */
static void move_some(struct hmap *m, size_t n)
{
	for (; m->old && n; n--) {
		if (m->old_next == m->old_cap) {
			free(m->old);
			m->old = NULL;
			m->old_cap = m->old_next = m->old_live = 0;
			return;
		}
		struct hmap_slot *s = &m->old[m->old_next++];
		if (s->key && s->key != HMAP_TOMB) {
			place(m, s);
			m->old_live--;
			s->key = HMAP_TOMB; /* keeps the old table's probes going */
			s->val = NULL;
		}
	}
}

void *hmap_get(const struct hmap *m, const char *key)
{
	struct hmap_slot *s = m->len ? find(m, key, hmap_hash(key)) : NULL;
	return s ? s->val : NULL;
}

/* Starts moving every entry into a table of ncap slots: the current table becomes the old
 * one (a move under way is finished first). */
static void grow(struct hmap *m, size_t ncap)
{
	move_some(m, SIZE_MAX);
	m->old = m->slots;
	m->old_cap = m->cap;
	m->old_next = 0;
	m->old_live = m->len;
	m->slots = xcalloc(ncap, sizeof(*m->slots));
	m->cap = ncap;
	m->used = 0;
	if (!m->old_cap) {
		free(m->old);
		m->old = NULL;
	}
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
	/* Room for every live key (some may still be in the old table) and this one. */
	if ((m->used + m->old_live + 1) * 8 >= m->cap * 5)
		grow(m, m->cap ? ((m->len + 1) * 4 >= m->cap ? m->cap * 2 : m->cap) : 16);
	move_some(m, 64);
	struct hmap_slot e = { xstrdup(key), val, h };
	place(m, &e);
	m->len++;
	return NULL;
}

void *hmap_del(struct hmap *m, const char *key)
{
	struct hmap_slot *s = m->len ? find(m, key, hmap_hash(key)) : NULL;
	if (!s)
		return NULL;
	void *v = s->val;
	if (m->old && s >= m->old && s < m->old + m->old_cap)
		m->old_live--;
	free(s->key);
	s->key = HMAP_TOMB;
	s->val = NULL;
	m->len--;
	return v;
}

bool hmap_next(const struct hmap *m, size_t *iter, const char **key, void **val)
{
	/* Positions [0, cap) are the current table's, [cap, cap + old_cap) the old one's. */
	for (; *iter < m->cap + m->old_cap; (*iter)++) {
		struct hmap_slot *s = *iter < m->cap ? &m->slots[*iter] : &m->old[*iter - m->cap];
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
