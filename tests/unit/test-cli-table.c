/* Table formatting and the tables the CLI renders from API JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/mem.h"
#include "base/strbuf.h"
#include "cli/cli-internal.h"
#include "cli/table.h"

static void test_table_align(void **state)
{
	(void)state;
	struct table t;
	table_init(&t, 3);
	table_add(&t, "ID");
	table_add(&t, "STATE");
	table_add(&t, "PORTS");
	table_add(&t, "/web");
	table_add(&t, "TASK_RUNNING");
	table_add(&t, "31000");
	table_add(&t, "/a-longer-id");
	table_add(&t, NULL);
	table_addf(&t, "%d,%d", 1, 2);
	char *s = table_render(&t);
	assert_string_equal(s, "ID            STATE         PORTS\n"
			       "/web          TASK_RUNNING  31000\n"
			       "/a-longer-id  -             1,2\n");
	free(s);
	table_release(&t);
}

static void test_table_edges(void **state)
{
	(void)state;
	struct table t;
	/* header only */
	table_init(&t, 2);
	table_add(&t, "A");
	table_add(&t, "B");
	char *s = table_render(&t);
	assert_string_equal(s, "A  B\n");
	free(s);
	/* an empty last cell leaves no trailing blanks; an unfinished row is padded */
	table_add(&t, "xyz");
	table_add(&t, "");
	table_add(&t, "q");
	s = table_render(&t);
	assert_string_equal(s, "A    B\nxyz\nq\n");
	free(s);
	table_release(&t);
	/* no rows at all */
	table_init(&t, 4);
	s = table_render(&t);
	assert_string_equal(s, "");
	free(s);
	table_release(&t);
}

static void test_table_utf8_and_control(void **state)
{
	(void)state;
	struct table t;
	table_init(&t, 2);
	table_add(&t, "h\xc3\xa9llo"); /* 5 code points, 6 bytes */
	table_add(&t, "x");
	table_add(&t, "abcde");
	table_add(&t, "bad\x1b[31m\n");
	char *s = table_render(&t);
	assert_string_equal(s, "h\xc3\xa9llo  x\nabcde  bad?[31m?\n");
	free(s);
	table_release(&t);
}

static void test_render_apps(void **state)
{
	(void)state;
	json_t *apps = json_loads(
		"[{\"id\":\"/prod/web\",\"instances\":5,\"tasksRunning\":3,\"cpus\":0.25,"
		"\"mem\":128,\"deployments\":[{\"id\":\"d1\"}],\"version\":\"2024-01-02T03:04:05.678Z\"},"
		"{\"id\":\"/db\",\"instances\":1,\"tasksRunning\":1,\"cpus\":1,\"mem\":1024,"
		"\"deployments\":[],\"version\":\"2024-01-01T00:00:00.000Z\"}]",
		0, NULL);
	assert_non_null(apps);
	char *s = cli_render_apps(apps);
	assert_string_equal(s,
		"ID         INSTANCES  CPUS  MEM   DEPLOYMENTS  VERSION\n"
		"/prod/web  3/5        0.25  128   1            2024-01-02T03:04:05.678Z\n"
		"/db        1/1        1     1024  0            2024-01-01T00:00:00.000Z\n");
	free(s);
	json_decref(apps);
	/* no apps: the header alone */
	apps = json_array();
	s = cli_render_apps(apps);
	assert_string_equal(s, "ID  INSTANCES  CPUS  MEM  DEPLOYMENTS  VERSION\n");
	free(s);
	json_decref(apps);
}

static const char *tasks_json =
	"[{\"appId\":\"/web\",\"id\":\"web.instance-1._app.1\",\"host\":\"127.0.0.1\","
	"\"ports\":[31000,31001],\"slaveId\":\"S0\",\"state\":\"TASK_RUNNING\","
	"\"startedAt\":\"2024-01-02T03:04:05.678Z\",\"version\":\"v\",\"index\":1},"
	"{\"appId\":\"/web\",\"id\":\"web.instance-2._app.1\",\"host\":\"10.0.0.2\","
	"\"ports\":[],\"slaveId\":\"S1\",\"state\":\"TASK_STAGING\",\"version\":\"v\","
	"\"index\":0}]";

static void test_render_tasks(void **state)
{
	(void)state;
	json_t *tasks = json_loads(tasks_json, 0, NULL);
	assert_non_null(tasks);
	/* sorted by instance index */
	char *s = cli_render_tasks(tasks, true);
	assert_string_equal(s,
		"ID                     APP   INDEX  HOST       STATE         PORTS        STARTED\n"
		"web.instance-2._app.1  /web  0      10.0.0.2   TASK_STAGING  -            -\n"
		"web.instance-1._app.1  /web  1      127.0.0.1  TASK_RUNNING  31000,31001  2024-01-02T03:04:05.678Z\n");
	free(s);
	s = cli_render_tasks(tasks, false);
	assert_non_null(strstr(s, "ID                     INDEX  HOST       STATE"));
	free(s);
	json_decref(tasks);
}

static void test_render_tasks_order(void **state)
{
	(void)state;
	/* apps in order of their ids, each app's tasks by index (numeric, not textual);
	 * a task without an index (an old master) after the others, in the order given */
	json_t *tasks = json_loads(
		"[{\"appId\":\"/b\",\"id\":\"b10\",\"index\":10},"
		"{\"appId\":\"/a\",\"id\":\"a-none1\"},"
		"{\"appId\":\"/b\",\"id\":\"b2\",\"index\":2},"
		"{\"appId\":\"/a\",\"id\":\"a0\",\"index\":0},"
		"{\"appId\":\"/a\",\"id\":\"a-none2\",\"index\":-3},"
		"{\"appId\":\"/a\",\"id\":\"a1\",\"index\":1.0}]",
		0, NULL);
	assert_non_null(tasks);
	char *s = cli_render_tasks(tasks, true);
	assert_string_equal(s, "ID       APP  INDEX  HOST  STATE  PORTS  STARTED\n"
			       "a0       /a   0      -     -      -      -\n"
			       "a1       /a   1      -     -      -      -\n"
			       "a-none1  /a   -      -     -      -      -\n"
			       "a-none2  /a   -      -     -      -      -\n"
			       "b2       /b   2      -     -      -      -\n"
			       "b10      /b   10     -     -      -      -\n");
	free(s);
	/* the input is left as it was */
	assert_string_equal(json_string_value(json_object_get(json_array_get(tasks, 0), "id")),
			    "b10");
	json_decref(tasks);
	/* not an array: the header alone */
	s = cli_render_tasks(NULL, false);
	assert_string_equal(s, "ID  INDEX  HOST  STATE  PORTS  STARTED\n");
	free(s);
}

static void test_render_volumes(void **state)
{
	(void)state;
	json_t *v = json_loads(
		"[{\"type\":\"external\",\"app\":\"/es\",\"index\":2,\"containerPath\":\"/data\","
		"\"name\":\"es2data\",\"driver\":\"rexray\",\"shared\":false,\"agentId\":null,"
		"\"host\":null,\"state\":\"waiting\",\"taskId\":null},"
		"{\"type\":\"persistent\",\"app\":\"/db\",\"index\":1,\"containerPath\":\"data\","
		"\"persistenceId\":\"db#data#2\",\"sizeMiB\":10.0,\"agentId\":\"S0\","
		"\"host\":\"vm\",\"state\":\"suspended\",\"taskId\":null},"
		"{\"type\":\"persistent\",\"app\":\"/db\",\"index\":0,\"containerPath\":\"data\","
		"\"persistenceId\":\"db#data#1\",\"sizeMiB\":1.5,\"agentId\":\"S0\","
		"\"host\":\"vm\",\"state\":\"in use\",\"taskId\":\"db.instance-1._app.1\"},"
		"{\"type\":\"external\",\"app\":\"/es\",\"index\":0,\"containerPath\":\"/data\","
		"\"name\":\"bad\\u001b[2J\",\"agentId\":\"S1\",\"host\":null,"
		"\"state\":\"in use\",\"taskId\":\"es.1\"}]",
		0, NULL);
	assert_non_null(v);
	char *s = cli_render_volumes(v);
	assert_string_equal(s,
		"TYPE        APP  INDEX  NAME       PATH   SIZE     HOST  STATE      TASK\n"
		"persistent  /db  0      db#data#1  data   1.5 MiB  vm    in use     db.instance-1._app.1\n"
		"persistent  /db  1      db#data#2  data   10 MiB   vm    suspended  -\n"
		"external    /es  0      bad?[2J    /data  -        S1    in use     es.1\n"
		"external    /es  2      es2data    /data  -        -     waiting    -\n");
	free(s);
	json_decref(v);
	json_t *none = json_array();
	s = cli_render_volumes(none);
	assert_string_equal(s, "TYPE  APP  INDEX  NAME  PATH  SIZE  HOST  STATE  TASK\n");
	free(s);
	json_decref(none);
}

static void test_render_nodes(void **state)
{
	(void)state;
	json_t *slaves = json_loads(
		"[{\"id\":\"S0\",\"hostname\":\"a.example\",\"pid\":\"slave(1)@127.0.0.1:5051\","
		"\"active\":true,\"resources\":{\"cpus\":2.0,\"mem\":1024.0,\"disk\":1000.0,"
		"\"ports\":\"[31000-32000]\"},\"used_resources\":{\"cpus\":0.2,\"mem\":64.0,"
		"\"disk\":0.0,\"ports\":\"[31000-31001]\"},\"attributes\":{\"rack\":\"3\",\"dc\":1}},"
		"{\"id\":\"S1\",\"hostname\":\"b\",\"active\":false,\"resources\":{\"cpus\":4,"
		"\"mem\":2048,\"disk\":0},\"used_resources\":{},\"attributes\":{}}]",
		JSON_PRESERVE_ORDER, NULL);
	json_t *tasks = json_loads(tasks_json, 0, NULL);
	assert_non_null(slaves);
	assert_non_null(tasks);
	char *s = cli_render_nodes(slaves, tasks);
	assert_string_equal(s,
		"ID  HOSTNAME   STATE     CPUS   MEM      DISK    TASKS  ATTRIBUTES\n"
		"S0  a.example  active    0.2/2  64/1024  0/1000  1      rack:3;dc:1\n"
		"S1  b          inactive  0/4    0/2048   0/0     1      -\n");
	free(s);
	json_decref(slaves);
	json_decref(tasks);
}

static void test_render_app(void **state)
{
	(void)state;
	json_t *app = json_loads(
		"{\"id\":\"/web\",\"cmd\":\"sleep 100\",\"instances\":2,\"tasksRunning\":1,"
		"\"tasksStaged\":1,\"cpus\":0.1,\"mem\":32,\"disk\":0,"
		"\"portDefinitions\":[{\"port\":0,\"name\":\"http\"}],"
		"\"constraints\":[[\"hostname\",\"UNIQUE\"]],\"env\":{\"A\":\"1\"},"
		"\"labels\":{},\"version\":\"v1\",\"deployments\":[{\"id\":\"d1\"}],"
		"\"tasks\":[]}",
		JSON_PRESERVE_ORDER, NULL);
	assert_non_null(app);
	char *s = cli_render_app(app);
	assert_string_equal(s,
		"Id:           /web\n"
		"Command:      sleep 100\n"
		"Instances:    1/2 running, 1 staged, 0 healthy, 0 unhealthy\n"
		"Resources:    cpus 0.1, mem 32 MiB, disk 0 MiB\n"
		"Ports:        0 (http)\n"
		"Constraints:  hostname:UNIQUE\n"
		"Env:          A=1\n"
		"Labels:       -\n"
		"Version:      v1\n"
		"Deployments:  d1\n"
		"\nTasks:\n"
		"ID  INDEX  HOST  STATE  PORTS  STARTED\n");
	free(s);
	json_decref(app);
}

static void test_render_deployments(void **state)
{
	(void)state;
	json_t *d = json_loads(
		"[{\"id\":\"d1\",\"version\":\"2024-05-02T09:14:44.870Z\",\"affectedApps\":[\"/web\"],"
		"\"affectedPods\":[],\"steps\":[{\"actions\":[{\"action\":\"RestartApplication\","
		"\"app\":\"/web\"}]}],\"currentActions\":[{\"action\":\"RestartApplication\","
		"\"app\":\"/web\",\"readinessCheckResults\":[]}],\"currentStep\":1,\"totalSteps\":1},"
		"{\"id\":\"d2\",\"version\":\"v\",\"affectedApps\":[\"/a\",\"/b\"],"
		"\"steps\":[{\"actions\":[{\"action\":\"StartApplication\",\"app\":\"/a\"}]},"
		"{\"actions\":[{\"action\":\"StartApplication\",\"app\":\"/b\"}]}],"
		"\"currentActions\":[],\"currentStep\":2,\"totalSteps\":2}]",
		0, NULL);
	assert_non_null(d);
	char *s = cli_render_deployments(d);
	assert_string_equal(s, "ID  APPS   ACTIONS              STEP  VERSION\n"
			       "d1  /web   RestartApplication   1/1   2024-05-02T09:14:44.870Z\n"
			       "d2  /a,/b  StartApplication /b  2/2   v\n");
	free(s);
	json_decref(d);
	json_t *none = json_array();
	s = cli_render_deployments(none);
	assert_string_equal(s, "ID  APPS  ACTIONS  STEP  VERSION\n");
	free(s);
	json_decref(none);
}

static void test_render_jobs(void **state)
{
	(void)state;
	json_t *jobs = json_loads(
		"[{\"name\":\"load\",\"schedule\":\"R/2026-12-08T02:00:00.000Z/P1D\",\"disabled\":false,"
		"\"successCount\":3,\"errorCount\":1,\"lastSuccess\":\"2026-12-07T02:00:04.120Z\","
		"\"lastError\":\"\"},"
		"{\"name\":\"report\",\"parents\":[\"load\",\"x\"],\"disabled\":true,"
		"\"successCount\":0,\"errorCount\":0,\"lastSuccess\":\"\",\"lastError\":\"\"}]",
		0, NULL);
	json_t *sum = json_loads("[{\"name\":\"load\",\"status\":\"success\",\"state\":\"1 running\"},"
				 "{\"name\":\"report\",\"status\":\"fresh\",\"state\":\"idle\"}]",
				 0, NULL);
	assert_non_null(jobs);
	assert_non_null(sum);
	char *s = cli_render_jobs(jobs, sum);
	assert_string_equal(
		s, "NAME    SCHEDULE                        STATE      LAST     OK  ERRORS  LAST SUCCESS              LAST ERROR\n"
		   "load    R/2026-12-08T02:00:00.000Z/P1D  1 running  success  3   1       2026-12-07T02:00:04.120Z  -\n"
		   "report  after load,x                    disabled   fresh    0   0       -                         -\n");
	free(s);
	json_t *h = json_loads(
		"{\"name\":\"load\",\"nextRun\":\"\",\"skipCount\":2,\"runs\":[{\"scheduledAt\":\"S\","
		"\"startedAt\":\"\",\"finishedAt\":\"F\",\"result\":\"TASK_FAILED\",\"attempts\":3,"
		"\"taskId\":\"ct:1:2:load:\"}],\"pending\":[{\"scheduledAt\":\"P\",\"attempt\":0,"
		"\"state\":\"QUEUED\"}]}",
		0, NULL);
	assert_non_null(h);
	s = cli_render_job_history(h);
	assert_string_equal(s, "SCHEDULED  STARTED  FINISHED  RESULT       ATTEMPTS  TASK\n"
			       "S          -        F         TASK_FAILED  3         ct:1:2:load:\n"
			       "P          -        -         QUEUED       1         -\n"
			       "next run: -, runs skipped: 2\n");
	free(s);
	json_decref(h);
	json_decref(jobs);
	json_decref(sum);
}

static void check_event(const char *type, const char *data, const char *want)
{
	json_t *j = data ? json_loads(data, 0, NULL) : NULL;
	char *s = cli_event_line(type, j);
	if (strcmp(s, want) != 0)
		fail_msg("%s: got '%s'", type, s);
	free(s);
	json_decref(j);
}

static void test_event_lines(void **state)
{
	(void)state;
	check_event("status_update_event",
		    "{\"slaveId\":\"s\",\"taskId\":\"web.instance-1._app.1\",\"taskStatus\":"
		    "\"TASK_KILLED\",\"message\":\"Command terminated\",\"appId\":\"/web\",\"host\":"
		    "\"n1\",\"ports\":[31000],\"version\":\"v\",\"eventType\":\"status_update_event\","
		    "\"timestamp\":\"2024-05-02T09:14:45.102Z\"}",
		    "2024-05-02T09:14:45.102Z status_update_event /web web.instance-1._app.1 "
		    "TASK_KILLED host=n1 message=Command terminated");
	/* an empty message is left out */
	check_event("status_update_event",
		    "{\"taskId\":\"t\",\"taskStatus\":\"TASK_RUNNING\",\"message\":\"\",\"appId\":"
		    "\"/web\",\"timestamp\":\"T\"}",
		    "T status_update_event /web t TASK_RUNNING");
	check_event("health_status_changed_event",
		    "{\"appId\":\"/web\",\"instanceId\":\"i1\",\"version\":\"v\",\"alive\":false,"
		    "\"timestamp\":\"T\"}",
		    "T health_status_changed_event /web i1 alive=false");
	check_event("deployment_info",
		    "{\"plan\":{\"id\":\"d1\",\"steps\":[{\"actions\":[{\"action\":"
		    "\"RestartApplication\",\"app\":\"/web\"}]}]},\"currentStep\":{\"actions\":"
		    "[{\"action\":\"RestartApplication\",\"app\":\"/web\"}]},\"timestamp\":\"T\"}",
		    "T deployment_info d1: RestartApplication /web");
	check_event("deployment_failed",
		    "{\"id\":\"d2\",\"plan\":{\"id\":\"d2\",\"steps\":[{\"actions\":[{\"action\":"
		    "\"StartApplication\",\"app\":\"/a\"}]},{\"actions\":[{\"action\":"
		    "\"ScaleApplication\",\"app\":\"/b\"}]}]},\"reason\":\"cancelled\",\"timestamp\":"
		    "\"T\"}",
		    "T deployment_failed d2: StartApplication /a, ScaleApplication /b reason=cancelled");
	check_event("api_post_event",
		    "{\"clientIp\":\"127.0.0.1\",\"uri\":\"/v2/apps/web\",\"appDefinition\":{},"
		    "\"timestamp\":\"T\"}",
		    "T api_post_event /v2/apps/web clientIp=127.0.0.1");
	check_event("event_stream_attached", "{\"remoteAddress\":\"1.2.3.4\",\"timestamp\":\"T\"}",
		    "T event_stream_attached 1.2.3.4");
	/* an unknown type shows its fields; escape sequences are defused */
	check_event("brand_new_event",
		    "{\"eventType\":\"brand_new_event\",\"a\":\"x\\u001b[31m\",\"n\":2,"
		    "\"timestamp\":\"T\"}",
		    "T brand_new_event a=x?[31m n=2");
	/* data that is not JSON still gets a line, with the current time */
	json_t *bad = NULL;
	char *s = cli_event_line("x_event", bad);
	assert_non_null(strstr(s, " x_event (data is not a JSON object)"));
	assert_true(s[4] == '-' && s[10] == 'T');
	free(s);
	/* a huge summary is cut */
	struct strbuf big = STRBUF_INIT;
	strbuf_adds(&big, "{\"appId\":\"");
	for (int i = 0; i < 3000; i++)
		strbuf_addch(&big, 'a');
	strbuf_adds(&big, "\",\"timestamp\":\"T\"}");
	json_t *j = json_loads(strbuf_str(&big), 0, NULL);
	s = cli_event_line("app_terminated_event", j);
	assert_true(strlen(s) < 1100);
	assert_non_null(strstr(s, "…"));
	free(s);
	json_decref(j);
	strbuf_release(&big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_align),
		cmocka_unit_test(test_table_edges),
		cmocka_unit_test(test_table_utf8_and_control),
		cmocka_unit_test(test_render_apps),
		cmocka_unit_test(test_render_tasks),
		cmocka_unit_test(test_render_tasks_order),
		cmocka_unit_test(test_render_volumes),
		cmocka_unit_test(test_render_nodes),
		cmocka_unit_test(test_render_app),
		cmocka_unit_test(test_render_deployments),
		cmocka_unit_test(test_event_lines),
		cmocka_unit_test(test_render_jobs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
