/* Credentials (creds.h): the file's parser, Basic and token checks. */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "net/creds.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))

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

bool auth_same_secret(const char *a, size_t alen, const char *b, size_t blen)
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
		if (auth_same_secret(c->v[i].secret, strlen(c->v[i].secret), tok, tlen) && !who)
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
		    auth_same_secret(e->secret, strlen(e->secret), colon + 1, slen))
			who = e->principal;
	}
	explicit_bzero(buf, sizeof(buf));
	return who;
}

/* Reads a whole file of at most AUTH_MAX_FILE bytes: 0 and *buf (malloc'd), *len. */
int auth_read_file(const char *file, char **buf, size_t *len)
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

int auth_creds_load(const char *file, struct auth_creds *out, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t n = 0;
	int r = auth_read_file(file, &buf, &n);
	if (r < 0) {
		snprintf(err, errlen, "cannot read '%s': %s", file, strerror(-r));
		return r;
	}
	r = auth_creds_parse(buf, n, out, err, errlen);
	explicit_bzero(buf, n);
	free(buf);
	return r;
}
