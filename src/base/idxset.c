/* A counted set of small unsigned integers (idxset.h). */
#include <assert.h>
#include <string.h>

#include "base/idxset.h"
#include "base/mem.h"

#define WORD_BITS 64u
#define CHUNK (WORD_BITS * WORD_BITS) /* indexes per word of the summary */

void idxset_init(struct idxset *s)
{
	memset(s, 0, sizeof(*s));
}

void idxset_release(struct idxset *s)
{
	free(s->count);
	free(s->held);
	free(s->full);
	idxset_init(s);
}

static void grow(struct idxset *s, unsigned i)
{
	if (i < s->cap)
		return;
	size_t cap = s->cap ? s->cap : CHUNK;
	while (cap <= i)
		cap *= 2;
	s->count = xrealloc(s->count, cap * sizeof(*s->count));
	memset(s->count + s->cap, 0, (cap - s->cap) * sizeof(*s->count));
	s->held = xrealloc(s->held, cap / WORD_BITS * sizeof(*s->held));
	memset(s->held + s->cap / WORD_BITS, 0, (cap - s->cap) / WORD_BITS * sizeof(*s->held));
	s->full = xrealloc(s->full, cap / CHUNK * sizeof(*s->full));
	memset(s->full + s->cap / CHUNK, 0, (cap - s->cap) / CHUNK * sizeof(*s->full));
	s->cap = cap;
}

void idxset_add(struct idxset *s, unsigned i)
{
	grow(s, i);
	if (s->count[i]++)
		return;
	size_t w = i / WORD_BITS;
	s->held[w] |= 1ull << (i % WORD_BITS);
	if (s->held[w] == UINT64_MAX)
		s->full[w / WORD_BITS] |= 1ull << (w % WORD_BITS);
}

void idxset_del(struct idxset *s, unsigned i)
{
	assert(i < s->cap && s->count[i] > 0);
	if (--s->count[i])
		return;
	size_t w = i / WORD_BITS;
	s->held[w] &= ~(1ull << (i % WORD_BITS));
	s->full[w / WORD_BITS] &= ~(1ull << (w % WORD_BITS));
	if (w / WORD_BITS < s->from)
		s->from = w / WORD_BITS;
}

uint32_t idxset_count(const struct idxset *s, unsigned i)
{
	return i < s->cap ? s->count[i] : 0;
}

unsigned idxset_lowest_free(struct idxset *s)
{
	for (size_t f = s->from; f < s->cap / CHUNK; f++) {
		if (s->full[f] == UINT64_MAX)
			continue;
		s->from = f;
		size_t w = f * WORD_BITS + (size_t)__builtin_ctzll(~s->full[f]);
		return (unsigned)(w * WORD_BITS + (size_t)__builtin_ctzll(~s->held[w]));
	}
	s->from = s->cap / CHUNK;
	return (unsigned)s->cap;
}

unsigned idxset_lowest_free_from(const struct idxset *s, unsigned from)
{
	if (from >= s->cap)
		return from;
	size_t w = from / WORD_BITS;
	uint64_t free_bits = ~s->held[w] & (UINT64_MAX << (from % WORD_BITS));
	if (free_bits)
		return (unsigned)(w * WORD_BITS + (size_t)__builtin_ctzll(free_bits));
	for (w++; w < s->cap / WORD_BITS;) {
		if (w % WORD_BITS == 0 && s->full[w / WORD_BITS] == UINT64_MAX) {
			w += WORD_BITS; /* a whole chunk held */
			continue;
		}
		if (s->held[w] != UINT64_MAX)
			return (unsigned)(w * WORD_BITS + (size_t)__builtin_ctzll(~s->held[w]));
		w++;
	}
	return (unsigned)s->cap;
}
