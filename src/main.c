/* berth: subcommand dispatch (DESIGN.md §9), and `berth dev`, which runs a master and one
 * agent on one event loop. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "agent/agent.h"
#include "auth/auth.h"
#include "base/b64.h"
#include "base/flags.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "cli/cli.h"
#include "lb/lb.h"
#include "net/http.h"
#include "net/loop.h"
#include "server/server.h"
#include "volplugin/volplugin.h"

static void usage(FILE *f)
{
	fputs("usage: berth <command> [options]\n"
	      "\n"
	      "Daemons:\n"
	      "  master   run the control plane (all HTTP APIs)      berth master --help\n"
	      "  agent    run tasks on this machine                  berth agent --help\n"
	      "  dev      a master and one agent in one process      berth dev --help\n"
	      "  volume-plugin  the built-in 'local' volume driver   berth volume-plugin --help\n"
	      "  lb       drive HAProxy from marathon-lb's labels     berth lb --help\n"
	      "\n"
	      "Client (talks to $BERTH_MASTER, default http://127.0.0.1:5050):\n"
	      "  app         add, list, show, scale, restart, update, remove\n"
	      "  task        list, kill\n"
	      "  deployment  list, rollback\n"
	      "  node        list\n"
	      "  framework   list\n"
	      "  volume      list\n"
	      "  image       import, pull, list (an agent's image store; berth image --help)\n"
	      "  job         add, list, run, history, remove, graph\n"
	      "  logs        print a task's stdout or stderr\n"
	      "  events      follow the event stream\n"
	      "\n"
	      "See 'berth help' for the client commands in full.\n",
	      f);
}

/* berth image …: runs berth-image ($BERTH_IMAGE, else beside this binary), which owns the
 * image store (src/image/image.h). */
static int image_main(int argc, char **argv)
{
	const char *env = getenv("BERTH_IMAGE");
	char self[PATH_MAX], tool[PATH_MAX + 32];
	if (env && *env) {
		snprintf(tool, sizeof(tool), "%s", env);
	} else {
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		self[n > 0 ? n : 0] = '\0';
		char *slash = strrchr(self, '/');
		if (slash)
			*slash = '\0';
		snprintf(tool, sizeof(tool), "%s/berth-image", slash ? self : ".");
		if (access(tool, X_OK) != 0) /* a build tree */
			snprintf(tool, sizeof(tool), "%s/src/image/berth-image", slash ? self : ".");
	}
	char **args = xcalloc((size_t)argc + 1, sizeof(char *));
	args[0] = tool;
	for (int i = 1; i < argc; i++)
		args[i] = argv[i];
	if (argc < 2) {
		args[1] = "--help";
		args[2] = NULL;
	}
	execv(tool, args);
	fprintf(stderr, "berth image: cannot run '%s': %s\n", tool, strerror(errno));
	free(args);
	return 1;
}

/* berth dev's own flag; the others are the master's and the agent's. */
struct dev_config {
	const char *data_dir;
};

static const struct flag_spec dev_specs[] = {
	{ .name = "data-dir", .kind = FLAG_STRING, .off = offsetof(struct dev_config, data_dir),
	  .def = "./berth-data", .metavar = "DIR", .help = "state and task sandboxes" },
};
static const struct flag_table dev_flags = { dev_specs, ARRAY_SIZE(dev_specs) };
/* The master's store and the agent's work dir and plugin dir are in the data dir; the agent
 * reaches the master in the same process. */
static const char *const dev_master_flags[] = { "http", "agent-timeout", "dns", "dns-domain",
						"dns-resolvers", "dns-ttl", NULL };
static const char *const dev_agent_flags[] = { "http", "resources", "attributes", "isolation",
					       "secrets-dir", NULL };
/* Security (docs/security.md, "berth dev"): the master's flags; the agent gets what it needs
 * to register from them. */
static const char *const dev_auth_flags[] = { "credentials", "http_credentials", "acls",
					      "audit-log", "authenticate-metrics", "tls-cert",
					      "tls-key", "tls-ca", NULL };

/* The in-process agent's credential: the first principal of --credentials, else
 * --http_credentials' user ("Basic …", malloc'd), or NULL without authentication. Its HTTP
 * server takes the same credentials file. -1 (logged) for a file that cannot be read. */
static int dev_agent_auth(const struct auth_config *acfg, struct agent_config *ac,
			  char **authorization)
{
	struct auth_creds creds = { 0 };
	char err[512];
	*authorization = NULL;
	if (acfg->credentials) {
		if (auth_creds_load(acfg->credentials, &creds, err, sizeof(err)) < 0) {
			log_error("dev", "--credentials: %s", err);
			return -1;
		}
		ac->credentials = acfg->credentials;
	}
	if (!creds.n && acfg->http_credentials &&
	    auth_creds_add_userpass(&creds, acfg->http_credentials, err, sizeof(err)) < 0) {
		log_error("dev", "--http_credentials: %s", err);
		return -1;
	}
	if (creds.n)
		*authorization = b64_basic_auth(creds.v[0].principal, creds.v[0].secret);
	if (creds.n)
		log_info("dev", "the agent authenticates as '%s'", creds.v[0].principal);
	auth_creds_release(&creds);
	return 0;
}

/* TLS of berth dev: the master's listener and its client side to an HTTPS agent; the agent
 * verifies the master against --tls-ca, else against --tls-cert itself (a self-signed
 * certificate), and with --tls-ca serves HTTPS and shows the same certificate as its client
 * certificate (the master's CA signed it). */
static int dev_tls(const struct auth_config *acfg, struct agent_config *ac,
		   struct http_tls **tls, struct http_tls **client)
{
	char err[512];
	*tls = *client = NULL;
	if (!acfg->tls_cert)
		return 0;
	if (http_tls_new(acfg->tls_cert, acfg->tls_key, acfg->tls_ca, tls, err, sizeof(err)) < 0 ||
	    http_tls_client_new(acfg->tls_ca, acfg->tls_cert, acfg->tls_key, client, err,
				sizeof(err)) < 0) {
		log_error("dev", "%s", err);
		http_tls_free(*tls);
		*tls = NULL;
		return -1;
	}
	ac->tls_ca = acfg->tls_ca ? acfg->tls_ca : acfg->tls_cert;
	if (acfg->tls_ca) {
		ac->tls_cert = acfg->tls_cert;
		ac->tls_key = acfg->tls_key;
	}
	return 0;
}

static int dev_main(int argc, char **argv)
{
	struct dev_config dc = { 0 };
	struct master_config mc = { 0 };
	struct agent_config ac = { 0 };
	struct auth_config acfg = { 0 };
	_cleanup_flags_ struct flags fl = FLAGS_INIT;
	const struct flag_set sets[] = {
		{ .table = &dev_flags, .cfg = &dc },
		{ .table = &master_flags, .cfg = &mc, .only = dev_master_flags },
		{ .table = &auth_flags, .cfg = &acfg, .only = dev_auth_flags },
		{ .table = &agent_flags, .cfg = &ac, .prefix = "agent-", .only = dev_agent_flags },
	};
	const struct flag_cmd cmd = { .name = "dev", .sets = sets, .nsets = ARRAY_SIZE(sets) };
	int r = flags_parse(&fl, &cmd, argc, argv);
	if (r)
		return r == FLAGS_HELP ? 0 : 2;
	if (!acfg.tls_cert != !acfg.tls_key || (acfg.tls_ca && !acfg.tls_cert)) {
		fprintf(stderr, "berth dev: --tls-cert and --tls-key go together (and --tls-ca "
				"wants them)\n");
		return 2;
	}
	const char *data = dc.data_dir;
	if (mkdir(data, 0755) == -1 && errno != EEXIST) {
		fprintf(stderr, "berth dev: cannot create '%s': %s\n", data, strerror(errno));
		return 1;
	}
	char abs[PATH_MAX];
	if (!realpath(data, abs)) {
		fprintf(stderr, "berth dev: '%s': %s\n", data, strerror(errno));
		return 1;
	}
	_cleanup_free_ char *store = xasprintf("sqlite:%s/master/state.db", abs);
	_cleanup_free_ char *work = xasprintf("%s/agent", abs);
	_cleanup_free_ char *plugins = xasprintf("%s/plugins", abs);
	_cleanup_free_ char *local_root = xasprintf("%s/local-volumes", abs);
	_cleanup_free_ char *local_sock = xasprintf("%s/plugins/local.sock", abs);
	mc.store_url = store;
	if (!mc.dns_addr) { /* berth dev serves DNS by default */
		mc.dns_addr = "127.0.0.1";
		mc.dns_port = 8053;
		mc.dns_soft = true;
	}
	ac.work_dir = work;
	ac.volume_plugin_dir = plugins;
	if (mkdir(plugins, 0700) == -1 && errno != EEXIST) {
		fprintf(stderr, "berth dev: cannot create '%s': %s\n", plugins, strerror(errno));
		return 1;
	}

	_cleanup_free_ char *agent_authz = NULL;
	if (dev_agent_auth(&acfg, &ac, &agent_authz) < 0)
		return 1;
	ac.authorization = agent_authz;

	signal(SIGPIPE, SIG_IGN);
	struct event_base *base = event_base_new();
	struct http_tls *tls = NULL, *tls_client = NULL;
	if (dev_tls(&acfg, &ac, &tls, &tls_client) < 0) {
		event_base_free(base);
		return 1;
	}
	mc.https = tls != NULL;
	struct server *m;
	struct auth *auth = NULL;
	if (auth_new(&acfg, &auth) < 0 || (auth && auth_watch_sighup(auth, base) < 0) ||
	    server_new(base, &mc, &m) < 0) {
		auth_free(auth);
		http_tls_free(tls);
		http_tls_free(tls_client);
		event_base_free(base);
		return 1;
	}
	server_set_auth(m, auth);
	const struct http_limits lim = { HTTP_DEFAULT_MAX_CONNECTIONS, HTTP_DEFAULT_MAX_PER_CLIENT,
					 HTTP_DEFAULT_REQUEST_TIMEOUT_SEC };
	server_set_limits(m, &lim);
	if (tls) {
		server_set_tls(m, tls);
		server_set_agent_tls(m, tls_client);
		server_set_agent_tls_files(m, acfg.tls_ca, acfg.tls_cert, acfg.tls_key);
	}
	/* The built-in 'local' volume driver, so external volumes work out of the box. */
	struct volplugin *vp = NULL;
	struct volplugin_server *vps = NULL;
	int vr = volplugin_new(local_root, &vp);
	if (vr >= 0)
		vr = volplugin_serve(vp, base, local_sock, &vps);
	if (vr < 0)
		log_warn("dev", "the built-in 'local' volume driver is not available: %s",
			 strerror(-vr));
	_cleanup_free_ char *url = xasprintf("%s://%s:%u", tls ? "https" : "http", mc.http_addr,
					     server_port(m));
	ac.master_url = url;
	struct agent *a;
	if (agent_new(base, &ac, &a) < 0) {
		volplugin_server_free(vps);
		volplugin_free(vp);
		server_free(m);
		auth_free(auth);
		http_tls_free(tls);
		http_tls_free(tls_client);
		event_base_free(base);
		return 1;
	}
	fprintf(stderr, "berth dev ready: API at %s (agent at %s://%s:%u, data in %s)\n", url,
		ac.tls_cert ? "https" : "http", ac.http_addr, agent_http_port(a), abs);
	int lr = loop_run_until_signal(base, "dev");
	agent_free(a);
	volplugin_server_free(vps);
	volplugin_free(vp);
	server_free(m);
	auth_free(auth);
	http_tls_free(tls);
	http_tls_free(tls_client);
	event_base_free(base);
	log_info("dev", "stopped");
	return lr < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "master"))
		return master_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "agent"))
		return agent_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "default-executor"))
		return agent_default_executor_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "dev"))
		return dev_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "volume-plugin"))
		return volplugin_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "lb"))
		return lb_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "image"))
		return image_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
		puts("berth 0.1.0");
		return 0;
	}
	return cli_main(argc, argv);
}
