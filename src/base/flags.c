#include "base/flags.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/util.h"

int flag_hostport(const char *cmd, const char *flag, const char *arg, char **host,
		  uint16_t *port)
{
	char *h = NULL;
	if (parse_hostport(arg, &h, port) < 0) {
		fprintf(stderr, "berth %s: --%s '%s': expected ADDR:PORT\n", cmd, flag, arg);
		return -EINVAL;
	}
	free(*host);
	*host = h;
	return 0;
}

int flag_seconds(const char *cmd, const char *flag, const char *arg, double max, double *out)
{
	double v;
	if (parse_double(arg, &v) < 0 || !(v > 0) || v > max) {
		fprintf(stderr, "berth %s: --%s '%s': expected seconds > 0 and at most %g\n", cmd,
			flag, arg, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}
