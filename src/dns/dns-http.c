/* Mesos-DNS's HTTP API (resolver/resolver.go's configureHTTP): /v1/version, /v1/config,
 * /v1/hosts/{host}, /v1/services/{service}, with its JSON shapes. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "dns/dns-int.h"
#include "dns/dns-wire.h"
#include "net/http.h"

#define DNS_VERSION "v0.9.0-berth"

static bool off(struct dns *d, struct evhttp_request *req)
{
	if (d && d->serving)
		return false;
	http_reply_text(req, 404, "The DNS server is off (berth master --dns ADDR:PORT)");
	return true;
}

void dns_http_version(struct dns *d, struct evhttp_request *req)
{
	if (off(d, req))
		return;
	http_reply_json(req, 200, json_pack("{s:s, s:s, s:s}", "Service", "Mesos-DNS", "Version",
					    DNS_VERSION, "URL",
					    "https://github.com/mesosphere/mesos-dns"));
}

static json_t *ip_json(uint32_t ip)
{
	char b[INET_ADDRSTRLEN];
	struct in_addr a = { ip };
	return json_string(inet_ntop(AF_INET, &a, b, sizeof(b)) ? b : "");
}

void dns_http_config(struct dns *d, struct evhttp_request *req)
{
	if (off(d, req))
		return;
	json_t *resolvers = json_array();
	for (size_t i = 0; i < d->nresolvers; i++)
		json_array_append_new(resolvers, ip_json(d->resolvers[i].sin_addr.s_addr));
	char master[64];
	struct in_addr ma = { d->master_ip };
	char ipb[INET_ADDRSTRLEN];
	snprintf(master, sizeof(master), "%s:%u",
		 inet_ntop(AF_INET, &ma, ipb, sizeof(ipb)) ? ipb : "", (unsigned)d->master_port);
	char mname[300], rname[300];
	snprintf(mname, sizeof(mname), "%s", d->soa_mname);
	snprintf(rname, sizeof(rname), "%s", d->soa_rname);
	json_t *c = json_pack(
		"{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:s, s:s,"
		" s:[s], s:{}, s:o, s:s, s:s, s:s, s:s, s:s}",
		"RefreshSeconds", 60, "Port", (int)d->port, "Timeout", 5, "StateTimeoutSeconds",
		300, "ZkDetectionTimeout", 30, "HttpPort", 0, "TTL", (int)d->ttl,
		"SRVRecordDefaultWeight", 1, "SOASerial", (int)d->serial, "SOARefresh", 60,
		"SOARetry", 600, "SOAExpire", 86400, "SOAMinttl", (int)d->ttl, "SOAMname", mname,
		"SOARname", rname, "Masters", master, "ZoneResolvers", "Resolvers", resolvers,
		"Zk", "", "Domain", d->domain, "File", "", "Listener", "", "HTTPListener", "");
	json_object_set_new(c, "DnsOn", json_true());
	json_object_set_new(c, "HttpOn", json_true());
	json_object_set_new(c, "ExternalOn", json_boolean(d->nresolvers > 0));
	json_object_set_new(c, "RecurseOn", json_boolean(d->nresolvers > 0));
	json_object_set_new(c, "EnforceRFC952", json_false());
	json_object_set_new(c, "IPSources", json_pack("[s,s,s]", "netinfo", "mesos", "host"));
	json_object_set_new(c, "EnumerationOn", json_false());
	json_object_set_new(c, "MesosHTTPSOn", json_false());
	json_object_set_new(c, "CACertFile", json_string(""));
	json_object_set_new(c, "MesosCredentials",
			    json_pack("{s:s, s:s}", "Principal", "", "Secret", ""));
	json_object_set_new(c, "MesosAuthentication", json_string(""));
	json_object_set_new(c, "SetTruncateBit", json_true());
	http_reply_json(req, 200, c);
}

/* The lower-cased name with ".*" removed and a final '.' (Mesos-DNS's cleanWild). */
static void clean(const char *in, char *out, size_t cap)
{
	size_t o = 0;
	for (const char *p = in; *p && o + 2 < cap; p++) {
		if (p[0] == '.' && p[1] == '*') {
			p++;
			continue;
		}
		out[o++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	}
	if (!o || out[o - 1] != '.')
		out[o++] = '.';
	out[o] = '\0';
}

void dns_http_hosts(struct dns *d, struct evhttp_request *req, const char *host)
{
	if (off(d, req))
		return;
	char dom[DNS_MAX_NAME + 2];
	clean(host ? host : "", dom, sizeof(dom));
	const struct dz_name *n = dns_zone_get(&d->zone, dom);
	json_t *a = json_array();
	for (size_t i = 0; n && i < n->na; i++)
		json_array_append_new(a, json_pack("{s:s, s:o}", "host", dom, "ip",
						   ip_json(n->a[i].ip)));
	if (!strncmp(dom, "slave", 5) && !strcmp(dom + 5, d->tail)) { /* from the agent registry, as dns_answer does */
		uint32_t ips[256];
		size_t ns = dns_slave_ips(d, ips, 256);
		for (size_t i = 0; i < ns; i++)
			json_array_append_new(a, json_pack("{s:s, s:o}", "host", dom, "ip",
							   ip_json(ips[i])));
	}
	if (!json_array_size(a))
		json_array_append_new(a, json_pack("{s:s, s:s}", "host", "", "ip", ""));
	http_reply_json(req, 200, a);
}

void dns_http_services(struct dns *d, struct evhttp_request *req, const char *service)
{
	if (off(d, req))
		return;
	char dom[DNS_MAX_NAME + 2];
	clean(service ? service : "", dom, sizeof(dom));
	const struct dz_name *n = dns_zone_get(&d->zone, dom);
	json_t *a = json_array();
	for (size_t i = 0; n && i < n->nsrv; i++) {
		const struct dz_name *t = dns_zone_get(&d->zone, n->srv[i].target);
		char port[8];
		snprintf(port, sizeof(port), "%u", (unsigned)n->srv[i].port);
		json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:s}", "service", service,
						   "host", n->srv[i].target, "ip",
						   t && t->na ? ip_json(t->a[0].ip)
							      : json_string(""),
						   "port", port));
	}
	if (!json_array_size(a))
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}", "service", "", "host",
						   "", "ip", "", "port", ""));
	http_reply_json(req, 200, a);
}
