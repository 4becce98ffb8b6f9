/* Chronos schedules: ISO 8601 repeating intervals "R[n]/<start>/<period>" and the next run.
 *
 * Pure code (libc only): no I/O but reading the time-zone database through localtime_r.
 *
 * What a schedule means (as Chronos, which uses Joda-Time):
 *  - "R" repeats forever, "Rn" n more times (R0: finished). The start is an ISO 8601 date
 *    and time ("2026-01-01T00:00:00Z", "2026-01-01T02:30", "2026-01-01T02:30:00.5+02:00",
 *    "2026-01-01"); an empty start means now. Without an offset the start is UTC.
 *  - The period is P[nY][nM][nW][nD][T[nH][nM][n[.fff]S]] with at least one field, not zero.
 *  - scheduleTimeZone (a tz-database name) overrides the zone of the start and keeps its
 *    wall-clock fields: "R/2026-03-08T02:30:00Z/P1D" with "America/Los_Angeles" runs at 02:30
 *    Los Angeles time.
 *  - Run k (from 0) is the start plus k periods: years, months, weeks and days on the wall
 *    clock of the zone (as Joda-Time adds them: a month from Jan 31 is Feb 28 or 29, a year
 *    from Feb 29 is Feb 28; the day after is the same wall-clock time, whatever DST did in
 *    between), then hours, minutes and seconds as elapsed time (PT24H is exactly 86,400 s).
 *    Unlike Chronos, which adds one period to the previous run, run k is counted from the
 *    start: a monthly job from Jan 31 runs on Feb 28, Mar 31, Apr 30 (Chronos: Mar 28, Apr
 *    28), and a daily 02:30 job moved to 03:30 by a spring-forward is back at 02:30 the next
 *    day (Chronos stays at 03:30).
 *  - A wall-clock time that does not exist (02:30 on the day clocks spring forward from 02:00
 *    to 03:00) is moved forward by the gap (03:30); one that exists twice (01:30 on the day
 *    clocks fall back) is the first of the two, unless the start's own offset names the
 *    second; a run moved by the period's date part takes the first. So a daily 02:30 job runs
 *    once on both days, never twice nor zero times.
 * The schedule is shown rewritten after every run (as Chronos does): "R9/<next run>/<period>";
 * what is kept is the start (the anchor) and the number of runs passed. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSCHED_MAX_TEXT 256
#define JSCHED_MAX_TZ 64

struct jsched_period {
	int64_t years, months, weeks, days; /* on the wall clock */
	int64_t msec;                       /* hours, minutes, seconds: elapsed time */
};

struct jsched {
	int64_t repeats;                 /* runs in all from the anchor; -1 forever */
	int64_t anchor_ms;               /* the start, epoch milliseconds */
	int64_t n;                       /* runs passed (run or skipped) */
	int64_t start_ms;                /* the next run: the anchor plus n periods */
	struct jsched_period period;
	char period_text[64];            /* as given (validated) */
	char tz[JSCHED_MAX_TZ];          /* a tz-database name, or "" for a fixed offset */
	int32_t offset_sec;              /* the fixed offset when tz is "" */
};

/* Parses text (a schedule as above). tz: scheduleTimeZone, or NULL / "" for none. now_ms:
 * what an empty start means. Returns 0, or -EINVAL with a message in err (what is wrong,
 * without the schedule itself). Rejects a start before 1970 or after 9999, an unknown zone,
 * a zero or negative period. */
int jsched_parse(const char *text, const char *tz, int64_t now_ms, struct jsched *out,
		 char *err, size_t errlen);

/* Parses an ISO 8601 period (the third part of a schedule; also Chronos 2.x's epsilon). 0 or
 * -EINVAL. */
int jsched_period_parse(const char *text, struct jsched_period *out);

/* Run k of s (the anchor plus k periods, in s's zone). -ERANGE past year 9999. */
int jsched_run_at(const struct jsched *s, int64_t k, int64_t *out_ms);

/* Runs left: -1 forever, 0 finished. */
int64_t jsched_left(const struct jsched *s);

/* Sets the number of runs passed (restoring a schedule from the store). 0, -ERANGE when run
 * n is past year 9999 (the schedule is then finished: n = repeats, or left as it was). */
int jsched_set_index(struct jsched *s, int64_t n);

/* The run after the current one. 0, -ENOENT when no run was left, -ERANGE past year 9999 (the
 * schedule is then finished). */
int jsched_step(struct jsched *s);

/* Skips the runs due more than epsilon_ms before now_ms (Chronos 2.x's epsilon): steps s until
 * its start is no longer missed or no repeat is left. Returns how many runs were skipped; at
 * most max_skip (a bound for periods that take a loop, e.g. months in a zone), so a caller
 * calls again while the result equals max_skip. */
int64_t jsched_skip_missed(struct jsched *s, int64_t now_ms, int64_t epsilon_ms,
			   int64_t max_skip);

/* Writes s as a schedule into buf: with current, what is left ("R9/<next run>/P1D"), else the
 * anchor ("R10/<start>/P1D"); the time in its zone with milliseconds, "Z" for a zero offset,
 * "R" alone for forever. Returns the length, or -E2BIG when it does not fit. */
int jsched_format(const struct jsched *s, bool current, char *buf, size_t len);

/* Writes t_ms as ISO 8601 UTC with milliseconds ("2026-01-01T00:00:00.000Z"); buf holds 32. */
char *jsched_iso_utc(int64_t t_ms, char *buf);

/* Whether name is a tz-database zone present on this machine. */
bool jsched_tz_valid(const char *name);
