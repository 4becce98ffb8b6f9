/* Marathon placement constraints (reference/compat.md §3.3):
 *   [[field, OP, value?], …]  OP in UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER, IS
 * field is "hostname" / "@hostname" or an attribute name. A missing attribute matches only
 * UNLIKE. LIKE and UNLIKE match a POSIX extended regex against the whole value. */
#pragma once
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "json/verr.h"
#include "model/attributes.h"

enum constraint_op { C_UNIQUE, C_CLUSTER, C_GROUP_BY, C_LIKE, C_UNLIKE, C_MAX_PER, C_IS };

struct constraint {
	char *field;        /* "hostname" for both spellings */
	enum constraint_op op;
	char *value;        /* NULL when absent */
	long number;        /* GROUP_BY count / MAX_PER limit, 0 when absent */
	regex_t re;         /* compiled ^(value)$ for LIKE/UNLIKE */
	bool has_re;
};

/* What a constraint looks at on one agent. Borrowed pointers. */
struct placement_target {
	const char *hostname;
	const struct attributes *attrs;
};

/* Parses and validates json (the app's "constraints" array). Errors go to err under
 * path_prefix ("/constraints") + "/<i>". Returns 0 (with *out, *n set; *out NULL when
 * empty) or -EINVAL. */
int constraints_parse(const json_t *json, const char *path_prefix, struct verr *err,
		      struct constraint **out, size_t *n);
void constraints_free(struct constraint *c, size_t n);

/* May one more task go to candidate, given where the app's other live tasks already are
 * (placed[0..nplaced), possibly with repeats, one entry per task)? all[] lists every agent
 * currently known (GROUP_BY counts distinct values over it; may be NULL if nall == 0). */
bool constraints_allow(const struct constraint *c, size_t n,
		       const struct placement_target *candidate,
		       const struct placement_target *const *placed, size_t nplaced,
		       const struct placement_target *const *all, size_t nall);

/* "UNIQUE", "CLUSTER", … for op. */
const char *constraint_op_name(enum constraint_op op);
