/* Role weights and quotas (issue 3): configuration, persistence, usage accounting and the
 * rules the allocators (fw-offers.c here, the built-in frameworks through rm_alloc_*) enforce.
 *
 * Configuration: per role a weight (default 1) and a quota of guarantees and limits over
 * the scalar kinds cpus, mem, disk and gpus (a kind without a limit is unlimited; without
 * a guarantee, 0). Set with UPDATE_WEIGHTS / UPDATE_QUOTA, read with GET_WEIGHTS /
 * GET_QUOTA, persisted at roles/<role> as {"role", "weight"?, "guarantees"?, "limits"?}.
 * A role back at the defaults has no record.
 *
 * Accounting (the ledger, m->roles, ledger.c; quota_snapshot copies it): a role's
 * allocation is the resources of
 *  - the built-in frameworks' takes in that role (the apps framework: in->res of live
 *    instances and in->reserved, the disk a resident instance keeps on its agent);
 *  - held framework tasks allocated to that role: the role the task's resources are
 *    reserved for when it is one of the framework's roles, else the framework's first
 *    role, as at the time the task was held (kept in t->alloc_role).
 * Each is added when taken and taken away when given back, under the role recorded at the
 * take (in->res_role, in->rsv_role, t->alloc_role), so that a role that changes meanwhile
 * (an app's update, UPDATE_FRAMEWORK) cannot leave the ledger off.
 * Toward a guarantee a role also consumes its unallocated reservations (free resources
 * reserved for it on connected agents): they are its own anyway.
 *
 * Rules:
 *  - limit: allocation(role) + more <= limit(role), kind by kind.
 *  - guarantee headroom: the unmet guarantees of the other roles, unmet(R) = max(0,
 *    guarantee(R) - consumed(R)), are held back from the cluster's free unreserved ("*")
 *    resources: a role may take "*" resources of a kind only up to
 *    free*(cluster) - sum over R != role of unmet(R).
 *  - weights: frameworks are offered in the order of their role's dominant share divided by
 *    the role's weight, then their own dominant share, then id (weighted DRF, two levels,
 *    as Mesos's hierarchical sorter does for a flat role tree).
 *
 * The configuration lives in m->quota_roles, loaded at start (quota_load) and released by
 * quota_free_all. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/strbuf.h"
#include "master/fw-int.h"
#include "master/master-int.h"
#include "master/state-json.h"
#include "model/mesos-resources.h"


#define QUOTA_MAX_ROLES 1024
#define QUOTA_EPS 1e-9

struct quota_role {
	char *name;
	double weight;
	bool weight_set;
	bool quota_set;
	struct quota_amounts guar;  /* 0 when not guaranteed */
	struct quota_amounts limit; /* INFINITY when not limited */
};

/* ---- configuration ---- */


static void role_free(struct quota_role *q)
{
	if (!q)
		return;
	free(q->name);
	free(q);
}

static struct quota_role *role_new(const char *name)
{
	struct quota_role *q = xcalloc(1, sizeof(*q));
	q->name = xstrdup(name);
	q->weight = 1.0;
	quota_amounts_zero(&q->guar);
	quota_amounts_unlimited(&q->limit);
	return q;
}

static json_t *amounts_map(const struct quota_amounts *a, bool skip_inf)
{
	json_t *o = json_object();
	for (int i = 0; i < QUOTA_NKINDS; i++) {
		if ((skip_inf && isinf(a->v[i])) || (!skip_inf && a->v[i] <= QUOTA_EPS))
			continue;
		json_object_set_new(o, quota_kinds[i], json_pack("{s:f}", "value", a->v[i]));
	}
	return o;
}

/* Reads {"cpus": {"value": 2}, …} (or, in the store, the same) into a. 0 or -EINVAL. */
static int amounts_parse(const json_t *j, const char *what, struct quota_amounts *a, char *err,
			 size_t errlen)
{
	if (!j)
		return 0;
	if (!json_is_object(j)) {
		snprintf(err, errlen, "'%s' must be an object of {\"<resource>\": {\"value\": <n>}}",
			 what);
		return -EINVAL;
	}
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)j, k, v) {
		int idx = quota_kind_index(k);
		if (idx < 0) {
			snprintf(err, errlen, "'%s': unknown resource '%.100s' (berth's quotas cover "
					      "cpus, mem, disk and gpus)", what, k);
			return -EINVAL;
		}
		json_t *val = json_object_get(v, "value");
		double d = json_is_number(val) ? json_number_value(val) : NAN;
		if (!json_is_object(v) || !isfinite(d) || d < 0 || d > RESOURCES_MAX_SCALAR) {
			snprintf(err, errlen, "'%s.%s.value' must be a finite number >= 0", what, k);
			return -EINVAL;
		}
		a->v[idx] = d;
	}
	return 0;
}

static int role_store(struct master *m, const struct quota_role *q)
{
	if (!m->store)
		return 0;
	char key[STORE_MAX_KEY];
	snprintf(key, sizeof(key), "roles/%s", q->name);
	if (!q->weight_set && !q->quota_set) {
		int r = store_delete(m->store, key, STORE_ANY_VERSION);
		return r == -ENOENT ? 0 : r;
	}
	json_t *j = json_pack("{s:s}", "role", q->name);
	if (q->weight_set)
		json_object_set_new(j, "weight", json_real(q->weight));
	if (q->quota_set) {
		json_object_set_new(j, "guarantees", amounts_map(&q->guar, false));
		json_object_set_new(j, "limits", amounts_map(&q->limit, true));
	}
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	int r = store_put(m->store, key, text, strlen(text), STORE_ANY_VERSION, NULL);
	free(text);
	return r;
}

static int load_one(const char *key, const char *val, size_t len, uint64_t version, void *ctx)
{
	struct master *m = ctx;
	(void)version;
	json_error_t je;
	json_t *j = json_loadb(val, len, 0, &je);
	const char *name = json_string_value(json_object_get(j, "role"));
	char err[256];
	struct quota_role *q = name && resources_role_valid(name) ? role_new(name) : NULL;
	json_t *w = json_object_get(j, "weight");
	if (q && json_is_number(w) && json_number_value(w) > 0) {
		q->weight = json_number_value(w);
		q->weight_set = true;
	}
	if (q && (json_object_get(j, "guarantees") || json_object_get(j, "limits"))) {
		q->quota_set = true;
		if (amounts_parse(json_object_get(j, "guarantees"), "guarantees", &q->guar, err,
				  sizeof(err)) < 0 ||
		    amounts_parse(json_object_get(j, "limits"), "limits", &q->limit, err,
				  sizeof(err)) < 0) {
			role_free(q);
			q = NULL;
		}
	}
	if (!q || hmap_len(&m->quota_roles) >= QUOTA_MAX_ROLES)
		log_warn("master", "store: bad role record '%s', ignored", key);
	else
		role_free(hmap_put(&m->quota_roles, q->name, q));
	if (q && hmap_get(&m->quota_roles, q->name) != q)
		role_free(q);
	json_decref(j);
	return 0;
}

void quota_free_all(struct master *m)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->quota_roles, &i, &k, &v);)
		role_free(v);
	hmap_release(&m->quota_roles);
}

int quota_load(struct master *m)
{
	hmap_init(&m->quota_roles);
	return m->store ? store_list(m->store, "roles/", load_one, m) : 0;
}

static const struct quota_role *role_get(struct master *m, const char *name)
{
	return hmap_get(&m->quota_roles, name);
}

double quota_role_weight(struct master *m, const char *role)
{
	const struct quota_role *q = role_get(m, role);
	return q ? q->weight : 1.0;
}

/* ---- accounting ---- */

static struct quota_amounts *snap_slot(struct hmap *h, const char *role)
{
	struct quota_amounts *a = hmap_get(h, role);
	if (!a) {
		a = xmalloc(sizeof(*a));
		quota_amounts_zero(a);
		hmap_put(h, role, a);
	}
	return a;
}

const char *quota_fw_task_role(const struct fw_task *t)
{
	const struct fw_framework *fw = t->fw;
	if (!fw || !fw->nroles)
		return "*";
	for (size_t i = 0; i < t->res.n; i++)
		if (strcmp(t->res.v[i].role, "*") && fw_has_role(fw, t->res.v[i].role))
			return t->res.v[i].role;
	return fw->roles[0];
}

void quota_snapshot_build(struct master *m, struct quota_snapshot *s)
{
	hmap_init(&s->alloc);
	hmap_init(&s->resv_free);
	quota_amounts_zero(&s->star_free);
	quota_amounts_zero(&s->total);
	const char *k;
	void *v;
	/* Allocations: the ledger, O(roles). */
	for (size_t i = 0; hmap_next(&m->roles.roles, &i, &k, &v);)
		quota_amounts_add(snap_slot(&s->alloc, k), v);
	for (size_t i = 0; hmap_next(&m->agents, &i, &k, &v);) {
		const struct m_agent *a = v;
		if (a->state != AGENT_CONNECTED)
			continue;
		struct quota_amounts t;
		quota_amounts_of(rm_agent_total(a), NULL, &t);
		quota_amounts_add(&s->total, &t);
		for (size_t j = 0; j < rm_agent_free(a)->n; j++) {
			const struct resource *e = &rm_agent_free(a)->v[j];
			int idx = e->type == RES_SCALAR ? quota_kind_index(e->name) : -1;
			if (idx < 0)
				continue;
			if (e->role[0] == '*' && !e->role[1])
				s->star_free.v[idx] += e->scalar;
			else
				snap_slot(&s->resv_free, e->role)->v[idx] += e->scalar;
		}
	}
}

void quota_snapshot_take(struct quota_snapshot *s, const char *role, const struct resources *r)
{
	struct quota_amounts all, star;
	quota_amounts_of(r, NULL, &all);
	quota_amounts_of(r, "*", &star);
	quota_amounts_add(snap_slot(&s->alloc, role), &all);
	for (int i = 0; i < QUOTA_NKINDS; i++) {
		s->star_free.v[i] -= star.v[i];
		if (s->star_free.v[i] < 0)
			s->star_free.v[i] = 0;
	}
	for (size_t j = 0; j < r->n; j++) {
		const struct resource *e = &r->v[j];
		int idx = e->type == RES_SCALAR ? quota_kind_index(e->name) : -1;
		struct quota_amounts *rf = idx >= 0 && strcmp(e->role, "*") ?
						   hmap_get(&s->resv_free, e->role) :
						   NULL;
		if (rf)
			rf->v[idx] = rf->v[idx] > e->scalar ? rf->v[idx] - e->scalar : 0;
	}
}

void quota_snapshot_release(struct quota_snapshot *s)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&s->alloc, &i, &k, &v);)
		free(v);
	for (size_t i = 0; hmap_next(&s->resv_free, &i, &k, &v);)
		free(v);
	hmap_release(&s->alloc);
	hmap_release(&s->resv_free);
}

void quota_snapshot_alloc(const struct quota_snapshot *s, const char *role,
			  struct quota_amounts *out)
{
	const struct quota_amounts *a = hmap_get(&s->alloc, role);
	if (a)
		*out = *a;
	else
		quota_amounts_zero(out);
}

/* What role consumes toward its guarantee: its allocation and its unallocated
 * reservations. */
static void consumed(const struct quota_snapshot *s, const char *role, struct quota_amounts *out)
{
	quota_snapshot_alloc(s, role, out);
	const struct quota_amounts *r = hmap_get(&s->resv_free, role);
	if (r)
		quota_amounts_add(out, r);
}

/* Sum of the other roles' unmet guarantees. */
static void held_for_others(struct master *m, const struct quota_snapshot *s, const char *role,
			    struct quota_amounts *out)
{
	quota_amounts_zero(out);
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->quota_roles, &i, &k, &v);) {
		const struct quota_role *q = v;
		if (!q->quota_set || !strcmp(q->name, role))
			continue;
		struct quota_amounts c, u;
		consumed(s, q->name, &c);
		quota_unmet(&q->guar, &c, &u);
		quota_amounts_add(out, &u);
	}
}

void quota_role_caps(struct master *m, const struct quota_snapshot *s, const char *role,
		     struct quota_amounts *all_cap, struct quota_amounts *star_cap)
{
	const struct quota_role *q = role_get(m, role);
	struct quota_amounts alloc;
	quota_snapshot_alloc(s, role, &alloc);
	if (q && q->quota_set)
		quota_headroom(&alloc, &q->limit, all_cap);
	else
		quota_amounts_unlimited(all_cap);
	struct quota_amounts held;
	held_for_others(m, s, role, &held);
	for (int i = 0; i < QUOTA_NKINDS; i++) {
		double h = s->star_free.v[i] - held.v[i];
		star_cap->v[i] = held.v[i] <= QUOTA_EPS ? INFINITY : (h > 0 ? h : 0);
	}
}

bool quota_any(struct master *m)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->quota_roles, &i, &k, &v);)
		if (((const struct quota_role *)v)->quota_set)
			return true;
	return false;
}

bool quota_check(struct master *m, const char *role, const struct resources *more, char *err,
		 size_t errlen)
{
	if (!quota_any(m))
		return true;
	struct quota_snapshot s;
	quota_snapshot_build(m, &s);
	bool ok = quota_check_in(m, &s, role, more, err, errlen);
	quota_snapshot_release(&s);
	return ok;
}

bool quota_check_in(struct master *m, const struct quota_snapshot *s, const char *role,
		    const struct resources *more, char *err, size_t errlen)
{
	const struct quota_role *q = role_get(m, role);
	struct quota_amounts alloc, want, star_want, all_cap, star_cap;
	quota_snapshot_alloc(s, role, &alloc);
	quota_amounts_of(more, NULL, &want);
	quota_amounts_of(more, "*", &star_want);
	quota_role_caps(m, s, role, &all_cap, &star_cap);
	char why[300];
	bool ok = true;
	if (q && q->quota_set && !quota_fits(&alloc, &want, &q->limit, why, sizeof(why))) {
		if (err)
			snprintf(err, errlen, "Quota limit of role '%s' exceeded: %s", role, why);
		ok = false;
	}
	for (int i = 0; ok && i < QUOTA_NKINDS; i++) {
		if (star_want.v[i] > star_cap.v[i] + QUOTA_EPS) {
			if (err)
				snprintf(err, errlen, "Role '%s' may not take %g unreserved %s: the rest "
						      "is held for other roles' quota guarantees "
						      "(%g available to it)",
					 role, star_want.v[i], quota_kinds[i], star_cap.v[i]);
			ok = false;
		}
	}
	return ok;
}

bool quota_allows(struct master *m, const char *role, const struct resources *more)
{
	return quota_check(m, role, more, NULL, 0);
}

bool quota_app_allows(struct master *m, const struct quota_snapshot *snap, const struct app *def)
{
	if (!quota_any(m))
		return true;
	const char *role = def->role ? def->role : "*";
	/* One task's scalars. The guarantee rule sees them as unreserved unless the role's own
	 * unallocated reservations in the cluster could cover them. */
	struct quota_amounts want = { { def->cpus, def->mem, def->disk, def->gpus } };
	const struct quota_amounts *own = strcmp(role, "*") ? hmap_get(&snap->resv_free, role) : NULL;
	struct resources more = RESOURCES_INIT;
	for (int i = 0; i < QUOTA_NKINDS; i++) {
		double from_own = own ? (own->v[i] < want.v[i] ? own->v[i] : want.v[i]) : 0;
		if (from_own > QUOTA_EPS)
			resources_add_scalar(&more, quota_kinds[i], role, from_own);
		if (want.v[i] - from_own > QUOTA_EPS)
			resources_add_scalar(&more, quota_kinds[i], "*", want.v[i] - from_own);
	}
	bool ok = quota_check_in(m, snap, role, &more, NULL, 0);
	resources_release(&more);
	return ok;
}

/* ---- operator API ---- */

static void reply_err(struct evhttp_request *req, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void reply_err(struct evhttp_request *req, int code, const char *fmt, ...)
{
	char buf[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	http_reply_text(req, code, buf);
}

/* A copy of role's configuration (defaults when unknown), for an update. */
static struct quota_role *role_copy(struct master *m, const char *name)
{
	const struct quota_role *old = role_get(m, name);
	struct quota_role *q = role_new(name);
	if (old) {
		q->weight = old->weight;
		q->weight_set = old->weight_set;
		q->quota_set = old->quota_set;
		q->guar = old->guar;
		q->limit = old->limit;
	}
	return q;
}

/* Finds name among the n updates so far (a role named twice: the last one wins). */
static struct quota_role *upd_find(struct quota_role **upd, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(upd[i]->name, name))
			return upd[i];
	return NULL;
}

/* Persists the n updated roles together, then puts them in place (taken). 0 or -errno
 * (nothing changed, the copies freed). */
static int roles_commit(struct master *m, struct quota_role **upd, size_t n)
{
	int r = 0;
	if (m->store && n > 1)
		r = store_txn_begin(m->store);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = role_store(m, upd[i]);
	if (m->store && n > 1) {
		if (r == 0)
			r = store_txn_commit(m->store);
		else
			store_txn_abort(m->store);
	}
	for (size_t i = 0; i < n; i++) {
		if (r < 0) {
			role_free(upd[i]);
		} else if (!upd[i]->weight_set && !upd[i]->quota_set) {
			role_free(hmap_del(&m->quota_roles, upd[i]->name));
			role_free(upd[i]);
		} else {
			role_free(hmap_put(&m->quota_roles, upd[i]->name, upd[i]));
		}
	}
	if (r == 0 && m->fw)
		fw_offers_wake_all(m->fw); /* what frameworks may be offered has changed */
	return r;
}

static size_t roles_added(struct master *m, struct quota_role **upd, size_t n)
{
	size_t added = 0;
	for (size_t i = 0; i < n; i++)
		added += !hmap_get(&m->quota_roles, upd[i]->name);
	return added;
}

static void upd_free(struct quota_role **upd, size_t n)
{
	for (size_t i = 0; i < n; i++)
		role_free(upd[i]);
	free(upd);
}

static void update_weights(struct master *m, struct evhttp_request *req, const json_t *call)
{
	const json_t *infos = json_object_get(json_object_get(call, "update_weights"),
					      "weight_infos");
	if (!json_is_array(infos) || json_array_size(infos) > QUOTA_MAX_ROLES) {
		reply_err(req, 400, "Failed to validate master::Call: Expecting "
				    "'update_weights.weight_infos' to be an array of at most %d "
				    "{role, weight}", QUOTA_MAX_ROLES);
		return;
	}
	struct quota_role **upd = xcalloc(json_array_size(infos) + 1, sizeof(*upd));
	size_t n = 0;
	size_t i;
	const json_t *e;
	json_array_foreach(infos, i, e) {
		const char *role = json_string_value(json_object_get(e, "role"));
		const json_t *w = json_object_get(e, "weight");
		if (!role || !resources_role_valid(role)) {
			reply_err(req, 400, "Invalid weight_infos[%zu]: '%.200s' is not a valid role", i,
				  role ? role : "(missing)");
			upd_free(upd, n);
			return;
		}
		if (!json_is_number(w) || !isfinite(json_number_value(w)) ||
		    json_number_value(w) <= 0) {
			reply_err(req, 400, "Invalid weight_infos[%zu]: the weight of role '%.200s' "
					    "must be a finite number > 0", i, role);
			upd_free(upd, n);
			return;
		}
		struct quota_role *q = upd_find(upd, n, role);
		if (!q)
			q = upd[n++] = role_copy(m, role);
		q->weight = json_number_value(w);
		q->weight_set = q->weight != 1.0;
	}
	if (hmap_len(&m->quota_roles) + roles_added(m, upd, n) > QUOTA_MAX_ROLES) {
		reply_err(req, 400, "Too many configured roles (at most %d)", QUOTA_MAX_ROLES);
		upd_free(upd, n);
		return;
	}
	for (size_t j = 0; j < n; j++)
		log_info("master", "role '%s': weight %g", upd[j]->name, upd[j]->weight);
	int r = roles_commit(m, upd, n);
	free(upd);
	if (r < 0) {
		reply_err(req, 503, "Failed to persist the weights: %s", strerror(-r));
		return;
	}
	http_reply_text(req, 200, "");
}

static char *amounts_text(const struct quota_amounts *a)
{
	struct strbuf sb = STRBUF_INIT;
	for (int i = 0; i < QUOTA_NKINDS; i++) {
		if (a->v[i] <= QUOTA_EPS)
			continue;
		char num[32];
		resources_format_scalar(a->v[i], num);
		strbuf_addf(&sb, "%s%s:%s", sb.len ? "; " : "", quota_kinds[i], num);
	}
	return strbuf_detach(&sb, NULL);
}

static void update_quota(struct master *m, struct evhttp_request *req, const json_t *call)
{
	const json_t *uq = json_object_get(call, "update_quota");
	const json_t *configs = json_object_get(uq, "quota_configs");
	const json_t *force = json_object_get(uq, "force");
	if (!json_is_object(uq) || !json_is_array(configs) ||
	    json_array_size(configs) > QUOTA_MAX_ROLES || (force && !json_is_boolean(force))) {
		reply_err(req, 400, "Failed to validate master::Call: Expecting 'update_quota' with "
				    "'quota_configs' (an array of at most %d {role, guarantees, "
				    "limits}) and an optional boolean 'force'", QUOTA_MAX_ROLES);
		return;
	}
	struct quota_role **upd = xcalloc(json_array_size(configs) + 1, sizeof(*upd));
	size_t n = 0;
	size_t i;
	const json_t *e;
	char err[400];
	json_array_foreach(configs, i, e) {
		const char *role = json_string_value(json_object_get(e, "role"));
		if (!role || !resources_role_valid(role) || !strcmp(role, "*")) {
			reply_err(req, 400, "Invalid QuotaConfig quota_configs[%zu]: '%.200s' is not a "
					    "valid role (and '*' cannot have a quota)", i,
				  role ? role : "(missing)");
			upd_free(upd, n);
			return;
		}
		struct quota_amounts g, l;
		quota_amounts_zero(&g);
		quota_amounts_unlimited(&l);
		if (amounts_parse(json_object_get(e, "guarantees"), "guarantees", &g, err,
				  sizeof(err)) < 0 ||
		    amounts_parse(json_object_get(e, "limits"), "limits", &l, err, sizeof(err)) < 0) {
			reply_err(req, 400, "Invalid QuotaConfig for role '%.200s': %s", role, err);
			upd_free(upd, n);
			return;
		}
		for (int k = 0; k < QUOTA_NKINDS; k++) {
			if (g.v[k] > l.v[k] + QUOTA_EPS) {
				reply_err(req, 400, "Invalid QuotaConfig for role '%.200s': the guarantee "
						    "of %s (%g) exceeds its limit (%g)", role,
					  quota_kinds[k], g.v[k], l.v[k]);
				upd_free(upd, n);
				return;
			}
		}
		struct quota_role *q = upd_find(upd, n, role);
		if (!q)
			q = upd[n++] = role_copy(m, role);
		q->guar = g;
		q->limit = l;
		/* No guarantees and no limits: the default quota, i.e. none. */
		q->quota_set = false;
		for (int k = 0; k < QUOTA_NKINDS; k++)
			q->quota_set |= g.v[k] > QUOTA_EPS || !isinf(l.v[k]);
	}
	if (hmap_len(&m->quota_roles) + roles_added(m, upd, n) > QUOTA_MAX_ROLES) {
		reply_err(req, 400, "Too many configured roles (at most %d)", QUOTA_MAX_ROLES);
		upd_free(upd, n);
		return;
	}
	if (!json_is_true(force)) {
		/* The guarantees of all roles, as they would be, against the cluster's unreserved
		 * resources. */
		struct quota_amounts sum;
		quota_amounts_zero(&sum);
		const char *k;
		void *v;
		for (size_t j = 0; hmap_next(&m->quota_roles, &j, &k, &v);) {
			const struct quota_role *q = v;
			if (q->quota_set && !upd_find(upd, n, q->name))
				quota_amounts_add(&sum, &q->guar);
		}
		for (size_t j = 0; j < n; j++)
			if (upd[j]->quota_set)
				quota_amounts_add(&sum, &upd[j]->guar);
		struct quota_amounts star;
		quota_amounts_zero(&star);
		for (size_t j = 0; hmap_next(&m->agents, &j, &k, &v);) {
			const struct m_agent *a = v;
			struct quota_amounts one;
			if (a->state != AGENT_CONNECTED)
				continue;
			quota_amounts_of(rm_agent_total(a), "*", &one);
			quota_amounts_add(&star, &one);
		}
		for (int x = 0; x < QUOTA_NKINDS; x++) {
			if (sum.v[x] > star.v[x] + QUOTA_EPS) {
				char *st = amounts_text(&sum), *ct = amounts_text(&star);
				reply_err(req, 409, "Total quota guarantees '%.200s' exceed the cluster's "
						    "unreserved resources '%.200s' (%s); use 'force' to "
						    "bypass this check", st, *ct ? ct : "none",
					  quota_kinds[x]);
				free(st);
				free(ct);
				upd_free(upd, n);
				return;
			}
		}
	}
	for (size_t j = 0; j < n; j++) {
		char *gt = amounts_text(&upd[j]->guar);
		struct quota_amounts lim = upd[j]->limit;
		for (int x = 0; x < QUOTA_NKINDS; x++)
			if (isinf(lim.v[x]))
				lim.v[x] = 0;
		char *lt = amounts_text(&lim);
		log_info("master", "role '%s': quota guarantees '%s', limits '%s'", upd[j]->name, gt,
			 lt);
		free(gt);
		free(lt);
	}
	int r = roles_commit(m, upd, n);
	free(upd);
	if (r < 0) {
		reply_err(req, 503, "Failed to persist the quota: %s", strerror(-r));
		return;
	}
	http_reply_text(req, 200, "");
}

/* The roles, sorted by name (deterministic replies). */
static int role_name_cmp(const void *a, const void *b)
{
	return strcmp((*(struct quota_role *const *)a)->name, (*(struct quota_role *const *)b)->name);
}

static size_t roles_sorted(struct master *m, struct quota_role ***out)
{
	struct quota_role **v = xcalloc(hmap_len(&m->quota_roles) + 1, sizeof(*v));
	size_t n = 0;
	const char *k;
	void *val;
	for (size_t i = 0; hmap_next(&m->quota_roles, &i, &k, &val);)
		v[n++] = val;
	qsort(v, n, sizeof(*v), role_name_cmp);
	*out = v;
	return n;
}

json_t *quota_get_weights(struct master *m)
{
	struct quota_role **v;
	size_t n = roles_sorted(m, &v);
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		if (v[i]->weight_set)
			json_array_append_new(arr, json_pack("{s:s, s:f}", "role", v[i]->name,
							     "weight", v[i]->weight));
	free(v);
	json_t *o = json_object();
	if (json_array_size(arr))
		json_object_set(o, "weight_infos", arr);
	json_decref(arr);
	return o;
}

json_t *quota_get_quota(struct master *m)
{
	struct quota_role **v;
	size_t n = roles_sorted(m, &v);
	json_t *infos = json_array(), *configs = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct quota_role *q = v[i];
		if (!q->quota_set)
			continue;
		/* QuotaInfo (pre-1.9 clients): the guarantees as Resources. */
		struct resources g = RESOURCES_INIT;
		for (int k = 0; k < QUOTA_NKINDS; k++)
			if (q->guar.v[k] > QUOTA_EPS)
				resources_add_scalar(&g, quota_kinds[k], "*", q->guar.v[k]);
		json_t *info = json_pack("{s:s}", "role", q->name);
		if (g.n)
			json_object_set_new(info, "guarantee", mesos_resources_to_json(&g, NULL, false));
		resources_release(&g);
		json_array_append_new(infos, info);
		json_t *c = json_pack("{s:s}", "role", q->name);
		json_t *gm = amounts_map(&q->guar, false), *lm = amounts_map(&q->limit, true);
		if (json_object_size(gm))
			json_object_set(c, "guarantees", gm);
		if (json_object_size(lm))
			json_object_set(c, "limits", lm);
		json_decref(gm);
		json_decref(lm);
		json_array_append_new(configs, c);
	}
	free(v);
	json_t *status = json_object();
	if (json_array_size(infos))
		json_object_set(status, "infos", infos);
	if (json_array_size(configs))
		json_object_set(status, "configs", configs);
	json_decref(infos);
	json_decref(configs);
	return json_pack("{s:o}", "status", status);
}

void quota_roles_annotate(struct master *m, json_t *get_roles)
{
	json_t *arr = json_object_get(get_roles, "roles");
	if (!json_is_array(arr))
		return;
	/* Configured roles nobody uses yet are roles too. */
	struct quota_role **v;
	size_t n = roles_sorted(m, &v);
	for (size_t i = 0; i < n; i++) {
		bool found = false;
		size_t j;
		json_t *r;
		json_array_foreach(arr, j, r)
		{
			const char *nm = json_string_value(json_object_get(r, "name"));
			found |= nm && !strcmp(nm, v[i]->name);
		}
		if (!found)
			json_array_append_new(arr, json_pack("{s:s, s:f}", "name", v[i]->name, "weight",
							     1.0));
	}
	free(v);
	struct quota_snapshot s;
	quota_snapshot_build(m, &s);
	size_t j;
	json_t *r;
	json_array_foreach(arr, j, r) {
		const char *name = json_string_value(json_object_get(r, "name"));
		if (!name)
			continue;
		const struct quota_role *q = hmap_get(&m->quota_roles, name);
		json_object_set_new(r, "weight", json_real(q ? q->weight : 1.0));
		struct quota_amounts c;
		consumed(&s, name, &c);
		json_t *quota = json_pack("{s:s}", "role", name);
		json_t *gm = amounts_map(q ? &q->guar : &(struct quota_amounts){ { 0 } }, false);
		struct quota_amounts unl;
		quota_amounts_unlimited(&unl);
		json_t *lm = amounts_map(q ? &q->limit : &unl, true);
		json_t *cm = amounts_map(&c, false);
		if (json_object_size(gm))
			json_object_set(quota, "guarantees", gm);
		if (json_object_size(lm))
			json_object_set(quota, "limits", lm);
		if (json_object_size(cm))
			json_object_set(quota, "consumed", cm);
		json_decref(gm);
		json_decref(lm);
		json_decref(cm);
		json_object_set_new(r, "quota", quota);
	}
	quota_snapshot_release(&s);
}

bool quota_operator_call(struct master *m, struct evhttp_request *req, const char *type,
			 const json_t *call)
{
	if (!strcmp(type, "UPDATE_WEIGHTS"))
		update_weights(m, req, call);
	else if (!strcmp(type, "UPDATE_QUOTA"))
		update_quota(m, req, call);
	else if (!strcmp(type, "GET_WEIGHTS"))
		operator_reply(req, 200, json_pack("{s:s, s:o}", "type", type, "get_weights",
						    quota_get_weights(m)));
	else if (!strcmp(type, "GET_QUOTA"))
		operator_reply(req, 200, json_pack("{s:s, s:o}", "type", type, "get_quota",
						    quota_get_quota(m)));
	else
		return false;
	return true;
}
