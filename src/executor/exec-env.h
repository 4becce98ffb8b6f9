/* The task's environment as the shim execs it: the spec's variables, then MESOS_SANDBOX,
 * PATH from the shim's own environment when the spec has none, and BERTH_VOLUME_<n> for
 * each volume (its path in the sandbox). Strings past the spec's own are allocated. */
#pragma once
#include "executor/exec-spec.h"

/* A NULL-terminated array for execve, or NULL (out of memory). */
char **exec_env_build(const struct exec_spec *s);
/* Frees what exec_env_build allocated; env may be NULL. */
void exec_env_free(char **env, const struct exec_spec *s);

/* Where a helper program of the shim is: $env_var when set, else `name` beside the shim's own
 * binary; when that is not executable and alt_dir is given, <shim dir>/<alt_dir>/<name> (in a
 * build tree, e.g. src/executor/../image). A path too long for buf gives the bare name. */
void exec_tool_path(char *buf, size_t size, const char *env_var, const char *name,
		    const char *alt_dir);
