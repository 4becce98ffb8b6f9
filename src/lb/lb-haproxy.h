/* berth lb's HAProxy: one master-worker HAProxy (`haproxy -W -S master.sock`) it starts
 * and owns, configured from files in the config dir.
 *
 *  - lbh_check runs `haproxy -c -f FILE` and returns HAProxy's message when it rejects it;
 *  - lbh_reload asks the master to reload (SIGUSR2): it re-executes itself, starts a new
 *    worker on the new file, the listening sockets are handed over (the stats socket has
 *    `expose-fd listeners`), and the old worker finishes its connections: nothing is
 *    refused. It returns once the new worker is the current one;
 *  - lbh_runtime sends runtime API commands to the current worker on the stats socket,
 *    checking by its pid that they did not land on an old, draining worker.
 * All calls block (bounded: HAProxy's own start-up and CLI round trips on a local socket);
 * the lb runs them from its loop between events, and has nothing else to serve meanwhile. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/strbuf.h"

struct lbh {
	const char *haproxy; /* the binary; borrowed */
	char *dir;
	char *cfg;           /* DIR/haproxy.cfg: the one in use */
	char *master_sock;   /* DIR/master.sock */
	char *sock;          /* DIR/haproxy.sock: the workers' stats socket */
	pid_t master;        /* 0: not running */
	pid_t worker;        /* the current worker */
	unsigned reloads;
};

void lbh_init(struct lbh *h, const char *haproxy, const char *dir);
void lbh_release(struct lbh *h); /* stops HAProxy (SIGUSR1: after its connections) */

/* False once the HAProxy master has exited (reaped here; the next lbh_apply starts one). */
bool lbh_alive(struct lbh *h);
/* Validates the configuration in file; on rejection returns -EINVAL with HAProxy's
 * output in msg. -errno when HAProxy could not be run. */
int lbh_check(struct lbh *h, const char *file, struct strbuf *msg);
/* Starts HAProxy on h->cfg when it is not running, else reloads it onto h->cfg. Returns
 * 0 once the new worker answers, -errno (with a log line) otherwise. */
int lbh_apply(struct lbh *h);
/* Sends the commands (one per line in cmds) to the current worker; collects its answers
 * in reply. Returns 0, or -errno. */
int lbh_runtime(struct lbh *h, const char *cmds, struct strbuf *reply);
