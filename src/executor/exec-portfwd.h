/* The BRIDGE port forwarder of a container task (exec-container.h). Plain libc.
 *
 * A userspace relay, not NAT: berth creates no bridge, veth or firewall rule, so it needs
 * nothing from the machine beyond network namespaces. The forwarder binds each mapping's
 * host port on all addresses in the host's namespace, then unshares a network namespace of
 * its own (loopback up) that the container joins. Each accepted connection is relayed to
 * 127.0.0.1:<containerPort> in that namespace; a refused connect closes the accepted one.
 * At most PORTFWD_MAX_CONNS connections at a time (more wait in the listen backlog), each
 * with 2 × 16 KiB of buffer. A UDP mapping binds its host port for datagrams: each client
 * address gets a session, a socket in the namespace connected to 127.0.0.1:<containerPort>,
 * whose replies go back to that client from the host port; at most PORTFWD_MAX_UDP sessions
 * (the least recently used one is reused past that), each closed after 120 s without a
 * datagram. The forwarder dies with the shim (PDEATHSIG). */
#pragma once
#include <stddef.h>
#include <sys/types.h>

#include "executor/exec-spec.h"

#define PORTFWD_MAX_CONNS 512
#define PORTFWD_MAX_UDP 256

/* Binds the host ports and forks the forwarder; returns once its namespace exists (its pid
 * in *pid: /proc/<pid>/ns/net is the namespace). 0, or -errno with msg (a port in use says
 * which). */
int exec_portfwd_start(const struct exec_portmap *m, size_t n, pid_t *pid, char *msg,
		       size_t msglen);
