/* DNS wire format: see dns-wire.h. */
#include <errno.h>
#include <string.h>

#include "dns/dns-wire.h"

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Reads the name at *off into out (presentation form). Pointers must point strictly
 * backwards, so at most n jumps happen. Returns 0 and moves *off past the name as it
 * appears at *off; -EBADMSG when malformed or too long. */
static int read_name(const uint8_t *p, size_t n, size_t *off, char *out)
{
	size_t o = *off, olen = 0, end = 0;
	bool jumped = false;
	for (;;) {
		if (o >= n)
			return -EBADMSG;
		uint8_t l = p[o];
		if ((l & 0xc0) == 0xc0) {
			if (o + 1 >= n)
				return -EBADMSG;
			size_t to = (size_t)((l & 0x3f) << 8 | p[o + 1]);
			if (to >= o)
				return -EBADMSG;
			if (!jumped)
				end = o + 2;
			jumped = true;
			o = to;
			continue;
		}
		if (l & 0xc0)
			return -EBADMSG;
		if (l == 0) {
			if (!jumped)
				end = o + 1;
			break;
		}
		if (o + 1 + l > n || olen + l + 1 > DNS_MAX_NAME)
			return -EBADMSG;
		for (size_t i = 0; i < l; i++) {
			uint8_t c = p[o + 1 + i];
			if (c >= 'A' && c <= 'Z')
				c = (uint8_t)(c - 'A' + 'a');
			else if (c < '!' || c > '~' || c == '.')
				c = '?';
			out[olen++] = (char)c;
		}
		out[olen++] = '.';
		o += 1 + l;
	}
	if (olen == 0)
		out[olen++] = '.';
	out[olen] = '\0';
	*off = end;
	return 0;
}

int dns_query_parse(const uint8_t *p, size_t n, struct dns_query *q)
{
	memset(q, 0, sizeof(*q));
	if (n < 12)
		return -EINVAL;
	q->id = rd16(p);
	q->flags = rd16(p + 2);
	uint16_t qd = rd16(p + 4), an = rd16(p + 6), ns = rd16(p + 8), ar = rd16(p + 10);
	if ((q->flags & 0x8000) || ((q->flags >> 11) & 0xf) != 0 || qd != 1)
		return -EBADMSG;
	size_t off = 12;
	if (read_name(p, n, &off, q->name) < 0 || off + 4 > n)
		return -EBADMSG;
	q->qtype = rd16(p + off);
	q->qclass = rd16(p + off + 2);
	q->qend = off + 4;
	/* An OPT record in the additional section (EDNS0): its class is the UDP size. */
	if (an == 0 && ns == 0 && ar == 1) {
		size_t o = q->qend;
		char tmp[DNS_MAX_NAME + 2];
		if (read_name(p, n, &o, tmp) == 0 && o + 10 <= n && rd16(p + o) == DNS_T_OPT) {
			uint16_t sz = rd16(p + o + 2);
			q->edns_size = sz < DNS_UDP_MAX ? DNS_UDP_MAX : sz;
		}
	}
	return 0;
}

int dns_query_rcode(const struct dns_query *q)
{
	return ((q->flags >> 11) & 0xf) != 0 ? DNS_R_NOTIMP : DNS_R_FORMERR;
}

/* ---- building ---- */

static bool put(struct dns_msg *m, const void *b, size_t n)
{
	if (m->len + n > m->cap)
		return false;
	memcpy(m->buf + m->len, b, n);
	m->len += n;
	return true;
}

static bool put16(struct dns_msg *m, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	return put(m, b, 2);
}

static bool put32(struct dns_msg *m, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	return put(m, b, 4);
}

/* Whether the wire name at off in m equals the presentation name s (lower case both). */
static bool name_at(const struct dns_msg *m, size_t off, const char *s)
{
	for (unsigned hops = 0; hops < 128; hops++) {
		if (off >= m->len)
			return false;
		uint8_t l = m->buf[off];
		if ((l & 0xc0) == 0xc0) {
			off = (size_t)((l & 0x3f) << 8 | m->buf[off + 1]);
			continue;
		}
		if (l == 0)
			return *s == '\0' || (s[0] == '.' && s[1] == '\0');
		const char *dot = strchr(s, '.');
		size_t sl = dot ? (size_t)(dot - s) : strlen(s);
		if (sl != l || off + 1 + l > m->len)
			return false;
		for (size_t i = 0; i < l; i++) {
			char c = (char)m->buf[off + 1 + i];
			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if (c != s[i])
				return false;
		}
		s += sl + (dot ? 1 : 0);
		off += 1 + l;
	}
	return false;
}

/* Writes s compressed against the names written so far. */
static bool put_name_c(struct dns_msg *m, const char *s, bool compress)
{
	if (s[0] == '.' && s[1] == '\0')
		s++;
	while (*s) {
		for (size_t i = 0; compress && i < m->nptr; i++)
			if (name_at(m, m->ptr_off[i], s))
				return put16(m, (uint16_t)(0xc000 | m->ptr_off[i]));
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);
		if (l == 0 || l > 63)
			return false;
		if (m->len < 0x3fff && m->nptr < sizeof(m->ptr_off) / sizeof(m->ptr_off[0]))
			m->ptr_off[m->nptr++] = (uint16_t)m->len;
		uint8_t lb = (uint8_t)l;
		if (!put(m, &lb, 1) || !put(m, s, l))
			return false;
		s += l + (dot ? 1 : 0);
	}
	uint8_t z = 0;
	return put(m, &z, 1);
}

static bool put_name(struct dns_msg *m, const char *s)
{
	return put_name_c(m, s, true);
}

void dns_msg_begin(struct dns_msg *m, uint8_t *buf, size_t cap, const struct dns_query *q,
		   const uint8_t *raw, bool aa, bool ra, int rcode)
{
	*m = (struct dns_msg){ .buf = buf, .cap = cap };
	uint16_t fl = 0x8000 | (q->flags & 0x0100) | (aa ? 0x0400 : 0) | (ra ? 0x0080 : 0) |
		      (uint16_t)(rcode & 0xf);
	put16(m, q->id);
	put16(m, fl);
	put16(m, 1);
	put16(m, 0);
	put16(m, 0);
	put16(m, 0);
	put(m, raw + 12, q->qend - 12);
	/* The question's name, for compression (it is uncompressed there in practice). */
	if (raw[12] != 0 && (raw[12] & 0xc0) == 0)
		m->ptr_off[m->nptr++] = 12;
}

/* Starts a record: owner, type, class IN, ttl; returns where RDLENGTH goes, or 0. */
static size_t rr_begin(struct dns_msg *m, int section, const char *name, uint16_t type,
		       uint32_t ttl)
{
	if (m->full)
		return 0;
	if (!put_name(m, name) || !put16(m, type) || !put16(m, 1) || !put32(m, ttl) ||
	    !put16(m, 0))
		return 0;
	return m->len - 2;
}

static void rr_end(struct dns_msg *m, int section, size_t rdlen_at, size_t start, bool ok)
{
	if (!ok || !rdlen_at) {
		m->len = start;
		m->full = true;
		/* Drop compression entries that pointed into the dropped bytes. */
		while (m->nptr && m->ptr_off[m->nptr - 1] >= start)
			m->nptr--;
		return;
	}
	size_t rdlen = m->len - rdlen_at - 2;
	m->buf[rdlen_at] = (uint8_t)(rdlen >> 8);
	m->buf[rdlen_at + 1] = (uint8_t)rdlen;
	if (section == 0)
		m->an++;
	else if (section == 1)
		m->ns++;
	else
		m->ar++;
}

void dns_msg_a(struct dns_msg *m, int section, const char *name, uint32_t ttl, uint32_t ip_be)
{
	size_t start = m->len, at = rr_begin(m, section, name, DNS_T_A, ttl);
	rr_end(m, section, at, start, at && put(m, &ip_be, 4));
}

void dns_msg_srv(struct dns_msg *m, int section, const char *name, uint32_t ttl,
		 uint16_t weight, uint16_t port, const char *target)
{
	size_t start = m->len, at = rr_begin(m, section, name, DNS_T_SRV, ttl);
	/* RFC 2782 says the target is not compressed; write it whole. */
	bool ok = at && put16(m, 0) && put16(m, weight) && put16(m, port) &&
		  put_name_c(m, target, false);
	rr_end(m, section, at, start, ok);
}

void dns_msg_ns(struct dns_msg *m, int section, const char *name, uint32_t ttl, const char *ns)
{
	size_t start = m->len, at = rr_begin(m, section, name, DNS_T_NS, ttl);
	rr_end(m, section, at, start, at && put_name(m, ns));
}

void dns_msg_soa(struct dns_msg *m, int section, const char *name, uint32_t ttl,
		 const char *mname, const char *rname, uint32_t serial, uint32_t refresh,
		 uint32_t retry, uint32_t expire, uint32_t minttl)
{
	size_t start = m->len, at = rr_begin(m, section, name, DNS_T_SOA, ttl);
	bool ok = at && put_name(m, mname) && put_name(m, rname) && put32(m, serial) &&
		  put32(m, refresh) && put32(m, retry) && put32(m, expire) && put32(m, minttl);
	rr_end(m, section, at, start, ok);
}

void dns_msg_set_rcode(struct dns_msg *m, int rcode)
{
	m->buf[3] = (uint8_t)((m->buf[3] & 0xf0) | (rcode & 0xf));
}

void dns_msg_set_tc(struct dns_msg *m)
{
	m->buf[2] |= 0x02;
}

size_t dns_msg_end(struct dns_msg *m)
{
	m->buf[6] = (uint8_t)(m->an >> 8);
	m->buf[7] = (uint8_t)m->an;
	m->buf[8] = (uint8_t)(m->ns >> 8);
	m->buf[9] = (uint8_t)m->ns;
	m->buf[10] = (uint8_t)(m->ar >> 8);
	m->buf[11] = (uint8_t)m->ar;
	return m->len;
}

size_t dns_msg_error(uint8_t *buf, size_t cap, const struct dns_query *q, int rcode)
{
	if (cap < 12)
		return 0;
	memset(buf, 0, 12);
	buf[0] = (uint8_t)(q->id >> 8);
	buf[1] = (uint8_t)q->id;
	buf[2] = (uint8_t)(0x80 | ((q->flags >> 8) & 0x79));
	buf[3] = (uint8_t)(rcode & 0xf);
	return 12;
}
