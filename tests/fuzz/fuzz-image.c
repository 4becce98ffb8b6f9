/* Feeds arbitrary bytes to every parser of image documents (src/image/image-parse.c): the
 * image config, manifests and indexes, `docker save`'s manifest.json, and references. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct image_config c;
	if (image_config_parse(buf, size, &c) == 0) {
		for (size_t i = 0; c.env && c.env[i]; i++)
			if (!strchr(c.env[i], '='))
				__builtin_trap();
		image_config_release(&c);
	}
	static struct image_manifest m;
	enum image_doc kind;
	if (image_manifest_parse(buf, size, "amd64", &kind, &m) == 0) {
		if (!image_digest_valid(m.config) || m.nlayers > IMAGE_MAX_LAYERS)
			__builtin_trap();
		for (size_t i = 0; i < m.nlayers; i++)
			if (!image_digest_valid(m.layers[i]))
				__builtin_trap();
	}
	static struct image_save_manifest s;
	if (image_save_manifest_parse(buf, size, &s) == 0)
		for (size_t i = 0; i < s.nlayers; i++)
			if (s.layers[i][0] == '/' || strstr(s.layers[i], "../") == s.layers[i])
				__builtin_trap();
	char *z = malloc(size + 1);
	if (!z)
		return 0;
	memcpy(z, data, size);
	z[size] = '\0';
	struct image_ref r;
	if (image_ref_parse(z, &r) == 0 && (!r.registry[0] || !r.repo[0] || strstr(r.repo, "..")))
		__builtin_trap();
	free(z);
	return 0;
}
