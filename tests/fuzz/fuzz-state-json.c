/* Fuzz target: the operator API's Accept / Content-Type checks on arbitrary header bytes,
 * and the state JSON of arbitrary resource and attribute strings (every ranges string
 * must stay in the "[a-b, c-d]" form Mesos-DNS can split). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "master/state-json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_ranges_text(const char *s)
{
	/* "[" elements separated by ", " "]", each element lo-hi */
	size_t n = strlen(s);
	if (n < 2 || s[0] != '[' || s[n - 1] != ']')
		abort();
	if (n == 2)
		return;
	for (const char *p = s + 1; p < s + n - 1;) {
		const char *c = strstr(p, ", ");
		const char *e = c ? c : s + n - 1;
		const char *dash = memchr(p, '-', (size_t)(e - p));
		if (!dash || dash == p || dash + 1 == e)
			abort();
		p = c ? c + 2 : e;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	(void)state_json_accepts_json(text);
	(void)state_json_content_type(text);
	free(state_json_spaced_list(text));
	struct resources r = RESOURCES_INIT;
	char err[256];
	if (resources_parse(text, &r, err, sizeof(err)) == 0) {
		json_t *o = state_json_resources(&r, NULL);
		const char *k;
		json_t *v;
		json_object_foreach(o, k, v) {
			const char *s = json_string_value(v);
			if (s && s[0] == '[')
				check_ranges_text(s);
		}
		json_decref(o);
		json_decref(state_json_reserved(&r));
		json_decref(state_json_resources_v1(&r, "*"));
	}
	resources_release(&r);
	struct attributes a = ATTRIBUTES_INIT;
	if (attributes_parse(text, &a, err, sizeof(err)) == 0) {
		json_decref(state_json_attributes(&a));
		json_decref(state_json_attributes_v1(&a));
	}
	attributes_release(&a);
	free(text);
	return 0;
}
