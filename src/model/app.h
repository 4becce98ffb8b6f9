/* Marathon app definitions (reference/compat.md §3.3): validation with JSON paths,
 * Marathon's defaults, and the parsed form the apps framework works from.
 *
 * The normalized JSON keeps every field the client sent (unknown fields included, as
 * Marathon does) plus defaults for the known ones; the server-owned fields (version,
 * versionInfo, tasks*, deployments) are stripped from input and set by the master. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json/verr.h"
#include "model/constraints.h"
#include "model/health.h"
#include "model/volumes.h"

enum kill_selection { KILL_YOUNGEST_FIRST, KILL_OLDEST_FIRST };

struct port_def {
	uint32_t port;  /* 0 = dynamic */
	char *name;     /* NULL when unnamed */
	char *protocol; /* "tcp" default */
	uint32_t container_port; /* a BRIDGE port mapping's containerPort (model/container.h); 0 */
	uint32_t host_port;      /* a BRIDGE port mapping's fixed hostPort; 0 = from the offer */
};

#define APP_MAX_KILL_GRACE_SEC (7 * 86400.0) /* a week */

struct app {
	char *id; /* absolute, canonical: "/prod/web" */
	char *cmd;        /* NULL when args are used */
	char **args;      /* NULL-terminated; NULL when cmd is used */
	size_t nargs;
	double cpus, mem, disk, gpus;
	int64_t instances;
	json_t *env;      /* object, borrowed from json */
	json_t *labels;   /* object, borrowed from json */
	struct port_def *ports;
	size_t nports;
	bool require_ports;
	struct constraint *constraints;
	size_t nconstraints;
	double backoff_seconds, backoff_factor, max_launch_delay_seconds;
	double kill_grace_seconds; /* taskKillGracePeriodSeconds; 3 when absent (Mesos default);
				    * at most APP_MAX_KILL_GRACE_SEC */
	enum kill_selection kill_selection;
	char *role;       /* "*" by default */
	char *user;       /* NULL when absent */
	char version[32]; /* ISO-8601, set by app_set_version */
	struct health_check *health_checks;
	size_t nhealth_checks;
	struct readiness_check *readiness_checks;
	size_t nreadiness_checks;
	double min_health_capacity, max_over_capacity; /* upgradeStrategy */
	json_t *dependencies; /* array of canonical app ids, borrowed from json */
	struct app_volume *volumes;
	size_t nvolumes;
	bool resident;    /* has local persistent volumes: instances are pinned to an agent */
	bool stateful;    /* has persistent or unshared external volumes */
	char *pre_stop;   /* berth extension "preStop": {"command", "timeoutSeconds"}; NULL if none */
	double pre_stop_timeout;
	/* berth labels (app_berth_labels, docs/api.md "Per-agent apps", "Instances"): */
	bool per_agent;        /* BERTH_PER_AGENT=true: one instance on every agent allowed */
	unsigned index_offset; /* BERTH_INSTANCE_INDEX_OFFSET: new instances' lowest index */
	json_t *json;     /* the normalized definition, owned */
};

/* Limits (bad input is rejected, never truncated). */
#define APP_MAX_INSTANCES 1000000
#define APP_MAX_ID_LEN 512

/* Validates a definition and builds the app. in is borrowed. base_id is the group for a
 * relative id ("/" at the top; the id in the URL for PUT). Returns 0 and *out, or -EINVAL
 * with every problem in err (paths like "/cpus", "/portDefinitions/0/port", "/id"). */
int app_parse(const json_t *in, const char *base_id, struct verr *err, struct app **out);
void app_free(struct app *a); /* accepts NULL */

/* The berth labels of a definition being parsed (app-berth.c): BERTH_PER_AGENT ("true" or
 * "false") and BERTH_INSTANCE_INDEX_OFFSET (0 .. APP_MAX_INDEX_OFFSET) into a->per_agent
 * and a->index_offset. A per-agent app may not have local persistent volumes (each instance
 * is bound to its agent from the start) nor BERTH_AUTOSCALE_* labels (its count follows the
 * agents). Returns 0, or -EINVAL with the problem in err
 * (path "/labels/<name>"). */
#define APP_MAX_INDEX_OFFSET 1000000000u
int app_berth_labels(struct app *a, struct verr *err);
/* Marathon's "secrets" and the env references to them (app-secrets.c): every entry has a
 * usable "source", every {"secret": NAME} in env names an entry. 0 or -EINVAL (err). */
int app_secrets_check(const json_t *app, struct verr *err);
/* Whether a secret's source can name a file of the agents' store: '/'-separated names of
 * [A-Za-z0-9._-], none "." or "..", one leading '/' allowed, at most 255 characters. */
bool app_secret_source_valid(const char *source);

/* Canonical absolute id for text (relative to base "/…"), or -EINVAL with a message
 * ("'Web' is not a valid path: segments are lower-case letters, digits, '-' and '.'").
 * out holds APP_MAX_ID_LEN + 1 bytes. */
int app_id_canonical(const char *text, const char *base, char *out, char *err, size_t errlen);

/* The merge a partial update (PUT ?partialUpdate=true, PATCH) does: a copy of old with
 * every top-level field of patch replacing old's. New reference. */
json_t *app_merge(const json_t *old, const json_t *patch);

/* Sets a->version and "version" (and versionInfo.lastConfigChangeAt/lastScalingAt) in
 * a->json. config_change tells whether anything but instances changed. */
void app_set_version(struct app *a, uint64_t real_usec, bool config_change,
		     const char *last_config_change_at);

/* true if the two definitions differ in anything but instances/version/versionInfo. */
bool app_config_differs(const struct app *a, const struct app *b);

/* Mesos-style task name: path reversed and joined with '.', "/prod/db/pg" -> "pg.db.prod".
 * out holds APP_MAX_ID_LEN + 1 bytes. */
void app_task_name(const char *app_id, char *out);

/* Label selector from GET /v2/apps?label=: "k", "k==v", "k!=v", "k in (a,b)",
 * "k notin (a,b)", ","-separated = AND. Returns 1 match, 0 no match, -EINVAL bad selector. */
int app_label_selector_match(const char *selector, const json_t *labels);

/* Resolves text against base ("/" when NULL) into out (APP_MAX_ID_LEN + 1 bytes): "."
 * and ".." segments applied, empty segments dropped; "/" for the root. Returns 0,
 * -EINVAL for a segment that is not a valid PathId segment (copied into bad, may be
 * NULL), -ERANGE for ".." above the root, -E2BIG when longer than APP_MAX_ID_LEN. */
int app_id_resolve(const char *text, const char *base, char *out, char *bad, size_t badlen);
/* true if s[0..n) matches ^(([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])\.)*([a-z0-9]|…)$. */
bool app_id_segment_valid(const char *s, size_t n);
/* v as Java's Double.toString prints it ("0.5", "256.0", "1.0E7"), as Marathon shows
 * numbers in messages and task environments. */
void app_double_java(double v, char out[32]);
