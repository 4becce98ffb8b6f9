/* Marathon's secrets on the agent (docs/security.md, "Secrets"): a TaskSpec's "secrets"
 * (agent-protocol.md §2) names, per environment variable, a source in the agent's
 * --secrets-dir. The agent checks each source here before it spawns the shim, so a missing
 * or badly kept secret fails the task with a message naming it; the values themselves are
 * read again by the shim (exec-secret.h) and never pass through this process's logs,
 * checkpoints or the spec file.
 *
 * Invariant: nothing here keeps, logs or copies a value: exec_secret_read's buffer is wiped
 * and freed at once. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "agent/agent-int.h"
#include "executor/exec-secret.h"

int agent_secrets_init(struct agent *a, const char *dir)
{
	if (!dir || !*dir)
		return 0;
	char msg[PATH_MAX + 256];
	char *abs = realpath(dir, NULL);
	if (!abs) {
		int e = errno;
		log_error("agent", "--secrets-dir %s: %s", dir, strerror(e));
		return -e;
	}
	int r = exec_secret_dir_check(abs, msg, sizeof(msg));
	if (r < 0) {
		log_error("agent", "--secrets-dir: %s", msg);
		free(abs);
		return r;
	}
	a->secrets_dir = abs;
	return 0;
}

int agent_secrets_spec(struct agent *a, json_t *spec, struct exec_spec *es, char ***owned,
		       char *msg, size_t msgsize)
{
	json_t *list = json_object_get(spec, "secrets");
	*owned = NULL;
	if (!json_is_array(list) || json_array_size(list) == 0)
		return 0;
	if (json_array_size(list) > EXEC_SPEC_MAX_ITEMS) {
		snprintf(msg, msgsize, "Too many secrets");
		return -E2BIG;
	}
	char **v = xcalloc(json_array_size(list) + 1, sizeof(char *));
	size_t n = 0, i;
	json_t *x;
	int r = 0;
	json_array_foreach(list, i, x) {
		const char *name = json_string_value(json_object_get(x, "name"));
		const char *secret = json_string_value(json_object_get(x, "secret"));
		const char *source = json_string_value(json_object_get(x, "source"));
		if (!name || !*name || strchr(name, '=') || !source) {
			snprintf(msg, msgsize, "Malformed secret reference in the task");
			r = -EINVAL;
			break;
		}
		if (!secret)
			secret = source;
		if (!a->secrets_dir) {
			snprintf(msg, msgsize,
				 "Secret '%.64s' (source '%.128s') for %.64s: this agent has no "
				 "secret store (--secrets-dir)",
				 secret, source, name);
			r = -ENOENT;
			break;
		}
		char why[256] = "";
		char *val = NULL;
		size_t vl = 0;
		r = exec_secret_read(a->secrets_dir, source, &val, &vl, why, sizeof(why));
		if (r < 0) {
			snprintf(msg, msgsize,
				 "Secret '%.64s' (source '%.128s') for %.64s is not available: %s",
				 secret, source, name, why);
			break;
		}
		explicit_bzero(val, vl);
		free(val);
		v[n++] = xasprintf("%s=%s", name, source);
	}
	if (r < 0) {
		for (size_t k = 0; k < n; k++)
			free(v[k]);
		free(v);
		return r;
	}
	es->secrets_dir = a->secrets_dir;
	es->secrets = (const char **)v;
	es->nsecrets = n;
	*owned = v;
	return 0;
}

int agent_secrets_env(struct agent *a, json_t *spec, char **env, size_t *n, size_t max,
		      char *msg, size_t msgsize)
{
	struct exec_spec es = { 0 };
	char **refs = NULL;
	int r = agent_secrets_spec(a, spec, &es, &refs, msg, msgsize);
	for (size_t i = 0; r == 0 && i < es.nsecrets; i++) {
		if (*n >= max) {
			snprintf(msg, msgsize, "Too many environment variables");
			r = -E2BIG;
			break;
		}
		char why[256] = "";
		r = exec_secret_env(a->secrets_dir, refs[i], &env[*n], why, sizeof(why));
		if (r < 0) {
			snprintf(msg, msgsize, "Secret for %.*s is not available: %s",
				 (int)strcspn(refs[i], "="), refs[i], why);
			break;
		}
		(*n)++;
	}
	for (size_t i = 0; i < es.nsecrets; i++)
		free(refs[i]);
	free(refs);
	return r;
}
