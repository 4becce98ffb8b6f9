/* Offers to external frameworks, DECLINE filters, and ACCEPT with LAUNCH.
 *
 * Allocation (docs/scheduler-api.md "Offers"):
 *  - Offers are optimistic (DESIGN.md §4): each subscribed framework with an unsuppressed
 *    role is offered the free resources (a->free) of every connected agent it has no
 *    DECLINE filter for, less what its own outstanding offers there hold, even when the
 *    same resources sit in another framework's offer. The resources offered are the
 *    unreserved ones ("*") and those reserved for one of its unsuppressed roles.
 *  - Frameworks are served in the allocation order of alloc.c (weighted DRF over the
 *    frameworks and the apps framework); each offer claims its resources for
 *    FW_OFFER_CLAIM_SEC against the clients after its framework in that order.
 *  - Bounds: an agent is in at most FW_MAX_OFFERS_PER_AGENT offers from the pass, a
 *    framework gets at most its share of those slots per pass and FW_MAX_OFFERS outstanding,
 *    an OFFERS event holds at most FW_OFFERS_PER_EVENT offers. A pass first decides every
 *    offer, then renders and sends them (their times are kept for bench/alloc).
 *  - A framework whose walk went round every agent is quiet (see decide()): it is offered
 *    only agents that changed, found by a fingerprint of each agent's free resources, state
 *    and offer count, until it is woken or a filter runs out.
 *  - Quotas (quota.c): an offer holds no more than the role's limit headroom, and no more
 *    unreserved resources than are left once other roles' unmet guarantees are held back;
 *    a LAUNCH that would take the role past its limit (or into those held-back resources)
 *    is refused with TASK_ERROR, REASON_TASK_INVALID and a message saying which.
 *  - ACCEPT checks each task against the offer (over-commit: TASK_ERROR) and then against
 *    the agent's current free resources: if another framework's ACCEPT or the apps framework
 *    took them in between, the task is refused with TASK_DROPPED (PARTITION_AWARE) or
 *    TASK_LOST, reason REASON_INVALID_OFFERS, as Mesos does for invalid offers.
 *  - An offer lives FW_OFFER_TIMEOUT_SEC; then, or when its agent goes away, or when its
 *    framework changes its roles, it is rescinded (RESCIND event). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "master/fw-int.h"
#include "model/mesos-resources.h"

#define OFFER_PERIOD_USEC 1000000 /* a pass at most this often, unless forced */
#define MIN_CPUS 0.01
#define MIN_MEM 32.0

void fw_offer_free(struct fw_offer *o)
{
	if (!o)
		return;
	free(o->agent_id);
	free(o->role);
	resources_release(&o->res);
	free(o);
}

static void by_agent_add(struct frameworks *fws, struct fw_offer *o)
{
	struct fw_agent_offers *ao = hmap_get(&fws->by_agent, o->agent_id);
	if (!ao) {
		ao = xcalloc(1, sizeof(*ao));
		hmap_put(&fws->by_agent, o->agent_id, ao);
	}
	if (ao->n == ao->cap) {
		ao->cap = ao->cap ? ao->cap * 2 : 4;
		ao->v = xrealloc(ao->v, ao->cap * sizeof(*ao->v));
	}
	ao->v[ao->n++] = o;
}

static void by_agent_del(struct frameworks *fws, struct fw_offer *o)
{
	struct fw_agent_offers *ao = hmap_get(&fws->by_agent, o->agent_id);
	if (!ao)
		return;
	for (size_t i = 0; i < ao->n; i++) {
		if (ao->v[i] == o) {
			ao->v[i] = ao->v[--ao->n];
			break;
		}
	}
	if (!ao->n) {
		hmap_del(&fws->by_agent, o->agent_id);
		free(ao->v);
		free(ao);
	}
}

void fw_offer_remove(struct frameworks *fws, struct fw_offer *o, bool rescind)
{
	if (rescind && o->fw)
		fw_send(o->fw, json_pack("{s:s, s:{s:{s:s}}}", "type", "RESCIND", "rescind",
					 "offer_id", "value", o->id));
	by_agent_del(fws, o);
	if (o->fw && o->fw->noffers)
		o->fw->noffers--;
	hmap_del(&fws->offers, o->id);
	fw_offer_free(o);
}

void fw_offers_remove_framework(struct frameworks *fws, struct fw_framework *fw, bool rescind)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&fws->offers, &i, &k, &v);)
		if (((struct fw_offer *)v)->fw == fw)
			fw_offer_remove(fws, v, rescind);
}

void fw_offers_remove_agent(struct frameworks *fws, const char *agent_id)
{
	struct fw_agent_offers *ao;
	while ((ao = hmap_get(&fws->by_agent, agent_id)))
		fw_offer_remove(fws, ao->v[ao->n - 1], true);
}

bool fw_claims_before(const struct frameworks *fws, const char *agent_id,
		      const struct quota_drf_client *key, uint64_t now, struct resources *held)
{
	const struct fw_agent_offers *ao = hmap_get(&fws->by_agent, agent_id);
	bool any = false;
	for (size_t i = 0; ao && i < ao->n; i++) {
		const struct fw_offer *o = ao->v[i];
		if (o->claim_until_usec > now && quota_drf_cmp(&o->key, key) < 0) {
			resources_add(held, &o->res);
			any = true;
		}
	}
	return any;
}

/* ---- filters ---- */

void fw_filters_clear(struct fw_framework *fw)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&fw->filters, &i, &k, &v);)
		free(v);
	hmap_release(&fw->filters);
	hmap_init(&fw->filters);
	fw->filter_min_usec = 0;
	fw->quiet = false;
}

void fw_filters_prune(struct fw_framework *fw, uint64_t now)
{
	const char *k;
	void *v;
	fw->filter_min_usec = 0;
	for (size_t i = 0; hmap_next(&fw->filters, &i, &k, &v);) {
		uint64_t until = *(uint64_t *)v;
		if (until <= now) {
			hmap_del(&fw->filters, k);
			free(v);
		} else if (!fw->filter_min_usec || until < fw->filter_min_usec) {
			fw->filter_min_usec = until;
		}
	}
}

bool fw_filtered(const struct fw_framework *fw, const char *agent_id, uint64_t now)
{
	const uint64_t *until = hmap_len(&fw->filters) ? hmap_get(&fw->filters, agent_id) : NULL;
	return until && *until > now;
}

double fw_refuse_seconds(const json_t *filters)
{
	const json_t *r = json_object_get(filters, "refuse_seconds");
	double s = json_is_number(r) ? json_number_value(r) : FW_DEFAULT_REFUSE_SEC;
	if (!isfinite(s) || s < 0)
		s = FW_DEFAULT_REFUSE_SEC;
	return s > FW_MAX_REFUSE_SEC ? FW_MAX_REFUSE_SEC : s;
}

void fw_filter_add(struct fw_framework *fw, const char *agent_id, double secs)
{
	if (secs <= 0)
		return;
	uint64_t until = time_mono_usec() + (uint64_t)(secs * 1e6);
	/* A filter replaced by a shorter one may leave filter_min_usec early: harmless, the
	 * framework then walks once more than needed. */
	if (!fw->filter_min_usec || until < fw->filter_min_usec)
		fw->filter_min_usec = until;
	uint64_t *u = hmap_get(&fw->filters, agent_id);
	if (u) {
		*u = until;
		return;
	}
	if (hmap_len(&fw->filters) >= FW_MAX_FILTERS)
		return;
	u = xmalloc(sizeof(*u));
	*u = until;
	hmap_put(&fw->filters, agent_id, u);
}

/* ---- making offers ---- */

const char *fw_active_role(const struct fw_framework *fw)
{
	for (size_t i = 0; i < fw->nroles; i++)
		if (!fw->suppressed[i])
			return fw->roles[i];
	return NULL;
}

static bool role_active(const struct fw_framework *fw, const char *role)
{
	for (size_t i = 0; i < fw->nroles; i++)
		if (!fw->suppressed[i] && !strcmp(fw->roles[i], role))
			return true;
	return false;
}

/* What of a's free resources fw may be offered: the unreserved ones and those reserved for
 * one of its active roles, less what its outstanding offers on a already hold. */
static bool offerable_entry(const struct resource *e, const void *fw)
{
	return !strcmp(e->role, "*") || role_active(fw, e->role);
}

static void offerable(const struct fw_framework *fw, const struct m_agent *a,
		      const struct fw_agent_offers *ao, struct resources *out)
{
	resources_release(out);
	resources_copy_if(out, &a->free, offerable_entry, fw);
	for (size_t i = 0; ao && i < ao->n; i++)
		if (ao->v[i]->fw == fw)
			resources_subtract_upto(out, &ao->v[i]->res);
}

/* A cheap first look (no allocation): whether fw's share of a's free cpus or memory, less
 * what its offers there hold, could reach the minimum of an offer. */
static bool worth_offering(const struct fw_framework *fw, const struct m_agent *a,
			   const struct fw_agent_offers *ao)
{
	double cpus = 0, mem = 0;
	for (size_t i = 0; i < a->free.n; i++) {
		const struct resource *e = &a->free.v[i];
		if (e->type != RES_SCALAR || (strcmp(e->role, "*") && !role_active(fw, e->role)))
			continue;
		if (!strcmp(e->name, "cpus"))
			cpus += e->scalar;
		else if (!strcmp(e->name, "mem"))
			mem += e->scalar;
	}
	for (size_t i = 0; ao && i < ao->n; i++) {
		if (ao->v[i]->fw != fw)
			continue;
		cpus -= resources_scalar(&ao->v[i]->res, "cpus", NULL);
		mem -= resources_scalar(&ao->v[i]->res, "mem", NULL);
	}
	return cpus >= MIN_CPUS || mem >= MIN_MEM;
}

static json_t *offer_json(const struct fw_offer *o, const struct m_agent *a)
{
	const struct fw_framework *fw = o->fw;
	/* Unreserved resources are allocated to the offer's role, reserved ones to theirs;
	 * dynamic reservations carry their reservation info, idle volumes their disk info. */
	json_t *res = resv_offer_json(fw->fws->m, a, &o->res, o->role, fw->refinement);
	char *colon = strrchr(a->http, ':');
	uint64_t port = 0;
	if (!colon || parse_u64(colon + 1, &port) < 0 || port > 65535)
		port = 0;
	return json_pack("{s:{s:s}, s:{s:s}, s:{s:s}, s:s, s:{s:s, s:{s:s, s:s, s:i}, s:s},"
			 " s:{s:s}, s:o, s:o, s:[]}",
			 "id", "value", o->id, "framework_id", "value", fw->id, "agent_id", "value",
			 a->id, "hostname", a->hostname, "url", "scheme", "http", "address",
			 "hostname", a->hostname, "ip", a->ip ? a->ip : "", "port", (int)port,
			 "path", "/slave(1)", "allocation_info", "role", o->role, "resources", res,
			 "attributes", mesos_attributes_to_json(&a->attrs), "executor_ids");
}

/* The quota caps of role per offer, from snap (NULL: no quotas, no caps). */
struct offer_caps {
	bool capped;
	struct quota_amounts all, star;
};

static void caps_of(struct frameworks *fws, const struct quota_snapshot *snap, const char *role,
		    struct offer_caps *c)
{
	c->capped = snap != NULL;
	if (c->capped)
		quota_role_caps(fws->m, snap, role, &c->all, &c->star);
}

/* One offer of a to fw, recorded and claimed at key; NULL when there is too little to
 * offer. fw has an active role and a is connected and unfiltered. */
static struct fw_offer *make_offer(struct frameworks *fws, struct fw_framework *fw,
				   struct m_agent *a, const struct offer_caps *caps,
				   const struct quota_drf_client *key, uint64_t now)
{
	const struct fw_agent_offers *ao = hmap_get(&fws->by_agent, a->id);
	if (!worth_offering(fw, a, ao))
		return NULL;
	struct resources res = RESOURCES_INIT;
	offerable(fw, a, ao, &res);
	if (caps->capped)
		quota_cap_offer(&res, &caps->all, &caps->star);
	if (resources_scalar(&res, "cpus", NULL) < MIN_CPUS &&
	    resources_scalar(&res, "mem", NULL) < MIN_MEM) {
		resources_release(&res);
		return NULL;
	}
	struct fw_offer *o = xcalloc(1, sizeof(*o));
	snprintf(o->id, sizeof(o->id), "%s-O%llu", fws->offer_prefix,
		 (unsigned long long)fws->offer_seq++);
	o->fw = fw;
	o->agent_id = xstrdup(a->id);
	o->role = xstrdup(fw_active_role(fw));
	o->res = res;
	o->expires_usec = now + (uint64_t)(FW_OFFER_TIMEOUT_SEC * 1e6);
	o->claim_until_usec = now + (uint64_t)(FW_OFFER_CLAIM_SEC * 1e6);
	o->key = *key;
	o->key.id = fw->id;
	o->key.ptr = fw;
	hmap_put(&fws->offers, o->id, o);
	by_agent_add(fws, o);
	fw->noffers++;
	return o;
}

static bool can_offer(const struct fw_framework *fw, const struct m_agent *a, uint64_t now)
{
	return fw_subscribed(fw) && fw_active_role(fw) && fw->noffers < FW_MAX_OFFERS &&
	       a->state == AGENT_CONNECTED && !fw_filtered(fw, a->id, now);
}

static void send_offers(struct fw_framework *fw, json_t *arr)
{
	fw_send(fw, json_pack("{s:s, s:{s:o}}", "type", "OFFERS", "offers", "offers", arr));
}

json_t *fw_offer_agent(struct frameworks *fws, struct fw_framework *fw, struct m_agent *a,
		       const struct quota_snapshot *snap, const struct quota_drf_client *key,
		       uint64_t now)
{
	if (!can_offer(fw, a, now))
		return NULL;
	struct offer_caps caps;
	caps_of(fws, snap, fw_active_role(fw), &caps);
	struct fw_offer *o = make_offer(fws, fw, a, &caps, key, now);
	return o ? offer_json(o, a) : NULL;
}

void fw_send_offers(struct fw_framework *fw, json_t *offers)
{
	while (json_array_size(offers) > FW_OFFERS_PER_EVENT) {
		json_t *part = json_array();
		for (size_t i = 0; i < FW_OFFERS_PER_EVENT; i++)
			json_array_append(part, json_array_get(offers, i));
		for (size_t i = 0; i < FW_OFFERS_PER_EVENT; i++)
			json_array_remove(offers, 0);
		send_offers(fw, part);
	}
	if (json_array_size(offers))
		send_offers(fw, offers);
	else
		json_decref(offers);
}

void fw_wake(struct fw_framework *fw)
{
	fw->quiet = false;
	fw->fws->last_offer_usec = 0;
}

void fw_offers_wake_all(struct frameworks *fws)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&fws->fws, &i, &k, &v);)
		fw_wake(v);
}

/* ---- the offer pass ---- */

/* The offers one pass makes to one framework, rendered and sent after the deciding. */
struct pass_offers {
	struct fw_framework *fw;
	struct fw_offer **v;
	size_t n, cap;
};

static void pass_add(struct pass_offers *po, struct fw_offer *o)
{
	if (po->n == po->cap) {
		po->cap = po->cap ? po->cap * 2 : 16;
		po->v = xrealloc(po->v, po->cap * sizeof(*po->v));
	}
	po->v[po->n++] = o;
}

/* Whether the pass may offer a to fw (the offer itself may still come to nothing). */
static bool eligible(const struct frameworks *fws, const struct fw_framework *fw,
		     const struct m_agent *a, uint64_t now)
{
	const struct fw_agent_offers *ao = hmap_get(&fws->by_agent, a->id);
	return (!ao || ao->n < FW_MAX_OFFERS_PER_AGENT) && can_offer(fw, a, now);
}

/* Decides fw's offers of this pass. A framework walks the agents from where the last walk
 * (its own or the framework's before it) stopped, so that the frameworks of a pass start
 * on different agents and every agent gets its turn; it makes at most budget offers, and
 * the pass costs O(offers + agents) rather than O(frameworks x agents). Once a walk goes
 * all the way round, the framework is quiet: later passes look only at the agents that
 * changed since the pass before (changed), until something wakes it (fw_wake: SUBSCRIBE,
 * REVIVE, UPDATE_FRAMEWORK, quota changes) or one of its decline filters runs out. So a
 * pass over frameworks that have declined everything costs O(frameworks + changes), not
 * O(frameworks × agents). */
static void decide(struct frameworks *fws, struct fw_framework *fw, const struct offer_caps *caps,
		   const struct quota_drf_client *key, size_t budget, struct m_agent **changed,
		   size_t nchanged, uint64_t now, struct pass_offers *po)
{
	if (fw->filter_min_usec && fw->filter_min_usec <= now) {
		fw_filters_prune(fw, now); /* also finds the next expiry */
		fw->quiet = false;
	}
	if (fw->quiet) {
		for (size_t i = 0; i < nchanged && po->n < budget; i++) {
			if (!eligible(fws, fw, changed[i], now))
				continue;
			struct fw_offer *o = make_offer(fws, fw, changed[i], caps, key, now);
			if (o)
				pass_add(po, o);
		}
		return;
	}
	const struct hmap *agents = &fws->m->agents;
	size_t start = fws->offer_cursor < agents->cap ? fws->offer_cursor : 0;
	const char *k;
	void *v;
	bool round = true; /* the walk went all the way round */
	/* Two laps over the table: from start to the end, then from 0 up to start. */
	for (int lap = 0; lap < 2 && round; lap++) {
		size_t i = lap ? 0 : start;
		while (hmap_next(agents, &i, &k, &v)) {
			if (lap && i > start)
				break;
			if (po->n >= budget || fw->noffers >= FW_MAX_OFFERS) {
				round = false;
				break;
			}
			struct m_agent *a = v;
			fws->offer_cursor = i;
			if (!eligible(fws, fw, a, now))
				continue;
			struct fw_offer *o = make_offer(fws, fw, a, caps, key, now);
			if (o)
				pass_add(po, o);
		}
	}
	fw->quiet = round;
}

/* What tells the pass that an agent may have something new to offer: its free resources,
 * its state, and how many offers it is in. */
static uint64_t agent_fingerprint(const struct frameworks *fws, const struct m_agent *a)
{
	uint64_t h = 1469598103934665603ull;
#define MIX(x) (h = (h ^ (uint64_t)(x)) * 1099511628211ull)
	MIX(a->state);
	MIX(a->registrations);
	const struct fw_agent_offers *ao = hmap_get(&fws->by_agent, a->id);
	MIX(ao ? ao->n : 0);
	for (size_t i = 0; i < a->free.n; i++) {
		const struct resource *e = &a->free.v[i];
		for (const char *c = e->name; *c; c++)
			MIX(*c);
		for (const char *c = e->role; *c; c++)
			MIX(*c);
		uint64_t bits;
		memcpy(&bits, &e->scalar, sizeof(bits));
		MIX(bits);
		for (size_t r = 0; r < e->nranges; r++) {
			MIX(e->ranges[r].begin);
			MIX(e->ranges[r].end);
		}
		MIX(e->nitems);
	}
#undef MIX
	return h;
}

/* The connected agents whose fingerprint changed since the last pass (in fws->changed,
 * valid until the next call). */
static struct m_agent **changed_agents(struct frameworks *fws, size_t *n)
{
	struct hmap *agents = &fws->m->agents;
	if (fws->changed_cap < hmap_len(agents) + 1) {
		fws->changed_cap = hmap_len(agents) * 2 + 16;
		free(fws->changed);
		fws->changed = xcalloc(fws->changed_cap, sizeof(*fws->changed));
	}
	struct m_agent **out = fws->changed;
	*n = 0;
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(agents, &i, &k, &v);) {
		struct m_agent *a = v;
		uint64_t fp = agent_fingerprint(fws, a);
		if (fp != a->offer_fp && a->state == AGENT_CONNECTED)
			out[(*n)++] = a;
		a->offer_fp = fp;
	}
	return out;
}

void fw_offers_tick(struct frameworks *fws)
{
	struct master *m = fws->m;
	uint64_t now = time_mono_usec();
	const char *k;
	void *v;
	/* Dynamic reservations of agents that (re)registered since the last tick. */
	resv_sync_all(m);
	/* Rescind what timed out or lost its agent. */
	for (size_t i = 0; hmap_next(&fws->offers, &i, &k, &v);) {
		struct fw_offer *o = v;
		struct m_agent *a = hmap_get(&m->agents, o->agent_id);
		if (o->expires_usec <= now || !a || a->state != AGENT_CONNECTED)
			fw_offer_remove(fws, o, true);
	}
	if (fws->last_offer_usec && now - fws->last_offer_usec < OFFER_PERIOD_USEC)
		return;
	fws->last_offer_usec = now ? now : 1;
	for (size_t i = 0; hmap_next(&fws->fws, &i, &k, &v);) {
		struct fw_framework *fw = v;
		if (now - fw->pruned_usec >= FW_FILTER_PRUNE_USEC) {
			fw_filters_prune(fw, now);
			fw->pruned_usec = now;
		}
	}
	/* Deciding: the frameworks in allocation order (alloc.c), each offered what is free.
	 * Nothing to do when no framework may be offered anything (all suppressed: the agents'
	 * fingerprints are left as they are, so the next pass sees every change since), or
	 * when every framework has seen every agent as it is now. */
	bool active = false, awake = false;
	for (size_t i = 0; !awake && hmap_next(&fws->fws, &i, &k, &v);) {
		const struct fw_framework *fw = v;
		if (!fw_subscribed(fw) || !fw_active_role(fw))
			continue;
		active = true;
		awake = !fw->quiet || (fw->filter_min_usec && fw->filter_min_usec <= now);
	}
	size_t nchanged = 0;
	struct m_agent **changed = active ? changed_agents(fws, &nchanged) : NULL;
	if (!awake && !nchanged) {
		fws->pass_offers = 0;
		fws->pass_decide_usec = time_mono_usec() - now;
		fws->pass_send_usec = 0;
		return;
	}
	struct alloc_ctx c;
	alloc_begin(m, &c);
	const struct quota_drf_client *order;
	size_t n = alloc_framework_order(&c, &order);
	bool quotas = quota_any(m);
	/* Each framework's share of the pass: the agents' offer slots split evenly, so that
	 * the first ones in the order do not take every slot. */
	size_t budget = n ? FW_MAX_OFFERS_PER_AGENT * hmap_len(&m->agents) / n : 0;
	budget = budget < FW_MIN_OFFERS_PER_PASS ? FW_MIN_OFFERS_PER_PASS : budget;
	struct pass_offers *po = xcalloc(n + 1, sizeof(*po));
	size_t made = 0;
	for (size_t i = 0; i < n; i++) {
		struct fw_framework *fw = order[i].ptr;
		struct offer_caps caps;
		caps_of(fws, quotas ? alloc_snapshot(&c) : NULL, fw_active_role(fw), &caps);
		po[i].fw = fw;
		decide(fws, fw, &caps, &order[i], budget, changed, nchanged, now, &po[i]);
		made += po[i].n;
	}
	alloc_end(&c);
	/* The fingerprints now include the offers just made. */
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < po[i].n; j++) {
			struct m_agent *a = hmap_get(&m->agents, po[i].v[j]->agent_id);
			if (a)
				a->offer_fp = agent_fingerprint(fws, a);
		}
	uint64_t decided = time_mono_usec();
	/* Rendering and sending, in events of at most FW_OFFERS_PER_EVENT offers. Each offer is
	 * dumped to text as soon as it is built, so that no tree of a whole event is ever held
	 * (less memory, and less heap left fragmented by large trees). */
	struct strbuf sb;
	strbuf_init(&sb);
	for (size_t i = 0; i < n; i++) {
		size_t in_event = 0;
		for (size_t j = 0; j < po[i].n; j++) {
			struct fw_offer *o = po[i].v[j];
			json_t *oj = offer_json(o, hmap_get(&m->agents, o->agent_id));
			char *text = json_dumps(oj, JSON_COMPACT);
			json_decref(oj);
			if (!text)
				continue;
			strbuf_adds(&sb, in_event ? "," : "{\"type\":\"OFFERS\",\"offers\":{\"offers\":[");
			strbuf_adds(&sb, text);
			free(text);
			if (++in_event == FW_OFFERS_PER_EVENT || j + 1 == po[i].n) {
				strbuf_adds(&sb, "]}}");
				fw_send_text(po[i].fw, strbuf_str(&sb), sb.len);
				strbuf_release(&sb);
				strbuf_init(&sb);
				in_event = 0;
			}
		}
		free(po[i].v);
	}
	strbuf_release(&sb);
	free(po);
	fws->pass_offers = made;
	fws->pass_decide_usec = decided - now;
	fws->pass_send_usec = time_mono_usec() - decided;
}

/* ---- DECLINE ---- */

/* Collects the offers named by ids (borrowed array) that belong to fw. A missing or foreign
 * one makes *bad describe it. Returns the number found (at most max). */
static size_t find_offers(struct fw_framework *fw, const json_t *ids, struct fw_offer **out,
			  size_t max, char *bad, size_t badlen)
{
	size_t n = 0;
	size_t i;
	const json_t *e;
	bad[0] = '\0';
	json_array_foreach(ids, i, e) {
		const char *id = json_string_value(json_object_get(e, "value"));
		struct fw_offer *o = id ? hmap_get(&fw->fws->offers, id) : NULL;
		if (!o || o->fw != fw) {
			if (!bad[0])
				snprintf(bad, badlen, "Offer %.100s is no longer valid", id ? id : "");
			continue;
		}
		bool dup = false;
		for (size_t j = 0; j < n; j++)
			dup |= out[j] == o;
		if (dup) {
			if (!bad[0])
				snprintf(bad, badlen, "Offer %.100s appears more than once", id);
			continue;
		}
		if (n && strcmp(out[0]->agent_id, o->agent_id)) {
			if (!bad[0])
				snprintf(bad, badlen, "Offers span more than one agent");
			continue;
		}
		if (n < max)
			out[n++] = o;
	}
	return n;
}

#define MAX_OFFERS_PER_CALL 1024

int fw_call_decline(struct fw_framework *fw, const json_t *decline, char *err, size_t errlen)
{
	const json_t *ids = json_object_get(decline, "offer_ids");
	if (!json_is_array(ids) || json_array_size(ids) > MAX_OFFERS_PER_CALL) {
		snprintf(err, errlen, "'decline.offer_ids' must be an array of at most %d ids",
			 MAX_OFFERS_PER_CALL);
		return -EINVAL;
	}
	double secs = fw_refuse_seconds(json_object_get(decline, "filters"));
	size_t i;
	const json_t *e;
	json_array_foreach(ids, i, e) {
		const char *id = json_string_value(json_object_get(e, "value"));
		struct fw_offer *o = id ? hmap_get(&fw->fws->offers, id) : NULL;
		if (!o || o->fw != fw)
			continue; /* Mesos ignores declines of unknown offers */
		fw_filter_add(fw, o->agent_id, secs);
		fw_offer_remove(fw->fws, o, false);
	}
	return 0;
}

/* ---- ACCEPT / LAUNCH ---- */

static void refuse_task(struct fw_framework *fw, const json_t *ti, const char *agent_id,
			const char *state, const char *reason, const char *message)
{
	const char *id = json_string_value(json_object_get(json_object_get(ti, "task_id"), "value"));
	json_t *s = fw_status_master(id ? id : "", agent_id, state, reason, message);
	log_info("frameworks", "framework '%s': task '%s' refused (%s): %s", fw->id,
		 id ? id : "", state, message);
	fw_send_update(fw, s);
	json_decref(s);
}

static bool task_id_ok(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 255 || id[0] == '.')
		return false;
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		if (*p == '/' || *p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* Builds the agent's TaskSpec (agent-protocol.md §2) from a TaskInfo. 0 and *spec, or
 * -EINVAL with a message. res (the task's resources) was parsed by the caller. */
static int task_spec(struct fw_framework *fw, const struct m_agent *a, const json_t *ti,
		     const struct resources *res, double grace, json_t **spec, char *err,
		     size_t errlen)
{
	const char *id = json_string_value(json_object_get(json_object_get(ti, "task_id"), "value"));
	const char *name = json_string_value(json_object_get(ti, "name"));
	const json_t *cmd = json_object_get(ti, "command");
	const json_t *shell = json_object_get(cmd, "shell");
	bool sh = !json_is_boolean(shell) || json_is_true(shell);
	const char *value = json_string_value(json_object_get(cmd, "value"));
	const json_t *args = json_object_get(cmd, "arguments");
	if ((args && !json_is_array(args)) || json_array_size(args) > 4096) {
		snprintf(err, errlen, "'command.arguments' must be an array of strings");
		return -EINVAL;
	}
	if (!value || !*value) {
		snprintf(err, errlen, "'command.value' is required");
		return -EINVAL;
	}
	json_t *s = json_pack("{s:s, s:s, s:s, s:b, s:f}", "task_id", id, "name", name, "app_id",
			      "", "shell", sh, "kill_grace_period_seconds", grace);
	if (sh) {
		json_object_set_new(s, "cmd", json_string(value));
	} else {
		/* execvp(value, arguments): arguments[0] is argv[0], which berth sets to value. */
		json_t *argv = json_pack("[s]", value);
		size_t i;
		const json_t *x;
		json_array_foreach(args, i, x) {
			if (!json_is_string(x)) {
				snprintf(err, errlen, "'command.arguments' must be an array of strings");
				json_decref(argv);
				json_decref(s);
				return -EINVAL;
			}
			if (i > 0)
				json_array_append_new(argv, json_string(json_string_value(x)));
		}
		json_object_set_new(s, "args", argv);
	}
	json_t *env = json_object();
	const json_t *vars = json_object_get(json_object_get(cmd, "environment"), "variables");
	size_t i;
	const json_t *x;
	json_array_foreach(vars, i, x) {
		const char *n = json_string_value(json_object_get(x, "name"));
		const char *val = json_string_value(json_object_get(x, "value"));
		const char *type = json_string_value(json_object_get(x, "type"));
		if (!n || !*n || strchr(n, '=') || (type && strcmp(type, "VALUE")) ||
		    (!val && !(type && !strcmp(type, "VALUE")))) {
			snprintf(err, errlen, "'command.environment.variables[%zu]' must have a 'name' "
					      "and a 'value' (type VALUE only)", i);
			json_decref(env);
			json_decref(s);
			return -EINVAL;
		}
		json_object_set_new(env, n, json_string(val ? val : ""));
	}
	json_object_set_new(env, "MESOS_TASK_ID", json_string(id));
	json_object_set_new(env, "MESOS_FRAMEWORK_ID", json_string(fw->id));
	json_object_set_new(env, "MESOS_AGENT_ID", json_string(a->id));
	json_t *ports = json_array();
	struct strbuf all = STRBUF_INIT;
	unsigned pi = 0;
	for (size_t k = 0; k < res->n; k++) {
		const struct resource *e = &res->v[k];
		if (strcmp(e->name, "ports") || e->type != RES_RANGES)
			continue;
		for (size_t r = 0; r < e->nranges; r++) {
			for (uint64_t p = e->ranges[r].begin; p <= e->ranges[r].end; p++) {
				json_array_append_new(ports, json_integer((json_int_t)p));
				char key[32], num[32];
				snprintf(key, sizeof(key), "PORT%u", pi++);
				snprintf(num, sizeof(num), "%llu", (unsigned long long)p);
				if (!json_object_get(env, key))
					json_object_set_new(env, key, json_string(num));
				strbuf_addf(&all, "%s%s", all.len ? "," : "", num);
			}
		}
	}
	if (pi && !json_object_get(env, "PORTS"))
		json_object_set_new(env, "PORTS", json_string(strbuf_str(&all)));
	strbuf_release(&all);
	if (!json_object_get(env, "HOST"))
		json_object_set_new(env, "HOST", json_string(a->hostname));
	json_object_set_new(s, "env", env);
	json_object_set_new(s, "resources",
			    json_pack("{s:f, s:f, s:f, s:f, s:o}", "cpus",
				      resources_scalar(res, "cpus", NULL), "mem",
				      resources_scalar(res, "mem", NULL), "disk",
				      resources_scalar(res, "disk", NULL), "gpus",
				      resources_scalar(res, "gpus", NULL), "ports", ports));
	*spec = s;
	return 0;
}

/* Validates one TaskInfo against the offer's agent. 0 with *res filled, or -EINVAL. */
static int task_validate(struct fw_framework *fw, const struct m_agent *a, const json_t *ti,
			 struct resources *res, double *grace, char *err, size_t errlen)
{
	struct master *m = fw->fws->m;
	const char *id = json_string_value(json_object_get(json_object_get(ti, "task_id"), "value"));
	const char *aid = json_string_value(json_object_get(json_object_get(ti, "agent_id"), "value"));
	if (!json_is_object(ti) || !id || !json_is_string(json_object_get(ti, "name"))) {
		snprintf(err, errlen, "A TaskInfo needs 'name', 'task_id' and 'agent_id'");
		return -EINVAL;
	}
	if (!task_id_ok(id)) {
		snprintf(err, errlen, "Task ID '%.300s' is invalid: 1 to 255 bytes, no '/', no "
				      "control characters, not starting with '.'", id);
		return -EINVAL;
	}
	if (hmap_get(&fw->fws->tasks, id) || hmap_get(&m->tasks, id)) {
		snprintf(err, errlen, "Task has duplicate ID: %s", id);
		return -EINVAL;
	}
	if (!aid || strcmp(aid, a->id)) {
		snprintf(err, errlen, "Task uses agent %s but the offer is for agent %s",
			 aid ? aid : "(none)", a->id);
		return -EINVAL;
	}
	if (json_object_get(ti, "executor")) {
		snprintf(err, errlen, "Tasks with a custom 'executor' are not supported by berth: "
				      "use 'command'");
		return -EINVAL;
	}
	if (!json_is_object(json_object_get(ti, "command"))) {
		snprintf(err, errlen, "Task must have 'command' (or 'executor')");
		return -EINVAL;
	}
	const char *ctype =
		json_string_value(json_object_get(json_object_get(ti, "container"), "type"));
	if (ctype && strcmp(ctype, "MESOS")) {
		snprintf(err, errlen, "Container type '%s' is not supported by berth", ctype);
		return -EINVAL;
	}
	char rerr[256];
	if (mesos_resources_from_json(json_object_get(ti, "resources"), res, rerr,
				      sizeof(rerr)) < 0) {
		snprintf(err, errlen, "Invalid resources: %s", rerr);
		return -EINVAL;
	}
	if (resources_range_count(res, "ports", NULL) > FW_MAX_TASK_PORTS) {
		snprintf(err, errlen, "Task asks for more than %d ports", FW_MAX_TASK_PORTS);
		return -EINVAL;
	}
	*grace = 3.0;
	const json_t *ns = json_object_get(
		json_object_get(json_object_get(ti, "kill_policy"), "grace_period"), "nanoseconds");
	if (json_is_integer(ns)) {
		if (json_integer_value(ns) < 0 || json_integer_value(ns) >= 86400LL * 1000000000LL) {
			snprintf(err, errlen, "'kill_policy.grace_period' must be between 0 and 1 day");
			return -EINVAL;
		}
		*grace = (double)json_integer_value(ns) / 1e9;
	}
	return 0;
}

/* Launches one task on a (resources checked by the caller): records it and queues it to
 * be stored, then its LAUNCH to be sent (fw_flush). */
static void launch(struct fw_framework *fw, struct m_agent *a, const json_t *ti,
		   struct resources *res, json_t *spec, double grace)
{
	struct frameworks *fws = fw->fws;
	const char *id = json_string_value(json_object_get(json_object_get(ti, "task_id"), "value"));
	struct fw_task *t = fw_task_new(fws, fw, id, a->id);
	t->name = xstrdup(json_string_value(json_object_get(ti, "name")));
	t->res = *res;
	*res = (struct resources)RESOURCES_INIT;
	t->grace_sec = grace;
	t->agent_gen = fw_agent_view(fws, a)->gen;
	resources_subtract(&a->free, &t->res);
	a->ntasks++;
	fw_task_count(fws, t);
	log_info("frameworks", "framework '%s' launches task '%s' on agent '%s'", fw->id, t->id,
		 a->id);
	fw_task_queue(fws, t, json_pack("{s:s, s:o}", "type", "LAUNCH", "task", spec));
}

static void accept_launch(struct fw_framework *fw, struct m_agent *a, const json_t *tis,
			  const char *role, struct resources *remaining)
{
	size_t i;
	const json_t *ti;
	json_array_foreach(tis, i, ti) {
		struct resources res = RESOURCES_INIT;
		char err[600];
		double grace;
		json_t *spec = NULL;
		if (hmap_len(&fw->fws->tasks) >= FW_MAX_TASKS) {
			refuse_task(fw, ti, a->id, "TASK_ERROR", "REASON_TASK_INVALID",
				    "Too many framework tasks on this master");
		} else if (task_validate(fw, a, ti, &res, &grace, err, sizeof(err)) < 0 ||
			   task_spec(fw, a, ti, &res, grace, &spec, err, sizeof(err)) < 0) {
			refuse_task(fw, ti, a->id, "TASK_ERROR", "REASON_TASK_INVALID", err);
		} else if (resv_launch_check(fw->fws->m, a, json_object_get(ti, "resources"), &res,
					     err, sizeof(err)) < 0) {
			refuse_task(fw, ti, a->id, "TASK_ERROR", "REASON_TASK_INVALID", err);
		} else if (!resources_contains(remaining, &res)) {
			char *want = resources_format(&res), *have = resources_format(remaining);
			snprintf(err, sizeof(err), "Task uses more resources (%.200s) than available in "
						   "the accepted offers (%.200s)", want, have);
			free(want);
			free(have);
			refuse_task(fw, ti, a->id, "TASK_ERROR", "REASON_TASK_INVALID", err);
		} else if (!quota_check(fw->fws->m, role, &res, err, sizeof(err))) {
			refuse_task(fw, ti, a->id, "TASK_ERROR", "REASON_TASK_INVALID", err);
		} else if (!resources_contains(&a->free, &res)) {
			refuse_task(fw, ti, a->id, fw->partition_aware ? "TASK_DROPPED" : "TASK_LOST",
				    "REASON_INVALID_OFFERS",
				    "Task launched with invalid offers: the offered resources were "
				    "taken by another launch on the agent since the offer was made");
		} else {
			resources_subtract(remaining, &res);
			resv_launch_commit(fw->fws->m, a,
					   json_string_value(json_object_get(
						   json_object_get(ti, "task_id"), "value")),
					   json_object_get(ti, "resources"));
			launch(fw, a, ti, &res, spec, grace);
			spec = NULL;
		}
		json_decref(spec);
		resources_release(&res);
	}
}

/* LAUNCH_GROUP: the group's tasks start together or not at all. Each runs as a task of its
 * own on the agent (berth has no default executor: no shared container; the executor's own
 * resources are not taken). Checks the whole group first; on the first problem every task
 * of the group gets the same refusal. */
static void accept_launch_group(struct fw_framework *fw, struct m_agent *a, const json_t *tis,
				const char *role, struct resources *remaining)
{
	struct resources sum = RESOURCES_INIT;
	char err[600] = "";
	const char *state = "TASK_ERROR", *reason = "REASON_TASK_INVALID";
	size_t i;
	const json_t *ti;
	if (!json_array_size(tis))
		snprintf(err, sizeof(err), "A task group needs at least one task");
	json_array_foreach(tis, i, ti) {
		if (err[0])
			break;
		struct resources res = RESOURCES_INIT;
		double grace;
		json_t *spec = NULL;
		if (task_validate(fw, a, ti, &res, &grace, err, sizeof(err)) == 0 &&
		    task_spec(fw, a, ti, &res, grace, &spec, err, sizeof(err)) == 0 &&
		    resv_launch_check(fw->fws->m, a, json_object_get(ti, "resources"), &res, err,
				      sizeof(err)) == 0)
			resources_add(&sum, &res);
		json_decref(spec);
		resources_release(&res);
	}
	if (!err[0] && hmap_len(&fw->fws->tasks) + json_array_size(tis) > FW_MAX_TASKS)
		snprintf(err, sizeof(err), "Too many framework tasks on this master");
	if (!err[0] && !resources_contains(remaining, &sum))
		snprintf(err, sizeof(err), "The task group uses more resources than available in "
					   "the accepted offers");
	if (!err[0] && !quota_check(fw->fws->m, role, &sum, err, sizeof(err)) && !err[0])
		snprintf(err, sizeof(err), "Quota of role '%s' exceeded", role);
	if (!err[0] && !resources_contains(&a->free, &sum)) {
		state = fw->partition_aware ? "TASK_DROPPED" : "TASK_LOST";
		reason = "REASON_INVALID_OFFERS";
		snprintf(err, sizeof(err), "Task launched with invalid offers: the offered resources "
					   "were taken by another launch on the agent since the offer "
					   "was made");
	}
	resources_release(&sum);
	if (err[0]) {
		char msg[700];
		snprintf(msg, sizeof(msg), "Task group refused: %s", err);
		json_array_foreach(tis, i, ti)
			refuse_task(fw, ti, a->id, state, reason, msg);
		return;
	}
	accept_launch(fw, a, tis, role, remaining);
}

/* "RESERVE" for the operation type "RESERVE" (etc.), or NULL: reservation operations. */
static const char *resv_op_name(const char *type)
{
	static const char *const ops[] = { "RESERVE", "UNRESERVE", "CREATE", "DESTROY" };
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
		if (!strcmp(type, ops[i]))
			return ops[i];
	return NULL;
}

/* Sends UPDATE_OPERATION_STATUS when the operation asked for feedback (it has an id). */
static void op_status(struct fw_framework *fw, const json_t *op, const char *agent_id,
		      const char *state, const char *message)
{
	const char *id = json_string_value(json_object_get(json_object_get(op, "id"), "value"));
	if (!id)
		return;
	json_t *st = json_pack("{s:{s:s}, s:s}", "operation_id", "value", id, "state", state);
	if (message)
		json_object_set_new(st, "message", json_string(message));
	if (agent_id)
		json_object_set_new(st, "agent_id", json_pack("{s:s}", "value", agent_id));
	fw_send(fw, json_pack("{s:s, s:{s:o}}", "type", "UPDATE_OPERATION_STATUS",
			      "update_operation_status", "status", st));
}

/* RESERVE / UNRESERVE / CREATE / DESTROY against the accepted offers (remaining) and the
 * agent (reservations.c); a refused operation changes nothing and is dropped, as Mesos
 * drops invalid operations. */
static void accept_resv(struct fw_framework *fw, struct m_agent *a, const json_t *op,
			const char *type, const char *bad, struct resources *remaining)
{
	static const struct {
		const char *type, *field, *list;
	} map[] = { { "RESERVE", "reserve", "resources" },
		    { "UNRESERVE", "unreserve", "resources" },
		    { "CREATE", "create", "volumes" },
		    { "DESTROY", "destroy", "volumes" } };
	size_t k = 0;
	while (k + 1 < ARRAY_SIZE(map) && strcmp(map[k].type, type))
		k++;
	const json_t *arr = json_object_get(json_object_get(op, map[k].field), map[k].list);
	char err[600];
	int r = -EINVAL;
	if (bad[0]) {
		snprintf(err, sizeof(err), "%s", bad);
	} else {
		/* A framework reserves (and uses reservations) only for its own roles. */
		struct resources asked = RESOURCES_INIT;
		err[0] = '\0';
		r = mesos_resources_from_json(arr, &asked, err, sizeof(err));
		for (size_t j = 0; r == 0 && j < asked.n; j++) {
			if (strcmp(asked.v[j].role, "*") && !fw_has_role(fw, asked.v[j].role)) {
				snprintf(err, sizeof(err), "Invalid %s: role '%s' is not one of the "
							   "framework's roles", type, asked.v[j].role);
				r = -EINVAL;
			}
		}
		resources_release(&asked);
		if (r == 0)
			r = resv_agent_apply(fw->fws->m, a, remaining, type, arr, err, sizeof(err));
	}
	if (r < 0) {
		log_info("frameworks", "framework '%s': %s refused: %s", fw->id, type, err);
		op_status(fw, op, a ? a->id : NULL, "OPERATION_ERROR", err);
	} else {
		op_status(fw, op, a->id, "OPERATION_FINISHED", NULL);
	}
}

int fw_call_accept(struct fw_framework *fw, const json_t *accept, char *err, size_t errlen)
{
	struct frameworks *fws = fw->fws;
	const json_t *ids = json_object_get(accept, "offer_ids");
	const json_t *ops = json_object_get(accept, "operations");
	if (!json_is_array(ids) || json_array_size(ids) > MAX_OFFERS_PER_CALL) {
		snprintf(err, errlen, "'accept.offer_ids' must be an array of at most %d ids",
			 MAX_OFFERS_PER_CALL);
		return -EINVAL;
	}
	if ((ops && !json_is_array(ops)) || json_array_size(ops) > 1024) {
		snprintf(err, errlen, "'accept.operations' must be an array of operations");
		return -EINVAL;
	}
	size_t i;
	const json_t *op;
	json_array_foreach(ops, i, op) {
		const char *t = json_string_value(json_object_get(op, "type"));
		if (!t) {
			snprintf(err, errlen, "'accept.operations[%zu].type' is required", i);
			return -EINVAL;
		}
		if (!strcmp(t, "LAUNCH") &&
		    !json_is_array(json_object_get(json_object_get(op, "launch"), "task_infos"))) {
			snprintf(err, errlen, "'accept.operations[%zu].launch.task_infos' is required",
				 i);
			return -EINVAL;
		}
	}
	struct fw_offer *offers[MAX_OFFERS_PER_CALL];
	char bad[300];
	size_t n = find_offers(fw, ids, offers, ARRAY_SIZE(offers), bad, sizeof(bad));
	struct m_agent *a = n ? hmap_get(&fws->m->agents, offers[0]->agent_id) : NULL;
	if (!bad[0] && !n)
		snprintf(bad, sizeof(bad), "No offers specified");
	if (!bad[0] && (!a || a->state != AGENT_CONNECTED))
		snprintf(bad, sizeof(bad), "Agent of the offers is no longer connected");
	struct resources remaining = RESOURCES_INIT;
	for (size_t k = 0; k < n; k++)
		resources_add(&remaining, &offers[k]->res);
	char *agent_id = a ? xstrdup(a->id) : NULL;
	/* The offers' allocation role: the role the launched tasks are accounted to. */
	char *role = xstrdup(n ? offers[0]->role : "*");
	for (size_t k = 0; k < n; k++)
		fw_offer_remove(fws, offers[k], false);
	json_array_foreach(ops, i, op) {
		const char *t = json_string_value(json_object_get(op, "type"));
		if (!strcmp(t, "LAUNCH") || !strcmp(t, "LAUNCH_GROUP")) {
			const json_t *tis =
				!strcmp(t, "LAUNCH") ?
					json_object_get(json_object_get(op, "launch"), "task_infos") :
					json_object_get(json_object_get(json_object_get(op, "launch_group"),
									"task_group"),
							"tasks");
			if (bad[0]) {
				char msg[400];
				snprintf(msg, sizeof(msg), "Task launched with invalid offers: %s", bad);
				size_t j;
				const json_t *ti;
				json_array_foreach(tis, j, ti)
					refuse_task(fw, ti, agent_id,
						    fw->partition_aware ? "TASK_DROPPED" : "TASK_LOST",
						    "REASON_INVALID_OFFERS", msg);
			} else if (!strcmp(t, "LAUNCH_GROUP")) {
				accept_launch_group(fw, a, tis, role, &remaining);
			} else {
				accept_launch(fw, a, tis, role, &remaining);
			}
		} else if (resv_op_name(t)) {
			accept_resv(fw, a, op, t, bad, &remaining);
		} else {
			log_info("frameworks", "framework '%s': operation '%s' is not supported, "
					       "ignored", fw->id, t);
		}
	}
	/* What the ACCEPT left unused is declined with its filter. */
	if (!bad[0] && agent_id && remaining.n)
		fw_filter_add(fw, agent_id, fw_refuse_seconds(json_object_get(accept, "filters")));
	resources_release(&remaining);
	free(agent_id);
	free(role);
	return 0;
}
