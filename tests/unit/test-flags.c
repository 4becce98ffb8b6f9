/* Unit tests for src/base/flags.c: the table-driven flag parser of the daemons. Each case
 * parses a command line against two small tables and checks the answer, the values set, and
 * what a user would read on stdout and stderr. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/flags.h"
#include "base/mem.h"

struct cfg {
	const char *host;
	uint16_t port;
	const char *name;
	double timeout;
	uint32_t ms;
	bool verbose;
	const char *need;
	size_t count;
};

static const struct flag_spec specs[] = {
	{ .name = "http", .kind = FLAG_HOSTPORT, .off = offsetof(struct cfg, host),
	  .off_port = offsetof(struct cfg, port), .def = "127.0.0.1:80", .metavar = "ADDR:PORT",
	  .help = "where to listen" },
	{ .name = "name", .kind = FLAG_STRING, .off = offsetof(struct cfg, name), .def = "x",
	  .metavar = "NAME", .help = "a name\non two lines" },
	{ .name = "timeout", .kind = FLAG_SECONDS, .off = offsetof(struct cfg, timeout), .max = 60,
	  .metavar = "SECONDS", .help = "how long" },
	{ .name = "ms", .kind = FLAG_MILLIS, .off = offsetof(struct cfg, ms), .max = 10,
	  .metavar = "SECONDS", .help = "kept in milliseconds" },
	{ .name = "verbose", .kind = FLAG_BOOL, .off = offsetof(struct cfg, verbose),
	  .help = "say more" },
	{ .name = "need", .kind = FLAG_STRING, .off = offsetof(struct cfg, need), .required = true,
	  .metavar = "V", .help = "required" },
	{ .name = "count", .kind = FLAG_COUNT, .off = offsetof(struct cfg, count), .max = 10,
	  .metavar = "N", .help = "a whole number" },
};
static const struct flag_table table = { specs, sizeof(specs) / sizeof(specs[0]) };

/* A second daemon's table, of which the command takes --http as --other-http. */
struct other {
	const char *host;
	uint16_t port;
	const char *name;
};
static const struct flag_spec other_specs[] = {
	{ .name = "name", .kind = FLAG_STRING, .off = offsetof(struct other, name),
	  .metavar = "N", .help = "not taken" },
	{ .name = "http", .kind = FLAG_HOSTPORT, .off = offsetof(struct other, host),
	  .off_port = offsetof(struct other, port), .def = "0.0.0.0:81", .metavar = "ADDR:PORT",
	  .help = "the other's address" },
};
static const struct flag_table other_table = { other_specs, 2 };
static const char *const other_only[] = { "http", NULL };

static const char usage_text[] =
	"usage: berth t [--http ADDR:PORT] [--name NAME] [--timeout SECONDS] [--ms SECONDS]\n"
	"               [--verbose] --need V [--count N] [--other-http ADDR:PORT]\n"
	"\n"
	"  --http ADDR:PORT        where to listen (default 127.0.0.1:80)\n"
	"  --name NAME             a name\n"
	"                          on two lines (default x)\n"
	"  --timeout SECONDS       how long\n"
	"  --ms SECONDS            kept in milliseconds\n"
	"  --verbose               say more\n"
	"  --need V                required\n"
	"  --count N               a whole number\n"
	"  --other-http ADDR:PORT  the other's address (default 0.0.0.0:81)\n";

static struct cfg c;
static struct other o;
static char out[4096], err[4096];

static void slurp(FILE *f, char *buf, size_t size)
{
	rewind(f);
	size_t n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* Parses the NULL-terminated arguments after "t" as `berth t`, capturing stdout and stderr
 * in out and err. Returns flags_parse's answer. */
static int parse(struct flags *fl, const char *required_msg, ...)
{
	char *argv[16] = { "t" };
	int argc = 1;
	va_list ap;
	va_start(ap, required_msg);
	for (const char *a; (a = va_arg(ap, const char *));)
		argv[argc++] = (char *)a;
	va_end(ap);
	memset(&c, 0, sizeof(c));
	memset(&o, 0, sizeof(o));
	const struct flag_set sets[] = {
		{ .table = &table, .cfg = &c },
		{ .table = &other_table, .cfg = &o, .prefix = "other-", .only = other_only },
	};
	const struct flag_cmd cmd = { .name = "t", .required_msg = required_msg, .sets = sets,
				      .nsets = 2 };
	FILE *fo = tmpfile(), *fe = tmpfile();
	assert_non_null(fo);
	assert_non_null(fe);
	fflush(stdout);
	fflush(stderr);
	int save_out = dup(1), save_err = dup(2);
	dup2(fileno(fo), 1);
	dup2(fileno(fe), 2);
	int r = flags_parse(fl, &cmd, argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(save_out, 1);
	dup2(save_err, 2);
	close(save_out);
	close(save_err);
	slurp(fo, out, sizeof(out));
	slurp(fe, err, sizeof(err));
	return r;
}

static void test_defaults_and_values(void **state)
{
	_cleanup_flags_ struct flags fl = FLAGS_INIT;
	assert_int_equal(parse(&fl, NULL, "--need", "v", NULL), 0);
	assert_string_equal(c.host, "127.0.0.1");
	assert_int_equal(c.port, 80);
	assert_string_equal(c.name, "x");
	assert_true(c.timeout == 0);
	assert_false(c.verbose);
	assert_string_equal(c.need, "v");
	assert_string_equal(o.host, "0.0.0.0");
	assert_int_equal(o.port, 81);
	assert_null(o.name);
	assert_string_equal(out, "");
	assert_string_equal(err, "");

	assert_int_equal(parse(&fl, NULL, "--http", "10.0.0.1:5050", "--name=n1", "--name", "n2",
			       "--timeout", "60", "--ms", "1.5", "--verbose", "--other-http",
			       "10.0.0.2:9", "--need", "v", NULL),
			 0);
	assert_string_equal(c.host, "10.0.0.1");
	assert_int_equal(c.port, 5050);
	assert_string_equal(c.name, "n2"); /* the last one wins */
	assert_true(c.timeout == 60);
	assert_int_equal(c.ms, 1500);
	assert_true(c.verbose);
	assert_string_equal(o.host, "10.0.0.2");
	assert_int_equal(o.port, 9);
	assert_string_equal(err, "");
}

static void test_bad_values(void **state)
{
	static const struct {
		const char *flag, *arg, *err;
	} cases[] = {
		{ "--http", "nope", "berth t: --http 'nope': expected ADDR:PORT\n" },
		{ "--http", "1.2.3.4:65536", "berth t: --http '1.2.3.4:65536': expected ADDR:PORT\n" },
		{ "--other-http", "", "berth t: --other-http '': expected ADDR:PORT\n" },
		{ "--timeout", "0", "berth t: --timeout '0': expected seconds > 0 and at most 60\n" },
		{ "--timeout", "60.5",
		  "berth t: --timeout '60.5': expected seconds > 0 and at most 60\n" },
		{ "--timeout", "abc", "berth t: --timeout 'abc': expected seconds > 0 and at most 60\n" },
		{ "--timeout", "nan", "berth t: --timeout 'nan': expected seconds > 0 and at most 60\n" },
		{ "--ms", "-1", "berth t: --ms '-1': expected seconds > 0 and at most 10\n" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		_cleanup_flags_ struct flags fl = FLAGS_INIT;
		assert_int_equal(parse(&fl, NULL, "--need", "v", cases[i].flag, cases[i].arg, NULL),
				 -EINVAL);
		assert_string_equal(err, cases[i].err);
		assert_string_equal(out, "");
	}
}

static void test_usage_errors(void **state)
{
	_cleanup_flags_ struct flags fl = FLAGS_INIT;
	char want[8192];

	assert_int_equal(parse(&fl, NULL, "--need", "v", "--http", NULL), -EINVAL);
	snprintf(want, sizeof(want), "t: option '--http' requires an argument\n%s", usage_text);
	assert_string_equal(err, want);
	assert_string_equal(out, "");

	assert_int_equal(parse(&fl, NULL, "--need", "v", "--bogus", NULL), -EINVAL);
	snprintf(want, sizeof(want), "t: unrecognized option '--bogus'\n%s", usage_text);
	assert_string_equal(err, want);

	/* a flag of the other table that the command does not take */
	assert_int_equal(parse(&fl, NULL, "--need", "v", "--other-name", "a", NULL), -EINVAL);
	snprintf(want, sizeof(want), "t: unrecognized option '--other-name'\n%s", usage_text);
	assert_string_equal(err, want);

	assert_int_equal(parse(&fl, NULL, "--verbose=yes", "--need", "v", NULL), -EINVAL);
	snprintf(want, sizeof(want), "t: option '--verbose' doesn't allow an argument\n%s",
		 usage_text);
	assert_string_equal(err, want);

	assert_int_equal(parse(&fl, NULL, "--need", "v", "extra", NULL), -EINVAL);
	snprintf(want, sizeof(want), "berth t: unexpected argument 'extra'\n%s", usage_text);
	assert_string_equal(err, want);

	assert_int_equal(parse(&fl, NULL, "--name", "n", NULL), -EINVAL);
	snprintf(want, sizeof(want), "berth t: --need is required\n%s", usage_text);
	assert_string_equal(err, want);

	assert_int_equal(parse(&fl, "--need (soon) is required", NULL), -EINVAL);
	snprintf(want, sizeof(want), "berth t: --need (soon) is required\n%s", usage_text);
	assert_string_equal(err, want);
	assert_string_equal(out, "");
}

static void test_help(void **state)
{
	_cleanup_flags_ struct flags fl = FLAGS_INIT;
	/* --help answers before a missing required flag is an error */
	assert_int_equal(parse(&fl, NULL, "--help", NULL), FLAGS_HELP);
	assert_string_equal(out, usage_text);
	assert_string_equal(err, "");
	assert_int_equal(parse(&fl, NULL, "--name", "a", "-h", "--bogus", NULL), FLAGS_HELP);
	assert_string_equal(out, usage_text);
	assert_string_equal(err, "");
}

/* FLAG_COUNT: whole numbers from 1 to max, anything else refused by name. */
static void test_count(void **state)
{
	_cleanup_flags_ struct flags fl = FLAGS_INIT;
	assert_int_equal(parse(&fl, NULL, "--need", "v", "--count", "10", NULL), 0);
	assert_int_equal(c.count, 10);
	assert_int_equal(parse(&fl, NULL, "--need", "v", "--count", "1", NULL), 0);
	assert_int_equal(c.count, 1);
	const char *bad[] = { "0", "11", "1.5", "-1", "x", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		_cleanup_flags_ struct flags f2 = FLAGS_INIT;
		assert_int_not_equal(parse(&f2, NULL, "--need", "v", "--count", bad[i], NULL), 0);
		assert_non_null(strstr(err, "--count"));
		assert_non_null(strstr(err, "expected a whole number from 1 to 10"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_values),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_count),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
