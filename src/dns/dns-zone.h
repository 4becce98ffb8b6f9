/* The DNS records in memory: name -> its A and SRV records, each record counted once per
 * owner that added it (Mesos-DNS keeps one copy of a name/value pair however many tasks
 * make it). Owners are strings (a task id); dns_zone_drop removes everything an owner added,
 * in time proportional to what it added.
 *
 * Invariants: a name is in names exactly while it has a record; every record's refs equals
 * the number of owner entries that point at it; an owner is in owners exactly while it
 * has records. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/hmap.h"

struct dz_a {
	uint32_t ip;        /* network order */
	unsigned refs;
};

struct dz_srv {
	char *target;       /* "canonical.slave.mesos." */
	uint16_t port;
	unsigned refs;
};

struct dz_name {
	struct dz_a *a;
	size_t na, capa;
	struct dz_srv *srv;
	size_t nsrv, capsrv;
};

struct dns_zone {
	struct hmap names;  /* "name." -> struct dz_name* */
	struct hmap owners; /* owner -> struct dz_owner* */
	uint64_t nrecords;
};

void dns_zone_init(struct dns_zone *z);
void dns_zone_release(struct dns_zone *z);
/* Adds an A (ip in network order) or SRV record at name (lower case, ending in '.') for
 * owner. Adding the same record twice for one owner counts it once. */
void dns_zone_add_a(struct dns_zone *z, const char *owner, const char *name, uint32_t ip);
void dns_zone_add_srv(struct dns_zone *z, const char *owner, const char *name,
		      const char *target, uint16_t port);
/* Removes every record owner added; false when it had none. */
bool dns_zone_drop(struct dns_zone *z, const char *owner);
bool dns_zone_has_owner(const struct dns_zone *z, const char *owner);
/* The records at name, or NULL. */
const struct dz_name *dns_zone_get(const struct dns_zone *z, const char *name);
