/* Marathon's secrets in an app definition (app.h app_secrets_check): "secrets" maps a name
 * to {"source": "..."}, and env values {"secret": NAME} refer to those names. Only the
 * references are kept (and shown by the API); the agent resolves them (docs/security.md). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "json/verr.h"
#include "model/app.h"

/* Marathon's source names are free strings; berth's store keeps one file per source, so a
 * source is also bounded to what the agent can name (exec-secret.h): '/'-separated
 * segments of [A-Za-z0-9._-], none "." or "..". */
bool app_secret_source_valid(const char *s)
{
	if (*s == '/')
		s++;
	size_t n = strlen(s);
	if (!n || n > 255 || s[n - 1] == '/')
		return false;
	for (const char *p = s; *p;) {
		size_t sl = 0;
		for (; p[sl] && p[sl] != '/'; sl++) {
			char ch = p[sl];
			if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
				return false;
		}
		if (!sl || (sl == 1 && p[0] == '.') || (sl == 2 && !strncmp(p, "..", 2)))
			return false;
		p += sl;
		if (*p == '/')
			p++;
	}
	return true;
}

int app_secrets_check(const json_t *app, struct verr *err)
{
	int bad = 0;
	const json_t *secrets = json_object_get(app, "secrets");
	const char *k;
	json_t *v;
	if (json_is_object(secrets)) {
		json_object_foreach((json_t *)secrets, k, v) {
			char path[320];
			snprintf(path, sizeof(path), "/secrets/%.255s", k);
			const json_t *src = json_object_get(v, "source");
			if (!*k) {
				verr_add(err, "/secrets", "must not be empty");
				bad++;
			} else if (!json_is_object(v)) {
				verr_add(err, path, "error.expected.jsobject");
				bad++;
			} else if (!json_is_string(src)) {
				strcat(path, "/source");
				verr_add(err, path, "error.path.missing");
				bad++;
			} else if (!app_secret_source_valid(json_string_value(src))) {
				strcat(path, "/source");
				verr_add(err, path,
					 "must be '/'-separated names of [A-Za-z0-9._-], none '.' or "
					 "'..', at most 255 characters");
				bad++;
			}
		}
	}
	json_object_foreach(json_object_get(app, "env"), k, v) {
		const char *ref = json_string_value(json_object_get(v, "secret"));
		if (!json_is_object(v) || !ref)
			continue;
		if (!json_is_object(json_object_get(secrets, ref))) {
			char path[320];
			snprintf(path, sizeof(path), "/env/%.255s/secret", k);
			verr_add(err, path, "references an undefined secret");
			bad++;
		}
	}
	return bad ? -EINVAL : 0;
}
