/* GROW_VOLUME and SHRINK_VOLUME (Mesos 1.6+): a persistent volume's size changes, in place.
 *
 * A volume is disk reserved for its role (reservations.c): growing it takes plain reserved
 * disk of the same role and reservation (the `addition`), shrinking gives `subtract` of it
 * back as plain reserved disk. Neither changes the agent's total or free resources (the disk
 * keeps its role either way), only the volume's size, which is what offers, launches
 * (TaskInfo resources must carry the new size) and /master/state see. The agent's data
 * directory is the same before and after: the size is the master's bookkeeping (berth has
 * no disk quota isolator), as with CREATE.
 *
 * Rules, with Mesos's validation messages (master/validation.cpp) where it has one:
 *  - the volume is a persistent volume that exists on the agent with exactly that size,
 *    not shared, and idle (no live task uses it: Mesos only accepts it from an offer);
 *  - GROW: `addition` is a disk SCALAR > 0 of the volume's role and reservation, without
 *    persistence, that fits in the role's plain reserved disk of the pool (the ACCEPT's
 *    remaining offers, or the agent's free resources for the operator call);
 *  - SHRINK: 0 < `subtract.value` < the volume's size; not on a MOUNT disk.
 * -EINVAL is a malformed request (400); -ENOENT, -EBUSY, -ENOSPC a rule broken against the
 * current state (409). Nothing changes on any error. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "master/fw-int.h"
#include "master/resv-int.h"
#include "model/mesos-resources.h"

static const char *pid_of(const json_t *e)
{
	return json_string_value(
		json_object_get(json_object_get(json_object_get(e, "disk"), "persistence"), "id"));
}

/* Parses one Resource entry into *one (a single disk scalar expected by the callers). */
static int parse_one(const json_t *e, struct resources *one, const char *field, char *err,
		     size_t errlen)
{
	char perr[256];
	json_t *single = json_pack("[O]", e);
	int r = mesos_resources_from_json(single, one, perr, sizeof(perr));
	json_decref(single);
	if (r < 0 || !json_is_object(e))
		return resv_fail(err, errlen, -EINVAL, "Invalid resource in the '%s' field: %s",
				 field, r < 0 ? (strncmp(perr, "resources[0]: ", 14) ? perr : perr + 14)
					      : "expected a Resource object");
	if (one->n != 1 || strcmp(one->v[0].name, "disk") || one->v[0].type != RES_SCALAR)
		return resv_fail(err, errlen, -EINVAL, "Invalid resource in the '%s' field: "
						       "expected a 'disk' SCALAR", field);
	return 0;
}

int resv_resize(struct resv_state *s, const struct resources *pool, bool grow,
		const json_t *body, resv_in_use_fn in_use, void *ctx, char *err, size_t errlen)
{
	err[0] = '\0';
	const char *f_vol = grow ? "GrowVolume.volume" : "ShrinkVolume.volume";
	const json_t *vj = json_object_get(body, "volume");
	const json_t *aj = json_object_get(body, grow ? "addition" : "subtract");
	if (!json_is_object(body) || !json_is_object(vj) || !json_is_object(aj))
		return resv_fail(err, errlen, -EINVAL, "Expecting '%s' and '%s'", "volume",
				 grow ? "addition" : "subtract");
	struct resources vol = RESOURCES_INIT, add = RESOURCES_INIT;
	int r = parse_one(vj, &vol, f_vol, err, errlen);
	double amount = 0;
	if (r == 0 && grow) {
		/* A size <= 0 parses to nothing: Mesos checks it after validating the resource. */
		const json_t *x = json_object_get(json_object_get(aj, "scalar"), "value");
		if (json_is_number(x) && json_number_value(x) <= RESV_EPS)
			r = resv_fail(err, errlen, -EINVAL, "The size of 'GrowVolume.addition' field "
							    "must be greater than zero");
		else
			r = parse_one(aj, &add, "GrowVolume.addition", err, errlen);
		if (r == 0)
			amount = add.v[0].scalar;
	} else if (r == 0) {
		const json_t *x = json_object_get(aj, "value");
		if (!json_is_number(x))
			r = resv_fail(err, errlen, -EINVAL, "'ShrinkVolume.subtract.value' must be a "
							    "number");
		else
			amount = json_number_value(x);
	}
	const json_t *disk = json_object_get(vj, "disk");
	const char *id = pid_of(vj);
	const char *stype = json_string_value(
		json_object_get(json_object_get(disk, "source"), "type"));
	bool mount = stype && !strcmp(stype, "MOUNT");
	const char *role = vol.n ? vol.v[0].role : "*";
	double size = vol.n ? vol.v[0].scalar : 0;
	if (r < 0)
		goto out;
	if (grow && !(amount > RESV_EPS)) {
		r = resv_fail(err, errlen, -EINVAL,
			      "The size of 'GrowVolume.addition' field must be greater than zero");
	} else if (!grow && !(amount > RESV_EPS)) {
		r = resv_fail(err, errlen, -EINVAL,
			      "Value of 'ShrinkVolume.subtract' must be greater than zero");
	} else if (!grow && size <= amount + RESV_EPS) {
		r = resv_fail(err, errlen, -EINVAL, "Value of 'ShrinkVolume.subtract' must be "
						    "smaller than the size of 'ShrinkVolume.volume'");
	} else if (!grow && mount) {
		r = resv_fail(err, errlen, -EINVAL, "Shrinking a volume on a MOUNT disk is not "
						    "supported");
	} else if (!id || !*id || !json_is_object(json_object_get(disk, "volume"))) {
		r = resv_fail(err, errlen, -EINVAL, "Invalid persistent volume in the '%s' field: "
						    "it needs 'disk.persistence.id' and "
						    "'disk.volume'", f_vol);
	} else if (!strcmp(role, "*")) {
		r = resv_fail(err, errlen, -EINVAL, "Invalid persistent volume in the '%s' field: "
						    "Persistent volumes cannot be created from "
						    "unreserved resources", f_vol);
	} else if (json_object_get(vj, "shared")) {
		r = resv_fail(err, errlen, -EINVAL, "%s a shared persistent volume is not "
						    "supported", grow ? "Growing" : "Shrinking");
	}
	if (r == 0 && grow) {
		const char *vp, *ap;
		const json_t *vl, *al;
		resv_entry_reservation(vj, &vp, &vl);
		resv_entry_reservation(aj, &ap, &al);
		if (strcmp(add.v[0].role, role) || pid_of(aj) ||
		    json_object_get(json_object_get(aj, "disk"), "volume") ||
		    strcmp(vp ? vp : "", ap ? ap : "") || !resv_labels_equal(vl, al))
			r = resv_fail(err, errlen, -EINVAL, "Incompatible resources in the "
							    "'GrowVolume.volume' and "
							    "'GrowVolume.addition' fields");
	}
	if (r < 0)
		goto out;
	struct resv_vol *v = resv_vol_find(s, role, id);
	if (!v) {
		r = resv_fail(err, errlen, -ENOENT, "No persistent volume '%s' of role '%s' on this "
						    "agent", id, role);
	} else if (fabs(v->size - size) > RESV_EPS) {
		r = resv_fail(err, errlen, -EINVAL, "Persistent volume '%s' has size %g, not %g", id,
			      v->size, size);
	} else if (v->task_id && in_use && in_use(v->task_id, ctx)) {
		r = resv_fail(err, errlen, -EBUSY, "Persistent volume '%s' is in use by task '%s'",
			      id, v->task_id);
	} else if (grow) {
		double plain = resources_scalar(pool, "disk", role) -
			       resv_vol_disk(s, role, in_use, ctx, true);
		if (amount > plain + RESV_EPS)
			r = resv_fail(err, errlen, -ENOSPC, "Insufficient reserved disk for role '%s' "
							    "to grow volume '%s': asked for %g, free "
							    "without volumes %g", role, id, amount,
				      plain < 0 ? 0 : plain);
		else
			v->size += amount;
	} else {
		v->size -= amount;
	}
out:
	resources_release(&vol);
	resources_release(&add);
	return r;
}

int resv_agent_resize(struct master *m, struct m_agent *a, const struct resources *offer,
		      bool grow, const json_t *body, char *err, size_t errlen)
{
	struct resv_state *s = resv_state_of(m, a->id, false);
	if (!s) {
		const char *id = pid_of(json_object_get(body, "volume"));
		snprintf(err, errlen, "No persistent volume '%s' on this agent", id ? id : "");
		/* Malformed bodies are still 400: check them on an empty state. */
		struct resv_state *empty = resv_state_new();
		int r = resv_resize(empty, offer ? offer : rm_agent_free(a), grow, body, NULL, NULL,
				    err, errlen);
		resv_state_free(empty);
		return r;
	}
	struct resv_state *old = resv_state_dup(s);
	int r = resv_resize(s, offer ? offer : rm_agent_free(a), grow, body, resv_task_in_use, m,
			    err, errlen);
	int w = r == 0 ? resv_state_store(m, a->id, s) : 0;
	if (w < 0) {
		log_error("master", "cannot persist reservations of agent '%s': %s", a->id,
			  strerror(-w));
		snprintf(err, errlen, "Cannot persist the operation: %s", strerror(-w));
		resv_state_swap(s, old);
		r = -EIO;
	}
	resv_state_free(old);
	if (r == 0) {
		log_info("master", "agent '%s': %s applied", a->id,
			 grow ? "GROW_VOLUME" : "SHRINK_VOLUME");
		if (m->fw)
			fw_offers_remove_agent(m->fw, a->id);
	}
	return r;
}
