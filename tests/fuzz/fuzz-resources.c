/* Fuzz target: agent --resources strings through parse, format, re-parse and the algebra. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/resources.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct resources r = RESOURCES_INIT, again = RESOURCES_INIT, sum = RESOURCES_INIT;
	char err[256];
	if (resources_parse(text, &r, err, sizeof(err)) == 0) {
		/* The canonical form must read back to the same thing. */
		char *s = resources_format(&r);
		if (resources_parse(s, &again, err, sizeof(err)) != 0)
			abort();
		char *s2 = resources_format(&again);
		if (strcmp(s, s2) != 0)
			abort();
		resources_copy(&sum, &r);
		resources_add(&sum, &again);
		if (!resources_contains(&sum, &r) || resources_subtract(&sum, &r) != 0)
			abort();
		uint32_t want[4] = { 0, 31000, 0, 0 }, got[4];
		(void)resources_pick_ports(&r, NULL, want, 4, got);
		free(resources_format_ranges(&r, "ports", NULL));
		free(s);
		free(s2);
	}
	resources_release(&r);
	resources_release(&again);
	resources_release(&sum);
	free(text);
	return 0;
}
