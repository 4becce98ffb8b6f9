/* The CLI's entry point and the plumbing every command shares: talking to the master,
 * turning its errors into one readable line, URL paths for app and task ids. */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/b64.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "cli/cli-internal.h"

bool cli_is_command(const char *word)
{
	static const char *const words[] = { "app",    "task",   "node",     "volume",
					     "deployment", "logs", "events", "help", "framework", "discover", "job",
					     "--master", "--cacert", "--json", "--help", "-h",
					     "--principal", "--secret", "--cert", "--key",
					     "--insecure" };
	if (!word)
		return false;
	if (str_has_prefix(word, "--master=") || str_has_prefix(word, "--cacert=") ||
	    str_has_prefix(word, "--cert=") || str_has_prefix(word, "--key=") ||
	    str_has_prefix(word, "--principal=") || str_has_prefix(word, "--secret="))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (strcmp(word, words[i]) == 0)
			return true;
	return false;
}

int cli_fail(const char *fmt, ...)
{
	va_list ap;
	fputs("berth: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_FAILED;
}

int cli_print_json(json_t *json)
{
	char *s = json_dumps(json, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	if (s) {
		fputs(s, stdout);
		fputc('\n', stdout);
		free(s);
	}
	return CLI_OK;
}

void cli_url_encode(struct strbuf *sb, const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char ch = *p;
		bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			     (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
			     ch == '~' || (keep_slash && ch == '/');
		if (plain) {
			strbuf_addch(sb, (char)ch);
		} else {
			strbuf_addch(sb, '%');
			strbuf_addch(sb, hex[ch >> 4]);
			strbuf_addch(sb, hex[ch & 15]);
		}
	}
}

char *cli_app_id(const char *user_id)
{
	/* collapse repeated slashes, drop leading and trailing ones, then add one in front */
	struct strbuf sb = STRBUF_INIT;
	for (const char *p = user_id; *p;) {
		while (*p == '/')
			p++;
		size_t n = strcspn(p, "/");
		if (n == 0)
			break;
		strbuf_addch(&sb, '/');
		strbuf_add(&sb, p, n);
		p += n;
	}
	if (sb.len == 0) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

char *cli_app_target(const char *user_id, const char *suffix)
{
	_cleanup_free_ char *id = cli_app_id(user_id);
	if (!id)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	strbuf_adds(&sb, "/v2/apps");
	cli_url_encode(&sb, id, true);
	if (suffix)
		strbuf_adds(&sb, suffix);
	return strbuf_detach(&sb, NULL);
}

void cli_reply_release(struct cli_reply *r)
{
	json_decref(r->json);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

int cli_fail_http(const struct cli *c, int r, const char *err)
{
	if (r == -EBADMSG || r == -E2BIG || r == -ELOOP)
		return cli_fail("bad answer from master at %s: %s", c->master, err);
	if (r == -EPROTO && !c->cert)
		return cli_fail("cannot reach master at %s: %s (a master with --tls-ca wants a "
				"client certificate: --cert FILE --key FILE, or BERTH_CERT and "
				"BERTH_KEY)", c->master, err);
	if (r == -EKEYREJECTED && !c->cacert)
		return cli_fail("cannot reach master at %s: %s (a certificate from a private CA "
				"wants --cacert FILE or BERTH_CACERT)", c->master, err);
	return cli_fail("cannot reach master at %s: %s", c->master, err);
}

/* "http://m1:5050,m2:5050,https://m3" (an element without a scheme takes the first's):
 * the first whose GET /ping answers 200, malloc'd; NULL when none does. */
static char *pick_master(struct cli *c)
{
	const char *list = c->master;
	const char *scheme = strncmp(list, "https://", 8) == 0 ? "https://" : "http://";
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ",");
		_cleanup_free_ char *one = xstrndup(p, n);
		p += n + (p[n] == ',');
		if (!*one)
			continue;
		char *url = strstr(one, "://") ? xstrdup(one) : xasprintf("%s%s", scheme, one);
		struct cli probe = *c;
		probe.master = url;
		probe.deadline = time_mono_usec() + 1000000;
		struct cli_reply rep;
		bool ok = httpc_url_parse(url, &probe.url) >= 0 &&
			  cli_request(&probe, "GET", "/ping", NULL, &rep) >= 0 && rep.status == 200;
		if (probe.url.host) {
			cli_reply_release(&rep);
			httpc_url_release(&probe.url);
		}
		if (ok)
			return url;
		free(url);
	}
	return NULL;
}

int cli_request(struct cli *c, const char *method, const char *target, json_t *body,
		struct cli_reply *rep)
{
	memset(rep, 0, sizeof(*rep));
	_cleanup_free_ char *payload = NULL;
	if (body)
		payload = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	uint64_t timeout = CLI_REQUEST_TIMEOUT_USEC;
	if (c->deadline) {
		uint64_t now = time_mono_usec();
		uint64_t left = c->deadline > now ? c->deadline - now : 0;
		if (left + 1000000 < timeout)
			timeout = left + 1000000;
	}
	/* berth's own client always asks for berth's extras when it reads Marathon paths (a
	 * task's index, a queue item's role): --json and the tables show them (docs/api.md). */
	_cleanup_free_ char *with_extras = NULL;
	if (!strcmp(method, "GET") && !strncmp(target, "/v2/", 4) &&
	    strncmp(target, "/v2/events", 10))
		with_extras = xasprintf("%s%cembed=berth", target, strchr(target, '?') ? '&' : '?');
	_cleanup_free_ char *url = httpc_url_join(&c->url, with_extras ? with_extras : target);
	struct httpc_request req = {
		.method = method,
		.url = url,
		.body = payload,
		.body_len = payload ? strlen(payload) : 0,
		.cacert = c->cacert,
		.client_cert = c->cert,
		.client_key = c->key,
		.insecure = c->insecure,
		.authorization = c->authorization,
		.timeout_usec = timeout,
		.max_redirects = HTTPC_MAX_REDIRECTS,
	};
	struct httpc_response resp;
	char err[HTTPC_ERR_MAX] = "";
	int r = httpc_send(&req, &resp, err, sizeof(err));
	if (r < 0)
		return cli_fail_http(c, r, err);
	rep->status = resp.status;
	rep->body = TAKE_PTR(resp.body);
	rep->body_len = resp.body_len;
	if (rep->body_len > 0)
		rep->json = json_loadb(rep->body, rep->body_len, JSON_DECODE_ANY | JSON_ALLOW_NUL,
				       NULL);
	httpc_response_release(&resp);
	return 0;
}

/* "/cpus: got -1.0, expected 0.001 or more; /id: …" from Marathon's details array. */
static void add_details(struct strbuf *sb, json_t *details)
{
	size_t i;
	json_t *d;
	bool first = true;
	json_array_foreach(details, i, d) {
		const char *path = cli_json_str(d, "path");
		json_t *errs = json_object_get(d, "errors");
		size_t j;
		json_t *e;
		json_array_foreach(errs, j, e) {
			if (!json_is_string(e))
				continue;
			strbuf_addf(sb, "%s%s%s%s", first ? "" : "; ", path ? path : "",
				    path && *path ? ": " : "", json_string_value(e));
			first = false;
		}
		if (json_array_size(errs) == 0 && path) {
			strbuf_addf(sb, "%s%s", first ? "" : "; ", path);
			first = false;
		}
	}
}

char *cli_error_text(int status, json_t *json, const char *body, const char *subject)
{
	struct strbuf sb = STRBUF_INIT;
	const char *msg = cli_json_str(json, "message");
	json_t *details = json_object_get(json, "details");
	if (json_is_array(details) && json_array_size(details) > 0) {
		if (msg && strcmp(msg, "Object is not valid") != 0 && strcmp(msg, "Invalid JSON") != 0)
			strbuf_addf(&sb, "%s: ", msg);
		else if (subject)
			strbuf_addf(&sb, "%s rejected: ", subject);
		else
			strbuf_adds(&sb, "request rejected: ");
		add_details(&sb, details);
	} else if (msg) {
		strbuf_adds(&sb, msg);
		if (json_is_string(details))
			strbuf_addf(&sb, ": %s", json_string_value(details));
		json_t *deps = json_object_get(json, "deployments");
		if (json_is_array(deps) && json_array_size(deps) > 0 &&
		    !strstr(msg, "/v2/deployments/")) {
			strbuf_adds(&sb, " (deployments:");
			size_t i;
			json_t *d;
			json_array_foreach(deps, i, d) {
				const char *id = cli_json_str(d, "id");
				strbuf_addf(&sb, " %s", id ? id : "?");
			}
			strbuf_adds(&sb, ")");
		}
	} else {
		strbuf_addf(&sb, "master answered HTTP %d", status);
		/* a short plain-text body is worth showing; HTML or long ones are not */
		if (body && *body && strlen(body) <= 200 && !strchr(body, '<')) {
			size_t n = strcspn(body, "\r\n");
			strbuf_addf(&sb, ": %.*s", (int)n, body);
		}
	}
	/* no control characters from the network on the terminal */
	for (size_t i = 0; i < sb.len; i++)
		if ((unsigned char)sb.buf[i] < 0x20 || sb.buf[i] == 0x7f)
			sb.buf[i] = '?';
	return strbuf_detach(&sb, NULL);
}

int cli_fail_reply(const struct cli_reply *r, const char *subject)
{
	_cleanup_free_ char *text = cli_error_text(r->status, r->json, r->body, subject);
	if (r->status == 409 && json_object_get(r->json, "deployments"))
		return cli_fail("%s (wait for it, or add --force to replace it)", text);
	if (r->status == 401)
		return cli_fail("%s (the master wants credentials: --principal NAME with "
				"BERTH_SECRET, or BERTH_PRINCIPAL and BERTH_SECRET)", text);
	return cli_fail("%s", text);
}

const char *cli_json_str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

double cli_json_num(json_t *obj, const char *key)
{
	return json_number_value(json_object_get(obj, key));
}

long long cli_json_index(json_t *obj)
{
	json_t *v = json_object_get(obj, "index");
	if (json_is_integer(v))
		return json_integer_value(v) >= 0 ? json_integer_value(v) : -1;
	if (json_is_real(v)) {
		double d = json_real_value(v);
		if (d >= 0 && d < 9e15 && d == (double)(long long)d)
			return (long long)d;
	}
	return -1;
}

struct sort_item {
	json_t *v;
	const char *app; /* "" when absent */
	long long index; /* -1 when absent */
	size_t pos;
};

static int sort_item_cmp(const void *pa, const void *pb)
{
	const struct sort_item *a = pa, *b = pb;
	int r = strcmp(a->app, b->app);
	if (r)
		return r;
	if ((a->index < 0) != (b->index < 0))
		return a->index < 0 ? 1 : -1;
	if (a->index != b->index)
		return a->index < b->index ? -1 : 1;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

json_t *cli_sort_by_index(json_t *arr, const char *app_key)
{
	size_t n = json_array_size(arr);
	json_t *out = json_array();
	if (n == 0)
		return out;
	struct sort_item *items = xcalloc(n, sizeof(*items));
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_array_get(arr, i);
		const char *app = cli_json_str(v, app_key);
		items[i] = (struct sort_item){ v, app ? app : "", cli_json_index(v), i };
	}
	qsort(items, n, sizeof(*items), sort_item_cmp);
	for (size_t i = 0; i < n; i++)
		json_array_append(out, items[i].v);
	free(items);
	return out;
}

char *cli_join_numbers(json_t *arr)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) {
		if (json_is_number(v))
			strbuf_addf(&sb, "%s%.15g", sb.len ? "," : "", json_number_value(v));
	}
	return strbuf_detach(&sb, NULL);
}

static int print_usage_error(const struct cli_opts *o, const char *msg)
{
	struct strbuf sb = STRBUF_INIT;
	cli_usage_brief(&sb, o->cmd ? NULL : o->noun, o->cmd);
	fprintf(stderr, "berth: %s\n%s", msg, strbuf_str(&sb));
	strbuf_release(&sb);
	return CLI_USAGE;
}

int cli_main(int argc, char **argv)
{
	struct cli c;
	memset(&c, 0, sizeof(c));
	char err[256];
	int r = cli_args_parse(argc, argv, &c.o, err, sizeof(err));
	if (r < 0)
		return print_usage_error(&c.o, err);
	if (r == 1) {
		struct strbuf sb = STRBUF_INIT;
		cli_usage(&sb, c.o.noun, c.o.cmd);
		fputs(strbuf_str(&sb), stdout);
		strbuf_release(&sb);
		return CLI_OK;
	}

	const char *env = getenv("BERTH_MASTER");
	c.master = c.o.master ? c.o.master : (env && *env) ? env : CLI_DEFAULT_MASTER;
	const char *ca_env = getenv("BERTH_CACERT");
	c.cacert = c.o.cacert ? c.o.cacert : (ca_env && *ca_env) ? ca_env : NULL;
	const char *cert_env = getenv("BERTH_CERT"), *key_env = getenv("BERTH_KEY");
	c.cert = c.o.cert ? c.o.cert : (cert_env && *cert_env) ? cert_env : NULL;
	c.key = c.o.key ? c.o.key : (key_env && *key_env) ? key_env : NULL;
	const char *insecure_env = getenv("BERTH_INSECURE");
	c.insecure = c.o.insecure || (insecure_env && !strcmp(insecure_env, "1"));
	if (c.key && !c.cert) {
		cli_fail("--key wants --cert or BERTH_CERT");
		return CLI_USAGE;
	}
	if (c.cert && !c.key)
		c.key = c.cert; /* a PEM file with the certificate and its key */
	const char *p_env = getenv("BERTH_PRINCIPAL"), *s_env = getenv("BERTH_SECRET");
	const char *principal = c.o.principal ? c.o.principal : p_env && *p_env ? p_env : NULL;
	const char *secret = c.o.secret ? c.o.secret : s_env ? s_env : NULL;
	if (principal && !secret) {
		cli_fail("--principal wants --secret or BERTH_SECRET");
		return CLI_USAGE;
	}
	if (principal)
		c.authorization = b64_basic_auth(principal, secret);
	_cleanup_free_ char *picked = NULL;
	if (strchr(c.master, ',')) {
		/* Several masters (HA): the first that answers; a standby passes the calls on to
		 * the leader (proxy or redirect). */
		picked = pick_master(&c);
		if (!picked)
			return cli_fail("no master of '%s' answers", c.master);
		c.master = picked;
	}
	r = httpc_url_parse(c.master, &c.url);
	if (r == -EPROTONOSUPPORT)
		return cli_fail("master URL '%s': only http:// and https:// are supported",
				c.master), CLI_USAGE;
	if (r < 0) {
		cli_fail("bad master URL '%s' (want http[s]://HOST[:PORT])%s", c.master,
			 c.o.master ? "" : " from BERTH_MASTER");
		return CLI_USAGE;
	}
	c.tty = isatty(STDOUT_FILENO) == 1;
	r = c.o.cmd->run(&c);
	if (fflush(stdout) == EOF && r == CLI_OK)
		r = cli_fail("cannot write output: %s", strerror(errno));
	httpc_url_release(&c.url);
	if (c.authorization)
		explicit_bzero(c.authorization, strlen(c.authorization));
	free(c.authorization);
	return r;
}
