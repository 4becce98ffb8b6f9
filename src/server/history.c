/* The ring of the master's last hour of metrics (see history.h for the invariants). */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "base/strbuf.h"
#include "server/history.h"

void history_init(struct history *h)
{
	memset(h, 0, sizeof(*h));
}

size_t history_len(const struct history *h)
{
	return h->n;
}

const struct history_sample *history_at(const struct history *h, size_t i)
{
	if (i >= h->n)
		return NULL;
	return &h->v[(h->head + HISTORY_CAP - h->n + i) % HISTORY_CAP];
}

void history_push(struct history *h, const struct history_sample *s)
{
	struct history_sample x = *s;
	x.updates_per_sec = 0;
	const struct history_sample *prev = h->n ? history_at(h, h->n - 1) : NULL;
	if (prev && x.time_ms > prev->time_ms && x.updates_total >= prev->updates_total)
		x.updates_per_sec = (double)(x.updates_total - prev->updates_total) * 1000.0 /
				    (double)(x.time_ms - prev->time_ms);
	h->v[h->head] = x;
	h->head = (h->head + 1) % HISTORY_CAP;
	if (h->n < HISTORY_CAP)
		h->n++;
}

/* A finite number with at most 3 decimals (JSON has no NaN or Infinity). */
static void num(struct strbuf *out, const char *key, double v)
{
	if (!isfinite(v))
		v = 0;
	strbuf_addf(out, "\"%s\":%.15g", key, round(v * 1000) / 1000);
}

void history_render_json(const struct history *h, uint64_t since_ms, struct strbuf *out)
{
	strbuf_addf(out, "{\"intervalSeconds\":%d,\"capacity\":%d,\"samples\":[",
		    HISTORY_EVERY_SEC, HISTORY_CAP);
	bool first = true;
	for (size_t i = 0; i < h->n; i++) {
		const struct history_sample *s = history_at(h, i);
		if (s->time_ms <= since_ms)
			continue;
		strbuf_addf(out, "%s{\"timestamp\":%llu,", first ? "" : ",",
			    (unsigned long long)s->time_ms);
		first = false;
		num(out, "tasksRunning", s->tasks_running);
		strbuf_addch(out, ',');
		num(out, "cpusUsed", s->cpus_used);
		strbuf_addch(out, ',');
		num(out, "cpus", s->cpus);
		strbuf_addch(out, ',');
		num(out, "memUsed", s->mem_used);
		strbuf_addch(out, ',');
		num(out, "mem", s->mem);
		strbuf_addch(out, ',');
		num(out, "diskUsed", s->disk_used);
		strbuf_addch(out, ',');
		num(out, "disk", s->disk);
		strbuf_addch(out, ',');
		num(out, "statusUpdatesPerSecond", s->updates_per_sec);
		strbuf_addf(out, ",\"statusUpdatesTotal\":%llu}",
			    (unsigned long long)s->updates_total);
	}
	strbuf_adds(out, "]}");
}
