/* Shared by the Marathon API handlers. */
#pragma once
#include "apps/apps-int.h"

json_t *api_body(struct evhttp_request *req);
void api_reply_not_object(struct evhttp_request *req);
void api_reply_deployment(struct evhttp_request *req, int code, const char *version,
			  const char *dep_id);
void api_reply_locked(struct evhttp_request *req, const struct m_app *ma);
struct m_app *api_commit_app(struct apps *m, struct evhttp_request *req, struct m_app *ma,
			     struct app *def, const char *action, bool cancel_running);

void api_apps_create(struct apps *m, struct evhttp_request *req);
void api_apps_update(struct apps *m, struct evhttp_request *req, const char *id, bool patch);
void api_apps_restart(struct apps *m, struct evhttp_request *req, const char *id);
void api_apps_delete(struct apps *m, struct evhttp_request *req, const char *id);

/* api-info.c: GET /v2/info's body. */
json_t *api_info(struct apps *m);
/* api-text.c: answers GET /v2/tasks (only NULL) or /v2/apps/{id}/tasks in Marathon's text
 * form when the client accepts text/plain and not JSON; false (nothing sent) otherwise. */
bool api_tasks_text(struct apps *m, struct evhttp_request *req, const struct m_app *only);
void api_group_change_events(struct apps *m, const char *id, const char *version,
			     json_t *def_json, json_t *old_hc);
