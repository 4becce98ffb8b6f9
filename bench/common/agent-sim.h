/* The simulated agents the in-process benchmarks share (bench/alloc, bench/dns,
 * bench/jobs): they get the records a real agent would and launch nothing; what they owe the
 * master (status updates) is kept until a benchmark delivers it through the master's real
 * update path and group commit (updates.c). */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct master;
struct m_agent;

/* Starts (or empties) the list of owed updates. */
void agent_sim_init(void);
/* a owes the update state (TASK_RUNNING, …) of task (both copied). */
void agent_sim_owe(const struct m_agent *a, const char *task, const char *state);
/* The default agent_sim_fn: TASK_RUNNING owed for a LAUNCH, TASK_KILLED for a KILL. The
 * record is taken. */
int agent_sim_send(struct m_agent *a, json_t *rec);
/* Takes what is owed ({agent id: [update]}, the caller's) and starts a new list. */
json_t *agent_sim_take(void);
/* Queues owed (from agent_sim_take) on the master, each agent's updates in batches of at
 * most 256 as a real agent posts them; updates_flush applies them. */
void agent_sim_queue(struct master *m, const json_t *owed);
/* Takes, queues and applies what is owed (one commit, as thousands of agents reporting in
 * one loop turn); returns how many updates were applied. */
size_t agent_sim_flush(struct master *m);
/* Whether any update is owed. */
bool agent_sim_owing(void);
/* This process's resident set, KiB. */
long bench_rss_kib(void);
