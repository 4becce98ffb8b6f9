/* A counted set of small unsigned integers (an app's instance indexes): how many members
 * hold each index, and the lowest index nobody holds, in time that does not grow with the
 * number of members (a bitmap of held indexes and a summary bitmap of full 64-index words:
 * the lowest free index is found by scanning one bit per 4,096 indexes).
 *
 * Invariants: count[i] > 0 exactly when bit i of held is set; bit w of full is set exactly
 * when word w of held is all ones. Memory: 4 bytes and 1 bit per index up to the highest
 * one ever added. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct idxset {
	uint32_t *count;   /* per index: members holding it */
	uint64_t *held;    /* bit per index: count > 0 */
	uint64_t *full;    /* bit per word of held: all 64 held */
	size_t cap;        /* indexes covered (a multiple of 4,096) */
	size_t from;       /* every word of full below this one is all ones */
};

#define IDXSET_INIT { NULL, NULL, NULL, 0, 0 }

void idxset_init(struct idxset *s);
void idxset_release(struct idxset *s);
/* One more member holds index i. */
void idxset_add(struct idxset *s, unsigned i);
/* One member less holds index i (which must be held). */
void idxset_del(struct idxset *s, unsigned i);
/* How many members hold index i. */
uint32_t idxset_count(const struct idxset *s, unsigned i);
/* The lowest index no member holds (remembers where the search may start next time, so
 * filling indexes one after another costs O(1) each). */
unsigned idxset_lowest_free(struct idxset *s);
/* The lowest index >= from that no member holds (an app's index offset). Cost: the words
 * from from's to the answer, skipping full 4,096-index chunks. */
unsigned idxset_lowest_free_from(const struct idxset *s, unsigned from);
