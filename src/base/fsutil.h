/* File-system helpers. Plain libc, no allocation: the executor shim links this file alone
 * (DESIGN.md §9: the shim depends on libc only). */
#pragma once
#include <stdint.h>
#include <sys/types.h>

/* mkdir -p: creates path and every missing directory above it, each with mode (masked by
 * the umask, as mkdir(2) does); directories that exist already are left as they are.
 * Relative paths, repeated and trailing slashes are accepted. Returns 0 when path is a
 * directory afterwards (or a symbolic link to one); -EINVAL for NULL or "", -ENAMETOOLONG
 * at PATH_MAX bytes or more, -ENOTDIR when path or a component above it exists and is not a
 * directory, or mkdir(2)'s -errno (-EACCES, -EROFS, ...). */
int fs_mkdir_p(const char *path, mode_t mode);

/* fs_mkdir_p of the directory that holds path's last component ("a/b/c" -> "a/b"), for a
 * file about to be created. Nothing to do, and 0, when path has no directory part ("c",
 * "/c"). Trailing slashes are not a component ("a/b/" -> "a"). Errors as fs_mkdir_p. */
int fs_mkdir_parent(const char *path, mode_t mode);

/* A size: "2GB", "512MB", "64KB" (or G, M, K; powers of 1,024), "1048576" or "1048576B"
 * -> bytes. 0, or -EINVAL for junk, a sign or an overflow. */
int parse_bytes(const char *s, uint64_t *out);
