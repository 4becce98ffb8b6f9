/* Marathon app definitions: validation with JSON paths and normalization with Marathon's
 * defaults (reference/compat.md §3.3).
 *
 * app_parse works on a deep copy of the input: server-owned fields are removed, known
 * fields are checked (every problem is reported, each under its own path) and given their
 * defaults, unknown fields are left as they are. struct app then points into that copy
 * for env and labels and owns copies of everything else. */
#include "model/app.h"
#include "model/container.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/strbuf.h"

#define APP_MAX_MAP_ENTRIES 1000
#define APP_MAX_MAP_VALUE (64 * 1024)
#define APP_MAX_MAP_KEY 1024
#define APP_MAX_PORTS 1000
#define APP_MAX_ARGS 4096
#define APP_MAX_PORT_NAME 255

static const char *const output_fields[] = {
	"version",	  "versionInfo",	   "tasksStaged",     "tasksRunning",
	"tasksHealthy",	  "tasksUnhealthy",	   "deployments",     "tasks",
	"lastTaskFailure", "readinessCheckResults", "taskStats",	 "tasksStats",
};

void app_double_java(double v, char out[32])
{
	if (isnan(v)) {
		snprintf(out, 32, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(out, 32, v < 0 ? "-Infinity" : "Infinity");
		return;
	}
	if (v == 0) {
		snprintf(out, 32, signbit(v) ? "-0.0" : "0.0");
		return;
	}
	/* Shortest digits that read back as v, then laid out as Double.toString does:
	 * plain decimal with at least one fractional digit for 1e-3 <= |v| < 1e7, else
	 * "d.dddE<exp>". */
	char e[40];
	int p;
	for (p = 0; p < 17; p++) {
		snprintf(e, sizeof(e), "%.*e", p, v);
		if (strtod(e, NULL) == v)
			break;
	}
	char digits[24];
	size_t nd = 0;
	const char *s = e;
	bool neg = *s == '-';
	if (neg)
		s++;
	for (; *s && *s != 'e'; s++)
		if (isdigit((unsigned char)*s) && nd < sizeof(digits) - 1)
			digits[nd++] = *s;
	digits[nd] = '\0';
	int exp = (int)strtol(s + 1, NULL, 10);
	while (nd > 1 && digits[nd - 1] == '0')
		digits[--nd] = '\0';
	struct strbuf sb = STRBUF_INIT;
	if (neg)
		strbuf_addch(&sb, '-');
	double a = fabs(v);
	if (a >= 1e-3 && a < 1e7) {
		if (exp < 0) {
			strbuf_adds(&sb, "0.");
			for (int i = -1; i > exp; i--)
				strbuf_addch(&sb, '0');
			strbuf_adds(&sb, digits);
		} else {
			for (int i = 0; i <= exp; i++)
				strbuf_addch(&sb, (size_t)i < nd ? digits[i] : '0');
			strbuf_addch(&sb, '.');
			if ((size_t)exp + 1 < nd)
				strbuf_adds(&sb, digits + exp + 1);
			else
				strbuf_addch(&sb, '0');
		}
	} else {
		strbuf_addch(&sb, digits[0]);
		strbuf_addch(&sb, '.');
		strbuf_adds(&sb, nd > 1 ? digits + 1 : "0");
		strbuf_addf(&sb, "E%d", exp);
	}
	snprintf(out, 32, "%s", strbuf_str(&sb));
	strbuf_release(&sb);
}

void app_free(struct app *a)
{
	if (!a)
		return;
	free(a->id);
	free(a->cmd);
	if (a->args)
		for (size_t i = 0; i < a->nargs; i++)
			free(a->args[i]);
	free(a->args);
	for (size_t i = 0; i < a->nports; i++) {
		free(a->ports[i].name);
		free(a->ports[i].protocol);
	}
	free(a->ports);
	constraints_free(a->constraints, a->nconstraints);
	health_checks_free(a->health_checks, a->nhealth_checks);
	volumes_free(a->volumes, a->nvolumes);
	free(a->pre_stop);
	readiness_checks_free(a->readiness_checks, a->nreadiness_checks);
	free(a->role);
	free(a->user);
	json_decref(a->json);
	free(a);
}

/* ---- field helpers: each reports under "/<key>" and fills the default ---- */

struct ctx {
	json_t *j;
	struct verr *err;
	bool bad;
};

static void bad(struct ctx *c, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void bad(struct ctx *c, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	verr_add(c->err, path, "%s", msg);
	c->bad = true;
}

/* The value of key, NULL when absent or null (null counts as absent, as in Marathon). */
static json_t *field(struct ctx *c, const char *key)
{
	json_t *v = json_object_get(c->j, key);
	if (v && json_is_null(v)) {
		json_object_del(c->j, key);
		return NULL;
	}
	return v;
}

/* A number field >= min (and <= max when max >= min); def is stored when absent. */
static double number_field(struct ctx *c, const char *key, double def, bool def_integer,
			   double min, double max)
{
	char path[64];
	snprintf(path, sizeof(path), "/%s", key);
	json_t *v = field(c, key);
	if (!v) {
		json_object_set_new(c->j, key, def_integer ? json_integer((json_int_t)def)
							   : json_real(def));
		return def;
	}
	if (!json_is_number(v)) {
		bad(c, path, "error.expected.jsnumber");
		return def;
	}
	double d = json_number_value(v);
	char got[32], lim[32];
	app_double_java(d, got);
	if (!isfinite(d)) {
		bad(c, path, "error.expected.jsnumber");
	} else if (d < min) {
		app_double_java(min, lim);
		bad(c, path, "got %s, expected %s or more", got, lim);
	} else if (max >= min && d > max) {
		app_double_java(max, lim);
		bad(c, path, "got %s, expected %s or less", got, lim);
	}
	return d;
}

/* An integer field in [min, max]. Integral reals (2.0) are accepted and stored as integers. */
static int64_t int_field(struct ctx *c, const char *key, int64_t def, int64_t min, int64_t max)
{
	char path[64];
	snprintf(path, sizeof(path), "/%s", key);
	json_t *v = field(c, key);
	if (!v) {
		json_object_set_new(c->j, key, json_integer(def));
		return def;
	}
	int64_t n;
	if (json_is_integer(v)) {
		n = json_integer_value(v);
	} else if (json_is_real(v) && isfinite(json_real_value(v)) &&
		   floor(json_real_value(v)) == json_real_value(v) &&
		   fabs(json_real_value(v)) < 9e15) {
		n = (int64_t)json_real_value(v);
		json_object_set_new(c->j, key, json_integer(n));
	} else {
		bad(c, path, json_is_number(v) ? "error.expected.int" : "error.expected.jsnumber");
		return def;
	}
	if (n < min)
		bad(c, path, "got %lld, expected %lld or more", (long long)n, (long long)min);
	else if (n > max)
		bad(c, path, "got %lld, expected %lld or less", (long long)n, (long long)max);
	return n;
}

static const char *string_field(struct ctx *c, const char *key, const char *def)
{
	char path[64];
	snprintf(path, sizeof(path), "/%s", key);
	json_t *v = field(c, key);
	if (!v) {
		if (def)
			json_object_set_new(c->j, key, json_string(def));
		return def;
	}
	if (!json_is_string(v)) {
		bad(c, path, "error.expected.jsstring");
		return def;
	}
	return json_string_value(v);
}

/* An array field; defaults to [] when def_empty. Returns NULL on a type error. */
static json_t *array_field(struct ctx *c, const char *key, bool def_empty)
{
	json_t *v = field(c, key);
	if (!v) {
		if (def_empty) {
			v = json_array();
			json_object_set_new(c->j, key, v);
		}
		return v;
	}
	if (!json_is_array(v)) {
		char path[64];
		snprintf(path, sizeof(path), "/%s", key);
		bad(c, path, "error.expected.jsarray");
		return NULL;
	}
	return v;
}

static void string_array_field(struct ctx *c, const char *key, bool def_empty)
{
	json_t *v = array_field(c, key, def_empty);
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e) {
		if (!json_is_string(e)) {
			char path[96];
			snprintf(path, sizeof(path), "/%s/%zu", key, i);
			bad(c, path, "error.expected.jsstring");
		}
	}
}

/* env or labels: an object of strings (env also {"secret": "name"}), bounded. */
static json_t *map_field(struct ctx *c, const char *key, bool allow_secret)
{
	char path[64];
	snprintf(path, sizeof(path), "/%s", key);
	json_t *v = field(c, key);
	if (!v) {
		v = json_object();
		json_object_set_new(c->j, key, v);
		return v;
	}
	if (!json_is_object(v)) {
		bad(c, path, "error.expected.jsobject");
		return NULL;
	}
	if (json_object_size(v) > APP_MAX_MAP_ENTRIES) {
		bad(c, path, "must not have more than %d entries", APP_MAX_MAP_ENTRIES);
		return NULL;
	}
	const char *k;
	json_t *e;
	json_object_foreach(v, k, e) {
		char epath[APP_MAX_MAP_KEY + 80];
		snprintf(epath, sizeof(epath), "/%s/%.*s", key, APP_MAX_MAP_KEY, k);
		if (strlen(k) > APP_MAX_MAP_KEY) {
			bad(c, epath, "key longer than %d characters", APP_MAX_MAP_KEY);
		} else if (json_is_string(e)) {
			if (json_string_length(e) > APP_MAX_MAP_VALUE)
				bad(c, epath, "value longer than %d bytes", APP_MAX_MAP_VALUE);
		} else if (allow_secret && json_is_object(e) &&
			   json_is_string(json_object_get(e, "secret"))) {
			/* a secret reference, resolved elsewhere */
		} else {
			bad(c, epath, "error.expected.jsstring");
		}
	}
	return v;
}

/* ---- the parts with their own rules ---- */

static const char id_regex_msg[] =
	"must fully match regular expression "
	"'^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])"
	"|(\\.|\\.\\.)$'";

/* Every string of the definition with a NUL byte is an error at its path: such a string
 * would be cut at the NUL by C code below (an id "/x\u0000y" read as "/x"). */
static void check_nul(struct ctx *c, const json_t *v, const char *path)
{
	char sub_path[256];
	if (json_is_string(v)) {
		if (memchr(json_string_value(v), '\0', json_string_length(v)))
			bad(c, *path ? path : "/", "must not contain a NUL character");
	} else if (json_is_object(v)) {
		const char *k;
		json_t *e;
		json_object_foreach((json_t *)v, k, e) {
			snprintf(sub_path, sizeof(sub_path), "%s/%s", path, k);
			check_nul(c, e, sub_path);
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e) {
			snprintf(sub_path, sizeof(sub_path), "%s(%zu)", path, i);
			check_nul(c, e, sub_path);
		}
	}
}

static void check_id(struct ctx *c, const char *base_id, struct app *a)
{
	json_t *v = field(c, "id");
	if (!v) {
		bad(c, "/id", "error.path.missing");
		return;
	}
	if (!json_is_string(v)) {
		bad(c, "/id", "error.expected.jsstring");
		return;
	}
	char out[APP_MAX_ID_LEN + 1];
	const char *text = json_string_value(v);
	int r = *text ? app_id_resolve(text, base_id, out, NULL, 0) : -EINVAL;
	switch (r) {
	case 0:
		break;
	case -EINVAL:
		bad(c, "/id", "%s", *text ? id_regex_msg : "must not be empty");
		return;
	case -ERANGE:
		bad(c, "/id", "'%.200s' goes above the root group", text);
		return;
	default:
		bad(c, "/id", "is longer than %d characters", APP_MAX_ID_LEN);
		return;
	}
	if (!strcmp(out, "/")) {
		bad(c, "/id", "path must not be the root group");
		return;
	}
	a->id = xstrdup(out);
	json_object_set_new(c->j, "id", json_string(out));
}

static void check_command(struct ctx *c, struct app *a)
{
	json_t *cmd = field(c, "cmd"), *args = field(c, "args"), *container = field(c, "container");
	bool ok = true;
	if (cmd && !json_is_string(cmd)) {
		bad(c, "/cmd", "error.expected.jsstring");
		ok = false;
	} else if (cmd && json_string_length(cmd) == 0) {
		bad(c, "/cmd", "must not be empty");
		ok = false;
	}
	if (args) {
		if (!json_is_array(args)) {
			bad(c, "/args", "error.expected.jsarray");
			ok = false;
		} else if (json_array_size(args) > APP_MAX_ARGS) {
			bad(c, "/args", "must not have more than %d elements", APP_MAX_ARGS);
			ok = false;
		} else {
			size_t i;
			json_t *e;
			json_array_foreach(args, i, e) {
				if (!json_is_string(e)) {
					char path[64];
					snprintf(path, sizeof(path), "/args/%zu", i);
					bad(c, path, "error.expected.jsstring");
					ok = false;
				}
			}
		}
	}
	if (container && !json_is_object(container)) {
		bad(c, "/container", "error.expected.jsobject");
		ok = false;
	}
	if (cmd && args)
		bad(c, "/", "AppDefinition must contain either 'cmd' or 'args', not both");
	else if (!cmd && !args && !container)
		bad(c, "/",
		    "AppDefinition must either contain one of 'cmd' or 'args', and/or a "
		    "'container'.");
	if (!ok || (cmd && args))
		return;
	if (cmd)
		a->cmd = xstrdup(json_string_value(cmd));
	if (args) {
		a->nargs = json_array_size(args);
		a->args = xcalloc(a->nargs + 1, sizeof(char *));
		for (size_t i = 0; i < a->nargs; i++)
			a->args[i] = xstrdup(json_string_value(json_array_get(args, i)));
	}
}

/* Does the app use host networking (where portDefinitions apply and default to one)? */
static bool host_networking(struct ctx *c)
{
	json_t *nets = json_object_get(c->j, "networks");
	if (json_is_array(nets) && json_array_size(nets) > 0) {
		const char *mode = json_string_value(json_object_get(json_array_get(nets, 0), "mode"));
		if (mode && strcmp(mode, "host"))
			return false;
	}
	json_t *ct = json_object_get(c->j, "container");
	const char *dnet = json_string_value(
		json_object_get(json_object_get(ct, "docker"), "network"));
	if (dnet && (!strcmp(dnet, "BRIDGE") || !strcmp(dnet, "USER")))
		return false;
	if (json_is_array(json_object_get(ct, "portMappings")))
		return false;
	return true;
}

static bool port_name_ok(const char *s)
{
	if (!*s || strlen(s) > APP_MAX_PORT_NAME)
		return false;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-'))
			return false;
	return true;
}

static void check_one_port(struct ctx *c, json_t *pd, size_t i, struct port_def *out)
{
	char path[96];
	snprintf(path, sizeof(path), "/portDefinitions/%zu", i);
	if (!json_is_object(pd)) {
		bad(c, path, "error.expected.jsobject");
		return;
	}
	char sub[128];
	json_t *port = json_object_get(pd, "port");
	json_int_t p = 0;
	snprintf(sub, sizeof(sub), "%s/port", path);
	if (!port || json_is_null(port)) {
		json_object_set_new(pd, "port", json_integer(0));
	} else if (!json_is_integer(port)) {
		bad(c, sub, json_is_number(port) ? "error.expected.int" : "error.expected.jsnumber");
	} else {
		p = json_integer_value(port);
		if (p < 0 || p > 65535) {
			bad(c, sub, "got %lld, expected between 0 and 65535", (long long)p);
			p = 0;
		}
	}
	out->port = (uint32_t)p;

	json_t *proto = json_object_get(pd, "protocol");
	snprintf(sub, sizeof(sub), "%s/protocol", path);
	if (!proto || json_is_null(proto)) {
		json_object_set_new(pd, "protocol", json_string("tcp"));
		out->protocol = xstrdup("tcp");
	} else if (!json_is_string(proto)) {
		bad(c, sub, "error.expected.jsstring");
	} else {
		const char *ps = json_string_value(proto);
		if (strcmp(ps, "tcp") && strcmp(ps, "udp") && strcmp(ps, "udp,tcp"))
			bad(c, sub, "error.expected.validenumvalue: must be one of tcp, udp, udp,tcp");
		else
			out->protocol = xstrdup(ps);
	}

	json_t *name = json_object_get(pd, "name");
	snprintf(sub, sizeof(sub), "%s/name", path);
	if (name && json_is_null(name)) {
		json_object_del(pd, "name");
	} else if (name && !json_is_string(name)) {
		bad(c, sub, "error.expected.jsstring");
	} else if (name) {
		if (!port_name_ok(json_string_value(name)))
			bad(c, sub, "must fully match regular expression '^[a-z0-9-]+$'");
		else
			out->name = xstrdup(json_string_value(name));
	}

	json_t *labels = json_object_get(pd, "labels");
	snprintf(sub, sizeof(sub), "%s/labels", path);
	if (labels && !json_is_null(labels)) {
		if (!json_is_object(labels)) {
			bad(c, sub, "error.expected.jsobject");
		} else {
			const char *k;
			json_t *e;
			json_object_foreach(labels, k, e) {
				if (!json_is_string(e)) {
					bad(c, sub, "error.expected.jsstring");
					break;
				}
			}
		}
	}
}

static void check_ports(struct ctx *c, struct app *a)
{
	json_t *ports = field(c, "ports"), *defs = field(c, "portDefinitions");
	if (ports && defs) {
		bad(c, "/", "You cannot specify both ports and port definitions");
		return;
	}
	if (ports) {
		/* The deprecated form: plain numbers, turned into portDefinitions. */
		if (!json_is_array(ports)) {
			bad(c, "/ports", "error.expected.jsarray");
			return;
		}
		defs = json_array();
		size_t i;
		json_t *e;
		json_array_foreach(ports, i, e) {
			if (!json_is_integer(e)) {
				char path[64];
				snprintf(path, sizeof(path), "/ports/%zu", i);
				bad(c, path, "error.expected.jsnumber");
				continue;
			}
			json_array_append_new(defs, json_pack("{s:O}", "port", e));
		}
		json_object_set_new(c->j, "portDefinitions", defs);
		json_object_del(c->j, "ports");
	} else if (!defs) {
		defs = host_networking(c)
			       ? json_pack("[{s:i, s:s, s:s}]", "port", 0, "name", "default",
					   "protocol", "tcp")
			       : json_array();
		json_object_set_new(c->j, "portDefinitions", defs);
	} else if (!json_is_array(defs)) {
		bad(c, "/portDefinitions", "error.expected.jsarray");
		return;
	}
	size_t n = json_array_size(defs);
	if (n > APP_MAX_PORTS) {
		bad(c, "/portDefinitions", "must not have more than %d elements", APP_MAX_PORTS);
		return;
	}
	a->ports = n ? xcalloc(n, sizeof(*a->ports)) : NULL;
	a->nports = n;
	for (size_t i = 0; i < n; i++)
		check_one_port(c, json_array_get(defs, i), i, &a->ports[i]);
	bool dup_name = false, dup_port = false;
	for (size_t i = 0; i < n; i++)
		for (size_t k = i + 1; k < n; k++) {
			if (a->ports[i].name && a->ports[k].name &&
			    !strcmp(a->ports[i].name, a->ports[k].name))
				dup_name = true;
			if (a->ports[i].port && a->ports[i].port == a->ports[k].port)
				dup_port = true;
		}
	if (dup_name)
		bad(c, "/portDefinitions", "Port names must be unique.");
	if (dup_port)
		bad(c, "/portDefinitions", "Ports must be unique.");

	if (n == 0) /* BRIDGE: the container's port mappings are the app's ports */
		a->nports = container_port_defs(c->j, &a->ports);
	json_t *rp = field(c, "requirePorts");
	if (!rp) {
		json_object_set_new(c->j, "requirePorts", json_false());
	} else if (!json_is_boolean(rp)) {
		bad(c, "/requirePorts", "error.expected.jsboolean");
	} else {
		a->require_ports = json_is_true(rp);
	}
	if (a->require_ports)
		for (size_t i = 0; i < n; i++)
			if (a->ports[i].port == 0 && json_is_object(json_array_get(defs, i))) {
				char path[96];
				snprintf(path, sizeof(path), "/portDefinitions/%zu/port", i);
				bad(c, path, "must be non-zero when requirePorts is true");
			}
}

static void check_fraction(struct ctx *c, json_t *obj, const char *key, const char *parent,
			   double def)
{
	char path[96];
	snprintf(path, sizeof(path), "/%s/%s", parent, key);
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v)) {
		json_object_set_new(obj, key, json_real(def));
		return;
	}
	if (!json_is_number(v)) {
		bad(c, path, "error.expected.jsnumber");
		return;
	}
	double d = json_number_value(v);
	if (d < 0)
		bad(c, path, "is less than 0");
	else if (d > 1)
		bad(c, path, "is greater than 1");
}

static void check_upgrade_strategy(struct ctx *c, bool stateful)
{
	json_t *u = field(c, "upgradeStrategy");
	if (!u) {
		u = json_object();
		json_object_set_new(c->j, "upgradeStrategy", u);
	} else if (!json_is_object(u)) {
		bad(c, "/upgradeStrategy", "error.expected.jsobject");
		return;
	}
	check_fraction(c, u, "minimumHealthCapacity", "upgradeStrategy", stateful ? 0.5 : 1.0);
	check_fraction(c, u, "maximumOverCapacity", "upgradeStrategy", stateful ? 0.0 : 1.0);
	if (stateful) {
		/* One instance at a time, never two on one volume (Marathon's resident rule). */
		json_t *mn = json_object_get(u, "minimumHealthCapacity");
		json_t *mx = json_object_get(u, "maximumOverCapacity");
		if (json_is_number(mn) && json_number_value(mn) > 0.5)
			bad(c, "/upgradeStrategy/minimumHealthCapacity",
			    "must be at most 0.5 for an app with volumes");
		if (json_is_number(mx) && json_number_value(mx) > 0)
			bad(c, "/upgradeStrategy/maximumOverCapacity",
			    "must be 0 for an app with volumes");
	}
	/* 1 with 0 is valid, as in Marathon: the replacement goes one over (compat.md §10.6). */
}

/* berth's extension: "preStop": {"command": "...", "timeoutSeconds": 30}, run in the task's
 * environment before it is stopped for a scale-down or an upgrade. */
static void check_pre_stop(struct ctx *c, struct app *a)
{
	json_t *p = field(c, "preStop");
	if (!p)
		return;
	json_t *cmd = json_object_get(p, "command");
	if (!json_is_object(p) || !json_is_string(cmd) || !json_string_length(cmd) ||
	    json_string_length(cmd) > 65536) {
		bad(c, "/preStop/command", "must be a non-empty command string");
		return;
	}
	json_t *t = json_object_get(p, "timeoutSeconds");
	double to = 30;
	if (t && !json_is_null(t)) {
		if (!json_is_number(t) || json_number_value(t) <= 0 || json_number_value(t) > 3600) {
			bad(c, "/preStop/timeoutSeconds", "must be a number of seconds from 1 to 3600");
			return;
		}
		to = json_number_value(t);
	} else {
		json_object_set_new(p, "timeoutSeconds", json_integer(30));
	}
	a->pre_stop = xstrdup(json_string_value(cmd));
	a->pre_stop_timeout = to;
}

/* dependencies: app ids, made absolute (relative ones resolve against the app's group). */
static void check_dependencies(struct ctx *c, struct app *a)
{
	json_t *deps = json_object_get(c->j, "dependencies");
	if (!json_is_array(deps) || !a->id)
		return;
	char group[APP_MAX_ID_LEN + 1];
	snprintf(group, sizeof(group), "%s", a->id);
	char *slash = strrchr(group, '/');
	if (slash)
		slash[slash == group ? 1 : 0] = '\0';
	size_t i;
	json_t *d;
	json_array_foreach(deps, i, d) {
		char path[64], id[APP_MAX_ID_LEN + 1], msg[256];
		snprintf(path, sizeof(path), "/dependencies/%zu", i);
		if (!json_is_string(d))
			continue;
		if (app_id_canonical(json_string_value(d), group, id, msg, sizeof(msg)) < 0) {
			bad(c, path, "%s", msg);
			continue;
		}
		if (!strcmp(id, a->id)) {
			bad(c, path, "an app cannot depend on itself");
			continue;
		}
		json_array_set_new(deps, i, json_string(id));
	}
	a->dependencies = deps;
}

static double seconds_in(struct ctx *c, json_t *obj, const char *key, bool *ok)
{
	char path[96];
	snprintf(path, sizeof(path), "/unreachableStrategy/%s", key);
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v)) {
		json_object_set_new(obj, key, json_integer(0));
		return 0;
	}
	if (!json_is_number(v)) {
		bad(c, path, "error.expected.jsnumber");
		*ok = false;
		return 0;
	}
	double d = json_number_value(v);
	if (d < 0) {
		bad(c, path, "got %lld, expected 0 or more", (long long)d);
		*ok = false;
	}
	return d;
}

static void check_unreachable_strategy(struct ctx *c, bool stateful)
{
	json_t *u = field(c, "unreachableStrategy");
	if (!u && stateful) {
		json_object_set_new(c->j, "unreachableStrategy", json_string("disabled"));
		return;
	}
	if (u && stateful && !json_is_string(u)) {
		bad(c, "/unreachableStrategy", "must be \"disabled\" for an app with volumes");
		return;
	}
	if (!u) {
		json_object_set_new(c->j, "unreachableStrategy",
				    json_pack("{s:i, s:i}", "inactiveAfterSeconds", 0,
					      "expungeAfterSeconds", 0));
		return;
	}
	if (json_is_string(u)) {
		if (strcmp(json_string_value(u), "disabled"))
			bad(c, "/unreachableStrategy",
			    "must be \"disabled\" or an object {inactiveAfterSeconds, "
			    "expungeAfterSeconds}");
		return;
	}
	if (!json_is_object(u)) {
		bad(c, "/unreachableStrategy", "error.expected.jsobject");
		return;
	}
	bool ok = true;
	double inactive = seconds_in(c, u, "inactiveAfterSeconds", &ok);
	double expunge = seconds_in(c, u, "expungeAfterSeconds", &ok);
	if (ok && inactive > expunge)
		bad(c, "/unreachableStrategy",
		    "inactiveAfterSeconds (%lld) must be less or equal to expungeAfterSeconds "
		    "(%lld)",
		    (long long)inactive, (long long)expunge);
}

static void check_kill_selection(struct ctx *c, struct app *a)
{
	const char *ks = string_field(c, "killSelection", "YOUNGEST_FIRST");
	if (!ks)
		return;
	if (!strcmp(ks, "YOUNGEST_FIRST"))
		a->kill_selection = KILL_YOUNGEST_FIRST;
	else if (!strcmp(ks, "OLDEST_FIRST"))
		a->kill_selection = KILL_OLDEST_FIRST;
	else
		bad(c, "/killSelection",
		    "error.expected.validenumvalue: must be one of YOUNGEST_FIRST, OLDEST_FIRST");
}

static void check_object_field(struct ctx *c, const char *key)
{
	json_t *v = field(c, key);
	if (v && !json_is_object(v)) {
		char path[64];
		snprintf(path, sizeof(path), "/%s", key);
		bad(c, path, "error.expected.jsobject");
	}
}

int app_parse(const json_t *in, const char *base_id, struct verr *err, struct app **out)
{
	*out = NULL;
	if (!json_is_object(in)) {
		verr_add(err, "/", "error.expected.jsobject");
		return -EINVAL;
	}
	struct app *a = xcalloc(1, sizeof(*a));
	struct ctx c = { .j = json_deep_copy(in), .err = err };
	a->json = c.j;
	for (size_t i = 0; i < ARRAY_SIZE(output_fields); i++)
		json_object_del(c.j, output_fields[i]);

	check_nul(&c, c.j, "");
	check_id(&c, base_id, a);
	check_command(&c, a);
	a->cpus = number_field(&c, "cpus", 1, false, 0.001, -1);
	a->mem = number_field(&c, "mem", 128, false, 0, -1);
	a->disk = number_field(&c, "disk", 0, false, 0, -1);
	a->gpus = (double)int_field(&c, "gpus", 0, 0, 1000000);
	a->instances = int_field(&c, "instances", 1, 0, APP_MAX_INSTANCES);
	a->env = map_field(&c, "env", true);
	a->labels = map_field(&c, "labels", false);
	if (container_check(c.j, err) < 0)
		c.bad = true;
	check_ports(&c, a);

	json_t *cons = field(&c, "constraints");
	if (!cons)
		json_object_set_new(c.j, "constraints", json_array());
	else if (constraints_parse(cons, "/constraints", err, &a->constraints,
				   &a->nconstraints) < 0)
		c.bad = true;

	a->backoff_seconds = number_field(&c, "backoffSeconds", 1, true, 0, -1);
	a->backoff_factor = number_field(&c, "backoffFactor", 1.15, false, 1.0, -1);
	a->max_launch_delay_seconds = number_field(&c, "maxLaunchDelaySeconds", 300, true, 0, -1);
	a->kill_grace_seconds = 3;
	if (field(&c, "taskKillGracePeriodSeconds"))
		a->kill_grace_seconds =
			number_field(&c, "taskKillGracePeriodSeconds", 3, true, 0,
				     APP_MAX_KILL_GRACE_SEC);
	check_kill_selection(&c, a);

	const char *role = string_field(&c, "role", "*");
	if (role && !*role)
		bad(&c, "/role", "must not be empty");
	a->role = xstrdup(role && *role ? role : "*");
	const char *user = string_field(&c, "user", NULL);
	a->user = user ? xstrdup(user) : NULL;

	if (volumes_parse(c.j, (long long)a->instances, err, &a->volumes, &a->nvolumes) < 0)
		c.bad = true;
	for (size_t i = 0; i < a->nvolumes; i++) {
		if (a->volumes[i].type == VOL_PERSISTENT)
			a->resident = true;
		if (a->volumes[i].type == VOL_PERSISTENT || !a->volumes[i].shared)
			a->stateful = true;
	}
	check_pre_stop(&c, a);
	check_upgrade_strategy(&c, a->stateful);
	check_unreachable_strategy(&c, a->stateful);
	array_field(&c, "healthChecks", true);
	if (health_checks_parse(field(&c, "healthChecks"), a->nports, err, &a->health_checks,
				&a->nhealth_checks) < 0)
		c.bad = true;
	json_t *rc = field(&c, "readinessChecks");
	if (rc) {
		const char **names = xcalloc(a->nports + 1, sizeof(*names));
		for (size_t i = 0; i < a->nports; i++)
			names[i] = a->ports[i].name;
		if (readiness_checks_parse(rc, names, a->nports, err, &a->readiness_checks,
					   &a->nreadiness_checks) < 0)
			c.bad = true;
		free(names);
	}
	json_t *us = json_object_get(c.j, "upgradeStrategy");
	a->min_health_capacity = json_number_value(json_object_get(us, "minimumHealthCapacity"));
	a->max_over_capacity = json_number_value(json_object_get(us, "maximumOverCapacity"));
	string_array_field(&c, "dependencies", true);
	check_dependencies(&c, a);
	string_field(&c, "executor", "");
	array_field(&c, "fetch", false);
	string_array_field(&c, "uris", false);
	string_array_field(&c, "acceptedResourceRoles", false);
	json_t *acc = json_object_get(c.j, "acceptedResourceRoles");
	size_t ai;
	json_t *ar;
	json_array_foreach(acc, ai, ar) {
		const char *rs = json_string_value(ar);
		if (rs && strcmp(rs, "*") && strcmp(rs, a->role)) {
			char path[64];
			snprintf(path, sizeof(path), "/acceptedResourceRoles/%zu", ai);
			bad(&c, path, "may only hold '*' and the app's role '%s', not '%s'", a->role, rs);
		}
	}
	check_object_field(&c, "secrets");
	if (app_secrets_check(c.j, err) < 0)
		c.bad = true;
	if (!c.bad && app_berth_labels(a, err) < 0)
		c.bad = true;

	if (c.bad) {
		app_free(a);
		return -EINVAL;
	}
	*out = a;
	return 0;
}
