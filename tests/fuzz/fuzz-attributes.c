/* Fuzz target: agent --attributes strings through parse, format and re-parse. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/attributes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct attributes a = ATTRIBUTES_INIT, b = ATTRIBUTES_INIT;
	char err[256];
	if (attributes_parse(text, &a, err, sizeof(err)) == 0) {
		char *s = attributes_format(&a);
		if (attributes_parse(s, &b, err, sizeof(err)) != 0 || b.n != a.n)
			abort();
		for (size_t i = 0; i < a.n; i++)
			if (strcmp(a.v[i].text, b.v[i].text) != 0)
				abort();
		free(s);
	}
	attributes_release(&a);
	attributes_release(&b);
	free(text);
	return 0;
}
