/* TLS on an HTTP server's listener (http.h: http_tls_*): OpenSSL under libevent's
 * bufferevent_openssl, one SSL per accepted connection. A client that fails the handshake
 * (no TLS, a certificate the CA does not vouch for when one is required) is dropped before
 * any request is read. Protocols below TLS 1.2 are refused. */
#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>

#include "base/mem.h"
#include "net/http.h"

struct http_tls {
	SSL_CTX *ctx;
};

static void ssl_err(char *err, size_t errlen, const char *what, const char *path)
{
	char buf[256] = "";
	unsigned long e = ERR_get_error();
	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, errlen, "%s '%s': %s", what, path, *buf ? buf : "failed");
	ERR_clear_error();
}

int http_tls_new(const char *cert, const char *key, const char *ca, struct http_tls **out,
		 char *err, size_t errlen)
{
	*out = NULL;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		snprintf(err, errlen, "cannot create a TLS context");
		return -ENOMEM;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	int r = 0;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		ssl_err(err, errlen, "TLS certificate", cert);
		r = -EINVAL;
	} else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		ssl_err(err, errlen, "TLS key", key);
		r = -EINVAL;
	} else if (SSL_CTX_check_private_key(ctx) != 1) {
		ssl_err(err, errlen, "TLS key does not match certificate", cert);
		r = -EINVAL;
	} else if (ca) {
		if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
			ssl_err(err, errlen, "TLS CA", ca);
			r = -EINVAL;
		} else {
			SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
					   NULL);
		}
	}
	if (r < 0) {
		SSL_CTX_free(ctx);
		return r;
	}
	struct http_tls *t = xcalloc(1, sizeof(*t));
	t->ctx = ctx;
	*out = t;
	return 0;
}

void http_tls_free(struct http_tls *t)
{
	if (!t)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

struct bufferevent *http_tls_bev(struct event_base *base, void *arg)
{
	struct http_tls *t = arg;
	SSL *ssl = SSL_new(t->ctx);
	if (!ssl)
		return NULL;
	struct bufferevent *bev = bufferevent_openssl_socket_new(
		base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (!bev)
		SSL_free(ssl);
	return bev;
}

bool http_bev_is_tls(struct bufferevent *bev)
{
	return bufferevent_openssl_get_ssl(bev) != NULL;
}

/* ---- the client side: the agent's link to the master, the master's to an agent ---- */

int http_tls_client_new(const char *ca, const char *cert, const char *key,
			struct http_tls **out, char *err, size_t errlen)
{
	*out = NULL;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		snprintf(err, errlen, "cannot create a TLS context");
		return -ENOMEM;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	int r = 0;
	if (ca ? SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1
	       : SSL_CTX_set_default_verify_paths(ctx) != 1) {
		ssl_err(err, errlen, "TLS CA", ca ? ca : "(system)");
		r = -EINVAL;
	} else if (cert && SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		ssl_err(err, errlen, "TLS certificate", cert);
		r = -EINVAL;
	} else if (cert && key && SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		ssl_err(err, errlen, "TLS key", key);
		r = -EINVAL;
	} else if (cert && SSL_CTX_check_private_key(ctx) != 1) {
		ssl_err(err, errlen, "TLS key does not match certificate", cert);
		r = -EINVAL;
	}
	if (r < 0) {
		SSL_CTX_free(ctx);
		return r;
	}
	struct http_tls *t = xcalloc(1, sizeof(*t));
	t->ctx = ctx;
	*out = t;
	return 0;
}

struct evhttp_connection *http_tls_connect(struct event_base *base, struct http_tls *t,
					   const char *host, uint16_t port)
{
	SSL *ssl = SSL_new(t->ctx);
	if (!ssl)
		return NULL;
	/* The peer's certificate must name host (DNS name or IP address). */
	X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
	X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (X509_VERIFY_PARAM_set1_ip_asc(vp, host) != 1) {
		SSL_set_tlsext_host_name(ssl, host);
		if (SSL_set1_host(ssl, host) != 1) {
			SSL_free(ssl);
			return NULL;
		}
	}
	struct bufferevent *bev = bufferevent_openssl_socket_new(
		base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
		BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!bev) {
		SSL_free(ssl);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	struct evhttp_connection *c = evhttp_connection_base_bufferevent_new(base, NULL, bev, host,
									   port);
	if (!c)
		bufferevent_free(bev);
	return c;
}
