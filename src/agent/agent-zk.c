/* --master zk://HOST:PORT,…/PATH: the agent finds the leading master in ZooKeeper, as a
 * Mesos agent's detector does. The masters' election (src/server/leader.c) keeps one
 * ephemeral sequential znode PATH/leader/json.info_NNNNNNNNNN per master, whose data is its
 * MasterInfo JSON; the lowest sequence leads. The agent reads that znode's address and
 * hands it to the link (agent_link_leader), which subscribes there.
 *
 * Threads: the ZooKeeper client's callbacks run on its own thread and only write a byte to
 * a pipe; the loop then reads the election (synchronous calls to a connected session, a
 * round trip on the ZooKeeper connection) and sets a new child watch. A timer reads it
 * every ZK_RECHECK_USEC as well, in case a watch was lost while the session moved to
 * another server. An expired session is replaced by a new one. Without a session the agent
 * keeps the master it has (its tasks run on; the link reconnects when it can). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define THREADED /* the synchronous API of libzookeeper_mt */
#include <zookeeper/zookeeper.h>

#include "agent/agent-int.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"

#define INFO_PREFIX "json.info_"
#define ZK_SESSION_MS 10000
#define ZK_RECHECK_USEC 2000000

struct agent_zk {
	struct agent *a;
	zhandle_t *zh;
	char *hosts; /* "h1:2181,h2:2181" */
	char *dir;   /* PATH/leader */
	int pipe[2];
	struct event *wake, *tick;
};

static void poke(struct agent_zk *z)
{
	char c = 1;
	if (write(z->pipe[1], &c, 1) < 0) {
		/* A full pipe: a wake-up is pending already. */
	}
}

/* ZooKeeper's thread. */
static void on_zk_event(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	poke(ctx);
}

static void on_zk_log(const char *message)
{
	log_debug("zk", "%s", message);
}

static long seq_of(const char *name)
{
	const char *u = strrchr(name, '_');
	return u ? strtol(u + 1, NULL, 10) : -1;
}

/* "host:port" of the leading master (malloc'd), NULL when none is known now. */
static char *read_leader(struct agent_zk *z)
{
	struct String_vector v = { 0, NULL };
	int rc = zoo_wget_children(z->zh, z->dir, on_zk_event, z, &v);
	if (rc != ZOK) {
		if (rc != ZNONODE)
			log_debug("agent", "cannot list '%s' in ZooKeeper: %s", z->dir, zerror(rc));
		return NULL;
	}
	const char *best = NULL;
	for (int i = 0; i < v.count; i++)
		if (str_has_prefix(v.data[i], INFO_PREFIX) &&
		    (!best || seq_of(v.data[i]) < seq_of(best)))
			best = v.data[i];
	char *addr = NULL;
	if (best) {
		_cleanup_free_ char *path = xasprintf("%s/%s", z->dir, best);
		char buf[4096];
		int n = sizeof(buf) - 1;
		struct Stat st;
		if (zoo_get(z->zh, path, 0, buf, &n, &st) == ZOK && n > 0) {
			buf[n] = '\0';
			json_t *info = json_loads(buf, 0, NULL);
			json_t *ad = json_object_get(info, "address");
			const char *host = json_string_value(json_object_get(ad, "hostname"));
			if (!host)
				host = json_string_value(json_object_get(ad, "ip"));
			json_int_t port = json_integer_value(json_object_get(info, "port"));
			if (host && *host && port > 0 && port < 65536)
				addr = xasprintf("%s:%lld", host, (long long)port);
			json_decref(info);
		}
	}
	deallocate_String_vector(&v);
	return addr;
}

static void check(struct agent_zk *z)
{
	if (z->zh && zoo_state(z->zh) == ZOO_EXPIRED_SESSION_STATE) {
		log_warn("agent", "ZooKeeper session expired; opening a new one");
		zookeeper_close(z->zh);
		z->zh = NULL;
	}
	if (!z->zh)
		z->zh = zookeeper_init2(z->hosts, on_zk_event, ZK_SESSION_MS, NULL, z, 0, on_zk_log);
	if (!z->zh || zoo_state(z->zh) != ZOO_CONNECTED_STATE)
		return;
	_cleanup_free_ char *leader = read_leader(z);
	if (leader)
		agent_link_leader(z->a, leader);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	char buf[64];
	while (read(fd, buf, sizeof(buf)) > 0) {
	}
	check(arg);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	check(arg);
}

int agent_zk_start(struct agent *a, const char *url)
{
	const char *h = url + strlen("zk://");
	const char *slash = strchr(h, '/');
	if (!slash || slash == h || !slash[1]) {
		log_error("agent", "bad --master '%s' (want zk://HOST:PORT,…/PATH)", url);
		return -EINVAL;
	}
	struct agent_zk *z = xcalloc(1, sizeof(*z));
	z->a = a;
	z->hosts = xstrndup(h, (size_t)(slash - h));
	size_t n = strlen(slash);
	while (n > 1 && slash[n - 1] == '/')
		n--;
	z->dir = xasprintf("%.*s/leader", (int)n, slash);
	z->pipe[0] = z->pipe[1] = -1;
	a->zk = z;
	if (pipe2(z->pipe, O_CLOEXEC | O_NONBLOCK) == -1) {
		z->pipe[0] = z->pipe[1] = -1;
		return -errno;
	}
	z->wake = event_new(a->base, z->pipe[0], EV_READ | EV_PERSIST, on_wake, z);
	z->tick = event_new(a->base, -1, EV_PERSIST, on_tick, z);
	if (!z->wake || !z->tick)
		return -ENOMEM;
	event_add(z->wake, NULL);
	struct timeval tv = { ZK_RECHECK_USEC / 1000000, ZK_RECHECK_USEC % 1000000 };
	event_add(z->tick, &tv);
	zoo_set_debug_level(ZOO_LOG_LEVEL_WARN);
	z->zh = zookeeper_init2(z->hosts, on_zk_event, ZK_SESSION_MS, NULL, z, 0, on_zk_log);
	if (!z->zh) {
		log_error("agent", "cannot start a ZooKeeper client for '%s'", z->hosts);
		return -EIO;
	}
	log_info("agent", "following the leading master in ZooKeeper at %s%s", z->hosts,
		 z->dir);
	return 0;
}

void agent_zk_stop(struct agent *a)
{
	struct agent_zk *z = a->zk;
	if (!z)
		return;
	a->zk = NULL;
	if (z->zh)
		zookeeper_close(z->zh); /* joins its threads: no callback runs after this */
	if (z->wake)
		event_free(z->wake);
	if (z->tick)
		event_free(z->tick);
	if (z->pipe[0] >= 0) {
		close(z->pipe[0]);
		close(z->pipe[1]);
	}
	free(z->hosts);
	free(z->dir);
	free(z);
}
