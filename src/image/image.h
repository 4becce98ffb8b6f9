/* berth-image: the agent's image store and OCI bundles for container tasks (docs/isolation.md,
 * "Images"). A program of its own (like berth-fetcher): the shim runs it once per container
 * task, the CLI's `berth image` runs it for import/list/pull; it links jansson, libcurl and
 * libcrypto, which the shim never maps.
 *
 * The store (one per agent; <work-dir>/images unless --image-store) is content-addressed:
 *   blobs/sha256/<hex>   manifests' configs and layer blobs, verified against their digest
 *   layers/<hex>/        a layer blob unpacked (keyed by the blob's digest), whiteouts turned
 *                        into overlayfs's (a 0:0 character device, the "opaque" xattr); made
 *                        in a temp dir and renamed into place, so a layer is unpacked once
 *                        and never seen half-made, whatever number of tasks race for it
 *   images/<hex>         one image, keyed by its config's digest: {"config": {...},
 *                        "layers": ["sha256:…", …]} (bottom layer first)
 *   refs/<name>          the image a reference names ("sha256:<hex>\n"); '/' in the
 *                        normalised reference is '+' in the file name
 *   imported/            markers of the image directory's files already imported
 *                        (name-size-mtime); imported/.lock serialises the importers
 *   inuse/<task>         which image a container task's bundle uses (image-gc.c)
 *   gc.lock, gc.max      the collector's lock and the agent's bound (image-gc.c)
 * Every piece is made under tmp/ and renamed into place: a piece that exists is complete,
 * and nobody locks to read.
 *
 * References are normalised as Docker does: "busybox" is "docker.io/library/busybox:latest";
 * a first component with a '.' or ':' (or "localhost") names the registry. */
#pragma once
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define IMAGE_MAX_LAYERS 128
#define IMAGE_MAX_JSON (4u << 20)  /* a manifest, index or config */
#define IMAGE_REF_MAX 512

/* A parsed reference. */
struct image_ref {
	char registry[256]; /* "docker.io", "127.0.0.1:5000" */
	char repo[256];     /* "library/busybox" */
	char tag[128];      /* "latest" when neither tag nor digest */
	char digest[80];    /* "sha256:<hex>" or "" */
	char full[IMAGE_REF_MAX]; /* registry/repo:tag or registry/repo@digest */
};

/* Parses and normalises s. 0 or -EINVAL (empty, too long, a character outside Docker's
 * grammar, a bad digest). */
int image_ref_parse(const char *s, struct image_ref *out);

/* What the runtime takes from an image's config (the "config" object of the OCI/Docker
 * image configuration). Strings are malloc'd, arrays NULL-terminated. */
struct image_config {
	char **entrypoint, **cmd, **env;
	char *workdir, *user;
};

/* Parses an image configuration document (untrusted bytes). 0, -EINVAL (not JSON, a field
 * of the wrong type, too many entries), -E2BIG (over IMAGE_MAX_JSON). */
int image_config_parse(const char *buf, size_t len, struct image_config *out);
void image_config_release(struct image_config *c);

/* A parsed manifest: the config's digest and the layers' digests and media types. */
struct image_manifest {
	char config[80];
	size_t nlayers;
	char layers[IMAGE_MAX_LAYERS][80];
	int gzip[IMAGE_MAX_LAYERS]; /* 1: the blob is gzip'd, 0: a plain tar */
};

/* The kinds of document a registry or a layout may answer with. */
enum image_doc { IMAGE_DOC_MANIFEST, IMAGE_DOC_INDEX };

/* Parses an OCI image manifest or a Docker v2 schema 2 manifest, or an index / manifest
 * list (*kind says which; for an index, out->config holds the digest of the manifest for
 * linux/<arch>, or the first manifest without a platform). 0, -EINVAL (malformed, a digest
 * that is not sha256:<64 hex>, a layer media type other than tar / tar+gzip), -E2BIG (too
 * many layers or bytes), -ENOENT (an index with no manifest for this platform). */
int image_manifest_parse(const char *buf, size_t len, const char *arch, enum image_doc *kind,
			 struct image_manifest *out);

/* A `docker save` manifest.json: the first image's config path, layer paths and first
 * RepoTag. Paths are relative to the archive's root, checked to stay in it ("..", absolute
 * refused). 0, -EINVAL, -E2BIG. */
struct image_save_manifest {
	char config[256];
	char tag[IMAGE_REF_MAX];
	size_t nlayers;
	char layers[IMAGE_MAX_LAYERS][256];
};
int image_save_manifest_parse(const char *buf, size_t len, struct image_save_manifest *out);

/* Whether s is "sha256:" and 64 lowercase hex digits. */
int image_digest_valid(const char *s);

/* The store (image-store.c). */
struct image_store {
	char root[1024];
};
/* Opens (creates) the store at root. 0 or -errno. */
int image_store_open(struct image_store *st, const char *root);
/* Reads a file of at most max bytes (malloc'd, NUL-terminated). 0, -errno, -E2BIG. */
int image_read_file(const char *path, size_t max, char **out, size_t *len);
/* sha256 of a file → "sha256:<hex>". 0 or -errno. */
int image_sha256_file(const char *path, char out[80]);
/* Copies src into blobs/ under its digest (computed; when want is non-NULL it must match:
 * -EBADMSG otherwise). Writes the digest to out (may be NULL). 0 or -errno. */
int image_blob_put(struct image_store *st, const char *src, const char *want, char out[80]);
/* Path of a blob. */
void image_blob_path(const struct image_store *st, const char *digest, char *buf, size_t size);
/* Unpacks blob digest into layers/<hex> unless it is there. 0 or -errno with msg. */
int image_layer_unpack(struct image_store *st, const char *digest, char *msg, size_t msglen);
/* Records an image: config blob digest, layer blob digests; names ref (normalised) to it.
 * Unpacks the layers. 0 or -errno with msg. */
int image_store_add(struct image_store *st, const char *ref, const char *config_digest,
		    char layers[][80], size_t nlayers, char *msg, size_t msglen);
/* Looks ref up: the image's record (a new reference). 0, -ENOENT, -errno. */
int image_store_lookup(struct image_store *st, const char *ref, json_t **image);
/* Lists refs: an array of {"name", "id"}. */
json_t *image_store_list(struct image_store *st);

/* image-import.c: imports a `docker save` tarball, an OCI image layout (a directory or a
 * tar of one). name (optional) names the image (else the archive's RepoTag / ref.name).
 * Prints each imported name. 0 or -errno with msg. */
int image_import(struct image_store *st, const char *path, const char *name, char *msg,
		 size_t msglen);
/* Imports every file or layout directory under dir not imported before (remembered by
 * name, size and mtime). 0 or -errno with msg (the first failure; the rest are tried). */
int image_import_dir(struct image_store *st, const char *dir, char *msg, size_t msglen);

/* image-auth.c: the credentials ("user:password") for registry (host[:port] as in a
 * reference; docker.io also matches index.docker.io and registry-1.docker.io) in the docker
 * config.json file's "auths". 0, -ENOENT (none for it), -EINVAL (a bad file or entry: msg
 * says which; the secret is never in it). */
int image_auth_lookup(const char *file, const char *registry, char *userpass, size_t size,
		      char *msg, size_t msglen);

/* image-pull.c: pulls ref from its registry (the registry v2 API; a Bearer token fetched
 * from the realm a 401 names, with Basic credentials when auth_file has some for the
 * registry; or Basic on every request when the 401 asks for Basic; HTTPS, or HTTP for a
 * loopback registry or with default_registry "http://…" naming it). default_registry
 * (optional) replaces docker.io; auth_file (optional) is a docker config.json. 0 or -errno
 * with msg (-EACCES: the registry wants credentials it was not given, or refused them). */
int image_pull(struct image_store *st, const struct image_ref *ref, const char *default_registry,
	       const char *auth_file, char *msg, size_t msglen);

/* image-gc.c: garbage collection (its invariants open that file). */
/* The store's lock: shared (adding to the store, starting to use an image) or exclusive
 * (collecting). An fd to close with image_gc_unlock, or -errno. */
int image_gc_lock(const struct image_store *st, int exclusive);
void image_gc_unlock(int fd);
/* Records that the task whose meta directory is meta uses image id (and touches the image
 * as used now). Call with the lock held shared, before the image's layers are used. 0 or
 * -errno. */
int image_use_record(struct image_store *st, const char *meta, const char *id);
/* Bytes the store takes on disk (blobs, layers, image records). */
uint64_t image_store_size(const struct image_store *st);
struct image_gc_result {
	size_t images, layers, blobs, kept_in_use;
	uint64_t before, after; /* the store's size */
};
/* Removes images no task uses, with their refs, and the layers and blobs no remaining image
 * names: all of them (max_bytes 0), or least recently used first until the store takes at
 * most max_bytes. Takes the lock exclusive. 0 or -errno with msg. */
int image_gc(struct image_store *st, uint64_t max_bytes, struct image_gc_result *res,
	     char *msg, size_t msglen);
/* The bound the agent set for this store (<store>/gc.max, bytes). 0, -ENOENT (none), -errno,
 * -EINVAL. */
int image_gc_bound(const struct image_store *st, uint64_t *max_bytes);

/* image-bundle.c: the OCI bundle of the container task whose meta directory is meta: finds
 * (imports, pulls) the image, mounts the rootfs at <meta>/bundle/rootfs (overlayfs over the
 * layers, else — or with $BERTH_IMAGE_ROOTFS=copy — a copy) and writes <meta>/bundle/config.json. netns (optional): the network
 * namespace to join. secret_exec: berth-secret-exec on the host, for a spec with secrets
 * (bind-mounted read-only at EXEC_SECRET_EXEC_PATH and put before the process's args; the
 * values themselves never come here). pull_auth (optional): the docker config.json for this
 * task's pull, over the spec's "img.auth" (the shim gives a pullConfig secret as
 * /proc/self/fd/N). 0 or -errno with msg. */
int image_bundle(const char *meta, const char *netns, const char *secret_exec,
		 const char *pull_auth, char *msg, size_t msglen);
/* Undoes image_bundle: unmounts the rootfs, removes the bundle. */
void image_bundle_remove(const char *meta);
