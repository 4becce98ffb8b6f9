/* Health and readiness results from the shims to the master (agent-protocol.md §7).
 *
 * The shims write <work>/health/<task_id> (exec-health.h); one inotify watch on that
 * directory (IN_MOVED_TO: the shim renames a tmp file into place) wakes the agent at once.
 * Each file carries seq numbers, so a read that finds nothing new is a no-op and a missed
 * event loses nothing: the file holds the current state. On a queue overflow every task's
 * file is read again. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "agent/agent-int.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "executor/exec-health.h"

static json_t *ts_or_null(uint64_t ms)
{
	return ms ? json_real((double)ms / 1000.0) : json_null();
}

static json_t *health_array(const struct exec_health *h, bool *healthy)
{
	json_t *arr = json_array();
	*healthy = h->nchecks > 0;
	for (size_t i = 0; i < h->nchecks; i++) {
		const struct exec_health_check *c = &h->checks[i];
		*healthy = *healthy && c->alive == 1;
		json_t *o = json_object();
		json_object_set_new(o, "index", json_integer((json_int_t)i));
		json_object_set_new(o, "alive", json_boolean(c->alive == 1));
		json_object_set_new(o, "consecutive_failures",
				    json_integer((json_int_t)c->consecutive_failures));
		json_object_set_new(o, "first_success", ts_or_null(c->first_success_ms));
		json_object_set_new(o, "last_success", ts_or_null(c->last_success_ms));
		json_object_set_new(o, "last_failure", ts_or_null(c->last_failure_ms));
		json_object_set_new(o, "last_failure_cause", json_string(c->cause));
		json_array_append_new(arr, o);
	}
	return arr;
}

static void health_forward(struct agent *a, struct agent_task *t, const struct exec_health *h)
{
	bool healthy;
	json_t *arr = health_array(h, &healthy);
	struct agent_update *u = t->health_pending;
	if (u && !u->sent) {
		/* Coalesce: the newest result replaces the unsent one, in its place. */
		json_object_set_new(u->json, "timestamp",
				    json_real((double)time_real_usec() / 1e6));
		json_object_set_new(u->json, "healthy", json_boolean(healthy));
		json_object_set_new(u->json, "health", arr);
		return;
	}
	u = agent_update_queue(a, t, t->id, t->state, NULL,
			       "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED", -1, 0);
	if (!u) {
		json_decref(arr);
		return;
	}
	json_object_set_new(u->json, "healthy", json_boolean(healthy));
	json_object_set_new(u->json, "health", arr);
	t->health_pending = u;
}

void agent_health_read(struct agent *a, struct agent_task *t)
{
	struct exec_health h;
	if (t->terminal)
		return;
	int r = exec_health_read(a->health_root, t->id, &h);
	if (r < 0) {
		if (r != -ENOENT)
			log_warn("agent", "cannot read the health of '%s': %s", t->id, strerror(-r));
		return;
	}
	if (h.hseq && h.hseq != t->health_hseq) {
		t->health_hseq = h.hseq;
		health_forward(a, t, &h);
	}
	if (h.ready && !t->ready_sent) {
		t->ready_sent = true;
		struct agent_update *u = agent_update_queue(a, t, t->id, t->state, NULL,
							    "REASON_TASK_READY", -1, 0);
		if (u)
			json_object_set_new(u->json, "ready", json_true());
	}
}

void agent_health_forget(struct agent *a, struct agent_task *t)
{
	char *p = xasprintf("%s/%s", a->health_root, t->id);
	unlink(p);
	free(p);
	p = xasprintf("%s/.%s.tmp", a->health_root, t->id);
	unlink(p);
	free(p);
}

static void read_all(struct agent *a)
{
	for (size_t i = 0; i < a->nbuckets; i++)
		for (struct agent_task *t = a->buckets[i]; t; t = t->hnext)
			agent_health_read(a, t);
}

static void on_inotify(evutil_socket_t fd, short what, void *arg)
{
	struct agent *a = arg;
	union {
		char buf[16384];
		struct inotify_event align;
	} u;
	for (int round = 0; round < 64; round++) {
		ssize_t n = read(fd, u.buf, sizeof(u.buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		for (char *p = u.buf; p < u.buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				read_all(a);
				continue;
			}
			if (!ev->len || ev->name[0] == '.')
				continue;
			struct agent_task *t = agent_task_find(a, ev->name);
			if (t)
				agent_health_read(a, t);
		}
	}
}

int agent_health_start(struct agent *a)
{
	a->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (a->inotify_fd == -1)
		return -errno;
	if (inotify_add_watch(a->inotify_fd, a->health_root, IN_MOVED_TO) == -1) {
		int r = -errno;
		agent_health_stop(a);
		return r;
	}
	a->inotify_ev = event_new(a->base, a->inotify_fd, EV_READ | EV_PERSIST, on_inotify, a);
	if (!a->inotify_ev || event_add(a->inotify_ev, NULL) == -1) {
		agent_health_stop(a);
		return -ENOMEM;
	}
	return 0;
}

void agent_health_stop(struct agent *a)
{
	if (a->inotify_ev)
		event_free(a->inotify_ev);
	a->inotify_ev = NULL;
	if (a->inotify_fd >= 0)
		close(a->inotify_fd);
	a->inotify_fd = -1;
}

static uint32_t ms_field(json_t *o, const char *k, uint32_t dflt)
{
	json_t *v = json_object_get(o, k);
	if (!json_is_number(v))
		return dflt;
	double d = json_number_value(v);
	if (d < 0 || d > 86400.0 * 365)
		return dflt;
	return (uint32_t)(d * 1000.0 + 0.5);
}

static int one_check(json_t *o, int readiness, struct exec_check *c, char *msg, size_t msglen)
{
	exec_check_defaults(c, readiness);
	if (!json_is_object(o)) {
		snprintf(msg, msglen, "a check is not an object");
		return -EINVAL;
	}
	const char *proto = json_string_value(json_object_get(o, "protocol"));
	if (proto && exec_check_proto_parse(proto, &c->protocol) < 0) {
		snprintf(msg, msglen, "unsupported check protocol '%s'", proto);
		return -EINVAL;
	}
	const char *path = json_string_value(json_object_get(o, "path"));
	if (path && *path)
		c->path = path;
	if (c->path[0] != '/' || strlen(c->path) > 2048 || strpbrk(c->path, " \r\n")) {
		snprintf(msg, msglen, "bad check path '%.64s'", c->path);
		return -EINVAL;
	}
	c->command = json_string_value(json_object_get(o, "command"));
	json_t *port = json_object_get(o, "port");
	if (json_is_integer(port) && json_integer_value(port) > 0 &&
	    json_integer_value(port) <= 65535)
		c->port = (uint16_t)json_integer_value(port);
	if (c->protocol == EXEC_CHECK_COMMAND ? !c->command || !*c->command : c->port == 0) {
		snprintf(msg, msglen, "a %s check without a %s", exec_check_proto_name(c->protocol),
			 c->protocol == EXEC_CHECK_COMMAND ? "command" : "port");
		return -EINVAL;
	}
	c->grace_ms = ms_field(o, "grace_period_seconds", c->grace_ms);
	c->interval_ms = ms_field(o, "interval_seconds", c->interval_ms);
	c->timeout_ms = ms_field(o, "timeout_seconds", c->timeout_ms);
	c->delay_ms = ms_field(o, "delay_seconds", c->delay_ms);
	json_t *mcf = json_object_get(o, "max_consecutive_failures");
	if (json_is_integer(mcf) && json_integer_value(mcf) >= 0 &&
	    json_integer_value(mcf) <= UINT32_MAX)
		c->max_failures = (uint32_t)json_integer_value(mcf);
	c->ignore_1xx = json_is_true(json_object_get(o, "ignore_http1xx"));
	json_t *codes = json_object_get(o, "status_codes");
	size_t i;
	json_t *x;
	json_array_foreach(codes, i, x) {
		if (c->nstatus < EXEC_CHECK_MAX_STATUS && json_is_integer(x) &&
		    json_integer_value(x) >= 100 && json_integer_value(x) <= 999)
			c->status[c->nstatus++] = (uint16_t)json_integer_value(x);
	}
	if (c->interval_ms == 0)
		c->interval_ms = 1000;
	if (c->timeout_ms == 0)
		c->timeout_ms = 1000;
	return 0;
}

int agent_health_checks_parse(json_t *spec, struct exec_check *out, size_t max, char *msg,
			      size_t msglen)
{
	static const char *const keys[] = { "health_checks", "readiness_checks" };
	size_t n = 0;
	for (int k = 0; k < 2; k++) {
		json_t *arr = json_object_get(spec, keys[k]);
		size_t i;
		json_t *o;
		json_array_foreach(arr, i, o) {
			if (n >= max) {
				snprintf(msg, msglen, "more than %zu checks", max);
				return -EINVAL;
			}
			if (one_check(o, k, &out[n], msg, msglen) < 0)
				return -EINVAL;
			n++;
		}
	}
	return (int)n;
}
