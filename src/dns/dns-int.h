/* The DNS module's state, shared by its files. Internal. */
#pragma once
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>

#include "dns/dns-zone.h"
#include "dns/dns.h"

#define DNS_MAX_TCP_CONNS 256
#define DNS_MAX_RESOLVERS 4

struct dns_tcp;
struct dns_fw_lookup;
struct evdns_base;

struct dns {
	struct master *m;
	struct event_base *base;
	char domain[256];       /* "mesos" (lower case, no dots at the ends) */
	char tail[258];         /* ".mesos." */
	char soa_mname[300];    /* "ns1.mesos." */
	char soa_rname[300];    /* "root.ns1.mesos." */
	uint32_t ttl;
	uint32_t serial;        /* SOA serial: realtime seconds of the last change */
	uint32_t master_ip;     /* network order; 0 unknown */
	uint32_t listen_ip;     /* the A record of ns1.<domain> */
	uint16_t master_port;
	char *resolvers_text;
	struct sockaddr_in resolvers[DNS_MAX_RESOLVERS];
	size_t nresolvers;
	struct dns_zone zone;
	int udp_fd;
	struct event *udp_ev;
	struct evconnlistener *tcp;
	struct dns_tcp *conns;
	unsigned nconns;
	uint16_t port;
	struct dns_fwd *fwd;    /* the forwarder (dns-fwd.c), NULL without resolvers */
	uint64_t rng;
	bool serving;           /* --dns given: sockets open, zone kept */
	/* dns-services.c: the discovery watch */
	struct hmap services;   /* app id -> struct svc* */
	struct hmap task_app;   /* task id -> app id (malloc'd) of a listed endpoint */
	unsigned nwatchers;
	size_t watch_max_pending; /* --services-watch-buffer */
	bool stale;             /* the store unreachable: endpoints are the last known */
	struct event *health_ev; /* checks rm_store_healthy every second */
	/* dns-fw.c: the frameworks' names */
	struct hmap fw_want;    /* "fw/<id>" -> "<fragment>\n<hostname>" being resolved */
	struct dns_fw_lookup *lookups; /* in flight */
	unsigned nlookups;
	struct evdns_base *evdns; /* made at the first hostname to resolve */
};

/* dns-server.c */
int dns_server_listen(struct dns *d, const char *addr, uint16_t port);
void dns_server_close(struct dns *d);
/* Writes an answer (n bytes, without the length prefix) to a TCP connection. */
void dns_server_send_tcp(struct dns *d, struct dns_tcp *conn, const uint8_t *b, size_t n);

/* dns-fwd.c: forwarding to --dns-resolvers */
/* Parses "IP[:PORT],…" into d->resolvers. 0 or -EINVAL. */
int dns_fwd_parse(struct dns *d, const char *text);
int dns_fwd_start(struct dns *d);
void dns_fwd_stop(struct dns *d);
/* Forwards the query q[0..n) of a UDP client (from) or a TCP connection (conn). */
void dns_fwd_query(struct dns *d, const uint8_t *q, size_t n, const struct sockaddr_in *from,
		   struct dns_tcp *conn);
/* conn closed: its forwarded queries answer nobody. */
void dns_fwd_conn_gone(struct dns *d, struct dns_tcp *conn);

/* dns-services.c */
/* t changed: listed as an endpoint of its app while live (ip: its agent's address, network
 * order; host: its agent's hostname), else no longer. */
void dns_services_task(struct dns *d, const struct rm_task_view *t, bool live, uint32_t ip,
		       const char *host);
/* Starts watching the store's health (the "stale" flag of the discovery API); max_pending:
 * --services-watch-buffer or NULL. 0 or -EINVAL (logged). */
int dns_services_start(struct dns *d, const char *max_pending);
void dns_services_close_all(struct dns *d);
void dns_services_free(struct dns *d);

/* dns-fw.c: the rm_framework_listen listener (<framework>.<domain> A records). */
void dns_fw_on_framework(void *ctx, const char *id, const char *name, const char *hostname,
			 bool present);
/* Cancels the lookups in flight and frees what dns-fw.c holds. Idempotent. */
void dns_fw_stop(struct dns *d);

/* dns.c: the SOA serial follows a change of the records. */
void dns_touch(struct dns *d);
/* dns.c: the connected agents' addresses (slave.<domain>), at most cap, no duplicates. */
size_t dns_slave_ips(struct dns *d, uint32_t *out, size_t cap);

/* dns_answer's answer for a query to forward. */
#define DNS_FORWARD ((size_t)-1)
