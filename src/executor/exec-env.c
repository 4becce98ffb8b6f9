/* The task's environment as the shim execs it (exec-env.h). */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "executor/exec-env.h"
#include "executor/exec-volume.h"

/* Whether the spec's "K=V" names a variable a secret sets (the secret wins). */
static bool secret_named(const struct exec_spec *s, const char *kv)
{
	size_t kl = (size_t)(strchr(kv, '=') - kv);
	for (size_t i = 0; i < s->nsecret_env; i++)
		if (!strncmp(s->secret_env[i], kv, kl + 1))
			return true;
	return false;
}

/* The task's environment: the spec's, the secrets' (exec-secret.h), then MESOS_SANDBOX, then PATH from our own
 * environment when the spec has none (so that commands resolve as in a login shell), then
 * BERTH_VOLUME_<n>. */
char **exec_env_build(const struct exec_spec *s)
{
	char **env = calloc(s->nenv + 3 + s->nvolumes + s->nsecret_env, sizeof(char *));
	size_t n = 0;
	int have_path = 0;
	if (!env)
		return NULL;
	for (size_t i = 0; i < s->nenv; i++) {
		if (!strncmp(s->env[i], "MESOS_SANDBOX=", 14))
			continue;
		if (secret_named(s, s->env[i]))
			continue;
		if (!strncmp(s->env[i], "PATH=", 5))
			have_path = 1;
		env[n++] = (char *)s->env[i];
	}
	/* Borrowed from the spec (exec_spec_release wipes them), unlike the rest below. */
	for (size_t i = 0; i < s->nsecret_env; i++) {
		if (!strncmp(s->secret_env[i], "PATH=", 5))
			have_path = 1;
		env[n++] = s->secret_env[i];
	}
	size_t sl = strlen(s->sandbox);
	char *sb = malloc(sl + 15);
	if (!sb) {
		free(env);
		return NULL;
	}
	memcpy(sb, "MESOS_SANDBOX=", 14);
	memcpy(sb + 14, s->sandbox, sl + 1);
	env[n++] = sb;
	const char *path = getenv("PATH");
	if (!have_path && path) {
		size_t pl = strlen(path);
		char *pe = malloc(pl + 6);
		if (pe) {
			memcpy(pe, "PATH=", 5);
			memcpy(pe + 5, path, pl + 1);
			env[n++] = pe;
		}
	}
	for (size_t i = 0; i < s->nvolumes; i++) {
		char target[PATH_MAX], *ve;
		if (exec_volume_target(s->sandbox, &s->volumes[i], target, sizeof(target)) < 0)
			continue;
		char name[32];
		int nl = snprintf(name, sizeof(name), "BERTH_VOLUME_%zu=", i);
		size_t tl = strlen(target);
		ve = malloc((size_t)nl + tl + 1);
		if (!ve)
			continue;
		memcpy(ve, name, (size_t)nl);
		memcpy(ve + nl, target, tl + 1);
		env[n++] = ve;
	}
	env[n] = NULL;
	return env;
}

/* Frees what exec_env_build allocated (the strings past the spec's own). */
void exec_env_free(char **env, const struct exec_spec *s)
{
	if (!env)
		return;
	for (char **e = env; *e; e++) {
		bool own = true;
		for (size_t i = 0; i < s->nenv; i++)
			if (*e == s->env[i])
				own = false;
		for (size_t i = 0; i < s->nsecret_env; i++)
			if (*e == s->secret_env[i])
				own = false;
		if (own)
			free(*e);
	}
	free(env);
}

void exec_tool_path(char *buf, size_t size, const char *env_var, const char *name,
		    const char *alt_dir)
{
	const char *env = getenv(env_var);
	if (env && *env) {
		snprintf(buf, size, "%s", env);
		return;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	char *slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	if ((size_t)snprintf(buf, size, "%s/%s", slash ? self : ".", name) >= size)
		snprintf(buf, size, "%s", name);
	else if (alt_dir && slash && access(buf, X_OK) != 0 &&
		 (size_t)snprintf(buf, size, "%s/%s/%s", self, alt_dir, name) >= size)
		snprintf(buf, size, "%s", name);
}
