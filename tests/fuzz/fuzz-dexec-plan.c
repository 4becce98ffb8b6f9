/* Fuzz target: arbitrary JSON text as a TaskInfo of a task group, as the default executor
 * reads it (agent/dexec.h): a plan or a refusal with a message, nothing leaked. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent/dexec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A path that leaves its sandbox: absolute, or with a ".." component. */
static int escapes(const char *s)
{
	if (s[0] == '/')
		return 1;
	for (const char *c = s; *c;) {
		size_t n = strcspn(c, "/");
		if (n == 2 && c[0] == '.' && c[1] == '.')
			return 1;
		c += n;
		c += *c == '/';
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *in = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (!in)
		return 0;
	struct dexec_plan p;
	char err[256] = "";
	if (dexec_plan_parse(in, &p, err, sizeof(err)) == 0) {
		if (!p.task_id || !p.argv || !p.argv[0] || !p.env || p.nvols > DEXEC_MAX_VOLUMES)
			abort();
		for (size_t i = 0; i < p.nvols; i++)
			if (escapes(p.vols[i].container_path) || escapes(p.vols[i].path))
				abort();
		dexec_plan_release(&p);
	} else if (!err[0]) {
		abort();
	}
	json_decref(in);
	return 0;
}
