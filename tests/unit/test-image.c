/* The image documents' parsers (src/image/image-parse.c): references normalised as Docker
 * does, manifests, indexes, configs and docker save manifests, with what each refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <errno.h>

#include "executor/exec-spec.h"
#include "executor/exec-status.h"
#include "image/image.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_refs(void **state)
{
	(void)state;
	static const struct {
		const char *in, *full;
	} ok[] = {
		{ "busybox", "docker.io/library/busybox:latest" },
		{ "busybox:1.36", "docker.io/library/busybox:1.36" },
		{ "me/app", "docker.io/me/app:latest" },
		{ "127.0.0.1:5000/tests/bb:1", "127.0.0.1:5000/tests/bb:1" },
		{ "localhost/bb", "localhost/bb:latest" },
		{ "quay.io/a/b/c:v", "quay.io/a/b/c:v" },
		{ "bb@sha256:" D64, "docker.io/library/bb@sha256:" D64 },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct image_ref r;
		assert_int_equal(image_ref_parse(ok[i].in, &r), 0);
		assert_string_equal(r.full, ok[i].full);
	}
	static const char *const bad[] = { "", "Busybox", "a b", "bb:", "bb@sha256:12",
					   "../x", "a//b", "host:5000/", ":tag", "a'b" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct image_ref r;
		assert_int_equal(image_ref_parse(bad[i], &r), -EINVAL);
	}
}

static void test_manifest(void **state)
{
	(void)state;
	static struct image_manifest m;
	enum image_doc kind;
	const char *ok = "{\"config\":{\"digest\":\"sha256:" D64 "\"},\"layers\":[{\"mediaType\":"
			 "\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:" D64
			 "\"},{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar\","
			 "\"digest\":\"sha256:" D64 "\"}]}";
	assert_int_equal(image_manifest_parse(ok, strlen(ok), "amd64", &kind, &m), 0);
	assert_int_equal(kind, IMAGE_DOC_MANIFEST);
	assert_int_equal(m.nlayers, 2);
	assert_int_equal(m.gzip[0], 1);
	assert_int_equal(m.gzip[1], 0);
	const char *zstd = "{\"config\":{\"digest\":\"sha256:" D64 "\"},\"layers\":[{\"mediaType\":"
			   "\"application/vnd.oci.image.layer.v1.tar+zstd\",\"digest\":\"sha256:" D64
			   "\"}]}";
	assert_int_equal(image_manifest_parse(zstd, strlen(zstd), "amd64", &kind, &m), -EINVAL);
	const char *baddig = "{\"config\":{\"digest\":\"sha256:ABC\"},\"layers\":[]}";
	assert_int_equal(image_manifest_parse(baddig, strlen(baddig), "amd64", &kind, &m),
			 -EINVAL);
	const char *idx = "{\"manifests\":[{\"digest\":\"sha256:" D64 "\",\"platform\":{\"os\":"
			  "\"linux\",\"architecture\":\"arm64\"}},{\"digest\":\"sha256:"
			  "1111111111111111111111111111111111111111111111111111111111111111\","
			  "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";
	assert_int_equal(image_manifest_parse(idx, strlen(idx), "amd64", &kind, &m), 0);
	assert_int_equal(kind, IMAGE_DOC_INDEX);
	assert_string_equal(m.config, "sha256:1111111111111111111111111111111111111111111111111111111111111111");
	assert_int_equal(image_manifest_parse(idx, strlen(idx), "s390x", &kind, &m), -ENOENT);
}

static void test_config_and_save(void **state)
{
	(void)state;
	struct image_config c;
	const char *cfg = "{\"config\":{\"Entrypoint\":[\"/bin/sh\",\"-c\"],\"Cmd\":null,"
			  "\"Env\":[\"A=1\"],\"WorkingDir\":\"/w\",\"User\":\"10:20\"}}";
	assert_int_equal(image_config_parse(cfg, strlen(cfg), &c), 0);
	assert_string_equal(c.entrypoint[1], "-c");
	assert_null(c.entrypoint[2]);
	assert_null(c.cmd);
	assert_string_equal(c.workdir, "/w");
	image_config_release(&c);
	const char *badenv = "{\"config\":{\"Env\":[\"NOEQUALS\"]}}";
	assert_int_equal(image_config_parse(badenv, strlen(badenv), &c), -EINVAL);
	const char *badtype = "{\"config\":{\"Cmd\":\"ls\"}}";
	assert_int_equal(image_config_parse(badtype, strlen(badtype), &c), -EINVAL);

	static struct image_save_manifest s;
	const char *save = "[{\"Config\":\"c.json\",\"RepoTags\":[\"bb:1\"],\"Layers\":[\"l/layer.tar\"]}]";
	assert_int_equal(image_save_manifest_parse(save, strlen(save), &s), 0);
	assert_string_equal(s.tag, "bb:1");
	assert_string_equal(s.layers[0], "l/layer.tar");
	const char *escape = "[{\"Config\":\"c.json\",\"Layers\":[\"l/../../etc/passwd\"]}]";
	assert_int_equal(image_save_manifest_parse(escape, strlen(escape), &s), -EINVAL);
	const char *abs = "[{\"Config\":\"/etc/passwd\",\"Layers\":[]}]";
	assert_int_equal(image_save_manifest_parse(abs, strlen(abs), &s), -EINVAL);
}

/* The shim's spec keys of a container task (exec-spec.h), and the status's image flag. */
static void test_spec_container_keys(void **state)
{
	(void)state;
	struct exec_portmap pm[2] = { { 31001, 80, 0 }, { 31002, 53, 1 } };
	struct exec_spec s = { .task_id = "t1", .sandbox = "/tmp/sb", .image = "busybox:1",
			       .img_store = "/var/lib/berth/images", .img_dir = "/srv/images",
			       .img_registry = "http://127.0.0.1:5000", .img_pull = 1,
			       .img_auth = "/etc/berth/docker.json",
			       .net_bridge = 1, .pmaps = pm, .npmaps = 2 };
	const char *params[] = { "env=A=1", "read-only=true" };
	s.params = params;
	s.nparams = 2;
	char *buf;
	size_t len;
	assert_int_equal(exec_spec_serialize(&s, &buf, &len), 0); /* no cmd or args: the image's */
	struct exec_spec p;
	assert_int_equal(exec_spec_parse(buf, len, &p), 0);
	assert_string_equal(p.image, "busybox:1");
	assert_string_equal(p.img_store, "/var/lib/berth/images");
	assert_string_equal(p.img_dir, "/srv/images");
	assert_string_equal(p.img_registry, "http://127.0.0.1:5000");
	assert_string_equal(p.img_auth, "/etc/berth/docker.json");
	assert_int_equal(p.img_pull, 1);
	assert_int_equal(p.net_bridge, 1);
	assert_int_equal(p.npmaps, 2);
	assert_int_equal(p.pmaps[0].host, 31001);
	assert_int_equal(p.pmaps[0].container, 80);
	assert_int_equal(p.pmaps[1].udp, 1);
	assert_int_equal(p.nparams, 2);
	assert_string_equal(p.params[0], "env=A=1");
	assert_null(p.img_auth_secret);
	exec_spec_release(&p);
	/* A pullConfig secret: its source (never a value), which needs the store. */
	s.img_auth_secret = "team/registry";
	assert_int_equal(exec_spec_serialize(&s, &buf, &len), -EINVAL);
	s.secrets_dir = "/etc/berth/secrets";
	assert_int_equal(exec_spec_serialize(&s, &buf, &len), 0);
	assert_int_equal(exec_spec_parse(buf, len, &p), 0);
	assert_string_equal(p.img_auth_secret, "team/registry");
	assert_string_equal(p.secrets_dir, "/etc/berth/secrets");
	assert_int_equal(p.nsecrets, 0);
	exec_spec_release(&p);
	s.img_auth_secret = NULL;
	s.secrets_dir = NULL;
	s.img_store = "relative";
	assert_int_equal(exec_spec_serialize(&s, &buf, &len), -EINVAL);
	s.img_store = "/store";
	pm[0].host = 0;
	assert_int_equal(exec_spec_serialize(&s, &buf, &len), -EINVAL);
	/* Hand-made specs: a bad port mapping, or one without an image, is refused. */
	static const char *const bad_pm[] = { "0:80/tcp", "70000:80/tcp", "1:2/sctp", "1:2",
					      "1:2/tcp ", "a:b/tcp" };
	for (size_t i = 0; i < sizeof(bad_pm) / sizeof(bad_pm[0]); i++) {
		char raw[256];
		int n = snprintf(raw, sizeof(raw), "%s%cimage%cbb%cimg.store%c/s%ctask_id%ct%c"
				 "sandbox%c/sb%cshell%c0%cpm%c%s", EXEC_SPEC_MAGIC, 0, 0, 0, 0, 0, 0,
				 0, 0, 0, 0, 0, 0, bad_pm[i]);
		char *b = malloc((size_t)n + 1);
		memcpy(b, raw, (size_t)n + 1);
		assert_int_equal(exec_spec_parse(b, (size_t)n + 1, &p), -EINVAL);
	}
	char raw[256];
	int n = snprintf(raw, sizeof(raw), "%s%ctask_id%ct%csandbox%c/sb%cshell%c0%carg%cx%cpm%c"
			 "1:2/tcp", EXEC_SPEC_MAGIC, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	char *b = malloc((size_t)n + 1);
	memcpy(b, raw, (size_t)n + 1);
	assert_int_equal(exec_spec_parse(b, (size_t)n + 1, &p), -EINVAL);

	struct exec_status st = { .state = EXEC_EXEC_FAILED, .image = 1, .error = 5 };
	char text[512];
	assert_true(exec_status_format(&st, text, sizeof(text)) > 0);
	struct exec_status back;
	assert_int_equal(exec_status_parse(text, &back), 0);
	assert_int_equal(back.image, 1);
}

/* Registry credentials from a docker config.json (image-auth.c): keys with or without a
 * scheme and path, Docker Hub's aliases, "auth" or username/password, bad entries. */
static void test_auth_lookup(void **state)
{
	(void)state;
	char path[] = "/tmp/berth-test-auth-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	/* dXNlcjpwdw== is "user:pw"; YWRtaW46czNjcjN0 is "admin:s3cr3t" */
	const char *cfg =
		"{\"auths\": {\"127.0.0.1:5000\": {\"auth\": \"dXNlcjpwdw==\"},"
		" \"https://reg.example.com/v2/\": {\"username\": \"u2\", \"password\": \"p:2\"},"
		" \"https://index.docker.io/v1/\": {\"auth\": \"YWRtaW46czNjcjN0\"},"
		" \"bad.example.com\": {\"auth\": \"%%%\"},"
		" \"nouser.example.com\": {\"auth\": \"bm9jb2xvbg==\"}}}";
	assert_int_equal(write(fd, cfg, strlen(cfg)), (ssize_t)strlen(cfg));
	close(fd);
	static const struct {
		const char *registry;
		int r;
		const char *userpass;
	} cases[] = {
		{ "127.0.0.1:5000", 0, "user:pw" },
		{ "reg.example.com", 0, "u2:p:2" },
		{ "docker.io", 0, "admin:s3cr3t" },
		{ "registry-1.docker.io", 0, "admin:s3cr3t" },
		{ "127.0.0.1:5001", -ENOENT, "" },
		{ "bad.example.com", -EINVAL, "" },
		{ "nouser.example.com", -EINVAL, "" }, /* "nocolon": no user:password */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char up[128], msg[256] = "";
		int r = image_auth_lookup(path, cases[i].registry, up, sizeof(up), msg, sizeof(msg));
		assert_int_equal(r, cases[i].r);
		if (r == 0)
			assert_string_equal(up, cases[i].userpass);
		if (r == -EINVAL)
			assert_non_null(strstr(msg, cases[i].registry));
	}
	char up[128], msg[256];
	assert_int_equal(image_auth_lookup("/nonexistent/docker.json", "x", up, sizeof(up), msg,
					   sizeof(msg)),
			 -EINVAL);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refs),
		cmocka_unit_test(test_manifest),
		cmocka_unit_test(test_config_and_save),
		cmocka_unit_test(test_spec_container_keys),
		cmocka_unit_test(test_auth_lookup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
