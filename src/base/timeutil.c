#include "base/timeutil.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static uint64_t ts_usec(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t time_mono_usec(void)
{
	return ts_usec(CLOCK_MONOTONIC);
}

uint64_t time_real_usec(void)
{
	return ts_usec(CLOCK_REALTIME);
}

char *time_iso8601(uint64_t real_usec, char *buf)
{
	time_t sec = (time_t)(real_usec / 1000000u);
	struct tm tm;
	gmtime_r(&sec, &tm);
	snprintf(buf, 32, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
		 (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)(tm.tm_mon + 1) % 100u,
		 (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
		 (unsigned)tm.tm_sec % 100u, (unsigned)((real_usec / 1000u) % 1000u));
	return buf;
}

int time_parse_iso8601(const char *s, uint64_t *real_usec)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	unsigned ms = 0;
	int n = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return -EINVAL;
	s += n;
	if (*s == '.') {
		unsigned scale = 100;
		for (s++; *s >= '0' && *s <= '9'; s++) {
			ms += (unsigned)(*s - '0') * scale;
			scale /= 10;
		}
	}
	if (strcmp(s, "Z") && *s)
		return -EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*real_usec = (uint64_t)t * 1000000u + ms * 1000u;
	return 0;
}
