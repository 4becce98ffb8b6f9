/* Feeds arbitrary bytes to the DNS server's answer path (the query parser, then the answer
 * built from a small zone), over UDP and TCP limits. */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "dns/dns-int.h"
#include "dns/dns-wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dns d;
	static bool init;
	if (!init) {
		init = true;
		strcpy(d.domain, "mesos");
		strcpy(d.tail, ".mesos.");
		strcpy(d.soa_mname, "ns1.mesos.");
		strcpy(d.soa_rname, "root.ns1.mesos.");
		d.ttl = 60;
		d.rng = 1;
		dns_zone_init(&d.zone);
		for (uint32_t i = 0; i < 40; i++) {
			char owner[16];
			snprintf(owner, sizeof(owner), "t%u", i);
			dns_zone_add_a(&d.zone, owner, "web.marathon.mesos.", htonl(0x0a000000 + i));
			dns_zone_add_srv(&d.zone, owner, "_web._tcp.marathon.mesos.",
					 "web-abcde-s1.marathon.slave.mesos.", (uint16_t)(31000 + i));
		}
		dns_zone_add_a(&d.zone, "t0", "web-abcde-s1.marathon.slave.mesos.", htonl(1));
	}
	static uint8_t out[DNS_MAX_MSG];
	size_t n = dns_answer(&d, data, size, out, sizeof(out), true);
	if (n > 512) {
		struct dns_query q;
		if (dns_query_parse(data, size, &q) != 0 || !q.edns_size || n > q.edns_size)
			__builtin_trap();
	}
	n = dns_answer(&d, data, size, out, sizeof(out), false);
	if (n > sizeof(out))
		__builtin_trap();
	/* Whatever we answer parses back as a header with our id. */
	if (n && n < 12)
		__builtin_trap();
	return 0;
}
