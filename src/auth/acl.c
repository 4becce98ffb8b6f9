/* Mesos's ACLs: the parser and the evaluation (acl.h). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "auth/acl.h"
#include "base/mem.h"

enum ent_type { ENT_SOME, ENT_ANY, ENT_NONE };

struct entity {
	enum ent_type type;
	char **v;
	size_t n;
};

struct rule {
	struct entity subj, obj;
};

struct acls {
	bool permissive;
	struct rule *r[ACL_NACTIONS];
	size_t n[ACL_NACTIONS];
};

static const struct {
	const char *name, *object;
} actions[ACL_NACTIONS] = {
	[ACL_REGISTER_FRAMEWORKS] = { "register_frameworks", "roles" },
	[ACL_RUN_TASKS] = { "run_tasks", "users" },
	[ACL_TEARDOWN_FRAMEWORKS] = { "teardown_frameworks", "framework_principals" },
	[ACL_RESERVE_RESOURCES] = { "reserve_resources", "roles" },
	[ACL_UNRESERVE_RESOURCES] = { "unreserve_resources", "reserver_principals" },
	[ACL_CREATE_VOLUMES] = { "create_volumes", "roles" },
	[ACL_DESTROY_VOLUMES] = { "destroy_volumes", "creator_principals" },
	[ACL_RESIZE_VOLUMES] = { "resize_volumes", "roles" },
	[ACL_UPDATE_WEIGHTS] = { "update_weights", "roles" },
	[ACL_UPDATE_QUOTAS] = { "update_quotas", "roles" },
	[ACL_VIEW_FRAMEWORKS] = { "view_frameworks", "users" },
	[ACL_VIEW_TASKS] = { "view_tasks", "users" },
	[ACL_ACCESS_SANDBOXES] = { "access_sandboxes", "users" },
	[ACL_REGISTER_AGENTS] = { "register_agents", "agents" },
	[ACL_VIEW_APPS] = { "view_apps", "app_ids" },
	[ACL_CREATE_APPS] = { "create_apps", "app_ids" },
	[ACL_UPDATE_APPS] = { "update_apps", "app_ids" },
	[ACL_DELETE_APPS] = { "delete_apps", "app_ids" },
};

const char *acl_action_name(enum acl_action act)
{
	return actions[act].name;
}

const char *acl_object_name(enum acl_action act)
{
	return actions[act].object;
}

static void entity_release(struct entity *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
}

void acls_free(struct acls *a)
{
	if (!a)
		return;
	for (int k = 0; k < ACL_NACTIONS; k++) {
		for (size_t i = 0; i < a->n[k]; i++) {
			entity_release(&a->r[k][i].subj);
			entity_release(&a->r[k][i].obj);
		}
		free(a->r[k]);
	}
	free(a);
}

static int parse_entity(json_t *j, const char *where, const char *key, struct entity *e,
			char *err, size_t errlen)
{
	memset(e, 0, sizeof(*e));
	if (!json_is_object(j)) {
		snprintf(err, errlen, "%s.%s: expected an object {\"values\": [...]} or "
				      "{\"type\": \"ANY\"|\"NONE\"}", where, key);
		return -EINVAL;
	}
	json_t *type = json_object_get(j, "type"), *vals = json_object_get(j, "values");
	const char *k;
	json_t *v;
	json_object_foreach(j, k, v) {
		if (strcmp(k, "type") && strcmp(k, "values")) {
			snprintf(err, errlen, "%s.%s: unknown key '%.64s'", where, key, k);
			return -EINVAL;
		}
	}
	if (type) {
		const char *t = json_string_value(type);
		if (t && !strcmp(t, "ANY"))
			e->type = ENT_ANY;
		else if (t && !strcmp(t, "NONE"))
			e->type = ENT_NONE;
		else if (!t || strcmp(t, "SOME")) {
			snprintf(err, errlen, "%s.%s.type: expected \"ANY\", \"NONE\" or \"SOME\"",
				 where, key);
			return -EINVAL;
		}
	}
	if (!vals && !type) {
		snprintf(err, errlen, "%s.%s: wants \"values\" or \"type\"", where, key);
		return -EINVAL;
	}
	if (vals && !json_is_array(vals)) {
		snprintf(err, errlen, "%s.%s.values: expected an array of strings", where, key);
		return -EINVAL;
	}
	if (json_array_size(vals) > ACL_MAX_VALUES) {
		snprintf(err, errlen, "%s.%s.values: more than %d", where, key, ACL_MAX_VALUES);
		return -E2BIG;
	}
	if (e->type != ENT_SOME)
		return 0; /* Mesos ignores the values of ANY and NONE */
	e->v = xcalloc(json_array_size(vals) + 1, sizeof(char *));
	size_t i;
	json_array_foreach(vals, i, v) {
		if (!json_is_string(v) || memchr(json_string_value(v), '\0', json_string_length(v))) {
			snprintf(err, errlen, "%s.%s.values[%zu]: expected a string without NUL",
				 where, key, i);
			return -EINVAL;
		}
		e->v[e->n++] = xstrdup(json_string_value(v));
	}
	return 0;
}

static int parse_list(struct acls *a, int k, json_t *list, char *err, size_t errlen)
{
	if (!json_is_array(list)) {
		snprintf(err, errlen, "%s: expected an array", actions[k].name);
		return -EINVAL;
	}
	if (json_array_size(list) > ACL_MAX_RULES) {
		snprintf(err, errlen, "%s: more than %d rules", actions[k].name, ACL_MAX_RULES);
		return -E2BIG;
	}
	a->r[k] = xcalloc(json_array_size(list) + 1, sizeof(struct rule));
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e) {
		char where[96];
		snprintf(where, sizeof(where), "%s[%zu]", actions[k].name, i);
		if (!json_is_object(e)) {
			snprintf(err, errlen, "%s: expected an object", where);
			return -EINVAL;
		}
		const char *key;
		json_t *v;
		json_object_foreach(e, key, v) {
			if (strcmp(key, "principals") && strcmp(key, actions[k].object)) {
				snprintf(err, errlen, "%s: unknown key '%.64s' (wants \"principals\" "
						      "and \"%s\")", where, key, actions[k].object);
				return -EINVAL;
			}
		}
		struct rule *r = &a->r[k][a->n[k]++];
		int rc = parse_entity(json_object_get(e, "principals"), where, "principals",
				      &r->subj, err, errlen);
		if (rc == 0)
			rc = parse_entity(json_object_get(e, actions[k].object), where,
					  actions[k].object, &r->obj, err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int acls_parse(const char *text, size_t len, struct acls **out, char *err, size_t errlen)
{
	*out = NULL;
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	if (!root) {
		snprintf(err, errlen, "not JSON: %s at line %d, column %d", je.text, je.line,
			 je.column);
		return -EINVAL;
	}
	if (!json_is_object(root)) {
		snprintf(err, errlen, "expected an object");
		json_decref(root);
		return -EINVAL;
	}
	struct acls *a = xcalloc(1, sizeof(*a));
	a->permissive = true;
	int r = 0;
	const char *key;
	json_t *v;
	json_object_foreach(root, key, v) {
		if (!strcmp(key, "permissive")) {
			if (!json_is_boolean(v)) {
				snprintf(err, errlen, "permissive: expected true or false");
				r = -EINVAL;
				break;
			}
			a->permissive = json_is_true(v);
			continue;
		}
		int k = 0;
		while (k < ACL_NACTIONS && strcmp(key, actions[k].name))
			k++;
		if (k == ACL_NACTIONS) {
			snprintf(err, errlen, "unknown key '%.64s'", key);
			r = -EINVAL;
			break;
		}
		if ((r = parse_list(a, k, v, err, errlen)) < 0)
			break;
	}
	json_decref(root);
	if (r < 0) {
		acls_free(a);
		return r;
	}
	*out = a;
	return 0;
}

/* value is among e's values; for app ids, a value is a path prefix of it. */
static bool in_values(const struct entity *e, const char *value, bool prefix)
{
	for (size_t i = 0; i < e->n; i++) {
		const char *p = e->v[i];
		if (!strcmp(p, value))
			return true;
		if (!prefix)
			continue;
		size_t n = strlen(p);
		while (n && p[n - 1] == '/')
			n--;
		if (n == 0 || (!strncmp(p, value, n) && (value[n] == '/' || !value[n])))
			return true;
	}
	return false;
}

/* Mesos's matches(): does the rule's entity e apply to the request's value (NULL = ANY)? */
static bool matches(const struct entity *e, const char *value, bool prefix)
{
	if (e->type != ENT_SOME)
		return true;
	return value && in_values(e, value, prefix);
}

/* Mesos's allows(). */
static bool allows(const struct entity *e, const char *value, bool prefix)
{
	if (e->type == ENT_NONE)
		return false;
	if (e->type == ENT_ANY)
		return true;
	return value && in_values(e, value, prefix);
}

bool acls_allowed(const struct acls *a, enum acl_action act, const char *principal,
		  const char *object)
{
	if (!a)
		return true;
	bool prefix = act >= ACL_FIRST_APP_ACTION;
	for (size_t i = 0; i < a->n[act]; i++) {
		const struct rule *r = &a->r[act][i];
		if (matches(&r->subj, principal, false) && matches(&r->obj, object, prefix))
			return allows(&r->subj, principal, false) && allows(&r->obj, object, prefix);
	}
	return a->permissive;
}
