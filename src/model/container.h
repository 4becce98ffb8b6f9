/* Marathon's `container` for images (docs/isolation.md, "Images"): validation, the port
 * mappings as the app's ports, and the LAUNCH record's "container" for the agent.
 *
 * Accepted: type "DOCKER" (the default when container is present) with docker.image, or
 * "MESOS" with docker.image (Marathon's UCR form) or mesos.image; docker.network "HOST"
 * (default) or "BRIDGE" ("USER" and "NONE" are refused: berth has no container networks);
 * portMappings in container (Marathon ≥ 1.5) or container.docker (older), each
 * containerPort (1–65535 with BRIDGE), hostPort (0 = assigned from the offer), servicePort,
 * protocol ("tcp" | "udp"), name, labels; docker.forcePullImage; docker.pullConfig
 * ({"secret": NAME} naming one of the app's secrets; type MESOS only, as Marathon);
 * docker.privileged (only
 * false); docker.parameters with the keys berth maps onto the OCI config (env/e,
 * workdir/w, user/u, hostname/h, read-only, cap-add, cap-drop, entrypoint, label/l), others
 * refused. */
#pragma once
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "json/verr.h"
#include "model/app.h"

#define CONTAINER_MAX_MAPPINGS 64

/* Validates app's container (borrowed; normalised in place: type, network defaults).
 * Errors under /container/…. 0 or -EINVAL. */
int container_check(json_t *app, struct verr *err);
/* The image the app runs in, or NULL (borrowed from app). */
const char *container_image(json_t *app);
/* The app's BRIDGE port mappings as port definitions (port = servicePort, 0 = assigned;
 * host_port = hostPort, 0 = from the offer; container_port): *out malloc'd, count returned
 * (0: none). */
size_t container_port_defs(json_t *app, struct port_def **out);
/* The LAUNCH record's "container" (new reference; NULL when the app has no image):
 * {"type", "image", "network", "force_pull", "parameters": [[key, value], …],
 * "pull_secret": {"secret": NAME, "source": SOURCE} (docker.pullConfig; the reference, never
 * a value),
 * "port_mappings": [{"host_port" (assigned, from
 * ports), "container_port", "protocol"}]}. */
json_t *container_spec(json_t *app, const uint32_t *ports, size_t nports);

/* The LAUNCH record's "container" from a v1 scheduler API ContainerInfo (borrowed): type
 * DOCKER with docker.image (network HOST or BRIDGE, port_mappings with explicit host
 * ports, force_pull_image), or MESOS with mesos.image.docker.name. *out is NULL for none
 * (absent, or MESOS without an image). 0, or -EINVAL with a message in err. */
int container_from_mesos(const json_t *ci, json_t **out, char *err, size_t errlen);

/* Chronos's job "container" (borrowed): {"type": "DOCKER" (default) | "MESOS" (Chronos 3.x,
 * case-insensitive), "image", "network": "HOST" (default) | "BRIDGE", "forcePullImage",
 * "parameters": [{key, value}], "volumes"} put in Marathon's shape and run through
 * container_check and container_spec, so jobs and apps share one validation and one LAUNCH
 * translation. "volumes" (host paths) must be empty: jobs take no host-path volumes. *out
 * is the LAUNCH record's "container" (new reference), NULL for none (absent, null or {}).
 * 0, or -EINVAL with a message naming the field ("'container.network': …") in err. */
int container_from_chronos(const json_t *ct, json_t **out, char *err, size_t errlen);
