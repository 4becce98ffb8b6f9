/* The ledger: the one owner of every agent's free and used resources and of what each role
 * is allocated. Internal to src/master (frameworks use rm_take / rm_give, rm.h).
 *
 * Invariants (unit tested against random sequences, tests/unit/test-ledger.c):
 *  - per agent: free + used = total, entry by entry (name and role); used is the sum of the
 *    takes not given back. A take that free does not hold fails and changes nothing; a give
 *    of more than used holds gives back only what used holds (and is logged as the bug it
 *    is), so that neither set ever goes negative or above total.
 *  - when an agent's total changes (it re-registered with other resources, a reservation
 *    or volume was made or destroyed), free = total - used; if used no longer fits in the
 *    new total the agent is overcommitted: free is what is left (total minus used where they
 *    overlap), and it stays so until enough is given back.
 *  - per role: alloc(role) = the scalar kinds (cpus, mem, disk, gpus) of the takes counted
 *    for that role and not given back; per client the same over all roles.
 * A take and its give name the same agent, role and resources; callers remember the role
 * they took under (a role that changes meanwhile cannot leave the ledger off). */
#pragma once
#include <stdbool.h>

#include "base/hmap.h"
#include "model/resources.h"

struct ledger_agent;

/* The scalar kinds quotas and shares cover, in this order: cpus, mem, disk, gpus. */
#define QUOTA_NKINDS 4
extern const char *const quota_kinds[QUOTA_NKINDS];
struct quota_amounts {
	double v[QUOTA_NKINDS]; /* a limit of INFINITY: unlimited */
};
/* The kinds' totals in r, over all roles (role NULL) or one role. */
void quota_amounts_of(const struct resources *r, const char *role, struct quota_amounts *out);

/* Per-agent accounting (pure). */
void ledger_agent_init(struct ledger_agent *la, const struct resources *total);
void ledger_agent_release(struct ledger_agent *la);
/* free -= r, used += r. 0, or -ENOSPC when free does not hold r (nothing changed). */
int ledger_agent_take(struct ledger_agent *la, const struct resources *r);
/* used -= r, free += r. 0, or -ENOENT when used did not hold all of r (what it held was
 * given back; the sets stay consistent). */
int ledger_agent_give(struct ledger_agent *la, const struct resources *r);
/* total = t (copied); free = t - used. 0, or -ENOSPC when used does not fit in t (free is
 * then what of t used leaves). */
int ledger_agent_set_total(struct ledger_agent *la, const struct resources *t);

/* Per-role allocation. */
struct ledger {
	struct hmap roles; /* role -> struct quota_amounts* */
};
void ledger_init(struct ledger *l);
void ledger_release(struct ledger *l);
/* Adds (sign 1) or removes (sign -1) r's kinds to role's allocation and, when not NULL, to
 * client (a client's allocation over all roles); amounts never drift below zero. */
void ledger_count(struct ledger *l, const char *role, const struct resources *r,
		  struct quota_amounts *client, int sign);
/* role's allocation, or NULL when nothing was ever counted for it. */
const struct quota_amounts *ledger_role(const struct ledger *l, const char *role);

struct master;
struct m_agent;
/* The same on an agent of the master, its role's allocation and client (may be NULL). A
 * give with a NULL agent (it is gone) only counts the role and client down. */
int ledger_take(struct master *m, struct m_agent *a, const char *role,
		struct quota_amounts *client, const struct resources *r);
void ledger_give(struct master *m, struct m_agent *a, const char *role,
		 struct quota_amounts *client, const struct resources *r);
/* ledger_agent_set_total on a (logged when it is overcommitted). */
int ledger_set_total(struct master *m, struct m_agent *a, const struct resources *total);
