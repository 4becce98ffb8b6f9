/* Mesos v1 JSON shapes of resources and attributes (reference/compat.md §1.6), and the
 * small pure helpers the scheduler API needs: Dominant Resource Fairness shares and
 * ordering, base64 and the 16-byte form of uuids.
 *
 * Resource JSON: {"name", "type": SCALAR|RANGES|SET, "scalar": {"value"} | "ranges":
 * {"range": [{"begin","end"}]} | "set": {"item": [..]}, "role"?, "reservations"?,
 * "allocation_info"?}. The role of an entry is "role" when given, else the role of the last
 * (innermost) element of "reservations", else "*". Unknown fields are ignored, as stout
 * does. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/attributes.h"
#include "model/resources.h"

/* Adds every Resource of arr (borrowed, a JSON array) to out (initialised by the caller;
 * not cleared). Returns 0, or -EINVAL with a message for a person in err ("resources[1]:
 * 'scalar.value' must be a finite number >= 0") for a malformed entry (out may then hold
 * part of the input: the caller releases it). Bounded by RESOURCES_MAX_ENTRIES entries and
 * RESOURCES_MAX_RANGES ranges / RESOURCES_MAX_ITEMS items per entry. */
int mesos_resources_from_json(const json_t *arr, struct resources *out, char *err,
			      size_t errlen);

/* The Resource JSON array of r (new reference). alloc_role, when not NULL, is put in every
 * entry's allocation_info. refinement adds the "reservations" stack (STATIC) to reserved
 * entries, for frameworks with the RESERVATION_REFINEMENT capability. */
json_t *mesos_resources_to_json(const struct resources *r, const char *alloc_role,
				bool refinement);

/* The Attribute JSON array of a (new reference): TEXT, SCALAR, RANGES or SET. */
json_t *mesos_attributes_to_json(const struct attributes *a);

/* Dominant share of alloc in a cluster of total: the largest alloc/total over the scalar
 * resources cpus, mem, disk and gpus (roles summed), ignoring kinds the cluster lacks.
 * 0 for an empty allocation. */
double mesos_drf_share(const struct resources *alloc, const struct resources *total);

/* One client in a DRF ordering. */
struct drf_entry {
	const char *id;    /* tie-break: smaller id first */
	double share;      /* mesos_drf_share, divided by the client's weight */
	void *ptr;         /* the caller's */
};
/* Sorts v in offer order: lowest dominant share first, then id. */
void mesos_drf_sort(struct drf_entry *v, size_t n);

/* Base64 (RFC 4648, with padding). encode writes a NUL-terminated string of
 * 4 * ceil(n / 3) characters into out (outlen must exceed that; -E2BIG otherwise). decode
 * accepts padded input only (whitespace not allowed) and writes at most cap bytes; returns
 * the byte count, or -EINVAL for bad input, -E2BIG when it does not fit. */
int mesos_b64_encode(const void *in, size_t n, char *out, size_t outlen);
int mesos_b64_decode(const char *in, void *out, size_t cap);

/* "8-4-4-4-12" hex uuid text -> its 16 bytes. 0 or -EINVAL. */
int mesos_uuid_parse(const char *text, unsigned char out[16]);
/* base64 of the 16 bytes of a uuid text ("hTaLQ0b5Q1OZuab7QclTKQ=="), as TaskStatus.uuid
 * carries it. 0 or -EINVAL. */
int mesos_uuid_b64(const char *text, char out[25]);
