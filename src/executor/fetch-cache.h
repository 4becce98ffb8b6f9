/* The agent's fetcher cache (docs/isolation.md, "The fetcher"): Marathon's `fetch[].cache:
 * true` downloads a URI once per agent; later tasks get a copy of the cached file. Part of
 * berth-fetcher (plain libc).
 *
 * Layout of the cache directory (the agent's --fetcher-cache-dir):
 *   .lock          flock'ed by every fetcher while it looks at or changes the entries
 *   <key>.data     the downloaded bytes of one URI (key: 16 hex digits of FNV-1a 64 of the URI)
 *   <key>.uri      the URI itself: an entry is used only when it matches (no collisions)
 *   .tmp.<pid>.*   a download in progress (outside the lock; removed when it fails)
 *
 * INVARIANTS: an entry is <key>.data together with <key>.uri, both made under the lock (the
 * .uri last, so a .data without one is no entry and is removed); the entries' sizes add up
 * to at most the bound after every insertion: the least recently used entries (by the
 * .data's mtime, set on every hit) are evicted first, and a file bigger than the whole bound
 * is never kept. A task never gets the cache's file itself, only a copy (it may change it). */
#pragma once
#include <stdint.h>

/* The file for uri as dest: from the cache when it holds uri (*hit = 1), else downloaded by
 * download(uri, path, ctx) into the cache directory and kept there within max bytes. 0, or
 * -errno (the download's error stays in its own message); the cache's own failures (lock,
 * rename) fall back to the plain download into dest. */
typedef int (*fetch_cache_download_fn)(const char *uri, const char *path, void *ctx);
int fetch_cache_get(const char *dir, uint64_t max, const char *uri, const char *dest,
		    fetch_cache_download_fn download, void *ctx, int *hit);
/* The key of uri (16 hex digits and a NUL in out). */
void fetch_cache_key(const char *uri, char out[17]);
