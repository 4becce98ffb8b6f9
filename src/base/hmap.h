/* A string-keyed hash map (open addressing, linear probing, tombstones, at most 5/8 of the
 * slots used). Keys are copied; values are borrowed pointers the caller owns. Iteration
 * order is unspecified. */
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
	size_t used; /* live keys + tombstones */
};

#define HMAP_INIT { NULL, 0, 0, 0 }

/* The hash of a key, as the map computes it (for fingerprints elsewhere). */
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

/* Iteration: for (size_t i = 0; hmap_next(m, &i, &k, &v);) … — safe to hmap_del the current key. */
bool hmap_next(const struct hmap *m, size_t *iter, const char **key, void **val);
