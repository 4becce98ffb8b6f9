/* Leader election among masters sharing a zk:// store (ZooKeeper's recipe).
 *
 * Each master creates an ephemeral sequential znode PATH/leader/json.info_NNNNNNNNNN whose
 * data is its MasterInfo JSON, as Mesos's masters do, so tools that find a Mesos leader in
 * ZooKeeper find berth's. The lowest sequence leads; every other master watches only its
 * predecessor. Until elected a master is a standby (leader.c serves its few answers: the
 * leader's name, 307 redirects to it); once elected master-main.c builds the full server,
 * which recovers from the store.
 *
 * Invariants:
 *  - A master whose election session expires (or that abdicates: DELETE /v2/leader) stops
 *    at once: it re-executes itself and joins the election again as a standby. Nothing
 *    acknowledged is lost (the store commits before answering).
 *  - The election has its own ZooKeeper session; the store's is separate, fenced by the
 *    election znode: an ex-leader's writes fail even on a fresh store session.
 *  - An elected master pings ZooKeeper every sixth of the session timeout; one whose last
 *    answered ping was sent more than half the session timeout ago (the ensemble cannot
 *    have expired its session before a full timeout after that send) is fenced
 *    (leader_fenced): it acts on nothing until its session is back, and re-executes as a
 *    standby if the session turns out to have expired. So it stops before another master
 *    can be elected (test_ha_partition.py cuts it off with a network namespace).
 */
#pragma once
#include <event2/event.h>
#include <event2/http.h>
#include <stdbool.h>

#include "master/rm.h" /* struct master_config */

struct leader;

struct http_tls;
struct http_limits;

/* Binds cfg's HTTP address as a standby and joins the election of the zk:// store in cfg.
 * With tls (the master's --tls-cert/--tls-key[/--tls-ca] server context, borrowed) the
 * standby serves HTTPS only, as the elected master will; tls_client (borrowed, required
 * with tls) is its client context for proxying to the leader: the leader's certificate is
 * verified against --tls-ca (must name the leader's advertised hostname) and the standby's
 * own certificate is presented (mutual TLS). lim (borrowed, may be NULL) caps the standby's
 * connections as the full server's. Both must outlive l. 0 and *out, or -errno (logged). */
int leader_join(struct event_base *base, const struct master_config *cfg, struct http_tls *tls,
		struct http_tls *tls_client, const struct http_limits *lim, struct leader **out);
/* Runs the loop as a standby until elected (returns 1; the standby's HTTP server is closed,
 * its port is *port for the full server to bind) or SIGTERM/SIGINT (0). */
int leader_wait(struct leader *l, uint16_t *port);
/* Our election znode's path (borrowed, l's life): the store's fence once elected. */
const char *leader_znode(const struct leader *l);
/* Leaves the election (deleting the znode) and frees l. NULL is fine. */
void leader_free(struct leader *l);

/* True while the elected master's last answered ping was sent more than half the session
 * timeout ago (or its client has been without a server for 2/3 of it): its session may
 * expire soon and another master lead, so the tick acts on nothing (reads are still
 * served; the store refuses writes).
 * False without an election. Logs each change. */
bool leader_fenced(void);

/* DELETE /v2/leader on the elected master: answers 200 and abdicates shortly after; 400
 * when this master takes part in no election (a sqlite: store). */
void leader_http_abdicate(struct evhttp_request *req);
