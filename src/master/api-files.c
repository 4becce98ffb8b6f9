/* The master proxies task sandboxes for the CLI and console (agent-protocol.md §6):
 *   GET /api/berth/tasks/{taskId}/files/{read,browse}?path=P[&offset=N&length=N]
 * becomes GET http://<agent>/files/{read,browse}?path={taskId}/P… on the task's agent; and
 *   GET /api/berth/agents/{agentId}/monitor/statistics
 * the agent's /monitor/statistics (the usage of its tasks: docs/isolation.md). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "master/master-int.h"

#define PROXY_TIMEOUT_SEC 10

struct proxy {
	struct master *m;
	struct evhttp_request *client; /* NULL once the client went away */
	struct evhttp_connection *conn;
};

static void free_conn(evutil_socket_t fd, short what, void *ctx)
{
	evhttp_connection_free(ctx);
}

static void on_client_close(struct evhttp_connection *c, void *ctx)
{
	struct proxy *p = ctx;
	p->client = NULL;
}

static void on_agent_reply(struct evhttp_request *resp, void *ctx)
{
	struct proxy *p = ctx;
	if (p->client) {
		evhttp_connection_set_closecb(evhttp_request_get_connection(p->client), NULL, NULL);
		if (!resp || !evhttp_request_get_response_code(resp)) {
			http_reply_message(p->client, 503, "Agent cannot be reached");
		} else {
			int code = evhttp_request_get_response_code(resp);
			struct evbuffer *in = evhttp_request_get_input_buffer(resp);
			size_t n = evbuffer_get_length(in);
			char *body = xmalloc(n + 1);
			evbuffer_remove(in, body, n);
			body[n] = '\0';
			json_t *j = json_loadb(body, n, 0, NULL);
			if (j)
				http_reply_json(p->client, code, j);
			else
				http_reply_text(p->client, code, body);
			free(body);
		}
	}
	/* The connection cannot be freed inside its own callback. */
	event_base_once(p->m->base, -1, EV_TIMEOUT, free_conn, p->conn, NULL);
	free(p);
}

struct find_user {
	const char *task_id;
	char *user; /* or NULL */
};

static void find_user(const struct rm_task_view *t, void *ctx)
{
	struct find_user *f = ctx;
	if (!f->user && t->user && !strcmp(t->id, f->task_id))
		f->user = xstrdup(t->user);
}

/* The ACLs' access_sandboxes (object: the task's user; rm_set_view_filter): true, or false
 * after answering 403. */
static bool may_access(struct master *m, struct evhttp_request *req, const char *task_id)
{
	if (!m->may_view)
		return true;
	struct find_user f = { .task_id = task_id };
	rm_each_task(m, false, find_user, &f);
	const char *who =
		evhttp_find_header(evhttp_request_get_input_headers(req), HTTP_PRINCIPAL_HEADER);
	bool ok = m->may_view(m->may_view_ctx, "access_sandboxes", who, f.user);
	if (!ok) {
		char msg[512];
		snprintf(msg, sizeof(msg),
			 "Not authorized to access_sandboxes '%.200s' (users) as principal '%.100s'",
			 f.user ? f.user : "ANY", who ? who : "");
		http_reply_text(req, 403, msg);
	}
	free(f.user);
	return ok;
}

/* Sends GET target to agent a (whose HTTP address is host:port) and answers req with the
 * agent's reply; what names the subject in errors ("Agent of task 'x'"). Takes host. */
static void proxy_to_agent(struct master *m, struct evhttp_request *req, struct m_agent *a,
			   char *host, uint16_t port, const char *target, const char *what)
{
	struct proxy *p = xcalloc(1, sizeof(*p));
	p->m = m;
	p->client = req;
	if (a->http_tls && !m->agent_tls) {
		free(p);
		free(host);
		http_reply_message(req, 503, "%s serves HTTPS: the master needs --tls-cert to reach "
					     "it", what);
		return;
	}
	p->conn = a->http_tls ? http_tls_connect(m->base, m->agent_tls, host, port)
			      : evhttp_connection_base_new(m->base, NULL, host, port);
	free(host);
	if (!p->conn) {
		free(p);
		http_reply_message(req, 503, "%s cannot be reached", what);
		return;
	}
	evhttp_connection_set_timeout(p->conn, PROXY_TIMEOUT_SEC);
	struct evhttp_request *out = evhttp_request_new(on_agent_reply, p);
	evhttp_add_header(evhttp_request_get_output_headers(out), "Host", a->http);
	if (a->http_token) { /* the agent's HTTP server wants it (agent-auth.c) */
		char *bearer = xasprintf("Bearer %s", a->http_token);
		evhttp_add_header(evhttp_request_get_output_headers(out), "Authorization", bearer);
		free(bearer);
	}
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), on_client_close, p);
	if (evhttp_make_request(p->conn, out, EVHTTP_REQ_GET, target) < 0) {
		evhttp_connection_set_closecb(evhttp_request_get_connection(req), NULL, NULL);
		evhttp_connection_free(p->conn);
		free(p);
		http_reply_message(req, 503, "%s cannot be reached", what);
	}
}

void rm_handle_task_files(struct master *m, struct evhttp_request *req, const char *path)
{
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		http_reply_message(req, 405, "Method not allowed");
		return;
	}
	const char *rest = path + strlen("/api/berth/tasks/");
	const char *slash = strchr(rest, '/');
	const char *op = slash ? slash + 1 : "";
	if (!slash || (strcmp(op, "files/read") && strcmp(op, "files/browse"))) {
		http_reply_message(req, 404, "Not found: '%s'", path);
		return;
	}
	_cleanup_free_ char *task_id = xstrndup(rest, (size_t)(slash - rest));
	const char *agent_id = rm_task_agent(m, task_id);
	if (!agent_id || !*agent_id) {
		http_reply_message(req, 404, "Task '%s' does not exist", task_id);
		return;
	}
	if (!may_access(m, req, task_id))
		return;
	struct m_agent *a = hmap_get(&m->agents, agent_id);
	char *host = NULL;
	uint16_t port;
	if (!a || a->state == AGENT_UNREACHABLE || parse_hostport(a->http, &host, &port) < 0) {
		http_reply_message(req, 503, "Agent of task '%s' cannot be reached", task_id);
		free(host);
		return;
	}
	_cleanup_free_ char *fpath = http_query_get(req, "path");
	_cleanup_free_ char *offset = http_query_get(req, "offset");
	_cleanup_free_ char *length = http_query_get(req, "length");
	const char *rel = fpath ? fpath : "";
	while (*rel == '/')
		rel++;
	_cleanup_free_ char *full = *rel ? xasprintf("%s/%s", task_id, rel) : xstrdup(task_id);
	_cleanup_free_ char *enc = evhttp_uriencode(full, -1, 0);
	struct strbuf_local {
		char buf[4096];
	} u;
	int n = snprintf(u.buf, sizeof(u.buf), "/%s?path=%s", op, enc);
	if (offset && n > 0 && (size_t)n < sizeof(u.buf)) {
		_cleanup_free_ char *e = evhttp_uriencode(offset, -1, 0);
		n += snprintf(u.buf + n, sizeof(u.buf) - (size_t)n, "&offset=%s", e);
	}
	if (length && n > 0 && (size_t)n < sizeof(u.buf)) {
		_cleanup_free_ char *e = evhttp_uriencode(length, -1, 0);
		n += snprintf(u.buf + n, sizeof(u.buf) - (size_t)n, "&length=%s", e);
	}
	if (n < 0 || (size_t)n >= sizeof(u.buf)) {
		free(host);
		http_reply_message(req, 414, "Request too long");
		return;
	}
	_cleanup_free_ char *what = xasprintf("Agent of task '%s'", task_id);
	proxy_to_agent(m, req, a, host, port, u.buf, what);
}

void rm_handle_agent_statistics(struct master *m, struct evhttp_request *req,
				const char *agent_id)
{
	struct m_agent *a = hmap_get(&m->agents, agent_id);
	if (!a || a->gone) {
		http_reply_message(req, 404, "Agent '%s' does not exist", agent_id);
		return;
	}
	char *host = NULL;
	uint16_t port;
	if (a->state == AGENT_UNREACHABLE || parse_hostport(a->http, &host, &port) < 0) {
		free(host);
		http_reply_message(req, 503, "Agent '%s' cannot be reached", agent_id);
		return;
	}
	_cleanup_free_ char *what = xasprintf("Agent '%s'", agent_id);
	proxy_to_agent(m, req, a, host, port, "/monitor/statistics", what);
}

void rm_set_agent_tls(struct master *m, struct http_tls *client)
{
	m->agent_tls = client;
}
