/* Internals of reservations.c shared with resv-resize.c (GROW_VOLUME, SHRINK_VOLUME). */
#ifndef BERTH_MASTER_RESV_INT_H
#define BERTH_MASTER_RESV_INT_H

#include <stdbool.h>

#include "master/master-int.h"
#include "model/resources.h"

#define RESV_EPS 1e-9

struct resv_group {
	char *role;
	char *principal;   /* "" when none */
	json_t *labels;    /* Labels object {"labels":[...]}, or NULL */
	struct resources res;
};

struct resv_vol {
	char *id;
	char *role;
	char *principal;       /* of the persistence */
	char *res_principal;   /* of the reservation */
	json_t *labels;        /* reservation labels or NULL */
	char *path;
	char *mode;
	double size;
	char *task_id;         /* last task launched with it, or NULL */
};

struct resv_state {
	struct resv_group *g;
	size_t ng;
	struct resv_vol *v;
	size_t nv;
};

int resv_fail(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
bool resv_labels_equal(const json_t *a, const json_t *b);
/* Reservation info of a Resource entry: the innermost of "reservations", else
 * "reservation" (pre-refinement). */
void resv_entry_reservation(const json_t *e, const char **principal, const json_t **labels);
/* Disk held by role's volumes: all (in_use NULL) or only those no live task uses. */
double resv_vol_disk(const struct resv_state *s, const char *role, resv_in_use_fn in_use,
		     void *ctx, bool only_idle);
struct resv_vol *resv_vol_find(struct resv_state *s, const char *role, const char *id);
struct resv_state *resv_state_dup(const struct resv_state *s);
void resv_state_swap(struct resv_state *a, struct resv_state *b);
struct resv_state *resv_state_of(struct master *m, const char *agent_id, bool create);
int resv_state_store(struct master *m, const char *agent_id, const struct resv_state *s);
bool resv_task_in_use(const char *task_id, void *ctx);

#endif
