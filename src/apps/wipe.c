/* DELETE ?wipe=true: the removal of a deleted app's external volumes once its tasks are
 * gone (split from schedule.c, whose pass calls it). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/strbuf.h"
#include "apps/apps-int.h"

/* A wipe that finds no connected agent is tried again this often, for this long at most
 * (from its first failed attempt in this master process); then it is dropped with an
 * error line, the volumes left in place and the app's id free again. */
#define WIPE_RETRY_USEC (5ull * 1000000u)
#define WIPE_GIVE_UP_USEC (3600ull * 1000000u)

/* The agent to remove an external volume through: the one whose task last mounted it,
 * else any connected one (the driver reaches the volume from every agent). NULL: none. */
static struct m_agent *wipe_agent(struct apps *m, const json_t *v)
{
	const char *aid = json_string_value(json_object_get(v, "agent"));
	struct m_agent *a = aid ? rm_agent_get(m->rm, aid) : NULL;
	if (a && a->state == AGENT_CONNECTED)
		return a;
	const char *k;
	void *p;
	for (size_t j = 0; hmap_next(rm_agents(m->rm), &j, &k, &p);)
		if (((struct m_agent *)p)->state == AGENT_CONNECTED)
			return p;
	return NULL;
}

/* Deletes the store record of volume v of ma's wipe (v NULL: the wipe's own record) in the
 * pass's transaction. A failure only means it is done again after a restart. */
static void wipe_forget(struct apps *m, bool *txn, struct m_app *ma, const json_t *v)
{
	if (!*txn && store_txn_begin(m->store) == 0)
		*txn = true;
	int r = apps_store_deletion_done(m, ma, v);
	if (r < 0)
		log_error("master", "cannot update the wipe records of '%s': %s (redone after a "
				    "restart)", ma->def->id, strerror(-r));
}

/* DELETE ?wipe=true, once ma has no instance left (so no task of it may use the volumes):
 * asks an agent to remove each external volume through its driver (REMOVE_VOLUME).
 *
 * The agent never answers REMOVE_VOLUME: it refuses one that a task of its own still holds
 * and logs the driver's outcome, and a failing driver leaves the volume. So a volume counts
 * as done once its record is on an agent's stream: fire and forget, at least once (its store
 * record is deleted after the send, so a master that stops in between sends it again).
 * Volumes no agent can take now stay, in ma->wipe_volumes and in the store, and are tried
 * again every WIPE_RETRY_USEC until WIPE_GIVE_UP_USEC. Returns whether the wipe is over
 * (done or given up, its records deleted); the caller then forgets the app. */
bool apps_wipe_volumes(struct apps *m, struct m_app *ma, uint64_t now, bool *txn)
{
	if (now < ma->wipe_next_usec)
		return false; /* a lost agent's tasks may hold them until its fence, or a retry */
	json_t *left = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(ma->wipe_volumes, i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));
		const char *driver = json_string_value(json_object_get(v, "driver"));
		if (name && driver && apps_volume_busy(m, name, NULL)) {
			/* Another app's live task holds that name now: its data, not ours. */
			log_warn("master", "external volume '%s' of deleted app '%s' is kept: a live task "
					   "of another app uses it", name, ma->def->id);
		} else if (name && driver) {
			struct m_agent *a = wipe_agent(m, v);
			if (!a || rm_send(a, json_pack("{s:s, s:s, s:s}", "type", "REMOVE_VOLUME",
							     "driver", driver, "name", name)) < 0) {
				json_array_append(left, v);
				continue;
			}
			log_info("master", "removing external volume '%s' (driver '%s') through agent "
					   "'%s'", name, driver, a->id);
		}
		wipe_forget(m, txn, ma, v);
	}
	size_t nleft = json_array_size(left);
	if (nleft && !ma->wipe_give_up_usec) {
		ma->wipe_give_up_usec = now + WIPE_GIVE_UP_USEC;
		log_warn("master", "%zu external volume(s) of deleted app '%s' wait for an agent to "
				   "remove them: retrying every %llu s for up to %llu min",
			 nleft, ma->def->id, WIPE_RETRY_USEC / 1000000, WIPE_GIVE_UP_USEC / 60000000);
	} else if (nleft && now >= ma->wipe_give_up_usec) {
		struct strbuf names = STRBUF_INIT;
		json_array_foreach(left, i, v) {
			strbuf_addf(&names, "%s'%s'", names.len ? ", " : "",
				    json_string_value(json_object_get(v, "name")));
			wipe_forget(m, txn, ma, v);
		}
		log_error("master", "giving up the wipe of deleted app '%s': no agent took it for "
				    "%llu min; left in place: %s",
			  ma->def->id, WIPE_GIVE_UP_USEC / 60000000, strbuf_str(&names));
		strbuf_release(&names);
		nleft = 0;
	}
	json_decref(ma->wipe_volumes);
	ma->wipe_volumes = left;
	ma->wipe_next_usec = now + WIPE_RETRY_USEC;
	if (nleft)
		return false;
	wipe_forget(m, txn, ma, NULL);
	json_decref(ma->wipe_volumes);
	ma->wipe_volumes = NULL;
	return true;
}
