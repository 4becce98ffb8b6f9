/* Agents in /master/state's shape, and the agents' parts of the answers assembled from
 * the state cache (state-cache.c, issue 12): GET_AGENTS's object, /master/state's slaves and
 * /master/slaves, each agent's rendering per shape kept under a fingerprint of what it reads. */
#include <string.h>

#include "master/master-int.h"
#include "master/state-cache.h"
#include "master/state-json.h"
#include "net/http-cond.h"

json_t *state_json_legacy_slave(const struct m_agent *a)
{
	char pid[400];
	uint16_t port = registry_agent_port(a);
	state_json_upid("slave(1)", a->ip ? a->ip : "127.0.0.1", port, pid, sizeof(pid));
	const struct resources *total = rm_agent_total(a);
	struct resources unreserved = RESOURCES_INIT;
	for (size_t i = 0; i < total->n; i++)
		if (!strcmp(total->v[i].role, "*")) {
			struct resources one = { &total->v[i], 1 };
			resources_add(&unreserved, &one);
		}
	bool active = a->state == AGENT_CONNECTED && !a->deactivated;
	json_t *s = json_pack(
		"{s:s, s:s, s:s, s:i, s:o, s:f, s:o, s:o, s:o, s:o, s:o, s:b, s:b, s:s, s:[]}", "id",
		a->id, "pid", pid, "hostname", a->hostname, "port", (int)port, "attributes",
		state_json_attributes(&a->attrs), "registered_time",
		(double)a->registered_usec / 1e6, "resources", state_json_resources(total, NULL),
		"used_resources", state_json_resources(rm_agent_used(a), NULL), "offered_resources",
		state_json_resources(&(struct resources)RESOURCES_INIT, NULL), "reserved_resources",
		state_json_reserved(total), "unreserved_resources",
		state_json_resources(&unreserved, NULL), "active", active, "deactivated", !active,
		"version", STATE_JSON_MESOS_VERSION, "capabilities");
	if (a->drain != AGENT_DRAIN_NONE) /* maint.c */
		json_object_set_new(s, "drain_info", maint_drain_info(a));
	resources_release(&unreserved);
	return s;
}

/* The agents (those the shape shows) as "[<piece>,…]" from the cache. */
void state_json_agents_body(struct master *m, struct http_body *b, int shape)
{
	json_t *(*render)(const struct m_agent *) = shape == SC_AGENT_V1	  ? state_json_v1_agent
						    : shape == SC_AGENT_LEGACY ? state_json_legacy_slave
									       : registry_render_slave;
	http_body_lit(b, "[");
	bool first = true;
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->agents, &i, &k, &v);) {
		const struct m_agent *a = v;
		if (shape != SC_AGENT_SLAVES && a->state == AGENT_UNREACHABLE)
			continue;
		http_body_piece(b, state_cache_agent(m->scache, a, shape, render), !first);
		first = false;
	}
	http_body_lit(b, "]");
	state_cache_agents_sweep(m->scache);
}

int state_json_slaves_body(struct master *m, struct http_body *b)
{
	if (!m->scache)
		m->scache = state_cache_new();
	http_body_init(b);
	http_body_lit(b, "{\"slaves\":");
	state_json_agents_body(m, b, SC_AGENT_SLAVES);
	http_body_lit(b, "}");
	return 0;
}

/* GET_AGENTS's object: {"agents":[…]}, or {} without agents (an empty repeated field is
 * left out). */
void state_json_v1_agents_body(struct master *m, struct http_body *b)
{
	const char *k;
	void *v;
	bool any = false;
	for (size_t i = 0; !any && hmap_next(&m->agents, &i, &k, &v);)
		any = ((const struct m_agent *)v)->state != AGENT_UNREACHABLE;
	if (!any) {
		http_body_lit(b, "{}");
		return;
	}
	http_body_lit(b, "{\"agents\":");
	state_json_agents_body(m, b, SC_AGENT_V1);
	http_body_lit(b, "}");
}
