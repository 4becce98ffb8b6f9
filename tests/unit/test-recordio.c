/* RecordIO encoder and decoder: framing, split input, limits. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "base/strbuf.h"
#include "net/recordio.h"

struct collected {
	char recs[16][64];
	size_t n;
	int stop_after; /* return 1 once this many were seen (0 = never) */
};

static int collect(const char *data, size_t len, void *ctx)
{
	struct collected *c = ctx;
	assert_true(len < sizeof(c->recs[0]));
	assert_true(c->n < 16);
	memcpy(c->recs[c->n], data, len);
	c->recs[c->n][len] = '\0';
	c->n++;
	return c->stop_after && (int)c->n >= c->stop_after ? 1 : 0;
}

static void test_encode(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	recordio_encode_strbuf(&sb, "{\"type\":\"HEARTBEAT\"}", 20);
	assert_string_equal(strbuf_str(&sb), "20\n{\"type\":\"HEARTBEAT\"}");
	strbuf_release(&sb);

	struct evbuffer *eb = evbuffer_new();
	assert_int_equal(recordio_encode_evbuffer(eb, "", 0), -EINVAL);
	json_t *j = json_pack("{s:s}", "type", "HEARTBEAT");
	assert_int_equal(recordio_encode_json(eb, j), 0);
	size_t n = evbuffer_get_length(eb);
	char out[64] = { 0 };
	evbuffer_remove(eb, out, n);
	assert_string_equal(out, "20\n{\"type\":\"HEARTBEAT\"}");
	size_t len;
	char *rec = recordio_json_record(j, &len);
	assert_int_equal(len, 23);
	assert_memory_equal(rec, "20\n{\"type\":\"HEARTBEAT\"}", 23);
	free(rec);
	json_decref(j);
	evbuffer_free(eb);
}

static void test_decode_whole_and_split(void **state)
{
	const char *stream = "3\nabc1\nx11\nhello world";
	size_t len = strlen(stream);
	/* Every split point, and byte by byte. */
	for (size_t cut = 0; cut <= len; cut++) {
		struct recordio_decoder d;
		struct collected c = { 0 };
		recordio_decoder_init(&d, 1024);
		assert_int_equal(recordio_decoder_feed(&d, stream, cut, collect, &c), 0);
		assert_int_equal(recordio_decoder_feed(&d, stream + cut, len - cut, collect, &c), 0);
		assert_int_equal(c.n, 3);
		assert_string_equal(c.recs[0], "abc");
		assert_string_equal(c.recs[1], "x");
		assert_string_equal(c.recs[2], "hello world");
		assert_true(recordio_decoder_idle(&d));
		recordio_decoder_release(&d);
	}
	struct recordio_decoder d;
	struct collected c = { 0 };
	recordio_decoder_init(&d, 1024);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(recordio_decoder_feed(&d, stream + i, 1, collect, &c), 0);
	assert_int_equal(c.n, 3);
	recordio_decoder_release(&d);

	/* A partial record stays buffered. */
	recordio_decoder_init(&d, 1024);
	c.n = 0;
	assert_int_equal(recordio_decoder_feed(&d, "5\nab", 4, collect, &c), 0);
	assert_int_equal(c.n, 0);
	assert_false(recordio_decoder_idle(&d));
	recordio_decoder_release(&d);
}

static void test_decode_errors(void **state)
{
	static const struct {
		const char *in;
		size_t max;
		int err;
	} cases[] = {
		{ "0\n", 100, -EBADMSG },     /* never "0" */
		{ "05\nhello", 100, -EBADMSG }, /* no leading zeros */
		{ "\nabc", 100, -EBADMSG },   /* empty prefix */
		{ "1a\nx", 100, -EBADMSG },   /* non-digit */
		{ "-1\nx", 100, -EBADMSG },
		{ " 1\nx", 100, -EBADMSG },
		{ "101\n", 100, -E2BIG },     /* one over the max */
		{ "99999999999999999999999999\n", 100, -E2BIG }, /* over-long prefix */
		{ "18446744073709551616\n", SIZE_MAX, -E2BIG },  /* 2^64 overflows */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct recordio_decoder d;
		struct collected c = { 0 };
		recordio_decoder_init(&d, cases[i].max);
		int r = recordio_decoder_feed(&d, cases[i].in, strlen(cases[i].in), collect, &c);
		assert_int_equal(r, cases[i].err);
		assert_int_equal(c.n, 0);
		/* Sticky. */
		assert_int_equal(recordio_decoder_feed(&d, "1\nx", 3, collect, &c), cases[i].err);
		recordio_decoder_release(&d);
	}
	/* Exactly at the max is fine. */
	struct recordio_decoder d;
	struct collected c = { 0 };
	recordio_decoder_init(&d, 5);
	assert_int_equal(recordio_decoder_feed(&d, "5\nhello", 7, collect, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(recordio_decoder_feed(&d, "6\n", 2, collect, &c), -E2BIG);
	recordio_decoder_release(&d);
}

static void test_decode_stop(void **state)
{
	struct recordio_decoder d;
	struct collected c = { .stop_after = 1 };
	recordio_decoder_init(&d, 100);
	assert_int_equal(recordio_decoder_feed(&d, "1\na1\nb", 6, collect, &c), 1);
	assert_int_equal(c.n, 1);
	recordio_decoder_release(&d);
}

/* One whole record of JSON, and only that. */
static void test_record_json(void **state)
{
	(void)state;
	json_t *j = json_pack("{s:s, s:[i]}", "type", "OFFERS", "n", 1);
	size_t len;
	char *rec = recordio_json_record(j, &len);
	json_t *back = recordio_record_json(rec, len);
	assert_non_null(back);
	assert_true(json_equal(back, j));
	json_decref(back);
	assert_null(recordio_record_json(rec, len - 1)); /* partial */
	free(rec);
	static const char *const bad[] = { "3\n{}", "2\n{}2\n{}", "2\n[1", "x\n{}", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(recordio_record_json(bad[i], strlen(bad[i])));
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_decode_whole_and_split),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_decode_stop),
		cmocka_unit_test(test_record_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
