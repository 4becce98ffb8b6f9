/* The master's own metrics over the last hour: a bounded ring of samples, one every
 * HISTORY_EVERY_SEC seconds, HISTORY_CAP of them (one hour). The server fills it from a
 * timer (metrics.c); GET /api/berth/metrics/history renders it (docs/console.md).
 *
 * Invariants: 0 <= n <= HISTORY_CAP; the oldest sample is at (head + HISTORY_CAP - n) %
 * HISTORY_CAP and the newest at (head + HISTORY_CAP - 1) % HISTORY_CAP; a push when full
 * overwrites the oldest. The memory is fixed at HISTORY_CAP samples, whatever runs. */
#ifndef BERTH_SERVER_HISTORY_H
#define BERTH_SERVER_HISTORY_H

#include <stddef.h>
#include <stdint.h>

struct strbuf;

#define HISTORY_EVERY_SEC 10
#define HISTORY_CAP 360

struct history_sample {
	uint64_t time_ms;        /* wall clock, ms since the epoch */
	double tasks_running;    /* tasks in TASK_RUNNING */
	double cpus_used, cpus;  /* on connected agents: held by tasks, total */
	double mem_used, mem;    /* MiB */
	double disk_used, disk;  /* MiB */
	uint64_t updates_total;  /* status updates received since start (a counter) */
	double updates_per_sec;  /* set by history_push from the previous sample */
};

struct history {
	struct history_sample v[HISTORY_CAP];
	size_t head, n;
};

void history_init(struct history *h);
/* Appends a copy of s (its updates_per_sec computed against the newest sample: the counter's
 * growth over the time between them; 0 for the first, a counter that went back or a clock
 * that did not advance), dropping the oldest when full. */
void history_push(struct history *h, const struct history_sample *s);
size_t history_len(const struct history *h);
/* The i-th sample, oldest first; NULL when i >= history_len. */
const struct history_sample *history_at(const struct history *h, size_t i);
/* Appends {"intervalSeconds":10,"capacity":360,"samples":[{...}, ...]} with the samples
 * newer than since_ms (0: all), oldest first. */
void history_render_json(const struct history *h, uint64_t since_ms, struct strbuf *out);

#endif
