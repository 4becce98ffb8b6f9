/* Authorization: Mesos's ACL JSON (--acls FILE) and berth's Marathon path rules in the same
 * shape (docs/security.md).
 *
 *   {"permissive": true,
 *    "register_frameworks": [{"principals": {"values": ["fw"]}, "roles": {"values": ["web"]}}],
 *    "run_tasks": [{"principals": {"type": "ANY"}, "users": {"values": ["nobody"]}}],
 *    "create_apps": [{"principals": {"values": ["dev"]}, "app_ids": {"values": ["/dev"]}}],
 *    ...}
 * An entity is {"values": [...]} or {"type": "ANY"} or {"type": "NONE"}.
 *
 * Evaluation is Mesos's: the rules of the action are tried in order; the first whose subject
 * and object both match the request decides (it allows unless either of its entities is NONE
 * or the request's is not in its values); when none matches, "permissive" decides (default
 * true). A request without a principal, or whose object is unknown, has an ANY entity there,
 * which only ANY and NONE rules match. app_ids match by path prefix: "/dev" matches "/dev"
 * and "/dev/x", not "/devx". */
#pragma once
#include <stdbool.h>
#include <stddef.h>

enum acl_action {
	ACL_REGISTER_FRAMEWORKS,
	ACL_RUN_TASKS,
	ACL_TEARDOWN_FRAMEWORKS,
	ACL_RESERVE_RESOURCES,
	ACL_UNRESERVE_RESOURCES,
	ACL_CREATE_VOLUMES,
	ACL_DESTROY_VOLUMES,
	ACL_RESIZE_VOLUMES,
	ACL_UPDATE_WEIGHTS,
	ACL_UPDATE_QUOTAS,
	ACL_VIEW_FRAMEWORKS,
	ACL_VIEW_TASKS,
	ACL_ACCESS_SANDBOXES,
	ACL_REGISTER_AGENTS,
	ACL_VIEW_APPS,
	ACL_CREATE_APPS,
	ACL_UPDATE_APPS,
	ACL_DELETE_APPS,
	ACL_NACTIONS
};

/* The Marathon path rules, the last actions: their objects match by prefix. */
#define ACL_FIRST_APP_ACTION ACL_VIEW_APPS

#define ACL_MAX_RULES 10000
#define ACL_MAX_VALUES 10000

/* The JSON key of an action ("run_tasks"), and the key of its object ("users"). */
const char *acl_action_name(enum acl_action act);
const char *acl_object_name(enum acl_action act);

struct acls;
/* Parses the ACL JSON (len bytes, need not be NUL-terminated). 0 and *out, or -EINVAL /
 * -E2BIG with err naming the key and index that is wrong. Unknown keys are errors. */
int acls_parse(const char *text, size_t len, struct acls **out, char *err, size_t errlen);
void acls_free(struct acls *a); /* accepts NULL */
/* Whether principal (NULL: none) may do act on object (NULL: unknown). a NULL: true. */
bool acls_allowed(const struct acls *a, enum acl_action act, const char *principal,
		  const char *object);
