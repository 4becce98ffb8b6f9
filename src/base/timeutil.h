/* Times are uint64_t microseconds: monotonic for timers, realtime for what people read. */
#pragma once
#include <stdint.h>

uint64_t time_mono_usec(void);
uint64_t time_real_usec(void);
/* Formats realtime usec as ISO-8601 UTC with milliseconds, "2015-08-26T20:23:39.463Z".
 * buf must hold 32 bytes. Returns buf. */
char *time_iso8601(uint64_t real_usec, char *buf);
/* Parses the form above (milliseconds optional). Returns 0 or -EINVAL. */
int time_parse_iso8601(const char *s, uint64_t *real_usec);
