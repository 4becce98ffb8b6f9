/* marathon-lb's labels read off GET /v2/apps?embed=apps.tasks (see lb-model.h). */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "lb/lb-model.h"

bool lb_token_ok(const char *s)
{
	if (!s || !*s || strlen(s) > LB_MAX_TOKEN)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '"' || *p == '\'' || *p == '#' || *p == '\\')
			return false;
	return true;
}

static void sanitize(struct strbuf *sb, const char *s)
{
	for (; *s; s++)
		strbuf_addch(sb, isalnum((unsigned char)*s) || *s == '.' || *s == '-' ? *s : '_');
}

/* A label's value, or NULL. */
static const char *label(json_t *labels, const char *name)
{
	json_t *v = json_object_get(labels, name);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static const char *port_label(json_t *labels, unsigned n, const char *what)
{
	char key[96];
	snprintf(key, sizeof(key), "HAPROXY_%u_%s", n, what);
	return label(labels, key);
}

/* A clean token, or NULL with a warning. */
static char *token(struct lb_services *out, const char *app, const char *what, const char *v)
{
	if (!v)
		return NULL;
	if (!lb_token_ok(v)) {
		strbuf_addf(&out->warnings, "app %s: label %s ignored: not one token of printable "
			    "ASCII without quotes, '#' or '\\'\n", app, what);
		return NULL;
	}
	return xstrdup(v);
}

static bool truthy(const char *v)
{
	return v && (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes"));
}

/* Does the comma list have g (or "*")? */
static bool list_has(const char *list, const char *g)
{
	size_t gl = strlen(g);
	for (const char *p = list; p && *p;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if ((l == 1 && *p == '*') || (l == gl && !strncmp(p, g, l)))
			return true;
		p = e ? e + 1 : NULL;
	}
	return false;
}

static bool groups_match(const char *app_groups, const char *lb_groups)
{
	if (list_has(lb_groups, "*"))
		return true;
	for (const char *p = lb_groups; p && *p;) {
		const char *e = strchr(p, ',');
		char g[128];
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l && l < sizeof(g)) {
			memcpy(g, p, l);
			g[l] = '\0';
			if (app_groups && list_has(app_groups, g))
				return true;
		}
		p = e ? e + 1 : NULL;
	}
	return false;
}

/* The service ports of an app, as marathon-lb finds them. */
static size_t service_ports(json_t *app, uint16_t *ports)
{
	size_t n = 0, i;
	json_t *v, *arr = json_object_get(app, "portDefinitions");
	if (json_array_size(arr)) {
		json_array_foreach(arr, i, v) {
			if (n == LB_MAX_PORTS)
				break;
			json_int_t p = json_integer_value(json_object_get(v, "port"));
			ports[n++] = p > 0 && p < 65536 ? (uint16_t)p : 0;
		}
		return n;
	}
	json_t *c = json_object_get(app, "container");
	arr = json_object_get(c, "portMappings");
	if (!json_array_size(arr))
		arr = json_object_get(json_object_get(c, "docker"), "portMappings");
	if (json_array_size(arr)) {
		json_array_foreach(arr, i, v) {
			if (n == LB_MAX_PORTS)
				break;
			json_int_t p = json_integer_value(json_object_get(v, "servicePort"));
			ports[n++] = p > 0 && p < 65536 ? (uint16_t)p : 0;
		}
		return n;
	}
	json_array_foreach(json_object_get(app, "ports"), i, v) {
		if (n == LB_MAX_PORTS)
			break;
		json_int_t p = json_integer_value(v);
		ports[n++] = p > 0 && p < 65536 ? (uint16_t)p : 0;
	}
	return n;
}

static const char *const excluded_states[] = {
	"TASK_STAGING", "TASK_STARTING", "TASK_KILLING", "TASK_FINISHED", "TASK_FAILED",
	"TASK_KILLED", "TASK_ERROR", "TASK_DROPPED", "TASK_GONE", "TASK_GONE_BY_OPERATOR",
	"TASK_UNKNOWN",
};

/* Is the task one HAProxy should send to (compat.md §7.1)? */
static bool task_serves(json_t *t, bool has_checks)
{
	const char *st = json_string_value(json_object_get(t, "state"));
	if (!st)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(excluded_states); i++)
		if (!strcmp(st, excluded_states[i]))
			return false;
	if (json_is_true(json_object_get(t, "draining")))
		return false;
	if (has_checks) {
		json_t *res = json_object_get(t, "healthCheckResults"), *r;
		size_t i;
		if (!json_array_size(res))
			return false;
		json_array_foreach(res, i, r)
			if (!json_is_true(json_object_get(r, "alive")))
				return false;
	}
	return true;
}

static bool http_check_on(json_t *app, unsigned n)
{
	json_t *hc;
	size_t i;
	json_array_foreach(json_object_get(app, "healthChecks"), i, hc) {
		const char *proto = json_string_value(json_object_get(hc, "protocol"));
		json_t *pi = json_object_get(hc, "portIndex");
		if (proto && strstr(proto, "HTTP") && (pi ? json_integer_value(pi) == n : n == 0))
			return true;
	}
	return false;
}

static int cmp_server(const void *a, const void *b)
{
	const struct lb_server *x = a, *y = b;
	int c = strcmp(x->host, y->host);
	return c ? c : (int)x->port - (int)y->port;
}

static int cmp_service(const void *a, const void *b)
{
	return strcmp(((const struct lb_service *)a)->name, ((const struct lb_service *)b)->name);
}

static void service_release(struct lb_service *s)
{
	free(s->app_id);
	free(s->name);
	free(s->bind_addr);
	free(s->balance);
	for (size_t i = 0; i < s->nvhosts; i++)
		free(s->vhosts[i]);
	free(s->path);
	free(s->ssl_cert);
	free(s->proxypass);
	free(s->deploy_group);
	for (size_t i = 0; i < s->nservers; i++)
		free(s->servers[i].host);
	free(s->servers);
	memset(s, 0, sizeof(*s));
}

void lb_services_release(struct lb_services *s)
{
	for (size_t i = 0; i < s->n; i++)
		service_release(&s->v[i]);
	free(s->v);
	strbuf_release(&s->warnings);
	memset(s, 0, sizeof(*s));
}

/* Splits a comma list of vhosts into s. */
static void add_vhosts(struct lb_services *out, struct lb_service *s, const char *list)
{
	for (const char *p = list; p && *p && s->nvhosts < LB_MAX_VHOSTS;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		_cleanup_free_ char *h = xstrndup(p, l);
		char *t = token(out, s->app_id, "VHOST", h);
		if (t)
			s->vhosts[s->nvhosts++] = t;
		p = e ? e + 1 : NULL;
	}
}

static void add_servers(struct lb_service *s, json_t *tasks, unsigned n, bool has_checks)
{
	json_t *t;
	size_t i;
	json_array_foreach(tasks, i, t) {
		if (s->nservers == LB_MAX_SERVERS)
			break;
		const char *host = json_string_value(json_object_get(t, "host"));
		json_int_t p = json_integer_value(json_array_get(json_object_get(t, "ports"), n));
		if (!host || !lb_token_ok(host) || p <= 0 || p > 65535 || !task_serves(t, has_checks))
			continue;
		s->servers = xrealloc(s->servers, (s->nservers + 1) * sizeof(*s->servers));
		s->servers[s->nservers++] = (struct lb_server){ xstrdup(host), (uint16_t)p };
	}
}

/* Traefik's labels (seed 003) as marathon-lb's: traefik.frontend.rule=Host:a,b is the VHOST
 * of port traefik.portIndex (0). */
static const char *traefik_vhost(json_t *labels, unsigned n)
{
	const char *pi = label(labels, "traefik.portIndex");
	if ((pi ? strtoul(pi, NULL, 10) : 0) != n)
		return NULL;
	const char *rule = label(labels, "traefik.frontend.rule");
	if (rule && !strncasecmp(rule, "Host:", 5))
		return rule + 5;
	return NULL;
}

static void parse_app(json_t *app, const char *group, struct lb_services *out)
{
	const char *id = json_string_value(json_object_get(app, "id"));
	json_t *labels = json_object_get(app, "labels");
	if (!id || !lb_token_ok(id))
		return;
	const char *traefik = label(labels, "traefik.enable");
	const char *app_group = label(labels, "HAPROXY_GROUP");
	uint16_t ports[LB_MAX_PORTS];
	size_t np = service_ports(app, ports);
	bool has_checks = json_array_size(json_object_get(app, "healthChecks")) > 0;
	for (unsigned n = 0; n < np && out->n < LB_MAX_SERVICES; n++) {
		const char *g = port_label(labels, n, "GROUP");
		bool in = g ? groups_match(g, group) : groups_match(app_group, group);
		if (!g && !app_group && truthy(traefik))
			in = true;
		if (traefik && !truthy(traefik))
			in = false;
		if (!in)
			continue;
		struct lb_service s = { .index = n, .weight = 0 };
		s.app_id = xstrdup(id);
		const char *pv = port_label(labels, n, "PORT");
		long bp = pv ? strtol(pv, NULL, 10) : ports[n];
		s.port = bp > 0 && bp < 65536 ? (uint16_t)bp : 0;
		const char *vh = port_label(labels, n, "VHOST");
		add_vhosts(out, &s, vh ? vh : traefik_vhost(labels, n));
		if (!s.port && !s.nvhosts) {
			service_release(&s);
			continue;
		}
		struct strbuf nm = STRBUF_INIT;
		sanitize(&nm, id[0] == '/' ? id + 1 : id);
		if (nm.len > LB_MAX_TOKEN - 6) {
			/* A long id (found by fuzz-lb-apps): its start and a hash of all of it, so
			 * that the name stays a token and two such apps keep two names. */
			uint32_t h = 2166136261u;
			for (const char *q = id; *q; q++)
				h = (h ^ (unsigned char)*q) * 16777619u;
			nm.len = LB_MAX_TOKEN - 6 - 9;
			nm.buf[nm.len] = '\0';
			strbuf_addf(&nm, "-%08x", h);
		}
		strbuf_addf(&nm, "_%u", s.port ? s.port : ports[n] ? ports[n] : 10000 + n);
		s.name = strbuf_detach(&nm, NULL);
		const char *mode = port_label(labels, n, "MODE");
		s.http = mode ? !strcasecmp(mode, "http") : (s.nvhosts > 0 || http_check_on(app, n));
		s.balance = token(out, id, "BALANCE", port_label(labels, n, "BALANCE"));
		if (!s.balance)
			s.balance = xstrdup("roundrobin");
		s.sticky = truthy(port_label(labels, n, "STICKY"));
		s.redirect_https = truthy(port_label(labels, n, "REDIRECT_TO_HTTPS"));
		s.bind_addr = token(out, id, "BIND_ADDR", port_label(labels, n, "BIND_ADDR"));
		s.path = token(out, id, "PATH", port_label(labels, n, "PATH"));
		s.ssl_cert = token(out, id, "SSL_CERT", port_label(labels, n, "SSL_CERT"));
		s.proxypass = token(out, id, "HTTP_BACKEND_PROXYPASS_PATH",
				    port_label(labels, n, "HTTP_BACKEND_PROXYPASS_PATH"));
		if (s.proxypass && strspn(s.proxypass, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
					  "TUVWXYZ0123456789/_.-~") != strlen(s.proxypass)) {
			strbuf_addf(&out->warnings, "app %s: label HTTP_BACKEND_PROXYPASS_PATH "
				    "ignored: only letters, digits and /_.-~\n", id);
			free(TAKE_PTR(s.proxypass));
		}
		const char *w = port_label(labels, n, "BACKEND_WEIGHT");
		s.weight = w ? strtol(w, NULL, 10) : 0;
		s.deploy_group = token(out, id, "DEPLOYMENT_GROUP",
				       label(labels, "HAPROXY_DEPLOYMENT_GROUP"));
		const char *alt = label(labels, "HAPROXY_DEPLOYMENT_ALT_PORT");
		long ap = alt ? strtol(alt, NULL, 10) : 0;
		s.alt_port = ap > 0 && ap < 65536 ? (uint16_t)ap : 0;
		add_servers(&s, json_object_get(app, "tasks"), n, has_checks);
		out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
		out->v[out->n++] = s;
	}
}

/* Blue/green (zdd): services of one deployment group and port index are one service; the
 * one not on its ALT_PORT keeps the name, port and labels, and takes the others' servers. */
static void merge_deploy_groups(struct lb_services *out)
{
	for (size_t i = 0; i < out->n; i++) {
		struct lb_service *a = &out->v[i];
		if (!a->deploy_group)
			continue;
		for (size_t j = i + 1; j < out->n;) {
			struct lb_service *b = &out->v[j];
			if (!b->deploy_group || strcmp(a->deploy_group, b->deploy_group) ||
			    a->index != b->index) {
				j++;
				continue;
			}
			if (a->alt_port && a->port == a->alt_port && b->port != b->alt_port) {
				struct lb_service t = *a;
				*a = *b;
				*b = t;
			}
			a->servers = xrealloc(a->servers, (a->nservers + b->nservers + 1) *
							   sizeof(*a->servers));
			if (b->nservers)
				memcpy(a->servers + a->nservers, b->servers,
				       b->nservers * sizeof(*b->servers));
			a->nservers += b->nservers;
			b->nservers = 0;
			service_release(b);
			out->v[j] = out->v[--out->n];
		}
	}
}

int lb_apps_parse(const char *json, size_t len, const char *group, struct lb_services *out,
		  char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	json_error_t je;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	json_t *apps = json_object_get(root, "apps");
	if (!json_is_array(apps)) {
		snprintf(err, errlen, root ? "no \"apps\" array in the answer"
					   : "the answer is not JSON: %s", je.text);
		json_decref(root);
		return -EBADMSG;
	}
	json_t *app;
	size_t i;
	json_array_foreach(apps, i, app)
		if (json_is_object(app))
			parse_app(app, group, out);
	json_decref(root);
	merge_deploy_groups(out);
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), cmp_service);
	/* unique names: a second service of one name (two apps sanitized alike) is dropped */
	for (size_t k = 1; k < out->n;) {
		if (!strcmp(out->v[k].name, out->v[k - 1].name)) {
			strbuf_addf(&out->warnings, "app %s: backend name %s taken by app %s; "
				    "skipped\n", out->v[k].app_id, out->v[k].name, out->v[k - 1].app_id);
			service_release(&out->v[k]);
			memmove(&out->v[k], &out->v[k + 1], (out->n - k - 1) * sizeof(*out->v));
			out->n--;
		} else {
			k++;
		}
	}
	for (size_t k = 0; k < out->n; k++) {
		struct lb_service *s = &out->v[k];
		if (s->nservers)
			qsort(s->servers, s->nservers, sizeof(*s->servers), cmp_server);
		for (size_t a = 1; a < s->nservers;) {
			if (!cmp_server(&s->servers[a], &s->servers[a - 1])) {
				free(s->servers[a].host);
				memmove(&s->servers[a], &s->servers[a + 1],
					(s->nservers - a - 1) * sizeof(*s->servers));
				s->nservers--;
			} else {
				a++;
			}
		}
	}
	return 0;
}

static const char *const relevant[] = {
	"status_update_event", "health_status_changed_event", "api_post_event",
	"app_terminated_event", "deployment_success", "instance_health_changed_event",
};

unsigned lb_events_feed(struct lb_events *e, const char *buf, size_t n)
{
	unsigned hits = 0;
	for (size_t i = 0; i < n; i++) {
		char c = buf[i];
		if (c != '\n' && c != '\r') {
			if (e->len + 1 < sizeof(e->line))
				e->line[e->len++] = c;
			else
				e->overflow = true;
			continue;
		}
		e->line[e->len] = '\0';
		if (!e->overflow && !strncmp(e->line, "event:", 6)) {
			const char *t = e->line + 6;
			while (*t == ' ')
				t++;
			for (size_t k = 0; k < ARRAY_SIZE(relevant); k++)
				if (!strcmp(t, relevant[k]))
					hits++;
		}
		e->len = 0;
		e->overflow = false;
	}
	return hits;
}
