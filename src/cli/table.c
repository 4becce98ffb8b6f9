#include "cli/table.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/strbuf.h"

void table_init(struct table *t, size_t ncols)
{
	assert(ncols > 0);
	t->ncols = ncols;
	t->ncells = t->alloc = 0;
	t->cells = NULL;
}

void table_release(struct table *t)
{
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->ncells = t->alloc = 0;
}

/* Copies s with control bytes (and DEL) replaced by '?'. */
static char *sanitize(const char *s)
{
	char *c = xstrdup(s);
	for (unsigned char *p = (unsigned char *)c; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
	return c;
}

void table_add(struct table *t, const char *cell)
{
	if (t->ncells == t->alloc) {
		t->alloc = t->alloc ? t->alloc * 2 : 16;
		t->cells = xrealloc(t->cells, t->alloc * sizeof(*t->cells));
	}
	t->cells[t->ncells++] = sanitize(cell ? cell : "-");
}

void table_addf(struct table *t, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	table_add(t, strbuf_str(&sb));
	strbuf_release(&sb);
}

static size_t width(const char *s)
{
	size_t w = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p & 0xc0) != 0x80)
			w++;
	return w;
}

char *table_render(const struct table *t)
{
	size_t nrows = (t->ncells + t->ncols - 1) / t->ncols;
	size_t *w = xcalloc(t->ncols, sizeof(*w));
	for (size_t i = 0; i < t->ncells; i++) {
		size_t cw = width(t->cells[i]);
		if (cw > w[i % t->ncols])
			w[i % t->ncols] = cw;
	}
	struct strbuf sb = STRBUF_INIT;
	for (size_t r = 0; r < nrows; r++) {
		/* the last non-empty cell of a row ends it, so lines carry no trailing blanks */
		size_t last = 0;
		for (size_t c = 0; c < t->ncols; c++) {
			size_t i = r * t->ncols + c;
			if (i < t->ncells && t->cells[i][0])
				last = c;
		}
		for (size_t c = 0; c <= last; c++) {
			size_t i = r * t->ncols + c;
			const char *cell = i < t->ncells ? t->cells[i] : "";
			strbuf_adds(&sb, cell);
			if (c < last)
				for (size_t pad = width(cell); pad < w[c] + 2; pad++)
					strbuf_addch(&sb, ' ');
		}
		strbuf_addch(&sb, '\n');
	}
	free(w);
	return strbuf_detach(&sb, NULL);
}
