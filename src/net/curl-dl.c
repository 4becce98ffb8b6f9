/* libcurl loaded on first use (curl-dl.h says why). */
#include "net/curl-dl.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* The soname of libcurl 7 and 8 (Debian's libcurl4). */
#define CURL_SONAME "libcurl.so.4"

const struct curl_fns *curl_dl;

static struct curl_fns fns;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static char why[256];

/* One symbol into *slot; false (why set) when the library lacks it. */
static bool sym(void *lib, const char *name, void *slot)
{
	void *p = dlsym(lib, name);
	if (!p) {
		snprintf(why, sizeof(why), "%s has no '%s'", CURL_SONAME, name);
		return false;
	}
	memcpy(slot, &p, sizeof(p)); /* a data pointer into a function pointer (POSIX) */
	return true;
}

static void load(void)
{
	void *lib = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(why, sizeof(why), "cannot load %s: %s", CURL_SONAME, dlerror());
		return;
	}
	bool ok = sym(lib, "curl_global_init", &fns.global_init) &&
		  sym(lib, "curl_easy_init", &fns.easy_init) &&
		  sym(lib, "curl_easy_setopt", &fns.easy_setopt) &&
		  sym(lib, "curl_easy_getinfo", &fns.easy_getinfo) &&
		  sym(lib, "curl_easy_cleanup", &fns.easy_cleanup) &&
		  sym(lib, "curl_easy_strerror", &fns.easy_strerror) &&
		  sym(lib, "curl_multi_init", &fns.multi_init) &&
		  sym(lib, "curl_multi_setopt", &fns.multi_setopt) &&
		  sym(lib, "curl_multi_add_handle", &fns.multi_add_handle) &&
		  sym(lib, "curl_multi_remove_handle", &fns.multi_remove_handle) &&
		  sym(lib, "curl_multi_assign", &fns.multi_assign) &&
		  sym(lib, "curl_multi_socket_action", &fns.multi_socket_action) &&
		  sym(lib, "curl_multi_perform", &fns.multi_perform) &&
		  sym(lib, "curl_multi_poll", &fns.multi_poll) &&
		  sym(lib, "curl_multi_info_read", &fns.multi_info_read) &&
		  sym(lib, "curl_multi_cleanup", &fns.multi_cleanup) &&
		  sym(lib, "curl_multi_strerror", &fns.multi_strerror) &&
		  sym(lib, "curl_slist_append", &fns.slist_append) &&
		  sym(lib, "curl_slist_free_all", &fns.slist_free_all);
	if (!ok) {
		dlclose(lib);
		return;
	}
	curl_dl = &fns;
}

int curl_dl_load(char *err, size_t errlen)
{
	pthread_once(&once, load);
	if (curl_dl)
		return 0;
	if (err && errlen)
		snprintf(err, errlen, "%s", why);
	return -ENOSYS;
}
