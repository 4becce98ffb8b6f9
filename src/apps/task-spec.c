/* The LAUNCH record of an instance's task: what the agent's executor runs (command,
 * environment with the instance's index and peers, resources, volumes, health and readiness
 * checks; docs/internals/agent-protocol.md). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "base/strbuf.h"
#include "json/jtext.h"
#include "apps/apps-int.h"
#include "model/container.h"
#include "model/fetch.h"

#define PEERS_MAX 64

json_t *apps_task_spec(struct apps *m, const struct m_instance *in, const struct m_agent *a)
{
	const struct app *def = in->app->def;
	char name[APP_MAX_ID_LEN + 1];
	app_task_name(def->id, name);
	json_t *env = task_env_build(def, a->hostname, in->ports, in->nports, in->task_id);
	char idx[32];
	snprintf(idx, sizeof(idx), "%u", in->index);
	if (!json_object_get(json_object_get(def->json, "env"), "BERTH_INSTANCE_INDEX"))
		json_object_set_new(env, "BERTH_INSTANCE_INDEX", json_string(idx));
	/* The other instances placed so far, for a service to find its peers: at most
	 * PEERS_MAX of them (enough to bootstrap a cluster; the API lists them all), so that a
	 * large app's environment stays small. */
	struct strbuf peers = STRBUF_INIT;
	unsigned npeers = 0;
	const struct iheap *live = &in->app->order[ORD_LIVE]; /* LIVE, goal RUN: no walk of the
							       * waiting ones (inst-order.c) */
	for (size_t i = 0; i < iheap_len(live) && npeers < PEERS_MAX; i++) {
		const struct m_instance *o = iheap_at(live, i);
		if (o == in || o->phase != INST_LIVE || o->goal != GOAL_RUN || !o->agent_id)
			continue;
		npeers++;
		struct m_agent *oa = rm_agent_get(m->rm, o->agent_id);
		if (!oa)
			continue;
		/* "<index>=<host>[:<port>]", comma-separated (no printf: up to 64 per launch) */
		if (peers.len)
			strbuf_addch(&peers, ',');
		jtext_uint(&peers, o->index);
		strbuf_addch(&peers, '=');
		strbuf_adds(&peers, oa->hostname);
		if (o->nports) {
			strbuf_addch(&peers, ':');
			jtext_uint(&peers, o->ports[0]);
		}
	}
	if (!json_object_get(json_object_get(def->json, "env"), "BERTH_PEERS"))
		json_object_set_new(env, "BERTH_PEERS", json_string(strbuf_str(&peers)));
	strbuf_release(&peers);
	/* The operator's overrides for this index (instctl.c) win over the app's env. */
	json_t *over = instctl_env(in->app, in->index);
	if (over)
		json_object_update(env, over);
	/* Marathon's secrets: env {"secret": NAME} with secrets.NAME.source. The reference goes
	 * to the agent, which resolves it in its store (agent-secret.c): no value is ever here.
	 * An operator's plain override of the same variable wins. */
	json_t *secrets = NULL;
	const char *ek;
	json_t *ev;
	json_object_foreach(json_object_get(def->json, "env"), ek, ev) {
		const char *sname = json_string_value(json_object_get(ev, "secret"));
		const char *src = json_string_value(json_object_get(
			json_object_get(json_object_get(def->json, "secrets"), sname ? sname : ""),
			"source"));
		if (!json_is_object(ev) || !sname || !src || (over && json_object_get(over, ek)))
			continue;
		if (!secrets)
			secrets = json_array();
		json_array_append_new(secrets, json_pack("{s:s, s:s, s:s}", "name", ek, "secret",
							 sname, "source", src));
	}
	json_t *ports = json_array();
	for (size_t i = 0; i < in->nports; i++)
		json_array_append_new(ports, json_integer(in->ports[i]));
	json_t *spec = json_pack("{s:s, s:s, s:s, s:s, s:b, s:o, s:{s:f, s:f, s:f, s:f, s:o}, s:f}",
				 "task_id", in->task_id, "framework_id", m->framework_id, "name",
				 name, "app_id", def->id, "shell",
				 def->cmd != NULL, "env", env, "resources", "cpus", def->cpus, "mem",
				 def->mem, "disk", def->disk, "gpus", def->gpus, "ports", ports,
				 "kill_grace_period_seconds", def->kill_grace_seconds);
	if (def->cmd) {
		json_object_set_new(spec, "cmd", json_string(def->cmd));
	} else {
		json_t *args = json_array();
		for (size_t i = 0; i < def->nargs; i++)
			json_array_append_new(args, json_string(def->args[i]));
		json_object_set_new(spec, "args", args);
	}
	if (def->user)
		json_object_set_new(spec, "user", json_string(def->user));
	if (secrets)
		json_object_set_new(spec, "secrets", secrets);
	json_t *ct = container_spec(def->json, in->ports, in->nports);
	if (ct)
		json_object_set_new(spec, "container", ct);
	/* Marathon's fetch (and the deprecated uris: extract on, as Marathon converts them). */
	json_t *fetch = fetch_spec(json_object_get(def->json, "fetch"),
				   json_object_get(def->json, "uris"));
	if (fetch)
		json_object_set_new(spec, "fetch", fetch);
	if (def->nvolumes) {
		json_t *vols = json_array();
		size_t pi = 0;
		for (size_t i = 0; i < def->nvolumes; i++) {
			const struct app_volume *vol = &def->volumes[i];
			if (vol->type == VOL_PERSISTENT) {
				json_t *pv = json_array_get(in->vols, pi++);
				json_array_append_new(
					vols, json_pack("{s:s, s:s, s:s, s:s?, s:f}", "type", "persistent",
							"container_path", vol->container_path, "mode", "RW",
							"persistence_id",
							json_string_value(json_object_get(pv, "persistenceId")),
							"size", vol->size));
			} else {
				char *vname = volume_name_for(vol, in->index);
				json_array_append_new(
					vols, json_pack("{s:s, s:s, s:s, s:s, s:s, s:O}", "type", "external",
							"container_path", vol->container_path, "mode",
							vol->read_only ? "RO" : "RW", "name", vname, "driver",
							vol->driver, "options", vol->options));
				free(vname);
			}
		}
		json_object_set_new(spec, "volumes", vols);
	}
	/* Host-path volumes (checked by volumes_parse): bound as they are, by the agent. */
	json_t *hvols = NULL;
	size_t vi;
	json_t *vo;
	json_array_foreach(json_object_get(json_object_get(def->json, "container"), "volumes"),
			   vi, vo) {
		const char *hp = json_string_value(json_object_get(vo, "hostPath"));
		if (!hp || json_object_get(vo, "persistent") || json_object_get(vo, "external"))
			continue;
		if (!hvols)
			hvols = json_array();
		json_array_append_new(
			hvols, json_pack("{s:s, s:O, s:O}", "host_path", hp, "container_path",
					 json_object_get(vo, "containerPath"), "mode",
					 json_object_get(vo, "mode")));
	}
	if (hvols)
		json_object_set_new(spec, "host_volumes", hvols);
	if (def->nhealth_checks) {
		json_t *hcs = json_array();
		for (size_t i = 0; i < def->nhealth_checks; i++) {
			const struct health_check *h = &def->health_checks[i];
			uint32_t port = h->port;
			if (!port && h->port_index >= 0 && (size_t)h->port_index < in->nports)
				port = in->ports[h->port_index];
			json_t *o = json_pack("{s:s, s:i, s:f, s:f, s:f, s:f, s:I, s:b}", "protocol",
					      hc_protocol_name(h->protocol), "port", (int)port,
					      "grace_period_seconds", h->grace_period_seconds,
					      "interval_seconds", h->interval_seconds, "timeout_seconds",
					      h->timeout_seconds, "delay_seconds", h->mesos ? h->delay_seconds : 0.0,
					      "max_consecutive_failures",
					      (json_int_t)h->max_consecutive_failures, "ignore_http1xx",
					      h->ignore_http1xx);
			if (h->path)
				json_object_set_new(o, "path", json_string(h->path));
			if (h->command)
				json_object_set_new(o, "command", json_string(h->command));
			json_array_append_new(hcs, o);
		}
		json_object_set_new(spec, "health_checks", hcs);
	}
	if (def->nreadiness_checks) {
		json_t *rcs = json_array();
		for (size_t i = 0; i < def->nreadiness_checks; i++) {
			const struct readiness_check *r = &def->readiness_checks[i];
			uint32_t port = (size_t)r->port_index < in->nports ? in->ports[r->port_index] : 0;
			json_t *codes = json_array();
			for (size_t k = 0; k < r->nstatus_codes; k++)
				json_array_append_new(codes, json_integer(r->status_codes[k]));
			json_array_append_new(
				rcs, json_pack("{s:s, s:s, s:s, s:i, s:f, s:f, s:o}", "name", r->name,
					       "protocol", hc_protocol_name(r->protocol), "path", r->path,
					       "port", (int)port, "interval_seconds", r->interval_seconds,
					       "timeout_seconds", r->timeout_seconds, "status_codes", codes));
		}
		json_object_set_new(spec, "readiness_checks", rcs);
	}
	return json_pack("{s:s, s:o}", "type", "LAUNCH", "task", spec);
}
