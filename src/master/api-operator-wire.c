/* The operator API's encodings (docs/operator-api.md): a call's body in JSON or protobuf by
 * its Content-Type, and an answer with a body in JSON or protobuf by the call's Accept, as
 * Mesos's master does (JSON when both are allowed or Accept is absent). Protobuf is
 * translated to and from the JSON object model here (src/pb/pbjson.c); the handlers build
 * JSON and answer through operator_reply; the SUBSCRIBE stream's records are encoded per
 * subscriber by operator_event_record. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/strbuf.h"
#include "master/master-int.h"
#include "master/state-json.h"
#include "net/http.h"
#include "net/recordio.h"
#include "pb/pbjson.h"

/* Whether one media range of an Accept header is type (parameters ignored). */
static bool media_is(const char *value, const char *type, size_t len)
{
	while (len && *value == ' ') {
		value++;
		len--;
	}
	size_t n = strlen(type);
	return len >= n && !strncasecmp(value, type, n) &&
	       (len == n || value[n] == ';' || value[n] == ' ');
}

int operator_accept(struct evhttp_request *req)
{
	const char *accept =
		evhttp_find_header(evhttp_request_get_input_headers(req), "Accept");
	/* JSON as the JSON-only API always read Accept (q=0 excludes, state-json.c). */
	if (!accept || state_json_accepts_json(accept))
		return OPERATOR_WIRE_JSON;
	bool pb = false;
	for (const char *p = accept; *p;) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		const char *q = memmem(p, n, "q=0", 3);
		bool zero = q && (q + 3 == p + n || q[3] == ' ' || q[3] == ';' ||
				  (q[3] == '.' && strspn(q + 4, "0") >= (size_t)(p + n - q - 4)));
		if (media_is(p, "application/x-protobuf", n) && !zero)
			pb = true;
		if (!c)
			break;
		p = c + 1;
	}
	return pb ? OPERATOR_WIRE_PROTOBUF : -1;
}

int operator_read_protobuf_call(struct evhttp_request *req, json_t **call, char *err,
				size_t errlen)
{
	size_t len = 0;
	char *body = http_request_body(req, &len);
	int r = pbjson_decode(PBJSON_MASTER_CALL, body ? body : "", body ? len : 0, call, err,
			      errlen);
	free(body);
	return r;
}

void operator_reply(struct evhttp_request *req, int code, json_t *body)
{
	if (operator_accept(req) != OPERATOR_WIRE_PROTOBUF) {
		http_reply_json(req, code, body);
		return;
	}
	struct strbuf sb = STRBUF_INIT;
	if (pbjson_encode(PBJSON_MASTER_RESPONSE, body, &sb) < 0) {
		json_decref(body);
		http_reply_text(req, 500, "Cannot encode the response");
		return;
	}
	json_decref(body);
	http_reply_bytes(req, code, "application/x-protobuf", sb.buf ? sb.buf : "", sb.len);
	strbuf_release(&sb);
}

char *operator_event_record(const json_t *ev, int wire, size_t *len)
{
	if (wire != OPERATOR_WIRE_PROTOBUF)
		return recordio_json_record(ev, len);
	struct strbuf body = STRBUF_INIT, rec = STRBUF_INIT;
	if (pbjson_encode(PBJSON_MASTER_EVENT, ev, &body) < 0) {
		strbuf_release(&body);
		return NULL;
	}
	recordio_encode_strbuf(&rec, body.buf ? body.buf : "", body.len);
	strbuf_release(&body);
	return strbuf_detach(&rec, len);
}
