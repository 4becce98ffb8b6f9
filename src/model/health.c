/* Health and readiness check definitions (see health.h). */
#include "model/health.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"

#define MAX_CHECKS 32

const char *hc_protocol_name(enum hc_protocol p)
{
	static const char *const n[] = { "HTTP", "HTTPS", "TCP", "COMMAND" };
	return n[p];
}

/* A non-negative number field with a default written back; false (and an error) if bad. */
static double num(json_t *o, const char *key, double def, bool positive, const char *base,
		  struct verr *err, bool *bad)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v)) {
		json_object_set_new(o, key, json_integer((json_int_t)def));
		return def;
	}
	if (!json_is_number(v)) {
		char path[128];
		snprintf(path, sizeof(path), "%s/%s", base, key);
		verr_add(err, path, "error.expected.jsnumber");
		*bad = true;
		return def;
	}
	double d = json_number_value(v);
	if (d < 0 || (positive && d <= 0)) {
		char path[128];
		snprintf(path, sizeof(path), "%s/%s", base, key);
		verr_add(err, path, positive ? "must be greater than 0" : "must not be negative");
		*bad = true;
	}
	return d;
}

static int protocol_of(const char *s, bool *mesos)
{
	static const struct {
		const char *name;
		enum hc_protocol p;
		bool mesos;
	} t[] = {
		{ "HTTP", HC_HTTP, false },	   { "HTTPS", HC_HTTPS, false },
		{ "TCP", HC_TCP, false },	   { "COMMAND", HC_COMMAND, true },
		{ "MESOS_HTTP", HC_HTTP, true },   { "MESOS_HTTPS", HC_HTTPS, true },
		{ "MESOS_TCP", HC_TCP, true },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(t[i].name, s)) {
			*mesos = t[i].mesos;
			return (int)t[i].p;
		}
	return -1;
}

void health_checks_free(struct health_check *h, size_t n)
{
	for (size_t i = 0; h && i < n; i++) {
		free(h[i].path);
		free(h[i].command);
	}
	free(h);
}

int health_checks_parse(json_t *arr, size_t nports, struct verr *err,
			struct health_check **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!arr)
		return 0;
	if (!json_is_array(arr)) {
		verr_add(err, "/healthChecks", "error.expected.jsarray");
		return -EINVAL;
	}
	if (json_array_size(arr) > MAX_CHECKS) {
		verr_add(err, "/healthChecks", "at most %d health checks", MAX_CHECKS);
		return -EINVAL;
	}
	bool bad = false;
	struct health_check *h = xcalloc(json_array_size(arr) + 1, sizeof(*h));
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o) {
		char base[64];
		snprintf(base, sizeof(base), "/healthChecks/%zu", i);
		struct health_check *c = &h[i];
		if (!json_is_object(o)) {
			verr_add(err, base, "error.expected.jsobject");
			bad = true;
			continue;
		}
		json_t *pv = json_object_get(o, "protocol");
		const char *ps = json_is_string(pv) ? json_string_value(pv) : pv ? NULL : "HTTP";
		bool mesos = false;
		int p = ps ? protocol_of(ps, &mesos) : -1;
		char path[96];
		snprintf(path, sizeof(path), "%s/protocol", base);
		if (p < 0) {
			verr_add(err, path, "must be one of HTTP, HTTPS, TCP, COMMAND, MESOS_HTTP, "
					    "MESOS_HTTPS, MESOS_TCP");
			bad = true;
			continue;
		}
		if (!pv)
			json_object_set_new(o, "protocol", json_string("HTTP"));
		c->protocol = (enum hc_protocol)p;
		c->mesos = mesos;
		c->port_index = -1;
		if (c->protocol == HC_HTTP || c->protocol == HC_HTTPS) {
			json_t *pa = json_object_get(o, "path");
			if (!pa || json_is_null(pa)) {
				json_object_set_new(o, "path", json_string("/"));
				pa = json_object_get(o, "path");
			}
			snprintf(path, sizeof(path), "%s/path", base);
			if (!json_is_string(pa) || json_string_value(pa)[0] != '/' ||
			    json_string_length(pa) > 1024) {
				verr_add(err, path, "must be a path starting with '/'");
				bad = true;
			} else {
				c->path = xstrdup(json_string_value(pa));
			}
		}
		if (c->protocol == HC_COMMAND) {
			json_t *cmd = json_object_get(json_object_get(o, "command"), "value");
			snprintf(path, sizeof(path), "%s/command", base);
			if (!json_is_string(cmd) || !json_string_length(cmd)) {
				verr_add(err, path, "COMMAND health checks need {\"value\": \"<command>\"}");
				bad = true;
			} else {
				c->command = xstrdup(json_string_value(cmd));
			}
		} else {
			json_t *port = json_object_get(o, "port");
			json_t *pi = json_object_get(o, "portIndex");
			if (port && !json_is_null(port)) {
				snprintf(path, sizeof(path), "%s/port", base);
				if (!json_is_integer(port) || json_integer_value(port) < 1 ||
				    json_integer_value(port) > 65535) {
					verr_add(err, path, "must be a port from 1 to 65535");
					bad = true;
				} else {
					c->port = (uint32_t)json_integer_value(port);
				}
			} else {
				json_int_t idx = 0;
				snprintf(path, sizeof(path), "%s/portIndex", base);
				if (pi && !json_is_null(pi)) {
					if (!json_is_integer(pi) || json_integer_value(pi) < 0) {
						verr_add(err, path, "must be a non-negative integer");
						bad = true;
					}
					idx = json_integer_value(pi);
				} else {
					json_object_set_new(o, "portIndex", json_integer(0));
				}
				if (!bad && (size_t)idx >= nports) {
					verr_add(err, path,
						 "Health check port indices must address an element of "
						 "the ports array or container port mappings.");
					bad = true;
				}
				c->port_index = (int)idx;
			}
		}
		c->grace_period_seconds = num(o, "gracePeriodSeconds", 300, false, base, err, &bad);
		c->interval_seconds = num(o, "intervalSeconds", 60, true, base, err, &bad);
		c->timeout_seconds = num(o, "timeoutSeconds", 20, true, base, err, &bad);
		c->delay_seconds = num(o, "delaySeconds", 15, false, base, err, &bad);
		c->max_consecutive_failures =
			(int64_t)num(o, "maxConsecutiveFailures", 3, false, base, err, &bad);
		json_t *ig = json_object_get(o, "ignoreHttp1xx");
		if (ig && !json_is_boolean(ig)) {
			snprintf(path, sizeof(path), "%s/ignoreHttp1xx", base);
			verr_add(err, path, "error.expected.jsboolean");
			bad = true;
		}
		c->ignore_http1xx = json_is_true(ig);
		if (!ig && (c->protocol == HC_HTTP || c->protocol == HC_HTTPS))
			json_object_set_new(o, "ignoreHttp1xx", json_false());
	}
	if (bad) {
		health_checks_free(h, json_array_size(arr));
		return -EINVAL;
	}
	*out = h;
	*n = json_array_size(arr);
	return 0;
}

void readiness_checks_free(struct readiness_check *r, size_t n)
{
	for (size_t i = 0; r && i < n; i++) {
		free(r[i].name);
		free(r[i].path);
		free(r[i].port_name);
		free(r[i].status_codes);
	}
	free(r);
}

int readiness_checks_parse(json_t *arr, const char *const *port_names, size_t nports,
			   struct verr *err, struct readiness_check **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!arr)
		return 0;
	if (!json_is_array(arr)) {
		verr_add(err, "/readinessChecks", "error.expected.jsarray");
		return -EINVAL;
	}
	if (json_array_size(arr) > MAX_CHECKS) {
		verr_add(err, "/readinessChecks", "at most %d readiness checks", MAX_CHECKS);
		return -EINVAL;
	}
	bool bad = false;
	struct readiness_check *r = xcalloc(json_array_size(arr) + 1, sizeof(*r));
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o) {
		char base[64], path[128];
		snprintf(base, sizeof(base), "/readinessChecks/%zu", i);
		struct readiness_check *c = &r[i];
		if (!json_is_object(o)) {
			verr_add(err, base, "error.expected.jsobject");
			bad = true;
			continue;
		}
		json_t *nm = json_object_get(o, "name");
		if (!nm)
			json_object_set_new(o, "name", json_string("readinessCheck"));
		c->name = xstrdup(json_string_value(json_object_get(o, "name")) ?: "readinessCheck");
		json_t *pv = json_object_get(o, "protocol");
		const char *ps = pv ? json_string_value(pv) : "HTTP";
		snprintf(path, sizeof(path), "%s/protocol", base);
		if (!ps || (strcmp(ps, "HTTP") && strcmp(ps, "HTTPS"))) {
			verr_add(err, path, "must be HTTP or HTTPS");
			bad = true;
		} else {
			c->protocol = strcmp(ps, "HTTPS") ? HC_HTTP : HC_HTTPS;
			if (!pv)
				json_object_set_new(o, "protocol", json_string("HTTP"));
		}
		json_t *pa = json_object_get(o, "path");
		if (!pa)
			json_object_set_new(o, "path", json_string("/"));
		pa = json_object_get(o, "path");
		snprintf(path, sizeof(path), "%s/path", base);
		if (!json_is_string(pa) || json_string_value(pa)[0] != '/') {
			verr_add(err, path, "must be a path starting with '/'");
			bad = true;
		} else {
			c->path = xstrdup(json_string_value(pa));
		}
		json_t *pn = json_object_get(o, "portName");
		snprintf(path, sizeof(path), "%s/portName", base);
		c->port_index = -1;
		if (!json_is_string(pn)) {
			verr_add(err, path, "is required: the name of one of the app's ports");
			bad = true;
		} else {
			c->port_name = xstrdup(json_string_value(pn));
			for (size_t k = 0; k < nports; k++)
				if (port_names[k] && !strcmp(port_names[k], c->port_name))
					c->port_index = (int)k;
			if (c->port_index < 0) {
				verr_add(err, path, "no port named '%s' in portDefinitions", c->port_name);
				bad = true;
			}
		}
		c->interval_seconds = num(o, "intervalSeconds", 30, true, base, err, &bad);
		c->timeout_seconds = num(o, "timeoutSeconds", 10, true, base, err, &bad);
		json_t *codes = json_object_get(o, "httpStatusCodesForReady");
		if (!codes) {
			codes = json_pack("[i]", 200);
			json_object_set_new(o, "httpStatusCodesForReady", codes);
		}
		snprintf(path, sizeof(path), "%s/httpStatusCodesForReady", base);
		if (!json_is_array(codes) || !json_array_size(codes) || json_array_size(codes) > 64) {
			verr_add(err, path, "must be a non-empty array of HTTP status codes");
			bad = true;
		} else {
			c->status_codes = xcalloc(json_array_size(codes), sizeof(int));
			size_t k;
			json_t *cv;
			json_array_foreach(codes, k, cv) {
				if (!json_is_integer(cv) || json_integer_value(cv) < 100 ||
				    json_integer_value(cv) > 599) {
					verr_add(err, path, "must be a non-empty array of HTTP status codes");
					bad = true;
					break;
				}
				c->status_codes[c->nstatus_codes++] = (int)json_integer_value(cv);
			}
		}
		if (!json_object_get(o, "preserveLastResponse"))
			json_object_set_new(o, "preserveLastResponse", json_false());
	}
	if (bad) {
		readiness_checks_free(r, json_array_size(arr));
		return -EINVAL;
	}
	*out = r;
	*n = json_array_size(arr);
	return 0;
}
