/* The console (docs/console.md): one web page for the whole cluster, served by the master
 * at / and /ui/. Its assets are compiled into the binary; it reads and changes the cluster
 * only through the public APIs, so this module serves bytes and nothing else. */
#pragma once
#include <stdbool.h>

#include <event2/http.h>

/* Answers a GET or HEAD of path ("/", "/ui", "/ui/", "/ui/app.js", …): the asset with its
 * Content-Type and ETag (304 to a matching If-None-Match), / and /ui/ the page itself,
 * 404 for an unknown asset, 405 for another method. */
void ui_http_serve(struct evhttp_request *req, const char *path);

/* Whether an If-None-Match value (untrusted: "*", or a comma-separated list of entity tags,
 * each maybe W/-prefixed) names etag ("\"<hash>\"", quotes included). NULL lists nothing. */
bool ui_etag_listed(const char *list, const char *etag);
