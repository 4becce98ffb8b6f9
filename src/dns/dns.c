/* The DNS records of the master's tasks and the answers to queries: see dns.h.
 *
 * Invariants:
 *  - The zone holds exactly the records of the tasks that are TASK_RUNNING (and, when they
 *    have health checks, healthy) as the last task event said: each task's records are the
 *    zone's owner <task id>, replaced at each event of the task and dropped at its end, so
 *    an event costs the task's own records, never a rebuild.
 *  - The names of the master itself (leader, master, masterN, ns1, the built-in
 *    framework's name) are the owner "@master", made once at start; slave.<domain> and
 *    _slave._tcp.<domain> are answered from the agent registry at query time.
 *  - Answers follow Mesos-DNS's resolver: A and SRV from the records, SOA and NS in the
 *    authority section, an empty answer NXDOMAIN with the SOA except for SOA, NS and SRV
 *    queries (NOERROR) and AAAA or names that have records (NOERROR, with the SOA). */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "dns/dns-int.h"
#include "dns/dns-names.h"
#include "dns/dns-wire.h"

#define DNS_MAX_TASK_PORTS 64
#define DNS_NAME_BUF 600

/* snprintf for names: a name cut short matches nothing and is not served (false). */
__attribute__((format(printf, 3, 4))) static bool nm(char *b, size_t cap, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	int n = vsnprintf(b, cap, f, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap || n > DNS_MAX_NAME) {
		b[0] = '\0';
		return false;
	}
	return true;
}

static uint32_t ip_of(const char *s)
{
	struct in_addr a;
	if (!s || inet_pton(AF_INET, s, &a) != 1)
		return 0;
	return a.s_addr;
}

/* The IPv4 address of host (a literal or a name resolved once at start), or 0. */
static uint32_t resolve4(const char *host)
{
	uint32_t ip = ip_of(host);
	if (ip || !host)
		return ip;
	struct addrinfo hints = { .ai_family = AF_INET }, *res = NULL;
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
		return 0;
	ip = ((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr;
	freeaddrinfo(res);
	return ip;
}

void dns_touch(struct dns *d)
{
	d->serial = (uint32_t)(time_real_usec() / 1000000);
}

/* ---- a task's records (records/generator.go's taskContextRecord) ---- */

struct task_ctx {
	struct dns *d;
	const char *owner;
	const char *fw;         /* the framework's domain fragment */
	const char *hash, *tail;
	uint32_t ip;
	const uint32_t *ports;
	size_t nports;
	const json_t *dports;   /* DiscoveryInfo ports[], or NULL */
	bool disc;
};

static void srv_both(struct task_ctx *c, const char *pre, const char *proto, const char *sub,
		     const char *target, uint16_t port)
{
	char name[DNS_NAME_BUF];
	for (int i = 0; i < 2; i++) {
		const char *p = proto ? proto : (i ? "udp" : "tcp");
		if (proto && i)
			break;
		nm(name, sizeof(name), "%s._%s.%s%s%s", pre, p, c->fw, sub, c->d->tail);
		dns_zone_add_srv(&c->d->zone, c->owner, name, target, port);
	}
}

static void task_context_records(struct task_ctx *c, const char *tn)
{
	struct dns *d = c->d;
	char canon[DNS_NAME_BUF], name[DNS_NAME_BUF], target[DNS_NAME_BUF], pre[DNS_NAME_BUF];
	nm(canon, sizeof(canon), "%s-%s-%s.%s", tn, c->hash, c->tail, c->fw);
	nm(name, sizeof(name), "%s.%s%s", tn, c->fw, d->tail);
	dns_zone_add_a(&d->zone, c->owner, name, c->ip);
	nm(name, sizeof(name), "%s%s", canon, d->tail);
	dns_zone_add_a(&d->zone, c->owner, name, c->ip);
	nm(name, sizeof(name), "%s.%s.slave%s", tn, c->fw, d->tail);
	dns_zone_add_a(&d->zone, c->owner, name, c->ip);
	nm(name, sizeof(name), "%s.slave%s", canon, d->tail);
	dns_zone_add_a(&d->zone, c->owner, name, c->ip);

	nm(pre, sizeof(pre), "_%s", tn);
	nm(target, sizeof(target), "%s.slave%s", canon, d->tail);
	for (size_t i = 0; i < c->nports; i++) {
		srv_both(c, pre, NULL, ".slave", target, (uint16_t)c->ports[i]);
		if (!c->disc)
			srv_both(c, pre, NULL, "", target, (uint16_t)c->ports[i]);
	}
	if (!c->disc)
		return;
	nm(target, sizeof(target), "%s%s", canon, d->tail);
	size_t i;
	const json_t *p;
	json_array_foreach(c->dports, i, p) {
		json_int_t num = json_integer_value(json_object_get(p, "number"));
		if (num <= 0 || num > 65535)
			continue;
		char proto[DNS_LABEL_MAX + 1], pname[DNS_LABEL_MAX + 1];
		const char *ps = json_string_value(json_object_get(p, "protocol"));
		dns_label(ps ? ps : "", proto);
		srv_both(c, pre, proto[0] ? proto : NULL, "", target, (uint16_t)num);
		const char *pn = json_string_value(json_object_get(p, "name"));
		dns_label(pn ? pn : "", pname);
		if (pname[0]) {
			char named[DNS_NAME_BUF];
			nm(named, sizeof(named), "_%s.%s", pname, pre);
			srv_both(c, named, proto[0] ? proto : NULL, "", target, (uint16_t)num);
		}
	}
}

/* Whether s may stand as it is in a name (Mesos-DNS's legacy raw DiscoveryInfo name). */
static bool raw_ok(const char *s, char *out, size_t cap)
{
	size_t n = strlen(s);
	if (!n || n >= cap || s[0] == '.' || s[n - 1] == '.' || strstr(s, ".."))
		return false;
	for (size_t i = 0; i <= n; i++) {
		char ch = s[i];
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		else if (ch && !((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
				 ch == '-' || ch == '.' || ch == '_'))
			return false;
		out[i] = ch;
	}
	return true;
}

static size_t task_ports(const struct resources *r, uint32_t *out)
{
	size_t n = 0;
	for (size_t i = 0; r && i < r->n; i++) {
		const struct resource *e = &r->v[i];
		if (e->type != RES_RANGES || strcmp(e->name, "ports"))
			continue;
		for (size_t j = 0; j < e->nranges; j++)
			for (uint64_t p = e->ranges[j].begin;
			     p <= e->ranges[j].end && p <= 65535 && n < DNS_MAX_TASK_PORTS; p++)
				out[n++] = (uint32_t)p;
	}
	return n;
}

static void task_records(struct dns *d, const struct rm_task_view *t, const char *framework)
{
	char fw[256], label[DNS_LABEL_MAX + 1], hash[6], tail[DNS_LABEL_MAX + 1];
	dns_domain_frag(framework, fw, sizeof(fw));
	struct m_agent *a = t->agent_id && *t->agent_id ? rm_agent_get(d->m, t->agent_id) : NULL;
	uint32_t ip = a ? resolve4(a->ip) : 0;
	if (!fw[0] || !ip)
		return;
	uint32_t ports[DNS_MAX_TASK_PORTS];
	dns_hash5(t->id, hash);
	dns_slave_tail(t->agent_id, tail);
	const char *dname = json_string_value(json_object_get(t->discovery, "name"));
	struct task_ctx c = {
		.d = d, .owner = t->id, .fw = fw, .hash = hash, .tail = tail, .ip = ip,
		.ports = ports, .nports = task_ports(t->res, ports),
		.dports = json_object_get(json_object_get(t->discovery, "ports"), "ports"),
		.disc = dname != NULL,
	};
	if (dname) {
		char raw[DNS_LABEL_MAX * 4];
		if (raw_ok(dname, raw, sizeof(raw)))
			task_context_records(&c, raw);
		dns_label(dname, label);
	} else {
		dns_label(t->name ? t->name : "", label);
	}
	if (!label[0])
		return;
	task_context_records(&c, label);
	if (t->has_index) { /* berth: a stateful instance's stable name */
		char name[DNS_NAME_BUF];
		nm(name, sizeof(name), "%u.%s.%s%s", t->index, label, fw, d->tail);
		dns_zone_add_a(&d->zone, t->id, name, ip);
	}
}

static void on_task(void *ctx, const struct rm_task_view *t, const char *framework,
		    const char *state)
{
	struct dns *d = ctx;
	bool live = state && !strcmp(state, "TASK_RUNNING") &&
		    (t->has_health ? t->healthy == 1 : t->healthy != 0);
	if (d->serving) {
		bool had = dns_zone_drop(&d->zone, t->id);
		if (live)
			task_records(d, t, framework);
		if (had || live)
			dns_touch(d);
	}
	struct m_agent *a = live && t->agent_id && *t->agent_id ? rm_agent_get(d->m, t->agent_id)
							       : NULL;
	dns_services_task(d, t, live && a, a ? resolve4(a->ip) : 0, a ? a->hostname : NULL);
}

/* ---- the master's own names ---- */

static void master_records(struct dns *d)
{
	char name[DNS_NAME_BUF];
	if (d->master_ip) {
		const char *names[] = { "leader", "master", "master0" };
		for (size_t i = 0; i < 3; i++) {
			nm(name, sizeof(name), "%s%s", names[i], d->tail);
			dns_zone_add_a(&d->zone, "@master", name, d->master_ip);
		}
		char target[DNS_NAME_BUF];
		nm(target, sizeof(target), "leader%s", d->tail);
		nm(name, sizeof(name), "_leader._tcp%s", d->tail);
		dns_zone_add_srv(&d->zone, "@master", name, target, d->master_port);
		nm(name, sizeof(name), "_leader._udp%s", d->tail);
		dns_zone_add_srv(&d->zone, "@master", name, target, d->master_port);
	}
	dns_zone_add_a(&d->zone, "@master", d->soa_mname, d->listen_ip);
}

/* ---- answers ---- */

static uint64_t rnd(struct dns *d)
{
	d->rng ^= d->rng << 13;
	d->rng ^= d->rng >> 7;
	d->rng ^= d->rng << 17;
	return d->rng;
}

/* Whether name is the domain or in it. */
static bool in_domain(const struct dns *d, const char *name)
{
	size_t n = strlen(name), t = strlen(d->tail);
	if (n + 1 == t && !strcmp(name, d->tail + 1))
		return true;
	return n >= t && !strcmp(name + n - t, d->tail);
}

/* slave.<domain>: every connected agent's address, from the registry. */
size_t dns_slave_ips(struct dns *d, uint32_t *out, size_t cap)
{
	size_t n = 0;
	const char *k;
	void *v;
	for (size_t i = 0; d->m && n < cap && hmap_next(rm_agents(d->m), &i, &k, &v);) {
		const struct m_agent *a = v;
		uint32_t ip = a->state == AGENT_CONNECTED ? resolve4(a->ip) : 0;
		bool dup = false;
		for (size_t j = 0; j < n; j++)
			dup = dup || out[j] == ip;
		if (ip && !dup)
			out[n++] = ip;
	}
	return n;
}

static void shuffle(struct dns *d, size_t *idx, size_t n)
{
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	for (size_t i = 0; i + 1 < n; i++) {
		size_t r = i + (size_t)(rnd(d) % (n - i)), t = idx[i];
		idx[i] = idx[r];
		idx[r] = t;
	}
}

#define MAX_ANSWERS 1024

static void answer_a(struct dns *d, struct dns_msg *m, const char *qname, const char *name,
		     const struct dz_name *zn)
{
	uint32_t ips[256];
	size_t n = 0;
	char sl[DNS_NAME_BUF];
	nm(sl, sizeof(sl), "slave%s", d->tail);
	if (!strcmp(name, sl))
		n = dns_slave_ips(d, ips, 256);
	for (size_t i = 0; zn && i < zn->na && n < 256; i++)
		ips[n++] = zn->a[i].ip;
	size_t idx[256];
	shuffle(d, idx, n);
	for (size_t i = 0; i < n; i++)
		dns_msg_a(m, 0, qname, d->ttl, ips[idx[i]]);
}

/* _slave._tcp.<domain>: slave.<domain>. with each connected agent's port (Mesos-DNS's
 * slaveRecords), from the registry. */
static void answer_slave_srv(struct dns *d, struct dns_msg *m, const char *qname)
{
	char target[DNS_NAME_BUF];
	nm(target, sizeof(target), "slave%s", d->tail);
	const char *k;
	void *v;
	size_t n = 0;
	for (size_t i = 0; d->m && n < MAX_ANSWERS && hmap_next(rm_agents(d->m), &i, &k, &v);) {
		const struct m_agent *a = v;
		const char *colon = a->http ? strrchr(a->http, ':') : NULL;
		if (a->state != AGENT_CONNECTED || !colon || !resolve4(a->ip))
			continue;
		dns_msg_srv(m, 0, qname, d->ttl, 1, (uint16_t)atoi(colon + 1), target);
		n++;
	}
	uint32_t ips[256];
	size_t na = dns_slave_ips(d, ips, 256);
	for (size_t i = 0; i < na && !m->full; i++)
		dns_msg_a(m, 2, target, d->ttl, ips[i]);
}

static void answer_srv(struct dns *d, struct dns_msg *m, const char *qname,
		       const struct dz_name *zn)
{
	if (!zn || !zn->nsrv)
		return;
	size_t n = zn->nsrv < MAX_ANSWERS ? zn->nsrv : MAX_ANSWERS;
	size_t *idx = xmalloc(n * sizeof(*idx));
	shuffle(d, idx, n);
	for (size_t i = 0; i < n; i++)
		dns_msg_srv(m, 0, qname, d->ttl, 1, zn->srv[idx[i]].port, zn->srv[idx[i]].target);
	/* Additional: the first A of each distinct target (a set, so that a large answer over
	 * TCP stays linear). */
	struct hmap seen = HMAP_INIT;
	for (size_t i = 0; i < n && !m->full; i++) {
		const char *t = zn->srv[idx[i]].target;
		bool dup = false;
		if (n > 8) {
			dup = hmap_get(&seen, t) != NULL;
			if (!dup)
				hmap_put(&seen, t, (void *)1);
		} else {
			for (size_t j = 0; j < i && !dup; j++)
				dup = !strcmp(zn->srv[idx[j]].target, t);
		}
		if (dup)
			continue;
		const struct dz_name *tn = dns_zone_get(&d->zone, t);
		if (tn && tn->na)
			dns_msg_a(m, 2, t, d->ttl, tn->a[0].ip);
	}
	hmap_release(&seen);
	free(idx);
}

static void soa(struct dns *d, struct dns_msg *m, const char *qname)
{
	dns_msg_soa(m, 1, qname, d->ttl, d->soa_mname, d->soa_rname, d->serial, 60, 600, 86400,
		    d->ttl);
}

size_t dns_answer(struct dns *d, const uint8_t *raw, size_t n, uint8_t *out, size_t cap,
		  bool udp)
{
	struct dns_query q;
	int r = dns_query_parse(raw, n, &q);
	if (r == -EINVAL)
		return 0;
	if (r < 0)
		return dns_msg_error(out, cap, &q, dns_query_rcode(&q));
	size_t max = udp ? (q.edns_size ? q.edns_size : DNS_UDP_MAX) : DNS_MAX_MSG;
	if (max > cap)
		max = cap;
	struct dns_msg m;
	if (!in_domain(d, q.name)) {
		if (d->fwd)
			return DNS_FORWARD;
		/* No resolvers: REFUSED (Mesos-DNS's answer when it cannot forward). */
		dns_msg_begin(&m, out, max, &q, raw, false, false, DNS_R_REFUSED);
		return dns_msg_end(&m);
	}
	dns_msg_begin(&m, out, max, &q, raw, true, d->nresolvers > 0, DNS_R_NOERROR);
	/* Mesos-DNS drops ".*" (wildcards) from the name. */
	char name[DNS_MAX_NAME + 2];
	size_t o = 0;
	for (const char *p = q.name; *p && o + 1 < sizeof(name); p++) {
		if (p[0] == '.' && p[1] == '*') {
			p++;
			continue;
		}
		name[o++] = *p;
	}
	name[o] = '\0';
	const struct dz_name *zn = dns_zone_get(&d->zone, name);
	char sl[DNS_NAME_BUF];
	nm(sl, sizeof(sl), "slave%s", d->tail);
	bool is_slave = !strcmp(name, sl);
	char slsrv[DNS_NAME_BUF];
	nm(slsrv, sizeof(slsrv), "_slave._tcp%s", d->tail);
	bool is_slave_srv = !strcmp(name, slsrv);
	switch (q.qtype) {
	case DNS_T_SRV:
		if (is_slave_srv)
			answer_slave_srv(d, &m, q.name);
		answer_srv(d, &m, q.name, zn);
		break;
	case DNS_T_A:
		answer_a(d, &m, q.name, name, zn);
		break;
	case DNS_T_SOA:
		soa(d, &m, q.name);
		break;
	case DNS_T_NS:
		dns_msg_ns(&m, 1, q.name, d->ttl, d->soa_mname);
		break;
	case DNS_T_ANY:
		if (is_slave_srv)
			answer_slave_srv(d, &m, q.name);
		answer_srv(d, &m, q.name, zn);
		answer_a(d, &m, q.name, name, zn);
		soa(d, &m, q.name);
		dns_msg_ns(&m, 1, q.name, d->ttl, d->soa_mname);
		break;
	default:
		break;
	}
	if (m.an == 0 && !m.full && q.qtype != DNS_T_SOA && q.qtype != DNS_T_NS &&
	    q.qtype != DNS_T_SRV) {
		bool has = (zn && (zn->na || zn->nsrv)) || is_slave || is_slave_srv;
		if (!(q.qtype == DNS_T_AAAA || has))
			dns_msg_set_rcode(&m, DNS_R_NXDOMAIN);
		soa(d, &m, q.name);
	}
	if (m.full)
		dns_msg_set_tc(&m);
	return dns_msg_end(&m);
}

/* ---- life cycle ---- */

/* Labels of 1–63 bytes of a-z, 0-9, '-', joined by single dots; at most 200 bytes. */
static bool domain_ok(const char *s)
{
	size_t n = strlen(s), l = 0;
	if (!n || n > 200)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char c = s[i];
		if (c == '.' || !c) {
			if (l == 0 || l > 63)
				return false;
			l = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
			l++;
		} else {
			return false;
		}
	}
	return true;
}

int dns_new(struct master *m, const struct master_config *cfg, struct dns **out)
{
	struct dns *d = xcalloc(1, sizeof(*d));
	d->m = m;
	d->base = rm_base(m);
	d->udp_fd = -1;
	const char *dom = cfg->dns_domain && *cfg->dns_domain ? cfg->dns_domain : "mesos";
	size_t i = 0;
	for (; dom[i] && i + 1 < sizeof(d->domain); i++)
		d->domain[i] = (char)(dom[i] >= 'A' && dom[i] <= 'Z' ? dom[i] - 'A' + 'a' : dom[i]);
	while (i && d->domain[i - 1] == '.')
		i--;
	d->domain[i] = '\0';
	if (!domain_ok(d->domain)) {
		log_error("dns", "--dns-domain '%s': expected DNS labels of a-z, 0-9 and '-' "
				 "joined by '.'", dom);
		dns_free(d);
		return -EINVAL;
	}
	nm(d->tail, sizeof(d->tail), ".%s.", d->domain);
	nm(d->soa_mname, sizeof(d->soa_mname), "ns1%s", d->tail);
	nm(d->soa_rname, sizeof(d->soa_rname), "root.ns1%s", d->tail);
	d->ttl = cfg->dns_ttl_sec > 0 ? (uint32_t)cfg->dns_ttl_sec : 60;
	d->rng = time_real_usec() | 1;
	dns_touch(d);
	dns_zone_init(&d->zone);
	hmap_init(&d->services);
	hmap_init(&d->task_app);
	hmap_init(&d->fw_want);
	if (dns_services_start(d, cfg->svc_watch_buffer) < 0) {
		dns_free(d);
		return -EINVAL;
	}
	d->master_ip = resolve4(cfg->http_addr);
	if (d->master_ip == htonl(INADDR_ANY))
		d->master_ip = resolve4(cfg->hostname ? cfg->hostname : "localhost");
	d->master_port = cfg->http_port;
	d->listen_ip = ip_of(cfg->dns_addr);
	if (!d->listen_ip || d->listen_ip == htonl(INADDR_ANY))
		d->listen_ip = d->master_ip ? d->master_ip : htonl(INADDR_LOOPBACK);
	int r = 0;
	if (cfg->dns_resolvers && *cfg->dns_resolvers) {
		d->resolvers_text = xstrdup(cfg->dns_resolvers);
		r = dns_fwd_parse(d, cfg->dns_resolvers);
		if (r < 0) {
			log_error("dns", "--dns-resolvers '%s': expected IP[:PORT],… (at most %d)",
				  cfg->dns_resolvers, DNS_MAX_RESOLVERS);
			dns_free(d);
			return r;
		}
		r = dns_fwd_start(d);
	}
	d->serving = cfg->dns_addr != NULL;
	if (r >= 0 && d->serving) {
		r = dns_server_listen(d, cfg->dns_addr, cfg->dns_port);
		if (r < 0 && cfg->dns_soft) {
			log_warn("dns", "cannot listen on %s:%u (%s): running without DNS",
				 cfg->dns_addr, (unsigned)cfg->dns_port, strerror(-r));
			dns_server_close(d);
			d->serving = false;
			r = 0;
		}
	}
	if (r < 0) {
		log_error("dns", "cannot listen on %s:%u: %s", cfg->dns_addr,
			  (unsigned)cfg->dns_port, strerror(-r));
		dns_free(d);
		return r;
	}
	if (d->serving)
		master_records(d);
	rm_task_listen(m, on_task, d);
	rm_framework_listen(m, dns_fw_on_framework, d);
	if (d->serving)
		log_info("dns", "serving '%s' on %s:%u (udp, tcp)", d->domain, cfg->dns_addr,
			 (unsigned)d->port);
	*out = d;
	return 0;
}

void dns_set_master_port(struct dns *d, uint16_t port);
void dns_set_master_port(struct dns *d, uint16_t port)
{
	if (!d || d->master_port == port)
		return;
	d->master_port = port;
	dns_zone_drop(&d->zone, "@master");
	master_records(d);
}

void dns_stop(struct dns *d)
{
	if (!d)
		return;
	if (d->m) {
		rm_task_listen(d->m, NULL, NULL);
		rm_framework_listen(d->m, NULL, NULL);
	}
	d->m = NULL;
	dns_server_close(d);
	dns_fwd_stop(d);
	dns_fw_stop(d);
	dns_services_close_all(d);
}

void dns_free(struct dns *d)
{
	if (!d)
		return;
	dns_stop(d);
	dns_services_free(d);
	dns_zone_release(&d->zone);
	free(d->resolvers_text);
	free(d);
}

uint16_t dns_port(const struct dns *d)
{
	return d->port;
}
