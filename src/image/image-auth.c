/* Registry credentials from a docker-style config.json (image.h): its "auths" object, keyed
 * by registry ("127.0.0.1:5000", "https://registry.example.com", "https://index.docker.io/v1/"),
 * each with "auth" (base64 of "user:password") or "username" and "password". */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "image/image.h"

/* The host[:port] of a config key: scheme and path dropped. */
static void key_host(const char *key, char *out, size_t size)
{
	const char *p = strstr(key, "://");
	p = p ? p + 3 : key;
	size_t n = strcspn(p, "/");
	snprintf(out, size, "%.*s", (int)n, p);
}

static int is_docker_hub(const char *host)
{
	return !strcmp(host, "docker.io") || !strcmp(host, "index.docker.io") ||
	       !strcmp(host, "registry-1.docker.io");
}

/* base64 "user:password" → out. 0 or -EINVAL. */
static int decode_auth(const char *b64, char *out, size_t size)
{
	size_t n = strlen(b64);
	if (n == 0 || n % 4 || n / 4 * 3 >= size)
		return -EINVAL;
	int k = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)b64, (int)n);
	if (k < 0)
		return -EINVAL;
	if (n >= 1 && b64[n - 1] == '=')
		k--;
	if (n >= 2 && b64[n - 2] == '=')
		k--;
	out[k] = '\0';
	if ((size_t)k != strlen(out) || !strchr(out, ':'))
		return -EINVAL;
	return 0;
}

int image_auth_lookup(const char *file, const char *registry, char *userpass, size_t size,
		      char *msg, size_t msglen)
{
	userpass[0] = '\0';
	json_error_t je;
	json_t *cfg = json_load_file(file, JSON_REJECT_DUPLICATES, &je);
	if (!cfg) {
		snprintf(msg, msglen, "registry credentials '%s': %s (line %d)", file, je.text,
			 je.line);
		return -EINVAL;
	}
	json_t *auths = json_object_get(cfg, "auths");
	const char *key;
	json_t *v;
	int r = -ENOENT;
	json_object_foreach(auths, key, v) {
		char host[300];
		key_host(key, host, sizeof(host));
		if (strcmp(host, registry) && !(is_docker_hub(host) && is_docker_hub(registry)))
			continue;
		const char *a = json_string_value(json_object_get(v, "auth"));
		const char *u = json_string_value(json_object_get(v, "username"));
		const char *pw = json_string_value(json_object_get(v, "password"));
		if (a && *a)
			r = decode_auth(a, userpass, size);
		else if (u && pw && strlen(u) + strlen(pw) + 2 <= size && !strchr(u, ':')) {
			snprintf(userpass, size, "%s:%s", u, pw);
			r = 0;
		} else
			r = -EINVAL;
		if (r < 0)
			snprintf(msg, msglen, "registry credentials '%s': the entry for '%s' has "
				 "neither a valid \"auth\" (base64 of user:password) nor \"username\" "
				 "and \"password\"", file, key);
		break;
	}
	json_decref(cfg);
	return r;
}
