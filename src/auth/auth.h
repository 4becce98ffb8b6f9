/* Authentication of the master's HTTP APIs (docs/security.md).
 *
 * Principals and their secrets come from Mesos's credentials file (--credentials FILE:
 * {"credentials": [{"principal": "p", "secret": "s"}]}, reloaded on SIGHUP) and Marathon's
 * --http_credentials user:pass. When either is given, every request except /ping, /health
 * (and /metrics, /metrics/prometheus unless --authenticate-metrics) must carry one of
 *   Authorization: Basic base64(principal:secret)
 *   Authorization: token=SECRET        (as DC/OS clients send)
 *   Authorization: Bearer SECRET
 * A token names the principal whose secret it is. Failing requests get 401 with a
 * WWW-Authenticate challenge in the shape of the API asked (Marathon's on /v2, Mesos's
 * elsewhere). The authenticated principal travels in the request as the hidden input
 * header HTTP_PRINCIPAL_HEADER, for handlers that check it (the v1 scheduler's SUBSCRIBE).
 *
 * Invariants: a secret never leaves this module (no log line, no answer holds one);
 * comparisons of secrets take the same time whatever bytes differ; a reload that fails
 * keeps the credentials in force before it. */
#pragma once
#include <event2/event.h>
#include <event2/http.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct auth_config {
	const char *credentials;      /* --credentials FILE, or NULL */
	const char *http_credentials; /* --http_credentials user:pass, or NULL */
	bool authenticate_metrics;    /* --authenticate-metrics */
	const char *acls;             /* --acls FILE (acl.h), or NULL */
	const char *audit_log;        /* --audit-log FILE, or NULL */
	/* TLS on the listener (net/http.h http_tls_new); the master sets it up */
	const char *tls_cert, *tls_key, *tls_ca;
	/* with TLS: a plain-HTTP port that redirects to HTTPS or refuses (server/plain-http.h) */
	const char *http_plain_addr;
	uint16_t http_plain_port;
	const char *http_plain_action; /* "redirect" (NULL: the default) or "refuse" */
	/* connection caps and the slowloris timeout (net/http.h http_server_set_limits) */
	const char *max_connections, *max_connections_per_client; /* numbers, or NULL */
	double request_timeout_sec;                              /* 0: the default */
	const char *streams_per_principal; /* a number, or NULL: the default */
	const char *max_stream_backlog;    /* MiB, or NULL: HTTP_DEFAULT_STREAM_BUDGET */
};

/* The flags above (base/flags.h), writing into a struct auth_config. */
struct flag_table;
extern const struct flag_table auth_flags;

#include "net/creds.h" /* the credentials and their check */

struct auth;
/* Loads cfg's credentials and ACLs, opens the audit log. *out is NULL (and 0 returned)
 * when none is configured. Authentication is on when credentials are given; authorization
 * when ACLs are. -errno with the reason logged for an unreadable or bad file. cfg's
 * strings are copied. */
int auth_new(const struct auth_config *cfg, struct auth **out);
void auth_free(struct auth *a); /* accepts NULL */
/* The master whose frameworks authorization looks up (borrowed). */
struct master;
void auth_set_master(struct auth *a, struct master *m);
/* Re-reads the credentials and ACL files; on error logs and keeps the old ones. */
int auth_reload(struct auth *a);
/* Re-reads on every SIGHUP delivered to base's loop, until auth_free. */
int auth_watch_sighup(struct auth *a, struct event_base *base);

/* The route hook: returns true when req may proceed (its principal recorded in the
 * request), or false after answering 401. path is the decoded request path. a NULL: true. */
bool auth_http_check(struct auth *a, struct evhttp_request *req, const char *path);
/* Authorization (auth-authz.c): true when the ACLs allow what req asks, else false after
 * answering 403; writes the audit line of a change or a refusal. Called by auth_http_check. */
bool auth_http_authorize(struct auth *a, struct evhttp_request *req, const char *path,
			 const char *principal);
/* Whether principal (NULL: none) may see app_id ("/x/y") by the ACLs' view_apps rules: the
 * filter of the Marathon lists (apps_set_view_filter). a (a struct auth *) NULL: true. */
bool auth_may_view_app(void *a, const char *principal, const char *app_id);
/* The same for the master's state and sandboxes (rm_set_view_filter): action
 * "view_frameworks", "view_tasks" or "access_sandboxes", user the object (NULL: unknown). */
bool auth_may_view_user(void *a, const char *action, const char *principal, const char *user);
