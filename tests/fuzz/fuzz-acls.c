/* Fuzz target: the ACL parser (acls_parse) over untrusted bytes, then an evaluation of every
 * action against a few principals and objects. A failed parse returns nothing; a good one
 * answers every question without crashing. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>

#include "auth/acl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct acls *a = NULL;
	int r = acls_parse((const char *)data, size, &a, err, sizeof(err));
	assert((r == 0) == (a != NULL));
	static const char *const who[] = { NULL, "ops", "dev", "" };
	static const char *const what[] = { NULL, "root", "/dev/x", "/", "*" };
	for (int k = 0; a && k < ACL_NACTIONS; k++)
		for (size_t i = 0; i < 4; i++)
			for (size_t j = 0; j < 5; j++)
				(void)acls_allowed(a, (enum acl_action)k, who[i], what[j]);
	acls_free(a);
	return 0;
}
