/* Feeds arbitrary bytes as a protobuf scheduler Call (POST /api/v1/scheduler with
 * Content-Type application/x-protobuf) to pbjson_decode: it must never crash, what it
 * accepts must be a JSON object, and encoding that object and decoding it again must give the
 * same object (the translation loses nothing it produced). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "base/strbuf.h"
#include "pb/pbjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = NULL;
	char err[200];
	if (pbjson_decode(PBJSON_SCHEDULER_CALL, data, size, &j, err, sizeof(err)) < 0) {
		if (!err[0])
			__builtin_trap();
		return 0;
	}
	if (!json_is_object(j))
		__builtin_trap();
	struct strbuf sb = STRBUF_INIT;
	if (pbjson_encode(PBJSON_SCHEDULER_CALL, j, &sb) < 0)
		__builtin_trap();
	json_t *again = NULL;
	if (pbjson_decode(PBJSON_SCHEDULER_CALL, sb.buf ? sb.buf : "", sb.len, &again, err,
			  sizeof(err)) < 0 || !json_equal(j, again))
		__builtin_trap();
	/* The same bytes read as an Event must not crash either. */
	json_t *ev = NULL;
	if (pbjson_decode(PBJSON_SCHEDULER_EVENT, data, size, &ev, err, sizeof(err)) == 0)
		json_decref(ev);
	json_decref(again);
	json_decref(j);
	strbuf_release(&sb);
	return 0;
}
