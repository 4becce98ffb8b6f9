/* The CLI's event-stream framing: the SSE parser (split feeds, heartbeats, CR/LF/CRLF line
 * ends, oversized events). The chunked framing under it is libcurl's. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/mem.h"
#include "base/strbuf.h"
#include "cli/sse.h"

/* Collects events as "type|data\n". */
static int collect(const char *type, const char *data, size_t len, void *ctx)
{
	struct strbuf *sb = ctx;
	assert_int_equal(strlen(data), len);
	strbuf_addf(sb, "%s|%s\n", type, data);
	return 0;
}

/* Feeds in in pieces of at most step bytes; returns the collected events (malloc'd). */
static char *parse_steps(const char *in, size_t step, size_t max, size_t *skipped)
{
	struct sse_parser p;
	sse_init(&p, max);
	struct strbuf out = STRBUF_INIT;
	size_t n = strlen(in);
	for (size_t i = 0; i < n; i += step) {
		size_t k = n - i < step ? n - i : step;
		assert_int_equal(sse_feed(&p, in + i, k, collect, &out), 0);
	}
	if (skipped)
		*skipped = p.skipped;
	sse_release(&p);
	return strbuf_detach(&out, NULL);
}

/* Every split of in gives want. */
static void check_all_splits(const char *in, const char *want)
{
	size_t n = strlen(in);
	for (size_t step = 1; step <= n; step++) {
		char *got = parse_steps(in, step, 4096, NULL);
		if (strcmp(got, want) != 0)
			fail_msg("step %zu: got '%s', want '%s'", step, got, want);
		free(got);
	}
	/* and two pieces cut anywhere */
	for (size_t cut = 0; cut <= n; cut++) {
		struct sse_parser p;
		sse_init(&p, 4096);
		struct strbuf out = STRBUF_INIT;
		assert_int_equal(sse_feed(&p, in, cut, collect, &out), 0);
		assert_int_equal(sse_feed(&p, in + cut, n - cut, collect, &out), 0);
		if (strcmp(strbuf_str(&out), want) != 0)
			fail_msg("cut %zu: got '%s'", cut, strbuf_str(&out));
		strbuf_release(&out);
		sse_release(&p);
	}
}

static void test_sse_marathon_framing(void **state)
{
	(void)state;
	/* as the master writes it: CRLF, a heartbeat between events */
	check_all_splits("event: event_stream_attached\r\ndata: {\"remoteAddress\":\"1.2.3.4\"}\r\n\r\n"
			 "\r\n"
			 "\r\n"
			 "event: status_update_event\r\ndata: {\"taskStatus\":\"TASK_RUNNING\"}\r\n\r\n",
			 "event_stream_attached|{\"remoteAddress\":\"1.2.3.4\"}\n"
			 "status_update_event|{\"taskStatus\":\"TASK_RUNNING\"}\n");
}

static void test_sse_line_ends_and_fields(void **state)
{
	(void)state;
	/* LF only, CR only, a comment, unknown fields, no space after the colon */
	check_all_splits("event:a\ndata:1\n\n", "a|1\n");
	check_all_splits("event: b\rdata: 2\r\r", "b|2\n");
	check_all_splits(": a comment\r\nid: 7\r\nretry: 100\r\nevent: c\r\ndata: 3\r\n\r\n", "c|3\n");
	/* several data lines join with '\n'; no event line means "message" */
	check_all_splits("data: x\r\ndata: y\r\n\r\n", "message|x\ny\n");
	/* an empty data line still makes an event */
	check_all_splits("event: e\r\ndata\r\n\r\n", "e|\n");
	/* an event line without data is no event; the type does not leak into the next */
	check_all_splits("event: lonely\r\n\r\ndata: z\r\n\r\n", "message|z\n");
	/* only one leading space is removed */
	check_all_splits("data:  two\r\n\r\n", "message| two\n");
	/* nothing but heartbeats */
	check_all_splits("\r\n\r\n\r\n\n\r", "");
	/* an event not yet ended by a blank line is not delivered */
	check_all_splits("event: half\r\ndata: 1\r\n", "");
}

static void test_sse_oversized(void **state)
{
	(void)state;
	struct strbuf in = STRBUF_INIT;
	strbuf_adds(&in, "event: small\r\ndata: 1\r\n\r\n");
	strbuf_adds(&in, "event: big\r\ndata: ");
	for (int i = 0; i < 300; i++)
		strbuf_adds(&in, "0123456789");
	strbuf_adds(&in, "\r\ndata: more\r\n\r\n");
	/* many data lines, each small, together too big */
	strbuf_adds(&in, "event: many\r\n");
	for (int i = 0; i < 200; i++)
		strbuf_adds(&in, "data: 0123456789\r\n");
	strbuf_adds(&in, "\r\n");
	strbuf_adds(&in, "event: after\r\ndata: 2\r\n\r\n");
	for (size_t step = 1; step < 64; step += 7) {
		size_t skipped;
		char *got = parse_steps(strbuf_str(&in), step, 1024, &skipped);
		assert_string_equal(got, "small|1\nafter|2\n");
		assert_int_equal(skipped, 2);
		free(got);
	}
	/* at the limit exactly is fine: type "t" (1) + data (1023) */
	struct strbuf ok = STRBUF_INIT;
	strbuf_adds(&ok, "event: t\r\ndata: ");
	for (int i = 0; i < 1023; i++)
		strbuf_addch(&ok, 'x');
	strbuf_adds(&ok, "\r\n\r\n");
	size_t skipped;
	char *got = parse_steps(strbuf_str(&ok), 100, 1024, &skipped);
	assert_int_equal(skipped, 0);
	assert_int_equal(strlen(got), 2 + 1023 + 1);
	free(got);
	strbuf_release(&ok);
	strbuf_release(&in);
}

static int stop_at_first(const char *type, const char *data, size_t len, void *ctx)
{
	(void)type;
	(void)data;
	(void)len;
	(*(int *)ctx)++;
	return -EIO;
}

static void test_sse_callback_stops(void **state)
{
	(void)state;
	struct sse_parser p;
	sse_init(&p, 0);
	assert_int_equal(p.max, SSE_DEFAULT_MAX_EVENT);
	int calls = 0;
	const char *in = "data: 1\n\ndata: 2\n\n";
	assert_int_equal(sse_feed(&p, in, strlen(in), stop_at_first, &calls), -EIO);
	assert_int_equal(calls, 1);
	assert_int_equal(p.events, 1);
	sse_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sse_marathon_framing),
		cmocka_unit_test(test_sse_line_ends_and_fields),
		cmocka_unit_test(test_sse_oversized),
		cmocka_unit_test(test_sse_callback_stops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
