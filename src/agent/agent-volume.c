/* Volumes of the agent's tasks (agent-protocol.md §8): persistent directories, external
 * volumes through Docker volume plugins (plugin-client.h), DESTROY_VOLUME, and the fence.
 *
 * INVARIANT (never two writers): a task holding a volume runs only while this agent holds
 * the master's lease, also when this agent process is gone. The lease is renewed whenever the
 * master is heard from (every record on its stream, every POST it answers: agent_lease_heard)
 * and lasts volume_lease_seconds (L) from then. It is enforced twice:
 * - here: when nothing was heard for L, every task holding a volume is SIGKILLed at once
 *   through its shim (which kills the task's whole process group before it exits), its
 *   external volumes are unmounted after the shim is gone, and it is reported TASK_FAILED
 *   "Fenced: lost the master for L s" (sent when the master is reached again);
 * - by the shim of each such task, without us: the deadline (heard + L, CLOCK_MONOTONIC) is
 *   published in <work>/lease (exec-lease.h), replaced atomically at most every
 *   EXEC_LEASE_CHECK_USEC (a lagging file holds an earlier deadline, which is safe) and always
 *   before a task with volumes is spawned; the shim SIGKILLs its task's group within
 *   EXEC_LEASE_CHECK_USEC of the deadline (or at once when the file has gone) and records
 *   fenced=1, which is reported the same way, and the volumes unmounted, when we run again.
 * The master relaunches such an instance elsewhere only after L plus a margin since it last
 * heard from us, so the old writer is dead before the new one starts. A restarted agent does
 * not extend the lease: it goes on from the deadline in <work>/lease (L is kept in
 * <work>/volume_lease), so its recovered tasks are fenced when they would have been had it
 * never stopped; with no lease file it counts from its start. No lease from the master
 * (L = 0): no fencing and no lease file, and a shim that never read a lease enforces none; a
 * LAUNCH only follows REGISTERED, so with L > 0 every task with volumes finds one.
 *
 * External volume flow per task, one volume at a time: Plugin.Activate (once per driver
 * per agent run) → VolumeDriver.Get → Create (with options) if Get fails → Mount (ID = the
 * task id). Any failure: what was mounted is unmounted again, the task fails with
 * "Volume 'name': <driver's Err>". Unmount (same ID) after the shim has exited and before
 * the terminal update. Every call is bounded by a->plugin_timeout_ms. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent-int.h"
#include "agent/plugin-client.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "executor/exec-lease.h"
#include "executor/exec-status.h"

#define FENCE_CHECK_USEC 200000

struct agent_vol {
	bool external;
	char *container_path;
	bool ro;
	char *persistence_id; /* persistent */
	char *name, *driver;  /* external */
	json_t *options;      /* external: object of strings, or NULL */
	char *source;         /* host path: the directory, or the driver's mountpoint */
	bool mounted;         /* external: Mount succeeded, Unmount owed */
};

struct agent_vols {
	struct agent_vol *v;
	size_t n;
	size_t cur;           /* volume being worked on */
	int step;
	struct plugin_addr addr;
	struct plugin_call *call;
	void (*prep_done)(struct agent_task *, int, const char *);
	void (*rel_done)(struct agent_task *);
	char *fail_msg;
	int fail_r;
};

bool agent_volume_id_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	if (n == 0 || n > 200 || !strcmp(id, ".") || strstr(id, ".."))
		return false;
	for (size_t i = 0; i < n; i++)
		if (id[i] == '/' || (unsigned char)id[i] < 0x20 || id[i] == 0x7f)
			return false;
	return true;
}

bool agent_volume_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > 255)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return false;
	return true;
}

bool agent_fence_due(uint64_t now_usec, uint64_t last_heard_usec, double lease_sec)
{
	if (!(lease_sec > 0))
		return false;
	uint64_t lease = (uint64_t)(lease_sec * 1e6);
	return now_usec > last_heard_usec && now_usec - last_heard_usec >= lease;
}

static void vol_release(struct agent_vol *v)
{
	free(v->container_path);
	free(v->persistence_id);
	free(v->name);
	free(v->driver);
	json_decref(v->options);
	free(v->source);
}

void agent_volumes_free(struct agent_task *t)
{
	struct agent_vols *vs = t->vols;
	if (!vs)
		return;
	plugin_call_cancel(vs->call);
	for (size_t i = 0; i < vs->n; i++)
		vol_release(&vs->v[i]);
	free(vs->v);
	free(vs->fail_msg);
	free(vs);
	t->vols = NULL;
}

/* A persistent volume's directory, made for a task running as user (NULL: the agent's
 * own): a new one is given to that user, so the task may write it (as Mesos does); one that
 * exists keeps its owner. 0 or -errno. */
static int volume_dir_make(const char *p, const char *user)
{
	if (mkdir(p, 0755) == -1)
		return errno == EEXIST ? 0 : -errno;
	struct passwd *pw = user ? getpwnam(user) : NULL;
	if (pw && chown(p, pw->pw_uid, pw->pw_gid) == -1) {
		int e = errno;
		rmdir(p);
		return -e;
	}
	return 0;
}

/* One entry of "volumes" → v. 0 or -EINVAL with msg. */
static int vol_parse(struct agent *a, json_t *j, struct agent_vol *v, size_t i,
		     const char *user, char *msg, size_t msglen)
{
	const char *type = json_string_value(json_object_get(j, "type"));
	const char *cp = json_string_value(json_object_get(j, "container_path"));
	const char *mode = json_string_value(json_object_get(j, "mode"));
	/* An external volume may have none: mounted by its driver, not bound into the task,
	 * which uses the driver's mountpoint (DVDI without DVDI_VOLUME_CONTAINERPATH). */
	bool external = type && !strcmp(type, "external");
	if (!cp || (*cp ? !exec_volume_path_valid(cp) : !external)) {
		snprintf(msg, msglen, "Volume %zu: invalid container_path", i);
		return -EINVAL;
	}
	v->container_path = xstrdup(cp);
	/* For messages: the container path, or the name of an external volume without one. */
	const char *label = *cp ? cp : json_string_value(json_object_get(j, "name"));
	if (!label)
		label = "";
	v->ro = mode && !strcmp(mode, "RO");
	if (mode && strcmp(mode, "RO") && strcmp(mode, "RW")) {
		snprintf(msg, msglen, "Volume '%s': invalid mode", label);
		return -EINVAL;
	}
	if (type && !strcmp(type, "persistent")) {
		const char *id = json_string_value(json_object_get(j, "persistence_id"));
		if (!agent_volume_id_valid(id)) {
			snprintf(msg, msglen, "Volume '%s': invalid persistence_id", cp);
			return -EINVAL;
		}
		v->persistence_id = xstrdup(id);
		v->source = xasprintf("%s/%s", a->volume_root, id);
		int r = mkdir(a->volume_root, 0700) == -1 && errno != EEXIST ? -errno : 0;
		if (r == 0)
			r = volume_dir_make(v->source, user);
		if (r < 0) {
			snprintf(msg, msglen, "Volume '%s': cannot create '%s': %s", cp, v->source,
				 strerror(-r));
			return r;
		}
		return 0;
	}
	if (external) {
		const char *name = json_string_value(json_object_get(j, "name"));
		const char *driver = json_string_value(json_object_get(j, "driver"));
		json_t *opts = json_object_get(j, "options");
		if (!agent_volume_name_valid(name)) {
			snprintf(msg, msglen, "Volume '%s': invalid name", label);
			return -EINVAL;
		}
		v->external = true;
		v->name = xstrdup(name);
		if (!driver || !plugin_name_valid(driver)) {
			snprintf(msg, msglen, "Volume '%s': invalid driver", name);
			return -EINVAL;
		}
		v->driver = xstrdup(driver);
		if (json_is_object(opts)) {
			v->options = json_object();
			const char *k;
			json_t *x;
			json_object_foreach(opts, k, x) {
				if (json_is_string(x))
					json_object_set(v->options, k, x);
				else if (json_is_number(x) || json_is_boolean(x)) {
					char *s = json_dumps(x, JSON_ENCODE_ANY);
					json_object_set_new(v->options, k, json_string(s));
					free(s);
				}
			}
		}
		return 0;
	}
	snprintf(msg, msglen, "Volume '%s': unknown type", label);
	return -EINVAL;
}

int agent_volumes_parse(struct agent *a, struct agent_task *t, json_t *spec, char *msg,
			size_t msglen)
{
	json_t *arr = json_object_get(spec, "volumes");
	if (!arr || json_is_null(arr) || (json_is_array(arr) && !json_array_size(arr)))
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > EXEC_SPEC_MAX_VOLUMES) {
		snprintf(msg, msglen, "Invalid volumes (at most %u)", EXEC_SPEC_MAX_VOLUMES);
		return -EINVAL;
	}
	struct agent_vols *vs = xcalloc(1, sizeof(*vs));
	vs->v = xcalloc(json_array_size(arr), sizeof(*vs->v));
	t->vols = vs;
	size_t i;
	json_t *j;
	const char *user = agent_task_user(a, spec);
	json_array_foreach(arr, i, j) {
		vs->n = i + 1;
		int r = json_is_object(j) ? vol_parse(a, j, &vs->v[i], i, user, msg, msglen)
					  : -EINVAL;
		if (r < 0) {
			if (!json_is_object(j))
				snprintf(msg, msglen, "Volume %zu: not an object", i);
			agent_volumes_free(t);
			return r;
		}
	}
	return 0;
}

bool agent_volumes_external(const struct agent_task *t)
{
	for (size_t i = 0; t->vols && i < t->vols->n; i++)
		if (t->vols->v[i].external)
			return true;
	return false;
}

size_t agent_volumes_exec(const struct agent_task *t, struct exec_volume *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; t->vols && i < t->vols->n && n < max; i++) {
		const struct agent_vol *v = &t->vols->v[i];
		if (!v->source)
			continue;
		out[n++] = (struct exec_volume){ v->source, v->container_path, v->ro };
	}
	return n;
}

int agent_host_volumes(json_t *spec, struct exec_volume *out, size_t *n, size_t max,
		       char *msg, size_t msglen)
{
	json_t *arr = json_object_get(spec, "host_volumes");
	size_t i;
	json_t *j;
	json_array_foreach(arr, i, j) {
		const char *hp = json_string_value(json_object_get(j, "host_path"));
		const char *cp = json_string_value(json_object_get(j, "container_path"));
		const char *mode = json_string_value(json_object_get(j, "mode"));
		if (!cp || !*cp || !exec_volume_path_valid(cp)) {
			snprintf(msg, msglen, "Host volume %zu: invalid container_path", i);
			return -EINVAL;
		}
		if (!hp || hp[0] != '/' || !exec_volume_path_valid(hp)) {
			snprintf(msg, msglen, "Volume '%s': invalid host_path", cp);
			return -EINVAL;
		}
		if (!mode || (strcmp(mode, "RO") && strcmp(mode, "RW"))) {
			snprintf(msg, msglen, "Volume '%s': invalid mode", cp);
			return -EINVAL;
		}
		if (*n >= max) {
			snprintf(msg, msglen, "Too many volumes (at most %zu)", max);
			return -E2BIG;
		}
		struct stat st;
		if (stat(hp, &st) == -1) {
			int r = errno == ENOENT ? fs_mkdir_p(hp, 0755) : -errno;
			if (r < 0) {
				snprintf(msg, msglen, "Volume '%s': host path '%s': %s", cp, hp,
					 strerror(-r));
				return r;
			}
		}
		out[(*n)++] = (struct exec_volume){ hp, cp, !strcmp(mode, "RO") };
	}
	return 0;
}

const char *agent_volume_label(const struct agent_task *t, size_t i)
{
	if (!t->vols || i >= t->vols->n)
		return "?";
	const struct agent_vol *v = &t->vols->v[i];
	return v->name ? v->name : v->container_path;
}

/* ---- persistence of the mounted state (<meta>/volumes) ---- */

void agent_volumes_save(struct agent_task *t)
{
	if (!t->vols)
		return;
	json_t *arr = json_array();
	for (size_t i = 0; i < t->vols->n; i++) {
		struct agent_vol *v = &t->vols->v[i];
		json_t *o = json_pack("{s:s, s:s, s:b}", "type", v->external ? "external" : "persistent",
				      "container_path", v->container_path, "mounted", v->mounted);
		if (v->persistence_id)
			json_object_set_new(o, "persistence_id", json_string(v->persistence_id));
		if (v->name)
			json_object_set_new(o, "name", json_string(v->name));
		if (v->driver)
			json_object_set_new(o, "driver", json_string(v->driver));
		json_array_append_new(arr, o);
	}
	char *s = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	int r = exec_file_replace(t->meta_dir, "volumes", s, strlen(s), 1);
	if (r < 0)
		log_warn("agent", "task '%s': cannot record its volumes: %s", t->id, strerror(-r));
	free(s);
}

void agent_volumes_load(struct agent *a, struct agent_task *t)
{
	char *p = xasprintf("%s/volumes", t->meta_dir);
	json_t *arr = json_load_file(p, 0, NULL);
	free(p);
	if (!json_is_array(arr) || !json_array_size(arr)) {
		json_decref(arr);
		return;
	}
	json_t *spec = json_pack("{s:O}", "volumes", arr);
	char msg[256];
	int r = agent_volumes_parse(a, t, spec, msg, sizeof(msg));
	if (r < 0)
		log_warn("agent", "task '%s': bad volumes record: %s", t->id, msg);
	for (size_t i = 0; r == 0 && t->vols && i < t->vols->n; i++)
		t->vols->v[i].mounted = json_is_true(
			json_object_get(json_array_get(arr, i), "mounted"));
	json_decref(spec);
	json_decref(arr);
}

/* ---- driver calls ---- */

enum { ST_ACTIVATE, ST_GET, ST_CREATE, ST_MOUNT, ST_UNMOUNT };

static void step(struct agent_task *t);
static void unmount_next(struct agent_task *t);

static bool driver_activated(struct agent *a, const char *d)
{
	for (size_t i = 0; i < a->nactivated; i++)
		if (!strcmp(a->activated[i], d))
			return true;
	return false;
}

static void on_answer(int r, json_t *ans, const char *err, void *arg)
{
	struct agent_task *t = arg;
	struct agent_vols *vs = t->vols;
	struct agent *a = t->agent;
	struct agent_vol *v = &vs->v[vs->cur];
	vs->call = NULL;
	switch (vs->step) {
	case ST_ACTIVATE:
		if (r == 0) {
			if (a->nactivated < 1024) {
				a->activated = xrealloc(a->activated,
							(a->nactivated + 1) * sizeof(char *));
				a->activated[a->nactivated++] = xstrdup(v->driver);
			}
			vs->step = ST_GET;
		}
		break;
	case ST_GET:
		vs->step = r == 0 ? ST_MOUNT : ST_CREATE;
		r = 0;
		break;
	case ST_CREATE:
		if (r == 0)
			vs->step = ST_MOUNT;
		break;
	case ST_MOUNT:
		if (r == 0) {
			const char *mp = json_string_value(json_object_get(ans, "Mountpoint"));
			if (!mp || mp[0] != '/' || !exec_volume_path_valid(mp)) {
				r = -EINVAL;
				err = "the driver returned no usable Mountpoint";
				v->mounted = true; /* it did mount: undo */
				break;
			}
			v->mounted = true;
			free(v->source);
			v->source = xstrdup(mp);
			log_info("agent", "task '%s': volume '%s' mounted at '%s' by '%s'", t->id,
				 v->name, mp, v->driver);
			vs->cur++;
			vs->step = ST_ACTIVATE;
		}
		break;
	default: /* ST_UNMOUNT */
		if (r < 0)
			log_warn("agent", "task '%s': unmounting volume '%s' (driver '%s'): %s",
				 t->id, v->name, v->driver, err);
		v->mounted = false;
		vs->cur++;
		unmount_next(t);
		return;
	}
	if (r < 0) {
		free(vs->fail_msg);
		vs->fail_msg = xasprintf("Volume '%s': %s", v->name, err ? err : "driver error");
		vs->fail_r = r;
		log_warn("agent", "task '%s': %s", t->id, vs->fail_msg);
		vs->cur = 0;
		vs->step = ST_UNMOUNT;
		vs->rel_done = NULL;
		unmount_next(t);
		return;
	}
	step(t);
}

static bool call(struct agent_task *t, const char *method, json_t *body)
{
	struct agent_vols *vs = t->vols;
	vs->call = plugin_call_start(t->agent->base, &vs->addr, method, body,
				     t->agent->plugin_timeout_ms, on_answer, t);
	json_decref(body);
	return vs->call != NULL;
}

/* Next call of the mount sequence, or done. */
static void step(struct agent_task *t)
{
	struct agent_vols *vs = t->vols;
	struct agent *a = t->agent;
	while (vs->cur < vs->n && !vs->v[vs->cur].external)
		vs->cur++;
	if (vs->cur == vs->n || t->fenced || t->kill_requested) {
		void (*done)(struct agent_task *, int, const char *) = vs->prep_done;
		vs->prep_done = NULL;
		if (done)
			done(t, 0, NULL);
		return;
	}
	struct agent_vol *v = &vs->v[vs->cur];
	if (vs->step == ST_ACTIVATE) {
		int r = plugin_discover_default(a->volume_plugin_dir, v->driver, &vs->addr);
		if (r < 0) {
			char err[160];
			snprintf(err, sizeof(err), "volume driver '%s' %s", v->driver,
				 r == -ENOENT ? "not found" : "unusable");
			on_answer(r, NULL, err, t);
			return;
		}
		if (driver_activated(a, v->driver))
			vs->step = ST_GET;
	}
	bool ok;
	switch (vs->step) {
	case ST_ACTIVATE:
		ok = call(t, "/Plugin.Activate", NULL);
		break;
	case ST_GET:
		ok = call(t, "/VolumeDriver.Get", json_pack("{s:s}", "Name", v->name));
		break;
	case ST_CREATE: {
		json_t *b = json_pack("{s:s}", "Name", v->name);
		if (v->options)
			json_object_set(b, "Opts", v->options);
		ok = call(t, "/VolumeDriver.Create", b);
		break;
	}
	default:
		ok = call(t, "/VolumeDriver.Mount", json_pack("{s:s, s:s}", "Name", v->name, "ID", t->id));
		break;
	}
	if (!ok)
		on_answer(-ENOMEM, NULL, "out of resources", t);
}

void agent_volumes_prepare(struct agent *a, struct agent_task *t,
			   void (*done)(struct agent_task *t, int r, const char *msg))
{
	struct agent_vols *vs = t->vols;
	vs->prep_done = done;
	vs->cur = 0;
	vs->step = ST_ACTIVATE;
	step(t);
}

/* Unmounts from vs->cur on; then the failure (if preparing) or rel_done. */
static void unmount_next(struct agent_task *t)
{
	struct agent_vols *vs = t->vols;
	struct agent *a = t->agent;
	while (vs->cur < vs->n && !vs->v[vs->cur].mounted)
		vs->cur++;
	if (vs->cur < vs->n) {
		struct agent_vol *v = &vs->v[vs->cur];
		vs->step = ST_UNMOUNT;
		int r = plugin_discover_default(a->volume_plugin_dir, v->driver, &vs->addr);
		if (r < 0 || !call(t, "/VolumeDriver.Unmount",
				   json_pack("{s:s, s:s}", "Name", v->name, "ID", t->id)))
			on_answer(r < 0 ? r : -ENOMEM, NULL, "volume driver not found", t);
		return;
	}
	if (vs->prep_done) {
		void (*done)(struct agent_task *, int, const char *) = vs->prep_done;
		vs->prep_done = NULL;
		char *m = vs->fail_msg;
		vs->fail_msg = NULL;
		done(t, vs->fail_r ? vs->fail_r : -EIO, m);
		free(m);
		return;
	}
	void (*rdone)(struct agent_task *) = vs->rel_done;
	vs->rel_done = NULL;
	if (rdone)
		rdone(t);
}

bool agent_volumes_release(struct agent *a, struct agent_task *t,
			   void (*done)(struct agent_task *t))
{
	struct agent_vols *vs = t->vols;
	bool any = false;
	for (size_t i = 0; vs && i < vs->n; i++)
		any |= vs->v[i].mounted;
	if (!any)
		return false;
	plugin_call_cancel(vs->call);
	vs->call = NULL;
	vs->prep_done = NULL;
	vs->rel_done = done;
	vs->cur = 0;
	unmount_next(t);
	return true;
}

/* ---- DESTROY_VOLUME ---- */

static int rm_tree(int dirfd, const char *name, int depth)
{
	if (depth > 256)
		return -ELOOP;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return errno == ENOTDIR || errno == ELOOP
			       ? (unlinkat(dirfd, name, 0) == -1 ? -errno : 0)
			       : -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d)) && r == 0) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		r = rm_tree(fd, de->d_name, depth + 1);
	}
	closedir(d);
	if (r == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) == -1)
		r = -errno;
	return r;
}

int agent_volume_destroy(struct agent *a, const char *id)
{
	if (!agent_volume_id_valid(id)) {
		log_warn("agent", "DESTROY_VOLUME with an invalid persistence_id ignored");
		return -EINVAL;
	}
	for (size_t b = 0; b < a->nbuckets; b++)
		for (struct agent_task *t = a->buckets[b]; t; t = t->hnext) {
			if (!t->vols || (t->terminal && t->pidfd < 0 && !t->releasing))
				continue;
			for (size_t i = 0; i < t->vols->n; i++)
				if (t->vols->v[i].persistence_id &&
				    !strcmp(t->vols->v[i].persistence_id, id)) {
					log_warn("agent", "DESTROY_VOLUME '%s' refused: task '%s' uses it",
						 id, t->id);
					return -EBUSY;
				}
		}
	int dfd = open(a->volume_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1)
		return errno == ENOENT ? 0 : -errno;
	int r = rm_tree(dfd, id, 0);
	close(dfd);
	if (r == -ENOENT)
		r = 0;
	if (r < 0)
		log_error("agent", "DESTROY_VOLUME '%s': %s", id, strerror(-r));
	else
		log_info("agent", "persistent volume '%s' destroyed", id);
	return r;
}

/* ---- REMOVE_VOLUME ---- */

struct agent_vrm {
	struct agent_vrm *next;
	struct agent *agent;
	struct plugin_addr addr;
	struct plugin_call *call;
	char *driver, *name;
	bool activating;
};

static void vrm_free(struct agent_vrm *m)
{
	struct agent *a = m->agent;
	for (struct agent_vrm **pp = &a->removals; *pp; pp = &(*pp)->next)
		if (*pp == m) {
			*pp = m->next;
			a->nremovals--;
			break;
		}
	plugin_call_cancel(m->call);
	free(m->driver);
	free(m->name);
	free(m);
}

static void vrm_answer(int r, json_t *ans, const char *err, void *arg);

static bool vrm_call(struct agent_vrm *m)
{
	struct agent *a = m->agent;
	json_t *body = m->activating ? NULL : json_pack("{s:s}", "Name", m->name);
	m->call = plugin_call_start(a->base, &m->addr,
				    m->activating ? "/Plugin.Activate" : "/VolumeDriver.Remove",
				    body, a->plugin_timeout_ms, vrm_answer, m);
	json_decref(body);
	return m->call != NULL;
}

static void vrm_answer(int r, json_t *ans, const char *err, void *arg)
{
	struct agent_vrm *m = arg;
	struct agent *a = m->agent;
	m->call = NULL;
	if (r == 0 && m->activating) {
		if (!driver_activated(a, m->driver) && a->nactivated < 1024) {
			a->activated = xrealloc(a->activated, (a->nactivated + 1) * sizeof(char *));
			a->activated[a->nactivated++] = xstrdup(m->driver);
		}
		m->activating = false;
		if (vrm_call(m))
			return;
		r = -ENOMEM;
		err = "out of resources";
	}
	if (r == 0)
		log_info("agent", "REMOVE_VOLUME: volume '%s' removed by driver '%s'", m->name,
			 m->driver);
	else
		log_warn("agent", "REMOVE_VOLUME: volume '%s' (driver '%s') not removed: %s",
			 m->name, m->driver, err ? err : "driver error");
	vrm_free(m);
}

/* A task on this agent that holds driver/name: live (as for DESTROY_VOLUME) or mounted. */
static struct agent_task *volume_user(struct agent *a, const char *driver, const char *name)
{
	for (size_t b = 0; b < a->nbuckets; b++)
		for (struct agent_task *t = a->buckets[b]; t; t = t->hnext) {
			if (!t->vols)
				continue;
			bool live = !(t->terminal && t->pidfd < 0 && !t->releasing);
			for (size_t i = 0; i < t->vols->n; i++) {
				const struct agent_vol *v = &t->vols->v[i];
				if (v->external && !strcmp(v->driver, driver) &&
				    !strcmp(v->name, name) && (live || v->mounted))
					return t;
			}
		}
	return NULL;
}

int agent_volume_remove(struct agent *a, const char *driver, const char *name)
{
	if (!driver || !plugin_name_valid(driver)) {
		log_warn("agent", "REMOVE_VOLUME with an invalid driver ignored");
		return -EINVAL;
	}
	if (!agent_volume_name_valid(name)) {
		log_warn("agent", "REMOVE_VOLUME with an invalid name (driver '%s') ignored", driver);
		return -EINVAL;
	}
	struct agent_task *user = volume_user(a, driver, name);
	if (user) {
		log_warn("agent", "REMOVE_VOLUME '%s' (driver '%s') refused: task '%s' uses it", name,
			 driver, user->id);
		return -EBUSY;
	}
	if (a->nremovals >= AGENT_MAX_REMOVALS) {
		log_warn("agent", "REMOVE_VOLUME '%s' (driver '%s') refused: %u removals in flight",
			 name, driver, AGENT_MAX_REMOVALS);
		return -EAGAIN;
	}
	struct agent_vrm *m = xcalloc(1, sizeof(*m));
	int r = plugin_discover_default(a->volume_plugin_dir, driver, &m->addr);
	if (r < 0) {
		log_warn("agent", "REMOVE_VOLUME '%s': volume driver '%s' %s", name, driver,
			 r == -ENOENT ? "not found" : "unusable");
		free(m);
		return r;
	}
	m->agent = a;
	m->driver = xstrdup(driver);
	m->name = xstrdup(name);
	m->activating = !driver_activated(a, driver);
	m->next = a->removals;
	a->removals = m;
	a->nremovals++;
	if (!vrm_call(m)) {
		log_warn("agent", "REMOVE_VOLUME '%s' (driver '%s'): out of resources", name, driver);
		vrm_free(m);
		return -ENOMEM;
	}
	return 0;
}

/* ---- the fence ---- */

static uint64_t lease_deadline(const struct agent *a)
{
	return a->fence_heard_usec + (uint64_t)(a->lease_sec * 1e6);
}

/* Writes the current deadline to <work>/lease unless it is there already. 0 or -errno (logged
 * once until a write succeeds again). */
static int lease_write(struct agent *a, uint64_t now)
{
	uint64_t deadline = lease_deadline(a);
	if (!(a->lease_sec > 0) || deadline == a->lease_published)
		return 0;
	int r = exec_lease_write(a->work_dir, deadline);
	if (r < 0) {
		if (!a->lease_write_failed)
			log_error("agent", "cannot publish the volume lease in '%s': %s "
				  "(the executors of volume tasks will fence them)",
				  a->lease_path, strerror(-r));
		a->lease_write_failed = true;
		return r;
	}
	if (a->lease_write_failed)
		log_info("agent", "volume lease published in '%s' again", a->lease_path);
	a->lease_write_failed = false;
	a->lease_published = deadline;
	a->lease_written_usec = now;
	return 0;
}

void agent_lease_heard(struct agent *a)
{
	uint64_t now = time_mono_usec();
	a->fence_heard_usec = now;
	if (now - a->lease_written_usec >= EXEC_LEASE_CHECK_USEC)
		lease_write(a, now);
}

int agent_lease_publish(struct agent *a)
{
	uint64_t now = time_mono_usec();
	/* A lease still running is enough for a new shim; a burst of launches writes once. */
	if (a->lease_published > now && !a->lease_write_failed)
		return 0;
	return lease_write(a, now);
}

static void on_fence_check(evutil_socket_t fd, short what, void *arg)
{
	struct agent *a = arg;
	lease_write(a, time_mono_usec()); /* catches up with throttled renewals */
	if (!agent_fence_due(time_mono_usec(), a->fence_heard_usec, a->lease_sec))
		return;
	for (size_t b = 0; b < a->nbuckets; b++)
		for (struct agent_task *t = a->buckets[b]; t; t = t->hnext) {
			if (!t->vols || t->terminal || t->fenced)
				continue;
			log_warn("agent", "no word from the master for %gs: fencing task '%s'",
				 a->lease_sec, t->id);
			agent_task_fence(a, t);
		}
}

int agent_fence_start(struct agent *a)
{
	char *p = xasprintf("%s/volume_lease", a->work_dir);
	FILE *f = fopen(p, "re");
	free(p);
	if (f) {
		double l = 0;
		if (fscanf(f, "%lf", &l) == 1 && l > 0 && l < 86400)
			a->lease_sec = l;
		fclose(f);
	}
	/* Go on from the lease published before a restart rather than extend it: the shims
	 * count from that deadline, and so does the master. A deadline further than L ahead
	 * (from before a reboot) means nothing. */
	uint64_t now = time_mono_usec(), deadline;
	a->fence_heard_usec = now;
	a->lease_path = xasprintf("%s/%s", a->work_dir, EXEC_LEASE_FILE);
	if (a->lease_sec > 0 && exec_lease_read(a->lease_path, &deadline) == 0) {
		uint64_t lease = (uint64_t)(a->lease_sec * 1e6);
		if (deadline < lease)
			a->fence_heard_usec = 0;
		else if (deadline - lease < now)
			a->fence_heard_usec = deadline - lease;
		a->lease_published = deadline;
	}
	a->fence_ev = event_new(a->base, -1, EV_PERSIST, on_fence_check, a);
	struct timeval tv = { 0, FENCE_CHECK_USEC };
	if (!a->fence_ev || event_add(a->fence_ev, &tv) == -1)
		return -ENOMEM;
	return 0;
}

void agent_fence_stop(struct agent *a)
{
	if (a->fence_ev)
		event_free(a->fence_ev);
	a->fence_ev = NULL;
	free(a->lease_path);
	a->lease_path = NULL;
	while (a->removals)
		vrm_free(a->removals);
	for (size_t i = 0; i < a->nactivated; i++)
		free(a->activated[i]);
	free(a->activated);
	a->activated = NULL;
	a->nactivated = 0;
}
