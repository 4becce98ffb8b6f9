/* The offer pass: who is offered what, when (docs/scheduler-api.md "Offers").
 *
 *  - Offers are optimistic (DESIGN.md §4): each subscribed framework with an unsuppressed
 *    role is offered the free resources (the ledger's) of connected agents it has no DECLINE
 *    filter for, less what its own outstanding offers there hold, even when the same
 *    resources sit in another framework's offer. The resources offered are the
 *    unreserved ones ("*") and those reserved for one of its unsuppressed roles; quotas cap
 *    them (quota.c).
 *  - Frameworks are served in the allocation order of alloc.c (weighted DRF over the
 *    frameworks and the apps framework); each offer claims its resources for
 *    FW_OFFER_CLAIM_SEC against the clients after its framework in that order.
 *  - Bounds: an agent is in at most FW_MAX_OFFERS_PER_AGENT offers from the pass, a
 *    framework gets at most its share of those slots per pass and FW_MAX_OFFERS outstanding,
 *    an OFFERS event holds at most FW_OFFERS_PER_EVENT offers. A pass first decides every
 *    offer, then renders and sends them (their times are kept for bench/alloc).
 *  - A framework whose walk went round every agent is quiet (see decide()): it is offered
 *    only agents that changed, found by a fingerprint of each agent's free resources, state
 *    and offer count, until it is woken or a filter runs out. */
#include <string.h>

#include "base/mem.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "json/jtext.h"
#include "master/fw-int.h"
#include "model/mesos-resources.h"

#define OFFER_PERIOD_USEC 1000000 /* a pass at most this often, unless forced */
#define MIN_CPUS 0.01
#define MIN_MEM 32.0
#define REC_ROOM 24 /* room for a RecordIO length line ("<digits>\n") */

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
	resources_copy_if(out, rm_agent_free(a), offerable_entry, fw);
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
	for (size_t i = 0; i < rm_agent_free(a)->n; i++) {
		const struct resource *e = &rm_agent_free(a)->v[i];
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

json_t *fw_offer_json(const struct fw_offer *o, const struct m_agent *a)
{
	const struct fw_framework *fw = o->fw;
	/* Unreserved resources are allocated to the offer's role, reserved ones to theirs;
	 * dynamic reservations carry their reservation info, idle volumes their disk info. */
	json_t *res = resv_offer_json(fw->fws->m, a, &o->res, o->role, fw->refinement);
	int port = registry_agent_port(a);
	/* Mesos: the ids of the framework's executors running on the agent. */
	const json_t *ids = fw_executor_ids(fw->fws, a->id, fw->id);
	return json_pack("{s:{s:s}, s:{s:s}, s:{s:s}, s:s, s:{s:s, s:{s:s, s:s, s:i}, s:s},"
			 " s:{s:s}, s:o, s:o, s:o}",
			 "id", "value", o->id, "framework_id", "value", fw->id, "agent_id", "value",
			 a->id, "hostname", a->hostname, "url", "scheme", "http", "address",
			 "hostname", a->hostname, "ip", a->ip ? a->ip : "", "port", port,
			 "path", "/slave(1)", "allocation_info", "role", o->role, "resources", res,
			 "attributes", mesos_attributes_to_json(&a->attrs), "executor_ids",
			 ids ? json_deep_copy(ids) : json_array());
}

/* ---- offers as text ----
 * The offer pass writes offers straight to text when their agent's resources are plain
 * (no dynamic reservations or volumes), which is most of the time: the same JSON as
 * fw_offer_json (test-fw-pass compares them), without building a tree per offer. */

/* One resource entry as mesos_resources_to_json writes it. */
static void text_resource(struct strbuf *sb, const struct resource *e, const char *alloc_role,
			  bool refinement)
{
	strbuf_adds(sb, "{\"name\":");
	jtext_str(sb, e->name);
	strbuf_adds(sb, ",\"role\":");
	jtext_str(sb, e->role);
	switch (e->type) {
	case RES_SCALAR:
		strbuf_adds(sb, ",\"type\":\"SCALAR\",\"scalar\":{\"value\":");
		jtext_real(sb, e->scalar);
		strbuf_addch(sb, '}');
		break;
	case RES_RANGES:
		strbuf_adds(sb, ",\"type\":\"RANGES\",\"ranges\":{\"range\":[");
		for (size_t k = 0; k < e->nranges; k++) {
			strbuf_adds(sb, k ? ",{\"begin\":" : "{\"begin\":");
			jtext_uint(sb, e->ranges[k].begin);
			strbuf_adds(sb, ",\"end\":");
			jtext_uint(sb, e->ranges[k].end);
			strbuf_addch(sb, '}');
		}
		strbuf_adds(sb, "]}");
		break;
	case RES_SET:
		strbuf_adds(sb, ",\"type\":\"SET\",\"set\":{\"item\":[");
		for (size_t k = 0; k < e->nitems; k++) {
			if (k)
				strbuf_addch(sb, ',');
			jtext_str(sb, e->items[k]);
		}
		strbuf_adds(sb, "]}");
		break;
	}
	if (refinement && strcmp(e->role, "*")) {
		strbuf_adds(sb, ",\"reservations\":[{\"type\":\"STATIC\",\"role\":");
		jtext_str(sb, e->role);
		strbuf_adds(sb, "}]");
	}
	/* Unreserved resources are allocated to the offer's role, reserved ones to theirs. */
	strbuf_adds(sb, ",\"allocation_info\":{\"role\":");
	jtext_str(sb, strcmp(e->role, "*") ? e->role : alloc_role);
	strbuf_adds(sb, "}}");
}

void fw_offer_agent_text(struct m_agent *a)
{
	if (a->offer_head)
		return;
	struct strbuf sb;
	strbuf_init(&sb);
	strbuf_adds(&sb, "\"agent_id\":{\"value\":");
	jtext_str(&sb, a->id);
	strbuf_adds(&sb, "},\"hostname\":");
	jtext_str(&sb, a->hostname);
	strbuf_adds(&sb, ",\"url\":{\"scheme\":\"http\",\"address\":{\"hostname\":");
	jtext_str(&sb, a->hostname);
	strbuf_adds(&sb, ",\"ip\":");
	jtext_str(&sb, a->ip ? a->ip : "");
	strbuf_addf(&sb, ",\"port\":%d},\"path\":\"/slave(1)\"}", registry_agent_port(a));
	a->offer_head = strbuf_detach(&sb, NULL);
	json_t *attrs = mesos_attributes_to_json(&a->attrs);
	a->offer_attrs = json_dumps(attrs, JSON_COMPACT);
	json_decref(attrs);
	if (!a->offer_attrs)
		a->offer_attrs = xstrdup("[]");
}

bool fw_offer_text(struct strbuf *sb, const struct fw_offer *o, struct m_agent *a)
{
	const struct fw_framework *fw = o->fw;
	if (!resv_agent_plain(fw->fws->m, a))
		return false;
	fw_offer_agent_text(a);
	strbuf_adds(sb, "{\"id\":{\"value\":");
	jtext_str(sb, o->id);
	strbuf_adds(sb, "},\"framework_id\":{\"value\":");
	jtext_str(sb, fw->id);
	strbuf_adds(sb, "},");
	strbuf_adds(sb, a->offer_head);
	strbuf_adds(sb, ",\"allocation_info\":{\"role\":");
	jtext_str(sb, o->role);
	strbuf_adds(sb, "},\"resources\":[");
	for (size_t i = 0; i < o->res.n; i++) {
		if (i)
			strbuf_addch(sb, ',');
		text_resource(sb, &o->res.v[i], o->role, fw->refinement);
	}
	strbuf_adds(sb, "],\"attributes\":");
	strbuf_adds(sb, a->offer_attrs);
	/* Mesos: the ids of the framework's executors running on the agent. */
	const json_t *ids = fw_executor_ids(fw->fws, a->id, fw->id);
	strbuf_adds(sb, ",\"executor_ids\":[");
	for (size_t i = 0; i < json_array_size(ids); i++) {
		strbuf_adds(sb, i ? ",{\"value\":" : "{\"value\":");
		jtext_str(sb, json_string_value(json_object_get(json_array_get(ids, i), "value")));
		strbuf_addch(sb, '}');
	}
	strbuf_adds(sb, "]}");
	return true;
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

/* The next offer id: "<master's offer prefix>-O<sequence>". */
static void offer_id(struct frameworks *fws, char *buf, size_t size)
{
	char num[24];
	size_t at = sizeof(num);
	uint64_t v = fws->offer_seq++;
	do
		num[--at] = (char)('0' + v % 10);
	while (v /= 10);
	size_t plen = strlen(fws->offer_prefix), nlen = sizeof(num) - at;
	if (plen + 2 + nlen + 1 > size) { /* cannot happen with the prefixes the master makes */
		snprintf(buf, size, "O%llu", (unsigned long long)fws->offer_seq - 1);
		return;
	}
	memcpy(buf, fws->offer_prefix, plen);
	memcpy(buf + plen, "-O", 2);
	memcpy(buf + plen + 2, num + at, nlen);
	buf[plen + 2 + nlen] = '\0';
}

/* One offer of a to fw, recorded and claimed at key; NULL when there is too little to
 * offer. fw has an active role and a is connected and unfiltered. */
static struct fw_offer *make_offer(struct frameworks *fws, struct fw_framework *fw,
				   struct m_agent *a, const struct offer_caps *caps,
				   const struct quota_drf_client *key, uint64_t now)
{
	const struct fw_agent_offers *ao = &a->offers;
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
	/* One allocation: the offer, then its agent id and role (fw_offer_free). */
	const char *role = fw_active_role(fw);
	size_t alen = strlen(a->id) + 1, rlen = strlen(role) + 1;
	struct fw_offer *o = xcalloc(1, sizeof(*o) + alen + rlen);
	o->agent_id = memcpy((char *)(o + 1), a->id, alen);
	o->role = memcpy(o->agent_id + alen, role, rlen);
	offer_id(fws, o->id, sizeof(o->id));
	o->fw = fw;
	o->res = res;
	o->expires_usec = now + (uint64_t)(FW_OFFER_TIMEOUT_SEC * 1e6);
	o->claim_until_usec = now + (uint64_t)(FW_OFFER_CLAIM_SEC * 1e6);
	o->key = *key;
	o->key.id = fw->id;
	o->key.ptr = fw;
	hmap_put(&fws->offers, o->id, o);
	fw_offer_index(o, a);
	fw->noffers++;
	return o;
}

static bool can_offer(const struct fw_framework *fw, const struct m_agent *a, uint64_t now)
{
	return fw_subscribed(fw) && fw_active_role(fw) && fw->noffers < FW_MAX_OFFERS &&
	       a->state == AGENT_CONNECTED && !a->deactivated && !fw_filtered(fw, a->id, now);
}

struct fw_offer *fw_offer_agent(struct frameworks *fws, struct fw_framework *fw,
				struct m_agent *a, const struct quota_snapshot *snap,
				const struct quota_drf_client *key, uint64_t now)
{
	if (!can_offer(fw, a, now))
		return NULL;
	struct offer_caps caps;
	caps_of(fws, snap, fw_active_role(fw), &caps);
	return make_offer(fws, fw, a, &caps, key, now);
}

void fw_offer_batch_add(struct fw_offer_batch *b, struct fw_offer *o, struct m_agent *a)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		b->v = xrealloc(b->v, b->cap * sizeof(*b->v));
		b->agents = xrealloc(b->agents, b->cap * sizeof(*b->agents));
	}
	b->agents[b->n] = a;
	b->v[b->n++] = o;
}

/* Each offer is written as text as soon as its turn comes (no tree of a whole event is ever
 * held), after room left in front of the event for its RecordIO length line. */
void fw_offer_batch_send(struct fw_offer_batch *b, struct strbuf *sb)
{
	size_t in_event = 0;
	for (size_t j = 0; j < b->n; j++) {
		struct fw_offer *o = b->v[j];
		struct m_agent *a = b->agents[j];
		if (!in_event) {
			strbuf_reset(sb);
			strbuf_addf(sb, "%*s", REC_ROOM, "");
			strbuf_adds(sb, "{\"type\":\"OFFERS\",\"offers\":{\"offers\":[");
		} else {
			strbuf_addch(sb, ',');
		}
		if (!fw_offer_text(sb, o, a)) {
			json_t *oj = fw_offer_json(o, a);
			char *text = json_dumps(oj, JSON_COMPACT);
			json_decref(oj);
			strbuf_adds(sb, text ? text : "{}");
			free(text);
		}
		if (++in_event == FW_OFFERS_PER_EVENT || j + 1 == b->n) {
			strbuf_adds(sb, "]}}");
			char head[REC_ROOM + 1];
			int hl = snprintf(head, sizeof(head), "%zu\n", sb->len - REC_ROOM);
			memcpy(sb->buf + REC_ROOM - hl, head, (size_t)hl);
			fw_send_record(b->fw, sb->buf + REC_ROOM - hl, sb->len - REC_ROOM + (size_t)hl);
			in_event = 0;
		}
	}
	free(b->v);
	free(b->agents);
	b->v = NULL;
	b->agents = NULL;
	b->n = b->cap = 0;
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

/* Whether the pass may offer a to fw (the offer itself may still come to nothing). */
static bool eligible(const struct fw_framework *fw, const struct m_agent *a, uint64_t now)
{
	return a->offers.n < FW_MAX_OFFERS_PER_AGENT && can_offer(fw, a, now);
}

/* Whether one of fw's decline filters has run out since its last walk. */
static bool filter_due(const struct fw_framework *fw, uint64_t now)
{
	return fw->filter_min_usec && fw->filter_min_usec <= now;
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
		   size_t nchanged, uint64_t now, struct fw_offer_batch *po)
{
	if (filter_due(fw, now)) {
		fw_filters_prune(fw, now); /* also finds the next expiry */
		fw->quiet = false;
	}
	if (fw->quiet) {
		for (size_t i = 0; i < nchanged && po->n < budget; i++) {
			if (!eligible(fw, changed[i], now))
				continue;
			struct fw_offer *o = make_offer(fws, fw, changed[i], caps, key, now);
			if (o)
				fw_offer_batch_add(po, o, changed[i]);
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
			if (!eligible(fw, a, now))
				continue;
			struct fw_offer *o = make_offer(fws, fw, a, caps, key, now);
			if (o)
				fw_offer_batch_add(po, o, a);
		}
	}
	fw->quiet = round;
}

/* What tells the pass that an agent may have something new to offer: its free resources
 * and its state (a->offer_fp), and how many offers it is in (a->offer_n). */
static uint64_t agent_fingerprint(const struct m_agent *a)
{
	/* Each step hashes the previous hash with the next values (in memory only). */
	uint64_t w[6] = { (uint64_t)a->state, (uint64_t)a->registrations };
	uint64_t h = hmap_hash_bytes(w, 2 * sizeof(w[0]));
	for (size_t i = 0; i < rm_agent_free(a)->n; i++) {
		const struct resource *e = &rm_agent_free(a)->v[i];
		w[0] = h, w[1] = hmap_hash(e->name), w[2] = hmap_hash(e->role);
		memcpy(&w[3], &e->scalar, sizeof(w[3]));
		w[4] = e->nitems, w[5] = e->nranges;
		h = hmap_hash_bytes(w, sizeof(w));
		for (size_t r = 0; r < e->nranges; r++) {
			w[0] = h, w[1] = e->ranges[r].begin, w[2] = e->ranges[r].end;
			h = hmap_hash_bytes(w, 3 * sizeof(w[0]));
		}
	}
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
		uint64_t fp = agent_fingerprint(a);
		unsigned no = (unsigned)a->offers.n;
		if ((fp != a->offer_fp || no != a->offer_n) && a->state == AGENT_CONNECTED)
			out[(*n)++] = a;
		a->offer_fp = fp;
		a->offer_n = no;
	}
	return out;
}

void fw_offers_tick(struct frameworks *fws)
{
	struct master *m = fws->m;
	uint64_t now = time_mono_usec();
	const char *k;
	void *v;
	/* Rescind what timed out or lost its agent (or whose agent was deactivated). */
	for (size_t i = 0; hmap_next(&fws->offers, &i, &k, &v);) {
		struct fw_offer *o = v;
		struct m_agent *a = hmap_get(&m->agents, o->agent_id);
		if (o->expires_usec <= now || !a || a->state != AGENT_CONNECTED || a->deactivated)
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
		awake = !fw->quiet || filter_due(fw, now);
	}
	size_t nchanged = 0;
	struct m_agent **changed = active ? changed_agents(fws, &nchanged) : NULL;
	if (!awake && !nchanged) {
		fws->pass_offers = 0;
		fws->pass_decide_usec = time_mono_usec() - now;
		fws->pass_send_usec = 0;
		return;
	}
	struct alloc_ctx *c = rm_alloc_begin(m, NULL);
	const struct quota_drf_client *order;
	size_t n = alloc_framework_order(c, &order);
	bool quotas = quota_any(m);
	/* Each framework's share of the pass: the agents' offer slots split evenly, so that
	 * the first ones in the order do not take every slot. */
	size_t budget = n ? FW_MAX_OFFERS_PER_AGENT * hmap_len(&m->agents) / n : 0;
	budget = budget < FW_MIN_OFFERS_PER_PASS ? FW_MIN_OFFERS_PER_PASS : budget;
	struct fw_offer_batch *po = xcalloc(n + 1, sizeof(*po));
	size_t made = 0;
	for (size_t i = 0; i < n; i++) {
		struct fw_framework *fw = order[i].ptr;
		struct offer_caps caps;
		caps_of(fws, quotas ? alloc_snapshot(c) : NULL, fw_active_role(fw), &caps);
		po[i].fw = fw;
		decide(fws, fw, &caps, &order[i], budget, changed, nchanged, now, &po[i]);
		made += po[i].n;
	}
	rm_alloc_end(c);
	/* The fingerprints now include the offers just made (offers change nothing else). */
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < po[i].n; j++)
			po[i].agents[j]->offer_n = (unsigned)po[i].agents[j]->offers.n;
	uint64_t decided = time_mono_usec();
	/* Rendering and sending, one buffer for the whole pass. */
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < n; i++)
		fw_offer_batch_send(&po[i], &sb);
	strbuf_release(&sb);
	free(po);
	fws->pass_offers = made;
	fws->pass_decide_usec = decided - now;
	fws->pass_send_usec = time_mono_usec() - decided;
}
