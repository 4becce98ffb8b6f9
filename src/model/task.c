/* Task ids, launch backoff and the environment a task starts with (reference/compat.md
 * §3.3 "Task ID formats", §3.5). */
#include "model/task.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/strbuf.h"
#include "base/util.h"

static void safe_app_id(const char *app_id, char *out, size_t outlen)
{
	const char *p = app_id[0] == '/' ? app_id + 1 : app_id;
	size_t i = 0;
	for (; *p && i + 1 < outlen; p++)
		out[i++] = *p == '/' ? '_' : *p;
	out[i] = '\0';
}

void task_id_format(const char *app_id, const char *instance_uuid, unsigned attempt, char *out)
{
	char safe[TASK_ID_MAX];
	safe_app_id(app_id, safe, sizeof(safe));
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s.instance-%s._app.%u", safe, instance_uuid, attempt);
	size_t n = sb.len < TASK_ID_MAX - 1 ? sb.len : TASK_ID_MAX - 1;
	memcpy(out, strbuf_str(&sb), n);
	out[n] = '\0';
	strbuf_release(&sb);
}

static bool is_uuid(const char *s, size_t n)
{
	if (n != 36)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

static int copy_part(char *out, const char *s, size_t n)
{
	if (!n || n >= TASK_ID_MAX)
		return -EINVAL;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

int task_id_parse(const char *task_id, char *safe_app_id_out, char *instance_uuid,
		  unsigned *attempt)
{
	size_t len = strlen(task_id);
	if (!len || len >= TASK_ID_MAX)
		return -EINVAL;
	/* "<safe>.instance-<uuid>._app.<n>": the uuid is fixed-width, so anchor on the
	 * last ".instance-" (the app id itself may contain dots, even "instance-"). */
	const char *inst = NULL;
	for (const char *p = strstr(task_id, ".instance-"); p; p = strstr(p + 1, ".instance-"))
		inst = p;
	if (inst) {
		const char *u = inst + strlen(".instance-");
		const char *rest = u + 36;
		if ((size_t)(rest - task_id) <= len && is_uuid(u, 36) &&
		    !strncmp(rest, "._app.", 6)) {
			uint64_t n;
			if (parse_u64(rest + 6, &n) < 0 || n > 0xffffffffu)
				return -EINVAL;
			if (copy_part(safe_app_id_out, task_id, (size_t)(inst - task_id)) < 0)
				return -EINVAL;
			copy_part(instance_uuid, u, 36);
			*attempt = (unsigned)n;
			return 0;
		}
	}
	/* Legacy "<safe>.<uuid>". */
	if (len > 37 && task_id[len - 37] == '.' && is_uuid(task_id + len - 36, 36)) {
		if (copy_part(safe_app_id_out, task_id, len - 37) < 0)
			return -EINVAL;
		copy_part(instance_uuid, task_id + len - 36, 36);
		*attempt = 1;
		return 0;
	}
	return -EINVAL;
}

double backoff_delay_seconds(double backoff_seconds, double factor, double max_delay,
			     unsigned failures)
{
	if (failures == 0)
		return 0;
	double d = backoff_seconds * pow(factor, (double)(failures - 1));
	if (!(d <= max_delay)) /* also catches inf and NaN */
		d = max_delay;
	return d < 0 ? 0 : d;
}

/* Label key as an environment name: runs of [^a-zA-Z0-9_] become one '_', upper-cased. */
static char *sanitize_key(const char *k)
{
	struct strbuf sb = STRBUF_INIT;
	bool in_run = false;
	for (const char *p = k; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (isalnum(ch) || ch == '_') {
			strbuf_addch(&sb, (char)toupper(ch));
			in_run = false;
		} else if (!in_run) {
			strbuf_addch(&sb, '_');
			in_run = true;
		}
	}
	return strbuf_detach(&sb, NULL);
}

static void set_str(json_t *env, const char *k, const char *v)
{
	json_object_set_new(env, k, json_string(v));
}

static void set_u32(json_t *env, const char *k, uint32_t v)
{
	char buf[16];
	snprintf(buf, sizeof(buf), "%u", v);
	set_str(env, k, buf);
}

static void set_double(json_t *env, const char *k, double v)
{
	char buf[32];
	app_double_java(v, buf);
	set_str(env, k, buf);
}

#define LABEL_ENV_MAX 512

json_t *task_env_build(const struct app *a, const char *host, const uint32_t *ports,
		       size_t nports, const char *task_id)
{
	json_t *env = json_object();
	char name[300];
	if (host)
		set_str(env, "HOST", host);
	struct strbuf all = STRBUF_INIT;
	for (size_t i = 0; i < nports; i++) {
		snprintf(name, sizeof(name), "PORT%zu", i);
		set_u32(env, name, ports[i]);
		strbuf_addf(&all, "%s%u", i ? "," : "", ports[i]);
	}
	if (nports) {
		set_u32(env, "PORT", ports[0]);
		set_str(env, "PORTS", strbuf_str(&all));
	}
	strbuf_release(&all);
	for (size_t i = 0; i < nports; i++) {
		const struct port_def *pd = i < a->nports ? &a->ports[i] : NULL;
		uint32_t requested = pd ? (pd->container_port ? pd->container_port : pd->port) : 0;
		snprintf(name, sizeof(name), "PORT_%u", requested ? requested : ports[i]);
		set_u32(env, name, ports[i]);
		if (pd && pd->name) {
			char *up = xstrdup(pd->name);
			for (char *p = up; *p; p++)
				*p = (char)toupper((unsigned char)*p);
			snprintf(name, sizeof(name), "PORT_%s", up);
			free(up);
			set_u32(env, name, ports[i]);
		}
	}
	if (task_id)
		set_str(env, "MESOS_TASK_ID", task_id);
	set_str(env, "MARATHON_APP_ID", a->id ? a->id : "");
	set_str(env, "MARATHON_APP_VERSION", a->version);
	const char *image = json_string_value(json_object_get(
		json_object_get(json_object_get(a->json, "container"), "docker"), "image"));
	if (image)
		set_str(env, "MARATHON_APP_DOCKER_IMAGE", image);
	set_double(env, "MARATHON_APP_RESOURCE_CPUS", a->cpus);
	set_double(env, "MARATHON_APP_RESOURCE_MEM", a->mem);
	set_double(env, "MARATHON_APP_RESOURCE_DISK", a->disk);
	/* gpus is an integer in Marathon's Resources, so it prints without a fraction. */
	snprintf(name, sizeof(name), "%lld", (long long)a->gpus);
	set_str(env, "MARATHON_APP_RESOURCE_GPUS", name);

	struct strbuf keys = STRBUF_INIT;
	const char *k;
	json_t *v;
	json_object_foreach(a->labels, k, v) {
		if (!json_is_string(v) || strlen(k) >= LABEL_ENV_MAX ||
		    json_string_length(v) >= LABEL_ENV_MAX)
			continue;
		char *s = sanitize_key(k);
		strbuf_addf(&keys, "%s%s", keys.len ? " " : "", s);
		snprintf(name, sizeof(name), "MARATHON_APP_LABEL_%s", s);
		set_str(env, name, json_string_value(v));
		free(s);
	}
	set_str(env, "MARATHON_APP_LABELS", strbuf_str(&keys));
	strbuf_release(&keys);

	/* The app's own env last: it overrides everything above. Secret references are
	 * not values and are left to whoever resolves them. */
	json_object_foreach(a->env, k, v) {
		if (json_is_string(v))
			json_object_set(env, k, v);
	}
	return env;
}

/* Every Mesos task state; the terminal ones first. */
static const char *const task_states[] = {
	"TASK_FINISHED", "TASK_FAILED",	     "TASK_KILLED",	"TASK_LOST",
	"TASK_ERROR",	 "TASK_DROPPED",     "TASK_GONE",	"TASK_GONE_BY_OPERATOR",
	"TASK_STAGING",	 "TASK_STARTING",    "TASK_RUNNING",	"TASK_KILLING",
	"TASK_UNREACHABLE", "TASK_UNKNOWN",
};
#define NTERMINAL 8

const char *task_state_intern(const char *s)
{
	for (size_t i = 0; s && i < sizeof(task_states) / sizeof(task_states[0]); i++)
		if (!strcmp(s, task_states[i]))
			return task_states[i];
	return NULL;
}

bool task_state_terminal(const char *s)
{
	for (size_t i = 0; s && i < NTERMINAL; i++)
		if (!strcmp(s, task_states[i]))
			return true;
	return false;
}
