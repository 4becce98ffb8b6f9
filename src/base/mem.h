/* Small allocations that abort on out-of-memory (STYLE.md: sizes set by input are capped
 * and checked by the caller before they get here). */
#pragma once
#include <stddef.h>
#include <stdlib.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a fresh heap string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline void freep(void *p) { free(*(void **)p); }
#define _cleanup_free_ __attribute__((cleanup(freep)))
/* Hand a _cleanup_ pointer over to someone else. */
#define TAKE_PTR(p) ({ __typeof__(p) _tp = (p); (p) = NULL; _tp; })
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
