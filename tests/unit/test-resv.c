/* Rules of dynamic reservations and persistent volumes (src/master/reservations.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "master/master-int.h"

struct fixture {
	struct resv_state *s;
	struct resources total, free;
	char err[600];
};

static const char *busy_task; /* the task in_use says is live */

static bool in_use(const char *task_id, void *ctx)
{
	(void)ctx;
	return busy_task && !strcmp(task_id, busy_task);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->s = resv_state_new();
	resources_init(&f->total);
	resources_init(&f->free);
	char err[128];
	assert_int_equal(resources_parse("cpus:4; mem:1024; disk(prod):100; disk:1000; "
					 "ports:[31000-31010]",
					 &f->total, err, sizeof(err)),
			 0);
	resources_copy(&f->free, &f->total);
	busy_task = NULL;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	resv_state_free(f->s);
	resources_release(&f->total);
	resources_release(&f->free);
	free(f);
	return 0;
}

static int apply(struct fixture *f, struct resources *offer, const char *op, const char *json)
{
	json_error_t je;
	json_t *arr = json_loads(json, 0, &je);
	assert_non_null(arr);
	int r = resv_apply(f->s, &f->total, &f->free, offer, op, arr, in_use, NULL, f->err,
			   sizeof(f->err));
	json_decref(arr);
	return r;
}

static double sc(const struct resources *r, const char *name, const char *role)
{
	return resources_scalar(r, name, role);
}

#define DISK(role, n, extra)                                                               \
	"{\"name\":\"disk\",\"type\":\"SCALAR\",\"scalar\":{\"value\":" #n "},\"role\":\"" role \
	"\"" extra "}"
#define RESV ",\"reservation\":{\"principal\":\"ops\",\"labels\":{\"labels\":[{\"key\":\"k\",\"value\":\"v\"}]}}"
#define VOL(id) ",\"disk\":{\"persistence\":{\"id\":\"" id "\",\"principal\":\"ops\"},\"volume\":{\"container_path\":\"data\",\"mode\":\"RW\"}}"

static void test_reserve_unreserve(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(apply(f, NULL, "RESERVE",
			       "[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1.5},"
			       "\"role\":\"db\"" RESV "}," DISK("db", 200, RESV) "]"),
			 0);
	assert_true(sc(&f->total, "cpus", "db") == 1.5);
	assert_true(sc(&f->free, "cpus", "*") == 2.5);
	assert_true(sc(&f->total, "disk", "*") == 800);
	assert_true(sc(&f->free, "disk", "db") == 200);
	/* The state round-trips through JSON (the store). */
	json_t *j = resv_state_to_json(f->s);
	struct resv_state *s2 = resv_state_new();
	assert_int_equal(resv_state_from_json(s2, j), 0);
	json_t *j2 = resv_state_to_json(s2);
	assert_true(json_equal(j, j2));
	json_decref(j);
	json_decref(j2);
	resv_state_free(s2);
	/* Unreserve with other labels: no such reservation, nothing changes. */
	assert_int_equal(apply(f, NULL, "UNRESERVE", "[" DISK("db", 50, "") "]"), -ENOENT);
	assert_int_equal(apply(f, NULL, "UNRESERVE", "[" DISK("db", 50, RESV) "]"), 0);
	assert_true(sc(&f->total, "disk", "db") == 150);
	assert_true(sc(&f->free, "disk", "*") == 850);
	/* More than reserved. */
	assert_int_equal(apply(f, NULL, "UNRESERVE", "[" DISK("db", 500, RESV) "]"), -ENOENT);
}

static void test_reserve_rules(void **state)
{
	struct fixture *f = *state;
	/* Role '*' is not a reservation: 400. */
	assert_int_equal(apply(f, NULL, "RESERVE", "[" DISK("*", 10, "") "]"), -EINVAL);
	/* More than free unreserved: 409, nothing changes (all or nothing). */
	assert_int_equal(apply(f, NULL, "RESERVE",
			       "[" DISK("db", 10, RESV) "," DISK("db", 5000, RESV) "]"),
			 -ENOSPC);
	assert_true(sc(&f->total, "disk", "db") == 0);
	assert_true(sc(&f->free, "disk", "*") == 1000);
	assert_non_null(strstr(f->err, "Insufficient"));
	/* Malformed */
	assert_int_equal(apply(f, NULL, "RESERVE", "[{\"name\":\"disk\"}]"), -EINVAL);
	assert_int_equal(apply(f, NULL, "RESERVE", "[]"), -EINVAL);
	/* Static reservations cannot be unreserved. */
	assert_int_equal(apply(f, NULL, "UNRESERVE", "[" DISK("prod", 10, "") "]"), -ENOENT);
	/* Resources in use by a task (not free) cannot be reserved. */
	struct resources used = RESOURCES_INIT;
	resources_add_scalar(&used, "cpus", "*", 3.5);
	resources_subtract(&f->free, &used);
	resources_release(&used);
	assert_int_equal(apply(f, NULL, "RESERVE",
			       "[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":1},"
			       "\"role\":\"db\"}]"),
			 -ENOSPC);
}

static void test_volumes(void **state)
{
	struct fixture *f = *state;
	/* Not on unreserved disk. */
	assert_int_equal(apply(f, NULL, "CREATE", "[" DISK("*", 10, VOL("v1")) "]"), -EINVAL);
	assert_int_equal(apply(f, NULL, "RESERVE", "[" DISK("db", 100, RESV) "]"), 0);
	/* Persistence id and path required. */
	assert_int_equal(apply(f, NULL, "CREATE", "[" DISK("db", 10, RESV) "]"), -EINVAL);
	assert_int_equal(apply(f, NULL, "CREATE", "[" DISK("db", 60, RESV VOL("v1")) "]"), 0);
	/* Same id again: 409; larger than the rest: 409. */
	assert_int_equal(apply(f, NULL, "CREATE", "[" DISK("db", 10, RESV VOL("v1")) "]"), -EEXIST);
	assert_int_equal(apply(f, NULL, "CREATE", "[" DISK("db", 41, RESV VOL("v2")) "]"), -ENOSPC);
	/* Static reserved disk holds volumes too. */
	assert_int_equal(apply(f, NULL, "CREATE", "[" DISK("prod", 100, VOL("p1")) "]"), 0);
	/* Total and free are unchanged by volumes. */
	assert_true(sc(&f->total, "disk", "db") == 100);
	assert_true(sc(&f->free, "disk", "db") == 100);
	/* No unreserve of disk that holds a volume (40 of 100 are plain). */
	assert_int_equal(apply(f, NULL, "UNRESERVE", "[" DISK("db", 100, RESV) "]"), -EBUSY);
	assert_non_null(strstr(f->err, "DESTROY"));
	assert_int_equal(apply(f, NULL, "UNRESERVE", "[" DISK("db", 40, RESV) "]"), 0);
	assert_int_equal(apply(f, NULL, "UNRESERVE", "[" DISK("db", 60, RESV) "]"), -EBUSY);
	/* No destroy while a task uses it. */
	json_t *task = json_loads("[" DISK("db", 60, RESV VOL("v1")) "]", 0, NULL);
	assert_non_null(task);
	json_decref(task);
	busy_task = "t1";
	json_t *j = resv_state_to_json(f->s);
	json_object_set_new(json_array_get(json_object_get(j, "volumes"), 0), "task_id",
			    json_string("t1"));
	assert_int_equal(resv_state_from_json(f->s, j), 0);
	json_decref(j);
	assert_int_equal(apply(f, NULL, "DESTROY", "[" DISK("db", 60, RESV VOL("v1")) "]"), -EBUSY);
	busy_task = NULL; /* the task ended */
	assert_int_equal(apply(f, NULL, "DESTROY", "[" DISK("db", 60, RESV VOL("v1")) "]"), 0);
	assert_int_equal(apply(f, NULL, "DESTROY", "[" DISK("db", 60, RESV VOL("v1")) "]"), -ENOENT);
	assert_int_equal(apply(f, NULL, "UNRESERVE", "[" DISK("db", 60, RESV) "]"), 0);
	assert_true(sc(&f->total, "disk", "db") == 0);
	assert_true(sc(&f->free, "disk", "*") == 1000);
}

static void test_offer_bounds(void **state)
{
	struct fixture *f = *state;
	/* Within an offer: only what the offer holds may be reserved, and the offer follows. */
	struct resources offer = RESOURCES_INIT;
	resources_add_scalar(&offer, "disk", "*", 50);
	assert_int_equal(apply(f, &offer, "RESERVE", "[" DISK("db", 60, RESV) "]"), -ENOSPC);
	assert_int_equal(apply(f, &offer, "RESERVE", "[" DISK("db", 50, RESV) "]"), 0);
	assert_true(sc(&offer, "disk", "db") == 50);
	assert_true(sc(&offer, "disk", "*") == 0);
	assert_int_equal(apply(f, &offer, "CREATE", "[" DISK("db", 50, RESV VOL("x")) "]"), 0);
	resources_release(&offer);
}

static int resize(struct fixture *f, bool grow, const char *json)
{
	json_error_t je;
	json_t *body = json_loads(json, 0, &je);
	assert_non_null(body);
	int r = resv_resize(f->s, &f->free, grow, body, in_use, NULL, f->err, sizeof(f->err));
	json_decref(body);
	return r;
}

static double vol_size(struct fixture *f, const char *id)
{
	json_t *j = resv_state_to_json(f->s);
	size_t i;
	json_t *v;
	double size = -1;
	json_array_foreach(json_object_get(j, "volumes"), i, v)
		if (!strcmp(json_string_value(json_object_get(v, "id")), id))
			size = json_number_value(json_object_get(v, "size"));
	json_decref(j);
	return size;
}

/* GROW_VOLUME / SHRINK_VOLUME (src/master/resv-resize.c). */
static void test_resize(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(apply(f, NULL, "RESERVE", "[" DISK("db", 300, RESV) "]"), 0);
	assert_int_equal(apply(f, NULL, "CREATE", "[" DISK("db", 100, RESV VOL("v1")) "]"), 0);
	/* Grow by 50 of the 200 plain reserved: in place, total and free unchanged. */
	assert_int_equal(resize(f, true, "{\"volume\":" DISK("db", 100, RESV VOL("v1"))
					 ",\"addition\":" DISK("db", 50, RESV) "}"),
			 0);
	assert_true(vol_size(f, "v1") == 150);
	assert_true(sc(&f->free, "disk", "db") == 300);
	/* The old size no longer names it. */
	assert_int_equal(resize(f, true, "{\"volume\":" DISK("db", 100, RESV VOL("v1"))
					 ",\"addition\":" DISK("db", 10, RESV) "}"),
			 -EINVAL);
	assert_non_null(strstr(f->err, "has size 150, not 100"));
	/* More than the plain reserved disk left (150). */
	assert_int_equal(resize(f, true, "{\"volume\":" DISK("db", 150, RESV VOL("v1"))
					 ",\"addition\":" DISK("db", 151, RESV) "}"),
			 -ENOSPC);
	/* Mesos's validation. */
	assert_int_equal(resize(f, true, "{\"volume\":" DISK("db", 150, RESV VOL("v1"))
					 ",\"addition\":" DISK("db", 0, RESV) "}"),
			 -EINVAL);
	assert_non_null(strstr(f->err, "must be greater than zero"));
	assert_int_equal(resize(f, true, "{\"volume\":" DISK("db", 150, RESV VOL("v1"))
					 ",\"addition\":" DISK("db", 10, "") "}"),
			 -EINVAL);
	assert_non_null(strstr(f->err, "Incompatible resources"));
	assert_int_equal(resize(f, true, "{\"volume\":" DISK("db", 150, RESV)
					 ",\"addition\":" DISK("db", 10, RESV) "}"),
			 -EINVAL);
	assert_int_equal(resize(f, true, "{\"volume\":" DISK("db", 150, RESV VOL("v1")) "}"),
			 -EINVAL);
	assert_int_equal(resize(f, false, "{\"volume\":" DISK("db", 150, RESV VOL("v1"))
					  ",\"subtract\":{\"value\":150}}"),
			 -EINVAL);
	assert_non_null(strstr(f->err, "must be smaller than the size"));
	assert_int_equal(resize(f, false, "{\"volume\":" DISK("db", 150, RESV VOL("nope"))
					  ",\"subtract\":{\"value\":1}}"),
			 -ENOENT);
	assert_true(vol_size(f, "v1") == 150);
	/* In use: neither. */
	json_t *j = resv_state_to_json(f->s);
	json_object_set_new(json_array_get(json_object_get(j, "volumes"), 0), "task_id",
			    json_string("t1"));
	assert_int_equal(resv_state_from_json(f->s, j), 0);
	json_decref(j);
	busy_task = "t1";
	assert_int_equal(resize(f, false, "{\"volume\":" DISK("db", 150, RESV VOL("v1"))
					  ",\"subtract\":{\"value\":20}}"),
			 -EBUSY);
	busy_task = NULL;
	assert_int_equal(resize(f, false, "{\"volume\":" DISK("db", 150, RESV VOL("v1"))
					  ",\"subtract\":{\"value\":20}}"),
			 0);
	assert_true(vol_size(f, "v1") == 130);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reserve_unreserve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserve_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_volumes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offer_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resize, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
