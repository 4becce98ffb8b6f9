/* berth lb's model: what marathon-lb's labels on Marathon apps ask HAProxy to do.
 *
 * lb_apps_parse reads the body of GET /v2/apps?embed=apps.tasks and makes one lb_service
 * per exposed service port of every app in the lb's group (compat.md §7.2), with the
 * app's healthy running tasks as its servers. Pure: no I/O.
 *
 * Invariants of a parsed lb_services (the renderer relies on them):
 *  - every string that reaches HAProxy's configuration (names, vhosts, paths, balance,
 *    certificate paths, bind addresses) is one token of printable ASCII without spaces,
 *    quotes, '#' or '\\'; a label value that is not is ignored with a note in `warnings`;
 *  - backend names are unique ([A-Za-z0-9_.-]); services are sorted by name;
 *  - a service's servers are sorted and without duplicates.
 * A label value that is one clean token but wrong for HAProxy ("HAPROXY_0_BALANCE=nope") is
 * passed through: `haproxy -c` rejects the whole configuration and the last good one stays. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"

/* Bounds on untrusted input: more than these is cut (and said in warnings). */
#define LB_MAX_SERVICES 4096
#define LB_MAX_SERVERS 1024 /* per service */
#define LB_MAX_VHOSTS 16    /* per service */
#define LB_MAX_PORTS 16     /* port indexes looked at per app */
#define LB_MAX_TOKEN 255    /* bytes of one label value used */

struct lb_server {
	char *host; /* as the task's host says it: an address or a name */
	uint16_t port;
};

struct lb_service {
	char *app_id;     /* "/prod/web" */
	char *name;       /* backend name: "prod_web_10000" (sanitized id, '_', service port) */
	unsigned index;   /* the port index n of HAPROXY_{n}_* */
	uint16_t port;    /* bind port (HAPROXY_{n}_PORT, else servicePort); 0: vhosts only */
	char *bind_addr;  /* HAPROXY_{n}_BIND_ADDR, or NULL (the lb's --bind) */
	bool http;        /* mode http (MODE=http, a VHOST, or an HTTP health check) */
	char *balance;    /* "roundrobin" unless BALANCE */
	bool sticky;
	bool redirect_https;
	char *vhosts[LB_MAX_VHOSTS];
	size_t nvhosts;
	char *path;       /* HAPROXY_{n}_PATH: path_beg prefixes (the raw token), or NULL */
	char *ssl_cert;   /* HAPROXY_{n}_SSL_CERT, or NULL */
	char *proxypass;  /* HAPROXY_{n}_HTTP_BACKEND_PROXYPASS_PATH, or NULL */
	long weight;      /* HAPROXY_{n}_BACKEND_WEIGHT (0) */
	char *deploy_group; /* HAPROXY_DEPLOYMENT_GROUP, or NULL */
	uint16_t alt_port;  /* HAPROXY_DEPLOYMENT_ALT_PORT, or 0 */
	struct lb_server *servers;
	size_t nservers;
};

struct lb_services {
	struct lb_service *v;
	size_t n;
	struct strbuf warnings; /* one line per label ignored, for the log */
};

/* Parses the apps JSON (json, len bytes) for group (a comma list; "*" in it matches every
 * app). Fills out (release with lb_services_release). Returns 0, or -EBADMSG (not JSON, or
 * no "apps" array: err says so), -ENOMEM. Apps or tasks of a wrong shape are skipped. */
int lb_apps_parse(const char *json, size_t len, const char *group, struct lb_services *out,
		  char *err, size_t errlen);
void lb_services_release(struct lb_services *s);

/* True for a value that may stand in HAProxy's configuration as one token (see above). */
bool lb_token_ok(const char *s);

/* The event stream, as far as the lb cares: a line scanner that says whether an event of a
 * type that changes the lb's view (status_update_event, health_status_changed_event,
 * api_post_event, app_terminated_event, deployment_success) has arrived. Lines are bounded
 * (a longer line is dropped whole). */
struct lb_events {
	char line[128];
	size_t len;
	bool overflow;
};
/* Feeds n bytes; returns how many relevant events they completed the type line of. */
unsigned lb_events_feed(struct lb_events *e, const char *buf, size_t n);
