/* Authentication on the agent's own HTTP server (docs/security.md, "The agent's HTTP
 * server"). On when the agent has --credentials FILE (Mesos's credentials JSON; an empty
 * list admits only the master and executors). Then every request but /health must carry:
 *   - the leading master's token: a random secret the agent makes anew on each SUBSCRIBE
 *     and sends in its body over the link it opened (to the master it chose and, with
 *     --tls-ca, verified), so only the master it is subscribed to holds a valid one;
 *   - or an operator's credentials (Basic, token=, Bearer; net/creds.h);
 *   - or, on /api/v1/executor only, the executor's own token (agent-xapi-http.c): made at
 *     its launch, passed in MESOS_EXECUTOR_AUTHENTICATION_TOKEN, valid for that executor.
 * A request without them gets 401 with Mesos's agent realms.
 *
 * Invariants: tokens and secrets are never logged nor answered; comparisons take the
 * same time whatever bytes differ. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "agent/agent-int.h"
#include "base/log.h"
#include "net/http.h"

int agent_auth_init(struct agent *a, const char *file)
{
	if (!file)
		return 0;
	char err[256];
	int r = auth_creds_load(file, &a->http_creds, err, sizeof(err));
	if (r < 0) {
		log_error("agent", "--credentials: %s", err);
		return r;
	}
	a->http_auth = true;
	log_info("agent", "HTTP authentication on: %zu operator principal(s)", a->http_creds.n);
	return 0;
}

void agent_auth_free(struct agent *a)
{
	auth_creds_release(&a->http_creds);
	explicit_bzero(a->master_token, sizeof(a->master_token));
}

void agent_auth_token(char out[AGENT_TOKEN_LEN + 1])
{
	unsigned char raw[AGENT_TOKEN_LEN / 2];
	size_t have = 0;
	while (have < sizeof(raw)) {
		ssize_t n = getrandom(raw + have, sizeof(raw) - have, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			abort(); /* no randomness: no token worth the name */
		have += (size_t)n;
	}
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[AGENT_TOKEN_LEN] = '\0';
	explicit_bzero(raw, sizeof(raw));
}

const char *agent_auth_bearer(struct evhttp_request *req)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(req),
					   "Authorization");
	if (!h)
		return NULL;
	while (*h == ' ')
		h++;
	if (!strncasecmp(h, "Bearer ", 7))
		h += 7;
	else if (!strncasecmp(h, "token=", 6))
		h += 6;
	else
		return NULL;
	while (*h == ' ')
		h++;
	return h;
}

bool agent_auth_token_is(const char *given, const char *token)
{
	return given && *token && auth_same_secret(given, strlen(given), token, strlen(token));
}

void agent_auth_challenge(struct evhttp_request *req, const char *realm, bool bearer)
{
	char v[128];
	snprintf(v, sizeof(v), "%s realm=\"%s\"", bearer ? "Bearer" : "Basic", realm);
	http_add_header(req, "WWW-Authenticate", v);
	http_reply_text(req, 401, "");
}

bool agent_auth_check(struct agent *a, struct evhttp_request *req, const char *path)
{
	if (!a->http_auth || !strcmp(path, "/health"))
		return true;
	if (agent_auth_token_is(agent_auth_bearer(req), a->master_token))
		return true;
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(req),
					   "Authorization");
	if (auth_creds_check(&a->http_creds, h))
		return true;
	bool rw = evhttp_request_get_command(req) == EVHTTP_REQ_POST;
	agent_auth_challenge(req, rw ? "mesos-agent-readwrite" : "mesos-agent-readonly", false);
	return false;
}

int agent_tls_init(struct agent *a, const struct agent_config *cfg)
{
	char err[512];
	int r;
	if (cfg->tls_cert) {
		r = http_tls_new(cfg->tls_cert, cfg->tls_key, cfg->tls_ca, &a->tls_server, err,
				 sizeof(err));
		if (r < 0) {
			log_error("agent", "%s", err);
			return r;
		}
		http_server_set_tls(a->http, a->tls_server);
	}
	/* https:// masters; and the leaders found in ZooKeeper (zk://, whose MasterInfo names
	 * no scheme) when --tls-ca is given: TLS masters verified against it. */
	if (!strncmp(cfg->master_url, "https://", 8) ||
	    (!strncmp(cfg->master_url, "zk://", 5) && cfg->tls_ca)) {
		r = http_tls_client_new(cfg->tls_ca, cfg->tls_cert, cfg->tls_key, &a->tls_client,
					err, sizeof(err));
		if (r < 0) {
			log_error("agent", "%s", err);
			return r;
		}
	}
	return 0;
}
