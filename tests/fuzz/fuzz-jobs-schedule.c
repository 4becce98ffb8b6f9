/* Fuzz target: Chronos schedules (src/jobs/schedule.c). The first line is the schedule, a
 * second line (if any) the scheduleTimeZone; a parsed schedule is formatted, re-parsed to the
 * same instant, stepped and skipped forward without leaving its bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jobs/schedule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1024)
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	char *tz = strchr(text, '\n');
	if (tz)
		*tz++ = '\0';
	struct jsched s, t;
	char err[256], buf[512];
	if (jsched_parse(text, tz, 1767225600000LL, &s, err, sizeof(err)) == 0) {
		if (jsched_format(&s, true, buf, sizeof(buf)) < 0)
			abort();
		if (jsched_parse(buf, tz, 0, &t, err, sizeof(err)) != 0 || t.start_ms != s.start_ms ||
		    t.repeats != s.repeats)
			abort();
		int64_t prev = s.start_ms;
		for (int i = 0; i < 4 && jsched_step(&s) == 0; i++) {
			if (s.start_ms <= prev)
				abort();
			prev = s.start_ms;
		}
		jsched_skip_missed(&s, s.start_ms + 86400000LL * 400, 1000, 64);
		if (jsched_left(&s) < -1)
			abort();
	} else if (!err[0]) {
		abort();
	}
	free(text);
	return 0;
}
