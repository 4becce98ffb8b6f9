/* Chronos schedules (src/jobs/schedule.c): parsing, errors, the next run in UTC, fixed
 * offsets and tz-database zones across DST changes, month ends and leap days, epsilon skips. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jobs/schedule.h"

static const char *fmt(const struct jsched *s, bool current)
{
	static char buf[2][128];
	static int i;
	i ^= 1;
	assert_true(jsched_format(s, current, buf[i], sizeof(buf[i])) > 0);
	return buf[i];
}

static const char *utc(int64_t ms)
{
	static char buf[32];
	return jsched_iso_utc(ms, buf);
}

static void parse_ok(void **state)
{
	(void)state;
	struct jsched s;
	char err[128];
	assert_int_equal(jsched_parse("R/2026-01-01T00:00:00Z/PT1H", NULL, 0, &s, err, sizeof(err)), 0);
	assert_int_equal(s.repeats, -1);
	assert_int_equal(s.start_ms, 1767225600000LL);
	assert_string_equal(fmt(&s, true), "R/2026-01-01T00:00:00.000Z/PT1H");

	assert_int_equal(jsched_parse("R10/2012-10-01T05:52:00Z/PT2S", "", 0, &s, err, sizeof(err)), 0);
	assert_int_equal(s.repeats, 10);
	assert_int_equal(jsched_step(&s), 0);
	assert_string_equal(fmt(&s, true), "R9/2012-10-01T05:52:02.000Z/PT2S");
	assert_string_equal(fmt(&s, false), "R10/2012-10-01T05:52:00.000Z/PT2S");

	/* empty start: now */
	assert_int_equal(jsched_parse("R//P1D", NULL, 1234567, &s, err, sizeof(err)), 0);
	assert_int_equal(s.start_ms, 1234567);
	/* date only, hours only, fraction, offsets */
	assert_int_equal(jsched_parse("R1/2026-05-01/P1M", NULL, 0, &s, err, sizeof(err)), 0);
	assert_string_equal(utc(s.start_ms), "2026-05-01T00:00:00.000Z");
	assert_int_equal(jsched_parse("R/2026-05-01T07+02:00/PT1M", NULL, 0, &s, err, sizeof(err)), 0);
	assert_string_equal(utc(s.start_ms), "2026-05-01T05:00:00.000Z");
	assert_string_equal(fmt(&s, true), "R/2026-05-01T07:00:00.000+02:00/PT1M");
	assert_int_equal(jsched_parse("R/2026-05-01T07:08:09.25-0530/PT0.5S", NULL, 0, &s, err, sizeof(err)), 0);
	assert_string_equal(utc(s.start_ms), "2026-05-01T12:38:09.250Z");
	assert_int_equal(s.period.msec, 500);
	/* R0: nothing left */
	assert_int_equal(jsched_parse("R0/2026-05-01T00:00:00Z/PT1M", NULL, 0, &s, err, sizeof(err)), 0);
	assert_int_equal(jsched_step(&s), -ENOENT);
}

static void parse_errors(void **state)
{
	(void)state;
	static const char *bad[] = {
		"", "R", "R/", "R//", "X/2026-01-01T00:00:00Z/PT1H", "Rx/2026-01-01T00:00:00Z/PT1H",
		"R/2026-01-01T00:00:00Z/", "R/2026-01-01T00:00:00Z/P", "R/2026-01-01T00:00:00Z/PT",
		"R/2026-01-01T00:00:00Z/PT0S", "R/2026-01-01T00:00:00Z/P0D", "R/2026-01-01T00:00:00Z/P1H",
		"R/2026-01-01T00:00:00Z/PT1D", "R/2026-01-01T00:00:00Z/P1D1Y", "R/2026-01-01T00:00:00Z/P-1D",
		"R/2026-01-01T00:00:00Z/P1.5D", "R/2026-01-01T00:00:00Z/PT1H1H",
		"R/2026-02-29T00:00:00Z/PT1H", "R/2026-13-01T00:00:00Z/PT1H", "R/2026-01-01T24:00:00Z/PT1H",
		"R/2026-01-01T00:60:00Z/PT1H", "R/1969-12-31T23:59:59Z/PT1H", "R/2026-01-01T00:00:00Q/PT1H",
		"R/2026-1-01T00:00:00Z/PT1H", "R/2026-01-01T00:00:00.Z/PT1H", "R/2026-01-01T00:00:00+25:00/PT1H",
		"R/garbage/PT1H", "R1234567890123456789/2026-01-01T00:00:00Z/PT1H",
	};
	struct jsched s;
	char err[128];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		int r = jsched_parse(bad[i], NULL, 0, &s, err, sizeof(err));
		if (r != -EINVAL)
			fail_msg("'%s' parsed", bad[i]);
		assert_true(err[0] != '\0');
	}
	assert_int_equal(jsched_parse("R/2026-01-01T00:00:00Z/PT1H", "Mars/Olympus", 0, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "Mars/Olympus"));
	assert_int_equal(jsched_parse("R/2026-01-01T00:00:00Z/PT1H", "../../etc/passwd", 0, &s, err, sizeof(err)), -EINVAL);
}

static void leap_days_and_month_ends(void **state)
{
	(void)state;
	struct jsched s;
	char err[128];
	/* a leap day yearly: Feb 28 in common years, Feb 29 again in 2028 */
	assert_int_equal(jsched_parse("R/2024-02-29T12:00:00Z/P1Y", NULL, 0, &s, err, sizeof(err)), 0);
	static const char *want[] = { "2025-02-28T12:00:00.000Z", "2026-02-28T12:00:00.000Z",
				      "2027-02-28T12:00:00.000Z", "2028-02-29T12:00:00.000Z" };
	for (int i = 0; i < 4; i++) {
		assert_int_equal(jsched_step(&s), 0);
		assert_string_equal(utc(s.start_ms), want[i]);
	}
	/* a month from Jan 31, counted from the start */
	assert_int_equal(jsched_parse("R3/2028-01-31T00:00:00Z/P1M", NULL, 0, &s, err, sizeof(err)), 0);
	assert_int_equal(jsched_step(&s), 0);
	assert_string_equal(utc(s.start_ms), "2028-02-29T00:00:00.000Z");
	assert_int_equal(jsched_step(&s), 0);
	assert_string_equal(utc(s.start_ms), "2028-03-31T00:00:00.000Z");
	assert_int_equal(jsched_step(&s), 0);
	assert_string_equal(utc(s.start_ms), "2028-04-30T00:00:00.000Z");
	assert_int_equal(jsched_left(&s), 0);
	assert_int_equal(jsched_step(&s), -ENOENT);
	/* a daily run across Feb 29 */
	assert_int_equal(jsched_parse("R/2028-02-28T23:00:00Z/P1D", NULL, 0, &s, err, sizeof(err)), 0);
	assert_int_equal(jsched_step(&s), 0);
	assert_string_equal(utc(s.start_ms), "2028-02-29T23:00:00.000Z");
	/* past 9999: finished */
	assert_int_equal(jsched_parse("R/9999-06-01T00:00:00Z/P1Y", NULL, 0, &s, err, sizeof(err)), 0);
	assert_int_equal(jsched_step(&s), -ERANGE);
	assert_int_equal(jsched_left(&s), 0);
}

static void time_zones_dst(void **state)
{
	(void)state;
	struct jsched s;
	char err[128];
	/* 02:30 in Los Angeles daily; 2026-03-08 springs forward 02:00 -> 03:00 */
	assert_int_equal(jsched_parse("R/2026-03-07T02:30:00Z/P1D", "America/Los_Angeles", 0, &s, err, sizeof(err)), 0);
	assert_string_equal(utc(s.start_ms), "2026-03-07T10:30:00.000Z"); /* 02:30 PST */
	assert_int_equal(jsched_step(&s), 0);
	assert_string_equal(utc(s.start_ms), "2026-03-08T10:30:00.000Z"); /* 03:30 PDT, moved by the gap */
	assert_string_equal(fmt(&s, true), "R/2026-03-08T03:30:00.000-07:00/P1D");
	assert_int_equal(jsched_step(&s), 0);
	assert_string_equal(utc(s.start_ms), "2026-03-09T09:30:00.000Z"); /* 02:30 PDT again */
	/* 01:30 daily; 2026-11-01 falls back 02:00 -> 01:00: once, the first 01:30 (PDT) */
	assert_int_equal(jsched_parse("R/2026-10-31T01:30:00-07:00/P1D", "America/Los_Angeles", 0, &s, err, sizeof(err)), 0);
	assert_string_equal(utc(s.start_ms), "2026-10-31T08:30:00.000Z");
	assert_int_equal(jsched_step(&s), 0);
	assert_string_equal(utc(s.start_ms), "2026-11-01T08:30:00.000Z");
	assert_int_equal(jsched_step(&s), 0);
	assert_string_equal(utc(s.start_ms), "2026-11-02T09:30:00.000Z"); /* 01:30 PST */
	/* the second 01:30 when the start's offset names it */
	assert_int_equal(jsched_parse("R/2026-11-01T01:30:00-08:00/PT1H", "America/Los_Angeles", 0, &s, err, sizeof(err)), 0);
	assert_string_equal(utc(s.start_ms), "2026-11-01T09:30:00.000Z");
	/* hours are elapsed time: PT24H across the spring-forward is 03:30 the next day */
	assert_int_equal(jsched_parse("R/2026-03-07T02:30:00/PT24H", "America/Los_Angeles", 0, &s, err, sizeof(err)), 0);
	assert_int_equal(jsched_step(&s), 0);
	assert_string_equal(fmt(&s, true), "R/2026-03-08T03:30:00.000-07:00/PT24H");
	/* southern hemisphere and a half-hour zone */
	assert_int_equal(jsched_parse("R/2026-04-04T12:00:00Z/P1D", "Australia/Adelaide", 0, &s, err, sizeof(err)), 0);
	assert_string_equal(fmt(&s, true), "R/2026-04-04T12:00:00.000+10:30/P1D");
	assert_int_equal(jsched_step(&s), 0);
	assert_string_equal(fmt(&s, true), "R/2026-04-05T12:00:00.000+09:30/P1D");
	/* a fixed offset keeps it: P1D is 24 h */
	assert_int_equal(jsched_parse("R/2026-03-07T02:30:00-08:00/P1D", NULL, 0, &s, err, sizeof(err)), 0);
	assert_int_equal(jsched_step(&s), 0);
	assert_string_equal(fmt(&s, true), "R/2026-03-08T02:30:00.000-08:00/P1D");
	/* a week in Europe/Berlin across its change (2026-03-29) */
	assert_int_equal(jsched_parse("R/2026-03-23T09:00:00/P1W", "Europe/Berlin", 0, &s, err, sizeof(err)), 0);
	assert_string_equal(utc(s.start_ms), "2026-03-23T08:00:00.000Z");
	assert_int_equal(jsched_step(&s), 0);
	assert_string_equal(utc(s.start_ms), "2026-03-30T07:00:00.000Z");
	/* TZ is put back */
	setenv("TZ", "Asia/Tokyo", 1);
	assert_int_equal(jsched_parse("R/2026-03-23T09:00:00/P1W", "Europe/Berlin", 0, &s, err, sizeof(err)), 0);
	assert_int_equal(jsched_step(&s), 0);
	assert_string_equal(getenv("TZ"), "Asia/Tokyo");
	unsetenv("TZ");
}

static void epsilon_skips(void **state)
{
	(void)state;
	struct jsched s;
	char err[128];
	int64_t t0 = 1767225600000LL; /* 2026-01-01T00:00:00Z */
	assert_int_equal(jsched_parse("R/2026-01-01T00:00:00Z/PT1M", NULL, 0, &s, err, sizeof(err)), 0);
	/* within epsilon: nothing skipped */
	assert_int_equal(jsched_skip_missed(&s, t0 + 30000, 60000, 100), 0);
	/* 10 min 30 s late, epsilon 1 min: runs 0..9 are missed by more than a minute */
	assert_int_equal(jsched_skip_missed(&s, t0 + 630000, 60000, 100), 10);
	assert_string_equal(utc(s.start_ms), "2026-01-01T00:10:00.000Z");
	/* bounded repeats */
	assert_int_equal(jsched_parse("R3/2026-01-01T00:00:00Z/PT1M", NULL, 0, &s, err, sizeof(err)), 0);
	assert_int_equal(jsched_skip_missed(&s, t0 + 3600000, 0, 100), 3);
	assert_int_equal(jsched_left(&s), 0);
	/* a zone's days take the loop, bounded by max_skip */
	assert_int_equal(jsched_parse("R/2026-01-01T00:00:00/P1D", "Europe/Paris", 0, &s, err, sizeof(err)), 0);
	assert_int_equal(jsched_skip_missed(&s, s.start_ms + 40LL * 86400000, 0, 16), 16);
	assert_int_equal(jsched_skip_missed(&s, s.anchor_ms + 40LL * 86400000, 0, 100), 24);
	assert_int_equal(s.n, 40);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_ok),
		cmocka_unit_test(parse_errors),
		cmocka_unit_test(leap_days_and_month_ends),
		cmocka_unit_test(time_zones_dst),
		cmocka_unit_test(epsilon_skips),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
