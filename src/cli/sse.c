/* Server-Sent Events framing for `berth events`; see sse.h. Every byte here comes from the
 * network, so the line and the event are bounded by p->max. */
#include "cli/sse.h"

#include <string.h>

#define FIELD_SLACK 16 /* a line's "data: " or "event: " before its value */

static void sb_clear(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

void sse_init(struct sse_parser *p, size_t max_event)
{
	memset(p, 0, sizeof(*p));
	p->max = max_event ? max_event : SSE_DEFAULT_MAX_EVENT;
}

void sse_release(struct sse_parser *p)
{
	strbuf_release(&p->line);
	strbuf_release(&p->type);
	strbuf_release(&p->data);
}

static void event_reset(struct sse_parser *p)
{
	sb_clear(&p->type);
	sb_clear(&p->data);
	p->has_data = false;
	p->skipping = false;
}

/* Too big: forget what the event holds and skip to its blank line. */
static void event_skip(struct sse_parser *p)
{
	if (!p->skipping)
		p->skipped++;
	event_reset(p);
	sb_clear(&p->line);
	p->skipping = true;
}

/* One complete line (without its end). Returns the callback's value for a blank line. */
static int line_done(struct sse_parser *p, sse_event_fn fn, void *ctx)
{
	const char *l = strbuf_str(&p->line);
	size_t n = p->line.len;
	if (!p->line_any) {
		int r = 0;
		if (!p->skipping && p->has_data) {
			p->events++;
			r = fn(p->type.len ? strbuf_str(&p->type) : "message", strbuf_str(&p->data),
			       p->data.len, ctx);
		}
		event_reset(p);
		return r;
	}
	if (p->skipping || l[0] == ':')
		return 0;
	const char *colon = memchr(l, ':', n);
	size_t flen = colon ? (size_t)(colon - l) : n;
	const char *v = colon ? colon + 1 : l + n;
	size_t vlen = (size_t)(l + n - v);
	if (vlen > 0 && v[0] == ' ') {
		v++;
		vlen--;
	}
	if (flen == 5 && memcmp(l, "event", 5) == 0) {
		sb_clear(&p->type);
		strbuf_add(&p->type, v, vlen);
	} else if (flen == 4 && memcmp(l, "data", 4) == 0) {
		if (p->has_data)
			strbuf_addch(&p->data, '\n');
		strbuf_add(&p->data, v, vlen);
		p->has_data = true;
	}
	if (p->type.len + p->data.len > p->max)
		event_skip(p);
	return 0;
}

int sse_feed(struct sse_parser *p, const char *buf, size_t n, sse_event_fn fn, void *ctx)
{
	size_t i = 0;
	while (i < n) {
		char ch = buf[i];
		if (ch == '\n' && p->after_cr) {
			/* the LF of a CRLF whose CR ended the line already */
			p->after_cr = false;
			i++;
			continue;
		}
		p->after_cr = false;
		if (ch == '\r' || ch == '\n') {
			p->after_cr = ch == '\r';
			i++;
			int r = line_done(p, fn, ctx);
			sb_clear(&p->line);
			p->line_any = false;
			if (r)
				return r;
			continue;
		}
		/* the rest of this line in one go */
		size_t end = i;
		p->line_any = true;
		while (end < n && buf[end] != '\r' && buf[end] != '\n')
			end++;
		if (!p->skipping) {
			/* the line still holds its field name: allow for "event: " */
			if (p->line.len + (end - i) + p->type.len + p->data.len >
			    p->max + FIELD_SLACK)
				event_skip(p);
			else
				strbuf_add(&p->line, buf + i, end - i);
		}
		i = end;
	}
	return 0;
}
