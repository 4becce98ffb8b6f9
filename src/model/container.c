/* Marathon's container for images; see container.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "model/container.h"

/* docker.parameters berth maps onto the OCI config (image-bundle.c). */
static const char *const param_keys[] = { "env", "e", "workdir", "w", "user", "u", "hostname",
					  "h", "read-only", "cap-add", "cap-drop", "entrypoint",
					  "label", "l" };

static bool param_known(const char *k)
{
	for (size_t i = 0; i < sizeof(param_keys) / sizeof(param_keys[0]); i++)
		if (!strcmp(k, param_keys[i]))
			return true;
	return false;
}

static json_t *mappings(json_t *ct)
{
	json_t *pm = json_object_get(ct, "portMappings");
	if (!pm || json_is_null(pm))
		pm = json_object_get(json_object_get(ct, "docker"), "portMappings");
	return json_is_array(pm) ? pm : NULL;
}

const char *container_image(json_t *app)
{
	json_t *ct = json_object_get(app, "container");
	const char *img = json_string_value(json_object_get(json_object_get(ct, "docker"), "image"));
	if (!img || !*img) {
		json_t *mi = json_object_get(json_object_get(ct, "mesos"), "image");
		img = json_string_value(mi);
		if (!img)
			img = json_string_value(json_object_get(json_object_get(mi, "docker"), "name"));
	}
	return img && *img ? img : NULL;
}

static const char *network(json_t *ct)
{
	const char *n = json_string_value(json_object_get(json_object_get(ct, "docker"), "network"));
	return n ? n : mappings(ct) ? "BRIDGE" : "HOST";
}

static int port_ok(json_t *v, json_int_t lo, json_int_t *out)
{
	*out = 0;
	if (!v || json_is_null(v))
		return 1;
	if (!json_is_integer(v))
		return 0;
	*out = json_integer_value(v);
	return *out >= lo && *out <= 65535;
}

int container_check(json_t *app, struct verr *err)
{
	json_t *ct = json_object_get(app, "container");
	if (!json_is_object(ct))
		return 0;
	int bad = 0;
	json_t *type = json_object_get(ct, "type");
	if (!type || json_is_null(type)) {
		json_object_set_new(ct, "type", json_string("DOCKER"));
	} else if (!json_is_string(type) || (strcmp(json_string_value(type), "DOCKER") &&
					     strcmp(json_string_value(type), "MESOS"))) {
		verr_add(err, "/container/type", "error.expected.validenumvalue: must be one of "
			 "DOCKER, MESOS");
		bad = 1;
	}
	json_t *docker = json_object_get(ct, "docker");
	if (docker && !json_is_null(docker) && !json_is_object(docker)) {
		verr_add(err, "/container/docker", "error.expected.jsobject");
		return -EINVAL;
	}
	const char *t = json_string_value(json_object_get(ct, "type"));
	json_t *img = json_object_get(docker, "image");
	if (img && !json_is_string(img)) {
		verr_add(err, "/container/docker/image", "error.expected.jsstring");
		bad = 1;
	} else if (t && !strcmp(t, "DOCKER") && !container_image(app)) {
		verr_add(err, "/container/docker/image", "must not be empty");
		bad = 1;
	} else if (container_image(app) && strlen(container_image(app)) > 400) {
		verr_add(err, "/container/docker/image", "is longer than 400 characters");
		bad = 1;
	}
	json_t *net = json_object_get(docker, "network");
	if (net && !json_is_null(net)) {
		const char *n = json_string_value(net);
		if (!n || (strcmp(n, "HOST") && strcmp(n, "BRIDGE") && strcmp(n, "USER") &&
			   strcmp(n, "NONE"))) {
			verr_add(err, "/container/docker/network", "error.expected.validenumvalue: "
				 "must be one of HOST, BRIDGE, USER, NONE");
			bad = 1;
		} else if (strcmp(n, "HOST") && strcmp(n, "BRIDGE")) {
			verr_add(err, "/container/docker/network", "'%s' networking is not supported "
				 "by berth (HOST or BRIDGE)", n);
			bad = 1;
		}
	}
	/* Marathon's pullConfig: {"secret": NAME} naming one of the app's secrets, whose value
	 * is a docker config.json; Marathon takes it with the Mesos containerizer only. */
	json_t *pc = json_object_get(docker, "pullConfig");
	if (pc && !json_is_null(pc)) {
		const char *sn = json_string_value(json_object_get(pc, "secret"));
		if (!json_is_object(pc) || !sn || !*sn) {
			verr_add(err, "/container/docker/pullConfig/secret", "error.path.missing");
			bad = 1;
		} else if (!json_is_object(json_object_get(json_object_get(app, "secrets"), sn))) {
			verr_add(err, "/container/docker/pullConfig",
				 "pullConfig.secret must refer to an existing secret");
			bad = 1;
		} else if (t && strcmp(t, "MESOS")) {
			verr_add(err, "/container/docker/pullConfig",
				 "pullConfig is not supported with Docker containerizer");
			bad = 1;
		}
	}
	json_t *priv = json_object_get(docker, "privileged");
	if (json_is_true(priv)) {
		verr_add(err, "/container/docker/privileged", "privileged containers are not "
			 "supported by berth");
		bad = 1;
	}
	json_t *params = json_object_get(docker, "parameters");
	if (params && !json_is_null(params) && !json_is_array(params)) {
		verr_add(err, "/container/docker/parameters", "error.expected.jsarray");
		bad = 1;
	} else if (json_array_size(params) > 64) {
		verr_add(err, "/container/docker/parameters", "must not have more than 64 elements");
		bad = 1;
	} else {
		size_t pi;
		json_t *p;
		json_array_foreach(params, pi, p) {
			char path[80];
			snprintf(path, sizeof(path), "/container/docker/parameters/%zu", pi);
			const char *k = json_string_value(json_object_get(p, "key"));
			const char *v = json_string_value(json_object_get(p, "value"));
			if (!k || !v || strlen(v) > 4096) {
				verr_add(err, path, "needs string 'key' and 'value' (at most 4096 bytes)");
				bad = 1;
			} else if (!param_known(k)) {
				verr_add(err, path, "parameter '%s' is not supported by berth (env, "
					 "workdir, user, hostname, read-only, cap-add, cap-drop, "
					 "entrypoint, label)", k);
				bad = 1;
			}
		}
	}
	json_t *pm = mappings(ct);
	json_t *raw = json_object_get(ct, "portMappings");
	if (raw && !json_is_null(raw) && !json_is_array(raw)) {
		verr_add(err, "/container/portMappings", "error.expected.jsarray");
		return -EINVAL;
	}
	if (pm && json_array_size(pm) > CONTAINER_MAX_MAPPINGS) {
		verr_add(err, "/container/portMappings", "must not have more than %d elements",
			 CONTAINER_MAX_MAPPINGS);
		return -EINVAL;
	}
	if (pm && !strcmp(network(ct), "HOST")) {
		verr_add(err, "/container/portMappings", "port mappings need BRIDGE networking "
			 "(with HOST, use portDefinitions)");
		bad = 1;
	}
	size_t i;
	json_t *m;
	json_array_foreach(pm, i, m) {
		char path[80];
		json_int_t cp, hp, sp;
		snprintf(path, sizeof(path), "/container/portMappings/%zu", i);
		if (!json_is_object(m)) {
			verr_add(err, path, "error.expected.jsobject");
			bad = 1;
			continue;
		}
		if (!port_ok(json_object_get(m, "containerPort"), 0, &cp) || cp == 0) {
			verr_add(err, path, "containerPort: got %lld, expected between 1 and 65535",
				 (long long)cp);
			bad = 1;
		}
		if (!port_ok(json_object_get(m, "hostPort"), 0, &hp)) {
			verr_add(err, path, "hostPort: expected between 0 and 65535");
			bad = 1;
		}
		if (!port_ok(json_object_get(m, "servicePort"), 0, &sp)) {
			verr_add(err, path, "servicePort: expected between 0 and 65535");
			bad = 1;
		}
		json_t *proto = json_object_get(m, "protocol");
		if (!proto || json_is_null(proto))
			json_object_set_new(m, "protocol", json_string("tcp"));
		else if (!json_is_string(proto) || (strcmp(json_string_value(proto), "tcp") &&
						    strcmp(json_string_value(proto), "udp") &&
						    strcmp(json_string_value(proto), "udp,tcp")))
			verr_add(err, path, "protocol: must be one of tcp, udp, udp,tcp"), bad = 1;
		if (!json_object_get(m, "hostPort"))
			json_object_set_new(m, "hostPort", json_integer(0));
		if (!json_object_get(m, "servicePort"))
			json_object_set_new(m, "servicePort", json_integer(0));
		json_t *name = json_object_get(m, "name");
		if (name && !json_is_null(name) && !json_is_string(name))
			verr_add(err, path, "name: error.expected.jsstring"), bad = 1;
	}
	return bad ? -EINVAL : 0;
}

size_t container_port_defs(json_t *app, struct port_def **out)
{
	json_t *ct = json_object_get(app, "container");
	json_t *pm = mappings(ct);
	*out = NULL;
	if (!pm || !json_array_size(pm) || strcmp(network(ct), "BRIDGE"))
		return 0;
	size_t n = json_array_size(pm);
	struct port_def *d = xcalloc(n, sizeof(*d));
	for (size_t i = 0; i < n; i++) {
		json_t *m = json_array_get(pm, i);
		/* port is the service port, as for portDefinitions (0: assigned by the master) */
		d[i].port = (uint32_t)json_integer_value(json_object_get(m, "servicePort"));
		d[i].host_port = (uint32_t)json_integer_value(json_object_get(m, "hostPort"));
		d[i].container_port = (uint32_t)json_integer_value(json_object_get(m, "containerPort"));
		const char *name = json_string_value(json_object_get(m, "name"));
		d[i].name = name && *name ? xstrdup(name) : NULL;
		const char *proto = json_string_value(json_object_get(m, "protocol"));
		d[i].protocol = xstrdup(proto ? proto : "tcp");
	}
	*out = d;
	return n;
}

json_t *container_spec(json_t *app, const uint32_t *ports, size_t nports)
{
	const char *image = container_image(app);
	if (!image)
		return NULL;
	json_t *ct = json_object_get(app, "container");
	const char *type = json_string_value(json_object_get(ct, "type"));
	json_t *docker = json_object_get(ct, "docker");
	json_t *out = json_pack("{s:s, s:s, s:s, s:b}", "type", type ? type : "DOCKER", "image",
				image, "network", network(ct), "force_pull",
				json_is_true(json_object_get(docker, "forcePullImage")));
	const char *psn = json_string_value(json_object_get(json_object_get(docker, "pullConfig"),
							   "secret"));
	const char *psrc = psn ? json_string_value(json_object_get(json_object_get(
				  json_object_get(app, "secrets"), psn), "source"))
			       : NULL;
	if (psrc)
		json_object_set_new(out, "pull_secret",
				    json_pack("{s:s, s:s}", "secret", psn, "source", psrc));
	json_t *params = json_object_get(docker, "parameters");
	if (json_array_size(params)) {
		json_t *ps = json_array();
		size_t i;
		json_t *p;
		json_array_foreach(params, i, p)
			json_array_append_new(ps, json_pack("[s, s]",
				json_string_value(json_object_get(p, "key")),
				json_string_value(json_object_get(p, "value"))));
		json_object_set_new(out, "parameters", ps);
	}
	if (!strcmp(network(ct), "BRIDGE")) {
		json_t *pms = json_array();
		json_t *pm = mappings(ct);
		for (size_t i = 0; i < json_array_size(pm) && i < nports; i++) {
			json_t *m = json_array_get(pm, i);
			const char *proto = json_string_value(json_object_get(m, "protocol"));
			json_array_append_new(
				pms, json_pack("{s:I, s:I, s:s}", "host_port", (json_int_t)ports[i],
					       "container_port",
					       json_integer_value(json_object_get(m, "containerPort")),
					       "protocol", proto ? proto : "tcp"));
		}
		json_object_set_new(out, "port_mappings", pms);
	}
	return out;
}

int container_from_mesos(const json_t *ci, json_t **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!ci || json_is_null(ci))
		return 0;
	const char *type = json_string_value(json_object_get(ci, "type"));
	const json_t *docker = json_object_get(ci, "docker");
	const char *image = NULL;
	if (type && !strcmp(type, "DOCKER")) {
		image = json_string_value(json_object_get(docker, "image"));
		if (!image || !*image) {
			snprintf(err, errlen, "'container.docker.image' is required for a DOCKER "
				 "container");
			return -EINVAL;
		}
	} else if (type && !strcmp(type, "MESOS")) {
		const json_t *img = json_object_get(json_object_get(ci, "mesos"), "image");
		const char *it = json_string_value(json_object_get(img, "type"));
		if (!img)
			return 0;
		if (!it || strcmp(it, "DOCKER")) {
			snprintf(err, errlen, "Image type '%s' is not supported by berth (DOCKER)",
				 it ? it : "");
			return -EINVAL;
		}
		image = json_string_value(json_object_get(json_object_get(img, "docker"), "name"));
		if (!image || !*image) {
			snprintf(err, errlen, "'container.mesos.image.docker.name' is required");
			return -EINVAL;
		}
	} else {
		snprintf(err, errlen, "Container type '%s' is not supported by berth", type ? type : "");
		return -EINVAL;
	}
	if (strlen(image) > 400) {
		snprintf(err, errlen, "the container's image name is longer than 400 characters");
		return -EINVAL;
	}
	const char *net = json_string_value(json_object_get(docker, "network"));
	if (net && strcmp(net, "HOST") && strcmp(net, "BRIDGE")) {
		snprintf(err, errlen, "Docker network '%s' is not supported by berth (HOST, BRIDGE)",
			 net);
		return -EINVAL;
	}
	bool bridge = net && !strcmp(net, "BRIDGE");
	json_t *o = json_pack("{s:s, s:s, s:s, s:b}", "type", type, "image", image, "network",
			      bridge ? "BRIDGE" : "HOST", "force_pull",
			      json_is_true(json_object_get(docker, "force_pull_image")));
	const json_t *pms = json_object_get(docker, "port_mappings");
	if (bridge) {
		json_t *arr = json_array();
		size_t i;
		const json_t *m;
		json_array_foreach(pms, i, m) {
			json_int_t h = json_integer_value(json_object_get(m, "host_port"));
			json_int_t c = json_integer_value(json_object_get(m, "container_port"));
			const char *proto = json_string_value(json_object_get(m, "protocol"));
			if (i >= CONTAINER_MAX_MAPPINGS || h <= 0 || h > 65535 || c <= 0 || c > 65535) {
				snprintf(err, errlen, "'container.docker.port_mappings[%zu]' needs "
					 "host_port and container_port between 1 and 65535", i);
				json_decref(arr);
				json_decref(o);
				return -EINVAL;
			}
			json_array_append_new(arr, json_pack("{s:I, s:I, s:s}", "host_port", h,
							     "container_port", c, "protocol",
							     proto ? proto : "tcp"));
		}
		json_object_set_new(o, "port_mappings", arr);
	}
	*out = o;
	return 0;
}

/* "/container/docker/parameters/2" → "container.parameters[2]", "/container/type" →
 * "container.type": Chronos's fields are flat. */
static void chronos_path(const char *path, char *out, size_t len)
{
	const char *p = path;
	if (!strncmp(p, "/container/docker/", 18))
		p += 18;
	else if (!strncmp(p, "/container/", 11))
		p += 11;
	const char *slash = strchr(p, '/');
	if (slash)
		snprintf(out, len, "container.%.*s[%s]", (int)(slash - p), p, slash + 1);
	else
		snprintf(out, len, "container.%s", p);
}

int container_from_chronos(const json_t *ct, json_t **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!ct || json_is_null(ct) || (json_is_object(ct) && !json_object_size(ct)))
		return 0;
	if (!json_is_object(ct)) {
		snprintf(err, errlen, "'container' must be an object");
		return -EINVAL;
	}
	const json_t *img = json_object_get(ct, "image");
	if (!json_is_string(img) || !*json_string_value(img)) {
		snprintf(err, errlen, "'container.image' is required: the image the job runs in");
		return -EINVAL;
	}
	const json_t *type = json_object_get(ct, "type");
	char t[16] = "DOCKER";
	if (type && !json_is_null(type)) {
		const char *ts = json_string_value(type);
		if (!ts || strlen(ts) >= sizeof(t)) {
			snprintf(err, errlen, "'container.type' must be DOCKER or MESOS");
			return -EINVAL;
		}
		for (size_t i = 0; ts[i]; i++)
			t[i] = (char)(ts[i] >= 'a' && ts[i] <= 'z' ? ts[i] - 32 : ts[i]);
		t[strlen(ts)] = '\0';
	}
	const json_t *net = json_object_get(ct, "network");
	if (net && !json_is_null(net) && !json_is_string(net)) {
		snprintf(err, errlen, "'container.network' must be HOST or BRIDGE");
		return -EINVAL;
	}
	const json_t *fp = json_object_get(ct, "forcePullImage");
	bool force = json_is_true(fp) ||
		     (json_is_string(fp) && !strcmp(json_string_value(fp), "true"));
	if (fp && !json_is_null(fp) && !json_is_boolean(fp) &&
	    !(json_is_string(fp) && (!strcmp(json_string_value(fp), "true") ||
				     !strcmp(json_string_value(fp), "false")))) {
		snprintf(err, errlen, "'container.forcePullImage' must be a boolean");
		return -EINVAL;
	}
	const json_t *vols = json_object_get(ct, "volumes");
	if (vols && !json_is_null(vols) && !json_is_array(vols)) {
		snprintf(err, errlen, "'container.volumes' must be an array");
		return -EINVAL;
	}
	if (json_array_size(vols)) {
		snprintf(err, errlen, "'container.volumes': host-path volumes are not supported for "
			 "jobs (use fetch for files, the sandbox for output)");
		return -EINVAL;
	}
	const json_t *nn = json_object_get(ct, "networkName");
	const json_t *ni = json_object_get(ct, "networkInfos");
	if ((nn && !json_is_null(nn)) || json_array_size(ni)) {
		snprintf(err, errlen, "'container.%s': container networks are not supported by "
			 "berth (HOST or BRIDGE)", nn && !json_is_null(nn) ? "networkName" :
			 "networkInfos");
		return -EINVAL;
	}
	json_t *docker = json_pack("{s:O, s:b}", "image", img, "forcePullImage", force);
	if (net && !json_is_null(net))
		json_object_set(docker, "network", (json_t *)net);
	const json_t *params = json_object_get(ct, "parameters");
	if (params && !json_is_null(params))
		json_object_set_new(docker, "parameters", json_deep_copy(params));
	json_t *app = json_pack("{s:{s:s, s:o}}", "container", "type", t, "docker", docker);
	struct verr v = VERR_INIT;
	int r = container_check(app, &v);
	if (r < 0 || verr_any(&v)) {
		json_t *d = json_array_get(v.details, 0);
		char path[96];
		chronos_path(json_string_value(json_object_get(d, "path")) ?: "/container", path,
			     sizeof(path));
		snprintf(err, errlen, "'%s': %s", path,
			 json_string_value(json_array_get(json_object_get(d, "errors"), 0)) ?: "invalid");
		verr_release(&v);
		json_decref(app);
		return -EINVAL;
	}
	verr_release(&v);
	*out = container_spec(app, NULL, 0);
	json_decref(app);
	return 0;
}
