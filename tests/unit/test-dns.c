/* The DNS module's pure parts: the query parser (untrusted bytes), Mesos-DNS's names, the
 * record store and the answers (Mesos-DNS's rcodes, compression, truncation). */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dns/dns-int.h"
#include "dns/dns-names.h"
#include "dns/dns-wire.h"
#include "dns/dns-zone.h"

/* A query for name (presentation form, "a.b.") of type t; returns its length. */
static size_t mkq(uint8_t *b, const char *name, uint16_t t, bool edns, uint16_t edns_size)
{
	memset(b, 0, 12);
	b[0] = 0x12;
	b[1] = 0x34;
	b[2] = 0x01; /* RD */
	b[5] = 1;
	size_t o = 12;
	for (const char *p = name; *p;) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		if (!l)
			break;
		b[o++] = (uint8_t)l;
		memcpy(b + o, p, l);
		o += l;
		p += l + (dot ? 1 : 0);
	}
	b[o++] = 0;
	b[o++] = (uint8_t)(t >> 8);
	b[o++] = (uint8_t)t;
	b[o++] = 0;
	b[o++] = 1;
	if (edns) {
		b[11] = 1;
		b[o++] = 0;
		b[o++] = 0;
		b[o++] = DNS_T_OPT;
		b[o++] = (uint8_t)(edns_size >> 8);
		b[o++] = (uint8_t)edns_size;
		memset(b + o, 0, 6);
		o += 6;
	}
	return o;
}

static void test_parse(void **state)
{
	(void)state;
	uint8_t b[600];
	struct dns_query q;
	size_t n = mkq(b, "Web.Marathon.Mesos.", DNS_T_A, false, 0);
	assert_int_equal(dns_query_parse(b, n, &q), 0);
	assert_string_equal(q.name, "web.marathon.mesos.");
	assert_int_equal(q.qtype, DNS_T_A);
	assert_int_equal(q.id, 0x1234);
	assert_int_equal(q.qend, n);
	assert_int_equal(q.edns_size, 0);
	/* Every cut of it short of the whole is rejected; below 12 bytes without an id. */
	for (size_t cut = 0; cut < n; cut++)
		assert_int_equal(dns_query_parse(b, cut, &q), cut < 12 ? -EINVAL : -EBADMSG);
	/* EDNS0 size; below 512 counts as 512. */
	n = mkq(b, "a.mesos.", DNS_T_SRV, true, 4096);
	assert_int_equal(dns_query_parse(b, n, &q), 0);
	assert_int_equal(q.edns_size, 4096);
	n = mkq(b, "a.mesos.", DNS_T_SRV, true, 100);
	assert_int_equal(dns_query_parse(b, n, &q), 0);
	assert_int_equal(q.edns_size, 512);
	/* A response, two questions, another opcode. */
	n = mkq(b, "a.mesos.", DNS_T_A, false, 0);
	b[2] |= 0x80;
	assert_int_equal(dns_query_parse(b, n, &q), -EBADMSG);
	assert_int_equal(dns_query_rcode(&q), DNS_R_FORMERR);
	b[2] = 0x01;
	b[5] = 2;
	assert_int_equal(dns_query_parse(b, n, &q), -EBADMSG);
	b[5] = 1;
	b[2] = 0x01 | (2 << 3); /* STATUS */
	assert_int_equal(dns_query_parse(b, n, &q), -EBADMSG);
	assert_int_equal(dns_query_rcode(&q), DNS_R_NOTIMP);
	/* A pointer to itself (a loop) and forwards are rejected. */
	memset(b, 0, sizeof(b));
	b[5] = 1;
	b[12] = 0xc0;
	b[13] = 12;
	assert_int_equal(dns_query_parse(b, 18, &q), -EBADMSG);
	b[13] = 14;
	assert_int_equal(dns_query_parse(b, 18, &q), -EBADMSG);
	/* A label with a dot or a control byte in it becomes '?' (matches no record). */
	n = mkq(b, "ab.mesos.", DNS_T_A, false, 0);
	b[13] = '.';
	b[14] = 1;
	assert_int_equal(dns_query_parse(b, n, &q), 0);
	assert_string_equal(q.name, "??.mesos.");
	/* The root. */
	n = mkq(b, ".", DNS_T_NS, false, 0);
	assert_int_equal(dns_query_parse(b, n, &q), 0);
	assert_string_equal(q.name, ".");
	/* A name of exactly 255 bytes (presentation, with the final dot) parses; 257 not. */
	char name[300] = "";
	for (int i = 0; i < 4; i++)
		strcat(name, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."); /* 63 */
	assert_int_equal(strlen(name), 252);
	strcat(name, "bb.");
	n = mkq(b, name, DNS_T_A, false, 0);
	assert_int_equal(dns_query_parse(b, n, &q), 0);
	strcat(name, "c.");
	n = mkq(b, name, DNS_T_A, false, 0);
	assert_int_equal(dns_query_parse(b, n, &q), -EBADMSG);
}

static void test_names(void **state)
{
	(void)state;
	char out[DNS_LABEL_MAX + 1], frag[256], h[6];
	const char *cases[][2] = {
		{ "pod_123$abc", "pod-123abc" },
		{ "web.prod", "web-prod" },
		{ "apiserver.myservice", "apiserver-myservice" },
		{ "--Lead-", "lead" },
		{ "$$$", "" },
		{ "", "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		dns_label(cases[i][0], out);
		assert_string_equal(out, cases[i][1]);
	}
	char long_in[100];
	memset(long_in, 'x', 99);
	long_in[99] = '\0';
	long_in[62] = '-'; /* the cut at 63 leaves a trailing '-': trimmed */
	dns_label(long_in, out);
	assert_int_equal(strlen(out), 62);
	dns_domain_frag("marathon.prod", frag, sizeof(frag));
	assert_string_equal(frag, "marathon.prod");
	dns_domain_frag("My Framework..x_y", frag, sizeof(frag));
	assert_string_equal(frag, "myframework.x-y");
	/* zbase32(sha1(id))[:5], computed independently (Python hashlib). */
	dns_hash5("web.2a3b-1", h);
	assert_string_equal(h, "d33rz");
	dns_hash5("nginx.0a1b2c3d-0000-1111-2222-333344445555", h);
	assert_string_equal(h, "pz1ow");
	dns_slave_tail("20151012-ABCD-S1", out);
	assert_string_equal(out, "s1");
	dns_slave_tail("nodash", out);
	assert_string_equal(out, "nodash");
	unsigned char d[20];
	dns_sha1("abc", 3, d); /* FIPS 180 example */
	assert_int_equal(d[0], 0xa9);
	assert_int_equal(d[19], 0x9d);
	char m56[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	dns_sha1(m56, strlen(m56), d); /* two padding blocks */
	assert_int_equal(d[0], 0x84);
	assert_int_equal(d[19], 0xf1);
}

static void test_zone(void **state)
{
	(void)state;
	struct dns_zone z;
	dns_zone_init(&z);
	dns_zone_add_a(&z, "t1", "web.marathon.mesos.", 1);
	dns_zone_add_a(&z, "t1", "web.marathon.mesos.", 1); /* same owner: once */
	dns_zone_add_a(&z, "t2", "web.marathon.mesos.", 1);  /* same value: shared */
	dns_zone_add_a(&z, "t2", "web.marathon.mesos.", 2);
	dns_zone_add_srv(&z, "t2", "_web._tcp.marathon.mesos.", "x.slave.mesos.", 31000);
	const struct dz_name *n = dns_zone_get(&z, "web.marathon.mesos.");
	assert_non_null(n);
	assert_int_equal(n->na, 2);
	assert_int_equal(z.nrecords, 3);
	assert_true(dns_zone_drop(&z, "t2"));
	assert_false(dns_zone_drop(&z, "t2"));
	n = dns_zone_get(&z, "web.marathon.mesos.");
	assert_non_null(n);
	assert_int_equal(n->na, 1);
	assert_int_equal(n->a[0].ip, 1);
	assert_null(dns_zone_get(&z, "_web._tcp.marathon.mesos."));
	assert_true(dns_zone_drop(&z, "t1"));
	assert_null(dns_zone_get(&z, "web.marathon.mesos."));
	assert_int_equal(z.nrecords, 0);
	assert_int_equal(hmap_len(&z.names), 0);
	dns_zone_release(&z);
}

static void fake_dns(struct dns *d)
{
	memset(d, 0, sizeof(*d));
	strcpy(d->domain, "mesos");
	strcpy(d->tail, ".mesos.");
	strcpy(d->soa_mname, "ns1.mesos.");
	strcpy(d->soa_rname, "root.ns1.mesos.");
	d->ttl = 60;
	d->rng = 1;
	dns_zone_init(&d->zone);
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void test_answers(void **state)
{
	(void)state;
	struct dns d;
	fake_dns(&d);
	dns_zone_add_a(&d.zone, "t", "web.marathon.mesos.", htonl(0x7f000001));
	dns_zone_add_a(&d.zone, "t", "web-x-s1.marathon.slave.mesos.", htonl(0x7f000001));
	dns_zone_add_srv(&d.zone, "t", "_web._tcp.marathon.mesos.", "web-x-s1.marathon.slave.mesos.",
			 31000);
	uint8_t q[600], a[DNS_MAX_MSG];
	size_t n = mkq(q, "web.marathon.mesos.", DNS_T_A, false, 0), len;
	len = dns_answer(&d, q, n, a, sizeof(a), true);
	assert_true(len > n);
	assert_int_equal(a[3] & 0xf, DNS_R_NOERROR);
	assert_true(a[2] & 0x04); /* AA */
	assert_int_equal(rd16(a + 6), 1);
	assert_memory_equal(a + len - 4, "\x7f\x00\x00\x01", 4);
	/* The owner name is compressed to the question. */
	assert_int_equal(rd16(a + n), 0xc00c);
	/* SRV: the target's A in the additional section. */
	n = mkq(q, "_web._tcp.marathon.mesos.", DNS_T_SRV, false, 0);
	len = dns_answer(&d, q, n, a, sizeof(a), true);
	assert_int_equal(rd16(a + 6), 1);
	assert_int_equal(rd16(a + 10), 1);
	/* Unknown name: NXDOMAIN with the SOA; SRV for it: NOERROR, empty. */
	n = mkq(q, "nope.marathon.mesos.", DNS_T_A, false, 0);
	len = dns_answer(&d, q, n, a, sizeof(a), true);
	assert_int_equal(a[3] & 0xf, DNS_R_NXDOMAIN);
	assert_int_equal(rd16(a + 8), 1);
	n = mkq(q, "nope.marathon.mesos.", DNS_T_SRV, false, 0);
	len = dns_answer(&d, q, n, a, sizeof(a), true);
	assert_int_equal(a[3] & 0xf, DNS_R_NOERROR);
	assert_int_equal(rd16(a + 6) + rd16(a + 8), 0);
	/* AAAA of a known name: NOERROR (NODATA) with the SOA. */
	n = mkq(q, "web.marathon.mesos.", DNS_T_AAAA, false, 0);
	len = dns_answer(&d, q, n, a, sizeof(a), true);
	assert_int_equal(a[3] & 0xf, DNS_R_NOERROR);
	assert_int_equal(rd16(a + 8), 1);
	/* SOA and NS: in the authority section. */
	n = mkq(q, "mesos.", DNS_T_SOA, false, 0);
	len = dns_answer(&d, q, n, a, sizeof(a), true);
	assert_int_equal(a[3] & 0xf, DNS_R_NOERROR);
	assert_int_equal(rd16(a + 6), 0);
	assert_int_equal(rd16(a + 8), 1);
	/* Outside the domain without resolvers: REFUSED. */
	n = mkq(q, "example.com.", DNS_T_A, false, 0);
	len = dns_answer(&d, q, n, a, sizeof(a), true);
	assert_int_equal(a[3] & 0xf, DNS_R_REFUSED);
	/* Truncation: 100 addresses do not fit 512 bytes over UDP (TC), do over TCP and
	 * with EDNS0 4096. */
	for (uint32_t i = 0; i < 100; i++) {
		char owner[16];
		snprintf(owner, sizeof(owner), "big%u", i);
		dns_zone_add_a(&d.zone, owner, "big.marathon.mesos.", htonl(0x0a000000 + i));
	}
	n = mkq(q, "big.marathon.mesos.", DNS_T_A, false, 0);
	len = dns_answer(&d, q, n, a, sizeof(a), true);
	assert_true(len <= 512);
	assert_true(a[2] & 0x02);
	assert_true(rd16(a + 6) > 0 && rd16(a + 6) < 100);
	len = dns_answer(&d, q, n, a, sizeof(a), false);
	assert_false(a[2] & 0x02);
	assert_int_equal(rd16(a + 6), 100);
	n = mkq(q, "big.marathon.mesos.", DNS_T_A, true, 4096);
	len = dns_answer(&d, q, n, a, sizeof(a), true);
	assert_false(a[2] & 0x02);
	assert_int_equal(rd16(a + 6), 100);
	/* Malformed: FORMERR with the id; too short: no answer. */
	n = mkq(q, "web.marathon.mesos.", DNS_T_A, false, 0);
	len = dns_answer(&d, q, n - 1, a, sizeof(a), true);
	assert_int_equal(len, 12);
	assert_int_equal(rd16(a), 0x1234);
	assert_int_equal(a[3] & 0xf, DNS_R_FORMERR);
	assert_int_equal(dns_answer(&d, q, 11, a, sizeof(a), true), 0);
	dns_zone_release(&d.zone);
}

/* The number of A records of name, and whether ip is one. */
static size_t a_count(const struct dns *d, const char *name, uint32_t ip, bool *has)
{
	const struct dz_name *zn = dns_zone_get(&d->zone, name);
	*has = false;
	for (size_t i = 0; zn && i < zn->na; i++)
		*has = *has || zn->a[i].ip == ip;
	return zn ? zn->na : 0;
}

/* <framework>.<domain> A (dns-fw.c): built-in frameworks the master's address, external
 * ones their hostname's; changed, shared and removed. */
static void test_framework_names(void **state)
{
	(void)state;
	struct dns d;
	fake_dns(&d);
	d.base = event_base_new();
	hmap_init(&d.fw_want);
	d.master_ip = htonl(0x7f000001);
	bool has;
	/* Not serving DNS: nothing. */
	dns_fw_on_framework(&d, "b0", "marathon", NULL, true);
	assert_int_equal(a_count(&d, "marathon.mesos.", d.master_ip, &has), 0);
	d.serving = true;
	dns_fw_on_framework(&d, "b0", "marathon", NULL, true);
	assert_int_equal(a_count(&d, "marathon.mesos.", d.master_ip, &has), 1);
	assert_true(has);
	/* An address literal; the name split on '.' and made labels. */
	dns_fw_on_framework(&d, "f1", "My.Fw", "10.0.0.5", true);
	assert_int_equal(a_count(&d, "my.fw.mesos.", htonl(0x0a000005), &has), 1);
	assert_true(has);
	/* Another framework of the same name adds its address; one hostname changed moves. */
	dns_fw_on_framework(&d, "f2", "my.fw", "10.0.0.6", true);
	assert_int_equal(a_count(&d, "my.fw.mesos.", htonl(0x0a000006), &has), 2);
	dns_fw_on_framework(&d, "f1", "My.Fw", "10.0.0.7", true);
	assert_int_equal(a_count(&d, "my.fw.mesos.", htonl(0x0a000007), &has), 2);
	assert_true(has);
	assert_int_equal(a_count(&d, "my.fw.mesos.", htonl(0x0a000005), &has), 2);
	assert_false(has);
	/* A renamed framework leaves its old name. */
	dns_fw_on_framework(&d, "f2", "other", "10.0.0.6", true);
	assert_int_equal(a_count(&d, "my.fw.mesos.", 0, &has), 1);
	assert_int_equal(a_count(&d, "other.mesos.", htonl(0x0a000006), &has), 1);
	/* No hostname, or a name with nothing of a label: no record. */
	dns_fw_on_framework(&d, "f3", "nohost", "", true);
	assert_int_equal(a_count(&d, "nohost.mesos.", 0, &has), 0);
	dns_fw_on_framework(&d, "f4", "!!!", "10.0.0.8", true);
	assert_int_equal(hmap_len(&d.zone.owners), 3);
	/* Removed: its records go, the others stay. */
	dns_fw_on_framework(&d, "f1", NULL, NULL, false);
	assert_int_equal(a_count(&d, "my.fw.mesos.", 0, &has), 0);
	assert_int_equal(a_count(&d, "other.mesos.", 0, &has), 1);
	/* A name resolved through evdns (/etc/hosts has localhost). */
	dns_fw_on_framework(&d, "f5", "loc", "localhost", true);
	for (int i = 0; i < 100 && d.nlookups; i++)
		event_base_loop(d.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	assert_int_equal(d.nlookups, 0);
	assert_int_equal(a_count(&d, "loc.mesos.", htonl(0x7f000001), &has), 1);
	assert_true(has);
	dns_fw_stop(&d);
	dns_fw_stop(&d); /* idempotent */
	dns_zone_release(&d.zone);
	event_base_free(d.base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_zone),
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_framework_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
