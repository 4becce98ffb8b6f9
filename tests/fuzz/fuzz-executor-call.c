/* Feeds arbitrary bytes as an executor's Call (POST /api/v1/executor body) to
 * xapi_call_parse: it must never crash, and what it accepts must carry every field the
 * agent reads. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "agent/xapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (!j)
		return 0;
	struct xapi_call c;
	char err[256];
	int r = xapi_call_parse(j, &c, err, sizeof(err));
	if (r == 0) {
		if (!c.executor_id || !*c.executor_id || !c.framework_id || !*c.framework_id)
			__builtin_trap();
		if (c.type == XAPI_UPDATE && (!c.task_id || !c.state || !c.uuid))
			__builtin_trap();
		if (c.type == XAPI_MESSAGE && !c.data)
			__builtin_trap();
	} else if (!memchr(err, '\0', sizeof(err)) || !err[0]) {
		__builtin_trap();
	}
	json_decref(j);
	return 0;
}
