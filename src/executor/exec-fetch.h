/* The task's URIs fetched into its sandbox by berth-fetcher (fetcher.c), one run each, before
 * the shim forks the task (docs/isolation.md). Plain libc only. */
#pragma once
#include <stddef.h>

#include "executor/exec-spec.h"

/* Fetches s's URIs into s->sandbox, berth-fetcher's output to the fd err (the sandbox's
 * stderr). 0, or -errno / -EIO with *failed = the index at fault and berth-fetcher's message
 * in <meta>/fetch_error. The fetcher is $BERTH_FETCHER, else berth-fetcher beside this
 * binary. */
int exec_fetch_all(const struct exec_spec *s, const char *meta, int err, size_t *failed);
