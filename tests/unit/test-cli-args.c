/* The CLI's words: argument parsing, usage errors (exit 2), help (exit 0), app-id paths,
 * error messages from API answers, and the --wait predicates. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/mem.h"
#include "cli/cli-internal.h"
#include "cli/cli.h"

#define MAX_WORDS 12

/* Splits a space-separated command line into argv (argv[0] = "berth"). */
static int split(const char *line, char **argv, char *buf, size_t buflen)
{
	snprintf(buf, buflen, "%s", line);
	int argc = 0;
	argv[argc++] = (char *)"berth";
	for (char *p = buf; *p;) {
		while (*p == ' ')
			*p++ = '\0';
		if (!*p)
			break;
		argv[argc++] = p;
		while (*p && *p != ' ')
			p++;
	}
	argv[argc] = NULL;
	return argc;
}

struct parse_case {
	const char *line;
	int rc; /* 0 run, 1 help, -EINVAL usage error */
	const char *noun, *verb;
	size_t nargs;
	const char *arg0, *arg1;
	const char *err; /* substring of the error */
};

static const struct parse_case parse_cases[] = {
	{ "app list", 0, "app", "list", 0, NULL, NULL, NULL },
	{ "--master http://h:1 app list --json", 0, "app", "list", 0, NULL, NULL, NULL },
	{ "app list --master=http://h:1", 0, "app", "list", 0, NULL, NULL, NULL },
	{ "--cacert ca.pem --master https://h app list", 0, "app", "list", 0, NULL, NULL, NULL },
	{ "events --cacert=ca.pem", 0, "events", NULL, 0, NULL, NULL, NULL },
	{ "app list --cacert", -EINVAL, NULL, NULL, 0, NULL, NULL, "'--cacert' needs a value" },
	{ "app add web.json", 0, "app", "add", 1, "web.json", NULL, NULL },
	{ "app add -", 0, "app", "add", 1, "-", NULL, NULL },
	{ "app add - --wait --timeout 5", 0, "app", "add", 1, "-", NULL, NULL },
	{ "app scale /prod/web 5 --wait", 0, "app", "scale", 2, "/prod/web", "5", NULL },
	{ "app scale web -1", 0, "app", "scale", 2, "web", "-1", NULL },
	{ "app restart web --wait --timeout=10", 0, "app", "restart", 1, "web", NULL, NULL },
	{ "app remove web --wait", 0, "app", "remove", 1, "web", NULL, NULL },
	{ "app show web", 0, "app", "show", 1, "web", NULL, NULL },
	{ "task list --app prod/web", 0, "task", "list", 0, NULL, NULL, NULL },
	{ "task kill web.instance-1._app.1 --scale", 0, "task", "kill", 1,
	  "web.instance-1._app.1", NULL, NULL },
	{ "node list", 0, "node", "list", 0, NULL, NULL, NULL },
	{ "volume list", 0, "volume", "list", 0, NULL, NULL, NULL },
	{ "volume list --app /db --json", 0, "volume", "list", 0, NULL, NULL, NULL },
	{ "--json volume list --app=db", 0, "volume", "list", 0, NULL, NULL, NULL },
	{ "volume --help", 1, "volume", NULL, 0, NULL, NULL, NULL },
	{ "help volume list", 1, "volume", "list", 0, NULL, NULL, NULL },
	{ "volume", -EINVAL, NULL, NULL, 0, NULL, NULL, "'volume' needs a subcommand" },
	{ "volume rm x", -EINVAL, NULL, NULL, 0, NULL, NULL, "unknown command 'volume rm'" },
	{ "volume list x", -EINVAL, NULL, NULL, 0, NULL, NULL, "unexpected argument 'x'" },
	{ "volume list --app", -EINVAL, NULL, NULL, 0, NULL, NULL, "'--app' needs a value" },
	{ "volume list --wait", -EINVAL, NULL, NULL, 0, NULL, NULL,
	  "'volume list' does not take --wait" },
	{ "volume list --scale", -EINVAL, NULL, NULL, 0, NULL, NULL, "does not take --scale" },
	{ "logs t1 --stderr --follow", 0, "logs", NULL, 1, "t1", NULL, NULL },
	{ "logs -- --odd-task-id", 0, "logs", NULL, 1, "--odd-task-id", NULL, NULL },
	{ "app update web new.json", 0, "app", "update", 2, "web", "new.json", NULL },
	{ "app update /prod/web - --force --wait --timeout 9 --json", 0, "app", "update", 2,
	  "/prod/web", "-", NULL },
	{ "deployment list", 0, "deployment", "list", 0, NULL, NULL, NULL },
	{ "deployment list --json", 0, "deployment", "list", 0, NULL, NULL, NULL },
	{ "deployment rollback d1", 0, "deployment", "rollback", 1, "d1", NULL, NULL },
	{ "deployment rollback d1 --force", 0, "deployment", "rollback", 1, "d1", NULL, NULL },
	{ "deployment rollback d1 --wait --timeout 5", 0, "deployment", "rollback", 1, "d1", NULL,
	  NULL },
	{ "events", 0, "events", NULL, 0, NULL, NULL, NULL },
	{ "events --json --type status_update_event --type=deployment_success", 0, "events", NULL,
	  0, NULL, NULL, NULL },
	{ "events --help", 1, "events", NULL, 0, NULL, NULL, NULL },
	{ "help deployment rollback", 1, "deployment", "rollback", 0, NULL, NULL, NULL },
	{ "deployment --help", 1, "deployment", NULL, 0, NULL, NULL, NULL },
	/* help */
	{ "help", 1, NULL, NULL, 0, NULL, NULL, NULL },
	{ "--help", 1, NULL, NULL, 0, NULL, NULL, NULL },
	{ "-h", 1, NULL, NULL, 0, NULL, NULL, NULL },
	{ "app --help", 1, "app", NULL, 0, NULL, NULL, NULL },
	{ "help app", 1, "app", NULL, 0, NULL, NULL, NULL },
	{ "app scale --help", 1, "app", "scale", 0, NULL, NULL, NULL },
	{ "help app scale", 1, "app", "scale", 0, NULL, NULL, NULL },
	{ "logs --help", 1, "logs", NULL, 0, NULL, NULL, NULL },
	/* usage errors */
	{ "", -EINVAL, NULL, NULL, 0, NULL, NULL, "missing command" },
	{ "frobnicate", -EINVAL, NULL, NULL, 0, NULL, NULL, "unknown command 'frobnicate'" },
	{ "app", -EINVAL, NULL, NULL, 0, NULL, NULL, "'app' needs a subcommand" },
	{ "app fly", -EINVAL, NULL, NULL, 0, NULL, NULL, "unknown command 'app fly'" },
	{ "app add", -EINVAL, NULL, NULL, 0, NULL, NULL, "missing argument: FILE|-" },
	{ "app scale web", -EINVAL, NULL, NULL, 0, NULL, NULL, "missing argument: ID N" },
	{ "app show a b", -EINVAL, NULL, NULL, 0, NULL, NULL, "unexpected argument 'b'" },
	{ "app list --bogus", -EINVAL, NULL, NULL, 0, NULL, NULL, "unknown flag '--bogus'" },
	{ "app list -x", -EINVAL, NULL, NULL, 0, NULL, NULL, "unknown flag '-x'" },
	{ "app list --wait", -EINVAL, NULL, NULL, 0, NULL, NULL, "'app list' does not take --wait" },
	{ "logs t --json", -EINVAL, NULL, NULL, 0, NULL, NULL, "'logs' does not take --json" },
	{ "task kill t --follow", -EINVAL, NULL, NULL, 0, NULL, NULL, "does not take --follow" },
	{ "app list --master", -EINVAL, NULL, NULL, 0, NULL, NULL, "'--master' needs a value" },
	{ "app list --master=", -EINVAL, NULL, NULL, 0, NULL, NULL, "'--master' needs a value" },
	{ "app list --json=1", -EINVAL, NULL, NULL, 0, NULL, NULL, "takes no value" },
	{ "app scale w 2 --wait --timeout 0", -EINVAL, NULL, NULL, 0, NULL, NULL, "--timeout" },
	{ "app scale w 2 --wait --timeout x", -EINVAL, NULL, NULL, 0, NULL, NULL, "--timeout" },
	{ "app scale w 2 --timeout 5", -EINVAL, NULL, NULL, 0, NULL, NULL, "only makes sense" },
	{ "app update web", -EINVAL, NULL, NULL, 0, NULL, NULL, "missing argument: ID FILE|-" },
	{ "app update web a b", -EINVAL, NULL, NULL, 0, NULL, NULL, "unexpected argument 'b'" },
	{ "deployment", -EINVAL, NULL, NULL, 0, NULL, NULL, "'deployment' needs a subcommand" },
	{ "deployment undo d1", -EINVAL, NULL, NULL, 0, NULL, NULL,
	  "unknown command 'deployment undo'" },
	{ "deployment rollback", -EINVAL, NULL, NULL, 0, NULL, NULL, "missing argument: ID" },
	{ "deployment list --wait", -EINVAL, NULL, NULL, 0, NULL, NULL, "does not take --wait" },
	{ "deployment list --type x", -EINVAL, NULL, NULL, 0, NULL, NULL, "does not take --type" },
	{ "events x", -EINVAL, NULL, NULL, 0, NULL, NULL, "unexpected argument 'x'" },
	{ "events --wait", -EINVAL, NULL, NULL, 0, NULL, NULL, "'events' does not take --wait" },
	{ "events --type", -EINVAL, NULL, NULL, 0, NULL, NULL, "'--type' needs a value" },
	{ "events --type a&b=c", -EINVAL, NULL, NULL, 0, NULL, NULL, "--type wants an event type" },
	{ "app list --type a", -EINVAL, NULL, NULL, 0, NULL, NULL, "does not take --type" },
};

static void test_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		char buf[256], *argv[MAX_WORDS + 2], err[256] = "";
		int argc = split(c->line, argv, buf, sizeof(buf));
		struct cli_opts o;
		int rc = cli_args_parse(argc, argv, &o, err, sizeof(err));
		if (rc != c->rc)
			fail_msg("'%s': got %d (%s), want %d", c->line, rc, err, c->rc);
		if (c->err && !strstr(err, c->err))
			fail_msg("'%s': error '%s' lacks '%s'", c->line, err, c->err);
		if (rc < 0)
			continue;
		bool whole = c->noun && (strcmp(c->noun, "logs") == 0 || strcmp(c->noun, "events") == 0);
		if (c->verb || whole) {
			assert_non_null(o.cmd);
			assert_string_equal(o.cmd->noun, c->noun);
			if (c->verb)
				assert_string_equal(o.cmd->verb, c->verb);
		} else {
			assert_null(o.cmd);
			if (c->noun)
				assert_string_equal(o.noun, c->noun);
			else
				assert_null(o.noun);
		}
		assert_int_equal(o.nargs, c->nargs);
		if (c->arg0)
			assert_string_equal(o.args[0], c->arg0);
		if (c->arg1)
			assert_string_equal(o.args[1], c->arg1);
	}
}

static void test_parse_values(void **state)
{
	(void)state;
	char buf[256], *argv[MAX_WORDS + 2], err[256];
	struct cli_opts o;
	int argc = split("--master http://m:1 task list --app /prod/web --json", argv, buf,
			 sizeof(buf));
	assert_int_equal(cli_args_parse(argc, argv, &o, err, sizeof(err)), 0);
	assert_string_equal(o.master, "http://m:1");
	assert_string_equal(o.app, "/prod/web");
	assert_true(o.seen & CLI_F_JSON);
	assert_int_equal(o.timeout_sec, CLI_DEFAULT_TIMEOUT_SEC);
	assert_null(o.cacert);

	argc = split("app list --cacert /etc/berth/ca.pem", argv, buf, sizeof(buf));
	assert_int_equal(cli_args_parse(argc, argv, &o, err, sizeof(err)), 0);
	assert_string_equal(o.cacert, "/etc/berth/ca.pem");
	assert_null(o.cert);
	assert_false(o.insecure);

	argc = split("--cert c.pem app list --key=k.pem --insecure", argv, buf, sizeof(buf));
	assert_int_equal(cli_args_parse(argc, argv, &o, err, sizeof(err)), 0);
	assert_string_equal(o.cert, "c.pem");
	assert_string_equal(o.key, "k.pem");
	assert_true(o.insecure);
	argc = split("app list --cert", argv, buf, sizeof(buf));
	assert_int_equal(cli_args_parse(argc, argv, &o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'--cert' needs a value"));

	argc = split("volume list --app=prod/db --json", argv, buf, sizeof(buf));
	assert_int_equal(cli_args_parse(argc, argv, &o, err, sizeof(err)), 0);
	assert_string_equal(o.app, "prod/db");
	assert_true(o.seen & CLI_F_JSON);
	assert_ptr_equal(o.cmd->run, cli_volume_list);

	argc = split("events --type a_event --json --type=b2", argv, buf, sizeof(buf));
	assert_int_equal(cli_args_parse(argc, argv, &o, err, sizeof(err)), 0);
	assert_int_equal(o.ntypes, 2);
	assert_string_equal(o.types[0], "a_event");
	assert_string_equal(o.types[1], "b2");

	/* --type at most CLI_MAX_TYPES times */
	char *many[CLI_MAX_TYPES * 2 + 8];
	int n = 0;
	many[n++] = (char *)"berth";
	many[n++] = (char *)"events";
	for (int i = 0; i <= CLI_MAX_TYPES; i++) {
		many[n++] = (char *)"--type";
		many[n++] = (char *)"x";
	}
	many[n] = NULL;
	assert_int_equal(cli_args_parse(n, many, &o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "more than"));
	assert_int_equal(cli_args_parse(n - 2, many, &o, err, sizeof(err)), 0);
	assert_int_equal(o.ntypes, CLI_MAX_TYPES);

	argc = split("app scale web 3 --wait --timeout 12", argv, buf, sizeof(buf));
	assert_int_equal(cli_args_parse(argc, argv, &o, err, sizeof(err)), 0);
	assert_int_equal(o.timeout_sec, 12);
	assert_true(o.seen & CLI_F_WAIT);
	assert_false(o.seen & CLI_F_JSON);
}

/* Runs cli_main with stdout and stderr captured into files; returns the exit code. */
static int run_main(const char *line, char **out, char **errout)
{
	char buf[256], *argv[MAX_WORDS + 2];
	int argc = split(line, argv, buf, sizeof(buf));
	char outp[] = "/tmp/test-cli-out-XXXXXX", errp[] = "/tmp/test-cli-err-XXXXXX";
	int ofd = mkstemp(outp), efd = mkstemp(errp);
	assert_true(ofd >= 0 && efd >= 0);
	fflush(stdout);
	fflush(stderr);
	int so = dup(1), se = dup(2);
	dup2(ofd, 1);
	dup2(efd, 2);
	int rc = cli_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	char *files[2] = { outp, errp };
	char **dst[2] = { out, errout };
	for (int i = 0; i < 2; i++) {
		FILE *f = fopen(files[i], "r");
		assert_non_null(f);
		char *s = xcalloc(1, 65536);
		size_t n = fread(s, 1, 65535, f);
		s[n] = '\0';
		fclose(f);
		unlink(files[i]);
		*dst[i] = s;
	}
	close(ofd);
	close(efd);
	return rc;
}

static void test_main_exit_codes(void **state)
{
	(void)state;
	char *out, *err;
	/* usage errors: 2, message and usage on stderr, nothing on stdout */
	assert_int_equal(run_main("frobnicate", &out, &err), 2);
	assert_string_equal(out, "");
	assert_non_null(strstr(err, "berth: unknown command 'frobnicate'\n"));
	assert_non_null(strstr(err, "Usage:"));
	free(out);
	free(err);

	assert_int_equal(run_main("app scale web", &out, &err), 2);
	assert_non_null(strstr(err, "berth: missing argument: ID N|INDEXES\n"));
	assert_non_null(strstr(err, "berth app scale ID N"));
	free(out);
	free(err);

	/* a flag error still shows the command's own usage */
	assert_int_equal(run_main("app list --bogus", &out, &err), 2);
	assert_string_equal(err, "berth: unknown flag '--bogus'\n"
				 "Usage: berth app list [--json]\n"
				 "Run 'berth app list --help' for details.\n");
	free(out);
	free(err);

	assert_int_equal(run_main("", &out, &err), 2);
	free(out);
	free(err);

	/* a bad instance count is a usage error found before any request */
	assert_int_equal(run_main("--master http://127.0.0.1:1 app scale web many", &out, &err), 2);
	assert_non_null(strstr(err, "instance count"));
	free(out);
	free(err);

	/* a bad master URL */
	assert_int_equal(run_main("--master ftp://h app list", &out, &err), 2);
	assert_non_null(strstr(err, "only http:// and https://"));
	free(out);
	free(err);
	assert_int_equal(run_main("--master http://h:0 app list", &out, &err), 2);
	assert_non_null(strstr(err, "bad master URL 'http://h:0'"));
	free(out);
	free(err);
	/* an https master is spoken to (nothing listens there) */
	assert_int_equal(run_main("--master https://127.0.0.1:1 app list", &out, &err), 1);
	assert_string_equal(err, "berth: cannot reach master at https://127.0.0.1:1: "
				 "Connection refused\n");
	free(out);
	free(err);
	/* --cacert: a file that is not there is said as such */
	assert_int_equal(run_main("--master https://127.0.0.1:1 --cacert /nonexistent.pem "
				  "app list", &out, &err), 1);
	assert_string_equal(err, "berth: cannot reach master at https://127.0.0.1:1: cannot read "
				 "CA file '/nonexistent.pem': No such file or directory\n");
	free(out);
	free(err);

	/* help: 0, on stdout */
	assert_int_equal(run_main("help", &out, &err), 0);
	assert_non_null(strstr(out, "berth app add FILE|-"));
	assert_non_null(strstr(out, "berth logs TASK_ID"));
	assert_string_equal(err, "");
	assert_non_null(strstr(out, "berth app update ID FILE|-"));
	assert_non_null(strstr(out, "berth deployment list"));
	assert_non_null(strstr(out, "berth deployment rollback ID"));
	assert_non_null(strstr(out, "berth events"));
	assert_non_null(strstr(out, "berth volume list"));
	free(out);
	free(err);
	assert_int_equal(run_main("volume list --help", &out, &err), 0);
	assert_non_null(strstr(out, "berth volume list [--app ID] [--json]"));
	free(out);
	free(err);
	/* a bad --app is a usage error found before any request */
	assert_int_equal(run_main("--master http://127.0.0.1:1 volume list --app /", &out, &err),
			 2);
	assert_non_null(strstr(err, "is not an app id"));
	free(out);
	free(err);
	assert_int_equal(run_main("--master http://127.0.0.1:1 volume list", &out, &err), 1);
	assert_non_null(strstr(err, "cannot reach master"));
	free(out);
	free(err);
	assert_int_equal(run_main("events --help", &out, &err), 0);
	assert_non_null(strstr(out, "berth events [--type TYPE] [--json]"));
	free(out);
	free(err);
	/* rollback --force has nothing to wait for: a usage error before any request */
	assert_int_equal(run_main("--master http://127.0.0.1:1 deployment rollback d --force --wait",
				  &out, &err), 2);
	assert_non_null(strstr(err, "nothing to wait for"));
	free(out);
	free(err);
	/* update checks the app id before reading the file */
	assert_int_equal(run_main("--master http://127.0.0.1:1 app update / x.json", &out, &err), 2);
	assert_non_null(strstr(err, "is not an app id"));
	free(out);
	free(err);
	/* events: an unreachable master is exit 1 */
	assert_int_equal(run_main("--master http://127.0.0.1:1 events", &out, &err), 1);
	assert_string_equal(err, "berth: cannot reach master at http://127.0.0.1:1: "
				 "Connection refused\n");
	free(out);
	free(err);
	assert_int_equal(run_main("app scale --help", &out, &err), 0);
	assert_non_null(strstr(out, "--timeout SECONDS"));
	assert_null(strstr(out, "--follow"));
	free(out);
	free(err);
}

static void test_main_unreachable(void **state)
{
	(void)state;
	char *out, *err;
	/* port 1 on loopback: nothing listens */
	assert_int_equal(run_main("--master http://127.0.0.1:1 app list", &out, &err), 1);
	assert_string_equal(err, "berth: cannot reach master at http://127.0.0.1:1: "
				 "Connection refused\n");
	free(out);
	free(err);
	setenv("BERTH_MASTER", "http://127.0.0.1:1", 1);
	assert_int_equal(run_main("node list", &out, &err), 1);
	assert_non_null(strstr(err, "cannot reach master at http://127.0.0.1:1"));
	free(out);
	free(err);
	/* --master wins over BERTH_MASTER */
	assert_int_equal(run_main("node list --master http://127.0.0.1:2", &out, &err), 1);
	assert_non_null(strstr(err, "cannot reach master at http://127.0.0.1:2"));
	free(out);
	free(err);
	unsetenv("BERTH_MASTER");
}

static void test_is_command(void **state)
{
	(void)state;
	assert_true(cli_is_command("app"));
	assert_true(cli_is_command("logs"));
	assert_true(cli_is_command("volume"));
	assert_true(cli_is_command("help"));
	assert_true(cli_is_command("--master"));
	assert_true(cli_is_command("--master=http://h:1"));
	assert_true(cli_is_command("--cacert"));
	assert_true(cli_is_command("--cacert=/etc/berth/ca.pem"));
	assert_true(cli_is_command("--cert=c.pem"));
	assert_true(cli_is_command("--insecure"));
	assert_false(cli_is_command("master"));
	assert_false(cli_is_command("agent"));
	assert_false(cli_is_command("dev"));
	assert_false(cli_is_command("executor"));
	assert_false(cli_is_command(NULL));
}

static void test_app_paths(void **state)
{
	(void)state;
	static const char *const cases[][3] = {
		{ "web", "/web", "/v2/apps/web" },
		{ "/web", "/web", "/v2/apps/web" },
		{ "prod/web", "/prod/web", "/v2/apps/prod/web" },
		{ "/prod/web/", "/prod/web", "/v2/apps/prod/web" },
		{ "//prod//web", "/prod/web", "/v2/apps/prod/web" },
		{ "a b/c?d", "/a b/c?d", "/v2/apps/a%20b/c%3Fd" },
		{ "x%y#z", "/x%y#z", "/v2/apps/x%25y%23z" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *id = cli_app_id(cases[i][0]);
		char *t = cli_app_target(cases[i][0], NULL);
		assert_string_equal(id, cases[i][1]);
		assert_string_equal(t, cases[i][2]);
		free(id);
		free(t);
	}
	assert_null(cli_app_id(""));
	assert_null(cli_app_id("///"));
	assert_null(cli_app_target("/", "/tasks"));
	char *t = cli_app_target("web", "/restart");
	assert_string_equal(t, "/v2/apps/web/restart");
	free(t);

	struct strbuf sb = STRBUF_INIT;
	cli_url_encode(&sb, "web.instance-1/x._app.1", false);
	assert_string_equal(strbuf_str(&sb), "web.instance-1%2Fx._app.1");
	strbuf_release(&sb);
}

static void test_error_text(void **state)
{
	(void)state;
	struct {
		int status;
		const char *body;
		const char *subject;
		const char *want;
	} cases[] = {
		{ 422,
		  "{\"message\":\"Object is not valid\",\"details\":[{\"path\":\"/cpus\","
		  "\"errors\":[\"got -1.0, expected 0.001 or more\"]}]}",
		  "app '/x'", "app '/x' rejected: /cpus: got -1.0, expected 0.001 or more" },
		{ 422,
		  "{\"message\":\"Object is not valid\",\"details\":[{\"path\":\"/cpus\","
		  "\"errors\":[\"a\",\"b\"]},{\"path\":\"/id\",\"errors\":[\"c\"]}]}",
		  NULL, "request rejected: /cpus: a; /cpus: b; /id: c" },
		{ 400, "{\"message\":\"Invalid JSON\",\"details\":\"unexpected token\"}", "app",
		  "Invalid JSON: unexpected token" },
		{ 404, "{\"message\":\"App '/x' does not exist\"}", "app '/x'",
		  "App '/x' does not exist" },
		{ 409,
		  "{\"message\":\"App is locked by one or more deployments.\","
		  "\"deployments\":[{\"id\":\"d1\"},{\"id\":\"d2\"}]}",
		  NULL, "App is locked by one or more deployments. (deployments: d1 d2)" },
		{ 500, "oops\nmore", NULL, "master answered HTTP 500: oops" },
		{ 502, "<html>bad gateway</html>", NULL, "master answered HTTP 502" },
		{ 503, "", NULL, "master answered HTTP 503" },
		{ 404, "{\"message\":\"evil\\u001b[31m\"}", NULL, "evil?[31m" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		json_t *j = json_loads(cases[i].body, JSON_DECODE_ANY, NULL);
		char *t = cli_error_text(cases[i].status, j, cases[i].body, cases[i].subject);
		if (strcmp(t, cases[i].want) != 0)
			fail_msg("case %zu: got '%s'", i, t);
		free(t);
		json_decref(j);
	}
}

static void test_wait_predicates(void **state)
{
	(void)state;
	json_t *app = json_loads(
		"{\"id\":\"/web\",\"instances\":2,\"tasksRunning\":1,\"version\":\"v2\","
		"\"deployments\":[{\"id\":\"d\"}],\"tasks\":["
		"{\"id\":\"a\",\"state\":\"TASK_RUNNING\",\"version\":\"v1\"}]}",
		0, NULL);
	assert_non_null(app);
	char *l = cli_progress_line(app, CLI_WAIT_RUNNING);
	assert_string_equal(l, "'/web': 1/2 running");
	free(l);
	l = cli_progress_line(app, CLI_WAIT_RESTART);
	assert_string_equal(l, "'/web': 1/2 running, 0/2 restarted");
	free(l);
	l = cli_progress_line(app, CLI_WAIT_GONE);
	assert_string_equal(l, "'/web': removing, 1 task left");
	free(l);
	assert_false(cli_app_settled(app, 0, CLI_WAIT_RUNNING));

	/* all running but a deployment still listed: not done */
	json_object_set_new(app, "tasksRunning", json_integer(2));
	json_array_append_new(json_object_get(app, "tasks"),
			      json_pack("{s:s,s:s,s:s}", "id", "b", "state", "TASK_RUNNING",
					"version", "v2"));
	assert_false(cli_app_settled(app, 0, CLI_WAIT_RUNNING));
	json_array_clear(json_object_get(app, "deployments"));
	assert_true(cli_app_settled(app, 0, CLI_WAIT_RUNNING));
	/* stopped instances are not waited for: 1 of 2 running with 1 stopped is done */
	json_object_set_new(app, "tasksRunning", json_integer(1));
	assert_true(cli_app_settled(app, 1, CLI_WAIT_RUNNING));
	assert_false(cli_app_settled(app, 0, CLI_WAIT_RUNNING));
	json_object_set_new(app, "tasksRunning", json_integer(2));
	/* a restart also wants every task on the app's version */
	assert_false(cli_app_settled(app, 0, CLI_WAIT_RESTART));
	json_object_set_new(json_array_get(json_object_get(app, "tasks"), 0), "version",
			    json_string("v2"));
	assert_true(cli_app_settled(app, 0, CLI_WAIT_RESTART));
	l = cli_progress_line(app, CLI_WAIT_RESTART);
	assert_string_equal(l, "'/web': 2/2 running, 2/2 restarted");
	free(l);
	/* an update counts tasks on the current configuration: a later scale-only version
	 * keeps older tasks current */
	json_t *vi = json_pack("{s:s}", "lastConfigChangeAt", "v2");
	json_object_set_new(app, "versionInfo", vi);
	json_object_set_new(app, "version", json_string("v3"));
	assert_true(cli_app_settled(app, 0, CLI_WAIT_UPDATE));
	assert_false(cli_app_settled(app, 0, CLI_WAIT_RESTART));
	l = cli_progress_line(app, CLI_WAIT_UPDATE);
	assert_string_equal(l, "'/web': 2/2 running, 2/2 updated");
	free(l);
	json_object_set_new(vi, "lastConfigChangeAt", json_string("v4"));
	assert_false(cli_app_settled(app, 0, CLI_WAIT_UPDATE));
	l = cli_progress_line(app, CLI_WAIT_UPDATE);
	assert_string_equal(l, "'/web': 2/2 running, 0/2 updated");
	free(l);
	/* without versionInfo the version itself */
	json_object_del(app, "versionInfo");
	json_object_set_new(app, "version", json_string("v2"));
	assert_true(cli_app_settled(app, 0, CLI_WAIT_UPDATE));
	/* removal is only done on a 404 */
	assert_false(cli_app_settled(app, 0, CLI_WAIT_GONE));
	assert_false(cli_app_settled(NULL, 0, CLI_WAIT_RUNNING));
	json_decref(app);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_values),
		cmocka_unit_test(test_main_exit_codes),
		cmocka_unit_test(test_main_unreachable),
		cmocka_unit_test(test_is_command),
		cmocka_unit_test(test_app_paths),
		cmocka_unit_test(test_error_text),
		cmocka_unit_test(test_wait_predicates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
