/* Inverse offers (Mesos's maintenance primitives, scheduler.proto INVERSE_OFFERS,
 * RESCIND_INVERSE_OFFER, ACCEPT_INVERSE_OFFERS, DECLINE_INVERSE_OFFERS): a machine in the
 * maintenance schedule and not yet DOWN is "draining"; every subscribed external framework
 * with a task or an offer on an agent of that machine gets one inverse offer for that agent,
 * carrying
 * the window's unavailability. Its answer (ACCEPT or DECLINE) is recorded per machine and
 * framework for GET_MAINTENANCE_STATUS. The apps framework does not take inverse offers:
 * the agent's maint_draining flag makes it move its instances off, as for a drain.
 *
 * Invariants:
 *  - at most one outstanding inverse offer per (framework, agent); none for a framework
 *    whose answer for that machine is younger than its filters.refuse_seconds (5 s by
 *    default): after that it is offered again, as Mesos's allocator does, and may answer
 *    anew (the latest answer is the one reported);
 *  - an inverse offer whose agent is no longer draining (the window removed, the machine
 *    DOWN, the agent gone) is rescinded (RESCIND_INVERSE_OFFER) and forgotten; so is every
 *    one of a framework that left (it outlives the framework's tasks there, as in Mesos);
 *  - a recorded answer lasts while its machine is draining.
 * State lives in memory (m->inverse, m->inverse_status): a new leader offers again. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "master/fw-int.h"
#include "master/master-int.h"

struct m_inverse {
	char id[80];
	char *fw_id;
	char *agent_id;
	char *machine; /* the MachineID's JSON text: the key of its answers */
};

static void inverse_free(struct m_inverse *iv)
{
	if (!iv)
		return;
	free(iv->fw_id);
	free(iv->agent_id);
	free(iv->machine);
	free(iv);
}

static void rescind(struct master *m, struct m_inverse *iv, bool tell)
{
	struct fw_framework *fw = m->fw ? hmap_get(&m->fw->fws, iv->fw_id) : NULL;
	if (tell && fw && fw_subscribed(fw))
		fw_send(fw, json_pack("{s:s, s:{s:{s:s}}}", "type", "RESCIND_INVERSE_OFFER",
				      "rescind_inverse_offer", "inverse_offer_id", "value", iv->id));
	hmap_del(&m->inverse, iv->id);
	inverse_free(iv);
}

/* Whether fw's last answer for the machine still holds back a new inverse offer (its
 * filters.refuse_seconds, 5 s by default as Mesos's Filters). */
static bool refused(struct master *m, const char *machine, const char *fw_id)
{
	const json_t *until = json_object_get(json_object_get(m->inverse_refuse, machine), fw_id);
	return until && time_mono_usec() < (uint64_t)json_integer_value(until);
}

static bool outstanding(struct master *m, const char *fw_id, const char *agent_id)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->inverse, &i, &k, &v);) {
		const struct m_inverse *iv = v;
		if (!strcmp(iv->fw_id, fw_id) && !strcmp(iv->agent_id, agent_id))
			return true;
	}
	return false;
}

static void offer(struct master *m, struct fw_framework *fw, struct m_agent *a,
		  const json_t *window, const char *mkey)
{
	static uint64_t seq;
	struct m_inverse *iv = xcalloc(1, sizeof(*iv));
	snprintf(iv->id, sizeof(iv->id), "%s-I%llu", m->fw->offer_prefix,
		 (unsigned long long)++seq);
	iv->fw_id = xstrdup(fw->id);
	iv->agent_id = xstrdup(a->id);
	iv->machine = xstrdup(mkey);
	hmap_put(&m->inverse, iv->id, iv);
	json_t *address = json_pack("{s:s, s:s, s:i}", "hostname", a->hostname, "ip",
				    a->ip ? a->ip : "", "port", (int)registry_agent_port(a));
	json_t *io = json_pack("{s:{s:s}, s:{s:s, s:o, s:s}, s:{s:s}, s:{s:s}, s:O}", "id",
			       "value", iv->id, "url", "scheme", "http", "address", address,
			       "path", "/slave(1)", "framework_id", "value", fw->id, "agent_id",
			       "value", a->id, "unavailability",
			       json_object_get(window, "unavailability"));
	log_info("master", "inverse offer '%s' to framework '%s' for agent '%s' (%s)", iv->id,
		 fw->id, a->id, a->hostname);
	fw_send(fw, json_pack("{s:s, s:{s:[o]}}", "type", "INVERSE_OFFERS", "inverse_offers",
			      "inverse_offers", io));
}

void maint_inverse_pass(struct master *m)
{
	if (!m->fw)
		return;
	/* Which agents are draining now, and by which window and machine. */
	const char *k;
	void *v;
	json_t *draining = json_object(); /* agent id -> [machine key] */
	for (size_t i = 0; hmap_next(&m->agents, &i, &k, &v);) {
		struct m_agent *a = v;
		const json_t *machine = NULL;
		const json_t *w = a->gone ? NULL : maint_window_of(m, a, &machine);
		bool was = a->maint_draining;
		a->maint_draining = w != NULL;
		if (a->maint_draining && !was) {
			log_info("master", "agent '%s' (%s) is in a maintenance window", a->id,
				 a->hostname);
			rm_route_agent_draining(m, a);
		}
		if (!w)
			continue;
		char *mkey = json_dumps(machine, JSON_COMPACT | JSON_SORT_KEYS);
		json_object_set_new(draining, a->id, json_string(mkey));
		/* Every framework with resources there: tasks, or offers outstanding (Mesos's
		 * allocator sends them to the frameworks allocated on the agent). */
		struct fw_task_list *l = hmap_get(&m->fw->agent_tasks, a->id);
		size_t nt = l ? l->n : 0;
		for (size_t t = 0; t < nt + a->offers.n; t++) {
			struct fw_framework *fw = t < nt ? l->v[t]->fw : a->offers.v[t - nt]->fw;
			if (fw && fw_subscribed(fw) && !outstanding(m, fw->id, a->id) &&
			    !refused(m, mkey, fw->id))
				offer(m, fw, a, w, mkey);
		}
		free(mkey);
	}
	/* Rescind what no longer holds. */
	for (size_t i = 0; hmap_next(&m->inverse, &i, &k, &v);) {
		struct m_inverse *iv = v;
		struct fw_framework *fw = hmap_get(&m->fw->fws, iv->fw_id);
		const char *mk = json_string_value(json_object_get(draining, iv->agent_id));
		if (!fw || !fw_subscribed(fw) || !mk || strcmp(mk, iv->machine)) {
			rescind(m, iv, true);
			i = 0; /* the map changed: walk again from the start */
		}
	}
	/* Answers of machines that are no longer draining go. */
	json_t *keep = json_object(), *keep_refuse = json_object();
	json_t *mk;
	json_object_foreach(draining, k, mk) {
		const char *key = json_string_value(mk);
		json_t *st = json_object_get(m->inverse_status, key);
		if (st)
			json_object_set(keep, key, st);
		st = json_object_get(m->inverse_refuse, key);
		if (st)
			json_object_set(keep_refuse, key, st);
	}
	json_decref(m->inverse_status);
	m->inverse_status = keep;
	json_decref(m->inverse_refuse);
	m->inverse_refuse = keep_refuse;
	json_decref(draining);
}

int fw_call_inverse(struct fw_framework *fw, bool accept, const json_t *body, char *err,
		    size_t errlen)
{
	struct master *m = fw->fws->m;
	const json_t *ids = json_object_get(body, "inverse_offer_ids");
	if (!json_is_array(ids)) {
		snprintf(err, errlen, "Expecting '%s.inverse_offer_ids' to be an array",
			 accept ? "accept_inverse_offers" : "decline_inverse_offers");
		return -EINVAL;
	}
	const json_t *rs = json_object_get(json_object_get(body, "filters"), "refuse_seconds");
	if (rs && (!json_is_number(rs) || json_number_value(rs) < 0)) {
		snprintf(err, errlen, "Expecting 'filters.refuse_seconds' to be a non-negative "
				      "number");
		return -EINVAL;
	}
	double refuse = rs ? json_number_value(rs) : 5.0;
	if (!m->inverse_status)
		m->inverse_status = json_object();
	if (!m->inverse_refuse)
		m->inverse_refuse = json_object();
	if (refuse > 365 * 86400.0)
		refuse = 365 * 86400.0;
	size_t i;
	json_t *id;
	json_array_foreach(ids, i, id) {
		const char *s = json_string_value(json_object_get(id, "value"));
		struct m_inverse *iv = s ? hmap_get(&m->inverse, s) : NULL;
		if (!iv || strcmp(iv->fw_id, fw->id))
			continue; /* Mesos ignores an unknown or used inverse offer */
		json_t *st = json_object_get(m->inverse_status, iv->machine);
		if (!st) {
			st = json_object();
			json_object_set_new(m->inverse_status, iv->machine, st);
		}
		json_object_set_new(st, fw->id,
				    json_pack("{s:s, s:{s:s}, s:{s:I}}", "status",
					      accept ? "ACCEPT" : "DECLINE", "framework_id", "value",
					      fw->id, "timestamp", "nanoseconds",
					      (json_int_t)(time_real_usec() * 1000)));
		json_t *rf = json_object_get(m->inverse_refuse, iv->machine);
		if (!rf) {
			rf = json_object();
			json_object_set_new(m->inverse_refuse, iv->machine, rf);
		}
		json_object_set_new(rf, fw->id,
				    json_integer((json_int_t)(time_mono_usec() +
							      (uint64_t)(refuse * 1e6))));
		log_info("master", "framework '%s' %s inverse offer '%s'", fw->id,
			 accept ? "accepted" : "declined", iv->id);
		rescind(m, iv, false);
	}
	return 0;
}

json_t *maint_inverse_statuses(struct master *m, const char *machine_key)
{
	json_t *out = json_array();
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(m->inverse_status, machine_key), k, v)
		json_array_append(out, v);
	return out;
}

void maint_inverse_free(struct master *m)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&m->inverse, &i, &k, &v);)
		inverse_free(v);
	hmap_release(&m->inverse);
	json_decref(m->inverse_status);
	m->inverse_status = NULL;
	json_decref(m->inverse_refuse);
	m->inverse_refuse = NULL;
	json_decref(m->maint_cache);
	m->maint_cache = NULL;
}
