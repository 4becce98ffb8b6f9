/* Group paths and the order of a group's plan (api-groups.c): pure functions, no state. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* Is id strictly inside group gid ("/a/b/c" in "/a", everything but "/" in "/")? */
bool group_under(const char *id, const char *gid);
/* The group of id into out (n bytes): "/a/b" of "/a/b/c", "/" of "/c". */
void group_parent(const char *id, char *out, size_t n);
/* The child of gid on the way to id (id under gid) into out: "/a/b" for "/a", "/a/b/c/d". */
void group_child(const char *gid, const char *id, char *out, size_t n);
/* Each of n items' step (0-based) in layer[n], after every item it depends on: edge i says
 * item from[i] depends on item to[i] (nedges of them; self edges are ignored). O(n + edges)
 * (Kahn's order). 0, or -ELOOP for a cycle (layer then meaningless); -ENOMEM never (xcalloc). */
int group_layers(size_t n, const size_t *from, const size_t *to, size_t nedges, int *layer);
