/* Mesos resources: scalars, ranges and sets, each with a role ('*' = unreserved).
 *
 * Text syntax (agent --resources, Mesos): entries separated by ';', each
 *   name(role):value      or   name:value      (role '*')
 * where value is a scalar "8" / "0.5", ranges "[31000-32000, 33000-33100]" or a set
 * "{a,b,c}". Whitespace around tokens is ignored. The same name+role twice adds up.
 *
 * A struct resources is a list of entries; entries with the same name and role are merged,
 * so it is always in canonical form (no duplicates, no empty ranges, ranges sorted and
 * coalesced). All functions keep that form. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum res_type { RES_SCALAR, RES_RANGES, RES_SET };

struct res_range {
	uint64_t begin, end; /* inclusive */
};

struct resource {
	char *name;
	char *role; /* "*" when unreserved */
	enum res_type type;
	double scalar;
	struct res_range *ranges;
	size_t nranges;
	char **items; /* sorted */
	size_t nitems;
};

struct resources {
	struct resource *v;
	size_t n;
};

#define RESOURCES_INIT { NULL, 0 }

void resources_init(struct resources *r);
void resources_release(struct resources *r);
void resources_copy(struct resources *dst, const struct resources *src); /* dst is overwritten */
/* As resources_copy, only the entries keep says yes to. */
void resources_copy_if(struct resources *dst, const struct resources *src,
		       bool (*keep)(const struct resource *e, const void *ctx), const void *ctx);

/* Parses text into out (which must be initialised; it is cleared first). Returns 0, or
 * -EINVAL with a message for a person in err ("resource 'cpus': 'x' is not a number"). */
int resources_parse(const char *text, struct resources *out, char *err, size_t errlen);
/* Formats in the text syntax above, canonical order (malloc'd). */
char *resources_format(const struct resources *r);

/* Scalar total for a name over all roles (role NULL) or one role. */
double resources_scalar(const struct resources *r, const char *name, const char *role);
/* Adds a scalar to (name, role), creating the entry. */
void resources_add_scalar(struct resources *r, const char *name, const char *role, double v);
/* Adds a range [b,e] to (name, role). */
void resources_add_range(struct resources *r, const char *name, const char *role, uint64_t b,
			 uint64_t e);

/* a += b */
void resources_add(struct resources *a, const struct resources *b);
/* a += b[0] + … + b[n-1], the same as resources_add of each in turn, with each ranges entry
 * normalized once instead of after every add (n tasks' ports: n log n, not n² log n). */
void resources_add_all(struct resources *a, const struct resources *const *b, size_t n);
/* a -= b; -EINVAL (a unchanged) unless a contains b. */
int resources_subtract(struct resources *a, const struct resources *b);
/* a -= b where they overlap: what of b a lacks is ignored (scalars stop at 0). */
void resources_subtract_upto(struct resources *a, const struct resources *b);
/* true when a holds at least b, entry by entry (same name and role). Scalars compare with
 * an epsilon of 1e-9 so that 0.1+0.2 fits into 0.3. */
bool resources_contains(const struct resources *a, const struct resources *b);

/* Number of values in the ranges of (name, role) (role NULL = all roles). */
uint64_t resources_range_count(const struct resources *r, const char *name, const char *role);
/* Picks ports from the "ports" ranges of role (NULL = any role): for each i, want[i] != 0
 * asks for exactly that port, 0 for any free one (lowest first, never one also asked for
 * explicitly). Fills got[i]. Returns 0, or -ENOSPC if they do not all fit (got undefined).
 * r is not changed. */
int resources_pick_ports(const struct resources *r, const char *role, const uint32_t *want,
			 size_t n, uint32_t *got);

/* "[31000-32000, 33000-33000]", the form /master/state uses (malloc'd); "[]" when none. */
char *resources_format_ranges(const struct resources *r, const char *name, const char *role);

/* Bounds on parsed input (longer or larger text is rejected, never truncated). */
#define RESOURCES_MAX_TEXT 65536
#define RESOURCES_MAX_ENTRIES 256
#define RESOURCES_MAX_NAME 128
#define RESOURCES_MAX_RANGES 10000
#define RESOURCES_MAX_ITEMS 4096
#define RESOURCES_MAX_SCALAR 1e15

/* Shortest plain decimal form of v that reads back ("8", "0.5", "15360"), no exponent
 * below 1e15; nine decimals at most. */
void resources_format_scalar(double v, char out[32]);
/* true for "*" or a Mesos role name ("prod", "eng/backend"): letters, digits, '_', '-',
 * '.', '/' as separator; not starting with '-', no empty, "." or ".." segment. */
bool resources_role_valid(const char *role);
/* Parses "[a-b, c-d]" (a lone "a" means a-a; "[]" is empty) into *out (malloc'd, as
 * given, not normalized) and *n. 0, or -EINVAL with a message (reversed or junk range). */
int resources_ranges_parse(const char *text, struct res_range **out, size_t *n, char *err,
			   size_t errlen);
