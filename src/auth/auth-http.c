/* The route hook: which paths want credentials, and the 401 each API answers.
 *
 * Marathon (/v2/…) answers 401 {"message":"Invalid username or password."} with
 * `WWW-Authenticate: Basic realm="Mesosphere"` (its --http_realm default). Mesos answers
 * 401 with an empty body and `WWW-Authenticate: Basic realm="<realm>"`, the realm naming
 * the endpoint class: mesos-master-scheduler (the v1 scheduler API), mesos-master-readonly
 * (state and listing GETs), mesos-master-readwrite (the rest). */
#include <string.h>

#include "auth/auth-int.h"
#include "base/util.h"
#include "net/http.h"

static bool open_path(const struct auth *a, const char *path)
{
	if (!strcmp(path, "/ping") || !strcmp(path, "/health"))
		return true;
	/* The console's page and assets (src/ui): static, no cluster data; the page asks for
	 * credentials in its own form and sends them on every API call (docs/console.md). */
	if (!strcmp(path, "/") || !strcmp(path, "/ui") || str_has_prefix(path, "/ui/"))
		return true;
	if (!strcmp(path, "/metrics") || !strcmp(path, "/metrics/prometheus"))
		return !auth_metrics_guarded(a);
	return false;
}

static bool is_any(const char *path, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(path, *list))
			return true;
	return false;
}

static void refuse(struct evhttp_request *req, const char *path)
{
	static const char *const sched[] = { "/api/v1/scheduler", "/master/api/v1/scheduler",
					     NULL };
	static const char *const ro[] = { "/master/state", "/state", "/master/state.json",
					  "/state.json", "/master/slaves", "/slaves",
					  "/metrics", "/metrics/prometheus", NULL };
	if (str_has_prefix(path, "/v2/") || !strcmp(path, "/v2")) {
		http_add_header(req, "WWW-Authenticate", "Basic realm=\"Mesosphere\"");
		http_reply_message(req, 401, "Invalid username or password.");
		return;
	}
	const char *realm = is_any(path, sched) ? "mesos-master-scheduler"
			    : is_any(path, ro)	    ? "mesos-master-readonly"
						    : "mesos-master-readwrite";
	char ch[64];
	snprintf(ch, sizeof(ch), "Basic realm=\"%s\"", realm);
	http_add_header(req, "WWW-Authenticate", ch);
	http_reply_text(req, 401, "");
}

bool auth_http_check(struct auth *a, struct evhttp_request *req, const char *path)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	evhttp_remove_header(in, HTTP_PRINCIPAL_HEADER); /* never a client's */
	if (!a || open_path(a, path))
		return true;
	const char *who = NULL;
	if (auth_authenticates(a)) {
		who = auth_creds_check(auth_current(a), evhttp_find_header(in, "Authorization"));
		if (!who) {
			refuse(req, path);
			return false;
		}
		evhttp_add_header(in, HTTP_PRINCIPAL_HEADER, who);
	}
	return auth_http_authorize(a, req, path, who);
}
