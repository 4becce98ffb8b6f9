/* Mesos's DiscoveryInfo and Labels of a Marathon app's task (pure). */
#include "model/discovery.h"

#include <string.h>

json_t *discovery_labels_json(const json_t *labels)
{
	json_t *arr = json_array();
	const char *k;
	json_t *v;
	if (!json_is_object(labels))
		return arr;
	json_object_foreach((json_t *)labels, k, v) {
		const char *s = json_string_value(v);
		json_array_append_new(arr, json_pack("{s:s, s:s}", "key", k, "value", s ? s : ""));
	}
	return arr;
}

json_t *discovery_info_json(const struct app *def, const char *name, const uint32_t *ports,
		       size_t nports)
{
	json_t *list = json_array();
	json_t *pdefs = json_object_get(def->json, "portDefinitions");
	for (size_t i = 0; i < def->nports; i++) {
		const struct port_def *pd = &def->ports[i];
		json_t *plabels = json_object_get(json_array_get(pdefs, i), "labels");
		const char *protos = pd->protocol ? pd->protocol : "tcp";
		/* "udp,tcp": one DiscoveryInfo port per protocol, as Marathon does. */
		for (const char *p = protos; *p;) {
			const char *c = strchr(p, ',');
			size_t n = c ? (size_t)(c - p) : strlen(p);
			char proto[16];
			if (n && n < sizeof(proto)) {
				memcpy(proto, p, n);
				proto[n] = '\0';
				json_t *o = json_pack("{s:I, s:s}", "number",
						      (json_int_t)(i < nports ? ports[i] : 0), "protocol",
						      proto);
				if (pd->name)
					json_object_set_new(o, "name", json_string(pd->name));
				json_t *lab = discovery_labels_json(plabels);
				if (json_array_size(lab))
					json_object_set_new(o, "labels", json_pack("{s:o}", "labels", lab));
				else
					json_decref(lab);
				json_array_append_new(list, o);
			}
			p = c ? c + 1 : p + n;
		}
	}
	return json_pack("{s:s, s:s, s:{s:o}}", "visibility", "FRAMEWORK", "name", name, "ports",
			 "ports", list);
}
