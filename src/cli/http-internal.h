/* Shared between http-parse.c and http-client.c; not for the rest of the CLI. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/http-client.h"

/* Parses "[http://]host[:port]" at the start of s into u (prefix left NULL) and points
 * *rest at what follows (path, query, …). Returns 0, -EINVAL or -EPROTONOSUPPORT. */
int http_url_split(const char *s, struct http_url *u, const char **rest);

/* A response's status line and the headers the client cares about. */
struct http_head {
	int status;
	bool chunked;
	bool has_length;
	uint64_t length;
	char *location;
	char *content_type;
	size_t size; /* bytes of the head, blank line included: where the body starts */
};

/* Parses the head at the start of buf[0..len). Returns 0 with *h filled (release with
 * http_head_release), -EAGAIN when the blank line has not come yet, -EBADMSG, or -E2BIG
 * past HTTP_CLIENT_MAX_HEADER. */
int http_head_parse(const char *buf, size_t len, struct http_head *h);
void http_head_release(struct http_head *h);
