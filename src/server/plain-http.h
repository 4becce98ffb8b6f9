/* The plain-HTTP port of an HTTPS master: every request is redirected to HTTPS (307) or
 * refused (403), as configured (plain-http.c, docs/security.md). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct http_limits;

struct plain_http_config {
	const char *addr;  /* where to listen (borrowed for the call) */
	uint16_t port;     /* 0: any */
	bool refuse;       /* 403 instead of the redirect */
	uint16_t https_port;  /* the master's HTTPS port, for Location */
	const char *hostname; /* the name to redirect to when a request has no usable Host;
				 NULL: the machine's */
	const struct http_limits *limits; /* the same caps as the HTTPS port, or NULL */
};

/* The Location of the redirect: "https://HOST:port/URI", HOST from host_header (a Host
 * header's value, or NULL) without its port when it is a plain name or address, else
 * fallback; uri not starting with '/' becomes "/". 0, or -E2BIG when out (outlen bytes)
 * cannot hold it. */
int plain_http_location(const char *host_header, const char *fallback, uint16_t port,
			const char *uri, char *out, size_t outlen);

struct plain_http;
/* Listens at cfg->addr:port; 0, or -errno (-EADDRINUSE, -EINVAL). */
int plain_http_new(struct event_base *base, const struct plain_http_config *cfg,
		   struct plain_http **out);
uint16_t plain_http_port(const struct plain_http *p);
void plain_http_free(struct plain_http *p); /* accepts NULL */
