/* Pure pieces of the operator event stream (src/master/operator-stream.c) and of the CLI's
 * framework list and node reservations (src/cli). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli-internal.h"
#include "master/master-int.h"
#include "net/recordio.h"

static void test_event_envelope(void **state)
{
	(void)state;
	json_t *ev = operator_event_new("AGENT_REMOVED",
					json_pack("{s:{s:s}}", "agent_id", "value", "S1"));
	assert_string_equal(json_string_value(json_object_get(ev, "type")), "AGENT_REMOVED");
	json_t *p = json_object_get(ev, "agent_removed");
	assert_non_null(p);
	assert_string_equal(json_string_value(json_object_get(json_object_get(p, "agent_id"),
							      "value")),
			    "S1");
	json_decref(ev);
	ev = operator_event_new("HEARTBEAT", NULL);
	assert_int_equal(json_object_size(ev), 1);
	char *s = json_dumps(ev, JSON_COMPACT);
	assert_string_equal(s, "{\"type\":\"HEARTBEAT\"}");
	free(s);
	json_decref(ev);
}

static void test_status_v1(void **state)
{
	(void)state;
	json_t *s = operator_status_v1("t1", "S0", "TASK_RUNNING", NULL, 1500000);
	assert_string_equal(json_string_value(json_object_get(s, "source")), "SOURCE_EXECUTOR");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(s, "task_id"), "value")), "t1");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(s, "agent_id"), "value")), "S0");
	assert_true(json_number_value(json_object_get(s, "timestamp")) == 1.5);
	assert_null(json_object_get(s, "message"));
	json_decref(s);
	/* Master-made states, no agent, a message. */
	s = operator_status_v1("t2", "", "TASK_LOST", "gone", 0);
	assert_string_equal(json_string_value(json_object_get(s, "source")), "SOURCE_MASTER");
	assert_null(json_object_get(s, "agent_id"));
	assert_string_equal(json_string_value(json_object_get(s, "message")), "gone");
	json_decref(s);
}

static void test_task_updated(void **state)
{
	(void)state;
	json_t *ev = operator_task_updated_v1(
		"F1", operator_status_v1("t1", "S0", "TASK_FINISHED", NULL, 1000000));
	assert_string_equal(json_string_value(json_object_get(ev, "type")), "TASK_UPDATED");
	json_t *p = json_object_get(ev, "task_updated");
	assert_string_equal(json_string_value(json_object_get(p, "state")), "TASK_FINISHED");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(p, "framework_id"), "value")),
		"F1");
	assert_string_equal(json_string_value(json_object_get(json_object_get(p, "status"),
							      "state")),
			    "TASK_FINISHED");
	json_decref(ev);
}

struct got {
	int n;
	char type[64];
};

static int on_record(const char *data, size_t len, void *ctx)
{
	struct got *g = ctx;
	json_t *j = json_loadb(data, len, 0, NULL);
	assert_non_null(j);
	snprintf(g->type, sizeof(g->type), "%s", json_string_value(json_object_get(j, "type")));
	json_decref(j);
	g->n++;
	return 0;
}

/* What a subscriber receives: one record per event, decodable split anywhere. */
static void test_record_framing(void **state)
{
	(void)state;
	json_t *ev = operator_event_new("TASK_ADDED",
					json_pack("{s:{s:s}}", "task", "name", "web"));
	size_t len;
	char *rec = recordio_json_record(ev, &len);
	json_decref(ev);
	assert_non_null(rec);
	const char *nl = memchr(rec, '\n', len);
	assert_non_null(nl);
	assert_int_equal(strtoul(rec, NULL, 10), len - (size_t)(nl + 1 - rec));
	struct recordio_decoder d;
	recordio_decoder_init(&d, 1 << 20);
	struct got g = { 0, "" };
	for (size_t i = 0; i < len; i++)
		assert_int_equal(recordio_decoder_feed(&d, rec + i, 1, on_record, &g), 0);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.type, "TASK_ADDED");
	recordio_decoder_release(&d);
	free(rec);
}

static void test_render_frameworks(void **state)
{
	(void)state;
	json_t *fws = json_loads(
		"[{\"id\":\"F-0000\",\"name\":\"marathon\",\"role\":\"*\",\"active\":true,"
		"\"tasks\":[{},{}],\"used_resources\":{\"cpus\":0.2,\"mem\":64}},"
		"{\"id\":\"F-0001\",\"name\":\"spark\",\"roles\":[\"a\",\"b\"],\"active\":false,"
		"\"tasks\":[],\"used_resources\":{}}]",
		0, NULL);
	assert_non_null(fws);
	char *s = cli_render_frameworks(fws);
	assert_string_equal(s, "ID      NAME      ROLES  ACTIVE  TASKS  CPUS  MEM\n"
			       "F-0000  marathon  *      true    2      0.2   64\n"
			       "F-0001  spark     a,b    false   0      0     0\n");
	free(s);
	json_decref(fws);
	json_t *none = json_array();
	s = cli_render_frameworks(none);
	assert_string_equal(s, "ID  NAME  ROLES  ACTIVE  TASKS  CPUS  MEM\n");
	free(s);
	json_decref(none);
}

static void test_join_reserved(void **state)
{
	(void)state;
	json_t *r = json_loads("{\"web\":{\"cpus\":1,\"mem\":512,\"disk\":0,\"ports\":\"[1-2]\"},"
			       "\"empty\":{\"cpus\":0},\"db\":{\"disk\":100}}",
			       JSON_PRESERVE_ORDER, NULL);
	char *s = cli_join_reserved(r);
	assert_string_equal(s, "web:cpus=1,mem=512;db:disk=100");
	free(s);
	json_decref(r);
	r = json_object();
	assert_null(cli_join_reserved(r));
	assert_null(cli_join_reserved(NULL));
	json_decref(r);
}

static void test_render_nodes_reserved(void **state)
{
	(void)state;
	json_t *slaves = json_loads(
		"[{\"id\":\"S0\",\"hostname\":\"a\",\"active\":true,\"resources\":{\"cpus\":2,"
		"\"mem\":1024,\"disk\":0},\"used_resources\":{},\"attributes\":{},"
		"\"reserved_resources\":{\"web\":{\"cpus\":1,\"mem\":256}}},"
		"{\"id\":\"S1\",\"hostname\":\"b\",\"active\":true,\"resources\":{\"cpus\":1,"
		"\"mem\":512,\"disk\":0},\"used_resources\":{},\"attributes\":{},"
		"\"reserved_resources\":{}}]",
		0, NULL);
	json_t *tasks = json_array();
	char *s = cli_render_nodes(slaves, tasks);
	assert_string_equal(s,
		"ID  HOSTNAME  STATE   CPUS  MEM     DISK  TASKS  RESERVED            ATTRIBUTES\n"
		"S0  a         active  0/2   0/1024  0/0   0      web:cpus=1,mem=256  -\n"
		"S1  b         active  0/1   0/512   0/0   0      -                   -\n");
	free(s);
	json_decref(slaves);
	json_decref(tasks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_envelope),	cmocka_unit_test(test_status_v1),
		cmocka_unit_test(test_task_updated),	cmocka_unit_test(test_record_framing),
		cmocka_unit_test(test_render_frameworks), cmocka_unit_test(test_join_reserved),
		cmocka_unit_test(test_render_nodes_reserved),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
