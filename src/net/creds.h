/* Credentials shared by the master (auth/) and the agent: Mesos's credentials file
 * {"credentials": [{"principal": "p", "secret": "s"}]}, Marathon's user:pass, and the check of
 * an Authorization header (Basic, token=, Bearer) against them.
 *
 * Invariants: a secret never leaves this module (no log line, no error message holds one);
 * comparisons of secrets take the same time whatever bytes differ. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define AUTH_MAX_FILE (1024 * 1024)  /* a credentials file larger than this is refused */
#define AUTH_MAX_CREDENTIALS 10000
#define AUTH_MAX_FIELD 1024          /* a principal or secret longer than this is refused */

struct auth_cred {
	char *principal;
	char *secret;
};
struct auth_creds {
	struct auth_cred *v;
	size_t n;
};
void auth_creds_release(struct auth_creds *c); /* accepts a zeroed c */

/* Parses Mesos's credentials JSON (text, len bytes, need not be NUL-terminated). Each entry
 * needs a non-empty "principal" and a "secret" (strings without NUL, at most
 * AUTH_MAX_FIELD bytes); a principal twice is an error. Appends to *out. Returns 0, or
 * -EINVAL / -E2BIG with a message in err naming what is wrong (never a secret). */
int auth_creds_parse(const char *text, size_t len, struct auth_creds *out, char *err,
		     size_t errlen);
/* Parses "user:pass" (the first ':' splits; both non-empty) and appends it to *out. */
int auth_creds_add_userpass(struct auth_creds *out, const char *userpass, char *err,
			    size_t errlen);
/* Reads a whole file of at most AUTH_MAX_FILE bytes: 0 and *buf (malloc'd), *len; -errno. */
int auth_read_file(const char *file, char **buf, size_t *len);
/* Reads and parses a credentials file (at most AUTH_MAX_FILE bytes), appending to *out.
 * -errno with err naming what is wrong (never a secret). */
int auth_creds_load(const char *file, struct auth_creds *out, char *err, size_t errlen);

/* Checks an Authorization header value against c. Returns the principal (borrowed from c)
 * or NULL when the header is missing, malformed, or names no principal with that secret. */
const char *auth_creds_check(const struct auth_creds *c, const char *authorization);
/* Equal in time independent of where a and b differ (their lengths may leak). */
bool auth_same_secret(const char *a, size_t alen, const char *b, size_t blen);
