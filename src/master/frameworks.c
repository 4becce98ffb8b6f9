/* External frameworks through the Mesos v1 scheduler API: not yet served. Being replaced by
 * the implementation of issue 3 (owned by the frameworks engineer). */
#include "master/master-int.h"

int frameworks_init(struct master *m)
{
	m->fw = NULL;
	return 0;
}

void frameworks_free(struct master *m)
{
}

void frameworks_handle(struct master *m, struct evhttp_request *req)
{
	http_reply_text(req, 501, "The Mesos v1 scheduler API is not served yet");
}

bool frameworks_status_update(struct master *m, struct m_agent *a, const json_t *update)
{
	return false;
}

bool frameworks_task_recovered(struct master *m, struct m_agent *a, const char *task_id,
			       const char *state)
{
	return false;
}

void frameworks_agent_lost(struct master *m, struct m_agent *a)
{
}

void frameworks_tick(struct master *m)
{
}
