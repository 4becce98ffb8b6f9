/* Marathon health checks (healthChecks[]) and readiness checks (readinessChecks[]):
 * validation with paths, Marathon's defaults (reference/compat.md §3.3), parsed form. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json/verr.h"

enum hc_protocol { HC_HTTP, HC_HTTPS, HC_TCP, HC_COMMAND };

struct health_check {
	enum hc_protocol protocol;
	char *path;         /* HTTP(S): "/" by default */
	int port_index;     /* -1 when port is given */
	uint32_t port;      /* explicit port, 0 when port_index is used */
	char *command;      /* COMMAND */
	double grace_period_seconds, interval_seconds, timeout_seconds, delay_seconds;
	int64_t max_consecutive_failures; /* 0 = never kill */
	bool ignore_http1xx;
	bool mesos;         /* MESOS_* or COMMAND: delaySeconds applies (Marathon's own checks start at once) */
};

struct readiness_check {
	char *name;
	enum hc_protocol protocol; /* HTTP or HTTPS */
	char *path;
	char *port_name;
	int port_index;            /* resolved from port_name against portDefinitions */
	double interval_seconds, timeout_seconds;
	int *status_codes;
	size_t nstatus_codes;
};

/* Validates arr (borrowed; defaults are written into it) as healthChecks; nports tells how
 * many portDefinitions the app has. Errors under "/healthChecks/<i>/…". 0 or -EINVAL. */
int health_checks_parse(json_t *arr, size_t nports, struct verr *err,
			struct health_check **out, size_t *n);
void health_checks_free(struct health_check *h, size_t n);

/* Same for readinessChecks; port_names[i] is portDefinitions[i].name (may be NULL). */
int readiness_checks_parse(json_t *arr, const char *const *port_names, size_t nports,
			   struct verr *err, struct readiness_check **out, size_t *n);
void readiness_checks_free(struct readiness_check *r, size_t n);

/* "HTTP", "HTTPS", "TCP", "COMMAND". */
const char *hc_protocol_name(enum hc_protocol p);
