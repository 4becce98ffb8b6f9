/* The agent daemon (DESIGN.md §6, docs/internals/agent-protocol.md): subscribes to the
 * master, launches each task under its own berth-executor shim, reports status updates
 * (in order per task, retried until acknowledged), serves sandboxes read-only over HTTP, and
 * reattaches to running shims after its own restart. */
#pragma once
#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

struct agent_config {
	const char *master_url;    /* "http://127.0.0.1:5050" */
	const char *http_addr;     /* the agent's own HTTP server */
	uint16_t http_port;        /* 0 picks a free port (see agent_http_port) */
	const char *work_dir;      /* created if missing */
	const char *resources;     /* Mesos syntax; NULL = measure the machine */
	const char *attributes;    /* NULL or "" = none */
	const char *hostname;      /* NULL = gethostname() */
	const char *executor_path; /* NULL = $BERTH_EXECUTOR, else berth-executor beside the binary */
	const char *volume_plugin_dir; /* searched first for volume plugins; NULL = none */
	const char *credential;        /* --credential FILE for the master, or NULL */
	const char *authorization;     /* instead of credential: "Basic …" (berth dev) */
	const char *credentials;       /* --credentials FILE: authenticate the HTTP server */
	const char *secrets_dir;       /* --secrets-dir: Marathon's secrets, one file each */
	/* TLS (docs/security.md): the HTTP server speaks HTTPS with tls_cert/tls_key (mutual
	 * TLS with tls_ca); an https:// master is verified against tls_ca (NULL: the system's
	 * CAs) and shown tls_cert as the agent's client certificate. */
	const char *tls_cert, *tls_key, *tls_ca;
	uint32_t plugin_timeout_ms;    /* each volume plugin call; 0 = $BERTH_VOLUME_PLUGIN_TIMEOUT_MS
					* or 30000 */
	/* Isolation (docs/isolation.md): "none", "cgroups", "namespaces", comma-separated; NULL =
	 * both where the machine allows them. */
	const char *isolation;
	const char *cgroups_root;      /* NULL = /sys/fs/cgroup */
	const char *cgroups_parent;    /* NULL = "berth" */
	const char *cgroups_pids_max;  /* a number; NULL = 4096; "0" = no limit */
	bool cgroups_enable_cfs;       /* a CFS quota from cpus, besides the shares */
	bool switch_user;              /* run tasks as their app's `user` */
	const char *default_user;      /* tasks naming no user (or all, without switch_user) */
	/* The fetcher cache (fetch[].cache): NULL = <work_dir>/fetch-cache; size "2GB" when
	 * NULL, "0" = no cache. */
	const char *fetcher_cache_dir;
	const char *fetcher_cache_size;
	/* Images (docs/isolation.md): NULL = <work_dir>/images; a directory of image files;
	 * the registry of unqualified names (NULL = https://registry-1.docker.io). */
	const char *image_store, *image_dir, *docker_registry;
	/* Bound on the image store (bytes, or with KB/MB/GB; NULL/"0" = none): unused images go
	 * least recently used first when a pull or import takes it over (image-gc.c). */
	const char *image_store_max_size;
	/* A docker-style config.json whose "auths" give registry credentials for pulls. */
	const char *docker_config;
	/* Hooks (docs/hooks.md): executables run at each task's launch and end; bound on
	 * each run (0 = 10 s). */
	const char *hook_task_launch, *hook_task_end;
	uint32_t hook_timeout_ms;
};

struct agent;

/* Creates the agent on base (borrowed; may be shared with a master, as 'berth dev' does):
 * makes the work dir, recovers tasks from it, binds the HTTP server and starts subscribing.
 * cfg is copied. Returns 0, -EINVAL (bad master URL, resources or attributes: logged),
 * -EADDRINUSE, or another -errno. */
int agent_new(struct event_base *base, const struct agent_config *cfg, struct agent **out);
/* Stops the agent. Running tasks keep running under their shims; a later agent on the same
 * work dir reattaches them. Accepts NULL. */
void agent_free(struct agent *a);
/* The port the HTTP server is bound to. */
uint16_t agent_http_port(const struct agent *a);
/* Number of tasks the agent knows (running or with an unacknowledged terminal update). */
unsigned agent_task_count(const struct agent *a);

struct flag_table;
/* The flags of `berth agent` (base/flags.h), writing into a struct agent_config: --master URL
 * --work-dir DIR (both required) [--http ADDR:PORT] [--resources STR] [--attributes STR]
 * [--hostname NAME] [--executor PATH] [--volume-plugin-dir DIR]
 * [--volume-plugin-timeout SECONDS]. `berth dev` takes --http, --resources and --attributes
 * as --agent-http, --agent-resources and --agent-attributes. */
extern const struct flag_table agent_flags;
/* 'berth agent': parses agent_flags, runs until SIGTERM/SIGINT. Returns the exit code: 0, 1
 * on a failure, 2 on a usage error. */
int agent_main(int argc, char **argv);
/* `berth default-executor`: the executor of a task group (dexec.h), started by the agent
 * for a LAUNCH_GROUP with Mesos's executor environment; not for people to run. */
int agent_default_executor_main(int argc, char **argv);
