/* Credentials: the file's parser, Basic and token checks, loading and SIGHUP reloads. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <event2/event.h>
#include <jansson.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth/auth.h"
#include "base/flags.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "auth/auth-int.h"


static const struct flag_spec specs[] = {
	{ .name = "credentials", .kind = FLAG_STRING,
	  .off = offsetof(struct auth_config, credentials), .metavar = "FILE",
	  .help = "principals and secrets, Mesos's JSON {\"credentials\": [{\"principal\",\n"
		  "\"secret\"}]}; every API then wants them (re-read on SIGHUP)" },
	{ .name = "http_credentials", .kind = FLAG_STRING,
	  .off = offsetof(struct auth_config, http_credentials), .metavar = "USER:PASS",
	  .help = "one more principal and secret, as Marathon's flag" },
	{ .name = "acls", .kind = FLAG_STRING, .off = offsetof(struct auth_config, acls),
	  .metavar = "FILE",
	  .help = "Mesos's ACL JSON, with Marathon path rules (view/create/update/\n"
		  "delete_apps); re-read on SIGHUP" },
	{ .name = "audit-log", .kind = FLAG_STRING,
	  .off = offsetof(struct auth_config, audit_log), .metavar = "FILE",
	  .help = "appends one JSON line per change or refusal: time, principal,\n"
		  "action, object, result" },
	{ .name = "tls-cert", .kind = FLAG_STRING, .off = offsetof(struct auth_config, tls_cert),
	  .metavar = "FILE", .help = "serve HTTPS only, with this certificate chain (PEM)" },
	{ .name = "tls-key", .kind = FLAG_STRING, .off = offsetof(struct auth_config, tls_key),
	  .metavar = "FILE", .help = "the private key of --tls-cert (PEM)" },
	{ .name = "tls-ca", .kind = FLAG_STRING, .off = offsetof(struct auth_config, tls_ca),
	  .metavar = "FILE",
	  .help = "require client certificates signed by these CAs (mutual TLS)" },
	{ .name = "http-plain", .kind = FLAG_HOSTPORT,
	  .off = offsetof(struct auth_config, http_plain_addr),
	  .off_port = offsetof(struct auth_config, http_plain_port), .metavar = "ADDR:PORT",
	  .help = "with --tls-cert: also listen for plain HTTP there, and answer\n"
		  "every request as --http-plain-action says (default: no such port)" },
	{ .name = "http-plain-action", .kind = FLAG_STRING,
	  .off = offsetof(struct auth_config, http_plain_action), .metavar = "ACTION",
	  .help = "redirect: 307 to the same URL over HTTPS (default); refuse: 403\n"
		  "naming the HTTPS URL" },
	{ .name = "http-max-connections", .kind = FLAG_STRING,
	  .off = offsetof(struct auth_config, max_connections), .metavar = "N",
	  .help = "open HTTP connections in all; more get 503 and are closed\n"
		  "(default 8192)" },
	{ .name = "http-max-connections-per-client", .kind = FLAG_STRING,
	  .off = offsetof(struct auth_config, max_connections_per_client), .metavar = "N",
	  .help = "open HTTP connections from one client address (default 2048)" },
	{ .name = "http-max-stream-backlog", .kind = FLAG_STRING,
	  .off = offsetof(struct auth_config, max_stream_backlog), .metavar = "MIB",
	  .help = "bytes queued and unsent on all event and RecordIO streams together,\n"
		  "in MiB; past it the slowest readers are cut off (default 256)" },
	{ .name = "http-request-timeout", .kind = FLAG_SECONDS,
	  .off = offsetof(struct auth_config, request_timeout_sec), .max = 3600,
	  .metavar = "SECONDS",
	  .help = "each request (headers and body) must arrive within this time, from\n"
		  "the accept or, on a kept-alive connection, from its first byte; else\n"
		  "the connection is closed (slowloris; default 30)" },
	{ .name = "max-streams-per-principal", .kind = FLAG_STRING,
	  .off = offsetof(struct auth_config, streams_per_principal), .metavar = "N",
	  .help = "event streams (/v2/events, operator SUBSCRIBE, each) one\n"
		  "authenticated principal may hold at once; more get 429 (default 64)" },
	{ .name = "authenticate-metrics", .kind = FLAG_BOOL,
	  .off = offsetof(struct auth_config, authenticate_metrics),
	  .help = "/metrics and /metrics/prometheus want credentials too\n"
		  "(by default they stay open for scrapers)" },
};

const struct flag_table auth_flags = { specs, ARRAY_SIZE(specs) };


/* ---- the loaded state ---- */

struct auth {
	char *acl_file; /* --acls, or NULL */
	struct acls *acls;
	int audit_fd;
	struct master *master;
	char *file;     /* --credentials, or NULL */
	char *userpass; /* --http_credentials, or NULL */
	bool metrics;
	struct auth_creds creds;
	struct event *sighup;
};

static int load_acls(const char *file, struct acls **out)
{
	char *buf = NULL, err[256];
	size_t n = 0;
	int r = auth_read_file(file, &buf, &n);
	if (r < 0) {
		log_error("auth", "cannot read ACLs '%s': %s", file, strerror(-r));
		return r;
	}
	r = acls_parse(buf, n, out, err, sizeof(err));
	free(buf);
	if (r < 0)
		log_error("auth", "ACLs '%s': %s", file, err);
	return r;
}

static int load(const char *file, const char *userpass, struct auth_creds *out)
{
	char err[256];
	int r = 0;
	if (file) {
		char *buf = NULL;
		size_t n = 0;
		r = auth_read_file(file, &buf, &n);
		if (r < 0) {
			log_error("auth", "cannot read credentials '%s': %s", file, strerror(-r));
			return r;
		}
		r = auth_creds_parse(buf, n, out, err, sizeof(err));
		explicit_bzero(buf, n);
		free(buf);
		if (r < 0) {
			log_error("auth", "credentials '%s': %s", file, err);
			return r;
		}
	}
	if (userpass) {
		r = auth_creds_add_userpass(out, userpass, err, sizeof(err));
		if (r < 0)
			log_error("auth", "--http_credentials: %s", err);
	}
	return r;
}

int auth_new(const struct auth_config *cfg, struct auth **out)
{
	*out = NULL;
	if (!cfg->credentials && !cfg->http_credentials && !cfg->acls && !cfg->audit_log)
		return 0;
	struct auth *a = xcalloc(1, sizeof(*a));
	a->audit_fd = -1;
	if (cfg->audit_log) {
		a->audit_fd = open(cfg->audit_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (a->audit_fd < 0) {
			int r = -errno;
			log_error("auth", "cannot open audit log '%s': %s", cfg->audit_log,
				  strerror(-r));
			auth_free(a);
			return r;
		}
	}
	if (cfg->acls) {
		a->acl_file = xstrdup(cfg->acls);
		int r = load_acls(a->acl_file, &a->acls);
		if (r < 0) {
			auth_free(a);
			return r;
		}
	}
	a->file = cfg->credentials ? xstrdup(cfg->credentials) : NULL;
	a->userpass = cfg->http_credentials ? xstrdup(cfg->http_credentials) : NULL;
	a->metrics = cfg->authenticate_metrics;
	int r = load(a->file, a->userpass, &a->creds);
	if (r < 0) {
		auth_free(a);
		return r;
	}
	if (a->file || a->userpass)
		log_info("auth", "authentication on: %zu principal(s)", a->creds.n);
	if (a->acls)
		log_info("auth", "authorization on: ACLs from '%s'", a->acl_file);
	*out = a;
	return 0;
}

void auth_free(struct auth *a)
{
	if (!a)
		return;
	if (a->sighup)
		event_free(a->sighup);
	auth_creds_release(&a->creds);
	acls_free(a->acls);
	free(a->acl_file);
	if (a->audit_fd >= 0)
		close(a->audit_fd);
	free(a->file);
	if (a->userpass) {
		explicit_bzero(a->userpass, strlen(a->userpass));
		free(a->userpass);
	}
	free(a);
}

int auth_reload(struct auth *a)
{
	if (a->acl_file) {
		struct acls *fresh = NULL;
		if (load_acls(a->acl_file, &fresh) < 0) {
			log_error("auth", "ACL reload failed: the ACLs before it stay in force");
		} else {
			acls_free(a->acls);
			a->acls = fresh;
			log_info("auth", "ACLs reloaded");
		}
	}
	if (!a->file && !a->userpass)
		return 0;
	struct auth_creds fresh = { 0 };
	int r = load(a->file, a->userpass, &fresh);
	if (r < 0) {
		auth_creds_release(&fresh);
		log_error("auth", "reload failed: the credentials before it stay in force");
		return r;
	}
	auth_creds_release(&a->creds);
	a->creds = fresh;
	log_info("auth", "credentials reloaded: %zu principal(s)", a->creds.n);
	return 0;
}

static void on_sighup(evutil_socket_t sig, short what, void *ctx)
{
	(void)sig;
	(void)what;
	auth_reload(ctx);
}

int auth_watch_sighup(struct auth *a, struct event_base *base)
{
	a->sighup = evsignal_new(base, SIGHUP, on_sighup, a);
	if (!a->sighup || evsignal_add(a->sighup, NULL) < 0)
		return -ENOMEM;
	return 0;
}

const struct auth_creds *auth_current(const struct auth *a)
{
	return &a->creds;
}
bool auth_metrics_guarded(const struct auth *a)
{
	return a->metrics;
}

bool auth_authenticates(const struct auth *a)
{
	return a->file || a->userpass;
}

const struct acls *auth_acls(const struct auth *a)
{
	return a->acls;
}

int auth_audit_fd(const struct auth *a)
{
	return a->audit_fd;
}

struct master *auth_master(const struct auth *a)
{
	return a->master;
}

void auth_set_master(struct auth *a, struct master *m)
{
	if (a)
		a->master = m;
}
