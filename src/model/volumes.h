/* Volumes of stateful apps (reference/compat.md §4): Marathon's container.volumes[] with
 * "persistent" (local, pinned to an agent) or "external" (a Docker volume plugin driver,
 * follows the instance), and mesos-module-dvdi's DVDI_VOLUME_* environment interface. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "json/verr.h"

enum vol_type { VOL_PERSISTENT, VOL_EXTERNAL };

struct app_volume {
	enum vol_type type;
	char *container_path; /* persistent: one relative segment; external: any, "" = no bind */
	bool read_only;
	double size;          /* persistent: MiB; external: GiB as given, 0 = driver default */
	char *name;           /* external: may hold "{index}" */
	char *driver;         /* external: dvdi/driver */
	json_t *options;      /* external: driver options {k: "v"} (dvdi/ stripped, size added) */
	bool shared;          /* external: several instances (and apps) may use it */
	int json_index;       /* its place in container.volumes[], -1 for a DVDI_VOLUME_* one */
};

#define VOLUMES_MAX 32

/* Parses app's container.volumes[] and DVDI_VOLUME_* variables of env (both borrowed).
 * instances is the app's instance count (an external volume without {index} and not shared
 * serves one instance only). Errors under /container/volumes/<i>/… and /env/<NAME>.
 * Host-path volumes (hostPath, containerPath, mode RO|RW) are checked but not in *out: they
 * go to the task as they are (task-spec.c). 0 or -EINVAL. */
int volumes_parse(const json_t *app, long long instances, struct verr *err,
		  struct app_volume **out, size_t *n);
void volumes_free(struct app_volume *v, size_t n);

/* The external volume name for an instance: "{index}" replaced by the index. malloc'd. */
char *volume_name_for(const struct app_volume *v, unsigned index);
