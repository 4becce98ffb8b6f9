/* Fuzz target: a POSTed Chronos job (src/jobs/job.c): JSON bytes through job_from_body, then
 * the job's JSON and its store form, which must load back to the same job (its container's
 * LAUNCH record included). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jobs/jobs-int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	json_t *body = json_loadb((const char *)data, size, 0, NULL);
	if (!body)
		return 0;
	struct job *jb;
	char err[512];
	for (int dependent = 0; dependent < 2; dependent++) {
		err[0] = '\0';
		if (job_from_body(NULL, body, dependent, 1767225600000LL, &jb, err, sizeof(err)) < 0) {
			if (!err[0])
				abort();
			continue;
		}
		json_t *out = job_to_json(jb);
		if (!out || strcmp(json_string_value(json_object_get(out, "name")), jb->name))
			abort();
		json_decref(out);
		json_t *st = job_store_json(jb);
		char *s = json_dumps(st, JSON_COMPACT);
		struct job *back;
		if (job_from_store(s, strlen(s), &back) < 0 || strcmp(back->name, jb->name) ||
		    back->dependent != jb->dependent ||
		    (!jb->dependent && back->sched.start_ms != jb->sched.start_ms) ||
		    !back->container != !jb->container ||
		    (jb->container && !json_equal(back->container, jb->container)))
			abort();
		job_free(back);
		free(s);
		json_decref(st);
		job_free(jb);
	}
	json_decref(body);
	return 0;
}
