/* The per-task fragment cache of /master/state (state-cache.c, issue 12). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "master/rm.h"
#include "net/http-cond.h"

struct m_agent;
struct state_cache;

/* One task's cached legacy rendering: ',' and state_json_task(t, a, false)'s bytes, and
 * the task's user (or NULL) for the view ACLs; and its v1 rendering when asked for (v1). */
struct sc_task {
	uint64_t key;   /* fingerprint of everything state_json_task read */
	uint64_t seen;  /* the walk that last asked for it */
	struct http_piece *piece;
	uint64_t key_v1; /* the same for the v1 rendering (state_json_task(t, a, true)) */
	struct http_piece *v1;
	char *user;
	/* for /master/tasks and /state-summary (legacy-cache.c), set at each rendering: the
	 * legacy statuses[0].timestamp (0 without statuses), the state and the agent id */
	double time;
	char *state, *agent_id;
};

/* An agent's cached renderings, one per shape: GET_AGENTS's entry (state_json_v1_agent),
 * /master/state's slave, /master/slaves's entry. */
enum { SC_AGENT_V1, SC_AGENT_LEGACY, SC_AGENT_SLAVES, SC_AGENT_SHAPES };

struct state_cache *state_cache_new(void);
void state_cache_free(struct state_cache *c); /* NULL is fine */
/* The cached rendering of t on agent a (may be NULL), rendered again when anything it is
 * rendered from changed. Takes t->discovery, as state_json_task does. Valid until the next
 * state_cache_sweep. */
struct sc_task *state_cache_task(struct state_cache *c, const struct rm_task_view *t,
				 const struct m_agent *a, bool v1);
/* The concatenation of the n tasks' pieces (each with its lead; the piece's lead is the
 * first's), kept for list (0..2) of framework fw_id while the same contents come in the
 * same order. Borrowed: valid until the next state_cache_sweep. */
struct http_piece *state_cache_block(struct state_cache *c, const char *fw_id, int list,
				     struct sc_task *const *v, size_t n, bool v1);
/* Ends a walk: forgets the tasks it did not ask for (gone ones), and the lists of the shape
 * it assembled (blocks: 0 legacy, 1 v1, -1 none) it did not ask for. */
void state_cache_sweep(struct state_cache *c, int blocks);
/* a's rendering in shape (render(a)'s bytes after a ',' lead), rendered again when any field
 * of a its renderers read changed. Borrowed: valid until state_cache_agents_sweep. */
struct http_piece *state_cache_agent(struct state_cache *c, const struct m_agent *a, int shape,
				     json_t *(*render)(const struct m_agent *a));
/* Ends a walk over the agents: forgets those it did not ask for. */
void state_cache_agents_sweep(struct state_cache *c);
/* A framework's GET_FRAMEWORKS entry (render(arg)'s bytes after a ',' lead), kept while key
 * (the caller's fingerprint of everything render reads, made with the mixers below) is the
 * one it was rendered at. Borrowed: valid until state_cache_frameworks_sweep. */
struct http_piece *state_cache_framework(struct state_cache *c, const char *id, uint64_t key,
					 json_t *(*render)(const void *arg), const void *arg);
/* Marks id's entry as asked for by this walk without using it (a framework a view hides). */
void state_cache_framework_seen(struct state_cache *c, const char *id);
/* Ends a walk over the frameworks: forgets those it did not ask for. */
void state_cache_frameworks_sweep(struct state_cache *c);
uint64_t state_cache_mix_str(uint64_t h, const char *s);
uint64_t state_cache_mix_u64(uint64_t h, uint64_t v);
uint64_t state_cache_mix_json(uint64_t h, const json_t *j);
uint64_t state_cache_mix_resources(uint64_t h, const struct resources *r);
/* BERTH_RENDER_VERIFY (or state_cache_set_verify): every hit is rendered again and
 * compared; a stale one is logged, counted and replaced. */
bool state_cache_verifying(void);
/* BERTH_STATE_CACHE=0: /master/state is rendered whole, as before the cache. */
bool state_cache_enabled(void);
void state_cache_set_verify(bool on);
void state_cache_count_stale(struct state_cache *c);
/* Verification of a whole answer: compares b (assembled from the cache) with fresh (the same
 * answer rendered from scratch; taken). Equal: fresh is dropped, false (the caller sends b).
 * Different: the hit is counted and logged ("<what> assembled from the cache differs …"),
 * b released, fresh sent (200); true. */
bool state_cache_answer_stale(struct state_cache *c, struct evhttp_request *req,
			      struct http_body *b, json_t *fresh, const char *what);
unsigned long state_cache_stale(const struct state_cache *c);
size_t state_cache_len(const struct state_cache *c);
