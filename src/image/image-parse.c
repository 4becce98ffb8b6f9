/* Parsers of the untrusted documents of images (image.h): references, manifests, indexes,
 * image configs and `docker save` manifests. Pure: no I/O; fuzzed by tests/fuzz/fuzz-image.c. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"

#define MAX_STRV 4096 /* entries of Env, Cmd, Entrypoint */

int image_digest_valid(const char *s)
{
	if (!s || strncmp(s, "sha256:", 7) || strlen(s) != 7 + 64)
		return 0;
	for (const char *p = s + 7; *p; p++)
		if (!isdigit((unsigned char)*p) && !(*p >= 'a' && *p <= 'f'))
			return 0;
	return 1;
}

/* Copies the strings of parts (NULL-terminated) into dst; -EINVAL when they do not fit. */
static int join(char *dst, size_t size, const char *const *parts)
{
	size_t n = 0;
	for (; *parts; parts++) {
		size_t k = strlen(*parts);
		if (n + k >= size)
			return -EINVAL;
		memcpy(dst + n, *parts, k);
		n += k;
	}
	dst[n] = '\0';
	return 0;
}
#define JOIN(dst, ...) join(dst, sizeof(dst), (const char *const[]){ __VA_ARGS__, NULL })

static int ref_chars_ok(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-/:@", *s))
			return 0;
	return 1;
}

int image_ref_parse(const char *s, struct image_ref *out)
{
	memset(out, 0, sizeof(*out));
	if (!s || !*s || strlen(s) >= 400 || !ref_chars_ok(s))
		return -EINVAL;
	char buf[400];
	snprintf(buf, sizeof(buf), "%s", s);
	char *at = strchr(buf, '@');
	if (at) {
		*at = '\0';
		if (!image_digest_valid(at + 1))
			return -EINVAL;
		snprintf(out->digest, sizeof(out->digest), "%s", at + 1);
	}
	char *name = buf;
	char *slash = strchr(buf, '/');
	if (slash && (memchr(buf, '.', (size_t)(slash - buf)) ||
		      memchr(buf, ':', (size_t)(slash - buf)) ||
		      (slash - buf == 9 && !strncmp(buf, "localhost", 9)))) {
		*slash = '\0';
		if (!*buf)
			return -EINVAL;
		if (!isalnum((unsigned char)buf[0]) || strstr(buf, "..") || JOIN(out->registry, buf))
			return -EINVAL;
		name = slash + 1;
	} else {
		snprintf(out->registry, sizeof(out->registry), "docker.io");
	}
	char *colon = strrchr(name, ':');
	if (colon && !strchr(colon, '/')) {
		*colon = '\0';
		if (!colon[1] || strlen(colon + 1) >= sizeof(out->tag) || strchr(colon + 1, '@'))
			return -EINVAL;
		snprintf(out->tag, sizeof(out->tag), "%s", colon + 1);
	} else if (!out->digest[0]) {
		snprintf(out->tag, sizeof(out->tag), "latest");
	}
	if (!*name || strchr(name, ':') || name[strlen(name) - 1] == '/' || strstr(name, "//") ||
	    strstr(name, ".."))
		return -EINVAL;
	for (char *p = name; *p; p++)
		if (isupper((unsigned char)*p))
			return -EINVAL;
	int r;
	if (!strcmp(out->registry, "docker.io") && !strchr(name, '/'))
		r = JOIN(out->repo, "library/", name);
	else
		r = JOIN(out->repo, name);
	if (r == 0 && out->digest[0])
		r = JOIN(out->full, out->registry, "/", out->repo, "@", out->digest);
	else if (r == 0)
		r = JOIN(out->full, out->registry, "/", out->repo, ":", out->tag);
	return r;
}

/* An array of strings (or null / absent: *out stays NULL) into a NULL-terminated copy. */
static int strv(json_t *a, char ***out)
{
	*out = NULL;
	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a) || json_array_size(a) > MAX_STRV)
		return -EINVAL;
	char **v = calloc(json_array_size(a) + 1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	size_t i;
	json_t *e;
	json_array_foreach(a, i, e) {
		if (!json_is_string(e) || !(v[i] = strdup(json_string_value(e)))) {
			for (size_t k = 0; k < i; k++)
				free(v[k]);
			free(v);
			return json_is_string(e) ? -ENOMEM : -EINVAL;
		}
	}
	*out = v;
	return 0;
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void image_config_release(struct image_config *c)
{
	strv_free(c->entrypoint);
	strv_free(c->cmd);
	strv_free(c->env);
	free(c->workdir);
	free(c->user);
	memset(c, 0, sizeof(*c));
}

static int opt_string(json_t *o, const char *key, char **out)
{
	json_t *v = json_object_get(o, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -EINVAL;
	return (*out = strdup(json_string_value(v))) ? 0 : -ENOMEM;
}

static json_t *load(const char *buf, size_t len, int *err)
{
	if (len > IMAGE_MAX_JSON) {
		*err = -E2BIG;
		return NULL;
	}
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	*err = j && json_is_object(j) ? 0 : -EINVAL;
	if (*err) {
		json_decref(j);
		return NULL;
	}
	return j;
}

int image_config_parse(const char *buf, size_t len, struct image_config *out)
{
	memset(out, 0, sizeof(*out));
	int r;
	json_t *j = load(buf, len, &r);
	if (!j)
		return r;
	json_t *c = json_object_get(j, "config");
	if (c && !json_is_null(c) && !json_is_object(c))
		r = -EINVAL;
	if (!r && json_is_object(c)) {
		r = strv(json_object_get(c, "Entrypoint"), &out->entrypoint);
		if (!r)
			r = strv(json_object_get(c, "Cmd"), &out->cmd);
		if (!r)
			r = strv(json_object_get(c, "Env"), &out->env);
		for (size_t i = 0; !r && out->env && out->env[i]; i++)
			if (!strchr(out->env[i], '=') || out->env[i][0] == '=')
				r = -EINVAL;
		if (!r)
			r = opt_string(c, "WorkingDir", &out->workdir);
		if (!r)
			r = opt_string(c, "User", &out->user);
	}
	json_decref(j);
	if (r)
		image_config_release(out);
	return r;
}

static const char *const tar_types[] = {
	"application/vnd.oci.image.layer.v1.tar",
	"application/vnd.oci.image.layer.nondistributable.v1.tar",
	"application/vnd.docker.image.rootfs.diff.tar",
};
static const char *const gzip_types[] = {
	"application/vnd.oci.image.layer.v1.tar+gzip",
	"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
	"application/vnd.docker.image.rootfs.diff.tar.gzip",
	"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
};

static int layer_type(const char *mt)
{
	for (size_t i = 0; i < sizeof(tar_types) / sizeof(tar_types[0]); i++)
		if (!strcmp(mt, tar_types[i]))
			return 0;
	for (size_t i = 0; i < sizeof(gzip_types) / sizeof(gzip_types[0]); i++)
		if (!strcmp(mt, gzip_types[i]))
			return 1;
	return -1;
}

static int pick_from_index(json_t *mans, const char *arch, struct image_manifest *out)
{
	size_t i;
	json_t *m;
	const char *first = NULL;
	json_array_foreach(mans, i, m) {
		const char *d = json_string_value(json_object_get(m, "digest"));
		if (!json_is_object(m) || !image_digest_valid(d))
			return -EINVAL;
		json_t *pf = json_object_get(m, "platform");
		if (!pf) {
			if (!first)
				first = d;
			continue;
		}
		const char *os = json_string_value(json_object_get(pf, "os"));
		const char *ar = json_string_value(json_object_get(pf, "architecture"));
		if (os && ar && !strcmp(os, "linux") && arch && !strcmp(ar, arch)) {
			snprintf(out->config, sizeof(out->config), "%s", d);
			return 0;
		}
	}
	if (!first)
		return -ENOENT;
	snprintf(out->config, sizeof(out->config), "%s", first);
	return 0;
}

int image_manifest_parse(const char *buf, size_t len, const char *arch, enum image_doc *kind,
			 struct image_manifest *out)
{
	memset(out, 0, sizeof(*out));
	int r;
	json_t *j = load(buf, len, &r);
	if (!j)
		return r;
	json_t *mans = json_object_get(j, "manifests");
	json_t *layers = json_object_get(j, "layers");
	if (json_is_array(mans)) {
		*kind = IMAGE_DOC_INDEX;
		r = json_array_size(mans) > 1024 ? -E2BIG : pick_from_index(mans, arch, out);
		json_decref(j);
		return r;
	}
	*kind = IMAGE_DOC_MANIFEST;
	const char *cd = json_string_value(json_object_get(json_object_get(j, "config"), "digest"));
	if (!image_digest_valid(cd) || !json_is_array(layers)) {
		json_decref(j);
		return -EINVAL;
	}
	snprintf(out->config, sizeof(out->config), "%s", cd);
	if (json_array_size(layers) > IMAGE_MAX_LAYERS) {
		json_decref(j);
		return -E2BIG;
	}
	size_t i;
	json_t *l;
	json_array_foreach(layers, i, l) {
		const char *d = json_string_value(json_object_get(l, "digest"));
		const char *mt = json_string_value(json_object_get(l, "mediaType"));
		int gz = mt ? layer_type(mt) : -1;
		if (!image_digest_valid(d) || gz < 0) {
			json_decref(j);
			return -EINVAL;
		}
		snprintf(out->layers[i], sizeof(out->layers[i]), "%s", d);
		out->gzip[i] = gz;
		out->nlayers++;
	}
	json_decref(j);
	return 0;
}

/* A path inside an archive: relative, no "..", bounded. */
static int member_ok(const char *p)
{
	if (!p || !*p || p[0] == '/' || strlen(p) >= 256)
		return 0;
	for (const char *s = p; *s;) {
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (n == 2 && !strncmp(s, "..", 2))
			return 0;
		s += n + (e ? 1 : 0);
	}
	return 1;
}

int image_save_manifest_parse(const char *buf, size_t len, struct image_save_manifest *out)
{
	memset(out, 0, sizeof(*out));
	if (len > IMAGE_MAX_JSON)
		return -E2BIG;
	json_t *j = json_loadb(buf, len, 0, NULL);
	json_t *m = json_array_get(j, 0);
	int r = -EINVAL;
	const char *cfg = json_string_value(json_object_get(m, "Config"));
	json_t *layers = json_object_get(m, "Layers");
	json_t *tags = json_object_get(m, "RepoTags");
	if (!json_is_array(j) || !json_is_object(m) || !member_ok(cfg) || !json_is_array(layers))
		goto out;
	if (json_array_size(layers) > IMAGE_MAX_LAYERS) {
		r = -E2BIG;
		goto out;
	}
	snprintf(out->config, sizeof(out->config), "%s", cfg);
	size_t i;
	json_t *l;
	json_array_foreach(layers, i, l) {
		if (!member_ok(json_string_value(l)))
			goto out;
		snprintf(out->layers[i], sizeof(out->layers[i]), "%s", json_string_value(l));
		out->nlayers++;
	}
	if (tags && !json_is_null(tags)) {
		const char *t = json_string_value(json_array_get(tags, 0));
		if (!json_is_array(tags) || (json_array_size(tags) && !t))
			goto out;
		if (t)
			snprintf(out->tag, sizeof(out->tag), "%s", t);
	}
	r = 0;
out:
	json_decref(j);
	return r;
}
