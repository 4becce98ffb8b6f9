/* External frameworks through the Mesos v1 scheduler HTTP API (docs/scheduler-api.md,
 * reference/compat.md §1): the call handler, subscriptions, persistence and failover.
 * Offers live in fw-offers.c, tasks in fw-tasks.c; the shared state is in fw-int.h.
 *
 * Life of a framework:
 *   SUBSCRIBE (new id or its old one) -> subscribed: stream open, offers flow
 *   stream closes -> disconnected: no offers; its tasks keep running
 *   SUBSCRIBE with its id within failover_timeout -> subscribed again (same tasks)
 *   failover_timeout passes, or TEARDOWN -> removed: tasks killed, id remembered as removed
 *     (a later SUBSCRIBE with it gets ERROR "Framework has been removed")
 * A master restart loads every framework as disconnected with its failover clock restarted.
 *
 * Store keys: frameworks/<id> {"id","info","suppressed"}, frameworks-removed/<id>,
 * fwtasks/<task id> (fw-tasks.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "json/jnull.h"
#include "master/fw-int.h"
#include "net/recordio.h"

/* ---- events ---- */

/* Writes one RecordIO record to fw's stream (or its in-process sink). */
static int deliver(struct fw_framework *fw, const char *rec, size_t len)
{
	int r = fw->sim ? fw->sim(fw, rec, len, fw->sim_ctx) :
			  http_stream_write(fw->stream, rec, len);
	fw->hb_usec = time_mono_usec();
	return r;
}

int fw_send(struct fw_framework *fw, json_t *event)
{
	if (!fw_subscribed(fw)) {
		json_decref(event);
		return -ENOTCONN;
	}
	size_t len;
	char *rec = fw_wire_record(fw->wire, event, &len);
	json_decref(event);
	if (!rec)
		return -EINVAL;
	int r = deliver(fw, rec, len);
	free(rec);
	return r;
}

int fw_send_text(struct fw_framework *fw, const char *json, size_t len)
{
	if (!len)
		return -EINVAL;
	if (fw->wire == FW_WIRE_PROTOBUF) {
		json_t *ev = json_loadb(json, len, 0, NULL);
		return ev ? fw_send(fw, ev) : -EINVAL;
	}
	struct strbuf sb;
	strbuf_init(&sb);
	recordio_encode_strbuf(&sb, json, len);
	int r = fw_send_record(fw, sb.buf, sb.len);
	strbuf_release(&sb);
	return r;
}

int fw_send_record(struct fw_framework *fw, const char *rec, size_t len)
{
	if (fw->wire == FW_WIRE_PROTOBUF && fw_subscribed(fw)) {
		/* Rendered as JSON for every subscriber (fw-pass.c): re-encoded for this one. */
		json_t *ev = recordio_record_json(rec, len);
		return ev ? fw_send(fw, ev) : -EINVAL;
	}
	if (!fw_subscribed(fw))
		return -ENOTCONN;
	return deliver(fw, rec, len);
}

static json_t *error_event(const char *message)
{
	return json_pack("{s:s, s:{s:s}}", "type", "ERROR", "error", "message", message);
}

bool fw_has_role(const struct fw_framework *fw, const char *role)
{
	for (size_t i = 0; i < fw->nroles; i++)
		if (!strcmp(fw->roles[i], role))
			return true;
	return false;
}

/* ---- persistence ---- */

int fw_store(struct fw_framework *fw)
{
	json_t *sup = json_array();
	for (size_t i = 0; i < fw->nroles; i++)
		if (fw->suppressed[i])
			json_array_append_new(sup, json_string(fw->roles[i]));
	json_t *j = json_pack("{s:s, s:O, s:o}", "id", fw->id, "info", fw->info, "suppressed", sup);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	char key[STORE_MAX_KEY];
	snprintf(key, sizeof(key), "frameworks/%s", fw->id);
	int r = store_put(fw->fws->m->store, key, s, strlen(s), STORE_ANY_VERSION, NULL);
	free(s);
	return r;
}

static void fw_clear_roles(struct fw_framework *fw)
{
	for (size_t i = 0; i < fw->nroles; i++)
		free(fw->roles[i]);
	fw->nroles = 0;
}

static void fw_free(struct fw_framework *fw)
{
	if (!fw)
		return;
	fw_clear_roles(fw);
	fw_filters_clear(fw);
	fw_ops_free(fw);
	resources_release(&fw->used);
	json_decref(fw->info);
	free(fw->id);
	free(fw);
}

/* Applies a validated FrameworkInfo (borrowed) to fw: roles, capabilities, failover. The
 * suppressed roles (array of strings or NULL) are set afresh. */
static void fw_apply_info(struct fw_framework *fw, const json_t *info, const json_t *suppressed)
{
	json_decref(fw->info);
	fw->info = json_deep_copy(info);
	json_object_set_new(fw->info, "id", json_pack("{s:s}", "value", fw->id));
	fw_clear_roles(fw);
	const json_t *roles = json_object_get(info, "roles");
	size_t i;
	const json_t *r;
	json_array_foreach(roles, i, r)
		if (fw->nroles < FW_MAX_ROLES && !fw_has_role(fw, json_string_value(r)))
			fw->roles[fw->nroles++] = xstrdup(json_string_value(r));
	if (!fw->nroles) {
		const char *role = json_string_value(json_object_get(info, "role"));
		fw->roles[fw->nroles++] = xstrdup(role ? role : "*");
	}
	memset(fw->suppressed, 0, sizeof(fw->suppressed));
	json_array_foreach(suppressed, i, r)
		for (size_t k = 0; k < fw->nroles; k++)
			if (!strcmp(fw->roles[k], json_string_value(r)))
				fw->suppressed[k] = true;
	fw->partition_aware = fw->refinement = false;
	const json_t *c;
	json_array_foreach(json_object_get(info, "capabilities"), i, c) {
		const char *t = json_string_value(json_object_get(c, "type"));
		if (t && !strcmp(t, "PARTITION_AWARE"))
			fw->partition_aware = true;
		if (t && !strcmp(t, "RESERVATION_REFINEMENT"))
			fw->refinement = true;
	}
	double ft = json_number_value(json_object_get(info, "failover_timeout"));
	fw->failover_sec = isfinite(ft) && ft > 0 ? ft : 0;
	if (fw->failover_sec > FW_MAX_REFUSE_SEC * 100)
		fw->failover_sec = FW_MAX_REFUSE_SEC * 100;
}

static struct fw_framework *fw_new(struct frameworks *fws, const char *id)
{
	struct fw_framework *fw = xcalloc(1, sizeof(*fw));
	fw->fws = fws;
	fw->id = xstrdup(id);
	fw->disconnected_usec = time_mono_usec();
	fw->registered_usec = fw->reregistered_usec = time_real_usec();
	hmap_put(&fws->fws, fw->id, fw);
	/* Keep the sequence ahead of every id of ours, so new ids never collide. */
	size_t plen = strlen(fws->prefix);
	uint64_t seq;
	if (!strncmp(id, fws->prefix, plen) && id[plen] == '-' && parse_u64(id + plen + 1, &seq) == 0 &&
	    seq >= fws->fw_seq && seq < UINT32_MAX)
		fws->fw_seq = (unsigned)seq + 1;
	return fw;
}

static int load_fw(const char *key, const char *val, size_t len, uint64_t version, void *ctx)
{
	struct frameworks *fws = ctx;
	json_t *j = json_loadb(val, len, 0, NULL);
	const char *id = json_string_value(json_object_get(j, "id"));
	const json_t *info = json_object_get(j, "info");
	if (!id || !json_is_object(info) || hmap_get(&fws->fws, id)) {
		log_warn("frameworks", "ignoring malformed store record '%s'", key);
		json_decref(j);
		return 0;
	}
	struct fw_framework *fw = fw_new(fws, id);
	fw_apply_info(fw, info, json_object_get(j, "suppressed"));
	json_decref(j);
	return 0;
}

static int load_removed(const char *key, const char *val, size_t len, uint64_t version,
			void *ctx)
{
	struct frameworks *fws = ctx;
	const char *id = key + strlen("frameworks-removed/");
	hmap_put(&fws->removed, id, (void *)1);
	size_t plen = strlen(fws->prefix);
	uint64_t seq;
	if (!strncmp(id, fws->prefix, plen) && id[plen] == '-' && parse_u64(id + plen + 1, &seq) == 0 &&
	    seq >= fws->fw_seq && seq < UINT32_MAX)
		fws->fw_seq = (unsigned)seq + 1;
	return 0;
}

static void on_flush(evutil_socket_t fd, short what, void *ctx)
{
	(void)fd;
	(void)what;
	fw_flush(ctx);
}

int frameworks_init(struct master *m)
{
	struct frameworks *fws = xcalloc(1, sizeof(*fws));
	fws->m = m;
	hmap_init(&fws->fws);
	hmap_init(&fws->offers);
	hmap_init(&fws->dirty);
	fws->launches = json_array();
	fws->flush_ev = event_new(m->base, -1, 0, on_flush, fws);
	hmap_init(&fws->tasks);
	hmap_init(&fws->views);
	hmap_init(&fws->executors);
	hmap_init(&fws->executor_ids);
	hmap_init(&fws->removed);
	/* Framework ids are "<master id>-<4 digits>", as Mesos makes them; 0000 is the apps
	 * framework's own id. */
	snprintf(fws->prefix, sizeof(fws->prefix), "%.36s", m->framework_id);
	fws->fw_seq = 1;
	id_uuid4(fws->offer_prefix);
	m->fw = fws;
	int r = store_list(m->store, "frameworks/", load_fw, fws);
	if (r >= 0)
		r = store_list(m->store, "frameworks-removed/", load_removed, fws);
	if (r >= 0)
		r = fw_tasks_load(fws);
	if (r < 0)
		return r;
	if (hmap_len(&fws->fws))
		log_info("frameworks", "%zu frameworks and %zu of their tasks loaded",
			 hmap_len(&fws->fws), hmap_len(&fws->tasks));
	return 0;
}

static void on_stream_close(struct http_stream *st, void *ctx)
{
	struct fw_link *link = ctx;
	struct fw_framework *fw = link->fw;
	free(link);
	if (!fw || fw->stream != st)
		return;
	fw->stream = NULL;
	fw->link = NULL;
	fw->disconnected_usec = time_mono_usec();
	fw_offers_remove_framework(fw->fws, fw, false);
	log_info("frameworks", "framework '%s' disconnected; failover timeout %.0f s", fw->id,
		 fw->failover_sec);
	operator_event_framework_updated(fw->fws->m, fw);
}

/* Ends fw's stream (if any) after sending it error_msg (if not NULL). */
static void fw_close_stream(struct fw_framework *fw, const char *error_msg)
{
	if (!fw->stream)
		return;
	if (error_msg)
		fw_send(fw, error_event(error_msg));
	struct http_stream *st = fw->stream;
	fw->stream = NULL;
	if (fw->link)
		fw->link->fw = NULL;
	fw->link = NULL;
	fw->disconnected_usec = time_mono_usec();
	http_stream_close(st);
}

void frameworks_close_streams(struct master *m)
{
	const char *k;
	void *v;
	for (size_t i = 0; m->fw && hmap_next(&m->fw->fws, &i, &k, &v);)
		fw_close_stream(v, NULL);
}

void frameworks_free(struct master *m)
{
	struct frameworks *fws = m->fw;
	if (!fws)
		return;
	fw_flush(fws);
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&fws->offers, &i, &k, &v);)
		fw_offer_free(v);
	for (size_t i = 0; hmap_next(&fws->m->agents, &i, &k, &v);)
		((struct m_agent *)v)->offers.n = 0;
	for (size_t i = 0; hmap_next(&fws->tasks, &i, &k, &v);)
		fw_task_free(v);
	for (size_t i = 0; hmap_next(&fws->views, &i, &k, &v);)
		free(v);
	for (size_t i = 0; hmap_next(&fws->fws, &i, &k, &v);) {
		struct fw_framework *fw = v;
		fw_close_stream(fw, NULL);
		fw_free(fw);
	}
	hmap_release(&fws->fws);
	hmap_release(&fws->offers);
	free(fws->changed);
	hmap_release(&fws->dirty);
	json_decref(fws->launches);
	if (fws->flush_ev)
		event_free(fws->flush_ev);
	hmap_release(&fws->tasks);
	hmap_release(&fws->views);
	fw_executors_release(fws);
	fw_hooks_free(fws);
	hmap_release(&fws->removed);
	free(fws);
	m->fw = NULL;
}

void fw_remove(struct fw_framework *fw, const char *why)
{
	struct frameworks *fws = fw->fws;
	log_info("frameworks", "removing framework '%s': %s", fw->id, why);
	fw_offers_remove_framework(fws, fw, false);
	fw_executors_drop_all(fws, NULL, fw->id, "its framework was removed");
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&fws->tasks, &i, &k, &v);) {
		struct fw_task *t = v;
		if (t->fw != fw)
			continue;
		if (t->held) {
			/* Its agent's terminal update gives the resources back. */
			fw_task_kill(fws, t, t->grace_sec);
			t->fw = NULL;
			char key[STORE_MAX_KEY];
			snprintf(key, sizeof(key), "fwtasks/%s", t->id);
			store_delete(fws->m->store, key, STORE_ANY_VERSION);
		} else {
			fw_task_forget(fws, t);
		}
	}
	char key[STORE_MAX_KEY];
	snprintf(key, sizeof(key), "frameworks/%s", fw->id);
	int r = store_delete(fws->m->store, key, STORE_ANY_VERSION);
	if (r < 0 && r != -ENOENT)
		log_warn("frameworks", "cannot delete '%s': %s", key, strerror(-r));
	if (hmap_len(&fws->removed) < FW_MAX_REMOVED) {
		hmap_put(&fws->removed, fw->id, (void *)1);
		snprintf(key, sizeof(key), "frameworks-removed/%s", fw->id);
		store_put(fws->m->store, key, "1", 1, STORE_ANY_VERSION, NULL);
	}
	operator_event_framework_removed(fws->m, fw);
	fw_close_stream(fw, NULL);
	hmap_del(&fws->fws, fw->id);
	fw_free(fw);
}

/* ---- the HTTP handler ---- */

static const char *const call_types[] = {
	"SUBSCRIBE", "TEARDOWN", "ACCEPT", "DECLINE", "ACCEPT_INVERSE_OFFERS",
	"DECLINE_INVERSE_OFFERS", "REVIVE", "KILL", "SHUTDOWN", "ACKNOWLEDGE",
	"ACKNOWLEDGE_OPERATION_STATUS", "RECONCILE", "RECONCILE_OPERATIONS", "MESSAGE", "REQUEST",
	"SUPPRESS", "UPDATE_FRAMEWORK",
};

static bool call_type_known(const char *t)
{
	for (size_t i = 0; i < ARRAY_SIZE(call_types); i++)
		if (!strcmp(call_types[i], t))
			return true;
	return false;
}

static void reply_invalid(struct evhttp_request *req, const char *msg)
{
	char buf[600];
	snprintf(buf, sizeof(buf), "Failed to validate scheduler::Call: %s", msg);
	http_reply_text(req, 400, buf);
}

/* Validates a FrameworkInfo (and the suppressed roles). 0 or -EINVAL with a message. */
static int validate_info(const json_t *info, const json_t *suppressed, char *err, size_t errlen)
{
	if (!json_is_object(info)) {
		snprintf(err, errlen, "Expecting 'framework_info' to be present");
		return -EINVAL;
	}
	if (!json_is_string(json_object_get(info, "user")) ||
	    !json_is_string(json_object_get(info, "name"))) {
		snprintf(err, errlen, "'framework_info' needs the strings 'user' and 'name'");
		return -EINVAL;
	}
	const json_t *roles = json_object_get(info, "roles");
	if ((roles && !json_is_array(roles)) || json_array_size(roles) > FW_MAX_ROLES) {
		snprintf(err, errlen, "'framework_info.roles' must be an array of at most %d roles",
			 FW_MAX_ROLES);
		return -EINVAL;
	}
	size_t i;
	const json_t *r;
	json_array_foreach(roles, i, r) {
		if (!json_is_string(r) || !resources_role_valid(json_string_value(r))) {
			snprintf(err, errlen, "'framework_info.roles[%zu]' is not a valid role", i);
			return -EINVAL;
		}
	}
	const json_t *role = json_object_get(info, "role");
	if (role && (!json_is_string(role) || !resources_role_valid(json_string_value(role)))) {
		snprintf(err, errlen, "'framework_info.role' is not a valid role");
		return -EINVAL;
	}
	const json_t *id = json_object_get(info, "id");
	const char *idv = json_string_value(json_object_get(id, "value"));
	if (id && (!idv || !*idv || strlen(idv) > 128 || strchr(idv, '/'))) {
		snprintf(err, errlen, "'framework_info.id.value' must be a non-empty string "
				      "without '/' of at most 128 bytes");
		return -EINVAL;
	}
	const json_t *ft = json_object_get(info, "failover_timeout");
	/* Mesos keeps it as int64 nanoseconds: more is "Invalid failover timeout" there. */
	if (ft && (!json_is_number(ft) || !(json_number_value(ft) >= 0) ||
		   json_number_value(ft) > FW_MAX_FAILOVER_SEC)) {
		snprintf(err, errlen, "'framework_info.failover_timeout' must be a number of "
				      "seconds between 0 and %.0f", FW_MAX_FAILOVER_SEC);
		return -EINVAL;
	}
	if (suppressed && !json_is_array(suppressed)) {
		snprintf(err, errlen, "'suppressed_roles' must be an array of strings");
		return -EINVAL;
	}
	json_array_foreach(suppressed, i, r) {
		if (!json_is_string(r)) {
			snprintf(err, errlen, "'suppressed_roles' must be an array of strings");
			return -EINVAL;
		}
	}
	return 0;
}

static json_t *master_info(struct master *m)
{
	struct in_addr in = { 0 };
	if (inet_pton(AF_INET, m->cfg.http_addr, &in) != 1)
		in.s_addr = htonl(INADDR_LOOPBACK);
	uint16_t port = m->port;
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &in, ip, sizeof(ip));
	/* MasterInfo.ip is the IPv4 address as a uint32 in network byte order. */
	return json_pack("{s:s, s:I, s:i, s:s, s:s, s:{s:s, s:s, s:i}}", "id", m->fw->prefix,
			 "ip", (json_int_t)in.s_addr, "port", (int)port, "hostname",
			 m->cfg.hostname, "version", "1.12.0", "address", "hostname",
			 m->cfg.hostname, "ip", ip, "port", (int)port);
}

static void handle_subscribe(struct frameworks *fws, struct evhttp_request *req,
			     const json_t *call)
{
	struct master *m = fws->m;
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	int wire = fw_wire_accept(evhttp_find_header(in, "Accept"));
	if (wire < 0) {
		http_reply_text(req, 406, "Expecting 'Accept' to allow 'application/json' or "
					  "'application/x-protobuf'");
		return;
	}
	if (evhttp_find_header(in, "Mesos-Stream-Id")) {
		http_reply_text(req, 400,
				"Subscribe calls should not include the 'Mesos-Stream-Id' header");
		return;
	}
	const json_t *sub = json_object_get(call, "subscribe");
	const json_t *info = json_object_get(sub, "framework_info");
	const json_t *suppressed = json_object_get(sub, "suppressed_roles");
	char err[400];
	if (!json_is_object(sub)) {
		reply_invalid(req, "Expecting 'subscribe' to be present");
		return;
	}
	if (validate_info(info, suppressed, err, sizeof(err)) < 0) {
		reply_invalid(req, err);
		return;
	}
	const char *id = json_string_value(json_object_get(json_object_get(info, "id"), "value"));
	const char *call_id =
		json_string_value(json_object_get(json_object_get(call, "framework_id"), "value"));
	if (call_id && (!id || strcmp(call_id, id))) {
		reply_invalid(req, "'framework_id' differs from 'subscribe.framework_info.id'");
		return;
	}
	/* With authentication on (src/auth), the framework's principal is the authenticated
	 * one (Mesos's rule), and only that principal may subscribe as an existing framework. */
	const char *who = evhttp_find_header(in, HTTP_PRINCIPAL_HEADER);
	const char *fprin = json_string_value(json_object_get(info, "principal"));
	if (who && fprin && strcmp(fprin, who)) {
		snprintf(err, sizeof(err),
			 "Authenticated principal '%.100s' does not match principal '%.100s' set in "
			 "`FrameworkInfo`", who, fprin);
		http_reply_text(req, 400, err);
		return;
	}
	if (who && !fprin) /* the call is the caller's, about to be freed: filling it is safe */
		json_object_set_new((json_t *)info, "principal", json_string(who));
	const struct fw_framework *known = id ? hmap_get(&fws->fws, id) : NULL;
	const char *kprin = known && known->info
				    ? json_string_value(json_object_get(known->info, "principal"))
				    : NULL;
	if (who && known && (!kprin || strcmp(kprin, who))) {
		snprintf(err, sizeof(err),
			 "Framework '%.100s' is registered with another principal than '%.100s'",
			 id, who);
		http_reply_text(req, 403, err);
		return;
	}
	if (id && hmap_get(&fws->removed, id)) {
		/* Mesos answers a removed framework on the stream, then closes it. */
		struct http_stream *st = http_stream_start(
			m->base, req, 200,
			wire == FW_WIRE_PROTOBUF ? "application/x-protobuf" : "application/json",
			65536, NULL, NULL);
		size_t len;
		json_t *ev = error_event("Framework has been removed");
		char *rec = fw_wire_record(wire, ev, &len);
		json_decref(ev);
		if (rec)
			http_stream_write(st, rec, len);
		free(rec);
		http_stream_close(st);
		return;
	}
	struct fw_framework *fw = id ? hmap_get(&fws->fws, id) : NULL;
	bool is_new = !fw;
	if (is_new && hmap_len(&fws->fws) >= FW_MAX_FRAMEWORKS) {
		http_reply_text(req, 503, "Too many frameworks");
		return;
	}
	if (is_new) {
		char newid[64];
		if (!id) {
			snprintf(newid, sizeof(newid), "%s-%04u", fws->prefix, fws->fw_seq);
			id = newid;
		}
		fw = fw_new(fws, id);
	}
	json_t *old_info = fw->info ? json_incref(fw->info) : NULL;
	fw_apply_info(fw, info, suppressed);
	int r = fw_store(fw);
	if (r < 0) {
		http_reply_text(req, 503, "Cannot persist the framework");
		if (is_new) {
			hmap_del(&fws->fws, fw->id);
			fw_free(fw);
		} else if (old_info) {
			json_decref(fw->info);
			fw->info = json_incref(old_info);
		}
		json_decref(old_info);
		return;
	}
	json_decref(old_info);
	/* A second subscription of a connected framework is a failover: the old stream ends. */
	fw_close_stream(fw, "Framework failed over");
	fw_offers_remove_framework(fws, fw, false);
	fw_filters_clear(fw);
	id_uuid4(fw->stream_id);
	fw->reregistered_usec = time_real_usec();
	http_add_header(req, "Mesos-Stream-Id", fw->stream_id);
	fw->link = xcalloc(1, sizeof(*fw->link));
	fw->link->fw = fw;
	fw->wire = wire;
	fw->stream = http_stream_start(
		m->base, req, 200,
		wire == FW_WIRE_PROTOBUF ? "application/x-protobuf" : "application/json",
		FW_STREAM_MAX_PENDING, on_stream_close, fw->link);
	log_info("frameworks", "framework '%s' ('%s') %s", fw->id,
		 json_string_value(json_object_get(info, "name")),
		 is_new ? "subscribed" : "re-subscribed");
	operator_event_framework_subscribed(m, fw, is_new);
	fw_send(fw, json_pack("{s:s, s:{s:{s:s}, s:f, s:o}}", "type", "SUBSCRIBED", "subscribed",
			      "framework_id", "value", fw->id, "heartbeat_interval_seconds",
			      FW_HEARTBEAT_SEC, "master_info", master_info(m)));
	fw_tasks_resend(fws, fw, true);
	fw_wake(fw); /* offer at the next tick */
}

struct fw_framework *fw_sim_subscribe(struct frameworks *fws, const json_t *info,
				      int (*sim)(struct fw_framework *, const char *, size_t,
						 void *),
				      void *ctx)
{
	if (hmap_len(&fws->fws) >= FW_MAX_FRAMEWORKS)
		return NULL;
	char id[64];
	snprintf(id, sizeof(id), "%s-%04u", fws->prefix, fws->fw_seq);
	struct fw_framework *fw = fw_new(fws, id);
	fw_apply_info(fw, info, NULL);
	if (fw_store(fw) < 0) {
		hmap_del(&fws->fws, fw->id);
		fw_free(fw);
		return NULL;
	}
	fw->sim = sim;
	fw->sim_ctx = ctx;
	operator_event_framework_subscribed(fws->m, fw, true);
	fw_send(fw, json_pack("{s:s, s:{s:{s:s}, s:f, s:o}}", "type", "SUBSCRIBED", "subscribed",
			      "framework_id", "value", fw->id, "heartbeat_interval_seconds",
			      FW_HEARTBEAT_SEC, "master_info", master_info(fws->m)));
	fw_wake(fw);
	return fw;
}

/* REVIVE and SUPPRESS: the roles given (all when none) stop or start being suppressed. */
int fw_call_revive_suppress(struct fw_framework *fw, const json_t *body, bool suppress,
				char *err, size_t errlen)
{
	const json_t *roles = json_object_get(body, "roles");
	if (roles && !json_is_array(roles)) {
		snprintf(err, errlen, "'roles' must be an array of strings");
		return -EINVAL;
	}
	size_t i;
	const json_t *r;
	json_array_foreach(roles, i, r) {
		const char *s = json_string_value(r);
		if (!s || !fw_has_role(fw, s)) {
			snprintf(err, errlen, "role '%s' is not one of the framework's roles",
				 s ? s : "");
			return -EINVAL;
		}
	}
	for (size_t k = 0; k < fw->nroles; k++) {
		bool hit = !json_array_size(roles);
		json_array_foreach(roles, i, r)
			if (!strcmp(json_string_value(r), fw->roles[k]))
				hit = true;
		if (hit)
			fw->suppressed[k] = suppress;
	}
	if (!suppress) {
		fw_filters_clear(fw);
		fw_wake(fw);
	}
	fw_store(fw);
	return 0;
}

static int call_update_framework(struct fw_framework *fw, const json_t *body, char *err,
				 size_t errlen)
{
	const json_t *info = json_object_get(body, "framework_info");
	const json_t *suppressed = json_object_get(body, "suppressed_roles");
	if (validate_info(info, suppressed, err, errlen) < 0)
		return -EINVAL;
	const char *id = json_string_value(json_object_get(json_object_get(info, "id"), "value"));
	if (!id || strcmp(id, fw->id)) {
		snprintf(err, errlen, "'framework_info.id' must be the framework's id");
		return -EINVAL;
	}
	fw_apply_info(fw, info, suppressed);
	/* Offers made for roles it may no longer have are withdrawn. */
	fw_offers_remove_framework(fw->fws, fw, true);
	fw_wake(fw);
	operator_event_framework_updated(fw->fws->m, fw);
	return fw_store(fw) < 0 ? -EIO : 0;
}

/* Checks that every named field of body is present. */
static int require(const json_t *body, const char *const *fields, size_t n, char *err,
		   size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		if (!json_object_get(body, fields[i])) {
			snprintf(err, errlen, "Expecting '%s' to be present", fields[i]);
			return -EINVAL;
		}
	}
	return 0;
}

/* A call without its body: 400, with "Expecting '<field>' to be present" in err. */
static int missing(const char *field, char *err, size_t errlen)
{
	snprintf(err, errlen, "Expecting '%s' to be present", field);
	return 400;
}

int fw_call(struct fw_framework *fw, const char *type, const json_t *call, char *err,
	    size_t errlen)
{
	int r = 0;
	char field[64];
	snprintf(field, sizeof(field), "%s", type);
	for (char *p = field; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	const json_t *body = json_object_get(call, field);
	err[0] = '\0';
	if (!strcmp(type, "TEARDOWN")) {
		fw_remove(fw, "TEARDOWN");
		return 202;
	}
	if (!strcmp(type, "REVIVE") || !strcmp(type, "SUPPRESS"))
		return fw_call_revive_suppress(fw, body, type[0] == 'S', err, errlen) < 0 ? 400 : 202;
	if (!strcmp(type, "UPDATE_FRAMEWORK")) {
		if (!body)
			return missing(field, err, errlen);
		r = call_update_framework(fw, body, err, errlen);
		if (r == -EIO)
			snprintf(err, errlen, "Cannot persist the framework");
		return r == -EIO ? 503 : r < 0 ? 400 : 200;
	}
	/* Everything else needs its body object. */
	if (strcmp(type, "REQUEST") && !json_is_object(body))
		return missing(field, err, errlen);
	if (!strcmp(type, "ACCEPT")) {
		r = fw_call_accept(fw, body, err, errlen);
	} else if (!strcmp(type, "DECLINE")) {
		r = fw_call_decline(fw, body, err, errlen);
	} else if (!strcmp(type, "ACCEPT_INVERSE_OFFERS") ||
		   !strcmp(type, "DECLINE_INVERSE_OFFERS")) {
		r = fw_call_inverse(fw, type[0] == 'A', body, err, errlen);
	} else if (!strcmp(type, "KILL")) {
		r = fw_call_kill(fw, body, err, errlen);
	} else if (!strcmp(type, "ACKNOWLEDGE")) {
		r = fw_call_acknowledge(fw, body, err, errlen);
	} else if (!strcmp(type, "RECONCILE")) {
		r = fw_call_reconcile(fw, body, err, errlen);
	} else if (!strcmp(type, "RECONCILE_OPERATIONS")) {
		r = fw_call_reconcile_operations(fw, body, err, errlen);
	} else if (!strcmp(type, "SHUTDOWN")) {
		/* A custom executor, through its agent (best effort, as in Mesos). */
		static const char *const f[] = { "executor_id", "agent_id" };
		r = require(body, f, ARRAY_SIZE(f), err, errlen);
		const char *aid = json_string_value(
			json_object_get(json_object_get(body, "agent_id"), "value"));
		const char *eid = json_string_value(
			json_object_get(json_object_get(body, "executor_id"), "value"));
		struct m_agent *ag = r == 0 && aid ? rm_agent_get(fw->fws->m, aid) : NULL;
		if (ag && eid)
			registry_send(ag, json_pack("{s:s, s:s, s:s}", "type", "SHUTDOWN_EXECUTOR",
						    "framework_id", fw->id, "executor_id", eid));
	} else if (!strcmp(type, "MESSAGE")) {
		/* To a custom executor, through its agent; best effort, as in Mesos (an agent
		 * or executor that is not there drops it). */
		static const char *const f[] = { "agent_id", "executor_id", "data" };
		r = require(body, f, ARRAY_SIZE(f), err, errlen);
		const char *aid = json_string_value(
			json_object_get(json_object_get(body, "agent_id"), "value"));
		const char *eid = json_string_value(
			json_object_get(json_object_get(body, "executor_id"), "value"));
		const char *data = json_string_value(json_object_get(body, "data"));
		struct m_agent *ag = r == 0 && aid ? rm_agent_get(fw->fws->m, aid) : NULL;
		if (ag && eid && data)
			registry_send(ag, json_pack("{s:s, s:s, s:s, s:s}", "type",
						    "FRAMEWORK_MESSAGE", "framework_id", fw->id,
						    "executor_id", eid, "data", data));
	}
	/* REQUEST, ACKNOWLEDGE_OPERATION_STATUS: accepted, no-op (operation statuses carry no
	 * uuid to acknowledge). */
	return r < 0 ? 400 : 202;
}

static void dispatch(struct fw_framework *fw, struct evhttp_request *req, const char *type,
		     const json_t *call)
{
	char err[512];
	int code = fw_call(fw, type, call, err, sizeof(err));
	if (code == 400)
		reply_invalid(req, err);
	else
		http_reply_text(req, code, code == 503 ? err : "");
}

void rm_handle_scheduler(struct master *m, struct evhttp_request *req)
{
	struct frameworks *fws = m->fw;
	enum evhttp_cmd_type meth = evhttp_request_get_command(req);
	if (meth != EVHTTP_REQ_POST) {
		char msg[128];
		snprintf(msg, sizeof(msg), "Expecting 'POST', received '%s'",
			 http_method_name(meth));
		http_add_header(req, "Allow", "POST");
		http_reply_text(req, 405, msg);
		return;
	}
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	char msg[300];
	json_t *call;
	int code = fw_wire_read_call(req, &call, msg, sizeof(msg));
	if (code) {
		http_reply_text(req, code, msg);
		return;
	}
	/* A null field is an absent one (compat.md §10.9); these fields are proto maps. */
	static const char *const maps[] = { "offer_filters", "role_constraints", "limits", NULL };
	jnull_strip(call, maps);
	const json_t *tj = json_object_get(call, "type");
	const char *type = json_string_value(tj);
	if (!json_is_object(call) || (tj && !type) || (type && !call_type_known(type))) {
		http_reply_text(req, 400, "Failed to convert JSON into Call protobuf: 'type' must "
					  "be one of the scheduler::Call types");
		json_decref(call);
		return;
	}
	if (!type) {
		reply_invalid(req, "Expecting 'type' to be present");
		json_decref(call);
		return;
	}
	if (!strcmp(type, "SUBSCRIBE")) {
		handle_subscribe(fws, req, call);
		json_decref(call);
		return;
	}
	/* Mesos checks Accept for the calls it may answer with a body; either encoding will
	 * do (berth answers RECONCILE_OPERATIONS with 202 and the statuses as events). */
	if (!strcmp(type, "RECONCILE_OPERATIONS") &&
	    fw_wire_accept(evhttp_find_header(in, "Accept")) < 0) {
		http_reply_text(req, 406, "Expecting 'Accept' to allow 'application/json' or "
					  "'application/x-protobuf'");
		json_decref(call);
		return;
	}
	const char *id =
		json_string_value(json_object_get(json_object_get(call, "framework_id"), "value"));
	if (!id) {
		reply_invalid(req, "Expecting 'framework_id' to be present");
		json_decref(call);
		return;
	}
	struct fw_framework *fw = hmap_get(&fws->fws, id);
	const char *sid = evhttp_find_header(in, "Mesos-Stream-Id");
	if (!fw) {
		http_reply_text(req, 400, "Framework cannot be found");
	} else if (!fw->stream) {
		http_reply_text(req, 403, "Framework is not subscribed");
	} else if (!sid) {
		http_reply_text(req, 400, "All non-subscribe calls should include the "
					  "'Mesos-Stream-Id' header");
	} else if (strcmp(sid, fw->stream_id)) {
		char smsg[400];
		snprintf(smsg, sizeof(smsg),
			 "The stream ID '%.128s' included in this request didn't match the stream "
			 "ID currently associated with framework ID '%s'",
			 sid, fw->id);
		http_reply_text(req, 400, smsg);
	} else {
		dispatch(fw, req, type, call);
	}
	json_decref(call);
}

/* ---- periodic work ---- */

void frameworks_tick(struct master *m)
{
	struct frameworks *fws = m->fw;
	if (!fws)
		return;
	uint64_t now = time_mono_usec();
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&fws->fws, &i, &k, &v);) {
		struct fw_framework *fw = v;
		if (fw_subscribed(fw)) {
			if (now - fw->hb_usec >= (uint64_t)(FW_HEARTBEAT_SEC * 1e6))
				fw_send(fw, json_pack("{s:s}", "type", "HEARTBEAT"));
			fw_tasks_resend(fws, fw, false);
		} else if (now - fw->disconnected_usec >= (uint64_t)(fw->failover_sec * 1e6)) {
			fw_remove(fw, "its failover timeout passed");
		}
	}
	fw_tasks_tick(fws);
	fw_offers_tick(fws);
}

const json_t *rm_framework_info(const struct master *m, const char *id)
{
	const struct fw_framework *fw = m->fw && id ? hmap_get(&m->fw->fws, id) : NULL;
	return fw ? fw->info : NULL;
}
