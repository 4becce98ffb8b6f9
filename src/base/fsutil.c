/* File-system helpers; see fsutil.h. Keep this file free of other base modules: the
 * executor shim links it (and only it) from base. */
#include "base/fsutil.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* mkdir of dir unless it is a directory already. */
static int mkdir_one(const char *dir, mode_t mode)
{
	if (mkdir(dir, mode) == 0)
		return 0;
	int e = errno;
	if (e != EEXIST)
		return -e;
	struct stat st;
	if (stat(dir, &st) == -1)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* tmp holds a copy of the path, without trailing slashes; creates each prefix in turn. */
static int mkdir_all(char *tmp, mode_t mode)
{
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/' || p[-1] == '/')
			continue;
		*p = '\0';
		int r = mkdir_one(tmp, mode);
		*p = '/';
		if (r < 0)
			return r;
	}
	return mkdir_one(tmp, mode);
}

/* Copies path into tmp[PATH_MAX] and drops its trailing slashes ("/" stays "/"). */
static int copy_path(const char *path, char tmp[PATH_MAX], size_t *len)
{
	if (!path || !*path)
		return -EINVAL;
	size_t n = strnlen(path, PATH_MAX);
	if (n >= PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(tmp, path, n + 1);
	while (n > 1 && tmp[n - 1] == '/')
		tmp[--n] = '\0';
	*len = n;
	return 0;
}

int fs_mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	size_t n;
	int r = copy_path(path, tmp, &n);
	return r < 0 ? r : mkdir_all(tmp, mode);
}

int fs_mkdir_parent(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	size_t n;
	int r = copy_path(path, tmp, &n);
	if (r < 0)
		return r;
	char *slash = strrchr(tmp, '/');
	if (!slash)
		return 0;
	while (slash > tmp && slash[-1] == '/') /* "a//b" -> "a" */
		slash--;
	if (slash == tmp)
		return 0;
	*slash = '\0';
	return mkdir_all(tmp, mode);
}

int parse_bytes(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s || errno || *s == '-')
		return -EINVAL;
	uint64_t mul = 1;
	if (!strcasecmp(end, "KB") || !strcasecmp(end, "K"))
		mul = 1ull << 10;
	else if (!strcasecmp(end, "MB") || !strcasecmp(end, "M"))
		mul = 1ull << 20;
	else if (!strcasecmp(end, "GB") || !strcasecmp(end, "G"))
		mul = 1ull << 30;
	else if (*end && strcasecmp(end, "B"))
		return -EINVAL;
	if (v > UINT64_MAX / mul)
		return -EINVAL;
	*out = (uint64_t)v * mul;
	return 0;
}
