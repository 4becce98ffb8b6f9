/* Number parsing without atoi (STYLE.md): whole string, range-checked. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Each returns 0, or -EINVAL for junk / trailing bytes, -ERANGE when out of range. */
int parse_u64(const char *s, uint64_t *out);
int parse_i64(const char *s, int64_t *out);
int parse_double(const char *s, double *out);
/* "127.0.0.1:5050" -> host (malloc'd) and port. Returns 0 or -EINVAL. */
int parse_hostport(const char *s, char **host, uint16_t *port);

/* Random v4 UUID, lower-case, 36 chars + NUL. */
void id_uuid4(char out[37]);
/* Time-ordered v7 UUID (48 bits of Unix milliseconds, then random; RFC 9562): ids made later
 * sort later, so records keyed by them are appended, not scattered, in a B-tree. */
void id_uuid7(char out[37]);
/* Fills buf with n random bytes from getrandom(2). */
void id_random(void *buf, size_t n);

bool str_has_prefix(const char *s, const char *prefix);
