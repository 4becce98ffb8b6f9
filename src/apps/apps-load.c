/* Loading the apps framework's state from the store at start: apps, versions, pending
 * deletions and wipes, instances (which take their resources again) and deployments. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "apps/apps-int.h"

/* An app from a stored record j ({app, configVersion?, failures?}: apps/ or deleting/), added
 * to m->apps; NULL (logged) when its definition is unreadable or not for id (NULL: any). */
static struct m_app *app_from_record(struct apps *m, const char *key, const char *id,
				     const json_t *j)
{
	json_t *def = json_object_get(j, "app");
	struct verr err = VERR_INIT;
	struct app *a = NULL;
	if (!def || app_parse(def, "/", &err, &a) < 0) {
		log_warn("master", "ignoring unreadable app record '%s': %s", key, verr_first(&err));
		verr_release(&err);
		return NULL;
	}
	if (id && strcmp(a->id, id)) {
		log_warn("master", "ignoring app record '%s': it holds app '%s'", key, a->id);
		app_free(a);
		return NULL;
	}
	/* app_parse strips server fields; restore the version. */
	const char *v = json_string_value(json_object_get(def, "version"));
	const char *lcc = json_string_value(
		json_object_get(json_object_get(def, "versionInfo"), "lastConfigChangeAt"));
	uint64_t vu = 0;
	if (v)
		time_parse_iso8601(v, &vu);
	app_set_version(a, vu ? vu : time_real_usec(), false, lcc ? lcc : v);
	struct m_app *ma = apps_app_new();
	ma->def = a;
	ma->maybe_outdated = true;
	const char *cv = json_string_value(json_object_get(j, "configVersion"));
	snprintf(ma->config_version, sizeof(ma->config_version), "%s", cv ? cv : a->version);
	ma->failures = (unsigned)json_integer_value(json_object_get(j, "failures"));
	ma->versions = json_array();
	ma->dirty = true;
	hmap_put(&m->apps, a->id, ma);
	ma->owner = m;
	return ma;
}

static int load_app(const char *key, const char *val, size_t len, uint64_t version, void *ctx)
{
	json_t *j = json_loadb(val, len, 0, NULL);
	app_from_record(ctx, key, NULL, j);
	json_decref(j);
	return 0;
}

/* groups/<id>: a group's dependencies (api-groups.c). */
static int load_group(const char *key, const char *val, size_t len, uint64_t version, void *ctx)
{
	struct apps *m = ctx;
	json_t *j = json_loadb(val, len, 0, NULL);
	if (json_is_array(json_object_get(j, "dependencies")))
		json_object_set(m->groups, key + strlen("groups/"), j);
	else
		log_warn("master", "ignoring the malformed record '%s'", key);
	json_decref(j);
	return 0;
}

/* deleting/<id>: an app deleted whose tasks were not all gone yet, or (wipe=true) whose
 * volumes were not all removed yet. It comes back as being deleted (after apps/, before
 * wipe-volumes/ and instances/, which attach to it). */
static int load_deletion(const char *key, const char *val, size_t len, uint64_t version, void *ctx)
{
	struct apps *m = ctx;
	const char *id = key + strlen("deleting/");
	if (apps_get(m, id)) {
		/* Only a failed store write leaves both; the live app's data wins (its volume
		 * records go with the orphans in load_wipe_volume). */
		log_warn("master", "dropping the pending deletion of '%s': an app of that id exists",
			 id);
		store_delete(m->store, key, STORE_ANY_VERSION);
		return 0;
	}
	json_t *j = json_loadb(val, len, 0, NULL);
	struct m_app *ma = app_from_record(m, key, id, j);
	json_decref(j);
	if (!ma)
		return 0;
	ma->deleting = true;
	ma->wipe_volumes = json_array();
	struct m_deployment *d = apps_deployment_new(m, ma, "StopApplication");
	char ver[32];
	snprintf(d->version, sizeof(d->version), "%s", time_iso8601(time_real_usec(), ver));
	return 0;
}

/* wipe-volumes/<id>@<name>: {app, driver, name, agent?}, one volume of a pending wipe. */
static int load_wipe_volume(const char *key, const char *val, size_t len, uint64_t version,
			    void *ctx)
{
	struct apps *m = ctx;
	json_t *j = json_loadb(val, len, 0, NULL);
	const char *app_id = json_string_value(json_object_get(j, "app"));
	struct m_app *ma = app_id ? apps_get(m, app_id) : NULL;
	if (!ma || !ma->wipe_volumes || !json_is_string(json_object_get(j, "name")) ||
	    !json_is_string(json_object_get(j, "driver"))) {
		log_warn("master", "dropping stale or malformed wipe record '%s'", key);
		store_delete(m->store, key, STORE_ANY_VERSION);
		json_decref(j);
		return 0;
	}
	json_object_del(j, "app");
	json_array_append_new(ma->wipe_volumes, j);
	return 0;
}

/* Says which deleted apps came back to be finished (once their volumes are known). */
static void log_pending_deletions(struct apps *m)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->apps, &i, &k, &v);) {
		const struct m_app *ma = v;
		if (ma->deleting && ma->wipe_volumes)
			log_info("master", "app '%s' is being deleted: %zu instance(s) to stop, %zu "
					   "external volume(s) to remove once its tasks are gone",
				 ma->def->id, ma->ninst, json_array_size(ma->wipe_volumes));
	}
}

static int load_version(const char *key, const char *val, size_t len, uint64_t version, void *ctx)
{
	struct apps *m = ctx;
	const char *at = strrchr(key, '@');
	if (!at)
		return 0;
	char id[APP_MAX_ID_LEN + 1];
	size_t n = (size_t)(at - (key + strlen("versions/")));
	if (n > APP_MAX_ID_LEN)
		return 0;
	memcpy(id, key + strlen("versions/"), n);
	id[n] = '\0';
	struct m_app *ma = apps_get(m, id);
	if (ma)
		json_array_append_new(ma->versions, json_string(at + 1));
	return 0;
}

static int load_instance(const char *key, const char *val, size_t len, uint64_t version, void *ctx)
{
	struct apps *m = ctx;
	json_t *j = json_loadb(val, len, 0, NULL);
	const char *app_id = json_string_value(json_object_get(j, "app"));
	const char *uuid = json_string_value(json_object_get(j, "uuid"));
	struct m_app *ma = app_id ? apps_get(m, app_id) : NULL;
	if (!ma || !uuid || strlen(uuid) != 36) {
		/* Its app is gone: forget it (an agent still running it gets a KILL). */
		store_delete(m->store, key, STORE_ANY_VERSION);
		json_decref(j);
		return 0;
	}
	if (hmap_get(m->load_uuids, uuid)) {
		json_decref(j);
		return 0;
	}
	struct m_instance *in =
		apps_add_instance(m, ma, (unsigned)json_integer_value(json_object_get(j, "index")),
				  uuid);
	in->stored = true;
	hmap_put(m->load_uuids, uuid, in);
	in->attempt = (unsigned)json_integer_value(json_object_get(j, "attempt"));
	const char *goal = json_string_value(json_object_get(j, "goal")) ?: "run";
	in->held = json_is_true(json_object_get(j, "held")); /* before the goal: counted */
	apps_set_goal(in, !strcmp(goal, "stop")      ? GOAL_STOP
			  : !strcmp(goal, "suspend") ? GOAL_SUSPEND
						     : GOAL_RUN);
	const char *pin = json_string_value(json_object_get(j, "pinned_agent"));
	if (pin)
		in->pinned_agent = xstrdup(pin);
	in->vols = json_incref(json_object_get(j, "vols"));
	const char *rsv = json_string_value(json_object_get(j, "reserved"));
	char rerr[256];
	if (rsv && *rsv && resources_parse(rsv, &in->reserved, rerr, sizeof(rerr)) < 0)
		log_warn("master", "instance '%s': bad reservation: %s", uuid, rerr);
	struct m_agent *pa = in->pinned_agent ? rm_agent_get(m->rm, in->pinned_agent) : NULL;
	if (pa && apps_take(m, in, pa, true, NULL) < 0)
		log_warn("master", "agent '%s' no longer holds the volumes' disk of instance '%s'",
			 pa->id, uuid);
	in->created_at = (uint64_t)json_integer_value(json_object_get(j, "created_at"));
	/* What it replaces may load after it: link_replacements ties them once all are in. */
	const char *rp = json_string_value(json_object_get(j, "replaces"));
	if (rp && *rp)
		json_object_set_new(m->load_replaces, uuid, json_string(rp));
	const char *tid = json_string_value(json_object_get(j, "task_id"));
	const char *aid = json_string_value(json_object_get(j, "agent_id"));
	if (tid && *tid && aid && *aid && strlen(tid) < TASK_ID_MAX) {
		free(in->task_id);
		in->task_id = xstrdup(tid);
		in->agent_id = xstrdup(aid);
		apps_set_phase(in, INST_LIVE);
		in->state = "TASK_UNKNOWN";
		in->staged_at = (uint64_t)json_integer_value(json_object_get(j, "staged_at"));
		snprintf(in->version, sizeof(in->version), "%s",
			 json_string_value(json_object_get(j, "version")) ?: "");
		json_t *ports = json_object_get(j, "ports");
		in->nports = json_array_size(ports);
		in->ports = xcalloc(in->nports + 1, sizeof(*in->ports));
		for (size_t i = 0; i < in->nports; i++)
			in->ports[i] = (uint32_t)json_integer_value(json_array_get(ports, i));
		char err[256];
		const char *res = json_string_value(json_object_get(j, "resources"));
		if (res && resources_parse(res, &in->res, err, sizeof(err)) < 0)
			log_warn("master", "instance '%s': bad resources: %s", uuid, err);
		hmap_put(&m->tasks, in->task_id, in);
		/* Held on the agent from now on (a task its agent does not report when it
		 * registers again is lost, and gives it back). */
		struct m_agent *a = rm_agent_get(m->rm, aid);
		if (a && apps_take(m, in, a, false, NULL) < 0)
			log_warn("master", "agent '%s' holds more than it offers (task '%s')", aid,
				 in->task_id);
		apps_place_count(m, in, a);
	}
	apps_inst_sync(in); /* its times are in: its place in the kill orders */
	json_decref(j);
	return 0;
}

static int load_deployment(const char *key, const char *val, size_t len, uint64_t version,
			   void *ctx)
{
	struct apps *m = ctx;
	json_t *j = json_loadb(val, len, 0, NULL);
	const char *app_id = json_string_value(json_object_get(j, "app"));
	struct m_app *ma = app_id ? apps_get(m, app_id) : NULL;
	const char *id = json_string_value(json_object_get(j, "id"));
	const char *action = json_string_value(json_object_get(j, "action"));
	static const char *const actions[] = { "StartApplication", "ScaleApplication",
					       "RestartApplication", "StopApplication" };
	const char *act = NULL;
	for (size_t i = 0; action && i < ARRAY_SIZE(actions); i++)
		if (!strcmp(actions[i], action))
			act = actions[i];
	if (!ma || !id || !act || ma->deploy) {
		store_delete(m->store, key, STORE_ANY_VERSION);
		json_decref(j);
		return 0;
	}
	struct m_deployment *d = apps_deployment_new(m, ma, act);
	snprintf(d->id, sizeof(d->id), "%s", id);
	/* ?inPlace=true's outcome (api-apps.c): the modes as static strings */
	json_t *rz = json_object_get(j, "berthResize");
	const char *mode = json_string_value(json_object_get(rz, "mode"));
	static const char *const modes[] = { "inPlace", "restart", "none" };
	for (size_t i = 0; mode && i < ARRAY_SIZE(modes); i++)
		if (!strcmp(modes[i], mode))
			d->resize = modes[i];
	const char *why = json_string_value(json_object_get(rz, "reason"));
	if (d->resize && why)
		d->resize_reason = xstrdup(why);
	const json_t *members = json_object_get(j, "actions");
	if (json_is_array(members) && json_array_size(members) > 0)
		d->members = json_incref((json_t *)members);
	json_decref(j);
	return 0;
}

/* Ties each loaded replacement to the instance it replaces; one whose old instance is
 * gone replaces nothing. */
static void link_replacements(struct apps *m)
{
	const char *uuid;
	json_t *old_uuid;
	json_object_foreach(m->load_replaces, uuid, old_uuid) {
		struct m_instance *in = hmap_get(m->load_uuids, uuid);
		struct m_instance *old = hmap_get(m->load_uuids, json_string_value(old_uuid));
		if (in && old && old->app == in->app)
			apps_set_replaces(in, old);
	}
}

int apps_load(struct apps *m)
{
	struct hmap uuids = HMAP_INIT;
	m->load_uuids = &uuids;
	m->load_replaces = json_object();
	int r = store_list(m->store, "apps/", load_app, m);
	if (r >= 0)
		r = store_list(m->store, "versions/", load_version, m);
	if (r >= 0)
		r = store_list(m->store, "deleting/", load_deletion, m);
	if (r >= 0)
		r = store_list(m->store, "wipe-volumes/", load_wipe_volume, m);
	if (r >= 0)
		r = store_list(m->store, "instances/", load_instance, m);
	if (r >= 0)
		link_replacements(m);
	json_decref(m->load_replaces);
	m->load_replaces = NULL;
	hmap_release(&uuids);
	m->load_uuids = NULL;
	if (r >= 0)
		r = store_list(m->store, "deployments/", load_deployment, m);
	if (r >= 0)
		r = store_list(m->store, "groups/", load_group, m);
	if (r >= 0)
		r = instctl_load(m);
	if (r >= 0)
		log_pending_deletions(m);
	return r;
}
