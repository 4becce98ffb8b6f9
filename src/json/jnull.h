/* JSON null as protobuf's "not set", for request bodies read as Mesos v1 calls. */
#pragma once
#include <jansson.h>

/* Deletes from v, in place and at every depth, the nulls that stout's JSON-to-protobuf
 * parser skips (Mesos reads every v1 call with it; reference/compat.md §10.9): each object
 * member whose value is null, and each null element of an array (the others keep their
 * order). A handler then reads a null field exactly as an absent one, a null required field
 * included (Mesos: "Missing required fields").
 *
 * A proto map is a JSON object as well, but stout keeps a null map value as an entry with an
 * unset value: the members of an object that is the value of a key listed in map_keys (a
 * NULL-terminated list of proto map field names, e.g. "limits"; NULL for none) keep their
 * null values, while nulls inside their other values go as anywhere else.
 *
 * v is borrowed; a v that is null itself, or not an object or array, is left as it is (a
 * null call is no call object: the caller's error). Time is linear in the size of v; the
 * recursion is as deep as v, which jansson's parser caps (2048 levels). */
void jnull_strip(json_t *v, const char *const *map_keys);
