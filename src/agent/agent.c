/* The agent: configuration, work dir, life cycle and 'berth agent'. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent-int.h"
#include "agent/agent-util.h"
#include "agent/plugin-client.h"
#include "base/flags.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "model/attributes.h"
#include "model/resources.h"
#include "net/loop.h"
#include "net/http.h"

#define AGENT_MAX_BODY (64 * 1024)

static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static char *default_executor(void)
{
	const char *env = getenv("BERTH_EXECUTOR");
	if (env && *env)
		return xstrdup(env);
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			char *p = xasprintf("%s/berth-executor", self);
			if (access(p, X_OK) == 0)
				return p;
			free(p);
			/* In a build tree the shim sits in src/executor/. */
			p = xasprintf("%s/src/executor/berth-executor", self);
			if (access(p, X_OK) == 0)
				return p;
			free(p);
			return xasprintf("%s/berth-executor", self);
		}
	}
	return xstrdup("berth-executor");
}

/* The modes of the work dir's own directories, which may be older than this rule (one the
 * agent does not own is logged). 0 or -errno. */
static int private_modes(const struct agent *a)
{
	struct {
		const char *path;
		mode_t mode;
	} dirs[] = { { a->work_dir, 0711 }, { a->sandbox_root, 0711 }, { a->meta_root, 0700 },
		     { a->health_root, 0700 } };
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		if (chmod(dirs[i].path, dirs[i].mode) == 0)
			continue;
		if (errno != EPERM)
			return -errno;
		log_warn("agent", "cannot make '%s' mode %04o (not its owner): tasks of other "
					  "users may read it", dirs[i].path, (unsigned)dirs[i].mode);
	}
	/* Files an older agent wrote 0644. */
	const char *files[] = { "agent_id", "volume_lease" };
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		char *p = xasprintf("%s/%s", a->work_dir, files[i]);
		int r = chmod(p, 0600) == -1 && errno != ENOENT ? -errno : 0;
		free(p);
		if (r < 0 && r != -EPERM)
			return r;
	}
	return 0;
}

/* The operator's secret files: one another user may read is logged (tasks run as other
 * users could read it), as ssh does with a loose key, but not refused. */
static void warn_loose(const struct agent_config *cfg)
{
	const char *files[][2] = { { "--credential", cfg->credential },
				   { "--credentials", cfg->credentials },
				   { "--tls-key", cfg->tls_key } };
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		struct stat st;
		if (files[i][1] && *files[i][1] && stat(files[i][1], &st) == 0 &&
		    (st.st_mode & 0077))
			log_warn("agent", "%s '%s' is mode %04o: other users (tasks run as them) "
					  "may read it; make it 0600", files[i][0], files[i][1],
				 (unsigned)(st.st_mode & 07777));
	}
}

static char *read_agent_id(const char *work_dir)
{
	char *p = xasprintf("%s/agent_id", work_dir);
	FILE *f = fopen(p, "re");
	free(p);
	if (!f)
		return NULL;
	char buf[256];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return buf[0] ? xstrdup(buf) : NULL;
}

/* Checks the resource and attribute strings; logs and returns -EINVAL for a bad one. */
static int validate_strings(const char *resources, const char *attributes, char *err,
			    size_t errlen)
{
	if (resources) {
		struct resources r = RESOURCES_INIT;
		char e[256] = "";
		int rc = resources_parse(resources, &r, e, sizeof(e));
		resources_release(&r);
		if (rc < 0) {
			snprintf(err, errlen, "bad --resources '%s': %s", resources, e);
			return -EINVAL;
		}
	}
	if (attributes && *attributes) {
		struct attributes at = ATTRIBUTES_INIT;
		char e[256] = "";
		int rc = attributes_parse(attributes, &at, e, sizeof(e));
		attributes_release(&at);
		if (rc < 0) {
			snprintf(err, errlen, "bad --attributes '%s': %s", attributes, e);
			return -EINVAL;
		}
	}
	return 0;
}

uint16_t agent_http_port(const struct agent *a)
{
	return a->http_port;
}

unsigned agent_task_count(const struct agent *a)
{
	return (unsigned)a->ntasks;
}

int agent_new(struct event_base *base, const struct agent_config *cfg, struct agent **out)
{
	char err[512];
	int r;

	if (!cfg->master_url || !cfg->work_dir || !cfg->http_addr)
		return -EINVAL;
	if (validate_strings(cfg->resources, cfg->attributes, err, sizeof(err)) < 0) {
		log_error("agent", "%s", err);
		return -EINVAL;
	}
	char *authz = NULL;
	if (cfg->credential && (r = agent_credential_load(cfg->credential, &authz)) < 0)
		return r;
	if (!authz && cfg->authorization)
		authz = xstrdup(cfg->authorization);
	raise_nofile();

	struct agent *a = xcalloc(1, sizeof(*a));
	a->authorization = authz;
	a->base = base;
	a->spawner_fd = -1;
	a->inotify_fd = -1;
	char wd[PATH_MAX];
	r = fs_mkdir_p(cfg->work_dir, 0711);
	if (r < 0 || !realpath(cfg->work_dir, wd)) {
		r = r < 0 ? r : -errno;
		log_error("agent", "cannot use work dir '%s': %s", cfg->work_dir, strerror(-r));
		free(a->authorization);
		free(a);
		return r;
	}
	a->work_dir = xstrdup(wd);
	a->meta_root = xasprintf("%s/meta", wd);
	a->sandbox_root = xasprintf("%s/sandboxes", wd);
	a->health_root = xasprintf("%s/health", wd);
	a->volume_root = xasprintf("%s/volumes", wd);
	a->volume_plugin_dir = cfg->volume_plugin_dir && *cfg->volume_plugin_dir
				       ? xstrdup(cfg->volume_plugin_dir)
				       : NULL;
	a->plugin_timeout_ms = cfg->plugin_timeout_ms;
	if (!a->plugin_timeout_ms) {
		const char *e = getenv("BERTH_VOLUME_PLUGIN_TIMEOUT_MS");
		uint64_t v;
		a->plugin_timeout_ms = e && parse_u64(e, &v) == 0 && v > 0 && v < 3600000
					       ? (uint32_t)v
					       : PLUGIN_DEFAULT_TIMEOUT_MS;
	}
	/* Tasks running as other users (--switch-user, --default-user) pass through the work dir
	 * and sandboxes/ to their own sandbox (0711: no listing) and reach nothing else: the
	 * agent's records (meta/, health/, the checkpoints) are its own (0700; docs/security.md). */
	if ((r = fs_mkdir_p(a->meta_root, 0700)) < 0 ||
	    (r = fs_mkdir_p(a->sandbox_root, 0711)) < 0 ||
	    (r = fs_mkdir_p(a->health_root, 0700)) < 0 || (r = private_modes(a)) < 0) {
		log_error("agent", "cannot create directories in '%s': %s", wd, strerror(-r));
		agent_free(a);
		return r;
	}
	a->http_addr = xstrdup(cfg->http_addr);
	if (cfg->hostname && *cfg->hostname) {
		a->hostname = xstrdup(cfg->hostname);
	} else {
		char h[HOST_NAME_MAX + 1] = "localhost";
		if (gethostname(h, sizeof(h)) == -1)
			snprintf(h, sizeof(h), "localhost");
		h[HOST_NAME_MAX] = '\0';
		a->hostname = xstrdup(h);
	}
	a->resources = cfg->resources ? xstrdup(cfg->resources) : agent_resources_measure(wd);
	a->attributes = xstrdup(cfg->attributes ? cfg->attributes : "");
	a->executor_path = cfg->executor_path ? xstrdup(cfg->executor_path) : default_executor();
	if ((r = agent_hooks_init(a, cfg)) < 0) {
		agent_free(a);
		return r;
	}
	a->agent_id = read_agent_id(wd);
	if ((r = agent_isolation_init(a, cfg)) < 0) {
		agent_free(a);
		return r;
	}

	warn_loose(cfg);
	if ((r = agent_auth_init(a, cfg->credentials)) < 0 ||
	    (r = agent_secrets_init(a, cfg->secrets_dir)) < 0) {
		agent_free(a);
		return r;
	}
	r = http_server_new(base, cfg->http_addr, cfg->http_port, AGENT_MAX_BODY,
			    agent_http_handle, a, &a->http);
	if (r < 0) {
		log_error("agent", "cannot listen on %s:%u: %s", cfg->http_addr, cfg->http_port,
			  strerror(-r));
		agent_free(a);
		return r;
	}
	a->http_port = http_server_port(a->http);
	/* the same caps and slowloris timeout as the master's defaults (net/http.h) */
	const struct http_limits lim = { HTTP_DEFAULT_MAX_CONNECTIONS, HTTP_DEFAULT_MAX_PER_CLIENT,
					 HTTP_DEFAULT_REQUEST_TIMEOUT_SEC };
	http_server_set_limits(a->http, &lim);
	if ((r = agent_tls_init(a, cfg)) < 0) {
		agent_free(a);
		return r;
	}
	bool any = !strcmp(cfg->http_addr, "0.0.0.0") || !strcmp(cfg->http_addr, "::");
	a->endpoint = xasprintf("%s:%u", any ? a->hostname : cfg->http_addr, a->http_port);

	if ((r = agent_link_start(a, cfg->master_url)) < 0) {
		agent_free(a);
		return r;
	}
	if ((r = agent_fence_start(a)) < 0) {
		agent_free(a);
		return r;
	}
	r = agent_health_start(a);
	if (r < 0)
		log_warn("agent", "cannot watch '%s' (%s): health results are not forwarded",
			 a->health_root, strerror(-r));
	agent_tasks_recover(a);
	agent_xexecs_recover(a);
	log_info("agent", "agent on %s, work dir '%s', executor '%s', resources '%s'",
		 a->endpoint, wd, a->executor_path, a->resources);
	*out = a;
	return 0;
}

void agent_free(struct agent *a)
{
	if (!a)
		return;
	agent_link_stop(a);
	agent_fence_stop(a);
	agent_spawner_stop(a);
	agent_xexecs_free(a);
	agent_health_stop(a);
	free(a->backlog);
	http_server_free(a->http);
	http_tls_free(a->tls_server);
	http_tls_free(a->tls_client);
	agent_hooks_free(a);
	agent_tasks_free(a);
	agent_updates_free(a);
	free(a->http_addr);
	free(a->work_dir);
	free(a->meta_root);
	free(a->sandbox_root);
	free(a->health_root);
	free(a->volume_root);
	free(a->volume_plugin_dir);
	free(a->secrets_dir);
	if (a->authorization)
		explicit_bzero(a->authorization, strlen(a->authorization));
	free(a->authorization);
	agent_isolation_free(a);
	agent_auth_free(a);
	free(a->resources);
	free(a->attributes);
	free(a->hostname);
	free(a->executor_path);
	free(a->endpoint);
	free(a->agent_id);
	free(a);
}

/* ---- berth agent ---- */

static const struct flag_spec specs[] = {
	{ .name = "master", .kind = FLAG_STRING, .off = offsetof(struct agent_config, master_url),
	  .required = true, .metavar = "URL",
	  .help = "the master, e.g. http://127.0.0.1:5050; several masters (HA):\n"
		  "http://h1:5050,h2:5050,h3:5050 (the agent follows the leader), or\n"
		  "the masters' ZooKeeper: zk://h1:2181,h2:2181,h3:2181/berth (the\n"
		  "leader is read from PATH/leader, as Mesos agents find theirs)" },
	{ .name = "http", .kind = FLAG_HOSTPORT, .off = offsetof(struct agent_config, http_addr),
	  .off_port = offsetof(struct agent_config, http_port), .def = "127.0.0.1:5051",
	  .metavar = "ADDR:PORT", .help = "where the agent serves sandboxes" },
	{ .name = "work-dir", .kind = FLAG_STRING, .off = offsetof(struct agent_config, work_dir),
	  .required = true, .metavar = "DIR", .help = "sandboxes and checkpoints" },
	{ .name = "resources", .kind = FLAG_STRING, .off = offsetof(struct agent_config, resources),
	  .metavar = "STR",
	  .help = "e.g. 'cpus(*):8; mem(*):15360; disk(*):710534; ports(*):[31000-32000]'\n"
		  "(default: measured, ports 31000-32000)" },
	{ .name = "attributes", .kind = FLAG_STRING,
	  .off = offsetof(struct agent_config, attributes), .metavar = "STR",
	  .help = "e.g. 'rack:3;dc:1'" },
	{ .name = "hostname", .kind = FLAG_STRING, .off = offsetof(struct agent_config, hostname),
	  .metavar = "NAME", .help = "the agent's hostname (default: the machine's)" },
	{ .name = "executor", .kind = FLAG_STRING,
	  .off = offsetof(struct agent_config, executor_path), .metavar = "PATH",
	  .help = "the berth-executor shim (default: $BERTH_EXECUTOR, or beside this binary)" },
	{ .name = "volume-plugin-dir", .kind = FLAG_STRING,
	  .off = offsetof(struct agent_config, volume_plugin_dir), .metavar = "DIR",
	  .help = "searched first for Docker volume plugins (sockets,\n"
		  ".spec/.json files), before /run/docker/plugins" },
	{ .name = "credential", .kind = FLAG_STRING,
	  .off = offsetof(struct agent_config, credential), .metavar = "FILE",
	  .help = "principal and secret for the master: {\"principal\", \"secret\"}\n"
		  "or 'PRINCIPAL SECRET'" },
	{ .name = "credentials", .kind = FLAG_STRING,
	  .off = offsetof(struct agent_config, credentials), .metavar = "FILE",
	  .help = "authenticate the agent's HTTP server: operators' principals and\n"
		  "secrets (Mesos's JSON, as the master's); the leading master and the\n"
		  "executors get their own tokens" },
	{ .name = "secrets-dir", .kind = FLAG_STRING,
	  .off = offsetof(struct agent_config, secrets_dir), .metavar = "DIR",
	  .help = "Marathon's app secrets: one file per secret source (mode 0600,\n"
		  "the directory 0700, both the agent's user's); docs/security.md" },
	{ .name = "tls-cert", .kind = FLAG_STRING, .off = offsetof(struct agent_config, tls_cert),
	  .metavar = "FILE",
	  .help = "serve HTTPS only with this certificate chain (PEM); also the\n"
		  "agent's client certificate for an https:// master" },
	{ .name = "tls-key", .kind = FLAG_STRING, .off = offsetof(struct agent_config, tls_key),
	  .metavar = "FILE", .help = "the private key of --tls-cert (PEM)" },
	{ .name = "tls-ca", .kind = FLAG_STRING, .off = offsetof(struct agent_config, tls_ca),
	  .metavar = "FILE",
	  .help = "verify an https:// master against these CAs (default: the\n"
		  "system's) and require client certificates they signed (mutual TLS);\n"
		  "with --master zk://, the leaders found there are spoken to in HTTPS" },
	{ .name = "volume-plugin-timeout", .kind = FLAG_MILLIS,
	  .off = offsetof(struct agent_config, plugin_timeout_ms), .max = 3600,
	  .metavar = "SECONDS", .help = "bound on each volume plugin call (default 30)" },
	{ .name = "isolation", .kind = FLAG_STRING, .off = offsetof(struct agent_config, isolation),
	  .metavar = "LIST",
	  .help = "what each task is confined by: cgroups (cpu shares, memory,\n"
		  "pids limits), namespaces (pid + mount, private /tmp), comma-separated;\n"
		  "Mesos's names (cgroups/cpu, namespaces/pid, posix/mem, ...) work too;\n"
		  "none turns it off (default: both, each where the machine allows it)" },
	{ .name = "cgroups-root", .kind = FLAG_STRING,
	  .off = offsetof(struct agent_config, cgroups_root), .def = "/sys/fs/cgroup",
	  .metavar = "DIR", .help = "where the cgroup hierarchy (v1 or v2) is mounted" },
	{ .name = "cgroups-parent", .kind = FLAG_STRING,
	  .off = offsetof(struct agent_config, cgroups_parent), .def = "berth",
	  .metavar = "NAME", .help = "the cgroup the tasks' cgroups are made in" },
	{ .name = "cgroups-pids-max", .kind = FLAG_STRING,
	  .off = offsetof(struct agent_config, cgroups_pids_max), .def = "4096",
	  .metavar = "N", .help = "processes and threads a task may have (0 = no limit)" },
	{ .name = "cgroups-enable-cfs", .kind = FLAG_BOOL,
	  .off = offsetof(struct agent_config, cgroups_enable_cfs),
	  .help = "cap each task's cpu at its cpus (CFS quota), not only its share" },
	{ .name = "fetcher-cache-dir", .kind = FLAG_STRING,
	  .off = offsetof(struct agent_config, fetcher_cache_dir), .metavar = "DIR",
	  .help = "where fetch URIs with cache: true are kept (default WORK_DIR/fetch-cache)" },
	{ .name = "fetcher-cache-size", .kind = FLAG_STRING,
	  .off = offsetof(struct agent_config, fetcher_cache_size), .def = "2GB",
	  .metavar = "BYTES", .help = "bound on the fetcher cache, least recently used out first\n"
				      "(a number of bytes, or with KB, MB, GB; 0 = no cache)" },
	{ .name = "image-store", .kind = FLAG_STRING,
	  .off = offsetof(struct agent_config, image_store), .metavar = "DIR",
	  .help = "the agent's image store (default: <work-dir>/images)" },
	{ .name = "image-dir", .kind = FLAG_STRING, .off = offsetof(struct agent_config, image_dir),
	  .metavar = "DIR",
	  .help = "image files (docker save tarballs, OCI layouts) imported\n"
		  "into the store when a task asks for an image it lacks" },
	{ .name = "docker-registry", .kind = FLAG_STRING,
	  .off = offsetof(struct agent_config, docker_registry), .metavar = "URL",
	  .help = "where images named without a registry are pulled from\n"
		  "(default https://registry-1.docker.io)" },
	{ .name = "image-store-max-size", .kind = FLAG_STRING,
	  .off = offsetof(struct agent_config, image_store_max_size), .metavar = "BYTES",
	  .help = "bound on the image store: past it, after a pull or import,\n"
		  "images no task uses go, least recently used first (KB, MB, GB;\n"
		  "default none; `berth image gc` collects by hand)" },
	{ .name = "docker-config", .kind = FLAG_STRING,
	  .off = offsetof(struct agent_config, docker_config), .metavar = "FILE",
	  .help = "registry credentials for pulls: a docker config.json\n"
		  "({\"auths\": {\"HOST[:PORT]\": {\"auth\": base64(USER:PASSWORD)}}})" },
	{ .name = "hook-task-launch", .kind = FLAG_STRING,
	  .off = offsetof(struct agent_config, hook_task_launch), .metavar = "PATH",
	  .help = "run at each task's launch with a JSON document on stdin; may\n"
		  "decorate its environment and labels, or veto it (docs/hooks.md)" },
	{ .name = "hook-task-end", .kind = FLAG_STRING,
	  .off = offsetof(struct agent_config, hook_task_end), .metavar = "PATH",
	  .help = "run when a task ends, with a JSON document on stdin (docs/hooks.md)" },
	{ .name = "hook-timeout", .kind = FLAG_MILLIS,
	  .off = offsetof(struct agent_config, hook_timeout_ms), .max = 3600,
	  .metavar = "SECONDS", .help = "bound on each hook run (default 10); a launch hook\n"
					"that outlives it fails its task" },
	{ .name = "switch-user", .kind = FLAG_BOOL,
	  .off = offsetof(struct agent_config, switch_user),
	  .help = "run tasks as their app's user (Marathon's `user`)" },
	{ .name = "default-user", .kind = FLAG_STRING,
	  .off = offsetof(struct agent_config, default_user), .metavar = "USER",
	  .help = "run tasks as USER (e.g. nobody) instead of the agent's\n"
		  "user; with --switch-user, those naming no user (docs/security.md)" },
};

const struct flag_table agent_flags = { specs, ARRAY_SIZE(specs) };

int agent_main(int argc, char **argv)
{
	struct agent_config cfg = { 0 };
	_cleanup_flags_ struct flags fl = FLAGS_INIT;
	const struct flag_set set = { .table = &agent_flags, .cfg = &cfg };
	const struct flag_cmd cmd = { .name = "agent", .sets = &set, .nsets = 1 };
	int r = flags_parse(&fl, &cmd, argc, argv);
	if (r)
		return r == FLAGS_HELP ? 0 : 2;
	char err[512];
	if (validate_strings(cfg.resources, cfg.attributes, err, sizeof(err)) < 0) {
		fprintf(stderr, "berth agent: %s\n", err);
		return 2;
	}
	if (strncmp(cfg.master_url, "http://", 7) && strncmp(cfg.master_url, "https://", 8) &&
	    strncmp(cfg.master_url, "zk://", 5)) {
		fprintf(stderr, "berth agent: bad --master '%s' (want http[s]://HOST:PORT or "
				"zk://HOST:PORT,…/PATH)\n",
			cfg.master_url);
		return 2;
	}
	if (!cfg.tls_cert != !cfg.tls_key) {
		fprintf(stderr, "berth agent: --tls-cert and --tls-key go together\n");
		return 2;
	}

	signal(SIGPIPE, SIG_IGN);
	struct event_base *base = event_base_new();
	if (!base) {
		fprintf(stderr, "berth agent: cannot create the event loop\n");
		return 1;
	}
	struct agent *a;
	r = agent_new(base, &cfg, &a);
	if (r < 0) {
		event_base_free(base);
		return r == -EINVAL ? 2 : 1;
	}
	r = loop_run_until_signal(base, "agent");
	agent_free(a);
	event_base_free(base);
	log_info("agent", "stopped");
	return r < 0 ? 1 : 0;
}
