/* The task spec the agent hands to berth-executor, and the files they share in a task's
 * meta directory. Plain libc only: the shim links this without libevent or jansson.
 *
 * Meta directory of one task (<work-dir>/meta/<task_id>/):
 *   spec    written by the agent before it spawns the shim (format below)
 *   pid     "<shim pid> <shim start time in clock ticks>\n", written by the shim first thing
 *   status  the task's state as the shim last recorded it (exec_status), replaced atomically;
 *           the terminal one is fsync'd before the shim exits
 *   prestop the pre-stop command of a KILL, written by the agent before it signals the shim
 *           (exec-prestop.h)
 *
 * Spec file format: NUL-terminated strings. The first is EXEC_SPEC_MAGIC, then key/value
 * pairs: "task_id", "sandbox", "shell" ("0"/"1"), "cmd", "grace_ms", "health_dir" (optional:
 * where the shim writes its health file, exec-health.h), and any number of
 * "arg" and "env" ("K=V", in order). Strings cannot hold NUL, and neither can argv/envp.
 * A check (agent-protocol.md §7) starts with "check" = "health" | "ready", followed by its
 * fields "c.protocol" (HTTP|HTTPS|TCP|COMMAND), "c.path", "c.port", "c.command",
 * "c.grace_ms", "c.interval_ms", "c.timeout_ms", "c.delay_ms", "c.max_failures",
 * "c.ignore_1xx" ("0"/"1") and "c.status" (readiness: comma-separated codes).
 * A volume (agent-protocol.md §8) is "volume" = its source on the host (absolute), followed by
 * "v.path" (the container path: relative to the sandbox, or absolute; empty for an external
 * volume without one: nothing is bind-mounted, the task uses the source itself) and "v.ro"
 * ("0"/"1"). A spec with volumes makes the shim run the task in a private mount namespace.
 * "lease" (optional, only with volumes): the agent's lease file (absolute), which the shim
 * enforces (exec-lease.h).
 * The task's cgroup (exec-cgroup.h; optional): "cg.root" (the hierarchy's root, absolute) and
 * "cg.name" (relative to it), then the limits, each optional ("0" = none): "cg.cpu_shares",
 * "cg.cfs_quota_us", "cg.cfs_period_us", "cg.mem_bytes", "cg.pids_max".
 * "isolate" (optional): "1" runs the task in new pid and mount namespaces with a private
 * /tmp and no_new_privs; "user" (optional): the user name the task runs as.
 * A URI to fetch into the sandbox before the task starts (berth-fetcher) is "fetch" = the URI,
 * followed by "f.extract", "f.exec" ("0"/"1") and "f.out" (optional: the file's name).
 * "f.cache" ("0"/"1") asks for the agent's fetcher cache: "fc.dir" (absolute) and "fc.max"
 * (bytes) name it (fetch-cache.h).
 * "attach" (optional): the meta directory of a running task to run the command inside
 * (exec-attach.h).
 * A container task (docs/isolation.md, "Images") has "image" = the image reference, with
 * "img.store" (the agent's image store, absolute), "img.dir" (optional: a directory of image
 * files to import from), "img.registry" (optional: the default registry's URL), "img.auth"
 * (optional: a docker config.json whose "auths" hold registry credentials), "img.pull"
 * ("0"/"1": pull even when the store has the image), "net" ("host" | "bridge") and any number
 * of "pm" = "<hostPort>:<containerPort>/<tcp|udp>" (BRIDGE port mappings) and of "prm" =
 * "<key>=<value>" (Marathon's docker.parameters, applied by berth-image). A container task
 * may have neither cmd nor args (the image's Entrypoint and Cmd run).
 * Secrets (exec-secret.h): "secrets_dir" (absolute) and any number of "secret" =
 * "NAME=SOURCE": the shim reads each from the store and adds NAME=value to the task's
 * environment (replacing an "env" of that name). "img.auth_secret" = SOURCE (with an image;
 * needs "secrets_dir"): the registry credentials for this task's pull are that secret's
 * value, a docker config.json (Marathon's docker.pullConfig), over "img.auth". The values
 * are never in this file. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define EXEC_SPEC_MAGIC "berth-exec-spec-1"
#define EXEC_SPEC_MAX_BYTES (4u << 20)
#define EXEC_SPEC_MAX_ITEMS 65536u

#define EXEC_SPEC_MAX_CHECKS 32u
#define EXEC_CHECK_MAX_STATUS 16u
#define EXEC_SPEC_MAX_VOLUMES 64u
#define EXEC_SPEC_MAX_FETCH 64u
#define EXEC_SPEC_MAX_PORTMAPS 64u

/* One BRIDGE port mapping: the host's port forwarded to the container's. */
struct exec_portmap {
	uint16_t host, container;
	int udp;
};

/* One URI fetched into the sandbox before the task starts. */
struct exec_fetch {
	const char *uri;
	const char *output; /* NULL: the URI's last path segment */
	int extract, executable;
	int cache;          /* through the agent's fetcher cache (fetch_cache, below) */
};

enum exec_check_proto { EXEC_CHECK_HTTP, EXEC_CHECK_HTTPS, EXEC_CHECK_TCP, EXEC_CHECK_COMMAND };

/* One health or readiness check, as resolved by the master (concrete port). */
struct exec_check {
	int readiness;              /* 0: health check, 1: readiness check */
	enum exec_check_proto protocol;
	const char *path;           /* HTTP(S); "/" when absent */
	uint16_t port;              /* HTTP(S), TCP */
	const char *command;        /* COMMAND */
	uint32_t grace_ms, interval_ms, timeout_ms, delay_ms;
	uint32_t max_failures;      /* 0 = never kill (the master's business) */
	int ignore_1xx;
	uint16_t status[EXEC_CHECK_MAX_STATUS]; /* readiness: passing codes; none = 200 */
	size_t nstatus;
};

/* Fills c with Marathon's defaults for a health (readiness = 0) or readiness check. */
void exec_check_defaults(struct exec_check *c, int readiness);
/* "HTTP", "MESOS_HTTP", … → the protocol. 0 or -EINVAL. */
int exec_check_proto_parse(const char *s, enum exec_check_proto *out);
const char *exec_check_proto_name(enum exec_check_proto p);

/* One bind mount into the task's mount namespace. */
struct exec_volume {
	const char *source; /* absolute, on the host */
	const char *path;   /* container path: relative (to the sandbox, no "..") or absolute;
			     * "": no bind mount, the task uses source where it is */
	int ro;
};

/* Whether a container path is acceptable: non-empty, no ".." component, bounded. */
int exec_volume_path_valid(const char *path);

struct exec_spec {
	const char *task_id;
	const char *sandbox; /* absolute */
	int shell;
	const char *cmd;     /* when shell */
	const char **args;   /* when !shell; NULL-terminated, nargs entries */
	size_t nargs;
	const char **env;    /* "K=V", NULL-terminated, nenv entries */
	size_t nenv;
	uint32_t grace_ms;
	const char *health_dir;    /* optional; absolute */
	struct exec_check *checks; /* nchecks entries; serialize borrows, parse allocates */
	size_t nchecks;
	struct exec_volume *volumes; /* nvolumes entries; serialize borrows, parse allocates */
	size_t nvolumes;
	const char *lease_file;    /* optional, with volumes only; absolute (exec-lease.h) */
	const char *cg_root;       /* optional: the task's cgroup (exec-cgroup.h); absolute */
	const char *cg_name;       /* with cg_root: relative to it */
	uint64_t cg_cpu_shares, cg_cfs_quota_us, cg_cfs_period_us, cg_mem_bytes, cg_pids_max;
	int isolate;               /* pid + mount namespaces, private /tmp, no_new_privs */
	struct exec_fetch *fetch;  /* nfetch entries; serialize borrows, parse allocates */
	size_t nfetch;
	const char *user;          /* optional: run the task as this user */
	const char *attach;        /* optional: a running task's meta dir (exec-attach.h) */
	const char *fetch_cache;   /* optional: the agent's fetcher cache dir (fetch-cache.h) */
	uint64_t fetch_cache_max;  /* its bound in bytes */
	const char *stdio_dir;     /* not in the file: where stdout/stderr go (NULL: sandbox) */
	const char *image;         /* optional: run the task in this image (a container) */
	const char *img_store;     /* with image: the agent's image store (absolute) */
	const char *img_dir;       /* optional: a directory of image files to import from */
	const char *img_registry;  /* optional: the default registry ("https://host[:port]") */
	const char *img_auth;      /* optional: a docker config.json with registry credentials */
	const char *img_auth_secret; /* optional: the source of a secret holding a docker
				      * config.json: this task's registry credentials */
	int img_pull;              /* pull even when the store has the image */
	int net_bridge;            /* 0: the host's network; 1: a network namespace of its own */
	struct exec_portmap *pmaps; /* npmaps entries (bridge); serialize borrows, parse allocates */
	size_t npmaps;
	const char **params;       /* "key=value", nparams entries (docker.parameters) */
	size_t nparams;
	const char *secrets_dir;   /* with secrets: the agent's secret store (absolute) */
	const char **secrets;      /* "NAME=SOURCE", nsecrets entries */
	size_t nsecrets;
	char **secret_env;         /* not in the file: "NAME=value" the shim read (malloc'd) */
	size_t nsecret_env;
	char *buf;           /* owns the strings after exec_spec_parse */
};

/* Serialises s into a fresh malloc'd buffer (*out, *len). 0, -EINVAL for a missing
 * task_id/sandbox, a string with a NUL or '=' missing in env, -E2BIG over the limits,
 * -ENOMEM. */
int exec_spec_serialize(const struct exec_spec *s, char **out, size_t *len);
/* Parses buf (taken: freed by exec_spec_release, also on failure). Pointers in out point
 * into buf. 0 or -EINVAL for anything malformed, -E2BIG over the limits. */
int exec_spec_parse(char *buf, size_t len, struct exec_spec *out);
void exec_spec_release(struct exec_spec *s);

/* Writes the serialised spec to path (O_EXCL not used; truncates). 0 or -errno. */
int exec_spec_write_file(const char *path, const struct exec_spec *s);
/* Reads and parses path. 0, -errno, -EINVAL, -E2BIG. */
int exec_spec_read_file(const char *path, struct exec_spec *out);
