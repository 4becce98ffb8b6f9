/* The per-task fragment cache of /master/state (state-cache.c, issue 12). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "master/rm.h"
#include "net/http-cond.h"

struct m_agent;
struct state_cache;

/* One task's cached legacy rendering: ',' and state_json_task(t, a, false)'s bytes, and
 * the task's user (or NULL) for the view ACLs. */
struct sc_task {
	uint64_t key;   /* fingerprint of everything state_json_task read */
	uint64_t seen;  /* the walk that last asked for it */
	struct http_piece *piece;
	char *user;
};

struct state_cache *state_cache_new(void);
void state_cache_free(struct state_cache *c); /* NULL is fine */
/* The cached rendering of t on agent a (may be NULL), rendered again when anything it is
 * rendered from changed. Takes t->discovery, as state_json_task does. Valid until the next
 * state_cache_sweep. */
struct sc_task *state_cache_task(struct state_cache *c, const struct rm_task_view *t,
				 const struct m_agent *a);
/* Ends a walk: forgets the tasks it did not ask for (gone ones). */
void state_cache_sweep(struct state_cache *c);
/* BERTH_RENDER_VERIFY (or state_cache_set_verify): every hit is rendered again and
 * compared; a stale one is logged, counted and replaced. */
bool state_cache_verifying(void);
void state_cache_set_verify(bool on);
void state_cache_count_stale(struct state_cache *c);
unsigned long state_cache_stale(const struct state_cache *c);
size_t state_cache_len(const struct state_cache *c);
