/* berth-image's internal helpers (image-store.c). */
#pragma once
#include <stddef.h>

#include "image/image.h"

/* Runs argv (PATH searched), stdout to /dev/null; on failure msg has its first stderr line.
 * 0, -EIO (non-zero exit), -errno (could not start). */
int image_run(char *const argv[], char *msg, size_t msglen);
/* rm -rf path (one file system). */
int image_rm_rf(const char *path);
/* A fresh path under <store>/tmp for what ("layer", "blob", …). */
int image_tmp_path(const struct image_store *st, const char *what, char *buf, size_t size);
/* Writes data to path through a temp file and a rename. 0 or -errno. */
int image_write_atomic(struct image_store *st, const char *path, const char *data, size_t len);
/* The OCI name of this machine's architecture ("amd64", "arm64", …). */
const char *image_arch(void);
