/* A Server-Sent Events parser (the text/event-stream format), fed bytes as they arrive.
 *
 * Lines end in CRLF, LF or CR (a CRLF split across two feeds counts once). "event: T" sets
 * the event's type, "data: D" adds a data line (several are joined with '\n'), a line that
 * starts with ':' is a comment, other fields ("id", "retry") are ignored. A blank line ends
 * the event: it is handed to the callback if it had data, so a bare "\r\n" heartbeat is no
 * event. One event (type plus data) may hold at most max bytes; a larger one is skipped
 * whole and counted in `skipped`. Pure: no I/O. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "base/strbuf.h"

#define SSE_DEFAULT_MAX_EVENT (1024u * 1024u)

/* Called for each complete event: type ("message" when the event had none) and data
 * (NUL-terminated, len bytes). A nonzero return stops sse_feed, which returns it. */
typedef int (*sse_event_fn)(const char *type, const char *data, size_t len, void *ctx);

struct sse_parser {
	size_t max;        /* bytes one event may hold */
	struct strbuf line; /* the line being read */
	struct strbuf type;
	struct strbuf data;
	bool has_data;     /* a data line was seen (even an empty one) */
	bool after_cr;     /* the last byte was a CR: a following LF ends nothing */
	bool line_any;     /* the current line has bytes (kept or, when skipping, not) */
	bool skipping;     /* the current event passed max: drop it through its blank line */
	size_t skipped;    /* events dropped for their size */
	size_t events;     /* events handed to the callback */
};

void sse_init(struct sse_parser *p, size_t max_event);
void sse_release(struct sse_parser *p);
/* Parses buf[0..n). Returns 0, or the callback's nonzero value (the rest of buf is then
 * not read). */
int sse_feed(struct sse_parser *p, const char *buf, size_t n, sse_event_fn fn, void *ctx);
