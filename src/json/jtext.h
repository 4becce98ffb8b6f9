/* JSON written straight as text into a strbuf, for the records and events the master writes
 * by the thousand (offers, task records), where building a jansson tree first costs more
 * than the rest of the work. The output reads back with jansson as the same values. */
#pragma once
#include "base/strbuf.h"

/* s (valid UTF-8, as every string that came out of parsed JSON is) as a JSON string:
 * '"' and '\' escaped, control characters as \u00XX, the rest copied as it is. */
void jtext_str(struct strbuf *sb, const char *s);
/* v in decimal. */
void jtext_uint(struct strbuf *sb, unsigned long long v);
/* A finite real as jansson writes it: 17 significant digits (it reads back as the same
 * double), always with a '.' or an exponent so that it reads back as a real. */
void jtext_real(struct strbuf *sb, double v);
