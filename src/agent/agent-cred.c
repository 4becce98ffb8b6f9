/* The agent's credential for the master (--credential FILE): Mesos's agent credential file,
 * JSON {"principal": "p", "secret": "s"} or the text "p s" on one line. Its secret is sent
 * as HTTP Basic on every request to the master and is never logged. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent-int.h"
#include "base/b64.h"
#include "base/log.h"
#include "base/mem.h"

#define CRED_MAX 4096

int agent_credential_load(const char *path, char **authorization)
{
	*authorization = NULL;
	FILE *f = fopen(path, "re");
	if (!f) {
		int r = -errno;
		log_error("agent", "cannot read credential '%s': %s", path, strerror(-r));
		return r;
	}
	char buf[CRED_MAX + 1];
	size_t n = fread(buf, 1, CRED_MAX + 1, f);
	fclose(f);
	if (n > CRED_MAX) {
		log_error("agent", "credential '%s': larger than %d bytes", path, CRED_MAX);
		return -E2BIG;
	}
	buf[n] = '\0';
	int r = 0;
	json_t *j = json_loadb(buf, n, 0, NULL);
	if (j) {
		const char *p = json_string_value(json_object_get(j, "principal"));
		const char *s = json_string_value(json_object_get(j, "secret"));
		if (p && *p && s && !strchr(p, ':'))
			*authorization = b64_basic_auth(p, s);
		else
			r = -EINVAL;
		json_decref(j);
	} else {
		char *save = NULL;
		char *p = strtok_r(buf, " \t\r\n", &save);
		char *s = p ? strtok_r(NULL, " \t\r\n", &save) : NULL;
		if (p && s && !strchr(p, ':'))
			*authorization = b64_basic_auth(p, s);
		else
			r = -EINVAL;
	}
	explicit_bzero(buf, sizeof(buf));
	if (r < 0)
		log_error("agent", "credential '%s': expected {\"principal\", \"secret\"} or "
				   "'PRINCIPAL SECRET'", path);
	return r;
}
