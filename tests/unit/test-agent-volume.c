/* The agent's volume pieces: persistence id validation, the fence decision, plugin discovery
 * order, HTTP answer parsing, the non-blocking plugin client against the built-in local
 * driver on a real unix socket, a driver that answers Err, and one that never answers; an
 * external volume without a container path mounted through a driver (no bind mount, the
 * task gets the mountpoint); the lease file published for the shims; REMOVE_VOLUME through
 * the local driver, one answering Err, one never answering, and refused for a volume in use. */
#include <errno.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <event2/http.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/agent-int.h"
#include "agent/plugin-client.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "executor/exec-lease.h"
#include "executor/exec-volume.h"
#include "volplugin/volplugin.h"
#include "shim-fixture.h"

static char *dir; /* the run's work directory (shimfx_tmpdir) */

static void test_id_valid(void **state)
{
	assert_true(agent_volume_id_valid("prod_db#data#3f0c-11"));
	assert_false(agent_volume_id_valid(""));
	assert_false(agent_volume_id_valid(NULL));
	assert_false(agent_volume_id_valid("."));
	assert_false(agent_volume_id_valid(".."));
	assert_false(agent_volume_id_valid("a/b"));
	assert_false(agent_volume_id_valid("a..b"));
	assert_false(agent_volume_id_valid("a\nb"));
	char long_id[300];
	memset(long_id, 'x', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	assert_false(agent_volume_id_valid(long_id));
	long_id[200] = '\0';
	assert_true(agent_volume_id_valid(long_id));
}

static void test_fence_due(void **state)
{
	uint64_t s = 1000000;
	assert_false(agent_fence_due(100 * s, 10 * s, 0));      /* no lease: never */
	assert_false(agent_fence_due(14 * s, 10 * s, 5));       /* within the lease */
	assert_true(agent_fence_due(15 * s, 10 * s, 5));        /* exactly L */
	assert_true(agent_fence_due(60 * s, 10 * s, 5));
	assert_false(agent_fence_due(10 * s, 11 * s, 5));       /* heard "after" now */
	assert_true(agent_fence_due(10 * s + 300000, 10 * s, 0.25));
}

static void bind_sock(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
}

static void test_discovery_order(void **state)
{
	char extra[128], run[128], etc[128], p[256];
	snprintf(extra, sizeof(extra), "%s/extra", dir);
	snprintf(run, sizeof(run), "%s/run", dir);
	snprintf(etc, sizeof(etc), "%s/etc", dir);
	shimfx_mkdir(extra, 0755, true);
	shimfx_mkdir(run, 0755, true);
	shimfx_mkdir(etc, 0755, true);
	const char *socks[] = { extra, run, NULL };
	const char *specs[] = { extra, etc, NULL };
	struct plugin_addr a;

	assert_int_equal(plugin_discover(socks, specs, "drv", &a), -ENOENT);
	assert_int_equal(plugin_discover(socks, specs, "../x", &a), -EINVAL);

	/* A spec file is found when there is no socket ... */
	snprintf(p, sizeof(p), "%s/drv.spec", etc);
	shimfx_write(p, "tcp://127.0.0.1:7980\n");
	assert_int_equal(plugin_discover(socks, specs, "drv", &a), 0);
	assert_false(a.is_unix);
	assert_string_equal(a.host, "127.0.0.1");
	assert_int_equal(a.port, 7980);
	/* ... a socket in a later socket dir beats it (sockets first) ... */
	snprintf(p, sizeof(p), "%s/drv", run);
	shimfx_mkdir(p, 0755, true);
	snprintf(p, sizeof(p), "%s/drv/drv.sock", run);
	bind_sock(p);
	assert_int_equal(plugin_discover(socks, specs, "drv", &a), 0);
	assert_true(a.is_unix);
	assert_string_equal(a.path, p);
	/* ... and the extra dir is searched first. */
	char p2[256];
	snprintf(p2, sizeof(p2), "%s/drv.sock", extra);
	bind_sock(p2);
	assert_int_equal(plugin_discover(socks, specs, "drv", &a), 0);
	assert_string_equal(a.path, p2);

	/* .json spec files; https is not supported. */
	snprintf(p, sizeof(p), "%s/j.json", etc);
	shimfx_write(p, "{\"Name\":\"j\",\"Addr\":\"unix:///run/j.sock\"}");
	assert_int_equal(plugin_discover(socks, specs, "j", &a), 0);
	assert_true(a.is_unix);
	assert_string_equal(a.path, "/run/j.sock");
	snprintf(p, sizeof(p), "%s/h.json", etc);
	shimfx_write(p, "{\"Addr\":\"https://x:1\"}");
	assert_int_equal(plugin_discover(socks, specs, "h", &a), -ENOTSUP);
	assert_int_equal(plugin_url_parse("ftp://x", &a), -EINVAL);
}

/* The driver's answer (its HTTP framing is libcurl's): Err wins over the status, a non-200
 * without Err shows the body's first printable line, a 200 must be a JSON object. */
static void test_answer_parse(void **state)
{
	json_t *j;
	char err[64];
	assert_int_equal(plugin_answer_parse(200, "{}", 2, &j, err, sizeof(err)), 0);
	assert_true(json_is_object(j));
	json_decref(j);
	const char *ok = "{\"Mountpoint\":\"/m\",\"Err\":\"\"}";
	assert_int_equal(plugin_answer_parse(200, ok, strlen(ok), &j, err, sizeof(err)), 0);
	assert_string_equal(json_string_value(json_object_get(j, "Mountpoint")), "/m");
	json_decref(j);
	const char *bad = "{\"Err\":\"bad\"}";
	assert_int_equal(plugin_answer_parse(500, bad, strlen(bad), &j, err, sizeof(err)), -EIO);
	assert_null(j);
	assert_string_equal(err, "bad");
	/* an Err in a 200 is a failure too */
	assert_int_equal(plugin_answer_parse(200, bad, strlen(bad), &j, err, sizeof(err)), -EIO);
	assert_string_equal(err, "bad");
	assert_int_equal(plugin_answer_parse(404, "page not found\nmore", 19, &j, err, sizeof(err)),
			 -EIO);
	assert_string_equal(err, "page not found");
	/* control characters are dropped; nothing printable: the status */
	assert_int_equal(plugin_answer_parse(502, "a\001b\033", 4, &j, err, sizeof(err)), -EIO);
	assert_string_equal(err, "ab");
	assert_int_equal(plugin_answer_parse(503, "", 0, &j, err, sizeof(err)), -EIO);
	assert_string_equal(err, "HTTP 503");
	/* a 200 that is not a JSON object */
	assert_int_equal(plugin_answer_parse(200, "[1]", 3, &j, err, sizeof(err)), -EINVAL);
	assert_null(j);
	assert_int_equal(plugin_answer_parse(200, "garbage", 7, &j, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "malformed answer from the driver");
}

/* ---- the client on a real socket ---- */

struct result {
	int done, r;
	char err[256];
	char mountpoint[256];
	struct event_base *base;
};

static void on_result(int r, json_t *ans, const char *err, void *arg)
{
	struct result *res = arg;
	res->done = 1;
	res->r = r;
	snprintf(res->err, sizeof(res->err), "%s", err ? err : "");
	const char *mp = json_string_value(json_object_get(ans, "Mountpoint"));
	snprintf(res->mountpoint, sizeof(res->mountpoint), "%s", mp ? mp : "");
	event_base_loopbreak(res->base);
}

static struct result run_call(struct event_base *base, const struct plugin_addr *addr,
			      const char *method, json_t *body, uint32_t timeout_ms)
{
	struct result res = { .base = base };
	struct plugin_call *c = plugin_call_start(base, addr, method, body, timeout_ms,
						  on_result, &res);
	assert_non_null(c);
	assert_int_equal(res.done, 0); /* never from inside start */
	event_base_dispatch(base);
	assert_int_equal(res.done, 1);
	json_decref(body);
	return res;
}

static void test_client_local_driver(void **state)
{
	struct event_base *base = event_base_new();
	char root[128], sock[100];
	snprintf(root, sizeof(root), "%s/localroot", dir);
	snprintf(sock, sizeof(sock), "%s/local.sock", dir);
	struct volplugin *vp;
	struct volplugin_server *srv;
	assert_int_equal(volplugin_new(root, &vp), 0);
	assert_int_equal(volplugin_serve(vp, base, sock, &srv), 0);
	struct plugin_addr addr;
	const char *socks[] = { dir, NULL };
	assert_int_equal(plugin_discover(socks, NULL, "local", &addr), 0);

	struct result r = run_call(base, &addr, "/Plugin.Activate", NULL, 2000);
	assert_int_equal(r.r, 0);
	r = run_call(base, &addr, "/VolumeDriver.Get", json_pack("{s:s}", "Name", "es3"), 2000);
	assert_int_equal(r.r, -EIO);
	assert_non_null(strstr(r.err, "no such volume"));
	r = run_call(base, &addr, "/VolumeDriver.Create",
		     json_pack("{s:s, s:{s:s}}", "Name", "es3", "Opts", "size", "5"), 2000);
	assert_int_equal(r.r, 0);
	r = run_call(base, &addr, "/VolumeDriver.Mount",
		     json_pack("{s:s, s:s}", "Name", "es3", "ID", "task.1"), 2000);
	assert_int_equal(r.r, 0);
	char want[200];
	snprintf(want, sizeof(want), "%s/es3", root);
	assert_string_equal(r.mountpoint, want);
	r = run_call(base, &addr, "/VolumeDriver.Remove", json_pack("{s:s}", "Name", "es3"), 2000);
	assert_int_equal(r.r, -EIO); /* in use */
	r = run_call(base, &addr, "/VolumeDriver.Unmount",
		     json_pack("{s:s, s:s}", "Name", "es3", "ID", "task.1"), 2000);
	assert_int_equal(r.r, 0);

	/* Nobody listening: a clear error, from the loop. */
	volplugin_server_free(srv);
	bind_sock(sock);
	r = run_call(base, &addr, "/Plugin.Activate", NULL, 2000);
	assert_true(r.r < 0);
	assert_int_equal(r.r, -ECONNREFUSED);
	assert_non_null(strstr(r.err, "Connection refused"));
	assert_non_null(strstr(r.err, sock)); /* says which driver */
	unlink(sock);
	volplugin_free(vp);
	event_base_free(base);
}

/* A driver whose every answer is 500 {"Err":"disk on fire"} (evhttp over a unix socket). */
static void err_driver(struct evhttp_request *req, void *arg)
{
	struct evbuffer *b = evbuffer_new();
	evbuffer_add_printf(b, "{\"Err\":\"disk on fire\"}");
	evhttp_send_reply(req, 500, "Internal Server Error", b);
	evbuffer_free(b);
}

static int listen_unix(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 16), 0);
	return fd;
}

static void test_client_err_and_hang(void **state)
{
	struct event_base *base = event_base_new();
	char sock[100];
	snprintf(sock, sizeof(sock), "%s/bad.sock", dir);
	int lfd = listen_unix(sock);
	struct evhttp *http = evhttp_new(base);
	evhttp_set_gencb(http, err_driver, NULL);
	assert_int_equal(evhttp_accept_socket(http, lfd), 0);
	struct plugin_addr addr;
	const char *socks[] = { dir, NULL };
	assert_int_equal(plugin_discover(socks, NULL, "bad", &addr), 0);
	struct result r = run_call(base, &addr, "/VolumeDriver.Mount",
				   json_pack("{s:s, s:s}", "Name", "v", "ID", "t"), 2000);
	assert_int_equal(r.r, -EIO);
	assert_string_equal(r.err, "disk on fire");
	evhttp_free(http);

	/* A driver that accepts (the kernel's backlog) and never answers: the timeout. */
	snprintf(sock, sizeof(sock), "%s/hang.sock", dir);
	lfd = listen_unix(sock);
	assert_int_equal(plugin_discover(socks, NULL, "hang", &addr), 0);
	uint64_t t0 = time_mono_usec();
	r = run_call(base, &addr, "/Plugin.Activate", NULL, 300);
	uint64_t took = time_mono_usec() - t0;
	assert_int_equal(r.r, -ETIMEDOUT);
	assert_non_null(strstr(r.err, "300 ms"));
	assert_true(took >= 280000 && took < 2000000);

	/* Cancelled calls never call back. */
	struct result res = { .base = base };
	struct plugin_call *c = plugin_call_start(base, &addr, "/Plugin.Activate", NULL, 100,
						  on_result, &res);
	plugin_call_cancel(c);
	struct timeval tv = { 0, 200000 };
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	assert_int_equal(res.done, 0);
	close(lfd);
	event_base_free(base);
}

/* ---- an external volume without a container path ---- */

struct prep {
	int done, r;
	char msg[256];
	struct event_base *base;
};
static struct prep prep_res;

static void on_prepared(struct agent_task *t, int r, const char *msg)
{
	prep_res.done++;
	prep_res.r = r;
	snprintf(prep_res.msg, sizeof(prep_res.msg), "%s", msg ? msg : "");
	event_base_loopbreak(prep_res.base);
}

static void on_released_cb(struct agent_task *t)
{
	prep_res.done++;
	event_base_loopbreak(prep_res.base);
}

static void test_external_without_container_path(void **state)
{
	struct event_base *base = event_base_new();
	char root[128], sock[160], plugdir[128], vroot[128];
	snprintf(root, sizeof(root), "%s/rexray-root", dir);
	snprintf(plugdir, sizeof(plugdir), "%s/plugins", dir);
	snprintf(sock, sizeof(sock), "%s/rexray.sock", plugdir);
	snprintf(vroot, sizeof(vroot), "%s/volumes", dir);
	shimfx_mkdir(plugdir, 0755, true);
	struct volplugin *vp;
	struct volplugin_server *srv;
	assert_int_equal(volplugin_new(root, &vp), 0);
	assert_int_equal(volplugin_serve(vp, base, sock, &srv), 0);

	struct agent a = { .base = base, .volume_root = vroot, .volume_plugin_dir = plugdir,
			   .plugin_timeout_ms = 2000 };
	struct agent_task t = { .id = "webserver.1", .agent = &a };
	char msg[256];
	/* What the master sends for DVDI_VOLUME_NAME without DVDI_VOLUME_CONTAINERPATH. */
	json_t *spec = json_pack("{s:[{s:s, s:s, s:s, s:s, s:s, s:{s:s}}]}", "volumes", "type",
				 "external", "container_path", "", "mode", "RW", "name", "webdata",
				 "driver", "rexray", "options", "size", "5");
	assert_int_equal(agent_volumes_parse(&a, &t, spec, msg, sizeof(msg)), 0);
	json_decref(spec);
	assert_true(agent_volumes_external(&t));
	assert_string_equal(agent_volume_label(&t, 0), "webdata");

	prep_res = (struct prep){ .base = base };
	agent_volumes_prepare(&a, &t, on_prepared);
	if (!prep_res.done)
		event_base_dispatch(base);
	assert_int_equal(prep_res.done, 1);
	assert_int_equal(prep_res.r, 0);
	/* Mounted by the driver (Create, then Mount with the task id) ... */
	char want[256];
	snprintf(want, sizeof(want), "%s/webdata", root);
	struct stat st;
	assert_int_equal(stat(want, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* ... handed to the shim as the mountpoint with no container path: no bind mount, and
	 * BERTH_VOLUME_0 = the mountpoint (exec_volume_target). */
	struct exec_volume ev[EXEC_SPEC_MAX_VOLUMES];
	assert_int_equal(agent_volumes_exec(&t, ev, EXEC_SPEC_MAX_VOLUMES), 1);
	assert_string_equal(ev[0].source, want);
	assert_string_equal(ev[0].path, "");
	assert_int_equal(ev[0].ro, 0);
	char target[256];
	assert_int_equal(exec_volume_target("/sandbox", &ev[0], target, sizeof(target)), 0);
	assert_string_equal(target, want);
	struct exec_spec es = { .task_id = t.id, .sandbox = "/sandbox", .shell = 1, .cmd = "true",
				.volumes = ev, .nvolumes = 1, .lease_file = "/w/lease" };
	char *buf;
	size_t len;
	assert_int_equal(exec_spec_serialize(&es, &buf, &len), 0);
	free(buf);
	/* Unmount (same ID) when the task has ended. */
	prep_res.done = 0;
	assert_true(agent_volumes_release(&a, &t, on_released_cb));
	if (!prep_res.done)
		event_base_dispatch(base);
	assert_int_equal(prep_res.done, 1);
	assert_false(agent_volumes_release(&a, &t, on_released_cb)); /* nothing left mounted */
	agent_volumes_free(&t);

	/* An empty container path stays invalid for a persistent volume. */
	spec = json_pack("{s:[{s:s, s:s, s:s}]}", "volumes", "type", "persistent",
			 "container_path", "", "persistence_id", "x");
	assert_int_equal(agent_volumes_parse(&a, &t, spec, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "Volume 0: invalid container_path");
	assert_null(t.vols);
	json_decref(spec);
	/* And a missing one for any volume. */
	spec = json_pack("{s:[{s:s, s:s, s:s}]}", "volumes", "type", "external", "name", "w",
			 "driver", "rexray");
	assert_int_equal(agent_volumes_parse(&a, &t, spec, msg, sizeof(msg)), -EINVAL);
	json_decref(spec);

	agent_fence_stop(&a);
	volplugin_server_free(srv);
	volplugin_free(vp);
	event_base_free(base);
}

/* ---- REMOVE_VOLUME ---- */

static int saved_stderr = -1;
static char log_path[128];

/* Sends stderr (the agent's log) to a file until log_end, which returns what was logged. */
static void log_begin(void)
{
	snprintf(log_path, sizeof(log_path), "%s/log", dir);
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(saved_stderr >= 0 && fd >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
}

static char *log_end(void)
{
	fflush(stderr);
	assert_int_equal(dup2(saved_stderr, STDERR_FILENO), STDERR_FILENO);
	close(saved_stderr);
	static char buf[4096];
	FILE *f = fopen(log_path, "re");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	fputs(buf, stderr); /* still shown */
	return buf;
}

/* Runs the loop until no removal is in flight. */
static void removals_wait(struct agent *a)
{
	uint64_t t0 = time_mono_usec();
	while (a->removals) {
		assert_true(time_mono_usec() - t0 < 5000000);
		event_base_loop(a->base, EVLOOP_ONCE);
	}
	assert_int_equal(a->nremovals, 0);
}

static void test_remove_volume(void **state)
{
	struct event_base *base = event_base_new();
	char root[128], sock[160], plugdir[128], vroot[128], vdir[200];
	snprintf(root, sizeof(root), "%s/rm-root", dir);
	snprintf(plugdir, sizeof(plugdir), "%s/rm-plugins", dir);
	snprintf(sock, sizeof(sock), "%s/local.sock", plugdir);
	snprintf(vroot, sizeof(vroot), "%s/rm-volumes", dir);
	snprintf(vdir, sizeof(vdir), "%s/es0data", root);
	shimfx_mkdir(plugdir, 0755, true);
	struct volplugin *vp;
	struct volplugin_server *srv;
	assert_int_equal(volplugin_new(root, &vp), 0);
	assert_int_equal(volplugin_serve(vp, base, sock, &srv), 0);
	struct plugin_addr addr;
	const char *socks[] = { plugdir, NULL };
	assert_int_equal(plugin_discover(socks, NULL, "local", &addr), 0);
	struct result r = run_call(base, &addr, "/VolumeDriver.Create",
				   json_pack("{s:s}", "Name", "es0data"), 2000);
	assert_int_equal(r.r, 0);
	struct stat st;
	assert_int_equal(stat(vdir, &st), 0);

	struct agent a = { .base = base, .volume_root = vroot, .volume_plugin_dir = plugdir,
			   .plugin_timeout_ms = 2000 };

	/* Bad fields: refused, nothing called. */
	assert_int_equal(agent_volume_remove(&a, NULL, "es0data"), -EINVAL);
	assert_int_equal(agent_volume_remove(&a, "../local", "es0data"), -EINVAL);
	assert_int_equal(agent_volume_remove(&a, "local", NULL), -EINVAL);
	assert_int_equal(agent_volume_remove(&a, "local", ""), -EINVAL);
	assert_int_equal(agent_volume_remove(&a, "local", "es0\ndata"), -EINVAL);
	assert_int_equal(agent_volume_remove(&a, "nosuchdriver", "es0data"), -ENOENT);
	assert_null(a.removals);

	/* A live task on this agent uses it: refused, the volume stays. */
	struct agent_task t = { .id = "es.1", .agent = &a };
	char msg[256];
	json_t *spec = json_pack("{s:[{s:s, s:s, s:s, s:s}]}", "volumes", "type", "external",
				 "container_path", "", "name", "es0data", "driver", "local");
	assert_int_equal(agent_volumes_parse(&a, &t, spec, msg, sizeof(msg)), 0);
	json_decref(spec);
	struct agent_task *bucket = &t;
	a.buckets = &bucket;
	a.nbuckets = 1;
	log_begin();
	int rr = agent_volume_remove(&a, "local", "es0data");
	char *log = log_end();
	assert_int_equal(rr, -EBUSY);
	assert_non_null(strstr(log, "refused: task 'es.1' uses it"));
	/* Another volume of the same driver is not held by it. */
	assert_int_equal(agent_volume_remove(&a, "local", "other"), 0);
	removals_wait(&a);
	/* Ended (no shim, nothing mounted): no longer in use. */
	t.terminal = true;
	t.pidfd = -1;
	assert_int_equal(stat(vdir, &st), 0);

	/* The driver answers Err (the local driver: mounted by someone else): left, logged. */
	r = run_call(base, &addr, "/VolumeDriver.Mount",
		     json_pack("{s:s, s:s}", "Name", "es0data", "ID", "elsewhere"), 2000);
	assert_int_equal(r.r, 0);
	log_begin();
	assert_int_equal(agent_volume_remove(&a, "local", "es0data"), 0);
	removals_wait(&a);
	log = log_end();
	assert_non_null(strstr(log, "REMOVE_VOLUME: volume 'es0data' (driver 'local') not removed"));
	assert_int_equal(stat(vdir, &st), 0);
	r = run_call(base, &addr, "/VolumeDriver.Unmount",
		     json_pack("{s:s, s:s}", "Name", "es0data", "ID", "elsewhere"), 2000);
	assert_int_equal(r.r, 0);

	/* Removed: the driver's directory is gone, one line logged. */
	log_begin();
	assert_int_equal(agent_volume_remove(&a, "local", "es0data"), 0);
	removals_wait(&a);
	log = log_end();
	assert_non_null(strstr(log, "REMOVE_VOLUME: volume 'es0data' removed by driver 'local'"));
	assert_int_equal(stat(vdir, &st), -1);
	assert_int_equal(errno, ENOENT);

	/* A driver whose every answer is Err (Activate included). */
	char bsock[200];
	snprintf(bsock, sizeof(bsock), "%s/bad.sock", plugdir);
	int lfd = listen_unix(bsock);
	struct evhttp *http = evhttp_new(base);
	evhttp_set_gencb(http, err_driver, NULL);
	assert_int_equal(evhttp_accept_socket(http, lfd), 0);
	log_begin();
	assert_int_equal(agent_volume_remove(&a, "bad", "es0data"), 0);
	removals_wait(&a);
	log = log_end();
	assert_non_null(strstr(log, "(driver 'bad') not removed: disk on fire"));
	evhttp_free(http);

	/* One that never answers: bounded by the plugin timeout. */
	snprintf(bsock, sizeof(bsock), "%s/hang.sock", plugdir);
	lfd = listen_unix(bsock);
	a.plugin_timeout_ms = 200;
	log_begin();
	uint64_t t0 = time_mono_usec();
	assert_int_equal(agent_volume_remove(&a, "hang", "es0data"), 0);
	removals_wait(&a);
	uint64_t took = time_mono_usec() - t0;
	log = log_end();
	assert_non_null(strstr(log, "(driver 'hang') not removed: "
				"the driver did not answer within 200 ms"));
	assert_true(took >= 180000 && took < 2000000);
	/* Calls in flight are abandoned when the agent stops. */
	assert_int_equal(agent_volume_remove(&a, "hang", "x"), 0);
	assert_int_equal(a.nremovals, 1);
	agent_fence_stop(&a);
	assert_null(a.removals);
	assert_int_equal(a.nremovals, 0);
	close(lfd);

	agent_volumes_free(&t);
	volplugin_server_free(srv);
	volplugin_free(vp);
	event_base_free(base);
}

/* ---- the lease published for the shims ---- */

static void test_lease_publish(void **state)
{
	struct event_base *base = event_base_new();
	char wd[128], lease[160];
	snprintf(wd, sizeof(wd), "%s/work", dir);
	snprintf(lease, sizeof(lease), "%s/%s", wd, EXEC_LEASE_FILE);
	shimfx_mkdir(wd, 0755, true);
	uint64_t d;

	/* No lease from the master: nothing published. */
	struct agent a = { .base = base, .work_dir = wd };
	assert_int_equal(agent_fence_start(&a), 0);
	agent_lease_heard(&a);
	assert_int_equal(agent_lease_publish(&a), 0);
	assert_int_equal(exec_lease_read(lease, &d), -ENOENT);
	agent_fence_stop(&a);

	/* L = 2 s: heard → deadline heard + 2 s, at once the first time. */
	char vl[160];
	snprintf(vl, sizeof(vl), "%s/volume_lease", wd);
	shimfx_write(vl, "2.000\n");
	a = (struct agent){ .base = base, .work_dir = wd };
	assert_int_equal(agent_fence_start(&a), 0);
	assert_true(a.lease_sec == 2.0);
	agent_lease_heard(&a);
	assert_int_equal(exec_lease_read(lease, &d), 0);
	assert_true(d == a.fence_heard_usec + 2000000);
	/* Heard again at once: throttled (the earlier deadline stays: safe) ... */
	uint64_t first = d;
	usleep(1000);
	agent_lease_heard(&a);
	assert_int_equal(exec_lease_read(lease, &d), 0);
	assert_true(d == first);
	/* ... and a launch is content with a lease still running ... */
	assert_int_equal(agent_lease_publish(&a), 0);
	assert_int_equal(exec_lease_read(lease, &d), 0);
	assert_true(d == first);
	/* ... while the fence timer catches up within its period. */
	uint64_t heard = a.fence_heard_usec;
	struct timeval tv = { 0, 300000 };
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	assert_int_equal(exec_lease_read(lease, &d), 0);
	assert_true(d == heard + 2000000);
	/* Not written again within EXEC_LEASE_CHECK_USEC of the last write, then again. */
	agent_lease_heard(&a);
	assert_int_equal(exec_lease_read(lease, &d), 0);
	assert_true(d == heard + 2000000);
	usleep(EXEC_LEASE_CHECK_USEC + 10000);
	agent_lease_heard(&a);
	assert_int_equal(exec_lease_read(lease, &d), 0);
	assert_true(d == a.fence_heard_usec + 2000000);
	agent_fence_stop(&a);

	/* A restarted agent goes on from the published deadline, never extends it. */
	uint64_t now = time_mono_usec();
	assert_int_equal(exec_lease_write(wd, now + 500000), 0);
	a = (struct agent){ .base = base, .work_dir = wd };
	assert_int_equal(agent_fence_start(&a), 0);
	assert_true(a.fence_heard_usec == now + 500000 - 2000000);
	assert_false(agent_fence_due(now, a.fence_heard_usec, a.lease_sec));
	assert_true(agent_fence_due(now + 500000, a.fence_heard_usec, a.lease_sec));
	tv = (struct timeval){ 0, 250000 };
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	assert_int_equal(exec_lease_read(lease, &d), 0);
	assert_true(d == now + 500000);
	agent_fence_stop(&a);
	/* One from before a reboot (far ahead): counted from the start instead. */
	assert_int_equal(exec_lease_write(wd, time_mono_usec() + 3600000000ull), 0);
	a = (struct agent){ .base = base, .work_dir = wd };
	now = time_mono_usec();
	assert_int_equal(agent_fence_start(&a), 0);
	assert_true(a.fence_heard_usec >= now && a.fence_heard_usec <= time_mono_usec());
	agent_fence_stop(&a);
	event_base_free(base);
}

int main(void)
{
	dir = shimfx_tmpdir("test-agent-volume");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_valid),
		cmocka_unit_test(test_fence_due),
		cmocka_unit_test(test_discovery_order),
		cmocka_unit_test(test_answer_parse),
		cmocka_unit_test(test_client_local_driver),
		cmocka_unit_test(test_client_err_and_hang),
		cmocka_unit_test(test_external_without_container_path),
		cmocka_unit_test(test_lease_publish),
		cmocka_unit_test(test_remove_volume),
	};
	return shimfx_end(cmocka_run_group_tests(tests, NULL, NULL));
}
