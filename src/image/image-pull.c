/* Pulls an image from a registry (the registry v2 API, image.h): the manifest (an index is
 * resolved to this platform's manifest), the config and layer blobs, each verified against
 * its digest. A 401 with "WWW-Authenticate: Bearer realm=…,service=…,scope=…" fetches a
 * token from the realm (anonymously, or with the registry's Basic credentials from the
 * agent's docker config.json) and retries once with it (Docker's token auth); a 401 with
 * "Basic realm=…" retries with the credentials themselves (a registry behind htpasswd).
 * Credentials are never sent to another host: curl drops them on a redirect elsewhere. */
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/image-int.h"
#include "image/image.h"

#define BLOB_MAX (4ull << 30)



struct pull {
	char base[300];       /* scheme://host[:port] */
	char token[4096];     /* Bearer token, "" until a 401 asks for one */
	char challenge[1024]; /* the last WWW-Authenticate: Bearer … */
	char registry[256];   /* host[:port], for messages */
	char userpass[512];   /* "user:password" from the auth file, "" = none */
	int basic;            /* the registry wants Basic on every request */
	char *mem;            /* response body (documents) */
	size_t len, cap;
	FILE *file;           /* response body (blobs) */
	char ctype[128];
};

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct pull *pl = arg;
	size_t k = sz * n;
	if (pl->file)
		return fwrite(p, 1, k, pl->file);
	if (pl->len + k > IMAGE_MAX_JSON)
		return 0;
	if (pl->len + k + 1 > pl->cap) {
		size_t c = (pl->len + k + 1) * 2;
		char *m = realloc(pl->mem, c);
		if (!m)
			return 0;
		pl->mem = m;
		pl->cap = c;
	}
	memcpy(pl->mem + pl->len, p, k);
	pl->len += k;
	pl->mem[pl->len] = '\0';
	return k;
}

static size_t on_header(char *p, size_t sz, size_t n, void *arg)
{
	struct pull *pl = arg;
	size_t k = sz * n;
	if (k > 17 && !strncasecmp(p, "WWW-Authenticate:", 17)) {
		const char *v = p + 17;
		while (*v == ' ')
			v++;
		size_t vl = k - (size_t)(v - p);
		if (vl >= sizeof(pl->challenge))
			vl = sizeof(pl->challenge) - 1;
		memcpy(pl->challenge, v, vl);
		pl->challenge[vl] = '\0';
		pl->challenge[strcspn(pl->challenge, "\r\n")] = '\0';
	} else if (k > 13 && !strncasecmp(p, "Content-Type:", 13)) {
		snprintf(pl->ctype, sizeof(pl->ctype), "%.*s", (int)(k - 13), p + 13);
	}
	return k;
}

/* One GET; the body into pl (memory, or pl->file). Returns the HTTP status, or -errno with
 * msg. */
static long get(struct pull *pl, const char *url, const char *accept, int auth, char *msg,
		size_t msglen)
{
	CURL *c = curl_easy_init();
	if (!c)
		return -ENOMEM;
	struct curl_slist *h = NULL;
	if (accept)
		h = curl_slist_append(h, accept);
	pl->len = 0;
	pl->challenge[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)BLOB_MAX);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, pl);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, pl);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "berth-image");
	if (auth == 1 && pl->token[0]) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
		curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, pl->token);
	} else if (pl->userpass[0] && (auth == 2 || (auth == 1 && pl->basic))) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERPWD, pl->userpass);
	}
	CURLcode cc = curl_easy_perform(c);
	long code = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	if (cc != CURLE_OK) {
		snprintf(msg, msglen, "%s: %s", url, curl_easy_strerror(cc));
		return -EIO;
	}
	return code;
}

/* key="value" out of a challenge. */
static int param(const char *ch, const char *key, char *out, size_t size)
{
	size_t kl = strlen(key);
	for (const char *p = ch; (p = strstr(p, key)); p += kl) {
		if ((p != ch && p[-1] != ' ' && p[-1] != ',') || p[kl] != '=' || p[kl + 1] != '"')
			continue;
		const char *v = p + kl + 2, *e = strchr(v, '"');
		if (!e || (size_t)(e - v) >= size)
			return -EINVAL;
		memcpy(out, v, (size_t)(e - v));
		out[e - v] = '\0';
		return 0;
	}
	return -ENOENT;
}

/* Fetches a token for the challenge pl->challenge. 0 or -errno with msg. */
static int fetch_token(struct pull *pl, char *msg, size_t msglen)
{
	char realm[512], service[256] = "", scope[512] = "";
	if (!strncasecmp(pl->challenge, "Basic", 5)) {
		if (!pl->userpass[0]) {
			snprintf(msg, msglen, "the registry '%s' wants credentials (Basic): give them "
				 "in the agent's --docker-config", pl->registry);
			return -EACCES;
		}
		pl->basic = 1;
		return 0;
	}
	if (strncasecmp(pl->challenge, "Bearer ", 7) ||
	    param(pl->challenge + 7, "realm", realm, sizeof(realm)) < 0) {
		snprintf(msg, msglen, "the registry asks for authentication berth cannot give: %s",
			 pl->challenge[0] ? pl->challenge : "(no challenge)");
		return -EACCES;
	}
	param(pl->challenge + 7, "service", service, sizeof(service));
	param(pl->challenge + 7, "scope", scope, sizeof(scope));
	CURL *c = curl_easy_init();
	char *es = curl_easy_escape(c, service, 0), *esc = curl_easy_escape(c, scope, 0);
	char url[2048];
	snprintf(url, sizeof(url), "%s%sservice=%s%s%s", realm, strchr(realm, '?') ? "&" : "?",
		 es ? es : "", scope[0] ? "&scope=" : "", scope[0] && esc ? esc : "");
	curl_free(es);
	curl_free(esc);
	curl_easy_cleanup(c);
	long code = get(pl, url, "Accept: application/json", 2, msg, msglen);
	if (code < 0)
		return (int)code;
	if (code == 401 || code == 403) {
		snprintf(msg, msglen, "the token service '%s' %s (HTTP %ld)", realm,
			 pl->userpass[0] ? "refused the credentials for this registry"
					 : "wants credentials: give them in the agent's --docker-config",
			 code);
		return -EACCES;
	}
	json_t *j = code == 200 ? json_loadb(pl->mem ? pl->mem : "", pl->len, 0, NULL) : NULL;
	const char *t = json_string_value(json_object_get(j, "token"));
	if (!t)
		t = json_string_value(json_object_get(j, "access_token"));
	int r = 0;
	if (!t || strlen(t) >= sizeof(pl->token)) {
		snprintf(msg, msglen, "token service '%s' answered %ld without a token", realm,
			 code);
		r = -EACCES;
	} else {
		snprintf(pl->token, sizeof(pl->token), "%s", t);
	}
	json_decref(j);
	return r;
}

/* GET with one retry after a token: status or -errno. */
static long get_auth(struct pull *pl, const char *url, const char *accept, char *msg,
		     size_t msglen)
{
	long code = get(pl, url, accept, 1, msg, msglen);
	if (code == 401 && !pl->token[0]) {
		if (pl->file) {
			rewind(pl->file);
			if (ftruncate(fileno(pl->file), 0) == -1)
				return -errno;
		}
		FILE *f = pl->file;
		pl->file = NULL;
		int r = fetch_token(pl, msg, msglen);
		pl->file = f;
		if (r < 0)
			return r;
		code = get(pl, url, accept, 1, msg, msglen);
		if (code == 401) {
			snprintf(msg, msglen, "the registry '%s' refused %s (HTTP 401)", pl->registry,
				 pl->basic ? "the credentials" : "the token");
			return -EACCES;
		}
	}
	return code;
}

static const char *const accept_manifest =
	"Accept: application/vnd.oci.image.manifest.v1+json, "
	"application/vnd.oci.image.index.v1+json, "
	"application/vnd.docker.distribution.manifest.v2+json, "
	"application/vnd.docker.distribution.manifest.list.v2+json";

/* Downloads blob digest into the store (verified). */
static int pull_blob(struct pull *pl, struct image_store *st, const char *repo,
		     const char *digest, char *msg, size_t msglen)
{
	char path[PATH_MAX], url[1024];
	image_blob_path(st, digest, path, sizeof(path));
	if (access(path, F_OK) == 0)
		return 0;
	image_tmp_path(st, "pull", path, sizeof(path));
	pl->file = fopen(path, "we");
	if (!pl->file)
		return -errno;
	snprintf(url, sizeof(url), "%s/v2/%s/blobs/%s", pl->base, repo, digest);
	long code = get_auth(pl, url, NULL, msg, msglen);
	int r = fclose(pl->file) ? -EIO : 0;
	pl->file = NULL;
	if (code != 200 && code >= 0) {
		snprintf(msg, msglen, "GET %s: HTTP %ld", url, code);
		r = -EIO;
	} else if (code < 0) {
		r = (int)code;
	}
	if (r == 0) {
		r = image_blob_put(st, path, digest, NULL);
		if (r == -EBADMSG)
			snprintf(msg, msglen, "blob %.30s: its content does not match its digest",
				 digest);
		else if (r < 0)
			snprintf(msg, msglen, "blob %.30s: %s", digest, strerror(-r));
	}
	unlink(path);
	return r;
}

static int is_loopback(const char *host)
{
	return !strncmp(host, "127.", 4) || !strncmp(host, "localhost", 9) ||
	       !strncmp(host, "[::1]", 5);
}

int image_pull(struct image_store *st, const struct image_ref *ref, const char *default_registry,
	       const char *auth_file, char *msg, size_t msglen)
{
	static struct pull pl;
	static struct image_manifest m;
	memset(&pl, 0, sizeof(pl));
	snprintf(pl.registry, sizeof(pl.registry), "%s", ref->registry);
	if (auth_file && *auth_file) {
		int ar = image_auth_lookup(auth_file, ref->registry, pl.userpass,
					   sizeof(pl.userpass), msg, msglen);
		if (ar < 0 && ar != -ENOENT)
			return ar;
	}
	if (!strcmp(ref->registry, "docker.io"))
		snprintf(pl.base, sizeof(pl.base), "%s",
			 default_registry && *default_registry ? default_registry
							       : "https://registry-1.docker.io");
	else
		snprintf(pl.base, sizeof(pl.base), "%s://%s",
			 is_loopback(ref->registry) ? "http" : "https", ref->registry);
	size_t bl = strlen(pl.base);
	while (bl && pl.base[bl - 1] == '/')
		pl.base[--bl] = '\0';
	curl_global_init(CURL_GLOBAL_DEFAULT);
	char url[1024];
	const char *want = ref->digest[0] ? ref->digest : ref->tag;
	int r = 0;
	for (int depth = 0; depth < 2; depth++) {
		snprintf(url, sizeof(url), "%s/v2/%s/manifests/%s", pl.base, ref->repo, want);
		long code = get_auth(&pl, url, accept_manifest, msg, msglen);
		if (code < 0) {
			r = (int)code;
			break;
		}
		if (code != 200) {
			snprintf(msg, msglen, "GET %s: HTTP %ld%s", url, code,
				 code == 404 ? " (no such image)" : "");
			r = code == 404 ? -ENOENT : -EIO;
			break;
		}
		enum image_doc kind;
		r = image_manifest_parse(pl.mem ? pl.mem : "", pl.len, image_arch(), &kind, &m);
		if (r < 0) {
			snprintf(msg, msglen, "%s: %s", url,
				 r == -ENOENT ? "no image for this platform"
					      : "not a manifest berth can use (OCI or Docker v2, "
						"tar or tar+gzip layers)");
			break;
		}
		if (kind == IMAGE_DOC_MANIFEST)
			break;
		want = m.config; /* the platform's manifest, by digest */
		static char next[80];
		snprintf(next, sizeof(next), "%s", m.config);
		want = next;
		r = -ELOOP;
	}
	if (r == 0)
		r = pull_blob(&pl, st, ref->repo, m.config, msg, msglen);
	for (size_t i = 0; r == 0 && i < m.nlayers; i++)
		r = pull_blob(&pl, st, ref->repo, m.layers[i], msg, msglen);
	if (r == 0)
		r = image_store_add(st, ref->full, m.config, m.layers, m.nlayers, msg, msglen);
	if (r == -ELOOP)
		snprintf(msg, msglen, "%s: an index of indexes", url);
	free(pl.mem);
	explicit_bzero(pl.userpass, sizeof(pl.userpass));
	return r;
}
