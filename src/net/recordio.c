/* RecordIO encoder and incremental decoder; see recordio.h. */
#include "net/recordio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

int recordio_encode_evbuffer(struct evbuffer *out, const void *data, size_t len)
{
	char hdr[32];
	if (len == 0)
		return -EINVAL;
	int n = snprintf(hdr, sizeof(hdr), "%zu\n", len);
	if (evbuffer_add(out, hdr, (size_t)n) == -1 || evbuffer_add(out, data, len) == -1)
		return -ENOMEM;
	return 0;
}

void recordio_encode_strbuf(struct strbuf *out, const void *data, size_t len)
{
	strbuf_addf(out, "%zu\n", len);
	strbuf_add(out, data, len);
}

char *recordio_json_record(const json_t *json, size_t *len)
{
	char *body = json_dumps(json, JSON_COMPACT);
	if (!body)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	recordio_encode_strbuf(&sb, body, strlen(body));
	free(body);
	return strbuf_detach(&sb, len);
}

int recordio_encode_json(struct evbuffer *out, const json_t *json)
{
	size_t len;
	char *rec = recordio_json_record(json, &len);
	if (!rec)
		return -EINVAL;
	int r = evbuffer_add(out, rec, len) == -1 ? -ENOMEM : 0;
	free(rec);
	return r;
}

void recordio_decoder_init(struct recordio_decoder *d, size_t max_record)
{
	memset(d, 0, sizeof(*d));
	d->max_record = max_record;
}

void recordio_decoder_release(struct recordio_decoder *d)
{
	free(d->buf);
	d->buf = NULL;
	d->in_body = 0;
	d->have = d->prefix = d->ndigits = 0;
}

int recordio_decoder_idle(const struct recordio_decoder *d)
{
	return !d->in_body && d->ndigits == 0;
}

static int fail(struct recordio_decoder *d, int err)
{
	d->error = err;
	return err;
}

int recordio_decoder_feed(struct recordio_decoder *d, const void *data, size_t len,
			  recordio_record_fn cb, void *ctx)
{
	const char *p = data;
	const char *end = p + len;

	if (d->error)
		return d->error;
	while (p < end) {
		if (!d->in_body) {
			char c = *p++;
			if (c == '\n') {
				if (d->ndigits == 0)
					return fail(d, -EBADMSG);
				d->buf = xmalloc(d->prefix);
				d->have = 0;
				d->in_body = 1;
				continue;
			}
			if (c < '0' || c > '9' || (c == '0' && d->ndigits == 0))
				return fail(d, -EBADMSG);
			/* The bound check before each digit keeps prefix from overflowing. */
			size_t digit = (size_t)(c - '0');
			if (digit > d->max_record || d->prefix > (d->max_record - digit) / 10)
				return fail(d, -E2BIG);
			d->prefix = d->prefix * 10 + digit;
			d->ndigits++;
			continue;
		}
		size_t want = d->prefix - d->have;
		size_t n = (size_t)(end - p) < want ? (size_t)(end - p) : want;
		memcpy(d->buf + d->have, p, n);
		d->have += n;
		p += n;
		if (d->have < d->prefix)
			break;
		char *rec = d->buf;
		size_t reclen = d->prefix;
		d->buf = NULL;
		d->in_body = 0;
		d->prefix = d->ndigits = d->have = 0;
		int r = cb(rec, reclen, ctx);
		free(rec);
		if (r)
			return r;
	}
	return 0;
}

json_t *recordio_record_json(const char *rec, size_t len)
{
	/* The decoder's prefix rules (digits, no leading '0'), without its copy of the body. */
	size_t n = 0, i = 0;
	for (; i < len && i < 19 && rec[i] >= '0' && rec[i] <= '9'; i++)
		n = n * 10 + (size_t)(rec[i] - '0');
	if (!i || rec[0] == '0' || i >= len || rec[i] != '\n' || n != len - i - 1)
		return NULL;
	return json_loadb(rec + i + 1, n, 0, NULL);
}
