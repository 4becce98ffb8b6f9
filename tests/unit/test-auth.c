/* Credentials (src/auth/auth.c): the file's parser with its errors and bounds, user:pass,
 * and the Authorization header forms (Basic, token=, Bearer). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/auth.h"
#include "base/b64.h"

static int parse(const char *text, struct auth_creds *c, char *err)
{
	return auth_creds_parse(text, strlen(text), c, err, 256);
}

static void parse_good(void **state)
{
	(void)state;
	char err[256];
	struct auth_creds c = { 0 };
	assert_int_equal(parse("{\"credentials\":[{\"principal\":\"ops\",\"secret\":\"s3\"},"
			       "{\"principal\":\"m\",\"secret\":\"\"}]}", &c, err), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.v[0].principal, "ops");
	assert_string_equal(c.v[0].secret, "s3");
	assert_string_equal(c.v[1].secret, "");
	auth_creds_release(&c);
	assert_int_equal(parse("{\"credentials\":[]}", &c, err), 0);
	assert_int_equal(c.n, 0);
}

static void parse_bad(void **state)
{
	(void)state;
	static const struct {
		const char *text, *msg;
	} t[] = {
		{ "", "not JSON" },
		{ "[]", "credentials: expected an array" },
		{ "{\"credentials\":{}}", "credentials: expected an array" },
		{ "{\"credentials\":[1]}", "credentials[0]: expected an object" },
		{ "{\"credentials\":[{\"secret\":\"x\"}]}", "credentials[0].principal: expected a string" },
		{ "{\"credentials\":[{\"principal\":\"a\"}]}", "credentials[0].secret: expected a string" },
		{ "{\"credentials\":[{\"principal\":\"\",\"secret\":\"x\"}]}", "credentials[0].principal: empty" },
		{ "{\"credentials\":[{\"principal\":\"a\\u0000b\",\"secret\":\"x\"}]}",
		  "credentials[0].principal: holds a NUL byte" },
		{ "{\"credentials\":[{\"principal\":\"a\",\"secret\":\"x\"},{\"principal\":\"a\","
		  "\"secret\":\"y\"}]}", "principal 'a' given twice" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char err[256] = "";
		struct auth_creds c = { 0 };
		assert_true(parse(t[i].text, &c, err) < 0);
		if (!strstr(err, t[i].msg))
			fail_msg("%s: got '%s'", t[i].text, err);
		auth_creds_release(&c);
	}
}

/* A field of exactly AUTH_MAX_FIELD bytes is accepted, one more is refused; the error never
 * quotes a secret. */
static void parse_bounds(void **state)
{
	(void)state;
	char *big = malloc(AUTH_MAX_FIELD + 2);
	memset(big, 'q', AUTH_MAX_FIELD + 1);
	big[AUTH_MAX_FIELD] = '\0';
	char *doc = malloc(2 * AUTH_MAX_FIELD + 100);
	char err[256];
	struct auth_creds c = { 0 };
	snprintf(doc, 2 * AUTH_MAX_FIELD + 100,
		 "{\"credentials\":[{\"principal\":\"p\",\"secret\":\"%s\"}]}", big);
	assert_int_equal(parse(doc, &c, err), 0);
	auth_creds_release(&c);
	big[AUTH_MAX_FIELD] = 'q';
	big[AUTH_MAX_FIELD + 1] = '\0';
	snprintf(doc, 2 * AUTH_MAX_FIELD + 100,
		 "{\"credentials\":[{\"principal\":\"p\",\"secret\":\"%s\"}]}", big);
	assert_int_equal(parse(doc, &c, err), -E2BIG);
	assert_null(strstr(err, "qqqq"));
	auth_creds_release(&c);
	free(big);
	free(doc);
}

static void userpass(void **state)
{
	(void)state;
	char err[256];
	struct auth_creds c = { 0 };
	assert_int_equal(auth_creds_add_userpass(&c, "admin:pa:ss", err, sizeof(err)), 0);
	assert_string_equal(c.v[0].principal, "admin");
	assert_string_equal(c.v[0].secret, "pa:ss");
	assert_true(auth_creds_add_userpass(&c, "nocolon", err, sizeof(err)) < 0);
	assert_true(auth_creds_add_userpass(&c, ":x", err, sizeof(err)) < 0);
	assert_true(auth_creds_add_userpass(&c, "x:", err, sizeof(err)) < 0);
	assert_true(auth_creds_add_userpass(&c, "admin:other", err, sizeof(err)) < 0);
	auth_creds_release(&c);
}

static void check_headers(void **state)
{
	(void)state;
	char err[256];
	struct auth_creds c = { 0 };
	assert_int_equal(parse("{\"credentials\":[{\"principal\":\"ops\",\"secret\":\"s3cret\"},"
			       "{\"principal\":\"m\",\"secret\":\"tok\"}]}", &c, err), 0);
	/* base64("ops:s3cret") */
	assert_string_equal(auth_creds_check(&c, "Basic b3BzOnMzY3JldA=="), "ops");
	assert_string_equal(auth_creds_check(&c, "basic b3BzOnMzY3JldA"), "ops");
	assert_null(auth_creds_check(&c, "Basic b3BzOnMzY3JldEE=")); /* ops:s3cretA */
	assert_null(auth_creds_check(&c, "Basic bTpzM2NyZXQ="));     /* m:s3cret */
	assert_null(auth_creds_check(&c, "Basic b3Bz"));             /* ops */
	assert_null(auth_creds_check(&c, "Basic !!!"));
	assert_null(auth_creds_check(&c, "Basic "));
	assert_string_equal(auth_creds_check(&c, "token=tok"), "m");
	assert_string_equal(auth_creds_check(&c, "Bearer tok"), "m");
	assert_string_equal(auth_creds_check(&c, "Bearer s3cret"), "ops");
	assert_null(auth_creds_check(&c, "token="));
	assert_null(auth_creds_check(&c, "Bearer to"));
	assert_null(auth_creds_check(&c, "Digest x"));
	assert_null(auth_creds_check(&c, ""));
	assert_null(auth_creds_check(&c, NULL));
	auth_creds_release(&c);
}

/* What the CLI and the agent send (base/b64.c) is what the master accepts, for every length
 * modulo 3 and for bytes past ASCII. */
static void basic_round_trip(void **state)
{
	(void)state;
	static const char *const secrets[] = { "", "a", "ab", "abc", "abcd", "p\xc3\xa4ss:w\xff" };
	char *e = b64_encode("ops:s3cret", 10);
	assert_string_equal(e, "b3BzOnMzY3JldA==");
	free(e);
	e = b64_encode("", 0);
	assert_string_equal(e, "");
	free(e);
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		char err[256];
		struct auth_creds c = { 0 };
		char *up = NULL;
		assert_int_equal(asprintf(&up, "user%zu:%s", i, secrets[i]) > 0, 1);
		if (*secrets[i]) {
			assert_int_equal(auth_creds_add_userpass(&c, up, err, sizeof(err)), 0);
			char *h = b64_basic_auth(c.v[0].principal, secrets[i]);
			assert_string_equal(auth_creds_check(&c, h), c.v[0].principal);
			free(h);
			h = b64_basic_auth(c.v[0].principal, "wrong");
			assert_null(auth_creds_check(&c, h));
			free(h);
		}
		free(up);
		auth_creds_release(&c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_good),	 cmocka_unit_test(parse_bad),
		cmocka_unit_test(parse_bounds),	 cmocka_unit_test(userpass),
		cmocka_unit_test(check_headers), cmocka_unit_test(basic_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
