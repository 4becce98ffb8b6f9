/* Mesos-DNS's names (records/labels, records/generator.go): how a task, framework and agent
 * become DNS labels. Pure functions. */
#pragma once
#include <stddef.h>

#define DNS_LABEL_MAX 63

/* One label as Mesos-DNS's RFC 1123 mode makes it: A-Z lower-cased, a-z 0-9 kept, '-', '.'
 * and '_' become '-', everything else dropped; leading '-' trimmed, cut at 63, trailing '-'
 * trimmed. out holds DNS_LABEL_MAX + 1 bytes; may come out empty. */
void dns_label(const char *in, char *out);
/* A dotted name (a framework's): each '.'-separated part made a label, empty ones left out,
 * joined with '.'. out holds cap bytes (truncated at a label boundary). */
void dns_domain_frag(const char *in, char *out, size_t cap);
/* The first 5 characters of zbase32(sha1(s)): the canonical name's task hash. out holds 6. */
void dns_hash5(const char *s, char *out);
/* The lower-cased last '-'-separated field of an agent id ("…-S1" → "s1"), cut at 63 bytes.
 * out holds DNS_LABEL_MAX + 1. */
void dns_slave_tail(const char *agent_id, char *out);
/* SHA-1 of n bytes into out[20]. */
void dns_sha1(const void *p, size_t n, unsigned char out[20]);
