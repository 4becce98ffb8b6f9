/* One hop of an HTTP call on a libcurl easy handle: the options every call gets (httpc.h's
 * rules), the callbacks that keep the bounds, and the mapping of libcurl's results to
 * -errno and a message. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/timeutil.h"
#include "net/httpc-int.h"

void httpc_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* libcurl's process-wide set-up, once (it is not berth state: libcurl requires it before
 * any handle exists). The build is thread-safe (CURL_VERSION_THREADSAFE), so the once is
 * only for not counting references up forever. */
static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int httpc_global(char *err, size_t errlen)
{
	int r = curl_dl_load(err, errlen); /* libcurl is loaded on first use (curl-dl.h) */
	if (r < 0)
		return r;
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK) {
		httpc_set_err(err, errlen, "cannot initialise libcurl: %s",
			      curl_easy_strerror(global_rc));
		return -ENOMEM;
	}
	return 0;
}

/* Each header line of the response, status lines included; a blank line ends a head. */
static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct httpc_xfer *x = arg;
	size_t len = size * n;
	x->last_byte_usec = time_mono_usec();
	x->head_bytes += len;
	if (x->head_bytes > HTTPC_MAX_HEADER) {
		x->head_too_big = true;
		return 0;
	}
	if (len >= 9 && strncasecmp(p, "location:", 9) == 0) {
		x->has_location = true;
	} else if ((len == 2 && p[0] == '\r' && p[1] == '\n') || (len == 1 && p[0] == '\n')) {
		long code = 0;
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
		if (code >= 200) {
			x->head_done = true;
			x->status = (int)code;
			x->streaming = x->on_body && code / 100 == 2;
		}
	} else if (len >= 5 && strncasecmp(p, "HTTP/", 5) == 0) {
		/* a new head (after a 1xx) */
		x->has_location = false;
	}
	return len;
}

static size_t on_write(char *p, size_t size, size_t n, void *arg)
{
	struct httpc_xfer *x = arg;
	size_t len = size * n;
	x->last_byte_usec = time_mono_usec();
	if (x->streaming) {
		int r = len ? x->on_body(p, len, x->ctx) : 0;
		if (r != 0) {
			x->body_rc = r;
			return 0; /* not len: libcurl stops with CURLE_WRITE_ERROR */
		}
		return len;
	}
	if (len > x->max_body - x->body.len) {
		x->too_big = true;
		return 0;
	}
	strbuf_add(&x->body, p, len);
	return len;
}

/* Milliseconds for a libcurl timeout option: at least 1 (0 would mean "none"). */
static long ms_of(uint64_t usec)
{
	uint64_t ms = (usec + 999) / 1000;
	if (ms == 0)
		ms = 1;
	return ms > 24ull * 3600 * 1000 ? 24L * 3600 * 1000 : (long)ms;
}

static int set_method(struct httpc_xfer *x, const struct httpc_request *req,
		      const struct httpc_hop *hop)
{
	CURL *e = x->easy;
	const char *m = hop->method;
	CURLcode rc = CURLE_OK;
	if (strcmp(m, "GET") == 0 && !hop->with_body)
		return curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) == CURLE_OK ? 0 : -EINVAL;
	if (strcmp(m, "HEAD") == 0)
		return curl_easy_setopt(e, CURLOPT_NOBODY, 1L) == CURLE_OK ? 0 : -EINVAL;
	/* Every other method sends a body, empty when there is none, so the peer sees a
	 * Content-Length. */
	const char *body = hop->with_body && req->body ? req->body : "";
	size_t len = hop->with_body && req->body ? req->body_len : 0;
	rc |= curl_easy_setopt(e, CURLOPT_POST, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	if (hop->copy_body)
		rc |= curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body);
	else
		rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	if (strcmp(m, "POST") != 0)
		rc |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
	if (len > 0) {
		char *ct = xasprintf("Content-Type: %s",
				     req->content_type ? req->content_type : "application/json");
		x->headers = curl_slist_append(x->headers, ct);
		free(ct);
	} else {
		x->headers = curl_slist_append(x->headers, "Content-Type:");
	}
	return rc == CURLE_OK ? 0 : -EINVAL;
}

int httpc_xfer_init(struct httpc_xfer *x, const struct httpc_request *req,
		    const struct httpc_hop *hop, char *err, size_t errlen)
{
	int r = httpc_global(err, errlen);
	if (r < 0)
		return r;
	x->max_body = req->max_body ? req->max_body : HTTPC_MAX_BODY;
	x->cacert = req->cacert;
	x->last_byte_usec = time_mono_usec();
	if (req->cacert && access(req->cacert, R_OK) == -1) {
		int e = errno;
		httpc_set_err(err, errlen, "cannot read CA file '%s': %s", req->cacert, strerror(e));
		return -e;
	}
	const char *files[2] = { req->client_cert, req->client_key };
	for (int i = 0; i < 2; i++) {
		if (files[i] && access(files[i], R_OK) == -1) {
			int e = errno;
			httpc_set_err(err, errlen, "cannot read client %s file '%s': %s",
				      i ? "key" : "certificate", files[i], strerror(e));
			return -e;
		}
	}
	x->easy = curl_easy_init();
	if (!x->easy) {
		httpc_set_err(err, errlen, "cannot initialise libcurl");
		return -ENOMEM;
	}
	CURL *e = x->easy;
	CURLcode rc = CURLE_OK;
	rc |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	rc |= curl_easy_setopt(e, CURLOPT_URL, hop->url);
	rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	rc |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	rc |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	rc |= curl_easy_setopt(e, CURLOPT_PROXY, "");
	rc |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	rc |= curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_USERAGENT, "berth");
	rc |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	rc |= curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	rc |= curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, req->insecure ? 0L : 1L);
	rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, req->insecure ? 0L : 2L);
	if (req->cacert)
		rc |= curl_easy_setopt(e, CURLOPT_CAINFO, req->cacert);
	if (req->client_cert) {
		rc |= curl_easy_setopt(e, CURLOPT_SSLCERT, req->client_cert);
		rc |= curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
	}
	if (req->client_key) {
		rc |= curl_easy_setopt(e, CURLOPT_SSLKEY, req->client_key);
		rc |= curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	}
	if (req->unix_socket)
		rc |= curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, req->unix_socket);
	if (!x->on_body)
		rc |= curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max_body);
	if (hop->timeout_usec)
		rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ms_of(hop->timeout_usec));
	if (hop->connect_usec)
		rc |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ms_of(hop->connect_usec));
	if (rc != CURLE_OK) {
		httpc_set_err(err, errlen, "cannot set up the request: %s", curl_easy_strerror(rc));
		return -EINVAL;
	}

	char *accept = xasprintf("Accept: %s", req->accept ? req->accept : "application/json");
	x->headers = curl_slist_append(x->headers, accept);
	free(accept);
	if (req->accept && strstr(req->accept, "text/event-stream"))
		x->headers = curl_slist_append(x->headers, "Cache-Control: no-cache");
	if (req->authorization && hop->with_auth) {
		char *au = xasprintf("Authorization: %s", req->authorization);
		x->headers = curl_slist_append(x->headers, au);
		explicit_bzero(au, strlen(au));
		free(au);
	}
	/* no "Expect: 100-continue" round trip before a large body */
	x->headers = curl_slist_append(x->headers, "Expect:");
	r = set_method(x, req, hop);
	if (r < 0 || !x->headers ||
	    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers) != CURLE_OK) {
		httpc_set_err(err, errlen, "cannot set up the %s request", hop->method);
		return r < 0 ? r : -ENOMEM;
	}
	return 0;
}

void httpc_xfer_release(struct httpc_xfer *x)
{
	if (x->easy)
		curl_easy_cleanup(x->easy);
	x->easy = NULL;
	curl_slist_free_all(x->headers);
	x->headers = NULL;
	strbuf_release(&x->body);
}

/* libcurl's own message: the error buffer when it says something, else the code's text. */
static const char *curl_msg(const struct httpc_xfer *x, CURLcode rc)
{
	return x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
}

/* The system's error behind a failed connect, send or receive (0 if none recorded). */
static int os_errno(const struct httpc_xfer *x)
{
	long e = 0;
	if (curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &e) != CURLE_OK)
		return 0;
	return e > 0 && e < 4096 ? (int)e : 0;
}

int httpc_xfer_result(struct httpc_xfer *x, CURLcode rc, char *err, size_t errlen)
{
	int e;
	/* A TLS 1.3 server refuses a client certificate after the handshake: the client
	 * learns it from an alert on its first read, which curl reports as a read error. */
	if ((rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR || rc == CURLE_GOT_NOTHING) &&
	    strstr(x->errbuf, "SSL routines")) {
		httpc_set_err(err, errlen, "TLS: %s", curl_msg(x, rc));
		return -EPROTO;
	}
	switch (rc) {
	case CURLE_OK:
		return 0;
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		if (x->head_too_big) {
			httpc_set_err(err, errlen, "response head larger than %u KiB",
				      HTTPC_MAX_HEADER >> 10);
			return -E2BIG;
		}
		if (x->body_rc)
			return x->body_rc;
		if (x->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
			if (x->max_body >= (1u << 20))
				httpc_set_err(err, errlen, "response larger than %zu MiB",
					      x->max_body >> 20);
			else
				httpc_set_err(err, errlen, "response larger than %zu bytes",
					      x->max_body);
			return -E2BIG;
		}
		httpc_set_err(err, errlen, "%s", curl_msg(x, rc));
		return -EIO;
	case CURLE_OPERATION_TIMEDOUT:
		httpc_set_err(err, errlen, "%s", x->head_done ? "timed out reading the response"
							      : "timed out waiting for the response");
		return -ETIMEDOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
		httpc_set_err(err, errlen, "%s", curl_msg(x, rc));
		return -EHOSTUNREACH;
	case CURLE_COULDNT_CONNECT:
		e = os_errno(x);
		httpc_set_err(err, errlen, "%s", e ? strerror(e) : curl_msg(x, rc));
		return e ? -e : -ECONNREFUSED;
	case CURLE_PEER_FAILED_VERIFICATION:
		httpc_set_err(err, errlen, "TLS: %s", curl_msg(x, rc));
		return -EKEYREJECTED;
	case CURLE_SSL_CACERT_BADFILE:
		httpc_set_err(err, errlen, "CA file '%s': %s", x->cacert ? x->cacert : "(default)",
			      curl_msg(x, rc));
		return -EINVAL;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_USE_SSL_FAILED:
		httpc_set_err(err, errlen, "TLS: %s", curl_msg(x, rc));
		return -EPROTO;
	case CURLE_PARTIAL_FILE:
		httpc_set_err(err, errlen, "connection closed in the middle of the response");
		return -EPIPE;
	case CURLE_GOT_NOTHING:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_BAD_CONTENT_ENCODING:
	case CURLE_UNSUPPORTED_PROTOCOL:
		httpc_set_err(err, errlen, "malformed HTTP response: %s", curl_msg(x, rc));
		return -EBADMSG;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		e = os_errno(x);
		if (e) {
			httpc_set_err(err, errlen, "%s", strerror(e));
			return -e;
		}
		/* no system error: the framing was bad (a broken chunk) */
		httpc_set_err(err, errlen, "malformed HTTP response: %s", curl_msg(x, rc));
		return -EBADMSG;
	case CURLE_URL_MALFORMAT:
		httpc_set_err(err, errlen, "bad URL: %s", curl_msg(x, rc));
		return -EINVAL;
	case CURLE_OUT_OF_MEMORY:
		httpc_set_err(err, errlen, "out of memory");
		return -ENOMEM;
	case CURLE_TOO_MANY_REDIRECTS:
		httpc_set_err(err, errlen, "%s", curl_msg(x, rc));
		return -ELOOP;
	case CURLE_ABORTED_BY_CALLBACK:
		return -ECANCELED;
	default:
		httpc_set_err(err, errlen, "%s", curl_msg(x, rc));
		return -EIO;
	}
}

void httpc_xfer_response(struct httpc_xfer *x, struct httpc_response *out)
{
	memset(out, 0, sizeof(*out));
	long code = 0;
	char *ct = NULL, *loc = NULL;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ct);
	if (x->has_location)
		curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_URL, &loc);
	out->status = (int)code;
	out->content_type = ct ? xstrdup(ct) : NULL;
	out->location = loc ? xstrdup(loc) : NULL;
	out->body = strbuf_detach(&x->body, &out->body_len);
}

int httpc_multi_error(CURLMcode mc, char *err, size_t errlen)
{
	httpc_set_err(err, errlen, "%s", curl_multi_strerror(mc));
	return mc == CURLM_OUT_OF_MEMORY ? -ENOMEM : -EIO;
}
