/* Dynamic reservations and persistent volumes (issue 3, reference/compat.md §1.5–1.7, §4.1).
 *
 * Static reservations come from the agent's resources text and are already in a->total.
 * Dynamic ones move resources on one agent from role "*" to a role R (keeping principal and
 * labels): in a->total and a->free alike, so used = total - free stays right. A persistent
 * volume is carved out of reserved disk: it changes neither total nor free (its disk keeps
 * its role), only how that disk is offered (as a volume) and what may be done with it.
 *
 * Rules (every operation is all or nothing):
 *  - RESERVE: the role is not "*"; the unreserved resources are free.
 *  - UNRESERVE: a dynamic reservation of that role (and labels) holds them; they are free;
 *    the disk of the role's volumes stays reserved (no unreserve before destroy).
 *  - CREATE: disk reserved for a role, with a persistence id (unique per role on the agent)
 *    and a container path, fitting in the role's free disk not already holding volumes.
 *  - DESTROY: the volume exists and no live task uses it.
 * -EINVAL is a malformed request (400); -ENOSPC, -EEXIST, -ENOENT and -EBUSY break a rule
 * against the current state (409).
 *
 * Per agent state lives in m->resv (struct resv_state, by agent id) and in the store at
 * reservations/<agent id>/state; it is loaded when the master starts, before the agents,
 * and the dynamic reservations are applied to an agent's total each time it (re)registers
 * (its resources text holds only the static part): see resv_total. An agent's total and
 * free resources are the ledger's: an operation here computes the new total and hands it to
 * ledger_set_total. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "master/fw-int.h"
#include "master/resv-int.h"
#include "model/mesos-resources.h"

#define EPS 1e-9
#define RESV_MAX_GROUPS 1024
#define RESV_MAX_VOLUMES 1024

int resv_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return code;
}

/* ---- state ---- */

struct resv_state *resv_state_new(void)
{
	return xcalloc(1, sizeof(struct resv_state));
}

static void state_clear(struct resv_state *s)
{
	for (size_t i = 0; i < s->ng; i++) {
		free(s->g[i].role);
		free(s->g[i].principal);
		json_decref(s->g[i].labels);
		resources_release(&s->g[i].res);
	}
	for (size_t i = 0; i < s->nv; i++) {
		struct resv_vol *v = &s->v[i];
		free(v->id);
		free(v->role);
		free(v->principal);
		free(v->res_principal);
		json_decref(v->labels);
		free(v->path);
		free(v->mode);
		free(v->task_id);
	}
	free(s->g);
	free(s->v);
	s->g = NULL;
	s->v = NULL;
	s->ng = s->nv = 0;
}

void resv_state_free(struct resv_state *s)
{
	if (!s)
		return;
	state_clear(s);
	free(s);
}

static json_t *labels_or_null(const json_t *l)
{
	return l ? json_deep_copy(l) : json_null();
}

json_t *resv_state_to_json(const struct resv_state *s)
{
	json_t *groups = json_array(), *vols = json_array();
	for (size_t i = 0; i < s->ng; i++) {
		char *text = resources_format(&s->g[i].res);
		json_array_append_new(groups, json_pack("{s:s, s:s, s:o, s:s}", "role", s->g[i].role,
							"principal", s->g[i].principal, "labels",
							labels_or_null(s->g[i].labels),
							"resources", text));
		free(text);
	}
	for (size_t i = 0; i < s->nv; i++) {
		const struct resv_vol *v = &s->v[i];
		json_array_append_new(
			vols, json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:f, s:s?}", "id", v->id,
					"role", v->role, "principal", v->principal, "res_principal",
					v->res_principal, "labels", labels_or_null(v->labels), "path",
					v->path, "mode", v->mode, "size", v->size, "task_id",
					v->task_id));
	}
	return json_pack("{s:o, s:o}", "reservations", groups, "volumes", vols);
}

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static json_t *labels_in(const json_t *l)
{
	const json_t *arr = json_object_get(l, "labels");
	if (!json_is_object(l) || !json_array_size(arr))
		return NULL;
	return json_deep_copy(l);
}

int resv_state_from_json(struct resv_state *s, const json_t *j)
{
	state_clear(s);
	size_t i;
	const json_t *e;
	json_array_foreach(json_object_get(j, "reservations"), i, e) {
		struct resources r = RESOURCES_INIT;
		char err[128];
		if (resources_parse(jstr(e, "resources"), &r, err, sizeof(err)) < 0 ||
		    s->ng >= RESV_MAX_GROUPS) {
			resources_release(&r);
			return -EINVAL;
		}
		s->g = xrealloc(s->g, (s->ng + 1) * sizeof(*s->g));
		s->g[s->ng++] = (struct resv_group){ xstrdup(jstr(e, "role")),
						     xstrdup(jstr(e, "principal")),
						     labels_in(json_object_get(e, "labels")), r };
	}
	json_array_foreach(json_object_get(j, "volumes"), i, e) {
		if (s->nv >= RESV_MAX_VOLUMES)
			return -EINVAL;
		const char *tid = json_string_value(json_object_get(e, "task_id"));
		s->v = xrealloc(s->v, (s->nv + 1) * sizeof(*s->v));
		s->v[s->nv++] = (struct resv_vol){
			xstrdup(jstr(e, "id")),	      xstrdup(jstr(e, "role")),
			xstrdup(jstr(e, "principal")), xstrdup(jstr(e, "res_principal")),
			labels_in(json_object_get(e, "labels")),
			xstrdup(jstr(e, "path")),      xstrdup(jstr(e, "mode")),
			json_number_value(json_object_get(e, "size")), tid ? xstrdup(tid) : NULL
		};
	}
	return 0;
}

/* ---- helpers on struct resources ---- */

/* out (initialised) += src with every entry's role replaced by role. */
static void add_with_role(struct resources *out, const struct resources *src, const char *role)
{
	for (size_t i = 0; i < src->n; i++) {
		struct resource e = src->v[i];
		e.role = (char *)role;
		struct resources one = { &e, 1 };
		resources_add(out, &one);
	}
}

static bool res_empty(const struct resources *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct resource *e = &r->v[i];
		if ((e->type == RES_SCALAR && e->scalar > EPS) ||
		    (e->type == RES_RANGES && e->nranges) || (e->type == RES_SET && e->nitems))
			return false;
	}
	return true;
}

bool resv_labels_equal(const json_t *a, const json_t *b)
{
	if (!a || !b)
		return !a && !b;
	return json_equal(a, b);
}

/* Reservation info of a Resource entry: the innermost of "reservations", else
 * "reservation" (pre-refinement). */
void resv_entry_reservation(const json_t *e, const char **principal, const json_t **labels)
{
	const json_t *rs = json_object_get(e, "reservations");
	const json_t *r = json_array_size(rs) ? json_array_get(rs, json_array_size(rs) - 1) :
						json_object_get(e, "reservation");
	*principal = json_string_value(json_object_get(r, "principal"));
	*labels = json_object_get(r, "labels");
	if (!json_array_size(json_object_get(*labels, "labels")))
		*labels = NULL;
}

/* Disk held by role's volumes: all (in_use NULL) or only those no live task uses. */
double resv_vol_disk(const struct resv_state *s, const char *role, resv_in_use_fn in_use,
		       void *ctx, bool only_idle)
{
	double d = 0;
	for (size_t i = 0; i < s->nv; i++) {
		const struct resv_vol *v = &s->v[i];
		if (strcmp(v->role, role))
			continue;
		if (only_idle && v->task_id && in_use && in_use(v->task_id, ctx))
			continue;
		d += v->size;
	}
	return d;
}

struct resv_vol *resv_vol_find(struct resv_state *s, const char *role, const char *id)
{
	for (size_t i = 0; i < s->nv; i++)
		if (!strcmp(s->v[i].role, role) && !strcmp(s->v[i].id, id))
			return &s->v[i];
	return NULL;
}

/* ---- the operations ---- */

struct resv_ctx {
	struct resv_state *s;
	struct resources *total, *free, *offer;
	resv_in_use_fn in_use;
	void *ctx;
};

static int op_reserve(struct resv_ctx *c, const json_t *e, const struct resources *one,
		      const char *role, char *err, size_t errlen)
{
	if (!strcmp(role, "*"))
		return resv_fail(err, errlen, -EINVAL, "Invalid RESERVE: resources must name a role "
						   "other than '*' to reserve for");
	if (json_object_get(json_object_get(e, "disk"), "persistence"))
		return resv_fail(err, errlen, -EINVAL, "Invalid RESERVE: a persistent volume cannot be "
						   "reserved; RESERVE the disk, then CREATE it");
	struct resources from = RESOURCES_INIT;
	add_with_role(&from, one, "*");
	int r = 0;
	if (!resources_contains(c->free, &from) || (c->offer && !resources_contains(c->offer, &from))) {
		char *want = resources_format(&from), *have = resources_format(c->offer ? c->offer : c->free);
		r = resv_fail(err, errlen, -ENOSPC, "Insufficient unreserved resources to reserve: asked "
					       "for %.200s, available %.200s", want, have);
		free(want);
		free(have);
		resources_release(&from);
		return r;
	}
	struct resources *sets[] = { c->total, c->free, c->offer };
	for (size_t i = 0; i < 3; i++) {
		if (!sets[i])
			continue;
		resources_subtract(sets[i], &from);
		resources_add(sets[i], one);
	}
	resources_release(&from);
	const char *p;
	const json_t *labels;
	resv_entry_reservation(e, &p, &labels);
	struct resv_state *s = c->s;
	for (size_t i = 0; i < s->ng; i++) {
		if (!strcmp(s->g[i].role, role) && !strcmp(s->g[i].principal, p ? p : "") &&
		    resv_labels_equal(s->g[i].labels, labels)) {
			resources_add(&s->g[i].res, one);
			return 0;
		}
	}
	if (s->ng >= RESV_MAX_GROUPS)
		return resv_fail(err, errlen, -ENOSPC, "Too many distinct reservations on this agent");
	s->g = xrealloc(s->g, (s->ng + 1) * sizeof(*s->g));
	s->g[s->ng] = (struct resv_group){ xstrdup(role), xstrdup(p ? p : ""),
					   labels ? json_deep_copy(labels) : NULL, RESOURCES_INIT };
	resources_add(&s->g[s->ng].res, one);
	s->ng++;
	return 0;
}

static int op_unreserve(struct resv_ctx *c, const json_t *e, const struct resources *one,
			const char *role, char *err, size_t errlen)
{
	if (!strcmp(role, "*"))
		return resv_fail(err, errlen, -EINVAL, "Invalid UNRESERVE: the resources are not reserved");
	if (json_object_get(json_object_get(e, "disk"), "persistence"))
		return resv_fail(err, errlen, -EBUSY, "Invalid UNRESERVE: the resources hold a persistent "
						  "volume; DESTROY it first");
	const char *p;
	const json_t *labels;
	resv_entry_reservation(e, &p, &labels);
	struct resv_state *s = c->s;
	struct resv_group *g = NULL;
	for (size_t i = 0; i < s->ng && !g; i++)
		if (!strcmp(s->g[i].role, role) && resv_labels_equal(s->g[i].labels, labels) &&
		    (!p || !strcmp(s->g[i].principal, p)) && resources_contains(&s->g[i].res, one))
			g = &s->g[i];
	if (!g)
		return resv_fail(err, errlen, -ENOENT, "Invalid UNRESERVE: no dynamic reservation for role "
						  "'%s' with this principal and these labels holds "
						  "these resources", role);
	if (!resources_contains(c->free, one) || (c->offer && !resources_contains(c->offer, one)))
		return resv_fail(err, errlen, -ENOSPC, "Invalid UNRESERVE: the reserved resources are not "
						  "free (in use by tasks)");
	double d = resources_scalar(one, "disk", role);
	if (d > EPS) {
		double plain = resources_scalar(c->free, "disk", role) -
			       resv_vol_disk(s, role, c->in_use, c->ctx, true);
		double left = resources_scalar(c->total, "disk", role) - d;
		if (d > plain + EPS || left + EPS < resv_vol_disk(s, role, NULL, NULL, false))
			return resv_fail(err, errlen, -EBUSY, "Invalid UNRESERVE: the reserved disk holds "
							  "persistent volumes of role '%s'; DESTROY "
							  "them first", role);
	}
	resources_subtract(&g->res, one);
	if (res_empty(&g->res)) {
		free(g->role);
		free(g->principal);
		json_decref(g->labels);
		resources_release(&g->res);
		*g = s->g[--s->ng];
	}
	struct resources to = RESOURCES_INIT;
	add_with_role(&to, one, "*");
	struct resources *sets[] = { c->total, c->free, c->offer };
	for (size_t i = 0; i < 3; i++) {
		if (!sets[i])
			continue;
		resources_subtract(sets[i], one);
		resources_add(sets[i], &to);
	}
	resources_release(&to);
	return 0;
}

static int volume_fields(const json_t *e, const struct resources *one, const char *role,
			 const char **id, double *size, char *err, size_t errlen)
{
	const json_t *disk = json_object_get(e, "disk");
	*id = json_string_value(json_object_get(json_object_get(disk, "persistence"), "id"));
	if (one->n != 1 || strcmp(one->v[0].name, "disk") || one->v[0].type != RES_SCALAR)
		return resv_fail(err, errlen, -EINVAL, "A persistent volume must be a 'disk' SCALAR "
						   "resource");
	if (!*id || !**id || strlen(*id) > 255)
		return resv_fail(err, errlen, -EINVAL, "A persistent volume needs 'disk.persistence.id' "
						   "(1 to 255 bytes)");
	if (!strcmp(role, "*"))
		return resv_fail(err, errlen, -EINVAL, "Persistent volumes can only be created on "
						   "reserved disk (role '*' given)");
	*size = one->v[0].scalar;
	return 0;
}

static int op_create(struct resv_ctx *c, const json_t *e, const struct resources *one,
		     const char *role, char *err, size_t errlen)
{
	const char *id;
	double size;
	int r = volume_fields(e, one, role, &id, &size, err, errlen);
	if (r < 0)
		return r;
	const json_t *disk = json_object_get(e, "disk");
	const char *path = json_string_value(
		json_object_get(json_object_get(disk, "volume"), "container_path"));
	const char *mode = json_string_value(json_object_get(json_object_get(disk, "volume"), "mode"));
	if (!path || !*path || strlen(path) > 4096)
		return resv_fail(err, errlen, -EINVAL, "A persistent volume needs "
						   "'disk.volume.container_path'");
	if (mode && strcmp(mode, "RW") && strcmp(mode, "RO"))
		return resv_fail(err, errlen, -EINVAL, "'disk.volume.mode' must be RW or RO");
	if (size <= EPS)
		return resv_fail(err, errlen, -EINVAL, "A persistent volume needs a size > 0");
	if (resv_vol_find(c->s, role, id))
		return resv_fail(err, errlen, -EEXIST, "Persistent volume '%s' already exists for role "
						   "'%s' on this agent", id, role);
	if (c->s->nv >= RESV_MAX_VOLUMES)
		return resv_fail(err, errlen, -ENOSPC, "Too many persistent volumes on this agent");
	struct resources *pool = c->offer ? c->offer : c->free;
	double plain = resources_scalar(pool, "disk", role) -
		       resv_vol_disk(c->s, role, c->in_use, c->ctx, true);
	if (size > plain + EPS)
		return resv_fail(err, errlen, -ENOSPC, "Insufficient reserved disk for role '%s' to create "
						   "volume '%s': asked for %g, free without "
						   "volumes %g", role, id, size, plain < 0 ? 0 : plain);
	const char *p;
	const json_t *labels;
	resv_entry_reservation(e, &p, &labels);
	const char *pp = json_string_value(
		json_object_get(json_object_get(disk, "persistence"), "principal"));
	struct resv_state *s = c->s;
	s->v = xrealloc(s->v, (s->nv + 1) * sizeof(*s->v));
	s->v[s->nv++] = (struct resv_vol){ xstrdup(id),	       xstrdup(role),
					   xstrdup(pp ? pp : ""), xstrdup(p ? p : ""),
					   labels ? json_deep_copy(labels) : NULL,
					   xstrdup(path),	       xstrdup(mode ? mode : "RW"),
					   size,		       NULL };
	return 0;
}

static int op_destroy(struct resv_ctx *c, const json_t *e, const struct resources *one,
		      const char *role, char *err, size_t errlen)
{
	const char *id;
	double size;
	int r = volume_fields(e, one, role, &id, &size, err, errlen);
	if (r < 0)
		return r;
	struct resv_vol *v = resv_vol_find(c->s, role, id);
	if (!v)
		return resv_fail(err, errlen, -ENOENT, "No persistent volume '%s' of role '%s' on this "
						  "agent", id, role);
	if (v->task_id && c->in_use && c->in_use(v->task_id, c->ctx))
		return resv_fail(err, errlen, -EBUSY, "Persistent volume '%s' is in use by task '%s'",
			    id, v->task_id);
	free(v->id);
	free(v->role);
	free(v->principal);
	free(v->res_principal);
	json_decref(v->labels);
	free(v->path);
	free(v->mode);
	free(v->task_id);
	*v = c->s->v[--c->s->nv];
	return 0;
}

struct resv_state *resv_state_dup(const struct resv_state *s)
{
	struct resv_state *d = resv_state_new();
	json_t *j = resv_state_to_json(s);
	resv_state_from_json(d, j);
	json_decref(j);
	return d;
}

void resv_state_swap(struct resv_state *a, struct resv_state *b)
{
	struct resv_state t = *a;
	*a = *b;
	*b = t;
}

int resv_apply(struct resv_state *s, struct resources *total, struct resources *free_res,
	       struct resources *offer, const char *op, const json_t *arr, resv_in_use_fn in_use,
	       void *ctx, char *err, size_t errlen)
{
	err[0] = '\0';
	int (*fn)(struct resv_ctx *, const json_t *, const struct resources *, const char *,
		  char *, size_t);
	if (!strcmp(op, "RESERVE"))
		fn = op_reserve;
	else if (!strcmp(op, "UNRESERVE"))
		fn = op_unreserve;
	else if (!strcmp(op, "CREATE"))
		fn = op_create;
	else if (!strcmp(op, "DESTROY"))
		fn = op_destroy;
	else
		return resv_fail(err, errlen, -EINVAL, "Unknown operation '%s'", op);
	if (!json_is_array(arr) || !json_array_size(arr))
		return resv_fail(err, errlen, -EINVAL, "Invalid %s: expected a non-empty array of "
						   "resources", op);
	if (json_array_size(arr) > RESOURCES_MAX_ENTRIES)
		return resv_fail(err, errlen, -EINVAL, "Invalid %s: more than %d resources", op,
			    RESOURCES_MAX_ENTRIES);
	/* Work on copies; keep them only if every entry passes. */
	struct resources t = RESOURCES_INIT, f = RESOURCES_INIT, o = RESOURCES_INIT;
	resources_copy(&t, total);
	resources_copy(&f, free_res);
	if (offer)
		resources_copy(&o, offer);
	struct resv_state *ns = resv_state_dup(s);
	struct resv_ctx c = { ns, &t, &f, offer ? &o : NULL, in_use, ctx };
	int r = 0;
	size_t i;
	const json_t *e;
	json_array_foreach(arr, i, e) {
		struct resources one = RESOURCES_INIT;
		char perr[256];
		json_t *single = json_pack("[O]", e);
		r = mesos_resources_from_json(single, &one, perr, sizeof(perr));
		json_decref(single);
		if (r < 0) {
			resources_release(&one);
			r = resv_fail(err, errlen, -EINVAL, "Invalid %s: resources[%zu]: %s", op, i,
				 strncmp(perr, "resources[0]: ", 14) ? perr : perr + 14);
			break;
		}
		const char *role = one.n ? one.v[0].role : "*";
		r = one.n ? fn(&c, e, &one, role, perr, sizeof(perr)) : 0;
		resources_release(&one);
		if (r < 0) {
			snprintf(err, errlen, "%s", perr);
			break;
		}
	}
	if (r == 0) {
		resources_release(total);
		*total = t;
		resources_release(free_res);
		*free_res = f;
		if (offer) {
			resources_release(offer);
			*offer = o;
		}
		resv_state_swap(s, ns);
	} else {
		resources_release(&t);
		resources_release(&f);
		resources_release(&o);
	}
	resv_state_free(ns);
	return r;
}

/* ---- the master's agents ---- */

static int load_one(const char *key, const char *val, size_t len, uint64_t version, void *ctx)
{
	(void)version;
	struct master *m = ctx;
	const char *p = key + strlen("reservations/");
	const char *slash = strchr(p, '/');
	if (!slash || strcmp(slash, "/state"))
		return 0;
	json_error_t je;
	json_t *j = json_loadb(val, len, 0, &je);
	struct resv_state *s = resv_state_new();
	if (!j || resv_state_from_json(s, j) < 0) {
		log_warn("master", "store: bad reservation record '%s', ignored", key);
		resv_state_free(s);
	} else {
		char *id = xstrndup(p, (size_t)(slash - p));
		resv_state_free(hmap_put(&m->resv, id, s));
		free(id);
	}
	json_decref(j);
	return 0;
}

int resv_load(struct master *m)
{
	hmap_init(&m->resv);
	return m->store ? store_list(m->store, "reservations/", load_one, m) : 0;
}

void resv_free_all(struct master *m)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->resv, &i, &k, &v);)
		resv_state_free(v);
	hmap_release(&m->resv);
}

struct resv_state *resv_state_of(struct master *m, const char *agent_id, bool create)
{
	struct resv_state *s = hmap_get(&m->resv, agent_id);
	if (!s && create) {
		s = resv_state_new();
		hmap_put(&m->resv, agent_id, s);
	}
	return s;
}

int resv_state_store(struct master *m, const char *agent_id, const struct resv_state *s)
{
	if (!m->store)
		return 0;
	char key[STORE_MAX_KEY];
	snprintf(key, sizeof(key), "reservations/%s/state", agent_id);
	if (!s->ng && !s->nv) {
		int r = store_delete(m->store, key, STORE_ANY_VERSION);
		return r == -ENOENT ? 0 : r;
	}
	json_t *j = resv_state_to_json(s);
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	int r = store_put(m->store, key, text, strlen(text), STORE_ANY_VERSION, NULL);
	free(text);
	return r;
}

bool resv_task_in_use(const char *task_id, void *ctx)
{
	struct master *m = ctx;
	if (!m->fw)
		return false;
	const struct fw_task *t = hmap_get(&m->fw->tasks, task_id);
	return t && t->held;
}

void resv_total(struct master *m, const char *agent_id, struct resources *total)
{
	struct resv_state *s = resv_state_of(m, agent_id, false);
	if (!s)
		return;
	for (size_t i = 0; i < s->ng; i++) {
		struct resources from = RESOURCES_INIT;
		add_with_role(&from, &s->g[i].res, "*");
		if (resources_subtract(total, &from) == 0)
			resources_add(total, &s->g[i].res);
		else
			log_warn("master", "agent '%s' no longer has the resources reserved for role "
					   "'%s'", agent_id, s->g[i].role);
		resources_release(&from);
	}
}

int resv_agent_apply(struct master *m, struct m_agent *a, struct resources *offer,
		     const char *op, const json_t *arr, char *err, size_t errlen)
{
	struct resv_state *s = resv_state_of(m, a->id, true);
	struct resources t = RESOURCES_INIT, f = RESOURCES_INIT, o = RESOURCES_INIT;
	resources_copy(&t, rm_agent_total(a));
	resources_copy(&f, rm_agent_free(a));
	if (offer)
		resources_copy(&o, offer);
	struct resv_state *old = resv_state_dup(s);
	int r = resv_apply(s, &t, &f, offer, op, arr, resv_task_in_use, m, err, errlen);
	int w = r == 0 ? resv_state_store(m, a->id, s) : 0;
	if (w < 0) {
		/* Not durable: nothing changes. */
		log_error("master", "cannot persist reservations of agent '%s': %s", a->id,
			  strerror(-w));
		snprintf(err, errlen, "Cannot persist the operation: %s", strerror(-w));
		resv_state_swap(s, old);
		if (offer) {
			resources_release(offer);
			*offer = o;
			o = (struct resources)RESOURCES_INIT;
		}
		r = -EIO;
	}
	resv_state_free(old);
	resources_release(&o);
	if (r == 0) {
		/* resv_apply changed free as it changed total, so total - used is f. */
		ledger_set_total(m, a, &t);
		log_info("master", "agent '%s': %s applied", a->id, op);
		if (!strcmp(op, "DESTROY"))
			fw_volume_destroyed(m, a, arr);
		if (m->fw)
			fw_offers_remove_agent(m->fw, a->id);
	}
	resources_release(&t);
	resources_release(&f);
	return r;
}

/* ---- offers ---- */

static void set_reservation(json_t *arr, const char *role, const char *principal,
			    const json_t *labels, bool refinement)
{
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o) {
		json_t *ri = json_object();
		if (principal && *principal)
			json_object_set_new(ri, "principal", json_string(principal));
		if (labels)
			json_object_set_new(ri, "labels", json_deep_copy(labels));
		if (refinement) {
			json_object_set_new(ri, "type", json_string("DYNAMIC"));
			json_object_set_new(ri, "role", json_string(role));
			json_object_set_new(o, "reservations", json_pack("[o]", ri));
		} else {
			json_object_set_new(o, "reservation", ri);
		}
	}
}

bool resv_agent_plain(struct master *m, const struct m_agent *a)
{
	return resv_state_of(m, a->id, false) == NULL;
}

json_t *resv_offer_json(struct master *m, const struct m_agent *a, const struct resources *res,
			const char *alloc_role, bool refinement)
{
	struct resv_state *s = resv_state_of(m, a->id, false);
	json_t *out = json_array();
	for (size_t i = 0; i < res->n; i++) {
		const struct resource *e = &res->v[i];
		struct resources rem = RESOURCES_INIT;
		struct resources one = { (struct resource *)e, 1 };
		resources_add(&rem, &one);
		bool reserved = strcmp(e->role, "*") != 0;
		const char *role = reserved ? e->role : alloc_role;
		if (reserved && s && !strcmp(e->name, "disk") && e->type == RES_SCALAR) {
			for (size_t k = 0; k < s->nv; k++) {
				const struct resv_vol *v = &s->v[k];
				if (strcmp(v->role, e->role) ||
				    (v->task_id && resv_task_in_use(v->task_id, m)) ||
				    v->size > rem.v[0].scalar + EPS)
					continue;
				rem.v[0].scalar -= v->size;
				struct resources vr = RESOURCES_INIT;
				resources_add_scalar(&vr, "disk", v->role, v->size);
				json_t *j = mesos_resources_to_json(&vr, role, refinement);
				set_reservation(j, v->role, v->res_principal, v->labels, refinement);
				json_object_set_new(
					json_array_get(j, 0), "disk",
					json_pack("{s:{s:s, s:s}, s:{s:s, s:s}}", "persistence", "id",
						  v->id, "principal", v->principal, "volume",
						  "container_path", v->path, "mode", v->mode));
				json_array_extend(out, j);
				json_decref(j);
				resources_release(&vr);
			}
		}
		for (size_t g = 0; reserved && s && g < s->ng; g++) {
			const struct resv_group *gr = &s->g[g];
			if (strcmp(gr->role, e->role))
				continue;
			struct resources part = RESOURCES_INIT;
			for (size_t k = 0; k < gr->res.n; k++) {
				const struct resource *ge = &gr->res.v[k];
				if (strcmp(ge->name, e->name))
					continue;
				struct resources gone = { (struct resource *)ge, 1 };
				if (e->type == RES_SCALAR) {
					double x = fmin(ge->scalar, rem.n ? rem.v[0].scalar : 0);
					if (x > EPS)
						resources_add_scalar(&part, e->name, e->role, x);
				} else if (resources_contains(&rem, &gone)) {
					resources_add(&part, &gone);
				}
			}
			if (!res_empty(&part)) {
				resources_subtract(&rem, &part);
				json_t *j = mesos_resources_to_json(&part, role, refinement);
				set_reservation(j, gr->role, gr->principal, gr->labels, refinement);
				json_array_extend(out, j);
				json_decref(j);
			}
			resources_release(&part);
		}
		if (!res_empty(&rem)) {
			json_t *j = mesos_resources_to_json(&rem, role, refinement);
			json_array_extend(out, j);
			json_decref(j);
		}
		resources_release(&rem);
	}
	return out;
}

/* ---- launches on volumes ---- */

int resv_launch_check(struct master *m, struct m_agent *a, const json_t *task_res,
		      const struct resources *res, char *err, size_t errlen)
{
	struct resv_state *s = resv_state_of(m, a->id, false);
	size_t i;
	const json_t *e;
	json_array_foreach(task_res, i, e) {
		const char *id = json_string_value(
			json_object_get(json_object_get(json_object_get(e, "disk"), "persistence"), "id"));
		if (!id)
			continue;
		struct resources one = RESOURCES_INIT;
		json_t *single = json_pack("[O]", e);
		char perr[256];
		int r = mesos_resources_from_json(single, &one, perr, sizeof(perr));
		json_decref(single);
		const char *role = one.n ? one.v[0].role : "*";
		struct resv_vol *v = s && r == 0 ? resv_vol_find(s, role, id) : NULL;
		double size = one.n ? one.v[0].scalar : 0;
		resources_release(&one);
		if (!v)
			return resv_fail(err, errlen, -ENOENT, "Task uses persistent volume '%s' (role "
							  "'%s') which does not exist on agent %s",
				    id, role, a->id);
		if (v->task_id && resv_task_in_use(v->task_id, m))
			return resv_fail(err, errlen, -EBUSY, "Persistent volume '%s' is in use by task "
							 "'%s'", id, v->task_id);
		if (fabs(size - v->size) > EPS)
			return resv_fail(err, errlen, -EINVAL, "Persistent volume '%s' has size %g, not %g",
				    id, v->size, size);
	}
	/* Plain reserved disk must not eat into idle volumes. */
	for (size_t k = 0; s && k < res->n; k++) {
		const struct resource *d = &res->v[k];
		if (strcmp(d->name, "disk") || !strcmp(d->role, "*") || d->type != RES_SCALAR)
			continue;
		double mine = 0; /* the volumes of this role the task uses */
		json_array_foreach(task_res, i, e) {
			const char *id = json_string_value(json_object_get(
				json_object_get(json_object_get(e, "disk"), "persistence"), "id"));
			const struct resv_vol *v = id ? resv_vol_find(s, d->role, id) : NULL;
			if (v)
				mine += v->size;
		}
		double plain_free = resources_scalar(rm_agent_free(a), "disk", d->role) -
				    resv_vol_disk(s, d->role, resv_task_in_use, m, true);
		if (d->scalar - mine > plain_free + EPS)
			return resv_fail(err, errlen, -ENOSPC, "Task uses reserved disk of role '%s' that "
							  "holds persistent volumes", d->role);
	}
	return 0;
}

void resv_launch_commit(struct master *m, struct m_agent *a, const char *task_id,
			const json_t *task_res)
{
	struct resv_state *s = resv_state_of(m, a->id, false);
	if (!s)
		return;
	bool changed = false;
	size_t i;
	const json_t *e;
	json_array_foreach(task_res, i, e) {
		const char *id = json_string_value(
			json_object_get(json_object_get(json_object_get(e, "disk"), "persistence"), "id"));
		if (!id)
			continue;
		for (size_t n = 0; n < s->nv; n++) {
			if (strcmp(s->v[n].id, id))
				continue;
			free(s->v[n].task_id);
			s->v[n].task_id = xstrdup(task_id);
			changed = true;
		}
	}
	if (changed && resv_state_store(m, a->id, s) < 0)
		log_error("master", "cannot persist volume use of agent '%s'", a->id);
}

/* ---- operator API ---- */

void resv_operator_call(struct master *m, struct evhttp_request *req, const char *type,
			const json_t *call)
{
	static const struct {
		const char *type, *field, *list, *op;
	} map[] = {
		{ "RESERVE_RESOURCES", "reserve_resources", "resources", "RESERVE" },
		{ "UNRESERVE_RESOURCES", "unreserve_resources", "resources", "UNRESERVE" },
		{ "CREATE_VOLUMES", "create_volumes", "volumes", "CREATE" },
		{ "DESTROY_VOLUMES", "destroy_volumes", "volumes", "DESTROY" },
	};
	size_t k = 0;
	while (k < ARRAY_SIZE(map) && strcmp(map[k].type, type))
		k++;
	bool grow = !strcmp(type, "GROW_VOLUME"), shrink = !strcmp(type, "SHRINK_VOLUME");
	if (k == ARRAY_SIZE(map) && !grow && !shrink) {
		http_reply_text(req, 400, "Unknown call");
		return;
	}
	const json_t *body = json_object_get(call, grow ? "grow_volume" :
						   shrink ? "shrink_volume" : map[k].field);
	const char *aid =
		json_string_value(json_object_get(json_object_get(body, "agent_id"), "value"));
	const json_t *arr = grow || shrink ? json_object_get(body, "volume") :
					      json_object_get(body, map[k].list);
	char err[600];
	if (grow || shrink) {
		if (!json_is_object(body) || !aid || !json_is_object(arr)) {
			snprintf(err, sizeof(err), "Failed to validate master::Call: Expecting "
						   "'%s' with 'agent_id' and 'volume'",
				 grow ? "grow_volume" : "shrink_volume");
			http_reply_text(req, 400, err);
			return;
		}
	} else if (!json_is_object(body) || !aid || !json_is_array(arr)) {
		snprintf(err, sizeof(err), "Failed to validate master::Call: Expecting '%s' with "
					   "'agent_id' and '%s'", map[k].field, map[k].list);
		http_reply_text(req, 400, err);
		return;
	}
	struct m_agent *a = hmap_get(&m->agents, aid);
	if (!a) {
		snprintf(err, sizeof(err), "No agent found with specified ID '%.200s'", aid);
		http_reply_text(req, 400, err);
		return;
	}
	int r = grow || shrink ? resv_agent_resize(m, a, NULL, grow, body, err, sizeof(err)) :
				 resv_agent_apply(m, a, NULL, map[k].op, arr, err, sizeof(err));
	if (r == -EINVAL) {
		http_reply_text(req, 400, err);
		return;
	}
	if (r == -EIO) {
		http_reply_text(req, 503, err);
		return;
	}
	if (r < 0) {
		http_reply_text(req, 409, err);
		return;
	}
	http_reply_text(req, 202, "");
}
