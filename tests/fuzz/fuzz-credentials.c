/* Fuzz target: the credentials file parser (auth_creds_parse) and the Authorization header
 * check over untrusted bytes. The input is "file\n--\nheader": the whole input is parsed as
 * a file; the part after the first "\n--\n" (if any) is checked as a header against the
 * credentials parsed from the part before it. A parse that fails leaves what it appended
 * well-formed; every principal found is non-empty, NUL-free and bounded. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_creds(const struct auth_creds *c)
{
	for (size_t i = 0; i < c->n; i++) {
		size_t n = strlen(c->v[i].principal);
		assert(n > 0 && n <= AUTH_MAX_FIELD);
		assert(strlen(c->v[i].secret) <= AUTH_MAX_FIELD);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct auth_creds c = { 0 };
	(void)auth_creds_parse((const char *)data, size, &c, err, sizeof(err));
	check_creds(&c);
	auth_creds_release(&c);

	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	char *sep = strstr(s, "\n--\n");
	const char *hdr = s;
	if (sep) {
		*sep = '\0';
		hdr = sep + 4;
		(void)auth_creds_parse(s, strlen(s), &c, err, sizeof(err));
		check_creds(&c);
	}
	const char *who = auth_creds_check(&c, hdr);
	if (who) {
		bool found = false;
		for (size_t i = 0; i < c.n; i++)
			found |= who == c.v[i].principal;
		assert(found);
	}
	auth_creds_release(&c);
	free(s);
	return 0;
}
