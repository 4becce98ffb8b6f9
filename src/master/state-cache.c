/* The per-task fragment cache of /master/state (issue 12): each task's legacy JSON is
 * kept as a reference-counted piece (net/http-cond.h) and /master/state is assembled from
 * the pieces with evbuffer_add_reference (state_json_master_body in state-json.c).
 *
 * Invariants:
 * - A task's piece is used only while the fingerprint of everything state_json_task reads
 *   to render it (every field of the task's view: strings, resources, times, health,
 *   labels, discovery; and the agent's ip) equals the one it was rendered at. The tasks of
 *   /master/state come from three owners (the apps and jobs frameworks and the external
 *   frameworks), each producing a fresh view per walk: the fingerprint is taken of what is
 *   rendered, so no writer of any owner can change a task without it (a per-owner change
 *   counter would need every writer of all three to bump it).
 * - The same for the v1 shape (GET_TASKS, GET_STATE's get_tasks), kept beside it under the
 *   same rule: e->v1 at e->key_v1.
 * - A piece holds exactly the bytes json_dumps gives with http_reply_json's flags, after
 *   one ',' (its lead).
 * - A framework's whole task list (when no view ACL selects among its tasks) is one more
 *   piece, the concatenation of its tasks' pieces, kept while the same contents come in
 *   the same order: one reference per list instead of one per task (10,000 evbuffer
 *   chains and writev calls cost more than copying the bytes again on a change).
 * - The cache holds the tasks of the last walk only: state_cache_sweep drops the others,
 *   so it is bounded by the number of tasks. An answer in flight keeps its pieces alive.
 * - BERTH_RENDER_VERIFY=1 renders every hit again and compares (and state-json.c compares
 *   the whole assembled answer with a render from scratch); a mismatch is logged as
 *   "state cache stale", counted, and the fresh bytes are used.
 * - Agents the same way (GET_AGENTS and GET_STATE's get_agents, /master/state's slaves,
 *   /master/slaves): each shape's piece is used only while the fingerprint of every field
 *   of the agent its renderers read (ids, addresses, states, drain, attributes, total and
 *   used resources, task count) equals the one it was rendered at; the agents a walk did
 *   not ask for are dropped at its end (state_cache_agents_sweep).
 * - Frameworks the same way (GET_FRAMEWORKS's entries, and GET_STATE's get_frameworks):
 *   an entry is used only while the caller's fingerprint of every field its renderer reads
 *   (state-json.c: the framework's description, FrameworkInfo, used and offered resources)
 *   equals the one it was rendered at; the frameworks a walk did not ask for (or mark
 *   seen) are dropped at its end (state_cache_frameworks_sweep).
 * - BERTH_STATE_CACHE=0 renders /master/state whole every time, as before the cache (for
 *   benchmarks and as an escape hatch).
 */
#include <stdlib.h>
#include <string.h>

#include "base/hmap.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/strbuf.h"
#include "master/master-int.h"
#include "master/state-cache.h"
#include "master/state-json.h"

#define DUMP_FLAGS (JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15))

struct sc_block {
	uint64_t key;  /* of its tasks' pieces' contents, in order */
	uint64_t seen;
	bool v1;
	struct http_piece *piece;
};

struct sc_agent {
	uint64_t seen;
	uint64_t key[SC_AGENT_SHAPES];
	struct http_piece *p[SC_AGENT_SHAPES];
};

struct state_cache {
	struct hmap agents; /* agent id -> struct sc_agent* */
	uint64_t agent_walk;
	struct hmap fws; /* framework id -> struct sc_agent* (shape 0 only) */
	uint64_t fw_walk;
	struct hmap tasks;  /* "<framework id>\x1f<task id>" -> struct sc_task* */
	struct hmap blocks; /* "<framework id>\x1f<list>" -> struct sc_block* */
	uint64_t walk;
	unsigned long stale;
};

static int verify = -1;

bool state_cache_verifying(void)
{
	if (verify < 0) {
		const char *e = getenv("BERTH_RENDER_VERIFY");
		verify = e && *e && strcmp(e, "0");
	}
	return verify;
}

void state_cache_set_verify(bool on)
{
	verify = on;
}

bool state_cache_enabled(void)
{
	static int on = -1;
	if (on < 0) {
		const char *e = getenv("BERTH_STATE_CACHE");
		on = !e || strcmp(e, "0");
	}
	return on;
}

struct state_cache *state_cache_new(void)
{
	struct state_cache *c = xcalloc(1, sizeof(*c));
	hmap_init(&c->tasks);
	hmap_init(&c->blocks);
	hmap_init(&c->agents);
	hmap_init(&c->fws);
	c->fw_walk = 1;
	c->walk = 1;
	c->agent_walk = 1;
	return c;
}

static void task_free(struct sc_task *e)
{
	http_piece_unref(e->piece);
	http_piece_unref(e->v1);
	free(e->user);
	free(e->state);
	free(e->agent_id);
	free(e);
}

static void block_free(struct sc_block *b)
{
	http_piece_unref(b->piece);
	free(b);
}

static void agent_free(struct sc_agent *e)
{
	for (size_t i = 0; i < SC_AGENT_SHAPES; i++)
		http_piece_unref(e->p[i]);
	free(e);
}

void state_cache_free(struct state_cache *c)
{
	if (!c)
		return;
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&c->tasks, &i, &k, &v);)
		task_free(v);
	hmap_release(&c->tasks);
	for (size_t i = 0; hmap_next(&c->blocks, &i, &k, &v);)
		block_free(v);
	hmap_release(&c->blocks);
	for (size_t i = 0; hmap_next(&c->agents, &i, &k, &v);)
		agent_free(v);
	hmap_release(&c->agents);
	for (size_t i = 0; hmap_next(&c->fws, &i, &k, &v);)
		agent_free(v);
	hmap_release(&c->fws);
	free(c);
}

/* ---- fingerprints ---- */

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	uint64_t buf[3] = { h, hmap_hash_bytes(p, n), n };
	return hmap_hash_bytes(buf, sizeof(buf));
}

static uint64_t mix_u64(uint64_t h, uint64_t v)
{
	return mix(h, &v, sizeof(v));
}

static uint64_t mix_str(uint64_t h, const char *s)
{
	return s ? mix(h, s, strlen(s)) : mix_u64(h, 0x5eed0000ull);
}

static uint64_t mix_json(uint64_t h, const json_t *j)
{
	h = mix_u64(h, j ? (uint64_t)json_typeof(j) + 1 : 0);
	if (!j)
		return h;
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)j, k, v)
			h = mix_json(mix_str(h, k), v);
		return mix_u64(h, json_object_size(j));
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v)
			h = mix_json(h, v);
		return mix_u64(h, json_array_size(j));
	}
	case JSON_STRING:
		return mix(h, json_string_value(j), json_string_length(j));
	case JSON_INTEGER:
		return mix_u64(h, (uint64_t)json_integer_value(j));
	case JSON_REAL: {
		double d = json_real_value(j);
		return mix(h, &d, sizeof(d));
	}
	default: /* true, false, null: the type says it */
		return h;
	}
}

static uint64_t mix_resources(uint64_t h, const struct resources *r)
{
	if (!r)
		return mix_u64(h, 0x0);
	h = mix_u64(h, r->n + 1);
	for (size_t i = 0; i < r->n; i++) {
		const struct resource *x = &r->v[i];
		h = mix_str(mix_str(h, x->name), x->role);
		h = mix_u64(h, x->type);
		h = mix(h, &x->scalar, sizeof(x->scalar));
		h = mix_u64(h, x->nranges);
		if (x->nranges)
			h = mix(h, x->ranges, x->nranges * sizeof(*x->ranges));
		h = mix_u64(h, x->nitems);
		for (size_t j = 0; j < x->nitems; j++)
			h = mix_str(h, x->items[j]);
	}
	return h;
}

static uint64_t fingerprint(const struct rm_task_view *t, const struct m_agent *a)
{
	uint64_t h = mix_str(0, t->id);
	h = mix_str(h, t->framework_id);
	h = mix_str(h, t->name);
	h = mix_str(h, t->agent_id);
	h = mix_str(h, t->state);
	h = mix_str(h, t->role);
	h = mix_str(h, t->user);
	h = mix_resources(h, t->res);
	h = mix_u64(h, t->staged_usec);
	h = mix_u64(h, t->started_usec);
	h = mix_u64(h, (uint64_t)(int64_t)t->healthy);
	h = mix_json(h, t->labels);
	h = mix_json(h, t->discovery);
	h = mix_u64(h, a != NULL);
	return mix_str(h, a ? a->ip : NULL);
}

static uint64_t agent_fingerprint(const struct m_agent *a)
{
	uint64_t h = mix_str(0, a->id);
	h = mix_str(h, a->hostname);
	h = mix_str(h, a->http);
	h = mix_str(h, a->ip);
	h = mix_u64(h, a->state);
	h = mix_u64(h, a->deactivated);
	h = mix_u64(h, a->gone);
	h = mix_u64(h, a->drain);
	h = mix_u64(h, a->drain_mark_gone);
	h = mix_u64(h, (uint64_t)a->drain_grace_nsec);
	h = mix_u64(h, a->registered_usec);
	h = mix_u64(h, a->ntasks);
	h = mix_u64(h, a->attrs.n);
	for (size_t i = 0; i < a->attrs.n; i++) {
		const struct attribute *at = &a->attrs.v[i];
		h = mix_str(mix_str(h, at->name), at->text);
		h = mix_u64(h, at->type);
		h = mix(h, &at->scalar, sizeof(at->scalar));
	}
	h = mix_resources(h, rm_agent_total(a));
	return mix_resources(h, rm_agent_used(a));
}

/* ---- pieces ---- */

static struct http_piece *piece_of(json_t *j)
{
	size_t n = json_dumpb(j, NULL, 0, DUMP_FLAGS);
	char *s = xmalloc(n + 2);
	s[0] = ',';
	if (json_dumpb(j, s + 1, n, DUMP_FLAGS) != n)
		abort();
	s[n + 1] = '\0';
	json_decref(j);
	return http_piece_take(s, n + 1, 1);
}

struct sc_task *state_cache_task(struct state_cache *c, const struct rm_task_view *t,
				 const struct m_agent *a, bool v1)
{
	uint64_t key = fingerprint(t, a);
	/* Task ids are unique within a framework only. */
	struct strbuf id = STRBUF_INIT;
	strbuf_addf(&id, "%s\x1f%s", t->framework_id, t->id);
	struct sc_task *e = hmap_get(&c->tasks, strbuf_str(&id));
	if (!e) {
		e = xcalloc(1, sizeof(*e));
		hmap_put(&c->tasks, strbuf_str(&id), e);
	}
	strbuf_release(&id);
	e->seen = c->walk;
	struct http_piece **slot = v1 ? &e->v1 : &e->piece;
	uint64_t *at = v1 ? &e->key_v1 : &e->key;
	if (*slot && *at == key) {
		if (!state_cache_verifying()) {
			json_decref(t->discovery);
			return e;
		}
		struct http_piece *p = piece_of(state_json_task(t, a, v1));
		if (p->len == (*slot)->len && !memcmp(p->data, (*slot)->data, p->len)) {
			http_piece_unref(p);
			return e;
		}
		c->stale++;
		log_error("master", "state cache stale: task '%s' changed without its fingerprint",
			  t->id);
		http_piece_unref(*slot);
		*slot = p;
		return e;
	}
	http_piece_unref(*slot);
	free(e->user);
	free(e->state);
	free(e->agent_id);
	*at = key;
	e->user = t->user ? xstrdup(t->user) : NULL;
	e->state = xstrdup(t->state ? t->state : "");
	e->agent_id = xstrdup(t->agent_id ? t->agent_id : "");
	/* statuses_json's first status (state-json.c): the fingerprint holds all it reads */
	bool staging = t->state && !strcmp(t->state, "TASK_STAGING");
	bool running = t->state && !strcmp(t->state, "TASK_RUNNING");
	e->time = t->started_usec ? (double)t->started_usec / 1e6
		: !staging && !running ? (double)t->staged_usec / 1e6
				       : 0;
	*slot = piece_of(state_json_task(t, a, v1));
	return e;
}

/* The piece of an entry (an agent's, per shape, or a framework's) in the map of walk, made
 * (render(arg)) unless its key is key; with verification on, a kept piece is compared with a
 * fresh render and replaced (counted, logged) when they differ. */
static struct http_piece *entry_piece(struct state_cache *c, struct hmap *map, uint64_t walk,
				      const char *kind, const char *id, int slot, uint64_t key,
				      json_t *(*render)(const void *arg), const void *arg)
{
	struct sc_agent *e = hmap_get(map, id);
	if (!e) {
		e = xcalloc(1, sizeof(*e));
		hmap_put(map, id, e);
	}
	e->seen = walk;
	if (e->p[slot] && e->key[slot] == key) {
		if (!state_cache_verifying())
			return e->p[slot];
		struct http_piece *p = piece_of(render(arg));
		if (p->len == e->p[slot]->len && !memcmp(p->data, e->p[slot]->data, p->len)) {
			http_piece_unref(p);
			return e->p[slot];
		}
		c->stale++;
		log_error("master", "state cache stale: %s '%s' changed without its fingerprint",
			  kind, id);
		http_piece_unref(e->p[slot]);
		e->p[slot] = p;
		return p;
	}
	http_piece_unref(e->p[slot]);
	e->p[slot] = piece_of(render(arg));
	e->key[slot] = key;
	return e->p[slot];
}

/* Forgets the entries of map a walk did not ask for, and starts the next walk. */
static void entries_sweep(struct hmap *map, uint64_t *walk)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(map, &i, &k, &v);) {
		struct sc_agent *e = v;
		if (e->seen != *walk) {
			hmap_del(map, k);
			agent_free(e);
		}
	}
	(*walk)++;
}

struct agent_render {
	json_t *(*render)(const struct m_agent *a);
	const struct m_agent *a;
};

static json_t *render_agent(const void *arg)
{
	const struct agent_render *ar = arg;
	return ar->render(ar->a);
}

struct http_piece *state_cache_agent(struct state_cache *c, const struct m_agent *a, int shape,
				     json_t *(*render)(const struct m_agent *a))
{
	struct agent_render ar = { render, a };
	return entry_piece(c, &c->agents, c->agent_walk, "agent", a->id, shape,
			   agent_fingerprint(a), render_agent, &ar);
}

void state_cache_agents_sweep(struct state_cache *c)
{
	entries_sweep(&c->agents, &c->agent_walk);
}

struct http_piece *state_cache_framework(struct state_cache *c, const char *id, uint64_t key,
					 json_t *(*render)(const void *arg), const void *arg)
{
	return entry_piece(c, &c->fws, c->fw_walk, "framework", id, 0, key, render, arg);
}

void state_cache_framework_seen(struct state_cache *c, const char *id)
{
	struct sc_agent *e = hmap_get(&c->fws, id);
	if (e)
		e->seen = c->fw_walk;
}

void state_cache_frameworks_sweep(struct state_cache *c)
{
	entries_sweep(&c->fws, &c->fw_walk);
}

uint64_t state_cache_mix_str(uint64_t h, const char *s)
{
	return mix_str(h, s);
}

uint64_t state_cache_mix_u64(uint64_t h, uint64_t v)
{
	return mix_u64(h, v);
}

uint64_t state_cache_mix_json(uint64_t h, const json_t *j)
{
	return mix_json(h, j);
}

uint64_t state_cache_mix_resources(uint64_t h, const struct resources *r)
{
	return mix_resources(h, r);
}

#define PIECE(e) (v1 ? (e)->v1 : (e)->piece)

struct http_piece *state_cache_block(struct state_cache *c, const char *fw_id, int list,
				     struct sc_task *const *v, size_t n, bool v1)
{
	uint64_t key = mix_u64(0, n);
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t two[2] = { PIECE(v[i])->hash, PIECE(v[i])->len };
		key = mix(key, two, sizeof(two));
		len += PIECE(v[i])->len;
	}
	struct strbuf id = STRBUF_INIT;
	strbuf_addf(&id, "%s\x1f%d%s", fw_id, list, v1 ? "v1" : "");
	struct sc_block *b = hmap_get(&c->blocks, strbuf_str(&id));
	if (!b) {
		b = xcalloc(1, sizeof(*b));
		hmap_put(&c->blocks, strbuf_str(&id), b);
	}
	strbuf_release(&id);
	b->seen = c->walk;
	b->v1 = v1;
	if (b->piece && b->key == key)
		return b->piece;
	char *s = xmalloc(len + 1), *p = s;
	for (size_t i = 0; i < n; i++) {
		memcpy(p, PIECE(v[i])->data, PIECE(v[i])->len);
		p += PIECE(v[i])->len;
	}
	*p = '\0';
	http_piece_unref(b->piece);
	b->piece = http_piece_take(s, len, n ? PIECE(v[0])->lead : 0);
	b->key = key;
	return b->piece;
}

void state_cache_sweep(struct state_cache *c, int blocks)
{
	const char *k;
	void *v;
	for (size_t i = 0; blocks >= 0 && hmap_next(&c->blocks, &i, &k, &v);) {
		struct sc_block *b = v;
		if (b->v1 == (blocks == 1) && b->seen != c->walk) {
			hmap_del(&c->blocks, k);
			block_free(b);
		}
	}
	for (size_t i = 0; hmap_next(&c->tasks, &i, &k, &v);) {
		struct sc_task *e = v;
		if (e->seen != c->walk) {
			hmap_del(&c->tasks, k);
			task_free(e);
		}
	}
	c->walk++;
}

void state_cache_count_stale(struct state_cache *c)
{
	c->stale++;
}

bool state_cache_answer_stale(struct state_cache *c, struct evhttp_request *req,
			      struct http_body *b, json_t *fresh, const char *what)
{
	size_t n;
	char *got = http_body_string(b, &n);
	char *want = json_dumps(fresh, DUMP_FLAGS);
	bool same = want && strlen(want) == n && !memcmp(want, got, n);
	free(got);
	free(want);
	if (same) {
		json_decref(fresh);
		return false;
	}
	state_cache_count_stale(c);
	log_error("master", "state cache stale: %s assembled from the cache differs from a "
			    "render from scratch", what);
	http_body_release(b);
	http_reply_json(req, 200, fresh);
	return true;
}

unsigned long state_cache_stale(const struct state_cache *c)
{
	return c ? c->stale : 0;
}

size_t state_cache_len(const struct state_cache *c)
{
	return c ? hmap_len(&c->tasks) : 0;
}
