/* Values of the daemons' command-line flags (berth master / agent / dev): parsed, checked,
 * and on a bad value one message on stderr naming the command and the flag. */
#pragma once
#include <stdint.h>

/* An ADDR:PORT flag: replaces *host (the previous value is freed; the caller frees the last)
 * and *port. Returns 0, or -EINVAL after printing "berth CMD: --FLAG 'ARG': expected ADDR:PORT". */
int flag_hostport(const char *cmd, const char *flag, const char *arg, char **host,
		  uint16_t *port);
/* A number of seconds in (0, max]. Returns 0, or -EINVAL after printing the message. */
int flag_seconds(const char *cmd, const char *flag, const char *arg, double max, double *out);
