/* berth's one HTTP client: libcurl behind a small API.
 *
 * Three ways to make a call, one set of rules:
 *  - httpc_send: blocking, the whole body collected (the CLI);
 *  - httpc_stream: blocking, a 2xx body handed over as it arrives (the CLI's event stream),
 *    stoppable through a file descriptor (a signal handler's self-pipe);
 *  - httpc_call_start: non-blocking on a libevent event_base (the agent's volume plugin
 *    client), through curl's multi interface; the loop never waits for the peer.
 *
 * Rules every call keeps:
 *  - http:// and https:// only (no other scheme, also not on a redirect); peers verified
 *    against the system's CAs or httpc_request.cacert; no proxy from the environment;
 *  - bounds: a response head (all its header lines) up to HTTPC_MAX_HEADER bytes, a
 *    collected body up to httpc_request.max_body (default HTTPC_MAX_BODY); more is -E2BIG.
 *    A body of exactly max_body bytes is accepted;
 *  - a deadline over the whole exchange, redirects included (a stream: until its head);
 *  - redirects (301, 302, 303, 307, 308 with a Location) followed when max_redirects
 *    allows, one hop at a time by this module so the method is chosen here: 303 turns the
 *    request into a GET without a body, every other code keeps the method and the body;
 *  - errors as -errno with a message (see httpc_send). libcurl's messages are used as they
 *    are where nothing better is known.
 * Only the URL parser below is hand-written: the rest is libcurl's. */
#pragma once
#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTPC_MAX_HEADER (64u * 1024)
#define HTTPC_MAX_BODY (64u * 1024 * 1024)
#define HTTPC_MAX_REDIRECTS 3
/* An err buffer this size holds any of this module's messages whole. */
#define HTTPC_ERR_MAX 512

/* ---- base URLs ---- */

/* A base URL "http[s]://host[:port][/prefix]", as a user gives one (--master). */
struct httpc_url {
	bool https;
	char *host;    /* without IPv6 brackets */
	uint16_t port; /* 80 (http) or 443 (https) when not given */
	char *prefix;  /* "" or "/prefix" without a trailing slash */
};

/* Parses s. The scheme is http:// or https:// (any case) and may be left out (then http:
 * "127.0.0.1:5050"). Rejects another scheme (-EPROTONOSUPPORT), user info, a query or a
 * fragment, an empty or malformed host, a port outside 1..65535 (-EINVAL). On success
 * fills u (release with httpc_url_release). */
int httpc_url_parse(const char *s, struct httpc_url *u);
/* Accepts a released or zeroed u. */
void httpc_url_release(struct httpc_url *u);
/* The absolute URL of target (path and query, starting with '/') under u's prefix:
 * "https://[::1]:8443/prefix/v2/apps" (malloc'd). */
char *httpc_url_join(const struct httpc_url *u, const char *target);

/* ---- requests and responses ---- */

struct httpc_request {
	const char *method;       /* "GET", "POST", … */
	const char *url;          /* absolute http:// or https:// URL */
	const char *unix_socket;  /* NULL, or a unix socket to connect to instead of the URL's
				     host (which then only names the Host header) */
	const char *body;         /* NULL for none */
	size_t body_len;
	const char *content_type; /* of the body; NULL: application/json */
	const char *accept;       /* Accept header; NULL: application/json */
	const char *cacert;       /* CA certificates (PEM file) for https; NULL: the system's */
	const char *client_cert;  /* a client certificate (PEM chain) shown to https peers that
				     ask for one (mutual TLS), or NULL */
	const char *client_key;   /* its private key (PEM); with client_cert */
	bool insecure;            /* https: do not verify the peer's certificate or name (curl's
				     -k; the CLI's --insecure) */
	const char *authorization; /* Authorization header value, or NULL; sent only to the
				      scheme, host and port of url (not after a redirect to
				      another origin) */
	uint64_t timeout_usec;    /* the whole exchange; 0: HTTPC_DEFAULT_TIMEOUT_USEC */
	size_t max_body;          /* 0: HTTPC_MAX_BODY */
	unsigned max_redirects;   /* redirects followed (not by httpc_call_start); 0: none */
};

#define HTTPC_DEFAULT_TIMEOUT_USEC (30ull * 1000 * 1000)

struct httpc_response {
	int status;
	char *content_type; /* or NULL */
	char *location;     /* a redirect's target as an absolute URL, or NULL */
	char *body;         /* NUL-terminated (an extra byte past body_len); "" when none */
	size_t body_len;
};

/* Accepts a released or zeroed r. */
void httpc_response_release(struct httpc_response *r);

/* Sends req and collects the response in *out (release with httpc_response_release),
 * following redirects as req allows. Returns 0 for any HTTP status (a redirect not
 * followed, or without a Location, is returned as it is), or -errno with err (errlen
 * bytes) saying what went wrong:
 *   -ECONNREFUSED and other connect errors from the system, -EHOSTUNREACH (name not
 *   resolved), -ETIMEDOUT, -EKEYREJECTED (the peer's certificate did not verify: unknown
 *   CA, another name, expired), -EPROTO (another TLS failure), -ENOENT, -EACCES (cacert
 *   unreadable), -EINVAL (cacert holds no certificate; a bad request: URL, method),
 *   -EBADMSG (not HTTP, or a redirect to a bad location), -EPIPE (the peer closed in the
 *   middle of the response), -E2BIG (head or body past the bounds), -ELOOP (more than
 *   max_redirects redirects), -ENOMEM, -EIO. */
int httpc_send(const struct httpc_request *req, struct httpc_response *out, char *err,
	       size_t errlen);

/* For a response that does not end by itself (an event stream). */
struct httpc_stream_opts {
	/* Called with each piece of a 2xx body as it arrives (transfer framing removed).
	 * Returns 0, or a negative errno that stops the stream and is returned by
	 * httpc_stream. */
	int (*on_body)(const char *data, size_t len, void *ctx);
	void *ctx;
	uint64_t idle_timeout_usec; /* once streaming: give up after this long without a byte
				       (-ETIMEDOUT); 0 waits forever */
	int cancel_fd; /* a descriptor > 0 (a self-pipe a signal handler writes to): once it
			  is readable the call stops with -ECANCELED; 0 or -1: none */
};

/* Like httpc_send, but a 2xx body goes to so->on_body as it arrives instead of being
 * collected; req->timeout_usec then covers the exchange up to the response's head only.
 * Returns 0 when a 2xx body ended (out has the status and content type, an empty body) or
 * for any other final status (out as httpc_send fills it); or -ECANCELED, -ETIMEDOUT,
 * -EPIPE (the peer closed mid-body), on_body's value, or an error as httpc_send's, with
 * out->status the 2xx status if the head had come (0 otherwise) and nothing else in out to
 * release; err says what went wrong (not for -ECANCELED or on_body's value). */
int httpc_stream(const struct httpc_request *req, const struct httpc_stream_opts *so,
		 struct httpc_response *out, char *err, size_t errlen);

/* ---- calls on an event loop ---- */

struct httpc_call;
/* r = 0: resp is the answer (any status; borrowed for the callback). r < 0: an error as
 * httpc_send's, err says why, resp holds nothing. Called once per call, never from inside
 * httpc_call_start; the call is freed before the callback runs, so the callback may start
 * another call. */
typedef void (*httpc_call_cb)(int r, const struct httpc_response *resp, const char *err,
			      void *arg);

/* Starts req on base (req and its strings are borrowed for this call only; redirects are
 * not followed). Each call has its own curl multi handle and connection: calls are
 * independent and cheap enough for what uses them (rare calls to local peers). Returns
 * NULL only when out of resources (cb is then not called). */
struct httpc_call *httpc_call_start(struct event_base *base, const struct httpc_request *req,
				    httpc_call_cb cb, void *arg);
/* Abandons a call that has not called back: its callback is never called. Accepts NULL. */
void httpc_call_cancel(struct httpc_call *c);
