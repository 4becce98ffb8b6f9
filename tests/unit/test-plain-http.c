/* The redirect target of the plain-HTTP port (src/server/plain-http.c): Host parsing,
 * fallback, URI, bounds. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "server/plain-http.h"

static void test_location(void **st)
{
	(void)st;
	static const struct {
		const char *host, *uri, *want;
	} cases[] = {
		{ "example.com", "/v2/apps?embed=apps.tasks", "https://example.com:8443/v2/apps?embed=apps.tasks" },
		{ "example.com:80", "/ping", "https://example.com:8443/ping" },
		{ "10.0.0.1:5080", "/", "https://10.0.0.1:8443/" },
		{ "[::1]:5080", "/x", "https://[::1]:8443/x" },
		{ "[::1]", "/x", "https://[::1]:8443/x" },
		{ NULL, "/x", "https://fb:8443/x" },
		{ "", "/x", "https://fb:8443/x" },
		{ ":80", "/x", "https://fb:8443/x" },         /* no host */
		{ "[::1", "/x", "https://fb:8443/x" },         /* unclosed bracket */
		{ "a\"b", "/x", "https://fb:8443/x" },         /* not a name */
		{ "a b", "/x", "https://fb:8443/x" },
		{ "evil.com/path", "/x", "https://fb:8443/x" }, /* no path smuggled into the host */
		{ "evil.com@x", "/x", "https://fb:8443/x" },
		{ "a[b]", "/x", "https://fb:8443/x" },         /* brackets only around an IPv6 */
		{ "[::1]x", "/x", "https://[::1]:8443/x" },    /* what follows "]" is not the host */
		{ "[g::1]", "/x", "https://fb:8443/x" },
		{ "[]", "/x", "https://fb:8443/x" },
		{ "h", "x", "https://h:8443/" },               /* a URI not starting with '/' */
		{ "h", NULL, "https://h:8443/" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[512];
		assert_int_equal(plain_http_location(cases[i].host, "fb", 8443, cases[i].uri, out,
						     sizeof(out)), 0);
		assert_string_equal(out, cases[i].want);
	}
	/* A host name of 253 characters is taken, 254 is not. */
	char name[300];
	memset(name, 'a', 254);
	name[254] = '\0';
	char out[600];
	assert_int_equal(plain_http_location(name, "fb", 1, "/", out, sizeof(out)), 0);
	assert_string_equal(out, "https://fb:1/");
	name[253] = '\0';
	assert_int_equal(plain_http_location(name, "fb", 1, "/", out, sizeof(out)), 0);
	assert_int_equal(strlen(out), strlen("https://:1/") + 253);
	/* Exactly fitting, and one byte short. */
	assert_int_equal(plain_http_location("h", "fb", 1, "/ab", out, strlen("https://h:1/ab") + 1), 0);
	assert_int_equal(plain_http_location("h", "fb", 1, "/ab", out, strlen("https://h:1/ab")),
			 -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_location) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
