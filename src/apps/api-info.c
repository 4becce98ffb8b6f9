/* GET /v2/info in Marathon 1.10's shape (reference/compat.md §10.3).
 * Invariant: every key Marathon's InfoResource writes is present (its Json.obj writes an
 * unset option as null), with berth's own value where berth has the setting and Marathon's
 * default where the setting has no meaning in berth (docs/api.md lists which). */
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "apps/api-int.h"

/* url without "user:password@" after the scheme (Marathon redacts credentials). */
static char *redact_url(const char *url)
{
	if (!url)
		return xstrdup("");
	const char *body = strstr(url, "://");
	body = body ? body + 3 : url;
	const char *at = strchr(body, '@');
	const char *slash = strchr(body, '/');
	if (!at || (slash && slash < at))
		return xstrdup(url);
	return xasprintf("%.*s%s", (int)(body - url), url, at + 1);
}

static json_t *marathon_config(struct apps *m)
{
	const struct master_config *c = m->cfg;
	char ui[320];
	snprintf(ui, sizeof(ui), "%s://%s", c && c->https ? "https" : "http", m->leader);
	json_t *j = json_object();
	json_object_set_new(j, "access_control_allow_origin", json_null());
	json_object_set_new(j, "checkpoint", json_true());
	json_object_set_new(j, "decline_offer_duration", json_null());
	json_object_set_new(j, "default_network_name", json_null());
	json_object_set_new(j, "env_vars_prefix", json_null());
	json_object_set_new(j, "executor", json_string("//cmd"));
	json_object_set_new(j, "failover_timeout", json_integer(604800));
	json_object_set_new(j, "features", json_array());
	json_object_set_new(j, "framework_name", json_string("marathon"));
	json_object_set_new(j, "ha", json_boolean(c && c->store_url &&
						  strncmp(c->store_url, "sqlite:", 7) &&
						  strncmp(c->store_url, "file:", 5)));
	json_object_set_new(j, "hostname",
			    json_string(c && c->hostname ? c->hostname : m->leader));
	json_object_set_new(j, "launch_token", json_integer(100));
	json_object_set_new(j, "launch_token_refresh_interval", json_integer(30000));
	json_object_set_new(j, "leader_proxy_connection_timeout_ms", json_integer(5000));
	json_object_set_new(j, "leader_proxy_read_timeout_ms", json_integer(10000));
	json_object_set_new(j, "local_port_max", json_integer(20000));
	json_object_set_new(j, "local_port_min", json_integer(10000));
	json_object_set_new(j, "master", json_string(m->leader));
	json_object_set_new(j, "max_instances_per_offer", json_integer(5));
	json_object_set_new(j, "mesos_bridge_name", json_string("mesos-bridge"));
	json_object_set_new(j, "mesos_heartbeat_failure_threshold", json_integer(5));
	json_object_set_new(j, "mesos_heartbeat_interval", json_integer(15000));
	json_object_set_new(j, "mesos_leader_ui_url", json_string(ui));
	json_object_set_new(j, "mesos_role", json_string("*"));
	json_object_set_new(j, "mesos_user", json_null());
	json_object_set_new(j, "new_group_enforce_role", json_string("Off"));
	json_object_set_new(j, "min_revive_offers_interval", json_integer(5000));
	json_object_set_new(j, "offer_matching_timeout", json_integer(3000));
	json_object_set_new(j, "on_elected_prepare_timeout", json_integer(180000));
	json_object_set_new(j, "reconciliation_initial_delay", json_integer(15000));
	json_object_set_new(j, "reconciliation_interval", json_integer(600000));
	json_object_set_new(j, "scale_apps_initial_delay", json_integer(15000));
	json_object_set_new(j, "scale_apps_interval", json_integer(300000));
	json_object_set_new(j, "store_cache", json_true());
	json_object_set_new(j, "task_launch_confirm_timeout", json_integer(300000));
	json_object_set_new(j, "task_launch_timeout", json_integer(300000));
	json_object_set_new(j, "task_lost_expunge_initial_delay", json_integer(300000));
	json_object_set_new(j, "task_lost_expunge_interval", json_integer(30000));
	json_object_set_new(j, "task_reservation_timeout", json_integer(20000));
	json_object_set_new(j, "webui_url", json_null());
	json_object_set_new(j, "maintenance_mode", json_false());
	return j;
}

static json_t *zookeeper_config(struct apps *m)
{
	json_t *j = json_object();
	/* berth's state store plays ZooKeeper's part: "zk" names it. */
	_cleanup_free_ char *zk = redact_url(m->cfg ? m->cfg->store_url : NULL);
	json_object_set_new(j, "zk", json_string(zk));
	json_object_set_new(j, "zk_compression", json_true());
	json_object_set_new(j, "zk_compression_threshold", json_integer(65536));
	json_object_set_new(j, "zk_connection_timeout", json_integer(10000));
	json_object_set_new(j, "zk_max_node_size", json_integer(1024000));
	json_object_set_new(j, "zk_max_versions", json_integer(50));
	json_object_set_new(j, "zk_session_timeout", json_integer(10000));
	json_object_set_new(j, "zk_timeout", json_integer(10000));
	return j;
}

json_t *api_info(struct apps *m)
{
	/* "name"/"version" say which Marathon API this speaks; buildref says what it is. */
	json_t *j = json_pack("{s:s, s:s, s:s, s:b, s:s, s:s?}", "name", "marathon", "version",
			      "1.10.26", "buildref", "berth-0.1.0", "elected", 1, "leader",
			      m->leader, "frameworkId",
			      m->framework_id[0] ? m->framework_id : NULL);
	json_object_set_new(j, "marathon_config", marathon_config(m));
	json_object_set_new(j, "zookeeper_config", zookeeper_config(m));
	/* One listener: HTTP (https_port 0), or HTTPS only with --tls-cert (its port is both:
	 * Marathon with --disable_http still names an http_port). */
	bool tls = m->cfg && m->cfg->https;
	json_object_set_new(j, "http_config", json_pack("{s:i, s:i}", "http_port", (int)m->port,
							"https_port", tls ? (int)m->port : 0));
	return j;
}
