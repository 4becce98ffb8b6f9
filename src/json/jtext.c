#include "json/jtext.h"

#include <stdio.h>
#include <string.h>

void jtext_str(struct strbuf *sb, const char *s)
{
	strbuf_addch(sb, '"');
	const unsigned char *p = (const unsigned char *)s, *run = p;
	for (; *p; p++) {
		if (*p != '"' && *p != '\\' && *p >= 0x20)
			continue;
		strbuf_add(sb, run, (size_t)(p - run)); /* the run that needed no escaping */
		if (*p < 0x20) {
			strbuf_addf(sb, "\\u%04x", *p);
		} else {
			strbuf_addch(sb, '\\');
			strbuf_addch(sb, (char)*p);
		}
		run = p + 1;
	}
	strbuf_add(sb, run, (size_t)(p - run));
	strbuf_addch(sb, '"');
}

void jtext_uint(struct strbuf *sb, unsigned long long v)
{
	char buf[24];
	size_t at = sizeof(buf);
	do
		buf[--at] = (char)('0' + v % 10);
	while (v /= 10);
	strbuf_add(sb, buf + at, sizeof(buf) - at);
}

void jtext_real(struct strbuf *sb, double v)
{
	/* Whole numbers below 2^53 (most cpus, mem, disk) are exact either way: "64.0". */
	if (v >= 0 && v < 9007199254740992.0 && v == (double)(unsigned long long)v) {
		jtext_uint(sb, (unsigned long long)v);
		strbuf_add(sb, ".0", 2);
		return;
	}
	char buf[40];
	int n = snprintf(buf, sizeof(buf), "%.17g", v);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = snprintf(buf, sizeof(buf), "0.0"); /* not finite: the caller's bug */
	strbuf_add(sb, buf, (size_t)n);
	if (!strpbrk(buf, ".eE"))
		strbuf_add(sb, ".0", 2);
}
