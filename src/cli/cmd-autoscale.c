/* berth app autoscale ID: an app's autoscaling policy and its last decisions, from
 * GET /api/berth/autoscale/{id} (docs/api.md "Autoscaling"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/strbuf.h"
#include "base/util.h"
#include "cli/cli-internal.h"
#include "cli/table.h"

char *cli_render_autoscale(json_t *a)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *p = json_object_get(a, "policy");
	const char *metric = cli_json_str(p, "metric");
	strbuf_addf(&sb, "app:       %s (%g instance(s))\n", cli_json_str(a, "appId"),
		    cli_json_num(a, "instances"));
	strbuf_addf(&sb, "metric:    %s", metric ? metric : "?");
	if (cli_json_str(p, "url"))
		strbuf_addf(&sb, " from %s%s%s", cli_json_str(p, "url"),
			    cli_json_str(p, "jsonPath") ? " at " : "",
			    cli_json_str(p, "jsonPath") ? cli_json_str(p, "jsonPath") : "");
	strbuf_addf(&sb, "\ntarget:    %g per instance (tolerance %g%%)\n", cli_json_num(p, "target"),
		    cli_json_num(p, "tolerance") * 100);
	strbuf_addf(&sb, "instances: %g..%g, step %g, cooldown %gs, every %gs\n",
		    cli_json_num(p, "minInstances"), cli_json_num(p, "maxInstances"),
		    cli_json_num(p, "step"), cli_json_num(p, "cooldownSeconds"),
		    cli_json_num(p, "intervalSeconds"));
	json_t *lv = json_object_get(a, "lastValue");
	if (json_is_number(lv))
		strbuf_addf(&sb, "last:      %g over %g instance(s) at %s\n", json_number_value(lv),
			    cli_json_num(a, "lastSamples"), cli_json_str(a, "lastSampleAt"));
	else
		strbuf_adds(&sb, "last:      no sample yet\n");
	if (cli_json_str(a, "lastError"))
		strbuf_addf(&sb, "error:     %s\n", cli_json_str(a, "lastError"));
	if (cli_json_str(a, "cooldownUntil"))
		strbuf_addf(&sb, "cooldown:  until %s\n", cli_json_str(a, "cooldownUntil"));
	json_t *dec = json_object_get(a, "decisions");
	if (!json_array_size(dec)) {
		strbuf_adds(&sb, "no decisions yet\n");
	} else {
		struct table t;
		table_init(&t, 5);
		const char *head[] = { "TIME", "FROM", "TO", "VALUE", "REASON" };
		for (size_t i = 0; i < ARRAY_SIZE(head); i++)
			table_add(&t, head[i]);
		size_t i;
		json_t *d;
		json_array_foreach(dec, i, d) {
			table_add(&t, cli_json_str(d, "timestamp"));
			table_addf(&t, "%g", cli_json_num(d, "from"));
			table_addf(&t, "%g", cli_json_num(d, "to"));
			json_t *v = json_object_get(d, "value");
			if (json_is_number(v))
				table_addf(&t, "%.4g", json_number_value(v));
			else
				table_add(&t, "-");
			table_add(&t, cli_json_str(d, "reason"));
		}
		char *tab = table_render(&t);
		table_release(&t);
		strbuf_adds(&sb, tab);
		free(tab);
	}
	/* what the server sent is shown as text: no control characters through */
	char *out = strbuf_detach(&sb, NULL);
	for (char *s = out; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\n')
			*s = '?';
	return out;
}

int cli_app_autoscale(struct cli *c)
{
	_cleanup_free_ char *id = cli_app_id(c->o.args[0]);
	if (!id) {
		fprintf(stderr, "berth: '%s' is not an app id\n", c->o.args[0]);
		return CLI_USAGE;
	}
	struct strbuf sb = STRBUF_INIT;
	strbuf_adds(&sb, "/api/berth/autoscale/");
	cli_url_encode(&sb, id + 1, true);
	_cleanup_free_ char *target = strbuf_detach(&sb, NULL);
	_cleanup_free_ char *subject = xasprintf("app '%s'", id);
	struct cli_reply rep;
	if (cli_request(c, "GET", target, NULL, &rep) != 0)
		return CLI_FAILED;
	int rc = CLI_OK;
	if (rep.status != 200 || !json_is_object(rep.json)) {
		rc = cli_fail_reply(&rep, subject);
	} else if (c->o.seen & CLI_F_JSON) {
		cli_print_json(rep.json);
	} else {
		_cleanup_free_ char *s = cli_render_autoscale(rep.json);
		fputs(s, stdout);
	}
	cli_reply_release(&rep);
	return rc;
}
