/* Marathon's and Chronos's `fetch` ([{uri, extract, executable, outputFile, cache}]) and the
 * deprecated `uris` (strings), as the agent's LAUNCH record carries them for the fetcher
 * (docs/internals/agent-protocol.md): [{uri, extract, executable[, output_file]}]. Both
 * schedulers' definitions use the same fields, so apps and jobs share this. */
#pragma once
#include <jansson.h>

/* The LAUNCH record's fetch array for fetch and uris (either may be NULL or not an array;
 * entries without a string uri are skipped; extract defaults to true, as Marathon converts
 * uris). NULL when there is nothing to fetch; else a new reference. */
json_t *fetch_spec(const json_t *fetch, const json_t *uris);
