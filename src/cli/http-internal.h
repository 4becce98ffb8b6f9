/* Shared between http-parse.c and http-client.c; not for the rest of the CLI. */
#pragma once
#include "cli/http-client.h"

/* Parses "[http://]host[:port]" at the start of s into u (prefix left NULL) and points
 * *rest at what follows (path, query, …). Returns 0, -EINVAL or -EPROTONOSUPPORT. */
int http_url_split(const char *s, struct http_url *u, const char **rest);
