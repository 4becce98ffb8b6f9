/* The agent's side of container tasks (docs/isolation.md, "Images"): where its image store
 * is, which image directory and default registry its shims use, the TaskSpec's "container"
 * into the shim's spec (exec-spec.h), and the failure a shim reports when the image or the
 * bundle could not be made. The work itself is the shim's and berth-image's: nothing here
 * blocks the event loop. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/agent-int.h"
#include "executor/exec-secret.h"
#include "agent/agent.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/mem.h"
#include "executor/exec-spec.h"
#include "executor/exec-status.h"

int agent_image_init(struct agent *a, const struct agent_config *cfg)
{
	if (cfg->image_store && cfg->image_store[0] != '/') {
		log_error("agent", "--image-store '%s': want an absolute path", cfg->image_store);
		return -EINVAL;
	}
	if (cfg->image_dir && cfg->image_dir[0] != '/') {
		log_error("agent", "--image-dir '%s': want an absolute path", cfg->image_dir);
		return -EINVAL;
	}
	const char *reg = cfg->docker_registry;
	if (reg && *reg && strncmp(reg, "https://", 8) && strncmp(reg, "http://", 7)) {
		log_error("agent", "--docker-registry '%s': want http(s)://HOST[:PORT]", reg);
		return -EINVAL;
	}
	a->img_store = cfg->image_store && *cfg->image_store
			       ? xstrdup(cfg->image_store)
			       : xasprintf("%s/images", a->work_dir);
	a->img_dir = cfg->image_dir && *cfg->image_dir ? xstrdup(cfg->image_dir) : NULL;
	a->img_registry = reg && *reg ? xstrdup(reg) : NULL;
	const char *dc = cfg->docker_config;
	if (dc && *dc) {
		if (dc[0] != '/' || access(dc, R_OK) != 0) {
			log_error("agent", "--docker-config '%s': want a readable file, by its "
					   "absolute path", dc);
			return -EINVAL;
		}
		a->img_auth = xstrdup(dc);
	}
	/* The store's bound, for berth-image (image-gc.c reads <store>/gc.max). */
	uint64_t max = 0;
	const char *ms = cfg->image_store_max_size;
	if (ms && *ms && parse_bytes(ms, &max) < 0) {
		log_error("agent", "--image-store-max-size '%s': want bytes (a number, or with "
				   "KB, MB, GB)", ms);
		return -EINVAL;
	}
	char *gcmax = xasprintf("%s/gc.max", a->img_store);
	int r = 0;
	if (max) {
		char line[32];
		int n = snprintf(line, sizeof(line), "%llu\n", (unsigned long long)max);
		r = fs_mkdir_p(a->img_store, 0700);
		if (r == 0)
			r = exec_file_replace(a->img_store, "gc.max", line, (size_t)n, 0);
	} else if (unlink(gcmax) == -1 && errno != ENOENT) {
		r = -errno;
	}
	if (r < 0)
		log_error("agent", "cannot record the image store's bound in '%s': %s", gcmax,
			  strerror(-r));
	free(gcmax);
	return r < 0 ? r : 0;
}

void agent_image_free(struct agent *a)
{
	free(a->img_store);
	free(a->img_dir);
	free(a->img_registry);
	free(a->img_auth);
	for (size_t k = 0; k < a->nimg_params; k++)
		free(a->img_params[k]);
	free(a->img_params);
}

int agent_image_spec(struct agent *a, json_t *spec, struct exec_spec *es,
		     struct exec_portmap *pm, size_t pmcap, char *msg, size_t msgsize)
{
	json_t *c = json_object_get(spec, "container");
	const char *image = json_string_value(json_object_get(c, "image"));
	if (!c || !image || !*image)
		return 0;
	es->image = image;
	es->img_store = a->img_store;
	es->img_dir = a->img_dir;
	es->img_registry = a->img_registry;
	es->img_auth = a->img_auth;
	es->img_pull = json_is_true(json_object_get(c, "force_pull"));
	/* Marathon's docker.pullConfig: a secret whose value is a docker config.json, checked
	 * here as the task's other secrets are (agent-secret.c); the shim reads it. */
	json_t *pcs = json_object_get(c, "pull_secret");
	if (pcs) {
		const char *name = json_string_value(json_object_get(pcs, "secret"));
		const char *source = json_string_value(json_object_get(pcs, "source"));
		if (!name || !source) {
			snprintf(msg, msgsize, "Malformed pullConfig secret reference in the task");
			return -EINVAL;
		}
		if (!a->secrets_dir) {
			snprintf(msg, msgsize, "Secret '%.64s' (source '%.128s') for the image's "
				 "pullConfig: this agent has no secret store (--secrets-dir)",
				 name, source);
			return -ENOENT;
		}
		char why[256] = "";
		char *val = NULL;
		size_t vl = 0;
		int r = exec_secret_read(a->secrets_dir, source, &val, &vl, why, sizeof(why));
		if (r < 0) {
			snprintf(msg, msgsize, "Secret '%.64s' (source '%.128s') for the image's "
				 "pullConfig is not available: %s", name, source, why);
			return r;
		}
		explicit_bzero(val, vl);
		free(val);
		es->img_auth_secret = source;
		es->secrets_dir = a->secrets_dir;
	}
	const char *net = json_string_value(json_object_get(c, "network"));
	es->net_bridge = net && !strcmp(net, "BRIDGE");
	json_t *pms = json_object_get(c, "port_mappings");
	size_t i;
	json_t *m;
	es->pmaps = pm;
	es->npmaps = 0;
	json_array_foreach(pms, i, m) {
		json_int_t h = json_integer_value(json_object_get(m, "host_port"));
		json_int_t cp = json_integer_value(json_object_get(m, "container_port"));
		const char *proto = json_string_value(json_object_get(m, "protocol"));
		if (!es->net_bridge)
			break;
		bool udp = proto && strstr(proto, "udp"), tcp = !proto || strstr(proto, "tcp");
		if (es->npmaps + (udp && tcp) >= pmcap || h <= 0 || h > 65535 || cp <= 0 ||
		    cp > 65535) {
			snprintf(msg, msgsize, "Failed to launch container: port mapping %zu is not "
				 "valid (hostPort %lld, containerPort %lld)", i, (long long)h,
				 (long long)cp);
			return -EINVAL;
		}
		/* "udp,tcp": the same host port relayed for both. */
		if (tcp)
			pm[es->npmaps++] = (struct exec_portmap){ .host = (uint16_t)h,
								  .container = (uint16_t)cp };
		if (udp)
			pm[es->npmaps++] = (struct exec_portmap){
				.host = (uint16_t)h, .container = (uint16_t)cp, .udp = 1 };
	}
	/* docker.parameters as "key=value" (validated by the master; checked again here). */
	json_t *ps = json_object_get(c, "parameters");
	for (size_t k = 0; k < a->nimg_params; k++)
		free(a->img_params[k]);
	free(a->img_params);
	a->img_params = xcalloc(json_array_size(ps) + 1, sizeof(char *));
	a->nimg_params = 0;
	json_array_foreach(ps, i, m) {
		const char *k = json_string_value(json_array_get(m, 0));
		const char *v = json_string_value(json_array_get(m, 1));
		if (k && v && *k && !strchr(k, '=') && i < 64)
			a->img_params[a->nimg_params++] = xasprintf("%s=%s", k, v);
	}
	es->params = (const char **)a->img_params;
	es->nparams = a->nimg_params;
	/* A container without cmd or args runs the image's Entrypoint and Cmd. */
	return 0;
}

extern char **environ;

void agent_image_cleanup(const struct agent_task *t)
{
	char *script = xasprintf("%s/ctr.sh", t->meta_dir);
	char *rootfs = xasprintf("%s/bundle/rootfs", t->meta_dir);
	if (access(script, X_OK) == 0) {
		char *argv[] = { script, "delete", NULL };
		pid_t pid;
		if (posix_spawn(&pid, script, NULL, NULL, argv, environ) == 0)
			while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
				;
	}
	if (umount2(rootfs, MNT_DETACH) == 0)
		log_info("agent", "task '%s': unmounted the rootfs its shim left", t->id);
	free(script);
	free(rootfs);
}

const char *agent_launch_failure(const struct agent_task *t, const struct exec_status *st,
				 char *msg, size_t size)
{
	if (st->state != EXEC_EXEC_FAILED)
		return NULL;
	if (st->cgroup) {
		snprintf(msg, size, "Failed to create the task's cgroup under '%s': %s",
			 t->agent->cg_root, strerror(st->error));
		return "REASON_CONTAINER_LAUNCH_FAILED";
	}
	if (st->fetch > 0) {
		agent_fetch_failure(t, st->fetch - 1, msg, size);
		return "REASON_FETCHER_FAILED";
	}
	if (st->user) {
		snprintf(msg, size, "Failed to switch to the task's user: %s", strerror(st->error));
		return "REASON_CONTAINER_LAUNCH_FAILED";
	}
	if (st->image) {
		char *path = xasprintf("%s/image_error", t->meta_dir), why[400] = "unknown error";
		FILE *f = fopen(path, "re");
		if (f) {
			if (fgets(why, sizeof(why), f))
				why[strcspn(why, "\n")] = '\0';
			fclose(f);
		}
		free(path);
		snprintf(msg, size, "Failed to launch container: %s", why);
		return "REASON_CONTAINER_LAUNCH_FAILED";
	}
	return NULL;
}
