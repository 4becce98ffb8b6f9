/* Per-instance control inside the apps framework (instctl.c; the HTTP side is
 * api-instances.c). Internal to src/apps. */
#pragma once
#include "apps/apps-int.h"

#define INSTCTL_MAX_INDEXES 10000   /* indexes one request may name */
#define INSTCTL_MAX_VARS 64         /* overrides per index, and per request */
#define INSTCTL_MAX_NAME 256        /* bytes of a variable's name */
#define INSTCTL_MAX_VALUE 4096      /* bytes of a value */
#define INSTCTL_MAX_ENV_BYTES (256 * 1024) /* an app's whole instenv/ record */

/* ma's instances whose goal is not STOP, sorted by index (*out malloc'd, the caller frees;
 * the instances borrowed). Returns how many. */
size_t instctl_sorted(const struct m_app *ma, struct m_instance ***out);
/* "running", "starting", "waiting", "stopping", "stopped" (held) or "suspended" (by a
 * scale-down of a stateful app). */
const char *instctl_state(const struct m_instance *in);
/* out[i] = the instance at idx[i] for each of n indexes: 0, or -ENOENT (no such index) or,
 * unless busy_ok, -EBUSY (being replaced) with why; out then partly filled. */
int instctl_find_all(const struct m_app *ma, const unsigned *idx, size_t n, bool busy_ok,
		     struct m_instance **out, char *why, size_t whylen);
/* Stops (held, goal SUSPEND: task killed, index and volumes kept) or starts v[0..n), in one
 * committed transaction; changed[i] tells which changed. 0, or -EBUSY (one is suspended by
 * a scale-down) or -errno of the store, with why; nothing changed then. */
int instctl_stop_start(struct apps *m, struct m_app *ma, struct m_instance **v, size_t n,
		       bool stop, bool *changed, char *why, size_t whylen);
/* Is env a valid override object ({name: string or null})? 0 or -EINVAL with why. */
int instctl_env_check(const json_t *env, char *why, size_t whylen);
/* Applies env (null values unset) to the overrides of idx[0..n) and stores the record. 0, or
 * -EINVAL / -E2BIG (a bound) or a store error, with why; nothing changed then. */
int instctl_set_env(struct apps *m, struct m_app *ma, const unsigned *idx, size_t n,
		    const json_t *env, char *why, size_t whylen);
/* Writes ma's instenv/ record (deleted when empty), in the caller's transaction if any. */
int instctl_store_env(struct apps *m, const struct m_app *ma);
