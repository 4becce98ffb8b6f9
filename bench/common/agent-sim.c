/* The benchmarks' simulated agents (agent-sim.h). */
#include "agent-sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "base/util.h"
#include "master/master-int.h"

/* A real agent posts at most this many updates at once (agent-protocol.md §3). */
#define AGENT_BATCH 256

static json_t *pending; /* {agent id: [update]} */

void agent_sim_init(void)
{
	json_decref(pending);
	pending = json_object();
}

void agent_sim_owe(const struct m_agent *a, const char *task, const char *state)
{
	char u[37];
	id_uuid4(u);
	json_t *mine = json_object_get(pending, a->id);
	if (!mine) {
		mine = json_array();
		json_object_set_new(pending, a->id, mine);
	}
	json_array_append_new(mine, json_pack("{s:s, s:s, s:s, s:f}", "task_id", task, "state",
					      state, "uuid", u, "timestamp",
					      (double)time_real_usec() / 1e6));
}

int agent_sim_send(struct m_agent *a, json_t *rec)
{
	const char *type = json_string_value(json_object_get(rec, "type"));
	const char *task = NULL, *state = NULL;
	if (type && !strcmp(type, "LAUNCH")) {
		task = json_string_value(json_object_get(json_object_get(rec, "task"), "task_id"));
		state = "TASK_RUNNING";
	} else if (type && !strcmp(type, "KILL")) {
		task = json_string_value(json_object_get(rec, "task_id"));
		state = "TASK_KILLED";
	}
	if (task)
		agent_sim_owe(a, task, state);
	json_decref(rec);
	return 0;
}

json_t *agent_sim_take(void)
{
	json_t *all = pending;
	pending = json_object();
	return all;
}

void agent_sim_queue(struct master *m, const json_t *owed)
{
	const char *id;
	json_t *ups;
	json_object_foreach((json_t *)owed, id, ups) {
		struct m_agent *a = hmap_get(&m->agents, id);
		for (size_t at = 0; a && at < json_array_size(ups); at += AGENT_BATCH) {
			json_t *batch = json_array();
			for (size_t i = at; i < at + AGENT_BATCH && i < json_array_size(ups); i++)
				json_array_append(batch, json_array_get(ups, i));
			updates_queue(m, a, batch, NULL);
		}
	}
}

size_t agent_sim_flush(struct master *m)
{
	json_t *all = agent_sim_take();
	agent_sim_queue(m, all);
	json_decref(all);
	return updates_flush(m);
}

bool agent_sim_owing(void)
{
	return json_object_size(pending) > 0;
}

long bench_rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	long kib = 0;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kib = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kib;
}
