/* The default executor's reading of a task group's TaskInfos (dexec.h): pure parsing into a
 * launch plan, and the task's sandbox under the executor's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/dexec.h"
#include "base/fsutil.h"
#include "base/mem.h"

void dexec_plan_release(struct dexec_plan *p)
{
	if (!p)
		return;
	free(p->task_id);
	for (size_t i = 0; p->argv && p->argv[i]; i++)
		free(p->argv[i]);
	free(p->argv);
	for (size_t i = 0; p->env && p->env[i]; i++)
		free(p->env[i]);
	free(p->env);
	for (size_t i = 0; i < p->nvols; i++) {
		free(p->vols[i].container_path);
		free(p->vols[i].path);
	}
	memset(p, 0, sizeof(*p));
}

/* A path relative to a sandbox that stays inside it: not empty, not absolute, no ".."
 * component, at most 255 bytes. */
static int rel_ok(const char *s)
{
	if (!s || !*s || *s == '/' || strlen(s) > 255)
		return 0;
	const char *c = s;
	while (*c) {
		const char *e = strchr(c, '/');
		size_t n = e ? (size_t)(e - c) : strlen(c);
		if (n == 2 && c[0] == '.' && c[1] == '.')
			return 0;
		c += n;
		while (*c == '/')
			c++;
	}
	return 1;
}

static int volumes_parse(const json_t *vols, struct dexec_plan *p, char *err, size_t errlen)
{
	size_t i;
	const json_t *v;
	if (vols && !json_is_array(vols)) {
		snprintf(err, errlen, "'container.volumes' must be an array");
		return -EINVAL;
	}
	if (json_array_size(vols) > DEXEC_MAX_VOLUMES) {
		snprintf(err, errlen, "at most %d volumes per task", DEXEC_MAX_VOLUMES);
		return -EINVAL;
	}
	json_array_foreach(vols, i, v) {
		const json_t *src = json_object_get(v, "source");
		const char *type = json_string_value(json_object_get(src, "type"));
		const json_t *sp = json_object_get(src, "sandbox_path");
		const char *sptype = json_string_value(json_object_get(sp, "type"));
		const char *cp = json_string_value(json_object_get(v, "container_path"));
		const char *path = json_string_value(json_object_get(sp, "path"));
		if (!type || strcmp(type, "SANDBOX_PATH")) {
			snprintf(err, errlen, "'container.volumes[%zu].source.type' must be "
					      "SANDBOX_PATH for the default executor", i);
			return -EINVAL;
		}
		if (!sptype || (strcmp(sptype, "PARENT") && strcmp(sptype, "SELF"))) {
			snprintf(err, errlen, "'container.volumes[%zu].source.sandbox_path.type' "
					      "must be PARENT or SELF", i);
			return -EINVAL;
		}
		if (!rel_ok(cp)) {
			snprintf(err, errlen, "'container.volumes[%zu].container_path' must be a "
					      "relative path inside the sandbox", i);
			return -EINVAL;
		}
		if (!rel_ok(path)) {
			snprintf(err, errlen, "'container.volumes[%zu].source.sandbox_path.path' must "
					      "be a relative path inside the sandbox", i);
			return -EINVAL;
		}
		p->vols[p->nvols++] = (struct dexec_volume){ .container_path = xstrdup(cp),
							     .path = xstrdup(path),
							     .parent = !strcmp(sptype, "PARENT") };
	}
	return 0;
}

int dexec_plan_parse(const json_t *ti, struct dexec_plan *p, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	const char *id = json_string_value(json_object_get(json_object_get(ti, "task_id"), "value"));
	if (!id || !*id || strchr(id, '/') || strlen(id) > 255) {
		snprintf(err, errlen, "'task_id.value' is required");
		return -EINVAL;
	}
	p->task_id = xstrdup(id);
	const json_t *cmd = json_object_get(ti, "command");
	const char *value = json_string_value(json_object_get(cmd, "value"));
	const json_t *shell = json_object_get(cmd, "shell");
	int sh = !json_is_boolean(shell) || json_is_true(shell);
	const json_t *args = json_object_get(cmd, "arguments");
	int r = -EINVAL;
	if (!value || !*value) {
		snprintf(err, errlen, "'command.value' is required");
		goto fail;
	}
	if ((args && !json_is_array(args)) || json_array_size(args) > DEXEC_MAX_ARGS) {
		snprintf(err, errlen, "'command.arguments' must be an array of at most %d strings",
			 DEXEC_MAX_ARGS);
		goto fail;
	}
	p->argv = xcalloc(json_array_size(args) + 4, sizeof(char *));
	if (sh) {
		p->argv[0] = xstrdup("/bin/sh");
		p->argv[1] = xstrdup("-c");
		p->argv[2] = xstrdup(value);
	} else {
		/* execvp(value, arguments): arguments[0] is argv[0], as under Mesos. */
		size_t i, n = 0;
		const json_t *a;
		p->argv[n++] = xstrdup(value);
		json_array_foreach(args, i, a) {
			if (!json_is_string(a)) {
				snprintf(err, errlen, "'command.arguments[%zu]' must be a string", i);
				goto fail;
			}
			if (i > 0)
				p->argv[n++] = xstrdup(json_string_value(a));
		}
	}
	const json_t *vars = json_object_get(json_object_get(cmd, "environment"), "variables");
	if ((vars && !json_is_array(vars)) || json_array_size(vars) > DEXEC_MAX_ENV) {
		snprintf(err, errlen, "'command.environment.variables' must be an array of at "
				      "most %d variables", DEXEC_MAX_ENV);
		goto fail;
	}
	p->env = xcalloc(json_array_size(vars) + 1, sizeof(char *));
	size_t i, n = 0;
	const json_t *v;
	json_array_foreach(vars, i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));
		const char *val = json_string_value(json_object_get(v, "value"));
		const char *type = json_string_value(json_object_get(v, "type"));
		if (!name || !*name || strchr(name, '=') || (type && strcmp(type, "VALUE"))) {
			snprintf(err, errlen, "'command.environment.variables[%zu]' must have a "
					      "'name' and a 'value' (type VALUE only)", i);
			goto fail;
		}
		p->env[n++] = xasprintf("%s=%s", name, val ? val : "");
	}
	p->grace_sec = 3.0;
	const json_t *ns = json_object_get(
		json_object_get(json_object_get(ti, "kill_policy"), "grace_period"), "nanoseconds");
	if (json_is_integer(ns) && json_integer_value(ns) >= 0 &&
	    json_integer_value(ns) < 86400LL * 1000000000LL)
		p->grace_sec = (double)json_integer_value(ns) / 1e9;
	if (volumes_parse(json_object_get(json_object_get(ti, "container"), "volumes"), p, err,
			  errlen) < 0)
		goto fail;
	return 0;
fail:
	dexec_plan_release(p);
	return r;
}

int dexec_sandbox_prepare(const char *exec_sandbox, const struct dexec_plan *p,
			  char **sandbox, char *msg, size_t msglen)
{
	char *dir = xasprintf("%s/tasks/%s", exec_sandbox, p->task_id);
	int r = fs_mkdir_p(dir, 0755);
	if (r < 0) {
		snprintf(msg, msglen, "Failed to create the task's sandbox '%s': %s", dir,
			 strerror(-r));
		free(dir);
		return r;
	}
	for (size_t i = 0; i < p->nvols; i++) {
		const struct dexec_volume *v = &p->vols[i];
		char *target = xasprintf("%s/%s", v->parent ? exec_sandbox : dir, v->path);
		char *link = xasprintf("%s/%s", dir, v->container_path);
		r = fs_mkdir_p(target, 0755);
		if (r == 0)
			r = fs_mkdir_parent(link, 0755);
		if (r == 0 && symlink(target, link) == -1 && errno != EEXIST)
			r = -errno;
		if (r < 0)
			snprintf(msg, msglen, "Failed to prepare volume '%s' of task '%s': %s",
				 v->container_path, p->task_id, strerror(-r));
		free(target);
		free(link);
		if (r < 0) {
			free(dir);
			return r;
		}
	}
	*sandbox = dir;
	return 0;
}
