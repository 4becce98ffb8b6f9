/* View filtering of the event bus (/v2/events) by the ACLs' view_apps rules
 * (apps_set_view_filter); internal to the apps library (events.c).
 *
 * A subscriber gets an event only when its principal may view every app the event names:
 * "appId", "runSpecId", "groupId", "appDefinition"."id", and of a deployment's "plan" (and
 * "currentStep") the apps of its steps' actions and, in the heavy form, every app of its
 * "original" and "target" groups. An event naming no app (event_stream_attached and
 * _detached, the jobs' events) goes to every subscriber that asked for its type.
 *
 * Cost: the apps are collected once per event (and form), on the first subscriber that
 * needs them; each distinct principal is checked once per event (a memo), so one more
 * subscriber costs a hash lookup, not another walk of the event. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/hmap.h"

struct apps;

struct ev_view {
	struct apps *m;
	const json_t *payload; /* borrowed for the view's life */
	bool collected;
	const char **ids; /* the apps it names (strings of payload) */
	size_t nids, cap;
	struct hmap memo;  /* principal -> (void *)1 allowed, (void *)2 refused */
	signed char anon; /* no principal: -1 not checked yet, else allowed */
};

/* A view of payload (borrowed) for m's filter. */
void ev_view_init(struct ev_view *v, struct apps *m, const json_t *payload);
/* Whether principal (NULL: none) may see the event. true when m has no view filter. */
bool ev_view_allows(struct ev_view *v, const char *principal);
void ev_view_release(struct ev_view *v);
/* For tests: the apps payload names, into ids (at most max > 0); how many it names. */
size_t ev_view_apps(const json_t *payload, const char **ids, size_t max);
