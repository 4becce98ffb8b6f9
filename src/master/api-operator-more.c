/* Operator calls beyond the state reads (reference/compat.md §2.1): GET_FLAGS, GET_METRICS,
 * GET_LOGGING_LEVEL, SET_LOGGING_LEVEL, LIST_FILES, READ_FILE, TEARDOWN and the deprecated
 * SET_QUOTA / REMOVE_QUOTA (as UPDATE_QUOTA, quota.c).
 *
 * Logging level: glog's verbosity as Mesos reports it; berth maps level 0 to its info level
 * and any level above 0 to debug. SET_LOGGING_LEVEL lasts its duration, then the level goes
 * back to what it was before the first of the overlapping sets (a later set supersedes the
 * pending revert: a generation number). */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/b64.h"
#include "base/log.h"
#include "base/mem.h"
#include "master/fw-int.h"
#include "master/master-int.h"
#include "master/state-json.h"

static void reply(struct evhttp_request *req, int code, const char *msg)
{
	http_reply_text(req, code, msg);
}

static void reply_payload(struct evhttp_request *req, const char *type, const char *key,
			  json_t *payload)
{
	json_t *r = json_pack("{s:s}", "type", type);
	json_object_set_new(r, key, payload);
	operator_reply(req, 200, r);
}

/* ---- logging level ---- */

static unsigned level_gen;        /* bumped by every SET_LOGGING_LEVEL */
static bool level_saved;          /* a revert is pending to saved_level */
static enum log_level saved_level;

static void level_revert(evutil_socket_t fd, short what, void *arg)
{
	if ((unsigned)(uintptr_t)arg != level_gen || !level_saved)
		return;
	log_set_level(saved_level);
	level_saved = false;
	log_info("master", "logging level reverted");
}

static void set_logging_level(struct master *m, struct evhttp_request *req, const json_t *call)
{
	const json_t *b = json_object_get(call, "set_logging_level");
	const json_t *lvl = json_object_get(b, "level");
	const json_t *ns = json_object_get(json_object_get(b, "duration"), "nanoseconds");
	if (!json_is_integer(lvl) || json_integer_value(lvl) < 0 || !json_is_integer(ns) ||
	    json_integer_value(ns) < 0) {
		reply(req, 400, "Failed to validate master::Call: Expecting 'set_logging_level' with "
				"a non-negative integer 'level' and 'duration': {'nanoseconds': "
				"non-negative integer}");
		return;
	}
	if (!level_saved) {
		saved_level = log_get_level();
		level_saved = true;
	}
	log_set_level(json_integer_value(lvl) > 0 ? LOG_DEBUG : LOG_INFO);
	level_gen++;
	json_int_t n = json_integer_value(ns);
	struct timeval tv = { (time_t)(n / 1000000000), (suseconds_t)(n % 1000000000 / 1000) };
	event_base_once(m->base, -1, EV_TIMEOUT, level_revert, (void *)(uintptr_t)level_gen, &tv);
	log_info("master", "logging level %lld for %lld ns", (long long)json_integer_value(lvl),
		 (long long)n);
	http_reply_text(req, 200, "");
}

/* ---- quota (deprecated calls) ---- */

static bool role_has_quota(struct master *m, const char *role)
{
	json_t *q = quota_get_quota(m);
	bool found = false;
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(json_object_get(q, "status"), "configs"), i, c) {
		const char *r = json_string_value(json_object_get(c, "role"));
		found |= r && !strcmp(r, role);
	}
	json_decref(q);
	return found;
}

static void set_quota(struct master *m, struct evhttp_request *req, const json_t *call)
{
	const json_t *qr = json_object_get(json_object_get(call, "set_quota"), "quota_request");
	const char *role = json_string_value(json_object_get(qr, "role"));
	const json_t *guar = json_object_get(qr, "guarantee");
	const json_t *force = json_object_get(qr, "force");
	if (!role || (guar && !json_is_array(guar)) || (force && !json_is_boolean(force))) {
		reply(req, 400, "Failed to validate master::Call: Expecting 'set_quota.quota_request' "
				"with a 'role', a 'guarantee' array of Resource and an optional "
				"boolean 'force'");
		return;
	}
	if (role_has_quota(m, role)) {
		char msg[300];
		snprintf(msg, sizeof(msg), "Failed to validate set quota request: Quota cannot be "
					   "set for a role that already has quota");
		reply(req, 400, msg);
		return;
	}
	/* SET_QUOTA sets the guarantee and the limit alike (Mesos 1.9 and later). */
	json_t *amounts = json_object();
	size_t i;
	json_t *r;
	json_array_foreach(guar, i, r) {
		const char *name = json_string_value(json_object_get(r, "name"));
		json_t *v = json_object_get(json_object_get(r, "scalar"), "value");
		if (!name || !json_is_number(v)) {
			json_decref(amounts);
			reply(req, 400, "Failed to validate set quota request: each guarantee must be a "
					"scalar Resource {name, type: SCALAR, scalar: {value}}");
			return;
		}
		double had = json_number_value(json_object_get(json_object_get(amounts, name),
							       "value"));
		json_object_set_new(amounts, name,
				    json_pack("{s:f}", "value", had + json_number_value(v)));
	}
	json_t *upd = json_pack("{s:s, s:{s:[{s:s, s:O, s:O}], s:b}}", "type", "UPDATE_QUOTA",
				"update_quota", "quota_configs", "role", role, "guarantees",
				amounts, "limits", amounts, "force", json_is_true(force));
	json_decref(amounts);
	quota_operator_call(m, req, "UPDATE_QUOTA", upd);
	json_decref(upd);
}

static void remove_quota(struct master *m, struct evhttp_request *req, const json_t *call)
{
	const char *role =
		json_string_value(json_object_get(json_object_get(call, "remove_quota"), "role"));
	if (!role) {
		reply(req, 400, "Failed to validate master::Call: Expecting 'remove_quota.role'");
		return;
	}
	if (!role_has_quota(m, role)) {
		reply(req, 400, "Failed to validate remove quota request: Quota for the role does "
				"not exist");
		return;
	}
	json_t *upd = json_pack("{s:s, s:{s:[{s:s}], s:b}}", "type", "UPDATE_QUOTA",
				"update_quota", "quota_configs", "role", role, "force", 1);
	quota_operator_call(m, req, "UPDATE_QUOTA", upd);
	json_decref(upd);
}

/* ---- teardown ---- */

static void teardown(struct master *m, struct evhttp_request *req, const json_t *call)
{
	const char *id = json_string_value(json_object_get(
		json_object_get(json_object_get(call, "teardown"), "framework_id"), "value"));
	if (!id) {
		reply(req, 400, "Failed to validate master::Call: Expecting "
				"'teardown.framework_id.value'");
		return;
	}
	struct fw_framework *fw = m->fw ? hmap_get(&m->fw->fws, id) : NULL;
	if (!fw) {
		for (size_t i = 0; i < m->nclients; i++) {
			if (!strcmp(m->clients[i]->id, id)) {
				reply(req, 400, "The framework is berth's built-in framework, which "
						"cannot be torn down");
				return;
			}
		}
		reply(req, 400, "No framework found with specified ID");
		return;
	}
	log_info("master", "framework '%s' torn down by an operator", id);
	fw_remove(fw, "TEARDOWN");
	http_reply_text(req, 200, "");
}

/* ---- files: the master's virtual paths ----
 *
 * As Mesos's Files: one virtual path is attached, /master/log, when the master was given
 * --external-log-file (Mesos attaches its glog file or --external_log_file there; berth
 * writes no log file of its own). A path resolves when it equals the attached one (trailing
 * slashes ignored); anything else, or the file gone, is 404 with an empty body. Listing a
 * path that is a file gives no entries (Mesos lists directories only), so LIST_FILES of
 * /master/log is 200 with an empty file_infos. READ_FILE reads at most 16 pages from offset;
 * its answer is the file's size and the bytes read (base64 in JSON, as bytes are). */

#define FILES_READ_MAX (16 * 4096)

static const char *files_resolve(const struct master *m, const char *path)
{
	const char *log = m->cfg.external_log_file;
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (!log || !*log || n != strlen("/master/log") || strncmp(path, "/master/log", n))
		return NULL;
	struct stat st;
	return stat(log, &st) == 0 ? log : NULL;
}

static void read_file(struct master *m, struct evhttp_request *req, const char *type,
		      const char *real, const json_t *b)
{
	const json_t *jo = json_object_get(b, "offset"), *jl = json_object_get(b, "length");
	int fd = open(real, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) == -1) {
		char msg[600];
		snprintf(msg, sizeof(msg), "Failed to open file at '%s': %s.\n", real,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		reply(req, 500, msg);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		reply(req, 400, "Cannot read a directory.\n");
		return;
	}
	uint64_t off = (uint64_t)json_integer_value(jo), size = (uint64_t)st.st_size;
	uint64_t len = jl ? (uint64_t)json_integer_value(jl) : off < size ? size - off : 0;
	if (len > FILES_READ_MAX)
		len = FILES_READ_MAX;
	char *buf = xmalloc(len + 1);
	size_t have = 0;
	while (off < size && have < len) {
		ssize_t r = pread(fd, buf + have, len - have, (off_t)(off + have));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		have += (size_t)r;
	}
	close(fd);
	char *data = b64_encode(buf, have);
	free(buf);
	reply_payload(req, type, "read_file",
		      json_pack("{s:I, s:s}", "size", (json_int_t)size, "data", data));
	free(data);
}

static void files_call(struct master *m, struct evhttp_request *req, const char *type,
		       const json_t *call)
{
	bool list = !strcmp(type, "LIST_FILES");
	const json_t *b = json_object_get(call, list ? "list_files" : "read_file");
	const char *path = json_string_value(json_object_get(b, "path"));
	const json_t *jo = json_object_get(b, "offset"), *jl = json_object_get(b, "length");
	if (!path || (!list && (!json_is_integer(jo) || json_integer_value(jo) < 0 ||
				(jl && (!json_is_integer(jl) || json_integer_value(jl) < 0))))) {
		reply(req, 400, list ? "Failed to validate master::Call: Expecting "
				       "'list_files.path'"
				     : "Failed to validate master::Call: Expecting 'read_file.path' "
				       "and a non-negative integer 'read_file.offset' (and "
				       "'read_file.length', when given)");
		return;
	}
	const char *real = files_resolve(m, path);
	if (!real) {
		reply(req, 404, "");
		return;
	}
	if (list)
		reply_payload(req, type, "list_files", json_pack("{s:[]}", "file_infos"));
	else
		read_file(m, req, type, real, b);
}

bool operator_more_call(struct master *m, struct evhttp_request *req, const char *type,
			const json_t *call)
{
	if (!strcmp(type, "GET_FLAGS")) {
		json_t *st = state_json_master_state(m, req);
		json_t *flags = json_array();
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(st, "flags"), k, v)
			json_array_append_new(flags, json_pack("{s:s, s:O}", "name", k, "value", v));
		json_decref(st);
		reply_payload(req, type, "get_flags", json_pack("{s:o}", "flags", flags));
	} else if (!strcmp(type, "GET_METRICS")) {
		json_t *snap = legacy_metrics_snapshot(m, req);
		json_t *metrics = json_array();
		const char *k;
		json_t *v;
		json_object_foreach(snap, k, v)
			json_array_append_new(metrics, json_pack("{s:s, s:O}", "name", k, "value", v));
		json_decref(snap);
		reply_payload(req, type, "get_metrics", json_pack("{s:o}", "metrics", metrics));
	} else if (!strcmp(type, "GET_LOGGING_LEVEL")) {
		reply_payload(req, type, "get_logging_level",
			      json_pack("{s:i}", "level", log_get_level() == LOG_DEBUG ? 1 : 0));
	} else if (!strcmp(type, "SET_LOGGING_LEVEL")) {
		set_logging_level(m, req, call);
	} else if (!strcmp(type, "LIST_FILES") || !strcmp(type, "READ_FILE")) {
		files_call(m, req, type, call);
	} else if (!strcmp(type, "TEARDOWN")) {
		teardown(m, req, call);
	} else if (!strcmp(type, "SET_QUOTA")) {
		set_quota(m, req, call);
	} else if (!strcmp(type, "REMOVE_QUOTA")) {
		remove_quota(m, req, call);
	} else {
		return false;
	}
	return true;
}
