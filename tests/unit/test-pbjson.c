/* Protobuf <-> JSON for the v1 scheduler API (src/pb/pbjson.c): exact bytes for known
 * messages (Mesos's field numbers), and round trips of every kind of field. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/strbuf.h"
#include "pb/pbjson.h"

static void encode_str(enum pbjson_msg t, const char *json, struct strbuf *out)
{
	json_t *j = json_loads(json, 0, NULL);
	assert_non_null(j);
	assert_int_equal(pbjson_encode(t, j, out), 0);
	json_decref(j);
}

static void test_teardown_bytes(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	encode_str(PBJSON_SCHEDULER_CALL, "{\"type\":\"TEARDOWN\",\"framework_id\":{\"value\":\"f\"}}",
		   &sb);
	/* framework_id = 1 (message "f"), type = 2 (TEARDOWN = 2) */
	static const unsigned char want[] = { 0x0a, 0x03, 0x0a, 0x01, 'f', 0x10, 0x02 };
	assert_int_equal(sb.len, sizeof(want));
	assert_memory_equal(sb.buf, want, sizeof(want));
	strbuf_release(&sb);
}

static void test_heartbeat_and_subscribed_bytes(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	encode_str(PBJSON_SCHEDULER_EVENT, "{\"type\":\"HEARTBEAT\"}", &sb);
	static const unsigned char hb[] = { 0x08, 0x08 };
	assert_int_equal(sb.len, 2);
	assert_memory_equal(sb.buf, hb, 2);
	strbuf_release(&sb);
	encode_str(PBJSON_SCHEDULER_EVENT,
		   "{\"type\":\"SUBSCRIBED\",\"subscribed\":{\"framework_id\":{\"value\":\"x\"},"
		   "\"heartbeat_interval_seconds\":15.0}}", &sb);
	/* type = 1 (SUBSCRIBED = 1); subscribed = 2 {framework_id = 1, heartbeat = 2 double} */
	static const unsigned char sub[] = { 0x08, 0x01, 0x12, 0x0e, 0x0a, 0x03, 0x0a, 0x01, 'x',
					     0x11, 0, 0, 0, 0, 0, 0, 0x2e, 0x40 };
	assert_int_equal(sb.len, sizeof(sub));
	assert_memory_equal(sb.buf, sub, sizeof(sub));
	strbuf_release(&sb);
}

static void round_trip(enum pbjson_msg t, const char *json)
{
	struct strbuf sb = STRBUF_INIT;
	encode_str(t, json, &sb);
	json_t *back = NULL;
	char err[128];
	assert_int_equal(pbjson_decode(t, sb.buf ? sb.buf : "", sb.len, &back, err, sizeof(err)),
			 0);
	json_t *want = json_loads(json, 0, NULL);
	if (!json_equal(want, back)) {
		char *a = json_dumps(want, JSON_SORT_KEYS), *b = json_dumps(back, JSON_SORT_KEYS);
		fail_msg("round trip:\n want %s\n got  %s", a, b);
	}
	json_decref(want);
	json_decref(back);
	strbuf_release(&sb);
}

static void test_round_trips(void **state)
{
	(void)state;
	/* enums by name, repeated messages, uint64 ranges, doubles, bools, strings, a map */
	round_trip(PBJSON_SCHEDULER_CALL,
		   "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{\"user\":\"u\","
		   "\"name\":\"n\",\"roles\":[\"a\",\"b\"],\"checkpoint\":true,"
		   "\"failover_timeout\":1.5,\"capabilities\":[{\"type\":\"MULTI_ROLE\"}],"
		   "\"offer_filters\":{\"a\":{\"min_allocatable_resources\":{\"quantities\":"
		   "[{\"quantities\":{\"cpus\":{\"value\":0.5}}}]}}}},"
		   "\"suppressed_roles\":[\"b\"]}}");
	/* bytes as base64, negative int64, nested operations */
	round_trip(PBJSON_SCHEDULER_CALL,
		   "{\"type\":\"ACKNOWLEDGE\",\"acknowledge\":{\"agent_id\":{\"value\":\"a\"},"
		   "\"task_id\":{\"value\":\"t\"},\"uuid\":\"AAECAwQFBgcICQoLDA0ODw==\"}}");
	round_trip(PBJSON_SCHEDULER_CALL,
		   "{\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":[{\"value\":\"o\"}],"
		   "\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":[{\"name\":\"t\","
		   "\"task_id\":{\"value\":\"t\"},\"resources\":[{\"name\":\"ports\",\"type\":"
		   "\"RANGES\",\"ranges\":{\"range\":[{\"begin\":31000,\"end\":18446744073709551}]}}],"
		   "\"kill_policy\":{\"grace_period\":{\"nanoseconds\":-5}},"
		   "\"limits\":{\"cpus\":{\"value\":2.0}}}]}}],\"filters\":{\"refuse_seconds\":0.0}}}");
	/* a task with a container, a health check, a check and a SECRET variable */
	round_trip(PBJSON_SCHEDULER_CALL,
		   "{\"type\":\"ACCEPT\",\"accept\":{\"operations\":[{\"type\":\"LAUNCH\","
		   "\"launch\":{\"task_infos\":[{\"name\":\"t\",\"container\":{\"type\":\"DOCKER\","
		   "\"docker\":{\"image\":\"busybox\",\"network\":\"BRIDGE\",\"port_mappings\":"
		   "[{\"host_port\":31000,\"container_port\":80,\"protocol\":\"tcp\"}]},"
		   "\"volumes\":[{\"mode\":\"RO\",\"container_path\":\"/d\",\"source\":{\"type\":"
		   "\"HOST_PATH\",\"host_path\":{\"path\":\"/srv\"}}}],\"network_infos\":[{\"name\":"
		   "\"n\",\"port_mappings\":[{\"host_port\":1,\"container_port\":2}]}],"
		   "\"mesos\":{\"image\":{\"type\":\"DOCKER\",\"docker\":{\"name\":\"alpine\"},"
		   "\"cached\":false}}},\"health_check\":{\"type\":\"HTTP\",\"http\":{\"port\":8080,"
		   "\"path\":\"/h\",\"statuses\":[200,204],\"protocol\":\"IPv6\"},"
		   "\"consecutive_failures\":3,\"grace_period_seconds\":10.0},\"check\":{\"type\":"
		   "\"TCP\",\"tcp\":{\"port\":9},\"interval_seconds\":2.0},\"command\":{\"value\":"
		   "\"x\",\"environment\":{\"variables\":[{\"name\":\"S\",\"type\":\"SECRET\","
		   "\"secret\":{\"type\":\"VALUE\",\"value\":{\"data\":\"aGk=\"}}}]}}}]}}]}}");
	/* inverse offers; offer constraints, whose oneofs decode only the member set */
	round_trip(PBJSON_SCHEDULER_CALL,
		   "{\"type\":\"DECLINE_INVERSE_OFFERS\",\"decline_inverse_offers\":{"
		   "\"inverse_offer_ids\":[{\"value\":\"i\"}],\"filters\":{\"refuse_seconds\":1.0}}}");
	round_trip(PBJSON_SCHEDULER_CALL,
		   "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"offer_constraints\":{"
		   "\"role_constraints\":{\"r\":{\"groups\":[{\"attribute_constraints\":["
		   "{\"selector\":{\"attribute_name\":\"rack\"},\"predicate\":{\"text_equals\":"
		   "{\"value\":\"a\"}}},{\"selector\":{\"pseudoattribute_type\":\"HOSTNAME\"},"
		   "\"predicate\":{\"exists\":{}}}]}]}}}}}");
	round_trip(PBJSON_SCHEDULER_EVENT,
		   "{\"type\":\"INVERSE_OFFERS\",\"inverse_offers\":{\"inverse_offers\":[{\"id\":"
		   "{\"value\":\"i\"},\"framework_id\":{\"value\":\"f\"},\"agent_id\":{\"value\":"
		   "\"a\"},\"unavailability\":{\"start\":{\"nanoseconds\":5},\"duration\":{"
		   "\"nanoseconds\":7}}}]}}");
	round_trip(PBJSON_SCHEDULER_EVENT,
		   "{\"type\":\"OFFERS\",\"offers\":{\"offers\":[{\"id\":{\"value\":\"o\"},"
		   "\"domain\":{\"fault_domain\":{\"region\":{\"name\":\"r\"},\"zone\":{"
		   "\"name\":\"z\"}}}}]}}");
	round_trip(PBJSON_SCHEDULER_EVENT,
		   "{\"type\":\"UPDATE\",\"update\":{\"status\":{\"task_id\":{\"value\":\"t\"},"
		   "\"state\":\"TASK_STAGING\",\"reason\":\"REASON_RECONCILIATION\","
		   "\"source\":\"SOURCE_MASTER\",\"healthy\":false,\"timestamp\":1.25,"
		   "\"container_status\":{\"network_infos\":[{\"ip_addresses\":[{\"protocol\":"
		   "\"IPv4\",\"ip_address\":\"10.0.0.1\"}]}]}}}}");
}

static void test_unknown_keys_and_bad_bytes(void **state)
{
	(void)state;
	/* a key the message lacks, a value of the wrong type, an unknown enum name: left out */
	struct strbuf sb = STRBUF_INIT;
	encode_str(PBJSON_SCHEDULER_CALL,
		   "{\"type\":\"NOPE\",\"nope\":1,\"framework_id\":{\"value\":3}}", &sb);
	json_t *back = NULL;
	char err[128];
	assert_int_equal(pbjson_decode(PBJSON_SCHEDULER_CALL, sb.buf ? sb.buf : "", sb.len, &back,
				       err, sizeof(err)), 0);
	char *s = json_dumps(back, JSON_SORT_KEYS);
	assert_string_equal(s, "{\"framework_id\": {}}");
	free(s);
	json_decref(back);
	strbuf_release(&sb);
	/* a length past the end */
	static const unsigned char bad[] = { 0x0a, 0x10, 0x0a };
	err[0] = '\0';
	assert_int_equal(pbjson_decode(PBJSON_SCHEDULER_CALL, bad, sizeof(bad), &back, err,
				       sizeof(err)), -EINVAL);
	assert_true(err[0] != '\0');
	json_t *arr = json_array();
	assert_int_equal(pbjson_encode(PBJSON_SCHEDULER_CALL, arr, &sb), -EINVAL);
	json_decref(arr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_teardown_bytes),
		cmocka_unit_test(test_heartbeat_and_subscribed_bytes),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_unknown_keys_and_bad_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
