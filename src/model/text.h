/* Small text helpers shared by the model's parsers (resources, attributes). */
#pragma once
#include <stddef.h>

/* Formats a message into err (if any) and returns -EINVAL: `return text_fail(err, …);`. */
int text_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* [b, e) without surrounding whitespace, as a new string. */
char *text_trim_dup(const char *b, const char *e);
