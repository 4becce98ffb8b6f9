/* berth lb's reading of GET /v2/apps?embed=apps.tasks (labels, ports, tasks) and of the
 * event stream's type lines, over arbitrary bytes; every service it makes is rendered, so
 * the renderer's assumptions (clean tokens, unique names) are checked too. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lb/lb-model.h"
#include "lb/lb-render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lb_events ev = { 0 };
	lb_events_feed(&ev, (const char *)data, size);
	struct lb_services s;
	char err[256];
	if (lb_apps_parse((const char *)data, size, "external,*x", &s, err, sizeof(err)))
		return 0;
	for (size_t i = 0; i < s.n; i++) {
		if (!lb_token_ok(s.v[i].name) || !lb_token_ok(s.v[i].balance))
			abort();
		if (i && strcmp(s.v[i - 1].name, s.v[i].name) >= 0)
			abort();
	}
	struct lb_slotmap m = { 0 }, m2 = { 0 };
	lb_slots_assign(&m, &s, &m2);
	struct strbuf out = STRBUF_INIT;
	struct lb_render_opts o = { .bind = "", .http_port = 80, .https_port = 443,
				    .stats_port = 9090, .socket = "/tmp/x.sock", .self = NULL };
	lb_render(&o, &s, &m2, false, &out);
	if (memchr(out.buf, '\0', out.len))
		abort();
	strbuf_release(&out);
	lb_slotmap_release(&m2);
	lb_services_release(&s);
	return 0;
}
