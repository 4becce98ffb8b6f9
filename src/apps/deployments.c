/* Deployments of the apps framework: an app's m_deployment (apps-int.h) from its start to
 * its end, its record in the store (deployments/<id>@<app id>) and its events
 * (deployment_info, deployment_success, deployment_failed). A deployment of several apps has
 * one m_deployment per app with the same id and members; it ends for all when its last
 * member is done, or when one is superseded, canceled or deleted. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "apps/apps-int.h"

struct m_deployment *apps_deployment_new(struct apps *m, struct m_app *ma, const char *action)
{
	struct m_deployment *d = xcalloc(1, sizeof(*d));
	id_uuid4(d->id);
	snprintf(d->version, sizeof(d->version), "%s", ma->def->version);
	d->app_id = xstrdup(ma->def->id);
	d->action = action;
	d->created_usec = time_real_usec();
	ma->deploy = d;
	apps_changed(ma);
	apps_count_deployment(m, "started");
	return d;
}

/* Publishes a deployment event with its plan, light and heavy (§10.4): with_id adds "id",
 * with_step "currentStep", reason (when not NULL) "reason". */
static void publish_plan_event(struct apps *m, const char *type, const struct m_deployment *d,
			       bool with_id, bool with_step, const char *reason)
{
	/* Build only the forms someone listens for: the heavy plan lists every app. */
	bool want[2];
	events_plan_formats(m, type, &want[0], &want[1]);
	if (!want[0] && !want[1])
		return;
	json_t *ev[2] = { NULL, NULL };
	for (int heavy = 0; heavy < 2; heavy++) {
		if (!want[heavy])
			continue;
		json_t *j = json_object();
		if (with_id)
			json_object_set_new(j, "id", json_string(d->id));
		json_object_set_new(j, "plan", render_plan(m, d, heavy));
		if (with_step)
			json_object_set_new(j, "currentStep", render_plan_step(m, d));
		if (reason)
			json_object_set_new(j, "reason", json_string(reason));
		ev[heavy] = j;
	}
	events_publish_plan(m, type, ev[0], ev[1]);
}

void apps_deployment_announce(struct apps *m, struct m_app *ma)
{
	publish_plan_event(m, "deployment_info", ma->deploy, false, true, NULL);
}

void apps_deployment_key(const struct m_deployment *d, char *key, size_t n)
{
	if (d->members)
		snprintf(key, n, "deployments/%s@%s", d->id, d->app_id);
	else
		snprintf(key, n, "deployments/%s", d->id);
}

struct m_app *apps_deployment_other(struct apps *m, const struct m_deployment *d,
				    const struct m_app *self, bool unfinished)
{
	if (!d->members)
		return NULL;
	size_t i;
	const json_t *x;
	json_array_foreach(d->members, i, x) {
		struct m_app *o = apps_get(m, json_string_value(json_object_get(x, "app")));
		if (o && o != self && o->deploy && o->deploy != d &&
		    !strcmp(o->deploy->id, d->id) && !(unfinished && o->deploy->finished))
			return o;
	}
	return NULL;
}

bool apps_deployment_cancel_others(struct apps *m, const struct m_deployment *d,
				   const struct m_app *self)
{
	if (!d->members)
		return false;
	apps_deployment_failed_event(m, d, "canceled: one of its apps was changed or deleted");
	for (struct m_app *o; (o = apps_deployment_other(m, d, self, false));) {
		log_info("master", "deployment '%s' of '%s' canceled with its other apps", d->id,
			 o->def->id);
		apps_deployment_stop(m, o);
		apps_touch(m, o);
	}
	return true;
}

int apps_store_deployment(struct apps *m, const struct m_deployment *d)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "id", d->id, "app", d->app_id, "action",
			      d->action, "version", d->version);
	if (d->resize)
		json_object_set_new(j, "berthResize", json_pack("{s:s, s:s*}", "mode", d->resize,
								 "reason", d->resize_reason));
	if (d->members)
		json_object_set(j, "actions", d->members);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	char key[STORE_MAX_KEY];
	apps_deployment_key(d, key, sizeof(key));
	int r = store_put(m->store, key, s, strlen(s), STORE_ANY_VERSION, NULL);
	free(s);
	return r;
}

void apps_deployment_free(struct m_deployment *d)
{
	if (!d)
		return;
	json_decref(d->original);
	json_decref(d->members);
	free(d->app_id);
	free(d->resize_reason);
	free(d);
}

void apps_deployment_failed_event(struct apps *m, const struct m_deployment *d,
				  const char *reason)
{
	publish_plan_event(m, "deployment_step_failure", d, false, true, NULL);
	publish_plan_event(m, "deployment_failed", d, true, false, reason);
	apps_count_deployment(m, "canceled");
}

void apps_deployment_done(struct apps *m, struct m_app *ma)
{
	struct m_deployment *d = ma->deploy;
	if (!d || d->finished)
		return;
	if (apps_deployment_other(m, d, ma, true)) {
		/* One app of several done: the deployment goes on for the others. */
		log_info("master", "deployment '%s': %s '%s' done", d->id, d->action, d->app_id);
		if (deploy_step_ends_with(m, d, ma->def->id)) /* currentStep is still that step */
			publish_plan_event(m, "deployment_step_success", d, false, true, NULL);
		d->finished = true;
		deploy_touch_members(m, d); /* its step may be over: currentStep moves */
		return;
	}
	log_info("master", "deployment '%s' (%s '%s') finished", d->id, d->action, d->app_id);
	publish_plan_event(m, "deployment_step_success", d, false, true, NULL);
	publish_plan_event(m, "deployment_success", d, true, false, NULL);
	for (struct m_app *o; (o = apps_deployment_other(m, d, ma, false));)
		apps_deployment_stop(m, o);
	apps_deployment_stop(m, ma);
	apps_count_deployment(m, "success");
}

void apps_deployment_stop(struct apps *m, struct m_app *ma)
{
	struct m_deployment *d = ma->deploy;
	if (!d)
		return;
	char key[STORE_MAX_KEY];
	apps_deployment_key(d, key, sizeof(key));
	int r = store_delete(m->store, key, STORE_ANY_VERSION);
	if (r < 0 && r != -ENOENT)
		log_warn("master", "cannot delete '%s': %s", key, strerror(-r));
	ma->deploy = NULL;
	apps_changed(ma);
	apps_deployment_free(d);
}

