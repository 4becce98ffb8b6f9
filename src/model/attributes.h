/* Agent attributes, Mesos syntax: 'rack:3;dc:east;zones:[1-3];disks:{ssd,hdd}'.
 * A value that parses as a number is SCALAR, "[a-b,…]" RANGES, "{a,b}" SET, else TEXT. */
#pragma once
#include <stddef.h>

#include "model/resources.h"

enum attr_type { ATTR_TEXT, ATTR_SCALAR, ATTR_RANGES, ATTR_SET };

struct attribute {
	char *name;
	enum attr_type type;
	char *text;   /* the value formatted as constraints compare it (reference/compat.md §3.3):
		       * TEXT as is, SCALAR shortest ("3", "2.5"), RANGES "[1-3,5-6]", SET "{a,b}" */
	double scalar;
};

struct attributes {
	struct attribute *v;
	size_t n;
};

#define ATTRIBUTES_INIT { NULL, 0 }

void attributes_init(struct attributes *a);
void attributes_release(struct attributes *a);
void attributes_copy(struct attributes *dst, const struct attributes *src);
/* 0, or -EINVAL with a message (a missing ':', an empty name, a duplicate name). */
int attributes_parse(const char *text, struct attributes *out, char *err, size_t errlen);
/* NULL if absent. */
const struct attribute *attributes_get(const struct attributes *a, const char *name);
/* Back to the text syntax (malloc'd). */
char *attributes_format(const struct attributes *a);

/* Bounds on parsed input. */
#define ATTRIBUTES_MAX 256
#define ATTRIBUTES_MAX_NAME 128
#define ATTRIBUTES_MAX_TEXT 65536
