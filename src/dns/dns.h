/* The master's DNS server: Mesos-DNS's names and answers (reference/compat.md §5), served
 * from memory on the master's event loop over UDP and TCP, and kept up to date by the
 * resource manager's task events (rm_task_listen), not by polling. Also Mesos-DNS's HTTP
 * API (/v1/version, /v1/config, /v1/hosts/{host}, /v1/services/{service}). See docs/dns.md. */
#pragma once
#include <event2/http.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "master/rm.h"

struct dns;

/* Starts the discovery module of m: registers as m's task listener (which loads m's live
 * tasks) for the discovery watch, and, when cfg->dns_addr is set, the DNS server as
 * cfg->dns_* say (UDP and TCP). 0 and *out, or -errno (logged). */
int dns_new(struct master *m, const struct master_config *cfg, struct dns **out);
/* Stops listening and ends every watch stream (their on_close runs from the loop, which the
 * caller runs before dns_free). NULL is fine. */
void dns_stop(struct dns *d);
void dns_free(struct dns *d); /* accepts NULL; dns_stop first */
/* The UDP (= TCP) port it listens on. */
uint16_t dns_port(const struct dns *d);

/* Answers the query q[0..n) into out[0..cap) (cap >= DNS_MAX_MSG for TCP): udp limits the
 * answer to 512 bytes (or the query's EDNS0 size) and sets TC when it had to cut. Returns
 * the answer's length; 0: no answer (unparsable); DNS_FORWARD (dns-int.h) when the name is
 * outside the domain and resolvers are configured (the caller forwards it). */
size_t dns_answer(struct dns *d, const uint8_t *q, size_t n, uint8_t *out, size_t cap,
		  bool udp);

/* Mesos-DNS's HTTP API. d may be NULL (DNS off): 404. */
void dns_http_version(struct dns *d, struct evhttp_request *req);
void dns_http_config(struct dns *d, struct evhttp_request *req);
void dns_http_hosts(struct dns *d, struct evhttp_request *req, const char *host);
void dns_http_services(struct dns *d, struct evhttp_request *req, const char *service);
/* berth's discovery watch: GET /v2/services/{app}[?watch=true] (docs/dns.md). */
void dns_http_services_v2(struct dns *d, struct evhttp_request *req, const char *app);
