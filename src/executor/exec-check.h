/* The shim's health and readiness check runner (agent-protocol.md §7). Plain libc, no
 * threads: each attempt is a non-blocking socket or a child process, driven by the caller's
 * poll loop.
 *
 * Per check:  WAIT --due--> ATTEMPT --result or timeout--> WAIT (next = start + interval)
 *   HTTP:    connect → send "GET path" → read the status line (passes on 200–399; a 1xx is
 *            a failure, or discarded — no state change — when ignore_1xx, as in Marathon)
 *   TCP:     passes when the connection opens
 *   COMMAND: /bin/sh -c in the task's env and sandbox, own process group, SIGKILLed at the
 *            timeout; passes on exit 0
 *   HTTPS:   the helper berth-https-check (beside the shim, linked with libssl) forked and
 *            exec'd for the attempt only, so the shim itself stays plain libc; it prints the
 *            status code
 * Health: first attempt delay_ms after the task's start; a failure before the grace period
 * has ended is ignored until the check has passed once. A result is reported (callback) when
 * a check's alive state changes and on every counted failure, never for a run of passes.
 * Readiness: attempts from the start until the check passes once (status in the list, 200 by
 * default); when all have, ready is reported once and they stop. */
#pragma once
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "executor/exec-health.h"
#include "executor/exec-spec.h"

struct exec_checks;

/* Called with the full current state after every change worth forwarding. */
typedef void (*exec_checks_report_fn)(const struct exec_health *h, void *ctx);

/* checks (borrowed, n ≤ EXEC_SPEC_MAX_CHECKS), env (borrowed "K=V" NULL-terminated) and
 * sandbox (borrowed) must outlive the runner. start_ms is the task's start, monotonic ms.
 * https_helper: path of berth-https-check, or NULL (HTTPS attempts then fail with a message).
 * Returns NULL when n is 0 or over the limit. */
struct exec_checks *exec_checks_new(const struct exec_check *checks, size_t n, char **env,
				    const char *sandbox, const char *https_helper,
				    uint64_t start_ms, exec_checks_report_fn fn, void *ctx);
/* fn(arg) runs in each forked check process (COMMAND, the HTTPS helper) before its exec:
 * e.g. joining the task's cgroup. */
void exec_checks_set_child_hook(struct exec_checks *ck, void (*fn)(void *), void *arg);
/* Ends all attempts (SIGKILL to command groups, which the caller reaps). Accepts NULL. */
void exec_checks_free(struct exec_checks *ck);
/* Fills up to max pollfds for the attempts in flight; returns how many. */
size_t exec_checks_pollfds(struct exec_checks *ck, struct pollfd *pfd, size_t max);
/* Milliseconds from now_ms to the next deadline or due attempt (0 = now), -1 for none. */
int exec_checks_timeout(const struct exec_checks *ck, uint64_t now_ms);
/* Handles the pollfds filled by exec_checks_pollfds (their revents), deadlines and due
 * attempts. */
void exec_checks_step(struct exec_checks *ck, const struct pollfd *pfd, size_t n,
		      uint64_t now_ms);
/* A child the caller reaped: 1 if it was a check's (its result is taken), else 0. */
int exec_checks_reaped(struct exec_checks *ck, pid_t pid, int wstatus, uint64_t now_ms);
/* The current state (for tests). */
const struct exec_health *exec_checks_state(const struct exec_checks *ck);

/* Monotonic and realtime milliseconds. */
uint64_t exec_mono_ms(void);
uint64_t exec_real_ms(void);
