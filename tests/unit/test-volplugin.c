/* The built-in local volume driver: every method through volplugin_handle (refcounted
 * mounts, errors, bad requests), then `berth volume-plugin` in a child process on a real unix
 * socket: mode 0600, HTTP answers, SIGTERM stops it and removes the socket. */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "volplugin/volplugin.h"

static char root_dir[64];

static json_t *call(struct volplugin *vp, const char *path, const char *body, int want)
{
	char *out = NULL;
	int st = volplugin_handle(vp, path, body, strlen(body), &out);
	if (st != want)
		fprintf(stderr, "%s %s -> %d %s\n", path, body, st, out);
	assert_int_equal(st, want);
	json_t *j = json_loads(out, 0, NULL);
	assert_non_null(j);
	free(out);
	return j;
}

static const char *err_of(json_t *j)
{
	const char *e = json_string_value(json_object_get(j, "Err"));
	return e ? e : "";
}

static void test_methods(void **state)
{
	snprintf(root_dir, sizeof(root_dir), "/tmp/test-volplugin-XXXXXX");
	assert_non_null(mkdtemp(root_dir));
	char root[128];
	snprintf(root, sizeof(root), "%s/root", root_dir);
	struct volplugin *vp;
	assert_int_equal(volplugin_new(root, &vp), 0);

	json_t *j = call(vp, "/Plugin.Activate", "", 200);
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "Implements"), 0)),
			    "VolumeDriver");
	json_decref(j);
	j = call(vp, "/VolumeDriver.Capabilities", "{}", 200);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(j, "Capabilities"), "Scope")),
			    "local");
	json_decref(j);

	j = call(vp, "/VolumeDriver.Get", "{\"Name\":\"v1\"}", 500);
	assert_non_null(strstr(err_of(j), "no such volume"));
	json_decref(j);
	j = call(vp, "/VolumeDriver.Create", "{\"Name\":\"v1\",\"Opts\":{\"size\":\"5\"}}", 200);
	assert_string_equal(err_of(j), "");
	json_decref(j);
	j = call(vp, "/VolumeDriver.Create", "{\"Name\":\"v1\"}", 200); /* idempotent */
	json_decref(j);
	char want[200];
	snprintf(want, sizeof(want), "%s/v1", root);
	j = call(vp, "/VolumeDriver.Get", "{\"Name\":\"v1\"}", 200);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "Volume"),
							      "Mountpoint")),
			    want);
	json_decref(j);

	/* Mount refcounted by ID: two IDs, Remove refused until both unmounted. */
	j = call(vp, "/VolumeDriver.Mount", "{\"Name\":\"v1\",\"ID\":\"a\"}", 200);
	assert_string_equal(json_string_value(json_object_get(j, "Mountpoint")), want);
	json_decref(j);
	json_decref(call(vp, "/VolumeDriver.Mount", "{\"Name\":\"v1\",\"ID\":\"a\"}", 200));
	json_decref(call(vp, "/VolumeDriver.Mount", "{\"Name\":\"v1\",\"ID\":\"b\"}", 200));
	j = call(vp, "/VolumeDriver.Remove", "{\"Name\":\"v1\"}", 500);
	assert_non_null(strstr(err_of(j), "in use"));
	json_decref(j);
	json_decref(call(vp, "/VolumeDriver.Unmount", "{\"Name\":\"v1\",\"ID\":\"a\"}", 200));
	json_decref(call(vp, "/VolumeDriver.Remove", "{\"Name\":\"v1\"}", 500));
	json_decref(call(vp, "/VolumeDriver.Unmount", "{\"Name\":\"v1\",\"ID\":\"b\"}", 200));

	j = call(vp, "/VolumeDriver.Path", "{\"Name\":\"v1\"}", 200);
	assert_string_equal(json_string_value(json_object_get(j, "Mountpoint")), want);
	json_decref(j);
	json_decref(call(vp, "/VolumeDriver.Create", "{\"Name\":\"v2\"}", 200));
	j = call(vp, "/VolumeDriver.List", "{}", 200);
	assert_int_equal(json_array_size(json_object_get(j, "Volumes")), 2);
	json_decref(j);

	/* Data is removed with the volume. */
	char file[256];
	snprintf(file, sizeof(file), "%s/sub", want);
	assert_int_equal(mkdir(file, 0755), 0);
	json_decref(call(vp, "/VolumeDriver.Remove", "{\"Name\":\"v1\"}", 200));
	assert_int_equal(access(want, F_OK), -1);
	json_decref(call(vp, "/VolumeDriver.Remove", "{\"Name\":\"v1\"}", 500));

	/* Bad requests and names. */
	json_decref(call(vp, "/VolumeDriver.Create", "{not json", 400));
	json_decref(call(vp, "/VolumeDriver.Create", "[1]", 400));
	json_decref(call(vp, "/VolumeDriver.Create", "{\"Name\":3}", 400));
	json_decref(call(vp, "/VolumeDriver.Create", "{}", 400));
	json_decref(call(vp, "/VolumeDriver.Create", "{\"Name\":\"../x\"}", 500));
	json_decref(call(vp, "/VolumeDriver.Create", "{\"Name\":\".hidden\"}", 500));
	json_decref(call(vp, "/VolumeDriver.Nope", "{}", 404));
	assert_true(volplugin_name_valid("elasticsearch3data"));
	assert_false(volplugin_name_valid("a/b"));
	assert_false(volplugin_name_valid(""));
	volplugin_free(vp);
}

/* One blocking HTTP call on the socket; returns the status, body in out. */
static int http_post(const char *sock, const char *path, const char *body, char *out, size_t size)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		close(fd);
		return -errno;
	}
	char req[1024];
	int n = snprintf(req, sizeof(req),
			 "POST %s HTTP/1.1\r\nHost: plugin\r\nContent-Type: application/json\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			 path, strlen(body), body);
	assert_int_equal(write(fd, req, (size_t)n), n);
	size_t have = 0;
	ssize_t r;
	while (have < size - 1 && (r = read(fd, out + have, size - 1 - have)) > 0)
		have += (size_t)r;
	out[have] = '\0';
	close(fd);
	int status = 0;
	sscanf(out, "HTTP/1.%*d %d", &status);
	return status;
}

static void test_server(void **state)
{
	char root[128], sock[100];
	snprintf(root, sizeof(root), "%s/sroot", root_dir);
	snprintf(sock, sizeof(sock), "%s/local.sock", root_dir);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *argv[] = { "volume-plugin", "--root", root, "--socket", sock, NULL };
		_exit(volplugin_main(5, argv));
	}
	struct stat st;
	for (int i = 0; i < 500 && stat(sock, &st) == -1; i++)
		usleep(10000);
	assert_int_equal(stat(sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	usleep(20000);

	char buf[4096];
	assert_int_equal(http_post(sock, "/Plugin.Activate", "", buf, sizeof(buf)), 200);
	assert_non_null(strstr(buf, "VolumeDriver"));
	assert_int_equal(http_post(sock, "/VolumeDriver.Create", "{\"Name\":\"x\"}", buf,
				   sizeof(buf)), 200);
	assert_int_equal(http_post(sock, "/VolumeDriver.Mount", "{\"Name\":\"y\",\"ID\":\"t\"}",
				   buf, sizeof(buf)), 500);
	assert_non_null(strstr(buf, "\"Err\""));
	assert_int_equal(http_post(sock, "/VolumeDriver.Create", "{bad", buf, sizeof(buf)), 400);

	/* A second server on the same live socket is refused. */
	struct volplugin *vp;
	struct volplugin_server *srv;
	struct event_base *base = event_base_new();
	assert_int_equal(volplugin_new(root, &vp), 0);
	assert_int_equal(volplugin_serve(vp, base, sock, &srv), -EADDRINUSE);

	assert_int_equal(kill(pid, SIGTERM), 0);
	int ws;
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	assert_int_equal(access(sock, F_OK), -1); /* removed on exit */

	/* A stale socket file is replaced. */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(volplugin_serve(vp, base, sock, &srv), 0);
	volplugin_server_free(srv);
	assert_int_equal(access(sock, F_OK), -1);
	volplugin_free(vp);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_server),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
