/* The agent's client of Docker volume plugins (reference/compat.md §8): discovery of a
 * driver by name, and one non-blocking HTTP POST + JSON call at a time per plugin_call,
 * bounded by a timeout, on the agent's event loop (so a slow driver stalls nothing else).
 * HTTP is libcurl's (net/httpc.h: a curl multi handle driven by the event_base); the
 * answer is untrusted input: at most PLUGIN_MAX_ANSWER bytes of body (the head at most
 * HTTPC_MAX_HEADER), its JSON parsed defensively by plugin_answer_parse. */
#pragma once
#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PLUGIN_MAX_NAME 128
#define PLUGIN_MAX_ANSWER (1u << 20)
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

/* The driver's answer: 0 with *out (new reference, an object) when the call succeeded;
 * -EIO with the driver's message in err ("Err", else the raw body) for any non-200 or
 * non-empty "Err"; -EINVAL with a message for a 200 whose body is not a JSON object. */
int plugin_answer_parse(int status, const char *body, size_t len, json_t **out, char *err,
			size_t errlen);

struct plugin_call;
/* r = 0: answer is the driver's JSON object (borrowed for the callback). r < 0: err says why
 * (the driver's Err; "the driver did not answer within N ms" with -ETIMEDOUT; "driver at
 * 'ADDR': …" for a failure to connect or a bad HTTP answer, with httpc_send's -errno).
 * Called once, never from inside plugin_call_start; the call is freed before it runs (so
 * it may start the next one, and must not cancel this one). */
typedef void (*plugin_call_cb)(int r, json_t *answer, const char *err, void *arg);

/* POSTs body (borrowed; NULL = "{}") to method ("/VolumeDriver.Mount", starting with '/')
 * at addr, giving up after timeout_ms (0: 30 s). NULL when out of resources or for a method
 * without its '/' (then cb is not called). */
struct plugin_call *plugin_call_start(struct event_base *base, const struct plugin_addr *addr,
				      const char *method, json_t *body, uint32_t timeout_ms,
				      plugin_call_cb cb, void *arg);
/* Abandons a call: its callback is not called. */
void plugin_call_cancel(struct plugin_call *c);
