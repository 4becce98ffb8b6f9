/* App volumes (see volumes.h). */
#include "model/volumes.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "base/strbuf.h"

void volumes_free(struct app_volume *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].container_path);
		free(v[i].name);
		free(v[i].driver);
		json_decref(v[i].options);
	}
	free(v);
}

char *volume_name_for(const struct app_volume *v, unsigned index)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = v->name;
	const char *hit;
	while ((hit = strstr(p, "{index}"))) {
		strbuf_add(&sb, p, (size_t)(hit - p));
		strbuf_addf(&sb, "%u", index);
		p = hit + strlen("{index}");
	}
	strbuf_adds(&sb, p);
	return strbuf_detach(&sb, NULL);
}

/* Characters a volume name, driver or option may hold (dvdi's rule, plus {index}). */
static bool safe_text(const char *s, bool allow_braces)
{
	if (!*s || strlen(s) > 255)
		return false;
	for (; *s; s++) {
		char c = *s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.')
			continue;
		if (allow_braces && (c == '{' || c == '}'))
			continue;
		return false;
	}
	return true;
}

static bool safe_option(const char *s)
{
	if (strlen(s) > 1024)
		return false;
	for (; *s; s++)
		if (*s < 0x20 || *s == 0x7f || *s == ',' || *s == '\'' || *s == '"' || *s == '`' ||
		    *s == '$' || *s == ';' || *s == '&' || *s == '|')
			return false;
	return true;
}

struct vctx {
	struct verr *err;
	bool bad;
	struct app_volume *v;
	size_t n;
};

static struct app_volume *add(struct vctx *c)
{
	struct app_volume *v = &c->v[c->n++];
	memset(v, 0, sizeof(*v));
	v->json_index = -1;
	return v;
}

static void parse_persistent(struct vctx *c, json_t *o, const char *base)
{
	char path[128];
	json_t *cp = json_object_get(o, "containerPath");
	json_t *p = json_object_get(o, "persistent");
	const char *mode = json_string_value(json_object_get(o, "mode"));
	const char *cps = json_string_value(cp);
	snprintf(path, sizeof(path), "%s/containerPath", base);
	if (!cps || !*cps || strchr(cps, '/') || !strcmp(cps, ".") || !strcmp(cps, "..")) {
		verr_add(c->err, path, "persistent volumes need a relative containerPath of one "
				       "segment, without '/'");
		c->bad = true;
	}
	snprintf(path, sizeof(path), "%s/mode", base);
	if (!mode || strcmp(mode, "RW")) {
		verr_add(c->err, path, "persistent volumes must be mounted RW");
		c->bad = true;
	}
	json_t *size = json_object_get(p, "size");
	snprintf(path, sizeof(path), "%s/persistent/size", base);
	if (!json_is_number(size) || json_number_value(size) <= 0) {
		verr_add(c->err, path, "must be a size in MiB greater than 0");
		c->bad = true;
	}
	const char *type = json_string_value(json_object_get(p, "type"));
	if (type && strcmp(type, "root") && strcmp(type, "path") && strcmp(type, "mount")) {
		snprintf(path, sizeof(path), "%s/persistent/type", base);
		verr_add(c->err, path, "must be root, path or mount");
		c->bad = true;
	}
	if (c->bad)
		return;
	struct app_volume *v = add(c);
	v->type = VOL_PERSISTENT;
	v->container_path = xstrdup(cps);
	v->size = json_number_value(size);
}

static void parse_external(struct vctx *c, json_t *o, const char *base)
{
	char path[160];
	json_t *e = json_object_get(o, "external");
	const char *cps = json_string_value(json_object_get(o, "containerPath"));
	const char *mode = json_string_value(json_object_get(o, "mode"));
	const char *name = json_string_value(json_object_get(e, "name"));
	const char *provider = json_string_value(json_object_get(e, "provider"));
	json_t *opts = json_object_get(e, "options");
	const char *driver = json_string_value(json_object_get(opts, "dvdi/driver"));
	bool bad = false;
	snprintf(path, sizeof(path), "%s/containerPath", base);
	if (!cps || !*cps || strstr(cps, "..")) {
		verr_add(c->err, path, "is required and must not contain '..'");
		bad = true;
	}
	snprintf(path, sizeof(path), "%s/mode", base);
	if (!mode || strcmp(mode, "RW")) {
		verr_add(c->err, path, "external volumes must be mounted RW");
		bad = true;
	}
	snprintf(path, sizeof(path), "%s/external/provider", base);
	if (!provider || strcmp(provider, "dvdi")) {
		verr_add(c->err, path, "must be \"dvdi\"");
		bad = true;
	}
	snprintf(path, sizeof(path), "%s/external/name", base);
	if (!name || !safe_text(name, true)) {
		verr_add(c->err, path, "must be a volume name of letters, digits, '-', '_', '.' "
				       "(and {index})");
		bad = true;
	}
	snprintf(path, sizeof(path), "%s/external/options", base);
	if (opts && !json_is_object(opts)) {
		verr_add(c->err, path, "error.expected.jsobject");
		bad = true;
	} else if (!driver || !safe_text(driver, false)) {
		verr_add(c->err, path, "\"dvdi/driver\" is required: the volume driver's name");
		bad = true;
	}
	json_t *size = json_object_get(e, "size");
	if (size && (!json_is_number(size) || json_number_value(size) <= 0)) {
		snprintf(path, sizeof(path), "%s/external/size", base);
		verr_add(c->err, path, "must be a size in GiB greater than 0");
		bad = true;
	}
	json_t *fwd = json_object();
	const char *k;
	json_t *val;
	json_object_foreach(opts, k, val) {
		if (!strcmp(k, "dvdi/driver"))
			continue;
		const char *sv = json_string_value(val);
		if (!sv || !safe_option(sv) || !safe_option(k)) {
			snprintf(path, sizeof(path), "%s/external/options/%s", base, k);
			verr_add(c->err, path, "must be a string without quotes, ',' or shell characters");
			bad = true;
			continue;
		}
		const char *key = strncmp(k, "dvdi/", 5) ? k : k + 5;
		while (*sv == ' ')
			sv++;
		json_object_set_new(fwd, key, json_string(sv));
	}
	if (json_is_number(size)) {
		char s[32];
		snprintf(s, sizeof(s), "%.15g", json_number_value(size));
		json_object_set_new(fwd, "size", json_string(s));
	}
	if (bad) {
		json_decref(fwd);
		c->bad = true;
		return;
	}
	struct app_volume *v = add(c);
	v->type = VOL_EXTERNAL;
	v->container_path = xstrdup(cps);
	v->name = xstrdup(name);
	v->driver = xstrdup(driver);
	v->options = fwd;
	v->shared = json_is_true(json_object_get(e, "shared"));
	v->size = json_is_number(size) ? json_number_value(size) : 0;
}

/* A host-path volume (Marathon's DockerVolume, Mesos's HOST_PATH source): checked only;
 * task-spec.c reads it from the definition into the task's "host_volumes". */
static void check_host_path(struct vctx *c, json_t *o, const char *base)
{
	char path[128];
	const char *hp = json_string_value(json_object_get(o, "hostPath"));
	const char *cps = json_string_value(json_object_get(o, "containerPath"));
	const char *mode = json_string_value(json_object_get(o, "mode"));
	snprintf(path, sizeof(path), "%s/hostPath", base);
	if (!hp || hp[0] != '/' || strstr(hp, "/..") || strlen(hp) > 1024) {
		verr_add(c->err, path, "must be an absolute path on the agent, without '..'");
		c->bad = true;
	}
	snprintf(path, sizeof(path), "%s/containerPath", base);
	if (!cps || !*cps || strstr(cps, "..") || strlen(cps) > 1024) {
		verr_add(c->err, path, "is required and must not contain '..'");
		c->bad = true;
	}
	snprintf(path, sizeof(path), "%s/mode", base);
	if (!mode || (strcmp(mode, "RO") && strcmp(mode, "RW"))) {
		verr_add(c->err, path, "must be RO or RW");
		c->bad = true;
	}
}

/* DVDI_VOLUME_NAME[1-9] and friends. */
static void parse_dvdi_env(struct vctx *c, const json_t *env)
{
	const char *k;
	json_t *val;
	json_object_foreach((json_t *)env, k, val) {
		if (strncmp(k, "DVDI_VOLUME_", 12))
			continue;
		const char *rest = k + 12;
		static const char *const kinds[] = { "NAME", "DRIVER", "OPTS", "CONTAINERPATH",
						     "DVDCLI", "EXPLICITCREATE" };
		bool known = false;
		for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
			size_t l = strlen(kinds[i]);
			if (!strncmp(rest, kinds[i], l) &&
			    (!rest[l] || (rest[l] >= '1' && rest[l] <= '9' && !rest[l + 1])))
				known = true;
		}
		char path[160];
		snprintf(path, sizeof(path), "/env/%s", k);
		if (!known) {
			verr_add(c->err, path, "unknown DVDI variable: names are DVDI_VOLUME_NAME, "
					       "_DRIVER, _OPTS, _CONTAINERPATH with an optional "
					       "suffix 1-9");
			c->bad = true;
		}
	}
	for (int i = 0; i <= 9; i++) {
		char sfx[2] = { (char)('0' + i), 0 };
		const char *s = i ? sfx : "";
		char key[64];
		snprintf(key, sizeof(key), "DVDI_VOLUME_NAME%s", s);
		const char *name = json_string_value(json_object_get(env, key));
		if (!name)
			continue;
		char path[96];
		snprintf(path, sizeof(path), "/env/%s", key);
		if (!safe_text(name, true)) {
			verr_add(c->err, path, "must be a volume name of letters, digits, '-', '_', '.'");
			c->bad = true;
			continue;
		}
		snprintf(key, sizeof(key), "DVDI_VOLUME_DRIVER%s", s);
		const char *driver = json_string_value(json_object_get(env, key));
		if (!driver)
			driver = "rexray";
		if (!safe_text(driver, false)) {
			snprintf(path, sizeof(path), "/env/%s", key);
			verr_add(c->err, path, "must be a driver name");
			c->bad = true;
			continue;
		}
		json_t *opts = json_object();
		snprintf(key, sizeof(key), "DVDI_VOLUME_OPTS%s", s);
		const char *os = json_string_value(json_object_get(env, key));
		if (os && *os) {
			char *copy = xstrdup(os);
			for (char *tok = copy, *next; tok; tok = next) {
				next = strchr(tok, ',');
				if (next)
					*next++ = '\0';
				if (!*tok)
					continue;
				char *eq = strchr(tok, '=');
				if (!eq || eq == tok || !safe_option(eq + 1)) {
					snprintf(path, sizeof(path), "/env/%s", key);
					verr_add(c->err, path, "must be a comma list of key=value");
					c->bad = true;
					break;
				}
				*eq = '\0';
				json_object_set_new(opts, tok, json_string(eq + 1));
			}
			free(copy);
		}
		snprintf(key, sizeof(key), "DVDI_VOLUME_CONTAINERPATH%s", s);
		const char *cp = json_string_value(json_object_get(env, key));
		if (cp && *cp && (cp[0] != '/' || strstr(cp, ".."))) {
			snprintf(path, sizeof(path), "/env/%s", key);
			verr_add(c->err, path, "must be an absolute path");
			c->bad = true;
		}
		if (c->n >= VOLUMES_MAX) {
			json_decref(opts);
			break;
		}
		struct app_volume *v = add(c);
		v->type = VOL_EXTERNAL;
		v->container_path = xstrdup(cp ? cp : "");
		v->name = xstrdup(name);
		v->driver = xstrdup(driver);
		v->options = opts;
	}
}

int volumes_parse(const json_t *app, long long instances, struct verr *err,
		  struct app_volume **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	struct vctx c = { .err = err };
	c.v = xcalloc(VOLUMES_MAX + 1, sizeof(*c.v));
	json_t *vols = json_object_get(json_object_get(app, "container"), "volumes");
	if (vols && !json_is_array(vols)) {
		verr_add(err, "/container/volumes", "error.expected.jsarray");
		c.bad = true;
	} else if (json_array_size(vols) > VOLUMES_MAX) {
		verr_add(err, "/container/volumes", "at most %d volumes", VOLUMES_MAX);
		c.bad = true;
	} else {
		size_t i;
		json_t *o;
		json_array_foreach(vols, i, o) {
			char base[64];
			snprintf(base, sizeof(base), "/container/volumes/%zu", i);
			if (!json_is_object(o)) {
				verr_add(err, base, "error.expected.jsobject");
				c.bad = true;
			} else if (json_object_get(o, "persistent")) {
				size_t before = c.n;
				parse_persistent(&c, o, base);
				if (c.n > before)
					c.v[c.n - 1].json_index = (int)i;
			} else if (json_object_get(o, "external")) {
				size_t before = c.n;
				parse_external(&c, o, base);
				if (c.n > before)
					c.v[c.n - 1].json_index = (int)i;
			} else if (json_object_get(o, "hostPath")) {
				check_host_path(&c, o, base);
			}
		}
	}
	json_t *env = json_object_get(app, "env");
	if (json_is_object(env))
		parse_dvdi_env(&c, env);
	/* Across the app's volumes: unique names and paths; one writer per unshared name. */
	for (size_t i = 0; i < c.n; i++) {
		for (size_t j = 0; j < i; j++) {
			if (c.v[i].type == VOL_EXTERNAL && c.v[j].type == VOL_EXTERNAL &&
			    !strcmp(c.v[i].name, c.v[j].name)) {
				verr_add(err, "/container/volumes", "volume name '%s' is used twice",
					 c.v[i].name);
				c.bad = true;
			}
			if (*c.v[i].container_path &&
			    !strcmp(c.v[i].container_path, c.v[j].container_path)) {
				verr_add(err, "/container/volumes", "containerPath '%s' is used twice",
					 c.v[i].container_path);
				c.bad = true;
			}
		}
		if (c.v[i].type == VOL_EXTERNAL && !c.v[i].shared && instances > 1 &&
		    !strstr(c.v[i].name, "{index}")) {
			verr_add(err, "/instances",
				 "external volume '%s' serves one instance: use at most 1 instance, "
				 "put {index} in its name, or mark it shared",
				 c.v[i].name);
			c.bad = true;
		}
	}
	if (c.bad) {
		volumes_free(c.v, c.n);
		return -EINVAL;
	}
	if (!c.n) {
		free(c.v);
		return 0;
	}
	*out = c.v;
	*n = c.n;
	return 0;
}
