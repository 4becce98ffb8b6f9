/* Offer operations with an id (RESERVE, UNRESERVE, CREATE, DESTROY): their status updates,
 * and RECONCILE_OPERATIONS (docs/scheduler-api.md "Operations").
 *
 * berth applies these operations when it accepts them, so each gets exactly one status,
 * terminal (OPERATION_FINISHED or OPERATION_ERROR), sent without a uuid: nothing to
 * acknowledge. A framework that missed it asks with RECONCILE_OPERATIONS; as in Mesos the
 * call is answered 202 and the answers come as UPDATE_OPERATION_STATUS events without a
 * uuid.
 *
 * Invariant: fw->ops holds the last FW_OP_STATUSES statuses sent to fw (a ring; the oldest
 * is dropped first), in memory only. An operation not among them is answered from what is
 * known of its agent: OPERATION_UNKNOWN when the agent is connected or not known (the
 * operation never arrived, or was forgotten), OPERATION_RECOVERING while the agent is known
 * but not connected (after a master restart, until it subscribes again), and
 * OPERATION_UNREACHABLE once it is given up. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "master/fw-int.h"

/* The status of an operation as sent (a new reference). */
static json_t *op_status_json(const char *op_id, const char *agent_id, const char *state,
			      const char *message)
{
	json_t *st = json_pack("{s:{s:s}, s:s}", "operation_id", "value", op_id, "state", state);
	if (message)
		json_object_set_new(st, "message", json_string(message));
	if (agent_id)
		json_object_set_new(st, "agent_id", json_pack("{s:s}", "value", agent_id));
	return st;
}

static void send_status(struct fw_framework *fw, json_t *st)
{
	fw_send(fw, json_pack("{s:s, s:{s:o}}", "type", "UPDATE_OPERATION_STATUS",
			      "update_operation_status", "status", st));
}

/* The index in fw->ops of the operation op_id, or -1. */
static long find_op(const struct fw_framework *fw, const char *op_id)
{
	for (size_t i = 0; i < FW_OP_STATUSES; i++)
		if (fw->ops[i].id && !strcmp(fw->ops[i].id, op_id))
			return (long)i;
	return -1;
}

void fw_op_status(struct fw_framework *fw, const json_t *op, const char *agent_id,
		  const char *state, const char *message)
{
	const char *id = json_string_value(json_object_get(json_object_get(op, "id"), "value"));
	if (!id)
		return; /* no feedback asked for */
	json_t *st = op_status_json(id, agent_id, state, message);
	long at = find_op(fw, id);
	struct fw_op_record *rec = &fw->ops[at >= 0 ? (size_t)at : fw->ops_next];
	if (at < 0)
		fw->ops_next = (fw->ops_next + 1) % FW_OP_STATUSES;
	free(rec->id);
	json_decref(rec->status);
	rec->id = xstrdup(id);
	rec->status = json_incref(st);
	send_status(fw, st);
}

void fw_ops_free(struct fw_framework *fw)
{
	for (size_t i = 0; i < FW_OP_STATUSES; i++) {
		free(fw->ops[i].id);
		json_decref(fw->ops[i].status);
		fw->ops[i].id = NULL;
		fw->ops[i].status = NULL;
	}
	fw->ops_next = 0;
}

/* What is known of an operation that is not among the statuses kept. */
static const char *unknown_state(const struct fw_framework *fw, const char *agent_id)
{
	const struct m_agent *a = agent_id ? hmap_get(&fw->fws->m->agents, agent_id) : NULL;
	if (!a || a->state == AGENT_CONNECTED)
		return "OPERATION_UNKNOWN";
	return a->state == AGENT_UNREACHABLE ? "OPERATION_UNREACHABLE" : "OPERATION_RECOVERING";
}

/* {"value": s} with a non-empty string s, or NULL. */
static const char *id_value(const json_t *j)
{
	const char *s = json_string_value(json_object_get(j, "value"));
	return s && *s ? s : NULL;
}

int fw_call_reconcile_operations(struct fw_framework *fw, const json_t *body, char *err,
				 size_t errlen)
{
	const json_t *ops = json_object_get(body, "operations");
	if (ops && !json_is_array(ops)) {
		snprintf(err, errlen, "'reconcile_operations.operations' must be an array");
		return -EINVAL;
	}
	if (json_array_size(ops) > FW_MAX_RECONCILE_OPS) {
		snprintf(err, errlen, "'reconcile_operations.operations' holds %zu operations, "
				      "more than %d", json_array_size(ops), FW_MAX_RECONCILE_OPS);
		return -EINVAL;
	}
	size_t i;
	const json_t *o;
	/* All checked before anything is sent: a bad call changes nothing. */
	json_array_foreach(ops, i, o) {
		const json_t *aid = json_object_get(o, "agent_id");
		if (!id_value(json_object_get(o, "operation_id"))) {
			snprintf(err, errlen, "'reconcile_operations.operations[%zu].operation_id."
					      "value' must be a non-empty string", i);
			return -EINVAL;
		}
		if (aid && !id_value(aid)) {
			snprintf(err, errlen, "'reconcile_operations.operations[%zu].agent_id.value' "
					      "must be a non-empty string", i);
			return -EINVAL;
		}
	}
	if (!json_array_size(ops)) { /* implicit: every operation known */
		for (size_t k = 0; k < FW_OP_STATUSES; k++) {
			const struct fw_op_record *rec =
				&fw->ops[(fw->ops_next + k) % FW_OP_STATUSES];
			if (rec->id)
				send_status(fw, json_incref(rec->status));
		}
		return 0;
	}
	json_array_foreach(ops, i, o) {
		const char *op_id = id_value(json_object_get(o, "operation_id"));
		const char *agent_id = id_value(json_object_get(o, "agent_id"));
		long at = find_op(fw, op_id);
		if (at >= 0)
			send_status(fw, json_incref(fw->ops[at].status));
		else
			send_status(fw, op_status_json(op_id, agent_id,
						       unknown_state(fw, agent_id), NULL));
	}
	return 0;
}
