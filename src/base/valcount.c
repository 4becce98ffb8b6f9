/* (field, value) counts: see valcount.h. */
#include <stdint.h>
#include <stdlib.h>

#include "base/mem.h"
#include "base/valcount.h"

void valcount_init(struct valcount *vc)
{
	hmap_init(&vc->fields);
}

void valcount_release(struct valcount *vc)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&vc->fields, &i, &k, &v);) {
		struct valcount_field *f = v;
		hmap_release(&f->vals);
		free(f);
	}
	hmap_release(&vc->fields);
	hmap_init(&vc->fields);
}

void valcount_add(struct valcount *vc, const char *field, const char *value)
{
	struct valcount_field *f = hmap_get(&vc->fields, field);
	if (!f) {
		f = xcalloc(1, sizeof(*f));
		hmap_init(&f->vals);
		hmap_put(&vc->fields, field, f);
	}
	uintptr_t n = (uintptr_t)hmap_get(&f->vals, value);
	hmap_put(&f->vals, value, (void *)(n + 1));
	f->total++;
}

void valcount_del(struct valcount *vc, const char *field, const char *value)
{
	struct valcount_field *f = hmap_get(&vc->fields, field);
	if (!f)
		return;
	uintptr_t n = (uintptr_t)hmap_get(&f->vals, value);
	if (!n)
		return;
	if (n == 1)
		hmap_del(&f->vals, value);
	else
		hmap_put(&f->vals, value, (void *)(n - 1));
	if (--f->total == 0) {
		hmap_del(&vc->fields, field);
		hmap_release(&f->vals);
		free(f);
	}
}

size_t valcount_get(const struct valcount *vc, const char *field, const char *value)
{
	const struct valcount_field *f = hmap_get(&vc->fields, field);
	return f ? (size_t)(uintptr_t)hmap_get(&f->vals, value) : 0;
}

size_t valcount_total(const struct valcount *vc, const char *field)
{
	const struct valcount_field *f = hmap_get(&vc->fields, field);
	return f ? f->total : 0;
}

bool valcount_next(const struct valcount *vc, const char *field, size_t *iter,
		   const char **value, size_t *count)
{
	const struct valcount_field *f = hmap_get(&vc->fields, field);
	void *v;
	if (!f || !hmap_next(&f->vals, iter, value, &v))
		return false;
	*count = (size_t)(uintptr_t)v;
	return true;
}
