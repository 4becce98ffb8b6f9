/* Chronos schedules (schedule.h). Zone arithmetic goes through localtime_r with TZ set for
 * the call and put back after: the master's event loop is one thread, and nothing else of it
 * reads TZ. Offsets come from tm_gmtoff, so any zone the database knows works, DST or not. */
#include "jobs/schedule.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MIN_SEC 0LL                 /* 1970-01-01T00:00:00Z */
#define MAX_SEC 253402300799LL      /* 9999-12-31T23:59:59Z */

static void seterr(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t len, const char *fmt, ...)
{
	if (!err || !len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

bool jsched_tz_valid(const char *name)
{
	if (!name || !*name || strlen(name) >= JSCHED_MAX_TZ || name[0] == '/' ||
	    strstr(name, ".."))
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("/_-+", *p))
			return false;
	const char *dir = getenv("TZDIR");
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
	return access(path, R_OK) == 0;
}

/* ---- the zone: TZ set around each conversion ---- */

struct tz_guard {
	char *old;
	bool had;
};

static void tz_enter(struct tz_guard *g, const char *tz)
{
	const char *o = getenv("TZ");
	g->had = o != NULL;
	g->old = o ? strdup(o) : NULL;
	setenv("TZ", tz, 1);
	tzset();
}

static void tz_leave(struct tz_guard *g)
{
	if (g->had && g->old)
		setenv("TZ", g->old, 1);
	else
		unsetenv("TZ");
	tzset();
	free(g->old);
	g->old = NULL;
}

/* Wall-clock fields of an instant in the zone of s; the offset in *off. */
static void to_local(const struct jsched *s, int64_t sec, struct tm *tm, int32_t *off)
{
	time_t t = (time_t)sec;
	if (!s->tz[0]) {
		t += s->offset_sec;
		gmtime_r(&t, tm);
		*off = s->offset_sec;
		return;
	}
	struct tz_guard g;
	tz_enter(&g, s->tz);
	localtime_r(&t, tm);
	*off = (int32_t)tm->tm_gmtoff;
	tz_leave(&g);
}

static int32_t offset_at(int64_t sec)
{
	time_t t = (time_t)sec;
	struct tm tm;
	localtime_r(&t, &tm);
	return (int32_t)tm.tm_gmtoff;
}

/* The instant of wall-clock fields tm in the zone of s. When they exist twice, the one with
 * offset prefer if there is one, else the first; when they do not exist, moved on by the gap. */
static int64_t from_local(const struct jsched *s, struct tm *tm, int32_t prefer)
{
	struct tm c = *tm;
	int64_t local = (int64_t)timegm(&c); /* the fields read as UTC */
	if (!s->tz[0])
		return local - s->offset_sec;
	struct tz_guard g;
	tz_enter(&g, s->tz);
	/* The offsets in force a day either side: a zone changes offset at most once a day. */
	int32_t before = offset_at(local - 86400), after = offset_at(local + 86400);
	int64_t t0 = local - before, t1 = local - after, best;
	bool v0 = offset_at(t0) == before, v1 = offset_at(t1) == after;
	if (v0 && v1 && before != after) /* exists twice */
		best = prefer == after ? t1 : prefer == before ? t0 : (t0 < t1 ? t0 : t1);
	else if (v0)
		best = t0;
	else if (v1)
		best = t1;
	else /* a gap: read with the offset before it, which lands after it */
		best = local - before;
	tz_leave(&g);
	return best;
}

/* ---- parsing ---- */

/* Reads exactly n digits. */
static bool digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static int days_in_month(int y, int m /* 1..12 */)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

/* An ISO 8601 date-time: YYYY-MM-DD[Thh[:mm[:ss[.f+]]]][Z|±hh[:mm]|±hhmm]. Fills the fields,
 * the milliseconds, and the offset when one was given. */
static int parse_datetime(const char *p, struct tm *tm, int *ms, bool *has_off, int32_t *off,
			  char *err, size_t errlen)
{
	int y, mo, d, h = 0, mi = 0, se = 0;
	*ms = 0;
	*has_off = false;
	*off = 0;
	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
	    !digits(&p, 2, &d)) {
		seterr(err, errlen, "the start is not an ISO 8601 date (YYYY-MM-DD)");
		return -EINVAL;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) {
		seterr(err, errlen, "the start's date %04d-%02d-%02d does not exist", y, mo, d);
		return -EINVAL;
	}
	if (*p == 'T') {
		p++;
		if (!digits(&p, 2, &h)) {
			seterr(err, errlen, "the start's time is not hh[:mm[:ss]]");
			return -EINVAL;
		}
		if (*p == ':') {
			p++;
			if (!digits(&p, 2, &mi)) {
				seterr(err, errlen, "the start's minutes are not two digits");
				return -EINVAL;
			}
			if (*p == ':') {
				p++;
				if (!digits(&p, 2, &se)) {
					seterr(err, errlen, "the start's seconds are not two digits");
					return -EINVAL;
				}
				if (*p == '.' || *p == ',') {
					p++;
					if (!isdigit((unsigned char)*p)) {
						seterr(err, errlen, "the start's fraction has no digits");
						return -EINVAL;
					}
					int scale = 100;
					for (int i = 0; isdigit((unsigned char)*p); i++, p++) {
						if (i < 3)
							*ms += (*p - '0') * scale;
						scale /= 10;
						if (i > 9) {
							seterr(err, errlen, "the start's fraction is too long");
							return -EINVAL;
						}
					}
				}
			}
		}
		if (h > 23 || mi > 59 || se > 59) {
			seterr(err, errlen, "the start's time %02d:%02d:%02d does not exist", h, mi,
			       se);
			return -EINVAL;
		}
	}
	if (*p == 'Z') {
		p++;
		*has_off = true;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
		if (!digits(&p, 2, &oh)) {
			seterr(err, errlen, "the start's offset is not ±hh[:mm]");
			return -EINVAL;
		}
		if (*p == ':')
			p++;
		if (isdigit((unsigned char)*p) && !digits(&p, 2, &om)) {
			seterr(err, errlen, "the start's offset is not ±hh[:mm]");
			return -EINVAL;
		}
		if (oh > 18 || om > 59) {
			seterr(err, errlen, "the start's offset is out of range");
			return -EINVAL;
		}
		*has_off = true;
		*off = sign * (oh * 3600 + om * 60);
	}
	if (*p) {
		seterr(err, errlen, "unexpected '%.16s' in the start", p);
		return -EINVAL;
	}
	memset(tm, 0, sizeof(*tm));
	tm->tm_year = y - 1900;
	tm->tm_mon = mo - 1;
	tm->tm_mday = d;
	tm->tm_hour = h;
	tm->tm_min = mi;
	tm->tm_sec = se;
	return 0;
}

/* A non-negative integer of at most 9 digits, or a decimal for seconds (milliseconds kept). */
static bool period_number(const char **p, bool frac, int64_t *whole, int64_t *milli)
{
	const char *s = *p;
	int64_t v = 0;
	int n = 0;
	while (isdigit((unsigned char)*s)) {
		if (++n > 9)
			return false;
		v = v * 10 + (*s++ - '0');
	}
	*milli = 0;
	if (frac && (*s == '.' || *s == ',') && n) {
		s++;
		int scale = 100, k = 0;
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s)) {
			if (++k > 9)
				return false;
			*milli += (*s++ - '0') * scale;
			scale /= 10;
		}
	}
	if (!n)
		return false;
	*whole = v;
	*p = s;
	return true;
}

int jsched_period_parse(const char *text, struct jsched_period *out)
{
	memset(out, 0, sizeof(*out));
	const char *p = text;
	if (*p++ != 'P')
		return -EINVAL;
	bool any = false, time = false, nonzero = false;
	const char *date_units = "YMWD", *time_units = "HMS";
	const char *next = date_units;
	while (*p) {
		if (*p == 'T') {
			if (time)
				return -EINVAL;
			time = true;
			next = time_units;
			p++;
			if (!*p)
				return -EINVAL;
			continue;
		}
		int64_t v, milli;
		if (!period_number(&p, time, &v, &milli))
			return -EINVAL;
		const char *u = strchr(next, *p);
		if (!*p || !u)
			return -EINVAL;
		if (milli && *p != 'S')
			return -EINVAL;
		next = u + 1; /* units in order, each once */
		if (v || milli)
			nonzero = true;
		if (!time) {
			switch (*p) {
			case 'Y': out->years = v; break;
			case 'M': out->months = v; break;
			case 'W': out->weeks = v; break;
			default: out->days = v; break;
			}
		} else {
			switch (*p) {
			case 'H': out->msec += v * 3600000; break;
			case 'M': out->msec += v * 60000; break;
			default: out->msec += v * 1000 + milli; break;
			}
		}
		any = true;
		p++;
	}
	if (!any || !nonzero)
		return -EINVAL;
	return 0;
}

int jsched_parse(const char *text, const char *tz, int64_t now_ms, struct jsched *out,
		 char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!text || strlen(text) >= JSCHED_MAX_TEXT) {
		seterr(err, errlen, "a schedule is at most %d bytes", JSCHED_MAX_TEXT - 1);
		return -EINVAL;
	}
	const char *s1 = strchr(text, '/');
	const char *s2 = s1 ? strrchr(text, '/') : NULL;
	if (!s1 || s1 == s2 || text[0] != 'R') {
		seterr(err, errlen, "a schedule is R[n]/<start>/<period>");
		return -EINVAL;
	}
	/* repeats */
	out->repeats = -1;
	if (s1 > text + 1) {
		int64_t v = 0;
		for (const char *p = text + 1; p < s1; p++) {
			if (!isdigit((unsigned char)*p) || p - text > 18) {
				seterr(err, errlen, "the repetitions after R are not a number");
				return -EINVAL;
			}
			v = v * 10 + (*p - '0');
		}
		out->repeats = v;
	}
	/* period */
	const char *per = s2 + 1;
	if (strlen(per) >= sizeof(out->period_text) ||
	    jsched_period_parse(per, &out->period) < 0) {
		seterr(err, errlen, "'%.64s' is not an ISO 8601 period of more than zero", per);
		return -EINVAL;
	}
	snprintf(out->period_text, sizeof(out->period_text), "%s", per);
	/* zone */
	if (tz && *tz) {
		if (!jsched_tz_valid(tz)) {
			seterr(err, errlen, "unknown scheduleTimeZone '%.64s'", tz);
			return -EINVAL;
		}
		snprintf(out->tz, sizeof(out->tz), "%s", tz);
	}
	/* start */
	char start[JSCHED_MAX_TEXT];
	size_t sl = (size_t)(s2 - s1 - 1);
	memcpy(start, s1 + 1, sl);
	start[sl] = '\0';
	if (!sl) {
		out->anchor_ms = out->start_ms = now_ms;
		return 0;
	}
	struct tm tm;
	int ms;
	bool has_off;
	int32_t off;
	int r = parse_datetime(start, &tm, &ms, &has_off, &off, err, errlen);
	if (r < 0)
		return r;
	int64_t sec;
	if (out->tz[0]) {
		sec = from_local(out, &tm, has_off ? off : INT32_MIN);
	} else {
		out->offset_sec = off;
		sec = from_local(out, &tm, off);
	}
	if (sec < MIN_SEC || sec > MAX_SEC) {
		seterr(err, errlen, "the start is before 1970 or after 9999");
		return -EINVAL;
	}
	out->anchor_ms = out->start_ms = sec * 1000 + ms;
	return 0;
}

/* ---- the next run ---- */

int jsched_run_at(const struct jsched *s, int64_t k, int64_t *out_ms)
{
	const struct jsched_period *p = &s->period;
	int64_t t_ms = s->anchor_ms;
	int64_t sec = t_ms >= 0 ? t_ms / 1000 : (t_ms - 999) / 1000;
	int64_t ms = t_ms - sec * 1000;
	if (k < 0 || k > 4000000000LL)
		return -ERANGE;
	if (k && (p->years || p->months || p->weeks || p->days)) {
		if (p->years > 10000 || p->months > 120000 || p->weeks > 600000 ||
		    p->days > 4000000)
			return -ERANGE;
		struct tm tm;
		int32_t off;
		to_local(s, sec, &tm, &off);
		int64_t mon = (int64_t)tm.tm_year * 12 + tm.tm_mon + (p->years * 12 + p->months) * k;
		if (mon > (9999 - 1900) * 12 + 11)
			return -ERANGE;
		tm.tm_year = (int)(mon / 12);
		tm.tm_mon = (int)(mon % 12);
		int dim = days_in_month(tm.tm_year + 1900, tm.tm_mon + 1);
		if (tm.tm_mday > dim)
			tm.tm_mday = dim;
		int64_t days = (p->weeks * 7 + p->days) * k;
		if (days > 3660000)
			return -ERANGE;
		tm.tm_mday += (int)days; /* timegm normalises */
		tm.tm_isdst = 0;
		sec = from_local(s, &tm, INT32_MIN);
	}
	if (p->msec && k > (MAX_SEC * 1000 - sec * 1000) / p->msec)
		return -ERANGE;
	int64_t r = sec * 1000 + ms + p->msec * k;
	if (r / 1000 > MAX_SEC)
		return -ERANGE;
	*out_ms = r;
	return 0;
}

int64_t jsched_left(const struct jsched *s)
{
	return s->repeats < 0 ? -1 : s->repeats - s->n;
}

int jsched_set_index(struct jsched *s, int64_t n)
{
	if (n < 0 || (s->repeats >= 0 && n > s->repeats))
		return -ERANGE;
	int64_t t;
	int r = jsched_run_at(s, n, &t);
	if (r < 0) {
		if (s->repeats >= 0)
			s->n = s->repeats;
		return r;
	}
	s->n = n;
	s->start_ms = t;
	return 0;
}

int jsched_step(struct jsched *s)
{
	if (jsched_left(s) == 0)
		return -ENOENT;
	int r = jsched_set_index(s, s->n + 1);
	if (r < 0 && s->repeats < 0)
		s->repeats = s->n; /* nothing past 9999: finished */
	return r;
}

/* Whether a period is a fixed number of milliseconds in s's zone. */
static int64_t fixed_ms(const struct jsched *s)
{
	const struct jsched_period *p = &s->period;
	if (p->years || p->months)
		return 0;
	if ((p->weeks || p->days) && s->tz[0])
		return 0;
	return (p->weeks * 7 + p->days) * 86400000LL + p->msec;
}

int64_t jsched_skip_missed(struct jsched *s, int64_t now_ms, int64_t epsilon_ms,
			   int64_t max_skip)
{
	if (jsched_left(s) == 0 || s->start_ms + epsilon_ms >= now_ms)
		return 0;
	int64_t f = fixed_ms(s), n0 = s->n;
	if (f > 0) {
		/* the first run k with anchor + k·f + epsilon >= now, at once */
		int64_t k = (now_ms - epsilon_ms - s->anchor_ms + f - 1) / f;
		if (s->repeats >= 0 && k > s->repeats)
			k = s->repeats;
		if (jsched_set_index(s, k) < 0 && s->repeats < 0)
			s->repeats = s->n;
		return s->n - n0;
	}
	int64_t skipped = 0;
	while (skipped < max_skip && jsched_left(s) != 0 && s->start_ms + epsilon_ms < now_ms) {
		skipped++;
		if (jsched_step(s) < 0)
			break;
	}
	return skipped;
}

/* ---- formatting ---- */

char *jsched_iso_utc(int64_t t_ms, char *buf)
{
	int64_t sec = t_ms >= 0 ? t_ms / 1000 : (t_ms - 999) / 1000;
	time_t t = (time_t)sec;
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(buf, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (tm.tm_year + 1900) % 10000,
		 (tm.tm_mon + 1) % 100, tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
		 tm.tm_sec % 100, (int)(t_ms - sec * 1000) % 1000);
	return buf;
}

int jsched_format(const struct jsched *s, bool current, char *buf, size_t len)
{
	int64_t at = current ? s->start_ms : s->anchor_ms;
	int64_t left = current ? jsched_left(s) : s->repeats;
	int64_t sec = at >= 0 ? at / 1000 : (at - 999) / 1000;
	struct tm tm;
	int32_t off;
	to_local(s, sec, &tm, &off);
	char rep[24] = "";
	if (left >= 0)
		snprintf(rep, sizeof(rep), "%" PRId64, left);
	char zone[16] = "Z";
	if (off) {
		int a = (int)(off < 0 ? -off : off) % 86400;
		snprintf(zone, sizeof(zone), "%c%02d:%02d", off < 0 ? '-' : '+', a / 3600 % 100,
			 a / 60 % 60);
	}
	int n = snprintf(buf, len, "R%s/%04d-%02d-%02dT%02d:%02d:%02d.%03d%s/%s", rep,
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, (int)(at - sec * 1000), zone, s->period_text);
	if (n < 0 || (size_t)n >= len)
		return -E2BIG;
	return n;
}
