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

#define MIN(a, b) ((a) < (b) ? (a) : (b))

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
	{ .name = "authenticate-metrics", .kind = FLAG_BOOL,
	  .off = offsetof(struct auth_config, authenticate_metrics),
	  .help = "/metrics and /metrics/prometheus want credentials too\n"
		  "(by default they stay open for scrapers)" },
};

const struct flag_table auth_flags = { specs, ARRAY_SIZE(specs) };

void auth_creds_release(struct auth_creds *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].principal);
		if (c->v[i].secret) {
			explicit_bzero(c->v[i].secret, strlen(c->v[i].secret));
			free(c->v[i].secret);
		}
	}
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

static int add(struct auth_creds *c, const char *p, size_t plen, const char *s, size_t slen,
	       char *err, size_t errlen)
{
	if (c->n >= AUTH_MAX_CREDENTIALS) {
		snprintf(err, errlen, "more than %d credentials", AUTH_MAX_CREDENTIALS);
		return -E2BIG;
	}
	for (size_t i = 0; i < c->n; i++)
		if (strlen(c->v[i].principal) == plen && !memcmp(c->v[i].principal, p, plen)) {
			snprintf(err, errlen, "principal '%.*s' given twice", (int)MIN(plen, 64), p);
			return -EINVAL;
		}
	c->v = xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
	c->v[c->n].principal = xstrndup(p, plen);
	c->v[c->n].secret = xstrndup(s, slen);
	c->n++;
	return 0;
}

/* A string field of entry i: 0 with *s, *len, or -EINVAL with err. */
static int field(json_t *e, size_t i, const char *key, bool nonempty, const char **s,
		 size_t *len, char *err, size_t errlen)
{
	json_t *v = json_object_get(e, key);
	if (!json_is_string(v)) {
		snprintf(err, errlen, "credentials[%zu].%s: expected a string", i, key);
		return -EINVAL;
	}
	*s = json_string_value(v);
	*len = json_string_length(v);
	if (memchr(*s, '\0', *len)) {
		snprintf(err, errlen, "credentials[%zu].%s: holds a NUL byte", i, key);
		return -EINVAL;
	}
	if (nonempty && !*len) {
		snprintf(err, errlen, "credentials[%zu].%s: empty", i, key);
		return -EINVAL;
	}
	if (*len > AUTH_MAX_FIELD) {
		snprintf(err, errlen, "credentials[%zu].%s: longer than %d bytes", i, key,
			 AUTH_MAX_FIELD);
		return -E2BIG;
	}
	return 0;
}

int auth_creds_parse(const char *text, size_t len, struct auth_creds *out, char *err,
		     size_t errlen)
{
	if (len > AUTH_MAX_FILE) {
		snprintf(err, errlen, "larger than %d bytes", AUTH_MAX_FILE);
		return -E2BIG;
	}
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	if (!root) {
		snprintf(err, errlen, "not JSON: %s at line %d, column %d", je.text, je.line,
			 je.column);
		return -EINVAL;
	}
	int r = 0;
	json_t *arr = json_object_get(root, "credentials");
	if (!json_is_array(arr)) {
		snprintf(err, errlen, "credentials: expected an array");
		r = -EINVAL;
	}
	for (size_t i = 0; r == 0 && i < json_array_size(arr); i++) {
		json_t *e = json_array_get(arr, i);
		const char *p, *s;
		size_t plen, slen;
		if (!json_is_object(e)) {
			snprintf(err, errlen, "credentials[%zu]: expected an object", i);
			r = -EINVAL;
			break;
		}
		r = field(e, i, "principal", true, &p, &plen, err, errlen);
		if (r == 0)
			r = field(e, i, "secret", false, &s, &slen, err, errlen);
		if (r == 0)
			r = add(out, p, plen, s, slen, err, errlen);
	}
	json_decref(root);
	return r;
}

int auth_creds_add_userpass(struct auth_creds *out, const char *userpass, char *err,
			    size_t errlen)
{
	const char *colon = strchr(userpass, ':');
	if (!colon || colon == userpass || !colon[1]) {
		snprintf(err, errlen, "expected USER:PASS");
		return -EINVAL;
	}
	size_t plen = (size_t)(colon - userpass), slen = strlen(colon + 1);
	if (plen > AUTH_MAX_FIELD || slen > AUTH_MAX_FIELD) {
		snprintf(err, errlen, "longer than %d bytes", AUTH_MAX_FIELD);
		return -E2BIG;
	}
	return add(out, userpass, plen, colon + 1, slen, err, errlen);
}

/* Equal in time independent of where a and b differ (their lengths may leak). */
static bool same(const char *a, size_t alen, const char *b, size_t blen)
{
	unsigned char d = alen != blen;
	size_t n = MIN(alen, blen);
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)a[i] ^ (unsigned char)b[i];
	return d == 0;
}

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decodes standard base64 (padding optional) into out (cap bytes); -1 if malformed. */
static long b64_decode(const char *in, size_t len, char *out, size_t cap)
{
	while (len && in[len - 1] == '=')
		len--;
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		int v = b64val((unsigned char)in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= cap)
				return -1;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	return (long)n;
}

static const char *by_secret(const struct auth_creds *c, const char *tok)
{
	const char *who = NULL;
	size_t tlen = strlen(tok);
	if (!tlen)
		return NULL;
	for (size_t i = 0; i < c->n; i++) /* no early exit: the time says nothing */
		if (same(c->v[i].secret, strlen(c->v[i].secret), tok, tlen) && !who)
			who = c->v[i].principal;
	return who;
}

const char *auth_creds_check(const struct auth_creds *c, const char *h)
{
	if (!c || !h)
		return NULL;
	while (*h == ' ')
		h++;
	if (!strncasecmp(h, "token=", 6))
		return by_secret(c, h + 6);
	if (!strncasecmp(h, "Bearer ", 7)) {
		h += 7;
		while (*h == ' ')
			h++;
		return by_secret(c, h);
	}
	if (strncasecmp(h, "Basic ", 6))
		return NULL;
	h += 6;
	while (*h == ' ')
		h++;
	size_t len = strcspn(h, " ");
	char buf[2 * AUTH_MAX_FIELD + 2];
	long n = b64_decode(h, len, buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	char *colon = memchr(buf, ':', (size_t)n);
	if (!colon || memchr(buf, '\0', (size_t)n))
		return NULL;
	size_t plen = (size_t)(colon - buf), slen = (size_t)n - plen - 1;
	const char *who = NULL;
	for (size_t i = 0; i < c->n; i++) {
		const struct auth_cred *e = &c->v[i];
		if (strlen(e->principal) == plen && !memcmp(e->principal, buf, plen) &&
		    same(e->secret, strlen(e->secret), colon + 1, slen))
			who = e->principal;
	}
	explicit_bzero(buf, sizeof(buf));
	return who;
}

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

/* Reads a whole file of at most AUTH_MAX_FILE bytes: 0 and *buf (malloc'd), *len. */
static int slurp(const char *file, char **buf, size_t *len)
{
	FILE *f = fopen(file, "re");
	if (!f)
		return -errno;
	char *b = xmalloc(AUTH_MAX_FILE + 1);
	size_t n = fread(b, 1, AUTH_MAX_FILE + 1, f);
	bool bad = ferror(f);
	fclose(f);
	if (bad || n > AUTH_MAX_FILE) {
		free(b);
		return bad ? -EIO : -E2BIG;
	}
	*buf = b;
	*len = n;
	return 0;
}

static int load_acls(const char *file, struct acls **out)
{
	char *buf = NULL, err[256];
	size_t n = 0;
	int r = slurp(file, &buf, &n);
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
		r = slurp(file, &buf, &n);
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
