/* The agent's side of task isolation (docs/isolation.md): which isolation it applies (the
 * flags), what it puts in each task's spec (cgroup, limits from the task's resources,
 * namespaces, user), and the removal of the cgroups of tasks that ended without their shim.
 * The shim does the enforcing (exec-cgroup.h, executor.c). */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent-int.h"
#include "base/log.h"
#include "base/fsutil.h"
#include "base/mem.h"
#include "base/util.h"
#include "executor/exec-cgroup.h"
#include "executor/exec-spec.h"

/* Mesos's floors: a task never gets less than these. */
#define MIN_CPU_SHARES 2u
#define MIN_MEM_BYTES (32ull << 20)
#define MIN_CFS_QUOTA_US 1000u
#define CFS_PERIOD_US 100000u

int agent_isolation_parse(const char *list, bool *cgroups, bool *namespaces, char *err,
			  size_t errsize)
{
	*cgroups = *namespaces = false;
	if (!list || !*list)
		return 0;
	char *dup = xstrdup(list), *save = NULL;
	int r = 0;
	for (char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "none") || !strncmp(tok, "posix/", 6))
			continue;
		if (!strcmp(tok, "cgroups") || !strncmp(tok, "cgroups/", 8))
			*cgroups = true;
		else if (!strcmp(tok, "namespaces") || !strncmp(tok, "namespaces/", 11) ||
			 !strcmp(tok, "filesystem/linux"))
			*namespaces = true;
		else {
			snprintf(err, errsize,
				 "unknown isolation '%s' (want none, cgroups, namespaces)", tok);
			r = -EINVAL;
			break;
		}
	}
	free(dup);
	return r;
}

static int fetch_cache_init(struct agent *a, const struct agent_config *cfg);

/* Whether this process may make new pid and mount namespaces (root, and CAP_SYS_ADMIN in
 * its user namespace: a root in an unprivileged container may not): a child tries. */
static bool can_unshare(void)
{
	pid_t pid = fork();
	if (pid == -1)
		return false;
	if (pid == 0)
		_exit(unshare(CLONE_NEWNS | CLONE_NEWPID) == -1 ? 1 : 0);
	int st;
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return false;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Whether the agent may make cgroups under the detected hierarchy: the parent cgroup is
 * made (it stays, as Mesos's /mesos does). On v1 the memory controller is the test. */
static bool can_make_cgroup(const char *root, int version, const char *parent, char *why,
			    size_t whysize)
{
	char *dir = version == EXEC_CG_V2 ? xasprintf("%s/%s", root, parent)
					  : xasprintf("%s/memory/%s", root, parent);
	int r = fs_mkdir_p(dir, 0755);
	if (r < 0)
		snprintf(why, whysize, "cannot create '%s': %s", dir, strerror(-r));
	free(dir);
	return r >= 0;
}

/* Whether the hierarchy at root has controller c: a v1 mount <root>/<c>, or c in v2's
 * <root>/cgroup.controllers. */
static bool has_controller(const char *root, int version, const char *c)
{
	char *p = version == EXEC_CG_V2 ? xasprintf("%s/cgroup.controllers", root)
					: xasprintf("%s/%s", root, c);
	bool ok = false;
	if (version != EXEC_CG_V2) {
		struct stat st;
		ok = stat(p, &st) == 0 && S_ISDIR(st.st_mode);
	} else {
		FILE *f = fopen(p, "re");
		char line[512] = "";
		if (f && fgets(line, sizeof(line), f)) {
			char *save = NULL;
			for (char *w = strtok_r(line, " \n", &save); w && !ok;
			     w = strtok_r(NULL, " \n", &save))
				ok = !strcmp(w, c);
		}
		if (f)
			fclose(f);
	}
	free(p);
	return ok;
}

int agent_isolation_init(struct agent *a, const struct agent_config *cfg)
{
	char err[256] = "";
	bool cg, ns;
	/* No --isolation: cgroups and namespaces where the machine allows them (the default,
	 * issue 14), each dropped with a warning where it does not; an explicit list is
	 * required (an agent asked for cgroups that cannot have them refuses to start). */
	bool deflt = !cfg->isolation || !strcmp(cfg->isolation, "default");
	if (deflt)
		cg = ns = true;
	else if (agent_isolation_parse(cfg->isolation, &cg, &ns, err, sizeof(err)) < 0) {
		log_error("agent", "--isolation: %s", err);
		return -EINVAL;
	}
	uint64_t pids = 4096;
	if (cfg->cgroups_pids_max && *cfg->cgroups_pids_max &&
	    (parse_u64(cfg->cgroups_pids_max, &pids) < 0 || pids > (1u << 22))) {
		log_error("agent", "--cgroups-pids-max '%s': want a number (0 = no limit)",
			  cfg->cgroups_pids_max);
		return -EINVAL;
	}
	const char *root = cfg->cgroups_root && *cfg->cgroups_root ? cfg->cgroups_root
								   : "/sys/fs/cgroup";
	const char *parent = cfg->cgroups_parent && *cfg->cgroups_parent ? cfg->cgroups_parent
									 : "berth";
	if (root[0] != '/' || !exec_cg_name_valid(parent)) {
		log_error("agent", "--cgroups-root must be absolute and --cgroups-parent relative "
				   "without '..'");
		return -EINVAL;
	}
	if (fetch_cache_init(a, cfg) < 0)
		return -EINVAL;
	a->cg_root = xstrdup(root);
	a->cg_parent = xstrdup(parent);
	a->cg_pids_max = pids;
	a->cg_cfs = cfg->cgroups_enable_cfs;
	a->switch_user = cfg->switch_user;
	if (cfg->default_user && *cfg->default_user) {
		struct passwd *pw = getpwnam(cfg->default_user);
		if (!pw) {
			log_error("agent", "--default-user '%s': no such user on this machine",
				  cfg->default_user);
			return -ENOENT;
		}
		if (geteuid() != 0 && pw->pw_uid != geteuid()) {
			log_error("agent", "--default-user '%s': the agent must run as root to run "
					   "tasks as another user", cfg->default_user);
			return -EPERM;
		}
		a->default_user = xstrdup(cfg->default_user);
	}
	if (deflt && (cg || ns) && geteuid() != 0) {
		log_warn("agent", "isolation off: the agent does not run as root, so tasks' cpus "
				  "and mem are not enforced and tasks share its pid and mount "
				  "namespaces (--isolation none says this is intended)");
		cg = ns = false;
	}
	if (deflt && ns && !can_unshare()) {
		log_warn("agent", "namespaces off: this agent may not create pid and mount "
				  "namespaces (no CAP_SYS_ADMIN); tasks share the agent's /tmp and "
				  "a kill may miss daemonized children");
		ns = false;
	}
	a->ns_isolation = ns;
	if (cg) {
		int v = exec_cg_detect(root);
		if (v < 0 && deflt) {
			log_warn("agent", "cgroups off: no cgroup hierarchy (v1 or v2) is mounted at "
					  "'%s'; tasks' cpus and mem are not enforced", root);
		} else if (v < 0) {
			log_error("agent", "--isolation cgroups: no cgroup hierarchy (v1 or v2) is "
					   "mounted at '%s'", root);
			return -ENOENT;
		} else if (deflt && (!has_controller(root, v, "memory") ||
				     !has_controller(root, v, "cpu"))) {
			log_warn("agent", "cgroups off: the cgroup hierarchy at '%s' lacks the '%s' "
					  "controller; tasks' cpus and mem are not enforced", root,
				 has_controller(root, v, "memory") ? "cpu" : "memory");
		} else if (deflt && !can_make_cgroup(root, v, parent, err, sizeof(err))) {
			log_warn("agent", "cgroups off: %s; tasks' cpus and mem are not enforced",
				 err);
		} else {
			a->cg_version = v;
			if (deflt && a->cg_pids_max && !has_controller(root, v, "pids")) {
				log_warn("agent", "no pids limit: the cgroup hierarchy at '%s' lacks the "
						  "'pids' controller", root);
				a->cg_pids_max = 0;
			}
		}
	}
	if (agent_image_init(a, cfg) < 0)
		return -EINVAL;
	log_info("agent", "isolation: cgroups %s, namespaces %s%s%s%s",
		 a->cg_version == EXEC_CG_V2 ? "v2" : a->cg_version == EXEC_CG_V1 ? "v1" : "off",
		 ns ? "pid+mount" : "off", a->switch_user ? ", --switch-user" : "",
		 a->default_user ? ", default user " : "", a->default_user ? a->default_user : "");
	return 0;
}

/* --fetcher-cache-dir and --fetcher-cache-size. 0 or -EINVAL (logged). */
static int fetch_cache_init(struct agent *a, const struct agent_config *cfg)
{
	uint64_t max = 2ull << 30;
	const char *size = cfg->fetcher_cache_size;
	if (size && *size && parse_bytes(size, &max) < 0) {
		log_error("agent", "--fetcher-cache-size '%s': want bytes (a number, or with KB, MB, "
				   "GB)", size);
		return -EINVAL;
	}
	if (!max)
		return 0;
	const char *dir = cfg->fetcher_cache_dir;
	if (dir && *dir && dir[0] != '/') {
		log_error("agent", "--fetcher-cache-dir '%s' must be absolute", dir);
		return -EINVAL;
	}
	a->fetch_cache = dir && *dir ? xstrdup(dir) : xasprintf("%s/fetch-cache", a->work_dir);
	a->fetch_cache_max = max;
	int r = fs_mkdir_p(a->fetch_cache, 0700);
	if (r < 0) {
		log_error("agent", "cannot create the fetcher cache '%s': %s", a->fetch_cache,
			  strerror(-r));
		return r;
	}
	return 0;
}

void agent_isolation_free(struct agent *a)
{
	free(a->fetch_cache);
	free(a->default_user);
	free(a->cg_root);
	free(a->cg_parent);
	free(a->cg_name_buf);
	agent_image_free(a);
}

void agent_isolation_limits(double cpus, double mem_mib, bool cfs, uint64_t *shares,
			    uint64_t *quota_us, uint64_t *mem_bytes)
{
	double s = cpus * 1024.0;
	*shares = s < MIN_CPU_SHARES ? MIN_CPU_SHARES : s > 262144.0 ? 262144 : (uint64_t)s;
	*quota_us = 0;
	if (cfs) {
		double q = cpus * CFS_PERIOD_US;
		*quota_us = q < MIN_CFS_QUOTA_US ? MIN_CFS_QUOTA_US : (uint64_t)q;
	}
	double m = mem_mib * 1024.0 * 1024.0;
	*mem_bytes = m < (double)MIN_MEM_BYTES ? MIN_MEM_BYTES : (uint64_t)m;
}

/* A run inside a running task of this agent (the spec's "attach": {"task_id"}; exec-attach.h):
 * the shim joins that task's cgroup and namespaces and takes its user, so the run gets none
 * of its own. 0, or -ESRCH with msg when that task is not running here. */
static int attach_spec(struct agent *a, struct agent_task *t, json_t *attach,
		       struct exec_spec *es, char *msg, size_t msgsize)
{
	const char *id = json_string_value(json_object_get(attach, "task_id"));
	struct agent_task *in = id ? agent_task_find(a, id) : NULL;
	if (!in || in == t || in->terminal || in->kill_requested || in->xexec ||
	    !in->state || strcmp(in->state, "TASK_RUNNING")) {
		snprintf(msg, msgsize, "Instance task '%s' is not running on this agent",
			 id ? id : "");
		return -ESRCH;
	}
	es->attach = in->meta_dir;
	return 0;
}

const char *agent_task_user(const struct agent *a, json_t *spec)
{
	const char *user = json_string_value(json_object_get(spec, "user"));
	if (a->switch_user && user && *user)
		return user;
	/* A container without a user of its app's keeps its image's User (OCI process.user). */
	if (json_string_value(json_object_get(json_object_get(spec, "container"), "image")))
		return NULL;
	return a->default_user;
}

int agent_isolation_spec(struct agent *a, struct agent_task *t, json_t *spec,
			 struct exec_spec *es, char *msg, size_t msgsize)
{
	json_t *attach = json_object_get(spec, "attach");
	if (attach)
		return attach_spec(a, t, attach, es, msg, msgsize);
	if (a->cg_version) {
		json_t *res = json_object_get(spec, "resources");
		double cpus = json_number_value(json_object_get(res, "cpus"));
		double mem = json_number_value(json_object_get(res, "mem"));
		free(a->cg_name_buf);
		a->cg_name_buf = xasprintf("%s/%s", a->cg_parent, t->id);
		es->cg_root = a->cg_root;
		es->cg_name = a->cg_name_buf;
		agent_isolation_limits(cpus, mem, a->cg_cfs, &es->cg_cpu_shares,
				       &es->cg_cfs_quota_us, &es->cg_mem_bytes);
		es->cg_cfs_period_us = a->cg_cfs ? CFS_PERIOD_US : 0;
		es->cg_pids_max = a->cg_pids_max;
	}
	es->isolate = a->ns_isolation;
	es->fetch_cache = a->fetch_cache;
	es->fetch_cache_max = a->fetch_cache_max;
	const char *user = agent_task_user(a, spec);
	/* A container's user may exist in its image only: berth-image resolves it there. */
	bool image = json_string_value(json_object_get(json_object_get(spec, "container"),
						       "image")) != NULL;
	if (user) {
		if (!image && !getpwnam(user)) {
			snprintf(msg, msgsize, "Failed to switch to user '%s': no such user on the "
					       "agent", user);
			return -ENOENT;
		}
		es->user = user;
	}
	return 0;
}

void agent_isolation_resize(struct agent *a, const char *task_id, json_t *resources)
{
	struct agent_task *t = task_id ? agent_task_find(a, task_id) : NULL;
	if (!t || t->terminal) {
		log_warn("agent", "RESIZE of task '%s', which is not running here, ignored",
			 task_id ? task_id : "");
		return;
	}
	if (!a->cg_version) {
		log_info("agent", "task '%s' resized (no cgroups here: no limits to change)", t->id);
		return;
	}
	double cpus = json_number_value(json_object_get(resources, "cpus"));
	double mem = json_number_value(json_object_get(resources, "mem"));
	struct exec_cg_limits l = { 0 };
	agent_isolation_limits(cpus, mem, a->cg_cfs, &l.cpu_shares, &l.cfs_quota_us,
			       &l.mem_bytes);
	l.cfs_period_us = a->cg_cfs ? CFS_PERIOD_US : 0;
	char *name = xasprintf("%s/%s", a->cg_parent, t->id);
	char err[600] = "";
	int r = exec_cg_update(a->cg_root, name, &l, err, sizeof(err));
	if (r < 0) {
		/* The master counts the new size already: it replaces the task (apps.c). */
		log_warn("agent", "task '%s': cannot resize its cgroup: %s", t->id, err);
		char msg[700];
		snprintf(msg, sizeof(msg), "In-place resize failed: %s", err);
		agent_update_queue(a, t, t->id, t->state, msg, "REASON_BERTH_RESIZE_FAILED", -1, 0);
	} else
		log_info("agent", "task '%s' resized: cpu shares %llu, memory limit %llu MiB", t->id,
			 (unsigned long long)l.cpu_shares, (unsigned long long)(l.mem_bytes >> 20));
	free(name);
}

void agent_isolation_cleanup(struct agent *a, const struct agent_task *t)
{
	agent_image_cleanup(t);
	if (!a->cg_root)
		return;
	char *name = xasprintf("%s/%s", a->cg_parent, t->id);
	int r = exec_cg_destroy_name(a->cg_root, name);
	if (r < 0)
		log_warn("agent", "task '%s': cannot remove its cgroup '%s': %s", t->id, name,
			 strerror(-r));
	free(name);
}

/* MESOS_FRAMEWORK_ID and the command from a task's spec file ("" when unknown). */
static void spec_facts(const struct agent_task *t, char *fw, size_t fwsize, char *cmd,
		       size_t cmdsize)
{
	char *path = xasprintf("%s/spec", t->meta_dir);
	struct exec_spec es;
	fw[0] = cmd[0] = '\0';
	if (exec_spec_read_file(path, &es) == 0) {
		for (size_t i = 0; i < es.nenv; i++)
			if (!strncmp(es.env[i], "MESOS_FRAMEWORK_ID=", 19))
				snprintf(fw, fwsize, "%s", es.env[i] + 19);
		if (es.shell && es.cmd)
			snprintf(cmd, cmdsize, "sh -c '%s'", es.cmd);
		else if (es.nargs)
			snprintf(cmd, cmdsize, "%s", es.args[0]);
		exec_spec_release(&es);
	}
	free(path);
}

json_t *agent_isolation_statistics(struct agent *a)
{
	json_t *arr = json_array();
	if (!a->cg_version)
		return arr;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	double ts = (double)now.tv_sec + now.tv_nsec / 1e9;
	for (size_t i = 0; i < a->nbuckets; i++) {
		for (struct agent_task *t = a->buckets[i]; t; t = t->hnext) {
			if (t->terminal)
				continue;
			char *name = xasprintf("%s/%s", a->cg_parent, t->id);
			struct exec_cg_stats st;
			int r = exec_cg_stats_name(a->cg_root, name, &st);
			free(name);
			if (r < 0)
				continue;
			char fw[256], cmd[200];
			spec_facts(t, fw, sizeof(fw), cmd, sizeof(cmd));
			char *ename = xasprintf("Command Executor (Task: %s) (Command: %s)", t->id, cmd);
			json_t *s = json_pack(
				"{s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:f}", "cpus_limit", st.cpus_limit,
				"cpus_user_time_secs", st.cpus_user_time_secs, "cpus_system_time_secs",
				st.cpus_system_time_secs, "mem_rss_bytes", (json_int_t)st.mem_rss_bytes,
				"mem_total_bytes", (json_int_t)st.mem_total_bytes, "mem_limit_bytes",
				(json_int_t)st.mem_limit_bytes, "processes", (json_int_t)st.processes,
				"timestamp", ts);
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:o}", "executor_id",
							     t->id, "executor_name", ename,
							     "framework_id", fw, "source", t->id,
							     "statistics", s));
			free(ename);
		}
	}
	return arr;
}

void agent_fetch_failure(const struct agent_task *t, int index, char *msg, size_t size)
{
	char *path = xasprintf("%s/spec", t->meta_dir);
	char uri[512] = "?", why[512] = "unknown error";
	struct exec_spec es;
	if (exec_spec_read_file(path, &es) == 0) {
		if (index >= 0 && (size_t)index < es.nfetch)
			snprintf(uri, sizeof(uri), "%s", es.fetch[index].uri);
		exec_spec_release(&es);
	}
	free(path);
	path = xasprintf("%s/fetch_error", t->meta_dir);
	FILE *f = fopen(path, "re");
	if (f) {
		if (fgets(why, sizeof(why), f))
			why[strcspn(why, "\n")] = '\0';
		fclose(f);
	}
	free(path);
	snprintf(msg, size, "Failed to fetch '%s': %s", uri, why);
}
