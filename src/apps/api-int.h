/* Shared by the Marathon API handlers. */
#pragma once
#include "apps/apps-int.h"

json_t *api_body(struct evhttp_request *req);
void api_reply_not_object(struct evhttp_request *req);
void api_reply_deployment(struct evhttp_request *req, int code, const char *version,
			  const char *dep_id);
void api_reply_locked(struct evhttp_request *req, const struct m_app *ma);
struct api_commit {
	struct m_app *ma, *target;
	struct app *def, *old_def;
	json_t *old_hc;
	char old_cv[32];
	struct m_deployment *old_dep, *d;
	const char *action;
	bool is_new, config_change, cancel_running;
};
void api_commit_prepare(struct apps *m, struct api_commit *c, struct m_app *ma,
			struct app *def, const char *action, bool cancel_running);
int api_commit_write(struct apps *m, struct api_commit *c); /* inside a transaction */
void api_commit_revert(struct api_commit *c);
/* prepare's change written in a transaction of its own: 0, or -errno after revert. */
int api_commit_store(struct apps *m, struct api_commit *c);
void api_commit_finish(struct apps *m, struct evhttp_request *req, struct api_commit *c,
		       bool announce);
struct m_app *api_commit_app(struct apps *m, struct evhttp_request *req, struct m_app *ma,
			     struct app *def, const char *action, bool cancel_running);

void api_apps_create(struct apps *m, struct evhttp_request *req);
void api_apps_update(struct apps *m, struct evhttp_request *req, const char *id, bool patch);
void api_apps_restart(struct apps *m, struct evhttp_request *req, const char *id);
void api_apps_delete(struct apps *m, struct evhttp_request *req, const char *id);
/* Deletes ma as DELETE /v2/apps/{id} does (no wipe), without answering: 0 with its
 * StopApplication deployment's version and id (borrowed), or -errno (logged). */
int api_apps_remove(struct apps *m, struct m_app *ma, const char **version, const char **dep);
/* api-apps-multi.c: PUT and PATCH /v2/apps with a list of apps: one deployment. */
void api_apps_update_multi(struct apps *m, struct evhttp_request *req, bool patch);
/* One app of a change of several (api-apps-multi.c, api-groups.c). */
struct api_multi_item {
	struct m_app *ma; /* the app as it is, or NULL: created */
	struct app *def;  /* the new definition (taken by the commit) */
	const char *action;
};
/* Sets the items' versions (all at now), actions and service ports. */
void api_multi_versions(struct apps *m, struct api_multi_item *it, size_t n, uint64_t now);
/* api_multi_versions, then commits the items and removes stops[0..ns) as one deployment
 * (one id, one version) and answers code {"version","deploymentId"}; takes every def. */
void api_multi_apply(struct apps *m, struct evhttp_request *req, struct api_multi_item *it,
		     size_t n, struct m_app **stops, size_t ns, int code);
/* Deletes each app as api_apps_remove does, its StopApplication under dep_id, version and
 * members (borrowed); no announcement (the caller's). Failures are logged. */
void api_apps_remove_all(struct apps *m, struct m_app **stops, size_t n, const char *dep_id,
			 const char *version, json_t *members);
/* api-groups.c: GET/POST/PUT/DELETE /v2/groups. */
void api_groups(struct apps *m, struct evhttp_request *req, const char *id, bool versions);
/* DELETE /v2/deployments/{id} without force for a deployment of several apps (found is one
 * of them): every app back to its previous version in one new deployment. */
void api_deployment_rollback_multi(struct apps *m, struct evhttp_request *req,
				   struct m_app *found);
/* The master's bound on an app's instances (--max-app-instances, api-apps.c), and no
 * pod with its id; adds to err. */
void api_check_limits(struct apps *m, const struct app *def, struct verr *err);
/* The volume rules across apps (api-apps.c); adds to err. */
void api_check_volumes(struct apps *m, const struct app *def, const struct app *old,
		       struct verr *err);

/* api-info.c: GET /v2/info's body. */
json_t *api_info(struct apps *m);
/* api-text.c: answers GET /v2/tasks (only NULL) or /v2/apps/{id}/tasks in Marathon's text
 * form when the client accepts text/plain and not JSON; false (nothing sent) otherwise. */
bool api_tasks_text(struct apps *m, struct evhttp_request *req, const struct m_app *only);
void api_group_change_events(struct apps *m, const char *id, const char *version,
			     json_t *def_json, json_t *old_hc);
