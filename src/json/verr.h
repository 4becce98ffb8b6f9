/* Validation errors with JSON paths, in Marathon's shape:
 *   {"message":"Object is not valid","details":[{"path":"/cpus","errors":["..."]}]}
 * Validators add every problem they find; the API layer turns a non-empty verr into 422. */
#pragma once
#include <jansson.h>
#include <stdbool.h>

struct verr {
	json_t *details; /* array of {"path","errors":[...]}, NULL until the first error */
};

#define VERR_INIT { NULL }

void verr_init(struct verr *e);
void verr_release(struct verr *e);
/* Adds message (printf format) under path; errors at one path are grouped. */
void verr_add(struct verr *e, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool verr_any(const struct verr *e);
/* The response body {"message":"Object is not valid","details":[...]} (new reference). */
json_t *verr_body(const struct verr *e);
/* The first message, for logs and CLI ("'/cpus': is less than 0.001"); static buffer. */
const char *verr_first(const struct verr *e);
