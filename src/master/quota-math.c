/* Quota arithmetic and the weighted DRF order (pure; unit tested in tests/unit/test-quota.c).
 * See quota.c for the rules these serve. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master/master-int.h"

#define QUOTA_EPS 1e-9


int quota_kind_index(const char *name)
{
	int i;
	switch (name[0]) { /* hot in the accounting loops: one strcmp at most */
	case 'c': i = 0; break;
	case 'm': i = 1; break;
	case 'd': i = 2; break;
	case 'g': i = 3; break;
	default: return -1;
	}
	return strcmp(quota_kinds[i], name) ? -1 : i;
}

void quota_amounts_zero(struct quota_amounts *a)
{
	for (int i = 0; i < QUOTA_NKINDS; i++)
		a->v[i] = 0;
}

void quota_amounts_unlimited(struct quota_amounts *a)
{
	for (int i = 0; i < QUOTA_NKINDS; i++)
		a->v[i] = INFINITY;
}

void quota_amounts_add(struct quota_amounts *a, const struct quota_amounts *b)
{
	for (int i = 0; i < QUOTA_NKINDS; i++)
		a->v[i] += b->v[i];
}

bool quota_fits(const struct quota_amounts *alloc, const struct quota_amounts *more,
		const struct quota_amounts *limit, char *err, size_t errlen)
{
	for (int i = 0; i < QUOTA_NKINDS; i++) {
		if (more->v[i] <= QUOTA_EPS || isinf(limit->v[i]))
			continue;
		if (alloc->v[i] + more->v[i] > limit->v[i] + QUOTA_EPS) {
			if (err)
				snprintf(err, errlen, "%s: %g allocated + %g asked exceeds the limit %g",
					 quota_kinds[i], alloc->v[i], more->v[i], limit->v[i]);
			return false;
		}
	}
	return true;
}

void quota_headroom(const struct quota_amounts *alloc, const struct quota_amounts *limit,
		    struct quota_amounts *out)
{
	for (int i = 0; i < QUOTA_NKINDS; i++) {
		double h = limit->v[i] - alloc->v[i];
		out->v[i] = isinf(limit->v[i]) ? INFINITY : (h > 0 ? h : 0);
	}
}

void quota_unmet(const struct quota_amounts *guar, const struct quota_amounts *consumed,
		 struct quota_amounts *out)
{
	for (int i = 0; i < QUOTA_NKINDS; i++) {
		double u = guar->v[i] - consumed->v[i];
		out->v[i] = u > 0 ? u : 0;
	}
}

void quota_cap_offer(struct resources *res, const struct quota_amounts *all_cap,
		     const struct quota_amounts *star_cap)
{
	struct resources out = RESOURCES_INIT;
	double left_all[QUOTA_NKINDS], left_star[QUOTA_NKINDS];
	for (int i = 0; i < QUOTA_NKINDS; i++) {
		left_all[i] = all_cap ? all_cap->v[i] : INFINITY;
		left_star[i] = star_cap ? star_cap->v[i] : INFINITY;
	}
	/* Reserved entries first (they are the role's own), then the unreserved ones. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t j = 0; j < res->n; j++) {
			const struct resource *e = &res->v[j];
			bool star = !strcmp(e->role, "*");
			if (star != (pass == 1))
				continue;
			int k = e->type == RES_SCALAR ? quota_kind_index(e->name) : -1;
			if (k < 0) {
				struct resources one = { (struct resource *)e, 1 };
				resources_add(&out, &one);
				continue;
			}
			double take = e->scalar;
			if (take > left_all[k])
				take = left_all[k];
			if (star && take > left_star[k])
				take = left_star[k];
			if (take <= QUOTA_EPS)
				continue;
			left_all[k] -= take;
			if (star)
				left_star[k] -= take;
			resources_add_scalar(&out, e->name, e->role, take);
		}
	}
	resources_release(res);
	*res = out;
}

int quota_drf_cmp(const struct quota_drf_client *a, const struct quota_drf_client *b)
{
	double ra = a->role_share / (a->weight > 0 ? a->weight : 1);
	double rb = b->role_share / (b->weight > 0 ? b->weight : 1);
	if (ra < rb - QUOTA_EPS)
		return -1;
	if (ra > rb + QUOTA_EPS)
		return 1;
	if (a->share < b->share)
		return -1;
	if (a->share > b->share)
		return 1;
	return strcmp(a->id, b->id);
}

static int drf_cmp(const void *pa, const void *pb)
{
	return quota_drf_cmp(pa, pb);
}

void quota_drf_sort(struct quota_drf_client *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), drf_cmp);
}

