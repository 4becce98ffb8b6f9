/* The request-header parsers of http-cond.c, for its fuzz target. */
#pragma once

#include <stdbool.h>

/* Does the If-None-Match value inm hold "*", tag (quotes included), its -gz form, or either
 * weak (W/)? inm may be any bytes. */
bool http_inm_matches(const char *inm, const char *tag);
/* Does the Accept-Encoding value ae (NULL: absent) accept gzip (listed, not with q=0)? */
bool http_accepts_gzip(const char *ae);
