/* The agent's client of Docker volume plugins (reference/compat.md §8): discovery of a
 * driver by name, and one non-blocking HTTP/1.1 POST + JSON call at a time per
 * plugin_call, bounded by a timeout, on the agent's event loop (so a slow driver stalls
 * nothing else). Every answer is untrusted input: bounded, parsed defensively. */
#pragma once
#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PLUGIN_MAX_NAME 128
#define PLUGIN_MAX_ANSWER (1u << 20)
#define PLUGIN_MAX_HEADERS (64u * 1024)
#define PLUGIN_DEFAULT_TIMEOUT_MS 30000u

/* Where a driver listens. */
struct plugin_addr {
	bool is_unix;
	char path[108]; /* unix socket */
	char host[256]; /* tcp */
	uint16_t port;
};

/* A driver name usable in a file name: 1..128 of [A-Za-z0-9_.-], not starting with '.'. */
bool plugin_name_valid(const char *name);

/* Finds driver name: first a socket <d>/<name>.sock or <d>/<name>/<name>.sock in each of
 * sock_dirs, then a spec file <d>/<name>.spec (a URL: unix:///path or tcp://host:port) or
 * <d>/<name>.json ({"Addr": URL}) in each of spec_dirs; the first match wins. Both lists are
 * NULL-terminated. 0, -ENOENT (not found), -EINVAL (bad name or spec), -ENOTSUP (https). */
int plugin_discover(const char *const *sock_dirs, const char *const *spec_dirs,
		    const char *name, struct plugin_addr *out);
/* The default search path with extra_dir (may be NULL) first, as plugin_discover wants. */
int plugin_discover_default(const char *extra_dir, const char *name, struct plugin_addr *out);
/* A spec file's URL → out. 0, -EINVAL, -ENOTSUP. */
int plugin_url_parse(const char *url, struct plugin_addr *out);

/* An HTTP/1.x response in buf[0..len) (eof: the peer closed). Returns 0 with *status and the
 * body (malloc'd, NUL-terminated, *blen bytes) when complete, -EAGAIN when more is needed,
 * -EINVAL when malformed, -E2BIG over the bounds. */
int plugin_http_parse(const char *buf, size_t len, bool eof, int *status, char **body,
		      size_t *blen);
/* The driver's answer: 0 with *out (new reference, an object) when the call succeeded;
 * -EIO with the driver's message in err ("Err", else the raw body) for any non-200 or
 * non-empty "Err"; -EINVAL with a message for a 200 whose body is not a JSON object. */
int plugin_answer_parse(int status, const char *body, size_t len, json_t **out, char *err,
			size_t errlen);

struct plugin_call;
/* r = 0: answer is the driver's JSON object (borrowed for the callback). r < 0: err says why
 * (the driver's Err, "timed out after N ms", a connect error). Called once, never from
 * inside plugin_call_start; the call is freed after it returns. */
typedef void (*plugin_call_cb)(int r, json_t *answer, const char *err, void *arg);

/* POSTs body (borrowed; NULL = empty) to method ("/VolumeDriver.Mount") at addr. NULL only
 * when out of resources (then cb is not called). */
struct plugin_call *plugin_call_start(struct event_base *base, const struct plugin_addr *addr,
				      const char *method, json_t *body, uint32_t timeout_ms,
				      plugin_call_cb cb, void *arg);
/* Abandons a call: its callback is not called. */
void plugin_call_cancel(struct plugin_call *c);
