/* The built-in `local` volume driver (issue 5): a Docker volume plugin (reference/compat.md
 * §8) keeping one directory per volume under a root, served on a unix socket by
 * `berth volume-plugin --root DIR --socket PATH`.
 *
 * Every method of §8.2 is implemented: Activate, Create, Remove, Mount (refcounted by ID),
 * Unmount, Path, Get, List, Capabilities ({"Scope":"local"}). Errors are {"Err":"…"} with
 * HTTP 500; an undecodable request is 400; an unknown method 404. Mount reference counts
 * live in memory: a restarted driver forgets them (the directories, i.e. the data, stay). */
#pragma once
#include <event2/event.h>
#include <stddef.h>

#define VOLPLUGIN_MAX_NAME 255
#define VOLPLUGIN_MAX_BODY (1u << 20)
#define VOLPLUGIN_MAX_IDS 4096   /* mount IDs per volume */

struct volplugin;
struct volplugin_server;

/* A name the local driver accepts: 1..255 of [A-Za-z0-9_.-], not starting with '.'. */
int volplugin_name_valid(const char *name);

/* The driver on root (created if missing). 0 or -errno. */
int volplugin_new(const char *root, struct volplugin **out);
void volplugin_free(struct volplugin *vp);

/* One call: path is "/VolumeDriver.Mount" etc., body the request (may be empty). Returns the
 * HTTP status and sets *out to the JSON answer (malloc'd, NUL-terminated). */
int volplugin_handle(struct volplugin *vp, const char *path, const char *body, size_t len,
		     char **out);

/* Serves vp on a unix socket at socket_path (mode 0600; a stale socket file is replaced, a
 * live one is -EADDRINUSE). vp is borrowed. 0 or -errno. */
int volplugin_serve(struct volplugin *vp, struct event_base *base, const char *socket_path,
		    struct volplugin_server **out);
/* Stops serving and removes the socket file. Accepts NULL. */
void volplugin_server_free(struct volplugin_server *s);

/* `berth volume-plugin --root DIR --socket PATH`: serves until SIGTERM/SIGINT. Returns the
 * exit code (0, 1 on failure, 2 on a usage error). */
int volplugin_main(int argc, char **argv);
