/* Mesos's DiscoveryInfo and Labels (protobuf JSON) for a Marathon app's tasks, as Marathon
 * fills them in and Mesos-DNS reads them (reference/compat.md §2.3). Pure functions. */
#pragma once
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "model/app.h"

/* Labels object {k: v} (strings) -> [{key, value}] in the object's order; NULL or a
 * non-object gives []. New reference. */
json_t *discovery_labels_json(const json_t *labels);
/* Marathon's DiscoveryInfo for a task of def: visibility FRAMEWORK, name (the task name),
 * one port per portDefinition and protocol ("udp,tcp" gives two) with the host port from
 * ports (0 past nports), its name and its labels. New reference (protobuf JSON). */
json_t *discovery_info_json(const struct app *def, const char *name, const uint32_t *ports,
		       size_t nports);
