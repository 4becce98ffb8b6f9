/* Standard base64 (RFC 4648 §4), for HTTP Basic credentials. */
#pragma once
#include <stddef.h>

/* The base64 of len bytes of data, padded, NUL-terminated (malloc'd, taken by the caller). */
char *b64_encode(const void *data, size_t len);
/* "Basic base64(principal:secret)" (malloc'd, taken by the caller). */
char *b64_basic_auth(const char *principal, const char *secret);
