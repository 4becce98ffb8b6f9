/* The frameworks' names (Mesos-DNS's records/generator.go frameworkRecords):
 * <framework>.<domain> A, the address of each framework's scheduler, for every framework the
 * master lists (rm_framework_listen): an external framework's FrameworkInfo.hostname, the
 * master's own address for the built-in ones. Frameworks that share a name share it.
 *
 * Mesos-DNS also makes _framework._tcp.<framework>.<domain> SRV, but only from the
 * framework's libprocess PID; a v1 (HTTP) framework has none (Mesos's /master/state leaves
 * "pid" out, and berth's too), so Mesos-DNS makes none for it, and neither does this.
 *
 * A hostname that is not an address literal is resolved asynchronously (libevent's evdns:
 * /etc/hosts, then the system's name servers, as hostToIP4 asks the system), never on the
 * loop's time. Invariants:
 *  - the records of a framework are the zone owner "fw/<id>" ('/' is never in a task id),
 *    dropped whenever the framework changes or goes;
 *  - fw_want holds, for each framework whose hostname is being resolved, what it asked for
 *    ("<fragment>\n<hostname>"); a lookup's answer is used only if the framework still
 *    wants exactly that, so a late answer for an old hostname or a removed framework is
 *    dropped;
 *  - at most DNS_FW_MAX_LOOKUPS lookups in flight (a framework past that gets no name, with
 *    a warning); each frees itself in its callback, which runs once. */
#include <arpa/inet.h>
#include <event2/dns.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "dns/dns-int.h"
#include "dns/dns-names.h"
#include "dns/dns-wire.h"

#define DNS_FW_MAX_LOOKUPS 256

struct dns_fw_lookup {
	struct dns *d;            /* NULL once cancelled */
	char *owner, *want;
	struct evdns_getaddrinfo_request *req;
	bool starting, done;      /* the callback ran while evdns_getaddrinfo was starting */
	struct dns_fw_lookup *prev, *next;
};

/* Adds <fragment>.<domain> A ip under owner. */
static void add(struct dns *d, const char *owner, const char *frag, uint32_t ip)
{
	char rr[DNS_MAX_NAME + 2];
	int n = snprintf(rr, sizeof(rr), "%s%s", frag, d->tail);
	if (!ip || n < 0 || n > DNS_MAX_NAME)
		return;
	dns_zone_add_a(&d->zone, owner, rr, ip);
	dns_touch(d);
}

static void unlink_lookup(struct dns *d, struct dns_fw_lookup *l)
{
	if (l->prev)
		l->prev->next = l->next;
	else
		d->lookups = l->next;
	if (l->next)
		l->next->prev = l->prev;
	l->prev = l->next = NULL;
	d->nlookups--;
}

static void lookup_free(struct dns_fw_lookup *l)
{
	free(l->owner);
	free(l->want);
	free(l);
}

static void on_resolved(int result, struct evutil_addrinfo *res, void *arg)
{
	struct dns_fw_lookup *l = arg;
	struct dns *d = l->d;
	if (d) {
		const char *cur = hmap_get(&d->fw_want, l->owner);
		uint32_t ip = 0;
		for (struct evutil_addrinfo *a = res; result == 0 && a && !ip; a = a->ai_next)
			if (a->ai_family == AF_INET)
				ip = ((struct sockaddr_in *)a->ai_addr)->sin_addr.s_addr;
		const char *nl = strchr(l->want, '\n');
		if (cur && !strcmp(cur, l->want)) {
			free(hmap_del(&d->fw_want, l->owner));
			if (ip) {
				char frag[256];
				snprintf(frag, sizeof(frag), "%.*s", (int)(nl - l->want), l->want);
				add(d, l->owner, frag, ip);
			} else {
				log_warn("dns", "framework '%s': hostname '%s' has no IPv4 address (%s): "
						"no name for it", l->owner + 3, nl + 1,
					 evutil_gai_strerror(result));
			}
		}
		unlink_lookup(d, l);
	}
	if (res)
		evutil_freeaddrinfo(res);
	if (l->starting)
		l->done = true; /* dns_fw_on_framework frees it */
	else
		lookup_free(l);
}

static void resolve(struct dns *d, const char *owner, const char *frag, const char *host)
{
	if (d->nlookups >= DNS_FW_MAX_LOOKUPS) {
		log_warn("dns", "framework '%s': %u hostname lookups in flight already: no name "
				"for it", owner + 3, d->nlookups);
		return;
	}
	if (!d->evdns) {
		d->evdns = evdns_base_new(d->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
						   EVDNS_BASE_DISABLE_WHEN_INACTIVE);
		if (!d->evdns)
			d->evdns = evdns_base_new(d->base, 0); /* no resolv.conf: /etc/hosts only */
		if (!d->evdns)
			return;
		evdns_base_load_hosts(d->evdns, NULL);
	}
	struct dns_fw_lookup *l = xcalloc(1, sizeof(*l));
	l->d = d;
	l->owner = xstrdup(owner);
	l->want = xasprintf("%s\n%s", frag, host);
	free(hmap_put(&d->fw_want, owner, xstrdup(l->want)));
	l->next = d->lookups;
	if (d->lookups)
		d->lookups->prev = l;
	d->lookups = l;
	d->nlookups++;
	struct evutil_addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM };
	l->starting = true;
	struct evdns_getaddrinfo_request *req =
		evdns_getaddrinfo(d->evdns, host, NULL, &hints, on_resolved, l);
	l->starting = false;
	if (l->done)
		lookup_free(l); /* answered at once (/etc/hosts, or an error) */
	else
		l->req = req;
}

void dns_fw_on_framework(void *ctx, const char *id, const char *name, const char *hostname,
			 bool present)
{
	struct dns *d = ctx;
	if (!d->serving)
		return;
	char owner[300], frag[256];
	int n = snprintf(owner, sizeof(owner), "fw/%s", id);
	if (n < 0 || (size_t)n >= sizeof(owner))
		return;
	if (dns_zone_drop(&d->zone, owner))
		dns_touch(d);
	free(hmap_del(&d->fw_want, owner)); /* a lookup in flight is now stale */
	if (!present)
		return;
	dns_domain_frag(name, frag, sizeof(frag));
	if (!frag[0])
		return;
	struct in_addr lit;
	if (!hostname) /* a built-in framework: the master */
		add(d, owner, frag, d->master_ip);
	else if (inet_pton(AF_INET, hostname, &lit) == 1)
		add(d, owner, frag, lit.s_addr);
	else if (*hostname && strlen(hostname) <= DNS_MAX_NAME)
		resolve(d, owner, frag, hostname);
}

void dns_fw_stop(struct dns *d)
{
	while (d->lookups) {
		struct dns_fw_lookup *l = d->lookups;
		unlink_lookup(d, l);
		l->d = NULL; /* its callback only frees it */
		if (l->req)
			evdns_getaddrinfo_cancel(l->req);
	}
	if (d->evdns)
		evdns_base_free(d->evdns, 1);
	d->evdns = NULL;
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&d->fw_want, &i, &k, &v);)
		free(v);
	hmap_release(&d->fw_want);
}
