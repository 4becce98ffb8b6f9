/* Protobuf <-> Mesos's JSON form for the v1 scheduler and operator APIs (Content-Type / Accept
 * application/x-protobuf), driven by the message descriptors protoc-c generates from berth's
 * own .proto files (mesos-v1.proto, scheduler-v1.proto, master-v1.proto). The JSON is what Mesos's JSON
 * encoding of the same message is: field names as keys, enums by name, bytes as base64,
 * 64-bit integers as numbers, proto maps as objects. The handlers see only JSON. */
#pragma once
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"

enum pbjson_msg {
	PBJSON_SCHEDULER_CALL,
	PBJSON_SCHEDULER_EVENT,
	PBJSON_MASTER_CALL,     /* the operator API's master::Call */
	PBJSON_MASTER_RESPONSE, /* and its master::Response */
	PBJSON_MASTER_EVENT,    /* the operator SUBSCRIBE stream's master::Event */
};

/* Decodes len bytes of a message into *out (a new JSON object): 0, or -EINVAL with a
 * message in err (bytes that are not such a message). */
int pbjson_decode(enum pbjson_msg type, const void *data, size_t len, json_t **out,
		  char *err, size_t errlen);
/* Appends the encoding of the JSON object j to out: 0, or -EINVAL (j not an object). Keys
 * the message does not define, and values of the wrong JSON type, are left out. */
int pbjson_encode(enum pbjson_msg type, const json_t *j, struct strbuf *out);
