/* Shared by api-groups.c (the handlers) and api-groups-deps.c (dependencies). */
#pragma once
#include "apps/api-int.h"

/* What one group request changes. */
struct plan {
	struct api_multi_item *it;
	size_t n, cap;
	struct m_app **stops;
	size_t ns, cs;
	json_t *kept;   /* {app id: true} of every app the update names */
	json_t *gdeps;  /* {group id: [dependencies]} of the groups the update gives them for */
	struct verr err;
	struct m_app *locked; /* an app held by a deployment (without ?force) or being deleted */
	bool force;
};

/* GET /v2/groups/{gid}/versions/{ver} (api-groups-version.c). */
void api_group_version(struct apps *m, struct evhttp_request *req, const char *gid,
		       const char *ver);
/* Adds p's dependency errors (unknown, cycles over the whole target state) to p->err. */
void groups_check_dependencies(struct apps *m, struct plan *p);
/* ?dryRun=true: the plan's steps, the removals first, then the apps by dependencies. */
json_t *groups_plan_steps(struct apps *m, const struct plan *p);
/* Stores the groups' dependencies gdeps ({gid: [ids]}; an empty list removes the record),
 * then sets them in memory (m->groups): 0 or -errno (nothing changed). */
int groups_store_deps(struct apps *m, const json_t *gdeps);
/* Forgets the dependencies of gid and the groups under it (DELETE); logged on failure. */
void groups_drop_deps(struct apps *m, const char *gid);
