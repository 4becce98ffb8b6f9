/* Namespaces and identity of a task inside berth-executor (docs/isolation.md). Plain libc.
 *
 * With the spec's "isolate": the shim moves itself into a new mount namespace (a slave of the
 * host's, as for volumes) where <sandbox>/tmp is bind-mounted on /tmp (unless the sandbox
 * itself is under /tmp, where it would vanish: then /tmp stays shared and msg says so on a
 * success), then asks for a new
 * pid namespace for its children. Its first child is the namespace's init (pid 1): it
 * mounts a fresh /proc in a mount namespace of its own, forks the task (pid 2, in init's
 * process group, so the shim's kill(-init) reaches both), reaps every process of the
 * namespace, and when the task ends hands its wait status to the shim through a pipe and
 * exits: the kernel then SIGKILLs whatever is left in the namespace (setsid'd daemons
 * included). Init ignores the shim's SIGTERM (pid 1 without a handler); SIGKILL ends it and
 * with it the namespace. COMMAND checks and the pre-stop command, forked by the shim, run in
 * the task's pid and mount namespaces too.
 * The task itself gets no_new_privs and, with the spec's "user", that user's uid, gid and
 * groups (the sandbox is chowned to it first). */
#pragma once
#include <stddef.h>
#include <sys/types.h>

#include "executor/exec-spec.h"

struct exec_ident {
	int set;            /* a user was asked for */
	uid_t uid;
	gid_t gid;
	char name[64];
};

/* Looks the spec's user up (before any fork: getpwnam may not be fork-safe later) and
 * chowns the sandbox and its stdout/stderr to it. 0 or -errno with msg. */
int exec_ident_resolve(const struct exec_spec *s, struct exec_ident *id, char *msg,
		       size_t msglen);
/* In the task's child just before exec: no_new_privs (isolate), then the identity. 0 or
 * the errno of what failed. */
int exec_ident_apply(const struct exec_spec *s, const struct exec_ident *id);

/* The shim's part before the fork of init (see above). meta is the task's meta directory
 * (absolute): with the sandbox, the health dir and the lease file, it stays reachable at its
 * path when the agent's work dir is under /tmp. 0 (msg set: a note for the task's stderr) or
 * -errno with msg. */
int exec_isolate_shim(const struct exec_spec *s, const char *meta, char *msg, size_t msglen);
/* Init's own setup (a fresh /proc). 0 or the errno of what failed. */
int exec_isolate_init(void);
