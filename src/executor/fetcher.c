/* berth-fetcher: downloads one of a task's URIs (Marathon's `fetch`/`uris`, Mesos's
 * CommandInfo.URI) into its sandbox, for the shim before it starts the task (executor.c).
 * Its own program so that the shim never maps libcurl.
 *
 *   berth-fetcher [--extract] [--executable] [--output NAME] [--cache DIR --cache-max BYTES]
 *                 --error-file FILE URI SANDBOX
 *
 * http://, https:// and file:// URIs, and plain absolute paths, through libcurl (redirects
 * followed, at most BERTH_FETCH_MAX_BYTES). The file is written as SANDBOX/NAME (NAME: the
 * --output, else the URI's last path segment). With --extract an archive (.tar, .tar.gz,
 * .tgz, .tar.bz2, .tbz2, .tar.xz, .txz, .zip) is then unpacked into SANDBOX by tar or unzip;
 * with --executable the file is made executable. Exit 0, or 1 with one line saying what
 * failed in FILE (and on stderr). With --cache the download goes through the agent's cache in
 * DIR, bounded to BYTES (fetch-cache.h): a URI it holds is copied from there, not downloaded. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "executor/fetch-cache.h"

#define BERTH_FETCH_MAX_BYTES (4ll << 30)

static const char *error_file;
static bool failed; /* fail() said what went wrong */

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	failed = true;
	fprintf(stderr, "berth-fetcher: %s\n", msg);
	if (error_file) {
		FILE *f = fopen(error_file, "we");
		if (f) {
			fprintf(f, "%s\n", msg);
			fclose(f);
		}
	}
	return 1;
}

static bool ends(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

/* Runs argv, waits. 0 or its exit status (or 128 + signal). */
static int run(char *const argv[])
{
	pid_t p = fork();
	if (p == 0) {
		dup2(2, 1); /* tar's and unzip's chatter to the sandbox's stderr */
		execvp(argv[0], argv);
		_exit(127);
	}
	if (p == -1)
		return 127;
	int ws;
	while (waitpid(p, &ws, 0) == -1)
		if (errno != EINTR)
			return 127;
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

/* fetch_cache_download_fn: url into path (created, must not exist) through libcurl. 0, or
 * -EIO with the reason said by fail(). */
static int download(const char *url, const char *path, void *ctx)
{
	(void)ctx;
	FILE *out = fopen(path, "wxe");
	if (!out)
		return fail("cannot create '%s': %s", path, strerror(errno)), -EIO;
	CURL *c = curl_easy_init();
	if (!c) {
		fclose(out);
		unlink(path);
		return fail("cannot start libcurl"), -EIO;
	}
	char cerr[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)BERTH_FETCH_MAX_BYTES);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	CURLcode rc = curl_easy_perform(c);
	curl_easy_cleanup(c);
	if (fclose(out) != 0 && rc == CURLE_OK) {
		unlink(path);
		return fail("cannot write '%s': %s", path, strerror(errno)), -EIO;
	}
	if (rc != CURLE_OK) {
		unlink(path);
		return fail("%s", cerr[0] ? cerr : curl_easy_strerror(rc)), -EIO;
	}
	return 0;
}

int main(int argc, char **argv)
{
	bool extract = false, executable = false;
	const char *output = NULL, *cache = NULL;
	unsigned long long cache_max = 0;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--extract"))
			extract = true;
		else if (!strcmp(argv[i], "--executable"))
			executable = true;
		else if (!strcmp(argv[i], "--output") && i + 1 < argc)
			output = argv[++i];
		else if (!strcmp(argv[i], "--error-file") && i + 1 < argc)
			error_file = argv[++i];
		else if (!strcmp(argv[i], "--cache") && i + 1 < argc)
			cache = argv[++i];
		else if (!strcmp(argv[i], "--cache-max") && i + 1 < argc)
			cache_max = strtoull(argv[++i], NULL, 10);
		else
			break;
	}
	if (argc - i != 2) {
		fprintf(stderr, "usage: berth-fetcher [--extract] [--executable] [--output NAME] "
				"--error-file FILE URI SANDBOX\n");
		return 2;
	}
	const char *uri = argv[i], *sandbox = argv[i + 1];
	char url[PATH_MAX + 16];
	if (uri[0] == '/')
		snprintf(url, sizeof(url), "file://%s", uri);
	else if (!strncmp(uri, "http://", 7) || !strncmp(uri, "https://", 8) ||
		 !strncmp(uri, "file://", 7))
		snprintf(url, sizeof(url), "%s", uri);
	else
		return fail("unsupported URI scheme (want http, https, file or an absolute path)");

	/* The file's name: --output, else the URI path's last segment (no query). */
	char name[256];
	if (output) {
		snprintf(name, sizeof(name), "%s", output);
	} else {
		const char *path = strstr(url, "://") + 3;
		if (strncmp(url, "file://", 7)) {
			path = strchr(path, '/');
			path = path ? path : "/";
		}
		size_t plen = strcspn(path, "?#");
		while (plen > 0 && path[plen - 1] == '/')
			plen--;
		const char *seg = path + plen;
		while (seg > path && seg[-1] != '/')
			seg--;
		size_t n = (size_t)(path + plen - seg);
		if (n == 0 || n >= sizeof(name))
			return fail("cannot tell a file name from the URI");
		memcpy(name, seg, n);
		name[n] = '\0';
	}
	if (!*name || strstr(name, "..") || strchr(name, '/') || name[0] == '.')
		return fail("bad output file name '%s'", name);
	char dest[PATH_MAX];
	if ((size_t)snprintf(dest, sizeof(dest), "%s/%s", sandbox, name) >= sizeof(dest))
		return fail("output path too long");

	int hit = 0, r;
	if (cache && cache_max)
		r = fetch_cache_get(cache, cache_max, url, dest, download, NULL, &hit);
	else
		r = download(url, dest, NULL);
	if (r < 0)
		return failed ? 1 : fail("cannot copy '%s' from the fetcher cache: %s", uri,
					 strerror(-r));
	if (hit)
		fprintf(stderr, "berth-fetcher: '%s' copied from the agent's fetcher cache\n", uri);
	if (executable && chmod(dest, 0755) == -1)
		return fail("cannot make '%s' executable: %s", dest, strerror(errno));
	if (extract) {
		static const char *const tars[] = { ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2",
						    ".tar.xz", ".txz" };
		bool is_tar = false;
		for (size_t k = 0; k < sizeof(tars) / sizeof(tars[0]); k++)
			is_tar |= ends(name, tars[k]);
		int st = 0;
		if (is_tar) {
			char *const av[] = { "tar", "-xf", dest, "-C", (char *)sandbox, NULL };
			st = run(av);
		} else if (ends(name, ".zip")) {
			char *const av[] = { "unzip", "-q", "-o", dest, "-d", (char *)sandbox, NULL };
			st = run(av);
		}
		if (st)
			return fail("cannot extract '%s' (%s exited with status %d)", name,
				    is_tar ? "tar" : "unzip", st);
	}
	return 0;
}
