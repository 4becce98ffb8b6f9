/* libcurl, loaded on first use (dlopen) instead of linked: linked, libcurl brings about 30
 * shared libraries (OpenSSL, GnuTLS, Kerberos, LDAP, …) into every berth process, about
 * 6 MiB of resident memory each, agents and masters included, which make no HTTP client call
 * at all unless a volume plugin or the CLI needs one. Internal to the httpc files: include it
 * instead of <curl/curl.h>; the curl_* calls below go through the loaded library's table.
 *
 * curl_dl_load: 0 once the library and every function are there, else -ENOSYS with the
 * reason in err (libcurl.so.4 not installed). Thread-safe; the library stays loaded. */
#pragma once
#define CURL_DISABLE_TYPECHECK /* the calls are macros over function pointers */
#include <curl/curl.h>
#include <stddef.h>

struct curl_fns {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *h);
	const char *(*easy_strerror)(CURLcode c);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_setopt)(CURLM *m, CURLMoption opt, ...);
	CURLMcode (*multi_add_handle)(CURLM *m, CURL *h);
	CURLMcode (*multi_remove_handle)(CURLM *m, CURL *h);
	CURLMcode (*multi_assign)(CURLM *m, curl_socket_t s, void *p);
	CURLMcode (*multi_socket_action)(CURLM *m, curl_socket_t s, int ev, int *running);
	CURLMcode (*multi_perform)(CURLM *m, int *running);
	CURLMcode (*multi_poll)(CURLM *m, struct curl_waitfd *extra, unsigned n, int ms,
				int *numfds);
	CURLMsg *(*multi_info_read)(CURLM *m, int *left);
	CURLMcode (*multi_cleanup)(CURLM *m);
	const char *(*multi_strerror)(CURLMcode c);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
};

/* The loaded table; valid once curl_dl_load returned 0. */
extern const struct curl_fns *curl_dl;

int curl_dl_load(char *err, size_t errlen);

/* curl.h defines some of these names as macros of its own. */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_multi_setopt
#define curl_global_init(...) (curl_dl->global_init(__VA_ARGS__))
#define curl_easy_init() (curl_dl->easy_init())
#define curl_easy_setopt(...) (curl_dl->easy_setopt(__VA_ARGS__))
#define curl_easy_getinfo(...) (curl_dl->easy_getinfo(__VA_ARGS__))
#define curl_easy_cleanup(...) (curl_dl->easy_cleanup(__VA_ARGS__))
#define curl_easy_strerror(...) (curl_dl->easy_strerror(__VA_ARGS__))
#define curl_multi_init() (curl_dl->multi_init())
#define curl_multi_setopt(...) (curl_dl->multi_setopt(__VA_ARGS__))
#define curl_multi_add_handle(...) (curl_dl->multi_add_handle(__VA_ARGS__))
#define curl_multi_remove_handle(...) (curl_dl->multi_remove_handle(__VA_ARGS__))
#define curl_multi_assign(...) (curl_dl->multi_assign(__VA_ARGS__))
#define curl_multi_socket_action(...) (curl_dl->multi_socket_action(__VA_ARGS__))
#define curl_multi_perform(...) (curl_dl->multi_perform(__VA_ARGS__))
#define curl_multi_poll(...) (curl_dl->multi_poll(__VA_ARGS__))
#define curl_multi_info_read(...) (curl_dl->multi_info_read(__VA_ARGS__))
#define curl_multi_cleanup(...) (curl_dl->multi_cleanup(__VA_ARGS__))
#define curl_multi_strerror(...) (curl_dl->multi_strerror(__VA_ARGS__))
#define curl_slist_append(...) (curl_dl->slist_append(__VA_ARGS__))
#define curl_slist_free_all(...) (curl_dl->slist_free_all(__VA_ARGS__))
