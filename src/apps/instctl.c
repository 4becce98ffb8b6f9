/* Per-instance control (docs/api.md "Instances"), as the Kafka scheduler's CLI gives it for
 * brokers: stop and start one instance by index, environment overrides per index.
 *
 * Invariants:
 *  - a stopped instance is held (in->held) with goal SUSPEND: the pass kills its task and
 *    keeps the instance, its index (in the app's idxset), its local volumes and their
 *    reservation; it counts in the app's instances, so the scale step runs
 *    apps_want(ma) = instances - held ones and never wakes or replaces it;
 *  - held changes only while the goal is not SUSPEND (apps-int.h), so ma->nheld is kept by
 *    the goal's accounting alone;
 *  - overrides are per index, not per instance, so that a replacement (restart, upgrade)
 *    of an index gets them too; they are stored as one record instenv/<app id> (bounded:
 *    INSTCTL_MAX_ENV_BYTES) written before the answer, and go with the app.
 * A change is committed in one transaction before the answer; if the commit fails the
 * memory goes back as it was. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "apps/instctl.h"

json_t *instctl_env(const struct m_app *ma, unsigned index)
{
	if (!ma->inst_env)
		return NULL;
	char k[16];
	snprintf(k, sizeof(k), "%u", index);
	return json_object_get(ma->inst_env, k);
}

static int load_env(const char *key, const char *val, size_t len, uint64_t version, void *ctx)
{
	(void)version;
	struct apps *m = ctx;
	struct m_app *ma = apps_get(m, key + strlen("instenv/"));
	json_t *j = json_loadb(val, len, 0, NULL);
	if (!ma || ma->deleting || !json_is_object(j)) {
		json_decref(j);
		store_delete(m->store, key, STORE_ANY_VERSION); /* its app is gone */
		return 0;
	}
	json_decref(ma->inst_env);
	ma->inst_env = j;
	return 0;
}

int instctl_load(struct apps *m)
{
	return store_list(m->store, "instenv/", load_env, m);
}

int instctl_store_env(struct apps *m, const struct m_app *ma)
{
	char key[STORE_MAX_KEY];
	snprintf(key, sizeof(key), "instenv/%s", ma->def->id);
	if (!ma->inst_env || !json_object_size(ma->inst_env)) {
		int r = store_delete(m->store, key, STORE_ANY_VERSION);
		return r == -ENOENT ? 0 : r;
	}
	char *s = json_dumps(ma->inst_env, JSON_COMPACT | JSON_SORT_KEYS);
	int r = store_put(m->store, key, s, strlen(s), STORE_ANY_VERSION, NULL);
	free(s);
	return r;
}

static int cmp_index(const void *a, const void *b)
{
	const struct m_instance *x = *(struct m_instance *const *)a;
	const struct m_instance *y = *(struct m_instance *const *)b;
	return x->index < y->index ? -1 : x->index > y->index;
}

size_t instctl_sorted(const struct m_app *ma, struct m_instance ***out)
{
	struct m_instance **v = xcalloc(ma->ninst + 1, sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; i < ma->ninst; i++)
		if (ma->inst[i]->goal != GOAL_STOP)
			v[n++] = ma->inst[i];
	qsort(v, n, sizeof(*v), cmp_index);
	*out = v;
	return n;
}

/* The instance at index in sorted[0..n), NULL if none; *two when two hold it (an instance
 * and its replacement). */
static struct m_instance *find(struct m_instance **sorted, size_t n, unsigned index, bool *two)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sorted[mid]->index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	*two = lo + 1 < n && sorted[lo + 1]->index == index;
	return lo < n && sorted[lo]->index == index ? sorted[lo] : NULL;
}

const char *instctl_state(const struct m_instance *in)
{
	if (in->held)
		return in->phase == INST_LIVE ? "stopping" : "stopped";
	if (in->goal == GOAL_SUSPEND)
		return in->phase == INST_LIVE ? "stopping" : "suspended";
	if (in->phase == INST_WAITING)
		return "waiting";
	return strcmp(in->state, "TASK_RUNNING") ? "starting" : "running";
}

int instctl_find_all(const struct m_app *ma, const unsigned *idx, size_t n, bool busy_ok,
		     struct m_instance **out, char *why, size_t whylen)
{
	struct m_instance **sorted;
	size_t ns = instctl_sorted(ma, &sorted);
	int r = 0;
	for (size_t i = 0; i < n && !r; i++) {
		bool two;
		out[i] = find(sorted, ns, idx[i], &two);
		if (!out[i]) {
			snprintf(why, whylen, "App '%s' has no instance %u", ma->def->id, idx[i]);
			r = -ENOENT;
		} else if (!busy_ok && (two || out[i]->replacing || out[i]->replaced_by)) {
			snprintf(why, whylen, "Instance %u of '%s' is being replaced by a deployment; "
				 "try again when it is over", idx[i], ma->def->id);
			r = -EBUSY;
		}
	}
	free(sorted);
	return r;
}

/* Sets in stopped (held, SUSPEND) or started (RUN); returns whether it changed. */
static bool set_stopped(struct m_instance *in, bool stop)
{
	if (stop == in->held)
		return false;
	if (stop) {
		in->held = true;
		apps_set_goal(in, GOAL_SUSPEND);
	} else {
		apps_set_goal(in, GOAL_RUN);
		in->held = false;
	}
	return true;
}

int instctl_stop_start(struct apps *m, struct m_app *ma, struct m_instance **v, size_t n,
		       bool stop, bool *changed, char *why, size_t whylen)
{
	for (size_t i = 0; i < n; i++)
		if (!v[i]->held && v[i]->goal == GOAL_SUSPEND) {
			snprintf(why, whylen, "Instance %u of '%s' is suspended by a scale-down; "
				 "scale the app up to start it", v[i]->index, ma->def->id);
			return -EBUSY;
		}
	int r = store_txn_begin(m->store);
	bool began = r >= 0;
	for (size_t i = 0; i < n; i++) {
		changed[i] = set_stopped(v[i], stop);
		if (changed[i] && r >= 0)
			r = apps_store_instance(m, v[i]);
	}
	if (r >= 0)
		r = store_txn_commit(m->store);
	else if (began)
		store_txn_abort(m->store);
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			if (changed[i])
				set_stopped(v[i], !stop);
		snprintf(why, whylen, "Cannot persist the change: %s (%s)", strerror(-r),
			 store_errmsg(m->store));
		return r;
	}
	for (size_t i = 0; i < n; i++)
		if (changed[i])
			log_info("master", "instance %u of '%s' %s by the operator", v[i]->index,
				 ma->def->id, stop ? "stopped" : "started");
	apps_touch(m, ma);
	return 0;
}

/* Is name a valid environment variable name? */
static bool env_name_ok(const char *s)
{
	if (!*s || strlen(s) > INSTCTL_MAX_NAME || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

int instctl_env_check(const json_t *env, char *why, size_t whylen)
{
	if (!json_is_object(env) || !json_object_size(env)) {
		snprintf(why, whylen, "'env' must be an object of names and values (null: unset)");
		return -EINVAL;
	}
	if (json_object_size(env) > INSTCTL_MAX_VARS) {
		snprintf(why, whylen, "'env' has more than %d variables", INSTCTL_MAX_VARS);
		return -EINVAL;
	}
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)env, k, v) {
		if (!env_name_ok(k)) {
			snprintf(why, whylen, "'%.64s' is not an environment variable name", k);
			return -EINVAL;
		}
		if (!json_is_null(v) && !json_is_string(v)) {
			snprintf(why, whylen, "env '%s' must be a string or null", k);
			return -EINVAL;
		}
		if (json_is_string(v) && (json_string_length(v) > INSTCTL_MAX_VALUE ||
					  strlen(json_string_value(v)) != json_string_length(v))) {
			snprintf(why, whylen, "env '%s' is longer than %d bytes or holds a NUL", k,
				 INSTCTL_MAX_VALUE);
			return -EINVAL;
		}
	}
	return 0;
}

/* overrides (a new object) of index after env is applied to what it had */
static json_t *merged(const struct m_app *ma, unsigned index, const json_t *env)
{
	json_t *cur = instctl_env(ma, index);
	json_t *o = cur ? json_deep_copy(cur) : json_object();
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)env, k, v) {
		if (json_is_null(v))
			json_object_del(o, k);
		else
			json_object_set(o, k, v);
	}
	return o;
}

int instctl_set_env(struct apps *m, struct m_app *ma, const unsigned *idx, size_t n,
		    const json_t *env, char *why, size_t whylen)
{
	json_t *next = ma->inst_env ? json_deep_copy(ma->inst_env) : json_object();
	for (size_t i = 0; i < n; i++) {
		json_t *o = merged(ma, idx[i], env);
		char k[16];
		snprintf(k, sizeof(k), "%u", idx[i]);
		if (json_object_size(o) > INSTCTL_MAX_VARS) {
			snprintf(why, whylen, "instance %u would have more than %d variables", idx[i],
				 INSTCTL_MAX_VARS);
			json_decref(o);
			json_decref(next);
			return -EINVAL;
		}
		if (json_object_size(o))
			json_object_set_new(next, k, o);
		else {
			json_object_del(next, k);
			json_decref(o);
		}
	}
	char *s = json_dumps(next, JSON_COMPACT);
	size_t len = s ? strlen(s) : 0;
	free(s);
	if (len > INSTCTL_MAX_ENV_BYTES) {
		snprintf(why, whylen, "the app's instance environments would take more than %d "
			 "bytes", INSTCTL_MAX_ENV_BYTES);
		json_decref(next);
		return -E2BIG;
	}
	json_t *old = ma->inst_env;
	ma->inst_env = next;
	int r = instctl_store_env(m, ma);
	if (r < 0) {
		ma->inst_env = old;
		json_decref(next);
		snprintf(why, whylen, "Cannot persist the change: %s (%s)", strerror(-r),
			 store_errmsg(m->store));
		return r;
	}
	json_decref(old);
	apps_changed(ma);
	return 0;
}
