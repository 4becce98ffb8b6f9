/* berth-image: the image store's command line (image.h). The CLI's `berth image …` runs it;
 * the shim runs `berth-image bundle META` and `berth-image unbundle META` per container task.
 *
 *   berth-image import [--store DIR] [--name NAME] FILE|DIR
 *   berth-image pull   [--store DIR] [--registry URL] [--docker-config FILE] REF
 *   berth-image list   [--store DIR]
 *   berth-image gc     [--store DIR] [--max-size BYTES]
 *   berth-image bundle META [--netns PATH] [--secret-exec PATH] [--pull-config FILE]   (a failure's message also in META/image_error)
 *   berth-image unbundle META
 * --store defaults to $BERTH_IMAGE_STORE, else /var/lib/berth/images. */
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/fsutil.h"
#include "image/image-int.h"
#include "image/image.h"

static void usage(FILE *f)
{
	fputs("usage: berth image import [--store DIR] [--name NAME] FILE|DIR\n"
	      "       berth image pull [--store DIR] [--registry URL] [--docker-config FILE] REF\n"
	      "       berth image list [--store DIR]\n"
	      "       berth image gc [--store DIR] [--max-size SIZE]\n"
	      "gc removes the images no running task uses (all of them, or least recently\n"
	      "used first until the store takes at most SIZE: bytes, or with KB, MB, GB).\n"
	      "The store is an agent's image store: <work-dir>/images, or its --image-store\n"
	      "(default here: $BERTH_IMAGE_STORE, else /var/lib/berth/images).\n",
	      f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1], *store = getenv("BERTH_IMAGE_STORE"), *name = NULL,
		   *registry = NULL, *netns = NULL, *arg = NULL, *max = NULL,
		   *secret_exec = NULL, *pull_auth = NULL,
		   *auth = getenv("BERTH_DOCKER_CONFIG");
	if (!store || !*store)
		store = "/var/lib/berth/images";
	for (int i = 2; i < argc; i++) {
		const char **dst = !strcmp(argv[i], "--store")	  ? &store
				   : !strcmp(argv[i], "--name")	  ? &name
				   : !strcmp(argv[i], "--registry") ? &registry
				   : !strcmp(argv[i], "--netns")	  ? &netns
				   : !strcmp(argv[i], "--secret-exec") ? &secret_exec
				   : !strcmp(argv[i], "--pull-config") ? &pull_auth
				   : !strcmp(argv[i], "--max-size")	  ? &max
				   : !strcmp(argv[i], "--docker-config") ? &auth
								  : NULL;
		if (dst && i + 1 < argc) {
			*dst = argv[++i];
		} else if (!dst && argv[i][0] != '-' && !arg) {
			arg = argv[i];
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "berth image: unexpected argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	char msg[1024] = "";
	int r;
	if (!strcmp(cmd, "bundle") || !strcmp(cmd, "unbundle")) {
		if (!arg || arg[0] != '/') {
			fprintf(stderr, "berth-image %s: want the task's meta directory (absolute)\n",
				cmd);
			return 2;
		}
		if (cmd[0] == 'u') {
			image_bundle_remove(arg);
			return 0;
		}
		curl_global_init(CURL_GLOBAL_DEFAULT);
		r = image_bundle(arg, netns, secret_exec, pull_auth, msg, sizeof(msg));
		if (r < 0) {
			char path[PATH_MAX];
			snprintf(path, sizeof(path), "%s/image_error", arg);
			FILE *f = fopen(path, "we");
			if (f) {
				fprintf(f, "%s\n", msg);
				fclose(f);
			}
			fprintf(stderr, "berth-image: %s\n", msg);
			return 1;
		}
		return 0;
	}
	struct image_store st;
	if (store[0] != '/') {
		fprintf(stderr, "berth image: --store '%s': want an absolute path\n", store);
		return 2;
	}
	r = image_store_open(&st, store);
	if (r < 0) {
		fprintf(stderr, "berth image: store '%s': %s\n", store, strerror(-r));
		return 1;
	}
	if (!strcmp(cmd, "list")) {
		json_t *l = image_store_list(&st);
		size_t i;
		json_t *e;
		json_array_foreach(l, i, e)
			printf("%s\t%.19s\n", json_string_value(json_object_get(e, "name")),
			       json_string_value(json_object_get(e, "id")));
		json_decref(l);
		return 0;
	}
	if (!strcmp(cmd, "gc")) {
		uint64_t bound = 0;
		if (max && parse_bytes(max, &bound) < 0) {
			fprintf(stderr, "berth image gc: --max-size '%s': want bytes (a number, or "
				"with KB, MB, GB)\n", max);
			return 2;
		}
		struct image_gc_result res;
		r = image_gc(&st, bound, &res, msg, sizeof(msg));
		if (r < 0) {
			fprintf(stderr, "berth image gc: %s\n", msg);
			return 1;
		}
		printf("removed %zu image(s), %zu layer(s), %zu blob(s); kept %zu in use; "
		       "%llu -> %llu bytes\n", res.images, res.layers, res.blobs, res.kept_in_use,
		       (unsigned long long)res.before, (unsigned long long)res.after);
		return 0;
	}
	if (!arg) {
		usage(stderr);
		return 2;
	}
	int lock = image_gc_lock(&st, 0); /* the collector waits for what is being added */
	if (lock < 0) {
		fprintf(stderr, "berth image: store '%s': cannot lock: %s\n", store,
			strerror(-lock));
		return 1;
	}
	if (!strcmp(cmd, "import")) {
		r = image_import(&st, arg, name, msg, sizeof(msg));
	} else if (!strcmp(cmd, "pull")) {
		struct image_ref ref;
		if (image_ref_parse(arg, &ref) < 0) {
			fprintf(stderr, "berth image: '%s' is not a valid image reference\n", arg);
			return 2;
		}
		curl_global_init(CURL_GLOBAL_DEFAULT);
		r = image_pull(&st, &ref, registry, auth, msg, sizeof(msg));
		if (r == 0)
			printf("%s\n", ref.full);
	} else {
		image_gc_unlock(lock);
		usage(stderr);
		return 2;
	}
	image_gc_unlock(lock);
	if (r < 0) {
		fprintf(stderr, "berth image %s: %s\n", cmd, msg);
		return 1;
	}
	return 0;
}
