/* The agent's HTTP port (agent-protocol.md §5): /files/browse, /files/read, /health,
 * /state. Read-only and confined to sandboxes (sandbox-path.h). POST /api/v1/executor is
 * agent-xapi-http.c's. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent-int.h"
#include "agent/sandbox-path.h"
#include "base/mem.h"
#include "base/util.h"
#include "net/http.h"


static void reply_path_error(struct evhttp_request *req, int r, const char *path)
{
	if (r == -EACCES || r == -EPERM)
		http_reply_message(req, 403, "Path '%s' is outside the task sandboxes", path);
	else if (r == -ENOENT || r == -ENOTDIR)
		http_reply_message(req, 404, "Path '%s' does not exist", path);
	else if (r == -EINVAL)
		http_reply_message(req, 400, "Bad path '%s'", path);
	else
		http_reply_message(req, 500, "Cannot open '%s': %s", path, strerror(-r));
}

static void mode_string(mode_t m, char out[11])
{
	out[0] = S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISCHR(m) ? 'c' : S_ISBLK(m) ? 'b'
		 : S_ISFIFO(m) ? 'p' : S_ISSOCK(m) ? 's' : '-';
	static const char rwx[] = "rwxrwxrwx";
	for (int i = 0; i < 9; i++)
		out[1 + i] = (m & (1u << (8 - i))) ? rwx[i] : '-';
	out[10] = '\0';
}

json_t *agent_user_name(uid_t uid)
{
	char buf[1024];
	struct passwd pw, *res = NULL;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res)
		return json_string(pw.pw_name);
	char n[24];
	snprintf(n, sizeof(n), "%u", (unsigned)uid);
	return json_string(n);
}

json_t *agent_group_name(gid_t gid)
{
	char buf[1024];
	struct group gr, *res = NULL;
	if (getgrgid_r(gid, &gr, buf, sizeof(buf), &res) == 0 && res)
		return json_string(gr.gr_name);
	char n[24];
	snprintf(n, sizeof(n), "%u", (unsigned)gid);
	return json_string(n);
}

static json_t *stat_json(const char *path, const struct stat *st)
{
	char mode[11];
	mode_string(st->st_mode, mode);
	json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:s}", "path", path, "nlink",
			      (json_int_t)st->st_nlink, "size", (json_int_t)st->st_size, "mtime",
			      (json_int_t)st->st_mtime, "mode", mode);
	json_object_set_new(o, "uid", agent_user_name(st->st_uid));
	json_object_set_new(o, "gid", agent_group_name(st->st_gid));
	return o;
}

int agent_sandbox_list(struct agent *a, const char *path, agent_list_entry_fn entry,
		       json_t **out)
{
	_cleanup_free_ char *disp = NULL;
	int fd = sandbox_path_open(a->sandbox_root, path, O_RDONLY | O_DIRECTORY, &disp);
	if (fd < 0)
		return fd;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -EIO;
	}
	json_t *arr = json_array();
	struct dirent *de;
	size_t n = 0;
	while ((de = readdir(d)) && n < AGENT_LIST_MAX_ENTRIES) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		char *p = xasprintf("%s/%s", disp, de->d_name);
		json_array_append_new(arr, entry(p, &st));
		free(p);
		n++;
	}
	closedir(d);
	*out = arr;
	return 0;
}

static void files_browse(struct agent *a, struct evhttp_request *req)
{
	_cleanup_free_ char *path = http_query_get(req, "path");
	if (!path) {
		http_reply_message(req, 400, "Missing 'path'");
		return;
	}
	json_t *arr;
	int r = agent_sandbox_list(a, path, stat_json, &arr);
	if (r == -EIO)
		http_reply_message(req, 500, "Cannot list '%s'", path);
	else if (r < 0)
		reply_path_error(req, r, path);
	else
		http_reply_json(req, 200, arr);
}

/* Length of the longest prefix of buf that is valid UTF-8 when cut at a character boundary,
 * replacing invalid bytes with '?' in place. A sequence cut by the end of buf is left out
 * unless at_eof (then its bytes become '?'). */
static size_t utf8_fix(char *buf, size_t n, bool at_eof)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = (unsigned char)buf[i];
		size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3
			   : (c >> 3) == 30 ? 4 : 0;
		if (len == 0 || (len == 2 && c < 0xc2) || (len == 4 && c > 0xf4)) {
			buf[i++] = '?';
			continue;
		}
		if (i + len > n) {
			if (!at_eof)
				return i;
			for (; i < n; i++)
				buf[i] = '?';
			return n;
		}
		bool ok = true;
		for (size_t k = 1; k < len; k++)
			if (((unsigned char)buf[i + k] >> 6) != 2)
				ok = false;
		if (ok && len == 3) {
			unsigned char c1 = (unsigned char)buf[i + 1];
			if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0))
				ok = false;
		}
		if (ok && len == 4) {
			unsigned char c1 = (unsigned char)buf[i + 1];
			if ((c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 >= 0x90))
				ok = false;
		}
		if (!ok) {
			buf[i++] = '?';
			continue;
		}
		i += len;
	}
	return n;
}

static int query_i64(struct evhttp_request *req, const char *key, int64_t dflt, int64_t *out)
{
	_cleanup_free_ char *v = http_query_get(req, key);
	*out = dflt;
	if (!v)
		return 0;
	return parse_i64(v, out);
}

static void files_read(struct agent *a, struct evhttp_request *req)
{
	_cleanup_free_ char *path = http_query_get(req, "path");
	int64_t offset, length;
	if (!path) {
		http_reply_message(req, 400, "Missing 'path'");
		return;
	}
	if (query_i64(req, "offset", -1, &offset) < 0 || offset < -1) {
		http_reply_message(req, 400, "Bad 'offset'");
		return;
	}
	if (query_i64(req, "length", -1, &length) < 0 || length < -1) {
		http_reply_message(req, 400, "Bad 'length'");
		return;
	}
	int fd = sandbox_path_open(a->sandbox_root, path, O_RDONLY | O_NOFOLLOW, NULL);
	if (fd < 0) {
		reply_path_error(req, fd, path);
		return;
	}
	struct stat st;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		http_reply_message(req, 400, "'%s' is not a file", path);
		return;
	}
	if (offset == -1) {
		close(fd);
		http_reply_json(req, 200, json_pack("{s:s, s:I}", "data", "", "offset",
						    (json_int_t)st.st_size));
		return;
	}
	size_t want = length < 0 || length > AGENT_READ_MAX ? AGENT_READ_MAX : (size_t)length;
	char *buf = xmalloc(want + 1);
	size_t have = 0;
	while (have < want) {
		ssize_t n = pread(fd, buf + have, want - have, (off_t)offset + (off_t)have);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	close(fd);
	bool at_eof = (int64_t)have + offset >= (int64_t)st.st_size;
	have = utf8_fix(buf, have, at_eof);
	json_t *data = json_stringn(buf, have);
	free(buf);
	http_reply_json(req, 200, json_pack("{s:o, s:I}", "data", data ? data : json_string(""),
					    "offset", (json_int_t)offset));
}

static void state(struct agent *a, struct evhttp_request *req)
{
	json_t *o = json_pack("{s:s?, s:s, s:s, s:o}", "id", a->agent_id, "hostname", a->hostname,
			      "resources", a->resources, "tasks", agent_tasks_json(a, true));
	http_reply_json(req, 200, o);
}

void agent_http_handle(struct evhttp_request *req, void *ctx)
{
	struct agent *a = ctx;
	_cleanup_free_ char *path = http_request_path(req);
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	if (!path) {
		http_reply_message(req, 400, "Bad request URI");
		return;
	}
	if (!strcmp(path, "/api/v1")) {
		if (!agent_auth_check(a, req, path))
			return;
		agent_api_v1(a, req);
		return;
	}
	if (!strcmp(path, "/api/v1/executor") || !strcmp(path, "/slave(1)/api/v1/executor")) {
		agent_xapi_handle(a, req); /* checks the executor's own token */
		return;
	}
	if (!agent_auth_check(a, req, path))
		return;
	if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
		http_reply_message(req, 405, "Method not allowed");
		return;
	}
	if (!strcmp(path, "/health"))
		http_reply_text(req, 200, "");
	else if (!strcmp(path, "/state"))
		state(a, req);
	else if (!strcmp(path, "/files/browse"))
		files_browse(a, req);
	else if (!strcmp(path, "/files/read"))
		files_read(a, req);
	else if (!strcmp(path, "/monitor/statistics") ||
		 !strcmp(path, "/monitor/statistics.json"))
		http_reply_json(req, 200, agent_isolation_statistics(a));
	else
		http_reply_message(req, 404, "Not found");
}
