/* Marathon placement constraints (reference/compat.md §3.3):
 *   [[field, OP, value?], …]  OP in UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER, IS
 * field is "hostname" / "@hostname" or an attribute name. A missing attribute matches only
 * UNLIKE. LIKE and UNLIKE match a POSIX extended regex against the whole value. */
#pragma once
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "base/valcount.h"
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

/* The same decision from counts instead of a list: placed counts the app's live tasks by
 * field ("hostname", or an attribute name) and value (base/valcount.h), as
 * constraints_count_target adds them, so that the cost does not grow with the app's
 * tasks. group_min[i] is constraints_group_min of c[i] for a GROUP_BY c[i] (read for
 * those only; NULL when c has none). A CLUSTER without a value admits any value some
 * placed task has (the list form admits the first placed task's). */
bool constraints_allow_counted(const struct constraint *c, size_t n,
			       const struct placement_target *candidate,
			       const struct valcount *placed, const size_t *group_min);
/* For a GROUP_BY c: the lowest count of placed tasks over every known value (those of the
 * agents all[0..nall) and of the placed tasks), 0 when fewer values are known than c
 * expects. A candidate whose value has at most that many may take one more.
 * O(nall + distinct placed values). */
size_t constraints_group_min(const struct constraint *c, const struct valcount *placed,
			     const struct placement_target *const *all, size_t nall);
/* Counts (d = 1) or uncounts (d = -1) one task on target in placed: its hostname under
 * "hostname" and each attribute's text under the attribute's name. */
void constraints_count_target(struct valcount *placed, const struct placement_target *t, int d);

/* "UNIQUE", "CLUSTER", … for op. */
const char *constraint_op_name(enum constraint_op op);
