/* GET /v2/tasks and /v2/apps/{id}/tasks with Accept: text/plain: Marathon's line format that
 * haproxy bridge scripts read (reference/compat.md §10.7). One line per (app, service port):
 * "<app id without '/', '/' -> '_'>\t<service port>\t<host>:<host port>\t...\n", every
 * endpoint followed by a tab; an app without service ports gives one line
 * "<app>\t \t<host>\t...\n". Only running tasks are listed; apps in id order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/strbuf.h"
#include "apps/api-int.h"

static int by_id(const void *a, const void *b)
{
	const struct m_app *x = *(struct m_app *const *)a, *y = *(struct m_app *const *)b;
	return strcmp(x->def->id, y->def->id);
}

static void app_lines(struct apps *m, struct strbuf *sb, const struct m_app *ma)
{
	char safe[APP_MAX_ID_LEN + 1];
	snprintf(safe, sizeof(safe), "%s", ma->def->id[0] == '/' ? ma->def->id + 1 : ma->def->id);
	for (char *p = safe; *p; p++)
		if (*p == '/')
			*p = '_';
	size_t nports = ma->def->nports;
	for (size_t pi = 0; pi < (nports ? nports : 1); pi++) {
		if (nports)
			strbuf_addf(sb, "%s\t%u\t", safe, (unsigned)ma->def->ports[pi].port);
		else
			strbuf_addf(sb, "%s\t \t", safe);
		for (size_t i = 0; i < ma->ninst; i++) {
			const struct m_instance *in = ma->inst[i];
			if (in->phase != INST_LIVE || strcmp(in->state, "TASK_RUNNING"))
				continue;
			struct m_agent *a = in->agent_id ? rm_agent_get(m->rm, in->agent_id) : NULL;
			if (!a)
				continue;
			if (!nports)
				strbuf_addf(sb, "%s\t", a->hostname);
			else if (pi < in->nports)
				strbuf_addf(sb, "%s:%u\t", a->hostname, (unsigned)in->ports[pi]);
		}
		strbuf_addch(sb, '\n');
	}
}

bool api_tasks_text(struct apps *m, struct evhttp_request *req, const struct m_app *only)
{
	const char *acc = evhttp_find_header(evhttp_request_get_input_headers(req), "Accept");
	if (!acc || !strstr(acc, "text/plain") || strstr(acc, "application/json"))
		return false;
	struct strbuf sb = STRBUF_INIT;
	if (only) {
		app_lines(m, &sb, only);
	} else {
		size_t n = 0, cap = 16;
		struct m_app **v = xcalloc(cap, sizeof(*v));
		const char *k;
		void *val;
		for (size_t i = 0; hmap_next(&m->apps, &i, &k, &val);) {
			struct m_app *ma = val;
			if (ma->deleting || !apps_visible(m, req, ma->def->id))
				continue;
			if (n == cap)
				v = xrealloc(v, (cap *= 2) * sizeof(*v));
			v[n++] = ma;
		}
		qsort(v, n, sizeof(*v), by_id);
		for (size_t i = 0; i < n; i++)
			app_lines(m, &sb, v[i]);
		free(v);
	}
	size_t len;
	char *text = strbuf_detach(&sb, &len);
	http_reply_text(req, 200, text);
	free(text);
	return true;
}
