/* View filtering of /v2/events (events-view.h). */
#include <assert.h>
#include <string.h>

#include "base/mem.h"
#include "apps/apps-int.h"
#include "apps/events-view.h"

struct collect {
	const char **ids;
	size_t n, cap, max; /* max: a fixed array's size, or 0: grow */
};

static void add(struct collect *c, const json_t *s)
{
	const char *id = json_string_value(s);
	if (!id)
		return;
	if (c->max) {
		if (c->n < c->max)
			c->ids[c->n] = id;
		c->n++;
		return;
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 8;
		c->ids = xrealloc(c->ids, c->cap * sizeof(*c->ids));
	}
	c->ids[c->n++] = id;
}

/* A group ("original", "target"): its apps' ids and its subgroups', to a bounded depth (the
 * ids are at most APP_MAX_ID_LEN long, so groups nest no deeper). */
static void group_apps(struct collect *c, const json_t *g, int depth)
{
	if (!json_is_object(g) || depth > 64)
		return;
	size_t i;
	const json_t *x;
	json_array_foreach(json_object_get(g, "apps"), i, x)
		add(c, json_object_get(x, "id"));
	json_array_foreach(json_object_get(g, "groups"), i, x)
		group_apps(c, x, depth + 1);
}

/* A step ({"actions": [{"action", "app"}]}). */
static void step_apps(struct collect *c, const json_t *step)
{
	size_t i;
	const json_t *a;
	json_array_foreach(json_object_get(step, "actions"), i, a)
		add(c, json_object_get(a, "app"));
}

static void collect(struct collect *c, const json_t *p)
{
	static const char *const keys[] = { "appId", "runSpecId", "groupId" };
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		add(c, json_object_get(p, keys[k]));
	add(c, json_object_get(json_object_get(p, "appDefinition"), "id"));
	const json_t *plan = json_object_get(p, "plan");
	size_t i;
	const json_t *s;
	json_array_foreach(json_object_get(plan, "steps"), i, s)
		step_apps(c, s);
	group_apps(c, json_object_get(plan, "original"), 0);
	group_apps(c, json_object_get(plan, "target"), 0);
	step_apps(c, json_object_get(p, "currentStep"));
}

size_t ev_view_apps(const json_t *payload, const char **ids, size_t max)
{
	assert(max > 0);
	struct collect c = { .ids = ids, .max = max };
	collect(&c, payload);
	return c.n;
}

void ev_view_init(struct ev_view *v, struct apps *m, const json_t *payload)
{
	*v = (struct ev_view){ .m = m, .payload = payload, .anon = -1 };
	hmap_init(&v->memo);
}

static bool check(struct ev_view *v, const char *principal)
{
	if (!v->collected) {
		struct collect c = { 0 };
		collect(&c, v->payload);
		v->ids = c.ids;
		v->nids = c.n;
		v->cap = c.cap;
		v->collected = true;
	}
	for (size_t i = 0; i < v->nids; i++)
		if (!v->m->may_view(v->m->may_view_ctx, principal, v->ids[i]))
			return false;
	return true;
}

bool ev_view_allows(struct ev_view *v, const char *principal)
{
	if (!v->m->may_view || !v->payload)
		return true;
	if (!principal) {
		if (v->anon < 0)
			v->anon = check(v, NULL);
		return v->anon;
	}
	uintptr_t known = (uintptr_t)hmap_get(&v->memo, principal);
	if (known)
		return known == 1;
	bool ok = check(v, principal);
	hmap_put(&v->memo, principal, (void *)(uintptr_t)(ok ? 1 : 2));
	return ok;
}

void ev_view_release(struct ev_view *v)
{
	free(v->ids);
	v->ids = NULL;
	hmap_release(&v->memo);
}
