/* The render cache (issue 12): Marathon's JSON of each app (per render_app variant), each
 * task and each deployment, kept as pieces of bytes (net/http-cond.h) and reused until the
 * app changes; the polled reads (api-marathon.c) assemble their answers from them without
 * rendering or copying.
 *
 * Invariants:
 * - ma->rgen is the app's change counter: every change to what render.c reads of the app,
 *   its definition, deployment, last failure or any of its instances (and their agents)
 *   bumps it (apps_changed, and apps_touch / apps_touch_all, which call it). A piece is
 *   used only while the counter it was rendered at is the app's current one.
 * - A piece holds exactly the bytes json_dumps gives for render_app / render_task /
 *   render_deployment with http_reply_json's flags, after one ',' (its lead), so that an
 *   answer is the bytes http_reply_json would send for the same state.
 * - BERTH_RENDER_VERIFY=1 in the environment renders every cache hit again and compares:
 *   a mismatch (a change that did not bump the counter) is logged as an error, counted in
 *   m->render_stale, and the fresh bytes are used. Tests run with it; production does not.
 */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "apps/apps-int.h"

#define DUMP_FLAGS (JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15))
#define NWHAT 32 /* render_app's what: 5 bits */

struct render_cache {
	struct http_piece *app[NWHAT];
	uint64_t app_gen[NWHAT];
	struct http_piece *dep;
	uint64_t dep_gen;
};

static int verify = -1; /* -1: not read from the environment yet */

static bool verifying(void)
{
	if (verify < 0) {
		const char *e = getenv("BERTH_RENDER_VERIFY");
		verify = e && *e && strcmp(e, "0");
	}
	return verify;
}

void render_cache_set_verify(bool on)
{
	verify = on;
}

/* A piece of ',' and j's bytes (j taken). */
struct http_piece *render_piece(json_t *j)
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

/* Under BERTH_RENDER_VERIFY: is the cached *slot what a render gives now? Replaces it if
 * not. */
static void check(struct apps *m, struct http_piece **slot, json_t *fresh, const char *what, const char *id)
{
	struct http_piece *p = render_piece(fresh);
	if (p->len == (*slot)->len && !memcmp(p->data, (*slot)->data, p->len)) {
		http_piece_unref(p);
		return;
	}
	m->render_stale++;
	log_error("master", "render cache stale: %s of '%s' changed without its counter", what, id);
	http_piece_unref(*slot);
	*slot = p;
}

static struct render_cache *cache_of(struct m_app *ma)
{
	if (!ma->rc)
		ma->rc = xcalloc(1, sizeof(*ma->rc));
	return ma->rc;
}

/* An agent's drain shows in berth's extras of a resident app's tasks, and the end of a
 * drain reaches no writer of this framework: those renderings are not kept. */
static bool uncacheable(const struct m_app *ma, unsigned what)
{
	return (what & RENDER_EXTRAS) && ma->def->resident;
}

struct http_piece *rc_app(struct apps *m, struct m_app *ma, unsigned what)
{
	struct render_cache *c = cache_of(ma);
	what &= NWHAT - 1;
	if (uncacheable(ma, what))
		c->app_gen[what] = ma->rgen - 1; /* rendered again below, every time */
	if (c->app[what] && c->app_gen[what] == ma->rgen) {
		if (verifying())
			check(m, &c->app[what], render_app(m, ma, what), "app", ma->def->id);
		return c->app[what];
	}
	http_piece_unref(c->app[what]);
	c->app[what] = render_piece(render_app(m, ma, what));
	c->app_gen[what] = ma->rgen;
	return c->app[what];
}

struct http_piece *rc_task(struct apps *m, struct m_instance *in, bool extras)
{
	unsigned k = extras;
	if (uncacheable(in->app, extras ? RENDER_EXTRAS : 0))
		in->tpiece_gen[k] = in->app->rgen - 1;
	if (in->tpiece[k] && in->tpiece_gen[k] == in->app->rgen) {
		if (verifying())
			check(m, &in->tpiece[k], render_task(m, in, extras), "task", in->task_id);
		return in->tpiece[k];
	}
	http_piece_unref(in->tpiece[k]);
	in->tpiece[k] = render_piece(render_task(m, in, extras));
	in->tpiece_gen[k] = in->app->rgen;
	return in->tpiece[k];
}

struct http_piece *rc_deployment(struct apps *m, struct m_app *ma)
{
	struct render_cache *c = cache_of(ma);
	if (c->dep && c->dep_gen == ma->rgen) {
		if (verifying())
			check(m, &c->dep, render_deployment(m, ma->deploy), "deployment", ma->def->id);
		return c->dep;
	}
	http_piece_unref(c->dep);
	c->dep = render_piece(render_deployment(m, ma->deploy));
	c->dep_gen = ma->rgen;
	return c->dep;
}

void rc_free_app(struct m_app *ma)
{
	struct render_cache *c = ma->rc;
	if (!c)
		return;
	for (size_t i = 0; i < NWHAT; i++)
		http_piece_unref(c->app[i]);
	http_piece_unref(c->dep);
	free(c);
	ma->rc = NULL;
}

void rc_free_inst(struct m_instance *in)
{
	for (size_t i = 0; i < 2; i++) {
		http_piece_unref(in->tpiece[i]);
		in->tpiece[i] = NULL;
	}
}
