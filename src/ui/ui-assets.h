/* The console's assets, embedded at build time by src/ui/embed.py (sorted by name). */
#pragma once
#include <stddef.h>

struct ui_asset {
	const char *name;  /* "app.js": served at /ui/app.js */
	const char *type;  /* Content-Type */
	const char *etag;  /* "\"<hash of the bytes>\"" */
	const unsigned char *data;
	size_t len;
};

extern const struct ui_asset ui_assets[];
extern const unsigned ui_assets_n;
