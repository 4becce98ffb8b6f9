/* Marathon pod definitions (RAML types/pod.raml, podContainer.raml; docs/api.md "Pods"):
 * validation and the normalised form /v2/pods answers with. Pure, no I/O.
 *
 * A pod runs as task groups on the default executor (one task per container), so what that
 * executor cannot run is refused here with the field named: container images, artifacts,
 * host, secret and persistent volumes, networks other than the host's, an absolute or
 * escaping mountPath (the tasks have no mount namespace: a volume is a path of the
 * executor's sandbox linked into each container's). */
#pragma once
#include <jansson.h>
#include <stdbool.h>

#include "json/verr.h"

#define POD_MAX_CONTAINERS 32
#define POD_MAX_ENDPOINTS 64
#define POD_MAX_INSTANCES 10000

/* Validates in (borrowed) and returns its normalised form (new reference) in *out:
 * absolute "id" (relative ids resolve against base_id, "/" when NULL), every container's
 * "resources" with cpus, mem, disk and gpus, endpoints with hostPort and protocol,
 * "networks" [{"mode":"host"}], "scaling" {"kind":"fixed","instances"}, "scheduling" with
 * Marathon's backoff, upgrade, killSelection and unreachableStrategy defaults, and
 * "executorResources" {cpus 0.1, mem 32, disk 10} unless given. "version" is left out (the
 * API sets it). 0, or -EINVAL with every problem in err (paths as Marathon's:
 * "/containers(0)/resources/cpus"). */
int pod_parse(const json_t *in, const char *base_id, struct verr *err, json_t **out);

/* scheduling.placement.constraints of a (valid) pod in apps' form, [[field, OP, value?]]
 * (new reference; [] when none), for constraints_parse. */
json_t *pod_constraints_json(const json_t *pod);

/* The normalised pod's wanted instance count. */
int pod_instances(const json_t *pod);

/* Whether a and b (normalised) differ in anything but scaling and version: an update that
 * must replace the instances (RestartPod), not only scale them (ScalePod). */
bool pod_config_differs(const json_t *a, const json_t *b);

/* The pod id as an instance id prefix: "/a/b" -> "a_b" (Marathon's safe run spec id).
 * out holds at least strlen(id) + 1 bytes. */
void pod_safe_id(const char *id, char *out);
