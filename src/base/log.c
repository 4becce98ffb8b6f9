#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static enum log_level min_level = LOG_INFO;
static int env_checked;

void log_set_level(enum log_level lvl)
{
	min_level = lvl;
	env_checked = 1;
}

enum log_level log_get_level(void)
{
	if (!env_checked) {
		const char *e = getenv("BERTH_LOG");
		if (e && !strcmp(e, "debug"))
			min_level = LOG_DEBUG;
		env_checked = 1;
	}
	return min_level;
}

void log_msg(enum log_level lvl, const char *component, const char *fmt, ...)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	if (!env_checked) {
		const char *e = getenv("BERTH_LOG");
		if (e && !strcmp(e, "debug"))
			min_level = LOG_DEBUG;
		env_checked = 1;
	}
	if (lvl < min_level)
		return;
	char line[2048];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %-8s ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, ts.tv_nsec / 1000000, names[lvl], component);
	va_list ap;
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(line))
		n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	fwrite(line, 1, (size_t)n, stderr);
}
