/* Aligned text tables for people: a header row in capitals, columns separated by two
 * spaces, no colors, the last column not padded. Cells are sanitized: control characters
 * (a task's id or an attribute could hold an escape sequence) become '?'. */
#pragma once
#include <stddef.h>

struct table {
	size_t ncols;
	size_t ncells; /* cells added so far; row r, column c is cells[r * ncols + c] */
	size_t alloc;
	char **cells;
};

/* The header row is the first row added. ncols must be > 0. */
void table_init(struct table *t, size_t ncols);
void table_release(struct table *t);
/* Adds the next cell (copied; NULL becomes "-"), filling rows left to right. */
void table_add(struct table *t, const char *cell);
void table_addf(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The rendered table, one line per complete row, each ending in '\n' (malloc'd, taken by
 * the caller). Widths count UTF-8 code points, not bytes. An unfinished last row is padded
 * with empty cells. */
char *table_render(const struct table *t);
