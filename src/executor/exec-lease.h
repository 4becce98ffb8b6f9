/* The volume lease as the agent publishes it and its shims enforce it (agent-protocol.md §8,
 * "Fencing"). Plain libc only: the shim links this.
 *
 * <work-dir>/lease holds one line "<deadline>\n": the CLOCK_MONOTONIC time, in microseconds,
 * until which this agent's tasks holding volumes may run (the last time the agent heard from
 * the master + volume_lease_seconds). The agent replaces it atomically (tmp + rename), at
 * most every EXEC_LEASE_CHECK_USEC unless a launch needs it now; the clock is system-wide, so
 * the value means the same to every process of the host (and nothing after a reboot, when no
 * shim survives anyway).
 *
 * A shim whose spec names the file (only tasks with volumes) reads it every
 * EXEC_LEASE_CHECK_USEC and fences the task once the deadline has passed, or once the file
 * cannot be read after it was read once. Before a valid lease was ever read there is nothing
 * to enforce: the agent publishes one before it writes such a task's spec whenever the master
 * gave it a lease (a LAUNCH only comes after REGISTERED), so a shim without one is a shim of
 * an agent without fencing. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define EXEC_LEASE_FILE "lease"
#define EXEC_LEASE_CHECK_USEC 250000u

/* The CLOCK_MONOTONIC time in microseconds (what the deadline is measured in). */
uint64_t exec_lease_now_usec(void);
/* Writes <dir>/lease = deadline_usec atomically (not fsync'd: it means nothing after a
 * reboot). 0 or -errno. */
int exec_lease_write(const char *dir, uint64_t deadline_usec);
/* Reads a lease file. 0, -errno (-ENOENT when absent), -EINVAL when it does not hold one
 * decimal number and a newline. */
int exec_lease_read(const char *path, uint64_t *deadline_usec);

/* A shim's view of the lease. */
struct exec_lease {
	const char *path;        /* borrowed; NULL: nothing to enforce */
	bool seen;               /* a valid lease was read once */
	uint64_t deadline_usec;  /* the last one read */
	uint64_t next_read_usec; /* when to read the file again */
};

/* True when the task must be fenced now: a lease was seen and its deadline has passed, or the
 * file has become unreadable. Reads the file when next_read_usec has come, and before it
 * declares a cached deadline passed (the agent may have renewed it meanwhile). Never true
 * for path NULL or before a lease was seen. */
bool exec_lease_expired(struct exec_lease *l, uint64_t now_usec);
/* Milliseconds until exec_lease_expired has something to do (for poll), -1 for none. */
int exec_lease_timeout_ms(const struct exec_lease *l, uint64_t now_usec);
