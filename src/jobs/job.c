/* Job definitions: the Chronos job JSON in (POST /scheduler/iso8601 and /dependency, the
 * store) and out (GET), checked field by field; fields berth does not know are kept as given. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "jobs/jobs-int.h"
#include "model/container.h"

/* Counters and other output-only fields: never taken from a body, never kept in def. */
static const char *const output_fields[] = {
	"successCount", "errorCount", "lastSuccess", "lastError", "errorsSinceLastSuccess",
	"skipCount",
};

static int bad(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void job_free(struct job *jb)
{
	if (!jb)
		return;
	free(jb->name);
	free(jb->app);
	json_decref(jb->def);
	json_decref(jb->container);
	json_decref(jb->parents_done);
	constraints_free(jb->cons, jb->ncons);
	for (size_t i = 0; i < JOB_HISTORY; i++) {
		free(jb->hist[i].task_id);
		free(jb->hist[i].instance);
	}
	for (size_t i = 0; i < jb->nparents; i++)
		free(jb->parents[i]);
	free(jb->parents);
	free(jb);
}

bool job_has_parent(const struct job *jb, const char *parent)
{
	for (size_t i = 0; i < jb->nparents; i++)
		if (!strcmp(jb->parents[i], parent))
			return true;
	return false;
}

static bool name_valid(const char *s)
{
	if (!*s || strlen(s) > JOB_MAX_NAME)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
			return false;
	return true;
}

/* Whether following parents from name reaches target. */
static bool reaches(struct jobs *j, const char *name, const char *target, unsigned depth)
{
	if (!strcmp(name, target))
		return true;
	const struct job *p = hmap_get(&j->jobs, name);
	if (!p || depth > JOBS_MAX)
		return false;
	for (size_t i = 0; i < p->nparents; i++)
		if (reaches(j, p->parents[i], target, depth + 1))
			return true;
	return false;
}

static int check_type(const json_t *def, const char *key, int type, const char *what, char *err,
		      size_t errlen)
{
	const json_t *v = json_object_get(def, key);
	if (!v || json_is_null(v))
		return 0;
	bool ok = type == JSON_TRUE ? json_is_boolean(v)
		: type == JSON_REAL  ? json_is_number(v)
				     : (int)json_typeof(v) == type;
	return ok ? 0 : bad(err, errlen, "'%s' must be %s", key, what);
}

static const char *str_or(const json_t *def, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(def, key));
	return s ? s : dflt;
}

static bool bool_or(const json_t *def, const char *key, bool dflt)
{
	const json_t *v = json_object_get(def, key);
	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

/* The fields every job has, checked and read into jb (def borrowed, kept by jb). */
static int job_read(struct jobs *j, struct job *jb, bool dependent, int64_t now_ms, char *err,
		    size_t errlen)
{
	const json_t *def = jb->def;
	static const struct {
		const char *key;
		int type;
		const char *what;
	} types[] = {
		{ "name", JSON_STRING, "a string" },
		{ "command", JSON_STRING, "a string" },
		{ "schedule", JSON_STRING, "a string" },
		{ "scheduleTimeZone", JSON_STRING, "a string" },
		{ "epsilon", JSON_STRING, "an ISO 8601 duration" },
		{ "owner", JSON_STRING, "a string" },
		{ "ownerName", JSON_STRING, "a string" },
		{ "description", JSON_STRING, "a string" },
		{ "runAsUser", JSON_STRING, "a string" },
		{ "executor", JSON_STRING, "a string" },
		{ "executorFlags", JSON_STRING, "a string" },
		{ "taskInfoData", JSON_STRING, "a string" },
		{ "shell", JSON_TRUE, "a boolean" },
		{ "async", JSON_TRUE, "a boolean" },
		{ "concurrent", JSON_TRUE, "a boolean" },
		{ "disabled", JSON_TRUE, "a boolean" },
		{ "softError", JSON_TRUE, "a boolean" },
		{ "highPriority", JSON_TRUE, "a boolean" },
		{ "dataProcessingJobType", JSON_TRUE, "a boolean" },
		{ "cpus", JSON_REAL, "a number" },
		{ "mem", JSON_REAL, "a number" },
		{ "disk", JSON_REAL, "a number" },
		{ "retries", JSON_INTEGER, "an integer" },
		{ "maxCompletionTime", JSON_INTEGER, "an integer" },
		{ "arguments", JSON_ARRAY, "an array of strings" },
		{ "parents", JSON_ARRAY, "an array of job names" },
		{ "uris", JSON_ARRAY, "an array of strings" },
		{ "fetch", JSON_ARRAY, "an array of {uri, cache, extract, executable}" },
		{ "environmentVariables", JSON_ARRAY, "an array of {name, value}" },
		{ "constraints", JSON_ARRAY, "an array of [attribute, operator, value]" },
		{ "container", JSON_OBJECT, "an object" },
		{ "app", JSON_STRING, "an app id string" },
		{ "perInstance", JSON_TRUE, "a boolean" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		int r = check_type(def, types[i].key, types[i].type, types[i].what, err, errlen);
		if (r < 0)
			return r;
	}
	const char *name = json_string_value(json_object_get(def, "name"));
	if (!name)
		return bad(err, errlen, "'name' is required");
	if (strchr(name, '/'))
		return bad(err, errlen, "'name' must not contain '/': '%.200s'", name);
	if (!name_valid(name))
		return bad(err, errlen, "'name' must match [\\w.-]+ (at most %d characters): '%.200s'",
			   JOB_MAX_NAME, name);
	jb->name = xstrdup(name);
	if (!json_string_value(json_object_get(def, "command")))
		return bad(err, errlen, "'command' is required");
	const json_t *v;
	size_t i;
	json_array_foreach(json_object_get(def, "arguments"), i, v)
		if (!json_is_string(v))
			return bad(err, errlen, "'arguments[%zu]' must be a string", i);
	json_array_foreach(json_object_get(def, "uris"), i, v)
		if (!json_is_string(v))
			return bad(err, errlen, "'uris[%zu]' must be a string", i);
	json_array_foreach(json_object_get(def, "environmentVariables"), i, v)
		if (!json_is_string(json_object_get(v, "name")) ||
		    !json_is_string(json_object_get(v, "value")))
			return bad(err, errlen, "'environmentVariables[%zu]' must be {name, value} with "
				   "string values", i);
	/* Chronos's [attribute, EQUALS|LIKE|UNLIKE, value] in Marathon's form (EQUALS is a
	 * CLUSTER with a value), compiled once by model/constraints for every placement. */
	json_t *mc = json_array();
	json_array_foreach(json_object_get(def, "constraints"), i, v) {
		if (!json_is_array(v) || json_array_size(v) != 3 ||
		    !json_is_string(json_array_get(v, 0)) || !json_is_string(json_array_get(v, 2))) {
			json_decref(mc);
			return bad(err, errlen, "'constraints[%zu]' must be [attribute, operator, value]", i);
		}
		const char *op = json_string_value(json_array_get(v, 1));
		if (!op || (strcmp(op, "EQUALS") && strcmp(op, "LIKE") && strcmp(op, "UNLIKE"))) {
			json_decref(mc);
			return bad(err, errlen, "'constraints[%zu]': the operator must be EQUALS, LIKE or "
				   "UNLIKE", i);
		}
		json_array_append_new(mc, json_pack("[O, s, O]", json_array_get(v, 0),
						    strcmp(op, "EQUALS") ? op : "CLUSTER",
						    json_array_get(v, 2)));
	}
	struct verr verr = VERR_INIT;
	int cr = constraints_parse(mc, "/constraints", &verr, &jb->cons, &jb->ncons);
	verr_release(&verr);
	if (cr < 0) {
		/* the shape and operators were checked above: what is left is the value */
		size_t at = 0;
		json_array_foreach(mc, i, v) {
			struct constraint *one = NULL;
			size_t n1 = 0;
			json_t *single = json_pack("[O]", v);
			struct verr e1 = VERR_INIT;
			int r1 = constraints_parse(single, "", &e1, &one, &n1);
			verr_release(&e1);
			json_decref(single);
			constraints_free(one, n1);
			if (r1 < 0) {
				at = i;
				break;
			}
		}
		const char *re = json_string_value(json_array_get(json_array_get(mc, at), 2));
		int r = bad(err, errlen, "'constraints[%zu]': '%.100s' is not a regular expression", at,
			    re ? re : "");
		json_decref(mc);
		return r;
	}
	json_decref(mc);
	if (json_array_size(json_object_get(def, "uris")) &&
	    json_array_size(json_object_get(def, "fetch")))
		return bad(err, errlen, "Tried to specify both uris (deprecated) and fetch");
	jb->retries = JOB_DEFAULT_RETRIES;
	if ((v = json_object_get(def, "retries")) && json_is_integer(v)) {
		if (json_integer_value(v) < 0 || json_integer_value(v) > 100)
			return bad(err, errlen, "'retries' must be 0 to 100");
		jb->retries = (int)json_integer_value(v);
	}
	static const char *const res[] = { "cpus", "mem", "disk" };
	static const double dflt[] = { 0.1, 128, 256 }; /* Chronos's --mesos_task_* */
	double *out[] = { &jb->cpus, &jb->mem, &jb->disk };
	for (size_t k = 0; k < 3; k++) {
		double d = json_number_value(json_object_get(def, res[k]));
		if (d < 0 || !isfinite(d) || d > 1e9)
			return bad(err, errlen, "'%s' must be a number from 0 to 1e9", res[k]);
		*out[k] = d > 0 ? d : dflt[k];
	}
	jb->disabled = bool_or(def, "disabled", false);
	jb->concurrent = bool_or(def, "concurrent", false);
	jb->soft_error = bool_or(def, "softError", false);
	jb->high_priority = bool_or(def, "highPriority", false);
	jb->shell = bool_or(def, "shell", true);
	/* berth's per-instance jobs: the command runs in each running instance of "app" */
	jb->per_instance = bool_or(def, "perInstance", false);
	const char *app = json_string_value(json_object_get(def, "app"));
	if (jb->per_instance && (!app || !*app))
		return bad(err, errlen, "'perInstance' needs 'app': the id of the app whose "
			   "instances run the command");
	if (app && !jb->per_instance)
		return bad(err, errlen, "'app' is only used with 'perInstance': true");
	if (app) {
		if (strlen(app) > 500 || strstr(app, "//") || strstr(app, ".."))
			return bad(err, errlen, "'app' is not an app id: '%.200s'", app);
		jb->app = app[0] == '/' ? xstrdup(app) : xasprintf("/%s", app);
		size_t l = strlen(jb->app);
		if (l > 1 && jb->app[l - 1] == '/')
			jb->app[l - 1] = '\0';
	}
	/* Chronos's container, through the apps' translation (model/container.h). A
	 * per-instance run is inside its instance, in whatever that instance runs in. */
	char cerr[240];
	if (container_from_chronos(json_object_get(def, "container"), &jb->container, cerr,
				   sizeof(cerr)) < 0)
		return bad(err, errlen, "%s", cerr);
	if (jb->container && jb->per_instance)
		return bad(err, errlen, "'container' cannot be used with 'perInstance': the command "
			   "runs inside each instance of '%.200s', in that instance's container", app);
	jb->epsilon_ms = JOB_DEFAULT_EPSILON_MS;
	const char *eps = json_string_value(json_object_get(def, "epsilon"));
	if (eps && *eps) {
		struct jsched e = { 0 };
		if (jsched_period_parse(eps, &e.period) < 0 || e.period.years || e.period.months)
			return bad(err, errlen, "'epsilon' is not an ISO 8601 duration of weeks, days, "
				   "hours, minutes, seconds: '%.64s'", eps);
		jb->epsilon_ms = (e.period.weeks * 7 + e.period.days) * 86400000LL + e.period.msec;
	}
	/* schedule or parents */
	const json_t *parents = json_object_get(def, "parents");
	const char *sched = json_string_value(json_object_get(def, "schedule"));
	jb->dependent = dependent || (json_array_size(parents) && !sched);
	if (jb->dependent) {
		if (!json_array_size(parents))
			return bad(err, errlen, "Error, parent does not exist");
		jb->parents = xcalloc(json_array_size(parents), sizeof(char *));
		json_array_foreach(parents, i, v) {
			const char *p = json_string_value(v);
			if (!p)
				return bad(err, errlen, "'parents[%zu]' must be a job name", i);
			if (j && !hmap_get(&j->jobs, p))
				return bad(err, errlen, "Error, parent '%.200s' does not exist", p);
			if (j && reaches(j, p, name, 0))
				return bad(err, errlen, "Error, parent '%.200s' makes a dependency cycle", p);
			if (!job_has_parent(jb, p))
				jb->parents[jb->nparents++] = xstrdup(p);
		}
		return 0;
	}
	if (!sched || !*sched)
		sched = "R1//PT24H"; /* neither schedule nor parents: once, now */
	char serr[160];
	if (jsched_parse(sched, str_or(def, "scheduleTimeZone", ""), now_ms, &jb->sched, serr,
			 sizeof(serr)) < 0)
		return bad(err, errlen, "Cannot parse schedule '%.200s': %s", sched, serr);
	return 0;
}

int job_from_body(struct jobs *j, const json_t *body, bool dependent, int64_t now_ms,
		  struct job **out, char *err, size_t errlen)
{
	if (!json_is_object(body))
		return bad(err, errlen, "the body must be a JSON object (a job)");
	struct job *jb = xcalloc(1, sizeof(*jb));
	jb->def = json_deep_copy(body);
	for (size_t i = 0; i < ARRAY_SIZE(output_fields); i++)
		json_object_del(jb->def, output_fields[i]);
	int r = job_read(j, jb, dependent, now_ms, err, errlen);
	if (r < 0) {
		job_free(jb);
		return r;
	}
	if (!jb->dependent) {
		/* The start as resolved (an empty start is now): what the store keeps. */
		char buf[JSCHED_MAX_TEXT + 64];
		if (jsched_format(&jb->sched, false, buf, sizeof(buf)) > 0)
			json_object_set_new(jb->def, "schedule", json_string(buf));
		json_object_del(jb->def, "parents");
	} else {
		json_object_del(jb->def, "schedule");
	}
	jb->parents_done = json_object();
	*out = jb;
	return 0;
}

int job_from_store(const char *val, size_t len, struct job **out)
{
	json_t *o = json_loadb(val, len, 0, NULL);
	const json_t *def = json_object_get(o, "def");
	if (!json_is_object(def)) {
		json_decref(o);
		return -EINVAL;
	}
	struct job *jb = xcalloc(1, sizeof(*jb));
	jb->def = json_incref((json_t *)def);
	char err[256];
	int r = job_read(NULL, jb, json_array_size(json_object_get(def, "parents")) > 0, 0, err,
			 sizeof(err));
	if (r < 0) {
		json_decref(o);
		job_free(jb);
		return r;
	}
	if (!jb->dependent)
		jsched_set_index(&jb->sched, json_integer_value(json_object_get(o, "n")));
	jb->success_count = json_integer_value(json_object_get(o, "successCount"));
	jb->error_count = json_integer_value(json_object_get(o, "errorCount"));
	jb->errors_since = json_integer_value(json_object_get(o, "errorsSinceLastSuccess"));
	jb->skip_count = json_integer_value(json_object_get(o, "skipCount"));
	snprintf(jb->last_success, sizeof(jb->last_success), "%s",
		 str_or(o, "lastSuccess", ""));
	snprintf(jb->last_error, sizeof(jb->last_error), "%s", str_or(o, "lastError", ""));
	json_t *pd = json_object_get(o, "parentsDone");
	jb->parents_done = json_is_object(pd) ? json_incref(pd) : json_object();
	json_decref(o);
	*out = jb;
	return 0;
}

json_t *job_store_json(const struct job *jb)
{
	return json_pack("{s:O, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:O}", "def", jb->def, "n",
			 (json_int_t)jb->sched.n, "successCount", (json_int_t)jb->success_count,
			 "errorCount", (json_int_t)jb->error_count, "errorsSinceLastSuccess",
			 (json_int_t)jb->errors_since, "skipCount", (json_int_t)jb->skip_count,
			 "lastSuccess", jb->last_success, "lastError", jb->last_error,
			 "parentsDone", jb->parents_done);
}

const char *job_status(const struct job *jb)
{
	if (!jb->last_success[0] && !jb->last_error[0])
		return "fresh";
	if (!jb->last_error[0])
		return "success";
	if (!jb->last_success[0])
		return "failure";
	return strcmp(jb->last_success, jb->last_error) >= 0 ? "success" : "failure";
}

json_t *job_to_json(const struct job *jb)
{
	/* Chronos's serializer writes every field; the definition's own values (and the fields
	 * berth does not know) go over these defaults. */
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:f, s:f, "
			      "s:f, s:b, s:b, s:b, s:[], s:[], s:[], s:[], s:b, s:s, s:b, s:[], "
			      "s:I}",
			      "name", jb->name, "command", "", "shell", "", "epsilon", "PT5M",
			      "executor", "", "executorFlags", "", "retries", JOB_DEFAULT_RETRIES,
			      "owner", "", "ownerName", "", "description", "", "taskInfoData", "",
			      "cpus", jb->cpus, "disk", jb->disk, "mem", jb->mem, "disabled", 0,
			      "softError", 0, "dataProcessingJobType", 0, "fetch", "uris",
			      "environmentVariables", "arguments", "highPriority", 0, "runAsUser",
			      "root", "concurrent", 0, "constraints", "maxCompletionTime",
			      (json_int_t)0);
	json_object_set_new(o, "shell", json_true());
	json_object_update(o, jb->def);
	json_object_set_new(o, "cpus", json_real(jb->cpus));
	json_object_set_new(o, "mem", json_real(jb->mem));
	json_object_set_new(o, "disk", json_real(jb->disk));
	json_object_set_new(o, "successCount", json_integer(jb->success_count));
	json_object_set_new(o, "errorCount", json_integer(jb->error_count));
	json_object_set_new(o, "lastSuccess", json_string(jb->last_success));
	json_object_set_new(o, "lastError", json_string(jb->last_error));
	json_object_set_new(o, "errorsSinceLastSuccess", json_integer(jb->errors_since));
	if (jb->dependent) {
		json_t *p = json_array();
		for (size_t i = 0; i < jb->nparents; i++)
			json_array_append_new(p, json_string(jb->parents[i]));
		json_object_set_new(o, "parents", p);
	} else {
		char buf[JSCHED_MAX_TEXT + 64];
		if (jsched_format(&jb->sched, true, buf, sizeof(buf)) > 0)
			json_object_set_new(o, "schedule", json_string(buf));
		if (!json_object_get(o, "scheduleTimeZone"))
			json_object_set_new(o, "scheduleTimeZone", json_string(""));
	}
	return o;
}
