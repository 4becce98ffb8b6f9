/* Shared by httpc.c (blocking calls) and httpc-event.c (calls on an event loop); not for
 * use outside src/net/httpc*.c. One struct httpc_xfer is one libcurl easy handle doing one
 * hop of a call, with the bounded buffers and the flags its callbacks set. */
#pragma once
#include "net/curl-dl.h" /* <curl/curl.h>, with libcurl loaded on first use */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "net/httpc.h"

struct httpc_xfer {
	CURL *easy;
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];
	const char *cacert;      /* borrowed from the request, for messages */
	struct strbuf body;      /* the collected body (not a streamed 2xx one) */
	size_t max_body;
	size_t head_bytes;       /* header bytes so far, every head of this hop */
	int status;              /* the final head's status, once head_done */
	bool head_done;          /* a final (non-1xx) head has ended */
	bool has_location;       /* that head had a Location */
	bool too_big;            /* the body passed max_body */
	bool head_too_big;       /* the head passed HTTPC_MAX_HEADER */
	/* a stream: a 2xx body goes to on_body */
	int (*on_body)(const char *data, size_t len, void *ctx);
	void *ctx;
	bool streaming;          /* a 2xx head came and on_body gets its body */
	int body_rc;             /* on_body's value that stopped the transfer */
	uint64_t last_byte_usec; /* monotonic, any byte of the response */
};

/* What one hop sends. */
struct httpc_hop {
	const char *url;
	const char *method;
	bool with_body;          /* send req->body (false after a 303) */
	bool copy_body;          /* libcurl keeps its own copy of the body (calls on a loop) */
	bool with_auth;          /* send req->authorization (the hop stays on url's origin) */
	uint64_t timeout_usec;   /* for the whole hop; 0: none (a stream's body) */
	uint64_t connect_usec;   /* for connecting; 0: libcurl's default */
};

/* libcurl's process-wide set-up, done once. 0, or -ENOMEM with err filled. */
int httpc_global(char *err, size_t errlen);
/* Sets x up for one hop of req (x zeroed by the caller). Returns 0, or -errno with err
 * filled (x then needs httpc_xfer_release all the same). */
int httpc_xfer_init(struct httpc_xfer *x, const struct httpc_request *req,
		    const struct httpc_hop *hop, char *err, size_t errlen);
/* Frees the easy handle and the buffers. Accepts a zeroed x. */
void httpc_xfer_release(struct httpc_xfer *x);
/* libcurl's result of the hop → 0 or -errno, with err filled for an error. */
int httpc_xfer_result(struct httpc_xfer *x, CURLcode rc, char *err, size_t errlen);
/* The hop's response (status, content type, redirect target, the collected body taken
 * from x) into *out. */
void httpc_xfer_response(struct httpc_xfer *x, struct httpc_response *out);
/* An error of the multi interface → -errno with err filled. */
int httpc_multi_error(CURLMcode mc, char *err, size_t errlen);
/* Fills err (errlen bytes; may be NULL or 0) with printf. */
void httpc_set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
