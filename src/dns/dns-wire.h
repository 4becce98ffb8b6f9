/* DNS messages (RFC 1035): parsing a query (untrusted bytes) and building an answer.
 *
 * The parser reads a header and exactly one question; it follows compression pointers only
 * backwards (so it cannot loop) and never reads past the n bytes it is given. The builder
 * writes into a fixed buffer and compresses names against the names it already wrote. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_MAX_NAME 255      /* presentation form, with the final '.' */
#define DNS_MAX_MSG 65535
#define DNS_UDP_MAX 512       /* without EDNS0 */

enum {
	DNS_T_A = 1, DNS_T_NS = 2, DNS_T_SOA = 6, DNS_T_PTR = 12, DNS_T_AAAA = 28,
	DNS_T_SRV = 33, DNS_T_OPT = 41, DNS_T_ANY = 255,
};
enum {
	DNS_R_NOERROR = 0, DNS_R_FORMERR = 1, DNS_R_SERVFAIL = 2, DNS_R_NXDOMAIN = 3,
	DNS_R_NOTIMP = 4, DNS_R_REFUSED = 5,
};

struct dns_query {
	uint16_t id;
	uint16_t flags;        /* the query's header flags */
	char name[DNS_MAX_NAME + 2]; /* lower-cased, labels joined by '.', ending in '.'; a byte
				      * outside [!-~] or a '.' inside a label becomes '?' */
	uint16_t qtype, qclass;
	size_t qend;           /* where the question ends (the answer echoes bytes 12..qend) */
	uint16_t edns_size;    /* the OPT record's UDP size, 0 without one */
};

/* Parses the query in p[0..n). 0; -EINVAL when it is too short for a header (no answer can
 * be made); -EBADMSG when the header is there but the rest is malformed or it is not one
 * question of a standard QUERY (q->id and q->flags are set: answer FORMERR or NOTIMP, see
 * dns_query_rcode). */
int dns_query_parse(const uint8_t *p, size_t n, struct dns_query *q);
/* After -EBADMSG: the rcode to answer with (NOTIMP for another opcode, else FORMERR). */
int dns_query_rcode(const struct dns_query *q);

struct dns_msg {
	uint8_t *buf;
	size_t len, cap;
	uint16_t an, ns, ar;
	bool full;                 /* a record did not fit: it and all after it were dropped */
	size_t nptr;               /* compression table */
	uint16_t ptr_off[64];
};

/* Starts an answer to q in buf[0..cap) (cap >= 512): header with QR, AA as given, RD
 * copied, RA as given, rcode, and q's question copied from raw (the query's bytes). */
void dns_msg_begin(struct dns_msg *m, uint8_t *buf, size_t cap, const struct dns_query *q,
		   const uint8_t *raw, bool aa, bool ra, int rcode);
/* Appends a record to the answer (section 0), authority (1) or additional (2) section,
 * which must be added in that order. name and target in the presentation form
 * ("a.b.mesos."). A record that does not fit sets m->full and is dropped. */
void dns_msg_a(struct dns_msg *m, int section, const char *name, uint32_t ttl, uint32_t ip_be);
void dns_msg_srv(struct dns_msg *m, int section, const char *name, uint32_t ttl,
		 uint16_t weight, uint16_t port, const char *target);
void dns_msg_ns(struct dns_msg *m, int section, const char *name, uint32_t ttl,
		const char *ns);
void dns_msg_soa(struct dns_msg *m, int section, const char *name, uint32_t ttl,
		 const char *mname, const char *rname, uint32_t serial, uint32_t refresh,
		 uint32_t retry, uint32_t expire, uint32_t minttl);
/* Sets the rcode and the TC flag of the answer. */
void dns_msg_set_rcode(struct dns_msg *m, int rcode);
void dns_msg_set_tc(struct dns_msg *m);
/* Finishes the counts; returns the answer's length. */
size_t dns_msg_end(struct dns_msg *m);
/* A bare answer with rcode and no question (when the question could not be parsed). */
size_t dns_msg_error(uint8_t *buf, size_t cap, const struct dns_query *q, int rcode);
