/* Records in memory: see dns-zone.h. */
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "dns/dns-zone.h"

/* What one owner added: (name, type, value) triples, to undo. */
struct dz_entry {
	char *name;
	bool srv;
	uint32_t ip;
	char *target;
	uint16_t port;
};

struct dz_owner {
	struct dz_entry *v;
	size_t n, cap;
};

void dns_zone_init(struct dns_zone *z)
{
	hmap_init(&z->names);
	hmap_init(&z->owners);
	z->nrecords = 0;
}

static void name_free(struct dz_name *n)
{
	for (size_t i = 0; i < n->nsrv; i++)
		free(n->srv[i].target);
	free(n->srv);
	free(n->a);
	free(n);
}

static void owner_free(struct dz_owner *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free(o->v[i].name);
		free(o->v[i].target);
	}
	free(o->v);
	free(o);
}

void dns_zone_release(struct dns_zone *z)
{
	const char *k;
	void *v;
	for (size_t i = 0; hmap_next(&z->names, &i, &k, &v);)
		name_free(v);
	for (size_t i = 0; hmap_next(&z->owners, &i, &k, &v);)
		owner_free(v);
	hmap_release(&z->names);
	hmap_release(&z->owners);
	z->nrecords = 0;
}

static struct dz_owner *owner_get(struct dns_zone *z, const char *owner)
{
	struct dz_owner *o = hmap_get(&z->owners, owner);
	if (!o) {
		o = xcalloc(1, sizeof(*o));
		hmap_put(&z->owners, owner, o);
	}
	return o;
}

static bool owner_has(const struct dz_owner *o, const char *name, bool srv, uint32_t ip,
		      const char *target, uint16_t port)
{
	for (size_t i = 0; i < o->n; i++) {
		const struct dz_entry *e = &o->v[i];
		if (e->srv == srv && !strcmp(e->name, name) &&
		    (srv ? e->port == port && !strcmp(e->target, target) : e->ip == ip))
			return true;
	}
	return false;
}

static struct dz_name *name_get(struct dns_zone *z, const char *name)
{
	struct dz_name *n = hmap_get(&z->names, name);
	if (!n) {
		n = xcalloc(1, sizeof(*n));
		hmap_put(&z->names, name, n);
	}
	return n;
}

static void owner_push(struct dz_owner *o, struct dz_entry e)
{
	if (o->n == o->cap) {
		o->cap = o->cap ? 2 * o->cap : 8;
		o->v = xrealloc(o->v, o->cap * sizeof(*o->v));
	}
	o->v[o->n++] = e;
}

void dns_zone_add_a(struct dns_zone *z, const char *owner, const char *name, uint32_t ip)
{
	if (!name[0] || !ip)
		return; /* a name too long to serve, or no address */
	struct dz_owner *o = owner_get(z, owner);
	if (owner_has(o, name, false, ip, NULL, 0))
		return;
	owner_push(o, (struct dz_entry){ .name = xstrdup(name), .ip = ip });
	struct dz_name *n = name_get(z, name);
	for (size_t i = 0; i < n->na; i++)
		if (n->a[i].ip == ip) {
			n->a[i].refs++;
			return;
		}
	if (n->na == n->capa) {
		n->capa = n->capa ? 2 * n->capa : 2;
		n->a = xrealloc(n->a, n->capa * sizeof(*n->a));
	}
	n->a[n->na++] = (struct dz_a){ ip, 1 };
	z->nrecords++;
}

void dns_zone_add_srv(struct dns_zone *z, const char *owner, const char *name,
		      const char *target, uint16_t port)
{
	if (!name[0] || !target[0])
		return;
	struct dz_owner *o = owner_get(z, owner);
	if (owner_has(o, name, true, 0, target, port))
		return;
	owner_push(o, (struct dz_entry){ .name = xstrdup(name), .srv = true,
					 .target = xstrdup(target), .port = port });
	struct dz_name *n = name_get(z, name);
	for (size_t i = 0; i < n->nsrv; i++)
		if (n->srv[i].port == port && !strcmp(n->srv[i].target, target)) {
			n->srv[i].refs++;
			return;
		}
	if (n->nsrv == n->capsrv) {
		n->capsrv = n->capsrv ? 2 * n->capsrv : 2;
		n->srv = xrealloc(n->srv, n->capsrv * sizeof(*n->srv));
	}
	n->srv[n->nsrv++] = (struct dz_srv){ xstrdup(target), port, 1 };
	z->nrecords++;
}

static void undo(struct dns_zone *z, const struct dz_entry *e)
{
	struct dz_name *n = hmap_get(&z->names, e->name);
	if (!n)
		return;
	if (e->srv) {
		for (size_t i = 0; i < n->nsrv; i++)
			if (n->srv[i].port == e->port && !strcmp(n->srv[i].target, e->target)) {
				if (--n->srv[i].refs == 0) {
					free(n->srv[i].target);
					n->srv[i] = n->srv[--n->nsrv];
					z->nrecords--;
				}
				break;
			}
	} else {
		for (size_t i = 0; i < n->na; i++)
			if (n->a[i].ip == e->ip) {
				if (--n->a[i].refs == 0) {
					n->a[i] = n->a[--n->na];
					z->nrecords--;
				}
				break;
			}
	}
	if (!n->na && !n->nsrv) {
		hmap_del(&z->names, e->name);
		name_free(n);
	}
}

bool dns_zone_drop(struct dns_zone *z, const char *owner)
{
	struct dz_owner *o = hmap_del(&z->owners, owner);
	if (!o)
		return false;
	for (size_t i = 0; i < o->n; i++)
		undo(z, &o->v[i]);
	owner_free(o);
	return true;
}

bool dns_zone_has_owner(const struct dns_zone *z, const char *owner)
{
	return hmap_get(&z->owners, owner) != NULL;
}

const struct dz_name *dns_zone_get(const struct dns_zone *z, const char *name)
{
	return hmap_get(&z->names, name);
}
