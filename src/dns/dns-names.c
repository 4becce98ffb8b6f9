/* Mesos-DNS's naming rules: see dns-names.h. */
#include <stdint.h>
#include <string.h>

#include "dns/dns-names.h"

void dns_label(const char *in, char *out)
{
	size_t n = 0;
	for (const char *p = in; *p; p++) {
		char c = *p;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		else if (c == '.' || c == '_')
			c = '-';
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			continue;
		if (c == '-' && n == 0)
			continue; /* leading '-' trimmed */
		if (n == DNS_LABEL_MAX)
			break;
		out[n++] = c;
	}
	while (n && out[n - 1] == '-')
		n--;
	out[n] = '\0';
}

void dns_domain_frag(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	out[0] = '\0';
	while (*in) {
		const char *dot = strchr(in, '.');
		size_t l = dot ? (size_t)(dot - in) : strlen(in);
		char part[512], lab[DNS_LABEL_MAX + 1];
		if (l >= sizeof(part))
			l = sizeof(part) - 1;
		memcpy(part, in, l);
		part[l] = '\0';
		dns_label(part, lab);
		size_t ll = strlen(lab);
		if (ll && n + (n ? 1 : 0) + ll + 1 <= cap) {
			if (n)
				out[n++] = '.';
			memcpy(out + n, lab, ll + 1);
			n += ll;
		}
		in += (dot ? (size_t)(dot - in) + 1 : strlen(in));
	}
}

void dns_slave_tail(const char *agent_id, char *out)
{
	const char *dash = strrchr(agent_id, '-');
	const char *p = dash ? dash + 1 : agent_id;
	size_t n = 0;
	for (; *p && n < DNS_LABEL_MAX; p++)
		out[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	out[n] = '\0';
}

/* ---- SHA-1 (FIPS 180-4), for the canonical names' hash only ---- */

static uint32_t rol(uint32_t x, int k)
{
	return x << k | x >> (32 - k);
}

static void sha1_block(uint32_t h[5], const unsigned char *b)
{
	uint32_t w[80];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 |
		       (uint32_t)b[4 * i + 2] << 8 | b[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	uint32_t a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4];
	for (int i = 0; i < 80; i++) {
		uint32_t f, k;
		if (i < 20) {
			f = (bb & c) | (~bb & d);
			k = 0x5a827999;
		} else if (i < 40) {
			f = bb ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (i < 60) {
			f = (bb & c) | (bb & d) | (c & d);
			k = 0x8f1bbcdc;
		} else {
			f = bb ^ c ^ d;
			k = 0xca62c1d6;
		}
		uint32_t t = rol(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = rol(bb, 30);
		bb = a;
		a = t;
	}
	h[0] += a;
	h[1] += bb;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

void dns_sha1(const void *p, size_t n, unsigned char out[20])
{
	uint32_t h[5] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 };
	const unsigned char *s = p;
	size_t i = 0;
	for (; i + 64 <= n; i += 64)
		sha1_block(h, s + i);
	unsigned char tail[128] = { 0 };
	size_t r = n - i;
	if (r)
		memcpy(tail, s + i, r);
	tail[r] = 0x80;
	size_t tl = r + 1 + 8 <= 64 ? 64 : 128;
	uint64_t bits = (uint64_t)n * 8;
	for (int k = 0; k < 8; k++)
		tail[tl - 1 - k] = (unsigned char)(bits >> (8 * k));
	sha1_block(h, tail);
	if (tl == 128)
		sha1_block(h, tail + 64);
	for (int k = 0; k < 5; k++) {
		out[4 * k] = (unsigned char)(h[k] >> 24);
		out[4 * k + 1] = (unsigned char)(h[k] >> 16);
		out[4 * k + 2] = (unsigned char)(h[k] >> 8);
		out[4 * k + 3] = (unsigned char)h[k];
	}
}

void dns_hash5(const char *s, char *out)
{
	static const char zb32[] = "ybndrfg8ejkmcpqxot1uwisza345h769";
	unsigned char d[20];
	dns_sha1(s, strlen(s), d);
	/* 25 bits, most significant first, five at a time. */
	uint32_t bits = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
	for (int i = 0; i < 5; i++)
		out[i] = zb32[(bits >> (27 - 5 * i)) & 31];
	out[5] = '\0';
}
