/* The local driver on a unix socket (evhttp on an AF_UNIX listener), and
 * `berth volume-plugin`. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/flags.h"
#include "base/log.h"
#include "base/mem.h"
#include "net/loop.h"
#include "volplugin/volplugin.h"

struct volplugin_server {
	struct volplugin *vp;
	struct evhttp *http;
	char *path;
	int fd;
};

static void on_request(struct evhttp_request *req, void *arg)
{
	struct volplugin_server *s = arg;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct evbuffer *outb = evbuffer_new();
	const char *uri = evhttp_request_get_uri(req);
	char *answer = NULL;
	int status;
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		answer = xstrdup("{\"Err\":\"plugin calls are POST\"}");
		status = 405;
	} else {
		size_t n = evbuffer_get_length(in);
		const char *body = n ? (const char *)evbuffer_pullup(in, (ssize_t)n) : "";
		char path[128];
		snprintf(path, sizeof(path), "%s", uri ? uri : "");
		path[strcspn(path, "?")] = '\0';
		status = volplugin_handle(s->vp, path, body ? body : "", body ? n : 0, &answer);
		log_debug("volplugin", "%s -> %d %s", path, status, answer);
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "application/vnd.docker.plugins.v1.1+json");
	evbuffer_add(outb, answer, strlen(answer));
	free(answer);
	evhttp_send_reply(req, status, status == 200 ? "OK" : "Error", outb);
	evbuffer_free(outb);
}

/* A socket file nobody listens on may be replaced; a live one may not. */
static int clear_stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	int r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (r == 0)
		return -EADDRINUSE;
	if (unlink(path) == -1 && errno != ENOENT)
		return -errno;
	return 0;
}

int volplugin_serve(struct volplugin *vp, struct event_base *base, const char *socket_path,
		    struct volplugin_server **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, socket_path, strlen(socket_path) + 1);
	int r = clear_stale(socket_path, &sa);
	if (r < 0)
		return r;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -errno;
	/* Linux gives the socket file the socket inode's mode (less the umask) at bind(), so
	 * the file never exists with a wider mode than 0600 (a stat() right after bind() sees
	 * 0600, not the umask's 0755). */
	if (fchmod(fd, 0600) == -1 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		r = -errno;
		close(fd);
		return r;
	}
	/* Again by path, for kernels that ignore the socket inode's mode. */
	if (chmod(socket_path, 0600) == -1 || listen(fd, 128) == -1) {
		r = -errno;
		close(fd);
		unlink(socket_path);
		return r;
	}
	struct volplugin_server *s = xcalloc(1, sizeof(*s));
	s->vp = vp;
	s->fd = fd;
	s->path = xstrdup(socket_path);
	s->http = evhttp_new(base);
	if (!s->http || evhttp_accept_socket(s->http, fd) == -1) {
		if (s->http)
			evhttp_free(s->http);
		close(fd);
		unlink(socket_path);
		free(s->path);
		free(s);
		return -ENOMEM;
	}
	evhttp_set_max_body_size(s->http, VOLPLUGIN_MAX_BODY);
	evhttp_set_max_headers_size(s->http, 64 * 1024);
	evhttp_set_timeout(s->http, 60);
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_POST | EVHTTP_REQ_GET);
	evhttp_set_gencb(s->http, on_request, s);
	*out = s;
	return 0;
}

void volplugin_server_free(struct volplugin_server *s)
{
	if (!s)
		return;
	evhttp_free(s->http); /* closes the listener's fd */
	unlink(s->path);
	free(s->path);
	free(s);
}

/* ---- berth volume-plugin ---- */

struct vp_args {
	const char *root, *socket;
};

#define VP_REQUIRED "--root (absolute) and --socket are required"

static const struct flag_spec specs[] = {
	{ .name = "root", .kind = FLAG_STRING, .off = offsetof(struct vp_args, root),
	  .required = true, .metavar = "DIR", .help = "the volumes' directories (an absolute path)" },
	{ .name = "socket", .kind = FLAG_STRING, .off = offsetof(struct vp_args, socket),
	  .required = true, .metavar = "PATH", .help = "the unix socket to serve on" },
};
static const struct flag_table vp_flags = { specs, ARRAY_SIZE(specs) };
static const char vp_about[] =
	"Serves berth's built-in 'local' volume driver (one directory per volume under\n"
	"DIR) over the Docker volume plugin protocol on the unix socket PATH, e.g.\n"
	"/run/docker/plugins/local.sock. Stops on SIGTERM or SIGINT.\n";

int volplugin_main(int argc, char **argv)
{
	struct vp_args args = { 0 };
	_cleanup_flags_ struct flags fl = FLAGS_INIT;
	const struct flag_set set = { .table = &vp_flags, .cfg = &args };
	const struct flag_cmd cmd = {
		.name = "volume-plugin",
		.about = vp_about,
		.required_msg = VP_REQUIRED,
		.sets = &set,
		.nsets = 1,
	};
	int r = flags_parse(&fl, &cmd, argc, argv);
	if (r)
		return r == FLAGS_HELP ? 0 : 2;
	const char *root = args.root, *sock = args.socket;
	if (root[0] != '/') {
		fprintf(stderr, "berth volume-plugin: " VP_REQUIRED "\n");
		flags_usage(&cmd, stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	struct volplugin *vp;
	r = volplugin_new(root, &vp);
	if (r < 0) {
		log_error("volplugin", "cannot use root '%s': %s", root, strerror(-r));
		return 1;
	}
	struct event_base *base = event_base_new();
	struct volplugin_server *srv = NULL;
	r = base ? volplugin_serve(vp, base, sock, &srv) : -ENOMEM;
	if (r < 0) {
		log_error("volplugin", "cannot serve on '%s': %s", sock, strerror(-r));
		if (base)
			event_base_free(base);
		volplugin_free(vp);
		return 1;
	}
	log_info("volplugin", "local volume driver on '%s', volumes in '%s'", sock, root);
	r = loop_run_until_signal(base, "volplugin");
	volplugin_server_free(srv);
	volplugin_free(vp);
	event_base_free(base);
	return r < 0 ? 1 : 0;
}
