/* Marathon pod definitions: validation and normalisation (pod.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "model/app.h"
#include "model/constraints.h"
#include "model/pod.h"

/* name.raml: ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$, at most 63 bytes. */
static bool name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (!n || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

/* A path relative to the sandbox that stays inside it. */
static bool rel_path_ok(const char *s)
{
	if (!s || !*s || *s == '/' || strlen(s) > 255)
		return false;
	const char *c = s;
	while (*c) {
		const char *e = strchr(c, '/');
		size_t n = e ? (size_t)(e - c) : strlen(c);
		if (n == 2 && c[0] == '.' && c[1] == '.')
			return false;
		c += n;
		while (*c == '/')
			c++;
	}
	return true;
}

static void str_map(const json_t *v, const char *path, struct verr *err, bool env)
{
	if (!v)
		return;
	if (!json_is_object(v)) {
		verr_add(err, path, "error.expected.jsobject");
		return;
	}
	const char *k;
	json_t *x;
	json_object_foreach((json_t *)v, k, x) {
		if (!json_is_string(x)) {
			char p[400];
			snprintf(p, sizeof(p), "%s/%s", path, k);
			if (env && json_is_object(x) && json_object_get(x, "secret"))
				verr_add(err, "/secrets", "Feature secrets is not enabled. Enable with "
							  "--enable_features secrets)");
			else
				verr_add(err, p, "error.expected.jsstring");
		}
		if (env && (!*k || strchr(k, '='))) {
			char p[400];
			snprintf(p, sizeof(p), "%s/%s", path, k);
			verr_add(err, p, "must be a valid environment variable name");
		}
	}
}

/* A number field of obj: def when absent, min..max checked. Writes it into out. */
static void num(json_t *out, const json_t *obj, const char *key, double def, double min,
		double max, bool integer, const char *path, struct verr *err)
{
	const json_t *v = json_object_get(obj, key);
	double d = def;
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", path, key);
	if (v && !json_is_number(v)) {
		verr_add(err, p, "error.expected.jsnumber");
	} else if (v) {
		d = json_number_value(v);
		if (integer && d != floor(d))
			verr_add(err, p, "error.expected.int");
		else if (!isfinite(d) || d < min)
			verr_add(err, p, "got %g, expected %g or more", d, min);
		else if (d > max)
			verr_add(err, p, "got %g, expected %g or less", d, max);
	}
	json_object_set_new(out, key, integer ? json_integer((json_int_t)d) : json_real(d));
}

static json_t *resources(const json_t *r, const char *path, struct verr *err)
{
	json_t *o = json_object();
	if (r && !json_is_object(r)) {
		verr_add(err, path, "error.expected.jsobject");
		r = NULL;
	}
	num(o, r, "cpus", 1.0, 0.001, 1e6, false, path, err);
	num(o, r, "mem", 128.0, 0.001, 1e9, false, path, err);
	num(o, r, "disk", 0.0, 0.0, 1e12, false, path, err);
	num(o, r, "gpus", 0, 0, 1e6, true, path, err);
	return o;
}

static json_t *endpoints(const json_t *eps, const char *path, json_t *seen, struct verr *err)
{
	json_t *out = json_array();
	if (eps && (!json_is_array(eps) || json_array_size(eps) > POD_MAX_ENDPOINTS)) {
		verr_add(err, path, "must be an array of at most %d endpoints", POD_MAX_ENDPOINTS);
		return out;
	}
	size_t i;
	const json_t *e;
	json_array_foreach(eps, i, e) {
		char p[200];
		snprintf(p, sizeof(p), "%s(%zu)", path, i);
		const char *name = json_string_value(json_object_get(e, "name"));
		char pn[240];
		snprintf(pn, sizeof(pn), "%s/name", p);
		if (!name_ok(name)) {
			verr_add(err, pn, "must contain only alphanumeric chars or hyphens, and must "
					  "begin with a letter");
			continue;
		}
		if (json_object_get(seen, name))
			verr_add(err, pn, "endpoint names must be unique");
		json_object_set_new(seen, name, json_true());
		json_t *o = json_pack("{s:s}", "name", name);
		const json_t *cp = json_object_get(e, "containerPort");
		if (cp)
			num(o, e, "containerPort", 0, 0, 65535, true, p, err);
		num(o, e, "hostPort", 0, 0, 65535, true, p, err);
		const json_t *proto = json_object_get(e, "protocol");
		if (proto) {
			size_t k;
			const json_t *x;
			bool ok = json_is_array(proto) && json_array_size(proto) <= 2;
			json_array_foreach(proto, k, x)
				ok = ok && json_is_string(x) &&
				     (!strcmp(json_string_value(x), "tcp") ||
				      !strcmp(json_string_value(x), "udp"));
			if (!ok)
				verr_add(err, p, "protocol must be a list of tcp and udp");
			json_object_set_new(o, "protocol", json_deep_copy(proto));
		} else {
			json_object_set_new(o, "protocol", json_pack("[s]", "tcp"));
		}
		if (json_object_get(e, "labels")) {
			char pl[240];
			snprintf(pl, sizeof(pl), "%s/labels", p);
			str_map(json_object_get(e, "labels"), pl, err, false);
			json_object_set_new(o, "labels", json_deep_copy(json_object_get(e, "labels")));
		}
		json_array_append_new(out, o);
	}
	return out;
}

/* MesosCommand: {"shell": "..."} or {"argv": ["..", ..]}. */
static void exec_check(const json_t *ex, const char *path, struct verr *err)
{
	const json_t *c = json_object_get(ex, "command");
	const json_t *sh = json_object_get(c, "shell"), *argv = json_object_get(c, "argv");
	char p[160];
	snprintf(p, sizeof(p), "%s/exec/command", path);
	if (!ex) {
		snprintf(p, sizeof(p), "%s/exec", path);
		verr_add(err, p, "is required: berth runs a pod's containers by their command "
				 "(container images are not supported for pods)");
	} else if (!json_is_object(c) || (!sh && !argv) || (sh && argv)) {
		verr_add(err, p, "must have exactly one of 'shell' or 'argv'");
	} else if (sh && (!json_is_string(sh) || !*json_string_value(sh))) {
		verr_add(err, p, "'shell' must be a non-empty string");
	} else if (argv) {
		bool ok = json_is_array(argv) && json_array_size(argv) > 0 &&
			  json_array_size(argv) <= 4096;
		size_t i;
		const json_t *a;
		json_array_foreach(argv, i, a)
			ok = ok && json_is_string(a);
		if (!ok)
			verr_add(err, p, "'argv' must be a non-empty array of strings");
	}
}

/* A container's healthCheck (RAML podHealthCheck): exactly one of http {endpoint, path},
 * tcp {endpoint} (an endpoint of this container: its host port is checked) or exec
 * {command {shell|argv}}; the timing with Marathon's defaults. Normalised into o. */
static void health_check(json_t *o, const json_t *c, const char *path, struct verr *err)
{
	const json_t *hc = json_object_get(c, "healthCheck");
	if (!hc || json_is_null(hc))
		return;
	char p[200];
	snprintf(p, sizeof(p), "%s/healthCheck", path);
	if (!json_is_object(hc)) {
		verr_add(err, p, "error.expected.jsobject");
		return;
	}
	const json_t *http = json_object_get(hc, "http"), *tcp = json_object_get(hc, "tcp"),
		     *ex = json_object_get(hc, "exec");
	if (!!http + !!tcp + !!ex != 1) {
		verr_add(err, p, "must have exactly one of 'http', 'tcp' or 'exec'");
		return;
	}
	json_t *h = json_object();
	const json_t *ep = http ? http : tcp;
	if (ep) {
		const char *name = json_string_value(json_object_get(ep, "endpoint"));
		bool found = false;
		size_t i;
		const json_t *e;
		json_array_foreach(json_object_get(c, "endpoints"), i, e)
			found = found || (name && json_is_string(json_object_get(e, "name")) &&
					  !strcmp(name, json_string_value(json_object_get(e, "name"))));
		char pe[240];
		snprintf(pe, sizeof(pe), "%s/%s/endpoint", p, http ? "http" : "tcp");
		if (!found)
			verr_add(err, pe, "must name an endpoint of the container");
		const char *scheme = json_string_value(json_object_get(http, "scheme"));
		if (http && json_object_get(http, "scheme") && (!scheme || strcmp(scheme, "HTTP")))
			verr_add(err, pe, "only the scheme HTTP is supported for pods by berth");
		const json_t *hp = json_object_get(http, "path");
		if (hp && (!json_is_string(hp) || json_string_value(hp)[0] != '/'))
			verr_add(err, pe, "'path' must be a string starting with '/'");
		json_t *eo = json_pack("{s:s?}", "endpoint", name);
		if (http)
			json_object_set_new(eo, "path", hp ? json_incref((json_t *)hp)
							   : json_string("/"));
		json_object_set_new(h, http ? "http" : "tcp", eo);
	} else {
		const json_t *cmd = json_object_get(ex, "command");
		const json_t *sh = json_object_get(cmd, "shell"), *argv = json_object_get(cmd, "argv");
		bool ok = json_is_object(cmd) && !!sh + !!argv == 1 &&
			  (!sh || (json_is_string(sh) && *json_string_value(sh))) &&
			  (!argv || (json_is_array(argv) && json_array_size(argv) > 0));
		size_t i;
		const json_t *a;
		json_array_foreach(argv, i, a)
			ok = ok && json_is_string(a);
		char pe[240];
		snprintf(pe, sizeof(pe), "%s/exec/command", p);
		if (!ok)
			verr_add(err, pe, "must have exactly one of 'shell' (a non-empty string) or "
					  "'argv' (strings)");
		json_object_set_new(h, "exec", json_deep_copy(ex));
	}
	num(h, hc, "gracePeriodSeconds", 300, 0, 86400 * 365, true, p, err);
	num(h, hc, "intervalSeconds", 60, 1, 86400, true, p, err);
	num(h, hc, "maxConsecutiveFailures", 3, 0, 1000000, true, p, err);
	num(h, hc, "timeoutSeconds", 20, 1, 86400, true, p, err);
	num(h, hc, "delaySeconds", 15, 0, 86400, true, p, err);
	json_object_set_new(o, "healthCheck", h);
}

static json_t *container(const json_t *c, size_t i, const json_t *vols, json_t *names,
			 json_t *epnames, struct verr *err)
{
	char path[64];
	snprintf(path, sizeof(path), "/containers(%zu)", i);
	json_t *o = json_is_object(c) ? json_deep_copy(c) : json_object();
	if (!json_is_object(c)) {
		verr_add(err, path, "error.expected.jsobject");
		return o;
	}
	const char *name = json_string_value(json_object_get(c, "name"));
	char p[150];
	snprintf(p, sizeof(p), "%s/name", path);
	if (!name_ok(name))
		verr_add(err, p, "must contain only alphanumeric chars or hyphens, and must begin "
				 "with a letter");
	else if (json_object_get(names, name))
		verr_add(err, "/containers", "container names are not unique");
	else
		json_object_set_new(names, name, json_true());
	snprintf(p, sizeof(p), "%s/resources", path);
	json_object_set_new(o, "resources", resources(json_object_get(c, "resources"), p, err));
	exec_check(json_object_get(c, "exec"), path, err);
	if (json_object_get(c, "image")) {
		snprintf(p, sizeof(p), "%s/image", path);
		verr_add(err, p, "container images are not supported for pods by berth (the "
				 "default executor runs commands)");
	}
	if (json_array_size(json_object_get(c, "artifacts"))) {
		snprintf(p, sizeof(p), "%s/artifacts", path);
		verr_add(err, p, "artifacts are not supported for pods by berth");
	}
	snprintf(p, sizeof(p), "%s/endpoints", path);
	json_object_set_new(o, "endpoints", endpoints(json_object_get(c, "endpoints"), p, epnames,
						       err));
	snprintf(p, sizeof(p), "%s/environment", path);
	str_map(json_object_get(c, "environment"), p, err, true);
	snprintf(p, sizeof(p), "%s/labels", path);
	str_map(json_object_get(c, "labels"), p, err, false);
	const json_t *mounts = json_object_get(c, "volumeMounts");
	if (mounts && !json_is_array(mounts)) {
		snprintf(p, sizeof(p), "%s/volumeMounts", path);
		verr_add(err, p, "error.expected.jsarray");
	}
	size_t k;
	const json_t *vm;
	json_array_foreach(mounts, k, vm) {
		const char *vn = json_string_value(json_object_get(vm, "name"));
		const char *mp = json_string_value(json_object_get(vm, "mountPath"));
		bool found = false;
		size_t j;
		const json_t *v;
		json_array_foreach(vols, j, v)
			found = found || (vn && json_is_string(json_object_get(v, "name")) &&
					  !strcmp(vn, json_string_value(json_object_get(v, "name"))));
		snprintf(p, sizeof(p), "%s/volumeMounts(%zu)/name", path, k);
		if (!found)
			verr_add(err, p, "volume mounts must reference a volume of the pod");
		snprintf(p, sizeof(p), "%s/volumeMounts(%zu)/mountPath", path, k);
		if (!rel_path_ok(mp))
			verr_add(err, p, "must be a relative path inside the container's sandbox "
					 "(berth's default executor has no mount namespace)");
	}
	const json_t *lc = json_object_get(c, "lifecycle");
	if (lc) {
		snprintf(p, sizeof(p), "%s/lifecycle", path);
		json_t *l = json_object();
		num(l, lc, "killGracePeriodSeconds", 3.0, 0, 86400, false, p, err);
		json_object_set_new(o, "lifecycle", l);
	}
	health_check(o, c, path, err);
	const json_t *user = json_object_get(c, "user");
	if (user && !json_is_string(user)) {
		snprintf(p, sizeof(p), "%s/user", path);
		verr_add(err, p, "error.expected.jsstring");
	}
	return o;
}

json_t *pod_constraints_json(const json_t *pod)
{
	const json_t *cs = json_object_get(
		json_object_get(json_object_get(pod, "scheduling"), "placement"), "constraints");
	json_t *out = json_array();
	size_t i;
	const json_t *c;
	json_array_foreach(cs, i, c) {
		json_t *one = json_array();
		const json_t *f = json_object_get(c, "fieldName"), *op = json_object_get(c, "operator"),
			     *v = json_object_get(c, "value");
		json_array_append_new(one, f ? json_incref((json_t *)f) : json_null());
		json_array_append_new(one, op ? json_incref((json_t *)op) : json_null());
		if (v && !json_is_null(v))
			json_array_append_new(one, json_incref((json_t *)v));
		json_array_append_new(out, one);
	}
	return out;
}

/* scheduling.placement: Marathon's pod form, {"constraints":[{"fieldName","operator",
 * "value"?}],"acceptedResourceRoles":[…]}; the constraints as apps' (model/constraints.h). */
static void placement(const json_t *s, struct verr *err)
{
	const json_t *pl = json_object_get(s, "placement");
	if (!pl || json_is_null(pl))
		return;
	if (!json_is_object(pl)) {
		verr_add(err, "/scheduling/placement", "error.expected.jsobject");
		return;
	}
	const json_t *cs = json_object_get(pl, "constraints");
	if (cs && !json_is_null(cs)) {
		if (!json_is_array(cs)) {
			verr_add(err, "/scheduling/placement/constraints", "error.expected.jsarray");
		} else {
			bool shape = true;
			size_t i;
			const json_t *c;
			json_array_foreach(cs, i, c) {
				char p[96];
				snprintf(p, sizeof(p), "/scheduling/placement/constraints(%zu)", i);
				const json_t *v = json_object_get(c, "value");
				if (!json_is_object(c)) {
					verr_add(err, p, "error.expected.jsobject");
					shape = false;
				} else if (!json_is_string(json_object_get(c, "fieldName")) ||
					   !json_is_string(json_object_get(c, "operator"))) {
					verr_add(err, p, "a constraint needs a string 'fieldName' and "
							 "'operator'");
					shape = false;
				} else if (v && !json_is_null(v) && !json_is_string(v)) {
					verr_add(err, p, "'value' must be a string");
					shape = false;
				}
			}
			if (shape) {
				json_t *wrap = json_pack("{s:{s:{s:O}}}", "scheduling", "placement",
							 "constraints", cs);
				json_t *arr = pod_constraints_json(wrap);
				json_decref(wrap);
				struct constraint *parsed;
				size_t n;
				if (constraints_parse(arr, "/scheduling/placement/constraints", err,
						      &parsed, &n) == 0)
					constraints_free(parsed, n);
				json_decref(arr);
			}
		}
	}
	const json_t *acc = json_object_get(pl, "acceptedResourceRoles");
	if (acc && !json_is_null(acc)) {
		bool ok = json_is_array(acc);
		size_t i;
		const json_t *r;
		json_array_foreach(acc, i, r)
			ok = ok && json_is_string(r) && *json_string_value(r);
		if (!ok)
			verr_add(err, "/scheduling/placement/acceptedResourceRoles",
				 "must be an array of role names");
	}
}

static json_t *scheduling(const json_t *s, struct verr *err)
{
	placement(s, err);
	json_t *o = json_is_object(s) ? json_deep_copy(s) : json_object();
	if (s && !json_is_object(s))
		verr_add(err, "/scheduling", "error.expected.jsobject");
	const json_t *b = json_object_get(s, "backoff");
	json_t *bo = json_object();
	num(bo, b, "backoff", 1.0, 0, 1e9, false, "/scheduling/backoff", err);
	num(bo, b, "backoffFactor", 1.15, 0, 1e9, false, "/scheduling/backoff", err);
	num(bo, b, "maxLaunchDelay", 3600.0, 0, 1e9, false, "/scheduling/backoff", err);
	json_object_set_new(o, "backoff", bo);
	const json_t *u = json_object_get(s, "upgrade");
	json_t *uo = json_object();
	num(uo, u, "minimumHealthCapacity", 1.0, 0, 1, false, "/scheduling/upgrade", err);
	num(uo, u, "maximumOverCapacity", 1.0, 0, 1, false, "/scheduling/upgrade", err);
	json_object_set_new(o, "upgrade", uo);
	const char *ks = json_string_value(json_object_get(s, "killSelection"));
	if (json_object_get(s, "killSelection") &&
	    (!ks || (strcmp(ks, "YOUNGEST_FIRST") && strcmp(ks, "OLDEST_FIRST"))))
		verr_add(err, "/scheduling/killSelection", "must be YOUNGEST_FIRST or OLDEST_FIRST");
	if (!ks)
		json_object_set_new(o, "killSelection", json_string("YOUNGEST_FIRST"));
	if (!json_object_get(s, "unreachableStrategy"))
		json_object_set_new(o, "unreachableStrategy",
				    json_pack("{s:i, s:i}", "inactiveAfterSeconds", 0,
					      "expungeAfterSeconds", 0));
	return o;
}

int pod_parse(const json_t *in, const char *base_id, struct verr *err, json_t **out)
{
	*out = NULL;
	if (!json_is_object(in)) {
		verr_add(err, "/", "error.expected.jsobject");
		return -EINVAL;
	}
	json_t *o = json_deep_copy(in);
	json_object_del(o, "version");
	char id[APP_MAX_ID_LEN + 1], msg[256];
	const char *text = json_string_value(json_object_get(in, "id"));
	if (!text)
		verr_add(err, "/id", "error.path.missing");
	else if (app_id_canonical(text, base_id ? base_id : "/", id, msg, sizeof(msg)) < 0)
		verr_add(err, "/id", "%s", msg);
	else if (!strcmp(id, "/"))
		verr_add(err, "/id", "Path must contain at least one path element");
	else
		json_object_set_new(o, "id", json_string(id));
	const json_t *vols = json_object_get(in, "volumes");
	if (vols && !json_is_array(vols))
		verr_add(err, "/volumes", "error.expected.jsarray");
	size_t i;
	const json_t *v;
	json_t *vnames = json_object();
	json_array_foreach(vols, i, v) {
		char p[64];
		snprintf(p, sizeof(p), "/volumes(%zu)", i);
		const char *vn = json_string_value(json_object_get(v, "name"));
		if (!name_ok(vn))
			verr_add(err, p, "a volume needs a 'name' (alphanumeric chars or hyphens)");
		else if (json_object_get(vnames, vn))
			verr_add(err, "/volumes", "volume names are unique");
		else
			json_object_set_new(vnames, vn, json_true());
		if (json_object_get(v, "host") || json_object_get(v, "secret") ||
		    json_object_get(v, "persistent"))
			verr_add(err, p, "only ephemeral volumes ({\"name\"}) are supported for pods "
					 "by berth");
	}
	json_decref(vnames);
	const json_t *cs = json_object_get(in, "containers");
	json_t *outc = json_array();
	if (!json_is_array(cs) || !json_array_size(cs)) {
		verr_add(err, "/containers", "must not be empty");
	} else if (json_array_size(cs) > POD_MAX_CONTAINERS) {
		verr_add(err, "/containers", "at most %d containers", POD_MAX_CONTAINERS);
	} else {
		json_t *names = json_object(), *epnames = json_object();
		const json_t *c;
		json_array_foreach(cs, i, c)
			json_array_append_new(outc, container(c, i, vols, names, epnames, err));
		json_decref(names);
		json_decref(epnames);
	}
	json_object_set_new(o, "containers", outc);
	const json_t *nets = json_object_get(in, "networks");
	if (nets) {
		bool ok = json_is_array(nets) && json_array_size(nets) == 1;
		const char *mode = json_string_value(
			json_object_get(json_array_get(nets, 0), "mode"));
		if (!ok || !mode || strcmp(mode, "host"))
			verr_add(err, "/networks", "berth runs pods on the host's network only: "
						   "[{\"mode\": \"host\"}]");
	} else {
		json_object_set_new(o, "networks", json_pack("[{s:s}]", "mode", "host"));
	}
	const json_t *sc = json_object_get(in, "scaling");
	json_t *so = json_pack("{s:s}", "kind", "fixed");
	if (sc) {
		const char *kind = json_string_value(json_object_get(sc, "kind"));
		if (!json_is_object(sc) || !kind || strcmp(kind, "fixed"))
			verr_add(err, "/scaling/kind", "must be 'fixed'");
		num(so, sc, "instances", 1, 0, POD_MAX_INSTANCES, true, "/scaling", err);
		if (json_object_get(sc, "maxInstances"))
			num(so, sc, "maxInstances", 0, 0, POD_MAX_INSTANCES, true, "/scaling", err);
		const json_t *mi = json_object_get(so, "maxInstances");
		if (mi && json_integer_value(mi) <
			      json_integer_value(json_object_get(so, "instances")))
			verr_add(err, "/scaling/maxInstances", "must not be less than instances");
	} else {
		json_object_set_new(so, "instances", json_integer(1));
	}
	json_object_set_new(o, "scaling", so);
	json_object_set_new(o, "scheduling", scheduling(json_object_get(in, "scheduling"), err));
	const json_t *er = json_object_get(in, "executorResources");
	json_t *eo = json_object();
	num(eo, er, "cpus", 0.1, 0, 1e6, false, "/executorResources", err);
	num(eo, er, "mem", 32.0, 0, 1e9, false, "/executorResources", err);
	num(eo, er, "disk", 10.0, 0, 1e12, false, "/executorResources", err);
	json_object_set_new(o, "executorResources", eo);
	str_map(json_object_get(in, "environment"), "/environment", err, true);
	str_map(json_object_get(in, "labels"), "/labels", err, false);
	const json_t *sec = json_object_get(in, "secrets");
	if (sec && (!json_is_object(sec) || json_object_size(sec)))
		verr_add(err, "/secrets", "Feature secrets is not enabled. Enable with "
					  "--enable_features secrets)");
	const json_t *user = json_object_get(in, "user");
	if (user && !json_is_string(user))
		verr_add(err, "/user", "error.expected.jsstring");
	if (verr_any(err)) {
		json_decref(o);
		return -EINVAL;
	}
	*out = o;
	return 0;
}

int pod_instances(const json_t *pod)
{
	return (int)json_integer_value(
		json_object_get(json_object_get(pod, "scaling"), "instances"));
}

bool pod_config_differs(const json_t *a, const json_t *b)
{
	json_t *x = json_deep_copy(a), *y = json_deep_copy(b);
	json_object_del(x, "version");
	json_object_del(y, "version");
	json_object_del(x, "scaling");
	json_object_del(y, "scaling");
	bool d = !json_equal(x, y);
	json_decref(x);
	json_decref(y);
	return d;
}

void pod_safe_id(const char *id, char *out)
{
	const char *s = id[0] == '/' ? id + 1 : id;
	size_t n = 0;
	for (; *s; s++)
		out[n++] = *s == '/' ? '_' : *s;
	out[n] = '\0';
}
