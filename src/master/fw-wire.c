/* The v1 scheduler API's encodings (docs/scheduler-api.md): a call's body is JSON or
 * protobuf by its Content-Type, and a subscriber's stream carries JSON or protobuf events by
 * its SUBSCRIBE's Accept, as Mesos's master does (JSON when both are allowed or Accept is
 * absent). Protobuf is translated to and from the JSON object model at this edge
 * (src/pb/pbjson.c), so every handler sees the same JSON. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "base/strbuf.h"
#include "master/fw-int.h"
#include "net/recordio.h"
#include "pb/pbjson.h"

bool fw_media_is(const char *value, const char *type)
{
	size_t n = strlen(type);
	while (*value == ' ')
		value++;
	return !strncasecmp(value, type, n) &&
	       (value[n] == '\0' || value[n] == ';' || value[n] == ' ');
}

int fw_wire_accept(const char *accept)
{
	if (!accept)
		return FW_WIRE_JSON;
	bool pb = false;
	const char *p = accept;
	while (*p) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		char one[128];
		snprintf(one, sizeof(one), "%.*s", (int)(n < sizeof(one) ? n : sizeof(one) - 1), p);
		if (fw_media_is(one, "application/json") || fw_media_is(one, "*/*") ||
		    fw_media_is(one, "application/*"))
			return FW_WIRE_JSON;
		if (fw_media_is(one, "application/x-protobuf"))
			pb = true;
		if (!c)
			break;
		p = c + 1;
	}
	return pb ? FW_WIRE_PROTOBUF : -1;
}

int fw_wire_read_call(struct evhttp_request *req, json_t **call, char *msg, size_t msglen)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const char *ctype = evhttp_find_header(in, "Content-Type");
	if (!ctype) {
		snprintf(msg, msglen, "Expecting 'Content-Type' to be present");
		return 400;
	}
	bool pb = fw_media_is(ctype, "application/x-protobuf");
	if (!pb && !fw_media_is(ctype, "application/json")) {
		snprintf(msg, msglen, "Expecting 'Content-Type' of application/json or "
				      "application/x-protobuf");
		return 415;
	}
	char perr[200];
	if (!pb) {
		if (http_request_json(req, call, perr, sizeof(perr)) < 0) {
			snprintf(msg, msglen, "Failed to parse body into JSON: %s", perr);
			return 400;
		}
		return 0;
	}
	size_t len = 0;
	char *body = http_request_body(req, &len);
	int r = pbjson_decode(PBJSON_SCHEDULER_CALL, body ? body : "", body ? len : 0, call,
			      perr, sizeof(perr));
	free(body);
	if (r < 0) {
		snprintf(msg, msglen, "Failed to parse body into Call protobuf: %s", perr);
		return 400;
	}
	return 0;
}

char *fw_wire_record(int wire, const json_t *ev, size_t *len)
{
	if (wire != FW_WIRE_PROTOBUF)
		return recordio_json_record(ev, len);
	struct strbuf body = STRBUF_INIT, rec = STRBUF_INIT;
	if (pbjson_encode(PBJSON_SCHEDULER_EVENT, ev, &body) < 0) {
		strbuf_release(&body);
		return NULL;
	}
	recordio_encode_strbuf(&rec, body.buf ? body.buf : "", body.len);
	strbuf_release(&body);
	return strbuf_detach(&rec, len);
}
