/* The allocation order (DESIGN.md §4; docs/scheduler-api.md "Allocation"): one weighted
 * Dominant Resource Fairness order over the built-in frameworks (the apps framework) and the
 * external frameworks.
 *
 * Clients and keys: each subscribed external framework with an unsuppressed role (keyed by
 * that role), and a built-in framework once for each role it places a task of. A client's key
 * (quota_drf_cmp): its role's dominant share of the connected cluster (all that is
 * allocated to the role, by any framework) divided by the role's weight, then the client's
 * own dominant share (a built-in framework: all its takes, rm_client.alloc), then its
 * framework id.
 *
 * How the order holds while offers are optimistic and a built-in framework answers
 * in-process (the apps framework, say):
 *  - The offer tick (fw-offers.c) offers the external frameworks what is free, in key order.
 *  - An offer claims its resources for FW_OFFER_CLAIM_SEC against the clients after its
 *    framework in the order: the apps framework does not place onto them, so the framework
 *    before it has the first chance to accept. A client before the framework may take them
 *    (its ACCEPT then fails, as any conflict does).
 *  - Before the apps framework places a task on an agent, each external framework before it
 *    in the order that could use the agent is offered at once what is free there and not yet
 *    in its offers; that offer claims it (the offers of a pass go out together at its end).
 *
 * Cost: nothing when no external framework is subscribed and no quota is set (then
 * rm_alloc_available is the agent's free set). Otherwise one O(cluster) snapshot per pass
 * (quota.c), kept current by rm_alloc_take, and per agent looked at O(frameworks before the
 * client + offers on the agent). */
#include <string.h>

#include "base/mem.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "master/fw-int.h"
#include "master/master-int.h"

static double dominant_share(const struct quota_amounts *alloc, const struct quota_amounts *total)
{
	double s = 0;
	for (int i = 0; i < QUOTA_NKINDS; i++)
		if (total->v[i] > 0 && alloc->v[i] / total->v[i] > s)
			s = alloc->v[i] / total->v[i];
	return s;
}

struct alloc_ctx *rm_alloc_begin(struct master *m, struct rm_client *client)
{
	struct alloc_ctx *c = xcalloc(1, sizeof(*c));
	c->m = m;
	c->client = client;
	c->now = time_mono_usec();
	if (!m->fw)
		return c;
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->fw->fws, &i, &k, &v);) {
		const struct fw_framework *fw = v;
		if (fw_subscribed(fw) && fw_active_role(fw))
			c->nactive++;
	}
	return c;
}

static void build(struct alloc_ctx *c)
{
	if (c->built)
		return;
	c->built = true;
	struct master *m = c->m;
	quota_snapshot_build(m, &c->snap);
	if (!c->nactive)
		return;
	c->order = xcalloc(c->nactive, sizeof(*c->order));
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->fw->fws, &i, &k, &v) && c->norder < c->nactive;) {
		struct fw_framework *fw = v;
		const char *role = fw_active_role(fw);
		if (!fw_subscribed(fw) || !role)
			continue;
		struct quota_amounts ra, used;
		quota_snapshot_alloc(&c->snap, role, &ra);
		quota_amounts_of(&fw->used, NULL, &used);
		struct quota_drf_client *o = &c->order[c->norder++];
		o->id = fw->id;
		o->role_share = dominant_share(&ra, &c->snap.total);
		o->weight = quota_role_weight(m, role);
		o->share = dominant_share(&used, &c->snap.total);
		o->ptr = fw;
	}
	quota_drf_sort(c->order, c->norder);
}

void rm_alloc_end(struct alloc_ctx *c)
{
	if (c->offers) {
		struct strbuf sb = STRBUF_INIT;
		for (size_t i = 0; i < c->norder; i++)
			fw_offer_batch_send(&c->offers[i], &sb);
		strbuf_release(&sb);
		free(c->offers);
	}
	if (c->built)
		quota_snapshot_release(&c->snap);
	free(c->order);
	free(c->role);
	free(c);
}

const struct quota_snapshot *alloc_snapshot(struct alloc_ctx *c)
{
	build(c);
	return &c->snap;
}

size_t alloc_framework_order(struct alloc_ctx *c, const struct quota_drf_client **order)
{
	build(c);
	*order = c->order;
	return c->norder;
}

bool rm_alloc_allows(struct alloc_ctx *c, const struct app *def)
{
	if (!quota_any(c->m))
		return true;
	build(c);
	return quota_app_allows(c->m, &c->snap, def);
}

/* The client's key for role (cached until the next take). */
static const struct quota_drf_client *client_key(struct alloc_ctx *c, const char *role)
{
	if (c->role && !strcmp(c->role, role))
		return &c->key;
	free(c->role);
	c->role = xstrdup(role);
	struct quota_amounts ra;
	quota_snapshot_alloc(&c->snap, role, &ra);
	c->key.id = c->client->id;
	c->key.role_share = dominant_share(&ra, &c->snap.total);
	c->key.weight = quota_role_weight(c->m, role);
	c->key.share = dominant_share(&c->client->alloc, &c->snap.total);
	c->key.ptr = NULL;
	return &c->key;
}

const struct resources *rm_alloc_available(struct alloc_ctx *c, struct m_agent *a,
					   const char *role, struct resources *tmp)
{
	if (!c->nactive)
		return rm_agent_free(a);
	build(c);
	const struct quota_drf_client *key = client_key(c, role);
	const struct quota_snapshot *snap = quota_any(c->m) ? &c->snap : NULL;
	for (size_t i = 0; i < c->norder && quota_drf_cmp(&c->order[i], key) < 0; i++) {
		struct fw_offer *o = fw_offer_agent(c->m->fw, c->order[i].ptr, a, snap,
						    &c->order[i], c->now);
		if (!o)
			continue;
		/* Sent together at rm_alloc_end: one event per framework, not one per agent. */
		if (!c->offers) {
			c->offers = xcalloc(c->norder, sizeof(*c->offers));
			for (size_t k = 0; k < c->norder; k++)
				c->offers[k].fw = c->order[k].ptr;
		}
		fw_offer_batch_add(&c->offers[i], o, a);
	}
	struct resources held = RESOURCES_INIT;
	if (!fw_claims_before(a, key, c->now, &held))
		return rm_agent_free(a);
	resources_release(tmp);
	resources_copy(tmp, rm_agent_free(a));
	resources_subtract_upto(tmp, &held);
	resources_release(&held);
	return tmp;
}

int rm_alloc_take(struct alloc_ctx *c, struct m_agent *a, const char *role,
		  const struct resources *r)
{
	int e = ledger_take(c->m, a, role, &c->client->alloc, r);
	if (e < 0 || !c->built)
		return e;
	quota_snapshot_take(&c->snap, role, r);
	free(c->role);
	c->role = NULL;
	return 0;
}
