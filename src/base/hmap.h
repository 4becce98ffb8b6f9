/* A string-keyed hash map (open addressing, linear probing, tombstones, at most 5/8 of the
 * slots used). Keys are copied; values are borrowed pointers the caller owns. Iteration
 * order is unspecified.
 *
 * Growth is incremental: the bigger table is allocated and each later hmap_put moves a few
 * dozen slots of the old one over (old, old_cap, old_next), so that no single call costs
 * O(entries) (a 1,000,000-entry rehash held the event loop for half a second). Until the
 * move is over a key is in exactly one of the two tables; lookups try the new one, then the
 * old. Moved slots of the old table become tombstones. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hmap_slot {
	char *key; /* NULL = empty; HMAP_TOMB = deleted */
	void *val;
	uint64_t hash; /* of key, compared before the key (ids often share long prefixes) */
};

struct hmap {
	struct hmap_slot *slots;
	size_t cap;  /* power of two, 0 before the first insert */
	size_t len;  /* live keys */
	size_t used; /* live keys + tombstones (of slots) */
	struct hmap_slot *old; /* the table being moved into slots, or NULL */
	size_t old_cap;
	size_t old_next; /* old[0..old_next) are moved */
	size_t old_live; /* live keys still in old */
};

#define HMAP_INIT { NULL, 0, 0, 0, NULL, 0, 0, 0 }

/* The project's one non-cryptographic hash, of n bytes at p (any bytes, NULs included; n
 * may be 0, p is then not read). Eight bytes per step and a murmur3 finalizer, so every bit
 * of the input reaches the low bits. Not FNV, not stable across versions: use it for
 * in-memory tables and fingerprints only, never for a value stored or sent elsewhere. To
 * hash several values, put them in one buffer (a previous hash may be one of them). */
uint64_t hmap_hash_bytes(const void *p, size_t n);
/* hmap_hash_bytes of the string s without its NUL: the hash the map uses for key s. */
uint64_t hmap_hash(const char *s);
void hmap_init(struct hmap *m);
/* Frees the keys and the table, leaving the map empty and usable; the values are the
 * caller's. */
void hmap_release(struct hmap *m);
void *hmap_get(const struct hmap *m, const char *key);
/* Sets key to val; returns the previous value or NULL. */
void *hmap_put(struct hmap *m, const char *key, void *val);
/* Removes key; returns its value or NULL. */
void *hmap_del(struct hmap *m, const char *key);
static inline size_t hmap_len(const struct hmap *m) { return m->len; }

/* Iteration: for (size_t i = 0; hmap_next(m, &i, &k, &v);) … — safe to hmap_del the current
 * key; a hmap_put during the loop may make it see a key twice or miss one. */
bool hmap_next(const struct hmap *m, size_t *iter, const char **key, void **val);
