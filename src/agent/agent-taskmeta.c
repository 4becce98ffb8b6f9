/* What the agent keeps of a task beyond its shim's files: the owning framework's id and its
 * FrameworkInfo (from the LAUNCH record's "framework_id" and "framework_info",
 * agent-protocol.md §2), in <meta>/<task>/framework_id and framework_info so that a restarted
 * agent still reports them (GET_FRAMEWORKS); and the task list of /state and the master link.
 *
 * Invariants: t->framework_id is NULL or a valid id of at most AGENT_FWID_MAX bytes; a file
 * that is missing, too long or not one line leaves it NULL (the key is then left out).
 * t->framework_info is NULL or an object of at most AGENT_FWINFO_MAX bytes whose id is
 * t->framework_id (anything else is dropped, on LAUNCH and on load alike). */
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent-int.h"
#include "base/log.h"
#include "base/mem.h"
#include "executor/exec-prestop.h"

#define AGENT_FWID_MAX 255
#define AGENT_FWINFO_MAX 65536

static bool fwid_valid(const char *s, size_t n)
{
	if (n == 0 || n > AGENT_FWID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static void fwid_set(struct agent_task *t, const char *framework_id)
{
	free(t->framework_id);
	t->framework_id = framework_id && fwid_valid(framework_id, strlen(framework_id))
				  ? xstrdup(framework_id) : NULL;
}

/* info if it is a FrameworkInfo of t's framework that fits, else NULL (a new reference). */
static json_t *fwinfo_checked(const struct agent_task *t, json_t *info)
{
	const char *id = json_string_value(json_object_get(json_object_get(info, "id"), "value"));
	if (!json_is_object(info) || !t->framework_id || !id || strcmp(id, t->framework_id))
		return NULL;
	char *s = json_dumps(info, JSON_COMPACT);
	size_t n = s ? strlen(s) : SIZE_MAX;
	free(s);
	return n <= AGENT_FWINFO_MAX ? json_incref(info) : NULL;
}

void agent_task_framework_set(struct agent_task *t, const json_t *spec)
{
	fwid_set(t, json_string_value(json_object_get(spec, "framework_id")));
	json_decref(t->framework_info);
	t->framework_info = fwinfo_checked(t, json_object_get(spec, "framework_info"));
}

static void fwinfo_save(const struct agent_task *t)
{
	char *tmp = xasprintf("%s/.framework_info.tmp", t->meta_dir);
	char *path = xasprintf("%s/framework_info", t->meta_dir);
	char *s = json_dumps(t->framework_info, JSON_COMPACT);
	int r = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t n = s ? strlen(s) : 0;
	if (fd < 0 || !s || write(fd, s, n) != (ssize_t)n || fsync(fd) == -1)
		r = fd < 0 || s ? -errno : -ENOMEM;
	if (fd >= 0 && close(fd) == -1 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) == -1)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		log_warn("agent", "task '%s': cannot save its FrameworkInfo in '%s': %s", t->id,
			 path, strerror(-r));
	}
	free(s);
	free(tmp);
	free(path);
}

int agent_task_framework_save(const struct agent_task *t)
{
	if (!t->framework_id)
		return 0;
	if (t->framework_info)
		fwinfo_save(t);
	char *tmp = xasprintf("%s/.framework_id.tmp", t->meta_dir);
	char *path = xasprintf("%s/framework_id", t->meta_dir);
	int r = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t n = strlen(t->framework_id);
	if (fd < 0 || write(fd, t->framework_id, n) != (ssize_t)n || fsync(fd) == -1)
		r = -errno;
	if (fd >= 0 && close(fd) == -1 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) == -1)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		log_warn("agent", "task '%s': cannot save its framework id in '%s': %s", t->id,
			 path, strerror(-r));
	}
	free(tmp);
	free(path);
	return r;
}

void agent_task_framework_load(struct agent_task *t)
{
	char *path = xasprintf("%s/framework_id", t->meta_dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return;
	char buf[AGENT_FWID_MAX + 2];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || !fwid_valid(buf, (size_t)n))
		return;
	buf[n] = '\0';
	fwid_set(t, buf);
	json_decref(t->framework_info);
	t->framework_info = NULL;
	path = xasprintf("%s/framework_info", t->meta_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return;
	char *info_buf = xmalloc(AGENT_FWINFO_MAX + 1); /* bounded: a longer file is dropped */
	n = read(fd, info_buf, AGENT_FWINFO_MAX + 1);
	close(fd);
	json_t *info = n > 0 && n <= AGENT_FWINFO_MAX ? json_loadb(info_buf, (size_t)n, 0, NULL)
						      : NULL;
	free(info_buf);
	t->framework_info = fwinfo_checked(t, info);
	json_decref(info);
}

json_t *agent_tasks_json(struct agent *a, bool with_sandbox)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < a->nbuckets; i++) {
		for (struct agent_task *t = a->buckets[i]; t; t = t->hnext) {
			json_t *o = json_pack("{s:s, s:s}", "task_id", t->id, "state", t->state);
			if (with_sandbox && t->framework_id) /* /state only: the link's list is as before */
				json_object_set_new(o, "framework_id", json_string(t->framework_id));
			if (with_sandbox)
				json_object_set_new(o, "sandbox", json_string(t->sandbox));
			json_array_append_new(arr, o);
		}
	}
	return arr;
}

/* The pre-stop command of a KILL (agent-task.c). */
int agent_prestop_parse(json_t *pre_stop, const char **command, uint32_t *timeout_ms)
{
	json_t *c = json_object_get(pre_stop, "command");
	const char *cmd = json_string_value(c);
	if (!cmd || !*cmd || strlen(cmd) != json_string_length(c) ||
	    strlen(cmd) > EXEC_PRESTOP_MAX_COMMAND)
		return -EINVAL;
	json_t *to = json_object_get(pre_stop, "timeout_seconds");
	double sec = json_is_number(to) ? json_number_value(to) : -1.0;
	uint32_t ms = EXEC_PRESTOP_DEFAULT_TIMEOUT_MS;
	if (sec > 0 && sec <= EXEC_PRESTOP_MAX_TIMEOUT_MS / 1000.0) {
		ms = (uint32_t)(sec * 1000.0);
		if (ms == 0)
			ms = 1;
	}
	*command = cmd;
	*timeout_ms = ms;
	return 0;
}
