/* A growable string with a hard maximum (git's strbuf, with curl's cap). */
#pragma once
#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char *buf;     /* always NUL-terminated once anything was added; NULL before */
	size_t len;
	size_t alloc;
};

#define STRBUF_INIT { NULL, 0, 0 }

void strbuf_init(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);
/* Empties sb, keeping its buffer for what is added next. */
void strbuf_reset(struct strbuf *sb);
void strbuf_add(struct strbuf *sb, const void *data, size_t n);
void strbuf_adds(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
/* Returns the buffer (taken by the caller; "" if empty) and resets sb. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
/* Returns a NUL-terminated view ("" if empty); sb keeps ownership. */
const char *strbuf_str(const struct strbuf *sb);
