/* HAProxy's configuration from the lb's model (lb-model.h), and the server slots that let
 * scaling go through the runtime API instead of a reload. Pure: no I/O.
 *
 * Every backend has nslots server lines "s1".."sN": a slot holds one task (its address in
 * the line) or is free ("disabled", an address that is never used). The shape of a
 * configuration is its text with the slots' addresses and states left out: two
 * configurations of one shape differ in servers only, and the runtime API (set server
 * addr/state) turns the running one into the other without a reload.
 *
 * Invariants of lb_slots_assign: a task that keeps running keeps its slot (its connections
 * and cookie stay); a backend's slot count only changes when its tasks no longer fit (it then
 * grows to twice their number, rounded up to LB_SLOT_STEP), or shrinks when a quarter of
 * the slots would do, so scaling within a few times a backend's size is reload-free. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "lb/lb-model.h"

#define LB_SLOT_STEP 8

struct lb_slot {
	char *host; /* NULL: free */
	uint16_t port;
};

struct lb_backend_slots {
	char *name;
	struct lb_slot *slot;
	size_t nslots;
};

struct lb_slotmap {
	struct lb_backend_slots *v; /* sorted by name */
	size_t n;
};

/* Fills next (empty on entry) with a slot table for every service of svcs, keeping prev's
 * slots where the same task is still there. prev may be empty. */
void lb_slots_assign(const struct lb_slotmap *prev, const struct lb_services *svcs,
		     struct lb_slotmap *next);
void lb_slotmap_release(struct lb_slotmap *m);
const struct lb_backend_slots *lb_slotmap_find(const struct lb_slotmap *m, const char *name);

struct lb_render_opts {
	const char *bind;       /* address every frontend binds ("" or NULL: all) */
	uint16_t http_port;     /* vhost frontends */
	uint16_t https_port;
	uint16_t stats_port;    /* /haproxy?stats, /_haproxy_health_check, /_haproxy_getconfig */
	const char *socket;     /* the stats socket (runtime API) path */
	const char *self;       /* the lb's own HTTP server "127.0.0.1:PORT" (getconfig), or
				 * NULL */
};

/* Appends the configuration to out. With shape, slot lines carry neither address nor
 * state (see above). slots must have been made for svcs. */
void lb_render(const struct lb_render_opts *o, const struct lb_services *svcs,
	       const struct lb_slotmap *slots, bool shape, struct strbuf *out);
