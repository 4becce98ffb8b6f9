/* The console's served assets (src/ui): the embedded table and If-None-Match matching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ui/ui-assets.h"
#include "ui/ui.h"

static void table_is_sound(void **state)
{
	(void)state;
	bool index = false;
	assert_true(ui_assets_n >= 2);
	for (unsigned i = 0; i < ui_assets_n; i++) {
		const struct ui_asset *a = &ui_assets[i];
		assert_non_null(strchr(a->type, '/'));
		assert_true(strlen(a->etag) == 22 && a->etag[0] == '"' && a->etag[21] == '"');
		assert_true(a->len > 0);
		assert_int_equal(a->data[a->len], 0); /* NUL after the bytes */
		assert_null(strchr(a->name, '/'));
		if (i)
			assert_true(strcmp(ui_assets[i - 1].name, a->name) < 0); /* sorted, unique */
		if (!strcmp(a->name, "index.html")) {
			index = true;
			assert_string_equal(a->type, "text/html; charset=utf-8");
			assert_non_null(strstr((const char *)a->data, "/ui/main.js"));
		}
	}
	assert_true(index);
}

static void etag_lists(void **state)
{
	(void)state;
	const char *e = "\"abc\"";
	assert_true(ui_etag_listed("\"abc\"", e));
	assert_true(ui_etag_listed("*", e));
	assert_true(ui_etag_listed(" * ", e));
	assert_true(ui_etag_listed("W/\"abc\"", e));
	assert_true(ui_etag_listed("\"x\", \"abc\"", e));
	assert_true(ui_etag_listed("\"x\",W/\"abc\" ,", e));
	assert_false(ui_etag_listed(NULL, e));
	assert_false(ui_etag_listed("", e));
	assert_false(ui_etag_listed("\"abcd\"", e));
	assert_false(ui_etag_listed("x\"abc\"", e));
	assert_false(ui_etag_listed("\"abc\"x", e));
	assert_false(ui_etag_listed("abc", e));
	assert_false(ui_etag_listed("**", e));
	assert_false(ui_etag_listed("w/\"abc\"", e));
	assert_false(ui_etag_listed(",,, ", e));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_is_sound),
		cmocka_unit_test(etag_lists),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
