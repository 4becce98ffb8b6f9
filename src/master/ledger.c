/* The ledger (see ledger.h for its invariants): every change to an agent's free and used
 * resources and to the roles' allocations is made here. */
#include <errno.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "master/master-int.h"

#define LEDGER_EPS 1e-9

const char *const quota_kinds[QUOTA_NKINDS] = { "cpus", "mem", "disk", "gpus" };

void quota_amounts_of(const struct resources *r, const char *role, struct quota_amounts *out)
{
	for (int i = 0; i < QUOTA_NKINDS; i++)
		out->v[i] = 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct resource *e = &r->v[i];
		if (e->type != RES_SCALAR || (role && strcmp(e->role, role)))
			continue;
		for (int k = 0; k < QUOTA_NKINDS; k++)
			if (!strcmp(e->name, quota_kinds[k]))
				out->v[k] += e->scalar;
	}
}

/* ---- per agent ---- */

void ledger_agent_init(struct ledger_agent *la, const struct resources *total)
{
	resources_init(&la->used);
	resources_copy(&la->total, total);
	resources_copy(&la->free, total);
}

void ledger_agent_release(struct ledger_agent *la)
{
	resources_release(&la->total);
	resources_release(&la->used);
	resources_release(&la->free);
}

int ledger_agent_take(struct ledger_agent *la, const struct resources *r)
{
	if (resources_subtract(&la->free, r) < 0)
		return -ENOSPC;
	resources_add(&la->used, r);
	return 0;
}

/* free = total - used (where they overlap). */
static bool recompute_free(struct ledger_agent *la)
{
	resources_release(&la->free);
	resources_copy(&la->free, &la->total);
	if (resources_subtract(&la->free, &la->used) == 0)
		return true;
	resources_subtract_upto(&la->free, &la->used);
	return false;
}

int ledger_agent_give(struct ledger_agent *la, const struct resources *r)
{
	if (resources_subtract(&la->used, r) == 0) {
		resources_add(&la->free, r);
		return 0;
	}
	resources_subtract_upto(&la->used, r);
	recompute_free(la);
	return -ENOENT;
}

int ledger_agent_set_total(struct ledger_agent *la, const struct resources *t)
{
	if (t != &la->total) {
		resources_release(&la->total);
		resources_copy(&la->total, t);
	}
	return recompute_free(la) ? 0 : -ENOSPC;
}

/* ---- per role ---- */

void ledger_init(struct ledger *l)
{
	hmap_init(&l->roles);
}

void ledger_release(struct ledger *l)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&l->roles, &i, &k, &v);)
		free(v);
	hmap_release(&l->roles);
}

static void amounts_add(struct quota_amounts *to, const struct quota_amounts *a, int sign)
{
	for (int i = 0; i < QUOTA_NKINDS; i++) {
		to->v[i] += sign * a->v[i];
		if (to->v[i] < LEDGER_EPS)
			to->v[i] = 0; /* no drift below zero from rounding */
	}
}

void ledger_count(struct ledger *l, const char *role, const struct resources *r,
		  struct quota_amounts *client, int sign)
{
	struct quota_amounts a;
	quota_amounts_of(r, NULL, &a);
	struct quota_amounts *slot = hmap_get(&l->roles, role);
	if (!slot) {
		slot = xcalloc(1, sizeof(*slot));
		hmap_put(&l->roles, role, slot);
	}
	amounts_add(slot, &a, sign);
	if (client)
		amounts_add(client, &a, sign);
}

const struct quota_amounts *ledger_role(const struct ledger *l, const char *role)
{
	return hmap_get(&l->roles, role);
}

/* ---- the master's agents ---- */

int ledger_take(struct master *m, struct m_agent *a, const char *role, struct quota_amounts *client,
		const struct resources *r)
{
	if (ledger_agent_take(&a->led, r) < 0)
		return -ENOSPC;
	ledger_count(&m->roles, role, r, client, 1);
	return 0;
}

void ledger_give(struct master *m, struct m_agent *a, const char *role, struct quota_amounts *client,
		 const struct resources *r)
{
	if (a && ledger_agent_give(&a->led, r) < 0)
		log_error("master", "agent '%s' was given back more than it had lent", a->id);
	ledger_count(&m->roles, role, r, client, -1);
}

int ledger_set_total(struct master *m, struct m_agent *a, const struct resources *total)
{
	(void)m;
	int r = ledger_agent_set_total(&a->led, total);
	if (r < 0)
		log_warn("master", "agent '%s' offers less than its tasks and volumes hold", a->id);
	return r;
}

int rm_take(struct master *m, struct m_agent *a, const char *role, struct rm_client *c,
	    const struct resources *r)
{
	return ledger_take(m, a, role, c ? &c->alloc : NULL, r);
}

void rm_give(struct master *m, struct m_agent *a, const char *role, struct rm_client *c,
	     const struct resources *r)
{
	ledger_give(m, a, role, c ? &c->alloc : NULL, r);
}

void rm_task_placed(struct master *m, struct m_agent *a, struct rm_client *c)
{
	(void)m;
	if (a)
		a->ntasks++;
	if (c)
		c->ntasks++;
}

void rm_task_gone(struct master *m, struct m_agent *a, struct rm_client *c)
{
	(void)m;
	if (a && a->ntasks)
		a->ntasks--;
	if (c && c->ntasks)
		c->ntasks--;
}
