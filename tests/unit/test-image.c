/* The image documents' parsers (src/image/image-parse.c): references normalised as Docker
 * does, manifests, indexes, configs and docker save manifests, with what each refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refs),
		cmocka_unit_test(test_manifest),
		cmocka_unit_test(test_config_and_save),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
