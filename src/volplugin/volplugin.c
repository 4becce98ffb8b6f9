/* The local driver's methods; see volplugin.h. One directory per volume: <root>/<name>. */
#include "volplugin/volplugin.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/mem.h"

struct vp_mounts {
	char *name;
	char **ids;
	size_t nids;
	struct vp_mounts *next;
};

struct volplugin {
	char *root;
	struct vp_mounts *mounts; /* volumes with at least one mount ID */
};

int volplugin_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > VOLPLUGIN_MAX_NAME || name[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

int volplugin_new(const char *root, struct volplugin **out)
{
	if (!root || root[0] != '/')
		return -EINVAL;
	int r = fs_mkdir_p(root, 0755);
	if (r < 0)
		return r;
	struct volplugin *vp = xcalloc(1, sizeof(*vp));
	vp->root = xstrdup(root);
	*out = vp;
	return 0;
}

static void mounts_free(struct vp_mounts *m)
{
	for (size_t i = 0; i < m->nids; i++)
		free(m->ids[i]);
	free(m->ids);
	free(m->name);
	free(m);
}

void volplugin_free(struct volplugin *vp)
{
	if (!vp)
		return;
	struct vp_mounts *m = vp->mounts, *next;
	for (; m; m = next) {
		next = m->next;
		mounts_free(m);
	}
	free(vp->root);
	free(vp);
}

static struct vp_mounts *mounts_find(struct volplugin *vp, const char *name)
{
	for (struct vp_mounts *m = vp->mounts; m; m = m->next)
		if (!strcmp(m->name, name))
			return m;
	return NULL;
}

/* ---- answers ---- */

static int answer(json_t *o, int status, char **out)
{
	*out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!*out)
		*out = xstrdup("{\"Err\":\"out of memory\"}");
	return status;
}

static int fail(int status, char **out, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(int status, char **out, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return answer(json_pack("{s:s}", "Err", msg), status, out);
}

static int ok(char **out)
{
	return answer(json_pack("{s:s}", "Err", ""), 200, out);
}

static char *vol_path(struct volplugin *vp, const char *name)
{
	return xasprintf("%s/%s", vp->root, name);
}

static int vol_exists(struct volplugin *vp, const char *name)
{
	char *p = vol_path(vp, name);
	struct stat st;
	int r = lstat(p, &st) == 0 && S_ISDIR(st.st_mode);
	free(p);
	return r;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) == -1 ? -1 : 0;
}

/* ---- methods ---- */

static int m_create(struct volplugin *vp, const char *name, char **out)
{
	char *p = vol_path(vp, name);
	int r = mkdir(p, 0755) == -1 && errno != EEXIST ? -errno : 0;
	free(p);
	if (r < 0)
		return fail(500, out, "cannot create volume '%s': %s", name, strerror(-r));
	if (!vol_exists(vp, name))
		return fail(500, out, "'%s' exists and is not a volume", name);
	return ok(out);
}

static int m_remove(struct volplugin *vp, const char *name, char **out)
{
	if (!vol_exists(vp, name))
		return fail(500, out, "no such volume: '%s'", name);
	struct vp_mounts *m = mounts_find(vp, name);
	if (m && m->nids)
		return fail(500, out, "volume '%s' is in use (%zu mount(s))", name, m->nids);
	char *p = vol_path(vp, name);
	int r = nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS) == -1 ? -errno : 0;
	free(p);
	if (r < 0)
		return fail(500, out, "cannot remove volume '%s': %s", name, strerror(-r));
	return ok(out);
}

static int m_mount(struct volplugin *vp, const char *name, const char *id, char **out)
{
	if (!vol_exists(vp, name))
		return fail(500, out, "no such volume: '%s'", name);
	struct vp_mounts *m = mounts_find(vp, name);
	if (!m) {
		m = xcalloc(1, sizeof(*m));
		m->name = xstrdup(name);
		m->next = vp->mounts;
		vp->mounts = m;
	}
	size_t i = 0;
	while (i < m->nids && strcmp(m->ids[i], id))
		i++;
	if (i == m->nids) {
		if (m->nids >= VOLPLUGIN_MAX_IDS)
			return fail(500, out, "volume '%s' has too many mounts", name);
		m->ids = xrealloc(m->ids, (m->nids + 1) * sizeof(*m->ids));
		m->ids[m->nids++] = xstrdup(id);
	}
	char *p = vol_path(vp, name);
	int status = answer(json_pack("{s:s, s:s}", "Mountpoint", p, "Err", ""), 200, out);
	free(p);
	return status;
}

static int m_unmount(struct volplugin *vp, const char *name, const char *id, char **out)
{
	if (!vol_exists(vp, name))
		return fail(500, out, "no such volume: '%s'", name);
	struct vp_mounts **pp = &vp->mounts;
	while (*pp && strcmp((*pp)->name, name))
		pp = &(*pp)->next;
	struct vp_mounts *m = *pp;
	if (m) {
		for (size_t i = 0; i < m->nids; i++) {
			if (strcmp(m->ids[i], id))
				continue;
			free(m->ids[i]);
			m->ids[i] = m->ids[--m->nids];
			break;
		}
		if (!m->nids) {
			*pp = m->next;
			mounts_free(m);
		}
	}
	return ok(out);
}

static json_t *vol_json(struct volplugin *vp, const char *name, bool status)
{
	char *p = vol_path(vp, name);
	json_t *o = json_pack("{s:s, s:s}", "Name", name, "Mountpoint", p);
	free(p);
	if (status) {
		struct vp_mounts *m = mounts_find(vp, name);
		json_object_set_new(o, "Status",
				    json_pack("{s:I}", "mounts", (json_int_t)(m ? m->nids : 0)));
	}
	return o;
}

static int m_list(struct volplugin *vp, char **out)
{
	json_t *arr = json_array();
	DIR *d = opendir(vp->root);
	if (!d) {
		json_decref(arr);
		return fail(500, out, "cannot read '%s': %s", vp->root, strerror(errno));
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (volplugin_name_valid(de->d_name) && vol_exists(vp, de->d_name))
			json_array_append_new(arr, vol_json(vp, de->d_name, false));
	}
	closedir(d);
	return answer(json_pack("{s:o, s:s}", "Volumes", arr, "Err", ""), 200, out);
}

int volplugin_handle(struct volplugin *vp, const char *path, const char *body, size_t len,
		     char **out)
{
	static const char *const methods[] = { "Create", "Remove", "Mount", "Unmount", "Path",
					       "Get", "List", "Capabilities" };
	if (!strcmp(path, "/Plugin.Activate"))
		return answer(json_pack("{s:[s]}", "Implements", "VolumeDriver"), 200, out);
	const char *m = NULL;
	if (!strncmp(path, "/VolumeDriver.", 14))
		for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
			if (!strcmp(path + 14, methods[i]))
				m = methods[i];
	if (!m)
		return fail(404, out, "unknown method '%s'", path);
	if (len > VOLPLUGIN_MAX_BODY)
		return fail(400, out, "request too large");

	json_t *req = NULL;
	size_t i = 0;
	while (i < len && strchr(" \t\r\n", body[i]))
		i++;
	if (i < len) {
		json_error_t jerr;
		req = json_loadb(body, len, 0, &jerr);
		if (!req || !json_is_object(req)) {
			json_decref(req);
			return fail(400, out, "cannot decode the request: %s",
				    req ? "not an object" : jerr.text);
		}
	}
	if (!strcmp(m, "List")) {
		json_decref(req);
		return m_list(vp, out);
	}
	if (!strcmp(m, "Capabilities")) {
		json_decref(req);
		return answer(json_pack("{s:{s:s}}", "Capabilities", "Scope", "local"), 200, out);
	}
	json_t *jn = json_object_get(req, "Name");
	json_t *jid = json_object_get(req, "ID");
	json_t *jopts = json_object_get(req, "Opts");
	int status;
	if (!json_is_string(jn) || (jid && !json_is_string(jid)) ||
	    (jopts && !json_is_object(jopts) && !json_is_null(jopts))) {
		status = fail(400, out, "cannot decode the request: %s",
			      !json_is_string(jn) ? "'Name' must be a string" : "bad field type");
		goto done;
	}
	const char *name = json_string_value(jn);
	const char *id = jid ? json_string_value(jid) : "";
	if (!volplugin_name_valid(name)) {
		status = fail(500, out, "invalid volume name '%.300s'", name);
		goto done;
	}
	if (!strcmp(m, "Create")) {
		status = m_create(vp, name, out);
	} else if (!strcmp(m, "Remove")) {
		status = m_remove(vp, name, out);
	} else if (!strcmp(m, "Mount")) {
		status = m_mount(vp, name, id, out);
	} else if (!strcmp(m, "Unmount")) {
		status = m_unmount(vp, name, id, out);
	} else if (!vol_exists(vp, name)) {
		status = fail(500, out, "no such volume: '%s'", name);
	} else if (!strcmp(m, "Path")) {
		char *p = vol_path(vp, name);
		status = answer(json_pack("{s:s, s:s}", "Mountpoint", p, "Err", ""), 200, out);
		free(p);
	} else { /* Get */
		status = answer(json_pack("{s:o, s:s}", "Volume", vol_json(vp, name, true), "Err",
					  ""),
				200, out);
	}
done:
	json_decref(req);
	return status;
}
