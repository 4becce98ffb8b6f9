/* Feeds arbitrary bytes as a protobuf scheduler Call (POST /api/v1/scheduler with
 * Content-Type application/x-protobuf), operator Call (POST /api/v1), scheduler Event,
 * operator Response and operator Event to pbjson_decode: it must never crash, what it
 * accepts must be a JSON object, and encoding that object and decoding it again must give the
 * same object (the translation loses nothing it produced). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "base/strbuf.h"
#include "pb/pbjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decodes data as type; when it is one, encode and decode again must give the same. */
static void round_trip(enum pbjson_msg type, const uint8_t *data, size_t size)
{
	json_t *j = NULL;
	char err[200];
	if (pbjson_decode(type, data, size, &j, err, sizeof(err)) < 0) {
		if (!err[0])
			__builtin_trap();
		return;
	}
	if (!json_is_object(j))
		__builtin_trap();
	struct strbuf sb = STRBUF_INIT;
	if (pbjson_encode(type, j, &sb) < 0)
		__builtin_trap();
	json_t *again = NULL;
	if (pbjson_decode(type, sb.buf ? sb.buf : "", sb.len, &again, err, sizeof(err)) < 0 ||
	    !json_equal(j, again))
		__builtin_trap();
	json_decref(again);
	json_decref(j);
	strbuf_release(&sb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The two call bodies berth reads (scheduler and operator), and the messages it writes
	 * read back (the decoder must not crash on any bytes). */
	round_trip(PBJSON_SCHEDULER_CALL, data, size);
	round_trip(PBJSON_MASTER_CALL, data, size);
	round_trip(PBJSON_SCHEDULER_EVENT, data, size);
	round_trip(PBJSON_MASTER_RESPONSE, data, size);
	round_trip(PBJSON_MASTER_EVENT, data, size);
	return 0;
}
