/* berth lb's pure parts: marathon-lb's labels in, HAProxy's configuration out (lb-apps.c,
 * lb-render.c), the server slots that make scaling reload-free, and the event scanner. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/strbuf.h"
#include "lb/lb-model.h"
#include "lb/lb-render.h"

static const struct lb_render_opts opts = {
	.bind = "127.0.0.1", .http_port = 8080, .https_port = 8443, .stats_port = 9090,
	.socket = "/run/lb/haproxy.sock", .self = "127.0.0.1:4000",
};

static void parse(const char *json, const char *group, struct lb_services *s)
{
	char err[256];
	assert_int_equal(lb_apps_parse(json, strlen(json), group, s, err, sizeof(err)), 0);
}

/* Renders json for group with fresh slots; returns the text (malloc'd). */
static char *render(const char *json, const char *group)
{
	struct lb_services s;
	parse(json, group, &s);
	struct lb_slotmap none = { 0 }, m = { 0 };
	lb_slots_assign(&none, &s, &m);
	struct strbuf out = STRBUF_INIT;
	lb_render(&opts, &s, &m, false, &out);
	lb_slotmap_release(&m);
	lb_services_release(&s);
	return strbuf_detach(&out, NULL);
}

#define assert_has(text, line)                                                             \
	do {                                                                               \
		if (!strstr(text, line))                                                   \
			fail_msg("missing:\n%s\nin:\n%s", line, text);                     \
	} while (0)
#define assert_lacks(text, line)                                                           \
	do {                                                                               \
		if (strstr(text, line))                                                    \
			fail_msg("unexpected:\n%s\nin:\n%s", line, text);                  \
	} while (0)

static const char vhost_app[] =
	"{\"apps\":[{\"id\":\"/prod/web\",\"labels\":{\"HAPROXY_GROUP\":\"external\","
	"\"HAPROXY_0_VHOST\":\"a.example.com,b.example.com\",\"HAPROXY_0_STICKY\":\"true\","
	"\"HAPROXY_0_REDIRECT_TO_HTTPS\":\"true\",\"HAPROXY_0_SSL_CERT\":\"/etc/ssl/a.pem\","
	"\"HAPROXY_0_HTTP_BACKEND_PROXYPASS_PATH\":\"/api\"},"
	"\"portDefinitions\":[{\"port\":10000}],"
	"\"healthChecks\":[{\"protocol\":\"HTTP\",\"portIndex\":0}],"
	"\"tasks\":["
	"{\"host\":\"10.0.0.2\",\"ports\":[31002],\"state\":\"TASK_RUNNING\","
	" \"healthCheckResults\":[{\"alive\":true}]},"
	"{\"host\":\"10.0.0.1\",\"ports\":[31001],\"state\":\"TASK_RUNNING\","
	" \"healthCheckResults\":[{\"alive\":true}]},"
	"{\"host\":\"10.0.0.3\",\"ports\":[31003],\"state\":\"TASK_RUNNING\","
	" \"healthCheckResults\":[{\"alive\":false}]},"
	"{\"host\":\"10.0.0.4\",\"ports\":[31004],\"state\":\"TASK_RUNNING\"},"
	"{\"host\":\"10.0.0.5\",\"ports\":[31005],\"state\":\"TASK_KILLING\","
	" \"healthCheckResults\":[{\"alive\":true}]},"
	"{\"host\":\"10.0.0.6\",\"ports\":[31006],\"state\":\"TASK_STAGING\"}]}]}";

static void test_vhost_http(void **state)
{
	(void)state;
	char *t = render(vhost_app, "external");
	assert_has(t, "frontend marathon_http_in\n"
		      "  bind 127.0.0.1:8080\n"
		      "  mode http\n"
		      "  option forwardfor\n"
		      "  acl host_prod_web_10000 hdr(host),field(1,:) -i a.example.com b.example.com\n"
		      "  http-request redirect scheme https code 301 if host_prod_web_10000\n"
		      "  use_backend prod_web_10000 if host_prod_web_10000\n");
	assert_has(t, "frontend marathon_https_in\n"
		      "  bind 127.0.0.1:8443 ssl crt /etc/ssl/a.pem\n");
	assert_has(t, "frontend prod_web_10000\n"
		      "  bind 127.0.0.1:10000 ssl crt /etc/ssl/a.pem\n"
		      "  mode http\n"
		      "  http-request redirect scheme https code 301 if !{ ssl_fc }\n"
		      "  use_backend prod_web_10000\n");
	/* healthy running tasks only, sorted, sticky cookies, proxypass, free slots */
	assert_has(t, "backend prod_web_10000\n"
		      "  balance roundrobin\n"
		      "  mode http\n"
		      "  option forwardfor\n"
		      "  http-request set-header X-Forwarded-Port %[dst_port]\n"
		      "  retry-on conn-failure empty-response response-timeout\n"
		      "  cookie mesosphere_server_id insert indirect nocache\n"
		      "  http-request set-path %[path,regsub(^/api/?,/)]\n"
		      "  server s1 10.0.0.1:31001 cookie s1\n"
		      "  server s2 10.0.0.2:31002 cookie s2\n"
		      "  server s3 127.0.0.1:1 disabled cookie s3\n");
	assert_has(t, "  server s8 127.0.0.1:1 disabled cookie s8\n");
	assert_lacks(t, "  server s9 ");
	assert_lacks(t, "10.0.0.3");
	assert_lacks(t, "10.0.0.4");
	assert_lacks(t, "10.0.0.5");
	assert_lacks(t, "10.0.0.6");
	assert_has(t, "  stats socket /run/lb/haproxy.sock mode 600 level admin expose-fd listeners\n");
	assert_has(t, "  monitor-uri /_haproxy_health_check\n");
	assert_has(t, "  use_backend berth_lb_self if { path /_haproxy_getconfig }\n");
	free(t);
	/* another group sees nothing of it; '*' sees it */
	t = render(vhost_app, "internal");
	assert_lacks(t, "prod_web");
	free(t);
	t = render(vhost_app, "*");
	assert_has(t, "backend prod_web_10000\n");
	free(t);
}

static void test_tcp_port_labels(void **state)
{
	(void)state;
	char *t = render(
		"{\"apps\":[{\"id\":\"/db\",\"labels\":{\"HAPROXY_GROUP\":\"internal,external\","
		"\"HAPROXY_0_PORT\":\"15432\",\"HAPROXY_0_BALANCE\":\"leastconn\","
		"\"HAPROXY_0_BIND_ADDR\":\"127.0.0.9\",\"HAPROXY_1_GROUP\":\"other\"},"
		"\"container\":{\"portMappings\":[{\"containerPort\":5432,\"servicePort\":10002},"
		"{\"containerPort\":9000,\"servicePort\":10003}]},"
		"\"tasks\":[{\"host\":\"h1\",\"ports\":[31005,31006],\"state\":\"TASK_RUNNING\"},"
		"{\"host\":\"h1\",\"ports\":[31005,31006],\"state\":\"TASK_LOST\"}]}]}",
		"external");
	assert_has(t, "frontend db_15432\n"
		      "  bind 127.0.0.9:15432\n"
		      "  mode tcp\n"
		      "  use_backend db_15432\n");
	assert_has(t, "backend db_15432\n"
		      "  balance leastconn\n"
		      "  mode tcp\n"
		      "  server s1 h1:31005\n"
		      "  server s2 127.0.0.1:1 disabled\n");
	assert_lacks(t, "10003"); /* port 1 is in group "other" */
	assert_lacks(t, "marathon_http_in");
	free(t);
}

static void test_bad_label_ignored(void **state)
{
	(void)state;
	struct lb_services s;
	parse("{\"apps\":[{\"id\":\"/x\",\"labels\":{\"HAPROXY_GROUP\":\"external\","
	      "\"HAPROXY_0_BALANCE\":\"roundrobin\\n  server evil 1.2.3.4:80\","
	      "\"HAPROXY_0_VHOST\":\"ok.example.com,bad host\"},\"ports\":[10003]}]}",
	      "external", &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0].balance, "roundrobin");
	assert_int_equal(s.v[0].nvhosts, 1);
	assert_string_equal(s.v[0].vhosts[0], "ok.example.com");
	assert_non_null(strstr(s.warnings.buf, "label BALANCE ignored"));
	assert_non_null(strstr(s.warnings.buf, "label VHOST ignored"));
	lb_services_release(&s);
	/* not JSON, or no apps: an error */
	char err[128];
	assert_int_equal(lb_apps_parse("nope", 4, "x", &s, err, sizeof(err)), -EBADMSG);
	assert_int_equal(lb_apps_parse("{}", 2, "x", &s, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "apps"));
}

static void test_traefik_and_weights(void **state)
{
	(void)state;
	char *t = render(
		"{\"apps\":["
		"{\"id\":\"/t\",\"labels\":{\"traefik.enable\":\"true\",\"traefik.portIndex\":\"1\","
		" \"traefik.frontend.rule\":\"Host:t.example.com\"},"
		" \"portDefinitions\":[{\"port\":10030},{\"port\":10031}],"
		" \"tasks\":[{\"host\":\"127.0.0.1\",\"ports\":[31020,31021],\"state\":\"TASK_RUNNING\"}]},"
		"{\"id\":\"/off\",\"labels\":{\"traefik.enable\":\"false\",\"HAPROXY_GROUP\":\"external\"},"
		" \"ports\":[10020]},"
		"{\"id\":\"/api\",\"labels\":{\"HAPROXY_GROUP\":\"external\",\"HAPROXY_0_VHOST\":\"t.example.com\","
		" \"HAPROXY_0_PATH\":\"/api\",\"HAPROXY_0_BACKEND_WEIGHT\":\"10\"},\"ports\":[10040]}]}",
		"external");
	assert_has(t, "backend t_10031\n");
	assert_has(t, "  server s1 127.0.0.1:31021\n");
	assert_lacks(t, "off_10020");
	/* heavier first: /api's ACL decides before /t's */
	assert_has(t, "  acl path_api_10040 path_beg /api\n"
		      "  acl host_t_10031 hdr(host),field(1,:) -i t.example.com\n"
		      "  use_backend api_10040 if host_api_10040 path_api_10040\n"
		      "  use_backend t_10031 if host_t_10031\n");
	/* port 0 of /t: a frontend too (tcp) */
	assert_has(t, "frontend t_10030\n");
	free(t);
}

static void test_blue_green(void **state)
{
	(void)state;
	struct lb_services s;
	parse("{\"apps\":["
	      "{\"id\":\"/web-green\",\"labels\":{\"HAPROXY_GROUP\":\"external\","
	      " \"HAPROXY_DEPLOYMENT_GROUP\":\"web\",\"HAPROXY_DEPLOYMENT_ALT_PORT\":\"10011\"},"
	      " \"portDefinitions\":[{\"port\":10011}],"
	      " \"tasks\":[{\"host\":\"127.0.0.1\",\"ports\":[31011],\"state\":\"TASK_RUNNING\"}]},"
	      "{\"id\":\"/web-blue\",\"labels\":{\"HAPROXY_GROUP\":\"external\","
	      " \"HAPROXY_DEPLOYMENT_GROUP\":\"web\",\"HAPROXY_DEPLOYMENT_ALT_PORT\":\"10011\"},"
	      " \"portDefinitions\":[{\"port\":10010}],"
	      " \"tasks\":[{\"host\":\"127.0.0.1\",\"ports\":[31010],\"state\":\"TASK_RUNNING\"}]}]}",
	      "external", &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.v[0].port, 10010);
	assert_string_equal(s.v[0].name, "web-blue_10010");
	assert_int_equal(s.v[0].nservers, 2);
	lb_services_release(&s);
}

/* n tasks of app /s on 127.0.0.1, ports 31000 + first .. */
static void app_with(struct lb_services *s, unsigned first, unsigned n)
{
	struct strbuf j = STRBUF_INIT;
	strbuf_adds(&j, "{\"apps\":[{\"id\":\"/s\",\"labels\":{\"HAPROXY_GROUP\":\"g\"},"
			"\"ports\":[10050],\"tasks\":[");
	for (unsigned i = 0; i < n; i++)
		strbuf_addf(&j, "%s{\"host\":\"127.0.0.1\",\"ports\":[%u],\"state\":\"TASK_RUNNING\"}",
			    i ? "," : "", 31000 + first + i);
	strbuf_adds(&j, "]}]}");
	parse(j.buf, "g", s);
	strbuf_release(&j);
}

static void test_slots(void **state)
{
	(void)state;
	struct lb_services a, b, c;
	struct lb_slotmap none = { 0 }, ma = { 0 }, mb = { 0 }, mc = { 0 };
	struct strbuf sa = STRBUF_INIT, sb = STRBUF_INIT, sc = STRBUF_INIT;
	app_with(&a, 0, 3); /* 31000..31002 */
	app_with(&b, 1, 4); /* 31001..31004: 31000 gone, two new */
	app_with(&c, 0, 20);
	lb_slots_assign(&none, &a, &ma);
	lb_slots_assign(&ma, &b, &mb);
	lb_slots_assign(&mb, &c, &mc);
	const struct lb_backend_slots *x = lb_slotmap_find(&ma, "s_10050");
	const struct lb_backend_slots *y = lb_slotmap_find(&mb, "s_10050");
	assert_non_null(x);
	assert_int_equal(x->nslots, LB_SLOT_STEP);
	assert_int_equal(y->nslots, LB_SLOT_STEP);
	/* kept tasks keep their slots; the freed slot 0 is not reused while others are free */
	assert_null(y->slot[0].host);
	assert_int_equal(y->slot[1].port, 31001);
	assert_int_equal(y->slot[2].port, 31002);
	assert_int_equal(y->slot[3].port, 31003);
	assert_int_equal(y->slot[4].port, 31004);
	/* same shape: a scale change needs no reload */
	lb_render(&opts, &a, &ma, true, &sa);
	lb_render(&opts, &b, &mb, true, &sb);
	assert_string_equal(sa.buf, sb.buf);
	/* 20 tasks do not fit 8 slots: 40 slots, another shape */
	assert_int_equal(lb_slotmap_find(&mc, "s_10050")->nslots, 40);
	lb_render(&opts, &c, &mc, true, &sc);
	assert_string_not_equal(sb.buf, sc.buf);
	assert_null(strstr(sc.buf, "31000")); /* shapes carry no addresses */
	strbuf_release(&sa);
	strbuf_release(&sb);
	strbuf_release(&sc);
	lb_slotmap_release(&ma);
	lb_slotmap_release(&mb);
	lb_slotmap_release(&mc);
	lb_services_release(&a);
	lb_services_release(&b);
	lb_services_release(&c);
}

static void test_events(void **state)
{
	(void)state;
	struct lb_events e = { 0 };
	const char *in = "event: event_stream_attached\r\ndata: {}\r\n\r\n"
			 "event: status_update_event\r\ndata: {\"x\":1}\r\n\r\n"
			 "event:health_status_changed_event\ndata: {}\n\n"
			 "event: deployment_info\ndata: {}\n\n";
	unsigned hits = 0;
	for (size_t i = 0; in[i]; i++) /* one byte at a time */
		hits += lb_events_feed(&e, in + i, 1);
	assert_int_equal(hits, 2);
	char big[300];
	memset(big, 'a', sizeof(big));
	memcpy(big, "event: api_post_event", 21);
	assert_int_equal(lb_events_feed(&e, big, sizeof(big)), 0);
	assert_int_equal(lb_events_feed(&e, "\n", 1), 0); /* an overlong line counts nothing */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vhost_http),     cmocka_unit_test(test_tcp_port_labels),
		cmocka_unit_test(test_bad_label_ignored), cmocka_unit_test(test_traefik_and_weights),
		cmocka_unit_test(test_blue_green),     cmocka_unit_test(test_slots),
		cmocka_unit_test(test_events),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
